//! Refunds of overpayments: money a customer has on account (unapplied cash) goes back, never
//! more than there is. It is taken from the customer's payments oldest first; a part taken from
//! a card or wallet payment goes back to that card through its provider (refunds go back the
//! way the money came), the rest by bank transfer. Each part posts `REFUND_PAID`.

use crate::context::Ctx;
use crate::customer::{self, adjust_balances};
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::ledger;
use o2c_core::id::RefundId;
use o2c_core::ledger as books;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub amount: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    pub id: String,
    pub customer_id: String,
    pub amount: Money,
    pub reason: String,
    pub parts: Vec<RefundPart>,
    pub refunded_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefundPart {
    pub payment_id: String,
    pub amount: Money,
    /// `card` (through the provider) or `bank_transfer`.
    pub route: String,
    pub provider: Option<String>,
    pub provider_refund_id: Option<String>,
}

pub fn refund_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    r: &RefundRequest,
) -> Result<Refund> {
    let cust =
        customer::find(conn, customer_id)?.ok_or_else(|| not_found("customer", customer_id))?;
    let currency = cust.currency;
    let amount = Money::parse(&r.amount, currency).map_err(DomainError::money("amount"))?;
    if !amount.is_positive() {
        return Err(DomainError::AmountNotPositive { field: "amount" }.into());
    }
    let reason = r.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(
            DomainError::invalid("reason", "why the money goes back: 1 to 500 characters").into(),
        );
    }
    let sources = conn.query(
        &format!(
            "SELECT id, unapplied_minor, method, provider, provider_reference, fx_rate FROM payments
             WHERE customer_id = $1 AND unapplied_minor > 0 ORDER BY created_at, id{}",
            conn.for_update()
        ),
        params![customer_id],
    )?;
    let available: i64 = sources.iter().map(|s| s.int(1)).sum();
    if amount.minor() > available {
        return Err(DomainError::RefundExceedsUnappliedCash {
            requested: amount.to_string(),
            available: Money::new(available, currency).to_string(),
        }
        .into());
    }
    let id = RefundId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO refunds (id, customer_id, amount_minor, currency, reason, refunded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![id.as_str(), customer_id, amount.minor(), currency.code(), reason, ctx.actor.to_string(), ctx.timestamp()],
    )?;
    let functional = crate::fx::functional_currency(conn)?;
    let mut left = amount.minor();
    for s in &sources {
        if left == 0 {
            break;
        }
        let take = left.min(s.int(1));
        left -= take;
        let source = Source {
            payment_id: s.text(0),
            unapplied_minor: s.int(1),
            card: matches!(s.text(2).as_str(), "card" | "wallet"),
            provider: s.opt_text(3),
            provider_reference: s.opt_text(4),
            rate: crate::fx::stored(s.opt_text(5))?,
        };
        take_part(
            conn,
            ctx,
            id.as_str(),
            customer_id,
            functional,
            &source,
            Money::new(take, currency),
        )?;
    }
    adjust_balances(conn, customer_id, 0, 0, -amount.minor())?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::RefundPaid,
            aggregate_type: "refund",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: Some(customer_id),
            data: json!({"amount": amount, "reason": reason}),
        },
    )?;
    get(conn, id.as_str())
}

/// A payment a refund takes money from.
struct Source {
    payment_id: String,
    unapplied_minor: i64,
    card: bool,
    provider: Option<String>,
    provider_reference: Option<String>,
    rate: o2c_core::fx::FxRate,
}

/// One part of a refund: to the card through its provider when the money came by card, else
/// by bank transfer; the payment's unapplied cash goes down by it.
fn take_part(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    refund_id: &str,
    customer_id: &str,
    functional: Currency,
    s: &Source,
    part: Money,
) -> Result<()> {
    let (route, provider, provider_refund_id, paid_from) =
        match (s.card, &s.provider, &s.provider_reference) {
            (true, Some(name), Some(reference)) => {
                let done = super::provider(conn, ctx, name)?.refund(&super::RefundRequest {
                    idempotency_key: &format!("{refund_id}-{}", s.payment_id),
                    provider_reference: reference,
                    amount: part,
                })?;
                (
                    "card",
                    Some(name.as_str()),
                    Some(done.provider_refund_id),
                    books::PSP_CLEARING,
                )
            }
            _ => ("bank_transfer", None, None, books::BANK),
        };
    // Credits leave at the payment's rate, exactly as they were held.
    let after = s.unapplied_minor - part.minor();
    let relief = s
        .rate
        .relief(s.unapplied_minor, after, part.currency(), functional)?;
    let entry = books::refund_paid(refund_id, part, paid_from)?.translate(
        functional,
        s.rate,
        &[(books::CUSTOMER_CREDITS.code, relief)],
    )?;
    ledger::post(conn, ctx, &entry, Some(customer_id))?;
    conn.execute(
        "UPDATE payments SET unapplied_minor = $2 WHERE id = $1",
        params![s.payment_id.as_str(), after],
    )?;
    conn.execute(
        "INSERT INTO refund_parts (refund_id, payment_id, amount_minor, route, provider, provider_refund_id) VALUES ($1, $2, $3, $4, $5, $6)",
        params![refund_id, s.payment_id.as_str(), part.minor(), route, provider, provider_refund_id],
    )?;
    Ok(())
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Refund> {
    let r = conn
        .query_opt(
            "SELECT id, customer_id, amount_minor, currency, reason, refunded_by, created_at FROM refunds WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("refund", id))?;
    let cur = Currency::parse(&r.text(3))?;
    let parts = conn
        .query(
            "SELECT payment_id, amount_minor, route, provider, provider_refund_id FROM refund_parts WHERE refund_id = $1 ORDER BY payment_id",
            params![id],
        )?
        .iter()
        .map(|p| RefundPart {
            payment_id: p.text(0),
            amount: Money::new(p.int(1), cur),
            route: p.text(2),
            provider: p.opt_text(3),
            provider_refund_id: p.opt_text(4),
        })
        .collect();
    Ok(Refund {
        id: r.text(0),
        customer_id: r.text(1),
        amount: Money::new(r.int(2), cur),
        reason: r.text(4),
        parts,
        refunded_by: r.text(5),
        created_at: r.text(6),
    })
}
