//! The whole cycle through the API, every step after the order driven by events.

use crate::both_stores;
use crate::helpers::{TestApp, amount};
use reqwest::StatusCode;

both_stores!(
    an_order_goes_from_intake_to_closed_without_a_person,
    the_audit_trail_names_who_did_each_step,
    invoice_numbers_have_no_gaps
);

async fn an_order_goes_from_intake_to_closed_without_a_person(t: &TestApp) {
    let customer = t.basic("10000.00", 50).await;
    let order = t.order(&customer, &[("SKU-1", 3)]).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["status"], "received");
    assert_eq!(amount(&order["net"]), "30.00");
    assert_eq!(amount(&order["tax"]), "5.70"); // 19% on the German ship-to
    assert_eq!(amount(&order["gross"]), "35.70");

    t.settle().await; // credit approved by rule → stock reserved → shipment planned
    assert_eq!(t.order_status(id).await, "reserved");
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(product["stock"][0]["reserved"], 3);
    assert_eq!(t.dispatch_all(id).await, 1);
    assert_eq!(t.order_status(id).await, "shipped");

    t.settle().await; // invoice issued automatically
    let invoices = t.invoices(id).await;
    assert_eq!(invoices.len(), 1);
    let inv = &invoices[0];
    assert_eq!(amount(&inv["gross"]), "35.70");
    assert_eq!(inv["payment_status"], "unpaid");
    assert_eq!(inv["taxes"][0]["rate"], "19.00");
    let issued =
        chrono::NaiveDate::parse_from_str(inv["issued_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let due =
        chrono::NaiveDate::parse_from_str(inv["due_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(
        (due - issued).num_days(),
        30,
        "due date from the 30-day terms"
    );
    assert!(inv["number"].as_str().unwrap().starts_with("INV-"));
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(
        (
            product["stock"][0]["on_hand"].as_i64(),
            product["stock"][0]["reserved"].as_i64()
        ),
        (Some(47), Some(0))
    );
    t.assert_books_balance().await;

    let payment = t.pay(&customer, "35.70", &[]).await;
    t.settle().await; // applied to the open invoice, invoice paid, order closed
    let (_, payment) = t
        .get(
            "admin",
            &format!("/api/v1/payments/{}", payment["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(amount(&payment["unapplied"]), "0.00");
    assert_eq!(
        payment["applications"][0]["applied_by"],
        "rule:cash.auto_apply"
    );
    assert_eq!(t.invoices(id).await[0]["payment_status"], "paid");
    assert_eq!(t.order_status(id).await, "closed");
    t.assert_books_balance().await;
    let account = t.account(&customer).await;
    assert_eq!(amount(&account["customer"]["exposure"]), "0.00");
}

async fn the_audit_trail_names_who_did_each_step(t: &TestApp) {
    let customer = t.basic("10000.00", 10).await;
    let id = t.order(&customer, &[("SKU-1", 1)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    t.dispatch_all(&id).await;
    t.settle().await;
    t.pay(&customer, "11.90", &[]).await;
    t.settle().await;
    let (s, events) = t.get("sales", &format!("/api/v1/orders/{id}/events")).await;
    assert_eq!(s, StatusCode::OK);
    let trail: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    e["actor"]["kind"].as_str().unwrap(),
                    e["actor"]["id"].as_str().unwrap()
                ),
            )
        })
        .collect();
    let kinds: Vec<&str> = trail.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "order.received",
            "order.credit_approved",
            "order.stock_reserved",
            "shipment.planned",
            "shipment.dispatched",
            "invoice.issued",
            "payment.applied",
            "invoice.paid",
            "order.closed"
        ]
    );
    assert!(
        trail[0].1.starts_with("api_key:key_"),
        "an integration placed it: {trail:?}"
    );
    assert_eq!(trail[1].1, "rule:credit.auto_decide");
    assert_eq!(trail[2].1, "rule:inventory.reserve");
    assert!(
        trail[4].1.starts_with("api_key:key_"),
        "the warehouse dispatched it"
    );
    assert_eq!(trail[5].1, "rule:invoice.on_dispatch");
    assert_eq!(trail[8].1, "rule:order.close_when_settled");
    for e in events.as_array().unwrap() {
        assert!(chrono::DateTime::parse_from_rfc3339(e["occurred_at"].as_str().unwrap()).is_ok());
    }
    let (s, _) = t
        .get("sales", "/api/v1/orders/ord_doesnotexist/events")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn invoice_numbers_have_no_gaps(t: &TestApp) {
    let customer = t.basic("100000.00", 100).await;
    let mut orders = Vec::new();
    for _ in 0..5 {
        orders.push(
            t.order(&customer, &[("SKU-1", 2)]).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    t.settle().await;
    for o in &orders {
        t.dispatch_all(o).await;
    }
    t.settle().await;
    let (_, all) = t
        .get("admin", &format!("/api/v1/invoices?customer_id={customer}"))
        .await;
    let mut numbers: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["number"]
                .as_str()
                .unwrap()
                .rsplit('-')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
}
