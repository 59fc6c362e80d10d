//! CSV order files: one row per order line, rows grouped into orders by customer and PO number
//! in the order they first appear.
//!
//! The header row names the columns, in any order and case (`po_number`, `PO Number`):
//!
//! | column | required | holds |
//! |---|---|---|
//! | `po_number` (`po`, `customer_reference`) | yes | the customer's PO number |
//! | `customer_id` (`customer`) | yes | the o2c customer id (`cus_…`) |
//! | `sku`, `customer_item`, `gtin` | one of them per row | o2c's SKU, the customer's item number, a GTIN |
//! | `quantity` (`qty`) | yes | a whole number above zero |
//! | `unit_price` (`price`) | no | the price the customer expects, in its currency; checked against the billing rules |
//! | `requested_delivery` (`delivery_date`) | no | `YYYY-MM-DD`, the same on every row of an order |
//! | `ship_to_line1`, `ship_to_line2`, `ship_to_city`, `ship_to_postal_code`, `ship_to_country` | no | a ship-to other than the customer's shipping address, the same on every row of an order |
//!
//! A malformed file (an unknown or missing column, a cell that is not what its column holds,
//! rows of one order that disagree) is refused whole, naming every line and column at fault:
//! nothing of it is ordered. Unknown customers and items are not malformed: the file waits in
//! the exceptions queue until the master data knows them.

use super::documents::sha256_hex;
use super::edi::Reply;
use super::resolve::{
    CustomerKey, Draft, DraftLine, DraftPrice, ItemRef, Parsed, PartialAddress, ShipTo,
};
use super::xref::ItemKind;
use super::{Channel, IntakeError};
use chrono::NaiveDate;
use o2c_edi::order::{Decimal, Purpose};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    PoNumber,
    CustomerId,
    Sku,
    CustomerItem,
    Gtin,
    Quantity,
    UnitPrice,
    RequestedDelivery,
    ShipToLine1,
    ShipToLine2,
    ShipToCity,
    ShipToPostalCode,
    ShipToCountry,
}

/// Each column: its canonical name and the other names it is known by.
const COLUMNS: [(Column, &str, &[&str]); 13] = [
    (
        Column::PoNumber,
        "po_number",
        &["po", "purchase_order", "customer_reference"],
    ),
    (Column::CustomerId, "customer_id", &["customer"]),
    (Column::Sku, "sku", &["vendor_item"]),
    (
        Column::CustomerItem,
        "customer_item",
        &["buyer_item", "customer_item_number"],
    ),
    (Column::Gtin, "gtin", &["ean", "upc"]),
    (Column::Quantity, "quantity", &["qty"]),
    (Column::UnitPrice, "unit_price", &["price"]),
    (
        Column::RequestedDelivery,
        "requested_delivery",
        &["requested_delivery_on", "delivery_date"],
    ),
    (Column::ShipToLine1, "ship_to_line1", &[]),
    (Column::ShipToLine2, "ship_to_line2", &[]),
    (Column::ShipToCity, "ship_to_city", &[]),
    (Column::ShipToPostalCode, "ship_to_postal_code", &[]),
    (Column::ShipToCountry, "ship_to_country", &[]),
];

/// More reasons than this are cut short: the file is refused either way.
const MAX_ERRORS: usize = 100;

fn name(column: Column) -> &'static str {
    COLUMNS
        .iter()
        .find(|(c, _, _)| *c == column)
        .map_or("?", |(_, n, _)| n)
}

fn malformed(at: impl Into<String>, message: impl Into<String>) -> IntakeError {
    IntakeError::new("malformed-order-document", at, message)
}

/// Column positions from the header row.
struct Layout {
    positions: HashMap<Column, usize>,
    width: usize,
}

