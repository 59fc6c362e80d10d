//! The documents table: each document stored as it came (text, or base64 when it is not
//! UTF-8), then what became of it: its status, the reasons it waits, the orders it placed and
//! the acknowledgment that answers it.

use super::resolve::Parsed;
use super::{Channel, IntakeError};
use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use o2c_core::id::IntakeDocumentId;
use o2c_core::intake::{DocumentStatus, IntakeAction};
use o2c_store::{Conn, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

/// One order a document asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentOrder {
    pub po_number: String,
    pub customer_id: String,
    pub order_id: String,
    /// False when the customer had ordered this PO before (through any channel): nothing new
    /// was placed for it.
    pub placed: bool,
    /// The intake document that placed the order, when it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
}

/// The raw document as it was received.
#[derive(Debug, Clone, Serialize)]
pub struct Content {
    /// `text` (UTF-8, as received) or `base64`.
    pub encoding: String,
    pub data: String,
}

/// A document and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: String,
    pub channel: Channel,
    /// The partner: `qualifier:id` of the interchange sender (EDI), known once it is read;
    /// for a CSV file, who uploaded it.
    pub sender: Option<String>,
    /// A file name, or `api`.
    pub source: String,
    pub received_at: String,
    pub received_by: String,
    pub sha256: String,
    /// `received`, `ordered`, `exception`, `duplicate` or `rejected`.
    pub status: String,
    /// For a duplicate: the document that was ordered.
    pub duplicate_of: Option<String>,
    pub errors: Vec<IntakeError>,
    pub warnings: Vec<String>,
    pub orders: Vec<DocumentOrder>,
    /// Whether an acknowledgment (X12 855) is kept: `GET …/ack`.
    pub acknowledgment: bool,
    /// Why there is none, or what it could not say.
    pub acknowledgment_note: Option<String>,
    /// How often it was processed (1 + replays).
    pub attempts: i64,
    pub processed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
}

/// A line of the queue.
pub type DocumentSummary = Document;

/// A stored document, as processing needs it.
pub(crate) struct Stored {
    pub id: String,
    pub channel: Channel,
    pub status: DocumentStatus,
    content: String,
    encoding: String,
}

impl Stored {
    /// The bytes as they were received.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        match self.encoding.as_str() {
            "text" => Ok(self.content.clone().into_bytes()),
            _ => BASE64
                .decode(&self.content)
                .map_err(|e| AppError::Internal(format!("document {}: {e}", self.id))),
        }
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Stores a document as received, before anything reads it; returns its id.
pub fn store_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    channel: Channel,
    bytes: &[u8],
    source: &str,
) -> Result<String> {
    let id = IntakeDocumentId::generate(ctx.ids.as_ref());
    let (encoding, content) = match std::str::from_utf8(bytes) {
        Ok(text) => ("text", text.to_string()),
        Err(_) => ("base64", BASE64.encode(bytes)),
    };
    let sha = sha256_hex(bytes);
    // A CSV file is sent by whoever uploads it; an interchange names its sender, read later.
    let sender = (channel == Channel::Csv).then(|| ctx.actor.to_string());
    conn.execute(
        "INSERT INTO intake_documents (id, channel, sender, source, received_at, received_by, content, content_encoding, sha256, status, errors, warnings, orders)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', '[]', '[]', '[]')",
        params![
            id.as_str(),
            channel.as_str(),
            sender,
            source,
            ctx.timestamp(),
            ctx.actor.to_string(),
            content,
            encoding,
            sha.as_str()
        ],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::IntakeDocumentReceived,
            aggregate_type: "intake_document",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: None,
            data: json!({"channel": channel, "source": source, "sha256": sha, "bytes": bytes.len()}),
        },
    )?;
    Ok(id.to_string())
}

/// The document, locked for the rest of the transaction on PostgreSQL.
pub(crate) fn load_for_update(conn: &mut dyn Conn, id: &str) -> Result<Stored> {
    let sql = format!(
        "SELECT id, channel, status, content, content_encoding FROM intake_documents WHERE id = $1{}",
        conn.for_update()
    );
    let r = conn
        .query_opt(&sql, params![id])?
        .ok_or_else(|| not_found("intake document", id))?;
    Ok(Stored {
        id: r.text(0),
        channel: Channel::parse(&r.text(1))
            .ok_or_else(|| AppError::Internal(format!("document {id}: unknown channel")))?,
        status: DocumentStatus::parse(&r.text(2))
            .ok_or_else(|| AppError::Internal(format!("document {id}: unknown status")))?,
        content: r.text(3),
        encoding: r.text(4),
    })
}

