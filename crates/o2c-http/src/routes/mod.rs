//! Handlers, one module per subprocess. Thin: extract, parse, call one use-case, map the result.

pub mod admin;
pub mod billing;
pub mod cash;
pub mod credit;
pub mod customer;
pub mod fulfilment;
pub mod intake;
pub mod inventory;
pub mod invoice;
pub mod ledger;
pub mod order;
pub mod payment;
pub mod psp;
pub mod receivable;
pub mod receivable_collect;
pub mod shipment;
pub mod shipping;
pub mod webhooks;

use crate::problem::{ApiError, ApiResult};
use crate::state::ApiState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use o2c_app::{Conn, Ctx, idempotency};
use o2c_core::{Actor, DomainError};
use serde::Serialize;

/// A JSON response from a status and an already serialized body.
pub(crate) fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

pub(crate) fn ok<T: Serialize>(value: &T) -> ApiResult<Response> {
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_string(value).map_err(|e| ApiError::from(o2c_app::AppError::from(e)))?,
        false,
    ))
}

/// Runs a mutating use-case under the request's `Idempotency-Key`: the first request runs and
/// stores its response in the same transaction; a replay returns it; another body is refused.
// Each argument is a distinct part of the request; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn idempotent_write<T, F>(
    state: &ApiState,
    actor: Actor,
    headers: &HeaderMap,
    method_path: &str,
    raw_body: &[u8],
    required: bool,
    success: StatusCode,
    mut work: F,
) -> ApiResult<Response>
where
    T: Serialize,
    F: FnMut(&mut dyn Conn, &Ctx) -> o2c_app::Result<T> + Send + 'static,
{
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let Some(key) = key else {
        if required {
            return Err(o2c_app::AppError::from(DomainError::IdempotencyKeyMissing).into());
        }
        let body = state
            .app
            .write(actor, move |conn, ctx| {
                Ok(serde_json::to_string(&work(conn, ctx)?)?)
            })
            .await?;
        return Ok(json_response(success, body, false));
    };
    let key = idempotency::parse_key(&key)?;
    let hash = idempotency::request_hash(method_path, raw_body);
    let scope = actor.to_string();
    let status = success.as_u16();
    let stored = state
        .app
        .write(actor, move |conn, ctx| {
            idempotency::run(conn, &scope, &key, &hash, &ctx.timestamp(), |c| {
                Ok((status, serde_json::to_string(&work(c, ctx)?)?))
            })
        })
        .await?;
    Ok(json_response(
        StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        stored.body,
        stored.replayed,
    ))
}

/// An optional JSON body: empty means the defaults.
pub(crate) fn body_or_default<T: serde::de::DeserializeOwned + Default>(
    raw: &[u8],
) -> ApiResult<T> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        crate::extract::parse_json(raw)
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl ListQuery {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}
