//! Outgoing webhooks against a real HTTP receiver on loopback: events reach the endpoints that
//! subscribed to them, signed; failures are retried with backoff, then dead-lettered; a replay
//! delivers.

use crate::both_stores;
use crate::helpers::TestApp;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use o2c_app::webhooks::{self, Pass};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

both_stores!(
    a_placed_order_reaches_the_endpoint_signed,
    a_failing_endpoint_is_retried_with_backoff_then_dead_and_a_replay_delivers,
    an_endpoint_for_invoice_paid_gets_only_that,
    an_endpoint_is_refused_a_bad_url_and_removed_endpoints_get_nothing
);

#[derive(Debug, Clone)]
struct Received {
    signature: String,
    event: String,
    delivery: String,
    body: String,
}

/// An HTTP server on 127.0.0.1:0 that records what it is sent and answers `status`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (g, s) = (g.clone(), s.clone());
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    g.lock().unwrap().push(Received {
                        signature: h("o2c-signature"),
                        event: h("o2c-event"),
                        delivery: h("o2c-delivery"),
                        body,
                    });
                    AxumStatus::from_u16(s.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url,
            got,
            status,
            task,
        }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn subscribe(t: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let (s, b) = t
        .post(
            "admin",
            "/api/v1/webhooks",
            json!({"url": url, "event_types": types}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert!(b["secret"].as_str().unwrap().starts_with("whsec_"), "{b}");
    (
        b["id"].as_str().unwrap().to_string(),
        b["secret"].as_str().unwrap().to_string(),
    )
}

async fn pass(t: &TestApp) -> Pass {
    webhooks::deliver_due(&t.app, &webhooks::client(), 50)
        .await
        .expect("webhook pass")
}

/// Checks `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>` the way a receiver would.
fn assert_signed(r: &Received, secret: &str) {
    let (t, v1) = r
        .signature
        .split_once(",v1=")
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v)))
        .unwrap_or_else(|| panic!("signature header: {:?}", r.signature));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", r.body).as_bytes());
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, want, "signature does not verify");
}

async fn dead_letters(t: &TestApp) -> Vec<Value> {
    let (s, b) = t
        .get("admin", "/api/v1/webhooks/deliveries?status=dead")
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b.as_array().unwrap().clone()
}

async fn a_placed_order_reaches_the_endpoint_signed(t: &TestApp) {
    let customer = t.basic("100000.00", 10).await;
    let rx = Receiver::start().await;
    // Subscribed after the customer was created: only what happens from now on is sent.
    let (_, secret) = subscribe(t, &rx.url, &["order.received"]).await;
    let order = t.order(&customer, &[("SKU-1", 2)]).await;
    let order_id = order["id"].as_str().unwrap();
    t.settle().await;

    let p = pass(t).await;
    assert_eq!((p.queued, p.delivered, p.retrying, p.dead), (1, 1, 0, 0));
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.event, "order.received");
    assert!(r.delivery.starts_with("whd_"), "{r:?}");
    assert_signed(r, &secret);
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["type"], "order.received");
    assert_eq!(body["order_id"], order_id);
    assert_eq!(body["customer_id"], customer.as_str());
    assert_eq!(body["aggregate"], json!({"type": "order", "id": order_id}));
    assert!(body["id"].as_str().unwrap().starts_with("evt_"), "{body}");
    assert!(body["actor"]["kind"].is_string() && body["data"].is_object());

    // A second pass sends nothing again; the delivery is on record as delivered.
    assert_eq!(pass(t).await, Pass::default());
    assert_eq!(rx.received().len(), 1);
    let (_, b) = t
        .get("admin", "/api/v1/webhooks/deliveries?status=delivered")
        .await;
    assert_eq!(b.as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b[0]["attempts"], 1);
    assert_eq!(b[0]["last_status"], 200);
}

