//! Customer service: inquiries answered at once or queued for a person, and the survey.

use crate::both_stores;
use crate::helpers::{Person, Site, World};
use o2c_app::Conn;
use o2c_app::users::Access;
use o2c_core::Role;
use reqwest::StatusCode;

both_stores!(
    a_customer_asks_where_an_order_is_and_gets_the_answer_at_once,
    a_question_o2c_cannot_answer_waits_for_a_person,
    a_delivered_order_is_rated_once_and_the_dashboard_shows_it,
);

async fn buyer(site: &Site, w: &World) -> Person {
    site.user(
        "buyer@alpha.example",
        Access::Portal {
            customer_id: w.alpha.clone(),
        },
        "alpha-buyer-pw",
    )
    .await;
    let p = Person::new(site);
    let r = p
        .post(
            "/portal/sign-in",
            &[
                ("email", "buyer@alpha.example"),
                ("password", "alpha-buyer-pw"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    p
}

async fn cases(site: &Site) -> Vec<(String, String, Option<String>)> {
    site.app
        .read(|c: &mut dyn Conn| {
            Ok(c.query(
                "SELECT status, topic, answered_by FROM service_cases ORDER BY created_at, id",
                &[],
            )?
            .iter()
            .map(|r| (r.text(0), r.text(1), r.opt_text(2)))
            .collect())
        })
        .await
        .unwrap()
}

async fn a_customer_asks_where_an_order_is_and_gets_the_answer_at_once(site: &Site) {
    let w = site.world().await;
    let buyer = buyer(site, &w).await;
    let csrf = buyer.get("/portal/help").await.csrf();
    let number = w.alpha_invoice["number"].as_str().unwrap();
    let p = buyer
        .post(
            "/portal/help",
            &[
                ("csrf", &csrf),
                ("topic", "order_status"),
                ("reference", &w.alpha_order),
                ("message", "where is it?"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert!(
        p.has(&format!("Order {} is dispatched.", w.alpha_order)),
        "{}",
        p.body
    );
    assert!(p.has(&format!("Invoiced: {number}.")), "{}", p.body);
    assert!(
        p.has(&format!("href=\"/portal/orders/{}\"", w.alpha_order)),
        "{}",
        p.body
    );
    // A copy of one of its invoices: the answer points to its downloads.
    let p = buyer
        .post(
            "/portal/help",
            &[
                ("csrf", &csrf),
                ("topic", "invoice_copy"),
                ("reference", &number.to_lowercase()),
            ],
        )
        .await;
    assert!(
        p.has(&format!("Here is your copy of invoice {number}")),
        "{}",
        p.body
    );
    // Another customer's invoice number is never answered from: it waits for a person.
    let theirs = w.beta_invoice["number"].as_str().unwrap();
    let p = buyer
        .post(
            "/portal/help",
            &[
                ("csrf", &csrf),
                ("topic", "invoice_copy"),
                ("reference", theirs),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED);
    assert!(
        p.has("a colleague will reply") && !p.has(&format!("copy of invoice {theirs}")),
        "{}",
        p.body
    );
    let all = cases(site).await;
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[0],
        (
            "answered".into(),
            "order_status".into(),
            Some("rule:service.auto_answer".into())
        )
    );
    assert_eq!(all[1].0, "answered");
    assert_eq!(all[2], ("open".into(), "invoice_copy".into(), None));
    // Bad input: named, nothing stored.
    let p = buyer
        .post("/portal/help", &[("csrf", &csrf), ("topic", "gossip")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.has("topic: `gossip`: expected order_status, invoice_copy or other"),
        "{}",
        p.body
    );
    assert_eq!(cases(site).await.len(), 3);
}

async fn a_question_o2c_cannot_answer_waits_for_a_person(site: &Site) {
    let w = site.world().await;
    let buyer = buyer(site, &w).await;
    let csrf = buyer.get("/portal/help").await.csrf();
    let p = buyer
        .post(
            "/portal/help",
            &[("csrf", &csrf), ("topic", "other"), ("message", "  ")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.has("message: say what you need"), "{}", p.body);
    let p = buyer
        .post(
            "/portal/help",
            &[
                ("csrf", &csrf),
                ("topic", "other"),
                ("message", "Can we get pallets instead of boxes?"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED);

    let (email, password) = site.staff(Role::Sales).await;
    let sales = Person::new(site);
    sales.sign_in(&email, &password).await;
    let queue = sales.get("/app/cases").await;
    assert!(
        queue.has("Can we get pallets instead of boxes?") && queue.has("Alpha Maschinenbau GmbH"),
        "{}",
        queue.body
    );
    assert!(
        sales
            .get("/app")
            .await
            .has("<strong>Customer service</strong> <span class=\"count\">1</span>")
    );
    let case_id: String = site
        .app
        .read(|c: &mut dyn Conn| Ok(c.query_one("SELECT id FROM service_cases", &[])?.text(0)))
        .await
        .unwrap();
    let done = sales
        .htmx_post(
            &format!("/app/cases/{case_id}/answer"),
            &queue.csrf(),
            &[("answer", "Yes, from the next order on.")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.has("Answered Alpha Maschinenbau GmbH"),
        "{}",
        done.body
    );
    let again = sales
        .htmx_post(
            &format!("/app/cases/{case_id}/answer"),
            &queue.csrf(),
            &[("answer", "again")],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The customer is told by e-mail and sees the answer in the portal.
    let mail: String = site
        .app
        .read(|c: &mut dyn Conn| Ok(c.query_one("SELECT body FROM notifications WHERE kind = 'service_answer' AND recipient = 'buyer@alpha.example'", &[])?.text(0)))
        .await
        .unwrap();
    assert!(mail.contains("Yes, from the next order on."), "{mail}");
    assert!(
        buyer
            .get("/portal/help")
            .await
            .has("Yes, from the next order on.")
    );
    let all = cases(site).await;
    assert_eq!(all[0].0, "answered");
    assert!(
        all[0].2.as_deref().unwrap().starts_with("user:usr_"),
        "{all:?}"
    );
    // Warehouse does not work this queue.
    let (we, wp) = site.staff(Role::Warehouse).await;
    let warehouse = Person::new(site);
    warehouse.sign_in(&we, &wp).await;
    assert_eq!(
        warehouse.get("/app/cases").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn a_delivered_order_is_rated_once_and_the_dashboard_shows_it(site: &Site) {
    let w = site.world().await;
    let buyer = buyer(site, &w).await;
    let home = buyer.get("/portal").await;
    assert!(
        home.has("How was your delivery?") && home.has(&w.alpha_order),
        "{}",
        home.body
    );
    let page = buyer
        .get(&format!("/portal/orders/{}", w.alpha_order))
        .await;
    assert!(
        page.has("How satisfied are you with this delivery?"),
        "{}",
        page.body
    );
    let path = format!("/portal/orders/{}/rating", w.alpha_order);
    let p = buyer
        .post(&path, &[("csrf", &page.csrf()), ("score", "9")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.has("score: 1 to 5, got 9"), "{}", p.body);
    let p = buyer
        .post(
            &path,
            &[
                ("csrf", &page.csrf()),
                ("score", "4"),
                ("comment", "on time"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = buyer.get(p.location.as_deref().unwrap()).await;
    assert!(
        page.has("Thank you for rating") && !page.has("How satisfied"),
        "{}",
        page.body
    );
    let p = buyer
        .post(&path, &[("csrf", &page.csrf()), ("score", "5")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.has("has been rated already"), "{}", p.body);
    // Another customer's order cannot be rated from here.
    let theirs = format!(
        "/portal/orders/{}/rating",
        w.beta_invoice["order_id"].as_str().unwrap()
    );
    assert_eq!(
        buyer
            .post(&theirs, &[("csrf", &page.csrf()), ("score", "1")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The rating is on the order's timeline and on the dashboard.
    let (email, password) = site.staff(Role::Admin).await;
    let admin = Person::new(site);
    admin.sign_in(&email, &password).await;
    let d = admin.get("/app").await;
    assert!(d.has("<dt>Delivery satisfaction</dt><dd>4.0 / 5</dd><dd class=\"sub\">1 answers, 30 days</dd>"), "{}", d.body);
    let order = admin.get(&format!("/app/orders/{}", w.alpha_order)).await;
    assert!(
        order.has("<strong>Delivery rated</strong>"),
        "{}",
        order.body
    );
}
