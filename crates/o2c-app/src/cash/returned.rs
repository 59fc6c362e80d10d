//! Returned direct debits on the bank statement: a debit line that carries an ISO 20022 return
//! reason and the end-to-end id of a debit o2c collected returns that payment as
//! `POST /payments/{id}/return` would (its invoices open again, the mandate is revoked where the
//! reason says so, the customer is told what to do next), the money leaving by the bank account
//! the line debits. A line that names no such debit stays an outgoing line for a person.

use crate::context::Ctx;
use crate::error::Result;
use crate::psp::returns::{self, ReturnRequest};
use o2c_store::{Conn, params};

/// A debit line with a return reason, not yet booked.
pub struct ReturnedLine {
    pub id: String,
    pub end_to_end_id: String,
    pub reason: String,
    pub amount_minor: i64,
    pub currency: String,
}

pub fn waiting(conn: &mut dyn Conn) -> Result<Vec<ReturnedLine>> {
    Ok(conn
        .query(
            "SELECT id, end_to_end_id, return_reason, amount_minor, currency FROM bank_transactions
             WHERE match_status = 'outgoing' AND return_reason IS NOT NULL AND end_to_end_id IS NOT NULL
             ORDER BY value_date, id",
            params![],
        )?
        .iter()
        .map(|r| ReturnedLine {
            id: r.text(0),
            end_to_end_id: r.text(1),
            reason: r.text(2),
            amount_minor: r.int(3),
            currency: r.text(4),
        })
        .collect())
}

/// Books the return the line shows; `false` when it names no collected debit of its amount that
/// is not returned yet (or the line was decided meanwhile).
pub fn book_in_tx(conn: &mut dyn Conn, ctx: &Ctx, line: &ReturnedLine) -> Result<bool> {
    let code = line.reason.trim().to_ascii_uppercase();
    if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(false);
    }
    let Some(payment) = conn.query_opt(
        "SELECT id, customer_id FROM payments
         WHERE method = 'direct_debit' AND reference = $1 AND amount_minor = $2 AND currency = $3 AND return_id IS NULL",
        params![line.end_to_end_id.as_str(), line.amount_minor, line.currency.as_str()],
    )?
    else {
        return Ok(false);
    };
    let still_outgoing = conn.query_opt(
        "SELECT id FROM bank_transactions WHERE id = $1 AND match_status = 'outgoing'",
        params![line.id.as_str()],
    )?;
    if still_outgoing.is_none() {
        return Ok(false);
    }
    let request = ReturnRequest {
        reason_code: code,
        fee: None,
    };
    let returned = returns::return_through_in_tx(
        conn,
        ctx,
        &payment.text(0),
        &request,
        Some(o2c_core::ledger::BANK),
    )?;
    let reason = format!(
        "direct debit {} returned by the bank: {} ({})",
        line.end_to_end_id, returned.reason, returned.reason_code
    );
    conn.execute(
        "UPDATE bank_transactions SET match_status = 'returned', customer_id = $2, payment_id = $3, reason = $4, decided_by = $5, decided_at = $6 WHERE id = $1",
        params![line.id.as_str(), payment.text(1), payment.text(0), reason.as_str(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    Ok(true)
}
