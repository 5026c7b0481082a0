//! The load harness: what the daemon costs, measured the way a user runs it.
//!
//! For each fleet size it starts a real mosquitto on a free port, the simulator in this process
//! as a load generator (every cooker cooking, pushing once per `--push-interval` with a moving
//! water temperature), and the daemon binary as a child process with the shipped defaults
//! (Home Assistant discovery on, the local HTTP API on). A subscriber here reads every state the
//! daemon publishes. It prints, per fleet:
//!
//! - start-up: CPU-seconds the daemon spent until every cooker's state was on the broker, and
//!   how long that took;
//! - steady state: CPU-seconds per 1,000 pushes over the measuring window, from the daemon's
//!   `/proc/<pid>/stat` (user + system) and the simulator's count of pushes sent; beside it the
//!   broker's, mosquitto being a lean C program that does about the same socket work per push;
//! - memory: RSS at the end and the peak (`VmHWM`), from `/proc/<pid>/status`;
//! - latency from the simulator writing a push to the subscriber receiving the daemon's state
//!   for it (so the broker hop is included), p50 / p99 / max.
//!
//! ```sh
//! cargo build --release && cargo run --release --example load -- --cookers 2,100,1000,10000
//! ```
//!
//! Options: `--cookers N[,N…]`, `--seconds S` (measuring window, default 30), `--warmup S`
//! (default 5), `--push-interval MS` (default 1000), `--daemon PATH` (default
//! `target/release/anova2mqtt`), `--history on|off` (the cook history, default on: the
//! database in the run's temporary directory; its size and rows are printed after each fleet).
//! Linux only (`/proc`).

use anova2mqtt::simulator::{LoadModel, LoadSpec, Simulator, SimulatorConfig};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: load [--cookers N[,N…]] [--seconds S] [--warmup S] \
                     [--push-interval MS] [--daemon PATH] [--history on|off]";

/// The harness's options.
struct Options {
    fleets: Vec<usize>,
    window: Duration,
    warmup: Duration,
    push_interval: Duration,
    daemon: PathBuf,
    /// The cook history on (in the run's temporary directory) or off.
    history: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        fleets: vec![2, 100, 1_000, 10_000],
        window: Duration::from_secs(30),
        warmup: Duration::from_secs(5),
        push_interval: Duration::from_secs(1),
        daemon: PathBuf::from("target/release/anova2mqtt"),
        history: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--cookers" => {
                options.fleets = value
                    .split(',')
                    .map(|n| number(n).map(|n| n as usize))
                    .collect::<Result<_, _>>()?;
            }
            "--seconds" => options.window = Duration::from_secs(number(&value)?),
            "--warmup" => options.warmup = Duration::from_secs(number(&value)?),
            "--push-interval" => options.push_interval = Duration::from_millis(number(&value)?),
            "--daemon" => options.daemon = PathBuf::from(value),
            "--history" => {
                options.history = match value.as_str() {
                    "on" => true,
                    "off" => false,
                    _ => return Err(format!("--history on|off, not {value}")),
                }
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    if !options.daemon.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --release) or give --daemon",
            options.daemon.display()
        ));
    }
    Ok(options)
}

/// One fleet's figures.
struct Figures {
    cookers: usize,
    startup: Duration,
    startup_cpu_s: f64,
    pushes: u64,
    cpu_s_per_1000: f64,
    /// The broker's CPU over the same window: a C program doing the same socket work per push
    /// (read a publish, acknowledge it, forward it), the floor a push costs on this machine.
    broker_cpu_s_per_1000: f64,
    rss_kib: u64,
    peak_kib: u64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    matched: usize,
}

fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let options = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "daemon {} · push interval {:?} · warm-up {:?} · window {:?}",
        options.daemon.display(),
        options.push_interval,
        options.warmup,
        options.window
    );
    println!(
        "{:>7} {:>9} {:>10} {:>9} {:>14} {:>11} {:>9} {:>9} {:>8} {:>8} {:>8}",
        "cookers",
        "start s",
        "start cpu",
        "pushes",
        "cpu-s/1k push",
        "broker cpu",
        "rss MB",
        "peak MB",
        "p50 ms",
        "p99 ms",
        "max ms"
    );
    let mut failed = false;
    for &cookers in &options.fleets {
        match runtime.block_on(run_fleet(&options, cookers)) {
            Ok(f) => println!(
                "{:>7} {:>9.2} {:>10.2} {:>9} {:>14.4} {:>11.4} {:>9.1} {:>9.1} {:>8.2} {:>8.2} {:>8.1}   ({} latencies)",
                f.cookers,
                f.startup.as_secs_f64(),
                f.startup_cpu_s,
                f.pushes,
                f.cpu_s_per_1000,
                f.broker_cpu_s_per_1000,
                f.rss_kib as f64 / 1024.0,
                f.peak_kib as f64 / 1024.0,
                f.p50_ms,
                f.p99_ms,
                f.max_ms,
                f.matched
            ),
            Err(e) => {
                failed = true;
                println!("{cookers:>7} failed: {e}");
            }
        }
        let _ = std::io::stdout().flush();
    }
    if failed {
        std::process::exit(1);
    }
}

/// Pushes written by the simulator and not yet seen on the broker, by (cooker, centi-°C).
type Pending = Arc<Mutex<HashMap<(Arc<str>, i64), Instant>>>;

