//! Why a message could not be built or delivered, and whether trying again can help.

use std::error::Error as _;

use lettre::transport::smtp;

/// A message that could not be built or sent.
///
/// [`MailError::is_transient`] is the only question a delivery worker needs to ask: retry
/// (with the same [`crate::Message`], hence the same Message-ID) or give up and report.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{field} address {value:?} is not valid: {reason}")]
    InvalidAddress {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("a message needs at least one recipient")]
    NoRecipient,
    #[error("Message-ID {0:?} is not of the form <left@right>")]
    InvalidMessageId(String),
    #[error("attachment {filename:?} has an invalid content type {content_type:?}")]
    InvalidContentType {
        filename: String,
        content_type: String,
    },
    #[error("the message could not be assembled")]
    Assembly(#[source] lettre::error::Error),
    /// A 4xx reply: the server asks to try again later (greylisting, full mailbox, overload).
    #[error("SMTP server deferred the message ({code}): {reply}")]
    Deferred { code: u16, reply: String },
    /// A 5xx reply: unknown recipient, refused sender, content rejected.
    #[error("SMTP server rejected the message ({code}): {reply}")]
    Rejected { code: u16, reply: String },
    /// Connection refused or reset, timeout, a reply that could not be read.
    #[error("SMTP server could not be reached or stopped answering")]
    Unreachable(#[source] smtp::Error),
    /// Handshake or certificate failure, or a peer that does not speak TLS: a configuration
    /// problem that retries will not fix.
    #[error("TLS with the SMTP server failed")]
    Tls(#[source] smtp::Error),
    /// The client refused to go on: STARTTLS or an AUTH mechanism not offered, 8-bit content
    /// the server cannot take. Also a configuration problem.
    #[error("SMTP client refused to send")]
    ClientRefused(#[source] smtp::Error),
}

impl MailError {
    /// True when the same message may succeed later: 4xx replies and network failures.
    /// Everything else (5xx, bad addresses, TLS and configuration errors) is permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Deferred { .. } | MailError::Unreachable(_) => true,
            MailError::InvalidAddress { .. }
            | MailError::NoRecipient
            | MailError::InvalidMessageId(_)
            | MailError::InvalidContentType { .. }
            | MailError::Assembly(_)
            | MailError::Rejected { .. }
            | MailError::Tls(_)
            | MailError::ClientRefused(_) => false,
        }
    }

    /// The SMTP reply code, when the server answered with an error.
    pub fn reply_code(&self) -> Option<u16> {
        match self {
            MailError::Deferred { code, .. } | MailError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<smtp::Error> for MailError {
    fn from(err: smtp::Error) -> MailError {
        let reply = || err.source().map(|s| s.to_string()).unwrap_or_default();
        match err.status().map(u16::from) {
            Some(code) if err.is_transient() => MailError::Deferred {
                code,
                reply: reply(),
            },
            Some(code) if err.is_permanent() => MailError::Rejected {
                code,
                reply: reply(),
            },
            _ if err.is_tls() || caused_by_rustls(&err) => MailError::Tls(err),
            _ if err.is_client() => MailError::ClientRefused(err),
            // Connection, network, unparsable response, transport shut down.
            _ => MailError::Unreachable(err),
        }
    }
}

/// rustls handshakes lazily, on the first read or write, so lettre reports a bad certificate
/// or a plain-text peer as a network error; only the wrapped `rustls::Error` tells them apart
/// from a dropped connection.
fn caused_by_rustls(err: &smtp::Error) -> bool {
    let mut source = err.source();
    while let Some(cause) = source {
        let in_io = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .is_some_and(|inner| inner.is::<rustls::Error>());
        if in_io || cause.is::<rustls::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}
