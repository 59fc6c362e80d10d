//! Every purchase order among the third-party samples in `shared/data` is read with the facts
//! its EXPECTED-RESULTS.md and content state, or refused for its reason; every other document
//! there (X12 810/820/855/856/860, EDIFACT INVOIC, APERAK, PAORES) is refused by name, never
//! taken for an order.

use std::path::{Path, PathBuf};

use o2c_core::money::Currency;
use o2c_edi::edifact;
use o2c_edi::order::{Decimal, PurchaseOrder, Purpose};
use o2c_edi::{EdiError, read_850, read_850s, read_interchange};

const LINE_BREAK_TERMINATOR: &str =
    "ISA: nothing follows ISA16 on its line, so the line break is taken as the segment terminator";
const NARROW_ISA06: &str = "ISA is 105 characters long, not the fixed 106: ISA06 is 14 characters";
const NO_UNZ: &str = "the interchange has no UNZ trailer; the input ends after message `1`, which \
                      is complete, but messages after it may be missing";

fn shared(sub: &str) -> Option<PathBuf> {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(sub);
    if folder.is_dir() {
        Some(folder)
    } else {
        println!("skipped: ../shared/data not found");
        None
    }
}

/// Every file below `folder`, relative to it, sorted.
fn files(folder: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![folder.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("folder is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if !path.extension().is_some_and(|e| e == "md" || e == "txt") {
                let relative = path.strip_prefix(folder).expect("below the folder");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

fn d(s: &str) -> Decimal {
    Decimal::parse(s).expect("a number")
}

fn assert_warnings(file: &str, warnings: &[String], expected: &[&str]) {
    assert_eq!(warnings.len(), expected.len(), "{file}: {warnings:#?}");
    for (warning, needle) in warnings.iter().zip(expected) {
        assert!(
            warning.contains(needle),
            "{file}: `{warning}` does not say `{needle}`"
        );
    }
}

/// (line number, quantity, unit, unit price) of every line.
fn lines(order: &PurchaseOrder) -> Vec<(String, String, String, String)> {
    order
        .lines
        .iter()
        .map(|l| {
            (
                l.line_no.clone(),
                l.quantity.to_string(),
                l.unit_of_measure.clone().unwrap_or_default(),
                l.unit_price
                    .as_ref()
                    .map(|p| p.amount.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn row(n: &str, q: &str, u: &str, p: &str) -> (String, String, String, String) {
    (n.into(), q.into(), u.into(), p.into())
}

/// What becomes of a sample: an order checked by the function with these warnings (each
/// named by a part of its text), or a refusal with this message.
enum Outcome {
    Order(fn(&PurchaseOrder), &'static [&'static str]),
    Refused(&'static str),
}

fn read_shared_850(folder: &Path, file: &str) -> PurchaseOrder {
    let bytes = std::fs::read(folder.join(file)).expect("sample is readable");
    let interchange = read_interchange(&bytes).expect("the envelope reads");
    let results = read_850s(&interchange);
    assert_eq!(results.len(), 1, "{file}");
    results
        .into_iter()
        .next()
        .expect("one")
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn pgw_glass(o: &PurchaseOrder) {
    assert_eq!(
        (o.po_number.as_str(), o.message_control.as_str()),
        ("S41000439", "0001")
    );
    assert_eq!(
        o.po_date.map(|d| d.to_string()).as_deref(),
        Some("2010-08-10")
    );
    assert_eq!(o.purpose, Purpose::Replacement, "BEG01 05");
    assert_eq!(o.currency, Some(Currency::USD));
    let ship_to = o.ship_to.as_ref().expect("N1*ST");
    assert_eq!(
        ship_to.id.as_ref().map(|i| i.value.as_str()),
        Some("W_341001")
    );
    assert_eq!(ship_to.address.lines, ["WORKS 41", "2290 MENELAUS ROAD"]);
    assert_eq!(ship_to.address.city.as_deref(), Some("BEREA"));
    assert!(
        o.buyer.is_none(),
        "the buyer is named by N1*MI, kept with the others"
    );
    let roles: Vec<&str> = o.other_parties.iter().map(|p| p.role.as_str()).collect();
    assert_eq!(roles, ["MI", "SF"]);
    assert_eq!(
        lines(o),
        [
            row("1", "5", "EA", "5.09"),
            row("2", "12", "EA", "63.11"),
            row("3", "2", "EA", "8.02"),
            row("4", "1", "EA", "85.25")
        ]
    );
    assert_eq!(o.lines[0].buyer_item.as_deref(), Some("0459001004"));
    assert_eq!(
        o.lines[0].description.as_deref(),
        Some("FUSE, BUSSMAN FNA-4/10")
    );
    assert_eq!(o.lines[1].notes.len(), 3);
    assert!(
        o.lines
            .iter()
            .all(|l| l.requested_delivery.map(|d| d.to_string()).as_deref() == Some("2010-08-20"))
    );
    assert_eq!(
        o.stated_total,
        Some(d("884.06")),
        "AMT*TT agrees with the lines: no warning"
    );
}

fn adobe_tlp(o: &PurchaseOrder) {
    assert_eq!(
        (o.po_number.as_str(), o.order_type.as_deref()),
        ("TLP-X12", Some("NE"))
    );
    assert_eq!(o.purpose, Purpose::Original);
    let name = |p: &Option<o2c_edi::order::Party>| p.as_ref().and_then(|p| p.name.clone());
    assert_eq!(name(&o.buyer).as_deref(), Some("SOLD TO"));
    assert_eq!(name(&o.bill_to).as_deref(), Some("BILL TO"));
    let ship_to = o.ship_to.as_ref().expect("N1*ST");
    assert_eq!(ship_to.additional_names, ["ShipTo NameII"]);
    assert_eq!(ship_to.address.postal_code.as_deref(), Some("524032140"));
    assert_eq!(ship_to.contacts[0].channels.len(), 3);
    assert_eq!(o.other_parties.len(), 4, "PO, DU, EN, IA kept");
    assert_eq!(lines(o), [row("1", "1", "EA", "665")]);
    let line = &o.lines[0];
    assert_eq!(
        line.unit_price.as_ref().and_then(|p| p.basis.as_deref()),
        Some("CA")
    );
    assert_eq!(line.buyer_item.as_deref(), Some("12345678"));
    assert_eq!(line.item_ids[1].qualifier, "MG", "unknown qualifiers kept");
    assert_eq!(o.references.len(), 3);
}

fn adobe_clp(o: &PurchaseOrder) {
    assert_eq!(o.po_number, "ANSI-X12-CLP");
    assert_eq!(
        lines(o),
        [row("1", "1", "EA", "157.5"), row("2", "1", "EA", "160")]
    );
    for line in &o.lines {
        let roles: Vec<&str> = line.parties.iter().map(|p| p.role.as_str()).collect();
        assert_eq!(
            roles,
            ["IA", "ST"],
            "line {}: its own N1 loops",
            line.line_no
        );
        assert_eq!(
            line.unit_price.as_ref().and_then(|p| p.currency),
            Some(Currency::USD)
        );
    }
    let reference = &o.lines[1].parties[1].references[0];
    assert_eq!(
        reference.description.as_deref(),
        Some("DEPARTMENT 702"),
        "REF03 kept"
    );
}

fn aojuk(o: &PurchaseOrder) {
    assert_eq!(
        (o.po_number.as_str(), o.sender_id.as_str()),
        ("6190", "SITESTUFFP2P")
    );
    assert_eq!(o.currency, None, "no CUR: the order does not say");
    let ship_to = o.ship_to.as_ref().expect("N1*ST");
    assert_eq!(ship_to.name.as_deref(), Some("Demo Buying Property"));
    assert_eq!(ship_to.contacts[0].name.as_deref(), Some("John Doe"));
    assert_eq!(
        lines(o),
        [
            row("6917", "1", "PK", "10.98"),
            row("6915", "1", "EA", "219")
        ]
    );
    assert_eq!(o.lines[0].vendor_item.as_deref(), Some("123456"));
    assert_eq!(o.lines[1].description.as_deref(), Some("DESCRIPTION 2"));
    assert_eq!(o.lines[0].references[0].value, "Unit #111");
    assert_eq!(o.notes, ["test shipping instructions"]);
    assert_eq!(o.stated_total, Some(d("229.98")));
}

#[test]
fn every_shared_850_is_read_with_its_facts_or_refused_for_its_reason() {
    let Some(folder) = shared("x12") else {
        return;
    };
    use Outcome::{Order, Refused};
    let expectations: [(&str, Outcome); 5] = [
        (
            "850/oopfactory-Example1_PGWGlass.x12",
            Order(pgw_glass, &[]),
        ),
        (
            "850/oopfactory-Example2_Adobe_TLP.x12",
            Order(
                adobe_tlp,
                &[
                    LINE_BREAK_TERMINATOR,
                    "AMT02 says the order totals 12, but quantity × unit price of the lines adds \
                     up to 665",
                ],
            ),
        ),
        (
            "850/oopfactory-Example3_Adobe_CLP.x12",
            Order(
                adobe_clp,
                &[
                    NARROW_ISA06,
                    "segment 76 (AMT, line 76, byte 2700), AMT02 says the order totals 12, but \
                     quantity × unit price of the lines adds up to 317.5",
                ],
            ),
        ),
        (
            "850/oopfactory-Example4_Adobe_ShrinkWrapped.x12",
            Refused(
                "ISA: the segment terminator (the character after ISA16) is a space followed by a \
                 line break: white space also occurs inside element data, so segments cannot be \
                 told apart",
            ),
        ),
        ("850/oopfactory-From_aojuk.x12", Order(aojuk, &[])),
    ];
    let listed: Vec<&str> = expectations.iter().map(|(f, _)| *f).collect();
    let in_folder: Vec<String> = files(&folder)
        .into_iter()
        .filter(|f| f.starts_with("850/"))
        .collect();
    assert_eq!(in_folder, listed, "every 850 sample has an expectation");
    for (file, expected) in expectations {
        match expected {
            Order(check, warnings) => {
                let order = read_shared_850(&folder, file);
                check(&order);
                assert_warnings(file, &order.warnings, warnings);
            }
            Refused(reason) => {
                let bytes = std::fs::read(folder.join(file)).expect("sample is readable");
                let err = read_interchange(&bytes).expect_err(file);
                assert_eq!(err.to_string(), reason, "{file}");
            }
        }
    }
}

#[test]
fn no_other_shared_x12_transaction_set_is_taken_for_an_order() {
    let Some(folder) = shared("x12") else {
        return;
    };
    let mut refused = 0;
    for file in files(&folder).iter().filter(|f| !f.starts_with("850/")) {
        let bytes = std::fs::read(folder.join(file)).expect("sample is readable");
        let Ok(interchange) = read_interchange(&bytes) else {
            continue; // its envelope is refused already (shared_x12.rs says why)
        };
        for tx in interchange.transactions() {
            match read_850(&interchange, tx) {
                Err(EdiError::NotAPurchaseOrder { set_id, .. }) => assert_eq!(set_id, tx.set_id),
                other => panic!("{file}: transaction set {} gave {other:?}", tx.set_id),
            }
            refused += 1;
        }
    }
    assert_eq!(refused, 21, "810 ×7, 820 ×4, 855 ×3, 856 ×6, 860 ×1");
    let bytes = std::fs::read(folder.join("860/oopfactory-Example1.x12")).expect("readable");
    let interchange = read_interchange(&bytes).expect("the envelope reads");
    let err = read_850s(&interchange).remove(0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "transaction set 860 is a purchase order change request, not a purchase order (850)"
    );
}

const INVOIC: &str = "message type INVOIC is an invoice, not a purchase order (ORDERS)";
const APERAK: &str = "message type APERAK is an application error and acknowledgement, not a \
                      purchase order (ORDERS)";

/// The EN 16931 examples close with the message reference instead of UNB's.
fn unz(found: &str) -> String {
    format!(
        "UNZ 0020 `{found}` does not match UNB 0020 `87846595` (it is a message reference, UNH \
         0062)"
    )
}

fn unt(stated: usize, counted: usize) -> String {
    format!("UNT 0074 says {stated} segments in message `1`, but there are {counted}")
}

fn pydifact_order(o: &PurchaseOrder) {
    assert_eq!(
        (o.sender_id.as_str(), o.sender_qualifier.as_deref()),
        ("12345678", Some("8"))
    );
    assert_eq!(
        (o.interchange_control.as_str(), o.message_control.as_str()),
        ("807", "1")
    );
    assert_eq!(
        (o.po_number.as_str(), o.order_type.as_deref()),
        ("801715918011", Some("220"))
    );
    assert_eq!(o.purpose, Purpose::Original);
    assert_eq!(
        o.po_date.map(|d| d.to_string()).as_deref(),
        Some("2015-08-03"),
        "DTM+137, format 203"
    );
    assert_eq!(
        o.requested_delivery.map(|d| d.to_string()).as_deref(),
        Some("2015-08-06")
    );
    let id =
        |p: &Option<o2c_edi::order::Party>| p.as_ref().and_then(|p| p.id.clone()).map(|i| i.value);
    assert_eq!(id(&o.buyer).as_deref(), Some("8711576000012"));
    assert_eq!(id(&o.ship_to).as_deref(), Some("8711576100019"), "NAD+DP");
    assert_eq!(o.other_parties[0].role, "SU");
    assert_eq!(lines(o), [row("1", "8", "", ""), row("2", "8", "", "")]);
    let gtins: Vec<_> = o
        .lines
        .iter()
        .map(|l| l.gtin.clone().unwrap_or_default())
        .collect();
    assert_eq!(gtins, ["5020436373085", "5020436373108"]);
    assert_eq!(o.references[0].value, "50515");
    assert_eq!(o.lines[0].references[0].value, "99");
}

fn pydifact_order2(o: &PurchaseOrder) {
    assert_eq!(
        (o.po_number.as_str(), o.sender_id.as_str()),
        ("PO123456", "SENDERID")
    );
    assert_eq!(
        o.po_date.map(|d| d.to_string()).as_deref(),
        Some("2025-03-22")
    );
    assert_eq!(o.currency, None);
    assert_eq!(lines(o), [row("1", "10", "", "25")]);
    let line = &o.lines[0];
    assert_eq!(
        line.buyer_item.as_deref(),
        Some("ABC123"),
        "LIN …:IN is the buyer's item number"
    );
    assert_eq!(
        line.unit_price.as_ref().and_then(|p| p.basis.as_deref()),
        Some("AAA")
    );
}

fn wikipedia_de(o: &PurchaseOrder) {
    assert_eq!(
        (o.po_number.as_str(), o.interchange_control.as_str()),
        ("B10001", "1")
    );
    assert_eq!(
        o.po_date.map(|d| d.to_string()).as_deref(),
        Some("2006-06-20"),
        "DTM+4, order date"
    );
    let buyer = o.buyer.as_ref().expect("NAD+BY");
    assert_eq!(buyer.name.as_deref(), Some("Bestellername"));
    assert_eq!(buyer.address.lines, ["Strasse"]);
    assert_eq!(buyer.address.postal_code.as_deref(), Some("23436"));
    assert_eq!(lines(o), [row("1", "1000", "", "")]);
    assert_eq!(
        o.lines[0].vendor_item.as_deref(),
        Some("Produkt Schrauben"),
        "…:SA"
    );
}

#[test]
fn every_shared_edifact_message_is_an_order_with_its_facts_or_refused_by_type() {
    let Some(folder) = shared("edifact") else {
        return;
    };
    use Outcome::{Order, Refused};
    let e = |n: &str| format!("en16931-invoic-d14b/EDIFACT_EXAMPLE{n}.TXT");
    let p = |name: &str| format!("pydifact/pydifact-{name}.edi");
    let w = |needles: &[&str]| -> Vec<String> { needles.iter().map(|n| n.to_string()).collect() };
    let unz_only = |reference: &str| vec![unz(reference)];
    let ftx = |at: &str| format!("(FTX, {at}): the segment spans a line break");
    let expectations: Vec<(String, Vec<String>, Outcome)> = vec![
        (e("0"), w(&[&unt(171, 37)]), Refused(INVOIC)),
        (e("0a"), w(&[&unt(171, 34)]), Refused(INVOIC)),
        (e("1"), unz_only("12115118"), Refused(INVOIC)),
        (
            e("2"),
            vec![ftx("line 10, byte 246"), unz("TOSL108")],
            Refused(INVOIC),
        ),
        (e("3"), unz_only("TOSL108"), Refused(INVOIC)),
        (e("4"), unz_only("TOSL110"), Refused(INVOIC)),
        (e("5"), unz_only("TOSL110"), Refused(INVOIC)),
        (e("6"), unz_only("TOSL110"), Refused(INVOIC)),
        (e("7"), unz_only("INVOICE_test_7"), Refused(INVOIC)),
        (
            e("8"),
            vec![
                ftx("line 8, byte 205"),
                ftx("line 10, byte 339"),
                "line 34: a value is not UTF-8 (byte `0x92`)".into(),
                unz("1100512149"),
            ],
            Refused(INVOIC),
        ),
        (
            e("9"),
            vec![ftx("line 6, byte 157"), unz("20150483")],
            Refused(INVOIC),
        ),
        (p("invoice1"), vec![], Refused(INVOIC)),
        (p("invoice_with_colon_at_end"), vec![], Refused(INVOIC)),
        (p("messages-v3-aperak"), w(&[&unt(8, 7)]), Refused(APERAK)),
        (
            p("messages-v3-aperak_rejected"),
            w(&[&unt(8, 7)]),
            Refused(APERAK),
        ),
        (p("messages-v4-aperak"), w(&[&unt(8, 7)]), Refused(APERAK)),
        (
            p("messages-v4-aperak_rejected"),
            w(&[&unt(8, 7)]),
            Refused(APERAK),
        ),
        (p("order"), w(&[NO_UNZ]), Order(pydifact_order, &[])),
        (p("order2"), w(&[NO_UNZ]), Order(pydifact_order2, &[])),
        (
            p("wikipedia_de"),
            w(&[
                "UNZ 0020 `1234567` does not match UNB 0020 `1` (it is UNB's application \
                 reference, 0026)",
            ]),
            Order(
                wikipedia_de,
                &[
                    "segment 3 (BGM, line 4, byte 100): BGM 1225 (message function) is missing; \
                     read as an original order",
                    "segment 6 (LIN, line 7, byte 184): no QTY+21 (ordered quantity); the \
                     discrete quantity QTY+1 (1000) is taken",
                ],
            ),
        ),
        (
            p("wikipedia_en"),
            vec![],
            Refused(
                "message type PAORES is an IATA travel availability response, not a purchase \
                 order (ORDERS)",
            ),
        ),
    ];
    let listed: Vec<&str> = expectations.iter().map(|(f, _, _)| f.as_str()).collect();
    assert_eq!(files(&folder), listed, "every sample has an expectation");
    for (file, envelope_warnings, outcome) in &expectations {
        let bytes = std::fs::read(folder.join(file)).expect("sample is readable");
        let interchange =
            edifact::read_interchange(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let needles: Vec<&str> = envelope_warnings.iter().map(String::as_str).collect();
        assert_warnings(file, &interchange.warnings, &needles);
        let mut results = edifact::read_all_orders(&interchange);
        assert_eq!(results.len(), 1, "{file}: one message");
        match (results.remove(0), outcome) {
            (Ok(order), Order(check, order_warnings)) => {
                check(&order);
                let all: Vec<&str> = needles
                    .iter()
                    .chain(order_warnings.iter())
                    .copied()
                    .collect();
                assert_warnings(file, &order.warnings, &all);
            }
            (Err(err), Refused(reason)) => assert_eq!(err.to_string(), *reason, "{file}"),
            (Ok(order), Refused(reason)) => panic!(
                "{file} was read as order {}, expected: {reason}",
                order.po_number
            ),
            (Err(err), Order(..)) => panic!("{file} was refused: {err}"),
        }
    }
}
