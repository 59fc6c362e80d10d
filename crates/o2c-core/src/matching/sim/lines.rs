//! Bank lines as customers really pay: which invoices, how much, what they write, and under
//! which name and account. Each choice is drawn from the mix described in the module above.

use super::{Noise, Rng, SimCustomer, SimLine, Truth, company_name, iban};
use crate::matching::model::{OpenItem, Payment};
use crate::money::{Money, Percent};
use chrono::{Days, NaiveDate};

struct World<'a> {
    customers: &'a [SimCustomer],
    items: &'a [OpenItem],
    open: Vec<i64>,
    /// Each customer's invoices, earliest due first.
    by_customer: Vec<Vec<usize>>,
    cumulative: Vec<u64>,
    /// Settled lines that may be paid again by mistake: items and amount.
    settled: Vec<(Vec<usize>, i64)>,
    /// Instalments whose rest is still to come.
    pending: Vec<usize>,
    treasuries: Vec<(String, String)>,
    processors: Vec<(String, String)>,
}

pub(super) fn generate(
    rng: &mut Rng,
    customers: &[SimCustomer],
    items: &[OpenItem],
    m: usize,
) -> Vec<SimLine> {
    let mut by_customer = vec![Vec::new(); customers.len()];
    for (i, it) in items.iter().enumerate() {
        if it.open.is_positive() {
            by_customer[(it.customer.0 - 1) as usize].push(i);
        }
    }
    let mut cumulative = Vec::with_capacity(customers.len());
    let mut total = 0u64;
    for list in by_customer.iter_mut() {
        list.sort_by_key(|&i| (items[i].due_on, i));
        total += list.len() as u64;
        cumulative.push(total);
    }
    let groups = customers
        .iter()
        .filter_map(|c| c.group)
        .max()
        .map_or(0, |g| g + 1);
    let mut w = World {
        customers,
        items,
        open: items.iter().map(|i| i.open.minor()).collect(),
        by_customer,
        cumulative,
        settled: Vec::new(),
        pending: Vec::new(),
        treasuries: (0..groups)
            .map(|_| {
                let family = company_name(rng);
                let first = family.split(' ').next().unwrap_or("Gruppe").to_string();
                (format!("{first} Holding GmbH"), iban(rng))
            })
            .collect(),
        processors: [
            "PAYPAL EUROPE S.A R.L. ET CIE",
            "STRIPE PAYMENTS EUROPE LTD",
            "ADYEN N.V.",
            "ABC FACTORING BANK AG",
        ]
        .iter()
        .map(|n| (n.to_string(), iban(rng)))
        .collect(),
    };
    let mut out = Vec::with_capacity(m);
    while out.len() < m {
        let roll = rng.below(1000);
        let line = if roll < 10 && !w.settled.is_empty() {
            w.paid_twice(rng)
        } else if roll < 15 {
            Some(w.unrelated(rng))
        } else if !w.pending.is_empty() && rng.per_mille(300) {
            w.rest_of_instalment(rng)
        } else {
            w.invoice_payment(rng)
        };
        out.extend(line);
    }
    out
}

