//! Where candidates come from: the items the line names (settled as named, completed by
//! other items when the payment is more, cut to some of them when it is less), and the amount
//! against the items of the customers the payer is known as, singly or combined.

use super::amount::{consecutive_runs, subsets};
use super::decide::{
    ISSUE_DATE_SLACK_DAYS, MAX_CROWD, MAX_FILL_ITEMS, MAX_NAMED_CUSTOMERS, MAX_PART_OF, Matcher,
    count, fits,
};
use super::extract::{RefHit, one_typo_apart};
use super::index::PO_TAG;
use super::payer::similarity;
use super::proposal::{Evidence, RefKind, SettlementKind};
use super::settle::{earned_discount, field_full, settle};

impl Matcher<'_> {
    /// The items the line names, by customer; order numbers many customers share only for a
    /// customer the payer is known as.
    pub(super) fn reference_candidates(&mut self) {
        let mut groups: Vec<(u32, Vec<RefHit>)> = Vec::new();
        let mut from_crowd: Vec<RefHit> = Vec::new();
        if !self.found.crowded.is_empty() {
            let known = self.known_payers();
            for (kind, hits) in &self.found.crowded {
                if !known.is_empty() && hits.len() <= MAX_CROWD {
                    // Order numbers share their keys with invoice numbers, tagged.
                    let tagged = *kind == RefKind::PoNumber;
                    from_crowd.extend(
                        hits.iter()
                            .filter(|v| (v & PO_TAG != 0) == tagged)
                            .map(|v| v & !PO_TAG)
                            .filter(|&i| known.contains(&self.ix.customer_of[i as usize]))
                            .map(|item| RefHit { item, kind: *kind }),
                    );
                }
            }
        }
        for hit in self.found.hits.iter().chain(&from_crowd) {
            let it = &self.ix.items[hit.item as usize];
            if it.currency != self.payment.amount.currency() {
                self.currency_differs = true;
            } else if it.open == 0 {
                self.settled_refs |= hit.kind >= RefKind::InvoiceNumberMangled;
                if hit.kind <= RefKind::PoNumber && !self.shared_refs.contains(&it.customer) {
                    self.shared_refs.push(it.customer);
                }
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
            for floor in [
                RefKind::InvoiceNumberMangled,
                RefKind::PoDigits,
                RefKind::Sequence,
            ] {
                let set: Vec<RefHit> = hits.iter().copied().filter(|h| h.kind >= floor).collect();
                if set.len() > last_len {
                    last_len = set.len();
                    self.reference_plans(customer, &set);
                }
            }
        }
    }

    /// One customer's named items settled as named, and the variants the amount suggests.
    fn reference_plans(&mut self, customer: u32, set: &[RefHit]) {
        let items: Vec<u32> = set.iter().map(|h| h.item).collect();
        let kind = set
            .iter()
            .map(|h| h.kind)
            .min()
            .unwrap_or(RefKind::Sequence);
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
        // An order number that names this one item and no other is as good as its invoice
        // number; one that names several, or one already paid, leaves open which was paid.
        let one_of_one =
            kind == RefKind::PoNumber && items.len() == 1 && !self.shared_refs.contains(&customer);
        if !fits(settled_kind) && field_full(self.payment) {
            evidence.push(Evidence::RemittanceCut);
        }
        if !fits(settled_kind) && kind <= RefKind::PoNumber && !one_of_one {
            // A bare running number or the digits of an order number that the amount does not
            // confirm are noise (a customer number, a voucher), not even a suggestion.
            if kind <= RefKind::PoDigits && items.len() == 1 {
                return;
            }
            evidence.push(Evidence::AmountUnconfirmed);
        }
        self.push(customer, items.clone(), settlement, evidence);
        match (settled_kind, over) {
            (SettlementKind::Overpayment, Some(rest)) if kind >= RefKind::PoNumber => {
                self.fill(customer, &items, reference, rest)
            }
            (
                SettlementKind::Partial | SettlementKind::Deduction | SettlementKind::WrittenOff,
                _,
            ) if items.len() >= 2 => self.part_of(customer, set),
            _ => {}
        }
    }

    /// The named items and one to three of the customer's other items that make up the rest
    /// exactly: a remittance cut off by the bank's field length. More would be a coincidence
    /// as often as an explanation.
    fn fill(&mut self, customer: u32, named: &[u32], reference: Evidence, rest: i64) {
        let currency = self.payment.amount.currency();
        let usable = |i: u32| {
            !named.contains(&i)
                && self.ix.items[i as usize].currency == currency
                && self.issued_by_value_date(i)
        };
        let mut pool: Vec<u32> = self
            .ix
            .pool(
                customer,
                self.payment.value_date,
                self.policy.max_subset_pool,
            )
            .into_iter()
            .filter(|&i| usable(i))
            .collect();
        // One item owing exactly the rest counts wherever it is due.
        for i in self.ix.owing_exactly(customer, rest) {
            if usable(i) && !pool.contains(&i) {
                pool.push(i);
            }
        }
        let amounts: Vec<i64> = pool
            .iter()
            .map(|&i| self.ix.items[i as usize].open)
            .collect();
        let p = self.policy;
        let max = p.max_subset_items.min(MAX_FILL_ITEMS);
        let search = subsets(&amounts, rest, 1, max, 2, p.subset_step_budget);
        for sol in &search.solutions {
            let mut items = named.to_vec();
            items.extend(sol.iter().map(|&k| pool[k]));
            if let Some((s, _)) = settle(self.ix, &items, self.payment, p) {
                // A small rest is an overpayment as often as an item left unnamed.
                let small_rest =
                    rest <= p.plausible_overpayment(self.payment.amount.minor() - rest);
                let fill = Evidence::AmountFill {
                    items: count(sol.len()),
                    small_rest,
                };
                let mut ev = vec![reference, fill];
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
        let owes: Vec<i64> = open
            .iter()
            .map(|h| self.ix.items[h.item as usize].open)
            .collect();
        let full = (1u32 << open.len()) - 1;
        let mut found = 0;
        for mask in 1..full {
            let owed: i64 = (0..open.len())
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| owes[b])
                .sum();
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
            let kind = chosen
                .iter()
                .map(|h| h.kind)
                .min()
                .unwrap_or(RefKind::Sequence);
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
    pub(super) fn named_items_stand(&self) -> bool {
        let strong: Vec<&RefHit> = self
            .found
            .hits
            .iter()
            .filter(|h| h.kind >= RefKind::InvoiceNumberMangled)
            .collect();
        if strong.is_empty() {
            return false;
        }
        let payer_customers: Vec<u32> = self
            .drafts
            .iter()
            .filter(|d| !d.evidence.iter().any(Evidence::is_reference))
            .map(|d| d.customer)
            .collect();
        strong.iter().any(|h| {
            let it = &self.ix.items[h.item as usize];
            it.open == 0 || payer_customers.contains(&it.customer)
        }) || self.drafts.iter().any(|d| {
            matches!(d.evidence.first(), Some(Evidence::Reference { kind, .. }) if *kind >= RefKind::InvoiceNumberMangled)
                && fits(d.settlement.kind)
        })
    }

    /// Whether a strong reference already explains the amount.
    fn fitted(&self) -> bool {
        self.drafts.iter().any(|d| {
            matches!(d.evidence.first(), Some(Evidence::Reference { kind, .. }) if *kind >= RefKind::InvoiceNumberMangled)
                && fits(d.settlement.kind)
        })
    }

    /// A candidate found by the amount whose invoice number is one typo away from a number on
    /// the line: the number as written names another invoice, or none, and this is the one meant.
    pub(super) fn typo_references(&mut self) {
        if self.found.numbers.is_empty() {
            return;
        }
        let (ix, numbers) = (self.ix, &self.found.numbers);
        for d in &mut self.drafts {
            if d.items.len() != 1 || d.evidence.iter().any(Evidence::is_reference) {
                continue;
            }
            let item = d.items[0];
            let seq = u64::from(ix.items[item as usize].seq);
            let q = ix.qualifier_of(item);
            let near = numbers.iter().any(|(nq, nseq, letters)| {
                *nq == q
                    && one_typo_apart(*nseq, seq)
                    && (letters.is_empty() || ix.series_of(item) == &letters[..])
            });
            if near {
                d.evidence.insert(
                    0,
                    Evidence::Reference {
                        kind: RefKind::InvoiceNumberNear,
                        items: 1,
                    },
                );
            }
        }
    }

    /// The amount among the items of the customers the payer is known as, by account or name;
    /// not needed when an invoice named whole is paid exactly.
    pub(super) fn amount_candidates(&mut self) {
        let fitted = self.fitted();
        // An invoice named whole (RF, number, order) and paid exactly needs no second opinion
        // from the amount.
        let settled_by_name = self.drafts.iter().any(|d| {
            matches!(d.evidence.first(), Some(Evidence::Reference { kind, .. }) if *kind >= RefKind::OrderId)
                && matches!(d.settlement.kind, SettlementKind::Exact | SettlementKind::Discount)
        });
        if settled_by_name {
            self.names_items = true;
            return;
        }
        let mut customers: Vec<u32> = self.account_customers.iter().copied().take(4).collect();
        if customers.is_empty() && !fitted {
            let named = self.named_customers();
            // Every namesake with the very name, and the closest few others.
            let same = named.iter().take_while(|&&(_, s)| s >= 1.0).count();
            customers.extend(
                named
                    .iter()
                    .take(same.max(MAX_NAMED_CUSTOMERS))
                    .map(|&(c, _)| c),
            );
        }
        for c in customers {
            // Combinations are worth their cost only where they could be applied: for a payer
            // known by account or by exactly its name.
            let known = self.account_customers == [c]
                || similarity(&self.payer_name, &self.ix.customers[c as usize].name) >= 1.0;
            self.amount_plans(c, !fitted && known);
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
            if ix.items[i as usize].currency != currency || !self.issued_by_value_date(i) {
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
        let pool = ix.pool(
            customer,
            self.payment.value_date,
            self.policy.max_subset_pool,
        );
        let pool: Vec<u32> = pool
            .into_iter()
            .filter(|&i| ix.items[i as usize].currency == currency && self.issued_by_value_date(i))
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

    /// A combination of items the amount pays, as a candidate.
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

    /// An invoice issued after the money left the payer's account is not what it paid (a few
    /// days allowed for dates that differ between the two sides).
    fn issued_by_value_date(&self, item: u32) -> bool {
        let issued = self.ix.items[item as usize].issued_on;
        issued <= self.payment.value_date + chrono::Days::new(ISSUE_DATE_SLACK_DAYS)
    }
}
