//! Reading the history back: the API's list (newest first, paged by a cursor, filtered), one
//! cook with everything recorded for it, its curve as CSV, forgetting a cook, the cooks a
//! restarted daemon continues, and past heating rates for plans.

use super::error::StoreError;
use super::Store;
use crate::bridge::{ResumedCook, Source};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};
use std::fmt::Write as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The most cooks one page holds.
pub const MAX_PAGE: u32 = 500;

/// A page's size when the caller gives none.
const DEFAULT_PAGE: u32 = 50;

/// Which cooks to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookFilter {
    /// Only this device (topic id).
    pub device: Option<String>,
    /// Only cooks started at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only cooks started before this time.
    pub until: Option<OffsetDateTime>,
    /// At most this many (default 50, at most [`MAX_PAGE`]).
    pub limit: Option<u32>,
    /// Continue after this cursor (from the previous page's `next_cursor`).
    pub cursor: Option<String>,
}

/// A page of cook summaries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct CookPage {
    /// The summaries.
    pub cooks: Vec<Value>,
    /// The cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

impl CookPage {
    /// `{"cooks": […], "next_cursor": … | null}`.
    pub fn to_json(&self) -> Value {
        json!({"cooks": self.cooks, "next_cursor": self.next_cursor})
    }
}

/// What `DELETE` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The cook and everything recorded for it are gone.
    Deleted,
    /// No such cook.
    NotFound,
    /// The cook is still running; it is kept.
    Running,
}

/// How fast a past cook heated: from its first recorded temperature to its target.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatingRate {
    /// The cook.
    pub cook_id: String,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// The first temperature recorded, °C.
    pub from_c: f64,
    /// Its target, °C.
    pub to_c: f64,
    /// Seconds from its start until it reached the target.
    pub seconds: u64,
}

impl HeatingRate {
    /// °C per minute.
    pub fn per_minute(&self) -> f64 {
        (self.to_c - self.from_c) * 60.0 / (self.seconds.max(1) as f64)
    }
}

fn rfc3339(unix: i64) -> Value {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::from)
}

fn from_unix(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn degrees(centi: Option<i64>) -> Value {
    centi.map_or(Value::Null, |c| Value::from(c as f64 / 100.0))
}

/// The opaque cursor of a page's last cook.
fn cursor(started_at: i64, id: i64) -> String {
    format!("{started_at}.{id}")
}

/// Reads a cursor; `None` when it is not one of ours.
fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (started, id) = text.split_once('.')?;
    Some((started.parse().ok()?, id.parse().ok()?))
}

const SUMMARY_COLUMNS: &str = "id, cook_id, device, model, family, source, started_at, ended_at, \
     outcome, duration_s, time_to_target_s, min_c, max_c, plan";

/// One cook's summary from a row of [`SUMMARY_COLUMNS`].
fn summary(row: &Row<'_>) -> rusqlite::Result<Value> {
    let ended_at: Option<i64> = row.get(7)?;
    let plan: String = row.get(13)?;
    let plan: Value = serde_json::from_str(&plan).unwrap_or(Value::Null);
    let number = |v: Option<f64>| v.map_or(Value::Null, Value::from);
    Ok(json!({
        "cook_id": row.get::<_, String>(1)?,
        "device": row.get::<_, String>(2)?,
        "model": row.get::<_, String>(3)?,
        "family": row.get::<_, String>(4)?,
        "source": row.get::<_, String>(5)?,
        "started_at": rfc3339(row.get(6)?),
        "ended_at": ended_at.map_or(Value::Null, rfc3339),
        "running": ended_at.is_none(),
        "outcome": row.get::<_, Option<String>>(8)?,
        "duration_s": row.get::<_, Option<i64>>(9)?,
        "time_to_target_s": row.get::<_, Option<i64>>(10)?,
        "min_temperature": number(row.get(11)?),
        "max_temperature": number(row.get(12)?),
        "plan": plan,
    }))
}

