//! Replaying simulated lines through the matcher the way a run would: propose, book what was
//! applied (and learn the account), let a clerk book the truth for an exception (and learn the
//! account too, as a confirmed match), and count how often the automatic choice was right.

use super::{Noise, SimLine, Truth};
use crate::matching::index::MatchIndex;
use crate::matching::model::Policy;
use crate::matching::proposal::{
    Allocation, Decision, Evidence, Proposal, RefKind, Settlement, SettlementKind,
};
use crate::matching::propose;
use crate::money::Money;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Applied, to the right customer and items.
    Correct,
    /// Applied, but not entirely right.
    Wrong,
    /// Sent to a person.
    Exception,
}

/// Right means: the true customer, only the true items, and all of them when the payer meant to
/// settle them all.
pub fn judge(truth: &Truth, proposal: &Proposal) -> Verdict {
    let Some(applied) = proposal.applied() else {
        return Verdict::Exception;
    };
    if truth.customer != Some(applied.customer) {
        return Verdict::Wrong;
    }
    let s = &applied.settlement;
    let touched: Vec<_> = s
        .allocations
        .iter()
        .chain(&s.discounts)
        .chain(&s.deductions)
        .map(|a| a.item)
        .chain(s.write_off.iter().map(|w| w.item))
        .collect();
    let only_true = touched.iter().all(|k| truth.items.contains(k));
    let all_true = !truth.settles_all || truth.items.iter().all(|k| touched.contains(k));
    if only_true && all_true {
        Verdict::Correct
    } else {
        Verdict::Wrong
    }
}

#[derive(Debug, Default)]
pub struct Tally {
    pub lines: usize,
    /// Lines that truly pay invoices.
    pub payable: usize,
    pub auto: usize,
    pub correct: usize,
    pub wrong: usize,
    pub exceptions_by_reason: BTreeMap<&'static str, usize>,
    pub exceptions_by_noise: BTreeMap<Noise, usize>,
    pub wrong_by_noise: BTreeMap<Noise, usize>,
    /// The first wrong applications and exceptions, by line number, for whoever tunes the matcher.
    pub wrong_examples: Vec<(usize, Proposal)>,
    pub exception_examples: Vec<(usize, Proposal)>,
}

impl Tally {
    /// Share of all lines applied without a person.
    pub fn auto_share(&self) -> f64 {
        ratio(self.auto, self.lines)
    }
    /// Share of applied lines that were entirely right.
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.auto)
    }
    /// Share of lines that pay invoices and were applied right.
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.payable)
    }

    fn add(&mut self, line: &SimLine, proposal: &Proposal, verdict: Verdict) {
        self.lines += 1;
        self.payable += usize::from(line.truth.customer.is_some());
        match verdict {
            Verdict::Correct => {
                self.auto += 1;
                self.correct += 1;
            }
            Verdict::Wrong => {
                self.auto += 1;
                self.wrong += 1;
                *self.wrong_by_noise.entry(line.noise).or_default() += 1;
                if self.wrong_examples.len() < 200 {
                    self.wrong_examples.push((self.lines - 1, proposal.clone()));
                }
            }
            Verdict::Exception => {
                if let Decision::Exception(reason) = &proposal.decision {
                    let name = reason_name(reason);
                    *self.exceptions_by_reason.entry(name).or_default() += 1;
                }
                if line.truth.customer.is_some() {
                    *self.exceptions_by_noise.entry(line.noise).or_default() += 1;
                    if self.exception_examples.len() < 2_000 {
                        self.exception_examples
                            .push((self.lines - 1, proposal.clone()));
                    }
                }
            }
        }
    }
}

