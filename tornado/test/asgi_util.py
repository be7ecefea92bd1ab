"""Helpers of the ASGI tests: dependencies, log handling, ASGI server processes."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import subprocess
import sys
import threading
import time
import unittest
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tornado.log import access_log
from tornado.test.util import env_with_package

#: Seconds an ASGI server process may take to start listening.
STARTUP_DEADLINE = 30.0
#: Seconds an ASGI server process may take to exit once told to.
EXIT_DEADLINE = 15.0
# How uvicorn and hypercorn announce the address they listen on (port 0
# makes them pick a free port, which they then name).
_LISTENING_RE = re.compile(r"running on http://127\.0\.0\.1:([0-9]+)", re.IGNORECASE)


def missing_dependency(error: ImportError) -> ImportError:
    """The error to raise when a development dependency is missing.

    The ASGI tests need packages of the ``dev`` extra (``pip install -e
    .[dev]``); a test that cannot run without them must fail, naming the
    package, rather than be skipped or pass silently.
    """
    module = (error.name or "").split(".")[0]
    package = {"h2": "httpx[http2]"}.get(module, module)
    return ImportError(
        f"the ASGI tests need the {package!r} package (pip install {package!r}): {error}"
    )


if TYPE_CHECKING:
    _TestCase = unittest.TestCase
else:
    _TestCase = object  # a mixin: no test runner is to collect it alone


class QuietAccessLog(_TestCase):
    """Silences ``tornado.access`` (and httpx's request log) during each test.

    Every request is logged there; tests that check a line capture it with
    ``ExpectLog(access_log, ..., level=...)``, which lowers the level again.
    """

    _QUIETED = (access_log, logging.getLogger("httpx"))

    def setUp(self) -> None:
        self._levels = [logger.level for logger in self._QUIETED]
        for logger in self._QUIETED:
            logger.setLevel(logging.CRITICAL)
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        for logger, level in zip(self._QUIETED, self._levels, strict=True):
            logger.setLevel(level)


class RecordCounter(logging.Filter):
    """Counts the records a logger sees (add it before an ``ExpectLog``)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return True


@contextlib.contextmanager
def counting(logger: logging.Logger) -> Iterator[RecordCounter]:
    """Count the records of ``logger`` within the block."""
    counter = RecordCounter()
    logger.addFilter(counter)
    try:
        yield counter
    finally:
        logger.removeFilter(counter)


class ServerProcess:
    """An ASGI server (uvicorn, hypercorn) run as a child process.

    `start` returns once the server says it listens (reading its stderr,
    with a deadline); the rest of its output is collected by a thread and
    returned by `stop`, which always ends the process.
    """

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = dict(env_with_package(), **(env or {}))
        self.process: subprocess.Popen[bytes] | None = None
        self.output: list[bytes] = []
        self._reader: threading.Thread | None = None

    def start(self) -> int:
        """Start the server; return the port it listens on."""
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env,
        )
        try:
            port = self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()
        return port

    def _wait_until_listening(self) -> int:
        assert self.process is not None and self.process.stderr is not None
        pipe = self.process.stderr
        deadline = time.monotonic() + STARTUP_DEADLINE
        pending = b""
        with selectors.DefaultSelector() as selector:
            selector.register(pipe, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise RuntimeError(self._failure("did not start listening in time"))
                data = os.read(pipe.fileno(), 65536)
                if not data:
                    raise RuntimeError(self._failure("exited before listening"))
                self.output.append(data)
                pending += data
                match = _LISTENING_RE.search(pending.decode("latin1"))
                if match:
                    return int(match.group(1))

    def _collect(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while True:
            data = os.read(self.process.stderr.fileno(), 65536)
            if not data:
                return
            self.output.append(data)

    def text(self) -> str:
        """Everything the server wrote to stderr so far."""
        return b"".join(self.output).decode("utf-8", "replace")

    def _failure(self, what: str) -> str:
        return f"{' '.join(self.command)} {what}; its output:\n{self.text()}"

    def stop(self) -> str:
        """Ask the server to exit (SIGTERM), kill it if it won't; its output."""
        process = self.process
        if process is None:
            return self.text()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(EXIT_DEADLINE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(EXIT_DEADLINE)
        if process.stderr is not None:
            process.stderr.close()
        self.process = None
        return self.text()


def python_module_command(module: str, *args: str) -> list[str]:
    """The command running ``python -m module args`` with this interpreter.

    The child gets the interpreter flags of this run (``-O``, ``-bb``), so
    that the suite's configurations reach the served application too.
    """
    flags = []
    if sys.flags.optimize:
        flags.append("-" + "O" * sys.flags.optimize)
    if sys.flags.bytes_warning:
        flags.append("-" + "b" * sys.flags.bytes_warning)
    return [sys.executable, *flags, "-m", module, *args]
