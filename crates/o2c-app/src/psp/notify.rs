//! What a customer is told when a payment did not go through: what happened and what to do
//! next (the amount, the company's IBAN and the invoice's RF reference for a bank transfer).
//! Each notice is a `customer.notified` event on the audit trail and an e-mail queued for the
//! customer's billing contact through the customer-notification queue (`crate::notify`, sent
//! by the same worker as invoices; once per document, however often the cause is replayed).

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde_json::json;

/// A declined card or wallet payment at checkout.
pub fn card_payment_failed_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    session_id: &str,
    invoice_ids: &[String],
    reason: &str,
) -> Result<bool> {
    let how = how_to_pay(conn, invoice_ids)?;
    let body = format!("Your card payment did not go through: {reason}.\n\n{how}");
    record_in_tx(
        conn,
        ctx,
        customer_id,
        "card_payment_failed",
        session_id,
        "Your card payment failed",
        &body,
    )
}

/// Records the notice on the audit trail and queues it as an e-mail (not when the customer has
/// no address). Returns whether a mail was queued.
pub fn record_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    kind: &str,
    document_id: &str,
    subject: &str,
    body: &str,
) -> Result<bool> {
    let mailed = crate::notify::queue_in_tx(
        conn,
        ctx,
        &crate::notify::Notice {
            customer_id,
            kind,
            dedupe_key: &format!("{kind}:{document_id}"),
            subject,
            body,
        },
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CustomerNotified,
            aggregate_type: "customer",
            aggregate_id: customer_id,
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"kind": kind, "document_id": document_id, "subject": subject, "body": body, "mailed": mailed}),
        },
    )?;
    Ok(mailed)
}

/// "Please pay … by bank transfer to …, IBAN …, reference RF…", for what the invoices still owe.
pub fn how_to_pay(conn: &mut dyn Conn, invoice_ids: &[String]) -> Result<String> {
    let company = crate::billing::company(conn)?;
    let mut lines = Vec::new();
    for id in invoice_ids {
        if let Some(r) = conn.query_opt(
            "SELECT number, payment_reference, open_minor, currency FROM invoices WHERE id = $1",
            params![id.as_str()],
        )? {
            let open = Money::new(r.int(2), Currency::parse(&r.text(3))?);
            let reference = r.opt_text(1).unwrap_or_else(|| r.text(0));
            lines.push(format!(
                "- invoice {}: {open}, reference {}",
                r.text(0),
                o2c_core::reference::grouped(&reference)
            ));
        }
    }
    let account = match &company.iban {
        Some(iban) => format!(
            "IBAN {}{}",
            o2c_core::reference::grouped(iban),
            company
                .bic
                .as_deref()
                .map(|b| format!(" (BIC {b})"))
                .unwrap_or_default()
        ),
        None => "the bank account on the invoice".to_string(),
    };
    Ok(format!(
        "What to do next: please pay by bank transfer to {}, {account}, quoting the reference so that we can match your payment:\n{}",
        company.name,
        lines.join("\n")
    ))
}
