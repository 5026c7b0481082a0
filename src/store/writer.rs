//! The store's own thread: it owns the one connection, collects records into batches, writes a
//! batch at most [`BATCH_INTERVAL`] after its first record, answers reads in order with the
//! writes, runs retention daily, and rides out a broken disk.
//!
//! A failed batch (disk full, read-only file, locked or corrupt database) is kept and written
//! again later, with a growing pause; the connection is opened anew first, so a fixed file
//! (permissions, space, a replaced database) is picked up without a restart. While it fails,
//! at most [`MAX_PENDING`] records wait; older ones are dropped and counted. Nothing here ever
//! reaches back into the bridge: the daemon learns the status through a watch channel.

use super::error::StoreError;
use super::{schema, write, HistoryStatus, Job};
use crate::bridge::Record;
use crate::metrics::Metrics;
use rusqlite::Connection;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::watch;

/// A batch is written at most this long after its first record (`docs/interface.md` §7: at most
/// 5 s), so a crash or `kill -9` loses at most that much.
pub(super) const BATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Records kept while the database cannot be written; beyond, the oldest are dropped.
pub(super) const MAX_PENDING: usize = 50_000;

/// The first pause after a failure; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(5);

/// The longest pause between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(60);

/// How often retention runs.
const RETENTION_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// What the thread needs.
pub(super) struct Writer {
    /// `None`: in memory.
    pub(super) path: Option<PathBuf>,
    /// `history.retention`.
    pub(super) retention: Duration,
    /// See `Settings::max_pages`.
    max_pages: Option<u32>,
    pub(super) status: watch::Sender<HistoryStatus>,
    pub(super) metrics: Option<Arc<Metrics>>,
    /// Records dropped (shared with the handle, which counts a full queue).
    pub(super) dropped: Arc<AtomicU64>,
    /// The handle's flag: records were sent since the thread last took them.
    waiting: Arc<AtomicBool>,
    conn: Option<Connection>,
    /// The last failure, shown to readers while there is no connection.
    failure: Option<String>,
    pending: VecDeque<Record>,
    batch_since: Option<Instant>,
    retry_at: Option<Instant>,
    failures: u32,
    retention_at: Instant,
}

impl Writer {
    pub(super) fn new(
        path: Option<PathBuf>,
        retention: Duration,
        max_pages: Option<u32>,
        status: watch::Sender<HistoryStatus>,
        metrics: Option<Arc<Metrics>>,
        dropped: Arc<AtomicU64>,
        waiting: Arc<AtomicBool>,
    ) -> Self {
        Self {
            waiting,
            path,
            retention,
            max_pages,
            status,
            metrics,
            dropped,
            conn: None,
            failure: None,
            pending: VecDeque::new(),
            batch_since: None,
            retry_at: None,
            failures: 0,
            retention_at: Instant::now(),
        }
    }

    /// Runs until told to stop or every handle is gone.
    pub(super) fn run(mut self, jobs: Receiver<Job>, records: Receiver<Box<Record>>) {
        self.reopen();
        loop {
            let job = match self.next_wake() {
                Some(at) => match jobs.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(job) => Some(job),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match jobs.recv() {
                    Ok(job) => Some(job),
                    Err(_) => break,
                },
            };
            match job {
                Some(Job::Wake) => {
                    self.batch_since.get_or_insert_with(Instant::now);
                }
                Some(Job::Read(read)) => {
                    // A read sees everything recorded before it.
                    self.take(&records);
                    self.write_pending();
                    match &self.conn {
                        Some(conn) => read(Ok(conn)),
                        None => read(Err(self.failure.clone().unwrap_or_default())),
                    }
                }
                Some(Job::Flush(done)) => {
                    self.take(&records);
                    self.write_pending();
                    let _ = done.send(match (&self.failure, self.pending.is_empty()) {
                        (None, true) => Ok(()),
                        (failure, _) => Err(failure.clone().unwrap_or_default()),
                    });
                }
                Some(Job::Stop(done)) => {
                    self.take(&records);
                    self.write_pending();
                    if let Some(conn) = &self.conn {
                        let _ = conn.execute_batch("PRAGMA optimize;");
                    }
                    let _ = done.send(());
                    return;
                }
                None => {}
            }
            if self
                .batch_since
                .is_some_and(|at| at + BATCH_INTERVAL <= Instant::now())
            {
                self.take(&records);
            }
            self.due_work();
        }
        self.take(&records);
        self.write_pending();
    }

    /// Takes every record waiting in the queue. The flag is cleared first: a record sent
    /// from now on wakes the thread again.
    fn take(&mut self, records: &Receiver<Box<Record>>) {
        self.waiting.store(false, Ordering::Release);
        while let Ok(record) = records.try_recv() {
            self.push(*record);
        }
    }

