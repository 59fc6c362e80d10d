//! UBL 2.1 rendering: an `InvoiceDocument` as an EN 16931 e-invoice in the Peppol BIS Billing
//! 3.0 profile (`<Invoice>` or `<CreditNote>`).
//!
//! The element order follows the OASIS UBL 2.1 schema (an `xsd:sequence`: any other order is a
//! schema error) and the official CEN examples. Only business terms of EN 16931 are written:
//! receivers' validators warn about every other UBL element (the `UBL-CR-*` rules).
//!
//! Before anything is written, `render` runs the core's arithmetic check and the EN 16931 rules
//! the core does not know about (tax category rates, VAT identifiers, exemption reasons, the
//! delivery of an intra-community supply, payment account), so an e-invoice a network would
//! reject fails here with the rule's name instead.

use o2c_core::document::{
    AllowanceCharge, DocumentError, DocumentKind, DocumentLine, DocumentTax, InvoiceDocument,
    Party, PostalAddress, TaxBreakdown,
};
use o2c_core::money::{Currency, Money, Percent};
use o2c_core::tax::TaxCategory;

pub const CUSTOMIZATION_ID: &str =
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
pub const PROFILE_ID: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";

const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// UN/ECE Rec. 20 "one": the model bills whole units.
const UNIT_CODE: &str = "C62";
/// UNCL5189 "Discount": a line discount is a discount by definition.
const LINE_DISCOUNT_REASON_CODE: &str = "95";
/// EN 16931 allows at most two decimals for every amount (BR-DEC-*).
const MAX_DECIMALS: u8 = 2;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UblError {
    #[error("the document does not add up: {0}")]
    Inconsistent(#[from] DocumentError),
    #[error("BR-DEC: {currency} amounts have {exponent} decimals; EN 16931 allows at most 2")]
    CurrencyExponentTooLarge { currency: Currency, exponent: u8 },
    #[error("PEPPOL-EN16931-R051: {field} is in {found}, the document is in {expected}")]
    MixedCurrency {
        field: &'static str,
        found: Currency,
        expected: Currency,
    },
    #[error("BR-16: a document needs at least one line")]
    NoLines,
    #[error("BR-25: line {line} has no item name")]
    LineWithoutItemName { line: String },
    #[error("BR-27: line {line} has a negative unit price")]
    NegativeUnitPrice { line: String },
    #[error("{rule}: {} is not allowed a rate of {}%", category.as_str(), rate.to_decimal_string())]
    RateNotAllowed {
        rule: &'static str,
        category: TaxCategory,
        rate: Percent,
    },
    #[error("{rule}: {} needs the seller's VAT identifier", category.as_str())]
    SellerVatIdMissing {
        rule: &'static str,
        category: TaxCategory,
    },
    #[error("BR-AE-02: reverse charge needs the buyer's VAT identifier or legal registration id")]
    BuyerVatIdMissing,
    #[error("BR-IC-02: an intra-community supply needs the buyer's VAT identifier")]
    IntraCommunityBuyerVatIdMissing,
    #[error(
        "BR-IC-11: an intra-community supply needs the actual delivery date (BT-72) and the deliver-to address"
    )]
    DeliveryMissing,
    #[error("BR-IC-12: an intra-community supply needs the deliver-to country (BT-80)")]
    DeliverToCountryMissing,
    #[error("{rule}: {} must not carry an exemption reason", category.as_str())]
    ExemptionReasonNotAllowed {
        rule: &'static str,
        category: TaxCategory,
    },
    #[error("{rule}: {} needs an exemption reason or reason code", category.as_str())]
    ExemptionReasonMissing {
        rule: &'static str,
        category: TaxCategory,
    },
    #[error("BR-61: payment means {means_code} is a credit transfer and needs the payee's IBAN")]
    PayeeAccountMissing { means_code: String },
}

