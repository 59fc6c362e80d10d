//! Posting journal entries and reading the books.

use crate::context::Ctx;
use crate::error::Result;
use o2c_core::id::JournalEntryId;
use o2c_core::ledger::{self, JournalEntry};
use o2c_store::{Conn, Value, params};
use serde::Serialize;

/// Writes a (necessarily balanced) entry in the caller's transaction.
pub fn post(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    entry: &JournalEntry,
    customer_id: Option<&str>,
) -> Result<()> {
    let id = JournalEntryId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO journal_entries (id, template, document_id, customer_id, currency, posted_at, functional_currency, fx_rate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![id.as_str(), entry.template().name(), entry.document_id(), customer_id, entry.currency().code(), ctx.timestamp(), entry.functional().code(), crate::fx::to_column(entry.rate())],
    )?;
    let rows: Vec<Vec<Value>> = entry
        .postings()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                id.as_str().into(),
                (i + 1).into(),
                p.account.into(),
                p.amount.currency().code().into(),
                p.amount.minor().into(),
                p.functional_minor.into(),
            ]
        })
        .collect();
    conn.insert_rows(
        "journal_lines",
        &[
            "entry_id",
            "line_no",
            "account",
            "currency",
            "amount_minor",
            "functional_minor",
        ],
        &rows,
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccountBalance {
    pub account: String,
    pub name: String,
    pub kind: String,
    pub currency: String,
    /// Debit positive, credit negative, in minor units.
    pub balance_minor: i64,
    pub balance: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TrialBalance {
    pub accounts: Vec<AccountBalance>,
    /// Per currency: the sum of all balances. Zero, always.
    pub totals: Vec<CurrencyTotal>,
    pub balanced: bool,
    /// Customer open items against the receivables control account, per currency.
    pub receivables: Vec<SubledgerCheck>,
    /// Unapplied cash on customers' accounts against the customer-credits account.
    pub unapplied_cash: Vec<SubledgerCheck>,
    /// Bank lines waiting for cash application against the unidentified-receipts account.
    pub unidentified_receipts: Vec<SubledgerCheck>,
    /// The same books in the functional currency, every currency translated at its rates.
    pub functional: FunctionalBooks,
}

impl TrialBalance {
    /// Balanced in every currency and in the functional currency, and every subledger agrees
    /// with its control account.
    pub fn is_sound(&self) -> bool {
        self.balanced
            && self.receivables.iter().all(|c| c.matches)
            && self.unapplied_cash.iter().all(|c| c.matches)
            && self.unidentified_receipts.iter().all(|c| c.matches)
            && self.functional.balanced
            && self.functional.unidentified_receipts.matches
            && self.functional.receivables.matches
            && self.functional.unapplied_cash.matches
    }
}

/// The ledger in the functional currency: what the financial statements are drawn from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FunctionalBooks {
    pub currency: String,
    pub accounts: Vec<FunctionalBalance>,
    pub total_minor: i64,
    pub balanced: bool,
    /// Open items, each translated at its invoice's rate, against the receivables account.
    pub receivables: SubledgerCheck,
    /// Unapplied cash, each payment at its own rate, against the customer-credits account.
    pub unapplied_cash: SubledgerCheck,
    /// Waiting bank lines, each at its value date's rate, against unidentified receipts.
    pub unidentified_receipts: SubledgerCheck,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FunctionalBalance {
    pub account: String,
    pub name: String,
    pub balance_minor: i64,
    pub balance: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CurrencyTotal {
    pub currency: String,
    pub total_minor: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SubledgerCheck {
    pub currency: String,
    pub subledger_minor: i64,
    pub control_account_minor: i64,
    pub matches: bool,
}

fn exponent_of(currency: &str) -> u8 {
    o2c_core::Currency::parse(currency)
        .map(|c| c.exponent())
        .unwrap_or(2)
}

pub fn trial_balance(conn: &mut dyn Conn) -> Result<TrialBalance> {
    let rows = conn.query(
        "SELECT account, currency, CAST(SUM(amount_minor) AS BIGINT) FROM journal_lines GROUP BY account, currency ORDER BY account, currency",
        params![],
    )?;
    let accounts: Vec<AccountBalance> = rows
        .iter()
        .map(|r| {
            let code = r.text(0);
            let acct = ledger::account(&code);
            let currency = r.text(1);
            let minor = r.int(2);
            AccountBalance {
                name: acct.map_or("unknown account", |a| a.name).to_string(),
                kind: acct.map_or("unknown".into(), |a| {
                    serde_json::to_value(a.kind)
                        .unwrap()
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                }),
                account: code,
                balance: o2c_core::money::decimal_string(minor, exponent_of(&currency)),
                currency,
                balance_minor: minor,
            }
        })
        .collect();
    let mut totals: Vec<CurrencyTotal> = Vec::new();
    for a in &accounts {
        match totals.iter_mut().find(|t| t.currency == a.currency) {
            Some(t) => t.total_minor += a.balance_minor,
            None => totals.push(CurrencyTotal {
                currency: a.currency.clone(),
                total_minor: a.balance_minor,
            }),
        }
    }
    let balance_of = |code: &str, currency: &str| {
        accounts
            .iter()
            .find(|a| a.account == code && a.currency == currency)
            .map_or(0, |a| a.balance_minor)
    };
    let checks =
        |conn: &mut dyn Conn, sql: &str, account: &str, sign: i64| -> Result<Vec<SubledgerCheck>> {
            let mut out: Vec<SubledgerCheck> = conn
                .query(sql, params![])?
                .iter()
                .map(|r| {
                    let currency = r.text(0);
                    let control = sign * balance_of(account, &currency);
                    SubledgerCheck {
                        subledger_minor: r.int(1),
                        control_account_minor: control,
                        matches: r.int(1) == control,
                        currency,
                    }
                })
                .collect();
            for a in accounts
                .iter()
                .filter(|a| a.account == account && a.balance_minor != 0)
            {
                if !out.iter().any(|c| c.currency == a.currency) {
                    out.push(SubledgerCheck {
                        currency: a.currency.clone(),
                        subledger_minor: 0,
                        control_account_minor: sign * a.balance_minor,
                        matches: false,
                    });
                }
            }
            Ok(out)
        };
    let receivables = checks(
        conn,
        "SELECT currency, CAST(SUM(open_minor) AS BIGINT) FROM invoices GROUP BY currency ORDER BY currency",
        ledger::ACCOUNTS_RECEIVABLE.code,
        1,
    )?;
    let unapplied_cash = checks(
        conn,
        "SELECT currency, CAST(SUM(unapplied_minor) AS BIGINT) FROM payments GROUP BY currency ORDER BY currency",
        ledger::CUSTOMER_CREDITS.code,
        -1,
    )?;
    let unidentified_receipts = checks(
        conn,
        "SELECT currency, CAST(SUM(amount_minor) AS BIGINT) FROM bank_transactions WHERE match_status IN ('unmatched', 'exception') GROUP BY currency ORDER BY currency",
        ledger::UNIDENTIFIED_RECEIPTS.code,
        -1,
    )?;
    let balanced = totals.iter().all(|t| t.total_minor == 0);
    let functional = functional_books(conn)?;
    Ok(TrialBalance {
        accounts,
        totals,
        balanced: balanced && functional.balanced,
        receivables,
        unapplied_cash,
        unidentified_receipts,
        functional,
    })
}

fn functional_books(conn: &mut dyn Conn) -> Result<FunctionalBooks> {
    let functional = crate::fx::functional_currency(conn)?;
    let exponent = functional.exponent();
    let accounts: Vec<FunctionalBalance> = conn
        .query(
            "SELECT account, CAST(SUM(functional_minor) AS BIGINT) FROM journal_lines GROUP BY account ORDER BY account",
            params![],
        )?
        .iter()
        .map(|r| {
            let code = r.text(0);
            FunctionalBalance {
                name: ledger::account(&code)
                    .map_or("unknown account", |a| a.name)
                    .to_string(),
                account: code,
                balance_minor: r.int(1),
                balance: o2c_core::money::decimal_string(r.int(1), exponent),
            }
        })
        .collect();
    let total_minor = accounts.iter().map(|a| a.balance_minor).sum();
    let control = |code: &str| {
        accounts
            .iter()
            .find(|a| a.account == code)
            .map_or(0, |a| a.balance_minor)
    };
    // Items in the functional currency add up in the database; the few in other currencies
    // are translated one by one, exactly as their postings were.
    let mut translated = |sql_plain: &str, sql_foreign: &str| -> Result<i64> {
        let mut sum = conn
            .query_one(sql_plain, params![])?
            .opt_int(0)
            .unwrap_or(0);
        for r in conn.query(sql_foreign, params![])? {
            let cur = o2c_core::Currency::parse(&r.text(0))?;
            let rate = crate::fx::stored(r.opt_text(1))?;
            sum += rate.to_functional(r.int(2), cur, functional)?;
        }
        Ok(sum)
    };
    let open = translated(
        "SELECT CAST(SUM(open_minor) AS BIGINT) FROM invoices WHERE fx_rate IS NULL",
        "SELECT currency, fx_rate, open_minor FROM invoices WHERE fx_rate IS NOT NULL AND open_minor <> 0",
    )?;
    let unapplied = translated(
        "SELECT CAST(SUM(unapplied_minor) AS BIGINT) FROM payments WHERE fx_rate IS NULL",
        "SELECT currency, fx_rate, unapplied_minor FROM payments WHERE fx_rate IS NOT NULL AND unapplied_minor <> 0",
    )?;
    let waiting = translated(
        "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM bank_transactions WHERE fx_rate IS NULL AND match_status IN ('unmatched', 'exception')",
        "SELECT currency, fx_rate, amount_minor FROM bank_transactions WHERE fx_rate IS NOT NULL AND match_status IN ('unmatched', 'exception')",
    )?;
    let check = |subledger_minor: i64, control_account_minor: i64| SubledgerCheck {
        currency: functional.code().to_string(),
        subledger_minor,
        control_account_minor,
        matches: subledger_minor == control_account_minor,
    };
    Ok(FunctionalBooks {
        currency: functional.code().to_string(),
        receivables: check(open, control(ledger::ACCOUNTS_RECEIVABLE.code)),
        unapplied_cash: check(unapplied, -control(ledger::CUSTOMER_CREDITS.code)),
        unidentified_receipts: check(waiting, -control(ledger::UNIDENTIFIED_RECEIPTS.code)),
        balanced: total_minor == 0,
        accounts,
        total_minor,
    })
}
