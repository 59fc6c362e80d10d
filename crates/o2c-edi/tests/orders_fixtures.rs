//! The 850 and ORDERS readers against hand-made fixtures: every part of the canonical order
//! filled, the character set, release character and decimal comma of EDIFACT, and each kind
//! of refusal naming its segment, line, byte and element.

use o2c_core::money::{Currency, Money};
use o2c_edi::edifact;
use o2c_edi::order::{Channel, Decimal, PurchaseOrder, Purpose};
use o2c_edi::{EdiError, read_850s, read_interchange};

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(name: &str) -> String {
    String::from_utf8(fixture_bytes(name)).expect("UTF-8")
}

fn date(order_date: Option<chrono::NaiveDate>) -> String {
    order_date.map(|d| d.to_string()).unwrap_or_default()
}

fn x12_orders(text: &str) -> Vec<Result<PurchaseOrder, EdiError>> {
    read_850s(&read_interchange(text.as_bytes()).expect("the envelope reads"))
}

fn first_x12_order(text: &str) -> Result<PurchaseOrder, EdiError> {
    x12_orders(text).remove(0)
}

#[test]
fn a_mixed_interchange_gives_each_850_its_own_result_and_refuses_the_invoice() {
    let results = x12_orders(&fixture("850-004010-mixed-interchange.x12"));
    assert_eq!(results.len(), 4);
    let mut results = results.into_iter();

    let order = results.next().unwrap().expect("the first 850 reads");
    assert_eq!(order.channel, Channel::X12);
    assert!(order.test, "ISA15 is T");
    assert_eq!(
        (
            order.interchange_control.as_str(),
            order.message_control.as_str()
        ),
        ("000000404", "0001")
    );
    assert_eq!(
        (order.po_number.as_str(), date(order.po_date).as_str()),
        ("PO-5001", "2026-11-20")
    );
    assert_eq!(order.currency, Some(Currency::USD));
    assert_eq!(date(order.requested_delivery), "2026-12-01");
    let buyer = order.buyer.as_ref().expect("N1*BY");
    assert_eq!(
        (
            buyer.name.as_deref(),
            buyer.id.as_ref().map(|i| i.value.as_str())
        ),
        (Some("ACME RETAIL INC"), Some("C-1001"))
    );
    let ship_to = order.ship_to.as_ref().expect("N1*ST");
    assert_eq!(ship_to.address.country.as_deref(), Some("US"));
    assert_eq!(
        order
            .bill_to
            .as_ref()
            .and_then(|p| p.address.postal_code.as_deref()),
        Some("07101")
    );
    let channels: Vec<(&str, &str)> = order.contacts[0]
        .channels
        .iter()
        .map(|c| (c.qualifier.as_str(), c.number.as_str()))
        .collect();
    assert_eq!(channels, [("TE", "5551234567"), ("EM", "pat@acme.example")]);
    assert_eq!(order.references[0].value, "042");

    let widget = &order.lines[0];
    assert_eq!(
        (widget.buyer_item.as_deref(), widget.vendor_item.as_deref()),
        (Some("B-100"), Some("WIDGET-1"))
    );
    assert_eq!(widget.gtin.as_deref(), Some("036000291452"));
    let price = widget.unit_price.as_ref().expect("PO104");
    assert_eq!(
        (price.amount.to_string().as_str(), price.basis.as_deref()),
        ("0.0325", Some("PE"))
    );
    assert!(
        price.to_money(Currency::USD).is_err(),
        "four decimals are not USD money"
    );
    let extended = widget
        .quantity
        .checked_mul(price.amount)
        .unwrap()
        .round_to_minor(Currency::USD);
    assert_eq!(extended, Ok(Money::new(78, Currency::USD)));
    let case = &order.lines[1];
    assert_eq!(date(case.requested_delivery), "2026-12-05");
    assert_eq!(
        case.parties[0].id.as_ref().map(|i| i.value.as_str()),
        Some("ST-12")
    );
    assert_eq!(order.stated_total, Decimal::parse("90.78"));
    assert!(order.warnings.is_empty(), "{:?}", order.warnings);

    let err = results.next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "segment 27 (PO1, line 27, byte 751), element PO102: malformed quantity `1O`: expected a \
         decimal number"
    );

    let cancellation = results
        .next()
        .unwrap()
        .expect("a cancellation needs no lines");
    assert_eq!(
        (cancellation.purpose, cancellation.po_number.as_str()),
        (Purpose::Cancellation, "PO-4999")
    );
    assert!(cancellation.lines.is_empty());

    let err = results.next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction set 810 is an invoice, not a purchase order (850)"
    );
}

