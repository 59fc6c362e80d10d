//! Shipments: planned from reservations, dispatched by the warehouse.

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::order;
use o2c_core::id::ShipmentId;
use o2c_core::shipment::{ShipmentAction, ShipmentStatus};
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Rule `shipment.plan`: one planned shipment per warehouse for reserved, unplanned stock.
pub fn plan_in_tx(conn: &mut dyn Conn, ctx: &Ctx, order_id: &str) -> Result<Vec<String>> {
    let head = order::head_for_update(conn, order_id)?;
    let rows = conn.query(
        "SELECT seq, warehouse_id FROM reservations WHERE order_id = $1 AND status = 'open' AND shipment_id IS NULL ORDER BY seq",
        params![order_id],
    )?;
    let mut by_warehouse: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &rows {
        by_warehouse.entry(r.text(1)).or_default().push(r.int(0));
    }
    let mut planned = Vec::new();
    for (warehouse_id, seqs) in by_warehouse {
        let id = ShipmentId::generate(ctx.ids.as_ref());
        conn.execute(
            "INSERT INTO shipments (id, order_id, customer_id, warehouse_id, status, created_at) VALUES ($1, $2, $3, $4, 'planned', $5)",
            params![id.as_str(), order_id, head.customer_id.as_str(), warehouse_id.as_str(), ctx.timestamp()],
        )?;
        conn.execute(
            "UPDATE reservations SET shipment_id = $1 WHERE order_id = $2 AND warehouse_id = $3 AND status = 'open' AND shipment_id IS NULL",
            params![id.as_str(), order_id, warehouse_id.as_str()],
        )?;
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::ShipmentPlanned,
                aggregate_type: "shipment",
                aggregate_id: id.as_str(),
                order_id: Some(order_id),
                customer_id: Some(&head.customer_id),
                data: json!({"warehouse_id": warehouse_id, "reservations": seqs.len()}),
            },
        )?;
        planned.push(id.to_string());
    }
    Ok(planned)
}

#[derive(Debug, Clone, Serialize)]
pub struct Shipment {
    pub id: String,
    pub order_id: String,
    pub customer_id: String,
    pub warehouse_id: String,
    pub status: String,
    pub lines: Vec<ShipmentLine>,
    pub created_at: String,
    pub dispatched_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShipmentLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Shipment> {
    let r = conn
        .query_opt(
            "SELECT id, order_id, customer_id, warehouse_id, status, created_at, dispatched_at FROM shipments WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("shipment", id))?;
    let lines = conn
        .query(
            "SELECT r.line_no, l.sku, CAST(SUM(r.quantity) AS BIGINT) FROM reservations r
             JOIN order_lines l ON l.order_id = r.order_id AND l.line_no = r.line_no
             WHERE r.shipment_id = $1 GROUP BY r.line_no, l.sku ORDER BY r.line_no",
            params![id],
        )?
        .iter()
        .map(|l| ShipmentLine {
            line_no: l.int(0),
            sku: l.text(1),
            quantity: l.int(2),
        })
        .collect();
    Ok(Shipment {
        id: r.text(0),
        order_id: r.text(1),
        customer_id: r.text(2),
        warehouse_id: r.text(3),
        status: r.text(4),
        lines,
        created_at: r.text(5),
        dispatched_at: r.opt_text(6),
    })
}

pub fn list(
    conn: &mut dyn Conn,
    status: Option<&str>,
    order_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Shipment>> {
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM shipments WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR order_id = $2) ORDER BY created_at, id LIMIT $3",
            params![status, order_id, limit],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}

/// The warehouse hands the goods to the carrier: stock leaves, the order moves, the engine invoices.
pub fn dispatch_in_tx(conn: &mut dyn Conn, ctx: &Ctx, shipment_id: &str) -> Result<Shipment> {
    let sql = format!(
        "SELECT order_id, status FROM shipments WHERE id = $1{}",
        conn.for_update()
    );
    let r = conn
        .query_opt(&sql, params![shipment_id])?
        .ok_or_else(|| not_found("shipment", shipment_id))?;
    let order_id = r.text(0);
    let head = order::head_for_update(conn, &order_id)?;
    let status = ShipmentStatus::parse(&r.text(1))
        .ok_or_else(|| AppError::Internal("unknown shipment status".into()))?;
    let next = status.transition(shipment_id, ShipmentAction::Dispatch)?;
    let rows = conn.query(
        "SELECT product_id, warehouse_id, line_no, quantity FROM reservations WHERE shipment_id = $1 AND status = 'open'",
        params![shipment_id],
    )?;
    for res in &rows {
        conn.execute(
            "UPDATE stock SET on_hand = on_hand - $3, reserved = reserved - $3 WHERE product_id = $1 AND warehouse_id = $2",
            params![res.text(0), res.text(1), res.int(3)],
        )?;
        conn.execute(
            "UPDATE order_lines SET shipped = shipped + $3 WHERE order_id = $1 AND line_no = $2",
            params![order_id.as_str(), res.int(2), res.int(3)],
        )?;
        conn.execute(
            "INSERT INTO stock_movements (product_id, warehouse_id, quantity, kind, document_id, occurred_at, actor) VALUES ($1, $2, $3, 'dispatch', $4, $5, $6)",
            params![res.text(0), res.text(1), -res.int(3), shipment_id, ctx.timestamp(), ctx.actor.to_string()],
        )?;
    }
    conn.execute(
        "UPDATE reservations SET status = 'shipped' WHERE shipment_id = $1 AND status = 'open'",
        params![shipment_id],
    )?;
    conn.execute(
        "UPDATE shipments SET status = $2, dispatched_at = $3 WHERE id = $1",
        params![shipment_id, next.as_str(), ctx.timestamp()],
    )?;
    order::refresh_fulfilment(conn, &order_id)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ShipmentDispatched,
            aggregate_type: "shipment",
            aggregate_id: shipment_id,
            order_id: Some(&order_id),
            customer_id: Some(&head.customer_id),
            data: json!({"quantity": rows.iter().map(|r| r.int(3)).sum::<i64>()}),
        },
    )?;
    get(conn, shipment_id)
}

/// Cancelling an order cancels its shipments that have not left.
pub fn cancel_planned_in_tx(conn: &mut dyn Conn, order_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE shipments SET status = 'cancelled' WHERE order_id = $1 AND status = 'planned'",
        params![order_id],
    )?;
    Ok(())
}
