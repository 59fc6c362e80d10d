//! From evidence to decision. Candidates come from the references on the line (each customer's
//! named items, settled as named, completed by a combination when the payment is more, cut to
//! a combination when it is less) and from the amount among the items of the customers the
//! payer is known or named as. Each is scored by its evidence; the best is applied only when it
//! is sure enough and clearly ahead of the next.

use super::amount::{consecutive_runs, subsets};
use super::extract::{self, Found, RefHit};
use super::index::MatchIndex;
use super::model::{Payment, Policy};
use super::payer::{PayerName, similarity};
use super::proposal::{
    Candidate, Decision, Evidence, ExceptionReason, Proposal, RefKind, Settlement, SettlementKind,
};
use super::settle::{earned_discount, settle};

/// Names less alike than this are not evidence at all.
const MIN_NAME_SIMILARITY: f64 = 0.85;
/// Customers a payer's name alone may point at.
const MAX_NAMED_CUSTOMERS: usize = 3;
/// Items a cut-off remittance may have left out and a combination may put back.
const MAX_FILL_ITEMS: usize = 3;
/// A reference shared by more items than this is not read even for a known payer.
const MAX_CROWD: usize = 512;
/// Named items whose every combination is tried when the payment does not pay them all.
const MAX_PART_OF: usize = 10;

/// Amounts that confirm the items: paid in full, less the discount, or less a small difference.
fn fits(kind: SettlementKind) -> bool {
    matches!(
        kind,
        SettlementKind::Exact | SettlementKind::Discount | SettlementKind::WrittenOff
    )
}

/// The matcher's proposal for one payment. Pure: the index is not changed; apply the result with
/// [`MatchIndex::record`] once it is booked.
pub fn propose(ix: &MatchIndex, payment: &Payment, policy: &Policy) -> Proposal {
    if !payment.amount.is_positive() {
        return Proposal {
            decision: Decision::Exception(ExceptionReason::NotAReceipt),
            candidates: Vec::new(),
        };
    }
    let found = extract::references(ix, payment);
    let mut m = Matcher::new(ix, payment, policy, &found);
    m.reference_candidates();
    m.amount_candidates();
    m.finish()
}

struct Draft {
    customer: u32,
    items: Vec<u32>,
    settlement: Settlement,
    evidence: Vec<Evidence>,
    score: i32,
    /// The part of the score about the items rather than the payer.
    item_score: i32,
}

struct Matcher<'a> {
    ix: &'a MatchIndex,
    payment: &'a Payment,
    policy: &'a Policy,
    found: &'a Found<'a>,
    account_customers: &'a [u32],
    payer_name: PayerName,
    drafts: Vec<Draft>,
    settled_refs: bool,
    currency_differs: bool,
    /// The line names items by number, RF or order, in a way an amount alone must not
    /// override: see [`Matcher::named_items_stand`].
    names_items: bool,
}

impl<'a> Matcher<'a> {
    fn new(ix: &'a MatchIndex, payment: &'a Payment, policy: &'a Policy, found: &'a Found<'a>) -> Self {
        Matcher {
            ix,
            payment,
            policy,
            found,
            account_customers: payment
                .counterparty_account
                .as_deref()
                .map_or(&[], |a| ix.account_customers(a)),
            payer_name: PayerName::new(&payment.counterparty_name),
            drafts: Vec::new(),
            settled_refs: false,
            currency_differs: false,
            names_items: false,
        }
    }

