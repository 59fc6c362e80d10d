//! Operations. Numbers that pick a document are taken modulo what exists when the op runs, so
//! every op means something whatever came before it (and shrinking keeps them meaningful).

use o2c_app::Conn;
use o2c_store::params;
use proptest::prelude::*;

#[derive(Debug, Clone)]
pub(crate) enum Op {
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
    /// Change line 1's quantity (back through credit); legal only before anything shipped.
    Amend {
        order: usize,
        quantity: i64,
        any_order: bool,
    },
    /// Take up a cancelled or rejected order again (back through credit).
    Reopen {
        order: usize,
        any_order: bool,
    },
    /// A new order with the same lines.
    Copy {
        order: usize,
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
pub(crate) struct Line {
    pub(crate) product: usize,
    pub(crate) quantity: i64,
    pub(crate) unknown_sku: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Payer {
    /// Any customer (cash may arrive before anything is owed).
    Any(usize),
    /// A customer with open invoices, when there is one.
    Debtor(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum PayAmount {
    Minor(i64),
    /// Exactly what the customer owes (zero when nothing is open: must be refused).
    OpenTotal,
    /// What the customer owes plus this much.
    Overpay(i64),
}

#[derive(Debug, Clone)]
pub(crate) enum Remittance {
    None,
    /// Names one of the customer's open invoices.
    OwnInvoice(usize),
    /// Names another customer's invoice: must be refused.
    ForeignInvoice(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum ApplyAmount {
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

pub(crate) fn op() -> impl Strategy<Value = Op> {
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
        2 => (0usize..8, 1i64..9, proptest::bool::weighted(0.3)).prop_map(|(order, quantity, any_order)| Op::Amend { order, quantity, any_order }),
        1 => (0usize..8, proptest::bool::weighted(0.3)).prop_map(|(order, any_order)| Op::Reopen { order, any_order }),
        1 => (0usize..8).prop_map(|order| Op::Copy { order }),
        2 => (0usize..8, any::<bool>(), proptest::bool::weighted(0.2))
            .prop_map(|(order, approve, any_order)| Op::Review { order, approve, any_order }),
    ]
}

// ---------------------------------------------------------------------------------------------
// What exists when an op runs, to pick its documents from.

#[derive(Default)]
pub(crate) struct View {
    /// (id, customer, status), oldest first.
    pub(crate) orders: Vec<(String, String, String)>,
    pub(crate) planned_shipments: Vec<String>,
    pub(crate) finished_shipments: Vec<String>,
    /// (id, customer, open), oldest first.
    pub(crate) invoices: Vec<(String, String, i64)>,
    /// (id, customer, unapplied) of payments with cash left.
    pub(crate) payments_with_cash: Vec<(String, String, i64)>,
}

pub(crate) fn read_view(conn: &mut dyn Conn) -> o2c_app::Result<View> {
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

pub(crate) fn pick<T>(items: &[T], n: usize) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        Some(&items[n % items.len()])
    }
}
