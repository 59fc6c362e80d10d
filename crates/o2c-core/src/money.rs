//! Money is exact: integer minor units plus an ISO 4217 currency. No floats anywhere.
//!
//! Amounts cross the edge as decimal strings ("12.50") and are parsed against the currency's
//! exponent (JPY has 0 decimals, KWD 3): an amount with more decimals than its currency allows
//! is refused rather than silently rounded.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} with {right}: the currencies differ")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount out of range")]
    Overflow,
    #[error("unknown currency `{0}`: expected an ISO 4217 code such as EUR or USD")]
    UnknownCurrency(String),
    #[error("malformed amount `{0}`: expected a decimal number such as 12.50")]
    MalformedAmount(String),
    #[error("amount `{input}` has more than {exponent} decimals, the most {currency} allows")]
    TooManyDecimals {
        input: String,
        currency: Currency,
        exponent: u8,
    },
}

/// ISO 4217 codes o2c accepts, with their minor-unit exponents.
const CURRENCIES: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("TRY", 2),
    ("USD", 2),
    ("ZAR", 2),
];

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");
    pub const USD: Currency = Currency(*b"USD");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const JPY: Currency = Currency(*b"JPY");

    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(c, _)| Currency(c.as_bytes().try_into().expect("codes are three bytes")))
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// Number of decimals of the minor unit (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u8 {
        CURRENCIES
            .iter()
            .find(|(c, _)| c.as_bytes() == self.0)
            .map(|(_, e)| *e)
            .expect("a Currency is only built from the table")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }
    pub fn minor(&self) -> i64 {
        self.minor
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }
    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }
    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// Unit price times a quantity: exact, no rounding.
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        let minor = self
            .minor
            .checked_mul(quantity)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if self.minor <= other.minor {
            self
        } else {
            other
        })
    }

    /// Sums amounts of one currency; an empty list sums to zero in `currency`.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        items: I,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Parses a decimal string ("12.50", "-3", "0.5") in the given currency.
    pub fn parse(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        let malformed = || MoneyError::MalformedAmount(input.to_string());
        let s = input.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !all_digits(int_part) || !all_digits(frac_part) {
            return Err(malformed());
        }
        if digits.contains('.') && frac_part.is_empty() {
            return Err(malformed());
        }
        let exponent = currency.exponent();
        let frac_trimmed = frac_part.trim_end_matches('0');
        if frac_trimmed.len() > exponent as usize {
            return Err(MoneyError::TooManyDecimals {
                input: input.to_string(),
                currency,
                exponent,
            });
        }
        let mut minor: i64 = 0;
        let padded = format!("{frac_trimmed:0<width$}", width = exponent as usize);
        for b in int_part.bytes().chain(padded.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        Ok(Money {
            minor: if negative { -minor } else { minor },
            currency,
        })
    }

    /// The amount as a decimal string with exactly the currency's decimals ("12.50", "-0.05", "1200").
    pub fn to_decimal_string(&self) -> String {
        decimal_string(self.minor, self.currency.exponent())
    }
}

/// Formats integer minor units with `exponent` decimals.
pub fn decimal_string(minor: i64, exponent: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(u32::from(exponent));
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

/// The one rounding rule o2c uses to turn an exact fraction into minor units: half away from zero
/// (commercial rounding, as EN 16931 expects for line and tax amounts).
pub fn round_half_away_from_zero(numerator: i128, denominator: i128) -> Result<i64, MoneyError> {
    assert!(denominator > 0, "denominator must be positive");
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let rounded = if 2 * remainder.abs() >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).map_err(|_| MoneyError::Overflow)
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.to_decimal_string())?;
        st.serialize_field("currency", &self.currency)?;
        st.end()
    }
}

/// Reads what [`Serialize`] writes: `{"amount": "12.50", "currency": "EUR"}`, exactly.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            amount: String,
            currency: Currency,
        }
        let w = Wire::deserialize(d)?;
        Money::parse(&w.amount, w.currency).map_err(serde::de::Error::custom)
    }
}

/// A percentage held in basis points (19% = 1900), for tax rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent {
    basis_points: i64,
}

impl Percent {
    pub fn from_basis_points(basis_points: i64) -> Percent {
        Percent { basis_points }
    }
    pub fn basis_points(&self) -> i64 {
        self.basis_points
    }
    /// `amount × rate`, rounded half away from zero to the minor unit.
    pub fn of(&self, amount: Money) -> Result<Money, MoneyError> {
        let minor = round_half_away_from_zero(
            i128::from(amount.minor()) * i128::from(self.basis_points),
            10_000,
        )?;
        Ok(Money::new(minor, amount.currency()))
    }
    /// "19.00" style, two decimals.
    pub fn to_decimal_string(&self) -> String {
        decimal_string(self.basis_points, 2)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_against_the_currency_exponent() {
        assert_eq!(Money::parse("12.5", Currency::EUR).unwrap().minor(), 1250);
        assert_eq!(Money::parse("-0.05", Currency::EUR).unwrap().minor(), -5);
        assert_eq!(Money::parse("1200", Currency::JPY).unwrap().minor(), 1200);
        assert_eq!(
            Money::parse("1.234", Currency::parse("KWD").unwrap())
                .unwrap()
                .minor(),
            1234
        );
        assert!(matches!(
            Money::parse("1.5", Currency::JPY),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            Money::parse("12.505", Currency::EUR),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        for bad in ["", "-", "1.", ".5", "1e3", "12,50", "abc", " 1 2"] {
            assert!(
                matches!(
                    Money::parse(bad, Currency::EUR),
                    Err(MoneyError::MalformedAmount(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            Money::parse("99999999999999999999", Currency::EUR),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let e = Money::new(1, Currency::EUR);
        let u = Money::new(1, Currency::USD);
        assert!(matches!(
            e.checked_add(u),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert!(matches!(
            e.checked_sub(u),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_half_away_from_zero(5, 10).unwrap(), 1);
        assert_eq!(round_half_away_from_zero(-5, 10).unwrap(), -1);
        assert_eq!(round_half_away_from_zero(4, 10).unwrap(), 0);
        assert_eq!(round_half_away_from_zero(-15, 10).unwrap(), -2);
        let rate = Percent::from_basis_points(1900);
        assert_eq!(
            rate.of(Money::new(1050, Currency::EUR)).unwrap().minor(),
            200
        ); // 199.5 -> 200
    }

    #[test]
    fn unknown_currencies_are_named() {
        assert_eq!(
            Currency::parse("XXX"),
            Err(MoneyError::UnknownCurrency("XXX".into()))
        );
        assert_eq!(Currency::parse("eur").unwrap(), Currency::EUR);
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_same_amount(minor in -1_000_000_000_000i64..1_000_000_000_000, cur in 0usize..CURRENCIES.len()) {
            let currency = Currency::parse(CURRENCIES[cur].0).unwrap();
            let m = Money::new(minor, currency);
            prop_assert_eq!(Money::parse(&m.to_decimal_string(), currency).unwrap(), m);
        }

        #[test]
        fn addition_and_subtraction_are_exact_inverses(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let x = Money::new(a, Currency::EUR);
            let y = Money::new(b, Currency::EUR);
            prop_assert_eq!(x.checked_add(y).unwrap().checked_sub(y).unwrap(), x);
        }
    }
}
