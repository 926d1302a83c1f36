#!/usr/bin/python3
"""workspace.note: append a note to notes.md in the run's workspace.

Reads its arguments as one JSON object on standard input ({"text", "title"?}); prints one JSON
document: {"file", "bytesWritten", "size"}.
"""
import json
import os
import sys

NOTES = "/workspace/notes.md"


def main():
    try:
        arguments = json.load(sys.stdin)
    except ValueError as error:
        print(f"workspace.note: arguments on stdin are not JSON: {error}", file=sys.stderr)
        return 2
    title = arguments.get("title") or "Note"
    entry = f"## {title}\n\n{arguments['text'].rstrip()}\n\n"
    data = entry.encode("utf-8")
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
    descriptor = os.open(NOTES, flags, 0o600)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    json.dump({"file": "notes.md", "bytesWritten": len(data), "size": os.path.getsize(NOTES)}, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
