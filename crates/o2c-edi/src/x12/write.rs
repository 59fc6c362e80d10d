//! An X12 writer: the ISA/GS/ST…SE/GE/IEA envelope around transaction sets the document
//! writers ([`super::ack855`], [`super::asn856`], [`super::inv810`]) build.
//!
//! The caller gives the control numbers (it owns their sequence and must store them with what
//! was sent, to match the partner's 997) and the clock's reading: the writer is pure. What it
//! writes, the reader in this crate reads back without a warning: a fixed-width ISA, no
//! trailing empty elements, counts and control numbers that agree. A value that would break
//! the syntax (a delimiter in a name, an identifier wider than its field) is refused, never
//! silently cleaned.

use chrono::{NaiveDate, NaiveTime};
use o2c_core::money::{Currency, Money};

use super::{Delimiters, Usage};

/// Why a document cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// A value wider than its element allows.
    #[error("{element} `{value}` is longer than the {max} characters it may have")]
    ValueTooLong {
        element: String,
        value: String,
        max: usize,
    },
    /// A value of the wrong fixed width (ISA05, ISA07).
    #[error("{element} `{value}` must be exactly {width} characters")]
    WrongWidth {
        element: String,
        value: String,
        width: usize,
    },
    /// A required element with nothing to put in it.
    #[error("{element} is required but empty")]
    EmptyValue { element: String },
    /// A control number with more than nine digits.
    #[error("{element} control number {value} has more than 9 digits")]
    ControlNumberTooLarge { element: &'static str, value: u64 },
    /// A value containing one of the interchange's delimiters.
    #[error("{element} `{value}` contains `{delimiter}`, the {name}")]
    DelimiterInValue {
        element: String,
        value: String,
        delimiter: char,
        name: &'static str,
    },
    /// A value with a line break or another control character.
    #[error("{element} `{value}` contains a control character (a line break?)")]
    ControlCharacterInValue { element: String, value: String },
    /// Delimiters the reader could not tell apart from data or from each other.
    #[error("the delimiters cannot be used: {reason}")]
    UnusableDelimiters { reason: &'static str },
    /// An interchange without a transaction set.
    #[error("an interchange needs at least one transaction set")]
    NoTransactionSets,
    /// A transaction set this writer knows no functional group (GS01) for.
    #[error("no functional group (GS01) is known for transaction set {set_id}")]
    UnknownTransactionSet { set_id: String },
    /// Transaction sets that belong in different functional groups.
    #[error("transaction set {other} cannot share a functional group with {first}")]
    MixedFunctionalGroups { first: String, other: String },
    /// A document without lines.
    #[error("{document} has no lines")]
    NoLines { document: &'static str },
    /// An 856 level (order, pack) with nothing under it.
    #[error("{parent} has no {level}")]
    EmptyHierarchyLevel { parent: String, level: &'static str },
    /// More product identifiers than the segment has element pairs for.
    #[error("{segment} has room for {max} product identifiers, {found} were given")]
    TooManyItemIds {
        segment: &'static str,
        max: usize,
        found: usize,
    },
    /// An amount in another currency than the document's.
    #[error("{what} is in {found}, but the document is in {expected}")]
    CurrencyMismatch {
        what: String,
        found: Currency,
        expected: Currency,
    },
    /// An amount an N2 element (two implied decimals) cannot hold exactly.
    #[error("{element}: {amount} cannot be written with two implied decimals")]
    NotRepresentable {
        element: &'static str,
        amount: Money,
    },
    /// Figures whose sum is out of range.
    #[error("the {what} is out of range")]
    AmountOutOfRange { what: &'static str },
    /// An 810 whose total is not its lines, charges, allowances and taxes.
    #[error(
        "TDS01 {stated} is not what the invoice adds up to: lines {lines}, charges less \
         allowances {adjustments}, taxes {taxes}, together {computed}"
    )]
    TotalDoesNotAddUp {
        stated: Money,
        lines: Money,
        adjustments: Money,
        taxes: Money,
        computed: Money,
    },
}

/// The version written in ISA12 and GS08.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 00401 / 004010: the common retail version; no repetition separator (ISA11 is `U`).
    V004010,
    /// 00501 / 005010: ISA11 is the repetition separator.
    V005010,
}

/// Who sends to whom, when, under which control numbers and delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// ISA05 (two characters: `ZZ`, `01`, `12`…).
    pub sender_qualifier: String,
    /// ISA06 (up to 15 characters; padded).
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08.
    pub receiver_id: String,
    /// GS02 (2 to 15 characters); often the same as ISA06.
    pub application_sender: String,
    /// GS03.
    pub application_receiver: String,
    /// ISA09/GS04.
    pub date: NaiveDate,
    /// ISA10/GS05.
    pub time: NaiveTime,
    /// ISA13 and IEA02 (written with nine digits).
    pub interchange_control: u32,
    /// GS06 and GE02.
    pub group_control: u32,
    /// ISA14: ask the partner for a TA1.
    pub acknowledgment_requested: bool,
    /// ISA15.
    pub usage: Usage,
    pub version: Version,
    /// `repetition` must be `None` for 004010 and set for 005010.
    pub delimiters: Delimiters,
    /// A line break after each segment terminator, as many partners like to read them.
    pub line_break_after_segment: bool,
}

