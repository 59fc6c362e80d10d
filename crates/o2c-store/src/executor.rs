//! Group commit. Writes are jobs sent to writer threads; a writer takes every job waiting, runs
//! each inside its own savepoint, and commits them together. A job's reply is sent only after
//! the commit returns, so a success still means "on disk", while one fsync serves many requests.
//!
//! A job that fails rolls back to its savepoint and leaves the others intact. A job that hits a
//! conflict with a concurrent writer (unique violation, deadlock) is run again from its
//! savepoint, where it sees the other writer's committed row (idempotency keys rely on this).

use crate::sql::{Conn, DbError};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// Errors a job may return must be able to carry a database error.
pub trait FromDbError {
    fn from_db(e: DbError) -> Self;
    /// The database error inside, if that is what this is (to decide whether to retry).
    fn as_db(&self) -> Option<&DbError>;
}

impl FromDbError for DbError {
    fn from_db(e: DbError) -> Self {
        e
    }
    fn as_db(&self) -> Option<&DbError> {
        Some(self)
    }
}

pub(crate) trait Job: Send {
    /// Runs the work; `Err` carries the DB error when the failure came from the database.
    fn run(&mut self, conn: &mut dyn Conn) -> Result<(), Option<DbError>>;
    fn finish(self: Box<Self>, commit: Result<(), DbError>);
}

struct TypedJob<F, T, E> {
    work: F,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for TypedJob<F, T, E>
where
    F: FnMut(&mut dyn Conn) -> Result<T, E> + Send,
    T: Send,
    E: FromDbError + Send,
{
    fn run(&mut self, conn: &mut dyn Conn) -> Result<(), Option<DbError>> {
        let r = (self.work)(conn);
        let outcome = match &r {
            Ok(_) => Ok(()),
            Err(e) => Err(e.as_db().cloned()),
        };
        self.result = Some(r);
        outcome
    }

    fn finish(self: Box<Self>, commit: Result<(), DbError>) {
        let result = match (self.result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(e)) | (None, Err(e)) => Err(E::from_db(e)),
            (None, Ok(())) => Err(E::from_db(DbError::Other("job was not run".into()))),
        };
        let _ = self.reply.send(result);
    }
}

pub(crate) fn job<F, T, E>(work: F) -> (Box<dyn Job>, oneshot::Receiver<Result<T, E>>)
where
    F: FnMut(&mut dyn Conn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: FromDbError + Send + 'static,
{
    let (reply, rx) = oneshot::channel();
    (
        Box::new(TypedJob {
            work,
            result: None,
            reply,
        }),
        rx,
    )
}

const MAX_BATCH: usize = 512;
const CONFLICT_RETRIES: usize = 5;

/// The loop of one writer thread.
pub(crate) fn run_writer(
    mut conn: Box<dyn Conn + Send>,
    jobs: Arc<Mutex<Receiver<Box<dyn Job>>>>,
    committed: Arc<Notify>,
) {
    loop {
        let mut batch: Vec<Box<dyn Job>> = Vec::new();
        {
            // One writer at a time takes what is waiting; the others wait for the lock.
            let rx = jobs.lock().expect("writer queue lock");
            match rx.recv() {
                Ok(j) => batch.push(j),
                Err(_) => return,
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
        }
        let commit = run_batch(conn.as_mut(), &mut batch);
        if commit.is_ok() {
            committed.notify_waiters();
            committed.notify_one();
        }
        for j in batch {
            j.finish(commit.clone());
        }
    }
}

fn run_batch(conn: &mut dyn Conn, batch: &mut [Box<dyn Job>]) -> Result<(), DbError> {
    let begin = match conn.dialect() {
        crate::Dialect::Sqlite => "BEGIN IMMEDIATE",
        crate::Dialect::Postgres => "BEGIN",
    };
    let mut attempt = 0;
    loop {
        conn.batch(begin)?;
        match run_jobs(conn, batch) {
            Ok(()) => match conn.batch("COMMIT") {
                Ok(()) => return Ok(()),
                Err(e) if e.is_conflict() && attempt < CONFLICT_RETRIES => {
                    let _ = conn.batch("ROLLBACK");
                }
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    return Err(e);
                }
            },
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                if !(e.is_conflict() && attempt < CONFLICT_RETRIES) {
                    return Err(e);
                }
            }
        }
        attempt += 1;
        std::thread::sleep(Duration::from_millis(2 << attempt));
    }
}

/// Runs each job in a savepoint. Returns an error only when the whole transaction is lost.
fn run_jobs(conn: &mut dyn Conn, batch: &mut [Box<dyn Job>]) -> Result<(), DbError> {
    for job in batch.iter_mut() {
        let mut attempt = 0;
        loop {
            conn.batch("SAVEPOINT job")?;
            match job.run(conn) {
                Ok(()) => {
                    conn.batch("RELEASE SAVEPOINT job")?;
                    break;
                }
                Err(db) => {
                    conn.batch("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")?;
                    match db {
                        Some(e) if e.is_conflict() && attempt < CONFLICT_RETRIES => attempt += 1,
                        _ => break,
                    }
                }
            }
        }
    }
    Ok(())
}

/// The loop of one reader thread: each read runs in its own snapshot.
pub(crate) fn run_reader(mut conn: Box<dyn Conn + Send>, jobs: Arc<Mutex<Receiver<Box<dyn Job>>>>) {
    loop {
        let job = {
            let rx = jobs.lock().expect("reader queue lock");
            match rx.recv_timeout(Duration::from_secs(3600)) {
                Ok(j) => j,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        let mut job = job;
        let begin = match conn.dialect() {
            crate::Dialect::Sqlite => "BEGIN",
            crate::Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        };
        let outcome = conn.batch(begin).and_then(|()| {
            let _ = job.run(conn.as_mut());
            conn.batch("COMMIT")
        });
        if outcome.is_err() {
            let _ = conn.batch("ROLLBACK");
        }
        job.finish(outcome);
    }
}

pub(crate) type JobSender = SyncSender<Box<dyn Job>>;
