#!/usr/bin/env python3
"""WebSocket echo servers compared: Tornado's `WebSocketHandler` vs `websockets`.

Each server runs in its own process on loopback; the same client (from the
``websockets`` library, compression off on both sides) drives them in turn
and reports:

* ``small``: round trips per second for 64-byte text messages, one in flight;
* ``large``: MB/s of 1 MiB binary messages echoed (payload bytes one way).

Then the Tornado/websockets ratio of each figure (above 1.0 means Tornado
is faster).  Targets: both ratios at least 1.0; the exit status is 1 when
one is missed.  Each server is measured ``--rounds`` times, alternating, and
its best round counts.  ``--duration`` sets the seconds per measurement and
``--loop=uvloop`` runs both servers and the client on uvloop.  The servers
inherit the environment, so ``TORNADO_EXTENSION=0`` measures Tornado without
its C extension.  ``websockets`` comes from the ``bench`` extra.  Run from
anywhere::

    python maint/benchmark/websocket_benchmark.py [--duration=2] [--rounds=5] [--json]
"""

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time

import _harness

SMALL = b"x" * 64
LARGE = os.urandom(1 << 20)
KINDS = ("tornado", "websockets")
RATIO_TARGET = 1.0


def serve_tornado(sock: socket.socket) -> None:
    from tornado.httpserver import HTTPServer
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
    HTTPServer(app).add_sockets([sock])


async def serve_websockets(sock: socket.socket) -> None:
    from websockets.asyncio.server import serve

    async def echo(connection) -> None:  # type: ignore[no-untyped-def]
        async for message in connection:
            await connection.send(message)

    async with serve(echo, sock=sock, compression=None, max_size=4 << 20) as server:
        await server.serve_forever()


def describe_masking() -> str:
    """Which implementation unmasks client frames in the Tornado server."""
    import tornado.util

    if tornado.util._websocket_mask is tornado.util._websocket_mask_python:
        return "unmasking in pure Python (tornado.speedups off or not built)"
    return "unmasking in C (tornado.speedups)"


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


def main() -> int:
    parser = _harness.common_options(
        __doc__.split("\n")[0],
        rounds=5,
        rounds_help="measurements per server (the best counts)",
        serve=True,
    )
    parser.add_argument(
        "--duration", type=float, default=2.0, help="seconds per measurement"
    )
    args = parser.parse_args()
    logging.getLogger("websockets").setLevel(logging.WARNING)  # per-connection chatter
    if args.serve == "tornado":
        _harness.serve_forever(serve_tornado, args.loop)
        return 0
    if args.serve == "websockets":
        _harness.serve_forever(serve_websockets, args.loop)
        return 0
    _harness.install_loop(args.loop)
    best: dict[str, dict[str, float]] = {kind: {} for kind in KINDS}
    with contextlib.ExitStack() as servers:
        ports = {
            kind: servers.enter_context(
                _harness.start_server(
                    _harness.server_command(__file__, kind, args.loop)
                )
            ).port
            for kind in KINDS
        }
        # Alternate the servers and keep each one's best round, so that a
        # burst of load elsewhere on the machine does not decide the ratio.
        for _ in range(args.rounds):
            for kind in KINDS:
                result = asyncio.run(measure(ports[kind], args.duration))
                for name, value in result.items():
                    best[kind][name] = max(best[kind].get(name, 0.0), value)
    report = _harness.Report(f"WebSocket echo (best of {args.rounds} rounds)")
    report.note(f"event loop: {args.loop}; {describe_masking()}")
    for kind in KINDS:
        report.add(f"{kind} 64 B round trips", best[kind]["small"], "/s")
        report.add(f"{kind} 1 MiB echo", best[kind]["large"], "MB/s")
    tornado, websockets = best["tornado"], best["websockets"]
    for name, label in (("small", "64 B round trips"), ("large", "1 MiB echo")):
        ratio = tornado[name] / websockets[name]
        report.target(f"{label}, tornado / websockets", ratio, ">=", RATIO_TARGET)
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
