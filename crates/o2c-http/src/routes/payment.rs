use super::{idempotent_write, ok};
use crate::extract::{AnyRole, JsonBody, ReceivablesWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::payment::{self, PaymentRequest};
use o2c_core::{Currency, DomainError, Money};
use serde::Deserialize;

/// `POST /api/v1/payments`: needs an `Idempotency-Key`, so a retried call never books cash twice.
pub async fn record(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    body: JsonBody<PaymentRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/payments",
        &body.raw,
        true,
        StatusCode::CREATED,
        move |c, ctx| payment::record_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn get(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| payment::get(c, &id)).await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    pub invoice_id: String,
    pub amount: String,
}

/// A person applies unapplied cash to an invoice by hand.
pub async fn apply(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ApplicationRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("POST /api/v1/payments/{id}/applications");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| {
            let p = payment::get(c, &id)?;
            let amount = parse_amount(&r.amount, p.amount.currency())?;
            payment::apply_in_tx(c, ctx, &id, &r.invoice_id, amount.minor())?;
            payment::get(c, &id)
        },
    )
    .await
}

fn parse_amount(s: &str, currency: Currency) -> o2c_app::Result<Money> {
    Ok(Money::parse(s, currency).map_err(DomainError::money("amount"))?)
}
