//! Credit notes: an issued invoice is never edited; a correction is a credit note referencing
//! it, in full or for some lines. It posts its own journal entry, reduces the invoice's open
//! amount, and whatever the invoice no longer had open becomes a credit on the customer's
//! account (settled against the next invoice by the usual cash rules, or refunded).

use crate::context::Ctx;
use crate::customer::adjust_balances;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::invoice::{self, next_number, write_adjustments_and_taxes};
use crate::ledger;
use o2c_core::id::{InvoiceId, PaymentId};
use o2c_core::invoice::{BilledLine, DocumentAmounts, PaymentStatus, document_amounts};
use o2c_core::reference::rf_reference;
use o2c_core::tax::{TaxCategory, TaxSubtotal};
use o2c_core::{DomainError, Money, Percent};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

pub const SERIES: &str = "CRN";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    /// Why (printed on the credit note): "damaged in transit", "price correction".
    pub reason: String,
    /// Lines to credit by the invoice's line number; absent: the whole invoice.
    #[serde(default)]
    pub lines: Option<Vec<CreditLineRequest>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreditLineRequest {
    pub line_no: i64,
    pub quantity: i64,
}

/// Issues a credit note for `invoice_id` (id or number); returns the credit note's id.
pub fn issue_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    invoice_id: &str,
    r: &CreditNoteRequest,
) -> Result<String> {
    let reason = r.reason.trim();
    if reason.is_empty() {
        return Err(DomainError::invalid("reason", "say why the invoice is credited").into());
    }
    let inv = invoice::get(conn, invoice_id)?;
    if inv.kind != "invoice" {
        return Err(DomainError::invalid(
            "invoice_id",
            format!("{} is a credit note: credit the invoice itself", inv.number),
        )
        .into());
    }
    // Lock the invoice row (PostgreSQL) for the open-amount arithmetic below.
    let sql = format!(
        "SELECT open_minor, credited_minor FROM invoices WHERE id = $1{}",
        conn.for_update()
    );
    let locked = conn.query_one(&sql, params![inv.id.as_str()])?;
    let (open, credited) = (locked.int(0), locked.int(1));
    let cur = inv.currency;
    // Quantities already credited per invoice line.
    let mut already: BTreeMap<(Option<String>, i64), i64> = BTreeMap::new();
    for row in conn.query(
        "SELECT l.order_id, l.order_line_no, l.quantity FROM invoice_lines l JOIN invoices c ON c.id = l.invoice_id WHERE c.corrects_invoice_id = $1",
        params![inv.id.as_str()],
    )? {
        *already.entry((row.opt_text(0), row.int(1))).or_default() += row.int(2);
    }
    let full = r.lines.is_none();
    let wanted: Vec<(i64, i64)> = match &r.lines {
        // The whole invoice, or whatever earlier credit notes left of it.
        None => inv
            .lines
            .iter()
            .map(|l| {
                let done = already
                    .get(&(l.order_id.clone(), l.order_line_no))
                    .copied()
                    .unwrap_or(0);
                (l.line_no, l.quantity - done)
            })
            .filter(|(_, q)| *q > 0)
            .collect(),
        Some(ls) if ls.is_empty() => {
            return Err(DomainError::invalid(
                "lines",
                "name at least one line, or leave lines out to credit the whole invoice",
            )
            .into());
        }
        Some(ls) => ls.iter().map(|l| (l.line_no, l.quantity)).collect(),
    };
    let mut billed = Vec::new();
    let mut rows = Vec::new();
    let id = InvoiceId::generate(ctx.ids.as_ref());
    for (i, (line_no, qty)) in wanted.iter().enumerate() {
        let l = inv
            .lines
            .iter()
            .find(|l| l.line_no == *line_no)
            .ok_or_else(|| {
                DomainError::invalid(
                    format!("lines[{i}].line_no"),
                    format!("invoice {} has no line {line_no}", inv.number),
                )
            })?;
        let done = already
            .get(&(l.order_id.clone(), l.order_line_no))
            .copied()
            .unwrap_or(0);
        if *qty <= 0 || *qty > l.quantity - done {
            return Err(DomainError::CreditExceedsInvoice(format!(
                "lines[{i}].quantity: line {line_no} billed {} and {done} are already credited; {qty} cannot be credited",
                l.quantity
            ))
            .into());
        }
        let (net, off) = super::price::line_net(l.unit_price, *qty, l.discount)?;
        let category = TaxCategory::parse(&l.tax_category).unwrap_or(TaxCategory::Standard);
        billed.push(BilledLine {
            net,
            category,
            rate: l.tax_rate,
        });
        rows.push(vec![
            Value::from(id.as_str()),
            Value::from(i + 1),
            Value::from(l.order_line_no),
            Value::from(l.sku.as_str()),
            Value::from(l.description.as_str()),
            Value::from(*qty),
            Value::from(l.unit_price.minor()),
            Value::from(net.minor()),
            Value::from(l.tax_category.as_str()),
            Value::from(l.tax_rate.basis_points()),
            Value::from(l.order_id.clone()),
            Value::from(l.shipment_id.clone()),
            Value::from(l.discount.basis_points()),
            Value::from(off.minor()),
        ]);
    }
    // Nothing credited yet and the whole invoice asked for: mirror it exactly (its document
    // discount and freight too), so a full credit note reverses the invoice to the cent.
    let amounts = if full && credited == 0 {
        DocumentAmounts {
            adjustments: inv
                .allowances_charges
                .iter()
                .map(|a| o2c_core::invoice::DocumentAdjustment {
                    is_charge: a.is_charge,
                    amount: a.amount,
                    base: a.base,
                    percent: a.percent,
                    reason: a.reason.clone(),
                    reason_code: if a.is_charge { "FC" } else { "95" },
                    category: TaxCategory::parse(&a.tax_category).unwrap_or(TaxCategory::Standard),
                    rate: a.tax_rate,
                })
                .collect(),
            breakdown: inv
                .taxes
                .iter()
                .map(|t| TaxSubtotal {
                    category: TaxCategory::parse(&t.category).unwrap_or(TaxCategory::Standard),
                    rate: t.rate,
                    taxable: t.taxable,
                    tax: t.tax,
                })
                .collect(),
            line_net: inv.line_net,
            allowances: inv.allowances,
            charges: inv.charges,
            tax_exclusive: inv.net,
            tax: inv.tax,
            gross: inv.gross,
        }
    } else {
        // A partial credit takes the same document discount off what it credits; freight stays billed.
        let discount = inv
            .allowances_charges
            .iter()
            .find(|a| !a.is_charge)
            .and_then(|a| a.percent)
            .unwrap_or(Percent::from_basis_points(0));
        // What is left of the freight goes with a credit of the whole remainder.
        let charges_credited = conn
            .query_one(
                "SELECT CAST(COALESCE(SUM(charges_minor), 0) AS BIGINT) FROM invoices WHERE corrects_invoice_id = $1",
                params![inv.id.as_str()],
            )?
            .int(0);
        let freight = if full {
            Money::new(inv.charges.minor() - charges_credited, cur)
        } else {
            Money::zero(cur)
        };
        let mut a = document_amounts(cur, &billed, discount, freight)?;
        // Each credit note rounds its own tax; the last one of an invoice takes what is left,
        // so that crediting everything reverses the invoice to the cent.
        let covers_rest = inv.lines.iter().all(|l| {
            let done = already
                .get(&(l.order_id.clone(), l.order_line_no))
                .copied()
                .unwrap_or(0);
            let now: i64 = wanted
                .iter()
                .filter(|(n, _)| *n == l.line_no)
                .map(|(_, q)| *q)
                .sum();
            done + now == l.quantity
        }) && inv.charges.minor() - charges_credited == a.charges.minor();
        let over = credited + a.gross.minor() - inv.gross.minor();
        if covers_rest && over != 0 && over.abs() <= a.breakdown.len() as i64 {
            if let Some(b) = a.breakdown.iter_mut().find(|b| !b.tax.is_zero()) {
                b.tax = Money::new(b.tax.minor() - over, cur);
                a.tax = Money::new(a.tax.minor() - over, cur);
                a.gross = Money::new(a.gross.minor() - over, cur);
            }
        }
        a
    };
    let gross = amounts.gross;
    if credited + gross.minor() > inv.gross.minor() {
        return Err(DomainError::CreditExceedsInvoice(format!(
            "invoice {} billed {}; {} is already credited, so {} more cannot be",
            inv.number,
            inv.gross,
            Money::new(credited, cur),
            gross
        ))
        .into());
    }
    let applied = gross.minor().min(open);
    let to_account = gross.minor() - applied;
    let today = ctx.today();
    // A credit note reverses at the rate of the invoice it corrects, so it leaves no exchange
    // difference of its own; what becomes customer credit is held at that rate too.
    let functional = crate::fx::functional_currency(conn)?;
    let fx_rate = crate::fx::stored(
        conn.query_one(
            "SELECT fx_rate FROM invoices WHERE id = $1",
            params![inv.id.as_str()],
        )?
        .opt_text(0),
    )?;
    let number = next_number(conn, SERIES, chrono::Datelike::year(&today))?;
    conn.execute(
        "INSERT INTO invoices (id, number, customer_id, order_id, shipment_id, currency, issued_on, due_on, net_minor, tax_minor, gross_minor, open_minor, payment_status, created_at,
                               kind, corrects_invoice_id, payment_reference, line_net_minor, allowances_minor, charges_minor, billing_policy, note, fx_rate)
         VALUES ($1, $2, $3, $4, NULL, $5, $6, $6, $7, $8, $9, 0, 'applied', $10, 'credit_note', $11, $12, $13, $14, $15, $16, $17, $18)",
        params![
            id.as_str(),
            number.as_str(),
            inv.customer_id.as_str(),
            inv.order_id.as_str(),
            cur.code(),
            today.to_string(),
            amounts.tax_exclusive.minor(),
            amounts.tax.minor(),
            gross.minor(),
            ctx.timestamp(),
            inv.id.as_str(),
            rf_reference(&number),
            amounts.line_net.minor(),
            amounts.allowances.minor(),
            amounts.charges.minor(),
            inv.billing_policy.as_str(),
            format!("Credit note for invoice {}: {reason}", inv.number),
            crate::fx::to_column(fx_rate)
        ],
    )?;
    conn.insert_rows("invoice_lines", invoice::LINE_COLUMNS, &rows)?;
    let exemptions: Vec<_> = inv
        .taxes
        .iter()
        .filter_map(|t| {
            let c = TaxCategory::parse(&t.category)?;
            Some((c, t.exemption_reason.clone(), t.exemption_code.clone()))
        })
        .collect();
    write_adjustments_and_taxes(conn, id.as_str(), &amounts, &exemptions)?;
    let new_open = open - applied;
    // Paid status counts what was paid, not what was credited.
    let status = if new_open == 0 && credited + gross.minor() >= inv.gross.minor() {
        "credited"
    } else {
        PaymentStatus::of(inv.gross.minor() - credited - gross.minor(), new_open).as_str()
    };
    conn.execute(
        "UPDATE invoices SET open_minor = $2, credited_minor = credited_minor + $3, payment_status = $4 WHERE id = $1",
        params![inv.id.as_str(), new_open, gross.minor(), status],
    )?;
    match o2c_core::ledger::credit_note_issued(
        id.as_str(),
        amounts.tax_exclusive,
        amounts.tax,
        Money::new(applied, cur),
    ) {
        Ok(entry) => {
            let receivable = fx_rate.relief(open, new_open, cur, functional)?;
            let entry = entry.translate(
                functional,
                fx_rate,
                &[(o2c_core::ledger::ACCOUNTS_RECEIVABLE.code, -receivable)],
            )?;
            ledger::post(conn, ctx, &entry, Some(&inv.customer_id))?
        }
        Err(o2c_core::ledger::LedgerError::Empty) => {}
        Err(e) => return Err(e.into()),
    }
    adjust_balances(conn, &inv.customer_id, -applied, 0, to_account)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CreditNoteIssued,
            aggregate_type: "invoice",
            aggregate_id: id.as_str(),
            order_id: Some(&inv.order_id),
            customer_id: Some(&inv.customer_id),
            data: json!({"number": number, "invoice_id": inv.id, "invoice_number": inv.number, "gross": gross, "applied_to_invoice": Money::new(applied, cur), "to_customer_account": Money::new(to_account, cur), "reason": reason}),
        },
    )?;
    super::delivery::enqueue_in_tx(conn, ctx, id.as_str(), &inv.customer_id)?;
    if to_account > 0 {
        // The part the invoice no longer owed is the customer's money: it waits as unapplied
        // credit, like an overpayment, for the next invoice or a refund.
        let pid = PaymentId::generate(ctx.ids.as_ref());
        conn.execute(
            "INSERT INTO payments (id, customer_id, amount_minor, currency, method, reference, received_on, unapplied_minor, created_at, fx_rate)
             VALUES ($1, $2, $3, $4, 'credit_note', $5, $6, $3, $7, $8)",
            params![pid.as_str(), inv.customer_id.as_str(), to_account, cur.code(), number.as_str(), today.to_string(), ctx.timestamp(), crate::fx::to_column(fx_rate)],
        )?;
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::PaymentReceived,
                aggregate_type: "payment",
                aggregate_id: pid.as_str(),
                order_id: None,
                customer_id: Some(&inv.customer_id),
                data: json!({"amount": Money::new(to_account, cur), "method": "credit_note", "reference": number, "invoice_ids": []}),
            },
        )?;
    }
    if applied > 0 && new_open == 0 {
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::InvoicePaid,
                aggregate_type: "invoice",
                aggregate_id: inv.id.as_str(),
                order_id: Some(&inv.order_id),
                customer_id: Some(&inv.customer_id),
                data: json!({"reason": "credited", "credit_note": number}),
            },
        )?;
    }
    Ok(id.to_string())
}

/// Credit notes issued against an invoice.
pub fn for_invoice(conn: &mut dyn Conn, invoice_id: &str) -> Result<Vec<String>> {
    let inv = conn
        .query_opt(
            "SELECT id FROM invoices WHERE id = $1 OR number = $1",
            params![invoice_id],
        )?
        .ok_or_else(|| not_found("invoice", invoice_id))?
        .text(0);
    Ok(conn
        .query(
            "SELECT id FROM invoices WHERE corrects_invoice_id = $1 ORDER BY number",
            params![inv.as_str()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect())
}
