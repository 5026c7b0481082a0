//! Logging: `tracing` events to the journal, or as text or JSON lines on stderr.
//!
//! `log.format = "auto"` picks the journal only when systemd really connected our stderr to it.
//! Checking that the journal socket exists is not enough (it exists on every systemd host, so
//! an interactive run would vanish into the journal); systemd instead sets
//! `JOURNAL_STREAM=<device>:<inode>` to the identity of the stream it gave us, and we compare
//! that with what stderr actually is. A child shell may inherit the variable, but its stderr
//! is then a terminal, so the comparison fails and we write text.
//!
//! Nothing here logs configuration values, so no secret can reach a log line from this module.
//!
//! No level and no filter can make a secret appear in the log (issue 26): the libraries under
//! us write raw traffic at `trace` (tungstenite the cloud's upgrade request, token included, and
//! every frame, a stream client's `auth` message included), so every target but our own is
//! capped at `debug` whatever `log.level` or `RUST_LOG` ask ([`dependency_cap`]); and the text
//! and JSON outputs replace any secret that still shows up with `[redacted]` ([`Redacting`]).

use crate::config::{LogConfig, LogFormat};
use crate::secret::{Secret, REDACTED};
use anyhow::Context as _;
use std::io::IsTerminal as _;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, Registry};

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Structured entries to the systemd journal.
    Journald,
    /// Human-readable lines on stderr.
    Text,
    /// One JSON object per line on stderr.
    Json,
}

/// The output for `format`. `journal_stream_env` is `$JOURNAL_STREAM` and `stderr_dev_ino`
/// the device and inode of stderr; in `auto` mode they decide between journal and text.
pub fn choose_output(
    format: LogFormat,
    journal_stream_env: Option<&str>,
    stderr_dev_ino: Option<(u64, u64)>,
) -> Output {
    match format {
        LogFormat::Text => Output::Text,
        LogFormat::Json => Output::Json,
        LogFormat::Journald => Output::Journald,
        LogFormat::Auto if stderr_is_journal(journal_stream_env, stderr_dev_ino) => {
            Output::Journald
        }
        LogFormat::Auto => Output::Text,
    }
}

/// True when `$JOURNAL_STREAM` (`<device>:<inode>`, decimal) names the stream stderr is.
pub fn stderr_is_journal(
    journal_stream_env: Option<&str>,
    stderr_dev_ino: Option<(u64, u64)>,
) -> bool {
    let parsed = journal_stream_env.and_then(|value| {
        let (dev, ino) = value.trim().split_once(':')?;
        Some((dev.parse::<u64>().ok()?, ino.parse::<u64>().ok()?))
    });
    matches!((parsed, stderr_dev_ino), (Some(a), Some(b)) if a == b)
}

