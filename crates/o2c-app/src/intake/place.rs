//! From mapped drafts to placed orders: what the purpose of each order allows, which POs the
//! customer already ordered, and placing all of a document's orders or none.

use super::IntakeError;
use super::IntakePolicy;
use super::documents::DocumentOrder;
use super::resolve::{self, Parsed, Resolved};
use crate::context::Ctx;
use crate::error::{AppError, Result};
use crate::event::{self, EventType, NewEvent};
use crate::order;
use o2c_edi::order::Purpose;
use o2c_store::{Conn, params};
use serde_json::json;
use std::collections::HashMap;

/// What processing found a document's orders to be.
pub(crate) struct Plan {
    pub to_place: Vec<Resolved>,
    /// POs the customer had ordered before: not ordered again.
    pub already_ordered: Vec<DocumentOrder>,
    pub errors: Vec<IntakeError>,
    pub warnings: Vec<String>,
}

pub(crate) fn plan(conn: &mut dyn Conn, parsed: &Parsed, policy: &IntakePolicy) -> Result<Plan> {
    let mut plan = Plan {
        to_place: Vec::new(),
        already_ordered: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut in_document: HashMap<(String, String), &str> = HashMap::new();
    for (i, draft) in parsed.drafts.iter().enumerate() {
        if let Some(reason) = unsupported_purpose(&draft.purpose) {
            plan.errors
                .push(IntakeError::new(reason.0, &draft.at, reason.1));
            continue;
        }
        let resolved = match resolve::resolve(conn, i, draft, policy.price_tolerance)? {
            Ok(r) => r,
            Err(mut errors) => {
                plan.errors.append(&mut errors);
                continue;
            }
        };
        let key = (resolved.customer_id.clone(), draft.po_number.clone());
        if let Some(first) = in_document.insert(key, &draft.at) {
            plan.errors.push(IntakeError::new(
                "duplicate-po",
                &draft.at,
                format!(
                    "PO `{}` is ordered twice in the document (first at {first})",
                    draft.po_number
                ),
            ));
            continue;
        }
        let existing = existing_order(conn, &resolved.customer_id, &draft.po_number)?;
        match (&draft.purpose, existing) {
            (Purpose::Replacement, Some(known)) => plan.errors.push(IntakeError::new(
                "order-change",
                &draft.at,
                format!(
                    "replaces PO `{}`, already ordered as {}: change that order by hand (POST /api/v1/orders/{}/amend) and reject this document",
                    draft.po_number, known.order_id, known.order_id
                ),
            )),
            (Purpose::Confirmation, None) => plan.errors.push(IntakeError::new(
                "order-confirmation",
                &draft.at,
                format!(
                    "confirms PO `{}`, placed another way, but o2c has no order of customer {} with that reference",
                    draft.po_number, resolved.customer_id
                ),
            )),
            (_, Some(known)) => plan.already_ordered.push(known),
            (purpose, None) => {
                if *purpose == Purpose::Replacement {
                    plan.warnings.push(format!(
                        "{}: replaces PO `{}`, which o2c does not have: ordered as a new order",
                        draft.at, draft.po_number
                    ));
                }
                plan.warnings.extend(resolved.warnings.iter().cloned());
                plan.to_place.push(resolved);
            }
        }
    }
    Ok(plan)
}

/// Purposes intake does not order by itself: (reason code, message).
fn unsupported_purpose(purpose: &Purpose) -> Option<(&'static str, String)> {
    match purpose {
        Purpose::Original
        | Purpose::Duplicate
        | Purpose::Replacement
        | Purpose::Confirmation => None,
        Purpose::Cancellation => Some((
            "order-cancellation",
            "cancels an order: cancel it by hand (POST /api/v1/orders/{id}/cancel) and reject this document".into(),
        )),
        Purpose::Change => Some((
            "order-change",
            "changes an order: amend it by hand (POST /api/v1/orders/{id}/amend) and reject this document".into(),
        )),
        Purpose::Other(code) => Some((
            "unknown-purpose",
            format!("purpose code `{code}` is not one o2c orders from (original, duplicate, replacement, confirmation)"),
        )),
    }
}

/// The customer's order with this PO number as its reference, through any channel.
fn existing_order(
    conn: &mut dyn Conn,
    customer_id: &str,
    po_number: &str,
) -> Result<Option<DocumentOrder>> {
    Ok(conn
        .query_opt(
            "SELECT o.id, io.document_id FROM orders o
             LEFT JOIN intake_orders io ON io.customer_id = o.customer_id AND io.po_number = o.customer_reference AND io.order_id = o.id
             WHERE o.customer_id = $1 AND o.customer_reference = $2 ORDER BY o.received_at, o.id LIMIT 1",
            params![customer_id, po_number],
        )?
        .map(|r| DocumentOrder {
            po_number: po_number.to_string(),
            customer_id: customer_id.to_string(),
            order_id: r.text(0),
            placed: false,
            document_id: r.opt_text(1),
        }))
}

/// Places every planned order, or none: `Ok(Err(reasons))` when an order is refused (a tax
/// rate missing, a product without a price in the currency), with everything placed before it
/// rolled back to the savepoint.
pub(crate) fn place_all(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    document_id: &str,
    parsed: &Parsed,
    plan: &Plan,
) -> Result<std::result::Result<Vec<DocumentOrder>, Vec<IntakeError>>> {
    conn.batch("SAVEPOINT intake_document")?;
    let mut placed = Vec::with_capacity(plan.to_place.len());
    let mut errors = Vec::new();
    for r in &plan.to_place {
        let draft = &parsed.drafts[r.draft];
        match order::place_in_tx(conn, ctx, &r.request) {
            Ok(o) => {
                record(conn, ctx, document_id, parsed, &draft.po_number, &o)?;
                placed.push(DocumentOrder {
                    po_number: draft.po_number.clone(),
                    customer_id: o.customer_id,
                    order_id: o.id,
                    placed: true,
                    document_id: Some(document_id.to_string()),
                });
            }
            // Refusals are checks before any write: the next order can still be tried, so that
            // the person sees every reason at once.
            Err(AppError::Domain(e)) => {
                errors.push(IntakeError::new(e.code(), &draft.at, e.to_string()));
            }
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        conn.batch("RELEASE SAVEPOINT intake_document")?;
        Ok(Ok(placed))
    } else {
        conn.batch("ROLLBACK TO SAVEPOINT intake_document; RELEASE SAVEPOINT intake_document")?;
        Ok(Err(errors))
    }
}

/// Links the order to its document (the primary key keeps one order per customer and PO even
/// when two copies are processed at once) and says so on the order's audit trail.
fn record(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    document_id: &str,
    parsed: &Parsed,
    po_number: &str,
    o: &order::Order,
) -> Result<()> {
    conn.execute(
        "INSERT INTO intake_orders (customer_id, po_number, order_id, document_id) VALUES ($1, $2, $3, $4)",
        params![o.customer_id.as_str(), po_number, o.id.as_str(), document_id],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::IntakeDocumentOrdered,
            aggregate_type: "intake_document",
            aggregate_id: document_id,
            order_id: Some(&o.id),
            customer_id: Some(&o.customer_id),
            data: json!({"po_number": po_number, "channel": parsed.channel, "sender": parsed.sender}),
        },
    )
}