async fn run_fleet(options: &Options, cookers: usize) -> Result<Figures, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let broker = Mosquitto::start(dir.path())?;
    let sim = Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        SimulatorConfig {
            load: Some(LoadSpec {
                cookers,
                push_interval: options.push_interval,
                model: LoadModel::A7,
            }),
            cookers: Vec::new(),
            ovens: Vec::new(),
            ..SimulatorConfig::default()
        },
    )
    .await
    .map_err(|e| format!("simulator: {e}"))?;
    let handle = sim.handle();

    // Every push the simulator writes, waiting for its state on the broker.
    let pending: Pending = Arc::default();
    let mut pushes = handle.push_times(1 << 16);
    {
        let pending = pending.clone();
        tokio::spawn(async move {
            while let Some(push) = pushes.recv().await {
                if let Some(water) = push.water_temperature_c {
                    // The daemon's topic id is the cooker id in lower case.
                    let id = anova2mqtt::ids::topic_safe(&push.cooker_id);
                    let key = (Arc::from(id), (water * 100.0).round() as i64);
                    lock(&pending).insert(key, push.written_at);
                }
            }
        });
    }

    // The subscriber: records the first state of each cooker and every latency.
    let seen = Arc::new(AtomicU64::new(0));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut mqtt = MqttOptions::new("anova2mqtt-load", "127.0.0.1", broker.port);
    mqtt.set_max_packet_size(1 << 20, 1 << 20);
    mqtt.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = AsyncClient::new(mqtt, 64);
    events.network_options.set_tcp_nodelay(true);
    client
        .subscribe("anova2mqtt/+/state", QoS::AtMostOnce)
        .await
        .map_err(|e| e.to_string())?;
    {
        let (seen, latencies, pending) = (seen.clone(), latencies.clone(), pending.clone());
        tokio::spawn(async move {
            let mut first: std::collections::HashSet<String> = Default::default();
            loop {
                let event = match events.poll().await {
                    Ok(e) => e,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Event::Incoming(Packet::Publish(p)) = event else {
                    continue;
                };
                let now = Instant::now();
                let topic = p.topic.as_str();
                let Some(id) = topic
                    .strip_prefix("anova2mqtt/")
                    .and_then(|t| t.strip_suffix("/state"))
                else {
                    continue;
                };
                if id == "bridge" {
                    continue;
                }
                if first.insert(id.to_owned()) {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
                let state: serde_json::Value = match serde_json::from_slice(&p.payload) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                let Some(water) = state["water_temperature"].as_f64() else {
                    continue;
                };
                let key = (Arc::from(id), (water * 100.0).round() as i64);
                if let Some(written) = lock(&pending).remove(&key) {
                    lock(&latencies).push(now.saturating_duration_since(written));
                }
            }
        });
    }

    let config = dir.path().join("anova2mqtt.toml");
    std::fs::write(
        &config,
        format!(
            "[anova]\nurl = \"{}\"\ntoken = \"anova-load-harness\"\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{}\"\nclient_id = \"anova2mqtt-load-daemon\"\n\
             [http]\nlisten = \"127.0.0.1:{}\"\n[log]\nlevel = \"warn\"\n\
             [history]\nenabled = {}\npath = \"{}\"\n",
            sim.url(),
            broker.port,
            free_port(),
            options.history,
            dir.path().join("history.sqlite3").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.path().join("daemon.log")).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut command = Command::new(&options.daemon);
    // `ANOVA2MQTT_*` is the daemon's configuration; a test switch exported in this shell
    // (`ANOVA2MQTT_REQUIRE_MOSQUITTO`) would be refused as an unknown key.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ANOVA2MQTT_") {
            command.env_remove(name);
        }
    }
    let daemon = Daemon(
        command
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", options.daemon.display()))?,
    );
    let pid = daemon.0.id();

    // Start-up: until every cooker's state is on the broker.
    let deadline = started + Duration::from_secs(60) + Duration::from_millis(cookers as u64 * 5);
    while seen.load(Ordering::Relaxed) < cookers as u64 {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {cookers} cookers' states arrived; daemon log in {}",
                seen.load(Ordering::Relaxed),
                dir.keep().display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let startup = started.elapsed();
    let startup_cpu_s = cpu_seconds(pid)?;

    tokio::time::sleep(options.warmup).await;
    lock(&latencies).clear();
    let broker_pid = broker.child.id();
    let (cpu0, broker0, pushes0) = (
        cpu_seconds(pid)?,
        cpu_seconds(broker_pid)?,
        handle.load_pushes().sent,
    );
    tokio::time::sleep(options.window).await;
    let (cpu1, broker1, pushes1) = (
        cpu_seconds(pid)?,
        cpu_seconds(broker_pid)?,
        handle.load_pushes().sent,
    );
    // Let the last pushes of the window arrive before reading the latencies.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss_kib, peak_kib) = memory_kib(pid)?;
    let pushes = pushes1 - pushes0;
    let mut latencies = std::mem::take(&mut *lock(&latencies));
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    let figures = Figures {
        cookers,
        startup,
        startup_cpu_s,
        pushes,
        cpu_s_per_1000: (cpu1 - cpu0) * 1000.0 / pushes.max(1) as f64,
        broker_cpu_s_per_1000: (broker1 - broker0) * 1000.0 / pushes.max(1) as f64,
        rss_kib,
        peak_kib,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: latencies.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        matched: latencies.len(),
    };
    drop(daemon);
    if options.history {
        report_history(
            &dir.path().join("history.sqlite3"),
            cookers,
            started.elapsed(),
        );
    }
    let _ = client.disconnect().await;
    sim.shutdown().await;
    drop(broker);
    Ok(figures)
}

/// The history database after the run: its size, its rows, and the bytes per cooker-hour.
fn report_history(path: &Path, cookers: usize, ran: Duration) {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = size(path) + size(Path::new(&wal));
    let rows = rusqlite::Connection::open(path).and_then(|c| {
        c.query_row(
            "SELECT (SELECT COUNT(*) FROM cooks), (SELECT COUNT(*) FROM samples), \
             (SELECT COUNT(*) FROM events), (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
        )
    });
    let hours = ran.as_secs_f64() / 3600.0;
    match rows {
        Ok((cooks, samples, events, pages)) => println!(
            "        history: {:.1} MB on disk ({:.1} MB of pages), {cooks} cooks, {samples} samples, {events} events; \
             {:.0} bytes per sample, {:.1} KB per cooker-hour",
            bytes as f64 / 1e6,
            pages as f64 / 1e6,
            pages as f64 / samples.max(1) as f64,
            pages as f64 / 1e3 / (cookers as f64 * hours).max(1e-9),
        ),
        Err(e) => println!("        history: {e}"),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The daemon child; killed (SIGTERM, then SIGKILL) when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A mosquitto on a free loopback port; killed when dropped.
struct Mosquitto {
    port: u16,
    child: Child,
}

impl Mosquitto {
    fn start(dir: &Path) -> Result<Self, String> {
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .ok_or("mosquitto is not installed (apt install mosquitto)")?;
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!(
                    "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                     max_queued_messages 0\nlog_dest none\nset_tcp_nodelay true\n"
                ),
            )
            .map_err(|e| e.to_string())?;
            let mut child = Command::new(binary)
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("mosquitto: {e}"))?;
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Self { port, child });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err("mosquitto did not start".into())
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// User + system CPU time of a process, seconds.
fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("process {pid} exited? {e}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line: after the name, the state (field 3)
    // is index 0.
    Ok((ticks(11) + ticks(12)) as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Resident set size now and at its peak, KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("the daemon exited? {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}
