//! Segments, elements and components, and the tokenizer that cuts them out of the input.

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::delimiters::Delimiters;
use crate::error::{EdiError, Location, Position, SegmentRef};

/// One data element: a simple value, a composite of components, or (from 00402 on) several
/// repetitions of either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Never empty, nor is any repetition: an empty element is one empty component.
    repetitions: Vec<Vec<String>>,
}

impl Element {
    fn parse(raw: &str, delimiters: &Delimiters) -> Element {
        let split = |repetition: &str| -> Vec<String> {
            repetition
                .split(delimiters.component)
                .map(str::to_string)
                .collect()
        };
        let repetitions = match delimiters.repetition {
            Some(r) => raw.split(r).map(split).collect(),
            None => vec![split(raw)],
        };
        Element { repetitions }
    }

    /// An element of one simple value (the ISA's elements, tests).
    pub fn simple(value: impl Into<String>) -> Element {
        Element {
            repetitions: vec![vec![value.into()]],
        }
    }

    /// The value of a simple element; for a composite its first component, for a repeated
    /// element that of its first repetition. As written: padding is kept.
    pub fn value(&self) -> &str {
        self.components().first().map_or("", String::as_str)
    }

    /// The components of the first repetition (one for a simple element).
    pub fn components(&self) -> &[String] {
        self.repetitions.first().map_or(&[], Vec::as_slice)
    }

    /// Every repetition, each a list of components.
    pub fn repetitions(&self) -> &[Vec<String>] {
        &self.repetitions
    }

    /// True when the element holds nothing but white space.
    pub fn is_blank(&self) -> bool {
        self.repetitions
            .iter()
            .flatten()
            .all(|c| c.trim().is_empty())
    }
}

/// Serialised as a string when simple, a list of components when composite, a list of such
/// when repeated: compact enough to read in a snapshot.
impl Serialize for Element {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.repetitions.as_slice() {
            [only] if only.len() == 1 => s.serialize_str(self.value()),
            [only] => only.serialize(s),
            many => {
                let mut seq = s.serialize_seq(Some(many.len()))?;
                for repetition in many {
                    seq.serialize_element(repetition)?;
                }
                seq.end()
            }
        }
    }
}

/// One segment: its identifier, its elements (element 1 first) and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    /// `BPR`, `N1`, `RMR`…
    pub id: String,
    /// Element 1 (`BPR01`) is `elements[0]`. Trailing empty elements the sender left out are
    /// simply absent.
    pub elements: Vec<Element>,
    /// Where the segment starts.
    pub position: Position,
}

impl Segment {
    /// Element `n`, 1-based as X12 counts (`BPR02` is `element(2)`).
    pub fn element(&self, n: usize) -> Option<&Element> {
        n.checked_sub(1).and_then(|i| self.elements.get(i))
    }

    /// The value of element `n` without surrounding white space; `None` when the element is
    /// absent or blank.
    pub fn text(&self, n: usize) -> Option<&str> {
        self.element(n)
            .map(|e| e.value().trim())
            .filter(|v| !v.is_empty())
    }

    /// The X12 name of element `n`: `BPR02`.
    pub fn element_name(&self, n: usize) -> String {
        format!("{}{n:02}", self.id)
    }

    /// This segment, for an error or a warning.
    pub fn reference(&self) -> SegmentRef {
        SegmentRef {
            id: self.id.clone(),
            position: self.position,
        }
    }

    /// Element `n` of this segment, for an error about its value.
    pub fn element_location(&self, n: usize) -> Location {
        Location::Element {
            segment: self.reference(),
            element: n,
        }
    }

    /// The value of element `n`, or an error naming it when it is absent or blank.
    pub fn required(&self, n: usize) -> Result<&str, EdiError> {
        self.text(n).ok_or_else(|| EdiError::MissingValue {
            at: self.element_location(n),
        })
    }
}

