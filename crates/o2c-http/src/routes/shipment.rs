use super::{ListQuery, idempotent_write, ok};
use crate::extract::{AnyRole, Staff, WarehouseWrite};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::shipment;

pub async fn list(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = q.limit();
    ok(&s
        .app
        .read(move |c| shipment::list(c, q.status.as_deref(), q.order_id.as_deref(), limit))
        .await?)
}

pub async fn get(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| shipment::get(c, &id)).await?)
}

/// The goods left the warehouse; the engine invoices them.
pub async fn dispatch(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let path = format!("POST /api/v1/shipments/{id}/dispatch");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| shipment::dispatch_in_tx(c, ctx, &id),
    )
    .await
}
