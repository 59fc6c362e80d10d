//! Exact decimal numbers as partners write them: quantities, unit prices, weights.
//!
//! Not money: a unit price may carry more decimals than its currency (`0.0325` USD a piece) and a
//! quantity has no currency at all. [`Decimal::to_money`] and [`Decimal::round_to_minor`] are the
//! two ways into [`Money`]: exactly, or through the one rounding rule o2c uses.

use std::fmt;

use o2c_core::money::{Currency, Money, MoneyError, round_half_away_from_zero};
use serde::{Serialize, Serializer};

/// A decimal number: `mantissa × 10^-scale`, kept with the fewest decimals that hold it, so
/// `5`, `5.0` and `5.00` are equal.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// More digits than this is not a quantity or a price but a mistake.
const MAX_DIGITS: usize = 28;

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// `mantissa × 10^-scale`: `Decimal::new(1250, 2)` is 12.5.
    pub fn new(mantissa: i64, scale: u32) -> Decimal {
        Decimal {
            mantissa: i128::from(mantissa),
            scale,
        }
        .normalised()
    }

    /// A whole number.
    pub fn from_integer(value: i64) -> Decimal {
        Decimal::new(value, 0)
    }

    /// Reads `12.5`, `-3`, and the X12 forms with a leading or trailing point (`.5`, `12.`).
    /// White space around the number is ignored; signs other than a leading `-`, exponents,
    /// thousands separators and more than 28 digits are not numbers here.
    pub fn parse(raw: &str) -> Option<Decimal> {
        let s = raw.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0
            || int_part.len() + frac_part.len() > MAX_DIGITS
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        let scale = u32::try_from(frac_part.len()).ok()?;
        let mantissa = if negative { -mantissa } else { mantissa };
        Some(Decimal { mantissa, scale }.normalised())
    }

    fn normalised(mut self) -> Decimal {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// The number of decimals it needs (`12.50` has 1).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The value when it is a whole number that fits an `i64`.
    pub fn as_integer(&self) -> Option<i64> {
        (self.scale == 0)
            .then(|| i64::try_from(self.mantissa).ok())
            .flatten()
    }

    /// `self × other`, exactly; `None` on overflow.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        Some(
            Decimal {
                mantissa: self.mantissa.checked_mul(other.mantissa)?,
                scale: self.scale.checked_add(other.scale)?,
            }
            .normalised(),
        )
    }

    /// `self + other`, exactly; `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let widen = |d: Decimal| d.mantissa.checked_mul(10i128.checked_pow(scale - d.scale)?);
        Some(
            Decimal {
                mantissa: widen(self)?.checked_add(widen(other)?)?,
                scale,
            }
            .normalised(),
        )
    }

    /// The same amount of money, exactly: refused when it has more decimals than `currency`.
    pub fn to_money(self, currency: Currency) -> Result<Money, MoneyError> {
        Money::parse(&self.to_string(), currency)
    }

    /// The amount in minor units of `currency`, rounded half away from zero (o2c's one rounding
    /// rule) when it has more decimals than the currency.
    pub fn round_to_minor(self, currency: Currency) -> Result<Money, MoneyError> {
        let exponent = u32::from(currency.exponent());
        let minor = if self.scale <= exponent {
            let factor = 10i128
                .checked_pow(exponent - self.scale)
                .ok_or(MoneyError::Overflow)?;
            let scaled = self
                .mantissa
                .checked_mul(factor)
                .ok_or(MoneyError::Overflow)?;
            i64::try_from(scaled).map_err(|_| MoneyError::Overflow)?
        } else {
            let divisor = 10i128
                .checked_pow(self.scale - exponent)
                .ok_or(MoneyError::Overflow)?;
            round_half_away_from_zero(self.mantissa, divisor)?
        };
        Ok(Money::new(minor, currency))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int_part}.{frac_part}")
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// As a string (`"12.5"`), so no JSON reader turns it into a float.
impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("{s} is a number"))
    }

    #[test]
    fn numbers_read_in_every_form_partners_write_and_print_without_trailing_zeros() {
        assert_eq!(d("12.50").to_string(), "12.5");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("-.25").to_string(), "-0.25");
        assert_eq!(d("12.").to_string(), "12");
        assert_eq!(d(" 1000 ").to_string(), "1000");
        assert_eq!(d("0.0325").to_string(), "0.0325");
        assert_eq!(d("5"), d("5.000"));
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "1,5",
            "+1",
            "1e3",
            "12 5",
            "1234567890123456789012345678.9",
        ] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(d("12").checked_mul(d("63.11")), Some(d("757.32")));
        assert_eq!(d("0.1").checked_add(d("0.25")), Some(d("0.35")));
        assert_eq!(d("-1.5").checked_add(d("1.5")), Some(Decimal::ZERO));
        assert_eq!(d("7").as_integer(), Some(7));
        assert_eq!(d("7.5").as_integer(), None);
    }

    #[test]
    fn money_comes_out_exactly_or_through_the_one_rounding_rule() {
        assert_eq!(
            d("5.09").to_money(Currency::USD).map(|m| m.minor()),
            Ok(509)
        );
        assert!(d("0.0325").to_money(Currency::USD).is_err());
        assert_eq!(
            d("0.025").round_to_minor(Currency::USD).map(|m| m.minor()),
            Ok(3)
        );
        assert_eq!(
            d("-0.025").round_to_minor(Currency::USD).map(|m| m.minor()),
            Ok(-3)
        );
        assert_eq!(
            d("1200").round_to_minor(Currency::JPY).map(|m| m.minor()),
            Ok(1200)
        );
    }
}
