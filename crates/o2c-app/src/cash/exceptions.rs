//! The exceptions queue: bank lines the matcher would not apply alone, and what a person does
//! with them. Every decision is an event, and teaches the payer's account.

use super::apply::{self, Part, Suggestion};
use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::{fx, ledger};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A bank line as the queue shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BankLine {
    pub id: String,
    pub status: String,
    pub amount: Money,
    pub value_date: String,
    pub counterparty_name: Option<String>,
    pub counterparty_account: Option<String>,
    pub end_to_end_id: Option<String>,
    pub bank_reference: Option<String>,
    pub remittance: Vec<String>,
    pub structured_references: Vec<String>,
    /// Why it was not applied automatically.
    pub reason: Option<String>,
    /// Ranked ways to settle it, best first; accept one by its index.
    pub suggestions: Vec<Suggestion>,
    pub customer_id: Option<String>,
    pub payment_id: Option<String>,
    pub score: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

const COLUMNS: &str = "id, match_status, amount_minor, currency, value_date, counterparty_name, counterparty_account, end_to_end_id, bank_reference, remittance, structured_refs, reason, suggestions, customer_id, payment_id, score, decided_by, decided_at";

fn from_row(r: &Row) -> Result<BankLine> {
    let cur = Currency::parse(&r.text(3))?;
    Ok(BankLine {
        id: r.text(0),
        status: r.text(1),
        amount: Money::new(r.int(2), cur),
        value_date: r.text(4),
        counterparty_name: r.opt_text(5),
        counterparty_account: r.opt_text(6),
        end_to_end_id: r.opt_text(7),
        bank_reference: r.opt_text(8),
        remittance: r
            .text(9)
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        structured_references: serde_json::from_str(&r.text(10)).unwrap_or_default(),
        reason: r.opt_text(11),
        suggestions: r
            .opt_text(12)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        customer_id: r.opt_text(13),
        payment_id: r.opt_text(14),
        score: r.opt_int(15),
        decided_by: r.opt_text(16),
        decided_at: r.opt_text(17),
    })
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<BankLine> {
    let r = conn
        .query_opt(
            &format!("SELECT {COLUMNS} FROM bank_transactions WHERE id = $1"),
            params![id],
        )?
        .ok_or_else(|| not_found("bank line", id))?;
    from_row(&r)
}

/// Bank lines by status (`exception` is the queue; also `unmatched`, `applied`, `not_ours`,
/// `outgoing`), oldest value date first.
pub fn list(conn: &mut dyn Conn, status: &str, limit: i64, offset: i64) -> Result<Vec<BankLine>> {
    const STATUSES: &[&str] = &[
        "exception",
        "unmatched",
        "applied",
        "not_ours",
        "outgoing",
        "cleared",
        "returned",
    ];
    if !STATUSES.contains(&status) {
        return Err(DomainError::invalid(
            "status",
            format!("expected one of {}", STATUSES.join(", ")),
        )
        .into());
    }
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM bank_transactions WHERE match_status = $1 ORDER BY value_date, id LIMIT $2 OFFSET $3"
        ),
        params![status, limit, offset],
    )?
    .iter()
    .map(from_row)
    .collect()
}

fn queued(conn: &mut dyn Conn, id: &str) -> Result<BankLine> {
    let line = get(conn, id)?;
    if line.status != "exception" && line.status != "unmatched" {
        return Err(DomainError::IllegalStateTransition {
            document: "bank line",
            id: id.to_string(),
            state: line.status,
            action: "decide it",
        }
        .into());
    }
    Ok(line)
}

/// Applies the suggestion at `index` as proposed (its amounts are checked again now).
pub fn accept_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str, index: usize) -> Result<BankLine> {
    let line = queued(conn, id)?;
    let s = line.suggestions.get(index).cloned().ok_or_else(|| {
        DomainError::invalid(
            "suggestion",
            format!(
                "this line has {} suggestion(s): expected 0 to {}",
                line.suggestions.len(),
                line.suggestions.len().saturating_sub(1)
            ),
        )
    })?;
    apply::apply_in_tx(conn, ctx, id, &s, "suggestion accepted")?;
    get(conn, id)
}

