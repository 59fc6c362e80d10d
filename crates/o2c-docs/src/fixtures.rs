//! Sample documents covering every tax category, discounts, charges, credit notes and a foreign currency.
//!
//! Used by the tests and benchmarks of both renderers. Every amount is computed the way the core
//! computes it (`Money::checked_mul`, `Percent::of`, `tax_breakdown`), so each document passes
//! `InvoiceDocument::check`. The seller is a (fictitious) industrial supplier in Cologne.

use chrono::{Days, NaiveDate};
use o2c_core::document::{
    AllowanceCharge, DocumentKind, DocumentLine, DocumentTax, InvoiceDocument, LineDiscount, Party,
    PaymentInstructions, PostalAddress, Seller, TaxBreakdown, Totals,
};
use o2c_core::money::{Currency, Money, Percent};
use o2c_core::reference::rf_reference;
use o2c_core::tax::{TaxCategory, TaxableLine, tax_breakdown};

/// Every fixture, named for test output and file names.
pub fn all() -> Vec<(&'static str, InvoiceDocument)> {
    vec![
        (
            "standard_reduced_discount_freight",
            standard_reduced_discount_freight(),
        ),
        ("zero_rated", zero_rated()),
        ("exempt", exempt()),
        ("reverse_charge", reverse_charge()),
        ("export", export()),
        ("intra_community", intra_community()),
        ("credit_note_full", credit_note_full()),
        ("credit_note_partial", credit_note_partial()),
        ("usd", usd()),
        ("jpy", jpy()),
        ("long_40_lines", long_40_lines()),
    ]
}

pub fn seller() -> Seller {
    Seller {
        party: Party {
            name: "Rheinwerk Industriebedarf GmbH".into(),
            address: address("Hohenzollernring 52", None, "Köln", "50672", "DE"),
            vat_id: Some("DE123456789".into()),
            company_id: Some("HRB 98765, Amtsgericht Köln".into()),
            endpoint: Some(("9930".into(), "DE123456789".into())),
            email: Some("rechnung@rheinwerk-industrie.de".into()),
            phone: Some("+49 221 98765-0".into()),
            contact_name: Some("Anna Becker".into()),
        },
        website: Some("https://www.rheinwerk-industrie.de".into()),
        logo_path: None,
        iban: Some("DE89370400440532013000".into()),
        bic: Some("COBADEFFXXX".into()),
        bank_name: Some("Commerzbank AG".into()),
    }
}

/// 19 % and 7 % lines, a 10 % line discount, a 2 % document discount and freight.
pub fn standard_reduced_discount_freight() -> InvoiceDocument {
    let mut lines = items(
        1,
        Currency::EUR,
        standard(),
        &[
            ("HYD-PMP-200", "Hydraulikpumpe HP-200, 200 bar", 2, 124_900),
            (
                "SCH-M8-40",
                "Sechskantschrauben M8×40 DIN 933, 100 Stück",
                12,
                895,
            ),
            ("DICHT-SET-12", "Dichtungssatz NBR <12-teilig>", 5, 3_450),
        ],
    );
    discount(&mut lines[0], 1000, "Projektrabatt");
    lines[0].buyer_item_id = Some("MS-4711".into());
    let standard_net =
        Money::sum(Currency::EUR, lines.iter().map(|l| l.net)).expect("one currency");
    lines.extend(items(
        4,
        Currency::EUR,
        reduced(),
        &[
            (
                "BUCH-HYD-3",
                "Fachbuch \"Hydraulik in der Praxis\", 3. Auflage",
                3,
                4_990,
            ),
            ("KAT-2026", "Produktkatalog 2026 (gedruckt)", 1, 1_200),
        ],
    ));
    let mut doc = invoice("INV-2026-000042", date(2026, 3, 2), domestic_buyer(), lines);
    doc.allowances_charges = vec![
        allowance(standard_net, 200, "Treuerabatt", "95", standard()),
        charge(eur(4_500), "Fracht und Verpackung", "FC", standard()),
    ];
    doc.buyer_reference = Some("PO-55120".into());
    settle(doc, None)
}

