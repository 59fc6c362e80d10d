//! A seeded generator of open items and bank lines with known truth, noisy the way real ones
//! are, and a replay that scores the matcher against the truth (`o2c bench cashapp`).
//!
//! The noise mix, as measured on 100,000 lines (seed 42). References: an RF in the structured
//! field or the text 18 % (one in fifty of them mistyped), invoice numbers as structured
//! references 3.5 %, written cleanly in the text 35 %, mangled 17 % (no separators, lower case,
//! no series, no zeros, "42/2026", O for 0 and l for 1, German wording, extra spaces) plus 2 %
//! with a wrong or swapped digit, only a purchase-order number 4 % (as written, digits only, or
//! with a word before it), only an order id 2 %, nothing usable 17 % ("Zahlung", voucher and
//! customer numbers, amounts and dates in the text). 17 % of payments settle 2-8 invoices (a
//! payment run: the oldest open ones in a row, or any of the twenty oldest), and the remittance
//! is cut at 140 characters and half the time hard-wrapped at 35, often inside a number.
//! Amounts: exact 81.6 % (plus 2.5 % paying the rest of an instalment), early-payment discount
//! taken in time 1 % (late 0.2 %), bank charges of 0.50-15.00 or rounding down to whole euros
//! 4.6 %, deductions of 3-20 % 2.8 %, instalments of 30-70 % 2.5 %, overpayments of up to 50.00
//! 1.9 %. 30 % of invoices carry a list price (29 prices, 1-5 units, with or without VAT), so
//! amounts repeat within and across customers; 5 % of invoices are already partly paid.
//! Payers: a group treasury or payment provider pays 5 %; otherwise the name exactly as kept
//! 35 %, upper-cased and transliterated 25 %, legal form dropped or spelled otherwise 15 %, cut
//! to 18-27 characters 5 %, first word only 5 %, one typo 10 %. Names are drawn from a few
//! thousand stems, so many customers share a word and some share the whole name but the legal
//! form. Accounts: half the customers' accounts are on master data, the rest are learned from
//! confirmed matches; 2 % of lines come from an account never seen. And 1.5 % of lines are no
//! one's: an invoice paid twice (1 %), or money unrelated to any invoice.
//!
//! The open items are all invoices of seven months (November to May), not only those issued
//! before a line's value date: more items to confuse a line with than a real run would have.

mod lines;
mod replay;
mod text;

pub use replay::{Tally, Verdict, describe, judge, replay};

use super::model::{CustomerKey, EarlyDiscount, ItemKey, OpenItem, PayerProfile, Payment};
use crate::invoice::invoice_number;
use crate::money::{Currency, Money, Percent};
use chrono::{Days, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    pub invoices: usize,
    pub payments: usize,
    pub seed: u64,
}

/// What a line really pays: the customer and the items, and whether it means to settle them
/// all (false for an instalment). No customer for money that pays no invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub customer: Option<CustomerKey>,
    pub items: Vec<ItemKey>,
    pub settles_all: bool,
}

/// How a line was made noisy, for breaking results down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Noise {
    pub reference: &'static str,
    pub amount: &'static str,
    pub payer: &'static str,
    /// The line pays several invoices.
    pub multi: bool,
}

#[derive(Debug, Clone)]
pub struct SimLine {
    pub payment: Payment,
    pub truth: Truth,
    pub noise: Noise,
}

pub struct Simulation {
    pub items: Vec<OpenItem>,
    /// Customers as master data knows them: name and the accounts on file.
    pub payers: Vec<PayerProfile>,
    pub lines: Vec<SimLine>,
}

/// Builds the open items, the customers and the bank lines for `config`, the same for the same
/// seed.
pub fn generate(config: &SimConfig) -> Simulation {
    let mut rng = Rng::new(config.seed);
    let customers = customers(&mut rng, (config.invoices / 40).max(10));
    let items = items(&mut rng, &customers, config.invoices);
    let payers = customers
        .iter()
        .map(|c| PayerProfile {
            key: c.key,
            name: c.name.clone(),
            accounts: c.accounts[..c.known_accounts].to_vec(),
        })
        .collect();
    let lines = lines::generate(&mut rng, &customers, &items, config.payments);
    Simulation {
        items,
        payers,
        lines,
    }
}

