#!/usr/bin/env python3
"""Delivery lag from a webhook receiver's log (tests/integration/
webhook_receiver.py): for each event's first 2xx, its arrival time less
the event's time.

  webhook_lag.py LOG AT_FILE

AT_FILE: "id|unix seconds" lines (the events' at, to the microsecond,
from PostgreSQL).  Prints "events=N delivered=D p50_ms=X p99_ms=Y
max_ms=Z".
"""

import json
import sys


def pct(v, p):
    if not v:
        return 0
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    at = {}
    with open(sys.argv[2], encoding="utf-8") as f:
        for line in f:
            if "|" in line:
                i, t = line.strip().split("|")
                at[int(i)] = float(t)
    first = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["status"] == 200 and d["id"] in at and d["id"] not in first:
                first[d["id"]] = d["t"]
    lag = sorted((first[i] - at[i]) * 1000 for i in first)
    print("events=%d delivered=%d p50_ms=%.0f p99_ms=%.0f max_ms=%.0f" % (
        len(at), len(lag), pct(lag, 50), pct(lag, 99), lag[-1] if lag else 0))


if __name__ == "__main__":
    main()
