//! `anova2mqtt healthcheck`: asks the running daemon's `GET /healthz` and succeeds only on
//! `200`. Docker's healthcheck runs a command inside the container, and the image is
//! distroless (no curl, no shell), so the binary probes itself.
//!
//! Plain blocking I/O with timeouts: one request on loopback needs no runtime.

use crate::config::HttpConfig;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// The most of the answer read: `/healthz` is a small JSON object.
const MAX_RESPONSE: u64 = 64 * 1024;

/// Asks `/healthz` of the daemon configured by `config`. `Ok` holds the JSON body of a `200`;
/// `Err` says why not (unreachable, or the status and body of an unhealthy answer).
pub fn healthcheck(config: &HttpConfig, timeout: Duration) -> Result<String, String> {
    if !config.enabled {
        return Err("http.enabled is false: there is no /healthz to ask".to_owned());
    }
    let listen = config
        .listen_addr()
        .map_err(|problem| problem.to_string())?;
    let addr = probe_addr(listen);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|err| format!("cannot connect to http://{addr}/healthz: {err}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|err| format!("http://{addr}/healthz: {err}"))?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|err| format!("http://{addr}/healthz: {err}"))?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut response)
        .map_err(|err| format!("http://{addr}/healthz: no answer: {err}"))?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(200) => Ok(body.trim().to_owned()),
        Some(code) => Err(format!(
            "http://{addr}/healthz answered {code}: {}",
            body.trim()
        )),
        None => Err(format!("http://{addr}/healthz: not an HTTP answer")),
    }
}

/// Where to reach a server listening on `listen`: a wildcard address is reached on loopback.
fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_probed_on_loopback() {
        let probe = |s: &str| probe_addr(s.parse().unwrap()).to_string();
        assert_eq!(probe("0.0.0.0:8770"), "127.0.0.1:8770");
        assert_eq!(probe("[::]:8770"), "[::1]:8770");
        assert_eq!(probe("192.168.1.2:80"), "192.168.1.2:80");
    }

    #[test]
    fn nothing_listening_is_an_error() {
        // Bind then drop, so the port is (very likely) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = HttpConfig {
            listen: format!("127.0.0.1:{port}"),
            ..HttpConfig::default()
        };
        let err = healthcheck(&config, Duration::from_secs(2)).unwrap_err();
        assert!(err.contains("cannot connect"), "{err}");
        let disabled = HttpConfig {
            enabled: false,
            ..HttpConfig::default()
        };
        assert!(healthcheck(&disabled, Duration::from_secs(1)).is_err());
    }
}
