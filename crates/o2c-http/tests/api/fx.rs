//! Foreign-currency receivables: invoices held at the rate of their date, payments at the rate
//! of theirs, the realised difference booked as exchange gain or loss, and the books kept in
//! the functional currency.

use crate::both_stores;
use crate::helpers::{TestApp, cents};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    a_dollar_invoice_paid_in_two_parts_books_the_realised_exchange_difference,
    bad_rates_and_missing_rates_are_refused_and_change_nothing
);

/// A US customer buying at 12.00 USD per item, with a USD price list.
async fn dollar_customer(t: &TestApp) -> String {
    t.company().await;
    t.warehouse("MAIN", 1).await;
    t.product_in("STD", "10.00", "standard", &[("MAIN", 100)])
        .await;
    let usd = t.customer_in("Dollar Corp", "US", "USD").await;
    let (s, list) = t
        .post(
            "sales",
            "/api/v1/price-lists",
            json!({"name": "USD", "currency": "USD", "items": [{"sku": "STD", "unit_price": "12.00"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    t.set_billing(&usd, json!({"price_list_id": list["id"]}))
        .await;
    usd
}

async fn pay_usd(t: &TestApp, customer: &str, amount: &str, invoice: &str) -> (StatusCode, Value) {
    t.post(
        "receivables",
        "/api/v1/payments",
        json!({"customer_id": customer, "amount": amount, "currency": "USD", "invoice_ids": [invoice], "received_on": t.today()}),
    )
    .await
}

fn functional_balance(tb: &Value, account: &str) -> i64 {
    tb["functional"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account)
        .map_or(0, |a| a["balance_minor"].as_i64().unwrap())
}

async fn a_dollar_invoice_paid_in_two_parts_books_the_realised_exchange_difference(t: &TestApp) {
    let usd = dollar_customer(t).await;
    // 1 EUR = 1.25 USD on the invoice date: 120.00 USD is 96.00 EUR.
    t.fx_rate("USD", &t.today(), "1.25").await;
    let order = t
        .order_with(json!({"customer_id": usd, "lines": [{"sku": "STD", "quantity": 10}]}))
        .await;
    assert_eq!(t.ship_everything(&order).await, 1);
    let invoice = t.invoices(&order).await.pop().expect("invoiced");
    assert_eq!(invoice["currency"], "USD");
    assert_eq!(invoice["gross"]["amount"], "120.00", "{invoice:#}");
    assert_eq!(invoice["fx_rate"], "1.25");
    let id = invoice["id"].as_str().unwrap().to_string();
    let (_, tb) = t.get("receivables", "/api/v1/ledger/trial-balance").await;
    assert_eq!(functional_balance(&tb, "1100"), 9_600, "{tb:#}");
    assert_eq!(tb["functional"]["currency"], "EUR");

    // Ten days later the dollar is stronger (1.20): 50.00 USD is 41.67 EUR and relieves
    // 40.00 EUR of the receivable: a gain of 1.67 EUR.
    t.clock.advance_days(10);
    t.fx_rate("USD", &t.today(), "1.20").await;
    let (s, p) = pay_usd(t, &usd, "50.00", &id).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["fx_rate"], "1.2");
    t.settle().await;
    let (_, tb) = t.get("receivables", "/api/v1/ledger/trial-balance").await;
    assert_eq!(
        functional_balance(&tb, "4900"),
        -167,
        "a gain is a credit: {tb:#}"
    );
    assert_eq!(
        functional_balance(&tb, "1100"),
        5_600,
        "70.00 USD open at 1.25"
    );
    t.assert_books_balance().await;

    // Then weaker (1.30): the remaining 70.00 USD is 53.85 EUR against 56.00 EUR booked,
    // a loss of 2.15 EUR; the receivable is gone to the cent in both currencies.
    t.clock.advance_days(5);
    t.fx_rate("USD", &t.today(), "1.30").await;
    let (s, p) = pay_usd(t, &usd, "70.00", &id).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    t.settle().await;
    assert_eq!(t.invoice(&id).await["payment_status"], "paid");
    let (_, tb) = t.get("receivables", "/api/v1/ledger/trial-balance").await;
    assert_eq!(functional_balance(&tb, "4900"), -167 + 215, "{tb:#}");
    assert_eq!(functional_balance(&tb, "1100"), 0, "{tb:#}");
    assert_eq!(functional_balance(&tb, "1000"), 4_167 + 5_385, "{tb:#}");
    t.assert_books_balance().await;

    let (s, rates) = t.get("admin", "/api/v1/fx-rates?currency=USD").await;
    assert_eq!(s, StatusCode::OK);
    let rates: Vec<&str> = rates
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rate"].as_str().unwrap())
        .collect();
    assert_eq!(rates, ["1.25", "1.2", "1.3"]);
}

async fn bad_rates_and_missing_rates_are_refused_and_change_nothing(t: &TestApp) {
    let usd = dollar_customer(t).await;
    let before = t.account(&usd).await;

    // No USD rate on or before the day: the payment is refused, nothing is recorded.
    let (s, b) = t
        .post(
            "receivables",
            "/api/v1/payments",
            json!({"customer_id": usd, "amount": "10.00", "currency": "USD", "received_on": t.today()}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "missing-fx-rate", "{b}");
    assert!(b["detail"].as_str().unwrap().contains("USD"), "{b}");
    assert_eq!(t.account(&usd).await, before, "nothing was written");

    // A CSV body with one bad row: the error names the line and column; no rate is stored.
    let csv = format!(
        "date,currency,rate\n{},USD,1.08\n{},USD,1.0x\n",
        t.today(),
        t.today()
    );
    let resp = t
        .client
        .put(t.url("/api/v1/fx-rates"))
        .bearer_auth(t.key("receivables"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = resp.json().await.unwrap();
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("line 3, column rate"),
        "{b}"
    );
    let (_, rates) = t.get("admin", "/api/v1/fx-rates").await;
    assert_eq!(rates, json!([]), "all rows or none");

    // A rate for the functional currency itself, and a zero rate, are refused by field.
    for (rate, field) in [
        (
            json!({"currency": "EUR", "date": t.today(), "rate": "1"}),
            "rates[0].currency",
        ),
        (
            json!({"currency": "USD", "date": t.today(), "rate": "0"}),
            "rates[0].rate",
        ),
        (
            json!({"currency": "USD", "date": "23.11.2026", "rate": "1.1"}),
            "rates[0].date",
        ),
    ] {
        let (s, b) = t
            .put("receivables", "/api/v1/fx-rates", json!({"rates": [rate]}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(b["detail"].as_str().unwrap().contains(field), "{b}");
    }

    // The ECB layout as a CSV body works, and only a receivables clerk or admin may set rates.
    let resp = t
        .client
        .put(t.url("/api/v1/fx-rates"))
        .bearer_auth(t.key("receivables"))
        .header("content-type", "text/csv")
        .body(format!(
            "Date, USD, JPY, \n{}, 1.0823, 162.45, \n",
            t.today()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, _) = t
        .put(
            "sales",
            "/api/v1/fx-rates",
            json!({"rates": [{"currency": "USD", "date": t.today(), "rate": "1.1"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Once the ledger has entries, the functional currency is fixed.
    let (s, p) = t
        .post(
            "receivables",
            "/api/v1/payments",
            json!({"customer_id": usd, "amount": "10.82", "currency": "USD", "received_on": t.today()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(cents(&p["amount"]), 1082);
    let (_, mut company) = t.get("admin", "/api/v1/company").await;
    company["functional_currency"] = json!("USD");
    let (s, b) = t.put("admin", "/api/v1/company", company).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("functional currency"),
        "{b}"
    );
    t.assert_books_balance().await;
}
