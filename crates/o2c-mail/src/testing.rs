//! A real SMTP server on loopback for tests: what lettre sends, it receives and keeps.
//!
//! Compiled in every build (not `cfg(test)`) because other crates' tests send mail through
//! their own code paths and check what arrived here. It speaks enough RFC 5321 for lettre:
//! EHLO/HELO, AUTH PLAIN/LOGIN (any credentials pass), MAIL, RCPT, DATA with dot-unstuffing,
//! RSET, NOOP, QUIT. No TLS: point an `smtp://` config at [`SmtpSink::url`].
//!
//! ```
//! # use o2c_mail::{testing::SmtpSink, Message, SmtpConfig};
//! let sink = SmtpSink::start();
//! let cfg = SmtpConfig::parse(&sink.url(), "billing@example.com").unwrap();
//! let msg = Message::builder("<inv_1@o2c>").to("ap@customer.example").subject("Hi").build().unwrap();
//! o2c_mail::send(&cfg, &msg).unwrap();
//! assert_eq!(sink.messages()[0].subject().as_deref(), Some("Hi"));
//! ```

mod received;

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use received::Received;

/// An SMTP server on `127.0.0.1` and an ephemeral port, running until dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
    stopping: AtomicBool,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Reply codes owed to the next MAIL FROM or DATA commands, oldest first.
    failures: VecDeque<u16>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not hide the messages from the test.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take_failure(&self) -> Option<u16> {
        self.state().failures.pop_front()
    }

    fn store(&self, message: Received) {
        self.state().received.push(message);
        self.arrived.notify_all();
    }
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and serves on a background thread, one thread per connection.
    ///
    /// # Panics
    /// When no loopback port can be bound: a test cannot go on without it.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local address of the SMTP sink");
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("smtp-sink".into())
                .spawn(move || accept_loop(&listener, &shared))
                .expect("spawn the SMTP sink thread")
        };
        SmtpSink {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `smtp://127.0.0.1:PORT`, ready for [`crate::SmtpConfig::parse`].
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.state().received.clone()
    }

    /// Waits until at least `n` messages have arrived or `timeout` has passed, and returns
    /// what has arrived by then (fewer than `n` on a timeout: the test's assertion says why).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state();
        while state.received.len() < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            state = match self.shared.arrived.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.received.clone()
    }

    /// Replies `code` (4xx: transient, 5xx: permanent) to the next `n` MAIL FROM or DATA
    /// commands, whichever comes first. A refused MAIL FROM ends that transaction, so each
    /// failure costs one delivery attempt. Calls queue up: `fail_next(1, 451)` then
    /// `fail_next(1, 550)` defers one attempt and rejects the next.
    ///
    /// # Panics
    /// When `code` is not an SMTP error code (400-599).
    pub fn fail_next(&self, n: usize, code: u16) {
        assert!(
            (400..600).contains(&code),
            "{code} is not an SMTP error code"
        );
        self.shared
            .state()
            .failures
            .extend(std::iter::repeat_n(code, n));
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so that the thread sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // A client that hangs up mid-session is not the sink's failure: ignore I/O errors.
        let _ = thread::Builder::new()
            .name("smtp-sink-conn".into())
            .spawn(move || Session::new(stream, &shared).and_then(Session::run));
    }
}

/// One client connection and the mail transaction it has open.
struct Session<'a> {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    shared: &'a Shared,
    authenticated: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

impl<'a> Session<'a> {
    fn new(stream: TcpStream, shared: &'a Shared) -> io::Result<Session<'a>> {
        // Bounds how long a forgotten client keeps its thread.
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Session {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            shared,
            authenticated: false,
            mail_from: None,
            rcpt_to: Vec::new(),
        })
    }

    fn run(mut self) -> io::Result<()> {
        self.reply("220 o2c-sink ESMTP ready")?;
        while let Some(line) = self.read_line()? {
            let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            match verb.to_ascii_uppercase().as_str() {
                "EHLO" => {
                    self.reset();
                    self.reply(
                        "250-o2c-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN",
                    )?
                }
                "HELO" => {
                    self.reset();
                    self.reply("250 o2c-sink")?
                }
                "AUTH" => self.auth(arg)?,
                "MAIL" => self.mail(arg)?,
                "RCPT" => self.rcpt(arg)?,
                "DATA" => self.data()?,
                "RSET" => {
                    self.reset();
                    self.reply("250 OK")?
                }
                "NOOP" => self.reply("250 OK")?,
                "QUIT" => return self.reply("221 Bye"),
                "STARTTLS" => self.reply("454 TLS not available")?,
                _ => self.reply("502 Command not implemented")?,
            }
        }
        Ok(())
    }

    /// Accepts any credentials: the sink checks that a client authenticates, not who it is.
    fn auth(&mut self, arg: &str) -> io::Result<()> {
        let (mechanism, initial) = arg.split_once(' ').unwrap_or((arg, ""));
        match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" if initial.is_empty() => self.challenge("334 ")?,
            "PLAIN" => {}
            "LOGIN" => {
                if initial.is_empty() {
                    self.challenge("334 VXNlcm5hbWU6")?; // "Username:"
                }
                self.challenge("334 UGFzc3dvcmQ6")?; // "Password:"
            }
            _ => return self.reply("504 Unrecognized authentication type"),
        }
        self.authenticated = true;
        self.reply("235 Authentication successful")
    }

    fn challenge(&mut self, prompt: &str) -> io::Result<()> {
        self.reply(prompt)?;
        self.read_line()?
            .map(drop)
            .ok_or_else(|| io::ErrorKind::UnexpectedEof.into())
    }

    fn mail(&mut self, arg: &str) -> io::Result<()> {
        self.reset();
        if let Some(code) = self.shared.take_failure() {
            return self.reply(&format!("{code} MAIL FROM refused on request"));
        }
        match path(arg, "FROM:") {
            Some(from) => {
                self.mail_from = Some(from);
                self.reply("250 OK")
            }
            None => self.reply("501 Syntax: MAIL FROM:<address>"),
        }
    }

    fn rcpt(&mut self, arg: &str) -> io::Result<()> {
        if self.mail_from.is_none() {
            return self.reply("503 MAIL first");
        }
        match path(arg, "TO:") {
            Some(to) if !to.is_empty() => {
                self.rcpt_to.push(to);
                self.reply("250 OK")
            }
            _ => self.reply("501 Syntax: RCPT TO:<address>"),
        }
    }

    fn data(&mut self) -> io::Result<()> {
        if self.rcpt_to.is_empty() {
            return self.reply("503 RCPT first");
        }
        if let Some(code) = self.shared.take_failure() {
            self.reset();
            return self.reply(&format!("{code} DATA refused on request"));
        }
        self.reply("354 End data with <CR><LF>.<CR><LF>")?;
        let mut data = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            // RFC 5321 4.5.2: the client doubled every leading dot.
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            data.extend_from_slice(unstuffed);
        }
        let received = Received {
            mail_from: self.mail_from.take().unwrap_or_default(),
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            authenticated: self.authenticated,
            data: String::from_utf8_lossy(&data).into_owned(),
        };
        self.shared.store(received);
        self.reply("250 OK queued")
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    fn read_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
    }

    fn reply(&mut self, lines: &str) -> io::Result<()> {
        self.writer.write_all(format!("{lines}\r\n").as_bytes())
    }
}

/// The address in `FROM:<a@b> BODY=8BITMIME` (`<>` is the null sender: empty string).
fn path(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}
