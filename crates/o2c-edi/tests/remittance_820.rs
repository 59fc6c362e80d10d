//! The 820 reader against hand-made fixtures: 004010 and 005010, several invoices a payment,
//! a short pay, a discount, a deduction on the account, a malformed amount, the wrong set.

use o2c_core::money::{Currency, Money};
use o2c_edi::remittance::read_820s;
use o2c_edi::x12::Usage;
use o2c_edi::{EdiError, Remittance, read_820, read_interchange};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_first_820(text: &str, default: Currency) -> Result<Remittance, EdiError> {
    let interchange = read_interchange(text.as_bytes())?;
    let tx = interchange
        .transactions()
        .next()
        .expect("one transaction set");
    read_820(tx, default)
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

#[test]
fn a_004010_payment_of_three_invoices_reads_without_warnings() {
    let r = read_first_820(&fixture("820-004010-three-invoices.x12"), Currency::USD).unwrap();
    assert_eq!(r.payer_name.as_deref(), Some("ACME RETAIL INC"));
    assert_eq!(r.payer_id.as_deref(), Some("C-1001"));
    assert_eq!(r.payee_name.as_deref(), Some("O2C SUPPLY CO"));
    assert_eq!(r.payee_id.as_deref(), Some("V-778"));
    assert_eq!(r.payment.amount, usd(149_000));
    assert_eq!(r.payment.currency, Currency::USD);
    assert_eq!(r.payment.handling_code.as_deref(), Some("C"));
    assert_eq!(r.payment.method.as_deref(), Some("ACH"));
    assert_eq!(
        r.payment.effective_date.map(|d| d.to_string()).as_deref(),
        Some("2026-11-21")
    );
    assert_eq!(r.payment.trace_number.as_deref(), Some("ACH20261121-0001"));
    let items: Vec<_> = r
        .items
        .iter()
        .map(|i| {
            (
                i.reference_qualifier.as_str(),
                i.invoice_number.as_str(),
                i.amount_paid,
                i.invoice_amount,
                i.discount,
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("IV", "INV-2026-0101", usd(50_000), Some(usd(50_000)), None),
            (
                "IV",
                "INV-2026-0102",
                usd(49_000),
                Some(usd(50_000)),
                Some(usd(1_000))
            ),
            ("IV", "INV-2026-0103", usd(50_000), Some(usd(50_000)), None),
        ]
    );
    assert!(r.adjustments.is_empty());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn without_a_cur_segment_the_default_currency_applies() {
    let r = read_first_820(&fixture("820-004010-three-invoices.x12"), Currency::EUR).unwrap();
    assert_eq!(r.payment.amount, eur(149_000));
    assert_eq!(r.items[1].discount, Some(eur(1_000)));
}

#[test]
fn a_005010_short_pay_keeps_its_adjustments_and_the_deduction_on_the_account() {
    let text = fixture("820-005010-short-pay-eur.x12");
    let interchange = read_interchange(text.as_bytes()).unwrap();
    assert_eq!(interchange.usage, Usage::Test);
    assert_eq!(interchange.version, "00501");
    assert_eq!(interchange.delimiters.repetition, Some('^'));
    assert!(
        interchange.warnings.is_empty(),
        "{:?}",
        interchange.warnings
    );

    let remittances = read_820s(&interchange, Currency::USD).unwrap();
    assert_eq!(remittances.len(), 1);
    let r = &remittances[0];
    assert_eq!(
        r.payment.currency,
        Currency::EUR,
        "CUR02 wins over the default"
    );
    assert_eq!(r.payment.amount, eur(234_550));
    assert_eq!(r.payment.method.as_deref(), Some("FWT"));
    assert_eq!(
        r.payment.effective_date.map(|d| d.to_string()).as_deref(),
        Some("2026-11-24")
    );
    assert_eq!(r.payment.trace_number.as_deref(), Some("WIRE-88231"));
    assert_eq!(r.payee_id, None);

    let short_pay = &r.items[1];
    assert_eq!(short_pay.invoice_number, "RE-2026-5002");
    assert_eq!(short_pay.amount_paid, eur(89_550));
    assert_eq!(short_pay.invoice_amount, Some(eur(102_050)));
    assert_eq!(short_pay.adjustments.len(), 1);
    assert_eq!(short_pay.adjustments[0].reason_code, "06");
    assert_eq!(short_pay.adjustments[0].amount, eur(-12_500));
    assert!(
        r.items[0].adjustments.is_empty(),
        "the ADX before the first RMR is not the item's"
    );
    assert_eq!(r.items[2].discount, Some(eur(1_224)));

    assert_eq!(r.adjustments.len(), 1);
    assert_eq!(r.adjustments[0].reason_code, "11");
    assert_eq!(r.adjustments[0].amount, eur(-15_000));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn figures_that_do_not_add_up_are_read_with_warnings() {
    let text = fixture("820-005010-short-pay-eur.x12")
        .replace("BPR*C*2345.5*", "BPR*C*2400*")
        .replace("ADX*-125*06", "ADX*-120*06");
    let r = read_first_820(&text, Currency::USD).unwrap();
    assert_eq!(
        r.warnings,
        [
            "invoice RE-2026-5002: RMR05 1020.50 EUR less RMR06 0.00 EUR plus ADX01 -120.00 EUR is \
             900.50 EUR, but RMR04 says 895.50 EUR",
            "the amounts paid (RMR04 of 3 items) and the unattached adjustments (-150.00 EUR) add \
             up to 2345.50 EUR, but BPR02 says 2400.00 EUR",
        ]
    );
}

#[test]
fn a_malformed_amount_is_refused_naming_segment_and_element() {
    let err =
        read_first_820(&fixture("820-004010-malformed-amount.x12"), Currency::USD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "segment 4 (BPR, line 4, byte 180), element BPR02: malformed amount `12.x`: expected a \
         decimal number"
    );
}

#[test]
fn a_malformed_item_amount_names_the_rmr_it_is_in() {
    let text = fixture("820-005010-short-pay-eur.x12").replace("*895.5*", "*89,5*");
    let err = read_first_820(&text, Currency::USD).unwrap_err();
    let offset = text.find("RMR*IV*RE-2026-5002").unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "segment 14 (RMR, line 1, byte {offset}), element RMR04: malformed amount `89,5`: \
             expected a decimal number"
        )
    );
}

#[test]
fn more_decimals_than_the_currency_has_are_refused_not_rounded() {
    let text = fixture("820-004010-three-invoices.x12").replace("*490.00*", "*490.005*");
    let err = read_first_820(&text, Currency::USD).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "element RMR04: amount `490.005` has more than 2 decimals, the most USD allows"
        ),
        "{err}"
    );
}

