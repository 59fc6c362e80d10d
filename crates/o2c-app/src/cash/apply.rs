//! Booking a decision about a bank line: the payment it becomes, what it pays, discounts,
//! write-offs and deductions — or its place in the exceptions queue with ranked suggestions.

use super::run::{Book, Line, kind_name};
use crate::context::Ctx;
use crate::customer::adjust_balances;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::payment::{self, NewPayment, PaymentSource};
use crate::{fx, ledger};
use o2c_core::id::DeductionId;
use o2c_core::invoice::PaymentStatus;
use o2c_core::matching::{Allocation, Decision, Evidence, Proposal};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An amount on one invoice, by id and number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Part {
    pub invoice_id: String,
    pub invoice_number: String,
    pub amount: Money,
}

/// A way to settle a bank line, as the matcher proposed it (or a person decided it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Suggestion {
    pub customer_id: String,
    /// 0-1000; 800 is sure enough by default.
    pub score: u16,
    /// exact, discount, written_off, deduction, partial or overpayment.
    pub kind: String,
    pub evidence: Vec<serde_json::Value>,
    /// Cash per invoice.
    pub allocations: Vec<Part>,
    /// Early-payment discounts earned.
    pub discounts: Vec<Part>,
    /// A small shortfall written off, and the account it goes to.
    pub write_off: Option<Part>,
    pub write_off_account: Option<String>,
    /// Shortfalls the customer withheld: opened as deductions to resolve.
    pub deductions: Vec<Part>,
    /// What stays on the customer's account as credit.
    pub on_account: Option<Money>,
    /// The line names the invoices (an invoice number, RF or order id): applying it confirms
    /// who pays from the line's account. A match on amount and name alone teaches nothing.
    #[serde(default)]
    pub confirms_payer: bool,
}

/// The matcher's answer for one line, in the store's ids.
#[derive(Debug, Clone, Serialize)]
pub struct LineDecision {
    pub line_id: String,
    pub decision: Decision,
    pub reason: Option<String>,
    pub candidates: Vec<Suggestion>,
    /// The remittance advice that named the invoices, if one did.
    pub advice_id: Option<String>,
}

pub(crate) fn resolve(book: &Book, line: &Line, proposal: Proposal) -> LineDecision {
    let part = |a: &Allocation| Part {
        invoice_id: book.invoice(a.item).to_string(),
        invoice_number: book.invoice_numbers[a.item.0 as usize].clone(),
        amount: a.amount,
    };
    let candidates = proposal
        .candidates
        .iter()
        .map(|c| {
            let s = &c.settlement;
            Suggestion {
                customer_id: book.customer(c.customer).to_string(),
                score: c.score,
                kind: kind_name(s.kind).to_string(),
                evidence: c.evidence.iter().map(evidence_json).collect(),
                allocations: s.allocations.iter().map(part).collect(),
                discounts: s.discounts.iter().map(part).collect(),
                write_off: s.write_off.as_ref().map(|w| Part {
                    invoice_id: book.invoice(w.item).to_string(),
                    invoice_number: book.invoice_numbers[w.item.0 as usize].clone(),
                    amount: w.amount,
                }),
                write_off_account: s.write_off.as_ref().map(|w| w.account.clone()),
                deductions: s.deductions.iter().map(part).collect(),
                on_account: s.on_account,
                confirms_payer: confirms_payer(&c.evidence),
            }
        })
        .collect();
    let reason = match &proposal.decision {
        Decision::AutoApply => None,
        Decision::Exception(r) => Some(r.to_string()),
    };
    LineDecision {
        line_id: line.id.clone(),
        decision: proposal.decision,
        reason,
        candidates,
        advice_id: None,
    }
}

/// Evidence that names the items themselves, strongly enough to trust the payer's account.
pub fn confirms_payer(evidence: &[Evidence]) -> bool {
    evidence.iter().any(|e| {
        matches!(e, Evidence::Reference { kind, .. } if *kind >= o2c_core::matching::RefKind::InvoiceNumberMangled)
    })
}

