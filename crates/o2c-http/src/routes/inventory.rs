use super::{idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, SalesWrite, Staff, WarehouseWrite};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
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
