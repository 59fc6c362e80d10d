//! Builds the `InvoiceDocument` of an issued invoice or credit note from what was stored when
//! it was issued: the renderers get every amount computed and checked.

use crate::billing::{self, CompanyProfile};
use crate::error::{AppError, Result};
use crate::invoice::{self, Invoice};
use chrono::NaiveDate;
use o2c_core::Money;
use o2c_core::customer::Address;
use o2c_core::document::{
    AllowanceCharge, DocumentKind, DocumentLine, DocumentTax, InvoiceDocument, LineDiscount, Party,
    PaymentInstructions, PostalAddress, Seller, TaxBreakdown, Totals,
};
use o2c_core::tax::TaxCategory;
use o2c_store::{Conn, params};

fn postal(a: &Address) -> PostalAddress {
    PostalAddress {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

fn date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::Internal(format!("stored {field} `{s}` is not a date")))
}

fn category(s: &str) -> Result<TaxCategory> {
    TaxCategory::parse(s).ok_or_else(|| AppError::Internal(format!("stored tax category `{s}`")))
}

pub fn seller(c: &CompanyProfile) -> Seller {
    Seller {
        party: Party {
            name: c.name.clone(),
            address: postal(&c.address),
            vat_id: c.vat_id.clone(),
            company_id: c.company_id.clone(),
            endpoint: c.email.clone().map(|e| ("EM".to_string(), e)),
            email: c.email.clone(),
            phone: c.phone.clone(),
            contact_name: None,
        },
        website: c.website.clone(),
        logo_path: c.logo_path.clone(),
        iban: c.iban.clone(),
        bic: c.bic.clone(),
        bank_name: c.bank_name.clone(),
    }
}

/// The document for an invoice or credit note id (or number).
pub fn build(conn: &mut dyn Conn, id: &str) -> Result<InvoiceDocument> {
    let inv = invoice::get(conn, id)?;
    let company = billing::company(conn)?;
    build_from(conn, &inv, &company)
}

