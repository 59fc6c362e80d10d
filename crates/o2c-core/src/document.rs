//! The billing document as people and machines read it: everything an invoice or credit note
//! shows, already computed. The PDF and UBL renderers (`o2c-docs`) only lay this out; they never
//! compute an amount. `InvoiceDocument::check` proves the totals add up the way EN 16931 adds
//! them (BR-CO-10 to BR-CO-16) before anything is rendered.

use crate::money::{Currency, Money, MoneyError, Percent};
use crate::tax::TaxCategory;
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// UNCL1001 380.
    Invoice,
    /// UNCL1001 381.
    CreditNote,
}

impl DocumentKind {
    pub fn type_code(&self) -> &'static str {
        match self {
            DocumentKind::Invoice => "380",
            DocumentKind::CreditNote => "381",
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostalAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Legal name (BT-27 / BT-44).
    pub name: String,
    pub address: PostalAddress,
    /// VAT identifier with country prefix, e.g. `DE123456789` (BT-31 / BT-48).
    pub vat_id: Option<String>,
    /// Company registration number (BT-30 / BT-47).
    pub company_id: Option<String>,
    /// Electronic address (BT-34 / BT-49): (EAS scheme, id), e.g. ("EM", "ap@example.com").
    pub endpoint: Option<(String, String)>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_name: Option<String>,
}

/// The selling company: the party plus what only the letterhead and the payment slip need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seller {
    pub party: Party,
    pub website: Option<String>,
    /// A PNG or JPEG file shown at the top of the PDF.
    pub logo_path: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub bank_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentTax {
    pub category: TaxCategory,
    pub rate: Percent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentLine {
    /// Line number as printed (BT-126).
    pub id: String,
    pub sku: String,
    /// The buyer's own item number, when the buyer has one (BT-156).
    pub buyer_item_id: Option<String>,
    pub description: String,
    /// Whole units (BT-129), unit code `C62` ("one").
    pub quantity: i64,
    /// Net unit price after any price discount (BT-146).
    pub unit_price: Money,
    /// Line discount (BG-27), already subtracted from `net`.
    pub discount: Option<LineDiscount>,
    /// `quantity × unit_price − discount` (BT-131).
    pub net: Money,
    pub tax: DocumentTax,
    /// The order line this bills, as "ORDER-ID/LINE" (BT-132 takes the line number).
    pub order_line_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineDiscount {
    pub amount: Money,
    /// The base the percentage applies to (`quantity × unit_price`).
    pub base: Money,
    pub percent: Percent,
    pub reason: String,
}

/// A document-level allowance (discount) or charge (freight), BG-20 / BG-21.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowanceCharge {
    /// true for a charge (freight), false for an allowance (discount).
    pub is_charge: bool,
    pub amount: Money,
    pub base: Option<Money>,
    pub percent: Option<Percent>,
    pub reason: String,
    /// UNCL5189 (allowances, e.g. "95" discount) or UNCL7161 (charges, e.g. "FC" freight).
    pub reason_code: Option<String>,
    pub tax: DocumentTax,
}

/// One tax category of the breakdown (BG-23): taxable amount and tax computed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxBreakdown {
    pub category: TaxCategory,
    pub rate: Percent,
    pub taxable: Money,
    pub tax: Money,
    /// Required for exempt, reverse charge and export (BT-120 / BT-121).
    pub exemption_reason: Option<String>,
    pub exemption_code: Option<String>,
}

/// EN 16931 document totals (BG-22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Sum of line net amounts (BT-106).
    pub line_net: Money,
    /// Sum of document allowances (BT-107).
    pub allowances: Money,
    /// Sum of document charges (BT-108).
    pub charges: Money,
    /// line_net − allowances + charges (BT-109).
    pub tax_exclusive: Money,
    /// Total tax (BT-110).
    pub tax: Money,
    /// tax_exclusive + tax (BT-112).
    pub tax_inclusive: Money,
    /// Already paid (BT-113).
    pub prepaid: Money,
    /// tax_inclusive − prepaid (BT-115).
    pub payable: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentInstructions {
    /// UNCL4461: "58" SEPA credit transfer, "30" credit transfer.
    pub means_code: String,
    /// The ISO 11649 creditor reference (`RF18INV2026000042`), BT-83.
    pub reference: String,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub account_name: Option<String>,
    /// "Payable within 30 days net" (BT-20).
    pub terms: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceDocument {
    pub kind: DocumentKind,
    /// BT-1.
    pub number: String,
    pub issue_date: NaiveDate,
    /// BT-9; none for credit notes.
    pub due_date: Option<NaiveDate>,
    pub currency: Currency,
    /// The buyer's reference or purchase order number (BT-10 / BT-13).
    pub buyer_reference: Option<String>,
    /// o2c's order id(s) this bills, for the PDF.
    pub order_numbers: Vec<String>,
    /// A credit note's corrected invoice: (number, issue date), BG-3.
    pub preceding_invoice: Option<(String, NaiveDate)>,
    pub seller: Seller,
    pub buyer: Party,
    /// Where the goods went (BG-13) and when (BT-72).
    pub delivery: Option<(PostalAddress, NaiveDate)>,
    pub lines: Vec<DocumentLine>,
    pub allowances_charges: Vec<AllowanceCharge>,
    pub taxes: Vec<TaxBreakdown>,
    pub totals: Totals,
    pub payment: PaymentInstructions,
    /// Free text (BT-22), e.g. a credit note's reason.
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("{rule}: {detail}")]
    Inconsistent { rule: &'static str, detail: String },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

fn inconsistent(rule: &'static str, detail: String) -> DocumentError {
    DocumentError::Inconsistent { rule, detail }
}

impl InvoiceDocument {
    /// Checks the arithmetic EN 16931 checks (BR-CO-10..16, the tax per category) so a wrong
    /// document never leaves o2c.
    pub fn check(&self) -> Result<(), DocumentError> {
        let cur = self.currency;
        let t = &self.totals;
        let line_net = Money::sum(cur, self.lines.iter().map(|l| l.net))?;
        if line_net != t.line_net {
            return Err(inconsistent("BR-CO-10", format!("lines sum to {line_net}")));
        }
        let allowances = Money::sum(
            cur,
            self.allowances_charges
                .iter()
                .filter(|a| !a.is_charge)
                .map(|a| a.amount),
        )?;
        let charges = Money::sum(
            cur,
            self.allowances_charges
                .iter()
                .filter(|a| a.is_charge)
                .map(|a| a.amount),
        )?;
        if allowances != t.allowances || charges != t.charges {
            return Err(inconsistent(
                "BR-CO-11/12",
                "allowance or charge totals".into(),
            ));
        }
        if t.tax_exclusive != line_net.checked_sub(allowances)?.checked_add(charges)? {
            return Err(inconsistent("BR-CO-13", "tax exclusive total".into()));
        }
        let tax = Money::sum(cur, self.taxes.iter().map(|b| b.tax))?;
        if tax != t.tax {
            return Err(inconsistent("BR-CO-14", format!("breakdown tax {tax}")));
        }
        if t.tax_inclusive != t.tax_exclusive.checked_add(t.tax)? {
            return Err(inconsistent("BR-CO-15", "tax inclusive total".into()));
        }
        if t.payable != t.tax_inclusive.checked_sub(t.prepaid)? {
            return Err(inconsistent("BR-CO-16", "amount due".into()));
        }
        let taxable = Money::sum(cur, self.taxes.iter().map(|b| b.taxable))?;
        if taxable != t.tax_exclusive {
            return Err(inconsistent(
                "BR-CO-13",
                format!("taxable amounts sum to {taxable}, not {}", t.tax_exclusive),
            ));
        }
        for b in &self.taxes {
            if b.tax != b.rate.of(b.taxable)? {
                return Err(inconsistent(
                    "BR-CO-17",
                    format!("{} tax {} on {}", b.category.as_str(), b.tax, b.taxable),
                ));
            }
            if b.category.needs_exemption_reason() && b.exemption_reason.is_none() {
                return Err(inconsistent(
                    "BR-E-10",
                    format!("{} needs an exemption reason", b.category.as_str()),
                ));
            }
        }
        Ok(())
    }
}
