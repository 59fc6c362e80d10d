//! Outgoing webhooks to an https:// endpoint: a real TLS server on loopback with a certificate
//! from the test CA in `tests/fixtures/tls`. The worker trusts it only when told to (the
//! `O2C_WEBHOOK_CA_FILE` setting's job); with the public roots alone the delivery fails and is
//! retried, never sent in the clear.

use crate::both_stores;
use crate::helpers::TestApp;
use o2c_app::webhooks;
use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_stores!(an_https_endpoint_gets_the_event_over_tls_from_a_trusted_ca);

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// An HTTPS server on 127.0.0.1:0 that records each request's head and body and answers 200.
struct TlsReceiver {
    url: String,
    got: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsReceiver {
    async fn start() -> TlsReceiver {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(fixture("server.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let seen = got.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                tokio::spawn(async move {
                    // A client that does not trust the certificate ends the handshake here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Some(request) = read_request(&mut tls).await else {
                        return;
                    };
                    seen.lock().unwrap().push(request);
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        TlsReceiver { url, got, task }
    }

    fn received(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }
}

/// Head and body of one HTTP/1.1 request with a content length.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Some(text);
            }
        }
    }
}

async fn an_https_endpoint_gets_the_event_over_tls_from_a_trusted_ca(t: &TestApp) {
    let receiver = TlsReceiver::start().await;
    let (s, b) = t
        .post(
            "admin",
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["customer.created"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    t.customer("Hafen Logistik GmbH", "10000.00").await;

    // With the public roots only, the test CA is not trusted: the delivery fails and waits for
    // a retry; nothing reached the receiver.
    let pass = webhooks::deliver_due(&t.app, &webhooks::client(), 50)
        .await
        .unwrap();
    assert_eq!((pass.delivered, pass.retrying), (0, 1), "{pass:?}");
    assert!(receiver.received().is_empty());
    let (_, pending) = t
        .get("admin", "/api/v1/webhooks/deliveries?status=pending")
        .await;
    let error = pending[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("tls") || error.contains("connect"),
        "{pending:#}"
    );

    // Trusting the company's CA (what O2C_WEBHOOK_CA_FILE does), the retry is delivered.
    let ca =
        reqwest::Certificate::from_pem_bundle(&std::fs::read(fixture("ca.pem")).unwrap()).unwrap();
    t.clock.advance_days(1);
    let pass = webhooks::deliver_due(&t.app, &webhooks::client_with(&ca), 50)
        .await
        .unwrap();
    assert_eq!(pass.delivered, 1, "{pass:?}");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("POST /hook HTTP/1.1"), "{}", got[0]);
    assert!(
        got[0].to_lowercase().contains("o2c-signature: t="),
        "{}",
        got[0]
    );
    assert!(got[0].contains("customer.created"), "{}", got[0]);
}