#[test]
fn an_unknown_currency_a_bad_date_and_missing_values_are_refused() {
    let base = fixture("820-005010-short-pay-eur.x12");
    let err = read_first_820(&base.replace("CUR*PR*EUR", "CUR*PR*XEU"), Currency::USD).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "element CUR02: unknown currency `XEU`: expected an ISO 4217 code such as USD"
        ),
        "{err}"
    );

    let err = read_first_820(&base.replace("20261124~", "20261324~"), Currency::USD).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("element BPR16: malformed date `20261324`: expected a date CCYYMMDD"),
        "{err}"
    );

    let err = read_first_820(&base.replace("ADX*-125*06", "ADX*-125"), Currency::USD).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("element ADX02: required but missing"),
        "{err}"
    );

    let err = read_first_820(&base.replace("*PI*600*", "*PI**"), Currency::USD).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("element RMR04: required but missing"),
        "{err}"
    );
}

#[test]
fn an_820_without_bpr_is_refused() {
    let text = fixture("820-004010-three-invoices.x12")
        .replace("BPR*C*1490*C*ACH*CTX*01*021000021*DA*123456789*1234567890**01*011000015*DA*987654321*20261121~\r\n", "")
        .replace("SE*13*", "SE*12*");
    let err = read_first_820(&text, Currency::USD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction set 820 `0001` has no BPR segment"
    );
}

#[test]
fn a_two_digit_year_in_bpr16_is_read_with_a_warning() {
    let text = fixture("820-004010-three-invoices.x12")
        .replace("*987654321*20261121~", "*987654321*261121~");
    let r = read_first_820(&text, Currency::USD).unwrap();
    assert_eq!(
        r.payment.effective_date.map(|d| d.to_string()).as_deref(),
        Some("2026-11-21")
    );
    assert_eq!(
        r.warnings,
        [
            "segment 4 (BPR, line 4, byte 180): BPR16 `261121` has a two-digit year; read as 2026-11-21"
        ]
    );
}

#[test]
fn a_purchase_order_is_not_a_remittance_advice() {
    let err = read_first_820(&fixture("850-004010-purchase-order.x12"), Currency::USD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction set 850 is a purchase order, not a remittance advice (820)"
    );
    let interchange =
        read_interchange(fixture("850-004010-purchase-order.x12").as_bytes()).unwrap();
    assert!(read_820s(&interchange, Currency::USD).unwrap().is_empty());
}

#[test]
fn a_remittance_serialises_with_amounts_as_decimal_strings() {
    let r = read_first_820(&fixture("820-005010-short-pay-eur.x12"), Currency::USD).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["payment"]["amount"],
        serde_json::json!({"amount": "2345.50", "currency": "EUR"})
    );
    assert_eq!(
        json["items"][1]["adjustments"][0]["amount"]["amount"],
        "-125.00"
    );
    assert_eq!(json["payment"]["effective_date"], "2026-11-24");
}
