//! Every broken business rule is its own variant, named after the rule. The HTTP edge maps each
//! stable [`DomainError::code`] to a status and an RFC 9457 problem type; the CLI prints it.

use crate::money::{Currency, MoneyError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("no customer with id `{0}`")]
    UnknownCustomer(String),
    #[error("line {line}: no product with SKU `{sku}`")]
    UnknownSku { line: usize, sku: String },
    #[error("no warehouse with code `{0}`")]
    UnknownWarehouse(String),
    #[error("no {document} with id `{id}`")]
    NotFound { document: &'static str, id: String },
    #[error("line {line}: quantity must be greater than zero, got {quantity}")]
    QuantityNotPositive { line: usize, quantity: i64 },
    #[error("{field}: amount must be greater than zero")]
    AmountNotPositive { field: &'static str },
    #[error("{field}: the order is in {got} but the customer is billed in {expected}")]
    CurrencyMismatch {
        field: &'static str,
        expected: Currency,
        got: Currency,
    },
    #[error("the customer has no {which} address: add one before ordering")]
    MissingAddress { which: &'static str },
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    #[error("an order needs at least one line")]
    NoLines,
    #[error("a product with SKU `{0}` already exists")]
    DuplicateSku(String),
    #[error("a warehouse with code `{0}` already exists")]
    DuplicateWarehouse(String),
    #[error("{document} `{id}` is {state}: cannot {action}")]
    IllegalStateTransition {
        document: &'static str,
        id: String,
        state: String,
        action: &'static str,
    },
    #[error("the Idempotency-Key `{0}` was already used with a different request body")]
    IdempotencyKeyReusedWithDifferentBody(String),
    #[error("this request needs an Idempotency-Key header")]
    IdempotencyKeyMissing,
    #[error("applying {requested} exceeds the {what} of {available}")]
    ApplicationExceedsOpenAmount {
        what: &'static str,
        requested: String,
        available: String,
    },
    #[error("{field}: {source}")]
    Money { field: String, source: MoneyError },
    #[error(
        "{field}: unknown tax category `{got}`, expected one of standard, reduced, zero, exempt, reverse_charge, export, intra_community"
    )]
    UnknownTaxCategory { field: String, got: String },
    #[error(
        "no {category} tax rate for {place} valid on {date}: add one with PUT /api/v1/tax-rates"
    )]
    MissingTaxRate {
        category: &'static str,
        place: String,
        date: String,
    },
    #[error("price list `{price_list}` is in {got}, but {purpose} needs {expected}")]
    PriceListCurrency {
        price_list: String,
        purpose: String,
        expected: Currency,
        got: Currency,
    },
    #[error(
        "line {line}: no price for SKU `{sku}` in {currency} (no customer price, price list entry or product price in that currency)"
    )]
    NoPrice {
        line: usize,
        sku: String,
        currency: Currency,
    },
    #[error("nothing to invoice: {0}")]
    NothingToInvoice(String),
    #[error("{0}")]
    CreditExceedsInvoice(String),
    #[error("{0}")]
    DocumentIncomplete(String),
    #[error(
        "no exchange rate for {currency} on or before {date}: import one with `o2c fx import` or PUT /api/v1/fx-rates"
    )]
    MissingFxRate { currency: Currency, date: String },
    #[error("{0}")]
    UnknownStatementFormat(String),
    #[error("{0}")]
    MalformedStatement(String),
    #[error("{0}")]
    AccountCurrencyMismatch(String),
    #[error("webhook rejected: {0}")]
    WebhookSignatureInvalid(String),
    #[error("refunding {requested} exceeds the customer's unapplied cash of {available}")]
    RefundExceedsUnappliedCash {
        requested: String,
        available: String,
    },
    #[error("{0}")]
    SepaNotConfigured(String),
    #[error("the collection file would be refused by the bank: {0}")]
    CollectionFileInvalid(String),
    #[error(
        "{0}: looks like a card number; o2c never stores card numbers, send the payment provider's token instead"
    )]
    CardNumberNotAccepted(String),
    #[error("the payment provider refused: {0}")]
    PaymentProviderRefused(String),
    #[error(
        "cannot take {requested} off {sku} at {warehouse}: {on_hand} on hand, {reserved} of them reserved"
    )]
    StockBelowReserved {
        sku: String,
        warehouse: String,
        requested: i64,
        on_hand: i64,
        reserved: i64,
    },
    #[error("the stock file was not imported (nothing changed): {}", .0.join("; "))]
    StockFileRejected(Vec<String>),
    #[error("{0}")]
    NothingToPick(String),
    #[error("{0}")]
    PackingExceedsShipment(String),
    #[error("{0}")]
    NoShippingService(String),
    #[error("{0}")]
    UnknownCarrierService(String),
    #[error("invoice {invoice} has nothing open ({state}): cannot {action}")]
    InvoiceNotOpen {
        invoice: String,
        state: String,
        action: &'static str,
    },
    #[error("invoice {invoice} is not due until {due_on}: cannot {action}")]
    InvoiceNotDue {
        invoice: String,
        due_on: String,
        action: &'static str,
    },
    #[error(
        "promised_on: {date} is in the past (today is {today}); a promise is for today or later"
    )]
    PromiseDateInPast { date: String, today: String },
    #[error(
        "writing off {requested} exceeds the {role} role's limit of {limit}: ask someone with a higher limit"
    )]
    WriteOffOverLimit {
        requested: String,
        limit: String,
        role: String,
    },
}

