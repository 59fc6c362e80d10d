//! SEPA direct-debit collections: one pain.008 file per scheme for every open invoice due on
//! or before a date whose customer has an active mandate and that no collection carried yet.
//!
//! Booking: each debit is a payment (method `direct_debit`, received on the collection date)
//! booked `DEBIT_COLLECTED` (Dr 1020 direct debits in collection / Cr unapplied cash) and named
//! to its invoice, so `cash.auto_apply` settles the invoice. The bank's credit for the file
//! later moves 1020 to the bank; a returned debit comes back out of 1020 (`psp::returns`), and
//! the invoice opens again. An invoice is collected at most once: after a return it is paid by
//! transfer (the customer is told how).

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::payment::{self, NewPayment, PaymentSource};
use chrono::NaiveDate;
use o2c_core::id::{SepaCollectionId, SepaDebitId};
use o2c_core::{Currency, DomainError, Money};
use o2c_docs::pain008::{self, Collection, Creditor, Debit, Scheme, SequenceType};
use o2c_store::{Conn, Row, params};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct CollectionSummary {
    pub id: String,
    pub message_id: String,
    pub scheme: String,
    /// Invoices due on or before this date were collected.
    pub cutoff_on: String,
    pub collection_date: String,
    pub debit_count: i64,
    pub total: Money,
    pub debits: Vec<DebitSummary>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DebitSummary {
    pub id: String,
    pub end_to_end_id: String,
    pub customer_id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    pub payment_id: String,
    pub mandate_id: String,
    pub sequence: String,
    pub amount: Money,
    /// collected or returned.
    pub status: String,
    pub return_reason: Option<String>,
}

/// An invoice to collect, with its customer's mandate.
struct Due {
    invoice_id: String,
    number: String,
    customer_id: String,
    open_minor: i64,
    reference: Option<String>,
    mandate_id: String,
    signed_on: NaiveDate,
    debtor_name: String,
    iban: String,
    bic: Option<String>,
    scheme: Scheme,
    sequence: SequenceType,
}

/// A date given as `YYYY-MM-DD` (command line, request bodies).
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| DomainError::invalid(field, "expected a date as YYYY-MM-DD").into())
}

/// Builds and records the collections due by `cutoff`; an empty list when nothing is due.
pub fn collect_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    cutoff: NaiveDate,
) -> Result<Vec<CollectionSummary>> {
    let creditor = creditor(conn)?;
    let due = due_by(conn, cutoff)?;
    let collection_date = cutoff.max(ctx.today());
    let mut out = Vec::new();
    for scheme in [Scheme::Core, Scheme::B2B] {
        let items: Vec<&Due> = due.iter().filter(|d| d.scheme == scheme).collect();
        if !items.is_empty() {
            let id = record(
                conn,
                ctx,
                &creditor,
                scheme,
                &items,
                cutoff,
                collection_date,
            )?;
            out.push(get(conn, &id)?);
        }
    }
    Ok(out)
}

fn creditor(conn: &mut dyn Conn) -> Result<Creditor> {
    let company = crate::billing::company(conn)?;
    let missing = |what: &str| {
        AppError::from(DomainError::SepaNotConfigured(format!(
            "the company profile has no {what}: set it with PUT /api/v1/company before collecting by direct debit"
        )))
    };
    Ok(Creditor {
        iban: company.iban.clone().ok_or_else(|| missing("IBAN"))?,
        creditor_id: company
            .sepa_creditor_id
            .clone()
            .ok_or_else(|| missing("SEPA creditor identifier (sepa_creditor_id)"))?,
        bic: company.bic.clone(),
        name: company.name,
    })
}

fn due_by(conn: &mut dyn Conn, cutoff: NaiveDate) -> Result<Vec<Due>> {
    let lock = match conn.dialect() {
        o2c_store::Dialect::Sqlite => "",
        o2c_store::Dialect::Postgres => " FOR UPDATE OF i, m",
    };
    let rows = conn.query(
        &format!(
            "SELECT i.id, i.number, i.customer_id, i.open_minor, i.payment_reference,
                    m.mandate_id, m.signed_on, m.debtor_name, m.iban, m.bic, m.scheme, m.sequence_type
             FROM invoices i JOIN sepa_mandates m ON m.customer_id = i.customer_id AND m.status = 'active'
             WHERE i.open_minor > 0 AND i.kind = 'invoice' AND i.currency = 'EUR' AND i.due_on <= $1
               AND NOT EXISTS (SELECT 1 FROM sepa_debits d WHERE d.invoice_id = i.id)
             ORDER BY i.customer_id, i.due_on, i.number{lock}"
        ),
        params![cutoff.to_string()],
    )?;
    rows.iter().map(due_from).collect()
}

