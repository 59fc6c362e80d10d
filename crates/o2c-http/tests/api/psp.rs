//! Payment capture through the API: hosted checkout with the local provider and its signed
//! webhooks, refunds of overpayments and customers' payment methods; SEPA collections and
//! returns in `sepa`.

use crate::both_stores;
use crate::helpers::{TestApp, cents};
use o2c_app::psp::local::{LocalProvider, SIGNATURE_HEADER};
use o2c_core::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

mod payouts;
mod sepa;

both_stores!(
    a_card_payment_through_the_hosted_page_pays_the_invoice,
    a_replayed_webhook_books_once,
    a_webhook_with_a_bad_or_old_signature_is_refused_and_changes_nothing,
    a_declined_card_tells_the_customer_how_else_to_pay,
    refunds_never_exceed_the_unapplied_cash,
    payment_methods_keep_tokens_and_mandates_and_refuse_card_numbers
);

pub(super) const CREDITOR_ID: &str = "DE98ZZZ09999999999";
pub(super) const DEBTOR_IBAN: &str = "DE02 1203 0000 0000 2020 51";

/// Seller with IBAN and creditor id, a German customer, one issued invoice of 119.00 EUR.
pub(super) async fn invoiced(t: &TestApp) -> (String, Value) {
    company_with_creditor_id(t).await;
    t.warehouse("MAIN", 1).await;
    t.product_in("SKU-1", "100.00", "standard", &[("MAIN", 100)])
        .await;
    let customer = t.customer_in("Kunde GmbH", "DE", "EUR").await;
    let inv = invoice_for(t, &customer, 1).await;
    (customer, inv)
}

pub(super) async fn invoice_for(t: &TestApp, customer: &str, quantity: i64) -> Value {
    let order = t
        .order_with(
            json!({"customer_id": customer, "lines": [{"sku": "SKU-1", "quantity": quantity}]}),
        )
        .await;
    t.ship_everything(&order).await;
    t.invoices(&order).await.pop().expect("invoiced")
}

