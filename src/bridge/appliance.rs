//! The one enum that picks a device's family: every call is delegated to the family's
//! [`Machine`]. The families are listed once, in [`with_families!`].

use super::io::Ticket;
use super::machine::{Caller, Ctx, DeviceEntry, Machine, PlanAsk, Request, Settings, StateNews};
use super::outbox::Outbox;
use crate::appliance::family::Family;
use crate::appliance::record::ResumedCook;
use crate::appliance::Kind;
use crate::appliance::{DeviceInfo, Firmware};
use crate::cloud::CloudError;
use crate::cloud::DeviceState;
use crate::homeassistant::{DiscoveryContext, DiscoveryMessage};
use crate::ids::TopicId;
use crate::oven::Oven;
use crate::sous_vide::SousVide;
use serde_json::Value;
use std::time::Instant;

/// The families the core bridges, the one list of them: each family's variant of
/// [`Appliance`], its [`Kind`] and its [`Family`] type. Calls `$callback!` with the list (and
/// `$args` in brackets before it), so each use below is generated from this one line per
/// family. Adding a family to the core is a line here; the compiler then asks for its arm in
/// [`Appliance::on_state`] (a new `DeviceState` variant) and nowhere else in `bridge/`.
macro_rules! with_families {
    ($callback:ident $($args:tt)*) => {
        $callback! {
            [$($args)*]
            Cooker(SousVide) = Kind::Cooker, "A sous-vide cooker.";
            Oven(Oven) = Kind::Oven, "A Precision Oven.";
        }
    };
}

