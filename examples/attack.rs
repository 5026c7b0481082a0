//! The adversarial review's attacks on the local HTTP API (issue 26), rerun against the real
//! release binary, with figures: how long idle and slow connections live, whether `/healthz`
//! answers while the daemon is out of descriptors, and the daemon's memory (RSS) before,
//! during and after.
//!
//! ```text
//! cargo run --release --example attack -- connections
//! ```
//!
//! The daemon runs as a child under `prlimit --nofile=1024:1024` (systemd's default soft
//! limit, and no hard limit to raise it to), with the simulator in this process and a
//! mosquitto on a free port, so `/healthz` is `200` while nothing is wrong.

// The soak's mosquitto (its restart, a soak fault, is not used here).
#[allow(dead_code)]
#[path = "soak/broker.rs"]
mod broker;

use anova2mqtt::simulator::{demo_cookers, Simulator, SimulatorConfig};
use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reruns the review's attacks on the HTTP API; see the module docs.
#[derive(Debug, Parser)]
struct Args {
    /// Which attack.
    #[arg(value_enum)]
    attack: Attack,
    /// The daemon binary.
    #[arg(long, default_value = "target/release/anova2mqtt")]
    daemon: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Attack {
    /// 500 slowloris and 500 silent sockets; then 1,100 idle connections and `/healthz`.
    Connections,
    /// 40 stream upgrades that never authenticate, then a valid client (token in the request)
    /// and a page-like one (token as the first message), again and again.
    Stream,
    /// 64 keep-alive clients asking `/healthz` as fast as they can for 10 s, while a client
    /// with the token asks `GET /api/v1/devices`.
    Health,
}

/// The HTTP token the daemon runs with.
const TOKEN: &str = "attack-harness-token-0123456789";

struct Daemon {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Daemon {
    fn start(binary: &Path, dir: &Path, sim: &Simulator, mqtt_port: u16) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[anova]\nurl = \"{}\"\ntoken = \"anova-attack-harness\"\n\
                 [mqtt]\nurl = \"mqtt://127.0.0.1:{mqtt_port}\"\n\
                 [http]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{TOKEN}\"\n\
                 [log]\nformat = \"text\"\n",
                sim.url()
            ),
        )?;
        let log = dir.join("daemon.log");
        let child = Command::new("prlimit")
            .arg("--nofile=1024:1024")
            .arg(binary)
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("prlimit (util-linux) and the daemon binary")?;
        let daemon = Self {
            child,
            addr: ([127, 0, 0, 1], port).into(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&daemon.log)?.contains("HTTP API and web page on") {
            if Instant::now() > deadline {
                bail!("the daemon did not start: see {}", daemon.log.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(daemon)
    }

    /// Resident memory, MB.
    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }

    /// Open descriptors.
    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map_or(0, Iterator::count)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `GET /healthz` on a fresh connection: the status and how long the answer took.
async fn healthz(addr: SocketAddr, limit: Duration) -> (Option<u16>, Duration) {
    let start = Instant::now();
    let answer = tokio::time::timeout(limit, async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.ok()?;
        String::from_utf8_lossy(&raw)
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
    })
    .await;
    (answer.ok().flatten(), start.elapsed())
}

/// Waits until the server has closed `stream`; `None` when it is still open after `limit`.
async fn closed_after(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

async fn connections(daemon: &Daemon) {
    let addr = daemon.addr;
    println!(
        "idle daemon: RSS {:.1} MB, {} descriptors",
        daemon.rss_mb(),
        daemon.descriptors()
    );

    // 500 slowloris (a header line every second) and 500 silent sockets.
    let limit = Duration::from_secs(60);
    let mut slow = Vec::new();
    let mut silent = Vec::new();
    let start = Instant::now();
    for n in 0..1000 {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            continue;
        };
        if n % 2 == 0 {
            silent.push(tokio::spawn(closed_after(stream, limit)));
            continue;
        }
        slow.push(tokio::spawn(async move {
            let opened = Instant::now();
            let _ = stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await;
            for line in 0.. {
                if stream
                    .write_all(format!("X-Slow-{line}: y\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
                let mut buf = [0; 1];
                match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
                    Ok(Ok(0) | Err(_)) => break,
                    _ if opened.elapsed() > limit => return None,
                    _ => {}
                }
            }
            Some(opened.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "500 slowloris + 500 silent sockets opened in {:.1} s: RSS {:.1} MB, {} descriptors",
        start.elapsed().as_secs_f64(),
        daemon.rss_mb(),
        daemon.descriptors()
    );
    for (what, tasks) in [("silent", silent), ("slowloris", slow)] {
        let mut lives = Vec::new();
        let mut open = 0;
        for task in tasks {
            match task.await.ok().flatten() {
                Some(life) => lives.push(life.as_secs_f64()),
                None => open += 1,
            }
        }
        lives.sort_by(f64::total_cmp);
        println!(
            "{what}: {} closed by the daemon, longest after {:.1} s, median {:.1} s; {open} still open after {} s",
            lives.len(),
            lives.last().copied().unwrap_or(f64::NAN),
            lives.get(lives.len() / 2).copied().unwrap_or(f64::NAN),
            limit.as_secs()
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "after they closed: RSS {:.1} MB, {} descriptors",
        daemon.rss_mb(),
        daemon.descriptors()
    );

    // 1,100 idle connections against 1,024 descriptors, then /healthz twenty times.
    let mut idle = Vec::new();
    for _ in 0..1100 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await
        {
            idle.push(stream);
        }
    }
    let mut times = Vec::new();
    let mut failed = 0;
    for _ in 0..20 {
        match healthz(addr, Duration::from_secs(5)).await {
            (Some(200), took) => times.push(took.as_secs_f64() * 1000.0),
            _ => failed += 1,
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "1,100 idle connections attempted ({} connected): /healthz 200 {} times, median {:.1} ms, \
         slowest {:.1} ms, {failed} failed; RSS {:.1} MB, {} descriptors",
        idle.len(),
        times.len(),
        times.get(times.len() / 2).copied().unwrap_or(f64::NAN),
        times.last().copied().unwrap_or(f64::NAN),
        daemon.rss_mb(),
        daemon.descriptors()
    );
    drop(idle);
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "after they closed: RSS {:.1} MB, {} descriptors",
        daemon.rss_mb(),
        daemon.descriptors()
    );
    let log = std::fs::read_to_string(&daemon.log).unwrap_or_default();
    for line in log
        .lines()
        .filter(|l| l.contains("connection pressure"))
        .take(3)
    {
        println!("daemon log: {line}");
    }
}

/// Opens the stream, with the token in the request or as the first message; how long until
/// the `devices` snapshot arrived, or why not.
async fn stream_client(addr: SocketAddr, by_header: bool) -> Result<Duration, String> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let start = Instant::now();
    let mut request = format!("ws://{addr}/api/v1/stream")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if by_header {
        let bearer = format!("Bearer {TOKEN}").parse().map_err(|_| "header")?;
        request.headers_mut().insert("authorization", bearer);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    if !by_header {
        let auth = format!("{{\"type\":\"auth\",\"token\":\"{TOKEN}\"}}");
        ws.send(Message::text(auth))
            .await
            .map_err(|e| e.to_string())?;
    }
    while let Some(frame) = ws.next().await {
        match frame.map_err(|e| e.to_string())? {
            Message::Text(text) if text.contains("\"type\":\"devices\"") => {
                return Ok(start.elapsed())
            }
            Message::Close(frame) => return Err(format!("closed: {frame:?}")),
            _ => {}
        }
    }
    Err("ended".to_owned())
}

async fn stream(daemon: &Daemon) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let addr = daemon.addr;
    for round in 1..=3 {
        let mut waiting = Vec::new();
        for _ in 0..40 {
            let request = format!("ws://{addr}/api/v1/stream").into_client_request();
            if let Ok((ws, _)) = tokio_tungstenite::connect_async(request.expect("url")).await {
                waiting.push(ws);
            }
        }
        let header = stream_client(addr, true).await;
        let message = stream_client(addr, false).await;
        let shown = |r: &Result<Duration, String>| match r {
            Ok(took) => format!(
                "admitted, snapshot after {:.1} ms",
                took.as_secs_f64() * 1000.0
            ),
            Err(why) => format!("NOT admitted: {why}"),
        };
        println!(
            "round {round}: {} unauthenticated upgrades open; token in the request: {}; token as \
             the first message: {}",
            waiting.len(),
            shown(&header),
            shown(&message)
        );
    }
    let metrics = {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!(
            "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
             Connection: close\r\n\r\n"
        );
        let _ = stream.write_all(request.as_bytes()).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        String::from_utf8_lossy(&raw).into_owned()
    };
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("anova2mqtt_stream_clients"))
    {
        println!("{line}");
    }
}

/// Sends `request` on one keep-alive connection, again and again until `until` (at least
/// once), counting the answers' statuses.
async fn hammer(addr: SocketAddr, request: String, until: Instant) -> Vec<u16> {
    let mut statuses = Vec::new();
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return statuses;
    };
    let mut buf = vec![0; 64 * 1024];
    loop {
        if stream.write_all(request.as_bytes()).await.is_err() {
            break;
        }
        // One answer: the head, then as much body as Content-Length says.
        let mut raw = Vec::new();
        let status = loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break None,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&raw);
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                break head.split_whitespace().nth(1).and_then(|c| c.parse().ok());
            }
        };
        match status {
            Some(status) => statuses.push(status),
            None => break,
        }
        if Instant::now() >= until {
            break;
        }
    }
    statuses
}

fn tally(statuses: &[u16]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for status in statuses {
        *counts.entry(*status).or_insert(0u64) += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} x {s}")).collect();
    parts.join(", ")
}

async fn health(daemon: &Daemon) {
    let addr = daemon.addr;
    let until = Instant::now() + Duration::from_secs(10);
    let probe = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_owned();
    let flood: Vec<_> = (0..64)
        .map(|_| tokio::spawn(hammer(addr, probe.clone(), until)))
        .collect();
    let devices = format!(
        "GET /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    );
    // Clients with the token, each asking about 20 times a second on fresh connections.
    let api: Vec<_> = (0..4)
        .map(|_| {
            let devices = devices.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while Instant::now() < until {
                    statuses.extend(hammer(addr, devices.clone(), Instant::now()).await);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                statuses
            })
        })
        .collect();
    let mut probes = Vec::new();
    for task in flood {
        probes.extend(task.await.unwrap_or_default());
    }
    let mut answers = Vec::new();
    for task in api {
        answers.extend(task.await.unwrap_or_default());
    }
    println!(
        "10 s of 64 keep-alive /healthz clients: {} answers ({})",
        probes.len(),
        tally(&probes)
    );
    println!(
        "meanwhile GET /api/v1/devices with the token: {} answers ({})",
        answers.len(),
        tally(&answers)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anova2mqtt::descriptors::raise_soft_limit()?;
    let dir = tempfile::tempdir()?;
    let broker = broker::Mosquitto::start(dir.path())?;
    let sim = Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        SimulatorConfig::for_tests(demo_cookers()),
    )
    .await?;
    let daemon = Daemon::start(&args.daemon, dir.path(), &sim, broker.port)?;
    // Connected to the cloud and the broker.
    let deadline = Instant::now() + Duration::from_secs(10);
    while healthz(daemon.addr, Duration::from_secs(1)).await.0 != Some(200) {
        if Instant::now() > deadline {
            bail!(
                "the daemon never became healthy: see {}",
                daemon.log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match args.attack {
        Attack::Connections => connections(&daemon).await,
        Attack::Stream => stream(&daemon).await,
        Attack::Health => health(&daemon).await,
    }
    Ok(())
}
