//! The container files, checked without a Docker engine (none runs where the tests run): the
//! Dockerfile's dependency stage against Cargo.toml, the Compose file's wiring, and the Compose
//! broker's configuration and start script with a real mosquitto, which must refuse anonymous
//! clients (issue 26, finding 4: anyone on the LAN could otherwise start a cook).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_dockerfile_stand_ins_satisfy_the_manifest_and_a_missing_one_is_caught() {
    let script = root().join("scripts/check-dockerfile.sh");
    let ok = Command::new(&script)
        .output()
        .expect("run check-dockerfile.sh");
    assert!(ok.status.success(), "{}", text(&ok));

    // The Dockerfile without the bench's stand-in: the image build would fail, so must this.
    let dockerfile = read("Dockerfile");
    let stand_in = " && echo 'fn main() {}' > benches/pipeline.rs \\\n";
    assert!(dockerfile.contains(stand_in), "the bench's stand-in moved");
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("Dockerfile");
    std::fs::write(&broken, dockerfile.replace(stand_in, "")).expect("write");
    let failed = Command::new(&script)
        .env("DOCKERFILE", &broken)
        .output()
        .expect("run check-dockerfile.sh");
    assert!(!failed.status.success(), "{}", text(&failed));
    assert!(
        text(&failed).contains("can't find `pipeline` bench"),
        "{}",
        text(&failed)
    );
}

#[test]
fn the_dockerfile_needs_no_frontend_image_and_names_its_user_by_number() {
    let dockerfile = read("Dockerfile");
    // A `# syntax=` line makes BuildKit fetch a frontend image, which breaks mirror-only builds.
    assert!(!dockerfile.contains("syntax="), "{dockerfile}");
    // Kubernetes' runAsNonRoot can only check a numeric user.
    let users: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("USER "))
        .collect();
    assert_eq!(users, ["USER 65532:65532"]);
}

/// The Compose file as JSON, read by PyYAML (a YAML parser Compose's own format follows);
/// `None` when python3 or PyYAML is missing, unless CI requires the tools.
fn compose() -> Option<serde_json::Value> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(root().join("docker-compose.yml"))
        .output();
    match output {
        Ok(output) if output.status.success() => {
            Some(serde_json::from_slice(&output.stdout).expect("JSON from python"))
        }
        other => {
            // CI installs PyYAML with openapi-spec-validator (one of its dependencies).
            assert!(
                std::env::var("ANOVA2MQTT_REQUIRE_HTTP_TOOLS").as_deref() != Ok("1"),
                "python3 with PyYAML is required: {other:?}"
            );
            eprintln!("python3 with PyYAML not found: the Compose file is not checked");
            None
        }
    }
}

#[test]
fn the_compose_broker_requires_the_bridge_users_password_and_logs_are_rotated() {
    let Some(compose) = compose() else { return };
    let services = &compose["services"];
    let broker = &services["mosquitto"];
    let bridge = &services["anova2mqtt"];

    // Another port for a host whose own mosquitto holds 1883.
    assert_eq!(
        broker["ports"],
        serde_json::json!(["${MQTT_PORT:-1883}:1883"])
    );
    // The broker's password file is made from the secret before the image's entrypoint.
    assert_eq!(
        broker["entrypoint"],
        serde_json::json!(["/bin/sh", "/mosquitto/config/mosquitto-start.sh"])
    );
    assert_eq!(broker["command"][0], "/docker-entrypoint.sh");
    let volumes = broker["volumes"].as_array().expect("volumes");
    for mount in [
        "./config/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro",
        "./config/mosquitto-start.sh:/mosquitto/config/mosquitto-start.sh:ro",
    ] {
        assert!(volumes.iter().any(|v| v == mount), "{mount} in {volumes:?}");
    }
    assert_eq!(broker["secrets"], serde_json::json!(["mqtt_password"]));
    // No password on the healthcheck's command line (it comes from an options file).
    let check = broker["healthcheck"]["test"].to_string();
    assert!(
        check.contains("mosquitto_sub") && !check.contains("-P"),
        "{check}"
    );

    // The bridge logs in with the same user and the same secret.
    let env = &bridge["environment"];
    assert_eq!(env["ANOVA2MQTT_MQTT__USERNAME"], "anova2mqtt");
    assert_eq!(
        env["ANOVA2MQTT_MQTT__PASSWORD_FILE"],
        "/run/secrets/mqtt_password"
    );
    let bridge_secrets = bridge["secrets"].as_array().expect("secrets");
    assert!(bridge_secrets.iter().any(|s| s == "mqtt_password"));
    assert_eq!(
        compose["secrets"]["mqtt_password"]["file"],
        "./secrets/mqtt-password"
    );
    assert!(read("config/mosquitto-start.sh").contains("user=\"${MQTT_USER:-anova2mqtt}\""));

    // Docker's json-file logs grow forever unless told otherwise.
    for service in [broker, bridge] {
        let logging = &service["logging"];
        assert_eq!(logging["driver"], "json-file");
        assert_eq!(logging["options"]["max-size"], "10m");
        assert_eq!(logging["options"]["max-file"], "3");
    }
}

