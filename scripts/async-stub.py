#!/usr/bin/env python3
"""Writes the `AsyncGym` stub from the `Gym` stub in powergym/_powergym.pyi.

The two classes are made from one list of use cases (the `use_cases!` macro in
powergym-py/src/gym/mod.rs), so their stubs are too: `AsyncGym` has the same methods
with the same parameters, each returning an awaitable of what `Gym`'s returns.

    scripts/async-stub.py          rewrite the AsyncGym block
    scripts/async-stub.py --check  exit 1 when it is out of date (the test suite runs this)
"""

import pathlib
import re
import sys

STUB = pathlib.Path(__file__).resolve().parent.parent / "powergym-py/python/powergym/_powergym.pyi"
# Methods that do no I/O stay plain calls on AsyncGym too.
SYNC = {"today", "disable_face_cache", "face_cache_size"}


def block(text: str, cls: str) -> tuple[int, int]:
    """Start and end offsets of `@final\\nclass cls:` up to the next top-level line."""
    start = text.index(f"@final\nclass {cls}:\n")
    body = text.index(f"class {cls}:\n", start)
    m = re.compile(r"^\S", re.M).search(text, body + len(f"class {cls}:\n"))
    return start, (m.start() if m else len(text))


def derive(gym: str) -> str:
    out = []
    name = None
    for line in gym.splitlines():
        d = re.match(r"\s+def (\w+)\(", line)
        if d:
            name = d.group(1)
        if line == "class Gym:":
            line = "class AsyncGym:"
        elif name == "__enter__":
            line = line.replace("def __enter__(self) -> Gym: ...", "def __aenter__(self) -> Awaitable[AsyncGym]: ...")
        elif name == "__exit__":
            line = line.replace("def __exit__(", "def __aexit__(").replace(") -> None: ...", ") -> Awaitable[None]: ...")
        else:
            r = re.match(r"^(.*)-> (.+): \.\.\.$", line)
            if r and name not in SYNC:
                ret = "AsyncGym" if name == "connect" else r.group(2)
                line = f"{r.group(1)}-> Awaitable[{ret}]: ..."
        out.append(line)
    return "\n".join(out) + "\n"


def main() -> int:
    text = STUB.read_text()
    gs, ge = block(text, "Gym")
    wanted = derive(text[gs:ge].rstrip("\n")) + "\n"
    if "@final\nclass AsyncGym:\n" in text:
        s, e = block(text, "AsyncGym")
        new = text[:s] + wanted + text[e:]
    else:
        new = text[:ge] + wanted + text[ge:]
    if "--check" in sys.argv:
        if new != text:
            print(f"{STUB}: the AsyncGym stub is out of date; run scripts/async-stub.py", file=sys.stderr)
            return 1
        return 0
    STUB.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
