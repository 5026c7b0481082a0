//! A user name and password in the broker URL (`mqtt://user:pass@host`), accepted by `run`
//! (`mqtt.url`) and `demo --mqtt` alike. They are taken out of the URL as soon as it is read,
//! so the URL that is logged and printed never carries the password; the password becomes an
//! ordinary secret with the same closest-source rule as `mqtt.password` (see `secrets`).

use super::secrets::{Candidate, Given, Layer, Provenance};
use super::{Config, Problem};
use crate::secret::Secret;

/// A broker URL with its credentials taken out.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlCredentials {
    /// The URL without `user:password@`.
    pub url: String,
    /// The user name, %-decoded; `None` when the URL has none (or an empty one).
    pub username: Option<String>,
    /// The password, %-decoded; `None` when the URL has none (or an empty one).
    pub password: Option<Secret>,
}

/// Splits `scheme://user:password@host…` into the URL without credentials and the
/// credentials, decoding `%40`-style escapes (a password with `@` or `:` must be written so).
/// A URL without `://` is returned as it is, for the URL check to refuse. Errors never contain
/// the credentials.
pub fn split_url_credentials(url: &str) -> Result<UrlCredentials, String> {
    let unchanged = || UrlCredentials {
        url: url.to_owned(),
        username: None,
        password: None,
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(unchanged());
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return Ok(unchanged());
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let user = percent_decode(user).map_err(|why| format!("the user name in the URL {why}"))?;
    let password = password
        .map(percent_decode)
        .transpose()
        .map_err(|why| format!("the password in the URL {why}"))?;
    Ok(UrlCredentials {
        url: format!("{scheme}://{host}{tail}"),
        username: Some(user).filter(|u| !u.is_empty()),
        password: password.filter(|p| !p.is_empty()).map(Secret::new),
    })
}

/// `p%40ss` → `p@ss`.
fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'%' {
            out.push(byte);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or("has a % that is not followed by two hex digits (write % as %25)")?;
        out.push(hex);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once %-escapes are decoded")
}

/// Takes the credentials out of `mqtt.url` while loading. The user name replaces
/// `mqtt.username` when the URL is the closer source (an error when both are in one source and
/// differ); the password is returned as a candidate for `mqtt.password`.
pub(super) fn take_from_mqtt_url(
    config: &mut Config,
    provenance: &dyn Fn(&str) -> Option<Provenance>,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<String>,
) -> Option<Candidate> {
    let split = match split_url_credentials(&config.mqtt.url) {
        Ok(split) => split,
        Err(message) => {
            problems.push(Problem::new("mqtt.url", message));
            return None;
        }
    };
    config.mqtt.url = split.url;
    let url_provenance = provenance("mqtt.url").unwrap_or(Provenance {
        layer: Layer::File,
        described: "the configuration".to_owned(),
    });
    if let Some(user) = split.username {
        let differs = config.mqtt.username.as_ref().is_some_and(|u| *u != user);
        match provenance("mqtt.username").filter(|_| differs) {
            Some(key) if key.layer > url_provenance.layer => notes.push(format!(
                "the user name in mqtt.url from {} is ignored: mqtt.username from {} is closer \
                 and wins",
                url_provenance.described, key.described
            )),
            Some(key) if key.layer == url_provenance.layer => problems.push(
                Problem::new(
                    "mqtt.username",
                    "mqtt.username and the user name in mqtt.url differ and are set in the \
                     same place, so neither wins; give only one",
                )
                .with_origin(key.described),
            ),
            overridden => {
                if let Some(key) = overridden {
                    notes.push(format!(
                        "mqtt.username from {} is ignored: the user name in mqtt.url from {} \
                         is closer and wins",
                        key.described, url_provenance.described
                    ));
                }
                config.mqtt.username = Some(user);
            }
        }
    }
    split.password.map(|password| Candidate {
        key: "mqtt.url".to_owned(),
        provenance: url_provenance,
        given: Given::Value(password),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_out_of_the_url() {
        let split = split_url_credentials("mqtt://ha:s3cret@homeassistant.local:1883").unwrap();
        assert_eq!(split.url, "mqtt://homeassistant.local:1883");
        assert_eq!(split.username.as_deref(), Some("ha"));
        assert_eq!(split.password.unwrap().expose(), "s3cret");

        let split = split_url_credentials("mqtts://a%40b:p%3Aw%40rd:x@[::1]:8883/").unwrap();
        assert_eq!(split.url, "mqtts://[::1]:8883/");
        assert_eq!(split.username.as_deref(), Some("a@b"));
        assert_eq!(split.password.unwrap().expose(), "p:w@rd:x");

        let split = split_url_credentials("mqtt://only-user@h").unwrap();
        assert_eq!(
            (
                split.url.as_str(),
                split.username.as_deref(),
                split.password
            ),
            ("mqtt://h", Some("only-user"), None)
        );
        for plain in ["mqtt://127.0.0.1:1883", "broker.lan", "mqtt://h/a@b"] {
            let split = split_url_credentials(plain).unwrap();
            assert_eq!(split.url, plain);
            assert_eq!((split.username, split.password), (None, None));
        }
    }

    #[test]
    fn bad_escapes_are_refused_without_echo() {
        for url in [
            "mqtt://u:p%zzsecret@h",
            "mqtt://u:secret%4@h",
            "mqtt://u:%ff%fe@h",
        ] {
            let err = split_url_credentials(url).unwrap_err();
            assert!(err.starts_with("the password in the URL"), "{err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
