//! What the cycle left behind. The demo's company invoices in euros only.

use crate::ledger::{self, TrialBalance};
use crate::{App, Result};
use o2c_core::order::OrderStatus;
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub seed: u64,
    pub elapsed_seconds: f64,
    pub customers: i64,
    pub products: i64,
    pub warehouses: i64,
    /// Orders per status, every status, in the order of the life cycle.
    pub orders: Vec<StatusCount>,
    pub orders_total: i64,
    pub shipments: Vec<StatusCount>,
    /// Dispatched shipments of fully shipped orders that no invoice bills yet (0 after the
    /// month-end run; an order billed per order waits for its last shipment).
    pub unbilled_shipments: i64,
    pub invoices: Vec<InvoiceFigures>,
    pub payments: PaymentFigures,
    pub credit: CreditFigures,
    /// Order lines still waiting for stock (a late supplier).
    pub backordered_lines: i64,
    /// Orders the demo's customer service cancelled before dispatch.
    pub cancelled_by_demo: usize,
    pub touchless: Touchless,
    pub events: i64,
    /// Automation reactions that failed and wait in the outbox; 0 in a healthy run.
    pub failed_automations: i64,
    pub trial_balance: TrialBalance,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceFigures {
    pub payment_status: String,
    pub count: i64,
    pub gross: Money,
    pub open: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentFigures {
    pub count: i64,
    pub received: Money,
    /// Cash received and not applied to any invoice (overpayments, mostly).
    pub unapplied: Money,
    /// Bank statement lines applied by cash application on its own.
    pub bank_lines_applied_automatically: i64,
    /// Bank statement lines waiting in the exceptions queue for a person.
    pub bank_lines_waiting: i64,
}

#[derive(Debug, Clone, Serialize)]
/// Credit decisions (not orders: a held order is decided again when released), by who decided:
/// the engine's rules, or a person.
pub struct CreditFigures {
    pub approved_by_rule: i64,
    pub held_by_rule: i64,
    pub rejected_by_rule: i64,
    pub released_by_analyst: i64,
    pub rejected_by_analyst: i64,
    /// Orders still waiting in the credit analyst's queue.
    pub holds_open: i64,
}

/// The touchless rate. Decided orders are all orders whose credit was decided, that is every
/// order except those still `received` and those cancelled (a cancellation is the customer's
/// choice, not a failure of automation). Touchless are the decided orders that no person touched
/// (`touched_by_person = 0`) and that are not waiting in the credit-hold queue, where a person
/// must act. `rate` = touchless / decided, between 0 and 1 (0 when nothing was decided).
#[derive(Debug, Clone, Serialize)]
pub struct Touchless {
    pub decided_orders: i64,
    pub touchless_orders: i64,
    pub rate: f64,
}

pub(super) async fn summarize(
    app: &App,
    seed: u64,
    cancelled: usize,
    seconds: f64,
) -> Result<DemoSummary> {
    app.read(move |c| {
        let mut one = |sql: &str| -> Result<i64> { Ok(c.query_one(sql, params![])?.int(0)) };
        let customers = one("SELECT COUNT(*) FROM customers")?;
        let products = one("SELECT COUNT(*) FROM products")?;
        let warehouses = one("SELECT COUNT(*) FROM warehouses")?;
        let orders_total = one("SELECT COUNT(*) FROM orders")?;
        let backordered_lines = one("SELECT COUNT(*) FROM backorders")?;
        let events = one("SELECT COUNT(*) FROM events")?;
        let failed_automations = one("SELECT COUNT(*) FROM outbox WHERE attempts > 0")?;
        let unbilled_shipments = one(
            "SELECT COUNT(*) FROM shipments s JOIN orders o ON o.id = s.order_id
             WHERE s.dispatched_at IS NOT NULL AND s.invoice_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.shipped < l.quantity)",
        )?;
        let statuses = OrderStatus::ALL.map(|s| s.as_str());
        let orders_sql = "SELECT status, COUNT(*) FROM orders GROUP BY status";
        let shipments_sql = "SELECT status, COUNT(*) FROM shipments GROUP BY status";
        Ok(DemoSummary {
            seed,
            elapsed_seconds: seconds,
            customers,
            products,
            warehouses,
            orders: status_counts(c, orders_sql, &statuses)?,
            orders_total,
            shipments: status_counts(c, shipments_sql, &["planned", "dispatched", "cancelled"])?,
            unbilled_shipments,
            invoices: invoice_figures(c)?,
            payments: payment_figures(c)?,
            credit: credit_figures(c)?,
            backordered_lines,
            cancelled_by_demo: cancelled,
            touchless: touchless(c)?,
            events,
            failed_automations,
            trial_balance: ledger::trial_balance(c)?,
        })
    })
    .await
}

