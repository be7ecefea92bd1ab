#!/usr/bin/env python3
"""WebSocket echo servers compared: Tornado's `WebSocketHandler` vs `websockets`.

Each server runs in its own process on loopback; the same client (from the
``websockets`` library, compression off on both sides) drives them in turn
and reports:

* ``small``: round trips per second for 64-byte text messages, one in flight;
* ``large``: MB/s of 1 MiB binary messages echoed (payload bytes one way).

Then the Tornado/websockets ratio of each figure (above 1.0 means Tornado
is faster).  Each server is measured ``--rounds`` times, alternating, and
its best round counts.  ``--duration`` sets the seconds per measurement and
``--ioloop`` may be ``uvloop`` to run both servers on uvloop.  The servers
inherit the environment, so ``TORNADO_EXTENSION=0`` measures Tornado without
its C extension.
"""

import asyncio
import logging
import os
import subprocess
import sys
import time

from tornado.options import define, options, parse_command_line

define("duration", default=2.0, help="seconds per measurement")
define("rounds", default=5, help="measurements per server; the best one counts")
define("ioloop", default="asyncio", help="event loop of the servers: asyncio, uvloop")
define("serve", default="", help="internal: run this server (tornado, websockets)")
define("port", default=0, help="internal: port for --serve")

SMALL = b"x" * 64
LARGE = os.urandom(1 << 20)


def use_event_loop(kind: str) -> None:
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def serve_tornado(port: int) -> None:
    from tornado.web import Application
    from tornado.websocket import WebSocketHandler

    class Echo(WebSocketHandler):
        def on_message(self, message: "str | bytes") -> None:
            self.write_message(message, binary=isinstance(message, bytes))

    app = Application(
        [("/", Echo)],
        websocket_max_message_size=4 << 20,
        log_function=lambda handler: None,
    )
    app.listen(port, "127.0.0.1")
    await asyncio.Event().wait()


async def serve_websockets(port: int) -> None:
    from websockets.asyncio.server import serve

    async def echo(connection) -> None:  # type: ignore[no-untyped-def]
        async for message in connection:
            await connection.send(message)

    async with serve(
        echo, "127.0.0.1", port, compression=None, max_size=4 << 20
    ) as server:
        await server.serve_forever()


def describe_masking() -> str:
    """Which implementation unmasks client frames in the Tornado server."""
    import tornado.util

    if tornado.util._websocket_mask is tornado.util._websocket_mask_python:
        return "unmasking in pure Python (tornado.speedups off or not built)"
    return "unmasking in C (tornado.speedups)"


def start_server(kind: str) -> tuple[subprocess.Popen, int]:  # type: ignore[type-arg]
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [sys.executable, __file__, f"--serve={kind}", f"--port={port}"]
    args.append(f"--ioloop={options.ioloop}")
    # The servers import what this process imports.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, sys.path)))
    process = subprocess.Popen(args, env=env)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


async def measure(port: int, duration: float) -> dict[str, float]:
    from websockets.asyncio.client import connect

    results = {}
    async with connect(
        f"ws://127.0.0.1:{port}/", compression=None, max_size=4 << 20
    ) as ws:
        for name, payload in (("small", SMALL.decode()), ("large", LARGE)):
            for _ in range(3):  # warm up
                await ws.send(payload)
                await ws.recv()
            count = 0
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < duration:
                await ws.send(payload)
                await ws.recv()
                count += 1
            if name == "small":
                results["small"] = count / elapsed
            else:
                results["large"] = count * len(LARGE) / elapsed / 1e6
    return results


def main() -> None:
    parse_command_line()
    logging.getLogger("websockets").setLevel(logging.WARNING)  # per-connection chatter
    use_event_loop(options.ioloop)
    if options.serve == "tornado":
        asyncio.run(serve_tornado(options.port))
        return
    if options.serve == "websockets":
        asyncio.run(serve_websockets(options.port))
        return
    kinds = ("tornado", "websockets")
    servers = {kind: start_server(kind) for kind in kinds}
    best: dict[str, dict[str, float]] = {kind: {} for kind in kinds}
    try:
        # Alternate the servers and keep each one's best round, so that a
        # burst of load elsewhere on the machine does not decide the ratio.
        for _ in range(options.rounds):
            for kind in kinds:
                result = asyncio.run(measure(servers[kind][1], options.duration))
                for name, value in result.items():
                    best[kind][name] = max(best[kind].get(name, 0.0), value)
    finally:
        for process, _ in servers.values():
            process.kill()
            process.wait()
    print(f"event loop: {options.ioloop}; {describe_masking()}")
    print(f"{'server':<12}{'64 B round trips/s':>22}{'1 MiB echo MB/s':>20}")
    for kind in kinds:
        print(f"{kind:<12}{best[kind]['small']:>22,.0f}{best[kind]['large']:>20,.1f}")
    tornado, websockets = best["tornado"], best["websockets"]
    print(
        f"{'ratio':<12}{tornado['small'] / websockets['small']:>21.2f}x"
        f"{tornado['large'] / websockets['large']:>19.2f}x"
    )


if __name__ == "__main__":
    main()
