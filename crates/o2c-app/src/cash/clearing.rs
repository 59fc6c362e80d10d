//! Bank lines that are not customers' payments but the settlement of money o2c already booked:
//! the credit for a SEPA direct-debit collection file. Such a line clears "Direct debits in
//! collection" (1020) instead of being matched to invoices a second time.

use super::run::Line;
use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use crate::{fx, ledger};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde_json::json;

/// A collection file whose money has not arrived yet.
pub struct OpenCollection {
    pub id: String,
    pub message_id: String,
    pub total_minor: i64,
    pub currency: String,
}

pub fn open_collections(conn: &mut dyn Conn) -> Result<Vec<OpenCollection>> {
    Ok(conn
        .query(
            "SELECT id, message_id, total_minor, currency FROM sepa_collections WHERE settled_by_line IS NULL",
            params![],
        )?
        .iter()
        .map(|r| OpenCollection {
            id: r.text(0),
            message_id: r.text(1),
            total_minor: r.int(2),
            currency: r.text(3),
        })
        .collect())
}

/// The collection a line settles: its total and currency, and its message id on the line or,
/// failing that, the only open collection of that total. Collections in `taken` are already
/// settled by an earlier line of the run.
pub fn collection_for<'a>(
    open: &'a [OpenCollection],
    taken: &std::collections::HashSet<String>,
    line: &Line,
) -> Option<&'a OpenCollection> {
    let p = &line.payment;
    let same: Vec<&OpenCollection> = open
        .iter()
        .filter(|c| c.total_minor == p.amount.minor() && c.currency == p.amount.currency().code())
        .filter(|c| !taken.contains(&c.id))
        .collect();
    let named = same.iter().find(|c| {
        p.remittance
            .iter()
            .chain(p.end_to_end_id.iter())
            .chain(std::iter::once(&line.bank_reference))
            .any(|t| t.contains(&c.message_id))
    });
    match named {
        Some(c) => Some(c),
        None if same.len() == 1 => Some(same[0]),
        None => None,
    }
}

/// Books a line as the settlement of a collection (unless either was settled meanwhile).
pub fn settle_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    line_id: &str,
    collection_id: &str,
) -> Result<bool> {
    let line = conn.query_opt(
        "SELECT amount_minor, currency, fx_rate FROM bank_transactions WHERE id = $1 AND match_status = 'unmatched'",
        params![line_id],
    )?;
    let collection = conn.query_opt(
        "SELECT message_id FROM sepa_collections WHERE id = $1 AND settled_by_line IS NULL",
        params![collection_id],
    )?;
    let (Some(line), Some(collection)) = (line, collection) else {
        return Ok(false);
    };
    let amount = Money::new(line.int(0), Currency::parse(&line.text(1))?);
    let functional = fx::functional_currency(conn)?;
    let rate = fx::stored(line.opt_text(2))?;
    let entry =
        o2c_core::ledger::collection_settled(line_id, amount)?.translate(functional, rate, &[])?;
    ledger::post(conn, ctx, &entry, None)?;
    let reason = format!(
        "the bank's credit for SEPA collection {}",
        collection.text(0)
    );
    conn.execute(
        "UPDATE bank_transactions SET match_status = 'cleared', reason = $2, decided_by = $3, decided_at = $4 WHERE id = $1",
        params![line_id, reason.as_str(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    conn.execute(
        "UPDATE sepa_collections SET settled_by_line = $2 WHERE id = $1",
        params![collection_id, line_id],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CollectionSettled,
            aggregate_type: "sepa_collection",
            aggregate_id: collection_id,
            order_id: None,
            customer_id: None,
            data: json!({"bank_transaction_id": line_id, "amount": amount, "message_id": collection.text(0)}),
        },
    )?;
    Ok(true)
}
