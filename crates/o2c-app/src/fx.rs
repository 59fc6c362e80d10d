//! Exchange rates by date: imported from a CSV file (`o2c fx import`) or set through the API,
//! and the one lookup every posting in a foreign currency uses. How a rate converts is decided
//! in the core (`o2c_core::fx`); which rate applies on a date is decided here: the latest one
//! published on or before that date, against the functional currency the ledger is kept in.

use crate::billing;
use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use chrono::NaiveDate;
use o2c_core::fx::FxRate;
use o2c_core::{Currency, DomainError};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One rate as it arrives: units of `currency` per one unit of the functional currency.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    pub currency: String,
    /// YYYY-MM-DD: the day the rate was published for.
    pub date: String,
    /// Decimal string, ECB convention ("1 EUR = 1.0823 USD" is `1.0823` for USD).
    pub rate: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rate {
    pub base: Currency,
    pub currency: Currency,
    pub date: String,
    pub rate: FxRate,
    pub source: String,
}

/// The functional currency: the company profile's, EUR until one is set.
pub fn functional_currency(conn: &mut dyn Conn) -> Result<Currency> {
    Ok(billing::company(conn)?.functional_currency())
}

/// The rate for `currency` on `date`: the latest published on or before it. The functional
/// currency itself is always [`FxRate::ONE`]; a currency without any earlier rate is
/// `missing-fx-rate`.
pub fn rate_on(
    conn: &mut dyn Conn,
    functional: Currency,
    currency: Currency,
    date: &str,
) -> Result<FxRate> {
    if currency == functional {
        return Ok(FxRate::ONE);
    }
    let row = conn.query_opt(
        "SELECT rate FROM fx_rates WHERE base = $1 AND currency = $2 AND rate_date <= $3
         ORDER BY rate_date DESC LIMIT 1",
        params![functional.code(), currency.code(), date],
    )?;
    let missing = || DomainError::MissingFxRate {
        currency,
        date: date.to_string(),
    };
    let row = row.ok_or_else(missing)?;
    FxRate::parse(&row.text(0)).map_err(|e| crate::error::AppError::Internal(e.to_string()))
}

/// A stored rate as text (NULL = the functional currency, rate one).
pub fn stored(rate: Option<String>) -> Result<FxRate> {
    match rate {
        None => Ok(FxRate::ONE),
        Some(r) => FxRate::parse(&r).map_err(|e| crate::error::AppError::Internal(e.to_string())),
    }
}

/// The text to store for a rate: NULL when it is one.
pub fn to_column(rate: FxRate) -> Option<String> {
    (rate != FxRate::ONE).then(|| rate.to_decimal_string())
}

fn check(
    functional: Currency,
    field: &str,
    r: &RateInput,
) -> Result<(Currency, NaiveDate, FxRate)> {
    let currency = Currency::parse(r.currency.trim())
        .map_err(DomainError::money(format!("{field}.currency")))?;
    if currency == functional {
        return Err(DomainError::invalid(
            format!("{field}.currency"),
            format!("{functional} is the functional currency: its rate is always 1"),
        )
        .into());
    }
    let date = NaiveDate::parse_from_str(r.date.trim(), "%Y-%m-%d").map_err(|_| {
        DomainError::invalid(format!("{field}.date"), "expected a date as YYYY-MM-DD")
    })?;
    let rate = FxRate::parse(&r.rate)
        .map_err(|e| DomainError::invalid(format!("{field}.rate"), e.to_string()))?;
    Ok((currency, date, rate))
}

/// Stores rates (a rate for the same currency and day replaces the earlier one). Every rate is
/// checked before any is written: one bad rate changes nothing.
pub fn set_rates_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    rates: &[RateInput],
    source: &str,
) -> Result<Vec<Rate>> {
    if rates.is_empty() {
        return Err(DomainError::invalid("rates", "expected at least one rate").into());
    }
    let functional = functional_currency(conn)?;
    let checked = rates
        .iter()
        .enumerate()
        .map(|(i, r)| check(functional, &format!("rates[{i}]"), r))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(checked.len());
    for (currency, date, rate) in checked {
        conn.execute(
            "DELETE FROM fx_rates WHERE base = $1 AND currency = $2 AND rate_date = $3",
            params![functional.code(), currency.code(), date.to_string()],
        )?;
        conn.execute(
            "INSERT INTO fx_rates (base, currency, rate_date, rate, source, imported_at) VALUES ($1, $2, $3, $4, $5, $6)",
            params![functional.code(), currency.code(), date.to_string(), rate.to_decimal_string(), source, ctx.timestamp()],
        )?;
        out.push(Rate {
            base: functional,
            currency,
            date: date.to_string(),
            rate,
            source: source.to_string(),
        });
    }
    let currencies: std::collections::BTreeSet<&str> =
        out.iter().map(|r| r.currency.code()).collect();
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::FxRatesSet,
            aggregate_type: "fx_rates",
            aggregate_id: functional.code(),
            order_id: None,
            customer_id: None,
            data: json!({"count": out.len(), "currencies": currencies, "source": source}),
        },
    )?;
    Ok(out)
}

