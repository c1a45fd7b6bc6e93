"""A native MCP server whose tool and prompt lists change on demand, run
by Corral with the process launcher as `[[native]] name = "test"`.

Its tool `trigger_tool_change` (exposed by Corral as
`test_trigger_tool_change`, the name the MCP conformance suite calls) adds a
tool and sends `notifications/tools/list_changed`; `trigger_prompt_change`
(`test_trigger_prompt_change`) adds a prompt and sends
`notifications/prompts/list_changed`. Corral then lists the server again and
tells its own subscribed clients. It is the fixture for the suite's
list-change checks and for Corral's tests of lists that change while
serving. Needs `mcp==2.3.0`.
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


prompts_added = 0


@server.tool()
async def trigger_prompt_change(ctx: Context) -> str:
    """Adds a prompt named dynamic_prompt_<n> and tells the client the list changed."""
    global prompts_added
    prompts_added += 1
    name = f"dynamic_prompt_{prompts_added}"

    def dynamic() -> str:
        return f"Prompt {name}"

    server.prompt(name=name, description=f"Added by call {prompts_added} of trigger_prompt_change")(dynamic)
    await ctx.session.send_prompt_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    server.run()
