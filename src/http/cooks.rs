//! The cook history endpoints (`docs/interface.md` §7): the list (newest first, paged, filtered),
//! one cook, its curve as CSV, and forgetting a cook. They read the store directly (it
//! answers on its own thread), never through the daemon's main loop.

use super::auth::percent_decode;
use super::error::{json_response, truncate, ApiError};
use super::App;
use crate::store::{CookFilter, Deleted, Store, StoreError, MAX_PAGE};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The most curve points one answer carries when the caller asks for fewer.
const MAX_POINTS: usize = 100_000;

/// The store, or `503` when history is off.
fn store(app: &App) -> Result<&Store, ApiError> {
    app.settings.history.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "history_disabled",
            "cook history is turned off (history.enabled = false)",
        )
    })
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let code = match err {
            StoreError::Busy => "busy",
            StoreError::Disabled => "history_disabled",
            _ => "history_unavailable",
        };
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, err.to_string())
    }
}

fn bad_parameter(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        format!("{name}: {why}"),
    )
}

/// The query's parameters, percent-decoded; an unknown one is an error (a typo would
/// otherwise silently list everything).
fn parameters<'a>(uri: &Uri, known: &[&'a str]) -> Result<Vec<(&'a str, String)>, ApiError> {
    let mut found = Vec::new();
    for pair in uri.query().unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name).unwrap_or_default();
        if name == "access_token" {
            continue;
        }
        let Some(known) = known.iter().find(|k| **k == name) else {
            return Err(bad_parameter(
                truncate(&name, 64),
                format!("unknown parameter; known: {}", known.join(", ")),
            ));
        };
        let value = percent_decode(value).ok_or_else(|| bad_parameter(known, "bad escape"))?;
        found.push((*known, value));
    }
    Ok(found)
}

fn time(name: &str, value: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        bad_parameter(
            name,
            "expected an RFC 3339 time such as 2026-03-01T18:00:00Z",
        )
    })
}

fn number(name: &str, value: &str, max: usize) -> Result<usize, ApiError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| bad_parameter(name, format!("expected a whole number from 1 to {max}")))
}

/// `GET /api/v1/cooks`.
pub(crate) async fn list(State(app): State<Arc<App>>, uri: Uri) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let mut filter = CookFilter::default();
    for (name, value) in parameters(&uri, &["device", "since", "until", "limit", "cursor"])? {
        match name {
            "device" => filter.device = Some(value),
            "since" => filter.since = Some(time(name, &value)?),
            "until" => filter.until = Some(time(name, &value)?),
            "limit" => filter.limit = Some(number(name, &value, MAX_PAGE as usize)? as u32),
            _ => {
                if !crate::store::valid_cursor(&value) {
                    return Err(bad_parameter(
                        name,
                        "not a cursor of this API (use next_cursor of the previous page)",
                    ));
                }
                filter.cursor = Some(value);
            }
        }
    }
    let page = store.list(filter).await?;
    Ok(json_response(StatusCode::OK, page.to_json().to_string()))
}

fn unknown_cook(cook_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_cook",
        format!(
            "no cook with id {:?}; GET /api/v1/cooks lists them",
            truncate(cook_id, 64)
        ),
    )
}

/// `GET /api/v1/cooks/{cook_id}`.
pub(crate) async fn cook(
    State(app): State<Arc<App>>,
    Path(cook_id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    let mut max_points = None;
    for (name, value) in parameters(&uri, &["max_points"])? {
        max_points = Some(number(name, &value, MAX_POINTS)?);
    }
    match store.cook(cook_id.clone(), max_points).await? {
        Some(cook) => Ok(json_response(StatusCode::OK, cook.to_string())),
        None => Err(unknown_cook(&cook_id)),
    }
}

/// `GET /api/v1/cooks/{cook_id}/samples.csv`.
pub(crate) async fn samples_csv(
    State(app): State<Arc<App>>,
    Path(cook_id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    parameters(&uri, &[])?;
    let Some(csv) = store.csv(cook_id.clone()).await? else {
        return Err(unknown_cook(&cook_id));
    };
    let mut response = Response::new(Body::from(csv));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    // Cook ids are ours (UUIDs); anything else is kept out of the header.
    let name: String = cook_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"cook-{name}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `DELETE /api/v1/cooks/{cook_id}`: `204`, `404`, or `409` for a cook still running.
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Path(cook_id): Path<String>,
) -> Result<Response, ApiError> {
    let store = store(&app)?;
    match store.delete(cook_id.clone()).await? {
        Deleted::Deleted => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        Deleted::NotFound => Err(unknown_cook(&cook_id)),
        Deleted::Running => Err(ApiError::new(
            StatusCode::CONFLICT,
            "cook_running",
            "this cook is still running; it can be forgotten once it has ended",
        )),
    }
}
