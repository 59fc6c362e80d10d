//! Warehouses, products, stock, and reservation: never more reserved than on hand (the CHECK on
//! `stock` is the last line of defence; the row lock and the conditional update the first).
//! Levels, receipt files, adjustments and the movements journal are in [`stock`].

pub mod stock;

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::order;
use o2c_core::id::{ProductId, WarehouseId};
use o2c_core::inventory::{LineNeed, Location};
use o2c_core::order::{LineQuantities, OrderStatus};
use o2c_core::tax::TaxCategory;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, DbError, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseRequest {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub priority: Option<i64>,
    /// Where it is (ISO 3166-1 alpha-2); with `postal_code`, what "nearest" and shipping zones
    /// are measured from. A warehouse without one ranks after every located warehouse.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Warehouse {
    pub id: String,
    pub code: String,
    pub name: String,
    pub priority: i64,
    pub country: Option<String>,
    pub postal_code: Option<String>,
}

pub fn create_warehouse_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &WarehouseRequest,
) -> Result<Warehouse> {
    let code = r.code.trim().to_ascii_uppercase();
    if code.is_empty()
        || code.len() > 20
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(
            DomainError::invalid("code", "expected 1 to 20 letters, digits or dashes").into(),
        );
    }
    if conn
        .query_opt(
            "SELECT id FROM warehouses WHERE code = $1",
            params![code.as_str()],
        )?
        .is_some()
    {
        return Err(DomainError::DuplicateWarehouse(code).into());
    }
    if r.name.trim().is_empty() {
        return Err(DomainError::invalid("name", "must not be empty").into());
    }
    let country = match &r.country {
        None => None,
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(_) => {
            return Err(DomainError::invalid(
                "country",
                "expected an ISO 3166-1 alpha-2 code such as DE",
            )
            .into());
        }
    };
    let postal_code = r.postal_code.as_ref().map(|p| p.trim().to_string());
    if postal_code.is_some() && country.is_none() {
        return Err(DomainError::invalid("country", "a postal code needs its country").into());
    }
    let w = Warehouse {
        id: WarehouseId::generate(ctx.ids.as_ref()).to_string(),
        code,
        name: r.name.trim().to_string(),
        priority: r.priority.unwrap_or(100),
        country,
        postal_code,
    };
    conn.execute(
        "INSERT INTO warehouses (id, code, name, priority, country, postal_code) VALUES ($1, $2, $3, $4, $5, $6)",
        params![w.id.as_str(), w.code.as_str(), w.name.as_str(), w.priority, w.country.as_deref(), w.postal_code.as_deref()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::WarehouseCreated,
            aggregate_type: "warehouse",
            aggregate_id: &w.id,
            order_id: None,
            customer_id: None,
            data: &w,
        },
    )?;
    Ok(w)
}

pub fn list_warehouses(conn: &mut dyn Conn) -> Result<Vec<Warehouse>> {
    Ok(conn
        .query(
            "SELECT id, code, name, priority, country, postal_code FROM warehouses ORDER BY priority, code",
            params![],
        )?
        .iter()
        .map(|r| Warehouse {
            id: r.text(0),
            code: r.text(1),
            name: r.text(2),
            priority: r.int(3),
            country: r.opt_text(4),
            postal_code: r.opt_text(5),
        })
        .collect())
}

