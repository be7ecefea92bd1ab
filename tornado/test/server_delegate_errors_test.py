"""Exceptions escaping a server's message delegate are logged, then the
connection is closed (the per-request paths of the HTTP/1 server)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.log import app_log
from tornado.testing import AsyncTestCase, bind_unused_port, gen_test


class _Failing(httputil.HTTPMessageDelegate):
    def __init__(self, where: str) -> None:
        self.where = where

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        if self.where == "headers":
            raise ValueError("failed in headers")
        return None

    def finish(self) -> None:
        if self.where == "finish":
            raise ValueError("failed in finish")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class DelegateErrorTest(AsyncTestCase):
    async def _check(self, where: str) -> None:
        class Router(httputil.HTTPServerConnectionDelegate):
            def start_request(
                self, server_conn: object, request_conn: httputil.HTTPConnection
            ) -> httputil.HTTPMessageDelegate:
                return _Failing(where)

        sock, port = bind_unused_port()
        server = HTTPServer(Router())
        server.add_sockets([sock])
        capture = _Capture()
        app_log.addHandler(capture)
        propagate = app_log.propagate
        app_log.propagate = False
        try:
            stream = IOStream(socket.socket())
            await stream.connect(("127.0.0.1", port))
            await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = await stream.read_until_close()
        finally:
            app_log.removeHandler(capture)
            app_log.propagate = propagate
            server.stop()
            await server.close_all_connections()
        self.assertEqual(data, b"")
        self.assertEqual(len(capture.records), 1)
        record = capture.records[0]
        self.assertEqual(record.getMessage(), "Uncaught exception")
        self.assertEqual(record.levelno, logging.ERROR)
        assert record.exc_info is not None
        typ, value, tb = record.exc_info
        self.assertIs(typ, ValueError)
        self.assertEqual(str(value), f"failed in {where}")
        assert value is not None
        self.assertIs(tb, value.__traceback__)

    @gen_test
    async def test_error_in_headers_received(self) -> None:
        await self._check("headers")

    @gen_test
    async def test_error_in_finish(self) -> None:
        await self._check("finish")
