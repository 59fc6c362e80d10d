//! `o2c bench billing`: the time to bill N dispatched shipments in one consolidated billing run,
//! and documents rendered per second (PDF, UBL) on one core.
//!
//! The shipments are written straight into a fresh store in bulk (customers billed
//! consolidated, one order and one dispatched shipment each, two lines, two tax rates): what is
//! measured is the billing run alone, through the same `billing::run` the CLI and API use. The
//! run ends by checking that every shipment was billed and the books balance.

use crate::billing::{self, CompanyProfile, document, run};
use crate::error::{AppError, Result};
use crate::{App, ledger};
use o2c_core::Actor;
use o2c_core::customer::Address;
use o2c_store::Value;
use serde::Serialize;
use std::fmt;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct BillingBenchReport {
    pub shipments: usize,
    pub customers: usize,
    pub invoices: usize,
    pub setup_seconds: f64,
    pub run_seconds: f64,
    pub shipments_per_second: f64,
    pub documents_rendered: usize,
    pub pdf_per_second: f64,
    pub ubl_per_second: f64,
    pub books_balanced: bool,
}

impl fmt::Display for BillingBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "consolidated billing run: {} shipments of {} customers → {} invoices in {:.2} s ({:.0} shipments/s; setup {:.1} s)",
            self.shipments,
            self.customers,
            self.invoices,
            self.run_seconds,
            self.shipments_per_second,
            self.setup_seconds
        )?;
        writeln!(
            f,
            "documents on one core ({} invoices of ~{} lines): PDF {:.0}/s, UBL {:.0}/s",
            self.documents_rendered,
            2 * self.shipments / self.customers.max(1),
            self.pdf_per_second,
            self.ubl_per_second
        )?;
        write!(
            f,
            "checked: every shipment billed once; books balanced: {}",
            self.books_balanced
        )
    }
}

fn addr(city: &str) -> Address {
    Address {
        line1: "Industriestraße 7".into(),
        line2: None,
        city: city.into(),
        postal_code: "50667".into(),
        country: "DE".into(),
        region: None,
    }
}