/// Cook summaries, newest first.
pub(super) fn list(conn: &Connection, filter: &CookFilter) -> Result<CookPage, StoreError> {
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = filter.cursor.as_deref().and_then(parse_cursor);
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM cooks
         WHERE (?1 IS NULL OR device = ?1)
           AND (?2 IS NULL OR started_at >= ?2)
           AND (?3 IS NULL OR started_at < ?3)
           AND (?4 IS NULL OR started_at < ?4 OR (started_at = ?4 AND id < ?5))
         ORDER BY started_at DESC, id DESC
         LIMIT ?6"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![
        filter.device,
        filter.since.map(OffsetDateTime::unix_timestamp),
        filter.until.map(OffsetDateTime::unix_timestamp),
        after.map(|a| a.0),
        after.map(|a| a.1),
        i64::from(limit) + 1
    ])?;
    let mut cooks = Vec::new();
    let mut last = None;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if cooks.len() == limit as usize {
            more = true;
            break;
        }
        last = Some((row.get::<_, i64>(6)?, row.get::<_, i64>(0)?));
        cooks.push(summary(row)?);
    }
    let next_cursor = more
        .then_some(last)
        .flatten()
        .map(|(started, id)| cursor(started, id));
    Ok(CookPage { cooks, next_cursor })
}

/// True when the text is a cursor this store made (for the API's `400`).
pub fn valid_cursor(text: &str) -> bool {
    parse_cursor(text).is_some()
}

/// The columns of a family's curve, after the seconds since the start.
fn curve_columns(family: &str) -> &'static [&'static str] {
    if family == "oven" {
        &[
            "temperature",
            "target_temperature",
            "probe_temperature",
            "humidity",
        ]
    } else {
        &["water_temperature", "target_temperature"]
    }
}

/// One cook with its plan, events, commands and curve (at most `max_points` points, evenly
/// thinned, the last one always kept); `None` for an unknown cook.
pub(super) fn cook(
    conn: &Connection,
    cook_id: &str,
    max_points: Option<usize>,
) -> Result<Option<Value>, StoreError> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM cooks WHERE cook_id = ?1");
    let found = conn
        .query_row(&sql, [cook_id], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(6)?, summary(row)?))
        })
        .optional()?;
    let Some((id, started_at, mut cook)) = found else {
        return Ok(None);
    };
    let family = cook["family"].as_str().unwrap_or("cooker").to_owned();
    let mut events = Vec::new();
    let mut stmt =
        conn.prepare_cached("SELECT payload FROM events WHERE cook = ?1 ORDER BY at, rowid")?;
    for payload in stmt.query_map([id], |row| row.get::<_, String>(0))? {
        events.push(serde_json::from_str::<Value>(&payload?).unwrap_or(Value::Null));
    }
    let mut commands = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT at, source, request, response FROM commands WHERE cook = ?1 ORDER BY at, id",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(row) = rows.next()? {
        let parse = |text: String| serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
        commands.push(json!({
            "at": rfc3339(row.get(0)?),
            "source": row.get::<_, String>(1)?,
            "command": parse(row.get(2)?),
            "response": parse(row.get(3)?),
        }));
    }
    let columns = curve_columns(&family);
    let points = samples(conn, id)?;
    let step = max_points
        .filter(|&max| max > 0 && points.len() > max)
        .map_or(1, |max| points.len().div_ceil(max));
    let last = points.len().saturating_sub(1);
    let points: Vec<Value> = points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, s)| {
            let mut point = vec![Value::from(s.0 - started_at)];
            point.extend(s.1.iter().take(columns.len()).map(|v| degrees(*v)));
            Value::Array(point)
        })
        .collect();
    let mut names = vec!["seconds"];
    names.extend_from_slice(columns);
    if let Value::Object(map) = &mut cook {
        map.insert("events".into(), Value::Array(events));
        map.insert("commands".into(), Value::Array(commands));
        map.insert("curve".into(), json!({"columns": names, "points": points}));
    }
    Ok(Some(cook))
}

/// A cook's samples: Unix time and the four readings in hundredths.
type Sample = (i64, [Option<i64>; 4]);

