//! Small text helpers shared by the text formats.

use o2c_core::reference::is_valid_rf;
use std::borrow::Cow;

/// Decodes a text-format file. UTF-8 (with or without BOM) is taken as is; anything else is read
/// as ISO-8859-1, which never fails, with a warning, because MT940 and BAI2 files from older bank
/// systems are often in a legacy code page and refusing them would block the import.
pub(crate) fn decode(bytes: &[u8]) -> (Cow<'_, str>, Option<String>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), None),
        Err(e) => {
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            let warning = format!(
                "the file is not UTF-8 (first bad byte at offset {}): read as ISO-8859-1, check accented names",
                e.valid_up_to()
            );
            (Cow::Owned(text), Some(warning))
        }
    }
}

/// Trimmed text, or `None` when nothing is left.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A payment reference, or `None` for empty text and the placeholders banks put where the payer
/// gave none.
pub(crate) fn reference(s: &str) -> Option<String> {
    let t = s.trim();
    match t {
        "" | "NONREF" | "NOTPROVIDED" | "NOT PROVIDED" => None,
        _ => Some(t.to_string()),
    }
}

/// True for the shape of a BIC: 4 letters (bank), 2 letters (country), 2 letters or digits
/// (location), optionally 3 letters or digits (branch).
pub(crate) fn looks_like_bic(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// ISO 11649 RF references (check digits verified) found in free text, so cash application sees
/// them even when the bank only passed them on as remittance text.
pub(crate) fn rf_references_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let upper = word.to_ascii_uppercase();
        if upper.len() >= 5
            && upper.starts_with("RF")
            && is_valid_rf(&upper)
            && !found.contains(&upper)
        {
            found.push(upper);
        }
    }
    found
}

/// 64-bit FNV-1a: a stable id for files that carry none (CSV). Not for security.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(text: &[u8], offset: usize) -> usize {
    let end = offset.min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rf_references_are_found_in_text_only_with_valid_check_digits() {
        assert_eq!(
            rf_references_in("Invoice RF18539007547034, thanks"),
            vec!["RF18539007547034".to_string()]
        );
        assert!(rf_references_in("RF19539007547034").is_empty());
    }

    #[test]
    fn legacy_bytes_are_read_as_latin1_with_a_warning() {
        let (text, warning) = decode(b"M\xfcller");
        assert_eq!(text, "M\u{fc}ller");
        assert!(warning.is_some());
        let (text, warning) = decode("\u{feff}Müller".as_bytes());
        assert_eq!(text, "Müller");
        assert!(warning.is_none());
    }
}
