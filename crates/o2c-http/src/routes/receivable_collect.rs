//! Receivables, continued: dunning (profiles, customer settings, runs, notices, waivers),
//! write-offs and recoveries, key figures, the worklist and statements of account.

use super::{idempotent_write, ok};
use crate::extract::{JsonBody, ReceivablesRead, ReceivablesWrite, Staff, WriteOff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use o2c_app::AppError;
use o2c_app::receivable::dunning::{self, CustomerDunning, ProfileRequest, run};
use o2c_app::receivable::{kpis, parse_day, statement, writeoff};

pub async fn list_profiles(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
) -> ApiResult<Response> {
    ok(&s.app.read(dunning::profiles).await?)
}

pub async fn set_profile(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Path(name): Path<String>,
    body: JsonBody<ProfileRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            dunning::set_profile_in_tx(c, ctx, &name, &r)
        })
        .await?)
}

pub async fn get_customer_dunning(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| dunning::customer_settings(c, &id))
        .await?)
}

pub async fn set_customer_dunning(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Path(id): Path<String>,
    body: JsonBody<CustomerDunning>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            dunning::set_customer_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

#[derive(Debug, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default)]
    pub on: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /dunning/runs`: the day's run now (once a day), or a dry run saying who would get what.
pub async fn dunning_run(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let r: RunRequest = super::body_or_default(&body)?;
    let on = match &r.on {
        Some(d) => parse_day("on", d)?,
        None => s.app.today(),
    };
    let dry = r.dry_run;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| run::run_in_tx(c, ctx, on, dry))
        .await?)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    pub invoice_ids: Vec<String>,
}

/// `POST /dunning/notices`: a notice now for the invoices named (each at its next level).
pub async fn dun_invoices(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    body: JsonBody<NoticeRequest>,
) -> ApiResult<Response> {
    let ids = body.value.invoice_ids;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/dunning/notices",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| run::dun_invoices_in_tx(c, ctx, &ids),
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByCustomer {
    pub customer_id: Option<String>,
    pub as_of: Option<String>,
    pub cei_days: Option<i64>,
    pub limit: Option<usize>,
}

pub async fn list_notices(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(q): Query<ByCustomer>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| run::list(c, q.customer_id.as_deref()))
        .await?)
}

pub async fn get_notice(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| run::get(c, &id)).await?)
}

fn pdf_response(bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    resp
}

/// `GET /dunning/notices/{id}/letter.pdf`: the notice as the letter it prints as.
pub async fn notice_pdf(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, _, pdf) = s
        .app
        .read(move |c| dunning::deliver::letter_pdf(c, &id))
        .await?;
    Ok(pdf_response(pdf))
}

pub async fn waive_notice(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| run::waive_in_tx(c, ctx, &id))
        .await?)
}

/// `POST /invoices/{id}/write-off`: within the caller's role's limit.
pub async fn write_off(
    State(s): State<ApiState>,
    staff: Staff<WriteOff>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<writeoff::WriteOffRequest>,
) -> ApiResult<Response> {
    let (r, role) = (body.value, staff.role);
    let path = format!("POST /api/v1/invoices/{id}/write-off");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| writeoff::write_off_in_tx(c, ctx, role, &id, &r),
    )
    .await
}

pub async fn recover(
    State(s): State<ApiState>,
    staff: Staff<WriteOff>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let r: writeoff::RecoveryRequest = super::body_or_default(&body)?;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            writeoff::recover_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

pub async fn list_write_offs(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(q): Query<ByCustomer>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| writeoff::list(c, q.customer_id.as_deref()))
        .await?)
}

fn as_of(s: &ApiState, q: &ByCustomer) -> Result<chrono::NaiveDate, AppError> {
    match &q.as_of {
        Some(d) => parse_day("as_of", d),
        None => Ok(s.app.today()),
    }
}

pub async fn kpi_report(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(q): Query<ByCustomer>,
) -> ApiResult<Response> {
    let day = as_of(&s, &q)?;
    let days = q.cei_days.unwrap_or(30);
    ok(&s.app.read(move |c| kpis::kpis(c, day, days)).await?)
}

pub async fn worklist(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(q): Query<ByCustomer>,
) -> ApiResult<Response> {
    let day = as_of(&s, &q)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    ok(&s.app.read(move |c| kpis::worklist(c, day, limit)).await?)
}

pub async fn get_statement(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
    Query(q): Query<ByCustomer>,
) -> ApiResult<Response> {
    let day = as_of(&s, &q)?;
    ok(&s.app.read(move |c| statement::build(c, &id, day)).await?)
}

pub async fn statement_pdf(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Path(id): Path<String>,
    Query(q): Query<ByCustomer>,
) -> ApiResult<Response> {
    let day = as_of(&s, &q)?;
    Ok(pdf_response(
        s.app.read(move |c| statement::pdf(c, &id, day)).await?,
    ))
}

#[derive(Debug, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SendStatement {
    #[serde(default)]
    pub period: Option<String>,
}

/// `POST /customers/{id}/statement/send`: by e-mail now, once per period (default: today).
pub async fn send_statement(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let r: SendStatement = super::body_or_default(&body)?;
    let sent = s
        .app
        .write(staff.actor, move |c, ctx| {
            let period = r.period.clone().unwrap_or_else(|| ctx.today().to_string());
            Ok(serde_json::json!({"queued": statement::send_in_tx(c, ctx, &id, &period)?, "period": period}))
        })
        .await?;
    ok(&sent)
}
