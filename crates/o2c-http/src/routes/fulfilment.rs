//! Fulfilment: pick lists per warehouse, packing, dispatch with a carrier service, delivery,
//! and the EDI documents sent to customers (856, 810).

use super::{body_or_default, idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, Staff, WarehouseWrite};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use o2c_app::fulfilment::pack::{self, PackRequest};
use o2c_app::fulfilment::{self, PickListRequest, edi_out};
use o2c_app::shipment::{self, DispatchRequest};
use o2c_app::shipping::delivery::{self, DeliveredRequest};

pub async fn create_pick_list(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    body: JsonBody<PickListRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/pick-lists",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| fulfilment::create_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn get_pick_list(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| fulfilment::get(c, &id)).await?)
}

pub async fn pack(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<PackRequest>,
) -> ApiResult<Response> {
    let path = format!("POST /api/v1/shipments/{id}/packages");
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| pack::pack_in_tx(c, ctx, &id, &r),
    )
    .await
}

/// The goods left the warehouse (`{"service": "CARRIER/SERVICE", "tracking_number": …}`,
/// both optional); the engine invoices them.
pub async fn dispatch(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    let req: DispatchRequest = body_or_default(&raw)?;
    let path = format!("POST /api/v1/shipments/{id}/dispatch");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| shipment::dispatch_with_in_tx(c, ctx, &id, &req),
    )
    .await
}

pub async fn delivered(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    let req: DeliveredRequest = body_or_default(&raw)?;
    let path = format!("POST /api/v1/shipments/{id}/delivered");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::OK,
        move |c, ctx| delivery::deliver_in_tx(c, ctx, &id, &req),
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct DocumentQuery {
    pub order_id: Option<String>,
    pub limit: Option<i64>,
}

pub async fn list_outbound(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<DocumentQuery>,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    ok(&s
        .app
        .read(move |c| edi_out::list(c, q.order_id.as_deref(), limit))
        .await?)
}

pub async fn get_outbound(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| edi_out::get(c, &id)).await?)
}

/// The document as sent to the partner (`application/edi-x12`).
pub async fn outbound_content(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let doc = s.app.read(move |c| edi_out::get(c, &id)).await?;
    let Some(content) = doc.content else {
        return Err(
            o2c_app::AppError::from(o2c_core::DomainError::DocumentIncomplete(format!(
                "document {} could not be written: {}",
                doc.id,
                doc.error.unwrap_or_default()
            )))
            .into(),
        );
    };
    let mut resp = content.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/edi-x12"),
    );
    Ok(resp)
}
