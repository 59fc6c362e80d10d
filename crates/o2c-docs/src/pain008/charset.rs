//! The SEPA character set and the identifiers whose check digits a bank recomputes.
//!
//! The EPC rulebooks guarantee only the basic Latin set `a-z A-Z 0-9 / - ? : ( ) . , ' +` and
//! space between every pair of banks (EPC217-08); anything else may be refused or garbled on the
//! way to the debtor's bank. Names and remittance text are converted into that set; identifiers
//! are not, because the debtor's bank matches them exactly (a mandate id rewritten here no longer
//! matches the mandate the debtor signed).

/// True for the characters of the EPC basic Latin set.
pub(super) fn is_sepa_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// Converts free text (a name, remittance text) into the SEPA character set: letters with
/// diacritics lose them, or become the usual two-letter spelling where one exists (German
/// `ä` → `ae`, `ß` → `ss`); a few punctuation marks become their nearest allowed neighbour
/// (`&` → `+`, typographic quotes → `'`). Runs of whitespace become one space and the ends are
/// trimmed. Fails with the first character that has no equivalent (Greek, Cyrillic, CJK, `@`, …):
/// dropping it silently could turn a name into another name.
pub fn transliterate(text: &str) -> Result<String, char> {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        let replacement = if is_sepa_char(c) {
            None
        } else {
            Some(equivalent(c).ok_or(c)?)
        };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match replacement {
            None => out.push(c),
            Some(r) => out.push_str(r),
        }
    }
    Ok(out)
}

/// The spelling of a character outside the set, or `None` when there is no accepted one.
fn equivalent(c: char) -> Option<&'static str> {
    Some(match c {
        'ä' | 'æ' => "ae",
        'Ä' | 'Æ' => "Ae",
        'ö' | 'œ' => "oe",
        'Ö' | 'Œ' => "Oe",
        'ü' => "ue",
        'Ü' => "Ue",
        'ß' => "ss",
        'ẞ' => "SS",
        'þ' => "th",
        'Þ' => "Th",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'Ç' | 'Ć' | 'Č' | 'Ĉ' | 'Ċ' => "C",
        'ď' | 'đ' | 'ð' => "d",
        'Ď' | 'Đ' | 'Ð' => "D",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'ğ' | 'ģ' => "g",
        'Ğ' | 'Ģ' => "G",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => "I",
        'ķ' => "k",
        'Ķ' => "K",
        'ł' | 'ľ' | 'ĺ' | 'ļ' => "l",
        'Ł' | 'Ľ' | 'Ĺ' | 'Ļ' => "L",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'Ñ' | 'Ń' | 'Ň' | 'Ņ' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ŕ' | 'ř' => "r",
        'Ŕ' | 'Ř' => "R",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'Ś' | 'Š' | 'Ş' | 'Ș' => "S",
        'ť' | 'ţ' | 'ț' => "t",
        'Ť' | 'Ţ' | 'Ț' => "T",
        'ù' | 'ú' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        '&' => "+",
        '_' | '–' | '—' | '‐' => "-",
        '"' | '‘' | '’' | '‚' | '“' | '”' | '„' | '`' | '´' => "'",
        ';' => ",",
        _ => return None,
    })
}

/// An IBAN, BIC or RF reference as people write it (grouped, any case) in the form the schema
/// wants: no whitespace, upper case.
pub(super) fn compact_upper(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// ISO 9362 BIC: 4 letters (bank), 2 letters (country), 2 alphanumerics (location, the second
/// never `O`), optionally 3 alphanumerics (branch); the schema's `BICIdentifier` pattern.
pub(super) fn is_valid_bic(bic: &str) -> bool {
    let b = bic.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && (b[7].is_ascii_digit() || (b[7].is_ascii_uppercase() && b[7] != b'O'))
        && b[8..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// SEPA Creditor Identifier (EPC262-08): country code, two check digits, a three-character
/// creditor business code the creditor chooses freely (usually `ZZZ`), then the national
/// identifier. The check digits are ISO 7064 MOD 97-10 over country and national identifier
/// only, as in an IBAN, so the business code can change without a new identifier.
pub fn is_valid_creditor_id(id: &str) -> bool {
    let b = id.as_bytes();
    let alphanumeric_upper = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    if b.len() < 8 || b.len() > 35 {
        return false;
    }
    if !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..].iter().all(alphanumeric_upper)
    {
        return false;
    }
    mod97(b[7..].iter().chain(&b[..4])) == 1
}

/// Letters count as 10..35, digit by digit so any length fits (ISO 7064 MOD 97-10).
fn mod97<'a>(chars: impl Iterator<Item = &'a u8>) -> u32 {
    chars.fold(0, |acc, &c| {
        let v = char::from(c).to_digit(36).unwrap_or(0);
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_french_and_eastern_european_letters_are_spelled_in_basic_latin() {
        assert_eq!(
            transliterate("Jürgen Weiß-Böhm").as_deref(),
            Ok("Juergen Weiss-Boehm")
        );
        assert_eq!(
            transliterate("Éléonore Françoise Dvořák Łukasz").as_deref(),
            Ok("Eleonore Francoise Dvorak Lukasz")
        );
        assert_eq!(
            transliterate("Müller & Söhne „GmbH“").as_deref(),
            Ok("Mueller + Soehne 'GmbH'")
        );
    }

    #[test]
    fn whitespace_is_collapsed_and_trimmed() {
        assert_eq!(transliterate("  a \t\n b  ").as_deref(), Ok("a b"));
        assert_eq!(transliterate("   ").as_deref(), Ok(""));
    }

    #[test]
    fn characters_without_an_equivalent_are_reported() {
        assert_eq!(transliterate("Σοφία"), Err('Σ'));
        assert_eq!(transliterate("a@b"), Err('@'));
    }

    #[test]
    fn creditor_ids_are_checked_without_the_business_code() {
        assert!(is_valid_creditor_id("DE98ZZZ09999999999"));
        assert!(is_valid_creditor_id("DE98ABC09999999999"));
        assert!(!is_valid_creditor_id("DE99ZZZ09999999999"));
        assert!(is_valid_creditor_id("ES50ZZZM23456789"));
        assert!(is_valid_creditor_id("FR72ZZZ123456"));
        assert!(!is_valid_creditor_id("de98zzz09999999999"));
        assert!(!is_valid_creditor_id("DE98ZZZ"));
    }

    #[test]
    fn bics_follow_the_schema_pattern() {
        assert!(is_valid_bic("COBADEFFXXX"));
        assert!(is_valid_bic("MARKDEF1"));
        assert!(!is_valid_bic("COBADEF"));
        assert!(!is_valid_bic("COBADEFO"));
        assert!(!is_valid_bic("cobadeff"));
        assert!(!is_valid_bic("C0BADEFF"));
    }
}
