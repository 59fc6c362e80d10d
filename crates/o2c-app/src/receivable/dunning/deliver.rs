//! Sending dunning notices: e-mail through `o2c-mail` (the letter attached as PDF), SMS through
//! an HTTP gateway, letters as PDF files for the print room. The same queue pattern as invoice
//! deliveries: claim (`pending` → `sending`, one attempt counted), send outside the write
//! transaction, record the outcome; transient failures wait 1, 2, 4 … minutes, up to 10 attempts.

use crate::App;
use crate::billing::delivery::{DeliveryPass, MAX_ATTEMPTS, backoff};
use crate::error::Result;
use crate::event::EventType;
use crate::receivable::emit;
use o2c_store::params;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// An SMS gateway reached over HTTP: `POST url` with `{"to", "from", "text"}` as JSON, HTTP
/// basic authentication when a user is given. 2xx = accepted; 5xx, 429 and network errors are
/// retried; any other answer is a permanent failure.
#[derive(Clone)]
pub struct SmsGateway {
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("SmsGateway")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("from", &self.from)
            .finish()
    }
}

impl SmsGateway {
    /// From `O2C_SMS_URL`, `O2C_SMS_USER`, `O2C_SMS_PASSWORD`, `O2C_SMS_FROM`; None when no URL.
    pub fn from_env() -> Option<SmsGateway> {
        let url = std::env::var("O2C_SMS_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        Some(SmsGateway {
            url,
            user: std::env::var("O2C_SMS_USER").ok(),
            password: std::env::var("O2C_SMS_PASSWORD").ok(),
            from: std::env::var("O2C_SMS_FROM").unwrap_or_else(|_| "o2c".into()),
        })
    }

    async fn send(&self, to: &str, text: &str) -> std::result::Result<(), (bool, String)> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| (true, e.to_string()))?;
        let mut req = client
            .post(&self.url)
            .json(&json!({"to": to, "from": self.from, "text": text}));
        if let Some(u) = &self.user {
            req = req.basic_auth(u, self.password.as_deref());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let s = r.status();
                let body = r.text().await.unwrap_or_default();
                Err((
                    s.is_server_error() || s.as_u16() == 429,
                    format!(
                        "gateway answered {s}: {}",
                        body.chars().take(200).collect::<String>()
                    ),
                ))
            }
            Err(e) => Err((true, format!("gateway unreachable: {e}"))),
        }
    }
}

/// Where notices go out.
#[derive(Clone, Debug, Default)]
pub struct Channels {
    pub mailer: Option<o2c_mail::Mailer>,
    pub sms: Option<SmsGateway>,
    /// Letters are written here as `<notice id>.pdf`.
    pub letters_dir: Option<PathBuf>,
}

struct Claimed {
    id: String,
    notice_id: String,
    customer_id: String,
    channel: String,
    recipient: String,
    message_id: String,
    attempts: i64,
}

/// Sends every due notice delivery whose channel is configured.
pub async fn deliver_due(app: &App, channels: &Channels, limit: i64) -> Result<DeliveryPass> {
    let actor = o2c_core::Actor::Rule("dunning.deliver");
    let now = app.ctx(actor.clone()).timestamp();
    let mut ready = vec![];
    if channels.mailer.is_some() {
        ready.push("email");
    }
    if channels.sms.is_some() {
        ready.push("sms");
    }
    if channels.letters_dir.is_some() {
        ready.push("letter");
    }
    let due: Vec<(String, String)> = app
        .read(move |c| {
            Ok(c.query(
                "SELECT id, channel FROM dunning_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
                params![now.as_str(), limit],
            )?
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect())
        })
        .await?;
    let mut pass = DeliveryPass::default();
    for (id, channel) in due {
        if !ready.contains(&channel.as_str()) {
            continue;
        }
        let Some(d) = claim(app, &id).await? else {
            continue;
        };
        let outcome = send(app, channels, &d).await;
        record(app, &d, outcome, &mut pass).await?;
    }
    Ok(pass)
}

async fn claim(app: &App, id: &str) -> Result<Option<Claimed>> {
    let id = id.to_string();
    app.write(o2c_core::Actor::Rule("dunning.deliver"), move |c, _| {
        if c.execute("UPDATE dunning_deliveries SET status = 'sending', attempts = attempts + 1 WHERE id = $1 AND status = 'pending'", params![id.as_str()])? != 1 {
            return Ok(None);
        }
        let r = c.query_one("SELECT id, notice_id, customer_id, channel, recipient, message_id, attempts FROM dunning_deliveries WHERE id = $1", params![id.as_str()])?;
        Ok(Some(Claimed { id: r.text(0), notice_id: r.text(1), customer_id: r.text(2), channel: r.text(3), recipient: r.text(4), message_id: r.text(5), attempts: r.int(6) }))
    })
    .await
}

/// The notice as a letter (PDF): company letterhead, the customer's billing address, the text.
pub fn letter_pdf(
    conn: &mut dyn o2c_store::Conn,
    notice_id: &str,
) -> Result<(String, String, Vec<u8>)> {
    let n = super::run::get(conn, notice_id)?;
    let company = crate::billing::company(conn)?;
    let customer = crate::customer::get(conn, &n.customer_id)?;
    let mut recipient = vec![customer.name.clone()];
    if let Some(a) = &customer.billing_address {
        recipient.push(a.line1.clone());
        recipient.push(format!("{} {}", a.postal_code, a.city));
        recipient.push(a.country.clone());
    }
    let sender = vec![
        company.name.clone(),
        format!(
            "{}, {} {}",
            company.address.line1, company.address.postal_code, company.address.city
        ),
    ];
    let date = n.created_at.get(..10).unwrap_or_default().to_string();
    let pdf = o2c_docs::letter::render(&o2c_docs::letter::Letter {
        sender: &sender,
        recipient: &recipient,
        date: &date,
        subject: &n.subject,
        body: &n.body,
        table: None,
    });
    Ok((n.subject, n.body, pdf))
}

