//! Turns a `Collection` into the checked values the writer lays out, or the first rule it breaks.
//!
//! The rules are those a creditor's bank applies on upload (EPC130-08/EPC131-08 implementation
//! guidelines and the pain.008.001.02 schema); a file that breaks one is refused whole, so each is
//! checked here and reported with the field that broke it.

use super::charset::{compact_upper, is_sepa_char, is_valid_bic, is_valid_creditor_id};
use super::{Collection, Debit, Pain008Error, Scheme, SequenceType, transliterate};
use chrono::{NaiveDate, NaiveDateTime};
use o2c_core::money::{Currency, Money};
use o2c_core::reference::{is_valid_iban, is_valid_rf};

/// ISO 20022 `Max35Text`: message, end-to-end and mandate ids.
const MAX_ID_CHARS: usize = 35;
/// The EPC guidelines restrict the schema's 140 characters to 70 for every name.
const MAX_NAME_CHARS: usize = 70;
/// One `Ustrd` occurrence, the only one the EPC guidelines allow.
const MAX_REMITTANCE_CHARS: usize = 140;
/// EPC rulebook: an amount is between 0.01 and 999,999,999.99 euro.
const MAX_AMOUNT_MINOR: i64 = 99_999_999_999;

pub(super) struct Checked<'a> {
    pub message_id: &'a str,
    pub created_at: NaiveDateTime,
    pub creditor_name: String,
    pub creditor_iban: String,
    pub creditor_bic: Option<String>,
    pub creditor_id: &'a str,
    pub scheme: Scheme,
    pub debits: Vec<CheckedDebit<'a>>,
}

pub(super) struct CheckedDebit<'a> {
    pub end_to_end_id: &'a str,
    pub amount: Money,
    pub sequence: SequenceType,
    pub collection_date: NaiveDate,
    pub mandate_id: &'a str,
    pub mandate_signed_on: NaiveDate,
    pub debtor_name: String,
    pub debtor_iban: String,
    pub debtor_bic: Option<String>,
    pub remittance: Option<Remittance>,
}

pub(super) enum Remittance {
    Unstructured(String),
    /// An ISO 11649 reference, compact and upper case.
    CreditorReference(String),
}

pub(super) fn check(c: &Collection) -> Result<Checked<'_>, Pain008Error> {
    sepa_id("message_id", &c.message_id)?;
    let creditor = &c.creditor;
    let creditor_name = name("creditor.name", &creditor.name, MAX_NAME_CHARS)?;
    let creditor_iban = iban("creditor.iban", &creditor.iban)?;
    let creditor_bic = bic("creditor.bic", creditor.bic.as_deref())?;
    if !is_valid_creditor_id(&creditor.creditor_id) {
        return Err(Pain008Error::InvalidCreditorId {
            field: "creditor.creditor_id".into(),
            value: creditor.creditor_id.clone(),
        });
    }
    if c.debits.is_empty() {
        return Err(Pain008Error::NoDebits);
    }
    let debits = c
        .debits
        .iter()
        .enumerate()
        .map(|(i, d)| debit(i, d, c.created_at.date()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Checked {
        message_id: &c.message_id,
        created_at: c.created_at,
        creditor_name,
        creditor_iban,
        creditor_bic,
        creditor_id: &creditor.creditor_id,
        scheme: c.scheme,
        debits,
    })
}

fn debit(i: usize, d: &Debit, created_on: NaiveDate) -> Result<CheckedDebit<'_>, Pain008Error> {
    let field = |name: &str| format!("debits[{i}].{name}");
    sepa_id(&field("end_to_end_id"), &d.end_to_end_id)?;
    amount(&field("amount"), d.amount)?;
    sepa_id(&field("mandate_id"), &d.mandate_id)?;
    if d.mandate_signed_on > created_on {
        return Err(Pain008Error::MandateSignedAfterCreation {
            field: field("mandate_signed_on"),
            signed_on: d.mandate_signed_on,
            created_on,
        });
    }
    if d.collection_date < created_on {
        return Err(Pain008Error::CollectionDateBeforeCreation {
            field: field("collection_date"),
            collection_date: d.collection_date,
            created_on,
        });
    }
    let debtor_name = name(&field("debtor_name"), &d.debtor_name, MAX_NAME_CHARS)?;
    let debtor_iban = iban(&field("debtor_iban"), &d.debtor_iban)?;
    let debtor_bic = bic(&field("debtor_bic"), d.debtor_bic.as_deref())?;
    let remittance = remittance(i, d)?;
    Ok(CheckedDebit {
        end_to_end_id: &d.end_to_end_id,
        amount: d.amount,
        sequence: d.sequence,
        collection_date: d.collection_date,
        mandate_id: &d.mandate_id,
        mandate_signed_on: d.mandate_signed_on,
        debtor_name,
        debtor_iban,
        debtor_bic,
        remittance,
    })
}

