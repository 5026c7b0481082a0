//! One device's life in the core, the way quinn separates a connection from its endpoint: the
//! device owns its state, what it remembers between commands, its command queue and the
//! command it is running, and the memo of what it last published. The bridge only routes to
//! it. Generic over the device [`Family`]; every family rule is a call into the family.
//!
//! - `device.rs`: identity, last state, memory, availability, publishing, the cook's chart.
//! - `commands.rs`: the queue and each command's lifecycle.
//! - this file: the order in which the two react to each input.

mod commands;
mod context;
mod cook;
mod device;
mod history;
mod preset;

pub use commands::MAX_QUEUED;
pub(crate) use commands::{Caller, PlanAsk, Request};
pub(crate) use context::{rfc3339, Ctx, Settings};
pub use device::STATE_REFRESH;
pub(crate) use device::{DeviceEntry, StateNews};

use super::io::Ticket;
use super::outbox::Outbox;
use crate::appliance::family::Family;
use crate::appliance::record::ResumedCook;
use crate::appliance::{DeviceInfo, Firmware};
use crate::cloud::CloudError;
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use commands::{Commands, Failure};
use device::Device;
use serde_json::Value;
use std::time::Instant;

/// One device: what it is, and its commands.
#[derive(Debug)]
pub(crate) struct Machine<F: Family> {
    device: Device<F>,
    commands: Commands<F>,
}

impl<F: Family> Machine<F> {
    /// A newly listed device.
    pub(crate) fn new(info: DeviceInfo, id: TopicId, settings: &Settings) -> Self {
        Self {
            device: Device::new(info, id, settings),
            commands: Commands::default(),
        }
    }

    /// A new name or type from the device list.
    pub(crate) fn rename(&mut self, info: DeviceInfo, settings: &Settings) {
        self.device.rename(info, settings);
    }

    /// True once the device pushed a state.
    pub(crate) fn has_state(&self) -> bool {
        self.device.state.is_some()
    }

    /// See [`Device::available`].
    pub(crate) fn available(&self, link_up: bool) -> bool {
        self.device.available(link_up)
    }

    /// A state push: cook events, then confirmation (a confirmed command may change what is
    /// published: pending values), then the publish, then the next command.
    pub(crate) fn on_state(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        state: F::State,
    ) -> StateNews {
        let mut news = self.device.receive(ctx, out, state);
        self.commands.check_confirmed(&mut self.device, ctx, out);
        self.device.publish(ctx, out, false);
        self.commands.pump(&mut self.device, ctx, out);
        news.availability_changed = news.was_available != self.device.available(ctx.link_shown_up);
        news
    }

    /// What the cloud says of the device's firmware: published with the state.
    pub(crate) fn on_firmware(&mut self, ctx: Ctx<'_>, out: &mut Outbox, firmware: Firmware) {
        self.device.receive_firmware(firmware);
        self.device.publish(ctx, out, false);
    }

    /// No push for `anova.stale_after`: offline, and whatever it was asked is answered.
    pub(crate) fn on_stale(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.device.mark_stale();
        self.device.cook.lost_sight();
        self.commands
            .fail_all(&mut self.device, ctx, out, Failure::DeviceOffline);
        self.device.publish(ctx, out, false);
    }

    /// See [`Device::publish`].
    pub(crate) fn publish(&mut self, ctx: Ctx<'_>, out: &mut Outbox, force: bool) {
        self.device.publish(ctx, out, force);
    }

    /// See [`Device::discovery`].
    pub(crate) fn discovery(
        &mut self,
        ctx: &DiscoveryContext<'_>,
        sent: bool,
        presets: &[String],
    ) -> Vec<DiscoveryMessage> {
        self.device.discovery(ctx, sent, presets)
    }

    /// See [`Device::device_entry`].
    pub(crate) fn device_entry(&self, link_up: bool) -> DeviceEntry<'_> {
        self.device.device_entry(link_up)
    }

    /// See [`Device::view`].
    pub(crate) fn view(&self, link_up: bool) -> Value {
        self.device.view(link_up)
    }

    /// A cook the store says was running on this device when the daemon last stopped: the
    /// device's first state continues or closes it.
    pub(crate) fn resume(&mut self, cook: ResumedCook) {
        self.device.cook.resume(cook);
    }

    /// The running cook's id.
    pub(crate) fn current_cook(&self) -> Option<String> {
        self.device.cook.current().map(str::to_owned)
    }

    /// See [`Device::history`].
    pub(crate) fn history(&self) -> Value {
        self.device.history()
    }

    /// When this machine next needs a tick.
    pub(crate) fn next_deadline(
        &self,
        settings: &Settings,
        mqtt_connected: bool,
    ) -> Option<Instant> {
        self.commands
            .next_deadline(settings)
            .into_iter()
            .chain(self.device.refresh_deadline(mqtt_connected))
            .min()
    }

    /// Time passed: command deadlines and the periodic state refresh.
    pub(crate) fn on_tick(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.commands.expire(&mut self.device, ctx, out);
        if out.mqtt_connected {
            self.device.publish(ctx, out, false);
        }
    }

    /// The cloud link dropped: every command, running or waiting, is answered and gone.
    pub(crate) fn on_link_down(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.device.cook.lost_sight();
        self.commands
            .fail_all(&mut self.device, ctx, out, Failure::LinkLost);
    }

    /// The device left the account: its commands are answered.
    pub(crate) fn on_removed(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        self.commands
            .fail_all(&mut self.device, ctx, out, Failure::Removed);
    }

    /// A command for this device.
    pub(crate) fn on_command(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        caller: Caller,
        request: Request<'_>,
    ) -> Option<PlanAsk> {
        self.commands
            .on_command(&mut self.device, ctx, out, caller, request)
    }

    /// The temperature a plan's food-safety watch follows (a cooker's water), if reported.
    pub(crate) fn watched_temperature(&self) -> Option<f64> {
        self.device.state.as_ref().and_then(F::watched_temperature)
    }

    /// The result of a cloud command this device sent.
    pub(crate) fn on_result(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        ticket: Ticket,
        result: Result<(), CloudError>,
    ) {
        self.commands
            .on_result(&mut self.device, ctx, out, ticket, result);
    }
}
