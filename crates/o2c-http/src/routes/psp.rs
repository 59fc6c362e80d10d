//! Payment capture: customers' payment methods, hosted checkout and provider webhooks, the
//! built-in `local` provider's page, SEPA collections, returns and refunds.

use super::{body_or_default, idempotent_write, ok};
use crate::extract::{AnyRole, BillingWrite, JsonBody, ReceivablesWrite, Staff};
use crate::problem::{ApiError, ApiResult};
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use o2c_app::psp::methods::{self, PaymentMethodsRequest};
use o2c_app::psp::refund::{self, RefundRequest};
use o2c_app::psp::returns::{self, ReturnRequest};
use o2c_app::psp::{self, WebhookHeaders, local, payouts, sepa};
use o2c_core::{Actor, DomainError};
use serde::Deserialize;

pub async fn get_methods(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| methods::get(c, &id)).await?)
}

pub async fn set_methods(
    State(s): State<ApiState>,
    staff: Staff<BillingWrite>,
    Path(id): Path<String>,
    body: JsonBody<PaymentMethodsRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    ok(&s
        .app
        .write(staff.actor, move |c, ctx| {
            methods::set_in_tx(c, ctx, &id, &r)
        })
        .await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    #[serde(default)]
    pub provider: Option<String>,
}

/// `POST /api/v1/invoices/{id}/checkout`: a hosted checkout for what the invoice owes.
pub async fn checkout(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    let r: CheckoutBody = body_or_default(&raw)?;
    let base = public_base_url(&headers);
    let provider = r.provider.unwrap_or_else(|| local::NAME.to_string());
    let path = format!("POST /api/v1/invoices/{id}/checkout");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| psp::create_checkout_in_tx(c, ctx, &provider, &id, &base),
    )
    .await
}

pub async fn get_session(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| psp::get(c, &id)).await?)
}

