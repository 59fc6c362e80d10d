//! Prices: price lists per currency (net or tax-inclusive), customer-specific prices with an
//! optional line discount, and the one function that prices an order line.
//!
//! Precedence for a customer and a product: the customer's own price, then the customer's price
//! list, then the product's base price, each only in the customer's currency. A price list in
//! another currency than the customer's is refused when it is assigned and when it is used.

use crate::context::Ctx;
use crate::error::{Result, not_found};
use o2c_core::money::round_half_away_from_zero;
use o2c_core::{Currency, DomainError, Money, Percent};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PriceListRequest {
    pub name: String,
    pub currency: String,
    /// Prices include tax (consumer lists); o2c derives the net unit price per line.
    #[serde(default)]
    pub prices_include_tax: bool,
    pub items: Vec<PriceItemRequest>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PriceItemRequest {
    pub sku: String,
    pub unit_price: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceList {
    pub id: String,
    pub name: String,
    pub currency: Currency,
    pub prices_include_tax: bool,
    pub items: Vec<PriceItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceItem {
    pub sku: String,
    pub unit_price: Money,
}

fn product_id(conn: &mut dyn Conn, field: &str, sku: &str) -> Result<String> {
    Ok(conn
        .query_opt("SELECT id FROM products WHERE sku = $1", params![sku])?
        .ok_or_else(|| DomainError::invalid(field, format!("no product with SKU `{sku}`")))?
        .text(0))
}

pub fn create_price_list_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &PriceListRequest,
) -> Result<PriceList> {
    let name = r.name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty").into());
    }
    let currency = Currency::parse(&r.currency).map_err(DomainError::money("currency"))?;
    if conn
        .query_opt("SELECT id FROM price_lists WHERE name = $1", params![name])?
        .is_some()
    {
        return Err(
            DomainError::invalid("name", format!("a price list `{name}` already exists")).into(),
        );
    }
    let id = format!("prl_{}", ctx.ids.next_raw());
    let mut rows = Vec::new();
    for (i, item) in r.items.iter().enumerate() {
        let field = format!("items[{i}].unit_price");
        let price =
            Money::parse(&item.unit_price, currency).map_err(DomainError::money(field.clone()))?;
        if price.is_negative() {
            return Err(DomainError::invalid(field, "must not be negative").into());
        }
        let pid = product_id(conn, &format!("items[{i}].sku"), &item.sku)?;
        rows.push(vec![
            Value::from(id.as_str()),
            Value::from(pid),
            Value::from(price.minor()),
        ]);
    }
    conn.execute(
        "INSERT INTO price_lists (id, name, currency, prices_include_tax, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![id.as_str(), name, currency.code(), i64::from(r.prices_include_tax), ctx.timestamp()],
    )?;
    if !rows.is_empty() {
        conn.insert_rows(
            "price_list_items",
            &["price_list_id", "product_id", "unit_price_minor"],
            &rows,
        )?;
    }
    get_price_list(conn, &id)
}

pub fn get_price_list(conn: &mut dyn Conn, id: &str) -> Result<PriceList> {
    let r = conn
        .query_opt(
            "SELECT id, name, currency, prices_include_tax FROM price_lists WHERE id = $1 OR name = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("price list", id))?;
    let currency = Currency::parse(&r.text(2))?;
    let items = conn
        .query(
            "SELECT p.sku, i.unit_price_minor FROM price_list_items i JOIN products p ON p.id = i.product_id WHERE i.price_list_id = $1 ORDER BY p.sku",
            params![r.text(0).as_str()],
        )?
        .iter()
        .map(|i| PriceItem { sku: i.text(0), unit_price: Money::new(i.int(1), currency) })
        .collect();
    Ok(PriceList {
        id: r.text(0),
        name: r.text(1),
        currency,
        prices_include_tax: r.int(3) != 0,
        items,
    })
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPriceRequest {
    pub sku: String,
    pub unit_price: String,
    /// Line discount in percent on this item ("5").
    #[serde(default)]
    pub discount: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerPrice {
    pub sku: String,
    pub unit_price: Money,
    pub discount: Percent,
}

/// Sets the customer's own price (and line discount) for a product, in the customer's currency.
pub fn set_customer_price_in_tx(
    conn: &mut dyn Conn,
    _ctx: &Ctx,
    customer_id: &str,
    r: &CustomerPriceRequest,
) -> Result<CustomerPrice> {
    let currency = Currency::parse(
        &conn
            .query_opt(
                "SELECT currency FROM customers WHERE id = $1",
                params![customer_id],
            )?
            .ok_or_else(|| not_found("customer", customer_id))?
            .text(0),
    )?;
    let price = Money::parse(&r.unit_price, currency).map_err(DomainError::money("unit_price"))?;
    if price.is_negative() {
        return Err(DomainError::invalid("unit_price", "must not be negative").into());
    }
    let discount = match r.discount.as_deref() {
        Some(d) => super::tax::parse_percent("discount", d)?,
        None => Percent::from_basis_points(0),
    };
    let pid = product_id(conn, "sku", &r.sku)?;
    conn.execute(
        "DELETE FROM customer_prices WHERE customer_id = $1 AND product_id = $2",
        params![customer_id, pid.as_str()],
    )?;
    conn.execute(
        "INSERT INTO customer_prices (customer_id, product_id, currency, unit_price_minor, discount_bp) VALUES ($1, $2, $3, $4, $5)",
        params![customer_id, pid.as_str(), currency.code(), price.minor(), discount.basis_points()],
    )?;
    Ok(CustomerPrice {
        sku: r.sku.clone(),
        unit_price: price,
        discount,
    })
}

/// What a line costs before tax is worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePrice {
    /// The price as found (net, or gross when `includes_tax`).
    pub unit_price: Money,
    pub includes_tax: bool,
    pub discount: Percent,
}

impl LinePrice {
    /// The net unit price for a tax rate: a tax-inclusive price is divided by (1 + rate) and
    /// rounded half away from zero to the minor unit, per unit, so that every later document
    /// (partial shipments, credit notes) computes the same net from the same quantity.
    pub fn net_unit(&self, rate: Percent) -> Result<Money> {
        if !self.includes_tax {
            return Ok(self.unit_price);
        }
        let minor = round_half_away_from_zero(
            i128::from(self.unit_price.minor()) * 10_000,
            10_000 + i128::from(rate.basis_points()),
        )?;
        Ok(Money::new(minor, self.unit_price.currency()))
    }
}

/// The line net amount EN 16931 prints: quantity × net unit price, less the line discount
/// (rounded once, on the line).
pub fn line_net(net_unit: Money, quantity: i64, discount: Percent) -> Result<(Money, Money)> {
    let gross = net_unit.checked_mul(quantity)?;
    let off = discount.of(gross)?;
    Ok((gross.checked_sub(off)?, off))
}

/// Who is buying, for pricing.
pub struct Buyer<'a> {
    pub customer_id: &'a str,
    pub currency: Currency,
    pub price_list_id: Option<&'a str>,
}

/// A product to price: its id, SKU and own (base) price.
pub struct Item<'a> {
    pub product_id: &'a str,
    pub sku: &'a str,
    pub base: Money,
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prices every line of an order for a buyer with two queries, whatever the number of lines:
/// the customer's own prices, then its price list (its currency checked), then the product's
/// base price, each only in the buyer's currency. `items[i]` is line `i + 1`.
pub fn resolve_all(conn: &mut dyn Conn, buyer: &Buyer, items: &[Item]) -> Result<Vec<LinePrice>> {
    let ids: Vec<Value> = items.iter().map(|i| Value::from(i.product_id)).collect();
    let mut args = vec![
        Value::from(buyer.customer_id),
        Value::from(buyer.currency.code()),
    ];
    args.extend(ids.iter().cloned());
    let own: HashMap<String, (i64, i64)> = conn
        .query(
            &format!(
                "SELECT product_id, unit_price_minor, discount_bp FROM customer_prices WHERE customer_id = $1 AND currency = $2 AND product_id IN ({})",
                placeholders(3, ids.len())
            ),
            &args,
        )?
        .iter()
        .map(|r| (r.text(0), (r.int(1), r.int(2))))
        .collect();
    let mut listed: HashMap<String, i64> = HashMap::new();
    let mut list_includes_tax = false;
    if let Some(pl) = buyer.price_list_id {
        let head = conn.query_one(
            "SELECT currency, prices_include_tax, name FROM price_lists WHERE id = $1",
            params![pl],
        )?;
        if head.text(0) != buyer.currency.code() {
            return Err(DomainError::PriceListCurrency {
                price_list: head.text(2),
                purpose: format!("an order in {}", buyer.currency),
                expected: buyer.currency,
                got: Currency::parse(&head.text(0))?,
            }
            .into());
        }
        list_includes_tax = head.int(1) != 0;
        let mut args = vec![Value::from(pl)];
        args.extend(ids);
        listed = conn
            .query(
                &format!(
                    "SELECT product_id, unit_price_minor FROM price_list_items WHERE price_list_id = $1 AND product_id IN ({})",
                    placeholders(2, items.len())
                ),
                &args,
            )?
            .iter()
            .map(|r| (r.text(0), r.int(1)))
            .collect();
    }
    let none = Percent::from_basis_points(0);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if let Some((price, discount)) = own.get(item.product_id) {
                return Ok(LinePrice {
                    unit_price: Money::new(*price, buyer.currency),
                    includes_tax: false,
                    discount: Percent::from_basis_points(*discount),
                });
            }
            if let Some(price) = listed.get(item.product_id) {
                return Ok(LinePrice {
                    unit_price: Money::new(*price, buyer.currency),
                    includes_tax: list_includes_tax,
                    discount: none,
                });
            }
            if item.base.currency() == buyer.currency {
                return Ok(LinePrice {
                    unit_price: item.base,
                    includes_tax: false,
                    discount: none,
                });
            }
            Err(DomainError::NoPrice {
                line: i + 1,
                sku: item.sku.to_string(),
                currency: buyer.currency,
            }
            .into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_inclusive_prices_become_net_per_unit() {
        let p = LinePrice {
            unit_price: Money::new(1190, Currency::EUR),
            includes_tax: true,
            discount: Percent::from_basis_points(0),
        };
        assert_eq!(
            p.net_unit(Percent::from_basis_points(1900))
                .unwrap()
                .minor(),
            1000
        );
        // 9.99 incl. 19% → 8.3949… → 8.39
        let p = LinePrice {
            unit_price: Money::new(999, Currency::EUR),
            ..p
        };
        assert_eq!(
            p.net_unit(Percent::from_basis_points(1900))
                .unwrap()
                .minor(),
            839
        );
        let (net, off) = line_net(
            Money::new(839, Currency::EUR),
            3,
            Percent::from_basis_points(1000),
        )
        .unwrap();
        assert_eq!((net.minor(), off.minor()), (2265, 252));
    }
}
