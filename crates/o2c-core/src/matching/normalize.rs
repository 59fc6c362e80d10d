//! The one normal form both sides of a match go through: the index when it stores a reference,
//! the extractor when it reads one from a bank line. Whatever is tolerated (case, separators,
//! leading zeros, a letter O typed for a zero) is tolerated by normalising both sides the same
//! way, so a lookup is a hash probe, never a scan.

use std::hash::{BuildHasherDefault, Hasher};

/// Upper-case ASCII letters and digits; every other character becomes a separator. Punctuation
/// is kept as itself (it tells "2026/42" from "2026 42"), everything else becomes a space.
pub(crate) fn normalize_into(s: &str, out: &mut Vec<u8>) {
    let from = out.len();
    push_normalized(s, out);
    ocr_fix(&mut out[from..]);
}

/// [`normalize_into`] without the digit repair, for text assembled from several parts and
/// repaired once as a whole.
pub(crate) fn push_normalized(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        out.push(match b {
            b'a'..=b'z' => b - 32,
            b'A'..=b'Z' | b'0'..=b'9' => b,
            b'!'..=b'/' | b':'..=b'@' | b'['..=b'`' | b'{'..=b'~' => b,
            _ => b' ',
        });
    }
}

/// Letters typed or scanned in place of digits: O for 0, I and L for 1, but only inside a
/// number: a run of digits and such letters that holds a digit, is not followed by another
/// letter, and either starts with a digit or does not follow a letter. So "2O26", "OOOO42" and
/// "l2345" become numbers while "PO4711", "INVOICE" and the "18INV" of "RF18INV…" keep their
/// letters.
pub(crate) fn ocr_fix(buf: &mut [u8]) {
    let lookalike = |b: u8| matches!(b, b'O' | b'I' | b'L');
    let mut i = 0;
    while i < buf.len() {
        if !(buf[i].is_ascii_digit() || lookalike(buf[i])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < buf.len() && (buf[i].is_ascii_digit() || lookalike(buf[i])) {
            i += 1;
        }
        let run = start..i;
        let has_digit = buf[run.clone()].iter().any(u8::is_ascii_digit);
        let has_letter = buf[run.clone()].iter().any(|&b| lookalike(b));
        let letter_after = buf.get(i).is_some_and(u8::is_ascii_alphabetic);
        let letter_before = start > 0 && buf[start - 1].is_ascii_alphabetic();
        if has_digit
            && has_letter
            && !letter_after
            && (!letter_before || buf[start].is_ascii_digit())
        {
            for b in &mut buf[run] {
                *b = match *b {
                    b'O' => b'0',
                    b'I' | b'L' => b'1',
                    other => other,
                };
            }
        }
    }
}

/// The letters and digits of a normalised buffer, in order ("INV-2026-000042" → "INV2026000042").
pub(crate) fn compact_into(norm: &[u8], out: &mut Vec<u8>) {
    out.extend(norm.iter().copied().filter(u8::is_ascii_alphanumeric));
}

/// Crockford base32 reads I and L as 1 and O as 0, which is exactly the mistake people make
/// copying an order id by hand.
pub(crate) fn crockford(b: u8) -> u8 {
    match b {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        other => other,
    }
}

pub(crate) fn is_year(n: u64) -> bool {
    (1990..=2099).contains(&n)
}

/// Numbers of at most 18 digits, leading zeros dropped ("000042" → 42).
pub(crate) fn parse_digits(d: &[u8]) -> Option<u64> {
    if d.is_empty() || d.len() > 18 {
        return None;
    }
    Some(d.iter().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')))
}

/// The digit groups of a reference, at most four: "INV-2026-000042" → [2026, 42]. One fused
/// group that starts with a year is read as year and sequence ("2026000042" → [2026, 42]),
/// on both sides, so writing the number without separators still finds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DigitGroups {
    pub n: usize,
    pub values: [u64; 4],
}

impl DigitGroups {
    pub fn push_run(&mut self, run: &[u8]) {
        if self.n == 0 && run.len() > 4 {
            let head = parse_digits(&run[..4]).unwrap_or(0);
            if is_year(head)
                && let Some(tail) = parse_digits(&run[4..])
            {
                self.push(head);
                self.push(tail);
                return;
            }
        }
        if let Some(v) = parse_digits(run) {
            self.push(v);
        }
    }

    fn push(&mut self, v: u64) {
        if self.n < self.values.len() {
            self.values[self.n] = v;
        }
        self.n += 1;
    }

    pub fn of(norm: &[u8]) -> DigitGroups {
        let mut g = DigitGroups::default();
        for run in norm
            .split(|b| !b.is_ascii_digit())
            .filter(|r| !r.is_empty())
        {
            g.push_run(run);
        }
        g
    }

    /// (qualifier, sequence): the last group is the sequence, the groups before it (usually the
    /// year) qualify it. `None` for more than four groups: not a document number we know.
    pub fn split(&self) -> Option<(u64, u64)> {
        if self.n == 0 || self.n > self.values.len() {
            return None;
        }
        let q = self.values[..self.n - 1]
            .iter()
            .fold(0u64, |q, v| mix(q ^ mix(v.wrapping_add(SEED_QUALIFIER))));
        Some((q, self.values[self.n - 1]))
    }
}

const SEED_QUALIFIER: u64 = 0x51_7cc1_b727_220a;

/// The kinds of key in the one reference table; each hashes in its own space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// All letters and digits of an invoice number (also the body of its RF reference), or of
    /// a purchase-order number (tagged in the postings).
    Compact,
    /// The digit groups of an invoice number: qualifier and sequence.
    Sequence,
    /// The 26 characters of an order id after its prefix.
    Order,
    /// The trailing digits of a purchase-order number ("PO-4711" → "4711").
    PoDigits,
    /// An IBAN or other account number.
    Account,
    /// A word of a customer's name.
    NameWord,
    /// What one customer's item owes…
    Amount,
    /// …and owes less its early-payment discount.
    DiscountedAmount,
}

