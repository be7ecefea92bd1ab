"""Helpers shared by the test modules: paths, servers and TLS, ports, scaling
checks, and demo scripts run in child processes."""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tracemalloc
import typing
import unittest
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tornado.httputil import (
    HTTPHeaders,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
    responses,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.locks import Event
from tornado.tcpserver import TCPServer
from tornado.testing import bind_unused_port

_T = TypeVar("_T")

#: The directory of the test modules (and their data files).
TEST_DIR = os.path.dirname(os.path.abspath(__file__))
#: The checkout the package lives in; put it on ``PYTHONPATH`` for children.
REPO_ROOT = os.path.dirname(os.path.dirname(TEST_DIR))
#: The suite's self-signed certificate (for ``localhost``) and its key.
TEST_CERT = os.path.join(TEST_DIR, "test.crt")
TEST_KEY = os.path.join(TEST_DIR, "test.key")


def server_ssl_context(*, verify_clients: bool = False) -> ssl.SSLContext:
    """A server TLS context presenting `TEST_CERT` (for ``localhost``).

    With ``verify_clients``, clients must present a certificate, which is
    checked against `TEST_CERT` (so the suite's own certificate will do).
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TEST_CERT, TEST_KEY)
    if verify_clients:
        context.load_verify_locations(TEST_CERT)
        context.verify_mode = ssl.CERT_REQUIRED
    # No TLS 1.3 session tickets: a client that never reads would close with
    # them unread, which resets the connection and can lose what it sent last.
    context.num_tickets = 0
    return context


def client_ssl_context() -> ssl.SSLContext:
    """A client TLS context that trusts `TEST_CERT` (and verifies host names)."""
    return ssl.create_default_context(cafile=TEST_CERT)


def server_request(
    method: str = "GET",
    uri: str = "/",
    headers: HTTPHeaders | dict[str, str] | None = None,
    host: str | None = None,
    **kwargs: Any,
) -> HTTPServerRequest:
    """An `HTTPServerRequest` built as 6.6 wants: from a start line, no deprecated arguments.

    ``host`` becomes the ``Host`` header; other keywords go to the constructor.
    """
    headers = HTTPHeaders(headers or {})
    if host is not None:
        headers["Host"] = host
    start_line = RequestStartLine(method, uri, "HTTP/1.1")
    return HTTPServerRequest(start_line=start_line, headers=headers, **kwargs)


def respond(
    request: HTTPServerRequest,
    body: bytes | str = b"",
    *,
    code: int = 200,
    headers: HTTPHeaders | dict[str, str] | None = None,
    reason: str | None = None,
    content_length: bool = True,
) -> None:
    """Answer ``request`` through its connection, for plain-callable servers.

    A str ``body`` is sent as UTF-8.  ``reason`` defaults to the standard
    phrase of ``code``.  A ``Content-Length`` is added unless ``headers``
    has one or ``content_length`` is false (the connection then chooses
    the framing, chunked for HTTP/1.1).  The body of a HEAD response is
    not sent.
    """
    data = body.encode() if isinstance(body, str) else body
    response_headers = HTTPHeaders(headers or {})
    if content_length:
        response_headers.setdefault("Content-Length", str(len(data)))
    start_line = ResponseStartLine(
        "HTTP/1.1", code, reason or responses.get(code, "Unknown")
    )
    connection = request.connection
    assert connection is not None
    connection.write_headers(start_line, response_headers)
    if data and request.method != "HEAD":
        connection.write(data)
    connection.finish()


class ScriptedServer(TCPServer):
    """A TCP server on a free 127.0.0.1 port that plays a script to clients.

    Subclasses write `serve` (a `StreamClosedError` from it ends the
    connection quietly).  ``closed`` is set once a client's connection has
    closed; `close` stops the server and closes every connection.
    """

    def __init__(self) -> None:
        super().__init__()
        self.streams: list[IOStream] = []
        self.closed = Event()
        sock, self.port = bind_unused_port()
        self.add_sockets([sock])

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.streams.append(stream)
        stream.set_close_callback(self.closed.set)
        try:
            await self.serve(stream)
        except StreamClosedError:
            pass

    async def serve(self, stream: IOStream) -> None:
        """Talk to one client."""
        raise NotImplementedError()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def close(self) -> None:
        self.stop()
        for stream in self.streams:
            stream.close()


def env_with_package() -> dict[str, str]:
    """``os.environ`` with the checkout first on ``PYTHONPATH``, for children."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [REPO_ROOT, env.get("PYTHONPATH")])
    )
    return env


