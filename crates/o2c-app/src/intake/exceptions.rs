//! The intake exceptions queue: documents that wait for a person, with every reason. A person
//! fixes the master data and replays the document ([`super::process`]), or dismisses it: an
//! X12 sender then gets an 855 that rejects every line.

use super::documents::{self, Document, DocumentSummary, Outcome};
use super::{Channel, IntakeError, edi};
use crate::context::Ctx;
use crate::error::Result;
use o2c_core::intake::IntakeAction;
use o2c_store::Conn;
use serde::{Deserialize, Serialize};

/// The queue, oldest first: what has waited longest is looked at first.
pub fn list(conn: &mut dyn Conn, limit: i64, offset: i64) -> Result<Vec<DocumentSummary>> {
    let mut docs = documents::list(conn, Some("exception"), limit, offset)?;
    docs.reverse();
    Ok(docs)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DismissRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Rejects a waiting document for good: nothing is ordered; its reasons stay, with the
/// person's.
pub fn dismiss_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    id: &str,
    r: &DismissRequest,
) -> Result<Document> {
    let doc = documents::load_for_update(conn, id)?;
    doc.status.transition(id, IntakeAction::Reject)?;
    let mut errors = documents::get(conn, id, false)?.errors;
    errors.push(IntakeError::new(
        "dismissed",
        "",
        format!(
            "dismissed by {}{}",
            ctx.actor,
            r.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
    ));
    let bytes = doc.bytes()?;
    let parsed = match doc.channel {
        Channel::X12 | Channel::Edifact => edi::read(doc.channel, &bytes).ok(),
        Channel::Csv | Channel::Email | Channel::Api => None,
    };
    let mut outcome = Outcome::new(IntakeAction::Reject).with_errors(errors);
    if let Some(parsed) = parsed {
        let ack = edi::acknowledge(conn, ctx, &parsed, &[], false)?;
        outcome = outcome.with_acknowledgment(ack);
    }
    documents::finish(conn, ctx, &doc, outcome)
}
