//! CSV remittance files: grouping rows into payments, header aliases, quoting, and refusing the
//! whole file for one bad row.

use o2c_core::money::{Currency, Money};
use o2c_edi::{EdiError, read_csv_remittances};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn refused(csv: &str) -> String {
    read_csv_remittances(csv.as_bytes(), Currency::USD)
        .unwrap_err()
        .to_string()
}

#[test]
fn rows_sharing_a_payment_reference_form_one_remittance() {
    let payments =
        read_csv_remittances(&fixture("csv-remittance-two-payments.csv"), Currency::USD).unwrap();
    assert_eq!(payments.len(), 2);

    let first = &payments[0];
    assert_eq!(first.payment.trace_number.as_deref(), Some("PAY-1001"));
    assert_eq!(first.payer_name.as_deref(), Some("Smith, Jones & Co"));
    assert_eq!(
        first
            .payment
            .effective_date
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-11-20")
    );
    assert_eq!(first.payment.amount, usd(146_500));
    let invoices: Vec<_> = first
        .items
        .iter()
        .map(|i| (i.invoice_number.as_str(), i.amount_paid))
        .collect();
    assert_eq!(
        invoices,
        [
            ("INV-2026-0101", usd(50_000)),
            ("INV-2026-0102", usd(49_000)),
            ("INV-2026-0103", usd(47_500))
        ]
    );
    assert_eq!(first.items[1].discount, Some(usd(1_000)));
    let deduction = &first.items[2].adjustments[0];
    assert_eq!(
        (deduction.reason_code.as_str(), deduction.amount),
        ("Damaged goods", usd(-2_500))
    );
    assert!(first.items.iter().all(|i| i.reference_qualifier == "IV"));
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);

    let second = &payments[1];
    assert_eq!(second.payer_name.as_deref(), Some("The \"Corner\" Shop"));
    assert_eq!(second.payment.currency, Currency::EUR);
    assert_eq!(second.payment.amount, Money::new(89_550, Currency::EUR));
    assert_eq!(
        second.items[0].adjustments[0].reason_code, "Quantity contested,\r\n5 units short",
        "a quoted field keeps its separator and line break"
    );
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
}

#[test]
fn semicolons_and_other_header_names_are_understood() {
    let payments =
        read_csv_remittances(&fixture("csv-remittance-semicolon.csv"), Currency::USD).unwrap();
    let [payment] = payments.as_slice() else {
        panic!("one payment expected: {payments:?}");
    };
    assert_eq!(payment.payer_name.as_deref(), Some("Müller GmbH"));
    assert_eq!(payment.payer_id.as_deref(), Some("C-88"));
    assert_eq!(
        payment
            .payment
            .effective_date
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-11-19")
    );
    assert_eq!(
        payment.payment.amount,
        usd(120_000),
        "the check amount column, not the sum"
    );
    assert_eq!(payment.items[1].adjustments[0].amount, usd(-5_000));
    assert_eq!(payment.items[1].adjustments[0].reason_code, "04");
    assert_eq!(
        payment.warnings,
        [
            "the amounts paid (amount_paid of 2 items) add up to 1150.00 USD, but payment_amount says 1200.00 USD"
        ]
    );
}

#[test]
fn one_malformed_amount_refuses_the_whole_file_with_line_and_column() {
    let err = read_csv_remittances(
        &fixture("csv-remittance-malformed-amount.csv"),
        Currency::USD,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 5, column amount_paid: malformed amount `1.2.3`: expected a decimal number"
    );
}

#[test]
fn an_item_whose_figures_do_not_add_up_is_read_with_a_warning() {
    let payments = read_csv_remittances(
        b"ref,invoice,invoice amount,amount paid,deduction,reason\nP,I-1,100.00,80.00,10.00,damaged\n",
        Currency::USD,
    )
    .unwrap();
    assert_eq!(
        payments[0].warnings,
        [
            "invoice I-1: invoice_amount 100.00 USD less discount 0.00 USD plus the deduction (negated) -10.00 USD is 90.00 USD, but amount_paid says 80.00 USD"
        ]
    );
}

#[test]
fn rows_of_one_payment_that_disagree_are_refused() {
    assert_eq!(
        refused(
            "reference,payer,invoice,paid\nP-1,ACME,I-1,1\nP-2,Other,I-2,2\nP-1,ACME Corp,I-3,3\n"
        ),
        "line 4, column payer: `ACME Corp` differs from `ACME` on line 2 for the same payment reference"
    );
    assert_eq!(
        refused("reference,currency,invoice,paid\nP-1,,I-1,1\nP-1,EUR,I-2,2\n"),
        "line 3, column currency: `EUR` differs from `USD (the default)` on line 2 for the same payment reference"
    );
    assert_eq!(
        refused("reference,date,invoice,paid\nP-1,2026-11-20,I-1,1\nP-1,20261121,I-2,2\n"),
        "line 3, column payment_date: `20261121` differs from `2026-11-20` on line 2 for the same payment reference"
    );
}

#[test]
fn missing_values_and_malformed_cells_name_line_and_column() {
    assert_eq!(
        refused("reference,invoice,paid\nP-1,,1\n"),
        "line 2, column invoice_number: required but missing"
    );
    assert_eq!(
        refused("reference,invoice,paid\n,I-1,1\n"),
        "line 2, column payment_reference: required but missing"
    );
    assert_eq!(
        refused("reference,invoice,paid\nP-1,I-1,\n"),
        "line 2, column amount_paid: required but missing"
    );
    assert_eq!(
        refused("reference,invoice,paid,deduction\nP-1,I-1,1,2\n"),
        "line 2, column deduction_reason: required but missing"
    );
    assert_eq!(
        refused("reference,invoice,paid,currency\nP-1,I-1,1,XXX\n"),
        "line 2, column currency: unknown currency `XXX`: expected an ISO 4217 code such as USD"
    );
    assert_eq!(
        refused("reference,invoice,paid,date\nP-1,I-1,1,03/04/2026\n"),
        "line 2, column payment_date: malformed date `03/04/2026`: expected a date YYYY-MM-DD or YYYYMMDD"
    );
    assert_eq!(
        refused("reference,invoice,paid,currency\nP-1,I-1,1.5,JPY\n"),
        "line 2, column amount_paid: amount `1.5` has more than 0 decimals, the most JPY allows"
    );
}

#[test]
fn a_broken_file_shape_is_refused() {
    assert_eq!(refused(""), "the CSV file is empty: expected a header row");
    assert!(refused("reference,paid\nP,1\n").starts_with(
        "the header row has no invoice_number column (accepted names: invoice number, invoice,"
    ));
    assert_eq!(
        refused("reference,invoice,paid\nP-1,I-1,1,extra\n"),
        "line 2: 4 fields, but the header row has 3"
    );
    assert_eq!(
        refused("reference,invoice,paid\nP-1,\"I-1,1\n"),
        "line 2: a quoted field is never closed"
    );
    assert!(matches!(
        read_csv_remittances(b"reference,invoice,paid\nP-1,I\xe9,1\n", Currency::USD),
        Err(EdiError::NotUtf8 { byte_offset: 28 })
    ));
}

#[test]
fn a_header_only_file_has_no_payments_and_empty_trailing_fields_are_fine() {
    assert!(
        read_csv_remittances(b"reference,invoice,paid\n", Currency::USD)
            .unwrap()
            .is_empty()
    );
    let payments = read_csv_remittances(
        b"reference,invoice,paid,notes\nP-1,I-1,1\nP-1,I-2,2,,\n",
        Currency::USD,
    )
    .unwrap();
    assert_eq!(payments[0].payment.amount, usd(300));
}