def ipv6_available() -> bool:
    """Whether a socket can be bound to the IPv6 loopback address here."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


skip_without_ipv6 = unittest.skipUnless(
    ipv6_available(), "IPv6 loopback is not available on this machine"
)


def closed_port(address: str = "127.0.0.1") -> int:
    """A port on ``address`` that nothing listens on (just released)."""
    sock, port = bind_unused_port(address=address)
    sock.close()
    return port


def in_fresh_thread(func: Callable[[], _T]) -> _T:
    """Run ``func`` in a new thread (which has no asyncio loop); return its result."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(func).result()


#: How much larger the big input of `assert_roughly_linear` is.
SCALE_FACTOR = 100
#: The most the big input may cost, relative to the small one.  Linear work
#: costs about 100 times as much (somewhat more once the data outgrows the
#: CPU caches), quadratic work 10,000 times: far apart on either side.
SCALE_BOUND = 1000


def best_cpu_time(func: Callable[[], object], repeat: int = 3) -> float:
    """The least CPU time (`time.process_time`) of ``repeat`` runs of ``func``.

    CPU time rather than wall-clock time: other processes on a loaded
    machine do not count.
    """
    times = []
    for _ in range(repeat):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def assert_roughly_linear(
    test: unittest.TestCase, run: Callable[[int], Callable[[], object]], n: int
) -> None:
    """Fail unless the work done by ``run`` grows about linearly with its size.

    ``run(size)`` prepares an input of that size and returns the function to
    time.  ``run(100 * n)`` may cost at most `SCALE_BOUND` times what
    ``run(n)`` costs (best of 3 each, garbage collection off): quadratic
    work would cost 10,000 times as much.  Choose ``n`` so that the large
    run takes a few tens of milliseconds.
    """
    small, large = run(n), run(SCALE_FACTOR * n)
    small()  # warm caches and lazy imports
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        small_time = best_cpu_time(small)
        large_time = best_cpu_time(large)
    finally:
        if gc_was_enabled:
            gc.enable()
    # A clock tick is the least a measurement can show.
    ratio = large_time / max(small_time, time.get_clock_info("process_time").resolution)
    if ratio > SCALE_BOUND:
        test.fail(
            f"{SCALE_FACTOR}x the input took {ratio:.0f}x the time "
            f"({small_time:.6f}s, then {large_time:.6f}s)"
        )


