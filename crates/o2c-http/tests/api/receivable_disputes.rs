//! Disputes (raised by a clerk, or from cash application's deductions), promises to pay,
//! contact notes and the collector's tasks, over the API.

use crate::both_stores;
use crate::cash::{Line, camt053, invoiced, setup, upload};
use crate::helpers::{TestApp, amount};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    a_dispute_on_a_line_pauses_the_item_and_a_partial_credit_note_resolves_it,
    a_deduction_from_cash_application_becomes_a_dispute_that_can_be_rejected,
    a_promise_dated_in_the_past_is_refused_and_a_broken_one_opens_a_task,
    contact_notes_are_kept_and_a_follow_up_opens_a_task,
);

async fn reason_of(app: &TestApp, customer: &str, invoice_id: &Value) -> String {
    let (_, r) = app
        .get(
            "receivables",
            &format!("/api/v1/reports/aging?customer_id={customer}"),
        )
        .await;
    let items = r["items"].as_array().unwrap();
    let item = items.iter().find(|i| i["invoice_id"] == *invoice_id);
    item.map(|i| i["reason"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "paid".into())
}

async fn event_types(app: &TestApp, aggregate: &str) -> Vec<(String, String)> {
    let id = aggregate.to_string();
    app.app
        .read(move |c| {
            Ok(c.query(
                "SELECT type, actor_kind FROM events WHERE aggregate_id = $1 ORDER BY seq",
                &[id.as_str().into()],
            )?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect())
        })
        .await
        .unwrap()
}

pub async fn a_dispute_on_a_line_pauses_the_item_and_a_partial_credit_note_resolves_it(
    app: &TestApp,
) {
    let c = app.basic("100000.00", 100).await;
    let (_, inv) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let (s, d) = app
        .post("receivables", "/api/v1/disputes", json!({"invoice_id": inv["number"], "line_no": 1, "reason": "damage", "description": "one chair arrived broken"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["status"], "open");
    assert_eq!(amount(&d["amount"]), "35.70", "the line with its tax: {d}");
    assert_eq!(d["due_on"].as_str().unwrap().len(), 10);
    assert_eq!(reason_of(app, &c, &inv["id"]).await, "disputed");
    let id = d["id"].as_str().unwrap();

    let (s, d) = app
        .post(
            "receivables",
            &format!("/api/v1/disputes/{id}/review"),
            json!({"owner": "anna", "due_on": "2030-01-31"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(
        (
            d["status"].as_str(),
            d["owner"].as_str(),
            d["due_on"].as_str()
        ),
        (Some("under_review"), Some("anna"), Some("2030-01-31"))
    );

    let (s, d) = app
        .post("receivables", &format!("/api/v1/disputes/{id}/resolve"), json!({"outcome": "credit", "lines": [{"line_no": 1, "quantity": 1}], "note": "credited one chair"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(
        (d["status"].as_str(), d["resolution"].as_str()),
        (Some("resolved"), Some("credited"))
    );
    let (_, cn) = app
        .get(
            "admin",
            &format!("/api/v1/invoices/{}", d["credit_note_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(amount(&cn["gross"]), "11.90", "{cn}");
    let (_, inv_now) = app
        .get(
            "admin",
            &format!("/api/v1/invoices/{}", inv["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(amount(&inv_now["open"]), "23.80");
    assert_eq!(reason_of(app, &c, &inv["id"]).await, "not_yet_due");

    // Settled disputes do not move again.
    let (s, b) = app
        .post(
            "receivables",
            &format!("/api/v1/disputes/{id}/resolve"),
            json!({"outcome": "reject"}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal-state-transition")),
        "{b}"
    );

    let (_, rc) = app.get("credit", "/api/v1/reports/disputes").await;
    assert_eq!(rc[0]["reason"], "damage", "{rc}");
    assert_eq!(
        (rc[0]["count"].as_i64(), rc[0]["credited"].as_i64()),
        (Some(1), Some(1))
    );
    let trail = event_types(app, id).await;
    let kinds: Vec<&str> = trail.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["dispute.raised", "dispute.under_review", "dispute.resolved"]
    );
    assert!(trail.iter().all(|(_, actor)| actor == "api_key"));

    // Bad input: a reason nobody knows, a line that does not exist, a paid invoice.
    let (s, b) = app
        .post(
            "receivables",
            "/api/v1/disputes",
            json!({"invoice_id": inv["id"], "reason": "weather"}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field")),
        "{b}"
    );
    let (s, b) = app
        .post(
            "receivables",
            "/api/v1/disputes",
            json!({"invoice_id": inv["id"], "line_no": 9, "reason": "pricing"}),
        )
        .await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY
            && b["detail"].as_str().unwrap().starts_with("line_no"),
        "{b}"
    );
    app.pay(&c, "23.80", &[inv["id"].as_str().unwrap()]).await;
    app.settle().await;
    let (s, b) = app
        .post(
            "receivables",
            "/api/v1/disputes",
            json!({"invoice_id": inv["id"], "reason": "pricing"}),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("invoice-not-open")),
        "{b}"
    );
    let (_, all) = app.get("receivables", "/api/v1/disputes").await;
    assert_eq!(
        all.as_array().unwrap().len(),
        1,
        "nothing was written by the refused requests"
    );
    let (s, _) = app
        .post(
            "sales",
            "/api/v1/disputes",
            json!({"invoice_id": inv["id"], "reason": "pricing"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.assert_books_balance().await;
}

pub async fn a_deduction_from_cash_application_becomes_a_dispute_that_can_be_rejected(
    app: &TestApp,
) {
    setup(app).await;
    let (customer, inv) = invoiced(app, "Abzug Handel GmbH", 10).await; // 1,190.00
    let today = app.today();
    let number = inv["number"].as_str().unwrap();
    let (s, b) = upload(
        app,
        camt053(
            "D1",
            &today,
            &[Line {
                amount: "1090.00",
                name: "Abzug Handel GmbH",
                iban: "DE02200505501015871393",
                text: &format!("{number} minus damaged goods"),
                rf: None,
            }],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    assert_eq!(b["matching"]["by_kind"]["deduction"], 1, "{b:#}");
    app.settle().await;
    let (_, list) = app
        .get(
            "receivables",
            &format!("/api/v1/disputes?customer_id={customer}&status=open"),
        )
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let d = &list[0];
    assert_eq!(
        (d["reason"].as_str(), amount(&d["amount"])),
        (Some("deduction"), "100.00".to_string())
    );
    assert!(d["deduction_id"].as_str().unwrap().starts_with("ded_"));
    assert_eq!(reason_of(app, &customer, &inv["id"]).await, "disputed");
    // The engine delivering the event again makes no second dispute.
    let ded = d["deduction_id"].as_str().unwrap().to_string();
    let again = app
        .app
        .write(o2c_core::Actor::Rule("test"), move |c, ctx| {
            o2c_app::receivable::disputes::from_deduction_in_tx(c, ctx, &ded)
        })
        .await
        .unwrap();
    assert_eq!(again.as_deref(), d["id"].as_str());

    let (s, r) = app
        .post(
            "receivables",
            &format!("/api/v1/disputes/{}/resolve", d["id"].as_str().unwrap()),
            json!({"outcome": "reject", "note": "goods were fine on delivery"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["resolution"].as_str()),
        (Some("rejected"), Some("rejected"))
    );
    // Chased again: no longer disputed, no longer held back as a deduction.
    assert_eq!(
        reason_of(app, &customer, &inv["id"]).await,
        "partially_paid"
    );
    app.assert_books_balance().await;
}

pub async fn a_promise_dated_in_the_past_is_refused_and_a_broken_one_opens_a_task(app: &TestApp) {
    let c = app.basic("100000.00", 100).await;
    let (_, a) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let (_, b) = app.invoiced_order(&c, &[("SKU-1", 3)]).await;
    let yesterday = (chrono::NaiveDate::parse_from_str(&app.today(), "%Y-%m-%d").unwrap()
        - chrono::Days::new(1))
    .to_string();
    let (s, e) = app
        .post(
            "receivables",
            "/api/v1/promises",
            json!({"customer_id": c, "amount": "35.70", "promised_on": yesterday}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("promise-date-in-past")
        ),
        "{e}"
    );
    let (s, e) = app.post("receivables", "/api/v1/promises", json!({"customer_id": c, "amount": "99.00", "promised_on": app.today(), "invoice_ids": [a["id"]]})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "more than is open: {e}"
    );
    let (_, none) = app
        .get("receivables", &format!("/api/v1/promises?customer_id={c}"))
        .await;
    assert_eq!(none, json!([]), "refused promises write nothing");

    let in5 = (chrono::NaiveDate::parse_from_str(&app.today(), "%Y-%m-%d").unwrap()
        + chrono::Days::new(5))
    .to_string();
    let (s, kept) = app.post("receivables", "/api/v1/promises", json!({"customer_id": c, "amount": "35.70", "promised_on": in5, "invoice_ids": [a["id"]]})).await;
    assert_eq!(s, StatusCode::CREATED, "{kept}");
    let (_, broken) = app.post("receivables", "/api/v1/promises", json!({"customer_id": c, "amount": "20.00", "promised_on": in5, "invoice_ids": [b["id"]], "note": "on the phone"})).await;
    assert_eq!(reason_of(app, &c, &a["id"]).await, "promise_to_pay");
    app.pay(&c, "35.70", &[a["id"].as_str().unwrap()]).await;
    app.settle().await;
    app.clock.advance_days(6);
    let (s, check) = app
        .post("receivables", "/api/v1/promises/check", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{check}");
    assert_eq!(check["kept"], json!([kept["id"]]));
    assert_eq!(check["broken"], json!([broken["id"]]));
    let (_, tasks) = app
        .get(
            "receivables",
            &format!("/api/v1/collections/tasks?customer_id={c}&status=open"),
        )
        .await;
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        (tasks[0]["kind"].as_str(), tasks[0]["source_id"].as_str()),
        (Some("broken_promise"), broken["id"].as_str())
    );
    // Checking again opens nothing new.
    app.post("receivables", "/api/v1/promises/check", json!({}))
        .await;
    let (_, again) = app
        .get(
            "receivables",
            &format!("/api/v1/collections/tasks?customer_id={c}"),
        )
        .await;
    assert_eq!(again.as_array().unwrap().len(), 1);
    let (s, done) = app
        .post(
            "receivables",
            &format!(
                "/api/v1/collections/tasks/{}/done",
                tasks[0]["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!((s, done["status"].as_str()), (StatusCode::OK, Some("done")));
    let kinds: Vec<String> = event_types(app, broken["id"].as_str().unwrap())
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(kinds, ["promise.made", "promise.broken"]);
}

pub async fn contact_notes_are_kept_and_a_follow_up_opens_a_task(app: &TestApp) {
    let c = app.basic("100000.00", 100).await;
    let (s, n) = app.post("receivables", &format!("/api/v1/customers/{c}/notes"), json!({"channel": "phone", "note": "Spoke to AP: cheque run on Friday", "follow_up_on": "2030-01-10"})).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let (s, e) = app
        .post(
            "receivables",
            &format!("/api/v1/customers/{c}/notes"),
            json!({"channel": "pigeon", "note": "x"}),
        )
        .await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY
            && e["detail"].as_str().unwrap().starts_with("channel"),
        "{e}"
    );
    let (_, notes) = app
        .get("credit", &format!("/api/v1/customers/{c}/notes"))
        .await;
    assert_eq!(notes.as_array().unwrap().len(), 1);
    assert_eq!(notes[0]["note"], "Spoke to AP: cheque run on Friday");
    let (_, tasks) = app
        .get(
            "receivables",
            &format!("/api/v1/collections/tasks?customer_id={c}"),
        )
        .await;
    assert_eq!(
        (tasks[0]["kind"].as_str(), tasks[0]["due_on"].as_str()),
        (Some("follow_up"), Some("2030-01-10"))
    );
}
