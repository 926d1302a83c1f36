#!/usr/bin/python3
"""sql.select: run one read-only SELECT on a SQLite dataset, with a row cap.

The database is opened read-only and immutable, and an authorizer allows only reading: any
write, ATTACH, PRAGMA or DDL is refused by SQLite itself, whatever the text of the query.
Prints one JSON document: {"columns", "rows", "truncated"}.
"""
import argparse
import json
import sqlite3
import sys

ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
RECURSIVE = getattr(sqlite3, "SQLITE_RECURSIVE", 33)


def authorizer(action, *_):
    return sqlite3.SQLITE_OK if action in ALLOWED or action == RECURSIVE else sqlite3.SQLITE_DENY


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--max-rows", type=int, default=100)
    parser.add_argument("query")
    args = parser.parse_args()

    text = args.query.strip().rstrip(";").strip()
    if ";" in text:
        print("sql.select: exactly one statement is allowed", file=sys.stderr)
        return 2
    if text.split(None, 1)[0].lower() not in ("select", "with"):
        print("sql.select: only SELECT (or WITH … SELECT) queries are allowed", file=sys.stderr)
        return 2
    try:
        connection = sqlite3.connect(f"file:{args.db}?mode=ro&immutable=1", uri=True)
        connection.set_authorizer(authorizer)
        cursor = connection.execute(text)
        rows = cursor.fetchmany(args.max_rows + 1)
    except sqlite3.Error as error:
        print(f"sql.select: {error}", file=sys.stderr)
        return 2
    truncated = len(rows) > args.max_rows
    columns = [column[0] for column in cursor.description or []]
    payload = {"columns": columns, "rows": [list(row) for row in rows[: args.max_rows]], "truncated": truncated}
    json.dump(payload, sys.stdout, sort_keys=True, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
