//! Bank CSV exports, read through a saved column mapping.
//!
//! Every bank lays its CSV out differently, so nothing is guessed: a [`CsvMapping`] (saved once
//! per bank account as JSON) names the columns by their header text and says how dates and
//! amounts are written. Fields may be quoted (`"…"`, `""` for a quote inside, line breaks
//! inside quotes). The `csv` crate is not a dependency of this crate: RFC 4180 reading is small
//! and the rest (dates, decimal commas, credit/debit columns) is ours anyway.

use crate::amount::{self, Notation};
use crate::error::{Problem, StatementError};
use crate::model::{Account, Direction, Entry, Format, Statement, Status, Transaction};
use crate::text::{decode, fnv1a64, non_empty, reference};
use chrono::NaiveDate;
use o2c_core::money::{Currency, Money};
use o2c_core::reference::is_valid_iban;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How to read one bank's CSV export. Saved as JSON, for example:
///
/// ```json
/// {"delimiter": ";", "decimal_separator": ",", "date_format": "%d.%m.%Y",
///  "account_iban": "DE89370400440532013000", "currency": {"fixed": {"code": "EUR"}},
///  "amount": {"signed": {"column": "Betrag"}}, "booking_date": "Buchungstag",
///  "value_date": "Valuta", "counterparty_name": "Name", "counterparty_account": "IBAN",
///  "remittance": ["Verwendungszweck"], "reference": null, "end_to_end_id": "End-to-End-Referenz"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    /// Field delimiter: `,`, `;` or a tab.
    pub delimiter: char,
    /// Decimal separator of amounts: `,` or `.`; the other one may group thousands.
    pub decimal_separator: char,
    /// chrono format of dates, such as `%d.%m.%Y` or `%Y-%m-%d`.
    pub date_format: String,
    /// IBAN of the account the export is for (CSV exports rarely repeat it per row).
    pub account_iban: String,
    /// Lines to skip before the header row (bank preambles).
    #[serde(default)]
    pub skip_lines: usize,
    /// Where the currency comes from.
    pub currency: CsvCurrency,
    /// Where the amount comes from.
    pub amount: CsvAmount,
    /// Column of the booking date.
    pub booking_date: String,
    /// Column of the value date.
    #[serde(default)]
    pub value_date: Option<String>,
    /// Column of the counterparty's name.
    #[serde(default)]
    pub counterparty_name: Option<String>,
    /// Column of the counterparty's IBAN or account number.
    #[serde(default)]
    pub counterparty_account: Option<String>,
    /// Columns of remittance text, in order (some banks split it over several).
    #[serde(default)]
    pub remittance: Vec<String>,
    /// Column of the bank's reference for the booking.
    #[serde(default)]
    pub reference: Option<String>,
    /// Column of the end-to-end id.
    #[serde(default)]
    pub end_to_end_id: Option<String>,
}

/// Where a CSV row's currency comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CsvCurrency {
    /// Every row is in this currency.
    Fixed {
        /// ISO 4217 code.
        code: Currency,
    },
    /// A column holds the ISO code.
    Column {
        /// Header text of the column.
        column: String,
    },
}

/// Where a CSV row's amount comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CsvAmount {
    /// One signed column: negative is a debit.
    Signed {
        /// Header text of the column.
        column: String,
    },
    /// Separate credit and debit columns; one of them is filled per row.
    CreditDebit {
        /// Header text of the credit column.
        credit: String,
        /// Header text of the debit column.
        debit: String,
    },
}