fn evidence_json(e: &Evidence) -> serde_json::Value {
    serde_json::to_value(e).unwrap_or(serde_json::Value::Null)
}

/// Books a batch of decisions. A line someone else decided meanwhile is left alone.
pub fn book_in_tx(conn: &mut dyn Conn, ctx: &Ctx, batch: &[LineDecision]) -> Result<()> {
    for d in batch {
        match (&d.decision, d.candidates.first()) {
            (Decision::AutoApply, Some(best)) => {
                if apply_line_in_tx(conn, ctx, &d.line_id, best, None)?.is_none() {
                    continue;
                }
                if let Some(advice) = &d.advice_id {
                    conn.execute(
                        "UPDATE remittance_advices SET status = 'used', bank_transaction_id = $2 WHERE id = $1",
                        params![advice.as_str(), d.line_id.as_str()],
                    )?;
                }
            }
            _ => park_in_tx(conn, ctx, d)?,
        }
    }
    Ok(())
}

/// Puts a line in the exceptions queue with the reason and the suggestions.
fn park_in_tx(conn: &mut dyn Conn, ctx: &Ctx, d: &LineDecision) -> Result<()> {
    let reason = d.reason.clone().unwrap_or_else(|| "no candidate".into());
    let parked = conn.execute(
        "UPDATE bank_transactions SET match_status = 'exception', reason = $2, suggestions = $3, score = $4 WHERE id = $1 AND match_status = 'unmatched'",
        params![d.line_id.as_str(), reason.as_str(), serde_json::to_string(&d.candidates)?, d.candidates.first().map(|c| i64::from(c.score))],
    )?;
    if parked == 0 {
        // Decided meanwhile by someone else: left alone.
        return Ok(());
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CashLineParked,
            aggregate_type: "bank_transaction",
            aggregate_id: &d.line_id,
            order_id: None,
            customer_id: d.candidates.first().map(|c| c.customer_id.as_str()),
            data: json!({"reason": reason, "suggestions": d.candidates.len()}),
        },
    )
}

/// Books `s` for the bank line: the payment, discounts and write-offs, the cash on each
/// invoice, deductions, and the learned payer account. Checks that the cash adds up to the
/// line, and (through the applications) that no invoice gets more than it owes.
pub fn apply_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    line_id: &str,
    s: &Suggestion,
    how: &str,
) -> Result<String> {
    apply_line_in_tx(conn, ctx, line_id, s, Some(how))?
        .ok_or_else(|| crate::error::AppError::Internal("bank line not applied".into()))
}

