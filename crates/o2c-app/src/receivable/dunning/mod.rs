//! Dunning: profiles of levels (`o2c_core::dunning`), each customer's dunning settings, the run
//! (`run`: one notice per customer with all its items at their levels, fees and interest posted)
//! and the delivery of notices by e-mail, SMS or letter (`deliver`).

pub mod deliver;
pub mod run;

use super::emit;
use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::EventType;
use o2c_core::DomainError;
use o2c_core::dunning::{Channel, Level, check_levels};
use o2c_core::id::DunningProfileId;
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    pub levels: Vec<Level>,
    /// The profile of every customer without one of its own.
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub levels: Vec<Level>,
    pub default: bool,
}

/// The built-in profile, used until one is set as default: a reminder 7 days after the due
/// date, a second notice with a fee and interest at 21, a letter at 35 that blocks credit and
/// hands the account to collection.
pub fn builtin() -> Profile {
    let level = |n, days, fee: &str, rate: &str, channel, last| Level {
        level: n,
        days,
        min_overdue: "0".into(),
        fee: fee.into(),
        interest_rate: rate.into(),
        channel,
        templates: BTreeMap::new(),
        block_credit: last,
        hand_to_collection: last,
    };
    Profile {
        id: "builtin".into(),
        name: "builtin".into(),
        levels: vec![
            level(1, 7, "0", "0", Channel::Email, false),
            level(2, 21, "5.00", "9.12", Channel::Email, false),
            level(3, 35, "10.00", "9.12", Channel::Letter, true),
        ],
        default: true,
    }
}

/// Creates or replaces the profile `name`.
pub fn set_profile_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    name: &str,
    r: &ProfileRequest,
) -> Result<Profile> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name == "builtin" {
        return Err(DomainError::invalid(
            "name",
            "a profile name of 1 to 64 characters other than `builtin`",
        )
        .into());
    }
    check_levels(&r.levels)?;
    let levels = serde_json::to_string(&r.levels)?;
    if r.default {
        conn.execute("UPDATE dunning_profiles SET is_default = 0", &[])?;
    }
    let id = match conn.query_opt(
        "SELECT id FROM dunning_profiles WHERE name = $1",
        params![name],
    )? {
        Some(row) => {
            conn.execute(
                "UPDATE dunning_profiles SET levels = $2, is_default = $3, updated_at = $4 WHERE id = $1",
                params![row.text(0), levels.as_str(), i64::from(r.default), ctx.timestamp()],
            )?;
            row.text(0)
        }
        None => {
            let id = DunningProfileId::generate(ctx.ids.as_ref())
                .as_str()
                .to_string();
            conn.execute(
                "INSERT INTO dunning_profiles (id, name, levels, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                params![id.as_str(), name, levels.as_str(), i64::from(r.default), ctx.timestamp()],
            )?;
            id
        }
    };
    crate::event::emit(
        conn,
        ctx,
        crate::event::NewEvent {
            kind: EventType::DunningProfileSet,
            aggregate_type: "dunning_profile",
            aggregate_id: &id,
            order_id: None,
            customer_id: None,
            data: json!({"name": name, "levels": r.levels, "default": r.default}),
        },
    )?;
    profile(conn, &id)
}

pub fn profile(conn: &mut dyn Conn, id_or_name: &str) -> Result<Profile> {
    if id_or_name == "builtin" {
        return Ok(builtin());
    }
    let r = conn
        .query_opt(
            "SELECT id, name, levels, is_default FROM dunning_profiles WHERE id = $1 OR name = $1",
            params![id_or_name],
        )?
        .ok_or_else(|| not_found("dunning profile", id_or_name))?;
    Ok(Profile {
        id: r.text(0),
        name: r.text(1),
        levels: serde_json::from_str(&r.text(2))?,
        default: r.int(3) != 0,
    })
}

pub fn profiles(conn: &mut dyn Conn) -> Result<Vec<Profile>> {
    let ids: Vec<String> = conn
        .query("SELECT id FROM dunning_profiles ORDER BY name", &[])?
        .iter()
        .map(|r| r.text(0))
        .collect();
    let mut out: Vec<Profile> = ids
        .iter()
        .map(|id| profile(conn, id))
        .collect::<Result<_>>()?;
    if !out.iter().any(|p| p.default) {
        out.push(builtin());
    }
    Ok(out)
}

