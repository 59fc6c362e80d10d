//! SWIFT MT940 customer statements.
//!
//! Strict about structure and values (a statement needs `:20:`, `:25:` and an opening balance
//! before its first `:61:`; amounts, dates and currencies must be real), lenient about what
//! banks really send: envelope blocks `{1:…}{4:`, header lines before `:20:`, `-` separators,
//! CRLF or LF, `:28:` for `:28C:`, several `:86:` per line, and value dates such as 30 February
//! (see [`crate::amount::parse_yymmdd_30_360`]). `:86:` is free text and never refused; its
//! sub-fields are read in [`crate::mt940_details`].

use crate::amount::{self, SWIFT_AMOUNT};
use crate::error::{Problem, StatementError};
use crate::model::{Account, Balance, Direction, Entry, Format, Statement, Status, Transaction};
use crate::mt940_details::apply_details;
use crate::text::{decode, reference};
use chrono::NaiveDate;
use o2c_core::money::Currency;
use o2c_core::reference::is_valid_iban;

/// Tags recognised at the start of a line; any other `:xx:` line continues the previous field
/// (German banks wrap `:86:` so that a time such as `16:26:37` starts a line).
const TAGS: &[&str] = &[
    "20", "21", "25", "28", "28C", "60F", "60M", "61", "62F", "62M", "64", "65", "86", "NS", "13",
    "13D", "34F", "90C", "90D",
];

const BALANCE_LAYOUT: &str =
    "D or C, a date YYMMDD, a currency code and an amount, such as C230131EUR1234,56";

/// A field with its continuation lines.
struct Field<'t> {
    tag: &'t str,
    line: usize,
    lines: Vec<&'t str>,
}

enum Token<'t> {
    Field(Field<'t>),
    /// `-`, `-}` or a new envelope: the end of a message.
    End,
}

/// Reads every statement in an MT940 file.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Statement>, StatementError> {
    let (text, encoding_warning) = decode(bytes);
    let mut statements = Vec::new();
    let mut current: Option<Builder> = None;
    for token in tokens(&text) {
        match token {
            Token::End => {
                if let Some(done) = current.take() {
                    statements.push(done.finish()?);
                }
            }
            Token::Field(field) if field.tag == "20" => {
                if let Some(done) = current.take() {
                    statements.push(done.finish()?);
                }
                current = Some(Builder::new(&field));
            }
            Token::Field(field) => match current.as_mut() {
                Some(builder) => builder.add(&field)?,
                None => {
                    return Err(StatementError::at_line(
                        field.line,
                        format!(":{}:", field.tag),
                        Problem::FieldOutsideStatement,
                    ));
                }
            },
        }
    }
    if let Some(done) = current.take() {
        statements.push(done.finish()?);
    }
    if statements.is_empty() {
        return Err(StatementError::NoStatement {
            format: "MT940",
            detail: "expected a :20: field starting a statement",
        });
    }
    if let Some(warning) = encoding_warning {
        for statement in &mut statements {
            statement.warnings.insert(0, warning.clone());
        }
    }
    Ok(statements)
}

/// Splits the text into fields and message ends.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut open: Option<Field<'_>> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with('{') {
            // SWIFT envelope: `{1:…}{2:…}{4:` opens a message; `{5:…}` trailers carry nothing.
            tokens.extend(open.take().map(Token::Field));
            tokens.push(Token::End);
            match line.find("{4:") {
                Some(at) => line = &line[at + 3..],
                None => continue,
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        if is_terminator(line) {
            tokens.extend(open.take().map(Token::Field));
            tokens.push(Token::End);
            continue;
        }
        if let Some((tag, rest)) = tag_of(line) {
            tokens.extend(open.take().map(Token::Field));
            open = Some(Field {
                tag,
                line: number,
                lines: vec![rest],
            });
        } else if let Some(field) = open.as_mut() {
            field.lines.push(line);
        }
        // Lines outside any field are bank headers ("ABNANL2A", "940"): nothing to read.
    }
    tokens.extend(open.take().map(Token::Field));
    tokens
}

