//! Payments and their application to invoices. A payment first lands as unapplied cash on the
//! customer's account; applications move it onto invoices, never beyond what either has.

use crate::context::Ctx;
use crate::customer::{self, adjust_balances};
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::ledger;
use o2c_core::id::{ApplicationId, PaymentId};
use o2c_core::invoice::PaymentStatus;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub customer_id: String,
    pub amount: String,
    pub currency: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    /// Date the money arrived (YYYY-MM-DD); today when absent.
    #[serde(default)]
    pub received_on: Option<String>,
    /// Invoices the payer named (remittance); the oldest open items otherwise.
    #[serde(default)]
    pub invoice_ids: Vec<String>,
}

const METHODS: &[&str] = &[
    "bank_transfer",
    "card",
    "direct_debit",
    "cheque",
    "cash",
    "wallet",
];

#[derive(Debug, Clone, Serialize)]
pub struct Payment {
    pub id: String,
    pub customer_id: String,
    pub amount: Money,
    pub unapplied: Money,
    pub method: String,
    pub reference: Option<String>,
    pub received_on: String,
    /// The rate of the day the money arrived; absent in the functional currency.
    pub fx_rate: Option<String>,
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub id: String,
    pub invoice_id: String,
    pub amount: Money,
    pub applied_by: String,
    pub applied_at: String,
}

pub fn record_in_tx(conn: &mut dyn Conn, ctx: &Ctx, r: &PaymentRequest) -> Result<Payment> {
    let cust = customer::find(conn, &r.customer_id)?
        .ok_or_else(|| DomainError::UnknownCustomer(r.customer_id.clone()))?;
    let currency = Currency::parse(&r.currency).map_err(DomainError::money("currency"))?;
    if currency != cust.currency {
        return Err(DomainError::CurrencyMismatch {
            field: "currency",
            expected: cust.currency,
            got: currency,
        }
        .into());
    }
    let amount = Money::parse(&r.amount, currency).map_err(DomainError::money("amount"))?;
    if !amount.is_positive() {
        return Err(DomainError::AmountNotPositive { field: "amount" }.into());
    }
    let method = r.method.clone().unwrap_or_else(|| "bank_transfer".into());
    if !METHODS.contains(&method.as_str()) {
        return Err(DomainError::invalid(
            "method",
            format!("expected one of {}", METHODS.join(", ")),
        )
        .into());
    }
    let received_on = match &r.received_on {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| DomainError::invalid("received_on", "expected a date as YYYY-MM-DD"))?
            .to_string(),
        None => ctx.today().to_string(),
    };
    for (i, inv) in r.invoice_ids.iter().enumerate() {
        let owner = conn.query_opt(
            "SELECT customer_id FROM invoices WHERE id = $1 OR number = $1",
            params![inv.as_str()],
        )?;
        if owner.is_none_or(|o| o.text(0) != cust.id) {
            return Err(DomainError::invalid(
                format!("invoice_ids[{i}]"),
                format!("no invoice `{inv}` of this customer"),
            )
            .into());
        }
    }
    // Cash is held at the rate of the day it arrived (decision record 0005).
    let functional = crate::fx::functional_currency(conn)?;
    let fx_rate = crate::fx::rate_on(conn, functional, currency, &received_on)?;
    let id = insert_in_tx(
        conn,
        ctx,
        &NewPayment {
            customer_id: &cust.id,
            amount,
            method: &method,
            reference: r.reference.as_deref(),
            received_on: &received_on,
            functional,
            fx_rate,
            source: PaymentSource::Direct,
            invoice_ids: &r.invoice_ids,
        },
    )?;
    get(conn, id.as_str())
}

/// Where a payment's money is booked from, and who applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentSource<'a> {
    /// Recorded directly (API): Dr bank; the `cash.auto_apply` rule applies it.
    Direct,
    /// Identified on a bank statement line already booked to unidentified receipts: Dr
    /// suspense; cash application applies it itself (`apply_rule = 'matched'`).
    BankLine(&'a str),
    /// Captured by a payment-service provider (card, wallet): Dr PSP clearing; applied by
    /// `cash.auto_apply` like a direct payment.
    Psp,
    /// Sent for collection in a SEPA direct-debit file: Dr direct debits in collection; applied
    /// by `cash.auto_apply`.
    DirectDebit,
}

