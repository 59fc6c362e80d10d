//! `o2c demo`: fills a fresh database with a small, realistic company and runs the whole
//! order-to-cash cycle through the real use-cases, so every step writes its events and journal
//! entries exactly as in production. The demo acts as the people of the company: the web shop,
//! the EDI gateway and the sales desk place orders, a credit analyst works the hold queue, the
//! customer service cancels a few orders, the warehouse dispatches and receives goods, and the
//! bank feed reports payments. Everything else is the engine's automation.
//!
//! The data comes from a seeded generator: the same seed gives the same company.

mod bank;
mod company;
mod display;
mod generator;
mod people;
mod summary;

pub use summary::{
    CreditFigures, DemoSummary, InvoiceFigures, PaymentFigures, StatusCount, Touchless,
};

use crate::bench::{StageProgress, place};
use crate::{App, Result};
use company::{master_data, order_request};
use generator::Rng;
use o2c_core::DomainError;
use o2c_store::params;
use people::{act, cancel_some, dispatch_planned, pay_invoices, receive_backordered, review_holds};
use std::time::Instant;
use summary::summarize;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub customers: usize,
    pub products: usize,
    pub orders: usize,
    pub seed: u64,
    pub progress: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            customers: 300,
            products: 2000,
            orders: 1000,
            seed: 42,
            progress: false,
        }
    }
}

const STAGES: [&str; 8] = [
    "master data",
    "order intake",
    "credit, stock, shipping",
    "credit review",
    "dispatch",
    "stock receipts",
    "payments",
    "cash application",
];

/// Builds the company and runs the cycle; refuses a database that already holds customers.
pub async fn run(app: &App, opts: &DemoOptions) -> Result<DemoSummary> {
    let started = Instant::now();
    ensure_fresh(app, opts).await?;
    let mut rng = Rng(opts.seed);
    let progress = StageProgress::new(opts.progress, opts.orders, &STAGES);
    progress.stage(0);
    let world = master_data(app, &mut rng, opts).await?;

    progress.stage(1);
    let orders = (0..opts.orders)
        .map(|k| order_request(&mut rng, &world, k))
        .collect();
    act(app, orders, place, |d, t| progress.advance(1, d, t)).await?;
    progress.stage(2);
    app.settle().await?;

    progress.stage(3);
    let cancelled = cancel_some(app, &mut rng, opts.orders).await?;
    review_holds(app, &mut rng).await?;
    app.settle().await?;

    progress.stage(4);
    dispatch_planned(app, &progress, 4).await?;
    app.settle().await?;

    progress.stage(5);
    receive_backordered(app, &mut rng).await?;
    app.settle().await?;
    dispatch_planned(app, &progress, 5).await?;
    app.settle().await?;
    // Month end for the customers billed consolidated.
    let period = crate::billing::run::Period::parse(&app.today().format("%Y-%m").to_string())?;
    crate::billing::run::run(app, people::user("billing"), period, false).await?;
    app.settle().await?;

    progress.stage(6);
    pay_invoices(app, &mut rng, &progress).await?;
    progress.stage(7);
    app.settle().await?;
    progress.finish();
    summarize(app, opts.seed, cancelled, started.elapsed().as_secs_f64()).await
}

