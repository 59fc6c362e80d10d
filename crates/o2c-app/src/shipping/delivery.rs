//! Delivery confirmed: by a person (`POST /shipments/{id}/delivered`) or by the carrier's
//! tracking webhook, signed with the carrier's secret (HMAC-SHA256 over `timestamp.body`, the
//! same scheme o2c signs its own webhooks with) and recorded by event id, so a re-sent event
//! changes nothing. And the e-mails that tell the customer where the goods are.

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::notify::{self, Notice};
use crate::shipment::{self, Shipment};
use o2c_core::DomainError;
use o2c_core::shipment::{ShipmentAction, ShipmentStatus};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How old a signed webhook may be.
pub const WEBHOOK_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveredRequest {
    /// When the customer received it (RFC 3339); now if absent.
    #[serde(default)]
    pub delivered_at: Option<String>,
}

/// Marks a dispatched shipment delivered. Confirming it again returns it as it is.
pub fn deliver_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
    r: &DeliveredRequest,
) -> Result<Shipment> {
    let sql = format!(
        "SELECT status, order_id, customer_id FROM shipments WHERE id = $1{}",
        conn.for_update()
    );
    let row = conn
        .query_opt(&sql, params![shipment_id])?
        .ok_or_else(|| not_found("shipment", shipment_id))?;
    let status = ShipmentStatus::parse(&row.text(0))
        .ok_or_else(|| AppError::Internal("unknown shipment status".into()))?;
    if status == ShipmentStatus::Delivered {
        return shipment::get(conn, shipment_id);
    }
    let next = status.transition(shipment_id, ShipmentAction::Deliver)?;
    let at = match r.delivered_at.as_deref() {
        None => ctx.timestamp(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|_| {
                DomainError::invalid(
                    "delivered_at",
                    "expected an RFC 3339 time such as 2026-11-23T14:05:00Z",
                )
            })?
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    };
    conn.execute(
        "UPDATE shipments SET status = $2, delivered_at = $3 WHERE id = $1",
        params![shipment_id, next.as_str(), at.as_str()],
    )?;
    let (order_id, customer_id) = (row.text(1), row.text(2));
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ShipmentDelivered,
            aggregate_type: "shipment",
            aggregate_id: shipment_id,
            order_id: Some(&order_id),
            customer_id: Some(&customer_id),
            data: json!({"delivered_at": at}),
        },
    )?;
    notify_in_tx(conn, ctx, shipment_id, Stage::Delivered)?;
    shipment::get(conn, shipment_id)
}

