//! Hand-written files, one per format, whose every value is known.

use o2c_bank::{
    CsvMapping, Direction, Format, StatementError, Status, Transaction, detect, parse, parse_csv,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn refs(tx: &Transaction) -> Vec<(&str, &str)> {
    tx.remittance_structured
        .iter()
        .map(|r| (r.kind.as_str(), r.reference.as_str()))
        .collect()
}

#[test]
fn a_camt053_v8_batch_entry_yields_one_transaction_per_payment() {
    let bytes = fixture("camt053_v8_batch.xml");
    assert_eq!(detect(&bytes).unwrap(), Format::Camt053);
    let statements = parse(&bytes).unwrap();
    assert_eq!(statements.len(), 1);
    let s = &statements[0];
    assert_eq!(s.message_id, "O2C-FIXTURE-053");
    assert_eq!(s.statement_id, "STMT-2024-02-29");
    assert_eq!(s.created_at.unwrap().to_string(), "2024-03-01 05:59:00");
    assert_eq!(s.account.iban.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(s.account.name.as_deref(), Some("Example GmbH"));
    assert_eq!(s.account.servicer_bic.as_deref(), Some("COBADEFFXXX"));
    assert_eq!(s.opening_balance.unwrap().amount.to_string(), "1000.00 EUR");
    assert_eq!(s.closing_balance.unwrap().amount.to_string(), "1225.50 EUR");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let batch = &s.entries[0];
    assert_eq!(batch.status, Status::Booked);
    assert_eq!(batch.bank_reference.as_deref(), Some("BANKREF-1"));
    assert_eq!(
        batch.bank_transaction_code.as_deref(),
        Some("PMNT/RCDT/ESCT")
    );
    assert_eq!(batch.transactions.len(), 3);
    let [first, second, third] = &batch.transactions[..] else {
        unreachable!()
    };
    assert_eq!(first.amount.to_string(), "100.00 EUR");
    assert_eq!(first.end_to_end_id.as_deref(), Some("E2E-INV-1001"));
    assert_eq!(first.instruction_id.as_deref(), Some("INSTR-1"));
    assert_eq!(
        first.uetr.as_deref(),
        Some("8a562c67-ca16-48ba-b074-65581be6f011")
    );
    assert_eq!(first.counterparty_name.as_deref(), Some("Kunde Eins AG"));
    assert_eq!(
        first.counterparty_account.as_deref(),
        Some("CH9300762011623852957")
    );
    assert_eq!(first.counterparty_bic.as_deref(), Some("UBSWCHZH80A"));
    assert_eq!(refs(first), vec![("SCOR", "RF18539007547034")]);
    assert_eq!(first.additional_info.as_deref(), Some("SAMMELGUTSCHRIFT"));

    assert_eq!(second.end_to_end_id, None, "NOTPROVIDED is no reference");
    assert_eq!(second.counterparty_name.as_deref(), Some("Zwei & Drei KG"));
    assert_eq!(second.counterparty_account.as_deref(), Some("12345678"));
    assert_eq!(
        second.remittance_unstructured,
        vec!["Rechnung 1002 und 1003"]
    );
    assert_eq!(refs(second), vec![("CINV", "INV-1002")]);

    assert_eq!(third.counterparty_name.as_deref(), Some("Vier Holding"));
    assert_eq!(refs(third), vec![("QRR", "210000000003139471430009017")]);
    assert_eq!(third.additional_info.as_deref(), Some("QR-Rechnung"));

    let fee = &s.entries[1];
    assert_eq!(fee.direction, Direction::Debit);
    assert_eq!(fee.bank_transaction_code.as_deref(), Some("FEE"));
    assert_eq!(fee.transactions.len(), 1);
    assert_eq!(fee.transactions[0].amount.to_string(), "74.50 EUR");
    assert_eq!(
        fee.transactions[0].additional_info.as_deref(),
        Some("Kontoführung Februar")
    );

    let pending = &s.entries[2];
    assert_eq!(pending.status, Status::Pending);
    assert_eq!(pending.value_date.unwrap().to_string(), "2024-03-01");
}

#[test]
fn the_statement_serialises_with_stable_field_names() {
    let statements = parse(&fixture("camt053_v8_batch.xml")).unwrap();
    let json = serde_json::to_value(&statements[0]).unwrap();
    assert_eq!(json["format"], "camt053");
    assert_eq!(json["currency"], "EUR");
    assert_eq!(json["opening_balance"]["amount"]["amount"], "1000.00");
    assert_eq!(json["opening_balance"]["date"], "2024-02-28");
    let tx = &json["entries"][0]["transactions"][0];
    assert_eq!(tx["direction"], "credit");
    assert_eq!(
        tx["amount"],
        serde_json::json!({"amount": "100.00", "currency": "EUR"})
    );
    assert_eq!(
        tx["remittance_structured"][0],
        serde_json::json!({"kind": "SCOR", "issuer": null, "reference": "RF18539007547034"})
    );
    assert_eq!(json["entries"][2]["status"], "pending");
    assert!(json["entries"][1]["booking_date"].is_string());
    assert!(json["closing_balance"].is_object());
    assert!(tx["uetr"].is_string() && json["entries"][1]["transactions"][0]["uetr"].is_null());
}

#[test]
fn a_v2_batch_with_one_missing_amount_gets_the_remainder() {
    let statements = parse(&fixture("camt054_v2_batch_remainder.xml")).unwrap();
    let s = &statements[0];
    assert_eq!(s.format, Format::Camt054);
    assert_eq!(
        s.currency.code(),
        "CHF",
        "no Acct/Ccy: taken from the first entry"
    );
    let txs = &s.entries[0].transactions;
    assert_eq!(
        txs[0].amount.to_string(),
        "100.00 CHF",
        "100.000 has only zeros beyond 2 decimals"
    );
    assert_eq!(txs[1].amount.to_string(), "30.05 CHF");
    assert_eq!(refs(&txs[0]), vec![("ISR", "120000000000234478943216899")]);
    assert_eq!(txs[1].counterparty_name.as_deref(), Some("Payer B"));
    assert!(s.warnings.is_empty());
}

#[test]
fn a_missing_currency_attribute_names_the_line_and_element() {
    let err = parse(&fixture("camt053_missing_ccy.xml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 14, element Ntry/Amt: missing Ccy attribute"
    );
}

#[test]
fn an_mt940_in_a_swift_envelope_reads_german_sub_fields_and_sepa_keywords() {
    let bytes = fixture("mt940_sepa.sta");
    assert_eq!(detect(&bytes).unwrap(), Format::Mt940);
    let statements = parse(&bytes).unwrap();
    assert_eq!(statements.len(), 1);
    let s = &statements[0];
    assert_eq!(
        (s.message_id.as_str(), s.statement_id.as_str()),
        ("STMT240301", "61/1")
    );
    assert_eq!(s.account.iban.as_deref(), Some("DE89370400440532013000"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let credit = &s.entries[0];
    assert_eq!(credit.bank_reference.as_deref(), Some("BANK-REF-1"));
    assert_eq!(credit.bank_transaction_code.as_deref(), Some("NTRF"));
    assert_eq!(credit.booking_date.unwrap().to_string(), "2024-03-01");
    let tx = &credit.transactions[0];
    assert_eq!(tx.amount.to_string(), "250.00 EUR");
    assert_eq!(tx.instruction_id, None, "NONREF is no reference");
    assert_eq!(tx.end_to_end_id.as_deref(), Some("E2E-4711"));
    assert_eq!(tx.counterparty_name.as_deref(), Some("Kunde Eins AG"));
    assert_eq!(
        tx.counterparty_account.as_deref(),
        Some("CH9300762011623852957")
    );
    assert_eq!(tx.counterparty_bic.as_deref(), Some("UBSWCHZH80A"));
    assert_eq!(
        tx.remittance_unstructured,
        vec!["Rechnung 4711 RF18539007547034"]
    );
    assert_eq!(refs(tx), vec![("SCOR", "RF18539007547034")]);
    assert_eq!(tx.additional_info.as_deref(), Some("SEPA-GUTSCHRIFT"));

    let fee = &s.entries[1].transactions[0];
    assert_eq!(fee.direction, Direction::Debit);
    assert_eq!(fee.instruction_id.as_deref(), Some("KREF+PAY-9"));
    assert_eq!(
        fee.remittance_unstructured,
        vec!["Kontofuehrung Februar", "Pauschale"]
    );
    assert_eq!(fee.additional_info.as_deref(), Some("KONTOFUEHRUNG"));
}

#[test]
fn a_malformed_mt940_amount_is_reported_with_line_and_field() {
    let err = parse(&fixture("mt940_malformed_amount.sta")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 14 (:61:): malformed amount `12,5x`: expected digits with a decimal comma, such as 1234,56"
    );
}

#[test]
fn a_bai2_account_reads_balances_directions_and_continuations() {
    let bytes = fixture("bai2_small.bai2");
    assert_eq!(detect(&bytes).unwrap(), Format::Bai2);
    let statements = parse(&bytes).unwrap();
    let s = &statements[0];
    assert_eq!(s.message_id, "BANKID/42");
    assert_eq!(s.statement_id, "123456789/2024-02-29");
    assert_eq!(s.account.other_id.as_deref(), Some("123456789"));
    assert_eq!(s.account.servicer_bic.as_deref(), Some("CITIUS33"));
    assert_eq!(s.opening_balance.unwrap().amount.to_string(), "1000.00 USD");
    assert_eq!(s.closing_balance.unwrap().amount.to_string(), "1125.00 USD");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let wire = &s.entries[0];
    assert_eq!(
        (wire.direction, wire.amount.to_string()),
        (Direction::Credit, "150.00 USD".into())
    );
    assert_eq!(wire.value_date.unwrap().to_string(), "2024-02-29");
    assert_eq!(wire.bank_reference.as_deref(), Some("WIRE-1"));
    let tx = &wire.transactions[0];
    assert_eq!(tx.instruction_id.as_deref(), Some("INV-1001"));
    assert_eq!(
        tx.remittance_unstructured,
        vec!["INCOMING WIRE FROM KUNDE EINS", "REF RF18539007547034"]
    );
    assert_eq!(refs(tx), vec![("SCOR", "RF18539007547034")]);
    let check = &s.entries[1];
    assert_eq!(check.direction, Direction::Debit);
    assert_eq!(
        check.transactions[0].remittance_unstructured,
        vec!["CHECK PAID"]
    );
}

#[test]
fn wrong_bai2_control_totals_are_warnings() {
    let text = String::from_utf8(fixture("bai2_small.bai2")).unwrap();
    let statements = parse(text.replace("49,247500,5/", "49,247501,6/").as_bytes()).unwrap();
    let warnings = &statements[0].warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("(49)") && w.contains("control total 247501"))
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("record count 6 does not match the computed 5"))
    );
}

#[test]
fn a_csv_export_is_read_through_a_saved_mapping() {
    let bytes = fixture("csv_bank.csv");
    assert_eq!(detect(&bytes).unwrap(), Format::Csv);
    assert_eq!(
        parse(&bytes).unwrap_err(),
        StatementError::CsvMappingRequired
    );
    let mapping: CsvMapping = serde_json::from_slice(&fixture("csv_mapping.json")).unwrap();
    let statements = parse_csv(&bytes, &mapping).unwrap();
    let s = &statements[0];
    assert_eq!(s.format, Format::Csv);
    assert_eq!(s.account.iban.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(
        s.statement_id,
        "DE89370400440532013000:2024-03-01..2024-03-01"
    );
    assert!(s.message_id.starts_with("csv:"));
    let credit = &s.entries[0].transactions[0];
    assert_eq!(credit.amount.to_string(), "1250.00 EUR");
    assert_eq!(credit.direction, Direction::Credit);
    assert_eq!(
        credit.counterparty_name.as_deref(),
        Some("Kunde \"Eins\" AG")
    );
    assert_eq!(credit.end_to_end_id.as_deref(), Some("E2E-4711"));
    assert_eq!(refs(credit), vec![("SCOR", "RF18539007547034")]);
    let debit = &s.entries[1];
    assert_eq!(
        (debit.direction, debit.amount.to_string()),
        (Direction::Debit, "24.50 EUR".into())
    );
    assert_eq!(debit.value_date.unwrap().to_string(), "2024-03-04");
    assert_eq!(
        debit.transactions[0].remittance_unstructured,
        vec!["Kontofuehrung\nFebruar"]
    );
    assert_eq!(debit.transactions[0].end_to_end_id, None);

    let fixed: o2c_bank::CsvCurrency =
        serde_json::from_str(r#"{"fixed": {"code": "EUR"}}"#).unwrap();
    assert_eq!(
        fixed,
        o2c_bank::CsvCurrency::Fixed {
            code: o2c_core::money::Currency::EUR
        }
    );
    let round_trip: CsvMapping =
        serde_json::from_str(&serde_json::to_string(&mapping).unwrap()).unwrap();
    assert_eq!(round_trip, mapping);
}

#[test]
fn csv_errors_name_the_line_and_column() {
    let mapping: CsvMapping = serde_json::from_slice(&fixture("csv_mapping.json")).unwrap();
    let text = String::from_utf8(fixture("csv_bank.csv")).unwrap();
    let bad_amount = text.replace("-24,50", "-24,5O");
    assert_eq!(
        parse_csv(bad_amount.as_bytes(), &mapping)
            .unwrap_err()
            .to_string(),
        "line 4 (Betrag): malformed amount `-24,5O`: expected a signed decimal number in the mapping's notation"
    );
    let bad_date = text.replace("01.03.2024;04.03.2024", "01.03.2024;2024-03-04");
    assert_eq!(
        parse_csv(bad_date.as_bytes(), &mapping)
            .unwrap_err()
            .to_string(),
        "line 4 (Valuta): malformed date `2024-03-04`: expected a date in the format %d.%m.%Y"
    );
    let mut other = mapping.clone();
    other.booking_date = "Datum".to_string();
    assert_eq!(
        parse_csv(text.as_bytes(), &other).unwrap_err().to_string(),
        "line 2 (header): column `Datum` named in the mapping is not in the header"
    );
    other = mapping.clone();
    other.account_iban = "DE00 1234".to_string();
    assert!(matches!(
        parse_csv(text.as_bytes(), &other),
        Err(StatementError::InvalidMapping(_))
    ));
}

#[test]
fn unknown_content_is_refused_with_the_list_of_formats() {
    let err = detect(b"hello\nworld\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown statement format: expected camt.053/054 XML, MT940, BAI2 or CSV with a saved mapping"
    );
    let pain = br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>"#;
    assert!(matches!(
        detect(pain),
        Err(StatementError::UnsupportedXmlMessage { .. })
    ));
    let future = br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.13"/>"#;
    assert!(matches!(
        detect(future),
        Err(StatementError::UnsupportedXmlMessage { .. })
    ));
}

#[test]
fn amounts_with_nonzero_extra_decimals_are_refused() {
    let text = String::from_utf8(fixture("camt053_v8_batch.xml")).unwrap();
    let bad = text.replace(">74.50<", ">74.505<");
    let err = parse(bad.as_bytes()).unwrap_err().to_string();
    assert!(err.ends_with("element Ntry/Amt: amount `74.505` has more decimals than EUR allows (2); only zeros may follow"), "{err}");
}
