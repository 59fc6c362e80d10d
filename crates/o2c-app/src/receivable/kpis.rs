//! Key figures of receivables and the collector's worklist.
//!
//! - DSO by the countback method: today's receivables are matched against each month's credit
//!   sales going back, whole months counting their days, the last one its share.
//! - Average days to pay per customer: from invoice date to each application of cash, weighted
//!   by amount, over the last 12 months.
//! - CEI (collection effectiveness index) over the last `days`: (receivables at the start +
//!   credit sales − receivables now) / (receivables at the start + credit sales − current
//!   receivables now) × 100.
//! - Disputes: how many by status, and the mean days from raised to settled.
//! - Worklist: customers with overdue items, ranked by risk weight × overdue amount × average
//!   days overdue, read from the open-item aggregates.

use super::aging::days_between;
use crate::error::Result;
use chrono::{Datelike, NaiveDate};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Kpis {
    pub as_of: String,
    pub per_currency: Vec<CurrencyKpis>,
    pub days_to_pay: Vec<CustomerDaysToPay>,
    pub disputes: DisputeFigures,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrencyKpis {
    pub currency: String,
    pub receivables: Money,
    pub overdue: Money,
    /// Countback DSO in days (one decimal).
    pub dso_days: f64,
    /// Collection effectiveness index, percent, over `cei_days`.
    pub cei_percent: Option<f64>,
    pub cei_days: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerDaysToPay {
    pub customer_id: String,
    pub name: String,
    pub average_days_to_pay: f64,
    pub payments: i64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct DisputeFigures {
    pub open: i64,
    pub under_review: i64,
    pub resolved: i64,
    pub rejected: i64,
    pub average_cycle_days: Option<f64>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn cur(s: &str) -> Result<Currency> {
    Ok(Currency::parse(s).map_err(DomainError::money("currency"))?)
}

pub fn kpis(conn: &mut dyn Conn, as_of: NaiveDate, cei_days: i64) -> Result<Kpis> {
    let today = as_of.to_string();
    let start = (as_of - chrono::Days::new(cei_days.max(1) as u64)).to_string();
    let mut per_currency = Vec::new();
    let open = conn.query(
        "SELECT currency, CAST(SUM(open_minor) AS BIGINT), CAST(SUM(CASE WHEN due_on < $1 THEN open_minor ELSE 0 END) AS BIGINT)
         FROM receivable_open_totals GROUP BY currency ORDER BY currency",
        params![today.as_str()],
    )?;
    for r in open {
        let c = cur(&r.text(0))?;
        let (ar, overdue) = (r.int(1), r.int(2));
        // Credit sales per month, newest first, for the countback.
        let sales = conn.query(
            "SELECT substr(issued_on, 1, 7), CAST(SUM(gross_minor) AS BIGINT) FROM invoices
             WHERE currency = $1 AND kind = 'invoice' AND issued_on <= $2 GROUP BY 1 ORDER BY 1 DESC LIMIT 36",
            params![c.code(), today.as_str()],
        )?;
        let mut left = ar as f64;
        let mut dso = 0.0;
        for m in sales {
            if left <= 0.0 {
                break;
            }
            let month = NaiveDate::parse_from_str(&format!("{}-01", m.text(0)), "%Y-%m-%d")
                .map_err(|e| crate::AppError::Internal(e.to_string()))?;
            // The current month counts only the days so far.
            let days = if month.year() == as_of.year() && month.month() == as_of.month() {
                f64::from(as_of.day())
            } else {
                let next = month + chrono::Months::new(1);
                (next - month).num_days() as f64
            };
            let s = m.int(1) as f64;
            if s <= 0.0 {
                dso += days;
                continue;
            }
            if left >= s {
                dso += days;
                left -= s;
            } else {
                dso += days * left / s;
                left = 0.0;
            }
        }
        // Receivables at the start: the control account's balance then, in this currency.
        let begin = conn
            .query_one(
                "SELECT CAST(COALESCE(SUM(l.amount_minor), 0) AS BIGINT) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
                 WHERE l.account = '1100' AND l.currency = $1 AND e.posted_at < $2",
                params![c.code(), start.as_str()],
            )?
            .int(0);
        let credit_sales = conn
            .query_one(
                "SELECT CAST(COALESCE(SUM(gross_minor), 0) AS BIGINT) FROM invoices WHERE currency = $1 AND kind = 'invoice' AND issued_on >= $2 AND issued_on <= $3",
                params![c.code(), start.get(..10).unwrap_or(&start), today.as_str()],
            )?
            .int(0);
        let current = ar - overdue;
        let denominator = (begin + credit_sales - current) as f64;
        let cei = (denominator > 0.0)
            .then(|| round1(100.0 * (begin + credit_sales - ar) as f64 / denominator));
        per_currency.push(CurrencyKpis {
            currency: c.code().to_string(),
            receivables: Money::new(ar, c),
            overdue: Money::new(overdue, c),
            dso_days: round1(dso),
            cei_percent: cei,
            cei_days,
        });
    }
    let year_ago = (as_of - chrono::Days::new(365)).to_string();
    let mut acc: BTreeMap<String, (String, f64, f64, i64)> = BTreeMap::new();
    for r in conn.query(
        "SELECT i.customer_id, c.name, i.issued_on, a.applied_at, a.amount_minor FROM payment_applications a
         JOIN invoices i ON i.id = a.invoice_id JOIN customers c ON c.id = i.customer_id
         WHERE a.applied_at >= $1 ORDER BY i.customer_id",
        params![year_ago.as_str()],
    )? {
        let paid_on = NaiveDate::parse_from_str(r.text(3).get(..10).unwrap_or(""), "%Y-%m-%d").map_err(|e| crate::AppError::Internal(e.to_string()))?;
        let days = days_between(&r.text(2), paid_on)? as f64;
        let w = r.int(4) as f64;
        let e = acc.entry(r.text(0)).or_insert_with(|| (r.text(1), 0.0, 0.0, 0));
        e.1 += days * w;
        e.2 += w;
        e.3 += 1;
    }
    let days_to_pay = acc
        .into_iter()
        .filter(|(_, v)| v.2 > 0.0)
        .map(|(id, (name, dw, w, n))| CustomerDaysToPay {
            customer_id: id,
            name,
            average_days_to_pay: round1(dw / w),
            payments: n,
        })
        .collect();
    let mut disputes = DisputeFigures::default();
    for r in conn.query("SELECT status, COUNT(*) FROM disputes GROUP BY status", &[])? {
        match r.text(0).as_str() {
            "open" => disputes.open = r.int(1),
            "under_review" => disputes.under_review = r.int(1),
            "resolved" => disputes.resolved = r.int(1),
            _ => disputes.rejected = r.int(1),
        }
    }
    let (mut sum, mut n) = (0.0, 0);
    for r in conn.query(
        "SELECT created_at, resolved_at FROM disputes WHERE resolved_at IS NOT NULL",
        &[],
    )? {
        if let (Some(a), Some(b)) = (
            super::disputes::parse_ts(&r.text(0)),
            super::disputes::parse_ts(&r.text(1)),
        ) {
            sum += (b - a).num_seconds() as f64 / 86_400.0;
            n += 1;
        }
    }
    disputes.average_cycle_days = (n > 0).then(|| round1(sum / n as f64));
    Ok(Kpis {
        as_of: today,
        per_currency,
        days_to_pay,
        disputes,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct WorklistEntry {
    pub customer_id: String,
    pub name: String,
    pub risk_class: String,
    pub overdue: Money,
    pub average_days_overdue: f64,
    pub oldest_due_on: String,
    /// risk weight × overdue (major units) × average days overdue.
    pub score: f64,
    pub in_collection: bool,
    pub open_disputes: i64,
    pub open_tasks: i64,
}

/// Customers with anything overdue, highest score first.
pub fn worklist(conn: &mut dyn Conn, as_of: NaiveDate, limit: usize) -> Result<Vec<WorklistEntry>> {
    let today = as_of.to_string();
    let rows = conn.query(
        "SELECT a.customer_id, a.currency, a.overdue, a.oldest, 0, c.name, c.risk_class, c.in_collection,
                (SELECT COUNT(*) FROM disputes d WHERE d.customer_id = a.customer_id AND d.status IN ('open', 'under_review')),
                (SELECT COUNT(*) FROM collection_tasks t WHERE t.customer_id = a.customer_id AND t.status = 'open')
         FROM (SELECT customer_id, currency, CAST(SUM(open_minor) AS BIGINT) AS overdue, MIN(due_on) AS oldest
               FROM receivable_open WHERE due_on < $1 GROUP BY customer_id, currency) a
         JOIN customers c ON c.id = a.customer_id",
        params![today.as_str()],
    )?;
    // Days are weighted in Rust from the per-date rows of the customers that have overdue items.
    let mut out = Vec::new();
    for r in rows {
        let c = cur(&r.text(1))?;
        let id = r.text(0);
        let mut weighted = 0f64;
        for d in conn.query(
            "SELECT due_on, open_minor FROM receivable_open WHERE customer_id = $1 AND currency = $2 AND due_on < $3",
            params![id.as_str(), c.code(), today.as_str()],
        )? {
            weighted += days_between(&d.text(0), as_of)? as f64 * d.int(1) as f64;
        }
        let overdue = r.int(2);
        let avg = if overdue > 0 {
            weighted / overdue as f64
        } else {
            0.0
        };
        let risk = r.text(6);
        let weight = match risk.as_str() {
            "low" => 1.0,
            "medium" => 2.0,
            "high" => 3.0,
            _ => 4.0,
        };
        let major = overdue as f64 / 10f64.powi(i32::from(c.exponent()));
        out.push(WorklistEntry {
            customer_id: id,
            name: r.text(5),
            risk_class: risk,
            overdue: Money::new(overdue, c),
            average_days_overdue: round1(avg),
            oldest_due_on: r.text(3),
            score: round1(weight * major * avg),
            in_collection: r.int(7) != 0,
            open_disputes: r.int(8),
            open_tasks: r.int(9),
        });
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    out.truncate(limit);
    Ok(out)
}
