//! Outgoing e-mail: invoices with their PDF and XML, dunning letters, notifications.
//!
//! Synchronous on purpose: o2c sends from a plain worker thread, so lettre's blocking
//! [`lettre::SmtpTransport`] serves without a runtime. TLS is rustls with the ring provider.
//!
//! ```no_run
//! use o2c_mail::{Mailer, Message, SmtpConfig};
//!
//! let cfg = SmtpConfig::parse("smtps://billing:s3cret@mail.example.com", "Billing <billing@example.com>")?;
//! let mailer = Mailer::new(&cfg)?;
//! let msg = Message::builder("<inv_01J9Z.1@o2c.example.com>")
//!     .to("ap@customer.example")
//!     .subject("Invoice INV-2026-0001")
//!     .text("Please find your invoice attached.")
//!     .attach("INV-2026-0001.pdf", "application/pdf", b"%PDF-1.7".to_vec())
//!     .build()?;
//! match mailer.send(&msg) {
//!     Ok(outcome) => println!("sent {}", outcome.message_id),
//!     Err(e) if e.is_transient() => { /* retry later with the same `msg` */ }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod error;
pub mod imap;
pub mod inbound;
mod message;
mod send;
pub mod testing;

pub use config::{ConfigError, Credentials, Password, Security, SmtpConfig};
pub use error::MailError;
pub use message::{Message, MessageBuilder};
pub use send::{Mailer, SendOutcome, send};
