//! Order intake from files and EDI: CSV order files, X12 850 purchase orders (answered by an
//! 855) and EDIFACT ORDERS, each turned into the same canonical [`OrderRequest`]s the API
//! places.
//!
//! Nothing lost: a document is stored, raw, in its own small transaction before it is parsed
//! ([`receive`]), so a crash between the two leaves it `received`, to be processed by a replay.
//! Then, in one transaction ([`process_in_tx`]): parse, map every order to customers and
//! products, place all of the document's orders or none, record what became of the document.
//! A document that cannot be ordered goes to the exceptions queue with every reason found,
//! each naming its segment and element or CSV line and column; after the master data is fixed
//! (partner ids, item cross-references, products, prices) it is replayed.
//!
//! Nothing doubled: a re-sent document (same channel, sender and interchange control number, or
//! the same CSV file) is recognised by its dedupe key, which is unique among ordered documents;
//! a PO number the customer already ordered (through any channel) is never ordered again.

pub mod csv;
pub mod documents;
pub mod edi;
pub mod email;
pub mod exceptions;
pub mod mailbox;
mod place;
mod resolve;
pub mod xref;

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use crate::{App, billing};
use o2c_core::intake::IntakeAction;
use o2c_core::{Actor, DomainError, Percent};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};

pub use documents::{Document, DocumentOrder, DocumentSummary};

/// The way a document came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Csv,
    X12,
    Edifact,
    /// An e-mail message (`.eml`) carrying an order file or CSV lines in its body.
    Email,
    /// Orders placed through `POST /api/v1/orders` (kept by their idempotency key, not here).
    Api,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Csv => "csv",
            Channel::X12 => "x12",
            Channel::Edifact => "edifact",
            Channel::Email => "email",
            Channel::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Csv,
            Channel::X12,
            Channel::Edifact,
            Channel::Email,
            Channel::Api,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// The channel a file's content shows: an X12 interchange starts with `ISA`, an EDIFACT
    /// one with `UNA` or `UNB` (after a byte-order mark and white space); anything else is
    /// read as CSV.
    pub fn detect(bytes: &[u8]) -> Channel {
        let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let start = start.trim_ascii_start();
        if start.starts_with(b"ISA") {
            Channel::X12
        } else if start.starts_with(b"UNA") || start.starts_with(b"UNB") {
            Channel::Edifact
        } else {
            Channel::Csv
        }
    }
}

/// Why a document was not ordered, and where: `code` is stable (see the README's "Order
/// intake"), `at` names the segment and element or the CSV line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeError {
    pub code: String,
    pub at: String,
    pub message: String,
}

impl IntakeError {
    pub(crate) fn new(
        code: &str,
        at: impl Into<String>,
        message: impl Into<String>,
    ) -> IntakeError {
        IntakeError {
            code: code.to_string(),
            at: at.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for IntakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(f, "{} [{}]", self.message, self.code)
        } else {
            write!(f, "{}: {} [{}]", self.at, self.message, self.code)
        }
    }
}

/// How strictly intake checks what partners send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntakePolicy {
    /// How far a unit price in the document may be from the price the billing rules give
    /// before a person has to look: "2" = 2 %.
    pub price_tolerance: Percent,
}

