//! Remittance advice: one payment and the invoices it pays, read from an X12 820 here or from a
//! CSV file in [`crate::csv_remittance`]. Cash application matches these to open items.
//!
//! # Amounts and signs
//!
//! For every item, `amount_paid = invoice_amount - discount + Σ adjustments` when the invoice
//! amount is given, and for the payment `amount = Σ amount_paid + Σ unattached adjustments`.
//! Adjustments carry the X12 sign: negative reduces what is paid (a deduction, a short pay),
//! positive adds to it. A remittance whose figures do not add up is still read, with a warning:
//! the money arrived, and the person applying it has to see the difference.

use chrono::NaiveDate;
use o2c_core::money::{Currency, Money};
use serde::Serialize;

use crate::error::EdiError;
use crate::values::{DateWidth, parse_amount, parse_currency, parse_x12_date};
use crate::x12::{Interchange, Segment, Transaction};

/// One payment and the invoices it pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remittance {
    /// 820: N102 of the N1*PR loop. CSV: the payer column.
    pub payer_name: Option<String>,
    /// 820: N104 of the N1*PR loop. CSV: the payer id column.
    pub payer_id: Option<String>,
    /// 820: N102 of the N1*PE loop.
    pub payee_name: Option<String>,
    /// 820: N104 of the N1*PE loop.
    pub payee_id: Option<String>,
    /// The money: how much, how, when, and the trace to find it on the bank statement.
    pub payment: Payment,
    /// One per invoice (or other document) paid, in the order the sender listed them.
    pub items: Vec<RemittanceItem>,
    /// Adjustments tied to no item: an 820 ADX before any RMR of its ENT, such as a deduction
    /// taken on the account.
    pub adjustments: Vec<Adjustment>,
    /// What did not add up or was missing, for the person applying the cash.
    pub warnings: Vec<String>,
}

/// The payment itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// 820: BPR02. CSV: the payment amount column, else the sum of the amounts paid.
    pub amount: Money,
    /// 820: CUR02 when present, else the default the caller passed in.
    pub currency: Currency,
    /// 820: BPR01. `C` payment with remittance, `I` remittance information only (the money
    /// travels separately), `D` payment only, `P` prenotification.
    pub handling_code: Option<String>,
    /// 820: BPR04, e.g. `ACH`, `CHK` (cheque), `FWT` (wire), `BOP`. CSV: the method column.
    pub method: Option<String>,
    /// 820: BPR16, the day the money is effective. CSV: the payment date column.
    pub effective_date: Option<NaiveDate>,
    /// 820: TRN02, what the bank statement will show. CSV: the payment reference.
    pub trace_number: Option<String>,
}

/// One document the payment pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemittanceItem {
    /// 820: RMR02, whatever its qualifier. CSV: the invoice number column.
    pub invoice_number: String,
    /// 820: RMR01: `IV` seller's invoice number, `PO` purchase order, `R7` receivable open
    /// item, `IK` and others as sent. CSV: always `IV`.
    pub reference_qualifier: String,
    /// 820: RMR04.
    pub amount_paid: Money,
    /// 820: RMR05, the invoice's total.
    pub invoice_amount: Option<Money>,
    /// 820: RMR06, the discount taken.
    pub discount: Option<Money>,
    /// 820: the ADX segments after this RMR. CSV: the deduction, negated.
    pub adjustments: Vec<Adjustment>,
}

/// A difference between what was due and what is paid, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adjustment {
    /// 820: ADX02 (e.g. `01` pricing error, `04` damaged goods, `CM` credit memo); CSV: the
    /// deduction reason as written.
    pub reason_code: String,
    /// 820: ADX01; negative reduces the payment.
    pub amount: Money,
}

/// Reads an 820 transaction set. `default_currency` applies when the 820 has no CUR segment
/// (most domestic ones do not).
pub fn read_820(tx: &Transaction, default_currency: Currency) -> Result<Remittance, EdiError> {
    if tx.set_id != "820" {
        return Err(EdiError::NotARemittanceAdvice {
            set_id: tx.set_id.clone(),
            description: describe_set(&tx.set_id),
        });
    }
    let currency = header_currency(tx, default_currency)?;
    let mut reader = Reader820::new(currency);
    for segment in &tx.segments {
        reader.segment(segment)?;
    }
    reader.finish(tx)
}

/// Reads every 820 in an interchange, in order; other transaction sets are left alone.
pub fn read_820s(
    interchange: &Interchange,
    default_currency: Currency,
) -> Result<Vec<Remittance>, EdiError> {
    interchange
        .transactions()
        .filter(|tx| tx.set_id == "820")
        .map(|tx| read_820(tx, default_currency))
        .collect()
}

