//! Why a file was refused, and where: every error names the segment and element (X12) or the
//! line and column (CSV) a person has to look at.

use std::fmt;

use o2c_core::money::Currency;
use serde::Serialize;

/// Where a segment starts in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based number of the segment in its interchange; the ISA is segment 1.
    pub segment: usize,
    /// 1-based line of the input the segment starts on (pretty-printed files have one segment a
    /// line; machine-written ones often put the whole interchange on line 1).
    pub line: usize,
    /// 0-based byte offset of the segment's first character in the input (a BOM counts).
    pub byte_offset: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segment {} (line {}, byte {})",
            self.segment, self.line, self.byte_offset
        )
    }
}

/// A segment named in an error or a warning: its identifier and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentRef {
    /// The segment identifier (`BPR`).
    pub id: String,
    /// Where the segment starts.
    pub position: Position,
}

impl fmt::Display for SegmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.position;
        write!(
            f,
            "segment {} ({}, line {}, byte {})",
            p.segment, self.id, p.line, p.byte_offset
        )
    }
}

/// The place of one value: an X12 element or a CSV cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Element `element` (1-based, as X12 counts) of `segment`; shown the X12 way (`BPR02`).
    Element {
        /// The segment the element is in.
        segment: SegmentRef,
        /// The element's 1-based position in the segment.
        element: usize,
    },
    /// A cell of a CSV file.
    Cell {
        /// 1-based; the header row is line 1.
        line: usize,
        /// The canonical column name (`amount_paid`), whatever the header called it.
        column: &'static str,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Element { segment, element } => {
                write!(f, "{segment}, element {}{element:02}", segment.id)
            }
            Location::Cell { line, column } => write!(f, "line {line}, column {column}"),
        }
    }
}

