//! Stock as the warehouse sees it: levels (on hand, reserved, available to promise) per product
//! and warehouse, receipt files, adjustments, and the movements journal every change writes.

use super::{add_stock, warehouse_id_by_code};
use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use o2c_core::DomainError;
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// One product in one warehouse. Available to promise is what a new order could still reserve.
#[derive(Debug, Clone, Serialize)]
pub struct StockLevel {
    pub sku: String,
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available_to_promise: i64,
}

/// Levels, optionally for one SKU and/or one warehouse code, by SKU then warehouse preference.
pub fn levels(
    conn: &mut dyn Conn,
    sku: Option<&str>,
    warehouse: Option<&str>,
) -> Result<Vec<StockLevel>> {
    let warehouse = warehouse.map(|w| w.trim().to_ascii_uppercase());
    Ok(conn
        .query(
            "SELECT p.sku, w.code, s.on_hand, s.reserved FROM stock s
             JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id
             WHERE (CAST($1 AS TEXT) IS NULL OR p.sku = $1) AND (CAST($2 AS TEXT) IS NULL OR w.code = $2)
             ORDER BY p.sku, w.priority, w.code",
            params![sku, warehouse.as_deref()],
        )?
        .iter()
        .map(|r| StockLevel {
            sku: r.text(0),
            warehouse: r.text(1),
            on_hand: r.int(2),
            reserved: r.int(3),
            available_to_promise: r.int(2) - r.int(3),
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustmentRequest {
    pub sku: String,
    pub warehouse: String,
    /// Signed change of on hand: `-2` for two broken units, `+5` for five found in a count.
    pub quantity: i64,
    /// Why (a count, damage, theft…): kept in the movements journal.
    pub reason: String,
}

/// Corrects on hand. Never below what is reserved: reserved stock belongs to orders, and taking
/// it would oversell them (cancel or re-plan those orders first).
pub fn adjust_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &StockAdjustmentRequest,
) -> Result<StockLevel> {
    if r.quantity == 0 {
        return Err(DomainError::invalid("quantity", "must not be zero").into());
    }
    let reason = r.reason.trim();
    if reason.is_empty() || reason.len() > 200 {
        return Err(DomainError::invalid("reason", "expected 1 to 200 characters").into());
    }
    let product_id = product_id_by_sku(conn, &r.sku, 1)?;
    let wh = warehouse_id_by_code(conn, &r.warehouse)?;
    let code = r.warehouse.trim().to_ascii_uppercase();
    let sql = format!(
        "SELECT on_hand, reserved FROM stock WHERE product_id = $1 AND warehouse_id = $2{}",
        conn.for_update()
    );
    let (on_hand, reserved) = conn
        .query_opt(&sql, params![product_id.as_str(), wh.as_str()])?
        .map(|row| (row.int(0), row.int(1)))
        .unwrap_or((0, 0));
    if on_hand + r.quantity < reserved {
        return Err(DomainError::StockBelowReserved {
            sku: r.sku.clone(),
            warehouse: code,
            requested: -r.quantity,
            on_hand,
            reserved,
        }
        .into());
    }
    add_stock(
        conn,
        ctx,
        &product_id,
        &wh,
        r.quantity,
        "adjustment",
        None,
        Some(reason),
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::StockAdjusted,
            aggregate_type: "product",
            aggregate_id: &product_id,
            order_id: None,
            customer_id: None,
            data: json!({"sku": r.sku, "warehouse": code, "quantity": r.quantity, "reason": reason}),
        },
    )?;
    Ok(StockLevel {
        sku: r.sku.clone(),
        warehouse: code,
        on_hand: on_hand + r.quantity,
        reserved,
        available_to_promise: on_hand + r.quantity - reserved,
    })
}

fn product_id_by_sku(conn: &mut dyn Conn, sku: &str, line: usize) -> Result<String> {
    conn.query_opt(
        "SELECT id FROM products WHERE sku = $1",
        params![sku.trim()],
    )?
    .map(|row| row.text(0))
    .ok_or_else(|| {
        DomainError::UnknownSku {
            line,
            sku: sku.to_string(),
        }
        .into()
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceiptFileSummary {
    pub lines: usize,
    pub quantity: i64,
    pub received: Vec<StockLevel>,
}

/// A receipt file: a header row naming `sku`, `warehouse`, `quantity` and optionally
/// `reference`, then one row per receipt. Every row is checked first; any fault refuses the whole
/// file with every faulty line named, and nothing is received.
pub fn import_receipts_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    text: &str,
    default_reference: Option<&str>,
) -> Result<ReceiptFileSummary> {
    let rows = read_receipt_file(conn, text)?;
    let mut quantity = 0;
    let mut per_product: HashMap<String, i64> = HashMap::new();
    for row in &rows {
        let reference = row.reference.as_deref().or(default_reference);
        add_stock(
            conn,
            ctx,
            &row.product_id,
            &row.warehouse_id,
            row.quantity,
            "receipt",
            reference,
            None,
        )?;
        quantity += row.quantity;
        *per_product.entry(row.product_id.clone()).or_default() += row.quantity;
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::StockReceived,
                aggregate_type: "product",
                aggregate_id: &row.product_id,
                order_id: None,
                customer_id: None,
                data: json!({"sku": row.sku, "warehouse": row.warehouse, "quantity": row.quantity,
                             "reference": reference, "line": row.line}),
            },
        )?;
    }
    let mut received = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for row in &rows {
        if !seen.contains(&(row.sku.as_str(), row.warehouse.as_str())) {
            seen.push((row.sku.as_str(), row.warehouse.as_str()));
            received.extend(levels(conn, Some(&row.sku), Some(&row.warehouse))?);
        }
    }
    Ok(ReceiptFileSummary {
        lines: rows.len(),
        quantity,
        received,
    })
}

struct ReceiptRow {
    line: usize,
    sku: String,
    product_id: String,
    warehouse: String,
    warehouse_id: String,
    quantity: i64,
    reference: Option<String>,
}

fn read_receipt_file(conn: &mut dyn Conn, text: &str) -> Result<Vec<ReceiptRow>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = o2c_edi::csv::parse(text, o2c_edi::csv::detect_separator(text))
        .map_err(|e| DomainError::StockFileRejected(vec![e.to_string()]))?;
    let Some((header, body)) = records.split_first() else {
        return Err(DomainError::StockFileRejected(vec![
            "the file is empty: expected a header row `sku,warehouse,quantity[,reference]`".into(),
        ])
        .into());
    };
    let col = |name: &str| {
        header
            .fields
            .iter()
            .position(|f| f.trim().eq_ignore_ascii_case(name))
    };
    let (Some(sku_col), Some(wh_col), Some(qty_col)) =
        (col("sku"), col("warehouse"), col("quantity"))
    else {
        return Err(DomainError::StockFileRejected(vec![format!(
            "line {}: expected a header row naming the columns sku, warehouse and quantity (reference optional), got `{}`",
            header.line,
            header.fields.join(",")
        )])
        .into());
    };
    let ref_col = col("reference");
    let mut products: HashMap<String, Option<String>> = HashMap::new();
    let mut warehouses: HashMap<String, Option<String>> = HashMap::new();
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    if body.is_empty() {
        errors.push("the file has a header but no receipts".to_string());
    }
    for rec in body {
        let field = |i: usize| rec.fields.get(i).map(|f| f.trim()).unwrap_or("");
        let (sku, wh, qty) = (
            field(sku_col),
            field(wh_col).to_ascii_uppercase(),
            field(qty_col),
        );
        let product_id = match products.get(sku) {
            Some(p) => p.clone(),
            None => {
                let p = conn
                    .query_opt("SELECT id FROM products WHERE sku = $1", params![sku])?
                    .map(|r| r.text(0));
                products.insert(sku.to_string(), p.clone());
                p
            }
        };
        let warehouse_id = match warehouses.get(&wh) {
            Some(w) => w.clone(),
            None => {
                let w = conn
                    .query_opt(
                        "SELECT id FROM warehouses WHERE code = $1",
                        params![wh.as_str()],
                    )?
                    .map(|r| r.text(0));
                warehouses.insert(wh.clone(), w.clone());
                w
            }
        };
        let quantity = qty.parse::<i64>().ok().filter(|q| *q > 0);
        let line = rec.line;
        if sku.is_empty() {
            errors.push(format!("line {line}: column sku is empty"));
        } else if product_id.is_none() {
            errors.push(format!("line {line}: no product with SKU `{sku}`"));
        }
        if wh.is_empty() {
            errors.push(format!("line {line}: column warehouse is empty"));
        } else if warehouse_id.is_none() {
            errors.push(format!("line {line}: no warehouse with code `{wh}`"));
        }
        if quantity.is_none() {
            errors.push(format!(
                "line {line}: column quantity: expected a whole number greater than zero, got `{qty}`"
            ));
        }
        if let (Some(product_id), Some(warehouse_id), Some(quantity)) =
            (product_id, warehouse_id, quantity)
        {
            rows.push(ReceiptRow {
                line,
                sku: sku.to_string(),
                product_id,
                warehouse: wh,
                warehouse_id,
                quantity,
                reference: ref_col
                    .map(field)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string),
            });
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::StockFileRejected(errors).into());
    }
    Ok(rows)
}