async fn setup(app: &App, shipments: usize, customers: usize) -> Result<()> {
    app.write(Actor::Cli("bench".into()), |c, ctx| {
        let mut profile = CompanyProfile::placeholder();
        profile.name = "Rheinwerk Industriebedarf GmbH".into();
        profile.vat_id = Some("DE123456789".into());
        profile.iban = Some("DE89370400440532013000".into());
        profile.bic = Some("COBADEFFXXX".into());
        profile.email = Some("billing@rheinwerk.example".into());
        billing::set_company_in_tx(c, ctx, profile)?;
        c.execute("INSERT INTO warehouses (id, code, name, priority) VALUES ('whs_bench', 'BENCH', 'Bench', 1)", &[])?;
        c.insert_rows(
            "products",
            &["id", "sku", "name", "unit_price_minor", "currency", "tax_category", "created_at"],
            &[
                vec!["prd_a".into(), "BOLT-M8".into(), "Hex bolt M8 × 40, zinc plated (100)".into(), Value::from(1_250i64), "EUR".into(), "standard".into(), ctx.timestamp().into()],
                vec!["prd_b".into(), "MANUAL-DE".into(), "Assembly manual (printed)".into(), Value::from(990i64), "EUR".into(), "reduced".into(), ctx.timestamp().into()],
            ],
        )?;
        Ok(())
    })
    .await?;
    let address = serde_json::to_string(&addr("Köln"))?;
    let per_customer = shipments.div_ceil(customers);
    // Customers first, then orders/lines/shipments/reservations in chunks of 1,000 shipments.
    let rows: Vec<Vec<Value>> = (0..customers)
        .map(|i| {
            vec![
                format!("cus_b{i:06}").into(),
                format!("Kunde {i} GmbH").into(),
                format!("ap{i}@kunde.example").into(),
                "EUR".into(),
                Value::from(30i64),
                Value::from(1_000_000_000i64),
                address.clone().into(),
                address.clone().into(),
                "2026-11-01T00:00:00Z".into(),
                "consolidated".into(),
            ]
        })
        .collect();
    app.write(Actor::Cli("bench".into()), move |c, _| {
        for chunk in rows.chunks(500) {
            c.insert_rows(
                "customers",
                &[
                    "id",
                    "name",
                    "email",
                    "currency",
                    "payment_terms_days",
                    "credit_limit_minor",
                    "billing_address",
                    "shipping_address",
                    "created_at",
                    "billing_policy",
                ],
                chunk,
            )?;
        }
        Ok(())
    })
    .await?;
    let mut start = 0;
    while start < shipments {
        let end = (start + 1_000).min(shipments);
        let address = address.clone();
        app.write(Actor::Cli("bench".into()), move |c, _| {
            let (mut orders, mut lines, mut ships, mut res) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for i in start..end {
                let cust = format!("cus_b{:06}", i / per_customer);
                let (o, s) = (format!("ord_b{i:08}"), format!("shp_b{i:08}"));
                let (qa, qb) = (1 + (i % 7) as i64, 1 + (i % 3) as i64);
                let (na, nb) = (qa * 1_250, qb * 990);
                let tax = (na * 19 + 50) / 100 + (nb * 7 + 50) / 100;
                orders.push(vec![
                    o.clone().into(),
                    cust.clone().into(),
                    "EUR".into(),
                    "shipped".into(),
                    Value::from(format!("PO-{i}")),
                    address.clone().into(),
                    Value::from(na + nb),
                    Value::from(tax),
                    Value::from(na + nb + tax),
                    Value::from(na + nb + tax),
                    "2026-11-02T00:00:00Z".into(),
                ]);
                for (n, (p, sku, name, q, net, cat, bp, unit)) in [
                    (
                        "prd_a",
                        "BOLT-M8",
                        "Hex bolt M8 × 40, zinc plated (100)",
                        qa,
                        na,
                        "standard",
                        1900i64,
                        1250i64,
                    ),
                    (
                        "prd_b",
                        "MANUAL-DE",
                        "Assembly manual (printed)",
                        qb,
                        nb,
                        "reduced",
                        700,
                        990,
                    ),
                ]
                .into_iter()
                .enumerate()
                {
                    lines.push(vec![
                        o.clone().into(),
                        Value::from(n + 1),
                        cust.clone().into(),
                        p.into(),
                        sku.into(),
                        name.into(),
                        Value::from(q),
                        Value::from(unit),
                        Value::from(net),
                        cat.into(),
                        Value::from(bp),
                        Value::from(q),
                        Value::from(q),
                    ]);
                    res.push(vec![
                        o.clone().into(),
                        Value::from(n + 1),
                        cust.clone().into(),
                        p.into(),
                        "whs_bench".into(),
                        Value::from(q),
                        "shipped".into(),
                        s.clone().into(),
                    ]);
                }
                ships.push(vec![
                    s.into(),
                    o.into(),
                    cust.into(),
                    "whs_bench".into(),
                    "dispatched".into(),
                    "2026-11-03T00:00:00Z".into(),
                    "2026-11-03T10:00:00Z".into(),
                ]);
            }
            c.insert_rows(
                "orders",
                &[
                    "id",
                    "customer_id",
                    "currency",
                    "status",
                    "customer_reference",
                    "ship_to",
                    "net_minor",
                    "tax_minor",
                    "gross_minor",
                    "uninvoiced_minor",
                    "received_at",
                ],
                &orders,
            )?;
            c.insert_rows(
                "order_lines",
                &[
                    "order_id",
                    "line_no",
                    "customer_id",
                    "product_id",
                    "sku",
                    "description",
                    "quantity",
                    "unit_price_minor",
                    "net_minor",
                    "tax_category",
                    "tax_rate_bp",
                    "allocated",
                    "shipped",
                ],
                &lines,
            )?;
            c.insert_rows(
                "shipments",
                &[
                    "id",
                    "order_id",
                    "customer_id",
                    "warehouse_id",
                    "status",
                    "created_at",
                    "dispatched_at",
                ],
                &ships,
            )?;
            c.insert_rows(
                "reservations",
                &[
                    "order_id",
                    "line_no",
                    "customer_id",
                    "product_id",
                    "warehouse_id",
                    "quantity",
                    "status",
                    "shipment_id",
                ],
                &res,
            )?;
            Ok(())
        })
        .await?;
        start = end;
    }
    // Keep the per-customer aggregate (open orders) consistent with the orders written.
    app.write(Actor::Cli("bench".into()), |c, _| {
        c.execute("UPDATE customers SET open_orders_minor = (SELECT CAST(COALESCE(SUM(o.uninvoiced_minor), 0) AS BIGINT) FROM orders o WHERE o.customer_id = customers.id)", &[])?;
        Ok(())
    })
    .await?;
    Ok(())
}