pub(crate) fn warehouse_id_by_code(conn: &mut dyn Conn, code: &str) -> Result<String> {
    conn.query_opt(
        "SELECT id FROM warehouses WHERE code = $1",
        params![code.trim().to_ascii_uppercase()],
    )?
    .map(|r| r.text(0))
    .ok_or_else(|| DomainError::UnknownWarehouse(code.to_string()).into())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub currency: String,
    #[serde(default)]
    pub tax_category: Option<String>,
    /// Shipping weight of one unit in grams (packages and freight rates are weighed from it).
    #[serde(default)]
    pub weight_g: Option<i64>,
    /// Opening stock per warehouse code.
    #[serde(default)]
    pub stock: Vec<StockLevel>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StockLevel {
    pub warehouse: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub unit_price: Money,
    pub tax_category: TaxCategory,
    pub weight_g: i64,
    pub stock: Vec<StockRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StockRow {
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

pub fn create_product_in_tx(conn: &mut dyn Conn, ctx: &Ctx, r: &ProductRequest) -> Result<Product> {
    let sku = r.sku.trim().to_string();
    if sku.is_empty() || sku.len() > 64 {
        return Err(DomainError::invalid("sku", "expected 1 to 64 characters").into());
    }
    if r.name.trim().is_empty() {
        return Err(DomainError::invalid("name", "must not be empty").into());
    }
    let currency = Currency::parse(&r.currency).map_err(DomainError::money("currency"))?;
    let price = Money::parse(&r.unit_price, currency).map_err(DomainError::money("unit_price"))?;
    if price.is_negative() {
        return Err(DomainError::invalid("unit_price", "must not be negative").into());
    }
    let category = match &r.tax_category {
        None => TaxCategory::Standard,
        Some(c) => crate::billing::tax::parse_category("tax_category", c)?,
    };
    if conn
        .query_opt(
            "SELECT id FROM products WHERE sku = $1",
            params![sku.as_str()],
        )?
        .is_some()
    {
        return Err(DomainError::DuplicateSku(sku).into());
    }
    let weight_g = r.weight_g.unwrap_or(0);
    if !(0..=10_000_000).contains(&weight_g) {
        return Err(DomainError::invalid("weight_g", "expected grams from 0 to 10000000").into());
    }
    let id = ProductId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO products (id, sku, name, unit_price_minor, currency, tax_category, created_at, weight_g) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![id.as_str(), sku.as_str(), r.name.trim(), price.minor(), currency.code(), category.as_str(), ctx.timestamp(), weight_g],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ProductCreated,
            aggregate_type: "product",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: None,
            data: json!({"sku": sku, "name": r.name.trim(), "unit_price": price, "tax_category": category}),
        },
    )?;
    for (i, level) in r.stock.iter().enumerate() {
        if level.quantity < 0 {
            return Err(DomainError::invalid(
                format!("stock[{i}].quantity"),
                "must not be negative",
            )
            .into());
        }
        let wh = warehouse_id_by_code(conn, &level.warehouse)?;
        add_stock(
            conn,
            ctx,
            id.as_str(),
            &wh,
            level.quantity,
            "opening",
            None,
            None,
        )?;
    }
    product_by_sku(conn, &sku)
}

pub fn product_by_sku(conn: &mut dyn Conn, sku: &str) -> Result<Product> {
    let r = conn
        .query_opt("SELECT id, sku, name, unit_price_minor, currency, tax_category, weight_g FROM products WHERE sku = $1", params![sku])?
        .ok_or_else(|| not_found("product", sku))?;
    let currency = Currency::parse(&r.text(4)).map_err(|e| AppError::Internal(e.to_string()))?;
    let id = r.text(0);
    let stock = conn
        .query(
            "SELECT w.code, s.on_hand, s.reserved FROM stock s JOIN warehouses w ON w.id = s.warehouse_id
             WHERE s.product_id = $1 ORDER BY w.priority, w.code",
            params![id.as_str()],
        )?
        .iter()
        .map(|s| StockRow { warehouse: s.text(0), on_hand: s.int(1), reserved: s.int(2), available: s.int(1) - s.int(2) })
        .collect();
    Ok(Product {
        id,
        sku: r.text(1),
        name: r.text(2),
        unit_price: Money::new(r.int(3), currency),
        tax_category: TaxCategory::parse(&r.text(5)).unwrap_or(TaxCategory::Standard),
        weight_g: r.int(6),
        stock,
    })
}

// Each argument is one column of the movement; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_stock(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    product_id: &str,
    warehouse_id: &str,
    qty: i64,
    kind: &str,
    doc: Option<&str>,
    reason: Option<&str>,
) -> Result<()> {
    // A decrease must not be an upsert: the CHECK on `stock` is evaluated on the proposed row
    // (a negative on hand) before the conflict turns it into an update. Callers check the row
    // exists and stays at or above what is reserved.
    if qty < 0 {
        conn.execute(
            "UPDATE stock SET on_hand = on_hand + $3 WHERE product_id = $1 AND warehouse_id = $2",
            params![product_id, warehouse_id, qty],
        )?;
    } else {
        conn.execute(
            "INSERT INTO stock (product_id, warehouse_id, on_hand, reserved) VALUES ($1, $2, $3, 0)
             ON CONFLICT (product_id, warehouse_id) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand",
            params![product_id, warehouse_id, qty],
        )?;
    }
    conn.execute(
        "INSERT INTO stock_movements (product_id, warehouse_id, quantity, kind, document_id, occurred_at, reason, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![product_id, warehouse_id, qty, kind, doc, ctx.timestamp(), reason, ctx.actor.to_string()],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockReceiptRequest {
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
    #[serde(default)]
    pub reference: Option<String>,
}

/// Goods arrived: on hand goes up, and the engine releases waiting backorders first come, first served.
pub fn receive_stock_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &StockReceiptRequest,
) -> Result<Product> {
    if r.quantity <= 0 {
        return Err(DomainError::QuantityNotPositive {
            line: 1,
            quantity: r.quantity,
        }
        .into());
    }
    let product_id = conn
        .query_opt(
            "SELECT id FROM products WHERE sku = $1",
            params![r.sku.as_str()],
        )?
        .map(|row| row.text(0))
        .ok_or_else(|| DomainError::UnknownSku {
            line: 1,
            sku: r.sku.clone(),
        })?;
    let wh = warehouse_id_by_code(conn, &r.warehouse)?;
    add_stock(
        conn,
        ctx,
        &product_id,
        &wh,
        r.quantity,
        "receipt",
        r.reference.as_deref(),
        None,
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::StockReceived,
            aggregate_type: "product",
            aggregate_id: &product_id,
            order_id: None,
            customer_id: None,
            data: json!({"sku": r.sku, "warehouse": r.warehouse.to_ascii_uppercase(), "quantity": r.quantity, "reference": r.reference}),
        },
    )?;
    product_by_sku(conn, &r.sku)
}