/// One line of the movements journal: every receipt, adjustment and dispatch, with who did it.
#[derive(Debug, Clone, Serialize)]
pub struct Movement {
    pub seq: i64,
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
    pub kind: String,
    pub document_id: Option<String>,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub occurred_at: String,
}

/// The journal, newest first.
pub fn movements(
    conn: &mut dyn Conn,
    sku: Option<&str>,
    warehouse: Option<&str>,
    limit: i64,
) -> Result<Vec<Movement>> {
    let warehouse = warehouse.map(|w| w.trim().to_ascii_uppercase());
    Ok(conn
        .query(
            "SELECT m.seq, p.sku, w.code, m.quantity, m.kind, m.document_id, m.reason, m.actor, m.occurred_at
             FROM stock_movements m JOIN products p ON p.id = m.product_id JOIN warehouses w ON w.id = m.warehouse_id
             WHERE (CAST($1 AS TEXT) IS NULL OR p.sku = $1) AND (CAST($2 AS TEXT) IS NULL OR w.code = $2)
             ORDER BY m.seq DESC LIMIT $3",
            params![sku, warehouse.as_deref(), limit],
        )?
        .iter()
        .map(|r| Movement {
            seq: r.int(0),
            sku: r.text(1),
            warehouse: r.text(2),
            quantity: r.int(3),
            kind: r.text(4),
            document_id: r.opt_text(5),
            reason: r.opt_text(6),
            actor: r.opt_text(7),
            occurred_at: r.text(8),
        })
        .collect())
}
