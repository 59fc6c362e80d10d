//! The matcher's decisions, one kind at a time, on a small book of three customers.

use super::*;
use crate::money::{Currency, Money, Percent};
use crate::reference::rf_reference;
use chrono::NaiveDate;

pub(super) const BRANDT: CustomerKey = CustomerKey(1);
pub(super) const NORDWIND: CustomerKey = CustomerKey(2);
pub(super) const ACME: CustomerKey = CustomerKey(3);
pub(super) const BRANDT_IBAN: &str = "DE89 3704 0044 0532 0130 00";

pub(super) fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

pub(super) fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("a March day")
}

pub(super) fn number(seq: i64) -> String {
    crate::invoice::invoice_number("INV", 2026, seq)
}

/// Invoice `INV-2026-{seq}` of `customer`, issued on 1 March, due on the `due`th.
pub(super) fn invoice(seq: i64, customer: CustomerKey, open_minor: i64, due: u32) -> OpenItem {
    OpenItem {
        key: ItemKey(seq as u64),
        customer,
        number: number(seq),
        open: eur(open_minor),
        total: eur(open_minor),
        issued_on: day(1),
        due_on: day(due),
        discount: None,
        order_refs: vec![format!("ord_01JD{:022}", seq)],
        po_refs: Vec::new(),
    }
}

pub(super) fn payers() -> Vec<PayerProfile> {
    vec![
        PayerProfile {
            key: BRANDT,
            name: "Brandt Logistik GmbH".into(),
            accounts: vec![BRANDT_IBAN.into()],
        },
        PayerProfile {
            key: NORDWIND,
            name: "Nordwind Trading Ltd".into(),
            accounts: Vec::new(),
        },
        PayerProfile {
            key: ACME,
            name: "Acme Industrial Supplies AG".into(),
            accounts: Vec::new(),
        },
    ]
}

/// Brandt owes 42 (1,190.00), 43 (250.00), 44 (99.90); Nordwind 45 (1,190.00), 46 (777.77);
/// Acme 47 (5,000.00) with PO-4711, 48 (2,000.00) with 2 % discount until the 10th.
pub(super) fn book() -> Vec<OpenItem> {
    let mut items = vec![
        invoice(42, BRANDT, 119_000, 20),
        invoice(43, BRANDT, 25_000, 21),
        invoice(44, BRANDT, 9_990, 22),
        invoice(45, NORDWIND, 119_000, 20),
        invoice(46, NORDWIND, 77_777, 25),
        invoice(47, ACME, 500_000, 30),
        invoice(48, ACME, 200_000, 31),
    ];
    items[5].po_refs.push("PO-4711".into());
    items[6].discount = Some(EarlyDiscount {
        rate: Percent::from_basis_points(200),
        until: day(10),
    });
    items
}

pub(super) fn index() -> MatchIndex {
    MatchIndex::build(&book(), &payers()).expect("distinct keys")
}

pub(super) fn pay(minor: i64, text: &[&str], name: &str, account: Option<&str>) -> Payment {
    Payment {
        amount: eur(minor),
        value_date: day(15),
        counterparty_name: name.into(),
        counterparty_account: account.map(Into::into),
        remittance: text.iter().map(|t| t.to_string()).collect(),
        structured_refs: Vec::new(),
        end_to_end_id: None,
    }
}

fn applied(p: &Proposal) -> &Candidate {
    p.applied()
        .unwrap_or_else(|| panic!("expected an automatic application, got {:?}", p.decision))
}

fn keys(s: &Settlement) -> Vec<u64> {
    s.allocations.iter().map(|a| a.item.0).collect()
}

fn reason(p: &Proposal) -> &ExceptionReason {
    match &p.decision {
        Decision::Exception(r) => r,
        Decision::AutoApply => panic!("expected an exception, got {:?}", p.candidates[0]),
    }
}

#[test]
fn an_rf_reference_with_the_exact_amount_is_applied_one_to_one() {
    let ix = index();
    let mut p = pay(119_000, &[], "Someone Else", None);
    p.structured_refs = vec![rf_reference(&number(42)).expect("an RF")];
    let proposal = propose(&ix, &p, &Policy::default());
    let c = applied(&proposal);
    assert_eq!((c.customer, keys(&c.settlement)), (BRANDT, vec![42]));
    assert_eq!(c.settlement.kind, SettlementKind::Exact);
    assert!(c.evidence.contains(&Evidence::Reference {
        kind: RefKind::Rf,
        items: 1
    }));
}

