//! Dunning over the API: levels by the calendar, one notice per customer, disputed items
//! skipped, fees and interest in the books (and out again when waived), the last level blocking
//! credit and handing to collection; delivery by e-mail (a real SMTP listener), SMS (a local HTTP
//! gateway) and letters (PDF files); write-offs within limits and recoveries; key figures.

use crate::both_stores;
use crate::helpers::{TestApp, amount};
use o2c_app::receivable::dunning::deliver::{self, Channels, SmsGateway};
use o2c_mail::testing::SmtpSink;
use o2c_mail::{Mailer, SmtpConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

both_stores!(
    dunning_climbs_the_levels_skips_disputes_posts_charges_and_hands_to_collection,
    notices_go_out_by_email_sms_and_letter_and_failures_are_retried,
    dunning_a_paid_or_undue_invoice_is_refused_and_changes_nothing,
    write_offs_respect_role_limits_and_a_recovery_reopens_what_is_paid,
    kpis_and_the_worklist_rank_what_is_overdue,
);

async fn balance(app: &TestApp, account: &str) -> String {
    let (_, tb) = app.get("receivables", "/api/v1/ledger/trial-balance").await;
    tb["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account)
        .map(|a| a["balance"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "0.00".into())
}

async fn run(app: &TestApp, dry_run: bool) -> Value {
    let (s, r) = app
        .post(
            "receivables",
            "/api/v1/dunning/runs",
            json!({"dry_run": dry_run}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r
}

pub async fn dunning_climbs_the_levels_skips_disputes_posts_charges_and_hands_to_collection(
    app: &TestApp,
) {
    let c = app.basic("100000.00", 100).await;
    let (_, a) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let (_, b) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    app.post(
        "receivables",
        "/api/v1/disputes",
        json!({"invoice_id": b["id"], "reason": "pricing"}),
    )
    .await;
    app.clock.advance_days(38); // due after 30: 8 days overdue, level 1 (7 days) of the built-in profile

    let dry = run(app, true).await;
    let notices = dry["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{dry:#}");
    assert_eq!(
        (notices[0]["level"].as_i64(), notices[0]["channel"].as_str()),
        (Some(1), Some("email"))
    );
    assert_eq!(notices[0]["items"].as_array().unwrap().len(), 1);
    assert_eq!(notices[0]["items"][0]["invoice_id"], a["id"]);
    assert!(
        notices[0]["why"]
            .as_str()
            .unwrap()
            .contains("8 days overdue → level 1"),
        "{dry:#}"
    );
    assert_eq!(dry["skipped"][0]["reason"], "disputed");
    let (_, none) = app.get("receivables", "/api/v1/dunning/notices").await;
    assert_eq!(none, json!([]), "a dry run writes nothing");

    let first = run(app, false).await;
    assert_eq!(first["notices"][0]["fee"]["amount"], "0.00");
    let again = run(app, false).await;
    assert_eq!(
        (
            again["already_ran"].as_bool(),
            again["notices"].as_array().unwrap().len()
        ),
        (Some(true), 0)
    );

    app.clock.advance_days(14); // 22 days overdue: level 2, fee 5.00, interest 9.12 % for 14 days
    let second = run(app, false).await;
    let n = &second["notices"][0];
    assert_eq!(n["level"], 2, "{second:#}");
    assert_eq!(amount(&n["fee"]), "5.00");
    // 35.70 × 9.12 % × 14 / 365 = 0.1249 → 0.12
    assert_eq!(amount(&n["interest"]), "0.12");
    assert_eq!(amount(&n["total"]), "40.82");
    assert_eq!(balance(app, "1150").await, "5.12");
    app.assert_books_balance().await;

    let id = n["notice_id"].as_str().unwrap();
    let (s, w) = app
        .post(
            "receivables",
            &format!("/api/v1/dunning/notices/{id}/waive"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, w["status"].as_str()),
        (StatusCode::OK, Some("waived")),
        "{w}"
    );
    assert_eq!(balance(app, "1150").await, "0.00");
    let (s, w) = app
        .post(
            "receivables",
            &format!("/api/v1/dunning/notices/{id}/waive"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, w["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition"))
    );

    app.clock.advance_days(14); // 36 days: level 3, a letter that blocks credit and hands over
    let third = run(app, false).await;
    let n = &third["notices"][0];
    assert_eq!(
        (
            n["level"].as_i64(),
            n["channel"].as_str(),
            n["hands_to_collection"].as_bool()
        ),
        (Some(3), Some("letter"), Some(true))
    );
    let (_, credit) = app
        .get("credit", &format!("/api/v1/customers/{c}/credit"))
        .await;
    assert_eq!(credit["blocked"], true, "{credit}");
    let (_, settings) = app
        .get("receivables", &format!("/api/v1/customers/{c}/dunning"))
        .await;
    assert_eq!(settings["in_collection"], true);
    let (_, tasks) = app
        .get(
            "receivables",
            &format!("/api/v1/collections/tasks?customer_id={c}"),
        )
        .await;
    assert!(
        tasks
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "collection"),
        "{tasks}"
    );
    let (_, r) = app
        .get(
            "receivables",
            &format!("/api/v1/reports/aging?customer_id={c}"),
        )
        .await;
    assert!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["reason"] == "in_collection"),
        "{r:#}"
    );
    app.clock.advance_days(1);
    let after = run(app, false).await;
    assert_eq!(
        after["skipped"][0]["reason"], "the account is with collection",
        "{after:#}"
    );
    app.assert_books_balance().await;
}

fn mailer(sink: &SmtpSink) -> Mailer {
    Mailer::new(&SmtpConfig::parse(&sink.url(), "Receivables <ar@example.com>").unwrap()).unwrap()
}

/// An SMS gateway on loopback: answers 503 `failures` times, then 200; records each request.
async fn gateway(failures: usize) -> (String, Arc<Mutex<Vec<(Option<String>, Value)>>>) {
    use axum::http::HeaderMap;
    let seen: Arc<Mutex<Vec<(Option<String>, Value)>>> = Arc::default();
    let left = Arc::new(Mutex::new(failures));
    let (s2, l2) = (seen.clone(), left.clone());
    let router = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let (seen, left) = (s2.clone(), l2.clone());
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string());
                seen.lock().unwrap().push((auth, body.0));
                let mut l = left.lock().unwrap();
                if *l > 0 {
                    *l -= 1;
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

pub async fn notices_go_out_by_email_sms_and_letter_and_failures_are_retried(app: &TestApp) {
    app.company().await;
    let c = app.basic("100000.00", 100).await;
    app.set_billing(&c, json!({"billing_email": "ap@mueller.example"}))
        .await;
    let sms_customer = app.customer("SMS Kunde GmbH", "100000.00").await;
    let (s, b) = app.put("receivables", "/api/v1/dunning/profiles/sms", json!({"levels": [{"level": 1, "days": 5, "channel": "sms", "templates": {"de": {"subject": "Zahlungserinnerung", "body": "Bitte überweisen Sie {total}."}}}]})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .put(
            "receivables",
            &format!("/api/v1/customers/{sms_customer}/dunning"),
            json!({"profile": "sms", "language": "de", "phone": "+4915112345678"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .put(
            "receivables",
            &format!("/api/v1/customers/{sms_customer}/dunning"),
            json!({"phone": "0151 123"}),
        )
        .await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY && b["detail"].as_str().unwrap().starts_with("phone"),
        "{b}"
    );
    let (_, a) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    app.invoiced_order(&sms_customer, &[("SKU-1", 1)]).await;
    app.clock.advance_days(38);
    let r = run(app, false).await;
    assert_eq!(r["notices"].as_array().unwrap().len(), 2, "{r:#}");

    let sink = SmtpSink::start();
    let (url, seen) = gateway(1).await;
    let letters = tempdir();
    let channels = Channels {
        mailer: Some(mailer(&sink)),
        sms: Some(SmsGateway {
            url,
            user: Some("o2c".into()),
            password: Some("s3cret".into()),
            from: "ACME".into(),
        }),
        letters_dir: Some(letters.clone()),
    };
    let p = deliver::deliver_due(&app.app, &channels, 10).await.unwrap();
    assert_eq!(
        (p.sent, p.retrying, p.failed),
        (1, 1, 0),
        "e-mail sent, SMS to retry"
    );
    let mail = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(mail[0].rcpt_to, vec!["ap@mueller.example".to_string()]);
    assert_eq!(mail[0].subject().unwrap_or_default(), "Payment reminder");
    assert!(
        mail[0].data.contains(a["number"].as_str().unwrap()),
        "the notice lists the item"
    );
    assert!(
        mail[0].data.contains("application/pdf"),
        "the letter is attached"
    );

    // Not yet due for a retry; after the backoff the gateway accepts it.
    assert_eq!(
        deliver::deliver_due(&app.app, &channels, 10)
            .await
            .unwrap()
            .sent,
        0
    );
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        deliver::deliver_due(&app.app, &channels, 10)
            .await
            .unwrap()
            .sent,
        1
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].1["to"], "+4915112345678");
    assert!(
        seen[1].1["text"]
            .as_str()
            .unwrap()
            .starts_with("Zahlungserinnerung: Bitte überweisen Sie 11.90"),
        "{:?}",
        seen[1]
    );
    assert_eq!(
        seen[1].0.as_deref(),
        Some("Basic bzJjOnMzY3JldA=="),
        "basic auth o2c:s3cret"
    );
    let (_, notices) = app
        .get(
            "receivables",
            &format!("/api/v1/dunning/notices?customer_id={sms_customer}"),
        )
        .await;
    let d = &notices[0]["deliveries"][0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("sent"), Some(2)),
        "{d}"
    );
    let notice = notices[0]["id"].as_str().unwrap().to_string();
    let trail: Vec<(String, String)> = app
        .app
        .read(move |c| {
            Ok(c.query(
                "SELECT type, data FROM events WHERE aggregate_id = $1 ORDER BY seq",
                &[notice.as_str().into()],
            )?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect())
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = trail.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "dunning.notice_issued",
            "dunning.delivery_failed",
            "dunning.delivered"
        ]
    );
    assert!(
        trail[1].1.contains("503"),
        "the failure is on record: {trail:?}"
    );

    // The last level is a letter: a PDF file for the print room.
    app.clock.advance_days(14);
    run(app, false).await; // level 2, by e-mail again
    assert_eq!(
        deliver::deliver_due(&app.app, &channels, 10)
            .await
            .unwrap()
            .sent,
        1
    );
    app.clock.advance_days(14);
    let r = run(app, false).await;
    let letter = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["customer_id"] == c.as_str())
        .unwrap()
        .clone();
    assert_eq!(letter["channel"], "letter", "{r:#}");
    assert_eq!(
        deliver::deliver_due(&app.app, &channels, 10)
            .await
            .unwrap()
            .sent,
        1
    );
    let file = letters.join(format!("{}.pdf", letter["notice_id"].as_str().unwrap()));
    let bytes = std::fs::read(&file).expect("the letter was written");
    assert!(bytes.starts_with(b"%PDF-"));
    let (s, pdf) = app
        .send(
            Some("receivables"),
            reqwest::Method::GET,
            &format!(
                "/api/v1/dunning/notices/{}/letter.pdf",
                letter["notice_id"].as_str().unwrap()
            ),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(pdf.as_str().unwrap().starts_with("%PDF-"));
    let _ = std::fs::remove_dir_all(letters);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("o2c-letters-{}", crate::helpers::uuid_like()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub async fn dunning_a_paid_or_undue_invoice_is_refused_and_changes_nothing(app: &TestApp) {
    let c = app.basic("100000.00", 100).await;
    let (_, a) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let (_, b) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let (s, e) = app
        .post(
            "receivables",
            "/api/v1/dunning/notices",
            json!({"invoice_ids": [a["id"]]}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invoice-not-due")),
        "{e}"
    );
    app.pay(&c, "35.70", &[b["id"].as_str().unwrap()]).await;
    app.settle().await;
    app.clock.advance_days(40);
    let (s, e) = app
        .post(
            "receivables",
            "/api/v1/dunning/notices",
            json!({"invoice_ids": [b["number"]]}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invoice-not-open")),
        "{e}"
    );
    assert!(e["detail"].as_str().unwrap().contains("paid"), "{e}");
    let (_, none) = app.get("receivables", "/api/v1/dunning/notices").await;
    assert_eq!(none, json!([]));
    // The overdue one can be dunned by hand, at its next level.
    let (s, r) = app
        .post(
            "receivables",
            "/api/v1/dunning/notices",
            json!({"invoice_ids": [a["id"]]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["notices"][0]["level"], 1);
    let (s, e) = app.put("receivables", "/api/v1/dunning/profiles/bad", json!({"levels": [{"level": 1, "days": 10, "channel": "email"}, {"level": 2, "days": 5, "channel": "fax"}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = app.put("receivables", "/api/v1/dunning/profiles/bad", json!({"levels": [{"level": 1, "days": 10, "channel": "email"}, {"level": 2, "days": 5, "channel": "email"}]})).await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY
            && e["detail"].as_str().unwrap().starts_with("levels[1].days"),
        "{e}"
    );
}

pub async fn write_offs_respect_role_limits_and_a_recovery_reopens_what_is_paid(app: &TestApp) {
    let c = app.basic("1000000.00", 1000).await;
    let (_, big) = app.invoiced_order(&c, &[("SKU-1", 100)]).await; // 1,190.00
    let (_, small) = app.invoiced_order(&c, &[("SKU-1", 3)]).await; // 35.70
    let path = |i: &Value| format!("/api/v1/invoices/{}/write-off", i["id"].as_str().unwrap());
    let (s, e) = app
        .post("receivables", &path(&big), json!({"reason": "insolvent"}))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("write-off-over-limit")),
        "{e}"
    );
    assert!(
        e["detail"].as_str().unwrap().contains("1000.00"),
        "names the limit: {e}"
    );
    assert_eq!(
        balance(app, "6950").await,
        "0.00",
        "nothing was written off"
    );
    let (s, _) = app
        .post("sales", &path(&big), json!({"reason": "insolvent"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, w) = app
        .post("credit", &path(&big), json!({"reason": "insolvent"}))
        .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "the credit role's limit is 5000.00: {w}"
    );
    let (s, w2) = app
        .post(
            "receivables",
            &path(&small),
            json!({"reason": "not worth chasing", "amount": "10.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{w2}");
    assert_eq!(balance(app, "6950").await, "1200.00");
    let (_, inv) = app
        .get(
            "admin",
            &format!("/api/v1/invoices/{}", big["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        (
            amount(&inv["open"]).as_str(),
            inv["payment_status"].as_str()
        ),
        ("0.00", Some("written_off"))
    );
    let (s, e) = app
        .post("credit", &path(&big), json!({"reason": "again"}))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invoice-not-open"))
    );
    app.assert_books_balance().await;

    // The customer pays 500.00 after all: recovered, applied, the rest stays written off.
    app.pay(&c, "500.00", &[]).await;
    app.settle().await;
    let (s, r) = app
        .post(
            "credit",
            &format!("/api/v1/write-offs/{}/recover", w["id"].as_str().unwrap()),
            json!({"amount": "474.30"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(amount(&r["recovered"]), "474.30");
    let (_, inv) = app
        .get(
            "admin",
            &format!("/api/v1/invoices/{}", big["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        amount(&inv["open"]),
        "0.00",
        "the recovered part is paid from the unapplied cash: {inv}"
    );
    assert_eq!(balance(app, "6950").await, "725.70");
    let (s, e) = app
        .post(
            "credit",
            &format!("/api/v1/write-offs/{}/recover", w["id"].as_str().unwrap()),
            json!({"amount": "9999.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    app.assert_books_balance().await;
    let (_, events) = app
        .get(
            "admin",
            &format!(
                "/api/v1/orders/{}/events",
                big["order_id"].as_str().unwrap()
            ),
        )
        .await;
    let _ = events; // write-offs are on the invoice's trail, checked below
    let id = big["id"].as_str().unwrap().to_string();
    let kinds: Vec<String> = app
        .app
        .read(move |c| {
            Ok(c.query(
                "SELECT type FROM events WHERE aggregate_id = $1 ORDER BY seq",
                &[id.as_str().into()],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect())
        })
        .await
        .unwrap();
    assert!(
        kinds.contains(&"invoice.written_off".to_string())
            && kinds.contains(&"invoice.write_off_recovered".to_string()),
        "{kinds:?}"
    );
}

pub async fn kpis_and_the_worklist_rank_what_is_overdue(app: &TestApp) {
    let good = app.basic("100000.00", 1000).await;
    let late = app.customer("Spät Zahler GmbH", "100000.00").await;
    let (_, g) = app.invoiced_order(&good, &[("SKU-1", 3)]).await;
    app.invoiced_order(&late, &[("SKU-1", 30)]).await; // 357.00
    app.clock.advance_days(10);
    app.pay(&good, "35.70", &[g["id"].as_str().unwrap()]).await;
    app.settle().await;
    app.clock.advance_days(40); // the late one is 20 days overdue
    let (s, k) = app
        .get("receivables", "/api/v1/reports/kpis?cei_days=60")
        .await;
    assert_eq!(s, StatusCode::OK, "{k}");
    let eur = &k["per_currency"][0];
    assert_eq!(
        (
            amount(&eur["receivables"]).as_str(),
            amount(&eur["overdue"]).as_str()
        ),
        ("357.00", "357.00")
    );
    // Countback: 357.00 of 392.70 billed this month (or the month it fell in).
    assert!(eur["dso_days"].as_f64().unwrap() > 0.0, "{k:#}");
    // Began at 0, billed 392.70, 357.00 still open and none of it current: 35.70 / 392.70 = 9.1 %.
    assert_eq!(eur["cei_percent"], 9.1, "{k:#}");
    let dtp = k["days_to_pay"].as_array().unwrap();
    assert_eq!(dtp.len(), 1);
    assert_eq!(
        (
            dtp[0]["customer_id"].as_str(),
            dtp[0]["average_days_to_pay"].as_f64()
        ),
        (Some(good.as_str()), Some(10.0))
    );
    let (_, w) = app.get("receivables", "/api/v1/collections/worklist").await;
    let w = w.as_array().unwrap();
    assert_eq!(w.len(), 1, "only overdue customers: {w:?}");
    assert_eq!(
        (
            w[0]["customer_id"].as_str(),
            w[0]["average_days_overdue"].as_f64()
        ),
        (Some(late.as_str()), Some(20.0))
    );
    assert_eq!(w[0]["score"], 7140.0, "low risk (1) × 357.00 × 20 days");
    // Statement of account: JSON and PDF.
    let (_, st) = app
        .get(
            "receivables",
            &format!("/api/v1/customers/{late}/statement"),
        )
        .await;
    assert_eq!(
        (
            amount(&st["overdue"]).as_str(),
            amount(&st["balance_due"]).as_str()
        ),
        ("357.00", "357.00")
    );
    let (s, pdf) = app
        .send(
            Some("credit"),
            reqwest::Method::GET,
            &format!("/api/v1/customers/{late}/statement.pdf"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(pdf.as_str().unwrap().starts_with("%PDF-"));
}
