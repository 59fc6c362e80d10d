//! Provider payouts through the API: the settlement report ties captured payments (less their
//! fees) and card refunds to a payout; the bank line that brings it clears PSP clearing (1010)
//! instead of paying an invoice twice, also when it arrived before the report.

use super::{checkout, count, invoiced, post_webhook, signed_success, trial_balance_account};
use crate::both_stores;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

both_stores!(
    a_payout_clears_psp_clearing_instead_of_paying_twice,
    a_payout_report_that_does_not_add_up_is_refused_whole,
    a_payout_line_parked_before_its_report_is_cleared_by_the_next_run
);

/// One invoice of 119.00 paid by card: the capture `ch_local_{event}` with a fee of 2.04.
async fn paid_by_card(t: &TestApp, event: &str) {
    let (_, inv) = invoiced(t).await;
    let session = checkout(t, inv["id"].as_str().unwrap()).await;
    let (body, sig) = signed_success(t, &session, event).await;
    let (s, b) = post_webhook(t, &body, Some(&sig)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    t.settle().await;
    assert_eq!(
        t.invoice(inv["id"].as_str().unwrap()).await["payment_status"],
        "paid"
    );
}

fn report(payout: &str, amount: &str, charges: &[&str]) -> Value {
    json!({"payout_id": payout, "currency": "EUR", "amount": amount, "arrives_on": "2026-01-05", "charges": charges})
}

/// A camt.053 statement with one credit of `amount` and `text`, imported and matched.
async fn bank_credit(t: &TestApp, amount: &str, text: &str, reference: &str) -> Value {
    let statement = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>STMT-{reference}</MsgId><CreDtTm>{d}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>STMT-{reference}</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><ValDt><Dt>{d}</Dt></ValDt>
<AcctSvcrRef>{reference}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>LOCAL PAYMENTS LTD</Nm></Dbtr></RltdPties>
<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"#,
        d = t.today(),
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
    resp.json().await.unwrap()
}

async fn a_payout_clears_psp_clearing_instead_of_paying_twice(t: &TestApp) {
    paid_by_card(t, "evt_a").await;
    assert_eq!(trial_balance_account(t, "1010").await, 11_900 - 204);

    let path = "/api/v1/psp/local/payouts";
    let (s, p) = t
        .post(
            "receivables",
            path,
            report("po_1001", "116.96", &["ch_local_evt_a"]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["status"], "announced");
    assert_eq!(p["charges"][0]["fee"]["amount"], "2.04", "{p:#}");
    // The same report again is the same payout; other contents under its id are refused.
    let (s, again) = t
        .post(
            "receivables",
            path,
            report("po_1001", "116.96", &["ch_local_evt_a"]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["id"], p["id"]);
    let (s, other) = t
        .post(
            "receivables",
            path,
            report("po_1001", "119.00", &["ch_local_evt_a"]),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
    assert!(
        other["detail"].as_str().unwrap().contains("payout_id"),
        "{other}"
    );
    // A charge is paid out once.
    let (s, twice) = t
        .post(
            "receivables",
            path,
            report("po_1002", "116.96", &["ch_local_evt_a"]),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{twice}");
    assert!(
        twice["detail"].as_str().unwrap().contains("charges[0]"),
        "{twice}"
    );
    assert!(
        twice["detail"]
            .as_str()
            .unwrap()
            .contains("paid out before"),
        "{twice}"
    );

    // Money of the same amount that does not name the payout is not taken for it.
    let b = bank_credit(t, "116.96", "Rechnung vom Oktober", "XX-1").await;
    assert_eq!(b["matching"]["cleared"], 0, "{b:#}");
    assert_eq!(trial_balance_account(t, "1010").await, 11_900 - 204);
    let b = bank_credit(t, "116.96", "PAYOUT po_1001 LOCAL", "PO-1").await;
    assert_eq!(b["matching"]["cleared"], 1, "{b:#}");
    assert_eq!(b["matching"]["applied"], 0, "nothing paid twice: {b:#}");
    assert_eq!(trial_balance_account(t, "1010").await, 0);
    // Only the line that named nothing still waits.
    assert_eq!(trial_balance_account(t, "2050").await, -11_696);
    let (_, p) = t
        .get(
            "receivables",
            &format!("/api/v1/psp/payouts/{}", p["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(p["status"], "settled", "{p:#}");
    let (_, open) = t.get("receivables", "/api/v1/psp/payouts?open=true").await;
    assert_eq!(open, json!([]));
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM events WHERE type = 'psp.payout_settled'"
        )
        .await,
        1
    );
    t.assert_books_balance().await;
}

async fn a_payout_report_that_does_not_add_up_is_refused_whole(t: &TestApp) {
    paid_by_card(t, "evt_b").await;
    let path = "/api/v1/psp/local/payouts";
    let cases = [
        (
            report("po_2", "119.00", &["ch_local_evt_b"]),
            "amount",
            "come to 116.96",
        ),
        (
            report("po_2", "116.96", &["ch_local_evt_b", "ch_nope"]),
            "charges[1]",
            "no payment captured",
        ),
        (
            report("po_2", "116.96", &["ch_local_evt_b", "ch_local_evt_b"]),
            "charges[1]",
            "listed twice",
        ),
        (report("po_2", "116.96", &[]), "charges", "at least one"),
        (
            report("", "116.96", &["ch_local_evt_b"]),
            "payout_id",
            "1 to 100",
        ),
        (
            json!({"payout_id": "po_2", "currency": "USD", "amount": "116.96", "charges": ["ch_local_evt_b"]}),
            "charges[0]",
            "captured in EUR",
        ),
        (
            json!({"payout_id": "po_2", "currency": "EUR", "amount": "116.96", "charges": ["ch_local_evt_b"], "arrives_on": "5.1.2026"}),
            "arrives_on",
            "YYYY-MM-DD",
        ),
    ];
    for (body, field, says) in cases {
        let (s, b) = t.post("receivables", path, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
        let detail = b["detail"].as_str().unwrap();
        assert!(
            detail.contains(field) && detail.contains(says),
            "{body} → {detail}"
        );
    }
    let (s, b) = t
        .post(
            "receivables",
            "/api/v1/psp/nosuch/payouts",
            report("po_2", "116.96", &["ch_local_evt_b"]),
        )
        .await;
    assert!(s.is_client_error(), "{s} {b}");
    let (s, b) = t
        .post("sales", path, report("po_2", "116.96", &["ch_local_evt_b"]))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    // Nothing was recorded.
    let (_, all) = t.get("receivables", "/api/v1/psp/payouts").await;
    assert_eq!(all, json!([]));
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM payments WHERE payout_id IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(trial_balance_account(t, "1010").await, 11_900 - 204);
    t.assert_books_balance().await;
}

async fn a_payout_line_parked_before_its_report_is_cleared_by_the_next_run(t: &TestApp) {
    paid_by_card(t, "evt_c").await;
    // The money arrives before the report: nothing to match it with, so it waits for a person.
    let b = bank_credit(t, "116.96", "PAYOUT po_3003 LOCAL", "PO-3").await;
    assert_eq!(b["matching"]["exceptions"], 1, "{b:#}");
    assert_eq!(trial_balance_account(t, "2050").await, -11_696);
    let (s, p) = t
        .post(
            "receivables",
            "/api/v1/psp/local/payouts",
            report("po_3003", "116.96", &["ch_local_evt_c"]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, run) = t.post("receivables", "/api/v1/cash/runs", json!({})).await;
    assert!(s.is_success(), "{run}");
    assert_eq!(run["cleared"], 1, "{run:#}");
    let (_, queue) = t
        .get("receivables", "/api/v1/bank-lines?status=exception")
        .await;
    assert_eq!(queue, json!([]), "{queue:#}");
    assert_eq!(trial_balance_account(t, "1010").await, 0);
    assert_eq!(trial_balance_account(t, "2050").await, 0);
    t.assert_books_balance().await;
}
