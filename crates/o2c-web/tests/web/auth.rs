//! Signing in and out, roles, CSRF, throttling, and the admin pages.

use crate::both_stores;
use crate::helpers::{Person, Site};
use o2c_app::Conn;
use o2c_core::Role;
use reqwest::StatusCode;

both_stores!(
    each_role_signs_in_and_reaches_only_its_pages,
    five_wrong_passwords_lock_the_account_for_that_address_only,
    a_form_without_the_session_token_changes_nothing,
    signing_out_ends_the_session_and_only_a_hash_of_it_is_stored,
    an_admin_creates_users_and_api_keys_and_the_last_admin_stays,
);

async fn each_role_signs_in_and_reaches_only_its_pages(site: &Site) {
    let anonymous = Person::new(site);
    let p = anonymous.get("/app/credit-holds").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.location.as_deref(),
        Some("/app/sign-in?next=/app/credit-holds")
    );

    // (role, pages it reaches, pages it does not)
    let cases: [(Role, &[&str], &[&str]); 6] = [
        (
            Role::Admin,
            &[
                "/app/users",
                "/app/api-keys",
                "/app/credit-holds",
                "/app/cash-exceptions",
            ],
            &[],
        ),
        (
            Role::Sales,
            &["/app/intake-exceptions", "/app/search"],
            &["/app/credit-holds", "/app/users", "/app/cash-exceptions"],
        ),
        (
            Role::Credit,
            &["/app/credit-holds"],
            &["/app/intake-exceptions", "/app/api-keys"],
        ),
        (
            Role::Warehouse,
            &["/app"],
            &["/app/credit-holds", "/app/cash-exceptions", "/app/disputes"],
        ),
        (
            Role::Receivables,
            &["/app/cash-exceptions", "/app/disputes", "/app/collections"],
            &["/app/credit-holds", "/app/users"],
        ),
        (
            Role::Collector,
            &["/app/collections", "/app/disputes"],
            &["/app/cash-exceptions", "/app/users"],
        ),
    ];
    for (role, reach, not) in cases {
        let (email, password) = site.staff(role).await;
        let person = Person::new(site);
        let p = person.sign_in(&email, &password).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{role:?}: {}", p.body);
        assert_eq!(p.location.as_deref(), Some("/app"));
        let home = person.get("/app").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.has(&format!("({})", role.as_str())), "{}", home.body);
        for path in reach {
            assert_eq!(
                person.get(path).await.status,
                StatusCode::OK,
                "{role:?} {path}"
            );
        }
        for path in not {
            let p = person.get(path).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{role:?} {path}");
            assert!(p.has(role.as_str()), "names the role: {}", p.body);
            assert!(
                !home.has(&format!("href=\"{path}\"")),
                "{role:?} menu shows {path}"
            );
        }
        // Staff cannot use the portal.
        assert_eq!(person.get("/portal").await.status, StatusCode::FORBIDDEN);
    }
}

