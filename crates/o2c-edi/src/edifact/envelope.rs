//! The envelope: UNB…UNZ around (UNG…UNE around) UNH…UNT, and UNO…UNP packages.

use chrono::NaiveTime;

use super::syntax::{Decoding, ServiceCharacters, Tokenizer, UNA_LEN, read_una};
use super::{Interchange, Message, Package, Segment};
use crate::error::EdiError;
use crate::values::parse_x12_date;

/// Reads an input that holds one interchange (the usual file). See the
/// [module documentation](super) for what is accepted with a warning and what is refused.
pub fn read_interchange(input: &[u8]) -> Result<Interchange, EdiError> {
    let mut offset = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut line = 1;
    while let Some(&b) = input.get(offset).filter(|b| b.is_ascii_whitespace()) {
        line += usize::from(b == b'\n');
        offset += 1;
    }
    let rest = &input[offset..];
    let (service, start) = if rest.starts_with(b"UNA") {
        (read_una(rest)?, offset + UNA_LEN)
    } else if rest.starts_with(b"UNB") {
        (ServiceCharacters::default(), offset)
    } else {
        return Err(EdiError::NoEdifactHeader {
            found: String::from_utf8_lossy(&rest[..rest.len().min(20)]).into_owned(),
        });
    };
    let mut tokenizer = Tokenizer::new(input, start, line, service);
    let mut warnings = Vec::new();
    let unb = tokenizer
        .next_segment(&mut warnings)?
        .ok_or_else(|| EdiError::NoEdifactHeader {
            found: String::from_utf8_lossy(rest).into_owned(),
        })?;
    if unb.tag != "UNB" {
        return Err(EdiError::UnexpectedSegment {
            at: unb.reference(),
            expected: "UNB after UNA",
        });
    }
    let mut interchange = interchange_header(&unb, service, &mut warnings)?;
    if interchange.syntax == "UNOC" {
        tokenizer.decoding = Decoding::Latin1;
    }
    read_body(&mut tokenizer, &unb, &mut interchange, &mut warnings)?;
    let (end, end_line) = tokenizer.resume_point();
    if end < input.len() {
        return Err(EdiError::ContentAfterInterchange {
            line: end_line,
            byte_offset: end,
        });
    }
    interchange.warnings = warnings;
    Ok(interchange)
}

fn interchange_header(
    unb: &Segment,
    service: ServiceCharacters,
    warnings: &mut Vec<String>,
) -> Result<Interchange, EdiError> {
    let owned = |n, c| unb.component(n, c).map(str::to_string);
    let date_text = unb.component(4, 1).unwrap_or_default();
    let date = parse_x12_date(date_text).map(|(date, _)| date);
    if date.is_none() {
        warnings.push(format!(
            "{}: UNB date `{date_text}` is not a date (YYMMDD or CCYYMMDD)",
            unb.reference()
        ));
    }
    let time_text = unb.component(4, 2).unwrap_or_default();
    let time = NaiveTime::parse_from_str(time_text, "%H%M").ok();
    if time.is_none() {
        warnings.push(format!(
            "{}: UNB time `{time_text}` is not a time (HHMM)",
            unb.reference()
        ));
    }
    Ok(Interchange {
        syntax: unb.required(1, 1)?.to_string(),
        syntax_version: owned(1, 2),
        sender_id: unb.required(2, 1)?.to_string(),
        sender_qualifier: owned(2, 2),
        receiver_id: unb.required(3, 1)?.to_string(),
        receiver_qualifier: owned(3, 2),
        date,
        time,
        control_reference: unb.required(5, 1)?.to_string(),
        application_reference: owned(7, 1),
        test: unb.component(11, 1) == Some("1"),
        service_characters: service,
        messages: Vec::new(),
        packages: Vec::new(),
        warnings: Vec::new(),
    })
}

fn read_body(
    tokenizer: &mut Tokenizer<'_>,
    unb: &Segment,
    interchange: &mut Interchange,
    warnings: &mut Vec<String>,
) -> Result<(), EdiError> {
    let mut groups = 0;
    loop {
        let Some(segment) = tokenizer.next_segment(warnings)? else {
            let Some(last) = interchange.messages.last() else {
                return Err(missing_trailer("UNZ", unb, None));
            };
            warnings.push(format!(
                "{}: the interchange has no UNZ trailer; the input ends after message `{}`, \
                 which is complete, but messages after it may be missing",
                unb.reference(),
                last.reference
            ));
            return Ok(());
        };
        match segment.tag.as_str() {
            "UNH" => {
                let message = read_message(segment, tokenizer, warnings, None)?;
                interchange.messages.push(message);
            }
            "UNG" => {
                groups += 1;
                read_group(segment, tokenizer, interchange, warnings)?;
            }
            "UNO" => {
                let package = read_package(segment, tokenizer, warnings)?;
                interchange.packages.push(package);
            }
            "UNZ" => {
                let (counted, what) = if groups > 0 {
                    (groups, "functional groups")
                } else {
                    (interchange.messages.len(), "messages")
                };
                check_count(&segment, "UNZ 0036", counted, what, warnings);
                check_unz_reference(&segment, interchange, warnings);
                return Ok(());
            }
            "UNB" => return Err(missing_trailer("UNZ", unb, Some(&segment))),
            _ => {
                return Err(EdiError::UnexpectedSegment {
                    at: segment.reference(),
                    expected: "UNH, UNG, UNO or UNZ",
                });
            }
        }
    }
}

