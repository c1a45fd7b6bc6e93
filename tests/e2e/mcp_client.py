"""End-to-end check of Corral with the official Python MCP SDK as the client.

Run by tests/http/python_sdk.rs and tests/stdio.rs as

    python3 tests/e2e/mcp_client.py MODE URL
    python3 tests/e2e/mcp_client.py MODE stdio CORRAL_BINARY [ARGS...]

where MODE is the SDK's `mode`: `auto` (probe `server/discover`, use
MCP 2026-07-28 when the server offers it) or `legacy` (the 2025-11-25
initialize handshake). Prints one JSON object describing what the client
saw, which the Rust test asserts on. Needs `mcp==2.3.0`.

It lists the tools once, as soon as it is connected, with the SDK's own
caching, as an agent's client does: the first answer must be the whole
list.
"""

import json
import os
import sys

import anyio
from mcp import Client, StdioServerParameters

RESULT = {}


def server_from(argv):
    if argv[0] == "stdio":
        # The SDK passes a child only a few variables of its own
        # environment; CORRAL_DATA_DIR (where fs writes) is passed on.
        return StdioServerParameters(command=argv[1], args=argv[2:], env=dict(os.environ))
    return argv[0]


async def list_once(client):
    names = []
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor)
        names.extend(tool.name for tool in page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return names


async def main(mode, server):
    logs = []
    progress = []

    async def on_log(params):
        logs.append({"level": params.level, "data": params.data})

    async def on_progress(done, total, message):
        progress.append([done, total])

    # 2026-07-28 sends log messages only to requests that ask for them.
    log_level = "debug" if mode == "auto" else None
    async with Client(server, mode=mode, logging_callback=on_log, log_level=log_level) as client:
        RESULT["protocol_version"] = client.protocol_version
        RESULT["server_name"] = client.server_info.name if client.server_info else None

        # The server answers while its components load; a call waits for
        # its tool's component, so after it every bundled tool is listed.
        simple = await client.call_tool("test_simple_text", {})
        RESULT["simple_text"] = [c.text for c in simple.content]
        RESULT["simple_is_error"] = simple.is_error
        RESULT["tools"] = await list_once(client)

        bad = await client.call_tool("json_schema_2020_12_tool", {"name": 42})
        RESULT["invalid_arguments_is_error"] = bad.is_error

        await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        RESULT["progress"] = progress

        await client.call_tool("test_tool_with_logging", {})
        RESULT["logs_at_debug"] = list(logs)
        logs.clear()
        if mode == "legacy":
            await client.set_logging_level("error")
            await client.call_tool("test_tool_with_logging", {})
            RESULT["logs_at_error"] = list(logs)

        # Cancellation: abandon a slow call; the SDK sends
        # notifications/cancelled (or, on 2026-07-28 over HTTP, closes the
        # response stream).
        with anyio.move_on_after(0.05) as scope:
            await client.call_tool("test_reconnection", {})
        RESULT["cancelled_client_side"] = scope.cancelled_caught
        # The connection still works after a cancellation.
        again = await client.call_tool("test_simple_text", {})
        RESULT["call_after_cancel"] = not again.is_error

    if mode == "auto":
        # Without a log level, a 2026-07-28 client gets no log messages.
        logs.clear()
        async with Client(server, mode=mode, logging_callback=on_log) as quiet:
            await quiet.call_tool("test_tool_with_logging", {})
        RESULT["logs_without_level"] = list(logs)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], server_from(sys.argv[2:]))
    print(json.dumps(RESULT))
