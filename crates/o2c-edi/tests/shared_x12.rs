//! Every third-party sample in `shared/data/x12` is either read with the envelope facts its
//! EXPECTED-RESULTS.md states, or refused for the reason it states. Where that file calls a
//! sample BAD for a defect a tolerant partner accepts (a non-fixed-width ISA, a line break as
//! terminator, a wrong SE count), the defect must show up as a warning.

use std::path::{Path, PathBuf};

use o2c_core::money::Currency;
use o2c_edi::x12::{Interchange, Usage};
use o2c_edi::{read_820, read_interchange};

const LINE_BREAK_TERMINATOR: &str =
    "ISA: nothing follows ISA16 on its line, so the line break is taken as the segment terminator";
const NARROW_ISA06: &str = "ISA is 105 characters long, not the fixed 106: ISA06 is 14 characters \
                            wide (expected 15); read by its separators instead";

enum Expected {
    Read {
        control_number: &'static str,
        usage: Usage,
        /// (ST01, ST02) of every transaction set, in order.
        sets: &'static [(&'static str, &'static str)],
        /// Each warning, in order: a prefix of it is enough where it names a position.
        warnings: &'static [&'static str],
    },
    Refused(&'static str),
}

use Expected::{Read, Refused};

fn read(
    control_number: &'static str,
    usage: Usage,
    sets: &'static [(&'static str, &'static str)],
    warnings: &'static [&'static str],
) -> Expected {
    Read {
        control_number,
        usage,
        sets,
        warnings,
    }
}

fn expectations() -> Vec<(&'static str, Expected)> {
    use Usage::{Production as P, Test as T};
    vec![
        (
            "810/oopfactory-2011110815164104.x12",
            read("810000163", T, &[("810", "0163")], &[]),
        ),
        (
            "810/oopfactory-Example1_CaliforniaISO.x12",
            read("000000002", T, &[("810", "0001")], &[]),
        ),
        (
            "810/oopfactory-Example2_ManualBilling.x12",
            read("000000035", T, &[("810", "0001")], &[]),
        ),
        (
            "810/oopfactory-Example3_MultiInvoice.x12",
            read(
                "000000224",
                P,
                &[("810", "2240001"), ("810", "2240002")],
                &[],
            ),
        ),
        (
            "810/oopfactory-Example4_Adobe.x12",
            read(
                "810000263",
                T,
                &[("810", "166061414")],
                &[LINE_BREAK_TERMINATOR],
            ),
        ),
        (
            "810/oopfactory-Example5_Walmart.x12",
            read("810000263", T, &[("810", "0001")], &[LINE_BREAK_TERMINATOR]),
        ),
        (
            "820/oopfactory-Example1_MortgageBankers.x12",
            read(
                "810000263",
                T,
                &[("820", "123456")],
                &[LINE_BREAK_TERMINATOR],
            ),
        ),
        (
            "820/oopfactory-Example2_ScanaEnergy.x12",
            read(
                "000000002",
                P,
                &[("820", "000000001")],
                &[
                    LINE_BREAK_TERMINATOR,
                    "ISA11 `U` is not a usable repetition separator although ISA12 is 00410; \
                     repetitions are not split",
                ],
            ),
        ),
        (
            "820/oopfactory-Example5_Wikipedia.x12",
            read("987600111", P, &[("820", "987600111")], &[]),
        ),
        (
            "820/oopfactory-Example6.x12",
            Refused(
                "segment 17 (SE, line 17, byte 647), element SE02: control number `000001203` \
                 does not match ST02 `0001203`",
            ),
        ),
        (
            "820/oopfactory-Example7_FromScott.x12",
            read("000000031", P, &[("820", "22001")], &[]),
        ),
        (
            "850/oopfactory-Example1_PGWGlass.x12",
            read("000000245", P, &[("850", "0001")], &[]),
        ),
        (
            "850/oopfactory-Example2_Adobe_TLP.x12",
            read(
                "000211462",
                P,
                &[("850", "114640004")],
                &[LINE_BREAK_TERMINATOR],
            ),
        ),
        (
            "850/oopfactory-Example3_Adobe_CLP.x12",
            read("000511461", P, &[("850", "114640004")], &[NARROW_ISA06]),
        ),
        (
            "850/oopfactory-Example4_Adobe_ShrinkWrapped.x12",
            Refused(
                "ISA: the segment terminator (the character after ISA16) is a space followed by \
                 a line break: white space also occurs inside element data, so segments cannot \
                 be told apart",
            ),
        ),
        (
            "850/oopfactory-From_aojuk.x12",
            read("000000091", P, &[("850", "0083")], &[]),
        ),
        (
            "855/oopfactory-855SSimmons.x12",
            read("000076417", P, &[("855", "0001"), ("855", "0002")], &[]),
        ),
        (
            "855/oopfactory-Example1_Adobe.x12",
            read(
                "855336885",
                P,
                &[("855", "852281220")],
                &[LINE_BREAK_TERMINATOR],
            ),
        ),
        (
            "856/oopfactory-Example1.x12",
            read("000000001", P, &[("856", "0001")], &[]),
        ),
        (
            "856/oopfactory-Example2.x12",
            read("000000001", P, &[("856", "0001")], &[]),
        ),
        (
            "856/oopfactory-Example3.x12",
            read("000000027", P, &[("856", "0022")], &[]),
        ),
        (
            "856/oopfactory-Example4.x12",
            read("000001054", P, &[("856", "0414")], &[]),
        ),
        (
            "856/oopfactory-FromGregarican.x12",
            read("000000005", P, &[("856", "0001")], &[]),
        ),
        (
            "856/oopfactory-edi1Source.x12",
            read("000000049", P, &[("856", "0008")], &[]),
        ),
        (
            "860/oopfactory-Example1.x12",
            read(
                "000000568",
                P,
                &[("860", "56488")],
                &[
                    NARROW_ISA06,
                    "segment 6 (N1, line 6, byte 263): the segment spans a line break; a segment \
                     terminator is probably missing",
                    "segment 11 (SE, line 12, byte 463): SE01 says 10 segments in transaction \
                     set 56488, but there are 9",
                ],
            ),
        ),
    ]
}

