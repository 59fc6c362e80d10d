//! Invoicing: issued automatically for what a shipment carried; numbered from a gapless series.

use crate::context::Ctx;
use crate::customer::adjust_balances;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::{ledger, order};
use o2c_core::id::InvoiceId;
use o2c_core::invoice::{PaymentStatus, due_on, invoice_number};
use o2c_core::tax::{TaxCategory, TaxableLine, tax_breakdown};
use o2c_core::{Currency, Money, Percent};
use o2c_store::{Conn, Value, params};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

pub const SERIES: &str = "INV";

/// Takes the next number of the series for the year. The row lock (PostgreSQL) or the single
/// writer (SQLite) serializes issuers, and the number is taken in the invoice's own transaction,
/// so a rolled-back invoice gives its number back: no gaps.
fn next_number(conn: &mut dyn Conn, series: &str, year: i32) -> Result<String> {
    let row = conn.query_opt(
        "UPDATE invoice_series SET next_number = next_number + 1 WHERE series = $1 AND year = $2 RETURNING next_number - 1",
        params![series, year],
    )?;
    let n = match row {
        Some(r) => r.int(0),
        None => {
            conn.execute(
                "INSERT INTO invoice_series (series, year, next_number) VALUES ($1, $2, 2)",
                params![series, year],
            )?;
            1
        }
    };
    Ok(invoice_number(series, year, n))
}

/// Rule `invoice.on_dispatch`: bills exactly what the shipment carried. Does nothing if the
/// shipment is already invoiced.
pub fn issue_for_shipment_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
) -> Result<Option<String>> {
    if conn
        .query_opt(
            "SELECT id FROM invoices WHERE shipment_id = $1",
            params![shipment_id],
        )?
        .is_some()
    {
        return Ok(None);
    }
    let s = conn
        .query_opt(
            "SELECT order_id, customer_id FROM shipments WHERE id = $1",
            params![shipment_id],
        )?
        .ok_or_else(|| not_found("shipment", shipment_id))?;
    let (order_id, customer_id) = (s.text(0), s.text(1));
    let (head, lines) = order::lines_for_update(conn, &order_id)?;
    let mut shipped: BTreeMap<i64, i64> = BTreeMap::new();
    for r in conn.query(
        "SELECT line_no, quantity FROM reservations WHERE shipment_id = $1",
        params![shipment_id],
    )? {
        *shipped.entry(r.int(0)).or_default() += r.int(1);
    }
    let terms = conn
        .query_one(
            "SELECT payment_terms_days FROM customers WHERE id = $1",
            params![customer_id.as_str()],
        )?
        .int(0);
    let cur = head.currency;
    let id = InvoiceId::generate(ctx.ids.as_ref());
    let mut line_rows = Vec::new();
    let mut taxable = Vec::new();
    for (n, (line_no, qty)) in shipped.iter().enumerate() {
        let l = lines
            .iter()
            .find(|l| l.line_no == *line_no)
            .ok_or_else(|| AppError::Internal(format!("line {line_no} missing")))?;
        let net = Money::new(l.unit_price_minor, cur).checked_mul(*qty)?;
        taxable.push(TaxableLine {
            category: l.tax_category,
            rate: Percent::from_basis_points(l.tax_rate_bp),
            net,
        });
        line_rows.push(vec![
            Value::from(id.as_str()),
            Value::from(n + 1),
            Value::from(*line_no),
            Value::from(l.sku.as_str()),
            Value::from(l.description.as_str()),
            Value::from(*qty),
            Value::from(l.unit_price_minor),
            Value::from(net.minor()),
            Value::from(l.tax_category.as_str()),
            Value::from(l.tax_rate_bp),
        ]);
        conn.execute(
            "UPDATE order_lines SET invoiced = invoiced + $3 WHERE order_id = $1 AND line_no = $2",
            params![order_id.as_str(), *line_no, *qty],
        )?;
    }
    let breakdown = tax_breakdown(&taxable)?;
    let net = Money::sum(cur, breakdown.iter().map(|b| b.taxable))?;
    let tax = Money::sum(cur, breakdown.iter().map(|b| b.tax))?;
    let gross = net.checked_add(tax)?;
    let today = ctx.today();
    let number = next_number(conn, SERIES, chrono::Datelike::year(&today))?;
    conn.execute(
        "INSERT INTO invoices (id, number, customer_id, order_id, shipment_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
        params![
            id.as_str(),
            number.as_str(),
            customer_id.as_str(),
            order_id.as_str(),
            shipment_id,
            cur.code(),
            today.to_string(),
            due_on(today, u32::try_from(terms).unwrap_or(0)).to_string(),
            net.minor(),
            tax.minor(),
            gross.minor(),
            PaymentStatus::of(gross.minor(), gross.minor()).as_str(),
            ctx.timestamp()
        ],
    )?;
    conn.insert_rows(
        "invoice_lines",
        &[
            "invoice_id",
            "line_no",
            "order_line_no",
            "sku",
            "description",
            "quantity",
            "unit_price_minor",
            "net_minor",
            "tax_category",
            "tax_rate_bp",
        ],
        &line_rows,
    )?;
    let tax_rows: Vec<Vec<Value>> = breakdown
        .iter()
        .map(|b| {
            vec![
                id.as_str().into(),
                b.category.as_str().into(),
                b.rate.basis_points().into(),
                b.taxable.minor().into(),
                b.tax.minor().into(),
            ]
        })
        .collect();
    conn.insert_rows(
        "invoice_taxes",
        &[
            "invoice_id",
            "category",
            "rate_bp",
            "taxable_minor",
            "tax_minor",
        ],
        &tax_rows,
    )?;
    // A free delivery (samples at 0.00) is invoiced for the record, posts nothing and is paid.
    match o2c_core::ledger::invoice_issued(id.as_str(), net, tax) {
        Ok(entry) => ledger::post(conn, ctx, &entry, Some(&customer_id))?,
        Err(o2c_core::ledger::LedgerError::Empty) => {}
        Err(e) => return Err(e.into()),
    }
    // The invoiced value leaves open orders and becomes a receivable; the order's last invoice
    // takes whatever remains, so rounding can never leave exposure behind.
    let fully_invoiced = conn
        .query_one(
            "SELECT COUNT(*) FROM order_lines WHERE order_id = $1 AND invoiced < quantity",
            params![order_id.as_str()],
        )?
        .int(0)
        == 0;
    let leaving_orders = if fully_invoiced {
        head.uninvoiced_minor
    } else {
        gross.minor().min(head.uninvoiced_minor)
    };
    conn.execute(
        "UPDATE orders SET uninvoiced_minor = uninvoiced_minor - $2 WHERE id = $1",
        params![order_id.as_str(), leaving_orders],
    )?;
    adjust_balances(conn, &customer_id, gross.minor(), -leaving_orders, 0)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::InvoiceIssued,
            aggregate_type: "invoice",
            aggregate_id: id.as_str(),
            order_id: Some(&order_id),
            customer_id: Some(&customer_id),
            data: json!({"number": number, "shipment_id": shipment_id, "gross": gross, "due_on": due_on(today, u32::try_from(terms).unwrap_or(0))}),
        },
    )?;
    if gross.is_zero() {
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::InvoicePaid,
                aggregate_type: "invoice",
                aggregate_id: id.as_str(),
                order_id: Some(&order_id),
                customer_id: Some(&customer_id),
                data: json!({"reason": "nothing to pay"}),
            },
        )?;
    }
    Ok(Some(id.to_string()))
}

