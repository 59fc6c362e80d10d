//! The 855, 856 and 810 writers: each output is compared byte for byte with a fixture, read
//! back by the crate's own X12 reader without a warning (envelope counts and control numbers
//! right), and what cannot be written is refused with the element that is at fault.

use chrono::{NaiveDate, NaiveTime};
use o2c_core::money::{Currency, Money, Percent};
use o2c_edi::order::{Address, Decimal, ItemId, Party, PartyId, PurchaseOrder, Reference};
use o2c_edi::x12::ack855::{LineDecision, OrderAcknowledgment, write_855};
use o2c_edi::x12::asn856::{
    Pack, ShipNotice, ShippedItem, ShippedOrder, Weight, WeightUnit, write_856,
};
use o2c_edi::x12::inv810::{
    AllowanceCharge, AllowanceOrCharge, EarlyPaymentDiscount, Invoice, InvoiceLine, InvoiceTax,
    PaymentTerms, write_810,
};
use o2c_edi::x12::write::{Envelope, Version, WriteError};
use o2c_edi::x12::{Delimiters, Interchange, Usage};
use o2c_edi::{read_850s, read_interchange};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn n(s: &str) -> Decimal {
    Decimal::parse(s).expect("a number")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn envelope() -> Envelope {
    Envelope {
        sender_qualifier: "ZZ".into(),
        sender_id: "O2CSUPPLIER".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "ACMERETAIL".into(),
        application_sender: "O2CSUPPLIER".into(),
        application_receiver: "ACMERETAIL".into(),
        date: day(2026, 11, 28),
        time: NaiveTime::from_hms_opt(16, 45, 0).expect("a time"),
        interchange_control: 501,
        group_control: 501,
        acknowledgment_requested: false,
        usage: Usage::Production,
        version: Version::V004010,
        delimiters: Delimiters {
            element: '*',
            component: '>',
            repetition: None,
            segment: '~',
        },
        line_break_after_segment: true,
    }
}

/// The first order of the mixed 850 fixture, which the documents below answer.
fn order() -> PurchaseOrder {
    let text = fixture("850-004010-mixed-interchange.x12");
    let interchange = read_interchange(text.as_bytes()).expect("reads");
    read_850s(&interchange)
        .remove(0)
        .expect("the first 850 reads")
}

/// Reads `text` back: one group of `functional_id` with one transaction set `set_id` 0001,
/// control numbers as given, no warning.
fn read_back(text: &str, functional_id: &str, set_id: &str) -> Interchange {
    let interchange = read_interchange(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(
        interchange.warnings.is_empty(),
        "{:?}",
        interchange.warnings
    );
    assert_eq!(interchange.control_number, "000000501");
    assert_eq!(interchange.groups.len(), 1);
    let group = &interchange.groups[0];
    assert_eq!(
        (group.functional_id.as_str(), group.control_number.as_str()),
        (functional_id, "501")
    );
    let sets: Vec<(&str, &str)> = group
        .transactions
        .iter()
        .map(|t| (t.set_id.as_str(), t.control_number.as_str()))
        .collect();
    assert_eq!(sets, [(set_id, "0001")]);
    interchange
}

fn assert_fixture(name: &str, written: &str) {
    let expected = fixture(name);
    assert!(written == expected, "{name} differs; written:\n{written}");
}

fn acknowledgment() -> OrderAcknowledgment {
    OrderAcknowledgment::for_order(
        &order(),
        day(2026, 11, 21),
        Some("SO-9001".into()),
        |line| match line.line_no.as_str() {
            "1" => LineDecision::Accepted {
                ship_on: Some(day(2026, 11, 28)),
            },
            _ => LineDecision::QuantityChanged {
                quantity: n("1"),
                ship_on: Some(day(2026, 12, 3)),
            },
        },
    )
}

#[test]
fn an_855_echoes_each_po1_and_reads_back_without_warnings() {
    let ack = acknowledgment();
    assert_eq!(ack.acknowledgment_type(), "AC", "a changed quantity");
    let written = write_855(&envelope(), 1, &ack).expect("writes");
    assert_fixture("855-004010-expected.x12", &written);

    let interchange = read_back(&written, "PR", "855");
    let segments = &interchange.groups[0].transactions[0].segments;
    let po1s = |segments: &[o2c_edi::x12::Segment]| -> Vec<Vec<String>> {
        segments
            .iter()
            .filter(|s| s.id == "PO1")
            .map(|s| s.elements.iter().map(|e| e.value().to_string()).collect())
            .collect()
    };
    let text = fixture("850-004010-mixed-interchange.x12");
    let original = read_interchange(text.as_bytes()).expect("reads");
    let ordered = po1s(&original.groups[0].transactions[0].segments);
    assert_eq!(po1s(segments), ordered, "each PO1 as the buyer sent it");
    let acks: Vec<Option<&str>> = segments
        .iter()
        .filter(|s| s.id == "ACK")
        .map(|s| s.text(1))
        .collect();
    assert_eq!(acks, [Some("IA"), Some("IQ")]);
}

#[test]
fn the_acknowledgment_type_follows_from_the_lines() {
    let decide = |decision: LineDecision| {
        OrderAcknowledgment::for_order(&order(), day(2026, 11, 21), None, move |_| decision.clone())
    };
    assert_eq!(
        decide(LineDecision::Accepted { ship_on: None }).acknowledgment_type(),
        "AD"
    );
    assert_eq!(decide(LineDecision::Rejected).acknowledgment_type(), "RD");
    assert_eq!(
        decide(LineDecision::Backordered { ship_on: None }).acknowledgment_type(),
        "AC"
    );
}

fn party(role: &str, name: &str, id: &str, lines: &[&str], city: &str, postal: &str) -> Party {
    Party {
        role: role.into(),
        name: Some(name.into()),
        additional_names: Vec::new(),
        id: Some(PartyId {
            qualifier: "92".into(),
            value: id.into(),
        }),
        address: Address {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            city: Some(city.into()),
            region: Some("NJ".into()),
            postal_code: Some(postal.into()),
            country: Some("US".into()),
        },
        references: Vec::new(),
        contacts: Vec::new(),
    }
}

fn ids(pairs: &[(&str, &str)]) -> Vec<ItemId> {
    pairs
        .iter()
        .map(|(q, v)| ItemId {
            qualifier: q.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn ship_notice() -> ShipNotice {
    let order = order();
    ShipNotice {
        shipment_id: "SHP-3001".into(),
        created_on: day(2026, 11, 28),
        created_at: NaiveTime::from_hms_opt(16, 45, 0).expect("a time"),
        shipped_on: day(2026, 11, 28),
        estimated_delivery: Some(day(2026, 12, 1)),
        packaging_code: Some("CTN25".into()),
        gross_weight: Some(Weight {
            value: n("31.5"),
            unit: WeightUnit::Pounds,
        }),
        carrier_scac: Some("UPSN".into()),
        transport_method: Some("U".into()),
        bill_of_lading: Some("BOL-77".into()),
        tracking_number: Some("1Z999AA10123456784".into()),
        ship_from: Some(party(
            "SF",
            "O2C SUPPLY CO",
            "V-778",
            &["1 MILL STREET"],
            "TRENTON",
            "08608",
        )),
        ship_to: order.ship_to.clone().expect("the order's ship-to"),
        orders: vec![ShippedOrder {
            po_number: order.po_number.clone(),
            po_date: order.po_date,
            packs: vec![
                Pack {
                    sscc: Some("000123456000000012".into()),
                    tracking_number: Some("1Z999AA10123456784".into()),
                    weight: Some(Weight {
                        value: n("20.5"),
                        unit: WeightUnit::Pounds,
                    }),
                    items: vec![ShippedItem {
                        line_no: "1".into(),
                        item_ids: ids(&[
                            ("BP", "B-100"),
                            ("VP", "WIDGET-1"),
                            ("UP", "036000291452"),
                        ]),
                        quantity: n("24"),
                        unit_of_measure: "EA".into(),
                        ordered_quantity: Some(n("24")),
                    }],
                },
                Pack {
                    sscc: Some("000123456000000029".into()),
                    tracking_number: None,
                    weight: Some(Weight {
                        value: n("11"),
                        unit: WeightUnit::Pounds,
                    }),
                    items: vec![ShippedItem {
                        line_no: "2".into(),
                        item_ids: ids(&[("BP", "B-200"), ("VP", "GADGET-CASE")]),
                        quantity: n("1"),
                        unit_of_measure: "CA".into(),
                        ordered_quantity: Some(n("2")),
                    }],
                },
            ],
        }],
    }
}

#[test]
fn an_856_nests_shipment_order_packs_and_items_and_reads_back_without_warnings() {
    let written = write_856(&envelope(), 1, &ship_notice()).expect("writes");
    assert_fixture("856-004010-expected.x12", &written);
    let interchange = read_back(&written, "SH", "856");
    let segments = &interchange.groups[0].transactions[0].segments;
    let hl: Vec<(&str, &str, &str)> = segments
        .iter()
        .filter(|s| s.id == "HL")
        .map(|s| {
            (
                s.text(1).unwrap_or(""),
                s.text(2).unwrap_or(""),
                s.text(3).unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        hl,
        [
            ("1", "", "S"),
            ("2", "1", "O"),
            ("3", "2", "P"),
            ("4", "3", "I"),
            ("5", "2", "P"),
            ("6", "5", "I")
        ]
    );
    let ctt = segments.iter().find(|s| s.id == "CTT").expect("CTT");
    assert_eq!(
        (ctt.text(1), ctt.text(2)),
        (Some("6"), Some("25")),
        "HL count, units shipped"
    );
}

fn invoice() -> Invoice {
    let order = order();
    Invoice {
        invoice_number: "INV-7001".into(),
        invoice_date: day(2026, 11, 28),
        po_number: Some(order.po_number.clone()),
        po_date: order.po_date,
        currency: Currency::USD,
        references: vec![Reference {
            qualifier: "IA".into(),
            value: "778".into(),
            description: None,
        }],
        parties: vec![
            order.bill_to.clone().expect("bill-to"),
            party(
                "RI",
                "O2C SUPPLY CO",
                "V-778",
                &["PO BOX 44"],
                "TRENTON",
                "08650",
            ),
        ],
        terms: Some(PaymentTerms {
            net_days: 30,
            discount: Some(EarlyPaymentDiscount {
                percent: Percent::from_basis_points(200),
                days: 10,
            }),
            description: Some("2% 10 NET 30".into()),
        }),
        shipped_on: Some(day(2026, 11, 28)),
        lines: vec![
            InvoiceLine {
                line_no: "1".into(),
                quantity: n("24"),
                unit_of_measure: "EA".into(),
                unit_price: n("0.0325"),
                item_ids: ids(&[("BP", "B-100"), ("VP", "WIDGET-1")]),
                description: Some("WIDGET, SMALL".into()),
            },
            InvoiceLine {
                line_no: "2".into(),
                quantity: n("1"),
                unit_of_measure: "CA".into(),
                unit_price: n("45"),
                item_ids: ids(&[("BP", "B-200")]),
                description: Some("GADGET, CASE OF 12".into()),
            },
        ],
        charges: vec![
            AllowanceCharge {
                kind: AllowanceOrCharge::Charge,
                code: "D240".into(),
                amount: usd(1250),
                description: Some("FREIGHT".into()),
            },
            AllowanceCharge {
                kind: AllowanceOrCharge::Allowance,
                code: "C310".into(),
                amount: usd(100),
                description: None,
            },
        ],
        // 6.25 % of 45.78 is 2.86125: o2c's invoice rounded it to 2.86.
        taxes: vec![InvoiceTax {
            tax_type: "ST".into(),
            amount: usd(286),
            percent: Some(Percent::from_basis_points(625)),
        }],
        total: usd(6014),
    }
}

#[test]
fn an_810_totals_its_lines_charges_and_taxes_and_reads_back_without_warnings() {
    let written = write_810(&envelope(), 1, &invoice()).expect("writes");
    assert_fixture("810-004010-expected.x12", &written);
    let interchange = read_back(&written, "IN", "810");
    let segments = &interchange.groups[0].transactions[0].segments;
    let tds = segments.iter().find(|s| s.id == "TDS").expect("TDS");
    assert_eq!(tds.text(1), Some("6014"), "N2: two implied decimals");
}

#[test]
fn a_005010_interchange_with_other_delimiters_reads_back_with_them() {
    let mut envelope = envelope();
    envelope.version = Version::V005010;
    envelope.delimiters = Delimiters {
        element: '|',
        component: '}',
        repetition: Some('^'),
        segment: '!',
    };
    envelope.line_break_after_segment = false;
    let written = write_810(&envelope, 1, &invoice()).expect("writes");
    assert!(!written.contains('\n'));
    let interchange = read_back(&written, "IN", "810");
    assert_eq!(interchange.delimiters, envelope.delimiters);
    assert_eq!(
        (
            interchange.version.as_str(),
            interchange.groups[0].version.as_str()
        ),
        ("00501", "005010")
    );
}

#[test]
fn what_cannot_be_written_is_refused_naming_the_element() {
    let refused = |invoice: &Invoice, envelope: &Envelope| {
        write_810(envelope, 1, invoice).unwrap_err().to_string()
    };
    let mut bad = invoice();
    bad.parties[1].name = Some("O2C*SUPPLY".into());
    assert_eq!(
        refused(&bad, &envelope()),
        "N102 `O2C*SUPPLY` contains `*`, the element separator"
    );
    let mut bad = invoice();
    bad.total = usd(6015);
    assert_eq!(
        refused(&bad, &envelope()),
        "TDS01 60.15 USD is not what the invoice adds up to: lines 45.78 USD, charges less \
         allowances 11.50 USD, taxes 2.86 USD, together 60.14 USD"
    );
    let mut bad = invoice();
    bad.taxes[0].amount = Money::new(286, Currency::EUR);
    assert_eq!(
        refused(&bad, &envelope()),
        "TXI ST is in EUR, but the document is in USD"
    );
    let mut long = envelope();
    long.sender_id = "O2C SUPPLY COMPANY".into();
    assert_eq!(
        refused(&invoice(), &long),
        "ISA06 `O2C SUPPLY COMPANY` is longer than the 15 characters it may have"
    );
    let mut large = envelope();
    large.interchange_control = 1_000_000_000;
    assert_eq!(
        refused(&invoice(), &large),
        "ISA13 control number 1000000000 has more than 9 digits"
    );
    let mut clash = envelope();
    clash.delimiters.component = '*';
    assert_eq!(
        refused(&invoice(), &clash),
        "the delimiters cannot be used: two delimiters are the same character"
    );
    let mut repeated = envelope();
    repeated.delimiters.repetition = Some('^');
    assert_eq!(
        refused(&invoice(), &repeated),
        "the delimiters cannot be used: 004010 has no repetition separator (ISA11 is `U`)"
    );

    let mut notice = ship_notice();
    notice.orders[0].packs[1].items.clear();
    let err = write_856(&envelope(), 1, &notice).unwrap_err();
    assert_eq!(
        err,
        WriteError::EmptyHierarchyLevel {
            parent: "pack 2 of order PO-5001".into(),
            level: "items"
        }
    );

    let mut ack = acknowledgment();
    ack.lines[1].unit_of_measure = None;
    assert_eq!(
        write_855(&envelope(), 1, &ack).unwrap_err().to_string(),
        "PO103 (unit of measure) of line 2 is required but empty"
    );
}
