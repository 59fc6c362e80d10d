//! What the matcher answers: ranked candidates, each with its score, its evidence and the exact
//! settlement it would book, and the decision: apply the best one, or ask a person and say why.

use super::model::{CustomerKey, ItemKey};
use crate::money::Money;
use serde::Serialize;
use std::fmt;

/// How an item was named on the bank line, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// Only the running number ("Rechnung 4711"), which repeats across years and series.
    Sequence,
    /// Only the digits of a purchase-order number ("4711" for "PO-4711").
    PoDigits,
    /// An invoice number one typo away from the one written (a digit wrong or two swapped),
    /// found because what was written fits nothing.
    InvoiceNumberNear,
    /// The customer's purchase-order number; unique within a customer at most.
    PoNumber,
    /// The invoice number reshaped: year and number without the series or the zeros,
    /// "42/2026", a list continued by its last digits ("…000042/43").
    InvoiceNumberMangled,
    /// An order id the item bills.
    OrderId,
    /// The invoice number, all its letters and digits.
    InvoiceNumber,
    /// An ISO 11649 RF reference with valid check digits.
    Rf,
}

impl RefKind {
    pub fn points(self) -> i32 {
        match self {
            RefKind::Sequence => 150,
            RefKind::PoDigits => 250,
            RefKind::InvoiceNumberNear => 300,
            RefKind::PoNumber => 400,
            RefKind::InvoiceNumberMangled => 500,
            RefKind::OrderId | RefKind::InvoiceNumber => 600,
            RefKind::Rf => 700,
        }
    }
}

/// One reason for (or against) a candidate; the candidate's score is the sum of their points
/// (not below zero). Evidence about the items (references, amount) and about the payer (account,
/// name) are also judged apart: the payer alone never decides which items were paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "evidence", rename_all = "snake_case")]
pub enum Evidence {
    /// The bank line names the candidate's items; `kind` is the weakest way one of them was named.
    Reference { kind: RefKind, items: u16 },
    /// The payment equals what the items owe.
    AmountExact,
    /// The payment equals what the items owe less the early-payment discount, paid in time.
    AmountWithDiscount,
    /// The payment equals a combination of the customer's open items the line did not name.
    AmountSubset { items: u16, contiguous: bool },
    /// The payment equals the named items plus others that make up the rest exactly (a
    /// remittance cut off by the bank's field length). A rest small enough to be a mere
    /// overpayment explains less.
    AmountFill { items: u16, small_rest: bool },
    /// Short by no more than the write-off tolerance.
    AmountShortWithinTolerance,
    /// A single item owes a little more than was paid, and nothing on the line names it: bank
    /// charges, or another customer's payment of a similar sum.
    AmountNear,
    /// Short by more than the tolerance but within the deduction limit.
    AmountShort,
    /// Well short: a partial payment.
    AmountPartial,
    /// More than the items owe, by no more than a plausible overpayment.
    AmountOver,
    /// Far more than the items owe: more likely items the line did not name (a remittance cut
    /// short) than an overpayment.
    AmountOverLarge,
    /// The amount owed by a different item of the same customer equals the payment exactly.
    AmountMatchesAnotherItem,
    /// The line names an order or a running number rather than invoices, and the amount does
    /// not confirm which of the invoices were paid.
    AmountUnconfirmed,
    /// The remittance fills its field (140 characters), so the list of items was probably cut,
    /// and the amount does not fit the items it names.
    RemittanceCut,
    /// The line names other items by their numbers, yet this candidate rests on the amount.
    OtherItemsNamed,
    /// The combination search ran out of steps, so another combination may exist.
    SubsetSearchIncomplete,
    /// The paying account belongs to this customer alone.
    AccountKnown,
    /// The paying account pays for several customers, this one among them.
    AccountShared,
    /// The paying account is known for another customer, and only for that one.
    AccountOfAnotherCustomer,
    /// The payer's name resembles the customer's (similarity in percent; 100 when they are the
    /// same once case, transliteration and legal form are set aside).
    NameMatch { similarity_pct: u8 },
}

impl Evidence {
    pub fn points(&self) -> i32 {
        match self {
            Evidence::Reference { kind, .. } => kind.points(),
            Evidence::AmountExact => 400,
            Evidence::AmountWithDiscount => 400,
            Evidence::AmountSubset { .. } => 400,
            Evidence::AmountFill {
                small_rest: false, ..
            } => 250,
            Evidence::AmountFill {
                small_rest: true, ..
            } => 150,
            Evidence::AmountShortWithinTolerance => 250,
            Evidence::AmountShort => 150,
            Evidence::AmountOver => 50,
            Evidence::AmountPartial | Evidence::AmountNear => 100,
            Evidence::AmountOverLarge => -350,
            Evidence::AmountMatchesAnotherItem => -400,
            Evidence::OtherItemsNamed => -300,
            Evidence::AmountUnconfirmed => -200,
            Evidence::RemittanceCut => -400,
            Evidence::SubsetSearchIncomplete => -100,
            Evidence::AccountKnown => 400,
            Evidence::AccountShared => 100,
            Evidence::AccountOfAnotherCustomer => -100,
            Evidence::NameMatch { similarity_pct } if *similarity_pct >= 100 => 400,
            Evidence::NameMatch { similarity_pct } if *similarity_pct >= 93 => 250,
            Evidence::NameMatch { similarity_pct } if *similarity_pct >= 85 => 100,
            Evidence::NameMatch { .. } => 0,
        }
    }

