//! Comparison of parsed camt files with the genkgo/camt library's recorded results (the
//! `.json` beside each genkgo `.xml` in shared/data). Used by `shared_data.rs`.

use o2c_bank::{Direction, Statement, Status};
use serde_json::Value;

/// genkgo's dump replaces an object seen before by "__RECURSIVITY__"; lists then hold
/// the marker where the singular getter already printed the object.
fn resolve<'v>(list: &'v Value, single: &'v Value) -> Vec<&'v Value> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| if v.is_string() { single } else { v })
                .filter(|v| v.is_object())
                .collect()
        })
        .unwrap_or_default()
}

fn date(v: &Value) -> Option<String> {
    v.get("0")
        .and_then(Value::as_str)
        .map(|s| s[..10].to_string())
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

pub fn compare(json: &Value, statements: &[Statement], file: &str) -> usize {
    let mut n = 0;
    let entries = json["getEntries"].as_array().unwrap();
    let records: Vec<&Value> = match json["getRecords"].as_array() {
        Some(r) if r.iter().all(Value::is_object) => r.iter().collect(),
        _ => entries.iter().map(|e| &e["getRecord"]).collect(),
    };
    for record in records {
        n += compare_record(record, statements, file);
    }
    for entry in entries {
        let record_id = entry["getRecord"]["getId"].as_str().unwrap();
        let s = find(statements, record_id, file);
        let index = entry["getIndex"].as_u64().unwrap() as usize;
        n += compare_entry(entry, &s.entries[index], &format!("{file} entry {index}"));
    }
    n
}

fn find<'s>(statements: &'s [Statement], id: &str, file: &str) -> &'s Statement {
    statements
        .iter()
        .find(|s| s.statement_id == id)
        .unwrap_or_else(|| panic!("{file}: no statement {id}"))
}

fn compare_record(record: &Value, statements: &[Statement], file: &str) -> usize {
    let s = find(statements, record["getId"].as_str().unwrap(), file);
    let account = &record["getAccount"];
    let ours = s.account.iban.as_deref().or(s.account.other_id.as_deref());
    assert_eq!(text(&account["getIdentification"]), ours, "{file} account");
    let mut n = 1;
    // genkgo reads only Acct/Nm; this crate falls back to the owner's name (Acct/Ownr/Nm).
    if let Some(name) = text(&account["getName"]) {
        assert_eq!(Some(name), s.account.name.as_deref(), "{file} account name");
        n += 1;
    }
    let mut seen = Vec::new();
    for balance in record["getBalances"].as_array().into_iter().flatten() {
        // genkgo calls both OPBD and PRCD "opening"; the first one written is OPBD.
        let kind = balance["getType"].as_str();
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind);
        let ours = match kind {
            Some("opening") => s.opening_balance,
            Some("closing") => s.closing_balance,
            _ => continue,
        };
        let ours = ours.unwrap_or_else(|| panic!("{file}: balance {balance}"));
        let amount = &balance["getAmount"];
        assert_eq!(
            amount["getAmount"].as_str().unwrap(),
            ours.amount.minor().to_string(),
            "{file}"
        );
        assert_eq!(
            amount["getCurrency"]["getCode"].as_str().unwrap(),
            ours.amount.currency().code()
        );
        assert_eq!(
            date(&balance["getDate"]).unwrap(),
            ours.date.to_string(),
            "{file}"
        );
        n += 3;
    }
    n
}

