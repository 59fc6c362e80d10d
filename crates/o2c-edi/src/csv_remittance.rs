//! CSV remittance files: one row per invoice paid; the rows sharing a payment reference form one
//! payment, read into the same [`Remittance`] as an X12 820.
//!
//! The header row names the columns (see [`columns`] for the accepted names); a file needs a
//! payment reference, an invoice number and an amount paid, and may give the payer, payer id,
//! payment date, method, payment amount, currency, invoice amount, discount, and a deduction
//! with its reason. Payment-level values need only be on one row of the payment; rows that
//! disagree are refused. A deduction is what the payer withheld: `25.00` becomes an adjustment
//! of `-25.00` (the X12 sign), so `amount_paid = invoice_amount - discount - deduction`.
//!
//! Any malformed row refuses the whole file, with its line and column: applying half a
//! remittance is worse than asking for a corrected one.

mod columns;
pub mod records;

use std::collections::HashMap;

use chrono::NaiveDate;
use o2c_core::money::{Currency, Money};

use crate::error::{EdiError, Location};
use crate::remittance::{
    Adjustment, FigureNames, Payment, Remittance, RemittanceItem, check_figures,
};
use crate::values::{parse_amount, parse_csv_date, parse_currency};
use columns::{Column, Layout};
use records::Record;

/// Reads a CSV remittance file; `default_currency` applies to rows without a currency.
/// Payments come out in the order their first row appears.
pub fn read_csv_remittances(
    input: &[u8],
    default_currency: Currency,
) -> Result<Vec<Remittance>, EdiError> {
    let text = std::str::from_utf8(input).map_err(|e| EdiError::NotUtf8 {
        byte_offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = records::parse(text, records::detect_separator(text))?.into_iter();
    let header = rows.next().ok_or(EdiError::NoHeaderRow)?;
    let layout = Layout::from_header(&header.fields)?;

    let mut payments: Vec<PaymentRows> = Vec::new();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let extra = row.fields.iter().skip(layout.width);
        if extra.clone().any(|f| !f.trim().is_empty()) {
            return Err(EdiError::TooManyFields {
                line: row.line,
                found: layout.width + extra.count(),
                expected: layout.width,
            });
        }
        let reference = required(&layout, &row, Column::PaymentReference)?;
        let index = *by_reference
            .entry(reference.to_string())
            .or_insert_with(|| {
                payments.push(PaymentRows::new(reference));
                payments.len() - 1
            });
        payments[index].add_row(&layout, &row, default_currency)?;
    }
    payments
        .into_iter()
        .map(|p| p.finish(default_currency))
        .collect()
}

fn cell(line: usize, column: Column) -> Location {
    Location::Cell {
        line,
        column: column.name(),
    }
}

fn required<'r>(layout: &Layout, row: &'r Record, column: Column) -> Result<&'r str, EdiError> {
    layout
        .get(&row.fields, column)
        .ok_or_else(|| EdiError::MissingValue {
            at: cell(row.line, column),
        })
}

/// A payment-level value as first given, to compare later rows with.
struct First<T> {
    value: T,
    line: usize,
    shown: String,
}

/// Keeps the first value of a payment-level column; refuses a later row that disagrees.
fn settle<T: PartialEq>(
    slot: &mut Option<First<T>>,
    value: T,
    shown: &str,
    line: usize,
    column: Column,
) -> Result<(), EdiError> {
    match slot {
        None => {
            *slot = Some(First {
                value,
                line,
                shown: shown.to_string(),
            });
            Ok(())
        }
        Some(first) if first.value == value => Ok(()),
        Some(first) => Err(EdiError::ConflictingPaymentField {
            at: cell(line, column),
            value: shown.to_string(),
            first_line: first.line,
            first_value: first.shown.clone(),
        }),
    }
}

/// The rows of one payment, gathered.
struct PaymentRows {
    reference: String,
    currency: Option<First<Currency>>,
    payer: Option<First<String>>,
    payer_id: Option<First<String>>,
    date: Option<First<NaiveDate>>,
    method: Option<First<String>>,
    amount: Option<First<Money>>,
    items: Vec<RemittanceItem>,
}

impl PaymentRows {
    fn new(reference: &str) -> PaymentRows {
        PaymentRows {
            reference: reference.to_string(),
            currency: None,
            payer: None,
            payer_id: None,
            date: None,
            method: None,
            amount: None,
            items: Vec::new(),
        }
    }