    pub(crate) fn is_reference(&self) -> bool {
        matches!(self, Evidence::Reference { .. })
    }

    /// Evidence about who paid, as against which items were paid.
    pub fn is_about_payer(&self) -> bool {
        matches!(
            self,
            Evidence::AccountKnown
                | Evidence::AccountShared
                | Evidence::AccountOfAnotherCustomer
                | Evidence::NameMatch { .. }
        )
    }
}

/// Money put on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub item: ItemKey,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteOff {
    pub item: ItemKey,
    pub amount: Money,
    pub account: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementKind {
    /// The items are paid exactly.
    Exact,
    /// Paid less the early-payment discount, in time.
    Discount,
    /// Short within tolerance; the difference is written off.
    WrittenOff,
    /// Short beyond tolerance; the difference becomes a deduction to dispute.
    Deduction,
    /// Well short; the rest stays open.
    Partial,
    /// More than owed; the rest is credited to the customer's account.
    Overpayment,
}

/// What applying a candidate books. Cash allocations plus `on_account` equal the payment; for
/// each item, cash, discount, write-off and deduction together never exceed what it owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub kind: SettlementKind,
    /// Cash per item, oldest due first; negative for a credit note taken into the payment.
    pub allocations: Vec<Allocation>,
    pub discounts: Vec<Allocation>,
    pub write_off: Option<WriteOff>,
    /// Amounts the customer withheld, to be opened as disputes.
    pub deductions: Vec<Allocation>,
    /// Overpayment credited to the customer's account.
    pub on_account: Option<Money>,
}

impl Settlement {
    /// Every item this settlement touches (cash, discount, write-off or deduction), each once,
    /// in allocation order.
    pub fn items(&self) -> impl Iterator<Item = ItemKey> + '_ {
        let mut seen: Vec<ItemKey> = Vec::new();
        self.allocations
            .iter()
            .chain(&self.discounts)
            .chain(&self.deductions)
            .map(|a| a.item)
            .chain(self.write_off.iter().map(|w| w.item))
            .filter(move |k| {
                let new = !seen.contains(k);
                if new {
                    seen.push(*k);
                }
                new
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub customer: CustomerKey,
    /// Sum of the evidence's points: 800 is sure enough by default, the best evidence together
    /// comes to about 1,700.
    pub score: u16,
    pub evidence: Vec<Evidence>,
    pub settlement: Settlement,
}

/// Why a line went to the exceptions queue instead of being applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ExceptionReason {
    /// Zero or negative: a return or a charge, not a receipt to apply.
    NotAReceipt,
    /// Nothing on the line points at an open item and the payer is not known.
    NoCandidate,
    /// The line names items that are already settled: perhaps paid twice.
    ReferencedItemsSettled,
    /// A valid RF reference that is none of ours.
    UnknownRfReference,
    /// The named items are in another currency than the payment.
    CurrencyDiffers,
    LowConfidence {
        score: u16,
        required: u16,
    },
    /// The payer is well identified, but too little says which of its items were paid.
    ItemsUnclear {
        item_score: u16,
        required: u16,
    },
    Ambiguous {
        best: u16,
        runner_up: u16,
        required_margin: u16,
    },
}

impl fmt::Display for ExceptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExceptionReason::NotAReceipt => {
                f.write_str("not a receipt: the amount is not positive")
            }
            ExceptionReason::NoCandidate => f.write_str(
                "no open item fits: no usable reference, and the payer and amount match nothing",
            ),
            ExceptionReason::ReferencedItemsSettled => {
                f.write_str("the invoices named are already settled: possibly paid twice")
            }
            ExceptionReason::UnknownRfReference => {
                f.write_str("the RF reference is valid but matches none of our open items")
            }
            ExceptionReason::CurrencyDiffers => {
                f.write_str("the invoices named are in another currency than the payment")
            }
            ExceptionReason::LowConfidence { score, required } => write!(
                f,
                "best candidate scores {score}, below the {required} needed to apply it automatically"
            ),
            ExceptionReason::ItemsUnclear {
                item_score,
                required,
            } => write!(
                f,
                "the payer is known, but the evidence for which items it pays scores {item_score}, \
                 below the {required} needed"
            ),
            ExceptionReason::Ambiguous {
                best,
                runner_up,
                required_margin,
            } => write!(
                f,
                "ambiguous: best candidate scores {best} and the next {runner_up}, \
                 closer than the {required_margin} needed"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Apply `candidates[0]`.
    AutoApply,
    Exception(ExceptionReason),
}

/// The matcher's answer for one payment: candidates best first, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub decision: Decision,
    pub candidates: Vec<Candidate>,
}

impl Proposal {
    /// The candidate to apply, when the decision is to apply one.
    pub fn applied(&self) -> Option<&Candidate> {
        match self.decision {
            Decision::AutoApply => self.candidates.first(),
            Decision::Exception(_) => None,
        }
    }
}