/// Photovoltaic modules for a home: 0 % under § 12 (3) UStG (category Z, no exemption reason).
pub fn zero_rated() -> InvoiceDocument {
    let lines = items(
        1,
        Currency::EUR,
        untaxed(TaxCategory::Zero),
        &[
            (
                "PV-MOD-430",
                "Photovoltaikmodul 430 Wp, monokristallin",
                14,
                18_900,
            ),
            ("PV-WR-10K", "Hybrid-Wechselrichter 10 kW", 1, 218_000),
            ("PV-SPEI-10", "Batteriespeicher 10 kWh", 1, 459_000),
        ],
    );
    let buyer = Party {
        name: "Klaus Schneider".into(),
        address: address(
            "Am Weinberg 3",
            None,
            "Bad Neuenahr-Ahrweiler",
            "53474",
            "DE",
        ),
        vat_id: None,
        company_id: None,
        endpoint: Some(("EM".into(), "k.schneider@example.de".into())),
        email: Some("k.schneider@example.de".into()),
        phone: None,
        contact_name: None,
    };
    let mut doc = invoice("INV-2026-000043", date(2026, 3, 3), buyer, lines);
    doc.note = Some("Nullsteuersatz nach § 12 Abs. 3 UStG (Photovoltaikanlage).".into());
    settle(doc, None)
}

/// A safety training: exempt education (category E) with its legal reason and VATEX code.
pub fn exempt() -> InvoiceDocument {
    let lines = items(
        1,
        Currency::EUR,
        untaxed(TaxCategory::Exempt),
        &[
            (
                "SEM-ASI-1",
                "Seminar Arbeitssicherheit an Hydraulikanlagen, 1 Tag",
                8,
                39_000,
            ),
            ("SEM-UNT-1", "Schulungsunterlagen", 8, 2_500),
        ],
    );
    let buyer = Party {
        name: "Berufsbildungswerk Rhein-Erft gGmbH".into(),
        address: address("Luxemburger Straße 300", None, "Hürth", "50354", "DE"),
        vat_id: Some("DE301234567".into()),
        company_id: None,
        endpoint: Some(("9930".into(), "DE301234567".into())),
        email: Some("verwaltung@bbw-rhein-erft.example".into()),
        phone: None,
        contact_name: Some("Petra Hoffmann".into()),
    };
    let mut doc = invoice("INV-2026-000044", date(2026, 3, 4), buyer, lines);
    doc.delivery = None;
    let reason = "Steuerfrei nach § 4 Nr. 21 UStG (Art. 132 Abs. 1 Buchst. i MwStSystRL)";
    settle(doc, Some((reason, "VATEX-EU-132-1I")))
}

/// On-site services for a business in Austria: the buyer accounts for the VAT (category AE).
pub fn reverse_charge() -> InvoiceDocument {
    let lines = items(
        1,
        Currency::EUR,
        untaxed(TaxCategory::ReverseCharge),
        &[
            (
                "SRV-INB-H",
                "Inbetriebnahme Hydraulikaggregat vor Ort, Stunden",
                16,
                11_500,
            ),
            ("SRV-REISE", "Reisekosten pauschal Köln–Linz", 1, 68_000),
            ("SRV-WART-Q2", "Wartungsvertrag Q2 2026", 1, 150_000),
        ],
    );
    let buyer = Party {
        name: "Alpenland Technik GmbH".into(),
        address: address("Wiener Straße 120", Some("Halle 4"), "Linz", "4020", "AT"),
        vat_id: Some("ATU12345678".into()),
        company_id: Some("FN 123456a".into()),
        endpoint: Some(("9914".into(), "ATU12345678".into())),
        email: Some("kreditoren@alpenland-technik.example".into()),
        phone: Some("+43 732 123456".into()),
        contact_name: Some("Mag. Stefan Gruber".into()),
    };
    let mut doc = invoice("INV-2026-000045", date(2026, 3, 5), buyer, lines);
    doc.delivery = None;
    doc.buyer_reference = Some("BEST-2026-0311".into());
    let reason =
        "Steuerschuldnerschaft des Leistungsempfängers / Reverse charge (Art. 196 MwStSystRL)";
    settle(doc, Some((reason, "VATEX-EU-AE")))
}

