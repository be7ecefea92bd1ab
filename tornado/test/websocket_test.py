"""Tests for tornado.websocket: handler, client, handshake and bad frames."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import ssl
import struct
import zlib
from typing import Any
from unittest import mock

from tornado import _websocket_wire as wire
from tornado import websocket
from tornado.concurrent import Future
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.httputil import HTTPHeaders
from tornado.iostream import StreamClosedError
from tornado.log import app_log, gen_log
from tornado.testing import (
    AsyncHTTPSTestCase,
    AsyncHTTPTestCase,
    AsyncTestCase,
    ExpectLog,
    gen_test,
)
from tornado.web import Application
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketError,
    WebSocketHandler,
    WebSocketProtocol,
    WebSocketProtocol13,
    websocket_connect,
)

#: The example key and answer from RFC 6455, section 1.3.
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#: A compressible message with a character outside ASCII.
MESSAGE = "Hello, wörld. Testing 123 123. " * 20
#: More than a loopback socket buffer takes at once.
BIG_MESSAGE = bytes(range(256)) * (4 << 12)  # 4 MiB


def resolve(future: Future[Any], value: Any = None) -> None:
    if not future.done():
        future.set_result(value)


class BaseTestHandler(WebSocketHandler):
    """Base of the handlers here: reports its close to the test."""

    def initialize(self, test: WebSocketTest) -> None:
        self.test = test

    def on_close(self) -> None:
        resolve(self.test.closed, (self.close_code, self.close_reason))


class EchoHandler(BaseTestHandler):
    def open(self) -> None:
        self.test.server_handler = self

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))

    def on_ping(self, data: bytes) -> None:
        resolve(self.test.pinged, data)

    def on_pong(self, data: bytes) -> None:
        resolve(self.test.ponged, data)


class CompressedEchoHandler(EchoHandler):
    def get_compression_options(self) -> dict[str, Any] | None:
        return self.test.compression_options


class LimitedHandler(EchoHandler):
    @property
    def max_message_size(self) -> int:
        return 1024

    def get_compression_options(self) -> dict[str, Any] | None:
        return {}


class ArgsHandler(BaseTestHandler):
    def open(self, *args: Any, **kwargs: Any) -> None:
        self.write_message({"args": list(args), "kwargs": kwargs})


class GatedOpenHandler(BaseTestHandler):
    """``open`` waits for the test's gate; messages must wait for it too."""

    async def open(self) -> None:
        resolve(self.test.started)
        await self.test.gate
        self.opened = True

    def on_message(self, message: str | bytes) -> None:
        assert isinstance(message, str)
        self.test.seen.append(message)
        self.write_message(f"{self.opened}:{message}")


class OrderedHandler(BaseTestHandler):
    """A slow coroutine ``on_message`` must hold back the next message."""

    async def on_message(self, message: str | bytes) -> None:
        self.test.seen.append(message)
        if message == "slow":
            resolve(self.test.started)
            await self.test.gate
        self.write_message(message)


_request_name: contextvars.ContextVar[str] = contextvars.ContextVar("request_name")


class ContextHandler(BaseTestHandler):
    """Context variables set in ``open`` are seen by ``on_message``."""

    def open(self) -> None:
        _request_name.set("set in open")

    def on_message(self, message: str | bytes) -> None:
        self.write_message(_request_name.get("unset"))


class CloseHandler(BaseTestHandler):
    """Closes with the code and reason in the message: ``"4000 bye"``."""

    def on_message(self, message: str | bytes) -> None:
        assert isinstance(message, str)
        code, _, reason = message.partition(" ")
        self.close(int(code), reason or None)
        try:
            self.write_message("too late")
        except WebSocketClosedError:
            resolve(self.test.write_refused)


