//! BAI2 cash management balance reports.
//!
//! A file nests groups (02…98) of accounts (03…49); each account becomes one [`Statement`].
//! Records end with `/`, may share a physical line, and continue in `88` records. Amounts have
//! implied decimals by the currency's exponent. Transaction direction comes from the type code
//! ranges of the BAI2 specification. Control totals and record counts in the 49/98/99 trailers
//! are checked and reported as warnings: vendors' sample files do not maintain them, and a wrong
//! trailer does not make the transactions wrong.

use crate::amount::{self, parse_minor_units};
use crate::error::{Problem, StatementError};
use crate::model::{Account, Balance, Direction, Entry, Format, Statement, Status, Transaction};
use crate::text::{decode, looks_like_bic, non_empty, reference};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use o2c_core::money::{Currency, Money};
use o2c_core::reference::is_valid_iban;

/// A logical record with its `88` continuations.
struct Record {
    code: String,
    line: usize,
    body: String,
    continuations: Vec<String>,
}

impl Record {
    fn at(&self, problem: Problem) -> StatementError {
        StatementError::at_line(self.line, self.code.clone(), problem)
    }

    /// Comma-separated fields, continuations appended, the closing `/` removed.
    fn fields(&self) -> Vec<String> {
        let mut all = strip_terminator(&self.body).to_string();
        for more in &self.continuations {
            all.push(',');
            all.push_str(strip_terminator(more));
        }
        all.split(',').map(|f| f.trim().to_string()).collect()
    }

    /// 1 for the record itself plus its continuations.
    fn count(&self) -> i64 {
        1 + self.continuations.len() as i64
    }
}

fn strip_terminator(s: &str) -> &str {
    let t = s.trim_end();
    t.strip_suffix('/').unwrap_or(t)
}

/// Reads every account of a BAI2 file as a statement.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Statement>, StatementError> {
    let (text, encoding_warning) = decode(bytes);
    let records = records(&text)?;
    let mut file = FileReader::default();
    for record in &records {
        file.read(record)?;
    }
    let mut statements = file.finish(records.last())?;
    if let Some(warning) = encoding_warning {
        for statement in &mut statements {
            statement.warnings.insert(0, warning.clone());
        }
    }
    Ok(statements)
}

/// Splits the text into logical records: a record starts with two digits and a comma at the
/// start of a line or after a `/` and blanks; `88` records are attached to the record they
/// continue; a line starting otherwise continues the previous record.
fn records(text: &str) -> Result<Vec<Record>, StatementError> {
    let mut records: Vec<Record> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        for segment in split_line(raw) {
            let trimmed = segment.trim_start();
            match record_code(trimmed) {
                Some("88") => match records.last_mut() {
                    Some(previous) => previous.continuations.push(trimmed[3..].to_string()),
                    None => return Err(StatementError::at_line(line, "88", first_record())),
                },
                Some(code) => records.push(Record {
                    code: code.to_string(),
                    line,
                    body: trimmed[3..].to_string(),
                    continuations: Vec::new(),
                }),
                None => match records.last_mut() {
                    Some(previous) => match previous.continuations.last_mut() {
                        Some(continuation) => continuation.push_str(segment),
                        None => previous.body.push_str(segment),
                    },
                    None => return Err(StatementError::at_line(line, "", first_record())),
                },
            }
        }
    }
    Ok(records)
}

fn first_record() -> Problem {
    Problem::UnexpectedRecord {
        expected: "an 01 file header as the first record",
    }
}

fn record_code(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b',')
        .then(|| &s[..2])
}

/// Cuts a physical line where a record ends with `/` and another starts after blanks.
fn split_line(line: &str) -> Vec<&str> {
    let b = line.as_bytes();
    let mut cuts = vec![0];
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' {
            let mut j = i + 1;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            if j > i + 1 && record_code(&line[j..]).is_some() {
                cuts.push(j);
                i = j;
                continue;
            }
        }
        i += 1;
    }
    cuts.push(line.len());
    cuts.windows(2).map(|w| &line[w[0]..w[1]]).collect()
}

/// Header facts of the file and the current group.
#[derive(Default)]
struct FileReader {
    started: bool,
    done: bool,
    message_id: String,
    created_at: Option<NaiveDateTime>,
    file_warnings: Vec<String>,
    file_records: i64,
    groups: i64,
    group_totals: i64,
    group: Option<Group>,
    account: Option<AccountState>,
    statements: Vec<Statement>,
}

struct Group {
    first_statement: usize,
    originator: String,
    as_of: NaiveDate,
    currency: Option<Currency>,
    records: i64,
    accounts: i64,
    account_totals: i64,
}

struct AccountState {
    statement: Statement,
    records: i64,
    total: i64,
    line: usize,
}

