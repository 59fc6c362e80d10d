//! Inventory: warehouses with a location, the reservation strategy (whole order from the nearest
//! warehouse that can ship it, split only when none can), levels, adjustments, receipt files and
//! the movements journal, backorders served first come, first served.

use crate::both_stores;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    the_nearest_warehouse_that_can_ship_the_whole_order_reserves_it,
    adjustments_never_take_reserved_stock_and_every_change_is_journaled,
    a_receipt_file_is_taken_whole_or_refused_naming_each_line,
);

pub(crate) async fn located_warehouse(app: &TestApp, code: &str, country: &str, postal: &str) {
    let (s, b) = app
        .post(
            "warehouse",
            "/api/v1/warehouses",
            json!({"code": code, "name": format!("{code} warehouse"), "priority": 10,
                   "country": country, "postal_code": postal}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["country"], json!(country));
}

/// (warehouse code, line number, quantity) of every open or shipped reservation, via shipments.
async fn shipment_plan(app: &TestApp, order_id: &str) -> Vec<(String, i64, i64)> {
    let (_, warehouses) = app.get("admin", "/api/v1/warehouses").await;
    let code_of = |id: &str| {
        warehouses
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == json!(id))
            .map(|w| w["code"].as_str().unwrap().to_string())
            .unwrap()
    };
    let mut out = Vec::new();
    for s in app.shipments(order_id, "planned").await {
        for l in s["lines"].as_array().unwrap() {
            out.push((
                code_of(s["warehouse_id"].as_str().unwrap()),
                l["line_no"].as_i64().unwrap(),
                l["quantity"].as_i64().unwrap(),
            ));
        }
    }
    out.sort();
    out
}

