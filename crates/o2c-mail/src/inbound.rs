//! Incoming e-mail, read from its raw RFC 5322 / MIME form: the headers o2c needs (Message-ID,
//! From, Subject) and the leaf parts with their bodies decoded (base64, quoted-printable,
//! 7bit/8bit/binary), nested multiparts flattened in document order. Small on purpose: orders
//! arrive as a text body or an attached file; encoded-word subjects, S/MIME and TNEF are not read.

use base64::Engine as _;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEmail {
    /// Without the angle brackets.
    pub message_id: Option<String>,
    /// The address alone, lower case (`Acme Orders <Orders@Acme.example>` → `orders@acme.example`).
    pub from: Option<String>,
    pub subject: Option<String>,
    pub parts: Vec<Part>,
}

/// A leaf part: its media type (lower case), file name, and decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub content_type: String,
    pub filename: Option<String>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn is_attachment(&self) -> bool {
        self.filename.is_some()
    }
}

/// Why a message cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("not an e-mail message: no header block (a blank line must end the headers)")]
    NoHeaders,
    #[error("multipart message without a boundary parameter in its Content-Type")]
    NoBoundary,
    #[error("part {part}: base64 body cannot be decoded: {reason}")]
    BadBase64 { part: usize, reason: String },
}

/// Reads a raw message.
pub fn parse(raw: &[u8]) -> Result<InboundEmail, InboundError> {
    let (headers, body) = split_head(raw).ok_or(InboundError::NoHeaders)?;
    let mut parts = Vec::new();
    read_entity(&headers, body, &mut parts, 0)?;
    Ok(InboundEmail {
        message_id: header(&headers, "message-id").map(|v| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        }),
        from: header(&headers, "from").map(address_of),
        subject: header(&headers, "subject").map(|s| s.trim().to_string()),
        parts,
    })
}

type Headers = Vec<(String, String)>;

/// Headers (unfolded, names lower case) and the body after the blank line.
fn split_head(raw: &[u8]) -> Option<(Headers, &[u8])> {
    let (end, skip) = find(raw, b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| find(raw, b"\n\n").map(|i| (i, 2)))
        .or_else(|| {
            (!raw.is_empty() && raw.iter().all(|b| *b != b'\n')).then_some((raw.len(), 0))
        })?;
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut headers: Headers = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if headers.is_empty() {
        return None;
    }
    Some((headers, raw.get(end + skip..).unwrap_or(&[])))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `value; key=val; key2="quoted"` → (value lower case, parameter lookup).
fn params(value: &str) -> (String, Vec<(String, String)>) {
    let mut it = value.split(';');
    let main = it.next().unwrap_or("").trim().to_ascii_lowercase();
    let ps = it
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            )
        })
        .collect();
    (main, ps)
}

fn address_of(from: &str) -> String {
    let addr = match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => &from[a + 1..b],
        _ => from,
    };
    addr.trim().to_ascii_lowercase()
}

fn read_entity(
    headers: &Headers,
    body: &[u8],
    out: &mut Vec<Part>,
    depth: usize,
) -> Result<(), InboundError> {
    let (ctype, cparams) = params(header(headers, "content-type").unwrap_or("text/plain"));
    if ctype.starts_with("multipart/") && depth < 8 {
        let boundary = cparams
            .iter()
            .find(|(k, _)| k == "boundary")
            .map(|(_, v)| v.clone())
            .ok_or(InboundError::NoBoundary)?;
        for piece in split_multipart(body, &boundary) {
            match split_head(piece) {
                Some((h, b)) => read_entity(&h, b, out, depth + 1)?,
                // A part without headers is text/plain (RFC 2046 5.1).
                None => out.push(Part {
                    content_type: "text/plain".into(),
                    filename: None,
                    body: piece.to_vec(),
                }),
            }
        }
        return Ok(());
    }
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let body = match encoding.as_str() {
        "base64" => {
            let clean: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(&clean)
                .map_err(|e| InboundError::BadBase64 {
                    part: out.len() + 1,
                    reason: e.to_string(),
                })?
        }
        "quoted-printable" => decode_qp(body),
        _ => body.to_vec(),
    };
    let (_, dparams) = params(header(headers, "content-disposition").unwrap_or(""));
    let filename = dparams
        .iter()
        .find(|(k, _)| k == "filename")
        .or_else(|| cparams.iter().find(|(k, _)| k == "name"))
        .map(|(_, v)| v.clone());
    out.push(Part {
        content_type: ctype,
        filename,
        body,
    });
    Ok(())
}

