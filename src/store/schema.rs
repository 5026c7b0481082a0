//! The database's layout and how it gets there: opening, the pragmas, and the migrations,
//! versioned with `PRAGMA user_version`.
//!
//! A migration is appended, never edited: a database made by any earlier release is brought
//! forward one step at a time, each step in its own transaction together with its new
//! `user_version`. A database whose version is newer than [`CURRENT`] was written by a newer
//! anova2mqtt: it is refused and never altered (it is first opened read-only, only to read its
//! version).
//!
//! Temperatures in `samples` are whole hundredths of a degree Celsius (humidity: hundredths of
//! a per cent), times are Unix seconds: a point is then a row of about 20 bytes. The view
//! `curve` shows them in °C and RFC 3339 for people who query the file with `sqlite3`.

use super::error::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// The first layout: cooks, their events and their curves.
const V1: &str = "
CREATE TABLE cooks (
    id INTEGER PRIMARY KEY,
    cook_id TEXT NOT NULL UNIQUE,
    device TEXT NOT NULL,
    model TEXT NOT NULL,
    family TEXT NOT NULL,
    source TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT,
    duration_s INTEGER,
    plan TEXT NOT NULL
);
CREATE INDEX cooks_by_start ON cooks (started_at, id);
CREATE INDEX cooks_by_device ON cooks (device, started_at, id);
CREATE TABLE events (
    cook INTEGER NOT NULL REFERENCES cooks (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_by_cook ON events (cook, at);
CREATE TABLE samples (
    cook INTEGER NOT NULL REFERENCES cooks (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    temperature INTEGER,
    target INTEGER,
    probe INTEGER,
    humidity INTEGER,
    PRIMARY KEY (cook, at)
) WITHOUT ROWID;
";

/// The summary figures of a cook, the commands sent during it, and the `curve` view. The
/// figures of cooks recorded before are worked out from their events and samples.
const V2: &str = "
ALTER TABLE cooks ADD COLUMN time_to_target_s INTEGER;
ALTER TABLE cooks ADD COLUMN min_c REAL;
ALTER TABLE cooks ADD COLUMN max_c REAL;
CREATE TABLE commands (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    cook INTEGER REFERENCES cooks (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL
);
CREATE INDEX commands_by_cook ON commands (cook, at);
CREATE INDEX commands_by_time ON commands (at);
UPDATE cooks SET time_to_target_s = (
    SELECT MIN(e.at) - cooks.started_at FROM events e
    WHERE e.cook = cooks.id AND e.kind = 'preheat_complete'
);
UPDATE cooks SET
    min_c = (SELECT MIN(s.temperature) / 100.0 FROM samples s
             WHERE s.cook = cooks.id AND s.at >= cooks.started_at + cooks.time_to_target_s),
    max_c = (SELECT MAX(s.temperature) / 100.0 FROM samples s
             WHERE s.cook = cooks.id AND s.at >= cooks.started_at + cooks.time_to_target_s)
WHERE time_to_target_s IS NOT NULL;
CREATE VIEW curve AS
SELECT c.cook_id AS cook_id,
       c.device AS device,
       strftime('%Y-%m-%dT%H:%M:%SZ', s.at, 'unixepoch') AS time,
       s.temperature / 100.0 AS temperature_c,
       s.target / 100.0 AS target_c,
       s.probe / 100.0 AS probe_c,
       s.humidity / 100.0 AS humidity_pct
FROM samples s JOIN cooks c ON c.id = s.cook;
";

/// Plans (`docs/interface.md` §8.2): each device's pending plan, kept so that a restart continues
/// it, and what became of the plans that ended. `data` is the plan as the bridge wrote it
/// (JSON); `ended_at` is NULL while it waits.
const V3: &str = "
CREATE TABLE plans (
    schedule_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    start_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT,
    data TEXT NOT NULL
);
CREATE INDEX plans_pending ON plans (ended_at, start_at);
";

/// Every migration in order: the database's `user_version` is how many have run.
const MIGRATIONS: [&str; 3] = [V1, V2, V3];

/// The schema version this build writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// How long a write waits for another process's lock before it counts as failed.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// SQLite's page cache for this connection, KiB: the store reads little, and every KiB here
/// is resident memory of the daemon.
const CACHE_KIB: i64 = 256;

/// Opens (creating when needed) and migrates the database at `path`, or an in-memory one.
pub(super) fn open(path: Option<&Path>, max_pages: Option<u32>) -> Result<Connection, StoreError> {
    let conn = match path {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
            }
            if path.exists() {
                check_version_read_only(path)?;
            }
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
                path: path.to_owned(),
                reason: e.to_string(),
            })?
        }
        None => Connection::open_in_memory()?,
    };
    configure(&conn)?;
    if let Some(pages) = max_pages {
        let _: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
            r.get(0)
        })?;
    }
    migrate(&conn)?;
    Ok(conn)
}

/// Reads the version of an existing file without writing to it.
fn check_version_read_only(path: &Path) -> Result<(), StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let found = user_version(&conn)?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            path: Some(path.to_owned()),
            found,
            known: CURRENT,
        });
    }
    Ok(())
}

fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

/// The connection's settings: WAL (a crash loses at most the last transaction and never
/// corrupts the file; readers never block the writer), `synchronous = NORMAL` (enough with
/// WAL: a power cut may lose the last commits, never consistency), foreign keys on (deleting
/// a cook deletes its rows), a bounded wait for locks, a small cache.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if user_version(conn)? == 0 {
        // Only takes effect before the first table exists: lets retention give pages back.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
    }
    // In memory the journal stays `memory`; that is fine.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    Ok(())
}

/// Brings the database to [`CURRENT`], one migration per transaction.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            path: None,
            found,
            known: CURRENT,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
        ))
        .inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK;");
        })?;
        if found == 0 {
            tracing::debug!("history database created at schema version {version}");
        } else {
            tracing::info!("history database migrated to schema version {version}");
        }
    }
    Ok(())
}

/// Applies the first `version` migrations only: a database as an older release made it, for
/// the migration tests.
#[cfg(test)]
pub(super) fn create_at_version(conn: &Connection, version: u32) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate().take(version as usize) {
        conn.execute_batch(&format!(
            "BEGIN;\n{sql}\nPRAGMA user_version = {};\nCOMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}