fn reason_name(r: &crate::matching::ExceptionReason) -> &'static str {
    use crate::matching::ExceptionReason as R;
    match r {
        R::NotAReceipt => "not_a_receipt",
        R::NoCandidate => "no_candidate",
        R::ReferencedItemsSettled => "referenced_items_settled",
        R::UnknownRfReference => "unknown_rf_reference",
        R::CurrencyDiffers => "currency_differs",
        R::LowConfidence { .. } => "low_confidence",
        R::ItemsUnclear { .. } => "items_unclear",
        R::Ambiguous { .. } => "ambiguous",
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "lines {}  auto-applied {} ({:.2} %)  right {}  wrong {}  precision {:.3} %  recall {:.2} %",
            self.lines,
            self.auto,
            100.0 * self.auto_share(),
            self.correct,
            self.wrong,
            100.0 * self.precision(),
            100.0 * self.recall()
        )?;
        write!(f, "exceptions:")?;
        for (reason, n) in &self.exceptions_by_reason {
            write!(f, " {reason} {n}")?;
        }
        writeln!(f)
    }
}

/// Runs `lines` through the matcher in order, booking as a run would.
pub fn replay(index: &mut MatchIndex, lines: &[SimLine], policy: &Policy) -> Tally {
    let mut tally = Tally::default();
    for line in lines {
        let proposal = propose(index, &line.payment, policy);
        let verdict = judge(&line.truth, &proposal);
        tally.add(line, &proposal, verdict);
        let account = line.payment.counterparty_account.as_deref();
        if let Some(applied) = proposal.applied() {
            let by_reference = applied.evidence.iter().any(|e| {
                matches!(e, Evidence::Reference { kind, .. } if *kind >= RefKind::InvoiceNumberMangled)
            });
            if index.record(&applied.settlement).is_ok()
                && by_reference
                && let Some(a) = account
            {
                index.learn_account(a, applied.customer);
            }
        } else if let Some(customer) = line.truth.customer {
            if let Some(s) = clerk_settlement(index, line) {
                let _ = index.record(&s);
            }
            if let Some(a) = account {
                index.learn_account(a, customer);
            }
        }
    }
    tally
}

/// What the clerk books for an exception: the true items, oldest first, and what the payer
/// meant to settle but did not pay as a deduction.
fn clerk_settlement(index: &MatchIndex, line: &SimLine) -> Option<Settlement> {
    let currency = line.payment.amount.currency();
    let mut cash = line.payment.amount.minor();
    let mut s = Settlement {
        kind: SettlementKind::Partial,
        allocations: Vec::new(),
        discounts: Vec::new(),
        write_off: None,
        deductions: Vec::new(),
        on_account: None,
    };
    for &item in &line.truth.items {
        let open = index.open_amount(item)?.minor();
        if open <= 0 {
            continue;
        }
        let paid = open.min(cash);
        cash -= paid;
        if paid > 0 {
            s.allocations.push(Allocation {
                item,
                amount: Money::new(paid, currency),
            });
        }
        if line.truth.settles_all && paid < open {
            s.deductions.push(Allocation {
                item,
                amount: Money::new(open - paid, currency),
            });
        }
    }
    Some(s)
}

/// A line, its truth and what the matcher proposed, for reading.
pub fn describe(line: &SimLine, proposal: &Proposal) -> String {
    let p = &line.payment;
    let mut out = format!(
        "{:?}\n  paid {} on {} by {:?} from {:?}\n  text {:?} structured {:?}\n  truth {:?}\n  decision {:?}",
        line.noise,
        p.amount,
        p.value_date,
        p.counterparty_name,
        p.counterparty_account,
        p.remittance,
        p.structured_refs,
        line.truth,
        proposal.decision,
    );
    for c in proposal.candidates.iter().take(3) {
        let items: Vec<_> = c
            .settlement
            .allocations
            .iter()
            .map(|a| (a.item.0, a.amount.minor()))
            .collect();
        out.push_str(&format!(
            "\n    {} {:?} {:?} {:?} {:?}",
            c.score, c.customer, c.settlement.kind, items, c.evidence
        ));
    }
    out
}
