"""Support for writing unit tests of asynchronous code.

Tests of asynchronous code need an event loop to run on and a way to wait
for results without blocking it:

* :class:`AsyncTestCase` runs each test with a fresh `.IOLoop`; decorate
  coroutine test methods with :func:`gen_test` to run them on it.
* :class:`AsyncHTTPTestCase` (and :class:`AsyncHTTPSTestCase`, over TLS)
  also serves an application on a free loopback port, with a client to
  fetch from it.
* :class:`ExpectLog` captures log output a test expects to produce.
* :func:`bind_unused_port`, :func:`get_async_test_timeout` and
  :func:`setup_with_context_manager` are small helpers for test set-up.
* :func:`main` runs tests from the command line with Tornado's options.

For example, a test that a queue hands over an item put a little later,
run here as a test runner would:

>>> import io, unittest
>>> from tornado.queues import Queue
>>> from tornado.testing import AsyncTestCase, gen_test
>>> class QueueTest(AsyncTestCase):
...     @gen_test
...     async def test_get_waits_for_put(self):
...         queue = Queue()
...         self.io_loop.call_later(0.01, queue.put_nowait, "item")
...         self.assertEqual(await queue.get(), "item")
>>> def run(case):
...     tests = unittest.defaultTestLoader.loadTestsFromTestCase(case)
...     result = unittest.TextTestRunner(stream=io.StringIO()).run(tests)
...     return result.testsRun, result.wasSuccessful()
>>> run(QueueTest)
(1, True)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import os
import re
import signal
import socket
import sys
import traceback
import types
import unittest
import warnings
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar, overload

from tornado import gen, netutil
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.options import define, options, parse_command_line
from tornado.platform.asyncio import AsyncIOMainLoop
from tornado.process import Subprocess
from tornado.util import raise_exc_info

__all__ = [
    "AsyncHTTPSTestCase",
    "AsyncHTTPTestCase",
    "AsyncTestCase",
    "ExpectLog",
    "bind_unused_port",
    "gen_test",
    "get_async_test_timeout",
    "main",
    "setup_with_context_manager",
]

_T = TypeVar("_T")
_Suspendable = Generator[Any, Any, Any] | Coroutine[Any, Any, Any]
_ExcInfo = tuple[type[BaseException], BaseException, types.TracebackType | None]

# Seconds a test may wait on its loop when neither the test nor the
# ASYNC_TEST_TIMEOUT environment variable says otherwise.
_DEFAULT_ASYNC_TEST_TIMEOUT = 5.0


def bind_unused_port(
    reuse_port: bool = False, address: str = "127.0.0.1"
) -> tuple[socket.socket, int]:
    """Bind a listening socket to a free port on ``address``.

    Returns ``(socket, port)``.  ``address`` defaults to the IPv4 loopback
    interface; with a name that resolves to several addresses only the
    first socket is kept.
    """
    first, *others = netutil.bind_sockets(0, address, reuse_port=reuse_port)
    for extra in others:
        extra.close()
    return first, first.getsockname()[1]


def get_async_test_timeout() -> float:
    """Seconds an asynchronous test may run: ``$ASYNC_TEST_TIMEOUT`` or 5.

    Raises `ValueError` if the environment variable is set to something
    other than a number.
    """
    setting = os.environ.get("ASYNC_TEST_TIMEOUT")
    if setting is None or not setting.strip():
        return _DEFAULT_ASYNC_TEST_TIMEOUT
    try:
        return float(setting)
    except ValueError:
        raise ValueError(
            f"ASYNC_TEST_TIMEOUT must be a number of seconds, not {setting!r}"
        )


def setup_with_context_manager(
    testcase: unittest.TestCase, cm: contextlib.AbstractContextManager[_T]
) -> _T:
    """Enter ``cm`` for the rest of the test; exit it during clean-up.

    Returns what entering ``cm`` returned.  Use it from ``setUp`` where a
    ``with`` block cannot span the test.
    """
    value = cm.__enter__()
    testcase.addCleanup(cm.__exit__, None, None, None)
    return value


class _EscapedErrors:
    """Exceptions that escaped into a test's event loop instead of being handled.

    The first one fails the test; any later one is only logged, since a
    test can report one failure.
    """

    def __init__(self) -> None:
        self._first: _ExcInfo | None = None

    @property
    def pending(self) -> bool:
        """Whether an exception is waiting to be raised."""
        return self._first is not None

    def add(self, exc_info: _ExcInfo) -> None:
        if self._first is not None:
            app_log.error("multiple unhandled exceptions in test", exc_info=exc_info)
        else:
            self._first = exc_info

    def raise_first(self) -> None:
        """Raise the recorded exception (forgetting it), if there is one."""
        first, self._first = self._first, None
        if first is not None:
            raise_exc_info(first)


class _TestLoop:
    """One test's `.IOLoop`: installed as current, watched, and closed after.

    Exceptions reported to the asyncio loop's exception handler go to
    ``on_escape``; :meth:`close` cancels the tasks the test left behind.
    Shared by `AsyncTestCase` and the pytest plugin's ``io_loop`` fixture.
    """

    def __init__(self, io_loop: IOLoop, on_escape: Callable[[_ExcInfo], None]) -> None:
        self.io_loop = io_loop
        self._on_escape = on_escape
        self._asyncio_loop: asyncio.AbstractEventLoop = io_loop.asyncio_loop  # type: ignore[attr-defined]
        self._asyncio_loop.set_exception_handler(self._report)
        asyncio.set_event_loop(self._asyncio_loop)

    def _report(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if error is None:
            loop.default_exception_handler(context)
        else:
            self._on_escape((type(error), error, error.__traceback__))

    def close(self) -> None:
        """Finish leftover tasks, uninstall the loop and close it.

        A leftover task that fails with anything but its cancellation has
        its exception raised here, after the loop is closed.
        """
        try:
            self._unwind_leftover_tasks()
        finally:
            # Errors asyncio reports after this test (a task garbage-collected
            # later, say) go back to being logged.
            self._asyncio_loop.set_exception_handler(None)
            Subprocess.uninitialize()
            asyncio.set_event_loop(None)
            if not isinstance(self.io_loop, AsyncIOMainLoop):
                # all_fds: reclaim descriptors even from tests that leaked them.
                self.io_loop.close(all_fds=True)

    def _unwind_leftover_tasks(self) -> None:
        # Running cancelled tasks to their end now avoids "Task was destroyed
        # but it is pending" warnings later.
        leftovers = [t for t in asyncio.all_tasks(self._asyncio_loop) if not t.done()]
        if not leftovers:
            return
        for task in leftovers:
            task.cancel()
        self.io_loop.run_sync(lambda: asyncio.wait(leftovers))
        for task in leftovers:
            if not task.cancelled() and task.exception() is not None:
                task.result()


class _StopSignal:
    """What :meth:`AsyncTestCase.stop` hands to :meth:`AsyncTestCase.wait`."""

    def __init__(self) -> None:
        #: stop() was called and no wait() has consumed it yet.
        self.given = False
        #: The argument (or keyword dictionary) of the last stop().
        self.value: Any = None
        #: A wait() is running the loop and wants it stopped on stop().
        self.loop_waiting = False

    def take(self) -> Any:
        """Consume the signal, returning its value."""
        value, self.value, self.given = self.value, None, False
        return value


class AsyncTestCase(unittest.TestCase):
    """A `unittest.TestCase` running each test with its own `.IOLoop`.

    ``setUp`` creates the loop (:attr:`io_loop`) and makes it current;
    ``tearDown`` cancels and finishes any tasks still pending on it, then
    closes it.  Subclasses overriding ``setUp`` or ``tearDown`` must call
    the inherited method.

    Asynchronous tests are written as coroutines decorated with
    :func:`gen_test`.  Older tests may instead start operations, then call
    :meth:`wait`, which runs the loop until a callback calls :meth:`stop`.

    An exception that escapes a callback into the event loop (rather than
    being handled by the code under test) fails the test that was running.
    """

    #: The `.IOLoop` this test runs on, a new one for each test.
    io_loop: IOLoop

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self._escaped = _EscapedErrors()
        self._stop_signal = _StopSignal()

    def setUp(self) -> None:
        """Create and install this test's event loop."""
        super().setUp()
        if type(self).get_new_ioloop is not AsyncTestCase.get_new_ioloop:
            warnings.warn(
                "get_new_ioloop is deprecated", DeprecationWarning, stacklevel=2
            )
        self.io_loop = self.get_new_ioloop()
        self._test_loop = _TestLoop(self.io_loop, self._loop_error)

    def tearDown(self) -> None:
        """Finish leftover tasks, close the loop, report a recorded failure."""
        self._test_loop.close()
        super().tearDown()
        self._escaped.raise_first()

    def get_new_ioloop(self) -> IOLoop:
        """The `.IOLoop` for a test; a new one by default.

        .. deprecated:: 6.3
           Overriding this is deprecated; the loop should be a new one.
        """
        loop: IOLoop = IOLoop(make_current=False)
        return loop

    def _loop_error(self, exc_info: _ExcInfo) -> None:
        """An exception escaped into the loop: it fails the test, and ends wait()."""
        self._escaped.add(exc_info)
        self.stop()

    def run(
        self, result: unittest.TestResult | None = None
    ) -> unittest.TestResult | None:
        """Run the test; a failure recorded too late for ``tearDown`` is raised."""
        outcome = super().run(result)
        # A failure still recorded here came after tearDown (or tearDown was
        # overridden without calling ours): raising it messily beats losing it.
        self._escaped.raise_first()
        return outcome

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        returned = method()
        if inspect.isgenerator(returned) or inspect.iscoroutine(returned):
            if inspect.iscoroutine(returned):
                returned.close()  # no "never awaited" warning on top
            raise TypeError(
                "Generator and coroutine test methods should be decorated "
                "with tornado.testing.gen_test"
            )
        if returned is not None:
            raise ValueError(f"Return value from test method ignored: {returned!r}")

    def stop(self, _arg: Any = None, **kwargs: Any) -> None:
        """Make the current (or next) :meth:`wait` return.

        :meth:`wait` returns the positional argument, or the keyword
        arguments as a dictionary; passing both is an error.

        .. deprecated:: 5.1
           Use :func:`gen_test` instead of :meth:`stop` and :meth:`wait`.
        """
        if _arg is not None and kwargs:
            raise ValueError("stop() takes a positional argument or keywords, not both")
        signal = self._stop_signal
        signal.value = kwargs or _arg
        signal.given = True
        if signal.loop_waiting:
            signal.loop_waiting = False
            self.io_loop.stop()

    def wait(
        self,
        condition: Callable[..., bool] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run the loop until :meth:`stop` is called, and return its argument.

        With ``condition``, the loop keeps running after a :meth:`stop` until
        ``condition()`` is true.  After ``timeout`` seconds (default
        :func:`get_async_test_timeout`) the test fails; pass ``timeout=0``
        for no limit.  An exception recorded while the loop ran is raised.

        .. deprecated:: 5.1
           Use :func:`gen_test` instead of :meth:`stop` and :meth:`wait`.
        """
        limit = get_async_test_timeout() if timeout is None else timeout
        if not self._stop_signal.given:
            self._run_loop_until_stopped(condition, limit)
        self._stop_signal.given = False
        self._escaped.raise_first()
        return self._stop_signal.take()

    def _run_loop_until_stopped(
        self, condition: Callable[..., bool] | None, limit: float
    ) -> None:
        alarm = (
            self.io_loop.call_later(limit, self._wait_timed_out, limit)
            if limit
            else None
        )

        def satisfied() -> bool:
            return self._escaped.pending or condition is None or bool(condition())

        try:
            while True:
                self._stop_signal.loop_waiting = True
                self.io_loop.start()
                if satisfied():
                    return
        finally:
            if alarm is not None:
                self.io_loop.remove_timeout(alarm)

    def _wait_timed_out(self, limit: float) -> None:
        error = self.failureException(
            f"Async operation timed out after {limit} seconds"
        )
        self._loop_error((type(error), error, None))


_TestMethod = Callable[..., Any]


class AsyncHTTPTestCase(AsyncTestCase):
    """An `AsyncTestCase` that serves an application over HTTP on loopback.

    Subclasses implement :meth:`get_app`, returning a `tornado.web.Application`
    or any other request callback or delegate `.HTTPServer` accepts.  Each test
    gets a server on a fresh port (:attr:`http_server`) and a client
    (:attr:`http_client`); :meth:`fetch` requests a path from the server
    and returns the `.HTTPResponse`.  With ``run`` from the module's
    example:

    >>> from tornado.testing import AsyncHTTPTestCase
    >>> from tornado.web import Application, RequestHandler
    >>> class HelloHandler(RequestHandler):
    ...     def get(self):
    ...         self.write("Hello, world")
    >>> class HelloTest(AsyncHTTPTestCase):
    ...     def get_app(self):
    ...         return Application([("/", HelloHandler)])
    ...     def test_hello(self):
    ...         response = self.fetch("/")
    ...         self.assertEqual(response.body, b"Hello, world")
    ...     def test_not_found(self):
    ...         self.assertEqual(self.fetch("/nowhere").code, 404)
    >>> run(HelloTest)
    (2, True)

    ``tearDown`` stops the server, closes its open connections and the
    client.
    """

    #: The `.AsyncHTTPClient` of this test, from :meth:`get_http_client`.
    http_client: AsyncHTTPClient
    #: The `.HTTPServer` serving :meth:`get_app`, from :meth:`get_http_server`.
    http_server: HTTPServer

    def setUp(self) -> None:
        """Bind an unused loopback port, make the client, then app and server.

        The port and the client exist before :meth:`get_app` runs, so the
        application may already use :meth:`get_url` and :attr:`http_client`
        (to call back into the test server, say).
        """
        super().setUp()
        listener, self._listening_port = bind_unused_port()
        try:
            self.http_client = self.get_http_client()
            self._app = self.get_app()
            self.http_server = self.get_http_server()
        except BaseException:
            listener.close()
            self._abandon_setup()
            raise
        self.http_server.add_sockets([listener])

    def _abandon_setup(self) -> None:
        """Release what a failed ``setUp`` made: ``tearDown`` will not run."""
        client = self.__dict__.pop("http_client", None)
        if client is not None:
            client.close()
        AsyncTestCase.tearDown(self)

    def get_http_client(self) -> AsyncHTTPClient:
        """The client for :meth:`fetch`; override to configure it."""
        client: AsyncHTTPClient = AsyncHTTPClient()
        return client

    def get_http_server(self) -> HTTPServer:
        """The server for :meth:`get_app`, built with :meth:`get_httpserver_options`."""
        return HTTPServer(self._app, **self.get_httpserver_options())

    def get_app(self) -> Any:
        """The application to test; subclasses must implement this."""
        raise NotImplementedError()

    def get_httpserver_options(self) -> dict[str, Any]:
        """Keyword arguments for the `.HTTPServer`; override to add some."""
        return {}

    def get_http_port(self) -> int:
        """The port the server listens on."""
        return self._listening_port

    def get_protocol(self) -> str:
        """The URL scheme of :meth:`get_url`: ``"http"`` here."""
        return "http"

    def get_url(self, path: str) -> str:
        """The absolute URL of ``path`` on the test server."""
        return f"{self.get_protocol()}://127.0.0.1:{self.get_http_port()}{path}"

    def fetch(
        self, path: str, raise_error: bool = False, **kwargs: Any
    ) -> HTTPResponse:
        """Fetch ``path`` from the test server and return the response.

        ``path`` is relative to the server unless it is an absolute
        ``http://`` or ``https://`` URL.  Keyword arguments go to
        `.AsyncHTTPClient.fetch`.  Unlike that method, an error status
        is returned as a response rather than raised, unless
        ``raise_error`` is true; transport errors are always raised.  The
        fetch is bounded by `get_async_test_timeout`.
        """
        url = path if path.lower().startswith(("http://", "https://")) else None
        url = url or self.get_url(path)
        response: HTTPResponse = self.io_loop.run_sync(
            lambda: self.http_client.fetch(url, raise_error=raise_error, **kwargs),
            timeout=get_async_test_timeout(),
        )
        return response

    def tearDown(self) -> None:
        """Stop the server, close its connections and the client."""
        self._shut_down_server()
        self.http_client.close()
        super().tearDown()

    def _shut_down_server(self) -> None:
        # Dropping the references lets the application be collected even
        # while the finished test case object is kept by the runner.
        server: HTTPServer = self.__dict__.pop("http_server")
        del self._app
        server.stop()
        self.io_loop.run_sync(
            server.close_all_connections, timeout=get_async_test_timeout()
        )


class AsyncHTTPSTestCase(AsyncHTTPTestCase):
    """An `AsyncHTTPTestCase` whose server speaks HTTPS.

    The server uses :meth:`get_ssl_options`, by default the self-signed
    certificate shipped with the test suite; the client does not verify
    certificates.
    """

    def get_http_client(self) -> AsyncHTTPClient:
        """A client of its own that accepts the test certificate."""
        trusting_client: AsyncHTTPClient = AsyncHTTPClient(
            force_instance=True, defaults={"validate_cert": False}
        )
        return trusting_client

    def get_httpserver_options(self) -> dict[str, Any]:
        """Server options with :meth:`get_ssl_options` as ``ssl_options``."""
        return dict(ssl_options=self.get_ssl_options())

    def get_ssl_options(self) -> dict[str, Any]:
        """The server's ``ssl_options``; override to use your own certificate."""
        return AsyncHTTPSTestCase.default_ssl_options()

    @staticmethod
    def default_ssl_options() -> dict[str, Any]:
        """``certfile`` and ``keyfile`` of the test suite's self-signed certificate."""
        test_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test")
        return dict(
            certfile=os.path.join(test_dir, "test.crt"),
            keyfile=os.path.join(test_dir, "test.key"),
        )

    def get_protocol(self) -> str:
        """``"https"``."""
        return "https"


@overload
def gen_test(
    *, timeout: float | None = None
) -> Callable[[_TestMethod], Callable[..., None]]: ...


@overload
def gen_test(func: _TestMethod) -> Callable[..., None]: ...


def gen_test(
    func: _TestMethod | None = None, timeout: float | None = None
) -> Callable[..., None] | Callable[[_TestMethod], Callable[..., None]]:
    """Run a coroutine test method of an :class:`AsyncTestCase` on its loop.

    The method may be an ``async def`` function or a generator written in
    the ``tornado.gen.coroutine`` style.  Use it bare or with a timeout::

        class ClockTest(AsyncTestCase):
            @gen_test
            async def test_sleep_takes_time(self):
                start = self.io_loop.time()
                await asyncio.sleep(0.01)
                self.assertGreaterEqual(self.io_loop.time() - start, 0.01)

            @gen_test(timeout=30)
            async def test_long_handshake(self):
                ...

    A test still running after ``timeout`` seconds (default
    :func:`get_async_test_timeout`, read when the decorator is applied) is
    cancelled and fails with a `TimeoutError` that names it and shows the
    line it was waiting on.
    """
    limit = get_async_test_timeout() if timeout is None else timeout

    def decorate(method: _TestMethod) -> Callable[..., None]:
        @functools.wraps(method)
        def run_test(self: AsyncTestCase, *args: Any, **kwargs: Any) -> None:
            _run_test_function(
                self.io_loop,
                functools.partial(method, self, *args, **kwargs),
                limit=limit,
                test_name=self.id(),
                limit_source="gen_test's timeout argument or $ASYNC_TEST_TIMEOUT",
                failure_exception=self.failureException,
            )

        return run_test

    if func is not None:
        return decorate(func)
    return decorate


class _TestCall:
    """Calls a test function, remembering the coroutine or generator it made.

    The remembered object tells a timeout report where the test stopped.
    """

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self.suspended: _Suspendable | None = None

    def _call_and_remember(self) -> Any:
        made = self._call()
        if inspect.isgenerator(made) or inspect.iscoroutine(made):
            self.suspended = made
        return made

    def start(self) -> Any:
        """Call the function; an awaitable of its outcome.

        A generator function runs as a `tornado.gen.coroutine`.
        """
        if inspect.iscoroutinefunction(_innermost(self._call)):
            return self._call_and_remember()
        return gen.coroutine(self._call_and_remember)()


def _innermost(call: Callable[..., Any]) -> Callable[..., Any]:
    while isinstance(call, functools.partial):
        call = call.func
    return call


def _run_test_function(
    io_loop: IOLoop,
    call: Callable[[], Any],
    limit: float,
    test_name: str,
    limit_source: str,
    failure_exception: type[BaseException] = AssertionError,
) -> None:
    """Run a coroutine or generator test to its end on ``io_loop``.

    After ``limit`` seconds the test is cancelled and fails with a
    `TimeoutError` naming ``test_name``, where the limit came from
    (``limit_source``) and the line the test was waiting on.  Shared by
    `gen_test` and the pytest plugin.
    """
    test = _TestCall(call)

    async def run_with_deadline() -> None:
        task = asyncio.ensure_future(test.start())
        expired_at: list[str] = []

        def expire() -> None:
            expired_at.append(_suspension_point(test.suspended))
            task.cancel()

        deadline = io_loop.call_later(limit, expire)
        try:
            await task
        except asyncio.CancelledError as e:
            if not expired_at:
                # Let run_sync not mistake this for its own timeout.
                raise failure_exception(
                    f"{test_name} was cancelled before it finished"
                ) from e
        finally:
            io_loop.remove_timeout(deadline)
        if expired_at:
            # Also when the test swallowed the cancellation: it ran past its
            # limit either way.
            raise TimeoutError(
                f"{test_name} timed out after {limit} seconds (the limit is "
                f"{limit_source}); it was waiting at:\n{expired_at[0]}"
            )

    io_loop.run_sync(run_with_deadline)


def _suspension_point(suspended: _Suspendable | None) -> str:
    """Where a paused coroutine (and what it awaits in turn) is stopped.

    Formatted like a traceback, outermost frame first.
    """
    frames = []
    while suspended is not None:
        frame = getattr(suspended, "cr_frame", None) or getattr(
            suspended, "gi_frame", None
        )
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        suspended = getattr(suspended, "cr_await", None) or getattr(
            suspended, "gi_yieldfrom", None
        )
    if not frames:
        return "  (unknown: the test was not suspended in a coroutine)\n"
    return "".join(traceback.StackSummary.extract(frames).format())


class ExpectLog(logging.Filter):
    """Context manager that captures and suppresses an expected log message.

    While the ``with`` block runs, records on ``logger`` whose message matches
    ``regex`` (with `re.match`) are swallowed.  Unless ``required`` is false,
    leaving the block without a match raises an exception; nothing is raised
    if the block itself raised.

    ``level`` restricts matching to records of exactly that level (for
    example ``logging.WARNING``); the logger's level is lowered for the block
    if it would otherwise drop such records.  Without ``level``, matching a
    record below WARNING is deprecated and emits a `DeprecationWarning` when
    the block ends.

    After the block, :attr:`logged_stack` tells whether any record seen had
    exception information attached.

    >>> import logging
    >>> from tornado.testing import ExpectLog
    >>> log = logging.getLogger("tornado.application")
    >>> with ExpectLog(log, "Payment .* declined"):
    ...     log.error("Payment 42 declined")  # swallowed, not printed
    >>> with ExpectLog(log, "Payment"):
    ...     pass
    Traceback (most recent call last):
      ...
    Exception: did not get expected log message
    """

    def __init__(
        self,
        logger: logging.Logger | str,
        regex: str,
        required: bool = True,
        level: int | None = None,
    ) -> None:
        """Prepare to capture messages matching ``regex`` on ``logger``.

        ``logger`` is a `logging.Logger` or the name of one.
        """
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        self.logger = logger
        self.regex = re.compile(regex)
        self.required = required
        #: Whether any record matched during the block.
        self.matched = False
        #: Whether any record seen during the block carried ``exc_info``.
        self.logged_stack = False
        self.level = level
        #: The logger's own level before the block, if it had to be lowered.
        self.orig_level: int | None = None
        #: How many records below WARNING matched without an explicit level.
        self.deprecated_level_matched = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Swallow ``record`` (return False) if it is the expected message."""
        if record.exc_info:
            self.logged_stack = True
        message = record.getMessage()
        if not self.regex.match(message):
            return True
        if self.level is None:
            if record.levelno < logging.WARNING:
                self.deprecated_level_matched += 1
        elif record.levelno != self.level:
            app_log.warning(
                "Got expected log message %r at unexpected level (%s vs %s)",
                message,
                logging.getLevelName(self.level),
                record.levelname,
            )
            return True
        self.matched = True
        return False

    def __enter__(self) -> ExpectLog:
        if self.level is not None and self.level < self.logger.getEffectiveLevel():
            self.orig_level = self.logger.level
            self.logger.setLevel(self.level)
        self.logger.addFilter(self)
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.logger.removeFilter(self)
        if self.orig_level is not None:
            self.logger.setLevel(self.orig_level)
            self.orig_level = None
        if typ is None and self.required and not self.matched:
            raise Exception("did not get expected log message")
        if typ is None and self.deprecated_level_matched:
            # Reported here rather than in filter(): a warning raised inside
            # the logging machinery would be swallowed by it.
            warnings.warn(
                "ExpectLog matched at INFO or below without level argument",
                DeprecationWarning,
                stacklevel=2,
            )


def main(**kwargs: Any) -> None:
    """Run tests named on the command line, after parsing Tornado options.

    Tests are named as for ``python -m unittest`` (module, class or method
    names); with no names, the ``all()`` function of the ``__main__`` module
    supplies the suite.  Besides every option defined with
    ``tornado.options`` (``--logging`` among them), these are understood:

    ``--verbose`` / ``--quiet``, ``--failfast``, ``--catch``, ``--buffer``
        as for ``unittest.main``;
    ``--exception_on_interrupt=false``
        let Ctrl-C kill the process instead of raising `KeyboardInterrupt`
        (useful to see where a hung test is stuck).

    Keyword arguments are passed to ``unittest.main``.  A test module can
    make itself runnable, with every test it holds as the default, by
    ending with::

        def all():
            return unittest.defaultTestLoader.loadTestsFromName("__main__")

        if __name__ == "__main__":
            tornado.testing.main()
    """
    _define_main_options()
    argv = [sys.argv[0]] + parse_command_line(sys.argv)
    if not options.exception_on_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if options.verbose:
        kwargs["verbosity"] = 2
    if options.quiet:
        kwargs["verbosity"] = 0
    for flag in ("failfast", "catch", "buffer"):
        if options[flag] is not None:
            kwargs.setdefault(flag, options[flag])
    if __name__ == "__main__" and len(argv) == 1:
        # ``python -m tornado.testing`` has no suite of its own to run.
        print("No tests specified", file=sys.stderr)
        sys.exit(1)
    if len(argv) > 1:
        # No module: names on the command line are fully qualified.
        unittest.main(module=None, argv=argv, **kwargs)
    else:
        unittest.main(defaultTest="all", argv=argv, **kwargs)


def _define_main_options() -> None:
    """Define the switches of :func:`main`, unless an earlier call did."""
    switches = {
        "exception_on_interrupt": "raise KeyboardInterrupt on Ctrl-C (default)",
        "verbose": "print each test's name",
        "quiet": "print only failures",
        "failfast": "stop at the first failure",
        "catch": "let Ctrl-C finish the current test, then report",
        "buffer": "hide a passing test's stdout and stderr",
    }
    for name, help_text in switches.items():
        if name not in options:
            default = True if name == "exception_on_interrupt" else None
            define(name, type=bool, default=default, help=help_text)


if __name__ == "__main__":
    main()
