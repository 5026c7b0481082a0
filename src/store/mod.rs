//! The cook history (`docs/interface.md` §7): an adapter around the bridge that keeps what the core
//! asks to be remembered ([`Record`]s) in an embedded SQLite database, and reads it back for
//! the HTTP API, the web page and a restart of the daemon.
//!
//! The bridge never waits for it. The daemon hands each record over with [`Store::record`], a
//! `try_send` on a bounded queue: a full queue (a disk slower than the records come) drops the
//! record and counts it, it never delays a push. One thread of its own (`writer.rs`) owns the
//! only connection, writes in batches, answers reads in order with the writes (so an
//! in-memory database works too, and a read sees everything recorded before it), and keeps
//! going through a full disk, a read-only or corrupt file, a lock held by another program, or
//! a database from a newer version: the [`HistoryStatus`] says what is wrong, the metrics
//! count it, and it retries.
//!
//! - `schema.rs`: the layout, the pragmas (WAL) and the migrations (`PRAGMA user_version`).
//! - `write.rs`: one record into its rows; retention.
//! - `read.rs`: the queries of the API (list, one cook, CSV, delete) and the open cooks the
//!   daemon resumes at start.
//!
//! For the plans of `docs/interface.md` §8 (issue 23): a plan table is migration 3 in
//! `schema.rs`, its writes a new [`Record`] variant (or [`Store::read`] for the few writes that
//! need an answer), and the heating rates of a device's past cooks are [`Store::heating_rates`].

mod error;
mod read;
mod schema;
mod write;
mod writer;

#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use read::{valid_cursor, CookFilter, CookPage, Deleted, HeatingRate, MAX_PAGE};
pub use schema::CURRENT as SCHEMA_VERSION;

use crate::bridge::Record;
use crate::metrics::Metrics;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Records waiting for the store's thread; more are dropped and counted. The queue's slots are
/// allocated (and touched) up front, so a slot is small (a boxed record): 8,192 slots are
/// about 130 KB of resident memory; unboxed records made 1 MB, an eighth of the idle daemon.
/// At 1,000 devices about 100 records a second arrive, so this holds over a minute of them.
const QUEUE: usize = 8_192;

/// Reads, flushes and wake-ups waiting for the store's thread.
const CONTROL_QUEUE: usize = 64;

/// How long a read waits for the store's thread (which may be writing a batch to a slow disk).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the history lives and how long it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The database file; `None` keeps it in memory (the demo).
    pub path: Option<PathBuf>,
    /// `history.retention`: cooks that ended longer ago are deleted, daily.
    pub retention: Duration,
    /// The most pages (4 KiB) the database may grow to; `None`: as large as the disk allows.
    /// Not a setting of the contract: the tests stand in a full disk with it.
    pub max_pages: Option<u32>,
}

impl Settings {
    /// A database at `path` (`None`: in memory), kept for `retention`.
    pub fn new(path: Option<PathBuf>, retention: Duration) -> Self {
        Self {
            path,
            retention,
            max_pages: None,
        }
    }
}

/// How the history is doing, for `bridge/info`, `/healthz` and the web page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryStatus {
    /// `history.enabled = false`.
    Disabled,
    /// The database is being opened.
    Opening,
    /// Records are written.
    Ok,
    /// The database cannot be opened or written; the text says why.
    Failing(String),
}

impl HistoryStatus {
    /// `ok`, `disabled`, `opening`, or the error in words.
    pub fn as_text(&self) -> &str {
        match self {
            Self::Disabled => "disabled",
            Self::Opening => "opening",
            Self::Ok => "ok",
            Self::Failing(why) => why,
        }
    }
}

/// A read run on the store's thread with its connection, or the reason there is none.
type Read = Box<dyn FnOnce(Result<&Connection, String>) + Send>;