fn mosquitto() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("ANOVA2MQTT_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
            "mosquitto is required (ANOVA2MQTT_REQUIRE_MOSQUITTO=1) but not installed"
        );
        eprintln!("mosquitto not found: the Compose broker's configuration is not checked");
    }
    found
}

/// The Compose broker's files in a scratch directory: the start script's paths and the
/// configuration's container paths moved there, everything else as shipped.
struct ComposeBroker {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
}

impl ComposeBroker {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
            port: 0,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs config/mosquitto-start.sh as Compose does, but with `true` in place of mosquitto.
    fn start_script(&self, secret: Option<&[u8]>) -> Output {
        if let Some(secret) = secret {
            std::fs::write(self.path("mqtt_password"), secret).expect("write secret");
        }
        std::fs::create_dir_all(self.path("home")).expect("home");
        Command::new("sh")
            .arg(root().join("config/mosquitto-start.sh"))
            .arg("true")
            .env("MQTT_PASSWORD_SECRET", self.path("mqtt_password"))
            .env("MOSQUITTO_PASSWORD_FILE", self.path("passwd"))
            .env("HOME", self.path("home"))
            .output()
            .expect("run mosquitto-start.sh")
    }

    /// Starts mosquitto with config/mosquitto.conf on a free loopback port.
    fn run(&mut self, binary: &Path) {
        let shipped = read("config/mosquitto.conf");
        let mut conf = String::new();
        for line in shipped.lines() {
            let moved = match line {
                "listener 1883" => "listener PORT 127.0.0.1".to_string(),
                "password_file /mosquitto/passwd" => {
                    format!("password_file {}", self.path("passwd").display())
                }
                "persistence_location /mosquitto/data/" => {
                    format!("persistence_location {}/", self.dir.path().display())
                }
                other => other.to_string(),
            };
            conf.push_str(&moved);
            conf.push('\n');
        }
        for directive in ["allow_anonymous false", "connection_messages false"] {
            assert!(conf.lines().any(|l| l == directive), "{directive}: {conf}");
        }
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let file = self.path("mosquitto.conf");
            std::fs::write(&file, conf.replace("PORT", &port.to_string())).expect("conf");
            let mut child = Command::new(binary)
                .arg("-c")
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn mosquitto");
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken
                }
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                    std::thread::sleep(Duration::from_millis(50));
                    if let Ok(None) = child.try_wait() {
                        self.child = Some(child);
                        self.port = port;
                        return;
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("mosquitto did not start with config/mosquitto.conf");
    }

    /// `mosquitto_pub` (or `_sub`) against this broker with extra arguments and `HOME`.
    fn client(&self, program: &str, args: &[&str], home: &Path) -> Output {
        Command::new(program)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .env("HOME", home)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }
}

impl Drop for ComposeBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn the_compose_broker_refuses_an_anonymous_publish_and_admits_the_bridge_user() {
    let Some(binary) = mosquitto() else { return };
    let mut broker = ComposeBroker::new();
    let password = "b3H7qJ+Vx/0kPq8Zr1sT9uWy2aCd4eFg";
    let started = broker.start_script(Some(format!("{password}\n").as_bytes()));
    assert!(started.status.success(), "{}", text(&started));
    // The hash only, never the password, in a file only its owner reads.
    let passwd = std::fs::read_to_string(broker.path("passwd")).expect("passwd");
    assert!(passwd.starts_with("anova2mqtt:$"), "{passwd}");
    assert!(!passwd.contains(password));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(broker.path("passwd"))
        .expect("passwd")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    broker.run(&binary);

