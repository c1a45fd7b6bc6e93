"""Lists a server's tools and calls some, with the official Python MCP SDK.

Run by tests/http/languages.rs as

    python3 tests/e2e/call_tools.py MODE URL CALLS

where MODE is the SDK's `mode` (`auto`: MCP 2026-07-28 when offered;
`legacy`: the 2025-11-25 initialize handshake) and CALLS a JSON array of
`[tool, arguments]` pairs. Prints one JSON object: the protocol version,
every listed tool (name, description, schemas) and, per call, its
`isError`, text items and structured content. Needs `mcp==2.3.0`.
"""

import json
import sys

import anyio
from mcp import Client


async def main(mode, server, calls):
    seen = {"tools": {}, "calls": []}
    async with Client(server, mode=mode) as client:
        seen["protocol_version"] = client.protocol_version
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
            for tool in page.tools:
                seen["tools"][tool.name] = {
                    "description": tool.description,
                    "inputSchema": tool.input_schema,
                    "outputSchema": tool.output_schema,
                }
            cursor = page.next_cursor
            if cursor is None:
                break
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            seen["calls"].append({
                "tool": name,
                "isError": result.is_error,
                "text": [c.text for c in result.content if c.type == "text"],
                "structured": result.structured_content,
            })
    print(json.dumps(seen))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