    fn reference_candidates(&mut self) {
        let mut groups: Vec<(u32, Vec<RefHit>)> = Vec::new();
        let mut from_crowd: Vec<RefHit> = Vec::new();
        for (kind, hits) in &self.found.crowded {
            if !self.account_customers.is_empty() && hits.len() <= MAX_CROWD {
                from_crowd.extend(
                    hits.iter()
                        .filter(|&i| self.account_customers.contains(&self.ix.customer_of[i as usize]))
                        .map(|item| RefHit { item, kind: *kind }),
                );
            }
        }
        for hit in self.found.hits.iter().chain(&from_crowd) {
            let it = &self.ix.items[hit.item as usize];
            if it.currency != self.payment.amount.currency() {
                self.currency_differs = true;
            } else if it.open == 0 {
                self.settled_refs |= hit.kind >= RefKind::InvoiceNumberMangled;
            } else {
                match groups.iter_mut().find(|(c, _)| *c == it.customer) {
                    Some((_, g)) => match g.iter_mut().find(|h| h.item == hit.item) {
                        Some(h) => h.kind = h.kind.max(hit.kind),
                        None => g.push(*hit),
                    },
                    None => groups.push((it.customer, vec![*hit])),
                }
            }
        }
        for (customer, hits) in groups {
            // Strong references first; weaker ones only widen the set when they add items.
            let mut last_len = 0;
            for floor in [RefKind::InvoiceNumberMangled, RefKind::PoDigits, RefKind::Sequence] {
                let set: Vec<RefHit> = hits.iter().copied().filter(|h| h.kind >= floor).collect();
                if set.len() > last_len {
                    last_len = set.len();
                    self.reference_plans(customer, &set);
                }
            }
        }
    }

    fn reference_plans(&mut self, customer: u32, set: &[RefHit]) {
        let items: Vec<u32> = set.iter().map(|h| h.item).collect();
        let kind = set.iter().map(|h| h.kind).min().unwrap_or(RefKind::Sequence);
        let Some((settlement, amount)) = settle(self.ix, &items, self.payment, self.policy) else {
            return;
        };
        let reference = Evidence::Reference {
            kind,
            items: count(items.len()),
        };
        let settled_kind = settlement.kind;
        let over = settlement.on_account.map(|m| m.minor());
        let mut evidence = vec![reference, amount];
        if !fits(settled_kind) && kind <= RefKind::PoNumber {
            evidence.push(Evidence::AmountUnconfirmed);
        }
        self.push(customer, items.clone(), settlement, evidence);
        match (settled_kind, over) {
            (SettlementKind::Overpayment, Some(rest)) => self.fill(customer, &items, reference, rest),
            (SettlementKind::Partial | SettlementKind::Deduction | SettlementKind::WrittenOff, _)
                if items.len() >= 2 =>
            {
                self.part_of(customer, set)
            }
            _ => {}
        }
    }

    /// The named items and one to three of the customer's other items that make up the rest
    /// exactly: a remittance cut off by the bank's field length. More would be a coincidence
    /// as often as an explanation.
    fn fill(&mut self, customer: u32, named: &[u32], reference: Evidence, rest: i64) {
        let currency = self.payment.amount.currency();
        let pool: Vec<u32> = self
            .ix
            .pool(customer, self.payment.value_date, self.policy.max_subset_pool)
            .into_iter()
            .filter(|i| !named.contains(i) && self.ix.items[*i as usize].currency == currency)
            .collect();
        let amounts: Vec<i64> = pool.iter().map(|&i| self.ix.items[i as usize].open).collect();
        let p = self.policy;
        let max = p.max_subset_items.min(MAX_FILL_ITEMS);
        let search = subsets(&amounts, rest, 1, max, 2, p.subset_step_budget);
        for sol in &search.solutions {
            let mut items = named.to_vec();
            items.extend(sol.iter().map(|&k| pool[k]));
            if let Some((s, _)) = settle(self.ix, &items, self.payment, p) {
                let mut ev = vec![reference, Evidence::AmountFill { items: count(sol.len()) }];
                if !search.complete {
                    ev.push(Evidence::SubsetSearchIncomplete);
                }
                self.push(customer, items, s, ev);
            }
        }
    }

