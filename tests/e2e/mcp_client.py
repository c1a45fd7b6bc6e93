"""End-to-end check of `corral serve` with the official Python MCP SDK.

Run by tests/http.rs (`python_sdk_client_*`) as
`python3 tests/e2e/mcp_client.py URL`; prints one JSON object describing
what the client saw, which the Rust test asserts on. Needs `mcp==2.3.0`.

The client is the SDK's high-level `Client` in its default `auto` mode: it
probes `server/discover` (revision 2026-07-28) first and must fall back to
the `initialize` handshake when Corral answers -32601.
"""

import json
import sys

import anyio
from mcp import Client

RESULT = {}


async def main(url: str) -> None:
    logs = []
    progress = []

    async def on_log(params):
        logs.append({"level": params.level, "data": params.data})

    async def on_progress(done, total, message):
        progress.append([done, total])

    async with Client(url, logging_callback=on_log) as client:
        RESULT["protocol_version"] = client.session.protocol_version
        RESULT["server_name"] = client.session.initialize_result.server_info.name

        names = []
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
            names.extend(tool.name for tool in page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        RESULT["tools"] = names

        simple = await client.call_tool("test_simple_text", {})
        RESULT["simple_text"] = [c.text for c in simple.content]
        RESULT["simple_is_error"] = simple.is_error

        bad = await client.call_tool("json_schema_2020_12_tool", {"name": 42})
        RESULT["invalid_arguments_is_error"] = bad.is_error

        await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        RESULT["progress"] = progress

        await client.call_tool("test_tool_with_logging", {})
        RESULT["logs_at_debug"] = list(logs)
        await client.set_logging_level("error")
        logs.clear()
        await client.call_tool("test_tool_with_logging", {})
        RESULT["logs_at_error"] = list(logs)

        # Cancellation: abandon a slow call; the SDK sends notifications/cancelled.
        with anyio.move_on_after(0.05) as scope:
            await client.call_tool("test_reconnection", {})
        RESULT["cancelled_client_side"] = scope.cancelled_caught
        # The session still works after a cancellation.
        await client.session.send_ping()
        RESULT["ping_after_cancel"] = True


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
    print(json.dumps(RESULT))
