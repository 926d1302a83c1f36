#!/usr/bin/python3
"""workspace.read: read a bounded slice of a file inside the run's workspace.

Prints one JSON document: {"path", "offset", "bytes", "size", "eof", "text"}. The path must stay
inside the workspace after symlinks are resolved.
"""
import argparse
import json
import os
import sys

WORKSPACE = "/workspace"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--length", type=int, default=4096)
    parser.add_argument("path")
    args = parser.parse_args()

    root = os.path.realpath(WORKSPACE)
    path = os.path.realpath(os.path.join(root, args.path))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        print(f"workspace.read: {args.path} is not a file in the workspace", file=sys.stderr)
        return 2
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        handle.seek(args.offset)
        data = handle.read(args.length)
    json.dump({
        "path": args.path,
        "offset": args.offset,
        "bytes": len(data),
        "size": size,
        "eof": args.offset + len(data) >= size,
        "text": data.decode("utf-8", errors="replace"),
    }, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
