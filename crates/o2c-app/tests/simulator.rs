//! A seeded simulator, TigerBeetle's VOPR in miniature: proptest throws random sequences of
//! order-to-cash operations at a fresh store (orders, engine steps, dispatches, stock receipts,
//! payments, manual cash application, cancellations, credit reviews) and, after every one,
//! checks the invariants of DESIGN.md in one consistent snapshot. Operations that must fail
//! (quantity 0, an unknown SKU, an over-application, a cancellation after dispatch…) must fail
//! with the rule's own error code and change nothing.
//!
//! A failure prints the shrunk operation sequence. `O2C_SIM_SEED=<n>` replays a run (the seed
//! is printed at the start), `O2C_SIM_CASES=<n>` runs more or fewer cases.

use o2c_app::credit::{self, ReviewDecision};
use o2c_app::customer::{self, CustomerRequest, NewCustomer};
use o2c_app::inventory::{self, ProductRequest, StockLevel, StockReceiptRequest, WarehouseRequest};
use o2c_app::order::{self, OrderLineRequest, OrderRequest};
use o2c_app::payment::{self, PaymentRequest};
use o2c_app::testing::{Engine, TestStore};
use o2c_app::{App, AppError, Conn, engine, ledger, shipment};
use o2c_core::customer::Address;
use o2c_core::money::decimal_string;
use o2c_core::order::{Fulfilment, LineQuantities, fulfilment_of};
use o2c_core::{Actor, DomainError};
use o2c_store::params;
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::collections::BTreeMap;
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------------
// The world every case starts from: two warehouses, four customers, five products.

const WAREHOUSES: [(&str, i64); 2] = [("WH1", 1), ("WH2", 2)];

/// (name, credit limit, payment terms in days, country). "Tiny Traders" gets held on almost
/// every order; "Cash Upfront" pays on receipt.
const CUSTOMERS: [(&str, &str, i64, &str); 4] = [
    ("Acme GmbH", "1000000.00", 30, "DE"),
    ("Tiny Traders", "50.00", 30, "AT"),
    ("Cash Upfront BV", "100000.00", 0, "NL"),
    ("Mid Market SARL", "1500.00", 14, "FR"),
];

/// Opening stock of a product per warehouse code.
type Stock = &'static [(&'static str, i64)];

/// (SKU, unit price, tax category, opening stock). Little stock, so orders run out and wait.
const PRODUCTS: [(&str, &str, &str, Stock); 5] = [
    ("WIDGET", "12.99", "standard", &[("WH1", 6), ("WH2", 4)]),
    ("GADGET", "7.45", "reduced", &[("WH1", 10)]),
    ("MANUAL", "19.90", "zero", &[("WH2", 8)]),
    ("CABLE", "3.33", "standard", &[("WH1", 2), ("WH2", 2)]),
    ("TURBINE", "149.00", "standard", &[]),
];

const UNKNOWN_SKU: &str = "NO-SUCH-SKU";

struct World {
    customers: Vec<String>,
}

fn address(country: &str) -> Address {
    Address {
        line1: "1 Main Street".into(),
        line2: None,
        city: "Town".into(),
        postal_code: "12345".into(),
        country: country.into(),
    }
}

async fn setup(app: &App) -> Result<World, TestCaseError> {
    let customers = app
        .write(Actor::User("admin".into()), |conn, ctx| {
            for (code, priority) in WAREHOUSES {
                let r = WarehouseRequest {
                    code: code.into(),
                    name: format!("Warehouse {code}"),
                    priority: Some(priority),
                };
                inventory::create_warehouse_in_tx(conn, ctx, &r)?;
            }
            let mut ids = Vec::new();
            for (name, limit, terms, country) in CUSTOMERS {
                let r = CustomerRequest {
                    name: name.into(),
                    email: Some("ap@example.com".into()),
                    currency: "EUR".into(),
                    payment_terms_days: terms,
                    credit_limit: limit.into(),
                    billing_address: Some(address(country)),
                    shipping_address: Some(address(country)),
                };
                ids.push(customer::create_in_tx(conn, ctx, &NewCustomer::parse(r)?)?.id);
            }
            for (sku, price, category, stock) in PRODUCTS {
                let r = ProductRequest {
                    sku: sku.into(),
                    name: format!("Product {sku}"),
                    unit_price: price.into(),
                    currency: "EUR".into(),
                    tax_category: Some(category.into()),
                    stock: stock
                        .iter()
                        .map(|(w, q)| StockLevel {
                            warehouse: (*w).into(),
                            quantity: *q,
                        })
                        .collect(),
                };
                inventory::create_product_in_tx(conn, ctx, &r)?;
            }
            Ok(ids)
        })
        .await
        .map_err(|e| fail(format!("setup failed: {e}")))?;
    Ok(World { customers })
}

// ---------------------------------------------------------------------------------------------
// Operations. Numbers that pick a document are taken modulo what exists when the op runs, so
// every op means something whatever came before it (and shrinking keeps them meaningful).

