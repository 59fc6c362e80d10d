//! Invoice rules: numbering, due date, payment status.

use crate::money::{Currency, Money, MoneyError, Percent};
use crate::tax::{TaxCategory, TaxableLine, tax_breakdown};
use chrono::{Days, NaiveDate};
use serde::Serialize;

/// The payment status of an invoice, derived from its gross and open amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Unpaid,
    PartiallyPaid,
    Paid,
}

impl PaymentStatus {
    pub fn of(gross_minor: i64, open_minor: i64) -> PaymentStatus {
        if open_minor <= 0 {
            PaymentStatus::Paid
        } else if open_minor < gross_minor {
            PaymentStatus::PartiallyPaid
        } else {
            PaymentStatus::Unpaid
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::PartiallyPaid => "partially_paid",
            PaymentStatus::Paid => "paid",
        }
    }
}

/// Numbers come from a gapless series per year: `INV-2026-000042`.
pub fn invoice_number(series: &str, year: i32, n: i64) -> String {
    format!("{series}-{year}-{n:06}")
}

/// Net terms: due `net_days` after the issue date.
pub fn due_on(issued_on: NaiveDate, net_days: u32) -> NaiveDate {
    issued_on
        .checked_add_days(Days::new(u64::from(net_days)))
        .expect("due date within range")
}

/// A billed line's net amount and its tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BilledLine {
    pub net: Money,
    pub category: TaxCategory,
    pub rate: Percent,
}

/// A document-level allowance or charge before it is placed in a tax group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAdjustment {
    pub is_charge: bool,
    pub amount: Money,
    pub base: Option<Money>,
    pub percent: Option<Percent>,
    pub reason: String,
    pub reason_code: &'static str,
    pub category: TaxCategory,
    pub rate: Percent,
}

/// The amounts of a document, computed the EN 16931 way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAmounts {
    pub adjustments: Vec<DocumentAdjustment>,
    pub breakdown: Vec<crate::tax::TaxSubtotal>,
    pub line_net: Money,
    pub allowances: Money,
    pub charges: Money,
    pub tax_exclusive: Money,
    pub tax: Money,
    pub gross: Money,
}

/// Prices a document: a percentage document discount becomes one allowance per tax group (a
/// discount must carry the tax category of what it reduces), each rounded on its group's line
/// total; a freight charge is taxed like the largest line (the principal supply). Tax is then
/// computed once per (category, rate) on `lines − allowances + charges` of that group.
pub fn document_amounts(
    currency: Currency,
    lines: &[BilledLine],
    discount: Percent,
    freight: Money,
) -> Result<DocumentAmounts, MoneyError> {
    let mut adjustments = Vec::new();
    if discount.basis_points() != 0 {
        let mut groups: Vec<(TaxCategory, Percent, Money)> = Vec::new();
        for l in lines {
            match groups
                .iter_mut()
                .find(|g| g.0 == l.category && g.1 == l.rate)
            {
                Some(g) => g.2 = g.2.checked_add(l.net)?,
                None => groups.push((l.category, l.rate, l.net)),
            }
        }
        groups.sort_by_key(|g| (g.0, g.1));
        for (category, rate, base) in groups {
            let amount = discount.of(base)?;
            if !amount.is_zero() {
                adjustments.push(DocumentAdjustment {
                    is_charge: false,
                    amount,
                    base: Some(base),
                    percent: Some(discount),
                    reason: "Discount".into(),
                    reason_code: "95",
                    category,
                    rate,
                });
            }
        }
    }
    if !freight.is_zero() {
        if let Some(principal) = lines.iter().max_by_key(|l| l.net.minor()) {
            adjustments.push(DocumentAdjustment {
                is_charge: true,
                amount: freight,
                base: None,
                percent: None,
                reason: "Freight".into(),
                reason_code: "FC",
                category: principal.category,
                rate: principal.rate,
            });
        }
    }
    let mut taxable: Vec<TaxableLine> = lines
        .iter()
        .map(|l| TaxableLine {
            category: l.category,
            rate: l.rate,
            net: l.net,
        })
        .collect();
    for a in &adjustments {
        taxable.push(TaxableLine {
            category: a.category,
            rate: a.rate,
            net: if a.is_charge {
                a.amount
            } else {
                a.amount.checked_neg()?
            },
        });
    }
    let breakdown = tax_breakdown(&taxable)?;
    let line_net = Money::sum(currency, lines.iter().map(|l| l.net))?;
    let allowances = Money::sum(
        currency,
        adjustments
            .iter()
            .filter(|a| !a.is_charge)
            .map(|a| a.amount),
    )?;
    let charges = Money::sum(
        currency,
        adjustments.iter().filter(|a| a.is_charge).map(|a| a.amount),
    )?;
    let tax_exclusive = line_net.checked_sub(allowances)?.checked_add(charges)?;
    let tax = Money::sum(currency, breakdown.iter().map(|b| b.tax))?;
    Ok(DocumentAmounts {
        adjustments,
        breakdown,
        line_net,
        allowances,
        charges,
        tax_exclusive,
        tax,
        gross: tax_exclusive.checked_add(tax)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discount_is_split_per_tax_group_and_freight_follows_the_largest_line() {
        let eur = |m| Money::new(m, Currency::EUR);
        let lines = [
            BilledLine {
                net: eur(10_000),
                category: TaxCategory::Standard,
                rate: Percent::from_basis_points(1900),
            },
            BilledLine {
                net: eur(5_005),
                category: TaxCategory::Reduced,
                rate: Percent::from_basis_points(700),
            },
        ];
        let a = document_amounts(
            Currency::EUR,
            &lines,
            Percent::from_basis_points(200),
            eur(1_500),
        )
        .unwrap();
        // 2% of 100.00 = 2.00; 2% of 50.05 = 1.001 → 1.00.
        let amounts: Vec<_> = a
            .adjustments
            .iter()
            .map(|x| (x.is_charge, x.amount.minor(), x.category))
            .collect();
        assert_eq!(
            amounts,
            vec![
                (false, 200, TaxCategory::Standard),
                (false, 100, TaxCategory::Reduced),
                (true, 1_500, TaxCategory::Standard)
            ]
        );
        assert_eq!(a.tax_exclusive.minor(), 15_005 - 300 + 1_500);
        // Standard: 100 - 2 + 15 = 113.00 × 19% = 21.47; reduced: 49.05 × 7% = 3.4335 → 3.43.
        assert_eq!(
            a.breakdown
                .iter()
                .map(|b| b.tax.minor())
                .collect::<Vec<_>>(),
            vec![2147, 343]
        );
        assert_eq!(a.gross.minor(), 16_205 + 2147 + 343);
    }

    #[test]
    fn due_dates_and_numbers() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(
            due_on(d, 30),
            NaiveDate::from_ymd_opt(2026, 12, 23).unwrap()
        );
        assert_eq!(invoice_number("INV", 2026, 42), "INV-2026-000042");
        assert_eq!(PaymentStatus::of(100, 100), PaymentStatus::Unpaid);
        assert_eq!(PaymentStatus::of(100, 1), PaymentStatus::PartiallyPaid);
        assert_eq!(PaymentStatus::of(100, 0), PaymentStatus::Paid);
    }
}
