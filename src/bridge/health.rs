//! The bridge's health, one struct computed in one place ([`Bridge::health`]) and rendered
//! four ways: `bridge/info`, the `health_check` bridge request, the local API's `/healthz`
//! (through the daemon) and systemd's status line.
//!
//! Every fact is kept so that reading it costs nothing per device: the online count is
//! maintained as devices change (`Bridge::with_device`), not counted by a walk, so the status
//! line and `/healthz` cost the same with ten devices or ten thousand.

use super::link::CloudStatus;
use super::machine::rfc3339;
use super::Bridge;
use serde::Serialize;
use time::OffsetDateTime;

/// The bridge's health at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The cloud link.
    pub cloud: CloudStatus,
    /// The broker connection is up.
    pub broker_connected: bool,
    /// Devices known.
    pub devices: usize,
    /// Devices available (the rule of `<base>/<id>/availability`).
    pub online: usize,
    /// Cloud reconnects since the start.
    pub reconnects: u64,
    /// Why the cloud link last failed.
    pub last_error: Option<String>,
    /// The cook history: `ok`, `disabled`, `opening`, or the error (`docs/interface.md` §7). It
    /// does not make the bridge unhealthy: a broken disk degrades history only.
    pub history: String,
}

impl Health {
    /// Both links up: what `healthy` and `/healthz`'s status say.
    pub fn healthy(&self) -> bool {
        self.cloud == CloudStatus::Connected && self.broker_connected
    }

    /// `connected` or `disconnected`, as the broker is named in the health check and the
    /// status line.
    pub fn broker(&self) -> &'static str {
        if self.broker_connected {
            "connected"
        } else {
            "disconnected"
        }
    }

    /// One line for systemd's `STATUS=`.
    pub fn status_line(&self) -> String {
        format!(
            "cloud {}, broker {}, {} device(s), {} online",
            self.cloud.as_str(),
            self.broker(),
            self.devices,
            self.online
        )
    }

    /// The `data` of the `health_check` bridge request.
    pub(crate) fn check(&self, uptime_s: i64) -> HealthCheck<'_> {
        HealthCheck {
            healthy: self.healthy(),
            cloud: self.cloud,
            mqtt: self.broker(),
            devices: self.devices,
            online: self.online,
            uptime_s,
            reconnects: self.reconnects,
            last_error: self.last_error.as_deref(),
            history: &self.history,
        }
    }

    /// The payload of the retained `bridge/info`.
    pub(crate) fn info<'a>(&'a self, version: &'a str, started_at: OffsetDateTime) -> Info<'a> {
        Info {
            version,
            started_at: rfc3339(started_at),
            cloud: self.cloud,
            devices: self.devices,
            reconnects: self.reconnects,
            last_error: self.last_error.as_deref(),
            history: &self.history,
        }
    }
}

/// `bridge/info` (`docs/interface.md` §3).
#[derive(Debug, Serialize)]
pub(crate) struct Info<'a> {
    version: &'a str,
    started_at: String,
    cloud: CloudStatus,
    devices: usize,
    reconnects: u64,
    last_error: Option<&'a str>,
    history: &'a str,
}

/// The `health_check` answer's `data` (`docs/interface.md` §3).
#[derive(Debug, Serialize)]
pub(crate) struct HealthCheck<'a> {
    healthy: bool,
    cloud: CloudStatus,
    mqtt: &'static str,
    devices: usize,
    online: usize,
    uptime_s: i64,
    reconnects: u64,
    last_error: Option<&'a str>,
    history: &'a str,
}

impl Bridge {
    /// The bridge's health now; costs nothing per device.
    pub fn health(&self) -> Health {
        let online = if self.link_shown_up() {
            self.reachable
        } else {
            0
        };
        #[cfg(test)]
        {
            let shown = self.link_shown_up();
            let counted = self.devices.values().filter(|d| d.available(shown)).count();
            assert_eq!(online, counted, "the online count drifted from the devices");
        }
        Health {
            cloud: self.link.status,
            broker_connected: self.out.mqtt_connected,
            devices: self.devices.len(),
            online,
            reconnects: self.link.reconnects,
            last_error: self.link.last_error.clone(),
            history: self.history.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_health_rendered_each_way() {
        let health = Health {
            cloud: CloudStatus::Connected,
            broker_connected: false,
            devices: 3,
            online: 2,
            reconnects: 1,
            last_error: Some("reset".into()),
            history: "ok".into(),
        };
        assert!(!health.healthy());
        assert_eq!(
            health.status_line(),
            "cloud connected, broker disconnected, 3 device(s), 2 online"
        );
        assert_eq!(
            serde_json::to_value(health.check(42)).unwrap(),
            serde_json::json!({"healthy": false, "cloud": "connected", "mqtt": "disconnected",
                "devices": 3, "online": 2, "uptime_s": 42, "reconnects": 1, "last_error": "reset",
                "history": "ok"})
        );
        let started = time::macros::datetime!(2025-01-01 10:00:00.5 UTC);
        assert_eq!(
            serde_json::to_string(&health.info("1.2.3", started)).unwrap(),
            r#"{"version":"1.2.3","started_at":"2025-01-01T10:00:00Z","cloud":"connected","devices":3,"reconnects":1,"last_error":"reset","history":"ok"}"#
        );
    }
}