/// A UNZ reference that is not UNB's is only a warning: the interchange is whole. Says what
/// it is instead when that is recognisable.
fn check_unz_reference(unz: &Segment, interchange: &Interchange, warnings: &mut Vec<String>) {
    let Some(found) = unz.text(2) else {
        warnings.push(format!(
            "{}: UNZ 0020 (control reference) is missing",
            unz.reference()
        ));
        return;
    };
    let expected = &interchange.control_reference;
    if found == expected {
        return;
    }
    let hint = if interchange.application_reference.as_deref() == Some(found) {
        " (it is UNB's application reference, 0026)"
    } else if interchange.messages.iter().any(|m| m.reference == found) {
        " (it is a message reference, UNH 0062)"
    } else {
        ""
    };
    warnings.push(format!(
        "{}: UNZ 0020 `{found}` does not match UNB 0020 `{expected}`{hint}",
        unz.reference()
    ));
}

fn read_group(
    ung: Segment,
    tokenizer: &mut Tokenizer<'_>,
    interchange: &mut Interchange,
    warnings: &mut Vec<String>,
) -> Result<(), EdiError> {
    let reference = ung.required(5, 1)?.to_string();
    let mut count = 0;
    loop {
        let segment = tokenizer
            .next_segment(warnings)?
            .ok_or_else(|| missing_trailer("UNE", &ung, None))?;
        match segment.tag.as_str() {
            "UNH" => {
                let message = read_message(segment, tokenizer, warnings, Some(&reference))?;
                interchange.messages.push(message);
                count += 1;
            }
            "UNE" => {
                check_count(&segment, "UNE 0060", count, "messages", warnings);
                return check_reference(&segment, &reference, "UNG 0048");
            }
            "UNG" | "UNZ" | "UNB" => return Err(missing_trailer("UNE", &ung, Some(&segment))),
            _ => {
                return Err(EdiError::UnexpectedSegment {
                    at: segment.reference(),
                    expected: "UNH or UNE",
                });
            }
        }
    }
}

fn read_message(
    unh: Segment,
    tokenizer: &mut Tokenizer<'_>,
    warnings: &mut Vec<String>,
    group_reference: Option<&str>,
) -> Result<Message, EdiError> {
    let owned = |c| unh.component(2, c).map(str::to_string);
    let mut message = Message {
        reference: unh.required(1, 1)?.to_string(),
        message_type: unh.required(2, 1)?.to_string(),
        version: owned(2),
        release: owned(3),
        agency: owned(4),
        association_code: owned(5),
        group_reference: group_reference.map(str::to_string),
        position: unh.position,
        segments: Vec::new(),
    };
    loop {
        let segment = tokenizer
            .next_segment(warnings)?
            .ok_or_else(|| missing_trailer("UNT", &unh, None))?;
        match segment.tag.as_str() {
            "UNT" => {
                let what = format!("segments in message `{}`", message.reference);
                let counted = message.segments.len() + 2;
                check_count(&segment, "UNT 0074", counted, &what, warnings);
                check_reference(&segment, &message.reference, "UNH 0062")?;
                return Ok(message);
            }
            "UNH" | "UNZ" | "UNB" | "UNG" | "UNE" | "UNO" => {
                return Err(missing_trailer("UNT", &unh, Some(&segment)));
            }
            _ => message.segments.push(segment),
        }
    }
}

fn read_package(
    uno: Segment,
    tokenizer: &mut Tokenizer<'_>,
    warnings: &mut Vec<String>,
) -> Result<Package, EdiError> {
    let reference = uno.required(1, 1)?.to_string();
    let declared = uno
        .elements
        .last()
        .and_then(|e| e.first())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let length = tokenizer
        .skip_object(declared)
        .ok_or_else(|| missing_trailer("UNP", &uno, None))?;
    let unp = tokenizer
        .next_segment(warnings)?
        .ok_or_else(|| missing_trailer("UNP", &uno, None))?;
    check_reference(&unp, &reference, "UNO 0800")?;
    if unp.text(1).and_then(|v| v.parse::<usize>().ok()) != Some(length) {
        warnings.push(format!(
            "{}: UNP 0810 `{}` is not the object's length ({length} bytes)",
            unp.reference(),
            unp.text(1).unwrap_or_default()
        ));
    }
    Ok(Package {
        reference,
        length,
        position: uno.position,
    })
}

fn missing_trailer(
    trailer: &'static str,
    opened_by: &Segment,
    found: Option<&Segment>,
) -> EdiError {
    EdiError::MissingTrailer {
        trailer,
        opened_by: opened_by.reference(),
        found: found.map(Segment::reference),
    }
}

/// A trailer's count that does not match what it closes is a warning: the envelope is whole.
fn check_count(
    trailer: &Segment,
    name: &str,
    counted: usize,
    what: &str,
    warnings: &mut Vec<String>,
) {
    let at = trailer.reference();
    match trailer.text(1) {
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

/// Element 2 of UNT, UNE and UNP must repeat its header's reference.
fn check_reference(
    trailer: &Segment,
    expected: &str,
    header: &'static str,
) -> Result<(), EdiError> {
    let found = trailer.required(2, 1)?;
    if found == expected {
        return Ok(());
    }
    Err(EdiError::ReferenceMismatch {
        at: trailer.reference(),
        found: found.to_string(),
        expected: expected.to_string(),
        header,
    })
}
