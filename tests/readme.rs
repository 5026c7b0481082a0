//! The README's shell examples, run as they are written against `anova2mqtt demo`: only the
//! ports change (each test runs its own demo on free ports). They must do what the README says,
//! including when they are started before the cook (issue 14).
//!
//! Needs `bash`, `mosquitto_pub`/`mosquitto_sub`/`mosquitto_rr`, `curl` and `jq`; CI installs them, and
//! `ANOVA2MQTT_REQUIRE_MOSQUITTO=1` makes a missing tool a failure instead of a skip.

use serde_json::Value;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_anova2mqtt");
const A7: &str = "a7demo000000000001";
const WAIT: Duration = Duration::from_secs(10);

fn tools_present() -> bool {
    let found = [
        "bash",
        "mosquitto_pub",
        "mosquitto_sub",
        "mosquitto_rr",
        "curl",
        "jq",
        "sqlite3",
    ]
    .iter()
    .all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        assert!(
            std::env::var("ANOVA2MQTT_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
            "bash, mosquitto clients (with mosquitto_rr), curl, jq and sqlite3 are required for the README examples"
        );
        eprintln!("skipped: bash, mosquitto clients, curl, jq or sqlite3 missing");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The README's ```sh block that contains `needle`.
fn block(needle: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") if block.contains(needle) => return std::mem::take(block),
            (Some(_), "```") => current = None,
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    panic!("no README example contains {needle:?}")
}

/// The shell commands of a block: comments dropped, continued lines joined.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in block.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if line.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        // A command goes on after a trailing backslash, an open pipe or an open quote.
        let open_quote = current.matches('\'').count() % 2 == 1;
        if !(line.ends_with('\\') || line.ends_with('|') || open_quote) {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

/// A demo of its own, on free ports, and a scratch directory for the examples' output.
struct Demo {
    child: Child,
    mqtt: u16,
    http: u16,
    dir: tempfile::TempDir,
    background: Vec<Child>,
}

impl Demo {
    fn start(speed: &str) -> Self {
        Self::start_with(speed, None)
    }

    /// A demo with `config` as its `--config` file.
    fn start_with(speed: &str, config: Option<&str>) -> Self {
        let (mqtt, http) = (free_port(), free_port());
        let dir = tempfile::tempdir().expect("a scratch directory");
        let mut command = Command::new(BIN);
        if let Some(config) = config {
            let path = dir.path().join("demo.toml");
            std::fs::write(
                &path,
                config.replace("$DIR", &dir.path().display().to_string()),
            )
            .expect("the demo's config");
            command.arg("--config").arg(path);
        }
        let child = command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(dir.path())
            .args(["demo", "--mqtt-port", &mqtt.to_string()])
            .args(["--http-port", &http.to_string(), "--speed", speed])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("demo");
        let demo = Self {
            child,
            mqtt,
            http,
            dir,
            background: Vec::new(),
        };
        // Ready once every device's retained state is there and the API answers.
        let deadline = Instant::now() + WAIT;
        loop {
            let states =
                demo.try_sh("mosquitto_sub -h 127.0.0.1 -p 1883 -C 3 -W 1 -t 'anova2mqtt/+/state'");
            let api = demo.try_sh("curl -s localhost:8770/healthz");
            if states.lines().count() == 3 && api.contains("ok") {
                return demo;
            }
            assert!(Instant::now() < deadline, "the demo did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The README's ports replaced by this demo's.
    fn localize(&self, text: &str) -> String {
        let dir = self.dir.path().display().to_string();
        text.replace("-p 1883", &format!("-p {}", self.mqtt))
            .replace("localhost:8770", &format!("localhost:{}", self.http))
            .replace("/var/lib/anova2mqtt/", &format!("{dir}/"))
            .replace("/root/", &format!("{dir}/"))
    }

    /// Runs shell text with bash and returns its standard output; it must succeed.
    fn sh(&self, text: &str) -> String {
        let out = self.run(text);
        assert!(out.status.success(), "{text} failed: {:?}", out.status);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs shell text with bash and returns its standard output, whether it failed or not.
    fn try_sh(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.run(text).stdout).into_owned()
    }

    fn run(&self, text: &str) -> std::process::Output {
        Command::new("bash")
            .args(["-c", &self.localize(text)])
            .stderr(Stdio::null())
            .output()
            .expect("bash")
    }

    /// Starts shell text in the background (in a process group of its own, stopped with the
    /// demo); its output goes to the returned file.
    fn spawn(&mut self, name: &str, text: &str) -> Output {
        let path = self.dir.path().join(name);
        let file = File::create(&path).expect("an output file");
        let child = Command::new("bash")
            .args(["-c", &self.localize(text)])
            .stdout(file)
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("bash");
        self.background.push(child);
        Output(path)
    }

    /// The background example `index` (in spawn order) has exited by itself.
    fn exited(&mut self, index: usize) -> bool {
        self.background[index]
            .try_wait()
            .is_ok_and(|status| status.is_some())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        for child in &mut self.background {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a background example printed so far.
struct Output(PathBuf);

impl Output {
    fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }

    /// The JSON payloads of `mosquitto_sub -v` lines whose topic ends with `suffix`.
    fn payloads(&self, suffix: &str) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|line| line.split_once(' '))
            .filter(|(topic, _)| topic.ends_with(suffix))
            .map(|(_, json)| serde_json::from_str(json).expect("a JSON payload"))
            .collect()
    }

    /// Waits until the output holds `count` payloads on topics ending with `suffix`.
    fn wait_for(&self, suffix: &str, count: usize) -> Vec<Value> {
        wait_until(&format!("{count} messages on …{suffix}"), || {
            self.payloads(suffix).len() >= count
        });
        self.payloads(suffix)
    }
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the subscribers spawned so far are (very likely) listening: a subscriber
/// started after them has seen something retained (every state is).
fn subscribed(demo: &mut Demo) {
    let probe = demo.spawn(
        "ready",
        "mosquitto_sub -h 127.0.0.1 -p 1883 -C 1 -t 'anova2mqtt/+/state'",
    );
    wait_until("the subscribers", || !probe.text().is_empty());
    std::thread::sleep(Duration::from_millis(200));
}

/// Runs each command of a README block, as a person types them: each is answered (on the
/// response subscriber of the README) before the next one goes out. Returns the answers.
fn run_answered(demo: &mut Demo, needle: &str, expected: usize) -> Vec<Value> {
    let responses = demo.spawn("responses", &block("'anova2mqtt/+/response'"));
    subscribed(demo);
    let commands = commands(&block(needle));
    assert_eq!(commands.len(), expected, "{commands:#?}");
    for (sent, command) in commands.iter().enumerate() {
        demo.sh(command);
        responses.wait_for("/response", sent + 1);
    }
    responses.payloads("/response")
}

#[test]
fn the_cooker_commands_are_each_answered_ok() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("60");
    let answers = run_answered(&mut demo, "set/display_unit -m F", 6);
    for answer in &answers {
        assert_eq!(answer["status"], "ok", "{answer}");
    }
    assert_eq!(answers[0]["id"], "dinner");
    assert_eq!(answers[0]["command"]["target_temperature"], 57);
    assert_eq!(answers[0]["command"]["timer"], 5400);
    assert_eq!(
        answers[1]["pending"], true,
        "135F is kept for the next start"
    );
    assert_eq!(answers[1]["command"]["target_temperature"], 57.22);
    let pro = demo.sh("curl -s localhost:8770/api/v1/devices/prodemo00000000001");
    let pro: Value = serde_json::from_str(&pro).expect("JSON");
    assert_eq!(pro["state"]["cooking"], true, "{pro}");
    let target = pro["state"]["target_temperature"]
        .as_f64()
        .unwrap_or_default();
    assert!((target - 57.22).abs() < 0.1, "135 °F: {pro}");
}

#[test]
fn the_oven_commands_are_each_answered() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("60");
    let answers = run_answered(&mut demo, "ovendemo0000000001/set/cook -m OFF", 5);
    assert_eq!(answers[0]["id"], "roast");
    for answer in &answers {
        assert_eq!(answer["status"], "ok", "{answer}");
    }
}

/// Issue 27 item 2: the README's probe cook ends in the demo (its oven's probe is plugged in),
/// answered without the warning a real oven without a probe gets.
#[test]
fn the_oven_probe_cook_ends_on_the_probe() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("600");
    let responses = demo.spawn("responses", &block("'anova2mqtt/+/response'"));
    let events = demo.spawn("events", &block("'anova2mqtt/+/event'"));
    subscribed(&mut demo);
    let probe_cook = commands(&block("ovendemo0000000001/set/cook -m OFF"))
        .into_iter()
        .find(|c| c.contains("probe_target"))
        .expect("the README's probe cook");
    demo.sh(&probe_cook);
    let answer = &responses.wait_for("/response", 1)[0];
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(
        answer["command"]["stages"][0]["probe_target"], 63,
        "{answer}"
    );
    assert_eq!(
        answer.get("warnings"),
        None,
        "the probe is plugged in: {answer}"
    );
    let reached = wait_for_event(&events, "probe_reached");
    assert!(
        reached["probe_temperature"].as_f64().unwrap_or_default() >= 63.0,
        "{reached}"
    );
    let stopped = wait_for_event(&events, "cook_stopped");
    assert_eq!(stopped["cook_id"], reached["cook_id"], "{stopped}");
    assert_eq!(stopped["outcome"], "completed", "{stopped}");
}

/// The first event of this type the README's event subscriber printed.
fn wait_for_event(events: &Output, event_type: &str) -> Value {
    let find = || {
        events
            .payloads("/event")
            .into_iter()
            .find(|e| e["event_type"] == event_type)
    };
    wait_until(event_type, || find().is_some());
    find().unwrap_or_default()
}

#[test]
fn waiting_for_preheat_works_when_started_before_the_cook() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("600");
    let events = demo.spawn("events", &block("'anova2mqtt/+/event'"));
    let waiter = demo.spawn("waiter", &block("preheat_complete"));
    // Both subscriptions are in place once a fresh subscriber sees the retained state.
    std::thread::sleep(Duration::from_millis(500));
    demo.sh(&format!(
        "mosquitto_pub -h 127.0.0.1 -p 1883 -t anova2mqtt/{A7}/set -m '{{\"cook\": true, \"target_temperature\": 40}}'"
    ));
    let started = events.wait_for(&format!("{A7}/event"), 1);
    assert_eq!(started[0]["event_type"], "cook_started");
    assert!(!demo.exited(1), "the waiter must not stop at cook_started");
    wait_until("the waiter", || demo.exited(1));
    assert_eq!(waiter.text(), "Water is at temperature: add the food\n");
    let seen = events.wait_for(&format!("{A7}/event"), 2);
    assert_eq!(seen[1]["event_type"], "preheat_complete");
    // One filter, each event once: no copy through a second subscription.
    std::thread::sleep(Duration::from_millis(300));
    let kinds: Vec<String> = events
        .payloads("/event")
        .iter()
        .filter_map(|e| e["event_type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        kinds,
        ["cook_started", "preheat_complete"],
        "{}",
        events.text()
    );
}

/// Issue 27 item 6: the block works pasted as one script (it lost the first answer when its
/// subscriber, started with `&`, was not listening yet). Run whole, three times over.
#[test]
fn the_bridge_requests_are_answered() {
    if !tools_present() {
        return;
    }
    let demo = Demo::start("1");
    let text = block("bridge/request/health_check");
    for run in 0..3 {
        let output = demo.sh(&text);
        let answers: Vec<Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(answers.len(), 3, "run {run}: {output}");
        let health = &answers[0];
        assert_eq!(health["id"], "1");
        assert_eq!(health["status"], "ok");
        if run == 0 {
            // Later runs may find the link reconnecting after the previous run's refresh.
            assert_eq!(health["data"]["healthy"], true, "{health}");
        }
        assert_eq!(health["data"]["devices"], 3);
        assert_eq!(
            answers[1]["data"]["devices"], 3,
            "republish: {}",
            answers[1]
        );
        for answer in &answers {
            assert_eq!(answer["status"], "ok", "{answer}");
        }
    }
}

/// README "zigbee2mqtt's conventions", verbatim (issue 27 item 16).
#[test]
fn the_zigbee2mqtt_conventions_work() {
    if !tools_present() {
        return;
    }
    let demo = Demo::start("1");
    let lines = commands(&block("anova2mqtt/bridge/request/options"));
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(demo.sh(&lines[0]).is_empty());
    let options: Value = serde_json::from_str(demo.sh(&lines[1]).trim()).expect("JSON");
    assert_eq!(options["id"], "2", "{options}");
    assert_eq!(options["status"], "ok", "{options}");
    assert_eq!(options["data"]["log"]["level"], "info", "{options}");
    // It ends after its 3 s with whatever was logged meanwhile; every line is the JSON shown.
    for line in demo.try_sh(&lines[2]).lines() {
        let line: Value = serde_json::from_str(line).expect("JSON");
        assert!(
            line["level"].is_string() && line["message"].is_string(),
            "{line}"
        );
    }
}

#[test]
fn the_curl_examples_work() {
    if !tools_present() {
        return;
    }
    let demo = Demo::start("60");
    let lines = commands(&block("curl -s localhost:8770/healthz"));
    assert_eq!(lines.len(), 7, "{lines:#?}");
    let json = |text: String| -> Value {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    assert_eq!(json(demo.sh(&lines[0]))["status"], "ok");
    let devices = json(demo.sh(&lines[1]));
    assert_eq!(devices.as_array().map(Vec::len), Some(3), "{devices}");
    assert_eq!(json(demo.sh(&lines[2]))["id"], A7);
    let start = json(demo.sh(&lines[3]));
    assert_eq!(start["status"], "ok", "{start}");
    assert_eq!(start["command"]["target_temperature"], 57.5);
    assert_eq!(start["command"]["timer"], 5400);
    let stop = json(demo.sh(&lines[4]));
    assert_eq!(stop["status"], "ok", "{stop}");
    let history = json(demo.sh(&lines[5]));
    assert!(history.is_object(), "{history}");
    let metrics = demo.sh(&lines[6]);
    assert!(metrics.contains("anova2mqtt_build_info"), "{metrics}");
    assert!(metrics.contains(&format!("anova2mqtt_device_online{{device=\"{A7}\"}} 1")));
}

#[test]
fn the_state_examples_print_the_state() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("60");
    let once = demo.sh(&block(&format!("-C 1 -t anova2mqtt/{A7}/state")));
    let state: Value = serde_json::from_str(&once).expect("one JSON state");
    assert_eq!(state["stage"], "idle");
    let lines = demo.spawn("jq", &block("jq --unbuffered"));
    wait_until("a line from jq", || lines.text().contains('\n'));
    let line = lines.text();
    let line = line.lines().next().unwrap_or_default().to_owned();
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 4, "{line}");
    assert!(parts[0].ends_with('Z'), "{line}");
    assert!(parts[1].parse::<f64>().is_ok(), "{line}");
    assert_eq!(parts[2..], ["°C", "idle"], "{line}");
}

#[test]
fn the_history_examples_work() {
    if !tools_present() {
        return;
    }
    let demo = Demo::start_with("60", Some("[history]\npath = \"$DIR/history.sqlite3\"\n"));
    let curl = commands(&block("curl -s localhost:8770/healthz"));
    let start: Value = serde_json::from_str(&demo.sh(&curl[3])).expect("JSON");
    assert_eq!(start["status"], "ok", "{start}");
    let stop: Value = serde_json::from_str(&demo.sh(&curl[4])).expect("JSON");
    assert_eq!(stop["status"], "ok", "{stop}");

    let lines = commands(&block("/api/v1/cooks?device="));
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let json = |text: String| -> Value {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    let list = json(demo.sh(&lines[0]));
    assert_eq!(list["cooks"][0]["device"], A7, "{list}");
    assert_eq!(list["cooks"][0]["outcome"], "stopped", "{list}");
    let cook = json(demo.sh(&lines[1]));
    assert_eq!(cook["cook_id"], list["cooks"][0]["cook_id"]);
    assert!(
        cook["events"].as_array().is_some_and(|e| e.len() >= 2),
        "{cook}"
    );
    let csv = demo.sh(&lines[2]);
    assert!(
        csv.starts_with("time,water_temperature_c,target_temperature_c"),
        "{csv}"
    );

    let backup = commands(&block(".backup"));
    demo.sh(&backup[0]);
    let copy = demo.dir.path().join("anova2mqtt-history.sqlite3");
    assert!(copy.exists(), "the backup was written");
    let queries = commands(&block("sqlite3 -readonly"));
    assert_eq!(queries.len(), 2, "{queries:#?}");
    let cooks = demo.sh(&queries[0]);
    assert!(
        cooks.contains(list["cooks"][0]["cook_id"].as_str().unwrap()),
        "{cooks}"
    );
    let curve = demo.sh(&queries[1]);
    assert!(curve.starts_with("time,temperature_c,target_c"), "{curve}");
    assert!(curve.lines().count() >= 2, "{curve}");
}

#[test]
fn the_preset_examples_work() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("60");
    let lines = commands(&block("/api/v1/presets"));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let listed = demo.sh(&lines[0]);
    assert!(
        listed.contains("chicken-breast\tsous_vide\t") && listed.contains("roast-chicken\toven\t"),
        "{listed}"
    );
    let names = demo.sh(&lines[1]);
    assert!(names.lines().any(|l| l == "steak-medium-rare"), "{names}");
    let answers = run_answered(&mut demo, "steak-medium-rare", 3);
    for answer in &answers {
        assert_eq!(answer["status"], "ok", "{answer}");
    }
    assert_eq!(answers[0]["command"]["preset"], "chicken-breast");
    assert_eq!(answers[0]["pending"], true);
    assert_eq!(answers[1]["command"]["target_temperature"], 60);
    assert_eq!(answers[1]["command"]["timer"], 5400);
    assert_eq!(answers[2]["id"], "steak");
    assert_eq!(answers[2]["command"]["target_temperature"], 55);
    assert_eq!(answers[2]["command"]["timer"], 9900);
    assert_eq!(answers[2]["command"]["food"], "beef");
    let a7: Value =
        serde_json::from_str(&demo.sh(&format!("curl -s localhost:8770/api/v1/devices/{A7}")))
            .expect("JSON");
    assert_eq!(a7["state"]["preset"], "chicken-breast", "{a7}");
    assert_eq!(a7["state"]["cooking"], true, "{a7}");
}

#[test]
fn the_plan_examples_work() {
    if !tools_present() {
        return;
    }
    let mut demo = Demo::start("60");
    let answers = run_answered(&mut demo, "\\\"id\\\": \\\"carrots\\\"", 3);
    assert_eq!(answers[0]["id"], "bath");
    assert_eq!(answers[0]["status"], "ok", "{}", answers[0]);
    let schedule = &answers[0]["schedule"];
    assert!(schedule["schedule_id"].is_string(), "{schedule}");
    assert_eq!(schedule["command"]["target_temperature"], 57);
    assert_eq!(answers[1]["id"], "carrots");
    assert_eq!(answers[1]["status"], "ok", "{}", answers[1]);
    assert!(answers[1]["schedule"]["ready_by"].is_string());
    assert!(answers[1]["schedule"]["estimate"]["come_up_s"].as_i64() > Some(0));
    // Chicken in warm water, three hours away: refused, saying what would be safe.
    assert_eq!(answers[2]["id"], "chicken");
    assert_eq!(answers[2]["error"]["code"], "unsafe", "{}", answers[2]);
    assert!(
        answers[2]["error"]["safe"]["start_at"].is_string(),
        "{}",
        answers[2]
    );

    let lines = commands(&block("/api/v1/schedules"));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let listed = demo.sh(&lines[0]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains(&format!("{A7}\t")), "{listed}");
    assert_eq!(demo.sh(&lines[1]).trim(), "ok");
    let listed = demo.sh(&lines[0]);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with("prodemo00000000001\t"), "{listed}");
}
