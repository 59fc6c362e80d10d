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
    /// Goods to a business in another EU country (intra-community supply): VAT-free here,
    /// the buyer accounts for it; both VAT ids, the delivery date and country are required.
    IntraCommunity,
}

impl TaxCategory {
    pub const ALL: [TaxCategory; 7] = [
        TaxCategory::Standard,
        TaxCategory::Reduced,
        TaxCategory::Zero,
        TaxCategory::Exempt,
        TaxCategory::ReverseCharge,
        TaxCategory::Export,
        TaxCategory::IntraCommunity,
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
            TaxCategory::IntraCommunity => "intra_community",
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
            TaxCategory::IntraCommunity => "K",
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
            TaxCategory::Exempt
                | TaxCategory::ReverseCharge
                | TaxCategory::Export
                | TaxCategory::IntraCommunity
        )
    }
    /// The default exemption reason (text, VATEX code) where the category implies one.
    pub fn default_exemption(&self) -> Option<(&'static str, &'static str)> {
        match self {
            TaxCategory::ReverseCharge => Some(("Reverse charge", "VATEX-EU-AE")),
            TaxCategory::Export => Some(("Export outside the EU", "VATEX-EU-G")),
            TaxCategory::IntraCommunity => Some(("Intra-community supply", "VATEX-EU-IC")),
            _ => None,
        }
    }
}

/// How a customer is taxed. `Auto` decides from where the goods go and whether the buyer has a
/// VAT id; the others are set by hand for the cases rules cannot see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxTreatment {
    Auto,
    Domestic,
    ReverseCharge,
    Export,
}

impl TaxTreatment {
    pub fn parse(s: &str) -> Option<TaxTreatment> {
        match s {
            "auto" => Some(TaxTreatment::Auto),
            "domestic" => Some(TaxTreatment::Domestic),
            "reverse_charge" => Some(TaxTreatment::ReverseCharge),
            "export" => Some(TaxTreatment::Export),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            TaxTreatment::Auto => "auto",
            TaxTreatment::Domestic => "domestic",
            TaxTreatment::ReverseCharge => "reverse_charge",
            TaxTreatment::Export => "export",
        }
    }
}

/// The EU VAT area (ISO 3166-1 alpha-2; Greece is `GR` here, `EL` only in VAT ids).
pub const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

pub fn in_eu(country: &str) -> bool {
    EU.contains(&country)
}

/// The category a line is taxed under, decided here and only here:
/// - exempt and zero-rated products stay so wherever they go;
/// - `Auto`: same country as the seller → the product's category; a business buyer (VAT id) in
///   another EU country → intra-community supply (goods; EN 16931 category K); goods leaving the
///   EU → export; a consumer elsewhere in the EU → the product's category at the destination's
///   rate (distance sales);
/// - `Domestic`, `ReverseCharge`, `Export` force the treatment for taxable products.
pub fn effective_category(
    product: TaxCategory,
    treatment: TaxTreatment,
    seller_country: &str,
    ship_to_country: &str,
    buyer_has_vat_id: bool,
) -> TaxCategory {
    if matches!(product, TaxCategory::Exempt | TaxCategory::Zero) {
        return product;
    }
    match treatment {
        TaxTreatment::Domestic => product,
        TaxTreatment::ReverseCharge => TaxCategory::ReverseCharge,
        TaxTreatment::Export => TaxCategory::Export,
        TaxTreatment::Auto => {
            if ship_to_country == seller_country {
                product
            } else if in_eu(seller_country) && !in_eu(ship_to_country) {
                TaxCategory::Export
            } else if in_eu(seller_country) && in_eu(ship_to_country) && buyer_has_vat_id {
                TaxCategory::IntraCommunity
            } else {
                product
            }
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
    fn the_treatment_follows_the_goods_and_the_buyer() {
        use TaxCategory::*;
        let auto = |p, to, vat| effective_category(p, TaxTreatment::Auto, "DE", to, vat);
        assert_eq!(auto(Standard, "DE", true), Standard);
        assert_eq!(auto(Reduced, "FR", true), IntraCommunity);
        assert_eq!(auto(Reduced, "FR", false), Reduced);
        assert_eq!(auto(Standard, "US", false), Export);
        assert_eq!(auto(Standard, "CH", true), Export);
        assert_eq!(auto(Exempt, "US", false), Exempt);
        assert_eq!(auto(Zero, "FR", true), Zero);
        assert_eq!(
            effective_category(Standard, TaxTreatment::Domestic, "DE", "US", false),
            Standard
        );
        assert_eq!(
            effective_category(Standard, TaxTreatment::ReverseCharge, "DE", "DE", true),
            ReverseCharge
        );
        for c in TaxCategory::ALL {
            assert_eq!(TaxCategory::parse(c.as_str()), Some(c));
            assert_eq!(c.is_untaxed(), c.uncl5305() != "S");
        }
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
