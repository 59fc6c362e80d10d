//! Reading references out of a bank line: RF references, invoice numbers whole or mangled,
//! order ids and purchase-order numbers, in structured fields, the end-to-end id and the free
//! remittance text. Each hit is verified by the index it came from and carries how it was
//! named, so a bare running number counts for less than an RF with valid check digits.

use super::index::{MatchIndex, PO_TAG, order_key_body};
use super::model::Payment;
use super::normalize::{DigitGroups, KeyKind, is_year, parse_digits, series};
use super::postings::Hits;
use super::proposal::RefKind;
use super::tokens::{CONNECTORS, KEYWORDS, Text, digits_only, joins_number};
use crate::reference::is_valid_rf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefHit {
    pub item: u32,
    pub kind: RefKind,
}

#[derive(Debug, Default)]
pub(crate) struct Found<'a> {
    pub hits: Vec<RefHit>,
    /// A valid RF reference that names none of our items.
    pub unknown_rf: bool,
    /// References shared by so many items ("PO-1003" at hundreds of customers) that they only
    /// count for a customer the payer is already known as.
    pub crowded: Vec<(RefKind, Hits<'a>)>,
    /// Document numbers read (qualifier, running number, series letters), to try their
    /// one-typo neighbours when nothing they name fits.
    pub numbers: Vec<(u64, u64, Vec<u8>)>,
}

/// A reference naming more items than this is crowded.
const CROWDED: usize = 24;
/// Document numbers kept per line for the typo search.
const MAX_NUMBERS: usize = 8;

impl<'a> Found<'a> {
    fn add(&mut self, item: u32, kind: RefKind) {
        match self.hits.iter_mut().find(|h| h.item == item) {
            Some(h) => h.kind = h.kind.max(kind),
            None => self.hits.push(RefHit { item, kind }),
        }
    }

    fn add_number(&mut self, groups: &DigitGroups, letters: &[u8]) {
        if groups.n < 2 || !is_year(groups.values[0]) || self.numbers.len() >= MAX_NUMBERS {
            return;
        }
        if let Some((q, seq)) = groups.split()
            && !self.numbers.iter().any(|n| n.0 == q && n.1 == seq)
        {
            self.numbers.push((q, seq, letters.to_vec()));
        }
    }

    /// What a number written with letters and digits names: invoices by their number, items
    /// by a purchase-order number (tagged). Returns the first invoice.
    fn add_written(&mut self, hits: Hits<'a>) -> Option<u32> {
        let orders = hits.iter().filter(|v| v & PO_TAG != 0).count();
        if orders > CROWDED {
            self.crowded.push((RefKind::PoNumber, hits));
        }
        let mut invoice = None;
        for v in hits.iter() {
            if v & PO_TAG == 0 {
                invoice.get_or_insert(v);
                self.add(v, RefKind::InvoiceNumber);
            } else if orders <= CROWDED {
                self.add(v & !PO_TAG, RefKind::PoNumber);
            }
        }
        invoice
    }

    fn add_all(&mut self, hits: Hits<'a>, kind: RefKind) {
        if hits.len() > CROWDED {
            self.crowded.push((kind, hits));
        } else {
            for item in hits.iter() {
                self.add(item, kind);
            }
        }
    }
}

pub(crate) fn references<'a>(ix: &'a MatchIndex, payment: &Payment) -> Found<'a> {
    let mut found = Found::default();
    let mut text = Text::default();
    for r in &payment.structured_refs {
        text.load(std::slice::from_ref(r), b" ");
        scan(ix, &text, &mut found);
    }
    if let Some(e2e) = payment
        .end_to_end_id
        .as_ref()
        .filter(|e| !e.eq_ignore_ascii_case("NOTPROVIDED"))
    {
        text.load(std::slice::from_ref(e2e), b" ");
        scan(ix, &text, &mut found);
    }
    // Banks cut remittance into fixed-width lines, often inside a number: read the lines as
    // separate words and, when a cut fell inside one, once more joined.
    let cut_inside_word = text.load(&payment.remittance, b" ");
    scan(ix, &text, &mut found);
    if cut_inside_word {
        text.load(&payment.remittance, b"");
        text.only_near_cuts = true;
        scan(ix, &text, &mut found);
    }
    found
}

