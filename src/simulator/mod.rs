//! A faithful simulator of the Anova cloud WebSocket (`wss://devices.anovaculinary.io`).
//!
//! It is a product feature (`anova2mqtt simulate` runs it alone, `anova2mqtt demo` embeds it
//! with two cookers and an oven) and what our integration tests run against. It speaks the real
//! protocol on `ws://ADDR`. It is an independent oracle: it shares no code with the product's
//! protocol and model modules; its own wire layer builds every frame key for key and JSON type
//! for JSON type as the real captures, and parses what clients send.
//!
//! What it does (`docs/anova-protocol.md` §1, §2, §6, `docs/anova-oven.md`; \[LIVE] observed,
//! \[INF] our inference):
//! - **Connect.** `ws://host:port?token=…` and `ws://host:port/?token=…`, empty query segments
//!   tolerated, `supportedAccessories` (comma list; missing means `APC` \[INF]), optional
//!   `platform`; `ANOVA_V2` echoed when offered; any other path gets 404 \[INF]. The configured
//!   token, or when none is configured any token starting with `anova-`. A bad token gets
//!   HTTP 401 on the upgrade or, selectable, an accepted upgrade closed at once with 1008 and no
//!   frames \[INF: both seen]. Then `EVENT_APC_WIFI_LIST` (for `APC`), `EVENT_APO_WIFI_LIST`
//!   (for `APO`), `EVENT_USER_STATE`, and one state per device of those families, offline ones
//!   included (`online:false` and a stale `updatedTimestamp`) \[LIVE].
//! - **Commands.** A `RESPONSE` echoing the top-level `requestId` after `response_delay`, then a
//!   fresh state push when the command changed something. The error texts and the "ok but
//!   nothing happens" quirks are in the `routing` table.
//! - **Pushes.** Per device every idle or cooking interval (cookers: `idle_push_interval`,
//!   `cooking_push_interval`; ovens per generation: [`OvenSettings`]), immediately on a stage
//!   change (preheat done, timer started or done, next stage), none at all while unplugged
//!   \[LIVE]. A WebSocket ping every `ping_interval`.
//! - **Cookers** (`cooker`): Gen 3 (`a6`–`a9`) and Gen 2 (`pro`, `a4`, `a5`, `honey-badger`)
//!   state machines behind one interface, over a simple water bath (`thermal`), which may be an
//!   ice bath that holds 1 °C while its ice melts and then warms towards the room.
//! - **Ovens** (`oven`): `oven_v1` and `oven_v2`, both START shapes run by one stage engine
//!   (entry, timer and exit conditions), a cavity with steam and a food probe, the quirks of
//!   dropped plans and of the wrong generation's plan.
//! - **Load** (`load`): with [`LoadSpec`], N cooking cookers pushing at a fixed rate, evenly
//!   spread, with back-pressure; [`SimulatorHandle::push_times`] reports when each push was
//!   written, for latency measurements.
//! - **Time scaling** (`clock`). Physics advance every `tick_interval` by `real elapsed × speed`
//!   simulated seconds, so a whole cook can run in a second. Every timestamp of a simulated
//!   instant is reported as `real_now − simulated time since` (recomputed at every push; exact
//!   at speed 1), so clients that compute `initial − (now − startedAtTimestamp)` see the scaled
//!   countdown; `updatedTimestamp` is the real now. Gen 2 and `oven_v1` count in simulated
//!   seconds directly.
//! - **Faults.** See [`Fault`]: TCP resets (once or periodically), half-open sockets, auth
//!   refusals, server closes with a code, garbage frames, alarms, unplugged devices, ice baths, oven
//!   doors/tanks/probes/power cycles, withheld, slowed or duplicated responses, close after each
//!   response (1005).
//!
//! Modules depend one way: `wire` (frames), `thermal`, `clock`, `config` and `load` are leaves;
//! `cooker` and `oven` model devices on them; `routing` decides answers; `world` holds devices,
//! connections and faults behind one lock; `control` (the handle) and `connection`/`server`
//! (the sockets) sit on top.
//!
//! - **Firmware.** An oven offered an update ([`SimOvenSpec::firmware_offer`]) gets
//!   `EVENT_APO_WIFI_FIRMWARE_UPDATE` after its state on every connect, as captured \[LIVE].
//!
//! Not simulated: telemetry export, `EVENT_APC_WIFI_VERSION`, installing firmware, the background
//! churn of `processedCommandIds`, rate limiting by itself (use the faults), the app-only oven
//! commands (acknowledged or refused, never applied), the oven camera's live stream.

#![warn(missing_docs, unreachable_pub)]

mod cli;
mod clock;
mod config;
mod connection;
mod control;
mod cooker;
mod handshake;
mod load;
mod oven;
mod ovens;
mod record;
mod request_line;
mod routing;
mod server;
mod testing;
mod thermal;
mod wire;
mod world;

pub use cli::SimulateArgs;
pub use config::{
    demo_cookers, demo_ovens, AuthFailureMode, ConfigError, LoadModel, LoadSpec, OvenGeneration,
    OvenSettings, SimCookerSpec, SimFirmwareOffer, SimOvenSpec, SimulatorConfig, SpecError,
    MAX_LOAD_COOKERS, MAX_SPEED,
};
pub use control::{ControlError, Fault, LoadPushes, SimulatorHandle, WaitTimeout};
pub use cooker::machine::{Alarm, CookerStage};
pub use cooker::CookerSnapshot;
pub use oven::{OvenChange, OvenMode, OvenSnapshot, WaterTank};
pub use record::{PushRecord, ReceivedCommand};
pub use server::Simulator;
pub use thermal::{AMBIENT_C, ICE_WATER_C, MAX_ICE_RATIO, STANDARD_ICE_RATIO};
pub use wire::client::{
    ApcCommand, ApcCommandName, ApoEnvelope, ClientCommand, ClientFrame, CookerRef, FrameError,
};
pub use wire::{DeviceType, RawFrame, TemperatureUnit};

use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;

/// Runs the simulator alone (`anova2mqtt simulate`) until `shutdown` completes: logs its URL,
/// one line per connection and one per command.
pub async fn serve_until(
    listen: SocketAddr,
    mut config: SimulatorConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    config.log_commands = true;
    let token_hint = if config.token.is_some() {
        "the configured token"
    } else {
        "any token starting with anova-"
    };
    let mut devices: Vec<String> = config
        .cookers
        .iter()
        .map(|c| format!("{} ({})", c.cooker_id, c.device_type))
        .collect();
    devices.extend(
        config
            .ovens
            .iter()
            .map(|o| format!("{} ({})", o.cooker_id, o.generation.device_type())),
    );
    if let Some(load) = &config.load {
        devices.push(format!(
            "load generator: {} cookers ({:?}, LOAD000001…) each pushing every {:?}",
            load.cookers, load.model, load.push_interval
        ));
    }
    let simulator = Simulator::start(listen, config)
        .await
        .with_context(|| format!("cannot start the Anova cloud simulator on {listen}"))?;
    tracing::info!(
        url = %format!("{}/?token=…&supportedAccessories=APC,APO", simulator.url()),
        token = token_hint,
        devices = %devices.join(", "),
        "Anova cloud simulator listening"
    );
    shutdown.await;
    simulator.shutdown().await;
    tracing::info!("Anova cloud simulator stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn start_refuses_an_unsupported_cooker() {
        let config = SimulatorConfig::for_tests(vec![SimCookerSpec {
            device_type: DeviceType::new("a3"),
            ..SimCookerSpec::a7("x", "old")
        }]);
        let error = Simulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .err()
            .unwrap();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    }
}