/// The ordered document that holds `key`, other than `id`.
pub(crate) fn ordered_with_key(conn: &mut dyn Conn, key: &str, id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_opt(
            "SELECT id FROM intake_documents WHERE dedupe_key = $1 AND status = 'ordered' AND id <> $2",
            params![key, id],
        )?
        .map(|r| r.text(0)))
}

/// What processing decided, for [`finish`].
pub(crate) struct Outcome {
    action: IntakeAction,
    sender: Option<String>,
    dedupe_key: Option<String>,
    errors: Vec<IntakeError>,
    warnings: Vec<String>,
    orders: Vec<DocumentOrder>,
    duplicate_of: Option<String>,
    acknowledgment: Option<String>,
    acknowledgment_note: Option<String>,
}

impl Outcome {
    pub fn new(action: IntakeAction) -> Outcome {
        Outcome {
            action,
            sender: None,
            dedupe_key: None,
            errors: Vec::new(),
            warnings: Vec::new(),
            orders: Vec::new(),
            duplicate_of: None,
            acknowledgment: None,
            acknowledgment_note: None,
        }
    }
    pub fn parsed(mut self, p: &Parsed) -> Outcome {
        self.sender = p.sender.clone();
        self.dedupe_key = Some(p.dedupe_key.clone());
        self.warnings.extend(p.warnings.iter().cloned());
        self
    }
    pub fn with_errors(mut self, errors: Vec<IntakeError>) -> Outcome {
        self.errors = errors;
        self
    }
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Outcome {
        for w in warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        self
    }
    pub fn with_orders(mut self, orders: Vec<DocumentOrder>) -> Outcome {
        self.orders = orders;
        self
    }
    pub fn with_acknowledgment(mut self, ack: (Option<String>, Option<String>)) -> Outcome {
        (self.acknowledgment, self.acknowledgment_note) = ack;
        self
    }
    pub fn duplicate_of(mut self, original: String) -> Outcome {
        self.duplicate_of = Some(original);
        self
    }
}

/// Records what became of a document and says so on the audit trail. A document that was
/// ordered closes the parked copies of itself (the same dedupe key): they are duplicates now.
pub(crate) fn finish(conn: &mut dyn Conn, ctx: &Ctx, doc: &Stored, o: Outcome) -> Result<Document> {
    let next = doc.status.transition(&doc.id, o.action)?;
    let (ack, note) = match (&o.duplicate_of, o.acknowledgment.is_none()) {
        (Some(original), true) => copy_acknowledgment(conn, original)?,
        _ => (o.acknowledgment.clone(), o.acknowledgment_note.clone()),
    };
    let orders = match (&o.duplicate_of, o.orders.is_empty()) {
        (Some(original), true) => get(conn, original, false)?
            .orders
            .into_iter()
            .map(|mut order| {
                order.placed = false;
                order.document_id.get_or_insert_with(|| original.clone());
                order
            })
            .collect(),
        _ => o.orders.clone(),
    };
    conn.execute(
        "UPDATE intake_documents SET status = $2, sender = COALESCE($3, sender), dedupe_key = COALESCE($4, dedupe_key),
                duplicate_of = $5, errors = $6, warnings = $7, orders = $8, acknowledgment = $9, acknowledgment_note = $10,
                attempts = attempts + 1, processed_at = $11, processed_by = $12
         WHERE id = $1",
        params![
            doc.id.as_str(),
            next.as_str(),
            o.sender.as_deref(),
            o.dedupe_key.as_deref(),
            o.duplicate_of.as_deref(),
            serde_json::to_string(&o.errors)?,
            serde_json::to_string(&o.warnings)?,
            serde_json::to_string(&orders)?,
            ack.as_deref(),
            note.as_deref(),
            ctx.timestamp(),
            ctx.actor.to_string()
        ],
    )?;
    let kind = match next {
        DocumentStatus::Ordered => EventType::IntakeDocumentOrdered,
        DocumentStatus::Exception => EventType::IntakeDocumentParked,
        DocumentStatus::Duplicate => EventType::IntakeDocumentDuplicate,
        DocumentStatus::Rejected | DocumentStatus::Received => EventType::IntakeDocumentRejected,
    };
    let data = json!({"status": next.as_str(), "errors": o.errors, "orders": orders, "duplicate_of": o.duplicate_of});
    emit(conn, ctx, &doc.id, kind, &data)?;
    if let (DocumentStatus::Ordered, Some(key)) = (next, &o.dedupe_key) {
        supersede_parked_copies(conn, ctx, &doc.id, key)?;
    }
    get(conn, &doc.id, false)
}

