//! The customer portal: invitation by e-mail, a customer's own documents only, downloads, and
//! paying an invoice through the payment provider's hosted checkout.

use crate::both_stores;
use crate::helpers::{Person, Site, World};
use o2c_app::Conn;
use o2c_app::users::Access;
use o2c_core::Role;
use reqwest::StatusCode;

both_stores!(
    a_customer_invited_by_e_mail_signs_in_with_the_link_once,
    a_portal_user_never_sees_another_customers_documents,
    a_customer_downloads_an_invoice_and_pays_it_by_card,
    the_invitation_goes_out_by_smtp_and_its_link_signs_in,
    a_customer_raises_a_dispute_on_its_own_invoice_only,
);

/// The sign-in link from the newest queued e-mail to `email`.
async fn link_in_mail(site: &Site, email: &str) -> String {
    let to = email.to_string();
    let body: String = site
        .app
        .read(move |c: &mut dyn Conn| {
            Ok(c.query_one(
                "SELECT body FROM notifications WHERE recipient = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
                &[to.clone().into()],
            )?
            .text(0))
        })
        .await
        .unwrap();
    let at = body.find("/portal/link/").expect("link in the mail");
    body[at..at + "/portal/link/".len() + 64].to_string()
}

async fn a_customer_invited_by_e_mail_signs_in_with_the_link_once(site: &Site) {
    let w = site.world().await;
    let (email, password) = site.staff(Role::Sales).await;
    let sales = Person::new(site);
    sales.sign_in(&email, &password).await;
    let page = sales.get(&format!("/app/customers/{}", w.alpha)).await;
    let p = sales
        .post(
            &format!("/app/customers/{}/invite", w.alpha),
            &[
                ("csrf", &page.csrf()),
                ("email", "buyer@alpha.example"),
                ("name", "Anna Buyer"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert!(
        p.has("Invitation sent to buyer@alpha.example"),
        "{}",
        p.body
    );
    // Inviting the same address again is refused by name.
    let p = sales
        .post(
            &format!("/app/customers/{}/invite", w.alpha),
            &[
                ("csrf", &page.csrf()),
                ("email", "buyer@alpha.example"),
                ("name", "Anna"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A warehouse user may not invite.
    let (we, wp) = site.staff(Role::Warehouse).await;
    let warehouse = Person::new(site);
    warehouse.sign_in(&we, &wp).await;
    let wpage = warehouse.get(&format!("/app/customers/{}", w.alpha)).await;
    assert!(!wpage.has("Invite to the portal"));
    let p = warehouse
        .post(
            &format!("/app/customers/{}/invite", w.alpha),
            &[
                ("csrf", &wpage.csrf()),
                ("email", "x@alpha.example"),
                ("name", "X"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    let link = link_in_mail(site, "buyer@alpha.example").await;
    let buyer = Person::new(site);
    // Opening the link shows a button (mail scanners that follow links do not use it up) …
    let landing = buyer.get(&link).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing.has("Sign in to the portal"));
    // … pressing it signs in.
    let p = buyer.post(&link, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/portal"));
    let home = buyer.get("/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.has("Alpha Maschinenbau GmbH")
            && home.has(w.alpha_invoice["number"].as_str().unwrap()),
        "{}",
        home.body
    );
    assert!(home.has("dispatched (1 shipment)"), "{}", home.body);
    // The link works once.
    let again = Person::new(site).post(&link, &[]).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.has("has been used or has expired"), "{}", again.body);
    // Asking for a new link answers the same for known and unknown addresses, and mails only the known.
    for address in ["buyer@alpha.example", "stranger@nowhere.example"] {
        let p = Person::new(site)
            .post("/portal/sign-in", &[("email", address), ("mode", "link")])
            .await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(
            p.has("If this address belongs to a portal user"),
            "{}",
            p.body
        );
    }
    let fresh = link_in_mail(site, "buyer@alpha.example").await;
    assert_ne!(fresh, link);
    let strangers: i64 = site
        .app
        .read(|c: &mut dyn Conn| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM notifications WHERE recipient = 'stranger@nowhere.example'",
                &[],
            )?
            .int(0))
        })
        .await
        .unwrap();
    assert_eq!(strangers, 0);
    // A portal user is not staff.
    assert_eq!(buyer.get("/app").await.status, StatusCode::FORBIDDEN);
}

async fn portal_user(site: &Site, w: &World) -> Person {
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

async fn a_portal_user_never_sees_another_customers_documents(site: &Site) {
    let w = site.world().await;
    let buyer = portal_user(site, &w).await;
    let own = w.alpha_invoice["id"].as_str().unwrap();
    let theirs = w.beta_invoice["id"].as_str().unwrap();
    assert_eq!(
        buyer.get(&format!("/portal/invoices/{own}")).await.status,
        StatusCode::OK
    );
    let home = buyer.get("/portal").await;
    assert!(
        !home.has(w.beta_invoice["number"].as_str().unwrap()) && !home.has(&w.beta),
        "{}",
        home.body
    );
    // Beta's invoice, its downloads, its order: 404, exactly like a document that does not exist.
    let missing = buyer.get("/portal/invoices/inv_doesnotexist").await;
    for path in [
        format!("/portal/invoices/{theirs}"),
        format!("/portal/invoices/{theirs}/pdf"),
        format!("/portal/invoices/{theirs}/ubl"),
        format!(
            "/portal/orders/{}",
            w.beta_invoice["order_id"].as_str().unwrap()
        ),
    ] {
        let p = buyer.get(&path).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            p.body, missing.body,
            "{path} tells itself apart from a missing document"
        );
        assert!(!p.has("Beta"), "{path}");
    }
    let csrf = buyer.get("/portal").await.csrf();
    let p = buyer
        .post(
            &format!("/portal/invoices/{theirs}/pay"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let sessions: i64 = site
        .app
        .read(|c: &mut dyn Conn| {
            Ok(c.query_one("SELECT COUNT(*) FROM checkout_sessions", &[])?
                .int(0))
        })
        .await
        .unwrap();
    assert_eq!(sessions, 0, "nothing opened for Beta's invoice");
    // Staff pages stay closed.
    assert_eq!(
        buyer.get("/app/credit-holds").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn a_customer_downloads_an_invoice_and_pays_it_by_card(site: &Site) {
    let w = site.world().await;
    let buyer = portal_user(site, &w).await;
    let id = w.alpha_invoice["id"].as_str().unwrap();
    let number = w.alpha_invoice["number"].as_str().unwrap();
    let (s, ct, pdf) = buyer.get_bytes(&format!("/portal/invoices/{id}/pdf")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let (s, ct, xml) = buyer.get_bytes(&format!("/portal/invoices/{id}/ubl")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/xml"));
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains(&format!("<cbc:ID>{number}</cbc:ID>")), "{xml}");

    let page = buyer.get(&format!("/portal/invoices/{id}")).await;
    assert!(page.has("Pay 119.00 EUR by card"), "{}", page.body);
    let p = buyer
        .post(
            &format!("/portal/invoices/{id}/pay"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let checkout = p.location.unwrap();
    assert!(checkout.contains("/psp/local/checkout/"), "{checkout}");
    // The provider's hosted page; paying there posts the signed webhook back to o2c.
    let path = &checkout[checkout.find("/psp/").unwrap()..];
    let hosted = buyer.get(path).await;
    assert!(hosted.has("Pay 119.00 EUR"), "{}", hosted.body);
    let paid = buyer.post(path, &[("decision", "pay")]).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    site.settle().await;
    assert_eq!(site.invoice(id).await["payment_status"], "paid");
    let page = buyer.get(&format!("/portal/invoices/{id}")).await;
    assert!(!page.has("by card"), "nothing left to pay: {}", page.body);
    // The statement: the two 357.00 invoices still open (714.00), the card payment received.
    let st = buyer.get("/portal/statement").await;
    assert_eq!(st.status, StatusCode::OK);
    assert!(
        !st.has(&format!(">{number}<")),
        "paid, so not open: {}",
        st.body
    );
    assert!(
        st.has("<td class=\"num\"><strong>714.00 EUR</strong></td>"),
        "{}",
        st.body
    );
    assert!(st.has("119.00 EUR"), "the payment is listed: {}", st.body);
    assert!(page.has("<dt>Open</dt><dd>0.00 EUR</dd>"), "{}", page.body);
    // The checkout was opened by the portal user.
    let actor: String = site
        .app
        .read(|c: &mut dyn Conn| {
            Ok(c.query_one(
                "SELECT actor_id FROM events WHERE type = 'psp.checkout_created'",
                &[],
            )?
            .text(0))
        })
        .await
        .unwrap();
    assert!(actor.starts_with("usr_"), "{actor}");
    site.assert_books_balance().await;
}

async fn the_invitation_goes_out_by_smtp_and_its_link_signs_in(site: &Site) {
    use o2c_mail::testing::SmtpSink;
    let w = site.world().await;
    let sink = SmtpSink::start();
    let cfg = o2c_mail::SmtpConfig::parse(&sink.url(), "Billing <billing@example.com>").unwrap();
    let mailer = o2c_mail::Mailer::new(&cfg).unwrap();
    let base = site.url("");
    let customer = w.alpha.clone();
    site.app
        .write(o2c_core::Actor::Cli("test".into()), move |c, ctx| {
            o2c_app::users::invite_in_tx(
                c,
                ctx,
                &customer,
                "buyer@alpha.example",
                "Anna Buyer",
                &base,
            )
        })
        .await
        .unwrap();
    // The same worker that sends invoices and receipts sends the invitation.
    o2c_app::notify::deliver_due(&site.app, &mailer, 50)
        .await
        .unwrap();
    let messages = sink.wait_for(1, std::time::Duration::from_secs(5));
    let invite = messages
        .iter()
        .find(|m| m.rcpt_to == vec!["buyer@alpha.example".to_string()])
        .expect("the invitation was mailed");
    assert_eq!(
        invite.subject().as_deref(),
        Some("Your sign-in link for o2c Test GmbH")
    );
    // Undo quoted-printable soft line breaks to read the link as the reader's mail program would.
    let body = invite.data.replace("=\r\n", "").replace("=3D", "=");
    let at = body.find("/portal/link/").expect("a sign-in link");
    let link = &body[at..at + "/portal/link/".len() + 64];
    let buyer = Person::new(site);
    let p = buyer.post(link, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(buyer.get("/portal").await.has("Alpha Maschinenbau GmbH"));
}

async fn a_customer_raises_a_dispute_on_its_own_invoice_only(site: &Site) {
    let w = site.world().await;
    let buyer = portal_user(site, &w).await;
    let own = w.alpha_invoice["id"].as_str().unwrap();
    let theirs = w.beta_invoice["id"].as_str().unwrap();
    let page = buyer.get(&format!("/portal/invoices/{own}")).await;
    assert!(page.has("Raise a dispute"), "{}", page.body);
    let csrf = page.csrf();
    // Another customer's invoice: 404, and nothing is raised.
    let refused = buyer
        .post(
            &format!("/portal/invoices/{theirs}/dispute"),
            &[
                ("csrf", csrf.as_str()),
                ("reason", "pricing"),
                ("description", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    // A line that is not a number is refused by name.
    let bad = buyer
        .post(
            &format!("/portal/invoices/{own}/dispute"),
            &[
                ("csrf", csrf.as_str()),
                ("reason", "pricing"),
                ("line_no", "two"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let none = site.get("receivables", "/api/v1/disputes").await;
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none:#}");
    let done = buyer
        .post(
            &format!("/portal/invoices/{own}/dispute"),
            &[
                ("csrf", csrf.as_str()),
                ("reason", "pricing"),
                ("line_no", ""),
                ("description", "agreed price was 10 % lower"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let shown = buyer
        .get(&format!("/portal/invoices/{own}?disputed=1"))
        .await;
    assert!(shown.has("your dispute is recorded"), "{}", shown.body);
    let all = site.get("receivables", "/api/v1/disputes").await;
    let list = all.as_array().unwrap();
    assert_eq!(list.len(), 1, "{all:#}");
    assert_eq!(list[0]["invoice_id"], own);
    assert_eq!(list[0]["reason"], "pricing");
    assert!(
        list[0]["raised_by"].as_str().unwrap().starts_with("user:"),
        "{all:#}"
    );
}
