"""MCP tasks with the official Python MCP SDK as the client.

Run by tests/http/tasks.rs and tests/stdio.rs as

    python3 tests/e2e/tasks_client.py REVISION URL
    python3 tests/e2e/tasks_client.py REVISION stdio CORRAL_BINARY [ARGS...]

where REVISION is `2026-07-28` (the `io.modelcontextprotocol/tasks`
extension, SEP-2663; the SDK's `auto` mode) or `2025-11-25` (the `task`
param of `tools/call`; the SDK's `legacy` mode).
The server must serve the conformance component's task fixtures
(`slow_compute`, `protocol_error_job`, `greet`) with one slot
(`max_concurrency = 1`, `queue_timeout_ms = 0`). The client

1. starts `slow_compute {seconds: 2}` as a task, polls `tasks/get` until
   it ends, and reads its result (2026-07-28: inlined in `tasks/get`;
   2025-11-25: from `tasks/result`, with `_meta` `related-task`);
2. starts `slow_compute {seconds: 60}` as a task, calls `greet` (refused:
   the task holds the one slot), cancels the task, and at once calls
   `greet` again, which succeeds only if the cancel freed the slot;
3. starts `protocol_error_job` as a task and polls until it ends.

Prints one JSON object of what it saw, which the Rust test asserts on.
Needs `mcp==2.3.0`.

The SDK has no tasks API. On 2026-07-28 it drives the extension through
its generic hooks: a `ClientExtension` declaring the identifier (so every
request carries it in `clientCapabilities`), a `ResultClaim` for
`resultType: "task"` and `Request` subclasses for `tasks/get` and
`tasks/cancel` (with `name_param`, for `Mcp-Name`). On 2025-11-25 it has
the request and result types, but checks every `tools/call` answer
against `CallToolResult`, so the `tools/call` that starts a task goes
through the session's dispatcher as a raw request.
"""

import json
import os
import sys
import time
from typing import Any, Literal

import anyio
import mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result

TASKS = "io.modelcontextprotocol/tasks"
RELATED_TASK = "io.modelcontextprotocol/related-task"
FINAL = ("completed", "failed", "cancelled")
DEADLINE_SECONDS = 30


# ---------------------------------------------------------------- 2026-07-28


class CreateTaskResult(Result):
    """The flat CreateTaskResult of SEP-2663 (`resultType: "task"`)."""

    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class TaskIdParams(RequestParams):
    task_id: str


