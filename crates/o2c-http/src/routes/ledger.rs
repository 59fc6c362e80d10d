use super::ok;
use crate::extract::{LedgerRead, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::State;
use axum::response::Response;
use o2c_app::ledger;

/// Sums to zero per currency, always; also checks the subledgers against their control accounts.
pub async fn trial_balance(State(s): State<ApiState>, _: Staff<LedgerRead>) -> ApiResult<Response> {
    ok(&s.app.read(ledger::trial_balance).await?)
}
