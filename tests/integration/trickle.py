#!/usr/bin/env python3
"""Slow uploads from one address, for the client share scenario.

usage: trickle.py HOST PORT CONNS SECS OUT

CONNS connections each POST a multipart upload that declares 1 MiB and
send it one byte a second.  An answer ends a connection: its status and
Retry-After are counted, and the connection is made again once
Retry-After (else 1 s) has passed, plus up to a second so that they do
not all come back at once.  After SECS seconds every connection is
closed, and one line goes to stdout:

    answers=N s503=N s503_retry_after=N other=N held=N

held: connections still unanswered after 3 s or more at the end (uploads
a worker holds).  The first 503 (headers, blank line, body) goes to OUT.
"""
import asyncio
import random
import sys
import time

BOUNDARY = "tricklebound"


class Tally:
    def __init__(self):
        self.answers = self.s503 = self.retry_after = self.other = 0
        self.waiting_since = {}
        self.first_503 = None


async def answer(reader):
    """Status, Retry-After (or None) and raw text of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    retry, length = None, 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "retry-after":
            retry = value.strip()
        elif name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, retry, head.decode("latin-1") + body.decode("latin-1")


async def one(host, port, end, tally, n):
    """One connection after another until end."""
    while time.monotonic() < end:
        retry = None
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(1)
            continue
        writer.write((
            "POST /service/fileupload HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nConnection: close\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            "Content-Length: 1048576\r\n\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            f'name="upfile"; filename="trickle-{n}.bin"\r\n\r\n'
        ).encode())
        tally.waiting_since[n] = time.monotonic()
        got = asyncio.ensure_future(answer(reader))
        try:
            while time.monotonic() < end and not got.done():
                await asyncio.wait([got], timeout=1)
                if not got.done():
                    writer.write(b"x")
                    await writer.drain()
        except (OSError, ConnectionError):
            pass
        if got.done() and not got.cancelled() and got.exception() is None:
            status, retry, text = got.result()
            tally.answers += 1
            if status == 503:
                tally.s503 += 1
                if retry is not None and retry.isdigit():
                    tally.retry_after += 1
                if tally.first_503 is None:
                    tally.first_503 = text
            else:
                tally.other += 1
        else:
            got.cancel()
            try:
                await got
            except BaseException:
                pass
            if time.monotonic() < end:
                tally.other += 1
        del tally.waiting_since[n]
        writer.close()
        if time.monotonic() < end:
            pause = int(retry) if retry and retry.isdigit() else 1
            await asyncio.sleep(pause + random.random())


async def main():
    host, port, conns, secs, out = sys.argv[1:6]
    end = time.monotonic() + float(secs)
    tally = Tally()
    held_at_end = []

    async def watch():
        await asyncio.sleep(max(float(secs) - 0.2, 0))
        now = time.monotonic()
        held_at_end.append(sum(1 for t in tally.waiting_since.values()
                               if now - t >= 3))

    await asyncio.gather(watch(), *(one(host, int(port), end, tally, n)
                                    for n in range(int(conns))))
    with open(out, "w") as f:
        f.write(tally.first_503 or "")
    print(f"answers={tally.answers} s503={tally.s503} "
          f"s503_retry_after={tally.retry_after} other={tally.other} "
          f"held={held_at_end[0]}")


if __name__ == "__main__":
    asyncio.run(main())
