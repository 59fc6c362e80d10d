//! Invoicing through the API: billing policies, the billing run, prices and discounts, the tax
//! engine's dates and errors, credit notes, and the documents (PDF, EN 16931 UBL).

use crate::both_stores;
use crate::helpers::{TestApp, amount, cents};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

both_stores!(
    a_per_order_customer_gets_one_invoice_once_the_last_line_has_shipped,
    the_billing_run_bills_a_consolidated_customer_once_per_period,
    line_and_document_discounts_and_freight_add_up_on_the_invoice,
    a_price_list_must_be_in_the_customers_currency_and_may_include_tax,
    credit_notes_reduce_the_invoice_or_become_customer_credit,
    bad_tax_input_is_refused_and_new_rates_apply_from_their_date,
    invoices_render_as_pdf_and_ubl_with_the_payment_reference,
    crediting_every_line_separately_reverses_the_invoice_to_the_cent
);

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

/// The totals of an invoice or credit note agree with its lines, allowances, charges and taxes.
fn assert_totals_add_up(inv: &Value) {
    let sum = |items: &Value, field: &str| -> i64 {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| cents(&i[field]))
            .sum()
    };
    let adjustments = inv["allowances_charges"].as_array().unwrap();
    let of_kind = |charge: bool| -> i64 {
        adjustments
            .iter()
            .filter(|a| a["is_charge"] == json!(charge))
            .map(|a| cents(&a["amount"]))
            .sum()
    };
    assert_eq!(
        sum(&inv["lines"], "net"),
        cents(&inv["line_net"]),
        "{inv:#}"
    );
    assert_eq!(of_kind(false), cents(&inv["allowances"]), "{inv:#}");
    assert_eq!(of_kind(true), cents(&inv["charges"]), "{inv:#}");
    assert_eq!(
        cents(&inv["line_net"]) - cents(&inv["allowances"]) + cents(&inv["charges"]),
        cents(&inv["net"]),
        "line net − allowances + charges = net: {inv:#}"
    );
    assert_eq!(
        cents(&inv["net"]) + cents(&inv["tax"]),
        cents(&inv["gross"]),
        "net + tax = gross: {inv:#}"
    );
    assert_eq!(sum(&inv["taxes"], "tax"), cents(&inv["tax"]), "{inv:#}");
    assert_eq!(sum(&inv["taxes"], "taxable"), cents(&inv["net"]), "{inv:#}");
}

async fn a_per_order_customer_gets_one_invoice_once_the_last_line_has_shipped(t: &TestApp) {
    t.warehouse("MAIN", 1).await;
    t.product("SKU-1", "10.00", &[("MAIN", 10)]).await;
    t.product("SKU-2", "20.00", &[("MAIN", 1)]).await;
    let customer = t.customer("Einmal Rechnung GmbH", "100000.00").await;
    let profile = t
        .set_billing(&customer, json!({"billing_policy": "per_order"}))
        .await;
    assert_eq!(profile["effective_policy"], "per_order");
    let id = id_of(&t.order(&customer, &[("SKU-1", 2), ("SKU-2", 3)]).await);

    assert_eq!(t.ship_everything(&id).await, 1, "what is in stock ships");
    assert!(
        t.invoices(&id).await.is_empty(),
        "per order: nothing is billed while a line is still open"
    );
    t.receive("SKU-2", "MAIN", 5).await;
    assert_eq!(t.ship_everything(&id).await, 1, "the rest ships");
    let invoices = t.invoices(&id).await;
    assert_eq!(invoices.len(), 1, "{invoices:#?}");
    let inv = &invoices[0];
    assert_eq!(inv["billing_policy"], "per_order");
    let quantities: Vec<(String, i64)> = inv["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    let billed = |sku: &str| -> i64 {
        quantities
            .iter()
            .filter(|(s, _)| s == sku)
            .map(|(_, q)| q)
            .sum()
    };
    assert_eq!((billed("SKU-1"), billed("SKU-2")), (2, 3), "{inv:#}");
    assert_eq!(amount(&inv["net"]), "80.00");
    assert_eq!(amount(&inv["gross"]), "95.20");
    assert_totals_add_up(inv);

    let (_, events) = t.get("admin", &format!("/api/v1/orders/{id}/events")).await;
    let issued: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "invoice.issued")
        .collect();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        issued[0]["data"]["shipments"].as_array().unwrap().len(),
        2,
        "the one invoice bills both shipments: {:#}",
        issued[0]
    );
    t.assert_books_balance().await;

    t.pay(&customer, "95.20", &[]).await;
    t.settle().await;
    assert_eq!(t.invoices(&id).await[0]["payment_status"], "paid");
    assert_eq!(t.order_status(&id).await, "closed");
    t.assert_books_balance().await;
}

