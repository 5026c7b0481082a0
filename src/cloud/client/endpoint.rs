//! The connection URL, which carries the token, and its redacted twin for logs.
//!
//! The cloud reads `token`, `supportedAccessories` and `platform` from the query
//! (`docs/anova-protocol.md` §1.1). They are appended whatever shape the configured URL has
//! (`wss://host`, `wss://host/`, `wss://host/path?x=1`), and values are percent-encoded so an
//! odd token cannot break the query. The token may therefore appear on the wire in two forms;
//! [`Endpoint::scrub`] removes both from any text.

use crate::secret::{Secret, REDACTED};
use std::fmt;

/// The URL to connect to, with the token, plus what is safe to print.
#[derive(Clone)]
pub(crate) struct Endpoint {
    /// The full URL with the token. Only for the connect call.
    url: String,
    /// The same URL with `token=[redacted]`.
    redacted: String,
    /// The raw token, to scrub error texts.
    token: Secret,
    /// The token as it appears percent-encoded in `url`.
    encoded_token: Secret,
}

impl Endpoint {
    /// Builds the URL from the configured base and query values.
    pub(crate) fn new(base: &str, token: &Secret, accessories: &[String], platform: &str) -> Self {
        let accessories: Vec<&str> = accessories
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();
        // The cloud requires APC; an empty list would only earn us an empty device list.
        let accessories = if accessories.is_empty() {
            "APC".to_owned()
        } else {
            accessories.join(",")
        };
        let encoded_token = encode(token.expose());
        let rest = {
            let mut rest = format!("&supportedAccessories={}", encode(&accessories));
            if !platform.trim().is_empty() {
                rest.push_str("&platform=");
                rest.push_str(&encode(platform.trim()));
            }
            rest
        };
        Self {
            url: with_query(base, &format!("token={encoded_token}{rest}")),
            redacted: with_query(base, &format!("token={REDACTED}{rest}")),
            token: token.clone(),
            encoded_token: Secret::new(encoded_token),
        }
    }

    /// The URL with the token. Never log it.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The URL with `token=[redacted]`, for logs.
    pub(crate) fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Whether the URL asks for TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss://"))
    }

    /// Removes the token, raw or percent-encoded, from a text (library errors may echo the
    /// URL).
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.encoded_token.scrub(&self.token.scrub(text))
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// Appends `query` to `base`: adds the `/` path a bare authority lacks, then `?` or `&` as
/// the existing query requires. A fragment (meaningless for WebSockets) is dropped.
fn with_query(base: &str, query: &str) -> String {
    let base = base.trim();
    let base = base.split_once('#').map_or(base, |(before, _)| before);
    let mut url = base.to_owned();
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[after_scheme..]
        .find(['/', '?'])
        .map_or(base.len(), |i| after_scheme + i);
    if !base[authority_end..].starts_with('/') {
        url.insert(authority_end, '/');
    }
    match url.find('?') {
        None => url.push('?'),
        Some(_) if url.ends_with('?') || url.ends_with('&') => {}
        Some(_) => url.push('&'),
    }
    url.push_str(query);
    url
}

/// Percent-encodes a query value, keeping unreserved characters and the comma of the
/// accessories list.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b',') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(base: &str) -> Endpoint {
        Endpoint::new(
            base,
            &Secret::new("anova-abc.DEF_1"),
            &["APC".to_owned()],
            "android",
        )
    }

    #[test]
    fn appends_the_query_to_every_url_shape() {
        let q = "token=anova-abc.DEF_1&supportedAccessories=APC&platform=android";
        for (base, expected) in [
            (
                "wss://devices.anovaculinary.io",
                format!("wss://devices.anovaculinary.io/?{q}"),
            ),
            (
                "wss://devices.anovaculinary.io/",
                format!("wss://devices.anovaculinary.io/?{q}"),
            ),
            (
                "ws://127.0.0.1:8080/ws",
                format!("ws://127.0.0.1:8080/ws?{q}"),
            ),
            (
                "ws://127.0.0.1:8080?x=1",
                format!("ws://127.0.0.1:8080/?x=1&{q}"),
            ),
            ("ws://h/p?x=1&", format!("ws://h/p?x=1&{q}")),
            ("ws://h/p?", format!("ws://h/p?{q}")),
            ("ws://h/p#frag", format!("ws://h/p?{q}")),
        ] {
            assert_eq!(endpoint(base).url(), expected, "{base}");
        }
    }

    #[test]
    fn redacted_form_hides_the_token() {
        let e = endpoint("wss://devices.anovaculinary.io");
        assert_eq!(
            e.redacted(),
            "wss://devices.anovaculinary.io/?token=[redacted]&supportedAccessories=APC&platform=android"
        );
        assert_eq!(format!("{e:?}"), e.redacted());
        assert!(e.is_tls());
        assert!(!endpoint("ws://x").is_tls());
    }

    #[test]
    fn odd_tokens_are_encoded_and_scrubbed_in_both_forms() {
        let e = Endpoint::new(
            "ws://h",
            &Secret::new("a b&c"),
            &["APC".to_owned(), " APO ".to_owned()],
            "",
        );
        assert_eq!(
            e.url(),
            "ws://h/?token=a%20b%26c&supportedAccessories=APC,APO"
        );
        assert_eq!(
            e.scrub("failed: ws://h/?token=a%20b%26c and a b&c"),
            "failed: ws://h/?token=[redacted] and [redacted]"
        );
    }

    #[test]
    fn empty_accessories_fall_back_to_apc() {
        let e = Endpoint::new("ws://h", &Secret::new("t"), &[], "ios");
        assert_eq!(
            e.url(),
            "ws://h/?token=t&supportedAccessories=APC&platform=ios"
        );
    }
}