#[derive(Debug, Clone, Deserialize)]
pub struct TrackingEvent {
    pub event_id: String,
    pub tracking_number: String,
    /// `delivered` confirms delivery; other statuses (`in_transit`, `out_for_delivery`…) are
    /// recorded and answered, nothing else.
    pub status: String,
    #[serde(default)]
    pub occurred_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebhookReceipt {
    pub event_id: String,
    pub duplicate: bool,
    pub shipment_id: Option<String>,
    pub shipment_status: Option<String>,
}

/// The carrier's tracking webhook: `O2C-Signature: t=<unix seconds>,v1=<hex>`.
pub fn receive_webhook_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    carrier_code: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<WebhookReceipt> {
    let carrier = conn
        .query_opt(
            "SELECT id, webhook_secret FROM carriers WHERE code = $1",
            params![carrier_code.trim().to_ascii_uppercase()],
        )?
        .ok_or_else(|| not_found("carrier", carrier_code))?;
    verify(
        signature,
        carrier.text(1).as_bytes(),
        body,
        ctx.now.timestamp(),
    )?;
    let ev: TrackingEvent = serde_json::from_slice(body).map_err(|e| {
        DomainError::invalid(
            "body",
            format!("expected {{event_id, tracking_number, status, occurred_at}}: {e}"),
        )
    })?;
    let fresh = conn.execute(
        "INSERT INTO carrier_webhook_events (carrier_id, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![carrier.text(0), ev.event_id.as_str(), ctx.timestamp()],
    )? == 1;
    let shipment_id = conn
        .query_opt(
            "SELECT s.id FROM shipments s JOIN carrier_services v ON v.id = s.service_id
             WHERE s.tracking_number = $1 AND v.carrier_id = $2",
            params![ev.tracking_number.as_str(), carrier.text(0)],
        )?
        .map(|r| r.text(0))
        .ok_or_else(|| not_found("shipment with tracking number", &ev.tracking_number))?;
    if fresh && ev.status == "delivered" {
        deliver_in_tx(
            conn,
            ctx,
            &shipment_id,
            &DeliveredRequest {
                delivered_at: ev.occurred_at.clone(),
            },
        )?;
    }
    let status = shipment::get(conn, &shipment_id)?.status;
    Ok(WebhookReceipt {
        event_id: ev.event_id,
        duplicate: !fresh,
        shipment_id: Some(shipment_id),
        shipment_status: Some(status),
    })
}

fn verify(header: Option<&str>, secret: &[u8], body: &[u8], now: i64) -> Result<()> {
    let bad = |why: &str| AppError::from(DomainError::WebhookSignatureInvalid(why.to_string()));
    let header = header.ok_or_else(|| bad("no O2C-Signature header"))?;
    let t = header
        .split(',')
        .find_map(|p| p.trim().strip_prefix("t="))
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| bad("the signature has no timestamp t="))?;
    if (now - t).abs() > WEBHOOK_TOLERANCE_SECS {
        return Err(bad("the signature is more than five minutes old"));
    }
    let expected = crate::webhooks::sign(secret, t, body);
    let (a, b) = (expected.as_bytes(), header.trim().as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if !same {
        return Err(bad("the signature does not match the body"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Dispatched,
    Delivered,
}

/// Queues the customer's e-mail about a shipment: on its way (carrier, tracking, expected day)
/// or delivered. One per shipment and stage.
pub(crate) fn notify_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
    stage: Stage,
) -> Result<bool> {
    let s = shipment::get(conn, shipment_id)?;
    let order = conn.query_one(
        "SELECT o.customer_reference, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
        params![s.order_id.as_str()],
    )?;
    let reference = order
        .opt_text(0)
        .map(|r| format!(" (your reference {r})"))
        .unwrap_or_default();
    let mut body = format!("Dear {},\n\n", order.text(1));
    let (kind, subject) = match stage {
        Stage::Dispatched => {
            body.push_str(&format!(
                "your order {}{reference} is on its way.\n\n",
                s.order_id
            ));
            if let Some(service) = &s.service {
                body.push_str(&format!("Carrier: {service}\n"));
            }
            if let Some(t) = &s.tracking_number {
                body.push_str(&format!("Tracking number: {t}\n"));
            }
            if let Some(d) = &s.estimated_delivery_on {
                body.push_str(&format!("Expected delivery: {d}\n"));
            }
            (
                "shipment_dispatched",
                format!("Your order {} has shipped", s.order_id),
            )
        }
        Stage::Delivered => {
            body.push_str(&format!(
                "your order {}{reference} was delivered{}.\n\n",
                s.order_id,
                s.delivered_at
                    .as_deref()
                    .map(|d| format!(" on {}", &d[..10.min(d.len())]))
                    .unwrap_or_default()
            ));
            (
                "shipment_delivered",
                format!("Your order {} was delivered", s.order_id),
            )
        }
    };
    body.push_str("It contains:\n");
    for l in &s.lines {
        body.push_str(&format!("  {} x {}\n", l.quantity, l.sku));
    }
    body.push_str("\nKind regards\nCustomer service\n");
    notify::queue_in_tx(
        conn,
        ctx,
        &Notice {
            customer_id: &s.customer_id,
            kind,
            dedupe_key: &format!("{kind}:{shipment_id}"),
            subject: &subject,
            body: &body,
        },
    )
}