/// Declares [`Appliance`] from the list.
macro_rules! declare_appliance {
    ([] $($variant:ident($family:ty) = $kind:path, $doc:literal;)*) => {
        /// A device of any family.
        #[derive(Debug)]
        pub(crate) enum Appliance {
            $(#[doc = $doc] $variant(Box<Machine<$family>>),)*
        }

        impl Appliance {
            /// A newly listed device of the family its type names ([`Kind::DEFAULT`] when it
            /// names none).
            pub(crate) fn new(info: DeviceInfo, id: TopicId, settings: &Settings) -> Self {
                match family_of(&info) {
                    $($kind => Self::$variant(Box::new(Machine::new(info, id, settings))),)*
                }
            }

            /// The device's family.
            pub(crate) fn kind(&self) -> Kind {
                match self {
                    $(Self::$variant(_) => $kind,)*
                }
            }
        }

        /// The messages that remove a device of family `kind` from Home Assistant; for a
        /// device the bridge no longer knows, [`Kind::DEFAULT`]'s (any family's removal names
        /// every entity topic a device of that family has).
        pub(crate) fn removal(
            kind: Kind,
            ctx: &DiscoveryContext<'_>,
            id: &TopicId,
        ) -> Vec<DiscoveryMessage> {
            match kind {
                $($kind => <$family>::removal(ctx, id),)*
            }
        }
    };
}

with_families!(declare_appliance);

/// The arms of [`each!`].
macro_rules! each_arm {
    ([$appliance:expr, $m:ident, $body:expr] $($variant:ident($family:ty) = $kind:path, $doc:literal;)*) => {
        match $appliance {
            $(Appliance::$variant($m) => $body,)*
        }
    };
}

/// Runs `$body` with `$m` bound to the family's machine.
macro_rules! each {
    ($appliance:expr, $m:ident => $body:expr) => {
        with_families!(each_arm $appliance, $m, $body)
    };
}

impl Appliance {
    /// True when a device of this type belongs to this appliance's family (a device whose
    /// type changed family is made anew).
    pub(crate) fn fits(&self, info: &DeviceInfo) -> bool {
        self.kind() == family_of(info)
    }

    /// A new name or type from the device list.
    pub(crate) fn rename(&mut self, info: DeviceInfo, settings: &Settings) {
        each!(self, m => m.rename(info, settings))
    }

    /// See [`Machine::available`].
    pub(crate) fn available(&self, link_up: bool) -> bool {
        each!(self, m => m.available(link_up))
    }

    /// A state push; a state of another family than the device's is ignored.
    pub(crate) fn on_state(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        state: DeviceState,
    ) -> StateNews {
        // One arm per kind of state (the match is exhaustive, so a new family's state needs
        // its arm); a state of another family than the device's is ignored.
        let ignored = |model: &str| {
            tracing::debug!(model, "a state of another device family; ignored");
            StateNews::default()
        };
        match state {
            DeviceState::Cooker(state) => match self {
                Self::Cooker(m) => m.on_state(ctx, out, state),
                _ => ignored(&state.model),
            },
            DeviceState::Oven(state) => match self {
                Self::Oven(m) => m.on_state(ctx, out, *state),
                _ => ignored(&state.model),
            },
        }
    }

    /// See [`Machine::on_firmware`].
    pub(crate) fn on_firmware(&mut self, ctx: Ctx<'_>, out: &mut Outbox, firmware: Firmware) {
        each!(self, m => m.on_firmware(ctx, out, firmware))
    }

    /// See [`Machine::on_stale`].
    pub(crate) fn on_stale(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        each!(self, m => m.on_stale(ctx, out))
    }

    /// See [`Machine::publish`].
    pub(crate) fn publish(&mut self, ctx: Ctx<'_>, out: &mut Outbox, force: bool) {
        each!(self, m => m.publish(ctx, out, force))
    }

    /// See [`Machine::discovery`].
    pub(crate) fn discovery(
        &mut self,
        ctx: &DiscoveryContext<'_>,
        sent: bool,
        presets: &[String],
    ) -> Vec<DiscoveryMessage> {
        each!(self, m => m.discovery(ctx, sent, presets))
    }

    /// The messages that remove this device from Home Assistant.
    pub(crate) fn removal(
        &self,
        ctx: &DiscoveryContext<'_>,
        id: &TopicId,
    ) -> Vec<DiscoveryMessage> {
        removal(self.kind(), ctx, id)
    }

    /// See [`Machine::device_entry`].
    pub(crate) fn device_entry(&self, link_up: bool) -> DeviceEntry<'_> {
        each!(self, m => m.device_entry(link_up))
    }

    /// See [`Machine::view`].
    pub(crate) fn view(&self, link_up: bool) -> Value {
        each!(self, m => m.view(link_up))
    }

    /// See [`Machine::resume`].
    pub(crate) fn resume(&mut self, cook: ResumedCook) {
        each!(self, m => m.resume(cook))
    }

    /// See [`Machine::current_cook`].
    pub(crate) fn current_cook(&self) -> Option<String> {
        each!(self, m => m.current_cook())
    }

    /// See [`Machine::history`].
    pub(crate) fn history(&self) -> Value {
        each!(self, m => m.history())
    }

    /// See [`Machine::next_deadline`].
    pub(crate) fn next_deadline(
        &self,
        settings: &Settings,
        mqtt_connected: bool,
    ) -> Option<Instant> {
        each!(self, m => m.next_deadline(settings, mqtt_connected))
    }

    /// See [`Machine::on_tick`].
    pub(crate) fn on_tick(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        each!(self, m => m.on_tick(ctx, out))
    }

    /// See [`Machine::on_link_down`].
    pub(crate) fn on_link_down(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        each!(self, m => m.on_link_down(ctx, out))
    }

    /// See [`Machine::on_removed`].
    pub(crate) fn on_removed(&mut self, ctx: Ctx<'_>, out: &mut Outbox) {
        each!(self, m => m.on_removed(ctx, out))
    }

    /// See [`Machine::on_command`].
    pub(crate) fn on_command(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        caller: Caller,
        request: Request<'_>,
    ) -> Option<PlanAsk> {
        each!(self, m => m.on_command(ctx, out, caller, request))
    }

    /// See [`Machine::has_state`].
    pub(crate) fn has_state(&self) -> bool {
        each!(self, m => m.has_state())
    }

    /// See [`Machine::watched_temperature`].
    pub(crate) fn watched_temperature(&self) -> Option<f64> {
        each!(self, m => m.watched_temperature())
    }

    /// See [`Machine::on_result`].
    pub(crate) fn on_result(
        &mut self,
        ctx: Ctx<'_>,
        out: &mut Outbox,
        ticket: Ticket,
        result: Result<(), CloudError>,
    ) {
        each!(self, m => m.on_result(ctx, out, ticket, result))
    }
}

/// The family a listed device is bridged as.
fn family_of(info: &DeviceInfo) -> Kind {
    Kind::of(&info.device_type).unwrap_or(Kind::DEFAULT)
}
