#!/usr/bin/python3
"""sql.select: run one read-only SELECT on a SQLite dataset, with a row cap.

The database is opened read-only and immutable, and an authorizer allows only reading: any
write, ATTACH, PRAGMA or DDL is refused by SQLite itself, whatever the text of the query. Functions
are allow-listed by name too: the core scalar, aggregate, window, date and JSON functions only, so
that fts3_tokenizer (a known memory-corruption primitive), load_extension, randomblob/zeroblob
(memory on demand) and anything a later SQLite adds are refused.
Prints one JSON document: {"columns", "rows", "truncated"}.
"""
import argparse
import json
import sqlite3
import sys

ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ}
RECURSIVE = getattr(sqlite3, "SQLITE_RECURSIVE", 33)
FUNCTIONS = frozenset(
    """
    abs avg char coalesce count cume_dist date datetime dense_rank first_value format glob
    group_concat hex ifnull iif instr json json_array json_array_length json_extract json_group_array
    json_group_object json_object json_type json_valid julianday lag last_value lead length like
    likelihood likely lower ltrim max min nth_value ntile nullif percent_rank printf quote rank replace
    round row_number rtrim sign string_agg strftime substr substring sum time timediff total trim
    typeof unicode unixepoch unlikely upper
    """.split()
)


def authorizer(action, first, second, *_):
    if action in ALLOWED or action == RECURSIVE:
        return sqlite3.SQLITE_OK
    # For SQLITE_FUNCTION, the second argument is the function's name as written.
    if action == sqlite3.SQLITE_FUNCTION and (second or "").lower() in FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


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