#[derive(Debug, Clone, Serialize)]
pub struct Invoice {
    pub id: String,
    pub number: String,
    pub customer_id: String,
    pub order_id: String,
    pub shipment_id: Option<String>,
    pub currency: Currency,
    pub issued_on: String,
    pub due_on: String,
    pub lines: Vec<InvoiceLine>,
    pub taxes: Vec<InvoiceTax>,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
    pub open: Money,
    pub payment_status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceLine {
    pub line_no: i64,
    pub order_line_no: i64,
    pub sku: String,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub net: Money,
    pub tax_category: String,
    pub tax_rate: Percent,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceTax {
    pub category: String,
    pub rate: Percent,
    pub taxable: Money,
    pub tax: Money,
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Invoice> {
    let r = conn
        .query_opt(
            "SELECT id, number, customer_id, order_id, shipment_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status
             FROM invoices WHERE id = $1 OR number = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("invoice", id))?;
    let cur = Currency::parse(&r.text(5))?;
    let m = |v| Money::new(v, cur);
    let inv_id = r.text(0);
    let lines = conn
        .query(
            "SELECT line_no, order_line_no, sku, description, quantity, unit_price_minor, net_minor, tax_category, tax_rate_bp
             FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no",
            params![inv_id.as_str()],
        )?
        .iter()
        .map(|l| InvoiceLine {
            line_no: l.int(0),
            order_line_no: l.int(1),
            sku: l.text(2),
            description: l.text(3),
            quantity: l.int(4),
            unit_price: m(l.int(5)),
            net: m(l.int(6)),
            tax_category: l.text(7),
            tax_rate: Percent::from_basis_points(l.int(8)),
        })
        .collect();
    let taxes = conn
        .query(
            "SELECT category, rate_bp, taxable_minor, tax_minor FROM invoice_taxes WHERE invoice_id = $1 ORDER BY category, rate_bp",
            params![inv_id.as_str()],
        )?
        .iter()
        .map(|t| InvoiceTax {
            category: TaxCategory::parse(&t.text(0)).map_or(t.text(0), |c| c.as_str().to_string()),
            rate: Percent::from_basis_points(t.int(1)),
            taxable: m(t.int(2)),
            tax: m(t.int(3)),
        })
        .collect();
    Ok(Invoice {
        id: inv_id,
        number: r.text(1),
        customer_id: r.text(2),
        order_id: r.text(3),
        shipment_id: r.opt_text(4),
        currency: cur,
        issued_on: r.text(6),
        due_on: r.text(7),
        lines,
        taxes,
        net: m(r.int(8)),
        tax: m(r.int(9)),
        gross: m(r.int(10)),
        open: m(r.int(11)),
        payment_status: r.text(12),
    })
}

pub fn list(
    conn: &mut dyn Conn,
    customer_id: Option<&str>,
    order_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Invoice>> {
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM invoices WHERE (CAST($1 AS TEXT) IS NULL OR customer_id = $1) AND (CAST($2 AS TEXT) IS NULL OR order_id = $2) ORDER BY number LIMIT $3",
            params![customer_id, order_id, limit],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}