class BigMessageHandler(BaseTestHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(BIG_MESSAGE, binary=True)


class CloseInOpenHandler(BaseTestHandler):
    def open(self) -> None:
        self.close(1001, "going away")


class ErrorInOpenHandler(BaseTestHandler):
    def open(self) -> None:
        raise ValueError("open failed")


class ErrorInAsyncOpenHandler(BaseTestHandler):
    async def open(self) -> None:
        await asyncio.sleep(0)
        raise ValueError("open failed")


class ErrorInMessageHandler(BaseTestHandler):
    def on_message(self, message: str | bytes) -> None:
        raise ValueError("on_message failed")


class ErrorInAsyncMessageHandler(BaseTestHandler):
    async def on_message(self, message: str | bytes) -> None:
        await asyncio.sleep(0)
        raise ValueError("on_message failed")


class SubprotocolHandler(BaseTestHandler):
    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        self.test.offered = subprotocols
        return "chat" if "chat" in subprotocols else None

    def open(self) -> None:
        self.write_message(str(self.selected_subprotocol))


class BadSubprotocolHandler(BaseTestHandler):
    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "unoffered"


class HTTPMethodsHandler(BaseTestHandler):
    """After the upgrade the HTTP response methods refuse to work."""

    def open(self) -> None:
        refused = []
        for name in ("write", "finish", "set_header", "set_status", "flush"):
            try:
                getattr(self, name)("x")
            except RuntimeError:
                refused.append(name)
        self.set_nodelay(True)
        self.write_message(",".join(refused))


class AnyOriginHandler(EchoHandler):
    def check_origin(self, origin: str) -> bool:
        return True


class HeaderHandler(BaseTestHandler):
    def open(self) -> None:
        self.write_message(self.request.headers.get("X-Test", "missing"))


class PingingHandler(EchoHandler):
    """Pings every 50 ms and expects the pong within 20 ms."""

    @property
    def ping_interval(self) -> float | None:
        return 0.05

    @property
    def ping_timeout(self) -> float | None:
        return 0.02


class KeepaliveHandler(EchoHandler):
    """Pings every 100 ms; a pong may take as long (the default timeout)."""

    @property
    def ping_interval(self) -> float | None:
        return 0.1


class PingHandler(BaseTestHandler):
    def open(self) -> None:
        self.ping(b"from server")
        try:
            self.ping(b"x" * 126)
        except ValueError:
            self.write_message("long ping refused")

    def on_pong(self, data: bytes) -> None:
        self.write_message(b"pong:" + data, binary=True)


class WebSocketTest(AsyncHTTPTestCase):
    """Shared fixture: the handlers above, a few futures to observe them."""

    def setUp(self) -> None:
        super().setUp()
        self.closed: Future[tuple[int | None, str | None]] = Future()
        self.pinged: Future[bytes] = Future()
        self.ponged: Future[bytes] = Future()
        self.started: Future[None] = Future()
        self.gate: Future[None] = Future()
        self.write_refused: Future[None] = Future()
        self.seen: list[str | bytes] = []
        self.offered: list[str] | None = None
        self.server_handler: WebSocketHandler | None = None
        self.compression_options: dict[str, Any] | None = {}
        self.clients: list[WebSocketClientConnection] = []
        self.writers: list[asyncio.StreamWriter] = []

    def tearDown(self) -> None:
        self.io_loop.run_sync(self.close_connections)
        super().tearDown()

    async def close_connections(self) -> None:
        for client in self.clients:
            client.close()
        for writer in self.writers:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass  # the server may have reset it

    def get_app(self) -> Application:
        handlers = [
            ("/echo", EchoHandler),
            ("/compressed", CompressedEchoHandler),
            ("/limited", LimitedHandler),
            (r"/args/(\w+)/(\w+)", ArgsHandler),
            (r"/kwargs/(?P<first>\w+)", ArgsHandler),
            ("/gated_open", GatedOpenHandler),
            ("/ordered", OrderedHandler),
            ("/context", ContextHandler),
            ("/close", CloseHandler),
            ("/close_in_open", CloseInOpenHandler),
            ("/big", BigMessageHandler),
            ("/error_in_open", ErrorInOpenHandler),
            ("/error_in_async_open", ErrorInAsyncOpenHandler),
            ("/error_in_message", ErrorInMessageHandler),
            ("/error_in_async_message", ErrorInAsyncMessageHandler),
            ("/subprotocol", SubprotocolHandler),
            ("/bad_subprotocol", BadSubprotocolHandler),
            ("/http_methods", HTTPMethodsHandler),
            ("/any_origin", AnyOriginHandler),
            ("/header", HeaderHandler),
            ("/pinging", PingingHandler),
            ("/keepalive", KeepaliveHandler),
            ("/ping", PingHandler),
        ]
        return Application(
            [(path, handler, dict(test=self)) for path, handler in handlers],
            log_function=lambda handler: None,
        )

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.get_http_port()}{path}"

    async def connect(self, path: str, **kwargs: Any) -> WebSocketClientConnection:
        connection = await websocket_connect(self.ws_url(path), **kwargs)
        self.clients.append(connection)
        return connection

    async def exchange_three(self, path: str, **kwargs: Any) -> tuple[Any, Any]:
        """Echo MESSAGE three times; return the client and server protocols."""
        ws = await self.connect(path, **kwargs)
        for _ in range(3):
            ws.write_message(MESSAGE)
            self.assertEqual(await ws.read_message(), MESSAGE)
        assert self.server_handler is not None
        return ws.protocol, self.server_handler.ws_connection

    # -- raw connections, for what the client would never send ----------------

    async def raw_handshake(
        self,
        path: str = "/echo",
        extra_headers: str = "",
        payload: bytes = b"",
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
        """Upgrade a plain socket; return it and the response head.

        ``payload`` goes out in the same write as the request.
        """
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.get_http_port()
        )
        self.writers.append(writer)
        request = (
            f"GET {path} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.get_http_port()}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {RFC_KEY}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"{extra_headers}\r\n"
        )
        writer.write(request.encode("latin1") + payload)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin1")
        self.assertTrue(head.startswith("HTTP/1.1 101 "), head)
        return reader, writer, head

    async def read_frames_until_eof(
        self, reader: asyncio.StreamReader, expect_masked: bool = False
    ) -> list[wire.Frame]:
        parser = wire.FrameParser(expect_masked=expect_masked, allowed_rsv=wire.RSV1)
        frames: list[wire.Frame] = []
        while data := await reader.read(65536):
            frames.extend(parser.feed(data))
        return frames

    async def read_frame(self, reader: asyncio.StreamReader) -> wire.Frame:
        parser = wire.FrameParser(expect_masked=False, allowed_rsv=wire.RSV1)
        while True:
            data = await reader.read(1)
            self.assertTrue(data, "connection closed before a frame arrived")
            frames = parser.feed(data)
            if frames:
                return frames[0]

    async def assert_rejected(self, frames: bytes, code: int) -> None:
        """Send ``frames`` after the handshake; expect a close with ``code``."""
        reader, writer, _ = await self.raw_handshake()
        writer.write(frames)
        received = await self.read_frames_until_eof(reader)
        self.assertTrue(received, "no close frame before the connection closed")
        last = received[-1]
        self.assertEqual(last.opcode, wire.OPCODE_CLOSE)
        self.assertEqual(wire.decode_close_payload(last.payload)[0], code)
        self.assertEqual(await self.closed, (None, None))


