//! The one response builder (`docs/interface.md` §3.3): every command, API call and bridge request
//! is answered through [`Response`].

use super::error::{CommandError, ErrorCode};
use super::request::CallerId;
use serde_json::{Map, Value};

/// How a command or request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done: the command as understood (°C, seconds), whether it only stored values for the
    /// next start, and anything worth saying.
    Done {
        /// The normalised command, including the values a start used (a family's echo,
        /// serialised).
        command: Value,
        /// Stored for the next start; nothing was sent.
        pending: bool,
        /// Said in the response.
        warnings: Vec<String>,
    },
    /// A plan was made (`docs/interface.md` §8.2): the command it will run and the plan.
    Planned {
        /// The command the plan runs (°C, every value explicit).
        command: Value,
        /// The `schedule` object.
        schedule: Value,
        /// Said in the response (a replaced plan, …).
        warnings: Vec<String>,
    },
    /// A bridge request's answer.
    Data(Value),
    /// Failed.
    Failed(CommandError),
}

/// One answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The caller's id (or a generated one).
    pub id: CallerId,
    /// What happened.
    pub outcome: Outcome,
}

impl Response {
    /// A failure.
    pub fn failed(id: CallerId, error: CommandError) -> Self {
        Self {
            id,
            outcome: Outcome::Failed(error),
        }
    }

    /// The error code, `None` on success.
    pub fn code(&self) -> Option<ErrorCode> {
        match &self.outcome {
            Outcome::Failed(e) => Some(e.code),
            _ => None,
        }
    }

    /// The JSON payload: `{"id": …, "status": "ok", "command": {…}}` or
    /// `{"id": …, "status": "error", "error": {"code": …, "message": …}}`.
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        map.insert(self.id.key.as_str().to_owned(), self.id.value.clone());
        match &self.outcome {
            Outcome::Done {
                command,
                pending,
                warnings,
            } => {
                map.insert("status".into(), Value::from("ok"));
                map.insert("command".into(), command.clone());
                if *pending {
                    map.insert("pending".into(), Value::Bool(true));
                }
                if !warnings.is_empty() {
                    map.insert("warnings".into(), Value::from(warnings.clone()));
                }
            }
            Outcome::Planned {
                command,
                schedule,
                warnings,
            } => {
                map.insert("status".into(), Value::from("ok"));
                map.insert("command".into(), command.clone());
                map.insert("schedule".into(), schedule.clone());
                if !warnings.is_empty() {
                    map.insert("warnings".into(), Value::from(warnings.clone()));
                }
            }
            Outcome::Data(data) => {
                map.insert("status".into(), Value::from("ok"));
                map.insert("data".into(), data.clone());
            }
            Outcome::Failed(error) => {
                map.insert("status".into(), Value::from("error"));
                let mut body = Map::new();
                body.insert("code".into(), Value::from(error.code.as_str()));
                body.insert("message".into(), Value::from(error.message.as_str()));
                if let Some(safe) = &error.safe {
                    body.insert("safe".into(), Value::Object((**safe).clone()));
                }
                map.insert("error".into(), Value::Object(body));
            }
        }
        Value::Object(map).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::IdKey;
    use serde_json::json;

    #[test]
    fn shapes() {
        let id = CallerId {
            key: IdKey::Transaction,
            value: json!(7),
        };
        let ok = Response {
            id: id.clone(),
            outcome: Outcome::Done {
                command: json!({"cook": true}),
                pending: true,
                warnings: vec!["w".into()],
            },
        };
        assert_eq!(
            serde_json::from_str::<Value>(&ok.to_json()).unwrap(),
            json!({"transaction": 7, "status": "ok", "command": {"cook": true}, "pending": true, "warnings": ["w"]})
        );
        let err = Response::failed(id, CommandError::new(ErrorCode::Timeout, "late"));
        assert_eq!(err.code(), Some(ErrorCode::Timeout));
        assert_eq!(
            serde_json::from_str::<Value>(&err.to_json()).unwrap(),
            json!({"transaction": 7, "status": "error", "error": {"code": "timeout", "message": "late"}})
        );
    }
}
