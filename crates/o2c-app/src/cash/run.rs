//! The matching run: every unmatched incoming bank line, against the open items, in batches.

use super::apply::{self, LineDecision};
use crate::error::Result;
use crate::{App, Conn};
use chrono::NaiveDate;
use o2c_core::matching::{
    CustomerKey, Decision, EarlyDiscount, ItemKey, MatchIndex, OpenItem, PayerProfile, Payment,
    Policy, SettlementKind, propose,
};
use o2c_core::{Actor, Currency, Money, Percent};
use o2c_store::params;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Lines decided per write transaction: small enough to keep the writer available to others.
const BATCH: usize = 500;

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MatchReport {
    pub lines: usize,
    /// Lines that settle money already booked (a direct-debit collection's credit, a payment
    /// provider's payout).
    pub cleared: usize,
    /// Debit lines that return a collected direct debit (booked as its return).
    pub returned: usize,
    pub applied: usize,
    pub exceptions: usize,
    /// Applied lines per kind of settlement (exact, discount, written_off, deduction, partial,
    /// overpayment).
    pub by_kind: BTreeMap<String, usize>,
    /// Exceptions per reason.
    pub by_reason: BTreeMap<String, usize>,
    pub open_items: usize,
    pub millis_loading: u128,
    pub millis_matching: u128,
    pub millis_booking: u128,
}

/// The open items and payers as the matcher sees them, with the way back to the store's ids.
pub struct Book {
    pub index: MatchIndex,
    pub invoice_ids: Vec<String>,
    pub invoice_numbers: Vec<String>,
    pub currencies: Vec<Currency>,
    pub customer_ids: Vec<String>,
}

impl Book {
    pub fn invoice(&self, k: ItemKey) -> &str {
        &self.invoice_ids[k.0 as usize]
    }
    pub fn customer(&self, k: CustomerKey) -> &str {
        &self.customer_ids[k.0 as usize]
    }
}