/// A person's own split of a bank line.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub customer_id: String,
    /// Cash per invoice (id or number); what the parts leave of the line stays on the
    /// customer's account as credit.
    #[serde(default)]
    pub allocations: Vec<SplitPart>,
    /// A difference to write off on one invoice.
    #[serde(default)]
    pub write_off: Option<SplitPart>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitPart {
    pub invoice_id: String,
    pub amount: String,
}

pub fn split_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str, r: &SplitRequest) -> Result<BankLine> {
    let line = queued(conn, id)?;
    let cur = line.amount.currency();
    let part = |field: String, p: &SplitPart, conn: &mut dyn Conn| -> Result<Part> {
        let inv = conn
            .query_opt(
                "SELECT id, number, customer_id FROM invoices WHERE id = $1 OR number = $1",
                params![p.invoice_id.as_str()],
            )?
            .ok_or_else(|| {
                DomainError::invalid(
                    format!("{field}.invoice_id"),
                    format!("no invoice `{}`", p.invoice_id),
                )
            })?;
        if inv.text(2) != r.customer_id {
            return Err(DomainError::invalid(
                format!("{field}.invoice_id"),
                format!(
                    "invoice {} is not customer {}'s",
                    inv.text(1),
                    r.customer_id
                ),
            )
            .into());
        }
        let amount =
            Money::parse(&p.amount, cur).map_err(DomainError::money(format!("{field}.amount")))?;
        if !amount.is_positive() {
            return Err(DomainError::invalid(
                format!("{field}.amount"),
                "must be greater than zero",
            )
            .into());
        }
        Ok(Part {
            invoice_id: inv.text(0),
            invoice_number: inv.text(1),
            amount,
        })
    };
    let mut allocations = Vec::new();
    for (i, p) in r.allocations.iter().enumerate() {
        allocations.push(part(format!("allocations[{i}]"), p, conn)?);
    }
    let write_off = r
        .write_off
        .as_ref()
        .map(|p| part("write_off".into(), p, conn))
        .transpose()?;
    let cash: i64 = allocations.iter().map(|a| a.amount.minor()).sum();
    if cash > line.amount.minor() {
        return Err(DomainError::invalid(
            "allocations",
            format!(
                "the parts add up to {} but the bank line is only {}",
                Money::new(cash, cur),
                line.amount
            ),
        )
        .into());
    }
    let rest = line.amount.minor() - cash;
    let s = Suggestion {
        customer_id: r.customer_id.clone(),
        score: 1000,
        kind: "manual".into(),
        evidence: vec![json!({"evidence": "decided_by_person", "comment": r.comment})],
        allocations,
        discounts: Vec::new(),
        write_off,
        write_off_account: None,
        deductions: Vec::new(),
        on_account: (rest > 0).then(|| Money::new(rest, cur)),
        confirms_payer: true,
    };
    apply::apply_in_tx(conn, ctx, id, &s, "split by hand")?;
    get(conn, id)
}

/// Money that is not for us: it leaves the queue and is owed back to whoever sent it.
pub fn not_ours_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str, reason: &str) -> Result<BankLine> {
    let line = queued(conn, id)?;
    if reason.trim().is_empty() {
        return Err(DomainError::invalid("reason", "say why the money is not ours").into());
    }
    let functional = fx::functional_currency(conn)?;
    let rate = fx::stored(
        conn.query_one(
            "SELECT fx_rate FROM bank_transactions WHERE id = $1",
            params![id],
        )?
        .opt_text(0),
    )?;
    let entry =
        o2c_core::ledger::receipt_not_ours(id, line.amount)?.translate(functional, rate, &[])?;
    ledger::post(conn, ctx, &entry, None)?;
    conn.execute(
        "UPDATE bank_transactions SET match_status = 'not_ours', reason = $2, decided_by = $3, decided_at = $4 WHERE id = $1",
        params![id, reason.trim(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CashLineNotOurs,
            aggregate_type: "bank_transaction",
            aggregate_id: id,
            order_id: None,
            customer_id: None,
            data: json!({"amount": line.amount, "counterparty": line.counterparty_name, "reason": reason.trim()}),
        },
    )?;
    get(conn, id)
}