/// After "INV-2026-000042", a list goes on with bare numbers: "/43", ", 44 and 45".
struct Continuation {
    /// The item the list started with: its year and series qualify the numbers that follow.
    item: u32,
    next: usize,
}

fn scan<'a>(ix: &'a MatchIndex, t: &Text, f: &mut Found<'a>) {
    let mut cont: Option<Continuation> = None;
    let mut skip_until = 0;
    for i in 0..t.toks.len() {
        if i < skip_until || (t.only_near_cuts && !t.near_cut(i)) {
            continue;
        }
        if let Some(end) = rf(ix, t, i, f) {
            skip_until = end + 1;
            cont = None;
            continue;
        }
        order(ix, t, i, f);
        if continue_list(ix, t, i, &mut cont, f) {
            continue;
        }
        if let Some((item, end)) = invoice(ix, t, i, f) {
            cont = Some(Continuation {
                item,
                next: end + 1,
            });
            skip_until = end + 1;
        }
    }
}

fn continue_list<'a>(
    ix: &'a MatchIndex,
    t: &Text,
    i: usize,
    cont: &mut Option<Continuation>,
    f: &mut Found<'a>,
) -> bool {
    let Some(c) = cont.as_mut().filter(|c| c.next == i) else {
        *cont = None;
        return false;
    };
    let tok = t.tok(i);
    if CONNECTORS.contains(&tok) {
        c.next = i + 1;
        return true;
    }
    let listed = t.gap(i).iter().any(|b| b",/&+;".contains(b))
        || (i >= 1 && CONNECTORS.contains(&t.tok(i - 1)));
    let value = parse_digits(tok).filter(|&v| !is_year(v));
    match value {
        Some(v) if digits_only(tok) && tok.len() <= 7 && listed && !t.looks_like_amount(i) => {
            let series = ix.series_of(c.item);
            for item in ix.lookup_sequence(ix.qualifier_of(c.item), v).iter() {
                if series_matches(ix, item, series) {
                    f.add(item, RefKind::InvoiceNumberMangled);
                }
            }
            c.next = i + 1;
            true
        }
        _ => {
            *cont = None;
            false
        }
    }
}

/// An RF reference starting at token `i`, its groups spread over the following tokens. Returns
/// the last token it used when it named an item.
fn rf<'a>(ix: &'a MatchIndex, t: &Text, i: usize, f: &mut Found<'a>) -> Option<usize> {
    let first = t.tok(i);
    if first.len() < 4 || &first[..2] != b"RF" || !digits_only(&first[2..4]) {
        return None;
    }
    // Where the reference may end: after each group, as long as it fits in 21 characters.
    let mut body: Vec<u8> = first[4..].to_vec();
    let mut ends: Vec<(usize, usize)> = Vec::new();
    let mut j = i;
    loop {
        if (1..=21).contains(&body.len()) {
            ends.push((body.len(), j));
        }
        j += 1;
        if j >= t.toks.len() || !matches!(t.gap(j), b" " | b"  ") {
            break;
        }
        let next = t.tok(j);
        if body.len() + next.len() > 21 {
            break;
        }
        body.extend_from_slice(next);
    }
    let head = std::str::from_utf8(&first[..4]).ok()?;
    let valid: Vec<(usize, usize)> = ends
        .iter()
        .copied()
        .filter(|&(len, _)| {
            std::str::from_utf8(&body[..len]).is_ok_and(|b| is_valid_rf(&format!("{head}{b}")))
        })
        .collect();
    let invoices = |len: usize| {
        ix.lookup(KeyKind::Compact, &body[..len])
            .iter()
            .filter(|v| v & PO_TAG == 0)
    };
    for &(len, end) in &valid {
        let mut named = invoices(len).peekable();
        if named.peek().is_some() {
            for item in named {
                f.add(item, RefKind::Rf);
            }
            return Some(end);
        }
    }
    if !valid.is_empty() {
        f.unknown_rf = true;
        return None;
    }
    // Check digits that fail around a body that is one of our numbers: a typo in the check
    // digits or a reference typed from paper. The number still counts.
    for &(len, end) in &ends {
        let mut named = invoices(len).peekable();
        if named.peek().is_some() {
            for item in named {
                f.add(item, RefKind::InvoiceNumberMangled);
            }
            return Some(end);
        }
    }
    None
}

