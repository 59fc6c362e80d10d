//! The one error table at the edge: stable code → HTTP status → RFC 9457 problem details.
//! 5xx bodies are opaque; their cause is logged once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use o2c_app::AppError;
use serde::Serialize;

/// (code, status, title): every code a client can receive.
pub const TABLE: &[(&str, u16, &str)] = &[
    ("unknown-customer", 422, "Unknown customer"),
    ("unknown-sku", 422, "Unknown SKU"),
    ("unknown-warehouse", 422, "Unknown warehouse"),
    ("not-found", 404, "Not found"),
    ("quantity-not-positive", 422, "Quantity must be positive"),
    ("amount-not-positive", 422, "Amount must be positive"),
    ("currency-mismatch", 422, "Currency mismatch"),
    ("missing-address", 422, "Missing address"),
    ("invalid-field", 422, "Invalid field"),
    ("order-without-lines", 422, "Order without lines"),
    ("duplicate-sku", 409, "Duplicate SKU"),
    ("duplicate-warehouse", 409, "Duplicate warehouse"),
    (
        "stock-below-reserved",
        409,
        "Stock would fall below what is reserved",
    ),
    ("stock-file-rejected", 422, "Stock file rejected"),
    ("nothing-to-pick", 409, "Nothing to pick"),
    (
        "packing-exceeds-shipment",
        422,
        "Packed more than the shipment carries",
    ),
    (
        "no-shipping-service",
        422,
        "No shipping service can carry this",
    ),
    ("unknown-carrier-service", 422, "Unknown carrier service"),
    ("illegal-state-transition", 409, "Illegal state transition"),
    (
        "idempotency-key-reused",
        422,
        "Idempotency-Key reused with a different body",
    ),
    ("idempotency-key-missing", 400, "Idempotency-Key missing"),
    (
        "application-exceeds-open-amount",
        422,
        "Application exceeds the open amount",
    ),
    ("unknown-currency", 422, "Unknown currency"),
    ("unknown-tax-category", 422, "Unknown tax category"),
    (
        "missing-tax-rate",
        422,
        "No tax rate for the ship-to country",
    ),
    (
        "price-list-currency-mismatch",
        422,
        "Price list in the wrong currency",
    ),
    ("no-price", 422, "No price for the item"),
    ("nothing-to-invoice", 409, "Nothing to invoice"),
    (
        "credit-exceeds-invoice",
        422,
        "Credit exceeds what the invoice billed",
    ),
    ("missing-fx-rate", 422, "No exchange rate"),
    (
        "unknown-statement-format",
        422,
        "Not a bank statement format o2c reads",
    ),
    ("malformed-statement", 422, "Malformed bank statement"),
    (
        "account-currency-mismatch",
        422,
        "The account does not hold this currency",
    ),
    (
        "document-incomplete",
        409,
        "The document breaks an EN 16931 rule",
    ),
    (
        "webhook-signature-invalid",
        401,
        "Webhook signature missing, wrong or too old",
    ),
    (
        "refund-exceeds-unapplied-cash",
        422,
        "Refund exceeds the customer's unapplied cash",
    ),
    ("sepa-not-configured", 409, "SEPA direct debit not set up"),
    (
        "collection-file-invalid",
        422,
        "The collection file breaks a SEPA rule",
    ),
    (
        "card-number-not-accepted",
        422,
        "Card numbers are not accepted",
    ),
    (
        "payment-provider-refused",
        502,
        "The payment provider refused the request",
    ),
    (
        "not-an-order",
        422,
        "Not a purchase order (an invoice, an acknowledgment…)",
    ),
    (
        "malformed-order-document",
        422,
        "The order document cannot be read",
    ),
    ("test-interchange", 422, "Test data is never ordered"),
    (
        "unknown-order-format",
        422,
        "Not an X12 or EDIFACT interchange",
    ),
    ("amount-out-of-range", 422, "Amount out of range"),
    ("malformed-amount", 422, "Malformed amount"),
    ("malformed-json", 400, "Malformed JSON"),
    ("invoice-not-open", 409, "The invoice has nothing open"),
    ("invoice-not-due", 409, "The invoice is not due yet"),
    (
        "promise-date-in-past",
        422,
        "A promise to pay is dated in the past",
    ),
    (
        "write-off-over-limit",
        403,
        "The write-off exceeds the caller's approval limit",
    ),
    (
        "invalid-body",
        422,
        "Request body does not match the expected shape",
    ),
    ("unauthorized", 401, "Missing or invalid API key"),
    ("forbidden", 403, "Role not allowed"),
    ("route-not-found", 404, "No such route"),
    ("internal", 500, "Internal error"),
];