#[test]
fn the_minimal_850_reads_without_warnings() {
    let order = first_x12_order(&fixture("850-004010-purchase-order.x12")).unwrap();
    assert_eq!(order.po_number, "PO-4711");
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].quantity, Decimal::from_integer(10));
    assert_eq!(order.lines[0].vendor_item.as_deref(), Some("WIDGET-1"));
    assert!(order.warnings.is_empty(), "{:?}", order.warnings);
}

#[test]
fn a_broken_850_is_refused_naming_its_segment_and_element() {
    let text = fixture("850-004010-purchase-order.x12");
    let refused = |from: &str, to: &str| {
        first_x12_order(&text.replace(from, to))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused("*12.5**", "*12,5**"),
        "segment 5 (PO1, line 5, byte 206), element PO104: malformed amount `12,5`: expected a \
         decimal number"
    );
    assert_eq!(
        refused("**20261120~", "**20261131~"),
        "segment 4 (BEG, line 4, byte 177), element BEG05: malformed date `20261131`: expected a \
         date CCYYMMDD"
    );
    assert_eq!(
        refused("BEG*00*SA*PO-4711**20261120~", "REF*DP*1~"),
        "transaction set 850 `0001` has no BEG segment"
    );
    assert_eq!(
        refused("PO1*1*10*EA*12.5**VP*WIDGET-1~", "PID*F****NOTHING~"),
        "transaction set 850 `0001` has no PO1 segment"
    );
    assert_eq!(
        refused("PO1*1*10*", "CUR*BY*XYZ~PO1*1*10*"),
        "segment 5 (CUR, line 5, byte 206), element CUR02: unknown currency `XYZ`: expected an ISO \
         4217 code such as USD"
    );
}

fn eancom() -> Vec<u8> {
    fixture_bytes("orders-d96a-eancom.edi")
}

fn read_orders(bytes: &[u8]) -> Result<PurchaseOrder, EdiError> {
    let interchange = edifact::read_interchange(bytes)?;
    edifact::read_all_orders(&interchange).remove(0)
}

/// The EANCOM fixture with one piece of text replaced (the fixture is ISO 8859-1, the
/// replacements ASCII).
fn eancom_with(from: &str, to: &str) -> Vec<u8> {
    let text: String = eancom().iter().map(|&b| char::from(b)).collect();
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1"))
        .collect()
}

#[test]
fn an_eancom_orders_fills_the_canonical_order() {
    let order = read_orders(&eancom()).expect("reads");
    assert_eq!(order.channel, Channel::Edifact);
    assert!(order.test, "UNB 0035 is 1");
    assert_eq!(
        (order.sender_id.as_str(), order.sender_qualifier.as_deref()),
        ("4012345000009", Some("14"))
    );
    assert_eq!(
        (
            order.interchange_control.as_str(),
            order.message_control.as_str()
        ),
        ("ORD0001", "M1")
    );
    assert_eq!(
        order.po_number, "PO-77+1",
        "the release character makes `+` data"
    );
    assert_eq!(
        (order.purpose.clone(), date(order.po_date)),
        (Purpose::Original, "2026-11-20".into())
    );
    assert_eq!(date(order.requested_delivery), "2026-11-27", "format 203");
    assert_eq!(order.notes, ["Bitte an Rampe 3 liefern: Danke"]);
    assert_eq!(order.references[0].qualifier, "CT");
    assert_eq!(order.currency, Some(Currency::EUR));

    let buyer = order.buyer.as_ref().expect("NAD+BY");
    assert_eq!(
        buyer.name.as_deref(),
        Some("Müller Großhandel GmbH"),
        "UNOC is ISO 8859-1"
    );
    assert_eq!(
        (
            buyer.address.lines.as_slice(),
            buyer.address.city.as_deref()
        ),
        (&["Hauptstraße 5".to_string()][..], Some("Köln"))
    );
    assert_eq!(buyer.contacts[0].name.as_deref(), Some("Erika Mustermann"));
    let phone = &buyer.contacts[0].channels[0];
    assert_eq!(
        (phone.qualifier.as_str(), phone.number.as_str()),
        ("TE", "0221123456")
    );
    assert_eq!(order.ship_to.as_ref().map(|p| p.role.as_str()), Some("DP"));
    assert_eq!(order.bill_to.as_ref().map(|p| p.role.as_str()), Some("IV"));
    assert_eq!(order.other_parties[0].role, "SU");

    let bolts = &order.lines[0];
    assert_eq!(bolts.quantity.to_string(), "12.5", "decimal comma");
    assert_eq!(bolts.unit_of_measure.as_deref(), Some("KGM"));
    assert_eq!(bolts.gtin.as_deref(), Some("4000862141404"));
    assert_eq!(
        (bolts.vendor_item.as_deref(), bolts.buyer_item.as_deref()),
        (Some("ART-1001"), Some("B-77"))
    );
    assert_eq!(bolts.description.as_deref(), Some("Schrauben M6 verzinkt"));
    let price = bolts.unit_price.as_ref().expect("PRI+AAA");
    assert_eq!(
        price.to_money(Currency::USD),
        Ok(Money::new(380, Currency::EUR)),
        "its own currency wins"
    );
    assert_eq!(price.per_quantity, Some(Decimal::from_integer(1)));
    let nuts = &order.lines[1];
    assert_eq!(
        nuts.unit_price
            .as_ref()
            .map(|p| p.amount.to_string())
            .as_deref(),
        Some("0.1"),
        "AAA over AAB"
    );
    assert_eq!(order.stated_total, Decimal::parse("57.5"));
    assert!(order.warnings.is_empty(), "{:?}", order.warnings);
}