/// Reserves what is available for the order's unallocated lines (optionally only one product),
/// records backorders for the rest, and moves the order's fulfilment status.
/// Returns the quantity newly reserved.
pub fn reserve_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    order_id: &str,
    only_product: Option<&str>,
) -> Result<i64> {
    let (head, lines) = order::lines_for_update(conn, order_id)?;
    // An order cancelled or rejected after its approval event was queued gets no stock.
    if !head.status.is_open() {
        return Ok(0);
    }
    let customer_id = head.customer_id.clone();
    let wanted: Vec<&order::LineRow> = lines
        .iter()
        .filter(|l| l.allocated < l.quantity && only_product.is_none_or(|p| p == l.product_id))
        .collect();
    if wanted.is_empty() {
        return Ok(0);
    }
    let available = availability(conn, wanted.iter().map(|l| l.product_id.as_str()))?;
    let sites = sites_for_order(conn, order_id)?;
    let needs: Vec<LineNeed> = wanted
        .iter()
        .map(|l| LineNeed {
            line_no: l.line_no,
            product: l.product_id.clone(),
            quantity: l.quantity - l.allocated,
        })
        .collect();
    let plan = o2c_core::inventory::plan_order(&needs, &sites, &available);
    // Only an order that waited before can have backorders to clear.
    let may_have_backorders = only_product.is_some() || head.status != OrderStatus::Approved;
    let mut reserved_total = 0;
    let mut reserved = Vec::new();
    let mut reservation_rows = Vec::new();
    let mut still_missing = Vec::new();
    let mut allocated: HashMap<i64, i64> = HashMap::new();
    for line in wanted {
        let need = line.quantity - line.allocated;
        let mut got = 0;
        for (_, wh, qty) in plan.iter().filter(|t| t.0 == line.line_no) {
            let qty = *qty;
            let n = conn.execute(
                "UPDATE stock SET reserved = reserved + $3 WHERE product_id = $1 AND warehouse_id = $2 AND on_hand - reserved >= $3",
                params![line.product_id.as_str(), wh.as_str(), qty],
            )?;
            if n != 1 {
                return Err(DbError::Retryable(format!(
                    "stock of {} changed while reserving",
                    line.product_id
                ))
                .into());
            }
            reservation_rows.push(vec![
                Value::from(order_id),
                Value::from(line.line_no),
                Value::from(customer_id.as_str()),
                Value::from(line.product_id.as_str()),
                Value::from(wh.as_str()),
                Value::from(qty),
                Value::from("open"),
            ]);
            reserved.push(json!({"line_no": line.line_no, "sku": line.sku, "warehouse_id": wh, "quantity": qty}));
            got += qty;
        }
        if got > 0 {
            conn.execute(
                "UPDATE order_lines SET allocated = allocated + $3 WHERE order_id = $1 AND line_no = $2",
                params![order_id, line.line_no, got],
            )?;
            allocated.insert(line.line_no, got);
        }
        reserved_total += got;
        if got < need {
            still_missing
                .push(json!({"line_no": line.line_no, "sku": line.sku, "quantity": need - got}));
            conn.execute(
                "INSERT INTO backorders (order_id, line_no, product_id, customer_id) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id, line_no) DO NOTHING",
                params![order_id, line.line_no, line.product_id.as_str(), customer_id.as_str()],
            )?;
        } else if may_have_backorders {
            conn.execute(
                "DELETE FROM backorders WHERE order_id = $1 AND line_no = $2",
                params![order_id, line.line_no],
            )?;
        }
    }
    conn.insert_rows(
        "reservations",
        &[
            "order_id",
            "line_no",
            "customer_id",
            "product_id",
            "warehouse_id",
            "quantity",
            "status",
        ],
        &reservation_rows,
    )?;
    let event_of = |kind, data| NewEvent {
        kind,
        aggregate_type: "order",
        aggregate_id: order_id,
        order_id: Some(order_id),
        customer_id: Some(&customer_id),
        data,
    };
    if !reserved.is_empty() {
        event::emit(
            conn,
            ctx,
            event_of(EventType::StockReserved, json!({"reservations": reserved})),
        )?;
    }
    if !still_missing.is_empty() {
        event::emit(
            conn,
            ctx,
            event_of(
                EventType::Backordered,
                json!({"backordered": still_missing}),
            ),
        )?;
    }
    let quantities: Vec<LineQuantities> = lines
        .iter()
        .map(|l| LineQuantities {
            ordered: l.quantity,
            allocated: l.allocated + allocated.get(&l.line_no).copied().unwrap_or(0),
            shipped: l.shipped,
        })
        .collect();
    order::move_fulfilment(conn, order_id, head.status, &quantities)?;
    Ok(reserved_total)
}

