//! PDF rendering: an A4 invoice or credit note for people, laid out from an already computed
//! [`InvoiceDocument`]. Nothing here adds up an amount; [`render`] refuses a document whose
//! totals do not check.
//!
//! Dependencies and why:
//! - `pdf-writer` (the typst project's low-level writer: objects, cross-reference table, string
//!   escaping, four tiny dependencies) instead of `printpdf`: printpdf 0.7 (31 crates) has no
//!   text metrics for the built-in fonts, which right-aligned amounts need, and 0.8 pulls about
//!   250 crates. typst is far too heavy for one document layout.
//! - `miniz_oxide` (pure Rust zlib) compresses the page streams and re-encodes PNG logos that
//!   carry transparency (PDF keeps alpha in a separate soft mask).
//! - Fonts are the standard Helvetica and Helvetica-Bold with WinAnsiEncoding: nothing to embed,
//!   text stays searchable and copyable, and Windows-1252 covers German umlauts, ß and €. The
//!   glyph widths below are the Helvetica AFM metrics (URW Nimbus Sans has the same advances);
//!   they are also written into each font dictionary so every viewer spaces the glyphs exactly as
//!   they were measured here. A character outside Windows-1252 prints as `?`: documents for
//!   other scripts will need an embedded TrueType font.
//!
//! Logo policy: a `logo_path` that does not exist renders the document without a logo (a moved
//! asset must not stop billing); a file that exists but cannot be read or is not a PNG/JPEG this
//! module can embed is [`PdfError::LogoUnreadable`] / [`PdfError::LogoUnsupported`], because that
//! is a configuration mistake someone should fix at the first document, not discover in print.

use chrono::NaiveDate;
use miniz_oxide::deflate::compress_to_vec_zlib;
use o2c_core::document::{
    AllowanceCharge, DocumentError, DocumentKind, DocumentLine, InvoiceDocument, PostalAddress,
};
use o2c_core::money::{Money, Percent};
use o2c_core::reference::grouped;
use o2c_core::tax::TaxCategory;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the document does not add up, refusing to print it: {0}")]
    Inconsistent(#[from] DocumentError),
    #[error("cannot read the logo {path}: {source}")]
    LogoUnreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the logo {path} cannot be embedded: {reason}")]
    LogoUnsupported { path: String, reason: &'static str },
}

/// Renders the document as a PDF (A4 portrait, as many pages as the lines need).
pub fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, PdfError> {
    doc.check()?;
    let logo = match doc.seller.logo_path.as_deref() {
        Some(path) => image::load(path)?,
        None => None,
    };
    let mut layout = Layout::new(doc);
    layout.letterhead(logo.as_ref().map(|l| (l.width as f32, l.height as f32)));
    layout.addresses();
    layout.title();
    layout.lines_table();
    layout.summary();
    layout.payment();
    let pages = layout.finish();
    Ok(write_pdf(doc, pages, logo.as_ref()))
}

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_W - 50.0;
/// The body stops here; the footer (seller, tax and bank details, page numbers) lives below.
const BODY_BOTTOM: f32 = PAGE_H - 82.0;
const CONTINUATION_TOP: f32 = 72.0;

const INK: [f32; 3] = [0.1, 0.1, 0.12];
const GREY: [f32; 3] = [0.42, 0.43, 0.46];
const ACCENT: [f32; 3] = [0.12, 0.31, 0.47];
const TINT: [f32; 3] = [0.94, 0.95, 0.97];
const HAIRLINE: [f32; 3] = [0.82, 0.83, 0.86];

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }
    fn base_font(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"Helvetica"),
            Font::Bold => Name(b"Helvetica-Bold"),
        }
    }
    /// Advance widths (1/1000 em) of WinAnsi codes 32..=255.
    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
        }
    }
}

#[derive(Clone, Copy)]
struct Style {
    font: Font,
    size: f32,
    color: [f32; 3],
}

const fn style(font: Font, size: f32, color: [f32; 3]) -> Style {
    Style { font, size, color }
}

const BODY: Style = style(Font::Regular, 9.0, INK);
const BODY_BOLD: Style = style(Font::Bold, 9.0, INK);
const LABEL: Style = style(Font::Regular, 8.5, GREY);
const CELL: Style = style(Font::Regular, 8.5, INK);
const CELL_NOTE: Style = style(Font::Regular, 7.5, GREY);
const HEAD: Style = style(Font::Bold, 7.5, ACCENT);
const SMALL: Style = style(Font::Regular, 7.0, GREY);
const HEADING: Style = style(Font::Bold, 10.0, ACCENT);

impl Style {
    fn width(&self, text: &str) -> f32 {
        let widths = self.font.widths();
        let units: u32 = text
            .chars()
            .map(|c| u32::from(widths[usize::from(win_ansi(c) - 32)]))
            .sum();
        units as f32 * self.size / 1000.0
    }
    fn leading(&self) -> f32 {
        self.size * 1.28
    }
    fn bold(self) -> Style {
        Style {
            font: Font::Bold,
            ..self
        }
    }
    fn sized(self, size: f32) -> Style {
        Style { size, ..self }
    }
}

/// Windows-1252 code of a character; whitespace becomes a space, anything else unmapped `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' | '\u{a0}'..='\u{ff}' => c as u8,
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        '\u{2212}' => b'-',
        c if c.is_whitespace() => b' ',
        _ => b'?',
    }
}

pub(crate) fn encode(text: &str) -> Vec<u8> {
    text.chars().map(win_ansi).collect()
}

fn text(c: &mut Content, s: Style, x: f32, y: f32, text: &str) {
    let [r, g, b] = s.color;
    c.set_fill_rgb(r, g, b);
    c.begin_text();
    c.set_font(s.font.resource(), s.size);
    c.next_line(x, PAGE_H - y);
    c.show(Str(&encode(text)));
    c.end_text();
}

fn text_right(c: &mut Content, s: Style, right: f32, y: f32, t: &str) {
    text(c, s, right - s.width(t), y, t);
}

fn rule(c: &mut Content, x1: f32, x2: f32, y: f32, width: f32, color: [f32; 3]) {
    let [r, g, b] = color;
    c.set_stroke_rgb(r, g, b);
    c.set_line_width(width);
    c.move_to(x1, PAGE_H - y);
    c.line_to(x2, PAGE_H - y);
    c.stroke();
}

