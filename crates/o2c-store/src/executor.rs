//! Group commit. Writes are jobs sent to writer threads; a writer takes every job waiting, runs
//! each inside its own savepoint, and commits them together. A job's reply is sent only after
//! the commit returns, so a success still means "on disk", while one fsync serves many requests.
//!
//! A job that fails rolls back to its savepoint and leaves the others intact. A job that hits a
//! conflict with a concurrent writer (unique violation, deadlock) is rolled back to its savepoint
//! and run again after its batch commits: by then the other writer has committed too, so the job
//! sees its row (idempotency keys rely on this) and no longer waits for its locks.

use crate::sql::{Conn, DbError};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
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
const CONFLICT_RETRIES: usize = 8;

/// A job waiting to run, with the number of times a concurrent writer got in its way.
struct Queued {
    job: Box<dyn Job>,
    conflicts: usize,
}

enum Outcome {
    Done,
    /// Lost a race with another writer: rolled back to its savepoint, to run again after this
    /// batch commits (and releases the locks the other writer is waiting for).
    Deferred,
}

/// How often the writer refreshes statistics when the server does not keep them itself. By
/// time, not by jobs: one engine step is one job however many orders it carries.
const ANALYZE_EVERY: Duration = Duration::from_secs(30);

/// The loop of one writer thread. `analyze`: refresh the planner's statistics now and then (a
/// PostgreSQL server with autovacuum off never does; measured: a 100,000-order cycle dispatched
/// 15 times slower on plans made for nearly empty tables).
pub(crate) fn run_writer(
    mut conn: Box<dyn Conn + Send>,
    jobs: Arc<Mutex<Receiver<Box<dyn Job>>>>,
    committed: Arc<Notify>,
    analyze: bool,
) {
    let mut carried: Vec<Queued> = Vec::new();
    let mut since_analyze = 0usize;
    let mut last_analyze = std::time::Instant::now();
    loop {
        if analyze && since_analyze > 0 && last_analyze.elapsed() >= ANALYZE_EVERY {
            if let Err(e) = conn.batch("ANALYZE") {
                tracing::warn!(error = %e, "ANALYZE failed");
            }
            since_analyze = 0;
            last_analyze = std::time::Instant::now();
        }
        let mut batch: Vec<Queued> = std::mem::take(&mut carried);
        {
            // One writer at a time takes what is waiting; the others wait for the lock.
            let rx = jobs.lock().expect("writer queue lock");
            if batch.is_empty() {
                match rx.recv() {
                    Ok(job) => batch.push(Queued { job, conflicts: 0 }),
                    Err(_) => return,
                }
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(Queued { job, conflicts: 0 }),
                    Err(_) => break,
                }
            }
        }
        since_analyze += batch.len();
        let (commit, outcomes) = run_batch(conn.as_mut(), &mut batch);
        if commit.is_ok() {
            committed.notify_waiters();
            committed.notify_one();
        }
        for (mut q, outcome) in batch.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Deferred if commit.is_ok() => {
                    q.conflicts += 1;
                    carried.push(q);
                }
                _ => q.job.finish(commit.clone()),
            }
        }
    }
}

/// Runs a batch in one transaction. First without savepoints (they are not free: SQLite's cost
/// grows with the transaction, PostgreSQL's are round trips); if any job fails, the batch is
/// rolled back and run again with a savepoint per job, so the failure is isolated.
fn run_batch(conn: &mut dyn Conn, batch: &mut [Queued]) -> (Result<(), DbError>, Vec<Outcome>) {
    let begin = match conn.dialect() {
        crate::Dialect::Sqlite => "BEGIN IMMEDIATE",
        crate::Dialect::Postgres => "BEGIN",
    };
    let mut attempt = 0;
    let mut isolated = false;
    loop {
        let run = conn.batch(begin).and_then(|()| {
            if isolated {
                run_isolated(conn, batch).map(Some)
            } else {
                run_together(conn, batch)
            }
        });
        let e = match run {
            Ok(Some(outcomes)) => match conn.batch("COMMIT") {
                Ok(()) => return (Ok(()), outcomes),
                Err(e) => e,
            },
            Ok(None) => {
                // A job failed in the shared run: start over, isolating each job.
                let _ = conn.batch("ROLLBACK");
                isolated = true;
                continue;
            }
            Err(e) => e,
        };
        let _ = conn.batch("ROLLBACK");
        if !(e.is_conflict() && attempt < CONFLICT_RETRIES) {
            return (Err(e), batch.iter().map(|_| Outcome::Done).collect());
        }
        attempt += 1;
        std::thread::sleep(Duration::from_millis(1 << attempt));
    }
}

/// Every job in the one transaction, no savepoints. `None` as soon as one fails.
fn run_together(
    conn: &mut dyn Conn,
    batch: &mut [Queued],
) -> Result<Option<Vec<Outcome>>, DbError> {
    for q in batch.iter_mut() {
        if q.job.run(conn).is_err() {
            return Ok(None);
        }
    }
    Ok(Some(batch.iter().map(|_| Outcome::Done).collect()))
}

/// Runs each job in a savepoint. Returns an error only when the whole transaction is lost.
fn run_isolated(conn: &mut dyn Conn, batch: &mut [Queued]) -> Result<Vec<Outcome>, DbError> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for q in batch.iter_mut() {
        conn.batch("SAVEPOINT job")?;
        match q.job.run(conn) {
            Ok(()) => {
                conn.batch("RELEASE SAVEPOINT job")?;
                outcomes.push(Outcome::Done);
            }
            Err(db) => {
                conn.batch("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")?;
                let conflict = db.is_some_and(|e| e.is_conflict());
                outcomes.push(if conflict && q.conflicts < CONFLICT_RETRIES {
                    Outcome::Deferred
                } else {
                    Outcome::Done
                });
            }
        }
    }
    Ok(outcomes)
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

pub(crate) type JobSender = Sender<Box<dyn Job>>;
