use std::net::TcpListener;
use std::time::Duration;

use o2c_mail::testing::SmtpSink;
use o2c_mail::{ConfigError, MailError, Mailer, Message, Security, SmtpConfig};

const FROM: &str = "Billing <billing@o2c.example>";

fn config(url: &str) -> SmtpConfig {
    SmtpConfig::parse(url, FROM)
        .unwrap()
        .with_timeout(Duration::from_secs(5))
        .unwrap()
}

fn reminder(message_id: &str) -> Message {
    Message::builder(message_id)
        .to("ap@customer.example")
        .subject("Payment reminder")
        .text("Invoice INV-1 is overdue.")
        .build()
        .unwrap()
}

#[test]
fn an_invoice_arrives_with_its_subject_recipients_message_id_and_attachments() {
    let sink = SmtpSink::start();
    let invoice = Message::builder("inv_01J9Z.1@o2c.example")
        .to("Accounts Payable <ap@customer.example>")
        .to("controller@customer.example")
        .reply_to("ar@o2c.example")
        .subject("Invoice INV-2026-0001")
        .text("Please find invoice INV-2026-0001 attached.")
        .html("<p>Please find invoice <b>INV-2026-0001</b> attached.</p>")
        .attach(
            "INV-2026-0001.pdf",
            "application/pdf",
            b"%PDF-1.7\n%fake\n".to_vec(),
        )
        .attach("INV-2026-0001.xml", "application/xml", "<Invoice/>")
        .build()
        .unwrap();

    let outcome = o2c_mail::send(&config(&sink.url()), &invoice).unwrap();

    assert_eq!(outcome.message_id, "<inv_01J9Z.1@o2c.example>");
    assert!(outcome.reply.starts_with("250"), "{}", outcome.reply);
    let received = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.mail_from, "billing@o2c.example");
    assert_eq!(
        mail.rcpt_to,
        ["ap@customer.example", "controller@customer.example"]
    );
    assert!(!mail.authenticated);
    assert_eq!(mail.subject().as_deref(), Some("Invoice INV-2026-0001"));
    assert_eq!(
        mail.header("message-id").as_deref(),
        Some("<inv_01J9Z.1@o2c.example>")
    );
    assert_eq!(mail.header("From").as_deref(), Some(FROM));
    assert_eq!(mail.header("Reply-To").as_deref(), Some("ar@o2c.example"));
    assert_eq!(
        mail.attachment_names(),
        ["INV-2026-0001.pdf", "INV-2026-0001.xml"]
    );
}

#[test]
fn an_accented_subject_and_lines_starting_with_a_dot_arrive_unchanged() {
    let sink = SmtpSink::start();
    let letter = Message::builder("<dun_1@o2c>")
        .to("ap@customer.example")
        .subject("Zahlungserinnerung für Rechnung INV-1")
        .text("Amount due:\n.\n..\n.5 EUR")
        .build()
        .unwrap();

    o2c_mail::send(&config(&sink.url()), &letter).unwrap();

    let mail = &sink.messages()[0];
    assert_eq!(
        mail.subject().as_deref(),
        Some("Zahlungserinnerung für Rechnung INV-1")
    );
    assert!(
        mail.data.contains("Amount due:\r\n.\r\n..\r\n.5 EUR"),
        "{}",
        mail.data
    );
}

#[test]
fn credentials_in_the_url_make_the_client_authenticate() {
    let sink = SmtpSink::start();
    let url = format!("smtp://billing:p%40ss@127.0.0.1:{}", sink.port());

    o2c_mail::send(&config(&url), &reminder("<rem_1@o2c>")).unwrap();

    assert!(sink.messages()[0].authenticated);
}

#[test]
fn a_451_reply_is_transient_and_a_retry_carries_the_same_message_id() {
    let sink = SmtpSink::start();
    let mailer = Mailer::new(&config(&sink.url())).unwrap();
    let msg = reminder("<rem_2@o2c>");
    sink.fail_next(1, 451);

    let err = mailer.send(&msg).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.reply_code(), Some(451));
    assert!(sink.messages().is_empty());

    mailer.send(&msg).unwrap();
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header("Message-ID").as_deref(),
        Some("<rem_2@o2c>")
    );
}

#[test]
fn a_550_reply_is_permanent() {
    let sink = SmtpSink::start();
    sink.fail_next(1, 550);

    let err = o2c_mail::send(&config(&sink.url()), &reminder("<rem_3@o2c>")).unwrap_err();

    assert!(!err.is_transient(), "{err:?}");
    assert!(
        matches!(err, MailError::Rejected { code: 550, .. }),
        "{err:?}"
    );
}

#[test]
fn a_closed_port_is_transient() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };

    let cfg = config(&format!("smtp://127.0.0.1:{port}"));
    let err = o2c_mail::send(&cfg, &reminder("<rem_4@o2c>")).unwrap_err();

    assert!(err.is_transient(), "{err:?}");
    assert!(matches!(err, MailError::Unreachable(_)), "{err:?}");
}

