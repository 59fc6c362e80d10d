//! Bank statements in, one model out: camt.053/054 (and camt.052) XML, MT940, BAI2, and CSV
//! exports read through a saved column mapping.
//!
//! Pure: bytes in, [`Statement`]s out, no I/O and no clock. A file is read whole or refused
//! whole ([`StatementError`] says where and why); things worth a look that do not make the file
//! wrong (balances that do not reconcile, control totals, lenient dates) become
//! [`Statement::warnings`]. Cash application works per [`Transaction`]: batch entries are split
//! into their payments.
//!
//! ```
//! let xml = br#"<?xml version="1.0"?>
//! <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
//!  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-01-31T18:00:00</CreDtTm></GrpHdr>
//!  <Stmt><Id>S1</Id><Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>
//!   <Ntry><Amt Ccy="CHF">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>
//!  </Stmt></BkToCstmrStmt></Document>"#;
//! assert_eq!(o2c_bank::detect(xml).unwrap(), o2c_bank::Format::Camt053);
//! let statements = o2c_bank::parse(xml).unwrap();
//! assert_eq!(statements[0].entries[0].amount.to_string(), "100.00 CHF");
//! ```

#![warn(missing_docs)]

mod amount;
mod bai2;
mod camt;
mod csv;
mod error;
mod model;
mod mt940;
mod mt940_details;
mod text;
mod xml;

pub use crate::csv::{CsvAmount, CsvCurrency, CsvMapping};
pub use crate::error::{Location, Problem, StatementError};
pub use crate::model::{
    Account, Balance, Direction, Entry, Format, Statement, Status, StructuredReference, Transaction,
};

/// Camt versions read: `.001.02` to `.001.08`.
const CAMT_VERSIONS: std::ops::RangeInclusive<u8> = 2..=8;

/// Lines looked at to recognise MT940 behind bank header lines.
const MT940_SNIFF_LINES: usize = 50;

/// Tells the format from the content (never from a file name).
///
/// XML is recognised by the root element's namespace
/// (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.02` … `.08`, camt.054, camt.052), MT940 by a
/// SWIFT envelope `{1:` or a field tag such as `:20:` at the start of one of the first lines,
/// BAI2 by its `01,` file header, CSV by a delimited first line (which then needs a mapping).
pub fn detect(bytes: &[u8]) -> Result<Format, StatementError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let body = &body[start..];
    if body.starts_with(b"<") {
        return detect_xml(body);
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    let first_line = head.lines().next().unwrap_or("");
    if head.starts_with("{1:") || looks_like_mt940(&head) {
        return Ok(Format::Mt940);
    }
    if looks_like_bai2(first_line) {
        return Ok(Format::Bai2);
    }
    if !head.contains('\0') && [',', ';', '\t'].iter().any(|d| first_line.contains(*d)) {
        return Ok(Format::Csv);
    }
    Err(StatementError::UnknownFormat)
}

fn looks_like_mt940(head: &str) -> bool {
    const TAGS: &[&str] = &[
        ":20:", ":21:", ":25:", ":28:", ":28C:", ":60F:", ":60M:", ":61:", ":62F:", ":62M:",
        ":64:", ":65:", ":86:",
    ];
    head.lines()
        .take(MT940_SNIFF_LINES)
        .any(|line| TAGS.iter().any(|t| line.starts_with(t)))
}

/// `01,` starts a BAI2 file; other `NN,…/` first records are BAI2-shaped too, so that the BAI2
/// reader can say precisely what is wrong with them.
fn looks_like_bai2(first_line: &str) -> bool {
    let b = first_line.as_bytes();
    let record_start =
        b.len() > 3 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b',';
    record_start && (first_line.starts_with("01,") || first_line.trim_end().ends_with('/'))
}

fn detect_xml(body: &[u8]) -> Result<Format, StatementError> {
    let text = String::from_utf8_lossy(body);
    let mut reader = xml::XmlReader::new(&text);
    let root = reader
        .next_child("")?
        .ok_or(StatementError::UnknownFormat)?;
    let xmlns = match root.qname.split_once(':') {
        Some((prefix, _)) => format!("xmlns:{prefix}"),
        None => "xmlns".to_string(),
    };
    let namespace = root
        .attrs
        .iter()
        .find(|(k, _)| *k == xmlns)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    if namespace.is_empty() {
        return Err(StatementError::XmlWithoutNamespace {
            root: root.qname.to_string(),
        });
    }
    let unsupported = || StatementError::UnsupportedXmlMessage {
        namespace: namespace.clone(),
    };
    let rest = namespace
        .strip_prefix("urn:iso:std:iso:20022:tech:xsd:camt.05")
        .ok_or_else(unsupported)?;
    let (kind, version_text) = rest.split_once(".001.").ok_or_else(unsupported)?;
    let version: u8 = version_text.parse().map_err(|_| unsupported())?;
    if version_text.len() != 2 || !CAMT_VERSIONS.contains(&version) {
        return Err(unsupported());
    }
    match kind {
        "2" => Ok(Format::Camt052),
        "3" => Ok(Format::Camt053),
        "4" => Ok(Format::Camt054),
        _ => Err(unsupported()),
    }
}

/// Reads every statement in a camt, MT940 or BAI2 file (one file may hold several).
///
/// CSV needs [`parse_csv`] and a mapping. A malformed file is refused whole.
pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, StatementError> {
    match detect(bytes)? {
        format @ (Format::Camt053 | Format::Camt054 | Format::Camt052) => {
            camt::parse(bytes, format)
        }
        Format::Mt940 => mt940::parse(bytes),
        Format::Bai2 => bai2::parse(bytes),
        Format::Csv => Err(StatementError::CsvMappingRequired),
    }
}

/// Reads a bank's CSV export as one statement of `mapping.account_iban`.
pub fn parse_csv(bytes: &[u8], mapping: &CsvMapping) -> Result<Vec<Statement>, StatementError> {
    csv::parse(bytes, mapping)
}
