//! The o2c application: use-cases per subprocess (each `*_in_tx` joins the caller's
//! transaction), the event engine that automates the cycle, and the `App` handle that
//! interfaces (HTTP, CLI) use to run them through the store.

pub mod auth;
pub mod bench;
pub mod bench_billing;
pub mod bench_cash;
pub mod bench_credit;
pub mod bench_intake_files;
pub mod billing;
pub mod cash;
pub mod context;
pub mod credit;
pub mod customer;
pub mod demo;
pub mod engine;
pub mod error;
pub mod event;
pub mod fulfilment;
pub mod fx;
pub mod idempotency;
pub mod intake;
pub mod inventory;
pub mod invoice;
pub mod ledger;
pub mod notify;
pub mod order;
pub mod payment;
pub mod psp;
pub mod receivable;
pub mod service;
pub mod shipment;
pub mod shipping;
pub mod testing;
pub mod users;
pub mod webhooks;

pub use context::{Clock, Ctx, ManualClock, SystemClock, UuidV7Ids};
pub use error::{AppError, Result};
pub use o2c_store::{Conn, Dialect, StoreConfig, Value, params};

use o2c_core::Actor;
use o2c_core::id::IdGen;
use o2c_store::Store;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct App {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
}

impl App {
    /// Opens the store (migrating it) with the system clock.
    pub fn open(config: &StoreConfig) -> Result<App> {
        App::open_with(config, Arc::new(SystemClock))
    }

    pub fn open_with(config: &StoreConfig, clock: Arc<dyn Clock>) -> Result<App> {
        Ok(App {
            store: Store::open(config)?,
            clock,
            ids: Arc::new(UuidV7Ids),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.store.dialect()
    }

    /// Today by the application's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.now().date_naive()
    }

    pub fn ctx(&self, actor: Actor) -> Ctx {
        Ctx {
            actor,
            now: self.clock.now(),
            ids: self.ids.clone(),
        }
    }

    /// Runs a use-case in a (group-committed) write transaction; resolves once it is durable.
    pub async fn write<T, F>(&self, actor: Actor, mut work: F) -> Result<T>
    where
        F: FnMut(&mut dyn Conn, &Ctx) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let ctx = self.ctx(actor);
        self.store.write(move |conn| work(conn, &ctx)).await
    }

    /// Blocking form of [`write`](Self::write) for the command line.
    pub fn write_blocking<T, F>(&self, actor: Actor, mut work: F) -> Result<T>
    where
        F: FnMut(&mut dyn Conn, &Ctx) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let ctx = self.ctx(actor);
        self.store.write_blocking(move |conn| work(conn, &ctx))
    }

    /// Runs a query in one consistent snapshot on a reader connection.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.store.read(work).await
    }

    /// One engine step of up to `limit` events.
    pub async fn engine_step(&self, limit: usize) -> Result<engine::StepOutcome> {
        use engine::Isolation;
        let run = |isolation| {
            self.write(Actor::Rule("engine"), move |conn, ctx| {
                engine::step_in_tx(conn, ctx, limit, isolation)
            })
        };
        match run(Isolation::Shared).await {
            Err(AppError::Db(e)) => Err(AppError::Db(e)),
            // A reaction failed: run the step again with each reaction isolated.
            Err(_) => run(Isolation::Isolated).await,
            ok => ok,
        }
    }

    /// Runs the engine until nothing is left to do (tests, demo, benchmarks, the CLI). An
    /// automation that failed is an error here, so it cannot go unnoticed.
    pub async fn settle(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let step = self.engine_step(512).await?;
            total += step.processed;
            if step.processed == 0 && step.failed == 0 {
                break;
            }
        }
        let failures = self.read(engine::failures).await?;
        if let Some(f) = failures.first() {
            return Err(AppError::Internal(format!(
                "{} automation(s) failed; first: {} on {} ({} attempts): {}",
                failures.len(),
                f.event_type,
                f.aggregate_id,
                f.attempts,
                f.last_error.as_deref().unwrap_or("no message")
            )));
        }
        Ok(total)
    }

    /// The engine as a background task of `o2c serve`: wakes on every commit.
    pub async fn run_engine(self) {
        let committed = self.store.committed();
        loop {
            match self.engine_step(512).await {
                Ok(s) if s.processed > 0 => continue,
                Ok(_) => {
                    let _ = tokio::time::timeout(Duration::from_millis(500), committed.notified())
                        .await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "engine step failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}