#[derive(Debug, Clone)]
enum Op {
    PlaceOrder {
        customer: usize,
        lines: Vec<Line>,
    },
    Settle,
    Dispatch {
        shipment: usize,
    },
    /// Dispatch a shipment that already left or was cancelled: must be refused.
    DispatchAgain {
        shipment: usize,
    },
    ReceiveStock {
        product: usize,
        warehouse: usize,
        quantity: i64,
    },
    RecordPayment {
        payer: Payer,
        amount: PayAmount,
        remittance: Remittance,
    },
    ApplyCash {
        payment: usize,
        invoice: usize,
        amount: ApplyAmount,
    },
    /// `any_order` picks among all orders, not only those that may still be cancelled.
    Cancel {
        order: usize,
        any_order: bool,
    },
    /// A credit analyst decides; `any_order` picks among all orders, not only held ones.
    Review {
        order: usize,
        approve: bool,
        any_order: bool,
    },
    /// Two ops sent at once, both picking from the same view: they race for the same rows
    /// (on PostgreSQL in separate writer transactions). Either may lose with a domain error.
    Together(Box<Op>, Box<Op>),
}

#[derive(Debug, Clone)]
struct Line {
    product: usize,
    quantity: i64,
    unknown_sku: bool,
}

#[derive(Debug, Clone)]
enum Payer {
    /// Any customer (cash may arrive before anything is owed).
    Any(usize),
    /// A customer with open invoices, when there is one.
    Debtor(usize),
}

#[derive(Debug, Clone)]
enum PayAmount {
    Minor(i64),
    /// Exactly what the customer owes (zero when nothing is open: must be refused).
    OpenTotal,
    /// What the customer owes plus this much.
    Overpay(i64),
}

#[derive(Debug, Clone)]
enum Remittance {
    None,
    /// Names one of the customer's open invoices.
    OwnInvoice(usize),
    /// Names another customer's invoice: must be refused.
    ForeignInvoice(usize),
}

#[derive(Debug, Clone)]
enum ApplyAmount {
    /// As much as both the payment and the invoice allow.
    Fits,
    /// Any amount; over what either has it must be refused.
    Minor(i64),
}

fn line() -> impl Strategy<Value = Line> {
    let quantity = prop_oneof![14 => 1i64..=3, 5 => 4i64..=8, 1 => Just(0i64)];
    (0usize..8, quantity, proptest::bool::weighted(0.05)).prop_map(
        |(product, quantity, unknown_sku)| Line {
            product,
            quantity,
            unknown_sku,
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        24 => single_op(),
        1 => (single_op(), single_op()).prop_map(|(a, b)| Op::Together(Box::new(a), Box::new(b))),
    ]
}

fn single_op() -> impl Strategy<Value = Op> {
    let payer = prop_oneof![1 => (0usize..8).prop_map(Payer::Any), 2 => (0usize..8).prop_map(Payer::Debtor)];
    let pay_amount = prop_oneof![2 => (1i64..=20_000).prop_map(PayAmount::Minor), 1 => Just(PayAmount::OpenTotal), 2 => (1i64..=5_000).prop_map(PayAmount::Overpay)];
    let remittance = prop_oneof![3 => Just(Remittance::None), 4 => (0usize..8).prop_map(Remittance::OwnInvoice), 1 => (0usize..8).prop_map(Remittance::ForeignInvoice)];
    let apply_amount = prop_oneof![
        Just(ApplyAmount::Fits),
        (1i64..=30_000).prop_map(ApplyAmount::Minor)
    ];
    prop_oneof![
        4 => (0usize..8, proptest::collection::vec(line(), 1..=3)).prop_map(|(customer, lines)| Op::PlaceOrder { customer, lines }),
        8 => Just(Op::Settle),
        8 => (0usize..8).prop_map(|shipment| Op::Dispatch { shipment }),
        1 => (0usize..8).prop_map(|shipment| Op::DispatchAgain { shipment }),
        2 => (0usize..8, 0usize..2, prop_oneof![10 => 1i64..=12, 1 => Just(0i64)])
            .prop_map(|(product, warehouse, quantity)| Op::ReceiveStock { product, warehouse, quantity }),
        4 => (payer, pay_amount, remittance).prop_map(|(payer, amount, remittance)| Op::RecordPayment { payer, amount, remittance }),
        4 => (0usize..8, 0usize..8, apply_amount).prop_map(|(payment, invoice, amount)| Op::ApplyCash { payment, invoice, amount }),
        2 => (0usize..8, proptest::bool::weighted(0.3)).prop_map(|(order, any_order)| Op::Cancel { order, any_order }),
        2 => (0usize..8, any::<bool>(), proptest::bool::weighted(0.2))
            .prop_map(|(order, approve, any_order)| Op::Review { order, approve, any_order }),
    ]
}

// ---------------------------------------------------------------------------------------------
// What exists when an op runs, to pick its documents from.

#[derive(Default)]
struct View {
    /// (id, customer, status), oldest first.
    orders: Vec<(String, String, String)>,
    planned_shipments: Vec<String>,
    finished_shipments: Vec<String>,
    /// (id, customer, open), oldest first.
    invoices: Vec<(String, String, i64)>,
    /// (id, customer, unapplied) of payments with cash left.
    payments_with_cash: Vec<(String, String, i64)>,
}

fn read_view(conn: &mut dyn Conn) -> o2c_app::Result<View> {
    let triples =
        |conn: &mut dyn Conn, sql: &str| -> o2c_app::Result<Vec<(String, String, String)>> {
            Ok(conn
                .query(sql, params![])?
                .iter()
                .map(|r| (r.text(0), r.text(1), r.text(2)))
                .collect())
        };
    let orders = triples(
        conn,
        "SELECT id, customer_id, status FROM orders ORDER BY id",
    )?;
    let shipments = triples(
        conn,
        "SELECT id, status, order_id FROM shipments ORDER BY id",
    )?;
    let money = |rows: Vec<(String, String, String)>| {
        rows.into_iter()
            .map(|(a, b, c)| (a, b, c.parse().expect("an amount")))
            .collect()
    };
    let invoices = money(triples(
        conn,
        "SELECT id, customer_id, open_minor FROM invoices ORDER BY id",
    )?);
    let payments_with_cash = money(triples(
        conn,
        "SELECT id, customer_id, unapplied_minor FROM payments WHERE unapplied_minor > 0 ORDER BY id",
    )?);
    let (planned, finished): (Vec<_>, Vec<_>) =
        shipments.into_iter().partition(|s| s.1 == "planned");
    Ok(View {
        orders,
        planned_shipments: planned.into_iter().map(|s| s.0).collect(),
        finished_shipments: finished.into_iter().map(|s| s.0).collect(),
        invoices,
        payments_with_cash,
    })
}

fn pick<T>(items: &[T], n: usize) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        Some(&items[n % items.len()])
    }
}

