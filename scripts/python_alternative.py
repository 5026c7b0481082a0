#!/usr/bin/env python3
"""The obvious Python alternative, measured side by side with the daemon (issue 11).

Home Assistant's own `anova-wifi` library (its cloud WebSocket client and state parsers) plus
`paho-mqtt`, republishing every cooker state as JSON on `anova2mqtt/<id>/state` and nothing
else: no validation, no commands, no discovery, no availability. The load harness runs it like
the daemon, `python_alternative.py run --config FILE`, reading the same config keys:

    python3 -m venv /tmp/alt && /tmp/alt/bin/pip install anova-wifi paho-mqtt
    PYTHON=/tmp/alt/bin/python cargo run --release --example load -- \
        --daemon scripts/python-alternative --cookers 2,100,1000
"""

import asyncio
import dataclasses
import json
import sys
import tomllib
import urllib.parse

import aiohttp
import paho.mqtt.client as mqtt
from anova_wifi import AnovaWebsocketHandler


def main() -> None:
    args = sys.argv[1:]
    with open(args[args.index("--config") + 1], "rb") as file:
        config = tomllib.load(file)
    broker = urllib.parse.urlparse(config["mqtt"]["url"])
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="python-alternative")
    client.connect(broker.hostname, broker.port or 1883)
    client.loop_start()
    asyncio.run(bridge(config["anova"]["url"], config["anova"]["token"], client))


async def bridge(url: str, token: str, client: mqtt.Client) -> None:
    async with aiohttp.ClientSession() as session:
        handler = AnovaWebsocketHandler(token, "", session)
        # The library's URL is the real cloud's; the harness gives the simulator's.
        handler.url = f"{url.rstrip('/')}/?token={token}&supportedAccessories=APC&platform=android"
        await handler.connect()
        known: set[str] = set()
        while True:
            if len(handler.devices) != len(known):
                for cooker_id, device in handler.devices.items():
                    if cooker_id not in known:
                        known.add(cooker_id)
                        device.set_update_listener(publisher(client, cooker_id))
            await asyncio.sleep(0.2)


def publisher(client: mqtt.Client, cooker_id: str):
    topic = f"anova2mqtt/{cooker_id.lower()}/state"

    def publish(update) -> None:
        payload = dataclasses.asdict(update)
        payload["water_temperature"] = update.sensor.water_temperature
        client.publish(topic, json.dumps(payload, default=str), qos=1, retain=True)

    return publish


if __name__ == "__main__":
    main()
