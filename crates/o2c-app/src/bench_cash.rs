//! `o2c bench cashapp`: cash application against known truth.
//!
//! `o2c_core::matching::sim` builds N open invoices of many customers and M bank lines noisy the
//! way real ones are (missing and mangled references, several invoices per payment, short pays,
//! name variants, no reference at all), each with the truth of what it pays. The invoices are
//! written straight into a fresh store in bulk; the lines go through the real path: a camt.053
//! file, `cash::import`, then `cash::run`. Afterwards every applied line is compared with its
//! truth: right means the true customer, only the true invoices, and all of them when the payer
//! meant to settle them all.

use crate::cash::{import, run};
use crate::error::{AppError, Result};
use crate::{App, ledger};
use o2c_core::Actor;
use o2c_core::matching::ItemKey;
use o2c_core::matching::sim::{SimConfig, generate};
use o2c_store::{Value, params};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct CashBenchReport {
    pub invoices: usize,
    pub lines: usize,
    pub customers: usize,
    pub seed: u64,
    pub setup_seconds: f64,
    pub statement_megabytes: f64,
    pub import_seconds: f64,
    pub match_seconds: f64,
    pub loading_seconds: f64,
    pub matching_seconds: f64,
    pub booking_seconds: f64,
    pub lines_per_second: f64,
    pub auto_applied: usize,
    /// Lines that net an open credit note, which o2c does not keep open: left out of the
    /// shares below.
    pub lines_netting_credit_notes: usize,
    pub auto_applied_share: f64,
    pub correct: usize,
    pub wrong: usize,
    pub precision: f64,
    /// Lines that truly pay invoices, applied correctly, over all such lines.
    pub recall: f64,
    pub exceptions_by_reason: std::collections::BTreeMap<String, usize>,
    pub applied_by_kind: std::collections::BTreeMap<String, usize>,
    pub books_balanced: bool,
}

impl fmt::Display for CashBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cash application: {} bank lines against {} open invoices of {} customers (seed {})",
            self.lines, self.invoices, self.customers, self.seed
        )?;
        writeln!(
            f,
            "  import (camt.053, {:.1} MB): {:.2} s; matching run: {:.2} s (load {:.2} s, match {:.2} s, book {:.2} s) → {:.0} lines/s",
            self.statement_megabytes,
            self.import_seconds,
            self.match_seconds,
            self.loading_seconds,
            self.matching_seconds,
            self.booking_seconds,
            self.lines_per_second
        )?;
        writeln!(
            f,
            "  auto-applied {} ({:.2} % of {} judged; {} netting credit notes left out), right {} / wrong {}: precision {:.3} %, recall {:.2} %",
            self.auto_applied,
            100.0 * self.auto_applied_share,
            self.lines - self.lines_netting_credit_notes,
            self.lines_netting_credit_notes,
            self.correct,
            self.wrong,
            100.0 * self.precision,
            100.0 * self.recall
        )?;
        for (k, n) in &self.applied_by_kind {
            writeln!(f, "    applied {k}: {n}")?;
        }
        for (k, n) in &self.exceptions_by_reason {
            writeln!(f, "    exception {k}: {n}")?;
        }
        write!(f, "  books balanced: {}", self.books_balanced)
    }
}

const OUR_IBAN: &str = "DE89370400440532013000";

