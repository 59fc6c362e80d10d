use super::{idempotent_write, ok};
use crate::extract::{AdminOnly, JsonBody, Staff};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::{auth, engine};
use o2c_core::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    pub role: String,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Serialize)]
struct CreatedKey {
    #[serde(flatten)]
    key: auth::ApiKey,
    /// Shown once; only its hash is stored.
    secret: String,
}

pub async fn create_key(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    headers: HeaderMap,
    body: JsonBody<KeyRequest>,
) -> ApiResult<Response> {
    let role = Role::parse(&body.value.role).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        Problem::new(
            "invalid-field",
            format!("role: expected one of {}", roles.join(", ")),
        )
    })?;
    let label = body
        .value
        .label
        .clone()
        .unwrap_or_else(|| format!("{} key", role.as_str()));
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/api-keys",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| {
            let (key, secret) = auth::create_in_tx(c, ctx, role, &label)?;
            Ok(CreatedKey { key, secret })
        },
    )
    .await
}

pub async fn list_keys(State(s): State<ApiState>, _: Staff<AdminOnly>) -> ApiResult<Response> {
    ok(&s.app.read(auth::list).await?)
}

/// Automations that failed and wait for a retry or a person.
pub async fn engine_failures(
    State(s): State<ApiState>,
    _: Staff<AdminOnly>,
) -> ApiResult<Response> {
    ok(&s.app.read(engine::failures).await?)
}
