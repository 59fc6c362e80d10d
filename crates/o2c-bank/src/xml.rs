//! A streaming XML reader over quick-xml that hands out one small element tree at a time.
//!
//! camt files reach hundreds of thousands of entries, so the whole document is never held as a
//! tree: the camt reader walks the message level by level and asks for a tree only of each
//! `Ntry` (and of the small header elements). Names are matched by local name, since banks use
//! both default namespaces and prefixes.

use crate::error::{Problem, StatementError};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;

/// An element with its children, text and attributes, borrowing from the input where it can.
#[derive(Debug)]
pub(crate) struct Node<'a> {
    /// Local name (prefix removed).
    pub name: Cow<'a, str>,
    /// 1-based line of the start tag's end.
    pub line: usize,
    attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    text: Cow<'a, str>,
    /// Child elements in document order.
    pub children: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node<'a>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name`.
    pub fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Node<'a>> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element down `path` (each step the first child of that name).
    pub fn at(&self, path: &[&str]) -> Option<&Node<'a>> {
        path.iter().try_fold(self, |node, name| node.child(name))
    }

    /// Trimmed text content.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// Trimmed text down `path`, `None` when absent or empty.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(Node::text).filter(|t| !t.is_empty())
    }

    /// Attribute value by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| local(k) == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// A start tag just read.
pub(crate) struct Tag<'a> {
    /// Qualified name as written (`ns:Document`).
    pub qname: Cow<'a, str>,
    /// 1-based line.
    pub line: usize,
    /// Attributes, keys qualified as written.
    pub attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl Tag<'_> {
    /// Local name.
    pub fn name(&self) -> &str {
        local(&self.qname)
    }
}

fn local(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

/// The reader. Positions only move forward, so line numbers are counted incrementally.
pub(crate) struct XmlReader<'a> {
    reader: Reader<&'a [u8]>,
    input: &'a str,
    depth: usize,
    line: usize,
    line_pos: usize,
}

impl<'a> XmlReader<'a> {
    /// A reader at the start of `input`.
    pub fn new(input: &'a str) -> Self {
        let mut reader = Reader::from_str(input);
        reader.config_mut().expand_empty_elements = true;
        XmlReader {
            reader,
            input,
            depth: 0,
            line: 1,
            line_pos: 0,
        }
    }

    fn line_at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.input.len());
        if pos > self.line_pos {
            self.line += self.input.as_bytes()[self.line_pos..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line_pos = pos;
        }
        self.line
    }

    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn syntax_error(&mut self, message: String, path: &str) -> StatementError {
        let pos = usize::try_from(self.reader.error_position()).unwrap_or(usize::MAX);
        let line = crate::text::line_of(self.input.as_bytes(), pos);
        StatementError::at_element(line, path, Problem::XmlSyntax { message })
    }

    fn tag(&mut self, e: &BytesStart<'_>) -> Tag<'a> {
        let input = self.input;
        let attrs = e
            .attributes()
            .flatten()
            .map(|a| {
                let key = reborrow(input, a.key.as_ref());
                let value = match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                    Ok(v) => reborrow(input, &v),
                    Err(_) => reborrow(input, &a.value),
                };
                (key, value)
            })
            .collect();
        let pos = self.position();
        Tag {
            qname: reborrow(input, e.name().as_ref()),
            line: self.line_at(pos),
            attrs,
        }
    }

    /// The next child start tag of the current element, or `None` at the current element's end
    /// tag (or at the end of the document, at top level). `path` names the current element in
    /// error messages.
    pub fn next_child(&mut self, path: &str) -> Result<Option<Tag<'a>>, StatementError> {
        loop {
            match self.reader.read_event() {
                Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                    self.depth += 1;
                    return Ok(Some(self.tag(&e)));
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                Ok(Event::Eof) if self.depth == 0 => return Ok(None),
                Ok(Event::Eof) => {
                    return Err(self.syntax_error(
                        "the file ends inside an element (truncated?)".to_string(),
                        path,
                    ));
                }
                Ok(_) => {}
                Err(e) => return Err(self.syntax_error(e.to_string(), path)),
            }
        }
    }

    /// Reads the rest of the element whose start tag `tag` was just returned by
    /// [`next_child`](Self::next_child), as a tree.
    pub fn subtree(&mut self, tag: Tag<'a>, path: &str) -> Result<Node<'a>, StatementError> {
        let mut stack = vec![node_from(tag)];
        loop {
            let event = self.reader.read_event();
            match event {
                Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                    let t = self.tag(&e);
                    stack.push(node_from(t));
                }
                Ok(Event::End(_)) => {
                    let Some(done) = stack.pop() else {
                        return Err(self.syntax_error("unbalanced end tag".to_string(), path));
                    };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => {
                            self.depth = self.depth.saturating_sub(1);
                            return Ok(done);
                        }
                    }
                }
                Ok(Event::Text(t)) => push_text(&mut stack, t.into_inner()),
                Ok(Event::CData(c)) => push_text(&mut stack, c.into_inner()),
                Ok(Event::GeneralRef(r)) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        Ok(None) => match predefined_entity(&r) {
                            Some(s) => s.to_string(),
                            None => {
                                let message = format!("unknown entity `&{};`", r.as_ref());
                                return Err(self.syntax_error(message, path));
                            }
                        },
                        Err(e) => return Err(self.syntax_error(e.to_string(), path)),
                    };
                    push_text(&mut stack, Cow::Owned(resolved));
                }
                Ok(Event::Eof) => {
                    return Err(self.syntax_error(
                        "the file ends inside an element (truncated?)".to_string(),
                        path,
                    ));
                }
                Ok(_) => {}
                Err(e) => return Err(self.syntax_error(e.to_string(), path)),
            }
        }
    }
}

