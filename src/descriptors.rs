//! File descriptors: the soft `RLIMIT_NOFILE` raised to the hard limit at start, and the
//! HTTP API's share of them.
//!
//! systemd starts services with a soft limit of 1,024 descriptors (and a hard limit of
//! 524,288); the soft one exists for programs that still use `select(2)`, which tokio does
//! not. Raising it is what systemd's own documentation recommends for such programs, and
//! with it a crowd of idle HTTP connections cannot take the last descriptor the cloud or the
//! broker connection needs. The HTTP API is capped well below the limit anyway
//! ([`http_connection_budget`]).

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The most connections the HTTP API keeps open, whatever the limit (a kitchen has few
/// clients; each open connection costs buffers).
pub const MAX_HTTP_CONNECTIONS: usize = 256;

/// Descriptors kept for everything but HTTP connections: the cloud and broker sockets, the
/// stream clients (their own slots), the store, the runtime's own.
const RESERVED: u64 = 128;

/// The soft limit before and after [`raise_soft_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// The soft limit found at start (`None`: unlimited).
    pub before: Option<u64>,
    /// The soft limit now.
    pub after: Option<u64>,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit.
pub fn raise_soft_limit() -> std::io::Result<Raised> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return Ok(Raised {
            before: limit.current,
            after: limit.current,
        });
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )?;
    Ok(Raised {
        before: limit.current,
        after: getrlimit(Resource::Nofile).current,
    })
}

/// Raises the limit and logs what happened: call once at start, after logging is set up.
pub fn raise_and_log() {
    match raise_soft_limit() {
        Ok(Raised { before, after }) if before != after => tracing::debug!(
            "file descriptor limit raised from {} to {}",
            shown(before),
            shown(after)
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!("cannot raise the file descriptor limit: {err}"),
    }
}

fn shown(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

/// How many HTTP connections to keep open at most under the current soft limit: half of what
/// is left after `RESERVED`, at most [`MAX_HTTP_CONNECTIONS`], at least 8.
pub fn http_connection_budget() -> usize {
    budget(getrlimit(Resource::Nofile).current)
}

fn budget(soft_limit: Option<u64>) -> usize {
    let Some(soft) = soft_limit else {
        return MAX_HTTP_CONNECTIONS;
    };
    let half = usize::try_from(soft.saturating_sub(RESERVED) / 2).unwrap_or(usize::MAX);
    half.clamp(8, MAX_HTTP_CONNECTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_leaves_room_for_everything_else() {
        assert_eq!(budget(None), MAX_HTTP_CONNECTIONS);
        assert_eq!(budget(Some(1024)), MAX_HTTP_CONNECTIONS);
        assert_eq!(budget(Some(524_288)), MAX_HTTP_CONNECTIONS);
        assert_eq!(budget(Some(384)), 128);
        assert_eq!(budget(Some(64)), 8);
    }
}
