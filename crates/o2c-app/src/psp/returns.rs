//! Returned payments: a direct debit the debtor's bank sent back (R-transaction with an ISO
//! 20022 reason code), or a card payment reversed. The money leaves the account it came into,
//! every application of the payment is reversed (the invoices open again, the customer's
//! aggregates move back), the bank's return charge is an expense, and the customer is told
//! what to do next. Returning a payment twice returns the first return and changes nothing.

use crate::context::Ctx;
use crate::customer::adjust_balances;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::ledger;
use o2c_core::id::PaymentReturnId;
use o2c_core::invoice::PaymentStatus;
use o2c_core::ledger as books;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// ISO 20022 return reason (`AM04` insufficient funds, `MD01` no mandate, …).
    pub reason_code: String,
    /// What the bank charged for the return, taken from our account.
    #[serde(default)]
    pub fee: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentReturn {
    pub id: String,
    pub payment_id: String,
    pub customer_id: String,
    pub reason_code: String,
    pub reason: String,
    pub amount: Money,
    pub fee: Money,
    pub reopened_invoice_ids: Vec<String>,
    pub returned_by: String,
    pub returned_at: String,
}

/// The reason codes of the EPC R-transaction guidance o2c names; others are accepted as given.
const REASONS: &[(&str, &str, bool)] = &[
    ("AC01", "incorrect account number", true),
    ("AC04", "account closed", true),
    ("AC06", "account blocked", true),
    (
        "AG01",
        "direct debits are not allowed on this account",
        true,
    ),
    ("AM04", "insufficient funds", false),
    ("MD01", "no valid mandate", true),
    ("MD06", "refund requested by the debtor", false),
    ("MD07", "debtor deceased", true),
    ("MS02", "refused by the debtor", false),
    ("MS03", "reason not specified", false),
    (
        "SL01",
        "specific service offered by the debtor's bank",
        true,
    ),
];

/// The reason's text, and whether the mandate can no longer be used.
fn reason_of(code: &str) -> (String, bool) {
    REASONS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(("returned by the bank".into(), false), |(_, t, revokes)| {
            (t.to_string(), *revokes)
        })
}

pub fn return_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    payment_id: &str,
    r: &ReturnRequest,
) -> Result<PaymentReturn> {
    return_through_in_tx(conn, ctx, payment_id, r, None)
}

/// [`return_in_tx`], with the account the money left by when the bank statement shows it
/// leaving (`Some(BANK)`: the return's debit line); `None` takes it back out of the account the
/// receipt went into.
pub fn return_through_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    payment_id: &str,
    r: &ReturnRequest,
    left_by: Option<books::Account>,
) -> Result<PaymentReturn> {
    let code = r.reason_code.trim().to_ascii_uppercase();
    if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DomainError::invalid(
            "reason_code",
            "an ISO 20022 return reason of four characters, e.g. AM04 (insufficient funds) or MD01 (no mandate)",
        )
        .into());
    }
    let p = conn
        .query_opt(
            &format!("SELECT customer_id, amount_minor, unapplied_minor, currency, method, fx_rate, bank_transaction_id, return_id FROM payments WHERE id = $1{}", conn.for_update()),
            params![payment_id],
        )?
        .ok_or_else(|| not_found("payment", payment_id))?;
    if let Some(done) = p.opt_text(7) {
        return get(conn, &done);
    }
    check_returnable(conn, payment_id, &p.text(4), p.opt_text(6).is_some())?;
    let customer_id = p.text(0);
    let currency = Currency::parse(&p.text(3))?;
    let fee = match r.fee.as_deref() {
        Some(f) => Money::parse(f, currency).map_err(DomainError::money("fee"))?,
        None => Money::zero(currency),
    };
    if fee.is_negative() {
        return Err(DomainError::AmountNotPositive { field: "fee" }.into());
    }
    let received_into = match left_by {
        Some(account) => account,
        None => receipt_account(conn, payment_id)?,
    };
    let id = PaymentReturnId::generate(ctx.ids.as_ref());
    let functional = crate::fx::functional_currency(conn)?;
    let rate = crate::fx::stored(p.opt_text(5))?;
    let reopened = reverse_applications(conn, ctx, payment_id, id.as_str(), currency, p.int(2))?;
    let amount = Money::new(p.int(1), currency);
    let entry = books::payment_returned(payment_id, amount, received_into)?;
    ledger::post(
        conn,
        ctx,
        &entry.translate(functional, rate, &[])?,
        Some(&customer_id),
    )?;
    conn.execute(
        "UPDATE payments SET unapplied_minor = 0, returned_at = $2, return_id = $3 WHERE id = $1",
        params![payment_id, ctx.timestamp(), id.as_str()],
    )?;
    adjust_balances(conn, &customer_id, 0, 0, -amount.minor())?;
    if fee.is_positive() {
        charge_fee(conn, ctx, id.as_str(), &customer_id, fee, received_into)?;
    }
    let (reason, revokes) = reason_of(&code);
    let revoked = close_debit(conn, payment_id, &customer_id, &code, &reason, revokes)?;
    conn.execute(
        "INSERT INTO payment_returns (id, payment_id, customer_id, reason_code, reason, amount_minor, fee_minor, currency, reopened_invoice_ids, returned_by, returned_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        params![id.as_str(), payment_id, customer_id.as_str(), code.as_str(), reason.as_str(), amount.minor(), fee.minor(), currency.code(), serde_json::to_string(&reopened)?, ctx.actor.to_string(), ctx.timestamp()],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PaymentReturned,
            aggregate_type: "payment",
            aggregate_id: payment_id,
            order_id: None,
            customer_id: Some(&customer_id),
            data: json!({"return_id": id, "reason_code": code, "reason": reason, "amount": amount, "fee": fee, "reopened_invoice_ids": reopened}),
        },
    )?;
    let method = p.text(4);
    notify(
        conn,
        ctx,
        &customer_id,
        id.as_str(),
        &method,
        amount,
        &code,
        &reason,
        revoked,
        &reopened,
    )?;
    get(conn, id.as_str())
}