/// One segment to write: its identifier and elements, each a list of components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutSegment {
    id: &'static str,
    elements: Vec<Vec<String>>,
}

impl OutSegment {
    /// A segment `id` with no elements yet.
    pub fn new(id: &'static str) -> OutSegment {
        OutSegment {
            id,
            elements: Vec::new(),
        }
    }

    /// Appends a simple element (an empty string leaves it empty).
    pub fn el(mut self, value: impl Into<String>) -> OutSegment {
        self.elements.push(vec![value.into()]);
        self
    }

    /// Appends a simple element, empty when `value` is `None`.
    pub fn opt(self, value: Option<impl Into<String>>) -> OutSegment {
        match value {
            Some(v) => self.el(v),
            None => self.el(""),
        }
    }

    /// Appends a composite element of components.
    pub fn composite(mut self, components: Vec<String>) -> OutSegment {
        self.elements.push(components);
        self
    }

    /// Appends `n` empty elements.
    pub fn skip(mut self, n: usize) -> OutSegment {
        self.elements.extend((0..n).map(|_| vec![String::new()]));
        self
    }

    /// The segment identifier.
    pub fn id(&self) -> &'static str {
        self.id
    }
}

/// The segments of one transaction set between ST and SE, with its ST02.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSet {
    /// ST01: `855`, `856`, `810`…
    pub set_id: &'static str,
    /// ST02 and SE02 (written with at least four digits).
    pub control_number: u32,
    pub segments: Vec<OutSegment>,
}

/// GS01 for a transaction set.
fn functional_id(set_id: &str) -> &'static str {
    match set_id {
        "810" => "IN",
        "850" => "PO",
        "855" => "PR",
        "856" => "SH",
        "820" => "RA",
        "997" => "FA",
        _ => "",
    }
}

/// Writes one interchange with one functional group holding `sets`.
pub fn write_interchange(
    envelope: &Envelope,
    sets: &[TransactionSet],
) -> Result<String, WriteError> {
    let first = sets.first().ok_or(WriteError::NoTransactionSets)?;
    let group_id = functional_id(first.set_id);
    if group_id.is_empty() {
        return Err(WriteError::UnknownTransactionSet {
            set_id: first.set_id.to_string(),
        });
    }
    if let Some(other) = sets.iter().find(|s| functional_id(s.set_id) != group_id) {
        return Err(WriteError::MixedFunctionalGroups {
            first: first.set_id.to_string(),
            other: other.set_id.to_string(),
        });
    }
    let mut out = Writer::new(envelope)?;
    out.raw(&isa(envelope)?);
    let (version, _) = version_codes(envelope.version);
    let group_control = control(envelope.group_control, "GS06", 1)?;
    let gs = OutSegment::new("GS")
        .el(group_id)
        .el(bounded("GS02", &envelope.application_sender, 15)?)
        .el(bounded("GS03", &envelope.application_receiver, 15)?)
        .el(envelope.date.format("%Y%m%d").to_string())
        .el(envelope.time.format("%H%M").to_string())
        .el(group_control.clone())
        .el("X")
        .el(version);
    out.segment(&gs)?;
    for set in sets {
        let st02 = control(set.control_number, "ST02", 4)?;
        out.segment(&OutSegment::new("ST").el(set.set_id).el(st02.clone()))?;
        for segment in &set.segments {
            out.segment(segment)?;
        }
        let count = set.segments.len() + 2;
        out.segment(&OutSegment::new("SE").el(count.to_string()).el(st02))?;
    }
    out.segment(
        &OutSegment::new("GE")
            .el(sets.len().to_string())
            .el(group_control),
    )?;
    let isa13 = control(envelope.interchange_control, "ISA13", 9)?;
    out.segment(&OutSegment::new("IEA").el("1").el(isa13))?;
    Ok(out.text)
}

