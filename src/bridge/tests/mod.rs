//! The bridge's tests: every rule of the contract as inputs in, outputs checked.

mod api;
mod cooks;
mod harness;
mod oven;
mod oven_rules;
mod plans;
mod presets;
mod queue;
mod robustness;
mod rules;
mod scale;

use super::*;
use crate::command::ErrorCode;
use serde_json::json;
