//! What payers write: references clean, mangled or missing, noise around them, cut to the
//! bank's field length; and their names as banks show them.

use super::{LEGAL_FORMS, Rng};
use crate::matching::model::OpenItem;
use crate::reference::{grouped, rf_reference};

/// Remittance lines, structured references and the label of the reference style.
pub(super) fn references(
    rng: &mut Rng,
    its: &[&OpenItem],
) -> (Vec<String>, Vec<String>, &'static str) {
    let mut structured = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let roll = rng.below(1000);
    let label = match roll {
        0..220 if its.len() == 1 => {
            let (rf, typo) = rf_text(rng, &its[0].number);
            if rng.per_mille(800) {
                structured.push(rf);
            } else {
                parts.push(rf);
            }
            if typo { "rf-typo" } else { "rf" }
        }
        0..220 => {
            structured.extend(its.iter().map(|i| i.number.clone()));
            "structured"
        }
        220..570 => {
            parts.push(
                rng.pick(&["", "", "Invoice", "Rechnung", "Re.", "Payment", "Zahlung"])
                    .to_string(),
            );
            let sep = *rng.pick(&[", ", " ", " / ", "; "]);
            parts.push(
                its.iter()
                    .map(|i| i.number.as_str())
                    .collect::<Vec<_>>()
                    .join(sep),
            );
            "clean"
        }
        570..760 => {
            let variant = rng.below(9);
            let sep = *rng.pick(&[", ", " ", " + "]);
            let texts: Vec<String> = its
                .iter()
                .map(|i| mangle(rng, &i.number, variant))
                .collect();
            parts.push(texts.join(sep));
            if variant == 8 { "typo" } else { "mangled" }
        }
        760..820 if its.iter().any(|i| !i.po_refs.is_empty()) => {
            let mut pos: Vec<&str> = its
                .iter()
                .flat_map(|i| i.po_refs.iter().map(String::as_str))
                .collect();
            pos.dedup();
            for po in pos {
                parts.push(po_text(rng, po));
            }
            "po"
        }
        820..840 => {
            parts.extend(its.iter().map(|i| order_text(rng, &i.order_refs[0])));
            "order"
        }
        _ => {
            parts.push(filler(rng).to_string());
            "none"
        }
    };
    noise(rng, label == "none", &mut parts);
    (wrap(rng, &parts), structured, label)
}

fn order_text(rng: &mut Rng, id: &str) -> String {
    match rng.below(4) {
        0 | 1 => id.to_string(),
        2 => id.trim_start_matches("ord_").to_lowercase(),
        _ => format!("Auftrag {}", id.trim_start_matches("ord_")),
    }
}

/// What people write when they write no reference.
fn filler(rng: &mut Rng) -> &'static str {
    const FILLER: &[&str] = &[
        "Zahlung",
        "Payment",
        "Sammelueberweisung",
        "Rechnungsausgleich",
        "Invoice payment",
        "Ausgleich offene Posten",
        "",
        "Beleg",
    ];
    FILLER[rng.below(FILLER.len())]
}

/// Numbers that are no reference: vouchers, customer numbers, dates, amounts; more of them on
/// lines that carry no reference at all.
fn noise(rng: &mut Rng, no_reference: bool, parts: &mut Vec<String>) {
    let noisy = if no_reference { 600 } else { 200 };
    if rng.per_mille(noisy) {
        parts.push(format!("Beleg {}", rng.range(10_000, 99_999)));
    }
    if rng.per_mille(noisy) {
        parts.push(format!("Kd-Nr. {}", rng.range(100_000, 999_999)));
    }
    if rng.per_mille(150) {
        parts.push(format!(
            "vom {:02}.{:02}.2026",
            rng.range(1, 28),
            rng.range(1, 12)
        ));
    }
    if rng.per_mille(200) {
        parts.push(format!(
            "EUR {},{:02}",
            rng.range(1, 9_999),
            rng.range(0, 99)
        ));
    }
}

/// Joined, cut at 140 characters (the SEPA field), and half the time hard-wrapped at 35.
fn wrap(rng: &mut Rng, parts: &[String]) -> Vec<String> {
    let text: String = parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let text: String = text.chars().take(140).collect();
    if rng.per_mille(500) {
        return vec![text];
    }
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(35).map(|c| c.iter().collect()).collect()
}

fn rf_text(rng: &mut Rng, number: &str) -> (String, bool) {
    let mut rf = rf_reference(number).unwrap_or_default();
    let typo = rng.per_mille(20);
    if typo {
        let mut b = rf.into_bytes();
        let at = rng.range(4, b.len() as i64 - 1) as usize;
        b[at] = if b[at] == b'9' {
            b'1'
        } else if b[at].is_ascii_digit() {
            b[at] + 1
        } else {
            b'X'
        };
        rf = String::from_utf8(b).unwrap_or_default();
    }
    if rng.per_mille(600) {
        rf = grouped(&rf);
    }
    if rng.per_mille(100) {
        rf = rf.to_lowercase();
    }
    (rf, typo)
}

