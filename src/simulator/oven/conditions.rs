//! The condition language of oven stages (`docs/anova-oven.md` §1.8, `StageV2` grammar \[APP]):
//! `{"and"|"or": {"<node path>": {"<op>": value, …}, "and"|"or": {…}}}`, evaluated against the
//! oven's live readings. One evaluator serves both generations: `oven_v1` plans are translated
//! into the same conditions (a preheat stage exits when its bulb reaches the setpoint, a timed
//! stage exits when the timer completes).

use serde_json::{Map, Value};

/// A value a condition compares against, or an oven reading.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    Number(f64),
    Bool(bool),
    Text(String),
}

impl Reading {
    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_f64().map(Self::Number),
            Value::Bool(b) => Some(Self::Bool(*b)),
            Value::String(s) => Some(Self::Text(s.clone())),
            _ => None,
        }
    }
}

/// What a condition can look at: the oven answers the node paths it knows.
pub(crate) trait Readings {
    /// The value at `path` (`nodes.temperatureBulbs.dry.current.celsius`, `nodes.timer.mode`,
    /// `userAction`, …); `None` for a path this oven does not have.
    fn reading(&self, path: &str) -> Option<Reading>;
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Exists,
}

impl Op {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "=" | "equals" => Self::Eq,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            "exists" => Self::Exists,
            _ => return None,
        })
    }
}

/// A parsed condition tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Compare {
        path: String,
        op: Op,
        value: Reading,
    },
}

/// A condition the oven cannot read (an unknown operator, a value that is not a scalar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable(pub(crate) String);

