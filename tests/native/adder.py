# A third-party stdio MCP server for the process-launcher test: the official
# Python SDK (mcp 2.x, where FastMCP is named MCPServer).
from mcp.server.mcpserver import MCPServer
server = MCPServer("py-adder")

@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b

if __name__ == "__main__":
    server.run()
