//! Who paid: the payer's name as the bank shows it against the customers' names. Banks
//! transliterate (Müller → MUELLER), truncate, drop or change the legal form, and people mistype;
//! a fuzzy name is a hint that corroborates, never a reason to apply cash on its own.

use super::normalize::{KeyKind, key};
use super::postings::Postings;

/// A name reduced to what identifies it: upper case, transliterated, legal forms and filler
/// words dropped ("Müller & Söhne GmbH & Co. KG" → "MUELLER SOEHNE").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PayerName {
    pub joined: Box<str>,
    pub tokens: Vec<Box<str>>,
    /// The legal form, spelled one way ("Ltd" and "Limited" alike); 0 when none is given.
    pub form: u64,
}

/// Words that are no part of the name: filler and legal forms, the forms with the one spelling
/// they are compared in. Sorted.
const NOISE: &[(&str, &str)] = &[
    ("AB", "AB"),
    ("AG", "AG"),
    ("AND", ""),
    ("APS", "APS"),
    ("AS", "AS"),
    ("BESCHRAENKTER", ""),
    ("BV", "BV"),
    ("CO", "CO"),
    ("COMPANY", "CO"),
    ("CORP", "CORP"),
    ("CORPORATION", "CORP"),
    ("DE", ""),
    ("EK", "EK"),
    ("ET", ""),
    ("GBR", "GBR"),
    ("GESELLSCHAFT", ""),
    ("GMBH", "GMBH"),
    ("HAFTUNG", ""),
    ("HAFTUNGSBESCHRAENKT", ""),
    ("INC", "INC"),
    ("INCORPORATED", "INC"),
    ("KG", "KG"),
    ("KGAA", "KGAA"),
    ("LIMITED", "LTD"),
    ("LLC", "LLC"),
    ("LLP", "LLP"),
    ("LTD", "LTD"),
    ("MBH", "GMBH"),
    ("MIT", ""),
    ("NV", "NV"),
    ("OHG", "OHG"),
    ("OY", "OY"),
    ("PLC", "PLC"),
    ("SA", "SA"),
    ("SARL", "SARL"),
    ("SAS", "SAS"),
    ("SE", "SE"),
    ("SPA", "SPA"),
    ("SRL", "SRL"),
    ("THE", ""),
    ("UG", "UG"),
    ("UND", ""),
];

