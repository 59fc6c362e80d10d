//! Credit profiles (limit, risk class, block, review date, group) and credit groups.

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use chrono::NaiveDate;
use o2c_core::credit::RiskClass;
use o2c_core::id::CreditGroupId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreditProfileRequest {
    #[serde(default)]
    pub credit_limit: Option<String>,
    #[serde(default)]
    pub risk_class: Option<String>,
    #[serde(default)]
    pub blocked: Option<bool>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub next_review_on: Option<String>,
    /// A credit group id to join, or "" to leave the group.
    #[serde(default)]
    pub credit_group_id: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreditProfile {
    pub customer_id: String,
    pub credit_limit: Money,
    pub risk_class: String,
    pub blocked: bool,
    pub next_review_on: Option<String>,
    pub credit_group_id: Option<String>,
    pub exposure: Money,
}

pub fn get(conn: &mut dyn Conn, customer_id: &str) -> Result<CreditProfile> {
    let r = conn
        .query_opt(
            "SELECT currency, credit_limit_minor, risk_class, credit_blocked, next_review_on, credit_group_id, open_receivables_minor + open_orders_minor
             FROM customers WHERE id = $1",
            params![customer_id],
        )?
        .ok_or_else(|| not_found("customer", customer_id))?;
    let cur = Currency::parse(&r.text(0))?;
    Ok(CreditProfile {
        customer_id: customer_id.to_string(),
        credit_limit: Money::new(r.int(1), cur),
        risk_class: r.text(2),
        blocked: r.int(3) != 0,
        next_review_on: r.opt_text(4),
        credit_group_id: r.opt_text(5),
        exposure: Money::new(r.int(6), cur),
    })
}

/// Changes a customer's credit profile (audited with before and after); a change that makes
/// room releases held orders that no rule holds any more.
pub fn update_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    r: &CreditProfileRequest,
) -> Result<CreditProfile> {
    let before = get(conn, customer_id)?;
    let cur = before.credit_limit.currency();
    if let Some(l) = &r.credit_limit {
        let limit = Money::parse(l, cur).map_err(DomainError::money("credit_limit"))?;
        if limit.is_negative() {
            return Err(DomainError::invalid("credit_limit", "must not be negative").into());
        }
        conn.execute(
            "UPDATE customers SET credit_limit_minor = $2 WHERE id = $1",
            params![customer_id, limit.minor()],
        )?;
    }
    if let Some(rc) = &r.risk_class {
        let rc = RiskClass::parse(rc).ok_or_else(|| {
            DomainError::invalid("risk_class", "expected low, medium, high or critical")
        })?;
        conn.execute(
            "UPDATE customers SET risk_class = $2 WHERE id = $1",
            params![customer_id, rc.as_str()],
        )?;
    }
    if let Some(b) = r.blocked {
        conn.execute(
            "UPDATE customers SET credit_blocked = $2 WHERE id = $1",
            params![customer_id, b],
        )?;
    }
    if let Some(d) = &r.next_review_on {
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| DomainError::invalid("next_review_on", "expected a date as YYYY-MM-DD"))?;
        conn.execute(
            "UPDATE customers SET next_review_on = $2 WHERE id = $1",
            params![customer_id, d.to_string()],
        )?;
    }
    if let Some(g) = &r.credit_group_id {
        let group = if g.is_empty() { None } else { Some(g.as_str()) };
        if let Some(g) = group {
            let row = conn.query_opt(
                "SELECT currency FROM credit_groups WHERE id = $1",
                params![g],
            )?;
            match row {
                None => {
                    return Err(DomainError::invalid(
                        "credit_group_id",
                        format!("no credit group `{g}`"),
                    )
                    .into());
                }
                Some(r) if r.text(0) != cur.code() => {
                    return Err(DomainError::invalid(
                        "credit_group_id",
                        format!(
                            "the group's limit is in {}, the customer's in {cur}",
                            r.text(0)
                        ),
                    )
                    .into());
                }
                Some(_) => {}
            }
        }
        conn.execute(
            "UPDATE customers SET credit_group_id = $2 WHERE id = $1",
            params![customer_id, group],
        )?;
    }
    let after = get(conn, customer_id)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CreditProfileChanged,
            aggregate_type: "customer",
            aggregate_id: customer_id,
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"before": before, "after": after, "comment": r.comment}),
        },
    )?;
    super::release_holds_in_tx(
        conn,
        &ctx.as_rule("credit.release_on_profile_change"),
        customer_id,
    )?;
    Ok(after)
}

/// Sets the limit that applies to the customer: its group's when it belongs to one.
pub fn set_limit_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    limit: Money,
    comment: Option<&str>,
) -> Result<()> {
    let group = conn
        .query_one(
            "SELECT credit_group_id FROM customers WHERE id = $1",
            params![customer_id],
        )?
        .opt_text(0);
    let (kind, id) = match &group {
        Some(g) => {
            conn.execute(
                "UPDATE credit_groups SET credit_limit_minor = $2 WHERE id = $1",
                params![g.as_str(), limit.minor()],
            )?;
            ("credit_group", g.as_str())
        }
        None => {
            conn.execute(
                "UPDATE customers SET credit_limit_minor = $2 WHERE id = $1",
                params![customer_id, limit.minor()],
            )?;
            ("customer", customer_id)
        }
    };
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CreditLimitChanged,
            aggregate_type: kind,
            aggregate_id: id,
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"credit_limit": limit, "comment": comment}),
        },
    )
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditGroupRequest {
    pub name: String,
    pub currency: String,
    pub credit_limit: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreditGroup {
    pub id: String,
    pub name: String,
    pub credit_limit: Money,
    pub exposure: Money,
    pub members: Vec<String>,
}

pub fn create_group_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &CreditGroupRequest,
) -> Result<CreditGroup> {
    if r.name.trim().is_empty() {
        return Err(DomainError::invalid("name", "must not be empty").into());
    }
    let cur = Currency::parse(&r.currency).map_err(DomainError::money("currency"))?;
    let limit = Money::parse(&r.credit_limit, cur).map_err(DomainError::money("credit_limit"))?;
    let id = CreditGroupId::generate(ctx.ids.as_ref()).to_string();
    conn.execute(
        "INSERT INTO credit_groups (id, name, currency, credit_limit_minor, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![id.as_str(), r.name.trim(), cur.code(), limit.minor(), ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CreditGroupCreated,
            aggregate_type: "credit_group",
            aggregate_id: &id,
            order_id: None,
            customer_id: None,
            data: json!({"name": r.name.trim(), "credit_limit": limit}),
        },
    )?;
    get_group(conn, &id)
}

pub fn get_group(conn: &mut dyn Conn, id: &str) -> Result<CreditGroup> {
    let g = conn
        .query_opt(
            "SELECT g.name, g.currency, g.credit_limit_minor,
                    (SELECT CAST(COALESCE(SUM(m.open_receivables_minor + m.open_orders_minor), 0) AS BIGINT) FROM customers m WHERE m.credit_group_id = g.id)
             FROM credit_groups g WHERE g.id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("credit group", id))?;
    let cur = Currency::parse(&g.text(1))?;
    let members = conn
        .query(
            "SELECT id FROM customers WHERE credit_group_id = $1 ORDER BY name, id",
            params![id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    Ok(CreditGroup {
        id: id.to_string(),
        name: g.text(0),
        credit_limit: Money::new(g.int(2), cur),
        exposure: Money::new(g.int(3), cur),
        members,
    })
}
