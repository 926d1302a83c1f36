#!/usr/bin/python3
"""csv.summarize: summarise a CSV file of a table dataset.

Prints one JSON document: {"file", "rows", "columns": [{"name", "type", "empty", "distinct",
"min", "max", "mean"}]}; numeric columns get min/max/mean, others the shortest and longest value.
"""
import argparse
import csv
import json
import os
import sys

DISTINCT_CAP = 1000


def classify(value):
    try:
        int(value)
        return "integer"
    except ValueError:
        pass
    try:
        float(value)
        return "number"
    except ValueError:
        return "text"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--max-rows", type=int, default=100000)
    args = parser.parse_args()

    root = os.path.realpath(args.root)
    path = os.path.realpath(os.path.join(root, args.file))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        print(f"csv.summarize: {args.file} is not a file in the dataset", file=sys.stderr)
        return 2

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            print(f"csv.summarize: {args.file} is empty", file=sys.stderr)
            return 2
        stats = [{"name": name, "types": set(), "empty": 0, "values": set(), "numbers": []} for name in header]
        rows = 0
        truncated = False
        for row in reader:
            if rows >= args.max_rows:
                truncated = True
                break
            rows += 1
            for index, column in enumerate(stats):
                value = row[index].strip() if index < len(row) else ""
                if value == "":
                    column["empty"] += 1
                    continue
                kind = classify(value)
                column["types"].add(kind)
                if len(column["values"]) <= DISTINCT_CAP:
                    column["values"].add(value)
                if kind != "text":
                    column["numbers"].append(float(value))

    columns = []
    for column in stats:
        types = column["types"]
        kind = "empty" if not types else "text" if "text" in types else "number" if "number" in types else "integer"
        summary = {
            "name": column["name"],
            "type": kind,
            "empty": column["empty"],
            "distinct": len(column["values"]) if len(column["values"]) <= DISTINCT_CAP else f">{DISTINCT_CAP}",
        }
        if kind in ("integer", "number") and column["numbers"]:
            numbers = column["numbers"]
            summary.update(min=min(numbers), max=max(numbers), mean=round(sum(numbers) / len(numbers), 6))
        columns.append(summary)
    json.dump({"file": args.file, "rows": rows, "truncated": truncated, "columns": columns}, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