    let nobody = broker.dir.path().join("nobody");
    std::fs::create_dir_all(&nobody).expect("dir");
    // The attack of the finding: an anonymous command to a cooker.
    let anonymous = broker.client(
        "mosquitto_pub",
        &[
            "-t",
            "anova2mqtt/a7demo000000000001/set",
            "-m",
            r#"{"cook":true}"#,
        ],
        &nobody,
    );
    assert!(!anonymous.status.success(), "{}", text(&anonymous));
    assert!(
        text(&anonymous).contains("not authorised"),
        "{}",
        text(&anonymous)
    );
    let wrong = broker.client(
        "mosquitto_pub",
        &["-u", "anova2mqtt", "-P", "guess", "-t", "x", "-m", "1"],
        &nobody,
    );
    assert!(!wrong.status.success(), "{}", text(&wrong));

    // The bridge's user and password (what Home Assistant is given too).
    let admitted = broker.client(
        "mosquitto_pub",
        &["-u", "anova2mqtt", "-P", password, "-t", "x", "-m", "1"],
        &nobody,
    );
    assert!(admitted.status.success(), "{}", text(&admitted));

    // The healthcheck as the Compose file runs it, with the options the start script wrote.
    let home = broker.path("home");
    let health = broker.client(
        "mosquitto_sub",
        &["-t", "$SYS/broker/uptime", "-C", "1", "-W", "3"],
        &home,
    );
    assert!(health.status.success(), "{}", text(&health));
    let anonymous_health = broker.client(
        "mosquitto_sub",
        &["-t", "$SYS/broker/uptime", "-C", "1", "-W", "3"],
        &nobody,
    );
    assert!(!anonymous_health.status.success());
}

#[test]
fn the_compose_broker_does_not_start_without_a_usable_password() {
    if mosquitto().is_none() {
        return; // the script hashes with mosquitto_passwd
    }
    let broker = ComposeBroker::new();
    let missing = broker.start_script(None);
    assert_eq!(missing.status.code(), Some(78), "{}", text(&missing));
    assert!(
        text(&missing).contains("head -c 24 /dev/urandom | base64 > secrets/mqtt-password"),
        "{}",
        text(&missing)
    );
    for bad in [&b"\n"[..], b"two words\n", b"line one\nline two\n"] {
        let refused = broker.start_script(Some(bad));
        assert_eq!(refused.status.code(), Some(78), "{}", text(&refused));
        assert!(!broker.path("passwd").exists());
    }
    // A Windows line ending is a line ending, as for the bridge's password file.
    let crlf = broker.start_script(Some(b"s3cret\r\n"));
    assert!(crlf.status.success(), "{}", text(&crlf));
    let options =
        std::fs::read_to_string(broker.path("home/.config/mosquitto_sub")).expect("options file");
    assert_eq!(options, "-u anova2mqtt\n-P s3cret\n");
}

#[test]
fn the_readmes_compose_steps_make_private_secrets_the_broker_accepts() {
    if mosquitto().is_none() {
        return; // the start script hashes with mosquitto_passwd
    }
    // The README's Compose block, up to what needs Docker, run as written in a scratch dir.
    let readme = read("README.md");
    let section = &readme[readme.find("### With Docker Compose").expect("section")..];
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the Compose block");
    assert!(block.contains("docker compose run --rm --no-deps anova2mqtt check-config\n"));
    let before_docker: Vec<&str> = block
        .lines()
        .take_while(|line| !line.starts_with("docker "))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let script = before_docker
        .join("\n")
        .replace("anova-…your token…", "anova-test");
    let ran = Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(dir.path())
        .output()
        .expect("sh");
    assert!(ran.status.success(), "{}", text(&ran));

    use std::os::unix::fs::PermissionsExt;
    let secrets = dir.path().join("secrets");
    let mode = std::fs::metadata(&secrets)
        .expect("secrets")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "secrets/ is {mode:o}");
    let token = std::fs::read_to_string(secrets.join("anova-token")).expect("token");
    assert_eq!(token, "anova-test\n");
    // The generated password is one the broker's start script accepts and the bridge reads
    // the same way (one line, no spaces).
    let password = std::fs::read(secrets.join("mqtt-password")).expect("password");
    let broker = ComposeBroker::new();
    let started = broker.start_script(Some(&password));
    assert!(started.status.success(), "{}", text(&started));
    let password = String::from_utf8(password).expect("base64 is text");
    assert_eq!(password.trim_end().len(), 32, "{password:?}");
}