/// What a transaction set is, for refusing the wrong one.
fn describe_set(set_id: &str) -> &'static str {
    match set_id {
        "180" => "a return merchandise authorization",
        "810" => "an invoice",
        "812" => "a credit/debit adjustment",
        "824" => "an application advice",
        "830" => "a planning schedule",
        "832" => "a price/sales catalog",
        "846" => "an inventory inquiry/advice",
        "850" => "a purchase order",
        "855" => "a purchase order acknowledgment",
        "856" => "a ship notice/manifest",
        "860" => "a purchase order change request",
        "865" => "a purchase order change acknowledgment",
        "997" => "a functional acknowledgment",
        "999" => "an implementation acknowledgment",
        _ => "another kind of document",
    }
}

/// CUR02 of the first CUR before the first ENT or RMR (the header's), else the default.
fn header_currency(tx: &Transaction, default_currency: Currency) -> Result<Currency, EdiError> {
    let mut header = tx
        .segments
        .iter()
        .take_while(|s| s.id != "ENT" && s.id != "RMR");
    match header.find(|s| s.id == "CUR") {
        Some(cur) => parse_currency(cur.required(2)?, || cur.element_location(2)),
        None => Ok(default_currency),
    }
}

struct Reader820<'a> {
    currency: Currency,
    bpr: Option<&'a Segment>,
    trace_number: Option<String>,
    payer: Option<(Option<String>, Option<String>)>,
    payee: Option<(Option<String>, Option<String>)>,
    items: Vec<RemittanceItem>,
    unattached: Vec<Adjustment>,
    /// True between an RMR and the next ENT: an ADX there belongs to the last item.
    in_item: bool,
    warnings: Vec<String>,
}