/// Renders the document as a UBL 2.1 `Invoice` or `CreditNote` (UTF-8, indented).
pub fn render(doc: &InvoiceDocument) -> Result<String, UblError> {
    doc.check()?;
    preflight(doc)?;
    let mut x = Xml::with_capacity(4096 + 1800 * doc.lines.len());
    x.declaration();
    let (root, ns) = match doc.kind {
        DocumentKind::Invoice => ("Invoice", NS_INVOICE),
        DocumentKind::CreditNote => ("CreditNote", NS_CREDIT_NOTE),
    };
    x.start_with(
        root,
        &[("xmlns", ns), ("xmlns:cac", NS_CAC), ("xmlns:cbc", NS_CBC)],
    );
    header(&mut x, doc);
    x.elem("cac:AccountingSupplierParty", |x| {
        party(x, &doc.seller.party)
    });
    x.elem("cac:AccountingCustomerParty", |x| party(x, &doc.buyer));
    if let Some((address, date)) = &doc.delivery {
        x.elem("cac:Delivery", |x| {
            x.text("cbc:ActualDeliveryDate", &date.to_string());
            x.elem("cac:DeliveryLocation", |x| {
                postal_address(x, "cac:Address", address)
            });
        });
    }
    payment(&mut x, doc);
    for ac in &doc.allowances_charges {
        document_allowance_charge(&mut x, ac);
    }
    tax_total(&mut x, doc);
    monetary_total(&mut x, doc);
    for l in &doc.lines {
        line(&mut x, doc.kind, l);
    }
    x.end(root);
    Ok(x.finish())
}

// ---------------------------------------------------------------------------------------------
// Rules the core's `check` does not cover; each is fatal for a Peppol receiver.

fn preflight(doc: &InvoiceDocument) -> Result<(), UblError> {
    let cur = doc.currency;
    if cur.exponent() > MAX_DECIMALS {
        return Err(UblError::CurrencyExponentTooLarge {
            currency: cur,
            exponent: cur.exponent(),
        });
    }
    if doc.lines.is_empty() {
        return Err(UblError::NoLines);
    }
    for l in &doc.lines {
        same_currency(cur, "line unit price", l.unit_price)?;
        if let Some(d) = &l.discount {
            same_currency(cur, "line discount", d.amount)?;
            same_currency(cur, "line discount base", d.base)?;
        }
        if l.description.trim().is_empty() {
            return Err(UblError::LineWithoutItemName { line: l.id.clone() });
        }
        if l.unit_price.is_negative() {
            return Err(UblError::NegativeUnitPrice { line: l.id.clone() });
        }
        check_rate(l.tax.category, l.tax.rate)?;
    }
    for ac in &doc.allowances_charges {
        if let Some(base) = ac.base {
            same_currency(cur, "allowance or charge base", base)?;
        }
        check_rate(ac.tax.category, ac.tax.rate)?;
    }
    for b in &doc.taxes {
        check_rate(b.category, b.rate)?;
        let reason = b.exemption_reason.as_deref();
        let code = b.exemption_code.as_deref();
        if !b.category.needs_exemption_reason() && (reason.is_some() || code.is_some()) {
            return Err(UblError::ExemptionReasonNotAllowed {
                rule: rule_id(b.category, 10),
                category: b.category,
            });
        }
        // Blank values are not written (see `Xml::opt_text`), so they count as absent.
        if b.category.needs_exemption_reason() && blank(reason) && blank(code) {
            return Err(UblError::ExemptionReasonMissing {
                rule: rule_id(b.category, 10),
                category: b.category,
            });
        }
    }
    check_parties(doc)?;
    check_intra_community_delivery(doc)?;
    let means = doc.payment.means_code.trim();
    if (means == "30" || means == "58") && blank(doc.payment.iban.as_deref()) {
        return Err(UblError::PayeeAccountMissing {
            means_code: means.to_string(),
        });
    }
    Ok(())
}

fn same_currency(expected: Currency, field: &'static str, m: Money) -> Result<(), UblError> {
    if m.currency() == expected {
        Ok(())
    } else {
        Err(UblError::MixedCurrency {
            field,
            found: m.currency(),
            expected,
        })
    }
}

/// `S` needs a positive rate (BR-S-05..07); every other category of the model a zero rate.
fn check_rate(category: TaxCategory, rate: Percent) -> Result<(), UblError> {
    let ok = if category.is_untaxed() {
        rate.basis_points() == 0
    } else {
        rate.basis_points() > 0
    };
    if ok {
        Ok(())
    } else {
        Err(UblError::RateNotAllowed {
            rule: rule_id(category, 5),
            category,
            rate,
        })
    }
}

