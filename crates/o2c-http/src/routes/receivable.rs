//! Receivables: aging, disputes, promises to pay, contact notes, dunning, write-offs, the
//! collections worklist, key figures and statements of account.

use super::ok;
use crate::extract::{ReceivablesRead, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use o2c_app::AppError;
use o2c_app::receivable::aging::{self, AgingQuery};
use o2c_core::DomainError;
use o2c_core::receivable::{AgingBasis, AgingBuckets};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgingParams {
    pub as_of: Option<String>,
    pub basis: Option<String>,
    pub buckets: Option<String>,
    pub customer_id: Option<String>,
    #[serde(default)]
    pub items: bool,
    #[serde(default)]
    pub totals_only: bool,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn parse_date(field: &str, s: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        DomainError::invalid(field, format!("`{s}`: expected a date such as 2026-11-30")).into()
    })
}

/// `GET /reports/aging`: per customer and in total, by due or invoice date, as of any day.
pub async fn aging_report(
    State(s): State<ApiState>,
    _: Staff<ReceivablesRead>,
    Query(p): Query<AgingParams>,
) -> ApiResult<Response> {
    let as_of = match &p.as_of {
        Some(d) => parse_date("as_of", d)?,
        None => s.app.today(),
    };
    let mut q = AgingQuery::new(as_of);
    if let Some(b) = &p.basis {
        q.basis = AgingBasis::parse(b).map_err(AppError::from)?;
    }
    if let Some(b) = &p.buckets {
        q.buckets = AgingBuckets::parse(b).map_err(AppError::from)?;
    }
    q.customer_id = p.customer_id.clone();
    q.items = p.items;
    q.totals_only = p.totals_only;
    let csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(AppError::from(DomainError::invalid(
                "format",
                format!("`{other}`: expected json or csv"),
            ))
            .into());
        }
    };
    let report = s.app.read(move |c| aging::report(c, &q)).await?;
    if csv {
        let mut resp = aging::to_csv(&report).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(resp);
    }
    ok(&report)
}