async fn ensure_fresh(app: &App, opts: &DemoOptions) -> Result<()> {
    if opts.orders > 0 && (opts.customers == 0 || opts.products == 0) {
        return Err(DomainError::invalid(
            "customers",
            "orders need at least one customer and one product",
        )
        .into());
    }
    let customers = app
        .read(|c| {
            Ok(c.query_one("SELECT COUNT(*) FROM customers", params![])?
                .int(0))
        })
        .await?;
    if customers > 0 {
        let reason =
            format!("already holds data ({customers} customers); point o2c demo at a new database");
        return Err(DomainError::invalid("database", reason).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::company::{customer_request, product_request};
    use super::display::thousands;
    use super::generator::{CATALOGUE, COUNTRIES, table};
    use super::*;
    use crate::AppError;
    use crate::testing::{Engine, TestStore};
    use std::collections::HashSet;

    fn count(rows: &[StatusCount], status: &str) -> i64 {
        rows.iter()
            .find(|r| r.status == status)
            .map_or(0, |r| r.count)
    }

    async fn a_small_company_runs_through_the_whole_cycle(engine: Engine) {
        let Some(store) = TestStore::new(engine) else {
            return;
        };
        let app = store.app().expect("open the test store");
        let opts = DemoOptions {
            customers: 20,
            products: 50,
            orders: 60,
            seed: 7,
            progress: false,
        };
        let s = run(&app, &opts).await.expect("the demo runs");
        assert_eq!((s.customers, s.products, s.warehouses), (20, 50, 2));
        documents_add_up(&s);
        people_and_rules_both_acted(&s);
        books_balance(&s);
        let receipts_sql = "SELECT COUNT(*) FROM stock_movements WHERE kind = 'receipt'";
        let receipts = app
            .read(move |c| Ok(c.query_one(receipts_sql, params![])?.int(0)))
            .await;
        assert!(
            receipts.unwrap() > 0,
            "backorders happened and goods arrived for them"
        );
        let shown = s.to_string();
        assert!(
            shown.contains("Trial balance") && shown.contains("Touchless rate"),
            "{shown}"
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["trial_balance"]["balanced"], serde_json::json!(true));

        let again = run(&app, &opts).await;
        let refused = matches!(
            again,
            Err(AppError::Domain(DomainError::InvalidField { .. }))
        );
        assert!(refused, "a used database is refused");
    }

    fn documents_add_up(s: &DemoSummary) {
        assert_eq!(s.orders_total, 60);
        let by_status: i64 = s.orders.iter().map(|c| c.count).sum();
        assert_eq!(by_status, 60, "every order has exactly one status");
        assert!(
            count(&s.orders, "closed") > 0,
            "some orders went all the way: {:?}",
            s.orders
        );
        assert_eq!(
            count(&s.orders, "received"),
            0,
            "the engine decided every order"
        );
        assert_eq!(count(&s.orders, "cancelled") as usize, s.cancelled_by_demo);
        // Every dispatched shipment billed; customers billed per order or monthly get one
        // invoice for several shipments.
        let invoices: i64 = s.invoices.iter().map(|i| i.count).sum();
        assert!(invoices > 0 && invoices <= count(&s.shipments, "dispatched"));
        assert_eq!(s.unbilled_shipments, 0, "the month-end run billed the rest");
        assert!(
            s.payments.count > 0 && s.payments.unapplied.is_positive(),
            "{:?}",
            s.payments
        );
        assert_eq!(s.failed_automations, 0);
    }

    fn people_and_rules_both_acted(s: &DemoSummary) {
        let c = &s.credit;
        assert!(
            c.held_by_rule > 0 && c.released_by_analyst > 0,
            "holds happened: {c:?}"
        );
        assert_eq!(c.holds_open, count(&s.orders, "credit_hold"));
        let t = &s.touchless;
        assert!(
            (0.0..=1.0).contains(&t.rate) && t.decided_orders > 0,
            "{t:?}"
        );
        assert!(
            t.touchless_orders < t.decided_orders,
            "reviewed orders are not touchless"
        );
    }

    fn books_balance(s: &DemoSummary) {
        let tb = &s.trial_balance;
        assert!(tb.is_sound(), "{tb:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_runs_a_small_company_through_the_whole_cycle_on_sqlite() {
        a_small_company_runs_through_the_whole_cycle(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_runs_a_small_company_through_the_whole_cycle_on_postgres() {
        a_small_company_runs_through_the_whole_cycle(Engine::Postgres).await;
    }

    #[test]
    fn the_same_seed_makes_the_same_company() {
        let make = |seed| {
            let mut rng = Rng(seed);
            let mut names = HashSet::new();
            let (countries, families) = (table(COUNTRIES), table(CATALOGUE));
            let customer = customer_request(&mut rng, &countries, &mut names, false);
            (customer.name, product_request(&mut rng, &families, 3).name)
        };
        assert_eq!(make(1), make(1));
        assert_ne!(make(1), make(2));
        assert_eq!(thousands("-1234567.89"), "-1,234,567.89");
        assert_eq!(thousands("123"), "123");
    }
}
