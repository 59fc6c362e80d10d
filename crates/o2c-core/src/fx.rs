//! Exchange rates and translation into the functional currency.
//!
//! A rate is quoted the way central banks publish reference rates: how many units of the
//! foreign currency one unit of the functional currency buys (ECB: "1 EUR = 1.0823 USD").
//! It is kept as an integer scaled by 10^10, so conversions are exact integer arithmetic with
//! one rounding, half away from zero, at the end.
//!
//! Translation keeps monetary balances exact: a receivable or a payment is converted as a
//! whole at its own rate, and what is relieved from it later is the difference of two whole
//! conversions (`relief`), so the sum of the parts always equals the converted whole and a
//! settled item leaves nothing behind in the functional currency.

use crate::money::{Currency, MoneyError, round_half_away_from_zero};
use serde::{Serialize, Serializer};
use std::fmt;

const SCALE: i128 = 10_000_000_000;
const SCALE_DIGITS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    #[error("malformed rate `{0}`: expected a positive decimal number such as 1.0823")]
    Malformed(String),
    #[error("rate `{0}` has more than 10 decimals")]
    TooPrecise(String),
    #[error("rate must be greater than zero")]
    NotPositive,
}

/// Units of a foreign currency per one unit of the functional currency, scaled by 10^10.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FxRate(i64);

impl FxRate {
    /// The rate of the functional currency against itself.
    pub const ONE: FxRate = FxRate(SCALE as i64);

    pub fn parse(input: &str) -> Result<FxRate, FxError> {
        let s = input.trim();
        let malformed = || FxError::Malformed(input.to_string());
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(malformed());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > SCALE_DIGITS {
            return Err(FxError::TooPrecise(input.to_string()));
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| malformed())?
        };
        let frac_value: i128 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i128>().map_err(|_| malformed())?
                * 10i128.pow((SCALE_DIGITS - frac.len()) as u32)
        };
        let scaled = whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(frac_value))
            .filter(|v| *v <= i64::MAX as i128)
            .ok_or_else(malformed)?;
        if scaled == 0 {
            return Err(FxError::NotPositive);
        }
        Ok(FxRate(scaled as i64))
    }

    pub fn scaled(&self) -> i64 {
        self.0
    }

    /// The rate as a decimal string without trailing zeros ("1.0823").
    pub fn to_decimal_string(&self) -> String {
        let whole = self.0 as i128 / SCALE;
        let frac = self.0 as i128 % SCALE;
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:0width$}", width = SCALE_DIGITS);
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }

    /// Converts an amount of the foreign currency (minor units) into the functional currency
    /// (minor units), rounding half away from zero once.
    pub fn to_functional(
        &self,
        foreign_minor: i64,
        foreign: Currency,
        functional: Currency,
    ) -> Result<i64, MoneyError> {
        if foreign == functional {
            return Ok(foreign_minor);
        }
        let ex = foreign.exponent() as u32;
        let ef = functional.exponent() as u32;
        let numerator = (foreign_minor as i128)
            .checked_mul(SCALE)
            .and_then(|n| n.checked_mul(10i128.pow(ef)))
            .ok_or(MoneyError::Overflow)?;
        let denominator = (self.0 as i128)
            .checked_mul(10i128.pow(ex))
            .ok_or(MoneyError::Overflow)?;
        round_half_away_from_zero(numerator, denominator)
    }

    /// What leaves a balance held at this rate when it goes from `before` to `after` (foreign
    /// minor units): the difference of the two whole conversions, so that the reliefs of an
    /// item always add up to its converted whole.
    pub fn relief(
        &self,
        before: i64,
        after: i64,
        foreign: Currency,
        functional: Currency,
    ) -> Result<i64, MoneyError> {
        Ok(self.to_functional(before, foreign, functional)?
            - self.to_functional(after, foreign, functional)?)
    }
}

impl fmt::Display for FxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl fmt::Debug for FxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FxRate({})", self.to_decimal_string())
    }
}

impl Serialize for FxRate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rates_parse_and_print_exactly() {
        assert_eq!(FxRate::parse("1.0823").unwrap().to_string(), "1.0823");
        assert_eq!(FxRate::parse("162.45").unwrap().to_string(), "162.45");
        assert_eq!(FxRate::parse("1").unwrap(), FxRate::ONE);
        assert_eq!(FxRate::parse("0.8561000").unwrap().to_string(), "0.8561");
        assert_eq!(FxRate::parse("0"), Err(FxError::NotPositive));
        assert!(matches!(FxRate::parse("-1.2"), Err(FxError::Malformed(_))));
        assert!(matches!(FxRate::parse("1,08"), Err(FxError::Malformed(_))));
        assert!(matches!(
            FxRate::parse("1.000000000001"),
            Err(FxError::TooPrecise(_))
        ));
    }

    #[test]
    fn conversion_divides_by_the_quoted_rate_across_exponents() {
        let usd = FxRate::parse("1.0823").unwrap();
        // 1,082.30 USD at 1.0823 USD per EUR is 1,000.00 EUR.
        assert_eq!(
            usd.to_functional(108_230, Currency::USD, Currency::EUR),
            Ok(100_000)
        );
        // JPY has no decimals: 16,245 JPY at 162.45 is 100.00 EUR.
        let jpy = FxRate::parse("162.45").unwrap();
        assert_eq!(
            jpy.to_functional(16_245, Currency::JPY, Currency::EUR),
            Ok(10_000)
        );
        // Half a cent rounds away from zero, both signs.
        let two = FxRate::parse("2").unwrap();
        assert_eq!(two.to_functional(1, Currency::USD, Currency::EUR), Ok(1));
        assert_eq!(two.to_functional(-1, Currency::USD, Currency::EUR), Ok(-1));
        assert_eq!(
            usd.to_functional(5, Currency::EUR, Currency::EUR),
            Ok(5),
            "the functional currency is never converted"
        );
    }

    proptest! {
        #[test]
        fn reliefs_add_up_to_the_converted_whole(
            whole in 1i64..10_000_000_000,
            cuts in proptest::collection::vec(1i64..1_000_000_000, 0..8),
            rate in 1_000_000i64..2_000_000_000_000,
        ) {
            let r = FxRate(rate);
            let mut open = whole;
            let mut relieved = 0;
            for c in cuts {
                let take = c.min(open);
                relieved += r.relief(open, open - take, Currency::USD, Currency::EUR).unwrap();
                open -= take;
            }
            relieved += r.relief(open, 0, Currency::USD, Currency::EUR).unwrap();
            prop_assert_eq!(relieved, r.to_functional(whole, Currency::USD, Currency::EUR).unwrap());
        }
    }
}
