#!/usr/bin/env python3
"""Records a session with anova2mqtt's MCP server, as the README shows it ("Language models
(MCP)"): the tools listed, the devices read, a cook refused by the food-safety rules, the
corrected call accepted, the cook's state; then a delayed cook refused by the plans'
food-safety rules, the corrected plan accepted and shown by get_device, and cancelled. It uses the official MCP Python SDK (`pip install
mcp`) as the client, over streamable HTTP; what it prints is what a model receives.

    anova2mqtt demo &                      # in another terminal
    python3 scripts/mcp-transcript.py [URL]   # default http://127.0.0.1:8770/mcp
"""

import asyncio
import datetime
import json
import sys
import textwrap

from mcp import Client

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8770/mcp"
A7 = "a7demo000000000001"
PRO = "prodemo00000000001"


def in_minutes(minutes):
    """RFC 3339, UTC, `minutes` from now (to the minute)."""
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return at.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def show(value):
    return json.dumps(value, ensure_ascii=False)


def say(text):
    """Prints `text` wrapped at 96 columns, continuation lines indented."""
    print(textwrap.fill(text, width=96, subsequent_indent="    ", break_on_hyphens=False))


async def call(client, name, arguments):
    say(f"→ tools/call {name} {show(arguments)}")
    result = await client.call_tool(name, arguments)
    flag = "isError: true, " if result.is_error else ""
    say(f"← {flag}structuredContent: {show(result.structured_content)}")
    print()
    return result.structured_content


async def main():
    async with Client(URL, mode="legacy") as client:
        print(f"protocol {client.session.protocol_version}, server {show(client.session.server_info.name)}")
        print()
        tools = (await client.list_tools()).tools
        print("→ tools/list")
        for tool in tools:
            hints = tool.annotations
            kind = "read-only" if hints.read_only_hint else "destructive" if hints.destructive_hint else "changes"
            first = tool.description.split(". ")[0].rstrip(".")
            say(f"← {tool.name} ({kind}): {first}.")
        start = next(tool for tool in tools if tool.name == "start_cook")
        print()
        say(f"start_cook in full: {start.description}")
        say(f"  arguments: {', '.join(start.input_schema['properties'])} (required: device)")
        say(f"  food: {start.input_schema['properties']['food']['description']}")
        print()
        devices = (await client.call_tool("list_devices", {})).structured_content["devices"]
        print("→ tools/call list_devices {}")
        for device in devices:
            state = device["state"]
            say(
                f"← {device['id']}: {device['name']} ({device['model']}), online {device['online']}, "
                f"stage {state['stage']}, max {device['max_temperature_c']} °C"
            )
        print()
        await call(
            client,
            "start_cook",
            {"device": A7, "target_temperature": 55, "timer": "2h", "food": "poultry"},
        )
        await call(
            client,
            "start_cook",
            {"device": A7, "target_temperature": 60, "timer": "2h", "food": "poultry"},
        )
        device = (await client.call_tool("get_device", {"device": A7})).structured_content
        state = device["state"]
        print(f"→ tools/call get_device {show({'device': A7})}")
        keys = ["cooking", "stage", "water_temperature", "target_temperature", "timer_total", "cook_ends_at"]
        say(f"← state (abridged): {show({k: state.get(k) for k in keys})}")
        cook = device.get("cook") or {}
        say(f"← cook (abridged): {show({k: cook.get(k) for k in ['source', 'running', 'started_at']})}")
        print()
        # A delayed cook on the Pro, whose water is at room temperature (no ice bath).
        chicken = {"device": PRO, "target_temperature": 63, "timer": "1h30m", "food": "poultry"}
        await call(client, "start_cook", dict(chicken, start_at=in_minutes(180)))
        await call(client, "start_cook", dict(chicken, start_at=in_minutes(45)))
        device = (await client.call_tool("get_device", {"device": PRO})).structured_content
        print(f"→ tools/call get_device {show({'device': PRO})}")
        schedule = device.get("schedule") or {}
        keys = ["schedule_id", "start_at", "state"]
        say(f"← schedule (abridged): {show({k: schedule.get(k) for k in keys})}")
        print()
        await call(client, "cancel_schedule", {"device": PRO})


asyncio.run(main())