impl<'a> Reader820<'a> {
    fn new(currency: Currency) -> Reader820<'a> {
        Reader820 {
            currency,
            bpr: None,
            trace_number: None,
            payer: None,
            payee: None,
            items: Vec::new(),
            unattached: Vec::new(),
            in_item: false,
            warnings: Vec::new(),
        }
    }

    fn amount(&self, segment: &Segment, n: usize) -> Result<Option<Money>, EdiError> {
        segment
            .text(n)
            .map(|raw| parse_amount(raw, self.currency, || segment.element_location(n)))
            .transpose()
    }

    fn required_amount(&self, segment: &Segment, n: usize) -> Result<Money, EdiError> {
        self.amount(segment, n)?
            .ok_or_else(|| EdiError::MissingValue {
                at: segment.element_location(n),
            })
    }

    fn segment(&mut self, segment: &'a Segment) -> Result<(), EdiError> {
        let owned = |v: Option<&str>| v.map(str::to_string);
        match segment.id.as_str() {
            "BPR" if self.bpr.is_some() => self.warnings.push(format!(
                "{}: a second BPR segment, ignored",
                segment.reference()
            )),
            "BPR" => self.bpr = Some(segment),
            "TRN" if self.trace_number.is_none() => match segment.text(2) {
                Some(trace) => self.trace_number = Some(trace.to_string()),
                None => self.warnings.push(format!(
                    "{}: TRN02 (trace number) is missing",
                    segment.reference()
                )),
            },
            "N1" => {
                let party = Some((owned(segment.text(2)), owned(segment.text(4))));
                match segment.text(1) {
                    Some("PR") if self.payer.is_none() => self.payer = party,
                    Some("PE") if self.payee.is_none() => self.payee = party,
                    _ => {}
                }
            }
            "ENT" => self.in_item = false,
            "RMR" => {
                let item = self.read_rmr(segment)?;
                self.items.push(item);
                self.in_item = true;
            }
            "ADX" => {
                let adjustment = Adjustment {
                    amount: self.required_amount(segment, 1)?,
                    reason_code: segment.required(2)?.to_string(),
                };
                match self.items.last_mut() {
                    Some(item) if self.in_item => item.adjustments.push(adjustment),
                    _ => self.unattached.push(adjustment),
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn read_rmr(&self, rmr: &Segment) -> Result<RemittanceItem, EdiError> {
        Ok(RemittanceItem {
            reference_qualifier: rmr.required(1)?.to_string(),
            invoice_number: rmr.required(2)?.to_string(),
            amount_paid: self.required_amount(rmr, 4)?,
            invoice_amount: self.amount(rmr, 5)?,
            discount: self.amount(rmr, 6)?,
            adjustments: Vec::new(),
        })
    }

    fn finish(mut self, tx: &Transaction) -> Result<Remittance, EdiError> {
        let bpr = self.bpr.ok_or_else(|| EdiError::MissingSegment {
            control_number: tx.control_number.clone(),
            segment: "BPR",
        })?;
        let amount = self.required_amount(bpr, 2)?;
        let effective_date = self.effective_date(bpr)?;
        if self.trace_number.is_none() {
            self.warnings.push(format!(
                "transaction set 820 `{}` has no trace number (TRN02)",
                tx.control_number
            ));
        }
        let reference = self
            .trace_number
            .clone()
            .unwrap_or_else(|| tx.control_number.clone());
        let (payer_name, payer_id) = self.payer.take().unwrap_or_default();
        let (payee_name, payee_id) = self.payee.take().unwrap_or_default();
        let mut remittance = Remittance {
            payer_name,
            payer_id,
            payee_name,
            payee_id,
            payment: Payment {
                amount,
                currency: self.currency,
                handling_code: bpr.text(1).map(str::to_string),
                method: bpr.text(4).map(str::to_string),
                effective_date,
                trace_number: self.trace_number,
            },
            items: self.items,
            adjustments: self.unattached,
            warnings: self.warnings,
        };
        check_figures(&mut remittance, &reference, &X12_NAMES)?;
        Ok(remittance)
    }

    fn effective_date(&mut self, bpr: &Segment) -> Result<Option<NaiveDate>, EdiError> {
        let Some(raw) = bpr.text(16) else {
            self.warnings.push(format!(
                "{}: BPR16 (effective date) is missing",
                bpr.reference()
            ));
            return Ok(None);
        };
        match parse_x12_date(raw) {
            Some((date, DateWidth::Full)) => Ok(Some(date)),
            Some((date, DateWidth::TwoDigitYear)) => {
                self.warnings.push(format!(
                    "{}: BPR16 `{raw}` has a two-digit year; read as {date}",
                    bpr.reference()
                ));
                Ok(Some(date))
            }
            None => Err(EdiError::MalformedDate {
                at: bpr.element_location(16),
                value: raw.to_string(),
                expected: "a date CCYYMMDD",
            }),
        }
    }
}

/// How each reader names the figures in its warnings.
pub(crate) struct FigureNames {
    pub paid: &'static str,
    pub invoice: &'static str,
    pub discount: &'static str,
    pub adjustment: &'static str,
    pub payment: &'static str,
}

const X12_NAMES: FigureNames = FigureNames {
    paid: "RMR04",
    invoice: "RMR05",
    discount: "RMR06",
    adjustment: "ADX01",
    payment: "BPR02",
};

/// Warns about every item and the payment whose figures do not add up (see the module
/// documentation for the rules).
pub(crate) fn check_figures(
    remittance: &mut Remittance,
    reference: &str,
    names: &FigureNames,
) -> Result<(), EdiError> {
    let currency = remittance.payment.currency;
    let out_of_range = |what| EdiError::TotalOutOfRange {
        reference: reference.to_string(),
        what,
    };
    for item in &remittance.items {
        let Some(invoice_amount) = item.invoice_amount else {
            continue;
        };
        let adjustments = Money::sum(currency, item.adjustments.iter().map(|a| a.amount))
            .map_err(|_| out_of_range("an item's adjustments"))?;
        let expected = invoice_amount
            .checked_sub(item.discount.unwrap_or(Money::zero(currency)))
            .and_then(|m| m.checked_add(adjustments))
            .map_err(|_| out_of_range("an item's figures"))?;
        if expected != item.amount_paid {
            remittance.warnings.push(format!(
                "invoice {}: {} {} less {} {} plus {} {} is {}, but {} says {}",
                item.invoice_number,
                names.invoice,
                invoice_amount,
                names.discount,
                item.discount.unwrap_or(Money::zero(currency)),
                names.adjustment,
                adjustments,
                expected,
                names.paid,
                item.amount_paid
            ));
        }
    }
    let paid = Money::sum(currency, remittance.items.iter().map(|i| i.amount_paid))
        .map_err(|_| out_of_range("the amounts paid"))?;
    let unattached = Money::sum(currency, remittance.adjustments.iter().map(|a| a.amount))
        .map_err(|_| out_of_range("the adjustments"))?;
    let total = paid
        .checked_add(unattached)
        .map_err(|_| out_of_range("the amounts paid and adjustments"))?;
    if total != remittance.payment.amount {
        let adjustments = if remittance.adjustments.is_empty() {
            String::new()
        } else {
            format!(" and the unattached adjustments ({unattached})")
        };
        remittance.warnings.push(format!(
            "the amounts paid ({} of {} items){adjustments} add up to {total}, but {} says {}",
            names.paid,
            remittance.items.len(),
            names.payment,
            remittance.payment.amount
        ));
    }
    Ok(())
}
