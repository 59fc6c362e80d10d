//! Where order e-mails come from: `.eml` files dropped in a folder, and an IMAP mailbox. Each
//! message is stored (its own commit) before it is read, and only then moved to `processed/` or
//! marked `\Seen`: a stop in between fetches it again, and its Message-ID makes it a duplicate.

use super::{Channel, Document, receive};
use crate::App;
use crate::error::{AppError, Result};
use o2c_core::Actor;
use o2c_mail::imap::{ImapConfig, ImapSession};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every `*.eml` in `dir`, oldest name first: received, then moved to `dir/processed/`.
pub async fn import_folder(app: &App, dir: &Path) -> Result<Vec<Document>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| AppError::Internal(format!("reading {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("eml")))
        .collect();
    files.sort();
    let done = dir.join("processed");
    let mut docs = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file)
            .map_err(|e| AppError::Internal(format!("reading {}: {e}", file.display())))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let doc = receive(
            app,
            Actor::Rule("intake.maildir"),
            Channel::Email,
            bytes,
            format!("maildir:{name}"),
        )
        .await?;
        std::fs::create_dir_all(&done)
            .and_then(|()| std::fs::rename(&file, done.join(&name)))
            .map_err(|e| {
                AppError::Internal(format!("moving {} to processed/: {e}", file.display()))
            })?;
        docs.push(doc);
    }
    Ok(docs)
}

/// One pass over the mailbox: every unseen message (at most `limit`) received, then marked seen.
pub async fn poll_imap(app: &App, cfg: &ImapConfig, limit: usize) -> Result<Vec<Document>> {
    let c = cfg.clone();
    let fetched: Vec<(u32, Vec<u8>)> = tokio::task::spawn_blocking(
        move || -> std::result::Result<_, o2c_mail::imap::ImapError> {
            let mut s = ImapSession::connect(&c)?;
            let mut out = Vec::new();
            for uid in s.unseen()?.into_iter().take(limit) {
                out.push((uid, s.fetch(uid)?));
            }
            s.logout()?;
            Ok(out)
        },
    )
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    if fetched.is_empty() {
        return Ok(Vec::new());
    }
    let mut docs = Vec::new();
    let mut stored = Vec::new();
    for (uid, bytes) in fetched {
        let source = format!("imap:{}/{}#{uid}", cfg.host, cfg.mailbox);
        docs.push(
            receive(
                app,
                Actor::Rule("intake.imap"),
                Channel::Email,
                bytes,
                source,
            )
            .await?,
        );
        stored.push(uid);
    }
    let c = cfg.clone();
    tokio::task::spawn_blocking(
        move || -> std::result::Result<(), o2c_mail::imap::ImapError> {
            let mut s = ImapSession::connect(&c)?;
            for uid in stored {
                s.mark_seen(uid)?;
            }
            s.logout()
        },
    )
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(docs)
}

/// `o2c serve`: the folder every 5 seconds and the mailbox every `imap_every`; errors are
/// logged and the next pass tries again.
pub async fn run_watchers(
    app: App,
    folder: Option<PathBuf>,
    imap: Option<ImapConfig>,
    imap_every: Duration,
) {
    let mut last_imap: Option<std::time::Instant> = None;
    loop {
        if let Some(dir) = &folder {
            if let Err(e) = import_folder(&app, dir).await {
                tracing::warn!(folder = %dir.display(), error = %e, "order e-mail folder");
            }
        }
        if let Some(cfg) = &imap {
            if last_imap.is_none_or(|t| t.elapsed() >= imap_every) {
                last_imap = Some(std::time::Instant::now());
                if let Err(e) = poll_imap(&app, cfg, 100).await {
                    tracing::warn!(host = %cfg.host, error = %e, "order mailbox");
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
