//! Fulfilment: pick lists batched per warehouse, packages weighed from the products, partial
//! dispatch leaving the rest planned, and the X12 856 / 810 for a customer who orders by EDI.

use crate::both_stores;
use crate::helpers::TestApp;
use crate::intake::{fixture, items, partners, upload};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    a_pick_list_batches_the_warehouse_and_a_partly_packed_shipment_leaves_the_rest_planned,
    an_x12_customer_gets_an_856_on_dispatch_and_an_810_on_invoicing,
);

async fn weighed_product(t: &TestApp, sku: &str, price: &str, weight_g: i64, stock: i64) {
    let (s, b) = t
        .post("sales", "/api/v1/products", json!({"sku": sku, "name": format!("Item {sku}"), "unit_price": price,
               "currency": "EUR", "weight_g": weight_g, "stock": [{"warehouse": "MAIN", "quantity": stock}]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["weight_g"], json!(weight_g));
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

async fn a_pick_list_batches_the_warehouse_and_a_partly_packed_shipment_leaves_the_rest_planned(
    t: &TestApp,
) {
    t.warehouse("MAIN", 1).await;
    weighed_product(t, "A", "10.00", 1200, 10).await;
    weighed_product(t, "B", "5.00", 500, 10).await;
    let c = t.customer("Müller Handel GmbH", "100000.00").await;
    let o1 = id(&t.order(&c, &[("A", 3), ("B", 2)]).await);
    let o2 = id(&t.order(&c, &[("A", 1)]).await);
    t.settle().await;
    let s1 = id(&t.shipments(&o1, "planned").await[0]);

    let (s, list) = t
        .post(
            "warehouse",
            "/api/v1/pick-lists",
            json!({"warehouse": "main"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    assert_eq!(list["shipments"].as_array().unwrap().len(), 2);
    let lines: Vec<(String, i64, usize)> = list["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().into(),
                l["quantity"].as_i64().unwrap(),
                l["per_shipment"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(lines, vec![("A".into(), 4, 2), ("B".into(), 2, 1)]);
    assert_eq!(t.shipments(&o1, "picking").await.len(), 1);
    let (s, b) = t
        .post(
            "warehouse",
            "/api/v1/pick-lists",
            json!({"warehouse": "MAIN"}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("nothing-to-pick")),
        "{b}"
    );
    let (s, again) = t
        .get("sales", &format!("/api/v1/pick-lists/{}", id(&list)))
        .await;
    assert_eq!((s, &again["lines"]), (StatusCode::OK, &list["lines"]));

    // Two of three A and both B are packed; one A does not fit today.
    let pack = |body: Value| {
        let path = format!("/api/v1/shipments/{s1}/packages");
        async move { t.post("warehouse", &path, body).await }
    };
    let (s, packed) = pack(json!({"packages": [
        {"lines": [{"line_no": 1, "quantity": 2}], "tare_g": 300},
        {"lines": [{"line_no": 2, "quantity": 2}]}
    ]}))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{packed}");
    assert_eq!(packed["status"], "packed");
    let weights: Vec<i64> = packed["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["weight_g"].as_i64().unwrap())
        .collect();
    assert_eq!(weights, vec![2 * 1200 + 300, 2 * 500]);
    assert_eq!(packed["weight_g"], json!(3700));
    let (s, b) = pack(json!({"packages": [{"lines": [{"line_no": 1, "quantity": 2}]}]})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("packing-exceeds-shipment")
        ),
        "{b}"
    );
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("order line 1 carries 3 here, 2 already packed"),
        "{b}"
    );
    let (s, b) = pack(json!({"packages": [{"lines": [{"line_no": 9, "quantity": 1}]}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    let (s, gone) = t
        .post(
            "warehouse",
            &format!("/api/v1/shipments/{s1}/dispatch"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{gone}");
    let shipped: Vec<(i64, i64)> = gone["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line_no"].as_i64().unwrap(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shipped, vec![(1, 2), (2, 2)]);
    assert_eq!(t.order_status(&o1).await, "partially_shipped");
    let rest = t.shipments(&o1, "planned").await;
    assert_eq!(rest.len(), 1);
    assert_eq!(
        rest[0]["lines"],
        json!([{"line_no": 1, "sku": "A", "quantity": 1}])
    );
    let (_, stock) = t.get("warehouse", "/api/v1/stock?sku=A").await;
    // 10 − 2 shipped; the remaining A of o1 and o2's A are still reserved.
    assert_eq!(
        (stock[0]["on_hand"].as_i64(), stock[0]["reserved"].as_i64()),
        (Some(8), Some(2))
    );

    t.settle().await;
    let inv = t.invoices(&o1).await;
    assert_eq!(inv.len(), 1);
    // 2 × 10.00 + 2 × 5.00 = 30.00 net, 19 % VAT.
    assert_eq!(
        (
            inv[0]["net"]["amount"].as_str(),
            inv[0]["gross"]["amount"].as_str()
        ),
        (Some("30.00"), Some("35.70")),
        "{}",
        inv[0]
    );
    assert_eq!(t.dispatch_all(&o1).await, 1);
    t.settle().await;
    assert_eq!(t.order_status(&o1).await, "shipped");
    assert_eq!(t.invoices(&o1).await.len(), 2);
    assert_eq!(t.order_status(&o2).await, "reserved");
    t.assert_books_balance().await;
}

async fn an_x12_customer_gets_an_856_on_dispatch_and_an_810_on_invoicing(t: &TestApp) {
    t.warehouse("MAIN", 1).await;
    weighed_product(t, "CHAIR-1", "10.00", 7000, 100).await;
    weighed_product(t, "DESK-1", "25.00", 20000, 100).await;
    let acme = t.customer_in("Acme GmbH", "DE", "EUR").await;
    partners(t, &acme, &[("92", "ACME-HQ")]).await;
    items(t, &acme, json!([{"customer_item": "ACME-CHAIR", "sku": "CHAIR-1"}, {"gtin": "4006381333931", "sku": "DESK-1"}])).await;
    let (s, doc) = upload(t, "/api/v1/intake/edi", fixture("850-acme-two-orders.x12")).await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    let order = doc["orders"][0]["order_id"].as_str().unwrap().to_string();
    t.settle().await;
    let shipment = id(&t.shipments(&order, "planned").await[0]);
    let (s, b) = t
        .post("warehouse", &format!("/api/v1/shipments/{shipment}/packages"),
              json!({"packages": [{"lines": [{"line_no": 1, "quantity": 3}, {"line_no": 2, "quantity": 2}], "tracking_number": "PKG-1"}]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = t
        .post(
            "warehouse",
            &format!("/api/v1/shipments/{shipment}/dispatch"),
            json!({"tracking_number": "TRK-4711"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    t.settle().await;

    let (s, docs) = t
        .get(
            "sales",
            &format!("/api/v1/outbound-documents?order_id={order}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"x12-856") && kinds.contains(&"x12-810"),
        "{docs:#}"
    );
    let by_kind = |k: &str| {
        docs.as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == k)
            .unwrap()
            .clone()
    };
    let asn = by_kind("x12-856");
    assert_eq!(asn["error"], Value::Null, "{asn}");
    let (s, _, bytes) = t
        .get_bytes(
            "sales",
            &format!("/api/v1/outbound-documents/{}/content", id(&asn)),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    // Back to the sender: the parties of its interchange swapped.
    assert!(
        text.starts_with("ISA*00*          *00*          *ZZ*O2CSELLER      *ZZ*ACMEBUY"),
        "{text}"
    );
    for needle in [
        "ST*856*",
        "PRF*PO-1001",
        "REF*CN*TRK-4711",
        "MAN*CP*PKG-1",
        "SN1**3*EA",
        "SN1**2*EA",
        "LIN*1*BP*ACME-CHAIR",
        "TD1*CTN25",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    // 3 × 7 kg + 2 × 20 kg.
    assert!(
        text.contains("*61*KG") || text.contains("*61.000*KG"),
        "{text}"
    );
    let read = o2c_edi::read_interchange(text.as_bytes()).expect("o2c reads its own 856");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);

    let inv = by_kind("x12-810");
    assert_eq!(inv["error"], Value::Null, "{inv}");
    let invoice = t.invoices(&order).await.pop().unwrap();
    let text = inv["content"].as_str().unwrap();
    for needle in [
        "ST*810*".to_string(),
        format!("BIG*"),
        format!("*{}*", invoice["number"].as_str().unwrap()),
        "PO-1001".into(),
        "IT1*1*3*EA*10".into(),
        "IT1*2*2*EA*25".into(),
        "TXI*VA*".into(),
    ] {
        assert!(text.contains(&needle), "{needle} missing in\n{text}");
    }
    // TDS01 is the invoice's gross in cents: 80.00 net + 19 % = 95.20.
    assert!(text.contains("TDS*9520"), "{text}");
    // An order from the API gets no EDI.
    t.settle().await;
    let (_, all) = t.get("admin", "/api/v1/outbound-documents").await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|d| d["customer_id"] == acme.as_str())
    );
    t.assert_books_balance().await;
}
