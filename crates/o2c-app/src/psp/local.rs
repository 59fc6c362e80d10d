//! The built-in `local` provider: a payment-service provider in miniature, for development,
//! demos and tests. o2c serves its hosted page (`/psp/local/checkout/{session}`: Pay or
//! Decline); the payer's choice becomes a webhook signed the way real providers sign theirs
//! (Stripe's scheme): header `O2c-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>">`, accepted for five minutes. The secret is `O2C_PSP_LOCAL_SECRET`, or a random
//! one generated on first use and kept in `settings`.
//!
//! It charges a fee like a card acquirer: 1.5 % plus a quarter of the currency's main unit.

use super::{
    CheckoutRequest, HostedCheckout, PaymentProvider, ProviderRefund, PspError, RefundRequest,
    WebhookEvent, WebhookHeaders, WebhookOutcome,
};
use crate::context::Ctx;
use crate::error::{AppError, Result};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use o2c_core::{Currency, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const NAME: &str = "local";
pub const SIGNATURE_HEADER: &str = "O2c-Signature";
/// How old a signature may be: a captured webhook cannot be replayed days later.
pub const TOLERANCE_SECONDS: i64 = 300;
pub const SECRET_ENV: &str = "O2C_PSP_LOCAL_SECRET";
/// `off` turns the provider off: its page takes no decisions and its webhooks are refused, so
/// no test payment can be booked in production.
pub const SWITCH_ENV: &str = "O2C_PSP_LOCAL";
const SECRET_SETTING: &str = "psp.local.secret";
const FEE_BASIS_POINTS: i64 = 150;

pub struct LocalProvider {
    secret: Vec<u8>,
}

impl LocalProvider {
    pub fn new(secret: &[u8]) -> LocalProvider {
        LocalProvider {
            secret: secret.to_vec(),
        }
    }

    /// The provider with its webhook secret: the environment's, else the stored one, else a
    /// new random one stored now (in the caller's transaction).
    pub fn load_in_tx(conn: &mut dyn Conn, ctx: &Ctx) -> Result<LocalProvider> {
        if std::env::var(SWITCH_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("off")) {
            return Err(o2c_core::DomainError::invalid(
                "provider",
                format!("the local test provider is turned off ({SWITCH_ENV}=off)"),
            )
            .into());
        }
        if let Some(s) = std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()) {
            return Ok(LocalProvider::new(s.as_bytes()));
        }
        let stored = |conn: &mut dyn Conn| -> Result<Option<String>> {
            Ok(conn
                .query_opt(
                    "SELECT value FROM settings WHERE key = $1",
                    params![SECRET_SETTING],
                )?
                .map(|r| r.text(0)))
        };
        if let Some(s) = stored(conn)? {
            return Ok(LocalProvider::new(s.as_bytes()));
        }
        let fresh = format!(
            "whsec_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            params![SECRET_SETTING, fresh.as_str(), ctx.timestamp()],
        )?;
        let s = stored(conn)?.ok_or_else(|| AppError::Internal("webhook secret".into()))?;
        Ok(LocalProvider::new(s.as_bytes()))
    }

    /// The signature header for `body` sent at `timestamp` (unix seconds).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let digest = self.mac(timestamp, body).finalize().into_bytes();
        format!("t={timestamp},v1={}", hex(&digest))
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// What the hosted page sends when the payer decides: the webhook body and its signature.
    pub fn webhook_for(
        &self,
        ctx: &Ctx,
        provider_session_id: &str,
        amount: Money,
        pay: bool,
    ) -> (Vec<u8>, String) {
        let raw = ctx.ids.next_raw();
        let wire = if pay {
            Wire {
                id: format!("evt_local_{raw}"),
                kind: "checkout.succeeded".into(),
                session: provider_session_id.into(),
                amount: Some(amount.to_decimal_string()),
                currency: Some(amount.currency().code().into()),
                fee: Some(fee(amount).to_decimal_string()),
                reference: Some(format!("ch_local_{raw}")),
                method: Some("card".into()),
                failure_reason: None,
            }
        } else {
            Wire {
                id: format!("evt_local_{raw}"),
                kind: "checkout.failed".into(),
                session: provider_session_id.into(),
                amount: None,
                currency: None,
                fee: None,
                reference: None,
                method: None,
                failure_reason: Some("card declined by the issuer (insufficient funds)".into()),
            }
        };
        let body = serde_json::to_vec(&wire).expect("serializable");
        let header = self.sign(ctx.now.timestamp(), &body);
        (body, header)
    }
}

/// The local provider's fee on a captured amount.
pub fn fee(amount: Money) -> Money {
    let percent = (amount.minor() as i128 * FEE_BASIS_POINTS as i128 + 5_000) / 10_000;
    let fixed = 10i64.pow(amount.currency().exponent() as u32) / 4;
    Money::new(percent as i64 + fixed, amount.currency())
}

/// The webhook body on the wire.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
}

