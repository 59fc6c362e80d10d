//! The company: two warehouses, a catalogue and customers in seven countries.

use super::DemoOptions;
use super::generator::{BRANDS, CATALOGUE, COUNTRIES, Fields, Rng, pair, table, weighted_row};
use super::people::user;
use crate::customer::{self, CustomerRequest, NewCustomer};
use crate::inventory::{self, ProductRequest, StockLevel, WarehouseRequest};
use crate::order::{OrderLineRequest, OrderRequest};
use crate::{App, Result};
use o2c_core::Actor;
use o2c_core::customer::Address;
use o2c_core::money::decimal_string;
use std::collections::HashSet;

pub(super) struct World {
    customers: Vec<String>,
    /// Customers with a low credit limit, whose orders tend to be held.
    risky: Vec<usize>,
    skus: Vec<String>,
}

pub(super) async fn master_data(app: &App, rng: &mut Rng, opts: &DemoOptions) -> Result<World> {
    app.write(user("admin"), |c, ctx| {
        let mut seller = crate::billing::CompanyProfile::placeholder();
        seller.name = "Rheinwerk Industriebedarf GmbH".into();
        seller.address = Address {
            line1: "Hohenzollernring 52".into(),
            line2: None,
            city: "Köln".into(),
            postal_code: "50672".into(),
            country: "DE".into(),
            region: None,
        };
        seller.vat_id = Some("DE123456789".into());
        seller.company_id = Some("HRB 98765, Amtsgericht Köln".into());
        seller.email = Some("rechnung@rheinwerk-industrie.example".into());
        seller.phone = Some("+49 221 98765-0".into());
        seller.website = Some("https://www.rheinwerk-industrie.example".into());
        seller.iban = Some("DE89370400440532013000".into());
        seller.bic = Some("COBADEFFXXX".into());
        seller.bank_name = Some("Commerzbank AG".into());
        crate::billing::set_company_in_tx(c, ctx, seller)?;
        for (code, name, priority, postal_code) in [
            ("MAIN", "Main warehouse Duisburg", 1, "47051"),
            ("NORTH", "North warehouse Hamburg", 2, "20095"),
        ] {
            let r = WarehouseRequest {
                code: code.into(),
                name: name.into(),
                priority: Some(priority),
                country: Some("DE".into()),
                postal_code: Some(postal_code.into()),
            };
            inventory::create_warehouse_in_tx(c, ctx, &r)?;
        }
        Ok(())
    })
    .await?;
    let families = table(CATALOGUE);
    let products: Vec<_> = (0..opts.products)
        .map(|k| product_request(rng, &families, k))
        .collect();
    let skus = products.iter().map(|p| p.sku.clone()).collect();
    for chunk in products.chunks(200).map(<[_]>::to_vec) {
        app.write(user("admin"), move |c, ctx| {
            chunk
                .iter()
                .try_for_each(|p| inventory::create_product_in_tx(c, ctx, p).map(drop))
        })
        .await?;
    }
    // About one customer in sixteen is new or shaky and has a low limit.
    let risky: Vec<usize> = (0..opts.customers).filter(|i| i % 16 == 3).collect();
    let (countries, mut names) = (table(COUNTRIES), HashSet::new());
    let requests = (0..opts.customers)
        .map(|i| NewCustomer::parse(customer_request(rng, &countries, &mut names, i % 16 == 3)))
        .collect::<Result<Vec<_>>>()?;
    let mut customers = Vec::with_capacity(opts.customers);
    for chunk in requests.chunks(100).map(<[_]>::to_vec) {
        let created = app
            .write(user("admin"), move |c, ctx| {
                chunk
                    .iter()
                    .map(|n| customer::create_in_tx(c, ctx, n).map(|x| x.id))
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        customers.extend(created);
    }
    // Billing variety: foreign businesses with VAT ids (intra-community supplies), some billed
    // per order or monthly, some with an agreed invoice discount.
    let ids = customers.clone();
    app.write(user("admin"), move |c, ctx| {
        for (i, id) in ids.iter().enumerate() {
            let country = c
                .query_one(
                    "SELECT billing_address FROM customers WHERE id = $1",
                    o2c_store::params![id.as_str()],
                )?
                .opt_text(0)
                .and_then(|a| serde_json::from_str::<Address>(&a).ok())
                .map(|a| a.country)
                .unwrap_or_default();
            let r = crate::billing::BillingProfileRequest {
                vat_id: (i % 3 == 0).then(|| format!("{country}{:09}", 100_000_000 + i * 7919)),
                billing_email: None,
                billing_policy: match i % 10 {
                    7 => Some("per_order".into()),
                    9 => Some("consolidated".into()),
                    _ => None,
                },
                invoice_discount: (i % 11 == 5).then(|| "2".into()),
                price_list_id: None,
                tax_treatment: None,
                // Every fourth customer may take 2 % within 10 days.
                early_discount: (i % 4 == 1).then(|| "2".into()),
                early_discount_days: (i % 4 == 1).then_some(10),
            };
            crate::billing::set_billing_profile_in_tx(c, ctx, id, &r)?;
        }
        Ok(())
    })
    .await?;
    Ok(World {
        customers,
        risky,
        skus,
    })
}

pub(super) fn order_request(rng: &mut Rng, w: &World, k: usize) -> (Actor, OrderRequest) {
    // Every 25th order comes from a low-limit customer, so the hold queue is never empty.
    let customer = match w.risky.len() {
        n if n > 0 && k.is_multiple_of(25) => w.risky[(k / 25) % n],
        _ => rng.below(w.customers.len()),
    };
    let count = rng
        .weighted(&[(1, 25), (2, 30), (3, 25), (4, 12), (5, 8)])
        .min(w.skus.len());
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    while picked.len() < count {
        let p = rng.below(w.skus.len());
        if !picked.contains(&p) {
            picked.push(p);
        }
    }
    let mut lines = Vec::with_capacity(count);
    for p in picked {
        let quantity = if rng.percent(60) {
            rng.between(1, 5)
        } else {
            rng.between(6, 20)
        };
        lines.push(OrderLineRequest {
            sku: w.skus[p].clone(),
            quantity,
        });
    }
    let actor = match rng.below(10) {
        0..5 => Actor::ApiKey("webshop".into()),
        5..8 => Actor::ApiKey("edi-gateway".into()),
        _ => user("sales.desk"),
    };
    let customer_reference = rng
        .percent(60)
        .then(|| format!("PO-{}", 4_500_000 + rng.below(99_999)));
    let customer_id = w.customers[customer].clone();
    (
        actor,
        OrderRequest {
            freight: None,
            customer_id,
            currency: None,
            customer_reference,
            requested_delivery_on: None,
            ship_to: None,
            lines,
        },
    )
}

pub(super) fn product_request(rng: &mut Rng, families: &[Fields], k: usize) -> ProductRequest {
    let f = weighted_row(rng, families, 2);
    let (prefix, tax) = (f[0][0], f[1][0]);
    let (item, base) = pair(f[3][rng.below(f[3].len())]);
    let base: i64 = base.parse().unwrap_or(1000);
    let v = rng.below(f[4].len());
    let (name, price) = if tax == "zero" {
        (item.to_string(), base)
    } else {
        let cents = base * (100 + 15 * v as i64) * rng.between(85, 115) / 10_000;
        let price = if cents >= 200 {
            cents / 100 * 100 + rng.pick(&[49, 90, 95, 99])
        } else {
            cents.max(19)
        };
        let brands: Vec<&str> = BRANDS.split('|').collect();
        (format!("{} {item}{}", rng.pick(&brands), f[4][v]), price)
    };
    // One product in twenty is scarce (little or no stock) so that backorders happen.
    let level = |warehouse: &str, quantity| StockLevel {
        warehouse: warehouse.into(),
        quantity,
    };
    let stock = if k % 20 == 7 {
        Some(rng.between(0, 4))
            .filter(|q| *q > 0)
            .map(|q| level("MAIN", q))
            .into_iter()
            .collect()
    } else {
        let main = level("MAIN", rng.between(30, 400));
        let north = rng
            .percent(60)
            .then(|| level("NORTH", rng.between(10, 150)));
        std::iter::once(main).chain(north).collect()
    };
    ProductRequest {
        weight_g: None,
        sku: format!("{prefix}-{:05}", 10_001 + k),
        name,
        unit_price: decimal_string(price, 2),
        currency: "EUR".into(),
        tax_category: Some(tax.into()),
        stock,
    }
}

fn address(rng: &mut Rng, c: &Fields) -> Address {
    let (city, postal_code) = pair(c[3][rng.below(c[3].len())]);
    let (street, no) = (rng.pick(&c[4]), rng.between(1, 180));
    let line1 = match c[0][0] {
        "FR" => format!("{no} {street}"),
        "ES" => format!("{street}, {no}"),
        _ => format!("{street} {no}"),
    };
    Address {
        line1,
        line2: None,
        city: city.into(),
        postal_code: postal_code.into(),
        country: c[0][0].into(),
        region: None,
    }
}

pub(super) fn customer_request(
    rng: &mut Rng,
    countries: &[Fields],
    taken: &mut HashSet<String>,
    risky: bool,
) -> CustomerRequest {
    let c = weighted_row(rng, countries, 1);
    let mut name = String::new();
    for attempt in 0.. {
        let (surname, trade, form) = (rng.pick(&c[5]), rng.pick(&c[6]), rng.pick(&c[7]));
        name = match c[2][0] {
            "trade" => format!("{trade} {surname} {form}"),
            _ => format!("{surname} {trade} {form}"),
        };
        if attempt > 8 {
            name = format!("{name} ({})", taken.len());
        }
        if taken.insert(name.clone()) {
            break;
        }
    }
    let domain: String = name.split(' ').take(2).flat_map(ascii_fold).collect();
    let billing = address(rng, c);
    let shipping = if rng.percent(30) {
        address(rng, c)
    } else {
        billing.clone()
    };
    let limits: &[&str] = if risky {
        &["0.00", "500.00", "1000.00", "2500.00"]
    } else {
        &["15000.00", "25000.00", "50000.00", "100000.00", "250000.00"]
    };
    CustomerRequest {
        email: Some(format!(
            "accounts.payable@{domain}.{}",
            c[0][0].to_ascii_lowercase()
        )),
        name,
        currency: "EUR".into(),
        payment_terms_days: rng.weighted(&[(0, 10), (14, 25), (30, 50), (60, 15)]),
        credit_limit: rng.pick(limits).to_string(),
        billing_address: Some(billing),
        shipping_address: Some(shipping),
    }
}

/// Lower-case ASCII letters and digits of a word, accents folded (for e-mail domains).
fn ascii_fold(word: &str) -> Vec<char> {
    let folded: String = word
        .to_lowercase()
        .chars()
        .map(|ch| match ch {
            'ä' => "ae".into(),
            'ö' => "oe".into(),
            'ü' => "ue".into(),
            'ß' => "ss".into(),
            'à' | 'á' | 'â' => "a".into(),
            'è' | 'é' | 'ê' | 'ë' => "e".into(),
            'í' | 'ì' | 'î' => "i".into(),
            'ó' | 'ò' | 'ô' => "o".into(),
            'ú' | 'ù' | 'û' => "u".into(),
            'ç' => "c".into(),
            'ñ' => "n".into(),
            c => c.to_string(),
        })
        .collect();
    folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}
