use super::{ListQuery, idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, SalesWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::customer::{self, CustomerRequest, NewCustomer};

pub async fn create(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    body: JsonBody<CustomerRequest>,
) -> ApiResult<Response> {
    let new = NewCustomer::parse(body.value)?;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/customers",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| customer::create_in_tx(c, ctx, &new),
    )
    .await
}

pub async fn get(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| customer::get(c, &id)).await?)
}

pub async fn account(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| customer::account(c, &id)).await?)
}

pub async fn list(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let (limit, offset) = (q.limit(), q.offset.unwrap_or(0).max(0));
    ok(&s
        .app
        .read(move |c| customer::list(c, limit, offset))
        .await?)
}
