"""How `RequestHandler` runs a request: without a task until something awaits.

A handler whose ``prepare`` and verb method return no awaitable is run to
the end in the call that delivers the request; from the first awaitable on,
the rest of the request runs in a task of its own, as always.  The tests
below count the tasks that run handler code, and check that both paths give
the same answers (errors, `Finish`, context variables, odd return values).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
import sys
import unittest
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from tornado.concurrent import Future
from tornado.http1connection import HTTP1Connection
from tornado.httputil import HTTPConnection, HTTPHeaders, RequestStartLine
from tornado.iostream import IOStream
from tornado.log import app_log
from tornado.test.web_test import WebTestCase
from tornado.testing import AsyncHTTPTestCase, ExpectLog, gen_test
from tornado.web import Application, Finish, RequestHandler, stream_request_body

_marker: contextvars.ContextVar[str] = contextvars.ContextVar(
    "_marker", default="unset"
)


class SyncHandler(RequestHandler):
    def prepare(self) -> None:
        _marker.set("prepared")

    def get(self) -> None:
        self.write(f"sync {_marker.get()}")


class AsyncGetHandler(RequestHandler):
    def prepare(self) -> None:
        _marker.set("prepared")

    async def get(self) -> None:
        task = asyncio.current_task()
        await asyncio.sleep(0)
        same = task is asyncio.current_task() is not None
        self.write(f"async {_marker.get()} in one task: {same}")


class TimeoutHandler(RequestHandler):
    def prepare(self) -> None:
        pass

    async def get(self) -> None:
        async with asyncio.timeout(10):  # type: ignore[attr-defined,unused-ignore]
            await asyncio.sleep(0)
        self.write("in time")


class AsyncPrepareHandler(RequestHandler):
    async def prepare(self) -> None:
        await asyncio.sleep(0)
        _marker.set("prepared")

    def get(self) -> None:
        self.write(f"after async prepare {_marker.get()}")


class DoneFuturePrepareHandler(RequestHandler):
    def prepare(self) -> Future[None]:
        future: Future[None] = Future()
        future.set_result(None)
        return future

    def get(self) -> None:
        self.write("after a done future")


class SyncFailureHandler(RequestHandler):
    def get(self, kind: str) -> Any:
        if kind == "cancelled":
            raise asyncio.CancelledError()
        if kind == "finish":
            raise Finish("finished early")
        if kind == "value":
            return 5  # not awaitable: an error, as when awaited
        if kind == "error":
            raise ValueError("boom")
        return None


class FinishInPrepareHandler(RequestHandler):
    def prepare(self) -> None:
        self.finish("from prepare")

    def get(self) -> None:
        raise AssertionError("not reached")


def _handler_of(coro: object) -> Any:
    frame = getattr(coro, "cr_frame", None)
    return None if frame is None else frame.f_locals.get("self")


class TaskCountTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            ("/sync", SyncHandler),
            ("/async_get", AsyncGetHandler),
            ("/async_prepare", AsyncPrepareHandler),
            ("/done_future", DoneFuturePrepareHandler),
            ("/timeout", TimeoutHandler),
        ]

    @contextmanager
    def handler_tasks(self) -> Iterator[list[Any]]:
        """Record the handlers whose code a task created meanwhile runs."""
        loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        handlers: list[Any] = []
        previous = loop.get_task_factory()

        def factory(
            loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kw: Any
        ) -> asyncio.Task[Any]:
            if isinstance(_handler_of(coro), RequestHandler):
                handlers.append(_handler_of(coro))
            if previous is not None:
                return previous(loop, coro, **kw)  # type: ignore[no-any-return]
            return asyncio.Task(coro, loop=loop, **kw)

        loop.set_task_factory(factory)
        try:
            yield handlers
        finally:
            loop.set_task_factory(previous)

    def pipelined(self, path: str, count: int) -> bytes:
        request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        last = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        return self.raw_request(request * (count - 1) + last.encode())

    def test_handler_that_awaits_nothing_runs_without_task(self) -> None:
        with self.handler_tasks() as handlers:
            response = self.pipelined("/sync", 5)
        self.assertEqual(response.count(b"sync prepared"), 5)
        self.assertEqual(handlers, [])

    def test_done_future_from_prepare_still_takes_a_task(self) -> None:
        # Any awaitable is awaited, as before: the request goes on in a task.
        with self.handler_tasks() as handlers:
            response = self.pipelined("/done_future", 2)
        self.assertEqual(response.count(b"after a done future"), 2)
        self.assertEqual(len(handlers), 2)

    def test_awaiting_handler_runs_in_one_task_per_request(self) -> None:
        for path, body in [
            ("/async_get", b"async prepared in one task: True"),
            ("/async_prepare", b"after async prepare prepared"),
        ]:
            with self.subTest(path=path):
                with self.handler_tasks() as handlers:
                    response = self.pipelined(path, 3)
                self.assertEqual(response.count(body), 3)
                self.assertEqual(len(handlers), 3)
                self.assertEqual(len(set(map(id, handlers))), 3)

    def test_context_changes_stay_with_their_request(self) -> None:
        # The synchronous part runs in a context of its own, like a task.
        for path in ("/sync", "/async_get", "/async_prepare"):
            with self.subTest(path=path):
                self.pipelined(path, 2)
                self.assertEqual(_marker.get(), "unset")

    @unittest.skipIf(sys.version_info < (3, 11), "asyncio.timeout is 3.11+")
    def test_timeout_works_in_async_get_after_sync_prepare(self) -> None:
        response = self.fetch("/timeout")
        self.assertEqual((response.code, response.body), (200, b"in time"))


class SyncPathSemanticsTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            ("/fail/(.*)", SyncFailureHandler),
            ("/finish_in_prepare", FinishInPrepareHandler),
        ]

    def test_cancelled_error_from_sync_code_is_uncaught_exception(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = self.fetch("/fail/cancelled")
        self.assertEqual(response.code, 500)
        self.assertIn((500, "GET", "/fail/cancelled"), self.logged)

    def test_exception_from_sync_code_is_500(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = self.fetch("/fail/error")
        self.assertEqual(response.code, 500)

    def test_finish_exception_from_sync_code(self) -> None:
        response = self.fetch("/fail/finish")
        self.assertEqual((response.code, response.body), (200, b"finished early"))

    def test_non_awaitable_return_value_is_an_error(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = self.fetch("/fail/value")
        self.assertEqual(response.code, 500)

    def test_finish_in_sync_prepare_skips_the_method(self) -> None:
        response = self.fetch("/finish_in_prepare")
        self.assertEqual(response.body, b"from prepare")
        self.assertEqual(self.logged, [(200, "GET", "/finish_in_prepare")])


class ClosingAware(RequestHandler):
    def on_connection_close(self) -> None:
        pass

    def get(self) -> None:
        self.write("aware")


class CloseCallbackConnection(HTTPConnection):
    """Records the close callbacks set on it; forgets what is written."""

    def __init__(self) -> None:
        self.callbacks: list[object] = []
        self.finished = False

    def set_close_callback(self, callback: object) -> None:
        self.callbacks.append(callback)

    def write_headers(self, start_line: Any, headers: Any, chunk: Any = None) -> Any:
        return None

    def write(self, chunk: bytes) -> Any:
        return None

    def finish(self) -> None:
        self.finished = True


class CloseCallbackTest(unittest.TestCase):
    """A close callback is only set for handlers that do something with it."""

    def serve(self, handler: type[RequestHandler]) -> CloseCallbackConnection:
        connection = CloseCallbackConnection()
        application = Application([("/", handler)], log_function=lambda h: None)
        delegate = application.start_request(None, connection)
        delegate.headers_received(
            RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        delegate.finish()
        self.assertTrue(connection.finished)  # synchronously: nothing awaited
        return connection

    def test_default_on_connection_close_needs_no_callback(self) -> None:
        self.assertEqual(self.serve(SyncHandler).callbacks, [])

    def test_overridden_on_connection_close_is_registered_then_cleared(self) -> None:
        callbacks = self.serve(ClosingAware).callbacks
        self.assertEqual(len(callbacks), 2)
        self.assertEqual(getattr(callbacks[0], "__name__", None), "on_connection_close")
        self.assertIsNone(callbacks[1])


if __name__ == "__main__":
    unittest.main()


class RefusedStreamedBodyTest(AsyncHTTPTestCase):
    """A streamed body refused for its size ends the handler's task."""

    def get_app(self) -> Application:
        @stream_request_body
        class Upload(RequestHandler):
            def prepare(self) -> None:
                assert isinstance(self.request.connection, HTTP1Connection)
                self.request.connection.set_max_body_size(10)

            def data_received(self, chunk: bytes) -> None:
                pass

            def put(self) -> None:
                self.write("stored")

            def on_connection_close(self) -> None:
                pass  # an override that does not call the base method

        return Application([("/", Upload)])

    @gen_test
    async def test_handler_task_ends_when_the_body_is_refused(self) -> None:
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        with ExpectLog(
            "tornado.general",
            "Malformed HTTP message.*Content-Length too long",
            level=logging.INFO,
        ):
            await stream.write(
                b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
            )
            self.assertEqual(
                await stream.read_until_close(), b"HTTP/1.1 400 Bad Request\r\n\r\n"
            )
        for _ in range(10):  # the task takes a few loop turns to unwind
            if not self.handler_tasks():
                break
            await asyncio.sleep(0)
        self.assertEqual(self.handler_tasks(), [])

    @staticmethod
    def handler_tasks() -> list[asyncio.Task[Any]]:
        return [
            task
            for task in asyncio.all_tasks()
            if "RequestHandler._execute" in repr(task.get_coro())
        ]