/// splitmix64: small, fast, and the same everywhere, so a seed reproduces a run.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x2545_f491_4f6c_dd1d)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        super::normalize::mix(self.0)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }
    /// True `percent` times in a hundred (fractions of a percent in tenths: `per_mille`).
    pub fn per_mille(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

pub(crate) struct SimCustomer {
    pub key: CustomerKey,
    pub name: String,
    pub accounts: Vec<String>,
    pub known_accounts: usize,
    pub terms_days: u64,
    pub discount: bool,
    pub po_style: u8,
    /// Relative share of invoices.
    pub weight: u32,
    /// Index of the group treasury that sometimes pays for the customer.
    pub group: Option<usize>,
}

const PREFIXES: &[&str] = &[
    "Nord", "Süd", "West", "Ost", "Alpen", "Rhein", "Elb", "Berg", "Tal", "Stein", "Holz", "Eisen",
    "Blau", "Grün", "Sonnen", "Wald", "See", "Fluss", "Stern", "Licht", "Hansa", "Brenn", "Kraft",
    "Feld", "Adler", "Falken", "Eichen", "Linden", "Ahorn", "Silber", "Gold", "Kupfer", "Main",
    "Donau", "Weser", "Oder", "Isar", "Neckar", "Mosel", "Saale", "Harz", "Eifel", "Taunus",
    "Wolken", "Regen", "Schnee", "Morgen", "Abend", "Nebel", "Quell",
];
const CORES: &[&str] = &[
    "wind", "tech", "bau", "werk", "haus", "feld", "mann", "hof", "quelle", "blick", "mark", "tor",
    "brück", "stadt", "land", "port", "line", "form", "plan", "punkt", "kraft", "gut", "rad",
    "stahl", "glas", "druck", "pack", "trans", "med", "chem", "tal", "berg", "stein", "bach", "au",
    "wald", "see", "burg", "heim", "dorf", "ring", "net", "soft", "tron", "lux", "max", "print",
    "logic", "metall", "form",
];
const SURNAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
    "Hofmann",
    "Schmitz",
    "Schulze",
    "Maier",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Schubert",
    "Vogel",
    "Friedrich",
    "Keller",
    "Günther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Albrecht",
    "Schuster",
    "Simon",
    "Ludwig",
];
const TRADES: &[&str] = &[
    "Logistik",
    "Maschinenbau",
    "Handel",
    "Trading",
    "Systems",
    "Components",
    "Foods",
    "Elektro",
    "Metall",
    "Kunststoff",
    "Medical",
    "Pharma",
    "Textil",
    "Software",
    "Consulting",
    "Automotive",
    "Bau",
    "Verpackung",
    "Energie",
    "Agrar",
];
pub(crate) const LEGAL_FORMS: &[&str] = &[
    "GmbH",
    "GmbH",
    "GmbH",
    "AG",
    "GmbH & Co. KG",
    "KG",
    "e.K.",
    "Ltd",
    "Inc.",
    "S.A.",
    "B.V.",
    "SARL",
    "S.p.A.",
    "OHG",
];

