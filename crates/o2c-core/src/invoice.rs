//! Invoice rules: numbering, due date, payment status.

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

#[cfg(test)]
mod tests {
    use super::*;

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
