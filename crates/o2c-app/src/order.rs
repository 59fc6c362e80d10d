//! Orders: intake (validated, priced, taxed), status, cancellation, closing.

use crate::billing;
use crate::context::Ctx;
use crate::customer::{self, adjust_balances};
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::{inventory, shipment};
use o2c_core::customer::Address;
use o2c_core::id::OrderId;
use o2c_core::invoice::{BilledLine, document_amounts};
use o2c_core::order::{LineQuantities, OrderAction, OrderStatus, fulfilment_of};
use o2c_core::tax::{TaxCategory, effective_category};
use o2c_core::{Currency, DomainError, Money, Percent};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub customer_id: String,
    /// Optional: when given it must be the customer's currency.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub customer_reference: Option<String>,
    /// Optional delivery date the customer asked for (YYYY-MM-DD).
    #[serde(default)]
    pub requested_delivery_on: Option<String>,
    /// Optional: defaults to the customer's shipping address.
    #[serde(default)]
    pub ship_to: Option<Address>,
    /// Optional freight charge (net, in the order's currency), billed on the first invoice.
    #[serde(default)]
    pub freight: Option<String>,
    pub lines: Vec<OrderLineRequest>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLineRequest {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub currency: Currency,
    pub customer_reference: Option<String>,
    pub requested_delivery_on: Option<String>,
    pub ship_to: Address,
    pub lines: Vec<OrderLine>,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
    pub received_at: String,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderLine {
    pub line_no: i64,
    pub sku: String,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Money,
    /// Line discount (customer price agreements).
    pub discount: Percent,
    pub net: Money,
    pub tax_category: TaxCategory,
    pub tax_rate: Percent,
    pub allocated: i64,
    pub shipped: i64,
    pub invoiced: i64,
}

/// Checks what needs no database first, so a bad request costs nothing.
fn check_shape(r: &OrderRequest) -> Result<()> {
    if r.lines.is_empty() {
        return Err(DomainError::NoLines.into());
    }
    for (i, l) in r.lines.iter().enumerate() {
        if l.quantity <= 0 {
            return Err(DomainError::QuantityNotPositive {
                line: i + 1,
                quantity: l.quantity,
            }
            .into());
        }
    }
    Ok(())
}

/// Validates, prices and records a new order; the engine takes it from `order.received`.
pub fn place_in_tx(conn: &mut dyn Conn, ctx: &Ctx, r: &OrderRequest) -> Result<Order> {
    check_shape(r)?;
    let requested_delivery_on = r
        .requested_delivery_on
        .as_deref()
        .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map(|d| d.to_string()))
        .transpose()
        .map_err(|_| {
            DomainError::invalid("requested_delivery_on", "expected a date as YYYY-MM-DD")
        })?;
    let cust = customer::find(conn, &r.customer_id)?
        .ok_or_else(|| DomainError::UnknownCustomer(r.customer_id.clone()))?;
    if let Some(c) = &r.currency {
        let got = Currency::parse(c).map_err(DomainError::money("currency"))?;
        if got != cust.currency {
            return Err(DomainError::CurrencyMismatch {
                field: "currency",
                expected: cust.currency,
                got,
            }
            .into());
        }
    }
    if cust.billing_address.is_none() {
        return Err(DomainError::MissingAddress { which: "billing" }.into());
    }
    let ship_to = match &r.ship_to {
        Some(a) => Address::parse(a.clone(), "ship_to")?,
        None => cust
            .shipping_address
            .clone()
            .ok_or(DomainError::MissingAddress { which: "shipping" })?,
    };
    let products = load_products(conn, r)?;
    let company = billing::company(conn)?;
    let profile = billing::billing_profile_with(conn, &cust.id, &company)?;
    let items: Vec<billing::price::Item> = r
        .lines
        .iter()
        .map(|l| {
            let p = &products[&l.sku];
            billing::price::Item {
                product_id: &p.id,
                sku: &l.sku,
                base: Money::new(p.price_minor, p.currency),
            }
        })
        .collect();
    let prices = billing::price::resolve_all(
        conn,
        &billing::price::Buyer {
            customer_id: &cust.id,
            currency: cust.currency,
            price_list_id: profile.price_list_id.as_deref(),
        },
        &items,
    )?;
    let today = ctx.today();
    let freight = match &r.freight {
        None => Money::zero(cust.currency),
        Some(f) => {
            let m = Money::parse(f, cust.currency).map_err(DomainError::money("freight"))?;
            if m.is_negative() {
                return Err(DomainError::invalid("freight", "must not be negative").into());
            }
            m
        }
    };
    let mut rates: HashMap<TaxCategory, Percent> = HashMap::new();
    let id = OrderId::generate(ctx.ids.as_ref());
    let mut line_rows = Vec::with_capacity(r.lines.len());
    let mut billed = Vec::with_capacity(r.lines.len());
    let mut lines = Vec::with_capacity(r.lines.len());
    for (i, l) in r.lines.iter().enumerate() {
        let p = &products[&l.sku];
        let price = prices[i];
        let category = effective_category(
            p.category,
            profile.tax_treatment,
            &company.address.country,
            &ship_to.country,
            profile.vat_id.is_some(),
        );
        let rate = match rates.get(&category) {
            Some(rate) => *rate,
            None => {
                let t = billing::tax::resolve(
                    conn,
                    category,
                    &ship_to.country,
                    ship_to.region.as_deref(),
                    today,
                )?;
                rates.insert(category, t.rate);
                t.rate
            }
        };
        let unit = price.net_unit(rate)?;
        let (net, _) =
            billing::price::line_net(unit, l.quantity, price.discount).map_err(|_| {
                DomainError::invalid(format!("lines[{i}].quantity"), "amount out of range")
            })?;
        billed.push(BilledLine {
            net,
            category,
            rate,
        });
        line_rows.push(vec![
            Value::from(id.as_str()),
            Value::from(i + 1),
            Value::from(cust.id.as_str()),
            Value::from(p.id.as_str()),
            Value::from(l.sku.as_str()),
            Value::from(p.name.as_str()),
            Value::from(l.quantity),
            Value::from(unit.minor()),
            Value::from(net.minor()),
            Value::from(category.as_str()),
            Value::from(rate.basis_points()),
            Value::from(price.discount.basis_points()),
            Value::from(price.unit_price.minor()),
        ]);
        lines.push(OrderLine {
            line_no: i as i64 + 1,
            sku: l.sku.clone(),
            description: p.name.clone(),
            quantity: l.quantity,
            unit_price: unit,
            discount: price.discount,
            net,
            tax_category: category,
            tax_rate: rate,
            allocated: 0,
            shipped: 0,
            invoiced: 0,
        });
    }
    let amounts = document_amounts(cust.currency, &billed, profile.invoice_discount, freight)?;
    let (net, tax, gross) = (amounts.tax_exclusive, amounts.tax, amounts.gross);
    conn.execute(
        "INSERT INTO orders (id, customer_id, currency, status, customer_reference, ship_to, net_minor, tax_minor, gross_minor, received_at, requested_delivery_on, freight_minor)
         VALUES ($1, $2, $3, 'received', $4, $5, $6, $7, $8, $9, $10, $11)",
        params![
            id.as_str(),
            cust.id.as_str(),
            cust.currency.code(),
            r.customer_reference.as_deref(),
            serde_json::to_string(&ship_to)?,
            net.minor(),
            tax.minor(),
            gross.minor(),
            ctx.timestamp(),
            requested_delivery_on.as_deref(),
            freight.minor()
        ],
    )?;
    conn.insert_rows(
        "order_lines",
        &[
            "order_id",
            "line_no",
            "customer_id",
            "product_id",
            "sku",
            "description",
            "quantity",
            "unit_price_minor",
            "net_minor",
            "tax_category",
            "tax_rate_bp",
            "discount_bp",
            "list_unit_price_minor",
        ],
        &line_rows,
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::OrderReceived,
            aggregate_type: "order",
            aggregate_id: id.as_str(),
            order_id: Some(id.as_str()),
            customer_id: Some(cust.id.as_str()),
            data: json!({"customer_reference": r.customer_reference, "gross": gross, "lines": r.lines}),
        },
    )?;
    // Built from what was written rather than read back: two round trips fewer per order.
    Ok(Order {
        id: id.to_string(),
        customer_id: cust.id,
        status: OrderStatus::Received,
        currency: cust.currency,
        customer_reference: r.customer_reference.clone(),
        ship_to,
        lines,
        net,
        tax,
        gross,
        received_at: ctx.timestamp(),
        requested_delivery_on,
        closed_at: None,
    })
}

