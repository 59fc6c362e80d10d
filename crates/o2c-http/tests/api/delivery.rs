//! Invoice delivery by e-mail: the worker sends each issued document once, to the billing
//! contact, with its PDF and UBL attached; transient refusals are retried after a backoff,
//! permanent ones fail the delivery and say so in an event.

use crate::both_stores;
use crate::helpers::TestApp;
use o2c_app::billing::delivery::{self, DeliveryPass};
use o2c_mail::testing::SmtpSink;
use o2c_mail::{Mailer, SmtpConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

both_stores!(
    an_issued_invoice_is_mailed_once_with_its_pdf_and_ubl,
    a_transient_refusal_is_retried_after_the_backoff,
    a_permanent_refusal_fails_the_delivery_with_an_event,
    an_applied_payment_sends_a_receipt_with_what_it_paid_and_what_is_open
);

const BILLING_EMAIL: &str = "ap@kunde.example";

fn mailer(sink: &SmtpSink) -> Mailer {
    let cfg = SmtpConfig::parse(&sink.url(), "Billing <billing@example.com>").expect("config");
    Mailer::new(&cfg).expect("mailer")
}

/// A customer with a billing e-mail and one issued invoice; returns (order id, invoice).
async fn invoiced(t: &TestApp) -> (String, Value) {
    t.company().await;
    let customer = t.basic("100000.00", 10).await;
    t.set_billing(&customer, json!({"billing_email": BILLING_EMAIL}))
        .await;
    t.invoiced_order(&customer, &[("SKU-1", 2)]).await
}

async fn pass(t: &TestApp, mailer: &Mailer) -> DeliveryPass {
    delivery::deliver_due(&t.app, mailer, 50)
        .await
        .expect("delivery pass")
}

async fn deliveries(t: &TestApp, invoice_id: &str) -> Vec<Value> {
    let (s, b) = t
        .get(
            "admin",
            &format!("/api/v1/invoices/{invoice_id}/deliveries"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b.as_array().unwrap().clone()
}

fn counts(p: &DeliveryPass) -> (usize, usize, usize) {
    (p.sent, p.retrying, p.failed)
}

async fn an_issued_invoice_is_mailed_once_with_its_pdf_and_ubl(t: &TestApp) {
    let sink = SmtpSink::start();
    let mailer = mailer(&sink);
    let (_, inv) = invoiced(t).await;
    let (id, number) = (inv["id"].as_str().unwrap(), inv["number"].as_str().unwrap());
    let queued = deliveries(t, id).await;
    assert_eq!(queued.len(), 1, "{queued:#?}");
    assert_eq!(
        (
            queued[0]["status"].as_str(),
            queued[0]["recipient"].as_str()
        ),
        (Some("pending"), Some(BILLING_EMAIL))
    );

    assert_eq!(counts(&pass(t, &mailer).await), (1, 0, 0));
    let messages = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.rcpt_to, vec![BILLING_EMAIL.to_string()]);
    assert!(
        m.subject().unwrap_or_default().contains(number),
        "{:?}",
        m.subject()
    );
    assert_eq!(
        m.header("Message-ID").as_deref(),
        queued[0]["message_id"].as_str()
    );
    let mut names = m.attachment_names();
    names.sort();
    assert_eq!(
        names,
        vec![format!("{number}.pdf"), format!("{number}.xml")]
    );
    let sent = deliveries(t, id).await;
    assert_eq!(sent[0]["status"], "sent", "{sent:#?}");
    assert_eq!(sent[0]["attempts"], 1);
    assert!(sent[0]["sent_at"].is_string());

    assert_eq!(counts(&pass(t, &mailer).await), (0, 0, 0), "nothing is due");
    t.clock.advance_days(1);
    assert_eq!(counts(&pass(t, &mailer).await), (0, 0, 0), "nor later");
    assert_eq!(sink.messages().len(), 1, "sent once");

    // A credit note is a document of its own and is delivered the same way.
    let (s, cn) = t
        .post_with_key(
            "receivables",
            &format!("/api/v1/invoices/{id}/credit-notes"),
            json!({"reason": "returned"}),
            "dlv-cn",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{cn}");
    assert_eq!(counts(&pass(t, &mailer).await), (1, 0, 0));
    let messages = sink.wait_for(2, Duration::from_secs(5));
    let cn_number = cn["number"].as_str().unwrap();
    assert!(
        messages[1]
            .subject()
            .unwrap_or_default()
            .contains(cn_number),
        "{:?}",
        messages[1].subject()
    );
    assert!(
        messages[1]
            .attachment_names()
            .contains(&format!("{cn_number}.xml"))
    );
}

async fn a_transient_refusal_is_retried_after_the_backoff(t: &TestApp) {
    let sink = SmtpSink::start();
    let mailer = mailer(&sink);
    let (_, inv) = invoiced(t).await;
    let id = inv["id"].as_str().unwrap();
    sink.fail_next(1, 451);

    assert_eq!(counts(&pass(t, &mailer).await), (0, 1, 0));
    let d = &deliveries(t, id).await[0];
    assert_eq!(d["status"], "pending", "{d:#}");
    assert_eq!(d["attempts"], 1);
    assert!(
        d["last_error"].as_str().is_some_and(|e| e.contains("451")),
        "{d:#}"
    );
    assert_eq!(
        counts(&pass(t, &mailer).await),
        (0, 0, 0),
        "not due before the backoff has passed"
    );

    assert!(delivery::backoff(1) < chrono::Duration::days(1));
    t.clock.advance_days(1);
    assert_eq!(counts(&pass(t, &mailer).await), (1, 0, 0));
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).len(), 1);
    let d = &deliveries(t, id).await[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("sent"), Some(2)),
        "{d:#}"
    );
    assert_eq!(sink.messages().len(), 1);
}