pub struct NewPayment<'a> {
    pub customer_id: &'a str,
    pub amount: Money,
    pub method: &'a str,
    pub reference: Option<&'a str>,
    pub received_on: &'a str,
    pub functional: Currency,
    pub fx_rate: o2c_core::fx::FxRate,
    pub source: PaymentSource<'a>,
    pub invoice_ids: &'a [String],
}

/// Writes a payment as unapplied cash on the customer's account, with its journal entry and its
/// `payment.received` event.
pub fn insert_in_tx(conn: &mut dyn Conn, ctx: &Ctx, p: &NewPayment<'_>) -> Result<PaymentId> {
    let id = PaymentId::generate(ctx.ids.as_ref());
    let (apply_rule, bank_line) = match p.source {
        PaymentSource::Direct | PaymentSource::Psp | PaymentSource::DirectDebit => ("auto", None),
        PaymentSource::BankLine(t) => ("matched", Some(t)),
    };
    conn.execute(
        "INSERT INTO payments (id, customer_id, amount_minor, currency, method, reference, received_on, unapplied_minor, created_at, fx_rate, apply_rule, bank_transaction_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $3, $8, $9, $10, $11)",
        params![id.as_str(), p.customer_id, p.amount.minor(), p.amount.currency().code(), p.method, p.reference, p.received_on, ctx.timestamp(), crate::fx::to_column(p.fx_rate), apply_rule, bank_line],
    )?;
    let entry = match p.source {
        PaymentSource::Direct => o2c_core::ledger::payment_received(id.as_str(), p.amount)?,
        PaymentSource::BankLine(_) => o2c_core::ledger::receipt_identified(id.as_str(), p.amount)?,
        PaymentSource::Psp => o2c_core::ledger::psp_settled(id.as_str(), p.amount)?,
        PaymentSource::DirectDebit => o2c_core::ledger::debit_collected(id.as_str(), p.amount)?,
    };
    ledger::post(
        conn,
        ctx,
        &entry.translate(p.functional, p.fx_rate, &[])?,
        Some(p.customer_id),
    )?;
    adjust_balances(conn, p.customer_id, 0, 0, p.amount.minor())?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PaymentReceived,
            aggregate_type: "payment",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: Some(p.customer_id),
            data: json!({"amount": p.amount, "method": p.method, "reference": p.reference, "invoice_ids": p.invoice_ids, "bank_transaction_id": bank_line}),
        },
    )?;
    Ok(id)
}

