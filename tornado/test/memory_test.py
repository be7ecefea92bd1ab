"""Memory rules of the server, as measured over real loopback connections.

A long-polling server holds many requests that wait for an event, and many
keep-alive connections that wait for their next request; what each one keeps
alive bounds how many fit in memory, and how long a full garbage collection
pass takes.  These tests count the objects the garbage collector tracks per
parked request and per idle connection, and check that a finished request
leaves no reference cycle behind (which only a collection pass would free).

The clients are plain sockets made before the first count, so that what is
counted is the server's.
"""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import socket
import types
import unittest
from collections.abc import Awaitable, Callable

from tornado.locks import Event
from tornado.testing import AsyncHTTPTestCase, ExpectLog, gen_test
from tornado.web import Application, HTTPError, RequestHandler

# Tracked objects kept per parked long-polling request (a handler awaiting
# an Event) and per idle keep-alive connection (after a parked exchange, as
# when a long-polling event releases many requests at once).  On CPython
# 3.11 the figures are 33 and 21 with asyncio's default and select
# selectors, 32 and 21 with uvloop, 30 and 18 with AddThreadSelectorEventLoop;
# a budget bounds them all.  Lower a budget when the figure drops.
PARKED_REQUEST_BUDGET = 33
IDLE_CONNECTION_BUDGET = 21
# Counting noise (objects of the test itself) spread over a batch stays
# well below one object per request; a whole object more is a regression.
MARGIN = 1
BATCH = 50
WARM_UP = 10
# Round trips that the count may need to settle; each runs the loop several
# times, enough for what the last request left scheduled.
SETTLING_ROUND_TRIPS = 5

TORNADO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ParkingLot:
    """Long-polling requests waiting for `release`, counted as they arrive."""

    def __init__(self) -> None:
        self.release = Event()
        self.parked = 0
        self.expected = 0
        self.all_parked = Event()

    def expect(self, count: int) -> Event:
        """Await the returned event to know that ``count`` more have arrived."""
        self.expected += count
        self.all_parked = Event()
        return self.all_parked

    def arrived(self) -> Event:
        """Count one request in; the event it must wait for."""
        self.parked += 1
        if self.parked == self.expected:
            self.all_parked.set()
        return self.release

    def release_all(self) -> None:
        """Wake every parked request; later ones wait for a new event."""
        released, self.release = self.release, Event()
        released.set()


class LongPollHandler(RequestHandler):
    def initialize(self, lot: ParkingLot) -> None:
        self.lot = lot

    async def get(self) -> None:
        await self.lot.arrived().wait()
        self.write("released")


class PingHandler(RequestHandler):
    def get(self) -> None:
        self.write("pong")


class FailingHandler(RequestHandler):
    def get(self) -> None:
        raise HTTPError(403)


class CrashingHandler(RequestHandler):
    def get(self) -> None:
        raise ZeroDivisionError("on purpose")


TEST_HANDLERS = (LongPollHandler, PingHandler, FailingHandler, CrashingHandler)


def discard_access_log(handler: RequestHandler) -> None:
    """Requests are not logged: the test makes hundreds."""


REQUEST = b"GET %s HTTP/1.1\r\nHost: memory.test\r\n\r\n"


async def read_response(sock: socket.socket) -> bytes:
    """Read one response (framed by Content-Length) from ``sock``; its body."""
    loop = asyncio.get_running_loop()
    received = b""
    while b"\r\n\r\n" not in received:
        received += await receive_some(loop, sock)
    head, _, body = received.partition(b"\r\n\r\n")
    length = content_length(head)
    while len(body) < length:
        body += await receive_some(loop, sock)
    return body


