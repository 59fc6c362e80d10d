//! How a customer pays: bank transfer (the default), card or wallet (a provider's token and
//! what may be shown of the card, never its number), or SEPA direct debit under a mandate.
//! Mandates outlive the list: their sequence (FRST until the first collection, RCUR after it)
//! and a revocation by a return survive a new `PUT`.

use crate::context::Ctx;
use crate::customer;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use chrono::NaiveDate;
use o2c_core::{Currency, DomainError};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodsRequest {
    pub methods: Vec<MethodRequest>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MethodRequest {
    /// bank_transfer, card, wallet or direct_debit.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub default: bool,
    /// Card and wallet: the provider that holds the card (`local`) and its token.
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub last4: Option<String>,
    /// Wallet: `apple_pay`, `google_pay`, `paypal`…
    #[serde(default)]
    pub wallet: Option<String>,
    /// Direct debit: the mandate.
    #[serde(default)]
    pub mandate_id: Option<String>,
    #[serde(default)]
    pub signed_on: Option<String>,
    #[serde(default)]
    pub iban: Option<String>,
    #[serde(default)]
    pub bic: Option<String>,
    /// The account holder when it is not the customer's name.
    #[serde(default)]
    pub account_holder: Option<String>,
    /// CORE (default) or B2B.
    #[serde(default)]
    pub scheme: Option<String>,
    /// FRST or RCUR; a new mandate starts at FRST.
    #[serde(default)]
    pub sequence: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentMethods {
    pub customer_id: String,
    pub default: String,
    pub methods: Vec<Method>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Method {
    #[serde(rename = "type")]
    pub kind: String,
    pub default: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mandate: Option<Mandate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mandate {
    pub mandate_id: String,
    pub signed_on: String,
    pub account_holder: String,
    pub iban: String,
    pub bic: Option<String>,
    pub scheme: String,
    pub sequence: String,
    /// active, inactive or revoked.
    pub status: String,
    pub status_reason: Option<String>,
    pub last_collected_on: Option<String>,
}

const KINDS: &[&str] = &["bank_transfer", "card", "wallet", "direct_debit"];

/// Replaces the customer's payment methods.
pub fn set_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    r: &PaymentMethodsRequest,
) -> Result<PaymentMethods> {
    let cust =
        customer::find(conn, customer_id)?.ok_or_else(|| not_found("customer", customer_id))?;
    if r.methods.iter().filter(|m| m.default).count() > 1 {
        return Err(
            DomainError::invalid("methods", "at most one method can be the default").into(),
        );
    }
    if r.methods
        .iter()
        .filter(|m| m.kind == "direct_debit")
        .count()
        > 1
    {
        return Err(DomainError::invalid(
            "methods",
            "at most one direct-debit mandate is in force at a time",
        )
        .into());
    }
    let default_at = r.methods.iter().position(|m| m.default).unwrap_or(0);
    conn.execute(
        "DELETE FROM payment_methods WHERE customer_id = $1",
        params![customer_id],
    )?;
    let mut mandate_in_force = None;
    for (i, m) in r.methods.iter().enumerate() {
        let field = |f: &str| format!("methods[{i}].{f}");
        if !KINDS.contains(&m.kind.as_str()) {
            return Err(DomainError::invalid(
                field("type"),
                format!("expected one of {}", KINDS.join(", ")),
            )
            .into());
        }
        let mut card = Card::default();
        let mut mandate_id = None;
        match m.kind.as_str() {
            "card" | "wallet" => card = Card::parse(m, i)?,
            "direct_debit" => {
                if cust.currency != Currency::EUR {
                    return Err(DomainError::invalid(
                        field("type"),
                        format!(
                            "SEPA direct debits are in EUR; the customer is billed in {}",
                            cust.currency
                        ),
                    )
                    .into());
                }
                let id = upsert_mandate(conn, ctx, customer_id, &cust.name, m, i)?;
                mandate_in_force = Some(id.clone());
                mandate_id = Some(id);
            }
            _ => {}
        }
        conn.execute(
            "INSERT INTO payment_methods (customer_id, position, kind, is_default, provider, token, brand, last4, wallet, mandate_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            params![customer_id, i as i64, m.kind.as_str(), (i == default_at) as i64, card.provider, card.token, card.brand, card.last4, card.wallet, mandate_id, ctx.timestamp()],
        )?;
    }
    // A mandate no longer among the methods is not collected from any more.
    conn.execute(
        "UPDATE sepa_mandates SET status = 'inactive' WHERE customer_id = $1 AND status = 'active' AND (CAST($2 AS TEXT) IS NULL OR mandate_id <> $2)",
        params![customer_id, mandate_in_force.as_deref()],
    )?;
    let methods = get(conn, customer_id)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PaymentMethodsChanged,
            aggregate_type: "customer",
            aggregate_id: customer_id,
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"default": methods.default, "types": methods.methods.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), "mandate_id": mandate_in_force}),
        },
    )?;
    Ok(methods)
}