fn due_from(r: &Row) -> Result<Due> {
    let date = |s: String| {
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| AppError::Internal(e.to_string()))
    };
    Ok(Due {
        invoice_id: r.text(0),
        number: r.text(1),
        customer_id: r.text(2),
        open_minor: r.int(3),
        reference: r
            .opt_text(4)
            .filter(|rf| o2c_core::reference::is_valid_rf(rf)),
        mandate_id: r.text(5),
        signed_on: date(r.text(6))?,
        debtor_name: r.text(7),
        iban: r.text(8),
        bic: r.opt_text(9),
        scheme: if r.text(10) == "B2B" {
            Scheme::B2B
        } else {
            Scheme::Core
        },
        sequence: if r.text(11) == "RCUR" {
            SequenceType::Recurring
        } else {
            SequenceType::First
        },
    })
}

/// Writes the file, then the collection, its debits and their payments; advances each mandate
/// to RCUR. A file the bank would refuse is an error and nothing is recorded.
fn record(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    creditor: &Creditor,
    scheme: Scheme,
    items: &[&Due],
    cutoff: NaiveDate,
    collection_date: NaiveDate,
) -> Result<String> {
    let id = SepaCollectionId::generate(ctx.ids.as_ref());
    // Identifiers travel in the SEPA character set, which has no underscore.
    let message_id = id.as_str().replace('_', "-");
    let debit_ids: Vec<SepaDebitId> = items
        .iter()
        .map(|_| SepaDebitId::generate(ctx.ids.as_ref()))
        .collect();
    let debits: Vec<Debit> = items
        .iter()
        .zip(&debit_ids)
        .map(|(d, debit_id)| Debit {
            end_to_end_id: debit_id.as_str().replace('_', "-"),
            amount: Money::new(d.open_minor, Currency::EUR),
            sequence: d.sequence,
            collection_date,
            mandate_id: d.mandate_id.clone(),
            mandate_signed_on: d.signed_on,
            debtor_name: d.debtor_name.clone(),
            debtor_iban: d.iban.clone(),
            debtor_bic: d.bic.clone(),
            remittance_unstructured: d
                .reference
                .is_none()
                .then(|| format!("Invoice {}", d.number)),
            remittance_rf: d.reference.clone(),
        })
        .collect();
    let collection = Collection {
        message_id: message_id.clone(),
        created_at: ctx.now.naive_utc(),
        creditor: creditor.clone(),
        scheme,
        debits,
    };
    let file = pain008::write_pain008(&collection)
        .map_err(|e| DomainError::CollectionFileInvalid(describe(&e.to_string(), items)))?;
    let total: i64 = items.iter().map(|d| d.open_minor).sum();
    conn.execute(
        "INSERT INTO sepa_collections (id, message_id, scheme, cutoff_on, collection_date, debit_count, total_minor, currency, file, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'EUR', $8, $9, $10)",
        params![id.as_str(), message_id.as_str(), scheme.code(), cutoff.to_string(), collection_date.to_string(), items.len() as i64, total, file.as_str(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    let functional = crate::fx::functional_currency(conn)?;
    let received_on = collection_date.to_string();
    let fx_rate = crate::fx::rate_on(conn, functional, Currency::EUR, &received_on)?;
    let booking = Booking {
        collection_id: id.as_str(),
        received_on: &received_on,
        functional,
        fx_rate,
    };
    for ((d, debit_id), debit) in items.iter().zip(&debit_ids).zip(&collection.debits) {
        book_debit(conn, ctx, &booking, d, debit_id.as_str(), debit)?;
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::SepaCollectionCreated,
            aggregate_type: "sepa_collection",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: None,
            data: json!({"message_id": message_id, "scheme": scheme.code(), "debits": items.len(), "total": Money::new(total, Currency::EUR), "collection_date": received_on}),
        },
    )?;
    Ok(id.to_string())
}

struct Booking<'a> {
    collection_id: &'a str,
    received_on: &'a str,
    functional: Currency,
    fx_rate: o2c_core::fx::FxRate,
}

/// One debit: its payment (Dr direct debits in collection, named to the invoice), its row, and
/// the mandate moved on to RCUR.
fn book_debit(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    b: &Booking<'_>,
    d: &Due,
    debit_id: &str,
    debit: &Debit,
) -> Result<()> {
    let payment_id = payment::insert_in_tx(
        conn,
        ctx,
        &NewPayment {
            customer_id: &d.customer_id,
            amount: debit.amount,
            method: "direct_debit",
            reference: Some(&debit.end_to_end_id),
            received_on: b.received_on,
            functional: b.functional,
            fx_rate: b.fx_rate,
            source: PaymentSource::DirectDebit,
            invoice_ids: std::slice::from_ref(&d.invoice_id),
        },
    )?;
    conn.execute(
        "UPDATE payments SET provider = 'sepa', provider_reference = $2 WHERE id = $1",
        params![payment_id.as_str(), debit.end_to_end_id.as_str()],
    )?;
    conn.execute(
        "INSERT INTO sepa_debits (id, collection_id, customer_id, invoice_id, payment_id, mandate_id, sequence_type, amount_minor, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'collected')",
        params![debit_id, b.collection_id, d.customer_id.as_str(), d.invoice_id.as_str(), payment_id.as_str(), d.mandate_id.as_str(), d.sequence.code(), d.open_minor],
    )?;
    conn.execute(
        "UPDATE sepa_mandates SET sequence_type = 'RCUR', last_collected_on = $3 WHERE customer_id = $1 AND mandate_id = $2",
        params![d.customer_id.as_str(), d.mandate_id.as_str(), b.received_on],
    )?;
    Ok(())
}

/// The writer names a debit by its index (`debits[3].debtor_iban`); say which invoice it is.
fn describe(message: &str, items: &[&Due]) -> String {
    let index = message
        .strip_prefix("debits[")
        .and_then(|r| r.split_once(']'))
        .and_then(|(n, _)| n.parse::<usize>().ok());
    match index.and_then(|n| items.get(n)) {
        Some(d) => format!("{message} (invoice {}, mandate {})", d.number, d.mandate_id),
        None => message.to_string(),
    }
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<CollectionSummary> {
    let c = conn
        .query_opt(
            "SELECT id, message_id, scheme, cutoff_on, collection_date, debit_count, total_minor, currency, created_at FROM sepa_collections WHERE id = $1 OR message_id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("SEPA collection", id))?;
    let cur = Currency::parse(&c.text(7))?;
    let debits = conn
        .query(
            "SELECT d.id, d.customer_id, d.invoice_id, i.number, d.payment_id, d.mandate_id, d.sequence_type, d.amount_minor, d.status, d.return_reason
             FROM sepa_debits d JOIN invoices i ON i.id = d.invoice_id WHERE d.collection_id = $1 ORDER BY d.id",
            params![c.text(0).as_str()],
        )?
        .iter()
        .map(|r| DebitSummary {
            end_to_end_id: r.text(0).replace('_', "-"),
            id: r.text(0),
            customer_id: r.text(1),
            invoice_id: r.text(2),
            invoice_number: r.text(3),
            payment_id: r.text(4),
            mandate_id: r.text(5),
            sequence: r.text(6),
            amount: Money::new(r.int(7), cur),
            status: r.text(8),
            return_reason: r.opt_text(9),
        })
        .collect();
    Ok(CollectionSummary {
        id: c.text(0),
        message_id: c.text(1),
        scheme: c.text(2),
        cutoff_on: c.text(3),
        collection_date: c.text(4),
        debit_count: c.int(5),
        total: Money::new(c.int(6), cur),
        debits,
        created_at: c.text(8),
    })
}

/// The pain.008 document of a collection, as it was written.
pub fn file(conn: &mut dyn Conn, id: &str) -> Result<String> {
    Ok(conn
        .query_opt(
            "SELECT file FROM sepa_collections WHERE id = $1 OR message_id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("SEPA collection", id))?
        .text(0))
}

/// Collections, newest first.
pub fn list(conn: &mut dyn Conn, limit: i64) -> Result<Vec<CollectionSummary>> {
    let ids: Vec<String> = conn
        .query(
            "SELECT id FROM sepa_collections ORDER BY created_at DESC, id DESC LIMIT $1",
            params![limit],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}
