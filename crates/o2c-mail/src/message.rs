//! A message to send: parsed when built, turned into MIME when sent.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::MailError;

/// A message ready to send. Build it with [`Message::builder`]; every address, the
/// Message-ID and the attachments' content types are checked by [`MessageBuilder::build`].
#[derive(Debug, Clone)]
pub struct Message {
    message_id: String,
    from: Option<Mailbox>,
    to: Vec<Mailbox>,
    reply_to: Option<Mailbox>,
    subject: String,
    text: String,
    html: Option<String>,
    attachments: Vec<Attachment>,
}

#[derive(Debug, Clone)]
struct Attachment {
    filename: String,
    content_type: ContentType,
    bytes: Vec<u8>,
}

/// Collects a message's parts as plain strings; [`MessageBuilder::build`] parses them once.
#[derive(Debug, Clone, Default)]
pub struct MessageBuilder {
    message_id: String,
    from: Option<String>,
    to: Vec<String>,
    reply_to: Option<String>,
    subject: String,
    text: String,
    html: Option<String>,
    attachments: Vec<(String, String, Vec<u8>)>,
}

impl Message {
    /// Starts a message with its Message-ID (`<left@right>`, brackets optional). The caller
    /// chooses it, e.g. from the invoice id and the outbox event id, so that a retry of the
    /// same delivery carries the same id and the recipient can tell a duplicate.
    pub fn builder(message_id: impl Into<String>) -> MessageBuilder {
        MessageBuilder {
            message_id: message_id.into(),
            ..MessageBuilder::default()
        }
    }

    /// The Message-ID with its angle brackets, as in the header.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The lettre message, with `default_from` when the message names no sender.
    pub(crate) fn to_lettre(&self, default_from: &Mailbox) -> Result<lettre::Message, MailError> {
        let mut builder = lettre::Message::builder()
            .message_id(Some(self.message_id.clone()))
            .from(self.from.clone().unwrap_or_else(|| default_from.clone()))
            .subject(self.subject.clone());
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let text = SinglePart::plain(self.text.clone());
        let alternative =
            |html: &String| MultiPart::alternative_plain_html(self.text.clone(), html.clone());
        let result = if self.attachments.is_empty() {
            match &self.html {
                None => builder.singlepart(text),
                Some(html) => builder.multipart(alternative(html)),
            }
        } else {
            let mixed = match &self.html {
                None => MultiPart::mixed().singlepart(text),
                Some(html) => MultiPart::mixed().multipart(alternative(html)),
            };
            builder.multipart(self.attachments.iter().fold(mixed, |mixed, a| {
                mixed.singlepart(
                    lettre::message::Attachment::new(a.filename.clone())
                        .body(a.bytes.clone(), a.content_type.clone()),
                )
            }))
        };
        result.map_err(MailError::Assembly)
    }
}

impl MessageBuilder {
    /// Overrides the configured sender for this message.
    pub fn from(mut self, mailbox: impl Into<String>) -> Self {
        self.from = Some(mailbox.into());
        self
    }

    /// Adds a recipient; call once per recipient.
    pub fn to(mut self, mailbox: impl Into<String>) -> Self {
        self.to.push(mailbox.into());
        self
    }

    pub fn reply_to(mut self, mailbox: impl Into<String>) -> Self {
        self.reply_to = Some(mailbox.into());
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// The plain-text body, always sent (the HTML body, if any, is its alternative).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Attaches a file, e.g. `("INV-2026-0001.pdf", "application/pdf", pdf_bytes)`.
    pub fn attach(
        mut self,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
    ) -> Self {
        self.attachments
            .push((filename.into(), content_type.into(), bytes.into()));
        self
    }

    pub fn build(self) -> Result<Message, MailError> {
        if self.to.is_empty() {
            return Err(MailError::NoRecipient);
        }
        let attachments = self
            .attachments
            .into_iter()
            .map(
                |(filename, content_type, bytes)| match ContentType::parse(&content_type) {
                    Ok(content_type) => Ok(Attachment {
                        filename,
                        content_type,
                        bytes,
                    }),
                    Err(_) => Err(MailError::InvalidContentType {
                        filename,
                        content_type,
                    }),
                },
            )
            .collect::<Result<_, _>>()?;
        Ok(Message {
            message_id: parse_message_id(&self.message_id)?,
            from: self.from.map(|f| parse_mailbox("from", &f)).transpose()?,
            to: self
                .to
                .iter()
                .map(|to| parse_mailbox("to", to))
                .collect::<Result<_, _>>()?,
            reply_to: self
                .reply_to
                .map(|r| parse_mailbox("reply-to", &r))
                .transpose()?,
            subject: self.subject,
            text: self.text,
            html: self.html,
            attachments,
        })
    }
}

fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, MailError> {
    value.parse().map_err(
        |e: lettre::address::AddressError| MailError::InvalidAddress {
            field,
            value: value.to_owned(),
            reason: e.to_string(),
        },
    )
}

/// RFC 5322 `msg-id`, simplified: `<left@right>` of printable ASCII without spaces.
fn parse_message_id(value: &str) -> Result<String, MailError> {
    let inner = value
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(value);
    let valid_char = |c: char| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '@');
    match inner.split_once('@') {
        Some((left, right))
            if !left.is_empty()
                && !right.is_empty()
                && left.chars().all(valid_char)
                && right.chars().all(valid_char) =>
        {
            Ok(format!("<{inner}>"))
        }
        _ => Err(MailError::InvalidMessageId(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_message_id;

    #[test]
    fn a_message_id_gets_its_angle_brackets_once() {
        assert_eq!(parse_message_id("inv_1@o2c").unwrap(), "<inv_1@o2c>");
        assert_eq!(parse_message_id("<inv_1@o2c>").unwrap(), "<inv_1@o2c>");
    }

    #[test]
    fn a_message_id_without_both_sides_of_the_at_sign_is_refused() {
        for bad in [
            "", "<>", "inv_1", "@o2c", "inv_1@", "a b@o2c", "<a@b@c>", "<<a@b>>",
        ] {
            assert!(parse_message_id(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
