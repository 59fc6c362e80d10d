//! Bank statements in, cash application runs, and the exceptions queue.

use super::{idempotent_write, ok};
use crate::extract::{AdminOnly, AnyRole, JsonBody, ReceivablesWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use o2c_app::cash::exceptions::{self, SplitRequest};
use o2c_app::cash::{self, CashPolicy, import, run};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Parse and show the statements; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Run cash application right after the import (default true).
    #[serde(default)]
    pub apply: Option<bool>,
}

#[derive(Debug, Serialize)]
struct ImportResponse {
    import: import::ImportReport,
    matching: Option<run::MatchReport>,
}

/// `POST /api/v1/bank-statements`: the file as the body (camt XML, MT940, BAI2, or CSV with the
/// saved mapping). A statement imported before changes nothing; a malformed file is refused whole.
pub async fn import_statement(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    if q.dry_run {
        let statements = s.app.read(move |c| import::parse(c, &body)).await?;
        return ok(&statements);
    }
    let actor = staff.actor.clone();
    let report = s
        .app
        .write(staff.actor, move |c, ctx| {
            import::import_in_tx(c, ctx, &body, "api")
        })
        .await?;
    let matching = match q.apply.unwrap_or(true) {
        true => Some(run::run(&s.app, actor).await?),
        false => None,
    };
    let status = if report.new_lines > 0 || report.statements.iter().any(|r| !r.duplicate) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(ImportResponse {
            import: report,
            matching,
        }),
    )
        .into_response())
}

/// `POST /api/v1/remittances`: an X12 820 or CSV remittance advice file as the body.
pub async fn import_remittance(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    body: Bytes,
) -> ApiResult<Response> {
    let report = s
        .app
        .write(staff.actor, move |c, ctx| {
            o2c_app::cash::remittance::import_in_tx(c, ctx, &body, "api")
        })
        .await?;
    let status = if report.advices > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(report)).into_response())
}

/// `POST /api/v1/cash/runs`: match every waiting bank line now.
pub async fn run_matching(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
) -> ApiResult<Response> {
    ok(&run::run(&s.app, staff.actor).await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinesQuery {
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// `GET /api/v1/bank-lines?status=exception`: the exceptions queue (or lines in another state).
pub async fn list_lines(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<LinesQuery>,
) -> ApiResult<Response> {
    let status = q.status.unwrap_or_else(|| "exception".into());
    let (limit, offset) = (
        q.limit.unwrap_or(100).clamp(1, 1000),
        q.offset.unwrap_or(0).max(0),
    );
    ok(&s
        .app
        .read(move |c| exceptions::list(c, &status, limit, offset))
        .await?)
}

pub async fn get_line(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| exceptions::get(c, &id)).await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// Index into the line's `suggestions` (0 = the best).
    #[serde(default)]
    pub suggestion: usize,
}

pub async fn accept(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<AcceptRequest>,
) -> ApiResult<Response> {
    let index = body.value.suggestion;
    let path = format!("POST /api/v1/bank-lines/{id}/accept");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| exceptions::accept_in_tx(c, ctx, &id, index),
    )
    .await
}

pub async fn split(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<SplitRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("POST /api/v1/bank-lines/{id}/split");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| exceptions::split_in_tx(c, ctx, &id, &r),
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotOursRequest {
    pub reason: String,
}

pub async fn not_ours(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<NotOursRequest>,
) -> ApiResult<Response> {
    let reason = body.value.reason;
    let path = format!("POST /api/v1/bank-lines/{id}/not-ours");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| exceptions::not_ours_in_tx(c, ctx, &id, &reason),
    )
    .await
}

/// `GET /api/v1/customers/{id}/notifications`: receipts and notices sent (or waiting) to them.
pub async fn customer_notifications(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| o2c_app::notify::for_customer(c, &id))
        .await?)
}

pub async fn get_policy(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(cash::policy).await?)
}

pub async fn set_policy(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    body: JsonBody<CashPolicy>,
) -> ApiResult<Response> {
    let p = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            cash::set_policy_in_tx(c, ctx, p.clone())
        })
        .await?)
}

pub async fn set_csv_mapping(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    body: JsonBody<o2c_bank::CsvMapping>,
) -> ApiResult<Response> {
    let m = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            cash::set_csv_mapping_in_tx(c, ctx, m.clone())
        })
        .await?)
}
