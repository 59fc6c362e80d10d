use o2c_app::testing::{Engine, TestStore};
use o2c_app::{App, ManualClock, auth};
use o2c_core::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Runs a scenario once per store: `both_stores!(scenario_fn, …)` makes `scenario_fn::on_sqlite`
/// and `scenario_fn::on_postgres` (the latter says so and passes when no PostgreSQL is configured).
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use o2c_app::testing::Engine;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                let app = $crate::helpers::TestApp::spawn(Engine::Sqlite).await.expect("sqlite always available");
                super::$name(&app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                match $crate::helpers::TestApp::spawn(Engine::Postgres).await {
                    Some(app) => super::$name(&app).await,
                    None => eprintln!("skipped on PostgreSQL: O2C_TEST_DATABASE_URL is not set"),
                }
            }
        }
    )*};
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    /// The application's clock: starts at the real time, moves only when a test says so.
    pub clock: std::sync::Arc<ManualClock>,
    pub client: reqwest::Client,
    keys: HashMap<&'static str, String>,
    server: tokio::task::JoinHandle<()>,
    _store: TestStore,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// The API on 127.0.0.1:0 without the background engine: tests call `settle()` to let the
    /// automations run, so every step is deterministic.
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        let store = TestStore::new(engine)?;
        let clock = std::sync::Arc::new(ManualClock::at(chrono::Utc::now()));
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
        let router = o2c_http::router(app.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Some(TestApp {
            addr,
            app,
            clock,
            client: reqwest::Client::new(),
            keys,
            server,
            _store: store,
        })
    }

    pub fn key(&self, role: &str) -> &str {
        &self.keys[role]
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn send(
        &self,
        role: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(r) = role {
            req = req.bearer_auth(self.key(r));
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn put(&self, role: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            Some(role),
            reqwest::Method::PUT,
            path,
            Some(body.to_string().into_bytes()),
            None,
        )
        .await
    }

    pub async fn post(&self, role: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let key = format!("k-{}", uuid_like());
        self.send(
            Some(role),
            reqwest::Method::POST,
            path,
            Some(body.to_string().into_bytes()),
            Some(&key),
        )
        .await
    }

    pub async fn post_with_key(
        &self,
        role: &str,
        path: &str,
        body: Value,
        key: &str,
    ) -> (StatusCode, Value) {
        self.send(
            Some(role),
            reqwest::Method::POST,
            path,
            Some(body.to_string().into_bytes()),
            Some(key),
        )
        .await
    }

    pub async fn get(&self, role: &str, path: &str) -> (StatusCode, Value) {
        self.send(Some(role), reqwest::Method::GET, path, None, None)
            .await
    }

    /// Lets the engine run every pending automation.
    pub async fn settle(&self) {
        self.app.settle().await.expect("engine settles");
    }

    // ----- fixtures -----

    pub async fn warehouse(&self, code: &str, priority: i64) {
        let (s, b) = self
            .post(
                "admin",
                "/api/v1/warehouses",
                json!({"code": code, "name": format!("{code} warehouse"), "priority": priority}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    pub async fn customer(&self, name: &str, credit_limit: &str) -> String {
        let (s, b) = self
            .post(
                "sales",
                "/api/v1/customers",
                customer_body(name, credit_limit),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().unwrap().to_string()
    }

    pub async fn product(&self, sku: &str, price: &str, stock: &[(&str, i64)]) {
        let stock: Vec<Value> = stock
            .iter()
            .map(|(w, q)| json!({"warehouse": w, "quantity": q}))
            .collect();
        let (s, b) = self
            .post("sales", "/api/v1/products", json!({"sku": sku, "name": format!("Item {sku}"), "unit_price": price, "currency": "EUR", "stock": stock}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    /// A warehouse `MAIN`, a customer with the given limit and product `SKU-1` at 10.00 EUR (19% DE).
    pub async fn basic(&self, credit_limit: &str, stock: i64) -> String {
        self.warehouse("MAIN", 1).await;
        self.product("SKU-1", "10.00", &[("MAIN", stock)]).await;
        self.customer("Müller Handel GmbH", credit_limit).await
    }

    pub async fn order(&self, customer_id: &str, lines: &[(&str, i64)]) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(s, q)| json!({"sku": s, "quantity": q}))
            .collect();
        let (s, b) = self
            .post(
                "sales",
                "/api/v1/orders",
                json!({"customer_id": customer_id, "lines": lines}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    pub async fn order_status(&self, id: &str) -> String {
        let (s, b) = self.get("admin", &format!("/api/v1/orders/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{b}"))
            .to_string()
    }

    pub async fn shipments(&self, order_id: &str, status: &str) -> Vec<Value> {
        let (s, b) = self
            .get(
                "admin",
                &format!("/api/v1/shipments?order_id={order_id}&status={status}"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b.as_array().unwrap().clone()
    }

    pub async fn dispatch_all(&self, order_id: &str) -> usize {
        let planned = self.shipments(order_id, "planned").await;
        for s in &planned {
            let (st, b) = self
                .post(
                    "warehouse",
                    &format!("/api/v1/shipments/{}/dispatch", s["id"].as_str().unwrap()),
                    json!({}),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{b}");
        }
        planned.len()
    }

    pub async fn invoices(&self, order_id: &str) -> Vec<Value> {
        let (_, b) = self
            .get("admin", &format!("/api/v1/invoices?order_id={order_id}"))
            .await;
        b.as_array().unwrap().clone()
    }

    pub async fn pay(&self, customer_id: &str, amount: &str, invoice_ids: &[&str]) -> Value {
        let (s, b) = self
            .post("receivables", "/api/v1/payments", json!({"customer_id": customer_id, "amount": amount, "currency": "EUR", "invoice_ids": invoice_ids}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    pub async fn account(&self, customer_id: &str) -> Value {
        self.get("admin", &format!("/api/v1/customers/{customer_id}/account"))
            .await
            .1
    }

    /// The books balance and the subledgers equal their control accounts.
    pub async fn assert_books_balance(&self) {
        let (s, tb) = self
            .get("receivables", "/api/v1/ledger/trial-balance")
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(tb["balanced"], json!(true), "{tb:#}");
        for c in tb["receivables"]
            .as_array()
            .unwrap()
            .iter()
            .chain(tb["unapplied_cash"].as_array().unwrap())
        {
            assert_eq!(c["matches"], json!(true), "{tb:#}");
        }
        let f = &tb["functional"];
        assert_eq!(f["balanced"], json!(true), "{tb:#}");
        assert_eq!(f["receivables"]["matches"], json!(true), "{tb:#}");
        assert_eq!(f["unapplied_cash"]["matches"], json!(true), "{tb:#}");
    }

    /// Today by the application's (manual) clock.
    pub fn today(&self) -> String {
        o2c_app::Clock::now(self.clock.as_ref())
            .date_naive()
            .to_string()
    }

    /// `PUT /fx-rates` for one currency and day.
    pub async fn fx_rate(&self, currency: &str, date: &str, rate: &str) {
        let (s, b) = self
            .put(
                "receivables",
                "/api/v1/fx-rates",
                json!({"rates": [{"currency": currency, "date": date, "rate": rate}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }

    /// Places, ships and invoices an order; returns (order id, invoice).
    pub async fn invoiced_order(
        &self,
        customer_id: &str,
        lines: &[(&str, i64)],
    ) -> (String, Value) {
        let id = self.order(customer_id, lines).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.settle().await;
        assert_eq!(
            self.dispatch_all(&id).await,
            1,
            "order {id} should ship at once"
        );
        self.settle().await;
        let inv = self.invoices(&id).await.pop().expect("invoiced");
        (id, inv)
    }

    pub async fn count_orders(&self) -> usize {
        self.get("admin", "/api/v1/orders?limit=1000")
            .await
            .1
            .as_array()
            .unwrap()
            .len()
    }
}

pub fn address(city: &str) -> Value {
    json!({"line1": "Hauptstraße 5", "city": city, "postal_code": "10115", "country": "DE"})
}

pub fn customer_body(name: &str, credit_limit: &str) -> Value {
    json!({
        "name": name, "currency": "EUR", "payment_terms_days": 30, "credit_limit": credit_limit,
        "billing_address": address("Berlin"), "shipping_address": address("Potsdam")
    })
}

pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn amount(v: &Value) -> String {
    v["amount"].as_str().unwrap().to_string()
}

// ----- billing fixtures -----

pub fn address_in(country: &str, city: &str) -> Value {
    json!({"line1": "Main Street 1", "city": city, "postal_code": "12345", "country": country})
}

impl TestApp {
    /// The seller's profile as an e-invoice needs it: VAT id, e-mail address, IBAN.
    pub async fn company(&self) {
        let (s, b) = self
            .put(
                "admin",
                "/api/v1/company",
                json!({
                    "name": "o2c Demo GmbH",
                    "address": {"line1": "Friedrichstraße 1", "city": "Berlin", "postal_code": "10117", "country": "DE"},
                    "vat_id": "DE123456789", "company_id": "HRB 12345 B", "email": "billing@o2c.example",
                    "phone": "+49 30 1234567", "website": "https://o2c.example",
                    "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX", "bank_name": "Commerzbank"
                }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }

    /// A customer billed and shipped to in `country`, in `currency`, with a billing e-mail.
    pub async fn customer_in(&self, name: &str, country: &str, currency: &str) -> String {
        let (s, b) = self
            .post(
                "sales",
                "/api/v1/customers",
                json!({
                    "name": name, "currency": currency, "payment_terms_days": 30,
                    "credit_limit": "1000000.00", "email": "orders@customer.example",
                    "billing_address": address_in(country, "Capital"),
                    "shipping_address": address_in(country, "Harbour")
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().unwrap().to_string()
    }

    /// A product with a tax category (`standard`, `reduced`, `zero`, `exempt`…).
    pub async fn product_in(&self, sku: &str, price: &str, category: &str, stock: &[(&str, i64)]) {
        let stock: Vec<Value> = stock
            .iter()
            .map(|(w, q)| json!({"warehouse": w, "quantity": q}))
            .collect();
        let (s, b) = self
            .post("sales", "/api/v1/products", json!({"sku": sku, "name": format!("Item {sku}"), "unit_price": price, "currency": "EUR", "tax_category": category, "stock": stock}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    /// `PUT /customers/{id}/billing`; the profile it returns.
    pub async fn set_billing(&self, customer_id: &str, profile: Value) -> Value {
        let (s, b) = self
            .put(
                "sales",
                &format!("/api/v1/customers/{customer_id}/billing"),
                profile,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// Places an order from a full request body (ship_to, freight…).
    pub async fn order_with(&self, body: Value) -> String {
        let (s, b) = self.post("sales", "/api/v1/orders", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().unwrap().to_string()
    }

    /// Lets the engine reserve, dispatches everything planned and lets it invoice.
    pub async fn ship_everything(&self, order_id: &str) -> usize {
        self.settle().await;
        let n = self.dispatch_all(order_id).await;
        self.settle().await;
        n
    }

    pub async fn receive(&self, sku: &str, warehouse: &str, quantity: i64) {
        let (s, b) = self
            .post(
                "warehouse",
                "/api/v1/stock-receipts",
                json!({"sku": sku, "warehouse": warehouse, "quantity": quantity}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    pub async fn invoice(&self, id: &str) -> Value {
        let (s, b) = self.get("admin", &format!("/api/v1/invoices/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    pub async fn customer_invoices(&self, customer_id: &str) -> Vec<Value> {
        let (s, b) = self
            .get(
                "admin",
                &format!("/api/v1/invoices?customer_id={customer_id}"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b.as_array().unwrap().clone()
    }

    pub async fn credit_note(
        &self,
        invoice_id: &str,
        body: Value,
        key: &str,
    ) -> (StatusCode, Value) {
        self.post_with_key(
            "receivables",
            &format!("/api/v1/invoices/{invoice_id}/credit-notes"),
            body,
            key,
        )
        .await
    }

    pub async fn credit_notes(&self, invoice_id: &str) -> Vec<Value> {
        let (s, b) = self
            .get(
                "admin",
                &format!("/api/v1/invoices/{invoice_id}/credit-notes"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b.as_array().unwrap().clone()
    }

    /// A GET whose body is not JSON: status, content type and the raw bytes.
    pub async fn get_bytes(&self, role: &str, path: &str) -> (StatusCode, String, Vec<u8>) {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(self.key(role))
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = resp.bytes().await.expect("body").to_vec();
        (status, content_type, bytes)
    }
}

/// A money value (`{"amount": "12.34", …}`) in minor units, for arithmetic in assertions.
pub fn cents(v: &Value) -> i64 {
    let s = amount(v);
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest.to_string()),
        None => (1, s.clone()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    sign * (int.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap())
}
