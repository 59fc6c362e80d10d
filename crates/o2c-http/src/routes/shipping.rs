//! Shipping: carriers with their services and rates, a shipment's offers, the carrier's
//! signed tracking webhook.

use super::{idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, Staff, WarehouseWrite};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::shipping::{self, CarrierRequest, delivery};
use o2c_core::Actor;

pub async fn create_carrier(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    body: JsonBody<CarrierRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/carriers",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| shipping::create_carrier_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn list_carriers(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(shipping::list).await?)
}

/// `GET /shipments/{id}/rates`: every service that can carry it, priced; the one the rule
/// would choose is marked.
pub async fn rates(
    State(s): State<ApiState>,
    staff: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = s.app.ctx(staff.actor);
    ok(&s.app.read(move |c| shipping::options(c, &ctx, &id)).await?)
}

/// `POST /carriers/{code}/webhooks`: tracking events, signed with the carrier's secret.
pub async fn carrier_webhook(
    State(s): State<ApiState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> ApiResult<Response> {
    let signature = headers
        .get("o2c-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let receipt = s
        .app
        .write(Actor::Rule("carrier.webhook"), move |c, ctx| {
            delivery::receive_webhook_in_tx(c, ctx, &code, signature.as_deref(), &raw)
        })
        .await?;
    ok(&receipt)
}