impl Layout {
    fn from_header(fields: &[String]) -> std::result::Result<Layout, Vec<IntakeError>> {
        let mut positions = HashMap::new();
        let mut errors = Vec::new();
        for (i, raw) in fields.iter().enumerate() {
            let key = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
            if key.is_empty() {
                continue;
            }
            let found = COLUMNS
                .iter()
                .find(|(_, n, aliases)| *n == key || aliases.contains(&key.as_str()));
            match found {
                Some((c, n, _)) if positions.insert(*c, i).is_some() => {
                    errors.push(malformed(
                        format!("line 1, column {}", i + 1),
                        format!("`{raw}` names the {n} column a second time"),
                    ));
                }
                Some(_) => {}
                None => {
                    let known: Vec<&str> = COLUMNS.iter().map(|(_, n, _)| *n).collect();
                    errors.push(malformed(
                        format!("line 1, column {}", i + 1),
                        format!("unknown column `{raw}` (known: {})", known.join(", ")),
                    ));
                }
            }
        }
        for required in [Column::PoNumber, Column::CustomerId, Column::Quantity] {
            if !positions.contains_key(&required) {
                errors.push(malformed(
                    "line 1",
                    format!("the header row has no {} column", name(required)),
                ));
            }
        }
        if ![Column::Sku, Column::CustomerItem, Column::Gtin]
            .iter()
            .any(|c| positions.contains_key(c))
        {
            errors.push(malformed(
                "line 1",
                "the header row has none of the item columns sku, customer_item, gtin",
            ));
        }
        match errors.is_empty() {
            true => Ok(Layout {
                positions,
                width: fields.len(),
            }),
            false => Err(errors),
        }
    }
}

/// One row, read.
struct Row {
    line: usize,
    po_number: String,
    customer_id: String,
    ids: Vec<ItemRef>,
    quantity: i64,
    price: Option<Decimal>,
    delivery: Option<NaiveDate>,
    ship_to: Option<PartialAddress>,
}

struct Cells<'a> {
    layout: &'a Layout,
    fields: &'a [String],
    line: usize,
    errors: &'a mut Vec<IntakeError>,
}

impl Cells<'_> {
    fn at(&self, column: Column) -> String {
        format!("line {}, column {}", self.line, name(column))
    }
    fn get(&self, column: Column) -> Option<String> {
        let i = *self.layout.positions.get(&column)?;
        self.fields
            .get(i)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
    fn required(&mut self, column: Column) -> String {
        let value = self.get(column);
        if value.is_none() {
            let at = self.at(column);
            self.errors.push(malformed(at, "required but empty"));
        }
        value.unwrap_or_default()
    }
    fn bad(&mut self, column: Column, message: String) {
        let at = self.at(column);
        self.errors.push(malformed(at, message));
    }
}

fn read_row(layout: &Layout, line: usize, fields: &[String], errors: &mut Vec<IntakeError>) -> Row {
    let extra = fields
        .iter()
        .skip(layout.width)
        .filter(|f| !f.trim().is_empty())
        .count();
    if extra > 0 {
        errors.push(malformed(
            format!("line {line}"),
            format!(
                "{} fields, but the header row has {}",
                layout.width + extra,
                layout.width
            ),
        ));
    }
    let mut c = Cells {
        layout,
        fields,
        line,
        errors,
    };
    let po_number = c.required(Column::PoNumber);
    let customer_id = c.required(Column::CustomerId);
    let ids: Vec<ItemRef> = [
        (Column::Sku, ItemKind::Sku),
        (Column::CustomerItem, ItemKind::CustomerItem),
        (Column::Gtin, ItemKind::Gtin),
    ]
    .into_iter()
    .filter_map(|(column, kind)| {
        Some(ItemRef {
            kind,
            value: c.get(column)?,
            at: format!("column {}", name(column)),
        })
    })
    .collect();
    if ids.is_empty() {
        c.errors.push(malformed(
            format!("line {line}"),
            "no item: fill sku, customer_item or gtin",
        ));
    }
    let raw = c.required(Column::Quantity);
    let quantity = match raw.parse::<i64>() {
        Ok(q) if q > 0 => q,
        _ if raw.is_empty() => 0,
        _ => {
            c.bad(
                Column::Quantity,
                format!("`{raw}` is not a whole number above zero"),
            );
            0
        }
    };
    let price = c
        .get(Column::UnitPrice)
        .and_then(|raw| match Decimal::parse(&raw) {
            Some(p) if !p.is_negative() => Some(p),
            _ => {
                c.bad(
                    Column::UnitPrice,
                    format!("`{raw}` is not a price (a decimal number such as 12.50)"),
                );
                None
            }
        });
    let delivery =
        c.get(Column::RequestedDelivery).and_then(|raw| {
            match NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    c.bad(
                        Column::RequestedDelivery,
                        format!("`{raw}` is not a date as YYYY-MM-DD"),
                    );
                    None
                }
            }
        });
    let ship_to = read_ship_to(&mut c);
    Row {
        line,
        po_number,
        customer_id,
        ids,
        quantity,
        price,
        delivery,
        ship_to,
    }
}

