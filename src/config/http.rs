//! `[http]`: the local HTTP API, metrics and web page (`docs/interface.md` §6).
//!
//! It is on by default and listens on loopback only. Listening anywhere else without a token
//! would hand the cookers (heaters) to everyone on the network, so that is a configuration
//! error naming `http.token`, not a warning.

use super::Problem;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// The systemd credential name read for the HTTP token when no other source is set.
pub const HTTP_TOKEN_CREDENTIAL: &str = "http-token";

/// `[http]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Serve the HTTP API at all.
    pub enabled: bool,
    /// `IP:port` to listen on; port 0 picks a free one.
    pub listen: String,
    /// The bearer token every endpoint but `/healthz` requires when set. After
    /// [`super::load`], this holds the token from whichever source gave it.
    pub token: Option<Secret>,
    /// A file holding the token.
    pub token_file: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:8770".to_owned(),
            token: None,
            token_file: None,
        }
    }
}

impl HttpConfig {
    /// The address to listen on. Fails only when `listen` is invalid, which [`super::load`]
    /// has already reported.
    pub fn listen_addr(&self) -> Result<SocketAddr, Problem> {
        listen_addr(&self.listen).map_err(|message| Problem::new("http.listen", message))
    }
}

/// `http.listen` as a socket address. Host names are refused: which interface a name
/// resolves to is exactly what must be unambiguous here.
fn listen_addr(listen: &str) -> Result<SocketAddr, String> {
    listen.trim().parse().map_err(|_| {
        format!(
            "{listen:?} is not an address to listen on; expected IP:port such as \
             \"127.0.0.1:8770\", \"0.0.0.0:8770\" or \"[::]:8770\""
        )
    })
}

/// True for a host name or address only this machine can reach: `localhost` (and names
/// under it) or a loopback address.
pub(super) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(is_loopback)
}

/// The shortest token accepted for a listener other machines can reach.
const MIN_TOKEN_CHARS: usize = 16;

/// The fewest different characters such a token must have (`aaaaaaaaaaaaaaaa` is long and
/// still guessed at once).
const MIN_TOKEN_DISTINCT: usize = 8;

/// True for addresses only this machine can reach.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// The rules of `[http]`, appended to `out`.
pub(super) fn problems(config: &HttpConfig, out: &mut Vec<Problem>) {
    let addr = match listen_addr(&config.listen) {
        Ok(addr) => addr,
        Err(message) => {
            out.push(Problem::new("http.listen", message));
            return;
        }
    };
    if let Some(token) = &config.token {
        // The token travels in an `Authorization` header, where only visible ASCII is safe.
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            out.push(Problem::new(
                "http.token",
                "may only contain visible ASCII characters (no spaces), as it is sent in an \
                 HTTP header",
            ));
        }
    }
    if let Some(token) = config.token.as_ref().filter(|_| config.enabled) {
        let text = token.expose();
        let distinct = text
            .chars()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let weak = text.chars().count() < MIN_TOKEN_CHARS || distinct < MIN_TOKEN_DISTINCT;
        if weak && !is_loopback(addr.ip()) {
            out.push(Problem::new(
                "http.token",
                format!(
                    "is too weak for http.listen ({addr}), which other machines can reach: use at least {MIN_TOKEN_CHARS} characters with at least {MIN_TOKEN_DISTINCT} different ones, such as the output of `openssl rand -hex 24`"
                ),
            ));
        }
    }
    if config.enabled && config.token.is_none() && !is_loopback(addr.ip()) {
        out.push(Problem::new(
            "http.token",
            format!(
                "is required because http.listen ({addr}) is reachable from other machines: \
                 anyone there could start the cookers. Set http.token or http.token_file \
                 (or the systemd credential `{HTTP_TOKEN_CREDENTIAL}`), or listen on \
                 127.0.0.1"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(listen: &str, token: Option<&str>) -> Vec<Problem> {
        let config = HttpConfig {
            listen: listen.to_owned(),
            token: token.map(Secret::new),
            ..HttpConfig::default()
        };
        let mut out = Vec::new();
        problems(&config, &mut out);
        out
    }

    #[test]
    fn loopback_needs_no_token() {
        for listen in [
            "127.0.0.1:8770",
            "127.0.0.2:1",
            "[::1]:8770",
            "[::ffff:127.0.0.1]:0",
        ] {
            assert_eq!(problems_of(listen, None), [], "{listen}");
        }
    }

    #[test]
    fn anything_else_needs_a_token() {
        for listen in ["0.0.0.0:8770", "[::]:8770", "192.168.1.5:80"] {
            let out = problems_of(listen, None);
            assert_eq!(out.len(), 1, "{listen}");
            assert_eq!(out[0].key, "http.token");
            assert!(problems_of(listen, Some("0f8e1c2b7a5d4e3f9a6b")).is_empty());
        }
    }

    #[test]
    fn off_loopback_a_token_must_be_strong() {
        for weak in [
            "a",
            "s3cret-token",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababab",
        ] {
            let out = problems_of("0.0.0.0:8770", Some(weak));
            assert_eq!(out.len(), 1, "{weak}");
            assert!(out[0].message.contains("too weak"), "{}", out[0].message);
            assert!(
                weak.len() < 4 || !out[0].message.contains(weak),
                "{}",
                out[0].message
            );
            // Loopback only: any token will do.
            assert!(problems_of("127.0.0.1:8770", Some(weak)).is_empty());
        }
        assert!(problems_of("[::]:1", Some("correct-horse-battery")).is_empty());
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST.",
            "a.localhost",
            "127.0.0.1",
            "127.8.9.1",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "broker.lan",
            "192.168.1.2",
            "::",
            "0.0.0.0",
            "localhost.example",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn bad_listen_and_token_text() {
        for bad in ["localhost:8770", "8770", "", "1.2.3.4"] {
            let out = problems_of(bad, None);
            assert_eq!(out[0].key, "http.listen", "{bad}");
        }
        let out = problems_of("127.0.0.1:1", Some("two words"));
        assert_eq!(out[0].key, "http.token");
        assert!(!out[0].message.contains("two words"));
    }
}
