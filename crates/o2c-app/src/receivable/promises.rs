//! Promises to pay: a customer promises an amount by a date for some (default: all) of its open
//! invoices. Until the date the items show as `promise_to_pay` and are not dunned. After it,
//! `check_in_tx` (run daily, and before every dunning run) marks each promise kept (what was
//! paid on its items since reaches the amount) or broken, and a broken one opens a follow-up
//! task for the collector.

use super::{emit, lock_invoice, notes, parse_day, parse_positive};
use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::EventType;
use o2c_core::id::PromiseId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewPromise {
    pub customer_id: String,
    /// Invoices the promise covers; empty: every open invoice of the customer.
    #[serde(default)]
    pub invoice_ids: Vec<String>,
    pub amount: String,
    pub promised_on: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Promise {
    pub id: String,
    pub customer_id: String,
    pub amount: Money,
    pub promised_on: String,
    pub status: String,
    pub note: Option<String>,
    pub invoice_ids: Vec<String>,
    /// Paid (or credited) on the covered invoices since the promise.
    pub paid_since: Money,
    pub created_by: String,
    pub created_at: String,
    pub closed_at: Option<String>,
}

pub fn make_in_tx(conn: &mut dyn Conn, ctx: &Ctx, p: &NewPromise) -> Result<Promise> {
    let customer = crate::customer::get(conn, &p.customer_id)?;
    let cur = customer.currency;
    let day = parse_day("promised_on", &p.promised_on)?;
    if day < ctx.today() {
        return Err(DomainError::PromiseDateInPast {
            date: day.to_string(),
            today: ctx.today().to_string(),
        }
        .into());
    }
    let amount = parse_positive("amount", &p.amount, cur)?;
    let ids: Vec<String> = if p.invoice_ids.is_empty() {
        conn.query(
            "SELECT id FROM invoices WHERE customer_id = $1 AND open_minor > 0 AND kind = 'invoice' ORDER BY due_on, number",
            params![customer.id.as_str()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect()
    } else {
        p.invoice_ids.clone()
    };
    if ids.is_empty() {
        return Err(DomainError::invalid(
            "invoice_ids",
            "the customer has no open invoice to promise payment for",
        )
        .into());
    }
    let mut items = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let inv = lock_invoice(conn, id)?;
        if inv.customer_id != customer.id.as_str() {
            return Err(DomainError::invalid(
                format!("invoice_ids[{i}]"),
                format!("invoice {} belongs to another customer", inv.number),
            )
            .into());
        }
        inv.require_open("promise payment for it")?;
        items.push((inv.id, inv.open_minor));
    }
    let open: i64 = items.iter().map(|(_, o)| o).sum();
    if amount.minor() > open {
        return Err(DomainError::invalid(
            "amount",
            format!(
                "{amount} exceeds what the invoices have open ({})",
                Money::new(open, cur)
            ),
        )
        .into());
    }
    let id = PromiseId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO payment_promises (id, customer_id, amount_minor, currency, promised_on, status, note, paid_minor_at_promise, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9)",
        &[id.as_str().into(), customer.id.as_str().into(), amount.minor().into(), cur.code().into(), day.to_string().into(),
          p.note.clone().map(Value::from).unwrap_or(Value::Null), open.into(), ctx.actor.to_string().into(), ctx.timestamp().into()],
    )?;
    for (inv, open) in &items {
        conn.execute(
            "INSERT INTO payment_promise_items (promise_id, invoice_id, customer_id, open_minor_at_promise) VALUES ($1, $2, $3, $4)",
            params![id.as_str(), inv.as_str(), customer.id.as_str(), *open],
        )?;
    }
    emit(
        conn,
        ctx,
        EventType::PromiseMade,
        ("promise", id.as_str()),
        customer.id.as_str(),
        json!({"amount": amount, "promised_on": day.to_string(), "invoice_ids": ids}),
    )?;
    get(conn, id.as_str())
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Promise> {
    let r = conn
        .query_opt(
            "SELECT p.id, p.customer_id, p.amount_minor, p.currency, p.promised_on, p.status, p.note, p.paid_minor_at_promise, p.created_by, p.created_at, p.closed_at,
                    (SELECT CAST(SUM(i.open_minor) AS BIGINT) FROM payment_promise_items x JOIN invoices i ON i.id = x.invoice_id WHERE x.promise_id = p.id)
             FROM payment_promises p WHERE p.id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("promise", id))?;
    let cur = Currency::parse(&r.text(3)).map_err(DomainError::money("currency"))?;
    let invoice_ids = conn
        .query("SELECT invoice_id FROM payment_promise_items WHERE promise_id = $1 ORDER BY invoice_id", params![id])?
        .iter()
        .map(|r| r.text(0))
        .collect();
    Ok(Promise {
        id: r.text(0),
        customer_id: r.text(1),
        amount: Money::new(r.int(2), cur),
        promised_on: r.text(4),
        status: r.text(5),
        note: r.opt_text(6),
        invoice_ids,
        paid_since: Money::new(r.int(7) - r.opt_int(11).unwrap_or(0), cur),
        created_by: r.text(8),
        created_at: r.text(9),
        closed_at: r.opt_text(10),
    })
}

pub fn list(
    conn: &mut dyn Conn,
    customer_id: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<Promise>> {
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM payment_promises WHERE ($1 = '' OR customer_id = $1) AND ($2 = '' OR status = $2) ORDER BY created_at DESC, id LIMIT 500",
            params![customer_id.unwrap_or(""), status.unwrap_or("")],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PromiseCheck {
    pub kept: Vec<String>,
    pub broken: Vec<String>,
}

/// Settles promises: kept as soon as enough is paid; broken once their day has passed without.
pub fn check_in_tx(conn: &mut dyn Conn, ctx: &Ctx) -> Result<PromiseCheck> {
    let today = ctx.today().to_string();
    let rows = conn.query(
        "SELECT p.id, p.customer_id, p.amount_minor, p.promised_on, p.paid_minor_at_promise,
                (SELECT CAST(SUM(i.open_minor) AS BIGINT) FROM payment_promise_items x JOIN invoices i ON i.id = x.invoice_id WHERE x.promise_id = p.id)
         FROM payment_promises p WHERE p.status = 'open' ORDER BY p.promised_on, p.id",
        &[],
    )?;
    let mut out = PromiseCheck::default();
    for r in rows {
        let (id, customer) = (r.text(0), r.text(1));
        let paid = r.int(4) - r.opt_int(5).unwrap_or(0);
        let status = if paid >= r.int(2) {
            "kept"
        } else if r.text(3) < today {
            "broken"
        } else {
            continue;
        };
        conn.execute(
            "UPDATE payment_promises SET status = $2, closed_at = $3 WHERE id = $1 AND status = 'open'",
            params![id.as_str(), status, ctx.timestamp()],
        )?;
        if status == "kept" {
            emit(
                conn,
                ctx,
                EventType::PromiseKept,
                ("promise", &id),
                &customer,
                json!({"paid_minor": paid}),
            )?;
            out.kept.push(id);
        } else {
            emit(
                conn,
                ctx,
                EventType::PromiseBroken,
                ("promise", &id),
                &customer,
                json!({"paid_minor": paid, "promised_on": r.text(3)}),
            )?;
            notes::open_task_in_tx(
                conn,
                ctx,
                &customer,
                "broken_promise",
                &format!("promise {id} to pay by {} was broken", r.text(3)),
                Some(&id),
                ctx.today(),
            )?;
            out.broken.push(id);
        }
    }
    Ok(out)
}
