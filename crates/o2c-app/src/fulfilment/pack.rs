//! Packing: a shipment's lines go into packages, each weighed from its products' unit weights
//! plus the packaging (tare). On dispatch, what was not packed stays behind on a new planned
//! shipment from the same warehouse: a partial shipment, with the rest still reserved.

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::shipment::{self, Shipment};
use o2c_core::DomainError;
use o2c_core::id::{PackageId, ShipmentId};
use o2c_core::shipment::{ShipmentAction, ShipmentStatus};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRequest {
    pub packages: Vec<PackageRequest>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageRequest {
    pub lines: Vec<PackLineRequest>,
    /// The carton or pallet itself, in grams.
    #[serde(default)]
    pub tare_g: Option<i64>,
    /// The carrier's package number, when the label is printed before dispatch.
    #[serde(default)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackLineRequest {
    pub line_no: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub id: String,
    pub weight_g: i64,
    pub tracking_number: Option<String>,
    pub lines: Vec<PackedLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackedLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
}

/// Per order line of the shipment: (reserved for it here, unit weight in grams, already packed).
fn shipment_lines(
    conn: &mut dyn Conn,
    shipment_id: &str,
) -> Result<BTreeMap<i64, (i64, i64, i64)>> {
    let mut out: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for r in conn.query(
        "SELECT r.line_no, CAST(SUM(r.quantity) AS BIGINT), MAX(p.weight_g) FROM reservations r
         JOIN products p ON p.id = r.product_id WHERE r.shipment_id = $1 GROUP BY r.line_no",
        params![shipment_id],
    )? {
        out.insert(r.int(0), (r.int(1), r.int(2), 0));
    }
    for r in packed_per_line(conn, shipment_id)? {
        if let Some(e) = out.get_mut(&r.0) {
            e.2 = r.1;
        }
    }
    Ok(out)
}

fn packed_per_line(conn: &mut dyn Conn, shipment_id: &str) -> Result<Vec<(i64, i64)>> {
    Ok(conn
        .query(
            "SELECT pl.line_no, CAST(SUM(pl.quantity) AS BIGINT) FROM packages k
             JOIN package_lines pl ON pl.package_id = k.id WHERE k.shipment_id = $1 GROUP BY pl.line_no",
            params![shipment_id],
        )?
        .iter()
        .map(|r| (r.int(0), r.int(1)))
        .collect())
}

/// Adds packages to a shipment still in the warehouse; never more of a line than it carries.
pub fn pack_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
    r: &PackRequest,
) -> Result<Shipment> {
    let (status, order_id, customer_id) = lock(conn, shipment_id)?;
    let next = status.transition(shipment_id, ShipmentAction::Pack)?;
    if r.packages.is_empty() {
        return Err(DomainError::invalid("packages", "expected at least one package").into());
    }
    let mut lines = shipment_lines(conn, shipment_id)?;
    let mut added = Vec::new();
    for (i, p) in r.packages.iter().enumerate() {
        if p.lines.is_empty() {
            return Err(DomainError::invalid(
                format!("packages[{i}].lines"),
                "expected at least one line",
            )
            .into());
        }
        let tare = p.tare_g.unwrap_or(0);
        if !(0..=10_000_000).contains(&tare) {
            return Err(DomainError::invalid(
                format!("packages[{i}].tare_g"),
                "expected grams from 0 to 10000000",
            )
            .into());
        }
        let tracking = clean_tracking(
            p.tracking_number.as_deref(),
            &format!("packages[{i}].tracking_number"),
        )?;
        let mut weight = tare;
        for (j, l) in p.lines.iter().enumerate() {
            if l.quantity <= 0 {
                return Err(DomainError::invalid(
                    format!("packages[{i}].lines[{j}].quantity"),
                    "must be greater than zero",
                )
                .into());
            }
            let Some((reserved, unit_g, packed)) = lines.get_mut(&l.line_no) else {
                return Err(DomainError::PackingExceedsShipment(format!(
                    "packages[{i}].lines[{j}]: order line {} is not in shipment {shipment_id}",
                    l.line_no
                ))
                .into());
            };
            if *packed + l.quantity > *reserved {
                return Err(DomainError::PackingExceedsShipment(format!(
                    "packages[{i}].lines[{j}]: order line {} carries {reserved} here, {packed} already packed; {} more do not fit",
                    l.line_no, l.quantity
                ))
                .into());
            }
            *packed += l.quantity;
            weight += l.quantity * *unit_g;
        }
        let id = PackageId::generate(ctx.ids.as_ref());
        conn.execute(
            "INSERT INTO packages (id, shipment_id, customer_id, weight_g, tracking_number, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            params![id.as_str(), shipment_id, customer_id.as_str(), weight, tracking.as_deref(), ctx.timestamp()],
        )?;
        let rows: Vec<Vec<Value>> = merge_lines(&p.lines)
            .into_iter()
            .map(|(line_no, q)| {
                vec![
                    Value::from(id.as_str()),
                    Value::from(line_no),
                    Value::from(q),
                ]
            })
            .collect();
        conn.insert_rows(
            "package_lines",
            &["package_id", "line_no", "quantity"],
            &rows,
        )?;
        added.push(json!({"id": id.as_str(), "weight_g": weight}));
    }
    conn.execute(
        "UPDATE shipments SET status = $2, weight_g = (SELECT CAST(SUM(weight_g) AS BIGINT) FROM packages WHERE shipment_id = $1) WHERE id = $1",
        params![shipment_id, next.as_str()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ShipmentPacked,
            aggregate_type: "shipment",
            aggregate_id: shipment_id,
            order_id: Some(&order_id),
            customer_id: Some(&customer_id),
            data: json!({"packages": added}),
        },
    )?;
    shipment::get(conn, shipment_id)
}

