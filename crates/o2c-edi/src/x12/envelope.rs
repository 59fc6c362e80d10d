//! The envelope: ISA…IEA around GS…GE around ST…SE, with its counts and control numbers.

use std::collections::HashSet;

use chrono::NaiveTime;

use super::delimiters::{Isa, read_isa};
use super::segment::{Segment, Tokenizer};
use super::{Group, Interchange, Transaction, Usage};
use crate::error::{EdiError, Location, Position, SegmentRef};
use crate::values::{DateWidth, parse_x12_date};

/// Reads every interchange in `input`, in order.
///
/// Each interchange brings its own delimiters; whitespace between interchanges is skipped.
/// See the [module documentation](super) for what is accepted with a warning and what is
/// refused.
pub fn read_interchanges(input: &[u8]) -> Result<Vec<Interchange>, EdiError> {
    let text = std::str::from_utf8(input).map_err(|e| EdiError::NotUtf8 {
        byte_offset: e.valid_up_to(),
    })?;
    let mut offset = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut line = 1;
    let mut interchanges = Vec::new();
    loop {
        let rest = &text[offset..];
        let trimmed = rest.trim_start();
        let skipped = rest.len() - trimmed.len();
        line += rest[..skipped].matches('\n').count();
        offset += skipped;
        if trimmed.is_empty() && !interchanges.is_empty() {
            return Ok(interchanges);
        }
        if !trimmed.starts_with("ISA") {
            if interchanges.is_empty() {
                return Err(EdiError::NoInterchangeHeader {
                    found: trimmed.chars().take(20).collect(),
                });
            }
            return Err(EdiError::TrailingContent {
                line,
                byte_offset: offset,
            });
        }
        let (interchange, end, end_line) = read_one(text, offset, line)?;
        interchanges.push(interchange);
        offset = end;
        line = end_line;
    }
}

/// Reads an input that holds exactly one interchange (the usual file).
pub fn read_interchange(input: &[u8]) -> Result<Interchange, EdiError> {
    let mut interchanges = read_interchanges(input)?;
    match interchanges.len() {
        1 => interchanges
            .pop()
            .ok_or(EdiError::NotOneInterchange { found: 0 }),
        found => Err(EdiError::NotOneInterchange { found }),
    }
}

/// Reads the interchange whose ISA starts at `offset`; returns it with where reading stopped.
fn read_one(
    text: &str,
    offset: usize,
    line: usize,
) -> Result<(Interchange, usize, usize), EdiError> {
    let mut isa = read_isa(&text[offset..])?;
    let isa_ref = SegmentRef {
        id: "ISA".to_string(),
        position: Position {
            segment: 1,
            line,
            byte_offset: offset,
        },
    };
    let mut warnings = std::mem::take(&mut isa.warnings);
    let mut interchange = interchange_header(&isa, &isa_ref, &mut warnings)?;

    let isa_end = offset + isa.len;
    let isa_lines = text[offset..isa_end].matches('\n').count();
    let mut tokenizer = Tokenizer::new(text, isa_end, line + isa_lines, isa.delimiters);
    loop {
        let segment = tokenizer
            .next_segment(&mut warnings)?
            .ok_or_else(|| missing_trailer("IEA", &isa_ref, None))?;
        match segment.id.as_str() {
            "GS" => {
                let group = read_group(segment, &mut tokenizer, &mut warnings)?;
                interchange.groups.push(group);
            }
            "IEA" => {
                check_count(
                    &segment,
                    1,
                    interchange.groups.len(),
                    "functional groups",
                    &mut warnings,
                );
                if let Err(mismatch) = check_control_number(&segment, &interchange.control_number) {
                    warnings.push(mismatch.to_string());
                }
                break;
            }
            "TA1" => warnings.push(format!(
                "{}: TA1 interchange acknowledgment ignored",
                segment.reference()
            )),
            "ISA" => return Err(missing_trailer("IEA", &isa_ref, Some(&segment))),
            _ => {
                return Err(EdiError::UnexpectedSegment {
                    at: segment.reference(),
                    expected: "GS or IEA",
                });
            }
        }
    }
    interchange.warnings = warnings;
    let (end, end_line) = tokenizer.resume_point();
    Ok((interchange, end, end_line))
}

