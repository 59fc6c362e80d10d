//! `o2c bench aging`: N open items over C customers, loaded in bulk (`INSERT … SELECT` from a
//! generated series), then the aging report timed: company-wide totals, every customer, one
//! customer with its items, and for comparison the same buckets summed by scanning the items.

use super::aging::{self, AgingQuery};
use crate::{App, Result};
use chrono::NaiveDate;
use o2c_core::Actor;
use o2c_store::{Conn, Dialect, params};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct AgingBenchReport {
    pub engine: String,
    pub items: usize,
    pub customers: usize,
    pub days: usize,
    pub load_seconds: f64,
    /// How the load kept the aggregates: the triggers row by row, or a rebuild after a load
    /// with triggers off (PostgreSQL, where per-row triggers would dominate a bulk load).
    pub load_mode: String,
    pub aggregate_rows: i64,
    pub total_rows: i64,
    /// Medians of 5 runs, in milliseconds.
    pub totals_ms: f64,
    pub per_customer_ms: f64,
    pub one_customer_with_items_ms: f64,
    /// The same buckets summed straight from the open items (no aggregates).
    pub scan_ms: f64,
    /// Whether the aggregates equal a recomputation (`--check`; None: not checked).
    pub aggregates_checked: Option<bool>,
}

impl std::fmt::Display for AgingBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "aging on {}: {} open items, {} customers, issue dates over {} days",
            self.engine, self.items, self.customers, self.days
        )?;
        writeln!(
            f,
            "  load {:.1} s ({}); aggregates: {} per-customer rows, {} total rows",
            self.load_seconds, self.load_mode, self.aggregate_rows, self.total_rows
        )?;
        writeln!(f, "  company totals        {:>9.1} ms", self.totals_ms)?;
        writeln!(
            f,
            "  every customer        {:>9.1} ms",
            self.per_customer_ms
        )?;
        writeln!(
            f,
            "  one customer + items  {:>9.1} ms",
            self.one_customer_with_items_ms
        )?;
        writeln!(
            f,
            "  scan of the items     {:>9.1} ms (no aggregates)",
            self.scan_ms
        )?;
        match self.aggregates_checked {
            Some(ok) => write!(f, "  aggregates equal a recomputation: {ok}"),
            None => write!(f, "  aggregates not checked (--check)"),
        }
    }
}

const CHUNK: usize = 500_000;

pub async fn run(
    app: &App,
    items: usize,
    customers: usize,
    days: usize,
    check: bool,
) -> Result<AgingBenchReport> {
    let customers = customers.clamp(1, items.max(1));
    let days = days.max(1);
    let as_of = app.today();
    let dialect = app.dialect();
    let started = Instant::now();
    app.write(Actor::Rule("bench"), move |c, ctx| {
        load_customers(c, customers, &ctx.timestamp())
    })
    .await?;
    let mut from = 0;
    while from < items {
        let to = (from + CHUNK).min(items);
        app.write(Actor::Rule("bench"), move |c, _| {
            load_items(c, from, to, customers, days, as_of)
        })
        .await?;
        from = to;
    }
    let load_mode = match dialect {
        Dialect::Sqlite => "triggers, row by row".to_string(),
        Dialect::Postgres => {
            app.write(Actor::Rule("bench"), |c, _| rebuild(c)).await?;
            "triggers off, aggregates rebuilt after the load".to_string()
        }
    };
    app.write(Actor::Rule("bench"), |c, _| {
        if c.dialect() == Dialect::Postgres {
            c.batch("ANALYZE invoices; ANALYZE receivable_open; ANALYZE receivable_open_totals; ANALYZE customers")?;
        } else {
            c.batch("ANALYZE")?;
        }
        Ok(())
    })
    .await?;
    let load_seconds = started.elapsed().as_secs_f64();
    let (aggregate_rows, total_rows) = app
        .read(|c| {
            Ok((
                c.query_one("SELECT COUNT(*) FROM receivable_open", &[])?
                    .int(0),
                c.query_one("SELECT COUNT(*) FROM receivable_open_totals", &[])?
                    .int(0),
            ))
        })
        .await?;
    let mut q = AgingQuery::new(as_of);
    q.today = as_of;
    q.totals_only = true;
    let totals_ms = median_ms(app, q.clone()).await?;
    q.totals_only = false;
    let per_customer_ms = median_ms(app, q.clone()).await?;
    q.customer_id = Some(customer_id(customers / 2));
    let one_customer_with_items_ms = median_ms(app, q).await?;
    let scan_ms = median_scan_ms(app, as_of).await?;
    let aggregates_checked = if check {
        Some(app.read(aging::check).await?.ok())
    } else {
        None
    };
    Ok(AgingBenchReport {
        engine: format!("{dialect:?}"),
        items,
        customers,
        days,
        load_seconds,
        load_mode,
        aggregate_rows,
        total_rows,
        totals_ms,
        per_customer_ms,
        one_customer_with_items_ms,
        scan_ms,
        aggregates_checked,
    })
}

fn customer_id(i: usize) -> String {
    format!("cus_bench{i:07}")
}

