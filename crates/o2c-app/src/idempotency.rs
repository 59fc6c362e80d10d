//! Idempotent requests: the first request with a key runs and its response is stored in the
//! same transaction as its effects; a replay with the same body gets that response back and
//! changes nothing; a replay with another body is refused.
//!
//! Two concurrent requests with one key: on SQLite the single writer runs them one after the
//! other; on PostgreSQL the second insert of the key waits for the first transaction and then
//! fails the primary key, the job is re-run from its savepoint, and it finds the stored response.

use crate::error::{AppError, Result};
use o2c_core::DomainError;
use o2c_store::{Conn, params};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub body: String,
    /// Whether this is a replay of an earlier request.
    pub replayed: bool,
}

pub fn request_hash(method_and_path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method_and_path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `work` once per (scope, key). `work` returns the HTTP status and JSON body to store.
pub fn run(
    conn: &mut dyn Conn,
    scope: &str,
    key: &str,
    hash: &str,
    now: &str,
    work: impl FnOnce(&mut dyn Conn) -> Result<(u16, String)>,
) -> Result<Stored> {
    if let Some(r) = conn.query_opt(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
        params![scope, key],
    )? {
        if r.text(0) != hash {
            return Err(AppError::Domain(
                DomainError::IdempotencyKeyReusedWithDifferentBody(key.to_string()),
            ));
        }
        return Ok(Stored {
            status: u16::try_from(r.int(1)).unwrap_or(200),
            body: r.text(2),
            replayed: true,
        });
    }
    let (status, body) = work(conn)?;
    conn.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![scope, key, hash, i64::from(status), body.as_str(), now],
    )?;
    Ok(Stored {
        status,
        body,
        replayed: false,
    })
}

/// Idempotency keys are opaque strings chosen by the client; keep them printable and short.
pub fn parse_key(key: &str) -> Result<String> {
    let k = key.trim();
    if k.is_empty() || k.len() > 200 || !k.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(AppError::Domain(DomainError::invalid(
            "Idempotency-Key",
            "expected 1 to 200 printable ASCII characters without spaces",
        )));
    }
    Ok(k.to_string())
}
