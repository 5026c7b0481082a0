//! Writing what the core recorded: one record at a time, inside the batch's transaction.
//!
//! No row grows with a cook's length: a cook is one row of fixed width (its plan is replaced
//! on a change, never appended to), and every point, event and command is a row of its own.
//! The core bounds how many events and commands one cook records; points are at most one
//! per 10 s (`bridge::record`), so a week-long cook is at most 60,480 rows of about 20 bytes.

use super::error::StoreError;
use crate::bridge::{CookOpened, CookSummary, CurvePoint, Record};
use rusqlite::{params, Connection};
use time::OffsetDateTime;

/// Hundredths of the unit, as stored (±327.67 °C covers every device).
pub(super) fn centi(value: Option<f64>) -> Option<i64> {
    value
        .filter(|v| v.is_finite())
        .map(|v| (v * 100.0).round().clamp(-32_767.0, 32_767.0) as i64)
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// Writes one record.
pub(super) fn apply(conn: &Connection, record: &Record) -> Result<(), StoreError> {
    match record {
        Record::CookOpened(cook) => open_cook(conn, cook),
        Record::CookChanged { cook_id, plan } => {
            let mut stmt = conn.prepare_cached("UPDATE cooks SET plan = ?2 WHERE cook_id = ?1")?;
            stmt.execute(params![cook_id, plan])?;
            Ok(())
        }
        Record::Event {
            cook_id,
            at,
            kind,
            payload,
        } => {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO events (cook, at, kind, payload)
                 VALUES ((SELECT id FROM cooks WHERE cook_id = ?1), ?2, ?3, ?4)",
            )?;
            stmt.execute(params![cook_id, unix(*at), kind, payload])?;
            Ok(())
        }
        Record::Command {
            device,
            cook_id,
            at,
            source,
            request,
            response,
        } => {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO commands (device, cook, at, source, request, response)
                 VALUES (?1, (SELECT id FROM cooks WHERE cook_id = ?2), ?3, ?4, ?5, ?6)",
            )?;
            stmt.execute(params![
                device,
                cook_id,
                unix(*at),
                source.as_str(),
                request,
                response
            ])?;
            Ok(())
        }
        Record::Sample { cook_id, at, point } => sample(conn, cook_id, *at, point),
        Record::CookClosed {
            cook_id,
            ended_at,
            summary,
        } => close_cook(conn, cook_id, *ended_at, summary),
        Record::PlanSaved {
            schedule_id,
            device,
            start_at,
            data,
        } => {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO plans (schedule_id, device, start_at, data) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (schedule_id) DO UPDATE SET start_at = ?3, data = ?4
                 WHERE ended_at IS NULL",
            )?;
            stmt.execute(params![schedule_id, device, unix(*start_at), data])?;
            Ok(())
        }
        Record::PlanEnded {
            schedule_id,
            ended_at,
            outcome,
        } => {
            let mut stmt = conn.prepare_cached(
                "UPDATE plans SET ended_at = ?2, outcome = ?3 WHERE schedule_id = ?1",
            )?;
            stmt.execute(params![schedule_id, unix(*ended_at), outcome])?;
            Ok(())
        }
    }
}

fn open_cook(conn: &Connection, cook: &CookOpened) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO cooks (cook_id, device, model, family, source, started_at, plan)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![
        cook.cook_id,
        cook.device,
        cook.model,
        cook.family,
        cook.source.as_str(),
        unix(cook.started_at),
        cook.plan
    ])?;
    Ok(())
}

fn sample(
    conn: &Connection,
    cook_id: &str,
    at: OffsetDateTime,
    point: &CurvePoint,
) -> Result<(), StoreError> {
    // One point per second at most: a second point in the same second (a restart of the
    // daemon) replaces the first.
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO samples (cook, at, temperature, target, probe, humidity)
         VALUES ((SELECT id FROM cooks WHERE cook_id = ?1), ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        cook_id,
        unix(at),
        centi(point.temperature),
        centi(point.target),
        centi(point.probe),
        centi(point.humidity)
    ])?;
    Ok(())
}

fn close_cook(
    conn: &Connection,
    cook_id: &str,
    ended_at: OffsetDateTime,
    summary: &CookSummary,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE cooks SET ended_at = ?2, outcome = ?3, duration_s = ?4, time_to_target_s = ?5,
                          min_c = ?6, max_c = ?7
         WHERE cook_id = ?1",
    )?;
    stmt.execute(params![
        cook_id,
        unix(ended_at),
        summary.outcome.as_str(),
        i64::try_from(summary.duration_s).unwrap_or(i64::MAX),
        summary
            .time_to_target_s
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        summary.min_c,
        summary.max_c
    ])?;
    Ok(())
}

/// Deletes cooks that ended before `cutoff` with everything recorded for them, and commands
/// older than that which belonged to no cook. Returns how many cooks went.
pub(super) fn retain(conn: &Connection, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
    let cutoff = unix(cutoff);
    let tx = conn.unchecked_transaction()?;
    let cooks = tx.execute(
        "DELETE FROM cooks WHERE ended_at IS NOT NULL AND ended_at < ?1",
        [cutoff],
    )?;
    tx.execute(
        "DELETE FROM commands WHERE cook IS NULL AND at < ?1",
        [cutoff],
    )?;
    tx.execute(
        "DELETE FROM plans WHERE ended_at IS NOT NULL AND ended_at < ?1",
        [cutoff],
    )?;
    tx.commit()?;
    // Give the freed pages back to the file system, a bounded amount per day.
    // (It frees one page per step.)
    let mut vacuum = conn.prepare("PRAGMA incremental_vacuum(20000)")?;
    let mut rows = vacuum.query([])?;
    while rows.next()?.is_some() {}
    Ok(cooks)
}
