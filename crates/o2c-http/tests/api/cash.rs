//! Cash application through the API: a bank statement in, cash applied by itself where it is
//! sure, the rest in the exceptions queue for a person; and bad statements refused whole.

use crate::both_stores;
use crate::helpers::{TestApp, cents};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    a_statement_pays_invoices_by_reference_and_parks_what_it_cannot_tell,
    discounts_small_differences_deductions_and_overpayments_are_booked_by_policy,
    bad_statements_are_refused_whole_and_change_nothing,
    a_remittance_advice_names_the_invoices_an_unreferenced_payment_pays
);

const OUR_IBAN: &str = "DE89370400440532013000";

/// One incoming bank line of a test statement.
pub(crate) struct Line<'a> {
    pub amount: &'a str,
    pub name: &'a str,
    pub iban: &'a str,
    pub text: &'a str,
    pub rf: Option<&'a str>,
}

/// A camt.053.001.02 statement of our account with the given incoming lines.
pub(crate) fn camt053(id: &str, date: &str, lines: &[Line]) -> String {
    let mut entries = String::new();
    for (i, l) in lines.iter().enumerate() {
        let strd = l.rf.map_or(String::new(), |rf| {
            format!("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{rf}</Ref></CdtrRefInf></Strd>")
        });
        let ustrd = if l.text.is_empty() {
            String::new()
        } else {
            format!("<Ustrd>{}</Ustrd>", l.text)
        };
        entries.push_str(&format!(
            r#"<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt><AcctSvcrRef>{id}-{i}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{id}-{i}</EndToEndId></Refs>
<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf>{ustrd}{strd}</RmtInf></TxDtls></NtryDtls></Ntry>
"#,
            amount = l.amount,
            name = l.name,
            iban = l.iban,
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>{date}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{id}</Id><CreDtTm>{date}T06:00:00</CreDtTm>
<Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}</Stmt></BkToCstmrStmt></Document>"#
    )
}

pub(crate) async fn upload(t: &TestApp, body: String) -> (StatusCode, Value) {
    let resp = t
        .client
        .post(t.url("/api/v1/bank-statements"))
        .bearer_auth(t.key("receivables"))
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// An invoiced order of `quantity` items at 100.00 + 19 % for a new customer.
pub(crate) async fn invoiced(t: &TestApp, name: &str, quantity: i64) -> (String, Value) {
    let customer = t.customer_in(name, "DE", "EUR").await;
    let order = t
        .order_with(
            json!({"customer_id": customer, "lines": [{"sku": "STD", "quantity": quantity}]}),
        )
        .await;
    assert_eq!(t.ship_everything(&order).await, 1);
    (customer, t.invoices(&order).await.pop().expect("invoiced"))
}

pub(crate) async fn setup(t: &TestApp) {
    t.company().await;
    t.warehouse("MAIN", 1).await;
    t.product_in("STD", "100.00", "standard", &[("MAIN", 1000)])
        .await;
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

async fn a_statement_pays_invoices_by_reference_and_parks_what_it_cannot_tell(t: &TestApp) {
    setup(t).await;
    let (alpha, a1) = invoiced(t, "Alpha Maschinenbau GmbH", 1).await; // 119.00
    let (_, a2) = invoiced(t, "Beta Handel KG", 2).await; // 238.00
    let (gamma, g1) = invoiced(t, "Gamma Logistik AG", 3).await; // 357.00
    // Gamma owes 357.00 twice: an unreferenced 357.00 could pay either.
    let order = t
        .order_with(json!({"customer_id": gamma, "lines": [{"sku": "STD", "quantity": 3}]}))
        .await;
    t.ship_everything(&order).await;
    let g2 = t.invoices(&order).await.pop().unwrap();
    let (_, d1) = invoiced(t, "Delta Bau GmbH", 4).await; // 476.00
    let today = t.today();
    let statement = camt053(
        "S1",
        &today,
        &[
            // The RF reference alone is enough.
            Line {
                amount: "119.00",
                name: "ALPHA MASCHINENBAU",
                iban: "DE02120300000000202051",
                text: "",
                rf: Some(s(&a1["payment_reference"])),
            },
            // The invoice number, mangled, with the exact amount.
            Line {
                amount: "238.00",
                name: "Beta Handel",
                iban: "DE02500105170137075030",
                text: &format!("Rechnung {}", s(&a2["number"]).replace('-', " ")),
                rf: None,
            },
            // No reference, an unknown payer and an amount nobody owes: a person must look.
            Line {
                amount: "55.55",
                name: "Somebody Else Ltd",
                iban: "GB33BUKB20201555555555",
                text: "thanks",
                rf: None,
            },
            // Gamma pays one of its two 357.00 invoices without saying which.
            Line {
                amount: "357.00",
                name: "Gamma Logistik AG",
                iban: "DE44500105175407324931",
                text: "",
                rf: None,
            },
            // Delta's amount with no name we know and no reference.
            Line {
                amount: "476.00",
                name: "Unknown Payer",
                iban: "DE75512108001245126199",
                text: "Zahlung",
                rf: None,
            },
        ],
    );
    let (st, b) = upload(t, statement.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{b:#}");
    assert_eq!(b["import"]["new_lines"], 5, "{b:#}");
    assert_eq!(b["matching"]["lines"], 5, "{b:#}");
    assert_eq!(t.invoice(s(&a1["id"])).await["payment_status"], "paid");
    assert_eq!(t.invoice(s(&a2["id"])).await["payment_status"], "paid");
    let applied = b["matching"]["applied"].as_u64().unwrap();
    assert!(applied >= 2, "{b:#}");
    // Gamma's line waits for a person, with Gamma's invoices suggested.
    let (_, queue) = t
        .get("receivables", "/api/v1/bank-lines?status=exception")
        .await;
    let queue = queue.as_array().unwrap().clone();
    assert_eq!(queue.len() as u64, 5 - applied, "{queue:#?}");
    let gamma_line = queue
        .iter()
        .find(|l| l["counterparty_name"] == "Gamma Logistik AG")
        .expect("parked");
    assert!(
        gamma_line["reason"].as_str().unwrap().len() > 10,
        "{gamma_line:#}"
    );
    let best = &gamma_line["suggestions"][0];
    assert_eq!(best["customer_id"], json!(gamma), "{gamma_line:#}");
    let suggested: Vec<&Value> = gamma_line["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["allocations"][0]["invoice_id"])
        .collect();
    assert!(
        suggested.contains(&&g1["id"]) && suggested.contains(&&g2["id"]),
        "{gamma_line:#}"
    );
    t.assert_books_balance().await;

    // The same statement again changes nothing.
    let (st, again) = upload(t, statement).await;
    assert_eq!(st, StatusCode::OK, "{again:#}");
    assert_eq!(again["import"]["statements"][0]["duplicate"], true);
    assert_eq!(again["import"]["new_lines"], 0);

    // A person accepts Gamma's suggestion; its account is learned.
    let id = s(&gamma_line["id"]).to_string();
    let (st, line) = t
        .post(
            "receivables",
            &format!("/api/v1/bank-lines/{id}/accept"),
            json!({"suggestion": 0}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{line:#}");
    assert_eq!(line["status"], "applied");
    let paid = s(&best["allocations"][0]["invoice_id"]).to_string();
    assert_eq!(t.invoice(&paid).await["payment_status"], "paid");
    let (st, b) = t
        .post(
            "receivables",
            &format!("/api/v1/bank-lines/{id}/accept"),
            json!({"suggestion": 0}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "a line is applied once: {b}");

    // The stranger's money is not ours; Delta's line is split by hand onto Delta's invoice.
    let stranger = queue
        .iter()
        .find(|l| l["counterparty_name"] == "Somebody Else Ltd")
        .unwrap();
    let (st, b) = t
        .post(
            "receivables",
            &format!("/api/v1/bank-lines/{}/not-ours", s(&stranger["id"])),
            json!({"reason": "not a customer; return to sender"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    if let Some(delta) = queue
        .iter()
        .find(|l| l["counterparty_name"] == "Unknown Payer")
    {
        let (st, b) = t
            .post(
                "receivables",
                &format!("/api/v1/bank-lines/{}/split", s(&delta["id"])),
                json!({"customer_id": d1["customer_id"], "allocations": [{"invoice_id": d1["number"], "amount": "500.00"}]}),
            )
            .await;
        assert_eq!(
            st,
            StatusCode::UNPROCESSABLE_ENTITY,
            "more than the line: {b}"
        );
        let (st, b) = t
            .post(
                "receivables",
                &format!("/api/v1/bank-lines/{}/split", s(&delta["id"])),
                json!({"customer_id": d1["customer_id"], "allocations": [{"invoice_id": d1["number"], "amount": "400.00"}], "comment": "phoned Delta"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let inv = t.invoice(s(&d1["id"])).await;
        assert_eq!(cents(&inv["open"]), 7_600);
        let account = t.account(s(&d1["customer_id"])).await;
        assert_eq!(
            account["customer"]["unapplied_cash"]["amount"], "76.00",
            "{account:#}"
        );
    }
    let (_, queue) = t
        .get("receivables", "/api/v1/bank-lines?status=exception")
        .await;
    assert_eq!(queue, json!([]), "the queue is empty");

    // Alpha pays its next invoice from the same account with no reference: the learned account
    // and the exact amount are enough.
    let order = t
        .order_with(json!({"customer_id": alpha, "lines": [{"sku": "STD", "quantity": 5}]}))
        .await;
    t.ship_everything(&order).await;
    let a3 = t.invoices(&order).await.pop().unwrap();
    let (_, b) = upload(
        t,
        camt053(
            "S2",
            &today,
            &[Line {
                amount: "595.00",
                name: "Alpha M. GmbH",
                iban: "DE02120300000000202051",
                text: "",
                rf: None,
            }],
        ),
    )
    .await;
    assert_eq!(b["matching"]["applied"], 1, "{b:#}");
    assert_eq!(t.invoice(s(&a3["id"])).await["payment_status"], "paid");
    t.assert_books_balance().await;
}

async fn discounts_small_differences_deductions_and_overpayments_are_booked_by_policy(t: &TestApp) {
    setup(t).await;
    let (disc, d_inv) = invoiced(t, "Skonto Kunde GmbH", 1).await;
    t.set_billing(
        &disc,
        json!({"early_discount": "2", "early_discount_days": 10}),
    )
    .await;
    // The terms apply from the next invoice on.
    let order = t
        .order_with(json!({"customer_id": disc, "lines": [{"sku": "STD", "quantity": 10}]}))
        .await;
    t.ship_everything(&order).await;
    let skonto = t.invoices(&order).await.pop().unwrap(); // 1,190.00, 2 % = 23.80
    let (_, _, xml) = t
        .get_bytes(
            "admin",
            &format!("/api/v1/invoices/{}.xml", s(&skonto["id"])),
        )
        .await;
    let xml = String::from_utf8(xml).unwrap();
    assert!(
        xml.contains("2 % discount if paid by"),
        "the terms say so: {xml}"
    );
    let (_, short) = invoiced(t, "Kurz Zahler AG", 5).await; // 595.00
    let (_, deduct) = invoiced(t, "Abzug Handel GmbH", 10).await; // 1,190.00
    let (over_c, over) = invoiced(t, "Viel Zahler KG", 1).await; // 119.00
    let today = t.today();
    let (st, b) = upload(
        t,
        camt053(
            "S3",
            &today,
            &[
                Line {
                    amount: "1166.20",
                    name: "Skonto Kunde GmbH",
                    iban: "DE02100100109307118603",
                    text: &format!("{} abzgl. 2% Skonto", s(&skonto["number"])),
                    rf: None,
                },
                Line {
                    amount: "119.00",
                    name: "Skonto Kunde GmbH",
                    iban: "DE02100100109307118603",
                    text: s(&d_inv["number"]),
                    rf: None,
                },
                Line {
                    amount: "590.00",
                    name: "Kurz Zahler AG",
                    iban: "DE02300209000106531065",
                    text: s(&short["number"]),
                    rf: None,
                },
                Line {
                    amount: "1090.00",
                    name: "Abzug Handel GmbH",
                    iban: "DE02200505501015871393",
                    text: &format!("{} minus damaged goods", s(&deduct["number"])),
                    rf: None,
                },
                Line {
                    amount: "129.00",
                    name: "Viel Zahler KG",
                    iban: "DE02700202700010108669",
                    text: s(&over["number"]),
                    rf: None,
                },
            ],
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b:#}");
    assert_eq!(b["matching"]["applied"], 5, "{b:#}");
    for kind in [
        "discount",
        "exact",
        "written_off",
        "deduction",
        "overpayment",
    ] {
        assert_eq!(b["matching"]["by_kind"][kind], 1, "{kind}: {b:#}");
    }
    for inv in [&skonto, &d_inv, &short, &over] {
        assert_eq!(
            t.invoice(s(&inv["id"])).await["payment_status"],
            "paid",
            "{inv:#}"
        );
    }
    let deducted = t.invoice(s(&deduct["id"])).await;
    assert_eq!(
        cents(&deducted["open"]),
        10_000,
        "the deduction stays open: {deducted:#}"
    );
    let account = t.account(&over_c).await;
    assert_eq!(
        account["customer"]["unapplied_cash"]["amount"], "10.00",
        "{account:#}"
    );
    let (_, tb) = t.get("receivables", "/api/v1/ledger/trial-balance").await;
    let balance = |code: &str| {
        tb["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == code)
            .map_or(0, |a| a["balance_minor"].as_i64().unwrap())
    };
    assert_eq!(balance("4100"), 2_380, "discount allowed: {tb:#}");
    assert_eq!(balance("6890"), 500, "written off: {tb:#}");
    assert_eq!(
        balance("1000"),
        116_620 + 11_900 + 59_000 + 109_000 + 12_900
    );
    t.assert_books_balance().await;
}

async fn bad_statements_are_refused_whole_and_change_nothing(t: &TestApp) {
    setup(t).await;
    let (st, b) = upload(t, "hello, this is not a statement".into()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "unknown-statement-format", "{b}");
    // The second entry has no currency: the whole file is refused, the first line too.
    let good = camt053(
        "S9",
        &t.today(),
        &[Line {
            amount: "10.00",
            name: "A",
            iban: "DE02120300000000202051",
            text: "x",
            rf: None,
        }],
    );
    let broken = good.replace(
        "</Ntry>\n</Stmt>",
        "</Ntry>\n<Ntry><Amt>20.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry></Stmt>",
    );
    assert_ne!(broken, good);
    let (st, b) = upload(t, broken).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "malformed-statement", "{b}");
    assert!(b["detail"].as_str().unwrap().contains("Ccy"), "{b}");
    for status in ["unmatched", "exception", "applied", "outgoing"] {
        let (_, lines) = t
            .get(
                "receivables",
                &format!("/api/v1/bank-lines?status={status}"),
            )
            .await;
        assert_eq!(lines, json!([]), "nothing was stored");
    }
    // The account is held in EUR: an entry in USD on it is refused.
    let (st, _) = upload(t, good.clone()).await;
    assert_eq!(st, StatusCode::CREATED);
    let usd = good
        .replace("Ccy=\"EUR\"", "Ccy=\"USD\"")
        .replace("MSG-S9", "MSG-S10");
    let (st, b) = upload(t, usd).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "account-currency-mismatch", "{b}");
    // A dry run shows the parsed statement and writes nothing.
    let resp = t
        .client
        .post(t.url("/api/v1/bank-statements?dry_run=true"))
        .bearer_auth(t.key("receivables"))
        .body(camt053(
            "S11",
            &t.today(),
            &[Line {
                amount: "1.00",
                name: "B",
                iban: "DE02120300000000202051",
                text: "y",
                rf: None,
            }],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let parsed: Value = resp.json().await.unwrap();
    assert_eq!(
        parsed[0]["entries"][0]["amount"]["amount"], "1.00",
        "{parsed:#}"
    );
    let (_, lines) = t
        .get("receivables", "/api/v1/bank-lines?status=exception")
        .await;
    assert_eq!(
        lines.as_array().unwrap().len(),
        1,
        "only the good statement's line"
    );
    t.assert_books_balance().await;
}

async fn a_remittance_advice_names_the_invoices_an_unreferenced_payment_pays(t: &TestApp) {
    setup(t).await;
    let (customer, first) = invoiced(t, "Omega Retail Inc", 1).await; // 119.00
    let mut numbers = vec![first["number"].as_str().unwrap().to_string()];
    for quantity in [1, 2] {
        let order = t
            .order_with(
                json!({"customer_id": customer, "lines": [{"sku": "STD", "quantity": quantity}]}),
            )
            .await;
        t.ship_everything(&order).await;
        numbers.push(
            t.invoices(&order).await.pop().unwrap()["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Omega pays the first and the third (119.00 + 238.00) and says so in an advice; the bank
    // line itself has no reference, and 357.00 is also the first two plus nothing else… only
    // the advice tells.
    let csv = format!(
        "Payment Reference,Payer,Payment Date,Currency,Invoice Number,Amount Paid\nTRC-90017,Omega Retail Inc,{today},EUR,{a},119.00\nTRC-90017,,,,{c},238.00\n",
        today = t.today(),
        a = numbers[0],
        c = numbers[2]
    );
    let resp = t
        .client
        .post(t.url("/api/v1/remittances"))
        .bearer_auth(t.key("receivables"))
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["advices"], 1, "{report:#}");
    assert_eq!(report["invoices_named"], 2);
    let again = t
        .client
        .post(t.url("/api/v1/remittances"))
        .bearer_auth(t.key("receivables"))
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the same advice twice is one advice"
    );

    let (_, b) = upload(
        t,
        camt053(
            "R1",
            &t.today(),
            &[Line {
                amount: "357.00",
                name: "OMEGA RETAIL",
                iban: "US64SVBKUS6S3300958879",
                text: "",
                rf: None,
            }],
        ),
    )
    .await;
    assert_eq!(b["matching"]["applied"], 1, "{b:#}");
    let paid: Vec<String> = t
        .customer_invoices(&customer)
        .await
        .iter()
        .filter(|i| i["payment_status"] == "paid")
        .map(|i| i["number"].as_str().unwrap().to_string())
        .collect();
    let mut expected = vec![numbers[0].clone(), numbers[2].clone()];
    expected.sort();
    let mut paid = paid;
    paid.sort();
    assert_eq!(paid, expected);
    t.assert_books_balance().await;

    // A file that is neither an 820 nor a CSV advice is refused with the line at fault.
    let resp = t
        .client
        .post(t.url("/api/v1/remittances"))
        .bearer_auth(t.key("receivables"))
        .body("Payment Reference,Invoice Number,Amount Paid\nP-1,INV-1,12.x\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = resp.json().await.unwrap();
    assert!(b["detail"].as_str().unwrap().contains("line 2"), "{b}");
}
