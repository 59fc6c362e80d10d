//! Order intake through the API: CSV files and EDI interchanges become orders once, documents
//! that cannot be ordered wait with every reason and are replayed after the master data is
//! fixed, re-sent documents order nothing, bad files change nothing and name the line.

use crate::both_stores;
use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_stores!(
    an_850_interchange_is_ordered_and_answered_by_an_855,
    a_resent_interchange_or_po_orders_nothing_twice,
    an_exception_names_every_reason_and_a_replay_orders_it,
    a_dismissed_exception_is_answered_with_a_rejecting_855,
    an_edifact_order_is_ordered_and_says_no_ordrsp_can_be_sent,
    a_csv_file_orders_grouped_rows_once_and_a_bad_line_changes_nothing,
    price_tolerance_and_cross_references_are_maintained_through_the_api,
    a_document_stored_before_a_stop_is_ordered_when_the_server_starts
);

pub fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/intake/");
    std::fs::read(format!("{path}{name}")).expect("fixture is readable")
}

/// Posts a file as the body of `path` (sales role).
pub async fn upload(t: &TestApp, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    t.send(Some("sales"), Method::POST, path, Some(body), None)
        .await
}

pub async fn product(t: &TestApp, sku: &str, price: &str, currency: &str) {
    let (s, b) = t
        .post(
            "sales",
            "/api/v1/products",
            json!({"sku": sku, "name": format!("Item {sku}"), "unit_price": price, "currency": currency,
                   "stock": [{"warehouse": "MAIN", "quantity": 10_000}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

pub async fn partners(t: &TestApp, customer: &str, ids: &[(&str, &str)]) {
    let partners: Vec<Value> = ids
        .iter()
        .map(|(q, id)| json!({"qualifier": q, "id": id}))
        .collect();
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{customer}/partners"),
            json!({ "partners": partners }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

pub async fn items(t: &TestApp, customer: &str, items: Value) {
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{customer}/items"),
            json!({ "items": items }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

pub fn codes(doc: &Value) -> Vec<String> {
    doc["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

pub fn id(doc: &Value) -> String {
    doc["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{doc}"))
        .to_string()
}

/// The acknowledgment of a document: status and text.
pub async fn ack(t: &TestApp, doc: &str) -> (StatusCode, String) {
    let (s, _, bytes) = t
        .get_bytes("admin", &format!("/api/v1/intake/documents/{doc}/ack"))
        .await;
    (s, String::from_utf8(bytes).unwrap())
}

/// Acme (EUR, DE), known by its buyer id `92:ACME-HQ`, with CHAIR-1 and DESK-1, and the
/// cross-reference its 850s need.
pub async fn acme(t: &TestApp) -> String {
    t.warehouse("MAIN", 1).await;
    product(t, "CHAIR-1", "10.00", "EUR").await;
    product(t, "DESK-1", "25.00", "EUR").await;
    let acme = t.customer_in("Acme GmbH", "DE", "EUR").await;
    partners(t, &acme, &[("92", "ACME-HQ")]).await;
    items(
        t,
        &acme,
        json!([{"customer_item": "ACME-CHAIR", "sku": "CHAIR-1"}, {"gtin": "4006381333931", "sku": "DESK-1"}]),
    )
    .await;
    acme
}

async fn an_850_interchange_is_ordered_and_answered_by_an_855(t: &TestApp) {
    let acme = acme(t).await;
    let (s, doc) = upload(t, "/api/v1/intake/edi", fixture("850-acme-two-orders.x12")).await;
    assert_eq!(s, StatusCode::CREATED, "{doc:#}");
    assert_eq!(doc["status"], "ordered");
    assert_eq!(doc["channel"], "x12");
    assert_eq!(doc["sender"], "ZZ:ACMEBUY");
    let orders = doc["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "one order per 850, both or none");
    assert!(orders.iter().all(|o| o["placed"] == true));
    let (s, first) = t
        .get(
            "admin",
            &format!("/api/v1/orders/{}", orders[0]["order_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(first["customer_id"], acme.as_str());
    assert_eq!(first["customer_reference"], "PO-1001");
    assert_eq!(first["requested_delivery_on"], "2026-12-01");
    assert_eq!(first["ship_to"]["city"], "Potsdam", "N1*ST with its N3/N4");
    let lines: Vec<(&str, i64)> = first["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [("CHAIR-1", 3), ("DESK-1", 2)],
        "by cross-reference and GTIN"
    );
    let (s, trail) = t
        .get(
            "admin",
            &format!(
                "/api/v1/orders/{}/events",
                orders[0]["order_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "intake.document_ordered" && e["aggregate_id"] == doc["id"]),
        "{trail:#}"
    );

    let (s, text) = ack(t, &id(&doc)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(text.starts_with("ISA*00*"), "{text}");
    assert!(
        text.contains("*ZZ*O2CSELLER      *ZZ*ACMEBUY        *"),
        "sender and receiver swapped: {text}"
    );
    for expected in [
        "GS*PR*O2CSELLER*ACMEBUY*",
        "ST*855*0001~",
        "BAK*00*AD*PO-1001*20261120",
        "ACK*IA*3*EA*068*20261201~",
        "ST*855*0002~",
        "BAK*00*AD*PO-1002",
    ] {
        assert!(text.contains(expected), "`{expected}` in {text}");
    }
    let (s, full) = t
        .get("admin", &format!("/api/v1/intake/documents/{}", id(&doc)))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(full["content"]["encoding"], "text");
    assert_eq!(
        full["content"]["data"].as_str().unwrap().as_bytes(),
        fixture("850-acme-two-orders.x12"),
        "kept as received"
    );
}

async fn a_resent_interchange_or_po_orders_nothing_twice(t: &TestApp) {
    acme(t).await;
    let file = fixture("850-acme-two-orders.x12");
    let (s, first) = upload(t, "/api/v1/intake/edi", file.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{first:#}");
    let before = t.count_orders().await;
    let (first_ack_status, first_ack) = ack(t, &id(&first)).await;
    assert_eq!(first_ack_status, StatusCode::OK);

    let (s, again) = upload(t, "/api/v1/intake/edi", file.clone()).await;
    assert_eq!(s, StatusCode::OK, "{again:#}");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["duplicate_of"], first["id"]);
    let ids = |d: &Value| -> Vec<String> {
        d["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["order_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&again), ids(&first), "the original's orders");
    assert!(
        again["orders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["placed"] == false)
    );
    assert_eq!(ack(t, &id(&again)).await.1, first_ack, "the same 855 again");

    // A new interchange control number, the same POs: recognised by customer and PO number.
    let text = String::from_utf8(file).unwrap();
    let resent = text
        .replace("000000101", "000000102")
        .replace("*101*", "*102*")
        .replace("GE*2*101", "GE*2*102");
    let (s, copy) = upload(t, "/api/v1/intake/edi", resent.into_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{copy:#}");
    assert_eq!(copy["status"], "duplicate");
    assert_eq!(ids(&copy), ids(&first));
    assert_eq!(t.count_orders().await, before, "nothing ordered twice");

    // The same PO sent through the API first is not ordered again by a file either.
    let cus = first["orders"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let csv = format!("po_number,customer_id,sku,quantity\nPO-1001,{cus},CHAIR-1,3\n");
    let (s, by_csv) = upload(t, "/api/v1/intake/csv", csv.into_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{by_csv:#}");
    assert_eq!(by_csv["status"], "duplicate");
    assert_eq!(t.count_orders().await, before);
}

async fn an_exception_names_every_reason_and_a_replay_orders_it(t: &TestApp) {
    t.warehouse("MAIN", 1).await;
    product(t, "CHAIR-1", "12.00", "EUR").await;
    product(t, "DESK-1", "25.00", "EUR").await;
    let acme = t.customer_in("Acme GmbH", "DE", "EUR").await;
    partners(t, &acme, &[("92", "ACME-HQ")]).await;

    let (s, doc) = upload(t, "/api/v1/intake/edi", fixture("850-acme-two-orders.x12")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{doc:#}");
    assert_eq!(doc["status"], "exception");
    assert_eq!(
        codes(&doc),
        [
            "unknown-item",
            "price-out-of-tolerance",
            "price-out-of-tolerance"
        ],
        "{doc:#}"
    );
    let errors = doc["errors"].as_array().unwrap();
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("GTIN `4006381333931`"),
        "{doc:#}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("PUT /api/v1/customers/{acme}/items"))
    );
    assert!(
        errors[1]["at"].as_str().unwrap().contains("(PO1, line 11"),
        "{doc:#}"
    );
    assert!(
        errors[1]["at"]
            .as_str()
            .unwrap()
            .ends_with("PO101 `1`, PO104"),
        "{doc:#}"
    );
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("16.66 % below"),
        "{doc:#}"
    );
    assert_eq!(t.count_orders().await, 0, "none of the document's orders");
    let (_, queue) = t.get("admin", "/api/v1/intake/exceptions").await;
    assert_eq!(queue.as_array().unwrap().len(), 1);

    // Replaying without fixing anything parks it again, with the same reasons.
    let path = format!("/api/v1/intake/documents/{}/replay", id(&doc));
    let (s, again) = t.send(Some("sales"), Method::POST, &path, None, None).await;
    assert_eq!(
        (s, codes(&again).len()),
        (StatusCode::ACCEPTED, 3),
        "{again:#}"
    );

    items(
        t,
        &acme,
        json!([{"gtin": "4006381333931", "sku": "DESK-1"}]),
    )
    .await;
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{acme}/prices"),
            json!({"sku": "CHAIR-1", "unit_price": "10.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, ordered) = t.send(Some("sales"), Method::POST, &path, None, None).await;
    assert_eq!(s, StatusCode::CREATED, "{ordered:#}");
    assert_eq!(ordered["status"], "ordered");
    assert_eq!(ordered["attempts"], 3);
    assert_eq!(ordered["errors"], json!([]));
    assert!(
        ordered["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("customer item `ACME-CHAIR` is not known")),
        "{ordered:#}"
    );
    assert_eq!(t.count_orders().await, 2);
    let (_, queue) = t.get("admin", "/api/v1/intake/exceptions").await;
    assert_eq!(queue, json!([]));
    let (s, b) = t.send(Some("sales"), Method::POST, &path, None, None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition")),
        "{b}"
    );
}

async fn a_dismissed_exception_is_answered_with_a_rejecting_855(t: &TestApp) {
    let (s, doc) = upload(t, "/api/v1/intake/edi", fixture("850-acme-two-orders.x12")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{doc:#}");
    assert_eq!(
        codes(&doc),
        [
            "unknown-partner",
            "unknown-item",
            "unknown-partner",
            "unknown-item"
        ],
        "no customer knows the buyer, and CHAIR-1 (PO107, our SKU) is no product: {doc:#}"
    );
    let message = doc["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`92:ACME-HQ`") && message.contains("`ZZ:ACMEBUY` (ISA05/ISA06"),
        "{message}"
    );
    let (s, body) = ack(t, &id(&doc)).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "nothing acknowledged while it waits: {body}"
    );

    let path = format!("/api/v1/intake/documents/{}/reject", id(&doc));
    let (s, dismissed) = t
        .post("sales", &path, json!({"reason": "not our customer"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{dismissed:#}");
    assert_eq!(dismissed["status"], "rejected");
    assert_eq!(codes(&dismissed).last().unwrap(), "dismissed");
    let (s, text) = ack(t, &id(&doc)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        text.contains("BAK*00*RD*PO-1001") && text.contains("ACK*IR*3*EA~"),
        "{text}"
    );
    let replay = format!("/api/v1/intake/documents/{}/replay", id(&doc));
    let (s, _) = t
        .send(Some("sales"), Method::POST, &replay, None, None)
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a rejected document stays rejected"
    );
    assert_eq!(t.count_orders().await, 0);
}

async fn an_edifact_order_is_ordered_and_says_no_ordrsp_can_be_sent(t: &TestApp) {
    t.warehouse("MAIN", 1).await;
    product(t, "DESK-1", "25.00", "EUR").await;
    let cus = t.customer_in("Großhandel Nord", "DE", "EUR").await;
    partners(t, &cus, &[("9", "4012345000009")]).await;
    items(t, &cus, json!([{"gtin": "4006381333931", "sku": "DESK-1"}])).await;
    let (s, doc) = upload(t, "/api/v1/intake/edi", fixture("orders-eancom-d96a.edi")).await;
    assert_eq!(s, StatusCode::CREATED, "{doc:#}");
    assert_eq!(
        (doc["channel"].as_str(), doc["sender"].as_str()),
        (Some("edifact"), Some("14:4012345000009"))
    );
    assert_eq!(doc["acknowledgment"], false);
    assert!(
        doc["acknowledgment_note"]
            .as_str()
            .unwrap()
            .contains("no ORDRSP writer"),
        "{doc:#}"
    );
    assert!(
        doc["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("`4012345000016` has no address")),
        "{doc:#}"
    );
    let order = doc["orders"][0]["order_id"].as_str().unwrap();
    let (_, o) = t.get("admin", &format!("/api/v1/orders/{order}")).await;
    assert_eq!(
        (
            o["customer_reference"].as_str(),
            o["lines"][0]["quantity"].as_i64()
        ),
        (Some("PO-2001"), Some(5))
    );
    assert_eq!(
        o["ship_to"]["city"], "Harbour",
        "the customer's shipping address"
    );
    let (s, b) = ack(t, &id(&doc)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(b.contains("ORDRSP"), "{b}");
}

async fn a_csv_file_orders_grouped_rows_once_and_a_bad_line_changes_nothing(t: &TestApp) {
    let acme = acme(t).await;
    let bad = format!(
        "po_number,customer_id,sku,quantity\nCSV-1,{acme},CHAIR-1,2\nCSV-1,{acme},DESK-1,two\nCSV-2,{acme},CHAIR-1,1\nCSV-3,{acme},,1\n"
    );
    let (s, problem) = upload(t, "/api/v1/intake/csv", bad.into_bytes()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem:#}");
    assert_eq!(problem["code"], "malformed-order-document");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("line 3, column quantity: `two` is not a whole number above zero"),
        "{detail}"
    );
    assert!(
        detail.contains("line 5: no item"),
        "every bad line, not just the first: {detail}"
    );
    assert_eq!(
        t.count_orders().await,
        0,
        "nothing of a malformed file is ordered"
    );
    let (_, rejected) = t
        .get("admin", "/api/v1/intake/documents?status=rejected")
        .await;
    assert_eq!(rejected.as_array().unwrap().len(), 1, "kept for the record");

    let good = format!(
        "PO Number;Customer;SKU;Customer item;Quantity;Unit price;Requested delivery\n\
         CSV-1;{acme};CHAIR-1;;2;10.00;2026-12-01\n\
         CSV-2;{acme};DESK-1;;4;;\n\
         CSV-1;{acme};;ACME-CHAIR;1;;2026-12-01\n"
    );
    let (s, doc) = upload(t, "/api/v1/intake/csv", good.clone().into_bytes()).await;
    assert_eq!(s, StatusCode::CREATED, "{doc:#}");
    let orders = doc["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "rows grouped by customer and PO number");
    let (_, first) = t
        .get(
            "admin",
            &format!("/api/v1/orders/{}", orders[0]["order_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        (
            first["customer_reference"].as_str(),
            first["lines"].as_array().unwrap().len()
        ),
        (Some("CSV-1"), 2)
    );
    assert_eq!(first["requested_delivery_on"], "2026-12-01");
    let (s, again) = upload(t, "/api/v1/intake/csv", good.into_bytes()).await;
    assert_eq!(
        (s, again["status"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "{again:#}"
    );
    assert_eq!(t.count_orders().await, 2);

    let (s, problem) = upload(t, "/api/v1/intake/edi", b"po_number,customer_id\n".to_vec()).await;
    assert_eq!(
        (s, problem["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown-order-format")
        )
    );
}

async fn price_tolerance_and_cross_references_are_maintained_through_the_api(t: &TestApp) {
    let acme = acme(t).await;
    let (_, policy) = t.get("admin", "/api/v1/intake/policy").await;
    assert_eq!(policy["price_tolerance"], "2.00");
    let csv =
        format!("po_number,customer_id,sku,quantity,unit_price\nT-1,{acme},CHAIR-1,1,10.50\n");
    let (s, doc) = upload(t, "/api/v1/intake/csv", csv.clone().into_bytes()).await;
    assert_eq!(
        (s, codes(&doc)),
        (
            StatusCode::ACCEPTED,
            vec!["price-out-of-tolerance".to_string()]
        ),
        "{doc:#}"
    );
    assert_eq!(doc["errors"][0]["at"], "line 2, column unit_price");
    let (s, b) = t
        .put(
            "sales",
            "/api/v1/intake/policy",
            json!({"price_tolerance": "5"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = t
        .put(
            "admin",
            "/api/v1/intake/policy",
            json!({"price_tolerance": "5"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, doc) = t
        .send(
            Some("sales"),
            Method::POST,
            &format!("/api/v1/intake/documents/{}/replay", id(&doc)),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{doc:#}");

    let (_, got) = t
        .get("admin", &format!("/api/v1/customers/{acme}/items"))
        .await;
    assert_eq!(got.as_array().unwrap().len(), 2, "{got}");
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{acme}/items"),
            json!({"items": [{"customer_item": "X", "sku": "NOPE"}]}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field")),
        "{b}"
    );
    let other = t.customer_in("Other AG", "DE", "EUR").await;
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{other}/partners"),
            json!({"partners": [{"qualifier": "92", "id": "ACME-HQ"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["detail"].as_str().unwrap().contains(&acme), "{b}");
    let (_, got) = t
        .get("admin", &format!("/api/v1/customers/{acme}/partners"))
        .await;
    assert_eq!(got, json!([{"qualifier": "92", "id": "ACME-HQ"}]));
}

/// The process stopped after storing a document and before ordering it: the start-up sweep
/// orders it, once.
async fn a_document_stored_before_a_stop_is_ordered_when_the_server_starts(t: &TestApp) {
    acme(t).await;
    let bytes = fixture("850-acme-two-orders.x12");
    let stored = t
        .app
        .write(o2c_core::Actor::Rule("test"), move |c, ctx| {
            o2c_app::intake::documents::store_in_tx(
                c,
                ctx,
                o2c_app::intake::Channel::X12,
                &bytes,
                "before the stop",
            )
        })
        .await
        .unwrap();
    let (_, doc) = t
        .get("sales", &format!("/api/v1/intake/documents/{stored}"))
        .await;
    assert_eq!(doc["status"], "received", "{doc:#}");
    assert_eq!(o2c_app::intake::sweep_received(&t.app).await.unwrap(), 1);
    let (_, doc) = t
        .get("sales", &format!("/api/v1/intake/documents/{stored}"))
        .await;
    assert_eq!(doc["status"], "ordered", "{doc:#}");
    assert_eq!(
        o2c_app::intake::sweep_received(&t.app).await.unwrap(),
        0,
        "once"
    );
}
