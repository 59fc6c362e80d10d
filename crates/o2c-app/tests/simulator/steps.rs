//! Running one op: what was done, what the rules say must happen, and what happened.

use crate::ops::{ApplyAmount, Line, Op, PayAmount, Payer, Remittance, View, pick};
use crate::setup::{PRODUCTS, UNKNOWN_SKU, WAREHOUSES, World};
use o2c_app::credit::{self, ReviewDecision};
use o2c_app::inventory::{self, StockReceiptRequest};
use o2c_app::order::{self, OrderLineRequest, OrderRequest};
use o2c_app::payment::{self, PaymentRequest};
use o2c_app::{App, Conn, shipment};
use o2c_core::Actor;
use o2c_core::money::decimal_string;

pub(crate) enum Expect {
    Success,
    Refused(&'static str),
}

pub(crate) struct Step {
    pub(crate) did: String,
    pub(crate) expect: Expect,
    pub(crate) result: o2c_app::Result<()>,
}

const CANCELLABLE: [&str; 5] = [
    "received",
    "credit_hold",
    "approved",
    "backordered",
    "reserved",
];

async fn write<F>(app: &App, actor: &str, work: F) -> o2c_app::Result<()>
where
    F: FnMut(&mut dyn Conn, &o2c_app::Ctx) -> o2c_app::Result<()> + Send + 'static,
{
    app.write(Actor::User(actor.into()), work).await
}

/// Runs `op`; `None` when nothing it could act on exists yet.
pub(crate) async fn run_op(
    app: &App,
    world: &World,
    view: &View,
    op: &Op,
    n: usize,
) -> Option<Step> {
    let step = |did: String, expect, result| {
        Some(Step {
            did,
            expect,
            result,
        })
    };
    match op {
        Op::PlaceOrder { customer, lines } => place_order(app, world, *customer, lines).await,
        Op::Settle => step(
            "settle".into(),
            Expect::Success,
            app.settle().await.map(drop),
        ),
        Op::Dispatch { shipment } | Op::DispatchAgain { shipment } => {
            let again = matches!(op, Op::DispatchAgain { .. });
            let id = pick(
                if again {
                    &view.finished_shipments
                } else {
                    &view.planned_shipments
                },
                *shipment,
            )?
            .clone();
            let expect = if again {
                Expect::Refused("illegal-state-transition")
            } else {
                Expect::Success
            };
            let did = format!("dispatch {id}");
            step(
                did,
                expect,
                write(app, "warehouse", move |conn, ctx| {
                    shipment::dispatch_in_tx(conn, ctx, &id).map(drop)
                })
                .await,
            )
        }
        Op::ReceiveStock {
            product,
            warehouse,
            quantity,
        } => {
            let r = StockReceiptRequest {
                sku: PRODUCTS[product % PRODUCTS.len()].0.into(),
                warehouse: WAREHOUSES[warehouse % WAREHOUSES.len()].0.into(),
                quantity: *quantity,
                reference: Some(format!("GRN-{n}")),
            };
            let expect = if *quantity <= 0 {
                Expect::Refused("quantity-not-positive")
            } else {
                Expect::Success
            };
            let did = format!("receive {} x {} at {}", r.quantity, r.sku, r.warehouse);
            step(
                did,
                expect,
                write(app, "warehouse", move |conn, ctx| {
                    inventory::receive_stock_in_tx(conn, ctx, &r).map(drop)
                })
                .await,
            )
        }
        Op::RecordPayment {
            payer,
            amount,
            remittance,
        } => record_payment(app, world, view, payer, amount, remittance, n).await,
        Op::ApplyCash {
            payment,
            invoice,
            amount,
        } => apply_cash(app, view, *payment, *invoice, amount).await,
        Op::Cancel { order, any_order } => {
            let candidates: Vec<_> = view
                .orders
                .iter()
                .filter(|o| *any_order || CANCELLABLE.contains(&o.2.as_str()))
                .cloned()
                .collect();
            let (id, _, status) = pick(&candidates, *order)?.clone();
            let expect = if CANCELLABLE.contains(&status.as_str()) {
                Expect::Success
            } else {
                Expect::Refused("illegal-state-transition")
            };
            let did = format!("cancel {id} ({status})");
            step(
                did,
                expect,
                write(app, "sales", move |conn, ctx| {
                    order::cancel_in_tx(conn, ctx, &id, Some("simulated")).map(drop)
                })
                .await,
            )
        }
        Op::Review {
            order,
            approve,
            any_order,
        } => {
            let held: Vec<_> = view
                .orders
                .iter()
                .filter(|o| *any_order || o.2 == "credit_hold")
                .cloned()
                .collect();
            let (id, _, status) = pick(&held, *order)?.clone();
            let expect = if status == "credit_hold" {
                Expect::Success
            } else {
                Expect::Refused("illegal-state-transition")
            };
            let decision = if *approve {
                ReviewDecision::Approve
            } else {
                ReviewDecision::Reject
            };
            let did = format!("{decision:?} {id} ({status})");
            let result = write(app, "analyst", move |conn, ctx| {
                credit::review_in_tx(conn, ctx, &id, decision, Some("simulated")).map(drop)
            })
            .await;
            step(did, expect, result)
        }
        Op::Amend {
            order,
            quantity,
            any_order,
        } => {
            let candidates: Vec<_> = view
                .orders
                .iter()
                .filter(|o| *any_order || CANCELLABLE.contains(&o.2.as_str()))
                .cloned()
                .collect();
            let (id, _, status) = pick(&candidates, *order)?.clone();
            let expect = if CANCELLABLE.contains(&status.as_str()) {
                Expect::Success
            } else {
                Expect::Refused("illegal-state-transition")
            };
            let request = order::AmendRequest {
                lines: vec![order::AmendLine {
                    line_no: 1,
                    quantity: Some(*quantity),
                    unit_price: None,
                }],
                reason: None,
            };
            let did = format!("amend {id} ({status}) to {quantity}");
            step(
                did,
                expect,
                write(app, "sales", move |conn, ctx| {
                    order::amend_in_tx(conn, ctx, &id, &request).map(drop)
                })
                .await,
            )
        }
        Op::Reopen { order, any_order } => {
            let closed = ["cancelled", "rejected"];
            let candidates: Vec<_> = view
                .orders
                .iter()
                .filter(|o| *any_order || closed.contains(&o.2.as_str()))
                .cloned()
                .collect();
            let (id, _, status) = pick(&candidates, *order)?.clone();
            let expect = if closed.contains(&status.as_str()) {
                Expect::Success
            } else {
                Expect::Refused("illegal-state-transition")
            };
            let did = format!("reopen {id} ({status})");
            step(
                did,
                expect,
                write(app, "sales", move |conn, ctx| {
                    order::reopen_in_tx(conn, ctx, &id, Some("simulated")).map(drop)
                })
                .await,
            )
        }
        Op::Copy { order } => {
            let (id, _, status) = pick(&view.orders, *order)?.clone();
            let did = format!("copy {id} ({status})");
            step(
                did,
                Expect::Success,
                write(app, "sales", move |conn, ctx| {
                    order::copy_in_tx(conn, ctx, &id).map(drop)
                })
                .await,
            )
        }
        // Run by `run_case`, which sends both halves at once.
        Op::Together(..) => None,
    }
}

async fn place_order(app: &App, world: &World, customer: usize, lines: &[Line]) -> Option<Step> {
    let request = OrderRequest {
        freight: None,
        customer_id: pick(&world.customers, customer)?.clone(),
        currency: Some("EUR".into()),
        customer_reference: None,
        requested_delivery_on: None,
        ship_to: None,
        lines: lines
            .iter()
            .map(|l| OrderLineRequest {
                sku: if l.unknown_sku {
                    UNKNOWN_SKU.into()
                } else {
                    PRODUCTS[l.product % PRODUCTS.len()].0.into()
                },
                quantity: l.quantity,
            })
            .collect(),
    };
    // The shape is checked before the catalogue, so a zero quantity wins over an unknown SKU.
    let expect = if lines.iter().any(|l| l.quantity <= 0) {
        Expect::Refused("quantity-not-positive")
    } else if lines.iter().any(|l| l.unknown_sku) {
        Expect::Refused("unknown-sku")
    } else {
        Expect::Success
    };
    let did = format!(
        "place order for {}: {:?}",
        request.customer_id,
        request
            .lines
            .iter()
            .map(|l| (&l.sku, l.quantity))
            .collect::<Vec<_>>()
    );
    let result = app
        .write(Actor::ApiKey("key_shop".into()), move |conn, ctx| {
            order::place_in_tx(conn, ctx, &request).map(drop)
        })
        .await;
    Some(Step {
        did,
        expect,
        result,
    })
}

async fn record_payment(
    app: &App,
    world: &World,
    view: &View,
    payer: &Payer,
    amount: &PayAmount,
    remittance: &Remittance,
    n: usize,
) -> Option<Step> {
    let debtors: Vec<String> = world
        .customers
        .iter()
        .filter(|c| view.invoices.iter().any(|i| &i.1 == *c && i.2 > 0))
        .cloned()
        .collect();
    let customer_id = match payer {
        Payer::Debtor(n) if !debtors.is_empty() => pick(&debtors, *n)?.clone(),
        Payer::Any(n) | Payer::Debtor(n) => pick(&world.customers, *n)?.clone(),
    };
    let own_open: Vec<_> = view
        .invoices
        .iter()
        .filter(|i| i.1 == customer_id && i.2 > 0)
        .collect();
    let foreign: Vec<_> = view
        .invoices
        .iter()
        .filter(|i| i.1 != customer_id)
        .collect();
    let owed: i64 = own_open.iter().map(|i| i.2).sum();
    let amount_minor = match amount {
        PayAmount::Minor(m) => *m,
        PayAmount::OpenTotal => owed,
        PayAmount::Overpay(extra) => owed + extra,
    };
    let (invoice_ids, foreign_named) = match remittance {
        Remittance::None => (vec![], false),
        Remittance::OwnInvoice(i) => (
            pick(&own_open, *i)
                .map(|inv| vec![inv.0.clone()])
                .unwrap_or_default(),
            false,
        ),
        Remittance::ForeignInvoice(i) => match pick(&foreign, *i) {
            Some(inv) => (vec![inv.0.clone()], true),
            None => (vec![], false),
        },
    };
    let expect = if amount_minor <= 0 {
        Expect::Refused("amount-not-positive")
    } else if foreign_named {
        Expect::Refused("invalid-field")
    } else {
        Expect::Success
    };
    let request = PaymentRequest {
        customer_id,
        amount: decimal_string(amount_minor, 2),
        currency: "EUR".into(),
        method: None,
        reference: Some(format!("SIM-{n}")),
        received_on: None,
        invoice_ids,
    };
    let did = format!(
        "pay {} EUR for {} naming {:?}",
        request.amount, request.customer_id, request.invoice_ids
    );
    let result = app
        .write(Actor::ApiKey("key_bank".into()), move |conn, ctx| {
            payment::record_in_tx(conn, ctx, &request).map(drop)
        })
        .await;
    Some(Step {
        did,
        expect,
        result,
    })
}

async fn apply_cash(
    app: &App,
    view: &View,
    payment: usize,
    invoice: usize,
    amount: &ApplyAmount,
) -> Option<Step> {
    let open_of = |customer: &str| {
        view.invoices
            .iter()
            .filter(|i| i.1 == customer && i.2 > 0)
            .collect::<Vec<_>>()
    };
    let usable: Vec<_> = view
        .payments_with_cash
        .iter()
        .filter(|p| !open_of(&p.1).is_empty())
        .collect();
    let (payment_id, customer_id, unapplied) = (*pick(&usable, payment)?).clone();
    let open = open_of(&customer_id);
    let (invoice_id, _, open_minor) = (*pick(&open, invoice)?).clone();
    let most = unapplied.min(open_minor);
    let amount_minor = match amount {
        ApplyAmount::Fits => most,
        ApplyAmount::Minor(m) => *m,
    };
    let expect = if amount_minor > most {
        Expect::Refused("application-exceeds-open-amount")
    } else {
        Expect::Success
    };
    let did = format!(
        "apply {amount_minor} of {payment_id} ({unapplied} unapplied) to {invoice_id} ({open_minor} open)"
    );
    let result = write(app, "clerk", move |conn, ctx| {
        payment::apply_in_tx(conn, ctx, &payment_id, &invoice_id, amount_minor).map(drop)
    })
    .await;
    Some(Step {
        did,
        expect,
        result,
    })
}