fn fill(c: &mut Content, x: f32, y: f32, w: f32, h: f32, color: [f32; 3]) {
    let [r, g, b] = color;
    c.set_fill_rgb(r, g, b);
    c.rect(x, PAGE_H - y - h, w, h);
    c.fill_nonzero();
}

/// Breaks text into lines no wider than `max`; a word longer than a line is cut.
fn wrap(s: Style, text: &str, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if s.width(&candidate) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for ch in word.chars() {
                line.push(ch);
                if s.width(&line) > max && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, ch.to_string()));
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// `12345.6` → `12,345.60`: the currency's decimals from the core, thousands grouped for reading.
fn amount(m: Money) -> String {
    let plain = m.to_decimal_string();
    let (sign, digits) = plain
        .strip_prefix('-')
        .map_or(("", plain.as_str()), |d| ("-", d));
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut out = String::from(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

fn amount_code(m: Money) -> String {
    format!("{} {}", amount(m), m.currency())
}

fn negated(m: Money) -> Money {
    Money::new(m.minor().saturating_neg(), m.currency())
}

/// `19.00` → `19%`, `5.50` → `5.5%`.
fn percent(p: Percent) -> String {
    let s = p.to_decimal_string();
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn category_name(c: TaxCategory) -> &'static str {
    match c {
        TaxCategory::Standard => "Standard rate",
        TaxCategory::Reduced => "Reduced rate",
        TaxCategory::Zero => "Zero rated",
        TaxCategory::Exempt => "Exempt",
        TaxCategory::ReverseCharge => "Reverse charge",
        TaxCategory::Export => "Export",
        TaxCategory::IntraCommunity => "Intra-community supply",
    }
}

/// The tax column of a line: the rate, or what the zero stands for.
fn tax_label(c: TaxCategory, rate: Percent) -> String {
    match c {
        TaxCategory::Standard | TaxCategory::Reduced | TaxCategory::Zero => percent(rate),
        TaxCategory::Exempt => "exempt".into(),
        TaxCategory::ReverseCharge => "rev. ch.".into(),
        TaxCategory::Export => "export".into(),
        TaxCategory::IntraCommunity => "intra-EU".into(),
    }
}

fn city_line(a: &PostalAddress) -> String {
    format!("{} {}", a.postal_code, a.city)
}

struct Words {
    title: &'static str,
    number: &'static str,
    total: &'static str,
    payable: &'static str,
}

fn words(kind: DocumentKind) -> Words {
    match kind {
        DocumentKind::Invoice => Words {
            title: "Invoice",
            number: "Invoice no.",
            total: "Total",
            payable: "Amount due",
        },
        DocumentKind::CreditNote => Words {
            title: "Credit note",
            number: "Credit note no.",
            total: "Total credit",
            payable: "Amount credited",
        },
    }
}

/// One table column: header, width in points, right-aligned (amounts) or not.
struct Column {
    title: &'static str,
    width: f32,
    money: bool,
}

/// Position, item, description (takes what is left), quantity, unit price, discount, net, VAT.
const COLUMNS: [Column; 8] = [
    col("Pos", 22.0, false),
    col("Item", 76.0, false),
    col("Description", 0.0, false),
    col("Qty", 30.0, false),
    col("Unit price", 60.0, true),
    col("Discount", 54.0, true),
    col("Net", 64.0, true),
    col("VAT", 38.0, false),
];
const DESCRIPTION: usize = 2;
const PAD: f32 = 3.5;

const fn col(title: &'static str, width: f32, money: bool) -> Column {
    Column {
        title,
        width,
        money,
    }
}

/// Left edge and width of each column.
fn column_boxes() -> [(f32, f32); 8] {
    let fixed: f32 = COLUMNS.iter().map(|c| c.width).sum();
    let mut x = LEFT;
    let mut out = [(0.0, 0.0); 8];
    for (i, c) in COLUMNS.iter().enumerate() {
        let w = if i == DESCRIPTION {
            RIGHT - LEFT - fixed
        } else {
            c.width
        };
        out[i] = (x, w);
        x += w;
    }
    out
}

/// Columns 0-2 hold text (left-aligned); from quantity on, cells are right-aligned.
fn right_aligned(i: usize) -> bool {
    i > DESCRIPTION
}

type Cell = Vec<(Style, String)>;

fn cell_height(cell: &Cell) -> f32 {
    cell.iter().map(|(s, _)| s.leading()).sum()
}

struct Layout<'a> {
    doc: &'a InvoiceDocument,
    words: Words,
    pages: Vec<Content>,
    /// Top of the free space on the current page, measured down from the top edge.
    y: f32,
    logo: Option<Rect>,
}

impl<'a> Layout<'a> {
    fn new(doc: &'a InvoiceDocument) -> Self {
        Layout {
            doc,
            words: words(doc.kind),
            pages: vec![Content::new()],
            y: 40.0,
            logo: None,
        }
    }

    fn c(&mut self) -> &mut Content {
        self.pages.last_mut().expect("layout starts with a page")
    }

    /// Starts a new page when `h` points do not fit; true when it did.
    fn ensure(&mut self, h: f32) -> bool {
        if self.y + h <= BODY_BOTTOM || self.y <= CONTINUATION_TOP {
            return false;
        }
        self.pages.push(Content::new());
        let doc = self.doc;
        let right = format!(
            "{} {} · {} · continued",
            self.words.title,
            doc.number,
            date(doc.issue_date)
        );
        let c = self.c();
        text(c, HEADING, LEFT, 46.0, &doc.seller.party.name);
        text_right(c, LABEL, RIGHT, 46.0, &right);
        rule(c, LEFT, RIGHT, 54.0, 0.6, HAIRLINE);
        self.y = CONTINUATION_TOP;
        true
    }

    /// Company name, address and contact at the left; the logo at the right.
    fn letterhead(&mut self, logo_px: Option<(f32, f32)>) {
        let top = self.y;
        let mut bottom = top + 40.0;
        let mut text_right_edge = RIGHT;
        if let Some((w, h)) = logo_px {
            let scale = (150.0 / w).min(54.0 / h);
            let (w, h) = (w * scale, h * scale);
            self.logo = Some(Rect::new(RIGHT - w, PAGE_H - top - h, RIGHT, PAGE_H - top));
            bottom = bottom.max(top + h);
            text_right_edge = RIGHT - w - 16.0;
        }
        let seller = &self.doc.seller;
        let p = &seller.party;
        let a = &p.address;
        let address: Vec<&str> = [Some(a.line1.as_str()), a.line2.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let address = format!("{} · {} · {}", address.join(", "), city_line(a), a.country);
        let contact: Vec<String> = [
            p.phone.as_ref().map(|t| format!("Tel. {t}")),
            p.email.clone(),
            seller.website.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let name_style = HEADING.sized(17.0);
        let mut y = top + 15.0;
        let max = text_right_edge - LEFT;
        for line in wrap(name_style, &p.name, max) {
            text(self.c(), name_style, LEFT, y, &line);
            y += name_style.leading();
        }
        y -= 4.0;
        for line in [address, contact.join(" · ")] {
            for part in wrap(LABEL, &line, max) {
                text(self.c(), LABEL, LEFT, y, &part);
                y += LABEL.leading();
            }
        }
        bottom = bottom.max(y - 4.0) + 8.0;
        rule(self.c(), LEFT, RIGHT, bottom, 1.2, ACCENT);
        self.y = bottom;
    }

    /// The buyer's address at the left (DIN 5008 style, with a sender line) and the document's
    /// key facts at the right.
    fn addresses(&mut self) {
        let doc = self.doc;
        let top = self.y + 28.0;
        let s = &doc.seller.party;
        let sender = format!(
            "{} · {} · {}",
            s.name,
            s.address.line1,
            city_line(&s.address)
        );
        let sender_style = SMALL.sized(6.5);
        // One line that stays clear of the facts column, even for a long company name.
        let sender = wrap(sender_style, &sender, 270.0).remove(0);
        text(self.c(), sender_style, LEFT, top, &sender);
        let w = sender_style.width(&sender);
        rule(self.c(), LEFT, LEFT + w, top + 2.0, 0.3, GREY);

        let b = &doc.buyer;
        let mut lines: Vec<(Style, String)> = wrap(BODY_BOLD.sized(10.0), &b.name, 240.0)
            .into_iter()
            .map(|l| (BODY_BOLD.sized(10.0), l))
            .collect();
        if let Some(contact) = &b.contact_name {
            lines.push((BODY, format!("Attn. {contact}")));
        }
        lines.push((BODY, b.address.line1.clone()));
        if let Some(l2) = &b.address.line2 {
            lines.push((BODY, l2.clone()));
        }
        lines.push((BODY, city_line(&b.address)));
        if b.address.country != s.address.country {
            lines.push((BODY, b.address.country.to_uppercase()));
        }
        let mut y = top + 16.0;
        for (st, line) in &lines {
            text(self.c(), *st, LEFT, y, line);
            y += st.leading() + 1.5;
        }

        let (label_x, value_x) = (335.0, 405.0);
        let mut my = top;
        for (label, value) in self.facts() {
            text(self.c(), LABEL, label_x, my, label);
            for line in wrap(BODY, &value, RIGHT - value_x) {
                text(self.c(), BODY, value_x, my, &line);
                my += BODY.leading();
            }
            my += 1.5;
        }
        self.y = y.max(my);
    }

    fn facts(&self) -> Vec<(&'static str, String)> {
        let doc = self.doc;
        let mut facts = vec![
            (self.words.number, doc.number.clone()),
            ("Issue date", date(doc.issue_date)),
        ];
        if let Some(due) = doc.due_date {
            facts.push(("Due date", date(due)));
        }
        if let Some((number, issued)) = &doc.preceding_invoice {
            facts.push(("Corrects invoice", format!("{number} of {}", date(*issued))));
        }
        if let Some((_, delivered)) = &doc.delivery {
            facts.push(("Delivery date", date(*delivered)));
        }
        if !doc.order_numbers.is_empty() {
            let label = if doc.order_numbers.len() > 1 {
                "Orders"
            } else {
                "Order no."
            };
            facts.push((label, doc.order_numbers.join(", ")));
        }
        if let Some(r) = &doc.buyer_reference {
            facts.push(("Your reference", r.clone()));
        }
        if let Some(vat) = &doc.buyer.vat_id {
            facts.push(("Your VAT ID", vat.clone()));
        }
        if let Some(contact) = &doc.seller.party.contact_name {
            facts.push(("Your contact", contact.clone()));
        }
        facts
    }

    /// "Invoice INV-…", then where the goods went (when not to the billing address) and the note.
    fn title(&mut self) {
        let doc = self.doc;
        self.y += 26.0;
        let title = format!("{} {}", self.words.title, doc.number);
        let y = self.y;
        text(self.c(), HEADING.sized(18.0), LEFT, y, &title);
        self.y += 8.0;
        let mut notes = Vec::new();
        if let Some((to, _)) = &doc.delivery
            && to != &doc.buyer.address
        {
            let mut parts = vec![to.line1.clone()];
            parts.extend(to.line2.clone());
            parts.push(city_line(to));
            parts.push(to.country.clone());
            notes.push(format!("Delivered to: {}", parts.join(", ")));
        }
        notes.extend(doc.note.clone());
        for note in notes {
            self.y += 6.0;
            for line in wrap(BODY, &note, RIGHT - LEFT) {
                self.y += BODY.leading();
                let y = self.y;
                text(self.c(), BODY, LEFT, y, &line);
            }
        }
        self.y += 16.0;
    }

    fn table_header(&mut self) {
        let code = self.doc.currency.code().to_string();
        let boxes = column_boxes();
        let top = self.y;
        let c = self.c();
        fill(c, LEFT, top, RIGHT - LEFT, 24.0, TINT);
        for (i, column) in COLUMNS.iter().enumerate() {
            let (x, w) = boxes[i];
            if right_aligned(i) {
                text_right(c, HEAD, x + w - PAD, top + 10.0, column.title);
                if column.money {
                    text_right(c, SMALL, x + w - PAD, top + 19.0, &code);
                }
            } else {
                text(c, HEAD, x + PAD, top + 10.0, column.title);
            }
        }
        self.y += 24.0;
    }

    fn lines_table(&mut self) {
        // Never leave the header alone at the foot of a page.
        self.ensure(24.0 + 3.0 * CELL.leading());
        self.table_header();
        let doc = self.doc;
        for line in &doc.lines {
            let cells = line_cells(line);
            self.table_row(&cells);
        }
        for ac in &doc.allowances_charges {
            let cells = allowance_charge_cells(ac);
            self.table_row(&cells);
        }
    }

    fn table_row(&mut self, cells: &[Cell; 8]) {
        let height = cells.iter().map(cell_height).fold(0.0, f32::max) + 7.0;
        if self.ensure(height) {
            self.table_header();
        }
        let boxes = column_boxes();
        let top = self.y;
        let c = self.c();
        for (i, cell) in cells.iter().enumerate() {
            let (x, w) = boxes[i];
            let mut y = top + 3.0;
            for (st, line) in cell {
                y += st.leading();
                if right_aligned(i) {
                    text_right(c, *st, x + w - PAD, y - 2.0, line);
                } else {
                    text(c, *st, x + PAD, y - 2.0, line);
                }
            }
        }
        rule(c, LEFT, RIGHT, top + height, 0.5, HAIRLINE);
        self.y += height;
    }

    /// The tax breakdown at the left, the totals at the right, kept together on one page.
    fn summary(&mut self) {
        let breakdown = self.breakdown_rows();
        let totals = self.totals_rows();
        let left_h: f32 = 30.0
            + breakdown
                .iter()
                .map(|(_, r)| 13.0 + r.len() as f32 * 9.0)
                .sum::<f32>();
        let right_h = 8.0 + totals.len() as f32 * 15.0 + 8.0;
        self.y += 16.0;
        self.ensure(left_h.max(right_h));
        let top = self.y;
        self.draw_breakdown(top, &breakdown);
        self.draw_totals(top, &totals);
        self.y = top + left_h.max(right_h);
    }

    /// Each row: (category, rate, taxable, tax) cells and the wrapped exemption reason.
    fn breakdown_rows(&self) -> Vec<([String; 4], Vec<String>)> {
        self.doc
            .taxes
            .iter()
            .map(|t| {
                let reason = match (&t.exemption_reason, &t.exemption_code) {
                    (Some(r), Some(code)) => wrap(SMALL, &format!("{r} ({code})"), 262.0),
                    (Some(r), None) => wrap(SMALL, r, 262.0),
                    (None, _) => Vec::new(),
                };
                let cells = [
                    category_name(t.category).to_string(),
                    percent(t.rate),
                    amount(t.taxable),
                    amount(t.tax),
                ];
                (cells, reason)
            })
            .collect()
    }

    fn draw_breakdown(&mut self, top: f32, rows: &[([String; 4], Vec<String>)]) {
        let code = self.doc.currency.code();
        let rights = [0.0, LEFT + 140.0, LEFT + 208.0, LEFT + 270.0];
        let c = self.c();
        text(c, BODY_BOLD.sized(9.5), LEFT, top + 8.0, "VAT breakdown");
        let heads = [
            "Category".to_string(),
            "Rate".to_string(),
            format!("Taxable {code}"),
            format!("VAT {code}"),
        ];
        let mut y = top + 22.0;
        for (i, h) in heads.iter().enumerate() {
            if i == 0 {
                text(c, HEAD, LEFT, y, h);
            } else {
                text_right(c, HEAD, rights[i], y, h);
            }
        }
        rule(c, LEFT, LEFT + 270.0, y + 4.0, 0.5, HAIRLINE);
        y += 4.0;
        for (cells, reason) in rows {
            y += 13.0;
            text(c, CELL, LEFT, y, &cells[0]);
            for i in 1..4 {
                text_right(c, CELL, rights[i], y, &cells[i]);
            }
            for line in reason {
                y += 9.0;
                text(c, SMALL, LEFT, y, line);
            }
        }
    }

    /// (label, amount, is the final emphasised line).
    fn totals_rows(&self) -> Vec<(&'static str, Money, bool)> {
        let t = &self.doc.totals;
        let has_ac = !self.doc.allowances_charges.is_empty();
        let mut rows = Vec::new();
        if has_ac {
            rows.push(("Total of lines", t.line_net, false));
            if !t.allowances.is_zero() {
                rows.push(("Allowances", negated(t.allowances), false));
            }
            if !t.charges.is_zero() {
                rows.push(("Charges", t.charges, false));
            }
        }
        rows.push(("Total net", t.tax_exclusive, false));
        rows.push(("VAT", t.tax, false));
        rows.push((self.words.total, t.tax_inclusive, false));
        if !t.prepaid.is_zero() {
            rows.push(("Paid in advance", negated(t.prepaid), false));
        }
        rows.push((self.words.payable, t.payable, true));
        rows
    }

    fn draw_totals(&mut self, top: f32, rows: &[(&'static str, Money, bool)]) {
        let x = 345.0;
        let total_label = self.words.total;
        let c = self.c();
        let mut y = top + 8.0;
        for (label, money, last) in rows {
            if *last {
                y += 4.0;
                fill(c, x - 6.0, y - 2.0, RIGHT - x + 6.0, 19.0, TINT);
                rule(c, x - 6.0, RIGHT, y - 2.0, 1.0, ACCENT);
                let st = BODY_BOLD.sized(10.5);
                let st = Style {
                    color: ACCENT,
                    ..st
                };
                text(c, st, x, y + 11.5, label);
                text_right(c, st, RIGHT - 4.0, y + 11.5, &amount_code(*money));
                continue;
            }
            let st = if *label == total_label {
                BODY_BOLD
            } else {
                BODY
            };
            text(c, st, x, y, label);
            text_right(c, st, RIGHT - 4.0, y, &amount_code(*money));
            y += 15.0;
        }
    }

    /// Where and how to pay (invoices), or how the credit is settled (credit notes): the bank
    /// account at the left, reference, due date and terms at the right.
    fn payment(&mut self) {
        let doc = self.doc;
        let sentence = wrap(BODY, &self.payment_sentence(), RIGHT - LEFT - 28.0);
        let (bank, reference) = self.payment_rows();
        let columns: Vec<PaymentColumn> = [bank, reference]
            .into_iter()
            .filter(|rows| !rows.is_empty())
            .enumerate()
            .map(|(i, rows)| PaymentColumn::new(LEFT + 14.0 + i as f32 * 244.0, rows))
            .collect();
        let rows_h = columns.iter().map(|c| c.height).fold(0.0, f32::max);
        let height = 24.0 + sentence.len() as f32 * BODY.leading() + 6.0 + rows_h + 8.0;
        self.y += 14.0;
        self.ensure(height);
        let top = self.y;
        let heading = match doc.kind {
            DocumentKind::Invoice => "Payment",
            DocumentKind::CreditNote => "Settlement",
        };
        let c = self.c();
        fill(c, LEFT, top, RIGHT - LEFT, height, TINT);
        fill(c, LEFT, top, 3.0, height, ACCENT);
        text(c, BODY_BOLD.sized(10.0), LEFT + 14.0, top + 17.0, heading);
        let mut y = top + 20.0;
        for line in &sentence {
            y += BODY.leading();
            text(c, BODY, LEFT + 14.0, y, line);
        }
        for column in &columns {
            column.draw(c, y + 6.0);
        }
        self.y = top + height;
    }

    fn payment_sentence(&self) -> String {
        let doc = self.doc;
        let payable = doc.totals.payable;
        match doc.kind {
            DocumentKind::CreditNote => format!(
                "{} is credited to you. Please quote the reference below in any correspondence.",
                amount_code(payable)
            ),
            DocumentKind::Invoice if payable.is_zero() => {
                "This invoice has been paid in full; nothing is due.".into()
            }
            DocumentKind::Invoice if payable.is_negative() => format!(
                "You have overpaid: {} is in your favour.",
                amount_code(negated(payable))
            ),
            DocumentKind::Invoice => match doc.due_date {
                Some(due) => format!(
                    "Please transfer {} by {} to the account below, quoting the payment reference.",
                    amount_code(payable),
                    date(due)
                ),
                None => format!(
                    "Please transfer {} to the account below, quoting the payment reference.",
                    amount_code(payable)
                ),
            },
        }
    }

    /// (bank account rows, reference rows).
    fn payment_rows(&self) -> (Vec<PaymentRow>, Vec<PaymentRow>) {
        let doc = self.doc;
        let p = &doc.payment;
        let s = &doc.seller;
        let mut bank = Vec::new();
        if doc.kind == DocumentKind::Invoice && doc.totals.payable.is_positive() {
            let holder = p
                .account_name
                .clone()
                .unwrap_or_else(|| s.party.name.clone());
            bank.push(("Account holder", BODY, holder));
            if let Some(iban) = p.iban.as_ref().or(s.iban.as_ref()) {
                let compact: String = iban.split_whitespace().collect();
                bank.push(("IBAN", BODY_BOLD, grouped(&compact)));
            }
            if let Some(bic) = p.bic.as_ref().or(s.bic.as_ref()) {
                bank.push(("BIC", BODY, bic.clone()));
            }
            if let Some(name) = &s.bank_name {
                bank.push(("Bank", BODY, name.clone()));
            }
        }
        let mut reference = vec![("Reference", BODY_BOLD.sized(10.5), grouped(&p.reference))];
        if let Some(due) = doc.due_date.filter(|_| doc.kind == DocumentKind::Invoice) {
            reference.push(("Due date", BODY, date(due)));
        }
        if !p.terms.is_empty() {
            reference.push(("Terms", BODY, p.terms.clone()));
        }
        (bank, reference)
    }

    /// Adds the footer to every page (now that the page count is known) and hands the pages over.
    fn finish(mut self) -> Vec<Content> {
        let total = self.pages.len();
        let doc = self.doc;
        let title = format!("{} {}", self.words.title, doc.number);
        for (i, c) in self.pages.iter_mut().enumerate() {
            footer(c, doc, &title, i + 1, total);
        }
        if let Some(rect) = self.logo
            && let Some(first) = self.pages.first_mut()
        {
            first.save_state();
            first.transform([
                rect.x2 - rect.x1,
                0.0,
                0.0,
                rect.y2 - rect.y1,
                rect.x1,
                rect.y1,
            ]);
            first.x_object(Name(b"Im1"));
            first.restore_state();
        }
        self.pages
    }
}

type PaymentRow = (&'static str, Style, String);

/// Label/value rows of the payment box, wrapped to their column.
struct PaymentColumn {
    x: f32,
    rows: Vec<(&'static str, Style, Vec<String>)>,
    height: f32,
}

impl PaymentColumn {
    const LABEL_W: f32 = 70.0;
    const WIDTH: f32 = 236.0;

    fn new(x: f32, rows: Vec<PaymentRow>) -> Self {
        let rows: Vec<_> = rows
            .into_iter()
            .map(|(label, st, value)| (label, st, wrap(st, &value, Self::WIDTH - Self::LABEL_W)))
            .collect();
        let height = rows
            .iter()
            .map(|(_, st, lines)| lines.len() as f32 * st.leading() + 2.5)
            .sum();
        PaymentColumn { x, rows, height }
    }

    fn draw(&self, c: &mut Content, top: f32) {
        let mut y = top;
        for (label, st, lines) in &self.rows {
            text(c, LABEL, self.x, y + st.leading(), label);
            for line in lines {
                y += st.leading();
                text(c, *st, self.x + Self::LABEL_W, y, line);
            }
            y += 2.5;
        }
    }
}

fn line_cells(line: &DocumentLine) -> [Cell; 8] {
    let boxes = column_boxes();
    let inner = |i: usize| boxes[i].1 - 2.0 * PAD;
    let lines = |st: Style, text: &str, i: usize| -> Cell {
        wrap(st, text, inner(i))
            .into_iter()
            .map(|l| (st, l))
            .collect()
    };
    let item = lines(CELL, &line.sku, 1);
    let mut description = lines(CELL, &line.description, DESCRIPTION);
    if let Some(theirs) = &line.buyer_item_id {
        description.extend(lines(
            CELL_NOTE,
            &format!("Your item no. {theirs}"),
            DESCRIPTION,
        ));
    }
    let mut discount = Vec::new();
    if let Some(d) = &line.discount {
        let reason = format!("Discount: {}", d.reason);
        description.extend(lines(CELL_NOTE, &reason, DESCRIPTION));
        discount.push((CELL, amount(negated(d.amount))));
        discount.push((CELL_NOTE, percent(d.percent)));
    }
    [
        vec![(CELL, line.id.clone())],
        item,
        description,
        vec![(CELL, line.quantity.to_string())],
        vec![(CELL, amount(line.unit_price))],
        discount,
        vec![(CELL, amount(line.net))],
        vec![(CELL, tax_label(line.tax.category, line.tax.rate))],
    ]
}

/// A document allowance or charge as a table row: the reason across the text columns, the
/// signed amount under "Net".
fn allowance_charge_cells(ac: &AllowanceCharge) -> [Cell; 8] {
    let boxes = column_boxes();
    let kind = if ac.is_charge { "Charge" } else { "Allowance" };
    let mut reason = format!("{kind}: {}", ac.reason);
    if let (Some(p), Some(base)) = (ac.percent, ac.base) {
        reason.push_str(&format!(" ({} of {})", percent(p), amount(base)));
    }
    let width = boxes[DESCRIPTION].0 + boxes[DESCRIPTION].1 - LEFT - 2.0 * PAD;
    let reason: Cell = wrap(CELL.bold(), &reason, width)
        .into_iter()
        .map(|l| (CELL.bold(), l))
        .collect();
    let signed = if ac.is_charge {
        ac.amount
    } else {
        negated(ac.amount)
    };
    [
        reason,
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        vec![(CELL, amount(signed))],
        vec![(CELL, tax_label(ac.tax.category, ac.tax.rate))],
    ]
}

/// Seller, tax and bank details in three columns, then the page number.
fn footer(c: &mut Content, doc: &InvoiceDocument, title: &str, page: usize, total: usize) {
    let s = &doc.seller;
    let p = &s.party;
    let a = &p.address;
    let top = PAGE_H - 72.0;
    rule(c, LEFT, RIGHT, top, 0.6, HAIRLINE);
    let mut company = vec![p.name.clone(), a.line1.clone()];
    company.extend(a.line2.clone());
    company.push(format!("{} · {}", city_line(a), a.country));
    let mut legal = Vec::new();
    legal.extend(p.vat_id.as_ref().map(|v| format!("VAT ID {v}")));
    legal.extend(p.company_id.as_ref().map(|v| format!("Company reg. {v}")));
    legal.extend(p.email.clone());
    legal.extend(s.website.clone());
    let mut bank = Vec::new();
    bank.extend(s.bank_name.clone());
    bank.extend(s.iban.as_ref().map(|v| {
        let compact: String = v.split_whitespace().collect();
        format!("IBAN {}", grouped(&compact))
    }));
    bank.extend(s.bic.as_ref().map(|v| format!("BIC {v}")));
    let width = (RIGHT - LEFT) / 3.0;
    for (i, column) in [company, legal, bank].iter().enumerate() {
        let x = LEFT + i as f32 * width;
        // Four lines fit above the page number; the letterhead repeats the contact details.
        let lines = column.iter().flat_map(|l| wrap(SMALL, l, width - 8.0));
        for (n, line) in lines.take(4).enumerate() {
            text(c, SMALL, x, top + 11.0 + n as f32 * 9.0, &line);
        }
    }
    let bottom = PAGE_H - 20.0;
    text(c, SMALL, LEFT, bottom, title);
    text_right(c, SMALL, RIGHT, bottom, &format!("Page {page} of {total}"));
}

fn write_pdf(doc: &InvoiceDocument, pages: Vec<Content>, logo: Option<&image::Image>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [(Font::Regular, Ref::new(4)), (Font::Bold, Ref::new(5))];
    let logo_id = Ref::new(6);
    let mask_id = Ref::new(7);
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(8 + 2 * i))
        .collect();

    pdf.catalog(catalog).pages(tree).lang(TextStr("en"));
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    for (i, content) in pages.into_iter().enumerate() {
        let content_id = Ref::new(page_ids[i].get() + 1);
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (font, id) in fonts {
            font_dict.pair(font.resource(), id);
        }
        font_dict.finish();
        if i == 0 && logo.is_some() {
            resources.x_objects().pair(Name(b"Im1"), logo_id);
        }
        resources.finish();
        page.finish();
        let data = compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(content_id, &data).filter(Filter::FlateDecode);
    }
    for (font, id) in fonts {
        pdf.type1_font(id)
            .base_font(font.base_font())
            .encoding_predefined(Name(b"WinAnsiEncoding"))
            .first_char(32)
            .last_char(255)
            .widths(font.widths().iter().map(|&w| f32::from(w)));
    }
    if let Some(logo) = logo {
        logo.write(&mut pdf, logo_id, mask_id);
    }
    let title = format!("{} {}", words(doc.kind).title, doc.number);
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&doc.seller.party.name))
        .subject(TextStr(&format!("{title} for {}", doc.buyer.name)))
        .creator(TextStr("o2c"))
        .producer(TextStr("o2c-docs"));
    pdf.finish()
}

/// PNG and JPEG logos as PDF image objects.
mod image {
    use super::PdfError;
    use miniz_oxide::deflate::compress_to_vec_zlib;
    use miniz_oxide::inflate::decompress_to_vec_zlib;
    use pdf_writer::{Filter, Name, Pdf, Ref};

    /// Logos larger than this are refused rather than inflated into memory.
    const MAX_PIXELS: u64 = 4096 * 4096;

    pub(super) enum Colors {
        Gray,
        Rgb,
        /// Adobe-style CMYK JPEG (stored inverted).
        Cmyk,
        Indexed(Vec<u8>),
    }

    pub(super) struct Image {
        pub width: u32,
        pub height: u32,
        colors: Colors,
        bits: u8,
        filter: Filter,
        data: Vec<u8>,
        /// PNG predictor parameters (channels, columns) when the PNG data is passed through.
        predictor: Option<(u8, u32)>,
        alpha: Option<Vec<u8>>,
    }

    type Reason = &'static str;

    /// `None` when the file does not exist (see the module documentation).
    pub(super) fn load(path: &str) -> Result<Option<Image>, PdfError> {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(PdfError::LogoUnreadable {
                    path: path.into(),
                    source,
                });
            }
        };
        let unsupported = |reason| PdfError::LogoUnsupported {
            path: path.into(),
            reason,
        };
        let image = if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            png(data).map_err(unsupported)?
        } else if data.starts_with(&[0xff, 0xd8]) {
            jpeg(data).map_err(unsupported)?
        } else {
            return Err(unsupported("neither a PNG nor a JPEG file"));
        };
        if image.width == 0
            || image.height == 0
            || u64::from(image.width) * u64::from(image.height) > MAX_PIXELS
        {
            return Err(unsupported("empty, or larger than 4096 × 4096 pixels"));
        }
        Ok(Some(image))
    }

    impl Image {
        pub(super) fn write(&self, pdf: &mut Pdf, id: Ref, mask_id: Ref) {
            let mut x = pdf.image_xobject(id, &self.data);
            x.filter(self.filter);
            x.width(self.width as i32);
            x.height(self.height as i32);
            x.bits_per_component(i32::from(self.bits));
            match &self.colors {
                Colors::Gray => x.color_space().device_gray(),
                Colors::Rgb => x.color_space().device_rgb(),
                Colors::Cmyk => {
                    x.color_space().device_cmyk();
                    x.decode([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
                }
                Colors::Indexed(palette) => {
                    let hival = (palette.len() / 3).saturating_sub(1) as i32;
                    x.color_space().indexed(Name(b"DeviceRGB"), hival, palette);
                }
            }
            if let Some((channels, columns)) = self.predictor {
                x.decode_parms()
                    .predictor(pdf_writer::types::Predictor::PngOptimum)
                    .colors(i32::from(channels))
                    .bits_per_component(i32::from(self.bits))
                    .columns(columns as i32);
            }
            if self.alpha.is_some() {
                x.s_mask(mask_id);
            }
            x.interpolate(true);
            drop(x);
            if let Some(alpha) = &self.alpha {
                let mut m = pdf.image_xobject(mask_id, alpha);
                m.filter(Filter::FlateDecode);
                m.width(self.width as i32);
                m.height(self.height as i32);
                m.color_space().device_gray();
                m.bits_per_component(8);
            }
        }
    }

    /// JPEG data goes in as it is (DCTDecode); only the frame header is read.
    fn jpeg(data: Vec<u8>) -> Result<Image, Reason> {
        let mut adobe = false;
        let mut i = 2;
        loop {
            while data.get(i) == Some(&0xff) && data.get(i + 1) == Some(&0xff) {
                i += 1;
            }
            let (Some(&0xff), Some(&marker)) = (data.get(i), data.get(i + 1)) else {
                return Err("corrupt JPEG: no frame header");
            };
            i += 2;
            if marker == 0x01 || (0xd0..=0xd8).contains(&marker) {
                continue;
            }
            let len = usize::from(u16::from_be_bytes([
                *data.get(i).ok_or("corrupt JPEG")?,
                *data.get(i + 1).ok_or("corrupt JPEG")?,
            ]));
            let segment = data.get(i + 2..i + len).ok_or("corrupt JPEG")?;
            if marker == 0xee && segment.starts_with(b"Adobe") {
                adobe = true;
            }
            let is_frame = (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
            if is_frame {
                let [bits, h1, h0, w1, w0, components, ..] = *segment else {
                    return Err("corrupt JPEG frame header");
                };
                let colors = match components {
                    1 => Colors::Gray,
                    3 => Colors::Rgb,
                    4 if adobe => Colors::Cmyk,
                    _ => return Err("JPEG with an unsupported number of colour components"),
                };
                return Ok(Image {
                    width: u32::from(u16::from_be_bytes([w1, w0])),
                    height: u32::from(u16::from_be_bytes([h1, h0])),
                    colors,
                    bits,
                    filter: Filter::DctDecode,
                    data,
                    predictor: None,
                    alpha: None,
                });
            }
            i += len;
        }
    }

    struct Header {
        width: u32,
        height: u32,
        bits: u8,
        color_type: u8,
        interlaced: bool,
    }

    /// Opaque PNGs pass their compressed data straight through (PDF knows PNG predictors); PNGs
    /// with alpha or a transparent palette are decoded and split into colour and soft mask.
    fn png(data: Vec<u8>) -> Result<Image, Reason> {
        let mut header = None;
        let (mut palette, mut transparency, mut idat) = (Vec::new(), None, Vec::new());
        let mut i = 8;
        while let Some(len_bytes) = data.get(i..i + 4) {
            let len = u32::from_be_bytes(len_bytes.try_into().expect("4 bytes")) as usize;
            let kind = data.get(i + 4..i + 8).ok_or("truncated PNG")?;
            let body = data.get(i + 8..i + 8 + len).ok_or("truncated PNG")?;
            match kind {
                b"IHDR" if body.len() == 13 => {
                    header = Some(Header {
                        width: u32::from_be_bytes(body[0..4].try_into().expect("4 bytes")),
                        height: u32::from_be_bytes(body[4..8].try_into().expect("4 bytes")),
                        bits: body[8],
                        color_type: body[9],
                        interlaced: body[12] != 0,
                    })
                }
                b"PLTE" => palette = body.to_vec(),
                b"tRNS" => transparency = Some(body.to_vec()),
                b"IDAT" => idat.extend_from_slice(body),
                b"IEND" => break,
                _ => {}
            }
            i += 12 + len;
        }
        let h = header.ok_or("PNG without a header")?;
        if h.interlaced {
            return Err("interlaced PNG (save it without interlacing)");
        }
        let (channels, colors) = match h.color_type {
            0 => (1, Colors::Gray),
            2 => (3, Colors::Rgb),
            3 if !palette.is_empty() => (1, Colors::Indexed(palette.clone())),
            4 => (2, Colors::Gray),
            6 => (4, Colors::Rgb),
            _ => return Err("PNG colour type not supported"),
        };
        let opaque = matches!(h.color_type, 0 | 2) || (h.color_type == 3 && transparency.is_none());
        if opaque {
            return Ok(Image {
                width: h.width,
                height: h.height,
                colors,
                bits: h.bits,
                filter: Filter::FlateDecode,
                data: idat,
                predictor: Some((channels, h.width)),
                alpha: None,
            });
        }
        if h.bits == 16 && h.color_type == 3 || h.bits < 8 && h.color_type != 3 {
            return Err("PNG bit depth not supported");
        }
        let raw = decompress_to_vec_zlib(&idat).map_err(|_| "corrupt PNG data")?;
        let bits_per_pixel = usize::from(channels) * usize::from(h.bits);
        let stride = (h.width as usize * bits_per_pixel).div_ceil(8);
        let pixels = unfilter(&raw, stride, bits_per_pixel.div_ceil(8), h.height as usize)?;
        let (color, alpha) = split_alpha(&h, &pixels, stride, &palette, transparency.as_deref());
        Ok(Image {
            width: h.width,
            height: h.height,
            colors: if h.color_type == 4 {
                Colors::Gray
            } else {
                Colors::Rgb
            },
            bits: 8,
            filter: Filter::FlateDecode,
            data: compress_to_vec_zlib(&color, 6),
            predictor: None,
            alpha: Some(compress_to_vec_zlib(&alpha, 6)),
        })
    }

    /// Undoes the per-row PNG filters (RFC 2083 section 6).
    fn unfilter(raw: &[u8], stride: usize, bpp: usize, rows: usize) -> Result<Vec<u8>, Reason> {
        if raw.len() < rows * (stride + 1) {
            return Err("truncated PNG data");
        }
        let mut out = vec![0u8; rows * stride];
        for r in 0..rows {
            let line = &raw[r * (stride + 1)..(r + 1) * (stride + 1)];
            let (done, rest) = out.split_at_mut(r * stride);
            let prev = if r == 0 {
                None
            } else {
                Some(&done[(r - 1) * stride..])
            };
            let cur = &mut rest[..stride];
            for i in 0..stride {
                let a = if i >= bpp { cur[i - bpp] } else { 0 };
                let b = prev.map_or(0, |p| p[i]);
                let c = if i >= bpp {
                    prev.map_or(0, |p| p[i - bpp])
                } else {
                    0
                };
                let x = line[i + 1];
                cur[i] = match line[0] {
                    0 => x,
                    1 => x.wrapping_add(a),
                    2 => x.wrapping_add(b),
                    3 => x.wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                    4 => x.wrapping_add(paeth(a, b, c)),
                    _ => return Err("corrupt PNG filter"),
                };
            }
        }
        Ok(out)
    }

    fn paeth(a: u8, b: u8, c: u8) -> u8 {
        let p = i16::from(a) + i16::from(b) - i16::from(c);
        let (pa, pb, pc) = (
            (p - i16::from(a)).abs(),
            (p - i16::from(b)).abs(),
            (p - i16::from(c)).abs(),
        );
        if pa <= pb && pa <= pc {
            a
        } else if pb <= pc {
            b
        } else {
            c
        }
    }

    /// 8-bit colour samples and 8-bit alpha from gray+alpha, RGBA (8 or 16 bits) or a palette
    /// with transparency (1 to 8 bits).
    fn split_alpha(
        h: &Header,
        pixels: &[u8],
        stride: usize,
        palette: &[u8],
        transparency: Option<&[u8]>,
    ) -> (Vec<u8>, Vec<u8>) {
        let (w, rows) = (h.width as usize, h.height as usize);
        let mut color = Vec::with_capacity(w * rows * 3);
        let mut alpha = Vec::with_capacity(w * rows);
        for row in pixels.chunks(stride).take(rows) {
            if h.color_type == 3 {
                let per_byte = 8 / usize::from(h.bits);
                let mask = ((1u16 << h.bits) - 1) as u8;
                for x in 0..w {
                    let shift = 8 - usize::from(h.bits) * (x % per_byte + 1);
                    let index = usize::from((row[x / per_byte] >> shift) & mask);
                    let rgb = palette.get(index * 3..index * 3 + 3).unwrap_or(&[0, 0, 0]);
                    color.extend_from_slice(rgb);
                    alpha.push(
                        transparency
                            .and_then(|t| t.get(index).copied())
                            .unwrap_or(255),
                    );
                }
                continue;
            }
            let sample = usize::from(h.bits / 8);
            let channels = if h.color_type == 4 { 2 } else { 4 };
            for px in row.chunks(channels * sample) {
                // 16-bit samples keep their high byte: plenty for a logo.
                for ch in 0..channels - 1 {
                    color.push(px[ch * sample]);
                }
                alpha.push(px[(channels - 1) * sample]);
            }
        }
        (color, alpha)
    }
}

/// Helvetica advance widths for WinAnsi codes 32..=255 (0 where WinAnsi leaves a code unused).
#[rustfmt::skip]
const HELVETICA_WIDTHS: [u16; 224] = [
    278,278,355,556,556,889,667,191,333,333,389,584,278,333,278,278,
    556,556,556,556,556,556,556,556,556,556,278,278,584,584,584,556,
    1015,667,667,722,722,667,611,778,722,278,500,667,556,833,722,778,
    667,778,722,667,611,722,667,944,667,667,611,278,278,278,469,556,
    333,556,556,500,556,556,278,556,556,222,222,500,222,833,556,556,
    556,556,333,500,278,556,500,722,500,500,500,334,260,334,584,0,
    556,0,222,556,333,1000,556,556,333,1000,667,333,1000,0,611,0,
    0,222,222,333,333,350,556,1000,333,1000,500,333,944,0,500,667,
    278,333,556,556,556,556,260,556,333,737,370,556,584,333,737,333,
    400,584,333,333,333,556,537,278,333,333,365,556,834,834,834,611,
    667,667,667,667,667,667,1000,722,667,667,667,667,278,278,278,278,
    722,722,778,778,778,778,778,584,778,722,722,722,722,667,667,611,
    556,556,556,556,556,556,889,500,556,556,556,556,278,278,278,278,
    556,556,556,556,556,556,556,584,611,556,556,556,556,500,556,500,
];

/// Helvetica-Bold advance widths for WinAnsi codes 32..=255.
#[rustfmt::skip]
const HELVETICA_BOLD_WIDTHS: [u16; 224] = [
    278,333,474,556,556,889,722,238,333,333,389,584,278,333,278,278,
    556,556,556,556,556,556,556,556,556,556,333,333,584,584,584,611,
    975,722,722,722,722,667,611,778,722,278,556,722,611,833,722,778,
    667,778,722,667,611,722,667,944,667,667,611,333,278,333,584,556,
    333,556,611,556,611,556,333,611,611,278,278,556,278,889,611,611,
    611,611,389,556,333,611,556,778,556,556,500,389,280,389,584,0,
    556,0,278,556,500,1000,556,556,333,1000,667,333,1000,0,611,0,
    0,278,278,500,500,350,556,1000,333,1000,556,333,944,0,500,667,
    278,333,556,556,556,556,280,556,333,737,370,556,584,333,737,333,
    400,584,333,333,333,611,556,278,333,333,365,556,834,834,834,611,
    722,722,722,722,722,722,1000,722,667,667,667,667,278,278,278,278,
    722,722,778,778,778,778,778,584,778,722,722,722,722,667,667,611,
    556,556,556,556,556,556,889,556,556,556,556,556,278,278,278,278,
    611,611,611,611,611,611,611,584,611,611,611,611,611,556,611,556,
];
