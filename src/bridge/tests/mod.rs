//! The bridge's tests: every rule of the contract as inputs in, outputs checked.

mod api;
mod harness;
mod queue;
mod robustness;
mod rules;

use super::*;
use crate::command::ErrorCode;
use serde_json::json;
