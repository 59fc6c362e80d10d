//! Every third-party sample in `shared/data` through order intake: each X12 850 and EDIFACT
//! ORDERS first waits in the exceptions queue for the reasons its content gives (no customer
//! knows its sender, its items are not products yet), then, once partners, products and item
//! cross-references exist, is ordered by a replay; every other document (invoices,
//! acknowledgments, ship notices, APERAK) is refused and orders nothing.

use crate::both_stores;
use crate::helpers::TestApp;
use crate::intake::{ack, codes, id, items, partners, product, upload};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

both_stores!(every_shared_order_is_parked_then_ordered_and_nothing_else_is_taken_for_one);

fn shared() -> Option<PathBuf> {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if folder.is_dir() {
        Some(folder.to_path_buf())
    } else {
        println!("skipped: ../shared/data not found");
        None
    }
}

/// The X12 and EDIFACT samples, relative to `shared/data`, sorted.
fn samples(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![root.join("x12"), root.join("edifact")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if !path.extension().is_some_and(|e| e == "md" || e == "txt") {
                let relative = path.strip_prefix(root).expect("below the root");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

/// The orders among the samples: (file, PO number, reasons it waits before the master data).
const ORDERS: [(&str, &str, &[&str]); 7] = [
    (
        "x12/850/oopfactory-Example1_PGWGlass.x12",
        "S41000439",
        &["unknown-partner"],
    ),
    (
        "x12/850/oopfactory-Example2_Adobe_TLP.x12",
        "TLP-X12",
        &["unknown-partner"],
    ),
    (
        "x12/850/oopfactory-Example3_Adobe_CLP.x12",
        "ANSI-X12-CLP",
        &["unknown-partner"],
    ),
    (
        "x12/850/oopfactory-From_aojuk.x12",
        "6190",
        &["unknown-partner", "unknown-item", "unknown-item"],
    ),
    (
        "edifact/pydifact/pydifact-order.edi",
        "801715918011",
        &["unknown-partner"],
    ),
    (
        "edifact/pydifact/pydifact-order2.edi",
        "PO123456",
        &["unknown-partner"],
    ),
    (
        "edifact/pydifact/pydifact-wikipedia_de.edi",
        "B10001",
        &["unknown-partner", "unknown-item"],
    ),
];

/// The master data the samples name: products, customers, partner ids, cross-references.
async fn master_data(t: &TestApp) {
    for (sku, price) in [
        ("FUSE-4-10", "5.09"),
        ("LAMP-200W", "63.11"),
        ("DIN-RAIL-3FT", "8.02"),
        ("PROX-SWITCH", "85.25"),
        ("ACROBAT-TLP", "665.00"),
        ("ACROBAT-CLP", "160.00"),
        ("123456", "10.98"),
        ("654321", "219.00"),
    ] {
        product(t, sku, price, "USD").await;
    }
    for (sku, price) in [
        ("GTIN-A", "3.50"),
        ("GTIN-B", "4.20"),
        ("ABC-PART", "25.00"),
        ("Produkt Schrauben", "0.05"),
    ] {
        product(t, sku, price, "EUR").await;
    }
    let pgw = t.customer_in("PGW Glass", "US", "USD").await;
    partners(t, &pgw, &[("01", "828513080")]).await;
    items(
        t,
        &pgw,
        json!([
            {"customer_item": "0459001004", "sku": "FUSE-4-10"}, {"customer_item": "0650002027", "sku": "LAMP-200W"},
            {"customer_item": "0670104514", "sku": "DIN-RAIL-3FT"}, {"customer_item": "0684202074", "sku": "PROX-SWITCH"}
        ]),
    )
    .await;
    let tlp = t.customer_in("Adobe reseller (TLP)", "US", "USD").await;
    partners(t, &tlp, &[("91", "ID Number")]).await;
    items(
        t,
        &tlp,
        json!([{"customer_item": "12345678", "sku": "ACROBAT-TLP"}]),
    )
    .await;
    let clp = t.customer_in("Adobe reseller (CLP)", "US", "USD").await;
    partners(t, &clp, &[("91", "Sold To ID")]).await;
    items(
        t,
        &clp,
        json!([{"customer_item": "1733880", "sku": "ACROBAT-CLP"}]),
    )
    .await;
    let site = t.customer_in("Demo Customer", "US", "USD").await;
    partners(t, &site, &[("ZZ", "SITESTUFFP2P")]).await;
    let retail = t.customer_in("Retail NL", "NL", "EUR").await;
    partners(t, &retail, &[("9", "8711576000012")]).await;
    items(
        t,
        &retail,
        json!([{"gtin": "5020436373085", "sku": "GTIN-A"}, {"gtin": "5020436373108", "sku": "GTIN-B"}]),
    )
    .await;
    let buyer = t.customer_in("Buyer 123456789", "DE", "EUR").await;
    partners(t, &buyer, &[("9", "123456789")]).await;
    items(
        t,
        &buyer,
        json!([{"customer_item": "ABC123", "sku": "ABC-PART"}]),
    )
    .await;
    let schrauben = t.customer_in("Besteller GmbH", "DE", "EUR").await;
    partners(t, &schrauben, &[("", "Senderkennung")]).await;
}

async fn every_shared_order_is_parked_then_ordered_and_nothing_else_is_taken_for_one(t: &TestApp) {
    let Some(root) = shared() else {
        return;
    };
    t.warehouse("MAIN", 1).await;
    let mut docs: BTreeMap<String, Value> = BTreeMap::new();
    for file in samples(&root) {
        let bytes = std::fs::read(root.join(&file)).expect("sample is readable");
        let (status, body) = upload(t, "/api/v1/intake/edi", bytes).await;
        let expected = ORDERS.iter().find(|(f, _, _)| *f == file);
        match expected {
            Some((_, po, reasons)) => {
                assert_eq!(status, StatusCode::ACCEPTED, "{file}: {body:#}");
                assert_eq!(codes(&body), *reasons, "{file}: {body:#}");
                assert!(
                    body["errors"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("no customer is known by"),
                    "{file}"
                );
                docs.insert(file.clone(), body);
                let _ = po;
            }
            None if file.ends_with("Example4_Adobe_ShrinkWrapped.x12") => {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file}: {body:#}");
                assert_eq!(body["code"], "malformed-order-document", "{file}");
                assert!(
                    body["detail"]
                        .as_str()
                        .unwrap()
                        .contains("segment terminator"),
                    "{file}: {body}"
                );
            }
            None => {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file}: {body:#}");
                let code = body["code"].as_str().unwrap();
                let refused_before_its_sets = file.starts_with("x12/")
                    && ["malformed-order-document", "test-interchange"].contains(&code);
                assert!(
                    code == "not-an-order" || refused_before_its_sets,
                    "{file}: {body:#}"
                );
                if file.starts_with("edifact/") {
                    let detail = body["detail"].as_str().unwrap();
                    assert!(
                        ["INVOIC", "APERAK", "PAORES"]
                            .iter()
                            .any(|m| detail.contains(&format!("message type {m} is"))),
                        "{file}: {detail}"
                    );
                }
                if file.starts_with("x12/860/") {
                    assert!(
                        body["detail"]
                            .as_str()
                            .unwrap()
                            .contains("purchase order change request, not a purchase order (850)"),
                        "{body}"
                    );
                }
            }
        }
    }
    assert_eq!(docs.len(), ORDERS.len(), "every order sample was found");
    assert_eq!(
        t.count_orders().await,
        0,
        "nothing ordered before the master data"
    );
    let (_, queue) = t.get("admin", "/api/v1/intake/exceptions").await;
    assert_eq!(queue.as_array().unwrap().len(), ORDERS.len());

    master_data(t).await;
    for (file, po, _) in ORDERS {
        let doc = &docs[file];
        let path = format!("/api/v1/intake/documents/{}/replay", id(doc));
        let (s, ordered) = t.send(Some("sales"), Method::POST, &path, None, None).await;
        assert_eq!(s, StatusCode::CREATED, "{file}: {ordered:#}");
        let order_id = ordered["orders"][0]["order_id"].as_str().unwrap();
        let (_, order) = t.get("admin", &format!("/api/v1/orders/{order_id}")).await;
        assert_eq!(order["customer_reference"], po, "{file}");
        let (ack_status, text) = ack(t, &id(doc)).await;
        if file.starts_with("x12/") {
            assert_eq!(ack_status, StatusCode::OK, "{file}: {text}");
            assert!(text.contains(&format!("BAK*00*AD*{po}*")), "{file}: {text}");
        } else {
            assert_eq!(ack_status, StatusCode::NOT_FOUND, "{file}");
            assert!(text.contains("ORDRSP"), "{file}: {text}");
        }
        check_order(file, &ordered, &order);
    }
    assert_eq!(t.count_orders().await, ORDERS.len());
    let (_, queue) = t.get("admin", "/api/v1/intake/exceptions").await;
    assert_eq!(queue, json!([]));

    // The same file again orders nothing.
    let (file, _, _) = ORDERS[0];
    let (s, again) = upload(
        t,
        "/api/v1/intake/edi",
        std::fs::read(root.join(file)).unwrap(),
    )
    .await;
    assert_eq!(
        (s, again["status"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "{again:#}"
    );
    assert_eq!(again["duplicate_of"], docs[file]["id"]);
    assert_eq!(t.count_orders().await, ORDERS.len());
}

/// What each sample's order holds.
fn check_order(file: &str, doc: &Value, order: &Value) {
    let skus: Vec<(&str, i64)> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["quantity"].as_i64().unwrap()))
        .collect();
    let warned = |needle: &str| {
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(needle))
    };
    match file.rsplit('/').next().unwrap() {
        "oopfactory-Example1_PGWGlass.x12" => {
            assert_eq!(
                skus,
                [
                    ("FUSE-4-10", 5),
                    ("LAMP-200W", 12),
                    ("DIN-RAIL-3FT", 2),
                    ("PROX-SWITCH", 1)
                ]
            );
            assert_eq!(
                (
                    order["ship_to"]["city"].as_str(),
                    order["currency"].as_str()
                ),
                (Some("BEREA"), Some("USD"))
            );
            assert_eq!(
                order["requested_delivery_on"], "2010-08-20",
                "the lines' DTM*002"
            );
            assert!(
                warned("which o2c does not have: ordered as a new order"),
                "BEG01 05: {doc:#}"
            );
        }
        "oopfactory-Example2_Adobe_TLP.x12" => {
            assert_eq!(skus, [("ACROBAT-TLP", 1)]);
            assert!(warned("the ship-to names no country; US"), "{doc:#}");
        }
        "oopfactory-Example3_Adobe_CLP.x12" => {
            assert_eq!(
                skus,
                [("ACROBAT-CLP", 1), ("ACROBAT-CLP", 1)],
                "157.50 is within 2 % of 160.00"
            );
        }
        "oopfactory-From_aojuk.x12" => {
            assert_eq!(
                skus,
                [("123456", 1), ("654321", 1)],
                "vendor items are our SKUs"
            );
            assert_eq!(order["ship_to"]["line1"], "street 1");
        }
        "pydifact-order.edi" => {
            assert_eq!(skus, [("GTIN-A", 8), ("GTIN-B", 8)]);
            assert_eq!(order["requested_delivery_on"], "2015-08-06");
        }
        "pydifact-order2.edi" => assert_eq!(skus, [("ABC-PART", 10)]),
        "pydifact-wikipedia_de.edi" => assert_eq!(skus, [("Produkt Schrauben", 1000)]),
        other => panic!("no expectation for {other}"),
    }
}
