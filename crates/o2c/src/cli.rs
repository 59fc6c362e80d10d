//! Commands of `o2c`. Each one opens the store named by `--database` / `O2C_DATABASE_URL`
//! (default: `o2c.db` in the working directory) and calls one library function.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use o2c_app::testing::{Engine, TestStore};
use o2c_app::{App, StoreConfig, auth, event, ledger, order};
use o2c_core::{Actor, Role};
use std::net::SocketAddr;
use std::path::Path;

mod receivable;

#[derive(Debug, Parser)]
#[command(
    name = "o2c",
    version,
    about = "Order-to-cash: from an order arriving to its cash applied and the books balanced."
)]
pub struct Cli {
    /// Where the data lives: an SQLite file (`o2c.db`, `sqlite://path`) or `postgres://user@host/db`.
    #[arg(
        long,
        global = true,
        env = "O2C_DATABASE_URL",
        default_value = "sqlite://o2c.db"
    )]
    pub database: String,
    /// Log filter, e.g. `info`, `o2c=debug` (RUST_LOG syntax).
    #[arg(long, global = true, env = "O2C_LOG")]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and run the automation engine.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "O2C_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// Manage the people who sign in to the pages (staff users, customers' portal users).
    Users {
        #[command(subcommand)]
        command: crate::users::UsersCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Show the audit trail of an order: who or what did each step, and when.
    Events {
        order_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the trial balance and the subledger checks.
    TrialBalance {
        #[arg(long)]
        json: bool,
    },
    /// Build a realistic small company in a fresh database and run orders through the cycle.
    Demo {
        #[arg(long, default_value_t = 300)]
        customers: usize,
        #[arg(long, default_value_t = 2000)]
        products: usize,
        #[arg(long, default_value_t = 1000)]
        orders: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Invoices and credit notes as documents: PDF, UBL e-invoice, bulk export.
    Invoice {
        #[command(subcommand)]
        command: InvoiceCommand,
    },
    /// Billing runs for customers billed consolidated.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// Import files: bank statements, remittance advice, orders.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Cash application: run the matcher, see the exceptions queue.
    Cash {
        #[command(subcommand)]
        command: CashCommand,
    },
    /// Exchange rates by date (units of a currency per one unit of the functional currency).
    Fx {
        #[command(subcommand)]
        command: FxCommand,
    },
    /// Card and wallet payments through payment-service providers: checkout sessions.
    Psp {
        #[command(subcommand)]
        command: PspCommand,
    },
    /// SEPA direct debit: collection files (pain.008) for invoices due.
    Sepa {
        #[command(subcommand)]
        command: SepaCommand,
    },
    /// Benchmarks (run on a fresh throw-away database unless --database is given explicitly).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Outgoing webhooks: endpoints per event type, deliveries, the dead-letter list and replay.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// Pick lists: a warehouse's planned shipments batched into one walk through the shelves.
    Picklist {
        #[command(subcommand)]
        command: crate::cli_fulfil::PickListCommand,
    },
    /// EDI documents sent to customers who order by X12 (856 ship notices, 810 invoices).
    Edi {
        #[command(subcommand)]
        command: crate::cli_fulfil::EdiCommand,
    },
    /// Stock per product and warehouse: on hand, reserved, available to promise (or a subcommand).
    Stock {
        #[command(subcommand)]
        command: Option<crate::cli_stock::StockCommand>,
        #[arg(long)]
        sku: Option<String>,
        #[arg(long)]
        warehouse: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reports: aging of the open items, receivables key figures, the worklist, disputes.
    Report {
        #[command(subcommand)]
        command: receivable::ReportCommand,
    },
    /// Dunning: the run (or a dry run saying who would get which notice and why), delivery.
    Dunning {
        #[command(subcommand)]
        command: receivable::DunningCommand,
    },
    /// A customer's statement of account: PDF, or sent by e-mail.
    Statement {
        customer_id: String,
        /// As of this day (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<String>,
        /// Write the PDF here (default: print the statement as JSON).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Queue it by e-mail (once per day).
        #[arg(long)]
        send: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key with a role; prints its secret once.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// List API keys (without secrets).
    List,
}

#[derive(Debug, Subcommand)]
pub enum InvoiceCommand {
    /// Write the PDF of an invoice or credit note (id or number) to standard output.
    Pdf { id: String },
    /// Write the UBL 2.1 (EN 16931) XML of an invoice or credit note to standard output.
    Ubl { id: String },
    /// Write many documents into a folder as NUMBER.pdf / NUMBER.xml.
    Export {
        #[arg(long, value_parser = ["ubl", "pdf"])]
        format: String,
        #[arg(long)]
        out: std::path::PathBuf,
        /// Every invoice and credit note.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Invoice or credit note ids or numbers.
        ids: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BillingCommand {
    /// Issue one consolidated invoice per customer for everything dispatched and not yet billed
    /// up to the end of the period.
    Run {
        /// The month, YYYY-MM.
        #[arg(long)]
        period: String,
        /// List what would be billed without issuing anything.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A bank statement: camt.053/054 (v2-v8), MT940, BAI2, or CSV with the saved mapping
    /// (format detected from the content). Then applies the cash it can.
    Statement {
        file: std::path::PathBuf,
        /// Parse and print the statements; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
        /// Store the lines but do not run cash application.
        #[arg(long)]
        no_apply: bool,
    },
    /// Remittance advice naming the invoices a payment pays: X12 820 or CSV. Used by the next
    /// cash application run to read its bank line.
    Remittance {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Orders: a CSV order file, an X12 850 or an EDIFACT ORDERS interchange (told apart by the
    /// content). Stored first; then ordered, parked in the intake exceptions queue with every
    /// reason, recognised as re-sent, or refused naming the line or segment at fault.
    Orders {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// An order e-mail (`.eml`): the order attached (CSV, X12 850, EDIFACT ORDERS) or as CSV
    /// lines in the text body; the sender's address names the customer; the same Message-ID
    /// again orders nothing.
    Eml {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// A stock receipt file (CSV: `sku,warehouse,quantity[,reference]`): every line or none;
    /// a faulty file is refused naming each line at fault.
    Stock {
        file: std::path::PathBuf,
        /// The delivery note or purchase order, for lines that name none.
        #[arg(long)]
        reference: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CashCommand {
    /// Match every waiting bank line now.
    Run {
        #[arg(long)]
        json: bool,
    },
    /// Save the column mapping CSV statements are read with (a JSON file: delimiter, decimal
    /// separator, date format, account IBAN, columns; see the README).
    CsvMapping { file: std::path::PathBuf },
    /// The exceptions queue: lines waiting for a person, with the reason and suggestions.
    Exceptions {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FxCommand {
    /// Import rates from a CSV file: `date,currency,rate` rows, or the ECB layout
    /// (`Date,USD,JPY,…`, as in eurofxref.csv). All rows or none.
    Import {
        file: std::path::PathBuf,
        /// Recorded with each rate.
        #[arg(long, default_value = "csv import")]
        source: String,
    },
    /// List stored rates.
    List {
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Push N orders through the whole cycle; orders per second per stage and end to end.
    Cycle {
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        #[arg(long, default_value_t = 256)]
        in_flight: usize,
        #[arg(long)]
        json: bool,
    },
    /// Credit decisions per second: the rules alone, and whole decisions in the store.
    Credit {
        #[arg(long, default_value_t = 20_000)]
        decisions: usize,
        #[arg(long)]
        json: bool,
    },
    /// Documents per second (PDF and UBL, one core) and the time to bill N shipments in a
    /// consolidated billing run.
    Billing {
        #[arg(long, default_value_t = 100_000)]
        shipments: usize,
        #[arg(long, default_value_t = 1_000)]
        customers: usize,
        #[arg(long)]
        json: bool,
    },
    /// Order intake from files: X12 850 documents stored, parsed and ordered per second (N in
    /// flight), and CSV orders imported per second.
    IntakeFiles {
        #[arg(long, default_value_t = 10_000)]
        documents: usize,
        #[arg(long, default_value_t = 32)]
        in_flight: usize,
        #[arg(long)]
        json: bool,
    },
    /// Cash application against known truth: N open invoices, M noisy bank lines (as a
    /// camt.053 import); lines/s, auto-applied share, precision and recall.
    Cashapp {
        #[arg(long, default_value_t = 1_000_000)]
        invoices: usize,
        #[arg(long, default_value_t = 100_000)]
        payments: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Aging over N open items of C customers: load in bulk, then time the report (totals,
    /// every customer, one customer with items) against a scan of the items.
    Aging {
        #[arg(long, default_value_t = 1_000_000)]
        items: usize,
        #[arg(long, default_value_t = 5_000)]
        customers: usize,
        /// Issue dates spread over this many days before today.
        #[arg(long, default_value_t = 120)]
        days: usize,
        /// Also check the aggregates against a recomputation.
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
    /// Concurrent HTTP clients placing orders over loopback: durable orders/s and latency.
    Intake {
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 50_000)]
        orders: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn init_logging(cli: &Cli) {
    let default = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    let filter = cli
        .log
        .clone()
        .unwrap_or_else(|| std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_string()));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}

pub(crate) fn open(url: &str) -> anyhow::Result<App> {
    let config = StoreConfig::from_url(url);
    App::open(&config).with_context(|| format!("opening {}", config.describe()))
}

fn print_text<T: std::fmt::Display>(v: &T) -> anyhow::Result<()> {
    println!("{v}");
    Ok(())
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database_given = std::env::args().any(|a| a.starts_with("--database"))
        || std::env::var("O2C_DATABASE_URL").is_ok();
    match cli.command {
        Command::Serve { addr } => serve(&cli.database, addr).await,
        Command::Keys { command } => keys(&cli.database, command).await,
        Command::Users { command } => crate::users::run(&open(&cli.database)?, command).await,
        Command::Events { order_id, json } => events(&cli.database, &order_id, json).await,
        Command::TrialBalance { json } => {
            let tb = open(&cli.database)?.read(ledger::trial_balance).await?;
            if json {
                print_json(&tb)
            } else {
                print_trial_balance(&tb)
            }
        }
        Command::Demo {
            customers,
            products,
            orders,
            seed,
            json,
        } => {
            let app = open(&cli.database)?;
            let opts = o2c_app::demo::DemoOptions {
                customers,
                products,
                orders,
                seed,
                progress: !json,
            };
            let summary = o2c_app::demo::run(&app, &opts).await?;
            let people = crate::users::demo_users(&app).await?;
            let work = crate::users::demo_work(&app, &people).await?;
            if json {
                // The summary's keys as before, plus who can sign in.
                let mut v = serde_json::to_value(&summary)?;
                v["users"] = serde_json::to_value(&people)?;
                v["waiting_for_people"] = serde_json::to_value(&work)?;
                print_json(&v)
            } else {
                print_text(&summary)?;
                crate::users::print_demo_work(&work);
                crate::users::print_demo_users(&people);
                Ok(())
            }
        }
        Command::Invoice { command } => invoice(&cli.database, command).await,
        Command::Billing {
            command:
                BillingCommand::Run {
                    period,
                    dry_run,
                    json,
                },
        } => {
            let app = open(&cli.database)?;
            let period = o2c_app::billing::run::Period::parse(&period)?;
            let report = o2c_app::billing::run::run(&app, cli_actor(), period, dry_run).await?;
            if json {
                print_json(&report)
            } else {
                println!(
                    "billing run {}{}: {} customer(s), {} shipment(s), {} invoice(s) issued",
                    report.period,
                    if report.dry_run { " (dry run)" } else { "" },
                    report.customers,
                    report.shipments_billed,
                    report.invoices.len()
                );
                for (customer, reason) in &report.failures {
                    println!("  not billed: {customer}: {reason}");
                }
                Ok(())
            }
        }
        Command::Fx { command } => fx(&cli.database, command).await,
        Command::Import { command } => import(&cli.database, command).await,
        Command::Cash { command } => cash(&cli.database, command).await,
        Command::Psp { command } => psp(&cli.database, command).await,
        Command::Sepa { command } => sepa(&cli.database, command).await,
        Command::Webhooks { command } => webhooks(&cli.database, command).await,
        Command::Picklist { command } => crate::cli_fulfil::picklist(&cli.database, command).await,
        Command::Edi { command } => crate::cli_fulfil::edi(&cli.database, command).await,
        Command::Stock {
            command,
            sku,
            warehouse,
            json,
        } => crate::cli_stock::stock(&cli.database, command, sku, warehouse, json).await,
        Command::Report { command } => receivable::report(&cli.database, command).await,
        Command::Dunning { command } => receivable::dunning(&cli.database, command).await,
        Command::Statement {
            customer_id,
            as_of,
            out,
            send,
        } => receivable::statement(&cli.database, &customer_id, as_of.as_deref(), out, send).await,
        Command::Bench { command } => {
            bench(
                if database_given {
                    Some(cli.database.as_str())
                } else {
                    None
                },
                command,
            )
            .await
        }
    }
}

pub(crate) fn cli_actor() -> Actor {
    Actor::Cli(std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

async fn import(database: &str, command: ImportCommand) -> anyhow::Result<()> {
    use o2c_app::cash::{import, remittance, run};
    let (file, dry_run, json, no_apply) = match command {
        ImportCommand::Statement {
            file,
            dry_run,
            json,
            no_apply,
        } => (file, dry_run, json, no_apply),
        ImportCommand::Remittance { file, json } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let app = open(database)?;
            let source = file.display().to_string();
            let report = app
                .write(cli_actor(), move |c, ctx| {
                    remittance::import_in_tx(c, ctx, &bytes, &source)
                })
                .await
                .with_context(|| {
                    format!("{} was not imported; nothing was written", file.display())
                })?;
            if json {
                return print_json(&report);
            }
            println!(
                "{}: {} advice(s) naming {} invoice(s); {} already imported",
                report.format, report.advices, report.invoices_named, report.duplicates
            );
            for w in &report.warnings {
                println!("  warning: {w}");
            }
            return Ok(());
        }
        ImportCommand::Orders { file, json } => return import_orders(database, &file, json).await,
        ImportCommand::Eml { file, json } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            return import_document(
                database,
                &file,
                bytes,
                o2c_app::intake::Channel::Email,
                json,
            )
            .await;
        }
        ImportCommand::Stock {
            file,
            reference,
            json,
        } => return crate::cli_stock::import_stock(database, &file, reference, json).await,
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let app = open(database)?;
    let name = file.display().to_string();
    if dry_run {
        let statements = app
            .read(move |c| import::parse(c, &bytes))
            .await
            .with_context(|| format!("{name} was not imported"))?;
        if json {
            return print_json(&statements);
        }
        for st in &statements {
            println!(
                "{} statement {} of {} ({}): {} entries, opening {}, closing {}",
                st.format.name(),
                st.statement_id,
                st.account
                    .iban
                    .as_deref()
                    .or(st.account.other_id.as_deref())
                    .unwrap_or("?"),
                st.currency,
                st.entries.len(),
                st.opening_balance
                    .map_or("-".into(), |b| b.amount.to_string()),
                st.closing_balance
                    .map_or("-".into(), |b| b.amount.to_string()),
            );
            for w in &st.warnings {
                println!("  warning: {w}");
            }
        }
        println!("dry run: nothing was written");
        return Ok(());
    }
    let source = name.clone();
    let report = app
        .write(cli_actor(), move |c, ctx| {
            import::import_in_tx(c, ctx, &bytes, &source)
        })
        .await
        .with_context(|| format!("{name} was not imported; nothing was written"))?;
    let matching = match no_apply {
        true => None,
        false => Some(run::run(&app, cli_actor()).await?),
    };
    if json {
        return print_json(&serde_json::json!({"import": report, "matching": matching}));
    }
    for st in &report.statements {
        if st.duplicate {
            println!(
                "{} statement {} of {}: already imported, nothing changed",
                st.format, st.statement_id, st.account
            );
            continue;
        }
        println!(
            "{} statement {} of {} ({}): {} incoming, {} outgoing, {} already known, {} not booked",
            st.format,
            st.statement_id,
            st.account,
            st.currency,
            st.credits,
            st.debits,
            st.lines_already_known,
            st.not_booked
        );
        for w in &st.warnings {
            println!("  warning: {w}");
        }
    }
    if let Some(m) = matching {
        print_match_report(&m);
    }
    Ok(())
}

async fn import_orders(database: &str, file: &Path, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let channel = o2c_app::intake::Channel::detect(&bytes);
    import_document(database, file, bytes, channel, json).await
}

pub(crate) async fn import_document(
    database: &str,
    file: &Path,
    bytes: Vec<u8>,
    channel: o2c_app::intake::Channel,
    json: bool,
) -> anyhow::Result<()> {
    use o2c_app::intake;
    let app = open(database)?;
    let name = file.display().to_string();
    let doc = intake::receive(&app, cli_actor(), channel, bytes, name.clone()).await?;
    if json {
        return print_json(&doc);
    }
    if doc.status == "rejected" {
        let reasons: Vec<String> = doc.errors.iter().map(|e| format!("\n  {e}")).collect();
        bail!(
            "{name} was refused (kept as document {}; nothing was ordered):{}",
            doc.id,
            reasons.concat()
        );
    }
    println!(
        "{name}: {} document {} from {}: {}",
        doc.channel.as_str(),
        doc.id,
        doc.sender.as_deref().unwrap_or("-"),
        doc.status
    );
    for o in &doc.orders {
        let how = if o.placed {
            "ordered"
        } else {
            "already ordered"
        };
        println!(
            "  PO {} of {}: {how} as {}",
            o.po_number, o.customer_id, o.order_id
        );
    }
    for e in &doc.errors {
        println!("  exception: {e}");
    }
    for w in &doc.warnings {
        println!("  warning: {w}");
    }
    if let Some(original) = &doc.duplicate_of {
        println!("  a re-sent copy of document {original}: nothing ordered again");
    }
    if doc.status == "exception" {
        println!(
            "  waiting in the intake exceptions queue: fix the master data, then POST /api/v1/intake/documents/{}/replay",
            doc.id
        );
    }
    match (&doc.acknowledgment, &doc.acknowledgment_note) {
        (true, _) => println!(
            "  855 acknowledgment kept: GET /api/v1/intake/documents/{}/ack",
            doc.id
        ),
        (false, Some(note)) => println!("  {note}"),
        (false, None) => {}
    }
    Ok(())
}

fn print_match_report(m: &o2c_app::cash::run::MatchReport) {
    println!(
        "cash application: {} line(s), {} applied, {} to the exceptions queue, {} settling direct-debit collections",
        m.lines, m.applied, m.exceptions, m.cleared
    );
    for (kind, n) in &m.by_kind {
        println!("  applied {kind}: {n}");
    }
    for (reason, n) in &m.by_reason {
        println!("  exception {reason}: {n}");
    }
}

async fn cash(database: &str, command: CashCommand) -> anyhow::Result<()> {
    use o2c_app::cash::{exceptions, run};
    let app = open(database)?;
    match command {
        CashCommand::Run { json } => {
            let m = run::run(&app, cli_actor()).await?;
            if json {
                return print_json(&m);
            }
            print_match_report(&m);
            Ok(())
        }
        CashCommand::CsvMapping { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mapping: o2c_bank::CsvMapping = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a CSV mapping", file.display()))?;
            app.write(cli_actor(), move |c, ctx| {
                o2c_app::cash::set_csv_mapping_in_tx(c, ctx, mapping.clone())
            })
            .await?;
            println!("saved: CSV statements are now read with {}", file.display());
            Ok(())
        }
        CashCommand::Exceptions { limit, json } => {
            let lines = app
                .read(move |c| exceptions::list(c, "exception", limit, 0))
                .await?;
            if json {
                return print_json(&lines);
            }
            for l in &lines {
                println!(
                    "{} {} {:>14} {:<30} {}",
                    l.id,
                    l.value_date,
                    l.amount.to_string(),
                    l.counterparty_name.as_deref().unwrap_or("-"),
                    l.reason.as_deref().unwrap_or("")
                );
                if let Some(s) = l.suggestions.first() {
                    let invoices: Vec<&str> = s
                        .allocations
                        .iter()
                        .map(|a| a.invoice_number.as_str())
                        .collect();
                    println!(
                        "    best suggestion: {} {} score {}: {}",
                        s.customer_id,
                        s.kind,
                        s.score,
                        invoices.join(", ")
                    );
                }
            }
            println!("{} line(s) waiting", lines.len());
            Ok(())
        }
    }
}

async fn fx(database: &str, command: FxCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        FxCommand::Import { file, source } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let rates = o2c_app::fx::parse_csv(&text)
                .with_context(|| format!("{} is not a rates file", file.display()))?;
            let stored = app
                .write(cli_actor(), move |c, ctx| {
                    o2c_app::fx::set_rates_in_tx(c, ctx, &rates, &source)
                })
                .await?;
            let days: std::collections::BTreeSet<&str> =
                stored.iter().map(|r| r.date.as_str()).collect();
            println!(
                "imported {} rate(s) for {} day(s) from {}",
                stored.len(),
                days.len(),
                file.display()
            );
            Ok(())
        }
        FxCommand::List { currency, json } => {
            let currency = currency
                .map(|c| o2c_core::Currency::parse(&c))
                .transpose()?;
            let rates = app
                .read(move |c| o2c_app::fx::list(c, currency, None, None))
                .await?;
            if json {
                return print_json(&rates);
            }
            println!(
                "{:<10} {:<4} {:<4} {:>16}  SOURCE",
                "DATE", "BASE", "CUR", "RATE"
            );
            for r in &rates {
                println!(
                    "{:<10} {:<4} {:<4} {:>16}  {}",
                    r.date, r.base, r.currency, r.rate, r.source
                );
            }
            Ok(())
        }
    }
}

async fn invoice(database: &str, command: InvoiceCommand) -> anyhow::Result<()> {
    use o2c_app::billing::document;
    use std::io::Write;
    let app = open(database)?;
    match command {
        InvoiceCommand::Pdf { id } => {
            let pdf = app
                .read(move |c| document::render_pdf(&document::build(c, &id)?))
                .await?;
            std::io::stdout().write_all(&pdf)?;
        }
        InvoiceCommand::Ubl { id } => {
            let xml = app
                .read(move |c| document::render_ubl(&document::build(c, &id)?))
                .await?;
            std::io::stdout().write_all(xml.as_bytes())?;
        }
        InvoiceCommand::Export {
            format,
            out,
            all,
            ids,
        } => {
            if !all && ids.is_empty() {
                bail!("name invoices to export, or --all");
            }
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let ids = if all {
                app.read(|c| {
                    Ok(c.query("SELECT id FROM invoices ORDER BY number", &[])?
                        .iter()
                        .map(|r| r.text(0))
                        .collect::<Vec<_>>())
                })
                .await?
            } else {
                ids
            };
            let mut written = 0;
            for chunk in ids.chunks(200) {
                let chunk = chunk.to_vec();
                let docs = app
                    .read(move |c| {
                        chunk
                            .iter()
                            .map(|id| document::build(c, id))
                            .collect::<o2c_app::Result<Vec<_>>>()
                    })
                    .await?;
                for doc in docs {
                    let (name, bytes) = if format == "pdf" {
                        (format!("{}.pdf", doc.number), document::render_pdf(&doc)?)
                    } else {
                        (
                            format!("{}.xml", doc.number),
                            document::render_ubl(&doc)?.into_bytes(),
                        )
                    };
                    let path = out.join(name);
                    std::fs::write(&path, bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                    written += 1;
                }
            }
            eprintln!("wrote {written} {format} document(s) to {}", out.display());
        }
    }
    Ok(())
}

async fn serve(database: &str, addr: SocketAddr) -> anyhow::Result<()> {
    let app = open(database)?;
    match std::env::var("O2C_SMTP_URL") {
        Ok(url) => {
            let from =
                std::env::var("O2C_SMTP_FROM").unwrap_or_else(|_| "o2c <billing@localhost>".into());
            let cfg =
                o2c_mail::SmtpConfig::parse(&url, &from).context("O2C_SMTP_URL / O2C_SMTP_FROM")?;
            let mailer = o2c_mail::Mailer::new(&cfg).context("SMTP")?;
            eprintln!(
                "o2c: invoices are e-mailed through {}:{} as {}",
                cfg.host(),
                cfg.port(),
                cfg.from()
            );
            tokio::spawn(o2c_app::billing::delivery::run_worker(app.clone(), mailer));
        }
        Err(_) => eprintln!(
            "o2c: O2C_SMTP_URL is not set: issued invoices wait in the delivery queue until it is"
        ),
    }
    let webhook_client = o2c_app::webhooks::client_from_env().map_err(anyhow::Error::msg)?;
    tokio::spawn(o2c_app::webhooks::run_worker(app.clone(), webhook_client));
    order_mail_watchers(&app)?;
    receivable::spawn_dunning(&app)?;
    match o2c_app::intake::sweep_received(&app).await {
        Ok(0) => {}
        Ok(n) => eprintln!("o2c: processed {n} order document(s) received before a stop"),
        Err(e) => eprintln!("o2c: could not process waiting order documents: {e}"),
    }
    eprintln!(
        "o2c: data in {}",
        StoreConfig::from_url(database).describe()
    );
    let no_keys = app.read(auth::count).await? == 0;
    if no_keys {
        let (key, secret) = app
            .write(Actor::Cli("o2c serve".into()), |c, ctx| {
                auth::create_in_tx(c, ctx, Role::Admin, "first admin key")
            })
            .await?;
        let path = Path::new("o2c-admin.key");
        write_secret(path, &secret)?;
        eprintln!(
            "o2c: first start: created the admin API key {} and saved its secret in ./{} (only you can read it).\n\
             o2c: see it with `cat o2c-admin.key`; use it as `Authorization: Bearer <secret>`; make more keys with `o2c keys create --role sales`.",
            key.id,
            path.display()
        );
    }
    if app.read(o2c_app::users::count_staff).await? == 0 {
        eprintln!(
            "o2c: no one can sign in to the pages yet: `o2c users add --email you@example.com --name \"Your Name\" --role admin`"
        );
    }
    eprintln!(
        "o2c: API on http://{addr}/api/v1, back office on http://{addr}/app, customer portal on http://{addr}/portal (Ctrl-C stops)"
    );
    let pages = o2c_web::router(app.clone());
    o2c_http::serve_with(app, addr, pages).await
}

/// Order e-mails: `O2C_INTAKE_MAILDIR` (a folder of `.eml` files) and `O2C_IMAP_URL`.
fn order_mail_watchers(app: &App) -> anyhow::Result<()> {
    let folder = std::env::var("O2C_INTAKE_MAILDIR")
        .ok()
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from);
    if let Some(dir) = &folder
        && !dir.is_dir()
    {
        bail!("O2C_INTAKE_MAILDIR: {} is not a folder", dir.display());
    }
    let imap = match std::env::var("O2C_IMAP_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(o2c_mail::imap::ImapConfig::parse(&url)?),
        None => None,
    };
    let every: u64 = match std::env::var("O2C_IMAP_POLL_SECS") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .context("O2C_IMAP_POLL_SECS: expected a whole number of seconds")?,
        Err(_) => 60,
    };
    if folder.is_none() && imap.is_none() {
        return Ok(());
    }
    if let Some(dir) = &folder {
        eprintln!(
            "o2c: order e-mails: watching {} for .eml files",
            dir.display()
        );
    }
    if let Some(c) = &imap {
        eprintln!(
            "o2c: order e-mails: polling imap://{}:{}/{} every {every} s",
            c.host, c.port, c.mailbox
        );
    }
    tokio::spawn(o2c_app::intake::mailbox::run_watchers(
        app.clone(),
        folder,
        imap,
        std::time::Duration::from_secs(every),
    ));
    Ok(())
}

fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(f, "{secret}")?;
    Ok(())
}

async fn keys(database: &str, command: KeysCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        KeysCommand::Create { role, label } => {
            let Some(role) = Role::parse(&role) else {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                bail!(
                    "unknown role `{role}`: expected one of {}",
                    roles.join(", ")
                );
            };
            let label = label.unwrap_or_else(|| format!("{} key", role.as_str()));
            let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
            let (key, secret) = app
                .write(Actor::Cli(user), move |c, ctx| {
                    auth::create_in_tx(c, ctx, role, &label)
                })
                .await?;
            eprintln!(
                "created {} with role {} — the secret below is shown only once:",
                key.id,
                key.role.as_str()
            );
            println!("{secret}");
        }
        KeysCommand::List => {
            for k in app.read(auth::list).await? {
                println!(
                    "{:<32} {:<12} {:<28} {}",
                    k.id,
                    k.role.as_str(),
                    k.created_at,
                    k.label
                );
            }
        }
    }
    Ok(())
}

async fn events(database: &str, order_id: &str, json: bool) -> anyhow::Result<()> {
    let app = open(database)?;
    let id = order_id.to_string();
    let events = app
        .read(move |c| {
            order::get(c, &id)?;
            event::for_order(c, &id)
        })
        .await?;
    if json {
        return print_json(&events);
    }
    println!("{:<28} {:<30} {:<40} ON", "WHEN", "EVENT", "BY");
    for e in events {
        println!(
            "{:<28} {:<30} {:<40} {}",
            e.occurred_at,
            e.kind,
            format!("{}:{}", e.actor.kind, e.actor.id),
            e.aggregate_id
        );
    }
    Ok(())
}

fn print_trial_balance(tb: &ledger::TrialBalance) -> anyhow::Result<()> {
    println!(
        "{:<6} {:<36} {:<4} {:>18}",
        "ACCT", "NAME", "CUR", "BALANCE (Dr+/Cr-)"
    );
    for a in &tb.accounts {
        println!(
            "{:<6} {:<36} {:<4} {:>18}",
            a.account, a.name, a.currency, a.balance
        );
    }
    for t in &tb.totals {
        println!("total {} = {} minor units", t.currency, t.total_minor);
    }
    println!("balanced: {}", if tb.balanced { "yes" } else { "NO" });
    let check = |what: &str, c: &ledger::SubledgerCheck| {
        println!(
            "{what} {}: subledger {} vs control account {}: {}",
            c.currency,
            c.subledger_minor,
            c.control_account_minor,
            if c.matches { "match" } else { "MISMATCH" }
        )
    };
    for c in &tb.receivables {
        check("receivables", c);
    }
    for c in &tb.unapplied_cash {
        check("unapplied cash", c);
    }
    let f = &tb.functional;
    println!("\nIn the functional currency ({}):", f.currency);
    for a in &f.accounts {
        println!("{:<6} {:<36} {:>23}", a.account, a.name, a.balance);
    }
    println!("balanced: {}", if f.balanced { "yes" } else { "NO" });
    check("receivables", &f.receivables);
    check("unapplied cash", &f.unapplied_cash);
    Ok(())
}

async fn bench(database: Option<&str>, command: BenchCommand) -> anyhow::Result<()> {
    // A benchmark gets a fresh database of its own unless one is named explicitly.
    let scratch = match database {
        Some(_) => None,
        None => Some(TestStore::new(Engine::Sqlite).context("creating a scratch database")?),
    };
    let app = match (&scratch, database) {
        (Some(s), _) => s.app()?,
        (None, Some(url)) => open(url)?,
        (None, None) => unreachable!("either a scratch store or a URL"),
    };
    match command {
        BenchCommand::Cycle {
            orders,
            in_flight,
            json,
        } => {
            let report = o2c_app::bench::run_cycle(
                &app,
                &o2c_app::bench::BenchOptions {
                    orders,
                    in_flight,
                    progress: !json,
                },
            )
            .await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
        BenchCommand::Billing {
            shipments,
            customers,
            json,
        } => {
            let report = o2c_app::bench_billing::run(&app, shipments, customers).await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
        BenchCommand::Cashapp {
            invoices,
            payments,
            seed,
            json,
        } => {
            let report = o2c_app::bench_cash::run(&app, invoices, payments, seed).await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
        BenchCommand::IntakeFiles {
            documents,
            in_flight,
            json,
        } => {
            let report = o2c_app::bench_intake_files::run(&app, documents, in_flight).await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
        BenchCommand::Aging {
            items,
            customers,
            days,
            check,
            json,
        } => {
            let report =
                o2c_app::receivable::bench::run(&app, items, customers, days, check).await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
        BenchCommand::Credit { decisions, json } => {
            let report = o2c_app::bench_credit::run(&app, decisions).await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
        BenchCommand::Intake {
            clients,
            orders,
            json,
        } => {
            let report = o2c_http::bench_intake::run(app, clients, orders).await?;
            if json {
                print_json(&report)
            } else {
                print_text(&report)
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PspCommand {
    /// Recent hosted checkout sessions: invoice, amount, status, payment.
    Sessions {
        #[arg(long)]
        customer: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SepaCommand {
    /// One pain.008 file per scheme for every open invoice due on or before the date whose
    /// customer has an active mandate; each debit is booked as a payment and applied.
    Collect {
        /// Collect what is due on or before this day (YYYY-MM-DD); also the collection date.
        #[arg(long)]
        on: String,
        /// Where to write the file (a second scheme goes to FILE with `-b2b` before the extension).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

async fn psp(database: &str, command: PspCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        PspCommand::Sessions {
            customer,
            limit,
            json,
        } => {
            let sessions = app
                .read(move |c| o2c_app::psp::list(c, customer.as_deref(), limit))
                .await?;
            if json {
                return print_json(&sessions);
            }
            println!(
                "{:<32} {:<8} {:<8} {:>14}  INVOICES / PAYMENT",
                "SESSION", "PROVIDER", "STATUS", "AMOUNT"
            );
            for s in &sessions {
                println!(
                    "{:<32} {:<8} {:<8} {:>14}  {} {}",
                    s.id,
                    s.provider,
                    s.status,
                    s.amount.to_string(),
                    s.invoice_ids.join(","),
                    s.payment_id.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

async fn sepa(database: &str, command: SepaCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        SepaCommand::Collect { on, out, json } => {
            let on = o2c_app::psp::sepa::parse_date("on", &on)?;
            let made = app
                .write(cli_actor(), move |c, ctx| {
                    o2c_app::psp::sepa::collect_in_tx(c, ctx, on)
                })
                .await?;
            let mut files = Vec::new();
            for (n, c) in made.iter().enumerate() {
                let Some(out) = &out else { break };
                let path = match n {
                    0 => out.clone(),
                    _ => out.with_file_name(format!(
                        "{}-{}.{}",
                        out.file_stem().unwrap_or_default().to_string_lossy(),
                        c.scheme.to_ascii_lowercase(),
                        out.extension().unwrap_or_default().to_string_lossy()
                    )),
                };
                let id = c.id.clone();
                let xml = app
                    .read(move |conn| o2c_app::psp::sepa::file(conn, &id))
                    .await?;
                std::fs::write(&path, xml)
                    .with_context(|| format!("writing {}", path.display()))?;
                files.push(path);
            }
            if json {
                return print_json(&made);
            }
            if made.is_empty() {
                println!("nothing to collect on {on}");
            }
            for (n, c) in made.iter().enumerate() {
                println!(
                    "{} {}: {} debit(s), {} on {}{}",
                    c.message_id,
                    c.scheme,
                    c.debit_count,
                    c.total,
                    c.collection_date,
                    files
                        .get(n)
                        .map(|f| format!(" -> {}", f.display()))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Register an endpoint; prints its signing secret once.
    Add {
        url: String,
        /// Event types, comma-separated (`order.received,invoice.paid`), or `*` for all.
        #[arg(long, default_value = "*")]
        events: String,
        #[arg(long)]
        json: bool,
    },
    /// Active endpoints.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop sending to an endpoint (its deliveries stay on record).
    Remove { id: String },
    /// The dead-letter list: deliveries given up after every retry.
    Dead {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Put a dead delivery back in the queue (`o2c serve` sends it).
    Replay { delivery_id: String },
}

async fn webhooks(database: &str, command: WebhooksCommand) -> anyhow::Result<()> {
    use o2c_app::webhooks;
    let app = open(database)?;
    match command {
        WebhooksCommand::Add { url, events, json } => {
            let types: Vec<String> = events.split(',').map(|t| t.trim().to_string()).collect();
            let new = webhooks::NewEndpoint::parse(&url, &types)?;
            let created = app
                .write(cli_actor(), move |c, ctx| {
                    webhooks::create_in_tx(c, ctx, &new)
                })
                .await?;
            if json {
                return print_json(&created);
            }
            println!(
                "{} {} ({})\nsecret (shown once): {}",
                created.endpoint.id,
                created.endpoint.url,
                created.endpoint.event_types.join(","),
                created.secret
            );
            Ok(())
        }
        WebhooksCommand::List { json } => {
            let list = app.read(webhooks::list).await?;
            if json {
                return print_json(&list);
            }
            for e in &list {
                println!("{:<32} {}  {}", e.id, e.url, e.event_types.join(","));
            }
            Ok(())
        }
        WebhooksCommand::Remove { id } => {
            let e = app
                .write(cli_actor(), move |c, ctx| {
                    webhooks::remove_in_tx(c, ctx, &id)
                })
                .await?;
            println!("{} removed", e.id);
            Ok(())
        }
        WebhooksCommand::Dead { limit, json } => {
            let dead = app
                .read(move |c| webhooks::deliveries(c, Some("dead"), None, limit))
                .await?;
            if json {
                return print_json(&dead);
            }
            for d in &dead {
                println!(
                    "{:<32} {:<28} {} attempts  {}  {}",
                    d.id,
                    d.event_type,
                    d.attempts,
                    d.url,
                    d.last_error.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
        WebhooksCommand::Replay { delivery_id } => {
            let d = app
                .write(cli_actor(), move |c, ctx| {
                    webhooks::replay_in_tx(c, ctx, &delivery_id)
                })
                .await?;
            println!("{} {}", d.id, d.status);
            Ok(())
        }
    }
}
