//! What tests and harnesses (`tests/`, the chaos soak, the attack example) need from the
//! simulator and the daemon's `demo`/`simulate` never use: a fast configuration, a token, and
//! draining the command log as a long run goes. Kept apart so the product's own API does not
//! carry them.

use super::config::{SimCookerSpec, SimulatorConfig};
use super::control::SimulatorHandle;
use super::record::ReceivedCommand;
use crate::secret::Secret;
use std::time::Duration;

impl SimulatorConfig {
    /// A configuration for tests: fast ticks (10 ms) and responses (10 ms), no noise, the
    /// given cookers and no ovens, real-time speed (set `speed` to run cooks faster).
    pub fn for_tests(cookers: Vec<SimCookerSpec>) -> Self {
        Self {
            tick_interval: Duration::from_millis(10),
            response_delay: Duration::from_millis(10),
            noise: false,
            cookers,
            ovens: Vec::new(),
            ..Self::default()
        }
    }

    /// Sets the accepted token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }
}

impl SimulatorHandle {
    /// Removes and returns the recorded commands, so a long run can check them as it goes.
    /// [`Self::commands_received`] still counts them.
    pub fn drain_commands(&self) -> Vec<ReceivedCommand> {
        self.shared.update(|w| w.commands.drain())
    }
}
