//! Customer master data, parsed once at the edge.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// Optional tax region within the country (ISO 3166-2 subdivision such as `ES-CN`), used
    /// where a region has its own tax rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Address {
    /// Checks an address from outside; `field` names it in the error ("billing_address").
    pub fn parse(mut a: Address, field: &str) -> Result<Address, DomainError> {
        for (name, value) in [
            ("line1", &a.line1),
            ("city", &a.city),
            ("postal_code", &a.postal_code),
        ] {
            if value.trim().is_empty() {
                return Err(DomainError::invalid(
                    format!("{field}.{name}"),
                    "must not be empty",
                ));
            }
        }
        let c = a.country.trim().to_ascii_uppercase();
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DomainError::invalid(
                format!("{field}.country"),
                "expected an ISO 3166 two-letter code such as DE",
            ));
        }
        a.country = c;
        Ok(a)
    }
}

/// Net payment terms in days (0 = due on receipt).
pub fn parse_payment_terms_days(days: i64) -> Result<u32, DomainError> {
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= 365)
        .ok_or_else(|| DomainError::invalid("payment_terms_days", "expected 0 to 365 days"))
}
