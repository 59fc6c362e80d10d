//! Messages to customers about their money: payment receipts, and what to do when a payment
//! failed. Queued in the transaction that caused them (one per `dedupe_key`, so a replayed
//! cause never mails twice), sent by the same worker as invoices, retried with backoff.

use crate::billing::delivery::{MAX_ATTEMPTS, backoff};
use crate::context::Ctx;
use crate::error::{Result, not_found};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde::Serialize;

/// A message to a customer's billing contact.
pub struct Notice<'a> {
    pub customer_id: &'a str,
    /// `payment_receipt`, `payment_failed`, `payment_returned`, …
    pub kind: &'a str,
    /// One message per key, ever.
    pub dedupe_key: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues `n` for the customer's billing e-mail (else its e-mail). False when the customer has
/// no address or the message was already queued.
pub fn queue_in_tx(conn: &mut dyn Conn, ctx: &Ctx, n: &Notice<'_>) -> Result<bool> {
    let id = format!("ntf_{}", ctx.ids.next_raw());
    let queued = conn.execute(
        "INSERT INTO notifications (id, customer_id, kind, dedupe_key, recipient, subject, body, status, attempts, next_attempt_at, message_id, created_at)
         SELECT $1, id, $2, $3, COALESCE(billing_email, email), $4, $5, 'pending', 0, $6, $7, $6
         FROM customers WHERE id = $8 AND COALESCE(billing_email, email) IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM notifications WHERE dedupe_key = $3)",
        params![id.as_str(), n.kind, n.dedupe_key, n.subject, n.body, ctx.timestamp(), format!("<{id}@o2c>"), n.customer_id],
    )?;
    Ok(queued == 1)
}

