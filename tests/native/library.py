# A third-party stdio MCP server with resources, a resource template, a
# prompt and a tool that asks the user (the official Python SDK, mcp 2.x):
# what Corral serves beside the components' and relays to its clients.
from pydantic import BaseModel

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("library")
BOOKS = {"dune": "Dune, by Frank Herbert", "emma": "Emma, by Jane Austen"}


@server.resource("library://catalog", mime_type="text/plain")
def catalog() -> str:
    """Every book the library holds."""
    return "\n".join(sorted(BOOKS))


@server.resource("library://books/{slug}", mime_type="text/plain")
def book(slug: str) -> str:
    """One book."""
    if slug not in BOOKS:
        raise ValueError(f"no book {slug}")
    return BOOKS[slug]


@server.prompt()
def review(slug: str) -> str:
    """Asks for a review of a book."""
    return f"Write a short review of {BOOKS.get(slug, slug)}."


class Confirm(BaseModel):
    ok: bool


@server.tool()
async def lend(slug: str, ctx: Context) -> str:
    """Lends a book after the borrower confirms."""
    answer = await ctx.elicit(f"Borrow {slug}?", Confirm)
    if answer.action == "accept" and answer.data.ok:
        return f"lent {slug}"
    return f"not lent ({answer.action})"


@server.tool()
async def touch(slug: str, ctx: Context) -> str:
    """Marks a book as changed: subscribers of its URI are told."""
    # On a stdio connection (2025-11-25) the update is a plain notification;
    # `ctx.notify_resource_updated` reaches only `subscriptions/listen`.
    await ctx.session.send_resource_updated(f"library://books/{slug}")
    return f"touched {slug}"


if __name__ == "__main__":
    server.run()