/// The parts between `--boundary` lines, up to `--boundary--`; preamble and epilogue dropped.
fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delim = format!("--{boundary}");
    let mut pieces = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    while pos <= body.len() {
        let line_end = body[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(body.len(), |i| pos + i);
        let line = body[pos..line_end]
            .strip_suffix(b"\r")
            .unwrap_or(&body[pos..line_end]);
        if line.starts_with(delim.as_bytes()) {
            if let Some(s) = start {
                // The line break before the delimiter belongs to it.
                let mut end = pos;
                if end > s && body[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > s && body[end - 1] == b'\r' {
                    end -= 1;
                }
                pieces.push(&body[s..end]);
            }
            if line[delim.len()..].starts_with(b"--") {
                return pieces;
            }
            start = Some((line_end + 1).min(body.len()));
        }
        pos = line_end + 1;
    }
    if let Some(s) = start {
        pieces.push(&body[s..]);
    }
    pieces
}

/// Quoted-printable (RFC 2045 6.7): `=XX` bytes, `=` at a line end joins lines.
fn decode_qp(body: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'=' {
            match (body.get(i + 1), body.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(a), Some(b)) if hex(*a).is_some() && hex(*b).is_some() => {
                    out.push(hex(*a).unwrap_or(0) * 16 + hex(*b).unwrap_or(0));
                    i += 3;
                }
                _ => {
                    out.push(b'=');
                    i += 1;
                }
            }
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_message_has_its_headers_and_one_text_part() {
        let raw = b"Message-ID: <abc@acme.example>\r\nFrom: Acme Orders\r\n <Orders@Acme.example>\r\nSubject: PO 1\r\n\r\nsku,quantity\r\nA,2\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.message_id.as_deref(), Some("abc@acme.example"));
        assert_eq!(m.from.as_deref(), Some("orders@acme.example"));
        assert_eq!(m.parts.len(), 1);
        assert_eq!(m.parts[0].content_type, "text/plain");
        assert_eq!(m.parts[0].body, b"sku,quantity\r\nA,2\r\n");
    }

    #[test]
    fn nested_multiparts_decode_base64_and_quoted_printable() {
        let raw = "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"OUT\"\n\npreamble\n--OUT\nContent-Type: multipart/alternative; boundary=IN\n\n--IN\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe, a long line=\n joined\n--IN\nContent-Type: text/html\n\n<p>hi</p>\n--IN--\n--OUT\nContent-Type: text/csv; name=\"po.csv\"\nContent-Disposition: attachment; filename=\"po.csv\"\nContent-Transfer-Encoding: base64\n\ncG9fbnVtYmVy\nLHNrdQo=\n--OUT--\nepilogue\n";
        let m = parse(raw.as_bytes()).unwrap();
        let types: Vec<&str> = m.parts.iter().map(|p| p.content_type.as_str()).collect();
        assert_eq!(types, vec!["text/plain", "text/html", "text/csv"]);
        assert_eq!(
            String::from_utf8(m.parts[0].body.clone()).unwrap(),
            "Grüße, a long line joined"
        );
        assert_eq!(m.parts[2].filename.as_deref(), Some("po.csv"));
        assert_eq!(m.parts[2].body, b"po_number,sku\n");
        assert!(m.parts[2].is_attachment() && !m.parts[0].is_attachment());
    }

    #[test]
    fn what_is_not_a_message_is_refused() {
        assert_eq!(parse(b""), Err(InboundError::NoHeaders));
        assert_eq!(
            parse(b"Content-Type: multipart/mixed\n\nx"),
            Err(InboundError::NoBoundary)
        );
        assert!(matches!(
            parse(b"Content-Transfer-Encoding: base64\n\n!!!"),
            Err(InboundError::BadBase64 { .. })
        ));
    }
}
