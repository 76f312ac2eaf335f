#!/usr/bin/env python3
"""A webhook receiver for the tests (docs/api.md, "Events").

Listens on 127.0.0.1 (or --addr: the cluster test's private bridge; port
0: any, the port is written to --port-file),
records every delivery as one JSON line in --log (id, signature, body,
arrival time, the status answered, the attempt's number for its id) and
answers as the rules file (--rules, JSON, read again for each delivery)
says, so that a test can change them while it runs:

  fail_every N     the first try of each event whose id is a multiple of
                   N is answered 500
  stall_every N    the first try of each event whose id is a multiple of
                   N is held stall seconds (default 5) before its answer,
                   past the deliverer's timeout: recorded with status -1
                   (an answer the deliverer never sees)
  fail_hash H      every delivery of file H's events is answered 500
  delay S          every answer waits S seconds (a slow receiver)
  hang             every request is accepted and never answered

A delivery answered 500, or held past the deliverer's timeout, is
recorded all the same (status says what was answered).  The receiver
ends by itself when the process that started it ends.
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ATTEMPTS = {}


def rules(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        t = time.time()
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        eid = self.headers.get("Fileupload-Event-Id", "")
        r = rules(self.server.rules_path)
        with LOCK:
            ATTEMPTS[eid] = ATTEMPTS.get(eid, 0) + 1
            attempt = ATTEMPTS[eid]
        try:
            num = int(eid)
        except ValueError:
            num = -1
        try:
            fhash = json.loads(body).get("file_hash")
        except ValueError:
            fhash = None
        status = 200
        wait = float(r.get("delay", 0))
        if r.get("hang"):
            wait = 1e9
        fe, se = int(r.get("fail_every", 0)), int(r.get("stall_every", 0))
        if attempt == 1 and fe > 0 and num % fe == 0:
            status = 500
        stalled = attempt == 1 and se > 0 and num % se == 0
        if stalled:
            wait = max(wait, float(r.get("stall", 5)))
        if r.get("fail_hash") and fhash == r["fail_hash"]:
            status = 500
        line = json.dumps({"id": num, "sig": self.headers.get(
            "Fileupload-Signature"), "type": self.headers.get(
            "Content-Type"), "ua": self.headers.get("User-Agent"),
            "peer": self.client_address[0], "body": body, "t": t, "status": -1 if stalled else status, "attempt": attempt,
            "held": wait})
        with LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        if wait > 0:
            time.sleep(wait)
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    # A backlog for a batch's connections at once: with the default (5)
    # the kernel drops SYNs, and each costs the sender a 1 s retransmit.
    request_queue_size = 256
    daemon_threads = True


def watch_parent():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rules", required=True)
    a = ap.parse_args()
    srv = Server((a.addr, a.port), Handler)
    srv.log_path = a.log
    srv.rules_path = a.rules
    tmp = a.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, a.port_file)
    threading.Thread(target=watch_parent, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
