#!/usr/bin/env python3
"""CPU instructions a server spends per request, counted by callgrind.

Wall-clock benchmarks on a small shared machine swing by 10-30% from run to
run; an instruction count does not.  This script runs a server under
``valgrind --tool=callgrind`` (``apt-get install -y valgrind``) while this
process, outside valgrind, sends it requests.  It does so twice, for
``--requests`` and for five times as many, and reports the difference
divided by the extra requests: the server's user-space instructions per
request, start-up and shut-down excluded.  Kernel work (the socket calls) is
not counted.  There are no targets.

``--server`` picks what answers:

* ``web``: an `Application` routing ``GET /`` to a `RequestHandler` that
  writes ``Hello, world!`` (``tornado-web`` in ``peers_benchmark.py``),
  keep-alive requests from ``--clients`` connections, one in flight each;
* ``http``: a bare `HTTPServer` callback (``tornado-http`` there), loaded
  the same way;
* ``websocket``: a `WebSocketHandler` echoing 64-byte text messages, one
  round trip in flight over a single connection (a request is a round trip);
* ``aiohttp``: the ``aiohttp`` peer of ``peers_benchmark.py`` (from the
  ``bench`` extra), loaded as ``web`` is, for comparison.

``--loop=uvloop`` runs the server on uvloop.  ``--checkout=DIR`` measures the
tornado package in another directory with this script, ``--revision=REV``
that of a git revision of this repository (exported to a temporary
directory; the C extension built here is used if the revision's
``speedups.c`` is the same, otherwise none).  Run from anywhere::

    python maint/benchmark/instruction_benchmark.py --server=web [--json]
    python maint/benchmark/instruction_benchmark.py --server=http --revision=HEAD~3
"""

import argparse
import asyncio
import base64
import contextlib
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import _harness

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketHandler

BODY = b"Hello, world!"
REQUEST = (
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
)
MESSAGE = b"x" * 64
MASK = b"\x01\x02\x03\x04"
# A masked client text frame carrying MESSAGE, and the server's unmasked echo.
MESSAGE_FRAME = (
    b"\x81\xc0" + MASK + bytes(byte ^ MASK[i % 4] for i, byte in enumerate(MESSAGE))
)
ECHO_FRAME = b"\x81\x40" + MESSAGE
COLLECTED = re.compile(rb"Collected : (\d+)")
SERVERS = ("web", "http", "websocket", "aiohttp")


# The server (in a child process, under valgrind).