impl Condition {
    /// `{"conditions": {...}}` as stages carry it: `None` when there are no conditions at all
    /// (absent, `{}`, or an empty `and`/`or`), which the caller reads as "enter at once" or
    /// "run until stopped".
    pub(crate) fn parse_wrapper(wrapper: Option<&Value>) -> Result<Option<Self>, Unreadable> {
        match wrapper.and_then(|w| w.get("conditions")) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Self::parse_group(map, true),
            Some(other) => Err(Unreadable(format!("conditions is not an object: {other}"))),
        }
    }

    /// An object of entries; `all` says whether they combine with `and` (the top level does).
    fn parse_group(map: &Map<String, Value>, all: bool) -> Result<Option<Self>, Unreadable> {
        let mut parts = Vec::new();
        for (key, value) in map {
            let part = match (key.as_str(), value) {
                ("and", Value::Object(inner)) => Self::parse_group(inner, true)?,
                ("or", Value::Object(inner)) => Self::parse_group(inner, false)?,
                (path, Value::Object(ops)) => Some(Self::parse_comparisons(path, ops)?),
                (key, other) => return Err(Unreadable(format!("{key}: {other}"))),
            };
            parts.extend(part);
        }
        Ok(match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ if all => Some(Self::All(parts)),
            _ => Some(Self::Any(parts)),
        })
    }

    fn parse_comparisons(path: &str, ops: &Map<String, Value>) -> Result<Self, Unreadable> {
        let mut all = Vec::new();
        for (op, value) in ops {
            let op = Op::parse(op).ok_or_else(|| Unreadable(format!("operator {op:?}")))?;
            let value = match op {
                // `exists` compares nothing; keep whatever it says.
                Op::Exists => Reading::from_json(value).unwrap_or(Reading::Bool(true)),
                _ => Reading::from_json(value)
                    .ok_or_else(|| Unreadable(format!("{path}: value {value}")))?,
            };
            all.push(Self::Compare {
                path: path.to_owned(),
                op,
                value,
            });
        }
        match all.len() {
            0 => Err(Unreadable(format!("{path}: no comparison"))),
            1 => Ok(all.remove(0)),
            _ => Ok(Self::All(all)),
        }
    }

    /// `path >= value`, as the oven's own translated plans use.
    pub(crate) fn at_least(path: impl Into<String>, value: f64) -> Self {
        Self::Compare {
            path: path.into(),
            op: Op::Ge,
            value: Reading::Number(value),
        }
    }

    /// `path = value`, as `nodes.timer.mode = completed` or `userAction = true`.
    pub(crate) fn equals(path: impl Into<String>, value: Reading) -> Self {
        Self::Compare {
            path: path.into(),
            op: Op::Eq,
            value,
        }
    }

    /// Whether the oven's readings satisfy the condition. A path the oven does not have never
    /// satisfies a comparison (the stage waits, as a real oven would for a sensor it lacks).
    pub(crate) fn holds(&self, readings: &dyn Readings) -> bool {
        match self {
            Self::All(parts) => parts.iter().all(|c| c.holds(readings)),
            Self::Any(parts) => parts.iter().any(|c| c.holds(readings)),
            Self::Compare { path, op, value } => {
                let Some(actual) = readings.reading(path) else {
                    return *op == Op::Exists && *value == Reading::Bool(false);
                };
                match (op, &actual, value) {
                    (Op::Exists, _, expected) => *expected != Reading::Bool(false),
                    (Op::Eq, a, b) => a == b,
                    (op, Reading::Number(a), Reading::Number(b)) => match op {
                        Op::Lt => a < b,
                        Op::Le => a <= b,
                        Op::Gt => a > b,
                        Op::Ge => *a >= *b - 1e-9,
                        Op::Eq | Op::Exists => false,
                    },
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    struct Oven(HashMap<&'static str, Reading>);

    impl Readings for Oven {
        fn reading(&self, path: &str) -> Option<Reading> {
            self.0.get(path).cloned()
        }
    }

    fn oven(dry: f64, user_action: bool, empty: bool) -> Oven {
        Oven(HashMap::from([
            (
                "nodes.temperatureBulbs.dry.current.celsius",
                Reading::Number(dry),
            ),
            ("userAction", Reading::Bool(user_action)),
            ("nodes.cavityCamera.isEmpty", Reading::Bool(empty)),
            ("nodes.timer.mode", Reading::Text("running".into())),
        ]))
    }

    fn parse(value: Value) -> Option<Condition> {
        Condition::parse_wrapper(Some(&value)).unwrap()
    }

    #[test]
    fn preheat_entry() {
        let entry = parse(json!({"conditions": {"and": {
            "nodes.temperatureBulbs.dry.current.celsius": {">=": 200}}}}))
        .unwrap();
        assert!(!entry.holds(&oven(199.9, false, true)));
        assert!(entry.holds(&oven(200.0, false, true)));
    }

    #[test]
    fn user_action_or_food_detected() {
        let timer = parse(json!({"conditions": {"or": {
            "userAction": {"=": true},
            "nodes.cavityCamera.isEmpty": {"=": false}}}}))
        .unwrap();
        assert!(!timer.holds(&oven(20.0, false, true)));
        assert!(timer.holds(&oven(20.0, true, true)));
        assert!(timer.holds(&oven(20.0, false, false)));
    }

    #[test]
    fn empty_conditions_are_none() {
        for empty in [
            json!({"conditions": {}}),
            json!({"conditions": {"and": {}}}),
            json!({}),
        ] {
            assert_eq!(parse(empty), None);
        }
        assert_eq!(Condition::parse_wrapper(None), Ok(None));
    }

    #[test]
    fn text_equality_and_unknown_paths() {
        let done = parse(json!({"conditions": {"and": {"nodes.timer.mode": {"=": "completed"}}}}))
            .unwrap();
        assert!(!done.holds(&oven(20.0, false, true)));
        let running = Condition::equals("nodes.timer.mode", Reading::Text("running".into()));
        assert!(running.holds(&oven(20.0, false, true)));
        let probe = Condition::at_least("nodes.temperatureProbe.current.celsius", 57.0);
        assert!(!probe.holds(&oven(20.0, false, true)), "no probe reading");
    }

    #[test]
    fn unreadable_conditions() {
        for bad in [
            json!({"conditions": {"and": {"x": {"~": 1}}}}),
            json!({"conditions": {"and": {"x": {"=": [1]}}}}),
            json!({"conditions": 3}),
            json!({"conditions": {"and": {"x": 3}}}),
            json!({"conditions": {"and": {"x": {}}}}),
        ] {
            assert!(Condition::parse_wrapper(Some(&bad)).is_err(), "{bad}");
        }
    }
}
