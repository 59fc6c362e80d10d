//! Receivables: every unpaid invoice has a reason and a next step. Open items and aging
//! (`aging`), disputes and deductions (`disputes`), promises to pay, contact notes and the
//! collector's tasks (`promises`, `notes`), dunning (`dunning`), write-offs (`writeoff`), the
//! collections worklist and key figures (`kpis`), statements of account (`statement`).

pub mod aging;
pub mod bench;
pub mod disputes;
pub mod dunning;
pub mod kpis;
pub mod notes;
pub mod promises;
pub mod statement;
pub mod writeoff;

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use chrono::NaiveDate;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::Conn;

/// An event on a receivables document of a customer.
pub(crate) fn emit(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    kind: EventType,
    aggregate: (&'static str, &str),
    customer_id: &str,
    data: serde_json::Value,
) -> Result<()> {
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: aggregate.0,
            aggregate_id: aggregate.1,
            order_id: None,
            customer_id: Some(customer_id),
            data,
        },
    )
}

/// A date field of a request (`YYYY-MM-DD`).
pub fn parse_day(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        DomainError::invalid(field, format!("`{s}`: expected a date such as 2026-11-30")).into()
    })
}

/// A positive amount field in `currency`.
pub fn parse_positive(field: &'static str, s: &str, currency: Currency) -> Result<Money> {
    let m = Money::parse(s, currency).map_err(DomainError::money(field))?;
    if !m.is_positive() {
        return Err(DomainError::AmountNotPositive { field }.into());
    }
    Ok(m)
}

/// The open facts of an invoice, locked for the change that follows (PostgreSQL).
pub(crate) struct OpenInvoice {
    pub id: String,
    pub number: String,
    pub customer_id: String,
    pub currency: Currency,
    pub kind: String,
    pub open_minor: i64,
    pub gross_minor: i64,
    pub payment_status: String,
    pub fx_rate: Option<String>,
}

pub(crate) fn lock_invoice(conn: &mut dyn Conn, id_or_number: &str) -> Result<OpenInvoice> {
    let sql = format!(
        "SELECT id, number, customer_id, currency, kind, open_minor, gross_minor, payment_status, fx_rate
         FROM invoices WHERE id = $1 OR number = $1{}",
        conn.for_update()
    );
    let r = conn
        .query_opt(&sql, &[id_or_number.into()])?
        .ok_or_else(|| crate::error::not_found("invoice", id_or_number))?;
    Ok(OpenInvoice {
        id: r.text(0),
        number: r.text(1),
        customer_id: r.text(2),
        currency: Currency::parse(&r.text(3)).map_err(DomainError::money("currency"))?,
        kind: r.text(4),
        open_minor: r.int(5),
        gross_minor: r.int(6),
        payment_status: r.text(7),
        fx_rate: r.opt_text(8),
    })
}

impl OpenInvoice {
    /// Refuses an invoice with nothing open (paid, credited, written off) or a credit note.
    pub fn require_open(&self, action: &'static str) -> Result<()> {
        if self.kind != "invoice" || self.open_minor == 0 {
            return Err(DomainError::InvoiceNotOpen {
                invoice: self.number.clone(),
                state: if self.kind != "invoice" {
                    "a credit note".into()
                } else {
                    self.payment_status.clone()
                },
                action,
            }
            .into());
        }
        Ok(())
    }
}
