//! Write-offs of uncollectable receivables to bad debt (account 6950), within each role's
//! approval limit (`write_off_limits`, per role and currency; admin has none), and recoveries:
//! when a written-off customer pays after all, the written-off amount is owed again
//! (WRITE_OFF_RECOVERED: Dr receivables / Cr bad debt) and the customer's unapplied cash is
//! applied to it like to any invoice.

use super::{emit, lock_invoice, parse_positive};
use crate::context::Ctx;
use crate::customer::adjust_balances;
use crate::error::{Result, not_found};
use crate::event::EventType;
use o2c_core::id::{WriteOffId, WriteOffRecoveryId};
use o2c_core::invoice::PaymentStatus;
use o2c_core::{Currency, DomainError, Money, Role};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WriteOffRequest {
    /// Default: everything the invoice has open.
    #[serde(default)]
    pub amount: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WriteOff {
    pub id: String,
    pub invoice_id: String,
    pub customer_id: String,
    pub amount: Money,
    pub recovered: Money,
    pub reason: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
}

/// The most `role` may write off in `currency` (None: no limit).
pub fn limit(conn: &mut dyn Conn, role: Role, currency: Currency) -> Result<Option<Money>> {
    if role == Role::Admin {
        return Ok(None);
    }
    let r = conn.query_opt(
        "SELECT limit_minor FROM write_off_limits WHERE role = $1 AND currency = $2",
        params![role.as_str(), currency.code()],
    )?;
    Ok(Some(Money::new(r.map_or(0, |r| r.int(0)), currency)))
}

pub fn write_off_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    role: Role,
    invoice_id: &str,
    r: &WriteOffRequest,
) -> Result<WriteOff> {
    if r.reason.trim().is_empty() {
        return Err(
            DomainError::invalid("reason", "say why the receivable is uncollectable").into(),
        );
    }
    let inv = lock_invoice(conn, invoice_id)?;
    inv.require_open("write it off")?;
    let cur = inv.currency;
    let amount = match &r.amount {
        Some(a) => parse_positive("amount", a, cur)?,
        None => Money::new(inv.open_minor, cur),
    };
    if amount.minor() > inv.open_minor {
        return Err(DomainError::ApplicationExceedsOpenAmount {
            what: "invoice's open amount",
            requested: amount.to_string(),
            available: Money::new(inv.open_minor, cur).to_string(),
        }
        .into());
    }
    if let Some(max) = limit(conn, role, cur)?
        && amount.minor() > max.minor()
    {
        return Err(DomainError::WriteOffOverLimit {
            requested: amount.to_string(),
            limit: max.to_string(),
            role: role.as_str().into(),
        }
        .into());
    }
    let new_open = inv.open_minor - amount.minor();
    let status = if new_open == 0 {
        "written_off"
    } else {
        PaymentStatus::of(inv.gross_minor, new_open).as_str()
    };
    conn.execute(
        "UPDATE invoices SET open_minor = $2, written_off_minor = written_off_minor + $3, payment_status = $4 WHERE id = $1",
        params![inv.id.as_str(), new_open, amount.minor(), status],
    )?;
    let id = WriteOffId::generate(ctx.ids.as_ref()).as_str().to_string();
    conn.execute(
        "INSERT INTO write_offs (id, invoice_id, customer_id, amount_minor, currency, reason, role, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![id.as_str(), inv.id.as_str(), inv.customer_id.as_str(), amount.minor(), cur.code(), r.reason.trim(), role.as_str(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    // Receivables leave at the invoice's own rate, like a credit note.
    let functional = crate::fx::functional_currency(conn)?;
    let rate = crate::fx::stored(inv.fx_rate.clone())?;
    let receivable = rate.relief(inv.open_minor, new_open, cur, functional)?;
    let entry = o2c_core::ledger::write_off(&id, amount)?.translate(
        functional,
        rate,
        &[(o2c_core::ledger::ACCOUNTS_RECEIVABLE.code, -receivable)],
    )?;
    crate::ledger::post(conn, ctx, &entry, Some(&inv.customer_id))?;
    adjust_balances(conn, &inv.customer_id, -amount.minor(), 0, 0)?;
    emit(
        conn,
        ctx,
        EventType::WriteOffPosted,
        ("invoice", &inv.id),
        &inv.customer_id,
        json!({"write_off_id": id, "amount": amount, "reason": r.reason.trim(), "role": role.as_str(), "invoice_number": inv.number}),
    )?;
    get(conn, &id)
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    /// Default: all that is not yet recovered.
    #[serde(default)]
    pub amount: Option<String>,
}

/// Reinstates (part of) a write-off as owed and applies the customer's unapplied cash to it.
pub fn recover_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    write_off_id: &str,
    r: &RecoveryRequest,
) -> Result<WriteOff> {
    let sql = format!(
        "SELECT invoice_id, amount_minor - recovered_minor, currency FROM write_offs WHERE id = $1{}",
        conn.for_update()
    );
    let w = conn
        .query_opt(&sql, params![write_off_id])?
        .ok_or_else(|| not_found("write-off", write_off_id))?;
    let cur = Currency::parse(&w.text(2)).map_err(DomainError::money("currency"))?;
    let left = w.int(1);
    let amount = match &r.amount {
        Some(a) => parse_positive("amount", a, cur)?,
        None => Money::new(left, cur),
    };
    if amount.minor() > left || left == 0 {
        return Err(DomainError::ApplicationExceedsOpenAmount {
            what: "write-off's unrecovered amount",
            requested: amount.to_string(),
            available: Money::new(left, cur).to_string(),
        }
        .into());
    }
    let inv = lock_invoice(conn, &w.text(0))?;
    let new_open = inv.open_minor + amount.minor();
    conn.execute(
        "UPDATE invoices SET open_minor = $2, written_off_minor = written_off_minor - $3, payment_status = $4 WHERE id = $1",
        params![inv.id.as_str(), new_open, amount.minor(), PaymentStatus::of(inv.gross_minor, new_open).as_str()],
    )?;
    conn.execute(
        "UPDATE write_offs SET recovered_minor = recovered_minor + $2 WHERE id = $1",
        params![write_off_id, amount.minor()],
    )?;
    let rid = WriteOffRecoveryId::generate(ctx.ids.as_ref())
        .as_str()
        .to_string();
    conn.execute(
        "INSERT INTO write_off_recoveries (id, write_off_id, customer_id, amount_minor, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![rid.as_str(), write_off_id, inv.customer_id.as_str(), amount.minor(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    let functional = crate::fx::functional_currency(conn)?;
    let rate = crate::fx::stored(inv.fx_rate.clone())?;
    let receivable = rate.relief(new_open, inv.open_minor, cur, functional)?;
    let entry = o2c_core::ledger::write_off_recovered(&rid, amount)?.translate(
        functional,
        rate,
        &[(o2c_core::ledger::ACCOUNTS_RECEIVABLE.code, -receivable)],
    )?;
    crate::ledger::post(conn, ctx, &entry, Some(&inv.customer_id))?;
    adjust_balances(conn, &inv.customer_id, amount.minor(), 0, 0)?;
    emit(
        conn,
        ctx,
        EventType::WriteOffRecovered,
        ("invoice", &inv.id),
        &inv.customer_id,
        json!({"write_off_id": write_off_id, "recovery_id": rid, "amount": amount}),
    )?;
    crate::payment::apply_credit_to_invoice_in_tx(conn, ctx, &inv.id)?;
    get(conn, write_off_id)
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<WriteOff> {
    let r = conn
        .query_opt("SELECT id, invoice_id, customer_id, amount_minor, recovered_minor, currency, reason, role, created_by, created_at FROM write_offs WHERE id = $1", params![id])?
        .ok_or_else(|| not_found("write-off", id))?;
    let cur = Currency::parse(&r.text(5)).map_err(DomainError::money("currency"))?;
    Ok(WriteOff {
        id: r.text(0),
        invoice_id: r.text(1),
        customer_id: r.text(2),
        amount: Money::new(r.int(3), cur),
        recovered: Money::new(r.int(4), cur),
        reason: r.text(6),
        role: r.text(7),
        created_by: r.text(8),
        created_at: r.text(9),
    })
}

pub fn list(conn: &mut dyn Conn, customer_id: Option<&str>) -> Result<Vec<WriteOff>> {
    let ids: Vec<String> = conn
        .query("SELECT id FROM write_offs WHERE ($1 = '' OR customer_id = $1) ORDER BY created_at DESC, id LIMIT 500", params![customer_id.unwrap_or("")])?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}