/// What is kept of a card or wallet: the provider's token and what may be shown.
#[derive(Default)]
struct Card {
    provider: Option<String>,
    token: Option<String>,
    brand: Option<String>,
    last4: Option<String>,
    wallet: Option<String>,
}

impl Card {
    fn parse(m: &MethodRequest, i: usize) -> Result<Card> {
        let field = |f: &str| format!("methods[{i}].{f}");
        let last4 = match m.last4.as_deref() {
            Some(l) if l.len() != 4 || !l.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(DomainError::invalid(field("last4"), "four digits").into());
            }
            other => other.map(String::from),
        };
        Ok(Card {
            provider: Some(check_provider(m.provider.as_deref(), &field("provider"))?),
            token: Some(check_token(m.token.as_deref(), &field("token"))?),
            brand: short_text(m.brand.as_deref(), 20, &field("brand"))?,
            last4,
            wallet: short_text(m.wallet.as_deref(), 30, &field("wallet"))?,
        })
    }
}

fn upsert_mandate(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    customer_name: &str,
    m: &MethodRequest,
    i: usize,
) -> Result<String> {
    let field = |f: &str| format!("methods[{i}].{f}");
    let id = m.mandate_id.as_deref().map(str::trim).unwrap_or_default();
    if id.is_empty() || id.len() > 35 || !id.chars().all(is_sepa_id_char) {
        return Err(DomainError::invalid(
            field("mandate_id"),
            "1 to 35 characters: letters, digits and / - ? : ( ) . , ' + space",
        )
        .into());
    }
    let signed_on = m
        .signed_on
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            DomainError::invalid(
                field("signed_on"),
                "the date the mandate was signed, as YYYY-MM-DD",
            )
        })?;
    if signed_on > ctx.today() {
        return Err(DomainError::invalid(
            field("signed_on"),
            "a mandate cannot be signed in the future",
        )
        .into());
    }
    let iban: String = m
        .iban
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !o2c_core::reference::is_valid_iban(&iban) {
        return Err(DomainError::invalid(field("iban"), "not a valid IBAN (check digits)").into());
    }
    let bic = m
        .bic
        .as_deref()
        .map(|b| b.trim().to_ascii_uppercase())
        .filter(|b| !b.is_empty());
    if bic.as_deref().is_some_and(|b| !is_bic(b)) {
        return Err(
            DomainError::invalid(field("bic"), "not a valid BIC (8 or 11 characters)").into(),
        );
    }
    let scheme = m.scheme.as_deref().unwrap_or("CORE").to_ascii_uppercase();
    if scheme != "CORE" && scheme != "B2B" {
        return Err(DomainError::invalid(field("scheme"), "CORE or B2B").into());
    }
    let sequence = m.sequence.as_deref().map(str::to_ascii_uppercase);
    if sequence
        .as_deref()
        .is_some_and(|s| s != "FRST" && s != "RCUR")
    {
        return Err(DomainError::invalid(field("sequence"), "FRST or RCUR").into());
    }
    let holder = m
        .account_holder
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .unwrap_or(customer_name);
    let existing = conn.query_opt(
        "SELECT status, iban, sequence_type FROM sepa_mandates WHERE customer_id = $1 AND mandate_id = $2",
        params![customer_id, id],
    )?;
    match existing {
        Some(r) if r.text(0) == "revoked" => Err(DomainError::invalid(
            field("mandate_id"),
            format!("mandate `{id}` was revoked after a return: collecting again needs a new mandate with a new id"),
        )
        .into()),
        Some(r) => {
            // A new account under the same mandate is collected as a first debit again
            // (EPC rulebook: amendment to another debtor bank).
            let seq = sequence.unwrap_or_else(|| if r.text(1) != iban { "FRST".into() } else { r.text(2) });
            conn.execute(
                "UPDATE sepa_mandates SET signed_on = $3, debtor_name = $4, iban = $5, bic = $6, scheme = $7, sequence_type = $8, status = 'active' WHERE customer_id = $1 AND mandate_id = $2",
                params![customer_id, id, signed_on.to_string(), holder, iban.as_str(), bic, scheme.as_str(), seq.as_str()],
            )?;
            Ok(id.to_string())
        }
        None => {
            conn.execute(
                "INSERT INTO sepa_mandates (customer_id, mandate_id, signed_on, debtor_name, iban, bic, scheme, sequence_type, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9)",
                params![customer_id, id, signed_on.to_string(), holder, iban.as_str(), bic, scheme.as_str(), sequence.as_deref().unwrap_or("FRST"), ctx.timestamp()],
            )?;
            Ok(id.to_string())
        }
    }
}