pub async fn run(app: &App, invoices: usize, lines: usize, seed: u64) -> Result<CashBenchReport> {
    let t = Instant::now();
    let sim = generate(&SimConfig {
        invoices,
        payments: lines,
        seed,
    });
    let customers = sim.payers.len();
    seed_book(app, &sim).await?;
    let setup_seconds = t.elapsed().as_secs_f64();

    let payments: Vec<_> = sim.lines.iter().map(|l| l.payment.clone()).collect();
    let file = crate::cash::camt_file::camt053("BENCH-CASHAPP", OUR_IBAN, &payments);
    let megabytes = file.len() as f64 / 1e6;
    let t = Instant::now();
    let imported = app
        .write(Actor::Rule("bench"), move |c, ctx| {
            import::import_in_tx(c, ctx, file.as_bytes(), "bench")
        })
        .await?;
    let import_seconds = t.elapsed().as_secs_f64();
    let receipts = sim
        .lines
        .iter()
        .filter(|l| l.payment.amount.is_positive())
        .count();
    if imported.new_lines != receipts {
        return Err(AppError::Internal(format!(
            "imported {} of {} lines",
            imported.new_lines,
            sim.lines.len()
        )));
    }
    let t = Instant::now();
    let report = run::run(app, Actor::Rule("cash.match")).await?;
    let match_seconds = t.elapsed().as_secs_f64();

    // Line i of the statement is entry i + 1: compare what was applied with the truth.
    let applied = app
        .read(|c| {
            let rows = c.query(
                "SELECT t.entry_no, a.invoice_id, p.customer_id FROM bank_transactions t
                   JOIN payments p ON p.id = t.payment_id
                   LEFT JOIN payment_applications a ON a.payment_id = p.id
                 WHERE t.match_status = 'applied'",
                params![],
            )?;
            let mut out: HashMap<usize, (String, Vec<String>)> = HashMap::new();
            for r in rows {
                let e = out
                    .entry(r.int(0) as usize - 1)
                    .or_insert_with(|| (r.text(2), Vec::new()));
                if let Some(inv) = r.opt_text(1) {
                    e.1.push(inv);
                }
            }
            // Discounts, write-offs and deductions touch invoices without cash.
            for r in c.query(
                "SELECT t.entry_no, d.invoice_id FROM bank_transactions t JOIN deductions d ON d.bank_transaction_id = t.id",
                params![],
            )? {
                if let Some(e) = out.get_mut(&(r.int(0) as usize - 1)) {
                    e.1.push(r.text(1));
                }
            }
            Ok(out)
        })
        .await?;
    let credit_notes: HashSet<ItemKey> = sim
        .items
        .iter()
        .filter(|i| !i.open.is_positive())
        .map(|i| i.key)
        .collect();
    let (mut correct, mut wrong, mut payable, mut payable_right, mut excluded) = (0, 0, 0, 0, 0);
    for (i, line) in sim.lines.iter().enumerate() {
        let truth = &line.truth;
        if truth.items.iter().any(|k| credit_notes.contains(k)) {
            excluded += 1;
            continue;
        }
        if truth.customer.is_some() {
            payable += 1;
        }
        let Some((customer, invoices)) = applied.get(&i) else {
            continue;
        };
        let right_customer = truth.customer.map(customer_id) == Some(customer.clone());
        let touched: HashSet<&str> = invoices.iter().map(String::as_str).collect();
        let truth_ids: Vec<String> = truth.items.iter().map(|k| invoice_id(*k)).collect();
        let only_true = touched.iter().all(|t| truth_ids.iter().any(|x| x == t));
        let all_true = !truth.settles_all || truth_ids.iter().all(|x| touched.contains(x.as_str()));
        if right_customer && only_true && all_true {
            correct += 1;
            payable_right += 1;
        } else {
            wrong += 1;
        }
    }
    let tb = app.read(ledger::trial_balance).await?;
    let auto = correct + wrong;
    let judged = sim.lines.len() - excluded;
    Ok(CashBenchReport {
        invoices: sim.items.len() - credit_notes.len(),
        lines: sim.lines.len(),
        customers,
        seed,
        setup_seconds,
        statement_megabytes: megabytes,
        import_seconds,
        match_seconds,
        loading_seconds: report.millis_loading as f64 / 1e3,
        matching_seconds: report.millis_matching as f64 / 1e3,
        booking_seconds: report.millis_booking as f64 / 1e3,
        lines_per_second: sim.lines.len() as f64 / match_seconds.max(1e-9),
        auto_applied: auto,
        auto_applied_share: auto as f64 / judged.max(1) as f64,
        lines_netting_credit_notes: excluded,
        correct,
        wrong,
        precision: if auto == 0 {
            1.0
        } else {
            correct as f64 / auto as f64
        },
        recall: payable_right as f64 / payable.max(1) as f64,
        exceptions_by_reason: report.by_reason,
        applied_by_kind: report.by_kind,
        books_balanced: tb.is_sound(),
    })
}

fn customer_id(k: o2c_core::matching::CustomerKey) -> String {
    format!("cus_sim{:08}", k.0)
}
fn invoice_id(k: ItemKey) -> String {
    format!("inv_sim{:08}", k.0)
}