impl FileReader {
    fn read(&mut self, record: &Record) -> Result<(), StatementError> {
        let unexpected = |expected| record.at(Problem::UnexpectedRecord { expected });
        if self.done {
            return Err(unexpected("nothing after the 99 file trailer"));
        }
        if !self.started && record.code != "01" {
            return Err(record.at(first_record()));
        }
        self.file_records += record.count();
        if let Some(group) = self.group.as_mut() {
            group.records += record.count();
        }
        if let Some(account) = self.account.as_mut() {
            account.records += record.count();
        }
        let in_group = self.group.is_some();
        let in_account = self.account.is_some();
        match record.code.as_str() {
            "01" if !self.started => self.file_header(record),
            "02" if self.started && !in_group => self.group_header(record),
            "03" if in_group && !in_account => self.account_header(record),
            "16" if in_account => self.transaction(record),
            "49" if in_account => self.account_trailer(record),
            "98" if in_group && !in_account => self.group_trailer(record),
            "99" if self.started && !in_group => self.file_trailer(record),
            "01" | "02" | "03" | "16" | "49" | "98" | "99" => {
                Err(unexpected(match (in_group, in_account) {
                    (_, true) => "16 transactions or the 49 account trailer",
                    (true, false) => "an 03 account header or the 98 group trailer",
                    (false, _) => "an 02 group header or the 99 file trailer",
                }))
            }
            code => Err(record.at(Problem::UnknownRecord {
                code: code.to_string(),
            })),
        }
    }

    fn file_header(&mut self, record: &Record) -> Result<(), StatementError> {
        let f = record.fields();
        let field = |i: usize| f.get(i).map_or("", String::as_str);
        self.started = true;
        self.message_id = format!("{}/{}", field(0), field(4));
        let date = amount::parse_yymmdd(field(2)).map_err(|p| record.at(p))?;
        match parse_time(field(3)) {
            Some(time) => self.created_at = Some(date.and_time(time)),
            None => self.file_warnings.push(format!(
                "line {} (01): creation time `{}` not understood: creation time left out",
                record.line,
                field(3)
            )),
        }
        Ok(())
    }

    fn group_header(&mut self, record: &Record) -> Result<(), StatementError> {
        let f = record.fields();
        let field = |i: usize| f.get(i).map_or("", String::as_str);
        let as_of = amount::parse_yymmdd(field(3)).map_err(|p| record.at(p))?;
        let currency = match field(5) {
            "" => None,
            code => Some(amount::currency(code).map_err(|p| record.at(p))?),
        };
        self.groups += 1;
        self.group = Some(Group {
            first_statement: self.statements.len(),
            originator: field(1).to_string(),
            as_of,
            currency,
            records: record.count(),
            accounts: 0,
            account_totals: 0,
        });
        Ok(())
    }

