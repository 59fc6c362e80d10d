//! Reading references out of a bank line: RF references, invoice numbers whole or mangled,
//! order ids and purchase-order numbers, in structured fields, the end-to-end id and the free
//! remittance text. Each hit is verified by the index it came from and carries how it was
//! named, so a bare running number counts for less than an RF with valid check digits.

use super::index::{MatchIndex, PO_TAG, order_key_body};
use super::model::Payment;
use super::normalize::{
    DigitGroups, KeyKind, is_year, ocr_fix, parse_digits, push_normalized, series,
};
use super::postings::Hits;
use super::proposal::RefKind;
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

/// Words that announce a document number: a bare short number after one is still worth a look.
const KEYWORDS: &[&[u8]] = &[
    b"BILL",
    b"FACTURA",
    b"FACTURE",
    b"FAKTURA",
    b"FATTURA",
    b"FRA",
    b"INV",
    b"INVOICE",
    b"INVOICES",
    b"NO",
    b"NR",
    b"NUMBER",
    b"RE",
    b"RECH",
    b"RECHNR",
    b"RECHNUNG",
    b"RECHNUNGEN",
    b"RECHNUNGSNR",
    b"RG",
    b"RGNR",
    b"RNR",
];
const CONNECTORS: &[&[u8]] = &[b"AND", b"E", b"ET", b"U", b"UND", b"Y"];
/// Longest text read from one payment, in tokens; beyond it is noise, not remittance.
const MAX_TOKENS: usize = 256;

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

#[derive(Default)]
struct Text {
    buf: Vec<u8>,
    toks: Vec<(u32, u32)>,
    /// Where lines were joined inside a word.
    cuts: Vec<u32>,
    /// Read only the words around `cuts`: the rest was read with the lines apart.
    only_near_cuts: bool,
    /// Tokens that are part of a date or an amount, not of a reference.
    noise: Vec<bool>,
}

impl Text {
    /// Returns whether a join fell between two letters or digits.
    fn load(&mut self, parts: &[String], joiner: &[u8]) -> bool {
        self.buf.clear();
        self.toks.clear();
        self.cuts.clear();
        self.only_near_cuts = false;
        let mut cut_inside_word = false;
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                let before = self.buf.last().is_some_and(u8::is_ascii_alphanumeric);
                let after = p.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
                if before && after {
                    cut_inside_word = true;
                    self.cuts.push(self.buf.len() as u32);
                }
                self.buf.extend_from_slice(joiner);
            }
            push_normalized(p, &mut self.buf);
        }
        ocr_fix(&mut self.buf);
        let mut start = None;
        for (i, b) in self.buf.iter().enumerate() {
            match (b.is_ascii_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    self.toks.push((s as u32, i as u32));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            self.toks.push((s as u32, self.buf.len() as u32));
        }
        self.toks.truncate(MAX_TOKENS);
        self.mark_noise();
        cut_inside_word
    }

    /// Dates ("15.03.2026", "1/2/26") and amounts ("1.234,56", "EUR 980") are numbers too,
    /// but never references: reading them as running numbers only finds strangers' invoices.
    fn mark_noise(&mut self) {
        let n = self.toks.len();
        self.noise.clear();
        self.noise.resize(n, false);
        let num = |t: &[u8]| !t.is_empty() && digits_only(t);
        for i in 0..n {
            if i + 2 < n {
                let (d, m, y) = (self.tok(i), self.tok(i + 1), self.tok(i + 2));
                let sep = self.gap(i + 1);
                let date = num(d)
                    && num(m)
                    && num(y)
                    && d.len() <= 2
                    && m.len() <= 2
                    && matches!(y.len(), 2 | 4)
                    && matches!(sep, b"." | b"/" | b"-")
                    && self.gap(i + 2) == sep
                    && parse_digits(m).is_some_and(|m| (1..=12).contains(&m));
                if date {
                    self.noise[i..i + 3].fill(true);
                }
            }
            if self.looks_like_amount(i) {
                self.noise[i] = true;
                if i + 1 < n && self.tok(i + 1).len() == 2 && matches!(self.gap(i + 1), b"." | b",")
                {
                    self.noise[i + 1] = true;
                }
            }
            let currency = matches!(self.tok(i), b"EUR" | b"USD" | b"CHF" | b"GBP");
            if currency && i + 1 < n && num(self.tok(i + 1)) {
                self.noise[i + 1] = true;
            }
        }
    }

    /// Whether a window starting at token `i` holds a word joined across a cut.
    fn near_cut(&self, i: usize) -> bool {
        self.toks[i..self.toks.len().min(i + 3)]
            .iter()
            .any(|&(s, e)| self.cuts.iter().any(|&c| s < c && c < e))
    }

    fn tok(&self, i: usize) -> &[u8] {
        let (s, e) = self.toks[i];
        &self.buf[s as usize..e as usize]
    }

    /// The separator characters between token `i - 1` and token `i`.
    fn gap(&self, i: usize) -> &[u8] {
        &self.buf[self.toks[i - 1].1 as usize..self.toks[i].0 as usize]
    }

    fn is_keyword_before(&self, i: usize) -> bool {
        (i >= 1 && KEYWORDS.contains(&self.tok(i - 1)))
            || (i >= 2 && KEYWORDS.contains(&self.tok(i - 2)))
    }

    /// "1.234,56" and "1234.56": digits that are part of an amount, not a reference.
    fn looks_like_amount(&self, i: usize) -> bool {
        let decimals_follow = i + 1 < self.toks.len()
            && matches!(self.gap(i + 1), b"." | b",")
            && self.tok(i + 1).len() == 2
            && self.tok(i + 1).iter().all(u8::is_ascii_digit);
        let thousands_before = i >= 1
            && matches!(self.gap(i), b"." | b",")
            && self.tok(i).len() == 3
            && self.tok(i - 1).len() <= 3
            && self.tok(i - 1).iter().all(u8::is_ascii_digit);
        decimals_follow || thousands_before
    }
}

