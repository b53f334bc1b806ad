#!/usr/bin/env python3
"""A minimal fake chat server for the fan-out benchmark only (asyncio, stdlib).

    fast_server.py LATENCY_MS

Listens on 127.0.0.1 (a free port), prints the port alone on one line, and
answers every POST with one canned chat completion after LATENCY_MS
(HTTP/1.1, keep-alive).  tests/fake_server.py is a ThreadingHTTPServer with
a thread per connection and hashing per reply; at 64 concurrent requests its
own CPU use, not the client's, sets the pace, so the benchmark measures the
client against this one and reports the other beside it.
"""
import asyncio
import json
import sys

REPLY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 0,
    "model": "bench-model",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": " amber basin cedar"}}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
}).encode()
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(REPLY))


async def handle(reader, writer, delay):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                k = k.strip().lower()
                if k == b"content-length":
                    length = int(v)
                elif k == b"connection" and v.strip().lower() == b"close":
                    close = True
            if length:
                await reader.readexactly(length)
            if delay:
                await asyncio.sleep(delay)
            writer.write(HEAD + REPLY)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main():
    delay = int(sys.argv[1]) / 1000.0 if len(sys.argv) > 1 else 0.0
    server = await asyncio.start_server(lambda r, w: handle(r, w, delay),
                                        "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
