//! Cash application: bank statements in, cash applied by itself.
//!
//! 1. [`import`] reads a statement file (`o2c_bank`: camt.053/054, MT940, BAI2, mapped CSV),
//!    stores each line once (a statement imported twice, or a line already seen in an earlier
//!    notification, changes nothing) and books every incoming line to unidentified receipts
//!    (`BANK_RECEIPT`), all in one transaction: a malformed file changes nothing.
//! 2. [`run`] loads the open items into the pure matcher (`o2c_core::matching`), asks it about
//!    each unmatched line, and books what it is sure of: the payment (`RECEIPT_IDENTIFIED`), its
//!    applications, discounts, write-offs and deductions. The rest waits in the exceptions queue
//!    with ranked suggestions and the reason.
//! 3. [`exceptions`] is the queue a person works: accept a suggestion, split by hand, or mark a
//!    line as not ours. Every decision teaches the payer's account and is in the audit trail.

pub mod apply;
pub mod camt_file;
pub mod clearing;
pub mod exceptions;
pub mod import;
pub mod remittance;
pub mod returned;
pub mod run;

use crate::context::Ctx;
use crate::error::Result;
use o2c_core::DomainError;
use o2c_core::matching::Policy;
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};

/// The cash-application policy as an administrator sets it (`PUT /api/v1/cash/policy`).
/// Scores are sums of evidence points (the strongest evidence together comes to about 1,700);
/// thresholds run from 0 to 1000; amounts are in minor units of the payment's currency.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CashPolicy {
    /// A candidate below this score is never applied without a person.
    pub auto_apply_score: u16,
    /// The best candidate must lead the runner-up by this much.
    pub min_margin: u16,
    /// A shortfall up to this amount (minor units) and this share (basis points) of what is due
    /// is written off.
    pub write_off_max_minor: i64,
    pub write_off_max_bp: i64,
    /// The ledger account write-offs go to (must be in the chart).
    pub write_off_account: String,
    /// A larger shortfall up to this share is a deduction (an open dispute item); beyond it the
    /// payment is partial.
    pub deduction_max_bp: i64,
    /// Overpayments up to this amount are credited to the customer's account automatically.
    pub overpayment_max_minor: i64,
    /// Days of bank float allowed after an early-payment discount date.
    pub discount_grace_days: u32,
}

impl Default for CashPolicy {
    fn default() -> CashPolicy {
        CashPolicy::from_policy(&Policy::default())
    }
}

impl CashPolicy {
    fn from_policy(p: &Policy) -> CashPolicy {
        CashPolicy {
            auto_apply_score: p.auto_apply_score,
            min_margin: p.min_margin,
            write_off_max_minor: p.write_off_max_minor,
            write_off_max_bp: p.write_off_max_bp,
            write_off_account: p.write_off_account.clone(),
            deduction_max_bp: p.deduction_max_bp,
            overpayment_max_minor: p.overpayment_max_minor,
            discount_grace_days: p.discount_grace_days,
        }
    }

    /// The matcher's policy: these settings over its defaults.
    pub fn to_policy(&self) -> Policy {
        Policy {
            auto_apply_score: self.auto_apply_score,
            min_margin: self.min_margin,
            write_off_max_minor: self.write_off_max_minor,
            write_off_max_bp: self.write_off_max_bp,
            write_off_account: self.write_off_account.clone(),
            deduction_max_bp: self.deduction_max_bp,
            overpayment_max_minor: self.overpayment_max_minor,
            discount_grace_days: self.discount_grace_days,
            ..Policy::default()
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |field: &str, why: &str| Err(DomainError::invalid(field, why).into());
        if self.auto_apply_score == 0 || self.auto_apply_score > 1000 {
            return bad("auto_apply_score", "expected 1 to 1000");
        }
        if self.min_margin > 1000 {
            return bad("min_margin", "expected 0 to 1000");
        }
        if self.write_off_max_minor < 0 || !(0..=10_000).contains(&self.write_off_max_bp) {
            return bad(
                "write_off_max_bp",
                "expected a non-negative amount and 0 to 10000 basis points",
            );
        }
        if !(0..=10_000).contains(&self.deduction_max_bp) {
            return bad("deduction_max_bp", "expected 0 to 10000 basis points");
        }
        if self.overpayment_max_minor < 0 {
            return bad("overpayment_max_minor", "must not be negative");
        }
        if o2c_core::ledger::account(&self.write_off_account).is_none() {
            let codes: Vec<&str> = o2c_core::ledger::CHART.iter().map(|a| a.code).collect();
            return bad(
                "write_off_account",
                &format!("not an account of the chart ({})", codes.join(", ")),
            );
        }
        Ok(())
    }
}

pub fn policy(conn: &mut dyn Conn) -> Result<CashPolicy> {
    match conn.query_opt("SELECT value FROM settings WHERE key = 'cash_policy'", &[])? {
        Some(r) => Ok(serde_json::from_str(&r.text(0))?),
        None => Ok(CashPolicy::default()),
    }
}

pub fn set_policy_in_tx(conn: &mut dyn Conn, ctx: &Ctx, p: CashPolicy) -> Result<CashPolicy> {
    p.check()?;
    let json = serde_json::to_string(&p)?;
    conn.execute("DELETE FROM settings WHERE key = 'cash_policy'", &[])?;
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('cash_policy', $1, $2)",
        params![json.as_str(), ctx.timestamp()],
    )?;
    Ok(p)
}

/// The saved column mapping for CSV statements (`PUT /api/v1/cash/csv-mapping`).
pub fn csv_mapping(conn: &mut dyn Conn) -> Result<Option<o2c_bank::CsvMapping>> {
    match conn.query_opt(
        "SELECT value FROM settings WHERE key = 'bank_csv_mapping'",
        &[],
    )? {
        Some(r) => Ok(Some(serde_json::from_str(&r.text(0))?)),
        None => Ok(None),
    }
}

pub fn set_csv_mapping_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    mapping: o2c_bank::CsvMapping,
) -> Result<o2c_bank::CsvMapping> {
    let json = serde_json::to_string(&mapping)?;
    conn.execute("DELETE FROM settings WHERE key = 'bank_csv_mapping'", &[])?;
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('bank_csv_mapping', $1, $2)",
        params![json.as_str(), ctx.timestamp()],
    )?;
    Ok(mapping)
}

/// Learns (or confirms) that `account` pays for `customer_id`. An account already learned for
/// another customer is moved only by a person's decision.
pub(crate) fn learn_payer(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    account: Option<&str>,
    customer_id: &str,
    learned_from: &str,
    by_person: bool,
) -> Result<()> {
    let Some(account) = account.map(normalize_account).filter(|a| a.len() >= 5) else {
        return Ok(());
    };
    let known = conn.query_opt(
        "SELECT customer_id FROM payer_accounts WHERE account = $1",
        params![account.as_str()],
    )?;
    match known {
        Some(r) if r.text(0) == customer_id => Ok(()),
        Some(_) if !by_person => Ok(()),
        _ => {
            conn.execute(
                "DELETE FROM payer_accounts WHERE account = $1",
                params![account.as_str()],
            )?;
            conn.execute(
                "INSERT INTO payer_accounts (account, customer_id, learned_from, learned_by, learned_at) VALUES ($1, $2, $3, $4, $5)",
                params![account.as_str(), customer_id, learned_from, ctx.actor.to_string(), ctx.timestamp()],
            )?;
            Ok(())
        }
    }
}

/// Accounts compare without spaces and case: `de89 3704…` is `DE893704…`.
pub fn normalize_account(a: &str) -> String {
    a.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}
