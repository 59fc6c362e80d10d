//! `o2c bench cycle`: the whole order-to-cash cycle over N orders, stage by stage, through the
//! real use-cases and the real engine, on whatever store the [`App`] was opened on.
//!
//! Every stage takes all N orders one step further, so each stage's figure is a throughput of
//! that step alone: intake (N concurrent `app.write`s, which the store commits in groups), the
//! credit decision with reservation and shipment planning (the engine), dispatch (N concurrent
//! writes), invoicing (the engine), payment (one full payment per invoice, concurrent) and cash
//! application with closing (the engine). The run ends by checking that every order closed and the books balance: a
//! benchmark that silently measured a broken cycle would be worthless.

use crate::customer::{self, CustomerRequest, NewCustomer};
use crate::inventory::{self, ProductRequest, StockLevel, WarehouseRequest};
use crate::order::{self, OrderLineRequest, OrderRequest};
use crate::payment::{self, PaymentRequest};
use crate::{App, AppError, Ctx, Result, engine, ledger, shipment};
use indicatif::{ProgressBar, ProgressStyle};
use o2c_core::customer::Address;
use o2c_core::money::decimal_string;
use o2c_core::{Actor, DomainError};
use o2c_store::{Conn, params};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub orders: usize,
    /// Writes waiting at once; the store's writer commits whatever is waiting together.
    pub in_flight: usize,
    pub progress: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            orders: 10_000,
            in_flight: 256,
            progress: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub name: String,
    pub seconds: f64,
    pub orders_per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// `sqlite` or `postgres`.
    pub engine: String,
    pub orders: usize,
    pub stages: Vec<StageReport>,
    /// The sum of the stages (setup and the final checks are not timed).
    pub end_to_end_seconds: f64,
    pub end_to_end_orders_per_second: f64,
    /// The process's peak resident memory (VmHWM), 0 where /proc is not available.
    pub peak_rss_mib: f64,
}

const CUSTOMERS: usize = 200;
const PRODUCTS: usize = 1000;
const LINES: usize = 3;
const MAX_QUANTITY: usize = 5;
const STAGES: [&str; 6] = [
    "intake",
    "credit+reserve+plan",
    "dispatch",
    "invoice",
    "payment",
    "apply+close",
];

