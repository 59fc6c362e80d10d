//! A minimal indenting XML writer, the same shape as the private one in `ubl.rs`. Element names
//! are trusted constants; text and attribute values are escaped.

pub(super) struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    pub(super) fn with_capacity(capacity: usize) -> Xml {
        Xml {
            out: String::with_capacity(capacity),
            depth: 0,
        }
    }

    pub(super) fn finish(self) -> String {
        self.out
    }

    pub(super) fn declaration(&mut self) {
        self.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    pub(super) fn start_with(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.attr(k, v);
        }
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub(super) fn end(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    pub(super) fn elem(&mut self, name: &str, body: impl FnOnce(&mut Xml)) {
        self.start_with(name, &[]);
        body(self);
        self.end(name);
    }

    fn attr(&mut self, key: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(key);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value);
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
        escape_into(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    pub(super) fn text(&mut self, name: &str, text: &str) {
        self.leaf(name, None, text);
    }

    pub(super) fn text_attr(&mut self, name: &str, attr: &str, value: &str, text: &str) {
        self.leaf(name, Some((attr, value)), text);
    }
}

/// Every value reaching the writer is already in the SEPA character set, where only the
/// apostrophe is special to XML, and it needs no escape inside text or a double-quoted
/// attribute. The other specials are escaped all the same, so a future caller that skips the
/// checks still writes well-formed XML.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pain008_writer_escapes_xml_specials_but_keeps_apostrophes() {
        let mut x = Xml::with_capacity(64);
        x.text_attr("A", "k", "\"<&>'", "O'Neill & <Co>");
        assert_eq!(
            x.finish(),
            "<A k=\"&quot;&lt;&amp;&gt;'\">O'Neill &amp; &lt;Co&gt;</A>\n"
        );
    }
}
