#!/usr/bin/env python3
"""Keep-alive "hello world" through `tornado.web`, next to a raw baseline.

Two servers, each in its own process, answer ``GET /`` with the body
``Hello, world!``:

* ``web``: an `Application` routing to a `RequestHandler` that writes the
  body (with the usual headers: Server, Date, Content-Type, Etag...);
* ``raw``: the minimal `asyncio.Protocol` responder of
  ``http_server_benchmark.py``, which sends canned bytes without parsing
  anything: the ceiling for a Python server on this machine.

Both are loaded by ``wrk`` (``apt-get install -y wrk``) with ``--wrk_args``
(``-t1 -c50 -d5s`` by default), in alternating ``--rounds``; the median
requests per second of each and their ratio are printed (target: the web
server at least 10% of the raw one).  Access logging is off (``--logging``
is ``warning`` in the servers), as it usually is in such measurements.
Run from the repository root::

    PYTHONPATH=. python maint/benchmark/web_benchmark.py [--loop=uvloop]
"""

import asyncio
import shutil
import socket
import sys

# The raw responder, the wrk driver and the options (--wrk_args, --loop,
# --rounds, --serve, --port) are shared with the HTTPServer benchmark.
from http_server_benchmark import BODY, RawResponder, compare

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.options import options, parse_command_line
from tornado.web import Application, RequestHandler


class HelloHandler(RequestHandler):
    """The hello world handler measured by this benchmark."""

    def get(self) -> None:
        """Write the greeting."""
        self.write(BODY)


async def serve(kind: str, port: int) -> None:
    """Serve the ``kind`` server on ``port`` until killed."""
    [sock] = bind_sockets(port, "127.0.0.1", family=socket.AF_INET)
    if kind == "web":
        HTTPServer(Application([("/", HelloHandler)])).add_sockets([sock])
    else:
        await asyncio.get_running_loop().create_server(RawResponder, sock=sock)
    await asyncio.Event().wait()


def main() -> int | None:
    parse_command_line()
    if options.serve:
        if options.loop == "uvloop":
            import uvloop

            uvloop.install()
        asyncio.run(serve(options.serve, options.port))
        return None
    if shutil.which("wrk") is None:
        print("wrk is not installed; on Debian or Ubuntu: apt-get install -y wrk")
        return 1
    compare(("web", "raw"), 0.10, __file__, "--logging=warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
