//! The sous-vide cooker as a device family of the bridge core: each rule lives in its own
//! module (`command`, `limits`, `plan`, `publish`); this file only connects them.

use super::command::{self, CookerChanges};
use super::discovery::{cooker_config, cooker_removal, CookerDiscovery};
use super::limits::CookerLimits;
use super::plan::{self, CookerExpect, CookerMemory, CookerUpdate};
use super::publish;
use crate::appliance::family::{
    Ceilings, DiscoveryDevice, EntryLimits, Family, Plan, PlanInput, Running, StartPlan,
};
use crate::appliance::record::CurvePoint;
use crate::appliance::{CookEvent, Kind};
use crate::command::{CommandError, PlanKeys};
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use crate::sous_vide::state::CookerState;
use crate::wire::CloudCommand;
use crate::wire::DeviceType;
use serde_json::{Map, Value};

/// The sous-vide cooker family (`a3`–`a9`, `pro`, …).
#[derive(Debug)]
pub(crate) struct SousVide;

impl Family for SousVide {
    type State = CookerState;
    type Changes = CookerChanges;
    type Memory = CookerMemory;
    type Update = CookerUpdate;
    type Expect = CookerExpect;
    type Echo = CookerChanges;
    type Limits = CookerLimits;

    const NOUN: &'static str = "cooker";

    const KIND: Kind = Kind::Cooker;

    fn limits(device_type: &DeviceType, ceilings: Ceilings) -> CookerLimits {
        CookerLimits::of(device_type, ceilings.cooker_c)
    }

    fn parse(fields: &Map<String, Value>) -> Result<CookerChanges, CommandError> {
        command::parse(fields)
    }

    fn parse_key(key: &str, text: &str) -> Result<CookerChanges, CommandError> {
        command::parse_key(key, text)
    }

    fn plan_keys(changes: &CookerChanges) -> &PlanKeys {
        &changes.plan
    }

    fn with_preset(
        preset: CookerChanges,
        command: CookerChanges,
    ) -> Result<CookerChanges, CommandError> {
        Ok(CookerChanges::with_preset(preset, command))
    }

    fn changes_cook(changes: &CookerChanges) -> bool {
        changes.changes_cook()
    }

    fn cook_action(changes: &CookerChanges) -> Option<bool> {
        changes.cook
    }

    fn start_from_idle(
        changes: &CookerChanges,
        memory: &CookerMemory,
        state: Option<&CookerState>,
        limits: &CookerLimits,
    ) -> Result<StartPlan, CommandError> {
        plan::start_from_idle(changes, memory, state, limits)
    }

    fn check(changes: &CookerChanges, limits: &CookerLimits) -> Result<(), CommandError> {
        plan::check(changes, limits)
    }

    fn plan(input: PlanInput<'_, Self>) -> Result<Plan<Self>, CommandError> {
        plan::plan(
            input.changes,
            input.state,
            input.memory,
            input.limits,
            input.device,
        )
    }

    fn recover(
        refused: &CloudCommand,
        text: &str,
        running: Running<'_, Self>,
    ) -> Option<Result<(), CommandError>> {
        plan::recover(refused, text, running)
    }

    fn confirmed(expect: &CookerExpect, state: &CookerState) -> bool {
        expect.met_by(state)
    }

    fn unmet(expect: &CookerExpect, state: Option<&CookerState>) -> String {
        expect.describe_unmet(state)
    }

    fn remember(memory: &mut CookerMemory, update: CookerUpdate) {
        plan::remember(memory, update);
    }

    fn publishable(state: &CookerState, memory: &CookerMemory, online: bool) -> CookerState {
        publish::publishable(state, memory, online)
    }

    fn differs(a: &CookerState, b: &CookerState) -> bool {
        publish::differs(a, b)
    }

    fn reports_online(state: &CookerState) -> bool {
        state.reported_online != Some(false)
    }

    fn cooking(state: &CookerState) -> bool {
        state.cooking
    }

    fn watched_temperature(state: &CookerState) -> Option<f64> {
        state.water_temperature
    }

    fn firmware(state: &CookerState) -> Option<&str> {
        state.firmware.as_deref()
    }

    fn events(previous: &CookerState, current: &CookerState) -> Vec<CookEvent> {
        publish::cook_events(previous, current)
    }

    fn event_payload(state: &CookerState) -> Map<String, Value> {
        publish::event_payload(state)
    }

    fn curve_point(state: &CookerState) -> CurvePoint {
        // As published: the curve matches what MQTT and the page showed.
        CurvePoint {
            temperature: state
                .water_temperature
                .map(|t| publish::round_to(t, publish::WATER_STEP_C)),
            target: state.target_temperature.map(crate::command::round2),
            ..CurvePoint::default()
        }
    }

    fn plan_of(state: &CookerState) -> Map<String, Value> {
        publish::plan_of(state)
    }

    fn cook_changed(previous: &CookerState, current: &CookerState) -> bool {
        publish::cook_changed(previous, current)
    }

    fn faulted(state: &CookerState) -> bool {
        state.stage == crate::sous_vide::state::Stage::Alarm
    }

    fn limits_entry(limits: &CookerLimits) -> EntryLimits {
        EntryLimits {
            min_temperature_c: limits.model.min_temperature_c,
            max_temperature_c: limits.max_temperature_c(),
            max_timer_s: limits.model.max_timer_s,
        }
    }

    fn discovery(
        ctx: &DiscoveryContext<'_>,
        device: &DiscoveryDevice<'_>,
        limits: &CookerLimits,
    ) -> Vec<DiscoveryMessage> {
        cooker_config(
            ctx,
            &CookerDiscovery {
                id: device.id,
                name: device.name,
                device_type: device.device_type,
                firmware: device.firmware,
                min_temperature_c: limits.model.min_temperature_c,
                max_temperature_c: limits.max_temperature_c(),
                max_timer_s: limits.model.max_timer_s,
                presets: device.presets,
            },
        )
    }

    fn removal(ctx: &DiscoveryContext<'_>, id: &TopicId) -> Vec<DiscoveryMessage> {
        cooker_removal(ctx, id)
    }
}
