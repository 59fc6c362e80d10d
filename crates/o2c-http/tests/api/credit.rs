//! Credit management: every decision by versioned rules with the rules that fired, a fast path
//! for good payers, re-checks on every change that raises exposure, the analyst's queue, and
//! automatic release when a payment makes room.

use crate::both_stores;
use crate::helpers::{TestApp, address, amount, customer_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    decisions_name_every_rule_that_fired_and_the_policy_version,
    a_blocked_customer_is_rejected_and_a_high_risk_one_held,
    overdue_items_hold_new_orders,
    a_returning_customer_with_a_clean_history_takes_the_fast_path_and_a_late_payer_does_not,
    a_payment_that_makes_room_releases_the_hold_by_itself,
    the_analyst_raises_the_limit_and_releases_with_a_comment,
    amending_reopening_or_copying_an_order_goes_through_credit_again,
    a_credit_group_shares_one_limit,
    credit_applications_are_decided_by_the_same_rules,
    a_bad_policy_is_refused_and_changes_nothing,
    with_a_horizon_only_orders_due_soon_count_towards_exposure,
);

async fn decisions(t: &TestApp, order_id: &str) -> Vec<Value> {
    let (s, d) = t
        .get(
            "credit",
            &format!("/api/v1/orders/{order_id}/credit-decisions"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d.as_array().unwrap().clone()
}

fn rules(decision: &Value) -> Vec<String> {
    decision["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect()
}

async fn placed(t: &TestApp, customer: &str, qty: i64) -> String {
    t.order(customer, &[("SKU-1", qty)]).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn decisions_name_every_rule_that_fired_and_the_policy_version(t: &TestApp) {
    let customer = t.basic("100000.00", 1000).await;
    let (_, p) = t.get("credit", "/api/v1/credit/policy").await;
    assert_eq!(p["version"], 0, "the built-in default until one is set");
    let mut policy = p["policy"].clone();
    policy["new_customer"]["max_order"] = json!("100.00");
    let (s, v) = t.put("credit", "/api/v1/credit/policy", policy).await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(1)), "{v}");
    t.put(
        "credit",
        &format!("/api/v1/customers/{customer}/credit"),
        json!({"risk_class": "high"}),
    )
    .await;
    let id = placed(t, &customer, 20).await; // 238.00 > 100.00 for a customer without history
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "credit_hold");
    let d = decisions(t, &id).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["policy_version"], 1);
    assert_eq!(d[0]["outcome"], "hold");
    assert_eq!(rules(&d[0]), ["credit.risk_class", "credit.new_customer"]);
    assert_eq!(d[0]["decided_by"], "rule:credit.auto_decide");
    assert_eq!(amount(&d[0]["limit"]), "100000.00");
    assert!(
        d[0]["reason"].as_str().unwrap().contains("238.00 EUR"),
        "{}",
        d[0]
    );
    let (_, snapshot) = t.get("credit", &format!("/api/v1/credit/holds/{id}")).await;
    assert_eq!(snapshot["risk_class"], "high");
    assert_eq!(snapshot["aging"].as_array().unwrap().len(), 5);
    assert!(!snapshot["suggested_action"].as_str().unwrap().is_empty());
}

async fn a_blocked_customer_is_rejected_and_a_high_risk_one_held(t: &TestApp) {
    let customer = t.basic("100000.00", 1000).await;
    let (s, b) = t
        .put(
            "credit",
            &format!("/api/v1/customers/{customer}/credit"),
            json!({"blocked": true, "comment": "insolvency notice"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{customer}/credit"),
            json!({"blocked": false}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "only the credit role changes a credit profile"
    );
    let id = placed(t, &customer, 1).await;
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "rejected");
    assert_eq!(rules(&decisions(t, &id).await[0]), ["credit.blocked"]);
    t.put(
        "credit",
        &format!("/api/v1/customers/{customer}/credit"),
        json!({"blocked": false, "risk_class": "high"}),
    )
    .await;
    let id = placed(t, &customer, 1).await;
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "credit_hold");
}

async fn overdue_items_hold_new_orders(t: &TestApp) {
    let customer = t.basic("100000.00", 1000).await; // 30-day terms
    t.invoiced_order(&customer, &[("SKU-1", 1)]).await;
    t.clock.advance_days(61); // 31 days overdue
    let id = placed(t, &customer, 1).await;
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "credit_hold");
    let d = decisions(t, &id).await;
    assert_eq!(rules(&d[0]), ["credit.overdue"]);
    assert!(
        d[0]["rules"][0]["message"]
            .as_str()
            .unwrap()
            .contains("31 days"),
        "{}",
        d[0]
    );
    let (_, snapshot) = t.get("credit", &format!("/api/v1/credit/holds/{id}")).await;
    assert_eq!(snapshot["aging"][2]["bucket"], "31-60");
    assert_eq!(amount(&snapshot["aging"][2]["amount"]), "11.90");
    assert!(
        snapshot["suggested_action"]
            .as_str()
            .unwrap()
            .contains("overdue")
    );
}

