//! Bank lines that are not customers' payments but the settlement of money o2c already booked:
//! the credit for a SEPA direct-debit collection file, which clears "Direct debits in
//! collection" (1020), and a payment provider's payout, which clears "PSP clearing" (1010).
//! Such a line is never matched to invoices a second time.

use super::run::Line;
use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use crate::{fx, ledger};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde_json::json;

/// What a bank line settles instead of paying invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settles {
    Collection(String),
    Payout(String),
}

impl Settles {
    /// The collection file's or the payout's id.
    pub fn id(&self) -> &str {
        match self {
            Settles::Collection(id) | Settles::Payout(id) => id,
        }
    }
}

/// Money o2c has booked and waits to see arrive at the bank.
pub struct Expected {
    pub collections: Vec<OpenCollection>,
    pub payouts: Vec<OpenPayout>,
}

pub fn expected(conn: &mut dyn Conn) -> Result<Expected> {
    Ok(Expected {
        collections: open_collections(conn)?,
        payouts: open_payouts(conn)?,
    })
}

impl Expected {
    pub fn is_empty(&self) -> bool {
        self.collections.is_empty() && self.payouts.is_empty()
    }

    /// What `line` settles, if anything; `taken` holds what earlier lines of the run settled.
    pub fn settled_by(
        &self,
        taken: &std::collections::HashSet<String>,
        line: &Line,
    ) -> Option<Settles> {
        if let Some(c) = collection_for(&self.collections, taken, line) {
            return Some(Settles::Collection(c.id.clone()));
        }
        payout_for(&self.payouts, taken, line).map(|p| Settles::Payout(p.id.clone()))
    }
}

/// A provider's payout whose money has not arrived yet.
pub struct OpenPayout {
    pub id: String,
    pub provider: String,
    pub payout_ref: String,
    pub amount_minor: i64,
    pub currency: String,
}

pub fn open_payouts(conn: &mut dyn Conn) -> Result<Vec<OpenPayout>> {
    Ok(conn
        .query(
            "SELECT id, provider, payout_ref, amount_minor, currency FROM psp_payouts WHERE settled_by_line IS NULL",
            params![],
        )?
        .iter()
        .map(|r| OpenPayout {
            id: r.text(0),
            provider: r.text(1),
            payout_ref: r.text(2),
            amount_minor: r.int(3),
            currency: r.text(4),
        })
        .collect())
}

/// The payout a line brings: its amount and currency, and its payout id in the line's text.
/// Unlike a collection file, a payout is never taken on its amount alone: a customer's payment
/// of the same amount must not clear it.
pub fn payout_for<'a>(
    open: &'a [OpenPayout],
    taken: &std::collections::HashSet<String>,
    line: &Line,
) -> Option<&'a OpenPayout> {
    let p = &line.payment;
    open.iter()
        .filter(|o| o.amount_minor == p.amount.minor() && o.currency == p.amount.currency().code())
        .filter(|o| !taken.contains(&o.id))
        .find(|o| {
            p.remittance
                .iter()
                .chain(p.end_to_end_id.iter())
                .chain(std::iter::once(&line.bank_reference))
                .any(|t| t.contains(&o.payout_ref))
        })
}

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

/// Books a line as what it settles (unless either was settled meanwhile).
pub fn settle_in_tx(conn: &mut dyn Conn, ctx: &Ctx, line_id: &str, what: &Settles) -> Result<bool> {
    match what {
        Settles::Collection(id) => settle_collection_in_tx(conn, ctx, line_id, id),
        Settles::Payout(id) => settle_payout_in_tx(conn, ctx, line_id, id),
    }
}

/// The line's amount at its rate, if it still waits for a decision (unmatched, or parked in the
/// exceptions queue before the money it settles was announced).
fn waiting_line(
    conn: &mut dyn Conn,
    line_id: &str,
) -> Result<Option<(Money, o2c_core::fx::FxRate)>> {
    let Some(line) = conn.query_opt(
        "SELECT amount_minor, currency, fx_rate FROM bank_transactions WHERE id = $1 AND match_status IN ('unmatched', 'exception')",
        params![line_id],
    )?
    else {
        return Ok(None);
    };
    let amount = Money::new(line.int(0), Currency::parse(&line.text(1))?);
    Ok(Some((amount, fx::stored(line.opt_text(2))?)))
}

fn mark_cleared(conn: &mut dyn Conn, ctx: &Ctx, line_id: &str, reason: &str) -> Result<()> {
    conn.execute(
        "UPDATE bank_transactions SET match_status = 'cleared', reason = $2, suggestions = NULL, decided_by = $3, decided_at = $4 WHERE id = $1",
        params![line_id, reason, ctx.actor.to_string(), ctx.timestamp()],
    )?;
    Ok(())
}

fn settle_payout_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    line_id: &str,
    payout_id: &str,
) -> Result<bool> {
    let payout = conn.query_opt(
        "SELECT provider, payout_ref FROM psp_payouts WHERE id = $1 AND settled_by_line IS NULL",
        params![payout_id],
    )?;
    let (Some((amount, rate)), Some(payout)) = (waiting_line(conn, line_id)?, payout) else {
        return Ok(false);
    };
    let functional = fx::functional_currency(conn)?;
    let entry =
        o2c_core::ledger::psp_paid_out(line_id, amount)?.translate(functional, rate, &[])?;
    ledger::post(conn, ctx, &entry, None)?;
    let reason = format!(
        "payout {} of payment provider {}",
        payout.text(1),
        payout.text(0)
    );
    mark_cleared(conn, ctx, line_id, &reason)?;
    conn.execute(
        "UPDATE psp_payouts SET settled_by_line = $2 WHERE id = $1",
        params![payout_id, line_id],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PayoutSettled,
            aggregate_type: "psp_payout",
            aggregate_id: payout_id,
            order_id: None,
            customer_id: None,
            data: json!({"bank_transaction_id": line_id, "amount": amount, "payout_id": payout.text(1), "provider": payout.text(0)}),
        },
    )?;
    Ok(true)
}

/// Books a line as the settlement of a collection (unless either was settled meanwhile).
fn settle_collection_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    line_id: &str,
    collection_id: &str,
) -> Result<bool> {
    let collection = conn.query_opt(
        "SELECT message_id FROM sepa_collections WHERE id = $1 AND settled_by_line IS NULL",
        params![collection_id],
    )?;
    let (Some((amount, rate)), Some(collection)) = (waiting_line(conn, line_id)?, collection)
    else {
        return Ok(false);
    };
    let functional = fx::functional_currency(conn)?;
    let entry =
        o2c_core::ledger::collection_settled(line_id, amount)?.translate(functional, rate, &[])?;
    ledger::post(conn, ctx, &entry, None)?;
    let reason = format!(
        "the bank's credit for SEPA collection {}",
        collection.text(0)
    );
    mark_cleared(conn, ctx, line_id, &reason)?;
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