/// A file (or a transaction set in it) that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdiError {
    /// The input is not UTF-8 (X12 and CSV files are read as UTF-8; ASCII is UTF-8).
    #[error("the input is not UTF-8 text (invalid byte at offset {byte_offset})")]
    NotUtf8 { byte_offset: usize },

    // ----- X12 envelope
    /// The input does not start (after a BOM and white space) with an ISA segment.
    #[error("the input does not start with an ISA segment (it starts with `{found}`)")]
    NoInterchangeHeader { found: String },
    /// Fewer than 16 element separators where the ISA should be.
    #[error(
        "the ISA segment is incomplete: {found} of its 16 element separators before a line break \
         or within its first {limit} characters"
    )]
    IncompleteIsa { found: usize, limit: usize },
    /// A delimiter that cannot be told apart from data or from another delimiter.
    #[error("ISA: the {delimiter} is {shown}: {reason}")]
    AmbiguousDelimiter {
        delimiter: &'static str,
        shown: String,
        reason: &'static str,
    },
    /// ISA15 is neither `P` nor `T`.
    #[error("ISA15 usage indicator `{value}` is neither P (production) nor T (test)")]
    UnknownUsageIndicator { value: String },
    /// Text where a segment should start that is not a segment identifier.
    #[error("{at}: `{text}` is not a segment identifier (two or three letters and digits)")]
    NotASegmentIdentifier { at: Position, text: String },
    /// A segment outside the envelope level it belongs to (e.g. data between GS and ST).
    #[error("{at}: unexpected here, expected {expected}")]
    UnexpectedSegment {
        at: SegmentRef,
        expected: &'static str,
    },
    /// An ISA, GS or ST without its IEA, GE or SE: a truncated or spliced file.
    #[error("{opened_by} is never closed by its {trailer}: {}", ended_by(.found))]
    MissingTrailer {
        trailer: &'static str,
        opened_by: SegmentRef,
        found: Option<SegmentRef>,
    },
    /// SE02 ≠ ST02 or GE02 ≠ GS06 (IEA02 ≠ ISA13 is only a warning).
    #[error(
        "{at}, element {}02: control number `{found}` does not match {} `{expected}`",
        .at.id,
        header_control_element(&.at.id)
    )]
    ControlNumberMismatch {
        at: SegmentRef,
        found: String,
        expected: String,
    },
    /// [`crate::read_interchange`] found no or several interchanges.
    #[error("{found} interchanges in the input where exactly one was expected")]
    NotOneInterchange { found: usize },
    /// Something other than another interchange after an IEA.
    #[error(
        "line {line}, byte {byte_offset}: content after IEA that does not start another interchange (ISA)"
    )]
    TrailingContent { line: usize, byte_offset: usize },

    // ----- values, X12 and CSV alike
    /// A required element or cell is absent or blank.
    #[error("{at}: required but missing")]
    MissingValue { at: Location },
    /// An amount that is not a decimal number.
    #[error("{at}: malformed amount `{value}`: expected a decimal number")]
    MalformedAmount { at: Location, value: String },
    /// An amount with more decimals than its currency has (never rounded).
    #[error("{at}: amount `{value}` has more than {exponent} decimals, the most {currency} allows")]
    AmountTooPrecise {
        at: Location,
        value: String,
        currency: Currency,
        exponent: u8,
    },
    /// An amount beyond the range of minor units.
    #[error("{at}: amount `{value}` is out of range")]
    AmountOutOfRange { at: Location, value: String },
    /// A currency code o2c does not know.
    #[error("{at}: unknown currency `{value}`: expected an ISO 4217 code such as USD")]
    UnknownCurrency { at: Location, value: String },
    /// A date that is not one, or not in the expected format.
    #[error("{at}: malformed date `{value}`: expected {expected}")]
    MalformedDate {
        at: Location,
        value: String,
        expected: &'static str,
    },

    // ----- 820 remittance advice
    /// [`crate::read_820`] was given another transaction set.
    #[error("transaction set {set_id} is {description}, not a remittance advice (820)")]
    NotARemittanceAdvice {
        set_id: String,
        description: &'static str,
    },
    /// An 820 without a segment it cannot do without (BPR).
    #[error("transaction set 820 `{control_number}` has no {segment} segment")]
    MissingSegment {
        control_number: String,
        segment: &'static str,
    },
    /// Adding up a remittance's amounts overflowed.
    #[error("remittance `{reference}`: the total of {what} is out of range")]
    TotalOutOfRange {
        reference: String,
        what: &'static str,
    },

    // ----- CSV remittance files
    /// A CSV file without even a header row.
    #[error("the CSV file is empty: expected a header row")]
    NoHeaderRow,
    /// A required column is not in the header row.
    #[error("the header row has no {column} column (accepted names: {accepted}; found: {found})")]
    MissingColumn {
        column: &'static str,
        accepted: String,
        found: String,
    },
    /// Two header names mean the same column.
    #[error("the header row names the {column} column twice: `{first}` and `{second}`")]
    DuplicateColumn {
        column: &'static str,
        first: String,
        second: String,
    },
    /// A quoted field runs to the end of the file.
    #[error("line {line}: a quoted field is never closed")]
    UnterminatedQuote { line: usize },
    /// Text between a closing quote and the next separator.
    #[error("line {line}: unexpected `{found}` after the closing quote of a field")]
    TextAfterClosingQuote { line: usize, found: char },
    /// A row with more (non-empty) fields than the header row.
    #[error("line {line}: {found} fields, but the header row has {expected}")]
    TooManyFields {
        line: usize,
        found: usize,
        expected: usize,
    },
    /// Two rows of one payment disagree on a payment-level value.
    #[error(
        "{at}: `{value}` differs from `{first_value}` on line {first_line} for the same payment reference"
    )]
    ConflictingPaymentField {
        at: Location,
        value: String,
        first_line: usize,
        first_value: String,
    },

    // ----- purchase orders (X12 850, EDIFACT ORDERS)
    /// [`crate::x12::po850::read_850`] was given another transaction set.
    #[error("transaction set {set_id} is {description}, not a purchase order (850)")]
    NotAPurchaseOrder {
        set_id: String,
        description: &'static str,
    },
    /// [`crate::edifact::orders::read_orders`] was given another message type.
    #[error("message type {message_type} is {description}, not a purchase order (ORDERS)")]
    NotAnOrdersMessage {
        message_type: String,
        description: &'static str,
    },
    /// An order without a segment it cannot do without (BEG, PO1 / BGM, LIN).
    #[error("{document} `{control_number}` has no {segment} segment")]
    MissingOrderSegment {
        document: &'static str,
        control_number: String,
        segment: &'static str,
    },
    /// A quantity that is not a decimal number.
    #[error("{at}: malformed quantity `{value}`: expected a decimal number")]
    MalformedQuantity { at: Location, value: String },
    /// An EDIFACT order line (LIN) without the quantity ordered (QTY+21).
    #[error("{at}: the line has no ordered quantity ({expected})")]
    MissingLineQuantity {
        at: SegmentRef,
        expected: &'static str,
    },

    // ----- EDIFACT interchange
    /// The input does not start (after a BOM and white space) with UNA or UNB.
    #[error("the input does not start with a UNA or UNB segment (it starts with `{found}`)")]
    NoEdifactHeader { found: String },
    /// A UNA service string advice whose characters cannot be used.
    #[error("UNA `{found}`: {reason}")]
    UnusableServiceCharacters { found: String, reason: &'static str },
    /// Text where an EDIFACT segment should start that is not a segment tag.
    #[error("{at}: `{text}` is not a segment tag (three letters)")]
    NotASegmentTag { at: Position, text: String },
    /// A required EDIFACT data element or component is absent or blank.
    #[error("{at}: required but missing")]
    MissingComponent { at: crate::edifact::ComponentRef },
    /// An EDIFACT value that is not what its data element holds.
    #[error("{at}: `{value}` is not {expected}")]
    MalformedComponent {
        at: crate::edifact::ComponentRef,
        value: String,
        expected: &'static str,
    },
    /// UNT 0062 ≠ UNH 0062 or UNE 0048 ≠ UNG 0048 (UNZ 0020 ≠ UNB 0020 is only a warning).
    #[error("{at}: reference `{found}` does not match {header} `{expected}`")]
    ReferenceMismatch {
        at: SegmentRef,
        found: String,
        expected: String,
        header: &'static str,
    },
    /// Something after an EDIFACT interchange's UNZ.
    #[error("line {line}, byte {byte_offset}: content after UNZ, the end of the interchange")]
    ContentAfterInterchange { line: usize, byte_offset: usize },
}

/// The header element a trailer's control number repeats.
fn header_control_element(trailer: &str) -> &'static str {
    match trailer {
        "SE" => "ST02",
        "GE" => "GS06",
        "IEA" => "ISA13",
        _ => "its header's control number",
    }
}

fn ended_by(found: &Option<SegmentRef>) -> String {
    match found {
        Some(segment) => format!("{segment} comes first"),
        None => "the input ends first (truncated?)".to_string(),
    }
}