/// Goods shipped to Switzerland, billed in euros: export (category G).
pub fn export() -> InvoiceDocument {
    let g = untaxed(TaxCategory::Export);
    let mut lines = items(
        1,
        Currency::EUR,
        g.clone(),
        &[
            ("HYD-ZYL-80", "Hydraulikzylinder 80/50-400", 4, 64_500),
            ("HYD-SCHL-12", "Hochdruckschlauch DN12, 2 m", 20, 3_890),
        ],
    );
    discount(&mut lines[0], 500, "Mengenrabatt");
    let mut doc = invoice("INV-2026-000046", date(2026, 3, 6), swiss_buyer(), lines);
    doc.allowances_charges = vec![charge(eur(18_000), "Luftfracht & Zollabwicklung", "FC", g)];
    doc.note = Some("Ausfuhrnachweis: MRN 26DE123456789012A1".into());
    settle(doc, None)
}

/// Goods for a business in France with a French VAT id: an intra-community supply (category K),
/// freight included. The goods went to the buyer's plant in Lyon, not to its head office.
pub fn intra_community() -> InvoiceDocument {
    let k = untaxed(TaxCategory::IntraCommunity);
    let mut lines = items(
        1,
        Currency::EUR,
        k.clone(),
        &[
            ("HYD-PMP-200", "Hydraulikpumpe HP-200, 200 bar", 3, 124_900),
            ("HYD-VENT-4", "Wegeventil 4/3, NG10", 8, 41_250),
            ("FIL-HD-10", "Hochdruckfilter 10 µm", 24, 8_720),
        ],
    );
    discount(&mut lines[1], 500, "Mengenrabatt");
    let buyer = Party {
        name: "Hydrolyon Équipements SAS".into(),
        address: address("18 rue de la Victoire", None, "Paris", "75009", "FR"),
        vat_id: Some("FR55423456780".into()),
        company_id: Some("RCS Paris 423 456 780".into()),
        endpoint: Some(("9957".into(), "FR55423456780".into())),
        email: Some("comptabilite@hydrolyon.example".into()),
        phone: Some("+33 1 23 45 67 89".into()),
        contact_name: Some("Camille Durand".into()),
    };
    let mut doc = invoice("INV-2026-000051", date(2026, 3, 13), buyer, lines);
    let plant = address(
        "12 avenue Tony Garnier",
        Some("Quai 5"),
        "Lyon",
        "69007",
        "FR",
    );
    doc.delivery = Some((plant, date(2026, 3, 10)));
    doc.allowances_charges = vec![charge(eur(24_000), "Fracht Köln–Lyon", "FC", k)];
    doc.buyer_reference = Some("CDE-2026-0417".into());
    let reason = "Steuerfreie innergemeinschaftliche Lieferung \
                  (§ 4 Nr. 1 Buchst. b, § 6a UStG; Art. 138 MwStSystRL)";
    settle(doc, Some((reason, "VATEX-EU-IC")))
}

/// Cancels `standard_reduced_discount_freight` in full.
pub fn credit_note_full() -> InvoiceDocument {
    let original = standard_reduced_discount_freight();
    let mut doc = credit_note(
        "CN-2026-000007",
        date(2026, 3, 16),
        &original,
        original.lines.clone(),
    );
    doc.allowances_charges = original.allowances_charges.clone();
    doc.buyer_reference = original.buyer_reference.clone();
    doc.note = Some(format!(
        "Storno der Rechnung {}: Auftrag vom Kunden vor Lieferung storniert.",
        original.number
    ));
    settle(doc, None)
}

/// Credits two damaged seal kits of `standard_reduced_discount_freight`.
pub fn credit_note_partial() -> InvoiceDocument {
    let original = standard_reduced_discount_freight();
    let billed = original
        .lines
        .iter()
        .find(|l| l.sku == "DICHT-SET-12")
        .expect("seal kits");
    let mut credited = billed.clone();
    credited.id = "1".into();
    credited.quantity = 2;
    credited.net = billed.unit_price.checked_mul(2).expect("no overflow");
    let mut doc = credit_note(
        "CN-2026-000008",
        date(2026, 3, 18),
        &original,
        vec![credited],
    );
    doc.note = Some(
        "Gutschrift: 2 Dichtungssätze bei Lieferung beschädigt (Reklamation R-2026-031).".into(),
    );
    settle(doc, None)
}