impl DomainError {
    /// The stable, documented code of the rule that was broken.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::UnknownCustomer(_) => "unknown-customer",
            DomainError::UnknownSku { .. } => "unknown-sku",
            DomainError::UnknownWarehouse(_) => "unknown-warehouse",
            DomainError::NotFound { .. } => "not-found",
            DomainError::QuantityNotPositive { .. } => "quantity-not-positive",
            DomainError::AmountNotPositive { .. } => "amount-not-positive",
            DomainError::CurrencyMismatch { .. } => "currency-mismatch",
            DomainError::MissingAddress { .. } => "missing-address",
            DomainError::InvalidField { .. } => "invalid-field",
            DomainError::NoLines => "order-without-lines",
            DomainError::DuplicateSku(_) => "duplicate-sku",
            DomainError::DuplicateWarehouse(_) => "duplicate-warehouse",
            DomainError::IllegalStateTransition { .. } => "illegal-state-transition",
            DomainError::IdempotencyKeyReusedWithDifferentBody(_) => "idempotency-key-reused",
            DomainError::IdempotencyKeyMissing => "idempotency-key-missing",
            DomainError::ApplicationExceedsOpenAmount { .. } => "application-exceeds-open-amount",
            DomainError::UnknownTaxCategory { .. } => "unknown-tax-category",
            DomainError::MissingTaxRate { .. } => "missing-tax-rate",
            DomainError::PriceListCurrency { .. } => "price-list-currency-mismatch",
            DomainError::NoPrice { .. } => "no-price",
            DomainError::NothingToInvoice(_) => "nothing-to-invoice",
            DomainError::CreditExceedsInvoice(_) => "credit-exceeds-invoice",
            DomainError::DocumentIncomplete(_) => "document-incomplete",
            DomainError::MissingFxRate { .. } => "missing-fx-rate",
            DomainError::UnknownStatementFormat(_) => "unknown-statement-format",
            DomainError::MalformedStatement(_) => "malformed-statement",
            DomainError::AccountCurrencyMismatch(_) => "account-currency-mismatch",
            DomainError::WebhookSignatureInvalid(_) => "webhook-signature-invalid",
            DomainError::RefundExceedsUnappliedCash { .. } => "refund-exceeds-unapplied-cash",
            DomainError::SepaNotConfigured(_) => "sepa-not-configured",
            DomainError::CollectionFileInvalid(_) => "collection-file-invalid",
            DomainError::CardNumberNotAccepted(_) => "card-number-not-accepted",
            DomainError::PaymentProviderRefused(_) => "payment-provider-refused",
            DomainError::StockBelowReserved { .. } => "stock-below-reserved",
            DomainError::StockFileRejected(_) => "stock-file-rejected",
            DomainError::NothingToPick(_) => "nothing-to-pick",
            DomainError::PackingExceedsShipment(_) => "packing-exceeds-shipment",
            DomainError::NoShippingService(_) => "no-shipping-service",
            DomainError::UnknownCarrierService(_) => "unknown-carrier-service",
            DomainError::InvoiceNotOpen { .. } => "invoice-not-open",
            DomainError::InvoiceNotDue { .. } => "invoice-not-due",
            DomainError::PromiseDateInPast { .. } => "promise-date-in-past",
            DomainError::WriteOffOverLimit { .. } => "write-off-over-limit",
            DomainError::Money { source, .. } => match source {
                MoneyError::CurrencyMismatch { .. } => "currency-mismatch",
                MoneyError::UnknownCurrency(_) => "unknown-currency",
                MoneyError::Overflow => "amount-out-of-range",
                MoneyError::MalformedAmount(_) | MoneyError::TooManyDecimals { .. } => {
                    "malformed-amount"
                }
            },
        }
    }

    pub fn money(field: impl Into<String>) -> impl FnOnce(MoneyError) -> DomainError {
        let field = field.into();
        move |source| DomainError::Money { field, source }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> DomainError {
        DomainError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