    fn account_header(&mut self, record: &Record) -> Result<(), StatementError> {
        let Some(group) = self.group.as_mut() else {
            return Err(record.at(Problem::UnexpectedRecord {
                expected: "an 02 group header before accounts",
            }));
        };
        let f = record.fields();
        let number = f.first().map_or("", String::as_str).to_string();
        let mut warnings = Vec::new();
        let currency = match (f.get(1).map_or("", String::as_str), group.currency) {
            ("", Some(currency)) => currency,
            ("", None) => {
                warnings.push(format!(
                    "line {} (03): no currency in the 02 or 03 record: amounts read as USD, the BAI2 default",
                    record.line
                ));
                Currency::USD
            }
            (code, _) => amount::currency(code).map_err(|p| record.at(p))?,
        };
        let summaries = summaries(record, &f[2.min(f.len())..], currency)?;
        let total = summaries.iter().map(|(_, m)| m.minor()).sum();
        let balance = |code: &str| {
            summaries
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, amount)| Balance {
                    amount: *amount,
                    date: group.as_of,
                })
        };
        let iban = is_valid_iban(&number).then(|| number.clone());
        let statement = Statement {
            format: Format::Bai2,
            message_id: self.message_id.clone(),
            statement_id: format!("{number}/{}", group.as_of),
            created_at: self.created_at,
            account: Account {
                other_id: iban.is_none().then(|| number.clone()),
                iban,
                name: None,
                servicer_bic: looks_like_bic(&group.originator).then(|| group.originator.clone()),
            },
            currency,
            opening_balance: balance("010"),
            closing_balance: balance("015"),
            entries: Vec::new(),
            warnings,
        };
        group.accounts += 1;
        self.account = Some(AccountState {
            statement,
            records: record.count(),
            total,
            line: record.line,
        });
        Ok(())
    }

    fn transaction(&mut self, record: &Record) -> Result<(), StatementError> {
        let Some(state) = self.account.as_mut() else {
            return Err(record.at(Problem::UnexpectedRecord {
                expected: "an 03 account header before transactions",
            }));
        };
        let as_of = self.group.as_ref().map(|g| g.as_of);
        let currency = state.statement.currency;
        match transaction(record, currency, as_of)? {
            Some(entry) => {
                state.total += entry.amount.minor();
                state.statement.entries.push(entry);
            }
            None => state.statement.warnings.push(format!(
                "line {} (16): type 890 (non-monetary information) skipped",
                record.line
            )),
        }
        Ok(())
    }

    fn account_trailer(&mut self, record: &Record) -> Result<(), StatementError> {
        let Some(mut state) = self.account.take() else {
            return Ok(());
        };
        let f = record.fields();
        let declared = control_total(record, f.first())?;
        let declared_count = f.get(1).and_then(|c| c.parse::<i64>().ok());
        let at = format!(
            "line {} (49) for the account on line {}",
            record.line, state.line
        );
        check(
            &mut state.statement.warnings,
            &at,
            "control total",
            declared,
            state.total,
        );
        if let Some(count) = declared_count {
            check(
                &mut state.statement.warnings,
                &at,
                "record count",
                count,
                state.records,
            );
        }
        if let Some(group) = self.group.as_mut() {
            group.account_totals += declared;
        }
        state.statement.check_balance();
        self.statements.push(state.statement);
        Ok(())
    }

    fn group_trailer(&mut self, record: &Record) -> Result<(), StatementError> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        let f = record.fields();
        let declared = control_total(record, f.first())?;
        let mut warnings = Vec::new();
        let at = format!("line {} (98)", record.line);
        check(
            &mut warnings,
            &at,
            "group control total",
            declared,
            group.account_totals,
        );
        let counts = [
            ("number of accounts", 1, group.accounts),
            ("record count", 2, group.records),
        ];
        for (what, index, computed) in counts {
            if let Some(n) = f.get(index).and_then(|c| c.parse::<i64>().ok()) {
                check(&mut warnings, &at, what, n, computed);
            }
        }
        for statement in &mut self.statements[group.first_statement..] {
            statement.warnings.extend(warnings.iter().cloned());
        }
        self.group_totals += declared;
        Ok(())
    }

    fn file_trailer(&mut self, record: &Record) -> Result<(), StatementError> {
        let f = record.fields();
        let declared = control_total(record, f.first())?;
        let at = format!("line {} (99)", record.line);
        let mut warnings = std::mem::take(&mut self.file_warnings);
        check(
            &mut warnings,
            &at,
            "file control total",
            declared,
            self.group_totals,
        );
        let counts = [
            ("number of groups", 1, self.groups),
            ("record count", 2, self.file_records),
        ];
        for (what, index, computed) in counts {
            if let Some(n) = f.get(index).and_then(|c| c.parse::<i64>().ok()) {
                check(&mut warnings, &at, what, n, computed);
            }
        }
        for statement in &mut self.statements {
            statement.warnings.extend(warnings.iter().cloned());
        }
        self.done = true;
        Ok(())
    }

    fn finish(self, last: Option<&Record>) -> Result<Vec<Statement>, StatementError> {
        if !self.done {
            let line = last.map_or(1, |r| r.line);
            return Err(StatementError::at_line(
                line,
                "",
                Problem::UnexpectedRecord {
                    expected: "a 99 file trailer at the end of the file",
                },
            ));
        }
        if self.statements.is_empty() {
            return Err(StatementError::NoStatement {
                format: "BAI2",
                detail: "expected an 03 account record",
            });
        }
        Ok(self.statements)
    }
}

fn check(warnings: &mut Vec<String>, at: &str, what: &str, declared: i64, computed: i64) {
    if declared != computed {
        warnings.push(format!(
            "{at}: {what} {declared} does not match the computed {computed}"
        ));
    }
}

fn control_total(record: &Record, field: Option<&String>) -> Result<i64, StatementError> {
    match field.map(String::as_str) {
        None | Some("") => Ok(0),
        Some(text) => parse_minor_units(text, Currency::USD)
            .map(|m| m.minor())
            .map_err(|p| record.at(p)),
    }
}

/// `HHMM` (2400 and 9999 mean end of day) or `HH:MM:SS`.
fn parse_time(text: &str) -> Option<NaiveTime> {
    match text {
        "2400" | "9999" => NaiveTime::from_hms_opt(23, 59, 59),
        t if t.len() == 4 => NaiveTime::parse_from_str(t, "%H%M").ok(),
        t => NaiveTime::parse_from_str(t, "%H:%M:%S").ok(),
    }
}

