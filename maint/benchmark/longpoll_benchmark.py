#!/usr/bin/env python3
"""Many parked long-polling requests: their memory, and how fast they finish.

A `tornado.web` server (in a child process) parks every ``GET /park``
request in a handler awaiting a `tornado.locks.Event`.  This process, the
client, opens ``--connections`` (10,000) sockets with raw `asyncio`
transports and sends one such request on each; once the server reports them
all parked it measures the server's resident memory, then ``POST /control``
sets the event and the client times how long it takes until every parked
request has been answered.  Reported:

* memory per parked connection: the growth of the server's RSS (from
  ``/proc``) since before the connections were opened, divided by their
  number (target: at most 8 KB; kernel socket buffers are not included);
* release time: from sending ``POST /release`` until the last response
  arrived (target: at most 0.6 s);
* the garbage collector's passes during the release, and the time spent in
  full ones (which visit every parked request's objects).

The exit status is 1 when a target is missed.  The open-files limit of both
processes is raised as far as the hard limit allows.  ``--loop=uvloop`` runs
both sides on uvloop.  Run from anywhere (Linux)::

    python maint/benchmark/longpoll_benchmark.py [--connections=10000] [--loop=uvloop] [--json]
"""

import asyncio
import gc
import json
import re
import resource
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import _harness

from tornado.httpserver import HTTPServer
from tornado.locks import Event
from tornado.web import Application, RequestHandler

PARK_REQUEST = b"GET /park HTTP/1.1\r\nHost: bench\r\n\r\n"
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)\r\n", re.IGNORECASE)
SPARE_FILES = 100  # for the listening socket, logs, libraries...


# The server.


class ParkHandler(RequestHandler):
    """``GET /park``: waits for the release, then answers."""

    def initialize(self, release: Event) -> None:
        """Keep the event to wait on."""
        self.release = release

    async def get(self) -> None:
        """Count this request as parked until the event is set."""
        self.application.settings["parked"][0] += 1
        await self.release.wait()
        self.application.settings["parked"][0] -= 1
        self.write("released")


class ControlHandler(RequestHandler):
    """``GET /control`` reports the parked count; ``POST`` releases them all."""

    def initialize(self, release: Event) -> None:
        """Keep the event that releases the parked requests."""
        self.release = release

    def get(self) -> None:
        """How many requests are parked, and the GC passes since the release."""
        settings = self.application.settings
        self.write({"parked": settings["parked"][0], "collections": settings["gc"]})

    def post(self) -> None:
        """Wake every parked request; later ones will park again."""
        self.application.settings["gc"].clear()
        self.release.set()
        self.release.clear()


def serve(sock: socket.socket) -> None:
    """Serve the long-polling application on the listening socket ``sock``."""
    release = Event()
    args = {"release": release}
    collections: list[list[float]] = []
    app = Application(
        [("/park", ParkHandler, args), ("/control", ControlHandler, args)],
        parked=[0],
        gc=collections,
    )
    record_collections(collections)
    HTTPServer(app).add_sockets([sock])


def record_collections(collections: list[list[float]]) -> None:
    """Append ``[generation, seconds]`` to ``collections`` for each GC pass.

    A full pass over the parked requests' objects takes a good part of the
    release budget; the report says whether one fell inside the release.
    """
    started = [0.0]

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections.append([info["generation"], time.perf_counter() - started[0]])

    gc.callbacks.append(on_collection)


# The client.