struct ProductRef {
    id: String,
    name: String,
    price_minor: i64,
    currency: Currency,
    category: TaxCategory,
}

fn load_products(conn: &mut dyn Conn, r: &OrderRequest) -> Result<HashMap<String, ProductRef>> {
    let placeholders: Vec<String> = (1..=r.lines.len()).map(|i| format!("${i}")).collect();
    let skus: Vec<Value> = r
        .lines
        .iter()
        .map(|l| Value::from(l.sku.as_str()))
        .collect();
    let rows = conn.query(
        &format!("SELECT sku, id, name, unit_price_minor, currency, tax_category FROM products WHERE sku IN ({})", placeholders.join(", ")),
        &skus,
    )?;
    let mut out = HashMap::new();
    for row in rows {
        out.insert(
            row.text(0),
            ProductRef {
                id: row.text(1),
                name: row.text(2),
                price_minor: row.int(3),
                currency: Currency::parse(&row.text(4))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                category: TaxCategory::parse(&row.text(5)).unwrap_or(TaxCategory::Standard),
            },
        );
    }
    if let Some((i, l)) = r
        .lines
        .iter()
        .enumerate()
        .find(|(_, l)| !out.contains_key(&l.sku))
    {
        return Err(DomainError::UnknownSku {
            line: i + 1,
            sku: l.sku.clone(),
        }
        .into());
    }
    Ok(out)
}

