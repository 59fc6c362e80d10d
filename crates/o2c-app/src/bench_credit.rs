//! `o2c bench credit`: credit decisions per second, pure (the rule evaluation alone) and in the
//! store (gathering the facts, evaluating, recording the decision, moving the order), on a book
//! of customers with varied histories.

use crate::context::Ctx;
use crate::customer::{self, CustomerRequest, NewCustomer};
use crate::inventory::{self, ProductRequest, StockLevel, WarehouseRequest};
use crate::order::{self, OrderLineRequest, OrderRequest};
use crate::{App, Result, credit};
use o2c_core::credit::{CreditFacts, CreditPolicy, RiskClass, evaluate};
use o2c_core::customer::Address;
use o2c_core::{Actor, Currency, Money};
use o2c_store::{Conn, params};
use serde::Serialize;
use std::fmt;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct CreditBenchReport {
    pub engine: String,
    pub decisions: usize,
    pub pure_evaluations_per_second: f64,
    pub decisions_per_second: f64,
    pub approved: i64,
    pub held: i64,
    pub rejected: i64,
    pub fast_path: i64,
}

impl fmt::Display for CreditBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "credit decisions on {}", self.engine)?;
        writeln!(
            f,
            "  rules alone (evaluate, 1 thread)   {:>12.0} /s",
            self.pure_evaluations_per_second
        )?;
        writeln!(
            f,
            "  full decisions in the store        {:>12.0} /s  ({} decisions)",
            self.decisions_per_second, self.decisions
        )?;
        writeln!(
            f,
            "  approved {} (fast path {}), held {}, rejected {}",
            self.approved, self.fast_path, self.held, self.rejected
        )
    }
}

const CUSTOMERS: usize = 500;
const CHUNK: usize = 500;