pub async fn run(app: &App, shipments: usize, customers: usize) -> Result<BillingBenchReport> {
    let customers = customers.clamp(1, shipments.max(1));
    let t0 = Instant::now();
    setup(app, shipments, customers).await?;
    let setup_seconds = t0.elapsed().as_secs_f64();
    let period = run::Period::parse("2026-11")?;
    let t1 = Instant::now();
    let report = run::run(app, Actor::Cli("bench".into()), period, false).await?;
    let run_seconds = t1.elapsed().as_secs_f64();
    if let Some((c, e)) = report.failures.first() {
        return Err(AppError::Internal(format!("billing {c} failed: {e}")));
    }
    let unbilled = app
        .read(|c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM shipments WHERE invoice_id IS NULL",
                &[],
            )?
            .int(0))
        })
        .await?;
    if unbilled != 0 || report.shipments_billed != shipments {
        return Err(AppError::Internal(format!(
            "{unbilled} shipments left unbilled; billed {}",
            report.shipments_billed
        )));
    }
    let tb = app.read(ledger::trial_balance).await?;
    // Documents: build up to 200 invoices once, then render them over and over on this thread.
    let ids: Vec<String> = report.invoices.iter().take(200).cloned().collect();
    let docs = app
        .read(move |c| {
            ids.iter()
                .map(|id| document::build(c, id))
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    let rate = |f: &dyn Fn(&o2c_core::document::InvoiceDocument) -> Result<usize>| -> Result<f64> {
        let t = Instant::now();
        let mut n = 0usize;
        let mut bytes = 0usize;
        while t.elapsed().as_secs_f64() < 2.0 {
            for d in &docs {
                bytes += f(d)?;
                n += 1;
            }
        }
        std::hint::black_box(bytes);
        Ok(n as f64 / t.elapsed().as_secs_f64())
    };
    let pdf_per_second = rate(&|d| Ok(document::render_pdf(d)?.len()))?;
    let ubl_per_second = rate(&|d| Ok(document::render_ubl(d)?.len()))?;
    Ok(BillingBenchReport {
        shipments,
        customers,
        invoices: report.invoices.len(),
        setup_seconds,
        run_seconds,
        shipments_per_second: shipments as f64 / run_seconds,
        documents_rendered: docs.len(),
        pdf_per_second,
        ubl_per_second,
        books_balanced: tb.is_sound(),
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{Engine, TestStore};

    #[tokio::test(flavor = "multi_thread")]
    async fn the_billing_bench_bills_every_shipment_once_on_sqlite() {
        let store = TestStore::new(Engine::Sqlite).expect("store");
        let app = store.app().expect("app");
        let r = super::run(&app, 300, 7).await.expect("bench");
        assert_eq!(r.invoices, 7);
        assert!(r.books_balanced);
    }
}
