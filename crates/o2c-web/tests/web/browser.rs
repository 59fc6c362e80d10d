//! The pages in a real headless Chromium (through chromedriver): sign-in, one task per role,
//! the portal (see an invoice, download it, pay it) and the isolation check. Screenshots of the
//! main pages land in `<target>/tmp/web-screenshots/`. Skipped, saying so, when Chromium or
//! chromedriver is not installed (`.ci/run` installs both). Runs on SQLite: the stores are
//! covered by the HTTP-level scenarios; this is about what a browser does with the pages.

use crate::helpers::{Site, World};
use crate::webdriver::{Browser, Session, installed};
use o2c_app::testing::Engine;
use o2c_app::users::Access;
use o2c_core::Role;
use std::path::PathBuf;

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots")
}

async fn sign_in(b: &Session, site: &Site, page: &str, email: &str, password: &str) {
    b.goto(&site.url(page)).await;
    b.type_into("#email", email).await;
    b.type_into("#password", password).await;
    b.click("form button[type=submit]").await;
}

async fn sign_out(b: &Session) {
    b.click("form.who button").await;
    b.wait_for("Sign in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_browser_signs_in_works_each_queue_and_pays_in_the_portal() {
    let Some((chromium, driver)) = installed() else {
        eprintln!(
            "skipped: Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let site = Site::spawn(Engine::Sqlite).await.unwrap();
    let w = site.world().await;
    let (browser, b) = Browser::start(&chromium, &driver, 1280, 1400).await;
    let dir = shots();

    // Sign-in: a wrong password is refused on the page; the right one opens the dashboard.
    let (admin, admin_pw) = site.staff(Role::Admin).await;
    sign_in(&b, &site, "/app/sign-in", &admin, "wrong-password").await;
    b.wait_for("is not right").await;
    b.screenshot(&dir, "01-sign-in-refused").await;
    sign_in(&b, &site, "/app/sign-in", &admin, &admin_pw).await;
    b.wait_for("Open receivables").await;
    assert!(b.current_url().await.ends_with("/app"));
    b.screenshot(&dir, "02-dashboard-admin").await;
    b.goto(&site.url("/app/users")).await;
    b.wait_for("New staff user").await;
    b.screenshot(&dir, "03-users").await;
    b.goto(&site.url(&format!("/app/orders/{}", w.alpha_order)))
        .await;
    b.wait_for("Timeline").await;
    b.screenshot(&dir, "04-order-timeline").await;
    b.goto(&site.url("/app/search?q=alpha")).await;
    b.wait_for("Alpha Maschinenbau GmbH").await;
    b.screenshot(&dir, "05-search").await;
    sign_out(&b).await;

    credit_analyst_releases_a_hold(&b, &site, &w, &dir).await;
    clerk_accepts_a_suggestion(&b, &site, &w, &dir).await;
    collector_resolves_a_dispute(&b, &site, &w, &dir).await;
    customer_sees_downloads_and_pays(&b, &site, &w, &dir).await;

    // The question o2c could not answer waits in the back office.
    sign_in(&b, &site, "/app/sign-in", &admin, &admin_pw).await;
    b.wait_for("Open receivables").await;
    b.goto(&site.url("/app/cases")).await;
    b.wait_for("Can you deliver on pallets?").await;
    b.screenshot(&dir, "14-service-cases").await;
    // On a phone: the same pages, one column.
    b.resize(390, 844).await;
    b.goto(&site.url("/app")).await;
    b.wait_for("Open receivables").await;
    b.screenshot(&dir, "15-dashboard-phone").await;
    b.goto(&site.url("/app/cash-exceptions")).await;
    b.wait_for("Cash application").await;
    b.screenshot(&dir, "16-queue-phone").await;
    b.quit().await;
    drop(browser);
    eprintln!("screenshots in {}", dir.display());
}

async fn credit_analyst_releases_a_hold(
    b: &Session,
    site: &Site,
    w: &World,
    dir: &std::path::Path,
) {
    let (email, pw) = site.staff(Role::Credit).await;
    sign_in(b, site, "/app/sign-in", &email, &pw).await;
    b.wait_for("Credit holds").await;
    b.goto(&site.url("/app/credit-holds")).await;
    b.wait_for(&w.held_order).await;
    b.screenshot(dir, "06-credit-holds").await;
    b.type_into(&format!("#c-{}", w.held_order), "customer prepaid")
        .await;
    // htmx posts the form and swaps the row in place.
    b.click(&format!(
        "#hold-{} button[type=submit]:not(.danger)",
        w.held_order
    ))
    .await;
    b.wait_for("Released: order").await;
    b.screenshot(dir, "07-credit-hold-released").await;
    site.settle().await;
    assert_eq!(site.order_status(&w.held_order).await, "reserved");
    sign_out(b).await;
}

async fn clerk_accepts_a_suggestion(b: &Session, site: &Site, w: &World, dir: &std::path::Path) {
    let (email, pw) = site.staff(Role::Receivables).await;
    sign_in(b, site, "/app/sign-in", &email, &pw).await;
    b.wait_for("Cash application").await;
    b.goto(&site.url("/app/cash-exceptions")).await;
    b.wait_for("ALPHA MASCHINENBAU").await;
    b.screenshot(dir, "08-cash-exceptions").await;
    b.click("form.suggestion button").await;
    b.wait_for("Applied 357.00 EUR").await;
    let line = site
        .get(
            "receivables",
            &format!("/api/v1/bank-lines/{}", w.parked_line),
        )
        .await;
    assert_eq!(line["status"], "applied");
    sign_out(b).await;
}

async fn collector_resolves_a_dispute(b: &Session, site: &Site, w: &World, dir: &std::path::Path) {
    let invoice = w.beta_invoice["id"].as_str().unwrap();
    let d = site
        .post(
            "receivables",
            "/api/v1/disputes",
            serde_json::json!({"invoice_id": invoice, "reason": "quantity", "description": "one carton missing"}),
        )
        .await;
    let id = d["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{d}"))
        .to_string();
    let (email, pw) = site.staff(Role::Collector).await;
    sign_in(b, site, "/app/sign-in", &email, &pw).await;
    b.wait_for("Disputes").await;
    b.goto(&site.url("/app/disputes")).await;
    b.wait_for("one carton missing").await;
    b.screenshot(dir, "08b-disputes").await;
    b.type_into(&format!("#n-{id}"), "proof of delivery shows 9 of 10")
        .await;
    b.click(&format!(
        "#dispute-{id} button[type=submit]:not(.danger):not(.secondary)"
    ))
    .await;
    b.wait_for("Credited: invoice").await;
    b.screenshot(dir, "08c-dispute-credited").await;
    let after = site
        .get("receivables", &format!("/api/v1/disputes/{id}"))
        .await;
    assert_eq!(after["resolution"], "credited", "{after:#}");
    sign_out(b).await;
}

async fn customer_sees_downloads_and_pays(
    b: &Session,
    site: &Site,
    w: &World,
    dir: &std::path::Path,
) {
    site.user(
        "buyer@alpha.example",
        Access::Portal {
            customer_id: w.alpha.clone(),
        },
        "alpha-buyer-pw",
    )
    .await;
    sign_in(
        b,
        site,
        "/portal/sign-in",
        "buyer@alpha.example",
        "alpha-buyer-pw",
    )
    .await;
    let number = w.alpha_invoice["number"].as_str().unwrap();
    b.wait_for(number).await;
    b.screenshot(dir, "09-portal-home").await;
    let id = w.alpha_invoice["id"].as_str().unwrap();
    b.click(&format!("a[href='/portal/invoices/{id}']")).await;
    b.wait_for("Download PDF").await;
    b.screenshot(dir, "10-portal-invoice").await;
    // Download with the browser's own session (the link's target, fetched by the page).
    let got = b
        .script(
            &format!(
                "const done = arguments[arguments.length - 1];
                 fetch('/portal/invoices/{id}/pdf').then(r => r.arrayBuffer().then(buf => done([r.status, r.headers.get('content-type'), String.fromCharCode(...new Uint8Array(buf.slice(0, 5)))])));"
            ),
            true,
        )
        .await;
    assert_eq!(got, serde_json::json!([200, "application/pdf", "%PDF-"]));
    // Pay: the provider's hosted page, then back to the invoice, settled.
    b.click("form.pay button").await;
    b.wait_for("Test card").await;
    b.click("button[value=pay]").await;
    // The provider's answer page, not the checkout page still on screen (both end in </body>).
    b.wait_for("Payment received").await;
    site.settle().await;
    b.goto(&site.url(&format!("/portal/invoices/{id}"))).await;
    let page = b.wait_for("<dt>Open</dt>").await;
    assert!(page.contains("<dt>Open</dt><dd>0.00 EUR</dd>"), "{page}");
    assert_eq!(site.invoice(id).await["payment_status"], "paid");
    b.screenshot(dir, "11-portal-invoice-paid").await;
    // Another customer's invoice: not found, nothing of it shown.
    b.goto(&site.url(&format!(
        "/portal/invoices/{}",
        w.beta_invoice["id"].as_str().unwrap()
    )))
    .await;
    let page = b.wait_for("Not found").await;
    assert!(!page.contains("Beta"), "{page}");
    assert!(b.title().await.starts_with("Not found"));
    // Ask where an order is: answered at once.
    b.goto(&site.url("/portal/help")).await;
    b.type_into("#reference", &w.alpha_order).await;
    b.type_into("#message", "When does it arrive?").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for(&format!("Order {} is delivered and paid.", w.alpha_order))
        .await;
    b.screenshot(dir, "12-portal-help-answered").await;
    b.type_into("#message", "Can you deliver on pallets?").await;
    b.script("document.getElementById('topic').value = 'other';", false)
        .await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for("a colleague will reply").await;
    b.goto(&site.url("/portal/statement")).await;
    b.wait_for("Balance").await;
    b.screenshot(dir, "13-portal-statement").await;
    b.goto(&site.url("/portal/contact")).await;
    b.wait_for("Reach us").await;
    b.screenshot(dir, "13b-portal-contact").await;
    sign_out(b).await;
}
