//! Letters ready to print (A4, standard Helvetica, WinAnsi like `pdf`): a dunning notice or a
//! statement of account. The caller hands in finished text and rows; nothing is computed here.

use crate::pdf::encode;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const TOP: f32 = 64.0;
const BOTTOM: f32 = 70.0;
const SIZE: f32 = 10.0;
const LEADING: f32 = 13.5;
/// Characters per line of body text at 10 pt (Helvetica averages ~0.5 em).
const WRAP: usize = 92;

/// What a letter says.
pub struct Letter<'a> {
    /// The sender's name and address lines (letterhead).
    pub sender: &'a [String],
    /// The recipient's name and address lines (window position).
    pub recipient: &'a [String],
    pub date: &'a str,
    pub subject: &'a str,
    /// Paragraphs, `\n`-separated; long lines are wrapped.
    pub body: &'a str,
    /// A table after the body: a header row and the rows (left-aligned columns at fixed widths).
    pub table: Option<(&'a [&'a str], &'a [Vec<String>])>,
}

/// Renders the letter; as many pages as its text and table need.
pub fn render(l: &Letter<'_>) -> Vec<u8> {
    let mut pages: Vec<Content> = vec![Content::new()];
    let mut y = TOP;
    let line = |pages: &mut Vec<Content>, y: &mut f32, bold: bool, x: f32, t: &str| {
        if *y > PAGE_H - BOTTOM {
            pages.push(Content::new());
            *y = TOP;
        }
        let c = pages.last_mut().expect("a page");
        c.begin_text();
        c.set_font(if bold { Name(b"F2") } else { Name(b"F1") }, SIZE);
        c.next_line(x, PAGE_H - *y);
        c.show(Str(&encode(t)));
        c.end_text();
    };
    for s in l.sender {
        line(&mut pages, &mut y, false, LEFT, s);
        y += LEADING;
    }
    y += LEADING * 2.0;
    for r in l.recipient {
        line(&mut pages, &mut y, false, LEFT, r);
        y += LEADING;
    }
    y += LEADING;
    line(&mut pages, &mut y, false, PAGE_W - 200.0, l.date);
    y += LEADING * 2.0;
    line(&mut pages, &mut y, true, LEFT, l.subject);
    y += LEADING * 2.0;
    for paragraph in l.body.split('\n') {
        if paragraph.trim().is_empty() {
            y += LEADING * 0.6;
            continue;
        }
        for w in wrap(paragraph, WRAP) {
            line(&mut pages, &mut y, false, LEFT, &w);
            y += LEADING;
        }
    }
    if let Some((head, rows)) = l.table {
        y += LEADING;
        let width = (PAGE_W - 2.0 * LEFT) / head.len().max(1) as f32;
        for (i, h) in head.iter().enumerate() {
            line(&mut pages, &mut y, true, LEFT + i as f32 * width, h);
        }
        y += LEADING;
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                line(&mut pages, &mut y, false, LEFT + i as f32 * width, cell);
            }
            y += LEADING;
        }
    }
    write(pages, l.subject)
}

fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out.push(cur);
    out
}

fn write(pages: Vec<Content>, title: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [
        (Name(b"F1"), Name(b"Helvetica"), Ref::new(4)),
        (Name(b"F2"), Name(b"Helvetica-Bold"), Ref::new(5)),
    ];
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(6 + 2 * i))
        .collect();
    pdf.catalog(catalog).pages(tree);
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
        for (res, _, id) in fonts {
            font_dict.pair(res, id);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    for (_, base, id) in fonts {
        pdf.type1_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(title))
        .creator(TextStr("o2c"))
        .producer(TextStr("o2c-docs"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_is_a_pdf_with_its_text_and_table() {
        let sender = [
            "o2c Demo GmbH".to_string(),
            "Friedrichstraße 1, 10117 Berlin".to_string(),
        ];
        let recipient = ["Müller Handel GmbH".to_string()];
        let rows = vec![vec![
            "INV-2026-000001".to_string(),
            "2026-10-01".to_string(),
            "35.70".to_string(),
        ]];
        let long = "word ".repeat(2000);
        let pdf = render(&Letter {
            sender: &sender,
            recipient: &recipient,
            date: "2026-11-23",
            subject: "2. Mahnung",
            body: &format!("Sehr geehrte Damen und Herren,\n\n{long}"),
            table: Some((&["Invoice", "Due", "Open"], &rows)),
        });
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("(INV-2026-000001)"),
            "uncompressed text carries the rows"
        );
        assert!(
            !text.contains("/Count 1\n") && text.contains("/Count "),
            "the long body runs onto more pages"
        );
    }
}
