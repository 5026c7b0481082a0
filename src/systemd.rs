//! systemd integration: readiness, status text, stopping, and an honest watchdog.
//!
//! Messages go to `$NOTIFY_SOCKET` in the `sd_notify(3)` format; the message texts come from
//! `sd-notify`'s [`NotifyState`]. Without `NOTIFY_SOCKET` (Docker, a terminal) every call is a
//! no-op, so the daemon calls these unconditionally.
//!
//! The [`Watchdog`] pings only after a liveness probe succeeds: a timer that pings on its own
//! would keep a wedged daemon alive forever, which is exactly what `WatchdogSec=` is for.

use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use tokio::time::MissedTickBehavior;

/// The messages [`Notifier::notify`] sends, re-exported so callers need no `sd-notify` import.
pub use sd_notify::NotifyState;

/// Sends notifications to the service manager, or nowhere when there is none.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    /// The socket (`NOTIFY_SOCKET`); a leading `@` is an abstract socket name.
    socket: Option<OsString>,
}

impl Notifier {
    /// The service manager named by `$NOTIFY_SOCKET`, if any.
    pub fn from_env() -> Self {
        Self {
            socket: std::env::var_os("NOTIFY_SOCKET").filter(|s| !s.is_empty()),
        }
    }

    /// A notifier for a given socket path.
    #[cfg(test)]
    pub fn to_socket(path: impl Into<OsString>) -> Self {
        Self {
            socket: Some(path.into()),
        }
    }

    /// True when notifications go somewhere.
    pub fn is_enabled(&self) -> bool {
        self.socket.is_some()
    }

    /// Sends `states` in one datagram. `Ok` without a socket.
    pub fn notify(&self, states: &[NotifyState<'_>]) -> io::Result<()> {
        let Some(socket) = &self.socket else {
            return Ok(());
        };
        let message: String = states.iter().map(|state| format!("{state}\n")).collect();
        let sender = UnixDatagram::unbound()?;
        // Never block the runtime on a full notification queue; an error is reported instead.
        sender.set_nonblocking(true)?;
        let sent = send(&sender, socket, message.as_bytes())?;
        if sent == message.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "notification truncated",
            ))
        }
    }

    /// `READY=1`: startup is complete.
    pub fn ready(&self) {
        self.notify_or_log(&[NotifyState::Ready]);
    }

    /// `STATUS=…`: one line for `systemctl status`, such as `cloud connected, broker
    /// connected, 2 devices`.
    pub fn status(&self, text: &str) {
        // The protocol is line-based; a newline would start a bogus assignment.
        let line = text.replace(['\n', '\r'], " ");
        self.notify_or_log(&[NotifyState::Status(&line)]);
    }

    /// `STOPPING=1`: shutdown has begun.
    pub fn stopping(&self) {
        self.notify_or_log(&[NotifyState::Stopping]);
    }

    /// `RELOADING=1` with `MONOTONIC_USEC` (which systemd wants with it): the service starts
    /// again in the same process (the `restart` request); its next `READY=1` ends the reload.
    /// Unlike `STOPPING=1`, systemd then does not wait for the process to exit.
    pub fn reloading(&self) {
        let mut states = vec![NotifyState::Reloading];
        states.extend(NotifyState::monotonic_usec_now().ok());
        self.notify_or_log(&states);
    }

    /// `WATCHDOG=1`: the service is alive. Prefer [`Watchdog`], which checks that first.
    pub fn watchdog_ping(&self) {
        self.notify_or_log(&[NotifyState::Watchdog]);
    }

    /// A notification that cannot be sent must not stop the daemon; systemd will act on the
    /// missing message (a start timeout, a watchdog restart) and the log says why.
    fn notify_or_log(&self, states: &[NotifyState<'_>]) {
        if let Err(err) = self.notify(states) {
            tracing::warn!("cannot notify systemd: {err}");
        }
    }
}

/// Sends to a path, or to an abstract socket for names starting with `@`.
fn send(sender: &UnixDatagram, socket: &OsString, message: &[u8]) -> io::Result<usize> {
    use std::os::unix::ffi::OsStrExt as _;
    match socket.as_bytes().strip_prefix(b"@") {
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sender.send_to_addr(message, &address)
        }
        #[cfg(not(target_os = "linux"))]
        Some(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "abstract notification sockets exist only on Linux",
        )),
        None => sender.send_to(message, socket),
    }
}

