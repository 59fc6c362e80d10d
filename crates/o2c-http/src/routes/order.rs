use super::{ListQuery, body_or_default, idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, SalesWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::{event, order};
use serde::Deserialize;

/// `POST /api/v1/orders`: needs an `Idempotency-Key`; 201 means the order is on disk.
pub async fn place(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    body: JsonBody<order::OrderRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/orders",
        &body.raw,
        true,
        StatusCode::CREATED,
        move |c, ctx| order::place_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn get(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| order::get(c, &id)).await?)
}

pub async fn list(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = q.limit();
    ok(&s
        .app
        .read(move |c| order::list(c, q.status.as_deref(), q.customer_id.as_deref(), limit))
        .await?)
}

/// The audit trail: who or what did each step, and when.
pub async fn events(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let events = s
        .app
        .read(move |c| {
            order::get(c, &id)?;
            event::for_order(c, &id)
        })
        .await?;
    ok(&events)
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

pub async fn cancel(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let r: CancelRequest = body_or_default(&raw)?;
    let path = format!("POST /api/v1/orders/{id}/cancel");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| order::cancel_in_tx(c, ctx, &id, r.reason.as_deref()),
    )
    .await
}

/// Change quantities or prices before dispatch; the order goes through credit again.
pub async fn amend(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<order::AmendRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("POST /api/v1/orders/{id}/amend");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| order::amend_in_tx(c, ctx, &id, &r),
    )
    .await
}

/// Take up a cancelled or rejected order again; it goes through credit again.
pub async fn reopen(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let r: CancelRequest = body_or_default(&raw)?;
    let path = format!("POST /api/v1/orders/{id}/reopen");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| order::reopen_in_tx(c, ctx, &id, r.reason.as_deref()),
    )
    .await
}

/// A new order with the same lines; checked like any new order.
pub async fn copy(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let path = format!("POST /api/v1/orders/{id}/copy");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| order::copy_in_tx(c, ctx, &id),
    )
    .await
}
