#!/usr/bin/env python3
"""Peer of the `trending_ingest` bench: the same event stream as `ZINCRBY`s into Redis,
pipelined with `redis-cli --pipe` (the fastest way to feed Redis).

Regenerates nova_benches::stream::stream (same xorshift, same Zipf-like entities and
kinds, weights view 0.1 / like 1 / repost 3 / comment 2), writes the commands as RESP,
and times `redis-cli --pipe` against the local Redis. Prints `redis_events_per_s <value>`.
"""
import os
import subprocess
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
HOST, PORT = os.environ.get("REDIS_HOST", "127.0.0.1"), os.environ.get("REDIS_PORT", "6379")
M = (1 << 64) - 1
WEIGHTS = [b"0.1", b"1", b"3", b"2"]  # View, Like, Repost, Comment (benches/benches/trending.rs)


def stream(n):
    state = 0x853C49E6748FEA9B

    def nxt():
        nonlocal state
        state ^= (state << 13) & M
        state ^= state >> 7
        state ^= (state << 17) & M
        return state

    for _ in range(n):
        u = (nxt() >> 11) / float(1 << 53)
        entity = int((u * u * u) * 10_000.0)
        nxt()  # account: the peer has no per-account logic
        kind = nxt() % 4
        yield entity, kind


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


key = b"nova-peer:trending:%d" % os.getpid()
with tempfile.NamedTemporaryFile(suffix=".resp", delete=False) as f:
    for entity, kind in stream(N):
        f.write(resp(b"ZINCRBY", key, WEIGHTS[kind], b"tag%d" % entity))
    path = f.name
try:
    with open(path, "rb") as commands:
        start = time.perf_counter()
        subprocess.run(["redis-cli", "-h", HOST, "-p", PORT, "--pipe"], stdin=commands,
                       stdout=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
    subprocess.run(["redis-cli", "-h", HOST, "-p", PORT, "DEL", key], stdout=subprocess.DEVNULL, check=True)
finally:
    os.unlink(path)
print(f"redis_events_per_s {N / elapsed:.0f}")