// ---------------------------------------------------------------------------------------------
// Running one op: what was done, what the rules say must happen, and what happened.

enum Expect {
    Success,
    Refused(&'static str),
}

struct Step {
    did: String,
    expect: Expect,
    result: o2c_app::Result<()>,
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
async fn run_op(app: &App, world: &World, view: &View, op: &Op, n: usize) -> Option<Step> {
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
        // Run by `run_case`, which sends both halves at once.
        Op::Together(..) => None,
    }
}

async fn place_order(app: &App, world: &World, customer: usize, lines: &[Line]) -> Option<Step> {
    let request = OrderRequest {
        customer_id: pick(&world.customers, customer)?.clone(),
        currency: Some("EUR".into()),
        customer_reference: None,
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

// ---------------------------------------------------------------------------------------------
// The invariants, each read in one snapshot.

/// Counts and sums that any change of state moves; a refused op must leave it as it was.
fn fingerprint(conn: &mut dyn Conn) -> o2c_app::Result<Vec<(&'static str, String)>> {
    const PARTS: [(&str, &str); 16] = [
        ("events", "SELECT COUNT(*) FROM events"),
        ("outbox", "SELECT COUNT(*) FROM outbox"),
        ("orders", "SELECT COUNT(*) FROM orders"),
        (
            "order line quantities",
            "SELECT CAST(COALESCE(SUM(allocated * 1000000 + shipped * 1000 + invoiced), 0) AS BIGINT) FROM order_lines",
        ),
        (
            "uninvoiced",
            "SELECT CAST(COALESCE(SUM(uninvoiced_minor), 0) AS BIGINT) FROM orders",
        ),
        ("credit decisions", "SELECT COUNT(*) FROM credit_decisions"),
        (
            "planned shipments",
            "SELECT COUNT(*) FROM shipments WHERE status = 'planned'",
        ),
        ("invoices", "SELECT COUNT(*) FROM invoices"),
        (
            "invoice open",
            "SELECT CAST(COALESCE(SUM(open_minor), 0) AS BIGINT) FROM invoices",
        ),
        ("payments", "SELECT COUNT(*) FROM payments"),
        (
            "unapplied",
            "SELECT CAST(COALESCE(SUM(unapplied_minor), 0) AS BIGINT) FROM payments",
        ),
        ("applications", "SELECT COUNT(*) FROM payment_applications"),
        ("journal lines", "SELECT COUNT(*) FROM journal_lines"),
        (
            "stock",
            "SELECT CAST(COALESCE(SUM(on_hand * 1000 + reserved), 0) AS BIGINT) FROM stock",
        ),
        (
            "reservations",
            "SELECT COUNT(*) FROM reservations WHERE status = 'open'",
        ),
        (
            "customer balances",
            "SELECT CAST(COALESCE(SUM(open_receivables_minor + 3 * open_orders_minor + 7 * unapplied_cash_minor), 0) AS BIGINT) FROM customers",
        ),
    ];
    let mut out = Vec::with_capacity(PARTS.len() + 1);
    for (name, sql) in PARTS {
        out.push((name, conn.query_one(sql, params![])?.text(0)));
    }
    let statuses: Vec<String> = conn
        .query(
            "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status",
            params![],
        )?
        .iter()
        .map(|r| format!("{}={}", r.text(0), r.int(1)))
        .collect();
    out.push(("orders by status", statuses.join(",")));
    Ok(out)
}

/// Runs `sql` and reports each row it returns (the query selects what breaks a rule).
fn each_row(
    conn: &mut dyn Conn,
    out: &mut Vec<String>,
    rule: &str,
    sql: &str,
) -> o2c_app::Result<()> {
    for r in conn.query(sql, params![])? {
        let cols: Vec<String> = (0..r.len())
            .map(|i| r.opt_text(i).unwrap_or_else(|| "NULL".into()))
            .collect();
        out.push(format!("{rule}: {}", cols.join(" | ")));
    }
    Ok(())
}

fn check_books(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    let tb = ledger::trial_balance(conn)?;
    if !tb.balanced || tb.totals.iter().any(|t| t.total_minor != 0) {
        out.push(format!("the trial balance is not zero: {:?}", tb.totals));
    }
    for c in tb.receivables.iter().filter(|c| !c.matches) {
        out.push(format!(
            "open invoices do not equal the receivables control account: {c:?}"
        ));
    }
    for c in tb.unapplied_cash.iter().filter(|c| !c.matches) {
        out.push(format!(
            "unapplied payments do not equal the customer-credits account: {c:?}"
        ));
    }
    Ok(())
}

fn check_stock(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    each_row(
        conn,
        out,
        "stock out of bounds or not the sum of open reservations (product, warehouse, on hand, reserved, open reservations)",
        "SELECT * FROM (
            SELECT s.product_id, s.warehouse_id, s.on_hand, s.reserved,
                   CAST(COALESCE((SELECT SUM(r.quantity) FROM reservations r
                                  WHERE r.product_id = s.product_id AND r.warehouse_id = s.warehouse_id AND r.status = 'open'), 0) AS BIGINT) AS open_qty
            FROM stock s) t
         WHERE reserved < 0 OR reserved > on_hand OR reserved <> open_qty",
    )?;
    each_row(
        conn,
        out,
        "an open reservation without a stock row",
        "SELECT r.seq, r.product_id, r.warehouse_id FROM reservations r
         WHERE r.status = 'open' AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.product_id = r.product_id AND s.warehouse_id = r.warehouse_id)",
    )
}

fn check_cash(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    each_row(
        conn,
        out,
        "payment applications are not amount - unapplied (payment, amount, unapplied, applied)",
        "SELECT p.id, p.amount_minor, p.unapplied_minor,
                CAST(COALESCE((SELECT SUM(a.amount_minor) FROM payment_applications a WHERE a.payment_id = p.id), 0) AS BIGINT) AS applied
         FROM payments p
         WHERE p.unapplied_minor < 0
            OR p.amount_minor - p.unapplied_minor <> CAST(COALESCE((SELECT SUM(a.amount_minor) FROM payment_applications a WHERE a.payment_id = p.id), 0) AS BIGINT)",
    )?;
    each_row(
        conn,
        out,
        "invoice applications are not gross - open, or the payment status is wrong (invoice, gross, open, applied, status)",
        "SELECT i.id, i.gross_minor, i.open_minor,
                CAST(COALESCE((SELECT SUM(a.amount_minor) FROM payment_applications a WHERE a.invoice_id = i.id), 0) AS BIGINT), i.payment_status
         FROM invoices i
         WHERE i.open_minor < 0
            OR i.gross_minor - i.open_minor <> CAST(COALESCE((SELECT SUM(a.amount_minor) FROM payment_applications a WHERE a.invoice_id = i.id), 0) AS BIGINT)
            OR i.payment_status <> CASE WHEN i.open_minor <= 0 THEN 'paid' WHEN i.open_minor < i.gross_minor THEN 'partially_paid' ELSE 'unpaid' END",
    )?;
    each_row(
        conn,
        out,
        "an application crosses customers (application, payment customer, invoice customer)",
        "SELECT a.id, p.customer_id, i.customer_id FROM payment_applications a
         JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
         WHERE p.customer_id <> i.customer_id OR a.customer_id <> i.customer_id",
    )
}

fn check_customers(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    each_row(
        conn,
        out,
        "a customer's running figures differ from a recomputation \
         (customer, receivables kept/recomputed, unapplied kept/recomputed, open orders kept/recomputed)",
        "SELECT id, open_receivables_minor, ar, unapplied_cash_minor, cash, open_orders_minor, oo FROM (
            SELECT c.id, c.open_receivables_minor, c.unapplied_cash_minor, c.open_orders_minor,
                   CAST(COALESCE((SELECT SUM(i.open_minor) FROM invoices i WHERE i.customer_id = c.id), 0) AS BIGINT) AS ar,
                   CAST(COALESCE((SELECT SUM(p.unapplied_minor) FROM payments p WHERE p.customer_id = c.id), 0) AS BIGINT) AS cash,
                   CAST(COALESCE((SELECT SUM(o.uninvoiced_minor) FROM orders o WHERE o.customer_id = c.id), 0) AS BIGINT) AS oo
            FROM customers c) t
         WHERE open_receivables_minor <> ar OR unapplied_cash_minor <> cash OR open_orders_minor <> oo",
    )
}