/// The interchange's facts from its ISA, without its groups yet.
fn interchange_header(
    isa: &Isa,
    isa_ref: &SegmentRef,
    warnings: &mut Vec<String>,
) -> Result<Interchange, EdiError> {
    let element = |n: usize| isa.elements.get(n - 1).map_or("", |v| v.trim());
    let usage = match element(15) {
        "P" => Usage::Production,
        "T" => Usage::Test,
        other => {
            return Err(EdiError::UnknownUsageIndicator {
                value: other.to_string(),
            });
        }
    };
    let control_number = element(13).to_string();
    if control_number.is_empty() {
        return Err(EdiError::MissingValue {
            at: Location::Element {
                segment: isa_ref.clone(),
                element: 13,
            },
        });
    }
    let date = match parse_x12_date(element(9)) {
        Some((date, DateWidth::TwoDigitYear)) => Some(date),
        _ => {
            warnings.push(format!("ISA09 `{}` is not a date (YYMMDD)", element(9)));
            None
        }
    };
    let time = NaiveTime::parse_from_str(element(10), "%H%M").ok();
    if time.is_none() {
        warnings.push(format!("ISA10 `{}` is not a time (HHMM)", element(10)));
    }
    Ok(Interchange {
        sender_qualifier: element(5).to_string(),
        sender_id: element(6).to_string(),
        receiver_qualifier: element(7).to_string(),
        receiver_id: element(8).to_string(),
        control_number,
        date,
        time,
        version: element(12).to_string(),
        usage,
        delimiters: isa.delimiters,
        groups: Vec::new(),
        warnings: Vec::new(),
    })
}

fn read_group(
    gs: Segment,
    tokenizer: &mut Tokenizer<'_>,
    warnings: &mut Vec<String>,
) -> Result<Group, EdiError> {
    let mut group = Group {
        functional_id: gs.required(1)?.to_string(),
        sender: gs.required(2)?.to_string(),
        receiver: gs.required(3)?.to_string(),
        control_number: gs.required(6)?.to_string(),
        version: gs.required(8)?.to_string(),
        position: gs.position,
        transactions: Vec::new(),
    };
    loop {
        let segment = tokenizer
            .next_segment(warnings)?
            .ok_or_else(|| missing_trailer("GE", &gs.reference(), None))?;
        match segment.id.as_str() {
            "ST" => group
                .transactions
                .push(read_transaction(segment, tokenizer, warnings)?),
            "GE" => {
                let count = group.transactions.len();
                check_count(&segment, 1, count, "transaction sets", warnings);
                check_control_number(&segment, &group.control_number)?;
                break;
            }
            "GS" | "IEA" | "ISA" => {
                return Err(missing_trailer("GE", &gs.reference(), Some(&segment)));
            }
            _ => {
                return Err(EdiError::UnexpectedSegment {
                    at: segment.reference(),
                    expected: "ST or GE",
                });
            }
        }
    }
    let mut seen = HashSet::new();
    for tx in &group.transactions {
        if !seen.insert(tx.control_number.as_str()) {
            warnings.push(format!(
                "group {}: ST02 control number `{}` is used by more than one transaction set",
                group.control_number, tx.control_number
            ));
        }
    }
    Ok(group)
}

fn read_transaction(
    st: Segment,
    tokenizer: &mut Tokenizer<'_>,
    warnings: &mut Vec<String>,
) -> Result<Transaction, EdiError> {
    let mut tx = Transaction {
        set_id: st.required(1)?.to_string(),
        control_number: st.required(2)?.to_string(),
        implementation_reference: st.text(3).map(str::to_string),
        position: st.position,
        segments: Vec::new(),
    };
    loop {
        let segment = tokenizer
            .next_segment(warnings)?
            .ok_or_else(|| missing_trailer("SE", &st.reference(), None))?;
        match segment.id.as_str() {
            "SE" => {
                let counted = tx.segments.len() + 2;
                let what = format!("segments in transaction set {}", tx.control_number);
                check_count(&segment, 1, counted, &what, warnings);
                check_control_number(&segment, &tx.control_number)?;
                return Ok(tx);
            }
            "ST" | "GE" | "GS" | "IEA" | "ISA" => {
                return Err(missing_trailer("SE", &st.reference(), Some(&segment)));
            }
            _ => tx.segments.push(segment),
        }
    }
}

fn missing_trailer(
    trailer: &'static str,
    opened_by: &SegmentRef,
    found: Option<&Segment>,
) -> EdiError {
    EdiError::MissingTrailer {
        trailer,
        opened_by: opened_by.clone(),
        found: found.map(Segment::reference),
    }
}

/// A trailer's count that does not match what it closes is a warning: the envelope is whole.
fn check_count(
    trailer: &Segment,
    n: usize,
    counted: usize,
    what: &str,
    warnings: &mut Vec<String>,
) {
    let name = trailer.element_name(n);
    let at = trailer.reference();
    match trailer.text(n) {
        Some(text) => match text.parse::<usize>() {
            Ok(stated) if stated == counted => {}
            Ok(stated) => warnings.push(format!(
                "{at}: {name} says {stated} {what}, but there are {counted}"
            )),
            Err(_) => warnings.push(format!(
                "{at}: {name} `{text}` is not a count of {what} (there are {counted})"
            )),
        },
        None => warnings.push(format!(
            "{at}: {name} is missing (there are {counted} {what})"
        )),
    }
}

/// Element 2 of a trailer must repeat its header's control number, as written.
fn check_control_number(trailer: &Segment, expected: &str) -> Result<(), EdiError> {
    let found = trailer.required(2)?;
    if found == expected {
        return Ok(());
    }
    Err(EdiError::ControlNumberMismatch {
        at: trailer.reference(),
        found: found.to_string(),
        expected: expected.to_string(),
    })
}
