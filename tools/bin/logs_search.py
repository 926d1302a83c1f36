#!/usr/bin/python3
"""logs.search: search a log directory with a regular expression.

Prints one JSON document: {"matches": [{"file", "line", "text"}], "truncated", "filesScanned"}.
Reads only under --root (the dataset mount); never follows symlinks out of it.
"""
import argparse
import fnmatch
import json
import os
import re
import sys

MAX_LINE_CHARS = 500


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--glob", default="*")
    parser.add_argument("--max-matches", type=int, default=100)
    parser.add_argument("--ignore-case", action="store_true")
    parser.add_argument("pattern")
    args = parser.parse_args()

    try:
        regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
    except re.error as error:
        print(f"logs.search: invalid pattern: {error}", file=sys.stderr)
        return 2

    root = os.path.realpath(args.root)
    matches, truncated, scanned = [], False, 0
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            if not fnmatch.fnmatch(name, args.glob):
                continue
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.realpath(path).startswith(root + os.sep):
                continue
            scanned += 1
            with open(path, "r", encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, start=1):
                    if regex.search(line):
                        if len(matches) >= args.max_matches:
                            truncated = True
                            break
                        matches.append({
                            "file": os.path.relpath(path, root),
                            "line": number,
                            "text": line.rstrip("\n")[:MAX_LINE_CHARS],
                        })
            if truncated:
                break
        if truncated:
            break
    json.dump({"matches": matches, "truncated": truncated, "filesScanned": scanned}, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