fn emit(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    id: &str,
    kind: EventType,
    data: &serde_json::Value,
) -> Result<()> {
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: "intake_document",
            aggregate_id: id,
            order_id: None,
            customer_id: None,
            data,
        },
    )
}

fn supersede_parked_copies(conn: &mut dyn Conn, ctx: &Ctx, id: &str, key: &str) -> Result<()> {
    let copies = conn.query(
        "SELECT id FROM intake_documents WHERE dedupe_key = $1 AND status = 'exception' AND id <> $2",
        params![key, id],
    )?;
    for copy in copies {
        let copy = copy.text(0);
        conn.execute(
            "UPDATE intake_documents SET status = 'duplicate', duplicate_of = $2, processed_at = $3, processed_by = $4 WHERE id = $1",
            params![copy.as_str(), id, ctx.timestamp(), ctx.actor.to_string()],
        )?;
        let data = json!({"status": "duplicate", "duplicate_of": id, "reason": "a copy of it was ordered"});
        emit(conn, ctx, &copy, EventType::IntakeDocumentDuplicate, &data)?;
    }
    Ok(())
}

fn copy_acknowledgment(
    conn: &mut dyn Conn,
    original: &str,
) -> Result<(Option<String>, Option<String>)> {
    let r = conn.query_opt(
        "SELECT acknowledgment, acknowledgment_note FROM intake_documents WHERE id = $1",
        params![original],
    )?;
    Ok(r.map_or((None, None), |r| (r.opt_text(0), r.opt_text(1))))
}

const COLUMNS: &str = "id, channel, sender, source, received_at, received_by, sha256, status, duplicate_of, errors, warnings, orders, \
                       acknowledgment IS NOT NULL, acknowledgment_note, attempts, processed_at";

fn from_row(r: &Row) -> Result<Document> {
    Ok(Document {
        id: r.text(0),
        channel: Channel::parse(&r.text(1))
            .ok_or_else(|| AppError::Internal("intake document with unknown channel".into()))?,
        sender: r.opt_text(2),
        source: r.text(3),
        received_at: r.text(4),
        received_by: r.text(5),
        sha256: r.text(6),
        status: r.text(7),
        duplicate_of: r.opt_text(8),
        errors: serde_json::from_str(&r.text(9))?,
        warnings: serde_json::from_str(&r.text(10))?,
        orders: serde_json::from_str(&r.text(11))?,
        acknowledgment: r.int(12) != 0,
        acknowledgment_note: r.opt_text(13),
        attempts: r.int(14),
        processed_at: r.opt_text(15),
        content: None,
    })
}

/// One document; with `content`, the raw document too.
pub fn get(conn: &mut dyn Conn, id: &str, content: bool) -> Result<Document> {
    let r = conn
        .query_opt(
            &format!(
                "SELECT {COLUMNS}, content_encoding, content FROM intake_documents WHERE id = $1"
            ),
            params![id],
        )?
        .ok_or_else(|| not_found("intake document", id))?;
    let mut doc = from_row(&r)?;
    if content {
        doc.content = Some(Content {
            encoding: r.text(16),
            data: r.text(17),
        });
    }
    Ok(doc)
}

/// Documents in `status` (all when `None`), newest first.
pub fn list(
    conn: &mut dyn Conn,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<DocumentSummary>> {
    if let Some(s) = status.filter(|s| DocumentStatus::parse(s).is_none()) {
        return Err(o2c_core::DomainError::invalid(
            "status",
            format!("`{s}`: expected received, ordered, exception, duplicate or rejected"),
        )
        .into());
    }
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM intake_documents WHERE (CAST($1 AS TEXT) IS NULL OR status = $1)
             ORDER BY received_at DESC, id DESC LIMIT $2 OFFSET $3"
        ),
        params![status, limit, offset],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// The acknowledgment kept for a document (an X12 855), or why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct Acknowledgment {
    pub text: Option<String>,
    pub note: String,
}

pub fn acknowledgment(conn: &mut dyn Conn, id: &str) -> Result<Acknowledgment> {
    let r = conn
        .query_opt(
            "SELECT acknowledgment, acknowledgment_note, status FROM intake_documents WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("intake document", id))?;
    let note = match r.opt_text(1) {
        Some(note) => note,
        None => format!("document {id} is {}: nothing was acknowledged", r.text(2)),
    };
    Ok(Acknowledgment {
        text: r.opt_text(0),
        note,
    })
}
