//! The floor: the least any gateway must do per push under the contract, to compare the
//! daemon's CPU per push with.
//!
//! The load harness measures the daemon against the Python alternative (issue 11). What it
//! cannot say by itself is how much of a push's cost is the work that no implementation can
//! skip: wake up for the cloud's frame, read it, write a QoS 1 retained publish
//! (`docs/interface.md` §3), wake up again for the broker's PUBACK and read it. This program does
//! exactly that and nothing else: a hand-rolled WebSocket client (plain `ws://`, no TLS), a
//! hand-rolled MQTT 3.1.1 client, one current-thread tokio task polling both sockets, and a
//! byte search for the cooker id and the water temperature instead of parsing the frame. It
//! publishes `{"water_temperature":X}` on `<base>/<id>/state`, which is all the harness
//! reads. Not a gateway: no validation, no state, no reconnects, no discovery, no HTTP.
//!
//! ```sh
//! cargo build --release --examples
//! cargo run --release --example load -- --cookers 100,1000 --daemon target/release/examples/floor
//! ```
//!
//! It takes the daemon's command line (`run --config FILE`) and reads the configuration with
//! the daemon's loader: `anova.url`, `anova.token`, `mqtt.url` (plain `mqtt://` only) and
//! `mqtt.base_topic`.
//!
//! With `FLOOR_STACK=crates` in its environment it does the same work through the crates the
//! daemon is built on instead of the hand-rolled clients: tokio-tungstenite (with the daemon's
//! 4 KiB read buffer) for the cloud and rumqttc's MQTT 5 client (its event loop polled in a
//! second task, as rumqttc requires) for the broker. The difference between the two floors is
//! what the chosen transport crates cost per push; the daemon's distance from this one is its
//! own work (parsing, normalising, the bridge, serialising the state).
//!
//! ```sh
//! FLOOR_STACK=crates cargo run --release --example load -- --cookers 100,1000 --daemon target/release/examples/floor
//! ```

use anova2mqtt::ids::{CloudId, TopicId};
use anova2mqtt::topics::Topics;
use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))
        .context("usage: floor run --config FILE")?;
    // The daemon's own loader: the same file, defaults and environment as the daemon reads.
    let config = anova2mqtt::config::load(Some(std::path::Path::new(path)))?.config;
    let token = config.anova.token.context("anova.token missing")?;
    let broker = config
        .mqtt
        .endpoint()
        .map_err(|p| anyhow::anyhow!("{}: {}", p.key, p.message))?;
    if broker.tls {
        bail!("the floor speaks plain MQTT only");
    }
    let topics = Topics::new(config.mqtt.base_topic);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let broker = (&*broker.host, broker.port);
    match std::env::var("FLOOR_STACK").as_deref() {
        Ok("crates") => runtime.block_on(bridge_with_crates(
            &config.anova.url,
            token.expose(),
            broker,
            &topics,
        )),
        Ok("minimal") | Err(_) => {
            runtime.block_on(bridge(&config.anova.url, token.expose(), broker, &topics))
        }
        Ok(other) => bail!("FLOOR_STACK={other}: expected minimal or crates"),
    }
}

/// The same work through tokio-tungstenite and rumqttc: one task reads the cloud and
/// publishes, rumqttc's event loop runs in another.
async fn bridge_with_crates(
    cloud: &str,
    token: &str,
    broker: (&str, u16),
    topics: &Topics,
) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    use rumqttc::v5::{mqttbytes::QoS, AsyncClient, MqttOptions};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, protocol::WebSocketConfig};

    let mut options = MqttOptions::new("floor", broker.0, broker.1);
    options.set_clean_start(true);
    options.set_outgoing_inflight_upper_limit(64);
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    options.set_network_options(network);
    let (client, mut eventloop) = AsyncClient::new(options, 256);
    let mqtt = tokio::spawn(async move {
        loop {
            if let Err(e) = eventloop.poll().await {
                return anyhow::anyhow!("broker: {e}");
            }
        }
    });

    let url = format!("{}/?{}", cloud.trim_end_matches('/'), query(token));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "ANOVA_V2".parse()?);
    let limits = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(limits), true).await?;
    // tungstenite answers the cloud's pings itself, on the next read.
    while let Some(message) = ws.next().await {
        if mqtt.is_finished() {
            break;
        }
        let Message::Text(text) = message? else {
            continue;
        };
        if let Some((id, water)) = cooker_state(text.as_str()) {
            client
                .publish(topics.state(&id), QoS::AtLeastOnce, true, payload(water))
                .await?;
        }
    }
    match mqtt.is_finished() {
        true => Err(mqtt.await?),
        false => Ok(()),
    }
}

