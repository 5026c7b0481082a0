//! Reading the cloud's JSON leniently and writing it like the apps do.
//!
//! The cloud's JSON comes from several firmware families, so an integer field may arrive as
//! `1200.0` or `"1200"`, and a float as an integer; unknown enum values are kept verbatim.
//! None of that should cost us the whole frame.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use serde_json::Value;
use std::fmt;

/// Declares a string enum of the wire that keeps values it does not know.
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The exact text used on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer
                    .deserialize_str($crate::wire::lenient::StrVisitor)
                    .map(|text| Self::from(text.as_str()))
            }
        }
    };
}

pub(crate) use wire_enum;

/// Reads a string without caring whether serde can borrow it.
pub(crate) struct StrVisitor;

impl Visitor<'_> for StrVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

/// Lenient number readers: the cloud's JSON comes from several firmware families, so an integer
/// field may arrive as `1200.0` or `"1200"`, and a float as an integer. None of that should cost
/// us the whole frame.
fn to_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// An optional integer; non-numbers become `None` rather than an error.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.as_ref().and_then(to_f64).and_then(|f| {
        // `as` saturates; a value outside i64 is nonsense we would rather clamp than reject.
        f.is_finite().then(|| f.round() as i64)
    }))
}

/// An optional float; non-numbers become `None` rather than an error.
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.as_ref().and_then(to_f64).filter(|f| f.is_finite()))
}

/// An optional bool that also accepts 0/1 and "true"/"false".
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(match value {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => n.as_f64().map(|f| f != 0.0),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// Writes a float the way the apps do: whole numbers without a fraction (`60`, not `60.0`).
pub(crate) fn compact_float<S: Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        // Exact for every whole number a temperature can be.
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => serializer.serialize_i64(*v as i64),
        Some(v) => serializer.serialize_f64(*v),
        None => serializer.serialize_none(),
    }
}

/// An optional value of any type that is `None` when it has an unexpected shape: a node a new
/// firmware fills differently costs that node only, never the frame.
pub(crate) fn loose<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Node {
        #[serde(deserialize_with = "loose")]
        inner: Option<Vec<u8>>,
        #[serde(deserialize_with = "int")]
        n: Option<i64>,
    }

    #[test]
    fn a_misshapen_node_costs_only_itself() {
        let node: Node = serde_json::from_str(r#"{"inner": "surprise", "n": "12"}"#).unwrap();
        assert_eq!(node.inner, None);
        assert_eq!(node.n, Some(12));
        let node: Node = serde_json::from_str(r#"{"inner": [1, 2]}"#).unwrap();
        assert_eq!(node.inner, Some(vec![1, 2]));
    }
}
