//! The invariants, each read in one snapshot.

use o2c_app::{Conn, engine, ledger};
use o2c_core::order::{Fulfilment, LineQuantities, fulfilment_of};
use o2c_store::params;
use std::collections::BTreeMap;

/// Counts and sums that any change of state moves; a refused op must leave it as it was.
pub(crate) fn fingerprint(conn: &mut dyn Conn) -> o2c_app::Result<Vec<(&'static str, String)>> {
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
    let f = &tb.functional;
    if !f.balanced || !f.receivables.matches || !f.unapplied_cash.matches {
        out.push(format!(
            "the books in the functional currency do not agree: {f:?}"
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
pub(crate) fn violations(conn: &mut dyn Conn) -> o2c_app::Result<Vec<String>> {
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
pub(crate) fn settled_violations(conn: &mut dyn Conn) -> o2c_app::Result<Vec<String>> {
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
