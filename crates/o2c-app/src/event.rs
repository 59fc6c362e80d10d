//! The event log and the outbox. `emit` writes the event in the caller's transaction, next to
//! the state change it describes; if an automation reacts to this type, the same transaction
//! queues it in the outbox. The log is append-only: nothing updates or deletes an event.

use crate::context::Ctx;
use crate::error::Result;
use o2c_store::{Conn, Dialect, params};
use serde::Serialize;

macro_rules! event_types {
    ($($variant:ident => $name:literal, reacted: $reacted:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType { $($variant),* }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];
            pub fn as_str(&self) -> &'static str {
                match self { $(EventType::$variant => $name),* }
            }
            /// Whether some automation reacts to it (and so it goes to the outbox).
            pub fn is_reacted_to(&self) -> bool {
                match self { $(EventType::$variant => $reacted),* }
            }
            pub fn parse(s: &str) -> Option<EventType> {
                match s { $($name => Some(EventType::$variant),)* _ => None }
            }
        }
    };
}

event_types! {
    CustomerCreated => "customer.created", reacted: false;
    ProductCreated => "product.created", reacted: false;
    WarehouseCreated => "warehouse.created", reacted: false;
    StockReceived => "stock.received", reacted: true;
    StockAdjusted => "stock.adjusted", reacted: true;
    OrderReceived => "order.received", reacted: true;
    CreditApproved => "order.credit_approved", reacted: true;
    CreditHeld => "order.credit_held", reacted: false;
    CreditRejected => "order.credit_rejected", reacted: false;
    StockReserved => "order.stock_reserved", reacted: true;
    Backordered => "order.backordered", reacted: false;
    ShipmentPlanned => "shipment.planned", reacted: false;
    ShipmentDispatched => "shipment.dispatched", reacted: true;
    PickListCreated => "pick_list.created", reacted: false;
    ShipmentPacked => "shipment.packed", reacted: false;
    ShipmentDelivered => "shipment.delivered", reacted: false;
    ShipmentServiceChosen => "shipment.service_chosen", reacted: false;
    OutboundDocumentCreated => "edi.outbound_created", reacted: false;
    CarrierChanged => "carrier.changed", reacted: false;
    InvoiceIssued => "invoice.issued", reacted: true;
    PaymentReceived => "payment.received", reacted: true;
    PaymentApplied => "payment.applied", reacted: true;
    InvoicePaid => "invoice.paid", reacted: true;
    OrderClosed => "order.closed", reacted: false;
    OrderCancelled => "order.cancelled", reacted: false;
    ApiKeyCreated => "api_key.created", reacted: false;
    OrderAmended => "order.amended", reacted: true;
    OrderReopened => "order.reopened", reacted: true;
    CreditPolicyChanged => "credit.policy_changed", reacted: false;
    CreditProfileChanged => "customer.credit_profile_changed", reacted: false;
    CreditLimitChanged => "credit.limit_changed", reacted: false;
    CreditGroupCreated => "credit.group_created", reacted: false;
    CreditApplicationReceived => "credit.application_received", reacted: false;
    CreditApplicationDecided => "credit.application_decided", reacted: false;
    CreditNoteIssued => "invoice.credit_note_issued", reacted: false;
    BillingRunCompleted => "billing.run_completed", reacted: false;
    InvoiceDelivered => "invoice.delivered", reacted: false;
    InvoiceDeliveryFailed => "invoice.delivery_failed", reacted: false;
    FxRatesSet => "fx.rates_set", reacted: false;
    BankStatementImported => "bank.statement_imported", reacted: false;
    CashLineApplied => "cash.line_applied", reacted: false;
    CashLineParked => "cash.line_parked", reacted: false;
    CashLineNotOurs => "cash.line_not_ours", reacted: false;
    DiscountTaken => "invoice.discount_taken", reacted: false;
    DifferenceWrittenOff => "invoice.difference_written_off", reacted: false;
    DeductionOpened => "deduction.opened", reacted: true;
    PaymentMethodsChanged => "customer.payment_methods_changed", reacted: false;
    CheckoutCreated => "psp.checkout_created", reacted: false;
    CheckoutFailed => "psp.checkout_failed", reacted: false;
    SepaCollectionCreated => "sepa.collection_created", reacted: false;
    PaymentReturned => "payment.returned", reacted: false;
    RefundPaid => "payment.refunded", reacted: false;
    CustomerNotified => "customer.notified", reacted: false;
    RemittanceImported => "remittance.imported", reacted: false;
    CollectionSettled => "sepa.collection_settled", reacted: false;
    PayoutRecorded => "psp.payout_recorded", reacted: false;
    PayoutSettled => "psp.payout_settled", reacted: false;
    IntakeDocumentReceived => "intake.document_received", reacted: false;
    IntakeDocumentOrdered => "intake.document_ordered", reacted: false;
    IntakeDocumentParked => "intake.document_parked", reacted: false;
    IntakeDocumentDuplicate => "intake.document_duplicate", reacted: false;
    IntakeDocumentRejected => "intake.document_rejected", reacted: false;
    CustomerPartnersChanged => "customer.partners_changed", reacted: false;
    CustomerItemsChanged => "customer.items_changed", reacted: false;
    IntakePolicyChanged => "intake.policy_changed", reacted: false;
    DisputeRaised => "dispute.raised", reacted: false;
    DisputeAssigned => "dispute.assigned", reacted: false;
    DisputeUnderReview => "dispute.under_review", reacted: false;
    DisputeResolved => "dispute.resolved", reacted: false;
    DisputeRejected => "dispute.rejected", reacted: false;
    PromiseMade => "promise.made", reacted: false;
    PromiseKept => "promise.kept", reacted: false;
    PromiseBroken => "promise.broken", reacted: false;
    ContactNoted => "customer.contact_noted", reacted: false;
    CollectionTaskOpened => "collection.task_opened", reacted: false;
    CollectionTaskDone => "collection.task_done", reacted: false;
    DunningProfileSet => "dunning.profile_set", reacted: false;
    DunningRunCompleted => "dunning.run_completed", reacted: false;
    DunningNoticeIssued => "dunning.notice_issued", reacted: false;
    DunningNoticeWaived => "dunning.notice_waived", reacted: false;
    DunningDelivered => "dunning.delivered", reacted: false;
    DunningDeliveryFailed => "dunning.delivery_failed", reacted: false;
    CustomerDunningChanged => "customer.dunning_changed", reacted: false;
    HandedToCollection => "customer.handed_to_collection", reacted: false;
    WriteOffPosted => "invoice.written_off", reacted: false;
    WriteOffRecovered => "invoice.write_off_recovered", reacted: false;
    StatementSent => "customer.statement_sent", reacted: false;
    UserCreated => "user.created", reacted: false;
    UserChanged => "user.changed", reacted: false;
    PortalLinkSent => "user.portal_link_sent", reacted: false;
    UserSignedIn => "user.signed_in", reacted: false;
    UserSignedOut => "user.signed_out", reacted: false;
    ServiceCaseOpened => "service.case_opened", reacted: false;
    ServiceCaseAnswered => "service.case_answered", reacted: false;
    DeliveryRated => "order.delivery_rated", reacted: false;
}

