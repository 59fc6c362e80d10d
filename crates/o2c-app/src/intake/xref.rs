//! What customers call things: the partner ids they send EDI under (an interchange sender, a
//! buyer's DUNS or GLN) and their own item numbers and GTINs for o2c's products. Every intake
//! channel reads them; `PUT /customers/{id}/partners` and `…/items` maintain them.

use super::resolve::{Draft, PartnerRef};
use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Value, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnersRequest {
    pub partners: Vec<Partner>,
}

/// An id a customer sends documents under.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// ISA05 / UNB S002 0007 / N103 / NAD 3055 (`ZZ`, `01` DUNS, `14` GLN, `9` GS1…); empty
    /// or absent: any qualifier.
    #[serde(default)]
    pub qualifier: String,
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsRequest {
    pub items: Vec<CustomerItem>,
}

/// One cross-reference: the customer's item number or a GTIN, and the o2c SKU it means.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    pub sku: String,
}

/// What an item identifier in a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ItemKind {
    /// o2c's SKU (X12 vendor item `VP`/`VN`, EDIFACT `SA`, the CSV `sku` column).
    Sku,
    /// The customer's own item number (X12 `BP`/`IN`/`PI`, EDIFACT `IN`/`BP`).
    CustomerItem,
    Gtin,
}

impl ItemKind {
    fn stored(self) -> &'static str {
        match self {
            ItemKind::Sku => "sku",
            ItemKind::CustomerItem => "item",
            ItemKind::Gtin => "gtin",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            ItemKind::Sku => "SKU",
            ItemKind::CustomerItem => "customer item",
            ItemKind::Gtin => "GTIN",
        }
    }
}

fn customer_exists(conn: &mut dyn Conn, customer_id: &str) -> Result<()> {
    conn.query_opt(
        "SELECT 1 FROM customers WHERE id = $1",
        params![customer_id],
    )?
    .map(drop)
    .ok_or_else(|| not_found("customer", customer_id))
}

/// Replaces the customer's partner ids. An id another customer holds is refused.
pub fn set_partners_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    r: &PartnersRequest,
) -> Result<Vec<Partner>> {
    customer_exists(conn, customer_id)?;
    let mut clean: Vec<Partner> = Vec::new();
    for (i, p) in r.partners.iter().enumerate() {
        let p = Partner {
            qualifier: p.qualifier.trim().to_string(),
            id: p.id.trim().to_string(),
        };
        if p.id.is_empty() || p.id.len() > 80 || p.qualifier.len() > 8 {
            return Err(DomainError::invalid(
                format!("partners[{i}]"),
                "expected an id of 1 to 80 characters and a qualifier of at most 8",
            )
            .into());
        }
        if !clean.contains(&p) {
            clean.push(p);
        }
    }
    conn.execute(
        "DELETE FROM customer_partners WHERE customer_id = $1",
        params![customer_id],
    )?;
    for (i, p) in clean.iter().enumerate() {
        if let Some(other) = conn.query_opt(
            "SELECT customer_id FROM customer_partners WHERE qualifier = $1 AND partner_id = $2",
            params![p.qualifier.as_str(), p.id.as_str()],
        )? {
            return Err(DomainError::invalid(
                format!("partners[{i}]"),
                format!(
                    "`{}:{}` already belongs to customer {}",
                    p.qualifier,
                    p.id,
                    other.text(0)
                ),
            )
            .into());
        }
        conn.execute(
            "INSERT INTO customer_partners (qualifier, partner_id, customer_id, created_at) VALUES ($1, $2, $3, $4)",
            params![p.qualifier.as_str(), p.id.as_str(), customer_id, ctx.timestamp()],
        )?;
    }
    emit(
        conn,
        ctx,
        customer_id,
        EventType::CustomerPartnersChanged,
        &clean,
    )?;
    Ok(clean)
}

