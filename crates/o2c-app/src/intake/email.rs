//! Orders by e-mail: the raw message is the stored document (channel `email`); its order is the
//! first attachment that is an order file (X12, EDIFACT, or CSV by name or type), else the text
//! body read as CSV. The sender's address maps to the customer (a partner id with qualifier
//! `EMAIL`, else the customer's e-mail or billing e-mail), which fills the `customer_id` column a
//! body CSV leaves out. The Message-ID is the dedupe key: the same message again orders nothing.

use super::resolve::Parsed;
use super::{Channel, IntakeError, csv, edi};
use crate::error::Result;
use o2c_mail::inbound::{self, InboundEmail, Part};
use o2c_store::{Conn, params};

fn err(code: &str, at: &str, message: impl Into<String>) -> IntakeError {
    IntakeError::new(code, at, message)
}

/// The order payload: (what it is, where it is, bytes).
fn payload(mail: &InboundEmail) -> Option<(Channel, String, Vec<u8>)> {
    let is_order_file = |p: &Part| {
        let name = p.filename.as_deref().unwrap_or("").to_ascii_lowercase();
        let detected = Channel::detect(&p.body);
        detected != Channel::Csv
            || name.ends_with(".csv")
            || p.content_type == "text/csv"
            || p.content_type == "application/vnd.ms-excel"
    };
    if let Some((i, p)) = mail
        .parts
        .iter()
        .enumerate()
        .find(|(_, p)| p.is_attachment() && is_order_file(p))
    {
        let at = format!(
            "attachment {} `{}`",
            i + 1,
            p.filename.as_deref().unwrap_or("")
        );
        return Some((Channel::detect(&p.body), at, p.body.clone()));
    }
    mail.parts
        .iter()
        .find(|p| !p.is_attachment() && p.content_type == "text/plain" && looks_like_order(&p.body))
        .map(|p| (Channel::detect(&p.body), "body".to_string(), p.body.clone()))
}

/// A body is an order when it is an interchange, or its first line reads as a CSV header (a
/// separator in it); "Please see the attached order." is not.
fn looks_like_order(body: &[u8]) -> bool {
    if Channel::detect(body) != Channel::Csv {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.contains([',', ';', '\t']))
}

/// The customer a sender address belongs to.
fn customer_of(conn: &mut dyn Conn, address: &str) -> Result<Option<String>> {
    if let Some(r) = conn.query_opt(
        "SELECT customer_id FROM customer_partners WHERE qualifier = 'EMAIL' AND LOWER(partner_id) = $1",
        params![address],
    )? {
        return Ok(Some(r.text(0)));
    }
    Ok(conn
        .query_opt(
            "SELECT id FROM customers WHERE LOWER(email) = $1 OR LOWER(billing_email) = $1 ORDER BY created_at, id LIMIT 1",
            params![address],
        )?
        .map(|r| r.text(0)))
}

/// A CSV without a `customer_id` column gets the sender's customer on every row.
fn with_customer(text: &str, customer_id: &str) -> Option<String> {
    let sep = o2c_edi::csv::detect_separator(text);
    let records = o2c_edi::csv::parse(text, sep).ok()?;
    let header = records.first()?;
    if header.fields.iter().any(|f| {
        let f = f.trim().to_ascii_lowercase();
        f == "customer_id" || f == "customer"
    }) {
        return None;
    }
    let quote = |f: &str| {
        if f.contains([sep, '"', '\n', '\r']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_string()
        }
    };
    let mut out = String::new();
    // Keep each record on its original line, so errors still name the line of the message body.
    let mut line = 1;
    for (i, r) in records.iter().enumerate() {
        while line < r.line {
            out.push('\n');
            line += 1;
        }
        let first = if i == 0 {
            "customer_id".to_string()
        } else {
            customer_id.to_string()
        };
        let fields: Vec<String> = std::iter::once(first)
            .chain(r.fields.iter().map(|f| quote(f)))
            .collect();
        out.push_str(&fields.join(&sep.to_string()));
    }
    out.push('\n');
    Some(out)
}

/// Reads a stored message into the orders it carries.
pub(crate) fn read(
    conn: &mut dyn Conn,
    raw: &[u8],
) -> Result<std::result::Result<Parsed, Vec<IntakeError>>> {
    let mail = match inbound::parse(raw) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Err(vec![err(
                "malformed-order-document",
                "message",
                e.to_string(),
            )]));
        }
    };
    let Some(message_id) = mail.message_id.clone().filter(|m| !m.is_empty()) else {
        return Ok(Err(vec![err(
            "malformed-order-document",
            "Message-ID",
            "the message has no Message-ID: it could not be recognised if sent again",
        )]));
    };
    let from = mail.from.clone().unwrap_or_default();
    let Some((channel, at, bytes)) = payload(&mail) else {
        return Ok(Err(vec![err(
            "malformed-order-document",
            "message",
            "no order in the message: attach a CSV, X12 850 or EDIFACT ORDERS file, or put the CSV lines in the text body",
        )]));
    };
    let parsed = match channel {
        Channel::X12 | Channel::Edifact => edi::read(channel, &bytes),
        Channel::Csv | Channel::Api | Channel::Email => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let filled = match with_customer(&text, "") {
                None => None,
                Some(_) => match customer_of(conn, &from)? {
                    Some(customer) => with_customer(&text, &customer),
                    None => {
                        return Ok(Err(vec![err(
                            "unknown-sender",
                            "From",
                            format!(
                                "`{from}` is no customer's address and the order names no customer_id: add it as the customer's e-mail or as partner id EMAIL `{from}`, then replay"
                            ),
                        )]));
                    }
                },
            };
            csv::read(filled.as_deref().map_or(bytes.as_slice(), str::as_bytes))
        }
    };
    Ok(parsed
        .map(|mut p| {
            p.dedupe_key = format!("email|{message_id}");
            p.sender = Some(format!("email:{from}"));
            p
        })
        .map_err(|errors| {
            errors
                .into_iter()
                .map(|mut e| {
                    e.at = if e.at.is_empty() {
                        at.clone()
                    } else {
                        format!("{at}, {}", e.at)
                    };
                    e
                })
                .collect()
        }))
}
