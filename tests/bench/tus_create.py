#!/usr/bin/env python3
"""tus creations as fast as they go: tus_create.py HOST:PORT THREADS N [TOKEN]

THREADS clients on kept connections, N creations (Upload-Length: 10, no
body) each; prints the rate, the latency's p50 and p99 and the statuses.
What a creation costs with and without the caps on unfinished uploads
(docs/operations.md, "Resource caps"); the uploads it makes stay until
they expire or are swept.
"""
import http.client
import sys
import threading
import time


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    threads, n = int(sys.argv[2]), int(sys.argv[3])
    token = sys.argv[4] if len(sys.argv) > 4 else None
    codes, lat = {}, []
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = []
        headers = {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
        if token:
            headers["Authorization"] = "Bearer " + token
        for _ in range(n):
            t = time.perf_counter()
            conn.request("POST", "/service/fileupload/uploads",
                         headers=headers)
            r = conn.getresponse()
            r.read()
            mine.append((r.status, time.perf_counter() - t))
        with lock:
            for status, seconds in mine:
                codes[status] = codes.get(status, 0) + 1
                lat.append(seconds)

    t0 = time.perf_counter()
    ts = [threading.Thread(target=client) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    lat.sort()
    print("%dx%d: %.0f creations/s, p50 %.1f ms, p99 %.1f ms, %s" % (
        threads, n, threads * n / elapsed, lat[len(lat) // 2] * 1000,
        lat[int(len(lat) * 0.99)] * 1000, dict(sorted(codes.items()))))


if __name__ == "__main__":
    main()