fn read_ship_to(c: &mut Cells) -> Option<PartialAddress> {
    use Column::*;
    let parts = [
        ShipToLine1,
        ShipToLine2,
        ShipToCity,
        ShipToPostalCode,
        ShipToCountry,
    ];
    if parts.iter().all(|p| c.get(*p).is_none()) {
        return None;
    }
    let line1 = c.required(ShipToLine1);
    let city = c.required(ShipToCity);
    let postal_code = c.required(ShipToPostalCode);
    let country = c.required(ShipToCountry).to_ascii_uppercase();
    if !country.is_empty()
        && (country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        c.bad(
            ShipToCountry,
            format!("`{country}` is not an ISO 3166 two-letter code such as DE"),
        );
    }
    Some(PartialAddress {
        lines: std::iter::once(line1).chain(c.get(ShipToLine2)).collect(),
        city: Some(city),
        postal_code: Some(postal_code),
        country: Some(country),
        id: None,
    })
}

/// Reads an order file: every order, or every reason it is malformed.
pub(crate) fn read(bytes: &[u8]) -> std::result::Result<Parsed, Vec<IntakeError>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        vec![malformed(
            format!("byte {}", e.valid_up_to()),
            "the file is not UTF-8 text",
        )]
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = o2c_edi::csv::parse(text, o2c_edi::csv::detect_separator(text))
        .map_err(|e| vec![malformed("", e.to_string())])?;
    let mut records = records.into_iter();
    let header = records.next().ok_or_else(|| {
        vec![malformed(
            "line 1",
            "the file is empty: expected a header row",
        )]
    })?;
    let layout = Layout::from_header(&header.fields)?;
    let mut errors = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut by_key: HashMap<(String, String), (usize, Row)> = HashMap::new();
    for record in records {
        let row = read_row(&layout, record.line, &record.fields, &mut errors);
        if errors.len() >= MAX_ERRORS {
            errors.push(malformed(
                "",
                format!("more than {MAX_ERRORS} problems: stopped reading"),
            ));
            break;
        }
        add_row(row, &mut drafts, &mut by_key, &mut errors);
    }
    if drafts.is_empty() && errors.is_empty() {
        errors.push(malformed(
            "line 2",
            "the file has a header row but no orders",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed {
        channel: Channel::Csv,
        sender: None,
        dedupe_key: format!("csv|{}", sha256_hex(bytes)),
        drafts,
        warnings: Vec::new(),
        reply: Reply::None,
    })
}

/// Adds a row to its order (a new one for a new customer and PO); the order-level cells must
/// agree with the order's first row.
fn add_row(
    row: Row,
    drafts: &mut Vec<Draft>,
    by_key: &mut HashMap<(String, String), (usize, Row)>,
    errors: &mut Vec<IntakeError>,
) {
    let line = DraftLine {
        at: format!("line {}", row.line),
        ids: row.ids.clone(),
        quantity: Decimal::from_integer(row.quantity),
        quantity_at: format!("line {}, column quantity", row.line),
        price: row.price.map(|amount| DraftPrice {
            amount,
            currency: None,
            per_quantity: None,
            at: format!("line {}, column unit_price", row.line),
        }),
        ship_to: None,
    };
    let key = (row.customer_id.clone(), row.po_number.clone());
    if let Some((index, first)) = by_key.get(&key) {
        let differs = |column: Column, same: bool| {
            (!same).then(|| {
                malformed(
                    format!("line {}, column {}", row.line, name(column)),
                    format!(
                        "differs from line {} of the same order (PO `{}`)",
                        first.line, row.po_number
                    ),
                )
            })
        };
        errors.extend(differs(
            Column::RequestedDelivery,
            first.delivery == row.delivery,
        ));
        errors.extend(differs(Column::ShipToLine1, first.ship_to == row.ship_to));
        drafts[*index].lines.push(line);
        return;
    }
    drafts.push(Draft {
        po_number: row.po_number.clone(),
        at: format!("line {} (PO `{}`)", row.line, row.po_number),
        purpose: Purpose::Original,
        customer: CustomerKey::Id {
            id: row.customer_id.clone(),
            at: format!("line {}, column customer_id", row.line),
        },
        currency: None,
        requested_delivery: row.delivery,
        ship_to: match &row.ship_to {
            Some(address) => ShipTo::Named {
                address: address.clone(),
                at: format!("line {}, columns ship_to_*", row.line),
            },
            None => ShipTo::CustomerDefault,
        },
        lines: vec![line],
    });
    by_key.insert(key, (drafts.len() - 1, row));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match read(text.as_bytes()) {
            Ok(_) => panic!("{text} was read"),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn rows_become_orders_by_customer_and_po_in_first_seen_order() {
        let parsed = read(
            "\u{feff}PO;Customer;Qty;SKU;GTIN\nP-2;cus_b;1;A;\nP-1;cus_a;2;;4006381333931\nP-2;cus_b;3;B;\nP-2;cus_a;1;A;\n"
                .as_bytes(),
        )
        .unwrap();
        let orders: Vec<(String, usize)> = parsed
            .drafts
            .iter()
            .map(|d| (d.po_number.clone(), d.lines.len()))
            .collect();
        assert_eq!(
            orders,
            [("P-2".into(), 2), ("P-1".into(), 1), ("P-2".into(), 1)]
        );
        let line = &parsed.drafts[1].lines[0];
        assert_eq!(
            (line.ids[0].kind, line.at.as_str()),
            (ItemKind::Gtin, "line 3")
        );
        assert!(parsed.dedupe_key.starts_with("csv|"));
    }

    #[test]
    fn every_malformed_cell_is_named_by_line_and_column() {
        let found = errors(
            "po_number,customer_id,sku,quantity,unit_price,requested_delivery\n\
             P-1,cus_a,A,0,1.00,2026-12-01\n\
             P-1,cus_a,A,1,1.2.3,2026-12-02\n\
             ,cus_a,A,1,,\n",
        );
        assert_eq!(
            found,
            [
                "line 2, column quantity: `0` is not a whole number above zero [malformed-order-document]",
                "line 3, column unit_price: `1.2.3` is not a price (a decimal number such as 12.50) [malformed-order-document]",
                "line 3, column requested_delivery: differs from line 2 of the same order (PO `P-1`) [malformed-order-document]",
                "line 4, column po_number: required but empty [malformed-order-document]",
            ]
        );
    }

    #[test]
    fn a_header_without_the_needed_columns_or_with_unknown_ones_is_refused() {
        let found = errors("po_number;qty;colour\nP-1;1;red\n");
        assert_eq!(
            found[0],
            "line 1, column 3: unknown column `colour` (known: po_number, customer_id, sku, customer_item, gtin, quantity, unit_price, requested_delivery, ship_to_line1, ship_to_line2, ship_to_city, ship_to_postal_code, ship_to_country) [malformed-order-document]"
        );
        assert!(found[1].contains("no customer_id column"), "{found:?}");
        assert!(found[2].contains("none of the item columns"), "{found:?}");
        assert_eq!(
            errors("")[0],
            "line 1: the file is empty: expected a header row [malformed-order-document]"
        );
    }

    #[test]
    fn a_partial_ship_to_is_malformed_and_a_whole_one_is_the_orders() {
        let found =
            errors("po_number,customer_id,sku,quantity,ship_to_city\nP-1,cus_a,A,1,Berlin\n");
        assert!(
            found
                .iter()
                .any(|e| e.starts_with("line 2, column ship_to_line1: required")),
            "{found:?}"
        );
        let parsed = read(
            b"po_number,customer_id,sku,quantity,ship_to_line1,ship_to_city,ship_to_postal_code,ship_to_country\nP-1,cus_a,A,1,Weg 1,Berlin,10115,de\n",
        )
        .unwrap();
        match &parsed.drafts[0].ship_to {
            ShipTo::Named { address, .. } => assert_eq!(address.country.as_deref(), Some("DE")),
            ShipTo::CustomerDefault => panic!("the file names a ship-to"),
        }
    }
}