/// Loads every open invoice (less what is held back as an open deduction) and every customer
/// with the accounts it is known to pay from.
pub fn load_book(conn: &mut dyn Conn) -> Result<Book> {
    let mut customer_ids = Vec::new();
    let mut customer_keys: HashMap<String, u64> = HashMap::new();
    let mut payers = Vec::new();
    let mut accounts: HashMap<String, Vec<String>> = HashMap::new();
    for r in conn.query("SELECT account, customer_id FROM payer_accounts", params![])? {
        accounts.entry(r.text(1)).or_default().push(r.text(0));
    }
    for r in conn.query("SELECT id, name FROM customers ORDER BY id", params![])? {
        let key = customer_ids.len() as u64;
        let id = r.text(0);
        payers.push(PayerProfile {
            key: CustomerKey(key),
            name: r.text(1),
            accounts: accounts.remove(&id).unwrap_or_default(),
        });
        customer_keys.insert(id.clone(), key);
        customer_ids.push(id);
    }
    let mut held: HashMap<String, i64> = HashMap::new();
    for r in conn.query(
        "SELECT invoice_id, CAST(SUM(amount_minor) AS BIGINT) FROM deductions WHERE status = 'open' GROUP BY invoice_id",
        params![],
    )? {
        held.insert(r.text(0), r.int(1));
    }
    // Invoices written before `match_refs` existed find their orders through the join.
    let mut refs: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for r in conn.query(
        "SELECT io.invoice_id, io.order_id, o.customer_reference FROM invoices i
           JOIN invoice_orders io ON io.invoice_id = i.id JOIN orders o ON o.id = io.order_id
         WHERE i.match_refs IS NULL AND i.open_minor > 0",
        params![],
    )? {
        let e = refs.entry(r.text(0)).or_default();
        e.0.push(r.text(1));
        if let Some(po) = r.opt_text(2).filter(|p| !p.trim().is_empty()) {
            e.1.push(po);
        }
    }
    // One pass over the table: most invoices of a large book are open, and reading them in
    // storage order beats a million index probes (SQLite would pick the partial index).
    let from = match conn.dialect() {
        o2c_store::Dialect::Sqlite => "invoices NOT INDEXED",
        o2c_store::Dialect::Postgres => "invoices",
    };
    let mut items = Vec::new();
    let mut invoice_ids = Vec::new();
    let mut invoice_numbers = Vec::new();
    let mut currencies = Vec::new();
    // Streamed: a million open items are read once, never held twice.
    conn.query_each(
        &format!(
            "SELECT id, number, customer_id, currency, open_minor, gross_minor, issued_on, due_on,
                    discount_bp, discount_until, order_id, match_refs
             FROM {from} WHERE open_minor > 0 AND kind = 'invoice'"
        ),
        params![],
        &mut |r| {
            let Some(&customer) = r.str(2).and_then(|c| customer_keys.get(c)) else {
                return Ok(());
            };
            let id = r.text(0);
            let open = r.int(4) - held.get(&id).copied().unwrap_or(0);
            if open <= 0 {
                return Ok(());
            }
            let cur = Currency::parse(r.str(3).unwrap_or(""))
                .map_err(|e| o2c_store::DbError::Other(e.to_string()))?;
            let date = |i: usize| r.str(i).and_then(iso_date);
            let (order_refs, po_refs) = match r.str(11) {
                Some(m) => parse_match_refs(m),
                None => refs
                    .remove(&id)
                    .unwrap_or_else(|| (vec![r.text(10)], Vec::new())),
            };
            let discount = match (r.int(8), date(9)) {
                (bp, Some(until)) if bp > 0 => Some(EarlyDiscount {
                    rate: Percent::from_basis_points(bp),
                    until,
                }),
                _ => None,
            };
            let number = r.text(1);
            items.push(OpenItem {
                key: ItemKey(invoice_ids.len() as u64),
                customer: CustomerKey(customer),
                number: number.clone(),
                open: Money::new(open, cur),
                total: Money::new(r.int(5), cur),
                issued_on: date(6).unwrap_or(NaiveDate::MIN),
                due_on: date(7).unwrap_or(NaiveDate::MIN),
                discount,
                order_refs,
                po_refs,
            });
            invoice_numbers.push(number);
            invoice_ids.push(id);
            currencies.push(cur);
            Ok(())
        },
    )?;
    let index = MatchIndex::build(&items, &payers)
        .map_err(|e| crate::error::AppError::Internal(format!("match index: {e}")))?;
    Ok(Book {
        index,
        invoice_ids,
        invoice_numbers,
        currencies,
        customer_ids,
    })
}

/// `YYYY-MM-DD` without the general date parser (a million of them are read per run).
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// An order and its PO number as `invoices.match_refs` keeps them (one per line).
pub fn match_ref(order_id: &str, po: Option<&str>) -> String {
    let po = po.unwrap_or("").replace(['\t', '\n'], " ");
    format!("{order_id}\t{}", po.trim())
}

fn parse_match_refs(s: &str) -> (Vec<String>, Vec<String>) {
    let (mut orders, mut pos) = (Vec::new(), Vec::new());
    for line in s.lines() {
        let (order, po) = line.split_once('\t').unwrap_or((line, ""));
        if !order.is_empty() {
            orders.push(order.to_string());
        }
        if !po.is_empty() {
            pos.push(po.to_string());
        }
    }
    (orders, pos)
}

/// One bank line as the matcher needs it.
pub struct Line {
    pub id: String,
    pub bank_reference: String,
    pub payment: Payment,
}

pub fn unmatched_lines(conn: &mut dyn Conn) -> Result<Vec<Line>> {
    lines_with_status(conn, "unmatched")
}

fn lines_with_status(conn: &mut dyn Conn, status: &str) -> Result<Vec<Line>> {
    let rows = conn.query(
        "SELECT id, amount_minor, currency, value_date, counterparty_name, counterparty_account, remittance, structured_refs, end_to_end_id, bank_reference
         FROM bank_transactions WHERE match_status = $1 ORDER BY value_date, id",
        params![status],
    )?;
    rows.iter().map(line_from_row).collect()
}

