//! Disputes: raised on an invoice (or a line) by a clerk or the customer, or opened by cash
//! application's deductions; open → under review → resolved by a credit note (full or per line,
//! through `billing::credit_note`) or rejected (the item goes back to dunning). While one is
//! active its invoice is not dunned (`dunning` skips it) and aging shows it as `disputed`.

use super::{emit, lock_invoice, parse_day, parse_positive};
use crate::billing::credit_note::{self, CreditLineRequest, CreditNoteRequest};
use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::EventType;
use o2c_core::dispute::{DisputeAction, DisputeReason, DisputeStatus};
use o2c_core::id::DisputeId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Row, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RaiseDispute {
    pub invoice_id: String,
    /// A line of the invoice; absent: the whole invoice.
    #[serde(default)]
    pub line_no: Option<i64>,
    /// pricing, quantity, damage, late_delivery, duplicate_billing, other.
    pub reason: String,
    #[serde(default)]
    pub description: Option<String>,
    /// What is contested; default: the line's value or the invoice's open amount.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    /// When it should be settled; default 14 days from today.
    #[serde(default)]
    pub due_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dispute {
    pub id: String,
    pub customer_id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    pub line_no: Option<i64>,
    pub reason: String,
    pub description: String,
    pub amount: Money,
    pub status: String,
    pub owner: Option<String>,
    pub due_on: Option<String>,
    pub deduction_id: Option<String>,
    pub resolution: Option<String>,
    pub credit_note_id: Option<String>,
    pub resolution_note: Option<String>,
    pub raised_by: String,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
}

const COLUMNS: &str = "d.id, d.customer_id, d.invoice_id, i.number, d.line_no, d.reason, d.description, d.amount_minor, d.currency, d.status, d.owner, d.due_on, d.deduction_id, d.resolution, d.credit_note_id, d.resolution_note, d.raised_by, d.created_at, d.resolved_at, d.resolved_by";

fn from_row(r: &Row) -> Result<Dispute> {
    let cur = Currency::parse(&r.text(8)).map_err(DomainError::money("currency"))?;
    Ok(Dispute {
        id: r.text(0),
        customer_id: r.text(1),
        invoice_id: r.text(2),
        invoice_number: r.text(3),
        line_no: r.opt_int(4),
        reason: r.text(5),
        description: r.text(6),
        amount: Money::new(r.int(7), cur),
        status: r.text(9),
        owner: r.opt_text(10),
        due_on: r.opt_text(11),
        deduction_id: r.opt_text(12),
        resolution: r.opt_text(13),
        credit_note_id: r.opt_text(14),
        resolution_note: r.opt_text(15),
        raised_by: r.text(16),
        created_at: r.text(17),
        resolved_at: r.opt_text(18),
        resolved_by: r.opt_text(19),
    })
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Dispute> {
    let sql = format!(
        "SELECT {COLUMNS} FROM disputes d JOIN invoices i ON i.id = d.invoice_id WHERE d.id = $1"
    );
    let r = conn
        .query_opt(&sql, params![id])?
        .ok_or_else(|| not_found("dispute", id))?;
    from_row(&r)
}

pub fn list(
    conn: &mut dyn Conn,
    status: Option<&str>,
    customer_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Dispute>> {
    if let Some(s) = status
        && DisputeStatus::parse(s).is_none()
    {
        return Err(DomainError::invalid(
            "status",
            format!("`{s}`: expected open, under_review, resolved or rejected"),
        )
        .into());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM disputes d JOIN invoices i ON i.id = d.invoice_id
         WHERE ($1 = '' OR d.status = $1) AND ($2 = '' OR d.customer_id = $2)
         ORDER BY d.created_at DESC, d.id LIMIT $3"
    );
    conn.query(
        &sql,
        params![status.unwrap_or(""), customer_id.unwrap_or(""), limit],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// Raises a dispute; the invoice must still have something open.
pub fn raise_in_tx(conn: &mut dyn Conn, ctx: &Ctx, r: &RaiseDispute) -> Result<Dispute> {
    let reason = DisputeReason::parse(r.reason.trim())?;
    let inv = lock_invoice(conn, &r.invoice_id)?;
    inv.require_open("raise a dispute")?;
    let line_value = match r.line_no {
        None => None,
        Some(n) => {
            let row = conn
                .query_opt(
                    "SELECT net_minor, tax_rate_bp FROM invoice_lines WHERE invoice_id = $1 AND line_no = $2",
                    params![inv.id.as_str(), n],
                )?
                .ok_or_else(|| {
                    DomainError::invalid("line_no", format!("invoice {} has no line {n}", inv.number))
                })?;
            // The line's value with its tax, rounded half away from zero once.
            let gross = o2c_core::money::round_half_away_from_zero(
                i128::from(row.int(0)) * i128::from(10_000 + row.int(1)),
                10_000,
            )?;
            Some(gross)
        }
    };
    let amount = match &r.amount {
        Some(a) => parse_positive("amount", a, inv.currency)?.minor(),
        None => line_value.unwrap_or(inv.open_minor).min(inv.open_minor),
    };
    if amount > inv.open_minor {
        return Err(DomainError::invalid(
            "amount",
            format!(
                "{} exceeds what invoice {} has open ({})",
                Money::new(amount, inv.currency),
                inv.number,
                Money::new(inv.open_minor, inv.currency)
            ),
        )
        .into());
    }
    let due_on = match &r.due_on {
        Some(d) => parse_day("due_on", d)?,
        None => ctx.today() + chrono::Days::new(14),
    };
    let id = DisputeId::generate(ctx.ids.as_ref());
    let description = r.description.clone().unwrap_or_default();
    insert(
        conn,
        ctx,
        &id,
        &inv.customer_id,
        &inv.id,
        r.line_no,
        reason,
        &description,
        Money::new(amount, inv.currency),
        r.owner.as_deref(),
        &due_on.to_string(),
        None,
    )?;
    get(conn, id.as_str())
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    id: &DisputeId,
    customer_id: &str,
    invoice_id: &str,
    line_no: Option<i64>,
    reason: DisputeReason,
    description: &str,
    amount: Money,
    owner: Option<&str>,
    due_on: &str,
    deduction_id: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO disputes (id, customer_id, invoice_id, line_no, reason, description, amount_minor, currency, status, owner, due_on, deduction_id, raised_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12, $13)",
        &[
            id.as_str().into(), customer_id.into(), invoice_id.into(), line_no.map(Value::from).unwrap_or(Value::Null),
            reason.as_str().into(), description.into(), amount.minor().into(), amount.currency().code().into(),
            owner.map(Value::from).unwrap_or(Value::Null), due_on.into(),
            deduction_id.map(Value::from).unwrap_or(Value::Null), ctx.actor.to_string().into(), ctx.timestamp().into(),
        ],
    )?;
    emit(
        conn,
        ctx,
        EventType::DisputeRaised,
        ("dispute", id.as_str()),
        customer_id,
        json!({"invoice_id": invoice_id, "line_no": line_no, "reason": reason.as_str(), "amount": amount, "owner": owner, "due_on": due_on, "deduction_id": deduction_id}),
    )
}

/// A deduction taken in cash application becomes a dispute (reason `deduction` until someone
/// knows better). Once per deduction: a second delivery of the event finds the first.
pub fn from_deduction_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    deduction_id: &str,
) -> Result<Option<String>> {
    if let Some(r) = conn.query_opt(
        "SELECT id FROM disputes WHERE deduction_id = $1",
        params![deduction_id],
    )? {
        return Ok(Some(r.text(0)));
    }
    let Some(d) = conn.query_opt(
        "SELECT invoice_id, customer_id, amount_minor, currency, status FROM deductions WHERE id = $1",
        params![deduction_id],
    )?
    else {
        return Err(not_found("deduction", deduction_id));
    };
    if d.text(4) != "open" {
        return Ok(None);
    }
    let cur = Currency::parse(&d.text(3)).map_err(DomainError::money("currency"))?;
    let id = DisputeId::generate(ctx.ids.as_ref());
    let due = (ctx.today() + chrono::Days::new(14)).to_string();
    insert(
        conn,
        ctx,
        &id,
        &d.text(1),
        &d.text(0),
        None,
        DisputeReason::Deduction,
        "short payment taken in cash application",
        Money::new(d.int(2), cur),
        None,
        &due,
        Some(deduction_id),
    )?;
    Ok(Some(id.as_str().to_string()))
}

fn lock(conn: &mut dyn Conn, id: &str) -> Result<(Dispute, DisputeStatus)> {
    let sql = format!(
        "SELECT status FROM disputes WHERE id = $1{}",
        conn.for_update()
    );
    conn.query_opt(&sql, params![id])?
        .ok_or_else(|| not_found("dispute", id))?;
    let d = get(conn, id)?;
    let status = DisputeStatus::parse(&d.status).ok_or_else(|| {
        crate::error::AppError::Internal(format!("dispute {id}: status {}", d.status))
    })?;
    Ok((d, status))
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due_on: Option<String>,
}

/// Sets the owner and due date; an open dispute goes under review.
pub fn review_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str, a: &Assign) -> Result<Dispute> {
    let (d, status) = lock(conn, id)?;
    let due_on = a
        .due_on
        .as_deref()
        .map(|s| parse_day("due_on", s))
        .transpose()?;
    let next = match status {
        DisputeStatus::Open => status.transition(id, DisputeAction::Review)?,
        DisputeStatus::UnderReview => status,
        DisputeStatus::Resolved | DisputeStatus::Rejected => {
            status.transition(id, DisputeAction::Review)?
        }
    };
    let owner = a.owner.clone().or(d.owner.clone());
    let due = due_on.map(|d| d.to_string()).or(d.due_on.clone());
    conn.execute(
        "UPDATE disputes SET status = $2, owner = $3, due_on = $4 WHERE id = $1",
        &[
            id.into(),
            next.as_str().into(),
            owner.clone().map(Value::from).unwrap_or(Value::Null),
            due.clone().map(Value::from).unwrap_or(Value::Null),
        ],
    )?;
    let kind = if next == status {
        EventType::DisputeAssigned
    } else {
        EventType::DisputeUnderReview
    };
    emit(
        conn,
        ctx,
        kind,
        ("dispute", id),
        &d.customer_id,
        json!({"owner": owner, "due_on": due}),
    )?;
    get(conn, id)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, tag = "outcome", rename_all = "snake_case")]
pub enum Resolution {
    /// A credit note: the whole invoice (no `lines`) or the lines named.
    Credit {
        #[serde(default)]
        lines: Option<Vec<CreditLineRequest>>,
        #[serde(default)]
        note: Option<String>,
    },
    /// The claim is not accepted: the item is chased (dunned) again.
    Reject {
        #[serde(default)]
        note: Option<String>,
    },
}

/// Resolves with a credit note, or rejects.
pub fn resolve_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str, r: &Resolution) -> Result<Dispute> {
    let (d, status) = lock(conn, id)?;
    let (action, note, credit) = match r {
        Resolution::Credit { lines, note } => {
            (DisputeAction::Resolve, note.clone(), Some(lines.clone()))
        }
        Resolution::Reject { note } => (DisputeAction::Reject, note.clone(), None),
    };
    let next = status.transition(id, action)?;
    let credit_note_id = match credit {
        Some(lines) => Some(credit_note::issue_in_tx(
            conn,
            ctx,
            &d.invoice_id,
            &CreditNoteRequest {
                reason: format!("Dispute {} ({})", d.id, d.reason.replace('_', " ")),
                lines,
            },
        )?),
        None => None,
    };
    let resolution = if credit_note_id.is_some() {
        "credited"
    } else {
        "rejected"
    };
    conn.execute(
        "UPDATE disputes SET status = $2, resolution = $3, credit_note_id = $4, resolution_note = $5, resolved_at = $6, resolved_by = $7 WHERE id = $1",
        &[id.into(), next.as_str().into(), resolution.into(), credit_note_id.clone().map(Value::from).unwrap_or(Value::Null),
          note.clone().map(Value::from).unwrap_or(Value::Null), ctx.timestamp().into(), ctx.actor.to_string().into()],
    )?;
    if let Some(ded) = &d.deduction_id {
        // A settled deduction no longer holds its amount back from cash matching.
        conn.execute(
            "UPDATE deductions SET status = $2 WHERE id = $1",
            params![ded.as_str(), resolution],
        )?;
    }
    let kind = if credit_note_id.is_some() {
        EventType::DisputeResolved
    } else {
        EventType::DisputeRejected
    };
    emit(
        conn,
        ctx,
        kind,
        ("dispute", id),
        &d.customer_id,
        json!({"credit_note_id": credit_note_id, "note": note, "invoice_id": d.invoice_id}),
    )?;
    get(conn, id)
}