async def receive_some(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
    chunk = await loop.sock_recv(sock, 65536)
    if not chunk:
        raise ConnectionError("the server closed the connection mid-response")
    return chunk


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError(f"no Content-Length in {head!r}")


def unconnected_sockets(count: int) -> list[socket.socket]:
    """Client sockets, made now so that they are part of every later count."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    for sock in socks:
        sock.setblocking(False)
    return socks


def tracked_objects() -> int:
    """The number of objects the garbage collector tracks, after a collection.

    asyncio keeps a cancelled timer (and the context copied for it) in its
    heap until cancelled timers make up half of it; those belong to no one
    and are not counted.
    """
    gc.collect()
    objects = gc.get_objects()
    cancelled_timers = sum(
        1 for o in objects if isinstance(o, asyncio.TimerHandle) and o.cancelled()
    )
    return len(objects) - 2 * cancelled_timers


@unittest.skipUnless(
    platform.python_implementation() == "CPython",
    "the budgets count CPython's garbage-collected objects",
)
class ServerMemoryTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.lot = ParkingLot()
        return Application(
            [
                ("/poll", LongPollHandler, {"lot": self.lot}),
                ("/ping", PingHandler),
                ("/forbidden", FailingHandler),
                ("/crash", CrashingHandler),
            ],
            log_function=discard_access_log,
        )

    def setUp(self) -> None:
        super().setUp()
        self.clients: list[socket.socket] = []
        # Clients whose long-polling request waits for release().
        self.parked: list[socket.socket] = []
        self.addCleanup(self.close_clients)

    def close_clients(self) -> None:
        for sock in self.clients:
            sock.close()

    def new_clients(self, count: int) -> list[socket.socket]:
        socks = unconnected_sockets(count)
        self.clients.extend(socks)
        return socks

    async def connect(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", self.get_http_port()))

    async def request(self, sock: socket.socket, path: str) -> bytes:
        """One request on ``sock`` (already connected); the response body."""
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, REQUEST % path.encode())
        return await read_response(sock)

    async def park(self, socks: list[socket.socket]) -> None:
        """Connect each of ``socks`` and park a long-polling request on it."""
        all_parked = self.lot.expect(len(socks))
        loop = asyncio.get_running_loop()
        for sock in socks:
            await self.connect(sock)
            await loop.sock_sendall(sock, REQUEST % b"/poll")
        await all_parked.wait()
        self.parked.extend(socks)

    async def release(self) -> None:
        """Release every parked request; return once all have their answers."""
        self.lot.release_all()
        socks, self.parked = self.parked, []
        bodies = await asyncio.gather(*(read_response(sock) for sock in socks))
        self.assertEqual(set(bodies), {b"released"})

    async def settled_count(self, control: socket.socket) -> int:
        """`tracked_objects` once the server has finished what it had to do.

        Each round trip on the ``control`` connection lets the loop run
        what earlier requests left scheduled; the count is taken when two
        in a row agree.
        """
        count = tracked_objects()
        for _ in range(SETTLING_ROUND_TRIPS):
            self.assertEqual(await self.request(control, "/ping"), b"pong")
            count, previous = tracked_objects(), count
            if count == previous:
                break
        return count

    async def warmed_up_control(self) -> socket.socket:
        """A control connection, after a round of long polls warmed the server.

        The warm-up makes what is created once per process or per loop
        (caches, first-use imports) exist before anything is counted.
        """
        [control] = self.new_clients(1)
        await self.connect(control)
        warm_up = self.new_clients(WARM_UP)
        await self.park(warm_up)
        await self.release()
        return control

    async def growth_per_client(
        self, step: Callable[[list[socket.socket]], Awaitable[None]]
    ) -> float:
        """Tracked objects added per client when ``step`` runs on a batch.

        ``step`` runs on two batches in turn; the growth over the second one
        leaves out what a first batch creates once.
        """
        control = await self.warmed_up_control()
        first, second = self.new_clients(BATCH), self.new_clients(BATCH)
        await step(first)
        with_first = await self.settled_count(control)
        await step(second)
        with_both = await self.settled_count(control)
        return (with_both - with_first) / BATCH

    @gen_test(timeout=60)
    async def test_parked_request_budget(self) -> None:
        per_request = await self.growth_per_client(self.park)
        await self.release()
        self.assertLess(
            per_request,
            PARKED_REQUEST_BUDGET + MARGIN,
            f"{per_request:.2f} tracked objects per parked request",
        )

    @gen_test(timeout=60)
    async def test_idle_connection_budget(self) -> None:
        async def answer_after_parking(socks: list[socket.socket]) -> None:
            await self.park(socks)
            await self.release()

        per_connection = await self.growth_per_client(answer_after_parking)
        self.assertLess(
            per_connection,
            IDLE_CONNECTION_BUDGET + MARGIN,
            f"{per_connection:.2f} tracked objects per idle keep-alive connection",
        )

    @gen_test(timeout=60)
    async def test_finished_requests_leave_no_cycles(self) -> None:
        # Warm up first: what a first use creates once may hold cycles for
        # good (module-level caches), which are not the requests' doing.
        control = await self.warmed_up_control()
        await self.request_every_way(control)
        garbage = await self.garbage_of(self.request_every_way(control))
        self.assertEqual(garbage, [])
        handlers = [o for o in gc.get_objects() if isinstance(o, TEST_HANDLERS)]
        self.assertEqual(handlers, [], "handlers outlived their requests")

    async def request_every_way(self, control: socket.socket) -> None:
        """Requests answered at once, after parking, and with errors.

        The connections stay open (and idle): only the requests are over.
        """
        polls = self.new_clients(3)
        await self.park(polls)
        await self.release()
        [sock] = self.new_clients(1)
        await self.connect(sock)
        self.assertEqual(await self.request(sock, "/ping"), b"pong")
        self.assertIn(b"403: Forbidden", await self.request(sock, "/forbidden"))
        with ExpectLog("tornado.application", "Uncaught exception GET /crash"):
            await self.request(sock, "/crash")
        # Let the loop run what the last responses left scheduled.
        await self.settled_count(control)

    async def garbage_of(self, requests: Awaitable[None]) -> list[str]:
        """What of the server's ends up in a reference cycle while ``requests`` run.

        Every object the collector finds unreachable meanwhile is kept in
        ``gc.garbage`` (``DEBUG_SAVEALL``); the server's among them are
        described.
        """
        gc.collect()
        flags = gc.get_debug()
        gc.set_debug(flags | gc.DEBUG_SAVEALL)
        try:
            del gc.garbage[:]
            await requests
            gc.collect()
            return sorted(describe(o) for o in gc.garbage if is_servers(o))
        finally:
            gc.set_debug(flags)
            del gc.garbage[:]


def is_servers(obj: object) -> bool:
    """Whether ``obj`` is the server's: a tornado object, future or coroutine."""
    if isinstance(obj, (types.CoroutineType, types.FrameType)):
        code = obj.cr_code if isinstance(obj, types.CoroutineType) else obj.f_code
        return code.co_filename.startswith(TORNADO_DIR)
    if isinstance(obj, asyncio.Future):
        return True
    return type(obj).__module__.startswith("tornado")


def describe(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"
