//! Fulfilment in the warehouse: pick lists that batch a warehouse's open shipments (`pick`),
//! packages with weights (`pack`, which also splits a partly packed shipment on dispatch), and
//! the X12 856 / 810 sent to customers who order by EDI (`edi_out`).

pub mod edi_out;
pub mod pack;

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::inventory::warehouse_id_by_code;
use o2c_core::DomainError;
use o2c_core::id::PickListId;
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickListRequest {
    pub warehouse: String,
    /// At most this many shipments, oldest first (default 100).
    #[serde(default)]
    pub max_shipments: Option<i64>,
}

/// What to fetch from the shelves: one line per SKU over every shipment of the batch, and
/// which shipment takes how many (to sort them at the packing table).
#[derive(Debug, Clone, Serialize)]
pub struct PickList {
    pub id: String,
    pub warehouse: String,
    pub created_at: String,
    pub created_by: String,
    pub shipments: Vec<String>,
    pub lines: Vec<PickLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PickLine {
    pub sku: String,
    pub description: String,
    pub quantity: i64,
    pub weight_g: i64,
    pub per_shipment: Vec<PickShare>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PickShare {
    pub shipment_id: String,
    pub order_id: String,
    pub line_no: i64,
    pub quantity: i64,
}

/// Batches the warehouse's planned shipments not yet on a pick list into one, and moves them to
/// `picking`. Nothing to pick is an error, not an empty list, so a scanner never prints one.
pub fn create_in_tx(conn: &mut dyn Conn, ctx: &Ctx, r: &PickListRequest) -> Result<PickList> {
    let warehouse_id = warehouse_id_by_code(conn, &r.warehouse)?;
    let max = r.max_shipments.unwrap_or(100);
    if !(1..=10_000).contains(&max) {
        return Err(DomainError::invalid("max_shipments", "expected 1 to 10000").into());
    }
    let sql = format!(
        "SELECT id FROM shipments WHERE warehouse_id = $1 AND status = 'planned' AND pick_list_id IS NULL
         ORDER BY created_at, id LIMIT $2{}",
        conn.for_update()
    );
    let shipments: Vec<String> = conn
        .query(&sql, params![warehouse_id.as_str(), max])?
        .iter()
        .map(|r| r.text(0))
        .collect();
    if shipments.is_empty() {
        return Err(DomainError::NothingToPick(format!(
            "no planned shipment at {} waits for a pick list",
            r.warehouse.trim().to_ascii_uppercase()
        ))
        .into());
    }
    let id = PickListId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO pick_lists (id, warehouse_id, created_at, created_by) VALUES ($1, $2, $3, $4)",
        params![
            id.as_str(),
            warehouse_id.as_str(),
            ctx.timestamp(),
            ctx.actor.to_string()
        ],
    )?;
    for s in &shipments {
        conn.execute(
            "UPDATE shipments SET pick_list_id = $2, status = 'picking' WHERE id = $1",
            params![s.as_str(), id.as_str()],
        )?;
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PickListCreated,
            aggregate_type: "pick_list",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: None,
            data: json!({"warehouse_id": warehouse_id, "shipments": shipments}),
        },
    )?;
    get(conn, id.as_str())
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<PickList> {
    let head = conn
        .query_opt(
            "SELECT p.id, w.code, p.created_at, p.created_by FROM pick_lists p JOIN warehouses w ON w.id = p.warehouse_id WHERE p.id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("pick list", id))?;
    let rows = conn.query(
        "SELECT l.sku, l.description, p.weight_g, r.shipment_id, r.order_id, r.line_no, CAST(SUM(r.quantity) AS BIGINT)
         FROM shipments s JOIN reservations r ON r.shipment_id = s.id
         JOIN order_lines l ON l.order_id = r.order_id AND l.line_no = r.line_no
         JOIN products p ON p.id = r.product_id
         WHERE s.pick_list_id = $1
         GROUP BY l.sku, l.description, p.weight_g, r.shipment_id, r.order_id, r.line_no
         ORDER BY l.sku, r.shipment_id, r.line_no",
        params![id],
    )?;
    let mut lines: Vec<PickLine> = Vec::new();
    for r in &rows {
        let share = PickShare {
            shipment_id: r.text(3),
            order_id: r.text(4),
            line_no: r.int(5),
            quantity: r.int(6),
        };
        match lines.last_mut() {
            Some(l) if l.sku == r.text(0) => {
                l.quantity += share.quantity;
                l.per_shipment.push(share);
            }
            _ => lines.push(PickLine {
                sku: r.text(0),
                description: r.text(1),
                quantity: share.quantity,
                weight_g: r.int(2),
                per_shipment: vec![share],
            }),
        }
    }
    let shipments = conn
        .query(
            "SELECT id FROM shipments WHERE pick_list_id = $1 ORDER BY created_at, id",
            params![id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    Ok(PickList {
        id: head.text(0),
        warehouse: head.text(1),
        created_at: head.text(2),
        created_by: head.text(3),
        shipments,
        lines,
    })
}