async fn company_with_creditor_id(t: &TestApp) {
    let (s, b) = t
        .put(
            "admin",
            "/api/v1/company",
            json!({
                "name": "o2c Demo GmbH",
                "address": {"line1": "Friedrichstraße 1", "city": "Berlin", "postal_code": "10117", "country": "DE"},
                "vat_id": "DE123456789", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
                "sepa_creditor_id": CREDITOR_ID
            }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

pub(super) fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

pub(super) async fn checkout(t: &TestApp, invoice: &str) -> Value {
    let (s, b) = t
        .post(
            "receivables",
            &format!("/api/v1/invoices/{invoice}/checkout"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

/// Submits the hosted page's form, as the payer's browser would.
async fn decide(t: &TestApp, url: &str, decision: &str) -> (StatusCode, String) {
    let resp = t
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("decision={decision}"))
        .send()
        .await
        .expect("form post");
    (resp.status(), resp.text().await.unwrap())
}

async fn provider(t: &TestApp) -> LocalProvider {
    t.app
        .write(Actor::Cli("test".into()), |c, ctx| {
            LocalProvider::load_in_tx(c, ctx)
        })
        .await
        .expect("local provider")
}

pub(super) async fn post_webhook(
    t: &TestApp,
    body: &[u8],
    signature: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = t
        .client
        .post(t.url("/api/v1/psp/webhooks/local"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header(SIGNATURE_HEADER, sig);
    }
    let resp = req.send().await.expect("webhook");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(super) async fn count(t: &TestApp, sql: &'static str) -> i64 {
    t.app
        .read(move |c| Ok(c.query_one(sql, &[])?.int(0)))
        .await
        .unwrap()
}

pub(super) async fn notifications(t: &TestApp, customer: &str) -> Vec<Value> {
    let (s, b) = t
        .get(
            "admin",
            &format!("/api/v1/customers/{customer}/notifications"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b.as_array().unwrap().clone()
}

pub(super) async fn trial_balance_account(t: &TestApp, account: &str) -> i64 {
    let (_, tb) = t.get("receivables", "/api/v1/ledger/trial-balance").await;
    tb["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["account"] == json!(account))
        .map(|a| a["balance_minor"].as_i64().unwrap())
        .sum()
}

async fn a_card_payment_through_the_hosted_page_pays_the_invoice(t: &TestApp) {
    let (customer, inv) = invoiced(t).await;
    let session = checkout(t, &id(&inv)).await;
    assert_eq!(session["status"], "open");
    assert_eq!(cents(&session["amount"]), 11_900);
    // Asking again gives the same open session, not a second one.
    assert_eq!(id(&checkout(t, &id(&inv)).await), id(&session));
    let url = session["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&t.url("/psp/local/checkout/lcs_")), "{url}");
    let page = t
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("119.00") && page.contains("decision"),
        "{page}"
    );
    assert!(page.contains(inv["number"].as_str().unwrap()), "{page}");

    let (s, page) = decide(t, &url, "pay").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Payment received"), "{page}");
    t.settle().await;

    let inv = t.invoice(&id(&inv)).await;
    assert_eq!(inv["payment_status"], "paid", "{inv:#}");
    let (_, session) = t
        .get(
            "admin",
            &format!("/api/v1/checkout-sessions/{}", id(&session)),
        )
        .await;
    assert_eq!(session["status"], "paid", "{session:#}");
    let (_, payment) = t
        .get(
            "admin",
            &format!(
                "/api/v1/payments/{}",
                session["payment_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(payment["method"], "card", "{payment:#}");
    assert_eq!(payment["applications"].as_array().unwrap().len(), 1);
    // 1.5 % + 0.25 of 119.00 is the provider's fee: an expense out of PSP clearing.
    assert_eq!(trial_balance_account(t, "6900").await, 204);
    assert_eq!(trial_balance_account(t, "1010").await, 11_900 - 204);
    assert_eq!(
        cents(&t.account(&customer).await["customer"]["unapplied_cash"]),
        0
    );
    t.assert_books_balance().await;
}

/// A succeeded webhook for `session`, signed now.
pub(super) async fn signed_success(
    t: &TestApp,
    session: &Value,
    event_id: &str,
) -> (Vec<u8>, String) {
    let body = json!({
        "id": event_id, "type": "checkout.succeeded", "session": session["provider_session_id"],
        "amount": "119.00", "currency": "EUR", "fee": "2.04", "reference": format!("ch_local_{event_id}"), "method": "card"
    })
    .to_string()
    .into_bytes();
    let now = o2c_app::Clock::now(t.clock.as_ref()).timestamp();
    let sig = provider(t).await.sign(now, &body);
    (body, sig)
}

async fn a_replayed_webhook_books_once(t: &TestApp) {
    let (_, inv) = invoiced(t).await;
    let session = checkout(t, &id(&inv)).await;
    let (body, sig) = signed_success(t, &session, "evt_replayed").await;
    let (s, first) = post_webhook(t, &body, Some(&sig)).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["outcome"], "paid");
    let (s, again) = post_webhook(t, &body, Some(&sig)).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["duplicate"], true, "{again}");
    // Another event for the paid session books nothing either.
    let (body2, sig2) = signed_success(t, &session, "evt_other").await;
    let (_, other) = post_webhook(t, &body2, Some(&sig2)).await;
    assert_eq!(other["outcome"], "ignored", "{other}");
    t.settle().await;
    assert_eq!(count(t, "SELECT COUNT(*) FROM payments").await, 1);
    assert_eq!(t.invoice(&id(&inv)).await["payment_status"], "paid");
    t.assert_books_balance().await;
}

async fn a_webhook_with_a_bad_or_old_signature_is_refused_and_changes_nothing(t: &TestApp) {
    let (_, inv) = invoiced(t).await;
    let session = checkout(t, &id(&inv)).await;
    let (body, sig) = signed_success(t, &session, "evt_forged").await;
    let forged = LocalProvider::new(b"not the secret")
        .sign(o2c_app::Clock::now(t.clock.as_ref()).timestamp(), &body);
    let old = {
        let then = o2c_app::Clock::now(t.clock.as_ref()).timestamp() - 301;
        provider(t).await.sign(then, &body)
    };
    let mut tampered = body.clone();
    let at = tampered.windows(6).position(|w| w == b"119.00").unwrap();
    tampered[at] = b'9';
    for (what, b, s) in [
        ("another secret", &body, Some(forged.as_str())),
        ("no signature", &body, None),
        ("too old", &body, Some(old.as_str())),
        ("tampered body", &tampered, Some(sig.as_str())),
    ] {
        let (status, p) = post_webhook(t, b, s).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {p}");
        assert_eq!(p["code"], "webhook-signature-invalid", "{what}: {p}");
    }
    assert_eq!(count(t, "SELECT COUNT(*) FROM payments").await, 0);
    assert_eq!(count(t, "SELECT COUNT(*) FROM psp_webhook_events").await, 0);
    let (_, s) = t
        .get(
            "admin",
            &format!("/api/v1/checkout-sessions/{}", id(&session)),
        )
        .await;
    assert_eq!(s["status"], "open");
    t.assert_books_balance().await;
}

async fn a_declined_card_tells_the_customer_how_else_to_pay(t: &TestApp) {
    let (customer, inv) = invoiced(t).await;
    let session = checkout(t, &id(&inv)).await;
    let (s, page) = decide(t, session["url"].as_str().unwrap(), "decline").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("declined"), "{page}");
    let (_, session) = t
        .get(
            "admin",
            &format!("/api/v1/checkout-sessions/{}", id(&session)),
        )
        .await;
    assert_eq!(session["status"], "failed");
    assert!(
        session["failure_reason"]
            .as_str()
            .unwrap()
            .contains("declined")
    );
    let notes = notifications(t, &customer).await;
    let note = notes
        .iter()
        .find(|n| n["kind"] == "card_payment_failed")
        .unwrap_or_else(|| panic!("{notes:#?}"));
    let body = note["body"].as_str().unwrap();
    assert!(body.contains("DE89 3704 0044 0532 0130 00"), "{body}");
    assert!(body.contains("RF"), "{body}");
    assert!(body.contains(inv["number"].as_str().unwrap()), "{body}");
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM events WHERE type = 'customer.notified'"
        )
        .await,
        1
    );
    assert_eq!(count(t, "SELECT COUNT(*) FROM payments").await, 0);
    // The payer tries again on the same page and pays.
    decide(t, session["url"].as_str().unwrap(), "pay").await;
    t.settle().await;
    assert_eq!(t.invoice(&id(&inv)).await["payment_status"], "paid");
    t.assert_books_balance().await;
}

async fn refunds_never_exceed_the_unapplied_cash(t: &TestApp) {
    let (customer, inv) = invoiced(t).await;
    // 150.00 for an invoice of 119.00: 31.00 stays on account.
    t.pay(&customer, "150.00", &[inv["id"].as_str().unwrap()])
        .await;
    t.settle().await;
    let unapplied = |a: &Value| cents(&a["customer"]["unapplied_cash"]);
    assert_eq!(unapplied(&t.account(&customer).await), 3_100);
    let path = format!("/api/v1/customers/{customer}/refunds");
    let entries = count(t, "SELECT COUNT(*) FROM journal_entries").await;
    let (s, p) = t
        .post(
            "receivables",
            &path,
            json!({"amount": "31.01", "reason": "overpaid"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["code"], "refund-exceeds-unapplied-cash");
    assert!(p["detail"].as_str().unwrap().contains("31.00"), "{p}");
    assert_eq!(unapplied(&t.account(&customer).await), 3_100);
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM journal_entries").await,
        entries
    );
    assert_eq!(count(t, "SELECT COUNT(*) FROM refunds").await, 0);

    let (s, r) = t
        .post(
            "receivables",
            &path,
            json!({"amount": "20.00", "reason": "overpaid INV"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["parts"][0]["route"], "bank_transfer");
    assert_eq!(unapplied(&t.account(&customer).await), 1_100);
    let (s, _) = t.get("admin", &format!("/api/v1/refunds/{}", id(&r))).await;
    assert_eq!(s, StatusCode::OK);
    t.assert_books_balance().await;

    // An overpayment by card goes back to the card, through the provider.
    let next = invoice_for(t, &customer, 1).await;
    t.settle().await;
    assert_eq!(cents(&t.invoice(&id(&next)).await["open"]), 11_900 - 1_100);
    let session = checkout(t, &id(&next)).await;
    let body = json!({
        "id": "evt_over", "type": "checkout.succeeded", "session": session["provider_session_id"],
        "amount": "200.00", "currency": "EUR", "fee": "0", "reference": "ch_local_over", "method": "card"
    })
    .to_string()
    .into_bytes();
    let sig = provider(t)
        .await
        .sign(o2c_app::Clock::now(t.clock.as_ref()).timestamp(), &body);
    assert_eq!(post_webhook(t, &body, Some(&sig)).await.0, StatusCode::OK);
    t.settle().await;
    assert_eq!(unapplied(&t.account(&customer).await), 20_000 - 10_800);
    let (s, r) = t
        .post(
            "receivables",
            &path,
            json!({"amount": "92.00", "reason": "paid twice"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let card: Vec<&Value> = r["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["route"] == "card")
        .collect();
    assert_eq!(card.len(), 1, "{r:#}");
    assert!(
        card[0]["provider_refund_id"]
            .as_str()
            .unwrap()
            .starts_with("re_local_")
    );
    assert_eq!(unapplied(&t.account(&customer).await), 0);
    t.assert_books_balance().await;
}

async fn payment_methods_keep_tokens_and_mandates_and_refuse_card_numbers(t: &TestApp) {
    let customer = t.customer_in("Kunde GmbH", "DE", "EUR").await;
    let path = format!("/api/v1/customers/{customer}/payment-methods");
    let (s, b) = t.get("admin", &path).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["default"], "bank_transfer");
    let (s, p) = t
        .put(
            "sales",
            &path,
            json!({"methods": [{"type": "card", "token": "4242 4242 4242 4242"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["code"], "card-number-not-accepted");
    assert!(
        !p.to_string().contains("4242 4242"),
        "the number is not echoed: {p}"
    );
    let (s, p) = t
        .put("sales", &path, json!({"methods": [{"type": "direct_debit", "mandate_id": "M1", "signed_on": "2024-01-01", "iban": "DE00 1234"}]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("iban"), "{p}");
    let (s, b) = t
        .put(
            "sales",
            &path,
            json!({"methods": [
                {"type": "card", "provider": "local", "token": "tok_visa_1", "brand": "visa", "last4": "4242", "default": true},
                {"type": "wallet", "provider": "local", "token": "tok_wallet_1", "wallet": "apple_pay"},
                {"type": "direct_debit", "mandate_id": "M-7", "signed_on": "2024-01-01", "iban": DEBTOR_IBAN}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["default"], "card");
    assert_eq!(b["methods"][0]["last4"], "4242");
    assert_eq!(b["methods"][2]["mandate"]["iban"], "DE02120300000000202051");
    assert_eq!(b["methods"][2]["mandate"]["scheme"], "CORE");
    // Dropping the mandate from the list stops collections under it.
    let (s, b) = t
        .put(
            "sales",
            &path,
            json!({"methods": [{"type": "bank_transfer"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM sepa_mandates WHERE status = 'active'"
        )
        .await,
        0
    );
}