fn check_orders(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    each_row(
        conn,
        out,
        "line quantities out of order (order, line, quantity, allocated, shipped, invoiced)",
        "SELECT order_id, line_no, quantity, allocated, shipped, invoiced FROM order_lines
         WHERE NOT (0 <= invoiced AND invoiced <= shipped AND shipped <= allocated AND allocated <= quantity)",
    )?;
    each_row(
        conn,
        out,
        "line quantities disagree with reservations and invoices (order, status, line, allocated, reserved+shipped, shipped, shipped reservations, invoiced, invoice lines)",
        "SELECT * FROM (
            SELECT l.order_id, o.status, l.line_no, l.allocated,
                   CAST(COALESCE((SELECT SUM(r.quantity) FROM reservations r WHERE r.order_id = l.order_id AND r.line_no = l.line_no AND r.status IN ('open', 'shipped')), 0) AS BIGINT) AS held,
                   l.shipped,
                   CAST(COALESCE((SELECT SUM(r.quantity) FROM reservations r WHERE r.order_id = l.order_id AND r.line_no = l.line_no AND r.status = 'shipped'), 0) AS BIGINT) AS left_qty,
                   l.invoiced,
                   CAST(COALESCE((SELECT SUM(il.quantity) FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id
                                  WHERE i.order_id = l.order_id AND il.order_line_no = l.line_no), 0) AS BIGINT) AS billed
            FROM order_lines l JOIN orders o ON o.id = l.order_id) t
         WHERE (status <> 'cancelled' AND allocated <> held) OR shipped <> left_qty OR invoiced <> billed",
    )?;
    each_row(
        conn,
        out,
        "a cancelled or rejected order still holds exposure or stock (order, status, uninvoiced, open reservations, planned shipments)",
        "SELECT o.id, o.status, o.uninvoiced_minor,
                (SELECT COUNT(*) FROM reservations r WHERE r.order_id = o.id AND r.status = 'open'),
                (SELECT COUNT(*) FROM shipments s WHERE s.order_id = o.id AND s.status = 'planned')
         FROM orders o
         WHERE o.status IN ('cancelled', 'rejected')
           AND (o.uninvoiced_minor <> 0
                OR EXISTS (SELECT 1 FROM reservations r WHERE r.order_id = o.id AND r.status = 'open')
                OR EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id AND s.status = 'planned'))",
    )?;
    each_row(
        conn,
        out,
        "uninvoiced value out of bounds for the order's status (order, status, gross, uninvoiced)",
        "SELECT o.id, o.status, o.gross_minor, o.uninvoiced_minor FROM orders o
         WHERE o.uninvoiced_minor < 0 OR o.uninvoiced_minor > o.gross_minor
            OR (o.status IN ('received', 'credit_hold', 'rejected', 'cancelled', 'closed') AND o.uninvoiced_minor <> 0)
            OR (o.uninvoiced_minor <> 0 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.invoiced < l.quantity))",
    )?;
    each_row(
        conn,
        out,
        "a shipment's reservations disagree with its status (shipment, status, reservation status)",
        "SELECT s.id, s.status, r.status FROM shipments s JOIN reservations r ON r.shipment_id = s.id
         WHERE (s.status = 'planned' AND r.status <> 'open') OR (s.status = 'dispatched' AND r.status <> 'shipped')
            OR (s.status = 'cancelled' AND r.status = 'open')",
    )
}

