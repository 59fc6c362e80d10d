//! ISO 11649 structured creditor references ("RF references"): `RF` + two check digits + up to
//! 21 alphanumerics. o2c derives one from each invoice number, prints it on the invoice and puts
//! it in the e-invoice, so a bank line carrying it points at exactly one invoice.

/// `RF` reference for an invoice number: the number's letters and digits (upper case, at most
/// 21), check digits by ISO 7064 MOD 97-10 as in IBANs. `None` when nothing alphanumeric is left.
pub fn rf_reference(document_number: &str) -> Option<String> {
    let body: String = document_number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if body.is_empty() || body.len() > 21 {
        return None;
    }
    let check = 98 - mod97(&format!("{body}RF00"));
    Some(format!("RF{check:02}{body}"))
}

/// True when `s` (spaces allowed, any case) is a well-formed RF reference with valid check digits.
pub fn is_valid_rf(s: &str) -> bool {
    let c: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if c.len() < 5 || c.len() > 25 || !c.starts_with("RF") {
        return false;
    }
    if !c.bytes().all(|b| b.is_ascii_alphanumeric()) || !c[2..4].bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    mod97(&format!("{}{}", &c[4..], &c[..4])) == 1
}

/// ISO 13616 IBAN check (spaces not allowed): the first four characters moved to the end,
/// mod 97 = 1 — the same arithmetic as RF references.
pub fn is_valid_iban(iban: &str) -> bool {
    let s = iban.to_ascii_uppercase();
    if s.len() < 15 || s.len() > 34 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    mod97(&format!("{}{}", &s[4..], &s[..4])) == 1
}

/// Letters count as 10..35; the remainder is taken digit by digit so any length fits.
fn mod97(s: &str) -> u32 {
    s.chars().fold(0u32, |acc, ch| {
        let v = ch.to_digit(36).expect("alphanumeric");
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

/// Prints a reference in groups of four, as on paper: `RF18 INV2 0260 0004 2`.
pub fn grouped(reference: &str) -> String {
    reference
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standards_example_has_check_digits_18() {
        // ISO 11649's own example: RF18 5390 0754 7034.
        assert_eq!(rf_reference("539007547034").unwrap(), "RF18539007547034");
        assert!(is_valid_rf("RF18 5390 0754 7034"));
        assert!(!is_valid_rf("RF19 5390 0754 7034"));
        assert!(!is_valid_rf("RF18 5390 0754 7035"));
    }

    #[test]
    fn ibans_are_checked() {
        assert!(is_valid_iban("DE89370400440532013000"));
        assert!(!is_valid_iban("DE89370400440532013001"));
        assert!(is_valid_iban("GB29NWBK60161331926819"));
        assert!(!is_valid_iban("DE89"));
    }

    #[test]
    fn invoice_numbers_become_valid_references() {
        let r = rf_reference("INV-2026-000042").unwrap();
        assert!(r.starts_with("RF") && r.ends_with("INV2026000042"), "{r}");
        assert!(is_valid_rf(&r));
        assert!(is_valid_rf(&grouped(&r).to_lowercase()));
        assert_eq!(rf_reference("----"), None);
        assert_eq!(rf_reference("ABCDEFGHIJKLMNOPQRSTUV"), None);
    }
}
