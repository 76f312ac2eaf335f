#!/usr/bin/env python3
"""Checks a webhook receiver's log (webhook_receiver.py) against the feed.

  webhook_check.py LOG FEED SECRET [--dupes-before T] [--failed ID,...]

FEED holds the feed's events (one compact JSON object a line) that must
all be delivered.  Checked, with Python's own HMAC (an implementation
other than the worker's): every event of FEED answered 2xx at least
once, nothing delivered that FEED lacks, each delivery's body the feed's
event and its signature right, each file's events in id order (an event
first sent only once the earlier event of its file was answered 2xx or
given up on), an event delivered twice only when its first 2xx came
before T (unix seconds: an answer lost with a killed worker; none when
not given).  Events in --failed must never be answered 2xx.  Prints one
line per problem and exits 1 when there is one; else prints a summary.
"""

import argparse
import hashlib
import hmac
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("feed")
    ap.add_argument("secret")
    ap.add_argument("--dupes-before", type=float, default=None)
    ap.add_argument("--failed", default="")
    a = ap.parse_args()
    feed = {}
    with open(a.feed, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                e = json.loads(line)
                feed[e["id"]] = e
    failed = {int(x) for x in a.failed.split(",") if x}
    got = {}
    problems = []
    with open(a.log, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            got.setdefault(d["id"], []).append(d)
    key = a.secret.encode()
    for eid, ds in got.items():
        if eid not in feed:
            problems.append("delivered but not in the feed: %d" % eid)
            continue
        want = feed[eid]
        for d in ds:
            body = json.loads(d["body"])
            if body != want:
                problems.append("event %d: body %s, feed %s" % (
                    eid, d["body"], json.dumps(want)))
            mac = "sha256=" + hmac.new(key, d["body"].encode(),
                                       hashlib.sha256).hexdigest()
            if not hmac.compare_digest(mac, d["sig"] or ""):
                problems.append("event %d: bad signature %s" % (
                    eid, d["sig"]))
            if d["type"] != "application/json":
                problems.append("event %d: Content-Type %s" % (
                    eid, d["type"]))
    ok_at = {}
    dupes = 0
    for eid, ds in got.items():
        oks = sorted(d["t"] for d in ds if d["status"] == 200)
        if oks:
            ok_at[eid] = oks[0]
        if len(oks) > 1:
            dupes += len(oks) - 1
            if a.dupes_before is None or oks[0] >= a.dupes_before:
                problems.append("event %d answered 2xx %d times" % (
                    eid, len(oks)))
    for eid in feed:
        if eid in failed:
            if eid in ok_at:
                problems.append("event %d delivered, should fail" % eid)
        elif eid not in ok_at:
            problems.append("event %d never delivered (%d tries)" % (
                eid, len(got.get(eid, []))))
    # Per file: an event first sent after the earlier one's end.
    by_file = {}
    for eid in sorted(feed):
        by_file.setdefault(feed[eid]["file_hash"], []).append(eid)
    for h, ids in by_file.items():
        for x, y in zip(ids, ids[1:]):
            if y not in got or x not in got:
                continue
            end = ok_at.get(x, max(d["t"] for d in got[x]))
            first = min(d["t"] for d in got[y])
            if first < end:
                problems.append("file %s: event %d sent at %.3f, before "
                                "event %d ended at %.3f" % (
                                    h[:12], y, first, x, end))
    for p in problems[:40]:
        print(p)
    if problems:
        return 1
    tries = sum(len(ds) for ds in got.values())
    print("%d events, %d deliveries, %d duplicate 2xx" % (
        len(feed), tries, dupes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
