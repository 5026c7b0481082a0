#!/usr/bin/env python3
"""Records a session with anova2mqtt's MCP server, as the README shows it ("Language models
(MCP)"): the tools listed, the devices read, a cook refused by the food-safety rules, the
corrected call accepted, the cook's state. It uses the official MCP Python SDK (`pip install
mcp`) as the client, over streamable HTTP; what it prints is what a model receives.

    anova2mqtt demo &                      # in another terminal
    python3 scripts/mcp-transcript.py [URL]   # default http://127.0.0.1:8770/mcp
"""

import asyncio
import json
import sys
import textwrap

from mcp import Client

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8770/mcp"
A7 = "a7demo000000000001"


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


asyncio.run(main())
