#!/usr/bin/env python3
"""Cost of the web layer alone: `Application` + `RequestHandler` per request.

The requests are fed to the application through the
`.HTTPServerConnectionDelegate` interface by an in-memory connection, so no
socket, stream or HTTP/1 parsing is involved: what is measured is routing,
`.HTTPServerRequest` and handler set-up, ``write``/``finish`` and the event
loop turns the handler needs.  ``--profile`` prints a cProfile of the run
instead of the timing, and the number of calls per request.  There are no
targets.  Run from anywhere::

    python maint/benchmark/web_layer_benchmark.py [--requests=20000] [--profile]
"""

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from asyncio import Future

import _harness

from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.web import Application, RequestHandler

START_LINE = RequestStartLine("GET", "/", "HTTP/1.1")
HEAD_TEXT = "Host: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n"


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.write(b"Hello, world!")


class MemoryConnection(HTTPConnection):
    """A connection that keeps nothing of what is written."""

    __slots__ = ("finished", "_done")

    def __init__(self) -> None:
        self.finished = 0
        self._done: Future[None] = asyncio.get_running_loop().create_future()
        self._done.set_result(None)

    def set_close_callback(self, callback: object) -> None:
        pass

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> "Future[None]":
        return self._done

    def write(self, chunk: bytes) -> "Future[None]":
        return self._done

    def finish(self) -> None:
        self.finished += 1


async def run(count: int) -> float:
    """Serve ``count`` requests; return the seconds it took."""
    application = Application([("/", HelloHandler)])
    connection = MemoryConnection()
    begin = time.perf_counter()
    for _ in range(count):
        delegate = application.start_request(None, connection)
        delegate.headers_received(START_LINE, HTTPHeaders.parse(HEAD_TEXT))
        delegate.finish()
        while connection.finished == 0:
            await asyncio.sleep(0)
        connection.finished = 0
    return time.perf_counter() - begin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=_harness.positive_int, default=20000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile")
    args = parser.parse_args()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(run(args.requests))
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(30)
        # total_calls is set by Stats but missing from its stubs.
        calls = getattr(stats, "total_calls", 0) / args.requests
        print(f"{calls:.1f} calls per request (the driving loop's included)")
        return 0
    asyncio.run(run(1000))  # warm up
    seconds = asyncio.run(run(args.requests))
    print(f"{1e6 * seconds / args.requests:.2f} us per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
