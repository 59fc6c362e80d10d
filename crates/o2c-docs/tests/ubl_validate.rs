//! Every fixture, rendered as UBL, must pass what a receiving network runs: the OASIS UBL 2.1
//! schema and the CEN EN 16931 schematron, through the shared `validate-ubl` tool (one JVM for
//! all files). Where the tool is not installed the test says so and is skipped.

use o2c_docs::{fixtures, ubl};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn validator() -> PathBuf {
    // crates/o2c-docs -> crates -> workspace root -> its parent, where `shared/` lives.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/validate-ubl")
}

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("o2c-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temp folder");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_fixture_passes_the_ubl_schema_and_the_en16931_rules() {
    let tool = validator();
    if !tool.exists() {
        eprintln!(
            "SKIPPED: the UBL validator is absent ({} not found); \
             EN 16931 validation did not run",
            tool.display()
        );
        return;
    }
    let dir = TempDir::new("ubl-validate");
    let fixtures = fixtures::all();
    for (name, doc) in &fixtures {
        let xml = ubl::render(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::write(dir.0.join(format!("{name}.xml")), xml).expect("write the XML");
    }
    let output = Command::new(&tool)
        .arg(&dir.0)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", tool.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("validate-ubl output:\n{report}");

    let summaries: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("EN16931 "))
        .collect();
    let fatal: Vec<&&str> = summaries
        .iter()
        .filter(|l| !l.contains("\tfatal=0\t"))
        .collect();
    assert!(
        output.status.success(),
        "validate-ubl exited with {}:\n{report}",
        output.status
    );
    assert!(!report.contains("SCHEMA FAIL"), "schema errors:\n{report}");
    assert_eq!(
        summaries.len(),
        fixtures.len(),
        "one EN 16931 result per fixture expected:\n{report}"
    );
    assert!(fatal.is_empty(), "fatal EN 16931 findings:\n{report}");
}

#[test]
fn the_rf_reference_is_the_payment_id_of_every_document() {
    for (name, doc) in fixtures::all() {
        let xml = ubl::render(&doc).unwrap();
        let reference = o2c_core::reference::rf_reference(&doc.number).unwrap();
        assert!(
            xml.contains(&format!("<cbc:PaymentID>{reference}</cbc:PaymentID>")),
            "{name}"
        );
    }
}

#[test]
fn credit_notes_reference_the_invoice_they_correct() {
    let invoice = fixtures::standard_reduced_discount_freight();
    for doc in [
        fixtures::credit_note_full(),
        fixtures::credit_note_partial(),
    ] {
        let xml = ubl::render(&doc).unwrap();
        let reference = xml
            .split("<cac:BillingReference>")
            .nth(1)
            .and_then(|rest| rest.split("</cac:BillingReference>").next())
            .expect("a BillingReference");
        assert!(reference.contains(&format!("<cbc:ID>{}</cbc:ID>", invoice.number)));
        assert!(reference.contains(&format!(
            "<cbc:IssueDate>{}</cbc:IssueDate>",
            invoice.issue_date
        )));
        assert!(xml.contains(
            "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\""
        ));
        assert!(xml.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
        assert!(xml.contains("<cbc:CreditedQuantity unitCode=\"C62\">"));
        assert!(!xml.contains("InvoicedQuantity") && !xml.contains("<cbc:DueDate>"));
    }
}

#[test]
fn key_values_of_the_mixed_invoice_appear_in_the_xml() {
    let doc = fixtures::standard_reduced_discount_freight();
    let xml = ubl::render(&doc).unwrap();
    let t = &doc.totals;
    for expected in [
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"".to_string(),
        format!(
            "<cbc:CustomizationID>{}</cbc:CustomizationID>",
            ubl::CUSTOMIZATION_ID
        ),
        format!("<cbc:ProfileID>{}</cbc:ProfileID>", ubl::PROFILE_ID),
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>".to_string(),
        format!("<cbc:ID>{}</cbc:ID>", doc.number),
        "<cbc:CompanyID>DE123456789</cbc:CompanyID>".to_string(),
        "<cbc:EndpointID schemeID=\"9930\">DE123456789</cbc:EndpointID>".to_string(),
        "<cbc:ID>DE89370400440532013000</cbc:ID>".to_string(),
        "<cbc:ID>COBADEFFXXX</cbc:ID>".to_string(),
        format!(
            "<cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>",
            t.payable.to_decimal_string()
        ),
        format!(
            "<cbc:TaxExclusiveAmount currencyID=\"EUR\">{}</cbc:TaxExclusiveAmount>",
            t.tax_exclusive.to_decimal_string()
        ),
        "<cbc:Note>Zahlbar innerhalb von 30 Tagen ohne Abzug.</cbc:Note>".to_string(),
        "Fachbuch &quot;Hydraulik in der Praxis&quot;".to_string(),
        "Dichtungssatz NBR &lt;12-teilig&gt;".to_string(),
        "Müller &amp; Söhne Maschinenbau KG".to_string(),
    ] {
        assert!(xml.contains(&expected), "missing {expected}");
    }
}

#[test]
fn the_intra_community_supply_carries_what_br_ic_requires() {
    let doc = fixtures::intra_community();
    let xml = ubl::render(&doc).unwrap();
    let compact: String = xml.lines().map(str::trim).collect();
    let section = |open: &str, close: &str| {
        compact
            .split(open)
            .nth(1)
            .and_then(|rest| rest.split(close).next())
            .unwrap_or_else(|| panic!("no {open}"))
            .to_string()
    };
    // BR-IC-02: both VAT identifiers.
    let seller = section(
        "<cac:AccountingSupplierParty>",
        "</cac:AccountingSupplierParty>",
    );
    assert!(seller.contains("<cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID>"));
    let buyer = section(
        "<cac:AccountingCustomerParty>",
        "</cac:AccountingCustomerParty>",
    );
    assert!(buyer.contains("<cac:PartyTaxScheme><cbc:CompanyID>FR55423456780</cbc:CompanyID>"));
    // BR-IC-11 and BR-IC-12: the delivery date and the deliver-to country.
    let delivery = section("<cac:Delivery>", "</cac:Delivery>");
    assert!(delivery.contains("<cbc:ActualDeliveryDate>2026-03-10</cbc:ActualDeliveryDate>"));
    assert!(delivery.contains("<cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode>"));
    // BR-IC-01, 09 and 10: one K breakdown, no tax, its exemption reason and code.
    let total = section("<cac:TaxTotal>", "</cac:TaxTotal>");
    assert_eq!(total.matches("<cac:TaxSubtotal>").count(), 1);
    assert!(total.starts_with("<cbc:TaxAmount currencyID=\"EUR\">0.00</cbc:TaxAmount>"));
    assert!(total.contains(
        "<cbc:ID>K</cbc:ID><cbc:Percent>0.00</cbc:Percent>\
         <cbc:TaxExemptionReasonCode>VATEX-EU-IC</cbc:TaxExemptionReasonCode>\
         <cbc:TaxExemptionReason>Steuerfreie innergemeinschaftliche Lieferung"
    ));
    // BR-IC-05 and 07: lines and the freight charge are K at 0 %.
    assert_eq!(
        compact
            .matches("<cbc:ID>K</cbc:ID><cbc:Percent>0.00</cbc:Percent>")
            .count(),
        doc.lines.len() + doc.allowances_charges.len() + 1
    );
}