pub(crate) struct OrderHead {
    pub customer_id: String,
    pub status: OrderStatus,
    pub gross_minor: i64,
    pub uninvoiced_minor: i64,
    pub currency: Currency,
    /// Already counted in the customer's usual order size (approved once before).
    pub credit_counted: bool,
}

/// Loads the order's head, locked for the rest of the transaction on PostgreSQL.
pub(crate) fn head_for_update(conn: &mut dyn Conn, order_id: &str) -> Result<OrderHead> {
    let sql = format!(
        "SELECT customer_id, status, gross_minor, uninvoiced_minor, currency, credit_counted FROM orders WHERE id = $1{}",
        conn.for_update()
    );
    let r = conn
        .query_opt(&sql, params![order_id])?
        .ok_or_else(|| not_found("order", order_id))?;
    Ok(OrderHead {
        customer_id: r.text(0),
        status: OrderStatus::parse(&r.text(1))
            .ok_or_else(|| AppError::Internal(format!("order {order_id} has unknown status")))?,
        gross_minor: r.int(2),
        uninvoiced_minor: r.int(3),
        currency: Currency::parse(&r.text(4)).map_err(|e| AppError::Internal(e.to_string()))?,
        credit_counted: r.int(5) != 0,
    })
}

pub(crate) fn set_status(conn: &mut dyn Conn, order_id: &str, status: OrderStatus) -> Result<()> {
    conn.execute(
        "UPDATE orders SET status = $2 WHERE id = $1",
        params![order_id, status.as_str()],
    )?;
    Ok(())
}

pub(crate) struct LineRow {
    pub line_no: i64,
    pub product_id: String,
    pub sku: String,
    pub quantity: i64,
    pub allocated: i64,
    pub shipped: i64,
    pub invoiced: i64,
    pub unit_price_minor: i64,
    pub description: String,
    pub tax_category: TaxCategory,
    pub tax_rate_bp: i64,
    pub discount_bp: i64,
    pub net_minor: i64,
}

/// The order's lines, with the order row locked first so concurrent reservations queue up.
pub(crate) fn lines_for_update(
    conn: &mut dyn Conn,
    order_id: &str,
) -> Result<(OrderHead, Vec<LineRow>)> {
    let head = head_for_update(conn, order_id)?;
    let lines = read_lines(conn, order_id)?;
    Ok((head, lines))
}