fn check_returnable(
    conn: &mut dyn Conn,
    payment_id: &str,
    method: &str,
    from_bank_line: bool,
) -> Result<()> {
    let refused = |state: &str| -> AppError {
        DomainError::IllegalStateTransition {
            document: "payment",
            id: payment_id.to_string(),
            state: state.to_string(),
            action: "return it",
        }
        .into()
    };
    if from_bank_line {
        return Err(refused(
            "identified from a bank statement line (reverse it in cash application)",
        ));
    }
    if method == "credit_note" {
        return Err(refused("a credit note's credit, not money received"));
    }
    let refunded = conn
        .query_opt(
            "SELECT 1 FROM refund_parts WHERE payment_id = $1",
            params![payment_id],
        )?
        .is_some();
    if refunded {
        return Err(refused("partly refunded"));
    }
    Ok(())
}

/// The return charge: a PSP takes it from what it holds for us, a bank from our account.
fn charge_fee(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    return_id: &str,
    customer_id: &str,
    fee: Money,
    received_into: books::Account,
) -> Result<()> {
    let from = if received_into == books::PSP_CLEARING {
        books::PSP_CLEARING
    } else {
        books::BANK
    };
    let functional = crate::fx::functional_currency(conn)?;
    let today = ctx.today().to_string();
    let rate = crate::fx::rate_on(conn, functional, fee.currency(), &today)?;
    let entry = books::fee_charged(return_id, fee, from)?.translate(functional, rate, &[])?;
    ledger::post(conn, ctx, &entry, Some(customer_id))
}

/// Marks the payment's direct debit returned; a reason that ends the mandate revokes it.
/// Returns the revoked mandate's id.
fn close_debit(
    conn: &mut dyn Conn,
    payment_id: &str,
    customer_id: &str,
    code: &str,
    reason: &str,
    revokes: bool,
) -> Result<Option<String>> {
    conn.execute(
        "UPDATE sepa_debits SET status = 'returned', return_reason = $2 WHERE payment_id = $1",
        params![payment_id, code],
    )?;
    let mandate = conn
        .query_opt(
            "SELECT mandate_id FROM sepa_debits WHERE payment_id = $1",
            params![payment_id],
        )?
        .map(|m| m.text(0));
    match mandate {
        Some(m) if revokes => {
            conn.execute(
                "UPDATE sepa_mandates SET status = 'revoked', status_reason = $3 WHERE customer_id = $1 AND mandate_id = $2",
                params![customer_id, m.as_str(), format!("{code} {reason}")],
            )?;
            Ok(Some(m))
        }
        _ => Ok(None),
    }
}

/// The account the payment's receipt debited (bank, PSP clearing, direct debits in collection).
fn receipt_account(conn: &mut dyn Conn, payment_id: &str) -> Result<books::Account> {
    let code = conn
        .query_opt(
            "SELECT l.account FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
             WHERE e.document_id = $1 AND e.template IN ('PAYMENT_RECEIVED', 'PSP_SETTLED', 'DEBIT_COLLECTED') AND l.amount_minor > 0",
            params![payment_id],
        )?
        .ok_or_else(|| AppError::Internal(format!("payment {payment_id} has no receipt entry")))?
        .text(0);
    books::account(&code).ok_or_else(|| AppError::Internal(format!("unknown account {code}")))
}