/// What each product has available per warehouse, in the warehouses' order of preference; the
/// rows stay locked until commit on PostgreSQL. One query for all of an order's products.
fn availability<'a>(
    conn: &mut dyn Conn,
    products: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, Vec<(String, i64)>>> {
    let ids: Vec<Value> = products.map(Value::from).collect();
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let lock = match conn.dialect() {
        o2c_store::Dialect::Sqlite => "",
        o2c_store::Dialect::Postgres => " FOR UPDATE OF s",
    };
    let rows = conn.query(
        &format!(
            "SELECT s.product_id, s.warehouse_id, s.on_hand - s.reserved FROM stock s JOIN warehouses w ON w.id = s.warehouse_id
             WHERE s.product_id IN ({}) AND s.on_hand > s.reserved ORDER BY s.product_id, w.priority, w.code{lock}",
            placeholders.join(", ")
        ),
        &ids,
    )?;
    let mut out: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for r in rows {
        out.entry(r.text(0))
            .or_default()
            .push((r.text(1), r.int(2)));
    }
    Ok(out)
}

/// Every warehouse, nearest to the order's ship-to first, then by priority and code. One query:
/// the ship-to rides along with the (few) warehouses.
fn sites_for_order(conn: &mut dyn Conn, order_id: &str) -> Result<Vec<String>> {
    let rows = conn.query(
        "SELECT w.id, w.priority, w.code, w.country, w.postal_code, (SELECT o.ship_to FROM orders o WHERE o.id = $1)
         FROM warehouses w",
        params![order_id],
    )?;
    let ship_to: Option<Location> = rows
        .first()
        .and_then(|r| r.opt_text(5))
        .and_then(|t| serde_json::from_str::<o2c_core::customer::Address>(&t).ok())
        .map(|a| Location {
            country: a.country,
            postal_code: a.postal_code,
        });
    let mut ranked: Vec<(i64, i64, String, String)> = rows
        .iter()
        .map(|r| {
            let at = warehouse_location(r.opt_text(3), r.opt_text(4));
            let d = match &ship_to {
                Some(to) => o2c_core::inventory::distance(at.as_ref(), to),
                None => 0,
            };
            (d, r.int(1), r.text(2), r.text(0))
        })
        .collect();
    ranked.sort();
    Ok(ranked.into_iter().map(|(_, _, _, id)| id).collect())
}

