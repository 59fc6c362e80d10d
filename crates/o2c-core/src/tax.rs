//! Tax categories and the tax breakdown of a document.
//!
//! Rounding (EN 16931): line net amounts are exact (quantity × unit price in minor units); tax is
//! computed once per (category, rate) on the category's total net amount and rounded half away
//! from zero. Summing per-line rounded tax would drift by cents on long invoices.

use crate::money::{Money, MoneyError, Percent};
use serde::Serialize;

/// The tax treatment of a line. Each maps to a UNCL5305 code for EN 16931 (`S`, `Z`, `E`,
/// `AE`, `G`); standard and reduced are both `S` and differ only by their rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxCategory {
    Standard,
    Reduced,
    Zero,
    /// Exempt from VAT: the document must say why (an exemption reason).
    Exempt,
    /// The buyer accounts for the VAT (B2B across EU borders, some domestic trades).
    ReverseCharge,
    /// Export outside the tax area: zero rated, the seller's VAT id is required.
    Export,
}

impl TaxCategory {
    pub const ALL: [TaxCategory; 6] = [
        TaxCategory::Standard,
        TaxCategory::Reduced,
        TaxCategory::Zero,
        TaxCategory::Exempt,
        TaxCategory::ReverseCharge,
        TaxCategory::Export,
    ];
    pub fn parse(s: &str) -> Option<TaxCategory> {
        TaxCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            TaxCategory::Standard => "standard",
            TaxCategory::Reduced => "reduced",
            TaxCategory::Zero => "zero",
            TaxCategory::Exempt => "exempt",
            TaxCategory::ReverseCharge => "reverse_charge",
            TaxCategory::Export => "export",
        }
    }
    /// The UNCL5305 code used in EN 16931 documents.
    pub fn uncl5305(&self) -> &'static str {
        match self {
            TaxCategory::Standard | TaxCategory::Reduced => "S",
            TaxCategory::Zero => "Z",
            TaxCategory::Exempt => "E",
            TaxCategory::ReverseCharge => "AE",
            TaxCategory::Export => "G",
        }
    }
    /// Categories that carry no tax: their rate must be 0.
    pub fn is_untaxed(&self) -> bool {
        !matches!(self, TaxCategory::Standard | TaxCategory::Reduced)
    }
    /// Categories for which EN 16931 requires an exemption reason on the document.
    pub fn needs_exemption_reason(&self) -> bool {
        matches!(
            self,
            TaxCategory::Exempt | TaxCategory::ReverseCharge | TaxCategory::Export
        )
    }
    /// The default exemption reason (text, VATEX code) where the category implies one.
    pub fn default_exemption(&self) -> Option<(&'static str, &'static str)> {
        match self {
            TaxCategory::ReverseCharge => Some(("Reverse charge", "VATEX-EU-AE")),
            TaxCategory::Export => Some(("Export outside the EU", "VATEX-EU-G")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxableLine {
    pub category: TaxCategory,
    pub rate: Percent,
    pub net: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxSubtotal {
    pub category: TaxCategory,
    pub rate: Percent,
    pub taxable: Money,
    pub tax: Money,
}

/// Groups lines by (category, rate) and computes the tax of each group on its total.
pub fn tax_breakdown(lines: &[TaxableLine]) -> Result<Vec<TaxSubtotal>, MoneyError> {
    let mut groups: Vec<TaxSubtotal> = Vec::new();
    for line in lines {
        match groups
            .iter_mut()
            .find(|g| g.category == line.category && g.rate == line.rate)
        {
            Some(g) => g.taxable = g.taxable.checked_add(line.net)?,
            None => groups.push(TaxSubtotal {
                category: line.category,
                rate: line.rate,
                taxable: line.net,
                tax: Money::zero(line.net.currency()),
            }),
        }
    }
    for g in &mut groups {
        g.tax = g.rate.of(g.taxable)?;
    }
    groups.sort_by_key(|g| (g.category, g.rate));
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn tax_is_rounded_once_per_category_total_not_per_line() {
        // Three lines of 0.05 at 19%: per line 0.0095 -> 0.01 each (0.03), on the total 0.15 -> 0.0285 -> 0.03.
        // Ten lines of 0.05: per line 0.10 total, on the total 0.50 * 19% = 0.095 -> 0.10; 0.07 shows the difference:
        let line = |net| TaxableLine {
            category: TaxCategory::Standard,
            rate: Percent::from_basis_points(1900),
            net: Money::new(net, Currency::EUR),
        };
        let lines: Vec<_> = (0..7).map(|_| line(3)).collect(); // 7 × 0.03 = 0.21 -> tax 0.0399 -> 0.04
        let b = tax_breakdown(&lines).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].taxable.minor(), 21);
        assert_eq!(b[0].tax.minor(), 4); // per-line rounding would give 7 × 0.01 = 0.07
    }

    #[test]
    fn categories_are_kept_apart() {
        let eur = |m| Money::new(m, Currency::EUR);
        let b = tax_breakdown(&[
            TaxableLine {
                category: TaxCategory::Standard,
                rate: Percent::from_basis_points(1900),
                net: eur(10000),
            },
            TaxableLine {
                category: TaxCategory::Reduced,
                rate: Percent::from_basis_points(700),
                net: eur(10000),
            },
            TaxableLine {
                category: TaxCategory::Standard,
                rate: Percent::from_basis_points(1900),
                net: eur(5000),
            },
        ])
        .unwrap();
        assert_eq!(
            b.iter()
                .map(|g| (g.taxable.minor(), g.tax.minor()))
                .collect::<Vec<_>>(),
            vec![(15000, 2850), (10000, 700)]
        );
    }
}