/// Moves an approved order from `status` to what the given line quantities say.
pub(crate) fn move_fulfilment(
    conn: &mut dyn Conn,
    order_id: &str,
    status: OrderStatus,
    lines: &[LineQuantities],
) -> Result<OrderStatus> {
    let next = status.transition(order_id, OrderAction::Fulfil(fulfilment_of(lines)))?;
    if next != status {
        set_status(conn, order_id, next)?;
    }
    Ok(next)
}

/// Moves an approved order's status to what its lines say (backordered, reserved, shipped…).
pub(crate) fn refresh_fulfilment(conn: &mut dyn Conn, order_id: &str) -> Result<OrderStatus> {
    let head = head_for_update(conn, order_id)?;
    let q: Vec<LineQuantities> = conn
        .query(
            "SELECT quantity, allocated, shipped FROM order_lines WHERE order_id = $1",
            params![order_id],
        )?
        .iter()
        .map(|r| LineQuantities {
            ordered: r.int(0),
            allocated: r.int(1),
            shipped: r.int(2),
        })
        .collect();
    let next = head
        .status
        .transition(order_id, OrderAction::Fulfil(fulfilment_of(&q)))?;
    if next != head.status {
        set_status(conn, order_id, next)?;
    }
    Ok(next)
}

/// Cancels an order before anything was dispatched: releases its stock and its exposure.
pub fn cancel_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    reason: Option<&str>,
) -> Result<Order> {
    let head = head_for_update(conn, order_id)?;
    let next = head.status.transition(order_id, OrderAction::Cancel)?;
    let released = release_everything(conn, ctx, order_id)?;
    adjust_balances(conn, &head.customer_id, 0, -head.uninvoiced_minor, 0)?;
    conn.execute(
        "UPDATE orders SET status = $2, uninvoiced_minor = 0, touched_by_person = $3 WHERE id = $1",
        params![order_id, next.as_str(), !ctx.actor.is_automation()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::OrderCancelled,
            aggregate_type: "order",
            aggregate_id: order_id,
            order_id: Some(order_id),
            customer_id: Some(&head.customer_id),
            data: json!({"reason": reason, "released_quantity": released, "previous_status": head.status}),
        },
    )?;
    get(conn, order_id)
}

