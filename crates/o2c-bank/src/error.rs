//! Why a statement file was refused, and where.
//!
//! A malformed file is refused whole: a partial statement would import some payments and
//! silently drop others. Every message names the line and the field (text formats) or the
//! element path (XML), so an operator can open the file and see the problem.

use o2c_core::money::Currency;
use std::fmt;

/// A statement file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The bytes are none of the formats this crate reads.
    #[error(
        "unknown statement format: expected camt.053/054 XML, MT940, BAI2 or CSV with a saved mapping"
    )]
    UnknownFormat,
    /// XML, but not a camt message version this crate reads.
    #[error(
        "unsupported XML message `{namespace}`: expected camt.052, camt.053 or camt.054 in versions .001.02 to .001.08"
    )]
    UnsupportedXmlMessage {
        /// The root element's namespace (empty when it has none).
        namespace: String,
    },
    /// XML whose root element has no namespace, so no message type.
    #[error(
        "XML root element <{root}> has no namespace: expected a camt.052, camt.053 or camt.054 message (xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\" or similar)"
    )]
    XmlWithoutNamespace {
        /// The root element's name.
        root: String,
    },
    /// CSV needs a column mapping, which `parse` does not have.
    #[error("a CSV statement needs a column mapping: call parse_csv with a saved CsvMapping")]
    CsvMappingRequired,
    /// The saved CSV mapping itself is unusable.
    #[error("CSV mapping: {0}")]
    InvalidMapping(String),
    /// The file is well-formed but holds no statement.
    #[error("no statement found in the {format} file: {detail}")]
    NoStatement {
        /// Format name ("MT940").
        format: &'static str,
        /// What was looked for.
        detail: &'static str,
    },
    /// A specific place in the file breaks the format.
    #[error("{at}: {problem}")]
    Malformed {
        /// Where.
        at: Location,
        /// What.
        problem: Problem,
    },
}

/// A place in a statement file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A line of a text format and the field or record on it (`:61:`, `16`, a CSV column).
    Line {
        /// 1-based line number.
        line: usize,
        /// Field tag, record type or column name; empty when the whole line is meant.
        field: String,
    },
    /// An XML element.
    Element {
        /// 1-based line number of the element's start tag.
        line: usize,
        /// Element path from the statement or entry down (`Ntry/Amt`).
        path: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { line, field } if field.is_empty() => write!(f, "line {line}"),
            Location::Line { line, field } => write!(f, "line {line} ({field})"),
            Location::Element { line, path } => write!(f, "line {line}, element {path}"),
        }
    }
}

