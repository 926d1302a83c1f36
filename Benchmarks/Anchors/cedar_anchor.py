"""Cedar anchor for the policy benchmark: Cedar (through cedarpy's batch API) deciding the same
requests over the equivalent policy set that the Swift side generated.

usage: python cedar_anchor.py POLICIES.cedar REQUESTS.json
Reads commands on stdin, one a line, and answers each with one line on stdout:
  decide      -> a JSON list, true where Cedar allows the request (the equivalence check)
  time N      -> nanoseconds per decision of one is_authorized_batch call over N requests
  version     -> cedarpy's version
"""
import json
import sys
import time
from importlib import metadata

import cedarpy


def main():
    policies = cedarpy.PolicySet.from_str(open(sys.argv[1]).read())
    entities = cedarpy.Entities.from_json_str("[]")
    requests = json.load(open(sys.argv[2]))
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "decide":
            results = cedarpy.is_authorized_batch(requests, policies, entities)
            errors = [e for r in results for e in r.diagnostics.errors]
            if errors:
                print(json.dumps({"errors": errors[:3]}))
            else:
                print(json.dumps([r.allowed for r in results]))
        elif command[0] == "time":
            count = int(command[1])
            batch = (requests * (count // len(requests) + 1))[:count]
            start = time.perf_counter_ns()
            cedarpy.is_authorized_batch(batch, policies, entities)
            print((time.perf_counter_ns() - start) / count)
        elif command[0] == "version":
            print(metadata.version("cedarpy"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
