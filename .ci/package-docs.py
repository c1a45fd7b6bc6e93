"""Appends a `package-docs` custom section to a component built from WIT.

    python3 .ci/package-docs.py WIT_FILE COMPONENT

componentize-py drops WIT doc comments, and Corral takes a plain
component's tool descriptions from them. This writes the section as
wit-component defines it (a version byte, 0, then JSON) from the `///`
comments of the world's inline interfaces (`export NAME: interface {`)
and of their functions (one `name: func` a line).

The section documents the package a tool decodes the component into,
`root:component`, whose world is `root`. So only a world's own items can
be documented: docs naming an interface of another package make
`wasm-tools component wit` fail with `missing interface`. That is why
tools/python-stats declares its interface inline.
"""

import json
import re
import sys


def leb128(n):
    """`n` as unsigned LEB128, how wasm writes a section's sizes."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def inline_interface_docs(wit):
    """{interface: {"docs": ..., "funcs": {func: docs}}} from `///` comments."""
    interfaces, current, doc = {}, None, []
    for line in wit.splitlines():
        s = line.strip()
        if s.startswith("///"):
            doc.append(s[3:].removeprefix(" "))
            continue
        if m := re.match(r"export\s+([a-z][a-z0-9-]*)\s*:\s*interface\s*\{", s):
            current = interfaces.setdefault(m[1], {"funcs": {}})
            if doc:
                current["docs"] = "\n".join(doc)
        elif (m := re.match(r"([a-z][a-z0-9-]*)\s*:\s*func\b", s)) and current is not None and doc:
            current["funcs"][m[1]] = "\n".join(doc)
        doc = []
    return interfaces


def main():
    wit_path, component = sys.argv[1:]
    with open(wit_path, encoding="utf-8") as f:
        interfaces = inline_interface_docs(f.read())
    docs = {"worlds": {"root": {"interfaces": interfaces}}}
    payload = b"\x00" + json.dumps(docs).encode()
    name = b"package-docs"
    body = leb128(len(name)) + name + payload
    # A custom section (id 0) may stand anywhere in a component: append it.
    with open(component, "ab") as f:
        f.write(b"\x00" + leb128(len(body)) + body)


if __name__ == "__main__":
    main()