/// EPC rule for references and identifiers (AT-01 mandate id, AT-10 end-to-end id, …): the
/// SEPA set, at most 35 characters, no `/` at either end and no `//` (clearing houses use `/`
/// to delimit codes within free text).
fn sepa_id(field: &str, value: &str) -> Result<(), Pain008Error> {
    if value.trim().is_empty() {
        return Err(Pain008Error::Empty {
            field: field.into(),
        });
    }
    if let Some(character) = value.chars().find(|c| !is_sepa_char(*c)) {
        return Err(Pain008Error::CharacterNotAllowed {
            field: field.into(),
            value: value.into(),
            character,
        });
    }
    too_long(field, value, MAX_ID_CHARS)?;
    if value.starts_with('/') || value.ends_with('/') {
        return Err(Pain008Error::SlashAtEdge {
            field: field.into(),
            value: value.into(),
        });
    }
    if value.contains("//") {
        return Err(Pain008Error::DoubleSlash {
            field: field.into(),
            value: value.into(),
        });
    }
    Ok(())
}

/// Free text in the SEPA set; the limit applies to the converted text, which is what is sent.
fn name(field: &str, value: &str, max: usize) -> Result<String, Pain008Error> {
    let converted = transliterate(value).map_err(|character| Pain008Error::NotTransliterable {
        field: field.into(),
        value: value.into(),
        character,
    })?;
    if converted.is_empty() {
        return Err(Pain008Error::Empty {
            field: field.into(),
        });
    }
    too_long(field, &converted, max)?;
    Ok(converted)
}

fn too_long(field: &str, value: &str, max: usize) -> Result<(), Pain008Error> {
    let length = value.chars().count();
    if length > max {
        return Err(Pain008Error::TooLong {
            field: field.into(),
            value: value.into(),
            length,
            max,
        });
    }
    Ok(())
}

fn iban(field: &str, value: &str) -> Result<String, Pain008Error> {
    let compact = compact_upper(value);
    if is_valid_iban(&compact) {
        Ok(compact)
    } else {
        Err(Pain008Error::InvalidIban {
            field: field.into(),
            value: value.into(),
        })
    }
}

fn bic(field: &str, value: Option<&str>) -> Result<Option<String>, Pain008Error> {
    let Some(value) = value else {
        return Ok(None);
    };
    let compact = compact_upper(value);
    if is_valid_bic(&compact) {
        Ok(Some(compact))
    } else {
        Err(Pain008Error::InvalidBic {
            field: field.into(),
            value: value.into(),
        })
    }
}

fn amount(field: &str, amount: Money) -> Result<(), Pain008Error> {
    if amount.currency() != Currency::EUR {
        return Err(Pain008Error::CurrencyNotEur {
            field: field.into(),
            amount,
        });
    }
    if !amount.is_positive() {
        return Err(Pain008Error::AmountNotPositive {
            field: field.into(),
            amount,
        });
    }
    if amount.minor() > MAX_AMOUNT_MINOR {
        return Err(Pain008Error::AmountAboveSepaMaximum {
            field: field.into(),
            amount,
        });
    }
    Ok(())
}

/// The EPC guidelines allow either one `Ustrd` or one `Strd`, never both.
fn remittance(i: usize, d: &Debit) -> Result<Option<Remittance>, Pain008Error> {
    let unstructured = d.remittance_unstructured.as_deref();
    let rf = d.remittance_rf.as_deref();
    match (unstructured, rf) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(Pain008Error::RemittanceInBothForms {
            field: format!("debits[{i}].remittance_rf"),
        }),
        (Some(text), None) => {
            let field = format!("debits[{i}].remittance_unstructured");
            name(&field, text, MAX_REMITTANCE_CHARS).map(|t| Some(Remittance::Unstructured(t)))
        }
        (None, Some(reference)) => {
            if is_valid_rf(reference) {
                Ok(Some(Remittance::CreditorReference(compact_upper(
                    reference,
                ))))
            } else {
                Err(Pain008Error::InvalidRfReference {
                    field: format!("debits[{i}].remittance_rf"),
                    value: reference.into(),
                })
            }
        }
    }
}