/// Separators that may sit inside one number: "-", "/", ".", " ", " - "; not a list's ", ".
fn joins_number(gap: &[u8]) -> bool {
    let marks = gap.iter().filter(|&&b| b != b' ').count();
    gap.len() <= 3 && marks <= 1 && !gap.contains(&b',') && !gap.contains(&b';')
}

fn digits_only(t: &[u8]) -> bool {
    t.iter().all(u8::is_ascii_digit)
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
    let mut candidate = String::with_capacity(28);
    candidate.push_str(std::str::from_utf8(&first[..4]).ok()?);
    let mut body: Vec<u8> = first[4..].to_vec();
    let mut j = i;
    let mut any_valid = false;
    let mut fallback: Option<usize> = None;
    loop {
        if (1..=21).contains(&body.len()) {
            candidate.truncate(4);
            candidate.push_str(std::str::from_utf8(&body).ok()?);
            let hits = ix.lookup(KeyKind::Compact, &body);
            let mut invoices = hits.iter().filter(|v| v & PO_TAG == 0).peekable();
            if is_valid_rf(&candidate) {
                any_valid = true;
                if invoices.peek().is_some() {
                    for item in invoices {
                        f.add(item, RefKind::Rf);
                    }
                    return Some(j);
                }
            } else if invoices.peek().is_some() && fallback.is_none() {
                // Check digits that fail around a body that is one of our numbers: a typo in
                // the check digits or a reference typed from paper. The number still counts.
                for item in invoices {
                    f.add(item, RefKind::InvoiceNumberMangled);
                }
                fallback = Some(j);
            }
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
    if any_valid && fallback.is_none() {
        f.unknown_rf = true;
    }
    fallback
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
        if let Some(hit) = by_digit_groups(ix, t, i, j, &groups, letters, f) {
            named = Some((hit, j));
        }
    }
    if named.is_none() && digits_only(first) && first.len() >= 4 && !t.looks_like_amount(i) {
        f.add_all(ix.lookup(KeyKind::PoDigits, first), RefKind::PoDigits);
    }
    named
}

/// Year and running number in either order, and a bare running number tried against the
/// index's years.
fn by_digit_groups<'a>(
    ix: &'a MatchIndex,
    t: &Text,
    i: usize,
    j: usize,
    groups: &DigitGroups,
    letters: &[u8],
    f: &mut Found<'a>,
) -> Option<u32> {
    let mut named = None;
    let mut add = |items: Hits<'a>, kind: RefKind, f: &mut Found<'a>| {
        if items.len() > CROWDED {
            f.add_all(items, kind);
            return;
        }
        // Letters before the number are its series, or a word like "Rechnung"; other letters
        // ("BEST-2026-1003", an order) mean it is no invoice of ours.
        let strict = items.iter().any(|it| series_matches(ix, it, letters));
        if !strict && !letters.is_empty() && !KEYWORDS.contains(&letters) {
            return;
        }
        for item in items.iter() {
            if !strict || series_matches(ix, item, letters) {
                f.add(item, kind);
                if kind == RefKind::InvoiceNumberMangled {
                    named = Some(item);
                }
            }
        }
    };
    match groups.n {
        1 => {
            let v = groups.values[0];
            let tok = t.tok(j);
            let digits = tok.iter().filter(|b| b.is_ascii_digit()).count();
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
            let (a, b) = (groups.values[0], groups.values[1]);
            // "42/2026" is year-last; "02.2026" in a date is not.
            let slashed = j == i + 1 && t.gap(j).iter().filter(|&&b| b != b' ').eq(b"/".iter());
            let long = t.tok(i).iter().filter(|b| b.is_ascii_digit()).count() >= 3;
            if groups.n == 2
                && is_year(b)
                && !is_year(a)
                && slashed
                && (long || t.is_keyword_before(i))
            {
                let mut swapped = DigitGroups::default();
                swapped.push_run(b.to_string().as_bytes());
                swapped.push_run(a.to_string().as_bytes());
                if let Some((q, seq)) = swapped.split() {
                    add(ix.lookup_sequence(q, seq), RefKind::InvoiceNumberMangled, f);
                }
            }
        }
        _ => {}
    }
    named
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
