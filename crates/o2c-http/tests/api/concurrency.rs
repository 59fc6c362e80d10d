//! Concurrent clients: no oversell, and one order per Idempotency-Key.

use crate::both_stores;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

both_stores!(
    sixteen_clients_ordering_the_last_hundred_units_never_reserve_more_than_a_hundred,
    one_idempotency_key_sent_concurrently_creates_exactly_one_order
);

async fn sixteen_clients_ordering_the_last_hundred_units_never_reserve_more_than_a_hundred(
    t: &TestApp,
) {
    let customer = t.basic("1000000.00", 100).await;
    let mut created = Vec::new();
    let futures: Vec<_> = (0..16)
        .map(|c| {
            let customer = customer.clone();
            async move {
                let mut ids = Vec::new();
                for i in 0..5 {
                    let (s, b) = t
                        .post_with_key("sales", "/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "SKU-1", "quantity": 3}]}), &format!("c{c}-o{i}"))
                        .await;
                    assert_eq!(s, StatusCode::CREATED, "{b}");
                    ids.push(b["id"].as_str().unwrap().to_string());
                }
                ids
            }
        })
        .collect();
    // Orders arrive concurrently while the engine reserves concurrently too.
    let engine = async {
        for _ in 0..20 {
            t.app.engine_step(16).await.unwrap();
        }
    };
    let (results, ()) = tokio::join!(futures::future::join_all(futures), engine);
    for r in results {
        created.extend(r);
    }
    t.settle().await;
    assert_eq!(created.len(), 80, "240 units asked for, 100 on hand");
    let (_, product) = t.get("admin", "/api/v1/products/SKU-1").await;
    let reserved = product["stock"][0]["reserved"].as_i64().unwrap();
    assert_eq!(
        reserved, 100,
        "everything reservable is reserved, never more: {product}"
    );
    let mut allocated = 0;
    for id in &created {
        let (_, o) = t.get("admin", &format!("/api/v1/orders/{id}")).await;
        allocated += o["lines"][0]["allocated"].as_i64().unwrap();
    }
    assert_eq!(allocated, 100);
}

async fn one_idempotency_key_sent_concurrently_creates_exactly_one_order(t: &TestApp) {
    let customer = t.basic("1000000.00", 100).await;
    let body = json!({"customer_id": customer, "lines": [{"sku": "SKU-1", "quantity": 1}]});
    let futures: Vec<_> = (0..16)
        .map(|_| t.post_with_key("sales", "/api/v1/orders", body.clone(), "same-key"))
        .collect();
    let results = futures::future::join_all(futures).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, StatusCode::CREATED, "{b}");
            b["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every reply names the same order");
    assert_eq!(t.count_orders().await, 1);
}
