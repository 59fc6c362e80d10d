//! The match index: every way an open item can be named, as a hash key pointing at the item, so a
//! payment finds its candidates by probing, never by scanning a million invoices. It stays
//! current within a run: applying a payment lowers the items' open amounts, and a confirmed
//! match teaches it the account the customer pays from.

use super::model::{CustomerKey, EarlyDiscount, ItemKey, OpenItem, PayerProfile};
use super::normalize::{
    DigitGroups, KeyKind, KeyMap, account_key, amount_key, compact_into, crockford, key,
    normalize_into, sequence_key,
};
use super::open_items::{CustomerEntry, discounted};
use super::payer::{NameIndex, PayerName};
use super::postings::{Hits, KeyPositions, Postings};
use super::proposal::Settlement;
use crate::money::{Currency, Money, MoneyError};
use chrono::NaiveDate;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    #[error("open item {0:?} is already in the index")]
    DuplicateItem(ItemKey),
    #[error("open item {0:?} is not in the index")]
    UnknownItem(ItemKey),
    #[error("applying {applied} to item {item:?} exceeds its open amount {open}")]
    ExceedsOpenAmount {
        item: ItemKey,
        open: Money,
        applied: Money,
    },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// An open item as the matcher keeps it: 48 bytes, what every candidate reads.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub key: ItemKey,
    pub open: i64,
    pub customer: u32,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    /// Index into [`MatchIndex::discounts`], or [`NO_DISCOUNT`].
    pub discount: u32,
    /// Index into [`MatchIndex::qualifier_values`]: the item number's year, usually, for lists
    /// like "…000042/43".
    pub qualifier: u32,
    /// Index into [`MatchIndex::series`]: the letters the item's number starts with.
    pub series: u16,
    /// The running number, the last digit group of the item's number (`u32::MAX` if larger).
    pub seq: u32,
    pub currency: Currency,
}

pub(crate) const NO_DISCOUNT: u32 = u32::MAX;

/// Purchase-order numbers share the key space of invoice numbers (both are letters and digits
/// as written), so one probe answers both; this bit marks the item as named by its order.
pub(crate) const PO_TAG: u32 = 1 << 31;

impl Item {
    pub fn open_money(&self) -> Money {
        Money::new(self.open, self.currency)
    }
}

/// Open items and payers, indexed for [`propose`](super::propose).
pub struct MatchIndex {
    pub(crate) items: Vec<Item>,
    /// Each item's customer, apart from the items, so a long list of items can be sorted by
    /// customer without touching the items themselves.
    pub(crate) customer_of: Vec<u32>,
    pub(crate) discounts: Vec<EarlyDiscount>,
    pub(crate) series: Vec<Box<[u8]>>,
    pub(crate) qualifier_values: Vec<u64>,
    by_key: KeyPositions,
    /// Set once the build is over: later items go straight into their customer's lists.
    built: bool,
    pub(crate) customers: Vec<CustomerEntry>,
    customer_by_key: KeyMap<u32>,
    refs: Postings,
    /// Qualifiers (years) of the indexed numbers, most frequent first, for bare running numbers.
    pub(crate) qualifiers: Vec<u64>,
    qualifier_counts: Vec<u32>,
    qualifier_ids: HashMap<u64, u32>,
    series_ids: HashMap<Box<[u8]>, u16>,
    accounts: KeyMap<Vec<u32>>,
    pub(crate) names: NameIndex,
}

