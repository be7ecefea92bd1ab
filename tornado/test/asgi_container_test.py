"""Tests of tornado.asgi.ASGIContainer: Starlette (and raw ASGI) apps on HTTPServer.

The applications are real Starlette applications, written the way FastAPI
applications are (typed path parameters, JSON bodies, a lifespan yielding
state), plus raw ASGI endpoints for the cases no framework produces on
purpose (crashes, missing responses, trailers).  They are driven over
loopback by this package's clients and by ``httpx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tornado import httputil
from tornado.asgi import ASGIContainer, LifespanError, Receive, Scope, Send
from tornado.concurrent import Future
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import IOStream
from tornado.log import access_log, app_log
from tornado.simple_httpclient import HTTPStreamClosedError, SimpleAsyncHTTPClient
from tornado.test.asgi_util import QuietAccessLog, counting, missing_dependency
from tornado.testing import AsyncHTTPTestCase, ExpectLog, gen_test
from tornado.web import Application, FallbackHandler, RequestHandler
from tornado.websocket import websocket_connect

try:
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import (
        JSONResponse,
        PlainTextResponse,
        Response,
        StreamingResponse,
    )
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect
except ImportError as e:  # development dependencies: fail loudly, never skip
    raise missing_dependency(e) from e

RawEndpoint = Callable[[Scope, Receive, Send], Awaitable[None]]


class Recorder:
    """What one test's application saw, and events a test can wait for."""

    def __init__(self) -> None:
        self.lifespan: list[str] = []
        self.seen: dict[str, Any] = {}
        self.events: dict[str, asyncio.Event] = {}
        self.release = asyncio.Event()

    def event(self, name: str) -> asyncio.Event:
        return self.events.setdefault(name, asyncio.Event())

    def note(self, name: str, value: Any) -> None:
        self.seen[name] = value
        self.event(name).set()

    async def wait(self, name: str) -> Any:
        await self.event(name).wait()
        return self.seen[name]


