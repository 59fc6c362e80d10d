//! The credit analyst's queue: each hold with its reasons, the customer's figures and a
//! suggested action.

use super::facts;
use crate::error::Result;
use crate::{customer, order};
use o2c_core::credit::CreditFacts;
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CreditHold {
    pub order_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub gross: Money,
    pub exposure: Money,
    pub credit_limit: Money,
    pub reason: String,
    pub received_at: String,
}

/// Every order on hold, oldest first, with the reason of its latest decision.
pub fn holds(conn: &mut dyn Conn, limit: i64) -> Result<Vec<CreditHold>> {
    let rows = conn.query(
        "SELECT o.id, o.customer_id, c.name, o.gross_minor, o.currency, c.open_receivables_minor + c.open_orders_minor, c.credit_limit_minor,
                (SELECT d.reason FROM credit_decisions d WHERE d.order_id = o.id ORDER BY d.decided_at DESC, d.id DESC LIMIT 1), o.received_at
         FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.status = 'credit_hold' ORDER BY o.received_at, o.id LIMIT $1",
        params![limit],
    )?;
    rows.iter()
        .map(|r| {
            let cur = Currency::parse(&r.text(4))?;
            Ok(CreditHold {
                order_id: r.text(0),
                customer_id: r.text(1),
                customer_name: r.text(2),
                gross: Money::new(r.int(3), cur),
                exposure: Money::new(r.int(5), cur),
                credit_limit: Money::new(r.int(6), cur),
                reason: r.opt_text(7).unwrap_or_default(),
                received_at: r.text(8),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct AgingBucket {
    pub bucket: &'static str,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecentPayment {
    pub id: String,
    pub amount: Money,
    pub received_on: String,
}

/// What the analyst sees when opening a hold.
#[derive(Debug, Clone, Serialize)]
pub struct HoldSnapshot {
    pub order: order::Order,
    pub decisions: Vec<super::DecisionRecord>,
    pub customer: customer::Customer,
    pub risk_class: String,
    pub facts: CreditFacts,
    pub aging: Vec<AgingBucket>,
    pub recent_orders: Vec<order::OrderSummary>,
    pub recent_payments: Vec<RecentPayment>,
    pub suggested_action: String,
}

const BUCKETS: [(&str, i64, i64); 5] = [
    ("current", i64::MIN, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, i64::MAX),
];

pub fn hold_snapshot(
    conn: &mut dyn Conn,
    order_id: &str,
    today: chrono::NaiveDate,
) -> Result<HoldSnapshot> {
    let order = order::get(conn, order_id)?;
    let account = customer::account(conn, &order.customer_id)?;
    let cur = account.customer.currency;
    let mut aging: Vec<AgingBucket> = BUCKETS
        .iter()
        .map(|(b, _, _)| AgingBucket {
            bucket: b,
            amount: Money::zero(cur),
        })
        .collect();
    for item in &account.open_items {
        let due = chrono::NaiveDate::parse_from_str(&item.due_on, "%Y-%m-%d").unwrap_or(today);
        let days = (today - due).num_days();
        if let Some(i) = BUCKETS
            .iter()
            .position(|(_, lo, hi)| days >= *lo && days <= *hi)
        {
            aging[i].amount = aging[i].amount.checked_add(item.open)?;
        }
    }
    let horizon = super::policy::current(conn)?.1.exposure_horizon_days;
    let gathered = facts::gather(
        conn,
        &order.customer_id,
        order.gross.minor(),
        today,
        horizon,
    )?;
    let risk_class = conn
        .query_one(
            "SELECT risk_class FROM customers WHERE id = $1",
            params![order.customer_id.as_str()],
        )?
        .text(0);
    let recent_orders = order::list(conn, None, Some(&order.customer_id), 5)?;
    let recent_payments = conn
        .query(
            "SELECT id, amount_minor, received_on FROM payments WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT 5",
            params![order.customer_id.as_str()],
        )?
        .iter()
        .map(|r| RecentPayment { id: r.text(0), amount: Money::new(r.int(1), cur), received_on: r.text(2) })
        .collect();
    let decisions = super::decisions(conn, order_id)?;
    let suggested_action = suggest(&gathered.facts);
    Ok(HoldSnapshot {
        order,
        decisions,
        customer: account.customer,
        risk_class,
        facts: gathered.facts,
        aging,
        recent_orders,
        recent_payments,
        suggested_action,
    })
}

/// A plain-language next step for the analyst, from the figures.
fn suggest(f: &CreditFacts) -> String {
    let exposure = f.open_receivables.minor() + f.open_orders.minor() + f.order_amount.minor();
    if f.blocked {
        return "the customer is blocked: reject, or unblock the customer first".into();
    }
    if !f.overdue_amount.is_zero() {
        return format!("ask for the {} overdue before releasing", f.overdue_amount);
    }
    if exposure > f.limit.minor() && f.average_days_late_12m.unwrap_or(0) <= 5 {
        let needed = Money::new(exposure, f.limit.currency());
        return format!("pays on time: release and raise the limit to at least {needed}");
    }
    if exposure > f.limit.minor() {
        return "over the limit and pays late: ask for a prepayment or reject".into();
    }
    "review the rules that fired; release if the order is expected".into()
}
