//! The X12 810 invoice, for customers who want their invoices by EDI.
//!
//! The input carries what o2c's invoice already decided: unit prices, taxes, charges and the
//! total. The writer does not price anything; it refuses an invoice whose total is not its
//! lines (quantity × unit price, rounded half away from zero per line, the way the buyer's
//! system checks IT1s), charges less allowances and taxes, because the buyer would reject it
//! after it has left.

use chrono::NaiveDate;
use o2c_core::money::{Currency, Money, Percent};

use super::write::{
    Envelope, OutSegment, TransactionSet, WriteError, date8, implied_two_decimals, party_loop,
    with_item_ids, write_interchange,
};
use crate::order::{Decimal, ItemId, Party, Reference};

/// One invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// BIG02.
    pub invoice_number: String,
    /// BIG01.
    pub invoice_date: NaiveDate,
    /// BIG04: the buyer's order number, which most buyers match the invoice on.
    pub po_number: Option<String>,
    /// BIG03.
    pub po_date: Option<NaiveDate>,
    /// CUR*SE; every amount of the invoice must be in it.
    pub currency: Currency,
    /// REF segments (`IA` vendor number, `DP` department…).
    pub references: Vec<Reference>,
    /// N1 loops, under their roles (`BT`, `ST`, `RI` remit to, `SE` seller…).
    pub parties: Vec<Party>,
    /// ITD.
    pub terms: Option<PaymentTerms>,
    /// DTM*011.
    pub shipped_on: Option<NaiveDate>,
    pub lines: Vec<InvoiceLine>,
    /// SAC segments of the summary.
    pub charges: Vec<AllowanceCharge>,
    /// TXI segments of the summary.
    pub taxes: Vec<InvoiceTax>,
    /// TDS01: what the buyer owes.
    pub total: Money,
}

/// Payment terms (ITD): net days from the invoice date, and an optional early-payment
/// discount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentTerms {
    /// ITD07.
    pub net_days: u32,
    /// ITD03 and ITD05.
    pub discount: Option<EarlyPaymentDiscount>,
    /// ITD12 (`2% 10 NET 30`).
    pub description: Option<String>,
}

/// A discount for paying within `days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyPaymentDiscount {
    pub percent: Percent,
    pub days: u32,
}

/// One IT1 line with its PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    /// IT101: the PO line number the buyer matches on.
    pub line_no: String,
    /// IT102.
    pub quantity: Decimal,
    /// IT103.
    pub unit_of_measure: String,
    /// IT104, in the invoice currency; may have more decimals than the currency.
    pub unit_price: Decimal,
    /// IT106… (at most ten).
    pub item_ids: Vec<ItemId>,
    /// PID05.
    pub description: Option<String>,
}

/// SAC01: which way an amount goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowanceOrCharge {
    /// `A`: reduces the total.
    Allowance,
    /// `C`: adds to the total.
    Charge,
}

/// A charge or allowance of the whole invoice (SAC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceCharge {
    pub kind: AllowanceOrCharge,
    /// SAC02 (`D240` freight, `C310` discount, `H850` tax…).
    pub code: String,
    /// SAC05, not negative: `kind` gives the direction.
    pub amount: Money,
    /// SAC15.
    pub description: Option<String>,
}

/// A tax of the whole invoice (TXI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceTax {
    /// TXI01 (`ST` state sales tax, `LS` state and local, `VA` value added, `GS` GST…).
    pub tax_type: String,
    /// TXI02.
    pub amount: Money,
    /// TXI03.
    pub percent: Option<Percent>,
}