/// The invoice number as people reshape it; variant 8 is a typo in the running number.
fn mangle(rng: &mut Rng, number: &str, variant: usize) -> String {
    let mut parts = number.split('-');
    let series = parts.next().unwrap_or("");
    let year = parts.next().unwrap_or("");
    let seq = parts.next().unwrap_or("");
    let short = seq.trim_start_matches('0');
    match variant {
        0 => format!("{series}{year}{seq}").to_lowercase(),
        1 => format!("{year}-{seq}"),
        2 => format!("{year}{seq}"),
        3 if rng.per_mille(500) => format!("{series} {year} {short}"),
        3 => format!("Inv. {year}/{short}"),
        4 => format!(
            "{} {short}/{year}",
            rng.pick(&["Rechnung Nr.", "Invoice no.", "Rg."])
        ),
        5 => number
            .chars()
            .map(|c| match c {
                '0' if rng.per_mille(300) => 'O',
                '1' if rng.per_mille(300) => 'l',
                other => other,
            })
            .collect(),
        6 if rng.per_mille(500) => format!("Rechnung Nr. {year}-{seq}"),
        6 => format!("Re.-Nr. {year}{seq}"),
        7 if rng.per_mille(500) => format!("{series} - {year} - {seq}"),
        7 => format!("{series} {year} {seq}"),
        _ => {
            let mut digits: Vec<u8> = seq.bytes().collect();
            let at = rng.below(digits.len().saturating_sub(1).max(1));
            if rng.per_mille(500) && digits[at] != digits[at + 1] {
                digits.swap(at, at + 1);
            } else {
                digits[at] = b'0' + ((digits[at] - b'0' + 1 + rng.below(8) as u8) % 10);
            }
            format!(
                "{series}-{year}-{}",
                String::from_utf8(digits).unwrap_or_default()
            )
        }
    }
}

fn po_text(rng: &mut Rng, po: &str) -> String {
    let digits: String = po
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match rng.below(4) {
        0 | 1 => po.to_string(),
        2 if digits.len() >= 4 => digits,
        _ => format!(
            "{} {po}",
            rng.pick(&["Bestellung", "Order", "Your order", "PO"])
        ),
    }
}

/// The customer's name as the bank shows it. `roll` (50..1000) picks the variant.
pub(super) fn name_variant(rng: &mut Rng, name: &str, roll: usize) -> (String, &'static str) {
    match roll {
        0..400 => (name.to_string(), "exact"),
        400..650 => (transliterate(name).to_uppercase(), "upper"),
        650..800 => {
            let (base, form) = LEGAL_FORMS
                .iter()
                .find_map(|f| name.strip_suffix(f).map(|b| (b.trim_end(), *f)))
                .unwrap_or((name, ""));
            let spelled = if rng.per_mille(500) {
                ""
            } else {
                respell(rng, form)
            };
            (format!("{base} {spelled}").trim().to_string(), "legal-form")
        }
        800..850 => (
            name.chars().take(rng.range(18, 27) as usize).collect(),
            "cut",
        ),
        850..900 => (
            name.split(' ').next().unwrap_or(name).to_string(),
            "first-word",
        ),
        _ => (typo(rng, name), "typo"),
    }
}

/// The same legal form as banks and payers also write it.
fn respell(rng: &mut Rng, form: &str) -> &'static str {
    let spellings: &[&'static str] = match form {
        "GmbH" => &["GMBH", "Gmbh", "G.m.b.H."],
        "GmbH & Co. KG" => &["GmbH u. Co. KG", "GmbH + Co KG", "GMBH & CO KG"],
        "AG" => &["AG", "A.G."],
        "KG" => &["KG", "K.G."],
        "e.K." => &["eK", "E.K."],
        "Ltd" => &["Limited", "LTD", "Ltd."],
        "Inc." => &["Inc", "Incorporated", "INC"],
        "S.A." => &["SA", "S A"],
        "B.V." => &["BV", "B V"],
        "SARL" => &["S.A.R.L.", "Sarl"],
        "S.p.A." => &["SpA", "SPA"],
        "OHG" => &["oHG", "O.H.G."],
        _ => &[""],
    };
    spellings[rng.below(spellings.len())]
}

fn transliterate(s: &str) -> String {
    s.replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
        .replace('Ä', "Ae")
        .replace('Ö', "Oe")
        .replace('Ü', "Ue")
}

fn typo(rng: &mut Rng, name: &str) -> String {
    let mut c: Vec<char> = transliterate(name).chars().collect();
    let letters: Vec<usize> = (0..c.len().saturating_sub(1))
        .filter(|&i| c[i].is_alphabetic() && c[i + 1].is_alphabetic())
        .collect();
    if letters.is_empty() {
        return name.to_string();
    }
    let at = *rng.pick(&letters);
    match rng.below(3) {
        0 => c.swap(at, at + 1),
        1 => {
            c.remove(at);
        }
        _ => c[at] = char::from(b'a' + rng.below(26) as u8),
    }
    c.into_iter().collect()
}
