//! Delivery over SMTP with lettre's blocking transport: one connection per message.

use lettre::SmtpTransport;
use lettre::Transport as _;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};

use crate::{MailError, Message, Security, SmtpConfig};

/// What the server said when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    /// The Message-ID sent, with its angle brackets.
    pub message_id: String,
    /// The server's reply to the end of DATA, often holding its queue id (`250 OK id=…`).
    pub reply: String,
}

/// A configured SMTP client. Cheap to share by reference between calls on a worker thread;
/// it holds no connection (one is opened per message and closed after it).
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer {
    /// Prepares the transport (TLS settings, credentials); fails only on a TLS setup error.
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, MailError> {
        let tls = |host: &str| TlsParameters::new(host.to_owned()).map_err(MailError::Tls);
        let tls = match cfg.security() {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(tls(cfg.host())?),
            Security::ImplicitTls => Tls::Wrapper(tls(cfg.host())?),
        };
        let mut builder = SmtpTransport::builder_dangerous(cfg.host())
            .port(cfg.port())
            .tls(tls);
        if let Some(timeout) = cfg.timeout() {
            builder = builder.timeout(Some(timeout));
        }
        if let Some(c) = cfg.credentials() {
            let credentials = Credentials::new(c.user.clone(), c.password.expose().to_owned());
            builder = builder.credentials(credentials);
        }
        Ok(Mailer {
            transport: builder.build(),
            from: cfg.sender().clone(),
        })
    }

    /// Sends one message and blocks until the server accepted or refused it.
    pub fn send(&self, msg: &Message) -> Result<SendOutcome, MailError> {
        let email = msg.to_lettre(&self.from)?;
        let response = self.transport.send(&email)?;
        Ok(SendOutcome {
            message_id: msg.message_id().to_owned(),
            reply: format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            ),
        })
    }
}

/// Sends one message with a transport made for this call: the simple path for a caller that
/// sends rarely. A worker sending many should keep a [`Mailer`].
pub fn send(cfg: &SmtpConfig, msg: &Message) -> Result<SendOutcome, MailError> {
    Mailer::new(cfg)?.send(msg)
}
