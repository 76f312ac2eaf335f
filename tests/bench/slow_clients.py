#!/usr/bin/env python3
"""Slow upload clients for tests/bench/slow_clients.sh.

Keeps N connections open to HOST:PORT, each sending a multipart POST to
PATH at RATE bytes per second (one byte at a time, on a timer), and opens a
new one whenever the server answers or closes one (a 408 cut, a 503 past
the upload slots).  Runs until SIGTERM/SIGINT or --seconds, then prints one
line:

    SLOW clients=N connected=C opened=O answers=408:3,503:10 closed=K

"connected" is how many were open (headers sent, no answer yet) at the end;
--status FILE keeps the current count in FILE.
Loopback only: HOST must be 127.0.0.1 or ::1.
"""
import argparse
import asyncio
import collections
import os
import signal
import sys
import time

BOUNDARY = "----fileuploadslow"


def request_head(path, length, token, host):
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Content-Length: {length}",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def body_bytes(length):
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            'name="upfile"; filename="slow.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    fill = length - len(head) - len(tail)
    return head + b"s" * fill + tail


class Stats:
    def __init__(self):
        self.opened = 0
        self.open_now = 0
        self.answers = collections.Counter()
        self.closed = 0


async def one_client(args, stats, stop):
    body = body_bytes(args.length)
    head = request_head(args.path, len(body), args.token,
                        f"{args.host}:{args.port}")
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(args.host,
                                                           args.port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        stats.opened += 1
        stats.open_now += 1
        answer = asyncio.ensure_future(reader.readline())
        try:
            writer.write(head)
            await writer.drain()
            for i in range(len(body)):
                done, _ = await asyncio.wait(
                    {answer, asyncio.ensure_future(stop.wait())},
                    timeout=1.0 / args.rate,
                    return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set() or answer in done:
                    break
                writer.write(body[i:i + 1])
                await writer.drain()
            if answer.done() and not answer.cancelled():
                line = answer.result().decode("latin-1").split()
                if len(line) >= 2:
                    stats.answers[line[1]] += 1
                else:
                    stats.closed += 1
        except (OSError, asyncio.IncompleteReadError):
            stats.closed += 1
        finally:
            stats.open_now -= 1
            answer.cancel()
            writer.close()


async def probe(args):
    body = body_bytes(args.length)
    reader, writer = await asyncio.open_connection(args.host, args.port)
    writer.write(request_head(args.path, len(body), args.token,
                              f"{args.host}:{args.port}") + body[:1])
    await writer.drain()
    start = time.monotonic()
    line = await asyncio.wait_for(reader.readline(), 30)
    ms = (time.monotonic() - start) * 1000
    writer.close()
    status = line.decode("latin-1").split()
    print(f"{status[1] if len(status) > 1 else '-'} {ms:.1f}", flush=True)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("path")
    p.add_argument("clients", type=int)
    p.add_argument("--rate", type=float, default=1.0, help="bytes/s")
    p.add_argument("--length", type=int, default=1 << 20,
                   help="body length announced (bytes)")
    p.add_argument("--token", default="")
    p.add_argument("--seconds", type=float, default=0)
    p.add_argument("--status", help="file rewritten every second: "
                   "'open=N opened=N'")
    p.add_argument("--probe", action="store_true",
                   help="one client: print the status and the ms from its "
                   "first body byte to the answer's status line")
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "::1"):
        sys.exit("slow_clients.py: loopback only")
    if args.probe:
        await probe(args)
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    if args.seconds > 0:
        loop.call_later(args.seconds, stop.set)
    stats = Stats()
    tasks = [asyncio.ensure_future(one_client(args, stats, stop))
             for _ in range(args.clients)]
    while not stop.is_set():
        if args.status:
            with open(args.status + ".new", "w") as f:
                f.write(f"open={stats.open_now} opened={stats.opened}\n")
            os.replace(args.status + ".new", args.status)
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
    connected = stats.open_now
    await asyncio.gather(*tasks, return_exceptions=True)
    answers = ",".join(f"{k}:{v}" for k, v in sorted(stats.answers.items()))
    print(f"SLOW clients={args.clients} connected={connected} "
          f"opened={stats.opened} answers={answers or '-'} "
          f"closed={stats.closed}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