fn shared_folder() -> Option<PathBuf> {
    let folder = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/x12"
    ));
    if folder.is_dir() {
        Some(folder.to_path_buf())
    } else {
        println!("skipped: ../shared/data not found");
        None
    }
}

fn x12_files(folder: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(folder)
        .expect("folder is readable")
        .flatten()
    {
        if !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path())
            .expect("folder is readable")
            .flatten()
        {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "x12") {
                let relative = path.strip_prefix(folder).expect("below the folder");
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

fn check_read(
    file: &str,
    interchange: &Interchange,
    control_number: &str,
    usage: Usage,
    sets: &[(&str, &str)],
    warnings: &[&str],
) {
    assert_eq!(interchange.control_number, control_number, "{file}");
    assert_eq!(interchange.usage, usage, "{file}");
    let found: Vec<(&str, &str)> = interchange
        .transactions()
        .map(|t| (t.set_id.as_str(), t.control_number.as_str()))
        .collect();
    assert_eq!(found, sets, "{file}");
    assert_eq!(
        interchange.warnings.len(),
        warnings.len(),
        "{file}: {:#?}",
        interchange.warnings
    );
    for (warning, expected) in interchange.warnings.iter().zip(warnings) {
        assert!(
            warning.starts_with(expected),
            "{file}: `{warning}` is not `{expected}`"
        );
    }
    assert!(
        interchange.transactions().all(|t| !t.segments.is_empty()),
        "{file}: every transaction set has segments"
    );
}

#[test]
fn every_shared_sample_is_read_or_refused_as_expected() {
    let Some(folder) = shared_folder() else {
        return;
    };
    let expectations = expectations();
    let listed: Vec<&str> = expectations.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        x12_files(&folder),
        listed,
        "every sample has an expectation"
    );
    for (file, expected) in &expectations {
        let bytes = std::fs::read(folder.join(file)).expect("sample is readable");
        match (read_interchange(&bytes), expected) {
            (
                Ok(interchange),
                Read {
                    control_number,
                    usage,
                    sets,
                    warnings,
                },
            ) => check_read(file, &interchange, control_number, *usage, sets, warnings),
            (Err(err), Refused(reason)) => assert_eq!(err.to_string(), *reason, "{file}"),
            (Ok(interchange), Refused(reason)) => {
                panic!(
                    "{file} was read ({:?}), expected: {reason}",
                    interchange.warnings
                )
            }
            (Err(err), Read { .. }) => panic!("{file} was refused: {err}"),
        }
    }
}

fn read_shared_820(folder: &Path, file: &str) -> o2c_edi::Remittance {
    let bytes = std::fs::read(folder.join(file)).expect("sample is readable");
    let interchange = read_interchange(&bytes).expect("the envelope reads");
    let tx = interchange
        .transactions()
        .next()
        .expect("one transaction set");
    read_820(tx, Currency::USD).expect("the 820 reads")
}

fn amounts(remittance: &o2c_edi::Remittance) -> Vec<(String, String)> {
    remittance
        .items
        .iter()
        .map(|i| (i.invoice_number.clone(), i.amount_paid.to_decimal_string()))
        .collect()
}

#[test]
fn the_shared_820s_give_their_payments_and_say_where_the_figures_disagree() {
    let Some(folder) = shared_folder() else {
        return;
    };
    let r = read_shared_820(&folder, "820/oopfactory-Example1_MortgageBankers.x12");
    assert_eq!(r.payment.amount.to_decimal_string(), "337.67");
    assert_eq!(r.payment.method.as_deref(), Some("ACH"));
    assert_eq!(
        r.payment.effective_date.map(|d| d.to_string()).as_deref(),
        Some("1999-01-05")
    );
    assert_eq!(r.payment.trace_number.as_deref(), Some("888999"));
    assert_eq!(
        amounts(&r),
        [
            ("8889444".into(), "236.00".into()),
            ("66666789".into(), "10167.00".into())
        ]
    );
    assert_eq!(r.items[0].reference_qualifier, "ID");
    assert_eq!(
        r.warnings,
        ["the amounts paid (RMR04 of 2 items) add up to 10403.00 USD, but BPR02 says 337.67 USD"]
    );

    let r = read_shared_820(&folder, "820/oopfactory-Example2_ScanaEnergy.x12");
    assert_eq!(r.payer_name.as_deref(), Some("CUSTOMER NAME"));
    assert_eq!(
        (r.payee_name.as_deref(), r.payee_id.as_deref()),
        (Some("SCANA"), Some("605647775"))
    );
    assert_eq!(r.payment.amount.to_decimal_string(), "10000.00");
    assert_eq!(r.payment.trace_number.as_deref(), Some("0001"));
    assert_eq!(amounts(&r), [("5189800007544".into(), "5000.00".into())]);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);

    // Its BPR puts the date in BPR15 (BPR11 is left out): BPR16 is missing, as written.
    let r = read_shared_820(&folder, "820/oopfactory-Example5_Wikipedia.x12");
    assert_eq!(r.payer_name.as_deref(), Some("WHIZCO OF AMERICA INC"));
    assert_eq!(r.payment.amount.to_decimal_string(), "77.77");
    assert_eq!(r.payment.effective_date, None);
    assert_eq!(amounts(&r).len(), 3);
    assert_eq!(
        r.warnings,
        ["segment 4 (BPR, line 4, byte 203): BPR16 (effective date) is missing"]
    );

    let r = read_shared_820(&folder, "820/oopfactory-Example7_FromScott.x12");
    assert_eq!(r.payment.handling_code.as_deref(), Some("I"));
    assert_eq!(r.items.len(), 29);
    assert!(r.items.iter().all(|i| i.adjustments.len() == 1));
    assert_eq!(r.items[5].amount_paid.to_decimal_string(), "-999.99");
    assert_eq!(r.items[5].adjustments[0].reason_code, "52");
    assert_eq!(
        r.warnings,
        [
            "the amounts paid (RMR04 of 29 items) add up to 28051.32 USD, but BPR02 says 99999.99 USD"
        ]
    );
}
