//! The world every case starts from: two warehouses, four customers, five products.

use crate::case::fail;
use o2c_app::App;
use o2c_app::customer::{self, CustomerRequest, NewCustomer};
use o2c_app::inventory::{self, ProductRequest, StockLevel, WarehouseRequest};
use o2c_core::Actor;
use o2c_core::customer::Address;
use proptest::test_runner::TestCaseError;

pub(crate) const WAREHOUSES: [(&str, i64); 2] = [("WH1", 1), ("WH2", 2)];

/// (name, credit limit, payment terms in days, country). "Tiny Traders" gets held on almost
/// every order; "Cash Upfront" pays on receipt.
const CUSTOMERS: [(&str, &str, i64, &str); 4] = [
    ("Acme GmbH", "1000000.00", 30, "DE"),
    ("Tiny Traders", "50.00", 30, "AT"),
    ("Cash Upfront BV", "100000.00", 0, "NL"),
    ("Mid Market SARL", "1500.00", 14, "FR"),
];

/// Opening stock of a product per warehouse code.
type Stock = &'static [(&'static str, i64)];

/// (SKU, unit price, tax category, opening stock). Little stock, so orders run out and wait.
pub(crate) const PRODUCTS: [(&str, &str, &str, Stock); 5] = [
    ("WIDGET", "12.99", "standard", &[("WH1", 6), ("WH2", 4)]),
    ("GADGET", "7.45", "reduced", &[("WH1", 10)]),
    ("MANUAL", "19.90", "zero", &[("WH2", 8)]),
    ("CABLE", "3.33", "standard", &[("WH1", 2), ("WH2", 2)]),
    ("TURBINE", "149.00", "standard", &[]),
];

pub(crate) const UNKNOWN_SKU: &str = "NO-SUCH-SKU";

pub(crate) struct World {
    pub(crate) customers: Vec<String>,
}

fn address(country: &str) -> Address {
    Address {
        line1: "1 Main Street".into(),
        line2: None,
        city: "Town".into(),
        postal_code: "12345".into(),
        country: country.into(),
        region: None,
    }
}

pub(crate) async fn setup(app: &App) -> Result<World, TestCaseError> {
    let customers = app
        .write(Actor::User("admin".into()), |conn, ctx| {
            for (code, priority) in WAREHOUSES {
                let r = WarehouseRequest {
                    country: None,
                    postal_code: None,
                    code: code.into(),
                    name: format!("Warehouse {code}"),
                    priority: Some(priority),
                };
                inventory::create_warehouse_in_tx(conn, ctx, &r)?;
            }
            let mut ids = Vec::new();
            for (name, limit, terms, country) in CUSTOMERS {
                let r = CustomerRequest {
                    name: name.into(),
                    email: Some("ap@example.com".into()),
                    currency: "EUR".into(),
                    payment_terms_days: terms,
                    credit_limit: limit.into(),
                    billing_address: Some(address(country)),
                    shipping_address: Some(address(country)),
                };
                ids.push(customer::create_in_tx(conn, ctx, &NewCustomer::parse(r)?)?.id);
            }
            for (sku, price, category, stock) in PRODUCTS {
                let r = ProductRequest {
                    weight_g: None,
                    sku: sku.into(),
                    name: format!("Product {sku}"),
                    unit_price: price.into(),
                    currency: "EUR".into(),
                    tax_category: Some(category.into()),
                    stock: stock
                        .iter()
                        .map(|(w, q)| StockLevel {
                            warehouse: (*w).into(),
                            quantity: *q,
                        })
                        .collect(),
                };
                inventory::create_product_in_tx(conn, ctx, &r)?;
            }
            Ok(ids)
        })
        .await
        .map_err(|e| fail(format!("setup failed: {e}")))?;
    Ok(World { customers })
}
