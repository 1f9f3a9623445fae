#!/usr/bin/env python3
"""Holds hostile and idle connections open against a local HTTPS server, for bench/webhook_load.sh.

  hold_connections.py --port P [--idle N] [--slowloris M] [--silent K] [--seconds T] [--ready-file F]

--idle N       TLS connections that send one GET /healthz with keep-alive and then stay open, silent
               (what the API server's connection pool looks like between bursts)
--slowloris M  TLS connections that send a request line and then one header line every second, reopening
               when the server closes them (the server's header deadline should close each within seconds)
--silent K     TCP connections that never send a ClientHello (reopened when closed)
Connects to 127.0.0.1 only. Runs for --seconds (bounded, default 30) and exits by itself; prints what it held.
"""
import argparse
import asyncio
import ssl
import sys
import time

HOST = "127.0.0.1"


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def idle_connection(port, context, stats, stop):
    try:
        reader, writer = await asyncio.open_connection(HOST, port, ssl=context)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"ok\n")
        stats["idle_open"] += 1
        try:
            await asyncio.wait_for(reader.read(1), timeout=max(0.0, stop - time.monotonic()))
            stats["idle_closed_by_server"] += 1
        except asyncio.TimeoutError:
            pass
        stats["idle_open"] -= 1
        writer.close()
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
        stats["idle_failed"] += 1


async def slowloris_connection(port, context, stats, stop):
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection(HOST, port, ssl=context)
            stats["slowloris_opened"] += 1
            writer.write(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
            i = 0
            while time.monotonic() < stop:
                read = asyncio.ensure_future(reader.read(1))
                done, _ = await asyncio.wait({read}, timeout=1.0)
                if done:
                    stats["slowloris_closed_by_server"] += 1
                    break
                read.cancel()
                writer.write(b"X-Slow-%d: a\r\n" % i)
                await writer.drain()
                i += 1
            writer.close()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            stats["slowloris_errors"] += 1
            await asyncio.sleep(0.2)


async def silent_connection(port, stats, stop):
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            stats["silent_opened"] += 1
            try:
                await asyncio.wait_for(reader.read(1), timeout=max(0.0, stop - time.monotonic()))
                stats["silent_closed_by_server"] += 1
            except asyncio.TimeoutError:
                pass
            writer.close()
        except OSError:
            stats["silent_errors"] += 1
            await asyncio.sleep(0.2)


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--slowloris", type=int, default=0)
    parser.add_argument("--silent", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--ready-file", help="touched once every idle connection is established")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 600)
    stop = time.monotonic() + args.seconds
    context = tls_context()
    stats = {k: 0 for k in ("idle_open", "idle_failed", "idle_closed_by_server", "slowloris_opened",
                            "slowloris_closed_by_server", "slowloris_errors", "silent_opened",
                            "silent_closed_by_server", "silent_errors")}
    tasks = []
    # Open the idle pool in batches so the handshakes do not all land at once.
    for start in range(0, args.idle, 200):
        batch = [asyncio.ensure_future(idle_connection(args.port, context, stats, stop))
                 for _ in range(start, min(args.idle, start + 200))]
        tasks += batch
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + 60
    while stats["idle_open"] + stats["idle_failed"] < args.idle and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    tasks += [asyncio.ensure_future(slowloris_connection(args.port, context, stats, stop))
              for _ in range(args.slowloris)]
    tasks += [asyncio.ensure_future(silent_connection(args.port, stats, stop)) for _ in range(args.silent)]
    await asyncio.sleep(1.5)
    print("holding: %d idle keep-alive (%d failed), %d slowloris, %d silent" %
          (stats["idle_open"], stats["idle_failed"], args.slowloris, args.silent), file=sys.stderr, flush=True)
    if args.ready_file:
        open(args.ready_file, "w").close()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(" ".join("%s=%d" % kv for kv in sorted(stats.items())), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