fn samples(conn: &Connection, id: i64) -> Result<Vec<Sample>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, temperature, target, probe, humidity FROM samples WHERE cook = ?1 ORDER BY at",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok((
            row.get(0)?,
            [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?],
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The curve as CSV: a header row, then RFC 3339 UTC times and °C (humidity in %); an empty
/// field where there was no reading. `None` for an unknown cook.
pub(super) fn csv(conn: &Connection, cook_id: &str) -> Result<Option<String>, StoreError> {
    let found = conn
        .query_row(
            "SELECT id, family FROM cooks WHERE cook_id = ?1",
            [cook_id],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    let Some((id, family)) = found else {
        return Ok(None);
    };
    let columns = curve_columns(&family);
    let mut text = String::from("time");
    for name in columns {
        let unit = if *name == "humidity" { "pct" } else { "c" };
        let _ = write!(text, ",{name}_{unit}");
    }
    text.push_str("\r\n");
    for (at, values) in samples(conn, id)? {
        text.push_str(rfc3339(at).as_str().unwrap_or_default());
        for value in values.iter().take(columns.len()) {
            text.push(',');
            if let Some(centi) = value {
                let _ = write!(text, "{}", *centi as f64 / 100.0);
            }
        }
        text.push_str("\r\n");
    }
    Ok(Some(text))
}

/// Forgets one finished cook with everything recorded for it.
pub(super) fn delete(conn: &Connection, cook_id: &str) -> Result<Deleted, StoreError> {
    let ended: Option<Option<i64>> = conn
        .query_row(
            "SELECT ended_at FROM cooks WHERE cook_id = ?1",
            [cook_id],
            |row| row.get(0),
        )
        .optional()?;
    match ended {
        None => Ok(Deleted::NotFound),
        Some(None) => Ok(Deleted::Running),
        Some(Some(_)) => {
            conn.execute("DELETE FROM cooks WHERE cook_id = ?1", [cook_id])?;
            Ok(Deleted::Deleted)
        }
    }
}

/// The cooks that have not ended, with what the bridge needs to continue them.
pub(super) fn open_cooks(conn: &Connection) -> Result<Vec<ResumedCook>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.cook_id, c.device, c.source, c.started_at, c.plan,
                (SELECT MIN(e.at) FROM events e WHERE e.cook = c.id AND e.kind = 'preheat_complete'),
                MAX(c.started_at,
                    COALESCE((SELECT MAX(s.at) FROM samples s WHERE s.cook = c.id), 0),
                    COALESCE((SELECT MAX(e.at) FROM events e WHERE e.cook = c.id), 0))
         FROM cooks c WHERE c.ended_at IS NULL ORDER BY c.started_at",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, i64>(4)?,
            row.get::<_, String>(5)?,
            row.get::<_, Option<i64>>(6)?,
            row.get::<_, i64>(7)?,
        ))
    })?;
    let mut cooks = Vec::new();
    for row in rows {
        let (id, cook_id, device, source, started, plan, reached, last_seen) = row?;
        let (min_c, max_c) = match reached {
            Some(reached) => conn.query_row(
                "SELECT MIN(temperature), MAX(temperature) FROM samples WHERE cook = ?1 AND at >= ?2",
                params![id, reached],
                |row| Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?)),
            )?,
            None => (None, None),
        };
        cooks.push(ResumedCook {
            cook_id,
            device,
            source: Source::parse(&source).unwrap_or(Source::Device),
            started_at: from_unix(started),
            plan,
            reached_at: reached.map(from_unix),
            min_c: min_c.map(|c| c as f64 / 100.0),
            max_c: max_c.map(|c| c as f64 / 100.0),
            last_seen: from_unix(last_seen),
            points: chart_points(conn, id)?,
        });
    }
    Ok(cooks)
}

/// The most points a resumed cook brings back for the web page's live chart.
const CHART_POINTS: usize = 128;

/// A running cook's curve so far, evenly thinned to [`CHART_POINTS`]: time, temperature,
/// target.
fn chart_points(
    conn: &Connection,
    id: i64,
) -> Result<Vec<(OffsetDateTime, f64, Option<f64>)>, StoreError> {
    let all = samples(conn, id)?;
    let step = all.len().div_ceil(CHART_POINTS).max(1);
    Ok(all
        .iter()
        .step_by(step)
        .filter_map(|(at, [t, target, ..])| {
            t.map(|t| {
                (
                    from_unix(*at),
                    t as f64 / 100.0,
                    target.map(|c| c as f64 / 100.0),
                )
            })
        })
        .collect())
}

