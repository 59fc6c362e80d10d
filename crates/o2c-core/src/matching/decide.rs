//! From evidence to decision. Candidates come from the references on the line (each customer's
//! named items, settled as named, completed by a combination when the payment is more, cut to
//! a combination when it is less) and from the amount among the items of the customers the
//! payer is known or named as. Each is scored by its evidence; the best is applied only when it
//! is sure enough and clearly ahead of the next.

use super::extract::{self, Found};
use super::index::MatchIndex;
use super::model::{Payment, Policy};
use super::payer::{PayerName, similarity};
use super::proposal::{
    Candidate, Decision, Evidence, ExceptionReason, Proposal, Settlement, SettlementKind,
};

/// Names less alike than this are not evidence at all.
const MIN_NAME_SIMILARITY: f64 = 0.85;
/// Names this alike identify a payer well enough to read its order numbers.
const STRONG_NAME: f64 = 0.93;
/// Customers a payer's name alone may point at.
pub(super) const MAX_NAMED_CUSTOMERS: usize = 3;
/// An account that pays for more customers than this (a payment provider's) says nothing
/// about which one paid.
const MAX_SHARED_ACCOUNT: usize = 5;
/// Days an invoice may seem issued after the payment that pays it.
pub(super) const ISSUE_DATE_SLACK_DAYS: u64 = 3;
/// Items a cut-off remittance may have left out and a combination may put back.
pub(super) const MAX_FILL_ITEMS: usize = 3;
/// A reference shared by more items than this is not read even for a known payer.
pub(super) const MAX_CROWD: usize = 512;
/// Named items whose every combination is tried when the payment does not pay them all.
pub(super) const MAX_PART_OF: usize = 10;

/// Amounts that confirm the items: paid in full, less the discount, or less a small difference.
pub(super) fn fits(kind: SettlementKind) -> bool {
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
    m.typo_references();
    m.finish()
}

pub(super) struct Draft {
    pub(super) customer: u32,
    pub(super) items: Vec<u32>,
    pub(super) settlement: Settlement,
    pub(super) evidence: Vec<Evidence>,
    pub(super) score: i32,
    /// The part of the score about the items rather than the payer.
    pub(super) item_score: i32,
}

pub(super) struct Matcher<'a> {
    pub(super) ix: &'a MatchIndex,
    pub(super) payment: &'a Payment,
    pub(super) policy: &'a Policy,
    pub(super) found: &'a Found<'a>,
    pub(super) account_customers: &'a [u32],
    pub(super) payer_name: PayerName,
    pub(super) named: Option<Vec<(u32, f64)>>,
    pub(super) name_shared: Option<bool>,
    pub(super) drafts: Vec<Draft>,
    pub(super) settled_refs: bool,
    /// Customers with a settled item named by an order or running number.
    pub(super) shared_refs: Vec<u32>,
    pub(super) currency_differs: bool,
    /// The line names items by number, RF or order, in a way an amount alone must not
    /// override: see [`Matcher::named_items_stand`].
    pub(super) names_items: bool,
}