def jsonable_scope(scope: Scope) -> dict[str, Any]:
    """The parts of a scope worth comparing, as JSON-friendly values."""
    return {
        "type": scope["type"],
        "asgi": scope["asgi"],
        "http_version": scope["http_version"],
        "method": scope.get("method"),
        "scheme": scope["scheme"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode("latin1"),
        "query_string": scope["query_string"].decode("latin1"),
        "root_path": scope["root_path"],
        "headers": [
            [k.decode("latin1"), v.decode("latin1")] for k, v in scope["headers"]
        ],
        "client": list(scope["client"]),
        "server": list(scope["server"]),
        "state": sorted(scope["state"]),
        "extensions": sorted(scope.get("extensions") or {}),
    }


def make_starlette_app(rec: Recorder) -> Starlette:
    """A FastAPI-style Starlette application recording into ``rec``."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        rec.lifespan.append("startup")
        yield {"token": "from-lifespan"}
        rec.lifespan.append("shutdown")

    async def hello(request: Request) -> Response:
        return PlainTextResponse("Hello from Starlette")

    async def read_item(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        return JSONResponse({"item_id": item_id, "q": request.query_params.get("q")})

    async def create_item(request: Request) -> Response:
        try:
            item = await request.json()
        except ValueError:
            return JSONResponse({"detail": "invalid JSON"}, status_code=422)
        return JSONResponse({"created": item}, status_code=201)

    async def upload(request: Request) -> Response:
        sizes = [len(chunk) async for chunk in request.stream() if chunk]
        return JSONResponse({"chunks": len(sizes), "size": sum(sizes)})

    async def stream(request: Request) -> Response:
        count = int(request.query_params.get("n", "3"))
        size = int(request.query_params.get("size", "4"))

        async def pieces() -> AsyncIterator[bytes]:
            for index in range(count):
                yield str(index % 10).encode() * size

        return StreamingResponse(pieces(), media_type="text/plain")

    async def forever(request: Request) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            while True:
                yield b"x" * 65536

        return StreamingResponse(pieces(), media_type="text/plain")

    async def scope_info(request: Request) -> Response:
        return JSONResponse(jsonable_scope(request.scope))

    async def state(request: Request) -> Response:
        return JSONResponse({"token": request.state.token})

    async def url_for(request: Request) -> Response:
        return PlainTextResponse(str(request.url_for("item", item_id=3)))

    async def ws_echo(websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        await websocket.accept(subprotocol="chat" if "chat" in offered else None)
        rec.note("ws_scope", jsonable_scope(websocket.scope))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    rec.note("ws_disconnect", [message["code"], message.get("reason")])
                    return
                if message.get("bytes") is not None:
                    await websocket.send_bytes(message["bytes"])
                elif message["text"] == "bye":
                    await websocket.close(code=4001, reason="done")
                    return
                else:
                    await websocket.send_text("echo: " + message["text"])
        except WebSocketDisconnect as e:
            rec.note("ws_disconnect", [e.code, e.reason])

    async def ws_reject(websocket: WebSocket) -> None:
        await websocket.close(code=1008)

    async def ws_deny(websocket: WebSocket) -> None:
        await websocket.send_denial_response(
            PlainTextResponse("members only", status_code=401)
        )

    async def ws_crash(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise RuntimeError("broken WebSocket endpoint")

    async def ws_silent(websocket: WebSocket) -> None:
        pass

    return Starlette(
        routes=[
            Route("/", hello),
            Route("/items/{item_id:int}", read_item, name="item"),
            Route("/items", create_item, methods=["POST"]),
            Route("/upload", upload, methods=["POST", "PUT"]),
            Route("/stream", stream),
            Route("/forever", forever),
            Route("/scope/{rest:path}", scope_info),
            Route("/state", state),
            Route("/url_for", url_for),
            WebSocketRoute("/ws", ws_echo),
            WebSocketRoute("/ws_reject", ws_reject),
            WebSocketRoute("/ws_deny", ws_deny),
            WebSocketRoute("/ws_crash", ws_crash),
            WebSocketRoute("/ws_silent", ws_silent),
        ],
        lifespan=lifespan,
    )


def raw_endpoints(rec: Recorder) -> dict[str, RawEndpoint]:
    """ASGI endpoints misbehaving (or behaving) in ways Starlette won't."""

    async def start(send: Send, **extra: Any) -> None:
        headers = [(b"content-type", b"text/plain")]
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers, **extra}
        )

    async def crash_before(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("broken before responding")

    async def crash_after(scope: Scope, receive: Receive, send: Send) -> None:
        await start(send)
        await send(
            {"type": "http.response.body", "body": b"partial", "more_body": True}
        )
        raise RuntimeError("broken while responding")

    async def no_response(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    async def start_only(scope: Scope, receive: Receive, send: Send) -> None:
        await start(send)

    async def trailers(scope: Scope, receive: Receive, send: Send) -> None:
        rec.note("extensions", sorted(scope["extensions"]))
        await start(send, trailers=True)
        await send({"type": "http.response.body", "body": b"body", "more_body": False})
        await send(
            {
                "type": "http.response.trailers",
                "headers": [(b"x-sum", b"1")],
                "more_trailers": False,
            }
        )
        rec.note("trailers_sent", True)

    async def chunks(scope: Scope, receive: Receive, send: Send) -> None:
        messages = []
        while True:
            message = await receive()
            messages.append([len(message["body"]), message["more_body"]])
            if not message["more_body"]:
                break
        await start(send)
        await send(
            {"type": "http.response.body", "body": json.dumps(messages).encode()}
        )

    async def slow_reader(scope: Scope, receive: Receive, send: Send) -> None:
        first = await receive()
        rec.note("first_chunk", first["body"])
        await rec.release.wait()
        rest = await receive()
        await start(send)
        await send({"type": "http.response.body", "body": first["body"] + rest["body"]})

    async def wait_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["more_body"]:
            pass
        rec.note("parked", True)
        rec.note("after_body", (await receive())["type"])

    async def after_response(scope: Scope, receive: Receive, send: Send) -> None:
        await start(send)
        await send({"type": "http.response.body", "body": b"done"})
        rec.note("after_response", (await receive())["type"])

    return {
        "crash_before": crash_before,
        "crash_after": crash_after,
        "no_response": no_response,
        "start_only": start_only,
        "trailers": trailers,
        "chunks": chunks,
        "slow_reader": slow_reader,
        "wait_disconnect": wait_disconnect,
        "after_response": after_response,
    }


class Dispatcher:
    """``/raw/NAME`` goes to a raw endpoint, the rest to the Starlette app."""

    def __init__(self, rec: Recorder, root_path: str = "") -> None:
        self.rec = rec
        self.starlette = make_starlette_app(rec)
        self.raw = raw_endpoints(rec)
        self.prefix = root_path + "/raw/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        try:
            if scope["type"] == "http" and path.startswith(self.prefix):
                await self.raw[path[len(self.prefix) :]](scope, receive, send)
            else:
                await self.starlette(scope, receive, send)
        except Exception as e:
            self.rec.note(f"raised {path}", e)
            raise
        self.rec.note(f"returned {path}", True)


class ContainerTestCase(QuietAccessLog, AsyncHTTPTestCase):
    """Serves the test application in an `ASGIContainer`, lifespan included."""

    def get_http_client(self) -> SimpleAsyncHTTPClient:
        # The server side is under test; the simple client can stream request
        # bodies (body_producer), whichever client the run configures.
        client: SimpleAsyncHTTPClient = SimpleAsyncHTTPClient(force_instance=True)
        return client

    def get_app(self) -> Any:
        self.rec = Recorder()
        self.container = ASGIContainer(Dispatcher(self.rec))
        return self.container

    def setUp(self) -> None:
        super().setUp()
        self.io_loop.run_sync(self.container.startup)

    def tearDown(self) -> None:
        self.io_loop.run_sync(self.container.shutdown)
        super().tearDown()

    async def fetch_json(self, path: str, **kwargs: Any) -> Any:
        response = await self.http_client.fetch(self.get_url(path), **kwargs)
        return json.loads(response.body)

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.get_http_port()}{path}"

    async def raw_exchange(self, data: bytes) -> IOStream:
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        await stream.write(data)
        return stream


class RoutingTest(ContainerTestCase):
    @gen_test
    async def test_hello(self) -> None:
        response = await self.http_client.fetch(self.get_url("/"))
        self.assertEqual(response.body, b"Hello from Starlette")
        self.assertEqual(response.headers["Content-Length"], "20")
        self.assertEqual(response.headers["Content-Type"], "text/plain; charset=utf-8")
        self.assertTrue(response.headers["Server"].startswith("TornadoServer/"))
        self.assertIn("Date", response.headers)

    @gen_test
    async def test_path_parameters_and_query(self) -> None:
        data = await self.fetch_json("/items/42?q=fast")
        self.assertEqual(data, {"item_id": 42, "q": "fast"})

    @gen_test
    async def test_json_body_and_status(self) -> None:
        response = await self.http_client.fetch(
            self.get_url("/items"), method="POST", body=json.dumps({"name": "x"})
        )
        self.assertEqual(response.code, 201)
        self.assertEqual(json.loads(response.body), {"created": {"name": "x"}})
        response = await self.http_client.fetch(
            self.get_url("/items"), method="POST", body="{not json", raise_error=False
        )
        self.assertEqual(response.code, 422)

    @gen_test
    async def test_unknown_route_and_method(self) -> None:
        response = await self.http_client.fetch(
            self.get_url("/nowhere"), raise_error=False
        )
        self.assertEqual((response.code, response.body), (404, b"Not Found"))
        response = await self.http_client.fetch(
            self.get_url("/items/1"), method="DELETE", raise_error=False
        )
        self.assertEqual(response.code, 405)

    @gen_test
    async def test_head(self) -> None:
        response = await self.http_client.fetch(self.get_url("/"), method="HEAD")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["Content-Length"], "20")

    @gen_test
    async def test_lifespan_state_reaches_requests(self) -> None:
        self.assertEqual(await self.fetch_json("/state"), {"token": "from-lifespan"})

    @gen_test
    async def test_httpx_client(self) -> None:
        async with httpx.AsyncClient(base_url=self.get_url("")) as client:
            response = await client.get("/items/7", params={"q": "x y"})
            self.assertEqual(response.json(), {"item_id": 7, "q": "x y"})
            response = await client.post("/items", json={"a": [1, 2]})
            self.assertEqual(response.status_code, 201)
            self.assertEqual(response.json(), {"created": {"a": [1, 2]}})
            # The same keep-alive connection served both requests.
            self.assertEqual(response.http_version, "HTTP/1.1")

    def test_access_log(self) -> None:
        with ExpectLog(
            access_log, r"200 GET /items/1 \(127\.0\.0\.1\) ", level=logging.INFO
        ):
            self.fetch("/items/1")
        with ExpectLog(access_log, "404 GET /nowhere ", level=logging.WARNING):
            self.fetch("/nowhere")


