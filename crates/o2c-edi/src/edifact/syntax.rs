//! The service characters (UNA) and the tokenizer that cuts segments out of the input.
//!
//! Works on bytes: every service character is ASCII, so byte offsets stay those of the file
//! whatever its character set, and values are decoded one at a time (see [`Decoding`]).

use serde::Serialize;

use super::Segment;
use crate::error::{EdiError, Position};

/// The six service characters of an interchange: from its UNA, else the ISO 9735 defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceCharacters {
    /// Component data element separator, `:` by default.
    pub component: char,
    /// Data element separator, `+` by default.
    pub element: char,
    /// Decimal mark, `.` by default (`,` and `.` are both read as one; see the module docs).
    pub decimal_mark: char,
    /// Release character, `?` by default: the character after it is data.
    pub release: Option<char>,
    /// Repetition separator (syntax version 4); a space in UNA means none. Not split: no
    /// segment an order needs repeats.
    pub repetition: Option<char>,
    /// Segment terminator, `'` by default.
    pub segment: char,
}

impl Default for ServiceCharacters {
    fn default() -> ServiceCharacters {
        ServiceCharacters {
            component: ':',
            element: '+',
            decimal_mark: '.',
            release: Some('?'),
            repetition: None,
            segment: '\'',
        }
    }
}

/// Length of `UNA` and its six characters.
pub(crate) const UNA_LEN: usize = 9;

/// Reads the UNA at the start of `input` (which starts with `UNA`).
pub(crate) fn read_una(input: &[u8]) -> Result<ServiceCharacters, EdiError> {
    let shown = String::from_utf8_lossy(&input[..input.len().min(UNA_LEN)]).into_owned();
    let refuse = |reason| EdiError::UnusableServiceCharacters {
        found: shown.clone(),
        reason,
    };
    let chars = input
        .get(3..UNA_LEN)
        .ok_or_else(|| refuse("the input ends within the six service characters"))?;
    if !chars
        .iter()
        .all(|b| b.is_ascii() && !b.is_ascii_alphanumeric())
    {
        return Err(refuse(
            "service characters must be ASCII and neither letters nor digits",
        ));
    }
    let [component, element, decimal, release, repetition, segment] =
        [0, 1, 2, 3, 4, 5].map(|i| char::from(chars[i]));
    let optional = |c: char| (c != ' ').then_some(c);
    let service = ServiceCharacters {
        component,
        element,
        decimal_mark: decimal,
        release: optional(release),
        repetition: optional(repetition),
        segment,
    };
    if [component, element, segment]
        .iter()
        .any(|c| c.is_ascii_whitespace())
    {
        return Err(refuse(
            "a separator or the terminator is white space, which also occurs in data",
        ));
    }
    let mut used = vec![component, element, segment];
    used.extend(service.release);
    used.extend(service.repetition);
    let distinct = used.iter().enumerate().all(|(i, c)| !used[..i].contains(c));
    if !distinct {
        return Err(refuse(
            "two service characters are the same, so they cannot be told apart",
        ));
    }
    if decimal != '.' && decimal != ',' {
        return Err(refuse(
            "the decimal mark (the third character) must be `.` or `,`",
        ));
    }
    Ok(service)
}

/// How values are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoding {
    /// UTF-8, and ISO 8859-1 (with one warning) for a value that is not: the syntax identifier
    /// said UTF-8 or ASCII, but some senders write Windows code pages anyway.
    Utf8,
    /// ISO 8859-1, what UNOC declares: every byte is a character.
    Latin1,
}