/// [`apply_in_tx`] for a person (`person`: how they decided), or for the matcher (`None`), which
/// only takes lines still unmatched and leaves any other line alone (`Ok(None)`).
fn apply_line_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    line_id: &str,
    s: &Suggestion,
    person: Option<&str>,
) -> Result<Option<String>> {
    let how = person.unwrap_or("matched automatically");
    let lock = conn.for_update();
    let line = conn
        .query_opt(
            &format!(
                "SELECT amount_minor, currency, value_date, fx_rate, counterparty_account, end_to_end_id, bank_reference, match_status
                 FROM bank_transactions WHERE id = $1{lock}"
            ),
            params![line_id],
        )?
        .ok_or_else(|| not_found("bank line", line_id))?;
    let status = line.text(7);
    if person.is_none() && status != "unmatched" {
        return Ok(None);
    }
    if status != "unmatched" && status != "exception" {
        return Err(DomainError::IllegalStateTransition {
            document: "bank line",
            id: line_id.to_string(),
            state: status,
            action: "apply it again",
        }
        .into());
    }
    let currency = Currency::parse(&line.text(1))?;
    let amount = Money::new(line.int(0), currency);
    let cash: i64 = s.allocations.iter().map(|a| a.amount.minor()).sum::<i64>()
        + s.on_account.map_or(0, |m| m.minor());
    if cash != amount.minor() {
        return Err(DomainError::invalid(
            "allocations",
            format!(
                "the parts add up to {} but the bank line is {amount}",
                Money::new(cash, currency)
            ),
        )
        .into());
    }
    let cust = conn
        .query_opt(
            "SELECT currency FROM customers WHERE id = $1",
            params![s.customer_id.as_str()],
        )?
        .ok_or_else(|| DomainError::UnknownCustomer(s.customer_id.clone()))?;
    if cust.text(0) != currency.code() {
        return Err(DomainError::AccountCurrencyMismatch(format!(
            "the bank line is in {currency}; customer {} is billed in {}",
            s.customer_id,
            cust.text(0)
        ))
        .into());
    }
    let rate = fx::stored(line.opt_text(3))?;
    // A line without a rate is in the functional currency (import stores one otherwise).
    let functional = match line.opt_text(3) {
        None => currency,
        Some(_) => fx::functional_currency(conn)?,
    };
    let reference = line.opt_text(5).or(line.opt_text(6));
    let invoice_ids: Vec<String> = s.allocations.iter().map(|a| a.invoice_id.clone()).collect();
    let pid = payment::insert_in_tx(
        conn,
        ctx,
        &NewPayment {
            customer_id: &s.customer_id,
            amount,
            method: "bank_transfer",
            reference: reference.as_deref(),
            received_on: &line.text(2),
            functional,
            fx_rate: rate,
            source: PaymentSource::BankLine(line_id),
            invoice_ids: &invoice_ids,
        },
    )?;
    for d in &s.discounts {
        reduce_in_tx(
            conn,
            ctx,
            &s.customer_id,
            d,
            Reduction::Discount,
            functional,
        )?;
    }
    if let Some(w) = &s.write_off {
        let account = s
            .write_off_account
            .as_deref()
            .and_then(o2c_core::ledger::account)
            .unwrap_or(o2c_core::ledger::PAYMENT_DIFFERENCES);
        reduce_in_tx(
            conn,
            ctx,
            &s.customer_id,
            w,
            Reduction::WriteOff(account),
            functional,
        )?;
    }
    for a in &s.allocations {
        if !a.amount.is_positive() {
            return Err(DomainError::AmountNotPositive {
                field: "allocations",
            }
            .into());
        }
        payment::apply_in_tx(conn, ctx, pid.as_str(), &a.invoice_id, a.amount.minor())?;
    }
    for d in &s.deductions {
        open_deduction_in_tx(conn, ctx, &s.customer_id, d, line_id)?;
    }
    let by_person = person.is_some();
    if by_person || s.confirms_payer {
        super::learn_payer(
            conn,
            ctx,
            line.opt_text(4).as_deref(),
            &s.customer_id,
            line_id,
            by_person,
        )?;
    }
    conn.execute(
        "UPDATE bank_transactions SET match_status = 'applied', customer_id = $2, payment_id = $3, score = $4, evidence = $5, reason = NULL, decided_by = $6, decided_at = $7 WHERE id = $1",
        params![line_id, s.customer_id.as_str(), pid.as_str(), i64::from(s.score), serde_json::to_string(&s.evidence)?, ctx.actor.to_string(), ctx.timestamp()],
    )?;
    crate::notify::payment_receipt_in_tx(conn, ctx, pid.as_str())?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CashLineApplied,
            aggregate_type: "bank_transaction",
            aggregate_id: line_id,
            order_id: None,
            customer_id: Some(&s.customer_id),
            data: json!({"how": how, "payment_id": pid, "kind": s.kind, "score": s.score, "allocations": s.allocations, "discounts": s.discounts, "write_off": s.write_off, "deductions": s.deductions, "on_account": s.on_account}),
        },
    )?;
    Ok(Some(pid.to_string()))
}

enum Reduction {
    Discount,
    WriteOff(o2c_core::ledger::Account),
}