async fn send(
    app: &App,
    channels: &Channels,
    d: &Claimed,
) -> std::result::Result<Option<String>, (bool, String)> {
    let notice = d.notice_id.clone();
    let (subject, body, pdf) = app
        .read(move |c| letter_pdf(c, &notice))
        .await
        .map_err(|e| (false, e.to_string()))?;
    match d.channel.as_str() {
        "email" => {
            let mailer = channels
                .mailer
                .clone()
                .ok_or((true, "no SMTP configured".to_string()))?;
            let (to, id, file) = (
                d.recipient.clone(),
                d.message_id.clone(),
                format!("{}.pdf", d.notice_id),
            );
            tokio::task::spawn_blocking(move || {
                let msg = o2c_mail::Message::builder(id)
                    .to(to)
                    .subject(subject)
                    .text(body)
                    .attach(file, "application/pdf", pdf)
                    .build()
                    .map_err(|e| (e.is_transient(), e.to_string()))?;
                mailer
                    .send(&msg)
                    .map(|_| None)
                    .map_err(|e| (e.is_transient(), e.to_string()))
            })
            .await
            .map_err(|e| (true, e.to_string()))?
        }
        "sms" => {
            let gw = channels
                .sms
                .as_ref()
                .ok_or((true, "no SMS gateway configured".to_string()))?;
            // An SMS carries the subject and the amount line, not the whole letter.
            let total = body
                .lines()
                .find(|l| l.contains("pay") || l.contains("überweisen"))
                .unwrap_or("")
                .trim()
                .to_string();
            gw.send(
                &d.recipient,
                &format!("{subject}: {total}")
                    .chars()
                    .take(480)
                    .collect::<String>(),
            )
            .await
            .map(|_| None)
        }
        _ => {
            let dir = channels
                .letters_dir
                .clone()
                .ok_or((true, "no letters directory".to_string()))?;
            let path = dir.join(format!("{}.pdf", d.notice_id));
            std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(&path, &pdf))
                .map_err(|e| (true, format!("{}: {e}", path.display())))?;
            Ok(Some(path.display().to_string()))
        }
    }
}

async fn record(
    app: &App,
    d: &Claimed,
    outcome: std::result::Result<Option<String>, (bool, String)>,
    pass: &mut DeliveryPass,
) -> Result<()> {
    let status = match &outcome {
        Ok(_) => "sent",
        Err((true, _)) if d.attempts < MAX_ATTEMPTS => "pending",
        Err(_) => "failed",
    };
    match status {
        "sent" => pass.sent += 1,
        "pending" => pass.retrying += 1,
        _ => pass.failed += 1,
    }
    let (id, notice, customer, channel, attempts) = (
        d.id.clone(),
        d.notice_id.clone(),
        d.customer_id.clone(),
        d.channel.clone(),
        d.attempts,
    );
    app.write(o2c_core::Actor::Rule("dunning.deliver"), move |c, ctx| {
        let next = (ctx.now + backoff(attempts)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let error = outcome.as_ref().err().map(|(_, e)| e.clone());
        let path = outcome.as_ref().ok().cloned().flatten();
        c.execute(
            "UPDATE dunning_deliveries SET status = $2, last_error = $3, next_attempt_at = $4, sent_at = $5, output_path = $6 WHERE id = $1",
            params![id.as_str(), status, error.as_deref(), next.as_str(), (status == "sent").then(|| ctx.timestamp()), path.as_deref()],
        )?;
        let kind = if status == "sent" { EventType::DunningDelivered } else { EventType::DunningDeliveryFailed };
        emit(c, ctx, kind, ("dunning_notice", &notice), &customer, json!({"delivery_id": id, "channel": channel, "status": status, "attempts": attempts, "error": error, "file": path}))
    })
    .await
}

/// `o2c serve`: the daily run when `daily` (once per day, whichever process gets there first),
/// scheduled statements, and the delivery queue, every `every`.
pub async fn run_worker(app: App, channels: Channels, daily: bool, every: Duration) {
    loop {
        let today = app.today();
        let ran = if daily {
            app.write(o2c_core::Actor::Rule("dunning.daily"), move |c, ctx| {
                super::run::run_in_tx(c, ctx, today, false)
            })
            .await
            .map(drop)
        } else {
            Ok(())
        };
        if let Err(e) = ran {
            tracing::error!(error = %e, "daily dunning run failed");
        }
        if let Err(e) = crate::receivable::statement::send_scheduled(&app).await {
            tracing::error!(error = %e, "scheduled statements failed");
        }
        match deliver_due(&app, &channels, 100).await {
            Ok(p) if p.sent + p.failed + p.retrying > 0 => tracing::info!(
                sent = p.sent,
                retrying = p.retrying,
                failed = p.failed,
                "dunning notices delivered"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "dunning delivery failed"),
        }
        tokio::time::sleep(every).await;
    }
}