pub(crate) fn warehouse_location(
    country: Option<String>,
    postal: Option<String>,
) -> Option<Location> {
    Some(Location {
        country: country?,
        postal_code: postal.unwrap_or_default(),
    })
}

/// Stock arrived for a product: serve its backorders in the order they were placed.
pub fn release_backorders_in_tx(conn: &mut dyn Conn, ctx: &Ctx, product_id: &str) -> Result<()> {
    let waiting: Vec<String> = conn
        .query(
            "SELECT order_id FROM backorders WHERE product_id = $1 ORDER BY seq",
            params![product_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    for order_id in waiting {
        let available = conn.query_one(
            "SELECT CAST(COALESCE(SUM(on_hand - reserved), 0) AS BIGINT) FROM stock WHERE product_id = $1",
            params![product_id],
        )?;
        if available.int(0) <= 0 {
            break;
        }
        reserve_in_tx(conn, ctx, &order_id, Some(product_id))?;
    }
    Ok(())
}

/// Gives back everything still reserved for an order (cancellation before dispatch).
/// Returns the quantity released and the products it belonged to.
pub fn release_order_in_tx(conn: &mut dyn Conn, order_id: &str) -> Result<(i64, Vec<String>)> {
    let open = conn.query(
        "SELECT seq, product_id, warehouse_id, quantity FROM reservations WHERE order_id = $1 AND status = 'open'",
        params![order_id],
    )?;
    let mut released = 0;
    let mut products: Vec<String> = Vec::new();
    for r in &open {
        conn.execute(
            "UPDATE stock SET reserved = reserved - $3 WHERE product_id = $1 AND warehouse_id = $2",
            params![r.text(1), r.text(2), r.int(3)],
        )?;
        released += r.int(3);
        if !products.contains(&r.text(1)) {
            products.push(r.text(1));
        }
    }
    conn.execute(
        "UPDATE reservations SET status = 'released' WHERE order_id = $1 AND status = 'open'",
        params![order_id],
    )?;
    conn.execute(
        "DELETE FROM backorders WHERE order_id = $1",
        params![order_id],
    )?;
    conn.execute(
        "UPDATE order_lines SET allocated = shipped WHERE order_id = $1",
        params![order_id],
    )?;
    Ok((released, products))
}