async fn five_wrong_passwords_lock_the_account_for_that_address_only(site: &Site) {
    let (email, password) = site.staff(Role::Credit).await;
    let (other, other_password) = site.staff(Role::Sales).await;
    let person = Person::new(site);
    for _ in 0..5 {
        let p = person.sign_in(&email, "not-the-password").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert!(p.has("not right"), "{}", p.body);
    }
    // Locked now, even with the right password, and the page says until when.
    let p = person.sign_in(&email, &password).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.has("try again after"), "{}", p.body);
    // Another account from the same address is not affected.
    assert_eq!(
        person.sign_in(&other, &other_password).await.status,
        StatusCode::SEE_OTHER
    );
    // An unknown account answers like a wrong password.
    let p = Person::new(site)
        .sign_in("nobody@test.o2c", "whatever-it-is")
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    // After the window the account may try again.
    site.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        Person::new(site).sign_in(&email, &password).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn a_form_without_the_session_token_changes_nothing(site: &Site) {
    let w = site.world().await;
    let (email, password) = site.staff(Role::Credit).await;
    let analyst = Person::new(site);
    analyst.sign_in(&email, &password).await;
    let path = format!("/app/credit-holds/{}/release", w.held_order);
    for form in [vec![], vec![("csrf", "0".repeat(64))]] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let p = analyst.post(&path, &form).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    }
    // Someone else's token does not do either.
    let (email2, password2) = site.staff(Role::Admin).await;
    let admin = Person::new(site);
    admin.sign_in(&email2, &password2).await;
    let admins_token = admin.get("/app/credit-holds").await.csrf();
    assert_eq!(
        analyst.post(&path, &[("csrf", &admins_token)]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(site.order_status(&w.held_order).await, "credit_hold");
    // A sign-in form posted from another site is refused.
    let r = reqwest::Client::new()
        .post(site.url("/app/sign-in"))
        .header("Origin", "https://evil.example")
        .form(&[("email", email.as_str()), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn signing_out_ends_the_session_and_only_a_hash_of_it_is_stored(site: &Site) {
    let (email, password) = site.staff(Role::Sales).await;
    let person = Person::new(site);
    let r = person
        .client
        .post(site.url("/app/sign-in"))
        .form(&[("email", email.as_str()), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("o2c_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let token = cookie["o2c_session=".len()..cookie.find(';').unwrap()].to_string();
    let stored: Vec<String> = site
        .app
        .read(|c: &mut dyn Conn| {
            Ok(c.query("SELECT token_hash FROM web_sessions", &[])?
                .iter()
                .map(|r| r.text(0))
                .collect())
        })
        .await
        .unwrap();
    assert_eq!(stored, vec![o2c_app::auth::hash_secret(&token)]);

    let page = person.get("/app").await;
    let out = person
        .post("/app/sign-out", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/app/sign-in"));
    // The old cookie opens nothing any more, even when sent by hand.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(site.url("/app"))
        .header("cookie", format!("o2c_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // htmx is told to load the sign-in page whole, not to swap it into a row.
    let r = reqwest::Client::new()
        .post(site.url("/app/credit-holds/ord_x/release"))
        .header("HX-Request", "true")
        .header("cookie", format!("o2c_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["hx-redirect"],
        "/app/sign-in?next=/app/credit-holds/ord_x/release"
    );
}

async fn an_admin_creates_users_and_api_keys_and_the_last_admin_stays(site: &Site) {
    let (email, password) = site.staff(Role::Admin).await;
    let admin = Person::new(site);
    admin.sign_in(&email, &password).await;
    let csrf = admin.get("/app/users").await.csrf();

    // Bad input: a clear message naming the field, and nobody created.
    let p = admin
        .post(
            "/app/users",
            &[
                ("csrf", &csrf),
                ("email", "not-an-address"),
                ("name", "X"),
                ("role", "sales"),
                ("password", "long-enough-pw"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.has("email: `not-an-address` is not an e-mail address"),
        "{}",
        p.body
    );
    let p = admin
        .post(
            "/app/users",
            &[
                ("csrf", &csrf),
                ("email", "ana@test.o2c"),
                ("name", "Ana"),
                ("role", "boss"),
                ("password", "long-enough-pw"),
            ],
        )
        .await;
    assert!(
        p.has("role: expected one of admin, sales, credit, warehouse, receivables, collector"),
        "{}",
        p.body
    );
    let p = admin
        .post(
            "/app/users",
            &[
                ("csrf", &csrf),
                ("email", "ana@test.o2c"),
                ("name", "Ana"),
                ("role", "credit"),
                ("password", "short"),
            ],
        )
        .await;
    assert!(
        p.has("password: at least 10 characters, got 5"),
        "{}",
        p.body
    );

    let p = admin
        .post(
            "/app/users",
            &[
                ("csrf", &csrf),
                ("email", "Ana@Test.o2c"),
                ("name", "Ana Credit"),
                ("role", "credit"),
                ("password", "ana-credit-pw"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    assert!(
        p.has("ana@test.o2c can now sign in as credit"),
        "{}",
        p.body
    );
    let p = admin
        .post(
            "/app/users",
            &[
                ("csrf", &csrf),
                ("email", "ana@test.o2c"),
                ("name", "Again"),
                ("role", "sales"),
                ("password", "ana-credit-pw"),
            ],
        )
        .await;
    assert!(
        p.has("a user with the e-mail ana@test.o2c already exists"),
        "{}",
        p.body
    );
    let ana = Person::new(site);
    assert_eq!(
        ana.sign_in("ana@test.o2c", "ana-credit-pw").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(ana.get("/app/credit-holds").await.status, StatusCode::OK);

    // Deactivating ends Ana's session; every change is on the event log with its actor.
    let users = site.app.read(o2c_app::users::list).await.unwrap();
    let ana_id = users
        .iter()
        .find(|u| u.email == "ana@test.o2c")
        .unwrap()
        .id
        .clone();
    let p = admin
        .post(
            &format!("/app/users/{ana_id}"),
            &[("csrf", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(
        ana.get("/app/credit-holds").await.status,
        StatusCode::SEE_OTHER
    );
    let who: Vec<(String, String)> = site
        .app
        .read(move |c: &mut dyn Conn| {
            Ok(c.query(
                "SELECT type, actor_id FROM events WHERE aggregate_id = $1 ORDER BY seq",
                &[ana_id.clone().into()],
            )?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect())
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = who.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["user.created", "user.signed_in", "user.changed"],
        "{who:?}"
    );
    assert_ne!(
        who[0].1, who[1].1,
        "created by the admin, signed in by Ana herself"
    );
    assert!(
        who.iter().all(|(_, actor)| actor.starts_with("usr_")),
        "{who:?}"
    );

    // The only admin can be neither demoted nor deactivated.
    let me = users.iter().find(|u| u.email == email).unwrap().id.clone();
    let p = admin
        .post(
            &format!("/app/users/{me}"),
            &[("csrf", &csrf), ("role", "sales")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.has("the last active admin"), "{}", p.body);

    // An API key: its secret shown once, and it works on the API.
    let keys = admin.get("/app/api-keys").await;
    let p = admin
        .post(
            "/app/api-keys",
            &[
                ("csrf", &keys.csrf()),
                ("role", "sales"),
                ("label", "web shop"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let at = p.body.find("class=\"secret\">").expect("secret shown") + 15;
    let secret = &p.body[at..at + p.body[at..].find('<').unwrap()];
    assert!(secret.starts_with("o2c_"), "{secret}");
    let r = reqwest::Client::new()
        .get(site.url("/api/v1/customers"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        !admin.get("/app/api-keys").await.has(secret),
        "shown once only"
    );
}
