//! The people of the company, each through the real use-cases.

use super::generator::Rng;
use crate::bench::{StageProgress, dispatch, ids, pay, write_each};
use crate::credit::{self, ReviewDecision};
use crate::inventory::{self, StockReceiptRequest};
use crate::order;
use crate::payment::PaymentRequest;
use crate::{App, Ctx, Result};
use o2c_core::Actor;
use o2c_core::money::decimal_string;
use o2c_store::{Conn, params};

const IN_FLIGHT: usize = 256;

pub(super) fn user(name: &str) -> Actor {
    Actor::User(name.into())
}

/// Runs each piece of work in its own concurrent write (the store commits them in groups).
pub(super) async fn act<I: Send + Sync + 'static>(
    app: &App,
    work: Vec<(Actor, I)>,
    f: fn(&mut dyn Conn, &Ctx, &I) -> Result<()>,
    on_done: impl Fn(usize, usize),
) -> Result<()> {
    write_each(app, work, IN_FLIGHT, f, on_done).await.map(drop)
}

fn cancel(conn: &mut dyn Conn, ctx: &Ctx, (id, why): &(String, &str)) -> Result<()> {
    order::cancel_in_tx(conn, ctx, id, Some(why)).map(drop)
}

fn review(conn: &mut dyn Conn, ctx: &Ctx, item: &(String, ReviewDecision, &str)) -> Result<()> {
    credit::review_in_tx(conn, ctx, &item.0, item.1, Some(item.2)).map(drop)
}

fn receive(conn: &mut dyn Conn, ctx: &Ctx, r: &StockReceiptRequest) -> Result<()> {
    inventory::receive_stock_in_tx(conn, ctx, r).map(drop)
}

const CANCEL_REASONS: [&str; 3] = [
    "customer withdrew the order",
    "ordered twice by mistake",
    "goods found elsewhere",
];
const RELEASE_COMMENTS: [&str; 3] = [
    "payment run confirmed by phone",
    "secured by bank guarantee",
    "long-standing customer",
];
const REJECT_COMMENTS: [&str; 2] = [
    "account in collections; prepayment required",
    "far above the limit; ask for prepayment",
];

/// Customer service cancels a handful of orders that have not left the warehouse.
pub(super) async fn cancel_some(app: &App, rng: &mut Rng, orders: usize) -> Result<usize> {
    let sql = "SELECT id FROM orders WHERE status IN ('credit_hold', 'approved', 'backordered', 'reserved') ORDER BY id";
    let mut candidates = app.read(move |c| ids(c, sql)).await?;
    let wanted = (orders / 100).clamp(1, 25).min(candidates.len());
    let mut chosen = Vec::with_capacity(wanted);
    for _ in 0..wanted {
        let id = candidates.swap_remove(rng.below(candidates.len()));
        chosen.push((user("customer.service"), (id, *rng.pick(&CANCEL_REASONS))));
    }
    act(app, chosen, cancel, |_, _| ()).await?;
    Ok(wanted)
}

/// The credit analyst works the hold queue: releases most, rejects about one in seven.
pub(super) async fn review_holds(app: &App, rng: &mut Rng) -> Result<()> {
    let holds = app.read(|c| credit::holds(c, i64::MAX)).await?;
    let mut reviews = Vec::with_capacity(holds.len());
    for h in holds {
        let item = match rng.percent(14) {
            true => (
                h.order_id,
                ReviewDecision::Reject,
                *rng.pick(&REJECT_COMMENTS),
            ),
            false => (
                h.order_id,
                ReviewDecision::Approve,
                *rng.pick(&RELEASE_COMMENTS),
            ),
        };
        reviews.push((user("credit.analyst"), item));
    }
    act(app, reviews, review, |_, _| ()).await
}