/// The device and inode of an open file descriptor, as `JOURNAL_STREAM` spells them.
pub fn dev_ino(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The filter: `RUST_LOG` when set and not empty, else `log.level`. An invalid filter is an
/// error naming where it came from, rather than a silently ignored directive. Levels per
/// target only (`tracing_subscriber`'s `Targets`): span filters would need `EnvFilter` and its
/// regular-expression engine, a fifth of the daemon's code, for spans the daemon never makes.
pub fn build_filter(rust_log: Option<&str>, level: &str) -> anyhow::Result<Targets> {
    let (source, directives) = match rust_log.map(str::trim) {
        Some(value) if !value.is_empty() => ("RUST_LOG", value),
        _ => ("log.level", level.trim()),
    };
    crate::config::log_filter(directives)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{source} = {directives:?} is not a valid log filter"))?;
    let mut filter = crate::config::normalize_filter(directives);
    if !filter.contains("rumqttc") {
        // rumqttc logs its own flow control ("Collision on packet id", when a publish waits
        // for the broker's acknowledgement of an earlier one) at info: a burst of discovery
        // would fill the log with it. Its warnings and errors still show.
        filter.push_str(&format!(",{QUIET_RUMQTTC}"));
    }
    if !filter.contains("rmcp") {
        // rmcp logs every MCP session's handshake and end at info; ours says what matters.
        filter.push_str(&format!(",{QUIET_RMCP}"));
    }
    filter
        .parse()
        .with_context(|| format!("{source} = {directives:?} is not a valid log filter"))
}

/// Added to every filter that does not mention rumqttc itself.
const QUIET_RUMQTTC: &str = "rumqttc::v5::state=warn";

/// Added to every filter that does not mention rmcp itself.
const QUIET_RMCP: &str = "rmcp=warn";

/// The most any target but ours may log, whatever the filter: the libraries' `trace` output is
/// raw traffic (tungstenite logs the cloud's upgrade request with the token in its URL, and
/// every frame it reads, a stream client's `auth` message included).
pub fn dependency_cap() -> Targets {
    Targets::new()
        .with_default(LevelFilter::DEBUG)
        .with_target(env!("CARGO_CRATE_NAME"), LevelFilter::TRACE)
}

/// Installs the global subscriber as `log` asks. `secrets` (the tokens and the password) are
/// replaced with `[redacted]` wherever they would appear in text or JSON output. Call once,
/// early in `main`; fails when the filter is invalid, when `format = "journald"` and the
/// journal cannot be reached, or when a subscriber is already installed.
pub fn init(log: &LogConfig, secrets: &[&Secret]) -> anyhow::Result<()> {
    let journal_stream = std::env::var("JOURNAL_STREAM").ok();
    let stderr_id = dev_ino(std::io::stderr().as_fd());
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = build_filter(rust_log.as_deref(), &log.level)?;
    let stderr = Redacting::new(secrets);
    let redacting = stderr.clone();

    let to_journal = stderr_is_journal(journal_stream.as_deref(), stderr_id);
    let mut fallback_reason = None;
    let layer: Box<dyn Layer<Registry> + Send + Sync> =
        match choose_output(log.format, journal_stream.as_deref(), stderr_id) {
            Output::Journald => match journald_layer() {
                Ok(layer) => layer,
                Err(err) if log.format == LogFormat::Journald => {
                    return Err(err).context("log.format is \"journald\"");
                }
                // stderr goes to the journal anyway, so text loses only the structure.
                Err(err) => {
                    fallback_reason = Some(format!("{err:#}"));
                    text_layer(to_journal, stderr)
                }
            },
            Output::Text => text_layer(to_journal, stderr),
            Output::Json => Box::new(tracing_subscriber::fmt::layer().json().with_writer(stderr)),
        };
    mirror_threshold(&filter);
    let (filter, handle) = reload::Layer::new(filter);
    let mirror = Mirror {
        sender: mirror_sender().clone(),
        redacting,
    };
    tracing_subscriber::registry()
        .with(layer.with_filter(filter.and(dependency_cap())))
        .with(
            mirror.with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                mirrored(meta.target(), *meta.level())
            })),
        )
        .try_init()
        .context("cannot install the log subscriber")?;
    let _ = FILTER.set(handle);
    if let Some(reason) = fallback_reason {
        tracing::warn!("cannot log to the journal ({reason}); writing text to stderr instead");
    }
    Ok(())
}

/// The installed filter, for [`set_level`].
static FILTER: OnceLock<reload::Handle<Targets, Registry>> = OnceLock::new();

/// Logs at `level` (`error` … `trace`, or a filter as `log.level` takes it) from now on: the
/// `options` request, and the configuration read again at a `restart`. `RUST_LOG` no longer
/// applies once the level is changed this way.
pub fn set_level(level: &str) -> anyhow::Result<()> {
    let filter = build_filter(None, level)?;
    let handle = FILTER.get().context("no log subscriber is installed")?;
    mirror_threshold(&filter);
    handle
        .reload(filter)
        .context("cannot change the log level")?;
    tracing::info!("log level now {level}");
    Ok(())
}

/// One log line for `<base>/bridge/logging` (zigbee2mqtt's): `{"level": …, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// `error`, `warn` or `info`.
    pub level: &'static str,
    /// The message with its fields, secrets redacted.
    pub message: String,
}

/// How many lines may wait for the broker; a slower broker loses the oldest.
const MIRROR_CAPACITY: usize = 64;

fn mirror_sender() -> &'static broadcast::Sender<LogLine> {
    static SENDER: OnceLock<broadcast::Sender<LogLine>> = OnceLock::new();
    SENDER.get_or_init(|| broadcast::channel(MIRROR_CAPACITY).0)
}

/// The log's lines at `info` and above (at the level set, if higher), for
/// `<base>/bridge/logging`. Lines logged while nobody listens are not kept.
pub fn log_lines() -> broadcast::Receiver<LogLine> {
    mirror_sender().subscribe()
}

/// The least severe level mirrored: `tracing::Level`'s order, 1 = error … 3 = info.
static MIRROR_LEVEL: AtomicU8 = AtomicU8::new(3);

fn level_rank(level: tracing::Level) -> u8 {
    match level {
        tracing::Level::ERROR => 1,
        tracing::Level::WARN => 2,
        tracing::Level::INFO => 3,
        tracing::Level::DEBUG => 4,
        tracing::Level::TRACE => 5,
    }
}