#[test]
fn envelope_defects_a_tolerant_partner_accepts_are_warnings() {
    let order = read_orders(&eancom_with("UNT+28+M1'", "UNT+27+M1'")).expect("reads");
    assert_eq!(
        order.warnings,
        [
            "segment 29 (UNT, line 30, byte 751): UNT 0074 says 27 segments in message `M1`, but \
             there are 28"
        ]
    );
    let order = read_orders(&eancom_with("UNZ+1+ORD0001'", "UNZ+2+ORD0002'")).expect("reads");
    assert_eq!(order.warnings.len(), 2, "{:?}", order.warnings);
    let order = read_orders(&eancom_with("CNT+2:2'", "CNT+2:3'")).expect("reads");
    assert_eq!(
        order.warnings,
        ["segment 28 (CNT, line 29, byte 741), CNT+2 says 3 line items, but there are 2"]
    );
}

#[test]
fn a_broken_orders_message_is_refused_naming_its_segment_element_and_component() {
    let refused =
        |from: &str, to: &str| read_orders(&eancom_with(from, to)).unwrap_err().to_string();
    assert_eq!(
        refused("QTY+21:12,5:KGM", "QTY+21:12x5:KGM"),
        "segment 18 (QTY, line 19, byte 562), element 1 component 2: `12x5` is not a number"
    );
    assert_eq!(
        refused("DTM+137:20261120:102", "DTM+137:20261131:102"),
        "segment 4 (DTM, line 5, byte 144), element 1 component 2: `20261131` is not a date \
         CCYYMMDD (format 102)"
    );
    assert_eq!(
        refused("CUX+2:EUR:9", "CUX+2:XEU:9"),
        "segment 14 (CUX, line 15, byte 459), element 1 component 2: `XEU` is not an ISO 4217 \
         currency code o2c knows"
    );
    assert_eq!(
        refused("QTY+21:100:PCE'", "QTY+59:100:PCE'"),
        "segment 21 (LIN, line 22, byte 623): the line has no ordered quantity (QTY+21 in its LIN \
         group)"
    );
    assert_eq!(
        refused("UNT+28+M1'", "UNT+28+M2'"),
        "segment 29 (UNT, line 30, byte 751): reference `M2` does not match UNH 0062 `M1`"
    );
    assert_eq!(
        refused("ORDERS:D:96A", "DESADV:D:96A"),
        "message type DESADV is a despatch advice, not a purchase order (ORDERS)"
    );
    assert_eq!(
        refused("UNT+28+M1'\r\nUNZ+1+ORD0001'", ""),
        "segment 2 (UNH, line 3, byte 91) is never closed by its UNT: the input ends first \
         (truncated?)"
    );
    assert_eq!(
        refused("UNZ+1+ORD0001'", "UNZ+1+ORD0001'UNH+2'"),
        "line 31, byte 777: content after UNZ, the end of the interchange"
    );
    assert_eq!(
        refused("UNA:+,? '", "UNA:+,:?'"),
        "UNA `UNA:+,:?'`: two service characters are the same, so they cannot be told apart"
    );
    assert_eq!(
        read_orders(b"ISA*00*").unwrap_err().to_string(),
        "the input does not start with a UNA or UNB segment (it starts with `ISA*00*`)"
    );
}