async fn a_failing_endpoint_is_retried_with_backoff_then_dead_and_a_replay_delivers(t: &TestApp) {
    let customer = t.basic("100000.00", 10).await;
    let rx = Receiver::start().await;
    rx.answer(500);
    let (_, secret) = subscribe(t, &rx.url, &["order.received"]).await;
    t.order(&customer, &[("SKU-1", 1)]).await;

    let p = pass(t).await;
    assert_eq!((p.queued, p.delivered, p.retrying, p.dead), (1, 0, 1, 0));
    // Not again before the backoff (1 minute) has passed.
    assert_eq!(pass(t).await, Pass::default());
    assert_eq!(rx.received().len(), 1);

    for attempt in 2..=webhooks::MAX_ATTEMPTS {
        t.clock.advance(webhooks::backoff(attempt - 1));
        let p = pass(t).await;
        let last = attempt == webhooks::MAX_ATTEMPTS;
        assert_eq!(
            (p.retrying, p.dead),
            if last { (0, 1) } else { (1, 0) },
            "attempt {attempt}"
        );
    }
    assert_eq!(rx.received().len() as i64, webhooks::MAX_ATTEMPTS);
    t.clock.advance(chrono::Duration::days(2));
    assert_eq!(
        pass(t).await,
        Pass::default(),
        "a dead delivery is not retried"
    );

    let dead = dead_letters(t).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], webhooks::MAX_ATTEMPTS);
    assert_eq!(dead[0]["last_status"], 500);
    assert_eq!(dead[0]["event_type"], "order.received");
    let id = dead[0]["id"].as_str().unwrap();

    rx.answer(204);
    let (s, b) = t
        .post(
            "admin",
            &format!("/api/v1/webhooks/deliveries/{id}/replay"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "pending");
    let p = pass(t).await;
    assert_eq!((p.delivered, p.dead), (1, 0));
    assert!(dead_letters(t).await.is_empty());
    let got = rx.received();
    assert_eq!(got.len() as i64, webhooks::MAX_ATTEMPTS + 1);
    // Every attempt is the same delivery, each signed.
    assert!(got.iter().all(|r| r.delivery == id));
    assert_signed(got.last().unwrap(), &secret);
    // Replaying a delivered one changes nothing.
    let (s, b) = t
        .post(
            "admin",
            &format!("/api/v1/webhooks/deliveries/{id}/replay"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("delivered"))
    );
}

async fn an_endpoint_for_invoice_paid_gets_only_that(t: &TestApp) {
    t.company().await;
    let customer = t.basic("100000.00", 10).await;
    let paid = Receiver::start().await;
    let all = Receiver::start().await;
    subscribe(t, &paid.url, &["invoice.paid"]).await;
    subscribe(t, &all.url, &["*"]).await;
    let (order_id, invoice) = t.invoiced_order(&customer, &[("SKU-1", 2)]).await;
    t.pay(&customer, "23.80", &[invoice["id"].as_str().unwrap()])
        .await;
    t.settle().await;

    let p = pass(t).await;
    assert_eq!(p.dead + p.retrying, 0);
    let got = paid.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event, "invoice.paid");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["order_id"], order_id.as_str());
    // The `*` endpoint saw the whole cycle, in order.
    let types: Vec<String> = all.received().into_iter().map(|r| r.event).collect();
    for want in [
        "order.received",
        "order.credit_approved",
        "shipment.dispatched",
        "invoice.issued",
        "payment.received",
        "invoice.paid",
    ] {
        assert!(
            types.iter().any(|t| t == want),
            "{want} missing in {types:?}"
        );
    }
    assert_eq!(p.delivered, 1 + types.len());
}

async fn an_endpoint_is_refused_a_bad_url_and_removed_endpoints_get_nothing(t: &TestApp) {
    let (s, b) = t
        .post(
            "admin",
            "/api/v1/webhooks",
            json!({"url": "ftp://x", "event_types": ["*"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, b) = t
        .post(
            "admin",
            "/api/v1/webhooks",
            json!({"url": "http://x", "event_types": ["order.nope"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, _) = t
        .post(
            "sales",
            "/api/v1/webhooks",
            json!({"url": "http://x", "event_types": ["*"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let customer = t.basic("100000.00", 10).await;
    let rx = Receiver::start().await;
    let (id, _) = subscribe(t, &rx.url, &["*"]).await;
    let (_, list) = t.get("admin", "/api/v1/webhooks").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert!(list[0].get("secret").is_none(), "the secret is shown once");
    let (s, b) = t
        .send(
            Some("admin"),
            reqwest::Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["active"], false);
    t.order(&customer, &[("SKU-1", 1)]).await;
    assert_eq!(pass(t).await, Pass::default());
    assert!(rx.received().is_empty());
    let (_, list) = t.get("admin", "/api/v1/webhooks").await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");
}
