//! A minimal IMAP4rev1 client (RFC 3501) for the order mailbox: LOGIN, SELECT, UID SEARCH
//! UNSEEN, UID FETCH BODY.PEEK[] and UID STORE +FLAGS (\Seen), over plain TCP (`imap://`; put a
//! TLS-terminating proxy such as stunnel in front of a server that only speaks IMAPS). Blocking,
//! like the SMTP side: the poller runs it on a worker thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub mailbox: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("O2C_IMAP_URL: {0}")]
    Config(String),
    #[error("IMAP connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("the IMAP server refused `{command}`: {answer}")]
    Refused { command: String, answer: String },
    #[error("the IMAP server answered something unreadable: {0}")]
    Protocol(String),
}

impl ImapConfig {
    /// `imap://user:password@host[:143]/MAILBOX` (mailbox `INBOX` when absent; user and
    /// password percent-encoded).
    pub fn parse(url: &str) -> Result<ImapConfig, ImapError> {
        let u = url::Url::parse(url).map_err(|e| ImapError::Config(format!("{url}: {e}")))?;
        if u.scheme() != "imap" {
            return Err(ImapError::Config(format!(
                "expected imap://user:password@host:port/MAILBOX, got scheme `{}` (imaps is not built in)",
                u.scheme()
            )));
        }
        let dec = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let host = u
            .host_str()
            .ok_or_else(|| ImapError::Config("no host".into()))?
            .to_string();
        if u.username().is_empty() {
            return Err(ImapError::Config("no user name".into()));
        }
        let mailbox = dec(u.path().trim_start_matches('/'));
        Ok(ImapConfig {
            host,
            port: u.port().unwrap_or(143),
            user: dec(u.username()),
            password: dec(u.password().unwrap_or("")),
            mailbox: if mailbox.is_empty() {
                "INBOX".into()
            } else {
                mailbox
            },
        })
    }
}

/// A logged-in session with the mailbox selected.
pub struct ImapSession {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

/// One untagged answer line, with the literals it carried.
struct Untagged {
    line: String,
    literals: Vec<Vec<u8>>,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl ImapSession {
    pub fn connect(cfg: &ImapConfig) -> Result<ImapSession, ImapError> {
        let stream = TcpStream::connect((cfg.host.as_str(), cfg.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        let mut s = ImapSession {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            tag: 0,
        };
        let mut greeting = String::new();
        s.reader.read_line(&mut greeting)?;
        if !greeting.starts_with("* OK") && !greeting.starts_with("* PREAUTH") {
            return Err(ImapError::Refused {
                command: "connect".into(),
                answer: greeting.trim().into(),
            });
        }
        s.command(
            &format!("LOGIN {} {}", quote(&cfg.user), quote(&cfg.password)),
            "LOGIN",
        )?;
        s.command(&format!("SELECT {}", quote(&cfg.mailbox)), "SELECT")?;
        Ok(s)
    }

    /// The UIDs of the messages not yet seen, ascending.
    pub fn unseen(&mut self) -> Result<Vec<u32>, ImapError> {
        let mut uids = Vec::new();
        for u in self.command("UID SEARCH UNSEEN", "UID SEARCH")? {
            if let Some(rest) = u.line.strip_prefix("* SEARCH") {
                uids.extend(
                    rest.split_whitespace()
                        .filter_map(|n| n.parse::<u32>().ok()),
                );
            }
        }
        uids.sort_unstable();
        Ok(uids)
    }

    /// The raw message, without marking it seen.
    pub fn fetch(&mut self, uid: u32) -> Result<Vec<u8>, ImapError> {
        self.command(&format!("UID FETCH {uid} BODY.PEEK[]"), "UID FETCH")?
            .into_iter()
            .find(|u| u.line.contains("FETCH") && !u.literals.is_empty())
            .and_then(|mut u| u.literals.pop())
            .ok_or_else(|| ImapError::Protocol(format!("no message body for UID {uid}")))
    }

    /// Marks a message seen: it is not fetched again.
    pub fn mark_seen(&mut self, uid: u32) -> Result<(), ImapError> {
        self.command(&format!("UID STORE {uid} +FLAGS (\\Seen)"), "UID STORE")
            .map(drop)
    }

    pub fn logout(mut self) -> Result<(), ImapError> {
        self.command("LOGOUT", "LOGOUT").map(drop)
    }

    /// Sends a tagged command; collects the untagged answers until the tagged one, which must be OK.
    fn command(&mut self, command: &str, name: &str) -> Result<Vec<Untagged>, ImapError> {
        self.tag += 1;
        let tag = format!("o{}", self.tag);
        self.writer
            .write_all(format!("{tag} {command}\r\n").as_bytes())?;
        self.writer.flush()?;
        let mut answers = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(ImapError::Protocol(format!(
                    "connection closed during {name}"
                )));
            }
            let mut literals = Vec::new();
            // A line ending in `{n}` is followed by n bytes, then the rest of the line.
            while let Some(n) = literal_len(&line) {
                let mut buf = vec![0; n];
                self.reader.read_exact(&mut buf)?;
                literals.push(buf);
                let mut rest = String::new();
                self.reader.read_line(&mut rest)?;
                line.push_str(&rest);
            }
            if let Some(status) = line.strip_prefix(&format!("{tag} ")) {
                if status.starts_with("OK") {
                    return Ok(answers);
                }
                return Err(ImapError::Refused {
                    command: name.into(),
                    answer: status.trim().into(),
                });
            }
            answers.push(Untagged {
                line: line.trim_end().to_string(),
                literals,
            });
        }
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let t = line.trim_end_matches(['\r', '\n']);
    let open = t.rfind('{')?;
    t.strip_suffix('}')?[open + 1..].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_server_account_and_mailbox() {
        let c = ImapConfig::parse("imap://orders%40acme.example:s%3Acret@127.0.0.1:1143/Orders")
            .unwrap();
        assert_eq!(
            (
                c.host.as_str(),
                c.port,
                c.user.as_str(),
                c.password.as_str(),
                c.mailbox.as_str()
            ),
            ("127.0.0.1", 1143, "orders@acme.example", "s:cret", "Orders")
        );
        assert_eq!(
            ImapConfig::parse("imap://u:p@mail.example")
                .unwrap()
                .mailbox,
            "INBOX"
        );
        assert!(ImapConfig::parse("imaps://u:p@mail.example").is_err());
        assert!(ImapConfig::parse("imap://mail.example").is_err());
    }

    #[test]
    fn a_literal_length_is_read_from_the_line_end() {
        assert_eq!(literal_len("* 1 FETCH (UID 7 BODY[] {42}\r\n"), Some(42));
        assert_eq!(literal_len("* SEARCH 1 2\r\n"), None);
    }
}