pub struct NewEvent<'a, D: Serialize> {
    pub kind: EventType,
    pub aggregate_type: &'static str,
    pub aggregate_id: &'a str,
    pub order_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub data: D,
}

pub fn emit<D: Serialize>(conn: &mut dyn Conn, ctx: &Ctx, e: NewEvent<'_, D>) -> Result<()> {
    let id = o2c_core::id::EventId::generate(ctx.ids.as_ref());
    let data = serde_json::to_string(&e.data)?;
    const INSERT: &str = "INSERT INTO events (id, occurred_at, type, aggregate_type, aggregate_id, order_id, customer_id, actor_kind, actor_id, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    let values = params![
        id.as_str(),
        ctx.timestamp(),
        e.kind.as_str(),
        e.aggregate_type,
        e.aggregate_id,
        e.order_id,
        e.customer_id,
        ctx.actor.kind(),
        ctx.actor.name(),
        data
    ];
    match (e.kind.is_reacted_to(), conn.dialect()) {
        (false, _) => {
            conn.execute(INSERT, values)?;
        }
        // One round trip on PostgreSQL, where each statement is one.
        (true, Dialect::Postgres) => {
            conn.execute(&format!("WITH e AS ({INSERT} RETURNING seq) INSERT INTO outbox (event_seq) SELECT seq FROM e"), values)?;
        }
        // `seq` is the rowid on SQLite: the connection's last insert names it, which costs a
        // fifth of what `RETURNING` does.
        (true, Dialect::Sqlite) => {
            conn.execute(INSERT, values)?;
            conn.execute(
                "INSERT INTO outbox (event_seq) VALUES (last_insert_rowid())",
                params![],
            )?;
        }
    }
    Ok(())
}

/// An event about an order, recorded on the order's own trail.
pub fn emit_for_order(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    customer_id: &str,
    kind: EventType,
    data: serde_json::Value,
) -> Result<()> {
    emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: "order",
            aggregate_id: order_id,
            order_id: Some(order_id),
            customer_id: Some(customer_id),
            data,
        },
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    pub occurred_at: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub actor: ActorRecord,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActorRecord {
    pub kind: String,
    pub id: String,
}

/// The audit trail of an order, oldest first: who or what did each step, and when.
pub fn for_order(conn: &mut dyn Conn, order_id: &str) -> Result<Vec<EventRecord>> {
    let rows = conn.query(
        "SELECT seq, id, occurred_at, type, aggregate_type, aggregate_id, actor_kind, actor_id, data
         FROM events WHERE order_id = $1 ORDER BY seq",
        params![order_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(EventRecord {
                seq: r.int(0),
                id: r.text(1),
                occurred_at: r.text(2),
                kind: r.text(3),
                aggregate_type: r.text(4),
                aggregate_id: r.text(5),
                actor: ActorRecord {
                    kind: r.text(6),
                    id: r.text(7),
                },
                data: serde_json::from_str(&r.text(8))?,
            })
        })
        .collect()
}
