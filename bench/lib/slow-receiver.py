#!/usr/bin/python3
"""A webhook receiver for the dispatcher benchmark: answers every POST
with 204 after a fixed delay (default 50 ms), keep-alive, on 127.0.0.1.

asyncio streams, one coroutine per connection, so hundreds of requests
wait their delay at once. Counts requests and distinct webhook-ids and
writes them as JSON to --stats on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import json
import signal


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--stats", required=True)
    args = ap.parse_args()
    delay = args.delay_ms / 1000.0
    seen = set()
    count = [0]

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    key = name.strip().lower()
                    if key == b"content-length":
                        length = int(value.strip())
                    elif key == b"webhook-id":
                        seen.add(value.strip())
                if length:
                    await reader.readexactly(length)
                count[0] += 1
                await asyncio.sleep(delay)
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    with open(args.stats, "w", encoding="utf-8") as f:
        json.dump({"requests": count[0], "distinct_ids": len(seen)}, f)


asyncio.run(main())