def peak_traced_memory(func: Callable[[], _T]) -> tuple[_T, int]:
    """``func()``'s result and the most memory Python allocated during it.

    Measured with `tracemalloc` (bytes above what was allocated before the
    call), so only Python's allocations count: what a function's own data
    structures cost, whatever the rest of the process does.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = func()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak


_PROC_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(field: str) -> int:
    with open(_PROC_STATUS) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def rss_peak_resettable() -> bool:
    """Whether `RSSPeak` can measure here (Linux's resettable peak RSS)."""
    try:
        _status_kib("VmHWM")
    except (OSError, KeyError):
        return False
    return os.access(_CLEAR_REFS, os.W_OK)


skip_without_rss_peak = unittest.skipUnless(
    rss_peak_resettable(),
    "needs Linux's resettable peak RSS (/proc/self/clear_refs)",
)


class RSSPeak:
    """Measures how far the process's resident memory rises inside a block.

    ``with RSSPeak() as peak: ...`` then ``peak.growth`` is the rise of the
    peak resident set size over the size at the start, in bytes: every
    allocation counts, C libraries' included.  Linux only (see
    `skip_without_rss_peak`).
    """

    growth = 0

    def __enter__(self) -> RSSPeak:
        gc.collect()
        with open(_CLEAR_REFS, "w") as f:
            f.write("5")  # resets VmHWM to the current VmRSS
        self._start = _status_kib("VmRSS")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.growth = (_status_kib("VmHWM") - self._start) * 1024


def report_figure(name: str, value: float) -> None:
    """Print a measured figure when ``TORNADO_TEST_FIGURES`` is set (else nothing).

    For measurements quoted in release notes; the suite itself stays quiet.
    """
    if os.environ.get("TORNADO_TEST_FIGURES"):
        print(f"[figure] {name}: {value}", file=sys.__stderr__)


# ---------------------------------------------------------------------------
# Demo scripts in child processes

#: The demos of the checkout (absent from an installed package).
DEMOS_DIR = os.path.join(REPO_ROOT, "demos")
#: Seconds a child may take to start listening.
START_TIMEOUT = 20.0

skip_without_demos = unittest.skipUnless(
    os.path.isdir(DEMOS_DIR), "the demos are not part of this install"
)


def child_env() -> dict[str, str]:
    """The environment of demos run as their READMEs say: no ``PYTHONPATH``.

    (Most demos put the checkout on ``sys.path`` themselves; for those that
    do not, pass `env_with_package` instead.)
    """
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


class PortTaken(Exception):
    """A child could not listen: its port was taken in the meantime."""


class LoggedChild(typing.Protocol):
    """A child process whose output can be read."""

    process: subprocess.Popen[bytes]

    def output(self) -> str: ...


def wait_until_listening(port: int, children: Sequence[LoggedChild]) -> None:
    """Return once ``port`` on 127.0.0.1 accepts connections.

    Fail (or raise `PortTaken`) if one of ``children`` exits meanwhile.
    """
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        for child in children:
            try:
                status = child.process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            output = child.output()
            if "Address already in use" in output:
                raise PortTaken(port)
            raise AssertionError(f"{child.process.args!r} exited ({status}):\n{output}")
    outputs = "\n".join(child.output() for child in children)
    raise AssertionError(f"nothing listens on port {port}:\n{outputs}")


def assert_no_errors_logged(what: str, output: str) -> None:
    """Rejections are logged as warnings; anything worse is a bug."""
    if "Traceback" in output or re.search(r"^\[E ", output, re.M):
        raise AssertionError(f"{what} logged an error:\n{output}")


class DemoServer:
    """A demo script serving on a free loopback port in a child process.

    ``script`` is relative to `DEMOS_DIR` and is given ``--port=N`` before
    ``args``.  The child's output goes to a log file, which `output` reads.
    The child has started listening when the constructor returns.
    """

    def __init__(
        self, script: str, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.script = script
        self.env = child_env() if env is None else env
        fd, self.log_path = tempfile.mkstemp(prefix="demo-", suffix=".log")
        os.close(fd)
        # Another process may take the port we picked before the child binds
        # it (both IPv4 and IPv6); a few attempts make that harmless.
        for _ in range(5):
            self.start(*args)
            try:
                wait_until_listening(self.port, [self])
                return
            except PortTaken:
                pass
            except BaseException:
                self.stop()
                raise
        output = self.output()
        self.stop()
        raise AssertionError(f"{script}: no free port found:\n{output}")

    def start(self, *args: str) -> None:
        self.port = closed_port()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, os.path.join(DEMOS_DIR, self.script)]
                + [f"--port={self.port}", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    def url(self, path: str) -> str:
        """The URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        """Everything the child has printed or logged so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def terminate(self) -> None:
        """End the child (if still running), keeping its log."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """End the child and delete its log."""
        self.terminate()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.log_path)

    def stop_and_check(self) -> None:
        """`stop`, then fail if the child logged an error or a traceback."""
        output = self.output()
        self.stop()
        assert_no_errors_logged(self.script, output)


def run_demo(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a demo script (relative to `DEMOS_DIR`) to completion."""
    return subprocess.run(
        [sys.executable, os.path.join(DEMOS_DIR, script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env() if env is None else env,
    )