#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    pub reason: String,
    pub count: i64,
    pub open: i64,
    pub credited: i64,
    pub rejected: i64,
    /// Per currency.
    pub amounts: Vec<Money>,
    /// Mean days from raised to resolved or rejected (closed disputes only).
    pub average_cycle_days: Option<f64>,
}

/// Disputes by root cause: how many, how they ended, how much, how long they took.
pub fn root_causes(
    conn: &mut dyn Conn,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<RootCause>> {
    let rows = conn.query(
        "SELECT reason, currency, status, amount_minor, created_at, resolved_at FROM disputes
         WHERE ($1 = '' OR created_at >= $1) AND ($2 = '' OR created_at < $2) ORDER BY reason",
        params![from.unwrap_or(""), to.unwrap_or("")],
    )?;
    let mut out: Vec<RootCause> = Vec::new();
    let mut cycle: Vec<(f64, i64)> = Vec::new();
    for r in rows {
        let reason = r.text(0);
        if out.last().is_none_or(|c| c.reason != reason) {
            out.push(RootCause {
                reason,
                count: 0,
                open: 0,
                credited: 0,
                rejected: 0,
                amounts: vec![],
                average_cycle_days: None,
            });
            cycle.push((0.0, 0));
        }
        let c = out.last_mut().expect("pushed");
        let k = cycle.last_mut().expect("pushed");
        c.count += 1;
        match r.text(2).as_str() {
            "resolved" => c.credited += 1,
            "rejected" => c.rejected += 1,
            _ => c.open += 1,
        }
        let cur = Currency::parse(&r.text(1)).map_err(DomainError::money("currency"))?;
        match c.amounts.iter_mut().find(|m| m.currency() == cur) {
            Some(m) => *m = m.checked_add(Money::new(r.int(3), cur))?,
            None => c.amounts.push(Money::new(r.int(3), cur)),
        }
        if let (Some(a), Some(b)) = (
            parse_ts(&r.text(4)),
            r.opt_text(5).as_deref().and_then(parse_ts),
        ) {
            k.0 += (b - a).num_seconds() as f64 / 86_400.0;
            k.1 += 1;
        }
    }
    for (c, (sum, n)) in out.iter_mut().zip(cycle) {
        c.average_cycle_days = (n > 0).then(|| (sum / n as f64 * 10.0).round() / 10.0);
    }
    Ok(out)
}

pub(crate) fn parse_ts(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok()
}