/// The summary and status amounts of an 03 record: `(type code, amount)`.
fn summaries(
    record: &Record,
    fields: &[String],
    currency: Currency,
) -> Result<Vec<(String, Money)>, StatementError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let code = &fields[i];
        let amount_text = fields.get(i + 1).map_or("", String::as_str);
        let funds = fields.get(i + 3).map_or("", String::as_str);
        let extra = funds_extra(record, funds, fields.get(i + 4))?;
        if !code.is_empty() && !amount_text.is_empty() {
            let amount = parse_minor_units(amount_text, currency).map_err(|p| record.at(p))?;
            out.push((code.clone(), amount));
        }
        i += 4 + extra;
    }
    Ok(out)
}

/// Fields that follow a funds type.
fn funds_extra(
    record: &Record,
    funds: &str,
    next: Option<&String>,
) -> Result<usize, StatementError> {
    match funds {
        "" | "0" | "1" | "2" | "Z" => Ok(0),
        "V" => Ok(2),
        "S" => Ok(3),
        "D" => {
            let n: usize = next.and_then(|n| n.parse().ok()).ok_or_else(|| {
                record.at(Problem::MalformedField {
                    value: next.cloned().unwrap_or_default(),
                    expected: "the number of distributions after funds type D",
                })
            })?;
            Ok(1 + 2 * n)
        }
        other => Err(record.at(Problem::InvalidCode {
            value: other.to_string(),
            expected: "a funds type 0, 1, 2, V, S, D or Z",
        })),
    }
}

/// The comma-separated fields of a 16 record, read one at a time: the last field, the text,
/// may itself contain commas.
struct Fields<'t> {
    rest: Option<&'t str>,
}

impl<'t> Fields<'t> {
    fn next(&mut self) -> &'t str {
        let Some(rest) = self.rest else { return "" };
        match rest.split_once(',') {
            Some((field, tail)) => {
                self.rest = Some(tail);
                field.trim()
            }
            None => {
                self.rest = None;
                strip_terminator(rest).trim()
            }
        }
    }

    fn skip(&mut self, n: usize) {
        for _ in 0..n {
            self.next();
        }
    }

    fn remainder(self) -> &'t str {
        self.rest.map(strip_terminator).unwrap_or("")
    }
}

/// Direction of a transaction type code; `None` for 890, non-monetary information.
fn direction(code: &str, record: &Record) -> Result<Option<Direction>, StatementError> {
    match code.parse::<u16>() {
        Ok(890) => Ok(None),
        Ok(100..=399 | 920..=959) if code.len() == 3 => Ok(Some(Direction::Credit)),
        Ok(400..=699 | 980..=999) if code.len() == 3 => Ok(Some(Direction::Debit)),
        _ => Err(record.at(Problem::NoDirection {
            code: code.to_string(),
        })),
    }
}

/// Reads past the funds-availability fields; returns the value date of funds type V.
fn value_date(
    fields: &mut Fields<'_>,
    funds: &str,
    record: &Record,
) -> Result<Option<NaiveDate>, StatementError> {
    match funds {
        "V" => {
            let date = amount::parse_yymmdd(fields.next()).map_err(|p| record.at(p))?;
            fields.skip(1);
            Ok(Some(date))
        }
        "D" => {
            let count = fields.next();
            let n: usize = count.parse().map_err(|_| {
                record.at(Problem::MalformedField {
                    value: count.to_string(),
                    expected: "the number of distributions after funds type D",
                })
            })?;
            fields.skip(2 * n);
            Ok(None)
        }
        other => {
            fields.skip(funds_extra(record, other, None)?);
            Ok(None)
        }
    }
}

/// A 16 record; `None` for non-monetary information (type 890).
fn transaction(
    record: &Record,
    currency: Currency,
    as_of: Option<NaiveDate>,
) -> Result<Option<Entry>, StatementError> {
    let mut fields = Fields {
        rest: Some(record.body.trim_end()),
    };
    let code = fields.next();
    let Some(direction) = direction(code, record)? else {
        return Ok(None);
    };
    let amount_text = fields.next();
    if amount_text.starts_with(['-', '+']) {
        return Err(record.at(Problem::MalformedAmount {
            value: amount_text.to_string(),
            expected: "unsigned digits in minor units",
        }));
    }
    let amount = parse_minor_units(amount_text, currency).map_err(|p| record.at(p))?;
    let funds = fields.next();
    let value_date = value_date(&mut fields, funds, record)?;
    let bank_ref = fields.next();
    let customer_ref = fields.next();
    let mut tx = Transaction::bare(amount, direction);
    tx.instruction_id = reference(customer_ref);
    tx.remittance_unstructured
        .extend(non_empty(fields.remainder()));
    for more in &record.continuations {
        tx.remittance_unstructured
            .extend(non_empty(strip_terminator(more)));
    }
    tx.add_rf_references_from_text();
    Ok(Some(Entry {
        amount,
        direction,
        status: Status::Booked,
        booking_date: as_of,
        value_date,
        reversal: false,
        bank_reference: reference(bank_ref),
        bank_transaction_code: Some(code.to_string()),
        transactions: vec![tx],
    }))
}