    fn add_row(
        &mut self,
        layout: &Layout,
        row: &Record,
        default: Currency,
    ) -> Result<(), EdiError> {
        let line = row.line;
        let get = |column| layout.get(&row.fields, column);
        let currency = self.row_currency(get(Column::Currency), line, default)?;
        let amount = |column| -> Result<Option<Money>, EdiError> {
            get(column)
                .map(|raw| parse_amount(raw, currency, || cell(line, column)))
                .transpose()
        };
        for (slot, column) in [
            (&mut self.payer, Column::Payer),
            (&mut self.payer_id, Column::PayerId),
            (&mut self.method, Column::PaymentMethod),
        ] {
            if let Some(value) = get(column) {
                settle(slot, value.to_string(), value, line, column)?;
            }
        }
        if let Some(raw) = get(Column::PaymentDate) {
            let date = parse_csv_date(raw).ok_or_else(|| EdiError::MalformedDate {
                at: cell(line, Column::PaymentDate),
                value: raw.to_string(),
                expected: "a date YYYY-MM-DD or YYYYMMDD",
            })?;
            settle(&mut self.date, date, raw, line, Column::PaymentDate)?;
        }
        if let (Some(value), Some(raw)) =
            (amount(Column::PaymentAmount)?, get(Column::PaymentAmount))
        {
            settle(&mut self.amount, value, raw, line, Column::PaymentAmount)?;
        }
        let invoice_number = required(layout, row, Column::InvoiceNumber)?.to_string();
        let amount_paid = amount(Column::AmountPaid)?.ok_or_else(|| EdiError::MissingValue {
            at: cell(line, Column::AmountPaid),
        })?;
        let deduction = amount(Column::DeductionAmount)?;
        let adjustments = deduction_adjustment(deduction, get(Column::DeductionReason), line)?;
        self.items.push(RemittanceItem {
            invoice_number,
            reference_qualifier: "IV".to_string(),
            amount_paid,
            invoice_amount: amount(Column::InvoiceAmount)?,
            discount: amount(Column::Discount)?,
            adjustments,
        });
        Ok(())
    }

    /// The payment's currency: the first row's (or the default), which later rows must repeat
    /// or leave blank.
    fn row_currency(
        &mut self,
        raw: Option<&str>,
        line: usize,
        default: Currency,
    ) -> Result<Currency, EdiError> {
        match raw {
            Some(raw) => {
                let currency = parse_currency(raw, || cell(line, Column::Currency))?;
                settle(&mut self.currency, currency, raw, line, Column::Currency)?;
            }
            None if self.currency.is_none() => {
                let shown = format!("{default} (the default)");
                settle(&mut self.currency, default, &shown, line, Column::Currency)?;
            }
            None => {}
        }
        Ok(self.currency.as_ref().map_or(default, |c| c.value))
    }

    fn finish(self, default: Currency) -> Result<Remittance, EdiError> {
        let currency = self.currency.as_ref().map_or(default, |c| c.value);
        let amount =
            match &self.amount {
                Some(first) => first.value,
                None => Money::sum(currency, self.items.iter().map(|i| i.amount_paid)).map_err(
                    |_| EdiError::TotalOutOfRange {
                        reference: self.reference.clone(),
                        what: "the amounts paid",
                    },
                )?,
            };
        let value = |slot: Option<First<String>>| slot.map(|f| f.value);
        let mut remittance = Remittance {
            payer_name: value(self.payer),
            payer_id: value(self.payer_id),
            payee_name: None,
            payee_id: None,
            payment: Payment {
                amount,
                currency,
                handling_code: None,
                method: value(self.method),
                effective_date: self.date.map(|f| f.value),
                trace_number: Some(self.reference.clone()),
            },
            items: self.items,
            adjustments: Vec::new(),
            warnings: Vec::new(),
        };
        check_figures(&mut remittance, &self.reference, &CSV_NAMES)?;
        Ok(remittance)
    }
}

/// A deduction is what the payer withheld: as an adjustment it is negative (the X12 sign).
/// An amount needs its reason and a reason its amount; a zero deduction is none.
fn deduction_adjustment(
    deduction: Option<Money>,
    reason: Option<&str>,
    line: usize,
) -> Result<Vec<Adjustment>, EdiError> {
    let missing = |column| {
        Err(EdiError::MissingValue {
            at: cell(line, column),
        })
    };
    match (deduction, reason) {
        (None, None) => Ok(Vec::new()),
        (Some(d), _) if d.is_zero() => Ok(Vec::new()),
        (Some(d), Some(reason)) => {
            let amount = d.checked_neg().map_err(|_| EdiError::AmountOutOfRange {
                at: cell(line, Column::DeductionAmount),
                value: d.to_decimal_string(),
            })?;
            Ok(vec![Adjustment {
                reason_code: reason.to_string(),
                amount,
            }])
        }
        (Some(_), None) => missing(Column::DeductionReason),
        (None, Some(_)) => missing(Column::DeductionAmount),
    }
}

const CSV_NAMES: FigureNames = FigureNames {
    paid: "amount_paid",
    invoice: "invoice_amount",
    discount: "discount",
    adjustment: "the deduction (negated)",
    payment: "payment_amount",
};
