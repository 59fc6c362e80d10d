//! The back office: a task per queue done through the pages, documents with their timelines,
//! search, and the dashboard's figures.

use crate::both_stores;
use crate::helpers::{Person, Site};
use o2c_core::Role;
use reqwest::StatusCode;

both_stores!(
    a_credit_analyst_releases_a_held_order_from_the_queue,
    a_receivables_clerk_accepts_a_cash_application_suggestion,
    a_sales_clerk_replays_an_intake_exception_once_the_item_exists,
    a_line_that_is_not_ours_is_owed_back_to_the_sender,
    documents_show_their_timeline_and_search_finds_them,
    the_dashboard_counts_the_day_and_draws_aging_and_cash,
    a_collector_reviews_and_credits_a_dispute_from_the_queue,
    a_collector_sees_the_worklist_and_records_a_promise,
);

async fn signed_in(site: &Site, role: Role) -> Person {
    let (email, password) = site.staff(role).await;
    let p = Person::new(site);
    assert_eq!(
        p.sign_in(&email, &password).await.status,
        StatusCode::SEE_OTHER
    );
    p
}

async fn a_credit_analyst_releases_a_held_order_from_the_queue(site: &Site) {
    let w = site.world().await;
    let analyst = signed_in(site, Role::Credit).await;
    let queue = analyst.get("/app/credit-holds").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(
        queue.has(&w.held_order) && queue.has("Gamma Logistik AG"),
        "{}",
        queue.body
    );
    assert!(
        queue.has("Over the limit by 257.00 EUR"),
        "the suggestion names the excess: {}",
        queue.body
    );
    assert!(queue.has("357.00 EUR"), "{}", queue.body);
    let csrf = queue.csrf();
    let done = analyst
        .htmx_post(
            &format!("/app/credit-holds/{}/release", w.held_order),
            &csrf,
            &[("comment", "paid by cheque in advance")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.starts_with("<tr class=\"done\">") && done.has("Released"),
        "{}",
        done.body
    );
    site.settle().await;
    assert_eq!(site.order_status(&w.held_order).await, "reserved");
    // The decision names the analyst and the comment; the order was touched by a person.
    let decisions = site
        .get(
            "credit",
            &format!("/api/v1/orders/{}/credit-decisions", w.held_order),
        )
        .await;
    let last = decisions.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "approve", "{last:#}");
    assert!(
        last["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("user:usr_"),
        "{last:#}"
    );
    assert_eq!(last["comment"], "paid by cheque in advance");
    // Again: the order is no longer on hold, so the row says why nothing happened.
    let again = analyst
        .htmx_post(
            &format!("/app/credit-holds/{}/reject", w.held_order),
            &csrf,
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.starts_with("<tr class=\"failed\">")
            && again.has("cannot reject on credit review"),
        "{}",
        again.body
    );
    assert!(!analyst.get("/app/credit-holds").await.has(&w.held_order));
}

async fn a_receivables_clerk_accepts_a_cash_application_suggestion(site: &Site) {
    let w = site.world().await;
    let clerk = signed_in(site, Role::Receivables).await;
    let queue = clerk.get("/app/cash-exceptions").await;
    assert!(
        queue.has("357.00 EUR") && queue.has("ALPHA MASCHINENBAU"),
        "{}",
        queue.body
    );
    assert!(
        queue.body.matches("class=\"suggestion\"").count() >= 2,
        "both invoices suggested: {}",
        queue.body
    );
    // Without JavaScript: a plain form post, then back to the queue.
    let p = clerk
        .post(
            &format!("/app/cash-exceptions/{}/accept", w.parked_line),
            &[("csrf", &queue.csrf()), ("suggestion", "0")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/app/cash-exceptions"));
    let line = site
        .get(
            "receivables",
            &format!("/api/v1/bank-lines/{}", w.parked_line),
        )
        .await;
    assert_eq!(line["status"], "applied", "{line:#}");
    assert!(
        line["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("user:usr_"),
        "{line:#}"
    );
    let paid = line["suggestions"][0]["allocations"][0]["invoice_id"]
        .as_str()
        .unwrap()
        .to_string();
    site.settle().await;
    let inv = site.invoice(&paid).await;
    assert_eq!(inv["payment_status"], "paid", "{inv:#}");
    assert!(!clerk.get("/app/cash-exceptions").await.has(&w.parked_line));
    site.assert_books_balance().await;
}

async fn documents_show_their_timeline_and_search_finds_them(site: &Site) {
    let w = site.world().await;
    let sales = signed_in(site, Role::Sales).await;
    let order = sales.get(&format!("/app/orders/{}", w.alpha_order)).await;
    assert_eq!(order.status, StatusCode::OK);
    for step in [
        "Received",
        "Credit approved",
        "Stock reserved",
        "Dispatched",
        "Issued",
    ] {
        assert!(
            order.has(&format!("<strong>{step}</strong>")),
            "{step} missing: {}",
            order.body
        );
    }
    assert!(order.has("automation credit.auto_decide"), "{}", order.body);
    let number = w.alpha_invoice["number"].as_str().unwrap();
    let id = w.alpha_invoice["id"].as_str().unwrap();
    let inv = sales.get(&format!("/app/invoices/{id}")).await;
    assert!(
        inv.has(number) && inv.has("119.00 EUR") && inv.has("Alpha Maschinenbau GmbH"),
        "{}",
        inv.body
    );
    let cust = sales.get(&format!("/app/customers/{}", w.alpha)).await;
    assert!(
        cust.has(number) && cust.has("Invite to the portal"),
        "{}",
        cust.body
    );
    assert_eq!(
        sales.get("/app/orders/ord_doesnotexist").await.status,
        StatusCode::NOT_FOUND
    );

    // By number, by name (any case, part of it), by amount, and an id straight to its page.
    let hit = sales.get(&format!("/app/search?q={number}")).await;
    assert!(hit.has(&format!("/app/invoices/{id}")), "{}", hit.body);
    let hit = sales.get("/app/search?q=maschinen").await;
    assert!(
        hit.has(&format!("/app/customers/{}", w.alpha)),
        "{}",
        hit.body
    );
    let hit = sales.get("/app/search?q=238.00").await;
    assert!(
        hit.has(&format!(
            "/app/invoices/{}",
            w.beta_invoice["id"].as_str().unwrap()
        )),
        "{}",
        hit.body
    );
    let hit = sales.get(&format!("/app/search?q={}", w.held_order)).await;
    assert_eq!(
        hit.location.as_deref(),
        Some(format!("/app/orders/{}", w.held_order).as_str())
    );
    let none = sales.get("/app/search?q=zzzz-nothing").await;
    assert!(none.has("Nothing found"), "{}", none.body);
}

async fn the_dashboard_counts_the_day_and_draws_aging_and_cash(site: &Site) {
    let w = site.world().await;
    let (email, password) = site.staff(Role::Admin).await;
    let admin = Person::new(site);
    admin.sign_in(&email, &password).await;
    let d = admin.get("/app").await;
    assert_eq!(d.status, StatusCode::OK);
    // Five orders today; four invoices open: 119 + 238 + 357 + 357 = 1071.00, none overdue.
    assert!(d.has("<dt>Orders today</dt><dd>5</dd>"), "{}", d.body);
    assert!(
        d.has("<dt>Open receivables</dt><dd>1071.00 EUR</dd>"),
        "{}",
        d.body
    );
    assert!(d.has("<dt>Overdue</dt><dd>0.00 EUR</dd>"), "{}", d.body);
    // Four of five decided orders went through untouched (the held one waits for a person).
    assert!(d.has("<dd>80.0 %</dd>"), "{}", d.body);
    assert!(d.has("<title>current: 1071.00 EUR</title>"), "{}", d.body);
    assert!(d.has("<svg role=\"img\""), "{}", d.body);
    // Each queue with its count.
    assert!(
        d.has("<strong>Credit holds</strong> <span class=\"count\">1</span>"),
        "{}",
        d.body
    );
    assert!(
        d.has("<strong>Cash application</strong> <span class=\"count\">1</span>"),
        "{}",
        d.body
    );
    // A payment shows in this week's cash-in and leaves the rest open.
    let paid = site
        .post("receivables", "/api/v1/payments", serde_json::json!({"customer_id": w.alpha, "amount": "119.00", "currency": "EUR", "invoice_ids": [w.alpha_invoice["id"]]}))
        .await;
    assert_eq!(paid["amount"]["amount"], "119.00", "{paid}");
    site.settle().await;
    let d = admin.get("/app").await;
    assert!(
        d.has("<dt>Open receivables</dt><dd>952.00 EUR</dd>"),
        "{}",
        d.body
    );
    assert!(
        d.body.matches(": 119.00 EUR</title></rect>").count() == 1,
        "{}",
        d.body
    );
    // 75 days on (terms are 30 days), what is open is 45 days overdue: the 31–60 bucket.
    site.clock.advance_days(75);
    // The session ended after its 12 hours; sign in again.
    assert_eq!(admin.get("/app").await.status, StatusCode::SEE_OTHER);
    admin.sign_in(&email, &password).await;
    let d = admin.get("/app").await;
    assert!(d.has("<dt>Overdue</dt><dd>952.00 EUR</dd>"), "{}", d.body);
    assert!(d.has("<title>31–60: 952.00 EUR</title>"), "{}", d.body);
    assert!(d.has("<title>current: 0.00 EUR</title>"), "{}", d.body);
}

async fn a_sales_clerk_replays_an_intake_exception_once_the_item_exists(site: &Site) {
    let w = site.world().await;
    let csv = format!(
        "po_number,customer_id,sku,quantity\nPO-77,{},LAMP-1,2\n",
        w.beta
    );
    let (s, doc) = site
        .upload("sales", "/api/v1/intake/csv", "text/csv", csv)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{doc:#}");
    let id = doc["id"].as_str().unwrap().to_string();
    let clerk = signed_in(site, Role::Sales).await;
    let queue = clerk.get("/app/intake-exceptions").await;
    assert!(queue.has(&id) && queue.has("LAMP-1"), "{}", queue.body);
    // Replayed before the item exists: it still waits, and the row says why.
    let again = clerk
        .htmx_post(
            &format!("/app/intake-exceptions/{id}/replay"),
            &queue.csrf(),
            &[],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(
        again.has("Still waiting") && again.has("LAMP-1"),
        "{}",
        again.body
    );
    site.post("sales", "/api/v1/products", serde_json::json!({"sku": "LAMP-1", "name": "Desk lamp", "unit_price": "30.00", "currency": "EUR", "stock": [{"warehouse": "MAIN", "quantity": 10}]})).await;
    let done = clerk
        .htmx_post(
            &format!("/app/intake-exceptions/{id}/replay"),
            &queue.csrf(),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.has("Replayed: ordered, 1 order(s) placed"),
        "{}",
        done.body
    );
    let doc = site
        .get("sales", &format!("/api/v1/intake/documents/{id}"))
        .await;
    assert_eq!(doc["status"], "ordered", "{doc:#}");
    assert!(doc["orders"][0]["order_id"].as_str().is_some(), "{doc:#}");
    assert!(!clerk.get("/app/intake-exceptions").await.has(&id));
}

async fn a_line_that_is_not_ours_is_owed_back_to_the_sender(site: &Site) {
    let w = site.world().await;
    let clerk = signed_in(site, Role::Receivables).await;
    let queue = clerk.get("/app/cash-exceptions").await;
    let done = clerk
        .htmx_post(
            &format!("/app/cash-exceptions/{}/not-ours", w.parked_line),
            &queue.csrf(),
            &[("reason", "meant for our sister company")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.has("Marked not ours: 357.00 EUR is owed back to the sender."),
        "{}",
        done.body
    );
    let line = site
        .get(
            "receivables",
            &format!("/api/v1/bank-lines/{}", w.parked_line),
        )
        .await;
    assert_eq!(line["status"], "not_ours", "{line:#}");
    assert!(
        line["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("user:usr_"),
        "{line:#}"
    );
    site.assert_books_balance().await;
}

async fn a_collector_reviews_and_credits_a_dispute_from_the_queue(site: &Site) {
    let w = site.world().await;
    let invoice = w.alpha_invoice["id"].as_str().unwrap().to_string();
    let raised = site
        .post(
            "receivables",
            "/api/v1/disputes",
            serde_json::json!({"invoice_id": invoice, "reason": "damage", "description": "two cartons crushed"}),
        )
        .await;
    let id = raised["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{raised}"))
        .to_string();
    let collector = signed_in(site, Role::Collector).await;
    let queue = collector.get("/app/disputes").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(
        queue.has("two cartons crushed") && queue.has("damage report; credit if confirmed"),
        "{}",
        queue.body
    );
    let csrf = queue.csrf();
    let review = collector
        .htmx_post(&format!("/app/disputes/{id}/review"), &csrf, &[])
        .await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(review.has("Under review"), "{}", review.body);
    // A sales clerk may not decide disputes.
    let sales = signed_in(site, Role::Sales).await;
    assert_eq!(
        sales.get("/app/disputes").await.status,
        StatusCode::FORBIDDEN
    );
    let done = collector
        .htmx_post(
            &format!("/app/disputes/{id}/credit"),
            &csrf,
            &[("note", "photos confirm the damage")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.has("Credited"), "{}", done.body);
    let d = site
        .get("receivables", &format!("/api/v1/disputes/{id}"))
        .await;
    assert_eq!(d["status"], "resolved", "{d:#}");
    assert_eq!(d["resolution"], "credited", "{d:#}");
    assert!(d["credit_note_id"].is_string(), "{d:#}");
    // Deciding it again is refused with the reason, and the queue is empty.
    let again = collector
        .htmx_post(&format!("/app/disputes/{id}/reject"), &csrf, &[])
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(
        collector
            .get("/app/disputes")
            .await
            .has("No dispute is waiting")
    );
    site.assert_books_balance().await;
}

async fn a_collector_sees_the_worklist_and_records_a_promise(site: &Site) {
    let _w = site.world().await;
    // Nothing is overdue yet (the receivables clerk sees the same list).
    let clerk = signed_in(site, Role::Receivables).await;
    assert!(
        clerk
            .get("/app/collections")
            .await
            .has("No customer has anything overdue")
    );
    site.clock.advance_days(75);
    let collector = signed_in(site, Role::Collector).await;
    let page = collector.get("/app/collections").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("Alpha Maschinenbau GmbH") && page.has("record the promise you get"),
        "{}",
        page.body
    );
    let row = page
        .body
        .split("id=\"collect-")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", page.body));
    let customer = row.split('"').next().unwrap().to_string();
    let csrf = page.csrf();
    let path = format!("/app/collections/{customer}/promise");
    // A promise dated yesterday is refused with the reason; nothing is recorded.
    let yesterday = (site.clock_today() - chrono::Days::new(1)).to_string();
    let refused = collector
        .htmx_post(
            &path,
            &csrf,
            &[("amount", "50.00"), ("promised_on", &yesterday)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.has("in the past"), "{}", refused.body);
    let next_week = (site.clock_today() + chrono::Days::new(7)).to_string();
    let done = collector
        .htmx_post(
            &path,
            &csrf,
            &[
                ("amount", "50.00"),
                ("promised_on", &next_week),
                ("note", "called the buyer"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.has("Promise recorded: 50.00"), "{}", done.body);
    let promises = site
        .get(
            "receivables",
            &format!("/api/v1/promises?customer_id={customer}"),
        )
        .await;
    assert_eq!(promises.as_array().map(Vec::len), Some(1), "{promises:#}");
}