pub fn list(
    conn: &mut dyn Conn,
    currency: Option<Currency>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<Rate>> {
    let rows = conn.query(
        "SELECT base, currency, rate_date, rate, source FROM fx_rates
         WHERE (CAST($1 AS TEXT) IS NULL OR currency = $1)
           AND (CAST($2 AS TEXT) IS NULL OR rate_date >= $2)
           AND (CAST($3 AS TEXT) IS NULL OR rate_date <= $3)
         ORDER BY currency, rate_date",
        params![currency.map(|c| c.code().to_string()), from, to],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Rate {
                base: Currency::parse(&r.text(0))?,
                currency: Currency::parse(&r.text(1))?,
                date: r.text(2),
                rate: stored(Some(r.text(3)))?,
                source: r.text(4),
            })
        })
        .collect()
}

/// Reads a rates file. Two shapes, told apart by the header:
/// - long: columns `date`, `currency`, `rate` in any order (one rate per row);
/// - wide, as the ECB publishes it (`eurofxref.csv`, `eurofxref-hist.csv`): a `Date` column
///   and one column per currency; empty and `N/A` cells are skipped.
///
/// Errors name the line and column; nothing is returned unless every row reads.
pub fn parse_csv(text: &str) -> Result<Vec<RateInput>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(DomainError::invalid("file", "empty: expected a header line").into());
    };
    let delimiter = if header.contains(';') && !header.contains(',') {
        ';'
    } else {
        ','
    };
    let split = |l: &str| -> Vec<String> {
        l.split(delimiter)
            .map(|c| c.trim().trim_matches('"').trim().to_string())
            .collect()
    };
    let head: Vec<String> = split(header)
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let col = |name: &str| head.iter().position(|h| h == name);
    let date_col = col("date").ok_or_else(|| {
        DomainError::invalid(
            "line 1",
            "expected a header with a `date` column (`date,currency,rate`, or the ECB layout `Date,USD,JPY,…`)",
        )
    })?;
    let mut out = Vec::new();
    let at = |line: usize, column: &str| format!("line {line}, column {column}");
    if let (Some(cur_col), Some(rate_col)) = (col("currency"), col("rate")) {
        for (n, l) in lines {
            let cells = split(l);
            let cell = |i: usize, name: &str| {
                cells
                    .get(i)
                    .filter(|c| !c.is_empty())
                    .cloned()
                    .ok_or_else(|| DomainError::invalid(at(n, name), "missing value"))
            };
            let r = RateInput {
                date: cell(date_col, "date")?,
                currency: cell(cur_col, "currency")?,
                rate: cell(rate_col, "rate")?,
            };
            check_cells(n, &r)?;
            out.push(r);
        }
    } else {
        let currencies: Vec<(usize, String)> = head
            .iter()
            .enumerate()
            .filter(|(i, h)| *i != date_col && !h.is_empty())
            .map(|(i, h)| (i, h.to_ascii_uppercase()))
            .collect();
        if currencies.is_empty() {
            return Err(DomainError::invalid(
                "line 1",
                "expected `currency` and `rate` columns, or one column per currency",
            )
            .into());
        }
        for (n, l) in lines {
            let cells = split(l);
            let raw_date = cells.get(date_col).cloned().unwrap_or_default();
            let date = parse_date_loose(&raw_date).ok_or_else(|| {
                DomainError::invalid(
                    at(n, "date"),
                    format!("`{raw_date}`: expected a date as YYYY-MM-DD or `23 November 2026`"),
                )
            })?;
            for (i, code) in &currencies {
                let value = cells.get(*i).map(String::as_str).unwrap_or("");
                if value.is_empty() || value.eq_ignore_ascii_case("N/A") {
                    continue;
                }
                let r = RateInput {
                    currency: code.clone(),
                    date: date.to_string(),
                    rate: value.to_string(),
                };
                check_cells(n, &r)?;
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// Checks one row's cells so that an error names the file's line, not a position in a list.
fn check_cells(line: usize, r: &RateInput) -> Result<()> {
    let at = |column: &str| format!("line {line}, column {column}");
    if Currency::parse(&r.currency).is_err() {
        return Err(DomainError::invalid(
            at("currency"),
            format!(
                "unknown currency `{}`: expected an ISO 4217 code such as USD",
                r.currency
            ),
        )
        .into());
    }
    if NaiveDate::parse_from_str(&r.date, "%Y-%m-%d").is_err() {
        return Err(DomainError::invalid(
            at("date"),
            format!("`{}`: expected a date as YYYY-MM-DD", r.date),
        )
        .into());
    }
    FxRate::parse(&r.rate).map_err(|e| DomainError::invalid(at("rate"), e.to_string()))?;
    Ok(())
}

fn parse_date_loose(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d %B %Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_ecb_layouts_read_alike() {
        let long = parse_csv("date,currency,rate\n2026-11-20,USD,1.0823\n2026-11-20,JPY,162.45\n")
            .unwrap();
        assert_eq!(long.len(), 2);
        assert_eq!(long[1].currency, "JPY");
        let ecb =
            parse_csv("Date, USD, JPY, BGN, \n20 November 2026, 1.0823, 162.45, N/A, \n").unwrap();
        assert_eq!(ecb, long);
    }

    #[test]
    fn a_bad_cell_names_its_line_and_column() {
        let e =
            parse_csv("date,currency,rate\n2026-11-20,USD,1.08\n2026-11-21,USD,\n").unwrap_err();
        assert!(e.to_string().contains("line 3, column rate"), "{e}");
        let e = parse_csv("Date,USD\nyesterday,1.1\n").unwrap_err();
        assert!(e.to_string().contains("line 2, column date"), "{e}");
        let e = parse_csv("when,USD\n").unwrap_err();
        assert!(e.to_string().contains("`date` column"), "{e}");
    }
}