impl<'a> Matcher<'a> {
    fn new(
        ix: &'a MatchIndex,
        payment: &'a Payment,
        policy: &'a Policy,
        found: &'a Found<'a>,
    ) -> Self {
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
            named: None,
            name_shared: None,
            drafts: Vec::new(),
            settled_refs: false,
            shared_refs: Vec::new(),
            currency_differs: false,
            names_items: false,
        }
    }

    /// Customers the payer is known as: by account, or else by a name close to theirs.
    pub(super) fn known_payers(&mut self) -> Vec<u32> {
        if !self.account_customers.is_empty() {
            return self.account_customers.to_vec();
        }
        self.named_customers()
            .iter()
            .filter(|&&(_, s)| s >= STRONG_NAME)
            .map(|&(c, _)| c)
            .collect()
    }

    /// Customers whose names resemble the payer's, most alike first (looked up once).
    pub(super) fn named_customers(&mut self) -> &[(u32, f64)] {
        if self.named.is_none() {
            let ix = self.ix;
            self.named = Some(ix.names.lookup(
                &self.payer_name,
                |c| ix.customers.get(c as usize).map(|e| &e.name),
                MIN_NAME_SIMILARITY,
            ));
        }
        self.named.as_deref().unwrap_or_default()
    }

    /// Whether the payer's name, though some customer's exactly, is also how other customers'
    /// names begin ("ELBBAU" for "Elbbau GmbH" and "Elbbau Logistik AG"). A name given with its
    /// legal form is complete; one without may have been cut short.
    pub(super) fn name_is_shared(&mut self) -> bool {
        if let Some(shared) = self.name_shared {
            return shared;
        }
        let payer = self.payer_name.clone();
        let ix = self.ix;
        let shared = payer.form == 0
            && self.named_customers().iter().any(|&(c, _)| {
                let other = &ix.customers[c as usize].name;
                other.joined != payer.joined && other.tokens.starts_with(&payer.tokens)
            });
        self.name_shared = Some(shared);
        shared
    }

    pub(super) fn push(
        &mut self,
        customer: u32,
        mut items: Vec<u32>,
        settlement: Settlement,
        evidence: Vec<Evidence>,
    ) {
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
            self.weigh(d);
        }
        let drafts = self.rank(drafts);
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

    /// Adds what speaks against a draft and sums its points.
    fn weigh(&mut self, d: &mut Draft) {
        let referenced = d.evidence.iter().any(Evidence::is_reference);
        // Without a reference or an account to go by, the very name is only as good as it is
        // unshared.
        let account = d
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::AccountKnown | Evidence::AccountShared));
        let exact_name = d.evidence.iter().position(|e| {
            matches!(
                e,
                Evidence::NameMatch {
                    similarity_pct: 100
                }
            )
        });
        if let (Some(at), false, false) = (exact_name, referenced, account)
            && self.name_is_shared()
        {
            d.evidence[at] = Evidence::NameMatch { similarity_pct: 97 };
        }
        if !referenced && self.names_items {
            d.evidence.push(Evidence::OtherItemsNamed);
        }
        let paid_in_full = matches!(
            d.settlement.kind,
            SettlementKind::Exact | SettlementKind::Discount
        );
        if referenced && !paid_in_full && self.another_item_pays_exactly(d) {
            d.evidence.push(Evidence::AmountMatchesAnotherItem);
        }
        let sum = |about_items_only: bool| {
            d.evidence
                .iter()
                .filter(|e| !(about_items_only && e.is_about_payer()))
                .map(Evidence::points)
                .sum::<i32>()
                .clamp(0, 10_000)
        };
        d.score = sum(false);
        d.item_score = sum(true);
    }

    /// Best first (ties in a fixed order); the same settlement found twice, by reference and by
    /// amount, is one candidate with its best-scored finding.
    fn rank(&self, mut drafts: Vec<Draft>) -> Vec<Draft> {
        let key = |d: &Draft| self.ix.customers[d.customer as usize].key;
        drafts.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| key(a).cmp(&key(b)))
                .then_with(|| a.items.cmp(&b.items))
        });
        let mut kept: Vec<Draft> = Vec::with_capacity(drafts.len());
        for d in drafts {
            let seen = kept.iter().any(|k| {
                k.customer == d.customer
                    && k.items == d.items
                    && k.settlement.kind == d.settlement.kind
            });
            if !seen {
                kept.push(d);
            }
        }
        kept
    }

    fn payer_evidence(&mut self, customer: u32) -> Vec<Evidence> {
        let mut ev = Vec::new();
        let accounts = self.account_customers;
        if accounts == [customer] {
            ev.push(Evidence::AccountKnown);
        } else if accounts.contains(&customer) && accounts.len() <= MAX_SHARED_ACCOUNT {
            ev.push(Evidence::AccountShared);
        } else if accounts.len() == 1 {
            // A shared account (a group's treasury, a payment provider) says nothing against a
            // customer it has not paid for yet; one customer's own account does.
            ev.push(Evidence::AccountOfAnotherCustomer);
        }
        let sim = similarity(&self.payer_name, &self.ix.customers[customer as usize].name);
        if sim >= MIN_NAME_SIMILARITY {
            let similarity_pct = (sim * 100.0).floor() as u8;
            ev.push(Evidence::NameMatch { similarity_pct });
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

pub(super) fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