    /// Some of the named items: exactly (the others are paid separately or disputed) or, when
    /// the line names an order rather than its invoices, short by no more than the tolerance.
    fn part_of(&mut self, customer: u32, set: &[RefHit]) {
        let open: Vec<RefHit> = set
            .iter()
            .copied()
            .filter(|h| self.ix.items[h.item as usize].open > 0)
            .take(MAX_PART_OF)
            .collect();
        let pay = self.payment.amount.minor();
        let weak = set.iter().all(|h| h.kind <= RefKind::PoNumber);
        let owes: Vec<i64> = open.iter().map(|h| self.ix.items[h.item as usize].open).collect();
        let full = (1u32 << open.len()) - 1;
        let mut found = 0;
        for mask in 1..full {
            let owed: i64 = (0..open.len()).filter(|b| mask & (1 << b) != 0).map(|b| owes[b]).sum();
            let exact = owed == pay;
            let near = weak && owed > pay && owed - pay <= self.policy.write_off_tolerance(owed);
            if !(exact || near) || found >= 3 {
                continue;
            }
            found += 1;
            let chosen: Vec<RefHit> = (0..open.len())
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| open[b])
                .collect();
            let items: Vec<u32> = chosen.iter().map(|h| h.item).collect();
            let kind = chosen.iter().map(|h| h.kind).min().unwrap_or(RefKind::Sequence);
            if let Some((s, amount)) = settle(self.ix, &items, self.payment, self.policy) {
                let amount = if exact {
                    Evidence::AmountSubset {
                        items: count(items.len()),
                        contiguous: false,
                    }
                } else {
                    amount
                };
                let reference = Evidence::Reference {
                    kind,
                    items: count(items.len()),
                };
                self.push(customer, items, s, vec![reference, amount]);
            }
        }
    }

    /// Whether strongly named items speak against candidates resting on the amount. They do
    /// when a named item is settled (paid twice?), when one belongs to a customer the payer is
    /// known as, or when the amount fits the named items. They do not when every named item is
    /// another customer's and the amount fits none of them: a mistyped number, most likely.
    fn named_items_stand(&self) -> bool {
        let strong: Vec<&RefHit> = self
            .found
            .hits
            .iter()
            .filter(|h| h.kind >= RefKind::InvoiceNumberMangled)
            .collect();
        if strong.is_empty() {
            return false;
        }
        let payer_customers: Vec<u32> = self.drafts.iter().filter(|d| !d.evidence.iter().any(Evidence::is_reference)).map(|d| d.customer).collect();
        strong.iter().any(|h| {
            let it = &self.ix.items[h.item as usize];
            it.open == 0 || payer_customers.contains(&it.customer)
        }) || self.drafts.iter().any(|d| {
            matches!(d.evidence.first(), Some(Evidence::Reference { kind, .. }) if *kind >= RefKind::InvoiceNumberMangled)
                && fits(d.settlement.kind)
        })
    }

    fn amount_candidates(&mut self) {
        let fitted = self.drafts.iter().any(|d| {
            matches!(d.evidence.first(), Some(Evidence::Reference { kind, .. }) if *kind >= RefKind::InvoiceNumberMangled)
                && fits(d.settlement.kind)
        });
        let mut customers: Vec<u32> = self.account_customers.iter().copied().take(4).collect();
        if customers.is_empty() && !fitted {
            let ix = self.ix;
            let named = ix.names.lookup(
                &self.payer_name,
                |c| ix.customers.get(c as usize).map(|e| &e.name),
                MIN_NAME_SIMILARITY,
            );
            customers.extend(named.iter().take(MAX_NAMED_CUSTOMERS).map(|&(c, _)| c));
        }
        for c in customers {
            self.amount_plans(c, !fitted);
        }
        self.names_items = self.named_items_stand();
    }

    /// Single items the amount pays exactly (or less the discount, or less a small difference),
    /// then, when `combinations` and no single item pays exactly, runs and combinations of the
    /// customer's items.
    fn amount_plans(&mut self, customer: u32, combinations: bool) {
        let ix = self.ix;
        let pay = self.payment.amount.minor();
        let currency = self.payment.amount.currency();
        let mut singles: Vec<u32> = ix.owing_exactly(customer, pay).collect();
        let exact = !singles.is_empty();
        singles.extend(ix.owing_after_discount(customer, pay).filter(|&i| {
            earned_discount(ix, &ix.items[i as usize], self.payment, self.policy).unwrap_or(0) > 0
        }));
        if singles.is_empty() {
            let near = pay.saturating_add(self.policy.write_off_max_minor);
            singles.extend(
                ix.owing_between(customer, pay + 1, near)
                    .iter()
                    .filter(|&&(open, _)| open - pay <= self.policy.write_off_tolerance(open))
                    .map(|&(_, i)| i),
            );
        }
        for i in singles {
            if ix.items[i as usize].currency != currency {
                continue;
            }
            if let Some((s, amount)) = settle(ix, &[i], self.payment, self.policy) {
                let amount = match amount {
                    Evidence::AmountShortWithinTolerance => Evidence::AmountNear,
                    other => other,
                };
                self.push(customer, vec![i], s, vec![amount]);
            }
        }
        if exact || !combinations {
            return;
        }
        let pool = ix.pool(customer, self.payment.value_date, self.policy.max_subset_pool);
        let pool: Vec<u32> = pool
            .into_iter()
            .filter(|&i| ix.items[i as usize].currency == currency)
            .collect();
        let amounts: Vec<i64> = pool.iter().map(|&i| ix.items[i as usize].open).collect();
        let max = self.policy.max_subset_items;
        let runs = consecutive_runs(&amounts, pay, 2, max);
        for &(a, b) in &runs {
            self.combination(customer, pool[a..b].to_vec(), true, true);
        }
        let p = self.policy;
        let search = subsets(&amounts, pay, 2, max, 3, p.subset_step_budget);
        for sol in &search.solutions {
            let is_run = runs.iter().any(|&(a, b)| sol.iter().copied().eq(a..b));
            if !is_run {
                let items: Vec<u32> = sol.iter().map(|&k| pool[k]).collect();
                self.combination(customer, items, false, search.complete);
            }
        }
    }

    fn combination(&mut self, customer: u32, items: Vec<u32>, contiguous: bool, complete: bool) {
        if let Some((s, _)) = settle(self.ix, &items, self.payment, self.policy) {
            let mut ev = vec![Evidence::AmountSubset {
                items: count(items.len()),
                contiguous,
            }];
            if !complete {
                ev.push(Evidence::SubsetSearchIncomplete);
            }
            self.push(customer, items, s, ev);
        }
    }

    fn push(&mut self, customer: u32, mut items: Vec<u32>, settlement: Settlement, evidence: Vec<Evidence>) {
        items.sort_unstable();
        self.drafts.push(Draft {
            customer,
            items,
            settlement,
            evidence,
            score: 0,
            item_score: 0,
        });
    }

    /// Adds what is known about the payer and what speaks against each draft, scores, ranks and
    /// decides.
    fn finish(mut self) -> Proposal {
        let mut drafts = std::mem::take(&mut self.drafts);
        let mut payer_cache: Vec<(u32, Vec<Evidence>)> = Vec::new();
        for d in &mut drafts {
            let payer = match payer_cache.iter().find(|(c, _)| *c == d.customer) {
                Some((_, ev)) => ev.clone(),
                None => {
                    let ev = self.payer_evidence(d.customer);
                    payer_cache.push((d.customer, ev.clone()));
                    ev
                }
            };
            d.evidence.extend(payer);
            let referenced = d.evidence.iter().any(Evidence::is_reference);
            if !referenced && self.names_items {
                d.evidence.push(Evidence::OtherItemsNamed);
            }
            let paid_in_full = matches!(d.settlement.kind, SettlementKind::Exact | SettlementKind::Discount);
            if referenced && !paid_in_full && self.another_item_pays_exactly(d) {
                d.evidence.push(Evidence::AmountMatchesAnotherItem);
            }
            d.score = d.evidence.iter().map(Evidence::points).sum::<i32>().clamp(0, 10_000);
            d.item_score = d
                .evidence
                .iter()
                .filter(|e| !e.is_about_payer())
                .map(Evidence::points)
                .sum::<i32>()
                .clamp(0, 10_000);
        }
        drafts.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| self.ix.customers[a.customer as usize].key.cmp(&self.ix.customers[b.customer as usize].key))
                .then_with(|| a.items.cmp(&b.items))
        });
        // The same settlement found twice (by reference and by amount) is one candidate: keep
        // its best-scored finding.
        let mut kept: Vec<Draft> = Vec::with_capacity(drafts.len());
        for d in drafts {
            let seen = kept.iter().any(|k| {
                k.customer == d.customer && k.items == d.items && k.settlement.kind == d.settlement.kind
            });
            if !seen {
                kept.push(d);
            }
        }
        let drafts = kept;
        let decision = self.decide(&drafts);
        let candidates = drafts
            .into_iter()
            .take(self.policy.max_suggestions.max(1))
            .map(|d| Candidate {
                customer: self.ix.customers[d.customer as usize].key,
                score: u16::try_from(d.score).unwrap_or(u16::MAX),
                evidence: d.evidence,
                settlement: d.settlement,
            })
            .collect();
        Proposal {
            decision,
            candidates,
        }
    }

    fn payer_evidence(&self, customer: u32) -> Vec<Evidence> {
        let mut ev = Vec::new();
        let accounts = self.account_customers;
        if accounts == [customer] {
            ev.push(Evidence::AccountKnown);
        } else if accounts.contains(&customer) {
            ev.push(Evidence::AccountShared);
        } else if accounts.len() == 1 {
            // A shared account (a group's treasury, a payment provider) says nothing against a
            // customer it has not paid for yet; one customer's own account does.
            ev.push(Evidence::AccountOfAnotherCustomer);
        }
        let sim = similarity(&self.payer_name, &self.ix.customers[customer as usize].name);
        if sim >= MIN_NAME_SIMILARITY {
            ev.push(Evidence::NameMatch {
                similarity_pct: (sim * 100.0).floor() as u8,
            });
        }
        ev
    }

    fn another_item_pays_exactly(&self, d: &Draft) -> bool {
        let pay = self.payment.amount.minor();
        self.ix.owing_exactly(d.customer, pay).any(|i| {
            self.ix.items[i as usize].currency == self.payment.amount.currency()
                && !d.items.contains(&i)
        })
    }

    fn decide(&self, drafts: &[Draft]) -> Decision {
        let p = self.policy;
        let Some(best) = drafts.first() else {
            return Decision::Exception(if self.found.unknown_rf {
                ExceptionReason::UnknownRfReference
            } else if self.settled_refs {
                ExceptionReason::ReferencedItemsSettled
            } else if self.currency_differs {
                ExceptionReason::CurrencyDiffers
            } else {
                ExceptionReason::NoCandidate
            });
        };
        let referenced = best.evidence.iter().any(Evidence::is_reference);
        let payer_known = best.evidence.iter().any(|e| {
            matches!(
                e,
                Evidence::AccountKnown
                    | Evidence::AccountShared
                    | Evidence::NameMatch {
                        similarity_pct: 100
                    }
            )
        });
        if !referenced && self.settled_refs {
            return Decision::Exception(ExceptionReason::ReferencedItemsSettled);
        }
        let score = u16::try_from(best.score).unwrap_or(u16::MAX);
        if score < p.auto_apply_score || !(referenced || payer_known) {
            return Decision::Exception(ExceptionReason::LowConfidence {
                score,
                required: p.auto_apply_score,
            });
        }
        let item_score = u16::try_from(best.item_score).unwrap_or(u16::MAX);
        if item_score < p.min_item_score {
            return Decision::Exception(ExceptionReason::ItemsUnclear {
                item_score,
                required: p.min_item_score,
            });
        }
        if let Some(second) = drafts.get(1) {
            let runner_up = u16::try_from(second.score).unwrap_or(u16::MAX);
            if score - runner_up < p.min_margin {
                return Decision::Exception(ExceptionReason::Ambiguous {
                    best: score,
                    runner_up,
                    required_margin: p.min_margin,
                });
            }
        }
        Decision::AutoApply
    }
}

fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