fn node_from(tag: Tag<'_>) -> Node<'_> {
    let name = match tag.qname {
        Cow::Borrowed(q) => Cow::Borrowed(local(q)),
        Cow::Owned(ref q) => Cow::Owned(local(q).to_string()),
    };
    Node {
        name,
        line: tag.line,
        attrs: tag.attrs,
        text: Cow::Borrowed(""),
        children: Vec::new(),
    }
}

/// Appends character data to the innermost open element. Indentation between child elements is
/// dropped before it costs an allocation; text is trimmed when read anyway.
fn push_text<'a>(stack: &mut [Node<'a>], text: Cow<'a, str>) {
    let Some(node) = stack.last_mut() else {
        return;
    };
    let blank = text.bytes().all(|b| b.is_ascii_whitespace());
    if blank && (node.text.is_empty() || !node.children.is_empty()) {
        return;
    }
    if node.text.is_empty() {
        node.text = text;
    } else {
        node.text.to_mut().push_str(&text);
    }
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "apos" => Some("'"),
        "quot" => Some("\""),
        _ => None,
    }
}

/// Borrows `part` from `input` when it is a slice of it (quick-xml hands out names and values
/// that point into the input, but ties them to the event's lifetime); copies it otherwise.
fn reborrow<'a>(input: &'a str, part: &str) -> Cow<'a, str> {
    let start = (part.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    match input.get(start..start.wrapping_add(part.len())) {
        Some(s) if std::ptr::eq(s.as_ptr(), part.as_ptr()) => Cow::Borrowed(s),
        _ => Cow::Owned(part.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees_carry_text_attributes_and_lines() {
        let xml =
            "<a>\n <Ntry>\n  <Amt Ccy=\"EUR\">1.00</Amt>\n  <Nm>A &amp; B</Nm>\n </Ntry>\n</a>";
        let mut r = XmlReader::new(xml);
        let a = r.next_child("").unwrap().unwrap();
        assert_eq!(a.name(), "a");
        let ntry = r.next_child("a").unwrap().unwrap();
        let node = r.subtree(ntry, "Ntry").unwrap();
        assert_eq!(node.line, 2);
        let amt = node.child("Amt").unwrap();
        assert_eq!(
            (amt.text(), amt.attr("Ccy"), amt.line),
            ("1.00", Some("EUR"), 3)
        );
        assert_eq!(node.text_at(&["Nm"]), Some("A & B"));
        assert!(r.next_child("a").unwrap().is_none());
        assert!(r.next_child("").unwrap().is_none());
    }

    #[test]
    fn a_truncated_file_is_a_syntax_error() {
        let mut r = XmlReader::new("<a><b>1</b>");
        let a = r.next_child("").unwrap().unwrap();
        assert!(r.subtree(a, "a").is_err());
    }
}