class ScopeTest(ContainerTestCase):
    @gen_test
    async def test_http_scope_is_complete(self) -> None:
        scope = await self.fetch_json(
            "/scope/caf%C3%A9/x?a=1&b=%20", headers={"X-Custom": "yes"}
        )
        port = self.get_http_port()
        self.assertEqual(scope["type"], "http")
        self.assertEqual(scope["asgi"], {"version": "3.0", "spec_version": "2.4"})
        self.assertEqual(scope["http_version"], "1.1")
        self.assertEqual(scope["method"], "GET")
        self.assertEqual(scope["scheme"], "http")
        self.assertEqual(scope["path"], "/scope/caf\u00e9/x")
        self.assertEqual(scope["raw_path"], "/scope/caf%C3%A9/x")
        self.assertEqual(scope["query_string"], "a=1&b=%20")
        self.assertEqual(scope["root_path"], "")
        self.assertIn(["x-custom", "yes"], scope["headers"])
        self.assertIn(["host", f"127.0.0.1:{port}"], scope["headers"])
        self.assertTrue(all(name == name.lower() for name, _ in scope["headers"]))
        self.assertEqual(scope["client"][0], "127.0.0.1")
        self.assertGreater(scope["client"][1], 0)
        self.assertEqual(scope["server"], ["127.0.0.1", port])
        self.assertEqual(scope["state"], ["token"])
        self.assertEqual(scope["extensions"], [])

    @gen_test
    async def test_websocket_scope(self) -> None:
        conn = await websocket_connect(
            self.ws_url("/ws?k=v"), subprotocols=["x", "chat"]
        )
        scope = await self.rec.wait("ws_scope")
        conn.close()
        self.assertEqual(scope["type"], "websocket")
        self.assertEqual(scope["scheme"], "ws")
        self.assertEqual(scope["path"], "/ws")
        self.assertEqual(scope["query_string"], "k=v")
        self.assertEqual(scope["extensions"], ["websocket.http.response"])
        self.assertEqual(scope["state"], ["token"])


