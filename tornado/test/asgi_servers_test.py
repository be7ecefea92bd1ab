"""A Tornado application under real ASGI servers: uvicorn and hypercorn processes.

Each test class starts its server once (``python -m uvicorn
tornado.test.asgi_handlers:asgi_app`` and the hypercorn equivalent, on a
port the server picks itself), and stops it at the end, checking that the
lifespan shutdown hook ran.  The handlers of ``asgi_handlers`` are driven
by this package's HTTP and WebSocket clients; HTTP/2 through hypercorn by
``httpx``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar

from tornado.httpclient import (
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
)
from tornado.iostream import IOStream
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.test.asgi_handlers import ANNOUNCE_HOOKS
from tornado.test.asgi_util import (
    QuietAccessLog,
    ServerProcess,
    missing_dependency,
    python_module_command,
)
from tornado.testing import AsyncTestCase, gen_test
from tornado.websocket import websocket_connect

try:
    import h2  # noqa: F401  (httpx's HTTP/2 support)
    import httptools  # noqa: F401  (uvicorn's fast parser)
    import httpx
    import hypercorn  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as e:  # development dependencies: fail loudly, never skip
    raise missing_dependency(e) from e

APP = "tornado.test.asgi_handlers:asgi_app"
#: Seconds a test against a server process may take.
TEST_TIMEOUT = 20.0


if TYPE_CHECKING:
    _TestCase = AsyncTestCase
else:
    _TestCase = object  # a mixin: no test runner is to collect it alone


class ServedApplicationTests(QuietAccessLog, _TestCase):
    """The handler set of ``asgi_handlers``, served by ``server_command``."""

    server_command: ClassVar[list[str]]
    server: ClassVar[ServerProcess]
    port: ClassVar[int]
    #: The event loop class the server runs the application on.
    expected_loop: ClassVar[str]
    #: Whether the server tells the application the close code a client sent.
    reports_client_close_code: ClassVar[bool] = True

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = ServerProcess(cls.server_command, {ANNOUNCE_HOOKS: "1"})
        cls.port = cls.server.start()

    @classmethod
    def tearDownClass(cls) -> None:
        output = cls.server.stop()
        super().tearDownClass()
        if "asgi_handlers: shutdown hook ran" not in output:
            raise AssertionError(f"the lifespan shutdown hook did not run:\n{output}")

    def setUp(self) -> None:
        super().setUp()
        # The servers are under test; the simple client streams request bodies.
        self.http_client = SimpleAsyncHTTPClient(force_instance=True)

    def tearDown(self) -> None:
        self.http_client.close()
        super().tearDown()

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def fetch(self, path: str, **kwargs: Any) -> HTTPResponse:
        kwargs.setdefault("follow_redirects", False)
        kwargs.setdefault("raise_error", False)
        if "body" in kwargs and "method" not in kwargs:
            kwargs["method"] = "POST"
        response: HTTPResponse = await self.http_client.fetch(self.url(path), **kwargs)
        return response

    async def fetch_json(self, path: str, **kwargs: Any) -> Any:
        response = await self.fetch(path, **kwargs)
        self.assertEqual(response.code, 200, response.body)
        return json.loads(response.body)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_lifespan_and_event_loop(self) -> None:
        output = self.server.text()
        self.assertLess(
            output.index("asgi_handlers: startup hook ran"),
            output.lower().index("running on http://"),
        )
        info = await self.fetch_json("/info")
        self.assertEqual(info["lifespan"], ["startup"])
        self.assertTrue(info["current_is_running_loop"])
        self.assertEqual(info["loop"], self.expected_loop)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_hello_and_writes(self) -> None:
        response = await self.fetch("/hello")
        self.assertEqual((response.code, response.body), (200, b"Hello, world"))
        self.assertEqual(response.headers["Content-Length"], "12")
        self.assertEqual(response.headers["Content-Type"], "text/html; charset=UTF-8")
        self.assertEqual(len(response.headers.get_list("Date")), 1)
        self.assertEqual(len(response.headers.get_list("Server")), 1)
        self.assertEqual((await self.fetch("/write/bytes")).body, b"\xe2\x82\xac bytes")
        self.assertEqual((await self.fetch("/write/several")).body, b"abc")
        response = await self.fetch("/write/dict")
        self.assertEqual(json.loads(response.body), {"a": [1, 2], "b": "\u20ac"})
        self.assertEqual(
            response.headers["Content-Type"], "application/json; charset=UTF-8"
        )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_arguments_and_paths(self) -> None:
        self.assertEqual(await self.fetch_json("/args?x=1&x=2"), {"x": ["1", "2"]})
        self.assertEqual(
            await self.fetch_json("/args?x=q", body="x=b"),
            {"query": ["q"], "body": ["b"]},
        )
        self.assertEqual(
            await self.fetch_json("/path/a%20b/c%2Fd/%E2%82%AC"),
            {"args": ["a b", "c/d/\u20ac"]},
        )
        self.assertEqual(
            await self.fetch_json("/lifecycle"),
            {"events": ["initialize L", "prepare", "get"]},
        )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_methods_and_statuses(self) -> None:
        self.assertEqual(
            (await self.fetch("/methods", method="PUT", body="x")).body, b"PUT x"
        )
        response = await self.fetch(
            "/methods", method="PROPFIND", allow_nonstandard_methods=True
        )
        self.assertEqual(response.body, b"PROPFIND")
        response = await self.fetch("/methods", method="HEAD")
        self.assertEqual(
            (response.code, response.headers["Content-Length"]), (200, "3")
        )
        self.assertEqual((await self.fetch("/methods", method="DELETE")).code, 204)
        response = await self.fetch("/hello", method="POST", body="")
        self.assertEqual((response.code, response.headers["Allow"]), (405, "GET"))
        response = await self.fetch("/status?code=201")
        self.assertEqual((response.code, response.body), (201, b"body"))
        response = await self.fetch("/nowhere")
        self.assertEqual(response.code, 404)
        self.assertIn(b"404: Not Found", response.body)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_forms_and_files(self) -> None:
        boundary = "XyZ"
        body = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="a"\r\n\r\nfield\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="up"; filename="f.txt"\r\n'
            "Content-Type: text/plain\r\n\r\ncontent\r\n"
            f"--{boundary}--\r\n"
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        self.assertEqual(
            await self.fetch_json("/form", body=body, headers=headers),
            {"args": ["field"], "files": {"up": ["f.txt"]}},
        )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_headers_cookies_redirects(self) -> None:
        response = await self.fetch("/headers")
        self.assertEqual(response.headers.get_list("X-Multi"), ["one", "two"])
        self.assertEqual(response.headers["X-Int"], "42")
        response = await self.fetch("/cookie/set")
        cookies = response.headers.get_list("Set-Cookie")
        self.assertEqual(cookies[0], "plain=value; Path=/")
        self.assertIn("HttpOnly", cookies[1])
        response = await self.fetch("/cookie/read", headers={"Cookie": "a=1; b=2"})
        self.assertEqual(json.loads(response.body), {"a": "1", "z": "dflt"})
        signed = (
            (await self.fetch("/cookie/signed")).headers["Set-Cookie"].split(";")[0]
        )
        self.assertEqual(
            await self.fetch_json("/cookie/read_signed", headers={"Cookie": signed}),
            {"session": "user"},
        )
        response = await self.fetch("/redirect")
        self.assertEqual((response.code, response.headers["Location"]), (302, "/hello"))
        response = await self.fetch("/redirect?permanent=1")
        self.assertEqual(response.code, 301)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_xsrf(self) -> None:
        response = await self.fetch("/xsrf")
        token = json.loads(response.body)["token"]
        cookie = response.headers["Set-Cookie"].split(";")[0]
        self.assertEqual((await self.fetch("/xsrf", body="")).code, 403)
        body = urllib.parse.urlencode({"_xsrf": token})
        response = await self.fetch("/xsrf", body=body, headers={"Cookie": cookie})
        self.assertEqual((response.code, response.body), (200, b"accepted"))

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_errors(self) -> None:
        response = await self.fetch("/error?kind=crash")
        self.assertEqual(response.code, 500)
        self.assertIn(b"500: Internal Server Error", response.body)
        self.assertNotIn(b"boom", response.body)
        self.assertEqual((await self.fetch("/error?kind=http")).code, 418)
        self.assertEqual((await self.fetch("/error?kind=missing")).code, 400)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_static_files(self) -> None:
        response = await self.fetch("/static/robots.txt")
        self.assertEqual(response.body, b"User-agent: *\nDisallow: /\n")
        etag = response.headers["Etag"]
        cached = await self.fetch("/static/robots.txt", headers={"If-None-Match": etag})
        self.assertEqual((cached.code, cached.body), (304, b""))
        partial = await self.fetch("/static/robots.txt", headers={"Range": "bytes=0-9"})
        self.assertEqual((partial.code, partial.body), (206, b"User-agent"))

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_flush_streams_chunks(self) -> None:
        pieces: list[bytes] = []
        response = await self.fetch(
            "/flush?count=4&size=100000", streaming_callback=pieces.append
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(
            b"".join(pieces), b"".join(str(i).encode() * 100000 for i in range(4))
        )
        self.assertGreater(len(pieces), 1)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_streamed_request_body(self) -> None:
        async def produce(write: Any) -> None:
            for _ in range(16):
                await write(b"z" * 65536)

        request = HTTPRequest(
            self.url("/stream_body"), method="PUT", body_producer=produce
        )
        data = json.loads((await self.http_client.fetch(request)).body)
        self.assertEqual(data["size"], 16 * 65536)
        self.assertGreater(data["chunks"], 1)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_long_poll_released_by_another_request(self) -> None:
        name = f"lp{id(self)}"
        waiting = asyncio.ensure_future(self.fetch(f"/longpoll/wait/{name}"))
        self.assertEqual(
            await self.fetch_json(f"/longpoll/parked/{name}"), {"parked": True}
        )
        self.assertFalse(waiting.done())
        await self.fetch(f"/longpoll/release/{name}")
        self.assertEqual((await waiting).body, f"released {name}".encode())

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_client_leaving_calls_on_connection_close(self) -> None:
        name = f"gone{id(self)}"
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.port))
        await stream.write(
            f"GET /longpoll/wait/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        await self.fetch_json(f"/longpoll/parked/{name}")
        stream.close()
        self.assertEqual(
            await self.fetch_json(f"/longpoll/closed/{name}"), {"closed": True}
        )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_bridge_limits_fail_loudly(self) -> None:
        self.assertEqual((await self.fetch("/limits/detach")).code, 500)
        error = await self.fetch_json("/limits/stream")
        self.assertIn("does not exist under an ASGI server", error["message"])

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_websocket_echo(self) -> None:
        name = f"ws{id(self)}"
        conn = await websocket_connect(
            self.url(f"/ws/{name}", "ws"), subprotocols=["chat"]
        )
        self.assertEqual(conn.selected_subprotocol, "chat")
        await conn.write_message("hello")
        self.assertEqual(await conn.read_message(), "echo: hello")
        await conn.write_message(b"\x00\xff" * 1000, binary=True)
        self.assertEqual(await conn.read_message(), b"\x00\xff" * 1000)
        await conn.write_message("ping")
        reply = await conn.read_message()
        self.assertIsInstance(reply, str)
        self.assertIn("pings cannot be sent through ASGI", str(reply))
        await conn.write_message("close")
        self.assertIsNone(await conn.read_message())
        self.assertEqual((conn.close_code, conn.close_reason), (4000, "asked to"))
        conn.close()
        record = await self.fetch_json(f"/ws_record/{name}")
        self.assertEqual((record["closed"], record["close_code"]), (True, 4000))

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_websocket_client_close_code(self) -> None:
        name = f"wsc{id(self)}"
        conn = await websocket_connect(self.url(f"/ws/{name}", "ws"))
        await conn.write_message("x")
        await conn.read_message()
        conn.close(4002, "client done")
        record = await self.fetch_json(f"/ws_record/{name}")
        self.assertTrue(record["closed"])
        if self.reports_client_close_code:
            self.assertEqual(
                (record["close_code"], record["close_reason"]), (4002, "client done")
            )
        else:
            # The server reports 1006 (abnormal closure) for any client
            # close: no close code reached the application.
            self.assertEqual(
                (record["close_code"], record["close_reason"]), (None, None)
            )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_websocket_refused_across_origins(self) -> None:
        request = HTTPRequest(
            self.url("/ws_same_origin", "ws"),
            headers={"Origin": "http://elsewhere.example"},
        )
        with self.assertRaises(HTTPClientError) as raised:
            await websocket_connect(request)
        self.assertEqual(raised.exception.code, 403)


class UvicornTest(ServedApplicationTests, AsyncTestCase):
    server_command = python_module_command(
        "uvicorn",
        APP,
        "--host=127.0.0.1",
        "--port=0",
        "--loop=uvloop",
        "--http=h11",
        "--lifespan=on",
        "--log-level=info",
        "--no-access-log",
        "--timeout-graceful-shutdown=5",
    )
    expected_loop = "uvloop.Loop"


class UvicornHttptoolsTest(ServedApplicationTests, AsyncTestCase):
    """uvicorn with the httptools parser, as ``uvicorn[standard]`` runs."""

    server_command = python_module_command(
        "uvicorn",
        APP,
        "--host=127.0.0.1",
        "--port=0",
        "--loop=asyncio",
        "--http=httptools",
        "--lifespan=on",
        "--log-level=info",
        "--no-access-log",
        "--timeout-graceful-shutdown=5",
    )
    expected_loop = "asyncio.unix_events._UnixSelectorEventLoop"


class HypercornTest(ServedApplicationTests, AsyncTestCase):
    server_command = python_module_command(
        "hypercorn",
        APP,
        "--bind=127.0.0.1:0",
        "--log-level=info",
        "--graceful-timeout=5",
    )
    expected_loop = "asyncio.unix_events._UnixSelectorEventLoop"
    # hypercorn 0.18 reports every close by the client as 1006.
    reports_client_close_code = False

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_http2(self) -> None:
        # Prior knowledge on a plain connection (h2c), as hypercorn allows.
        async with httpx.AsyncClient(http1=False, http2=True) as client:
            response = await client.get(self.url("/info"))
            self.assertEqual(response.http_version, "HTTP/2")
            self.assertEqual(response.json()["version"], "HTTP/2")
            response = await client.get(self.url("/flush?count=3&size=2"))
            self.assertEqual(response.text, "001122")
            response = await client.put(self.url("/stream_body"), content=b"q" * 300000)
            self.assertEqual(response.json()["size"], 300000)
            response = await client.get(self.url("/headers"))
            self.assertEqual(response.headers.get_list("x-multi"), ["one", "two"])

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_http2_long_poll_on_one_connection(self) -> None:
        name = f"h2lp{id(self)}"
        async with httpx.AsyncClient(http1=False, http2=True) as client:
            waiting = asyncio.ensure_future(
                client.get(self.url(f"/longpoll/wait/{name}"))
            )
            parked = await client.get(self.url(f"/longpoll/parked/{name}"))
            self.assertEqual(parked.json(), {"parked": True})
            await client.get(self.url(f"/longpoll/release/{name}"))
            response = await waiting
            self.assertEqual(response.text, f"released {name}")
            self.assertEqual(response.http_version, "HTTP/2")