/// The receipt for a payment once it is applied: what it paid, and what is still open.
pub fn payment_receipt_in_tx(conn: &mut dyn Conn, ctx: &Ctx, payment_id: &str) -> Result<bool> {
    let p = conn
        .query_opt(
            "SELECT p.customer_id, p.amount_minor, p.currency, p.received_on, p.unapplied_minor, c.name,
                    COALESCE(c.billing_email, c.email)
             FROM payments p JOIN customers c ON c.id = p.customer_id WHERE p.id = $1",
            params![payment_id],
        )?
        .ok_or_else(|| not_found("payment", payment_id))?;
    // No address, no receipt: nothing more is read for customers without one.
    if p.opt_text(6).is_none() {
        return Ok(false);
    }
    let cur = Currency::parse(&p.text(2))?;
    let m = |v: i64| Money::new(v, cur).to_string();
    let customer = p.text(0);
    let mut body = format!(
        "Dear {},\n\nthank you: we received your payment of {} on {}.\n",
        p.text(5),
        m(p.int(1)),
        p.text(3)
    );
    let applied = conn.query(
        "SELECT i.number, a.amount_minor, i.open_minor FROM payment_applications a JOIN invoices i ON i.id = a.invoice_id
         WHERE a.payment_id = $1 ORDER BY i.number",
        params![payment_id],
    )?;
    if !applied.is_empty() {
        body.push_str("\nIt paid:\n");
        for a in &applied {
            let state = if a.int(2) == 0 {
                "now settled".to_string()
            } else {
                format!("{} still open", m(a.int(2)))
            };
            body.push_str(&format!("  {}  {}  ({state})\n", a.text(0), m(a.int(1))));
        }
    }
    if p.int(4) > 0 {
        body.push_str(&format!(
            "\n{} of it is credit on your account and will be set against your next invoice.\n",
            m(p.int(4))
        ));
    }
    let open = conn.query(
        "SELECT number, due_on, open_minor FROM invoices WHERE customer_id = $1 AND open_minor > 0 ORDER BY due_on, number LIMIT 21",
        params![customer.as_str()],
    )?;
    if open.is_empty() {
        body.push_str("\nNothing else is open on your account.\n");
    } else {
        body.push_str("\nStill open:\n");
        for o in open.iter().take(20) {
            body.push_str(&format!(
                "  {}  due {}  {}\n",
                o.text(0),
                o.text(1),
                m(o.int(2))
            ));
        }
        if open.len() > 20 {
            body.push_str("  … and more: see your statement of account.\n");
        }
    }
    body.push_str("\nKind regards\nAccounts receivable\n");
    queue_in_tx(
        conn,
        ctx,
        &Notice {
            customer_id: &customer,
            kind: "payment_receipt",
            dedupe_key: &format!("receipt:{payment_id}"),
            subject: &format!("Payment received: {}", m(p.int(1))),
            body: &body,
        },
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

pub fn for_customer(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<Notification>> {
    Ok(conn
        .query(
            "SELECT id, kind, recipient, subject, body, status, attempts, last_error, created_at, sent_at
             FROM notifications WHERE customer_id = $1 ORDER BY created_at, id",
            params![customer_id],
        )?
        .iter()
        .map(|r| Notification {
            id: r.text(0),
            kind: r.text(1),
            recipient: r.text(2),
            subject: r.text(3),
            body: r.text(4),
            status: r.text(5),
            attempts: r.int(6),
            last_error: r.opt_text(7),
            created_at: r.text(8),
            sent_at: r.opt_text(9),
        })
        .collect())
}

/// Sends every notification that is due; the outcome is recorded on the row.
pub async fn deliver_due(
    app: &crate::App,
    mailer: &o2c_mail::Mailer,
    limit: i64,
) -> Result<crate::billing::delivery::DeliveryPass> {
    let actor = o2c_core::Actor::Rule("customer.notify");
    let now = app.ctx(actor.clone()).timestamp();
    let due = app
        .read(move |c| {
            Ok(c.query(
                "SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
                params![now.as_str(), limit],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Vec<_>>())
        })
        .await?;
    let mut pass = crate::billing::delivery::DeliveryPass::default();
    for id in due {
        let claim = id.clone();
        let row = app
            .write(actor.clone(), move |c, _| {
                if c.execute(
                    "UPDATE notifications SET status = 'sending', attempts = attempts + 1 WHERE id = $1 AND status = 'pending'",
                    params![claim.as_str()],
                )? != 1
                {
                    return Ok(None);
                }
                let r = c.query_one(
                    "SELECT recipient, subject, body, message_id, attempts FROM notifications WHERE id = $1",
                    params![claim.as_str()],
                )?;
                Ok(Some((r.text(0), r.text(1), r.text(2), r.text(3), r.int(4))))
            })
            .await?;
        let Some((to, subject, body, message_id, attempts)) = row else {
            continue;
        };
        let m = mailer.clone();
        let sent = tokio::task::spawn_blocking(move || {
            let msg = o2c_mail::Message::builder(message_id)
                .to(to)
                .subject(subject)
                .text(body)
                .build()
                .map_err(|e| (e.is_transient(), e.to_string()))?;
            m.send(&msg)
                .map(|_| ())
                .map_err(|e| (e.is_transient(), e.to_string()))
        })
        .await
        .map_err(|e| crate::AppError::Internal(e.to_string()))?;
        let status = match &sent {
            Ok(()) => "sent",
            Err((true, _)) if attempts < MAX_ATTEMPTS => "pending",
            Err(_) => "failed",
        };
        match status {
            "sent" => pass.sent += 1,
            "pending" => pass.retrying += 1,
            _ => pass.failed += 1,
        }
        app.write(actor.clone(), move |c, ctx| {
            let next = (ctx.now + backoff(attempts))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let error = sent.as_ref().err().map(|(_, e)| e.clone());
            c.execute(
                "UPDATE notifications SET status = $2, last_error = $3, next_attempt_at = $4, sent_at = $5 WHERE id = $1",
                params![id.as_str(), status, error.as_deref(), next.as_str(), (status == "sent").then(|| ctx.timestamp())],
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(pass)
}