/// Mirrors at most `info`, and nothing more verbose than the filter's default level.
fn mirror_threshold(filter: &Targets) {
    let rank = match filter.default_level() {
        Some(LevelFilter::OFF) => 0,
        Some(level) => level.into_level().map_or(0, level_rank).min(3),
        None => 3,
    };
    MIRROR_LEVEL.store(rank, Ordering::Relaxed);
}

/// Whether an event goes to `bridge/logging`: ours (the libraries' lines are their own
/// business), not the broker connection's (a line about a dropped publish would publish
/// again, and again), and at most as verbose as the threshold.
fn mirrored(target: &str, level: tracing::Level) -> bool {
    let ours = target == env!("CARGO_CRATE_NAME")
        || target.starts_with(concat!(env!("CARGO_CRATE_NAME"), "::"));
    ours && !target.starts_with(concat!(env!("CARGO_CRATE_NAME"), "::mqtt"))
        && level_rank(level) <= MIRROR_LEVEL.load(Ordering::Relaxed)
}

/// The layer that hands lines to [`log_lines`].
struct Mirror {
    sender: broadcast::Sender<LogLine>,
    redacting: Redacting,
}

impl<S: tracing::Subscriber> Layer<S> for Mirror {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if self.sender.receiver_count() == 0 {
            return;
        }
        let mut line = LineVisitor::default();
        event.record(&mut line);
        let message = match self.redacting.redact(line.text.as_bytes()) {
            Some(redacted) => String::from_utf8_lossy(&redacted).into_owned(),
            None => line.text,
        };
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            _ => "info",
        };
        let _ = self.sender.send(LogLine { level, message });
    }
}

/// The message, then ` key=value` for every other field, as the text output writes them.
#[derive(Default)]
struct LineVisitor {
    text: String,
}

impl tracing::field::Visit for LineVisitor {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.text.insert_str(0, value);
        } else {
            self.text.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.text.insert_str(0, &format!("{value:?}"));
        } else {
            self.text.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

/// stderr, with every secret replaced by `[redacted]`. The formatter hands each log line over
/// in one write, so a secret is never split between two.
#[derive(Clone)]
pub struct Redacting {
    /// The secrets worth looking for: a very short one would redact ordinary words (and a
    /// short token is refused off loopback anyway).
    secrets: Arc<[String]>,
}

impl Redacting {
    /// The shortest secret looked for.
    const MIN_LEN: usize = 4;

    /// A writer that hides `secrets`.
    pub fn new(secrets: &[&Secret]) -> Self {
        let secrets: Vec<String> = secrets
            .iter()
            .map(|secret| secret.expose().to_owned())
            .filter(|secret| secret.len() >= Self::MIN_LEN)
            .collect();
        Self {
            secrets: secrets.into(),
        }
    }

    /// `line` with every secret replaced; `None` when it holds none.
    pub fn redact(&self, line: &[u8]) -> Option<Vec<u8>> {
        let text = String::from_utf8_lossy(line);
        if !self
            .secrets
            .iter()
            .any(|secret| text.contains(secret.as_str()))
        {
            return None;
        }
        let mut text = text.into_owned();
        for secret in self.secrets.iter() {
            text = text.replace(secret.as_str(), REDACTED);
        }
        Some(text.into_bytes())
    }
}

/// The writer of one log line.
pub struct RedactingWriter {
    redacting: Redacting,
}

impl std::io::Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut stderr = std::io::stderr().lock();
        match self.redacting.redact(buf) {
            Some(redacted) => stderr.write_all(&redacted)?,
            None => stderr.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            redacting: self.clone(),
        }
    }
}

/// The journal layer, with `INFO` mapped to the journal's `info` priority so that
/// `journalctl -p info` shows what `log.level = "info"` means (the crate's default maps `INFO`
/// to `notice`).
fn journald_layer() -> anyhow::Result<Box<dyn Layer<Registry> + Send + Sync>> {
    use tracing_journald::{Priority, PriorityMappings};
    let layer = tracing_journald::layer()
        .context("cannot connect to the journal")?
        .with_priority_mappings(PriorityMappings {
            info: Priority::Informational,
            debug: Priority::Debug,
            ..PriorityMappings::new()
        });
    Ok(Box::new(layer))
}