/// A US customer billed in dollars, with a 30 % deposit already paid.
pub fn usd() -> InvoiceDocument {
    let lines = items(
        1,
        Currency::USD,
        untaxed(TaxCategory::Export),
        &[
            (
                "HYD-AGG-5K",
                "Hydraulic power unit HPU-5000, 400 V/60 Hz",
                1,
                2_475_000,
            ),
            (
                "HYD-VENT-4",
                "Directional control valve 4/3, NG10",
                6,
                41_250,
            ),
            ("DOC-EN", "Operating manual (English), printed", 2, 2_500),
        ],
    );
    let buyer = Party {
        name: "Northwind Fluid Systems Inc.".into(),
        address: address(
            "1200 Harbor Ave SW",
            Some("Suite 400"),
            "Seattle, WA",
            "98126",
            "US",
        ),
        vat_id: None,
        company_id: Some("EIN 91-1234567".into()),
        endpoint: Some(("EM".into(), "ap@northwind-fluid.example".into())),
        email: Some("ap@northwind-fluid.example".into()),
        phone: Some("+1 206 555 0142".into()),
        contact_name: Some("Dana O'Connor".into()),
    };
    let mut doc = settle(
        invoice("INV-2026-000047", date(2026, 3, 9), buyer, lines),
        None,
    );
    let deposit = Percent::from_basis_points(3000).of(doc.totals.tax_inclusive);
    doc.totals.prepaid = deposit.expect("no overflow");
    doc.totals.payable = doc
        .totals
        .tax_inclusive
        .checked_sub(doc.totals.prepaid)
        .expect("USD");
    doc
}

/// A Japanese customer billed in yen (no minor unit).
pub fn jpy() -> InvoiceDocument {
    let g = untaxed(TaxCategory::Export);
    let mut lines = items(
        1,
        Currency::JPY,
        g.clone(),
        &[
            ("HYD-PMP-200", "Hydraulic pump HP-200", 3, 198_500),
            ("DICHT-SET-12", "NBR seal kit, 12 pieces", 10, 5_480),
        ],
    );
    discount(&mut lines[0], 750, "Distributor discount");
    let buyer = Party {
        name: "Sakura Seimitsu K.K.".into(),
        address: address(
            "2-4-1 Nakanoshima",
            Some("Kita-ku"),
            "Osaka",
            "530-0005",
            "JP",
        ),
        vat_id: None,
        company_id: Some("1234-01-567890".into()),
        endpoint: Some(("EM".into(), "purchasing@sakura-seimitsu.example".into())),
        email: Some("purchasing@sakura-seimitsu.example".into()),
        phone: None,
        contact_name: Some("Tanaka Yuki".into()),
    };
    let mut doc = invoice("INV-2026-000048", date(2026, 3, 10), buyer, lines);
    let freight = Money::new(32_000, Currency::JPY);
    doc.allowances_charges = vec![charge(freight, "Sea freight CIF Osaka", "FC", g)];
    settle(doc, None)
}