pub(crate) struct Tokenizer<'a> {
    input: &'a [u8],
    offset: usize,
    line: usize,
    service: ServiceCharacters,
    /// Number of the next segment; UNB is segment 1 (UNA is a service string advice, not a
    /// segment).
    number: usize,
    pub(crate) decoding: Decoding,
    warned_decoding: bool,
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn new(
        input: &'a [u8],
        offset: usize,
        line: usize,
        service: ServiceCharacters,
    ) -> Self {
        Tokenizer {
            input,
            offset,
            line,
            service,
            number: 1,
            decoding: Decoding::Utf8,
            warned_decoding: false,
        }
    }

    /// Where reading stopped: byte offset and line, after any white space.
    pub(crate) fn resume_point(&mut self) -> (usize, usize) {
        self.skip_white_space();
        (self.offset, self.line)
    }

    fn skip_white_space(&mut self) {
        while let Some(&b) = self.input.get(self.offset) {
            if !b.is_ascii_whitespace() {
                break;
            }
            if b == b'\n' {
                self.line += 1;
            }
            self.offset += 1;
        }
    }

    /// The next segment, `None` at the end of the input.
    pub(crate) fn next_segment(
        &mut self,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Segment>, EdiError> {
        self.skip_white_space();
        if self.offset >= self.input.len() {
            return Ok(None);
        }
        let position = Position {
            segment: self.number,
            line: self.line,
            byte_offset: self.offset,
        };
        self.number += 1;
        let (raw, terminated, spans_line) = self.cut();
        let elements: Vec<Vec<String>> = raw
            .into_iter()
            .map(|element| {
                element
                    .into_iter()
                    .map(|c| self.decode(&c, warnings))
                    .collect()
            })
            .collect();
        let tag = elements
            .first()
            .and_then(|e| e.first())
            .cloned()
            .unwrap_or_default();
        if tag.len() != 3 || !tag.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(EdiError::NotASegmentTag {
                at: position,
                text: tag.chars().take(20).collect(),
            });
        }
        let segment = Segment {
            tag,
            elements: elements.into_iter().skip(1).collect(),
            position,
        };
        if !terminated {
            warnings.push(format!(
                "{}: the last segment has no terminator",
                segment.reference()
            ));
        }
        if spans_line {
            warnings.push(format!(
                "{}: the segment spans a line break; a segment terminator is probably missing",
                segment.reference()
            ));
        }
        Ok(Some(segment))
    }

    /// Cuts one segment into elements of components, honouring the release character.
    /// Returns whether a terminator ended it and whether it spans a line break.
    fn cut(&mut self) -> (Vec<Vec<Vec<u8>>>, bool, bool) {
        let s = self.service;
        let is = |b: u8, c: char| u32::from(b) == u32::from(c);
        let mut elements = vec![vec![Vec::new()]];
        let mut spans_line = false;
        while let Some(&b) = self.input.get(self.offset) {
            self.offset += 1;
            let current = elements.last_mut().and_then(|e| e.last_mut());
            let Some(current) = current else { break };
            if s.release.is_some_and(|r| is(b, r)) {
                if let Some(&next) = self.input.get(self.offset) {
                    current.push(next);
                    self.offset += 1;
                    self.line += usize::from(next == b'\n');
                }
            } else if is(b, s.segment) {
                return (elements, true, spans_line);
            } else if is(b, s.element) {
                elements.push(vec![Vec::new()]);
            } else if is(b, s.component) {
                if let Some(element) = elements.last_mut() {
                    element.push(Vec::new());
                }
            } else {
                if b == b'\n' {
                    self.line += 1;
                    spans_line = true;
                }
                current.push(b);
            }
        }
        (elements, false, spans_line)
    }

    fn decode(&mut self, bytes: &[u8], warnings: &mut Vec<String>) -> String {
        let latin1 = || bytes.iter().map(|&b| char::from(b)).collect::<String>();
        match (self.decoding, std::str::from_utf8(bytes)) {
            (Decoding::Latin1, _) => latin1(),
            (Decoding::Utf8, Ok(text)) => text.to_string(),
            (Decoding::Utf8, Err(e)) => {
                if !self.warned_decoding {
                    self.warned_decoding = true;
                    warnings.push(format!(
                        "line {}: a value is not UTF-8 (byte `{:#04x}`), although the syntax \
                         identifier says UTF-8 or ASCII; such values are read as ISO 8859-1",
                        self.line,
                        bytes[e.valid_up_to()]
                    ));
                }
                latin1()
            }
        }
    }

    /// The object of a UNO package: the bytes up to its UNP. `length` is the size UNO
    /// declares; where it does not lead to a UNP, the first UNP after the UNO ends the object.
    pub(crate) fn skip_object(&mut self, length: Option<usize>) -> Option<usize> {
        let rest = &self.input[self.offset..];
        let mut marker = b"UNP".to_vec();
        marker.extend(self.service.element.to_string().bytes());
        let declared = length.filter(|&n| rest.get(n..).is_some_and(|r| r.starts_with(&marker)));
        let len = declared.or_else(|| rest.windows(marker.len()).position(|w| w == marker))?;
        self.line += rest[..len].iter().filter(|&&b| b == b'\n').count();
        self.offset += len;
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(input: &str, service: ServiceCharacters) -> (Vec<Segment>, Vec<String>) {
        let mut tokenizer = Tokenizer::new(input.as_bytes(), 0, 1, service);
        let mut warnings = Vec::new();
        let mut out = Vec::new();
        while let Some(s) = tokenizer.next_segment(&mut warnings).unwrap() {
            out.push(s);
        }
        (out, warnings)
    }

    #[test]
    fn the_release_character_makes_a_service_character_data() {
        let (segs, warnings) = segments(
            "FTX+AAI+++Betalingstermijn?: 14 dagen, 25-04-?'85?+?? ok'\r\nUNS+S'",
            ServiceCharacters::default(),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(segs[0].tag, "FTX");
        assert_eq!(
            segs[0].components(4),
            ["Betalingstermijn: 14 dagen, 25-04-'85+? ok"]
        );
        assert_eq!(
            segs[1].position,
            Position {
                segment: 2,
                line: 2,
                byte_offset: 59
            }
        );
    }

    #[test]
    fn a_una_gives_the_service_characters_and_a_bad_one_is_refused() {
        let service = read_una(b"UNA:+,? 'UNB").unwrap();
        assert_eq!(service.decimal_mark, ',');
        assert_eq!(service.repetition, None);
        assert_eq!(read_una(b"UNA:+.?*'").unwrap().repetition, Some('*'));
        let err = read_una(b"UNA::.? '").unwrap_err();
        assert_eq!(
            err.to_string(),
            "UNA `UNA::.? '`: two service characters are the same, so they cannot be told apart"
        );
        assert!(read_una(b"UNA:+.? ").is_err());
        assert!(read_una(b"UNA:A.? '").is_err());
    }

    #[test]
    fn a_value_that_is_not_utf8_is_read_as_latin1_with_one_warning() {
        let mut tokenizer = Tokenizer::new(
            b"IMD+F++:::kWh\x92s'IMD+F++:::\x92'",
            0,
            1,
            ServiceCharacters::default(),
        );
        let mut warnings = Vec::new();
        let first = tokenizer.next_segment(&mut warnings).unwrap().unwrap();
        tokenizer.next_segment(&mut warnings).unwrap();
        assert_eq!(first.component(3, 4), Some("kWh\u{92}s"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn text_that_is_not_a_tag_is_refused_with_its_position() {
        let mut tokenizer = Tokenizer::new(b"UNH+1'\nun+2'", 0, 1, ServiceCharacters::default());
        let mut warnings = Vec::new();
        tokenizer.next_segment(&mut warnings).unwrap();
        let err = tokenizer.next_segment(&mut warnings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "segment 2 (line 2, byte 7): `un` is not a segment tag (three letters)"
        );
    }
}
