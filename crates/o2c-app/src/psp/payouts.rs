//! Provider payouts: a payment-service provider sends the card and wallet payments it captured,
//! less its fees and the refunds it made to cards, to the bank in one transfer, and reports
//! which charges and refunds that transfer settles (its settlement report). Recording the report
//! ties those payments to the payout; the bank line that brings the money then clears
//! "PSP clearing" (1010) by `PSP_PAID_OUT` instead of being matched to invoices a second time
//! (`cash::clearing`).
//!
//! The report must add up: the payout equals its charges less their fees (booked at capture,
//! `FEE_CHARGED`) less its refunds, and no charge or refund is paid out twice. A report sent
//! again with the same contents changes nothing; one with other contents under the same payout
//! id is refused.

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use o2c_core::id::PspPayoutId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;

/// A provider's settlement report for one payout.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutRequest {
    /// The provider's id of the payout; it appears in the bank line's text.
    pub payout_id: String,
    pub currency: String,
    /// What reaches the bank.
    pub amount: String,
    /// `YYYY-MM-DD`, when the provider expects the money to arrive.
    #[serde(default)]
    pub arrives_on: Option<String>,
    /// Provider references of the captured payments it settles (`payments.provider_reference`).
    pub charges: Vec<String>,
    /// Provider ids of the card refunds taken out of it.
    #[serde(default)]
    pub refunds: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Payout {
    pub id: String,
    pub provider: String,
    pub payout_id: String,
    pub amount: Money,
    pub arrives_on: Option<String>,
    /// `announced` until its bank line arrives, then `settled`.
    pub status: &'static str,
    pub settled_by_line: Option<String>,
    pub charges: Vec<PayoutCharge>,
    pub refunds: Vec<PayoutRefund>,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PayoutCharge {
    pub payment_id: String,
    pub provider_reference: String,
    pub amount: Money,
    pub fee: Money,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PayoutRefund {
    pub refund_id: String,
    pub provider_refund_id: String,
    pub amount: Money,
}

/// Records a settlement report. Returns the payout and whether it is new (`false`: the same
/// report was recorded before).
pub fn record_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    provider: &str,
    r: &PayoutRequest,
) -> Result<(Payout, bool)> {
    // An unknown provider is refused by name.
    super::provider(conn, ctx, provider)?;
    let payout_ref = r.payout_id.trim();
    if payout_ref.is_empty() || payout_ref.chars().count() > 100 {
        return Err(DomainError::invalid("payout_id", "1 to 100 characters").into());
    }
    let currency = Currency::parse(r.currency.trim()).map_err(DomainError::money("currency"))?;
    let amount = Money::parse(&r.amount, currency).map_err(DomainError::money("amount"))?;
    if !amount.is_positive() {
        return Err(DomainError::AmountNotPositive { field: "amount" }.into());
    }
    if let Some(d) = &r.arrives_on
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        return Err(
            DomainError::invalid("arrives_on", format!("`{d}` is not a YYYY-MM-DD date")).into(),
        );
    }
    if r.charges.is_empty() {
        return Err(DomainError::invalid("charges", "a payout settles at least one charge").into());
    }
    distinct("charges", &r.charges)?;
    distinct("refunds", &r.refunds)?;

    if let Some(existing) = conn.query_opt(
        "SELECT id FROM psp_payouts WHERE provider = $1 AND payout_ref = $2",
        params![provider, payout_ref],
    )? {
        let payout = get(conn, &existing.text(0))?;
        let same = payout.amount == amount
            && sorted(payout.charges.iter().map(|c| &c.provider_reference))
                == sorted(r.charges.iter())
            && sorted(payout.refunds.iter().map(|f| &f.provider_refund_id))
                == sorted(r.refunds.iter());
        if !same {
            return Err(DomainError::invalid(
                "payout_id",
                format!(
                    "payout `{payout_ref}` of `{provider}` was recorded before with other contents"
                ),
            )
            .into());
        }
        return Ok((payout, false));
    }

    let mut expected = 0i64;
    let mut payments = Vec::with_capacity(r.charges.len());
    for (i, reference) in r.charges.iter().enumerate() {
        let field = format!("charges[{i}]");
        let row = conn
            .query_opt(
                "SELECT id, amount_minor, currency, fee_minor, payout_id FROM payments WHERE provider = $1 AND provider_reference = $2",
                params![provider, reference.as_str()],
            )?
            .ok_or_else(|| {
                DomainError::invalid(
                    field.clone(),
                    format!("no payment captured by `{provider}` with reference `{reference}`"),
                )
            })?;
        if row.text(2) != currency.code() {
            return Err(DomainError::invalid(
                field,
                format!(
                    "`{reference}` was captured in {}, the payout is in {currency}",
                    row.text(2)
                ),
            )
            .into());
        }
        if let Some(other) = row.opt_text(4) {
            return Err(DomainError::invalid(
                field,
                format!("`{reference}` was paid out before, in {other}"),
            )
            .into());
        }
        expected += row.int(1) - row.opt_int(3).unwrap_or(0);
        payments.push(row.text(0));
    }
    let mut refunds = Vec::with_capacity(r.refunds.len());
    for (i, reference) in r.refunds.iter().enumerate() {
        let field = format!("refunds[{i}]");
        let row = conn
            .query_opt(
                "SELECT p.refund_id, p.payment_id, p.amount_minor, p.payout_id, f.currency FROM refund_parts p JOIN refunds f ON f.id = p.refund_id
                 WHERE p.provider = $1 AND p.provider_refund_id = $2",
                params![provider, reference.as_str()],
            )?
            .ok_or_else(|| {
                DomainError::invalid(
                    field.clone(),
                    format!("no refund made through `{provider}` with id `{reference}`"),
                )
            })?;
        if row.text(4) != currency.code() {
            return Err(DomainError::invalid(
                field,
                format!(
                    "`{reference}` was refunded in {}, the payout is in {currency}",
                    row.text(4)
                ),
            )
            .into());
        }
        if let Some(other) = row.opt_text(3) {
            return Err(DomainError::invalid(
                field,
                format!("`{reference}` was paid out before, in {other}"),
            )
            .into());
        }
        expected -= row.int(2);
        refunds.push((row.text(0), row.text(1)));
    }
    if expected != amount.minor() {
        return Err(DomainError::invalid(
            "amount",
            format!(
                "the payout is {amount}, but its charges less their fees and its refunds come to {}",
                Money::new(expected, currency)
            ),
        )
        .into());
    }

    let id = PspPayoutId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO psp_payouts (id, provider, payout_ref, amount_minor, currency, arrives_on, charges, refunds, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            id.as_str(),
            provider,
            payout_ref,
            amount.minor(),
            currency.code(),
            r.arrives_on.as_deref(),
            payments.len() as i64,
            refunds.len() as i64,
            ctx.timestamp(),
            ctx.actor.to_string()
        ],
    )?;
    for p in &payments {
        conn.execute(
            "UPDATE payments SET payout_id = $2 WHERE id = $1",
            params![p.as_str(), id.as_str()],
        )?;
    }
    for (refund, payment) in &refunds {
        conn.execute(
            "UPDATE refund_parts SET payout_id = $3 WHERE refund_id = $1 AND payment_id = $2",
            params![refund.as_str(), payment.as_str(), id.as_str()],
        )?;
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PayoutRecorded,
            aggregate_type: "psp_payout",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: None,
            data: json!({"provider": provider, "payout_id": payout_ref, "amount": amount, "charges": payments.len(), "refunds": refunds.len()}),
        },
    )?;
    Ok((get(conn, id.as_str())?, true))
}

