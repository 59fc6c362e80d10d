//! Credit decisions: by rule on every new order, by a person with the credit role for holds.

use crate::context::Ctx;
use crate::customer::{self, adjust_balances};
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use crate::order::{self, head_for_update, set_status};
use o2c_core::credit::{CreditCheck, CreditDecision, CreditOutcome, decide};
use o2c_core::id::CreditDecisionId;
use o2c_core::order::{OrderAction, OrderStatus};
use o2c_core::{DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Rule `credit.auto_decide`: approve within the limit, hold above it. Does nothing if the order
/// was already decided (the engine may deliver an event twice).
pub fn auto_decide_in_tx(conn: &mut dyn Conn, ctx: &Ctx, order_id: &str) -> Result<()> {
    let head = head_for_update(conn, order_id)?;
    if head.status != OrderStatus::Received {
        return Ok(());
    }
    let cust = customer::get(conn, &head.customer_id)?;
    let decision = decide(&CreditCheck {
        limit: cust.credit_limit,
        open_receivables: cust.open_receivables,
        open_orders: cust.open_orders,
        order_amount: Money::new(head.gross_minor, head.currency),
    })?;
    record(conn, ctx, order_id, &head.customer_id, &decision, None)?;
    match decision.outcome {
        CreditOutcome::Approve => approve(conn, ctx, order_id, &head, &decision.reason, None),
        CreditOutcome::Hold => {
            set_status(
                conn,
                order_id,
                head.status.transition(order_id, OrderAction::HoldCredit)?,
            )?;
            event::emit(
                conn,
                ctx,
                NewEvent {
                    kind: EventType::CreditHeld,
                    aggregate_type: "order",
                    aggregate_id: order_id,
                    order_id: Some(order_id),
                    customer_id: Some(&head.customer_id),
                    data: json!({"rule": decision.rule, "reason": decision.reason, "exposure_after": decision.exposure_after, "limit": decision.limit}),
                },
            )
        }
    }
}

fn approve(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    head: &order::OrderHead,
    reason: &str,
    comment: Option<&str>,
) -> Result<()> {
    let next = head
        .status
        .transition(order_id, OrderAction::ApproveCredit)?;
    conn.execute(
        "UPDATE orders SET status = $2, uninvoiced_minor = gross_minor WHERE id = $1",
        params![order_id, next.as_str()],
    )?;
    adjust_balances(conn, &head.customer_id, 0, head.gross_minor, 0)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CreditApproved,
            aggregate_type: "order",
            aggregate_id: order_id,
            order_id: Some(order_id),
            customer_id: Some(&head.customer_id),
            data: json!({"reason": reason, "comment": comment}),
        },
    )
}

fn record(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    customer_id: &str,
    d: &CreditDecision,
    comment: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO credit_decisions (id, order_id, customer_id, outcome, rule, exposure_minor, limit_minor, currency, reason, actor_kind, actor_id, comment, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        params![
            CreditDecisionId::generate(ctx.ids.as_ref()).as_str(),
            order_id,
            customer_id,
            match d.outcome {
                CreditOutcome::Approve => "approve",
                CreditOutcome::Hold => "hold",
            },
            d.rule,
            d.exposure_after.minor(),
            d.limit.minor(),
            d.limit.currency().code(),
            d.reason.as_str(),
            ctx.actor.kind(),
            ctx.actor.name(),
            comment,
            ctx.timestamp()
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[serde(default)]
    pub comment: Option<String>,
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
    let cust = customer::get(conn, &head.customer_id)?;
    let (outcome, rule, reason) = match decision {
        ReviewDecision::Approve => (
            CreditOutcome::Approve,
            "credit.manual_release",
            "released by a credit analyst",
        ),
        ReviewDecision::Reject => (
            CreditOutcome::Hold,
            "credit.manual_reject",
            "rejected by a credit analyst",
        ),
    };
    let exposure_after = cust
        .exposure
        .checked_add(Money::new(head.gross_minor, head.currency))?;
    record(
        conn,
        ctx,
        order_id,
        &head.customer_id,
        &CreditDecision {
            outcome,
            rule,
            exposure_after,
            limit: cust.credit_limit,
            reason: reason.into(),
        },
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
            event::emit(
                conn,
                ctx,
                NewEvent {
                    kind: EventType::CreditRejected,
                    aggregate_type: "order",
                    aggregate_id: order_id,
                    order_id: Some(order_id),
                    customer_id: Some(&head.customer_id),
                    data: json!({"comment": comment}),
                },
            )?;
        }
    }
    order::get(conn, order_id)
}

#[derive(Debug, Clone, Serialize)]
pub struct CreditHold {
    pub order_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub gross: Money,
    pub exposure: Money,
    pub credit_limit: Money,
    pub reason: String,
    pub received_at: String,
}

/// The credit analyst's queue: every order on hold with the reason and the customer's figures.
pub fn holds(conn: &mut dyn Conn, limit: i64) -> Result<Vec<CreditHold>> {
    let rows = conn.query(
        "SELECT o.id, o.customer_id, c.name, o.gross_minor, o.currency, c.open_receivables_minor + c.open_orders_minor, c.credit_limit_minor,
                (SELECT d.reason FROM credit_decisions d WHERE d.order_id = o.id ORDER BY d.decided_at DESC, d.id DESC LIMIT 1), o.received_at
         FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.status = 'credit_hold' ORDER BY o.received_at, o.id LIMIT $1",
        params![limit],
    )?;
    rows.iter()
        .map(|r| {
            let cur = o2c_core::Currency::parse(&r.text(4))?;
            Ok(CreditHold {
                order_id: r.text(0),
                customer_id: r.text(1),
                customer_name: r.text(2),
                gross: Money::new(r.int(3), cur),
                exposure: Money::new(r.int(5), cur),
                credit_limit: Money::new(r.int(6), cur),
                reason: r.opt_text(7).unwrap_or_default(),
                received_at: r.text(8),
            })
        })
        .collect()
}
