//! A message as the sink received it, with just enough MIME reading for test assertions.

use percent_encoding::percent_decode_str;

/// One message accepted by the [`super::SmtpSink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Envelope sender (MAIL FROM), without angle brackets.
    pub mail_from: String,
    /// Envelope recipients (RCPT TO), in the order given.
    pub rcpt_to: Vec<String>,
    /// Whether the client authenticated (AUTH) before sending.
    pub authenticated: bool,
    /// The message as received after dot-unstuffing: headers, blank line, body.
    pub data: String,
}

impl Received {
    /// The `Subject` header, as [`Received::header`] reads it.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The first top-level header of that name (case-insensitive), unfolded and trimmed, with
    /// UTF-8 encoded words (RFC 2047 `=?utf-8?b?…?=`, `=?utf-8?q?…?=`) decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = split_entity(&self.data);
        field(&fields(headers), name).map(decode_words)
    }

    /// The file names of every MIME part that has one (`Content-Disposition` `filename`, or
    /// else `Content-Type` `name`), depth first, RFC 2231 continuations and encoding decoded.
    /// Part bodies are not decoded.
    pub fn attachment_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect_file_names(&self.data, &mut names);
        names
    }
}

fn collect_file_names(entity: &str, names: &mut Vec<String>) {
    let (headers, body) = split_entity(entity);
    let fields = fields(headers);
    let content_type = field(&fields, "Content-Type").unwrap_or("text/plain");
    let is_multipart = content_type
        .get(..10)
        .is_some_and(|t| t.eq_ignore_ascii_case("multipart/"));
    if is_multipart {
        if let Some(boundary) = parameter(content_type, "boundary") {
            for part in parts(body, &boundary) {
                collect_file_names(part, names);
            }
        }
        return;
    }
    let file_name = field(&fields, "Content-Disposition")
        .and_then(|d| parameter(d, "filename"))
        .or_else(|| parameter(content_type, "name"));
    names.extend(file_name);
}

/// Headers and body, split at the first empty line.
fn split_entity(entity: &str) -> (&str, &str) {
    match (entity.find("\r\n\r\n"), entity.find("\n\n")) {
        (Some(crlf), Some(lf)) if lf < crlf => (&entity[..lf], &entity[lf + 2..]),
        (Some(crlf), _) => (&entity[..crlf], &entity[crlf + 4..]),
        (None, Some(lf)) => (&entity[..lf], &entity[lf + 2..]),
        (None, None) => (entity, ""),
    }
}

/// Header fields as (name, unfolded value): a line starting with white space continues
/// the previous field (RFC 5322 2.2.3).
fn fields(headers: &str) -> Vec<(&str, String)> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    for line in headers.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim(), value.to_owned()));
        }
    }
    fields
}

fn field<'a>(fields: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

/// The parts between `--boundary` lines, up to the closing `--boundary--`.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let open = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut start = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == open || trimmed == close {
            if let Some(start) = start {
                parts.push(&body[start..offset]);
            }
            if trimmed == close {
                break;
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    parts
}