/// How fast this device's past cooks heated, newest first (at most `limit`): from the first
/// recorded temperature to the target, for cooks that reached it.
pub(super) fn heating_rates(
    conn: &Connection,
    device: &str,
    limit: u32,
) -> Result<Vec<HeatingRate>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.cook_id, c.started_at, c.time_to_target_s,
                (SELECT s.temperature FROM samples s WHERE s.cook = c.id ORDER BY s.at LIMIT 1),
                (SELECT s.target FROM samples s WHERE s.cook = c.id AND s.target IS NOT NULL
                 ORDER BY s.at LIMIT 1)
         FROM cooks c
         WHERE c.device = ?1 AND c.time_to_target_s > 0
         ORDER BY c.started_at DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![device, limit], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, Option<i64>>(3)?,
            row.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut rates = Vec::new();
    for row in rows {
        let (cook_id, started, seconds, from, to) = row?;
        if let (Some(from), Some(to)) = (from, to) {
            rates.push(HeatingRate {
                cook_id,
                started_at: from_unix(started),
                from_c: from as f64 / 100.0,
                to_c: to as f64 / 100.0,
                seconds: u64::try_from(seconds).unwrap_or(0),
            });
        }
    }
    Ok(rates)
}

/// The plans that had not ended when the daemon last stopped, each as the bridge wrote it.
pub(super) fn pending_plans(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM plans WHERE ended_at IS NULL ORDER BY start_at, schedule_id",
    )?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The heating rates of every device's past cooks (at most `limit` each, newest first).
pub(super) fn heating_rates_by_device(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<(String, Vec<HeatingRate>)>, StoreError> {
    let devices: Vec<String> = {
        let mut stmt = conn.prepare_cached("SELECT DISTINCT device FROM cooks ORDER BY device")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    devices
        .into_iter()
        .map(|device| heating_rates(conn, &device, limit).map(|rates| (device, rates)))
        .collect()
}

/// The queries, run on the store's thread.
impl Store {
    /// Cook summaries, newest first (`GET /api/v1/cooks`).
    pub async fn list(&self, filter: CookFilter) -> Result<CookPage, StoreError> {
        self.read(move |conn| list(conn, &filter)).await
    }

    /// One cook with everything recorded for it (`GET /api/v1/cooks/{cook_id}`).
    pub async fn cook(
        &self,
        cook_id: String,
        max_points: Option<usize>,
    ) -> Result<Option<Value>, StoreError> {
        self.read(move |conn| cook(conn, &cook_id, max_points))
            .await
    }

    /// The curve as CSV (`…/samples.csv`).
    pub async fn csv(&self, cook_id: String) -> Result<Option<String>, StoreError> {
        self.read(move |conn| csv(conn, &cook_id)).await
    }

    /// Forgets a finished cook (`DELETE /api/v1/cooks/{cook_id}`).
    pub async fn delete(&self, cook_id: String) -> Result<Deleted, StoreError> {
        self.read(move |conn| delete(conn, &cook_id)).await
    }

    /// The cooks that had not ended when the daemon last stopped.
    pub async fn open_cooks(&self) -> Result<Vec<ResumedCook>, StoreError> {
        self.read(open_cooks).await
    }

    /// The plans still pending when the daemon last stopped (`docs/interface.md` §8.2), as the
    /// bridge saved them ([`crate::bridge::Input::ResumePlans`]).
    pub async fn pending_plans(&self) -> Result<Vec<String>, StoreError> {
        self.read(pending_plans).await
    }

    /// [`Store::heating_rates`] of every device that has cooked, read once at start.
    pub async fn heating_rates_by_device(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, Vec<HeatingRate>)>, StoreError> {
        self.read(move |conn| heating_rates_by_device(conn, limit))
            .await
    }

    /// How fast a device's past cooks heated, newest first: what a ready-by plan (§8.2)
    /// estimates its time to reach the target from (the median of similar cooks).
    pub async fn heating_rates(
        &self,
        device: String,
        limit: u32,
    ) -> Result<Vec<HeatingRate>, StoreError> {
        self.read(move |conn| heating_rates(conn, &device, limit))
            .await
    }
}