async fn a_returning_customer_with_a_clean_history_takes_the_fast_path_and_a_late_payer_does_not(
    t: &TestApp,
) {
    let customer = t.basic("100000.00", 10000).await;
    let (s, late) = t
        .post(
            "sales",
            "/api/v1/customers",
            customer_body("Spät & Söhne KG", "100000.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let late = late["id"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let (_, inv) = t.invoiced_order(&customer, &[("SKU-1", 1)]).await;
        t.pay(
            &customer,
            &amount(&inv["gross"]),
            &[inv["number"].as_str().unwrap()],
        )
        .await;
    }
    let mut late_invoices = Vec::new();
    for _ in 0..3 {
        late_invoices.push(t.invoiced_order(&late, &[("SKU-1", 1)]).await.1);
    }
    t.clock.advance_days(50); // paid 20 days after the due date
    for inv in &late_invoices {
        t.pay(
            &late,
            &amount(&inv["gross"]),
            &[inv["number"].as_str().unwrap()],
        )
        .await;
    }
    t.settle().await;
    t.clock.advance_days(-50);
    // Ten times the usual order: held for an unknown customer, approved on the fast path here.
    let big = placed(t, &customer, 10).await;
    t.settle().await;
    assert_eq!(t.order_status(&big).await, "reserved");
    let d = decisions(t, &big).await;
    assert_eq!(
        (d[0]["fast_path"].as_bool(), d[0]["outcome"].as_str()),
        (Some(true), Some("approve")),
        "{d:?}"
    );
    assert!(d[0]["reason"].as_str().unwrap().contains("fast path"));
    let slow = placed(t, &late, 1).await;
    t.settle().await;
    assert_eq!(t.order_status(&slow).await, "credit_hold");
    assert_eq!(
        rules(&decisions(t, &slow).await[0]),
        ["credit.payment_score"]
    );
}

async fn a_payment_that_makes_room_releases_the_hold_by_itself(t: &TestApp) {
    let customer = t.basic("100.00", 100).await;
    let (_, inv) = t.invoiced_order(&customer, &[("SKU-1", 5)]).await; // 59.50 open
    let held = placed(t, &customer, 5).await; // 59.50 + 59.50 > 100.00
    t.settle().await;
    assert_eq!(t.order_status(&held).await, "credit_hold");
    t.pay(&customer, "20.00", &[]).await; // 39.50 + 59.50 = 99.00: fits again
    t.settle().await;
    assert_eq!(t.order_status(&held).await, "reserved");
    let d = decisions(t, &held).await;
    assert_eq!(d.len(), 2);
    assert_eq!(d[1]["decided_by"], "rule:credit.release_on_payment");
    let (_, events) = t
        .get("admin", &format!("/api/v1/orders/{held}/events"))
        .await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "order.credit_approved"
                && e["actor"]["id"] == "credit.release_on_payment")
    );
    let _ = inv;
}

