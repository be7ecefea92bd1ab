#!/usr/bin/env python3
"""Hello world over HTTP/2: this package next to itself on HTTP/1.1 and hypercorn.

Each server runs in its own process and answers ``GET /`` with
``Hello, world!``; the servers are measured in turn, ``--rounds`` times,
and the medians and ratios are printed:

==================  =====================================================
``tornado-h2c``     `tornado.web.Application` and a `RequestHandler` over
                    h2c (prior knowledge), loaded by ``h2load``
``tornado-http1``   the same application over HTTP/1.1, loaded by ``wrk``
``hypercorn-h2c``   a Starlette hello world on hypercorn over h2c, loaded
                    by ``h2load``
==================  =====================================================

``h2load`` runs with ``--h2load-args`` (``-t1 -c4 -m25 -D4 --warm-up-time=1``
by default: 100 concurrent streams over four connections), ``wrk`` with
``--wrk-args`` (``-t1 -c100 -d4s``: as many requests in flight).
Target: ``tornado-h2c`` at least as fast as ``hypercorn-h2c``; the exit
status is 1 when it is missed.  ``--loop=uvloop`` runs every server on
uvloop.  h2load comes from Debian's ``nghttp2-client``, wrk from ``wrk``;
hypercorn and Starlette from the ``bench`` extra, h2 from ``http2``.  Run
from anywhere::

    python maint/benchmark/http2_benchmark.py [--rounds=3] [--servers=tornado-h2c,hypercorn-h2c]
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from typing import Any

import _harness

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

BODY = b"Hello, world!"
SERVERS = ("tornado-h2c", "tornado-http1", "hypercorn-h2c")
# (figure, numerator, denominator, target or None)
RATIOS = [
    ("tornado-h2c / hypercorn-h2c", "tornado-h2c", "hypercorn-h2c", 1.0),
    ("tornado-h2c / tornado-http1", "tornado-h2c", "tornado-http1", None),
]


class HelloHandler(RequestHandler):
    """The `tornado.web` hello world."""

    def get(self) -> None:
        """Write the greeting."""
        self.write(BODY)


async def start(kind: str, sock: socket.socket) -> None:
    """Serve ``kind`` on the listening socket ``sock`` (in a child process)."""
    if kind.startswith("tornado"):
        app = Application([("/", HelloHandler)], log_function=lambda handler: None)
        # The same server for both: h2c by the connection preface, HTTP/1.1
        # otherwise.
        server = HTTPServer(app, http2=kind == "tornado-h2c")
        server.add_sockets([sock])
    elif kind == "hypercorn-h2c":
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{sock.fileno()}"]
        config.accesslog = None
        config.loglevel = "WARNING"
        config.keep_alive_max_requests = 2**31  # h2load keeps its connections
        # Terminated by the parent: end at once, without the traceback of
        # hypercorn's tasks being cancelled.
        signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
        # When h2load hangs up, hypercorn's connection tasks end in errors
        # that asyncio reports, one per connection (and one per write after
        # the hang-up): noise, not failures of the measured requests.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        asyncio.get_running_loop().create_task(serve(starlette_app(), config))
    else:
        raise SystemExit(f"unknown server {kind!r}")


def starlette_app() -> Any:
    """A Starlette application with the one plain-text route."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse(BODY)

    return Starlette(routes=[Route("/", hello)])


def run_h2load(server: _harness.Server, h2load_args: str) -> _harness.LoadResult:
    """Load ``server`` over h2c with h2load; its rate and CPU per request."""
    _harness.require_tool("h2load", "nghttp2-client")
    cpu_before = _harness.cpu_seconds(server.process.pid)
    output = subprocess.run(
        ["h2load", *h2load_args.split(), server.url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu_after = _harness.cpu_seconds(server.process.pid)
    rate = re.search(r"finished in [0-9.]+m?s, ([0-9.]+) req/s", output)
    counts = re.search(r"requests: .* ([0-9]+) succeeded, ([0-9]+) failed", output)
    if rate is None or counts is None:
        raise RuntimeError(f"unexpected h2load output:\n{output}")
    succeeded, failed = int(counts.group(1)), int(counts.group(2))
    if failed or not succeeded:
        raise RuntimeError(f"{failed} requests failed:\n{output}")
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) / succeeded
    return _harness.LoadResult(float(rate.group(1)), succeeded, cpu)


def main() -> int:
    parser = _harness.common_options(__doc__.split("\n\n")[0], rounds=3, serve=True)
    parser.add_argument(
        "--h2load-args",
        default="-t1 -c4 -m25 -D4 --warm-up-time=1",
        help="load options for h2load",
    )
    parser.add_argument(
        "--wrk-args", default="-t1 -c100 -d4s", help="load options for wrk"
    )
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated servers"
    )
    args = parser.parse_args()
    if args.serve:
        _harness.serve_forever(lambda sock: start(args.serve, sock), args.loop)
        return 0
    kinds = _harness.selected_servers(parser, args.servers, list(SERVERS))

    def measure(kind: str) -> _harness.LoadResult:
        command = _harness.server_command(__file__, kind, args.loop)
        with _harness.start_server(command) as server:
            if kind.endswith("h2c"):
                return run_h2load(server, args.h2load_args)
            return _harness.run_wrk(server, args.wrk_args)

    results = _harness.alternate(kinds, args.rounds, measure)
    report = _harness.Report(
        f"hello world over HTTP/2 (median of {args.rounds} rounds)"
    )
    report.note(f"h2load {args.h2load_args}; wrk {args.wrk_args}")
    report.note(f"loop {args.loop}; python {sys.version.split()[0]}")
    _harness.report_rates(report, results, RATIOS)
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