fn is_terminator(line: &str) -> bool {
    let t = line.trim_end();
    match t.strip_prefix('-') {
        Some(rest) => {
            rest.starts_with('}')
                || (rest.len() <= 3 && rest.bytes().all(|b| b.is_ascii_uppercase()))
        }
        None => false,
    }
}

fn tag_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    TAGS.contains(&tag).then(|| (tag, &rest[end + 1..]))
}

/// Where a statement is in its field sequence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// After `:20:`: `:21:`, `:25:`, `:28C:` until the opening balance.
    Header,
    /// After `:60F:`/`:60M:` (whose currency the lines are in) or a `:61:`: lines, their
    /// `:86:`, then the closing balance.
    Lines(Currency),
    /// After `:62F:`/`:62M:`: only `:64:`, `:65:`, `:86:`.
    Closed,
}

struct Builder {
    reference: String,
    line: usize,
    stage: Stage,
    account: Option<String>,
    number: Option<String>,
    opening: Option<Balance>,
    closing: Option<Balance>,
    entries: Vec<Entry>,
    /// `:86:` texts and supplementary details of the last `:61:`, applied when it is complete.
    details: Vec<String>,
    supplementary: Option<String>,
    warnings: Vec<String>,
}

impl Builder {
    fn new(field: &Field<'_>) -> Builder {
        Builder {
            reference: field.lines.join(" ").trim().to_string(),
            line: field.line,
            stage: Stage::Header,
            account: None,
            number: None,
            opening: None,
            closing: None,
            entries: Vec::new(),
            details: Vec::new(),
            supplementary: None,
            warnings: Vec::new(),
        }
    }

    fn add(&mut self, field: &Field<'_>) -> Result<(), StatementError> {
        let tag = format!(":{}:", field.tag);
        let unexpected = |expected| {
            StatementError::at_line(field.line, &tag, Problem::UnexpectedField { expected })
        };
        let value = field.lines.join("\n");
        match (field.tag, self.stage) {
            ("21", Stage::Header) | ("NS", _) => {}
            ("25", Stage::Header) if self.account.is_none() => {
                self.account = Some(value.trim().to_string());
            }
            ("28" | "28C", Stage::Header) => self.number = Some(value.trim().to_string()),
            ("60F" | "60M", Stage::Header) => {
                let opening = balance(&value, field.line, &tag)?;
                self.opening = Some(opening);
                self.stage = Stage::Lines(opening.amount.currency());
            }
            ("61", Stage::Lines(currency)) => {
                self.flush_details();
                let (entry, supplementary) = statement_line(field, currency, &mut self.warnings)?;
                self.entries.push(entry);
                self.supplementary = supplementary;
            }
            ("86", Stage::Lines(_)) if !self.entries.is_empty() => {
                self.details.push(value);
            }
            // Information for the statement as a whole: nothing in the model takes it.
            ("86", _) => {}
            ("62F" | "62M", Stage::Lines(_)) => {
                self.flush_details();
                self.closing = Some(balance(&value, field.line, &tag)?);
                self.stage = Stage::Closed;
            }
            ("64" | "65", Stage::Closed) => {
                balance(&value, field.line, &tag)?;
            }
            ("13" | "13D" | "34F" | "90C" | "90D", _) => {
                return Err(StatementError::at_line(
                    field.line,
                    &tag,
                    Problem::Unsupported {
                        what: "an MT942 interim transaction report",
                        expected: "an MT940 statement",
                    },
                ));
            }
            (_, Stage::Header) => {
                return Err(unexpected(
                    ":21:, one :25:, :28C: or the opening balance :60F:/:60M: (a statement starts with its header)",
                ));
            }
            (_, Stage::Lines(_)) => {
                return Err(unexpected(
                    ":61:, :86: or the closing balance :62F:/:62M: (the statement lines have begun)",
                ));
            }
            (_, Stage::Closed) => {
                return Err(unexpected(
                    ":64:, :65:, :86: or a new statement :20: (the closing balance has been given)",
                ));
            }
        }
        Ok(())
    }

    fn flush_details(&mut self) {
        let details = std::mem::take(&mut self.details);
        let supplementary = self.supplementary.take();
        if let Some(tx) = self
            .entries
            .last_mut()
            .and_then(|e| e.transactions.first_mut())
        {
            apply_details(tx, &details, supplementary);
        }
    }

