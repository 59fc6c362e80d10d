//! SEPA Direct Debit collection files: ISO 20022 `pain.008.001.02` in the shape the EPC SDD Core
//! and B2B implementation guidelines (EPC130-08, EPC131-08) ask of a creditor's bank.
//!
//! A `Collection` is one upload: the debits o2c asks its bank to collect from customers'
//! accounts under their mandates. `write_pain008` checks every rule a bank applies on upload
//! first (a file that breaks one is refused whole, often a day later) and reports the first
//! broken rule with the field that broke it, e.g. `debits[3].debtor_iban`. Then it writes one
//! `PmtInf` per (collection date, sequence type), since both are set per payment information
//! block, in date order and then FRST, RCUR, FNAL, OOFF; the debits of a block keep their order.
//!
//! Element order is the schema's (`xsd:sequence`: any other order is a schema error). Names and
//! remittance text are converted into the SEPA character set (`transliterate`); identifiers are
//! refused instead, because the debtor's bank matches them exactly.

use chrono::{NaiveDate, NaiveDateTime};
use o2c_core::money::{Currency, Money};
use std::collections::BTreeMap;

mod charset;
mod validate;
mod xml;

pub use charset::{is_valid_creditor_id, transliterate};
use validate::{Checked, CheckedDebit, Remittance};
use xml::Xml;

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02";
/// The EPC value for an agent left out: since 2016 the IBAN alone identifies the bank.
const AGENT_NOT_PROVIDED: &str = "NOTPROVIDED";
/// Service level, and the scheme name of the creditor identifier.
const SEPA: &str = "SEPA";
/// Charges: each party pays its own bank, the only option the rulebooks allow.
const CHARGE_BEARER: &str = "SLEV";
/// ISO 20022 `Max35Text`, the limit of the derived `PmtInfId`.
const MAX_ID_CHARS: usize = 35;

/// One collection file: what the creditor asks its bank to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub creditor: Creditor,
    /// One scheme per file, as banks take them (German DK rules require it): Core and B2B
    /// differ in deadlines and in the debtor's refund rights.
    pub scheme: Scheme,
    pub debits: Vec<Debit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    pub name: String,
    /// Grouped (`DE89 3704 …`) or compact, any case.
    pub iban: String,
    pub bic: Option<String>,
    /// The SEPA Creditor Identifier the mandates name, e.g. `DE98ZZZ09999999999`.
    pub creditor_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Core,
    B2B,
}

impl Scheme {
    /// The `LclInstrm/Cd` code.
    pub fn code(self) -> &'static str {
        match self {
            Scheme::Core => "CORE",
            Scheme::B2B => "B2B",
        }
    }
}

/// Where a debit stands in its mandate's life; `Ord` is the order of the payment information
/// blocks of one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SequenceType {
    First,
    Recurring,
    Final,
    OneOff,
}

