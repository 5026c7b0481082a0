//! Reading the cloud's JSON leniently and writing it like the apps do.
//!
//! The cloud's JSON comes from several firmware families, so an integer field may arrive as
//! `1200.0` or `"1200"`, and a float as an integer; unknown enum values are kept verbatim.
//! None of that should cost us the whole frame.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

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
                deserializer.deserialize_str($crate::wire::lenient::FromStrVisitor::<Self>::new())
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

/// Reads a string straight into a type built from `&str`: a known enum value allocates nothing.
pub(crate) struct FromStrVisitor<T>(PhantomData<T>);

impl<T> FromStrVisitor<T> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: for<'a> From<&'a str>> Visitor<'_> for FromStrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from(v))
    }
}

/// A field of the wire the bridge never reads. Declaring it keeps the type a map of the
/// protocol; its value is skipped while parsing (any shape, nothing allocated: a Gen 3 stage's
/// condition trees and the cooker's id strings were most of a push's parse), and only whether
/// it was there is kept. Give the field a real type when something needs to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unread;

impl<'de> Deserialize<'de> for Unread {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::IgnoredAny::deserialize(d).map(|_| Unread)
    }
}

/// A JSON scalar read leniently, as a number and as a truth value: the cloud's JSON comes
/// from several firmware families, so an integer field may arrive as `1200.0` or `"1200"`, a
/// float as an integer, a flag as `1` or `"true"`. None of that should cost us the whole frame.
/// Read straight from the parser: nothing is allocated, and an array or object in a scalar's
/// place is skipped and read as nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Scalar {
    number: Option<f64>,
    truth: Option<bool>,
}

impl Scalar {
    fn of_number(n: f64) -> Self {
        Self {
            number: Some(n),
            truth: Some(n != 0.0),
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar {
            number: Some(f64::from(u8::from(v))),
            truth: Some(v),
        })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::of_number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::of_number(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::of_number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        let truth = if v.eq_ignore_ascii_case("true") || v == "1" {
            Some(true)
        } else if v.eq_ignore_ascii_case("false") || v == "0" {
            Some(false)
        } else {
            None
        };
        Ok(Scalar {
            number: v.trim().parse().ok(),
            truth,
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::default())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::default())
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// An optional integer; non-numbers become `None` rather than an error.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(scalar(d)?.number.and_then(|f| {
        // `as` saturates; a value outside i64 is nonsense we would rather clamp than reject.
        f.is_finite().then(|| f.round() as i64)
    }))
}

/// An optional float; non-numbers become `None` rather than an error.
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(scalar(d)?.number.filter(|f| f.is_finite()))
}

/// An optional bool that also accepts 0/1 and "true"/"false".
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(scalar(d)?.truth)
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
///
/// The node is buffered as a `Value` and converted on its own. (Borrowing it as raw text and
/// parsing that instead was measured: no faster natively, and a nested `loose` node would be
/// scanned once per level.)
pub(crate) fn loose<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
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
        let node: Node = serde_json::from_str(r#"{"inner": {"deep": [1]}, "n": null}"#).unwrap();
        assert_eq!((node.inner, node.n), (None, None));
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Scalars {
        #[serde(deserialize_with = "int")]
        i: Option<i64>,
        #[serde(deserialize_with = "float")]
        f: Option<f64>,
        #[serde(deserialize_with = "boolean")]
        b: Option<bool>,
    }

    fn scalars(text: &str) -> Scalars {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn scalars_are_read_in_every_spelling_and_anything_else_is_nothing() {
        let s = scalars(r#"{"i": "1200", "f": 57, "b": "TRUE"}"#);
        assert_eq!((s.i, s.f, s.b), (Some(1200), Some(57.0), Some(true)));
        let s = scalars(r#"{"i": 1199.6, "f": " 57.5 ", "b": 0}"#);
        assert_eq!((s.i, s.f, s.b), (Some(1200), Some(57.5), Some(false)));
        let s = scalars(r#"{"i": true, "f": "warm", "b": "0"}"#);
        assert_eq!((s.i, s.f, s.b), (Some(1), None, Some(false)));
        let s = scalars(r#"{"i": [1, {"a": 2}], "f": {"x": 1}, "b": "yes"}"#);
        assert_eq!((s.i, s.f, s.b), (None, None, None));
        let s = scalars(r#"{"i": -1e300, "f": "NaN", "b": 2.5}"#);
        assert_eq!((s.i, s.b), (Some(i64::MIN), Some(true)));
        assert_eq!(s.f, None, "not finite");
        let s = scalars(r#"{"i": null, "f": null, "b": null}"#);
        assert_eq!(s, Scalars::default());
    }
}
