//! The branches of the cycle: credit hold, backorder, partial shipment and payment,
//! overpayment, cancellation.

use crate::both_stores;
use crate::helpers::{TestApp, amount};
use reqwest::StatusCode;
use serde_json::json;

both_stores!(
    an_order_over_the_credit_limit_is_held_and_released_by_the_credit_role,
    a_held_order_rejected_by_the_credit_role_stays_rejected,
    an_out_of_stock_order_is_backordered_and_released_first_come_first_served,
    a_partial_shipment_is_invoiced_for_what_shipped,
    a_partial_payment_leaves_the_invoice_partially_paid,
    an_overpayment_stays_on_account_and_settles_the_next_invoice,
    cancelling_before_dispatch_releases_the_reservation,
);

async fn an_order_over_the_credit_limit_is_held_and_released_by_the_credit_role(t: &TestApp) {
    let customer = t.basic("50.00", 100).await; // 5 × 11.90 = 59.50 > 50.00
    let id = t.order(&customer, &[("SKU-1", 5)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "credit_hold");
    let (_, holds) = t.get("credit", "/api/v1/credit/holds").await;
    assert_eq!(holds[0]["order_id"], id.as_str());
    assert!(
        holds[0]["reason"]
            .as_str()
            .unwrap()
            .contains("exceeds the credit limit"),
        "{holds}"
    );
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(
        product["stock"][0]["reserved"], 0,
        "nothing reserved while on hold"
    );

    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{id}/credit-release"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, b) = t
        .post(
            "credit",
            &format!("/api/v1/orders/{id}/credit-release"),
            json!({"comment": "known customer, paid late once"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "approved");
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "reserved");
    let (s, _) = t
        .post(
            "credit",
            &format!("/api/v1/orders/{id}/credit-release"),
            json!({}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "releasing twice is an illegal transition"
    );
    let (_, events) = t.get("admin", &format!("/api/v1/orders/{id}/events")).await;
    let approved = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "order.credit_approved")
        .unwrap();
    assert_eq!(approved["actor"]["kind"], "api_key");
    assert_eq!(
        approved["data"]["comment"],
        "known customer, paid late once"
    );
}

async fn a_held_order_rejected_by_the_credit_role_stays_rejected(t: &TestApp) {
    let customer = t.basic("10.00", 100).await;
    let id = t.order(&customer, &[("SKU-1", 5)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    let (s, b) = t
        .post(
            "credit",
            &format!("/api/v1/orders/{id}/credit-reject"),
            json!({"comment": "no"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "rejected");
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "rejected");
    assert!(t.shipments(&id, "planned").await.is_empty());
    let account = t.account(&customer).await;
    assert_eq!(amount(&account["customer"]["open_orders"]), "0.00");
}

async fn an_out_of_stock_order_is_backordered_and_released_first_come_first_served(t: &TestApp) {
    let customer = t.basic("100000.00", 0).await;
    let first = t.order(&customer, &[("SKU-1", 4)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = t.order(&customer, &[("SKU-1", 4)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    assert_eq!(t.order_status(&first).await, "backordered");
    assert_eq!(t.order_status(&second).await, "backordered");
    let (s, b) = t
        .post(
            "warehouse",
            "/api/v1/stock-receipts",
            json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    t.settle().await;
    assert_eq!(
        t.order_status(&first).await,
        "reserved",
        "the first order is served first"
    );
    assert_eq!(t.order_status(&second).await, "backordered");
    let (_, o2) = t.get("admin", &format!("/api/v1/orders/{second}")).await;
    assert_eq!(
        o2["lines"][0]["allocated"], 1,
        "the remaining unit goes to the second order"
    );
    t.post(
        "warehouse",
        "/api/v1/stock-receipts",
        json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": 3}),
    )
    .await;
    t.settle().await;
    assert_eq!(t.order_status(&second).await, "reserved");
    assert_eq!(
        t.shipments(&second, "planned").await.len(),
        2,
        "one shipment per reservation wave"
    );
}

async fn a_partial_shipment_is_invoiced_for_what_shipped(t: &TestApp) {
    let customer = t.basic("100000.00", 6).await;
    let id = t.order(&customer, &[("SKU-1", 10)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "backordered");
    t.dispatch_all(&id).await;
    assert_eq!(t.order_status(&id).await, "partially_shipped");
    t.settle().await;
    let invoices = t.invoices(&id).await;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0]["lines"][0]["quantity"], 6);
    assert_eq!(amount(&invoices[0]["gross"]), "71.40");
    let account = t.account(&customer).await;
    assert_eq!(
        amount(&account["customer"]["open_orders"]),
        "47.60",
        "the 4 units not yet invoiced"
    );
    t.post(
        "warehouse",
        "/api/v1/stock-receipts",
        json!({"sku": "SKU-1", "warehouse": "MAIN", "quantity": 4}),
    )
    .await;
    t.settle().await;
    t.dispatch_all(&id).await;
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "shipped");
    let invoices = t.invoices(&id).await;
    assert_eq!(invoices.len(), 2);
    assert_eq!(amount(&invoices[1]["gross"]), "47.60");
    let account = t.account(&customer).await;
    assert_eq!(amount(&account["customer"]["open_orders"]), "0.00");
    assert_eq!(amount(&account["customer"]["open_receivables"]), "119.00");
    t.assert_books_balance().await;
}

async fn a_partial_payment_leaves_the_invoice_partially_paid(t: &TestApp) {
    let customer = t.basic("100000.00", 10).await;
    let id = t.order(&customer, &[("SKU-1", 10)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    t.dispatch_all(&id).await;
    t.settle().await;
    let inv = t.invoices(&id).await[0].clone();
    t.pay(&customer, "50.00", &[inv["number"].as_str().unwrap()])
        .await;
    t.settle().await;
    let inv = t.invoices(&id).await[0].clone();
    assert_eq!(inv["payment_status"], "partially_paid");
    assert_eq!(amount(&inv["open"]), "69.00");
    assert_eq!(
        t.order_status(&id).await,
        "shipped",
        "not closed until paid"
    );
    t.pay(&customer, "69.00", &[]).await;
    t.settle().await;
    assert_eq!(t.invoices(&id).await[0]["payment_status"], "paid");
    assert_eq!(t.order_status(&id).await, "closed");
    t.assert_books_balance().await;
}

async fn an_overpayment_stays_on_account_and_settles_the_next_invoice(t: &TestApp) {
    let customer = t.basic("100000.00", 10).await;
    let first = t.order(&customer, &[("SKU-1", 1)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    t.dispatch_all(&first).await;
    t.settle().await;
    let payment = t.pay(&customer, "30.00", &[]).await;
    t.settle().await;
    let (_, p) = t
        .get(
            "admin",
            &format!("/api/v1/payments/{}", payment["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(amount(&p["unapplied"]), "18.10");
    let account = t.account(&customer).await;
    assert_eq!(amount(&account["customer"]["unapplied_cash"]), "18.10");
    t.assert_books_balance().await;

    let second = t.order(&customer, &[("SKU-1", 1)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    t.dispatch_all(&second).await;
    t.settle().await;
    assert_eq!(
        t.invoices(&second).await[0]["payment_status"],
        "paid",
        "settled from the credit on account"
    );
    assert_eq!(t.order_status(&second).await, "closed");
    let account = t.account(&customer).await;
    assert_eq!(amount(&account["customer"]["unapplied_cash"]), "6.20");
    t.assert_books_balance().await;
}

async fn cancelling_before_dispatch_releases_the_reservation(t: &TestApp) {
    let customer = t.basic("100000.00", 10).await;
    let id = t.order(&customer, &[("SKU-1", 7)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(product["stock"][0]["reserved"], 7);
    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "customer changed their mind"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "cancelled");
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(
        (
            product["stock"][0]["reserved"].as_i64(),
            product["stock"][0]["available"].as_i64()
        ),
        (Some(0), Some(10))
    );
    assert_eq!(t.shipments(&id, "cancelled").await.len(), 1);
    assert_eq!(
        amount(&t.account(&customer).await["customer"]["open_orders"]),
        "0.00"
    );

    let shipped = t.order(&customer, &[("SKU-1", 1)]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settle().await;
    t.dispatch_all(&shipped).await;
    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{shipped}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition"))
    );
}
