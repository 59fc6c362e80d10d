//! Receivables: aging, disputes, promises to pay, contact notes, dunning, write-offs, the
//! collections worklist, key figures and statements of account.

use super::ok;
use crate::extract::{ReceivablesRead, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use o2c_app::AppError;
use o2c_app::receivable::aging::{self, AgingQuery};
use o2c_core::DomainError;
use o2c_core::receivable::{AgingBasis, AgingBuckets};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgingParams {
    pub as_of: Option<String>,
    pub basis: Option<String>,
    pub buckets: Option<String>,
    pub customer_id: Option<String>,
    #[serde(default)]
    pub items: bool,
    #[serde(default)]
    pub totals_only: bool,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn parse_date(field: &str, s: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        DomainError::invalid(field, format!("`{s}`: expected a date such as 2026-11-30")).into()
    })
}

/// `GET /reports/aging`: per customer and in total, by due or invoice date, as of any day.
pub async fn aging_report(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(p): Query<AgingParams>,
) -> ApiResult<Response> {
    let as_of = match &p.as_of {
        Some(d) => parse_date("as_of", d)?,
        None => s.app.today(),
    };
    let mut q = AgingQuery::new(as_of);
    q.today = s.app.today();
    if let Some(b) = &p.basis {
        q.basis = AgingBasis::parse(b).map_err(AppError::from)?;
    }
    if let Some(b) = &p.buckets {
        q.buckets = AgingBuckets::parse(b).map_err(AppError::from)?;
    }
    q.customer_id = p.customer_id.clone();
    q.items = p.items;
    q.totals_only = p.totals_only;
    let csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(AppError::from(DomainError::invalid(
                "format",
                format!("`{other}`: expected json or csv"),
            ))
            .into());
        }
    };
    let report = s.app.read(move |c| aging::report(c, &q)).await?;
    if csv {
        let mut resp = aging::to_csv(&report).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(resp);
    }
    ok(&report)
}

// ----- disputes, promises, notes, tasks -----

use super::idempotent_write;
use crate::extract::{JsonBody, ReceivablesWrite};
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use o2c_app::receivable::{disputes, notes, promises};

/// A receivables `POST`: honours an `Idempotency-Key` when one is sent.
async fn post<T, F>(
    s: &ApiState,
    staff: Staff<ReceivablesWrite>,
    headers: &HeaderMap,
    path: String,
    raw: &[u8],
    status: StatusCode,
    work: F,
) -> ApiResult<Response>
where
    T: serde::Serialize,
    F: FnMut(&mut dyn o2c_app::Conn, &o2c_app::Ctx) -> o2c_app::Result<T> + Send + 'static,
{
    idempotent_write(
        s,
        staff.actor,
        headers,
        &format!("POST {path}"),
        raw,
        false,
        status,
        work,
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub limit: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn raise_dispute(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    body: JsonBody<disputes::RaiseDispute>,
) -> ApiResult<Response> {
    let r = body.value;
    post(
        &s,
        staff,
        &headers,
        "/api/v1/disputes".into(),
        &body.raw,
        StatusCode::CREATED,
        move |c, ctx| disputes::raise_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn list_disputes(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    ok(&s
        .app
        .read(move |c| disputes::list(c, p.status.as_deref(), p.customer_id.as_deref(), limit))
        .await?)
}

pub async fn get_dispute(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| disputes::get(c, &id)).await?)
}

pub async fn review_dispute(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<disputes::Assign>,
) -> ApiResult<Response> {
    let r = body.value;
    post(
        &s,
        staff,
        &headers,
        format!("/api/v1/disputes/{id}/review"),
        &body.raw,
        StatusCode::OK,
        move |c, ctx| disputes::review_in_tx(c, ctx, &id, &r),
    )
    .await
}

pub async fn resolve_dispute(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<disputes::Resolution>,
) -> ApiResult<Response> {
    let r = body.value;
    post(
        &s,
        staff,
        &headers,
        format!("/api/v1/disputes/{id}/resolve"),
        &body.raw,
        StatusCode::OK,
        move |c, ctx| disputes::resolve_in_tx(c, ctx, &id, &r),
    )
    .await
}

/// `GET /reports/disputes`: root causes (count, outcome, amount, cycle time) per reason.
pub async fn dispute_report(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| disputes::root_causes(c, p.from.as_deref(), p.to.as_deref()))
        .await?)
}

pub async fn make_promise(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    body: JsonBody<promises::NewPromise>,
) -> ApiResult<Response> {
    let r = body.value;
    post(
        &s,
        staff,
        &headers,
        "/api/v1/promises".into(),
        &body.raw,
        StatusCode::CREATED,
        move |c, ctx| promises::make_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn list_promises(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| promises::list(c, p.customer_id.as_deref(), p.status.as_deref()))
        .await?)
}

/// `POST /promises/check`: settle promises now (the daily run does it too).
pub async fn check_promises(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
) -> ApiResult<Response> {
    ok(&s.app.write(staff.actor, promises::check_in_tx).await?)
}

pub async fn add_note(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<notes::NewNote>,
) -> ApiResult<Response> {
    let r = body.value;
    post(
        &s,
        staff,
        &headers,
        format!("/api/v1/customers/{id}/notes"),
        &body.raw,
        StatusCode::CREATED,
        move |c, ctx| notes::add_in_tx(c, ctx, &id, &r),
    )
    .await
}

pub async fn list_notes(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| notes::list(c, &id)).await?)
}

pub async fn list_tasks(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| notes::tasks(c, p.customer_id.as_deref(), p.status.as_deref()))
        .await?)
}

pub async fn complete_task(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            notes::complete_task_in_tx(c, ctx, &id)?;
            notes::tasks(c, None, None).map(|t| t.into_iter().find(|x| x.id == id))
        })
        .await?)
}
