//! Fresh stores for tests, the simulator and benchmarks: a throw-away SQLite file, or a
//! throw-away schema in the PostgreSQL database named by `O2C_TEST_DATABASE_URL`.

use crate::{App, Clock, Result, StoreConfig, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which engine a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A store that cleans up after itself (the SQLite file; PostgreSQL schemas are dropped).
pub struct TestStore {
    pub config: StoreConfig,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { url: String, schema: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{t}_{n}", std::process::id())
}

/// The PostgreSQL URL for tests, when the environment provides one.
pub fn postgres_url() -> Option<String> {
    std::env::var("O2C_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

impl TestStore {
    /// `None` for PostgreSQL when `O2C_TEST_DATABASE_URL` is not set.
    pub fn new(engine: Engine) -> Option<TestStore> {
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(unique("o2c_test"));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                Some(TestStore {
                    config: StoreConfig::Sqlite {
                        path: dir.join("o2c.db"),
                    },
                    cleanup: Some(Cleanup::Dir(dir)),
                })
            }
            Engine::Postgres => {
                let url = postgres_url()?;
                let schema = unique("t").to_lowercase();
                Some(TestStore {
                    config: StoreConfig::Postgres {
                        url: url.clone(),
                        schema: Some(schema.clone()),
                        writers: 1,
                    },
                    cleanup: Some(Cleanup::Schema { url, schema }),
                })
            }
        }
    }

    pub fn app(&self) -> Result<App> {
        self.app_with(Arc::new(SystemClock))
    }

    pub fn app_with(&self, clock: Arc<dyn Clock>) -> Result<App> {
        App::open_with(&self.config, clock)
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        match self.cleanup.take() {
            Some(Cleanup::Dir(d)) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Some(Cleanup::Schema { url, schema }) => {
                // Best effort: a schema left behind by a crashed test is harmless. A plain thread,
                // because the client must not block a thread that drives async tasks.
                let _ = std::thread::spawn(move || {
                    if let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls) {
                        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                    }
                })
                .join();
            }
            None => {}
        }
    }
}
