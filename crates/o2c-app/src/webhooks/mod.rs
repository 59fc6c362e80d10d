//! Outgoing webhooks: other departments and systems subscribe an endpoint to event types and
//! receive each matching event as a signed POST.
//!
//! No event writer knows about webhooks. Each endpoint keeps a cursor (`last_seq`) into the
//! append-only `events` log, starting at the newest event when it is created; a worker pass
//! turns the events past each cursor into deliveries (unique per endpoint and event, so a pass
//! repeated after a crash queues nothing twice), then sends what is due: claim
//! (`pending` → `sending`, one attempt counted), POST, record. A 2xx delivers; anything else is
//! retried with exponential backoff until [`MAX_ATTEMPTS`], then the delivery is `dead` and
//! waits in the dead-letter list until someone replays it.
//!
//! The body is signed like the `local` payment provider signs its webhooks (Stripe's scheme):
//! `O2c-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//!
//! The cursor assumes events become visible in `seq` order, which holds for one writing process
//! (one group-committing writer). Several processes writing to one PostgreSQL database could
//! commit a lower `seq` after the cursor passed it; that event would not be sent.

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::EventType;
use hmac::{Hmac, Mac};
use o2c_core::DomainError;
use o2c_store::{Conn, params};
use serde::Serialize;
use sha2::Sha256;

mod send;
pub use send::{
    CA_FILE_SETTING, Pass, client, client_from_env, client_with, deliver_due, fan_out_in_tx,
    requeue_interrupted, run_worker, send_due,
};

pub const SIGNATURE_HEADER: &str = "O2c-Signature";
pub const EVENT_HEADER: &str = "O2c-Event";
pub const DELIVERY_HEADER: &str = "O2c-Delivery";
/// Attempts before a delivery goes to the dead-letter list (about a day of backoff).
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a receiver may take to answer before the attempt counts as failed.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Events one pass turns into deliveries at most; the next pass goes on from the cursor.
const FAN_OUT_WINDOW: i64 = 1000;

/// Waits after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours (the same schedule
/// as invoice e-mails).
pub use crate::billing::delivery::backoff;

/// What a subscriber asked for, parsed: an absolute http(s) URL and known event types (or `*`).
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    url: String,
    event_types: Vec<String>,
}

impl NewEndpoint {
    pub fn parse(url: &str, event_types: &[String]) -> Result<NewEndpoint, DomainError> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| DomainError::invalid("url", "expected an https:// or http:// URL"))?;
        if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid(
                "url",
                "expected a host after the scheme",
            ));
        }
        if event_types.is_empty() {
            return Err(DomainError::invalid(
                "event_types",
                "name at least one event type, or `*` for all",
            ));
        }
        let mut types: Vec<String> = Vec::new();
        for t in event_types {
            let t = t.trim();
            if t != "*" && EventType::parse(t).is_none() {
                let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                return Err(DomainError::invalid(
                    "event_types",
                    format!("unknown event type `{t}`; known: *, {}", known.join(", ")),
                ));
            }
            if !types.iter().any(|k| k == t) {
                types.push(t.to_string());
            }
        }
        if types.iter().any(|t| t == "*") {
            types = vec!["*".into()];
        }
        Ok(NewEndpoint {
            url: url.to_string(),
            event_types: types,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: String,
}

impl Endpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == "*" || t == event_type)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// Shown once: the receiver checks `O2c-Signature` with it.
    pub secret: String,
}

fn types_column(types: &[String]) -> String {
    types.join(",")
}

fn endpoint_row(r: &o2c_store::Row) -> Endpoint {
    Endpoint {
        id: r.text(0),
        url: r.text(1),
        event_types: r.text(2).split(',').map(str::to_string).collect(),
        active: r.int(3) != 0,
        created_at: r.text(4),
    }
}

/// Registers an endpoint. Its cursor starts at the newest event: it receives what happens from
/// now on, not the history.
pub fn create_in_tx(conn: &mut dyn Conn, ctx: &Ctx, new: &NewEndpoint) -> Result<CreatedEndpoint> {
    let id = format!("whk_{}", ctx.ids.next_raw());
    let secret = format!(
        "whsec_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    conn.execute(
        "INSERT INTO webhook_endpoints (id, url, event_types, secret, active, last_seq, created_at, created_by)
         SELECT $1, $2, $3, $4, 1, COALESCE(MAX(seq), 0), $5, $6 FROM events",
        params![
            id.as_str(),
            new.url.as_str(),
            types_column(&new.event_types),
            secret.as_str(),
            ctx.timestamp(),
            ctx.actor.to_string()
        ],
    )?;
    Ok(CreatedEndpoint {
        endpoint: Endpoint {
            id,
            url: new.url.clone(),
            event_types: new.event_types.clone(),
            active: true,
            created_at: ctx.timestamp(),
        },
        secret,
    })
}

