//! The daemon under test: the real `anova2mqtt` binary as a child process, so that its memory
//! (RSS) and every log line it writes are what the soak measures.

use crate::report::Violations;
use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Timeouts the daemon runs with; the soak's deadlines are derived from them.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);
/// `anova.confirm_timeout`.
pub(crate) const CONFIRM_TIMEOUT: Duration = Duration::from_secs(4);
/// `anova.stale_after`.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(8);
/// `anova.watchdog`: a half-open cloud socket is dropped after this much silence.
pub(crate) const WATCHDOG: Duration = Duration::from_secs(8);
/// `limits.commands_per_minute` (per device).
pub(crate) const COMMANDS_PER_MINUTE: u32 = 60;

/// The `anova2mqtt` binary: `explicit`, or the one next to this example
/// (`target/<profile>/examples/soak` → `target/<profile>/anova2mqtt`), built first with the
/// same profile so the soak never tests a stale binary.
pub(crate) fn locate(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("cannot find the target directory")?;
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--bin", "anova2mqtt"]);
    if release {
        build.arg("--release");
    }
    println!("soak: building the daemon ({:?})", build);
    let status = build.status().context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build of the daemon failed");
    }
    let binary = profile_dir.join("anova2mqtt");
    if !binary.is_file() {
        bail!("no daemon binary at {}", binary.display());
    }
    Ok(binary)
}

/// What the log scanner counts.
#[derive(Debug, Default)]
pub(crate) struct LogStats {
    /// Lines read (stdout and stderr).
    pub(crate) lines: AtomicU64,
    /// Lines at WARN.
    pub(crate) warnings: AtomicU64,
    /// Lines at ERROR.
    pub(crate) errors: AtomicU64,
}

/// The running daemon.
pub(crate) struct Daemon {
    child: Child,
    /// Its log lines, as read.
    pub(crate) stats: Arc<LogStats>,
    /// Where every line is also written.
    pub(crate) log_path: PathBuf,
}

impl Daemon {
    /// Writes the config and starts `binary run --config …`. Every line it logs is scanned
    /// for the token and for panics, and copied to `dir/daemon.log`.
    pub(crate) fn start(
        binary: &Path,
        dir: &Path,
        cloud_url: &str,
        mqtt_url: &str,
        token: &str,
        violations: Violations,
    ) -> anyhow::Result<Self> {
        let config = dir.join("anova2mqtt.toml");
        std::fs::write(
            &config,
            format!(
                "[anova]\nurl = \"{cloud_url}\"\ntoken = \"{token}\"\naccessories = [\"APC\", \"APO\"]\n\
                 command_timeout = \"{}s\"\nconfirm_timeout = \"{}s\"\nstale_after = \"{}s\"\n\
                 watchdog = \"{}s\"\n\n\
                 [mqtt]\nurl = \"{mqtt_url}\"\nclient_id = \"anova2mqtt-soak\"\nkeepalive = \"5s\"\n\n\
                 [limits]\ncommands_per_minute = {COMMANDS_PER_MINUTE}\n\n\
                 [http]\nenabled = false\n\n\
                 [history]\npath = \"{}\"\n\n\
                 [log]\nlevel = \"info\"\nformat = \"text\"\n",
                COMMAND_TIMEOUT.as_secs(),
                CONFIRM_TIMEOUT.as_secs(),
                STALE_AFTER.as_secs(),
                WATCHDOG.as_secs(),
                dir.join("history.sqlite3").display(),
            ),
        )?;
        let mut command = Command::new(binary);
        // The daemon reads `ANOVA2MQTT_*` as configuration and refuses a key it does not know:
        // the test switches (`ANOVA2MQTT_REQUIRE_MOSQUITTO`, set by CI) would stop it at once.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ANOVA2MQTT_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stats = Arc::new(LogStats::default());
        let log_path = dir.join("daemon.log");
        let file = Arc::new(Mutex::new(std::fs::File::create(&log_path)?));
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().context("no stdout")?),
            Box::new(child.stderr.take().context("no stderr")?),
        ];
        for stream in streams {
            let stats = stats.clone();
            let file = file.clone();
            let violations = violations.clone();
            let token = token.to_owned();
            std::thread::spawn(move || scan(stream, &token, &stats, &file, &violations));
        }
        Ok(Self {
            child,
            stats,
            log_path,
        })
    }

    /// The last `n` lines it logged, to explain an unexpected exit.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Its pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident set size in KiB, `None` once it is gone.
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid())
    }

    /// `Some(status)` when it has exited.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, then waits up to `grace` for a clean exit; kills it after that.
    pub(crate) fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn scan(
    stream: Box<dyn std::io::Read + Send>,
    token: &str,
    stats: &LogStats,
    file: &Mutex<std::fs::File>,
    violations: &Violations,
) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        stats.lines.fetch_add(1, Ordering::Relaxed);
        if line.contains(" WARN ") {
            stats.warnings.fetch_add(1, Ordering::Relaxed);
        }
        if line.contains(" ERROR ") {
            stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        if line.contains(token) {
            violations.add("the token appears in a daemon log line".to_owned());
        }
        if line.contains("panicked") {
            violations.add(format!("the daemon panicked: {line}"));
        }
        if let Ok(mut file) = file.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// The resident set size (`VmRSS`) of process `pid` in KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
