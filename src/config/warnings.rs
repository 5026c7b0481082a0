//! What is allowed but risky, said once at start (`run` logs each at WARN, `check-config`
//! prints them): a broker password that would cross the network without TLS, and a secret
//! file that every user of the machine can read.
//!
//! A secret under `/run/secrets/` is left alone: that is where Docker and Podman mount a
//! container's secrets, and who may read one is decided by the file on the host (the README's
//! Compose section keeps it in a private directory), not by its mode inside the container,
//! which the container cannot change.

use super::{Config, SecretOrigin, SecretOrigins};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// Where containers find their secrets.
const CONTAINER_SECRETS: &str = "/run/secrets";

/// Every warning for `config`, whose secrets came from `secrets`.
pub(super) fn warnings(config: &Config, secrets: &SecretOrigins) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(warning) = plaintext_password(config) {
        out.push(warning);
    }
    for (key, origin) in [
        ("anova.token_file", &secrets.anova_token),
        ("mqtt.password_file", &secrets.mqtt_password),
        ("http.token_file", &secrets.http_token),
    ] {
        if let SecretOrigin::File(path) = origin {
            if let Some(mode) = readable_by_everyone(path) {
                out.push(format!(
                    "{key}: {} can be read by every user of this machine (mode {mode:04o}); \
                     make it private: chmod 600 {} (the daemon's user must still read it)",
                    path.display(),
                    path.display()
                ));
            }
        }
    }
    out
}

/// A broker password sent over plain TCP to a broker on another machine.
fn plaintext_password(config: &Config) -> Option<String> {
    let mqtt = &config.mqtt;
    mqtt.password.as_ref()?;
    let endpoint = mqtt.endpoint().ok()?;
    if endpoint.tls || super::http::is_loopback_host(&endpoint.host) {
        return None;
    }
    Some(format!(
        "mqtt.password: the broker {}:{} is reached over plain TCP (mqtt://), so the password \
         (and every message) crosses the network unencrypted; use mqtts:// with the broker's \
         TLS listener",
        endpoint.host, endpoint.port
    ))
}

/// The file's mode when any user may read it: readable by others, and every directory above
/// it open to others. `None` when it is private, cannot be checked, or is a container's
/// secret.
fn readable_by_everyone(path: &Path) -> Option<u32> {
    let path = std::fs::canonicalize(path).ok()?;
    if path.starts_with(CONTAINER_SECRETS) {
        return None;
    }
    let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o7777;
    if mode & 0o004 == 0 {
        return None;
    }
    let closed_directory = path
        .ancestors()
        .skip(1)
        .any(|dir| std::fs::metadata(dir).is_ok_and(|meta| meta.permissions().mode() & 0o001 == 0));
    (!closed_directory).then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::Permissions;

    #[test]
    fn a_secret_file_is_said_to_be_open_only_when_others_can_reach_it() {
        let dir = tempfile::tempdir().unwrap();
        // tempdir makes a 0700 directory: open it, as /etc is.
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(readable_by_everyone(&file), Some(0o644));
        std::fs::set_permissions(&file, Permissions::from_mode(0o640)).unwrap();
        assert_eq!(readable_by_everyone(&file), None);

        // A world-readable file in a private directory is private.
        let private = dir.path().join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, Permissions::from_mode(0o700)).unwrap();
        let inside = private.join("token");
        std::fs::write(&inside, "x").unwrap();
        std::fs::set_permissions(&inside, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(readable_by_everyone(&inside), None);
    }

    #[test]
    fn a_password_without_tls_is_said_only_for_another_machine() {
        let mut config = Config::default();
        config.mqtt.username = Some("u".into());
        config.mqtt.password = Some(crate::secret::Secret::new("pw"));
        for (url, warned) in [
            ("mqtt://broker.lan:1883", true),
            ("mqtt://192.168.1.2", true),
            ("mqtts://broker.lan", false),
            ("mqtt://localhost:1883", false),
            ("mqtt://127.0.0.1", false),
            ("mqtt://[::1]:1883", false),
        ] {
            config.mqtt.url = url.to_owned();
            assert_eq!(plaintext_password(&config).is_some(), warned, "{url}");
        }
        config.mqtt.password = None;
        config.mqtt.url = "mqtt://broker.lan".to_owned();
        assert_eq!(plaintext_password(&config), None);
    }
}
