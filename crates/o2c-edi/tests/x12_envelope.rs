//! The envelope rules on small synthetic interchanges: what is accepted with a warning, what is
//! refused, and where the errors point.

use o2c_edi::x12::{Usage, read_interchanges};
use o2c_edi::{EdiError, read_interchange};

const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261123*1200*^*00501*000000001*0*P*:~";

/// An interchange around one 850 with the given trailers.
fn interchange(se: &str, ge: &str, iea: &str) -> String {
    format!(
        "{ISA}\nGS*PO*SENDER*RECEIVER*20261123*1200*7*X*005010~\nST*850*0001~\nBEG*00*SA*PO-1**20261123~\nPO1*1*2*EA*3.5**VP*W~\n{se}~\n{ge}~\n{iea}~\n"
    )
}

fn whole() -> String {
    interchange("SE*4*0001", "GE*1*7", "IEA*1*000000001")
}

#[test]
fn a_whole_interchange_reads_with_its_envelope_facts() {
    let ix = read_interchange(whole().as_bytes()).unwrap();
    assert_eq!(
        (ix.sender_qualifier.as_str(), ix.sender_id.as_str()),
        ("ZZ", "SENDER")
    );
    assert_eq!(
        (ix.receiver_qualifier.as_str(), ix.receiver_id.as_str()),
        ("ZZ", "RECEIVER")
    );
    assert_eq!(ix.control_number, "000000001");
    assert_eq!(
        ix.date.map(|d| d.to_string()).as_deref(),
        Some("2026-11-23")
    );
    assert_eq!(ix.time.map(|t| t.to_string()).as_deref(), Some("12:00:00"));
    assert_eq!(ix.version, "00501");
    assert_eq!(ix.usage, Usage::Production);
    let group = &ix.groups[0];
    assert_eq!(
        (
            group.functional_id.as_str(),
            group.sender.as_str(),
            group.receiver.as_str()
        ),
        ("PO", "SENDER", "RECEIVER")
    );
    assert_eq!(
        (group.control_number.as_str(), group.version.as_str()),
        ("7", "005010")
    );
    let tx = &group.transactions[0];
    assert_eq!(
        (tx.set_id.as_str(), tx.control_number.as_str()),
        ("850", "0001")
    );
    assert_eq!(tx.segments.len(), 2);
    let po1 = &tx.segments[1];
    assert_eq!(po1.id, "PO1");
    assert_eq!(po1.text(4), Some("3.5"));
    assert_eq!(po1.element_name(4), "PO104");
    assert_eq!((po1.position.segment, po1.position.line), (5, 5));
    assert!(ix.warnings.is_empty(), "{:?}", ix.warnings);
}

#[test]
fn a_byte_order_mark_and_leading_white_space_are_skipped() {
    let text = format!("\u{feff}\r\n   {}", whole());
    let ix = read_interchange(text.as_bytes()).unwrap();
    assert!(ix.warnings.is_empty());
    assert_eq!(ix.groups[0].position.line, 3);
}

#[test]
fn wrong_counts_and_a_different_iea02_are_warnings() {
    let text = interchange("SE*9*0001", "GE*2*7", "IEA*3*000000002");
    let ix = read_interchange(text.as_bytes()).unwrap();
    assert_eq!(
        ix.warnings,
        [
            "segment 6 (SE, line 6, byte 216): SE01 says 9 segments in transaction set 0001, but there are 4",
            "segment 7 (GE, line 7, byte 227): GE01 says 2 transaction sets, but there are 1",
            "segment 8 (IEA, line 8, byte 235): IEA01 says 3 functional groups, but there are 1",
            "segment 8 (IEA, line 8, byte 235), element IEA02: control number `000000002` does not match ISA13 `000000001`",
        ]
    );
}

#[test]
fn mismatched_group_and_set_control_numbers_are_refused() {
    let err = read_interchange(interchange("SE*4*0001", "GE*1*8", "IEA*1*000000001").as_bytes())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "segment 7 (GE, line 7, byte 227), element GE02: control number `8` does not match GS06 `7`"
    );
    let err = read_interchange(interchange("SE*4*1", "GE*1*7", "IEA*1*000000001").as_bytes())
        .unwrap_err();
    assert!(
        matches!(
            &err,
            EdiError::ControlNumberMismatch { at, .. } if at.id == "SE"
        ),
        "{err}"
    );
}

#[test]
fn a_truncated_interchange_is_refused_naming_what_is_not_closed() {
    let text = whole();
    let cut = &text[..text.find("IEA").unwrap()];
    assert_eq!(
        read_interchange(cut.as_bytes()).unwrap_err().to_string(),
        "segment 1 (ISA, line 1, byte 0) is never closed by its IEA: the input ends first (truncated?)"
    );
    let cut = &text[..text.find("GE").unwrap()];
    assert_eq!(
        read_interchange(cut.as_bytes()).unwrap_err().to_string(),
        "segment 2 (GS, line 2, byte 107) is never closed by its GE: the input ends first (truncated?)"
    );
    let no_se = text.replace("SE*4*0001~\n", "");
    assert_eq!(
        read_interchange(no_se.as_bytes()).unwrap_err().to_string(),
        "segment 3 (ST, line 3, byte 155) is never closed by its SE: segment 6 (GE, line 6, byte 216) comes first"
    );
}

#[test]
fn a_segment_outside_its_envelope_is_refused() {
    let text = whole().replace("ST*850*0001~\n", "");
    let err = read_interchange(text.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "segment 3 (BEG, line 3, byte 155): unexpected here, expected ST or GE"
    );
}

#[test]
fn several_interchanges_each_bring_their_own_delimiters() {
    let second = whole()
        .replace('*', "|")
        .replace('~', "!")
        .replace("|^|00501|", "|U|00401|");
    let text = format!("{}\n{second}", whole());
    let all = read_interchanges(text.as_bytes()).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].delimiters.element, '|');
    assert_eq!(all[1].delimiters.repetition, None);
    assert_eq!(
        all[1].groups[0].transactions[0].segments[1].text(4),
        Some("3.5")
    );
    assert_eq!(
        read_interchange(text.as_bytes()).unwrap_err(),
        EdiError::NotOneInterchange { found: 2 }
    );
}

#[test]
fn what_is_not_an_interchange_is_refused() {
    let err = read_interchange(b"GS*PO*X~").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the input does not start with an ISA segment (it starts with `GS*PO*X~`)"
    );
    assert!(matches!(
        read_interchange(b""),
        Err(EdiError::NoInterchangeHeader { .. })
    ));
    let err = read_interchange(format!("{}junk", whole()).as_bytes()).unwrap_err();
    assert!(
        matches!(err, EdiError::TrailingContent { line: 9, .. }),
        "{err}"
    );
    let err = read_interchange(&[b'I', b'S', b'A', 0xff]).unwrap_err();
    assert_eq!(err, EdiError::NotUtf8 { byte_offset: 3 });
    let err = read_interchange(whole().replace("*0*P*:~", "*0*X*:~").as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ISA15 usage indicator `X` is neither P (production) nor T (test)"
    );
}

#[test]
fn an_interchange_serialises_for_inspection() {
    let ix = read_interchange(whole().as_bytes()).unwrap();
    let json = serde_json::to_value(&ix).unwrap();
    assert_eq!(json["usage"], "Production");
    assert_eq!(
        json["groups"][0]["transactions"][0]["segments"][0]["id"],
        "BEG"
    );
    assert_eq!(
        json["groups"][0]["transactions"][0]["segments"][0]["elements"],
        serde_json::json!(["00", "SA", "PO-1", "", "20261123"])
    );
}