fn check_provider(p: Option<&str>, field: &str) -> Result<String> {
    match p.unwrap_or(super::local::NAME) {
        super::local::NAME => Ok(super::local::NAME.to_string()),
        other => Err(DomainError::invalid(
            field,
            format!(
                "unknown payment provider `{other}`; available: {}",
                super::local::NAME
            ),
        )
        .into()),
    }
}

/// A provider's token. A card number sent by mistake is refused and never stored (PCI DSS).
fn check_token(t: Option<&str>, field: &str) -> Result<String> {
    let t = t.map(str::trim).unwrap_or_default();
    let digits: String = t.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if (12..=19).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && luhn(&digits)
    {
        return Err(DomainError::CardNumberNotAccepted(field.to_string()).into());
    }
    if t.is_empty() || t.len() > 200 || t.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(
            field,
            "the provider's token: 1 to 200 characters without spaces",
        )
        .into());
    }
    Ok(t.to_string())
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn short_text(v: Option<&str>, max: usize, field: &str) -> Result<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => {
            Err(DomainError::invalid(field, format!("at most {max} characters")).into())
        }
        other => Ok(other.map(String::from)),
    }
}

fn is_sepa_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

fn is_bic(b: &str) -> bool {
    (b.len() == 8 || b.len() == 11)
        && b[..6].bytes().all(|c| c.is_ascii_uppercase())
        && b[6..]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

pub fn get(conn: &mut dyn Conn, customer_id: &str) -> Result<PaymentMethods> {
    customer::find(conn, customer_id)?.ok_or_else(|| not_found("customer", customer_id))?;
    let rows = conn.query(
        "SELECT p.kind, p.is_default, p.provider, p.token, p.brand, p.last4, p.wallet, p.mandate_id,
                m.signed_on, m.debtor_name, m.iban, m.bic, m.scheme, m.sequence_type, m.status, m.status_reason, m.last_collected_on
         FROM payment_methods p LEFT JOIN sepa_mandates m ON m.customer_id = p.customer_id AND m.mandate_id = p.mandate_id
         WHERE p.customer_id = $1 ORDER BY p.position",
        params![customer_id],
    )?;
    let mut methods: Vec<Method> = rows
        .iter()
        .map(|r| Method {
            kind: r.text(0),
            default: r.int(1) == 1,
            provider: r.opt_text(2),
            token: r.opt_text(3),
            brand: r.opt_text(4),
            last4: r.opt_text(5),
            wallet: r.opt_text(6),
            mandate: r.opt_text(7).map(|id| Mandate {
                mandate_id: id,
                signed_on: r.text(8),
                account_holder: r.text(9),
                iban: r.text(10),
                bic: r.opt_text(11),
                scheme: r.text(12),
                sequence: r.text(13),
                status: r.text(14),
                status_reason: r.opt_text(15),
                last_collected_on: r.opt_text(16),
            }),
        })
        .collect();
    if methods.is_empty() {
        methods.push(Method {
            kind: "bank_transfer".into(),
            default: true,
            provider: None,
            token: None,
            brand: None,
            last4: None,
            wallet: None,
            mandate: None,
        });
    }
    let default = methods
        .iter()
        .find(|m| m.default)
        .map_or("bank_transfer".into(), |m| m.kind.clone());
    Ok(PaymentMethods {
        customer_id: customer_id.to_string(),
        default,
        methods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_recognised_and_tokens_pass() {
        assert!(check_token(Some("4242 4242 4242 4242"), "t").is_err());
        assert!(check_token(Some("5555-5555-5555-4444"), "t").is_err());
        assert_eq!(
            check_token(Some("tok_local_4242"), "t").unwrap(),
            "tok_local_4242"
        );
        // Digits that fail the Luhn check are some provider's numeric token, not a card.
        assert!(check_token(Some("4242424242424241"), "t").is_ok());
    }
}
