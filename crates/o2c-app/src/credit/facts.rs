//! Gathers the facts of one credit decision in one statement, from the running aggregates kept
//! per customer (and per credit group), never by scanning a customer's history.

use crate::error::{AppError, Result, not_found};
use chrono::{Months, NaiveDate};
use o2c_core::credit::{CreditFacts, RiskClass};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};

/// The facts, plus where the limit comes from.
pub struct Gathered {
    pub facts: CreditFacts,
    pub credit_group_id: Option<String>,
}

const SQL: &str = "SELECT c.currency, c.credit_limit_minor, c.open_receivables_minor, c.open_orders_minor, c.credit_blocked, c.risk_class,
        c.orders_count, c.orders_gross_minor, c.credit_group_id, g.credit_limit_minor,
        (SELECT CAST(SUM(m.open_receivables_minor) AS BIGINT) FROM customers m WHERE m.credit_group_id = c.credit_group_id),
        (SELECT CAST(SUM(m.open_orders_minor) AS BIGINT) FROM customers m WHERE m.credit_group_id = c.credit_group_id),
        (SELECT MIN(i.due_on) FROM invoices i WHERE i.customer_id = c.id AND i.open_minor > 0 AND i.due_on < $2),
        (SELECT CAST(COALESCE(SUM(i.open_minor), 0) AS BIGINT) FROM invoices i WHERE i.customer_id = c.id AND i.open_minor > 0 AND i.due_on < $2),
        (SELECT CAST(COALESCE(SUM(b.invoices_paid), 0) AS BIGINT) FROM payment_behaviour b WHERE b.customer_id = c.id AND b.month >= $3),
        (SELECT CAST(COALESCE(SUM(b.paid_minor), 0) AS BIGINT) FROM payment_behaviour b WHERE b.customer_id = c.id AND b.month >= $3),
        (SELECT CAST(COALESCE(SUM(b.late_days_x_minor), 0) AS BIGINT) FROM payment_behaviour b WHERE b.customer_id = c.id AND b.month >= $3)
 FROM customers c LEFT JOIN credit_groups g ON g.id = c.credit_group_id WHERE c.id = $1";

/// The first month of the 12-month payment-score window ending with `today`'s month.
pub fn score_window_start(today: NaiveDate) -> String {
    let start = today.checked_sub_months(Months::new(11)).unwrap_or(today);
    start.format("%Y-%m").to_string()
}

/// `horizon_days`: count only open orders due for delivery within that many days (customer-scoped
/// index scan instead of the running aggregate).
pub fn gather(
    conn: &mut dyn Conn,
    customer_id: &str,
    order_amount_minor: i64,
    today: NaiveDate,
    horizon_days: Option<i64>,
) -> Result<Gathered> {
    let r = conn
        .query_opt(
            SQL,
            params![customer_id, today.to_string(), score_window_start(today)],
        )?
        .ok_or_else(|| not_found("customer", customer_id))?;
    let currency = Currency::parse(&r.text(0)).map_err(|e| AppError::Internal(e.to_string()))?;
    let m = |v: i64| Money::new(v, currency);
    let group = r.opt_text(8);
    // In a credit group the group's limit and the members' summed exposure apply.
    let (limit, receivables, orders) = match (&group, r.opt_int(9)) {
        (Some(_), Some(group_limit)) => (
            group_limit,
            r.opt_int(10).unwrap_or(0),
            r.opt_int(11).unwrap_or(0),
        ),
        _ => (r.int(1), r.int(2), r.int(3)),
    };
    let orders = match horizon_days {
        None => orders,
        Some(days) => open_orders_due_within(
            conn,
            customer_id,
            group.as_deref(),
            today + chrono::Days::new(days.max(0) as u64),
        )?,
    };
    let oldest_overdue_days = r
        .opt_text(12)
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .map_or(0, |due| (today - due).num_days());
    let (paid_count, paid_minor, late_weighted) = (r.int(14), r.int(15), r.int(16));
    let orders_count = r.int(6);
    Ok(Gathered {
        facts: CreditFacts {
            order_amount: m(order_amount_minor),
            limit: m(limit),
            open_receivables: m(receivables),
            open_orders: m(orders),
            blocked: r.int(4) != 0,
            risk_class: RiskClass::parse(&r.text(5)).unwrap_or(RiskClass::Medium),
            oldest_overdue_days,
            overdue_amount: m(r.int(13)),
            paid_invoices_12m: paid_count,
            average_days_late_12m: (paid_minor > 0).then(|| late_weighted / paid_minor),
            orders_count,
            average_order: (orders_count > 0).then(|| m(r.int(7) / orders_count)),
        },
        credit_group_id: group,
    })
}

fn open_orders_due_within(
    conn: &mut dyn Conn,
    customer_id: &str,
    group: Option<&str>,
    until: NaiveDate,
) -> Result<i64> {
    let until = until.to_string();
    let row = match group {
        Some(g) => conn.query_one(
            "SELECT CAST(COALESCE(SUM(o.uninvoiced_minor), 0) AS BIGINT) FROM orders o
             WHERE o.customer_id IN (SELECT id FROM customers WHERE credit_group_id = $1) AND o.uninvoiced_minor > 0
               AND (o.requested_delivery_on IS NULL OR o.requested_delivery_on <= $2)",
            params![g, until],
        )?,
        None => conn.query_one(
            "SELECT CAST(COALESCE(SUM(uninvoiced_minor), 0) AS BIGINT) FROM orders
             WHERE customer_id = $1 AND uninvoiced_minor > 0 AND (requested_delivery_on IS NULL OR requested_delivery_on <= $2)",
            params![customer_id, until],
        )?,
    };
    Ok(row.int(0))
}

/// Records a paid invoice in the customer's payment behaviour (month of payment, days late
/// weighted by the amount).
pub fn record_paid_invoice(
    conn: &mut dyn Conn,
    customer_id: &str,
    paid_on: NaiveDate,
    due_on: &str,
    gross_minor: i64,
) -> Result<()> {
    let due = NaiveDate::parse_from_str(due_on, "%Y-%m-%d")
        .map_err(|e| AppError::Internal(format!("due date {due_on}: {e}")))?;
    let late_days = (paid_on - due).num_days().max(0);
    conn.execute(
        "INSERT INTO payment_behaviour (customer_id, month, invoices_paid, paid_minor, late_days_x_minor) VALUES ($1, $2, 1, $3, $4)
         ON CONFLICT (customer_id, month) DO UPDATE SET invoices_paid = payment_behaviour.invoices_paid + 1,
             paid_minor = payment_behaviour.paid_minor + excluded.paid_minor,
             late_days_x_minor = payment_behaviour.late_days_x_minor + excluded.late_days_x_minor",
        params![customer_id, paid_on.format("%Y-%m").to_string(), gross_minor, late_days * gross_minor],
    )?;
    Ok(())
}
