//! Amounts and dates as trading partners write them, turned into exact values.

use chrono::NaiveDate;
use o2c_core::money::{Currency, Money, MoneyError};

use crate::error::{EdiError, Location};

/// Parses a decimal amount (X12 type R, or a CSV cell) into exact minor units.
///
/// X12 lets the decimal point lead or trail (`.5`, `-.25`, `12.`); those are read as `0.5`,
/// `-0.25` and `12`. More decimals than the currency has are refused, never rounded.
pub(crate) fn parse_amount(
    raw: &str,
    currency: Currency,
    at: impl FnOnce() -> Location,
) -> Result<Money, EdiError> {
    let trimmed = raw.trim();
    let (sign, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", trimmed),
    };
    let digits = digits.strip_suffix('.').unwrap_or(digits);
    let normalised = if digits.starts_with('.') {
        format!("{sign}0{digits}")
    } else {
        format!("{sign}{digits}")
    };
    Money::parse(&normalised, currency).map_err(|e| {
        let at = at();
        let value = raw.to_string();
        match e {
            MoneyError::TooManyDecimals {
                currency, exponent, ..
            } => EdiError::AmountTooPrecise {
                at,
                value,
                currency,
                exponent,
            },
            MoneyError::Overflow => EdiError::AmountOutOfRange { at, value },
            _ => EdiError::MalformedAmount { at, value },
        }
    })
}

/// Parses an ISO 4217 code.
pub(crate) fn parse_currency(
    raw: &str,
    at: impl FnOnce() -> Location,
) -> Result<Currency, EdiError> {
    Currency::parse(raw).map_err(|_| EdiError::UnknownCurrency {
        at: at(),
        value: raw.to_string(),
    })
}

/// How an X12 date was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateWidth {
    /// CCYYMMDD, what 004010 and later require in the transaction sets.
    Full,
    /// YYMMDD: the ISA, and older or careless senders.
    TwoDigitYear,
}

/// Reads CCYYMMDD or YYMMDD. Two-digit years are windowed: 00-49 are 20xx, 50-99 are 19xx (the
/// window X12 itself uses for ISA09).
pub(crate) fn parse_x12_date(raw: &str) -> Option<(NaiveDate, DateWidth)> {
    let s = raw.trim();
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| s.get(range)?.parse::<u32>().ok();
    let (year, rest, width) = match s.len() {
        8 => (i32::try_from(number(0..4)?).ok()?, 4, DateWidth::Full),
        6 => {
            let yy = number(0..2)?;
            let century = if yy < 50 { 2000 } else { 1900 };
            (
                i32::try_from(century + yy).ok()?,
                2,
                DateWidth::TwoDigitYear,
            )
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, number(rest..rest + 2)?, number(rest + 2..rest + 4)?)?;
    Some((date, width))
}

/// Reads a date in a CSV cell: ISO 8601 (`2026-11-23`) or compact (`20261123`). Day-first and
/// month-first slashed dates are refused: `03/04/2026` means two different days on either side
/// of the Atlantic.
pub(crate) fn parse_csv_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    if s.len() == 10 {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    }
    match parse_x12_date(s) {
        Some((date, DateWidth::Full)) => Some(date),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Location {
        Location::Cell {
            line: 2,
            column: "amount_paid",
        }
    }

    #[test]
    fn x12_amounts_may_lead_or_trail_with_the_decimal_point() {
        let usd = Currency::USD;
        assert_eq!(parse_amount(".5", usd, here).map(|m| m.minor()), Ok(50));
        assert_eq!(parse_amount("-.25", usd, here).map(|m| m.minor()), Ok(-25));
        assert_eq!(parse_amount("12.", usd, here).map(|m| m.minor()), Ok(1200));
        assert_eq!(
            parse_amount(" 10167 ", usd, here).map(|m| m.minor()),
            Ok(1_016_700)
        );
    }

    #[test]
    fn a_malformed_amount_names_its_cell() {
        let err = parse_amount("1.2.3", Currency::USD, here).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2, column amount_paid: malformed amount `1.2.3`: expected a decimal number"
        );
        let err = parse_amount("1.234", Currency::USD, here).unwrap_err();
        assert!(matches!(
            err,
            EdiError::AmountTooPrecise { exponent: 2, .. }
        ));
        assert!(parse_amount("", Currency::USD, here).is_err());
        assert!(parse_amount("-", Currency::USD, here).is_err());
        assert!(parse_amount(".", Currency::USD, here).is_err());
    }

    #[test]
    fn dates_take_four_or_two_digit_years() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            parse_x12_date("19990105"),
            Some((d(1999, 1, 5), DateWidth::Full))
        );
        assert_eq!(
            parse_x12_date("031016"),
            Some((d(2003, 10, 16), DateWidth::TwoDigitYear))
        );
        assert_eq!(
            parse_x12_date("990104"),
            Some((d(1999, 1, 4), DateWidth::TwoDigitYear))
        );
        assert_eq!(parse_x12_date("051513"), None, "month 15");
        assert_eq!(parse_x12_date("2011-05-03"), None);
        assert_eq!(parse_csv_date("2026-11-23"), Some(d(2026, 11, 23)));
        assert_eq!(parse_csv_date("20261123"), Some(d(2026, 11, 23)));
        assert_eq!(parse_csv_date("03/04/2026"), None);
    }
}
