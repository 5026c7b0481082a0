//! The backend of `anova2mqtt mcp`: a running daemon's HTTP API (`docs/interface.md` §6), asked
//! with the token of `ANOVA2MQTT_HTTP__TOKEN` or `--token-file`. Commands go to
//! `POST /api/v1/devices/{id}/command` marked as coming from MCP, so they take the daemon's
//! one path: validation, food safety, queue, confirmation, history.
//!
//! One HTTP/1.1 connection per call (a call is seconds of a model's time; a connect on
//! loopback is microseconds), over TLS for an `https://` URL (a daemon behind a reverse
//! proxy). Every failure is a [`Failure`] that says what to do, first of all when no daemon
//! answers.

use super::backend::{Backend, CookQuery, Failure};
use crate::http::SOURCE_HEADER;
use crate::secret::Secret;
use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How long a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a read may take.
const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a command may take: longer than the daemon's own wait for its response
/// (`2 × anova.command_timeout + anova.confirm_timeout + 5 s`, 40 s with the defaults).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// The largest answer read (the device list of a large account).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Where the daemon is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL as given, for messages.
    pub url: String,
    /// TLS (`https://`).
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `Host:` header value.
    authority: String,
    /// A path prefix (a daemon behind a reverse proxy at `/anova/`), without a trailing `/`.
    prefix: String,
}

impl Endpoint {
    /// Reads `--url`: `http://` or `https://`, a host, an optional port and path prefix.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|_| format!("--url {url:?} is not a URL such as http://127.0.0.1:8770"))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(format!(
                    "--url {url:?}: give an http:// or https:// URL, such as http://127.0.0.1:8770"
                ))
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--url {url:?} has no host"))?;
        if authority.as_str().contains('@') {
            // The URL is not quoted back: it holds a password.
            return Err(
                "--url: no user or password in the URL; the token comes from \
                 ANOVA2MQTT_HTTP__TOKEN or --token-file"
                    .to_owned(),
            );
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        if uri.query().is_some() {
            return Err(format!("--url {url:?}: no query in the URL"));
        }
        Ok(Self {
            url: url.trim().trim_end_matches('/').to_owned(),
            tls,
            host,
            port,
            authority: authority.as_str().to_owned(),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

/// A running daemon's HTTP API.
pub struct Remote {
    endpoint: Endpoint,
    token: Option<Secret>,
    tls: Option<tokio_rustls::TlsConnector>,
}

/// An answer: its status and body.
struct Answer {
    status: StatusCode,
    body: Value,
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

impl Remote {
    /// The API at `endpoint`, with `token` when the daemon requires one.
    pub fn new(endpoint: Endpoint, token: Option<Secret>) -> Result<Self, String> {
        let tls = if endpoint.tls {
            let config = crate::tls::client_config(crate::tls::public_roots(), None)
                .map_err(|e| format!("TLS: {e}"))?;
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        } else {
            None
        };
        Ok(Self {
            endpoint,
            token,
            tls,
        })
    }

    /// The URL the backend asks, for messages.
    pub fn url(&self) -> &str {
        &self.endpoint.url
    }

    fn no_daemon(&self, why: impl std::fmt::Display) -> Failure {
        Failure::gateway(
            "no_daemon",
            format!(
                "no anova2mqtt daemon answers at {} ({why}); start it (anova2mqtt run, or \
                 anova2mqtt demo to try), or give its address with --url",
                self.endpoint.url
            ),
        )
    }

    async fn connect(&self) -> Result<Box<dyn Io>, Failure> {
        let address = (self.endpoint.host.as_str(), self.endpoint.port);
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(err)) => return Err(self.no_daemon(err)),
            Err(_) => return Err(self.no_daemon("no connection within 5 s")),
        };
        let _ = tcp.set_nodelay(true);
        let Some(tls) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = rustls::pki_types::ServerName::try_from(self.endpoint.host.clone())
            .map_err(|_| self.no_daemon("the host is not a valid TLS server name"))?;
        match tls.connect(name, tcp).await {
            Ok(stream) => Ok(Box::new(stream)),
            Err(err) => Err(self.no_daemon(format!("TLS: {err}"))),
        }
    }

    /// One request; `Err` when there is no HTTP answer with a JSON body.
    async fn ask(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        wait: Duration,
    ) -> Result<Answer, Failure> {
        let exchange = async {
            let io = self.connect().await?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
                .await
                .map_err(|err| self.no_daemon(err))?;
            tokio::spawn(connection);
            let mut request = Request::builder()
                .method(method)
                .uri(format!("{}{path}", self.endpoint.prefix))
                .header(header::HOST, &self.endpoint.authority)
                .header(header::ACCEPT, "application/json")
                .header(SOURCE_HEADER, "mcp");
            if let Some(token) = &self.token {
                let value =
                    HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                        Failure::gateway("unauthorized", "the token is not valid in an HTTP header")
                    })?;
                request = request.header(header::AUTHORIZATION, value);
            }
            let request = match body {
                Some(body) => request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string())),
                None => request.body(Body::empty()),
            }
            .map_err(|err| Failure::gateway("invalid_value", format!("bad request: {err}")))?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|err| self.no_daemon(err))?;
            let status = response.status();
            let bytes = to_bytes(Body::new(response.into_body()), MAX_ANSWER_BYTES)
                .await
                .map_err(|err| self.no_daemon(err))?;
            Ok::<_, Failure>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(wait, exchange).await.map_err(|_| {
            Failure::gateway(
                "backend_timeout",
                format!("the daemon at {} did not answer in time", self.endpoint.url),
            )
        })??;
        let body = serde_json::from_slice(&bytes).map_err(|_| {
            Failure::gateway(
                "not_anova2mqtt",
                format!(
                    "{} answered {status} without JSON: is it an anova2mqtt daemon (check --url)?",
                    self.endpoint.url
                ),
            )
        })?;
        Ok(Answer { status, body })
    }

    /// The failure an error answer stands for.
    fn failure(&self, answer: &Answer, device: Option<&str>) -> Failure {
        let code = answer
            .body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("unavailable");
        let message = answer
            .body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("the daemon answered with an error");
        match (answer.status, code, device) {
            (StatusCode::NOT_FOUND, "unknown_device", Some(device)) => {
                Failure::UnknownDevice(device.to_owned())
            }
            (StatusCode::NOT_FOUND, "unknown_cook", Some(cook)) => {
                Failure::UnknownCook(cook.to_owned())
            }
            (StatusCode::UNAUTHORIZED, _, _) => Failure::gateway(
                "unauthorized",
                match self.token {
                    None => format!(
                        "the daemon at {} requires its token (http.token): set \
                         ANOVA2MQTT_HTTP__TOKEN or give --token-file",
                        self.endpoint.url
                    ),
                    Some(_) => format!(
                        "the daemon at {} refused the token: give its http.token",
                        self.endpoint.url
                    ),
                },
            ),
            _ => Failure::gateway(code, message),
        }
    }

    async fn read(&self, path: &str, device: Option<&str>) -> Result<Value, Failure> {
        let answer = self.ask(Method::GET, path, None, READ_TIMEOUT).await?;
        if answer.status == StatusCode::OK {
            Ok(answer.body)
        } else {
            Err(self.failure(&answer, device))
        }
    }
}

