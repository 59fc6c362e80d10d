//! Order intake: CSV order files and EDI interchanges in, the documents and their exceptions
//! queue, replay after the master data is fixed, and the customers' partner ids and item
//! cross-references.
//!
//! A document is stored before it is read, so every answer names it: `201` ordered, `200` a
//! re-sent document (nothing ordered again), `202` parked in the exceptions queue with its
//! reasons, `422` refused (not an order, unreadable, test data) and kept for the record.

use super::{body_or_default, idempotent_write, json_response, ok};
use crate::extract::{AdminOnly, AnyRole, JsonBody, SalesWrite, Staff};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use o2c_app::intake::exceptions::{self, DismissRequest};
use o2c_app::intake::xref::{self, ItemsRequest, PartnersRequest};
use o2c_app::intake::{self, Channel, Document, IntakePolicyRequest, documents};
use serde::Deserialize;

/// The answer to a processed document: its status decides the HTTP status.
fn answer(doc: Document) -> ApiResult<Response> {
    let status = match doc.status.as_str() {
        "ordered" => StatusCode::CREATED,
        "duplicate" => StatusCode::OK,
        "rejected" => return Err(refused(&doc).into()),
        _ => StatusCode::ACCEPTED,
    };
    let body = serde_json::to_string(&doc).map_err(o2c_app::AppError::from)?;
    Ok(json_response(status, body, false))
}

/// A refused document as a problem: the first reason's code, every reason in the detail.
fn refused(doc: &Document) -> Problem {
    let code = doc
        .errors
        .first()
        .map(|e| e.code.as_str())
        .filter(|c| ["not-an-order", "test-interchange"].contains(c))
        .unwrap_or("malformed-order-document");
    let reasons: Vec<String> = doc.errors.iter().map(ToString::to_string).collect();
    Problem::new(
        code,
        format!(
            "{} (kept as document {} for the record; nothing was ordered)",
            reasons.join("; "),
            doc.id
        ),
    )
}

/// `POST /api/v1/intake/csv`: an order file as the body.
pub async fn receive_csv(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc = intake::receive(
        &s.app,
        staff.actor,
        Channel::Csv,
        body.to_vec(),
        "api".into(),
    )
    .await?;
    answer(doc)
}

/// `POST /api/v1/intake/email`: an order e-mail (`message/rfc822`, the raw `.eml`) as the body.
pub async fn receive_email(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    body: Bytes,
) -> ApiResult<Response> {
    let doc = intake::receive(
        &s.app,
        staff.actor,
        Channel::Email,
        body.to_vec(),
        "api".into(),
    )
    .await?;
    answer(doc)
}

/// `POST /api/v1/intake/edi`: an X12 or EDIFACT interchange as the body.
pub async fn receive_edi(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    body: Bytes,
) -> ApiResult<Response> {
    let channel = Channel::detect(&body);
    if channel == Channel::Csv {
        let start: String = String::from_utf8_lossy(&body[..body.len().min(20)]).into_owned();
        return Err(Problem::new(
            "unknown-order-format",
            format!(
                "not an X12 (ISA…) or EDIFACT (UNA/UNB…) interchange: it starts with `{start}`; CSV order files go to POST /api/v1/intake/csv"
            ),
        )
        .into());
    }
    let doc = intake::receive(&s.app, staff.actor, channel, body.to_vec(), "api".into()).await?;
    answer(doc)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsQuery {
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl DocumentsQuery {
    fn page(&self) -> (i64, i64) {
        (
            self.limit.unwrap_or(100).clamp(1, 1000),
            self.offset.unwrap_or(0).max(0),
        )
    }
}

/// `GET /api/v1/intake/documents?status=`: newest first.
pub async fn list_documents(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<DocumentsQuery>,
) -> ApiResult<Response> {
    let (limit, offset) = q.page();
    let status = q.status.clone();
    ok(&s
        .app
        .read(move |c| documents::list(c, status.as_deref(), limit, offset))
        .await?)
}

/// `GET /api/v1/intake/exceptions`: the queue, oldest first.
pub async fn list_exceptions(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<DocumentsQuery>,
) -> ApiResult<Response> {
    let (limit, offset) = q.page();
    ok(&s
        .app
        .read(move |c| exceptions::list(c, limit, offset))
        .await?)
}

/// `GET /api/v1/intake/documents/{id}`: the raw document, its reasons and orders.
pub async fn get_document(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| documents::get(c, &id, true)).await?)
}

/// `GET /api/v1/intake/documents/{id}/ack`: the X12 855 that answers it.
pub async fn get_acknowledgment(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ack = s
        .app
        .read(move |c| documents::acknowledgment(c, &id))
        .await?;
    let Some(text) = ack.text else {
        return Err(Problem::new("not-found", ack.note).into());
    };
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/edi-x12"),
    );
    Ok(resp)
}

/// `POST /api/v1/intake/documents/{id}/replay`: processes a parked (or never processed)
/// document again with today's master data.
pub async fn replay(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    answer(intake::process(&s.app, staff.actor, id).await?)
}

/// `POST /api/v1/intake/documents/{id}/reject`: dismisses a parked document for good.
pub async fn dismiss(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    let r: DismissRequest = body_or_default(&raw)?;
    let path = format!("POST /api/v1/intake/documents/{id}/reject");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| exceptions::dismiss_in_tx(c, ctx, &id, &r),
    )
    .await
}

pub async fn get_partners(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| xref::partners(c, &id)).await?)
}

/// `PUT /api/v1/customers/{id}/partners`: the ids the customer sends EDI under.
pub async fn set_partners(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    Path(id): Path<String>,
    body: JsonBody<PartnersRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            xref::set_partners_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

pub async fn get_items(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| xref::items(c, &id)).await?)
}

/// `PUT /api/v1/customers/{id}/items`: the customer's item numbers and GTINs for our SKUs.
pub async fn set_items(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    Path(id): Path<String>,
    body: JsonBody<ItemsRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            xref::set_items_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

pub async fn get_policy(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(intake::policy).await?)
}

pub async fn set_policy(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    body: JsonBody<IntakePolicyRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            intake::set_policy_in_tx(c, ctx, &r)
        })
        .await?)
}