/// The default profile: the one marked default, else the built-in.
pub fn default_profile(conn: &mut dyn Conn) -> Result<Profile> {
    match conn.query_opt("SELECT id FROM dunning_profiles WHERE is_default = 1", &[])? {
        Some(r) => profile(conn, &r.text(0)),
        None => Ok(builtin()),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CustomerDunning {
    /// A profile name or id; null: the default profile.
    #[serde(default)]
    pub profile: Option<String>,
    /// No notices at all while set.
    #[serde(default)]
    pub blocked: bool,
    /// Two-letter language of the notices (`en` by default).
    #[serde(default)]
    pub language: Option<String>,
    /// For SMS notices, E.164 (`+4915112345678`).
    #[serde(default)]
    pub phone: Option<String>,
    /// Statements of account: `none`, `monthly` or `weekly`.
    #[serde(default)]
    pub statement_schedule: Option<String>,
    /// Taken out of collection (back to normal dunning).
    #[serde(default)]
    pub in_collection: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerDunningView {
    pub customer_id: String,
    pub profile: String,
    pub blocked: bool,
    pub in_collection: bool,
    pub language: String,
    pub phone: Option<String>,
    pub statement_schedule: String,
}

pub fn customer_settings(conn: &mut dyn Conn, customer_id: &str) -> Result<CustomerDunningView> {
    let r = conn
        .query_opt(
            "SELECT c.id, COALESCE(p.name, 'default'), c.dunning_blocked, c.in_collection, c.language, c.phone, c.statement_schedule
             FROM customers c LEFT JOIN dunning_profiles p ON p.id = c.dunning_profile_id WHERE c.id = $1",
            params![customer_id],
        )?
        .ok_or_else(|| not_found("customer", customer_id))?;
    Ok(CustomerDunningView {
        customer_id: r.text(0),
        profile: r.text(1),
        blocked: r.int(2) != 0,
        in_collection: r.int(3) != 0,
        language: r.text(4),
        phone: r.opt_text(5),
        statement_schedule: r.text(6),
    })
}

pub fn set_customer_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    s: &CustomerDunning,
) -> Result<CustomerDunningView> {
    crate::customer::get(conn, customer_id)?;
    let profile_id = match s.profile.as_deref() {
        None | Some("default") => None,
        Some(p) => Some(profile(conn, p)?.id).filter(|id| id != "builtin"),
    };
    let language = s.language.clone().unwrap_or_else(|| "en".into());
    if language.len() != 2 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(DomainError::invalid(
            "language",
            format!("`{language}`: expected a two-letter code such as de"),
        )
        .into());
    }
    if let Some(p) = &s.phone
        && !(p.starts_with('+')
            && p.len() >= 8
            && p.len() <= 16
            && p[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DomainError::invalid(
            "phone",
            format!("`{p}`: expected E.164, e.g. +4915112345678"),
        )
        .into());
    }
    let schedule = s
        .statement_schedule
        .clone()
        .unwrap_or_else(|| "none".into());
    if !["none", "monthly", "weekly"].contains(&schedule.as_str()) {
        return Err(DomainError::invalid(
            "statement_schedule",
            format!("`{schedule}`: expected none, monthly or weekly"),
        )
        .into());
    }
    conn.execute(
        "UPDATE customers SET dunning_profile_id = $2, dunning_blocked = $3, language = $4, phone = $5, statement_schedule = $6
         WHERE id = $1",
        &[customer_id.into(), profile_id.clone().map(Value::from).unwrap_or(Value::Null), i64::from(s.blocked).into(), language.as_str().into(),
          s.phone.clone().map(Value::from).unwrap_or(Value::Null), schedule.as_str().into()],
    )?;
    if let Some(v) = s.in_collection {
        conn.execute(
            "UPDATE customers SET in_collection = $2 WHERE id = $1",
            params![customer_id, i64::from(v)],
        )?;
    }
    emit(
        conn,
        ctx,
        EventType::CustomerDunningChanged,
        ("customer", customer_id),
        customer_id,
        serde_json::to_value(s)?,
    )?;
    customer_settings(conn, customer_id)
}
