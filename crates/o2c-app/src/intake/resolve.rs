//! One model for every channel's orders before they meet the master data ([`Draft`]), and the
//! step that maps a draft to an [`OrderRequest`]: customer from the partner ids or the CSV
//! column, products through the cross-reference, prices checked against the billing rules,
//! the ship-to. Every reason a draft cannot be ordered is collected, not just the first.

use super::edi::Reply;
use super::xref::{self, ItemIndex, ItemKind};
use super::{Channel, IntakeError};
use crate::billing::{self, price};
use crate::customer::{self, Customer};
use crate::error::Result;
use crate::order::{OrderLineRequest, OrderRequest};
use chrono::NaiveDate;
use o2c_core::customer::Address;
use o2c_core::{Currency, Money, Percent};
use o2c_edi::order::{Decimal, Purpose};
use o2c_store::Conn;

/// A document read, before the master data: its orders, and who sent it.
pub(crate) struct Parsed {
    pub channel: Channel,
    pub sender: Option<String>,
    /// Channel, sender and interchange control number, or the file's hash.
    pub dedupe_key: String,
    pub drafts: Vec<Draft>,
    pub warnings: Vec<String>,
    pub reply: Reply,
}

/// One order as a document states it.
pub(crate) struct Draft {
    pub po_number: String,
    /// Where the order is (transaction set, message, first CSV line).
    pub at: String,
    pub purpose: Purpose,
    pub customer: CustomerKey,
    /// The header currency and where it is stated.
    pub currency: Option<(Currency, String)>,
    pub requested_delivery: Option<NaiveDate>,
    pub ship_to: ShipTo,
    pub lines: Vec<DraftLine>,
}

/// How a document names its customer.
pub(crate) enum CustomerKey {
    /// An o2c customer id (CSV).
    Id { id: String, at: String },
    /// Partner ids, most specific first (buyer, bill-to, then the interchange sender).
    Partners(Vec<PartnerRef>),
}

#[derive(Debug, Clone)]
pub(crate) struct PartnerRef {
    pub qualifier: String,
    pub id: String,
    pub at: String,
}

pub(crate) enum ShipTo {
    /// The document names none: the customer's shipping address.
    CustomerDefault,
    Named {
        address: PartialAddress,
        at: String,
    },
}

/// An address as a document gives it: any part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PartialAddress {
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    /// A party id (GLN, the buyer's location code) when the document gives one.
    pub id: Option<String>,
}

impl PartialAddress {
    fn has_street(&self) -> bool {
        !self.lines.is_empty() || self.city.is_some() || self.postal_code.is_some()
    }
}

