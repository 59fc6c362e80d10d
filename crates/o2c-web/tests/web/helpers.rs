//! The whole o2c (API and pages) on 127.0.0.1:0 with a fresh database, a cookie-keeping client
//! per person, and a small company with documents in every queue.

use o2c_app::testing::{Engine, TestStore};
use o2c_app::users::{self, Access, NewUser};
use o2c_app::{App, ManualClock, auth};
use o2c_core::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// `both_stores!(scenario, …)` makes `scenario::on_sqlite` and `scenario::on_postgres`.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use o2c_app::testing::Engine;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                let site = $crate::helpers::Site::spawn(Engine::Sqlite).await.expect("sqlite always available");
                super::$name(&site).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                match $crate::helpers::Site::spawn(Engine::Postgres).await {
                    Some(site) => super::$name(&site).await,
                    None => eprintln!("skipped on PostgreSQL: O2C_TEST_DATABASE_URL is not set"),
                }
            }
        }
    )*};
}

pub struct Site {
    pub addr: SocketAddr,
    pub app: App,
    pub clock: Arc<ManualClock>,
    api: reqwest::Client,
    keys: HashMap<&'static str, String>,
    server: tokio::task::JoinHandle<()>,
    _store: TestStore,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub const OUR_IBAN: &str = "DE89370400440532013000";

impl Site {
    /// API and pages as `o2c serve` mounts them (with the peer address), without the background
    /// engine: tests call `settle()`.
    pub async fn spawn(engine: Engine) -> Option<Site> {
        let store = TestStore::new(engine)?;
        let clock = Arc::new(ManualClock::at(chrono::Utc::now()));
        let app = store.app_with(clock.clone()).expect("open store");
        let mut keys = HashMap::new();
        for role in Role::ALL {
            let (_, secret) = app
                .write(Actor::Cli("test".into()), move |c, ctx| {
                    auth::create_in_tx(c, ctx, role, "test")
                })
                .await
                .expect("create key");
            keys.insert(role.as_str(), secret);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let routes = o2c_http::router(app.clone()).merge(o2c_web::router(app.clone()));
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                routes.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        Some(Site {
            addr,
            app,
            clock,
            api: reqwest::Client::new(),
            keys,
            server,
            _store: store,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        role: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .api
            .request(method, self.url(path))
            .bearer_auth(&self.keys[role]);
        if let Some(b) = body {
            r = r
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&b);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A file as the body (`text/csv`, `application/xml`, …).
    pub async fn upload(
        &self,
        role: &str,
        path: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        let resp = self
            .api
            .post(self.url(path))
            .bearer_auth(&self.keys[role])
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("upload");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, role: &str, path: &str, body: Value) -> Value {
        let (s, b) = self
            .api(reqwest::Method::POST, role, path, Some(body))
            .await;
        assert!(s.is_success(), "POST {path}: {s} {b}");
        b
    }

    pub async fn get(&self, role: &str, path: &str) -> Value {
        let (s, b) = self.api(reqwest::Method::GET, role, path, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {b}");
        b
    }

    pub async fn settle(&self) {
        self.app.settle().await.expect("engine settles");
    }

    pub fn clock_today(&self) -> chrono::NaiveDate {
        o2c_app::Clock::now(self.clock.as_ref()).date_naive()
    }

    pub fn today(&self) -> String {
        o2c_app::Clock::now(self.clock.as_ref())
            .date_naive()
            .to_string()
    }

    /// A user who signs in with `password` (staff with `role`, or a portal user of a customer).
    pub async fn user(&self, email: &str, access: Access, password: &str) -> String {
        let hash = users::hash_password(password).expect("hash");
        let (e, p) = (email.to_string(), password.to_string());
        let _ = p;
        self.app
            .write(Actor::Cli("test".into()), move |c, ctx| {
                let new = NewUser {
                    email: &e,
                    name: &format!("Test {e}"),
                    access: access.clone(),
                    password: None,
                };
                users::create_in_tx(c, ctx, &new, Some(&hash))
            })
            .await
            .expect("create user")
            .id
    }

    /// A staff user `<role>@test.o2c` with the password `pw-<role>-secret`.
    pub async fn staff(&self, role: Role) -> (String, String) {
        let email = format!("{}@test.o2c", role.as_str());
        let password = format!("pw-{}-secret", role.as_str());
        self.user(&email, Access::Staff { role }, &password).await;
        (email, password)
    }

    /// The trial balance is zero and the subledgers agree.
    pub async fn assert_books_balance(&self) {
        let tb = self
            .get("receivables", "/api/v1/ledger/trial-balance")
            .await;
        assert_eq!(tb["balanced"], json!(true), "{tb:#}");
        for c in tb["receivables"]
            .as_array()
            .unwrap()
            .iter()
            .chain(tb["unapplied_cash"].as_array().unwrap())
        {
            assert_eq!(c["matches"], json!(true), "{tb:#}");
        }
    }

    pub async fn order_status(&self, id: &str) -> String {
        self.get("admin", &format!("/api/v1/orders/{id}")).await["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn invoice(&self, id: &str) -> Value {
        self.get("admin", &format!("/api/v1/invoices/{id}")).await
    }
}

/// A person's browser without JavaScript: keeps cookies, does not follow redirects.
pub struct Person {
    pub client: reqwest::Client,
    base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field in:\n{}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

impl Person {
    pub fn new(site: &Site) -> Person {
        Person {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: site.url(""),
        }
    }

    async fn page(resp: reqwest::Response) -> Page {
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        Page {
            status,
            location,
            body: resp.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn get_bytes(&self, path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status(), ct, r.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// As htmx sends it: `HX-Request` and the token in `X-CSRF-Token`.
    pub async fn htmx_post(&self, path: &str, csrf: &str, form: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .header("HX-Request", "true")
                .header("X-CSRF-Token", csrf)
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.post(
            "/app/sign-in",
            &[("email", email), ("password", password), ("next", "/app")],
        )
        .await
    }
}

/// What the scenarios work on: invoices of two customers, a held order, a parked bank line.
pub struct World {
    pub alpha: String,
    pub beta: String,
    pub alpha_invoice: Value,
    pub beta_invoice: Value,
    pub alpha_order: String,
    pub held_order: String,
    pub parked_line: String,
}

pub fn address(country: &str, city: &str) -> Value {
    json!({"line1": "Main Street 1", "city": city, "postal_code": "12345", "country": country})
}

impl Site {
    async fn customer(&self, name: &str, limit: &str) -> String {
        let b = self
            .post("sales", "/api/v1/customers", json!({
                "name": name, "currency": "EUR", "payment_terms_days": 30, "credit_limit": limit,
                "email": "orders@customer.example",
                "billing_address": address("DE", "Berlin"), "shipping_address": address("DE", "Potsdam")
            }))
            .await;
        b["id"].as_str().unwrap().to_string()
    }

    async fn order(&self, customer: &str, quantity: i64) -> String {
        let b = self
            .post(
                "sales",
                "/api/v1/orders",
                json!({"customer_id": customer, "lines": [{"sku": "STD", "quantity": quantity}]}),
            )
            .await;
        b["id"].as_str().unwrap().to_string()
    }

    /// Reserves, dispatches everything planned and lets the engine invoice; the invoice.
    async fn invoiced(&self, customer: &str, quantity: i64) -> (String, Value) {
        let order = self.order(customer, quantity).await;
        self.settle().await;
        let planned = self
            .get(
                "admin",
                &format!("/api/v1/shipments?order_id={order}&status=planned"),
            )
            .await;
        for s in planned.as_array().unwrap() {
            self.post(
                "warehouse",
                &format!("/api/v1/shipments/{}/dispatch", s["id"].as_str().unwrap()),
                json!({}),
            )
            .await;
        }
        self.settle().await;
        let inv = self
            .get("admin", &format!("/api/v1/invoices?order_id={order}"))
            .await;
        (order, inv.as_array().unwrap()[0].clone())
    }

    pub async fn world(&self) -> World {
        let (s, b) = self
            .api(reqwest::Method::PUT, "admin", "/api/v1/company", Some(json!({
                "name": "o2c Test GmbH",
                "address": {"line1": "Friedrichstraße 1", "city": "Berlin", "postal_code": "10117", "country": "DE"},
                "vat_id": "DE123456789", "email": "billing@o2c.example", "phone": "+49 30 1234567",
                "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"
            })))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        self.post(
            "warehouse",
            "/api/v1/warehouses",
            json!({"code": "MAIN", "name": "Main"}),
        )
        .await;
        self.post("sales", "/api/v1/products", json!({"sku": "STD", "name": "Standard chair", "unit_price": "100.00", "currency": "EUR", "stock": [{"warehouse": "MAIN", "quantity": 1000}]})).await;
        let alpha = self.customer("Alpha Maschinenbau GmbH", "1000000.00").await;
        let beta = self.customer("Beta Handel KG", "1000000.00").await;
        let (alpha_order, alpha_invoice) = self.invoiced(&alpha, 1).await; // 119.00
        let (_, beta_invoice) = self.invoiced(&beta, 2).await; // 238.00
        // Alpha owes 357.00 twice: an unreferenced 357.00 could pay either, so a person decides.
        self.invoiced(&alpha, 3).await;
        self.invoiced(&alpha, 3).await;
        let statement = camt053(
            "S1",
            &self.today(),
            "357.00",
            "ALPHA MASCHINENBAU",
            "DE44500105175407324931",
        );
        let resp = self
            .api
            .post(self.url("/api/v1/bank-statements"))
            .bearer_auth(&self.keys["receivables"])
            .header("content-type", "application/xml")
            .body(statement)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let queue = self
            .get("receivables", "/api/v1/bank-lines?status=exception")
            .await;
        let parked_line = queue[0]["id"]
            .as_str()
            .expect("one line parked")
            .to_string();
        // Gamma's limit is too small for its first order: held for a person.
        let gamma = self.customer("Gamma Logistik AG", "100.00").await;
        let held_order = self.order(&gamma, 3).await;
        self.settle().await;
        assert_eq!(self.order_status(&held_order).await, "credit_hold");
        World {
            alpha,
            beta,
            alpha_invoice,
            beta_invoice,
            alpha_order,
            held_order,
            parked_line,
        }
    }
}

/// A camt.053.001.02 statement of our account with one incoming line without a reference.
fn camt053(id: &str, date: &str, amount: &str, name: &str, iban: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>{date}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{id}</Id><CreDtTm>{date}T06:00:00</CreDtTm>
<Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt><AcctSvcrRef>{id}-0</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{id}-0</EndToEndId></Refs>
<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>Zahlung</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"#
    )
}