/// `READY=1` to `$NOTIFY_SOCKET`, if set.
pub fn ready() {
    Notifier::from_env().ready();
}

/// `STATUS=<text>` to `$NOTIFY_SOCKET`, if set.
pub fn status(text: &str) {
    Notifier::from_env().status(text);
}

/// `STOPPING=1` to `$NOTIFY_SOCKET`, if set.
pub fn stopping() {
    Notifier::from_env().stopping();
}

/// `WATCHDOG=1` to `$NOTIFY_SOCKET`, if set. Prefer [`Watchdog`].
pub fn watchdog_ping() {
    Notifier::from_env().watchdog_ping();
}

/// The watchdog timeout systemd expects us to beat (`WatchdogSec=`), when it is enabled for
/// this process.
pub fn watchdog_interval() -> Option<Duration> {
    watchdog_interval_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// [`watchdog_interval`] from the variables' values: `WATCHDOG_USEC` in microseconds, ignored
/// when `WATCHDOG_PID` names another process (a child that inherited the environment).
pub fn watchdog_interval_from(
    usec: Option<&str>,
    pid: Option<&str>,
    own_pid: u32,
) -> Option<Duration> {
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok()? != own_pid {
            return None;
        }
    }
    let usec = usec?.trim().parse::<u64>().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// Sends `WATCHDOG=1` at half the watchdog interval, but only while a liveness probe answers.
#[derive(Debug, Clone)]
pub struct Watchdog {
    /// Where pings go.
    notifier: Notifier,
    /// Time between probes; half of systemd's interval, so one slow probe is not fatal.
    period: Duration,
}

impl Watchdog {
    /// The watchdog systemd asked for, or `None` when it watches nothing (no `WatchdogSec=`,
    /// or no notification socket).
    pub fn from_env() -> Option<Self> {
        let notifier = Notifier::from_env();
        if !notifier.is_enabled() {
            return None;
        }
        Some(Self::new(notifier, watchdog_interval()?))
    }

    /// A watchdog that must be pinged within `interval`.
    pub fn new(notifier: Notifier, interval: Duration) -> Self {
        Self {
            notifier,
            period: interval / 2,
        }
    }

    /// How often the probe runs.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Runs until `shutdown` completes. Every period it awaits `probe()`; `true` within the
    /// period sends `WATCHDOG=1`, while `false` or no answer sends nothing, so systemd restarts
    /// the service if the daemon stays stuck for the whole interval. Make the probe a round
    /// trip through the loop that does the work (for example a oneshot answered by the main
    /// loop), not a check of a flag that a stuck loop would leave set.
    pub async fn run<P, F>(self, mut probe: P, shutdown: impl Future<Output = ()>)
    where
        P: FnMut() -> F,
        F: Future<Output = bool>,
    {
        let mut ticker = tokio::time::interval(self.period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        let mut was_alive = true;
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                _ = ticker.tick() => {}
            }
            let alive = tokio::select! {
                biased;
                () = &mut shutdown => return,
                answer = tokio::time::timeout(self.period, probe()) => answer.unwrap_or(false),
            };
            if alive {
                self.notifier.watchdog_ping();
                if !was_alive {
                    tracing::info!("watchdog: the main loop answers again");
                }
            } else if was_alive {
                tracing::warn!(
                    "watchdog: the main loop did not answer within {:?}; not pinging systemd",
                    self.period
                );
            }
            was_alive = alive;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::Notify;

    /// A fake service manager: a datagram socket in a temporary directory.
    struct FakeManager {
        _dir: tempfile::TempDir,
        socket: UnixDatagram,
        notifier: Notifier,
    }

    impl FakeManager {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("notify");
            let socket = UnixDatagram::bind(&path).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            Self {
                _dir: dir,
                socket,
                notifier: Notifier::to_socket(path),
            }
        }

        fn receive(&self) -> String {
            let mut buf = [0; 4096];
            let n = self.socket.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        }

        /// Every message already queued, without waiting.
        fn drain(&self) -> Vec<String> {
            self.socket.set_nonblocking(true).unwrap();
            let mut out = Vec::new();
            let mut buf = [0; 4096];
            while let Ok(n) = self.socket.recv(&mut buf) {
                out.push(String::from_utf8(buf[..n].to_vec()).unwrap());
            }
            out
        }
    }

    #[test]
    fn lifecycle_messages_reach_the_socket() {
        let manager = FakeManager::new();
        manager.notifier.ready();
        assert_eq!(manager.receive(), "READY=1\n");
        manager
            .notifier
            .status("cloud connected, broker connected,\n2 cookers");
        assert_eq!(
            manager.receive(),
            "STATUS=cloud connected, broker connected, 2 cookers\n"
        );
        // A restart in the same process is a reload, with the clock systemd asks for.
        manager.notifier.reloading();
        let reloading = manager.receive();
        assert!(
            reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
            "{reloading}"
        );
        manager.notifier.stopping();
        assert_eq!(manager.receive(), "STOPPING=1\n");
        manager.notifier.watchdog_ping();
        assert_eq!(manager.receive(), "WATCHDOG=1\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn abstract_sockets_are_supported() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!(
            "anova2mqtt-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        );
        let address = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
        let socket = UnixDatagram::bind_addr(&address).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        Notifier::to_socket(format!("@{name}")).ready();
        let mut buf = [0; 64];
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
    }

    #[test]
    fn without_a_socket_nothing_happens() {
        let notifier = Notifier::default();
        assert!(!notifier.is_enabled());
        notifier.notify(&[NotifyState::Ready]).unwrap();
    }

    #[test]
    fn a_missing_socket_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let notifier = Notifier::to_socket(dir.path().join("gone"));
        assert!(notifier.notify(&[NotifyState::Ready]).is_err());
        notifier.ready();
    }

    #[test]
    fn watchdog_interval_respects_the_pid() {
        let sixty = Some(Duration::from_secs(60));
        assert_eq!(watchdog_interval_from(Some("60000000"), None, 7), sixty);
        assert_eq!(
            watchdog_interval_from(Some("60000000"), Some("7"), 7),
            sixty
        );
        assert_eq!(watchdog_interval_from(Some("60000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval_from(Some("60000000"), Some("x"), 7), None);
        assert_eq!(watchdog_interval_from(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval_from(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval_from(None, Some("7"), 7), None);
    }

    /// What the scripted probe does on each call.
    #[derive(Clone, Copy)]
    enum Answer {
        Alive,
        Dead,
        /// Never answers, like a wedged main loop.
        Hang,
    }

    /// Runs a watchdog whose probe answers `script` in order, then shuts it down, and returns
    /// what the fake service manager received.
    async fn run_script(script: &[Answer]) -> Vec<String> {
        let manager = FakeManager::new();
        let watchdog = Watchdog::new(manager.notifier.clone(), Duration::from_secs(60));
        assert_eq!(watchdog.period(), Duration::from_secs(30));
        let done = Arc::new(Notify::new());
        let mut answers = script.iter().copied();
        let finished = done.clone();
        let probe = move || {
            let answer = answers.next();
            if answer.is_none() {
                finished.notify_one();
            }
            async move {
                match answer {
                    Some(Answer::Alive) => true,
                    Some(Answer::Dead) | None => false,
                    Some(Answer::Hang) => std::future::pending::<bool>().await,
                }
            }
        };
        watchdog
            .run(probe, async move { done.notified().await })
            .await;
        manager.drain()
    }

    #[tokio::test(start_paused = true)]
    async fn watchdog_pings_only_when_the_probe_answers() {
        use Answer::*;
        assert_eq!(run_script(&[Alive, Alive]).await, ["WATCHDOG=1\n"; 2]);
        assert!(run_script(&[Dead, Hang, Dead]).await.is_empty());
        assert_eq!(
            run_script(&[Dead, Alive, Hang, Alive]).await,
            ["WATCHDOG=1\n"; 2]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn watchdog_stops_on_shutdown_even_while_probing() {
        let manager = FakeManager::new();
        let watchdog = Watchdog::new(manager.notifier.clone(), Duration::from_secs(60));
        let started = Arc::new(Notify::new());
        let probing = started.clone();
        let probe = move || {
            probing.notify_one();
            std::future::pending::<bool>()
        };
        watchdog
            .run(probe, async move { started.notified().await })
            .await;
        assert!(manager.drain().is_empty());
    }
}