impl SequenceType {
    /// The `SeqTp` code.
    pub fn code(self) -> &'static str {
        match self {
            SequenceType::First => "FRST",
            SequenceType::Recurring => "RCUR",
            SequenceType::Final => "FNAL",
            SequenceType::OneOff => "OOFF",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debit {
    pub end_to_end_id: String,
    /// EUR only, 0.01 to 999,999,999.99.
    pub amount: Money,
    pub sequence: SequenceType,
    /// The day the creditor wants the money debited (`ReqdColltnDt`).
    pub collection_date: NaiveDate,
    pub mandate_id: String,
    pub mandate_signed_on: NaiveDate,
    pub debtor_name: String,
    pub debtor_iban: String,
    pub debtor_bic: Option<String>,
    /// At most 140 characters once converted into the SEPA set.
    pub remittance_unstructured: Option<String>,
    /// An ISO 11649 `RF` reference, sent as structured remittance (`SCOR`). Excludes
    /// `remittance_unstructured`.
    pub remittance_rf: Option<String>,
}

/// The first rule a collection breaks; `field` names the input, e.g. `debits[3].debtor_iban`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Pain008Error {
    #[error("debits: a collection needs at least one debit")]
    NoDebits,
    #[error("{field}: must not be empty")]
    Empty { field: String },
    #[error("{field}: `{value}` contains `{character}`, which is outside the SEPA character set")]
    CharacterNotAllowed {
        field: String,
        value: String,
        character: char,
    },
    #[error("{field}: `{value}` contains `{character}`, which has no SEPA equivalent")]
    NotTransliterable {
        field: String,
        value: String,
        character: char,
    },
    #[error("{field}: `{value}` is {length} characters long, at most {max} are allowed")]
    TooLong {
        field: String,
        value: String,
        length: usize,
        max: usize,
    },
    #[error("{field}: `{value}` starts or ends with `/`")]
    SlashAtEdge { field: String, value: String },
    #[error("{field}: `{value}` contains `//`")]
    DoubleSlash { field: String, value: String },
    #[error("{field}: `{value}` is not a valid IBAN")]
    InvalidIban { field: String, value: String },
    #[error("{field}: `{value}` is not a valid BIC")]
    InvalidBic { field: String, value: String },
    #[error("{field}: `{value}` is not a valid SEPA creditor identifier")]
    InvalidCreditorId { field: String, value: String },
    #[error("{field}: {amount} is not in euro; SEPA direct debits are in EUR only")]
    CurrencyNotEur { field: String, amount: Money },
    #[error("{field}: {amount} is not a positive amount")]
    AmountNotPositive { field: String, amount: Money },
    #[error("{field}: {amount} is above the SEPA maximum of 999999999.99 EUR")]
    AmountAboveSepaMaximum { field: String, amount: Money },
    #[error(
        "{field}: the mandate is signed on {signed_on}, after the file is created on {created_on}"
    )]
    MandateSignedAfterCreation {
        field: String,
        signed_on: NaiveDate,
        created_on: NaiveDate,
    },
    #[error("{field}: {collection_date} is before the file is created on {created_on}")]
    CollectionDateBeforeCreation {
        field: String,
        collection_date: NaiveDate,
        created_on: NaiveDate,
    },
    #[error("{field}: `{value}` is not a valid ISO 11649 RF creditor reference")]
    InvalidRfReference { field: String, value: String },
    #[error("{field}: a debit carries an RF reference or unstructured text, not both")]
    RemittanceInBothForms { field: String },
    #[error("the debits' total does not fit in one amount")]
    ControlSumOutOfRange,
}

/// Writes the collection as a pain.008.001.02 document (UTF-8, indented), after checking it.
pub fn write_pain008(c: &Collection) -> Result<String, Pain008Error> {
    let checked = validate::check(c)?;
    let groups = payment_groups(&checked.debits)?;
    let total = sum(groups.iter().map(|g| g.total))?;
    let mut x = Xml::with_capacity(2048 + 1024 * checked.debits.len());
    x.declaration();
    x.start_with("Document", &[("xmlns", NAMESPACE)]);
    x.elem("CstmrDrctDbtInitn", |x| {
        group_header(x, &checked, total);
        for (n, g) in groups.iter().enumerate() {
            let id = payment_information_id(checked.message_id, n + 1);
            payment_information(x, &checked, &id, g);
        }
    });
    x.end("Document");
    Ok(x.finish())
}

/// The debits of one `PmtInf` block.
struct PaymentGroup<'c> {
    collection_date: NaiveDate,
    sequence: SequenceType,
    debits: Vec<&'c CheckedDebit<'c>>,
    total: Money,
}

fn payment_groups<'c>(
    debits: &'c [CheckedDebit<'c>],
) -> Result<Vec<PaymentGroup<'c>>, Pain008Error> {
    let mut by_key: BTreeMap<(NaiveDate, SequenceType), Vec<&CheckedDebit>> = BTreeMap::new();
    for d in debits {
        by_key
            .entry((d.collection_date, d.sequence))
            .or_default()
            .push(d);
    }
    by_key
        .into_iter()
        .map(|((collection_date, sequence), debits)| {
            Ok(PaymentGroup {
                collection_date,
                sequence,
                total: sum(debits.iter().map(|d| d.amount))?,
                debits,
            })
        })
        .collect()
}

fn sum(amounts: impl IntoIterator<Item = Money>) -> Result<Money, Pain008Error> {
    Money::sum(Currency::EUR, amounts).map_err(|_| Pain008Error::ControlSumOutOfRange)
}

/// `<MsgId>-<n>`, n counting blocks from 1; the message id is shortened to keep within 35
/// characters. It is ASCII (checked), so bytes are characters.
fn payment_information_id(message_id: &str, n: usize) -> String {
    let suffix = format!("-{n}");
    let keep = message_id.len().min(MAX_ID_CHARS - suffix.len());
    format!("{}{suffix}", &message_id[..keep])
}

// ---------------------------------------------------------------------------------------------
// Document sections, in schema order.

