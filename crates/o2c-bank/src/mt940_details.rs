//! The MT940 `:86:` information to account owner: free text whose layout each bank chooses.
//!
//! Three layouts are read; anything else is kept line by line as unstructured remittance:
//! - German (DK/ZKA) sub-fields: a three-digit business code, then `?00` posting text,
//!   `?20`-`?29` and `?60`-`?63` remittance, `?30` bank code or BIC, `?31` account, `?32`/`?33`
//!   name (some banks use `>` instead of `?`). Lines wrap at a fixed width, mid-word, so they
//!   are joined without a separator.
//! - SEPA keywords inside the remittance: `EREF+` end-to-end id, `KREF+` customer reference,
//!   `SVWZ+` remittance text, `IBAN+`/`BIC+` counterparty.
//! - SWIFT-style codes (`/EREF/…/NAME/…/REMI/…`) as Dutch banks write them.
//!
//! RF creditor references (ISO 11649, check digits verified) found in any of the text are
//! added as structured `SCOR` references.

use crate::model::Transaction;
use crate::text::{looks_like_bic, non_empty, reference};
use o2c_core::reference::is_valid_iban;

/// SEPA keywords of the German `:86:` remittance (DK "Verwendungszweck" structure).
const SEPA_KEYWORDS: &[&str] = &[
    "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+",
    "COAM+", "OAMT+", "PURP+",
];

/// Codes of the slash-delimited `:86:` layout (ING, Rabobank, ABN AMRO).
const SLASH_CODES: &[&str] = &[
    "EREF", "REMI", "NAME", "IBAN", "BIC", "BENM", "ORDP", "CSID", "MARF", "ISDT", "TRCD", "PREF",
    "RTRN", "PURP", "ULTD", "ULTB", "ULTC", "ADDR",
];

/// Fills `tx` from the `:86:` fields of its line and the `:61:` supplementary details.
pub(crate) fn apply_details(
    tx: &mut Transaction,
    details: &[String],
    supplementary: Option<String>,
) {
    let joined: String = details.iter().flat_map(|d| d.split('\n')).collect();
    if let Some(separator) = german_separator(&joined) {
        german(tx, &joined, separator);
    } else if joined.starts_with('/') && slash_fields(&joined).len() > 1 {
        slash(tx, &joined);
    } else if has_sepa_keywords(&joined) {
        sepa(tx, &joined);
    } else {
        for line in details.iter().flat_map(|d| d.split('\n')) {
            tx.remittance_unstructured.extend(non_empty(line));
        }
    }
    // Dutch banks put the counterparty's IBAN in the :61: supplementary details.
    if let Some(iban) = supplementary.as_deref().filter(|s| is_valid_iban(s.trim())) {
        tx.counterparty_account
            .get_or_insert_with(|| iban.trim().to_string());
    }
    if tx.additional_info.is_none() {
        tx.additional_info = supplementary;
    }
    tx.add_rf_references_from_text();
}

/// `166?00…` or `000>10…`: three digits, a separator, two digits.
fn german_separator(text: &str) -> Option<char> {
    let b = text.as_bytes();
    match b {
        [a, b2, c, sep @ (b'?' | b'>'), d, e, ..]
            if [a, b2, c, d, e].iter().all(|x| x.is_ascii_digit()) =>
        {
            Some(char::from(*sep))
        }
        _ => None,
    }
}

/// Sub-fields `(code, value)` after the business code.
fn sub_fields(text: &str, separator: char) -> Vec<(&str, &str)> {
    let body = &text[3..];
    let mut starts: Vec<usize> = body
        .match_indices(separator)
        .map(|(i, _)| i)
        .filter(|&i| {
            body.as_bytes()
                .get(i + 1..i + 3)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        })
        .collect();
    starts.push(body.len());
    starts
        .windows(2)
        .map(|w| (&body[w[0] + 1..w[0] + 3], &body[w[0] + 3..w[1]]))
        .collect()
}

fn german(tx: &mut Transaction, text: &str, separator: char) {
    // ?20-?29 and ?60-?63 are read as two blocks, as other readers do: banks put the SEPA
    // keywords in the first and further text (ABWA, BIC notes) in the second, and a keyword
    // value running on into the second block would swallow that text.
    let mut purpose = String::new();
    let mut purpose_more = String::new();
    let mut name = String::new();
    let mut bank_code = None;
    let mut account = None;
    for (code, value) in sub_fields(text, separator) {
        match code {
            "00" => tx.additional_info = non_empty(value),
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" => {
                purpose.push_str(value);
            }
            "60" | "61" | "62" | "63" => purpose_more.push_str(value),
            "30" => bank_code = non_empty(value),
            "31" => account = non_empty(value),
            "32" | "33" => name.push_str(value),
            _ => {}
        }
    }
    tx.counterparty_name = non_empty(&name);
    if let Some(account) = account {
        let compact: String = account.chars().filter(|c| !c.is_whitespace()).collect();
        tx.counterparty_account = Some(match &bank_code {
            _ if is_valid_iban(&compact) => compact,
            Some(blz) if blz.bytes().all(|b| b.is_ascii_digit()) => format!("{blz}/{account}"),
            _ => account,
        });
    }
    tx.counterparty_bic = bank_code.filter(|c| looks_like_bic(c));
    for block in [purpose, purpose_more] {
        if has_sepa_keywords(&block) {
            sepa(tx, &block);
        } else {
            tx.remittance_unstructured.extend(non_empty(&block));
        }
    }
}

fn has_sepa_keywords(text: &str) -> bool {
    SEPA_KEYWORDS.iter().any(|k| text.contains(k))
}

