//! Shipments: planned from reservations, dispatched by the warehouse.

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::fulfilment::pack::Package;
use crate::order;
use crate::shipping::{self, delivery::Stage};
use o2c_core::id::ShipmentId;
use o2c_core::shipment::{ShipmentAction, ShipmentStatus};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
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
    pub pick_list_id: Option<String>,
    pub packages: Vec<Package>,
    pub weight_g: Option<i64>,
    /// `CARRIER/SERVICE`, and whether a rule or a person chose it.
    pub service: Option<String>,
    pub service_chosen_by: Option<String>,
    pub freight: Option<Money>,
    pub tracking_number: Option<String>,
    pub estimated_delivery_on: Option<String>,
    pub delivered_at: Option<String>,
}

/// What the warehouse may say when the goods leave; both optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    /// `CARRIER/SERVICE` instead of the automatic choice.
    #[serde(default)]
    pub service: Option<String>,
    /// The carrier label's number; o2c makes one from the carrier and shipment otherwise.
    #[serde(default)]
    pub tracking_number: Option<String>,
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
            "SELECT s.id, s.order_id, s.customer_id, s.warehouse_id, s.status, s.created_at, s.dispatched_at, s.pick_list_id,
                    s.weight_g, c.code || '/' || v.code, s.service_chosen_by, s.freight_minor, s.freight_currency,
                    s.tracking_number, s.estimated_delivery_on, s.delivered_at
             FROM shipments s LEFT JOIN carrier_services v ON v.id = s.service_id LEFT JOIN carriers c ON c.id = v.carrier_id
             WHERE s.id = $1",
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
        pick_list_id: r.opt_text(7),
        packages: crate::fulfilment::pack::packages(conn, id)?,
        weight_g: r.opt_int(8),
        service: r.opt_text(9),
        service_chosen_by: r.opt_text(10),
        freight: match (r.opt_int(11), r.opt_text(12)) {
            (Some(m), Some(c)) => Some(Money::new(m, Currency::parse(&c)?)),
            _ => None,
        },
        tracking_number: r.opt_text(13),
        estimated_delivery_on: r.opt_text(14),
        delivered_at: r.opt_text(15),
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
    dispatch_with_in_tx(conn, ctx, shipment_id, &DispatchRequest::default())
}

/// Dispatch as the warehouse tells it: a packed shipment leaves with what is packed (the rest
/// waits on a new planned shipment), with the carrier service chosen by rule unless named, a
/// tracking number, the customer's e-mail queued and, for X12 customers, the 856 stored.
pub fn dispatch_with_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
    req: &DispatchRequest,
) -> Result<Shipment> {
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
    let tracking =
        crate::fulfilment::pack::clean_tracking(req.tracking_number.as_deref(), "tracking_number")?;
    let rest = crate::fulfilment::pack::split_unpacked_in_tx(conn, ctx, shipment_id)?;
    let assigned = shipping::assign(conn, ctx, shipment_id, req.service.as_deref())?;
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
    let mut carrier = json!(null);
    if let Some(a) = &assigned {
        let tracking = tracking
            .clone()
            .unwrap_or_else(|| shipping::tracking_for(&a.offer.carrier_code, shipment_id));
        let weight_g = shipping::weight_of(conn, shipment_id)?;
        conn.execute(
            "UPDATE shipments SET service_id = $2, service_chosen_by = $3, freight_minor = $4, freight_currency = $5,
                    tracking_number = $6, estimated_delivery_on = $7, weight_g = $8 WHERE id = $1",
            params![
                shipment_id,
                a.offer.service_id.as_str(),
                a.chosen_by,
                a.offer.price.minor(),
                a.offer.price.currency().code(),
                tracking.as_str(),
                a.offer.estimated_delivery_on.as_str(),
                weight_g
            ],
        )?;
        carrier = json!({"service": a.offer.service, "chosen_by": a.chosen_by, "freight": a.offer.price,
                         "tracking_number": tracking, "estimated_delivery_on": a.offer.estimated_delivery_on,
                         "on_time": a.offer.on_time});
    } else if let Some(t) = &tracking {
        conn.execute(
            "UPDATE shipments SET tracking_number = $2 WHERE id = $1",
            params![shipment_id, t.as_str()],
        )?;
    }
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
            data: json!({"quantity": rows.iter().map(|r| r.int(3)).sum::<i64>(), "carrier": carrier,
                         "rest_planned_as": rest}),
        },
    )?;
    crate::fulfilment::edi_out::ship_notice_in_tx(conn, ctx, shipment_id)?;
    // Without a carrier o2c knows neither tracking nor delivery date: the customer's e-mail
    // waits for shipping to be set up (or the warehouse to give a tracking number).
    if assigned.is_some() || tracking.is_some() {
        shipping::delivery::notify_in_tx(conn, ctx, shipment_id, Stage::Dispatched)?;
    }
    get(conn, shipment_id)
}

/// Cancelling an order cancels its shipments that have not left.
pub fn cancel_planned_in_tx(conn: &mut dyn Conn, order_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE shipments SET status = 'cancelled' WHERE order_id = $1 AND status IN ('planned', 'picking', 'packed')",
        params![order_id],
    )?;
    Ok(())
}
