//! Receivables over the API: aging with each item's reason, disputes, promises, notes,
//! dunning, write-offs, the worklist and key figures.

use crate::both_stores;
use crate::helpers::{TestApp, amount};
use o2c_app::receivable::aging;
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    aging_buckets_items_by_due_date_and_says_why_each_is_unpaid,
    aging_refuses_bad_parameters_by_name,
);

/// Two invoices of 35.70 (3 × 10.00 + 19 %), one paid 10.00: aged 45 days later.
async fn two_open_invoices(app: &TestApp) -> (String, Value, Value) {
    let c = app.basic("100000.00", 100).await;
    let (_, a) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let (_, b) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    assert_eq!(amount(&a["gross"]), "35.70");
    app.pay(&c, "10.00", &[b["id"].as_str().unwrap()]).await;
    app.settle().await;
    (c, a, b)
}

pub async fn aging_buckets_items_by_due_date_and_says_why_each_is_unpaid(app: &TestApp) {
    let (c, a, b) = two_open_invoices(app).await;
    let issued = app.today();
    app.clock.advance_days(45);
    // Due after 30 days: 15 days overdue today.
    let (s, r) = app.get("receivables", "/api/v1/reports/aging").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        r["buckets"],
        json!(["current", "1-30", "31-60", "61-90", "90+"])
    );
    let total = &r["totals"][0];
    assert_eq!(total["currency"], "EUR");
    let amounts: Vec<String> = total["amounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(amount)
        .collect();
    assert_eq!(amounts, ["0.00", "61.40", "0.00", "0.00", "0.00"], "{r:#}");
    assert_eq!(amount(&total["overdue"]), "61.40");
    assert_eq!(total["items"], 2);
    assert_eq!(r["customers"][0]["customer_id"], c.as_str());
    assert_eq!(amount(&r["customers"][0]["total"]), "61.40");

    // The same items as of the issue day: nothing overdue yet.
    let (_, r) = app
        .get(
            "receivables",
            &format!("/api/v1/reports/aging?as_of={issued}"),
        )
        .await;
    assert_eq!(amount(&r["totals"][0]["amounts"][0]), "61.40", "{r:#}");
    // By invoice date they are 45 days old.
    let (_, r) = app
        .get(
            "credit",
            "/api/v1/reports/aging?basis=invoice_date&totals_only=true",
        )
        .await;
    assert_eq!(amount(&r["totals"][0]["amounts"][2]), "61.40", "{r:#}");
    assert_eq!(r["customers"], json!([]));

    // One customer: its items, each with the reason it is unpaid.
    let (_, r) = app
        .get(
            "receivables",
            &format!("/api/v1/reports/aging?customer_id={c}"),
        )
        .await;
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{r:#}");
    let by_id = |id: &Value| {
        items
            .iter()
            .find(|i| i["invoice_id"] == *id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&a["id"])["reason"], "overdue");
    assert_eq!(by_id(&a["id"])["days_overdue"], 15);
    assert_eq!(by_id(&a["id"])["bucket"], "1-30");
    assert_eq!(by_id(&b["id"])["reason"], "partially_paid");
    assert_eq!(amount(&by_id(&b["id"])["open"]), "25.70");

    // CSV: one line per customer and a total line.
    let resp = app
        .client
        .get(app.url("/api/v1/reports/aging?format=csv"))
        .bearer_auth(app.key("receivables"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("customer_id,name,currency,current,1-30,31-60,61-90,90+,total,items\n"),
        "{text}"
    );
    assert!(
        text.contains("TOTAL,,EUR,0.00,61.40,0.00,0.00,0.00,61.40,2"),
        "{text}"
    );

    // The kept aggregates equal a recomputation from the items; paying the rest empties them.
    assert!(app.app.read(aging::check).await.unwrap().ok());
    app.pay(&c, "61.40", &[]).await;
    app.settle().await;
    let (_, r) = app.get("receivables", "/api/v1/reports/aging").await;
    assert_eq!(r["totals"], json!([]), "{r:#}");
    let check = app.app.read(aging::check).await.unwrap();
    assert!(check.ok() && check.rows == 0, "{check:?}");
    app.assert_books_balance().await;
}

pub async fn aging_refuses_bad_parameters_by_name(app: &TestApp) {
    for (query, field) in [
        ("buckets=30,20", "buckets"),
        ("as_of=yesterday", "as_of"),
        ("basis=ship_date", "basis"),
        ("format=xml", "format"),
    ] {
        let (s, b) = app
            .get("receivables", &format!("/api/v1/reports/aging?{query}"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {b}");
        assert_eq!(b["code"], "invalid-field");
        assert!(b["detail"].as_str().unwrap().starts_with(field), "{b}");
    }
    let (s, _) = app.get("sales", "/api/v1/reports/aging").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = app
        .get("receivables", "/api/v1/reports/aging?customer_id=cus_nope")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}