/// Active endpoints, oldest first (removed ones keep their history but are not listed).
pub fn list(conn: &mut dyn Conn) -> Result<Vec<Endpoint>> {
    Ok(conn
        .query(
            "SELECT id, url, event_types, active, created_at FROM webhook_endpoints WHERE active = 1 ORDER BY created_at, id",
            &[],
        )?
        .iter()
        .map(endpoint_row)
        .collect())
}

/// Stops an endpoint: nothing more is queued or sent to it. Its deliveries stay as a record.
/// Removing it again returns it as it is.
pub fn remove_in_tx(conn: &mut dyn Conn, _ctx: &Ctx, id: &str) -> Result<Endpoint> {
    conn.execute(
        "UPDATE webhook_endpoints SET active = 0 WHERE id = $1",
        params![id],
    )?;
    conn.query_opt(
        "SELECT id, url, event_types, active, created_at FROM webhook_endpoints WHERE id = $1",
        params![id],
    )?
    .map(|r| endpoint_row(&r))
    .ok_or_else(|| not_found("webhook endpoint", id))
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub url: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.endpoint_id, w.url, e.id, e.type, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.delivered_at, d.created_at
     FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN events e ON e.seq = d.event_seq";

fn delivery_row(r: &o2c_store::Row) -> Delivery {
    Delivery {
        id: r.text(0),
        endpoint_id: r.text(1),
        url: r.text(2),
        event_id: r.text(3),
        event_type: r.text(4),
        status: r.text(5),
        attempts: r.int(6),
        next_attempt_at: r.text(7),
        last_status: r.opt_int(8),
        last_error: r.opt_text(9),
        delivered_at: r.opt_text(10),
        created_at: r.text(11),
    }
}

pub const STATUSES: &[&str] = &["pending", "sending", "delivered", "dead"];

/// Deliveries, newest first; `status = Some("dead")` is the dead-letter list.
pub fn deliveries(
    conn: &mut dyn Conn,
    status: Option<&str>,
    endpoint_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(DomainError::invalid(
            "status",
            format!("expected one of {}", STATUSES.join(", ")),
        )
        .into());
    }
    Ok(conn
        .query(
            &format!(
                "{DELIVERY_SELECT} WHERE (CAST($1 AS TEXT) IS NULL OR d.status = $1) AND (CAST($2 AS TEXT) IS NULL OR d.endpoint_id = $2)
                 ORDER BY d.event_seq DESC, d.id LIMIT $3"
            ),
            params![status, endpoint_id, limit],
        )?
        .iter()
        .map(delivery_row)
        .collect())
}

/// Puts a dead delivery back in the queue, due now, with a fresh count of attempts. Replaying
/// one that is already queued or delivered does nothing and returns it as it is; a delivery to
/// a removed endpoint cannot be replayed.
pub fn replay_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str) -> Result<Delivery> {
    let row = conn
        .query_opt(
            "SELECT d.status, w.active FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("webhook delivery", id))?;
    let (status, active) = (row.text(0), row.int(1) != 0);
    if status == "dead" {
        if !active {
            return Err(DomainError::IllegalStateTransition {
                document: "webhook delivery",
                id: id.to_string(),
                state: "dead, to a removed endpoint".into(),
                action: "replay",
            }
            .into());
        }
        conn.execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1 AND status = 'dead'",
            params![id, ctx.timestamp()],
        )?;
    }
    conn.query_opt(&format!("{DELIVERY_SELECT} WHERE d.id = $1"), params![id])?
        .map(|r| delivery_row(&r))
        .ok_or_else(|| not_found("webhook delivery", id))
}

/// The signature header for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_needs_an_http_or_https_url_and_known_event_types() {
        let types = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(NewEndpoint::parse("https://erp.example/hooks", &types(&["invoice.paid"])).is_ok());
        assert!(NewEndpoint::parse("http://erp.example/hooks", &types(&["invoice.paid"])).is_ok());
        assert!(NewEndpoint::parse("ftp://erp.example", &types(&["*"])).is_err());
        assert!(NewEndpoint::parse("http://", &types(&["*"])).is_err());
        assert!(NewEndpoint::parse("http://erp.example", &types(&[])).is_err());
        assert!(NewEndpoint::parse("http://erp.example", &types(&["order.nonsense"])).is_err());
        let all = NewEndpoint::parse("http://x", &types(&["invoice.paid", "*"])).unwrap();
        assert_eq!(all.event_types, vec!["*"]);
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Every input counts: key, timestamp and body.
        let s = sign(b"key", 1, b"x");
        assert!(s.starts_with("t=1,v1=") && s.len() == "t=1,v1=".len() + 64);
        assert_ne!(s, sign(b"other", 1, b"x"));
        assert_ne!(s, sign(b"key", 2, b"x"));
        assert_ne!(s, sign(b"key", 1, b"y"));
        // The same scheme the built-in payment provider signs with.
        assert_eq!(
            s,
            crate::psp::local::LocalProvider::new(b"key").sign(1, b"x")
        );
    }
}
