//! Extractors: who is calling (API key and role, checked by a permission type a handler cannot
//! forget) and the JSON body (kept raw for the idempotency hash, parsed with precise errors).

use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use o2c_core::{Actor, Role};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A permission: which roles may use a group of endpoints.
pub trait Permission: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

macro_rules! permissions {
    ($($name:ident => [$($role:ident),*];)*) => {$(
        pub struct $name;
        impl Permission for $name {
            const ROLES: &'static [Role] = &[Role::Admin $(, Role::$role)*];
        }
    )*};
}

permissions! {
    AnyRole => [Sales, Credit, Warehouse, Receivables, Collector];
    SalesWrite => [Sales];
    BillingWrite => [Sales, Receivables];
    CreditWrite => [Credit];
    WarehouseWrite => [Warehouse];
    ReceivablesWrite => [Receivables];
    LedgerRead => [Receivables, Credit];
    ReceivablesRead => [Receivables, Credit];
    WriteOff => [Receivables, Credit];
    FxWrite => [Receivables];
    AdminOnly => [];
}

/// A caller authenticated by API key whose role holds permission `P`.
pub struct Staff<P: Permission> {
    pub actor: Actor,
    pub role: Role,
    _p: PhantomData<P>,
}

impl<P: Permission> FromRequestParts<ApiState> for Staff<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let secret = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()))
            .map(str::trim)
            .ok_or_else(|| {
                Problem::new(
                    "unauthorized",
                    "send an API key as `Authorization: Bearer <key>`",
                )
            })?;
        let key = state
            .verify_key(secret)
            .await?
            .ok_or_else(|| Problem::new("unauthorized", "the API key is not valid"))?;
        if !P::ROLES.contains(&key.role) {
            let allowed: Vec<&str> = P::ROLES.iter().map(|r| r.as_str()).collect();
            return Err(Problem::new(
                "forbidden",
                format!(
                    "this needs one of the roles {}; the key has the role {}",
                    allowed.join(", "),
                    key.role.as_str()
                ),
            )
            .into());
        }
        Ok(Staff {
            actor: Actor::ApiKey(key.id),
            role: key.role,
            _p: PhantomData,
        })
    }
}

/// A JSON body: the parsed value and the raw bytes.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Bytes::from_request(req, state).await.map_err(|e| {
            Problem::new(
                "malformed-json",
                format!("could not read the request body: {e}"),
            )
        })?;
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(raw).map_err(|e| {
        use serde_json::error::Category;
        let code = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => "malformed-json",
            Category::Data => "invalid-body",
        };
        ApiError(Problem::new(code, format!("request body: {e}")))
    })
}