impl Invoice {
    /// The 810's segments between ST and SE.
    pub fn to_transaction_set(&self, control_number: u32) -> Result<TransactionSet, WriteError> {
        if self.lines.is_empty() {
            return Err(WriteError::NoLines {
                document: "the invoice",
            });
        }
        self.check_total()?;
        let mut segments = vec![
            OutSegment::new("BIG")
                .el(date8(self.invoice_date))
                .el(self.invoice_number.as_str())
                .opt(self.po_date.map(date8))
                .opt(self.po_number.as_deref()),
            OutSegment::new("CUR").el("SE").el(self.currency.code()),
        ];
        for r in &self.references {
            let reference = OutSegment::new("REF")
                .el(r.qualifier.as_str())
                .el(r.value.as_str());
            segments.push(reference.opt(r.description.as_deref()));
        }
        for party in &self.parties {
            segments.extend(party_loop(party));
        }
        if let Some(terms) = &self.terms {
            segments.push(itd(terms));
        }
        if let Some(date) = self.shipped_on {
            segments.push(OutSegment::new("DTM").el("011").el(date8(date)));
        }
        for line in &self.lines {
            let it1 = OutSegment::new("IT1")
                .el(line.line_no.as_str())
                .el(line.quantity.to_string())
                .el(line.unit_of_measure.as_str())
                .el(line.unit_price.to_string())
                .skip(1);
            segments.push(with_item_ids(it1, &line.item_ids, 10)?);
            if let Some(text) = &line.description {
                segments.push(OutSegment::new("PID").el("F").skip(3).el(text.as_str()));
            }
        }
        segments.push(OutSegment::new("TDS").el(implied_two_decimals(self.total, "TDS01")?));
        for tax in &self.taxes {
            segments.push(
                OutSegment::new("TXI")
                    .el(tax.tax_type.as_str())
                    .el(tax.amount.to_decimal_string())
                    .opt(tax.percent.map(|p| p.to_decimal_string())),
            );
        }
        for sac in &self.charges {
            let indicator = match sac.kind {
                AllowanceOrCharge::Allowance => "A",
                AllowanceOrCharge::Charge => "C",
            };
            segments.push(
                OutSegment::new("SAC")
                    .el(indicator)
                    .el(sac.code.as_str())
                    .skip(2)
                    .el(implied_two_decimals(sac.amount, "SAC05")?)
                    .skip(9)
                    .opt(sac.description.as_deref()),
            );
        }
        segments.push(OutSegment::new("CTT").el(self.lines.len().to_string()));
        Ok(TransactionSet {
            set_id: "810",
            control_number,
            segments,
        })
    }

    fn in_currency(&self, what: String, amount: Money) -> Result<Money, WriteError> {
        if amount.currency() != self.currency {
            return Err(WriteError::CurrencyMismatch {
                what,
                found: amount.currency(),
                expected: self.currency,
            });
        }
        Ok(amount)
    }

    /// Refuses a total that is not lines + charges − allowances + taxes.
    fn check_total(&self) -> Result<(), WriteError> {
        let currency = self.currency;
        let out_of_range = |what| move |_| WriteError::AmountOutOfRange { what };
        let mut lines = Money::zero(currency);
        for line in &self.lines {
            let extended = line
                .quantity
                .checked_mul(line.unit_price)
                .ok_or(WriteError::AmountOutOfRange {
                    what: "a line amount",
                })?
                .round_to_minor(currency)
                .map_err(out_of_range("a line amount"))?;
            lines = lines
                .checked_add(extended)
                .map_err(out_of_range("sum of the lines"))?;
        }
        let mut adjustments = Money::zero(currency);
        for sac in &self.charges {
            let amount = self.in_currency(format!("SAC {}", sac.code), sac.amount)?;
            adjustments = match sac.kind {
                AllowanceOrCharge::Charge => adjustments.checked_add(amount),
                AllowanceOrCharge::Allowance => adjustments.checked_sub(amount),
            }
            .map_err(out_of_range("sum of charges and allowances"))?;
        }
        let mut taxes = Money::zero(currency);
        for tax in &self.taxes {
            let amount = self.in_currency(format!("TXI {}", tax.tax_type), tax.amount)?;
            taxes = taxes
                .checked_add(amount)
                .map_err(out_of_range("sum of the taxes"))?;
        }
        let stated = self.in_currency("TDS01 (the total)".to_string(), self.total)?;
        let computed = lines
            .checked_add(adjustments)
            .and_then(|m| m.checked_add(taxes))
            .map_err(out_of_range("invoice total"))?;
        if computed != stated {
            return Err(WriteError::TotalDoesNotAddUp {
                stated,
                lines,
                adjustments,
                taxes,
                computed,
            });
        }
        Ok(())
    }
}

/// ITD: type `08` (basic discount offered) or `05` (discount not applicable), counted from the
/// invoice date (`3`).
fn itd(terms: &PaymentTerms) -> OutSegment {
    let segment = match &terms.discount {
        Some(d) => OutSegment::new("ITD")
            .el("08")
            .el("3")
            .el(d.percent.to_decimal_string())
            .skip(1)
            .el(d.days.to_string()),
        None => OutSegment::new("ITD").el("05").el("3").skip(3),
    };
    segment
        .skip(1)
        .el(terms.net_days.to_string())
        .skip(4)
        .opt(terms.description.as_deref())
}

/// Writes an interchange holding one 810.
pub fn write_810(
    envelope: &Envelope,
    control_number: u32,
    invoice: &Invoice,
) -> Result<String, WriteError> {
    write_interchange(envelope, &[invoice.to_transaction_set(control_number)?])
}