impl MatchIndex {
    /// Indexes `items` and `payers`. About a second for a million items on one core.
    pub fn build(items: &[OpenItem], payers: &[PayerProfile]) -> Result<MatchIndex, MatchError> {
        let mut ix = MatchIndex {
            items: Vec::with_capacity(items.len()),
            customer_of: Vec::with_capacity(items.len()),
            discounts: Vec::new(),
            series: Vec::new(),
            qualifier_values: Vec::new(),
            by_key: KeyPositions::default(),
            built: false,
            customers: Vec::with_capacity(payers.len()),
            customer_by_key: KeyMap::with_capacity_and_hasher(payers.len(), Default::default()),
            refs: Postings::with_capacity(items.len() * 6),
            qualifiers: Vec::new(),
            qualifier_counts: Vec::new(),
            qualifier_ids: HashMap::new(),
            series_ids: HashMap::new(),
            accounts: KeyMap::default(),
            names: NameIndex::default(),
        };
        for p in payers {
            ix.add_payer(p);
        }
        let mut scratch = Scratch::default();
        for item in items {
            ix.insert_unsorted(item, &mut scratch);
        }
        let keys: Vec<u64> = ix.items.iter().map(|it| it.key.0).collect();
        ix.by_key = KeyPositions::new(&keys)
            .map_err(|at| MatchError::DuplicateItem(ix.items[at as usize].key))?;
        ix.built = true;
        ix.refs.freeze();
        ix.names.freeze();
        // Each customer's items, gathered in one pass over the items rather than one push
        // into a scattered list per item.
        let mut starts = vec![0usize; ix.customers.len() + 1];
        for &c in &ix.customer_of {
            starts[c as usize + 1] += 1;
        }
        for c in 0..ix.customers.len() {
            starts[c + 1] += starts[c];
        }
        let mut by_customer = vec![0u32; ix.items.len()];
        let mut next = starts.clone();
        for (at, &c) in ix.customer_of.iter().enumerate() {
            by_customer[next[c as usize]] = at as u32;
            next[c as usize] += 1;
        }
        let all = &ix.items;
        for (c, entry) in ix.customers.iter_mut().enumerate() {
            entry.finish_build(&by_customer[starts[c]..starts[c + 1]], all);
        }
        ix.rank_qualifiers();
        Ok(ix)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a newly issued item.
    pub fn insert(&mut self, item: &OpenItem) -> Result<(), MatchError> {
        if self.position(item.key).is_some() {
            return Err(MatchError::DuplicateItem(item.key));
        }
        let mut scratch = Scratch::default();
        let at = self.insert_unsorted(item, &mut scratch);
        let c = self.items[at as usize].customer as usize;
        self.customers[c].place(at, &self.items);
        self.rank_qualifiers();
        Ok(())
    }

    /// Adds a customer, or updates its name and adds its accounts.
    pub fn add_payer(&mut self, profile: &PayerProfile) {
        let c = self.customer_index(profile.key);
        self.customers[c as usize].name = PayerName::new(&profile.name);
        self.names.add(c, &self.customers[c as usize].name);
        for account in &profile.accounts {
            self.learn_account_index(account, c);
        }
    }

    /// Remembers that `customer` pays from `account`, after a confirmed match. Returns false
    /// when it was already known (or the account is too short to mean anything).
    pub fn learn_account(&mut self, account: &str, customer: CustomerKey) -> bool {
        let c = self.customer_index(customer);
        self.learn_account_index(account, c)
    }

    /// What `item` still owes.
    pub fn open_amount(&self, item: ItemKey) -> Option<Money> {
        self.position(item)
            .map(|i| self.items[i as usize].open_money())
    }

    /// Books an applied settlement into the index, so the next payment sees what is left open:
    /// cash, discount, write-off and deduction all lower what an item owes (a deduction's amount
    /// lives on as a dispute, outside the matcher). All or nothing: an allocation beyond an
    /// item's open amount changes nothing.
    pub fn record(&mut self, settlement: &Settlement) -> Result<(), MatchError> {
        let mut taken: Vec<(u32, Money)> = Vec::new();
        let parts = settlement
            .allocations
            .iter()
            .chain(&settlement.discounts)
            .chain(&settlement.deductions)
            .map(|a| (a.item, a.amount))
            .chain(settlement.write_off.iter().map(|w| (w.item, w.amount)));
        for (item, amount) in parts {
            let at = self.position(item).ok_or(MatchError::UnknownItem(item))?;
            match taken.iter_mut().find(|(i, _)| *i == at) {
                Some((_, sum)) => *sum = sum.checked_add(amount)?,
                None => taken.push((at, amount)),
            }
        }
        for &(at, amount) in &taken {
            let item = &self.items[at as usize];
            let open = item.open_money();
            let left = open.checked_sub(amount)?;
            let crosses = amount.is_positive() && left.is_negative()
                || amount.is_negative() && left.is_positive();
            if crosses {
                return Err(MatchError::ExceedsOpenAmount {
                    item: item.key,
                    open,
                    applied: amount,
                });
            }
        }
        for (at, amount) in taken {
            let open = self.items[at as usize].open - amount.minor();
            self.set_open(at, open);
        }
        Ok(())
    }

    /// Changes what an item owes, keeping its customer's lists current.
    fn set_open(&mut self, at: u32, open: i64) {
        let old = self.items[at as usize].open;
        self.items[at as usize].open = open;
        let c = self.items[at as usize].customer as usize;
        self.customers[c].open_changed(at, old, &self.items);
        self.add_amount_keys(at);
    }

    /// Keys for what the item owes now, with and without its discount. Keys for what it owed
    /// before stay behind and are told apart when read.
    fn add_amount_keys(&mut self, at: u32) {
        let it = &self.items[at as usize];
        if it.open <= 0 {
            return;
        }
        let (c, open) = (it.customer, it.open);
        let discounted = discounted(it, &self.discounts);
        self.refs.add(amount_key(KeyKind::Amount, c, open), at);
        if let Some(d) = discounted {
            self.refs
                .add(amount_key(KeyKind::DiscountedAmount, c, d), at);
        }
    }

    /// The customer's items owing exactly `amount`, in any currency.
    pub(crate) fn owing_exactly(
        &self,
        customer: u32,
        amount: i64,
    ) -> impl Iterator<Item = u32> + '_ {
        self.refs
            .get(amount_key(KeyKind::Amount, customer, amount))
            .iter()
            .filter(move |&i| {
                let it = &self.items[i as usize];
                it.open == amount && it.customer == customer
            })
    }