/// An approved order's status is what its lines say (`approved` only until the engine first
/// reserves for it), and a line short of stock waits in the backorder queue, and only then.
fn check_fulfilment(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    let rows = conn.query(
        "SELECT o.id, o.status, l.quantity, l.allocated, l.shipped FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.status IN ('approved', 'backordered', 'reserved', 'partially_shipped', 'shipped', 'closed')
         ORDER BY o.id, l.line_no",
        params![],
    )?;
    let mut orders: BTreeMap<(String, String), Vec<LineQuantities>> = BTreeMap::new();
    for r in &rows {
        let q = LineQuantities {
            ordered: r.int(2),
            allocated: r.int(3),
            shipped: r.int(4),
        };
        orders.entry((r.text(0), r.text(1))).or_default().push(q);
    }
    for ((id, status), lines) in orders {
        let expected = match fulfilment_of(&lines) {
            Fulfilment::Backordered => "backordered",
            Fulfilment::Reserved => "reserved",
            Fulfilment::PartiallyShipped => "partially_shipped",
            Fulfilment::Shipped => "shipped",
        };
        let fine = status == expected
            || (status == "approved" && lines.iter().all(|l| l.allocated == 0))
            || (status == "closed" && expected == "shipped");
        if !fine {
            out.push(format!("order status disagrees with its lines: {id} is {status}, its lines say {expected} ({lines:?})"));
        }
    }
    each_row(
        conn,
        out,
        "the backorder queue disagrees with the lines (order, status, line, quantity, allocated, queued)",
        "SELECT * FROM (
            SELECT o.id, o.status, l.line_no, l.quantity, l.allocated,
                   (SELECT COUNT(*) FROM backorders b WHERE b.order_id = l.order_id AND b.line_no = l.line_no) AS queued
            FROM orders o JOIN order_lines l ON l.order_id = o.id) t
         WHERE (queued > 0 AND (allocated >= quantity OR status NOT IN ('backordered', 'partially_shipped')))
            OR (queued = 0 AND allocated < quantity AND status IN ('backordered', 'partially_shipped'))",
    )
}

