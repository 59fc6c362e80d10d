//! Billing setup (company profile, customer billing, price lists, tax rates), the billing run,
//! credit notes and invoice documents (JSON, PDF, UBL) and their deliveries.

use super::{idempotent_write, ok};
use crate::extract::{AdminOnly, AnyRole, BillingWrite, JsonBody, ReceivablesWrite, Staff};
use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use o2c_app::billing::credit_note::{self, CreditNoteRequest};
use o2c_app::billing::price::{self, CustomerPriceRequest, PriceListRequest};
use o2c_app::billing::run::{self, Period};
use o2c_app::billing::tax::{self, TaxRateRequest};
use o2c_app::billing::{self, BillingProfileRequest, CompanyProfile, delivery, document};
use o2c_app::invoice;
use serde::Deserialize;

pub async fn get_company(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(billing::company).await?)
}

pub async fn set_company(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    body: JsonBody<CompanyProfile>,
) -> ApiResult<Response> {
    let p = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            billing::set_company_in_tx(c, ctx, p.clone())
        })
        .await?)
}

pub async fn get_billing_profile(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| billing::billing_profile(c, &id))
        .await?)
}

pub async fn set_billing_profile(
    State(s): State<ApiState>,
    staff: Staff<BillingWrite>,
    Path(id): Path<String>,
    body: JsonBody<BillingProfileRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            billing::set_billing_profile_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

pub async fn set_customer_price(
    State(s): State<ApiState>,
    staff: Staff<BillingWrite>,
    Path(id): Path<String>,
    body: JsonBody<CustomerPriceRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            price::set_customer_price_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

pub async fn create_price_list(
    State(s): State<ApiState>,
    staff: Staff<BillingWrite>,
    headers: HeaderMap,
    body: JsonBody<PriceListRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/price-lists",
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| price::create_price_list_in_tx(c, ctx, &r),
    )
    .await
}

pub async fn get_price_list(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| price::get_price_list(c, &id)).await?)
}

pub async fn list_tax_rates(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(tax::list).await?)
}

pub async fn set_tax_rate(
    State(s): State<ApiState>,
    staff: Staff<AdminOnly>,
    body: JsonBody<TaxRateRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| tax::set_rate_in_tx(c, ctx, &r))
        .await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// YYYY-MM.
    pub period: String,
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/v1/billing/runs`: one consolidated invoice per customer for the period.
pub async fn billing_run(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    body: JsonBody<RunRequest>,
) -> ApiResult<Response> {
    let period = Period::parse(&body.value.period)?;
    ok(&run::run(&s.app, staff.actor, period, body.value.dry_run).await?)
}

/// `POST /api/v1/invoices/{id}/credit-notes` (Idempotency-Key required): a full credit note
/// without `lines`, a partial one with them.
pub async fn issue_credit_note(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<CreditNoteRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("POST /api/v1/invoices/{id}/credit-notes");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        true,
        StatusCode::CREATED,
        move |c, ctx| {
            let cn = credit_note::issue_in_tx(c, ctx, &id, &r)?;
            invoice::get(c, &cn)
        },
    )
    .await
}

pub async fn credit_notes(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s
        .app
        .read(move |c| {
            credit_note::for_invoice(c, &id)?
                .iter()
                .map(|cn| invoice::get(c, cn))
                .collect::<o2c_app::Result<Vec<_>>>()
        })
        .await?)
}

pub async fn deliveries(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| delivery::for_invoice(c, &id)).await?)
}

/// `GET /api/v1/invoices/{id}`, `{id}.pdf`, `{id}.xml` (UBL): by id or number.
pub async fn get_invoice(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(id) = id.strip_suffix(".pdf") {
        let id = id.to_string();
        let (number, bytes) = s
            .app
            .read(move |c| {
                let doc = document::build(c, &id)?;
                Ok((doc.number.clone(), document::render_pdf(&doc)?))
            })
            .await?;
        return Ok(file(bytes, "application/pdf", &format!("{number}.pdf")));
    }
    if let Some(id) = id.strip_suffix(".xml") {
        let id = id.to_string();
        let (number, xml) = s
            .app
            .read(move |c| {
                let doc = document::build(c, &id)?;
                Ok((doc.number.clone(), document::render_ubl(&doc)?))
            })
            .await?;
        return Ok(file(
            xml.into_bytes(),
            "application/xml",
            &format!("{number}.xml"),
        ));
    }
    ok(&s.app.read(move |c| invoice::get(c, &id)).await?)
}

fn file(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