    /// The customer's items owing exactly `amount` once their discount is taken (whether it is
    /// still earned is the caller's to check).
    pub(crate) fn owing_after_discount(
        &self,
        customer: u32,
        amount: i64,
    ) -> impl Iterator<Item = u32> + '_ {
        self.refs
            .get(amount_key(KeyKind::DiscountedAmount, customer, amount))
            .iter()
            .filter(move |&i| {
                let it = &self.items[i as usize];
                it.customer == customer && discounted(it, &self.discounts) == Some(amount)
            })
    }

    /// The customer's items owing between `lo` and `hi` (inclusive), any currency.
    pub(crate) fn owing_between(&self, customer: u32, lo: i64, hi: i64) -> &[(i64, u32)] {
        self.customers[customer as usize].owing_between(lo, hi)
    }

    /// Up to `max` of the customer's items that owe something, earliest due first.
    pub(crate) fn pool(&self, customer: u32, day: NaiveDate, max: usize) -> Vec<u32> {
        self.customers[customer as usize].pool(day, max)
    }

    pub(crate) fn discount(&self, item: &Item) -> Option<EarlyDiscount> {
        self.discounts.get(item.discount as usize).copied()
    }

    pub(crate) fn series_of(&self, item: u32) -> &[u8] {
        &self.series[usize::from(self.items[item as usize].series)]
    }

    /// Whether `letters` start any of our document numbers.
    pub(crate) fn is_series(&self, letters: &[u8]) -> bool {
        self.series.iter().any(|s| **s == *letters)
    }

    /// Whether any number has a single digit group (no year), so a bare number may be one.
    pub(crate) fn has_unqualified_numbers(&self) -> bool {
        self.qualifier_ids
            .get(&0)
            .is_some_and(|&id| self.qualifier_counts[id as usize] > 0)
    }

    pub(crate) fn qualifier_of(&self, item: u32) -> u64 {
        self.qualifier_values[self.items[item as usize].qualifier as usize]
    }

    pub(crate) fn position(&self, item: ItemKey) -> Option<u32> {
        self.by_key.get(item.0)
    }

    pub(crate) fn lookup(&self, kind: KeyKind, bytes: &[u8]) -> Hits<'_> {
        self.refs.get(key(kind, bytes))
    }

    pub(crate) fn lookup_sequence(&self, qualifier: u64, sequence: u64) -> Hits<'_> {
        self.refs.get(sequence_key(qualifier, sequence))
    }

    /// Customers known to pay from `account`.
    pub(crate) fn account_customers(&self, account: &str) -> &[u32] {
        account_key(account)
            .and_then(|k| self.accounts.get(&k))
            .map_or(&[], Vec::as_slice)
    }

    fn customer_index(&mut self, key: CustomerKey) -> u32 {
        let hashed = super::normalize::mix(key.0);
        if let Some(&c) = self.customer_by_key.get(&hashed) {
            return c;
        }
        let c = u32::try_from(self.customers.len()).expect("fewer than 2^32 customers");
        self.customers
            .push(CustomerEntry::named(key, PayerName::default()));
        self.customer_by_key.insert(hashed, c);
        c
    }

    fn learn_account_index(&mut self, account: &str, c: u32) -> bool {
        let Some(k) = account_key(account) else {
            return false;
        };
        let list = self.accounts.entry(k).or_default();
        if list.contains(&c) {
            return false;
        }
        list.push(c);
        true
    }

    fn insert_unsorted(&mut self, item: &OpenItem, s: &mut Scratch) -> u32 {
        let at = u32::try_from(self.items.len())
            .ok()
            .filter(|&at| at < PO_TAG)
            .expect("fewer than 2^31 items");
        if self.built {
            self.by_key.insert(item.key.0, at);
        }
        let customer = self.customer_index(item.customer);
        s.norm.clear();
        s.compact.clear();
        normalize_into(&item.number, &mut s.norm);
        compact_into(&s.norm, &mut s.compact);
        self.refs.add(key(KeyKind::Compact, &s.compact), at);
        let (q, seq) = DigitGroups::of(&s.norm).split().unwrap_or((0, 0));
        let seq_u32 = u32::try_from(seq).unwrap_or(u32::MAX);
        if seq != 0 {
            self.refs.add(sequence_key(q, seq), at);
        }
        let qualifier = self.qualifier_id(q);
        let series = self.series_id(super::normalize::series(&s.compact));
        for order in &item.order_refs {
            if let Some(body) = order_body(order) {
                self.refs.add(key(KeyKind::Order, &body), at);
            }
        }
        for po in &item.po_refs {
            self.index_po(po, at, s);
        }
        let discount = match item.discount {
            Some(d) => {
                self.discounts.push(d);
                u32::try_from(self.discounts.len() - 1).expect("fewer than 2^32 discounts")
            }
            None => NO_DISCOUNT,
        };
        self.customer_of.push(customer);
        self.items.push(Item {
            key: item.key,
            open: item.open.minor(),
            customer,
            issued_on: item.issued_on,
            due_on: item.due_on,
            discount,
            qualifier,
            series,
            seq: seq_u32,
            currency: item.open.currency(),
        });
        self.add_amount_keys(at);
        at
    }

    fn qualifier_id(&mut self, q: u64) -> u32 {
        let next = u32::try_from(self.qualifier_values.len()).expect("fewer than 2^32 qualifiers");
        let id = *self.qualifier_ids.entry(q).or_insert(next);
        if id == next {
            self.qualifier_values.push(q);
            self.qualifier_counts.push(0);
        }
        self.qualifier_counts[id as usize] += 1;
        id
    }

    fn series_id(&mut self, letters: &[u8]) -> u16 {
        if let Some(&id) = self.series_ids.get(letters) {
            return id;
        }
        let id = u16::try_from(self.series.len()).unwrap_or(u16::MAX);
        if id < u16::MAX {
            self.series.push(letters.into());
            self.series_ids.insert(letters.into(), id);
        }
        id.min(u16::MAX - 1)
    }

    fn index_po(&mut self, po: &str, at: u32, s: &mut Scratch) {
        s.norm.clear();
        s.compact.clear();
        normalize_into(po, &mut s.norm);
        compact_into(&s.norm, &mut s.compact);
        if s.compact.len() < 3 {
            return;
        }
        self.refs
            .add(key(KeyKind::Compact, &s.compact), at | PO_TAG);
        // "PO-4711" is also written "4711"; a number that is all digits needs no second key.
        let digits = s
            .norm
            .rsplit(|b| !b.is_ascii_digit())
            .next()
            .unwrap_or_default();
        if digits.len() >= 4 && digits.len() < s.compact.len() {
            self.refs.add(key(KeyKind::PoDigits, digits), at);
        }
    }

    fn rank_qualifiers(&mut self) {
        let mut q: Vec<(u64, u32)> = self
            .qualifier_values
            .iter()
            .copied()
            .zip(self.qualifier_counts.iter().copied())
            .filter(|&(q, _)| q != 0)
            .collect();
        q.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.qualifiers = q.into_iter().take(MAX_QUALIFIERS).map(|(q, _)| q).collect();
    }
}