/// Customers, their known accounts, one order and one open invoice per simulated item, and an
/// opening-balance entry so the books agree with the open items.
async fn seed_book(app: &App, sim: &o2c_core::matching::sim::Simulation) -> Result<()> {
    let now = "2026-01-01T00:00:00Z";
    let mut open_by_customer: HashMap<u64, i64> = HashMap::new();
    for it in sim.items.iter().filter(|i| i.open.is_positive()) {
        *open_by_customer.entry(it.customer.0).or_default() += it.open.minor();
    }
    let customers: Vec<Vec<Value>> = sim
        .payers
        .iter()
        .map(|p| {
            vec![
                customer_id(p.key).into(),
                p.name.clone().into(),
                "EUR".into(),
                30.into(),
                1_000_000_000i64.into(),
                open_by_customer.get(&p.key.0).copied().unwrap_or(0).into(),
                now.into(),
            ]
        })
        .collect();
    let accounts: Vec<Vec<Value>> = sim
        .payers
        .iter()
        .flat_map(|p| {
            p.accounts.iter().map(move |a| {
                let account = crate::cash::normalize_account(a);
                let row: Vec<Value> = vec![
                    account.clone().into(),
                    customer_id(p.key).into(),
                    "seed".into(),
                    "bench".into(),
                    now.into(),
                ];
                (account, row)
            })
        })
        .collect::<HashMap<String, Vec<Value>>>()
        .into_values()
        .collect();
    let mut orders = Vec::new();
    let mut seen_orders: HashSet<&str> = HashSet::new();
    let mut invoices = Vec::new();
    let mut links = Vec::new();
    let mut total = 0i64;
    // o2c has no open credit notes (a credit note settles its invoice or becomes customer
    // credit at once), so the simulator's open credit notes are left out.
    for it in sim.items.iter().filter(|i| i.open.is_positive()) {
        let inv = invoice_id(it.key);
        let cust = customer_id(it.customer);
        for (n, order) in it.order_refs.iter().enumerate() {
            links.push(vec![inv.clone().into(), order.clone().into()]);
            if !seen_orders.insert(order.as_str()) {
                continue;
            }
            orders.push(vec![
                order.clone().into(),
                cust.clone().into(),
                "EUR".into(),
                "invoiced".into(),
                it.po_refs.get(n).or(it.po_refs.first()).cloned().into(),
                "{}".into(),
                it.total.minor().into(),
                0.into(),
                it.total.minor().into(),
                now.into(),
            ]);
        }
        total += it.open.minor();
        invoices.push(vec![
            inv.into(),
            it.number.clone().into(),
            cust.into(),
            it.order_refs.first().cloned().unwrap_or_default().into(),
            "EUR".into(),
            it.issued_on.to_string().into(),
            it.due_on.to_string().into(),
            it.total.minor().into(),
            0.into(),
            it.total.minor().into(),
            it.open.minor().into(),
            (if it.open == it.total {
                "unpaid"
            } else {
                "partially_paid"
            })
            .into(),
            now.into(),
            it.discount.map_or(0, |d| d.rate.basis_points()).into(),
            it.discount.map(|d| d.until.to_string()).into(),
            it.order_refs
                .iter()
                .enumerate()
                .map(|(n, o)| {
                    let po = it.po_refs.get(n).or(it.po_refs.first());
                    crate::cash::run::match_ref(o, po.map(String::as_str))
                })
                .collect::<Vec<_>>()
                .join("\n")
                .into(),
        ]);
    }
    app.write(Actor::Rule("bench"), move |c, ctx| {
        c.insert_rows(
            "customers",
            &[
                "id",
                "name",
                "currency",
                "payment_terms_days",
                "credit_limit_minor",
                "open_receivables_minor",
                "created_at",
            ],
            &customers,
        )?;
        c.insert_rows(
            "payer_accounts",
            &[
                "account",
                "customer_id",
                "learned_from",
                "learned_by",
                "learned_at",
            ],
            &accounts,
        )?;
        for chunk in orders.chunks(20_000) {
            c.insert_rows(
                "orders",
                &[
                    "id",
                    "customer_id",
                    "currency",
                    "status",
                    "customer_reference",
                    "ship_to",
                    "net_minor",
                    "tax_minor",
                    "gross_minor",
                    "received_at",
                ],
                chunk,
            )?;
        }
        for chunk in invoices.chunks(20_000) {
            c.insert_rows(
                "invoices",
                &[
                    "id",
                    "number",
                    "customer_id",
                    "order_id",
                    "currency",
                    "issued_on",
                    "due_on",
                    "net_minor",
                    "tax_minor",
                    "gross_minor",
                    "open_minor",
                    "payment_status",
                    "created_at",
                    "discount_bp",
                    "discount_until",
                    "match_refs",
                ],
                chunk,
            )?;
        }
        for chunk in links.chunks(20_000) {
            c.insert_rows("invoice_orders", &["invoice_id", "order_id"], chunk)?;
        }
        let eur = |m| o2c_core::Money::new(m, o2c_core::Currency::EUR);
        let entry = o2c_core::ledger::invoice_issued("opening-balances", eur(total), eur(0))?;
        ledger::post(c, ctx, &entry, None)
    })
    .await
}
