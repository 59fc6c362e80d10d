//! Payment capture: customers' payment methods, card and wallet payments through a
//! payment-service provider (hosted checkout, signed webhooks), SEPA direct-debit collections,
//! returned payments and refunds of overpayments. Every money movement posts a template
//! (`PSP_SETTLED`, `DEBIT_COLLECTED`, `FEE_CHARGED`, `PAYMENT_RETURNED`, `APPLICATION_REVERSED`,
//! `REFUND_PAID`) in the same transaction as the state change.
//!
//! A provider is a [`PaymentProvider`]: it opens a hosted checkout, verifies and reads its own
//! webhooks, and refunds a captured payment. The flows call it inside the use-case's
//! transaction, which is right for the built-in [`local`] provider (pure functions); an adapter
//! that calls a remote PSP should reserve, call outside the transaction and record (see
//! ARCHITECTURE.md, "Payment capture").

pub mod local;
pub mod methods;
pub mod notify;
pub mod payouts;
pub mod refund;
pub mod returns;
pub mod sepa;

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::payment::{self, NewPayment, PaymentSource};
use chrono::{DateTime, Utc};
use o2c_core::id::CheckoutSessionId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;

/// A payment-service provider as o2c uses it.
pub trait PaymentProvider: Send + Sync {
    /// The stable name in URLs and rows (`local`).
    fn name(&self) -> &'static str;
    /// Opens a hosted checkout for `amount`; the payer is sent to the URL it returns.
    fn create_checkout(&self, request: &CheckoutRequest<'_>) -> Result<HostedCheckout, PspError>;
    /// Checks the signature of a webhook (raw body as received, its headers) and reads it.
    fn verify_webhook(
        &self,
        raw_body: &[u8],
        headers: &WebhookHeaders,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, PspError>;
    /// Gives back `amount` of a captured payment to the card or wallet it came from.
    /// `idempotency_key` is unique per refund part, so a retried call refunds once.
    fn refund(&self, request: &RefundRequest<'_>) -> Result<ProviderRefund, PspError>;
}

pub struct CheckoutRequest<'a> {
    pub session_id: &'a str,
    pub amount: Money,
    pub description: &'a str,
    /// Where o2c is reached from the payer's browser (`http://127.0.0.1:8080`).
    pub base_url: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedCheckout {
    pub provider_session_id: String,
    pub redirect_url: String,
}

/// Request headers by name, case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct WebhookHeaders(pub Vec<(String, String)>);

impl WebhookHeaders {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The provider's event id: a webhook delivered twice books once.
    pub event_id: String,
    pub provider_session_id: String,
    pub outcome: WebhookOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    Succeeded {
        amount: Money,
        /// What the provider keeps of it.
        fee: Money,
        provider_reference: String,
        /// `card` or `wallet`.
        method: &'static str,
    },
    Failed {
        reason: String,
    },
}

pub struct RefundRequest<'a> {
    pub idempotency_key: &'a str,
    pub provider_reference: &'a str,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefund {
    pub provider_refund_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PspError {
    #[error("no signature header `{0}`")]
    SignatureMissing(&'static str),
    #[error("the signature does not match the body")]
    SignatureMismatch,
    #[error("the signature is {age_seconds} s old; at most {tolerance_seconds} s are accepted")]
    Expired {
        age_seconds: i64,
        tolerance_seconds: i64,
    },
    #[error("webhook body: {0}")]
    Malformed(String),
    #[error("{0}")]
    Refused(String),
}

impl From<PspError> for AppError {
    fn from(e: PspError) -> Self {
        match e {
            PspError::Malformed(m) => DomainError::invalid("body", m).into(),
            PspError::Refused(m) => DomainError::PaymentProviderRefused(m).into(),
            other => DomainError::WebhookSignatureInvalid(other.to_string()).into(),
        }
    }
}

/// The provider named `name`, configured from this database.
pub fn provider(conn: &mut dyn Conn, ctx: &Ctx, name: &str) -> Result<Box<dyn PaymentProvider>> {
    match name {
        local::NAME => Ok(Box::new(local::LocalProvider::load_in_tx(conn, ctx)?)),
        other => Err(DomainError::invalid(
            "provider",
            format!(
                "unknown payment provider `{other}`; available: {}",
                local::NAME
            ),
        )
        .into()),
    }
}

/// A checkout session's life.
///
/// ```text
/// open ──succeeded──► paid          (terminal: later events book nothing)
///  │                   ▲
///  └──declined──► failed ──succeeded┘   (a declined payer may try again on the same page)
///                  └──declined──► failed
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Failed,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    Succeeded,
    Declined,
}

impl SessionStatus {
    pub fn parse(s: &str) -> Option<SessionStatus> {
        match s {
            "open" => Some(SessionStatus::Open),
            "failed" => Some(SessionStatus::Failed),
            "paid" => Some(SessionStatus::Paid),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Failed => "failed",
            SessionStatus::Paid => "paid",
        }
    }
    /// The next status, or `None` when the event changes nothing (the session is paid).
    pub fn next(self, event: SessionEvent) -> Option<SessionStatus> {
        match (self, event) {
            (SessionStatus::Open, SessionEvent::Succeeded) => Some(SessionStatus::Paid),
            (SessionStatus::Open, SessionEvent::Declined) => Some(SessionStatus::Failed),
            (SessionStatus::Failed, SessionEvent::Succeeded) => Some(SessionStatus::Paid),
            (SessionStatus::Failed, SessionEvent::Declined) => Some(SessionStatus::Failed),
            (SessionStatus::Paid, SessionEvent::Succeeded) => None,
            (SessionStatus::Paid, SessionEvent::Declined) => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckoutSession {
    pub id: String,
    pub provider: String,
    pub provider_session_id: String,
    pub customer_id: String,
    pub invoice_ids: Vec<String>,
    pub amount: Money,
    pub status: String,
    pub url: String,
    pub payment_id: Option<String>,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: String,
}

/// Opens a hosted checkout for what an invoice still owes. An open session for the same
/// amount is returned again rather than a second one opened.
pub fn create_checkout_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    provider_name: &str,
    invoice_ref: &str,
    base_url: &str,
) -> Result<CheckoutSession> {
    let inv = conn
        .query_opt(
            &format!("SELECT id, number, customer_id, currency, open_minor, payment_status, kind, order_id FROM invoices WHERE id = $1 OR number = $1{}", conn.for_update()),
            params![invoice_ref],
        )?
        .ok_or_else(|| not_found("invoice", invoice_ref))?;
    let (invoice_id, number, customer_id) = (inv.text(0), inv.text(1), inv.text(2));
    if inv.text(6) != "invoice" || inv.int(4) <= 0 {
        return Err(DomainError::IllegalStateTransition {
            document: "invoice",
            id: number,
            state: if inv.text(6) == "invoice" {
                inv.text(5)
            } else {
                inv.text(6)
            },
            action: "take a card payment for it (nothing is open)",
        }
        .into());
    }
    let amount = Money::new(inv.int(4), Currency::parse(&inv.text(3))?);
    let invoice_ids = serde_json::to_string(&[&invoice_id])?;
    if let Some(r) = conn.query_opt(
        "SELECT id FROM checkout_sessions WHERE provider = $1 AND invoice_ids = $2 AND amount_minor = $3 AND status = 'open' ORDER BY created_at DESC LIMIT 1",
        params![provider_name, invoice_ids.as_str(), amount.minor()],
    )? {
        return get(conn, &r.text(0));
    }
    let provider = provider(conn, ctx, provider_name)?;
    let id = CheckoutSessionId::generate(ctx.ids.as_ref());
    let hosted = provider.create_checkout(&CheckoutRequest {
        session_id: id.as_str(),
        amount,
        description: &format!("Invoice {number}"),
        base_url,
    })?;
    conn.execute(
        "INSERT INTO checkout_sessions (id, provider, provider_session_id, customer_id, invoice_ids, amount_minor, currency, status, redirect_url, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $9)",
        params![id.as_str(), provider.name(), hosted.provider_session_id.as_str(), customer_id.as_str(), invoice_ids.as_str(), amount.minor(), amount.currency().code(), hosted.redirect_url.as_str(), ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CheckoutCreated,
            aggregate_type: "checkout_session",
            aggregate_id: id.as_str(),
            order_id: Some(&inv.text(7)),
            customer_id: Some(&customer_id),
            data: json!({"provider": provider.name(), "invoice_ids": [invoice_id], "amount": amount}),
        },
    )?;
    get(conn, id.as_str())
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<CheckoutSession> {
    let r = conn
        .query_opt(
            "SELECT id, provider, provider_session_id, customer_id, invoice_ids, amount_minor, currency, status, redirect_url, payment_id, provider_reference, failure_reason, created_at
             FROM checkout_sessions WHERE id = $1 OR provider_session_id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("checkout session", id))?;
    Ok(CheckoutSession {
        id: r.text(0),
        provider: r.text(1),
        provider_session_id: r.text(2),
        customer_id: r.text(3),
        invoice_ids: serde_json::from_str(&r.text(4))?,
        amount: Money::new(r.int(5), Currency::parse(&r.text(6))?),
        status: r.text(7),
        url: r.text(8),
        payment_id: r.opt_text(9),
        provider_reference: r.opt_text(10),
        failure_reason: r.opt_text(11),
        created_at: r.text(12),
    })
}

/// The numbers of invoices, in the order given (for what the payer sees).
pub fn invoice_numbers(conn: &mut dyn Conn, invoice_ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(invoice_ids.len());
    for id in invoice_ids {
        let r = conn.query_opt(
            "SELECT number FROM invoices WHERE id = $1",
            params![id.as_str()],
        )?;
        out.push(r.map_or_else(|| id.clone(), |r| r.text(0)));
    }
    Ok(out)
}

/// What a webhook did.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookReceipt {
    pub event_id: String,
    /// The event was received before: nothing was booked this time.
    pub duplicate: bool,
    /// `paid`, `failed`, `ignored` (session already paid) or `unknown_session`.
    pub outcome: String,
    pub session_id: Option<String>,
    pub payment_id: Option<String>,
}

/// Verifies a provider's webhook and books what it says, once per provider event id: a
/// captured payment becomes unapplied cash on PSP clearing (applied to the session's invoices
/// by `cash.auto_apply`) with the provider's fee as an expense; a declined one tells the
/// customer how else to pay. A bad signature is an error and writes nothing.
pub fn receive_webhook_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    provider_name: &str,
    raw_body: &[u8],
    headers: &WebhookHeaders,
) -> Result<WebhookReceipt> {
    let provider = provider(conn, ctx, provider_name)?;
    let event = provider.verify_webhook(raw_body, headers, ctx.now)?;
    let provider_name = provider.name();
    let mut receipt = WebhookReceipt {
        event_id: event.event_id.clone(),
        duplicate: false,
        outcome: String::new(),
        session_id: None,
        payment_id: None,
    };
    if conn
        .query_opt(
            "SELECT outcome, session_id FROM psp_webhook_events WHERE provider = $1 AND event_id = $2",
            params![provider_name, event.event_id.as_str()],
        )?
        .map(|r| {
            receipt.outcome = r.text(0);
            receipt.session_id = r.opt_text(1);
        })
        .is_some()
    {
        receipt.duplicate = true;
        return Ok(receipt);
    }
    let session = conn.query_opt(
        &format!("SELECT id, status, customer_id, invoice_ids, currency FROM checkout_sessions WHERE provider = $1 AND provider_session_id = $2{}", conn.for_update()),
        params![provider_name, event.provider_session_id.as_str()],
    )?;
    let (kind, outcome) = match &session {
        None => (kind_of(&event.outcome), "unknown_session".to_string()),
        Some(s) => {
            let status = SessionStatus::parse(&s.text(1))
                .ok_or_else(|| AppError::Internal(format!("session status {}", s.text(1))))?;
            receipt.session_id = Some(s.text(0));
            let invoice_ids: Vec<String> = serde_json::from_str(&s.text(3))?;
            let session = Session {
                id: s.text(0),
                customer_id: s.text(2),
                invoice_ids,
                currency: Currency::parse(&s.text(4))?,
            };
            let outcome = apply_outcome(conn, ctx, provider_name, &session, status, &event)?;
            receipt.payment_id = outcome.1;
            (kind_of(&event.outcome), outcome.0.to_string())
        }
    };
    conn.execute(
        "INSERT INTO psp_webhook_events (provider, event_id, session_id, kind, outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![provider_name, event.event_id.as_str(), receipt.session_id.as_deref(), kind, outcome.as_str(), ctx.timestamp()],
    )?;
    receipt.outcome = outcome;
    Ok(receipt)
}

fn kind_of(outcome: &WebhookOutcome) -> &'static str {
    match outcome {
        WebhookOutcome::Succeeded { .. } => "succeeded",
        WebhookOutcome::Failed { .. } => "failed",
    }
}

struct Session {
    id: String,
    customer_id: String,
    invoice_ids: Vec<String>,
    currency: Currency,
}

fn apply_outcome(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    provider_name: &str,
    session: &Session,
    status: SessionStatus,
    event: &WebhookEvent,
) -> Result<(&'static str, Option<String>)> {
    let happened = match event.outcome {
        WebhookOutcome::Succeeded { .. } => SessionEvent::Succeeded,
        WebhookOutcome::Failed { .. } => SessionEvent::Declined,
    };
    let Some(next) = status.next(happened) else {
        return Ok(("ignored", None));
    };
    match &event.outcome {
        WebhookOutcome::Succeeded {
            amount,
            fee,
            provider_reference,
            method,
        } => {
            if amount.currency() != session.currency || !amount.is_positive() {
                return Err(DomainError::invalid(
                    "body",
                    format!(
                        "the provider reports {amount} for a session in {}",
                        session.currency
                    ),
                )
                .into());
            }
            let payment_id = record_capture(
                conn,
                ctx,
                provider_name,
                session,
                *amount,
                *fee,
                provider_reference,
                method,
            )?;
            conn.execute(
                "UPDATE checkout_sessions SET status = $2, payment_id = $3, provider_reference = $4, updated_at = $5 WHERE id = $1",
                params![session.id.as_str(), next.as_str(), payment_id.as_str(), provider_reference.as_str(), ctx.timestamp()],
            )?;
            Ok(("paid", Some(payment_id)))
        }
        WebhookOutcome::Failed { reason } => {
            conn.execute(
                "UPDATE checkout_sessions SET status = $2, failure_reason = $3, updated_at = $4 WHERE id = $1",
                params![session.id.as_str(), next.as_str(), reason.as_str(), ctx.timestamp()],
            )?;
            event::emit(
                conn,
                ctx,
                NewEvent {
                    kind: EventType::CheckoutFailed,
                    aggregate_type: "checkout_session",
                    aggregate_id: &session.id,
                    order_id: None,
                    customer_id: Some(&session.customer_id),
                    data: json!({"reason": reason, "invoice_ids": session.invoice_ids}),
                },
            )?;
            notify::card_payment_failed_in_tx(
                conn,
                ctx,
                &session.customer_id,
                &session.id,
                &session.invoice_ids,
                reason,
            )?;
            Ok(("failed", None))
        }
    }
}

/// The captured payment: unapplied cash on PSP clearing, named to the session's invoices, and
/// the provider's fee as an expense taken from the clearing account.
#[allow(clippy::too_many_arguments)]
fn record_capture(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    provider_name: &str,
    session: &Session,
    amount: Money,
    fee: Money,
    provider_reference: &str,
    method: &str,
) -> Result<String> {
    let received_on = ctx.today().to_string();
    let functional = crate::fx::functional_currency(conn)?;
    let fx_rate = crate::fx::rate_on(conn, functional, amount.currency(), &received_on)?;
    let id = payment::insert_in_tx(
        conn,
        ctx,
        &NewPayment {
            customer_id: &session.customer_id,
            amount,
            method,
            reference: Some(provider_reference),
            received_on: &received_on,
            functional,
            fx_rate,
            source: PaymentSource::Psp,
            invoice_ids: &session.invoice_ids,
        },
    )?;
    conn.execute(
        "UPDATE payments SET provider = $2, provider_reference = $3, fee_minor = $4 WHERE id = $1",
        params![id.as_str(), provider_name, provider_reference, fee.minor()],
    )?;
    if fee.is_positive() {
        let entry =
            o2c_core::ledger::fee_charged(id.as_str(), fee, o2c_core::ledger::PSP_CLEARING)?;
        crate::ledger::post(
            conn,
            ctx,
            &entry.translate(functional, fx_rate, &[])?,
            Some(&session.customer_id),
        )?;
    }
    Ok(id.to_string())
}

/// Recent checkout sessions, newest first.
pub fn list(
    conn: &mut dyn Conn,
    customer_id: Option<&str>,
    limit: i64,
) -> Result<Vec<CheckoutSession>> {
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM checkout_sessions WHERE (CAST($1 AS TEXT) IS NULL OR customer_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2",
            params![customer_id, limit],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_session_status_and_event_has_one_outcome() {
        use SessionEvent::*;
        use SessionStatus::*;
        let table = [
            (Open, Succeeded, Some(Paid)),
            (Open, Declined, Some(Failed)),
            (Failed, Succeeded, Some(Paid)),
            (Failed, Declined, Some(Failed)),
            (Paid, Succeeded, None),
            (Paid, Declined, None),
        ];
        for (state, event, expected) in table {
            assert_eq!(state.next(event), expected, "{state:?} + {event:?}");
            assert_eq!(SessionStatus::parse(state.as_str()), Some(state));
        }
    }
}