pub(crate) fn line_from_row(r: &o2c_store::Row) -> Result<Line> {
    let cur = Currency::parse(&r.text(2))?;
    Ok(Line {
        id: r.text(0),
        bank_reference: r.opt_text(9).unwrap_or_default(),
        payment: Payment {
            amount: Money::new(r.int(1), cur),
            value_date: NaiveDate::parse_from_str(&r.text(3), "%Y-%m-%d").unwrap_or(NaiveDate::MIN),
            counterparty_name: r.opt_text(4).unwrap_or_default(),
            counterparty_account: r.opt_text(5),
            remittance: r
                .text(6)
                .split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            structured_refs: serde_json::from_str(&r.text(7)).unwrap_or_default(),
            end_to_end_id: r.opt_text(8),
        },
    })
}

/// Matches every unmatched line and books the decisions, a batch per transaction. The index is
/// loaded once and kept current as settlements are booked, so several payments for one invoice
/// in the same run see each other.
pub async fn run(app: &App, actor: Actor) -> Result<MatchReport> {
    let started = std::time::Instant::now();
    let returned = book_returns(app, &actor).await?;
    let (mut book, lines, policy, advices, expected, parked) = app
        .read(|c| {
            let expected = super::clearing::expected(c)?;
            // A line parked before the money it settles was announced is cleared now.
            let parked = if expected.is_empty() {
                Vec::new()
            } else {
                lines_with_status(c, "exception")?
            };
            Ok((
                load_book(c)?,
                unmatched_lines(c)?,
                super::policy(c)?.to_policy(),
                super::remittance::open_advices(c)?,
                expected,
                parked,
            ))
        })
        .await?;
    // Credits for collection files and providers' payouts settle what was booked before.
    let mut settling: Vec<(String, super::clearing::Settles)> = Vec::new();
    let mut taken = HashSet::new();
    for line in lines.iter().chain(&parked) {
        if let Some(s) = expected.settled_by(&taken, line) {
            taken.insert(s.id().to_string());
            settling.push((line.id.clone(), s));
        }
    }
    let cleared = if settling.is_empty() {
        0
    } else {
        let pairs = settling.clone();
        app.write(actor.clone(), move |c, ctx| {
            let mut n = 0;
            for (line, what) in &pairs {
                n += usize::from(super::clearing::settle_in_tx(c, ctx, line, what)?);
            }
            Ok(n)
        })
        .await?
    };
    let settled: HashSet<&str> = settling.iter().map(|(l, _)| l.as_str()).collect();
    let lines: Vec<Line> = lines
        .into_iter()
        .filter(|l| !settled.contains(l.id.as_str()))
        .collect();
    let mut used_advices = HashSet::new();
    let mut report = MatchReport {
        lines: lines.len() + cleared,
        cleared,
        returned,
        open_items: book.index.len(),
        millis_loading: started.elapsed().as_millis(),
        ..MatchReport::default()
    };
    let mut matching = std::time::Duration::ZERO;
    let mut booking = std::time::Duration::ZERO;
    for chunk in lines.chunks(BATCH) {
        let t = std::time::Instant::now();
        let decisions = decide(&mut book, chunk, &policy, &advices, &mut used_advices);
        matching += t.elapsed();
        let t = std::time::Instant::now();
        for d in &decisions {
            match &d.decision {
                Decision::AutoApply => {
                    report.applied += 1;
                    let kind = d.candidates[0].kind.clone();
                    *report.by_kind.entry(kind).or_default() += 1;
                }
                Decision::Exception(reason) => {
                    report.exceptions += 1;
                    let key = serde_json::to_value(reason)?
                        .get("reason")
                        .and_then(|v| v.as_str())
                        .unwrap_or("other")
                        .to_string();
                    *report.by_reason.entry(key).or_default() += 1;
                }
            }
        }
        let batch = std::sync::Arc::new(decisions);
        let whole = batch.clone();
        if let Err(e) = app
            .write(actor.clone(), move |c, ctx| {
                apply::book_in_tx(c, ctx, &whole)
            })
            .await
        {
            // Something changed under a decision (a person applied cash meanwhile): book the
            // batch line by line, and send a line that still cannot be booked to the queue
            // with the reason instead of losing the rest of the run.
            tracing::warn!(error = %e, "cash batch failed; booking its lines one by one");
            for i in 0..batch.len() {
                let one = batch.clone();
                let booked = app
                    .write(actor.clone(), move |c, ctx| {
                        apply::book_in_tx(c, ctx, std::slice::from_ref(&one[i]))
                    })
                    .await;
                if let Err(e) = booked {
                    let mut parked = batch[i].clone();
                    parked.decision = Decision::Exception(
                        o2c_core::matching::ExceptionReason::ReferencedItemsSettled,
                    );
                    parked.reason = Some(format!("could not be booked as proposed: {e}"));
                    app.write(actor.clone(), move |c, ctx| {
                        apply::book_in_tx(c, ctx, std::slice::from_ref(&parked))
                    })
                    .await?;
                    if batch[i].decision == Decision::AutoApply {
                        report.applied -= 1;
                        report.exceptions += 1;
                    }
                }
            }
        }
        booking += t.elapsed();
    }
    report.millis_matching = matching.as_millis();
    report.millis_booking = booking.as_millis();
    Ok(report)
}