/// Undoes each live application of the payment: the invoice's open amount, its status and the
/// customer's receivables go back up; an entry mirrors the one the application posted, at the
/// same rates (payment's for the credits, invoice's for the receivable).
fn reverse_applications(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    payment_id: &str,
    return_id: &str,
    currency: Currency,
    unapplied_now: i64,
) -> Result<Vec<String>> {
    let lock = match conn.dialect() {
        o2c_store::Dialect::Sqlite => "",
        o2c_store::Dialect::Postgres => " FOR UPDATE OF a, i",
    };
    let rows = conn.query(
        &format!(
            "SELECT a.id, a.invoice_id, a.amount_minor, i.open_minor, i.gross_minor, i.fx_rate, p.fx_rate, i.customer_id
             FROM payment_applications a JOIN invoices i ON i.id = a.invoice_id JOIN payments p ON p.id = a.payment_id
             WHERE a.payment_id = $1 AND a.reversed_by IS NULL ORDER BY a.applied_at, a.id{lock}"
        ),
        params![payment_id],
    )?;
    let functional = crate::fx::functional_currency(conn)?;
    let mut unapplied = unapplied_now;
    let mut reopened = Vec::new();
    for r in rows {
        let (application_id, invoice_id, amount_minor) = (r.text(0), r.text(1), r.int(2));
        let (open_before, gross) = (r.int(3), r.int(4));
        let open_after = open_before + amount_minor;
        if open_after > gross {
            // Applications, discounts, write-offs and credited amounts never take more than
            // an invoice's gross, so giving one back cannot exceed it either.
            return Err(AppError::Internal(format!(
                "reversing {application_id} would open {invoice_id} beyond its gross"
            )));
        }
        let (invoice_rate, paid_rate) = (
            crate::fx::stored(r.opt_text(5))?,
            crate::fx::stored(r.opt_text(6))?,
        );
        let credits_increase =
            paid_rate.relief(unapplied + amount_minor, unapplied, currency, functional)?;
        let receivable_increase =
            invoice_rate.relief(open_after, open_before, currency, functional)?;
        let entry = books::application_reversed_fx(
            &application_id,
            Money::new(amount_minor, currency),
            functional,
            credits_increase,
            receivable_increase,
        )?;
        ledger::post(conn, ctx, &entry, Some(&r.text(7)))?;
        unapplied += amount_minor;
        conn.execute(
            "UPDATE payment_applications SET reversed_by = $2 WHERE id = $1",
            params![application_id.as_str(), return_id],
        )?;
        conn.execute(
            "UPDATE invoices SET open_minor = $2, payment_status = $3 WHERE id = $1",
            params![
                invoice_id.as_str(),
                open_after,
                PaymentStatus::of(gross, open_after).as_str()
            ],
        )?;
        conn.execute(
            "UPDATE payments SET unapplied_minor = unapplied_minor + $2 WHERE id = $1",
            params![payment_id, amount_minor],
        )?;
        adjust_balances(conn, &r.text(7), amount_minor, 0, amount_minor)?;
        reopened.push(invoice_id);
    }
    Ok(reopened)
}

#[allow(clippy::too_many_arguments)]
fn notify(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    return_id: &str,
    method: &str,
    amount: Money,
    code: &str,
    reason: &str,
    revoked_mandate: Option<String>,
    reopened: &[String],
) -> Result<()> {
    let (kind, what) = match method {
        "direct_debit" => ("direct_debit_returned", "direct debit"),
        "card" | "wallet" => ("card_payment_reversed", "card payment"),
        _ => ("payment_returned", "payment"),
    };
    let mut body = format!("Your bank returned our {what} of {amount} ({code}: {reason}).");
    if let Some(m) = revoked_mandate {
        body.push_str(&format!(
            " We can no longer collect under mandate {m}; to pay by direct debit again, please sign a new mandate."
        ));
    }
    if !reopened.is_empty() {
        body.push_str("\n\n");
        body.push_str(&super::notify::how_to_pay(conn, reopened)?);
    }
    super::notify::record_in_tx(
        conn,
        ctx,
        customer_id,
        kind,
        return_id,
        &format!("Your {what} was returned"),
        &body,
    )?;
    Ok(())
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<PaymentReturn> {
    let r = conn
        .query_opt(
            "SELECT id, payment_id, customer_id, reason_code, reason, amount_minor, fee_minor, currency, reopened_invoice_ids, returned_by, returned_at
             FROM payment_returns WHERE id = $1 OR payment_id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("payment return", id))?;
    let cur = Currency::parse(&r.text(7))?;
    Ok(PaymentReturn {
        id: r.text(0),
        payment_id: r.text(1),
        customer_id: r.text(2),
        reason_code: r.text(3),
        reason: r.text(4),
        amount: Money::new(r.int(5), cur),
        fee: Money::new(r.int(6), cur),
        reopened_invoice_ids: serde_json::from_str(&r.text(8))?,
        returned_by: r.text(9),
        returned_at: r.text(10),
    })
}