/// Connects both sides, then forwards every cooker state until either side closes.
async fn bridge(
    cloud: &str,
    token: &str,
    broker: (&str, u16),
    topics: &Topics,
) -> anyhow::Result<()> {
    let mut mqtt = TcpStream::connect(broker).await?;
    mqtt.set_nodelay(true)?;
    mqtt.write_all(&connect_packet()).await?;
    let mut connack = [0u8; 4];
    mqtt.read_exact(&mut connack).await?;
    if connack != [0x20, 2, 0, 0] {
        bail!("broker refused the connection: {connack:?}");
    }

    let host = cloud
        .strip_prefix("ws://")
        .context("anova.url must be ws://host:port (the simulator)")?
        .trim_end_matches('/');
    let mut ws = TcpStream::connect(host).await?;
    ws.set_nodelay(true)?;
    let request = format!(
        "GET /?{} HTTP/1.1\r\n\
         Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: ANOVA_V2\r\n\r\n",
        query(token)
    );
    ws.write_all(request.as_bytes()).await?;
    let mut inbox = Vec::with_capacity(64 * 1024);
    let head_end = loop {
        if let Some(end) = inbox.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if ws.read_buf(&mut inbox).await? == 0 {
            bail!("the cloud closed the connection during the handshake");
        }
    };
    if !inbox.starts_with(b"HTTP/1.1 101") {
        bail!("the cloud refused the upgrade");
    }
    inbox.drain(..head_end);

    let mut acks = [0u8; 4096];
    let mut outbox = Vec::with_capacity(4096);
    let mut pongs = Vec::new();
    let mut packet_id: u16 = 0;
    loop {
        // Whatever is in `inbox` first: the handshake's read may have brought frames along.
        let mut used = 0;
        while let Some((opcode, start, end)) = next_frame(&inbox[used..])? {
            let payload = &inbox[used + start..used + end];
            match opcode {
                1 => {
                    // A text frame is UTF-8.
                    let state = std::str::from_utf8(payload).ok().and_then(cooker_state);
                    if let Some((id, water)) = state {
                        packet_id = packet_id.checked_add(1).unwrap_or(1);
                        publish_packet(&mut outbox, &topics.state(&id), water, packet_id);
                    }
                }
                // A ping: answer with a (masked, zero-key) pong carrying its payload.
                9 => {
                    let length = u8::try_from(payload.len()).context("ping over 125 bytes")?;
                    pongs.extend_from_slice(&[0x8A, 0x80 | length, 0, 0, 0, 0]);
                    pongs.extend_from_slice(payload);
                }
                8 => return Ok(()),
                _ => {}
            }
            used += end;
        }
        inbox.drain(..used);
        // One write for every publish this read brought.
        if !outbox.is_empty() {
            mqtt.write_all(&outbox).await?;
            outbox.clear();
        }
        if !pongs.is_empty() {
            ws.write_all(&pongs).await?;
            pongs.clear();
        }
        tokio::select! {
            read = ws.read_buf(&mut inbox) => if read? == 0 { return Ok(()) },
            // PUBACKs: read and dropped, which is all a QoS 1 publisher must do with them.
            read = mqtt.read(&mut acks) => if read? == 0 { bail!("the broker closed") },
        }
    }
}

/// The next complete WebSocket frame in `buffer`: opcode and the payload's range. Frames from
/// a server are unmasked.
fn next_frame(buffer: &[u8]) -> anyhow::Result<Option<(u8, usize, usize)>> {
    let [first, second, ..] = *buffer else {
        return Ok(None);
    };
    if second & 0x80 != 0 {
        bail!("a masked frame from the server");
    }
    let (length, header) = match second & 0x7F {
        126 if buffer.len() >= 4 => (usize::from(u16::from_be_bytes([buffer[2], buffer[3]])), 4),
        127 if buffer.len() >= 10 => {
            let mut length = [0u8; 8];
            length.copy_from_slice(&buffer[2..10]);
            (usize::try_from(u64::from_be_bytes(length))?, 10)
        }
        126 | 127 => return Ok(None),
        short => (usize::from(short), 2),
    };
    let end = header + length;
    Ok((buffer.len() >= end).then_some((first & 0x0F, header, end)))
}

/// The cooker's topic id and its water temperature, from an `EVENT_APC_STATE` frame.
fn cooker_state(frame: &str) -> Option<(TopicId, f64)> {
    // `str::find` is std's fast substring search.
    frame.find("\"EVENT_APC_STATE\"")?;
    let id = value_after(frame, "\"cookerId\":\"", '"')?;
    let water = value_after(frame, "\"current\":{\"celsius\":", '}')?;
    Some((TopicId::of(&CloudId::from(id)), water.trim().parse().ok()?))
}

/// The text after `key` up to `end` or a comma.
fn value_after<'a>(frame: &'a str, key: &str, end: char) -> Option<&'a str> {
    let rest = &frame[frame.find(key)? + key.len()..];
    rest.split([end, ',']).next()
}

/// The cloud URL's query, as the daemon sends it for cookers.
fn query(token: &str) -> String {
    format!("token={token}&supportedAccessories=APC&platform=android")
}

/// The state the floor publishes: all the harness reads.
fn payload(water: f64) -> String {
    format!("{{\"water_temperature\":{water}}}")
}

/// MQTT 3.1.1 CONNECT: clean session, keep-alive off, client id `floor`.
fn connect_packet() -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 0];
    body.extend_from_slice(&[0, 5]);
    body.extend_from_slice(b"floor");
    let mut packet = vec![0x10];
    remaining_length(&mut packet, body.len());
    packet.extend_from_slice(&body);
    packet
}

/// Appends a QoS 1 retained PUBLISH of `{"water_temperature":X}` on `topic`.
fn publish_packet(out: &mut Vec<u8>, topic: &str, water: f64, packet_id: u16) {
    let payload = payload(water);
    out.push(0x33);
    remaining_length(out, 2 + topic.len() + 2 + payload.len());
    // Topic ids are short: a cooker id is tens of bytes.
    out.extend_from_slice(&u16::try_from(topic.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(topic.as_bytes());
    out.extend_from_slice(&packet_id.to_be_bytes());
    out.extend_from_slice(payload.as_bytes());
}

/// MQTT's variable-length "remaining length".
fn remaining_length(out: &mut Vec<u8>, mut length: usize) {
    loop {
        let mut byte = (length % 128) as u8;
        length /= 128;
        if length > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if length == 0 {
            return;
        }
    }
}
