//! A device's two ids, as types that cannot be mixed up: the cloud's ([`CloudId`], `cookerId`
//! on the wire for every family) and ours in topics and the API ([`TopicId`], derived from
//! it). Both were plain strings once, and passing one where the other belonged compiled.
//!
//! A leaf: it imports nothing of the crate, so the wire, the topic tree and the core can all
//! use it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The cloud's id of a device, verbatim (the wire calls it `cookerId`, ovens included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CloudId(String);

/// A device's id in topics (`<base>/<id>/…`), the API's paths and `bridge/devices`' `id`: its
/// [`CloudId`] lower-cased, every character outside `[a-z0-9_-]` replaced by `_`
/// ([`TopicId::of`]). It never changes when the user renames the device.
///
/// Text that arrives as a topic id (a topic level, a URL path) is wrapped as it is
/// ([`From<String>`]): it names a device only if one has that id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TopicId(String);

impl CloudId {
    /// The id as the cloud wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TopicId {
    /// The topic id of a device.
    pub fn of(cloud_id: &CloudId) -> Self {
        Self(topic_safe(cloud_id.as_str()))
    }

    /// The id as it appears in topics.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` lower-cased, with every character outside `[a-z0-9_-]` replaced by `_`: safe as one
/// MQTT topic level and in a Home Assistant `unique_id`.
pub fn topic_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The conversions and comparisons both ids share; none converts one id into the other.
macro_rules! text_id {
    ($id:ident) => {
        impl From<String> for $id {
            fn from(text: String) -> Self {
                Self(text)
            }
        }

        impl From<&str> for $id {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }

        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $id {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $id {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$id> for String {
            fn from(id: $id) -> String {
                id.0
            }
        }
    };
}

text_id!(CloudId);
text_id!(TopicId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids_are_sanitised_cloud_ids() {
        let of = |text: &str| TopicId::of(&CloudId::from(text));
        assert_eq!(of("anova f56-A021bded770"), "anova_f56-a021bded770");
        assert_eq!(of("A7COOKER/ID+#"), "a7cooker_id__");
        assert_eq!(of("é_x"), "__x");
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        let id: CloudId = serde_json::from_str("\"A7X\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"A7X\"");
        assert_eq!(serde_json::to_string(&TopicId::of(&id)).unwrap(), "\"a7x\"");
    }
}