impl PaymentProvider for LocalProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn create_checkout(&self, r: &CheckoutRequest<'_>) -> Result<HostedCheckout, PspError> {
        let raw = r.session_id.rsplit('_').next().unwrap_or(r.session_id);
        let provider_session_id = format!("lcs_{raw}");
        Ok(HostedCheckout {
            redirect_url: format!(
                "{}/psp/local/checkout/{provider_session_id}",
                r.base_url.trim_end_matches('/')
            ),
            provider_session_id,
        })
    }

    fn verify_webhook(
        &self,
        raw_body: &[u8],
        headers: &WebhookHeaders,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, PspError> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .ok_or(PspError::SignatureMissing(SIGNATURE_HEADER))?;
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
                Some(("v1", v)) => candidates.extend(unhex(v)),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(PspError::SignatureMissing(SIGNATURE_HEADER))?;
        // Every signature is checked before the age, so a forged header learns nothing.
        if !candidates
            .iter()
            .any(|c| self.mac(timestamp, raw_body).verify_slice(c).is_ok())
        {
            return Err(PspError::SignatureMismatch);
        }
        let age = now.timestamp() - timestamp;
        if age.abs() > TOLERANCE_SECONDS {
            return Err(PspError::Expired {
                age_seconds: age,
                tolerance_seconds: TOLERANCE_SECONDS,
            });
        }
        parse(raw_body)
    }

    fn refund(&self, r: &RefundRequest<'_>) -> Result<ProviderRefund, PspError> {
        let Some(charge) = r.provider_reference.strip_prefix("ch_local_") else {
            return Err(PspError::Refused(format!(
                "no local charge `{}`",
                r.provider_reference
            )));
        };
        if !r.amount.is_positive() {
            return Err(PspError::Refused("a refund must be positive".into()));
        }
        Ok(ProviderRefund {
            provider_refund_id: format!("re_local_{charge}_{}", r.idempotency_key),
        })
    }
}

fn parse(raw: &[u8]) -> Result<WebhookEvent, PspError> {
    let w: Wire = serde_json::from_slice(raw).map_err(|e| PspError::Malformed(e.to_string()))?;
    let missing = |f: &str| PspError::Malformed(format!("`{f}` is missing"));
    let outcome = match w.kind.as_str() {
        "checkout.succeeded" => {
            let currency =
                Currency::parse(w.currency.as_deref().ok_or_else(|| missing("currency"))?)
                    .map_err(|e| PspError::Malformed(e.to_string()))?;
            let money = |f: &str, v: Option<&str>| {
                Money::parse(v.ok_or_else(|| missing(f))?, currency)
                    .map_err(|e| PspError::Malformed(format!("{f}: {e}")))
            };
            WebhookOutcome::Succeeded {
                amount: money("amount", w.amount.as_deref())?,
                fee: money("fee", w.fee.as_deref().or(Some("0")))?,
                provider_reference: w.reference.ok_or_else(|| missing("reference"))?,
                method: match w.method.as_deref() {
                    Some("wallet") => "wallet",
                    _ => "card",
                },
            }
        }
        "checkout.failed" => WebhookOutcome::Failed {
            reason: w.failure_reason.unwrap_or_else(|| "declined".into()),
        },
        other => return Err(PspError::Malformed(format!("unknown event type `{other}`"))),
    };
    Ok(WebhookEvent {
        event_id: w.id,
        provider_session_id: w.session,
        outcome,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> WebhookHeaders {
        WebhookHeaders(vec![("o2c-signature".into(), v.into())])
    }

    fn body() -> Vec<u8> {
        br#"{"id":"evt_1","type":"checkout.succeeded","session":"lcs_1","amount":"11.90","currency":"EUR","fee":"0.43","reference":"ch_local_1","method":"card"}"#.to_vec()
    }

    #[test]
    fn a_signed_webhook_verifies_and_reads() {
        let p = LocalProvider::new(b"secret");
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let sig = p.sign(now.timestamp() - 10, &body());
        let e = p.verify_webhook(&body(), &headers(&sig), now).unwrap();
        assert_eq!(e.event_id, "evt_1");
        assert!(
            matches!(e.outcome, WebhookOutcome::Succeeded { amount, .. } if amount.minor() == 1190)
        );
    }

    #[test]
    fn a_tampered_body_another_secret_or_an_old_signature_is_refused() {
        let p = LocalProvider::new(b"secret");
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let sig = p.sign(now.timestamp(), &body());
        let mut tampered = body();
        tampered[60] = b'9';
        assert_eq!(
            p.verify_webhook(&tampered, &headers(&sig), now),
            Err(PspError::SignatureMismatch)
        );
        let other = LocalProvider::new(b"other").sign(now.timestamp(), &body());
        assert_eq!(
            p.verify_webhook(&body(), &headers(&other), now),
            Err(PspError::SignatureMismatch)
        );
        let old = p.sign(now.timestamp() - TOLERANCE_SECONDS - 1, &body());
        assert!(matches!(
            p.verify_webhook(&body(), &headers(&old), now),
            Err(PspError::Expired { .. })
        ));
        assert_eq!(
            p.verify_webhook(&body(), &WebhookHeaders::default(), now),
            Err(PspError::SignatureMissing(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn the_fee_is_one_and_a_half_percent_and_a_quarter() {
        assert_eq!(fee(Money::new(10_000, Currency::EUR)).minor(), 175);
        assert_eq!(fee(Money::new(1_000, Currency::JPY)).minor(), 15);
    }
}