async def serve(kind: str, sock: socket.socket, count: int) -> None:
    """Answer ``count`` requests (or messages) on ``sock``, then return."""
    answered = 0
    done = asyncio.get_running_loop().create_future()

    def one_more() -> None:
        nonlocal answered
        answered += 1
        if answered == count:
            done.set_result(None)

    class HelloHandler(RequestHandler):
        def get(self) -> None:
            self.write(BODY)

        def on_finish(self) -> None:
            one_more()

    class EchoHandler(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.write_message(message)
            one_more()

    def hello(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        headers = HTTPHeaders({"Content-Length": str(len(BODY))})
        start_line = ResponseStartLine("HTTP/1.1", 200, "OK")
        request.connection.write_headers(start_line, headers, BODY)
        request.connection.finish()
        one_more()

    if kind == "aiohttp":
        await serve_aiohttp(sock, one_more)
    elif kind == "web":
        HTTPServer(Application([("/", HelloHandler)])).add_sockets([sock])
    elif kind == "http":
        HTTPServer(hello).add_sockets([sock])
    else:
        HTTPServer(Application([("/", EchoHandler)])).add_sockets([sock])
    await done


async def serve_aiohttp(sock: socket.socket, one_more: Callable[[], None]) -> None:
    """Start the aiohttp peer; ``one_more`` runs after each response is sent."""
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="text/plain")

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        # The response goes out after this returns: count it a turn later.
        asyncio.get_running_loop().call_soon(one_more)
        return response  # type: ignore[no-any-return]

    app = web.Application(middlewares=[count])
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()


# The client (this process, outside valgrind).


def receive_until(sock: socket.socket, received: bytes, end: bytes) -> bytes:
    """Read from ``sock`` until what was ``received`` ends with ``end``."""
    while not received.endswith(end):
        data = sock.recv(4096)
        if not data:
            raise ConnectionError("the server closed the connection early")
        received += data
    return received


def send_requests(port: int, count: int, clients: int) -> None:
    """Send ``count`` requests over ``clients`` connections, one in flight each."""
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
    for _ in range(count // clients):
        for sock in sockets:
            sock.sendall(REQUEST)
        for sock in sockets:
            receive_until(sock, b"", BODY)
    for sock in sockets:
        sock.close()


def send_messages(port: int, count: int) -> None:
    """Open a WebSocket and make ``count`` 64-byte round trips over it."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        key = base64.b64encode(os.urandom(16))
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\n\r\n"
        )
        head = receive_until(sock, b"", b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101 "):
            raise RuntimeError(f"the WebSocket upgrade failed: {head!r}")
        for _ in range(count):
            sock.sendall(MESSAGE_FRAME)
            receive_until(sock, b"", ECHO_FRAME)


def instructions(args: argparse.Namespace, count: int) -> int:
    """Instructions of a server process answering ``count`` requests."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += _harness.server_command(
        __file__, args.server, args.loop, f"--count={count}"
    )
    with tempfile.TemporaryFile() as valgrind_output:
        # Python takes a few seconds to start under valgrind.
        with _harness.start_server(
            command, deadline=300, stderr=valgrind_output, checkout=args.checkout
        ) as server:
            if args.server == "websocket":
                send_messages(server.port, count)
            else:
                send_requests(server.port, count, args.clients)
            status = server.process.wait(timeout=600)
        valgrind_output.seek(0)
        stderr = valgrind_output.read()
    match = COLLECTED.search(stderr)
    if status or match is None:
        raise RuntimeError(
            f"no instruction count from valgrind (status {status}):\n"
            + stderr.decode(errors="replace")
        )
    return int(match.group(1))


def main() -> int:
    parser = _harness.common_options(__doc__.split("\n")[0], serve=True)
    parser.add_argument("--server", choices=SERVERS, default="web", help="what answers")
    parser.add_argument(
        "--requests",
        type=_harness.positive_int,
        default=500,
        help="requests in the short run (the long one has 5x)",
    )
    parser.add_argument(
        "--clients",
        type=_harness.positive_int,
        default=10,
        help="keep-alive connections sending requests (web and http)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--checkout",
        default=None,
        help="directory holding the tornado package to measure (default: this one)",
    )
    which.add_argument(
        "--revision", default=None, help="git revision of this repository to measure"
    )
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _harness.serve_until_done(
            lambda sock: serve(args.serve, sock, args.count), args.loop
        )
        return 0
    if args.server != "websocket" and args.requests % args.clients:
        parser.error("--requests must be a multiple of --clients")
    _harness.require_tool("valgrind")
    with contextlib.ExitStack() as stack:
        if args.revision:
            args.checkout = stack.enter_context(
                _harness.revision_checkout(args.revision)
            )
        checkout = os.path.abspath(args.checkout or _harness.CHECKOUT)
        if not os.path.isfile(os.path.join(checkout, "tornado", "__init__.py")):
            parser.error(f"{checkout} holds no tornado package")
        counts = [args.requests, 5 * args.requests]
        short, long = (instructions(args, count) for count in counts)
        extension = _harness.has_extension(checkout)
    per_request = round((long - short) / (counts[1] - counts[0]))
    report = _harness.Report(f"server {args.server}: instructions per request")
    measured = f"revision {args.revision}" if args.revision else f"checkout {checkout}"
    report.note(f"{measured}; loop {args.loop}")
    if not extension:
        report.note("no tornado/speedups*.so there: the C extension is not used")
    if os.environ.get("TORNADO_EXTENSION") == "0":
        report.note("TORNADO_EXTENSION=0: the C extension is not used")
    report.add("instructions per request", per_request, "instructions")
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
