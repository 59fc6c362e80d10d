//! Sessions of the pages, sign-in links for portal users, and sign-in throttling. Tokens are
//! random (244 bits), handed to the browser once and kept only as their SHA-256, so a copy of
//! the database opens no session. Times are RFC 3339 UTC text with microseconds: they compare
//! correctly as strings on both engines.

use super::{COLUMNS, User, from_row};
use crate::auth::hash_secret;
use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use chrono::{DateTime, Duration, Utc};
use o2c_store::{Conn, params};

/// A session lasts this long from sign-in (a working day, then sign in again).
pub const SESSION_HOURS: i64 = 12;
/// An invitation's sign-in link works once, within this time.
pub const LINK_HOURS: i64 = 72;
/// Failed sign-ins per account and address before it must wait …
pub const MAX_FAILURES: i64 = 5;
/// … this long, counted from the first failure of the series.
pub const THROTTLE_MINUTES: i64 = 15;

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A new random token (two v4 UUIDs: 244 random bits), as 64 hex characters.
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A signed-in user and the session's CSRF token, which every form and htmx request echoes.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: String,
}

/// Starts a session for `user_id` (`method`: `password` or `link`); returns its CSRF token.
/// Expired sessions of the same user are removed on the way. The sign-in is on the event log.
pub fn start_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    user_id: &str,
    token: &str,
    method: &str,
) -> Result<String> {
    let csrf = new_token();
    conn.execute(
        "DELETE FROM web_sessions WHERE user_id = $1 AND expires_at <= $2",
        params![user_id, ctx.timestamp()],
    )?;
    conn.execute(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        params![hash_secret(token), user_id, csrf.as_str(), ctx.timestamp(),
                stamp(ctx.now + Duration::hours(SESSION_HOURS))],
    )?;
    session_event(conn, ctx, EventType::UserSignedIn, user_id, method)?;
    Ok(csrf)
}

fn session_event(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    kind: EventType,
    user_id: &str,
    method: &str,
) -> Result<()> {
    let customer_id = conn
        .query_opt(
            "SELECT customer_id FROM users WHERE id = $1",
            params![user_id],
        )?
        .and_then(|r| r.opt_text(0));
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: "user",
            aggregate_id: user_id,
            order_id: None,
            customer_id: customer_id.as_deref(),
            data: serde_json::json!({ "method": method }),
        },
    )
}

/// The session a cookie names, if it is current and its user is active.
pub fn find(conn: &mut dyn Conn, token: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let row = conn.query_opt(
        &format!(
            "SELECT {cols}, s.csrf_token, s.expires_at FROM web_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        ),
        params![hash_secret(token), stamp(now)],
    )?;
    Ok(row.and_then(|r| {
        from_row(&r).map(|user| Session {
            user,
            csrf: r.text(8),
            expires_at: r.text(9),
        })
    }))
}

/// Ends the session `token` names (signing out), on the event log.
pub fn end_in_tx(conn: &mut dyn Conn, ctx: &Ctx, token: &str) -> Result<()> {
    let row = conn.query_opt(
        "SELECT user_id FROM web_sessions WHERE token_hash = $1",
        params![hash_secret(token)],
    )?;
    conn.execute(
        "DELETE FROM web_sessions WHERE token_hash = $1",
        params![hash_secret(token)],
    )?;
    if let Some(r) = row {
        session_event(conn, ctx, EventType::UserSignedOut, &r.text(0), "sign_out")?;
    }
    Ok(())
}

pub fn end_all_for_user_in_tx(conn: &mut dyn Conn, user_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM web_sessions WHERE user_id = $1",
        params![user_id],
    )?;
    Ok(())
}

/// When an account may try again from this address, if it is locked out now.
pub fn locked_until(
    conn: &mut dyn Conn,
    account: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let row = conn.query_opt(
        "SELECT failures, first_failed_at FROM sign_in_throttle WHERE account = $1 AND ip = $2",
        params![account.trim().to_lowercase(), ip],
    )?;
    Ok(row.and_then(|r| {
        let first = DateTime::parse_from_rfc3339(&r.text(1))
            .ok()?
            .with_timezone(&Utc);
        let until = first + Duration::minutes(THROTTLE_MINUTES);
        (r.int(0) >= MAX_FAILURES && until > now).then_some(until)
    }))
}

/// Counts a failed sign-in; a series older than the throttle window starts again at one.
pub fn record_failure_in_tx(conn: &mut dyn Conn, ctx: &Ctx, account: &str, ip: &str) -> Result<()> {
    let account = account.trim().to_lowercase();
    let window_start = stamp(ctx.now - Duration::minutes(THROTTLE_MINUTES));
    let updated = conn.execute(
        "UPDATE sign_in_throttle SET
             failures = CASE WHEN first_failed_at <= $3 THEN 1 ELSE failures + 1 END,
             first_failed_at = CASE WHEN first_failed_at <= $3 THEN $4 ELSE first_failed_at END
         WHERE account = $1 AND ip = $2",
        params![account.as_str(), ip, window_start, ctx.timestamp()],
    )?;
    if updated == 0 {
        conn.execute(
            "INSERT INTO sign_in_throttle (account, ip, failures, first_failed_at) VALUES ($1, $2, 1, $3)",
            params![account.as_str(), ip, ctx.timestamp()],
        )?;
    }
    Ok(())
}

pub fn clear_failures_in_tx(conn: &mut dyn Conn, account: &str, ip: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM sign_in_throttle WHERE account = $1 AND ip = $2",
        params![account.trim().to_lowercase(), ip],
    )?;
    Ok(())
}

/// A one-time sign-in link for `user_id` (the token goes in the link; its hash is stored).
pub fn create_link_in_tx(conn: &mut dyn Conn, ctx: &Ctx, user_id: &str, token: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sign_in_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        params![hash_secret(token), user_id, ctx.timestamp(),
                stamp(ctx.now + Duration::hours(LINK_HOURS))],
    )?;
    Ok(())
}

/// Uses a sign-in link: its user, once, while it is valid and the user is active.
pub fn redeem_link_in_tx(conn: &mut dyn Conn, ctx: &Ctx, token: &str) -> Result<Option<User>> {
    let hash = hash_secret(token);
    let row = conn.query_opt(
        &format!("SELECT user_id FROM sign_in_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2{}", conn.for_update()),
        params![hash.as_str(), ctx.timestamp()],
    )?;
    let Some(row) = row else { return Ok(None) };
    conn.execute(
        "UPDATE sign_in_links SET used_at = $1 WHERE token_hash = $2",
        params![ctx.timestamp(), hash.as_str()],
    )?;
    let user = super::get(conn, &row.text(0))?;
    Ok(user.active.then_some(user))
}