async fn the_analyst_raises_the_limit_and_releases_with_a_comment(t: &TestApp) {
    let customer = t.basic("50.00", 100).await;
    let id = placed(t, &customer, 5).await;
    t.settle().await;
    let (s, b) = t
        .post(
            "credit",
            &format!("/api/v1/orders/{id}/credit-release"),
            json!({"new_limit": "abc"}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("malformed-amount"))
    );
    assert_eq!(t.order_status(&id).await, "credit_hold", "nothing changed");
    let (s, b) = t
        .post(
            "credit",
            &format!("/api/v1/orders/{id}/credit-release"),
            json!({"new_limit": "1000.00", "comment": "bank guarantee received"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, c) = t
        .get("admin", &format!("/api/v1/customers/{customer}"))
        .await;
    assert_eq!(amount(&c["credit_limit"]), "1000.00");
    let d = decisions(t, &id).await;
    assert_eq!(d[1]["comment"], "bank guarantee received");
    assert!(d[1]["decided_by"].as_str().unwrap().starts_with("api_key:"));
}

async fn amending_reopening_or_copying_an_order_goes_through_credit_again(t: &TestApp) {
    let customer = t.basic("100.00", 100).await;
    let id = placed(t, &customer, 2).await; // 23.80
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "reserved");
    // More quantity: over the limit now.
    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{id}/amend"),
            json!({"lines": [{"line_no": 1, "quantity": 9}]}),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("received")),
        "{b}"
    );
    let (_, p) = t.get("admin", "/api/v1/products/SKU-1").await;
    assert_eq!(p["stock"][0]["reserved"], 0, "the stock went back");
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "credit_hold", "107.10 > 100.00");
    // A higher price also counts.
    let (s, _) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{id}/amend"),
            json!({"lines": [{"line_no": 1, "quantity": 2, "unit_price": "10.00"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    t.settle().await;
    assert_eq!(t.order_status(&id).await, "reserved");
    // Rejected, then reopened: decided again.
    let other = placed(t, &customer, 9).await;
    t.settle().await;
    t.post(
        "credit",
        &format!("/api/v1/orders/{other}/credit-reject"),
        json!({}),
    )
    .await;
    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{other}/reopen"),
            json!({"reason": "customer insists"}),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("received")),
        "{b}"
    );
    t.settle().await;
    assert_eq!(
        t.order_status(&other).await,
        "credit_hold",
        "still over the limit"
    );
    // A copy is a new order with its own decision.
    let (s, copy) = t
        .post("sales", &format!("/api/v1/orders/{id}/copy"), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{copy}");
    let copy = copy["id"].as_str().unwrap().to_string();
    assert_ne!(copy, id);
    t.settle().await;
    assert_eq!(decisions(t, &copy).await.len(), 1);
    // Nothing changes once goods have left.
    t.dispatch_all(&id).await;
    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{id}/amend"),
            json!({"lines": [{"line_no": 1, "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition"))
    );
    let (s, b) = t
        .post(
            "sales",
            &format!("/api/v1/orders/{copy}/amend"),
            json!({"lines": [{"line_no": 7, "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field"))
    );
    t.settle().await;
    t.assert_books_balance().await;
}

async fn a_credit_group_shares_one_limit(t: &TestApp) {
    let parent = t.basic("100000.00", 100).await;
    let (_, sub) = t
        .post(
            "sales",
            "/api/v1/customers",
            customer_body("Müller Tochter GmbH", "100000.00"),
        )
        .await;
    let sub = sub["id"].as_str().unwrap().to_string();
    let (s, g) = t
        .post(
            "credit",
            "/api/v1/credit/groups",
            json!({"name": "Müller Gruppe", "currency": "EUR", "credit_limit": "100.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let group = g["id"].as_str().unwrap();
    for c in [&parent, &sub] {
        let (s, b) = t
            .put(
                "credit",
                &format!("/api/v1/customers/{c}/credit"),
                json!({"credit_group_id": group}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let a = placed(t, &parent, 5).await;
    t.settle().await;
    assert_eq!(t.order_status(&a).await, "reserved");
    let b = placed(t, &sub, 5).await; // the group's 59.50 + 59.50 > 100.00
    t.settle().await;
    assert_eq!(t.order_status(&b).await, "credit_hold");
    let (_, g) = t
        .get("admin", &format!("/api/v1/credit/groups/{group}"))
        .await;
    assert_eq!(amount(&g["exposure"]), "59.50");
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
}

async fn credit_applications_are_decided_by_the_same_rules(t: &TestApp) {
    let body = |name: &str, limit: &str, risk: &str| {
        json!({"name": name, "currency": "EUR", "payment_terms_days": 30, "requested_limit": limit, "risk_class": risk,
               "billing_address": address("Köln"), "shipping_address": address("Bonn")})
    };
    let (s, a) = t
        .post(
            "sales",
            "/api/v1/credit-applications",
            body("Klein GmbH", "2000.00", "low"),
        )
        .await;
    assert_eq!(
        (s, a["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{a}"
    );
    let (_, c) = t
        .get(
            "admin",
            &format!("/api/v1/customers/{}", a["customer_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(amount(&c["credit_limit"]), "2000.00");
    let (_, big) = t
        .post(
            "sales",
            "/api/v1/credit-applications",
            body("Groß AG", "50000.00", "low"),
        )
        .await;
    assert_eq!(big["status"], "pending");
    assert_eq!(
        big["evaluation"]["fired"][0]["rule"],
        "credit.application_limit"
    );
    let (_, queue) = t
        .get("credit", "/api/v1/credit/applications?status=pending")
        .await;
    assert_eq!(queue.as_array().unwrap().len(), 1);
    let (s, decided) = t
        .post(
            "credit",
            &format!(
                "/api/v1/credit/applications/{}/approve",
                big["id"].as_str().unwrap()
            ),
            json!({"credit_limit": "20000.00", "comment": "references checked"}),
        )
        .await;
    assert_eq!(
        (s, decided["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{decided}"
    );
    let (_, c) = t
        .get(
            "admin",
            &format!(
                "/api/v1/customers/{}",
                decided["customer_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(amount(&c["credit_limit"]), "20000.00");
    let (s, _) = t
        .post(
            "credit",
            &format!(
                "/api/v1/credit/applications/{}/approve",
                big["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "decided once");
    let (_, bad) = t
        .post(
            "sales",
            "/api/v1/credit-applications",
            body("Pleite KG", "100.00", "critical"),
        )
        .await;
    assert_eq!(
        (bad["status"].as_str(), bad["customer_id"].as_str()),
        (Some("rejected"), None)
    );
}

async fn a_bad_policy_is_refused_and_changes_nothing(t: &TestApp) {
    let (_, p) = t.get("credit", "/api/v1/credit/policy").await;
    let mut policy = p["policy"].clone();
    policy["overdue"]["max_days"] = json!(-1);
    let (s, b) = t
        .put("credit", "/api/v1/credit/policy", policy.clone())
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field")),
        "{b}"
    );
    policy["overdue"]["max_days"] = json!(30);
    policy["overdue"]["max_amount"] = json!("lots");
    let (s, b) = t
        .put("credit", "/api/v1/credit/policy", policy.clone())
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("malformed-amount")),
        "{b}"
    );
    policy["surprise"] = json!(true);
    let (s, b) = t.put("credit", "/api/v1/credit/policy", policy).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-body")),
        "{b}"
    );
    let (_, p) = t.get("credit", "/api/v1/credit/policy").await;
    assert_eq!(p["version"], 0);
}

async fn with_a_horizon_only_orders_due_soon_count_towards_exposure(t: &TestApp) {
    let customer = t.basic("100.00", 100).await;
    let later = (t.app.today() + chrono::Days::new(90)).to_string();
    let (s, far) = t
        .post("sales", "/api/v1/orders", json!({"customer_id": customer, "requested_delivery_on": later, "lines": [{"sku": "SKU-1", "quantity": 5}]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{far}");
    assert_eq!(far["requested_delivery_on"], later.as_str());
    t.settle().await;
    assert_eq!(
        t.order_status(far["id"].as_str().unwrap()).await,
        "reserved"
    ); // 59.50 open
    let held = placed(t, &customer, 5).await; // 59.50 + 59.50 > 100.00
    t.settle().await;
    assert_eq!(t.order_status(&held).await, "credit_hold");
    let (_, p) = t.get("credit", "/api/v1/credit/policy").await;
    let mut policy = p["policy"].clone();
    policy["exposure_horizon_days"] = json!(30);
    let (s, _) = t.put("credit", "/api/v1/credit/policy", policy).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = t
        .post(
            "credit",
            &format!("/api/v1/orders/{held}/credit-reject"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    t.post("sales", &format!("/api/v1/orders/{held}/reopen"), json!({}))
        .await;
    t.settle().await;
    assert_eq!(
        t.order_status(&held).await,
        "reserved",
        "the order due in 90 days no longer counts"
    );
    let (s, b) = t
        .post("sales", "/api/v1/orders", json!({"customer_id": customer, "requested_delivery_on": "next week", "lines": [{"sku": "SKU-1", "quantity": 1}]}))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field")),
        "{b}"
    );
}