def raise_open_files_limit(needed: int) -> None:
    """Allow this process ``needed`` open files, or as many as permitted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        sys.exit(f"open files are limited to {hard}; {needed} are needed")


class ParkedRequest(asyncio.Protocol):
    """Sends one ``GET /park`` and calls ``answered`` when the response is in."""

    def __init__(self, answered: Callable[[], None]) -> None:
        self.answered = answered
        self.received = b""
        self.complete = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(PARK_REQUEST)

    def data_received(self, data: bytes) -> None:
        self.received += data
        head, blank, body = self.received.partition(b"\r\n\r\n")
        length = CONTENT_LENGTH.search(head + b"\r\n")
        if blank and length and len(body) >= int(length.group(1)):
            self.complete = True
            self.answered()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.complete:
            print(f"a parked connection was lost: {exc}", file=sys.stderr)


async def control(port: int, method: str) -> Any:
    """Call ``/control`` on a fresh connection; the decoded JSON answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b"" if method == "GET" else b"Content-Length: 0\r\n"
    writer.write(
        b"%s /control HTTP/1.1\r\nHost: bench\r\n%s\r\n" % (method.encode(), body)
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = CONTENT_LENGTH.search(head)
    payload = await reader.readexactly(int(length.group(1))) if length else b""
    writer.close()
    return json.loads(payload) if payload else None


async def park(
    port: int, count: int, concurrency: int
) -> "tuple[list[asyncio.Transport], asyncio.Future[None]]":
    """Open ``count`` parked requests; wait until the server holds them all.

    Returns their transports and a future resolved once all are answered.
    """
    loop = asyncio.get_running_loop()
    all_answered: asyncio.Future[None] = loop.create_future()
    pending = count

    def answered() -> None:
        nonlocal pending
        pending -= 1
        if pending == 0:
            all_answered.set_result(None)

    slots = asyncio.Semaphore(concurrency)

    async def connect() -> asyncio.Transport:
        async with slots:
            transport, _ = await loop.create_connection(
                lambda: ParkedRequest(answered), "127.0.0.1", port
            )
            return transport

    transports = await asyncio.gather(*(connect() for _ in range(count)))
    deadline = time.monotonic() + 60
    while (await control(port, "GET"))["parked"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not park every request within 60 s")
        await asyncio.sleep(0.05)
    return list(transports), all_answered


async def release(port: int, answered: Awaitable[None]) -> float:
    """Release the parked requests; seconds until all are answered."""
    start = time.perf_counter()
    await control(port, "POST")
    await answered
    return time.perf_counter() - start


async def run_client(
    port: int, server_pid: int, connections: int, concurrency: int
) -> dict[str, Any]:
    """Park and release ``connections`` requests; the measured figures."""
    # A warm-up round, so that one-off allocations are not counted.
    transports, answered = await park(port, min(100, connections), concurrency)
    await release(port, answered)
    for transport in transports:
        transport.close()
    before = _harness.rss_bytes(server_pid)
    transports, answered = await park(port, connections, concurrency)
    parked = _harness.rss_bytes(server_pid)
    seconds = await release(port, answered)
    collections = (await control(port, "GET"))["collections"]
    for transport in transports:
        transport.close()
    return {
        "before": before,
        "parked": parked,
        "release": seconds,
        "collections": collections,
    }


def main() -> int:
    parser = _harness.common_options(__doc__.split("\n")[0], serve=True)
    parser.add_argument(
        "--connections",
        type=_harness.positive_int,
        default=10_000,
        help="parked requests to open",
    )
    parser.add_argument(
        "--connect-concurrency",
        type=_harness.positive_int,
        default=500,
        help="connection attempts in flight",
    )
    args = parser.parse_args()
    raise_open_files_limit(args.connections + SPARE_FILES)
    if args.serve:
        _harness.serve_forever(serve, args.loop, backlog=4096)
        return 0
    if not sys.platform.startswith("linux"):
        sys.exit("this benchmark reads /proc: run it on Linux")
    command = _harness.server_command(
        __file__, "longpoll", args.loop, f"--connections={args.connections}"
    )
    with _harness.start_server(command) as server:
        _harness.install_loop(args.loop)
        figures = asyncio.run(
            run_client(
                server.port,
                server.process.pid,
                args.connections,
                args.connect_concurrency,
            )
        )
    return build_report(figures, args.connections, args.loop).finish(args.json)


def build_report(
    figures: dict[str, Any], connections: int, loop: str
) -> _harness.Report:
    """The figures of `run_client`, with their targets."""
    report = _harness.Report(f"{connections} parked connections, loop {loop}")
    before, parked = figures["before"], figures["parked"]
    report.add("server RSS before parking", before / 1024 / 1024, "MiB")
    report.add("server RSS with all parked", parked / 1024 / 1024, "MiB")
    per_connection = (parked - before) / connections
    report.target("memory per parked connection", per_connection / 1024, "<=", 8, "KiB")
    report.target("release until all answered", figures["release"], "<=", 0.6, "s")
    collections = figures["collections"]
    full = [seconds for generation, seconds in collections if generation == 2]
    report.add("GC passes during the release", len(collections))
    report.add("full GC passes during the release", len(full))
    report.add("time in full GC passes", float(sum(full)), "s")
    return report


if __name__ == "__main__":
    sys.exit(main())
