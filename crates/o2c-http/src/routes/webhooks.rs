//! Outgoing webhooks (admin): endpoints, their deliveries, the dead-letter list and replay.

use super::{ListQuery, idempotent_write, ok};
use crate::extract::{AdminOnly, JsonBody, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::webhooks::{self, NewEndpoint};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    pub url: String,
    /// Event types such as `order.received`, `invoice.paid`; `["*"]` for all.
    pub event_types: Vec<String>,
}

/// `POST /api/v1/webhooks`: the answer holds the signing secret, once.
pub async fn create(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    headers: HeaderMap,
    body: JsonBody<EndpointRequest>,
) -> ApiResult<Response> {
    let new = NewEndpoint::parse(&body.value.url, &body.value.event_types)
        .map_err(o2c_app::AppError::from)?;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/webhooks",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| webhooks::create_in_tx(c, ctx, &new),
    )
    .await
}

pub async fn list(State(s): State<ApiState>, _: Staff<AdminOnly>) -> ApiResult<Response> {
    ok(&s.app.read(webhooks::list).await?)
}

/// `DELETE /api/v1/webhooks/{id}`: nothing more is sent to it; its deliveries stay on record.
pub async fn remove(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let path = format!("DELETE /api/v1/webhooks/{id}");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        b"",
        false,
        StatusCode::OK,
        move |c, ctx| webhooks::remove_in_tx(c, ctx, &id),
    )
    .await
}

/// `GET /api/v1/webhooks/deliveries?status=dead`: the dead-letter list (or any other status).
pub async fn deliveries(
    State(s): State<ApiState>,
    _: Staff<AdminOnly>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = q.limit();
    ok(&s
        .app
        .read(move |c| webhooks::deliveries(c, q.status.as_deref(), None, limit))
        .await?)
}

/// `POST /api/v1/webhooks/deliveries/{id}/replay`: a dead delivery goes back in the queue.
pub async fn replay(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let path = format!("POST /api/v1/webhooks/deliveries/{id}/replay");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        b"",
        false,
        StatusCode::OK,
        move |c, ctx| webhooks::replay_in_tx(c, ctx, &id),
    )
    .await
}
