//! API keys. A key is shown once, at creation; the store keeps only its SHA-256.

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use o2c_core::Role;
use o2c_core::id::ApiKeyId;
use o2c_store::{Conn, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub role: Role,
    pub label: String,
    pub created_at: String,
}

pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_secret() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("o2c_{a}{b}")
}

/// Creates a key; returns it with its secret, which is not stored and cannot be shown again.
pub fn create_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    role: Role,
    label: &str,
) -> Result<(ApiKey, String)> {
    let secret = new_secret();
    let key = ApiKey {
        id: ApiKeyId::generate(ctx.ids.as_ref()).to_string(),
        role,
        label: label.to_string(),
        created_at: ctx.timestamp(),
    };
    conn.execute(
        "INSERT INTO api_keys (id, role, secret_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![key.id.as_str(), role.as_str(), hash_secret(&secret), label, key.created_at.as_str()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ApiKeyCreated,
            aggregate_type: "api_key",
            aggregate_id: &key.id,
            order_id: None,
            customer_id: None,
            data: &key,
        },
    )?;
    Ok((key, secret))
}

pub fn find_by_secret(conn: &mut dyn Conn, secret: &str) -> Result<Option<ApiKey>> {
    let row = conn.query_opt(
        "SELECT id, role, label, created_at FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL",
        params![hash_secret(secret)],
    )?;
    Ok(row.and_then(|r| {
        Role::parse(&r.text(1)).map(|role| ApiKey {
            id: r.text(0),
            role,
            label: r.text(2),
            created_at: r.text(3),
        })
    }))
}

pub fn list(conn: &mut dyn Conn) -> Result<Vec<ApiKey>> {
    Ok(conn
        .query("SELECT id, role, label, created_at FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id", params![])?
        .iter()
        .filter_map(|r| Role::parse(&r.text(1)).map(|role| ApiKey { id: r.text(0), role, label: r.text(2), created_at: r.text(3) }))
        .collect())
}

pub fn count(conn: &mut dyn Conn) -> Result<i64> {
    Ok(conn
        .query_one("SELECT COUNT(*) FROM api_keys", params![])?
        .int(0))
}
