use super::{idempotent_write, ok};
use crate::extract::{CreditWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::credit::{self, ReviewDecision, ReviewRequest};

/// The credit analyst's queue.
pub async fn holds(State(s): State<ApiState>, _: Staff<CreditWrite>) -> ApiResult<Response> {
    ok(&s.app.read(|c| credit::holds(c, 500)).await?)
}

async fn review(
    s: ApiState,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    id: String,
    raw: axum::body::Bytes,
    decision: ReviewDecision,
) -> ApiResult<Response> {
    let r: ReviewRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        ReviewRequest { comment: None }
    } else {
        crate::extract::parse_json(&raw)?
    };
    let path = format!("POST /api/v1/orders/{id}/credit-{decision:?}");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| credit::review_in_tx(c, ctx, &id, decision, r.comment.as_deref()),
    )
    .await
}

pub async fn release(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    review(s, staff, headers, id, raw, ReviewDecision::Approve).await
}

pub async fn reject(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    review(s, staff, headers, id, raw, ReviewDecision::Reject).await
}