    /// When the loop must wake without a job.
    fn next_wake(&self) -> Option<Instant> {
        let batch = self.batch_since.map(|at| at + BATCH_INTERVAL);
        let retry = self.retry_at;
        let retention = self.conn.as_ref().map(|_| self.retention_at);
        [batch.max(retry), retention].into_iter().flatten().min()
    }

    fn due_work(&mut self) {
        let now = Instant::now();
        if self.conn.is_none() && self.retry_at.is_none_or(|at| at <= now) {
            self.reopen();
        }
        if self
            .batch_since
            .is_some_and(|at| at + BATCH_INTERVAL <= now)
            && self.retry_at.is_none_or(|at| at <= now)
        {
            self.write_pending();
        }
        if self.conn.is_some() && self.retention_at <= now {
            self.retention_at = now + RETENTION_INTERVAL;
            self.run_retention();
        }
    }

    fn push(&mut self, record: Record) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            self.count_dropped(1);
        }
        self.pending.push_back(record);
        self.batch_since.get_or_insert_with(Instant::now);
    }

    fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        if let Some(metrics) = &self.metrics {
            metrics.history_dropped(n);
        }
    }

    /// Opens the database (again).
    fn reopen(&mut self) {
        self.conn = None;
        match schema::open(self.path.as_deref(), self.max_pages) {
            Ok(conn) => {
                self.conn = Some(conn);
                match &self.path {
                    Some(path) => tracing::info!("cook history in {}", path.display()),
                    None => tracing::info!("cook history in memory"),
                }
                self.succeeded();
                self.retention_at = Instant::now() + RETENTION_INTERVAL;
                self.run_retention();
            }
            Err(error) => self.failed(&error),
        }
    }

    /// Writes every pending record in one transaction.
    fn write_pending(&mut self) {
        if self.pending.is_empty() {
            self.batch_since = None;
            return;
        }
        if self.conn.is_none() {
            if self.retry_at.is_some_and(|at| at > Instant::now()) {
                return;
            }
            self.reopen();
        }
        let Some(conn) = &self.conn else {
            return;
        };
        let result = write_batch(conn, &self.pending);
        match result {
            Ok(skipped) => {
                if skipped > 0 {
                    self.count_dropped(skipped);
                }
                self.pending.clear();
                self.batch_since = None;
                self.succeeded();
            }
            Err(error) => {
                if reopen_after(&error) {
                    // Opened anew before the next attempt: a replaced or repaired file, or
                    // one whose permissions were fixed, is then used.
                    self.conn = None;
                }
                self.failed(&error);
            }
        }
    }

    fn run_retention(&mut self) {
        let Some(conn) = &self.conn else {
            return;
        };
        let keep = time::Duration::try_from(self.retention).unwrap_or(time::Duration::MAX);
        let cutoff = OffsetDateTime::now_utc()
            .checked_sub(keep)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        match write::retain(conn, cutoff) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                "history retention: {n} cook(s) older than history.retention deleted"
            ),
            Err(error) => {
                if reopen_after(&error) {
                    self.conn = None;
                }
                self.failed(&error);
            }
        }
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at = None;
        if self.failure.take().is_some() {
            tracing::info!("the history database works again");
        }
        self.status.send_if_modified(|status| {
            let changed = *status != HistoryStatus::Ok;
            *status = HistoryStatus::Ok;
            changed
        });
    }

    fn failed(&mut self, error: &StoreError) {
        let message = error.to_string();
        if let Some(metrics) = &self.metrics {
            metrics.history_write_error();
        }
        if self.failure.as_deref() != Some(message.as_str()) {
            tracing::warn!("{message}; the bridge goes on, history is retried");
        }
        let pause = FIRST_RETRY
            .saturating_mul(1 << self.failures.min(8))
            .min(MAX_RETRY);
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(Instant::now() + pause);
        self.failure = Some(message.clone());
        self.status.send_if_modified(|status| {
            let next = HistoryStatus::Failing(message);
            let changed = *status != next;
            *status = next;
            changed
        });
    }
}

/// True when the connection is opened anew before the next attempt: for anything but a full
/// disk or a lock held by someone else, which pass with the same connection (and it still
/// answers reads meanwhile).
fn reopen_after(error: &StoreError) -> bool {
    use rusqlite::ErrorCode as C;
    !matches!(
        error,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, C::DiskFull | C::DatabaseBusy | C::DatabaseLocked)
    )
}

/// Writes `records` in one transaction. A record that cannot be written for its own sake (it
/// names a cook that was deleted) is skipped; returns how many were. A failure of the
/// storage rolls everything back.
fn write_batch(conn: &Connection, records: &VecDeque<Record>) -> Result<u64, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut skipped = 0;
    for record in records {
        if let Err(error) = write::apply(&tx, record) {
            if error.is_storage() {
                return Err(error);
            }
            tracing::debug!("history record skipped: {error}");
            skipped += 1;
        }
    }
    tx.commit()?;
    Ok(skipped)
}