impl KeyKind {
    fn seed(self) -> u64 {
        match self {
            KeyKind::Compact => 0x9e37_79b9_7f4a_7c15,
            KeyKind::Sequence => 0xc2b2_ae3d_27d4_eb4f,
            KeyKind::Order => 0x1656_67b1_9e37_79f9,
            KeyKind::PoDigits => 0x27d4_eb2f_1656_67c5,
            KeyKind::Account => 0x3c6e_f372_fe94_f82b,
            KeyKind::NameWord => 0xa54f_f53a_5f1d_36f1,
            KeyKind::Amount => 0x510e_527f_ade6_82d1,
            KeyKind::DiscountedAmount => 0x9b05_688c_2b3e_6c1f,
        }
    }
}

/// 64-bit key of a byte string. Keys stand in for the strings in the table: with a few million
/// keys the chance that two different references share one is below one in a million, and
/// every hit is still checked against the item's amount and customer.
pub(crate) fn key(kind: KeyKind, bytes: &[u8]) -> u64 {
    let mut h = kind.seed() ^ (bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for chunk in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(w));
    }
    mix(h)
}

/// Key of an amount owed by one customer (`kind` is `Amount` or `DiscountedAmount`).
pub(crate) fn amount_key(kind: KeyKind, customer: u32, minor: i64) -> u64 {
    mix(mix(u64::from(customer) ^ kind.seed()) ^ minor as u64)
}

pub(crate) fn sequence_key(qualifier: u64, sequence: u64) -> u64 {
    mix(mix(qualifier ^ KeyKind::Sequence.seed()) ^ sequence)
}

/// splitmix64's finaliser: a bijection that spreads every input bit over the output.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Keys are already well-mixed 64-bit values; hashing them again would only cost time.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0 ^ u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = mix(u64::from(n));
    }
}

pub(crate) type KeyMap<V> = std::collections::HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// Letters at the start of a reference ("INV-2026-1" → "INV"): the document series.
pub(crate) fn series(compact: &[u8]) -> &[u8] {
    let n = compact
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(compact.len());
    &compact[..n]
}

/// An IBAN or account number as one key: letters and digits, upper case.
pub(crate) fn account_key(account: &str) -> Option<u64> {
    let mut buf = Vec::with_capacity(34);
    for b in account.bytes().filter(u8::is_ascii_alphanumeric) {
        buf.push(b.to_ascii_uppercase());
    }
    (buf.len() >= 5).then(|| key(KeyKind::Account, &buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        normalize_into(s, &mut v);
        v
    }

    #[test]
    fn letters_typed_for_digits_become_digits_only_inside_numbers() {
        assert_eq!(norm("inv-2O26-OOOO42"), b"INV-2026-000042");
        assert_eq!(norm("Re l2345"), b"RE 12345");
        assert_eq!(norm("PO4711 INVOICE Lot"), b"PO4711 INVOICE LOT");
        assert_eq!(norm("RF18INV2025009156"), b"RF18INV2025009156");
        assert_eq!(norm("rf18 inv2 0250 0915 6"), b"RF18 INV2 0250 0915 6");
    }

    #[test]
    fn digit_groups_read_years_fused_or_separated_alike() {
        let a = DigitGroups::of(&norm("INV-2026-000042"));
        let b = DigitGroups::of(&norm("inv2026000042"));
        let c = DigitGroups::of(&norm("2026 42"));
        assert_eq!(a.values[..a.n], [2026, 42]);
        assert_eq!(a.split(), b.split());
        assert_eq!(a.split(), c.split());
        assert_ne!(a.split(), DigitGroups::of(&norm("2025-000042")).split());
    }
}
