//! Open items and aging. Totals and per-customer figures come from the aggregates that the
//! `invoices` triggers keep current (`receivable_open`, `receivable_open_totals`: migration 12),
//! so a report sums a few rows per date instead of scanning every item; the item list (with each
//! item's reason for being unpaid) reads the open-invoice index, for one customer or all.

use crate::error::Result;
use chrono::NaiveDate;
use o2c_core::receivable::{AgingBasis, AgingBuckets, ItemFacts, UnpaidReason, unpaid_reason};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Value};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct AgingQuery {
    pub as_of: NaiveDate,
    pub basis: AgingBasis,
    pub buckets: AgingBuckets,
    /// One customer (its figures and its items).
    pub customer_id: Option<String>,
    /// List the open items too (always for one customer).
    pub items: bool,
    /// Leave out the per-customer rows (the company-wide totals only).
    pub totals_only: bool,
    /// The application's today: no item is issued later, so an as-of day from today on needs
    /// no issue-date filter. Unknown (the default): always filter.
    pub today: NaiveDate,
}

impl AgingQuery {
    pub fn new(as_of: NaiveDate) -> AgingQuery {
        AgingQuery {
            as_of,
            basis: AgingBasis::DueDate,
            buckets: AgingBuckets::default(),
            customer_id: None,
            items: false,
            totals_only: false,
            today: NaiveDate::MAX,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AgingReport {
    pub as_of: String,
    pub basis: AgingBasis,
    pub buckets: Vec<String>,
    /// Per currency, company-wide (or the one customer's).
    pub totals: Vec<AgingRow>,
    pub customers: Vec<CustomerAging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<OpenItem>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgingRow {
    pub currency: String,
    /// One amount per bucket, in the order of `buckets`.
    pub amounts: Vec<Money>,
    pub total: Money,
    /// Everything past due (all buckets but "current").
    pub overdue: Money,
    pub items: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerAging {
    pub customer_id: String,
    pub name: String,
    #[serde(flatten)]
    pub row: AgingRow,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenItem {
    pub invoice_id: String,
    pub number: String,
    pub customer_id: String,
    pub issued_on: String,
    pub due_on: String,
    pub days_overdue: i64,
    pub bucket: String,
    pub gross: Money,
    pub open: Money,
    /// not_yet_due, overdue, disputed, promise_to_pay, partially_paid, short_paid, in_collection.
    pub reason: UnpaidReason,
    pub dunning_level: i64,
}

/// A `SUM(CASE …)` per bucket over the basis date, "current" first. Grouped by customer alone
/// the store streams the aggregate in key order (no sort): measured 2.5× cheaper than grouping
/// by a computed bucket.
fn bucket_sums(q: &AgingQuery, params: &mut Vec<Value>) -> String {
    let col = match q.basis {
        AgingBasis::DueDate => "due_on",
        AgingBasis::InvoiceDate => "issued_on",
    };
    let mut p = |d: NaiveDate| {
        params.push(d.to_string().into());
        format!("${}", params.len())
    };
    let mut sums = vec![format!(
        "CAST(SUM(CASE WHEN {col} >= {} THEN open_minor ELSE 0 END) AS BIGINT)",
        p(q.as_of)
    )];
    for (from, to) in q.buckets.date_ranges(q.as_of) {
        let lower = from
            .map(|f| format!("{col} >= {} AND ", p(f)))
            .unwrap_or_default();
        sums.push(format!(
            "CAST(SUM(CASE WHEN {lower}{col} <= {} THEN open_minor ELSE 0 END) AS BIGINT)",
            p(to)
        ));
    }
    sums.join(", ")
}

/// Items issued after the as-of day are left out; today or later, none can be.
fn issued_filter(q: &AgingQuery, today: NaiveDate, params: &mut Vec<Value>, alias: &str) -> String {
    if q.as_of >= today {
        return String::new();
    }
    params.push(q.as_of.to_string().into());
    format!(" AND {alias}issued_on <= ${}", params.len())
}

fn row_from(currency: &str, amounts: &[i64], items: i64) -> Result<AgingRow> {
    let cur = Currency::parse(currency).map_err(DomainError::money("currency"))?;
    let total: i64 = amounts.iter().sum();
    Ok(AgingRow {
        currency: currency.to_string(),
        amounts: amounts.iter().map(|a| Money::new(*a, cur)).collect(),
        total: Money::new(total, cur),
        overdue: Money::new(total - amounts[0], cur),
        items,
    })
}

/// The aging as of `q.as_of`: today's open amounts, aged against that day. Items issued after
/// it are left out.
pub fn report(conn: &mut dyn Conn, q: &AgingQuery) -> Result<AgingReport> {
    let today = q.today;
    let n = q.buckets.len();
    let mut totals = Vec::new();
    let mut customers = Vec::new();
    if let Some(cid) = &q.customer_id {
        crate::customer::get(conn, cid)?;
    }
    if q.customer_id.is_none() {
        let mut params: Vec<Value> = Vec::new();
        let sums = bucket_sums(q, &mut params);
        let filter = issued_filter(q, today, &mut params, "");
        let sql = format!(
            "SELECT currency, {sums}, CAST(SUM(items) AS BIGINT)
             FROM receivable_open_totals WHERE 1 = 1{filter} GROUP BY currency ORDER BY currency"
        );
        for r in conn.query(&sql, &params)? {
            let amounts: Vec<i64> = (1..=n).map(|i| r.int(i)).collect();
            totals.push(row_from(&r.text(0), &amounts, r.int(n + 1))?);
        }
    }
    if !q.totals_only || q.customer_id.is_some() {
        let mut params: Vec<Value> = Vec::new();
        let sums = bucket_sums(q, &mut params);
        let mut filter = issued_filter(q, today, &mut params, "");
        if let Some(cid) = &q.customer_id {
            params.push(cid.as_str().into());
            filter.push_str(&format!(" AND customer_id = ${}", params.len()));
        }
        // Grouped first, named after: one customer lookup per customer, not per date.
        let sql = format!(
            "SELECT a.*, c.name
             FROM (SELECT customer_id, currency, {sums}, CAST(SUM(items) AS BIGINT) AS items
                   FROM receivable_open WHERE 1 = 1{filter} GROUP BY customer_id, currency) a
             JOIN customers c ON c.id = a.customer_id"
        );
        for r in conn.query(&sql, &params)? {
            let amounts: Vec<i64> = (2..n + 2).map(|i| r.int(i)).collect();
            customers.push(CustomerAging {
                customer_id: r.text(0),
                name: r.text(n + 3),
                row: row_from(&r.text(1), &amounts, r.int(n + 2))?,
            });
        }
        // Most overdue first: the collector's reading order.
        customers.sort_by(|a, b| {
            b.row
                .overdue
                .minor()
                .cmp(&a.row.overdue.minor())
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
    }
    if q.customer_id.is_some() {
        totals = customers.iter().map(|c| c.row.clone()).collect();
    }
    let items = if q.items || q.customer_id.is_some() {
        Some(open_items(conn, q)?)
    } else {
        None
    };
    Ok(AgingReport {
        as_of: q.as_of.to_string(),
        basis: q.basis,
        buckets: q.buckets.labels(),
        totals,
        customers,
        items,
    })
}

/// Open items with their reason, oldest due first, for one customer or all.
pub fn open_items(conn: &mut dyn Conn, q: &AgingQuery) -> Result<Vec<OpenItem>> {
    let mut params: Vec<Value> = vec![q.as_of.to_string().into()];
    let filter = match &q.customer_id {
        Some(c) => {
            params.push(c.as_str().into());
            " AND i.customer_id = $2"
        }
        None => "",
    };
    let sql = format!(
        "SELECT i.id, i.number, i.customer_id, i.currency, i.issued_on, i.due_on, i.gross_minor, i.open_minor,
                i.credited_minor + i.written_off_minor, c.in_collection, i.dunning_level,
                CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status IN ('open', 'under_review')) THEN 1 ELSE 0 END,
                CASE WHEN EXISTS (SELECT 1 FROM payment_promise_items pi JOIN payment_promises p ON p.id = pi.promise_id
                                  WHERE pi.invoice_id = i.id AND p.status = 'open') THEN 1 ELSE 0 END,
                CASE WHEN EXISTS (SELECT 1 FROM deductions x WHERE x.invoice_id = i.id AND x.status = 'open') THEN 1 ELSE 0 END
         FROM invoices i JOIN customers c ON c.id = i.customer_id
         WHERE i.open_minor > 0 AND i.issued_on <= $1{filter}
         ORDER BY i.customer_id, i.due_on, i.number"
    );
    let labels = q.buckets.labels();
    let mut out = Vec::new();
    for r in conn.query(&sql, &params)? {
        let cur = Currency::parse(&r.text(3)).map_err(DomainError::money("currency"))?;
        let (issued, due) = (r.text(4), r.text(5));
        let basis_date = match q.basis {
            AgingBasis::DueDate => &due,
            AgingBasis::InvoiceDate => &issued,
        };
        let age = days_between(basis_date, q.as_of)?;
        let days_overdue = days_between(&due, q.as_of)?.max(0);
        let (gross, open, reduced) = (r.int(6), r.int(7), r.int(8));
        let reason = unpaid_reason(ItemFacts {
            days_overdue,
            customer_in_collection: r.int(9) != 0,
            open_dispute: r.int(11) != 0,
            open_promise: r.int(12) != 0,
            open_deduction: r.int(13) != 0,
            part_paid: open + reduced < gross,
        });
        out.push(OpenItem {
            invoice_id: r.text(0),
            number: r.text(1),
            customer_id: r.text(2),
            issued_on: issued.clone(),
            due_on: due.clone(),
            days_overdue,
            bucket: labels[q.buckets.index_of(age)].clone(),
            gross: Money::new(gross, cur),
            open: Money::new(open, cur),
            reason,
            dunning_level: r.int(10),
        });
    }
    Ok(out)
}

/// Days from an ISO date to `to` (positive when `to` is later).
pub fn days_between(from: &str, to: NaiveDate) -> Result<i64> {
    let d = NaiveDate::parse_from_str(from, "%Y-%m-%d")
        .map_err(|e| crate::error::AppError::Internal(format!("stored date `{from}`: {e}")))?;
    Ok((to - d).num_days())
}

/// Whether the aggregates equal a recomputation from the invoices (tests, `o2c report aging
/// --check`): per customer, currency and dates, amount and count.
pub fn check(conn: &mut dyn Conn) -> Result<AggregateCheck> {
    type Key = (String, String, String, String);
    let mut want: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for r in conn.query(
        "SELECT customer_id, currency, due_on, issued_on, CAST(SUM(open_minor) AS BIGINT), COUNT(*)
         FROM invoices WHERE open_minor > 0 GROUP BY customer_id, currency, due_on, issued_on",
        &[],
    )? {
        want.insert(
            (r.text(0), r.text(1), r.text(2), r.text(3)),
            (r.int(4), r.int(5)),
        );
    }
    let mut got: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for r in conn.query(
        "SELECT customer_id, currency, due_on, issued_on, open_minor, items FROM receivable_open",
        &[],
    )? {
        got.insert(
            (r.text(0), r.text(1), r.text(2), r.text(3)),
            (r.int(4), r.int(5)),
        );
    }
    let mut want_totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for ((_, cur, _, _), (a, n)) in &want {
        let e = want_totals.entry(cur.clone()).or_default();
        e.0 += a;
        e.1 += n;
    }
    let mut got_totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in conn.query(
        "SELECT currency, CAST(SUM(open_minor) AS BIGINT), CAST(SUM(items) AS BIGINT) FROM receivable_open_totals GROUP BY currency",
        &[],
    )? {
        got_totals.insert(r.text(0), (r.int(1), r.int(2)));
    }
    let differences = want.iter().filter(|(k, v)| got.get(*k) != Some(v)).count()
        + got.keys().filter(|k| !want.contains_key(*k)).count();
    Ok(AggregateCheck {
        rows: got.len(),
        differences,
        totals_match: want_totals == got_totals,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AggregateCheck {
    pub rows: usize,
    pub differences: usize,
    pub totals_match: bool,
}

impl AggregateCheck {
    pub fn ok(&self) -> bool {
        self.differences == 0 && self.totals_match
    }
}

/// The report as CSV: one line per customer and currency, then one per currency total.
pub fn to_csv(r: &AgingReport) -> String {
    let mut out = format!(
        "customer_id,name,currency,{},total,items\n",
        r.buckets.join(",")
    );
    let esc = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let line = |id: &str, name: &str, row: &AgingRow| {
        let amounts: Vec<String> = row.amounts.iter().map(|m| m.to_decimal_string()).collect();
        format!(
            "{},{},{},{},{},{}\n",
            esc(id),
            esc(name),
            row.currency,
            amounts.join(","),
            row.total.to_decimal_string(),
            row.items
        )
    };
    for c in &r.customers {
        out.push_str(&line(&c.customer_id, &c.name, &c.row));
    }
    for t in &r.totals {
        out.push_str(&line("TOTAL", "", t));
    }
    out
}
