//! `o2c bench intake`: many concurrent HTTP clients placing orders against a real server on
//! loopback. Reports durable orders per second (a 201 means committed to disk) and latencies.

use o2c_app::customer::{CustomerRequest, NewCustomer};
use o2c_app::inventory::{ProductRequest, StockLevel, WarehouseRequest};
use o2c_app::{App, auth, customer, inventory};
use o2c_core::customer::Address;
use o2c_core::{Actor, Role};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct IntakeReport {
    pub engine: String,
    pub clients: usize,
    pub orders: usize,
    pub failed: usize,
    pub seconds: f64,
    pub orders_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl fmt::Display for IntakeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "POST /api/v1/orders on {} with {} concurrent clients",
            self.engine, self.clients
        )?;
        writeln!(f, "  orders accepted (durable) {:>10}", self.orders)?;
        writeln!(f, "  failed                    {:>10}", self.failed)?;
        writeln!(f, "  elapsed                   {:>10.2} s", self.seconds)?;
        writeln!(
            f,
            "  throughput                {:>10.0} orders/s",
            self.orders_per_second
        )?;
        writeln!(
            f,
            "  latency p50 / p99 / max   {:.1} / {:.1} / {:.1} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// Sets up a customer, products and a sales key directly through the app, then serves the API
/// on 127.0.0.1:0 (without the engine: this measures intake) and loads it.
pub async fn run(app: App, clients: usize, orders: usize) -> anyhow::Result<IntakeReport> {
    let (customer_id, skus, secret) = setup(&app).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(axum::serve(listener, crate::router(app.clone())).into_future());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (client, next, customer_id, skus, secret) = (
            client.clone(),
            next.clone(),
            customer_id.clone(),
            skus.clone(),
            secret.clone(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= orders {
                    break;
                }
                let body = serde_json::json!({
                    "customer_id": customer_id,
                    "lines": [{"sku": skus[i % skus.len()], "quantity": 1 + (i % 3)}, {"sku": skus[(i + 7) % skus.len()], "quantity": 1}],
                });
                let t = Instant::now();
                let resp = client
                    .post(format!("http://{addr}/api/v1/orders"))
                    .bearer_auth(&secret)
                    .header("Idempotency-Key", format!("bench-{c}-{i}"))
                    .json(&body)
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().as_u16() == 201 => latencies.push(t.elapsed()),
                    _ => failed += 1,
                }
            }
            (latencies, failed)
        });
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(orders);
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        let (l, f) = r?;
        latencies.extend(l);
        failed += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    server.abort();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(IntakeReport {
        engine: app.dialect().to_string(),
        clients,
        orders: latencies.len(),
        failed,
        seconds,
        orders_per_second: latencies.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    })
}

async fn setup(app: &App) -> anyhow::Result<(String, Vec<String>, String)> {
    let actor = Actor::Cli("bench".into());
    let addr = Address {
        line1: "Hafenstrasse 1".into(),
        line2: None,
        city: "Hamburg".into(),
        postal_code: "20457".into(),
        country: "DE".into(),
        region: None,
    };
    let new = NewCustomer::parse(CustomerRequest {
        name: "Bench Retail GmbH".into(),
        email: None,
        currency: "EUR".into(),
        payment_terms_days: 30,
        credit_limit: "1000000000".into(),
        billing_address: Some(addr.clone()),
        shipping_address: Some(addr),
    })?;
    let (customer, skus, secret) = app
        .write(actor, move |c, ctx| {
            let cust = customer::create_in_tx(c, ctx, &new)?;
            inventory::create_warehouse_in_tx(
                c,
                ctx,
                &WarehouseRequest {
                    code: "BENCH".into(),
                    name: "Bench warehouse".into(),
                    priority: None,
                    country: None,
                    postal_code: None,
                },
            )?;
            let mut skus = Vec::new();
            for i in 0..100 {
                let p = inventory::create_product_in_tx(
                    c,
                    ctx,
                    &ProductRequest {
                        weight_g: None,
                        sku: format!("BENCH-{i:03}"),
                        name: format!("Bench item {i}"),
                        unit_price: format!("{}.50", 3 + i),
                        currency: "EUR".into(),
                        tax_category: None,
                        stock: vec![StockLevel {
                            warehouse: "BENCH".into(),
                            quantity: 1_000_000,
                        }],
                    },
                )?;
                skus.push(p.sku);
            }
            let (_, secret) = auth::create_in_tx(c, ctx, Role::Sales, "intake benchmark")?;
            Ok((cust.id, skus, secret))
        })
        .await?;
    Ok((customer, skus, secret))
}