pub fn lookup(code: &str) -> Option<(u16, &'static str)> {
    TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, s, t)| (*s, *t))
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
}

impl Problem {
    pub fn new(code: &str, detail: impl Into<String>) -> Problem {
        let (status, title) = lookup(code).unwrap_or((500, "Internal error"));
        Problem {
            kind: format!("/problems/{code}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            code: code.to_string(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, serde_json::to_string(&self).unwrap_or_default()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// What handlers return on failure.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(d) => ApiError(Problem::new(d.code(), d.to_string())),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError(Problem::new(
                    "internal",
                    "something went wrong on our side; it has been logged",
                ))
            }
        }
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(p)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_code_is_in_the_table() {
        use o2c_core::{Currency, DomainError, MoneyError};
        let samples = [
            DomainError::UnknownCustomer("x".into()),
            DomainError::UnknownSku {
                line: 1,
                sku: "x".into(),
            },
            DomainError::UnknownWarehouse("x".into()),
            DomainError::NotFound {
                document: "order",
                id: "x".into(),
            },
            DomainError::QuantityNotPositive {
                line: 1,
                quantity: 0,
            },
            DomainError::AmountNotPositive { field: "amount" },
            DomainError::CurrencyMismatch {
                field: "currency",
                expected: Currency::EUR,
                got: Currency::USD,
            },
            DomainError::MissingAddress { which: "billing" },
            DomainError::invalid("f", "r"),
            DomainError::NoLines,
            DomainError::DuplicateSku("x".into()),
            DomainError::DuplicateWarehouse("x".into()),
            DomainError::IllegalStateTransition {
                document: "order",
                id: "x".into(),
                state: "s".into(),
                action: "a",
            },
            DomainError::IdempotencyKeyReusedWithDifferentBody("k".into()),
            DomainError::IdempotencyKeyMissing,
            DomainError::ApplicationExceedsOpenAmount {
                what: "w",
                requested: "1".into(),
                available: "0".into(),
            },
            DomainError::Money {
                field: "a".into(),
                source: MoneyError::Overflow,
            },
            DomainError::Money {
                field: "a".into(),
                source: MoneyError::UnknownCurrency("x".into()),
            },
            DomainError::Money {
                field: "a".into(),
                source: MoneyError::MalformedAmount("x".into()),
            },
            DomainError::WebhookSignatureInvalid("x".into()),
            DomainError::RefundExceedsUnappliedCash {
                requested: "1".into(),
                available: "0".into(),
            },
            DomainError::SepaNotConfigured("x".into()),
            DomainError::CollectionFileInvalid("x".into()),
            DomainError::CardNumberNotAccepted("x".into()),
            DomainError::PaymentProviderRefused("x".into()),
            DomainError::InvoiceNotOpen {
                invoice: "x".into(),
                state: "paid".into(),
                action: "a",
            },
            DomainError::InvoiceNotDue {
                invoice: "x".into(),
                due_on: "2030-01-01".into(),
                action: "a",
            },
            DomainError::PromiseDateInPast {
                date: "x".into(),
                today: "y".into(),
            },
            DomainError::WriteOffOverLimit {
                requested: "x".into(),
                limit: "y".into(),
                role: "z".into(),
            },
        ];
        for s in samples {
            assert!(
                lookup(s.code()).is_some(),
                "{} is not in the error table",
                s.code()
            );
        }
    }
}
