//! The HTTP listener's bounds on real sockets (issue 26, finding 1): silent, trickling and
//! idle connections are closed after the header timeout; a full house closes its longest idle
//! connection for a newcomer, or refuses the newcomer at once when every connection is in a
//! request; a client that stops reading is cut off; and the real binary, held to 1,024
//! descriptors, still answers `/healthz` while 1,100 idle connections are attempted.

mod http_support;

use http_support::{get, metric, quick_settings, Mode, TestServer, WAIT};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Reads until the server closes the connection; how long that took. Panics after `limit`.
async fn closed_by_server(stream: &mut TcpStream, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0) | Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the connection is still open after {limit:?}"),
        }
    }
}

/// Waits until `series` in the server's own metrics reads `value`.
async fn metric_reaches(server: &TestServer, series: &str, value: f64) {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = server.handle.metrics().render(None);
        if metric(&text, series) == Some(value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} never reached {value}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const OPEN: &str = "anova2mqtt_http_connections";

#[tokio::test]
async fn silent_trickling_and_idle_keep_alive_connections_are_closed_after_the_header_timeout() {
    let mut settings = quick_settings();
    settings.header_timeout = Duration::from_millis(600);
    let server = TestServer::start(settings).await;
    let limit = Duration::from_secs(3);

    // A socket that never says anything.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();

    // A slowloris: a header line every 100 ms, never the blank line that ends them.
    let mut trickle = TcpStream::connect(server.addr).await.unwrap();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let (mut trickle_read, mut trickle_write) = trickle.into_split();
    let trickling = tokio::spawn(async move {
        for n in 0.. {
            let line = format!("X-Slow-{n}: y\r\n");
            if trickle_write.write_all(line.as_bytes()).await.is_err() {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        unreachable!()
    });

    // A keep-alive client that got its answer and then went quiet.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    let silent_for = closed_by_server(&mut silent, limit).await;
    let start = Instant::now();
    let mut buf = [0; 256];
    loop {
        match tokio::time::timeout(limit, trickle_read.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the slowloris connection is still open"),
        }
    }
    let idle_for = closed_by_server(&mut idle, limit).await;
    assert!(silent_for >= Duration::from_millis(500), "{silent_for:?}");
    assert!(
        start.elapsed() < limit,
        "a trickle of headers must not keep the connection"
    );
    let lines = tokio::time::timeout(WAIT, trickling)
        .await
        .unwrap()
        .unwrap();
    assert!(lines < 20, "the slowloris sent {lines} lines");
    assert!(idle_for < limit, "{idle_for:?}");
    metric_reaches(
        &server,
        "anova2mqtt_http_connections_closed_total{reason=\"header_timeout\"}",
        3.0,
    )
    .await;
    metric_reaches(&server, OPEN, 0.0).await;
}

#[tokio::test]
async fn a_full_house_closes_its_longest_idle_connection_for_a_newcomer() {
    let mut settings = quick_settings();
    settings.max_connections = 4;
    settings.header_timeout = Duration::from_secs(30);
    let server = TestServer::start(settings).await;

    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
        // One at a time, so that their order is known.
        metric_reaches(&server, OPEN, idle.len() as f64).await;
    }
    let reply = get(server.addr, "/healthz", &[]).await;
    assert_eq!(reply.status, 200, "{reply:?}");

    // The oldest idle one made room; the others are still open.
    closed_by_server(&mut idle[0], WAIT).await;
    for stream in &idle[1..] {
        let mut buf = [0; 1];
        assert!(
            tokio::time::timeout(Duration::from_millis(100), stream.peek(&mut buf))
                .await
                .is_err(),
            "a newer idle connection was closed"
        );
    }
    let text = server.handle.metrics().render(None);
    assert_eq!(
        metric(
            &text,
            "anova2mqtt_http_connections_closed_total{reason=\"evicted\"}"
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn when_every_connection_is_in_a_request_the_next_is_refused_at_once() {
    let mut settings = quick_settings();
    settings.max_connections = 2;
    settings.request_timeout = Duration::from_secs(5);
    let server = TestServer::start(settings).await;
    // The main loop takes requests and never answers: both requests stay in progress.
    server.set_mode(Mode::Silent);
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        busy.push(stream);
    }
    metric_reaches(&server, OPEN, 2.0).await;
    // Both requests reached the (silent) main loop.
    let deadline = Instant::now() + WAIT;
    while server.fake.lock().unwrap().parked_requests() < 2 {
        assert!(
            Instant::now() < deadline,
            "the requests never reached the main loop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let start = Instant::now();
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, refused.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 503") && text.contains("too_many_connections"),
        "{text:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let metrics = server.handle.metrics().render(None);
    assert_eq!(
        metric(
            &metrics,
            "anova2mqtt_http_connections_refused_total{reason=\"limit\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    let mut settings = quick_settings();
    settings.write_timeout = Duration::from_millis(500);
    settings.header_timeout = Duration::from_secs(30);
    // Every pipelined request is served (none answered 429 by the request limit).
    settings.request_rate = anova2mqtt::http::RateLimit {
        burst: 100_000,
        per_second: 100_000.0,
        strikes: u32::MAX,
    };
    let server = TestServer::start(settings).await;

    // A small receive window, and many pipelined requests for the page, never read: the
    // server's writes stall once the socket buffers are full.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    const REQUESTS: usize = 1000;
    let pipeline = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(REQUESTS);
    stream.write_all(pipeline.as_bytes()).await.unwrap();

    metric_reaches(
        &server,
        "anova2mqtt_http_connections_closed_total{reason=\"write_timeout\"}",
        1.0,
    )
    .await;
    // What was written before the stall is there, then the end: not every page.
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("the connection ends");
    let pages = String::from_utf8_lossy(&raw)
        .matches("HTTP/1.1 200")
        .count();
    assert!(pages < REQUESTS, "{pages} pages");
}

// --- The real binary, held to a descriptor limit -------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_anova2mqtt");

/// The daemon with no cloud and no broker to reach (it keeps retrying them; `/healthz`
/// answers `503`), its HTTP API on `port`, started through `prlimit` with `nofile`
/// (`soft:hard`).
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
}

impl Daemon {
    fn spawn(port: u16, nofile: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[anova]\nurl = \"ws://127.0.0.1:{closed_port}\"\ntoken = \"anova-limits-test\"\n\
                 [mqtt]\nurl = \"mqtt://127.0.0.1:{closed_port}\"\n\
                 [http]\nlisten = \"127.0.0.1:{port}\"\n[log]\nlevel = \"info\"\nformat = \"text\"\n"
            ),
        )
        .unwrap();
        let child = Command::new("prlimit")
            .arg(format!("--nofile={nofile}"))
            .arg(BIN)
            .args(["run", "--config"])
            .arg(&config)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
            .spawn()
            .expect("prlimit (util-linux) runs the daemon");
        Self { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits for the HTTP API to listen.
    async fn listening(&self) {
        let deadline = Instant::now() + WAIT;
        while !self.log().contains("HTTP API and web page on") {
            assert!(Instant::now() < deadline, "not listening:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `Max open files` of `/proc/<pid>/limits`: (soft, hard).
    fn nofile(&self) -> (String, String) {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).unwrap();
        let line = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .expect("a Max open files line")
            .to_owned();
        let mut numbers = line.split_whitespace().skip(3);
        (
            numbers.next().unwrap_or_default().to_owned(),
            numbers.next().unwrap_or_default().to_owned(),
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_soft_descriptor_limit_is_raised_to_the_hard_one() {
    let daemon = Daemon::spawn(free_port(), "512:4096");
    daemon.listening().await;
    assert_eq!(
        daemon.nofile(),
        ("4096".to_owned(), "4096".to_owned()),
        "{}",
        daemon.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_1100_idle_connections_are_attempted_at_1024_descriptors() {
    // This process holds the 1,100 client ends.
    anova2mqtt::descriptors::raise_soft_limit().unwrap();
    let port = free_port();
    let daemon = Daemon::spawn(port, "1024:1024");
    daemon.listening().await;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();

    let mut idle = Vec::new();
    for _ in 0..1100 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await
        {
            idle.push(stream);
        }
    }
    let start = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(2), get(addr, "/healthz", &[]))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "/healthz did not answer with {} idle connections:\n{}",
                idle.len(),
                daemon.log()
            )
        });
    let took = start.elapsed();
    // Neither the cloud nor the broker is there.
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.json()["status"], "unavailable");
    eprintln!(
        "/healthz answered in {took:?} with {} connections attempted",
        idle.len()
    );
    assert!(
        daemon.log().contains("HTTP API under connection pressure"),
        "no log line about the refused connections:\n{}",
        daemon.log()
    );
}
