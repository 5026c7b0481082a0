//! `GET /`: the web page, one file with its styles and script, and its Content Security
//! Policy.
//!
//! The policy allows exactly the page's own inline scripts, by their SHA-256 hashes computed
//! from the page as built into the binary (never copied by hand, so an edit of the script can
//! never leave a stale hash that blocks it, nor a hash that allows something else): a script
//! injected into the page by any means would not run. Styles stay inline (`'unsafe-inline'`:
//! the script sets element styles, and a style cannot run code).

use super::App;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse as _, Response};
use ring::digest::{digest, SHA256};
use std::sync::{Arc, LazyLock};

/// The web page.
const PAGE: &str = include_str!("page.html");

/// The page's policy, computed once.
static POLICY: LazyLock<String> = LazyLock::new(|| policy(PAGE));

/// `GET /`. It holds no data and needs no token: its script asks for the token when the API
/// wants one, and sends it with every call. Like `/healthz` it answers nothing to another web
/// site or, without a token, to a foreign host name.
pub(crate) async fn page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(err) = app.auth.check_site(&headers) {
        return err.into_response();
    }
    let mut response = Response::new(Body::from(PAGE));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(policy) = HeaderValue::from_str(&POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    // A token in the address bar (?access_token=) never leaves in a Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The Content Security Policy of `page`: its inline scripts by hash; nothing loads from
/// elsewhere, and no other site may frame it.
fn policy(page: &str) -> String {
    let scripts: Vec<String> = inline_scripts(page)
        .map(|script| {
            format!(
                "'sha256-{}'",
                base64(digest(&SHA256, script.as_bytes()).as_ref())
            )
        })
        .collect();
    let scripts = if scripts.is_empty() {
        "'none'".to_owned()
    } else {
        scripts.join(" ")
    };
    format!(
        "default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
}

/// The text of every inline `<script …>…</script>` in `page`, exactly as a browser hashes it.
fn inline_scripts(page: &str) -> impl Iterator<Item = &str> {
    let mut rest = page;
    std::iter::from_fn(move || {
        let start = rest.find("<script")?;
        let after_tag = start + rest[start..].find('>')? + 1;
        let end = after_tag + rest[after_tag..].find("</script>")?;
        let script = &rest[after_tag..end];
        rest = &rest[end..];
        Some(script)
    })
}

/// Standard base64 with padding (RFC 4648 §4), as CSP hashes are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        // The hash of an empty script, as browsers report it.
        assert_eq!(
            base64(digest(&SHA256, b"").as_ref()),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn every_inline_script_is_allowed_by_its_hash_and_nothing_else() {
        let page = "<p>x</p><script>alert(1)</script><script type=\"module\">\nlet a;\n</script>";
        let policy = policy(page);
        let scripts: Vec<&str> = inline_scripts(page).collect();
        assert_eq!(scripts, ["alert(1)", "\nlet a;\n"]);
        let directive = policy
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .unwrap();
        assert!(!directive.contains("unsafe-inline"), "{policy}");
        assert_eq!(directive.matches("'sha256-").count(), 2, "{policy}");
        assert!(policy.contains(&format!(
            "'sha256-{}'",
            base64(digest(&SHA256, b"alert(1)").as_ref())
        )));
        // The real page: one hash per script it has.
        let real = super::policy(PAGE);
        assert_eq!(
            real.matches("'sha256-").count(),
            inline_scripts(PAGE).count()
        );
        assert!(inline_scripts(PAGE).count() >= 1);
        assert!(super::policy("<p>no script</p>").contains("script-src 'none'"));
    }
}
