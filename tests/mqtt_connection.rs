//! The broker connection against a real mosquitto: connect, subscribe, publish, last will,
//! graceful close, and reconnecting after the broker restarts.

mod support;

use anova2mqtt::bridge::{Publish, Qos};
use anova2mqtt::mqtt::connection::{
    MqttConnection, MqttEvent, MqttSettings, MAX_INCOMING_PACKET_SIZE,
};
use std::time::Duration;
use support::{Broker, Watcher, WAIT};
use tokio_util::sync::CancellationToken;

fn settings(port: u16) -> MqttSettings {
    MqttSettings {
        host: "127.0.0.1".into(),
        port,
        tls: None,
        username: None,
        password: None,
        client_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        keepalive: Duration::from_secs(5),
        will_topic: "t/bridge/state".into(),
    }
}

fn publish(topic: &str, payload: &str, retain: bool) -> Publish {
    Publish {
        topic: topic.into(),
        payload: payload.into(),
        retain,
        qos: Qos::AtLeastOnce,
    }
}

async fn next(conn: &mut MqttConnection) -> MqttEvent {
    tokio::time::timeout(WAIT, conn.events.recv())
        .await
        .expect("no MQTT event")
        .expect("closed")
}

#[tokio::test]
async fn publishes_subscribes_and_closes_with_offline() {
    let broker = Broker::start();
    let mut watcher = Watcher::connect(broker.port, &["t/#"]).await;
    let shutdown = CancellationToken::new();
    let mut conn = MqttConnection::start(&settings(broker.port), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    conn.handle.subscribe(vec!["t/in/+".into()]);
    conn.handle
        .publish(publish("t/bridge/state", "online", true));
    watcher
        .wait_for("online", |m| {
            m.topic == "t/bridge/state" && m.payload == "online"
        })
        .await;
    watcher.publish("t/in/x", "hello", false).await;
    match next(&mut conn).await {
        MqttEvent::Message {
            topic,
            payload,
            retained,
        } => {
            assert_eq!(
                (topic.as_str(), payload.as_slice(), retained),
                ("t/in/x", &b"hello"[..], false)
            );
        }
        other => panic!("{other:?}"),
    }
    conn.close(publish("t/bridge/state", "offline", true)).await;
    watcher
        .next_matching(WAIT, "offline", |m| {
            m.topic == "t/bridge/state" && m.payload == "offline"
        })
        .await;
}

/// A client that may publish up to 8 MiB (the watchers stop at 1 MiB).
async fn big_publisher(port: u16) -> rumqttc::AsyncClient {
    let mut options = rumqttc::MqttOptions::new(
        format!("big-{}", uuid::Uuid::new_v4().simple()),
        "127.0.0.1",
        port,
    );
    options.set_max_packet_size(8 << 20, 8 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 16);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    client
}

/// Commands of a few MiB reach the bridge, so that it can answer them (the core refuses what is
/// too large for a command); above the limit we announce, the broker drops them on the way.
#[tokio::test]
async fn messages_up_to_the_announced_limit_arrive_larger_ones_do_not() {
    let broker = Broker::start();
    let shutdown = CancellationToken::new();
    let mut conn = MqttConnection::start(&settings(broker.port), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    conn.handle.subscribe(vec!["t/in/+".into()]);
    conn.handle.publish(publish("t/in/probe", "p", false));
    while !matches!(next(&mut conn).await, MqttEvent::Message { topic, .. } if topic == "t/in/probe")
    {
    }

    let publisher = big_publisher(broker.port).await;
    let two_mib = vec![b'x'; 2 << 20];
    publisher
        .publish(
            "t/in/big",
            rumqttc::QoS::AtLeastOnce,
            false,
            two_mib.clone(),
        )
        .await
        .unwrap();
    match next(&mut conn).await {
        MqttEvent::Message { topic, payload, .. } => {
            assert_eq!((topic.as_str(), payload.len()), ("t/in/big", two_mib.len()));
        }
        other => panic!("{other:?}"),
    }
    if broker.mosquitto {
        // mosquitto honours our maximum packet size: the 5 MiB message is dropped for us, and
        // the next one arrives as usual on the same connection.
        let too_big = MAX_INCOMING_PACKET_SIZE + (1 << 20);
        publisher
            .publish(
                "t/in/huge",
                rumqttc::QoS::AtLeastOnce,
                false,
                vec![b'x'; too_big],
            )
            .await
            .unwrap();
        publisher
            .publish("t/in/after", rumqttc::QoS::AtLeastOnce, false, "a")
            .await
            .unwrap();
        match next(&mut conn).await {
            MqttEvent::Message { topic, .. } => assert_eq!(topic, "t/in/after"),
            other => panic!("{other:?}"),
        }
    }
    shutdown.cancel();
}

#[tokio::test]
async fn the_last_will_says_offline_when_the_connection_dies() {
    let mut broker = Broker::start();
    let shutdown = CancellationToken::new();
    let mut conn = MqttConnection::start(&settings(broker.port), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    conn.handle
        .publish(publish("t/bridge/state", "online", true));
    let mut watcher = Watcher::connect(broker.port, &["t/bridge/state"]).await;
    watcher.wait_for("online", |m| m.payload == "online").await;
    // Kill our client hard: the broker publishes the will.
    shutdown.cancel();
    drop(conn);
    watcher
        .next_matching(Duration::from_secs(15), "the will", |m| {
            m.payload == "offline"
        })
        .await;
    broker.stop();
}

#[tokio::test]
async fn reconnects_after_the_broker_restarts() {
    let mut broker = Broker::start();
    if !broker.mosquitto {
        return;
    }
    let shutdown = CancellationToken::new();
    let mut conn = MqttConnection::start(&settings(broker.port), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    broker.restart();
    assert!(matches!(
        next(&mut conn).await,
        MqttEvent::Disconnected { .. }
    ));
    let event = tokio::time::timeout(Duration::from_secs(8), conn.events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event, MqttEvent::Connected);
    shutdown.cancel();
}

/// The demo's embedded broker keeps retained messages and delivers them to late subscribers,
/// which discovery and state depend on.
#[tokio::test]
async fn the_embedded_broker_keeps_retained_messages() {
    let broker = anova2mqtt::broker::start_embedded(([127, 0, 0, 1], 0).into()).unwrap();
    let port = broker.addr.port();
    let shutdown = CancellationToken::new();
    // The bridge speaks MQTT 5, people (the watchers) MQTT 3.1.1: one port, one broker.
    let mut conn = MqttConnection::start(&settings(port), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    conn.handle.publish(publish("t/a/state", "{\"x\":1}", true));
    conn.handle.publish(publish("t/a/event", "not kept", false));
    let mut first = Watcher::connect(port, &["t/#"]).await;
    first.wait_for("state", |m| m.topic == "t/a/state").await;
    // A late subscriber gets the retained state and not the event.
    let mut late = Watcher::connect(port, &["t/#"]).await;
    let m = late
        .wait_for("retained state", |m| m.topic == "t/a/state")
        .await;
    assert!(m.retained);
    assert!(late.on("t/a/event").is_empty());
    shutdown.cancel();
}

/// With MQTT 5 *Retain As Published*, a command published retained while we are connected
/// arrives flagged retained (MQTT 3.1.1 would clear the flag), so the bridge can refuse it.
async fn live_retained_messages_keep_their_flag(bridge_port: u16, people_port: u16) {
    let shutdown = CancellationToken::new();
    let mut conn = MqttConnection::start(&settings(bridge_port), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    conn.handle.subscribe(vec!["t/in/+".into()]);
    // Make sure the subscription is in place: our own publish comes back.
    conn.handle.publish(publish("t/in/probe", "p", false));
    loop {
        if let MqttEvent::Message { topic, .. } = next(&mut conn).await {
            if topic == "t/in/probe" {
                break;
            }
        }
    }
    let person = Watcher::connect(people_port, &[]).await;
    person.publish("t/in/cook", "ON", true).await;
    person.publish("t/in/cook", "OFF", false).await;
    let mut flags = Vec::new();
    while flags.len() < 2 {
        if let MqttEvent::Message {
            topic,
            payload,
            retained,
        } = next(&mut conn).await
        {
            if topic == "t/in/cook" {
                flags.push((String::from_utf8(payload).unwrap(), retained));
            }
        }
    }
    assert_eq!(flags, [("ON".to_owned(), true), ("OFF".to_owned(), false)]);
    shutdown.cancel();
}

/// Needs mosquitto: rumqttd (the embedded fallback) clears the flag on live delivery whatever
/// the subscription asked for.
#[tokio::test]
async fn live_retained_messages_keep_their_flag_on_the_broker() {
    let broker = Broker::start();
    if !broker.mosquitto {
        return;
    }
    live_retained_messages_keep_their_flag(broker.v5_port, broker.port).await;
}

/// A throwaway certificate authority with a server certificate for 127.0.0.1 and a client
/// certificate, made with the `openssl` command.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn create() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl is needed for the TLS tests");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("client.ext"),
            "extendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=anova2mqtt test CA",
            ],
        ]
        .concat());
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=anova2mqtt")] {
            let (key, csr, pem, ext) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            run(&[
                &["req"][..],
                &ec,
                &["-keyout", &key, "-out", &csr, "-subj", subject],
            ]
            .concat());
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ]);
        }
        // mosquitto started as root reads its files as the `mosquitto` user; these throwaway
        // keys may be readable by anyone.
        use std::os::unix::fs::PermissionsExt;
        let readable = |path: &std::path::Path, mode| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        readable(dir.path(), 0o755);
        for name in ["ca.key", "server.key", "client.key"] {
            readable(&dir.path().join(name), 0o644);
        }
        Self { dir }
    }

    fn tls(&self, ca: bool, client: bool) -> anova2mqtt::mqtt::connection::TlsFiles {
        anova2mqtt::mqtt::connection::TlsFiles {
            ca_file: ca.then(|| self.path("ca.pem")),
            client_cert_file: client.then(|| self.path("client.pem")),
            client_key_file: client.then(|| self.path("client.key")),
        }
    }
}

