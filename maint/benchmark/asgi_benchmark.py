#!/usr/bin/env python3
"""Keep-alive "hello world" across the ASGI bridges of `tornado.asgi`.

Four servers, each in its own process, answer ``GET /`` with
``Hello, world!``:

* ``starlette-in-tornado``: a Starlette application inside an
  `ASGIContainer` on Tornado's `HTTPServer`;
* ``starlette-on-uvicorn``: the same Starlette application on uvicorn;
* ``tornado-on-uvicorn``: a Tornado `Application` (one `RequestHandler`)
  wrapped in an `ASGIAdapter` on uvicorn;
* ``tornado-native``: the same Tornado application on its own `HTTPServer`.

All four are loaded by ``wrk`` (``apt-get install -y wrk``) with
``--wrk_args`` (``-t1 -c50 -d5s`` by default) in alternating ``--rounds``,
and the median requests per second of each are printed, with two ratios:
Starlette in Tornado against Starlette on uvicorn, and Tornado on uvicorn
against Tornado on its own server.  uvicorn uses httptools when it is
installed (as ``uvicorn[standard]`` does), h11 otherwise; the output says
which.  Logging is at warning level, access logs off.  Run from the
repository root::

    PYTHONPATH=. python maint/benchmark/asgi_benchmark.py [--loop=uvloop]
"""

import asyncio
import importlib.util
import shutil
import socket
import statistics
import sys
from typing import Any

# The wrk driver and the options (--wrk_args, --loop, --rounds, --serve,
# --port) are shared with the other HTTP benchmarks.
from http_server_benchmark import BODY, Result, measure

from tornado.asgi import ASGIAdapter, ASGIContainer
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.options import options, parse_command_line
from tornado.web import Application, RequestHandler

KINDS = (
    "starlette-in-tornado",
    "starlette-on-uvicorn",
    "tornado-on-uvicorn",
    "tornado-native",
)
UVICORN_HTTP = "httptools" if importlib.util.find_spec("httptools") else "h11"


class HelloHandler(RequestHandler):
    """The Tornado side's hello world."""

    def get(self) -> None:
        """Write the greeting."""
        self.write(BODY)


def starlette_app() -> Any:
    """The Starlette side's hello world."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse(BODY)

    return Starlette(routes=[Route("/", hello)])


def tornado_app() -> Application:
    return Application([("/", HelloHandler)])


async def serve_tornado(kind: str, port: int) -> None:
    [sock] = bind_sockets(port, "127.0.0.1", family=socket.AF_INET)
    if kind == "starlette-in-tornado":
        container = ASGIContainer(starlette_app())
        await container.startup()
        HTTPServer(container).add_sockets([sock])
    else:
        HTTPServer(tornado_app()).add_sockets([sock])
    await asyncio.Event().wait()


def serve_uvicorn(kind: str, port: int) -> None:
    import uvicorn

    if kind == "starlette-on-uvicorn":
        app = starlette_app()
    else:
        app = ASGIAdapter(tornado_app())
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop=options.loop,
        http=UVICORN_HTTP,
        log_level="warning",
        access_log=False,
    )
    uvicorn.Server(config).run()


def serve(kind: str, port: int) -> None:
    """Run the ``kind`` server on ``port`` until killed."""
    if kind.endswith("uvicorn"):
        serve_uvicorn(kind, port)
        return
    if options.loop == "uvloop":
        import uvloop

        uvloop.install()
    asyncio.run(serve_tornado(kind, port))


def report(results: dict[str, list[Result]]) -> None:
    rates = {
        kind: statistics.median(r.rate for r in runs) for kind, runs in results.items()
    }
    for kind, runs in results.items():
        cpus = [r.cpu_per_request for r in runs if r.cpu_per_request is not None]
        cpu = f"{statistics.median(cpus) * 1e6:7.1f} us CPU/request" if cpus else ""
        print(f"{kind:22} {rates[kind]:10.0f} requests/s {cpu}")
    print(
        f"ratio  Starlette in ASGIContainer / on uvicorn: "
        f"{rates['starlette-in-tornado'] / rates['starlette-on-uvicorn']:6.1%}"
    )
    print(
        f"ratio  Tornado app on uvicorn / on its HTTPServer: "
        f"{rates['tornado-on-uvicorn'] / rates['tornado-native']:6.1%}"
    )


def main() -> int | None:
    parse_command_line()
    if options.serve:
        serve(options.serve, options.port)
        return None
    if shutil.which("wrk") is None:
        print("wrk is not installed; on Debian or Ubuntu: apt-get install -y wrk")
        return 1
    print(f"loop={options.loop}, uvicorn http={UVICORN_HTTP}, wrk {options.wrk_args}")
    results: dict[str, list[Result]] = {kind: [] for kind in KINDS}
    for _ in range(options.rounds):
        for kind, runs in results.items():
            runs.append(measure(kind, __file__, "--logging=warning"))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