    fn finish(mut self) -> Result<Statement, StatementError> {
        self.flush_details();
        let missing = |field| {
            StatementError::at_line(
                self.line,
                ":20:",
                Problem::MissingField {
                    reference: self.reference.clone(),
                    field,
                },
            )
        };
        let account_text = self
            .account
            .clone()
            .ok_or_else(|| missing(":25: account identification"))?;
        let opening = self
            .opening
            .ok_or_else(|| missing(":60F:/:60M: opening balance"))?;
        let currency = opening.amount.currency();
        if self.closing.is_none() {
            self.warnings
                .push("no closing balance (:62F:/:62M:): balances not checked".to_string());
        }
        let mut statement = Statement {
            format: Format::Mt940,
            statement_id: self
                .number
                .clone()
                .unwrap_or_else(|| self.reference.clone()),
            message_id: self.reference,
            created_at: None,
            account: account(&account_text, currency),
            currency,
            opening_balance: Some(opening),
            closing_balance: self.closing,
            entries: self.entries,
            warnings: self.warnings,
        };
        statement.check_balance();
        Ok(statement)
    }
}

/// `:25:`: an IBAN (possibly followed by the currency), else whatever the bank wrote
/// (`BLZ/account`, a national number).
fn account(text: &str, currency: Currency) -> Account {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let without_currency = compact.strip_suffix(currency.code()).unwrap_or(&compact);
    for candidate in [compact.as_str(), without_currency] {
        if is_valid_iban(candidate) {
            return Account {
                iban: Some(candidate.to_string()),
                ..Account::default()
            };
        }
    }
    Account {
        other_id: Some(text.to_string()),
        ..Account::default()
    }
}

/// `:60F:`, `:62F:`, `:64:`, `:65:`: `C230131EUR1234,56`.
fn balance(value: &str, line: usize, tag: &str) -> Result<Balance, StatementError> {
    let at = |problem| StatementError::at_line(line, tag, problem);
    let v = value.trim();
    let malformed = || {
        at(Problem::MalformedField {
            value: v.to_string(),
            expected: BALANCE_LAYOUT,
        })
    };
    let mark = v.get(..1).ok_or_else(malformed)?;
    let date = v.get(1..7).ok_or_else(malformed)?;
    let code = v.get(7..10).ok_or_else(malformed)?;
    let figure = v.get(10..).ok_or_else(malformed)?;
    if !matches!(mark, "C" | "D") || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(malformed());
    }
    let date = amount::parse_yymmdd(date).map_err(at)?;
    let currency = amount::currency(code).map_err(at)?;
    let amount = amount::parse_amount(figure, SWIFT_AMOUNT, currency).map_err(at)?;
    let amount = if mark == "D" {
        amount.checked_neg().map_err(|_| {
            at(Problem::AmountOutOfRange {
                value: figure.to_string(),
            })
        })?
    } else {
        amount
    };
    Ok(Balance { amount, date })
}

