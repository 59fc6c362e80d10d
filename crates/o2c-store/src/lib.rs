//! Persistence for o2c: one schema, two engines (SQLite embedded, PostgreSQL for scale-out),
//! written against the small [`Conn`] port. [`Store`] owns the connections: writes go through
//! group-committing writer threads, reads through a pool of reader threads.

mod executor;
mod migrations;
mod postgres;
mod sql;
mod sqlite;

pub use executor::FromDbError;
pub use sql::{Conn, DbError, Dialect, Row, Value};

use executor::{JobSender, job, run_reader, run_writer};
use std::path::PathBuf;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        url: String,
        schema: Option<String>,
        /// Writer connections of this process. Keep 1: with several, batches that touch many
        /// customers' and products' rows deadlock on them again and again and can stall
        /// (docs/decisions/0003); scaling out is several processes, or partitioned writers later.
        writers: usize,
    },
}

impl StoreConfig {
    /// `sqlite://path/to/file.db`, a plain path, or `postgres://…` / `postgresql://…`.
    pub fn from_url(url: &str) -> StoreConfig {
        if url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.contains("host=")
        {
            // One group-committing writer per process: several writers whose batches each touch
            // many customers' and products' rows deadlock on those rows again and again (see
            // docs/decisions/0003). Row locks still protect what several processes share.
            StoreConfig::Postgres {
                url: url.to_string(),
                schema: None,
                writers: 1,
            }
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            StoreConfig::Sqlite {
                path: PathBuf::from(path),
            }
        }
    }

    /// A description without secrets, for logs and the CLI.
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite { path } => format!("SQLite file {}", path.display()),
            StoreConfig::Postgres { url, schema, .. } => {
                let shown = match url.split_once('@') {
                    Some((_, host)) => format!("postgres://…@{host}"),
                    None => url.clone(),
                };
                match schema {
                    Some(s) => format!("PostgreSQL {shown} (schema {s})"),
                    None => format!("PostgreSQL {shown}"),
                }
            }
        }
    }
}

#[derive(Clone)]
pub struct Store {
    writer: JobSender,
    reader: JobSender,
    dialect: Dialect,
    committed: Arc<Notify>,
}

const READERS: usize = 4;

impl Store {
    /// Opens the store, applies pending migrations and starts the writer and reader threads.
    pub fn open(config: &StoreConfig) -> Result<Store, DbError> {
        // The PostgreSQL client drives its own small runtime and must not be created on a thread
        // that runs async tasks: connect from a plain thread.
        let cfg = config.clone();
        let (dialect, writers, readers, analyze) = std::thread::spawn(move || connect_all(&cfg))
            .join()
            .map_err(|_| DbError::Other("connecting to the store panicked".into()))??;
        let (writer, wrx) = channel();
        let (reader, rrx) = channel();
        let wrx = Arc::new(Mutex::new(wrx));
        let rrx = Arc::new(Mutex::new(rrx));
        let committed = Arc::new(Notify::new());
        for (i, conn) in writers.into_iter().enumerate() {
            let (q, n) = (wrx.clone(), committed.clone());
            std::thread::Builder::new()
                .name(format!("o2c-writer-{i}"))
                .spawn(move || run_writer(conn, q, n, analyze))
                .map_err(|e| DbError::Other(e.to_string()))?;
        }
        for (i, conn) in readers.into_iter().enumerate() {
            let q = rrx.clone();
            std::thread::Builder::new()
                .name(format!("o2c-reader-{i}"))
                .spawn(move || run_reader(conn, q))
                .map_err(|e| DbError::Other(e.to_string()))?;
        }
        Ok(Store {
            writer,
            reader,
            dialect,
            committed,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs `work` in a write transaction shared with other concurrent writes (group commit).
    /// It may run more than once if a concurrent writer conflicts, so it must not have side
    /// effects outside the connection. Resolves after the commit is durable.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: FromDbError + Send + 'static,
    {
        let (j, rx) = job(work);
        if self.writer.send(j).is_err() {
            return Err(E::from_db(DbError::Other("store is shut down".into())));
        }
        rx.await
            .unwrap_or_else(|_| Err(E::from_db(DbError::Other("writer stopped".into()))))
    }

    /// Runs `work` on a reader connection in one consistent snapshot.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: FromDbError + Send + 'static,
    {
        let (j, rx) = job(work);
        if self.reader.send(j).is_err() {
            return Err(E::from_db(DbError::Other("store is shut down".into())));
        }
        rx.await
            .unwrap_or_else(|_| Err(E::from_db(DbError::Other("reader stopped".into()))))
    }

    /// Blocking variants for the command line and benchmarks outside an async context.
    pub fn write_blocking<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: FromDbError + Send + 'static,
    {
        let (j, rx) = job(work);
        if self.writer.send(j).is_err() {
            return Err(E::from_db(DbError::Other("store is shut down".into())));
        }
        rx.blocking_recv()
            .unwrap_or_else(|_| Err(E::from_db(DbError::Other("writer stopped".into()))))
    }

    /// Wakes when any write transaction commits (the engine waits on it for new events).
    pub fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }
}

/// The engine, the writer and reader connections, and whether the store must refresh the
/// planner's statistics itself (PostgreSQL with autovacuum off).
type Connections = (
    Dialect,
    Vec<Box<dyn Conn + Send>>,
    Vec<Box<dyn Conn + Send>>,
    bool,
);

/// Opens every connection and applies pending migrations through the first writer.
fn connect_all(config: &StoreConfig) -> Result<Connections, DbError> {
    Ok(match config {
        StoreConfig::Sqlite { path } => {
            let mut w = sqlite::SqliteConn::open(path, false)?;
            migrations::apply(&mut w)?;
            let readers = (0..READERS)
                .map(|_| {
                    sqlite::SqliteConn::open(path, true)
                        .map(|c| Box::new(c) as Box<dyn Conn + Send>)
                })
                .collect::<Result<_, _>>()?;
            (Dialect::Sqlite, vec![Box::new(w)], readers, false)
        }
        StoreConfig::Postgres {
            url,
            schema,
            writers,
        } => {
            let mut first = postgres::PgConn::connect(url, schema.as_deref())?;
            migrations::apply(&mut first)?;
            let autovacuum = first.query_one("SHOW autovacuum", &[])?.text(0);
            let mut ws: Vec<Box<dyn Conn + Send>> = vec![Box::new(first)];
            for _ in 1..(*writers).max(1) {
                ws.push(Box::new(postgres::PgConn::connect(url, schema.as_deref())?));
            }
            let readers = (0..READERS)
                .map(|_| {
                    postgres::PgConn::connect(url, schema.as_deref())
                        .map(|c| Box::new(c) as Box<dyn Conn + Send>)
                })
                .collect::<Result<_, _>>()?;
            (Dialect::Postgres, ws, readers, autovacuum != "on")
        }
    })
}