fn group_header(x: &mut Xml, c: &Checked, total: Money) {
    x.elem("GrpHdr", |x| {
        x.text("MsgId", c.message_id);
        x.text(
            "CreDtTm",
            &c.created_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        );
        x.text("NbOfTxs", &c.debits.len().to_string());
        x.text("CtrlSum", &total.to_decimal_string());
        // Mandatory in the schema; o2c sends its files itself, so the creditor initiates.
        x.elem("InitgPty", |x| x.text("Nm", &c.creditor_name));
    });
}

fn payment_information(x: &mut Xml, c: &Checked, id: &str, g: &PaymentGroup) {
    x.elem("PmtInf", |x| {
        x.text("PmtInfId", id);
        x.text("PmtMtd", "DD");
        x.text("NbOfTxs", &g.debits.len().to_string());
        x.text("CtrlSum", &g.total.to_decimal_string());
        x.elem("PmtTpInf", |x| {
            x.elem("SvcLvl", |x| x.text("Cd", SEPA));
            x.elem("LclInstrm", |x| x.text("Cd", c.scheme.code()));
            x.text("SeqTp", g.sequence.code());
        });
        x.text("ReqdColltnDt", &g.collection_date.to_string());
        x.elem("Cdtr", |x| x.text("Nm", &c.creditor_name));
        account(x, "CdtrAcct", &c.creditor_iban);
        agent(x, "CdtrAgt", c.creditor_bic.as_deref());
        x.text("ChrgBr", CHARGE_BEARER);
        x.elem("CdtrSchmeId", |x| {
            x.elem("Id", |x| {
                x.elem("PrvtId", |x| {
                    x.elem("Othr", |x| {
                        x.text("Id", c.creditor_id);
                        x.elem("SchmeNm", |x| x.text("Prtry", SEPA));
                    })
                })
            })
        });
        for d in &g.debits {
            transaction(x, d);
        }
    });
}

fn transaction(x: &mut Xml, d: &CheckedDebit) {
    x.elem("DrctDbtTxInf", |x| {
        x.elem("PmtId", |x| x.text("EndToEndId", d.end_to_end_id));
        x.text_attr(
            "InstdAmt",
            "Ccy",
            d.amount.currency().code(),
            &d.amount.to_decimal_string(),
        );
        x.elem("DrctDbtTx", |x| {
            x.elem("MndtRltdInf", |x| {
                x.text("MndtId", d.mandate_id);
                x.text("DtOfSgntr", &d.mandate_signed_on.to_string());
            })
        });
        agent(x, "DbtrAgt", d.debtor_bic.as_deref());
        x.elem("Dbtr", |x| x.text("Nm", &d.debtor_name));
        account(x, "DbtrAcct", &d.debtor_iban);
        match &d.remittance {
            None => {}
            Some(Remittance::Unstructured(text)) => {
                x.elem("RmtInf", |x| x.text("Ustrd", text));
            }
            Some(Remittance::CreditorReference(reference)) => {
                x.elem("RmtInf", |x| {
                    x.elem("Strd", |x| {
                        x.elem("CdtrRefInf", |x| {
                            x.elem("Tp", |x| x.elem("CdOrPrtry", |x| x.text("Cd", "SCOR")));
                            x.text("Ref", reference);
                        })
                    })
                });
            }
        }
    });
}

fn account(x: &mut Xml, element: &str, iban: &str) {
    x.elem(element, |x| x.elem("Id", |x| x.text("IBAN", iban)));
}

fn agent(x: &mut Xml, element: &str, bic: Option<&str>) {
    x.elem(element, |x| {
        x.elem("FinInstnId", |x| match bic {
            Some(bic) => x.text("BIC", bic),
            None => x.elem("Othr", |x| x.text("Id", AGENT_NOT_PROVIDED)),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pain008_payment_information_ids_stay_within_35_characters() {
        assert_eq!(payment_information_id("MSG-1", 2), "MSG-1-2");
        let long = "A".repeat(35);
        let id = payment_information_id(&long, 12);
        assert_eq!(id.len(), 35);
        assert!(id.ends_with("A-12"));
    }

    #[test]
    fn pain008_sequence_types_sort_in_schema_order() {
        let mut s = [
            SequenceType::OneOff,
            SequenceType::Final,
            SequenceType::Recurring,
            SequenceType::First,
        ];
        s.sort();
        let codes: Vec<_> = s.iter().map(|s| s.code()).collect();
        assert_eq!(codes, ["FRST", "RCUR", "FNAL", "OOFF"]);
    }
}