/// Cuts the segments after an ISA out of the input, one at a time, so that reading can stop
/// after the IEA and the next interchange can bring its own delimiters.
pub(crate) struct Tokenizer<'a> {
    input: &'a str,
    /// Byte offset where the next segment is looked for.
    offset: usize,
    /// Line of `offset`.
    line: usize,
    delimiters: Delimiters,
    /// Number of the next segment in the interchange.
    number: usize,
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn new(
        input: &'a str,
        offset: usize,
        line: usize,
        delimiters: Delimiters,
    ) -> Tokenizer<'a> {
        Tokenizer {
            input,
            offset,
            line,
            delimiters,
            number: 2,
        }
    }

    /// Where reading stopped: byte offset and line.
    pub(crate) fn resume_point(&self) -> (usize, usize) {
        (self.offset, self.line)
    }

    fn find_end(&self, rest: &str) -> Option<(usize, usize)> {
        if self.delimiters.terminator_is_line_break() {
            rest.find(['\r', '\n']).map(|i| (i, 1))
        } else {
            let t = self.delimiters.segment;
            rest.find(t).map(|i| (i, t.len_utf8()))
        }
    }

    /// The next segment, `None` at the end of the input.
    pub(crate) fn next_segment(
        &mut self,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Segment>, EdiError> {
        loop {
            let Some(rest) = self.input.get(self.offset..).filter(|r| !r.is_empty()) else {
                return Ok(None);
            };
            let (piece, consumed, terminated) = match self.find_end(rest) {
                Some((end, len)) => (&rest[..end], end + len, true),
                None => (rest, rest.len(), false),
            };
            let start = self.offset;
            let start_line = self.line;
            self.offset += consumed;
            self.line += rest[..consumed].matches('\n').count();

            let text = piece.trim_start();
            let lead = piece.len() - text.len();
            let text = text.trim_end();
            if text.is_empty() {
                continue;
            }
            let position = Position {
                segment: self.number,
                line: start_line + piece[..lead].matches('\n').count(),
                byte_offset: start + lead,
            };
            self.number += 1;
            let segment = self.split(text, position)?;
            if !terminated && !self.delimiters.terminator_is_line_break() {
                warnings.push(format!(
                    "{}: the last segment has no terminator",
                    segment.reference()
                ));
            }
            if text.contains(['\r', '\n']) {
                warnings.push(format!(
                    "{}: the segment spans a line break; a segment terminator is probably \
                     missing",
                    segment.reference()
                ));
            }
            return Ok(Some(segment));
        }
    }

    fn split(&self, text: &str, position: Position) -> Result<Segment, EdiError> {
        let mut parts = text.split(self.delimiters.element);
        let id = parts.next().unwrap_or_default();
        let well_formed = (2..=3).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_uppercase())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !well_formed {
            return Err(EdiError::NotASegmentIdentifier {
                at: position,
                text: id.chars().take(20).collect(),
            });
        }
        Ok(Segment {
            id: id.to_string(),
            elements: parts
                .map(|raw| Element::parse(raw, &self.delimiters))
                .collect(),
            position,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELIMITERS: Delimiters = Delimiters {
        element: '*',
        component: ':',
        repetition: Some('^'),
        segment: '~',
    };

    fn segments(input: &str, delimiters: Delimiters) -> (Vec<Segment>, Vec<String>) {
        let mut tokenizer = Tokenizer::new(input, 0, 1, delimiters);
        let mut warnings = Vec::new();
        let mut out = Vec::new();
        while let Some(s) = tokenizer.next_segment(&mut warnings).unwrap() {
            out.push(s);
        }
        (out, warnings)
    }

    #[test]
    fn elements_split_into_repetitions_and_components() {
        let (segs, warnings) = segments("HI*BK:8901^BF:87200*~\r\n  SE*2*0001~", DELIMITERS);
        assert!(warnings.is_empty());
        let hi = &segs[0];
        assert_eq!(hi.id, "HI");
        let e = hi.element(1).unwrap();
        assert_eq!(e.value(), "BK");
        assert_eq!(e.components(), ["BK", "8901"]);
        assert_eq!(e.repetitions().len(), 2);
        assert_eq!(hi.text(2), None, "a blank element reads as absent");
        assert_eq!(hi.element(3), None);
        assert_eq!(
            segs[1].position,
            Position {
                segment: 3,
                line: 2,
                byte_offset: 25
            }
        );
        assert_eq!(
            serde_json::to_value(&segs[1].elements).unwrap(),
            serde_json::json!(["2", "0001"])
        );
    }

    #[test]
    fn a_line_break_terminator_ends_segments_at_cr_lf_or_both() {
        let d = Delimiters {
            segment: '\r',
            ..DELIMITERS
        };
        let (segs, warnings) = segments("A1*1 \r\n  B2*2\nC3*3\rD4*4", d);
        assert!(warnings.is_empty());
        let ids: Vec<_> = segs.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["A1", "B2", "C3", "D4"]);
        assert_eq!(segs[0].text(1), Some("1"));
        assert_eq!(segs[2].position.line, 3);
    }

    #[test]
    fn a_segment_across_a_line_break_and_a_missing_last_terminator_are_warned_about() {
        let (segs, warnings) = segments("N1*BY*X\r\n  N3*Y~N4*Z", DELIMITERS);
        assert_eq!(segs.len(), 2);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("segment 2 (N1, line 1, byte 0): the segment spans"));
        assert!(warnings[1].contains("no terminator"));
    }

    #[test]
    fn a_multi_byte_terminator_is_a_character() {
        let d = Delimiters {
            segment: '…',
            ..DELIMITERS
        };
        let (segs, _) = segments("ST*856*0022…\r\nSE*2*0022…", d);
        assert_eq!(segs[1].position.byte_offset, "ST*856*0022…\r\n".len());
    }

    #[test]
    fn text_that_is_not_a_segment_identifier_is_refused_with_its_position() {
        let mut tokenizer = Tokenizer::new("ST*1~\n12*3~", 0, 1, DELIMITERS);
        let mut warnings = Vec::new();
        assert!(tokenizer.next_segment(&mut warnings).is_ok());
        let err = tokenizer.next_segment(&mut warnings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "segment 3 (line 2, byte 6): `12` is not a segment identifier (two or three letters \
             and digits)"
        );
    }
}