class GetTaskRequest(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams
    name_param = "taskId"


class CancelTaskRequest(Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskIdParams
    name_param = "taskId"


class DetailedTask(Result):
    """A `tasks/get` answer; the model drops undeclared keys, so all are here."""

    result_type: str = "complete"
    task_id: str
    status: str
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = None


class Ack(Result):
    """The `tasks/cancel` acknowledgement, `{resultType: "complete"}`."""

    result_type: str = "complete"


async def resolve(created: CreateTaskResult, ctx: ClaimContext) -> CallToolResult:
    """What `Client.call_tool` would do with a task: poll it to its end."""
    done = await poll_modern(ctx.session, created.task_id)
    if done.status != "completed":
        raise RuntimeError(f"task {done.status}: {done.error}")
    return CallToolResult.model_validate(done.result)


class Tasks(ClientExtension):
    identifier = TASKS

    def claims(self):
        return [ResultClaim(result_type="task", model=CreateTaskResult, resolve=resolve)]


async def poll_modern(session, task_id):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        now = await session.send_request(GetTaskRequest(params=TaskIdParams(task_id=task_id)), DetailedTask)
        if now.status in FINAL or time.monotonic() > deadline:
            return now
        await anyio.sleep(min(now.poll_interval_ms or 100, 100) / 1000)


async def start_modern(session, name, arguments):
    created = await session.call_tool(name, arguments, allow_claimed=True)
    if not isinstance(created, CreateTaskResult):
        raise RuntimeError(f"{name} did not become a task: {created!r}")
    return created


def text_of(result):
    return "".join(c.get("text", "") for c in (result or {}).get("content", []) if c.get("type") == "text")


async def modern(server):
    seen = {}
    # `auto` probes `server/discover`, which also tells the capabilities.
    async with Client(server, mode="auto", extensions=[Tasks()]) as client:
        session = client.session
        seen["protocol_version"] = client.protocol_version
        caps = client.server_capabilities
        seen["extension_advertised"] = TASKS in ((caps.extensions or {}) if caps else {})
        await until_listed(client, "slow_compute")

        # 1. Start, poll to the end, read the inlined result.
        created = await start_modern(session, "slow_compute", {"seconds": 2, "label": "py"})
        done = await poll_modern(session, created.task_id)
        seen["completed"] = {
            "created_status": created.status,
            "ttl_ms": created.ttl_ms,
            "status": done.status,
            "is_error": (done.result or {}).get("isError"),
            "text": text_of(done.result),
        }

        # 2. Cancel a running task; its slot is free for the next call.
        running = await start_modern(session, "slow_compute", {"seconds": 60, "label": "py-cancel"})
        # It holds the one slot: a call now is refused at once.
        busy = await client.call_tool("greet", {"name": "busy"})
        ack = await session.send_request(CancelTaskRequest(params=TaskIdParams(task_id=running.task_id)), Ack)
        started = time.monotonic()
        greet = await client.call_tool("greet", {"name": "after"})
        elapsed = time.monotonic() - started
        after = await session.send_request(GetTaskRequest(params=TaskIdParams(task_id=running.task_id)), DetailedTask)
        seen["cancel"] = {
            "busy_is_error": busy.is_error,
            "busy_text": "".join(c.text for c in busy.content if c.type == "text"),
            "ack_result_type": ack.result_type,
            "greet_is_error": greet.is_error,
            "greet_text": "".join(c.text for c in greet.content if c.type == "text"),
            "greet_seconds": elapsed,
            "status_after": after.status,
        }

        # 3. A task whose guest traps ends failed, naming the outcome.
        crash = await start_modern(session, "protocol_error_job", {})
        failed = await poll_modern(session, crash.task_id)
        seen["failed"] = {"status": failed.status, "error": failed.error, "has_result": failed.result is not None}

        # The extension's claim resolved by the SDK itself: `call_tool`
        # polls the task and hands back the plain result.
        resolved = await client.call_tool("slow_compute", {"seconds": 1, "label": "py-resolved"})
        seen["resolved_text"] = "".join(c.text for c in resolved.content if c.type == "text")
    return seen


# ---------------------------------------------------------------- 2025-11-25


async def raw_request(session, method, params):
    """A request past the SDK's result checks, stamped as the session's own."""
    data = {"method": method, "params": params}
    opts = {}
    session._stamp(data, opts)
    return await session._dispatcher.send_raw_request(method, data["params"], opts)


async def start_legacy(session, name, arguments):
    raw = await raw_request(session, "tools/call", {"name": name, "arguments": arguments, "task": {"ttl": 60000}})
    return mcp_types.CreateTaskResult.model_validate(raw, by_name=False).task


async def get_legacy(session, task_id):
    request = mcp_types.GetTaskRequest(params=mcp_types.GetTaskRequestParams(task_id=task_id))
    return await session.send_request(request, mcp_types.GetTaskResult)


async def poll_legacy(session, task_id):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        now = await get_legacy(session, task_id)
        if now.status in FINAL or time.monotonic() > deadline:
            return now
        await anyio.sleep(min(now.poll_interval or 100, 100) / 1000)


async def result_legacy(session, task_id):
    request = mcp_types.GetTaskPayloadRequest(params=mcp_types.GetTaskPayloadRequestParams(task_id=task_id))
    result = await session.send_request(request, CallToolResult)
    return {
        "is_error": result.is_error,
        "text": "".join(c.text for c in result.content if c.type == "text"),
        "related_task": ((result.meta or {}).get(RELATED_TASK) or {}).get("taskId") == task_id,
    }


async def legacy(server):
    seen = {}
    async with Client(server, mode="legacy") as client:
        session = client.session
        seen["protocol_version"] = client.protocol_version
        caps = client.server_capabilities
        seen["tasks_capability"] = caps.model_dump(by_alias=True, exclude_none=True).get("tasks") if caps else None
        await until_listed(client, "slow_compute")

        # 1. Start, poll to the end, fetch the result.
        created = await start_legacy(session, "slow_compute", {"seconds": 2, "label": "py"})
        done = await poll_legacy(session, created.task_id)
        seen["completed"] = {"created_status": created.status, "ttl": created.ttl, "status": done.status}
        seen["completed"].update(await result_legacy(session, created.task_id))

        # 2. Cancel a running task; its slot is free for the next call.
        running = await start_legacy(session, "slow_compute", {"seconds": 60, "label": "py-cancel"})
        # It holds the one slot: a call now is refused at once.
        busy = await client.call_tool("greet", {"name": "busy"})
        request = mcp_types.CancelTaskRequest(params=mcp_types.CancelTaskRequestParams(task_id=running.task_id))
        cancelled = await session.send_request(request, mcp_types.CancelTaskResult)
        started = time.monotonic()
        greet = await client.call_tool("greet", {"name": "after"})
        elapsed = time.monotonic() - started
        after = await get_legacy(session, running.task_id)
        seen["cancel"] = {
            "busy_is_error": busy.is_error,
            "busy_text": "".join(c.text for c in busy.content if c.type == "text"),
            "cancel_status": cancelled.status,
            "greet_is_error": greet.is_error,
            "greet_text": "".join(c.text for c in greet.content if c.type == "text"),
            "greet_seconds": elapsed,
            "status_after": after.status,
        }

        # 3. A task whose guest traps ends failed; its result is an error.
        crash = await start_legacy(session, "protocol_error_job", {})
        failed = await poll_legacy(session, crash.task_id)
        seen["failed"] = {"status": failed.status, "status_message": failed.status_message}
        seen["failed"].update(await result_legacy(session, crash.task_id))
    return seen


async def until_listed(client, name):
    """Lists until `name` is there: a server lists only the components that
    have finished loading, and with `queue_timeout_ms = 0` a call does not
    wait for one still loading (over stdio the server answers at once)."""
    with anyio.fail_after(60):
        while True:
            page = await client.list_tools(cache_mode="bypass")
            if any(tool.name == name for tool in page.tools):
                return
            await anyio.sleep(0.05)


def server_from(argv):
    if argv[0] == "stdio":
        return StdioServerParameters(command=argv[1], args=argv[2:], env=dict(os.environ))
    return argv[0]


async def main(revision, server):
    seen = await (modern(server) if revision == "2026-07-28" else legacy(server))
    print(json.dumps(seen))


if __name__ == "__main__":
    if sys.argv[1] not in ("2026-07-28", "2025-11-25"):
        sys.exit(f"unknown revision {sys.argv[1]!r}: 2026-07-28 or 2025-11-25")
    anyio.run(main, sys.argv[1], server_from(sys.argv[2:]))