fn touchless(c: &mut dyn Conn) -> Result<Touchless> {
    let r = c.query_one(
        "SELECT COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN touched_by_person = 0 AND status <> 'credit_hold' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM orders WHERE status NOT IN ('received', 'cancelled')",
        params![],
    )?;
    let (decided_orders, touchless_orders) = (r.int(0), r.int(1));
    let rate = if decided_orders > 0 {
        touchless_orders as f64 / decided_orders as f64
    } else {
        0.0
    };
    Ok(Touchless {
        decided_orders,
        touchless_orders,
        rate,
    })
}

/// Counts per status, the known statuses first (zeros included) in the order given.
fn status_counts(c: &mut dyn Conn, sql: &str, known: &[&str]) -> Result<Vec<StatusCount>> {
    let count = |status: &str, count| StatusCount {
        status: status.into(),
        count,
    };
    let mut out: Vec<StatusCount> = known.iter().map(|s| count(s, 0)).collect();
    for r in c.query(sql, params![])? {
        let status = r.text(0);
        match out.iter_mut().find(|s| s.status == status) {
            Some(s) => s.count = r.int(1),
            None => out.push(count(&status, r.int(1))),
        }
    }
    Ok(out)
}

pub(super) fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn invoice_figures(c: &mut dyn Conn) -> Result<Vec<InvoiceFigures>> {
    let fig = |status: &str, count, gross, open| InvoiceFigures {
        payment_status: status.into(),
        count,
        gross: eur(gross),
        open: eur(open),
    };
    let mut out: Vec<_> = ["unpaid", "partially_paid", "paid"]
        .map(|s| fig(s, 0, 0, 0))
        .into();
    let rows = c.query(
        "SELECT payment_status, COUNT(*), CAST(SUM(gross_minor) AS BIGINT), CAST(SUM(open_minor) AS BIGINT)
         FROM invoices GROUP BY payment_status",
        params![],
    )?;
    for r in rows {
        let found = fig(&r.text(0), r.int(1), r.int(2), r.int(3));
        match out
            .iter_mut()
            .find(|f| f.payment_status == found.payment_status)
        {
            Some(f) => *f = found,
            None => out.push(found),
        }
    }
    Ok(out)
}

fn payment_figures(c: &mut dyn Conn) -> Result<PaymentFigures> {
    let r = c.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT),
                CAST(COALESCE(SUM(unapplied_minor), 0) AS BIGINT) FROM payments",
        params![],
    )?;
    let lines = c.query_one(
        "SELECT CAST(COALESCE(SUM(CASE WHEN match_status = 'applied' AND decided_by LIKE 'rule:%' THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN match_status IN ('exception', 'unmatched') THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM bank_transactions",
        params![],
    )?;
    Ok(PaymentFigures {
        count: r.int(0),
        received: eur(r.int(1)),
        unapplied: eur(r.int(2)),
        bank_lines_applied_automatically: lines.int(0),
        bank_lines_waiting: lines.int(1),
    })
}

fn credit_figures(c: &mut dyn Conn) -> Result<CreditFigures> {
    // By outcome and kind of actor rather than by rule name, so new rules need no change here.
    let rows = c.query(
        "SELECT outcome, actor_kind = 'rule', COUNT(*) FROM credit_decisions GROUP BY outcome, actor_kind = 'rule'",
        params![],
    )?;
    let count = |by_rule: bool, outcomes: &[&str]| -> i64 {
        let matching = rows.iter().filter(|r| (r.int(1) != 0) == by_rule);
        matching
            .filter(|r| outcomes.contains(&r.text(0).as_str()))
            .map(|r| r.int(2))
            .sum()
    };
    let holds_sql = "SELECT COUNT(*) FROM orders WHERE status = 'credit_hold'";
    Ok(CreditFigures {
        approved_by_rule: count(true, &["approve"]),
        held_by_rule: count(true, &["hold"]),
        rejected_by_rule: count(true, &["reject"]),
        released_by_analyst: count(false, &["approve"]),
        // A person's rejection was recorded with outcome `hold` before rules could reject.
        rejected_by_analyst: count(false, &["hold", "reject"]),
        holds_open: c.query_one(holds_sql, params![])?.int(0),
    })
}
