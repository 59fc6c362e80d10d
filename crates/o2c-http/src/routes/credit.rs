use super::{ListQuery, body_or_default, idempotent_write, ok};
use crate::extract::{AnyRole, CreditWrite, JsonBody, SalesWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::credit::application::{self, ApplicationDecision, ApplicationRequest};
use o2c_app::credit::profile::{self, CreditGroupRequest, CreditProfileRequest};
use o2c_app::credit::{self, ReviewDecision, ReviewRequest, policy};
use o2c_core::credit::CreditPolicy;

/// The credit analyst's queue.
pub async fn holds(State(s): State<ApiState>, _: Staff<CreditWrite>) -> ApiResult<Response> {
    ok(&s.app.read(|c| credit::holds(c, 500)).await?)
}

/// One hold with everything needed to decide it.
pub async fn hold(
    State(s): State<ApiState>,
    _: Staff<CreditWrite>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let today = s.app.today();
    ok(&s
        .app
        .read(move |c| credit::hold_snapshot(c, &id, today))
        .await?)
}

pub async fn decisions(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| {
            o2c_app::order::get(c, &id)?;
            credit::decisions(c, &id)
        })
        .await?)
}

async fn review(
    s: ApiState,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    id: String,
    raw: Bytes,
    decision: ReviewDecision,
) -> ApiResult<Response> {
    let r: ReviewRequest = body_or_default(&raw)?;
    let path = format!("POST /api/v1/orders/{id}/credit-{decision:?}");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| match (decision, &r.new_limit) {
            (ReviewDecision::Approve, Some(limit)) => {
                credit::raise_limit_and_release_in_tx(c, ctx, &id, limit, r.comment.as_deref())
            }
            _ => credit::review_in_tx(c, ctx, &id, decision, r.comment.as_deref()),
        },
    )
    .await
}

/// Release a hold; with `new_limit`, raise the limit first.
pub async fn release(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    review(s, staff, headers, id, raw, ReviewDecision::Approve).await
}

pub async fn reject(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    review(s, staff, headers, id, raw, ReviewDecision::Reject).await
}

pub async fn get_policy(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(policy::get).await?)
}

/// A new version of the rules; decisions from now on name it.
pub async fn set_policy(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    body: JsonBody<CreditPolicy>,
) -> ApiResult<Response> {
    let p = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "PUT /api/v1/credit/policy",
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| policy::set_in_tx(c, ctx, &p),
    )
    .await
}

pub async fn get_profile(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| profile::get(c, &id)).await?)
}

pub async fn set_profile(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<CreditProfileRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("PUT /api/v1/customers/{id}/credit");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| profile::update_in_tx(c, ctx, &id, &r),
    )
    .await
}

pub async fn create_group(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    body: JsonBody<CreditGroupRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/credit/groups",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| profile::create_group_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn get_group(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| profile::get_group(c, &id)).await?)
}

/// A prospective customer applies for terms (sales enters it; the portal later).
pub async fn apply(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    body: JsonBody<ApplicationRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/credit-applications",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| application::submit_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn applications(
    State(s): State<ApiState>,
    _: Staff<CreditWrite>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = q.limit();
    ok(&s
        .app
        .read(move |c| application::list(c, q.status.as_deref(), limit))
        .await?)
}

pub async fn get_application(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| application::get(c, &id)).await?)
}

async fn decide_application(
    s: ApiState,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    id: String,
    raw: Bytes,
    approve: bool,
) -> ApiResult<Response> {
    let d: ApplicationDecision = body_or_default(&raw)?;
    let path = format!("POST /api/v1/credit/applications/{id}/{approve}");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| application::decide_in_tx(c, ctx, &id, approve, &d),
    )
    .await
}

pub async fn approve_application(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    decide_application(s, staff, headers, id, raw, true).await
}

pub async fn reject_application(
    State(s): State<ApiState>,
    staff: Staff<CreditWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    decide_application(s, staff, headers, id, raw, false).await
}
