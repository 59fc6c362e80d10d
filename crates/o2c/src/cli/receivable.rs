//! Receivables commands: `o2c report aging|kpis`, `o2c dunning run`, `o2c statement`, and the
//! aging benchmark.

use super::{open, print_json};
use anyhow::Context;
use clap::Subcommand;
use o2c_app::App;
use o2c_app::receivable::aging::{self, AgingQuery};
use o2c_core::receivable::{AgingBasis, AgingBuckets};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Open items and aging, per customer and in total (from the kept aggregates).
    Aging {
        /// Age the open items against this day (YYYY-MM-DD; default today). Items issued
        /// later are left out; amounts are today's.
        #[arg(long)]
        as_of: Option<String>,
        /// `due_date` (default) or `invoice_date`.
        #[arg(long, default_value = "due_date")]
        basis: String,
        /// Bucket bounds in days: `30,60,90` gives current, 1-30, 31-60, 61-90, 90+.
        #[arg(long, default_value = "30,60,90")]
        buckets: String,
        /// One customer, with its open items and why each is unpaid.
        #[arg(long)]
        customer: Option<String>,
        /// List every open item with its reason (all customers).
        #[arg(long)]
        items: bool,
        /// Company-wide totals only.
        #[arg(long)]
        totals_only: bool,
        /// Also recompute the aggregates from the items and say whether they agree.
        #[arg(long)]
        check: bool,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
}

pub fn aging_query(
    app: &App,
    as_of: Option<&str>,
    basis: &str,
    buckets: &str,
) -> anyhow::Result<AgingQuery> {
    let as_of = match as_of {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--as-of `{d}`: expected a date such as 2026-11-30"))?,
        None => app.today(),
    };
    let mut q = AgingQuery::new(as_of);
    q.today = app.today();
    q.basis = AgingBasis::parse(basis)?;
    q.buckets = AgingBuckets::parse(buckets)?;
    Ok(q)
}

pub async fn report(database: &str, command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Aging {
            as_of,
            basis,
            buckets,
            customer,
            items,
            totals_only,
            check,
            json,
            csv,
        } => {
            let app = open(database)?;
            let mut q = aging_query(&app, as_of.as_deref(), &basis, &buckets)?;
            q.customer_id = customer;
            q.items = items;
            q.totals_only = totals_only;
            let report = app.read(move |c| aging::report(c, &q)).await?;
            if check {
                let ck = app.read(aging::check).await?;
                eprintln!(
                    "aggregates: {} rows, {} differences, totals {}",
                    ck.rows,
                    ck.differences,
                    if ck.totals_match { "match" } else { "DIFFER" }
                );
                if !ck.ok() {
                    anyhow::bail!("the aging aggregates disagree with the open items");
                }
            }
            if json {
                print_json(&report)
            } else if csv {
                print!("{}", aging::to_csv(&report));
                Ok(())
            } else {
                print_aging(&report);
                Ok(())
            }
        }
    }
}

fn print_aging(r: &aging::AgingReport) {
    println!(
        "aging as of {} by {}",
        r.as_of,
        match r.basis {
            AgingBasis::DueDate => "due date",
            AgingBasis::InvoiceDate => "invoice date",
        }
    );
    let head: Vec<String> = r.buckets.iter().map(|b| format!("{b:>14}")).collect();
    println!(
        "{:<32} {:>4} {} {:>14}",
        "customer",
        "cur",
        head.join(""),
        "total"
    );
    let line = |name: &str, row: &aging::AgingRow| {
        let cells: Vec<String> = row
            .amounts
            .iter()
            .map(|m| format!("{:>14}", m.to_decimal_string()))
            .collect();
        println!(
            "{:<32} {:>4} {} {:>14}",
            name.chars().take(32).collect::<String>(),
            row.currency,
            cells.join(""),
            row.total.to_decimal_string()
        );
    };
    for c in &r.customers {
        line(&c.name, &c.row);
    }
    for t in &r.totals {
        line("TOTAL", t);
    }
    if let Some(items) = &r.items {
        println!();
        println!(
            "{:<20} {:<12} {:>6} {:>14}  {:<8} reason",
            "invoice", "due", "days", "open", "bucket"
        );
        for i in items {
            println!(
                "{:<20} {:<12} {:>6} {:>14}  {:<8} {}",
                i.number,
                i.due_on,
                i.days_overdue,
                i.open.to_decimal_string(),
                i.bucket,
                i.reason.as_str()
            );
        }
    }
}