/// Closes a shipped order once every line is invoiced and every invoice paid.
pub fn close_if_settled_in_tx(conn: &mut dyn Conn, ctx: &Ctx, order_id: &str) -> Result<bool> {
    let head = head_for_update(conn, order_id)?;
    if head.status != OrderStatus::Shipped {
        return Ok(false);
    }
    let pending = conn.query_one(
        "SELECT (SELECT COUNT(*) FROM order_lines WHERE order_id = $1 AND invoiced < quantity)
              + (SELECT COUNT(*) FROM invoice_orders io JOIN invoices i ON i.id = io.invoice_id WHERE io.order_id = $1 AND i.open_minor > 0)",
        params![order_id],
    )?;
    if pending.int(0) > 0 {
        return Ok(false);
    }
    let next = head.status.transition(order_id, OrderAction::Close)?;
    conn.execute(
        "UPDATE orders SET status = $2, closed_at = $3 WHERE id = $1",
        params![order_id, next.as_str(), ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::OrderClosed,
            aggregate_type: "order",
            aggregate_id: order_id,
            order_id: Some(order_id),
            customer_id: Some(&head.customer_id),
            data: json!({}),
        },
    )?;
    Ok(true)
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Order> {
    let r = conn
        .query_opt(
            "SELECT id, customer_id, status, currency, customer_reference, ship_to, net_minor, tax_minor, gross_minor, received_at, closed_at,
                    requested_delivery_on
             FROM orders WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("order", id))?;
    let currency = Currency::parse(&r.text(3)).map_err(|e| AppError::Internal(e.to_string()))?;
    let rows = read_lines(conn, id)?;
    let lines = rows
        .into_iter()
        .map(|l| OrderLine {
            line_no: l.line_no,
            sku: l.sku,
            description: l.description,
            quantity: l.quantity,
            unit_price: Money::new(l.unit_price_minor, currency),
            discount: Percent::from_basis_points(l.discount_bp),
            net: Money::new(l.net_minor, currency),
            tax_category: l.tax_category,
            tax_rate: Percent::from_basis_points(l.tax_rate_bp),
            allocated: l.allocated,
            shipped: l.shipped,
            invoiced: l.invoiced,
        })
        .collect();
    Ok(Order {
        id: r.text(0),
        customer_id: r.text(1),
        status: OrderStatus::parse(&r.text(2))
            .ok_or_else(|| AppError::Internal("unknown order status".into()))?,
        currency,
        customer_reference: r.opt_text(4),
        requested_delivery_on: r.opt_text(11),
        ship_to: serde_json::from_str(&r.text(5))?,
        lines,
        net: Money::new(r.int(6), currency),
        tax: Money::new(r.int(7), currency),
        gross: Money::new(r.int(8), currency),
        received_at: r.text(9),
        closed_at: r.opt_text(10),
    })
}

fn read_lines(conn: &mut dyn Conn, order_id: &str) -> Result<Vec<LineRow>> {
    let lines = conn
        .query(
            "SELECT line_no, product_id, sku, quantity, allocated, shipped, invoiced, unit_price_minor, description, tax_category, tax_rate_bp, discount_bp, net_minor
             FROM order_lines WHERE order_id = $1 ORDER BY line_no",
            params![order_id],
        )?
        .iter()
        .map(|r| LineRow {
            line_no: r.int(0),
            product_id: r.text(1),
            sku: r.text(2),
            quantity: r.int(3),
            allocated: r.int(4),
            shipped: r.int(5),
            invoiced: r.int(6),
            unit_price_minor: r.int(7),
            description: r.text(8),
            tax_category: TaxCategory::parse(&r.text(9)).unwrap_or(TaxCategory::Standard),
            tax_rate_bp: r.int(10),
            discount_bp: r.int(11),
            net_minor: r.int(12),
        })
        .collect();
    Ok(lines)
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderSummary {
    pub id: String,
    pub customer_id: String,
    pub status: String,
    pub gross: Money,
    pub received_at: String,
}

pub fn list(
    conn: &mut dyn Conn,
    status: Option<&str>,
    customer_id: Option<&str>,
    limit: i64,
) -> Result<Vec<OrderSummary>> {
    conn.query(
        "SELECT id, customer_id, status, gross_minor, currency, received_at FROM orders
         WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR customer_id = $2)
         ORDER BY received_at DESC, id DESC LIMIT $3",
        params![status, customer_id, limit],
    )?
    .iter()
    .map(|r| {
        Ok(OrderSummary {
            id: r.text(0),
            customer_id: r.text(1),
            status: r.text(2),
            gross: Money::new(r.int(3), Currency::parse(&r.text(4)).map_err(|e| AppError::Internal(e.to_string()))?),
            received_at: r.text(5),
        })
    })
    .collect()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    pub lines: Vec<AmendLine>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AmendLine {
    pub line_no: i64,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub unit_price: Option<String>,
}

/// Changes quantities or prices before anything shipped. The order gives back its stock and its
/// exposure and goes through credit again (`order.amended`): no change escapes the check.
pub fn amend_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    r: &AmendRequest,
) -> Result<Order> {
    let head = head_for_update(conn, order_id)?;
    let next = head.status.transition(order_id, OrderAction::Amend)?;
    if r.lines.is_empty() {
        return Err(DomainError::invalid("lines", "name at least one line to change").into());
    }
    let mut lines = read_lines(conn, order_id)?;
    for (i, change) in r.lines.iter().enumerate() {
        let line = lines
            .iter_mut()
            .find(|l| l.line_no == change.line_no)
            .ok_or_else(|| {
                DomainError::invalid(
                    format!("lines[{i}].line_no"),
                    format!("the order has no line {}", change.line_no),
                )
            })?;
        if let Some(q) = change.quantity {
            if q <= 0 {
                return Err(DomainError::QuantityNotPositive {
                    line: change.line_no as usize,
                    quantity: q,
                }
                .into());
            }
            line.quantity = q;
        }
        if let Some(p) = &change.unit_price {
            let price = Money::parse(p, head.currency)
                .map_err(DomainError::money(format!("lines[{i}].unit_price")))?;
            if price.is_negative() {
                return Err(DomainError::invalid(
                    format!("lines[{i}].unit_price"),
                    "must not be negative",
                )
                .into());
            }
            line.unit_price_minor = price.minor();
        }
    }
    release_everything(conn, ctx, order_id)?;
    // Priced exactly as at placement: line discounts, the customer's document discount, freight.
    let terms = conn.query_one(
        "SELECT c.invoice_discount_bp, o.freight_minor FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
        params![order_id],
    )?;
    let mut billed = Vec::with_capacity(lines.len());
    for l in &lines {
        let (net, _) = billing::price::line_net(
            Money::new(l.unit_price_minor, head.currency),
            l.quantity,
            Percent::from_basis_points(l.discount_bp),
        )?;
        billed.push(BilledLine {
            category: l.tax_category,
            rate: Percent::from_basis_points(l.tax_rate_bp),
            net,
        });
        conn.execute(
            "UPDATE order_lines SET quantity = $3, unit_price_minor = $4, net_minor = $5 WHERE order_id = $1 AND line_no = $2",
            params![order_id, l.line_no, l.quantity, l.unit_price_minor, net.minor()],
        )?;
    }
    let amounts = document_amounts(
        head.currency,
        &billed,
        Percent::from_basis_points(terms.int(0)),
        Money::new(terms.int(1), head.currency),
    )?;
    let (net, tax) = (amounts.tax_exclusive, amounts.tax);
    adjust_balances(conn, &head.customer_id, 0, -head.uninvoiced_minor, 0)?;
    conn.execute(
        "UPDATE orders SET status = $2, net_minor = $3, tax_minor = $4, gross_minor = $5, uninvoiced_minor = 0, touched_by_person = 1 WHERE id = $1",
        params![order_id, next.as_str(), net.minor(), tax.minor(), net.checked_add(tax)?.minor()],
    )?;
    event::emit_for_order(
        conn,
        ctx,
        order_id,
        &head.customer_id,
        EventType::OrderAmended,
        json!({"changes": r.lines, "reason": r.reason, "previous_gross": Money::new(head.gross_minor, head.currency)}),
    )?;
    get(conn, order_id)
}

/// Gives back the order's stock and cancels its planned shipments; the freed stock goes to
/// whoever waits for it, oldest backorder first, in the same transaction.
fn release_everything(conn: &mut dyn Conn, ctx: &Ctx, order_id: &str) -> Result<i64> {
    let (released, products) = inventory::release_order_in_tx(conn, order_id)?;
    shipment::cancel_planned_in_tx(conn, order_id)?;
    let rule = ctx.as_rule("inventory.release_backorders");
    for product_id in &products {
        inventory::release_backorders_in_tx(conn, &rule, product_id)?;
    }
    Ok(released)
}

/// Takes up a cancelled or rejected order again; it goes through credit like a new one.
pub fn reopen_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    reason: Option<&str>,
) -> Result<Order> {
    let head = head_for_update(conn, order_id)?;
    let next = head.status.transition(order_id, OrderAction::Reopen)?;
    conn.execute(
        "UPDATE orders SET status = $2, uninvoiced_minor = 0, touched_by_person = 1 WHERE id = $1",
        params![order_id, next.as_str()],
    )?;
    event::emit_for_order(
        conn,
        ctx,
        order_id,
        &head.customer_id,
        EventType::OrderReopened,
        json!({"reason": reason, "previous_status": head.status}),
    )?;
    get(conn, order_id)
}

/// Places a new order with the same customer, ship-to and lines (current prices); it is
/// checked like any new order.
pub fn copy_in_tx(conn: &mut dyn Conn, ctx: &Ctx, order_id: &str) -> Result<Order> {
    let original = get(conn, order_id)?;
    let request = OrderRequest {
        freight: None,
        customer_id: original.customer_id.clone(),
        currency: None,
        customer_reference: Some(format!("copy of {order_id}")),
        requested_delivery_on: original.requested_delivery_on.clone(),
        ship_to: Some(original.ship_to.clone()),
        lines: original
            .lines
            .iter()
            .map(|l| OrderLineRequest {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect(),
    };
    place_in_tx(conn, ctx, &request)
}