/// `POST /api/v1/psp/webhooks/{provider}`: no API key; the provider's signature is the proof.
pub async fn webhook(
    State(s): State<ApiState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> ApiResult<Response> {
    let headers = WebhookHeaders(
        headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
    );
    let receipt = s
        .app
        .write(Actor::Rule("psp.webhook"), move |c, ctx| {
            psp::receive_webhook_in_tx(c, ctx, &provider, &raw, &headers)
        })
        .await?;
    ok(&receipt)
}

/// Where payers reach o2c: `O2C_PUBLIC_URL`, else the host this request came to.
fn public_base_url(headers: &HeaderMap) -> String {
    if let Some(url) = std::env::var("O2C_PUBLIC_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

// ----- the local provider's hosted page -----

/// `GET /psp/local/checkout/{session}`: what is being paid, and Pay / Decline.
pub async fn local_page(State(s): State<ApiState>, Path(session): Path<String>) -> Response {
    let found = s
        .app
        .read(move |c| {
            let cs = psp::get(c, &session)?;
            let numbers = psp::invoice_numbers(c, &cs.invoice_ids)?;
            Ok((cs, numbers))
        })
        .await;
    match found {
        Ok((cs, numbers)) if cs.provider == local::NAME => {
            let state = match cs.status.as_str() {
                "paid" => "<p><strong>This payment has been made.</strong></p>".to_string(),
                _ => format!(
                    "{}<form method=\"post\"><button name=\"decision\" value=\"pay\">Pay {}</button> \
                     <button name=\"decision\" value=\"decline\">Decline</button></form>",
                    cs.failure_reason
                        .map(|r| format!("<p>The last attempt failed: {}</p>", escape(&r)))
                        .unwrap_or_default(),
                    escape(&cs.amount.to_string())
                ),
            };
            page(
                StatusCode::OK,
                &format!(
                    "<h1>Pay {}</h1><p>Invoice {}</p><p>Test card, local provider: no money moves.</p>{state}",
                    escape(&cs.amount.to_string()),
                    escape(&numbers.join(", "))
                ),
            )
        }
        _ => page(StatusCode::NOT_FOUND, "<h1>No such checkout</h1>"),
    }
}

/// `POST /psp/local/checkout/{session}`: the payer's choice, sent to o2c as the provider's
/// signed webhook over HTTP (to `O2C_PSP_LOCAL_WEBHOOK_URL`, else this server on loopback).
pub async fn local_decide(
    State(s): State<ApiState>,
    Path(session): Path<String>,
    headers: HeaderMap,
    form: Bytes,
) -> Response {
    let pay = match String::from_utf8_lossy(&form).trim() {
        "decision=pay" => true,
        "decision=decline" => false,
        _ => return page(StatusCode::BAD_REQUEST, "<h1>Choose Pay or Decline</h1>"),
    };
    let Some(target) = webhook_target(&headers) else {
        return page(
            StatusCode::BAD_GATEWAY,
            "<h1>Webhook target unknown</h1><p>The local provider posts only to loopback; set O2C_PSP_LOCAL_WEBHOOK_URL.</p>",
        );
    };
    let signed = s
        .app
        .write(Actor::Rule("psp.local"), move |c, ctx| {
            let cs = psp::get(c, &session)?;
            if cs.provider != local::NAME {
                return Err(DomainError::NotFound {
                    document: "checkout session",
                    id: session.clone(),
                }
                .into());
            }
            let provider = local::LocalProvider::load_in_tx(c, ctx)?;
            Ok(provider.webhook_for(ctx, &cs.provider_session_id, cs.amount, pay))
        })
        .await;
    let Ok((body, signature)) = signed else {
        return page(StatusCode::NOT_FOUND, "<h1>No such checkout</h1>");
    };
    let sent = reqwest::Client::new()
        .post(&target)
        .header("content-type", "application/json")
        .header(local::SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() && pay => page(
            StatusCode::OK,
            "<h1>Payment received</h1><p>Thank you. You can close this page.</p>",
        ),
        Ok(r) if r.status().is_success() => page(
            StatusCode::OK,
            "<h1>Payment declined</h1><p>Your card was declined. We have sent you other ways to pay.</p>",
        ),
        Ok(r) => page(
            StatusCode::BAD_GATEWAY,
            &format!(
                "<h1>The shop did not accept the payment notice</h1><p>HTTP {}</p>",
                r.status()
            ),
        ),
        Err(e) => page(
            StatusCode::BAD_GATEWAY,
            &format!(
                "<h1>The shop could not be reached</h1><p>{}</p>",
                escape(&e.to_string())
            ),
        ),
    }
}

fn webhook_target(headers: &HeaderMap) -> Option<String> {
    if let Some(url) = std::env::var("O2C_PSP_LOCAL_WEBHOOK_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return Some(url);
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let loopback = name == "localhost"
        || name
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback.then(|| format!("http://{host}/api/v1/psp/webhooks/{}", local::NAME))
}

fn page(status: StatusCode, body: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>o2c test checkout</title></head><body>{body}</body></html>"
        )),
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ----- SEPA, returns, refunds -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectBody {
    /// Collect what is due on or before this date (YYYY-MM-DD); today when absent.
    #[serde(default)]
    pub on: Option<String>,
}

/// `POST /api/v1/sepa/collections`: one pain.008 per scheme for everything due.
pub async fn collect(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    raw: Bytes,
) -> ApiResult<Response> {
    let r: CollectBody = body_or_default(&raw)?;
    let on = r.on.map(|d| sepa::parse_date("on", &d)).transpose()?;
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        "POST /api/v1/sepa/collections",
        &raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| sepa::collect_in_tx(c, ctx, on.unwrap_or_else(|| ctx.today())),
    )
    .await
}

pub async fn collections(State(s): State<ApiState>, _: Staff<AnyRole>) -> ApiResult<Response> {
    ok(&s.app.read(|c| sepa::list(c, 100)).await?)
}

/// `GET /api/v1/sepa/collections/{id}` (JSON) or `{id}.xml` (the pain.008 file).
pub async fn collection(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(id) = id.strip_suffix(".xml").map(String::from) {
        let xml = s.app.read(move |c| sepa::file(c, &id)).await?;
        let mut resp = (StatusCode::OK, xml).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        return Ok(resp);
    }
    ok(&s.app.read(move |c| sepa::get(c, &id)).await?)
}

/// `POST /api/v1/payments/{id}/return`: the bank returned it; the invoices open again.
pub async fn return_payment(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ReturnRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("POST /api/v1/payments/{id}/return");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::OK,
        move |c, ctx| returns::return_in_tx(c, ctx, &id, &r),
    )
    .await
}

/// `POST /api/v1/customers/{id}/refunds`: unapplied cash back to the customer.
pub async fn refund(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<RefundRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let path = format!("POST /api/v1/customers/{id}/refunds");
    idempotent_write(
        &s,
        staff.actor,
        &headers,
        &path,
        &body.raw,
        false,
        StatusCode::CREATED,
        move |c, ctx| refund::refund_in_tx(c, ctx, &id, &r),
    )
    .await
}

pub async fn get_refund(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| refund::get(c, &id)).await?)
}

/// `POST /api/v1/psp/{provider}/payouts`: a provider's settlement report for one payout. `201`
/// when recorded, `200` with the same payout when the same report comes again.
pub async fn record_payout(
    State(s): State<ApiState>,
    staff: Staff<ReceivablesWrite>,
    Path(provider): Path<String>,
    body: JsonBody<payouts::PayoutRequest>,
) -> ApiResult<Response> {
    let r = body.value;
    let (payout, created) = s
        .app
        .write(staff.actor, move |c, ctx| {
            payouts::record_in_tx(c, ctx, &provider, &r)
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(super::json_response(
        status,
        serde_json::to_string(&payout).map_err(|e| ApiError::from(o2c_app::AppError::from(e)))?,
        false,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutsQuery {
    /// `true`: only payouts whose money has not arrived.
    #[serde(default)]
    pub open: bool,
}

pub async fn list_payouts(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Query(q): Query<PayoutsQuery>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| payouts::list(c, q.open)).await?)
}

pub async fn get_payout(
    State(s): State<ApiState>,
    _: Staff<AnyRole>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(&s.app.read(move |c| payouts::get(c, &id)).await?)
}
