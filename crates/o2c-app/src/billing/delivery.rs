//! Invoice delivery by e-mail: issuing a document queues one delivery per channel in the same
//! transaction (a unique key per invoice and channel, so one issue event can never send twice);
//! a worker sends what is due, records the outcome, and retries transient failures with
//! exponential backoff.

use crate::context::Ctx;
use crate::error::Result;
use o2c_store::{Conn, params};
use serde::Serialize;

/// Queues the e-mail delivery of an issued invoice or credit note to the customer's billing
/// contact (billing e-mail, else the customer's e-mail). No address: nothing is queued and the
/// document waits to be fetched (API, portal).
pub fn enqueue_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    invoice_id: &str,
    customer_id: &str,
) -> Result<bool> {
    let r = conn.query_one(
        "SELECT COALESCE(billing_email, email) FROM customers WHERE id = $1",
        params![customer_id],
    )?;
    let Some(to) = r.opt_text(0) else {
        return Ok(false);
    };
    let id = format!("dlv_{}", ctx.ids.next_raw());
    conn.execute(
        "INSERT INTO invoice_deliveries (id, invoice_id, channel, recipient, status, attempts, next_attempt_at, message_id, created_at)
         VALUES ($1, $2, 'email', $3, 'pending', 0, $4, $5, $4)",
        params![id.as_str(), invoice_id, to.as_str(), ctx.timestamp(), format!("<{id}@o2c>")],
    )?;
    Ok(true)
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: String,
    pub invoice_id: String,
    pub channel: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub message_id: String,
    pub sent_at: Option<String>,
}

pub fn for_invoice(conn: &mut dyn Conn, invoice_id: &str) -> Result<Vec<Delivery>> {
    Ok(conn
        .query(
            "SELECT d.id, d.invoice_id, d.channel, d.recipient, d.status, d.attempts, d.last_error, d.next_attempt_at, d.message_id, d.sent_at
             FROM invoice_deliveries d JOIN invoices i ON i.id = d.invoice_id WHERE i.id = $1 OR i.number = $1 ORDER BY d.created_at",
            params![invoice_id],
        )?
        .iter()
        .map(|r| Delivery {
            id: r.text(0),
            invoice_id: r.text(1),
            channel: r.text(2),
            recipient: r.text(3),
            status: r.text(4),
            attempts: r.int(5),
            last_error: r.opt_text(6),
            next_attempt_at: r.text(7),
            message_id: r.text(8),
            sent_at: r.opt_text(9),
        })
        .collect())
}