/// Moves `amount` of a payment's unapplied cash onto an invoice.
pub fn apply_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    payment_id: &str,
    invoice_ref: &str,
    amount_minor: i64,
) -> Result<Application> {
    let lock = conn.for_update();
    let p = conn
        .query_opt(
            &format!(
                "SELECT customer_id, unapplied_minor, currency, fx_rate FROM payments WHERE id = $1{lock}"
            ),
            params![payment_id],
        )?
        .ok_or_else(|| not_found("payment", payment_id))?;
    let inv = conn
        .query_opt(
            &format!("SELECT id, customer_id, open_minor, gross_minor, order_id, due_on, fx_rate FROM invoices WHERE id = $1 OR number = $1{lock}"),
            params![invoice_ref],
        )?
        .ok_or_else(|| not_found("invoice", invoice_ref))?;
    let currency = Currency::parse(&p.text(2))?;
    let show = |m| Money::new(m, currency).to_string();
    if inv.text(1) != p.text(0) {
        return Err(DomainError::invalid(
            "invoice_id",
            "the invoice belongs to another customer than the payment",
        )
        .into());
    }
    if amount_minor <= 0 {
        return Err(DomainError::AmountNotPositive { field: "amount" }.into());
    }
    if amount_minor > p.int(1) {
        return Err(DomainError::ApplicationExceedsOpenAmount {
            what: "payment's unapplied cash",
            requested: show(amount_minor),
            available: show(p.int(1)),
        }
        .into());
    }
    if amount_minor > inv.int(2) {
        return Err(DomainError::ApplicationExceedsOpenAmount {
            what: "invoice's open amount",
            requested: show(amount_minor),
            available: show(inv.int(2)),
        }
        .into());
    }
    let (invoice_id, customer_id, order_id) = (inv.text(0), inv.text(1), inv.text(4));
    let open_after = inv.int(2) - amount_minor;
    let id = ApplicationId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO payment_applications (id, payment_id, invoice_id, customer_id, amount_minor, actor_kind, actor_id, applied_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![id.as_str(), payment_id, invoice_id.as_str(), customer_id.as_str(), amount_minor, ctx.actor.kind(), ctx.actor.name(), ctx.timestamp()],
    )?;
    conn.execute(
        "UPDATE payments SET unapplied_minor = unapplied_minor - $2 WHERE id = $1",
        params![payment_id, amount_minor],
    )?;
    let status = PaymentStatus::of(inv.int(3), open_after);
    conn.execute(
        "UPDATE invoices SET open_minor = $2, payment_status = $3 WHERE id = $1",
        params![invoice_id.as_str(), open_after, status.as_str()],
    )?;
    adjust_balances(conn, &customer_id, -amount_minor, 0, -amount_minor)?;
    let amount = Money::new(amount_minor, currency);
    // Cash leaves unapplied credits at the payment's rate and the receivable at the invoice's;
    // the difference is the realised exchange gain or loss.
    let (paid_rate, invoice_rate) = (
        crate::fx::stored(p.opt_text(3))?,
        crate::fx::stored(inv.opt_text(6))?,
    );
    // Both held without a rate: both are in the functional currency, nothing to translate.
    let functional = match (p.opt_text(3), inv.opt_text(6)) {
        (None, None) => currency,
        _ => crate::fx::functional_currency(conn)?,
    };
    let credits_relief =
        paid_rate.relief(p.int(1), p.int(1) - amount_minor, currency, functional)?;
    let receivable_relief = invoice_rate.relief(inv.int(2), open_after, currency, functional)?;
    ledger::post(
        conn,
        ctx,
        &o2c_core::ledger::cash_applied_fx(
            id.as_str(),
            amount,
            functional,
            credits_relief,
            receivable_relief,
        )?,
        Some(&customer_id),
    )?;
    if !ctx.actor.is_automation() {
        conn.execute(
            "UPDATE orders SET touched_by_person = 1 WHERE id = $1",
            params![order_id.as_str()],
        )?;
    }
    let on_order = |kind, aggregate_type, aggregate_id, data| NewEvent {
        kind,
        aggregate_type,
        aggregate_id,
        order_id: Some(order_id.as_str()),
        customer_id: Some(customer_id.as_str()),
        data,
    };
    event::emit(
        conn,
        ctx,
        on_order(
            EventType::PaymentApplied,
            "payment",
            payment_id,
            json!({"application_id": id, "invoice_id": invoice_id, "amount": amount}),
        ),
    )?;
    if status == PaymentStatus::Paid {
        crate::credit::facts::record_paid_invoice(
            conn,
            &customer_id,
            ctx.today(),
            &inv.text(5),
            inv.int(3),
        )?;
        event::emit(
            conn,
            ctx,
            on_order(
                EventType::InvoicePaid,
                "invoice",
                invoice_id.as_str(),
                json!({"payment_id": payment_id}),
            ),
        )?;
    }
    Ok(Application {
        id: id.to_string(),
        invoice_id,
        amount,
        applied_by: ctx.actor.to_string(),
        applied_at: ctx.timestamp(),
    })
}