/// Returns the direct debits the statement shows coming back, each in its own transaction: one
/// the bank names wrongly (a debit already returned by hand, say) stays for a person.
async fn book_returns(app: &App, actor: &Actor) -> Result<usize> {
    let lines = app.read(super::returned::waiting).await?;
    let mut n = 0;
    for line in lines {
        let id = line.id.clone();
        match app
            .write(actor.clone(), move |c, ctx| {
                super::returned::book_in_tx(c, ctx, &line)
            })
            .await
        {
            Ok(booked) => n += usize::from(booked),
            Err(e) => tracing::warn!(line = %id, error = %e, "returned debit not booked"),
        }
    }
    Ok(n)
}

/// The matcher's decisions for a batch, with the book's ids resolved; applied settlements are
/// recorded in the index at once.
fn decide(
    book: &mut Book,
    lines: &[Line],
    policy: &Policy,
    advices: &HashMap<(String, i64), Vec<super::remittance::OpenAdvice>>,
    used_advices: &mut HashSet<String>,
) -> Vec<LineDecision> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        // A remittance advice for the line names the invoices it pays.
        let advice = super::remittance::advice_for(
            advices,
            used_advices,
            &line.payment,
            &line.bank_reference,
        );
        let augmented;
        let payment = match advice {
            Some(a) => {
                let mut p = line.payment.clone();
                p.structured_refs.extend(a.invoice_numbers.iter().cloned());
                augmented = p;
                &augmented
            }
            None => &line.payment,
        };
        let mut proposal = propose(&book.index, payment, policy);
        if let Some(best) = proposal.applied() {
            let currency_ok = best
                .settlement
                .items()
                .all(|k| book.currencies[k.0 as usize] == line.payment.amount.currency());
            if !currency_ok {
                proposal.decision =
                    Decision::Exception(o2c_core::matching::ExceptionReason::CurrencyDiffers);
            } else if book.index.record(&best.settlement).is_err() {
                proposal.decision = Decision::Exception(
                    o2c_core::matching::ExceptionReason::ReferencedItemsSettled,
                );
            } else if let Some(account) = &line.payment.counterparty_account
                && apply::confirms_payer(&best.evidence)
            {
                book.index.learn_account(account, best.customer);
            }
        }
        let mut decision = apply::resolve(book, line, proposal);
        if let Some(a) = advice
            && decision.decision == Decision::AutoApply
        {
            used_advices.insert(a.id.clone());
            decision.advice_id = Some(a.id.clone());
        }
        out.push(decision);
    }
    out
}

pub fn kind_name(k: SettlementKind) -> &'static str {
    match k {
        SettlementKind::Exact => "exact",
        SettlementKind::Discount => "discount",
        SettlementKind::WrittenOff => "written_off",
        SettlementKind::Deduction => "deduction",
        SettlementKind::Partial => "partial",
        SettlementKind::Overpayment => "overpayment",
    }
}