impl PayerName {
    pub fn new(name: &str) -> PayerName {
        let mut folded = String::with_capacity(name.len() + 4);
        for ch in name.chars() {
            fold(ch, &mut folded);
        }
        let mut tokens: Vec<Box<str>> = Vec::new();
        let mut form = 0u64;
        for t in folded
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| t.len() > 1)
        {
            match NOISE.binary_search_by(|(w, _)| w.cmp(&t)) {
                Ok(at) if !NOISE[at].1.is_empty() => {
                    form = super::normalize::mix(
                        form ^ key(KeyKind::NameWord, NOISE[at].1.as_bytes()),
                    );
                }
                Ok(_) => {}
                Err(_) => tokens.push(Box::from(t)),
            }
        }
        PayerName {
            joined: tokens.join(" ").into_boxed_str(),
            tokens,
            form,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Upper-case ASCII the way SEPA's character set forces banks to write names.
fn fold(ch: char, out: &mut String) {
    let s = match ch {
        'a'..='z' | 'A'..='Z' | '0'..='9' => {
            out.push(ch.to_ascii_uppercase());
            return;
        }
        'ä' | 'Ä' | 'æ' | 'Æ' => "AE",
        'ö' | 'Ö' | 'œ' | 'Œ' => "OE",
        'ü' | 'Ü' => "UE",
        'ß' => "SS",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Å' => "A",
        'ç' | 'Ç' | 'č' | 'Č' => "C",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ñ' | 'Ñ' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' => "O",
        'ù' | 'ú' | 'û' | 'Ù' | 'Ú' | 'Û' => "U",
        'ý' | 'ÿ' | 'Ý' => "Y",
        'š' | 'Š' => "S",
        'ž' | 'Ž' => "Z",
        'ł' | 'Ł' => "L",
        '\'' | '’' | '.' => return,
        _ => " ",
    };
    out.push_str(s);
}

/// How alike two names are, 0.0 to 1.0: the better of the whole names' Jaro-Winkler similarity
/// and how completely the payer's words appear in the customer's ("ACME" in "ACME INDUSTRIAL
/// SUPPLIES" is likely, not certain).
pub(crate) fn similarity(payer: &PayerName, customer: &PayerName) -> f64 {
    if payer.is_empty() || customer.is_empty() {
        return 0.0;
    }
    if payer.joined == customer.joined {
        // "Müller Elektro AG" is not "Müller Elektro GmbH", though close.
        let other_form = payer.form != 0 && customer.form != 0 && payer.form != customer.form;
        return if other_form { 0.97 } else { 1.0 };
    }
    // Names that share no word's first two letters are not alike; most pairs end here.
    let alike_start = payer.tokens.iter().any(|t| {
        customer
            .tokens
            .iter()
            .any(|u| t.as_bytes()[..2] == u.as_bytes()[..2])
    });
    if !alike_start {
        return 0.0;
    }
    let whole = strsim::jaro_winkler(&payer.joined, &customer.joined);
    let alike = |t: &str, u: &str| {
        t == u
            || (t.len() >= 4
                && t.as_bytes()[0] == u.as_bytes()[0]
                && t.len().abs_diff(u.len()) <= 2
                && strsim::jaro_winkler(t, u) >= 0.92)
    };
    let found = payer
        .tokens
        .iter()
        .filter(|t| customer.tokens.iter().any(|u| alike(t, u)))
        .count();
    let contained = if found == payer.tokens.len() {
        let share =
            payer.tokens.len() as f64 / customer.tokens.len().max(payer.tokens.len()) as f64;
        0.86 + 0.12 * share
    } else {
        0.0
    };
    whole.max(contained)
}

/// Name words (and each word with one letter dropped, so one typo still meets) and pairs of
/// adjacent words → customers.
#[derive(Default)]
pub(crate) struct NameIndex {
    words: Postings,
}

/// A word shared by more customers than this says nothing about which one paid.
const COMMON_WORD: usize = 400;
/// Customers whose names are compared in full for one payer, at most.
const MAX_COMPARED: usize = 8;

impl NameIndex {
    pub fn freeze(&mut self) {
        self.words.freeze();
    }

    pub fn add(&mut self, customer: u32, name: &PayerName) {
        let mut buf = Vec::with_capacity(32);
        for t in &name.tokens {
            for_each_variant(t.as_bytes(), &mut buf, |k| self.words.add(k, customer));
        }
        for pair in name.tokens.windows(2) {
            self.words
                .add(pair_key(&pair[0], &pair[1], &mut buf), customer);
        }
    }

    /// Customers whose names resemble `payer`, most alike first, with their similarity. The
    /// words as written first; only when that finds no close name, the words with a typo.
    pub fn lookup<'n>(
        &self,
        payer: &PayerName,
        name_of: impl Fn(u32) -> Option<&'n PayerName> + Copy,
        min_similarity: f64,
    ) -> Vec<(u32, f64)> {
        let found = self.lookup_with(payer, name_of, min_similarity, false);
        if found.first().is_some_and(|&(_, s)| s >= 0.93) {
            return found;
        }
        self.lookup_with(payer, name_of, min_similarity, true)
    }

    fn lookup_with<'n>(
        &self,
        payer: &PayerName,
        name_of: impl Fn(u32) -> Option<&'n PayerName>,
        min_similarity: f64,
        typos: bool,
    ) -> Vec<(u32, f64)> {
        // One entry per (word, customer), counted by sorting: a surname shared by hundreds of
        // customers must not cost hundreds squared.
        let mut all: Vec<u32> = Vec::new();
        let mut word: Vec<u32> = Vec::new();
        let mut buf = Vec::with_capacity(32);
        for t in &payer.tokens {
            word.clear();
            let mut take = |k: u64| {
                let list = self.words.get(k);
                if list.len() <= COMMON_WORD {
                    word.extend(list.iter());
                }
            };
            if typos {
                for_each_variant(t.as_bytes(), &mut buf, take);
            } else {
                take(key(KeyKind::NameWord, t.as_bytes()));
            }
            word.sort_unstable();
            word.dedup();
            all.extend_from_slice(&word);
        }
        // Two common words together ("MUELLER ELEKTRO") are rare: a pair counts twice.
        for pair in payer.tokens.windows(2) {
            let list = self.words.get(pair_key(&pair[0], &pair[1], &mut buf));
            if list.len() <= COMMON_WORD {
                for c in list.iter() {
                    all.extend([c, c]);
                }
            }
        }
        all.sort_unstable();
        let mut hits: Vec<(u32, u32)> = Vec::new();
        for c in all {
            match hits.last_mut() {
                Some((h, n)) if *h == c => *n += 1,
                _ => hits.push((c, 1)),
            }
        }
        hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        // Only those sharing nearly as many words as the best are worth comparing in full.
        let most = hits.first().map_or(0, |h| h.1);
        hits.retain(|h| h.1 + 1 >= most);
        hits.truncate(MAX_COMPARED);
        let mut out: Vec<(u32, f64)> = hits
            .into_iter()
            .filter_map(|(c, _)| name_of(c).map(|n| (c, similarity(payer, n))))
            .filter(|&(_, s)| s >= min_similarity)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

fn pair_key(a: &str, b: &str, buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    buf.extend_from_slice(a.as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(b.as_bytes());
    key(KeyKind::NameWord, buf)
}

/// The word itself and, from five letters on, the word with each one letter dropped.
fn for_each_variant(word: &[u8], buf: &mut Vec<u8>, mut f: impl FnMut(u64)) {
    if word.len() < 2 {
        return;
    }
    f(key(KeyKind::NameWord, word));
    if word.len() < 5 {
        return;
    }
    for skip in 0..word.len() {
        if skip > 0 && word[skip] == word[skip - 1] {
            continue;
        }
        buf.clear();
        buf.extend_from_slice(&word[..skip]);
        buf.extend_from_slice(&word[skip + 1..]);
        f(key(KeyKind::NameWord, buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_and_umlauts_do_not_count() {
        assert_eq!(
            &*PayerName::new("Müller & Söhne GmbH & Co. KG").joined,
            "MUELLER SOEHNE"
        );
        assert_eq!(
            PayerName::new("MUELLER SOEHNE GMBH CO KG"),
            PayerName::new("Müller & Söhne GmbH & Co. KG")
        );
        assert_eq!(
            PayerName::new("Mueller Soehne GmbH u. Co KG").form,
            PayerName::new("Müller & Söhne GmbH & Co. KG").form
        );
        assert!(
            NOISE.windows(2).all(|w| w[0].0 < w[1].0),
            "NOISE must stay sorted"
        );
        let (a, b) = (PayerName::new("Acme Ltd"), PayerName::new("ACME LIMITED"));
        assert_eq!(similarity(&a, &b), 1.0);
        assert!(similarity(&a, &PayerName::new("Acme AG")) < 1.0);
        assert_eq!(similarity(&a, &PayerName::new("Acme")), 1.0);
    }

    #[test]
    fn typos_and_abbreviations_still_resemble() {
        let c = PayerName::new("Brandt Logistik GmbH");
        assert!(similarity(&PayerName::new("BRANTD LOGISTIK"), &c) > 0.93);
        assert!(similarity(&PayerName::new("Brandt"), &c) >= 0.85);
        assert!(similarity(&PayerName::new("Nordwind Trading Ltd"), &c) < 0.8);
    }

    #[test]
    fn one_typo_still_finds_the_customer_in_the_index() {
        let names = [
            PayerName::new("Brandt Logistik GmbH"),
            PayerName::new("Nordwind Trading Ltd"),
        ];
        let mut ix = NameIndex::default();
        for (i, n) in names.iter().enumerate() {
            ix.add(i as u32, n);
        }
        ix.freeze();
        let found = ix.lookup(
            &PayerName::new("Nordwnid Tradign"),
            |c| names.get(c as usize),
            0.85,
        );
        assert_eq!(found.first().map(|f| f.0), Some(1));
    }
}
