"""The notes example, end to end, with the official Python MCP SDK as the
client. Run by tests/http/python_sdk.rs and tests/stdio.rs as

    python3 tests/e2e/notes_client.py MODE URL
    python3 tests/e2e/notes_client.py MODE stdio CORRAL_BINARY [ARGS...]

against a server with the bundled notes component (namespace `notes`) and
an empty notes directory. MODE is the SDK's `mode` (`auto`: MCP 2026-07-28,
where a question is an `input_required` round the SDK answers and retries;
`legacy`: 2025-11-25, where the server asks during the call). Writes two
notes, reads one as a resource, gets the summarize prompt, completes a
note name, then deletes one note with the user accepting and tries the
other with the user declining. Prints what it saw as one JSON object.
Needs `mcp==2.3.0`.
"""

import json
import os
import sys

import anyio
from mcp import Client, StdioServerParameters, types

RESULT = {}


def server_from(argv):
    if argv[0] == "stdio":
        # The SDK passes a child only a few variables of its own
        # environment; CORRAL_DATA_DIR (where the notes live) is passed on.
        return StdioServerParameters(command=argv[1], args=argv[2:], env=dict(os.environ))
    return argv[0]


def text_of(result):
    return "".join(c.text for c in result.content if getattr(c, "text", None))


async def main(mode, server):
    answers = []
    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        action = answers.pop(0)
        if action == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action=action)

    async with Client(server, mode=mode, elicitation_callback=on_elicit) as client:
        RESULT["protocol_version"] = client.protocol_version
        for name, text in [("groceries.md", "- eggs\n- milk\n"), ("ideas.md", "Corral everything.\n")]:
            written = await client.call_tool("notes_write_note", {"name": name, "text": text})
            assert not written.is_error, text_of(written)

        read = await client.read_resource("notes://groceries.md")
        RESULT["read"] = read.contents[0].text

        templates = await client.list_resource_templates()
        RESULT["templates"] = [t.uri_template for t in templates.resource_templates]

        prompt = await client.get_prompt("notes_summarize_note", {"name": "ideas.md"})
        RESULT["prompt"] = json.dumps(prompt.model_dump(mode="json"))

        completion = await client.complete(
            types.PromptReference(type="ref/prompt", name="notes_summarize_note"),
            {"name": "name", "value": "gr"},
        )
        RESULT["completion"] = completion.completion.values

        answers.append("accept")
        deleted = await client.call_tool("notes_delete_note", {"name": "groceries.md"})
        RESULT["accepted"] = {"is_error": deleted.is_error, "text": text_of(deleted)}

        answers.append("decline")
        kept = await client.call_tool("notes_delete_note", {"name": "ideas.md"})
        RESULT["declined"] = {"is_error": kept.is_error, "text": text_of(kept)}

        listed = await client.call_tool("notes_list_notes", {})
        RESULT["left"] = text_of(listed)
        RESULT["asked"] = asked


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], server_from(sys.argv[2:]))
    print(json.dumps(RESULT))
