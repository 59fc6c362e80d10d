//! A bank line's text as tokens: upper case, letters typed for digits repaired, cut into
//! words of letters and digits with the separators between them kept, dates and amounts marked
//! as noise.

use super::normalize::{ocr_fix, parse_digits, push_normalized};

/// Words that announce a document number: a bare short number after one is still worth a look.
pub(crate) const KEYWORDS: &[&[u8]] = &[
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
pub(crate) const CONNECTORS: &[&[u8]] = &[b"AND", b"E", b"ET", b"U", b"UND", b"Y"];
/// Longest text read from one payment, in tokens; beyond it is noise, not remittance.
const MAX_TOKENS: usize = 256;

#[derive(Default)]
pub(crate) struct Text {
    pub(crate) buf: Vec<u8>,
    pub(crate) toks: Vec<(u32, u32)>,
    /// Where lines were joined inside a word.
    pub(crate) cuts: Vec<u32>,
    /// Read only the words around `cuts`: the rest was read with the lines apart.
    pub(crate) only_near_cuts: bool,
    /// Tokens that are part of a date or an amount, not of a reference.
    pub(crate) noise: Vec<bool>,
}

impl Text {
    /// Returns whether a join fell between two letters or digits.
    pub(crate) fn load(&mut self, parts: &[String], joiner: &[u8]) -> bool {
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
    pub(crate) fn mark_noise(&mut self) {
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
    pub(crate) fn near_cut(&self, i: usize) -> bool {
        self.toks[i..self.toks.len().min(i + 3)]
            .iter()
            .any(|&(s, e)| self.cuts.iter().any(|&c| s < c && c < e))
    }

    pub(crate) fn tok(&self, i: usize) -> &[u8] {
        let (s, e) = self.toks[i];
        &self.buf[s as usize..e as usize]
    }

    /// The separator characters between token `i - 1` and token `i`.
    pub(crate) fn gap(&self, i: usize) -> &[u8] {
        &self.buf[self.toks[i - 1].1 as usize..self.toks[i].0 as usize]
    }

    pub(crate) fn is_keyword_before(&self, i: usize) -> bool {
        (i >= 1 && KEYWORDS.contains(&self.tok(i - 1)))
            || (i >= 2 && KEYWORDS.contains(&self.tok(i - 2)))
    }

    /// "1.234,56" and "1234.56": digits that are part of an amount, not a reference.
    pub(crate) fn looks_like_amount(&self, i: usize) -> bool {
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
pub(crate) fn joins_number(gap: &[u8]) -> bool {
    let marks = gap.iter().filter(|&&b| b != b' ').count();
    gap.len() <= 3 && marks <= 1 && !gap.contains(&b',') && !gap.contains(&b';')
}

pub(crate) fn digits_only(t: &[u8]) -> bool {
    t.iter().all(u8::is_ascii_digit)
}
