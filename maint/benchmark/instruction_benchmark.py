#!/usr/bin/env python3
"""CPU instructions a server spends per request, counted by callgrind.

Wall-clock benchmarks on a small shared machine swing by 10-30% from run to
run; an instruction count does not.  This script runs a hello-world server
under ``valgrind --tool=callgrind`` (``apt-get install -y valgrind``) while
this process, outside valgrind, sends it keep-alive requests from
``--clients`` connections.  It does so twice, for ``--requests`` and for five
times as many, and prints the difference divided by the extra requests: the
server's user-space instructions per request, start-up excluded.  Kernel
work (the socket calls) is not counted.

``--server`` picks what answers ``GET /``:

* ``web``: an `Application` routing to a `RequestHandler` (as in
  ``web_benchmark.py``);
* ``http``: a bare `HTTPServer` callback (as in ``http_server_benchmark.py``).

Compare two versions of the code by running this from each checkout::

    PYTHONPATH=. python maint/benchmark/instruction_benchmark.py --server=web
"""

import asyncio
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.options import define, options, parse_command_line
from tornado.web import Application, RequestHandler

define("server", default="web", help="what answers: web or http")
define("requests", default=500, help="requests in the short run (the long one has 5x)")
define("clients", default=10, help="keep-alive connections sending requests")
define("serve", default=0, help="internal: serve this many requests, then exit")
define("port", default=0, help="internal: the port the server listens on")

BODY = b"Hello, world!"
REQUEST = (
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
)
COLLECTED = re.compile(rb"Collected : (\d+)")


async def serve(kind: str, port: int, count: int) -> None:
    """Answer ``count`` requests on ``port``, then return."""
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

    def hello(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        headers = HTTPHeaders({"Content-Length": str(len(BODY))})
        start_line = ResponseStartLine("HTTP/1.1", 200, "OK")
        request.connection.write_headers(start_line, headers, BODY)
        request.connection.finish()
        one_more()

    server = HTTPServer(Application([("/", HelloHandler)]) if kind == "web" else hello)
    server.listen(port, "127.0.0.1")
    await done


def send_requests(port: int, count: int, clients: int) -> None:
    """Send ``count`` requests over ``clients`` connections, one in flight each."""
    deadline = time.monotonic() + 60
    while True:
        try:
            sockets = [
                socket.create_connection(("127.0.0.1", port)) for _ in range(clients)
            ]
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # valgrind takes a few seconds to start Python
    for _ in range(count // clients):
        for sock in sockets:
            sock.sendall(REQUEST)
        for sock in sockets:
            received = b""
            while not received.endswith(BODY):
                received += sock.recv(4096)
    for sock in sockets:
        sock.close()


def instructions(count: int) -> int:
    """Instructions of a server process answering ``count`` requests."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, __file__, f"--server={options.server}"]
    command += [f"--serve={count}", f"--port={port}", "--logging=warning"]
    with tempfile.TemporaryFile() as report:
        server = subprocess.Popen(command, stderr=report)
        try:
            send_requests(port, count, options.clients)
            server.wait(timeout=600)
        finally:
            if server.poll() is None:
                server.kill()
        report.seek(0)
        stderr = report.read()
    match = COLLECTED.search(stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{stderr.decode()}")
    return int(match.group(1))


def main() -> int | None:
    parse_command_line()
    if options.serve:
        asyncio.run(serve(options.server, options.port, options.serve))
        return None
    if shutil.which("valgrind") is None:
        print(
            "valgrind is not installed; on Debian or Ubuntu: apt-get install -y valgrind"
        )
        return 1
    counts: list[int] = [options.requests, 5 * options.requests]
    short, long = (instructions(count) for count in counts)
    per_request = (long - short) / (counts[1] - counts[0])
    print(f"server {options.server}: {per_request:,.0f} instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