/// Each document carries its journal entry, its amounts add up, and invoice numbers have no gaps.
fn check_documents(conn: &mut dyn Conn, out: &mut Vec<String>) -> o2c_app::Result<()> {
    each_row(
        conn,
        out,
        "an invoice's lines, taxes or journal entry disagree with its totals (invoice, net, tax, gross, line net, tax lines, AR posted, entries)",
        "SELECT * FROM (
            SELECT i.id, i.net_minor, i.tax_minor, i.gross_minor,
                   CAST(COALESCE((SELECT SUM(l.net_minor) FROM invoice_lines l WHERE l.invoice_id = i.id), 0) AS BIGINT) AS line_net,
                   CAST(COALESCE((SELECT SUM(t.tax_minor) FROM invoice_taxes t WHERE t.invoice_id = i.id), 0) AS BIGINT) AS line_tax,
                   CAST(COALESCE((SELECT SUM(jl.amount_minor) FROM journal_entries j JOIN journal_lines jl ON jl.entry_id = j.id
                                  WHERE j.document_id = i.id AND jl.account = '1100'), 0) AS BIGINT) AS ar,
                   (SELECT COUNT(*) FROM journal_entries j WHERE j.document_id = i.id AND j.template = 'INVOICE_ISSUED') AS entries
            FROM invoices i) t
         WHERE net_minor + tax_minor <> gross_minor OR line_net <> net_minor OR line_tax <> tax_minor OR ar <> gross_minor OR entries <> 1",
    )?;
    each_row(
        conn,
        out,
        "a payment or application lacks its one journal entry (document, amount, entries)",
        "SELECT p.id, p.amount_minor, (SELECT COUNT(*) FROM journal_entries j WHERE j.document_id = p.id AND j.template = 'PAYMENT_RECEIVED') AS n
         FROM payments p WHERE (SELECT COUNT(*) FROM journal_entries j WHERE j.document_id = p.id AND j.template = 'PAYMENT_RECEIVED') <> 1
         UNION ALL
         SELECT a.id, a.amount_minor, (SELECT COUNT(*) FROM journal_entries j WHERE j.document_id = a.id AND j.template = 'CASH_APPLIED')
         FROM payment_applications a WHERE (SELECT COUNT(*) FROM journal_entries j WHERE j.document_id = a.id AND j.template = 'CASH_APPLIED') <> 1",
    )?;
    let mut numbers: Vec<String> = conn
        .query("SELECT number FROM invoices", params![])?
        .iter()
        .map(|r| r.text(0))
        .collect();
    numbers.sort();
    for (i, number) in numbers.iter().enumerate() {
        let n: usize = number
            .rsplit('-')
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        if n != i + 1 {
            out.push(format!(
                "invoice numbers have a gap or a duplicate: {numbers:?}"
            ));
            break;
        }
    }
    Ok(())
}

/// Every invariant that holds after every committed step; returns what is broken.
fn violations(conn: &mut dyn Conn) -> o2c_app::Result<Vec<String>> {
    let mut out = Vec::new();
    check_books(conn, &mut out)?;
    check_stock(conn, &mut out)?;
    check_cash(conn, &mut out)?;
    check_customers(conn, &mut out)?;
    check_orders(conn, &mut out)?;
    check_fulfilment(conn, &mut out)?;
    check_documents(conn, &mut out)?;
    Ok(out)
}

