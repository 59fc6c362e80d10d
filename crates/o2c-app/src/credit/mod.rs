//! Credit decisions: by the versioned rules on every order that enters or re-enters `received`,
//! by a person with the credit role for holds, and again automatically when a payment makes room.

pub mod application;
pub mod facts;
pub mod policy;
pub mod profile;
pub mod queue;

pub use queue::{CreditHold, HoldSnapshot, hold_snapshot, holds};

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType};
use crate::order::{self, OrderHead, head_for_update, set_status};
use o2c_core::credit::{CreditOutcome, Evaluation, FiredRule, evaluate};
use o2c_core::id::CreditDecisionId;
use o2c_core::order::{OrderAction, OrderStatus};
use o2c_core::{DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Rule `credit.auto_decide`: approve, hold or reject by the policy in force. Does nothing if
/// the order is no longer waiting for a decision (the engine may deliver an event twice).
pub fn auto_decide_in_tx(conn: &mut dyn Conn, ctx: &Ctx, order_id: &str) -> Result<()> {
    let head = head_for_update(conn, order_id)?;
    if head.status != OrderStatus::Received {
        return Ok(());
    }
    let (version, evaluation) = evaluate_order(conn, ctx, &head)?;
    record(
        conn,
        ctx,
        order_id,
        &head.customer_id,
        version,
        &evaluation,
        None,
    )?;
    match evaluation.outcome {
        CreditOutcome::Approve => approve(conn, ctx, order_id, &head, &evaluation.reason(), None),
        CreditOutcome::Hold => {
            set_status(
                conn,
                order_id,
                head.status.transition(order_id, OrderAction::HoldCredit)?,
            )?;
            event::emit_for_order(
                conn,
                ctx,
                order_id,
                &head.customer_id,
                EventType::CreditHeld,
                json!({"policy_version": version, "rules": evaluation.fired, "exposure_after": evaluation.exposure_after}),
            )
        }
        CreditOutcome::Reject => {
            set_status(
                conn,
                order_id,
                head.status
                    .transition(order_id, OrderAction::RejectCredit)?,
            )?;
            event::emit_for_order(
                conn,
                ctx,
                order_id,
                &head.customer_id,
                EventType::CreditRejected,
                json!({"policy_version": version, "rules": evaluation.fired}),
            )
        }
    }
}

fn evaluate_order(conn: &mut dyn Conn, ctx: &Ctx, head: &OrderHead) -> Result<(i64, Evaluation)> {
    let (version, policy) = policy::current(conn)?;
    let gathered = facts::gather(
        conn,
        &head.customer_id,
        head.gross_minor,
        ctx.today(),
        policy.exposure_horizon_days,
    )?;
    Ok((version, evaluate(&policy, &gathered.facts)?))
}

fn approve(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    head: &OrderHead,
    reason: &str,
    comment: Option<&str>,
) -> Result<()> {
    let next = head
        .status
        .transition(order_id, OrderAction::ApproveCredit)?;
    conn.execute(
        "UPDATE orders SET status = $2, uninvoiced_minor = gross_minor, credit_counted = 1 WHERE id = $1",
        params![order_id, next.as_str()],
    )?;
    // The order joins the open-order exposure and, the first time only, the usual-size average.
    let first = i64::from(!head.credit_counted);
    conn.execute(
        "UPDATE customers SET open_orders_minor = open_orders_minor + $2, orders_count = orders_count + $3,
                              orders_gross_minor = orders_gross_minor + $3 * $2
         WHERE id = $1",
        params![head.customer_id.as_str(), head.gross_minor, first],
    )?;
    event::emit_for_order(
        conn,
        ctx,
        order_id,
        &head.customer_id,
        EventType::CreditApproved,
        json!({"reason": reason, "comment": comment}),
    )
}

fn record(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    customer_id: &str,
    version: i64,
    e: &Evaluation,
    comment: Option<&str>,
) -> Result<()> {
    let rule = e.fired.first().map_or(
        if e.fast_path {
            "credit.fast_path"
        } else {
            "credit.within_limit"
        },
        |f| f.rule.as_str(),
    );
    conn.execute(
        "INSERT INTO credit_decisions (id, order_id, customer_id, outcome, rule, exposure_minor, limit_minor, currency, reason, actor_kind, actor_id, comment, decided_at, policy_version, fired, fast_path)
         VALUES ($1, $2, $3, $4, $5, $6, $16, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        params![
            CreditDecisionId::generate(ctx.ids.as_ref()).as_str(),
            order_id,
            customer_id,
            e.outcome.as_str(),
            rule,
            e.exposure_after.minor(),
            e.exposure_after.currency().code(),
            e.reason(),
            ctx.actor.kind(),
            ctx.actor.name(),
            comment,
            ctx.timestamp(),
            version,
            serde_json::to_string(&e.fired)?,
            e.fast_path,
            e.limit.minor()
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approve,
    Reject,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[serde(default)]
    pub comment: Option<String>,
    /// Approve and raise the customer's (or its group's) limit to this amount.
    #[serde(default)]
    pub new_limit: Option<String>,
}

/// A credit analyst releases (approves) or rejects an order on hold.
pub fn review_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<order::Order> {
    let head = head_for_update(conn, order_id)?;
    if head.status != OrderStatus::CreditHold {
        return Err(DomainError::IllegalStateTransition {
            document: "order",
            id: order_id.to_string(),
            state: head.status.as_str().to_string(),
            action: match decision {
                ReviewDecision::Approve => "release from credit hold",
                ReviewDecision::Reject => "reject on credit review",
            },
        }
        .into());
    }
    let (version, evaluated) = evaluate_order(conn, ctx, &head)?;
    let (outcome, rule, reason) = match decision {
        ReviewDecision::Approve => (
            CreditOutcome::Approve,
            "credit.manual_release",
            "released by a credit analyst",
        ),
        ReviewDecision::Reject => (
            CreditOutcome::Reject,
            "credit.manual_reject",
            "rejected by a credit analyst",
        ),
    };
    let mut fired = vec![FiredRule {
        rule: rule.into(),
        effect: outcome,
        message: reason.into(),
    }];
    fired.extend(evaluated.fired);
    let manual = Evaluation {
        outcome,
        fired,
        fast_path: false,
        exposure_after: evaluated.exposure_after,
        limit: evaluated.limit,
    };
    record(
        conn,
        ctx,
        order_id,
        &head.customer_id,
        version,
        &manual,
        comment,
    )?;
    conn.execute(
        "UPDATE orders SET touched_by_person = 1 WHERE id = $1",
        params![order_id],
    )?;
    match decision {
        ReviewDecision::Approve => approve(conn, ctx, order_id, &head, reason, comment)?,
        ReviewDecision::Reject => {
            set_status(
                conn,
                order_id,
                head.status
                    .transition(order_id, OrderAction::RejectCredit)?,
            )?;
            event::emit_for_order(
                conn,
                ctx,
                order_id,
                &head.customer_id,
                EventType::CreditRejected,
                json!({"comment": comment}),
            )?;
        }
    }
    order::get(conn, order_id)
}

/// The analyst raises the limit (the customer's, or its credit group's) and releases the order.
pub fn raise_limit_and_release_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    new_limit: &str,
    comment: Option<&str>,
) -> Result<order::Order> {
    let head = head_for_update(conn, order_id)?;
    let limit = Money::parse(new_limit, head.currency).map_err(DomainError::money("new_limit"))?;
    profile::set_limit_in_tx(conn, ctx, &head.customer_id, limit, comment)?;
    review_in_tx(conn, ctx, order_id, ReviewDecision::Approve, comment)
}

/// Rule `credit.release_on_payment`: re-decides the customer's held orders, oldest first, and
/// releases those no rule holds any more. Also run after a credit profile change.
pub fn release_holds_in_tx(conn: &mut dyn Conn, ctx: &Ctx, customer_id: &str) -> Result<usize> {
    let held: Vec<String> = conn
        .query(
            "SELECT id FROM orders WHERE customer_id = $1 AND status = 'credit_hold' ORDER BY received_at, id",
            params![customer_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    let mut released = 0;
    for order_id in held {
        let head = head_for_update(conn, &order_id)?;
        let (version, evaluation) = evaluate_order(conn, ctx, &head)?;
        if evaluation.outcome == CreditOutcome::Approve {
            record(
                conn,
                ctx,
                &order_id,
                customer_id,
                version,
                &evaluation,
                None,
            )?;
            approve(
                conn,
                ctx,
                &order_id,
                &head,
                &format!("released automatically: {}", evaluation.reason()),
                None,
            )?;
            released += 1;
        }
    }
    Ok(released)
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecord {
    pub id: String,
    pub outcome: String,
    pub rules: serde_json::Value,
    pub fast_path: bool,
    pub policy_version: Option<i64>,
    pub exposure: Money,
    pub limit: Money,
    pub reason: String,
    pub decided_by: String,
    pub comment: Option<String>,
    pub decided_at: String,
}

/// Every credit decision taken on an order, oldest first.
pub fn decisions(conn: &mut dyn Conn, order_id: &str) -> Result<Vec<DecisionRecord>> {
    conn.query(
        "SELECT id, outcome, fired, fast_path, policy_version, exposure_minor, currency, reason, actor_kind, actor_id, comment, decided_at, limit_minor
         FROM credit_decisions WHERE order_id = $1 ORDER BY decided_at, id",
        params![order_id],
    )?
    .iter()
    .map(|r| {
        Ok(DecisionRecord {
            id: r.text(0),
            outcome: r.text(1),
            rules: r.opt_text(2).map(|t| serde_json::from_str(&t)).transpose()?.unwrap_or(json!([])),
            fast_path: r.int(3) != 0,
            policy_version: r.opt_int(4),
            exposure: Money::new(r.int(5), o2c_core::Currency::parse(&r.text(6))?),
            limit: Money::new(r.int(12), o2c_core::Currency::parse(&r.text(6))?),
            reason: r.text(7),
            decided_by: format!("{}:{}", r.text(8), r.text(9)),
            comment: r.opt_text(10),
            decided_at: r.text(11),
        })
    })
    .collect()
}