#[test]
fn invoice_numbers_are_found_however_they_are_written() {
    let ix = index();
    let written: &[&[&str]] = &[
        &["INV-2026-000042"],
        &["inv2026000042"],
        &["Zahlung inv 2026 42"],
        &["Rechnung Nr. 2026-000042"],
        &["Invoice no. 42/2026"],
        &["INV-2O26-OOOO42"],
        &["INV - 2026 - 000042"],
        &["rf", "Payment INV-2026-0", "00042 thanks"],
        &["RF18 INV2 0260 0004 2"],
        &["ord_01jd0000000000000000000042"],
    ];
    for text in written {
        let text: Vec<&str> = text.iter().copied().filter(|t| *t != "rf").collect();
        let proposal = propose(
            &ix,
            &pay(119_000, &text, "Nordwind", None),
            &Policy::default(),
        );
        let c = applied(&proposal);
        assert_eq!(
            (c.customer, keys(&c.settlement)),
            (BRANDT, vec![42]),
            "{text:?}"
        );
    }
}

#[test]
fn a_reference_with_valid_check_digits_counts_even_when_typed_in_lower_case_with_spaces() {
    let ix = index();
    let rf = crate::reference::grouped(&rf_reference(&number(43)).expect("an RF")).to_lowercase();
    let proposal = propose(&ix, &pay(25_000, &[&rf], "x", None), &Policy::default());
    assert_eq!(keys(&applied(&proposal).settlement), vec![43]);
}

#[test]
fn one_payment_for_several_invoices_pays_each_in_full() {
    let ix = index();
    let text = ["INV-2026-000042, INV-2026-000043 and 44"];
    let proposal = propose(
        &ix,
        &pay(153_990, &text, "Brandt", None),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(keys(&c.settlement), vec![42, 43, 44]);
    assert_eq!(c.settlement.kind, SettlementKind::Exact);
}

#[test]
fn several_payments_for_one_invoice_apply_as_partials_until_it_is_settled() {
    let mut ix = index();
    let policy = Policy::default();
    let first = propose(
        &ix,
        &pay(
            50_000,
            &["INV-2026-000042"],
            "Brandt Logistik",
            Some(BRANDT_IBAN),
        ),
        &policy,
    );
    let c = applied(&first);
    assert_eq!(c.settlement.kind, SettlementKind::Partial);
    ix.record(&c.settlement).expect("within the open amount");
    assert_eq!(ix.open_amount(ItemKey(42)), Some(eur(69_000)));
    let rest = propose(
        &ix,
        &pay(
            69_000,
            &["INV-2026-000042 Rest"],
            "Brandt Logistik",
            Some(BRANDT_IBAN),
        ),
        &policy,
    );
    let c = applied(&rest);
    assert_eq!(
        (c.settlement.kind, keys(&c.settlement)),
        (SettlementKind::Exact, vec![42])
    );
    ix.record(&c.settlement).expect("the rest");
    assert_eq!(ix.open_amount(ItemKey(42)), Some(eur(0)));
}

#[test]
fn a_small_shortfall_is_written_off_to_the_named_account() {
    let ix = index();
    let policy = Policy {
        write_off_account: "6890".into(),
        ..Policy::default()
    };
    let proposal = propose(&ix, &pay(118_250, &["INV-2026-000042"], "x", None), &policy);
    let c = applied(&proposal);
    assert_eq!(c.settlement.kind, SettlementKind::WrittenOff);
    let w = c.settlement.write_off.as_ref().expect("a write-off");
    assert_eq!(
        (w.item, w.amount, w.account.as_str()),
        (ItemKey(42), eur(750), "6890")
    );
}

#[test]
fn a_larger_shortfall_becomes_a_deduction_to_dispute() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(107_100, &["INV-2026-000042"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(c.settlement.kind, SettlementKind::Deduction);
    assert_eq!(
        c.settlement.deductions,
        vec![Allocation {
            item: ItemKey(42),
            amount: eur(11_900)
        }]
    );
}

#[test]
fn a_plain_partial_payment_leaves_the_rest_open() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(40_000, &["INV-2026-000042"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(c.settlement.kind, SettlementKind::Partial);
    assert!(c.settlement.deductions.is_empty() && c.settlement.write_off.is_none());
    assert_eq!(
        c.settlement.allocations,
        vec![Allocation {
            item: ItemKey(42),
            amount: eur(40_000)
        }]
    );
}

#[test]
fn an_overpayment_is_credited_to_the_customer_and_a_large_one_is_not_applied() {
    let ix = index();
    let policy = Policy::default();
    let small = propose(
        &ix,
        &pay(119_500, &["INV-2026-000042"], "Brandt", Some(BRANDT_IBAN)),
        &policy,
    );
    let c = applied(&small);
    assert_eq!(
        (c.settlement.kind, c.settlement.on_account),
        (SettlementKind::Overpayment, Some(eur(500)))
    );
    let large = propose(
        &ix,
        &pay(300_000, &["INV-2026-000042"], "Brandt", Some(BRANDT_IBAN)),
        &policy,
    );
    assert!(large.applied().is_none(), "{:?}", large.candidates.first());
}

#[test]
fn the_early_payment_discount_is_granted_within_its_window_and_not_after() {
    let ix = index();
    let policy = Policy::default();
    let mut early = pay(196_000, &["INV-2026-000048"], "Acme", None);
    early.value_date = day(12);
    let c = applied(&propose(&ix, &early, &policy)).clone();
    assert_eq!(c.settlement.kind, SettlementKind::Discount);
    assert_eq!(
        c.settlement.discounts,
        vec![Allocation {
            item: ItemKey(48),
            amount: eur(4_000)
        }]
    );
    let mut late = early.clone();
    late.value_date = day(20);
    let p = propose(&ix, &late, &policy);
    let best = &p.candidates[0];
    assert_ne!(best.settlement.kind, SettlementKind::Discount);
    assert!(best.settlement.discounts.is_empty());
}

#[test]
fn an_amount_alone_among_many_customers_is_not_enough() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(77_777, &["Zahlung"], "Unknown Payer", None),
        &Policy::default(),
    );
    assert!(proposal.applied().is_none());
}

#[test]
fn an_amount_and_the_known_account_of_that_customer_is_enough() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(
            25_000,
            &["Zahlung"],
            "B. L.",
            Some("de89370400440532013000"),
        ),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!((c.customer, keys(&c.settlement)), (BRANDT, vec![43]));
    assert!(c.evidence.contains(&Evidence::AccountKnown));
}