#[test]
fn a_server_that_never_greets_times_out_as_transient() {
    // The kernel completes the TCP handshake from the backlog; nobody ever answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", silent.local_addr().unwrap());
    let cfg = SmtpConfig::parse(&url, FROM)
        .unwrap()
        .with_timeout(Duration::from_millis(200))
        .unwrap();

    let err = o2c_mail::send(&cfg, &reminder("<rem_5@o2c>")).unwrap_err();

    assert!(err.is_transient(), "{err:?}");
}

#[test]
fn required_starttls_is_never_downgraded_to_plain_text() {
    let sink = SmtpSink::start();
    let cfg = config(&format!(
        "smtp+starttls://user:pass@127.0.0.1:{}",
        sink.port()
    ));

    let err = o2c_mail::send(&cfg, &reminder("<rem_7@o2c>")).unwrap_err();

    assert!(matches!(err, MailError::ClientRefused(_)), "{err:?}");
    assert!(!err.is_transient());
    assert!(sink.messages().is_empty());
}

#[test]
fn implicit_tls_against_a_plain_text_server_is_a_permanent_tls_failure() {
    let sink = SmtpSink::start();
    let cfg = config(&format!("smtps://127.0.0.1:{}", sink.port()));

    let err = o2c_mail::send(&cfg, &reminder("<rem_8@o2c>")).unwrap_err();

    assert!(matches!(err, MailError::Tls(_)), "{err:?}");
    assert!(!err.is_transient());
}

#[test]
fn a_bad_recipient_address_is_refused_when_building_and_is_permanent() {
    let err = Message::builder("<rem_6@o2c>")
        .to("not an address")
        .build()
        .unwrap_err();

    assert!(
        matches!(err, MailError::InvalidAddress { field: "to", .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
}

#[test]
fn a_message_needs_a_recipient_a_message_id_and_valid_content_types() {
    let no_recipient = Message::builder("<a@o2c>").build().unwrap_err();
    assert!(matches!(no_recipient, MailError::NoRecipient));

    let bad_id = Message::builder("no-at-sign").to("a@b.example").build();
    assert!(matches!(bad_id, Err(MailError::InvalidMessageId(_))));

    let bad_type = Message::builder("<a@o2c>")
        .to("a@b.example")
        .attach("x.pdf", "not a mime type", Vec::new())
        .build();
    assert!(matches!(
        bad_type,
        Err(MailError::InvalidContentType { .. })
    ));
}

#[test]
fn each_scheme_has_its_security_and_default_port() {
    let cases = [
        ("smtp://relay.local", Security::Plain, 25),
        ("smtp+starttls://mail.example.com", Security::StartTls, 587),
        ("smtps://mail.example.com/", Security::ImplicitTls, 465),
        ("smtps://mail.example.com:2465", Security::ImplicitTls, 2465),
    ];
    for (url, security, port) in cases {
        let cfg = SmtpConfig::parse(url, FROM).unwrap();
        assert_eq!((cfg.security(), cfg.port()), (security, port), "{url}");
        assert!(cfg.credentials().is_none());
        assert_eq!(cfg.timeout(), None);
    }
}

#[test]
fn credentials_are_percent_decoded_and_the_password_never_shows_in_debug() {
    let cfg =
        SmtpConfig::parse("smtps://billing%40o2c:pa%3As%40word@mail.example.com", FROM).unwrap();

    let credentials = cfg.credentials().unwrap();
    assert_eq!(credentials.user, "billing@o2c");
    assert_eq!(credentials.password.expose(), "pa:s@word");
    let debug = format!("{cfg:?}");
    assert!(
        !debug.contains("pa:s@word") && !debug.contains("pa%3As"),
        "{debug}"
    );
    assert!(debug.contains("redacted"), "{debug}");
}

#[test]
fn url_parsing_errors_say_what_is_wrong() {
    let err = |url: &str| SmtpConfig::parse(url, FROM).unwrap_err();

    assert!(matches!(
        err("mail.example.com"),
        ConfigError::MalformedUrl(_)
    ));
    assert_eq!(
        err("http://mail.example.com"),
        ConfigError::UnsupportedScheme("http".into())
    );
    assert_eq!(err("smtp://"), ConfigError::MissingHost);
    assert!(matches!(err("smtp://host:99999"), ConfigError::MalformedUrl(m) if m.contains("port")));
    assert_eq!(err("smtp://user@host"), ConfigError::MissingPassword);
    assert_eq!(err("smtp://:pass@host"), ConfigError::MissingUser);
    assert_eq!(
        err("smtp://host/path?tls=yes"),
        ConfigError::UnexpectedUrlPart("/path?tls=yes".into())
    );
    assert!(matches!(
        SmtpConfig::parse("smtp://host", "Billing <not-an-address>"),
        Err(ConfigError::InvalidFrom { .. })
    ));
    assert_eq!(
        SmtpConfig::parse("smtp://host", FROM)
            .unwrap()
            .with_timeout(Duration::ZERO)
            .unwrap_err(),
        ConfigError::ZeroTimeout
    );
    let message = err("ftp://host").to_string();
    assert!(
        message.contains("\"ftp\"") && message.contains("smtp+starttls"),
        "{message}"
    );
}