/// An order id: 26 base32 characters, with or without `ord_`.
fn order<'a>(ix: &'a MatchIndex, t: &Text, i: usize, f: &mut Found<'a>) {
    let tok = t.tok(i);
    let body = match tok.len() {
        26 => tok,
        29 if tok.starts_with(b"ORD") => &tok[3..],
        _ => return,
    };
    if let Some(k) = order_key_body(body) {
        for item in ix.lookup(KeyKind::Order, &k).iter() {
            f.add(item, RefKind::OrderId);
        }
    }
}

/// Invoice and purchase-order numbers in a window of up to three tokens from `i`:
/// "INV-2026-000042", "inv 2026 42", "42/2026", "PO 4711". Returns an invoice it named and the
/// last token of the window.
fn invoice<'a>(ix: &'a MatchIndex, t: &Text, i: usize, f: &mut Found<'a>) -> Option<(u32, usize)> {
    let first = t.tok(i);
    let first_has_digit = first.iter().any(u8::is_ascii_digit);
    if t.noise[i] || (!first_has_digit && (first.len() > 6 || i + 1 >= t.toks.len())) {
        return None;
    }
    let letters = series(first);
    let mut buf = [0u8; 24];
    let mut len = 0;
    let mut digits = 0;
    let mut groups = DigitGroups::default();
    let mut named = None;
    for j in i..(i + 3).min(t.toks.len()) {
        let tok = t.tok(j);
        if j > i && (t.noise[j] || !joins_number(t.gap(j)) || !tok[0].is_ascii_digit()) {
            break;
        }
        if len + tok.len() > buf.len() {
            break;
        }
        buf[len..len + tok.len()].copy_from_slice(tok);
        len += tok.len();
        let compact = &buf[..len];
        digits += tok.iter().filter(|b| b.is_ascii_digit()).count();
        for run in tok.split(|b| !b.is_ascii_digit()).filter(|r| !r.is_empty()) {
            groups.push_run(run);
        }
        // A bare one- or two-digit number names nothing unless announced ("Rechnung 42").
        if digits == 0 || (digits <= 2 && digits == compact.len() && !t.is_keyword_before(i)) {
            continue;
        }
        let has_letter = digits < compact.len();
        if has_letter || digits >= 8 {
            f.add_number(&groups, letters);
        }
        if compact.len() >= 4
            && let Some(item) = f.add_written(ix.lookup(KeyKind::Compact, compact))
        {
            return Some((item, j));
        }
        // Letters that are neither a series of ours nor a word like "Rechnung" make this no
        // invoice number; the digits alone are read as the next window.
        let foreign = !letters.is_empty() && !KEYWORDS.contains(&letters) && !ix.is_series(letters);
        if foreign {
            continue;
        }
        if let Some(hit) = by_digit_groups(ix, t, (i, j), &groups, letters, f) {
            named = Some((hit, j));
        }
    }
    if named.is_none() && digits_only(first) && first.len() >= 4 && !t.looks_like_amount(i) {
        f.add_all(ix.lookup(KeyKind::PoDigits, first), RefKind::PoDigits);
    }
    named
}