pub fn partners(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<Partner>> {
    customer_exists(conn, customer_id)?;
    Ok(conn
        .query(
            "SELECT qualifier, partner_id FROM customer_partners WHERE customer_id = $1 ORDER BY qualifier, partner_id",
            params![customer_id],
        )?
        .iter()
        .map(|r| Partner {
            qualifier: r.text(0),
            id: r.text(1),
        })
        .collect())
}

/// Replaces the customer's item cross-reference.
pub fn set_items_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    r: &ItemsRequest,
) -> Result<Vec<CustomerItem>> {
    customer_exists(conn, customer_id)?;
    let products = product_ids(conn, r.items.iter().map(|i| i.sku.trim()))?;
    let mut rows: Vec<Vec<Value>> = Vec::new();
    let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
    for (i, item) in r.items.iter().enumerate() {
        let field = |f: &str| format!("items[{i}].{f}");
        let (kind, number) = match (non_empty(&item.customer_item), non_empty(&item.gtin)) {
            (Some(n), None) => (ItemKind::CustomerItem, n),
            (None, Some(g)) if is_gtin(&g) => (ItemKind::Gtin, g),
            (None, Some(_)) => {
                return Err(
                    DomainError::invalid(field("gtin"), "expected 8, 12, 13 or 14 digits").into(),
                );
            }
            _ => {
                return Err(DomainError::invalid(
                    format!("items[{i}]"),
                    "give either customer_item or gtin",
                )
                .into());
            }
        };
        if let Some(first) = seen.insert((kind.stored(), number.clone()), i) {
            return Err(DomainError::invalid(
                format!("items[{i}]"),
                format!("`{number}` is already mapped by items[{first}]"),
            )
            .into());
        }
        let product = products.get(item.sku.trim()).ok_or_else(|| {
            DomainError::invalid(field("sku"), format!("no product with SKU `{}`", item.sku))
        })?;
        rows.push(vec![
            Value::from(customer_id),
            Value::from(kind.stored()),
            Value::from(number),
            Value::from(product.as_str()),
            Value::from(ctx.timestamp()),
        ]);
    }
    conn.execute(
        "DELETE FROM customer_items WHERE customer_id = $1",
        params![customer_id],
    )?;
    conn.insert_rows(
        "customer_items",
        &[
            "customer_id",
            "kind",
            "item_number",
            "product_id",
            "created_at",
        ],
        &rows,
    )?;
    let stored = items(conn, customer_id)?;
    emit(
        conn,
        ctx,
        customer_id,
        EventType::CustomerItemsChanged,
        serde_json::json!({"items": stored.len()}),
    )?;
    Ok(stored)
}