fn distinct(field: &str, values: &[String]) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, v) in values.iter().enumerate() {
        if v.trim().is_empty() {
            return Err(DomainError::invalid(format!("{field}[{i}]"), "empty").into());
        }
        if !seen.insert(v.as_str()) {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                format!("`{v}` is listed twice"),
            )
            .into());
        }
    }
    Ok(())
}

fn sorted<'a>(values: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut v: Vec<&str> = values.map(String::as_str).collect();
    v.sort_unstable();
    v
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Payout> {
    let r = conn
        .query_opt(
            "SELECT id, provider, payout_ref, amount_minor, currency, arrives_on, settled_by_line, created_at, created_by FROM psp_payouts WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("payout", id))?;
    let currency = Currency::parse(&r.text(4))?;
    let charges = conn
        .query(
            "SELECT id, provider_reference, amount_minor, fee_minor FROM payments WHERE payout_id = $1 ORDER BY provider_reference",
            params![id],
        )?
        .iter()
        .map(|c| PayoutCharge {
            payment_id: c.text(0),
            provider_reference: c.text(1),
            amount: Money::new(c.int(2), currency),
            fee: Money::new(c.opt_int(3).unwrap_or(0), currency),
        })
        .collect();
    let refunds = conn
        .query(
            "SELECT refund_id, provider_refund_id, amount_minor FROM refund_parts WHERE payout_id = $1 ORDER BY provider_refund_id",
            params![id],
        )?
        .iter()
        .map(|f| PayoutRefund {
            refund_id: f.text(0),
            provider_refund_id: f.text(1),
            amount: Money::new(f.int(2), currency),
        })
        .collect();
    let settled_by_line = r.opt_text(6);
    Ok(Payout {
        id: r.text(0),
        provider: r.text(1),
        payout_id: r.text(2),
        amount: Money::new(r.int(3), currency),
        arrives_on: r.opt_text(5),
        status: if settled_by_line.is_some() {
            "settled"
        } else {
            "announced"
        },
        settled_by_line,
        charges,
        refunds,
        created_at: r.text(7),
        created_by: r.text(8),
    })
}

/// Payouts, newest first; `open` keeps those whose money has not arrived.
pub fn list(conn: &mut dyn Conn, open: bool) -> Result<Vec<Payout>> {
    let filter = if open {
        " WHERE settled_by_line IS NULL"
    } else {
        ""
    };
    let ids = conn.query(
        &format!("SELECT id FROM psp_payouts{filter} ORDER BY created_at DESC, id DESC LIMIT 500"),
        params![],
    )?;
    ids.iter().map(|r| get(conn, &r.text(0))).collect()
}
