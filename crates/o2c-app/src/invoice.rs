//! Invoicing: issued automatically for what a shipment carried; numbered from a gapless series.

use crate::billing::{self, BillingPolicy};
use crate::context::Ctx;
use crate::customer::adjust_balances;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::{ledger, order};
use o2c_core::customer::Address;
use o2c_core::id::InvoiceId;
use o2c_core::invoice::{
    BilledLine, DocumentAmounts, PaymentStatus, document_amounts, due_on, invoice_number,
};
use o2c_core::reference::rf_reference;
use o2c_core::tax::TaxCategory;
use o2c_core::{Currency, DomainError, Money, Percent};
use o2c_store::{Conn, Value, params};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

pub const SERIES: &str = "INV";

/// The columns of an `invoice_lines` row, in the order both invoices and credit notes write them.
pub(crate) const LINE_COLUMNS: &[&str] = &[
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
    "order_id",
    "shipment_id",
    "discount_bp",
    "discount_minor",
];

/// Takes the next number of the series for the year. The row lock (PostgreSQL) or the single
/// writer (SQLite) serializes issuers, and the number is taken in the invoice's own transaction,
/// so a rolled-back invoice gives its number back: no gaps.
pub(crate) fn next_number(conn: &mut dyn Conn, series: &str, year: i32) -> Result<String> {
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

/// Rule `invoice.on_dispatch`: what the customer's billing policy says to do with a dispatched
/// shipment: bill it now (per shipment), bill the whole order once its last line has shipped
/// (per order), or leave it for the billing run (consolidated). Does nothing twice.
pub fn on_dispatch_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
) -> Result<Option<String>> {
    let s = conn
        .query_opt(
            "SELECT order_id, customer_id, invoice_id FROM shipments WHERE id = $1",
            params![shipment_id],
        )?
        .ok_or_else(|| not_found("shipment", shipment_id))?;
    if s.opt_text(2).is_some() {
        return Ok(None);
    }
    let (order_id, customer_id) = (s.text(0), s.text(1));
    match billing::billing_profile(conn, &customer_id)?.effective_policy {
        BillingPolicy::PerShipment => issue_in_tx(
            conn,
            ctx,
            &customer_id,
            &[shipment_id.to_string()],
            BillingPolicy::PerShipment,
        ),
        BillingPolicy::PerOrder => {
            let unshipped = conn
                .query_one(
                    "SELECT COUNT(*) FROM order_lines WHERE order_id = $1 AND shipped < quantity",
                    params![order_id.as_str()],
                )?
                .int(0);
            if unshipped > 0 {
                return Ok(None);
            }
            let shipments: Vec<String> = conn
                .query(
                    "SELECT id FROM shipments WHERE order_id = $1 AND invoice_id IS NULL AND dispatched_at IS NOT NULL ORDER BY id",
                    params![order_id.as_str()],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect();
            issue_in_tx(conn, ctx, &customer_id, &shipments, BillingPolicy::PerOrder)
        }
        BillingPolicy::Consolidated => Ok(None),
    }
}

/// What one order contributes to an invoice.
struct OrderPart {
    order_id: String,
    uninvoiced_minor: i64,
    line_net: i64,
    freight: i64,
}

/// Issues one invoice for dispatched, not yet billed shipments of one customer: exactly what
/// they carried, priced from the order lines (line discounts), with the customer's document
/// discount, any freight not yet billed, and tax at the rate valid on the issue date for each
/// order's ship-to. Shipments already billed are skipped; `Ok(None)` when nothing is left.
pub fn issue_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    shipment_ids: &[String],
    policy: BillingPolicy,
) -> Result<Option<String>> {
    let id = InvoiceId::generate(ctx.ids.as_ref());
    let mut claimed = Vec::new();
    for sid in shipment_ids {
        let n = conn.execute(
            "UPDATE shipments SET invoice_id = $1 WHERE id = $2 AND customer_id = $3 AND invoice_id IS NULL AND dispatched_at IS NOT NULL",
            params![id.as_str(), sid.as_str(), customer_id],
        )?;
        if n == 1 {
            claimed.push(sid.clone());
        }
    }
    if claimed.is_empty() {
        return Ok(None);
    }
    // (order, line) → (shipment, quantity), in a stable order.
    let mut shipped: BTreeMap<(String, i64), (String, i64)> = BTreeMap::new();
    for sid in &claimed {
        for r in conn.query(
            "SELECT order_id, line_no, quantity FROM reservations WHERE shipment_id = $1",
            params![sid.as_str()],
        )? {
            shipped
                .entry((r.text(0), r.int(1)))
                .or_insert_with(|| (sid.clone(), 0))
                .1 += r.int(2);
        }
    }
    let terms = conn.query_one(
        "SELECT payment_terms_days, currency, invoice_discount_bp, early_discount_bp, early_discount_days FROM customers WHERE id = $1",
        params![customer_id],
    )?;
    let (early_bp, early_days) = (terms.int(3), terms.int(4));
    let (terms, cur, discount) = (
        terms.int(0),
        Currency::parse(&terms.text(1))?,
        Percent::from_basis_points(terms.int(2)),
    );
    let today = ctx.today();
    let mut parts: Vec<OrderPart> = Vec::new();
    let mut line_rows = Vec::new();
    let mut billed = Vec::new();
    let mut rates: BTreeMap<(String, TaxCategory), billing::tax::ResolvedTax> = BTreeMap::new();
    let mut lines_cache: BTreeMap<String, (order::OrderHead, Vec<order::LineRow>, Address, i64)> =
        BTreeMap::new();
    // What cash application finds the invoice by besides its number: orders and PO numbers.
    let mut match_refs: Vec<String> = Vec::new();
    for ((order_id, line_no), (sid, qty)) in &shipped {
        if !lines_cache.contains_key(order_id) {
            let (head, lines) = order::lines_for_update(conn, order_id)?;
            let o = conn.query_one(
                "SELECT ship_to, freight_minor - freight_invoiced, customer_reference FROM orders WHERE id = $1",
                params![order_id.as_str()],
            )?;
            let ship_to: Address = serde_json::from_str(&o.text(0))?;
            match_refs.push(crate::cash::run::match_ref(
                order_id,
                o.opt_text(2).as_deref(),
            ));
            lines_cache.insert(order_id.clone(), (head, lines, ship_to, o.int(1)));
            parts.push(OrderPart {
                order_id: order_id.clone(),
                uninvoiced_minor: 0,
                line_net: 0,
                freight: 0,
            });
        }
        let (head, lines, ship_to, _) = &lines_cache[order_id];
        if head.currency != cur {
            return Err(AppError::Internal(format!(
                "order {order_id} is not in the customer's currency"
            )));
        }
        let l = lines
            .iter()
            .find(|l| l.line_no == *line_no)
            .ok_or_else(|| AppError::Internal(format!("line {line_no} missing")))?;
        let key = (
            format!(
                "{}|{}",
                ship_to.country,
                ship_to.region.as_deref().unwrap_or("")
            ),
            l.tax_category,
        );
        if !rates.contains_key(&key) {
            let r = billing::tax::resolve(
                conn,
                l.tax_category,
                &ship_to.country,
                ship_to.region.as_deref(),
                today,
            )?;
            rates.insert(key.clone(), r);
        }
        let tax = &rates[&key];
        let discount = Percent::from_basis_points(l.discount_bp);
        let (net, off) =
            billing::price::line_net(Money::new(l.unit_price_minor, cur), *qty, discount)?;
        billed.push(BilledLine {
            net,
            category: tax.category,
            rate: tax.rate,
        });
        let part = parts
            .iter_mut()
            .find(|p| &p.order_id == order_id)
            .expect("part");
        part.line_net += net.minor();
        line_rows.push(vec![
            Value::from(id.as_str()),
            Value::from(line_rows.len() + 1),
            Value::from(*line_no),
            Value::from(l.sku.as_str()),
            Value::from(l.description.as_str()),
            Value::from(*qty),
            Value::from(l.unit_price_minor),
            Value::from(net.minor()),
            Value::from(tax.category.as_str()),
            Value::from(tax.rate.basis_points()),
            Value::from(order_id.as_str()),
            Value::from(sid.as_str()),
            Value::from(l.discount_bp),
            Value::from(off.minor()),
        ]);
        conn.execute(
            "UPDATE order_lines SET invoiced = invoiced + $3 WHERE order_id = $1 AND line_no = $2",
            params![order_id.as_str(), *line_no, *qty],
        )?;
    }
    if billed.is_empty() {
        return Err(DomainError::NothingToInvoice(format!(
            "shipments {} carried nothing",
            claimed.join(", ")
        ))
        .into());
    }
    // Freight is billed once per order, on its first invoice.
    let mut freight = Money::zero(cur);
    for p in &mut parts {
        let f = lines_cache[&p.order_id].3;
        if f > 0 {
            p.freight = f;
            freight = freight.checked_add(Money::new(f, cur))?;
            conn.execute(
                "UPDATE orders SET freight_invoiced = freight_minor WHERE id = $1",
                params![p.order_id.as_str()],
            )?;
        }
    }
    let amounts = document_amounts(cur, &billed, discount, freight)?;
    let gross = amounts.gross;
    // The receivable is held at the rate of the invoice date (decision record 0005).
    let functional = crate::fx::functional_currency(conn)?;
    let fx_rate = crate::fx::rate_on(conn, functional, cur, &today.to_string())?;
    let number = next_number(conn, SERIES, chrono::Datelike::year(&today))?;
    let due = due_on(today, u32::try_from(terms).unwrap_or(0));
    let first_order = parts[0].order_id.clone();
    let single_shipment =
        (policy == BillingPolicy::PerShipment && claimed.len() == 1).then(|| claimed[0].clone());
    conn.execute(
        "INSERT INTO invoices (id, number, customer_id, order_id, shipment_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status, created_at,
                               kind, payment_reference, line_net_minor, allowances_minor, charges_minor, billing_policy, fx_rate, discount_bp, discount_until, match_refs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, 'invoice', $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        params![
            id.as_str(),
            number.as_str(),
            customer_id,
            first_order.as_str(),
            single_shipment.as_deref(),
            cur.code(),
            today.to_string(),
            due.to_string(),
            amounts.tax_exclusive.minor(),
            amounts.tax.minor(),
            gross.minor(),
            PaymentStatus::of(gross.minor(), gross.minor()).as_str(),
            ctx.timestamp(),
            rf_reference(&number),
            amounts.line_net.minor(),
            amounts.allowances.minor(),
            amounts.charges.minor(),
            policy.as_str(),
            crate::fx::to_column(fx_rate),
            early_bp,
            (early_bp > 0).then(|| (today + chrono::Days::new(early_days.max(0) as u64)).to_string()),
            match_refs.join("\n")
        ],
    )?;
    conn.insert_rows("invoice_lines", LINE_COLUMNS, &line_rows)?;
    let exemptions: Vec<_> = rates
        .values()
        .map(|r| {
            (
                r.category,
                r.exemption_reason.clone(),
                r.exemption_code.clone(),
            )
        })
        .collect();
    write_adjustments_and_taxes(conn, id.as_str(), &amounts, &exemptions)?;
    conn.insert_rows(
        "invoice_orders",
        &["invoice_id", "order_id"],
        &parts
            .iter()
            .map(|p| vec![Value::from(id.as_str()), Value::from(p.order_id.as_str())])
            .collect::<Vec<_>>(),
    )?;
    match o2c_core::ledger::invoice_issued(id.as_str(), amounts.tax_exclusive, amounts.tax) {
        Ok(entry) => ledger::post(
            conn,
            ctx,
            &entry.translate(functional, fx_rate, &[])?,
            Some(customer_id),
        )?,
        Err(o2c_core::ledger::LedgerError::Empty) => {}
        Err(e) => return Err(e.into()),
    }
    // The invoiced value leaves open orders and becomes a receivable. Each order's share is
    // its part of the invoice; an order's last invoice takes whatever remains, so rounding can
    // never leave exposure behind.
    let total_base: i64 = parts.iter().map(|p| p.line_net + p.freight).sum();
    let mut leaving_total = 0;
    for p in &mut parts {
        let head = &lines_cache[&p.order_id].0;
        p.uninvoiced_minor = head.uninvoiced_minor;
        let fully_invoiced = conn
            .query_one(
                "SELECT COUNT(*) FROM order_lines WHERE order_id = $1 AND invoiced < quantity",
                params![p.order_id.as_str()],
            )?
            .int(0)
            == 0;
        let share = if total_base == 0 {
            0
        } else {
            o2c_core::money::round_half_away_from_zero(
                i128::from(gross.minor()) * i128::from(p.line_net + p.freight),
                i128::from(total_base),
            )?
        };
        let leaving = if fully_invoiced {
            p.uninvoiced_minor
        } else {
            share.min(p.uninvoiced_minor).max(0)
        };
        conn.execute(
            "UPDATE orders SET uninvoiced_minor = uninvoiced_minor - $2 WHERE id = $1",
            params![p.order_id.as_str(), leaving],
        )?;
        leaving_total += leaving;
    }
    adjust_balances(conn, customer_id, gross.minor(), -leaving_total, 0)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::InvoiceIssued,
            aggregate_type: "invoice",
            aggregate_id: id.as_str(),
            order_id: Some(&first_order),
            customer_id: Some(customer_id),
            data: json!({"number": number, "shipments": claimed, "orders": parts.iter().map(|p| &p.order_id).collect::<Vec<_>>(), "gross": gross, "due_on": due, "policy": policy.as_str()}),
        },
    )?;
    billing::delivery::enqueue_in_tx(conn, ctx, id.as_str(), customer_id)?;
    if gross.is_zero() {
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::InvoicePaid,
                aggregate_type: "invoice",
                aggregate_id: id.as_str(),
                order_id: Some(&first_order),
                customer_id: Some(customer_id),
                data: json!({"reason": "nothing to pay"}),
            },
        )?;
    }
    Ok(Some(id.to_string()))
}

