//! The credit rules in force: versioned, every version kept, every decision names its version.
//! With no version stored, the built-in default applies as version 0.

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use o2c_core::credit::CreditPolicy;
use o2c_core::{DomainError, Money};
use o2c_store::{Conn, params};
use serde::Serialize;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize)]
pub struct VersionedPolicy {
    pub version: i64,
    pub policy: CreditPolicy,
}

/// Parsed policies, by their exact text: a decision in the order path does not re-parse JSON.
static PARSED: Mutex<Option<(String, Arc<CreditPolicy>)>> = Mutex::new(None);

pub fn current(conn: &mut dyn Conn) -> Result<(i64, Arc<CreditPolicy>)> {
    let Some(row) = conn.query_opt(
        "SELECT version, policy FROM credit_policies ORDER BY version DESC LIMIT 1",
        params![],
    )?
    else {
        return Ok((0, Arc::new(CreditPolicy::default())));
    };
    let text = row.text(1);
    let mut cache = PARSED.lock().expect("policy cache");
    if let Some((t, p)) = cache.as_ref()
        && *t == text
    {
        return Ok((row.int(0), p.clone()));
    }
    let parsed = Arc::new(serde_json::from_str::<CreditPolicy>(&text)?);
    *cache = Some((text, parsed.clone()));
    Ok((row.int(0), parsed))
}

/// Checks a policy's amounts once, when it is set, so a decision never meets a bad one.
fn validate(p: &CreditPolicy) -> Result<()> {
    let amounts = [
        ("max_auto_limit", Some(&p.max_auto_limit)),
        (
            "overdue.max_amount",
            p.overdue.as_ref().map(|o| &o.max_amount),
        ),
        (
            "new_customer.max_order",
            p.new_customer.as_ref().map(|n| &n.max_order),
        ),
    ];
    for (field, value) in amounts {
        if let Some(v) = value {
            Money::parse(v, o2c_core::Currency::EUR).map_err(DomainError::money(field))?;
        }
    }
    let counts = [
        ("overdue.max_days", p.overdue.as_ref().map(|o| o.max_days)),
        (
            "payment_score.max_average_days_late",
            p.payment_score.as_ref().map(|s| s.max_average_days_late),
        ),
        (
            "unusual_size.factor_percent",
            p.unusual_size.as_ref().map(|u| u.factor_percent),
        ),
        (
            "fast_path.min_paid_invoices",
            p.fast_path.as_ref().map(|f| f.min_paid_invoices),
        ),
    ];
    for (field, value) in counts {
        if value.is_some_and(|v| v < 0) {
            return Err(DomainError::invalid(field, "must not be negative").into());
        }
    }
    Ok(())
}

/// Stores a new version; decisions from now on use it.
pub fn set_in_tx(conn: &mut dyn Conn, ctx: &Ctx, policy: &CreditPolicy) -> Result<VersionedPolicy> {
    validate(policy)?;
    let version = conn
        .query_one(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) + 1 FROM credit_policies",
            params![],
        )?
        .int(0);
    conn.execute(
        "INSERT INTO credit_policies (version, policy, actor_kind, actor_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![version, serde_json::to_string(policy)?, ctx.actor.kind(), ctx.actor.name(), ctx.timestamp()],
    )?;
    let version_id = version.to_string();
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CreditPolicyChanged,
            aggregate_type: "credit_policy",
            aggregate_id: &version_id,
            order_id: None,
            customer_id: None,
            data: policy,
        },
    )?;
    Ok(VersionedPolicy {
        version,
        policy: policy.clone(),
    })
}

pub fn get(conn: &mut dyn Conn) -> Result<VersionedPolicy> {
    let (version, policy) = current(conn)?;
    Ok(VersionedPolicy {
        version,
        policy: (*policy).clone(),
    })
}