async fn the_billing_run_bills_a_consolidated_customer_once_per_period(t: &TestApp) {
    let customer = t.basic("100000.00", 50).await;
    t.set_billing(&customer, json!({"billing_policy": "consolidated"}))
        .await;
    let first = id_of(&t.order(&customer, &[("SKU-1", 2)]).await);
    let second = id_of(&t.order(&customer, &[("SKU-1", 3)]).await);
    t.ship_everything(&first).await;
    t.ship_everything(&second).await;
    assert!(
        t.customer_invoices(&customer).await.is_empty(),
        "consolidated: dispatch bills nothing"
    );
    let period = t.app.today().format("%Y-%m").to_string();

    let (s, dry) = t
        .post(
            "receivables",
            "/api/v1/billing/runs",
            json!({"period": period, "dry_run": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["shipments_billed"], 2, "{dry}");
    assert_eq!(dry["invoices"], json!([]), "{dry}");
    assert!(
        t.customer_invoices(&customer).await.is_empty(),
        "a dry run changes nothing"
    );

    let (s, report) = t
        .post(
            "receivables",
            "/api/v1/billing/runs",
            json!({"period": period}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["invoices"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["shipments_billed"], 2, "{report}");
    assert_eq!(report["failures"], json!([]), "{report}");
    let inv = t.invoice(report["invoices"][0].as_str().unwrap()).await;
    assert_eq!(inv["billing_policy"], "consolidated");
    let orders: BTreeSet<&str> = inv["order_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert_eq!(
        orders,
        BTreeSet::from([first.as_str(), second.as_str()]),
        "{inv:#}"
    );
    assert_eq!(inv["lines"].as_array().unwrap().len(), 2);
    assert_eq!(amount(&inv["gross"]), "59.50");
    assert_totals_add_up(&inv);
    t.settle().await;
    t.assert_books_balance().await;

    let (s, again) = t
        .post(
            "receivables",
            "/api/v1/billing/runs",
            json!({"period": period}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["invoices"], json!([]), "a second run bills nothing");
    assert_eq!(again["shipments_billed"], 0);
    assert_eq!(t.customer_invoices(&customer).await.len(), 1);

    t.pay(&customer, "59.50", &[]).await;
    t.settle().await;
    assert_eq!(t.order_status(&first).await, "closed");
    assert_eq!(t.order_status(&second).await, "closed");
    t.assert_books_balance().await;
}

async fn line_and_document_discounts_and_freight_add_up_on_the_invoice(t: &TestApp) {
    let customer = t.basic("100000.00", 50).await;
    t.product("SKU-2", "20.00", &[("MAIN", 50)]).await;
    let (s, price) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{customer}/prices"),
            json!({"sku": "SKU-1", "unit_price": "8.00", "discount": "10"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{price}");
    t.set_billing(&customer, json!({"invoice_discount": "2"}))
        .await;
    let lines = json!([{"sku": "SKU-1", "quantity": 5}, {"sku": "SKU-2", "quantity": 2}]);
    let (s, order) = t
        .post(
            "sales",
            "/api/v1/orders",
            json!({"customer_id": customer, "lines": lines, "freight": "15.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{order}");
    let id = id_of(&order);
    assert_eq!(t.ship_everything(&id).await, 1);
    let inv = t.invoices(&id).await.pop().expect("invoiced");

    // 5 × 8.00 − 10 % = 36.00; 2 × 20.00 = 40.00; 2 % off 76.00 = 1.52; freight 15.00;
    // net 89.48; 19 % tax 17.00 (17.0012).
    let line = &inv["lines"][0];
    assert_eq!(amount(&line["unit_price"]), "8.00");
    assert_eq!(line["discount"], "10.00");
    assert_eq!(amount(&line["discount_amount"]), "4.00");
    assert_eq!(amount(&line["net"]), "36.00");
    let adjustments = inv["allowances_charges"].as_array().unwrap();
    assert_eq!(adjustments.len(), 2, "{inv:#}");
    let allowance = adjustments
        .iter()
        .find(|a| a["is_charge"] == false)
        .unwrap();
    assert_eq!(amount(&allowance["amount"]), "1.52");
    assert_eq!(amount(&allowance["base"]), "76.00");
    assert_eq!(allowance["percent"], "2.00");
    let charge = adjustments.iter().find(|a| a["is_charge"] == true).unwrap();
    assert_eq!(amount(&charge["amount"]), "15.00");
    assert_eq!(charge["reason_code"], "FC");
    assert_eq!(
        (
            amount(&inv["line_net"]),
            amount(&inv["allowances"]),
            amount(&inv["charges"]),
            amount(&inv["net"]),
            amount(&inv["tax"]),
            amount(&inv["gross"])
        ),
        (
            "76.00".into(),
            "1.52".into(),
            "15.00".into(),
            "89.48".into(),
            "17.00".into(),
            "106.48".into()
        )
    );
    assert_totals_add_up(&inv);
    assert_eq!(
        amount(&order["gross"]),
        amount(&inv["gross"]),
        "the order was priced as it is billed"
    );
    t.assert_books_balance().await;
    let account = t.account(&customer).await;
    assert_eq!(amount(&account["customer"]["open_orders"]), "0.00");
    assert_eq!(amount(&account["customer"]["open_receivables"]), "106.48");
}

async fn a_price_list_must_be_in_the_customers_currency_and_may_include_tax(t: &TestApp) {
    let customer = t.basic("100000.00", 50).await;
    t.product("SKU-2", "20.00", &[("MAIN", 50)]).await;
    let (s, usd) = t
        .post(
            "sales",
            "/api/v1/price-lists",
            json!({"name": "US dealers", "currency": "USD", "items": [{"sku": "SKU-1", "unit_price": "12.00"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{usd}");
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{customer}/billing"),
            json!({"price_list_id": usd["id"], "invoice_discount": "5"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "price-list-currency-mismatch", "{b}");
    let (_, profile) = t
        .get("sales", &format!("/api/v1/customers/{customer}/billing"))
        .await;
    assert_eq!(profile["price_list_id"], Value::Null, "nothing changed");
    assert_eq!(profile["invoice_discount"], "0.00", "nothing changed");

    let (s, shop) = t
        .post(
            "sales",
            "/api/v1/price-lists",
            json!({"name": "Shop prices", "currency": "EUR", "prices_include_tax": true,
                   "items": [{"sku": "SKU-1", "unit_price": "11.90"}, {"sku": "SKU-2", "unit_price": "9.99"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{shop}");
    let (_, fetched) = t
        .get("sales", &format!("/api/v1/price-lists/{}", id_of(&shop)))
        .await;
    assert_eq!(fetched["items"].as_array().unwrap().len(), 2, "{fetched}");
    let profile = t
        .set_billing(&customer, json!({"price_list_id": shop["id"]}))
        .await;
    assert_eq!(profile["price_list_id"], shop["id"]);

    let order = t.order(&customer, &[("SKU-1", 2), ("SKU-2", 3)]).await;
    // 11.90 / 1.19 = 10.00; 9.99 / 1.19 = 8.3949… → 8.39 per unit.
    assert_eq!(amount(&order["lines"][0]["unit_price"]), "10.00");
    assert_eq!(amount(&order["lines"][1]["unit_price"]), "8.39");
    let id = id_of(&order);
    t.ship_everything(&id).await;
    let inv = t.invoices(&id).await.pop().expect("invoiced");
    assert_eq!(amount(&inv["net"]), "45.17");
    assert_eq!(amount(&inv["tax"]), "8.58");
    assert_eq!(amount(&inv["gross"]), "53.75");
    assert_totals_add_up(&inv);
    t.assert_books_balance().await;
}

async fn credit_notes_reduce_the_invoice_or_become_customer_credit(t: &TestApp) {
    let customer = t.basic("100000.00", 100).await;
    t.product("SKU-2", "20.00", &[("MAIN", 100)]).await;
    let (order_a, inv_a) = t
        .invoiced_order(&customer, &[("SKU-1", 3), ("SKU-2", 2)])
        .await;
    let inv_a = id_of(&inv_a);
    assert_eq!(amount(&t.invoice(&inv_a).await["gross"]), "83.30");

    // Partial: one unit of line 1.
    let partial = json!({"reason": "one unit damaged", "lines": [{"line_no": 1, "quantity": 1}]});
    let (s, cn) = t.credit_note(&inv_a, partial.clone(), "cn-partial").await;
    assert_eq!(s, StatusCode::CREATED, "{cn}");
    assert_eq!(cn["kind"], "credit_note");
    assert_eq!(cn["corrects_invoice_id"], json!(inv_a));
    assert!(cn["number"].as_str().unwrap().starts_with("CRN-"), "{cn}");
    assert_eq!(amount(&cn["gross"]), "11.90");
    assert_totals_add_up(&cn);
    let (s, replay) = t.credit_note(&inv_a, partial, "cn-partial").await;
    assert_eq!(s, StatusCode::CREATED, "{replay}");
    assert_eq!(
        replay["id"], cn["id"],
        "a replay returns the first credit note"
    );
    assert_eq!(
        t.credit_notes(&inv_a).await.len(),
        1,
        "and issues no second"
    );
    let a = t.invoice(&inv_a).await;
    assert_eq!(
        (amount(&a["open"]), amount(&a["credited"])),
        ("71.40".into(), "11.90".into())
    );
    t.assert_books_balance().await;

    // (Without `lines`, a credit note takes whatever earlier ones left, so it cannot over-credit.)
    for (body, key) in [(
        json!({"reason": "too much", "lines": [{"line_no": 1, "quantity": 3}]}),
        "cn-over",
    )] {
        let (s, b) = t.credit_note(&inv_a, body, key).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["code"], "credit-exceeds-invoice", "{b}");
    }
    assert_eq!(t.credit_notes(&inv_a).await.len(), 1);
    let rest = json!({"reason": "returned", "lines": [{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 2}]});
    let (s, cn) = t.credit_note(&inv_a, rest, "cn-rest").await;
    assert_eq!(s, StatusCode::CREATED, "{cn}");
    assert_eq!(amount(&cn["gross"]), "71.40");
    let a = t.invoice(&inv_a).await;
    assert_eq!(
        (amount(&a["open"]), a["payment_status"].as_str()),
        ("0.00".into(), Some("credited"))
    );
    t.settle().await;
    assert_eq!(t.order_status(&order_a).await, "closed");
    t.assert_books_balance().await;

    // Full, on an unpaid invoice.
    let (order_b, inv_b) = t.invoiced_order(&customer, &[("SKU-2", 1)]).await;
    let (s, cn) = t
        .credit_note(&id_of(&inv_b), json!({"reason": "cancelled"}), "cn-b")
        .await;
    assert_eq!(s, StatusCode::CREATED, "{cn}");
    assert_eq!(amount(&cn["gross"]), "23.80");
    let b = t.invoice(&id_of(&inv_b)).await;
    assert_eq!(
        (amount(&b["open"]), b["payment_status"].as_str()),
        ("0.00".into(), Some("credited"))
    );
    t.settle().await;
    assert_eq!(t.order_status(&order_b).await, "closed");
    assert_eq!(
        amount(&t.account(&customer).await["customer"]["unapplied_cash"]),
        "0.00"
    );
    t.assert_books_balance().await;

    // Full, on a paid invoice: the money becomes the customer's credit, used by the next invoice.
    let payer = t.customer("Bezahlt AG", "100000.00").await;
    let (_, inv_c) = t.invoiced_order(&payer, &[("SKU-1", 1)]).await;
    t.pay(&payer, "11.90", &[]).await;
    t.settle().await;
    assert_eq!(t.invoice(&id_of(&inv_c)).await["payment_status"], "paid");
    let (s, cn) = t
        .credit_note(&id_of(&inv_c), json!({"reason": "goodwill"}), "cn-c")
        .await;
    assert_eq!(s, StatusCode::CREATED, "{cn}");
    t.settle().await;
    let account = t.account(&payer).await;
    assert_eq!(amount(&account["customer"]["unapplied_cash"]), "11.90");
    assert_eq!(amount(&account["open_items_total"]), "0.00");
    t.assert_books_balance().await;
    let (_, inv_d) = t.invoiced_order(&payer, &[("SKU-1", 2)]).await;
    t.settle().await;
    let d = t.invoice(&id_of(&inv_d)).await;
    assert_eq!(
        amount(&d["open"]),
        "11.90",
        "the credit paid half of the next invoice: {d:#}"
    );
    let account = t.account(&payer).await;
    assert_eq!(amount(&account["customer"]["unapplied_cash"]), "0.00");
    t.assert_books_balance().await;
}

async fn bad_tax_input_is_refused_and_new_rates_apply_from_their_date(t: &TestApp) {
    let customer = t.basic("100000.00", 100).await;
    let (s, b) = t
        .post("sales", "/api/v1/products", json!({"sku": "LUX", "name": "Luxury", "unit_price": "1.00", "currency": "EUR", "tax_category": "luxury"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "unknown-tax-category", "{b}");
    let (s, _) = t.get("admin", "/api/v1/products/LUX").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let today = t.app.today();
    let rate = |category: &str, rate: &str, from: chrono::NaiveDate| json!({"category": category, "country": "DE", "rate": rate, "valid_from": from.to_string()});
    let (s, b) = t
        .put("admin", "/api/v1/tax-rates", rate("luxury", "25", today))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "unknown-tax-category", "{b}");

    let polish = t.customer_in("Polski Handel", "PL", "EUR").await;
    let before = t.count_orders().await;
    let (s, b) = t
        .post(
            "sales",
            "/api/v1/orders",
            json!({"customer_id": polish, "lines": [{"sku": "SKU-1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "missing-tax-rate", "{b}");
    assert!(b["detail"].as_str().unwrap().contains("PL"), "{b}");
    assert_eq!(t.count_orders().await, before, "no order was created");

    let from = today + chrono::Days::new(10);
    let (s, b) = t
        .put("admin", "/api/v1/tax-rates", rate("standard", "21", from))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, now) = t.invoiced_order(&customer, &[("SKU-1", 1)]).await;
    assert_eq!(
        now["taxes"][0]["rate"], "19.00",
        "the new rate is not valid yet"
    );
    let waiting = id_of(&t.order(&customer, &[("SKU-1", 1)]).await);
    t.settle().await;
    t.clock.advance_days(11);
    t.dispatch_all(&waiting).await;
    t.settle().await;
    let later = t.invoices(&waiting).await.pop().expect("invoiced");
    assert_eq!(
        later["taxes"][0]["rate"], "21.00",
        "the rate valid on the issue date: {later:#}"
    );
    assert_eq!(amount(&later["gross"]), "12.10");
    let (_, after) = t.invoiced_order(&customer, &[("SKU-1", 2)]).await;
    assert_eq!(after["taxes"][0]["rate"], "21.00");
    assert_eq!(amount(&after["gross"]), "24.20");
    let account = t.account(&customer).await;
    assert_eq!(
        amount(&account["customer"]["open_orders"]),
        "0.00",
        "a rate change between order and invoice leaves no exposure behind"
    );
    t.assert_books_balance().await;
}

async fn invoices_render_as_pdf_and_ubl_with_the_payment_reference(t: &TestApp) {
    t.company().await;
    let customer = t.basic("100000.00", 10).await;
    let (_, inv) = t.invoiced_order(&customer, &[("SKU-1", 2)]).await;
    let number = inv["number"].as_str().unwrap();
    let reference = inv["payment_reference"].as_str().unwrap();
    assert!(reference.starts_with("RF"), "{inv:#}");

    let (s, content_type, pdf) = t
        .get_bytes("admin", &format!("/api/v1/invoices/{number}.pdf"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(content_type, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"), "{:?}", &pdf[..pdf.len().min(16)]);

    let (s, content_type, xml) = t
        .get_bytes("admin", &format!("/api/v1/invoices/{}.xml", id_of(&inv)))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(content_type, "application/xml");
    let xml = String::from_utf8(xml).expect("UTF-8");
    assert!(xml.contains(number), "{xml}");
    assert!(xml.contains(reference), "{xml}");

    let (s, _) = t.get("admin", "/api/v1/invoices/INV-0000-0.pdf").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Every tax category, discounts, freight, a USD customer and credit notes, as UBL, through the
/// official EN 16931 schematron (`shared/tools/validate-ubl`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_document_passes_en16931_validation() {
    let validator =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/validate-ubl");
    if !validator.exists() {
        eprintln!(
            "validator absent, skipped: {} does not exist",
            validator.display()
        );
        return;
    }
    let t = TestApp::spawn(o2c_app::testing::Engine::Sqlite)
        .await
        .expect("sqlite");
    let t = &t;
    let customers = every_tax_case(t).await;
    let dir = std::env::temp_dir().join(format!("o2c-ubl-{}", crate::helpers::uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut kinds = BTreeSet::new();
    let mut categories = BTreeSet::new();
    for c in &customers {
        for doc in t.customer_invoices(c).await {
            kinds.insert(doc["kind"].as_str().unwrap().to_string());
            for tax in doc["taxes"].as_array().unwrap() {
                categories.insert(tax["category"].as_str().unwrap().to_string());
            }
            let number = doc["number"].as_str().unwrap();
            let (s, _, xml) = t
                .get_bytes("admin", &format!("/api/v1/invoices/{number}.xml"))
                .await;
            assert_eq!(s, StatusCode::OK, "{number}");
            std::fs::write(dir.join(format!("{number}.xml")), xml).unwrap();
        }
    }
    assert_eq!(kinds.len(), 2, "invoices and credit notes: {kinds:?}");
    assert_eq!(categories.len(), 7, "every category: {categories:?}");
    let out = std::process::Command::new(&validator)
        .arg(&dir)
        .output()
        .expect("run validate-ubl");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "validate-ubl {} failed ({}):\n{report}",
        dir.display(),
        out.status
    );
    eprintln!("{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Places an order, ships it at once and returns its invoice.
async fn ship(t: &TestApp, customer: String, lines: Value, freight: Option<&str>) -> Value {
    let mut body = json!({"customer_id": customer, "lines": lines});
    if let Some(f) = freight {
        body["freight"] = json!(f);
    }
    let id = t.order_with(body).await;
    assert_eq!(t.ship_everything(&id).await, 1);
    t.invoices(&id).await.pop().expect("invoiced")
}

/// Issues documents in every tax category; returns the customers.
async fn every_tax_case(t: &TestApp) -> Vec<String> {
    t.company().await;
    t.warehouse("MAIN", 1).await;
    for (sku, price, category) in [
        ("STD", "10.00", "standard"),
        ("RED", "5.00", "reduced"),
        ("ZER", "3.00", "zero"),
        ("EXM", "50.00", "exempt"),
    ] {
        t.product_in(sku, price, category, &[("MAIN", 1000)]).await;
    }
    let line = |sku: &str, q: i64| json!({"sku": sku, "quantity": q});

    // Domestic: standard and reduced, line and document discounts, freight; zero; exempt.
    let domestic = t.customer_in("Inland GmbH", "DE", "EUR").await;
    t.set_billing(&domestic, json!({"vat_id": "DE987654321", "billing_email": "ap@inland.example", "invoice_discount": "2"}))
        .await;
    let (s, b) = t
        .put(
            "sales",
            &format!("/api/v1/customers/{domestic}/prices"),
            json!({"sku": "STD", "unit_price": "9.00", "discount": "5"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mixed = ship(
        t,
        domestic.clone(),
        json!([line("STD", 4), line("RED", 3)]),
        Some("12.50"),
    )
    .await;
    ship(t, domestic.clone(), json!([line("ZER", 5)]), None).await;
    ship(t, domestic.clone(), json!([line("EXM", 1)]), None).await;
    ship(
        t,
        domestic.clone(),
        json!([line("STD", 1), line("ZER", 2), line("EXM", 1)]),
        Some("4.90"),
    )
    .await;
    let (s, b) = t
        .credit_note(
            &id_of(&mixed),
            json!({"reason": "one damaged", "lines": [{"line_no": 1, "quantity": 1}]}),
            "ubl-partial",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // Reverse charge, set by hand for a domestic business buyer.
    let rc = t.customer_in("Bau Subunternehmer GmbH", "DE", "EUR").await;
    t.set_billing(
        &rc,
        json!({"vat_id": "DE111222333", "tax_treatment": "reverse_charge"}),
    )
    .await;
    ship(t, rc.clone(), json!([line("STD", 2)]), None).await;

    // Export (EUR) with freight, intra-community to France with a full credit note, USD export.
    let export = t.customer_in("US Importer Inc", "US", "EUR").await;
    ship(
        t,
        export.clone(),
        json!([line("STD", 2), line("RED", 2)]),
        Some("30.00"),
    )
    .await;
    let ic = t.customer_in("Négoce SARL", "FR", "EUR").await;
    t.set_billing(&ic, json!({"vat_id": "FR12345678901"})).await;
    let ic_invoice = ship(t, ic.clone(), json!([line("STD", 3), line("RED", 1)]), None).await;
    let (s, b) = t
        .credit_note(
            &id_of(&ic_invoice),
            json!({"reason": "returned"}),
            "ubl-full",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let usd = t.customer_in("Dollar Corp", "US", "USD").await;
    t.fx_rate("USD", &t.today(), "1.0823").await;
    let (s, list) = t
        .post(
            "sales",
            "/api/v1/price-lists",
            json!({"name": "USD", "currency": "USD", "items": [{"sku": "STD", "unit_price": "12.00"}, {"sku": "RED", "unit_price": "6.00"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    t.set_billing(&usd, json!({"price_list_id": list["id"]}))
        .await;
    let usd_invoice = ship(
        t,
        usd.clone(),
        json!([line("STD", 2), line("RED", 1)]),
        None,
    )
    .await;
    assert_eq!(usd_invoice["currency"], "USD");
    assert_eq!(usd_invoice["taxes"][0]["category"], "export");
    t.settle().await;
    t.assert_books_balance().await;
    vec![domestic, rc, export, ic, usd]
}

/// Each partial credit note rounds its own tax (14.88 + 14.88 > 29.75): the one that credits
/// what is left takes the remainder, so the invoice can always be credited in full.
async fn crediting_every_line_separately_reverses_the_invoice_to_the_cent(t: &TestApp) {
    let customer = t.basic("100000.00", 10).await;
    t.product("HALF-A", "12.50", &[("MAIN", 10)]).await;
    t.product("HALF-B", "12.50", &[("MAIN", 10)]).await;
    let (_, inv) = t
        .invoiced_order(&customer, &[("HALF-A", 1), ("HALF-B", 1)])
        .await;
    let inv = id_of(&inv);
    assert_eq!(amount(&t.invoice(&inv).await["gross"]), "29.75");
    let mut grosses = Vec::new();
    for (line, key) in [(1, "cn-half-1"), (2, "cn-half-2")] {
        let body = json!({"reason": "returned", "lines": [{"line_no": line, "quantity": 1}]});
        let (s, cn) = t.credit_note(&inv, body, key).await;
        assert_eq!(s, StatusCode::CREATED, "{cn}");
        assert_totals_add_up(&cn);
        grosses.push(amount(&cn["gross"]));
    }
    assert_eq!(grosses, vec!["14.88".to_string(), "14.87".to_string()]);
    let i = t.invoice(&inv).await;
    assert_eq!(
        (
            amount(&i["open"]),
            amount(&i["credited"]),
            i["payment_status"].as_str()
        ),
        ("0.00".into(), "29.75".into(), Some("credited"))
    );
    t.assert_books_balance().await;
}