/// Runs the cycle on a database that holds no orders yet (the checks at the end count them all).
pub async fn run_cycle(app: &App, opts: &BenchOptions) -> Result<BenchReport> {
    let n = opts.orders;
    if n == 0 {
        return Err(DomainError::invalid("orders", "expected at least one order").into());
    }
    let customers = setup(app, n).await?;
    let p = &StageProgress::new(opts.progress, n, &STAGES);
    let w = opts.in_flight.max(1);
    let stages = vec![
        timed(p, 0, n, intake(app, &customers, n, w, p)).await?,
        timed(p, 1, n, app.settle()).await?,
        timed(p, 2, n, dispatch_planned(app, w, p)).await?,
        timed(p, 3, n, app.settle()).await?,
        timed(p, 4, n, pay_invoices(app, w, p)).await?,
        timed(p, 5, n, app.settle()).await?,
    ];
    p.finish();
    verify(app, n).await?;
    let end_to_end_seconds = stages.iter().map(|s| s.seconds).sum();
    Ok(BenchReport {
        engine: app.dialect().to_string(),
        orders: n,
        stages,
        end_to_end_seconds,
        end_to_end_orders_per_second: per_second(n, end_to_end_seconds),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// Times one stage, from the moment its work starts until all of it is committed.
async fn timed<T>(
    progress: &StageProgress,
    stage: usize,
    orders: usize,
    work: impl Future<Output = Result<T>>,
) -> Result<StageReport> {
    progress.stage(stage);
    let started = Instant::now();
    work.await?;
    let seconds = started.elapsed().as_secs_f64();
    let orders_per_second = per_second(orders, seconds);
    Ok(StageReport {
        name: STAGES[stage].to_string(),
        seconds,
        orders_per_second,
    })
}

async fn intake(
    app: &App,
    customers: &[String],
    n: usize,
    w: usize,
    p: &StageProgress,
) -> Result<()> {
    let actor = || Actor::ApiKey("bench-intake".into());
    let orders = (0..n)
        .map(|i| (actor(), order_request(customers, i)))
        .collect();
    write_each(app, orders, w, place, |d, t| p.advance(0, d, t))
        .await
        .map(drop)
}

/// The warehouse dispatches every planned shipment (their ids read in one query).
async fn dispatch_planned(app: &App, in_flight: usize, p: &StageProgress) -> Result<()> {
    let sql = "SELECT id FROM shipments WHERE status = 'planned' ORDER BY id";
    let planned = app.read(move |c| ids(c, sql)).await?;
    let work = planned
        .into_iter()
        .map(|id| (Actor::User("warehouse".into()), id))
        .collect();
    write_each(app, work, in_flight, dispatch, |d, t| p.advance(2, d, t))
        .await
        .map(drop)
}

async fn pay_invoices(app: &App, in_flight: usize, p: &StageProgress) -> Result<()> {
    let payments = app.read(open_invoices).await?;
    let actor = || Actor::ApiKey("bench-bank-feed".into());
    let work = payments.into_iter().map(|r| (actor(), r)).collect();
    write_each(app, work, in_flight, pay, |d, t| p.advance(4, d, t))
        .await
        .map(drop)
}

fn per_second(n: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

pub(crate) fn place(conn: &mut dyn Conn, ctx: &Ctx, r: &OrderRequest) -> Result<()> {
    order::place_in_tx(conn, ctx, r).map(drop)
}

// `&String` because the work items of `write_each` are owned ids.
#[allow(clippy::ptr_arg)]
pub(crate) fn dispatch(conn: &mut dyn Conn, ctx: &Ctx, shipment_id: &String) -> Result<()> {
    shipment::dispatch_in_tx(conn, ctx, shipment_id).map(drop)
}

pub(crate) fn pay(conn: &mut dyn Conn, ctx: &Ctx, r: &PaymentRequest) -> Result<()> {
    payment::record_in_tx(conn, ctx, r).map(drop)
}

/// One warehouse, customers with limits no benchmark reaches, and products with stock for every
/// line the run will order (lines cycle through the catalogue, so the need is known up front).
async fn setup(app: &App, orders: usize) -> Result<Vec<String>> {
    let existing = app
        .read(|c| {
            Ok(c.query_one("SELECT COUNT(*) FROM orders", params![])?
                .int(0))
        })
        .await?;
    if existing > 0 {
        return Err(DomainError::invalid(
            "database",
            "already holds orders; run the benchmark on a new database",
        )
        .into());
    }
    let admin = || Actor::User("bench.setup".into());
    app.write(admin(), |c, ctx| {
        inventory::create_warehouse_in_tx(
            c,
            ctx,
            &WarehouseRequest {
                code: "MAIN".into(),
                name: "Main warehouse".into(),
                priority: Some(1),
                country: None,
                postal_code: None,
            },
        )
    })
    .await?;
    let stock = ((orders * LINES).div_ceil(PRODUCTS) * MAX_QUANTITY + 10) as i64;
    let products: Vec<ProductRequest> = (0..PRODUCTS).map(|k| product_request(k, stock)).collect();
    for chunk in products.chunks(250) {
        let chunk = chunk.to_vec();
        app.write(admin(), move |c, ctx| {
            chunk
                .iter()
                .try_for_each(|p| inventory::create_product_in_tx(c, ctx, p).map(drop))
        })
        .await?;
    }
    let new: Vec<NewCustomer> = (0..CUSTOMERS)
        .map(customer_request)
        .map(NewCustomer::parse)
        .collect::<Result<_>>()?;
    let mut ids = Vec::with_capacity(CUSTOMERS);
    for chunk in new.chunks(100) {
        let chunk = chunk.to_vec();
        let created = app
            .write(admin(), move |c, ctx| {
                chunk
                    .iter()
                    .map(|n| customer::create_in_tx(c, ctx, n).map(|x| x.id))
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        ids.extend(created);
    }
    Ok(ids)
}

fn sku(k: usize) -> String {
    format!("BENCH-{k:05}")
}

fn product_request(k: usize, stock: i64) -> ProductRequest {
    ProductRequest {
        weight_g: None,
        sku: sku(k),
        name: format!("Benchmark article {k}"),
        unit_price: decimal_string(500 + (k as i64 * 7919) % 20_000, 2),
        currency: "EUR".into(),
        tax_category: Some(
            if k.is_multiple_of(7) {
                "reduced"
            } else {
                "standard"
            }
            .into(),
        ),
        stock: vec![StockLevel {
            warehouse: "MAIN".into(),
            quantity: stock,
        }],
    }
}

fn customer_request(i: usize) -> CustomerRequest {
    let country = ["DE", "FR", "NL", "AT"][i % 4];
    let address = Address {
        line1: format!("Industriestraße {}", i + 1),
        line2: None,
        city: "Musterstadt".into(),
        postal_code: "10115".into(),
        country: country.into(),
        region: None,
    };
    CustomerRequest {
        name: format!("Benchmark Customer {i:03}"),
        email: None,
        currency: "EUR".into(),
        payment_terms_days: 30,
        credit_limit: "1000000000.00".into(),
        billing_address: Some(address.clone()),
        shipping_address: Some(address),
    }
}

fn order_request(customers: &[String], i: usize) -> OrderRequest {
    OrderRequest {
        freight: None,
        customer_id: customers[i % customers.len()].clone(),
        currency: None,
        customer_reference: Some(format!("BENCH-PO-{i}")),
        requested_delivery_on: None,
        ship_to: None,
        lines: (0..LINES)
            .map(|j| OrderLineRequest {
                sku: sku((i * LINES + j) % PRODUCTS),
                quantity: (1 + (i + j) % MAX_QUANTITY) as i64,
            })
            .collect(),
    }
}

pub(crate) fn ids(conn: &mut dyn Conn, sql: &str) -> Result<Vec<String>> {
    Ok(conn
        .query(sql, params![])?
        .iter()
        .map(|r| r.text(0))
        .collect())
}

/// One payment per open invoice, for its open amount, naming it (as a remittance advice would).
fn open_invoices(conn: &mut dyn Conn) -> Result<Vec<PaymentRequest>> {
    let rows = conn.query("SELECT id, number, customer_id, open_minor, currency FROM invoices WHERE open_minor > 0 ORDER BY number", params![])?;
    rows.iter()
        .map(|r| {
            let currency = o2c_core::Currency::parse(&r.text(4))?;
            Ok(PaymentRequest {
                customer_id: r.text(2),
                amount: decimal_string(r.int(3), currency.exponent()),
                currency: currency.code().to_string(),
                method: None,
                reference: Some(r.text(1)),
                received_on: None,
                invoice_ids: vec![r.text(0)],
            })
        })
        .collect()
}

/// Every order closed, no automation left failing, the books balanced and the subledgers equal
/// to their control accounts.
async fn verify(app: &App, n: usize) -> Result<()> {
    let (total, closed, failures, tb) = app
        .read(|c| {
            let r = c.query_one("SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END), 0) AS BIGINT) FROM orders", params![])?;
            Ok((r.int(0), r.int(1), engine::failures(c)?, ledger::trial_balance(c)?))
        })
        .await?;
    let broken = |what: String| Err(AppError::Internal(format!("bench cycle is broken: {what}")));
    if total != n as i64 || closed != total {
        return broken(format!(
            "{closed} of {total} orders closed, expected all {n}"
        ));
    }
    if let Some(f) = failures.first() {
        return broken(format!(
            "{} automations failed, first {} on {}: {}",
            failures.len(),
            f.event_type,
            f.aggregate_id,
            f.last_error.as_deref().unwrap_or("?")
        ));
    }
    if !tb.is_sound() {
        return broken(format!(
            "the books do not balance: totals {:?}, receivables {:?}, functional {:?}",
            tb.totals, tb.receivables, tb.functional
        ));
    }
    Ok(())
}

/// Peak resident set size of this process in MiB (VmHWM in /proc/self/status, given in kB).
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs `work` once per item, each in its own `app.write`, with up to `in_flight` writes waiting
/// at once so that the store commits them in groups. Results come back in item order; a
/// transient conflict is retried like any client would; the first other error stops the run.
pub(crate) async fn write_each<I, T>(
    app: &App,
    items: Vec<(Actor, I)>,
    in_flight: usize,
    work: fn(&mut dyn Conn, &Ctx, &I) -> Result<T>,
    on_done: impl Fn(usize, usize),
) -> Result<Vec<T>>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
{
    let total = items.len();
    let mut out: Vec<Option<T>> = (0..total).map(|_| None).collect();
    let mut set: JoinSet<(usize, Result<T>)> = JoinSet::new();
    let mut items = items.into_iter().enumerate();
    let mut done = 0;
    loop {
        while set.len() < in_flight.max(1) {
            let Some((i, (actor, item))) = items.next() else {
                break;
            };
            let app = app.clone();
            set.spawn(async move { (i, write_retrying(&app, actor, Arc::new(item), work).await) });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (i, result) =
            joined.map_err(|e| AppError::Internal(format!("a write task failed: {e}")))?;
        out[i] = Some(result?);
        done += 1;
        on_done(done, total);
    }
    Ok(out
        .into_iter()
        .map(|o| o.expect("every item was written"))
        .collect())
}

const CONFLICT_RETRIES: usize = 5;

async fn write_retrying<I, T>(
    app: &App,
    actor: Actor,
    item: Arc<I>,
    work: fn(&mut dyn Conn, &Ctx, &I) -> Result<T>,
) -> Result<T>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
{
    let mut attempt = 0;
    loop {
        let it = item.clone();
        match app
            .write(actor.clone(), move |c, ctx| work(c, ctx, &it))
            .await
        {
            Err(AppError::Db(e)) if e.is_conflict() && attempt < CONFLICT_RETRIES => {
                attempt += 1;
                tracing::debug!(attempt, error = %e, "write conflicted; retrying");
            }
            other => return other,
        }
    }
}

/// One progress bar over named stages, each worth one "order" of work per order, so the bar
/// moves per order whatever documents a stage handles. Hidden unless asked for.
pub(crate) struct StageProgress {
    bar: ProgressBar,
    orders: u64,
    names: Vec<&'static str>,
}

impl StageProgress {
    pub(crate) fn new(show: bool, orders: usize, names: &[&'static str]) -> StageProgress {
        let orders = orders.max(1) as u64;
        let bar = if show {
            ProgressBar::new(orders * names.len() as u64)
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        StageProgress {
            bar,
            orders,
            names: names.to_vec(),
        }
    }

    pub(crate) fn stage(&self, i: usize) {
        self.bar.set_message(self.names[i]);
        self.bar.set_position(i as u64 * self.orders);
    }

    /// `done` of `total` documents of stage `i` are through.
    pub(crate) fn advance(&self, i: usize, done: usize, total: usize) {
        let share = (done as u64 * self.orders) / total.max(1) as u64;
        self.bar
            .set_position(i as u64 * self.orders + share.min(self.orders));
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "o2c bench cycle: {} orders on {}",
            self.orders, self.engine
        )?;
        writeln!(f)?;
        writeln!(f, "{:<22} {:>10} {:>12}", "stage", "seconds", "orders/s")?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<22} {:>10.3} {:>12.0}",
                s.name, s.seconds, s.orders_per_second
            )?;
        }
        writeln!(f, "{:-<46}", "")?;
        writeln!(
            f,
            "{:<22} {:>10.3} {:>12.0}",
            "end to end", self.end_to_end_seconds, self.end_to_end_orders_per_second
        )?;
        writeln!(f)?;
        writeln!(f, "peak memory (RSS): {:.1} MiB", self.peak_rss_mib)?;
        write!(
            f,
            "checked: every order closed, books balanced, subledgers match their control accounts"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Engine, TestStore};

    async fn a_cycle_of_200_orders_closes_every_order_with_balanced_books(engine: Engine) {
        let Some(store) = TestStore::new(engine) else {
            return;
        };
        let app = store.app().expect("open the test store");
        let report = run_cycle(
            &app,
            &BenchOptions {
                orders: 200,
                in_flight: 64,
                progress: false,
            },
        )
        .await
        .expect("the cycle runs and checks out");
        assert_eq!(report.orders, 200);
        assert_eq!(report.engine, app.dialect().to_string());
        assert_eq!(
            report
                .stages
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            STAGES
        );
        let sum: f64 = report.stages.iter().map(|s| s.seconds).sum();
        assert!((report.end_to_end_seconds - sum).abs() < 1e-9);
        assert!(report.end_to_end_orders_per_second > 0.0);
        assert!(report.peak_rss_mib > 0.0);
        let (open, paid) = app
            .read(|c| {
                let open = c
                    .query_one(
                        "SELECT COUNT(*) FROM orders WHERE status <> 'closed'",
                        params![],
                    )?
                    .int(0);
                let paid = c
                    .query_one(
                        "SELECT COUNT(*) FROM invoices WHERE payment_status = 'paid'",
                        params![],
                    )?
                    .int(0);
                Ok((open, paid))
            })
            .await
            .unwrap();
        assert_eq!((open, paid), (0, 200));
        assert!(report.to_string().contains("end to end"));

        let again = run_cycle(
            &app,
            &BenchOptions {
                orders: 10,
                in_flight: 4,
                progress: false,
            },
        )
        .await;
        assert!(
            matches!(
                again,
                Err(AppError::Domain(DomainError::InvalidField { .. }))
            ),
            "a used database is refused"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_bench_cycle_closes_every_order_on_sqlite() {
        a_cycle_of_200_orders_closes_every_order_with_balanced_books(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_bench_cycle_closes_every_order_on_postgres() {
        a_cycle_of_200_orders_closes_every_order_with_balanced_books(Engine::Postgres).await;
    }
}
