//! The PDF renderer over every fixture. Page streams are compressed, so text is checked through
//! poppler's `pdftotext`; those checks skip (saying so) where poppler-utils is not installed.
//! `O2C_PDF_OUT=/some/dir cargo test -p o2c-docs --test pdf_render` also writes every fixture's
//! PDF there, for looking at (`pdftoppm -png -r 70`).

use o2c_core::document::{DocumentKind, InvoiceDocument};
use o2c_core::reference::grouped;
use o2c_docs::fixtures;
use o2c_docs::pdf::{PdfError, render};
use std::path::{Path, PathBuf};
use std::process::Command;

fn logo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/logo.png")
        .display()
        .to_string()
}

/// Every fixture, with the test logo.
fn documents() -> Vec<(&'static str, InvoiceDocument)> {
    fixtures::all()
        .into_iter()
        .map(|(name, mut doc)| {
            doc.seller.logo_path = Some(logo());
            (name, doc)
        })
        .collect()
}

fn fixture(name: &str) -> InvoiceDocument {
    documents()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("o2c-pdf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn poppler() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok();
    if !found {
        eprintln!("SKIPPED: pdftotext (poppler-utils) is not installed; text checks not run");
    }
    found
}

/// The text of each page, through `pdftotext -layout`.
fn pages_text(name: &str, pdf: &[u8]) -> Vec<String> {
    let path = scratch(&format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write pdf");
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(
        out.status.success(),
        "pdftotext failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    pages.retain(|p| !p.trim().is_empty());
    pages
}

fn page_count(pdf: &[u8]) -> usize {
    let pattern = b"/Type /Page";
    pdf.windows(pattern.len() + 1)
        .filter(|w| &w[..pattern.len()] == pattern && w[pattern.len()] != b's')
        .count()
}

#[test]
fn every_fixture_renders_as_a_pdf() {
    let out = std::env::var_os("O2C_PDF_OUT").map(PathBuf::from);
    for (name, doc) in documents() {
        let pdf = render(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(pdf.starts_with(b"%PDF-"), "{name}");
        assert!(
            pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"),
            "{name}"
        );
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir).expect("output dir");
            std::fs::write(dir.join(format!("{name}.pdf")), &pdf).expect("write");
        }
    }
}

#[test]
fn the_number_the_reference_and_the_amount_due_are_printed() {
    if !poppler() {
        return;
    }
    for (name, doc) in documents() {
        let text = pages_text(name, &render(&doc).expect("renders")).join("\n");
        assert!(text.contains(&doc.number), "{name}: number missing");
        assert!(
            text.contains(&grouped(&doc.payment.reference)),
            "{name}: grouped RF reference {} missing",
            grouped(&doc.payment.reference)
        );
        let code = doc.currency.code();
        assert!(text.contains(code), "{name}: currency code missing");
    }
}

#[test]
fn umlauts_and_the_euro_sign_survive() {
    if !poppler() {
        return;
    }
    let mut doc = fixture("standard_reduced_discount_freight");
    doc.note = Some("Grüße aus Köln: Preise in € – zahlbar ohne Abzug. Straße Ä Ö Ü ß".into());
    let text = pages_text("umlauts", &render(&doc).expect("renders")).join("\n");
    for expected in ["Grüße aus Köln", "Preise in €", "Straße Ä Ö Ü ß", "Köln"] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn a_long_invoice_breaks_pages_and_repeats_the_table_header() {
    let doc = fixture("long_40_lines");
    let pdf = render(&doc).expect("renders");
    let pages = page_count(&pdf);
    assert!(pages >= 2, "40 lines on {pages} page(s)");
    if !poppler() {
        return;
    }
    let text = pages_text("long", &pdf);
    assert_eq!(text.len(), pages);
    for (i, page) in text.iter().enumerate() {
        assert!(
            page.contains(&format!("Page {} of {pages}", i + 1)),
            "page {} lacks its number",
            i + 1
        );
        if doc.lines.iter().any(|l| page.contains(&l.sku)) {
            assert!(
                page.contains("Description"),
                "page {} lacks the table header",
                i + 1
            );
        }
    }
    let last_line = doc.lines.last().expect("lines");
    assert!(
        text.last()
            .expect("pages")
            .contains(&doc.payment.reference[..4])
    );
    assert!(text.join("\n").contains(&last_line.description));
}

#[test]
fn a_credit_note_is_titled_as_one_and_names_the_corrected_invoice() {
    let doc = fixture("credit_note_full");
    assert_eq!(doc.kind, DocumentKind::CreditNote);
    let pdf = render(&doc).expect("renders");
    if !poppler() {
        return;
    }
    let text = pages_text("credit", &pdf).join("\n");
    assert!(
        text.contains(&format!("Credit note {}", doc.number)),
        "{text}"
    );
    let (corrected, _) = doc.preceding_invoice.as_ref().expect("a preceding invoice");
    assert!(text.contains(corrected), "corrected invoice missing");
    assert!(!text.contains("Invoice no."), "{text}");
}

#[test]
fn amounts_share_one_right_edge() {
    if !poppler() {
        return;
    }
    let doc = fixture("standard_reduced_discount_freight");
    let path = scratch("bbox.pdf");
    std::fs::write(&path, render(&doc).expect("renders")).expect("write");
    let out = Command::new("pdftotext")
        .arg("-bbox")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let html = String::from_utf8_lossy(&out.stdout);
    // Each line's net amount appears as one word; all of them end at the Net column's edge.
    let mut edges = Vec::new();
    for line in &doc.lines {
        let net = line.net.to_decimal_string();
        let (int, frac) = net.split_once('.').expect("EUR has decimals");
        let grouped_int = int
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join(",");
        let word = format!(">{grouped_int}.{frac}</word>");
        // The same figure may also be a unit price (quantity 1): the net is the rightmost.
        let x_max = html
            .lines()
            .filter(|l| l.ends_with(&word))
            .filter_map(|tag| {
                tag.split("xMax=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .fold(f32::MIN, f32::max);
        assert!(x_max > 0.0, "{word} not found");
        edges.push(x_max);
    }
    let (min, max) = edges
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &e| (lo.min(e), hi.max(e)));
    assert!(max - min < 0.5, "right edges differ: {edges:?}");
}

#[test]
fn a_missing_logo_file_renders_without_a_logo() {
    let mut doc = fixture("zero_rated");
    doc.seller.logo_path = Some("/nonexistent/o2c/logo.png".into());
    let pdf = render(&doc).expect("renders without the logo");
    assert!(!pdf.windows(8).any(|w| w == b"/XObject"));
}

#[test]
fn a_logo_that_is_not_an_image_is_refused_by_name() {
    let mut doc = fixture("zero_rated");
    let path = scratch("not-a-logo.png");
    std::fs::write(&path, b"GIF89a, not what the seller meant").expect("write");
    doc.seller.logo_path = Some(path.display().to_string());
    match render(&doc) {
        Err(PdfError::LogoUnsupported { path: p, .. }) => assert!(p.ends_with("not-a-logo.png")),
        other => panic!("expected LogoUnsupported, got {:?}", other.map(|b| b.len())),
    }
}

#[test]
fn a_png_logo_with_transparency_gets_a_soft_mask_and_a_jpeg_passes_through() {
    let doc = fixture("zero_rated");
    let pdf = render(&doc).expect("renders");
    assert!(pdf.windows(6).any(|w| w == b"/SMask"), "PNG alpha lost");

    // A baseline JPEG frame header is all the renderer reads; the data goes in as it is.
    let mut jpeg = vec![
        0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x20, 0x00, 0x40, 0x03,
    ];
    jpeg.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]);
    let path = scratch("logo.jpg");
    std::fs::write(&path, &jpeg).expect("write");
    let mut doc = doc;
    doc.seller.logo_path = Some(path.display().to_string());
    let pdf = render(&doc).expect("renders");
    assert!(pdf.windows(10).any(|w| w == b"/DCTDecode"));
    assert!(pdf.windows(jpeg.len()).any(|w| w == jpeg.as_slice()));
}

#[test]
fn a_document_that_does_not_add_up_is_not_printed() {
    let mut doc = fixture("zero_rated");
    let cent = o2c_core::money::Money::new(1, doc.currency);
    doc.totals.payable = doc.totals.payable.checked_add(cent).expect("sum");
    assert!(matches!(render(&doc), Err(PdfError::Inconsistent(_))));
}

#[test]
fn text_outside_windows_1252_prints_as_question_marks_instead_of_failing() {
    let mut doc = fixture("jpy");
    doc.buyer.name = "桜精密株式会社 Sakura Seimitsu K.K. — Łódź branch".into();
    doc.lines[0].description = format!("{} ✓ {}", "Very long description ".repeat(12), "日本");
    doc.note = Some("First paragraph.\nSecond paragraph with a tab\tand an emoji 🚀.".into());
    doc.seller.website = None;
    doc.seller.party.phone = None;
    doc.seller.bank_name = None;
    let pdf = render(&doc).expect("renders");
    if let Some(dir) = std::env::var_os("O2C_PDF_OUT") {
        std::fs::write(PathBuf::from(dir).join("exotic.pdf"), &pdf).expect("write");
    }
    if !poppler() {
        return;
    }
    let text = pages_text("exotic", &pdf).join("\n");
    assert!(
        text.contains("?????? Sakura Seimitsu K.K. — ?ód? branch"),
        "{text}"
    );
    assert!(
        text.contains("Second paragraph with a tab and an emoji ?."),
        "{text}"
    );
}
