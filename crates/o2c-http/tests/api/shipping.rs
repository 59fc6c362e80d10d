//! Shipping: carriers with rates by zone and weight band, the cheapest service that meets the
//! promised date chosen at dispatch (or the one a person names), tracking numbers, delivery
//! confirmed by the carrier's signed webhook or by hand, and the customer told by e-mail.

use crate::both_stores;
use crate::helpers::TestApp;
use o2c_mail::testing::SmtpSink;
use o2c_mail::{Mailer, SmtpConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

both_stores!(
    the_cheapest_service_meeting_the_promised_date_is_chosen_unless_one_is_named,
    a_signed_carrier_webhook_confirms_delivery_once_and_the_customer_is_mailed,
);

/// PAK: ECO (5 days) cheapest, STD (2 days), EXP (1 day) dearest; rates for zones 1 and 2.
async fn carrier(t: &TestApp) -> String {
    let rates = |z1: &str, z2: &str| {
        json!([{"zone": 1, "max_weight_g": 2000, "price": z1}, {"zone": 1, "max_weight_g": 31500, "price": z2},
               {"zone": 2, "max_weight_g": 31500, "price": z2}])
    };
    let (s, b) = t
        .post("warehouse", "/api/v1/carriers", json!({"code": "pak", "name": "Paket AG", "scac": "PAKX", "services": [
            {"code": "ECO", "name": "Economy", "transit_days": 5, "currency": "EUR", "rates": rates("3.00", "5.00")},
            {"code": "STD", "name": "Standard", "transit_days": 2, "currency": "EUR", "rates": rates("6.00", "7.00")},
            {"code": "EXP", "name": "Express", "transit_days": 1, "currency": "EUR", "rates": rates("15.00", "18.00")}
        ]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["services"].as_array().unwrap().len(), 3);
    b["webhook_secret"].as_str().unwrap().to_string()
}

async fn setup(t: &TestApp) -> String {
    let (s, b) = t
        .post(
            "warehouse",
            "/api/v1/warehouses",
            json!({"code": "MAIN", "name": "Main", "country": "DE", "postal_code": "10117"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = t
        .post(
            "sales",
            "/api/v1/products",
            json!({"sku": "BOX", "name": "Box", "unit_price": "10.00", "currency": "EUR",
               "weight_g": 1500, "stock": [{"warehouse": "MAIN", "quantity": 100}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Ships to DE 10115: zone 1 from MAIN.
    let (s, b) = t
        .post("sales", "/api/v1/customers", json!({
            "name": "Müller Handel GmbH", "currency": "EUR", "payment_terms_days": 30, "credit_limit": "100000.00",
            "email": "einkauf@mueller.example",
            "billing_address": crate::helpers::address("Berlin"), "shipping_address": crate::helpers::address("Berlin")}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

async fn order_by(t: &TestApp, customer: &str, qty: i64, by: Option<String>) -> (String, String) {
    order_of(t, customer, "BOX", qty, by).await
}

async fn order_of(
    t: &TestApp,
    customer: &str,
    sku: &str,
    qty: i64,
    by: Option<String>,
) -> (String, String) {
    let mut body = json!({"customer_id": customer, "lines": [{"sku": sku, "quantity": qty}]});
    if let Some(d) = by {
        body["requested_delivery_on"] = json!(d);
    }
    let (s, b) = t.post("sales", "/api/v1/orders", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let order = b["id"].as_str().unwrap().to_string();
    t.settle().await;
    let planned = t.shipments(&order, "planned").await;
    assert_eq!(
        planned.len(),
        1,
        "order {order} is {}",
        t.order_status(&order).await
    );
    let shipment = planned[0]["id"].as_str().unwrap().to_string();
    (order, shipment)
}

async fn dispatch(t: &TestApp, shipment: &str, body: Value) -> (StatusCode, Value) {
    t.post(
        "warehouse",
        &format!("/api/v1/shipments/{shipment}/dispatch"),
        body,
    )
    .await
}

async fn the_cheapest_service_meeting_the_promised_date_is_chosen_unless_one_is_named(t: &TestApp) {
    setup(t).await;
    carrier(t).await;
    let customer = t.get("admin", "/api/v1/customers").await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let today: chrono::NaiveDate = t.today().parse().unwrap();
    let in_two = o2c_core::shipping::arrival(today, 2).to_string();

    // No promise, 1.5 kg: the cheapest, ECO, at the 2 kg band of zone 1.
    let (_, s1) = order_by(t, &customer, 1, None).await;
    let (s, rates) = t
        .get("sales", &format!("/api/v1/shipments/{s1}/rates"))
        .await;
    assert_eq!(s, StatusCode::OK, "{rates}");
    assert_eq!(
        (rates["zone"].as_i64(), rates["weight_g"].as_i64()),
        (Some(1), Some(1500))
    );
    let chosen: Vec<&str> = rates["offers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["chosen"] == true)
        .map(|o| o["service"].as_str().unwrap())
        .collect();
    assert_eq!(chosen, vec!["PAK/ECO"]);
    let (s, b) = dispatch(t, &s1, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["service"].as_str(), b["service_chosen_by"].as_str()),
        (Some("PAK/ECO"), Some("rule"))
    );
    assert_eq!(b["freight"]["amount"], json!("3.00"));
    assert!(
        b["tracking_number"].as_str().unwrap().starts_with("PAK"),
        "{b}"
    );

    // Promised in two business days, 3 kg: ECO would be late; STD at the 31.5 kg band.
    let (_, s2) = order_by(t, &customer, 2, Some(in_two.clone())).await;
    let (s, b) = dispatch(t, &s2, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["service"], json!("PAK/STD"));
    assert_eq!(b["freight"]["amount"], json!("7.00"));
    assert_eq!(b["estimated_delivery_on"], json!(in_two));

    // A person names the service: an unknown one changes nothing, a known one wins.
    let (_, s3) = order_by(t, &customer, 1, None).await;
    let (s, b) = dispatch(t, &s3, json!({"service": "PAK/ROCKET"})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown-carrier-service")
        ),
        "{b}"
    );
    let (_, still) = t.get("sales", &format!("/api/v1/shipments/{s3}")).await;
    assert_eq!(still["status"], "planned");
    let (s, b) = dispatch(
        t,
        &s3,
        json!({"service": "pak/exp", "tracking_number": "JJD000111"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["service"].as_str(), b["service_chosen_by"].as_str()),
        (Some("PAK/EXP"), Some("person"))
    );
    assert_eq!(
        (
            b["freight"]["amount"].as_str(),
            b["tracking_number"].as_str()
        ),
        (Some("15.00"), Some("JJD000111"))
    );

    // 40 kg fits no band: refused with the reason, nothing dispatched.
    let (s, b) = t
        .post(
            "sales",
            "/api/v1/products",
            json!({"sku": "ANVIL", "name": "Anvil", "unit_price": "10.00", "currency": "EUR",
               "weight_g": 40500, "stock": [{"warehouse": "MAIN", "quantity": 5}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, s4) = order_of(t, &customer, "ANVIL", 1, None).await;
    let (s, b) = dispatch(t, &s4, json!({})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("no-shipping-service")
        ),
        "{b}"
    );
    assert!(
        b["detail"].as_str().unwrap().contains("zone 1 and 40.5 kg"),
        "{b}"
    );
    t.settle().await;
    t.assert_books_balance().await;
}

fn sign(secret: &str, t: i64, body: &str) -> String {
    o2c_app::webhooks::sign(secret.as_bytes(), t, body.as_bytes())
}

async fn webhook(t: &TestApp, signature: Option<String>, body: &str) -> (StatusCode, Value) {
    let mut req = t
        .client
        .post(t.url("/api/v1/carriers/PAK/webhooks"))
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("O2C-Signature", sig);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

async fn a_signed_carrier_webhook_confirms_delivery_once_and_the_customer_is_mailed(t: &TestApp) {
    let customer = setup(t).await;
    let secret = carrier(t).await;
    let (_, s1) = order_by(t, &customer, 1, None).await;
    let (s, b) = dispatch(t, &s1, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let tracking = b["tracking_number"].as_str().unwrap().to_string();
    let now = o2c_app::Clock::now(t.clock.as_ref()).timestamp();
    let body = json!({"event_id": "ev-1", "tracking_number": tracking, "status": "delivered",
                      "occurred_at": "2026-11-24T10:15:00Z"})
    .to_string();

    let (s, b) = webhook(t, None, &body).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("webhook-signature-invalid")),
        "{b}"
    );
    let (s, _) = webhook(t, Some(sign("wrong", now, &body)), &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = webhook(t, Some(sign(&secret, now - 3600, &body)), &body).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an hour-old signature is refused"
    );
    let (_, still) = t.get("sales", &format!("/api/v1/shipments/{s1}")).await;
    assert_eq!(still["status"], "dispatched");

    let (s, b) = webhook(t, Some(sign(&secret, now, &body)), &body).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["duplicate"].as_bool(), b["shipment_status"].as_str()),
        (Some(false), Some("delivered"))
    );
    let (s, b) = webhook(t, Some(sign(&secret, now, &body)), &body).await;
    assert_eq!((s, b["duplicate"].as_bool()), (StatusCode::OK, Some(true)));
    let (_, shipped) = t.get("sales", &format!("/api/v1/shipments/{s1}")).await;
    assert_eq!(
        shipped["delivered_at"].as_str().unwrap().get(..16),
        Some("2026-11-24T10:15")
    );

    // A second shipment is confirmed by hand; again is no change.
    let (_, s2) = order_by(t, &customer, 1, None).await;
    let (s, b) = t
        .post(
            "warehouse",
            &format!("/api/v1/shipments/{s2}/delivered"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition")),
        "not yet dispatched: {b}"
    );
    dispatch(t, &s2, json!({})).await;
    for _ in 0..2 {
        let (s, b) = t
            .post(
                "warehouse",
                &format!("/api/v1/shipments/{s2}/delivered"),
                json!({}),
            )
            .await;
        assert_eq!(
            (s, b["status"].as_str()),
            (StatusCode::OK, Some("delivered")),
            "{b}"
        );
    }
    let (_, events) = t
        .get(
            "admin",
            &format!(
                "/api/v1/orders/{}/events",
                shipped["order_id"].as_str().unwrap()
            ),
        )
        .await;
    let delivered: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "shipment.delivered")
        .collect();
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0]["actor"]["id"],
        json!("carrier.webhook"),
        "{:?}",
        delivered[0]
    );

    // The customer hears of each step, once, by e-mail through the notification worker.
    let (_, notes) = t
        .get(
            "admin",
            &format!("/api/v1/customers/{customer}/notifications"),
        )
        .await;
    let kinds: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "shipment_dispatched",
            "shipment_delivered",
            "shipment_dispatched",
            "shipment_delivered"
        ]
    );
    assert!(
        notes[0]["body"]
            .as_str()
            .unwrap()
            .contains(&format!("Tracking number: {tracking}")),
        "{}",
        notes[0]
    );
    let sink = SmtpSink::start();
    let cfg = SmtpConfig::parse(&sink.url(), "Shipping <shipping@example.com>").expect("config");
    o2c_app::notify::deliver_due(&t.app, &Mailer::new(&cfg).expect("mailer"), 50)
        .await
        .unwrap();
    let messages = sink.wait_for(4, Duration::from_secs(10));
    assert_eq!(messages.len(), 4);
    assert!(
        messages
            .iter()
            .all(|m| m.rcpt_to == vec!["einkauf@mueller.example".to_string()])
    );
    assert!(
        messages
            .iter()
            .any(|m| m.subject().is_some_and(|s| s.contains("was delivered")))
    );
    t.assert_books_balance().await;
}