/// Bare running numbers are tried against this many of the most common qualifiers (years).
const MAX_QUALIFIERS: usize = 6;

#[derive(Default)]
struct Scratch {
    norm: Vec<u8>,
    compact: Vec<u8>,
}

/// The 26 base32 characters of an order id, with or without its `ord_` prefix.
fn order_body(order: &str) -> Option<[u8; 26]> {
    let b = order.as_bytes();
    let body = match b.len() {
        26 => b,
        30 if b[..4].eq_ignore_ascii_case(b"ORD_") => &b[4..],
        _ => {
            let mut norm = Vec::with_capacity(32);
            normalize_into(order, &mut norm);
            norm.retain(u8::is_ascii_alphanumeric);
            return match norm.len() {
                26 => order_key_body(&norm),
                29 if norm.starts_with(b"ORD") => order_key_body(&norm[3..]),
                _ => None,
            };
        }
    };
    let upper: Vec<u8> = body.iter().map(u8::to_ascii_uppercase).collect();
    if upper.iter().all(u8::is_ascii_alphanumeric) {
        order_key_body(&upper)
    } else {
        None
    }
}

pub(crate) fn order_key_body(body: &[u8]) -> Option<[u8; 26]> {
    let mut out = [0u8; 26];
    if body.len() != 26 {
        return None;
    }
    for (o, &b) in out.iter_mut().zip(body) {
        *o = crockford(b);
    }
    Some(out)
}
