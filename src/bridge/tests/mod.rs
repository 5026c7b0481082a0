//! The bridge's tests: every rule of the contract as inputs in, outputs checked.

mod harness;
mod queue;
mod rules;

use super::*;
use serde_json::json;