/// `text` as one path segment: everything but the unreserved characters percent-encoded.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Backend for Remote {
    async fn devices(&self) -> Result<Value, Failure> {
        self.read("/api/v1/devices", None).await
    }

    async fn device(&self, id: &str) -> Result<Value, Failure> {
        self.read(&format!("/api/v1/devices/{}", segment(id)), Some(id))
            .await
    }

    async fn cooks(&self, query: CookQuery) -> Result<Value, Failure> {
        let limit = query.limit.to_string();
        let parameters = [
            ("device", query.device.as_deref()),
            ("since", query.since.as_deref()),
            ("until", query.until.as_deref()),
            ("limit", Some(limit.as_str())),
            ("cursor", query.cursor.as_deref()),
        ];
        let query: Vec<String> = parameters
            .iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}={}", segment(v))))
            .collect();
        self.read(&format!("/api/v1/cooks?{}", query.join("&")), None)
            .await
    }

    async fn cook(&self, id: &str) -> Result<Value, Failure> {
        self.read(&format!("/api/v1/cooks/{}", segment(id)), Some(id))
            .await
    }

    async fn presets(&self) -> Result<Value, Failure> {
        self.read("/api/v1/presets", None).await
    }

    async fn command(&self, id: &str, command: Map<String, Value>) -> Result<Value, Failure> {
        let path = format!("/api/v1/devices/{}/command", segment(id));
        let answer = self
            .ask(
                Method::POST,
                &path,
                Some(Value::Object(command)),
                COMMAND_TIMEOUT,
            )
            .await?;
        // Every answer to a command, ok or not, is a response object; other errors (the
        // token, an unknown device, a busy daemon) have the same shape.
        let is_response = answer.body.get("status").is_some();
        let code = answer.body.pointer("/error/code").and_then(Value::as_str);
        match code {
            Some("unknown_device" | "unauthorized" | "forbidden_host" | "forbidden_origin") => {
                Err(self.failure(&answer, Some(id)))
            }
            _ if is_response => Ok(answer.body),
            _ => Err(self.failure(&answer, Some(id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let e = Endpoint::parse("http://127.0.0.1:8770").unwrap();
        assert_eq!(
            (e.tls, e.host.as_str(), e.port, e.prefix.as_str()),
            (false, "127.0.0.1", 8770, "")
        );
        let e = Endpoint::parse("https://kitchen.example/anova/").unwrap();
        assert_eq!((e.tls, e.port, e.prefix.as_str()), (true, 443, "/anova"));
        assert_eq!(e.url, "https://kitchen.example/anova");
        let e = Endpoint::parse("http://[::1]:8770").unwrap();
        assert_eq!(
            (e.host.as_str(), e.authority.as_str()),
            ("::1", "[::1]:8770")
        );
        assert!(Endpoint::parse("ws://127.0.0.1:8770").is_err());
        assert!(Endpoint::parse("127.0.0.1:8770").is_err());
        let err = Endpoint::parse("http://user:pw@host").unwrap_err();
        assert!(err.contains("ANOVA2MQTT_HTTP__TOKEN"), "{err}");
        assert!(!err.contains("pw@"), "{err}");
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("a7demo_01-x"), "a7demo_01-x");
        assert_eq!(segment("../x y"), "..%2Fx%20y");
    }
}
