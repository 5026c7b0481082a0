//! What can go wrong with the history database, in words a user can act on.

use std::path::PathBuf;

/// A failure of the store. None of them stops the bridge: they degrade the history only, and
/// are shown as `history` in `bridge/info` and `/healthz`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file or its directory cannot be opened or created.
    #[error("cannot open the history database {}: {reason}", path.display())]
    Open {
        /// `history.path`.
        path: PathBuf,
        /// What the system or SQLite said.
        reason: String,
    },
    /// The database was written by a newer anova2mqtt; it is left as it is.
    #[error(
        "the history database{} was written by a newer anova2mqtt (schema version {found}; this \
         version knows up to {known}); it is left untouched: run the newer version, or set \
         history.path to another file",
        path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default()
    )]
    NewerSchema {
        /// `history.path`, when on disk.
        path: Option<PathBuf>,
        /// Its `user_version`.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// SQLite refused an operation (disk full, read-only, locked, corrupt …).
    #[error("history database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store's queue is full, or the store has stopped.
    #[error("the history database is busy; try again")]
    Busy,
    /// History is turned off (`history.enabled = false`).
    #[error("history is disabled (history.enabled = false)")]
    Disabled,
}

impl StoreError {
    /// True for a failure of the disk or the file (full, read-only, locked, corrupt, I/O):
    /// the batch is kept and written again later. False for a problem with one record, which
    /// is skipped so that it cannot block every later one.
    pub(super) fn is_storage(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => !matches!(
                e.code,
                C::ConstraintViolation | C::TypeMismatch | C::TooBig | C::ParameterOutOfRange
            ),
            Self::Sqlite(_) => false,
            _ => true,
        }
    }
}