/// `:61:`: value date, optional booking date, mark, funds code, amount, transaction type,
/// account-owner reference, `//` bank reference, then supplementary details on the next line.
fn statement_line(
    field: &Field<'_>,
    currency: Currency,
    warnings: &mut Vec<String>,
) -> Result<(Entry, Option<String>), StatementError> {
    let at = |problem| StatementError::at_line(field.line, ":61:", problem);
    let first = field.lines.first().copied().unwrap_or("").trim_end();
    let malformed = |expected| {
        at(Problem::MalformedField {
            value: first.to_string(),
            expected,
        })
    };
    let (value_date, booking_date, rest) = line_dates(first, field.line, warnings)?;
    let (direction, reversal, after_mark) =
        mark(rest).ok_or_else(|| malformed("after the dates a mark C, D, RC or RD"))?;
    // A funds code (third letter of the currency) may sit between the mark and the amount.
    let bytes = after_mark.as_bytes();
    let after_funds = match bytes {
        [letter, next, ..]
            if letter.is_ascii_uppercase() && (next.is_ascii_digit() || *next == b',') =>
        {
            &after_mark[1..]
        }
        _ => after_mark,
    };
    let amount_end = after_funds
        .find(['N', 'F', 'S'])
        .unwrap_or(after_funds.len());
    let amount =
        amount::parse_amount(&after_funds[..amount_end], SWIFT_AMOUNT, currency).map_err(at)?;
    let tail = &after_funds[amount_end..];
    let code = tail
        .get(..4)
        .filter(|c| c[1..].bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| malformed("a transaction type such as NTRF after the amount"))?;
    let (customer, bank, overflow) = references(&tail[4..]);
    let supplementary: Vec<&str> = overflow
        .into_iter()
        .chain(field.lines[1..].iter().map(|l| l.trim()))
        .filter(|l| !l.is_empty())
        .collect();
    let mut tx = Transaction::bare(amount, direction);
    tx.instruction_id = reference(customer);
    let entry = Entry {
        amount,
        direction,
        status: Status::Booked,
        booking_date,
        value_date: Some(value_date),
        reversal,
        bank_reference: bank.and_then(reference),
        bank_transaction_code: Some(code.to_string()),
        transactions: vec![tx],
    };
    let supplementary = (!supplementary.is_empty()).then(|| supplementary.join(" "));
    Ok((entry, supplementary))
}

/// The value date `YYMMDD` and the optional booking date `MMDD` at the start of a `:61:` line,
/// and the rest of the line. Days that do not exist are moved (with a warning), see
/// [`amount::parse_yymmdd_30_360`].
fn line_dates<'l>(
    first: &'l str,
    line: usize,
    warnings: &mut Vec<String>,
) -> Result<(NaiveDate, Option<NaiveDate>, &'l str), StatementError> {
    let at = |problem| StatementError::at_line(line, ":61:", problem);
    let value_text = first.get(..6).ok_or_else(|| {
        at(Problem::MalformedField {
            value: first.to_string(),
            expected: "a value date YYMMDD first",
        })
    })?;
    let (value_date, moved) = amount::parse_yymmdd_30_360(value_text).map_err(at)?;
    let mut moved_dates = vec![(value_text, value_date, moved)];
    let mut rest = &first[6..];
    let mut booking_date = None;
    if let Some(mmdd) = rest
        .get(..4)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
    {
        let (date, moved) = amount::month_day_near(mmdd, value_date).map_err(at)?;
        moved_dates.push((mmdd, date, moved));
        booking_date = Some(date);
        rest = &rest[4..];
    }
    for (text, date, _) in moved_dates.into_iter().filter(|(_, _, moved)| *moved) {
        warnings.push(format!(
            "line {line} (:61:): date `{text}` does not exist; read as {date} (30-day-month convention)"
        ));
    }
    Ok((value_date, booking_date, rest))
}

/// The debit/credit mark: `RC` (reversal of a credit) is a debit, `RD` a credit.
fn mark(rest: &str) -> Option<(Direction, bool, &str)> {
    [
        ("RC", Direction::Debit, true),
        ("RD", Direction::Credit, true),
        ("C", Direction::Credit, false),
        ("D", Direction::Debit, false),
    ]
    .into_iter()
    .find_map(|(mark, direction, reversal)| {
        rest.strip_prefix(mark).map(|r| (direction, reversal, r))
    })
}

/// Splits `CUSTREF//BANKREF`; each reference is at most 16 characters, and whatever follows
/// (some banks append the counterparty's name) is returned as supplementary text.
fn references(text: &str) -> (&str, Option<&str>, Option<&str>) {
    let cut = |s: &'_ str| -> usize { s.char_indices().nth(16).map_or(s.len(), |(i, _)| i) };
    match text.split_once("//") {
        Some((customer, bank_and_more)) => {
            let end = cut(bank_and_more);
            let more = bank_and_more[end..].trim();
            (
                customer,
                Some(&bank_and_more[..end]),
                (!more.is_empty()).then_some(more),
            )
        }
        None => {
            let end = cut(text);
            let more = text[end..].trim();
            (&text[..end], None, (!more.is_empty()).then_some(more))
        }
    }
}