#[test]
fn a_name_alone_never_applies_cash() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(12_345, &["Zahlung"], "Brandt Logistik GmbH", None),
        &Policy::default(),
    );
    assert!(proposal.applied().is_none());
}

#[test]
fn two_equally_good_candidates_go_to_the_queue_with_both_suggested() {
    let mut items = book();
    items.push(invoice(49, BRANDT, 25_000, 28));
    let ix = MatchIndex::build(&items, &payers()).expect("distinct keys");
    let proposal = propose(
        &ix,
        &pay(25_000, &["Zahlung"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    assert!(matches!(
        reason(&proposal),
        ExceptionReason::Ambiguous { .. }
    ));
    let suggested: Vec<u64> = proposal
        .candidates
        .iter()
        .take(2)
        .flat_map(|c| keys(&c.settlement))
        .collect();
    assert!(
        suggested.contains(&43) && suggested.contains(&49),
        "{suggested:?}"
    );
}

#[test]
fn a_reference_to_a_settled_invoice_goes_to_the_queue() {
    let mut ix = index();
    let policy = Policy::default();
    let first = propose(
        &ix,
        &pay(9_990, &["INV-2026-000044"], "Brandt", Some(BRANDT_IBAN)),
        &policy,
    );
    ix.record(&applied(&first).settlement).expect("booked");
    let again = propose(
        &ix,
        &pay(9_990, &["INV-2026-000044"], "Brandt", Some(BRANDT_IBAN)),
        &policy,
    );
    assert_eq!(reason(&again), &ExceptionReason::ReferencedItemsSettled);
}

#[test]
fn a_valid_rf_reference_that_is_not_ours_is_the_reason() {
    let ix = index();
    let mut p = pay(1_000, &[], "x", None);
    p.structured_refs = vec!["RF18 5390 0754 7034".into()];
    assert_eq!(
        reason(&propose(&ix, &p, &Policy::default())),
        &ExceptionReason::UnknownRfReference
    );
}

#[test]
fn a_purchase_order_number_finds_its_invoice_with_or_without_its_prefix() {
    let ix = index();
    for text in ["PO-4711", "PO 4711", "Ihre Bestellung 4711"] {
        let proposal = propose(
            &ix,
            &pay(500_000, &[text], "Acme Industrial Supplies", None),
            &Policy::default(),
        );
        let c = applied(&proposal);
        assert_eq!(
            (c.customer, keys(&c.settlement)),
            (ACME, vec![47]),
            "{text}"
        );
    }
}

#[test]
fn a_combination_of_open_items_is_found_for_a_known_payer() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(34_990, &["Sammelzahlung"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(keys(&c.settlement), vec![43, 44]);
    assert!(
        c.evidence
            .iter()
            .any(|e| matches!(e, Evidence::AmountSubset { items: 2, .. }))
    );
}

#[test]
fn a_remittance_cut_short_is_completed_by_the_item_it_left_out() {
    let ix = index();
    let proposal = propose(
        &ix,
        &pay(144_000, &["INV-2026-000042"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(keys(&c.settlement), vec![42, 43]);
    assert!(
        c.evidence
            .iter()
            .any(|e| matches!(e, Evidence::AmountFill { items: 1, .. }))
    );
}

#[test]
fn a_mistyped_invoice_number_is_recovered_when_payer_and_amount_agree() {
    let ix = index();
    // 000043 typed as 000034: no such invoice, but Brandt owes 43 exactly this.
    let proposal = propose(
        &ix,
        &pay(25_000, &["INV-2026-000034"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(keys(&c.settlement), vec![43]);
    assert!(c.evidence.contains(&Evidence::Reference {
        kind: RefKind::InvoiceNumberNear,
        items: 1
    }));
}

#[test]
fn a_mistyped_number_naming_another_customers_invoice_does_not_take_its_cash() {
    let ix = index();
    // 46 is Nordwind's; the amount is Brandt's 43 and the account is Brandt's.
    let proposal = propose(
        &ix,
        &pay(25_000, &["INV-2026-000046"], "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!((c.customer, keys(&c.settlement)), (BRANDT, vec![43]));
}

#[test]
fn an_account_learned_from_a_confirmed_match_identifies_the_payer_next_time() {
    let mut ix = index();
    let policy = Policy::default();
    let p = pay(
        77_777,
        &["Zahlung"],
        "NW Trading",
        Some("GB29 NWBK 6016 1331 9268 19"),
    );
    assert!(propose(&ix, &p, &policy).applied().is_none());
    assert!(ix.learn_account("GB29NWBK60161331926819", NORDWIND));
    let c = applied(&propose(&ix, &p, &policy)).clone();
    assert_eq!((c.customer, keys(&c.settlement)), (NORDWIND, vec![46]));
}

#[test]
fn a_credit_note_named_with_the_invoices_is_netted() {
    let mut items = book();
    let mut credit = invoice(50, BRANDT, -5_000, 20);
    credit.number = "CRN-2026-000050".into();
    items.push(credit);
    let ix = MatchIndex::build(&items, &payers()).expect("distinct keys");
    let text = ["INV-2026-000042 less CRN-2026-000050"];
    let proposal = propose(
        &ix,
        &pay(114_000, &text, "Brandt", Some(BRANDT_IBAN)),
        &Policy::default(),
    );
    let c = applied(&proposal);
    assert_eq!(c.settlement.kind, SettlementKind::Exact);
    assert!(c.settlement.allocations.contains(&Allocation {
        item: ItemKey(50),
        amount: eur(-5_000)
    }));
}

#[test]
fn record_refuses_more_than_an_item_owes_and_changes_nothing() {
    let mut ix = index();
    let too_much = Settlement {
        kind: SettlementKind::Exact,
        allocations: vec![
            Allocation {
                item: ItemKey(43),
                amount: eur(25_000),
            },
            Allocation {
                item: ItemKey(44),
                amount: eur(10_000),
            },
        ],
        discounts: Vec::new(),
        write_off: None,
        deductions: Vec::new(),
        on_account: None,
    };
    assert!(matches!(
        ix.record(&too_much),
        Err(MatchError::ExceedsOpenAmount { .. })
    ));
    assert_eq!(ix.open_amount(ItemKey(43)), Some(eur(25_000)));
}

#[test]
fn returns_and_other_currencies_are_not_applied() {
    let ix = index();
    let policy = Policy::default();
    assert_eq!(
        reason(&propose(
            &ix,
            &pay(-100, &["INV-2026-000042"], "x", None),
            &policy
        )),
        &ExceptionReason::NotAReceipt
    );
    let mut usd = pay(119_000, &["INV-2026-000042"], "x", None);
    usd.amount = Money::new(119_000, Currency::USD);
    assert_eq!(
        reason(&propose(&ix, &usd, &policy)),
        &ExceptionReason::CurrencyDiffers
    );
}

#[test]
fn duplicate_item_keys_are_refused() {
    let mut items = book();
    items.push(invoice(42, ACME, 1, 20));
    assert!(matches!(
        MatchIndex::build(&items, &payers()),
        Err(MatchError::DuplicateItem(ItemKey(42)))
    ));
}

#[test]
fn an_invoice_issued_later_is_found_like_the_others() {
    let mut ix = index();
    ix.insert(&invoice(60, NORDWIND, 31_415, 29))
        .expect("a new key");
    let proposal = propose(
        &ix,
        &pay(31_415, &["INV-2026-000060"], "Nordwind", None),
        &Policy::default(),
    );
    assert_eq!(keys(&applied(&proposal).settlement), vec![60]);
}

#[test]
fn reasons_read_as_sentences() {
    let r = ExceptionReason::Ambiguous {
        best: 900,
        runner_up: 850,
        required_margin: 150,
    };
    assert_eq!(
        r.to_string(),
        "ambiguous: best candidate scores 900 and the next 850, closer than the 150 needed"
    );
}
