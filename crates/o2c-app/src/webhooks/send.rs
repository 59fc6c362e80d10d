//! The webhook worker: fan the new events out into deliveries, then send what is due and record
//! each outcome. `deliver_due` is one pass; tests call it step by step.

use super::{DELIVERY_HEADER, EVENT_HEADER, FAN_OUT_WINDOW, MAX_ATTEMPTS, SIGNATURE_HEADER};
use super::{backoff, sign};
use crate::context::Ctx;
use crate::error::Result;
use o2c_core::Actor;
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;

fn actor() -> Actor {
    Actor::Rule("webhook.deliver")
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pass {
    /// Deliveries queued from new events.
    pub queued: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// The HTTP client of the worker: a 5 s limit per attempt, no redirects (a receiver that moved
/// is told about by its owner, not followed blindly with a signed body), TLS (rustls) with the
/// Mozilla roots and any certificate authorities in `extra_roots` (a company's own CA).
pub fn client_with(extra_roots: &[reqwest::Certificate]) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(super::TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    for root in extra_roots {
        b = b.add_root_certificate(root.clone());
    }
    b.build()
        .expect("a rustls client with parsed roots and no proxies builds")
}

/// [`client_with`] the Mozilla roots only.
pub fn client() -> reqwest::Client {
    client_with(&[])
}

/// The setting naming a PEM file of extra certificate authorities for https:// endpoints.
pub const CA_FILE_SETTING: &str = "O2C_WEBHOOK_CA_FILE";

/// The worker's client as `o2c serve` configures it: [`CA_FILE_SETTING`] adds the certificate
/// authorities in that PEM file; a file that cannot be read or holds no certificate is an error
/// (o2c does not start), never silently ignored.
pub fn client_from_env() -> std::result::Result<reqwest::Client, String> {
    let Ok(path) = std::env::var(CA_FILE_SETTING) else {
        return Ok(client());
    };
    let pem = std::fs::read(&path).map_err(|e| format!("{CA_FILE_SETTING}={path}: {e}"))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{CA_FILE_SETTING}={path}: not PEM certificates: {e}"))?;
    if roots.is_empty() {
        return Err(format!(
            "{CA_FILE_SETTING}={path}: no certificate in the file"
        ));
    }
    Ok(client_with(&roots))
}

/// Queues a delivery for each event past an active endpoint's cursor that it subscribed to, and
/// moves the cursors. Repeating it queues nothing twice (unique endpoint and event).
pub fn fan_out_in_tx(conn: &mut dyn Conn, ctx: &Ctx) -> Result<usize> {
    let endpoints: Vec<(String, Vec<String>, i64)> = conn
        .query(
            "SELECT id, event_types, last_seq FROM webhook_endpoints WHERE active = 1",
            &[],
        )?
        .iter()
        .map(|r| {
            let types = r.text(1).split(',').map(str::to_string).collect();
            (r.text(0), types, r.int(2))
        })
        .collect();
    let Some(from) = endpoints.iter().map(|e| e.2).min() else {
        return Ok(0);
    };
    let events: Vec<(i64, String)> = conn
        .query(
            "SELECT seq, type FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            params![from, FAN_OUT_WINDOW],
        )?
        .iter()
        .map(|r| (r.int(0), r.text(1)))
        .collect();
    let Some(upto) = events.last().map(|e| e.0) else {
        return Ok(0);
    };
    let now = ctx.timestamp();
    let mut queued = 0;
    for (endpoint_id, types, last_seq) in &endpoints {
        let wanted = events
            .iter()
            .filter(|(seq, kind)| *seq > *last_seq && types.iter().any(|t| t == "*" || t == kind));
        for (seq, _) in wanted {
            queued += conn.execute(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, status, attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT (endpoint_id, event_seq) DO NOTHING",
                params![
                    format!("whd_{}", ctx.ids.next_raw()),
                    endpoint_id.as_str(),
                    *seq,
                    now.as_str()
                ],
            )?;
        }
    }
    conn.execute(
        "UPDATE webhook_endpoints SET last_seq = $1 WHERE active = 1 AND last_seq < $1",
        params![upto],
    )?;
    Ok(queued as usize)
}

/// A delivery that crashed mid-send (status `sending`) goes back to the queue; receivers
/// recognise a resend by its `O2c-Delivery` id.
pub async fn requeue_interrupted(app: &crate::App) -> Result<usize> {
    app.write(actor(), |c, _| {
        Ok(c.execute(
            "UPDATE webhook_deliveries SET status = 'pending' WHERE status = 'sending'",
            &[],
        )? as usize)
    })
    .await
}

/// One request, ready to go: where, the signed body and its headers.
struct Request {
    url: String,
    secret: String,
    attempts: i64,
    event_type: String,
    body: String,
}

fn load_request(conn: &mut dyn Conn, delivery_id: &str) -> Result<Request> {
    let r = conn.query_one(
        "SELECT w.url, w.secret, d.attempts, e.id, e.type, e.occurred_at, e.aggregate_type, e.aggregate_id,
                e.order_id, e.customer_id, e.actor_kind, e.actor_id, e.data
         FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN events e ON e.seq = d.event_seq
         WHERE d.id = $1",
        params![delivery_id],
    )?;
    let data: serde_json::Value = serde_json::from_str(&r.text(12))?;
    let body = json!({
        "id": r.text(3),
        "type": r.text(4),
        "occurred_at": r.text(5),
        "aggregate": {"type": r.text(6), "id": r.text(7)},
        "order_id": r.opt_text(8),
        "customer_id": r.opt_text(9),
        "actor": {"kind": r.text(10), "id": r.text(11)},
        "data": data,
    });
    Ok(Request {
        url: r.text(0),
        secret: r.text(1),
        attempts: r.int(2),
        event_type: r.text(4),
        body: body.to_string(),
    })
}

/// The outcome of one attempt: the receiver's status code (if it answered) and, unless it was a
/// 2xx, why it failed.
async fn attempt(
    client: &reqwest::Client,
    delivery_id: &str,
    req: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> (Option<i64>, Option<String>) {
    let signature = sign(req.secret.as_bytes(), now.timestamp(), req.body.as_bytes());
    let sent = client
        .post(&req.url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_HEADER, &req.event_type)
        .header(DELIVERY_HEADER, delivery_id)
        .body(req.body.clone())
        .send()
        .await;
    match sent {
        Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16().into()), None),
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            let snippet: String = text.chars().take(200).collect();
            (
                Some(status.as_u16().into()),
                Some(format!("HTTP {status}: {snippet}")),
            )
        }
        Err(e) if e.is_timeout() => (None, Some(format!("no answer within {:?}", super::TIMEOUT))),
        Err(e) => (None, Some(error_chain(&e))),
    }
}

