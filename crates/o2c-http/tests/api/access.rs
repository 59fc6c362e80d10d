//! API keys and roles: no key → 401, wrong role → 403.

use crate::both_stores;
use crate::helpers::{TestApp, customer_body};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_stores!(each_role_reaches_only_its_functions);

async fn each_role_reaches_only_its_functions(t: &TestApp) {
    let (s, b) = t
        .send(None, Method::GET, "/api/v1/orders", None, None)
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let resp = t
        .client
        .get(t.url("/api/v1/orders"))
        .bearer_auth("o2c_not_a_key")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");

    for (role, path, allowed) in [
        ("warehouse", "/api/v1/customers", false),
        ("credit", "/api/v1/customers", false),
        ("receivables", "/api/v1/customers", false),
        ("sales", "/api/v1/customers", true),
        ("admin", "/api/v1/customers", true),
    ] {
        let (s, b) = t
            .post(role, path, customer_body("Role Test", "10.00"))
            .await;
        let expected = if allowed {
            StatusCode::CREATED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(s, expected, "{role} POST {path}: {b}");
    }
    let (s, b) = t
        .post(
            "sales",
            "/api/v1/payments",
            json!({"customer_id": "x", "amount": "1", "currency": "EUR"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(b["detail"].as_str().unwrap().contains("receivables"), "{b}");
    let (s, _) = t.get("sales", "/api/v1/credit/holds").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t.get("credit", "/api/v1/credit/holds").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.get("warehouse", "/api/v1/ledger/trial-balance").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .post("sales", "/api/v1/api-keys", json!({"role": "admin"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, b) = t
        .post(
            "admin",
            "/api/v1/api-keys",
            json!({"role": "warehouse", "label": "scanner 3"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let secret = b["secret"].as_str().unwrap();
    let resp = t
        .client
        .get(t.url("/api/v1/warehouses"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "a new key works at once");
    let (s, b) = t
        .post("admin", "/api/v1/api-keys", json!({"role": "emperor"}))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field"))
    );
}
