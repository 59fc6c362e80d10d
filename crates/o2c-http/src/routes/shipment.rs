use super::{ListQuery, ok};
use crate::extract::{AnyRole, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
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