/// Fans out the new events, then sends every delivery that is due: claims it (`pending` →
/// `sending`, one attempt counted), POSTs it, and records the outcome.
pub async fn deliver_due(app: &crate::App, client: &reqwest::Client, limit: i64) -> Result<Pass> {
    let queued = app.write(actor(), fan_out_in_tx).await?;
    let mut pass = send_due(app, client, limit).await?;
    pass.queued = queued;
    Ok(pass)
}

/// Sends what is due (without fanning out first).
pub async fn send_due(app: &crate::App, client: &reqwest::Client, limit: i64) -> Result<Pass> {
    let now = stamp(app.ctx(actor()).now);
    let due: Vec<String> = app
        .read(move |c| {
            Ok(c.query(
                "SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                 WHERE d.status = 'pending' AND w.active = 1 AND d.next_attempt_at <= $1
                 ORDER BY d.next_attempt_at, d.event_seq LIMIT $2",
                params![now.as_str(), limit],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect())
        })
        .await?;
    let mut pass = Pass::default();
    for id in due {
        let claim_id = id.clone();
        let claimed = app
            .write(actor(), move |c, _| {
                if c.execute(
                    "UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1 WHERE id = $1 AND status = 'pending'",
                    params![claim_id.as_str()],
                )? != 1
                {
                    return Ok(None);
                }
                load_request(c, &claim_id).map(Some)
            })
            .await?;
        let Some(req) = claimed else { continue };
        let (code, error) = attempt(client, &id, &req, app.ctx(actor()).now).await;
        let status = match &error {
            None => "delivered",
            Some(_) if req.attempts < MAX_ATTEMPTS => "pending",
            Some(_) => "dead",
        };
        match status {
            "delivered" => pass.delivered += 1,
            "pending" => pass.retrying += 1,
            _ => pass.dead += 1,
        }
        if let Some(e) = &error {
            tracing::warn!(delivery = %id, url = %req.url, attempts = req.attempts, error = %e, "webhook not delivered");
        }
        let attempts = req.attempts;
        app.write(actor(), move |c, ctx| {
            c.execute(
                "UPDATE webhook_deliveries SET status = $2, last_status = $3, last_error = $4, next_attempt_at = $5, delivered_at = $6 WHERE id = $1",
                params![
                    id.as_str(),
                    status,
                    code,
                    error.as_deref(),
                    stamp(ctx.now + backoff(attempts)),
                    (status == "delivered").then(|| ctx.timestamp())
                ],
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(pass)
}

/// An error with its causes ("error sending request: … invalid peer certificate: UnknownIssuer"):
/// the operator reading the dead-letter list needs the last one.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// The webhook worker of `o2c serve`: every few seconds, fans out and sends what is due.
pub async fn run_worker(app: crate::App, client: reqwest::Client) {
    if let Err(e) = requeue_interrupted(&app).await {
        tracing::error!(error = %e, "could not requeue interrupted webhook deliveries");
    }
    loop {
        match deliver_due(&app, &client, 50).await {
            Ok(p) if p.delivered + p.retrying + p.dead > 0 => {
                tracing::info!(
                    queued = p.queued,
                    delivered = p.delivered,
                    retrying = p.retrying,
                    dead = p.dead,
                    "webhook deliveries"
                );
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "webhook pass failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
