//! The summary as the demo prints it: tables of counts and amounts, then the trial balance.

use super::summary::{DemoSummary, InvoiceFigures, StatusCount, eur};
use crate::ledger;
use o2c_core::money::decimal_string;
use o2c_core::{Currency, Money};
use std::fmt;

/// "1234567.89" → "1,234,567.89".
pub(super) fn thousands(decimal: &str) -> String {
    let (sign, digits) = decimal
        .strip_prefix('-')
        .map_or(("", decimal), |d| ("-", d));
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, ""), |(i, _)| (i, &digits[i.len()..]));
    let mut out = String::from(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out + frac
}

fn money(m: &Money) -> String {
    thousands(&m.to_decimal_string())
}

fn n(count: i64) -> String {
    thousands(&count.to_string())
}

/// One line of a table: a label, then a count and amounts, right-aligned.
fn row(f: &mut fmt::Formatter<'_>, label: &str, cells: &[&str]) -> fmt::Result {
    write!(f, "{label:<28}")?;
    for (i, cell) in cells.iter().enumerate() {
        write!(f, "{cell:>width$}", width = if i == 0 { 8 } else { 18 })?;
    }
    writeln!(f)
}

fn counts_table(f: &mut fmt::Formatter<'_>, title: &str, rows: &[StatusCount]) -> fmt::Result {
    row(f, title, &["count"])?;
    for r in rows {
        row(
            f,
            &format!("  {}", r.status.replace('_', " ")),
            &[&n(r.count)],
        )?;
    }
    row(f, "  total", &[&n(rows.iter().map(|r| r.count).sum())])?;
    writeln!(f)
}

impl DemoSummary {
    fn fmt_money(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        row(f, "Invoices (EUR)", &["count", "gross", "open"])?;
        for i in &self.invoices {
            let label = format!("  {}", i.payment_status.replace('_', " "));
            row(f, &label, &[&n(i.count), &money(&i.gross), &money(&i.open)])?;
        }
        let sum = |g: fn(&InvoiceFigures) -> i64| self.invoices.iter().map(g).sum::<i64>();
        let (gross, open) = (eur(sum(|i| i.gross.minor())), eur(sum(|i| i.open.minor())));
        row(
            f,
            "  total",
            &[&n(sum(|i| i.count)), &money(&gross), &money(&open)],
        )?;
        writeln!(f)?;
        let p = &self.payments;
        row(f, "Payments (EUR)", &["count", "received", "unapplied"])?;
        row(
            f,
            "  from the bank feed",
            &[&n(p.count), &money(&p.received), &money(&p.unapplied)],
        )?;
        writeln!(
            f,
            "  bank statement lines: {} applied by cash application on its own, {} waiting in the exceptions queue",
            p.bank_lines_applied_automatically, p.bank_lines_waiting
        )?;
        writeln!(f)?;
        let c = &self.credit;
        row(f, "Credit decisions", &["count"])?;
        row(f, "  approved by rule", &[&n(c.approved_by_rule)])?;
        row(f, "  held by rule", &[&n(c.held_by_rule)])?;
        row(f, "  rejected by rule", &[&n(c.rejected_by_rule)])?;
        row(f, "  released by analyst", &[&n(c.released_by_analyst)])?;
        row(f, "  rejected by analyst", &[&n(c.rejected_by_analyst)])?;
        row(f, "  holds still open", &[&n(c.holds_open)])?;
        let t = &self.touchless;
        let (done, of) = (n(t.touchless_orders), n(t.decided_orders));
        let rate = t.rate * 100.0;
        writeln!(
            f,
            "\nTouchless rate: {rate:.1} % ({done} of {of} decided orders needed no person)"
        )?;
        writeln!(
            f,
            "  decided: credit decided, cancelled orders left out; a review or hold is a touch"
        )
    }

    fn fmt_books(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tb = &self.trial_balance;
        let line = |f: &mut fmt::Formatter<'_>, label: &str, dr: &str, cr: &str| {
            writeln!(f, "{label:<42}{dr:>15}{cr:>15}")
        };
        let currencies: Vec<&str> = tb.totals.iter().map(|t| t.currency.as_str()).collect();
        line(
            f,
            &format!("Trial balance ({})", currencies.join(", ")),
            "debit",
            "credit",
        )?;
        for a in &tb.accounts {
            let label = format!("  {} {}", a.account, a.name);
            let amount = thousands(a.balance.trim_start_matches('-'));
            match a.balance_minor >= 0 {
                true => line(f, &label, &amount, "")?,
                false => line(f, &label, "", &amount)?,
            }
        }
        for t in &tb.totals {
            let exp = Currency::parse(&t.currency).map_or(2, |c| c.exponent());
            let side = |debit: bool| {
                let mine = tb.accounts.iter().filter(|a| a.currency == t.currency);
                let total = mine
                    .filter(|a| (a.balance_minor >= 0) == debit)
                    .map(|a| a.balance_minor.abs())
                    .sum();
                thousands(&decimal_string(total, exp))
            };
            writeln!(f, "{:-<72}", "")?;
            line(
                f,
                &format!("  total ({})", t.currency),
                &side(true),
                &side(false),
            )?;
        }
        let yes = |ok: bool| if ok { "yes" } else { "NO" };
        let all = |checks: &[ledger::SubledgerCheck]| yes(checks.iter().all(|c| c.matches));
        writeln!(f, "  balanced: {}", yes(tb.balanced))?;
        writeln!(
            f,
            "  in the functional currency ({}): balanced {}, subledgers agree {}",
            tb.functional.currency,
            yes(tb.functional.balanced),
            yes(tb.functional.receivables.matches && tb.functional.unapplied_cash.matches)
        )?;
        writeln!(
            f,
            "  open items = receivables account 1100: {}",
            all(&tb.receivables)
        )?;
        writeln!(
            f,
            "  unapplied payments = account 2000: {}",
            all(&tb.unapplied_cash)
        )
    }
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seed, seconds) = (self.seed, self.elapsed_seconds);
        writeln!(
            f,
            "o2c demo: a small company through the whole order-to-cash cycle"
        )?;
        writeln!(f, "seed {seed}, {seconds:.1} s\n{:-<72}", "")?;
        let (c, p, w) = (n(self.customers), n(self.products), n(self.warehouses));
        writeln!(
            f,
            "Master data: {c} customers, {p} products, {w} warehouses\n"
        )?;
        counts_table(f, "Orders", &self.orders)?;
        counts_table(f, "Shipments", &self.shipments)?;
        self.fmt_money(f)?;
        let waiting = n(self.backordered_lines);
        writeln!(
            f,
            "\nCancelled by customer service: {}",
            self.cancelled_by_demo
        )?;
        writeln!(f, "Order lines waiting for stock: {waiting}")?;
        let (events, failed) = (n(self.events), n(self.failed_automations));
        writeln!(
            f,
            "Events recorded: {events}; failed automations: {failed}\n"
        )?;
        self.fmt_books(f)
    }
}