pub async fn run(app: &App, decisions: usize) -> Result<CreditBenchReport> {
    let pure = pure_rate();
    let customers = app
        .write(Actor::Cli("bench".into()), |c, ctx| setup(c, ctx))
        .await?;
    let mut ids = Vec::with_capacity(decisions);
    for start in (0..decisions).step_by(CHUNK) {
        let end = (start + CHUNK).min(decisions);
        let customers = customers.clone();
        let placed = app
            .write(Actor::Cli("bench".into()), move |c, ctx| {
                (start..end)
                    .map(|i| {
                        let r = OrderRequest {
                            freight: None,
                            customer_id: customers[i % customers.len()].clone(),
                            currency: None,
                            customer_reference: None,
                            requested_delivery_on: None,
                            ship_to: None,
                            lines: vec![OrderLineRequest {
                                sku: format!("CB-{}", i % 50),
                                quantity: 1 + (i % 7) as i64,
                            }],
                        };
                        order::place_in_tx(c, ctx, &r).map(|o| o.id)
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        ids.extend(placed);
    }
    let started = Instant::now();
    for chunk in ids.chunks(CHUNK) {
        let chunk = chunk.to_vec();
        app.write(Actor::Rule("credit.auto_decide"), move |c, ctx| {
            for id in &chunk {
                credit::auto_decide_in_tx(c, ctx, id)?;
            }
            Ok(())
        })
        .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let counts = app
        .read(|c| {
            let r = c.query_one(
                "SELECT CAST(COALESCE(SUM(CASE WHEN outcome = 'approve' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN outcome = 'hold' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN outcome = 'reject' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(fast_path), 0) AS BIGINT)
                 FROM credit_decisions",
                params![],
            )?;
            Ok((r.int(0), r.int(1), r.int(2), r.int(3)))
        })
        .await?;
    if (counts.0 + counts.1 + counts.2) as usize != decisions {
        return Err(crate::AppError::Internal(format!(
            "expected {decisions} decisions, found {}",
            counts.0 + counts.1 + counts.2
        )));
    }
    Ok(CreditBenchReport {
        engine: app.dialect().to_string(),
        decisions,
        pure_evaluations_per_second: pure,
        decisions_per_second: decisions as f64 / seconds,
        approved: counts.0,
        held: counts.1,
        rejected: counts.2,
        fast_path: counts.3,
    })
}

/// The rules alone over a spread of facts.
fn pure_rate() -> f64 {
    let policy = CreditPolicy::default();
    let eur = |m| Money::new(m, Currency::EUR);
    let n = 1_000_000;
    let started = Instant::now();
    let mut approved = 0usize;
    for i in 0..n as i64 {
        let facts = CreditFacts {
            order_amount: eur(10_000 + (i % 97) * 1_000),
            limit: eur(500_000),
            open_receivables: eur((i % 13) * 20_000),
            open_orders: eur((i % 7) * 10_000),
            blocked: i % 101 == 0,
            risk_class: if i % 29 == 0 {
                RiskClass::High
            } else {
                RiskClass::Low
            },
            oldest_overdue_days: i % 41,
            overdue_amount: eur(if i % 41 > 30 { 5_000 } else { 0 }),
            paid_invoices_12m: i % 6,
            average_days_late_12m: Some(i % 19),
            orders_count: i % 9,
            average_order: Some(eur(40_000)),
        };
        if evaluate(&policy, &facts)
            .map(|e| e.fast_path)
            .unwrap_or(false)
        {
            approved += 1;
        }
    }
    std::hint::black_box(approved);
    n as f64 / started.elapsed().as_secs_f64()
}

/// 500 customers (some in trouble: blocked, high risk, late payers, overdue) and 50 products.
fn setup(c: &mut dyn Conn, ctx: &Ctx) -> Result<Vec<String>> {
    inventory::create_warehouse_in_tx(
        c,
        ctx,
        &WarehouseRequest {
            code: "CB".into(),
            name: "Credit bench".into(),
            priority: None,
            country: None,
            postal_code: None,
        },
    )?;
    for i in 0..50 {
        inventory::create_product_in_tx(
            c,
            ctx,
            &ProductRequest {
                weight_g: None,
                sku: format!("CB-{i}"),
                name: format!("Credit bench item {i}"),
                unit_price: format!("{}.00", 20 + i * 7),
                currency: "EUR".into(),
                tax_category: None,
                stock: vec![StockLevel {
                    warehouse: "CB".into(),
                    quantity: 1_000_000,
                }],
            },
        )?;
    }
    let address = Address {
        line1: "Marktplatz 1".into(),
        line2: None,
        city: "Leipzig".into(),
        postal_code: "04109".into(),
        country: "DE".into(),
        region: None,
    };
    let mut ids = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let new = NewCustomer::parse(CustomerRequest {
            name: format!("Kunde {i:04} GmbH"),
            email: None,
            currency: "EUR".into(),
            payment_terms_days: 30,
            credit_limit: format!("{}.00", 2_000 + (i % 10) * 3_000),
            billing_address: Some(address.clone()),
            shipping_address: Some(address.clone()),
        })?;
        let cust = customer::create_in_tx(c, ctx, &new)?;
        let (risk, blocked) = match i % 50 {
            0 => ("critical", 0),
            1 => ("high", 0),
            2 => ("low", 1),
            _ => ("low", 0),
        };
        c.execute(
            "UPDATE customers SET risk_class = $2, credit_blocked = $3 WHERE id = $1",
            params![cust.id.as_str(), risk, blocked],
        )?;
        // Two thirds have a payment history; every tenth of those pays late.
        if i % 3 != 0 {
            let late_days = if i % 10 == 4 { 25 } else { 1 };
            c.execute(
                "INSERT INTO payment_behaviour (customer_id, month, invoices_paid, paid_minor, late_days_x_minor) VALUES ($1, $2, 5, 500000, $3)",
                params![cust.id.as_str(), ctx.today().format("%Y-%m").to_string(), late_days * 500_000],
            )?;
        }
        ids.push(cust.id);
    }
    Ok(ids)
}
