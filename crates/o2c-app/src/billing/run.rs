//! The billing run: one consolidated invoice per customer (and currency) for everything it had
//! dispatched and not yet billed up to the end of the period (`o2c billing run --period 2026-11`).
//! Each customer's invoice is its own transaction; a second run finds nothing left to bill.

use crate::App;
use crate::billing::BillingPolicy;
use crate::error::Result;
use crate::invoice;
use chrono::{Datelike, NaiveDate};
use o2c_core::{Actor, DomainError};
use o2c_store::params;
use serde::Serialize;

/// A billing period: a month `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub first_day: NaiveDate,
    /// The first day after the period.
    pub end: NaiveDate,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period> {
        let bad = || DomainError::invalid("period", "expected a month as YYYY-MM, such as 2026-11");
        let first_day = NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
            .map_err(|_| bad())?;
        let end = if first_day.month() == 12 {
            NaiveDate::from_ymd_opt(first_day.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(first_day.year(), first_day.month() + 1, 1)
        }
        .ok_or_else(bad)?;
        Ok(Period { first_day, end })
    }
    pub fn label(&self) -> String {
        format!("{:04}-{:02}", self.first_day.year(), self.first_day.month())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub period: String,
    pub customers: usize,
    pub invoices: Vec<String>,
    pub shipments_billed: usize,
    /// Customers whose invoice could not be issued, with the reason (nothing else is affected).
    pub failures: Vec<(String, String)>,
    pub dry_run: bool,
}

/// Customers billed consolidated with unbilled shipments dispatched before the period's end.
async fn due(app: &App, period: Period) -> Result<Vec<(String, Vec<String>)>> {
    let default_consolidated = app
        .read(|c| Ok(crate::billing::company(c)?.billing_policy == BillingPolicy::Consolidated))
        .await?;
    let end = period.end.to_string();
    app.read(move |c| {
        let rows = c.query(
            "SELECT s.customer_id, s.id FROM shipments s JOIN customers cu ON cu.id = s.customer_id
             WHERE s.invoice_id IS NULL AND s.dispatched_at IS NOT NULL AND s.dispatched_at < $1
               AND (cu.billing_policy = 'consolidated' OR (cu.billing_policy IS NULL AND $2 = 1))
             ORDER BY s.customer_id, s.dispatched_at, s.id",
            params![end.as_str(), i64::from(default_consolidated)],
        )?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in rows {
            let (cust, sid) = (r.text(0), r.text(1));
            match out.last_mut() {
                Some((c, v)) if *c == cust => v.push(sid),
                _ => out.push((cust, vec![sid])),
            }
        }
        Ok(out)
    })
    .await
}

pub async fn run(app: &App, actor: Actor, period: Period, dry_run: bool) -> Result<RunReport> {
    let work = due(app, period).await?;
    let mut report = RunReport {
        period: period.label(),
        customers: work.len(),
        invoices: Vec::new(),
        shipments_billed: 0,
        failures: Vec::new(),
        dry_run,
    };
    if dry_run {
        report.shipments_billed = work.iter().map(|w| w.1.len()).sum();
        return Ok(report);
    }
    // Every customer is its own job, many in flight so the writer commits them together (group
    // commit); one customer's problem (say a missing tax rate) leaves the others billed.
    let mut jobs = tokio::task::JoinSet::new();
    let mut work = work.into_iter();
    loop {
        while jobs.len() < 256 {
            let Some((customer, shipments)) = work.next() else {
                break;
            };
            let (app, actor) = (app.clone(), actor.clone());
            jobs.spawn(async move {
                let n = shipments.len();
                let cust = customer.clone();
                let r = app
                    .write(actor, move |c, ctx| {
                        invoice::issue_in_tx(c, ctx, &cust, &shipments, BillingPolicy::Consolidated)
                    })
                    .await;
                (customer, n, r)
            });
        }
        let Some(done) = jobs.join_next().await else {
            break;
        };
        let (customer, n, r) = done.map_err(|e| crate::AppError::Internal(e.to_string()))?;
        match r {
            Ok(Some(id)) => {
                report.invoices.push(id);
                report.shipments_billed += n;
            }
            Ok(None) => {}
            Err(e) => report.failures.push((customer, e.to_string())),
        }
    }
    report.invoices.sort();
    Ok(report)
}