pub(crate) struct DraftLine {
    pub at: String,
    /// Identifiers in the order they are tried.
    pub ids: Vec<ItemRef>,
    pub quantity: Decimal,
    pub quantity_at: String,
    pub price: Option<DraftPrice>,
    /// A ship-to of the line's own (X12 N1 loops inside PO1, EDIFACT NAD in a LIN group).
    pub ship_to: Option<(PartialAddress, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct ItemRef {
    pub kind: ItemKind,
    pub value: String,
    /// Which element or column of its line holds it: `PO107 (BP)`, `column sku`.
    pub at: String,
}

pub(crate) struct DraftPrice {
    pub amount: Decimal,
    pub currency: Option<Currency>,
    /// The quantity the price is for (EDIFACT PRI 5284); one when absent.
    pub per_quantity: Option<Decimal>,
    pub at: String,
}

/// A draft mapped to an order.
pub(crate) struct Resolved {
    pub draft: usize,
    pub customer_id: String,
    pub request: OrderRequest,
    pub warnings: Vec<String>,
}

/// Maps one draft: `Ok(Err(reasons))` when it cannot be ordered as it stands.
pub(crate) fn resolve(
    conn: &mut dyn Conn,
    index: usize,
    draft: &Draft,
    tolerance: Percent,
) -> Result<std::result::Result<Resolved, Vec<IntakeError>>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let customer = find_customer(conn, draft, &mut errors)?;
    let quantities: Vec<Option<i64>> = draft
        .lines
        .iter()
        .map(|l| whole_quantity(l, &mut errors))
        .collect();
    let items = xref::lookup_items(conn, customer.as_ref().map(|c| c.id.as_str()), draft)?;
    let products: Vec<Option<xref::ProductRef>> = draft
        .lines
        .iter()
        .map(|l| resolve_item(l, &items, customer.as_ref(), &mut errors, &mut warnings))
        .collect();
    let Some(customer) = customer else {
        return Ok(Err(errors));
    };
    if let Some((currency, at)) = &draft.currency
        && *currency != customer.currency
    {
        errors.push(currency_mismatch(at, *currency, &customer));
    }
    if customer.billing_address.is_none() {
        errors.push(IntakeError::new(
            "missing-address",
            &draft.at,
            format!("customer {} has no billing address", customer.id),
        ));
    }
    let ship_to = ship_to(draft, &customer, &mut errors, &mut warnings);
    check_prices(conn, draft, &customer, &products, tolerance, &mut errors)?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let lines = products
        .iter()
        .zip(&quantities)
        .filter_map(|(p, q)| {
            Some(OrderLineRequest {
                sku: p.as_ref()?.sku.clone(),
                quantity: (*q)?,
            })
        })
        .collect();
    Ok(Ok(Resolved {
        draft: index,
        customer_id: customer.id.clone(),
        request: OrderRequest {
            customer_id: customer.id.clone(),
            currency: None,
            customer_reference: Some(draft.po_number.clone()),
            requested_delivery_on: draft.requested_delivery.map(|d| d.to_string()),
            ship_to,
            freight: None,
            lines,
        },
        warnings,
    }))
}

fn find_customer(
    conn: &mut dyn Conn,
    draft: &Draft,
    errors: &mut Vec<IntakeError>,
) -> Result<Option<Customer>> {
    match &draft.customer {
        CustomerKey::Id { id, at } => {
            let found = customer::find(conn, id)?;
            if found.is_none() {
                errors.push(IntakeError::new(
                    "unknown-customer",
                    at,
                    format!("no customer with id `{id}`"),
                ));
            }
            Ok(found)
        }
        CustomerKey::Partners(candidates) => match xref::find_partner(conn, candidates)? {
            Some(id) => customer::find(conn, &id),
            None => {
                let named: Vec<String> = candidates
                    .iter()
                    .map(|p| format!("`{}:{}` ({})", p.qualifier, p.id, p.at))
                    .collect();
                errors.push(IntakeError::new(
                    "unknown-partner",
                    &draft.at,
                    format!(
                        "no customer is known by {}: map one with PUT /api/v1/customers/{{id}}/partners",
                        if named.is_empty() { "any id (the document names none)".to_string() } else { named.join(", ") }
                    ),
                ));
                Ok(None)
            }
        },
    }
}

fn whole_quantity(line: &DraftLine, errors: &mut Vec<IntakeError>) -> Option<i64> {
    match line.quantity.as_integer() {
        Some(q) if q > 0 => Some(q),
        Some(q) => {
            errors.push(IntakeError::new(
                "quantity-not-positive",
                &line.quantity_at,
                format!("quantity {q} must be greater than zero"),
            ));
            None
        }
        None => {
            errors.push(IntakeError::new(
                "quantity-not-whole",
                &line.quantity_at,
                format!("quantity {} is not a whole number of units", line.quantity),
            ));
            None
        }
    }
}

/// The product a line means: the first identifier that names one; two that name different
/// products are a conflict for a person to settle.
fn resolve_item(
    line: &DraftLine,
    items: &ItemIndex,
    customer: Option<&Customer>,
    errors: &mut Vec<IntakeError>,
    warnings: &mut Vec<String>,
) -> Option<xref::ProductRef> {
    let mut found: Option<(&ItemRef, &xref::ProductRef)> = None;
    let mut unmatched = Vec::new();
    for id in &line.ids {
        let Some(product) = items.get(id.kind, &id.value) else {
            unmatched.push(id);
            continue;
        };
        match found {
            None => found = Some((id, product)),
            Some((first, other)) if other.id != product.id => {
                errors.push(IntakeError::new(
                    "conflicting-items",
                    &line.at,
                    format!(
                        "{} `{}` at {} is {}, but {} `{}` at {} is {}",
                        first.kind.describe(),
                        first.value,
                        first.at,
                        other.sku,
                        id.kind.describe(),
                        id.value,
                        id.at,
                        product.sku
                    ),
                ));
                return None;
            }
            Some(_) => {}
        }
    }
    if let Some((id, product)) = found {
        for other in unmatched {
            warnings.push(format!(
                "{}: {} `{}` is not known; {} `{}` is {}",
                line.at,
                other.kind.describe(),
                other.value,
                id.kind.describe(),
                id.value,
                product.sku
            ));
        }
        return Some(product.clone());
    }
    // Without the customer its own item numbers cannot be looked up: the partner error says so.
    if customer.is_none() && line.ids.iter().all(|id| id.kind != ItemKind::Sku) {
        return None;
    }
    let tried: Vec<String> = line
        .ids
        .iter()
        .map(|id| format!("{} `{}` at {}", id.kind.describe(), id.value, id.at))
        .collect();
    let hint = match customer {
        Some(c) => format!(
            ": map the customer's number with PUT /api/v1/customers/{}/items",
            c.id
        ),
        None => String::new(),
    };
    errors.push(IntakeError::new(
        "unknown-item",
        &line.at,
        match tried.is_empty() {
            true => "the line names no item".to_string(),
            false => format!("no product for {}{hint}", tried.join(", ")),
        },
    ));
    None
}

fn currency_mismatch(at: &str, got: Currency, customer: &Customer) -> IntakeError {
    IntakeError::new(
        "currency-mismatch",
        at,
        format!(
            "the order is in {got}, but customer {} is billed in {}",
            customer.id, customer.currency
        ),
    )
}

/// The ship-to address, or `None` for the customer's shipping address.
fn ship_to(
    draft: &Draft,
    customer: &Customer,
    errors: &mut Vec<IntakeError>,
    warnings: &mut Vec<String>,
) -> Option<Address> {
    let default = customer.shipping_address.clone();
    let address = match &draft.ship_to {
        ShipTo::CustomerDefault => {
            if default.is_none() {
                errors.push(IntakeError::new(
                    "missing-ship-to",
                    &draft.at,
                    format!(
                        "the order names no ship-to and customer {} has no shipping address",
                        customer.id
                    ),
                ));
            }
            None
        }
        ShipTo::Named { address, at } if !address.has_street() => {
            match &default {
                Some(_) => warnings.push(format!(
                    "{at}: the ship-to {} has no address in the document; the customer's shipping address is used",
                    address.id.as_deref().map(|i| format!("`{i}`")).unwrap_or_default()
                )),
                None => errors.push(IntakeError::new(
                    "missing-ship-to",
                    at,
                    format!(
                        "the ship-to has no address and customer {} has no shipping address",
                        customer.id
                    ),
                )),
            }
            None
        }
        ShipTo::Named { address, at } => {
            complete_address(address, at, default.as_ref(), errors, warnings)
        }
    };
    for line in &draft.lines {
        let Some((own, at)) = &line.ship_to else {
            continue;
        };
        let header = match &draft.ship_to {
            ShipTo::Named { address, .. } => Some(address),
            ShipTo::CustomerDefault => None,
        };
        let same = header.is_some_and(|h| {
            h.lines == own.lines && h.city == own.city && h.postal_code == own.postal_code
        });
        if own.has_street() && !same {
            errors.push(IntakeError::new(
                "ship-to-per-line",
                at,
                "the line names its own ship-to address; o2c ships an order to one address: split the order",
            ));
        }
    }
    address
}

fn complete_address(
    a: &PartialAddress,
    at: &str,
    default: Option<&Address>,
    errors: &mut Vec<IntakeError>,
    warnings: &mut Vec<String>,
) -> Option<Address> {
    let country = match (&a.country, default) {
        (Some(c), _) => c.clone(),
        // Partners within one country often leave the country out (X12 N404 is optional).
        (None, Some(d)) => {
            warnings.push(format!(
                "{at}: the ship-to names no country; {} (the customer's shipping country) is assumed",
                d.country
            ));
            d.country.clone()
        }
        (None, None) => String::new(),
    };
    let candidate = Address {
        line1: a.lines.first().cloned().unwrap_or_default(),
        line2: (a.lines.len() > 1).then(|| a.lines[1..].join(", ")),
        city: a.city.clone().unwrap_or_default(),
        postal_code: a.postal_code.clone().unwrap_or_default(),
        country,
        region: None,
    };
    match Address::parse(candidate, "ship_to") {
        Ok(address) => Some(address),
        Err(e) => {
            errors.push(IntakeError::new(
                "missing-ship-to",
                at,
                format!("the ship-to address is incomplete: {e}"),
            ));
            None
        }
    }
}

/// Each stated unit price against the price the billing rules give the customer (its own
/// price, its price list, the product's price, less the line discount), within `tolerance`.
/// Compared in minor units: a price with more decimals is rounded once, the o2c way.
fn check_prices(
    conn: &mut dyn Conn,
    draft: &Draft,
    customer: &Customer,
    products: &[Option<xref::ProductRef>],
    tolerance: Percent,
    errors: &mut Vec<IntakeError>,
) -> Result<()> {
    let priced: Vec<(&DraftLine, &xref::ProductRef, &DraftPrice)> = draft
        .lines
        .iter()
        .zip(products)
        .filter_map(|(l, p)| Some((l, p.as_ref()?, l.price.as_ref()?)))
        .collect();
    if priced.is_empty() {
        return Ok(());
    }
    let profile = billing::billing_profile(conn, &customer.id)?;
    let items: Vec<price::Item> = priced
        .iter()
        .map(|(_, p, _)| price::Item {
            product_id: &p.id,
            sku: &p.sku,
            base: p.base,
        })
        .collect();
    let buyer = price::Buyer {
        customer_id: &customer.id,
        currency: customer.currency,
        price_list_id: profile.price_list_id.as_deref(),
    };
    let ours = match price::resolve_all(conn, &buyer, &items) {
        Ok(prices) => prices,
        Err(crate::AppError::Domain(e)) => {
            errors.push(IntakeError::new(e.code(), &draft.at, e.to_string()));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for ((line, product, stated), our) in priced.iter().zip(ours) {
        let currency = stated.currency.unwrap_or(customer.currency);
        if currency != customer.currency {
            errors.push(currency_mismatch(&stated.at, currency, customer));
            continue;
        }
        let net = our
            .unit_price
            .checked_sub(our.discount.of(our.unit_price)?)?;
        if let Some(reason) = price_deviation(stated, net, tolerance) {
            errors.push(IntakeError::new(
                "price-out-of-tolerance",
                &stated.at,
                format!("{} ({}): {reason}", product.sku, line.at),
            ));
        }
    }
    Ok(())
}

/// Why a stated price is out of tolerance, or `None` when it is within.
fn price_deviation(stated: &DraftPrice, ours: Money, tolerance: Percent) -> Option<String> {
    let currency = ours.currency();
    let per = stated.per_quantity.unwrap_or(Decimal::from_integer(1));
    let expected = Decimal::new(ours.minor(), u32::from(currency.exponent()))
        .checked_mul(per)?
        .round_to_minor(currency)
        .ok()?;
    let Ok(given) = stated.amount.round_to_minor(currency) else {
        return Some(format!("unit price {} is out of range", stated.amount));
    };
    let diff = i128::from(given.minor()) - i128::from(expected.minor());
    let limit = i128::from(expected.minor()).abs() * i128::from(tolerance.basis_points());
    if diff.abs() * 10_000 <= limit {
        return None;
    }
    let off = match expected.minor() {
        0 => "above a price of zero".to_string(),
        e => format!(
            "{} % {}",
            Percent::from_basis_points(
                i64::try_from(diff.abs() * 10_000 / i128::from(e).abs()).unwrap_or(i64::MAX)
            )
            .to_decimal_string(),
            if diff > 0 { "above" } else { "below" }
        ),
    };
    Some(format!(
        "unit price {} {currency} is {off} the price o2c bills, {expected} (tolerance {} %)",
        stated.amount,
        tolerance.to_decimal_string()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stated(amount: &str, per: Option<&str>) -> DraftPrice {
        DraftPrice {
            amount: Decimal::parse(amount).unwrap(),
            currency: None,
            per_quantity: per.map(|p| Decimal::parse(p).unwrap()),
            at: String::new(),
        }
    }

    #[test]
    fn a_stated_price_within_the_tolerance_passes_and_one_outside_says_by_how_much() {
        let ours = Money::new(1000, Currency::EUR);
        let two = Percent::from_basis_points(200);
        assert_eq!(price_deviation(&stated("10.20", None), ours, two), None);
        assert_eq!(price_deviation(&stated("9.80", None), ours, two), None);
        assert_eq!(
            price_deviation(&stated("10.21", None), ours, two).unwrap(),
            "unit price 10.21 EUR is 2.10 % above the price o2c bills, 10.00 EUR (tolerance 2.00 %)"
        );
        assert!(
            price_deviation(&stated("0.0325", None), Money::new(3, Currency::EUR), two).is_none(),
            "rounded once to the cent"
        );
        assert_eq!(
            price_deviation(&stated("1000", Some("100")), ours, two),
            None,
            "a price per hundred"
        );
        assert!(
            price_deviation(&stated("1", None), Money::new(0, Currency::EUR), two)
                .unwrap()
                .contains("above a price of zero")
        );
    }
}