/// Forty lines, enough for the PDF to break pages.
pub fn long_40_lines() -> InvoiceDocument {
    const CATALOG: [(&str, &str, i64, bool); 12] = [
        (
            "SCH-M6-20",
            "Zylinderschrauben M6×20 ISO 4762, 100 Stück",
            1_290,
            false,
        ),
        (
            "SCH-M8-40",
            "Sechskantschrauben M8×40 DIN 933, 100 Stück",
            895,
            false,
        ),
        (
            "MUT-M8",
            "Sechskantmuttern M8 DIN 934, 200 Stück",
            640,
            false,
        ),
        ("DICHT-SET-12", "Dichtungssatz NBR, 12-teilig", 3_450, false),
        ("FIL-HD-10", "Hochdruckfilter 10 µm", 8_720, false),
        ("OEL-HLP46-20", "Hydrauliköl HLP 46, 20 l", 7_990, false),
        ("KUP-G12", "Schnellkupplung G 1/2\"", 2_315, false),
        ("MAN-0-250", "Manometer 0–250 bar, Glyzerin", 3_180, false),
        ("SCHL-DN10-1", "Hochdruckschlauch DN10, 1 m", 2_640, false),
        ("VENT-RV-10", "Rückschlagventil RV-10", 4_460, false),
        (
            "BUCH-HYD-3",
            "Fachbuch \"Hydraulik in der Praxis\"",
            4_990,
            true,
        ),
        (
            "NORM-DIN-24",
            "Normensammlung Fluidtechnik (Druckausgabe)",
            11_800,
            true,
        ),
    ];
    let lines = (0..40u32)
        .flat_map(|i| {
            let (sku, description, price, is_book) = CATALOG[i as usize % CATALOG.len()];
            let tax = if is_book { reduced() } else { standard() };
            let quantity = i64::from(i % 7) + 1;
            items(
                i + 1,
                Currency::EUR,
                tax,
                &[(sku, description, quantity, price)],
            )
        })
        .collect();
    let buyer = Party {
        name: "Stadtwerke Bonn GmbH".into(),
        address: address("Sandkaule 2", None, "Bonn", "53111", "DE"),
        vat_id: Some("DE122119035".into()),
        company_id: Some("HRB 1899, Amtsgericht Bonn".into()),
        endpoint: Some(("0204".into(), "05314000-12345-67".into())),
        email: Some("eingangsrechnungen@stadtwerke-bonn.example".into()),
        phone: None,
        contact_name: None,
    };
    let mut doc = invoice("INV-2026-000049", date(2026, 3, 11), buyer, lines);
    doc.buyer_reference = Some("05314000-12345-67".into());
    settle(doc, None)
}