/// Rule `cash.auto_apply`: a new payment goes to the invoices the payer named, else to the
/// customer's oldest open items; what is left stays on account as unapplied cash.
pub fn auto_apply_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    payment_id: &str,
    named: &[String],
) -> Result<()> {
    let p = conn
        .query_opt(
            "SELECT customer_id, unapplied_minor, apply_rule FROM payments WHERE id = $1",
            params![payment_id],
        )?
        .ok_or_else(|| not_found("payment", payment_id))?;
    if p.text(2) != "auto" {
        // Cash application decided this payment's allocations itself; what it left is credit
        // on the customer's account on purpose.
        return Ok(());
    }
    let customer_id = p.text(0);
    let mut items = Vec::new();
    for n in named {
        if let Some(r) = conn.query_opt("SELECT id, open_minor FROM invoices WHERE (id = $1 OR number = $1) AND customer_id = $2", params![n.as_str(), customer_id.as_str()])? {
            items.push((r.text(0), r.int(1)));
        }
    }
    if named.is_empty() {
        items = open_items(conn, &customer_id)?;
    }
    for (invoice_id, amount) in o2c_core::payment::allocate_oldest_first(p.int(1), &items) {
        apply_in_tx(conn, ctx, payment_id, &invoice_id, amount)?;
    }
    crate::notify::payment_receipt_in_tx(conn, ctx, payment_id)?;
    Ok(())
}

fn open_items(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<(String, i64)>> {
    Ok(conn
        .query(
            "SELECT id, open_minor FROM invoices WHERE customer_id = $1 AND open_minor > 0 ORDER BY due_on, number",
            params![customer_id],
        )?
        .iter()
        .map(|r| (r.text(0), r.int(1)))
        .collect())
}

/// Rule `cash.apply_credit`: a new invoice for a customer with unapplied cash is settled from it,
/// oldest payment first.
pub fn apply_credit_to_invoice_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    invoice_id: &str,
) -> Result<()> {
    let inv = conn
        .query_opt(
            "SELECT customer_id, open_minor FROM invoices WHERE id = $1",
            params![invoice_id],
        )?
        .ok_or_else(|| not_found("invoice", invoice_id))?;
    let customer_id = inv.text(0);
    let mut open = inv.int(1);
    if open == 0
        || conn
            .query_one(
                "SELECT unapplied_cash_minor FROM customers WHERE id = $1",
                params![customer_id.as_str()],
            )?
            .int(0)
            <= 0
    {
        return Ok(());
    }
    let payments = conn.query(
        "SELECT id, unapplied_minor FROM payments WHERE customer_id = $1 AND unapplied_minor > 0 ORDER BY created_at, id",
        params![customer_id.as_str()],
    )?;
    for p in payments {
        if open == 0 {
            break;
        }
        let take = open.min(p.int(1));
        apply_in_tx(conn, ctx, &p.text(0), invoice_id, take)?;
        open -= take;
    }
    Ok(())
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Payment> {
    let r = conn
        .query_opt(
            "SELECT id, customer_id, amount_minor, currency, unapplied_minor, method, reference, received_on, fx_rate FROM payments WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("payment", id))?;
    let cur = Currency::parse(&r.text(3)).map_err(|e| AppError::Internal(e.to_string()))?;
    let applications = conn
        .query(
            "SELECT id, invoice_id, amount_minor, actor_kind, actor_id, applied_at FROM payment_applications WHERE payment_id = $1 ORDER BY applied_at, id",
            params![id],
        )?
        .iter()
        .map(|a| Application {
            id: a.text(0),
            invoice_id: a.text(1),
            amount: Money::new(a.int(2), cur),
            applied_by: format!("{}:{}", a.text(3), a.text(4)),
            applied_at: a.text(5),
        })
        .collect();
    Ok(Payment {
        id: r.text(0),
        customer_id: r.text(1),
        amount: Money::new(r.int(2), cur),
        unapplied: Money::new(r.int(4), cur),
        method: r.text(5),
        reference: r.opt_text(6),
        received_on: r.text(7),
        fx_rate: r.opt_text(8),
        applications,
    })
}
