use super::{ListQuery, ok};
use crate::extract::{AnyRole, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Query, State};
use axum::response::Response;
use o2c_app::invoice;

pub async fn list(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = q.limit();
    ok(&s
        .app
        .read(move |c| invoice::list(c, q.customer_id.as_deref(), q.order_id.as_deref(), limit))
        .await?)
}