/// Rule `order.close_when_settled`: a paid invoice may settle each order it billed.
pub fn close_orders_in_tx(conn: &mut dyn Conn, ctx: &Ctx, invoice_id: &str) -> Result<()> {
    let orders: Vec<String> = conn
        .query(
            "SELECT order_id FROM invoice_orders WHERE invoice_id = $1 ORDER BY order_id",
            params![invoice_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    for o in orders {
        order::close_if_settled_in_tx(conn, ctx, &o)?;
    }
    Ok(())
}

/// Writes a document's allowances/charges and its tax breakdown, with the exemption reason of
/// each untaxed category (from `exemptions`, else the category's default).
pub(crate) fn write_adjustments_and_taxes(
    conn: &mut dyn Conn,
    id: &str,
    amounts: &DocumentAmounts,
    exemptions: &[(TaxCategory, Option<String>, Option<String>)],
) -> Result<()> {
    let exemption = |c: TaxCategory| {
        exemptions
            .iter()
            .find(|e| e.0 == c)
            .map(|e| (e.1.clone(), e.2.clone()))
            .or_else(|| {
                c.default_exemption()
                    .map(|(r, k)| (Some(r.to_string()), Some(k.to_string())))
            })
            .unwrap_or((None, None))
    };
    if !amounts.adjustments.is_empty() {
        let rows: Vec<Vec<Value>> = amounts
            .adjustments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                vec![
                    id.into(),
                    Value::from(i + 1),
                    Value::from(i64::from(a.is_charge)),
                    a.amount.minor().into(),
                    a.base.map(|b| b.minor()).into(),
                    a.percent.map(|p| p.basis_points()).into(),
                    a.reason.as_str().into(),
                    a.reason_code.into(),
                    a.category.as_str().into(),
                    a.rate.basis_points().into(),
                ]
            })
            .collect();
        conn.insert_rows(
            "invoice_allowances",
            &[
                "invoice_id",
                "seq",
                "is_charge",
                "amount_minor",
                "base_minor",
                "percent_bp",
                "reason",
                "reason_code",
                "tax_category",
                "tax_rate_bp",
            ],
            &rows,
        )?;
    }
    let tax_rows: Vec<Vec<Value>> = amounts
        .breakdown
        .iter()
        .map(|b| {
            let (reason, code) = if b.category.needs_exemption_reason() {
                exemption(b.category)
            } else {
                (None, None)
            };
            vec![
                id.into(),
                b.category.as_str().into(),
                b.rate.basis_points().into(),
                b.taxable.minor().into(),
                b.tax.minor().into(),
                reason.into(),
                code.into(),
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
            "exemption_reason",
            "exemption_code",
        ],
        &tax_rows,
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Invoice {
    pub id: String,
    /// invoice or credit_note.
    pub kind: String,
    pub number: String,
    pub customer_id: String,
    pub order_id: String,
    /// Every order this document bills (several on a consolidated invoice).
    pub order_ids: Vec<String>,
    pub shipment_id: Option<String>,
    /// A credit note's corrected invoice.
    pub corrects_invoice_id: Option<String>,
    pub currency: Currency,
    pub issued_on: String,
    pub due_on: String,
    /// ISO 11649 creditor reference to quote when paying.
    pub payment_reference: Option<String>,
    pub billing_policy: String,
    pub lines: Vec<InvoiceLine>,
    pub allowances_charges: Vec<InvoiceAdjustment>,
    pub taxes: Vec<InvoiceTax>,
    pub line_net: Money,
    pub allowances: Money,
    pub charges: Money,
    /// Tax exclusive total.
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
    pub open: Money,
    /// Reduced by credit notes so far.
    pub credited: Money,
    pub payment_status: String,
    pub note: Option<String>,
    /// The exchange rate the receivable is held at (units of this currency per one unit of
    /// the functional currency); absent for documents in the functional currency.
    pub fx_rate: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceLine {
    pub line_no: i64,
    pub order_id: Option<String>,
    pub order_line_no: i64,
    pub shipment_id: Option<String>,
    pub sku: String,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub discount: Percent,
    pub discount_amount: Money,
    pub net: Money,
    pub tax_category: String,
    pub tax_rate: Percent,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceAdjustment {
    pub is_charge: bool,
    pub amount: Money,
    pub base: Option<Money>,
    pub percent: Option<Percent>,
    pub reason: String,
    pub reason_code: Option<String>,
    pub tax_category: String,
    pub tax_rate: Percent,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceTax {
    pub category: String,
    pub rate: Percent,
    pub taxable: Money,
    pub tax: Money,
    pub exemption_reason: Option<String>,
    pub exemption_code: Option<String>,
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Invoice> {
    let r = conn
        .query_opt(
            "SELECT id, number, customer_id, order_id, shipment_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status,
                    kind, corrects_invoice_id, payment_reference, COALESCE(line_net_minor, net_minor), allowances_minor, charges_minor, credited_minor, billing_policy, note, fx_rate
             FROM invoices WHERE id = $1 OR number = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("invoice", id))?;
    let cur = Currency::parse(&r.text(5))?;
    let m = |v| Money::new(v, cur);
    let inv_id = r.text(0);
    let lines = conn
        .query(
            "SELECT line_no, order_line_no, sku, description, quantity, unit_price_minor, net_minor, tax_category, tax_rate_bp, order_id, shipment_id, discount_bp, discount_minor
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
            order_id: l.opt_text(9),
            shipment_id: l.opt_text(10),
            discount: Percent::from_basis_points(l.int(11)),
            discount_amount: m(l.int(12)),
        })
        .collect();
    let allowances_charges = conn
        .query(
            "SELECT is_charge, amount_minor, base_minor, percent_bp, reason, reason_code, tax_category, tax_rate_bp FROM invoice_allowances WHERE invoice_id = $1 ORDER BY seq",
            params![inv_id.as_str()],
        )?
        .iter()
        .map(|a| InvoiceAdjustment {
            is_charge: a.int(0) != 0,
            amount: m(a.int(1)),
            base: a.opt_int(2).map(m),
            percent: a.opt_int(3).map(Percent::from_basis_points),
            reason: a.text(4),
            reason_code: a.opt_text(5),
            tax_category: a.text(6),
            tax_rate: Percent::from_basis_points(a.int(7)),
        })
        .collect();
    let taxes = conn
        .query(
            "SELECT category, rate_bp, taxable_minor, tax_minor, exemption_reason, exemption_code FROM invoice_taxes WHERE invoice_id = $1 ORDER BY category, rate_bp",
            params![inv_id.as_str()],
        )?
        .iter()
        .map(|t| InvoiceTax {
            category: t.text(0),
            rate: Percent::from_basis_points(t.int(1)),
            taxable: m(t.int(2)),
            tax: m(t.int(3)),
            exemption_reason: t.opt_text(4),
            exemption_code: t.opt_text(5),
        })
        .collect();
    let mut order_ids: Vec<String> = conn
        .query(
            "SELECT order_id FROM invoice_orders WHERE invoice_id = $1 ORDER BY order_id",
            params![inv_id.as_str()],
        )?
        .iter()
        .map(|o| o.text(0))
        .collect();
    if order_ids.is_empty() {
        order_ids.push(r.text(3));
    }
    Ok(Invoice {
        id: inv_id,
        kind: r.text(13),
        number: r.text(1),
        customer_id: r.text(2),
        order_id: r.text(3),
        order_ids,
        shipment_id: r.opt_text(4),
        corrects_invoice_id: r.opt_text(14),
        currency: cur,
        issued_on: r.text(6),
        due_on: r.text(7),
        payment_reference: r.opt_text(15),
        billing_policy: r.text(20),
        lines,
        allowances_charges,
        taxes,
        line_net: m(r.int(16)),
        allowances: m(r.int(17)),
        charges: m(r.int(18)),
        net: m(r.int(8)),
        tax: m(r.int(9)),
        gross: m(r.int(10)),
        open: m(r.int(11)),
        credited: m(r.int(19)),
        payment_status: r.text(12),
        note: r.opt_text(21),
        fx_rate: r.opt_text(22),
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
            "SELECT id FROM invoices WHERE (CAST($1 AS TEXT) IS NULL OR customer_id = $1) AND (CAST($2 AS TEXT) IS NULL OR order_id = $2 OR id IN (SELECT invoice_id FROM invoice_orders WHERE order_id = $2)) ORDER BY number LIMIT $3",
            params![customer_id, order_id, limit],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}
