#!/usr/bin/env python3
"""Hello world through this package and through its peers, side by side.

Each server runs in its own process and answers ``GET /`` with
``Hello, world!``; ``wrk`` (``--wrk-args``, ``-t1 -c50 -d5s`` by default)
loads them one after the other, ``--rounds`` times in turn, and the medians
and their ratios are printed:

=====================  ==================================================
``tornado-web``        `tornado.web.Application` and a `RequestHandler`
``tornado-http``       a bare `tornado.httpserver.HTTPServer` callback
``aiohttp``            ``aiohttp.web`` with one route
``uvicorn-h11``        a Starlette app on uvicorn with its h11 parser
``raw``                an `asyncio.Protocol` sending canned bytes: the
                       ceiling for a Python server on this machine
``tornado-web-uvloop`` the first one, on uvloop
``uvicorn-httptools``  Starlette on uvicorn with httptools and uvloop
=====================  ==================================================

Targets: ``tornado-web`` at least as fast as ``aiohttp``, ``tornado-web-uvloop``
at least as fast as ``uvicorn-httptools``, ``tornado-http`` at least 40% of
``raw`` and ``tornado-web`` at least 10% of it (each checked when both of its
servers are measured).  The exit status is 1 when one is missed.
``--loop=uvloop`` runs every server on uvloop (the default runs each on the
loop named above).  The peers come from the ``bench`` extra
(``pip install -e '.[bench]'``); wrk from Debian's ``wrk``.  Run from
anywhere::

    python maint/benchmark/peers_benchmark.py [--rounds=3] [--servers=tornado-web,aiohttp]
    python maint/benchmark/peers_benchmark.py --servers=tornado-http,raw [--loop=uvloop]
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import _harness

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.web import Application, RequestHandler

BODY = b"Hello, world!"
RAW_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)

# server kind -> the event loop it runs on
SERVERS = {
    "tornado-web": "asyncio",
    "tornado-http": "asyncio",
    "aiohttp": "asyncio",
    "uvicorn-h11": "asyncio",
    "raw": "asyncio",
    "tornado-web-uvloop": "uvloop",
    "uvicorn-httptools": "uvloop",
}
# (figure, numerator, denominator, target)
RATIOS = [
    ("tornado-web / aiohttp", "tornado-web", "aiohttp", 1.0),
    (
        "tornado-web-uvloop / uvicorn-httptools",
        "tornado-web-uvloop",
        "uvicorn-httptools",
        1.0,
    ),
    ("tornado-http / raw", "tornado-http", "raw", 0.40),
    ("tornado-web / raw", "tornado-web", "raw", 0.10),
]


class HelloHandler(RequestHandler):
    """The `tornado.web` hello world."""

    def get(self) -> None:
        """Write the greeting."""
        self.write(BODY)


def hello_callback(request: HTTPServerRequest) -> None:
    """The bare `HTTPServer` hello world."""
    assert request.connection is not None
    headers = HTTPHeaders({"Content-Length": str(len(BODY))})
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", 200, "OK"), headers, BODY
    )
    request.connection.finish()


class RawResponder(asyncio.Protocol):
    """Answers each request (each blank line) with canned bytes, parsing nothing."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        data = self.pending + data
        requests = data.count(b"\r\n\r\n")
        self.pending = data[data.rfind(b"\r\n\r\n") + 4 :] if requests else data
        if requests:
            self.transport.write(RAW_RESPONSE * requests)


def starlette_app() -> Any:
    """A Starlette application with the one plain-text route."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse(BODY)

    return Starlette(routes=[Route("/", hello)])


async def start(kind: str, sock: socket.socket) -> None:
    """Serve ``kind`` on the listening socket ``sock`` (in a child process)."""
    if kind.startswith("tornado-web"):
        HTTPServer(Application([("/", HelloHandler)])).add_sockets([sock])
    elif kind == "tornado-http":
        HTTPServer(hello_callback).add_sockets([sock])
    elif kind == "raw":
        await asyncio.get_running_loop().create_server(RawResponder, sock=sock)
    elif kind == "aiohttp":
        from aiohttp import web

        async def hello(request: web.Request) -> web.Response:
            return web.Response(body=BODY, content_type="text/plain")

        app = web.Application()
        app.router.add_get("/", hello)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
    elif kind.startswith("uvicorn"):
        import uvicorn

        http = "httptools" if kind == "uvicorn-httptools" else "h11"
        config = uvicorn.Config(
            starlette_app(),
            http=http,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        asyncio.get_running_loop().create_task(
            uvicorn.Server(config).serve(sockets=[sock])
        )
    else:
        raise SystemExit(f"unknown server {kind!r}")


def main() -> int:
    parser = _harness.common_options(__doc__.split("\n\n")[0], rounds=3, serve=True)
    parser.add_argument(
        "--wrk-args", default="-t1 -c50 -d5s", help="load options for wrk"
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated servers to measure",
    )
    args = parser.parse_args()
    if args.serve:
        _harness.serve_forever(lambda sock: start(args.serve, sock), args.loop)
        return 0
    kinds = _harness.selected_servers(parser, args.servers, list(SERVERS))

    def loop_of(kind: str) -> str:
        return "uvloop" if args.loop == "uvloop" else SERVERS[kind]

    def measure(kind: str) -> _harness.LoadResult:
        command = _harness.server_command(__file__, kind, loop_of(kind))
        with _harness.start_server(command) as server:
            return _harness.run_wrk(server, args.wrk_args)

    results = _harness.alternate(kinds, args.rounds, measure)
    report = _harness.Report(
        f"hello world, side by side (median of {args.rounds} rounds)"
    )
    report.note(f"wrk {args.wrk_args}; python {sys.version.split()[0]}")
    report.note("loops: " + ", ".join(f"{kind} on {loop_of(kind)}" for kind in kinds))
    _harness.report_rates(report, results, RATIOS)
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