class MessageTest(WebSocketTest):
    @gen_test
    async def test_text_and_binary_echo(self) -> None:
        ws = await self.connect("/echo")
        await ws.write_message("héllo")
        self.assertEqual(await ws.read_message(), "héllo")
        ws.write_message(b"\x00\xff", binary=True)
        self.assertEqual(await ws.read_message(), b"\x00\xff")
        ws.write_message("as bytes", binary=True)
        self.assertEqual(await ws.read_message(), b"as bytes")

    @gen_test
    async def test_bytearray_and_memoryview_are_sent_as_binary(self) -> None:
        ws = await self.connect("/echo")
        data = bytearray(b"\x00\x01mutable")
        written = ws.write_message(data, binary=True)
        data[0:2] = b"zz"  # sent as it was when written
        await written
        self.assertEqual(await ws.read_message(), b"\x00\x01mutable")
        ws.write_message(memoryview(b"0123456789")[2:5], binary=True)
        self.assertEqual(await ws.read_message(), b"234")

    @gen_test
    async def test_empty_and_large_messages(self) -> None:
        ws = await self.connect("/echo")
        ws.write_message("")
        self.assertEqual(await ws.read_message(), "")
        big = bytes(range(256)) * 4096  # 1 MiB
        ws.write_message(big, binary=True)
        self.assertEqual(await ws.read_message(), big)

    @gen_test
    async def test_messages_spanning_many_reads(self) -> None:
        # Payloads are read in pieces of a megabyte or more; these take
        # several, in both directions, with a small message in between.
        ws = await self.connect("/echo")
        for size in (3 * 1024 * 1024 + 5, 65536, 5):
            message = bytes(range(251)) * (size // 251) + b"e" * (size % 251)
            ws.write_message(message, binary=True)
            self.assertEqual(await ws.read_message(), message)

    @gen_test
    async def test_dict_is_sent_as_json(self) -> None:
        ws = await self.connect("/args/a/b")
        self.assertEqual(await ws.read_message(), '{"args": ["a", "b"], "kwargs": {}}')
        ws2 = await self.connect("/kwargs/x")
        self.assertEqual(
            await ws2.read_message(), '{"args": [], "kwargs": {"first": "x"}}'
        )

    @gen_test
    async def test_write_message_rejects_other_types(self) -> None:
        ws = await self.connect("/echo")
        with self.assertRaisesRegex(TypeError, "needs str, bytes or dict, not int"):
            ws.write_message(42)  # type: ignore[arg-type]

    @gen_test
    async def test_on_message_callback(self) -> None:
        received: list[None | str | bytes] = []
        done: Future[None] = Future()

        def on_message(message: None | str | bytes) -> None:
            received.append(message)
            if message is None:
                resolve(done)

        ws = await self.connect("/close", on_message_callback=on_message)
        ws.write_message("4000 bye")
        await done
        self.assertEqual(received, [None])
        self.assertEqual(ws.close_code, 4000)

    @gen_test
    async def test_read_message_callback(self) -> None:
        ws = await self.connect("/echo")
        delivered: Future[Any] = Future()
        ws.read_message(callback=lambda future: resolve(delivered, future.result()))
        ws.write_message("hi")
        self.assertEqual(await delivered, "hi")

    @gen_test
    async def test_connect_callback(self) -> None:
        connected: Future[WebSocketClientConnection] = Future()
        websocket_connect(
            self.ws_url("/echo"), callback=lambda f: resolve(connected, f.result())
        )
        ws = await connected
        self.clients.append(ws)
        ws.write_message("x")
        self.assertEqual(await ws.read_message(), "x")

    @gen_test
    async def test_request_headers_are_sent(self) -> None:
        headers = HTTPHeaders({"X-Test": "yes"})
        ws = await websocket_connect(
            HTTPRequest(self.ws_url("/header"), headers=headers)
        )
        self.clients.append(ws)
        self.assertEqual(await ws.read_message(), "yes")
        self.assertNotIn("Sec-WebSocket-Key", headers)

    @gen_test
    async def test_open_coroutine_holds_back_messages(self) -> None:
        frame = wire.encode_message(wire.OPCODE_TEXT, "early", mask=True)
        reader, writer, _ = await self.raw_handshake("/gated_open", payload=frame)
        await self.started
        self.assertEqual(self.seen, [])
        resolve(self.gate)
        reply = await self.read_frame(reader)
        self.assertEqual(reply.payload, b"True:early")

    @gen_test
    async def test_coroutine_on_message_keeps_order(self) -> None:
        frames = b"".join(
            wire.encode_message(wire.OPCODE_TEXT, text, mask=True)
            for text in ("slow", "fast")
        )
        reader, writer, _ = await self.raw_handshake("/ordered", payload=frames)
        await self.started
        self.assertEqual(self.seen, ["slow"])
        resolve(self.gate)
        self.assertEqual((await self.read_frame(reader)).payload, b"slow")
        self.assertEqual((await self.read_frame(reader)).payload, b"fast")

    @gen_test
    async def test_on_message_sees_context_of_open(self) -> None:
        client = await self.connect("/context")
        for _ in range(2):
            await client.write_message("which?")
            self.assertEqual(await client.read_message(), "set in open")

    @gen_test
    async def test_fragmented_message_with_interleaved_ping(self) -> None:
        frames = b"".join(
            [
                wire.encode_frame(wire.OPCODE_TEXT, b"Hel", fin=False, mask=True),
                wire.encode_frame(wire.OPCODE_PING, b"p", mask=True),
                wire.encode_frame(wire.OPCODE_CONTINUATION, b"l", fin=False, mask=True),
                wire.encode_frame(wire.OPCODE_CONTINUATION, b"o", mask=True),
            ]
        )
        reader, writer, _ = await self.raw_handshake(payload=frames)
        pong = await self.read_frame(reader)
        self.assertEqual((pong.opcode, pong.payload), (wire.OPCODE_PONG, b"p"))
        echo = await self.read_frame(reader)
        self.assertEqual((echo.opcode, echo.payload), (wire.OPCODE_TEXT, b"Hello"))
        self.assertEqual(await self.pinged, b"p")

    @gen_test
    async def test_traffic_counters(self) -> None:
        client, server = await self.exchange_three("/echo")
        size = len(MESSAGE.encode())
        for protocol in (client, server):
            self.assertEqual(protocol._message_bytes_in, 3 * size)
            self.assertEqual(protocol._message_bytes_out, 3 * size)
        # A 4-byte header (with a 16-bit length), plus a 4-byte masking key
        # on client frames.
        self.assertEqual(client._wire_bytes_out, 3 * (size + 8))
        self.assertEqual(client._wire_bytes_in, 3 * (size + 4))
        self.assertEqual(server._wire_bytes_in, 3 * (size + 8))
        self.assertEqual(server._wire_bytes_out, 3 * (size + 4))

    @gen_test
    async def test_http_methods_refused_after_upgrade(self) -> None:
        ws = await self.connect("/http_methods")
        self.assertEqual(
            await ws.read_message(), "write,finish,set_header,set_status,flush"
        )


class CloseTest(WebSocketTest):
    @gen_test
    async def test_server_close_code_and_reason(self) -> None:
        ws = await self.connect("/close")
        ws.write_message("4000 server says bye")
        self.assertIsNone(await ws.read_message())
        self.assertEqual((ws.close_code, ws.close_reason), (4000, "server says bye"))
        # The client echoes the code, as the RFC asks.
        self.assertEqual(await self.closed, (4000, None))
        await self.write_refused

    @gen_test
    async def test_client_close_code_and_reason(self) -> None:
        ws = await websocket_connect(self.ws_url("/echo"))
        ws.close(1001, "client leaves")
        self.assertEqual(await self.closed, (1001, "client leaves"))
        self.assertIsNone(await ws.read_message())
        self.assertEqual(ws.close_code, 1001)

    @gen_test
    async def test_close_without_code(self) -> None:
        ws = await websocket_connect(self.ws_url("/echo"))
        ws.close()
        self.assertEqual(await self.closed, (None, None))
        self.assertIsNone(await ws.read_message())
        self.assertIsNone(ws.close_code)

    @gen_test
    async def test_close_waits_for_pending_writes(self) -> None:
        ws = await websocket_connect(self.ws_url("/big"))
        ws.write_message("send it")
        ws.close()
        # The server answers the close only after the message it was still
        # sending, and hangs up only once both are out.
        self.assertEqual(await ws.read_message(), BIG_MESSAGE)
        self.assertIsNone(await ws.read_message())
        self.assertEqual(await self.closed, (None, None))

    @gen_test
    async def test_close_in_open(self) -> None:
        ws = await self.connect("/close_in_open")
        self.assertIsNone(await ws.read_message())
        self.assertEqual((ws.close_code, ws.close_reason), (1001, "going away"))

    @gen_test
    async def test_use_after_close_raises(self) -> None:
        ws = await websocket_connect(self.ws_url("/echo"))
        ws.close()
        with self.assertRaises(WebSocketClosedError):
            ws.write_message("x")
        with self.assertRaises(WebSocketClosedError):
            ws.ping()
        with self.assertRaises(WebSocketClosedError):
            _ = ws.selected_subprotocol

    @gen_test
    async def test_invalid_close_arguments(self) -> None:
        ws = await self.connect("/echo")
        with self.assertRaisesRegex(ValueError, "invalid close code 999"):
            ws.close(999)
        with self.assertRaisesRegex(ValueError, "close reason too long"):
            ws.close(1000, "x" * 124)
        ws.write_message("still open")
        self.assertEqual(await ws.read_message(), "still open")

    @gen_test
    async def test_abrupt_disconnect_calls_on_close(self) -> None:
        reader, writer, _ = await self.raw_handshake()
        writer.close()
        self.assertEqual(await self.closed, (None, None))

    @gen_test
    async def test_server_drops_unanswered_close(self) -> None:
        with mock.patch.object(websocket, "_CLOSE_TIMEOUT", 0.05):
            reader, writer, _ = await self.raw_handshake("/close_in_open")
            frames = await self.read_frames_until_eof(reader)
        self.assertEqual([frame.opcode for frame in frames], [wire.OPCODE_CLOSE])

    @gen_test
    async def test_client_drops_unanswered_close(self) -> None:
        async def never_answer_close(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            writer.write(accept_response(key))
            await reader.read()  # until the client hangs up

        async with RawServer(never_answer_close) as server:
            with mock.patch.object(websocket, "_CLOSE_TIMEOUT", 0.05):
                ws = await websocket_connect(server.url)
                ws.close()
                self.assertIsNone(await ws.read_message())


class HandshakeTest(WebSocketTest):
    def upgrade_headers(self, **changes: str | None) -> dict[str, str]:
        headers: dict[str, str | None] = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": RFC_KEY,
            "Sec-WebSocket-Version": "13",
        }
        headers.update({name.replace("_", "-"): v for name, v in changes.items()})
        return {name: value for name, value in headers.items() if value is not None}

    def test_plain_get_is_refused(self) -> None:
        response = self.fetch("/echo")
        self.assertEqual(response.code, 400)
        self.assertIn(b'Can "Upgrade" only to "WebSocket"', response.body)

    def test_connection_header_must_say_upgrade(self) -> None:
        response = self.fetch("/echo", headers=self.upgrade_headers(Connection="close"))
        self.assertEqual(response.code, 400)
        self.assertIn(b'"Connection" must be "Upgrade"', response.body)

    def test_connection_header_with_several_tokens(self) -> None:
        response = self.fetch(
            "/echo",
            headers=self.upgrade_headers(Connection="keep-alive, Upgrade", Upgrade=""),
        )
        self.assertEqual(response.code, 400)  # Upgrade missing, Connection fine

    def test_missing_key(self) -> None:
        headers = self.upgrade_headers(Sec_WebSocket_Key=None)
        response = self.fetch("/echo", headers=headers)
        self.assertEqual(response.code, 400)
        self.assertIn(b"Sec-WebSocket-Key", response.body)

    def test_malformed_key(self) -> None:
        for key in ("not base64!", "c2hvcnQ=", RFC_KEY + "AAAA"):
            with self.subTest(key=key):
                response = self.fetch(
                    "/echo", headers=self.upgrade_headers(Sec_WebSocket_Key=key)
                )
                self.assertEqual(response.code, 400)
                self.assertIn(b"bad Sec-WebSocket-Key", response.body)

    def test_versions_other_than_13_need_an_upgrade(self) -> None:
        for version in (None, "thirteen", "7", "8", "12", "14", " 13 13"):
            with self.subTest(version=version):
                headers = self.upgrade_headers(Sec_WebSocket_Version=version)
                response = self.fetch("/echo", headers=headers)
                self.assertEqual(response.code, 426)
                self.assertEqual(response.headers["Sec-WebSocket-Version"], "13")

    def test_other_methods_not_allowed(self) -> None:
        for method, body in (("POST", b""), ("PUT", b""), ("DELETE", None)):
            with self.subTest(method=method):
                response = self.fetch(
                    "/echo", method=method, body=body, headers=self.upgrade_headers()
                )
                self.assertEqual(response.code, 405)
                self.assertEqual(response.headers["Allow"], "GET")

    def test_cross_origin_refused(self) -> None:
        headers = self.upgrade_headers(Origin="http://evil.example")
        response = self.fetch("/echo", headers=headers)
        self.assertEqual(response.code, 403)

    @gen_test
    async def test_same_origin_accepted(self) -> None:
        origin = f"http://127.0.0.1:{self.get_http_port()}"
        request = HTTPRequest(self.ws_url("/echo"), headers={"Origin": origin})
        ws = await websocket_connect(request)
        self.clients.append(ws)
        ws.write_message("ok")
        self.assertEqual(await ws.read_message(), "ok")

    @gen_test
    async def test_check_origin_override(self) -> None:
        request = HTTPRequest(
            self.ws_url("/any_origin"), headers={"Origin": "http://elsewhere.example"}
        )
        ws = await websocket_connect(request)
        self.clients.append(ws)
        ws.write_message("ok")
        self.assertEqual(await ws.read_message(), "ok")

    @gen_test
    async def test_cross_origin_client_sees_403(self) -> None:
        request = HTTPRequest(
            self.ws_url("/echo"), headers={"Origin": "http://evil.example"}
        )
        with self.assertRaises(HTTPClientError) as cm:
            await websocket_connect(request)
        self.assertEqual(cm.exception.code, 403)

    @gen_test
    async def test_accept_value(self) -> None:
        reader, writer, head = await self.raw_handshake()
        self.assertIn(f"Sec-Websocket-Accept: {RFC_ACCEPT}\r\n", head)
        self.assertIn("Upgrade: websocket\r\n", head)
        self.assertNotIn("Content-Type", head)

    @gen_test
    async def test_subprotocol_selection(self) -> None:
        ws = await self.connect("/subprotocol", subprotocols=["other", "chat"])
        self.assertEqual(self.offered, ["other", "chat"])
        self.assertEqual(ws.selected_subprotocol, "chat")
        self.assertEqual(await ws.read_message(), "chat")
        ws2 = await self.connect("/subprotocol")
        self.assertEqual(self.offered, [])
        self.assertIsNone(ws2.selected_subprotocol)
        self.assertEqual(await ws2.read_message(), "None")

    @gen_test
    async def test_unoffered_subprotocol_is_a_server_error(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            with self.assertRaises(HTTPClientError) as cm:
                await websocket_connect(
                    self.ws_url("/bad_subprotocol"), subprotocols=["a"]
                )
        self.assertEqual(cm.exception.code, 500)

    @gen_test
    async def test_unknown_path_is_404_for_the_client(self) -> None:
        with self.assertRaises(HTTPClientError) as cm:
            await websocket_connect(self.ws_url("/nowhere"))
        self.assertEqual(cm.exception.code, 404)

    @gen_test
    async def test_connection_refused(self) -> None:
        from tornado.testing import bind_unused_port

        sock, port = bind_unused_port()
        sock.close()
        with self.assertRaises(OSError):
            await websocket_connect(f"ws://127.0.0.1:{port}/", connect_timeout=5)

    def test_client_argument_errors(self) -> None:
        async def run() -> None:
            with self.assertRaisesRegex(ValueError, "must use ws: or wss:"):
                websocket_connect(f"http://127.0.0.1:{self.get_http_port()}/echo")
            with self.assertRaisesRegex(ValueError, "connect_timeout"):
                websocket_connect(HTTPRequest(self.ws_url("/echo")), connect_timeout=1)

        self.io_loop.run_sync(run)


class ErrorTest(WebSocketTest):
    async def assert_closed_after_error(self, path: str, send: bool) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            ws = await self.connect(path)
            if send:
                ws.write_message("boom")
            self.assertIsNone(await ws.read_message())
            await self.closed

    @gen_test
    async def test_error_in_open(self) -> None:
        await self.assert_closed_after_error("/error_in_open", send=False)

    @gen_test
    async def test_error_in_async_open(self) -> None:
        await self.assert_closed_after_error("/error_in_async_open", send=False)

    @gen_test
    async def test_error_in_on_message(self) -> None:
        await self.assert_closed_after_error("/error_in_message", send=True)

    @gen_test
    async def test_error_in_async_on_message(self) -> None:
        await self.assert_closed_after_error("/error_in_async_message", send=True)

    @gen_test
    async def test_error_in_client_callback(self) -> None:
        def on_message(message: None | str | bytes) -> None:
            if message is not None:
                raise ValueError("client callback failed")

        with ExpectLog(app_log, "Uncaught exception client callback failed"):
            ws = await self.connect("/echo", on_message_callback=on_message)
            ws.write_message("boom")
            await self.closed


class BadFrameTest(WebSocketTest):
    """Each protocol violation by a client fails the connection with a code."""

    @gen_test
    async def test_unmasked_frame(self) -> None:
        await self.assert_rejected(wire.encode_frame(wire.OPCODE_TEXT, b"hi"), 1002)

    @gen_test
    async def test_reserved_bits(self) -> None:
        for rsv in (wire.RSV2, wire.RSV3):
            with self.subTest(rsv=rsv):
                self.closed = Future()
                frame = wire.encode_frame(wire.OPCODE_TEXT, b"x", rsv=rsv, mask=True)
                await self.assert_rejected(frame, 1002)

    @gen_test
    async def test_rsv1_without_compression(self) -> None:
        frame = wire.encode_frame(wire.OPCODE_TEXT, b"x", rsv=wire.RSV1, mask=True)
        await self.assert_rejected(frame, 1002)

    @gen_test
    async def test_unknown_opcode(self) -> None:
        await self.assert_rejected(bytes([0x80 | 0x3, 0x80]) + b"\0\0\0\0", 1002)

    @gen_test
    async def test_control_frame_too_long(self) -> None:
        header = bytes([0x80 | wire.OPCODE_PING, 0x80 | 126]) + struct.pack("!H", 126)
        await self.assert_rejected(header + b"\0" * 4 + b"x" * 126, 1002)

    @gen_test
    async def test_fragmented_control_frame(self) -> None:
        await self.assert_rejected(bytes([wire.OPCODE_PING, 0x80]) + b"\0" * 4, 1002)

    @gen_test
    async def test_continuation_without_start(self) -> None:
        frame = wire.encode_frame(wire.OPCODE_CONTINUATION, b"x", mask=True)
        await self.assert_rejected(frame, 1002)

    @gen_test
    async def test_new_message_inside_fragmented_one(self) -> None:
        frames = wire.encode_frame(
            wire.OPCODE_TEXT, b"a", fin=False, mask=True
        ) + wire.encode_frame(wire.OPCODE_TEXT, b"b", mask=True)
        await self.assert_rejected(frames, 1002)

    @gen_test
    async def test_invalid_utf8(self) -> None:
        frame = wire.encode_frame(wire.OPCODE_TEXT, b"\xff\xfe", mask=True)
        await self.assert_rejected(frame, 1007)

    @gen_test
    async def test_invalid_utf8_across_fragments(self) -> None:
        frames = wire.encode_frame(
            wire.OPCODE_TEXT, b"ok\xe2", fin=False, mask=True
        ) + wire.encode_frame(wire.OPCODE_CONTINUATION, b"\x28", mask=True)
        await self.assert_rejected(frames, 1007)

    @gen_test
    async def test_invalid_close_payloads(self) -> None:
        payloads = (b"\x03", struct.pack("!H", 999), struct.pack("!H", 1005))
        for payload in payloads:
            with self.subTest(payload=payload):
                self.closed = Future()
                frame = wire.encode_frame(wire.OPCODE_CLOSE, payload, mask=True)
                await self.assert_rejected(frame, 1002)

    @gen_test
    async def test_invalid_utf8_in_close_reason(self) -> None:
        payload = struct.pack("!H", 1000) + b"\xff"
        frame = wire.encode_frame(wire.OPCODE_CLOSE, payload, mask=True)
        await self.assert_rejected(frame, 1007)

    @gen_test
    async def test_message_too_big(self) -> None:
        reader, writer, _ = await self.raw_handshake("/limited")
        writer.write(wire.encode_message(wire.OPCODE_BINARY, b"x" * 1025, mask=True))
        frames = await self.read_frames_until_eof(reader)
        self.assertEqual(wire.decode_close_payload(frames[-1].payload)[0], 1009)

    @gen_test
    async def test_fragments_too_big_together(self) -> None:
        reader, writer, _ = await self.raw_handshake("/limited")
        for fin, opcode in ((False, wire.OPCODE_BINARY), (True, 0)):
            writer.write(wire.encode_frame(opcode, b"x" * 600, fin=fin, mask=True))
        frames = await self.read_frames_until_eof(reader)
        self.assertEqual(wire.decode_close_payload(frames[-1].payload)[0], 1009)

    @gen_test
    async def test_deflate_bomb(self) -> None:
        reader, writer, head = await self.raw_handshake(
            "/limited", "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        )
        self.assertIn("permessage-deflate", head)
        bomb = wire.PerMessageDeflateCompressor().compress(b"\0" * 900_000)
        self.assertLess(len(bomb), 1024)  # passes the size check on the wire
        frame = wire.encode_frame(wire.OPCODE_BINARY, bomb, rsv=wire.RSV1, mask=True)
        writer.write(frame)
        frames = await self.read_frames_until_eof(reader)
        self.assertEqual(wire.decode_close_payload(frames[-1].payload)[0], 1009)

    @gen_test
    async def test_client_told_message_too_big(self) -> None:
        ws = await self.connect("/limited")
        ws.write_message("x" * 1025)
        self.assertIsNone(await ws.read_message())
        self.assertEqual((ws.close_code, ws.close_reason), (1009, "message too big"))

    @gen_test
    async def test_message_at_the_limit_is_accepted(self) -> None:
        ws = await self.connect("/limited")
        ws.write_message(b"x" * 1024, binary=True)
        self.assertEqual(await ws.read_message(), b"x" * 1024)


class CompressionTest(WebSocketTest):
    @gen_test
    async def test_compressed_round_trip(self) -> None:
        ws = await self.connect("/compressed", compression_options={})
        for message in ("hello " * 1000, "", "x", "hello " * 1000):
            ws.write_message(message)
            self.assertEqual(await ws.read_message(), message)
        ws.write_message(bytes(100_000), binary=True)
        self.assertEqual(await ws.read_message(), bytes(100_000))

    @gen_test
    async def test_compressed_traffic_counters(self) -> None:
        client, server = await self.exchange_three(
            "/compressed", compression_options={}
        )
        size = len(MESSAGE.encode())
        for protocol in (client, server):
            self.assertEqual(protocol._message_bytes_in, 3 * size)
            self.assertEqual(protocol._message_bytes_out, 3 * size)
            self.assertLess(protocol._wire_bytes_in, size)
            self.assertLess(protocol._wire_bytes_out, size)

    @gen_test
    async def test_compression_options_level_and_mem_level(self) -> None:
        self.compression_options = {"compression_level": 9, "mem_level": 9}
        ws = await self.connect(
            "/compressed", compression_options={"compression_level": 1, "mem_level": 1}
        )
        ws.write_message("abc" * 1000)
        self.assertEqual(await ws.read_message(), "abc" * 1000)

    @gen_test
    async def test_bad_compression_options_are_a_server_error(self) -> None:
        self.compression_options = {"compression_level": 42}
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            with self.assertRaises(HTTPClientError) as cm:
                await websocket_connect(
                    self.ws_url("/compressed"), compression_options={}
                )
        self.assertEqual(cm.exception.code, 500)

    @gen_test
    async def test_compression_needs_both_sides(self) -> None:
        for path, options in (("/echo", {}), ("/compressed", None)):
            with self.subTest(path=path):
                ws = await self.connect(path, compression_options=options)
                ws.write_message("plain " * 100)
                self.assertEqual(await ws.read_message(), "plain " * 100)

    @gen_test
    async def test_negotiated_parameters_are_honoured(self) -> None:
        offer = (
            "permessage-deflate; server_no_context_takeover; "
            "client_no_context_takeover; server_max_window_bits=10"
        )
        reader, writer, head = await self.raw_handshake(
            "/compressed", f"Sec-WebSocket-Extensions: {offer}\r\n"
        )
        self.assertIn(
            "Sec-Websocket-Extensions: permessage-deflate; server_no_context_takeover;"
            " client_no_context_takeover; server_max_window_bits=10\r\n",
            head,
        )
        compressor = wire.PerMessageDeflateCompressor(no_context_takeover=True)
        for _ in range(2):
            payload = compressor.compress(b"repeat " * 50)
            writer.write(
                wire.encode_frame(wire.OPCODE_TEXT, payload, rsv=wire.RSV1, mask=True)
            )
            frame = await self.read_frame(reader)
            self.assertEqual(frame.rsv, wire.RSV1)
            # No context takeover: each message decompresses on its own.
            decompressor = zlib.decompressobj(-10)
            text = decompressor.decompress(frame.payload + b"\x00\x00\xff\xff")
            self.assertEqual(text, b"repeat " * 50)

    @gen_test
    async def test_unusable_offer_is_declined(self) -> None:
        reader, writer, head = await self.raw_handshake(
            "/compressed", "Sec-WebSocket-Extensions: permessage-deflate; bogus=1\r\n"
        )
        self.assertNotIn("Extensions", head)

    @gen_test
    async def test_client_refuses_unoffered_extension(self) -> None:
        async def answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            writer.write(
                accept_response(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
            )

        async with RawServer(answer) as server:
            with self.assertRaisesRegex(WebSocketError, "unoffered extension"):
                await websocket_connect(server.url)

    @gen_test
    async def test_client_refuses_bad_extension_response(self) -> None:
        async def answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            writer.write(
                accept_response(key, "Sec-WebSocket-Extensions: x-unknown\r\n")
            )

        async with RawServer(answer) as server:
            with self.assertRaisesRegex(WebSocketError, "Unsupported extension"):
                await websocket_connect(server.url, compression_options={})


class PingTest(WebSocketTest):
    @gen_test
    async def test_client_ping_and_pong(self) -> None:
        ws = await self.connect("/echo")
        pong: Future[bytes] = Future()
        ws.on_pong = lambda data: resolve(pong, data)  # type: ignore[method-assign]
        ws.ping(b"hello")
        self.assertEqual(await self.pinged, b"hello")
        self.assertEqual(await pong, b"hello")
        with self.assertRaisesRegex(ValueError, "too long"):
            ws.ping(b"x" * 126)

    @gen_test
    async def test_server_ping_and_pong(self) -> None:
        ws = await self.connect("/ping")
        pinged: Future[bytes] = Future()
        ws.on_ping = lambda data: resolve(pinged, data)  # type: ignore[method-assign]
        self.assertEqual(await ws.read_message(), "long ping refused")
        self.assertEqual(await ws.read_message(), b"pong:from server")
        self.assertEqual(await pinged, b"from server")

    @gen_test
    async def test_server_periodic_pings(self) -> None:
        ws = await self.connect("/keepalive")
        pings: list[bytes] = []
        two_pings: Future[None] = Future()

        def on_ping(data: bytes) -> None:
            pings.append(data)
            if len(pings) == 2:
                resolve(two_pings)

        ws.on_ping = on_ping  # type: ignore[method-assign]
        await two_pings
        # Answered pings keep the connection open.
        ws.write_message("still here")
        self.assertEqual(await ws.read_message(), "still here")

    @gen_test
    async def test_server_closes_when_pong_is_late(self) -> None:
        with mock.patch.object(websocket, "_CLOSE_TIMEOUT", 0.05):
            reader, writer, _ = await self.raw_handshake("/pinging")
            frames = await self.read_frames_until_eof(reader)
        opcodes = [frame.opcode for frame in frames]
        self.assertEqual(opcodes, [wire.OPCODE_PING, wire.OPCODE_CLOSE])
        self.assertEqual(
            wire.decode_close_payload(frames[-1].payload), (1000, "ping timed out")
        )

    @gen_test
    async def test_client_periodic_pings(self) -> None:
        ws = await self.connect("/echo", ping_interval=0.1)
        self.assertEqual(await self.pinged, b"")
        ws.write_message("alive")
        self.assertEqual(await ws.read_message(), "alive")

    @gen_test
    async def test_ping_timeout_longer_than_interval_warns(self) -> None:
        with ExpectLog(
            gen_log, r"The websocket_ping_timeout \(0.0625\) cannot be longer"
        ):
            await self.connect("/echo", ping_interval=0.0525, ping_timeout=0.0625)
            self.assertEqual(await self.pinged, b"")

    def test_ping_sleep_time(self) -> None:
        sleep_time = WebSocketProtocol13.ping_sleep_time
        self.assertEqual(sleep_time(last_ping_time=10.0, interval=5.0, now=12.0), 3.0)
        self.assertEqual(sleep_time(last_ping_time=10.0, interval=5.0, now=16.0), 0.0)


class ClientProtocolErrorTest(AsyncTestCase):
    """Our client against a scripted server that misbehaves."""

    async def misbehave(self, frames: bytes, code: int) -> None:
        received: Future[bytes] = Future()

        async def answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            writer.write(accept_response(key) + frames)
            resolve(received, await reader.read())

        async with RawServer(answer) as server:
            ws = await websocket_connect(server.url)
            self.assertIsNone(await ws.read_message())
            ws.close()
            parser = wire.FrameParser(expect_masked=True)
            (close,) = parser.feed(await received)
            self.assertEqual(close.opcode, wire.OPCODE_CLOSE)
            self.assertEqual(wire.decode_close_payload(close.payload)[0], code)

    @gen_test
    async def test_masked_frame_from_server(self) -> None:
        frame = wire.encode_frame(wire.OPCODE_TEXT, b"hi", mask=True)
        await self.misbehave(frame, 1002)

    @gen_test
    async def test_invalid_utf8_from_server(self) -> None:
        await self.misbehave(wire.encode_frame(wire.OPCODE_TEXT, b"\xc3"), 1007)

    @gen_test
    async def test_message_over_client_limit(self) -> None:
        received: Future[bytes] = Future()

        async def answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            frame = wire.encode_frame(wire.OPCODE_BINARY, b"x" * 101)
            writer.write(accept_response(key) + frame)
            resolve(received, await reader.read())

        async with RawServer(answer) as server:
            ws = await websocket_connect(server.url, max_message_size=100)
            self.assertIsNone(await ws.read_message())
            ws.close()
            (close,) = wire.FrameParser(expect_masked=True).feed(await received)
            self.assertEqual(wire.decode_close_payload(close.payload)[0], 1009)

    async def assert_handshake_refused(self, response: bytes, message: str) -> None:
        async def answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            writer.write(response.replace(b"{accept}", accept_value(key)))
            await reader.read()

        async with RawServer(answer) as server:
            with self.assertRaisesRegex(WebSocketError, message):
                await websocket_connect(server.url, subprotocols=["chat"])

    @gen_test
    async def test_wrong_accept_value(self) -> None:
        response = accept_response(RFC_KEY)  # answers a different key
        await self.assert_handshake_refused(response, "Invalid Sec-WebSocket-Accept")

    @gen_test
    async def test_missing_upgrade_header(self) -> None:
        response = (
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        await self.assert_handshake_refused(response, "Upgrade: websocket")

    @gen_test
    async def test_missing_connection_header(self) -> None:
        response = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        await self.assert_handshake_refused(response, "Connection: Upgrade")

    @gen_test
    async def test_unoffered_subprotocol(self) -> None:
        response = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
            b"Sec-WebSocket-Protocol: other\r\n\r\n"
        )
        await self.assert_handshake_refused(response, "unoffered subprotocol 'other'")

    @gen_test
    async def test_non_websocket_success(self) -> None:
        response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        await self.assert_handshake_refused(response, "Non-websocket response")

    @gen_test
    async def test_server_hangs_up_during_handshake(self) -> None:
        async def answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
        ) -> None:
            writer.close()

        async with RawServer(answer) as server:
            with self.assertRaises(StreamClosedError):
                await websocket_connect(server.url)


class ProtocolUnitTest(AsyncTestCase):
    def test_compute_accept_value(self) -> None:
        for key in (RFC_KEY, RFC_KEY.encode()):
            self.assertEqual(WebSocketProtocol13.compute_accept_value(key), RFC_ACCEPT)

    def test_frame_bits(self) -> None:
        protocol = WebSocketProtocol13
        self.assertEqual(
            (protocol.FIN, protocol.RSV1, protocol.RSV2, protocol.RSV3),
            (0x80, 0x40, 0x20, 0x10),
        )
        self.assertEqual((protocol.RSV_MASK, protocol.OPCODE_MASK), (0x70, 0x0F))

    def test_protocol_is_abstract(self) -> None:
        with self.assertRaises(TypeError):
            WebSocketProtocol(None)  # type: ignore[abstract]

    def test_de_dupe_gen_log(self) -> None:
        records: list[logging.LogRecord] = []

        class Collect(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                records.append(record)
                return False

        collect = Collect()
        gen_log.addFilter(collect)
        try:
            for _ in range(3):
                websocket.de_dupe_gen_log(logging.WARNING, "said once (dedupe test)")
        finally:
            gen_log.removeFilter(collect)
        self.assertEqual([r.getMessage() for r in records], ["said once (dedupe test)"])


class SecureWebSocketTest(AsyncHTTPSTestCase):
    def get_app(self) -> Application:
        class Echo(WebSocketHandler):
            def on_message(self, message: str | bytes) -> None:
                self.write_message(message)

        return Application([("/", Echo)], log_function=lambda handler: None)

    @gen_test
    async def test_wss(self) -> None:
        url = f"wss://127.0.0.1:{self.get_http_port()}/"
        ws = await websocket_connect(HTTPRequest(url, validate_cert=False))
        ws.write_message("over TLS " * 1000)
        self.assertEqual(await ws.read_message(), "over TLS " * 1000)
        ws.close()
        self.assertIsNone(await ws.read_message())

    @gen_test
    async def test_certificate_is_checked_by_default(self) -> None:
        url = f"wss://127.0.0.1:{self.get_http_port()}/"
        with ExpectLog(gen_log, ".*SSL", required=False):
            with self.assertRaises(ssl.SSLError):
                await websocket_connect(url)


class SettingsTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        class SettingsHandler(WebSocketHandler):
            def open(self) -> None:
                self.write_message(
                    {
                        "interval": self.ping_interval,
                        "timeout": self.ping_timeout,
                        "size": self.max_message_size,
                    }
                )

        return Application(
            [("/", SettingsHandler), ("/default", SettingsHandler)],
            websocket_ping_interval=30,
            websocket_ping_timeout=10,
            websocket_max_message_size=5000,
            log_function=lambda handler: None,
        )

    @gen_test
    async def test_settings_reach_the_handler(self) -> None:
        ws = await websocket_connect(f"ws://127.0.0.1:{self.get_http_port()}/")
        self.assertEqual(
            await ws.read_message(), '{"interval": 30, "timeout": 10, "size": 5000}'
        )
        ws.close()


# ---------------------------------------------------------------------------
# A scripted server for client tests


def accept_value(key: str) -> bytes:
    return WebSocketProtocol13.compute_accept_value(key).encode()


def accept_response(key: str, extra_headers: str = "") -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
        + accept_value(key)
        + b"\r\n"
        + extra_headers.encode()
        + b"\r\n"
    )


class RawServer:
    """A loopback server reading one handshake and handing over to ``answer``.

    ``answer(reader, writer, key)`` gets the client's ``Sec-WebSocket-Key``.
    """

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/"
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.server.close()
        await self.server.wait_closed()
        # Connections still being answered finish here, so that no socket
        # outlives the test's loop (3.11's wait_closed does not wait for them).
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.append(task)
        try:
            await self.answer_one(reader, writer)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass  # the client may have reset it

    async def answer_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin1")
        key = ""
        for line in head.split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "sec-websocket-key":
                key = value.strip()
        await self.answer(reader, writer, key)