/// A one-line export invoice in any currency, for tests of currency handling.
pub fn export_in(currency: Currency) -> InvoiceDocument {
    let lines = items(
        1,
        currency,
        untaxed(TaxCategory::Export),
        &[("HYD-PMP-200", "Hydraulic pump HP-200", 2, 125_000)],
    );
    settle(
        invoice("INV-2026-000050", date(2026, 3, 12), swiss_buyer(), lines),
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn address(
    line1: &str,
    line2: Option<&str>,
    city: &str,
    postal_code: &str,
    country: &str,
) -> PostalAddress {
    PostalAddress {
        line1: line1.into(),
        line2: line2.map(Into::into),
        city: city.into(),
        postal_code: postal_code.into(),
        country: country.into(),
    }
}

fn standard() -> DocumentTax {
    DocumentTax {
        category: TaxCategory::Standard,
        rate: Percent::from_basis_points(1900),
    }
}

fn reduced() -> DocumentTax {
    DocumentTax {
        category: TaxCategory::Reduced,
        rate: Percent::from_basis_points(700),
    }
}

fn untaxed(category: TaxCategory) -> DocumentTax {
    DocumentTax {
        category,
        rate: Percent::from_basis_points(0),
    }
}

fn domestic_buyer() -> Party {
    Party {
        name: "Müller & Söhne Maschinenbau KG".into(),
        address: address(
            "Industriestraße 7",
            Some("Tor 3"),
            "Stuttgart",
            "70565",
            "DE",
        ),
        vat_id: Some("DE287654321".into()),
        company_id: Some("HRA 7312, Amtsgericht Stuttgart".into()),
        endpoint: Some(("9930".into(), "DE287654321".into())),
        email: Some("einkauf@mueller-soehne.example".into()),
        phone: Some("+49 711 123 45-0".into()),
        contact_name: Some("Jürgen Weber".into()),
    }
}

fn swiss_buyer() -> Party {
    Party {
        name: "Helvetia Werkzeug AG".into(),
        address: address("Bahnhofstrasse 21", None, "Zürich", "8001", "CH"),
        vat_id: Some("CHE-123.456.789 MWST".into()),
        company_id: None,
        endpoint: Some(("EM".into(), "kreditoren@helvetia-werkzeug.example".into())),
        email: Some("kreditoren@helvetia-werkzeug.example".into()),
        phone: None,
        contact_name: Some("Reto Meier".into()),
    }
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

/// Lines numbered from `first`, each `(sku, description, quantity, unit price in minor units)`,
/// billing `quantity × unit_price`, all under one tax.
fn items(
    first: u32,
    currency: Currency,
    tax: DocumentTax,
    rows: &[(&str, &str, i64, i64)],
) -> Vec<DocumentLine> {
    (first..)
        .zip(rows)
        .map(|(n, &(sku, description, quantity, price))| {
            let unit_price = Money::new(price, currency);
            DocumentLine {
                id: n.to_string(),
                sku: sku.into(),
                buyer_item_id: None,
                description: description.into(),
                quantity,
                unit_price,
                discount: None,
                net: unit_price.checked_mul(quantity).expect("no overflow"),
                tax: tax.clone(),
                order_line_ref: Some(format!("ORD-2026-0815/{n}")),
            }
        })
        .collect()
}

fn discount(line: &mut DocumentLine, basis_points: i64, reason: &str) {
    let base = line
        .unit_price
        .checked_mul(line.quantity)
        .expect("no overflow");
    let percent = Percent::from_basis_points(basis_points);
    let amount = percent.of(base).expect("no overflow");
    line.net = base.checked_sub(amount).expect("one currency");
    line.discount = Some(LineDiscount {
        amount,
        base,
        percent,
        reason: reason.into(),
    });
}

fn allowance(
    base: Money,
    basis_points: i64,
    reason: &str,
    code: &str,
    tax: DocumentTax,
) -> AllowanceCharge {
    let percent = Percent::from_basis_points(basis_points);
    AllowanceCharge {
        is_charge: false,
        amount: percent.of(base).expect("no overflow"),
        base: Some(base),
        percent: Some(percent),
        reason: reason.into(),
        reason_code: Some(code.into()),
        tax,
    }
}

fn charge(amount: Money, reason: &str, code: &str, tax: DocumentTax) -> AllowanceCharge {
    AllowanceCharge {
        is_charge: true,
        amount,
        base: None,
        percent: None,
        reason: reason.into(),
        reason_code: Some(code.into()),
        tax,
    }
}

/// An invoice of `lines`, delivered the day before, due in 30 days, paid by credit transfer;
/// its breakdown and totals are left to `settle`.
fn invoice(
    number: &str,
    issue_date: NaiveDate,
    buyer: Party,
    lines: Vec<DocumentLine>,
) -> InvoiceDocument {
    let currency = lines[0].net.currency();
    let seller = seller();
    let domestic = buyer.address.country == seller.party.address.country;
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: number.into(),
        issue_date,
        due_date: issue_date.checked_add_days(Days::new(30)),
        currency,
        buyer_reference: None,
        order_numbers: vec!["ORD-2026-0815".into()],
        preceding_invoice: None,
        payment: PaymentInstructions {
            means_code: if currency == Currency::EUR {
                "58"
            } else {
                "30"
            }
            .into(),
            reference: rf_reference(number).expect("document numbers are alphanumeric"),
            iban: seller.iban.clone(),
            bic: seller.bic.clone(),
            account_name: Some(seller.party.name.clone()),
            terms: if domestic {
                "Zahlbar innerhalb von 30 Tagen ohne Abzug."
            } else {
                "Payable within 30 days net."
            }
            .into(),
        },
        seller,
        delivery: issue_date
            .checked_sub_days(Days::new(1))
            .map(|d| (buyer.address.clone(), d)),
        buyer,
        lines,
        allowances_charges: vec![],
        taxes: vec![],
        totals: totals(currency, &[], &[], &[]),
        note: None,
    }
}

/// A credit note correcting `original`. It is set off against open invoices (UNCL4461 97), so it
/// names no account.
fn credit_note(
    number: &str,
    issue_date: NaiveDate,
    original: &InvoiceDocument,
    lines: Vec<DocumentLine>,
) -> InvoiceDocument {
    let mut doc = invoice(number, issue_date, original.buyer.clone(), lines);
    doc.kind = DocumentKind::CreditNote;
    doc.due_date = None;
    doc.delivery = None;
    doc.preceding_invoice = Some((original.number.clone(), original.issue_date));
    doc.payment.means_code = "97".into();
    doc.payment.iban = None;
    doc.payment.bic = None;
    doc.payment.account_name = None;
    doc.payment.terms = "Der Betrag wird mit offenen Rechnungen verrechnet.".into();
    doc
}

/// Computes the breakdown the way the core does — lines, allowances (negative) and charges per
/// (category, rate) — and the EN 16931 totals. `exemption` is the (reason, VATEX code) of the
/// categories that need one; without it the category's default applies.
fn settle(mut doc: InvoiceDocument, exemption: Option<(&str, &str)>) -> InvoiceDocument {
    let lines = doc.lines.iter().map(|l| (&l.tax, l.net));
    let acs = doc.allowances_charges.iter().map(|a| {
        let net = if a.is_charge {
            Ok(a.amount)
        } else {
            a.amount.checked_neg()
        };
        (&a.tax, net.expect("no overflow"))
    });
    let taxable: Vec<TaxableLine> = lines
        .chain(acs)
        .map(|(tax, net)| TaxableLine {
            category: tax.category,
            rate: tax.rate,
            net,
        })
        .collect();
    doc.taxes = tax_breakdown(&taxable)
        .expect("one currency")
        .into_iter()
        .map(|s| {
            let (reason, code) = match exemption {
                _ if !s.category.needs_exemption_reason() => (None, None),
                Some((r, c)) => (Some(r), Some(c)),
                None => s.category.default_exemption().unzip(),
            };
            TaxBreakdown {
                category: s.category,
                rate: s.rate,
                taxable: s.taxable,
                tax: s.tax,
                exemption_reason: reason.map(Into::into),
                exemption_code: code.map(Into::into),
            }
        })
        .collect();
    doc.totals = totals(
        doc.currency,
        &doc.lines,
        &doc.allowances_charges,
        &doc.taxes,
    );
    doc
}

fn totals(
    currency: Currency,
    lines: &[DocumentLine],
    acs: &[AllowanceCharge],
    taxes: &[TaxBreakdown],
) -> Totals {
    let sum = |items: Vec<Money>| Money::sum(currency, items).expect("one currency");
    let line_net = sum(lines.iter().map(|l| l.net).collect());
    let allowances = sum(acs
        .iter()
        .filter(|a| !a.is_charge)
        .map(|a| a.amount)
        .collect());
    let charges = sum(acs
        .iter()
        .filter(|a| a.is_charge)
        .map(|a| a.amount)
        .collect());
    let tax = sum(taxes.iter().map(|t| t.tax).collect());
    let tax_exclusive = line_net
        .checked_sub(allowances)
        .and_then(|m| m.checked_add(charges))
        .expect("no overflow");
    let tax_inclusive = tax_exclusive.checked_add(tax).expect("no overflow");
    Totals {
        line_net,
        allowances,
        charges,
        tax_exclusive,
        tax,
        tax_inclusive,
        prepaid: Money::zero(currency),
        payable: tax_inclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_adds_up() {
        for (name, doc) in all() {
            doc.check().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn the_fixtures_cover_every_tax_category_and_both_kinds() {
        let docs = all();
        for category in TaxCategory::ALL {
            assert!(
                docs.iter()
                    .any(|(_, d)| d.taxes.iter().any(|t| t.category == category)),
                "{category:?}"
            );
        }
        assert!(docs.iter().any(|(_, d)| d.kind == DocumentKind::CreditNote));
        assert!(docs.iter().any(|(_, d)| d.currency.exponent() == 0));
        assert!(docs.iter().any(|(_, d)| d.lines.len() >= 40));
    }

    #[test]
    fn the_mixed_invoice_computes_tax_on_the_discounted_base() {
        let doc = standard_reduced_discount_freight();
        let standard = &doc.taxes[0];
        // Lines 2 248.20 + 107.40 + 172.50, minus 2 % (50.56), plus freight 45.00.
        assert_eq!(standard.taxable.minor(), 252_254);
        assert_eq!(standard.tax.minor(), 47_928);
        assert_eq!(doc.taxes[1].taxable.minor(), 16_170);
        assert_eq!(doc.taxes[1].tax.minor(), 1_132);
    }

    #[test]
    fn payment_references_are_valid_rf_references() {
        for (name, doc) in all() {
            assert!(
                o2c_core::reference::is_valid_rf(&doc.payment.reference),
                "{name}"
            );
        }
    }
}