/// What the store's thread is asked to do besides taking records.
enum Job {
    /// Records wait in their queue (sent with the first record after the thread took them).
    Wake,
    Read(Read),
    /// Write what is pending now; answers with the failure, if any.
    Flush(oneshot::Sender<Result<(), String>>),
    /// Write what is pending and end the thread.
    Stop(oneshot::Sender<()>),
}

/// The handle to the history: cheap to clone, shared by the daemon's loop (records) and the
/// HTTP adapter (reads).
///
/// Records go into their own queue, which the store's thread never sleeps on: only the first
/// record after the thread took the queue's contents wakes it (through the control queue),
/// and it takes them all when the batch is due. So a push that makes a record costs a `Box`
/// and a lock-free `try_send`, not a wake-up of another thread.
#[derive(Clone)]
pub struct Store {
    jobs: SyncSender<Job>,
    records: SyncSender<Box<Record>>,
    /// Set by the first record after the thread took the queue: the thread knows.
    waiting: Arc<AtomicBool>,
    metrics: Option<Arc<Metrics>>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Starts the store's thread, which opens the database. Never fails: a database that
    /// cannot be opened is reported through the returned status and retried.
    pub fn start(
        settings: Settings,
        metrics: Option<Arc<Metrics>>,
    ) -> std::io::Result<(Self, watch::Receiver<HistoryStatus>)> {
        let (status_tx, status_rx) = watch::channel(HistoryStatus::Opening);
        let (jobs, queue) = sync_channel(CONTROL_QUEUE);
        let (records, record_queue) = sync_channel(QUEUE);
        let waiting = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = writer::Writer::new(
            settings.path,
            settings.retention,
            settings.max_pages,
            status_tx,
            metrics.clone(),
            dropped.clone(),
            waiting.clone(),
        );
        std::thread::Builder::new()
            .name("history".into())
            .spawn(move || writer.run(queue, record_queue))?;
        let store = Self {
            jobs,
            records,
            waiting,
            metrics,
            dropped,
        };
        Ok((store, status_rx))
    }

    /// Hands a record to the store without waiting; a full queue drops it (counted).
    pub fn record(&self, record: Record) {
        match self.records.try_send(Box::new(record)) {
            Ok(()) => {
                if !self.waiting.swap(true, Ordering::AcqRel) {
                    // A full control queue wakes the thread anyway.
                    let _ = self.jobs.try_send(Job::Wake);
                }
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                if let Some(metrics) = &self.metrics {
                    metrics.history_dropped(1);
                }
            }
        }
    }

    /// Records dropped so far: the queue was full, or the database failed for longer than
    /// its backlog holds.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Runs `read` on the store's thread with its connection, after everything recorded
    /// before; `Busy` when its queue is full or it does not answer in time.
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Read = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => read(conn),
                Err(failure) => Err(StoreError::Open {
                    path: PathBuf::from("(history.path)"),
                    reason: failure,
                }),
            };
            let _ = tx.send(result);
        });
        self.jobs
            .try_send(Job::Read(job))
            .map_err(|_| StoreError::Busy)?;
        match tokio::time::timeout(READ_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            _ => Err(StoreError::Busy),
        }
    }

    /// Writes everything recorded so far; the failure, if the database cannot be written.
    pub async fn flush(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .try_send(Job::Flush(tx))
            .map_err(|_| "the history queue is full".to_owned())?;
        rx.await
            .unwrap_or_else(|_| Err("the history store has stopped".to_owned()))
    }

    /// Writes everything recorded so far and ends the store's thread; waits at most `wait`.
    pub async fn stop(&self, wait: Duration) {
        let (tx, rx) = oneshot::channel();
        let sender = self.jobs.clone();
        // The queue may be full: waiting for room happens on a blocking thread.
        let queued = tokio::task::spawn_blocking(move || sender.send(Job::Stop(tx)).is_ok());
        let done = async {
            if queued.await.unwrap_or(false) {
                let _ = rx.await;
            }
        };
        if tokio::time::timeout(wait, done).await.is_err() {
            tracing::warn!("the history database did not finish writing in time");
        }
    }
}