/// Reads a CSV export as one statement of the mapping's account.
pub(crate) fn parse(bytes: &[u8], mapping: &CsvMapping) -> Result<Vec<Statement>, StatementError> {
    let iban = validate(mapping)?;
    let (text, encoding_warning) = decode(bytes);
    let rows = records(&text, mapping.delimiter)?;
    let mut rows = rows.into_iter().skip(mapping.skip_lines);
    let Some((header_line, header)) = rows.next() else {
        return Err(StatementError::NoStatement {
            format: "CSV",
            detail: "expected a header row",
        });
    };
    let columns = Columns::new(&header, header_line, mapping)?;
    let notation = Notation {
        decimal: mapping.decimal_separator,
        thousands: Some(if mapping.decimal_separator == ',' {
            '.'
        } else {
            ','
        }),
        signed: true,
        bare_separator: false,
        expected: "a signed decimal number in the mapping's notation",
    };
    let mut entries = Vec::new();
    for (line, row) in rows {
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        entries.push(columns.entry(line, &row, mapping, notation)?);
    }
    let currency = match (&mapping.currency, entries.first()) {
        (CsvCurrency::Fixed { code }, _) => *code,
        (CsvCurrency::Column { .. }, Some(first)) => first.amount.currency(),
        (CsvCurrency::Column { .. }, None) => {
            return Err(StatementError::at_line(
                header_line,
                "",
                Problem::NoCurrency {
                    detail: "the currency comes from a column and the file has no rows",
                },
            ));
        }
    };
    let mut warnings: Vec<String> = encoding_warning.into_iter().collect();
    if entries.is_empty() {
        warnings.push("the file has a header but no transactions".to_string());
    }
    if entries.iter().any(|e| e.amount.currency() != currency) {
        warnings.push(format!(
            "some rows are not in {currency}, the first row's currency"
        ));
    }
    let dates: Vec<NaiveDate> = entries.iter().filter_map(|e| e.booking_date).collect();
    let period = match (dates.iter().min(), dates.iter().max()) {
        (Some(from), Some(to)) => format!("{from}..{to}"),
        _ => "empty".to_string(),
    };
    Ok(vec![Statement {
        format: Format::Csv,
        message_id: format!("csv:{:016x}", fnv1a64(bytes)),
        statement_id: format!("{iban}:{period}"),
        created_at: None,
        account: Account {
            iban: Some(iban),
            ..Account::default()
        },
        currency,
        opening_balance: None,
        closing_balance: None,
        entries,
        warnings,
    }])
}

fn validate(mapping: &CsvMapping) -> Result<String, StatementError> {
    let bad = |what: String| Err(StatementError::InvalidMapping(what));
    if !matches!(mapping.decimal_separator, ',' | '.') {
        return bad(format!(
            "decimal separator `{}`: expected `,` or `.`",
            mapping.decimal_separator
        ));
    }
    if matches!(mapping.delimiter, '"' | '\n' | '\r') {
        return bad(format!(
            "delimiter `{}` cannot separate fields",
            mapping.delimiter
        ));
    }
    if mapping.date_format.trim().is_empty() {
        return bad("date format is empty: expected a chrono format such as %d.%m.%Y".to_string());
    }
    let iban: String = mapping
        .account_iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !is_valid_iban(&iban) {
        return bad(format!(
            "account IBAN `{}` is not a valid IBAN",
            mapping.account_iban
        ));
    }
    Ok(iban)
}

/// Column indexes of the mapped columns.
struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    fn new(
        header: &[String],
        line: usize,
        mapping: &CsvMapping,
    ) -> Result<Columns, StatementError> {
        let index: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().to_string(), i))
            .collect();
        let mut named: Vec<&String> = vec![&mapping.booking_date];
        named.extend(mapping.value_date.iter());
        named.extend(mapping.counterparty_name.iter());
        named.extend(mapping.counterparty_account.iter());
        named.extend(mapping.remittance.iter());
        named.extend(mapping.reference.iter());
        named.extend(mapping.end_to_end_id.iter());
        match &mapping.amount {
            CsvAmount::Signed { column } => named.push(column),
            CsvAmount::CreditDebit { credit, debit } => named.extend([credit, debit]),
        }
        if let CsvCurrency::Column { column } = &mapping.currency {
            named.push(column);
        }
        if let Some(missing) = named.into_iter().find(|n| !index.contains_key(n.trim())) {
            return Err(StatementError::at_line(
                line,
                "header",
                Problem::MissingColumn {
                    name: missing.clone(),
                },
            ));
        }
        Ok(Columns { index })
    }

    fn get<'r>(&self, row: &'r [String], column: &str) -> &'r str {
        self.index
            .get(column.trim())
            .and_then(|&i| row.get(i))
            .map_or("", |s| s.trim())
    }

    fn entry(
        &self,
        line: usize,
        cells: &[String],
        mapping: &CsvMapping,
        notation: Notation,
    ) -> Result<Entry, StatementError> {
        let row = Row {
            columns: self,
            cells,
            line,
            mapping,
        };
        let booking_date = row.date(&mapping.booking_date)?.ok_or_else(|| {
            row.at(
                &mapping.booking_date,
                Problem::EmptyValue {
                    expected: "a booking date",
                },
            )
        })?;
        let value_date = match &mapping.value_date {
            Some(column) => row.date(column)?,
            None => None,
        };
        let signed = row.signed_amount(notation)?;
        let direction = if signed.is_negative() {
            Direction::Debit
        } else {
            Direction::Credit
        };
        let amount = if signed.is_negative() {
            signed.checked_neg().map_err(|_| {
                row.at(
                    "",
                    Problem::AmountOutOfRange {
                        value: signed.to_string(),
                    },
                )
            })?
        } else {
            signed
        };
        let mut tx = Transaction::bare(amount, direction);
        tx.counterparty_name = row.optional(&mapping.counterparty_name);
        tx.counterparty_account = row.optional(&mapping.counterparty_account);
        tx.end_to_end_id = mapping
            .end_to_end_id
            .as_ref()
            .and_then(|c| reference(row.text(c)));
        for column in &mapping.remittance {
            tx.remittance_unstructured
                .extend(non_empty(row.text(column)));
        }
        tx.add_rf_references_from_text();
        Ok(Entry {
            amount,
            direction,
            status: Status::Booked,
            booking_date: Some(booking_date),
            value_date,
            reversal: false,
            bank_reference: row.optional(&mapping.reference),
            bank_transaction_code: None,
            transactions: vec![tx],
        })
    }
}