/// `mqtts://` against mosquitto with a private CA that requires client certificates: our CA and
/// certificate get in; without the certificate, or trusting only the public roots, we do not.
#[tokio::test]
async fn mqtts_with_a_private_ca_and_a_client_certificate() {
    let pki = Pki::create();
    let options = format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true",
        pki.path("ca.pem").display(),
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    );
    let Some(broker) = Broker::start_mosquitto_with(&options) else {
        return; // no mosquitto here; CI requires it
    };
    let with = |ca, client| MqttSettings {
        tls: Some(pki.tls(ca, client)),
        ..settings(broker.port)
    };
    let shutdown = CancellationToken::new();
    let mut conn = MqttConnection::start(&with(true, true), &shutdown).unwrap();
    assert_eq!(next(&mut conn).await, MqttEvent::Connected);
    for (ca, client, why) in [
        (true, false, "no client certificate"),
        (false, true, "public roots only"),
    ] {
        let mut refused = MqttConnection::start(&with(ca, client), &shutdown).unwrap();
        assert!(
            matches!(next(&mut refused).await, MqttEvent::Disconnected { .. }),
            "{why}: connected anyway"
        );
    }
    shutdown.cancel();
}

#[test]
fn bad_tls_files_are_clear_errors() {
    let pki = Pki::create();
    let shutdown = CancellationToken::new();
    let start = |tls: anova2mqtt::mqtt::connection::TlsFiles| {
        MqttConnection::start(
            &MqttSettings {
                tls: Some(tls),
                ..settings(8883)
            },
            &shutdown,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    let missing = start(anova2mqtt::mqtt::connection::TlsFiles {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..Default::default()
    });
    assert!(
        missing.contains("mqtt.ca_file") && missing.contains("/nonexistent/ca.pem"),
        "{missing}"
    );
    let not_pem = start(anova2mqtt::mqtt::connection::TlsFiles {
        ca_file: Some(pki.path("server.ext")),
        ..Default::default()
    });
    assert!(not_pem.contains("no PEM certificate"), "{not_pem}");
    let half = start(anova2mqtt::mqtt::connection::TlsFiles {
        client_cert_file: Some(pki.path("client.pem")),
        ..pki.tls(true, false)
    });
    assert!(half.contains("go together"), "{half}");
    let wrong_key = start(anova2mqtt::mqtt::connection::TlsFiles {
        client_key_file: Some(pki.path("ca.pem")),
        ..pki.tls(true, true)
    });
    assert!(wrong_key.contains("mqtt.client_key_file"), "{wrong_key}");
}
