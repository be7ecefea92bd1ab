"""A Tornado application for the ASGI tests: the handlers, and it as an ASGI app.

``asgi_app`` is what the test servers load (``uvicorn
tornado.test.asgi_handlers:asgi_app``); `make_application` builds a fresh
`Application` for in-process tests.  Its lifespan hooks print a line each to
stderr (when ``ANNOUNCE_HOOKS`` is set), which the server tests read.

Events that a test waits for (a long poll being parked, a connection being
closed) are kept by name in `EVENTS`, so that one request can wait for what
another caused without any sleeping.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from tornado import gen
from tornado.asgi import ASGIAdapter
from tornado.ioloop import IOLoop
from tornado.locks import Event
from tornado.web import (
    Application,
    HTTPError,
    RequestHandler,
    stream_request_body,
)
from tornado.websocket import WebSocketHandler

STATIC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
COOKIE_SECRET = "asgi test secret"
#: Environment variable: when set, the lifespan hooks say so on stderr.
ANNOUNCE_HOOKS = "TORNADO_ASGI_TEST_ANNOUNCE_HOOKS"
#: Seconds a handler waits for an event before answering "timeout".
EVENT_WAIT = 10.0

#: Named events: ``wait:NAME`` set when a long poll is parked, ``release:NAME``
#: to release it, ``closed:NAME`` when its connection closed, and so on.
EVENTS: dict[str, Event] = {}
#: What happened to named requests and WebSockets, for tests to read back.
RECORDS: dict[str, Any] = {}
#: The lifespan hooks that ran, in order.
LIFESPAN: list[str] = []


def event(name: str) -> Event:
    """The event called ``name`` (created on first use)."""
    return EVENTS.setdefault(name, Event())


async def wait_for(name: str) -> bool:
    """Wait (boundedly) for the event ``name``; whether it was set."""
    try:
        await event(name).wait(timeout=IOLoop.current().time() + EVENT_WAIT)
    except gen.TimeoutError:
        return False
    return True


class Handler(RequestHandler):
    """Test handlers accept POSTs without an XSRF token (only /xsrf checks)."""

    def check_xsrf_cookie(self) -> None:
        pass


class HelloHandler(Handler):
    def get(self) -> None:
        self.write("Hello, world")


class WriteHandler(Handler):
    def get(self, kind: str) -> None:
        if kind == "bytes":
            self.write(b"\xe2\x82\xac bytes")
        elif kind == "text":
            self.write("\u20ac text")
        elif kind == "dict":
            self.write({"a": [1, 2], "b": "\u20ac"})
        elif kind == "several":
            self.write("a")
            self.write(b"b")
            self.finish("c")


class ArgsHandler(Handler):
    def get(self) -> None:
        self.write({"x": self.get_arguments("x")})

    def post(self) -> None:
        self.write(
            {
                "query": self.get_query_arguments("x"),
                "body": self.get_body_arguments("x"),
            }
        )


class PathArgsHandler(Handler):
    def get(self, *args: str) -> None:
        self.write({"args": list(args)})


class LifecycleHandler(Handler):
    def initialize(self, label: str) -> None:
        self.events = [f"initialize {label}"]

    async def prepare(self) -> None:
        await asyncio.sleep(0)
        self.events.append("prepare")

    async def get(self) -> None:
        await gen.moment
        self.events.append("get")
        self.write({"events": self.events})


class MethodsHandler(Handler):
    SUPPORTED_METHODS = RequestHandler.SUPPORTED_METHODS + ("PROPFIND",)

    def get(self) -> None:
        self.write("GET")

    def head(self) -> None:
        self.set_header("Content-Length", "3")

    def put(self) -> None:
        self.write("PUT " + self.request.body.decode())

    def delete(self) -> None:
        self.set_status(204)

    def propfind(self) -> None:
        self.write("PROPFIND")


class FormHandler(Handler):
    def post(self) -> None:
        files = {
            name: [f.filename for f in fs] for name, fs in self.request.files.items()
        }
        self.write({"args": self.get_body_arguments("a"), "files": files})


class StatusHandler(Handler):
    def get(self) -> None:
        code = int(self.get_argument("code"))
        self.set_status(code, reason=self.get_argument("reason", None))
        if code not in (204, 304):
            self.write("body")


class HeaderHandler(Handler):
    def get(self) -> None:
        self.add_header("X-Multi", "one")
        self.add_header("X-Multi", "two")
        self.set_header("X-Int", 42)
        self.set_header("Connection", "close")  # not for the ASGI server to send


class CookieHandler(Handler):
    def get(self, action: str) -> None:
        if action == "read":
            self.write({"a": self.get_cookie("a"), "z": self.get_cookie("z", "dflt")})
        elif action == "set":
            self.set_cookie("plain", "value")
            self.set_cookie("other", "x", httponly=True)
        elif action == "signed":
            self.set_signed_cookie("session", "user")
        elif action == "read_signed":
            value = self.get_signed_cookie("session")
            self.write({"session": value.decode() if value else None})


class RedirectHandler(Handler):
    def get(self) -> None:
        permanent = bool(self.get_argument("permanent", ""))
        self.redirect("/hello", permanent=permanent)


class ErrorHandler(Handler):
    def get(self) -> None:
        kind = self.get_argument("kind")
        if kind == "http":
            raise HTTPError(418, reason="I'm a teapot")
        if kind == "crash":
            raise ZeroDivisionError("boom")
        if kind == "missing":
            self.get_argument("absent")


class XsrfHandler(RequestHandler):
    def get(self) -> None:
        self.write({"token": self.xsrf_token.decode()})

    def post(self) -> None:
        self.write("accepted")


class FlushHandler(Handler):
    """Writes ``count`` pieces, flushing (and waiting for) each one."""

    async def get(self) -> None:
        count = int(self.get_argument("count", "3"))
        size = int(self.get_argument("size", "5"))
        for index in range(count):
            self.write(str(index % 10).encode() * size)
            await self.flush()
        self.finish()


@stream_request_body
class StreamBodyHandler(Handler):
    def prepare(self) -> None:
        self.chunks: list[int] = []

    async def data_received(self, chunk: bytes) -> None:
        self.chunks.append(len(chunk))
        await gen.moment

    def put(self) -> None:
        self.write({"chunks": len(self.chunks), "size": sum(self.chunks)})


class LongPollHandler(Handler):
    """``wait/NAME`` parks until ``release/NAME``; records a closed connection."""

    async def get(self, action: str, name: str) -> None:
        if action == "wait":
            self.name = name
            event(f"wait:{name}").set()
            released = await wait_for(f"release:{name}")
            self.write(f"released {name}" if released else "timeout")
        elif action == "release":
            event(f"release:{name}").set()
            self.write(f"releasing {name}")
        elif action == "parked":
            self.write({"parked": await wait_for(f"wait:{name}")})
        elif action == "closed":
            self.write({"closed": await wait_for(f"closed:{name}")})

    def on_connection_close(self) -> None:
        name = getattr(self, "name", None)
        if name is not None:
            event(f"closed:{name}").set()
            event(f"release:{name}").set()


class InfoHandler(Handler):
    """What the handler sees of the request and of the loop it runs on."""

    def get(self) -> None:
        request = self.request
        loop = asyncio.get_running_loop()
        self.write(
            {
                "remote_ip": request.remote_ip,
                "protocol": request.protocol,
                "host": request.host,
                "version": request.version,
                "uri": request.uri,
                "path": request.path,
                "current_is_running_loop": getattr(
                    IOLoop.current(), "asyncio_loop", None
                )
                is loop,
                "loop": type(loop).__module__ + "." + type(loop).__name__,
                "lifespan": LIFESPAN,
                "certificate": request.get_ssl_certificate(),
            }
        )


class BridgeLimitsHandler(Handler):
    """What happens to the calls that cannot cross an ASGI bridge.

    ``detach`` lets the error escape (the client gets a 500) after noting
    it in `RECORDS`; ``stream`` reports the error it got.
    """

    def get(self, what: str) -> None:
        if what == "detach":
            try:
                self.detach()
            except RuntimeError as e:
                RECORDS["limits:detach"] = str(e)
                raise
        try:
            connection: Any = self.request.connection
            self.write({"socket": repr(connection.stream.socket)})
        except AttributeError as e:
            self.write({"error": type(e).__name__, "message": str(e)})


class EchoWebSocket(WebSocketHandler):
    """Echoes messages; a few texts ask for something else (see on_message)."""

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "chat" if "chat" in subprotocols else None

    def open(self, name: str) -> None:
        self.name = name
        RECORDS[f"ws:{name}"] = {"open": True, "subprotocol": self.selected_subprotocol}

    async def on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self.write_message(message, binary=True)
        elif message == "close":
            self.close(4000, "asked to")
        elif message == "ping":
            try:
                self.ping(b"x")
            except RuntimeError as e:
                await self.write_message("ping refused: " + str(e))
        elif message == "info":
            await self.write_message(
                {"subprotocol": self.selected_subprotocol, "path": self.request.path}
            )
        else:
            await self.write_message("echo: " + message)

    def on_close(self) -> None:
        RECORDS[f"ws:{self.name}"] = {
            "close_code": self.close_code,
            "close_reason": self.close_reason,
        }
        event(f"ws_closed:{self.name}").set()


class SameOriginWebSocket(WebSocketHandler):
    """Refuses cross-origin connections, as WebSocketHandler does by default."""

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)


class WebSocketRecordHandler(Handler):
    """``/ws_record/NAME``: waits for the WebSocket NAME to close, reports it."""

    async def get(self, name: str) -> None:
        closed = await wait_for(f"ws_closed:{name}")
        self.write({"closed": closed, **RECORDS.get(f"ws:{name}", {})})


def make_application(**settings: Any) -> Application:
    """A new application serving every handler above."""
    settings.setdefault("static_path", STATIC_PATH)
    settings.setdefault("cookie_secret", COOKIE_SECRET)
    settings.setdefault("xsrf_cookies", True)
    return Application(
        [
            ("/hello", HelloHandler),
            (r"/write/(\w+)", WriteHandler),
            ("/args", ArgsHandler),
            (r"/path/([^/]+)/(.*)", PathArgsHandler),
            ("/lifecycle", LifecycleHandler, {"label": "L"}),
            ("/methods", MethodsHandler),
            ("/form", FormHandler),
            ("/status", StatusHandler),
            ("/headers", HeaderHandler),
            (r"/cookie/(\w+)", CookieHandler),
            ("/redirect", RedirectHandler),
            ("/error", ErrorHandler),
            ("/xsrf", XsrfHandler),
            ("/flush", FlushHandler),
            ("/stream_body", StreamBodyHandler),
            (r"/longpoll/(\w+)/(\w+)", LongPollHandler),
            ("/info", InfoHandler),
            (r"/limits/(\w+)", BridgeLimitsHandler),
            (r"/ws/(\w+)", EchoWebSocket),
            ("/ws_same_origin", SameOriginWebSocket),
            (r"/ws_record/(\w+)", WebSocketRecordHandler),
        ],
        **settings,
    )


def _hook(name: str) -> None:
    LIFESPAN.append(name)
    if os.environ.get(ANNOUNCE_HOOKS):
        print(f"asgi_handlers: {name} hook ran", file=sys.stderr, flush=True)


async def _on_startup() -> None:
    await asyncio.sleep(0)
    _hook("startup")


def _on_shutdown() -> None:
    _hook("shutdown")


#: The application served by the ASGI server processes of the tests.
asgi_app = ASGIAdapter(
    make_application(), on_startup=[_on_startup], on_shutdown=[_on_shutdown]
)
