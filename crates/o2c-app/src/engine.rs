//! The engine: reads the outbox in order and runs the automation rule for each event, in the
//! same transaction that removes the event from the outbox. A reaction that fails rolls back to
//! its savepoint, stays in the outbox with its error and is retried (at most `MAX_ATTEMPTS`
//! times); reactions are idempotent, so a second delivery changes nothing.
//!
//! Events a reaction emits are picked up again within the same transaction, so one commit
//! carries a batch of orders from `order.received` through credit, reservation and shipment
//! planning. A step first runs without savepoints ([`Isolation::Shared`]); only when a reaction
//! fails is it run again with one savepoint per reaction, which isolates the failure.

use crate::context::Ctx;
use crate::error::{AppError, Result};
use crate::event::EventType;
use crate::{credit, inventory, invoice, payment, shipment};
use o2c_store::{Conn, Dialect, params};

pub const MAX_ATTEMPTS: i64 = 5;

struct Pending {
    seq: i64,
    kind: Option<EventType>,
    aggregate_id: String,
    order_id: Option<String>,
    customer_id: Option<String>,
    data: String,
}

/// The automation rule for each event type; `None` where nothing reacts.
pub fn rule_for(kind: EventType) -> Option<&'static str> {
    match kind {
        EventType::OrderReceived | EventType::OrderAmended | EventType::OrderReopened => {
            Some("credit.auto_decide")
        }
        EventType::CreditApproved => Some("inventory.reserve"),
        EventType::StockReserved => Some("shipment.plan"),
        EventType::ShipmentDispatched => Some("invoice.on_dispatch"),
        EventType::InvoiceIssued => Some("cash.apply_credit"),
        EventType::PaymentReceived => Some("cash.auto_apply"),
        EventType::InvoicePaid => Some("order.close_when_settled"),
        EventType::StockReceived | EventType::StockAdjusted => Some("inventory.release_backorders"),
        EventType::PaymentApplied => Some("credit.release_on_payment"),
        EventType::DeductionOpened => Some("dispute.from_deduction"),
        EventType::CustomerCreated
        | EventType::ProductCreated
        | EventType::WarehouseCreated
        | EventType::CreditHeld
        | EventType::CreditRejected
        | EventType::Backordered
        | EventType::ShipmentPlanned
        | EventType::PickListCreated
        | EventType::ShipmentPacked
        | EventType::ShipmentDelivered
        | EventType::ShipmentServiceChosen
        | EventType::OutboundDocumentCreated
        | EventType::CarrierChanged
        | EventType::OrderClosed
        | EventType::OrderCancelled
        | EventType::ApiKeyCreated
        | EventType::CreditPolicyChanged
        | EventType::CreditProfileChanged
        | EventType::CreditLimitChanged
        | EventType::CreditGroupCreated
        | EventType::CreditApplicationReceived
        | EventType::CreditApplicationDecided
        | EventType::CreditNoteIssued
        | EventType::BillingRunCompleted
        | EventType::InvoiceDelivered
        | EventType::InvoiceDeliveryFailed
        | EventType::FxRatesSet
        | EventType::BankStatementImported
        | EventType::CashLineApplied
        | EventType::CashLineParked
        | EventType::CashLineNotOurs
        | EventType::DiscountTaken
        | EventType::DifferenceWrittenOff
        | EventType::RemittanceImported
        | EventType::CollectionSettled
        | EventType::PayoutRecorded
        | EventType::PayoutSettled
        | EventType::PaymentMethodsChanged
        | EventType::CheckoutCreated
        | EventType::CheckoutFailed
        | EventType::SepaCollectionCreated
        | EventType::PaymentReturned
        | EventType::RefundPaid
        | EventType::CustomerNotified
        | EventType::IntakeDocumentReceived
        | EventType::IntakeDocumentOrdered
        | EventType::IntakeDocumentParked
        | EventType::IntakeDocumentDuplicate
        | EventType::IntakeDocumentRejected
        | EventType::CustomerPartnersChanged
        | EventType::CustomerItemsChanged
        | EventType::IntakePolicyChanged
        | EventType::DisputeRaised
        | EventType::DisputeAssigned
        | EventType::DisputeUnderReview
        | EventType::DisputeResolved
        | EventType::DisputeRejected
        | EventType::PromiseMade
        | EventType::PromiseKept
        | EventType::PromiseBroken
        | EventType::ContactNoted
        | EventType::CollectionTaskOpened
        | EventType::CollectionTaskDone
        | EventType::DunningProfileSet
        | EventType::DunningRunCompleted
        | EventType::DunningNoticeIssued
        | EventType::DunningNoticeWaived
        | EventType::DunningDelivered
        | EventType::DunningDeliveryFailed
        | EventType::CustomerDunningChanged
        | EventType::HandedToCollection
        | EventType::WriteOffPosted
        | EventType::WriteOffRecovered
        | EventType::StatementSent
        | EventType::UserCreated
        | EventType::UserChanged
        | EventType::PortalLinkSent
        | EventType::UserSignedIn
        | EventType::UserSignedOut
        | EventType::ServiceCaseOpened
        | EventType::ServiceCaseAnswered
        | EventType::DeliveryRated => None,
    }
}

