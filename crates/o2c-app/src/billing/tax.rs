//! The tax engine's tables: rates by category, country and region with validity dates, and the
//! one lookup every document uses. Which category applies is decided in the core
//! (`o2c_core::tax::effective_category`); which rate applies on a date is decided here.

use crate::context::Ctx;
use crate::error::Result;
use chrono::NaiveDate;
use o2c_core::tax::TaxCategory;
use o2c_core::{DomainError, Percent};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};

/// A rate as resolved for one line: category, rate and, where the category needs it, why no
/// tax is charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedTax {
    pub category: TaxCategory,
    pub rate: Percent,
    pub exemption_reason: Option<String>,
    pub exemption_code: Option<String>,
}

/// The rate for `category` delivered to `country`/`region` on `date`: the most specific row
/// (region, then country, then the `*` default that only untaxed categories have) whose validity
/// covers the date. None is an error naming what is missing.
pub fn resolve(
    conn: &mut dyn Conn,
    category: TaxCategory,
    country: &str,
    region: Option<&str>,
    date: NaiveDate,
) -> Result<ResolvedTax> {
    let region = region.unwrap_or("");
    let row = conn.query_opt(
        "SELECT rate_bp, exemption_reason, exemption_code FROM tax_rate_periods
         WHERE category = $1 AND country IN ($2, '*') AND region IN ($3, '')
           AND valid_from <= $4 AND (valid_to IS NULL OR valid_to >= $4)
         ORDER BY CASE WHEN country = '*' THEN 1 ELSE 0 END, CASE WHEN region = '' THEN 1 ELSE 0 END, valid_from DESC
         LIMIT 1",
        params![category.as_str(), country, region, date.to_string()],
    )?;
    let Some(r) = row else {
        let place = if region.is_empty() {
            country.to_string()
        } else {
            format!("{country} ({region})")
        };
        return Err(DomainError::MissingTaxRate {
            category: category.as_str(),
            place,
            date: date.to_string(),
        }
        .into());
    };
    let (default_reason, default_code) =
        category.default_exemption().map_or((None, None), |(r, c)| {
            (Some(r.to_string()), Some(c.to_string()))
        });
    Ok(ResolvedTax {
        category,
        rate: Percent::from_basis_points(r.int(0)),
        exemption_reason: r.opt_text(1).or(default_reason),
        exemption_code: r.opt_text(2).or(default_code),
    })
}

/// A rate as an administrator sets it (`PUT /api/v1/tax-rates`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaxRateRequest {
    pub category: String,
    /// ISO 3166-1 alpha-2, or `*` for every country (untaxed categories only).
    pub country: String,
    #[serde(default)]
    pub region: Option<String>,
    /// Percent as a decimal string: "19", "7.7", "0".
    pub rate: String,
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: Option<String>,
    #[serde(default)]
    pub exemption_reason: Option<String>,
    #[serde(default)]
    pub exemption_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaxRate {
    pub category: TaxCategory,
    pub country: String,
    pub region: Option<String>,
    pub rate: Percent,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub exemption_reason: Option<String>,
    pub exemption_code: Option<String>,
}

pub fn parse_category(field: &str, s: &str) -> Result<TaxCategory> {
    TaxCategory::parse(s).ok_or_else(|| {
        DomainError::UnknownTaxCategory {
            field: field.to_string(),
            got: s.to_string(),
        }
        .into()
    })
}

/// "19" / "19.5" / "7.75" → basis points.
pub fn parse_percent(field: &str, s: &str) -> Result<Percent> {
    let bad = || {
        DomainError::invalid(
            field,
            "expected a percentage such as 19 or 7.5 (at most two decimals, 0 to 100)",
        )
    };
    let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if int.is_empty()
        || frac.len() > 2
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad().into());
    }
    let bp = int.parse::<i64>().map_err(|_| bad())? * 100
        + format!("{frac:0<2}").parse::<i64>().map_err(|_| bad())?;
    if bp > 10_000 {
        return Err(bad().into());
    }
    Ok(Percent::from_basis_points(bp))
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| DomainError::invalid(field, "expected a date as YYYY-MM-DD").into())
}

/// Sets a rate period (insert or replace the one starting the same day).
pub fn set_rate_in_tx(conn: &mut dyn Conn, _ctx: &Ctx, r: &TaxRateRequest) -> Result<TaxRate> {
    let category = parse_category("category", &r.category)?;
    let country = r.country.trim().to_ascii_uppercase();
    if country != "*" && (country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(DomainError::invalid(
            "country",
            "expected an ISO 3166 two-letter code such as DE, or *",
        )
        .into());
    }
    let rate = parse_percent("rate", &r.rate)?;
    if category.is_untaxed() && rate.basis_points() != 0 {
        return Err(DomainError::invalid(
            "rate",
            format!("{} is untaxed: its rate must be 0", category.as_str()),
        )
        .into());
    }
    if country == "*" && !category.is_untaxed() {
        return Err(DomainError::invalid(
            "country",
            "a taxable category needs a rate per country, not *",
        )
        .into());
    }
    let from = parse_date("valid_from", &r.valid_from)?;
    let to = r
        .valid_to
        .as_deref()
        .map(|d| parse_date("valid_to", d))
        .transpose()?;
    if to.is_some_and(|t| t < from) {
        return Err(DomainError::invalid("valid_to", "must not be before valid_from").into());
    }
    let region = r
        .region
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_ascii_uppercase();
    conn.execute(
        "DELETE FROM tax_rate_periods WHERE category = $1 AND country = $2 AND region = $3 AND valid_from = $4",
        params![category.as_str(), country.as_str(), region.as_str(), from.to_string()],
    )?;
    conn.execute(
        "INSERT INTO tax_rate_periods (category, country, region, valid_from, valid_to, rate_bp, exemption_reason, exemption_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            category.as_str(),
            country.as_str(),
            region.as_str(),
            from.to_string(),
            to.map(|d| d.to_string()),
            rate.basis_points(),
            r.exemption_reason.as_deref(),
            r.exemption_code.as_deref()
        ],
    )?;
    Ok(TaxRate {
        category,
        country,
        region: (!region.is_empty()).then_some(region),
        rate,
        valid_from: from.to_string(),
        valid_to: to.map(|d| d.to_string()),
        exemption_reason: r.exemption_reason.clone(),
        exemption_code: r.exemption_code.clone(),
    })
}

pub fn list(conn: &mut dyn Conn) -> Result<Vec<TaxRate>> {
    Ok(conn
        .query(
            "SELECT category, country, region, rate_bp, valid_from, valid_to, exemption_reason, exemption_code
             FROM tax_rate_periods ORDER BY country, region, category, valid_from",
            &[],
        )?
        .iter()
        .filter_map(|r| {
            Some(TaxRate {
                category: TaxCategory::parse(&r.text(0))?,
                country: r.text(1),
                region: Some(r.text(2)).filter(|s| !s.is_empty()),
                rate: Percent::from_basis_points(r.int(3)),
                valid_from: r.text(4),
                valid_to: r.opt_text(5),
                exemption_reason: r.opt_text(6),
                exemption_code: r.opt_text(7),
            })
        })
        .collect())
}
