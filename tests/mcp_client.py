"""An independent MCP client for tests/mcp.rs: the official MCP Python SDK (PyPI `mcp`) drives
anova2mqtt's MCP server over streamable HTTP or stdio and prints a JSON report of what it saw.
The Rust test asserts on the report; this script only records.

    python3 tests/mcp_client.py JOBS

JOBS is a JSON list of sessions, run one after the other in this one interpreter (importing
the SDK takes seconds): {"transport": "http", "target": URL, "mode": MODE, "scenario": S} (the
token in ANOVA2MQTT_HTTP__TOKEN), or {"transport": "stdio", "target": BINARY, "args": [...],
"mode": MODE, "scenario": S} to start `BINARY mcp ARGS...`. The output is a list of reports.

MODE is the SDK's connect mode: `legacy` (the initialize handshake, a session) or `auto`
(server/discover first: the 2026-07-28 revision, no session). SCENARIO is `full` (every tool,
the errors, resources), `plans` (delayed cooks: refused, corrected, shown, cancelled) or `list`
(only the tool list).
"""

import asyncio
import datetime
import json
import os
import sys

import httpx2
from jsonschema import Draft202012Validator
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

A7 = "a7demo000000000001"
OVEN = "ovendemo0000000001"


def result(r):
    """A tool result as plain data."""
    texts = [c.text for c in r.content if getattr(c, "type", "") == "text"]
    return {
        "is_error": bool(r.is_error),
        "structured": r.structured_content,
        "text": json.loads(texts[0]) if texts else None,
    }


async def call(client, name, arguments):
    try:
        return result(await client.call_tool(name, arguments))
    except MCPError as err:
        return {"protocol_error": str(err)}


async def scenario(client, which):
    report = {}
    tools = (await client.list_tools()).tools
    report["tools"] = []
    for tool in tools:
        schema_error = None
        try:
            Draft202012Validator.check_schema(tool.input_schema)
        except Exception as err:  # noqa: BLE001 - recorded for the test to show
            schema_error = str(err)
        annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        report["tools"].append(
            {
                "name": tool.name,
                "schema": tool.input_schema,
                "schema_error": schema_error,
                "annotations": annotations,
                "description": tool.description,
            }
        )
    if which == "list":
        report["start_cook"] = await call(client, "start_cook", {"device": A7, "target_temperature": 60})
        return report
    if which == "plans":
        return await plans(client, report)
    calls = [
        ("list_devices", {}),
        ("get_device", {"device": A7}),
        ("get_device", {"device": "nope"}),
        ("start_cook", {"device": A7, "target_temperature": 120}),
        ("start_cook", {"device": A7, "target_temperature": 50, "timer": "1h", "food": "poultry"}),
        ("start_cook", {"device": A7, "target_temperature": 63, "timer": "1h30m", "food": "poultry", "id": "mcp-start"}),
        ("change_cook", {"device": A7, "timer": 120}),
        ("get_device", {"device": A7}),
        ("stop_cook", {"device": A7}),
        (
            "start_cook",
            {
                "device": OVEN,
                "temperature_mode": "dry",
                "target_temperature": 200,
                "elements": ["rear"],
                "fan": "high",
                "timer": "30m",
            },
        ),
        ("stop_cook", {"device": OVEN}),
        ("no_such_tool", {}),
        ("list_presets", {}),
        ("list_presets", {"family": "oven"}),
        ("list_presets", {"family": "grill"}),
    ]
    report["calls"] = []
    for name, arguments in calls:
        report["calls"].append({"tool": name, "arguments": arguments, "result": await call(client, name, arguments)})
    cooks = await call(client, "list_cooks", {"device": A7, "limit": 1})
    report["list_cooks"] = cooks
    cook_id = (cooks.get("structured") or {}).get("cooks", [{}])[0].get("cook_id", "none")
    report["get_cook"] = await call(client, "get_cook", {"cook_id": cook_id, "points": 20})
    report["get_cook_unknown"] = await call(client, "get_cook", {"cook_id": "no-such-cook"})
    resources = (await client.list_resources()).resources
    report["resources"] = [str(r.uri) for r in resources]
    read = await client.read_resource(f"anova2mqtt://devices/{A7}")
    report["resource"] = json.loads(read.contents[0].text)
    return report


def in_minutes(minutes):
    """RFC 3339, UTC, `minutes` from now."""
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return at.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


async def plans(client, report):
    """Delayed cooks on the a7, whose water is at room temperature (no ice bath)."""
    chicken = {"device": A7, "target_temperature": 63, "timer": "1h30m", "food": "poultry"}
    calls = [
        # Three hours in 20 °C water: refused, saying what would be safe.
        ("start_cook", dict(chicken, start_at=in_minutes(180))),
        # No food named: refused, asking for it.
        ("start_cook", {"device": A7, "target_temperature": 63, "timer": "1h30m", "start_at": in_minutes(30)}),
        # Corrected: in half an hour.
        ("start_cook", dict(chicken, start_at=in_minutes(30), id="mcp-plan")),
        ("get_device", {"device": A7}),
        ("cancel_schedule", {"device": A7}),
        ("cancel_schedule", {"device": A7}),
        ("get_device", {"device": A7}),
        # A plan is a start: change_cook does not take one.
        ("change_cook", {"device": A7, "start_at": in_minutes(30)}),
    ]
    report["calls"] = []
    for name, arguments in calls:
        report["calls"].append({"tool": name, "arguments": arguments, "result": await call(client, name, arguments)})
    return report


async def session(job):
    transport, target, mode, which = job["transport"], job["target"], job["mode"], job["scenario"]
    if transport == "http":
        headers = {}
        token = os.environ.get("ANOVA2MQTT_HTTP__TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            async with Client(streamable_http_client(target, http_client=http), mode=mode) as client:
                report = await scenario(client, which)
    else:
        args = ["mcp", *job.get("args", [])]
        server = StdioServerParameters(command=target, args=args, env=dict(os.environ))
        async with Client(server, mode=mode) as client:
            report = await scenario(client, which)
    return report


async def main():
    reports = [await session(job) for job in json.loads(sys.argv[1])]
    json.dump(reports, sys.stdout)


asyncio.run(main())