fn compare_entry(entry: &Value, ours: &o2c_bank::Entry, at: &str) -> usize {
    let signed = match ours.direction {
        Direction::Credit => ours.amount.minor(),
        Direction::Debit => -ours.amount.minor(),
    };
    assert_eq!(
        entry["getAmount"]["getAmount"].as_str().unwrap(),
        signed.to_string(),
        "{at}"
    );
    let indicator = match ours.direction {
        Direction::Credit => "CRDT",
        Direction::Debit => "DBIT",
    };
    assert_eq!(
        entry["getCreditDebitIndicator"].as_str(),
        Some(indicator),
        "{at}"
    );
    assert_eq!(
        entry["getStatus"].as_str() == Some("BOOK"),
        ours.status == Status::Booked,
        "{at}"
    );
    assert_eq!(
        date(&entry["getBookingDate"]),
        ours.booking_date.map(|d| d.to_string()),
        "{at}"
    );
    assert_eq!(
        date(&entry["getValueDate"]),
        ours.value_date.map(|d| d.to_string()),
        "{at}"
    );
    assert_eq!(
        text(&entry["getAccountServicerReference"]),
        ours.bank_reference.as_deref(),
        "{at}"
    );
    assert_eq!(
        entry["getReversalIndicator"].as_bool(),
        Some(ours.reversal),
        "{at}"
    );
    let mut n = 7;
    let details = resolve(
        &entry["getTransactionDetails"],
        &entry["getTransactionDetail"],
    );
    let split = details.iter().all(|d| d["getAmount"].is_object()) || details.len() == 1;
    if !split {
        // No per-payment amounts: this crate keeps the batch as one transaction.
        assert_eq!(ours.transactions.len(), 1, "{at}");
        return n + 1;
    }
    assert_eq!(details.len(), ours.transactions.len(), "{at}");
    for (i, (detail, tx)) in details.iter().zip(&ours.transactions).enumerate() {
        n += compare_transaction(detail, tx, &format!("{at} tx {i}"));
    }
    n
}

fn compare_transaction(detail: &Value, tx: &o2c_bank::Transaction, at: &str) -> usize {
    let mut n = 0;
    if let Some(amount) = detail["getAmount"].as_object() {
        let minor: i64 = amount["getAmount"].as_str().unwrap().parse().unwrap();
        assert_eq!(minor.abs(), tx.amount.minor(), "{at}");
        assert_eq!(
            amount["getCurrency"]["getCode"].as_str().unwrap(),
            tx.amount.currency().code()
        );
        n += 2;
    }
    let refs = &detail["getReference"];
    let e2e = text(&refs["getEndToEndId"]).filter(|r| *r != "NOTPROVIDED");
    assert_eq!(e2e, tx.end_to_end_id.as_deref(), "{at} end-to-end id");
    assert_eq!(
        text(&refs["getInstructionId"]),
        tx.instruction_id.as_deref(),
        "{at}"
    );
    assert_eq!(
        text(&refs["getUuidEndToEndReference"]),
        tx.uetr.as_deref(),
        "{at}"
    );
    n += 3;
    let role = match tx.direction {
        Direction::Credit => "Debtor",
        Direction::Debit => "Creditor",
    };
    let parties = resolve(&detail["getRelatedParties"], &detail["getRelatedParty"]);
    let party = parties.iter().find(|p| {
        p["getRelatedPartyType"]["__CLASS__"]
            .as_str()
            .is_some_and(|c| c.ends_with(&format!("\\{role}")))
    });
    if let Some(party) = party {
        let name = text(&party["getRelatedPartyType"]["getName"]);
        if name.is_some() {
            assert_eq!(name, tx.counterparty_name.as_deref(), "{at} counterparty");
            n += 1;
        }
        let account = text(&party["getAccount"]["getIdentification"]);
        assert_eq!(
            account,
            tx.counterparty_account.as_deref(),
            "{at} counterparty account"
        );
        n += 1;
    }
    let remittance = &detail["getRemittanceInformation"];
    for block in resolve(
        &remittance["getUnstructuredBlocks"],
        &remittance["getUnstructuredBlock"],
    ) {
        let message = block["getMessage"].as_str().unwrap();
        assert!(
            tx.remittance_unstructured.iter().any(|l| l == message),
            "{at}: {message}"
        );
        n += 1;
    }
    for block in resolve(
        &remittance["getStructuredBlocks"],
        &remittance["getStructuredBlock"],
    ) {
        if let Some(reference) = text(&block["getCreditorReferenceInformation"]["getRef"]) {
            assert!(
                tx.remittance_structured
                    .iter()
                    .any(|r| r.reference == reference),
                "{at}: {reference} not in {:?}",
                tx.remittance_structured
            );
            n += 1;
        }
        if let Some(extra) = text(&block["getAdditionalRemittanceInformation"]) {
            assert!(
                tx.remittance_unstructured.iter().any(|l| l == extra),
                "{at}: {extra}"
            );
            n += 1;
        }
    }
    n
}