/// The warehouse dispatches every planned shipment.
pub(super) async fn dispatch_planned(
    app: &App,
    progress: &StageProgress,
    stage: usize,
) -> Result<()> {
    // One query for the ids: `shipment::list` loads every shipment whole, one by one.
    let sql = "SELECT id FROM shipments WHERE status = 'planned' ORDER BY created_at, id";
    let planned = app.read(move |c| ids(c, sql)).await?;
    let work = planned
        .into_iter()
        .map(|id| (user("warehouse"), id))
        .collect();
    act(app, work, dispatch, |d, t| progress.advance(stage, d, t)).await
}

/// Goods arrive for most backordered products (the rest stay with a late supplier).
pub(super) async fn receive_backordered(app: &App, rng: &mut Rng) -> Result<()> {
    let needs = app
        .read(|c| {
            let rows = c.query(
                "SELECT p.sku, CAST(SUM(l.quantity - l.allocated) AS BIGINT) FROM backorders b
                 JOIN order_lines l ON l.order_id = b.order_id AND l.line_no = b.line_no
                 JOIN products p ON p.id = b.product_id GROUP BY p.sku ORDER BY p.sku",
                params![],
            )?;
            Ok(rows
                .iter()
                .map(|r| (r.text(0), r.int(1)))
                .collect::<Vec<_>>())
        })
        .await?;
    let mut receipts = Vec::new();
    for (sku, need) in needs {
        if !rng.percent(85) {
            continue;
        }
        let reference = Some(format!("GRN-{}", 70_000 + rng.below(30_000)));
        let quantity = need + rng.between(20, 120);
        let warehouse = "MAIN".into();
        receipts.push((
            user("warehouse"),
            StockReceiptRequest {
                sku,
                warehouse,
                quantity,
                reference,
            },
        ));
    }
    act(app, receipts, receive, |_, _| ()).await
}

/// The bank feed reports what customers paid: most in full (some naming the invoice, some not),
/// some in part, a few too much, and some not yet.
pub(super) async fn pay_invoices(app: &App, rng: &mut Rng, progress: &StageProgress) -> Result<()> {
    let sql =
        "SELECT i.number, i.customer_id, i.open_minor, c.name, i.payment_reference FROM invoices i
               JOIN customers c ON c.id = i.customer_id WHERE i.open_minor > 0 ORDER BY i.number";
    let open = app.read(move |c| Ok(c.query(sql, params![])?)).await?;
    let mut payments = Vec::new();
    let mut transfers = Vec::new();
    for r in open {
        let (number, open_minor) = (r.text(0), r.int(2));
        let (amount, named) = match rng.below(100) {
            0..62 => (open_minor, rng.percent(50)),
            62..74 => ((open_minor * rng.between(30, 90) / 100).max(1), true),
            74..78 => (open_minor + rng.between(1, 50) * 100, true),
            _ => continue,
        };
        let method = *rng.pick(&[
            "bank_transfer",
            "bank_transfer",
            "bank_transfer",
            "direct_debit",
            "card",
        ]);
        if method == "bank_transfer" {
            // Through the bank account and the day's statement: cash application decides.
            let (remittance, with_rf) = match named {
                true => super::bank::remittance_for(rng, &number),
                false => (format!("Payment run {}", rng.between(100, 999)), false),
            };
            transfers.push(super::bank::Transfer {
                customer_id: r.text(1),
                customer_name: r.text(3),
                amount_minor: amount,
                remittance,
                rf: r.opt_text(4).filter(|_| with_rf),
            });
            continue;
        }
        let reference = match named {
            true => format!("Invoice {number}"),
            false => format!("Payment run {}", rng.between(100, 999)),
        };
        let request = PaymentRequest {
            customer_id: r.text(1),
            amount: decimal_string(amount, 2),
            currency: "EUR".into(),
            method: Some(method.into()),
            reference: Some(reference),
            received_on: None,
            invoice_ids: if named { vec![number] } else { Vec::new() },
        };
        payments.push((Actor::ApiKey("bank-feed".into()), request));
    }
    act(app, payments, pay, |d, t| progress.advance(6, d, t)).await?;
    super::bank::statement(app, transfers).await.map(drop)
}
