//! The command vocabulary every device family shares (`docs/interface.md` §3.2–3.3): the envelope
//! (size, JSON, the caller's id), value readers, food safety, error codes and the one response
//! builder. Families read their own keys from an [`Envelope`] with these readers.

mod error;
mod food;
pub mod keys;
mod plan_keys;
mod request;
mod response;
mod values;

pub use error::{CommandError, ErrorCode};
pub use food::{check_food_safety, safe_minimum_c, DANGER_ZONE_CEILING_C, DANGER_ZONE_MAX_S};
pub use plan_keys::{
    is_preset_name, parse_preset, parse_schedule, parse_when, preset_schema, read_food,
    schedule_schema, when_schema, PlanKeys, When, MAX_PRESET_NAME,
};
pub use request::{
    id_of, parse_envelope, parse_plain, retained_refusal, CallerId, Envelope, IdKey, Refusal,
    MAX_COMMAND_BYTES, MAX_ID_CHARS,
};
pub use response::{Outcome, Response};
pub use values::{
    bounded, describe, json_number, merge_mode, parse_cook, parse_display_unit, parse_food,
    parse_mode, parse_temperature, parse_timer, round2, show_duration, show_temperature, trim,
    Celsius2, Food, Temperature, MAX_TIMER_S,
};
