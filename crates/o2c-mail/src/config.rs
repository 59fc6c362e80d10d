//! Where and how to send: parsed once, at start, from a URL and a sender address.

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use percent_encoding::percent_decode_str;
use url::Url;

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: no TLS at all. Only for a relay on loopback or a trusted network.
    Plain,
    /// `smtp+starttls://`: upgrade with STARTTLS; a server that does not offer it is an error,
    /// so neither credentials nor mail ever cross the wire in clear text.
    StartTls,
    /// `smtps://`: TLS from the first byte (implicit TLS, RFC 8314).
    ImplicitTls,
}

impl Security {
    fn from_scheme(scheme: &str) -> Option<Security> {
        match scheme {
            "smtp" => Some(Security::Plain),
            "smtp+starttls" => Some(Security::StartTls),
            "smtps" => Some(Security::ImplicitTls),
            _ => None,
        }
    }

    /// The port used when the URL names none: 25, 587 (submission) and 465 (submissions).
    pub fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::ImplicitTls => 465,
        }
    }
}

/// A password that does not show in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The password itself, for the one place that sends it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// User name and password for SMTP AUTH (PLAIN or LOGIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Password,
}

/// A validated SMTP configuration.
///
/// ```
/// # use o2c_mail::SmtpConfig;
/// let cfg = SmtpConfig::parse(
///     "smtp+starttls://billing:s3cret@mail.example.com",
///     "Billing <billing@example.com>",
/// )
/// .unwrap();
/// assert_eq!(cfg.port(), 587);
/// assert!(!format!("{cfg:?}").contains("s3cret"));
/// ```
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    security: Security,
    host: String,
    port: u16,
    credentials: Option<Credentials>,
    from: Mailbox,
    timeout: Option<Duration>,
}

/// What is wrong with an SMTP URL or sender address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("SMTP URL is malformed: {0}")]
    MalformedUrl(String),
    #[error("SMTP URL scheme {0:?} is not supported: use smtp, smtp+starttls or smtps")]
    UnsupportedScheme(String),
    #[error("SMTP URL has no host")]
    MissingHost,
    #[error("SMTP URL has a user name but no password")]
    MissingPassword,
    #[error("SMTP URL has a password but no user name")]
    MissingUser,
    #[error("SMTP URL credentials are not valid UTF-8 once percent-decoded")]
    CredentialsNotUtf8,
    #[error("SMTP URL must not have a path, query or fragment (found {0:?})")]
    UnexpectedUrlPart(String),
    #[error("sender address {value:?} is not valid: {reason}")]
    InvalidFrom { value: String, reason: String },
    #[error("SMTP timeout must be greater than zero")]
    ZeroTimeout,
}

impl SmtpConfig {
    /// Parses `smtp://`, `smtp+starttls://` or `smtps://` `[user:pass@]host[:port]`, and the
    /// sender (`Billing <billing@example.com>` or a bare address). User and password are
    /// percent-decoded, so a password may hold `@` or `:` written as `%40` and `%3A`.
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig, ConfigError> {
        let parsed = Url::parse(url).map_err(|e| ConfigError::MalformedUrl(e.to_string()))?;
        let security = Security::from_scheme(parsed.scheme())
            .ok_or_else(|| ConfigError::UnsupportedScheme(parsed.scheme().to_owned()))?;
        let host = match parsed.host_str() {
            Some(host) if !host.is_empty() => host.to_owned(),
            _ => return Err(ConfigError::MissingHost),
        };
        // Anything after the authority would be silently ignored: refuse it instead.
        if !matches!(parsed.path(), "" | "/")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            let rest = &parsed[url::Position::AfterPort..];
            return Err(ConfigError::UnexpectedUrlPart(rest.to_owned()));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| ConfigError::InvalidFrom {
                value: from.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(SmtpConfig {
            security,
            host,
            port: parsed.port().unwrap_or(security.default_port()),
            credentials: credentials(&parsed)?,
            from,
            timeout: None,
        })
    }

    /// Limits connecting and each command's wait for a reply (lettre's default is 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<SmtpConfig, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        self.timeout = Some(timeout);
        Ok(self)
    }

    pub fn security(&self) -> Security {
        self.security
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The sender, as it will appear in `From:` (e.g. `Billing <billing@example.com>`).
    pub fn from(&self) -> String {
        self.from.to_string()
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    pub(crate) fn sender(&self) -> &Mailbox {
        &self.from
    }
}

fn credentials(url: &Url) -> Result<Option<Credentials>, ConfigError> {
    let decode = |s: &str| {
        percent_decode_str(s)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| ConfigError::CredentialsNotUtf8)
    };
    match (url.username(), url.password()) {
        ("", None) => Ok(None),
        ("", Some(_)) => Err(ConfigError::MissingUser),
        (_, None) => Err(ConfigError::MissingPassword),
        (user, Some(password)) => Ok(Some(Credentials {
            user: decode(user)?,
            password: Password(decode(password)?),
        })),
    }
}
