//! Receivables commands: `o2c report aging|kpis`, `o2c dunning run`, `o2c statement`, and the
//! aging benchmark.

use super::{cli_actor, open, print_json};
use anyhow::Context;
use clap::Subcommand;
use o2c_app::App;
use o2c_app::receivable::aging::{self, AgingQuery};
use o2c_app::receivable::dunning::{deliver, run};
use o2c_app::receivable::{kpis, statement};
use o2c_core::receivable::{AgingBasis, AgingBuckets};

#[derive(Debug, Subcommand)]
pub enum DunningCommand {
    /// Run dunning for a day (default today; once per day): one notice per customer.
    Run {
        #[arg(long)]
        on: Option<String>,
        /// Say who would get which notice and why; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Send the notices waiting for delivery now (e-mail via O2C_SMTP_URL, SMS via O2C_SMS_URL,
    /// letters into O2C_LETTERS_DIR).
    Deliver,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Key figures: countback DSO, CEI, average days to pay per customer, disputes.
    Kpis {
        #[arg(long)]
        as_of: Option<String>,
        /// The CEI period in days.
        #[arg(long, default_value_t = 30)]
        cei_days: i64,
        #[arg(long)]
        json: bool,
    },
    /// The collections worklist: customers ranked by risk × overdue amount × days overdue.
    Worklist {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Disputes by root cause: count, outcome, amount, cycle time.
    Disputes {
        #[arg(long)]
        json: bool,
    },
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

fn day(app: &App, s: Option<&str>) -> anyhow::Result<chrono::NaiveDate> {
    match s {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("`{d}`: expected a date such as 2026-11-30")),
        None => Ok(app.today()),
    }
}

/// The notice channels from the environment: O2C_SMTP_URL / O2C_SMTP_FROM, O2C_SMS_URL (+
/// _USER, _PASSWORD, _FROM), O2C_LETTERS_DIR (default ./letters).
pub fn channels() -> anyhow::Result<deliver::Channels> {
    let mailer = match std::env::var("O2C_SMTP_URL") {
        Ok(url) => {
            let from =
                std::env::var("O2C_SMTP_FROM").unwrap_or_else(|_| "o2c <billing@localhost>".into());
            let cfg =
                o2c_mail::SmtpConfig::parse(&url, &from).context("O2C_SMTP_URL / O2C_SMTP_FROM")?;
            Some(o2c_mail::Mailer::new(&cfg).context("SMTP")?)
        }
        Err(_) => None,
    };
    let letters = std::env::var("O2C_LETTERS_DIR").unwrap_or_else(|_| "letters".into());
    Ok(deliver::Channels {
        mailer,
        sms: deliver::SmsGateway::from_env(),
        letters_dir: Some(letters.into()),
    })
}

/// `o2c serve`: the daily dunning run (unless O2C_AUTO_DUNNING=off), statements on schedule,
/// and notice delivery, every five minutes.
pub fn spawn_dunning(app: &App) -> anyhow::Result<()> {
    let daily = std::env::var("O2C_AUTO_DUNNING")
        .map(|v| v != "off")
        .unwrap_or(true);
    let ch = channels()?;
    eprintln!(
        "o2c: dunning {}; notices by e-mail {}, SMS {}, letters into {}",
        if daily {
            "runs daily"
        } else {
            "is manual (O2C_AUTO_DUNNING=off)"
        },
        if ch.mailer.is_some() {
            "on"
        } else {
            "waiting for O2C_SMTP_URL"
        },
        if ch.sms.is_some() {
            "on"
        } else {
            "waiting for O2C_SMS_URL"
        },
        ch.letters_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    );
    tokio::spawn(deliver::run_worker(
        app.clone(),
        ch,
        daily,
        std::time::Duration::from_secs(300),
    ));
    Ok(())
}

pub async fn dunning(database: &str, command: DunningCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        DunningCommand::Run { on, dry_run, json } => {
            let on = day(&app, on.as_deref())?;
            let r = app
                .write(cli_actor(), move |c, ctx| {
                    run::run_in_tx(c, ctx, on, dry_run)
                })
                .await?;
            if json {
                return print_json(&r);
            }
            if r.already_ran {
                println!(
                    "dunning for {} already ran (run {}): nothing new",
                    r.on,
                    r.run_id.unwrap_or_default()
                );
                return Ok(());
            }
            println!(
                "dunning {}{}: {} notice(s)",
                r.on,
                if r.dry_run { " (dry run)" } else { "" },
                r.notices.len()
            );
            for n in &r.notices {
                println!(
                    "  {} {}: level {} by {}, {} overdue + fee {} + interest {} = {} ({})",
                    n.customer_id,
                    n.customer,
                    n.level,
                    n.channel,
                    n.overdue,
                    n.fee,
                    n.interest,
                    n.total,
                    n.why
                );
            }
            for s in &r.skipped {
                println!(
                    "  skipped {}{}: {}",
                    s.customer_id,
                    s.invoice
                        .as_ref()
                        .map(|i| format!(" {i}"))
                        .unwrap_or_default(),
                    s.reason
                );
            }
            Ok(())
        }
        DunningCommand::Deliver => {
            let p = deliver::deliver_due(&app, &channels()?, 1000).await?;
            println!(
                "sent {}, to retry {}, failed {}",
                p.sent, p.retrying, p.failed
            );
            Ok(())
        }
    }
}

pub async fn statement(
    database: &str,
    customer: &str,
    as_of: Option<&str>,
    out: Option<std::path::PathBuf>,
    send: bool,
) -> anyhow::Result<()> {
    let app = open(database)?;
    let on = day(&app, as_of)?;
    let id = customer.to_string();
    if send {
        let queued = app
            .write(cli_actor(), move |c, ctx| {
                statement::send_in_tx(c, ctx, &id, &ctx.today().to_string())
            })
            .await?;
        println!(
            "{}",
            if queued {
                "queued by e-mail"
            } else {
                "already sent today"
            }
        );
        return Ok(());
    }
    match out {
        Some(path) => {
            let pdf = app.read(move |c| statement::pdf(c, &id, on)).await?;
            std::fs::write(&path, pdf).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        None => print_json(&app.read(move |c| statement::build(c, &id, on)).await?),
    }
}

pub async fn report(database: &str, command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Kpis {
            as_of,
            cei_days,
            json,
        } => {
            let app = open(database)?;
            let on = day(&app, as_of.as_deref())?;
            let k = app.read(move |c| kpis::kpis(c, on, cei_days)).await?;
            if json {
                return print_json(&k);
            }
            println!("receivables key figures as of {}", k.as_of);
            for c in &k.per_currency {
                println!(
                    "  {}: open {}, overdue {}, DSO {} days, CEI {} ({} days)",
                    c.currency,
                    c.receivables,
                    c.overdue,
                    c.dso_days,
                    c.cei_percent
                        .map(|x| format!("{x} %"))
                        .unwrap_or_else(|| "n/a".into()),
                    c.cei_days
                );
            }
            let d = &k.disputes;
            println!(
                "  disputes: {} open, {} under review, {} resolved, {} rejected; cycle {} days",
                d.open,
                d.under_review,
                d.resolved,
                d.rejected,
                d.average_cycle_days
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "n/a".into())
            );
            for c in &k.days_to_pay {
                println!(
                    "  {} {}: pays after {} days on average ({} payments)",
                    c.customer_id, c.name, c.average_days_to_pay, c.payments
                );
            }
            Ok(())
        }
        ReportCommand::Worklist { limit, json } => {
            let app = open(database)?;
            let on = app.today();
            let w = app.read(move |c| kpis::worklist(c, on, limit)).await?;
            if json {
                return print_json(&w);
            }
            for e in &w {
                println!(
                    "{:>12.1}  {} {:<30} {:>6} {:>14} {:>6.1} days  disputes {} tasks {}{}",
                    e.score,
                    e.customer_id,
                    e.name,
                    e.risk_class,
                    e.overdue.to_string(),
                    e.average_days_overdue,
                    e.open_disputes,
                    e.open_tasks,
                    if e.in_collection {
                        "  IN COLLECTION"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        ReportCommand::Disputes { json } => {
            let app = open(database)?;
            let r = app
                .read(|c| o2c_app::receivable::disputes::root_causes(c, None, None))
                .await?;
            if json {
                return print_json(&r);
            }
            for c in &r {
                println!(
                    "{:<18} {:>4} disputes: {} open, {} credited, {} rejected; cycle {} days",
                    c.reason,
                    c.count,
                    c.open,
                    c.credited,
                    c.rejected,
                    c.average_cycle_days
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "n/a".into())
                );
            }
            Ok(())
        }
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
