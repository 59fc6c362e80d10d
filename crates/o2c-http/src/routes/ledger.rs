use super::ok;
use crate::extract::{AnyRole, FxWrite, LedgerRead, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use o2c_app::{fx, ledger};
use o2c_core::{Currency, DomainError};

/// Sums to zero per currency, always; also checks the subledgers against their control accounts.
pub async fn trial_balance(State(s): State<ApiState>, _: Staff<LedgerRead>) -> ApiResult<Response> {
    ok(&s.app.read(ledger::trial_balance).await?)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatesQuery {
    pub currency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Stored exchange rates, optionally for one currency and a date range.
pub async fn list_fx_rates(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<RatesQuery>,
) -> ApiResult<Response> {
    let currency = q
        .currency
        .as_deref()
        .map(|c| Currency::parse(c).map_err(DomainError::money("currency")))
        .transpose()
        .map_err(o2c_app::AppError::from)?;
    ok(&s
        .app
        .read(move |c| fx::list(c, currency, q.from.as_deref(), q.to.as_deref()))
        .await?)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatesRequest {
    pub rates: Vec<fx::RateInput>,
    #[serde(default)]
    pub source: Option<String>,
}

/// Sets rates: JSON `{"rates": [{"currency", "date", "rate"}]}`, or a CSV body
/// (`Content-Type: text/csv`) in the layouts `o2c fx import` reads. All or nothing.
pub async fn set_fx_rates(
    State(s): State<ApiState>,
    staff: Staff<FxWrite>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let (rates, source) = if is_csv {
        let text = std::str::from_utf8(&body)
            .map_err(|_| DomainError::invalid("body", "the CSV is not UTF-8"))
            .map_err(o2c_app::AppError::from)?;
        (fx::parse_csv(text)?, "api csv".to_string())
    } else {
        let r: RatesRequest = serde_json::from_slice(&body)
            .map_err(|e| DomainError::invalid("body", e.to_string()))
            .map_err(o2c_app::AppError::from)?;
        (r.rates, r.source.unwrap_or_else(|| "api".into()))
    };
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            fx::set_rates_in_tx(c, ctx, &rates, &source)
        })
        .await?)
}
