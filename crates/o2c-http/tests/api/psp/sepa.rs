//! SEPA direct debit through the API: collections (pain.008 checked against the official XSD
//! when xmllint is here), mandates moving FRST → RCUR, returns that reopen the invoice.

use super::{
    CREDITOR_ID, DEBTOR_IBAN, count, id, invoice_for, invoiced, notifications,
    trial_balance_account,
};
use crate::both_stores;
use crate::helpers::{TestApp, cents};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    a_sepa_collection_is_a_valid_pain008_and_collects_each_invoice_once,
    a_returned_direct_debit_reopens_the_invoice_once,
    the_banks_credit_for_a_collection_clears_it_instead_of_paying_twice,
    a_return_on_the_bank_statement_returns_the_debit_by_itself
);

async fn with_mandate(t: &TestApp, customer: &str) -> Value {
    let (s, b) = t
        .put(
            "receivables",
            &format!("/api/v1/customers/{customer}/payment-methods"),
            json!({"methods": [
                {"type": "direct_debit", "default": true, "mandate_id": "MANDATE-0001", "signed_on": "2024-01-15",
                 "iban": DEBTOR_IBAN, "bic": "BYLADEM1001", "scheme": "CORE"},
                {"type": "bank_transfer"}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

async fn collect(t: &TestApp) -> Vec<Value> {
    let (s, b) = t
        .post(
            "receivables",
            "/api/v1/sepa/collections",
            json!({"on": t.today()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b.as_array().unwrap().clone()
}

async fn a_sepa_collection_is_a_valid_pain008_and_collects_each_invoice_once(t: &TestApp) {
    let (customer, first) = invoiced(t).await;
    let second = invoice_for(t, &customer, 2).await;
    let methods = with_mandate(t, &customer).await;
    assert_eq!(methods["default"], "direct_debit");
    assert_eq!(methods["methods"][0]["mandate"]["sequence"], "FRST");
    // Nothing is due yet (30 days' terms).
    assert!(collect(t).await.is_empty());
    t.clock.advance_days(31);
    let made = collect(t).await;
    assert_eq!(made.len(), 1, "{made:#?}");
    let c = &made[0];
    assert_eq!(c["debit_count"], 2);
    assert_eq!(cents(&c["total"]), 11_900 + 23_800);
    assert!(
        c["debits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["sequence"] == "FRST")
    );
    let (s, _, xml) = t
        .get_bytes("admin", &format!("/api/v1/sepa/collections/{}.xml", id(c)))
        .await;
    assert_eq!(s, StatusCode::OK);
    let xml = String::from_utf8(xml).unwrap();
    assert!(
        xml.contains("<SeqTp>FRST</SeqTp>") && xml.contains(CREDITOR_ID),
        "{xml}"
    );
    assert!(xml.contains(first["payment_reference"].as_str().unwrap()));
    validate_pain008(&xml);

    assert!(
        collect(t).await.is_empty(),
        "a second run collects nothing new"
    );
    t.settle().await;
    for inv in [&first, &second] {
        assert_eq!(t.invoice(&id(inv)).await["payment_status"], "paid");
    }
    let (_, methods) = t
        .get(
            "admin",
            &format!("/api/v1/customers/{customer}/payment-methods"),
        )
        .await;
    assert_eq!(methods["methods"][0]["mandate"]["sequence"], "RCUR");
    assert_eq!(trial_balance_account(t, "1020").await, 35_700);
    // The next invoice goes out as a recurring debit.
    let third = invoice_for(t, &customer, 1).await;
    t.clock.advance_days(31);
    let next = collect(t).await;
    assert_eq!(next[0]["debits"][0]["sequence"], "RCUR");
    assert_eq!(next[0]["debits"][0]["invoice_id"], third["id"]);
    t.assert_books_balance().await;
}

/// xmllint against the official XSD, when both are on this machine.
fn validate_pain008(xml: &str) {
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/pain/xsd/pain.008.001.02.xsd");
    let lint = std::process::Command::new("xmllint")
        .arg("--version")
        .output();
    if !xsd.exists() || lint.is_err() {
        eprintln!(
            "note: pain.008 not checked against the XSD (xmllint or {} missing)",
            xsd.display()
        );
        return;
    }
    let file =
        std::env::temp_dir().join(format!("o2c-pain008-{}.xml", crate::helpers::uuid_like()));
    std::fs::write(&file, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn a_returned_direct_debit_reopens_the_invoice_once(t: &TestApp) {
    let (customer, inv) = invoiced(t).await;
    with_mandate(t, &customer).await;
    t.clock.advance_days(31);
    let made = collect(t).await;
    t.settle().await;
    assert_eq!(t.invoice(&id(&inv)).await["payment_status"], "paid");
    let payment = made[0]["debits"][0]["payment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/payments/{payment}/return");
    let (s, b) = t
        .post(
            "receivables",
            &path,
            json!({"reason_code": "AM04", "fee": "3.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["reason"], "insufficient funds");
    assert_eq!(b["reopened_invoice_ids"], json!([inv["id"]]));
    let after = t.invoice(&id(&inv)).await;
    assert_eq!(after["payment_status"], "unpaid", "{after:#}");
    assert_eq!(cents(&after["open"]), 11_900);
    let account = t.account(&customer).await;
    assert_eq!(cents(&account["open_items_total"]), 11_900);
    assert_eq!(cents(&account["customer"]["unapplied_cash"]), 0);
    assert_eq!(cents(&account["customer"]["open_receivables"]), 11_900);
    assert_eq!(trial_balance_account(t, "1020").await, 0);
    assert_eq!(trial_balance_account(t, "6900").await, 300);
    let notes = notifications(t, &customer).await;
    let note = notes
        .iter()
        .find(|n| n["kind"] == "direct_debit_returned")
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert!(note["body"].as_str().unwrap().contains("AM04"), "{note}");
    t.assert_books_balance().await;

    // Returning it again changes nothing.
    let entries = count(t, "SELECT COUNT(*) FROM journal_entries").await;
    let (s, again) = t
        .post(
            "receivables",
            &path,
            json!({"reason_code": "AM04", "fee": "3.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["id"], b["id"]);
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM journal_entries").await,
        entries
    );
    // A returned invoice is not collected again: the customer pays by transfer.
    assert!(collect(t).await.is_empty());
    t.assert_books_balance().await;
}

async fn the_banks_credit_for_a_collection_clears_it_instead_of_paying_twice(t: &TestApp) {
    let (customer, _) = invoiced(t).await;
    with_mandate(t, &customer).await;
    t.clock.advance_days(31);
    let made = collect(t).await;
    let c = &made[0];
    assert_eq!(trial_balance_account(t, "1020").await, 11_900);
    // Two days later the bank credits the whole file in one booking naming its message id.
    t.clock.advance_days(2);
    let statement = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>STMT-DD</MsgId><CreDtTm>{d}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>STMT-DD</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><ValDt><Dt>{d}</Dt></ValDt>
<AcctSvcrRef>DD-1</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>SEPA COLLECTION {msg}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"#,
        d = t.today(),
        amount = c["total"]["amount"].as_str().unwrap(),
        msg = c["message_id"].as_str().unwrap()
    );
    let resp = t
        .client
        .post(t.url("/api/v1/bank-statements"))
        .bearer_auth(t.key("receivables"))
        .body(statement)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["matching"]["cleared"], 1, "{b:#}");
    assert_eq!(b["matching"]["applied"], 0, "nothing paid twice: {b:#}");
    assert_eq!(trial_balance_account(t, "1020").await, 0);
    assert_eq!(trial_balance_account(t, "2050").await, 0);
    let (_, cleared) = t
        .get("receivables", "/api/v1/bank-lines?status=cleared")
        .await;
    assert_eq!(cleared.as_array().unwrap().len(), 1, "{cleared:#}");
    t.assert_books_balance().await;
}

/// A camt.053 statement with the file's credit and, the next week, the bank's debit returning one
/// direct debit with its reason and end-to-end id.
fn statement_with_return(t: &TestApp, collection: &Value, reason: &str) -> String {
    let debit = &collection["debits"][0];
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>STMT-RET</MsgId><CreDtTm>{d}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>STMT-RET</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">{total}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><ValDt><Dt>{d}</Dt></ValDt>
<AcctSvcrRef>DD-1</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>SEPA COLLECTION {msg}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><ValDt><Dt>{d}</Dt></ValDt>
<AcctSvcrRef>RET-1</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>
<RmtInf><Ustrd>RUECKLASTSCHRIFT</Ustrd></RmtInf><RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"#,
        d = t.today(),
        total = collection["total"]["amount"].as_str().unwrap(),
        msg = collection["message_id"].as_str().unwrap(),
        amount = debit["amount"]["amount"].as_str().unwrap(),
        e2e = debit["end_to_end_id"].as_str().unwrap(),
    )
}

async fn a_return_on_the_bank_statement_returns_the_debit_by_itself(t: &TestApp) {
    let (customer, inv) = invoiced(t).await;
    with_mandate(t, &customer).await;
    t.clock.advance_days(31);
    let made = collect(t).await;
    t.settle().await;
    assert_eq!(t.invoice(&id(&inv)).await["payment_status"], "paid");
    t.clock.advance_days(2);
    let statement = statement_with_return(t, &made[0], "MD06");
    for round in 0..2 {
        let resp = t
            .client
            .post(t.url("/api/v1/bank-statements"))
            .bearer_auth(t.key("receivables"))
            .body(statement.clone())
            .send()
            .await
            .unwrap();
        let b: Value = resp.json().await.unwrap();
        if round == 0 {
            assert_eq!(b["matching"]["cleared"], 1, "{b:#}");
            assert_eq!(b["matching"]["returned"], 1, "{b:#}");
        }
        t.settle().await;
        // The invoice is open again, once; the money left the bank; 1020 was cleared by the file.
        let inv = t.invoice(&id(&inv)).await;
        assert_eq!(inv["payment_status"], "unpaid", "{inv:#}");
        assert_eq!(cents(&inv["open"]), 11_900, "{inv:#}");
        assert_eq!(trial_balance_account(t, "1020").await, 0);
        assert_eq!(trial_balance_account(t, "1000").await, 0);
        assert_eq!(count(t, "SELECT COUNT(*) FROM payment_returns").await, 1);
        t.assert_books_balance().await;
    }
    let (_, returned) = t
        .get("receivables", "/api/v1/bank-lines?status=returned")
        .await;
    let line = &returned.as_array().unwrap()[0];
    assert!(
        line["reason"].as_str().unwrap().contains("MD06"),
        "{line:#}"
    );
    // MD06 (the payer disputes the debit) revokes nothing but tells the customer what to do next.
    let notes = notifications(t, &customer).await;
    assert!(
        notes.iter().any(|n| n["kind"] == "direct_debit_returned"),
        "{notes:#?}"
    );
}
