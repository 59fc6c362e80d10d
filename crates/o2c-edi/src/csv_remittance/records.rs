//! CSV records as RFC 4180 writes them, and as spreadsheets really save them.
//!
//! Fields may be quoted (`"Smith, Jones & Co"`), with `""` for a quote inside and line breaks
//! inside the quotes. Lines end with CR LF, LF or CR. Blank lines are skipped. The separator is
//! whichever of `,` `;` and tab the header row uses most (European spreadsheets save `;`).

use crate::error::EdiError;

/// One row: the line it starts on (1-based) and its fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// The separator the header row (the first line) uses most, outside quotes; `,` by default.
pub fn detect_separator(text: &str) -> char {
    let mut counts = [(',', 0usize), (';', 0), ('\t', 0)];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\r' | '\n' if !quoted => break,
            c if !quoted => {
                if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == c) {
                    entry.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .fold(
            (',', 0),
            |best, &(s, n)| if n > best.1 { (s, n) } else { best },
        )
        .0
}

/// Splits `text` into records.
pub fn parse(text: &str, separator: char) -> Result<Vec<Record>, EdiError> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut record = Record {
        line,
        fields: Vec::new(),
    };
    let mut field = String::new();
    loop {
        let c = chars.next();
        match c {
            Some('"') if field.trim().is_empty() => {
                field.clear();
                read_quoted(&mut chars, &mut field, &mut line, record.line)?;
                // Only white space may follow the closing quote before the separator.
                while let Some(&next) = chars.peek() {
                    if next == separator || next == '\r' || next == '\n' {
                        break;
                    }
                    if !next.is_whitespace() {
                        return Err(EdiError::TextAfterClosingQuote { line, found: next });
                    }
                    chars.next();
                }
                // Quoted content is kept as written, padding included.
                record.fields.push(std::mem::take(&mut field));
                match chars.next() {
                    Some(s) if s == separator => {}
                    Some(end) => end_of_line(end, &mut chars, &mut line, &mut record, &mut records),
                    None => {
                        push_record(&mut records, &mut record, line);
                        return Ok(records);
                    }
                }
            }
            Some(s) if s == separator => record.fields.push(take_trimmed(&mut field)),
            Some(end @ ('\r' | '\n')) => {
                record.fields.push(take_trimmed(&mut field));
                end_of_line(end, &mut chars, &mut line, &mut record, &mut records);
            }
            Some(other) => field.push(other),
            None => {
                if !field.is_empty() || !record.fields.is_empty() {
                    record.fields.push(take_trimmed(&mut field));
                }
                push_record(&mut records, &mut record, line);
                return Ok(records);
            }
        }
    }
}

fn take_trimmed(field: &mut String) -> String {
    let trimmed = field.trim().to_string();
    field.clear();
    trimmed
}

/// Reads a quoted field's content up to its closing quote.
fn read_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    field: &mut String,
    line: &mut usize,
    record_line: usize,
) -> Result<(), EdiError> {
    loop {
        match chars.next() {
            Some('"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            Some('"') => return Ok(()),
            Some(c) => {
                if c == '\n' {
                    *line += 1;
                }
                field.push(c);
            }
            None => return Err(EdiError::UnterminatedQuote { line: record_line }),
        }
    }
}

/// Ends the current record at a line break (CR LF counts once).
fn end_of_line(
    end: char,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    line: &mut usize,
    record: &mut Record,
    records: &mut Vec<Record>,
) {
    if end == '\r' && chars.peek() == Some(&'\n') {
        chars.next();
    }
    *line += 1;
    push_record(records, record, *line);
}

/// Keeps the record unless it is blank, and starts the next one on `next_line`.
fn push_record(records: &mut Vec<Record>, record: &mut Record, next_line: usize) {
    let done = std::mem::replace(
        record,
        Record {
            line: next_line,
            fields: Vec::new(),
        },
    );
    if done.fields.iter().any(|f| !f.is_empty()) {
        records.push(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Vec<String>)> {
        parse(text, detect_separator(text))
            .unwrap()
            .into_iter()
            .map(|r| (r.line, r.fields))
            .collect()
    }

    #[test]
    fn quoted_fields_keep_separators_quotes_and_line_breaks() {
        let text =
            "a,b,c\r\n\"Smith, Jones\",\"say \"\"hi\"\"\", x \r\n\r\n\"two\nlines\",2,3\n4,,\n";
        assert_eq!(
            fields(text),
            [
                (1, vec!["a".into(), "b".into(), "c".into()]),
                (
                    2,
                    vec!["Smith, Jones".into(), "say \"hi\"".into(), "x".into()]
                ),
                (4, vec!["two\nlines".into(), "2".into(), "3".into()]),
                (6, vec!["4".into(), String::new(), String::new()]),
            ]
        );
    }

    #[test]
    fn the_separator_is_the_one_the_header_uses() {
        assert_eq!(detect_separator("a;b;\"c,d\"\n1,2,3"), ';');
        assert_eq!(detect_separator("a\tb\tc"), '\t');
        assert_eq!(detect_separator("single"), ',');
        assert_eq!(fields("a;b\n1,5;2")[1].1, ["1,5", "2"]);
    }

    #[test]
    fn a_last_line_without_line_break_and_a_quote_at_the_end_are_read() {
        assert_eq!(fields("a,b\n1,\"2\"")[1], (2, vec!["1".into(), "2".into()]));
        assert_eq!(fields("a,b\n1,2")[1], (2, vec!["1".into(), "2".into()]));
    }

    #[test]
    fn broken_quoting_is_refused_with_its_line() {
        assert_eq!(
            parse("a,b\n1,\"open\n2,3\n", ','),
            Err(EdiError::UnterminatedQuote { line: 2 })
        );
        assert_eq!(
            parse("a,b\n\"x\"y,2\n", ','),
            Err(EdiError::TextAfterClosingQuote {
                line: 2,
                found: 'y'
            })
        );
    }
}