pub fn items(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<CustomerItem>> {
    customer_exists(conn, customer_id)?;
    Ok(conn
        .query(
            "SELECT ci.kind, ci.item_number, p.sku FROM customer_items ci JOIN products p ON p.id = ci.product_id
             WHERE ci.customer_id = $1 ORDER BY ci.kind DESC, ci.item_number",
            params![customer_id],
        )?
        .iter()
        .map(|r| {
            let number = Some(r.text(1));
            let gtin = r.text(0) == "gtin";
            CustomerItem {
                customer_item: if gtin { None } else { number.clone() },
                gtin: if gtin { number } else { None },
                sku: r.text(2),
            }
        })
        .collect())
}

/// Product ids by SKU, a few hundred SKUs a query.
fn product_ids<'a>(
    conn: &mut dyn Conn,
    skus: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>> {
    let skus: Vec<Value> = skus.map(Value::from).collect();
    let mut found = HashMap::new();
    for chunk in skus.chunks(500) {
        let rows = conn.query(
            &format!(
                "SELECT sku, id FROM products WHERE sku IN ({})",
                placeholders(1, chunk.len())
            ),
            chunk,
        )?;
        found.extend(rows.iter().map(|r| (r.text(0), r.text(1))));
    }
    Ok(found)
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn is_gtin(s: &str) -> bool {
    [8, 12, 13, 14].contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn emit<D: Serialize>(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    kind: EventType,
    data: D,
) -> Result<()> {
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: "customer",
            aggregate_id: customer_id,
            order_id: None,
            customer_id: Some(customer_id),
            data,
        },
    )
}

/// The customer a document's partner ids name: the first candidate that is mapped, an exact
/// qualifier before a mapping made for any qualifier.
pub(crate) fn find_partner(
    conn: &mut dyn Conn,
    candidates: &[PartnerRef],
) -> Result<Option<String>> {
    if candidates.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Value> = candidates
        .iter()
        .map(|p| Value::from(p.id.as_str()))
        .collect();
    let rows = conn.query(
        &format!(
            "SELECT qualifier, partner_id, customer_id FROM customer_partners WHERE partner_id IN ({})",
            placeholders(1, ids.len())
        ),
        &ids,
    )?;
    for candidate in candidates {
        let mapped = |exact: bool| {
            rows.iter().find(|r| {
                r.text(1) == candidate.id
                    && if exact {
                        r.text(0) == candidate.qualifier
                    } else {
                        r.text(0).is_empty()
                    }
            })
        };
        if let Some(r) = mapped(true).or_else(|| mapped(false)) {
            return Ok(Some(r.text(2)));
        }
    }
    Ok(None)
}

/// A product as a line needs it.
#[derive(Debug, Clone)]
pub(crate) struct ProductRef {
    pub id: String,
    pub sku: String,
    pub base: Money,
}

/// The products a draft's identifiers name, loaded with two queries.
pub(crate) struct ItemIndex {
    by_key: HashMap<(ItemKind, String), ProductRef>,
}

impl ItemIndex {
    pub fn get(&self, kind: ItemKind, value: &str) -> Option<&ProductRef> {
        self.by_key.get(&(kind, value.to_string()))
    }
}

fn product_ref(r: &o2c_store::Row, from: usize) -> Result<ProductRef> {
    Ok(ProductRef {
        id: r.text(from),
        sku: r.text(from + 1),
        base: Money::new(r.int(from + 2), Currency::parse(&r.text(from + 3))?),
    })
}

pub(crate) fn lookup_items(
    conn: &mut dyn Conn,
    customer_id: Option<&str>,
    draft: &Draft,
) -> Result<ItemIndex> {
    let mut by_key = HashMap::new();
    let ids = draft.lines.iter().flat_map(|l| &l.ids);
    let skus: Vec<Value> = ids
        .clone()
        .filter(|i| i.kind == ItemKind::Sku)
        .map(|i| Value::from(i.value.as_str()))
        .collect();
    if !skus.is_empty() {
        let rows = conn.query(
            &format!(
                "SELECT id, sku, unit_price_minor, currency FROM products WHERE sku IN ({})",
                placeholders(1, skus.len())
            ),
            &skus,
        )?;
        for r in &rows {
            by_key.insert((ItemKind::Sku, r.text(1)), product_ref(r, 0)?);
        }
    }
    let numbers: Vec<Value> = ids
        .filter(|i| i.kind != ItemKind::Sku)
        .map(|i| Value::from(i.value.as_str()))
        .collect();
    if let (Some(customer), false) = (customer_id, numbers.is_empty()) {
        let mut args = vec![Value::from(customer)];
        args.extend(numbers.iter().cloned());
        let rows = conn.query(
            &format!(
                "SELECT ci.kind, ci.item_number, p.id, p.sku, p.unit_price_minor, p.currency
                 FROM customer_items ci JOIN products p ON p.id = ci.product_id
                 WHERE ci.customer_id = $1 AND ci.item_number IN ({})",
                placeholders(2, numbers.len())
            ),
            &args,
        )?;
        for r in &rows {
            let kind = match r.text(0).as_str() {
                "gtin" => ItemKind::Gtin,
                _ => ItemKind::CustomerItem,
            };
            by_key.insert((kind, r.text(1)), product_ref(r, 2)?);
        }
    }
    Ok(ItemIndex { by_key })
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