fn version_codes(version: Version) -> (&'static str, &'static str) {
    match version {
        Version::V004010 => ("004010", "00401"),
        Version::V005010 => ("005010", "00501"),
    }
}

/// A control number with at least `width` digits (zero-padded), at most nine.
fn control(value: u32, element: &'static str, width: usize) -> Result<String, WriteError> {
    if value > 999_999_999 {
        return Err(WriteError::ControlNumberTooLarge {
            element,
            value: u64::from(value),
        });
    }
    Ok(format!("{value:0width$}"))
}

fn bounded(element: &str, value: &str, max: usize) -> Result<String, WriteError> {
    if value.trim().is_empty() {
        return Err(WriteError::EmptyValue {
            element: element.to_string(),
        });
    }
    if value.chars().count() > max {
        return Err(WriteError::ValueTooLong {
            element: element.to_string(),
            value: value.to_string(),
            max,
        });
    }
    Ok(value.to_string())
}

fn fixed(element: &str, value: &str, width: usize) -> Result<String, WriteError> {
    if value.chars().count() != width {
        return Err(WriteError::WrongWidth {
            element: element.to_string(),
            value: value.to_string(),
            width,
        });
    }
    Ok(value.to_string())
}

/// The ISA, fixed width: every element padded to its size.
fn isa(envelope: &Envelope) -> Result<String, WriteError> {
    let d = envelope.delimiters;
    let (_, isa12) = version_codes(envelope.version);
    let isa11 = match (envelope.version, d.repetition) {
        (Version::V004010, None) => 'U',
        (Version::V005010, Some(r)) => r,
        (Version::V004010, Some(_)) => {
            return Err(WriteError::UnusableDelimiters {
                reason: "004010 has no repetition separator (ISA11 is `U`)",
            });
        }
        (Version::V005010, None) => {
            return Err(WriteError::UnusableDelimiters {
                reason: "005010 needs a repetition separator in ISA11",
            });
        }
    };
    let pad = |element: &str, value: &str| -> Result<String, WriteError> {
        Ok(format!("{:<15}", bounded(element, value, 15)?))
    };
    let elements = [
        "00".to_string(),
        " ".repeat(10),
        "00".to_string(),
        " ".repeat(10),
        fixed("ISA05", &envelope.sender_qualifier, 2)?,
        pad("ISA06", &envelope.sender_id)?,
        fixed("ISA07", &envelope.receiver_qualifier, 2)?,
        pad("ISA08", &envelope.receiver_id)?,
        envelope.date.format("%y%m%d").to_string(),
        envelope.time.format("%H%M").to_string(),
        isa11.to_string(),
        isa12.to_string(),
        control(envelope.interchange_control, "ISA13", 9)?,
        if envelope.acknowledgment_requested {
            "1"
        } else {
            "0"
        }
        .to_string(),
        match envelope.usage {
            Usage::Production => "P",
            Usage::Test => "T",
        }
        .to_string(),
    ];
    let mut text = String::from("ISA");
    for (i, value) in elements.iter().enumerate() {
        // ISA11 is the repetition separator itself from 00501 on.
        if i != 10 {
            check_value(&format!("ISA{:02}", i + 1), value, &d)?;
        }
        text.push(d.element);
        text.push_str(value);
    }
    text.push(d.element);
    text.push(d.component);
    Ok(text)
}

/// Refuses a value that would change the meaning of what surrounds it.
fn check_value(element: &str, value: &str, d: &Delimiters) -> Result<(), WriteError> {
    let named = [
        (Some(d.element), "element separator"),
        (Some(d.component), "component separator"),
        (d.repetition, "repetition separator"),
        (Some(d.segment), "segment terminator"),
    ];
    for (delimiter, name) in named {
        if let Some(c) = delimiter.filter(|&c| value.contains(c)) {
            return Err(WriteError::DelimiterInValue {
                element: element.to_string(),
                value: value.to_string(),
                delimiter: c,
                name,
            });
        }
    }
    if value.chars().any(char::is_control) {
        return Err(WriteError::ControlCharacterInValue {
            element: element.to_string(),
            value: value.to_string(),
        });
    }
    Ok(())
}

struct Writer {
    delimiters: Delimiters,
    line_break: bool,
    text: String,
}