fn customers(rng: &mut Rng, n: usize) -> Vec<SimCustomer> {
    let mut out: Vec<SimCustomer> = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    let groups = (n / 60).max(1);
    while out.len() < n {
        let name = if !out.is_empty() && rng.per_mille(50) {
            let sibling = rng.below(out.len());
            namesake(rng, &out[sibling].name)
        } else {
            company_name(rng)
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let i = out.len();
        let accounts: Vec<String> = (0..if rng.per_mille(150) { 2 } else { 1 })
            .map(|_| iban(rng))
            .collect();
        out.push(SimCustomer {
            key: CustomerKey(i as u64 + 1),
            name,
            known_accounts: if rng.per_mille(500) {
                accounts.len()
            } else {
                0
            },
            accounts,
            terms_days: *rng.pick(&[14, 30, 30, 30, 45, 60]),
            discount: rng.per_mille(200),
            po_style: rng.below(4) as u8,
            weight: (1_000_000.0 / ((i + 20) as f64).powf(0.8)) as u32 + 1,
            group: rng.per_mille(30).then(|| rng.below(groups)),
        });
    }
    out
}

fn company_name(rng: &mut Rng) -> String {
    let form = rng.pick(LEGAL_FORMS);
    match rng.below(3) {
        0 => format!("{} {} {form}", rng.pick(SURNAMES), rng.pick(TRADES)),
        1 => format!(
            "{}{} {} {form}",
            rng.pick(PREFIXES),
            rng.pick(CORES),
            rng.pick(TRADES)
        ),
        _ => format!("{}{} {form}", rng.pick(PREFIXES), rng.pick(CORES)),
    }
}

/// Another company with the same words: another legal form, or another trade.
fn namesake(rng: &mut Rng, name: &str) -> String {
    let mut words: Vec<&str> = name.split(' ').collect();
    if rng.per_mille(500) || words.len() < 3 {
        words.truncate(words.len().min(2));
        format!("{} {}", words.join(" "), rng.pick(LEGAL_FORMS))
    } else {
        words[1] = *rng.pick(TRADES);
        words.join(" ")
    }
}

/// A German IBAN with valid check digits.
pub(crate) fn iban(rng: &mut Rng) -> String {
    let bban: String = (0..18)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect();
    // "DE" is 13 14; the check digits make the whole number ≡ 1 (mod 97).
    let rest = format!("{bban}131400");
    let m = rest
        .bytes()
        .fold(0u64, |m, b| (m * 10 + u64::from(b - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - m)
}

const LIST_PRICES_EUR: &[i64] = &[
    49, 59, 79, 89, 99, 119, 129, 149, 159, 179, 199, 229, 249, 299, 349, 399, 449, 499, 599, 699,
    799, 899, 999, 1190, 1490, 1990, 2490, 2990, 4990,
];

/// An invoice amount in cents: often a list price (with or without 19 % VAT, in 1 to 5 units),
/// otherwise spread evenly over the orders of magnitude from 20 to 50,000.
fn invoice_amount(rng: &mut Rng) -> i64 {
    if rng.per_mille(300) {
        let net = rng.pick(LIST_PRICES_EUR) * 100 * rng.range(1, 5);
        return if rng.per_mille(500) {
            net
        } else {
            net * 119 / 100
        };
    }
    let magnitude = [2_000i64, 20_000, 200_000, 2_000_000, 5_000_000];
    let band = rng.below(4);
    rng.range(magnitude[band], magnitude[band + 1])
}

fn items(rng: &mut Rng, customers: &[SimCustomer], n: usize) -> Vec<OpenItem> {
    let mut cumulative = Vec::with_capacity(customers.len());
    let mut total = 0u64;
    for c in customers {
        total += u64::from(c.weight);
        cumulative.push(total);
    }
    let first_day = NaiveDate::from_ymd_opt(2025, 11, 1).expect("valid date");
    let mut seq = [0i64; 2];
    let mut credit_seq = 0i64;
    let mut last_po: Vec<Option<String>> = vec![None; customers.len()];
    let mut po_counter: Vec<u32> = vec![1000; customers.len()];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let point = ((u128::from(rng.next()) * u128::from(total)) >> 64) as u64;
        let c = cumulative
            .partition_point(|&w| w <= point)
            .min(customers.len() - 1);
        let cust = &customers[c];
        let issued_on = first_day + Days::new((i as u64 * 211) / n as u64);
        let year = chrono::Datelike::year(&issued_on);
        let credit = rng.per_mille(10);
        let number = if credit {
            credit_seq += 1;
            invoice_number("CRN", year, credit_seq)
        } else {
            let s = &mut seq[usize::from(year == 2026)];
            *s += 1;
            invoice_number("INV", year, *s)
        };
        let total_minor = invoice_amount(rng);
        let open_minor = if rng.per_mille(50) {
            total_minor * rng.range(30, 80) / 100
        } else {
            total_minor
        };
        let sign = if credit { -1 } else { 1 };
        let po = purchase_order(rng, cust, &mut last_po[c], &mut po_counter[c]);
        out.push(OpenItem {
            key: ItemKey(i as u64 + 1),
            customer: cust.key,
            number,
            open: Money::new(sign * open_minor, Currency::EUR),
            total: Money::new(sign * total_minor, Currency::EUR),
            issued_on,
            due_on: issued_on + Days::new(cust.terms_days),
            discount: (cust.discount && !credit).then(|| EarlyDiscount {
                rate: Percent::from_basis_points(200),
                until: issued_on + Days::new(10),
            }),
            order_refs: vec![format!("ord_{}", crockford_id(rng))],
            po_refs: po.into_iter().collect(),
        });
    }
    out
}

/// The customer's own order number, in the customer's style; one in ten invoices shares the
/// previous one's (partial deliveries).
fn purchase_order(
    rng: &mut Rng,
    c: &SimCustomer,
    last: &mut Option<String>,
    counter: &mut u32,
) -> Option<String> {
    if rng.per_mille(300) {
        return None;
    }
    if last.is_some() && rng.per_mille(100) {
        return last.clone();
    }
    *counter += rng.range(1, 3) as u32;
    let po = match c.po_style {
        0 => format!("PO-{counter}"),
        1 => format!("45000{:05}", rng.below(100_000)),
        2 => format!("BEST-{}-{counter}", 2026),
        _ => format!("{counter}/{}", rng.range(10, 99)),
    };
    *last = Some(po.clone());
    Some(po)
}

const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub(crate) fn crockford_id(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(26);
    s.push_str("01J");
    for _ in 0..23 {
        s.push(char::from(*rng.pick(CROCKFORD)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::is_valid_iban;

    #[test]
    fn the_same_seed_makes_the_same_world() {
        let cfg = SimConfig {
            invoices: 2_000,
            payments: 300,
            seed: 7,
        };
        let (a, b) = (generate(&cfg), generate(&cfg));
        assert_eq!(a.items, b.items);
        assert_eq!(a.lines.len(), 300);
        assert!(
            a.lines
                .iter()
                .zip(&b.lines)
                .all(|(x, y)| x.payment == y.payment && x.truth == y.truth)
        );
    }

    #[test]
    fn generated_ibans_are_valid() {
        let mut rng = Rng::new(1);
        for _ in 0..100 {
            assert!(is_valid_iban(&iban(&mut rng)));
        }
    }
}
