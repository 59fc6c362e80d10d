//! What paying a set of items with one payment books: cash oldest due first, the early-payment
//! discount when it was earned, and the difference: written off when small, a deduction to
//! dispute when larger, left open when the payment is plainly partial, or credited to the
//! customer when the payment is more than owed.

use super::index::{Item, MatchIndex};
use super::model::{Payment, Policy};
use super::proposal::{Allocation, Evidence, Settlement, SettlementKind, WriteOff};
use crate::money::{Currency, Money};
use chrono::Days;

struct Due {
    item: u32,
    open: i64,
    discount: i64,
}

/// Settles `items` (one customer's, in the payment's currency) with `payment`. `None` when
/// nothing is owed or the sums leave the range of money.
pub(crate) fn settle(
    ix: &MatchIndex,
    items: &[u32],
    payment: &Payment,
    policy: &Policy,
) -> Option<(Settlement, Evidence)> {
    let currency = payment.amount.currency();
    let mut ordered = items.to_vec();
    ordered.sort_by_key(|&i| (ix.items[i as usize].due_on, i));
    let mut allocations = Vec::new();
    let mut available = payment.amount.minor();
    let mut dues: Vec<Due> = Vec::with_capacity(ordered.len());
    for item in ordered {
        let it = &ix.items[item as usize];
        if it.open < 0 {
            // A credit note named with the invoices is taken whole into the payment.
            available = available.checked_sub(it.open)?;
            allocations.push(alloc(it.key, it.open, currency));
        } else if it.open > 0 {
            dues.push(Due {
                item,
                open: it.open,
                discount: earned_discount(ix, it, payment, policy)?,
            });
        }
    }
    if dues.is_empty() {
        return None;
    }
    let owed = dues.iter().try_fold(0i64, |s, d| s.checked_add(d.open))?;
    let discount = dues
        .iter()
        .try_fold(0i64, |s, d| s.checked_add(d.discount))?;
    let (kind, take_discount) = classify(available, owed, discount, policy);
    let mut s = Settlement {
        kind,
        allocations,
        discounts: Vec::new(),
        write_off: None,
        deductions: Vec::new(),
        on_account: None,
    };
    // A payer who took less than the full discount gets what was taken, from the last items.
    let mut discount_left = if take_discount {
        discount.min(owed - available.min(owed))
    } else {
        0
    };
    let mut cash = available;
    let mut uncovered: Vec<(u32, i64)> = Vec::new();
    for d in &dues {
        let key = ix.items[d.item as usize].key;
        let disc = d.discount.min(discount_left);
        discount_left -= disc;
        if disc > 0 {
            s.discounts.push(alloc(key, disc, currency));
        }
        let want = d.open - disc;
        let paid = want.min(cash.max(0));
        cash -= paid;
        if paid != 0 {
            s.allocations.push(alloc(key, paid, currency));
        }
        if paid < want {
            uncovered.push((d.item, want - paid));
        }
    }
    finish(ix, &mut s, cash, &uncovered, policy, currency);
    let evidence = match s.kind {
        SettlementKind::Overpayment
            if available - owed > policy.plausible_overpayment(owed) || field_full(payment) =>
        {
            Evidence::AmountOverLarge
        }
        kind => evidence_of(kind),
    };
    Some((s, evidence))
}

/// Unstructured remittance is cut at 140 characters: a payment for more than the items a full
/// field names most likely pays items that did not fit.
pub(crate) fn field_full(payment: &Payment) -> bool {
    payment
        .remittance
        .iter()
        .map(|l| l.chars().count())
        .sum::<usize>()
        >= 135
}

fn classify(available: i64, owed: i64, discount: i64, policy: &Policy) -> (SettlementKind, bool) {
    if available == owed {
        return (SettlementKind::Exact, false);
    }
    if available > owed {
        return (SettlementKind::Overpayment, false);
    }
    let short = owed - available;
    // Closer to the discounted amount than to the full one: the discount was taken.
    let take_discount = discount > 0 && short * 2 >= discount;
    let base = if take_discount { owed - discount } else { owed };
    if take_discount && available >= base {
        return (SettlementKind::Discount, true);
    }
    let short = base - available;
    if short <= policy.write_off_tolerance(base) {
        (SettlementKind::WrittenOff, take_discount)
    } else if short <= policy.deduction_limit(base) {
        (SettlementKind::Deduction, take_discount)
    } else {
        (SettlementKind::Partial, false)
    }
}

fn finish(
    ix: &MatchIndex,
    s: &mut Settlement,
    cash_left: i64,
    uncovered: &[(u32, i64)],
    policy: &Policy,
    currency: Currency,
) {
    let key = |i: u32| ix.items[i as usize].key;
    match s.kind {
        SettlementKind::Overpayment => s.on_account = Some(Money::new(cash_left, currency)),
        SettlementKind::WrittenOff if uncovered.len() == 1 => {
            let (item, amount) = uncovered[0];
            s.write_off = Some(WriteOff {
                item: key(item),
                amount: Money::new(amount, currency),
                account: policy.write_off_account.clone(),
            });
        }
        SettlementKind::WrittenOff | SettlementKind::Deduction => {
            s.kind = SettlementKind::Deduction;
            s.deductions = uncovered
                .iter()
                .map(|&(item, amount)| alloc(key(item), amount, currency))
                .collect();
        }
        SettlementKind::Exact | SettlementKind::Discount | SettlementKind::Partial => {}
    }
}

fn evidence_of(kind: SettlementKind) -> Evidence {
    match kind {
        SettlementKind::Exact => Evidence::AmountExact,
        SettlementKind::Discount => Evidence::AmountWithDiscount,
        SettlementKind::WrittenOff => Evidence::AmountShortWithinTolerance,
        SettlementKind::Deduction => Evidence::AmountShort,
        SettlementKind::Partial => Evidence::AmountPartial,
        SettlementKind::Overpayment => Evidence::AmountOver,
    }
}

/// The discount `item` allows for this payment: its rate on what is open, when the value date
/// is within the discount period plus the bank's grace days.
pub(crate) fn earned_discount(
    ix: &MatchIndex,
    item: &Item,
    payment: &Payment,
    policy: &Policy,
) -> Option<i64> {
    let Some(d) = ix.discount(item) else {
        return Some(0);
    };
    let last_day = d
        .until
        .checked_add_days(Days::new(u64::from(policy.discount_grace_days)))?;
    if payment.value_date > last_day || item.open <= 0 {
        return Some(0);
    }
    d.rate.of(item.open_money()).ok().map(|m| m.minor())
}

fn alloc(item: super::model::ItemKey, minor: i64, currency: Currency) -> Allocation {
    Allocation {
        item,
        amount: Money::new(minor, currency),
    }
}