/// Every category of the model needs the seller's VAT id (BR-S/Z/E/AE/G/IC-02); reverse charge
/// also the buyer's VAT id or legal registration id (BR-AE-02), an intra-community supply the
/// buyer's VAT id itself (BR-IC-02..04).
fn check_parties(doc: &InvoiceDocument) -> Result<(), UblError> {
    let used = doc
        .lines
        .iter()
        .map(|l| l.tax.category)
        .chain(doc.allowances_charges.iter().map(|a| a.tax.category));
    for category in used {
        if blank(doc.seller.party.vat_id.as_deref()) {
            return Err(UblError::SellerVatIdMissing {
                rule: rule_id(category, 2),
                category,
            });
        }
        if category == TaxCategory::ReverseCharge
            && blank(doc.buyer.vat_id.as_deref())
            && blank(doc.buyer.company_id.as_deref())
        {
            return Err(UblError::BuyerVatIdMissing);
        }
        if category == TaxCategory::IntraCommunity && blank(doc.buyer.vat_id.as_deref()) {
            return Err(UblError::IntraCommunityBuyerVatIdMissing);
        }
    }
    Ok(())
}

/// An intra-community supply states when the goods were delivered (BR-IC-11: BT-72; the model
/// has no invoicing period) and to which country (BR-IC-12: BT-80).
fn check_intra_community_delivery(doc: &InvoiceDocument) -> Result<(), UblError> {
    if !doc
        .taxes
        .iter()
        .any(|b| b.category == TaxCategory::IntraCommunity)
    {
        return Ok(());
    }
    match &doc.delivery {
        None => Err(UblError::DeliveryMissing),
        Some((address, _)) if address.country.trim().is_empty() => {
            Err(UblError::DeliverToCountryMissing)
        }
        Some(_) => Ok(()),
    }
}

/// The EN 16931 rule `BR-<code>-<nn>` for a category, as a static string.
fn rule_id(category: TaxCategory, number: u8) -> &'static str {
    match (category.uncl5305(), number) {
        ("S", 2) => "BR-S-02",
        ("S", 5) => "BR-S-05",
        ("S", _) => "BR-S-10",
        ("Z", 2) => "BR-Z-02",
        ("Z", 5) => "BR-Z-05",
        ("Z", _) => "BR-Z-10",
        ("E", 2) => "BR-E-02",
        ("E", 5) => "BR-E-05",
        ("E", _) => "BR-E-10",
        ("AE", 2) => "BR-AE-02",
        ("AE", 5) => "BR-AE-05",
        ("AE", _) => "BR-AE-10",
        ("K", 2) => "BR-IC-02",
        ("K", 5) => "BR-IC-05",
        ("K", _) => "BR-IC-10",
        ("G", 2) => "BR-G-02",
        ("G", 5) => "BR-G-05",
        _ => "BR-G-10",
    }
}

