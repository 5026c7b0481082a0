//! The configuration loader as the daemon runs it: a TOML file, then environment variables
//! (`ANOVA2MQTT_<SECTION>__<KEY>`). The input is the file, then after a NUL byte the
//! environment, one `NAME=value` a line (`ANOVA2MQTT_` is added to names that lack it). It
//! must never panic, and an accepted configuration must validate and render.

#![no_main]

use anova2mqtt::config::load_from;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One file per fuzzing process, rewritten for every input.
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("anova2mqtt-fuzz-{}.toml", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (file, env) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    if std::fs::write(path(), file).is_err() {
        return;
    }
    let env: Vec<(String, String)> = String::from_utf8_lossy(env)
        .lines()
        .take(16)
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            // Secret files named here would read the machine's files: keep to the config.
            let name = if name.starts_with("ANOVA2MQTT_") {
                name.to_owned()
            } else {
                format!("ANOVA2MQTT_{name}")
            };
            (name, value.to_owned())
        })
        .filter(|(name, _)| !name.to_ascii_uppercase().ends_with("_FILE"))
        .collect();
    if let Ok(loaded) = load_from(Some(path()), &[], env) {
        let _ = loaded.config.validate();
        let _ = loaded.config.validate_for_run();
        let _ = anova2mqtt::config::render_effective(&loaded);
    }
});