/// Text on stderr: colours only on a terminal, and no timestamp when the journal (which adds
/// its own) is reading stderr.
fn text_layer(to_journal: bool, stderr: Redacting) -> Box<dyn Layer<Registry> + Send + Sync> {
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if to_journal {
        Box::new(layer.without_time())
    } else {
        Box::new(layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_formats_win() {
        let stream = Some("8:42");
        let id = Some((8, 42));
        assert_eq!(choose_output(LogFormat::Text, stream, id), Output::Text);
        assert_eq!(choose_output(LogFormat::Json, stream, id), Output::Json);
        assert_eq!(
            choose_output(LogFormat::Journald, None, None),
            Output::Journald
        );
    }

    #[test]
    fn auto_follows_journal_stream() {
        let auto = |stream, id| choose_output(LogFormat::Auto, stream, id);
        assert_eq!(auto(Some("8:42"), Some((8, 42))), Output::Journald);
        assert_eq!(auto(Some(" 8:42\n"), Some((8, 42))), Output::Journald);
        // Inherited by a shell whose stderr is a terminal.
        assert_eq!(auto(Some("8:42"), Some((8, 43))), Output::Text);
        assert_eq!(auto(Some("9:42"), Some((8, 42))), Output::Text);
        assert_eq!(auto(None, Some((8, 42))), Output::Text);
        assert_eq!(auto(Some("garbage"), Some((8, 42))), Output::Text);
        assert_eq!(auto(Some("8:"), Some((8, 42))), Output::Text);
        assert_eq!(auto(Some("8:42"), None), Output::Text);
    }

    #[test]
    fn journal_stream_matches_the_real_descriptor() {
        let file = tempfile::tempfile().unwrap();
        let (dev, ino) = dev_ino(file.as_fd()).unwrap();
        let meta = file.metadata().unwrap();
        assert_eq!((dev, ino), (meta.dev(), meta.ino()));
        let stream = format!("{dev}:{ino}");
        assert!(stderr_is_journal(Some(&stream), dev_ino(file.as_fd())));

        let other = tempfile::tempfile().unwrap();
        assert!(!stderr_is_journal(Some(&stream), dev_ino(other.as_fd())));
    }

    #[test]
    fn rust_log_wins_over_the_config() {
        let shown = |rust_log, level| build_filter(rust_log, level).unwrap().to_string();
        let filter = shown(Some("warn,anova2mqtt=trace"), "info");
        assert!(
            filter.contains("anova2mqtt=trace") && filter.contains("warn"),
            "{filter}"
        );
        assert!(!filter.contains("info"), "{filter}");
        let filter = shown(None, "info,anova2mqtt::bridge=debug");
        assert!(filter.contains("anova2mqtt::bridge=debug"), "{filter}");
        let filter = shown(Some("  "), "debug");
        assert!(
            filter.contains(QUIET_RUMQTTC) && filter.contains("debug"),
            "{filter}"
        );
        let filter = shown(None, " info, rumqttc=warn ");
        assert!(filter.contains("rumqttc=warn"), "{filter}");
        assert!(!filter.contains(QUIET_RUMQTTC), "{filter}");
        // rumqttc's flow-control chatter is quiet unless the filter names rumqttc.
        assert!(shown(None, "info").contains(QUIET_RUMQTTC));
        assert!(shown(None, "info").contains(QUIET_RMCP));
        assert!(!shown(None, "info,rmcp=debug").contains(QUIET_RMCP));
    }

    #[test]
    fn secrets_are_redacted_from_every_line() {
        let token = Secret::new("anova-abcdef");
        let short = Secret::new("pw");
        let redacting = Redacting::new(&[&token, &short]);
        assert_eq!(
            redacting.redact(b"GET /?token=anova-abcdef&x=anova-abcdef HTTP/1.1"),
            Some(b"GET /?token=[redacted]&x=[redacted] HTTP/1.1".to_vec())
        );
        assert_eq!(redacting.redact(b"a pwd and a pw"), None);
    }

    #[test]
    fn dependencies_are_capped_below_trace_whatever_the_filter() {
        let lines = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = lines.clone();
        let writer = move || CapturedLine(sink.clone());
        let filter = build_filter(Some("trace,tungstenite=trace,rumqttc=trace"), "info").unwrap();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_filter(filter.and(dependency_cap())),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "tungstenite::handshake::client", "raw request");
            tracing::trace!(target: "rumqttc::v5::state", "raw packet");
            tracing::debug!(target: "tungstenite::protocol", "close frame");
            tracing::trace!(target: "anova2mqtt::cloud", "our own trace");
        });
        let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
        assert!(
            !text.contains("raw request") && !text.contains("raw packet"),
            "{text}"
        );
        assert!(
            text.contains("close frame") && text.contains("our own trace"),
            "{text}"
        );
    }

    struct CapturedLine(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for CapturedLine {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn invalid_filters_name_their_source() {
        let err = build_filter(Some("info,=["), "info").unwrap_err();
        assert!(format!("{err:#}").starts_with("RUST_LOG"), "{err:#}");
        let err = build_filter(None, "loud[").unwrap_err();
        assert!(format!("{err:#}").starts_with("log.level"), "{err:#}");
    }
}
