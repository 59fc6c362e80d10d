//! Amounts and dates as the formats write them, turned into exact [`Money`] and dates.
//!
//! One rule for every format: an amount may carry more decimals than its currency has only if
//! the extra digits are zeros ("8.850" EUR is 8.85); anything else is refused, never rounded.

use crate::error::Problem;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};
use o2c_core::money::{Currency, Money, MoneyError};

/// How a format writes a decimal amount.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Notation {
    /// The decimal separator.
    pub decimal: char,
    /// A grouping separator that may appear between groups of three digits.
    pub thousands: Option<char>,
    /// Whether a leading `-` or `+` is allowed.
    pub signed: bool,
    /// Whether "123," (separator, no decimals) is allowed, as in SWIFT.
    pub bare_separator: bool,
    /// What to tell the user when the amount is malformed.
    pub expected: &'static str,
}

/// ISO 20022 `ActiveOrHistoricCurrencyAndAmount`: "1234.56", no sign.
pub(crate) const XML_AMOUNT: Notation = Notation {
    decimal: '.',
    thousands: None,
    signed: false,
    bare_separator: false,
    expected: "digits with a decimal point, such as 1234.56",
};

/// SWIFT MT amounts: "1234,56" or "1234,", no sign.
pub(crate) const SWIFT_AMOUNT: Notation = Notation {
    decimal: ',',
    thousands: None,
    signed: false,
    bare_separator: true,
    expected: "digits with a decimal comma, such as 1234,56",
};

/// Looks a currency code up in o2c's table.
pub(crate) fn currency(code: &str) -> Result<Currency, Problem> {
    Currency::parse(code).map_err(|_| Problem::UnknownCurrency {
        code: code.trim().to_string(),
    })
}

/// Parses an amount written in `notation` into `currency`.
pub(crate) fn parse_amount(
    value: &str,
    notation: Notation,
    currency: Currency,
) -> Result<Money, Problem> {
    let malformed = || Problem::MalformedAmount {
        value: value.to_string(),
        expected: notation.expected,
    };
    let s = value.trim();
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') if notation.signed => (true, &s[1..]),
        Some(b'+') if notation.signed => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match unsigned.split_once(notation.decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let int_digits = match notation.thousands {
        Some(sep) => ungroup(int_part, sep).ok_or_else(malformed)?,
        None => int_part.to_string(),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int_digits.is_empty() || !digits(&int_digits) {
        return Err(malformed());
    }
    let canonical = match frac_part {
        Some("") if notation.bare_separator => int_digits,
        Some(f) if !f.is_empty() && digits(f) => format!("{int_digits}.{f}"),
        Some(_) => return Err(malformed()),
        None => int_digits,
    };
    let money = Money::parse(&canonical, currency).map_err(|e| match e {
        MoneyError::TooManyDecimals { .. } => Problem::TooManyDecimals {
            value: value.to_string(),
            currency,
            exponent: currency.exponent(),
        },
        MoneyError::Overflow => Problem::AmountOutOfRange {
            value: value.to_string(),
        },
        _ => malformed(),
    })?;
    if negative {
        money.checked_neg().map_err(|_| Problem::AmountOutOfRange {
            value: value.to_string(),
        })
    } else {
        Ok(money)
    }
}

/// Removes grouping separators, insisting on groups of three so "1,5" is never read as 15.
fn ungroup(int_part: &str, sep: char) -> Option<String> {
    let groups: Vec<&str> = int_part.split(sep).collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    Some(groups.concat())
}

/// Parses an amount in implied minor units ("+000000000208500" is 2085.00 in a 2-decimal
/// currency), as BAI2 writes them.
pub(crate) fn parse_minor_units(value: &str, currency: Currency) -> Result<Money, Problem> {
    let s = value.trim();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::MalformedAmount {
            value: value.to_string(),
            expected: "digits in minor units, optionally signed, such as +123456",
        });
    }
    let minor: i64 = digits.parse().map_err(|_| Problem::AmountOutOfRange {
        value: value.to_string(),
    })?;
    Ok(Money::new(if negative { -minor } else { minor }, currency))
}

/// `YYMMDD` as SWIFT and BAI2 write dates; years 80-99 are 19xx, 00-79 are 20xx.
pub(crate) fn parse_yymmdd(value: &str) -> Result<NaiveDate, Problem> {
    let (year, month, day) = yymmdd_parts(value)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| malformed_yymmdd(value))
}

/// Like [`parse_yymmdd`], but a day 29-31 past the end of its month is read as the month's last
/// day: German banks write value dates such as 30 February in the 30/360 interest convention.
/// Returns whether the date was moved.
pub(crate) fn parse_yymmdd_30_360(value: &str) -> Result<(NaiveDate, bool), Problem> {
    let (year, month, day) = yymmdd_parts(value)?;
    if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
        return Ok((date, false));
    }
    if (29..=31).contains(&day) {
        let last = (28..day)
            .rev()
            .find_map(|d| NaiveDate::from_ymd_opt(year, month, d));
        if let Some(date) = last {
            return Ok((date, true));
        }
    }
    Err(malformed_yymmdd(value))
}