pub fn build_from(
    conn: &mut dyn Conn,
    inv: &Invoice,
    company: &CompanyProfile,
) -> Result<InvoiceDocument> {
    let cur = inv.currency;
    let c = conn.query_one(
        "SELECT name, email, billing_address, vat_id, billing_email, payment_terms_days FROM customers WHERE id = $1",
        params![inv.customer_id.as_str()],
    )?;
    let billing_address: Address = c
        .opt_text(2)
        .map(|s| serde_json::from_str(&s))
        .transpose()?
        .ok_or_else(|| {
            AppError::Internal(format!(
                "customer {} has no billing address",
                inv.customer_id
            ))
        })?;
    let billing_email = c.opt_text(4).or_else(|| c.opt_text(1));
    let buyer = Party {
        name: c.text(0),
        address: postal(&billing_address),
        vat_id: c.opt_text(3),
        company_id: None,
        endpoint: billing_email.clone().map(|e| ("EM".to_string(), e)),
        email: billing_email,
        phone: None,
        contact_name: None,
    };
    let o = conn.query_one(
        "SELECT ship_to, customer_reference FROM orders WHERE id = $1",
        params![inv.order_id.as_str()],
    )?;
    let ship_to: Address = serde_json::from_str(&o.text(0))?;
    let issue_date = date("issued_on", &inv.issued_on)?;
    // The actual delivery date (BT-72): the last dispatch this document bills (a credit note:
    // the corrected invoice's), else the issue date.
    let billed = inv.corrects_invoice_id.as_deref().unwrap_or(&inv.id);
    let delivered_on = conn
        .query_one(
            "SELECT MAX(dispatched_at) FROM shipments WHERE invoice_id = $1",
            params![billed],
        )?
        .opt_text(0)
        .and_then(|t| NaiveDate::parse_from_str(t.get(..10).unwrap_or(""), "%Y-%m-%d").ok())
        .unwrap_or(issue_date);
    let kind = if inv.kind == "credit_note" {
        DocumentKind::CreditNote
    } else {
        DocumentKind::Invoice
    };
    let preceding = match &inv.corrects_invoice_id {
        Some(orig) => {
            let r = conn.query_one(
                "SELECT number, issued_on FROM invoices WHERE id = $1",
                params![orig.as_str()],
            )?;
            Some((r.text(0), date("issued_on", &r.text(1))?))
        }
        None => None,
    };
    let lines = inv
        .lines
        .iter()
        .map(|l| {
            let base = l.unit_price.checked_mul(l.quantity)?;
            Ok(DocumentLine {
                id: l.line_no.to_string(),
                sku: l.sku.clone(),
                buyer_item_id: None,
                description: l.description.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                discount: (!l.discount_amount.is_zero()).then(|| LineDiscount {
                    amount: l.discount_amount,
                    base,
                    percent: l.discount,
                    reason: "Agreed discount".into(),
                }),
                net: l.net,
                tax: DocumentTax {
                    category: category(&l.tax_category)?,
                    rate: l.tax_rate,
                },
                order_line_ref: l
                    .order_id
                    .as_ref()
                    .map(|o| format!("{o}/{}", l.order_line_no)),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let allowances_charges = inv
        .allowances_charges
        .iter()
        .map(|a| {
            Ok(AllowanceCharge {
                is_charge: a.is_charge,
                amount: a.amount,
                base: a.base,
                percent: a.percent,
                reason: a.reason.clone(),
                reason_code: a.reason_code.clone(),
                tax: DocumentTax {
                    category: category(&a.tax_category)?,
                    rate: a.tax_rate,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let taxes = inv
        .taxes
        .iter()
        .map(|t| {
            let cat = category(&t.category)?;
            let default = cat.default_exemption();
            Ok(TaxBreakdown {
                category: cat,
                rate: t.rate,
                taxable: t.taxable,
                tax: t.tax,
                exemption_reason: t
                    .exemption_reason
                    .clone()
                    .or_else(|| default.map(|d| d.0.to_string()))
                    .filter(|_| cat.needs_exemption_reason()),
                exemption_code: t
                    .exemption_code
                    .clone()
                    .or_else(|| default.map(|d| d.1.to_string()))
                    .filter(|_| cat.needs_exemption_reason()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Paid so far: what was applied (payments and credit notes) — the document shows the
    // amount still due when it is rendered.
    let prepaid = if kind == DocumentKind::Invoice {
        Money::new(
            inv.gross.minor() - inv.open.minor() - inv.credited.minor(),
            cur,
        )
    } else {
        Money::zero(cur)
    };
    let terms_days = c.int(5);
    let terms = match kind {
        DocumentKind::CreditNote => {
            "Credited to your account; any balance is refunded or set off against open invoices."
                .to_string()
        }
        DocumentKind::Invoice if terms_days == 0 => "Payable on receipt".to_string(),
        DocumentKind::Invoice => format!("Payable within {terms_days} days net, by {}", inv.due_on),
    };
    // An early-payment discount is part of the terms (EN 16931 BT-20, free text).
    let discount = conn.query_one(
        "SELECT discount_bp, discount_until FROM invoices WHERE id = $1",
        params![inv.id.as_str()],
    )?;
    let terms = match (kind, discount.int(0), discount.opt_text(1)) {
        (DocumentKind::Invoice, bp, Some(until)) if bp > 0 => format!(
            "{terms}; {} % discount if paid by {until}",
            o2c_core::Percent::from_basis_points(bp)
                .to_decimal_string()
                .trim_end_matches('0')
                .trim_end_matches('.')
        ),
        _ => terms,
    };
    let reference = inv
        .payment_reference
        .clone()
        .or_else(|| o2c_core::reference::rf_reference(&inv.number))
        .unwrap_or_else(|| inv.number.clone());
    let doc = InvoiceDocument {
        kind,
        number: inv.number.clone(),
        issue_date,
        due_date: (kind == DocumentKind::Invoice)
            .then(|| date("due_on", &inv.due_on))
            .transpose()?,
        currency: cur,
        buyer_reference: o.opt_text(1).or_else(|| Some(inv.order_id.clone())),
        order_numbers: inv.order_ids.clone(),
        preceding_invoice: preceding,
        seller: seller(company),
        buyer,
        delivery: Some((postal(&ship_to), delivered_on)),
        lines,
        allowances_charges,
        taxes,
        totals: Totals {
            line_net: inv.line_net,
            allowances: inv.allowances,
            charges: inv.charges,
            tax_exclusive: inv.net,
            tax: inv.tax,
            tax_inclusive: inv.gross,
            prepaid,
            payable: inv.gross.checked_sub(prepaid)?,
        },
        payment: PaymentInstructions {
            means_code: if company
                .iban
                .as_deref()
                .is_some_and(|i| o2c_core::tax::in_eu(&i[..2]))
            {
                "58".into()
            } else {
                "30".into()
            },
            reference,
            iban: company.iban.clone(),
            bic: company.bic.clone(),
            account_name: Some(company.name.clone()),
            terms,
        },
        note: inv.note.clone(),
    };
    doc.check()
        .map_err(|e| AppError::Internal(format!("document {} does not add up: {e}", inv.number)))?;
    Ok(doc)
}

/// The PDF of a document (`o2c_docs::pdf`).
pub fn render_pdf(doc: &InvoiceDocument) -> Result<Vec<u8>> {
    o2c_docs::pdf::render(doc)
        .map_err(|e| AppError::Internal(format!("PDF of {}: {e}", doc.number)))
}

/// The EN 16931 UBL 2.1 XML of a document (`o2c_docs::ubl`).
pub fn render_ubl(doc: &InvoiceDocument) -> Result<String> {
    o2c_docs::ubl::render(doc)
        .map_err(|e| AppError::Internal(format!("UBL of {}: {e}", doc.number)))
}