impl Default for IntakePolicy {
    fn default() -> IntakePolicy {
        IntakePolicy {
            price_tolerance: Percent::from_basis_points(200),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakePolicyRequest {
    pub price_tolerance: String,
}

pub fn policy(conn: &mut dyn Conn) -> Result<IntakePolicy> {
    match conn.query_opt(
        "SELECT value FROM settings WHERE key = 'intake_policy'",
        &[],
    )? {
        Some(r) => {
            let stored: IntakePolicyRequest = serde_json::from_str(&r.text(0))?;
            Ok(IntakePolicy {
                price_tolerance: billing::tax::parse_percent(
                    "price_tolerance",
                    &stored.price_tolerance,
                )?,
            })
        }
        None => Ok(IntakePolicy::default()),
    }
}

pub fn set_policy_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &IntakePolicyRequest,
) -> Result<IntakePolicy> {
    let policy = IntakePolicy {
        price_tolerance: billing::tax::parse_percent("price_tolerance", &r.price_tolerance)?,
    };
    let stored = IntakePolicyRequest {
        price_tolerance: policy.price_tolerance.to_decimal_string(),
    };
    conn.execute("DELETE FROM settings WHERE key = 'intake_policy'", &[])?;
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('intake_policy', $1, $2)",
        params![serde_json::to_string(&stored)?, ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::IntakePolicyChanged,
            aggregate_type: "intake_policy",
            aggregate_id: "intake_policy",
            order_id: None,
            customer_id: None,
            data: &policy,
        },
    )?;
    Ok(policy)
}

/// Receives a document: stores it as it came (committed on its own), then processes it.
/// `source` names where it came from (a file name, `api`).
pub async fn receive(
    app: &App,
    actor: Actor,
    channel: Channel,
    bytes: Vec<u8>,
    source: String,
) -> Result<Document> {
    if channel == Channel::Api {
        return Err(DomainError::invalid(
            "channel",
            "API orders are placed with POST /api/v1/orders",
        )
        .into());
    }
    let id = app
        .write(actor.clone(), move |c, ctx| {
            documents::store_in_tx(c, ctx, channel, &bytes, &source)
        })
        .await?;
    process(app, actor, id).await
}

/// Processes every document stored but never processed (the process stopped between storing
/// and ordering): run once when `o2c serve` starts, so nothing received is left behind.
/// Returns how many were processed; one that fails stays for a person, with the error logged.
pub async fn sweep_received(app: &App) -> Result<usize> {
    let ids: Vec<String> = app
        .read(|c| {
            Ok(c.query(
                "SELECT id FROM intake_documents WHERE status = 'received' ORDER BY received_at, id",
                &[],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect())
        })
        .await?;
    let mut done = 0;
    for id in ids {
        match process(app, Actor::Rule("intake.sweep"), id.clone()).await {
            Ok(_) => done += 1,
            Err(e) => tracing::warn!(document = %id, error = %e, "received document not processed"),
        }
    }
    Ok(done)
}

/// Processes a stored document that is waiting (received, or parked as an exception): the
/// replay after master data was fixed.
pub async fn process(app: &App, actor: Actor, id: String) -> Result<Document> {
    app.write(actor, move |c, ctx| process_in_tx(c, ctx, &id))
        .await
}

/// Parses, maps and orders one stored document in the caller's transaction: every order of it
/// or none, together with its new status.
pub fn process_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str) -> Result<Document> {
    let doc = documents::load_for_update(conn, id)?;
    doc.status.transition(id, IntakeAction::Order)?;
    let bytes = doc.bytes()?;
    let parsed = match doc.channel {
        Channel::Csv => csv::read(&bytes),
        Channel::Email => email::read(conn, &bytes)?,
        Channel::X12 | Channel::Edifact | Channel::Api => edi::read(doc.channel, &bytes),
    };
    let parsed = match parsed {
        Ok(p) => p,
        // A sender o2c does not know yet waits for a person, like an unknown EDI partner.
        Err(errors) if errors.iter().all(|e| e.code == "unknown-sender") => {
            let outcome = documents::Outcome::new(IntakeAction::Park).with_errors(errors);
            return documents::finish(conn, ctx, &doc, outcome);
        }
        Err(errors) => {
            let outcome = documents::Outcome::new(IntakeAction::Reject).with_errors(errors);
            return documents::finish(conn, ctx, &doc, outcome);
        }
    };
    if let Some(original) = documents::ordered_with_key(conn, &parsed.dedupe_key, id)? {
        let outcome = documents::Outcome::new(IntakeAction::MarkDuplicate)
            .parsed(&parsed)
            .duplicate_of(original);
        return documents::finish(conn, ctx, &doc, outcome);
    }
    let policy = policy(conn)?;
    let plan = place::plan(conn, &parsed, &policy)?;
    if !plan.errors.is_empty() {
        let outcome = documents::Outcome::new(IntakeAction::Park)
            .parsed(&parsed)
            .with_warnings(plan.warnings)
            .with_errors(plan.errors);
        return documents::finish(conn, ctx, &doc, outcome);
    }
    if plan.to_place.is_empty() {
        let first = plan
            .already_ordered
            .first()
            .and_then(|o| o.document_id.clone());
        let ack = edi::acknowledge(conn, ctx, &parsed, &plan.already_ordered, true)?;
        let outcome = documents::Outcome::new(IntakeAction::MarkDuplicate)
            .parsed(&parsed)
            .with_orders(plan.already_ordered)
            .with_acknowledgment(ack);
        let outcome = match first {
            Some(original) => outcome.duplicate_of(original),
            None => outcome,
        };
        return documents::finish(conn, ctx, &doc, outcome);
    }
    match place::place_all(conn, ctx, &doc.id, &parsed, &plan)? {
        Err(errors) => {
            let outcome = documents::Outcome::new(IntakeAction::Park)
                .parsed(&parsed)
                .with_warnings(plan.warnings)
                .with_errors(errors);
            documents::finish(conn, ctx, &doc, outcome)
        }
        Ok(mut orders) => {
            orders.extend(plan.already_ordered);
            let ack = edi::acknowledge(conn, ctx, &parsed, &orders, true)?;
            let outcome = documents::Outcome::new(IntakeAction::Order)
                .parsed(&parsed)
                .with_warnings(plan.warnings)
                .with_orders(orders)
                .with_acknowledgment(ack);
            documents::finish(conn, ctx, &doc, outcome)
        }
    }
}
