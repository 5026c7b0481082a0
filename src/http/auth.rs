//! Who may use the API: the bearer token, and the checks that keep web pages in the user's
//! own browser away from a loopback API that has no token.
//!
//! The token is compared as SHA-256 digests with a constant-time equality, so neither its
//! content nor its length shows in response times. It is never logged: requests are logged
//! without their query, and the token only ever lives in [`Auth`].
//!
//! Without a token (loopback only), any web site the user visits could still try the API
//! through the browser. Three checks close that: a command needs `Content-Type:
//! application/json` (which a cross-site form or simple request cannot send, see
//! `rest::command`), a request whose `Origin` is another site is refused, and a `Host` that is
//! a domain name other than `localhost` is refused (DNS rebinding points an attacker's name at
//! 127.0.0.1).

use super::error::ApiError;
use crate::secret::Secret;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use ring::digest::{digest, SHA256};
use subtle::ConstantTimeEq;

/// The configured token, kept as its digest.
#[derive(Clone)]
pub(crate) struct Auth {
    /// SHA-256 of `http.token`; `None` when no token is configured.
    digest: Option<[u8; 32]>,
}

/// What a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented {
    /// The right token, or none is needed.
    Valid,
    /// No token at all (a stream client may still send it as its first message).
    Missing,
    /// A token that is not the configured one.
    Wrong,
}

impl Auth {
    /// From the configured token.
    pub(super) fn new(token: Option<&Secret>) -> Self {
        Self {
            digest: token.map(|token| sha256(token.expose())),
        }
    }

    /// True when a token is configured.
    pub(super) fn required(&self) -> bool {
        self.digest.is_some()
    }

    /// Compares `candidate` with the token in constant time.
    pub(super) fn accepts(&self, candidate: &str) -> bool {
        match &self.digest {
            None => true,
            Some(expected) => bool::from(sha256(candidate).ct_eq(expected)),
        }
    }

    /// Checks the token of a request: `Authorization: Bearer …`, else `?access_token=…`.
    pub(super) fn check(&self, headers: &HeaderMap, uri: &Uri) -> Presented {
        if !self.required() {
            return Presented::Valid;
        }
        match bearer(headers).or_else(|| query_token(uri)) {
            None => Presented::Missing,
            Some(candidate) if self.accepts(&candidate) => Presented::Valid,
            Some(_) => Presented::Wrong,
        }
    }

    /// The checks against other web sites: `Origin` must be this server, and without a token
    /// `Host` must be `localhost` or an IP address.
    pub(super) fn check_site(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if !self.required() && !host.is_empty() && !is_local_host(host) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_host",
                "without http.token this API only answers requests for localhost or an IP \
                 address; set http.token to reach it by name",
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let same = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
            if !same {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden_origin",
                    "requests from other web sites are refused",
                ));
            }
        }
        Ok(())
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The `access_token` query parameter, percent-decoded.
fn query_token(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .and_then(percent_decode)
}

/// Decodes `%XX` escapes and `+` (a space in a query); `None` for bad escapes or bytes that
/// are not UTF-8.
pub(super) fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(byte) = rest.next() {
        bytes.push(match byte {
            b'%' => {
                let high = char::from(rest.next()?).to_digit(16)?;
                let low = char::from(rest.next()?).to_digit(16)?;
                u8::try_from(high * 16 + low).ok()?
            }
            b'+' => b' ',
            other => other,
        });
    }
    String::from_utf8(bytes).ok()
}

/// `localhost`, `*.localhost`, an IPv4 address or a bracketed IPv6 address, with or without a
/// port.
fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split_once(']')
                .is_some_and(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::Ipv4Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn tokens_by_header_or_query() {
        let auth = Auth::new(Some(&Secret::new("s3cret/+=")));
        let uri: Uri = "/api/v1/devices".parse().unwrap();
        let check = |h: &[(header::HeaderName, &str)], uri: &Uri| auth.check(&headers(h), uri);
        assert_eq!(check(&[], &uri), Presented::Missing);
        assert_eq!(
            check(&[(header::AUTHORIZATION, "Bearer s3cret/+=")], &uri),
            Presented::Valid
        );
        assert_eq!(
            check(&[(header::AUTHORIZATION, "bearer  s3cret/+= ")], &uri),
            Presented::Valid
        );
        assert_eq!(
            check(&[(header::AUTHORIZATION, "Bearer s3cret")], &uri),
            Presented::Wrong
        );
        assert_eq!(
            check(&[(header::AUTHORIZATION, "Basic czNjcmV0")], &uri),
            Presented::Missing
        );
        let good: Uri = "/x?a=1&access_token=s3cret%2F%2B%3D".parse().unwrap();
        assert_eq!(check(&[], &good), Presented::Valid);
        let bad: Uri = "/x?access_token=s3cret%2".parse().unwrap();
        assert_eq!(check(&[], &bad), Presented::Missing);
        let wrong: Uri = "/x?access_token=nope".parse().unwrap();
        assert_eq!(check(&[], &wrong), Presented::Wrong);

        let open = Auth::new(None);
        assert!(!open.required());
        assert_eq!(open.check(&HeaderMap::new(), &uri), Presented::Valid);
    }

    #[test]
    fn other_sites_are_refused() {
        let open = Auth::new(None);
        let site =
            |h: &[(header::HeaderName, &str)]| open.check_site(&headers(h)).map_err(|e| e.code);
        assert_eq!(site(&[(header::HOST, "127.0.0.1:8770")]), Ok(()));
        assert_eq!(site(&[(header::HOST, "localhost:8770")]), Ok(()));
        assert_eq!(site(&[(header::HOST, "[::1]:8770")]), Ok(()));
        assert_eq!(site(&[]), Ok(()));
        assert_eq!(
            site(&[(header::HOST, "evil.example:8770")]),
            Err("forbidden_host")
        );
        assert_eq!(
            site(&[
                (header::HOST, "127.0.0.1:8770"),
                (header::ORIGIN, "http://127.0.0.1:8770")
            ]),
            Ok(())
        );
        assert_eq!(
            site(&[
                (header::HOST, "127.0.0.1:8770"),
                (header::ORIGIN, "https://evil.example")
            ]),
            Err("forbidden_origin")
        );
        // With a token, names are fine (a reverse proxy, a LAN name), other origins are not.
        let closed = Auth::new(Some(&Secret::new("t")));
        assert!(closed
            .check_site(&headers(&[(header::HOST, "kitchen.lan:8770")]))
            .is_ok());
        assert!(closed
            .check_site(&headers(&[
                (header::HOST, "kitchen.lan:8770"),
                (header::ORIGIN, "http://evil.example")
            ]))
            .is_err());
    }
}
