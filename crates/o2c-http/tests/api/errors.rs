//! Bad input gets an RFC 9457 problem with a stable code, and changes nothing.

use crate::both_stores;
use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_stores!(
    each_broken_rule_has_its_own_problem_code_and_writes_nothing,
    a_replayed_order_returns_the_original_and_creates_nothing,
    a_replayed_payment_books_cash_once
);

async fn expect_problem(
    t: &TestApp,
    body: Value,
    status: StatusCode,
    code: &str,
    detail_has: &str,
) {
    let before = t.count_orders().await;
    let (s, b) = t.post("sales", "/api/v1/orders", body).await;
    assert_eq!(s, status, "{b}");
    assert_eq!(b["code"], code, "{b}");
    assert_eq!(b["type"], format!("/problems/{code}"));
    assert_eq!(b["status"], status.as_u16());
    assert!(b["detail"].as_str().unwrap().contains(detail_has), "{b}");
    assert_eq!(t.count_orders().await, before, "nothing was written");
}

async fn each_broken_rule_has_its_own_problem_code_and_writes_nothing(t: &TestApp) {
    let customer = t.basic("1000.00", 10).await;
    let line = |sku: &str, q: i64| json!([{"sku": sku, "quantity": q}]);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    expect_problem(
        t,
        json!({"customer_id": "cus_nobody", "lines": line("SKU-1", 1)}),
        unprocessable,
        "unknown-customer",
        "cus_nobody",
    )
    .await;
    expect_problem(t, json!({"customer_id": customer, "lines": [{"sku": "SKU-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}), unprocessable, "unknown-sku", "line 2").await;
    expect_problem(
        t,
        json!({"customer_id": customer, "lines": line("SKU-1", 0)}),
        unprocessable,
        "quantity-not-positive",
        "line 1",
    )
    .await;
    expect_problem(
        t,
        json!({"customer_id": customer, "lines": line("SKU-1", -3)}),
        unprocessable,
        "quantity-not-positive",
        "-3",
    )
    .await;
    expect_problem(
        t,
        json!({"customer_id": customer, "currency": "USD", "lines": line("SKU-1", 1)}),
        unprocessable,
        "currency-mismatch",
        "EUR",
    )
    .await;
    expect_problem(
        t,
        json!({"customer_id": customer, "lines": []}),
        unprocessable,
        "order-without-lines",
        "at least one line",
    )
    .await;
    expect_problem(
        t,
        json!({"customer_id": customer}),
        unprocessable,
        "invalid-body",
        "lines",
    )
    .await;

    let (s, b) = t
        .post("sales", "/api/v1/customers", json!({"name": "No Address AG", "currency": "EUR", "payment_terms_days": 14, "credit_limit": "100.00"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let no_address = b["id"].as_str().unwrap();
    expect_problem(
        t,
        json!({"customer_id": no_address, "lines": line("SKU-1", 1)}),
        unprocessable,
        "missing-address",
        "billing",
    )
    .await;

    // Malformed JSON: says where.
    let before = t.count_orders().await;
    let (s, b) = t
        .send(
            Some("sales"),
            Method::POST,
            "/api/v1/orders",
            Some(b"{\"customer_id\": ".to_vec()),
            Some("m-1"),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed-json"))
    );
    assert!(b["detail"].as_str().unwrap().contains("line 1"), "{b}");
    assert_eq!(b.get("status"), Some(&json!(400)));
    assert_eq!(t.count_orders().await, before);

    // No Idempotency-Key on an order.
    let body = json!({"customer_id": customer, "lines": line("SKU-1", 1)})
        .to_string()
        .into_bytes();
    let (s, b) = t
        .send(
            Some("sales"),
            Method::POST,
            "/api/v1/orders",
            Some(body),
            None,
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency-key-missing"))
    );

    // Bad amounts and currencies on master data.
    let mut c = crate::helpers::customer_body("X", "12.345");
    let (s, b) = t.post("sales", "/api/v1/customers", c.clone()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (unprocessable, Some("malformed-amount"))
    );
    assert!(
        b["detail"].as_str().unwrap().contains("credit_limit"),
        "{b}"
    );
    c["credit_limit"] = json!("10");
    c["currency"] = json!("XYZ");
    let (s, b) = t.post("sales", "/api/v1/customers", c.clone()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (unprocessable, Some("unknown-currency"))
    );
    c["currency"] = json!("EUR");
    c["billing_address"] =
        json!({"line1": "x", "city": "y", "postal_code": "1", "country": "Germany"});
    let (s, b) = t.post("sales", "/api/v1/customers", c).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (unprocessable, Some("invalid-field"))
    );
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("billing_address.country"),
        "{b}"
    );

    // Illegal transition: dispatching twice.
    let id = t.order(&customer, &[("SKU-1", 1)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    let shipment = t.shipments(&id, "planned").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = t
        .post(
            "warehouse",
            &format!("/api/v1/shipments/{shipment}/dispatch"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = t
        .post(
            "warehouse",
            &format!("/api/v1/shipments/{shipment}/dispatch"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition"))
    );
    assert!(b["detail"].as_str().unwrap().contains("dispatched"), "{b}");
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(product["stock"][0]["on_hand"], 9, "stock left once");

    // Over-applying cash.
    t.settle().await;
    let inv = t.invoices(&id).await[0]["id"].as_str().unwrap().to_string();
    let pay = t.pay(&customer, "100.00", &[]).await;
    t.settle().await;
    let (s, b) = t
        .post(
            "receivables",
            &format!(
                "/api/v1/payments/{}/applications",
                pay["id"].as_str().unwrap()
            ),
            json!({"invoice_id": inv, "amount": "1.00"}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (unprocessable, Some("application-exceeds-open-amount")),
        "{b}"
    );
    t.assert_books_balance().await;
}

async fn a_replayed_order_returns_the_original_and_creates_nothing(t: &TestApp) {
    let customer = t.basic("1000.00", 10).await;
    let body = json!({"customer_id": customer, "lines": [{"sku": "SKU-1", "quantity": 2}]});
    let (s1, b1) = t
        .post_with_key("sales", "/api/v1/orders", body.clone(), "order-42")
        .await;
    assert_eq!(s1, StatusCode::CREATED);
    let (s2, b2) = t
        .post_with_key("sales", "/api/v1/orders", body.clone(), "order-42")
        .await;
    assert_eq!(s2, StatusCode::CREATED);
    assert_eq!(b1, b2, "the original response, byte for byte");
    assert_eq!(t.count_orders().await, 1);
    let mut other = body.clone();
    other["lines"][0]["quantity"] = json!(3);
    let (s3, b3) = t
        .post_with_key("sales", "/api/v1/orders", other, "order-42")
        .await;
    assert_eq!(
        (s3, b3["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency-key-reused")
        )
    );
    assert_eq!(t.count_orders().await, 1);
}

async fn a_replayed_payment_books_cash_once(t: &TestApp) {
    let customer = t.basic("1000.00", 10).await;
    let body = json!({"customer_id": customer, "amount": "25.00", "currency": "EUR", "reference": "bank 0815"});
    let (s1, b1) = t
        .post_with_key("receivables", "/api/v1/payments", body.clone(), "pay-1")
        .await;
    let (s2, b2) = t
        .post_with_key("receivables", "/api/v1/payments", body, "pay-1")
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(b1["id"], b2["id"]);
    t.settle().await;
    let account = t.account(&customer).await;
    assert_eq!(account["customer"]["unapplied_cash"]["amount"], "25.00");
    t.assert_books_balance().await;
}