fn merge_lines(lines: &[PackLineRequest]) -> BTreeMap<i64, i64> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(l.line_no).or_insert(0) += l.quantity;
    }
    m
}

pub(crate) fn clean_tracking(t: Option<&str>, field: &str) -> Result<Option<String>> {
    match t.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Ok(Some(t.to_string()))
        }
        Some(_) => {
            Err(DomainError::invalid(field, "expected 1 to 64 letters, digits or dashes").into())
        }
    }
}

fn lock(conn: &mut dyn Conn, shipment_id: &str) -> Result<(ShipmentStatus, String, String)> {
    let sql = format!(
        "SELECT status, order_id, customer_id FROM shipments WHERE id = $1{}",
        conn.for_update()
    );
    let r = conn
        .query_opt(&sql, params![shipment_id])?
        .ok_or_else(|| not_found("shipment", shipment_id))?;
    let status = ShipmentStatus::parse(&r.text(0))
        .ok_or_else(|| AppError::Internal("unknown shipment status".into()))?;
    Ok((status, r.text(1), r.text(2)))
}

pub fn packages(conn: &mut dyn Conn, shipment_id: &str) -> Result<Vec<Package>> {
    let rows = conn.query(
        "SELECT k.id, k.weight_g, k.tracking_number, pl.line_no, l.sku, pl.quantity FROM packages k
         JOIN package_lines pl ON pl.package_id = k.id
         JOIN shipments s ON s.id = k.shipment_id
         JOIN order_lines l ON l.order_id = s.order_id AND l.line_no = pl.line_no
         WHERE k.shipment_id = $1 ORDER BY k.created_at, k.id, pl.line_no",
        params![shipment_id],
    )?;
    let mut out: Vec<Package> = Vec::new();
    for r in &rows {
        let line = PackedLine {
            line_no: r.int(3),
            sku: r.text(4),
            quantity: r.int(5),
        };
        match out.last_mut() {
            Some(p) if p.id == r.text(0) => p.lines.push(line),
            _ => out.push(Package {
                id: r.text(0),
                weight_g: r.int(1),
                tracking_number: r.opt_text(2),
                lines: vec![line],
            }),
        }
    }
    Ok(out)
}

/// Before a packed shipment leaves: what is reserved for it but not packed moves to a new
/// planned shipment (same order and warehouse, reservations still open). Returns that
/// shipment, or `None` when everything is packed or nothing was (then everything ships).
pub(crate) fn split_unpacked_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
) -> Result<Option<String>> {
    let packed: BTreeMap<i64, i64> = packed_per_line(conn, shipment_id)?.into_iter().collect();
    if packed.is_empty() {
        return Ok(None);
    }
    let rows = conn.query(
        "SELECT seq, line_no, quantity, order_id, customer_id, product_id, warehouse_id FROM reservations
         WHERE shipment_id = $1 AND status = 'open' ORDER BY line_no, seq",
        params![shipment_id],
    )?;
    let mut left = packed.clone();
    let mut moves: Vec<(i64, i64, i64)> = Vec::new(); // (seq, keep, move)
    for r in &rows {
        let take = left.get(&r.int(1)).copied().unwrap_or(0).min(r.int(2));
        if let Some(l) = left.get_mut(&r.int(1)) {
            *l -= take;
        }
        if take < r.int(2) {
            moves.push((r.int(0), take, r.int(2) - take));
        }
    }
    if moves.is_empty() {
        return Ok(None);
    }
    let first = &rows[0];
    let (order_id, customer_id, warehouse_id) = (first.text(3), first.text(4), first.text(6));
    let new_id = ShipmentId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO shipments (id, order_id, customer_id, warehouse_id, status, created_at) VALUES ($1, $2, $3, $4, 'planned', $5)",
        params![new_id.as_str(), order_id.as_str(), customer_id.as_str(), warehouse_id.as_str(), ctx.timestamp()],
    )?;
    let mut moved = 0;
    for (seq, keep, rest) in &moves {
        moved += rest;
        if *keep == 0 {
            conn.execute(
                "UPDATE reservations SET shipment_id = $2 WHERE seq = $1",
                params![*seq, new_id.as_str()],
            )?;
        } else {
            let r = rows
                .iter()
                .find(|r| r.int(0) == *seq)
                .expect("row of the move");
            conn.execute(
                "UPDATE reservations SET quantity = $2 WHERE seq = $1",
                params![*seq, *keep],
            )?;
            conn.execute(
                "INSERT INTO reservations (order_id, line_no, customer_id, product_id, warehouse_id, quantity, status, shipment_id)
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)",
                params![order_id.as_str(), r.int(1), customer_id.as_str(), r.text(5), warehouse_id.as_str(), *rest, new_id.as_str()],
            )?;
        }
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ShipmentPlanned,
            aggregate_type: "shipment",
            aggregate_id: new_id.as_str(),
            order_id: Some(&order_id),
            customer_id: Some(&customer_id),
            data: json!({"warehouse_id": warehouse_id, "split_from": shipment_id, "quantity": moved}),
        },
    )?;
    Ok(Some(new_id.to_string()))
}