impl Writer {
    fn new(envelope: &Envelope) -> Result<Writer, WriteError> {
        let d = envelope.delimiters;
        let mut all = vec![d.element, d.component, d.segment];
        all.extend(d.repetition);
        if all
            .iter()
            .any(|c| c.is_alphanumeric() || c.is_whitespace() || c.is_control())
        {
            return Err(WriteError::UnusableDelimiters {
                reason: "a delimiter is a letter, a digit, white space or a control character",
            });
        }
        if all.iter().enumerate().any(|(i, c)| all[..i].contains(c)) {
            return Err(WriteError::UnusableDelimiters {
                reason: "two delimiters are the same character",
            });
        }
        Ok(Writer {
            delimiters: d,
            line_break: envelope.line_break_after_segment,
            text: String::new(),
        })
    }

    fn raw(&mut self, segment: &str) {
        self.text.push_str(segment);
        self.text.push(self.delimiters.segment);
        if self.line_break {
            self.text.push('\n');
        }
    }

    fn segment(&mut self, segment: &OutSegment) -> Result<(), WriteError> {
        let d = self.delimiters;
        let mut elements: Vec<String> = Vec::with_capacity(segment.elements.len());
        for (i, components) in segment.elements.iter().enumerate() {
            let name = format!("{}{:02}", segment.id, i + 1);
            for component in components {
                check_value(&name, component, &d)?;
            }
            let mut components: &[String] = components;
            while let [rest @ .., last] = components {
                if !last.is_empty() {
                    break;
                }
                components = rest;
            }
            elements.push(components.join(&d.component.to_string()));
        }
        while elements.last().is_some_and(String::is_empty) {
            elements.pop();
        }
        let mut text = segment.id.to_string();
        for element in elements {
            text.push(d.element);
            text.push_str(&element);
        }
        self.raw(&text);
        Ok(())
    }
}

// ----- helpers for the document writers

/// CCYYMMDD.
pub(crate) fn date8(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// Appends (qualifier, id) pairs to `segment`; refused beyond `max` pairs or for an id without
/// a qualifier.
pub(crate) fn with_item_ids(
    mut segment: OutSegment,
    ids: &[crate::order::ItemId],
    max: usize,
) -> Result<OutSegment, WriteError> {
    if ids.len() > max {
        return Err(WriteError::TooManyItemIds {
            segment: segment.id,
            max,
            found: ids.len(),
        });
    }
    for id in ids {
        if id.qualifier.trim().is_empty() {
            return Err(WriteError::EmptyValue {
                element: format!("{} product ID qualifier for `{}`", segment.id, id.value),
            });
        }
        segment = segment.el(id.qualifier.as_str()).el(id.value.as_str());
    }
    Ok(segment)
}

/// An N1 loop (N1, N2, N3, N4) for a party.
pub(crate) fn party_loop(party: &crate::order::Party) -> Vec<OutSegment> {
    let mut n1 = OutSegment::new("N1")
        .el(party.role.as_str())
        .opt(party.name.as_deref());
    if let Some(id) = &party.id {
        n1 = n1.el(id.qualifier.as_str()).el(id.value.as_str());
    }
    let mut segments = vec![n1];
    for pair in party.additional_names.chunks(2) {
        segments.push(
            OutSegment::new("N2")
                .el(pair[0].as_str())
                .opt(pair.get(1).map(String::as_str)),
        );
    }
    let a = &party.address;
    for pair in a.lines.chunks(2) {
        segments.push(
            OutSegment::new("N3")
                .el(pair[0].as_str())
                .opt(pair.get(1).map(String::as_str)),
        );
    }
    if a.city.is_some() || a.region.is_some() || a.postal_code.is_some() || a.country.is_some() {
        segments.push(
            OutSegment::new("N4")
                .opt(a.city.as_deref())
                .opt(a.region.as_deref())
                .opt(a.postal_code.as_deref())
                .opt(a.country.as_deref()),
        );
    }
    segments
}

/// An amount as X12 type N2: two implied decimals (`387530` for 3875.30), whatever the
/// currency's exponent; refused when that would lose a digit.
pub(crate) fn implied_two_decimals(
    amount: Money,
    element: &'static str,
) -> Result<String, WriteError> {
    let exponent = u32::from(amount.currency().exponent());
    let minor = i128::from(amount.minor());
    let value = if exponent <= 2 {
        minor * 10i128.pow(2 - exponent)
    } else {
        let divisor = 10i128.pow(exponent - 2);
        if minor % divisor != 0 {
            return Err(WriteError::NotRepresentable { element, amount });
        }
        minor / divisor
    };
    Ok(value.to_string())
}
