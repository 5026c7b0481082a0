//! The WebSocket upgrade request: query parameters, token rules and the `ANOVA_V2` subprotocol
//! (`docs/anova-protocol.md` §1.1, §1.2, §1.6). Pure.

use crate::secret::Secret;
use std::fmt;

/// The subprotocol the oven app requests; echoed when offered, never required.
pub(crate) const ANOVA_V2: &str = "ANOVA_V2";

/// The prefix of every personal access token.
const PAT_PREFIX: &str = "anova-";

/// Which device families a connection asked for (`supportedAccessories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accessories {
    /// Sous-vide cookers.
    pub(crate) apc: bool,
    /// Ovens.
    pub(crate) apo: bool,
}

/// What the client put in the query string (the token stays redacted in `Debug`).
#[derive(Debug)]
pub(crate) struct ConnectRequest {
    /// `token`, percent-decoded.
    pub(crate) token: Option<Secret>,
    /// `supportedAccessories`.
    pub(crate) accessories: Accessories,
    /// `platform` (`android`, `ios`, …), for the log.
    pub(crate) platform: Option<String>,
}

impl ConnectRequest {
    /// Parses `token=…&supportedAccessories=APC,APO&platform=…`, tolerating empty segments
    /// (`&&`) and unknown parameters. A missing `supportedAccessories` is read as `APC` \[INF].
    pub(crate) fn from_query(query: Option<&str>) -> Self {
        let mut token = None;
        let mut accessories = None;
        let mut platform = None;
        for pair in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match key {
                "token" => token = Some(Secret::new(value)),
                "supportedAccessories" => {
                    let families: Vec<String> = value
                        .split(',')
                        .map(|f| f.trim().to_ascii_uppercase())
                        .filter(|f| !f.is_empty())
                        .collect();
                    accessories = Some(Accessories {
                        apc: families.iter().any(|f| f == "APC"),
                        apo: families.iter().any(|f| f == "APO"),
                    });
                }
                "platform" => platform = Some(value),
                _ => {}
            }
        }
        Self {
            token: token.filter(|t| !t.is_empty()),
            accessories: accessories.unwrap_or(Accessories {
                apc: true,
                apo: false,
            }),
            platform,
        }
    }
}

/// Why a connection was refused. The text never contains the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `token` parameter.
    NoToken,
    /// A token other than the configured one.
    WrongToken,
    /// No token is configured and this one does not start with `anova-`.
    NotAPersonalAccessToken,
    /// The `RefuseAuth` fault is on.
    Injected,
    /// The request path is not `/`.
    WrongPath,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoToken => "no token in the query",
            Self::WrongToken => "token does not match the configured one",
            Self::NotAPersonalAccessToken => "token is not a personal access token (anova-…)",
            Self::Injected => "auth refusal injected",
            Self::WrongPath => "path is not /",
        })
    }
}

/// Applies the token rules: the configured token when there is one, else any token that starts
/// with `anova-`.
pub(crate) fn check_token(
    token: Option<&Secret>,
    configured: Option<&Secret>,
) -> Result<(), Refusal> {
    let token = token.ok_or(Refusal::NoToken)?;
    match configured {
        Some(expected) if expected.expose() == token.expose() => Ok(()),
        Some(_) => Err(Refusal::WrongToken),
        None if token.expose().len() > PAT_PREFIX.len()
            && token.expose().starts_with(PAT_PREFIX) =>
        {
            Ok(())
        }
        None => Err(Refusal::NotAPersonalAccessToken),
    }
}

/// Whether a `Sec-WebSocket-Protocol` header value offers `ANOVA_V2`.
pub(crate) fn offers_anova_v2(header: &str) -> bool {
    header.split(',').any(|p| p.trim() == ANOVA_V2)
}

/// Decodes `%XX` escapes and `+` (a space in query strings); malformed escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: &u8| char::from(*b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1)
                .and_then(hex)
                .zip(bytes.get(i + 2).and_then(hex)),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some((hi, lo)), _) => {
                // Two hex digits make one byte (at most 255).
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apps_query_with_an_empty_segment() {
        let request = ConnectRequest::from_query(Some(
            "token=anova-abc&&supportedAccessories=APC&platform=android",
        ));
        assert_eq!(
            request.token.as_ref().map(Secret::expose),
            Some("anova-abc")
        );
        assert_eq!(
            request.accessories,
            Accessories {
                apc: true,
                apo: false
            }
        );
        assert_eq!(request.platform.as_deref(), Some("android"));
    }

    #[test]
    fn accessory_lists() {
        let both = ConnectRequest::from_query(Some("supportedAccessories=APC,APO"));
        assert!(both.accessories.apc && both.accessories.apo);
        let ovens = ConnectRequest::from_query(Some("supportedAccessories=apo"));
        assert!(!ovens.accessories.apc && ovens.accessories.apo);
        let missing = ConnectRequest::from_query(None);
        assert!(missing.accessories.apc);
        assert!(missing.token.is_none());
    }

    #[test]
    fn token_rules() {
        let configured = Secret::new("anova-mine");
        let token = |t: &str| Some(Secret::new(t));
        assert_eq!(
            check_token(token("anova-mine").as_ref(), Some(&configured)),
            Ok(())
        );
        assert_eq!(
            check_token(token("anova-other").as_ref(), Some(&configured)),
            Err(Refusal::WrongToken)
        );
        assert_eq!(check_token(token("anova-anything").as_ref(), None), Ok(()));
        assert_eq!(
            check_token(token("eyJhbGciOi").as_ref(), None),
            Err(Refusal::NotAPersonalAccessToken)
        );
        assert_eq!(
            check_token(token("anova-").as_ref(), None),
            Err(Refusal::NotAPersonalAccessToken)
        );
        assert_eq!(check_token(None, None), Err(Refusal::NoToken));
    }

    #[test]
    fn refusals_never_print_the_token() {
        for refusal in [
            Refusal::NoToken,
            Refusal::WrongToken,
            Refusal::NotAPersonalAccessToken,
            Refusal::Injected,
            Refusal::WrongPath,
        ] {
            assert!(!refusal.to_string().contains("anova-mine"));
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("anova-a%2Bb%3D"), "anova-a+b=");
        assert_eq!(percent_decode("APC%2CAPO"), "APC,APO");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("a+b"), "a b");
    }

    #[test]
    fn subprotocol_offer() {
        assert!(offers_anova_v2("ANOVA_V2"));
        assert!(offers_anova_v2("chat, ANOVA_V2"));
        assert!(!offers_anova_v2("chat"));
    }
}
