"""A native MCP server whose tool list changes on demand, run by Corral
with the process launcher as `[[native]] name = "test"`.

Its tool `trigger_tool_change` (exposed by Corral as
`test_trigger_tool_change`, the name the MCP conformance suite calls) adds a
tool and sends `notifications/tools/list_changed`; Corral then lists the
server's tools again and tells its own subscribed clients. It is the
fixture for the suite's list-change checks and for Corral's tests of tool
lists that change while serving. Needs `mcp==2.3.0`.
"""

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("changing-tools")
added = 0


@server.tool()
async def trigger_tool_change(ctx: Context) -> str:
    """Adds a tool named dynamic_<n> and tells the client the list changed."""
    global added
    added += 1
    name = f"dynamic_{added}"

    def dynamic() -> str:
        return name

    server.add_tool(dynamic, name=name, description=f"Added by call {added} of trigger_tool_change")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    server.run()
