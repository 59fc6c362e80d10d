//! Statement import: a file in, its lines stored once and booked to unidentified receipts.

use super::normalize_account;
use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use crate::{fx, ledger};
use o2c_bank::{Direction, Statement, StatementError, Status};
use o2c_core::DomainError;
use o2c_core::id::{BankAccountId, BankStatementId, BankTransactionId};
use o2c_store::{Conn, Value, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// What one import did, per statement.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub file_sha256: String,
    pub statements: Vec<StatementReport>,
    /// Incoming lines stored now (each waits for matching).
    pub new_lines: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementReport {
    /// Present when stored (now or by an earlier import).
    pub id: Option<String>,
    pub format: String,
    pub account: String,
    pub currency: String,
    pub statement_id: String,
    /// Already imported: nothing was written for it.
    pub duplicate: bool,
    pub entries: usize,
    /// Incoming lines stored now.
    pub credits: usize,
    /// Outgoing lines stored now (not ours to apply; kept for the record).
    pub debits: usize,
    /// Lines a previous statement or notification already brought (same bank reference).
    pub lines_already_known: usize,
    /// Pending or informational entries, not booked.
    pub not_booked: usize,
    pub warnings: Vec<String>,
}

/// Reads a statement file: the format from its content, CSV with the saved mapping.
pub fn parse(conn: &mut dyn Conn, bytes: &[u8]) -> Result<Vec<Statement>> {
    let parsed = match o2c_bank::parse(bytes) {
        Err(StatementError::CsvMappingRequired) => match super::csv_mapping(conn)? {
            Some(m) => o2c_bank::parse_csv(bytes, &m),
            None => Err(StatementError::CsvMappingRequired),
        },
        other => other,
    };
    parsed.map_err(statement_error)
}

fn statement_error(e: StatementError) -> crate::error::AppError {
    match e {
        StatementError::UnknownFormat
        | StatementError::UnsupportedXmlMessage { .. }
        | StatementError::XmlWithoutNamespace { .. } => {
            DomainError::UnknownStatementFormat(e.to_string()).into()
        }
        StatementError::CsvMappingRequired => DomainError::UnknownStatementFormat(
            "a CSV statement needs a saved column mapping: PUT /api/v1/cash/csv-mapping".into(),
        )
        .into(),
        other => DomainError::MalformedStatement(other.to_string()).into(),
    }
}

/// Stores every statement of a file and books its incoming lines, in the caller's transaction:
/// all of it, or (on any error) nothing.
pub fn import_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    bytes: &[u8],
    source: &str,
) -> Result<ImportReport> {
    let statements = parse(conn, bytes)?;
    let sha = hex(&Sha256::digest(bytes));
    let functional = fx::functional_currency(conn)?;
    let mut report = ImportReport {
        file_sha256: sha.clone(),
        statements: Vec::new(),
        new_lines: 0,
    };
    for (si, st) in statements.iter().enumerate() {
        let account_key = account_key(st, si)?;
        let account_id = bank_account(conn, ctx, st, &account_key)?;
        let mut r = StatementReport {
            id: None,
            format: st.format.name().to_string(),
            account: account_key.clone(),
            currency: st.currency.code().to_string(),
            statement_id: st.statement_id.clone(),
            duplicate: false,
            entries: st.entries.len(),
            credits: 0,
            debits: 0,
            lines_already_known: 0,
            not_booked: 0,
            warnings: st.warnings.clone(),
        };
        if let Some(existing) = conn.query_opt(
            "SELECT id FROM bank_statements WHERE bank_account_id = $1 AND message_id = $2 AND statement_id = $3",
            params![account_id.as_str(), st.message_id.as_str(), st.statement_id.as_str()],
        )? {
            r.id = Some(existing.text(0));
            r.duplicate = true;
            report.statements.push(r);
            continue;
        }
        let sid = BankStatementId::generate(ctx.ids.as_ref());
        conn.execute(
            "INSERT INTO bank_statements (id, bank_account_id, format, message_id, statement_id, currency, opening_minor, closing_minor, closing_on, file_sha256, source, warnings, imported_at, imported_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            params![
                sid.as_str(),
                account_id.as_str(),
                st.format.name(),
                st.message_id.as_str(),
                st.statement_id.as_str(),
                st.currency.code(),
                st.opening_balance.map(|b| b.amount.minor()),
                st.closing_balance.map(|b| b.amount.minor()),
                st.closing_balance.map(|b| b.date.to_string()),
                sha.as_str(),
                source,
                serde_json::to_string(&st.warnings)?,
                ctx.timestamp(),
                ctx.actor.to_string()
            ],
        )?;
        let mut rows: Vec<Vec<Value>> = Vec::new();
        for (ei, e) in st.entries.iter().enumerate() {
            if e.status != Status::Booked {
                r.not_booked += 1;
                continue;
            }
            let at = |what: &str| format!("statement {}, entry {}: {what}", si + 1, ei + 1);
            if e.amount.currency() != st.currency {
                return Err(DomainError::AccountCurrencyMismatch(at(&format!(
                    "an amount in {} on an account held in {}",
                    e.amount.currency(),
                    st.currency
                )))
                .into());
            }
            // An entry without dates counts on the statement's day.
            let value_on = e
                .value_date
                .or(e.booking_date)
                .or(st.closing_balance.map(|b| b.date))
                .or(st.created_at.map(|t| t.date()))
                .unwrap_or_else(|| ctx.today());
            if let Some(bank_ref) = &e.bank_reference
                && conn
                    .query_opt(
                        "SELECT 1 FROM bank_transactions WHERE bank_account_id = $1 AND bank_reference = $2 AND value_date = $3",
                        params![account_id.as_str(), bank_ref.as_str(), value_on.to_string()],
                    )?
                    .is_some()
            {
                r.lines_already_known += 1;
                continue;
            }
            let rate = fx::rate_on(conn, functional, st.currency, &value_on.to_string())?;
            for (ti, t) in e.transactions.iter().enumerate() {
                // A single payment may state the amount the payer instructed in its own
                // currency; what reached the account is the entry's amount.
                let single;
                let t = if t.amount.currency() != st.currency && e.transactions.len() == 1 {
                    single = o2c_bank::Transaction {
                        amount: e.amount,
                        ..t.clone()
                    };
                    &single
                } else {
                    t
                };
                if t.amount.currency() != st.currency {
                    return Err(DomainError::AccountCurrencyMismatch(at(&format!(
                        "transaction {} is in {}, the account in {}",
                        ti + 1,
                        t.amount.currency(),
                        st.currency
                    )))
                    .into());
                }
                // A reversed credit is money going out, and the other way round.
                let incoming = (t.direction == Direction::Credit) != e.reversal;
                let id = BankTransactionId::generate(ctx.ids.as_ref());
                let status = if incoming && t.amount.is_positive() {
                    r.credits += 1;
                    "unmatched"
                } else {
                    r.debits += 1;
                    "outgoing"
                };
                let mut remittance = t.remittance_unstructured.clone();
                if remittance.is_empty()
                    && let Some(info) = &t.additional_info
                {
                    remittance.push(info.clone());
                }
                let structured: Vec<&str> = t
                    .remittance_structured
                    .iter()
                    .map(|s| s.reference.as_str())
                    .collect();
                rows.push(vec![
                    id.as_str().into(),
                    sid.as_str().into(),
                    account_id.as_str().into(),
                    (ei as i64 + 1).into(),
                    (ti as i64 + 1).into(),
                    (if incoming { "credit" } else { "debit" }).into(),
                    t.amount.minor().into(),
                    st.currency.code().into(),
                    value_on.to_string().into(),
                    e.booking_date.map(|d| d.to_string()).into(),
                    t.counterparty_name.clone().into(),
                    t.counterparty_account
                        .as_deref()
                        .map(normalize_account)
                        .into(),
                    t.end_to_end_id.clone().into(),
                    e.bank_reference.clone().into(),
                    remittance.join("\n").into(),
                    serde_json::to_string(&structured)?.into(),
                    fx::to_column(rate).into(),
                    status.into(),
                    t.return_reason.clone().into(),
                ]);
                if status == "unmatched" {
                    let entry = o2c_core::ledger::bank_receipt(id.as_str(), t.amount)?.translate(
                        functional,
                        rate,
                        &[],
                    )?;
                    ledger::post(conn, ctx, &entry, None)?;
                }
            }
        }
        conn.insert_rows(
            "bank_transactions",
            &[
                "id",
                "statement_id",
                "bank_account_id",
                "entry_no",
                "tx_no",
                "direction",
                "amount_minor",
                "currency",
                "value_date",
                "booking_date",
                "counterparty_name",
                "counterparty_account",
                "end_to_end_id",
                "bank_reference",
                "remittance",
                "structured_refs",
                "fx_rate",
                "match_status",
                "return_reason",
            ],
            &rows,
        )?;
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::BankStatementImported,
                aggregate_type: "bank_statement",
                aggregate_id: sid.as_str(),
                order_id: None,
                customer_id: None,
                data: json!({"format": r.format, "account": r.account, "statement_id": r.statement_id, "credits": r.credits, "debits": r.debits, "source": source, "warnings": r.warnings}),
            },
        )?;
        report.new_lines += r.credits;
        r.id = Some(sid.to_string());
        report.statements.push(r);
    }
    Ok(report)
}

