//! The Precision Oven as a device family of the bridge core: each rule lives in its own module
//! (`command`, `limits`, `plan`, `publish`, `discovery`); this file only connects them.

use super::command::{self, OvenChanges, OvenEcho};
use super::discovery::{oven_config, oven_removal, OvenDiscovery};
use super::limits::OvenLimits;
use super::plan::{self, Inputs, OvenExpect, OvenMemory, OvenUpdate};
use super::publish;
use super::state::{OvenState, TemperatureMode};
use crate::appliance::family::{
    Ceilings, DiscoveryDevice, EntryLimits, Family, Plan, PlanInput, Running, StartPlan,
};
use crate::appliance::record::CurvePoint;
use crate::appliance::{CookEvent, Kind};
use crate::command::{CommandError, PlanKeys, MAX_TIMER_S};
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use crate::wire::{CloudCommand, DeviceType};
use serde_json::{Map, Value};
use std::time::Duration;

/// The Precision Oven family (`oven_v1`, `oven_v2`).
#[derive(Debug)]
pub(crate) struct Oven;

impl Family for Oven {
    type State = OvenState;
    type Changes = OvenChanges;
    type Memory = OvenMemory;
    type Update = OvenUpdate;
    type Expect = OvenExpect;
    type Echo = OvenEcho;
    type Limits = OvenLimits;

    const NOUN: &'static str = "oven";

    const KIND: Kind = Kind::Oven;

    fn limits(device_type: &DeviceType, ceilings: Ceilings) -> OvenLimits {
        OvenLimits::of(device_type, ceilings.oven_c)
    }

    fn parse(fields: &Map<String, Value>) -> Result<OvenChanges, CommandError> {
        command::parse(fields)
    }

    fn parse_key(key: &str, text: &str) -> Result<OvenChanges, CommandError> {
        command::parse_key(key, text)
    }

    fn plan_keys(changes: &OvenChanges) -> &PlanKeys {
        &changes.plan
    }

    fn with_preset(preset: OvenChanges, command: OvenChanges) -> Result<OvenChanges, CommandError> {
        OvenChanges::with_preset(preset, command)
    }

    fn changes_cook(changes: &OvenChanges) -> bool {
        changes.changes_cook()
    }

    fn cook_action(changes: &OvenChanges) -> Option<bool> {
        changes.cook
    }

    fn start_from_idle(
        changes: &OvenChanges,
        memory: &OvenMemory,
        _state: Option<&OvenState>,
        limits: &OvenLimits,
    ) -> Result<StartPlan, CommandError> {
        plan::start_from_idle(changes, memory, limits)
    }

    fn plan(input: PlanInput<'_, Self>) -> Result<Plan<Self>, CommandError> {
        plan::plan(
            input.changes,
            Inputs {
                state: input.state,
                memory: input.memory,
                limits: input.limits,
                device: input.device,
                ids: input.ids,
            },
        )
    }

    /// An oven command the cloud refuses has no fallback: every change already is a whole
    /// start, the only change a token may make.
    fn recover(
        _refused: &CloudCommand,
        _text: &str,
        _running: Running<'_, Self>,
    ) -> Option<Result<(), CommandError>> {
        None
    }

    fn confirmed(expect: &OvenExpect, state: &OvenState) -> bool {
        expect.met_by(state)
    }

    fn unmet(expect: &OvenExpect, state: Option<&OvenState>) -> String {
        expect.describe_unmet(state)
    }

    /// Every change to an oven's cook is a whole new cook, so a start given alone waits a
    /// moment for the target Home Assistant's thermostat sends right after the mode.
    fn start_settle(changes: &OvenChanges, state: &OvenState) -> Option<Duration> {
        let bare = changes.cook == Some(true) && !changes.changes_cook();
        (bare && !state.cooking).then_some(plan::START_SETTLE)
    }

    fn only_pending(changes: &OvenChanges, state: &OvenState) -> bool {
        !state.cooking
            && changes.cook.is_none()
            && changes.display_unit.is_none()
            && changes.changes_cook()
    }

    /// Twice `anova.confirm_timeout` (30 s by default): a Precision Oven 2.0 pushes about every
    /// 10 s while cooking, and a start must show in a push after the oven took it up.
    fn confirm_window(configured: Duration) -> Duration {
        configured * 2
    }

    fn remember(memory: &mut OvenMemory, update: OvenUpdate) {
        plan::remember(memory, update);
    }

    fn publishable(state: &OvenState, memory: &OvenMemory, online: bool) -> OvenState {
        publish::publishable(state, memory, online)
    }

    fn differs(a: &OvenState, b: &OvenState) -> bool {
        publish::differs(a, b)
    }

    fn reports_online(state: &OvenState) -> bool {
        state.reported_online != Some(false)
    }

    fn cooking(state: &OvenState) -> bool {
        state.cooking
    }

    fn firmware(state: &OvenState) -> Option<&str> {
        state.firmware.as_deref()
    }

    fn events(previous: &OvenState, current: &OvenState) -> Vec<CookEvent> {
        publish::cook_events(previous, current)
    }

    fn event_payload(state: &OvenState) -> Map<String, Value> {
        publish::event_payload(state)
    }

    fn curve_point(state: &OvenState) -> CurvePoint {
        publish::curve_point(state)
    }

    fn plan_of(state: &OvenState) -> Map<String, Value> {
        publish::plan_of(state)
    }

    fn cook_changed(previous: &OvenState, current: &OvenState) -> bool {
        previous.cook_id != current.cook_id
    }

    fn faulted(state: &OvenState) -> bool {
        state.stage == crate::oven::state::OvenStage::Alarm
    }

    fn limits_entry(limits: &OvenLimits) -> EntryLimits {
        EntryLimits {
            min_temperature_c: limits.min_c(TemperatureMode::Dry),
            max_temperature_c: limits.max_c(TemperatureMode::Dry),
            max_timer_s: MAX_TIMER_S,
        }
    }

    fn discovery(
        ctx: &DiscoveryContext<'_>,
        device: &DiscoveryDevice<'_>,
        limits: &OvenLimits,
    ) -> Vec<DiscoveryMessage> {
        oven_config(
            ctx,
            &OvenDiscovery {
                id: device.id,
                name: device.name,
                device_type: device.device_type,
                firmware: device.firmware,
                limits: *limits,
                presets: device.presets,
            },
        )
    }

    fn removal(ctx: &DiscoveryContext<'_>, id: &TopicId) -> Vec<DiscoveryMessage> {
        oven_removal(ctx, id)
    }
}