fn blank(s: Option<&str>) -> bool {
    s.is_none_or(|s| s.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// Document sections, in schema order.

fn header(x: &mut Xml, doc: &InvoiceDocument) {
    x.text("cbc:CustomizationID", CUSTOMIZATION_ID);
    x.text("cbc:ProfileID", PROFILE_ID);
    x.text("cbc:ID", &doc.number);
    x.text("cbc:IssueDate", &doc.issue_date.to_string());
    match doc.kind {
        DocumentKind::Invoice => {
            if let Some(due) = doc.due_date {
                x.text("cbc:DueDate", &due.to_string());
            }
            x.text("cbc:InvoiceTypeCode", doc.kind.type_code());
        }
        // A credit note has no DueDate element: its due date goes to PaymentMeans.
        DocumentKind::CreditNote => x.text("cbc:CreditNoteTypeCode", doc.kind.type_code()),
    }
    x.opt_text("cbc:Note", doc.note.as_deref());
    x.text("cbc:DocumentCurrencyCode", doc.currency.code());
    x.opt_text("cbc:BuyerReference", doc.buyer_reference.as_deref());
    if !doc.order_numbers.is_empty() {
        // BT-14 (our order) needs the schema's mandatory BT-13 (the buyer's purchase order);
        // the model has none, and Peppol says "NA" then.
        x.elem("cac:OrderReference", |x| {
            x.text("cbc:ID", "NA");
            x.text("cbc:SalesOrderID", &doc.order_numbers.join(", "));
        });
    }
    if let Some((number, date)) = &doc.preceding_invoice {
        x.elem("cac:BillingReference", |x| {
            x.elem("cac:InvoiceDocumentReference", |x| {
                x.text("cbc:ID", number);
                x.text("cbc:IssueDate", &date.to_string());
            })
        });
    }
}

fn party(x: &mut Xml, p: &Party) {
    x.elem("cac:Party", |x| {
        if let Some((scheme, id)) = &p.endpoint {
            x.text_attr("cbc:EndpointID", "schemeID", scheme, id);
        }
        postal_address(x, "cac:PostalAddress", &p.address);
        if let Some(vat) = p.vat_id.as_deref().filter(|v| !v.trim().is_empty()) {
            x.elem("cac:PartyTaxScheme", |x| {
                x.text("cbc:CompanyID", vat);
                tax_scheme(x);
            });
        }
        x.elem("cac:PartyLegalEntity", |x| {
            x.text("cbc:RegistrationName", &p.name);
            x.opt_text("cbc:CompanyID", p.company_id.as_deref());
        });
        let contact = [&p.contact_name, &p.phone, &p.email];
        if contact.iter().any(|c| !blank(c.as_deref())) {
            x.elem("cac:Contact", |x| {
                x.opt_text("cbc:Name", p.contact_name.as_deref());
                x.opt_text("cbc:Telephone", p.phone.as_deref());
                x.opt_text("cbc:ElectronicMail", p.email.as_deref());
            });
        }
    });
}

fn postal_address(x: &mut Xml, element: &str, a: &PostalAddress) {
    x.elem(element, |x| {
        x.opt_text("cbc:StreetName", Some(&a.line1));
        x.opt_text("cbc:AdditionalStreetName", a.line2.as_deref());
        x.opt_text("cbc:CityName", Some(&a.city));
        x.opt_text("cbc:PostalZone", Some(&a.postal_code));
        x.elem("cac:Country", |x| {
            x.text("cbc:IdentificationCode", &a.country)
        });
    });
}

fn payment(x: &mut Xml, doc: &InvoiceDocument) {
    let p = &doc.payment;
    x.elem("cac:PaymentMeans", |x| {
        x.text("cbc:PaymentMeansCode", p.means_code.trim());
        if doc.kind == DocumentKind::CreditNote
            && let Some(due) = doc.due_date
        {
            x.text("cbc:PaymentDueDate", &due.to_string());
        }
        x.opt_text("cbc:PaymentID", Some(&p.reference));
        if let Some(iban) = p.iban.as_deref().filter(|i| !i.trim().is_empty()) {
            x.elem("cac:PayeeFinancialAccount", |x| {
                x.text("cbc:ID", iban);
                x.opt_text("cbc:Name", p.account_name.as_deref());
                if let Some(bic) = p.bic.as_deref().filter(|b| !b.trim().is_empty()) {
                    x.elem("cac:FinancialInstitutionBranch", |x| x.text("cbc:ID", bic));
                }
            });
        }
    });
    if !p.terms.trim().is_empty() {
        x.elem("cac:PaymentTerms", |x| x.text("cbc:Note", &p.terms));
    }
}

fn document_allowance_charge(x: &mut Xml, ac: &AllowanceCharge) {
    x.elem("cac:AllowanceCharge", |x| {
        x.text(
            "cbc:ChargeIndicator",
            if ac.is_charge { "true" } else { "false" },
        );
        x.opt_text("cbc:AllowanceChargeReasonCode", ac.reason_code.as_deref());
        x.opt_text("cbc:AllowanceChargeReason", Some(&ac.reason));
        if let Some(p) = ac.percent {
            x.text("cbc:MultiplierFactorNumeric", &p.to_decimal_string());
        }
        x.amount("cbc:Amount", ac.amount);
        if let Some(base) = ac.base {
            x.amount("cbc:BaseAmount", base);
        }
        // No exemption reason here: EN 16931 carries it in the breakdown only (UBL-CR-481).
        tax_category(x, "cac:TaxCategory", &ac.tax, None);
    });
}

fn tax_total(x: &mut Xml, doc: &InvoiceDocument) {
    x.elem("cac:TaxTotal", |x| {
        x.amount("cbc:TaxAmount", doc.totals.tax);
        for b in &doc.taxes {
            tax_subtotal(x, b);
        }
    });
}

fn tax_subtotal(x: &mut Xml, b: &TaxBreakdown) {
    x.elem("cac:TaxSubtotal", |x| {
        x.amount("cbc:TaxableAmount", b.taxable);
        x.amount("cbc:TaxAmount", b.tax);
        let tax = DocumentTax {
            category: b.category,
            rate: b.rate,
        };
        let exemption = Exemption {
            code: b.exemption_code.as_deref(),
            reason: b.exemption_reason.as_deref(),
        };
        tax_category(x, "cac:TaxCategory", &tax, Some(exemption));
    });
}

struct Exemption<'a> {
    code: Option<&'a str>,
    reason: Option<&'a str>,
}

fn tax_category(x: &mut Xml, element: &str, tax: &DocumentTax, exemption: Option<Exemption>) {
    x.elem(element, |x| {
        x.text("cbc:ID", tax.category.uncl5305());
        x.text("cbc:Percent", &tax.rate.to_decimal_string());
        if let Some(e) = exemption {
            x.opt_text("cbc:TaxExemptionReasonCode", e.code);
            x.opt_text("cbc:TaxExemptionReason", e.reason);
        }
        tax_scheme(x);
    });
}

fn tax_scheme(x: &mut Xml) {
    x.elem("cac:TaxScheme", |x| x.text("cbc:ID", "VAT"));
}

fn monetary_total(x: &mut Xml, doc: &InvoiceDocument) {
    let t = &doc.totals;
    let has = |charge: bool| doc.allowances_charges.iter().any(|a| a.is_charge == charge);
    x.elem("cac:LegalMonetaryTotal", |x| {
        x.amount("cbc:LineExtensionAmount", t.line_net);
        x.amount("cbc:TaxExclusiveAmount", t.tax_exclusive);
        x.amount("cbc:TaxInclusiveAmount", t.tax_inclusive);
        // BR-CO-11/12: the totals are present exactly when there is something to total.
        if has(false) {
            x.amount("cbc:AllowanceTotalAmount", t.allowances);
        }
        if has(true) {
            x.amount("cbc:ChargeTotalAmount", t.charges);
        }
        if !t.prepaid.is_zero() {
            x.amount("cbc:PrepaidAmount", t.prepaid);
        }
        x.amount("cbc:PayableAmount", t.payable);
    });
}

fn line(x: &mut Xml, kind: DocumentKind, l: &DocumentLine) {
    let (element, quantity) = match kind {
        DocumentKind::Invoice => ("cac:InvoiceLine", "cbc:InvoicedQuantity"),
        DocumentKind::CreditNote => ("cac:CreditNoteLine", "cbc:CreditedQuantity"),
    };
    x.elem(element, |x| {
        x.text("cbc:ID", &l.id);
        x.text_attr(quantity, "unitCode", UNIT_CODE, &l.quantity.to_string());
        x.amount("cbc:LineExtensionAmount", l.net);
        if let Some(r) = l.order_line_ref.as_deref().filter(|r| !r.trim().is_empty()) {
            // "ORDER-ID/LINE": BT-132 is the line number alone.
            let line_id = r.rsplit_once('/').map_or(r, |(_, n)| n);
            x.elem("cac:OrderLineReference", |x| x.text("cbc:LineID", line_id));
        }
        if let Some(d) = &l.discount {
            x.elem("cac:AllowanceCharge", |x| {
                x.text("cbc:ChargeIndicator", "false");
                x.text("cbc:AllowanceChargeReasonCode", LINE_DISCOUNT_REASON_CODE);
                x.opt_text("cbc:AllowanceChargeReason", Some(&d.reason));
                // Percentage and base travel together (PEPPOL-EN16931-R041/R042).
                let with_base = d.percent.basis_points() != 0;
                if with_base {
                    x.text(
                        "cbc:MultiplierFactorNumeric",
                        &d.percent.to_decimal_string(),
                    );
                }
                x.amount("cbc:Amount", d.amount);
                if with_base {
                    x.amount("cbc:BaseAmount", d.base);
                }
            });
        }
        x.elem("cac:Item", |x| {
            x.text("cbc:Name", &l.description);
            if let Some(id) = l.buyer_item_id.as_deref().filter(|i| !i.trim().is_empty()) {
                x.elem("cac:BuyersItemIdentification", |x| x.text("cbc:ID", id));
            }
            if !l.sku.trim().is_empty() {
                x.elem("cac:SellersItemIdentification", |x| {
                    x.text("cbc:ID", &l.sku)
                });
            }
            tax_category(x, "cac:ClassifiedTaxCategory", &l.tax, None);
        });
        x.elem("cac:Price", |x| x.amount("cbc:PriceAmount", l.unit_price));
    });
}

// ---------------------------------------------------------------------------------------------
// A minimal indenting XML writer. Names are trusted constants; text and attribute values are
// escaped.

struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn with_capacity(capacity: usize) -> Xml {
        Xml {
            out: String::with_capacity(capacity),
            depth: 0,
        }
    }

    fn finish(self) -> String {
        self.out
    }

    fn declaration(&mut self) {
        self.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start_with(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.attr(k, v);
        }
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn end(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn elem(&mut self, name: &str, body: impl FnOnce(&mut Xml)) {
        self.start_with(name, &[]);
        body(self);
        self.end(name);
    }

    fn attr(&mut self, key: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(key);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value, true);
        self.out.push('"');
    }

    fn leaf(&mut self, name: &str, attr: Option<(&str, &str)>, text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        if let Some((k, v)) = attr {
            self.attr(k, v);
        }
        self.out.push('>');
        escape_into(&mut self.out, text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn text(&mut self, name: &str, text: &str) {
        self.leaf(name, None, text);
    }

    fn text_attr(&mut self, name: &str, attr: &str, value: &str, text: &str) {
        self.leaf(name, Some((attr, value)), text);
    }

    /// Skips absent and blank values: Peppol rejects empty elements (PEPPOL-EN16931-R008).
    fn opt_text(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            self.text(name, t);
        }
    }

    fn amount(&mut self, name: &str, m: Money) {
        self.text_attr(
            name,
            "currencyID",
            m.currency().code(),
            &m.to_decimal_string(),
        );
    }
}

/// Escapes the five XML specials. Characters XML 1.0 forbids (most C0 controls, e.g. from text
/// pasted out of another program) are dropped: one would make the whole invoice unreadable. A
/// carriage return is written as a reference so parsers keep it; in attributes tabs and line
/// feeds too, which attribute normalisation would otherwise turn into spaces.
fn escape_into(out: &mut String, s: &str, in_attribute: bool) {
    let mut last = 0;
    for (i, c) in s.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\r' => "&#13;",
            '\n' if in_attribute => "&#10;",
            '\t' if in_attribute => "&#9;",
            '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\u{E}'..='\u{1F}'
            | '\u{FFFE}'
            | '\u{FFFF}' => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(replacement);
        last = i + c.len_utf8();
    }
    out.push_str(&s[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn fixture(name: &str) -> InvoiceDocument {
        fixtures::all()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no fixture {name}"))
    }

    fn escaped(s: &str, attr: bool) -> String {
        let mut out = String::new();
        escape_into(&mut out, s, attr);
        out
    }

    #[test]
    fn xml_specials_are_escaped_in_text_and_attributes() {
        assert_eq!(
            escaped(r#"Müller & Söhne <"GmbH"> 'KG'"#, false),
            "Müller &amp; Söhne &lt;&quot;GmbH&quot;&gt; &apos;KG&apos;"
        );
        assert_eq!(escaped("a\tb\nc\rd", false), "a\tb\nc&#13;d");
        assert_eq!(escaped("a\tb\nc", true), "a&#9;b&#10;c");
        assert_eq!(escaped("plain text", false), "plain text");
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        assert_eq!(escaped("bell\u{7}and\u{0}nul\u{1b}", false), "bellandnul");
    }

    #[test]
    fn every_fixture_renders_and_every_element_is_closed() {
        for (name, doc) in fixtures::all() {
            let xml = render(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            let opened = xml.matches("<cac:").count() + xml.matches("<cbc:").count();
            let closed = xml.matches("</cac:").count() + xml.matches("</cbc:").count();
            assert_eq!(opened, closed, "{name}");
            assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        }
    }

    #[test]
    fn the_header_follows_the_schema_order() {
        let xml = render(&fixture("standard_reduced_discount_freight")).unwrap();
        let order = [
            "<cbc:CustomizationID>",
            "<cbc:ProfileID>",
            "<cbc:ID>",
            "<cbc:IssueDate>",
            "<cbc:DueDate>",
            "<cbc:InvoiceTypeCode>",
            "<cbc:DocumentCurrencyCode>",
            "<cbc:BuyerReference>",
            "<cac:OrderReference>",
            "<cac:AccountingSupplierParty>",
            "<cac:AccountingCustomerParty>",
            "<cac:Delivery>",
            "<cac:PaymentMeans>",
            "<cac:PaymentTerms>",
            "<cac:AllowanceCharge>",
            "<cac:TaxTotal>",
            "<cac:LegalMonetaryTotal>",
            "<cac:InvoiceLine>",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|tag| xml.find(tag).unwrap_or_else(|| panic!("{tag} missing")))
            .collect();
        assert!(positions.is_sorted(), "{positions:?}");
    }

    #[test]
    fn exemption_reasons_go_to_the_breakdown_only() {
        let xml = render(&fixture("reverse_charge")).unwrap();
        assert_eq!(xml.matches("<cbc:TaxExemptionReasonCode>").count(), 1);
        assert!(xml.contains("<cbc:TaxExemptionReasonCode>VATEX-EU-AE<"));
        let compact: String = xml.lines().map(str::trim).collect();
        assert!(compact.contains(
            "<cac:TaxCategory><cbc:ID>AE</cbc:ID><cbc:Percent>0.00</cbc:Percent>\
             <cbc:TaxExemptionReasonCode>VATEX-EU-AE</cbc:TaxExemptionReasonCode>"
        ));
    }

    #[test]
    fn amounts_follow_the_currency_exponent() {
        let xml = render(&fixture("jpy")).unwrap();
        assert!(xml.contains("<cbc:PayableAmount currencyID=\"JPY\">"));
        let payable = xml
            .split("<cbc:PayableAmount currencyID=\"JPY\">")
            .nth(1)
            .unwrap();
        assert!(!payable[..payable.find('<').unwrap()].contains('.'));
        let eur = render(&fixture("export")).unwrap();
        assert!(eur.contains("<cbc:Percent>0.00</cbc:Percent>"));
    }

    #[test]
    fn line_discounts_and_document_charges_are_written() {
        let xml = render(&fixture("standard_reduced_discount_freight")).unwrap();
        assert!(xml.contains("<cbc:AllowanceChargeReasonCode>95<"));
        assert!(xml.contains("<cbc:AllowanceChargeReasonCode>FC<"));
        assert!(xml.contains("<cbc:ChargeTotalAmount currencyID=\"EUR\">"));
        assert!(xml.contains("<cbc:AllowanceTotalAmount currencyID=\"EUR\">"));
        assert!(xml.contains("<cbc:Percent>7.00</cbc:Percent>"));
        assert!(xml.contains("<cbc:Percent>19.00</cbc:Percent>"));
    }

    #[test]
    fn a_three_decimal_currency_is_refused() {
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(
            render(&fixtures::export_in(kwd)),
            Err(UblError::CurrencyExponentTooLarge {
                currency: kwd,
                exponent: 3
            })
        );
    }

    #[test]
    fn reverse_charge_without_the_buyers_vat_id_is_refused() {
        let mut doc = fixture("reverse_charge");
        doc.buyer.vat_id = None;
        doc.buyer.company_id = None;
        assert_eq!(render(&doc), Err(UblError::BuyerVatIdMissing));
    }

    #[test]
    fn an_intra_community_supply_is_category_k_with_its_exemption_in_the_breakdown() {
        let xml = render(&fixture("intra_community")).unwrap();
        let compact: String = xml.lines().map(str::trim).collect();
        assert!(compact.contains(
            "<cac:TaxCategory><cbc:ID>K</cbc:ID><cbc:Percent>0.00</cbc:Percent>\
             <cbc:TaxExemptionReasonCode>VATEX-EU-IC</cbc:TaxExemptionReasonCode>"
        ));
        assert_eq!(xml.matches("<cbc:TaxExemptionReasonCode>").count(), 1);
        assert!(compact.contains("<cac:ClassifiedTaxCategory><cbc:ID>K</cbc:ID>"));
        assert!(
            compact.contains(
                "<cac:Delivery><cbc:ActualDeliveryDate>2026-03-10</cbc:ActualDeliveryDate>"
            )
        );
        assert!(compact.contains("<cbc:CityName>Lyon</cbc:CityName>"));
    }

    #[test]
    fn an_intra_community_supply_needs_the_buyers_vat_id_not_just_a_registration() {
        let mut doc = fixture("intra_community");
        doc.buyer.vat_id = None;
        assert!(doc.buyer.company_id.is_some());
        assert_eq!(render(&doc), Err(UblError::IntraCommunityBuyerVatIdMissing));
        let mut doc = fixture("intra_community");
        doc.seller.party.vat_id = Some(" ".into());
        assert_eq!(
            render(&doc),
            Err(UblError::SellerVatIdMissing {
                rule: "BR-IC-02",
                category: TaxCategory::IntraCommunity
            })
        );
    }

    #[test]
    fn an_intra_community_supply_needs_the_delivery_date_and_country() {
        let mut doc = fixture("intra_community");
        doc.delivery = None;
        assert_eq!(render(&doc), Err(UblError::DeliveryMissing));
        let mut doc = fixture("intra_community");
        if let Some((address, _)) = &mut doc.delivery {
            address.country = String::new();
        }
        assert_eq!(render(&doc), Err(UblError::DeliverToCountryMissing));
    }

    #[test]
    fn a_blank_exemption_reason_without_a_code_is_refused() {
        let mut doc = fixture("intra_community");
        doc.taxes[0].exemption_reason = Some("  ".into());
        doc.taxes[0].exemption_code = None;
        assert_eq!(
            render(&doc),
            Err(UblError::ExemptionReasonMissing {
                rule: "BR-IC-10",
                category: TaxCategory::IntraCommunity
            })
        );
    }

    #[test]
    fn an_intra_community_rate_other_than_zero_is_refused() {
        let mut doc = fixture("intra_community");
        doc.lines[0].tax.rate = Percent::from_basis_points(1900);
        assert!(matches!(
            render(&doc),
            Err(UblError::RateNotAllowed {
                rule: "BR-IC-05",
                ..
            })
        ));
    }

    #[test]
    fn a_credit_transfer_without_an_iban_is_refused() {
        let mut doc = fixture("exempt");
        doc.payment.iban = None;
        assert!(matches!(
            render(&doc),
            Err(UblError::PayeeAccountMissing { .. })
        ));
    }

    #[test]
    fn a_zero_rated_breakdown_with_an_exemption_reason_is_refused() {
        let mut doc = fixture("zero_rated");
        doc.taxes[0].exemption_reason = Some("why".into());
        assert_eq!(
            render(&doc),
            Err(UblError::ExemptionReasonNotAllowed {
                rule: "BR-Z-10",
                category: TaxCategory::Zero
            })
        );
    }

    #[test]
    fn a_standard_rate_of_zero_is_refused() {
        let mut doc = fixture("long_40_lines");
        doc.lines[0].tax.rate = Percent::from_basis_points(0);
        assert!(matches!(
            render(&doc),
            Err(UblError::RateNotAllowed {
                rule: "BR-S-05",
                ..
            })
        ));
    }

    #[test]
    fn totals_that_do_not_add_up_are_refused_before_rendering() {
        let mut doc = fixture("usd");
        doc.totals.payable = Money::new(1, Currency::USD);
        assert!(matches!(render(&doc), Err(UblError::Inconsistent(_))));
    }
}