fn react(conn: &mut dyn Conn, ctx: &Ctx, ev: &Pending) -> Result<()> {
    let Some(kind) = ev.kind else { return Ok(()) };
    let Some(rule) = rule_for(kind) else {
        return Ok(());
    };
    let ctx = ctx.as_rule(rule);
    let order_id = || {
        ev.order_id
            .clone()
            .ok_or_else(|| AppError::Internal(format!("event {} has no order", ev.seq)))
    };
    match kind {
        EventType::OrderReceived | EventType::OrderAmended | EventType::OrderReopened => {
            credit::auto_decide_in_tx(conn, &ctx, &order_id()?)
        }
        EventType::PaymentApplied => {
            let customer_id = ev
                .customer_id
                .clone()
                .ok_or_else(|| AppError::Internal(format!("event {} has no customer", ev.seq)))?;
            credit::release_holds_in_tx(conn, &ctx, &customer_id).map(drop)
        }
        EventType::CreditApproved => {
            inventory::reserve_in_tx(conn, &ctx, &order_id()?, None).map(drop)
        }
        EventType::StockReserved => shipment::plan_in_tx(conn, &ctx, &order_id()?).map(drop),
        EventType::ShipmentDispatched => {
            invoice::on_dispatch_in_tx(conn, &ctx, &ev.aggregate_id).map(drop)
        }
        EventType::InvoiceIssued => {
            payment::apply_credit_to_invoice_in_tx(conn, &ctx, &ev.aggregate_id)?;
            crate::fulfilment::edi_out::invoice_in_tx(conn, &ctx, &ev.aggregate_id)
        }
        EventType::PaymentReceived => {
            let data: serde_json::Value = serde_json::from_str(&ev.data)?;
            let named: Vec<String> = data["invoice_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            payment::auto_apply_in_tx(conn, &ctx, &ev.aggregate_id, &named)
        }
        EventType::InvoicePaid => invoice::close_orders_in_tx(conn, &ctx, &ev.aggregate_id),
        EventType::StockReceived | EventType::StockAdjusted => {
            inventory::release_backorders_in_tx(conn, &ctx, &ev.aggregate_id)
        }
        EventType::DeductionOpened => {
            let data: serde_json::Value = serde_json::from_str(&ev.data)?;
            let id = data["deduction_id"].as_str().ok_or_else(|| {
                AppError::Internal(format!("event {} has no deduction_id", ev.seq))
            })?;
            crate::receivable::disputes::from_deduction_in_tx(conn, &ctx, id).map(drop)
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepOutcome {
    pub processed: usize,
    pub failed: usize,
}

/// How reactions are isolated from each other within a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// No savepoints: the first failing reaction fails the whole step (run it again `Isolated`).
    Shared,
    /// A savepoint per reaction: a failing one is rolled back, counted and retried later.
    Isolated,
}

/// Processes up to `limit` outbox events (and those their reactions emit) in the caller's
/// transaction.
pub fn step_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    limit: usize,
    isolation: Isolation,
) -> Result<StepOutcome> {
    let mut out = StepOutcome::default();
    let lock = match conn.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE OF o SKIP LOCKED",
    };
    let sql = format!(
        "SELECT o.event_seq, e.type, e.aggregate_id, e.order_id, e.data, e.customer_id FROM outbox o JOIN events e ON e.seq = o.event_seq
         WHERE o.attempts < $1 AND o.event_seq > $2 ORDER BY o.event_seq LIMIT $3{lock}"
    );
    let mut after = 0i64;
    while out.processed + out.failed < limit {
        let batch: Vec<Pending> = conn
            .query(
                &sql,
                params![
                    MAX_ATTEMPTS,
                    after,
                    (limit - out.processed - out.failed) as i64
                ],
            )?
            .iter()
            .map(|r| Pending {
                seq: r.int(0),
                kind: EventType::parse(&r.text(1)),
                aggregate_id: r.text(2),
                order_id: r.opt_text(3),
                data: r.text(4),
                customer_id: r.opt_text(5),
            })
            .collect();
        if batch.is_empty() {
            break;
        }
        let mut done = Vec::with_capacity(batch.len());
        for ev in &batch {
            after = after.max(ev.seq);
            if isolation == Isolation::Shared {
                react(conn, ctx, ev)?;
                done.push(ev.seq);
                out.processed += 1;
                continue;
            }
            conn.batch("SAVEPOINT reaction")?;
            match react(conn, ctx, ev) {
                Ok(()) => {
                    conn.batch("RELEASE SAVEPOINT reaction")?;
                    done.push(ev.seq);
                    out.processed += 1;
                }
                Err(AppError::Db(e)) if e.is_conflict() => return Err(AppError::Db(e)),
                Err(e) => {
                    conn.batch("ROLLBACK TO SAVEPOINT reaction; RELEASE SAVEPOINT reaction")?;
                    tracing::warn!(event_seq = ev.seq, error = %e, "automation failed; will retry");
                    conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE event_seq = $1",
                        params![ev.seq, e.to_string()],
                    )?;
                    out.failed += 1;
                }
            }
        }
        for chunk in done.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let values: Vec<o2c_store::Value> = chunk.iter().map(|s| (*s).into()).collect();
            conn.execute(
                &format!(
                    "DELETE FROM outbox WHERE event_seq IN ({})",
                    placeholders.join(", ")
                ),
                &values,
            )?;
        }
        // Reactions may have emitted new events (with higher seq): the next round picks them up.
    }
    Ok(out)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FailedReaction {
    pub event_seq: i64,
    pub event_type: String,
    pub aggregate_id: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Events whose automation failed, for an operator to look at.
pub fn failures(conn: &mut dyn Conn) -> Result<Vec<FailedReaction>> {
    Ok(conn
        .query(
            "SELECT o.event_seq, e.type, e.aggregate_id, o.attempts, o.last_error FROM outbox o JOIN events e ON e.seq = o.event_seq
             WHERE o.attempts > 0 ORDER BY o.event_seq",
            params![],
        )?
        .iter()
        .map(|r| FailedReaction { event_seq: r.int(0), event_type: r.text(1), aggregate_id: r.text(2), attempts: r.int(3), last_error: r.opt_text(4) })
        .collect())
}