async fn a_permanent_refusal_fails_the_delivery_with_an_event(t: &TestApp) {
    let sink = SmtpSink::start();
    let mailer = mailer(&sink);
    let (order_id, inv) = invoiced(t).await;
    let id = inv["id"].as_str().unwrap();
    sink.fail_next(1, 550);

    assert_eq!(counts(&pass(t, &mailer).await), (0, 0, 1));
    let d = &deliveries(t, id).await[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("failed"), Some(1)),
        "{d:#}"
    );
    assert!(
        d["last_error"].as_str().is_some_and(|e| e.contains("550")),
        "{d:#}"
    );
    let (_, events) = t
        .get("admin", &format!("/api/v1/orders/{order_id}/events"))
        .await;
    let failed: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "invoice.delivery_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:#}");
    assert_eq!(failed[0]["aggregate_id"], id);
    assert_eq!(failed[0]["actor"]["id"], "invoice.deliver");

    t.clock.advance_days(1);
    assert_eq!(
        counts(&pass(t, &mailer).await),
        (0, 0, 0),
        "a failed delivery is not retried"
    );
    assert!(sink.messages().is_empty());
}

async fn an_applied_payment_sends_a_receipt_with_what_it_paid_and_what_is_open(t: &TestApp) {
    let sink = SmtpSink::start();
    let mailer = mailer(&sink);
    t.company().await;
    let customer = t.basic("100000.00", 10).await;
    t.set_billing(&customer, json!({"billing_email": BILLING_EMAIL}))
        .await;
    let (_, first) = t.invoiced_order(&customer, &[("SKU-1", 2)]).await;
    let (_, second) = t.invoiced_order(&customer, &[("SKU-1", 1)]).await;
    let paid = t
        .pay(
            &customer,
            first["gross"]["amount"].as_str().unwrap(),
            &[first["id"].as_str().unwrap()],
        )
        .await;
    t.settle().await;
    let (s, notes) = t
        .get(
            "admin",
            &format!("/api/v1/customers/{customer}/notifications"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let notes = notes.as_array().unwrap().clone();
    assert_eq!(notes.len(), 1, "one receipt per payment: {notes:#?}");
    let body = notes[0]["body"].as_str().unwrap();
    assert!(
        body.contains(first["number"].as_str().unwrap()) && body.contains("now settled"),
        "{body}"
    );
    assert!(
        body.contains("Still open") && body.contains(second["number"].as_str().unwrap()),
        "{body}"
    );
    assert_eq!(notes[0]["recipient"], BILLING_EMAIL);

    // The invoice worker also sends receipts: the invoices' two mails and the receipt.
    let before = sink.messages().len();
    o2c_app::notify::deliver_due(&t.app, &mailer, 50)
        .await
        .unwrap();
    let messages = sink.wait_for(before + 1, Duration::from_secs(5));
    let receipt = messages
        .iter()
        .find(|m| {
            m.subject()
                .is_some_and(|s| s.starts_with("Payment received"))
        })
        .expect("receipt mailed");
    assert_eq!(receipt.rcpt_to, vec![BILLING_EMAIL.to_string()]);
    let (_, notes) = t
        .get(
            "admin",
            &format!("/api/v1/customers/{customer}/notifications"),
        )
        .await;
    assert_eq!(notes[0]["status"], "sent");
    assert!(paid["id"].is_string());
}