/// Splits remittance text at SEPA keywords; text before the first keyword is remittance too.
fn sepa(tx: &mut Transaction, text: &str) {
    let mut marks: Vec<(usize, &str)> = SEPA_KEYWORDS
        .iter()
        .flat_map(|k| text.match_indices(k).map(move |(i, _)| (i, *k)))
        .collect();
    marks.sort_unstable();
    if let Some(&(first, _)) = marks.first() {
        tx.remittance_unstructured.extend(non_empty(&text[..first]));
    }
    for (n, &(start, keyword)) in marks.iter().enumerate() {
        let end = marks.get(n + 1).map_or(text.len(), |m| m.0);
        let value = &text[(start + keyword.len()).min(end)..end];
        match keyword {
            "EREF+" => tx.end_to_end_id = reference(value),
            "KREF+" => tx.instruction_id = reference(value).or(tx.instruction_id.take()),
            "SVWZ+" => tx.remittance_unstructured.extend(non_empty(value)),
            "IBAN+" if tx.counterparty_account.is_none() => {
                tx.counterparty_account = non_empty(value)
            }
            "BIC+" if tx.counterparty_bic.is_none() => tx.counterparty_bic = non_empty(value),
            _ => {}
        }
    }
}

/// `(code, value)` pairs of the slash layout, in order.
fn slash_fields(text: &str) -> Vec<(&str, &str)> {
    let mut marks: Vec<(usize, &str)> = SLASH_CODES
        .iter()
        .flat_map(|code| {
            text.match_indices('/').filter_map(move |(i, _)| {
                let after = &text[i + 1..];
                (after.starts_with(code) && after[code.len()..].starts_with('/'))
                    .then_some((i, *code))
            })
        })
        .collect();
    marks.sort_unstable();
    marks
        .iter()
        .enumerate()
        .map(|(n, &(start, code))| {
            let end = marks.get(n + 1).map_or(text.len(), |m| m.0);
            let from = (start + code.len() + 2).min(end);
            (code, text[from..end].trim_end_matches('/'))
        })
        .collect()
}

fn slash(tx: &mut Transaction, text: &str) {
    for (code, value) in slash_fields(text) {
        match code {
            "EREF" => tx.end_to_end_id = reference(value),
            "REMI" => tx.remittance_unstructured.extend(non_empty(value)),
            "NAME" => tx.counterparty_name = non_empty(value),
            "IBAN" => tx.counterparty_account = non_empty(value),
            "BIC" => tx.counterparty_bic = non_empty(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2c_core::money::{Currency, Money};

    fn tx_from(details: &[&str]) -> Transaction {
        let mut tx = Transaction::bare(Money::new(100, Currency::EUR), crate::Direction::Credit);
        let details: Vec<String> = details.iter().map(|s| s.to_string()).collect();
        apply_details(&mut tx, &details, None);
        tx
    }

    #[test]
    fn german_sub_fields_give_name_account_and_sepa_references() {
        let tx = tx_from(&[
            "166?00GUTSCHRIFT?100399?20EREF+E2E-1?21SVWZ+Rechnung RF18539007547034?30DRESDEFF508?31DE14508800500194785000?32Karl?33 Kaufmann",
        ]);
        assert_eq!(tx.end_to_end_id.as_deref(), Some("E2E-1"));
        assert_eq!(tx.counterparty_name.as_deref(), Some("Karl Kaufmann"));
        assert_eq!(
            tx.counterparty_account.as_deref(),
            Some("DE14508800500194785000")
        );
        assert_eq!(tx.counterparty_bic.as_deref(), Some("DRESDEFF508"));
        assert_eq!(tx.additional_info.as_deref(), Some("GUTSCHRIFT"));
        assert_eq!(
            tx.remittance_unstructured,
            vec!["Rechnung RF18539007547034"]
        );
        assert_eq!(tx.remittance_structured[0].reference, "RF18539007547034");
    }

    #[test]
    fn wrapped_lines_join_without_a_separator() {
        let tx = tx_from(&["105?20EREF+123?2\n1MTLG:Grund nicht s\npezifiziert"]);
        assert_eq!(
            tx.end_to_end_id.as_deref(),
            Some("123MTLG:Grund nicht spezifiziert")
        );
    }

    #[test]
    fn an_iban_in_the_supplementary_details_is_the_counterparty_account() {
        let mut tx = Transaction::bare(Money::new(100, Currency::EUR), crate::Direction::Debit);
        let details = vec!["/BENM//NAME/JOHN DOE/REMI/Ref 7".to_string()];
        apply_details(&mut tx, &details, Some("NL91ABNA0417164300".to_string()));
        assert_eq!(
            tx.counterparty_account.as_deref(),
            Some("NL91ABNA0417164300")
        );
        assert_eq!(tx.counterparty_name.as_deref(), Some("JOHN DOE"));
    }

    #[test]
    fn slash_codes_and_plain_text_are_read() {
        let tx = tx_from(&[
            "/EREF/01-01-2013 0030000987654321/BENM//NAME/CONTRA ACCOUN\nT HOLDER/REMI/Ref 42/ISDT/2013-07-11",
        ]);
        assert_eq!(
            tx.counterparty_name.as_deref(),
            Some("CONTRA ACCOUNT HOLDER")
        );
        assert_eq!(
            tx.end_to_end_id.as_deref(),
            Some("01-01-2013 0030000987654321")
        );
        assert_eq!(tx.remittance_unstructured, vec!["Ref 42"]);
        let tx = tx_from(&["GIRO 428428 KPN\nBETREFT FACTUUR"]);
        assert_eq!(
            tx.remittance_unstructured,
            vec!["GIRO 428428 KPN", "BETREFT FACTUUR"]
        );
    }
}