/// A parameter of a header value such as `attachment; filename="a.pdf"`, including the
/// RFC 2231 forms lettre writes for long or non-ASCII names: `filename*0="…"; filename*1="…"`
/// and `filename*0*=utf-8''%C3%A9…`.
fn parameter(value: &str, name: &str) -> Option<String> {
    let params = parameters(value);
    if let Some((_, plain)) = params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
    {
        return Some(plain.clone());
    }
    let mut pieces: Vec<(usize, bool, &str)> = params
        .iter()
        .filter_map(|(key, value)| {
            let suffix = key.get(name.len()..)?.strip_prefix('*')?;
            if !key[..name.len()].eq_ignore_ascii_case(name) {
                return None;
            }
            let (index, encoded) = if suffix.is_empty() {
                (0, true)
            } else if let Some(index) = suffix.strip_suffix('*') {
                (index.parse().ok()?, true)
            } else {
                (suffix.parse().ok()?, false)
            };
            Some((index, encoded, value.as_str()))
        })
        .collect();
    if pieces.is_empty() {
        return None;
    }
    pieces.sort_by_key(|&(index, _, _)| index);
    let mut bytes = Vec::new();
    for (index, encoded, piece) in pieces {
        if encoded {
            // The first encoded piece starts with `charset'language'`.
            let piece = match index {
                0 => piece.splitn(3, '\'').nth(2).unwrap_or(piece),
                _ => piece,
            };
            bytes.extend(percent_decode_str(piece));
        } else {
            bytes.extend_from_slice(piece.as_bytes());
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Decodes the encoded words in an unstructured header; the space between two encoded words
/// is dropped (RFC 2047 6.2), other text is kept.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_was_encoded = false;
    for (i, token) in value.split(' ').enumerate() {
        let decoded = decode_word(token);
        if i > 0 && !(previous_was_encoded && decoded.is_some()) {
            out.push(' ');
        }
        previous_was_encoded = decoded.is_some();
        out.push_str(decoded.as_deref().unwrap_or(token));
    }
    out
}

/// `=?utf-8?b?w6k=?=` or `=?utf-8?q?=C3=A9?=`; `None` for anything else, left as it is.
fn decode_word(token: &str) -> Option<String> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut fields = inner.splitn(3, '?');
    let charset = fields.next()?.split('*').next()?.to_ascii_lowercase();
    let (encoding, text) = (fields.next()?, fields.next()?);
    if !matches!(charset.as_str(), "utf-8" | "us-ascii") {
        return None;
    }
    let bytes = match encoding {
        "b" | "B" => base64(text)?,
        "q" | "Q" => quoted_printable(text)?,
        _ => return None,
    };
    String::from_utf8(bytes).ok()
}

fn base64(text: &str) -> Option<Vec<u8>> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The `Q` encoding of RFC 2047 4.2: `_` is a space, `=XX` a byte.
fn quoted_printable(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            _ => out.push(b),
        }
    }
    Some(out)
}

/// `(key, value)` pairs after the first `;`, with quoted values unquoted.
fn parameters(value: &str) -> Vec<(String, String)> {
    let mut segments = Vec::new();
    let (mut current, mut quoted, mut escaped) = (String::new(), false, false);
    for c in value.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    segments
        .iter()
        .skip(1)
        .filter_map(|s| s.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(data: &str) -> Received {
        Received {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            authenticated: false,
            data: data.replace('\n', "\r\n"),
        }
    }

    #[test]
    fn a_folded_header_is_read_unfolded_and_case_insensitively() {
        let msg = received("Subject: Invoice\n INV-1\nX-A: b\n\nSubject: not a header\n");
        assert_eq!(msg.subject().as_deref(), Some("Invoice INV-1"));
        assert_eq!(msg.header("x-a").as_deref(), Some("b"));
        assert_eq!(msg.header("Missing"), None);
    }

    #[test]
    fn encoded_words_are_decoded_and_the_space_between_two_of_them_dropped() {
        let msg = received(concat!(
            "Subject: Rechnung =?utf-8?b?ZsO8ciBNw6Ryeiw=?= sehr\n",
            " =?utf-8?q?M=C3=BCller_&_?= =?UTF-8?B?U8O2aG5l?= =?latin1?q?x?=\n\n",
        ));
        assert_eq!(
            msg.subject().as_deref(),
            Some("Rechnung für März, sehr Müller & Söhne =?latin1?q?x?=")
        );
    }

    #[test]
    fn file_names_are_found_in_nested_multiparts_in_every_form() {
        let msg = received(concat!(
            "Content-Type: multipart/mixed; boundary=\"outer\"\n\n",
            "--outer\n",
            "Content-Type: multipart/alternative; boundary=inner\n\n",
            "--inner\nContent-Type: text/plain\n\nhello\n",
            "--inner\nContent-Type: text/html\n\n<p>hello</p>\n",
            "--inner--\n",
            "--outer\n",
            "Content-Disposition: attachment; filename=\"a;b.pdf\"\n\nJVBERi0=\n",
            "--outer\n",
            "Content-Disposition: attachment;\n filename*0=\"long-\";\n filename*1=\"name.xml\"\n\n<x/>\n",
            "--outer\n",
            "Content-Disposition: attachment;\n filename*0*=utf-8''R%C3%A9;\n filename*1*=sum%C3%A9.txt\n\n\n",
            "--outer\n",
            "Content-Type: image/png; name=logo.png\n\nxx\n",
            "--outer--\n",
        ));
        assert_eq!(
            msg.attachment_names(),
            ["a;b.pdf", "long-name.xml", "Résumé.txt", "logo.png"]
        );
    }
}