impl World<'_> {
    fn pick_customer(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1);
        let point = ((u128::from(rng.next()) * u128::from(total.max(1))) >> 64) as u64;
        self.cumulative
            .partition_point(|&w| w <= point)
            .min(self.customers.len() - 1)
    }

    /// The customer's oldest open invoices, at most `n`.
    fn open_of(&self, c: usize, n: usize) -> Vec<usize> {
        self.by_customer[c]
            .iter()
            .copied()
            .filter(|&i| self.open[i] > 0)
            .take(n)
            .collect()
    }

    fn invoice_payment(&mut self, rng: &mut Rng) -> Option<SimLine> {
        let (c, open) = (0..20)
            .map(|_| self.pick_customer(rng))
            .map(|c| (c, self.open_of(c, 40)))
            .find(|(_, o)| !o.is_empty())?;
        let chosen = choose(rng, &open);
        let multi = chosen.len() > 1;
        let (amount, value_date, label, settles_all) = self.amount(rng, &chosen);
        for &i in &chosen {
            if settles_all {
                self.open[i] = 0;
            } else {
                self.open[i] -= amount;
                self.pending.push(i);
            }
        }
        if settles_all {
            self.settled.push((chosen.clone(), amount));
        }
        let payer = &self.customers[c];
        let truth = Truth {
            customer: Some(payer.key),
            items: chosen.iter().map(|&i| self.items[i].key).collect(),
            settles_all,
        };
        Some(self.line(rng, c, &chosen, amount, value_date, truth, label, multi))
    }

    /// Picks how much is paid, when, and whether the payer means it to settle the items.
    fn amount(&self, rng: &mut Rng, chosen: &[usize]) -> (i64, NaiveDate, &'static str, bool) {
        let its: Vec<&OpenItem> = chosen.iter().map(|&i| &self.items[i]).collect();
        let owed: i64 = chosen.iter().map(|&i| self.open[i]).sum();
        let last_due = its.iter().map(|i| i.due_on).max().expect("an item");
        let newest = its.iter().map(|i| i.issued_on).max().expect("an item");
        let usual = shift(last_due, rng.range(-7, 21));
        let roll = rng.below(1000);
        let has_discount = its.iter().any(|i| i.discount.is_some());
        if has_discount && roll < 50 {
            let day = newest + Days::new(rng.range(0, 9) as u64);
            let truncate = rng.per_mille(200);
            let paid: i64 = chosen
                .iter()
                .map(|&i| {
                    let o = self.open[i];
                    match self.items[i].discount {
                        Some(d) if d.until >= day && truncate => o - o * 2 / 100,
                        Some(d) if d.until >= day => o - discount(o),
                        _ => o,
                    }
                })
                .sum();
            return (
                paid,
                day,
                if paid == owed { "exact" } else { "discount" },
                true,
            );
        }
        if has_discount && roll < 60 {
            let day = newest + Days::new(rng.range(15, 40) as u64);
            return (owed - discount(owed), day, "late-discount", true);
        }
        match roll {
            60..100 => (
                owed - rng.range(50, 1500).min(owed / 2),
                usual,
                "charges",
                true,
            ),
            100..110 if owed % 100 != 0 => (owed - owed % 100, usual, "rounding", true),
            110..140 => (
                owed - owed * rng.range(3, 20) / 100,
                usual,
                "deduction",
                true,
            ),
            140..170 if chosen.len() == 1 && owed >= 200 => {
                (owed * rng.range(30, 70) / 100, usual, "instalment", false)
            }
            170..190 => (owed + rng.range(1, 5000), usual, "over", true),
            _ => (owed, usual, "exact", true),
        }
    }

    fn rest_of_instalment(&mut self, rng: &mut Rng) -> Option<SimLine> {
        let i = self.pending.swap_remove(rng.below(self.pending.len()));
        let amount = self.open[i];
        if amount <= 0 {
            return None;
        }
        self.open[i] = 0;
        self.settled.push((vec![i], amount));
        let c = (self.items[i].customer.0 - 1) as usize;
        let day = shift(self.items[i].due_on, rng.range(10, 40));
        let truth = Truth {
            customer: Some(self.customers[c].key),
            items: vec![self.items[i].key],
            settles_all: true,
        };
        Some(self.line(rng, c, &[i], amount, day, truth, "rest", false))
    }

    /// An invoice already settled, paid again with the same reference and amount.
    fn paid_twice(&mut self, rng: &mut Rng) -> Option<SimLine> {
        let (items, amount) = self.settled[rng.below(self.settled.len())].clone();
        let c = (self.items[items[0]].customer.0 - 1) as usize;
        let day = shift(self.items[items[0]].due_on, rng.range(20, 60));
        let truth = Truth {
            customer: None,
            items: Vec::new(),
            settles_all: false,
        };
        let mut line = self.line(rng, c, &items, amount, day, truth, "exact", items.len() > 1);
        line.noise.reference = "paid-twice";
        Some(line)
    }

    /// Money that pays no invoice: a supplier's refund, a bonus, a wrong transfer.
    fn unrelated(&mut self, rng: &mut Rng) -> SimLine {
        let text = rng.pick(&[
            "Erstattung",
            "Refund",
            "Bonus Q1",
            "Rueckzahlung Kaution",
            "",
        ]);
        SimLine {
            payment: Payment {
                amount: Money::new(rng.range(1_000, 500_000), crate::money::Currency::EUR),
                value_date: NaiveDate::from_ymd_opt(2026, 5, 1).expect("valid")
                    + Days::new(rng.range(0, 60) as u64),
                counterparty_name: company_name(rng),
                counterparty_account: Some(iban(rng)),
                remittance: vec![text.to_string()],
                structured_refs: Vec::new(),
                end_to_end_id: None,
            },
            truth: Truth {
                customer: None,
                items: Vec::new(),
                settles_all: false,
            },
            noise: Noise {
                reference: "unrelated",
                amount: "none",
                payer: "stranger",
                multi: false,
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        rng: &mut Rng,
        c: usize,
        chosen: &[usize],
        amount: i64,
        value_date: NaiveDate,
        truth: Truth,
        amount_label: &'static str,
        multi: bool,
    ) -> SimLine {
        let its: Vec<&OpenItem> = chosen.iter().map(|&i| &self.items[i]).collect();
        let (remittance, structured_refs, reference) = super::text::references(rng, &its);
        let (counterparty_name, counterparty_account, payer) = self.payer(rng, c);
        SimLine {
            payment: Payment {
                amount: Money::new(amount, crate::money::Currency::EUR),
                value_date,
                counterparty_name,
                counterparty_account: Some(counterparty_account),
                remittance,
                structured_refs,
                end_to_end_id: rng.per_mille(500).then(|| "NOTPROVIDED".to_string()),
            },
            truth,
            noise: Noise {
                reference,
                amount: amount_label,
                payer,
                multi,
            },
        }
    }

    /// The name and account the bank shows for a payment by customer `c`.
    fn payer(&self, rng: &mut Rng, c: usize) -> (String, String, &'static str) {
        let cust = &self.customers[c];
        let roll = rng.below(1000);
        if roll < 50 {
            let (name, account) = match cust.group {
                Some(g) => &self.treasuries[g],
                None => rng.pick(&self.processors),
            };
            return (name.clone(), account.clone(), "someone-else");
        }
        let (name, label) = super::text::name_variant(rng, &cust.name, roll);
        let account = match rng.below(1000) {
            0..20 => iban(rng),
            20..70 => cust.accounts.last().cloned().unwrap_or_default(),
            _ => cust.accounts[0].clone(),
        };
        (name, account, label)
    }
}

/// One invoice mostly, among the oldest; otherwise a payment run over several.
fn choose(rng: &mut Rng, open: &[usize]) -> Vec<usize> {
    if open.len() == 1 || rng.per_mille(830) {
        let window = if rng.per_mille(700) { 5 } else { open.len() };
        return vec![open[rng.below(window.min(open.len()))]];
    }
    let mut k = 2;
    while k < 8 && rng.per_mille(450) {
        k += 1;
    }
    let k = k.min(open.len());
    if rng.per_mille(600) {
        let start = rng.below((open.len() - k).min(3) + 1);
        return open[start..start + k].to_vec();
    }
    let pool = &open[..open.len().min(20)];
    let mut picked: Vec<usize> = Vec::with_capacity(k);
    while picked.len() < k.min(pool.len()) {
        let i = pool[rng.below(pool.len())];
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked
}

fn discount(open: i64) -> i64 {
    Percent::from_basis_points(200)
        .of(Money::new(open, crate::money::Currency::EUR))
        .map_or(0, |m| m.minor())
}

fn shift(day: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        day + Days::new(days as u64)
    } else {
        day - Days::new(days.unsigned_abs())
    }
}