class XHeadersTest(ContainerTestCase):
    def get_httpserver_options(self) -> dict[str, Any]:
        return {"xheaders": True}

    @gen_test
    async def test_scheme_and_client_from_proxy_headers(self) -> None:
        headers = {"X-Forwarded-For": "203.0.113.9", "X-Scheme": "https"}
        scope = await self.fetch_json("/scope/x", headers=headers)
        self.assertEqual(scope["client"], ["203.0.113.9", 0])
        self.assertEqual(scope["scheme"], "https")
        plain = await self.fetch_json("/scope/x")
        self.assertEqual(plain["client"][0], "127.0.0.1")
        self.assertEqual(plain["scheme"], "http")


class StreamingTest(ContainerTestCase):
    @gen_test
    async def test_streamed_response_is_chunked(self) -> None:
        response = await self.http_client.fetch(self.get_url("/stream?n=5&size=3"))
        self.assertEqual(response.body, b"000111222333444")
        self.assertEqual(response.headers["Transfer-Encoding"], "chunked")
        self.assertNotIn("Content-Length", response.headers)

    @gen_test
    async def test_streamed_response_arrives_piece_by_piece(self) -> None:
        pieces: list[bytes] = []
        await self.http_client.fetch(
            self.get_url("/stream?n=4&size=100000"), streaming_callback=pieces.append
        )
        self.assertEqual(
            b"".join(pieces), b"".join(bytes([48 + i]) * 100000 for i in range(4))
        )
        self.assertGreater(len(pieces), 1)

    @gen_test
    async def test_request_body_is_streamed_to_receive(self) -> None:
        size = 3 * 1024 * 1024

        async def produce(write: Callable[[bytes], Awaitable[None]]) -> None:
            for _ in range(size // 65536):
                await write(b"z" * 65536)

        response = await self.http_client.fetch(
            HTTPRequest(self.get_url("/upload"), method="PUT", body_producer=produce)
        )
        data = json.loads(response.body)
        self.assertEqual(data["size"], size)
        self.assertGreater(data["chunks"], 1)  # not gathered into one message

    @gen_test
    async def test_receive_messages_and_more_body(self) -> None:
        response = await self.http_client.fetch(
            self.get_url("/raw/chunks"), method="POST", body=b"abc"
        )
        messages = json.loads(response.body)
        self.assertEqual(sum(size for size, _ in messages), 3)
        self.assertEqual(messages[-1][1], False)
        self.assertTrue(all(more for _, more in messages[:-1]))
        response = await self.http_client.fetch(self.get_url("/raw/chunks"))
        self.assertEqual(json.loads(response.body), [[0, False]])

    @gen_test
    async def test_httpx_streams_both_ways(self) -> None:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(20):
                yield b"q" * 10000

        async with httpx.AsyncClient(base_url=self.get_url("")) as client:
            response = await client.post("/upload", content=body())
            self.assertEqual(response.json()["size"], 200000)
            async with client.stream("GET", "/stream?n=6&size=50000") as streamed:
                received = [chunk async for chunk in streamed.aiter_bytes()]
            self.assertEqual(sum(map(len, received)), 300000)


class BackpressureTest(ContainerTestCase):
    """The container reads the body only as fast as the application takes it."""

    @gen_test
    async def test_data_received_waits_for_receive(self) -> None:
        connection = RecordingConnection()
        delegate = self.container.start_request(object(), connection)
        start = httputil.RequestStartLine("POST", "/raw/slow_reader", "HTTP/1.1")
        headers = httputil.HTTPHeaders({"Content-Length": "6", "Host": "x"})
        self.assertIsNone(delegate.headers_received(start, headers))
        first = delegate.data_received(b"abc")
        assert first is not None
        await first  # the application called receive()
        self.assertEqual(await self.rec.wait("first_chunk"), b"abc")
        second = delegate.data_received(b"def")
        assert second is not None
        await asyncio.sleep(0)
        # The application has not asked for it yet.
        self.assertFalse(asyncio.ensure_future(second).done())
        delegate.finish()
        self.rec.release.set()
        await second
        await connection.finished
        self.assertEqual(connection.body, b"abcdef")


class RecordingConnection(httputil.HTTPConnection):
    """An `HTTPConnection` keeping what is written, for delegate-level tests."""

    def __init__(self) -> None:
        self.body = b""
        self.finished: Future[None] = Future()
        self.start_line: httputil.ResponseStartLine | None = None

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        assert isinstance(start_line, httputil.ResponseStartLine)
        self.start_line = start_line
        return self.write(chunk or b"")

    def write(self, chunk: bytes) -> Future[None]:
        self.body += chunk
        done: Future[None] = Future()
        done.set_result(None)
        return done

    def finish(self) -> None:
        self.finished.set_result(None)


class DisconnectTest(ContainerTestCase):
    @gen_test
    async def test_http_disconnect_when_the_client_leaves(self) -> None:
        stream = await self.raw_exchange(
            b"POST /raw/wait_disconnect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        )
        await self.rec.wait("parked")
        stream.close()
        self.assertEqual(await self.rec.wait("after_body"), "http.disconnect")

    @gen_test
    async def test_endless_stream_stops_when_the_client_leaves(self) -> None:
        stream = await self.raw_exchange(b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
        await stream.read_until(b"\r\n\r\n")
        await stream.read_bytes(65536, partial=True)
        stream.close()
        # Starlette turns the OSError of send() into ClientDisconnect; the
        # container logs nothing about it.
        error = await self.rec.wait("raised /forever")
        self.assertEqual(type(error).__name__, "ClientDisconnect")

    @gen_test
    async def test_disconnect_once_the_response_is_sent(self) -> None:
        response = await self.http_client.fetch(self.get_url("/raw/after_response"))
        self.assertEqual(response.body, b"done")
        self.assertEqual(await self.rec.wait("after_response"), "http.disconnect")


class ErrorTest(ContainerTestCase):
    def test_exception_before_response_is_500_logged_once(self) -> None:
        with counting(app_log) as counter:
            with ExpectLog(
                app_log,
                "Uncaught exception in ASGI application: GET /raw/crash_before",
                level=logging.ERROR,
            ) as log:
                with ExpectLog(access_log, "500 GET", level=logging.ERROR):
                    response = self.fetch("/raw/crash_before")
        self.assertEqual(response.code, 500)
        self.assertIn(b"500: Internal Server Error", response.body)
        self.assertEqual(len(counter.records), 1)
        self.assertTrue(log.logged_stack)

    def test_exception_after_response_started_closes(self) -> None:
        with ExpectLog(
            app_log, "Uncaught exception in ASGI application", level=logging.ERROR
        ):
            with self.assertRaises(HTTPStreamClosedError):  # the body never ended
                self.fetch("/raw/crash_after")

    def test_no_response_is_500(self) -> None:
        for path in ("/raw/no_response", "/raw/start_only"):
            with self.subTest(path=path):
                with ExpectLog(
                    app_log,
                    "ASGI application returned without sending a response",
                    level=logging.ERROR,
                ):
                    with ExpectLog(access_log, "500 GET", level=logging.ERROR):
                        response = self.fetch(path)
                self.assertEqual(response.code, 500)

    def test_trailers_are_refused_politely(self) -> None:
        response = self.fetch("/raw/trailers", headers={"TE": "trailers"})
        self.assertEqual((response.code, response.body), (200, b"body"))
        self.assertNotIn("X-Sum", response.headers)
        self.assertTrue(self.rec.seen["trailers_sent"])
        self.assertNotIn("http.response.trailers", self.rec.seen["extensions"])


class WebSocketTest(ContainerTestCase):
    @gen_test
    async def test_echo_text_and_binary(self) -> None:
        conn = await websocket_connect(self.ws_url("/ws"))
        await conn.write_message("hello")
        self.assertEqual(await conn.read_message(), "echo: hello")
        await conn.write_message(b"\x00\xff", binary=True)
        self.assertEqual(await conn.read_message(), b"\x00\xff")
        conn.close(4002, "client done")
        self.assertEqual(await self.rec.wait("ws_disconnect"), [4002, "client done"])

    @gen_test
    async def test_subprotocol(self) -> None:
        conn = await websocket_connect(self.ws_url("/ws"), subprotocols=["x", "chat"])
        self.assertEqual(conn.selected_subprotocol, "chat")
        conn.close()
        plain = await websocket_connect(self.ws_url("/ws"))
        self.assertIsNone(plain.selected_subprotocol)
        plain.close()

    @gen_test
    async def test_server_close_code(self) -> None:
        conn = await websocket_connect(self.ws_url("/ws"))
        await conn.write_message("bye")
        self.assertIsNone(await conn.read_message())
        self.assertEqual((conn.close_code, conn.close_reason), (4001, "done"))
        conn.close()

    @gen_test
    async def test_close_before_accept_is_403(self) -> None:
        with self.assertRaises(Exception) as raised:
            await websocket_connect(self.ws_url("/ws_reject"))
        self.assertEqual(getattr(raised.exception, "code", None), 403)

    @gen_test
    async def test_denial_response(self) -> None:
        with self.assertRaises(Exception) as raised:
            await websocket_connect(self.ws_url("/ws_deny"))
        self.assertEqual(getattr(raised.exception, "code", None), 401)
        response = getattr(raised.exception, "response", None)
        self.assertEqual(getattr(response, "body", None), b"members only")

    @gen_test
    async def test_exception_after_accept_closes_1011(self) -> None:
        conn = await websocket_connect(self.ws_url("/ws_crash"))
        with ExpectLog(
            app_log,
            "Uncaught exception in ASGI application: WebSocket /ws_crash",
            level=logging.ERROR,
        ):
            await conn.write_message("anything")
            self.assertIsNone(await conn.read_message())
        self.assertEqual(conn.close_code, 1011)
        conn.close()

    @gen_test
    async def test_returning_without_accepting_is_500(self) -> None:
        with ExpectLog(
            app_log, "ASGI application returned without accepting", level=logging.ERROR
        ):
            with self.assertRaises(HTTPClientError) as raised:
                await websocket_connect(self.ws_url("/ws_silent"))
        self.assertEqual(raised.exception.code, 500)

    @gen_test
    async def test_client_disconnect_without_close(self) -> None:
        conn = await websocket_connect(self.ws_url("/ws"))
        await conn.write_message("x")
        await conn.read_message()
        conn.close()
        code, _ = await self.rec.wait("ws_disconnect")
        self.assertEqual(code, 1005)  # a close frame without a code


class LifespanTest(QuietAccessLog, AsyncHTTPTestCase):
    def get_app(self) -> Any:
        self.rec = Recorder()
        self.container = ASGIContainer(Dispatcher(self.rec))
        return self.container

    @gen_test
    async def test_startup_and_shutdown_run_once_around_serving(self) -> None:
        self.assertEqual(self.rec.lifespan, [])
        async with self.container:
            self.assertEqual(self.rec.lifespan, ["startup"])
            response = await self.http_client.fetch(self.get_url("/state"))
            self.assertEqual(json.loads(response.body), {"token": "from-lifespan"})
            self.assertEqual(self.rec.lifespan, ["startup"])
        self.assertEqual(self.rec.lifespan, ["startup", "shutdown"])
        with self.assertRaises(RuntimeError):
            await self.container.startup()

    @gen_test
    async def test_failing_startup_is_reported(self) -> None:
        async def connect_database() -> None:
            raise ValueError("no database")

        @contextlib.asynccontextmanager
        async def broken(app: Starlette) -> AsyncIterator[None]:
            await connect_database()
            yield

        container = ASGIContainer(Starlette(lifespan=broken))
        with self.assertRaises(LifespanError) as raised:
            await container.startup()
        self.assertIn("startup failed", str(raised.exception))
        self.assertIn("no database", str(raised.exception))

    @gen_test
    async def test_failing_shutdown_is_reported(self) -> None:
        @contextlib.asynccontextmanager
        async def broken(app: Starlette) -> AsyncIterator[None]:
            yield
            raise ValueError("could not flush")

        container = ASGIContainer(Starlette(lifespan=broken))
        await container.startup()
        with self.assertRaises(LifespanError) as raised:
            await container.shutdown()
        self.assertIn("could not flush", str(raised.exception))

    @gen_test
    async def test_app_without_lifespan_is_served(self) -> None:
        async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
            assert scope["type"] == "http", "only HTTP here"
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"plain"})

        container = ASGIContainer(http_only)
        await container.startup()
        self.http_server.request_callback = container
        response = await self.http_client.fetch(self.get_url("/"))
        self.assertEqual(response.body, b"plain")
        await container.shutdown()


class TornadoHandler(RequestHandler):
    def get(self) -> None:
        self.write("tornado here")


class FallbackMountTest(QuietAccessLog, AsyncHTTPTestCase):
    """A Starlette app mounted under /api beside Tornado handlers."""

    def get_app(self) -> Application:
        self.rec = Recorder()
        self.container = ASGIContainer(Dispatcher(self.rec, "/api"), root_path="/api")
        return Application(
            [
                ("/tornado", TornadoHandler),
                (r"/api(/.*)?", FallbackHandler, {"fallback": self.container}),
            ]
        )

    @gen_test
    async def test_routes_under_the_prefix(self) -> None:
        response = await self.http_client.fetch(self.get_url("/api/items/5?q=z"))
        self.assertEqual(json.loads(response.body), {"item_id": 5, "q": "z"})
        response = await self.http_client.fetch(self.get_url("/tornado"))
        self.assertEqual(response.body, b"tornado here")
        response = await self.http_client.fetch(
            self.get_url("/api/items"), method="POST", body='{"b": 1}'
        )
        self.assertEqual(json.loads(response.body), {"created": {"b": 1}})

    @gen_test
    async def test_root_path_in_scope_and_urls(self) -> None:
        response = await self.http_client.fetch(self.get_url("/api/scope/a"))
        scope = json.loads(response.body)
        self.assertEqual((scope["root_path"], scope["path"]), ("/api", "/api/scope/a"))
        response = await self.http_client.fetch(self.get_url("/api/url_for"))
        self.assertEqual(response.body.decode(), self.get_url("/api/items/3"))

    @gen_test
    async def test_outside_the_root_path_is_404(self) -> None:
        container = ASGIContainer(Dispatcher(self.rec), root_path="/elsewhere")
        self.http_server.request_callback = container
        response = await self.http_client.fetch(
            self.get_url("/items/1"), raise_error=False
        )
        self.assertEqual(response.code, 404)

    @gen_test
    async def test_websocket_through_the_fallback(self) -> None:
        url = f"ws://127.0.0.1:{self.get_http_port()}/api/ws"
        conn = await websocket_connect(url)
        await conn.write_message("mounted")
        self.assertEqual(await conn.read_message(), "echo: mounted")
        conn.close()