/// What must hold once the engine has nothing left to do (after every settle).
fn settled_violations(conn: &mut dyn Conn) -> o2c_app::Result<Vec<String>> {
    let mut out = violations(conn)?;
    each_row(
        conn,
        &mut out,
        "a fully shipped order whose invoices are paid is not closed (order, status)",
        "SELECT o.id, o.status FROM orders o
         WHERE o.status <> 'closed'
           AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.shipped < l.quantity)
           AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id AND i.open_minor > 0)",
    )?;
    each_row(
        conn,
        &mut out,
        "a closed order is not fully shipped, invoiced and paid (order)",
        "SELECT o.id FROM orders o
         WHERE o.status = 'closed'
           AND (EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND (l.shipped < l.quantity OR l.invoiced < l.quantity))
                OR EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id AND i.open_minor > 0))",
    )?;
    each_row(
        conn,
        &mut out,
        "stock is free while an order waits for it in the backorder queue (product, available, waiting lines)",
        "SELECT * FROM (
            SELECT p.sku,
                   CAST(COALESCE((SELECT SUM(s.on_hand - s.reserved) FROM stock s WHERE s.product_id = p.id), 0) AS BIGINT) AS available,
                   (SELECT COUNT(*) FROM backorders b WHERE b.product_id = p.id) AS waiting
            FROM products p) t
         WHERE available > 0 AND waiting > 0",
    )?;
    each_row(
        conn,
        &mut out,
        "a dispatched shipment is not invoiced (shipment)",
        "SELECT s.id FROM shipments s WHERE s.status = 'dispatched' AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.shipment_id = s.id)",
    )?;
    for f in engine::failures(conn)? {
        out.push(format!("an automation failed: {f:?}"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// One case: a fresh store, the world, the ops with a check after each, a final settle.

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

fn db(e: AppError) -> TestCaseError {
    fail(format!("store error while checking: {e}"))
}

fn judge(
    n: usize,
    op: &Op,
    step: Step,
    before: &[(&str, String)],
    after: &[(&str, String)],
) -> Result<(), TestCaseError> {
    let at = format!("op #{n} {op:?} ({})", step.did);
    match (step.expect, step.result) {
        (Expect::Success, Ok(())) => Ok(()),
        (Expect::Refused(code), Err(AppError::Domain(e))) if e.code() == code => {
            let changed: Vec<String> = before
                .iter()
                .zip(after)
                .filter(|(b, a)| b.1 != a.1)
                .map(|(b, a)| format!("{}: {} -> {}", b.0, b.1, a.1))
                .collect();
            if changed.is_empty() {
                Ok(())
            } else {
                Err(fail(format!(
                    "{at} was refused ({e}) but changed state: {changed:?}"
                )))
            }
        }
        (Expect::Refused(code), Ok(())) => Err(fail(format!(
            "{at} succeeded, but must be refused with `{code}`"
        ))),
        (Expect::Refused(code), Err(e)) => Err(fail(format!(
            "{at} must be refused with `{code}`, got `{}`: {e}",
            code_of(&e)
        ))),
        (Expect::Success, Err(e)) => Err(fail(format!(
            "{at} must succeed, got `{}`: {e}",
            code_of(&e)
        ))),
    }
}

/// A racing op may lose to the other one (a rule refuses it), but the store must never fail.
fn judge_racing(n: usize, op: &Op, step: Step) -> Result<(), TestCaseError> {
    match step.result {
        Ok(()) | Err(AppError::Domain(_)) => Ok(()),
        Err(e) => Err(fail(format!(
            "op #{n} {op:?} ({}) raced and failed with `{}`: {e}",
            step.did,
            code_of(&e)
        ))),
    }
}

fn code_of(e: &AppError) -> &'static str {
    match e {
        AppError::Domain(d) => DomainError::code(d),
        AppError::Db(_) => "database error",
        AppError::Internal(_) => "internal error",
    }
}

fn report(at: &str, broken: Vec<String>) -> Result<(), TestCaseError> {
    if broken.is_empty() {
        Ok(())
    } else {
        Err(fail(format!("after {at}:\n  - {}", broken.join("\n  - "))))
    }
}

/// Runs `op` (both halves of a `Together` at once); empty when there was nothing to act on.
async fn run_steps<'a>(
    app: &App,
    world: &World,
    view: &View,
    op: &'a Op,
    n: usize,
) -> Vec<(&'a Op, Step)> {
    match op {
        Op::Together(a, b) => {
            let (sa, sb) = tokio::join!(
                run_op(app, world, view, a, n),
                run_op(app, world, view, b, n)
            );
            [(&**a, sa), (&**b, sb)]
                .into_iter()
                .filter_map(|(o, s)| Some((o, s?)))
                .collect()
        }
        _ => run_op(app, world, view, op, n)
            .await
            .map(|s| vec![(op, s)])
            .unwrap_or_default(),
    }
}

async fn run_case(engine: Engine, ops: &[Op]) -> Result<(), TestCaseError> {
    let store = TestStore::new(engine).expect("the engine is available");
    let app = store
        .app()
        .map_err(|e| fail(format!("open the store: {e}")))?;
    let world = setup(&app).await?;
    report("setup", app.read(violations).await.map_err(db)?)?;
    for (n, op) in ops.iter().enumerate() {
        let (view, before) = app
            .read(|conn| Ok((read_view(conn)?, fingerprint(conn)?)))
            .await
            .map_err(db)?;
        let steps = run_steps(&app, &world, &view, op, n).await;
        if steps.is_empty() {
            tally(format!("{} -> nothing to act on", op_name(op)));
            continue;
        }
        let did: Vec<&str> = steps.iter().map(|(_, s)| s.did.as_str()).collect();
        let did = did.join(" + ");
        // After a settle the engine has nothing left to do, so its work must be complete too.
        let check = if matches!(op, Op::Settle) {
            settled_violations
        } else {
            violations
        };
        let (after, broken) = app
            .read(move |conn| Ok((fingerprint(conn)?, check(conn)?)))
            .await
            .map_err(db)?;
        let events = |f: &[(&str, String)]| f[0].1.parse::<i64>().expect("a count");
        if events(&after) < events(&before) {
            return Err(fail(format!(
                "op #{n} {op:?} ({did}) removed events from the append-only log"
            )));
        }
        let racing = matches!(op, Op::Together(..));
        for (o, step) in steps {
            let outcome = step.result.as_ref().map_or_else(code_of, |()| "ok");
            tally(format!(
                "{}{} -> {outcome}",
                if racing { "together: " } else { "" },
                op_name(o)
            ));
            if racing {
                judge_racing(n, o, step)?;
            } else {
                judge(n, o, step, &before, &after)?;
            }
        }
        report(&format!("op #{n} {op:?} ({did})"), broken)?;
    }
    app.settle()
        .await
        .map_err(|e| fail(format!("final settle failed: {e}")))?;
    for (what, count) in app.read(final_counts).await.map_err(db)? {
        tally_n(what, count);
    }
    report(
        "the final settle",
        app.read(settled_violations).await.map_err(db)?,
    )
}

// ---------------------------------------------------------------------------------------------
// Coverage: what the cases reached, printed at the end so that a change of the op mix that
// stops reaching (say) paid invoices shows.

static TALLY: Mutex<BTreeMap<String, i64>> = Mutex::new(BTreeMap::new());

fn tally_n(what: String, n: i64) {
    *TALLY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(what)
        .or_default() += n;
}

fn tally(what: String) {
    tally_n(what, 1);
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::PlaceOrder { .. } => "place order",
        Op::Settle => "settle",
        Op::Dispatch { .. } => "dispatch",
        Op::DispatchAgain { .. } => "dispatch again",
        Op::ReceiveStock { .. } => "receive stock",
        Op::RecordPayment { .. } => "record payment",
        Op::ApplyCash { .. } => "apply cash",
        Op::Cancel { .. } => "cancel",
        Op::Review { .. } => "credit review",
        Op::Together(..) => "together",
    }
}

