//! One customer's open items, kept by due date (what a payment run pays, what is oldest) and by
//! amount, in full and less the early-payment discount (which item owes exactly this), in small
//! arrays of the customer's own, so neither question walks a large customer's items.

use super::index::{Item, NO_DISCOUNT};
use super::model::{CustomerKey, EarlyDiscount};
use super::payer::PayerName;
use chrono::NaiveDate;

pub(crate) struct CustomerEntry {
    pub key: CustomerKey,
    pub name: PayerName,
    /// The customer's items, earliest due first (settled ones stay, with nothing open), with
    /// their due dates and open amounts side by side.
    items: Vec<u32>,
    due: Vec<NaiveDate>,
    open: Vec<i64>,
    /// Items before this position are all settled.
    first_open: usize,
    /// The items that owe something, by open amount, for "owes a little more than this".
    /// (Which item owes exactly an amount is a key in the index.)
    by_amount: Vec<(i64, u32)>,
}

impl CustomerEntry {
    pub fn named(key: CustomerKey, name: PayerName) -> CustomerEntry {
        CustomerEntry {
            key,
            name,
            items: Vec::new(),
            due: Vec::new(),
            open: Vec::new(),
            first_open: 0,
            by_amount: Vec::new(),
        }
    }

    /// Takes the customer's items at the end of the build.
    pub fn finish_build(&mut self, items: &[u32], all: &[Item]) {
        self.items = items.to_vec();
        self.items.sort_by_key(|&i| (all[i as usize].due_on, i));
        self.due = self.items.iter().map(|&i| all[i as usize].due_on).collect();
        self.open = self.items.iter().map(|&i| all[i as usize].open).collect();
        for &i in &self.items {
            let it = &all[i as usize];
            if it.open > 0 {
                self.by_amount.push((it.open, i));
            }
        }
        self.by_amount.sort_unstable();
        self.advance();
    }

    /// Adds an item issued after the build.
    pub fn place(&mut self, at: u32, all: &[Item]) {
        let it = &all[at as usize];
        let pos = self.due.partition_point(|&d| d <= it.due_on);
        self.items.insert(pos, at);
        self.due.insert(pos, it.due_on);
        self.open.insert(pos, 0);
        self.first_open = self.first_open.min(pos);
        self.open_changed(at, 0, all);
    }

    /// `at` owed `old` and now owes what `all` says.
    pub fn open_changed(&mut self, at: u32, old: i64, all: &[Item]) {
        let it = &all[at as usize];
        let from = self.due.partition_point(|&d| d < it.due_on);
        if let Some(pos) = self.items[from..].iter().position(|&i| i == at) {
            self.open[from + pos] = it.open;
        }
        remove(&mut self.by_amount, (old, at));
        if it.open > 0 {
            insert(&mut self.by_amount, (it.open, at));
        }
        self.advance();
    }

    fn advance(&mut self) {
        while self.open.get(self.first_open).is_some_and(|&o| o == 0) {
            self.first_open += 1;
        }
    }

    /// Items owing between `lo` and `hi` (inclusive), any currency.
    pub fn owing_between(&self, lo: i64, hi: i64) -> &[(i64, u32)] {
        range(&self.by_amount, lo, hi)
    }

    /// Up to `max` items that owe something, earliest due first: the oldest (payers clear their
    /// backlog) and those due nearest `day` (payment runs pay what is due).
    pub fn pool(&self, day: NaiveDate, max: usize) -> Vec<u32> {
        let from = self.first_open;
        let (list, due, open) = (&self.items[from..], &self.due[from..], &self.open[from..]);
        let mut taken: Vec<usize> = (0..list.len())
            .filter(|&k| open[k] > 0)
            .take(max / 2)
            .collect();
        let mid = due.partition_point(|&d| d <= day);
        let (mut left, mut right) = (mid, mid);
        while taken.len() < max && (left > 0 || right < list.len()) {
            let take_left =
                left > 0 && (right >= list.len() || day - due[left - 1] <= due[right] - day);
            let k = if take_left {
                left -= 1;
                left
            } else {
                right += 1;
                right - 1
            };
            if open[k] > 0 && !taken.contains(&k) {
                taken.push(k);
            }
        }
        taken.sort_unstable();
        taken.into_iter().map(|k| list[k]).collect()
    }
}

/// What `it` owes less its early-payment discount, if it has one.
pub(crate) fn discounted(it: &Item, discounts: &[EarlyDiscount]) -> Option<i64> {
    if it.discount == NO_DISCOUNT || it.open <= 0 {
        return None;
    }
    let d = discounts.get(it.discount as usize)?;
    let off = d.rate.of(it.open_money()).ok()?;
    Some(it.open - off.minor())
}

fn range(list: &[(i64, u32)], lo: i64, hi: i64) -> &[(i64, u32)] {
    let from = list.partition_point(|&(a, _)| a < lo);
    let to = list.partition_point(|&(a, _)| a <= hi);
    &list[from..to.max(from)]
}

fn remove(list: &mut Vec<(i64, u32)>, e: (i64, u32)) {
    if let Ok(pos) = list.binary_search(&e) {
        list.remove(pos);
    }
}

fn insert(list: &mut Vec<(i64, u32)>, e: (i64, u32)) {
    let pos = list.partition_point(|&x| x < e);
    list.insert(pos, e);
}
