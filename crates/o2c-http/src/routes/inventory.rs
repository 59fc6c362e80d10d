use super::{idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, SalesWrite, Staff, WarehouseWrite};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::inventory::stock::{self, StockAdjustmentRequest};
use o2c_app::inventory::{self, ProductRequest, StockReceiptRequest, WarehouseRequest};

pub async fn create_warehouse(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    body: JsonBody<WarehouseRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/warehouses",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| inventory::create_warehouse_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn list_warehouses(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(inventory::list_warehouses).await?)
}

pub async fn create_product(
    State(s): State<ApiState>,
    staff: Staff<SalesWrite>,
    headers: HeaderMap,
    body: JsonBody<ProductRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/products",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| inventory::create_product_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn get_product(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(sku): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| inventory::product_by_sku(c, &sku))
        .await?)
}

pub async fn receive_stock(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    body: JsonBody<StockReceiptRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/stock-receipts",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| inventory::receive_stock_in_tx(c, ctx, &r),
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct StockQuery {
    pub sku: Option<String>,
    pub warehouse: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/stock?sku=&warehouse=`: on hand, reserved and available to promise.
pub async fn stock_levels(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<StockQuery>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| stock::levels(c, q.sku.as_deref(), q.warehouse.as_deref()))
        .await?)
}

/// `GET /api/v1/stock-movements?sku=&warehouse=&limit=`: the journal, newest first.
pub async fn stock_movements(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<StockQuery>,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    ok(&s
        .app
        .read(move |c| stock::movements(c, q.sku.as_deref(), q.warehouse.as_deref(), limit))
        .await?)
}

pub async fn adjust_stock(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    body: JsonBody<StockAdjustmentRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/stock-adjustments",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| stock::adjust_in_tx(c, ctx, &r),
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct ReceiptFileQuery {
    pub reference: Option<String>,
}

/// `POST /api/v1/stock-receipts/csv`: a receipt file as the body; all lines or none.
pub async fn receive_stock_file(
    State(s): State<ApiState>,
    staff: Staff<WarehouseWrite>,
    headers: HeaderMap,
    Query(q): Query<ReceiptFileQuery>,
    raw: Bytes,
) -> ApiResult<Response> {
    let text = String::from_utf8(raw.to_vec()).map_err(|_| {
        o2c_app::AppError::from(o2c_core::DomainError::StockFileRejected(vec![
            "the file is not UTF-8 text".into(),
        ]))
    })?;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/stock-receipts/csv",
        &raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| stock::import_receipts_in_tx(c, ctx, &text, q.reference.as_deref()),
    )
    .await
}
