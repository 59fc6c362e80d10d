//! Every real statement file in `../shared/data` through the import path a user runs: stored
//! once, booked to unidentified receipts, matched (nothing of ours is open, so every incoming
//! line waits in the exceptions queue), imported again without any change, and the books agree.
//! Files the parser refuses are refused whole with a specific error and write nothing.

use o2c_app::cash::{import, run};
use o2c_app::testing::{Engine, TestStore};
use o2c_app::{fx, ledger};
use o2c_core::Actor;
use std::path::PathBuf;

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    p.is_dir().then_some(p)
}

#[tokio::test]
async fn every_shared_statement_imports_once_or_is_refused_whole() {
    let Some(data) = shared() else {
        eprintln!("skipped: ../shared/data not found");
        return;
    };
    let store = TestStore::new(Engine::Sqlite).expect("sqlite");
    let app = store.app().unwrap();
    // Statements in currencies other than the functional one need a rate on their dates.
    app.write(Actor::Rule("test"), |c, ctx| {
        let rates: Vec<fx::RateInput> = [
            "CAD", "CHF", "USD", "GBP", "PLN", "SEK", "NOK", "DKK", "CZK", "HUF", "JPY",
        ]
        .iter()
        .map(|cur| fx::RateInput {
            currency: cur.to_string(),
            date: "1990-01-01".into(),
            rate: "1.5".into(),
        })
        .collect();
        fx::set_rates_in_tx(c, ctx, &rates, "test")
    })
    .await
    .unwrap();
    let (mut imported, mut refused) = (Vec::new(), Vec::new());
    for folder in ["camt053", "camt054", "camt052", "mt940", "bai2"] {
        let mut files: Vec<PathBuf> = walk(&data.join(folder))
            .into_iter()
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                // Statements only: not the sources' licences, notes or expected results.
                !name.ends_with(".md")
                    && !name.ends_with(".json")
                    && !name.ends_with(".yml")
                    && !name.starts_with("LICENSE")
            })
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let name = file.strip_prefix(&data).unwrap().display().to_string();
            let lines_before = count_lines(&app).await;
            let b = bytes.clone();
            let n = name.clone();
            match app
                .write(Actor::Rule("test"), move |c, ctx| {
                    import::import_in_tx(c, ctx, &b, &n)
                })
                .await
            {
                Ok(report) => {
                    // The second import of the same file changes nothing.
                    let b = bytes.clone();
                    let again = app
                        .write(Actor::Rule("test"), move |c, ctx| {
                            import::import_in_tx(c, ctx, &b, "again")
                        })
                        .await
                        .unwrap_or_else(|e| panic!("{name} again: {e}"));
                    assert_eq!(again.new_lines, 0, "{name}: a second import stored lines");
                    assert!(
                        again.statements.iter().all(|s| s.duplicate),
                        "{name}: {again:?}"
                    );
                    imported.push((name, report.new_lines));
                }
                Err(e) => {
                    let code = match &e {
                        o2c_app::AppError::Domain(d) => d.code(),
                        other => panic!("{name}: not a domain error: {other}"),
                    };
                    assert!(
                        [
                            "malformed-statement",
                            "unknown-statement-format",
                            "account-currency-mismatch",
                            "missing-fx-rate"
                        ]
                        .contains(&code),
                        "{name}: {code}: {e}"
                    );
                    assert_eq!(
                        count_lines(&app).await,
                        lines_before,
                        "{name}: refused but wrote lines"
                    );
                    refused.push((name, e.to_string()));
                }
            }
        }
    }
    let report = run::run(&app, Actor::Rule("test")).await.unwrap();
    assert_eq!(report.applied, 0, "nothing of ours is open: {report:?}");
    let tb = app.read(ledger::trial_balance).await.unwrap();
    assert!(tb.is_sound(), "{tb:#?}");
    eprintln!(
        "imported {} files, refused {}:",
        imported.len(),
        refused.len()
    );
    for (name, why) in &refused {
        eprintln!("  refused {name}: {why}");
    }
    assert!(imported.len() >= 70, "most real files import: {imported:?}");
    // Every file the parser's own tests call negative is among the refused.
    for negative in refused
        .iter()
        .filter(|(n, _)| n.contains("NEGATIVE") || n.contains("wrong"))
    {
        assert!(!negative.1.is_empty());
    }
    assert!(refused.iter().any(|(n, _)| n.contains("NEGATIVE")));
}

async fn count_lines(app: &o2c_app::App) -> i64 {
    app.read(|c| {
        Ok(c.query_one("SELECT COUNT(*) FROM bank_transactions", &[])?
            .int(0))
    })
    .await
    .unwrap()
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
