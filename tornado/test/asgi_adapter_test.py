"""Tests of tornado.asgi.ASGIAdapter: Tornado applications as ASGI applications.

Message by message with asgiref's ``ApplicationCommunicator`` (the ASGI
reference helpers), then over loopback with the adapter inside an
`ASGIContainer` on `HTTPServer`, so that Tornado's own clients reach the
handlers through both bridges.  The same handlers run under real uvicorn
and hypercorn processes in ``asgi_servers_test``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

from tornado import gen
from tornado.asgi import ASGIAdapter, ASGIApplication, ASGIContainer, Message, Scope
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.log import app_log, gen_log
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.test import asgi_handlers
from tornado.test.asgi_handlers import RECORDS, event, make_application
from tornado.test.asgi_util import QuietAccessLog, missing_dependency
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, ExpectLog, gen_test
from tornado.web import Application, RequestHandler, stream_request_body
from tornado.websocket import WebSocketHandler, websocket_connect

try:
    from asgiref.testing import ApplicationCommunicator
except ImportError as e:  # a development dependency: fail loudly, never skip
    raise missing_dependency(e) from e

#: Seconds to wait for one message from the application under test.
MESSAGE_WAIT = 5.0


class Communicator:
    """A typed face on asgiref's ``ApplicationCommunicator``."""

    def __init__(self, app: ASGIApplication, scope: Scope) -> None:
        make: Any = ApplicationCommunicator
        self._communicator = make(app, scope)

    async def send(self, message: Message) -> None:
        await self._communicator.send_input(message)

    async def receive(self) -> Message:
        message: Message = await self._communicator.receive_output(MESSAGE_WAIT)
        return message

    async def finished(self) -> None:
        """Wait for the application to return (and raise what it raised)."""
        await self._communicator.wait(MESSAGE_WAIT)

    def unread_input(self) -> int:
        """Messages sent to the application that it has not received yet."""
        return int(self._communicator.input_queue.qsize())

    async def response(self) -> tuple[int, dict[str, list[str]], bytes, int]:
        """Status, headers, body and number of body messages of a response."""
        start = await self.receive()
        assert start["type"] == "http.response.start", start
        headers: dict[str, list[str]] = {}
        for name, value in start["headers"]:
            headers.setdefault(name.decode("latin1"), []).append(value.decode("latin1"))
        body, count = b"", 0
        while True:
            message = await self.receive()
            assert message["type"] == "http.response.body", message
            body += message.get("body", b"")
            count += 1
            if not message.get("more_body", False):
                return start["status"], headers, body, count