/// Year and running number in either order, and a bare running number tried against the
/// index's years. Returns an invoice named by year and number.
fn by_digit_groups<'a>(
    ix: &'a MatchIndex,
    t: &Text,
    (i, j): (usize, usize),
    groups: &DigitGroups,
    letters: &[u8],
    f: &mut Found<'a>,
) -> Option<u32> {
    let mut named = None;
    let mut add = |items: Hits<'a>, kind: RefKind, f: &mut Found<'a>| {
        let hit = add_numbered(ix, items, kind, letters, f);
        if kind == RefKind::InvoiceNumberMangled {
            named = named.or(hit);
        }
    };
    match groups.n {
        1 => {
            let v = groups.values[0];
            let digits = t.tok(j).iter().filter(|b| b.is_ascii_digit()).count();
            let announced = !letters.is_empty() || t.is_keyword_before(i);
            // One token holds all the digits: "4711", "INV4711", "INV 4711".
            let alone = i == j || (j == i + 1 && !t.tok(i).iter().any(u8::is_ascii_digit));
            if alone && !is_year(v) && (digits >= 3 || announced) && !t.looks_like_amount(j) {
                if let Some((q, seq)) = groups.split().filter(|_| ix.has_unqualified_numbers()) {
                    let kind = if digits >= 5 {
                        RefKind::InvoiceNumberMangled
                    } else {
                        RefKind::Sequence
                    };
                    add(ix.lookup_sequence(q, seq), kind, f);
                }
                for &q in &ix.qualifiers {
                    add(ix.lookup_sequence(q, v), RefKind::Sequence, f);
                }
            }
        }
        2..=4 => {
            if let Some((q, seq)) = groups.split() {
                add(ix.lookup_sequence(q, seq), RefKind::InvoiceNumberMangled, f);
            }
            f.add_number(groups, letters);
            if let Some((q, seq)) = year_last(t, (i, j), groups) {
                add(ix.lookup_sequence(q, seq), RefKind::InvoiceNumberMangled, f);
            }
        }
        _ => {}
    }
    named
}

/// "42/2026" read as year 2026, number 42; "02.2026" in a date is not.
fn year_last(t: &Text, (i, j): (usize, usize), groups: &DigitGroups) -> Option<(u64, u64)> {
    let (a, b) = (groups.values[0], groups.values[1]);
    let slashed = j == i + 1 && t.gap(j).iter().filter(|&&b| b != b' ').eq(b"/".iter());
    let long = t.tok(i).iter().filter(|b| b.is_ascii_digit()).count() >= 3;
    if groups.n != 2 || !is_year(b) || is_year(a) || !slashed || !(long || t.is_keyword_before(i)) {
        return None;
    }
    let mut swapped = DigitGroups::default();
    swapped.push_run(b.to_string().as_bytes());
    swapped.push_run(a.to_string().as_bytes());
    swapped.split()
}

/// Adds the items a year and running number name, keeping to the series written before it.
/// Returns one of them.
fn add_numbered<'a>(
    ix: &'a MatchIndex,
    items: Hits<'a>,
    kind: RefKind,
    letters: &[u8],
    f: &mut Found<'a>,
) -> Option<u32> {
    if items.len() > CROWDED {
        f.add_all(items, kind);
        return None;
    }
    // Letters before the number are its series, or a word like "Rechnung"; other letters
    // ("BEST-2026-1003", an order) mean it is no invoice of ours.
    let strict = items.iter().any(|it| series_matches(ix, it, letters));
    if !strict && !letters.is_empty() && !KEYWORDS.contains(&letters) {
        return None;
    }
    let mut hit = None;
    for item in items.iter() {
        if !strict || series_matches(ix, item, letters) {
            f.add(item, kind);
            hit = Some(item);
        }
    }
    hit
}

/// A number written with a series ("CRN 2026 7") names only items of that series, when there
/// is one ("RE 2026 7" is German for "invoice", not a series).
fn series_matches(ix: &MatchIndex, item: u32, letters: &[u8]) -> bool {
    if letters.is_empty() {
        return true;
    }
    ix.series_of(item) == letters
}

/// Whether running numbers `a` and `b`, written with six digits or more, are one typo apart:
/// one digit replaced, or two neighbouring digits swapped.
pub(crate) fn one_typo_apart(a: u64, b: u64) -> bool {
    let (x, y) = (format!("{a:06}"), format!("{b:06}"));
    let (x, y) = (x.as_bytes(), y.as_bytes());
    if x.len() != y.len() || a == b {
        return false;
    }
    let diff: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
    match diff[..] {
        [_] => true,
        [i, j] => j == i + 1 && x[i] == y[j] && x[j] == y[i],
        _ => false,
    }
}
