#!/usr/bin/env python3
"""Keep-alive "hello world" throughput of `HTTPServer`, next to a raw baseline.

Two servers answer every request with the same bytes::

    HTTP/1.1 200 OK\\r\\nContent-Length: 13\\r\\n\\r\\nHello, world!

* ``tornado``: `tornado.httpserver.HTTPServer` with a plain request callback;
* ``raw``: a minimal `asyncio.Protocol` that answers each blank line it sees,
  without parsing anything: the ceiling for a Python server on this machine.

Each runs in its own process and is loaded by ``wrk`` (``apt-get install
wrk``) with ``--wrk-args`` (``-t1 -c50 -d5s`` by default).  The requests per
second of both and their ratio are printed (medians of ``--rounds`` alternating runs),
with the server CPU time spent per request where ``/proc`` tells it.  ``--loop=uvloop`` runs both
servers on uvloop.  Run from the repository root with
``PYTHONPATH=. python maint/benchmark/http_server_benchmark.py``.
"""

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
from typing import NamedTuple, cast

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.netutil import bind_sockets
from tornado.options import define, options, parse_command_line

define("wrk_args", default="-t1 -c50 -d5s", help="load options passed to wrk")
define("loop", default="asyncio", help="event loop for the servers: asyncio, uvloop")
define("rounds", default=3, help="alternating runs of each server (medians shown)")
define("serve", default="", help="internal: run one server (tornado or raw)")
define("port", default=0, help="internal: the port the server listens on")

BODY = b"Hello, world!"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
OK = ResponseStartLine("HTTP/1.1", 200, "OK")


def hello(request: HTTPServerRequest) -> None:
    """The request callback of the tornado server."""
    assert request.connection is not None
    headers = HTTPHeaders({"Content-Length": str(len(BODY))})
    request.connection.write_headers(OK, headers, BODY)
    request.connection.finish()


class RawResponder(asyncio.Protocol):
    """Answers each request (each blank line) with the canned response."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports implement the interface without subclassing.)
        self.transport = cast(asyncio.Transport, transport)
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        data = self.pending + data
        requests = data.count(b"\r\n\r\n")
        self.pending = data[data.rfind(b"\r\n\r\n") + 4 :] if requests else data
        if requests:
            self.transport.write(RESPONSE * requests)


async def serve(kind: str, port: int) -> None:
    [sock] = bind_sockets(port, "127.0.0.1", family=socket.AF_INET)
    if kind == "tornado":
        HTTPServer(hello).add_sockets([sock])
    else:
        loop = asyncio.get_running_loop()
        await loop.create_server(RawResponder, sock=sock)
    await asyncio.Event().wait()


def run_server(kind: str, port: int) -> None:
    if options.loop == "uvloop":
        import uvloop

        uvloop.install()
    asyncio.run(serve(kind, port))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    while server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
    raise RuntimeError(f"server exited with status {server.returncode}")


def requests_per_second(wrk_output: str) -> tuple[float, int]:
    """The rate and the total count of requests reported by wrk."""
    rate = re.search(r"Requests/sec:\s*([0-9.]+)", wrk_output)
    total = re.search(r"([0-9]+) requests in", wrk_output)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{wrk_output}")
    return float(rate.group(1)), int(total.group(1))


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process, where /proc tells it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Result(NamedTuple):
    """One wrk run against one server."""

    rate: float  #: requests per second
    cpu_per_request: float | None  #: server CPU seconds per request


def measure(kind: str, script: str = __file__, *server_args: str) -> Result:
    """Start ``script``'s ``kind`` server in a child process, load it with wrk.

    ``server_args`` are passed on to the server's command line.
    """
    port = free_port()
    command = [sys.executable, script, f"--serve={kind}", f"--port={port}"]
    command += [f"--loop={options.loop}", *server_args]
    server = subprocess.Popen(command)
    try:
        wait_until_listening(port, server)
        cpu_before = cpu_seconds(server.pid)
        url = f"http://127.0.0.1:{port}/"
        wrk = subprocess.run(
            ["wrk", *options.wrk_args.split(), url],
            check=True,
            capture_output=True,
            text=True,
        )
        cpu_after = cpu_seconds(server.pid)
        rate, total = requests_per_second(wrk.stdout)
        cpu = None
        if cpu_before is not None and cpu_after is not None and total:
            cpu = (cpu_after - cpu_before) / total
        return Result(rate, cpu)
    finally:
        server.terminate()
        server.wait()


def compare(
    kinds: tuple[str, str], target: float, script: str = __file__, *server_args: str
) -> None:
    """Measure both servers in alternating rounds; print medians and their ratio.

    Machines running other work make single runs noisy, hence the rounds.
    The ratio is that of the first kind to the second (the raw responder).
    """
    results: dict[str, list[Result]] = {kind: [] for kind in kinds}
    for _ in range(options.rounds):
        for kind, runs in results.items():
            runs.append(measure(kind, script, *server_args))
    rates = {
        kind: statistics.median(r.rate for r in runs) for kind, runs in results.items()
    }
    for kind, runs in results.items():
        cpus = [r.cpu_per_request for r in runs if r.cpu_per_request is not None]
        cpu = f"{statistics.median(cpus) * 1e6:7.1f} us CPU/request" if cpus else ""
        print(f"{kind:8} {rates[kind]:10.0f} requests/s {cpu}")
    ratio = rates[kinds[0]] / rates[kinds[1]]
    print(
        f"ratio    {ratio:10.1%} of the raw asyncio.Protocol responder"
        f" (target >= {target:.0%})"
    )


def main() -> int | None:
    parse_command_line()
    if options.serve:
        run_server(options.serve, options.port)
        return None
    compare(("tornado", "raw"), 0.15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
