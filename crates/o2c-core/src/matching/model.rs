//! What the matcher is given: open items, what is known about each customer as a payer, the
//! payment line itself, and the policy that says how sure is sure enough.

use crate::money::{Money, Percent};
use chrono::NaiveDate;
use serde::Serialize;

/// The caller's handle for an open item (an invoice or credit note row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ItemKey(pub u64);

/// The caller's handle for a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CustomerKey(pub u64);

/// "2 % if paid by …": the discount earned by paying on or before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyDiscount {
    pub rate: Percent,
    pub until: NaiveDate,
}

/// An invoice (positive `open`) or credit note (negative `open`) that is not yet settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItem {
    pub key: ItemKey,
    pub customer: CustomerKey,
    /// The document number as printed: `INV-2026-000042`. Its RF reference is derived from it
    /// (`reference::rf_reference`), so the RF needs no entry of its own.
    pub number: String,
    pub open: Money,
    pub total: Money,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub discount: Option<EarlyDiscount>,
    /// Order ids the item bills (`ord_01JD…`).
    pub order_refs: Vec<String>,
    /// The customer's purchase-order numbers, as the customer wrote them.
    pub po_refs: Vec<String>,
}

/// A customer as a payer: the name banks show and the accounts it is known to pay from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerProfile {
    pub key: CustomerKey,
    pub name: String,
    /// IBANs or other account numbers, any spacing or case.
    pub accounts: Vec<String>,
}

/// One incoming bank line (camt.053/054 entry, MT940 :61:/:86:, BAI2 16 record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub amount: Money,
    pub value_date: NaiveDate,
    pub counterparty_name: String,
    pub counterparty_account: Option<String>,
    /// Unstructured remittance lines, as the bank split them.
    pub remittance: Vec<String>,
    /// Structured references (camt `CdtrRefInf/Ref`, `RfrdDocInf/Nb`).
    pub structured_refs: Vec<String>,
    pub end_to_end_id: Option<String>,
}

/// How sure is sure enough, and what to do with differences. A score is the sum of the
/// evidence's points ([`Evidence::points`](super::Evidence::points)): 800 is enough by default,
/// the strongest evidence together comes to about 1,700.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// A candidate below this score is never applied without a person.
    pub auto_apply_score: u16,
    /// The best candidate must lead the runner-up by this much.
    pub min_margin: u16,
    /// Of its score, at least this much must come from evidence about the items (references and
    /// amount) rather than about the payer.
    pub min_item_score: u16,
    /// A shortfall up to this many minor units, and up to `write_off_max_bp` of the amount due,
    /// is written off (bank charges, rounding).
    pub write_off_max_minor: i64,
    pub write_off_max_bp: i64,
    /// Ledger account the written-off differences go to.
    pub write_off_account: String,
    /// A larger shortfall up to this share of the amount due is taken as a deduction and opened
    /// as a dispute; a shortfall beyond it is an ordinary partial payment.
    pub deduction_max_bp: i64,
    /// An overpayment up to this many minor units, or up to `overpayment_max_bp` of the amount
    /// due if that is more, is credited to the customer; a larger one more likely pays items the
    /// line does not name, and is not applied without a person.
    pub overpayment_max_minor: i64,
    pub overpayment_max_bp: i64,
    /// Days after the discount date a payment may still be valued and earn the discount
    /// (the bank's float between the payer's order and our value date).
    pub discount_grace_days: u32,
    /// Combinations of open items tried for one payment: at most this many items each…
    pub max_subset_items: usize,
    /// …drawn from this many of the customer's items due nearest the value date…
    pub max_subset_pool: usize,
    /// …and at most this many search steps, so a customer with hundreds of items stays cheap.
    pub subset_step_budget: u32,
    /// Candidates kept on a proposal as suggestions.
    pub max_suggestions: usize,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            auto_apply_score: 800,
            min_margin: 150,
            min_item_score: 400,
            write_off_max_minor: 1_500,
            write_off_max_bp: 500,
            write_off_account: "6890".to_string(),
            deduction_max_bp: 2_500,
            overpayment_max_minor: 10_000,
            overpayment_max_bp: 500,
            discount_grace_days: 3,
            max_subset_items: 8,
            max_subset_pool: 16,
            subset_step_budget: 20_000,
            max_suggestions: 5,
        }
    }
}

impl Policy {
    /// The largest shortfall on `due_minor` that is written off rather than chased.
    pub fn write_off_tolerance(&self, due_minor: i64) -> i64 {
        let share = i128::from(due_minor.max(0)) * i128::from(self.write_off_max_bp) / 10_000;
        self.write_off_max_minor
            .min(i64::try_from(share).unwrap_or(i64::MAX))
    }

    /// The largest shortfall on `due_minor` that is still a deduction rather than a partial payment.
    pub fn deduction_limit(&self, due_minor: i64) -> i64 {
        let share = i128::from(due_minor.max(0)) * i128::from(self.deduction_max_bp) / 10_000;
        i64::try_from(share).unwrap_or(i64::MAX)
    }

    /// The largest overpayment on `due_minor` taken as such rather than as unnamed items.
    pub fn plausible_overpayment(&self, due_minor: i64) -> i64 {
        let share = i128::from(due_minor.max(0)) * i128::from(self.overpayment_max_bp) / 10_000;
        i64::try_from(share)
            .unwrap_or(i64::MAX)
            .max(self.overpayment_max_minor)
    }
}