fn final_counts(conn: &mut dyn Conn) -> o2c_app::Result<Vec<(String, i64)>> {
    let mut out: Vec<(String, i64)> = conn
        .query(
            "SELECT status, COUNT(*) FROM orders GROUP BY status",
            params![],
        )?
        .iter()
        .map(|r| (format!("~ orders {} at the end", r.text(0)), r.int(1)))
        .collect();
    for r in conn.query(
        "SELECT payment_status, COUNT(*) FROM invoices GROUP BY payment_status",
        params![],
    )? {
        out.push((format!("~ invoices {} at the end", r.text(0)), r.int(1)));
    }
    let auto = conn.query_one(
        "SELECT COUNT(*) FROM payment_applications WHERE actor_kind = 'rule'",
        params![],
    )?;
    out.push(("~ applications by rule".into(), auto.int(0)));
    Ok(out)
}

fn print_tally() {
    let tally = std::mem::take(&mut *TALLY.lock().unwrap_or_else(|e| e.into_inner()));
    println!("coverage (all cases, shrinking included):");
    for (what, n) in tally {
        println!("  {what:<55} {n:>6}");
    }
}

// ---------------------------------------------------------------------------------------------
// The runner: seeded, shrinking, and printing the minimal failing sequence.

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn simulate(engine: Engine, default_cases: u32) {
    let seed = env_number("O2C_SIM_SEED").unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    });
    let cases = env_number("O2C_SIM_CASES").map_or(default_cases, |c| c as u32);
    println!(
        "simulator on {engine:?}: {cases} cases, seed {seed} (O2C_SIM_SEED={seed} replays it)"
    );
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        // Each case opens a store and runs dozens of transactions: bound the shrinking.
        max_shrink_iters: 512,
        max_shrink_time: 300_000,
        ..ProptestConfig::default()
    };
    let mut seed_bytes = [0u8; 32];
    for chunk in seed_bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runner.run(&proptest::collection::vec(op(), 1..=40), |ops| {
        rt.block_on(run_case(engine, &ops))
    });
    print_tally();
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, ops)) => {
            let listing: Vec<String> = ops
                .iter()
                .enumerate()
                .map(|(i, op)| format!("  #{i}: {op:?}"))
                .collect();
            panic!(
                "the simulator broke an invariant (seed {seed}).\n{reason}\nminimal sequence of {} ops:\n{}",
                ops.len(),
                listing.join("\n")
            );
        }
        Err(TestError::Abort(reason)) => panic!("the simulator aborted (seed {seed}): {reason}"),
    }
}

#[test]
fn random_operations_keep_the_books_balanced_on_sqlite() {
    simulate(Engine::Sqlite, 256);
}

#[test]
fn random_operations_keep_the_books_balanced_on_postgres() {
    if o2c_app::testing::postgres_url().is_none() {
        println!("skipped: O2C_TEST_DATABASE_URL not set");
        return;
    }
    simulate(Engine::Postgres, 24);
}