/// One data row with what is needed to read its cells.
struct Row<'r> {
    columns: &'r Columns,
    cells: &'r [String],
    line: usize,
    mapping: &'r CsvMapping,
}

impl Row<'_> {
    fn at(&self, column: &str, problem: Problem) -> StatementError {
        StatementError::at_line(self.line, column, problem)
    }

    fn text(&self, column: &str) -> &str {
        self.columns.get(self.cells, column)
    }

    fn optional(&self, column: &Option<String>) -> Option<String> {
        column.as_ref().and_then(|c| non_empty(self.text(c)))
    }

    fn date(&self, column: &str) -> Result<Option<NaiveDate>, StatementError> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        let format = &self.mapping.date_format;
        NaiveDate::parse_from_str(text, format)
            .map(Some)
            .map_err(|_| {
                self.at(
                    column,
                    Problem::MalformedDate {
                        value: text.to_string(),
                        expected: format!("a date in the format {format}"),
                    },
                )
            })
    }

    fn currency(&self) -> Result<Currency, StatementError> {
        match &self.mapping.currency {
            CsvCurrency::Fixed { code } => Ok(*code),
            CsvCurrency::Column { column } => {
                amount::currency(self.text(column)).map_err(|p| self.at(column, p))
            }
        }
    }

    fn money(&self, column: &str, notation: Notation) -> Result<Option<Money>, StatementError> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        amount::parse_amount(text, notation, self.currency()?)
            .map(Some)
            .map_err(|p| self.at(column, p))
    }

    /// The amount with its sign: negative for a debit.
    fn signed_amount(&self, notation: Notation) -> Result<Money, StatementError> {
        match &self.mapping.amount {
            CsvAmount::Signed { column } => self.money(column, notation)?.ok_or_else(|| {
                self.at(
                    column,
                    Problem::EmptyValue {
                        expected: "an amount",
                    },
                )
            }),
            CsvAmount::CreditDebit { credit, debit } => {
                let filled = |column| -> Result<Option<Money>, StatementError> {
                    Ok(self.money(column, notation)?.filter(|m| !m.is_zero()))
                };
                match (filled(credit)?, filled(debit)?) {
                    (Some(c), None) => Ok(c),
                    // Some banks write debits negative in the debit column, some positive.
                    (None, Some(d)) if d.is_negative() => Ok(d),
                    (None, Some(d)) => d.checked_neg().map_err(|_| {
                        self.at(
                            debit,
                            Problem::AmountOutOfRange {
                                value: d.to_string(),
                            },
                        )
                    }),
                    (None, None) => Ok(Money::zero(self.currency()?)),
                    (Some(_), Some(_)) => Err(self.at(
                        credit,
                        Problem::CreditAndDebit {
                            credit: self.text(credit).to_string(),
                            debit: self.text(debit).to_string(),
                        },
                    )),
                }
            }
        }
    }
}

/// RFC 4180 records with the 1-based line each starts on.
fn records(text: &str, delimiter: char) -> Result<Vec<(usize, Vec<String>)>, StatementError> {
    let mut out = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut row_line = 1;
    let mut quoted = false;
    let mut quote_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                quote_line = line;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                out.push((row_line, std::mem::take(&mut row)));
                line += 1;
                row_line = line;
            }
            c if c == delimiter => row.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(StatementError::at_line(
            quote_line,
            "",
            Problem::UnclosedQuote,
        ));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        out.push((row_line, row));
    }
    Ok(out
        .into_iter()
        .filter(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_line_breaks() {
        let rows = records("a;b\n\"x;1\";\"say \"\"hi\"\"\nthere\"\n\nlast;2", ';').unwrap();
        assert_eq!(rows[0], (1, vec!["a".to_string(), "b".to_string()]));
        assert_eq!(
            rows[1],
            (2, vec!["x;1".to_string(), "say \"hi\"\nthere".to_string()])
        );
        assert_eq!(rows[2], (5, vec!["last".to_string(), "2".to_string()]));
        assert!(matches!(
            records("a;\"open\n", ';'),
            Err(StatementError::Malformed {
                problem: Problem::UnclosedQuote,
                ..
            })
        ));
    }
}
