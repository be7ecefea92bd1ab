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
import statistics
import subprocess
import sys
from typing import Dict, List, Optional

# The raw responder, the wrk driver's helpers and the options (--wrk_args,
# --loop, --rounds, --serve, --port) are shared with the HTTPServer benchmark.
from http_server_benchmark import (
    BODY,
    RawResponder,
    Result,
    cpu_seconds,
    free_port,
    requests_per_second,
    wait_until_listening,
)

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.options import options, parse_command_line
from tornado.web import Application, RequestHandler

KINDS = ("web", "raw")


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


def measure(kind: str) -> Result:
    """Start a ``kind`` server in a child process, load it with wrk, stop it."""
    port = free_port()
    command = [sys.executable, __file__, f"--serve={kind}", f"--port={port}"]
    command += [f"--loop={options.loop}", "--logging=warning"]
    server = subprocess.Popen(command)
    try:
        wait_until_listening(port, server)
        cpu_before = cpu_seconds(server.pid)
        wrk = subprocess.run(
            ["wrk", *options.wrk_args.split(), f"http://127.0.0.1:{port}/"],
            check=True,
            capture_output=True,
            text=True,
        )
        cpu_after = cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait()
    rate, total = requests_per_second(wrk.stdout)
    cpu = None
    if cpu_before is not None and cpu_after is not None and total:
        cpu = (cpu_after - cpu_before) / total
    return Result(rate, cpu)


def report(results: Dict[str, List[Result]]) -> None:
    """Print the median rate (and CPU cost) of each server, and the ratio."""
    rates = {
        kind: statistics.median(r.rate for r in runs) for kind, runs in results.items()
    }
    for kind, runs in results.items():
        cpus = [r.cpu_per_request for r in runs if r.cpu_per_request is not None]
        cpu = f"{statistics.median(cpus) * 1e6:7.1f} us CPU/request" if cpus else ""
        print(f"{kind:8} {rates[kind]:10.0f} requests/s {cpu}")
    ratio = rates["web"] / rates["raw"]
    print(
        f"ratio    {ratio:10.1%} of the raw asyncio.Protocol responder (target >= 10%)"
    )


def main() -> Optional[int]:
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
    results: Dict[str, List[Result]] = {kind: [] for kind in KINDS}
    for _ in range(options.rounds):
        for kind in KINDS:
            results[kind].append(measure(kind))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