def http_scope(
    path: str,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``http`` scope as an ASGI server would build it."""
    raw_path, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")] if headers is None else headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    scope.update(extra)
    return scope


def websocket_scope(path: str, **extra: Any) -> dict[str, Any]:
    scope = http_scope(path, **extra)
    del scope["method"]
    scope.update(
        type="websocket", scheme="ws", subprotocols=extra.get("subprotocols", [])
    )
    scope.setdefault("extensions", {"websocket.http.response": {}})
    return scope


def body_message(body: bytes = b"", more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


class AdapterTestCase(QuietAccessLog, AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.adapter = self.get_adapter()

    def get_adapter(self) -> ASGIAdapter:
        return ASGIAdapter(make_application())

    async def request(
        self, path: str, body: bytes = b"", **scope: Any
    ) -> tuple[int, dict[str, list[str]], bytes, int]:
        communicator = Communicator(self.adapter, http_scope(path, **scope))
        await communicator.send(body_message(body))
        response = await communicator.response()
        await communicator.finished()
        return response


class HTTPTest(AdapterTestCase):
    @gen_test
    async def test_hello(self) -> None:
        status, headers, body, count = await self.request("/hello")
        self.assertEqual((status, body), (200, b"Hello, world"))
        self.assertEqual(headers["content-length"], ["12"])
        self.assertEqual(headers["content-type"], ["text/html; charset=UTF-8"])
        self.assertEqual(count, 1)  # the body and its end in one message
        # The ASGI server writes these itself.
        self.assertNotIn("date", headers)
        self.assertNotIn("server", headers)

    @gen_test
    async def test_connection_headers_are_left_to_the_server(self) -> None:
        _, headers, _, _ = await self.request("/headers")
        self.assertEqual(headers["x-multi"], ["one", "two"])
        self.assertEqual(headers["x-int"], ["42"])
        self.assertNotIn("connection", headers)

    @gen_test
    async def test_request_as_the_handler_sees_it(self) -> None:
        _, _, body, _ = await self.request(
            "/info?x=1",
            scheme="https",
            client=("203.0.113.5", 4444),
            http_version="2",
            headers=[(b"host", b"example.com:8443")],
        )
        info = json.loads(body)
        self.assertEqual(info["remote_ip"], "203.0.113.5")
        self.assertEqual(info["protocol"], "https")
        self.assertEqual(info["host"], "example.com:8443")
        self.assertEqual(info["version"], "HTTP/2")
        self.assertEqual(info["uri"], "/info?x=1")
        self.assertTrue(info["current_is_running_loop"])
        self.assertIsNone(info["certificate"])

    @gen_test
    async def test_host_from_server_without_host_header(self) -> None:
        _, _, body, _ = await self.request("/info", headers=[], server=("10.1.1.1", 81))
        self.assertEqual(json.loads(body)["host"], "10.1.1.1:81")

    @gen_test
    async def test_percent_encoded_path_and_root_path(self) -> None:
        _, _, body, _ = await self.request("/path/a%20b/c%2Fd")
        self.assertEqual(json.loads(body), {"args": ["a b", "c/d"]})
        # Tornado routes see the full path, mount point included, also from
        # a server that leaves the mount point out of ``path`` (old style).
        self.adapter = ASGIAdapter(
            Application([("/mounted/info", asgi_handlers.InfoHandler)])
        )
        for path in ("/mounted/info", "/info"):
            with self.subTest(path=path):
                _, _, body, _ = await self.request(path, root_path="/mounted")
                self.assertEqual(json.loads(body)["path"], "/mounted/info")

    @gen_test
    async def test_body_arguments(self) -> None:
        headers = [
            (b"host", b"t"),
            (b"content-type", b"application/x-www-form-urlencoded"),
        ]
        _, _, body, _ = await self.request(
            "/args?x=q", method="POST", body=b"x=b1&x=b2", headers=headers
        )
        self.assertEqual(json.loads(body), {"query": ["q"], "body": ["b1", "b2"]})

    @gen_test
    async def test_body_in_several_messages(self) -> None:
        communicator = Communicator(self.adapter, http_scope("/methods", method="PUT"))
        for piece in (b"one ", b"two ", b"three"):
            await communicator.send(body_message(piece, more=True))
        await communicator.send(body_message())
        status, _, body, _ = await communicator.response()
        self.assertEqual((status, body), (200, b"PUT one two three"))

    @gen_test
    async def test_head_and_no_body_statuses(self) -> None:
        status, headers, body, _ = await self.request("/methods", method="HEAD")
        self.assertEqual((status, body, headers["content-length"]), (200, b"", ["3"]))
        status, headers, body, _ = await self.request("/methods", method="DELETE")
        self.assertEqual((status, body), (204, b""))
        self.assertNotIn("content-length", headers)

    @gen_test
    async def test_error_pages(self) -> None:
        status, _, body, _ = await self.request("/nowhere")
        self.assertEqual(status, 404)
        self.assertIn(b"404: Not Found", body)
        with ExpectLog(app_log, "Uncaught exception GET /error", level=logging.ERROR):
            status, _, body, _ = await self.request("/error?kind=crash")
        self.assertEqual(status, 500)
        self.assertNotIn(b"boom", body)
        status, _, _, _ = await self.request("/error?kind=http")
        self.assertEqual(status, 418)

    @gen_test
    async def test_flush_streams_the_response(self) -> None:
        status, headers, body, count = await self.request("/flush?count=3&size=2")
        self.assertEqual((status, body), (200, b"001122"))
        self.assertGreaterEqual(count, 3)
        self.assertNotIn("content-length", headers)

    @gen_test
    async def test_unknown_scope_type(self) -> None:
        with self.assertRaises(ValueError):
            await self.adapter({"type": "telepathy"}, _never_called, _never_called)


async def _never_called(*args: Any) -> Any:
    raise AssertionError("not to be called")


class FlowControlTest(AdapterTestCase):
    """Reading ``receive()`` and writing ``send()`` at the handlers' pace."""

    def get_adapter(self) -> ASGIAdapter:
        self.gate = Event()
        self.got_first = Event()
        self.chunks: list[bytes] = []
        return ASGIAdapter(
            Application(
                [("/gated", GatedStreamHandler), ("/two_flushes", TwoFlushesHandler)],
                test=self,
            )
        )

    @gen_test
    async def test_body_is_received_as_the_handler_takes_it(self) -> None:
        communicator = Communicator(self.adapter, http_scope("/gated", method="PUT"))
        await communicator.send(body_message(b"a", more=True))
        await communicator.send(body_message(b"b", more=True))
        await communicator.send(body_message(b"c"))
        await self.got_first.wait()
        # The handler holds the first chunk: the adapter asks for no more.
        self.assertEqual(communicator.unread_input(), 2)
        self.gate.set()
        status, _, body, _ = await communicator.response()
        self.assertEqual((status, body), (200, b"abc"))
        self.assertEqual(communicator.unread_input(), 0)

    @gen_test
    async def test_flush_waits_for_send(self) -> None:
        sent: list[Message] = []
        body_sent = Event()
        send_allowed = Event()

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body":
                body_sent.set()
                await send_allowed.wait()

        messages = [body_message()]

        async def receive() -> Message:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # as a server does until disconnect
            raise AssertionError("not reached")

        serving = asyncio.ensure_future(
            self.adapter(http_scope("/two_flushes"), receive, send)
        )
        await body_sent.wait()
        self.assertEqual(sent[-1]["body"], b"first")
        # The server has not taken the chunk: flush() has not returned.
        self.assertEqual(self.chunks, [])
        send_allowed.set()
        await serving
        self.assertEqual(self.chunks, [b"flushed"])
        self.assertEqual(b"".join(m.get("body", b"") for m in sent[1:]), b"firstsecond")


@stream_request_body
class GatedStreamHandler(RequestHandler):
    """Keeps the first body chunk until the test opens its gate."""

    def prepare(self) -> None:
        self.test: FlowControlTest = self.settings["test"]

    async def data_received(self, chunk: bytes) -> None:
        self.test.chunks.append(chunk)
        if len(self.test.chunks) == 1:
            self.test.got_first.set()
            await self.test.gate.wait()

    def put(self) -> None:
        self.write(b"".join(self.test.chunks))


class TwoFlushesHandler(RequestHandler):
    async def get(self) -> None:
        test: FlowControlTest = self.settings["test"]
        self.write("first")
        await self.flush()
        test.chunks.append(b"flushed")
        self.write("second")


class DisconnectTest(AdapterTestCase):
    @gen_test
    async def test_http_disconnect_calls_on_connection_close(self) -> None:
        communicator = Communicator(self.adapter, http_scope("/longpoll/wait/dc1"))
        await communicator.send(body_message())
        await event("wait:dc1").wait()
        await communicator.send({"type": "http.disconnect"})
        await event("closed:dc1").wait()
        await communicator.finished()

    @gen_test
    async def test_disconnect_during_a_streamed_body(self) -> None:
        communicator = Communicator(
            self.adapter, http_scope("/stream_body", method="PUT")
        )
        await communicator.send(body_message(b"part", more=True))
        await communicator.send({"type": "http.disconnect"})
        await communicator.finished()


class BodyLimitTest(AdapterTestCase):
    def get_adapter(self) -> ASGIAdapter:
        return ASGIAdapter(make_application(), max_body_size=10)

    @gen_test
    async def test_declared_length_too_large_is_413(self) -> None:
        headers = [(b"host", b"t"), (b"content-length", b"11")]
        with ExpectLog(gen_log, ".*Content-Length too long", level=logging.INFO):
            status, _, _, _ = await self.request(
                "/methods", method="PUT", body=b"x" * 11, headers=headers
            )
        self.assertEqual(status, 413)

    @gen_test
    async def test_streamed_body_too_large_is_413(self) -> None:
        communicator = Communicator(self.adapter, http_scope("/methods", method="PUT"))
        await communicator.send(body_message(b"x" * 6, more=True))
        await communicator.send(body_message(b"x" * 6, more=True))
        with ExpectLog(gen_log, ".*Body larger than max_body_size", level=logging.INFO):
            status, _, _, _ = await communicator.response()
            await communicator.finished()
        self.assertEqual(status, 413)

    @gen_test
    async def test_body_timeout(self) -> None:
        self.adapter = ASGIAdapter(make_application(), body_timeout=0.05)
        communicator = Communicator(self.adapter, http_scope("/methods", method="PUT"))
        await communicator.send(body_message(b"x", more=True))
        with ExpectLog(
            gen_log, "Timeout reading body from 127.0.0.1", level=logging.INFO
        ):
            await communicator.finished()


class BridgeLimitsTest(AdapterTestCase):
    @gen_test
    async def test_detach_fails_loudly(self) -> None:
        with ExpectLog(
            app_log, "Uncaught exception GET /limits/detach", level=logging.ERROR
        ) as log:
            status, _, _, _ = await self.request("/limits/detach")
        self.assertEqual(status, 500)
        self.assertTrue(log.logged_stack)
        self.assertIn(
            "detach() is not possible under an ASGI server", RECORDS["limits:detach"]
        )

    @gen_test
    async def test_stream_fails_loudly(self) -> None:
        _, _, body, _ = await self.request("/limits/stream")
        error = json.loads(body)
        self.assertEqual(error["error"], "_StreamNotAcrossASGI")
        self.assertIn("request.connection.stream does not exist", error["message"])


class LifespanTest(AsyncTestCase):
    @gen_test
    async def test_hooks_run_in_order(self) -> None:
        calls: list[str] = []

        async def open_pool() -> None:
            await gen.moment
            calls.append("open pool")

        adapter = ASGIAdapter(
            make_application(),
            on_startup=[open_pool, lambda: calls.append("warm cache")],
            on_shutdown=[lambda: calls.append("close pool")],
        )
        state: dict[str, Any] = {}
        communicator = Communicator(adapter, {"type": "lifespan", "state": state})
        await communicator.send({"type": "lifespan.startup"})
        self.assertEqual(
            (await communicator.receive())["type"], "lifespan.startup.complete"
        )
        self.assertEqual(calls, ["open pool", "warm cache"])
        self.assertIs(adapter.state, state)
        await communicator.send({"type": "lifespan.shutdown"})
        self.assertEqual(
            (await communicator.receive())["type"], "lifespan.shutdown.complete"
        )
        await communicator.finished()
        self.assertEqual(calls, ["open pool", "warm cache", "close pool"])

    @gen_test
    async def test_failing_hook_fails_startup(self) -> None:
        def broken() -> None:
            raise ConnectionRefusedError("database is down")

        adapter = ASGIAdapter(make_application(), on_startup=[broken])
        communicator = Communicator(adapter, {"type": "lifespan"})
        await communicator.send({"type": "lifespan.startup"})
        reply = await communicator.receive()
        self.assertEqual(reply["type"], "lifespan.startup.failed")
        self.assertIn("ConnectionRefusedError: database is down", reply["message"])


class WebSocketTest(AdapterTestCase):
    async def connect(self, path: str, **scope: Any) -> tuple[Communicator, Message]:
        communicator = Communicator(self.adapter, websocket_scope(path, **scope))
        await communicator.send({"type": "websocket.connect"})
        return communicator, await communicator.receive()

    async def exchange(self, communicator: Communicator, text: str) -> Message:
        await communicator.send({"type": "websocket.receive", "text": text})
        return await communicator.receive()

    async def record(self, name: str) -> dict[str, Any]:
        await event(f"ws_closed:{name}").wait()
        record: dict[str, Any] = RECORDS[f"ws:{name}"]
        return record

    @gen_test
    async def test_accept_and_echo(self) -> None:
        communicator, accept = await self.connect("/ws/echo1")
        self.assertEqual(accept["type"], "websocket.accept")
        self.assertIsNone(accept["subprotocol"])
        self.assertEqual(
            await self.exchange(communicator, "hi"),
            {"type": "websocket.send", "text": "echo: hi"},
        )
        await communicator.send({"type": "websocket.receive", "bytes": b"\x00\x01"})
        self.assertEqual(
            await communicator.receive(),
            {"type": "websocket.send", "bytes": b"\x00\x01"},
        )
        await communicator.send(
            {"type": "websocket.disconnect", "code": 4002, "reason": "client done"}
        )
        await communicator.finished()
        record = await self.record("echo1")
        self.assertEqual(
            (record["close_code"], record["close_reason"]), (4002, "client done")
        )

    @gen_test
    async def test_subprotocol(self) -> None:
        communicator, accept = await self.connect(
            "/ws/sub1", subprotocols=["x", "chat"]
        )
        self.assertEqual(accept["subprotocol"], "chat")
        reply = json.loads((await self.exchange(communicator, "info"))["text"])
        self.assertEqual(reply, {"subprotocol": "chat", "path": "/ws/sub1"})
        await communicator.send({"type": "websocket.disconnect", "code": 1000})
        await communicator.finished()

    @gen_test
    async def test_handler_closes_with_code(self) -> None:
        communicator, _ = await self.connect("/ws/close1")
        close = await self.exchange(communicator, "close")
        self.assertEqual(
            close, {"type": "websocket.close", "code": 4000, "reason": "asked to"}
        )
        await communicator.send({"type": "websocket.disconnect", "code": 1005})
        await communicator.finished()
        record = await self.record("close1")
        self.assertEqual(record["close_code"], 4000)  # echoed by the peer

    @gen_test
    async def test_abnormal_disconnect_has_no_code(self) -> None:
        communicator, _ = await self.connect("/ws/gone1")
        await communicator.send({"type": "websocket.disconnect", "code": 1006})
        await communicator.finished()
        self.assertIsNone((await self.record("gone1"))["close_code"])

    @gen_test
    async def test_ping_fails_loudly(self) -> None:
        communicator, _ = await self.connect("/ws/ping1")
        reply = (await self.exchange(communicator, "ping"))["text"]
        self.assertIn("pings cannot be sent through ASGI", reply)
        await communicator.send({"type": "websocket.disconnect", "code": 1000})
        await communicator.finished()

    @gen_test
    async def test_refusal_is_an_http_response_where_possible(self) -> None:
        origin = [(b"host", b"testserver"), (b"origin", b"http://elsewhere.example")]
        communicator, start = await self.connect("/ws_same_origin", headers=origin)
        self.assertEqual(start["type"], "websocket.http.response.start")
        self.assertEqual(start["status"], 403)
        body = await communicator.receive()
        self.assertEqual(body["type"], "websocket.http.response.body")
        self.assertEqual(body["body"], b"Cross origin websockets not allowed")
        while body.get("more_body"):
            body = await communicator.receive()
        await communicator.finished()

    @gen_test
    async def test_refusal_is_a_close_otherwise(self) -> None:
        communicator, reply = await self.connect("/nowhere", extensions={})
        self.assertEqual(reply["type"], "websocket.close")
        await communicator.finished()

    @gen_test
    async def test_unknown_path_is_404(self) -> None:
        communicator, start = await self.connect("/nowhere")
        self.assertEqual(
            (start["type"], start["status"]), ("websocket.http.response.start", 404)
        )

    @gen_test
    async def test_exception_in_on_message_closes_1011(self) -> None:
        self.adapter = ASGIAdapter(Application([("/ws", BrokenWebSocket)]))
        communicator, _ = await self.connect("/ws")
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            close = await self.exchange(communicator, "anything")
        self.assertEqual(close["type"], "websocket.close")
        self.assertEqual(close["code"], 1011)
        await communicator.send({"type": "websocket.disconnect", "code": 1011})
        await communicator.finished()

    @gen_test
    async def test_ping_interval_setting_is_ignored_with_a_warning(self) -> None:
        self.adapter = ASGIAdapter(make_application(websocket_ping_interval=5))
        with ExpectLog(
            gen_log, "websocket_ping_interval is ignored", level=logging.WARNING
        ):
            communicator, accept = await self.connect("/ws/interval1")
        self.assertEqual(accept["type"], "websocket.accept")
        await communicator.send({"type": "websocket.disconnect", "code": 1000})
        await communicator.finished()


class BrokenWebSocket(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        raise ZeroDivisionError("broken handler")


class RoundTripTest(QuietAccessLog, AsyncHTTPTestCase):
    """The handlers behind both bridges: ASGIContainer(ASGIAdapter(app)).

    Tornado's clients talk to Tornado's server, which hands the requests
    to the container, which makes them ASGI messages for the adapter,
    which hands them to the handlers.
    """

    def get_http_client(self) -> SimpleAsyncHTTPClient:
        # The server side is under test; the simple client can stream request
        # bodies (body_producer), whichever client the run configures.
        client: SimpleAsyncHTTPClient = SimpleAsyncHTTPClient(force_instance=True)
        return client

    def get_app(self) -> ASGIContainer:
        return ASGIContainer(asgi_handlers.asgi_app)

    async def get(self, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("follow_redirects", False)
        return await self.http_client.fetch(
            self.get_url(path), raise_error=False, **kwargs
        )

    @gen_test
    async def test_basics(self) -> None:
        response = await self.get("/hello")
        self.assertEqual((response.code, response.body), (200, b"Hello, world"))
        response = await self.get("/write/several")
        self.assertEqual(response.body, b"abc")
        response = await self.get("/lifecycle")
        self.assertEqual(
            json.loads(response.body), {"events": ["initialize L", "prepare", "get"]}
        )
        response = await self.get(
            "/methods", method="PROPFIND", allow_nonstandard_methods=True
        )
        self.assertEqual(response.body, b"PROPFIND")
        response = await self.get("/status?code=299&reason=Fine")
        self.assertEqual(response.code, 299)
        self.assertEqual(response.reason, "Unknown")  # no reason phrase in ASGI

    @gen_test
    async def test_cookies_and_xsrf(self) -> None:
        response = await self.get("/cookie/read", headers={"Cookie": "a=1"})
        self.assertEqual(json.loads(response.body), {"a": "1", "z": "dflt"})
        response = await self.get("/cookie/signed")
        signed = response.headers["Set-Cookie"].split(";")[0]
        response = await self.get("/cookie/read_signed", headers={"Cookie": signed})
        self.assertEqual(json.loads(response.body), {"session": "user"})
        response = await self.get("/xsrf")
        token = json.loads(response.body)["token"]
        cookie = response.headers["Set-Cookie"].split(";")[0]
        with ExpectLog(gen_log, ".*'_xsrf' argument missing", level=logging.WARNING):
            refused = await self.get("/xsrf", method="POST", body="")
        self.assertEqual(refused.code, 403)
        accepted = await self.get(
            "/xsrf", method="POST", body=f"_xsrf={token}", headers={"Cookie": cookie}
        )
        self.assertEqual((accepted.code, accepted.body), (200, b"accepted"))

    @gen_test
    async def test_redirect_and_static_file(self) -> None:
        response = await self.get("/redirect")
        self.assertEqual((response.code, response.headers["Location"]), (302, "/hello"))
        response = await self.get("/static/robots.txt")
        self.assertEqual(response.body, b"User-agent: *\nDisallow: /\n")
        etag = response.headers["Etag"]
        cached = await self.get("/static/robots.txt", headers={"If-None-Match": etag})
        self.assertEqual(cached.code, 304)

    @gen_test
    async def test_long_poll_released_by_another_request(self) -> None:
        waiting = asyncio.ensure_future(self.get("/longpoll/wait/rt1"))
        self.assertEqual(
            json.loads((await self.get("/longpoll/parked/rt1")).body), {"parked": True}
        )
        self.assertFalse(waiting.done())
        await self.get("/longpoll/release/rt1")
        self.assertEqual((await waiting).body, b"released rt1")

    @gen_test
    async def test_client_leaving_calls_on_connection_close(self) -> None:
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        await stream.write(b"GET /longpoll/wait/rt2 HTTP/1.1\r\nHost: x\r\n\r\n")
        await self.get("/longpoll/parked/rt2")
        stream.close()
        self.assertEqual(
            json.loads((await self.get("/longpoll/closed/rt2")).body), {"closed": True}
        )

    @gen_test
    async def test_streamed_request_body(self) -> None:
        async def produce(write: Any) -> None:
            for _ in range(8):
                await write(b"y" * 65536)

        response = await self.http_client.fetch(
            HTTPRequest(
                self.get_url("/stream_body"), method="PUT", body_producer=produce
            )
        )
        self.assertEqual(json.loads(response.body)["size"], 8 * 65536)

    @gen_test
    async def test_websocket_through_both_bridges(self) -> None:
        url = f"ws://127.0.0.1:{self.get_http_port()}/ws/rt3"
        conn = await websocket_connect(url, subprotocols=["chat"])
        self.assertEqual(conn.selected_subprotocol, "chat")
        await conn.write_message("across")
        self.assertEqual(await conn.read_message(), "echo: across")
        await conn.write_message("close")
        self.assertIsNone(await conn.read_message())
        self.assertEqual((conn.close_code, conn.close_reason), (4000, "asked to"))
        conn.close()
        record = json.loads((await self.get("/ws_record/rt3")).body)
        self.assertEqual(record["close_code"], 4000)

    @gen_test
    async def test_websocket_refused_across_origins(self) -> None:
        url = f"ws://127.0.0.1:{self.get_http_port()}/ws_same_origin"
        request = HTTPRequest(url, headers={"Origin": "http://elsewhere.example"})
        with self.assertRaises(HTTPClientError) as raised:
            await websocket_connect(request)
        self.assertEqual(raised.exception.code, 403)