fn yymmdd_parts(value: &str) -> Result<(i32, u32, u32), Problem> {
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed_yymmdd(value));
    }
    let number = |range: std::ops::Range<usize>| value[range].parse::<u32>().unwrap_or(0);
    let yy = number(0..2) as i32;
    let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
    Ok((year, number(2..4), number(4..6)))
}

fn malformed_yymmdd(value: &str) -> Problem {
    Problem::MalformedDate {
        value: value.to_string(),
        expected: "a real day written YYMMDD".to_string(),
    }
}

/// The booking date `MMDD` of an MT940 `:61:` line, placed in the year that puts it nearest to
/// the value date (a booking on 2 January can carry a value date of 31 December).
pub(crate) fn month_day_near(value: &str, near: NaiveDate) -> Result<(NaiveDate, bool), Problem> {
    let bad = || Problem::MalformedDate {
        value: value.to_string(),
        expected: "a real day written MMDD".to_string(),
    };
    if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let month: u32 = value[0..2].parse().map_err(|_| bad())?;
    let month_gap = month as i32 - near.month() as i32;
    let year = match month_gap {
        g if g > 6 => near.year() - 1,
        g if g < -6 => near.year() + 1,
        _ => near.year(),
    };
    let yy = year.rem_euclid(100);
    parse_yymmdd_30_360(&format!("{yy:02}{value}")).map_err(|_| bad())
}

/// ISO 8601 date `YYYY-MM-DD`.
pub(crate) fn parse_iso_date(value: &str) -> Result<NaiveDate, Problem> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| Problem::MalformedDate {
        value: value.to_string(),
        expected: "YYYY-MM-DD".to_string(),
    })
}

/// ISO 8601 date-time with or without a UTC offset, kept in the writer's clock.
pub(crate) fn parse_iso_datetime(value: &str) -> Result<NaiveDateTime, Problem> {
    let s = value.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.naive_local());
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| Problem::MalformedDate {
        value: value.to_string(),
        expected: "YYYY-MM-DDThh:mm:ss with an optional offset".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str, n: Notation) -> Result<i64, Problem> {
        parse_amount(s, n, Currency::EUR).map(|m| m.minor())
    }

    #[test]
    fn extra_decimals_are_accepted_only_when_they_are_zeros() {
        assert_eq!(eur("8.850", XML_AMOUNT), Ok(885));
        assert_eq!(eur("8.85000", XML_AMOUNT), Ok(885));
        assert!(matches!(
            eur("8.851", XML_AMOUNT),
            Err(Problem::TooManyDecimals { .. })
        ));
    }

    #[test]
    fn swift_amounts_use_a_comma_and_may_end_with_it() {
        assert_eq!(eur("380115,", SWIFT_AMOUNT), Ok(38_011_500));
        assert_eq!(eur("0,12", SWIFT_AMOUNT), Ok(12));
        assert_eq!(eur("001,1", SWIFT_AMOUNT), Ok(110));
        for bad in [",5", "12,5x", "1.5", "", "-1,00", "1,2,3"] {
            assert!(
                matches!(eur(bad, SWIFT_AMOUNT), Err(Problem::MalformedAmount { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn grouping_separators_must_group_three_digits() {
        let csv = Notation {
            decimal: ',',
            thousands: Some('.'),
            signed: true,
            bare_separator: false,
            expected: "x",
        };
        assert_eq!(eur("-1.234,56", csv), Ok(-123_456));
        assert_eq!(eur("1234,56", csv), Ok(123_456));
        assert!(eur("1.5", csv).is_err());
        assert!(eur(".500", csv).is_err());
    }

    #[test]
    fn thirty_day_months_are_moved_to_the_last_day() {
        let (d, moved) = parse_yymmdd_30_360("160230").unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2016, 2, 29).unwrap());
        assert!(moved);
        assert!(parse_yymmdd("160230").is_err());
        assert!(parse_yymmdd_30_360("161332").is_err());
    }

    #[test]
    fn booking_dates_take_the_year_nearest_the_value_date() {
        let dec31 = NaiveDate::from_ymd_opt(2010, 12, 31).unwrap();
        let (d, _) = month_day_near("0102", dec31).unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2011, 1, 2).unwrap());
        let jan2 = NaiveDate::from_ymd_opt(2011, 1, 2).unwrap();
        let (d, _) = month_day_near("1231", jan2).unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2010, 12, 31).unwrap());
    }

    #[test]
    fn minor_units_are_signed_integers() {
        let usd = Currency::USD;
        assert_eq!(
            parse_minor_units("+000208500", usd).unwrap().minor(),
            208_500
        );
        assert_eq!(parse_minor_units("-3500", usd).unwrap().minor(), -3500);
        assert!(parse_minor_units("12.5", usd).is_err());
    }
}
