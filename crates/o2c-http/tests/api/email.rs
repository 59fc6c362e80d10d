//! Orders by e-mail: a message with CSV lines in its body or an order file attached, its sender
//! mapped to the customer, recognised by Message-ID when sent again; from a folder of `.eml`
//! files and from an IMAP mailbox (a small IMAP server on loopback, below).

use crate::both_stores;
use crate::helpers::TestApp;
use crate::intake::{acme, fixture, partners};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

both_stores!(
    an_order_email_is_ordered_once_and_its_sender_names_the_customer,
    order_emails_arrive_from_a_folder_and_from_an_imap_mailbox,
);

fn body_csv(message_id: &str, from: &str, csv: &str) -> Vec<u8> {
    format!(
        "Message-ID: <{message_id}>\r\nFrom: Einkauf <{from}>\r\nTo: orders@o2c.example\r\nSubject: Bestellung\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{csv}"
    )
    .into_bytes()
}

fn with_attachment(message_id: &str, from: &str, name: &str, file: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(file);
    let wrapped: Vec<String> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "Message-ID: <{message_id}>\r\nFrom: {from}\r\nSubject: PO\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nPlease see the attached order.\r\n--b1\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        wrapped.join("\r\n")
    )
    .into_bytes()
}

async fn post_eml(t: &TestApp, eml: Vec<u8>) -> (StatusCode, Value) {
    t.send(
        Some("sales"),
        Method::POST,
        "/api/v1/intake/email",
        Some(eml),
        None,
    )
    .await
}

async fn order_lines(t: &TestApp, order_id: &str) -> (String, Vec<(String, i64)>) {
    let (_, o) = t.get("admin", &format!("/api/v1/orders/{order_id}")).await;
    let lines = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    (
        o["customer_reference"].as_str().unwrap_or("").to_string(),
        lines,
    )
}