fn load_customers(c: &mut dyn Conn, customers: usize, now: &str) -> Result<()> {
    let rows: Vec<Vec<o2c_store::Value>> = (0..customers)
        .map(|i| {
            params![
                customer_id(i),
                format!("Customer {i}"),
                "EUR",
                [14i64, 30, 60][i % 3],
                1_000_000_000i64,
                now
            ]
            .to_vec()
        })
        .collect();
    for chunk in rows.chunks(5_000) {
        c.insert_rows(
            "customers",
            &[
                "id",
                "name",
                "currency",
                "payment_terms_days",
                "credit_limit_minor",
                "created_at",
            ],
            chunk,
        )?;
    }
    Ok(())
}

/// Items `from..to`: item i belongs to customer i mod C; its k-th item (k = i div C) was issued
/// (k·7919 + C·31) mod days days ago (7919 is prime: a customer's items cover every day),
/// due after its customer's terms, open in full.
fn load_items(
    c: &mut dyn Conn,
    from: usize,
    to: usize,
    customers: usize,
    days: usize,
    as_of: NaiveDate,
) -> Result<()> {
    let (from, to, customers, days) = (from as i64, to as i64, customers as i64, days as i64);
    let as_of = as_of.to_string();
    match c.dialect() {
        Dialect::Sqlite => {
            c.execute(
                "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2),
                 g AS (SELECT i, i % $3 AS cust, ((i / $3) * 7919 + (i % $3) * 31) % $4 AS age, 1000 + (i * 37) % 100000 AS amount FROM n),
                 d AS (SELECT i, cust, amount, date($5, '-' || age || ' days') AS issued,
                              CASE cust % 3 WHEN 0 THEN 14 WHEN 1 THEN 30 ELSE 60 END AS terms FROM g)
                 INSERT INTO invoices (id, number, customer_id, order_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status, created_at)
                 SELECT 'inv_bench' || i, 'BENCH-' || i, 'cus_bench' || substr('0000000' || cust, -7, 7), 'ord_bench', 'EUR',
                        issued, date(issued, '+' || terms || ' days'), amount, 0, amount, amount, 'unpaid', $5
                 FROM d",
                params![from, to, customers, days, as_of],
            )?;
        }
        Dialect::Postgres => {
            c.batch("SET LOCAL session_replication_role = replica")?;
            c.execute(
                "INSERT INTO invoices (id, number, customer_id, order_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status, created_at)
                 SELECT 'inv_bench' || i, 'BENCH-' || i, 'cus_bench' || lpad((i % $3)::text, 7, '0'), 'ord_bench', 'EUR',
                        ((CAST($5 AS TEXT)::date) - (((i / $3) * 7919 + (i % $3) * 31) % $4)::int)::text,
                        ((CAST($5 AS TEXT)::date) - (((i / $3) * 7919 + (i % $3) * 31) % $4)::int + (CASE (i % $3) % 3 WHEN 0 THEN 14 WHEN 1 THEN 30 ELSE 60 END))::text,
                        1000 + (i * 37) % 100000, 0, 1000 + (i * 37) % 100000, 1000 + (i * 37) % 100000, 'unpaid', $5
                 FROM generate_series($1::bigint, $2::bigint - 1) AS i",
                params![from, to, customers, days, as_of],
            )?;
        }
    }
    Ok(())
}

/// Recomputes both aggregates from the invoices (after a load with triggers off).
pub fn rebuild(c: &mut dyn Conn) -> Result<()> {
    c.batch(
        "DELETE FROM receivable_open;
         DELETE FROM receivable_open_totals;
         INSERT INTO receivable_open (customer_id, currency, due_on, issued_on, open_minor, items)
             SELECT customer_id, currency, due_on, issued_on, SUM(open_minor), COUNT(*)
             FROM invoices WHERE open_minor > 0 GROUP BY customer_id, currency, due_on, issued_on;
         INSERT INTO receivable_open_totals (currency, due_on, issued_on, stripe, open_minor, items)
             SELECT currency, due_on, issued_on, substr(customer_id, length(customer_id), 1), SUM(open_minor), COUNT(*)
             FROM invoices WHERE open_minor > 0
             GROUP BY currency, due_on, issued_on, substr(customer_id, length(customer_id), 1);",
    )?;
    Ok(())
}

async fn median_ms(app: &App, q: AgingQuery) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..6 {
        let q = q.clone();
        let t = Instant::now();
        app.read(move |c| aging::report(c, &q)).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.remove(0); // warm-up
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

async fn median_scan_ms(app: &App, as_of: NaiveDate) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..4 {
        let t = Instant::now();
        app.read(move |c| {
            let d = |n: u64| (as_of - chrono::Days::new(n)).to_string();
            c.query(
                "SELECT customer_id, currency,
                        CAST(SUM(CASE WHEN due_on >= $1 THEN open_minor ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN due_on < $1 AND due_on >= $2 THEN open_minor ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN due_on < $2 AND due_on >= $3 THEN open_minor ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN due_on < $3 AND due_on >= $4 THEN open_minor ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN due_on < $4 THEN open_minor ELSE 0 END) AS BIGINT)
                 FROM invoices WHERE open_minor > 0 GROUP BY customer_id, currency",
                params![as_of.to_string(), d(30), d(60), d(90)],
            )?;
            Ok(())
        })
        .await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.remove(0);
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
