//! Invoice delivery by e-mail: issuing a document queues one delivery per channel in the same
//! transaction (a unique key per invoice and channel, so one issue event can never send twice);
//! a worker sends what is due, records the outcome, and retries transient failures with
//! exponential backoff.

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;

/// Queues the e-mail delivery of an issued invoice or credit note to the customer's billing
/// contact (billing e-mail, else the customer's e-mail). No address: nothing is queued and the
/// document waits to be fetched (API, portal).
pub fn enqueue_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    invoice_id: &str,
    customer_id: &str,
) -> Result<bool> {
    // One statement: the recipient is read where the row is written.
    let id = format!("dlv_{}", ctx.ids.next_raw());
    let queued = conn.execute(
        "INSERT INTO invoice_deliveries (id, invoice_id, channel, recipient, status, attempts, next_attempt_at, message_id, created_at)
         SELECT $1, $2, 'email', COALESCE(billing_email, email), 'pending', 0, $4, $5, $4
         FROM customers WHERE id = $3 AND COALESCE(billing_email, email) IS NOT NULL",
        params![id.as_str(), invoice_id, customer_id, ctx.timestamp(), format!("<{id}@o2c>")],
    )?;
    Ok(queued == 1)
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

/// Attempts before a transiently failing delivery is given up (about a day of backoff).
pub const MAX_ATTEMPTS: i64 = 10;

/// Waits after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours.
pub fn backoff(attempts: i64) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(1, 10).saturating_sub(1);
    chrono::Duration::minutes(minutes.min(360))
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeliveryPass {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// A delivery that crashed mid-send (status `sending`) goes back to the queue; it keeps its
/// Message-ID, so a receiving system can recognise a resend.
pub async fn requeue_interrupted(app: &crate::App) -> Result<usize> {
    app.write(o2c_core::Actor::Rule("invoice.deliver"), |c, _| {
        Ok(c.execute(
            "UPDATE invoice_deliveries SET status = 'pending' WHERE status = 'sending'",
            &[],
        )? + c.execute(
            "UPDATE notifications SET status = 'pending' WHERE status = 'sending'",
            &[],
        )?)
    })
    .await
    .map(|n| n as usize)
}

/// Sends every delivery that is due: claims it (`pending` → `sending`, one attempt counted),
/// renders the PDF and the UBL, sends one e-mail with both attached, and records the outcome.
pub async fn deliver_due(
    app: &crate::App,
    mailer: &o2c_mail::Mailer,
    limit: i64,
) -> Result<DeliveryPass> {
    use crate::billing::document;
    let actor = o2c_core::Actor::Rule("invoice.deliver");
    let now = stamp(app.ctx(actor.clone()).now);
    let due: Vec<String> = app
        .read(move |c| {
            Ok(c.query(
                "SELECT id FROM invoice_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
                params![now.as_str(), limit],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect())
        })
        .await?;
    let mut pass = DeliveryPass::default();
    for id in due {
        let claim_id = id.clone();
        let claimed = app
            .write(actor.clone(), move |c, _| {
                Ok(c.execute(
                    "UPDATE invoice_deliveries SET status = 'sending', attempts = attempts + 1 WHERE id = $1 AND status = 'pending'",
                    params![claim_id.as_str()],
                )? == 1)
            })
            .await?;
        if !claimed {
            continue;
        }
        let read_id = id.clone();
        let (d, doc) = app
            .read(move |c| {
                let r = c.query_one(
                    "SELECT invoice_id, recipient, message_id, attempts FROM invoice_deliveries WHERE id = $1",
                    params![read_id.as_str()],
                )?;
                let doc = document::build(c, &r.text(0))?;
                Ok(((r.text(0), r.text(1), r.text(2), r.int(3)), doc))
            })
            .await?;
        let (invoice_id, recipient, message_id, attempts) = d;
        let m = mailer.clone();
        let sent =
            tokio::task::spawn_blocking(move || -> std::result::Result<String, (bool, String)> {
                let pdf = document::render_pdf(&doc).map_err(|e| (false, e.to_string()))?;
                // An incomplete setup (no seller VAT id yet) is fixed by a person: retry later.
                let xml = document::render_ubl(&doc).map_err(|e| (true, e.to_string()))?;
                let title = match doc.kind {
                    o2c_core::document::DocumentKind::Invoice => "Invoice",
                    o2c_core::document::DocumentKind::CreditNote => "Credit note",
                };
                let mut text = format!(
                    "Dear customer,\n\nplease find attached {} {} of {} over {} {}.\n",
                    title.to_lowercase(),
                    doc.number,
                    doc.issue_date,
                    doc.totals.payable.to_decimal_string(),
                    doc.currency
                );
                if let Some(due) = doc.due_date {
                    text.push_str(&format!(
                        "\nPlease pay by {due}, quoting the reference {}{}.\n",
                        o2c_core::reference::grouped(&doc.payment.reference),
                        doc.payment
                            .iban
                            .as_deref()
                            .map(|i| format!(" to IBAN {i}"))
                            .unwrap_or_default()
                    ));
                }
                text.push_str(&format!("\nKind regards\n{}\n", doc.seller.party.name));
                let msg = o2c_mail::Message::builder(message_id)
                    .to(recipient)
                    .subject(format!(
                        "{title} {} from {}",
                        doc.number, doc.seller.party.name
                    ))
                    .text(text)
                    .attach(format!("{}.pdf", doc.number), "application/pdf", pdf)
                    .attach(
                        format!("{}.xml", doc.number),
                        "application/xml",
                        xml.into_bytes(),
                    )
                    .build()
                    .map_err(|e| (e.is_transient(), e.to_string()))?;
                m.send(&msg)
                    .map(|o| o.reply)
                    .map_err(|e| (e.is_transient(), e.to_string()))
            })
            .await
            .map_err(|e| crate::AppError::Internal(e.to_string()))?;
        let outcome_id = id.clone();
        let (status, event_kind) = match &sent {
            Ok(_) => ("sent", Some(EventType::InvoiceDelivered)),
            Err((true, _)) if attempts < MAX_ATTEMPTS => ("pending", None),
            Err(_) => ("failed", Some(EventType::InvoiceDeliveryFailed)),
        };
        match status {
            "sent" => pass.sent += 1,
            "pending" => pass.retrying += 1,
            _ => pass.failed += 1,
        }
        app.write(actor.clone(), move |c, ctx| {
            let next = stamp(ctx.now + backoff(attempts));
            let (reply, error) = match &sent {
                Ok(reply) => (Some(reply.clone()), None),
                Err((_, e)) => (None, Some(e.clone())),
            };
            c.execute(
                "UPDATE invoice_deliveries SET status = $2, last_error = $3, next_attempt_at = $4, sent_at = $5 WHERE id = $1",
                params![
                    outcome_id.as_str(),
                    status,
                    error.as_deref(),
                    next.as_str(),
                    (status == "sent").then(|| ctx.timestamp())
                ],
            )?;
            if let Some(kind) = event_kind {
                let customer = c
                    .query_one("SELECT customer_id, order_id FROM invoices WHERE id = $1", params![invoice_id.as_str()])?;
                event::emit(
                    c,
                    ctx,
                    NewEvent {
                        kind,
                        aggregate_type: "invoice",
                        aggregate_id: invoice_id.as_str(),
                        order_id: Some(&customer.text(1)),
                        customer_id: Some(&customer.text(0)),
                        data: json!({"delivery_id": outcome_id, "channel": "email", "attempts": attempts, "reply": reply, "error": error}),
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(pass)
}

/// The delivery worker of `o2c serve`: every few seconds, sends what is due.
pub async fn run_worker(app: crate::App, mailer: o2c_mail::Mailer) {
    if let Err(e) = requeue_interrupted(&app).await {
        tracing::error!(error = %e, "could not requeue interrupted deliveries");
    }
    loop {
        match crate::notify::deliver_due(&app, &mailer, 50).await {
            Ok(p) if p.sent + p.retrying + p.failed > 0 => tracing::info!(
                sent = p.sent,
                retrying = p.retrying,
                failed = p.failed,
                "customer notifications"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "customer notification pass failed"),
        }
        match deliver_due(&app, &mailer, 50).await {
            Ok(p) if p.sent + p.retrying + p.failed > 0 => {
                tracing::info!(
                    sent = p.sent,
                    retrying = p.retrying,
                    failed = p.failed,
                    "invoice deliveries"
                );
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "invoice delivery pass failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