async fn an_order_email_is_ordered_once_and_its_sender_names_the_customer(t: &TestApp) {
    let customer = acme(t).await; // e-mail orders@customer.example
    let csv = "po_number,sku,quantity\r\nPO-M1,CHAIR-1,2\r\nPO-M1,DESK-1,1\r\n";
    let (s, doc) = post_eml(
        t,
        body_csv("m1@acme.example", "Orders@Customer.example", csv),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{doc:#}");
    assert_eq!(
        (doc["channel"].as_str(), doc["sender"].as_str()),
        (Some("email"), Some("email:orders@customer.example"))
    );
    let order = doc["orders"][0]["order_id"].as_str().unwrap().to_string();
    assert_eq!(
        order_lines(t, &order).await,
        (
            "PO-M1".into(),
            vec![("CHAIR-1".into(), 2), ("DESK-1".into(), 1)]
        )
    );
    let (_, o) = t.get("admin", &format!("/api/v1/orders/{order}")).await;
    assert_eq!(o["customer_id"], json!(customer));

    // The same message again (a mail server re-delivering it): nothing new.
    let before = t.count_orders().await;
    let (s, again) = post_eml(
        t,
        body_csv("m1@acme.example", "orders@customer.example", csv),
    )
    .await;
    assert_eq!(
        (s, again["status"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "{again}"
    );
    assert_eq!(t.count_orders().await, before);

    // An X12 850 attached: both its orders.
    let (s, doc) = post_eml(
        t,
        with_attachment(
            "m2@acme.example",
            "edi@acme.example",
            "po.x12",
            &fixture("850-acme-two-orders.x12"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{doc:#}");
    assert_eq!(doc["orders"].as_array().unwrap().len(), 2);

    // A stranger's CSV names no customer: it waits, and is ordered once the address is known.
    let (s, waiting) = post_eml(
        t,
        body_csv(
            "m3@acme.example",
            "new.buyer@acme.example",
            "po_number,sku,quantity\nPO-M3,CHAIR-1,1\n",
        ),
    )
    .await;
    assert_eq!(
        (s, waiting["status"].as_str()),
        (StatusCode::ACCEPTED, Some("exception")),
        "{waiting}"
    );
    assert_eq!(waiting["errors"][0]["code"], "unknown-sender");
    assert_eq!(waiting["errors"][0]["at"], "From");
    partners(
        t,
        &customer,
        &[("92", "ACME-HQ"), ("EMAIL", "new.buyer@acme.example")],
    )
    .await;
    let (s, replayed) = t
        .post(
            "sales",
            &format!(
                "/api/v1/intake/documents/{}/replay",
                waiting["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, replayed["status"].as_str()),
        (StatusCode::CREATED, Some("ordered")),
        "{replayed}"
    );

    // No order in it, or no message at all: refused, naming why.
    let (s, b) = post_eml(
        t,
        with_attachment(
            "m4@acme.example",
            "orders@customer.example",
            "logo.png",
            b"\x89PNG\r\n",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("no order in the message"),
        "{b}"
    );
    let (s, b) = post_eml(
        t,
        body_csv(
            "m5@acme.example",
            "orders@customer.example",
            "po_number,sku,quantity\nPO-M5,NOPE,x\n",
        ),
    )
    .await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::ACCEPTED,
        "{s} {b}"
    );
    assert!(
        b.to_string().contains("body"),
        "the reason names the body: {b}"
    );
    t.settle().await;
    t.assert_books_balance().await;
}

/// A loopback IMAP server holding `messages` (uid → raw, seen); answers what the poller asks.
fn imap_server(messages: Arc<Mutex<BTreeMap<u32, (Vec<u8>, bool)>>>, connections: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let mut w = stream.unwrap();
            let mut r = BufReader::new(w.try_clone().unwrap());
            w.write_all(b"* OK test IMAP ready\r\n").unwrap();
            let mut line = String::new();
            while {
                line.clear();
                r.read_line(&mut line).unwrap_or(0) > 0
            } {
                let (tag, cmd) = line.trim_end().split_once(' ').unwrap();
                let upper = cmd.to_ascii_uppercase();
                let mut out = String::new();
                let mut body: Option<Vec<u8>> = None;
                if upper.starts_with("LOGIN") {
                    if cmd != "LOGIN \"orders\" \"pw\"" {
                        w.write_all(format!("{tag} NO bad login\r\n").as_bytes())
                            .unwrap();
                        continue;
                    }
                } else if upper.starts_with("UID SEARCH UNSEEN") {
                    let m = messages.lock().unwrap();
                    let uids: Vec<String> = m
                        .iter()
                        .filter(|(_, v)| !v.1)
                        .map(|(k, _)| k.to_string())
                        .collect();
                    out =
                        format!("* SEARCH {}\r\n", uids.join(" ")).replace("SEARCH \r", "SEARCH\r");
                } else if let Some(rest) = upper.strip_prefix("UID FETCH ") {
                    let uid: u32 = rest.split_whitespace().next().unwrap().parse().unwrap();
                    body = messages.lock().unwrap().get(&uid).map(|v| v.0.clone());
                    if let Some(b) = &body {
                        out = format!("* 1 FETCH (UID {uid} BODY[] {{{}}}\r\n", b.len());
                    }
                } else if let Some(rest) = upper.strip_prefix("UID STORE ") {
                    let uid: u32 = rest.split_whitespace().next().unwrap().parse().unwrap();
                    messages.lock().unwrap().get_mut(&uid).unwrap().1 = true;
                }
                w.write_all(out.as_bytes()).unwrap();
                if let Some(b) = body {
                    w.write_all(&b).unwrap();
                    w.write_all(b")\r\n").unwrap();
                }
                if upper.starts_with("LOGOUT") {
                    w.write_all(b"* BYE\r\n").unwrap();
                }
                w.write_all(format!("{tag} OK done\r\n").as_bytes())
                    .unwrap();
                if upper.starts_with("LOGOUT") {
                    break;
                }
            }
        }
    });
    port
}

async fn order_emails_arrive_from_a_folder_and_from_an_imap_mailbox(t: &TestApp) {
    acme(t).await;
    let dir = std::env::temp_dir().join(format!(
        "o2c-maildir-{}-{}",
        std::process::id(),
        crate::helpers::uuid_like()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.eml"),
        body_csv(
            "f1@acme.example",
            "orders@customer.example",
            "po_number,sku,quantity\nPO-F1,CHAIR-1,1\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.eml"),
        body_csv(
            "f1@acme.example",
            "orders@customer.example",
            "po_number,sku,quantity\nPO-F1,CHAIR-1,1\n",
        ),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a message").unwrap();
    let docs = o2c_app::intake::mailbox::import_folder(&t.app, &dir)
        .await
        .unwrap();
    let statuses: Vec<&str> = docs.iter().map(|d| d.status.as_str()).collect();
    assert_eq!(statuses, vec!["ordered", "duplicate"]);
    assert!(dir.join("processed/a.eml").exists() && !dir.join("a.eml").exists());
    assert!(dir.join("notes.txt").exists(), "only .eml files are taken");
    std::fs::remove_dir_all(&dir).unwrap();

    let messages = Arc::new(Mutex::new(BTreeMap::from([
        (
            7,
            (
                body_csv(
                    "i1@acme.example",
                    "orders@customer.example",
                    "po_number,sku,quantity\nPO-I1,DESK-1,2\n",
                ),
                false,
            ),
        ),
        (
            8,
            (
                with_attachment(
                    "i2@acme.example",
                    "orders@customer.example",
                    "po.csv",
                    b"po_number,sku,quantity\nPO-I2,CHAIR-1,4\n",
                ),
                false,
            ),
        ),
        (
            9,
            (
                b"Message-ID: <old@acme.example>\r\n\r\nseen long ago".to_vec(),
                true,
            ),
        ),
    ])));
    let port = imap_server(messages.clone(), 4);
    let cfg =
        o2c_mail::imap::ImapConfig::parse(&format!("imap://orders:pw@127.0.0.1:{port}/INBOX"))
            .unwrap();
    let docs = o2c_app::intake::mailbox::poll_imap(&t.app, &cfg, 10)
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| (d.status.as_str(), d.source.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ordered", &*format!("imap:127.0.0.1/INBOX#7")),
            ("ordered", &*format!("imap:127.0.0.1/INBOX#8"))
        ]
    );
    assert!(
        messages.lock().unwrap().values().all(|m| m.1),
        "every message marked seen"
    );
    // Nothing unseen: the next pass fetches nothing.
    assert!(
        o2c_app::intake::mailbox::poll_imap(&t.app, &cfg, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let bad =
        o2c_mail::imap::ImapConfig::parse(&format!("imap://orders:wrong@127.0.0.1:{port}/INBOX"))
            .unwrap();
    let err = o2c_app::intake::mailbox::poll_imap(&t.app, &bad, 10)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused `LOGIN`"), "{err}");
    let (_, list) = t.get("admin", "/api/v1/orders?limit=1000").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
}