/// The statement's account as one key: its IBAN (else the bank's other identifier) and its
/// currency, since one IBAN may hold several currencies.
fn account_key(st: &Statement, index: usize) -> Result<String> {
    st.account
        .iban
        .as_deref()
        .or(st.account.other_id.as_deref())
        .map(|a| format!("{}/{}", normalize_account(a), st.currency))
        .ok_or_else(|| {
            DomainError::MalformedStatement(format!(
                "statement {}: no account identifier (IBAN or account number)",
                index + 1
            ))
            .into()
        })
}

/// Our account the statement is for, registered the first time it is seen. An account holds
/// one currency: a statement for it in another is refused.
fn bank_account(conn: &mut dyn Conn, ctx: &Ctx, st: &Statement, key: &str) -> Result<String> {
    if let Some(r) = conn.query_opt(
        "SELECT id, currency FROM bank_accounts WHERE account_key = $1",
        params![key],
    )? {
        if r.text(1) != st.currency.code() {
            return Err(DomainError::AccountCurrencyMismatch(format!(
                "account {key} holds {}; this statement is in {}",
                r.text(1),
                st.currency
            ))
            .into());
        }
        return Ok(r.text(0));
    }
    let id = BankAccountId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO bank_accounts (id, account_key, iban, other_id, name, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![id.as_str(), key, st.account.iban.as_deref(), st.account.other_id.as_deref(), st.account.name.as_deref(), st.currency.code(), ctx.timestamp()],
    )?;
    Ok(id.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
