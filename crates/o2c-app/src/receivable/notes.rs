//! Contact notes (every call, e-mail or letter with a customer about money) and the collector's
//! tasks (follow-ups, broken promises, accounts handed to collection).

use super::{emit, parse_day};
use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::EventType;
use chrono::NaiveDate;
use o2c_core::DomainError;
use o2c_core::id::{CollectionTaskId, ContactNoteId};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

const CHANNELS: &[&str] = &["phone", "email", "letter", "meeting", "portal", "other"];

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// phone, email, letter, meeting, portal or other.
    pub channel: String,
    pub note: String,
    #[serde(default)]
    pub invoice_id: Option<String>,
    /// Opens a follow-up task for that day.
    #[serde(default)]
    pub follow_up_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub id: String,
    pub customer_id: String,
    pub invoice_id: Option<String>,
    pub channel: String,
    pub note: String,
    pub follow_up_on: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

pub fn add_in_tx(conn: &mut dyn Conn, ctx: &Ctx, customer_id: &str, n: &NewNote) -> Result<Note> {
    crate::customer::get(conn, customer_id)?;
    if !CHANNELS.contains(&n.channel.as_str()) {
        return Err(DomainError::invalid(
            "channel",
            format!("`{}`: expected one of {}", n.channel, CHANNELS.join(", ")),
        )
        .into());
    }
    if n.note.trim().is_empty() {
        return Err(DomainError::invalid("note", "say what was agreed or said").into());
    }
    if let Some(inv) = &n.invoice_id {
        let owner = conn
            .query_opt(
                "SELECT customer_id FROM invoices WHERE id = $1",
                params![inv.as_str()],
            )?
            .ok_or_else(|| not_found("invoice", inv))?;
        if owner.text(0) != customer_id {
            return Err(DomainError::invalid(
                "invoice_id",
                "the invoice belongs to another customer",
            )
            .into());
        }
    }
    let follow = n
        .follow_up_on
        .as_deref()
        .map(|d| parse_day("follow_up_on", d))
        .transpose()?;
    let id = ContactNoteId::generate(ctx.ids.as_ref());
    let opt = |v: Option<String>| v.map(Value::from).unwrap_or(Value::Null);
    conn.execute(
        "INSERT INTO contact_notes (id, customer_id, invoice_id, channel, note, follow_up_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[id.as_str().into(), customer_id.into(), opt(n.invoice_id.clone()), n.channel.as_str().into(), n.note.trim().into(),
          opt(follow.map(|d| d.to_string())), ctx.actor.to_string().into(), ctx.timestamp().into()],
    )?;
    emit(
        conn,
        ctx,
        EventType::ContactNoted,
        ("customer", customer_id),
        customer_id,
        json!({"note_id": id, "channel": n.channel, "invoice_id": n.invoice_id, "follow_up_on": follow.map(|d| d.to_string())}),
    )?;
    if let Some(day) = follow {
        open_task_in_tx(
            conn,
            ctx,
            customer_id,
            "follow_up",
            &format!("follow up: {}", n.note.trim()),
            Some(id.as_str()),
            day,
        )?;
    }
    Ok(Note {
        id: id.as_str().to_string(),
        customer_id: customer_id.to_string(),
        invoice_id: n.invoice_id.clone(),
        channel: n.channel.clone(),
        note: n.note.trim().to_string(),
        follow_up_on: follow.map(|d| d.to_string()),
        created_by: ctx.actor.to_string(),
        created_at: ctx.timestamp(),
    })
}

pub fn list(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<Note>> {
    Ok(conn
        .query(
            "SELECT id, customer_id, invoice_id, channel, note, follow_up_on, created_by, created_at FROM contact_notes WHERE customer_id = $1 ORDER BY created_at, id",
            params![customer_id],
        )?
        .iter()
        .map(|r| Note {
            id: r.text(0),
            customer_id: r.text(1),
            invoice_id: r.opt_text(2),
            channel: r.text(3),
            note: r.text(4),
            follow_up_on: r.opt_text(5),
            created_by: r.text(6),
            created_at: r.text(7),
        })
        .collect())
}

/// Opens a task for the collector; once per kind and source (a replay finds the first).
pub fn open_task_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    kind: &str,
    reason: &str,
    source_id: Option<&str>,
    due_on: NaiveDate,
) -> Result<Option<String>> {
    if let Some(src) = source_id
        && conn
            .query_opt(
                "SELECT id FROM collection_tasks WHERE kind = $1 AND source_id = $2",
                params![kind, src],
            )?
            .is_some()
    {
        return Ok(None);
    }
    let id = CollectionTaskId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO collection_tasks (id, customer_id, kind, reason, source_id, due_on, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)",
        &[id.as_str().into(), customer_id.into(), kind.into(), reason.into(), source_id.map(Value::from).unwrap_or(Value::Null), due_on.to_string().into(), ctx.timestamp().into()],
    )?;
    emit(
        conn,
        ctx,
        EventType::CollectionTaskOpened,
        ("collection_task", id.as_str()),
        customer_id,
        json!({"kind": kind, "reason": reason, "source_id": source_id, "due_on": due_on.to_string()}),
    )?;
    Ok(Some(id.as_str().to_string()))
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: String,
    pub customer_id: String,
    pub kind: String,
    pub reason: String,
    pub source_id: Option<String>,
    pub due_on: String,
    pub status: String,
    pub created_at: String,
}

pub fn tasks(
    conn: &mut dyn Conn,
    customer_id: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<Task>> {
    Ok(conn
        .query(
            "SELECT id, customer_id, kind, reason, source_id, due_on, status, created_at FROM collection_tasks
             WHERE ($1 = '' OR customer_id = $1) AND ($2 = '' OR status = $2) ORDER BY due_on, id LIMIT 1000",
            params![customer_id.unwrap_or(""), status.unwrap_or("")],
        )?
        .iter()
        .map(|r| Task {
            id: r.text(0),
            customer_id: r.text(1),
            kind: r.text(2),
            reason: r.text(3),
            source_id: r.opt_text(4),
            due_on: r.text(5),
            status: r.text(6),
            created_at: r.text(7),
        })
        .collect())
}

pub fn complete_task_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str) -> Result<()> {
    let r = conn
        .query_opt(
            "SELECT customer_id, status FROM collection_tasks WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("collection task", id))?;
    if r.text(1) != "open" {
        return Ok(());
    }
    conn.execute(
        "UPDATE collection_tasks SET status = 'done', done_at = $2, done_by = $3 WHERE id = $1",
        params![id, ctx.timestamp(), ctx.actor.to_string()],
    )?;
    emit(
        conn,
        ctx,
        EventType::CollectionTaskDone,
        ("collection_task", id),
        &r.text(0),
        json!({}),
    )
}