/// What is wrong at a [`Location`]. One variant per broken rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not a number in the format's amount notation.
    #[error("malformed amount `{value}`: expected {expected}")]
    MalformedAmount {
        /// The text as found.
        value: String,
        /// The notation the format uses.
        expected: &'static str,
    },
    /// More decimals than the currency has, and the extra ones are not zeros.
    #[error(
        "amount `{value}` has more decimals than {currency} allows ({exponent}); only zeros may follow"
    )]
    TooManyDecimals {
        /// The text as found.
        value: String,
        /// The amount's currency.
        currency: Currency,
        /// Decimals the currency has.
        exponent: u8,
    },
    /// Too large for integer minor units.
    #[error("amount `{value}` is out of range")]
    AmountOutOfRange {
        /// The text as found.
        value: String,
    },
    /// A currency code o2c does not know.
    #[error("unknown currency `{code}`: expected an ISO 4217 code o2c accepts, such as EUR")]
    UnknownCurrency {
        /// The code as found.
        code: String,
    },
    /// No currency anywhere for the statement.
    #[error("no currency: {detail}")]
    NoCurrency {
        /// Where it was looked for.
        detail: &'static str,
    },
    /// Not a date, or a day that does not exist.
    #[error("malformed date `{value}`: expected {expected}")]
    MalformedDate {
        /// The text as found.
        value: String,
        /// The notation the format uses.
        expected: String,
    },
    /// A field whose layout is wrong.
    #[error("malformed field `{value}`: expected {expected}")]
    MalformedField {
        /// The text as found.
        value: String,
        /// The layout the format prescribes.
        expected: &'static str,
    },
    /// A code outside its list (`CdtDbtInd` other than CRDT/DBIT, a BAI2 funds type).
    #[error("unexpected code `{value}`: expected {expected}")]
    InvalidCode {
        /// The code as found.
        value: String,
        /// The allowed codes.
        expected: &'static str,
    },
    /// The XML is not well-formed.
    #[error("XML syntax error: {message}")]
    XmlSyntax {
        /// The XML reader's message.
        message: String,
    },
    /// The bytes are not text in the expected encoding.
    #[error("not valid UTF-8 text")]
    NotUtf8,
    /// A mandatory XML element is absent.
    #[error("missing <{name}>")]
    MissingElement {
        /// Local name of the missing element.
        name: &'static str,
    },
    /// A mandatory XML attribute is absent.
    #[error("missing {name} attribute")]
    MissingAttribute {
        /// Attribute name.
        name: &'static str,
    },
    /// An XML element where another was required.
    #[error("unexpected <{found}>: expected {expected}")]
    UnexpectedElement {
        /// Local name found.
        found: String,
        /// What the message type requires there.
        expected: &'static str,
    },
    /// An MT940 field in a place the message layout does not allow.
    #[error("unexpected field: expected {expected}")]
    UnexpectedField {
        /// The fields allowed there.
        expected: &'static str,
    },
    /// An MT940 field before any `:20:`.
    #[error("field outside a statement: expected :20: to start one")]
    FieldOutsideStatement,
    /// A mandatory MT940 field is absent from a statement.
    #[error("statement `{reference}` has no {field}")]
    MissingField {
        /// The statement's `:20:` reference.
        reference: String,
        /// The missing field, with its tag.
        field: &'static str,
    },
    /// A message type this crate does not read.
    #[error("{what} is not supported: expected {expected}")]
    Unsupported {
        /// What was found.
        what: &'static str,
        /// What is read instead.
        expected: &'static str,
    },
    /// A BAI2 record type outside the standard.
    #[error("unknown record type `{code}`: expected 01, 02, 03, 16, 49, 88, 98 or 99")]
    UnknownRecord {
        /// The record code found.
        code: String,
    },
    /// A BAI2 record out of the file/group/account nesting.
    #[error("unexpected record: expected {expected}")]
    UnexpectedRecord {
        /// The records allowed there.
        expected: &'static str,
    },
    /// A BAI2 transaction type code with no direction.
    #[error(
        "type code `{code}` is neither a credit (100-399, 920-959) nor a debit (400-699, 980-999) transaction"
    )]
    NoDirection {
        /// The type code found.
        code: String,
    },
    /// A CSV header without a column the mapping names.
    #[error("column `{name}` named in the mapping is not in the header")]
    MissingColumn {
        /// The column name from the mapping.
        name: String,
    },
    /// A quoted CSV field that never closes.
    #[error("quoted field is not closed")]
    UnclosedQuote,
    /// A CSV row with amounts in both the credit and the debit column.
    #[error("both credit `{credit}` and debit `{debit}` are filled: expected one of them")]
    CreditAndDebit {
        /// Credit column text.
        credit: String,
        /// Debit column text.
        debit: String,
    },
    /// A required CSV value is empty.
    #[error("empty value: expected {expected}")]
    EmptyValue {
        /// What the column should hold.
        expected: &'static str,
    },
}

impl StatementError {
    /// A problem on a line of a text format.
    pub(crate) fn at_line(line: usize, field: impl Into<String>, problem: Problem) -> Self {
        StatementError::Malformed {
            at: Location::Line {
                line,
                field: field.into(),
            },
            problem,
        }
    }

    /// A problem at an XML element.
    pub(crate) fn at_element(line: usize, path: impl Into<String>, problem: Problem) -> Self {
        StatementError::Malformed {
            at: Location::Element {
                line,
                path: path.into(),
            },
            problem,
        }
    }
}