/// Takes an earned discount or a written-off difference off an invoice's open amount, posted at
/// the invoice's rate.
fn reduce_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    part: &Part,
    what: Reduction,
    functional: Currency,
) -> Result<()> {
    let lock = conn.for_update();
    let inv = conn
        .query_opt(
            &format!(
                "SELECT id, customer_id, open_minor, gross_minor, currency, fx_rate FROM invoices WHERE id = $1{lock}"
            ),
            params![part.invoice_id.as_str()],
        )?
        .ok_or_else(|| not_found("invoice", &part.invoice_id))?;
    let amount = part.amount.minor();
    if inv.text(1) != customer_id {
        return Err(DomainError::invalid(
            "invoice_id",
            format!(
                "invoice {} belongs to another customer",
                part.invoice_number
            ),
        )
        .into());
    }
    if amount <= 0 || amount > inv.int(2) {
        return Err(DomainError::ApplicationExceedsOpenAmount {
            what: "invoice's open amount",
            requested: part.amount.to_string(),
            available: Money::new(inv.int(2), part.amount.currency()).to_string(),
        }
        .into());
    }
    let open_after = inv.int(2) - amount;
    let status = PaymentStatus::of(inv.int(3), open_after);
    let (column, entry, kind) = match what {
        Reduction::Discount => (
            "discount_taken_minor",
            o2c_core::ledger::discount_taken(&part.invoice_id, part.amount)?,
            EventType::DiscountTaken,
        ),
        Reduction::WriteOff(account) => (
            "written_off_minor",
            o2c_core::ledger::difference_written_off(&part.invoice_id, part.amount, account)?,
            EventType::DifferenceWrittenOff,
        ),
    };
    conn.execute(
        &format!("UPDATE invoices SET open_minor = $2, payment_status = $3, {column} = {column} + $4 WHERE id = $1"),
        params![part.invoice_id.as_str(), open_after, status.as_str(), amount],
    )?;
    adjust_balances(conn, customer_id, -amount, 0, 0)?;
    let rate = fx::stored(inv.opt_text(5))?;
    let relief = rate.relief(inv.int(2), open_after, part.amount.currency(), functional)?;
    let entry = entry.translate(
        functional,
        rate,
        &[(o2c_core::ledger::ACCOUNTS_RECEIVABLE.code, -relief)],
    )?;
    ledger::post(conn, ctx, &entry, Some(customer_id))?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: "invoice",
            aggregate_id: &part.invoice_id,
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"amount": part.amount, "invoice_number": part.invoice_number}),
        },
    )
}

/// A shortfall the customer withheld: the invoice keeps it open, marked as a deduction to be
/// resolved (credit note or chased again), and matching no longer offers it.
fn open_deduction_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    part: &Part,
    line_id: &str,
) -> Result<()> {
    let id = DeductionId::generate(ctx.ids.as_ref());
    let open = conn
        .query_opt(
            "SELECT open_minor FROM invoices WHERE id = $1 AND customer_id = $2",
            params![part.invoice_id.as_str(), customer_id],
        )?
        .ok_or_else(|| not_found("invoice", &part.invoice_id))?
        .int(0);
    if part.amount.minor() <= 0 || part.amount.minor() > open {
        return Err(AppError::Domain(
            DomainError::ApplicationExceedsOpenAmount {
                what: "invoice's open amount",
                requested: part.amount.to_string(),
                available: Money::new(open, part.amount.currency()).to_string(),
            },
        ));
    }
    conn.execute(
        "INSERT INTO deductions (id, invoice_id, customer_id, amount_minor, currency, reason, status, bank_transaction_id, created_at)
         VALUES ($1, $2, $3, $4, $5, 'short_payment', 'open', $6, $7)",
        params![id.as_str(), part.invoice_id.as_str(), customer_id, part.amount.minor(), part.amount.currency().code(), line_id, ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::DeductionOpened,
            aggregate_type: "invoice",
            aggregate_id: &part.invoice_id,
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"deduction_id": id, "amount": part.amount, "invoice_number": part.invoice_number, "bank_transaction_id": line_id}),
        },
    )
}