async fn level(app: &TestApp, sku: &str, warehouse: &str) -> Value {
    let (s, b) = app
        .get(
            "warehouse",
            &format!("/api/v1/stock?sku={sku}&warehouse={warehouse}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b[0].clone()
}

async fn the_nearest_warehouse_that_can_ship_the_whole_order_reserves_it(app: &TestApp) {
    // The customer ships to DE 10115 (Berlin).
    located_warehouse(app, "BER", "DE", "10117").await;
    located_warehouse(app, "MUC", "DE", "80331").await;
    located_warehouse(app, "PAR", "FR", "75001").await;
    app.product("A", "10.00", &[("BER", 10), ("MUC", 10), ("PAR", 100)])
        .await;
    app.product("B", "10.00", &[("BER", 1), ("MUC", 10), ("PAR", 100)])
        .await;
    app.product("C", "10.00", &[("BER", 2), ("MUC", 2)]).await;
    let c = app.customer("Müller Handel GmbH", "100000.00").await;

    // BER is nearest but short of B: MUC, the nearest that has everything, takes the whole order.
    let o1 = app.order(&c, &[("A", 3), ("B", 2)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // BER can ship this one whole.
    let o2 = app.order(&c, &[("A", 5)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Nobody has 3 of C: split, nearest first.
    let o3 = app.order(&c, &[("C", 3)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.settle().await;
    assert_eq!(
        shipment_plan(app, &o1).await,
        vec![("MUC".into(), 1, 3), ("MUC".into(), 2, 2)]
    );
    assert_eq!(shipment_plan(app, &o2).await, vec![("BER".into(), 1, 5)]);
    assert_eq!(
        shipment_plan(app, &o3).await,
        vec![("BER".into(), 1, 2), ("MUC".into(), 1, 1)]
    );
    assert_eq!(app.order_status(&o3).await, "reserved");

    let a_muc = level(app, "A", "MUC").await;
    assert_eq!(
        (
            a_muc["on_hand"].as_i64(),
            a_muc["reserved"].as_i64(),
            a_muc["available_to_promise"].as_i64()
        ),
        (Some(10), Some(3), Some(7))
    );
    let (s, all) = app.get("sales", "/api/v1/stock?sku=C").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        all.as_array()
            .unwrap()
            .iter()
            .map(|l| l["available_to_promise"].as_i64().unwrap())
            .sum::<i64>(),
        1
    );
    // A location must be a real country code.
    let (s, b) = app
        .post(
            "warehouse",
            "/api/v1/warehouses",
            json!({"code": "X", "name": "X", "country": "Germany"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("country"), "{b}");
    app.assert_books_balance().await;
}

async fn adjustments_never_take_reserved_stock_and_every_change_is_journaled(app: &TestApp) {
    located_warehouse(app, "MAIN", "DE", "10117").await;
    app.product("SKU-1", "10.00", &[("MAIN", 5)]).await;
    let c = app.customer("Müller Handel GmbH", "100000.00").await;
    let o1 = app.order(&c, &[("SKU-1", 4)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.settle().await;
    let o2 = app.order(&c, &[("SKU-1", 3)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.settle().await;
    assert_eq!(app.order_status(&o1).await, "reserved");
    // o2 got the last unit and waits for two more.
    assert_eq!(app.order_status(&o2).await, "backordered");

    // 5 on hand, 5 reserved: nothing may be taken off.
    let (s, b) = app
        .post(
            "warehouse",
            "/api/v1/stock-adjustments",
            json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": -1, "reason": "broken"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["code"], json!("stock-below-reserved"), "{b}");
    let (s, b) = app
        .post(
            "warehouse",
            "/api/v1/stock-adjustments",
            json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": 3, "reason": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let l = level(app, "SKU-1", "MAIN").await;
    assert_eq!(
        (l["on_hand"].as_i64(), l["reserved"].as_i64()),
        (Some(5), Some(5))
    );

    // Three found in a count: the backorder is served, one unit is left to promise.
    let (s, b) = app
        .post(
            "warehouse",
            "/api/v1/stock-adjustments",
            json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": 3, "reason": "cycle count"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["available_to_promise"], json!(3));
    app.settle().await;
    assert_eq!(app.order_status(&o2).await, "reserved");
    let l = level(app, "SKU-1", "MAIN").await;
    assert_eq!(
        (
            l["on_hand"].as_i64(),
            l["reserved"].as_i64(),
            l["available_to_promise"].as_i64()
        ),
        (Some(8), Some(7), Some(1))
    );
    // One broken: the unit left to promise goes.
    let (s, b) = app
        .post(
            "warehouse",
            "/api/v1/stock-adjustments",
            json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": -1, "reason": "broken"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["available_to_promise"], json!(0));
    // The sales role may not adjust stock.
    let (s, _) = app
        .post(
            "sales",
            "/api/v1/stock-adjustments",
            json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": 1, "reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    app.dispatch_all(&o1).await;
    let (s, journal) = app
        .get("warehouse", "/api/v1/stock-movements?sku=SKU-1")
        .await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<(String, i64)> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("dispatch".into(), -4),
            ("adjustment".into(), -1),
            ("adjustment".into(), 3),
            ("opening".into(), 5)
        ]
    );
    assert_eq!(journal[2]["reason"], json!("cycle count"));
    assert!(
        journal[2]["actor"]
            .as_str()
            .unwrap()
            .starts_with("api_key:"),
        "{journal}"
    );
    let on_hand_from_journal: i64 = kinds.iter().map(|k| k.1).sum();
    assert_eq!(
        on_hand_from_journal,
        level(app, "SKU-1", "MAIN").await["on_hand"]
            .as_i64()
            .unwrap()
    );
}

async fn post_csv(app: &TestApp, path: &str, body: &str) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url(path))
        .bearer_auth(app.key("warehouse"))
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

async fn a_receipt_file_is_taken_whole_or_refused_naming_each_line(app: &TestApp) {
    located_warehouse(app, "MAIN", "DE", "10117").await;
    located_warehouse(app, "WEST", "DE", "50667").await;
    app.product("SKU-1", "10.00", &[("MAIN", 0)]).await;
    app.product("SKU-2", "10.00", &[]).await;
    let c = app.customer("Müller Handel GmbH", "100000.00").await;
    let first = app.order(&c, &[("SKU-1", 4)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.settle().await;
    let second = app.order(&c, &[("SKU-1", 3)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.settle().await;
    assert_eq!(app.order_status(&first).await, "backordered");

    let bad = "sku;warehouse;quantity;reference\nSKU-1;MAIN;5;DN-1\nNOPE;MAIN;2;DN-1\nSKU-2;MAIN;-3;DN-1\nSKU-2;MARS;1;DN-1\n";
    let (s, b) = post_csv(app, "/api/v1/stock-receipts/csv", bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], json!("stock-file-rejected"));
    let detail = b["detail"].as_str().unwrap();
    for needle in [
        "line 3: no product with SKU `NOPE`",
        "line 4: column quantity",
        "line 5: no warehouse with code `MARS`",
    ] {
        assert!(detail.contains(needle), "{needle} in {detail}");
    }
    assert!(!detail.contains("line 2"), "{detail}");
    assert_eq!(level(app, "SKU-1", "MAIN").await["on_hand"], json!(0));
    let (s, b) = post_csv(app, "/api/v1/stock-receipts/csv", "item,qty\nSKU-1,4\n").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("line 1: expected a header row"),
        "{b}"
    );

    // Five arrive: the first order (4) is served in full before the second.
    let good = "sku,warehouse,quantity\nSKU-1,MAIN,5\nSKU-2,WEST,7\n";
    let (s, b) = post_csv(app, "/api/v1/stock-receipts/csv?reference=DN-2", good).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["lines"].as_i64(), b["quantity"].as_i64()),
        (Some(2), Some(12))
    );
    app.settle().await;
    assert_eq!(app.order_status(&first).await, "reserved");
    assert_eq!(app.order_status(&second).await, "backordered");
    let (_, o2) = app.get("admin", &format!("/api/v1/orders/{second}")).await;
    assert_eq!(o2["lines"][0]["allocated"], json!(1));
    let l = level(app, "SKU-2", "WEST").await;
    assert_eq!(l["on_hand"], json!(7));
    let (_, journal) = app
        .get("warehouse", "/api/v1/stock-movements?warehouse=west")
        .await;
    assert_eq!(journal[0]["kind"], json!("receipt"));
    assert_eq!(journal[0]["document_id"], json!("DN-2"));
    app.assert_books_balance().await;
}
