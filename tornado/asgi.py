"""ASGI both ways: ASGI applications on Tornado, Tornado applications on ASGI servers.

ASGI (version 3.0) is the interface most of the Python async web world is
built on: Starlette, FastAPI, Django's async side, and the servers uvicorn,
hypercorn, granian and daphne.  This module bridges it in both directions;
the :doc:`/guide/asgi` page shows both at work.

`ASGIContainer` hosts an ASGI application on Tornado's `.HTTPServer`, the
counterpart of `tornado.wsgi.WSGIContainer`::

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request):
        return PlainTextResponse("Hello from Starlette")

    starlette_app = Starlette(routes=[Route("/", hello)])

    async def main():
        container = tornado.asgi.ASGIContainer(starlette_app)
        async with container:  # runs the lifespan startup and shutdown
            server = tornado.httpserver.HTTPServer(container)
            server.listen(8888)
            await asyncio.Event().wait()

`ASGIAdapter` goes the other way: it turns a `tornado.web.Application` into
an ASGI application, so that any ASGI server can serve its handlers::

    # myapp.py; serve it with "uvicorn myapp:asgi_app"
    application = tornado.web.Application([(r"/", MainHandler)])
    asgi_app = tornado.asgi.ASGIAdapter(application)

What cannot cross the bridge
----------------------------

Under an ASGI server the server owns the sockets and speaks the protocol;
Tornado only sees ASGI messages.  So for handlers served by `ASGIAdapter`:

* ``request.connection.stream`` does not exist: reading it raises an
  `AttributeError` that says so (``request.get_ssl_certificate()``
  returns ``None``);
* ``RequestHandler.detach()`` raises `RuntimeError` (and the client gets
  a 500), since there is no stream to hand over; `.WebSocketHandler`
  does not need it, it speaks ASGI's websocket messages;
* ``WebSocketHandler.ping()`` raises `RuntimeError`, as ASGI has no ping
  message: the server keeps connections alive itself (uvicorn's
  ``--ws-ping-interval``, hypercorn's ``--websocket-ping-interval``); the
  ``websocket_ping_interval`` setting is ignored (with a warning, once)
  and ``on_pong`` is never called;
* ``WebSocketHandler.close()`` without a code sends 1000 (ASGI cannot
  send a close frame without one); after the handler's own ``close()``,
  ``close_code`` is the code it sent (which RFC 6455 peers echo), as
  servers report different things then; hypercorn reports every close by
  the client as 1006, so ``close_code`` is then ``None``;
* a custom reason phrase (``set_status(code, reason)``) is not sent: ASGI
  carries only the code;
* the response's ``Date`` and ``Server`` headers are the server's (ASGI
  servers add their own), and ``Connection``, ``Keep-Alive`` and
  ``Transfer-Encoding`` are dropped: the server frames the body and
  manages the connection (HTTP/2 forbids these headers);
* the server's own settings rule the protocol: proxy headers (what
  ``xheaders`` does for `.HTTPServer` is uvicorn's ``--proxy-headers``),
  keep-alive, timeouts, and WebSocket compression are its business;
  request bodies are not decompressed (``decompress_request``).

For applications hosted by `ASGIContainer`, HTTP response trailers are
refused politely: the ``http.response.trailers`` extension is not offered,
and trailers an application sends anyway are dropped.  Server push, early
hints and ``http.response.pathsend`` are not offered either.
"""

from __future__ import annotations

import asyncio
import collections
import http.client
import logging
import sys
import time
import traceback
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, NoReturn

import tornado
from tornado import _websocket_wire as wire
from tornado import httputil
from tornado._http1wire import BodyEncoder, BodyKind, plan_response_body
from tornado._httpgrammar import split_list
from tornado.concurrent import Future
from tornado.escape import json_encode
from tornado.iostream import StreamClosedError
from tornado.log import access_log, app_log, gen_log
from tornado.web import Application, HTTPError
from tornado.websocket import (
    WebSocketClosedError,
    WebSocketHandler,
    WebSocketProtocol,
    de_dupe_gen_log,
)

__all__ = [
    "ASGIContainer",
    "ASGIAdapter",
    "LifespanError",
    "Scope",
    "Message",
    "Receive",
    "Send",
    "ASGIApplication",
]

#: An ASGI connection scope, such as ``{"type": "http", "path": "/", ...}``.
Scope = MutableMapping[str, Any]
#: An ASGI event, such as ``{"type": "http.request", "body": b"..."}``.
Message = MutableMapping[str, Any]
#: The ``receive`` awaitable callable handed to an ASGI application.
Receive = Callable[[], Awaitable[Message]]
#: The ``send`` awaitable callable handed to an ASGI application.
Send = Callable[[Message], Awaitable[None]]
#: An ASGI 3.0 application: ``async def app(scope, receive, send)``.
ASGIApplication = Callable[[Scope, Receive, Send], Awaitable[None]]

# The spec versions spoken: ASGI 3.0, with HTTP and WebSocket spec 2.4
# (``reason`` in WebSocket close and disconnect messages).
_ASGI_VERSION = "3.0"
_SPEC_VERSION = "2.4"
_DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024
# Messages a container-side WebSocket buffers for an application that is
# slow to call receive(), before it stops reading from the client.
_WEBSOCKET_INBOX_SIZE = 16
# Response headers about the connection, not the message: ASGI servers
# manage these, and HTTP/2 forbids them.
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade")
)
# Headers every ASGI server adds to each response by itself.
_ADDED_BY_SERVERS = frozenset(("date", "server"))
_NOT_IN_ASGI_RESPONSES = _HOP_BY_HOP | _ADDED_BY_SERVERS
# Headers of Tornado's 101 response that the ASGI server writes itself.
_NOT_IN_WEBSOCKET_ACCEPT = (
    _HOP_BY_HOP
    | _ADDED_BY_SERVERS
    | {
        "content-type",
        "content-length",
        "etag",
        "sec-websocket-accept",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
    }
)
# RequestHandler methods that make no sense once a WebSocket is accepted.
_HTTP_ONLY_METHODS = (
    "write",
    "redirect",
    "set_header",
    "set_cookie",
    "set_status",
    "flush",
    "finish",
)
_ERROR_PAGE = (
    b"<html><title>500: Internal Server Error</title>"
    b"<body>500: Internal Server Error</body></html>"
)


class LifespanError(Exception):
    """An ASGI application reported that its lifespan startup or shutdown failed.

    Raised by `ASGIContainer.startup` and `ASGIContainer.shutdown`; the
    message includes the one the application sent (Starlette sends the
    traceback of the exception that broke its startup).
    """


# ---------------------------------------------------------------------------
# Shared helpers


def _consume_outcome(future: Future[Any]) -> None:
    """Mark a future's exception as seen: nobody is obliged to await a write."""
    if not future.cancelled():
        future.exception()


def _resolve(future: Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _reject_with(future: Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _closed_future() -> Future[None]:
    future: Future[None] = Future()
    future.set_exception(StreamClosedError())
    future.exception()
    return future


def _done_future() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


class _Outbox:
    """Sends ASGI messages one at a time, in the order they were queued.

    Tornado's connection methods are synchronous and return futures while
    ASGI's ``send`` is a coroutine: a task awaits ``send`` for each queued
    message in turn (that await is the server's flow control) and resolves
    the message's future.  A body message directly followed by the empty
    last one (``RequestHandler.finish`` queues both at once) goes as one.
    """

    __slots__ = ("_send", "_on_error", "_queue", "_task", "error")

    def __init__(self, send: Send, on_error: Callable[[], None]) -> None:
        self._send = send
        self._on_error = on_error
        self._queue: collections.deque[tuple[Message, Future[None]]] = (
            collections.deque()
        )
        self._task: asyncio.Task[None] | None = None
        #: What made ``send`` fail; messages queued after that fail at once.
        self.error: BaseException | None = None

    def put(self, message: Message) -> Future[None]:
        """Queue ``message``; the future resolves once ``send`` took it."""
        if self.error is not None:
            return _closed_future()
        future: Future[None] = Future()
        future.add_done_callback(_consume_outcome)
        self._queue.append((message, future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())
        return future

    def close(self) -> None:
        """Fail everything queued and refuse what comes next."""
        self._fail(StreamClosedError(), [])

    async def _pump(self) -> None:
        queue = self._queue
        try:
            while queue:
                message, future = queue.popleft()
                futures = [future]
                if (
                    _is_more_body(message)
                    and queue
                    and _is_empty_last_body(queue[0][0])
                ):
                    message = {**message, "more_body": False}
                    futures.append(queue.popleft()[1])
                try:
                    await self._send(message)
                except Exception as e:
                    self._fail(e, futures)
                    return
                for done in futures:
                    _resolve(done)
        finally:
            self._task = None

    def _fail(self, error: BaseException, futures: list[Future[None]]) -> None:
        first_failure = self.error is None
        self.error = error
        futures += [future for _, future in self._queue]
        self._queue.clear()
        for future in futures:
            _reject_with(future, StreamClosedError(real_error=error))
        if first_failure:
            self._on_error()


def _is_more_body(message: Message) -> bool:
    return message["type"].endswith("response.body") and bool(message["more_body"])


def _is_empty_last_body(message: Message) -> bool:
    return (
        message["type"].endswith("response.body")
        and not message["more_body"]
        and not message["body"]
    )


def _asgi_headers(
    headers: httputil.HTTPHeaders, leave_out: frozenset[str] = _HOP_BY_HOP
) -> list[tuple[bytes, bytes]]:
    """Tornado headers as ASGI's list of lowercased ``(name, value)`` bytes."""
    pairs = []
    for name, value in headers.get_all():
        lowered = name.lower()
        if lowered in leave_out:
            continue
        if "\r" in value or "\n" in value or "\0" in value:
            raise ValueError(f"Illegal characters (CR, LF or NUL) in header: {name}")
        pairs.append((lowered.encode("latin1"), value.encode("latin1")))
    return pairs


def _tornado_headers(pairs: Iterable[tuple[bytes, bytes]]) -> httputil.HTTPHeaders:
    """ASGI's ``(name, value)`` byte pairs as `.HTTPHeaders`."""
    headers = httputil.HTTPHeaders()
    for name, value in pairs:
        headers.add(bytes(name).decode("latin1"), bytes(value).decode("latin1"))
    return headers


# The last Date header formatted and the whole second it stands for.
_http_date_cache: tuple[int, str] = (-1, "")


def _http_date_now() -> str:
    """The current time as a ``Date`` header value (formatted once a second)."""
    global _http_date_cache
    second = int(time.time())
    if _http_date_cache[0] != second:
        _http_date_cache = (second, httputil.format_timestamp(second))
    return _http_date_cache[1]


def _reason(code: int) -> str:
    return http.client.responses.get(code, "Unknown")


# ---------------------------------------------------------------------------
# ASGI applications inside Tornado


class ASGIContainer(httputil.HTTPServerConnectionDelegate):
    """Serves an ASGI 3.0 application with Tornado's `.HTTPServer`.

    Give it to the server directly, ``HTTPServer(ASGIContainer(app))``, or
    mount it beside Tornado handlers with `.FallbackHandler`; ``root_path``
    is then the prefix it is mounted at (the ASGI ``root_path``)::

        container = ASGIContainer(fastapi_app, root_path="/api")
        application = tornado.web.Application([
            (r"/api(/.*)?", tornado.web.FallbackHandler, dict(fallback=container)),
            (r"/", MainHandler),
        ])

    Requests outside ``root_path`` get a 404 without reaching the
    application.  As the server's own delegate the container streams
    request bodies to ``receive()`` as they arrive, reading from the client
    only as fast as the application takes them; behind `.FallbackHandler`
    the body has already been read whole.  WebSocket upgrades become
    ``websocket`` scopes in both cases.

    Lifespan: ``await container.startup()`` before serving and ``await
    container.shutdown()`` after (or ``async with container:``) run the
    application's startup and shutdown once; `LifespanError` reports a
    failed one.  An application that does not support lifespan is served
    anyway.

    Errors: an exception from the application before its response started
    is answered with a 500 and logged once to ``tornado.application``;
    after that the connection is closed.  An application that returns
    without responding also gets a 500.  Each request is logged to
    ``tornado.access`` as `tornado.wsgi.WSGIContainer` does.  Scheme and
    client address come from the request, so the server's ``xheaders``
    setting applies to them.
    """

    def __init__(self, asgi_app: ASGIApplication, root_path: str = "") -> None:
        """Wrap ``asgi_app``, mounted at ``root_path`` (``""`` for the root)."""
        #: The wrapped ASGI application.
        self.asgi_app = asgi_app
        #: The path prefix the application is mounted at, without a final ``/``.
        self.root_path = root_path.rstrip("/")
        #: The lifespan state: the application's startup may fill it, and
        #: each request's scope gets a shallow copy (ASGI ``state``).
        self.state: dict[str, Any] = {}
        self._lifespan: _LifespanRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._websocket_app = Application(
            [(r".*", _ASGIWebSocketBridge, {"container": self})]
        )

    # -- lifespan -----------------------------------------------------------

    async def startup(self) -> None:
        """Run the application's lifespan startup; call it once, before serving.

        Raises `LifespanError` if the application reports a failure (or
        raises one while starting up).
        """
        if self._lifespan is not None:
            raise RuntimeError("ASGIContainer.startup() was already called")
        self._lifespan = _LifespanRunner(self.asgi_app, self.state)
        await self._lifespan.startup()

    async def shutdown(self) -> None:
        """Run the application's lifespan shutdown, after serving.

        Does nothing if `startup` was not called or the application does
        not support lifespan.  Raises `LifespanError` on a reported failure.
        """
        if self._lifespan is not None:
            await self._lifespan.shutdown()

    async def __aenter__(self) -> ASGIContainer:
        """``async with container:`` runs `startup` on entry..."""
        await self.startup()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """...and `shutdown` on exit."""
        await self.shutdown()

    # -- serving ------------------------------------------------------------

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        """Return the delegate for a request (see `.HTTPServerConnectionDelegate`)."""
        return _ContainerDelegate(self, server_conn, request_conn)

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        """Serve a complete request (the callable interface used by `.FallbackHandler`)."""
        if _is_websocket_upgrade(request):
            self._websocket_app(request)
            return
        exchange = _HTTPExchange(self, request)
        exchange.receive_whole_body(request.body)
        self._run_exchange(exchange)

    def http_scope(self, request: httputil.HTTPServerRequest) -> Scope:
        """The ASGI ``http`` scope describing ``request``."""
        scope = self._common_scope(request, "http")
        scope["method"] = (request.method or "GET").upper()
        return scope

    def websocket_scope(self, request: httputil.HTTPServerRequest) -> Scope:
        """The ASGI ``websocket`` scope describing the upgrade ``request``."""
        scope = self._common_scope(request, "websocket")
        scope["scheme"] = "wss" if request.protocol == "https" else "ws"
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        scope["subprotocols"] = split_list(offered)
        scope["extensions"] = {"websocket.http.response": {}}
        return scope

    def _in_root_path(self, request: httputil.HTTPServerRequest) -> bool:
        """Whether ``request`` is for a path under `root_path`."""
        root = self.root_path
        path = _target_path(request)
        return not root or path == root or path.startswith(root + "/")

    def _common_scope(self, request: httputil.HTTPServerRequest, kind: str) -> Scope:
        raw_path = _target_path(request)
        return {
            "type": kind,
            "asgi": {"version": _ASGI_VERSION, "spec_version": _SPEC_VERSION},
            "http_version": request.version.partition("/")[2] or "1.1",
            "scheme": request.protocol,
            "path": urllib.parse.unquote(raw_path),
            "raw_path": raw_path.encode("latin1"),
            "query_string": request.query.encode("latin1"),
            "root_path": self.root_path,
            "headers": [
                (name.lower().encode("latin1"), value.encode("latin1"))
                for name, value in request.headers.get_all()
            ],
            "client": _client_address(request),
            "server": _server_address(request),
            "state": dict(self.state),
            "extensions": {},
        }

    def _run_exchange(self, exchange: _HTTPExchange) -> None:
        """Start running the application for ``exchange`` in a task of its own."""
        task = asyncio.get_running_loop().create_task(exchange.run())
        self._tasks.add(task)  # a running task must stay referenced
        task.add_done_callback(self._tasks.discard)

    def _log_request(self, status: int, request: httputil.HTTPServerRequest) -> None:
        """Log a finished request to ``tornado.access`` (errors at error level)."""
        if status < 400:
            log_method = access_log.info
        elif status < 500:
            log_method = access_log.warning
        else:
            log_method = access_log.error
        request_time = 1000.0 * request.request_time()
        summary = f"{request.method} {request.uri} ({request.remote_ip})"
        log_method("%d %s %.2fms", status, summary, request_time)


def _follows_closed_stream(error: BaseException) -> bool:
    """Whether ``error`` is, or was raised handling, a closed connection.

    Frameworks turn the `.StreamClosedError` (an `OSError`) that ``send``
    raises once the client is gone into their own exceptions (Starlette's
    ``ClientDisconnect``).
    """
    seen: BaseException | None = error
    for _ in range(10):  # bounded: a chain may loop
        if seen is None:
            return False
        if isinstance(seen, StreamClosedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_websocket_upgrade(request: httputil.HTTPServerRequest) -> bool:
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() == "websocket"
    )


def _target_path(request: httputil.HTTPServerRequest) -> str:
    """The raw path of the request target, also for an absolute-form target."""
    path = request.path
    if path.startswith("/"):
        return path
    return urllib.parse.urlsplit(path).path or "/"


def _client_address(request: httputil.HTTPServerRequest) -> tuple[str, int] | None:
    if request.remote_ip is None:
        return None
    context = getattr(request.connection, "context", None)
    address = getattr(context, "address", None)
    port = 0  # unknown when a proxy's headers named the client
    if isinstance(address, tuple) and address and address[0] == request.remote_ip:
        port = int(address[1])
    return (request.remote_ip, port)


def _server_address(request: httputil.HTTPServerRequest) -> tuple[str, int]:
    stream = getattr(request.connection, "stream", None)
    sock = getattr(stream, "socket", None)
    try:
        name = sock.getsockname() if sock is not None else None
    except OSError:
        name = None
    if isinstance(name, tuple):
        return (str(name[0]), int(name[1]))
    host, port = httputil.split_host_and_port(request.host)
    if port is None:
        port = 443 if request.protocol == "https" else 80
    return (host, port)


class _ContainerDelegate(httputil.HTTPMessageDelegate):
    """Receives one request for an `ASGIContainer` and streams it to the app."""

    def __init__(
        self,
        container: ASGIContainer,
        server_conn: object,
        request_conn: httputil.HTTPConnection,
    ) -> None:
        self.container = container
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.exchange: _HTTPExchange | None = None
        # A WebSocket upgrade is handed to the container's WebSocket bridge.
        self.forward: httputil.HTTPMessageDelegate | None = None

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, httputil.RequestStartLine)
        request = httputil.HTTPServerRequest(
            connection=self.request_conn,
            server_connection=self.server_conn,
            start_line=start_line,
            headers=headers,
        )
        if _is_websocket_upgrade(request):
            bridge = self.container._websocket_app
            self.forward = bridge.start_request(self.server_conn, self.request_conn)
            return self.forward.headers_received(start_line, headers)
        self.exchange = _HTTPExchange(self.container, request)
        self.container._run_exchange(self.exchange)
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self.forward is not None:
            return self.forward.data_received(chunk)
        assert self.exchange is not None
        return self.exchange.body_received(chunk)

    def finish(self) -> None:
        if self.forward is not None:
            self.forward.finish()
        elif self.exchange is not None:
            self.exchange.body_finished()

    def on_connection_close(self) -> None:
        if self.forward is not None:
            self.forward.on_connection_close()
        elif self.exchange is not None:
            self.exchange.disconnected()


class _HTTPExchange:
    """Runs the ASGI application for one HTTP request and writes its response."""

    def __init__(
        self, container: ASGIContainer, request: httputil.HTTPServerRequest
    ) -> None:
        self.container = container
        self.request = request
        assert request.connection is not None
        self.connection: httputil.HTTPConnection = request.connection
        self.scope = container.http_scope(request)
        # Body chunks not yet taken by receive(), and whether more may come.
        self._chunks: collections.deque[bytes] = collections.deque()
        self._body_complete = False
        self._last_body_sent = False
        # Resolved when receive() took the chunks: the reader may go on.
        self._taken: Future[None] | None = None
        # Resolved to wake a receive() waiting for something to happen.
        self._wakeup: Future[None] | None = None
        self._gone = False
        self._start: Message | None = None
        self._response_headers = httputil.HTTPHeaders()
        self._status = 500
        self._headers_written = False
        self._complete = False
        set_close_callback = getattr(self.connection, "set_close_callback", None)
        if set_close_callback is not None:
            set_close_callback(self.disconnected)

    # -- the request, as the HTTP connection delivers it -------------------------

    def receive_whole_body(self, body: bytes) -> None:
        """The whole body is already there (the callable interface)."""
        if body:
            self._chunks.append(body)
        self._body_complete = True

    def body_received(self, chunk: bytes) -> Awaitable[None] | None:
        """A piece of the body arrived; the returned future waits for the app."""
        if self._complete or self._gone:
            return None  # nobody will read it
        self._chunks.append(chunk)
        self._wake()
        self._taken = Future()
        return self._taken

    def body_finished(self) -> None:
        self._body_complete = True
        self._wake()

    def disconnected(self) -> None:
        """The client went away: receive() says so, send() fails from now on."""
        self._gone = True
        self._release_reader()
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            _resolve(self._wakeup)

    def _release_reader(self) -> None:
        if self._taken is not None:
            _resolve(self._taken)
            self._taken = None

    # -- the application ------------------------------------------------------

    async def run(self) -> None:
        """Run the application, answering for it if it fails to answer."""
        if not self.container._in_root_path(self.request):
            self._send_simple(404, b"")
            return
        try:
            await self.container.asgi_app(self.scope, self.receive, self.send)
        except Exception as e:
            self._on_failure(e)
            return
        if not self._headers_written and not self._gone:
            self._log_error("ASGI application returned without sending a response")
            self._send_simple(500, _ERROR_PAGE)
        elif not self._complete and not self._gone:
            self._log_error("ASGI application returned before finishing its response")
            self._abort()

    def _on_failure(self, error: Exception) -> None:
        if _follows_closed_stream(error):
            gen_log.debug("ASGI application stopped: the client left (%r)", error)
            return
        self._log_error("Uncaught exception in ASGI application", exc_info=True)
        if self._gone:
            return
        if self._headers_written:
            self._abort()
        else:
            self._send_simple(500, _ERROR_PAGE)

    def _log_error(self, message: str, exc_info: bool = False) -> None:
        request = self.request
        app_log.error(
            "%s: %s %s", message, request.method, request.uri, exc_info=exc_info
        )

    def _abort(self) -> None:
        """Close the connection: a response already started can't be mended."""
        self._complete = True
        close = getattr(self.connection, "close", None)
        if close is not None:
            close()

    async def receive(self) -> Message:
        """The ``receive`` callable handed to the application."""
        while True:
            if self._gone or self._complete:
                return {"type": "http.disconnect"}
            if self._chunks:
                body = b"".join(self._chunks)
                self._chunks.clear()
                self._release_reader()
                more = not self._body_complete
                self._last_body_sent = not more
                return {"type": "http.request", "body": body, "more_body": more}
            if self._body_complete and not self._last_body_sent:
                self._last_body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            self._wakeup = Future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None

    async def send(self, message: Message) -> None:
        """The ``send`` callable handed to the application."""
        kind = message["type"]
        if kind == "http.response.start":
            self._response_started(message)
        elif kind == "http.response.body":
            await self._response_body(message)
        elif kind == "http.response.trailers":
            self._trailers(message)
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} in an HTTP response")

    def _response_started(self, message: Message) -> None:
        if self._start is not None:
            raise RuntimeError("ASGI application sent http.response.start twice")
        status = message["status"]
        if not isinstance(status, int) or not 100 <= status <= 999:
            raise ValueError(f"Invalid ASGI response status {status!r}")
        self._response_headers = _tornado_headers(message.get("headers", ()))
        self._start = message

    async def _response_body(self, message: Message) -> None:
        if self._start is None:
            raise RuntimeError(
                "ASGI application sent http.response.body before http.response.start"
            )
        if self._complete:
            raise RuntimeError(
                "ASGI application sent http.response.body after the response ended"
            )
        if self._gone:
            raise StreamClosedError()
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if not self._headers_written:
            written = self._write_headers(body, more)
        elif body:
            written = self.connection.write(body)
        else:
            written = None
        if not more:
            self._finish()
        if written is not None:
            if more:
                try:
                    await written  # flow control: the client must keep up
                except StreamClosedError:
                    self.disconnected()
                    raise
            else:
                written.add_done_callback(_consume_outcome)

    def _write_headers(self, body: bytes, more: bool) -> Future[None]:
        assert self._start is not None
        self._status = self._start["status"]
        headers = self._response_headers
        if not more and self._may_have_length(headers):
            headers["Content-Length"] = str(len(body))
        if "Server" not in headers:
            headers["Server"] = f"TornadoServer/{tornado.version}"
        if "Date" not in headers:
            headers["Date"] = _http_date_now()
        start_line = httputil.ResponseStartLine(
            "HTTP/1.1", self._status, _reason(self._status)
        )
        written = self.connection.write_headers(start_line, headers, body)
        self._headers_written = True
        return written

    def _may_have_length(self, headers: httputil.HTTPHeaders) -> bool:
        status = self._status
        return (
            "Content-Length" not in headers
            and "Transfer-Encoding" not in headers
            and self.request.method != "HEAD"
            and status not in (204, 304)
            and status >= 200
        )

    def _trailers(self, message: Message) -> None:
        # Trailers are refused politely: the extension is not offered, and
        # an application sending them anyway just loses them.
        if self._start is None or not self._start.get("trailers", False):
            raise RuntimeError(
                "ASGI application sent http.response.trailers without "
                "announcing trailers in http.response.start"
            )

    def _finish(self) -> None:
        self._complete = True
        set_close_callback = getattr(self.connection, "set_close_callback", None)
        if set_close_callback is not None:
            set_close_callback(None)
        self.connection.finish()
        self._release_reader()
        self._wake()
        self.container._log_request(self._status, self.request)

    def _send_simple(self, status: int, body: bytes) -> None:
        """Answer by ourselves with ``status`` (and an HTML ``body``)."""
        self._start = {"type": "http.response.start", "status": status}
        self._response_headers = httputil.HTTPHeaders(
            {"Content-Type": "text/html; charset=UTF-8"}
        )
        written = self._write_headers(body, more=False)
        written.add_done_callback(_consume_outcome)
        self._finish()


class _LifespanRunner:
    """Drives an application's ``lifespan`` scope: we are its server."""

    def __init__(self, app: ASGIApplication, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self._events: collections.deque[Message] = collections.deque()
        self._wakeup: Future[None] | None = None
        # The outcome of each phase, as the application reports it.
        self._startup_done: Future[None] = Future()
        self._shutdown_done: Future[None] = Future()
        self._shutdown_done.add_done_callback(_consume_outcome)
        self._called_receive = False
        self._serving = False  # started up, and lifespan is supported
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        self._put({"type": "lifespan.startup"})
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._startup_done
        self._serving = self._task is not None and not self._task.done()

    async def shutdown(self) -> None:
        if not self._serving:
            return
        self._serving = False
        self._put({"type": "lifespan.shutdown"})
        try:
            await self._shutdown_done
        finally:
            assert self._task is not None
            await self._task

    def _put(self, event: Message) -> None:
        self._events.append(event)
        if self._wakeup is not None:
            _resolve(self._wakeup)

    async def _run(self) -> None:
        scope: Scope = {
            "type": "lifespan",
            "asgi": {"version": _ASGI_VERSION, "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as e:
            self._failed(e)
        else:
            self._unsupported_unless_started("returned")
        _resolve(self._shutdown_done)

    def _failed(self, error: Exception) -> None:
        if not self._called_receive:
            # The spec's sign of an application without lifespan support.
            self._unsupported_unless_started(f"raised {error!r}")
            return
        pending = next(
            (
                (future, phase)
                for future, phase in (
                    (self._startup_done, "startup"),
                    (self._shutdown_done, "shutdown"),
                )
                if not future.done()
            ),
            None,
        )
        if pending is None:
            return  # raised after reporting its failure: already said
        future, phase = pending
        if phase == "shutdown" and self._serving:
            # Neither starting nor stopping: the lifespan task just died.
            app_log.error("Uncaught exception in ASGI lifespan", exc_info=error)
            return
        failure = LifespanError(f"ASGI application {phase} failed: {error!r}")
        failure.__cause__ = error
        future.set_exception(failure)

    def _unsupported_unless_started(self, what: str) -> None:
        if not self._startup_done.done():
            gen_log.debug("ASGI application %s at lifespan startup: no lifespan", what)
            self._startup_done.set_result(None)

    async def _receive(self) -> Message:
        self._called_receive = True
        while not self._events:
            self._wakeup = Future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        return self._events.popleft()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        outcome = {
            "lifespan.startup.complete": (self._startup_done, None),
            "lifespan.startup.failed": (self._startup_done, "startup"),
            "lifespan.shutdown.complete": (self._shutdown_done, None),
            "lifespan.shutdown.failed": (self._shutdown_done, "shutdown"),
        }.get(kind)
        if outcome is None:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} in lifespan")
        future, failed_phase = outcome
        if future.done():
            raise RuntimeError(f"ASGI application sent {kind!r} out of turn")
        if failed_phase is None:
            future.set_result(None)
        else:
            text = message.get("message", "")
            future.set_exception(
                LifespanError(f"ASGI application {failed_phase} failed: {text}")
            )


class _ASGIWebSocketBridge(WebSocketHandler):
    """Runs a container's ASGI application on an upgraded request.

    The application accepts or rejects the connection first (in `prepare`,
    before the handshake is answered); once accepted, messages flow both
    ways through the handler's callbacks.
    """

    def initialize(self, container: ASGIContainer) -> None:
        self.container = container
        self._reply: Future[Message | None] = Future()
        self._opened: Future[None] = Future()
        self._opened.add_done_callback(_consume_outcome)
        self._denial_body: list[bytes] = []
        self._denial_done: Future[None] = Future()
        self._accept: Message = {}
        self._connected_sent = False
        self._inbox: collections.deque[Message] = collections.deque()
        self._inbox_wakeup: Future[None] | None = None
        self._inbox_space: Future[None] | None = None
        self._app_ended = False

    def check_origin(self, origin: str) -> bool:
        """The ASGI application decides whom to accept."""
        return True

    async def prepare(self) -> None:
        """Start the application and wait for it to accept or reject."""
        if not self.container._in_root_path(self.request):
            raise HTTPError(404)
        scope = self.container.websocket_scope(self.request)
        task = asyncio.get_running_loop().create_task(self._run_app(scope))
        self.container._tasks.add(task)
        task.add_done_callback(self.container._tasks.discard)
        reply = await self._reply
        if reply is None:
            raise HTTPError(500)  # the application failed, or did not answer
        kind = reply["type"]
        if kind == "websocket.close":
            self.set_status(403)
            self.finish()
        elif kind == "websocket.http.response.start":
            await self._deny(reply)
        else:
            self._accept = reply
            for name, value in reply.get("headers", ()):
                self.add_header(bytes(name).decode("latin1"), bytes(value))

    async def _deny(self, start: Message) -> None:
        """Answer with the HTTP response the application sent instead."""
        self.set_status(int(start["status"]))
        self.clear_header("Content-Type")
        for name, value in start.get("headers", ()):
            self.add_header(bytes(name).decode("latin1"), bytes(value))
        await self._denial_done
        self.finish(b"".join(self._denial_body))

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """The subprotocol the application accepted with."""
        subprotocol = self._accept.get("subprotocol")
        return str(subprotocol) if subprotocol else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        """Let the application's messages through."""
        _resolve(self._opened)

    def on_finish(self) -> None:
        """A refused handshake: the application's accept fails."""
        if self.get_status() != 101:
            _reject_with(self._opened, StreamClosedError())

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Queue the message for the application's ``receive``."""
        if isinstance(message, str):
            return self._deliver({"type": "websocket.receive", "text": message})
        return self._deliver({"type": "websocket.receive", "bytes": message})

    def on_close(self) -> None:
        """Tell the application (once it asks) that the connection is gone."""
        _reject_with(self._opened, StreamClosedError())
        self._deliver(
            {
                "type": "websocket.disconnect",
                "code": self.close_code or wire.CLOSE_NO_STATUS,
                "reason": self.close_reason or "",
            }
        )

    def _deliver(self, message: Message) -> Awaitable[None] | None:
        self._inbox.append(message)
        if self._inbox_wakeup is not None:
            _resolve(self._inbox_wakeup)
        if len(self._inbox) < _WEBSOCKET_INBOX_SIZE or self._app_ended:
            return None
        self._inbox_space = Future()
        return self._inbox_space  # read no more until the application catches up

    async def _receive(self) -> Message:
        if not self._connected_sent:
            self._connected_sent = True
            return {"type": "websocket.connect"}
        while not self._inbox:
            self._inbox_wakeup = Future()
            try:
                await self._inbox_wakeup
            finally:
                self._inbox_wakeup = None
        message = self._inbox.popleft()
        if self._inbox_space is not None:
            _resolve(self._inbox_space)
            self._inbox_space = None
        return message

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if not self._reply.done():
            if kind not in (
                "websocket.accept",
                "websocket.close",
                "websocket.http.response.start",
            ):
                raise RuntimeError(f"Unexpected ASGI message {kind!r} before accept")
            self._reply.set_result(message)
            if kind == "websocket.accept":
                await self._opened  # fails if the handshake did not complete
            return
        if kind == "websocket.http.response.body":
            self._denial_body.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                _resolve(self._denial_done)
        elif kind == "websocket.send":
            await self._send_data(message)
        elif kind == "websocket.close":
            if self.ws_connection is not None:
                self.close(message.get("code", 1000), message.get("reason") or None)
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} in a WebSocket")

    async def _send_data(self, message: Message) -> None:
        data = message.get("bytes")
        try:
            if data is not None:
                await self.write_message(bytes(data), binary=True)
            else:
                await self.write_message(str(message.get("text", "")))
        except WebSocketClosedError:
            raise StreamClosedError() from None

    async def _run_app(self, scope: Scope) -> None:
        try:
            await self.container.asgi_app(scope, self._receive, self._send)
        except Exception as e:
            if self._opened.done() and _follows_closed_stream(e):
                pass  # the application noticed that the connection closed
            else:
                app_log.error(
                    "Uncaught exception in ASGI application: WebSocket %s",
                    self.request.uri,
                    exc_info=True,
                )
            self._app_ended_with(wire.CLOSE_INTERNAL_ERROR)
            return
        if not self._reply.done():
            app_log.error(
                "ASGI application returned without accepting or closing "
                "the WebSocket: %s",
                self.request.uri,
            )
        self._app_ended_with(wire.CLOSE_NORMAL)

    def _app_ended_with(self, code: int) -> None:
        """The application is done: close the connection it leaves behind."""
        self._app_ended = True
        if not self._reply.done():
            self._reply.set_result(None)
        _resolve(self._denial_done)
        if self._inbox_space is not None:
            _resolve(self._inbox_space)
        if self.ws_connection is not None:
            self.close(code)


# ---------------------------------------------------------------------------
# Tornado applications under ASGI servers


class ASGIAdapter:
    """An ASGI 3.0 application that serves a `tornado.web.Application`.

    An ASGI server can then run the Tornado handlers unchanged; the suite
    runs them under uvicorn and hypercorn (which adds HTTP/2 and HTTP/3)::

        # myapp.py
        import tornado.asgi
        import tornado.web

        class MainHandler(tornado.web.RequestHandler):
            def get(self):
                self.write("Hello, world")

        async def open_database():
            ...

        application = tornado.web.Application([(r"/", MainHandler)])
        asgi_app = tornado.asgi.ASGIAdapter(application, on_startup=[open_database])

    and ``uvicorn myapp:asgi_app`` or ``hypercorn myapp:asgi_app``.

    ``application`` may be any `.HTTPServerConnectionDelegate` (a
    `.Router`, for instance); it runs on the ASGI server's event loop
    (``IOLoop.current()`` wraps that loop).  ``http`` scopes become
    requests: bodies are read from ``receive()`` only as fast as the
    handlers take them (``stream_request_body``), ``flush()`` sends what was
    written and its future waits for ``send()`` (flow control), and an
    ``http.disconnect`` calls ``on_connection_close``.  ``websocket`` scopes
    run `.WebSocketHandler` over ASGI's websocket messages; a handler that
    refuses the connection sends its HTTP response when the server supports
    ASGI's WebSocket denial responses, and a plain 403 otherwise.

    ``on_startup`` and ``on_shutdown`` are callables (plain or coroutine
    functions, called without arguments, in order) run by the server's
    ``lifespan`` messages; an exception in one of them is reported to the
    server as a failed startup or shutdown.  ``max_body_size`` (100 MiB by
    default) and ``body_timeout`` (none by default) limit request bodies
    as `.HTTPServer` does; handlers may change them for their request with
    ``request.connection.set_max_body_size()`` and ``set_body_timeout()``.

    See the module documentation for what cannot cross the bridge.
    """

    def __init__(
        self,
        application: httputil.HTTPServerConnectionDelegate,
        *,
        on_startup: Iterable[Callable[[], object]] = (),
        on_shutdown: Iterable[Callable[[], object]] = (),
        max_body_size: int | None = None,
        body_timeout: float | None = None,
    ) -> None:
        """Serve ``application``; see the class documentation for the rest."""
        #: The Tornado application (or other delegate) being served.
        self.application = application
        #: Called, in order, when the server starts up (lifespan startup).
        self.on_startup: list[Callable[[], object]] = list(on_startup)
        #: Called, in order, when the server shuts down (lifespan shutdown).
        self.on_shutdown: list[Callable[[], object]] = list(on_shutdown)
        #: The largest request body accepted, in bytes (413 beyond).
        self.max_body_size = (
            _DEFAULT_MAX_BODY_SIZE if max_body_size is None else max_body_size
        )
        #: Seconds allowed to receive a request body, or ``None``.
        self.body_timeout = body_timeout
        #: The lifespan state the server shares with each request's scope,
        #: for the startup hooks to fill (``{}`` until the server starts).
        self.state: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (``http``, ``websocket`` or ``lifespan``)."""
        kind = scope["type"]
        if kind == "http":
            await self._serve_http(scope, receive, send)
        elif kind == "websocket":
            await self._serve_websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._serve_lifespan(scope, receive, send)
        else:
            raise ValueError(f"ASGIAdapter cannot serve {kind!r} scopes")

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = _AdapterHTTPConnection(scope, send, self)
        try:
            delegate = self.application.start_request(connection, connection)
            if await connection.read_request(delegate, receive):
                await connection.wait_until_done(receive)
        finally:
            self.application.on_close(connection)

    async def _serve_websocket(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return  # the client left before anything happened
        connection = _AdapterWebSocketConnection(scope, receive, send)
        try:
            delegate = self.application.start_request(connection, connection)
            start_line, headers = _request_head(scope, websocket=True)
            with _DelegateErrors(connection):
                flow = delegate.headers_received(start_line, headers)
                if flow is not None:
                    await flow
                delegate.finish()
            await connection.done
        finally:
            self.application.on_close(connection)

    async def _serve_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state")
        if isinstance(state, dict):
            self.state = state
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                await self._run_hooks(self.on_startup, "startup", send)
            elif kind == "lifespan.shutdown":
                await self._run_hooks(self.on_shutdown, "shutdown", send)
                return

    async def _run_hooks(
        self, hooks: list[Callable[[], object]], phase: str, send: Send
    ) -> None:
        try:
            for hook in hooks:
                result = hook()
                if isinstance(result, Awaitable):
                    await result
        except Exception:
            await send(
                {"type": f"lifespan.{phase}.failed", "message": traceback.format_exc()}
            )
            return
        await send({"type": f"lifespan.{phase}.complete"})


class _ASGIContext:
    """What Tornado knows of the client: what the ASGI scope says."""

    __slots__ = ("address", "remote_ip", "protocol")

    def __init__(self, scope: Scope) -> None:
        client = scope.get("client")
        #: The client's ``(host, port)``, if the server told it.
        self.address = (str(client[0]), int(client[1])) if client else None
        self.remote_ip = str(client[0]) if client else "0.0.0.0"
        scheme = scope.get("scheme") or "http"
        self.protocol = "https" if scheme in ("https", "wss") else "http"

    def __str__(self) -> str:
        return self.remote_ip


class _StreamNotAcrossASGI(AttributeError):
    """``request.connection.stream`` read under an ASGI server."""


class _AdapterConnection(httputil.HTTPConnection):
    """What the two kinds of ASGI scope have in common as Tornado connections."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.context = _ASGIContext(scope)
        self.outbox = _Outbox(send, self.client_gone)
        self.close_callback: Callable[[], None] | None = None
        #: Resolved once the exchange is over (response sent, or client gone).
        self.done: Future[None] = Future()
        self.gone = False

    @property
    def stream(self) -> NoReturn:
        """There is no stream under ASGI: the server owns the socket."""
        raise _StreamNotAcrossASGI(
            "request.connection.stream does not exist under an ASGI server, "
            "which owns the socket (see tornado.asgi)"
        )

    def detach(self) -> NoReturn:
        """Not possible under ASGI: the server owns the socket.

        Raises `RuntimeError`; the client gets a 500 response (the handler
        counts as finished once it asked to detach).
        """
        self.give_up(500)
        raise RuntimeError(
            "detach() is not possible under an ASGI server, which owns the "
            "socket (see tornado.asgi); WebSocketHandler works without it"
        )

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the client leaves before the exchange ends."""
        self.close_callback = callback

    def close(self) -> None:
        """Give up on the exchange: nothing more is sent."""
        self.close_callback = None
        self.outbox.close()
        self.end()

    def client_gone(self) -> None:
        """The client disconnected (or ``send`` failed)."""
        if self.gone:
            return
        self.gone = True
        self.outbox.close()
        callback, self.close_callback = self.close_callback, None
        if callback is not None:
            callback()
        self.end()

    def end(self) -> None:
        """The exchange is over: the ASGI call may return."""
        _resolve(self.done)

    def give_up(self, status: int | None) -> None:
        """End the exchange after an error, answering ``status`` if possible."""
        raise NotImplementedError()


class _DelegateErrors:
    """Logs an exception escaping an application delegate, and gives up.

    As `.HTTP1Connection` does: "Uncaught exception" to
    ``tornado.application``; a client still waiting gets a bare 500 (ASGI
    gives no way to just close the connection).
    """

    def __init__(self, connection: _AdapterConnection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        pass

    def __exit__(self, typ: Any, value: BaseException | None, tb: Any) -> bool:
        if not isinstance(value, Exception):
            return False  # cancellation and exits propagate untouched
        app_log.error("Uncaught exception", exc_info=(typ, value, tb))
        self.connection.give_up(500)
        return True


def _request_head(
    scope: Scope, websocket: bool = False
) -> tuple[httputil.RequestStartLine, httputil.HTTPHeaders]:
    """The request line and headers a Tornado delegate expects for ``scope``."""
    headers = _tornado_headers(scope.get("headers") or ())
    server = scope.get("server")
    if "Host" not in headers and server:
        host, port = server[0], server[1]
        headers["Host"] = host if port is None else f"{host}:{port}"
    if websocket:
        # The server answered the handshake already; HTTP/2 WebSockets have
        # none of these headers, which WebSocketHandler checks.
        headers["Upgrade"] = "websocket"
        if "upgrade" not in headers.get("Connection", "").lower():
            headers["Connection"] = "Upgrade"
        if not headers.get("Sec-WebSocket-Version", "").strip().isdigit():
            headers["Sec-WebSocket-Version"] = "13"
    method = "GET" if websocket else str(scope["method"])
    version = "HTTP/" + str(scope.get("http_version") or "1.1")
    return httputil.RequestStartLine(method, _request_target(scope), version), headers


def _request_target(scope: Scope) -> str:
    """The request target (raw path and query) of ``scope``."""
    path = str(scope.get("path") or "/")
    raw = scope.get("raw_path")
    target = bytes(raw).decode("latin1") if raw else urllib.parse.quote(path)
    root = str(scope.get("root_path") or "")
    if root and not path.startswith(root):
        # An older server, whose ``path`` leaves out where the app is mounted.
        target = urllib.parse.quote(root) + target
    query = scope.get("query_string")
    if query:
        target += "?" + bytes(query).decode("latin1")
    return target


class _AdapterHTTPConnection(_AdapterConnection):
    """The `.HTTPConnection` of one ASGI ``http`` scope.

    The delegate's writes become ``http.response.*`` messages; the request
    comes from ``receive()``.
    """

    def __init__(self, scope: Scope, send: Send, adapter: ASGIAdapter) -> None:
        super().__init__(scope, send)
        self.max_body_size = adapter.max_body_size
        self.body_timeout = adapter.body_timeout
        self._encoder: BodyEncoder | None = None
        self._omit_body = False
        self._response_started = False
        self._write_finished = False

    # -- what handlers may call -------------------------------------------------

    def set_max_body_size(self, max_body_size: int) -> None:
        """Change the body size limit of this request (before the body is read)."""
        self.max_body_size = max_body_size

    def set_body_timeout(self, timeout: float) -> None:
        """Change the body timeout of this request (seconds)."""
        self.body_timeout = timeout

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        """Send ``http.response.start`` (and the first chunk, if any)."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        method = str(self.scope.get("method", "GET"))
        request_line = httputil.RequestStartLine(method, "/", "HTTP/1.1")
        framing = plan_response_body(request_line, start_line.code, headers)
        message = {
            "type": "http.response.start",
            "status": start_line.code,
            "headers": _asgi_headers(headers, _NOT_IN_ASGI_RESPONSES),
        }
        if framing.kind in (BodyKind.LENGTH, BodyKind.NONE):
            self._encoder = BodyEncoder(framing)  # checks the Content-Length
        self._omit_body = method == "HEAD"
        self._response_started = True
        started = self.outbox.put(message)
        if chunk:
            return self.write(chunk)
        return started

    def write(self, chunk: bytes) -> Future[None]:
        """Send a piece of the body; the future waits for the server to take it."""
        if self._write_finished:
            return _closed_future()
        if self._omit_body:
            chunk = b""
        elif self._encoder is not None:
            self._check_output(self._encoder.encode, chunk)
        return self.outbox.put(
            {"type": "http.response.body", "body": chunk, "more_body": True}
        )

    def finish(self) -> None:
        """Send the last ``http.response.body`` message."""
        if self._encoder is not None and not self._omit_body:
            self._check_output(self._encoder.finish)
        self.close_callback = None
        if self._write_finished:
            return
        self._write_finished = True
        last = self.outbox.put(
            {"type": "http.response.body", "body": b"", "more_body": False}
        )
        last.add_done_callback(lambda _: self.end())

    def _check_output(self, check: Callable[..., object], *args: Any) -> None:
        try:
            check(*args)
        except httputil.HTTPOutputError:
            self.close()  # the response can't be completed correctly
            raise

    # -- driving the exchange -----------------------------------------------------

    async def read_request(
        self, delegate: httputil.HTTPMessageDelegate, receive: Receive
    ) -> bool:
        """Feed the request to ``delegate``; whether it was received completely."""
        try:
            start_line, headers = _request_head(self.scope)
        except httputil.HTTPInputError as e:
            self._reject(e, 400, delegate)
            return False
        with _DelegateErrors(self):
            flow = delegate.headers_received(start_line, headers)
            if flow is not None:
                await flow
            declared = headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_body_size:
                error = httputil.HTTPInputError("Content-Length too long")
                self._reject(error, 413, delegate)
                return False
            return await self._read_body(delegate, receive)
        return False

    async def _read_body(
        self, delegate: httputil.HTTPMessageDelegate, receive: Receive
    ) -> bool:
        received = 0
        loop = asyncio.get_running_loop()
        deadline = (
            None if self.body_timeout is None else loop.time() + self.body_timeout
        )
        while True:
            message = await self._receive_before(receive, deadline)
            if message is None:
                gen_log.info("Timeout reading body from %s", self.context)
                self.give_up(None, delegate)
                return False
            kind = message["type"]
            if kind == "http.disconnect":
                self.client_gone()
                delegate.on_connection_close()
                return False
            if kind != "http.request":
                continue
            body = bytes(message.get("body", b""))
            received += len(body)
            if received > self.max_body_size:
                error = httputil.HTTPInputError("Body larger than max_body_size")
                self._reject(error, 413, delegate)
                return False
            if body and not self._write_finished:
                flow = delegate.data_received(body)
                if flow is not None:
                    await flow
            if not message.get("more_body", False):
                delegate.finish()
                return True

    @staticmethod
    async def _receive_before(
        receive: Receive, deadline: float | None
    ) -> Message | None:
        """The next message, or ``None`` if the deadline passes first."""
        if deadline is None:
            return await receive()
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(receive(), max(remaining, 0))
        except asyncio.TimeoutError:
            return None

    def _reject(
        self,
        error: httputil.HTTPInputError,
        status: int,
        delegate: httputil.HTTPMessageDelegate,
    ) -> None:
        gen_log.info("Malformed HTTP message from %s: %s", self.context, error)
        self.give_up(status, delegate)

    def give_up(
        self,
        status: int | None,
        delegate: httputil.HTTPMessageDelegate | None = None,
    ) -> None:
        """End the exchange, answering ``status`` if the response did not start."""
        last: Future[None] | None = None
        if status is not None and not self._response_started and not self.gone:
            self._response_started = True
            self.outbox.put(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-length", b"0")],
                }
            )
            last = self.outbox.put(
                {"type": "http.response.body", "body": b"", "more_body": False}
            )
        self._write_finished = True
        callback, self.close_callback = self.close_callback, None
        if callback is not None:
            callback()
        if delegate is not None:
            delegate.on_connection_close()
        if last is None:
            self.end()
        else:
            last.add_done_callback(lambda _: self.end())

    async def wait_until_done(self, receive: Receive) -> None:
        """Wait for the response to be sent, noticing if the client leaves."""
        # Most handlers are done within a few loop iterations (their task,
        # the outbox's, the end callback): a listener task for those would
        # cost more than the whole rest of the bridge.
        for _ in range(3):
            if self.done.done():
                return
            await asyncio.sleep(0)
        if self.done.done():
            return
        listener = asyncio.ensure_future(self._notice_disconnect(receive))
        try:
            await self.done
        finally:
            listener.cancel()

    async def _notice_disconnect(self, receive: Receive) -> None:
        # After the body, the only message an ASGI server may send.
        if (await receive())["type"] == "http.disconnect":
            self.client_gone()


class _AdapterWebSocketConnection(_AdapterConnection):
    """The `.HTTPConnection` of one ASGI ``websocket`` scope.

    A 101 response from the handler becomes ``websocket.accept``; any other
    response a denial (``websocket.http.response.*`` where the server
    supports it, otherwise ``websocket.close``, which servers answer with
    a 403).  `.WebSocketHandler` asks it for the protocol object speaking
    ASGI's websocket messages.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope, send)
        self.receive = receive
        extensions = scope.get("extensions") or {}
        self._can_deny = "websocket.http.response" in extensions
        self._denying = False
        self._accepted = False
        # The websocket.close refusing the connection, once queued.
        self._refusal: Future[None] | None = None

    def make_websocket_protocol(self, handler: WebSocketHandler) -> WebSocketProtocol:
        """The protocol object for ``handler`` (see `.WebSocketHandler.get_websocket_protocol`)."""
        return _ASGIWebSocketProtocol(handler, self)

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        """Accept (for a 101 response) or refuse the connection."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        if start_line.code == 101:
            self._accepted = True
            return self.outbox.put(
                {
                    "type": "websocket.accept",
                    "subprotocol": headers.get("Sec-WebSocket-Protocol"),
                    "headers": _asgi_headers(headers, _NOT_IN_WEBSOCKET_ACCEPT),
                }
            )
        if not self._can_deny:
            self._refusal = self.outbox.put({"type": "websocket.close", "code": 1000})
            return self._refusal
        self._denying = True
        started = self.outbox.put(
            {
                "type": "websocket.http.response.start",
                "status": start_line.code,
                "headers": _asgi_headers(headers, _NOT_IN_ASGI_RESPONSES),
            }
        )
        return self.write(chunk) if chunk else started

    def write(self, chunk: bytes) -> Future[None]:
        """Send a piece of a denial response's body."""
        if not self._denying:
            return _done_future()
        return self.outbox.put(
            {"type": "websocket.http.response.body", "body": chunk, "more_body": True}
        )

    def finish(self) -> None:
        """End a denial response (an accepted connection goes on)."""
        self.close_callback = None
        if self._accepted:
            return
        if self._denying:
            last = self.outbox.put(
                {
                    "type": "websocket.http.response.body",
                    "body": b"",
                    "more_body": False,
                }
            )
        else:
            last = self._refusal or _done_future()
        last.add_done_callback(lambda _: self.end())

    def give_up(self, status: int | None) -> None:
        """Refuse the connection if it was not accepted, else close it (1011)."""
        self.close_callback = None
        if self._accepted:
            last = self.outbox.put(
                {"type": "websocket.close", "code": wire.CLOSE_INTERNAL_ERROR}
            )
        elif self._denying:
            last = self.outbox.put(
                {
                    "type": "websocket.http.response.body",
                    "body": b"",
                    "more_body": False,
                }
            )
        else:
            last = self._refusal or self.outbox.put(
                {"type": "websocket.close", "code": 1000}
            )
        last.add_done_callback(lambda _: self.end())


class _ASGIWebSocketProtocol(WebSocketProtocol):
    """A `.WebSocketProtocol` speaking ASGI websocket messages.

    The ASGI server owns the socket and the frames; this turns the
    handler's calls into ``websocket.send``/``websocket.close`` and the
    server's ``websocket.receive``/``websocket.disconnect`` into the
    handler's callbacks.
    """

    def __init__(
        self, handler: WebSocketHandler, connection: _AdapterWebSocketConnection
    ) -> None:
        super().__init__(handler)
        self.connection = connection
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._selected_subprotocol: str | None = None
        self._max_message_size = handler.max_message_size
        self._ping_interval = handler.ping_interval
        self._sent_close_code: int | None = None

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol accepted, if any."""
        return self._selected_subprotocol

    async def accept_connection(self, handler: WebSocketHandler) -> None:
        """Accept through the server, run ``open``, then deliver messages."""
        self._accept(handler)
        try:
            opened = handler.open(*handler.open_args, **handler.open_kwargs)
            if opened is not None:
                await opened
        except asyncio.CancelledError:
            self._abort()
        except Exception:
            handler.log_exception(*sys.exc_info())
            self._abort()
        await self._receive_frame_loop()

    def _accept(self, handler: WebSocketHandler) -> None:
        offered = [
            str(name) for name in self.connection.scope.get("subprotocols") or ()
        ]
        selected = handler.select_subprotocol(offered)
        if selected:
            if selected not in offered:
                raise ValueError(
                    f"select_subprotocol returned {selected!r}, which the client "
                    f"did not offer (offered: {offered})"
                )
            self._selected_subprotocol = selected
            handler.set_header("Sec-WebSocket-Protocol", selected)
        handler.clear_header("Content-Type")
        handler.set_status(101)
        handler.finish()
        for name in _HTTP_ONLY_METHODS:
            setattr(handler, name, _not_supported_for_websockets)
        self.start_pinging()

    async def _receive_frame_loop(self) -> None:
        """Deliver messages until the server reports the disconnect."""
        try:
            await self._read_messages()
        except asyncio.CancelledError:
            self._abort()
        except Exception:
            self.handler.log_exception(*sys.exc_info())
            self._abort()
        self.client_terminated = self.server_terminated = True
        self.handler.on_ws_connection_close(self.close_code, self.close_reason)
        self.connection.end()

    async def _read_messages(self) -> None:
        receive = self.connection.receive
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                self._disconnected(message)
                return
            if kind != "websocket.receive" or self.client_terminated:
                continue
            data = message.get("text")
            if data is None:
                data = message.get("bytes")
            if data is None:
                continue
            if _encoded_length(data) > self._max_message_size:
                self.close(wire.CLOSE_MESSAGE_TOO_BIG, "message too big")
                continue
            handled = self._run_callback(self.handler.on_message, data)
            if handled is not None:
                try:
                    await handled
                except Exception:
                    self.handler.log_exception(*sys.exc_info())
                    self._abort()

    def _disconnected(self, message: Message) -> None:
        self.close_code = self._sent_close_code
        if self.close_code is None:
            reported = message.get("code")
            if reported not in (wire.CLOSE_NO_STATUS, wire.CLOSE_ABNORMAL):
                self.close_code = reported  # else no close code was received
        # After our own close, RFC 6455 peers echo its code (and servers
        # differ in what they report then: 1000, 1005...).
        self.close_reason = message.get("reason") or None

    def write_message(
        self,
        message: str | bytes | bytearray | memoryview | dict[str, Any],
        binary: bool = False,
    ) -> Future[None]:
        """Send a message (see `.WebSocketHandler.write_message`)."""
        if isinstance(message, dict):
            message = json_encode(message)
        elif isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        elif not isinstance(message, (str, bytes)):
            raise TypeError(
                "write_message() needs str, bytes or dict, "
                f"not {type(message).__name__}"
            )
        if self.is_closing():
            raise WebSocketClosedError()
        if binary:
            data = message.encode("utf-8") if isinstance(message, str) else message
            event: Message = {"type": "websocket.send", "bytes": data}
        else:
            text = message.decode("utf-8") if isinstance(message, bytes) else message
            event = {"type": "websocket.send", "text": text}
        return _as_websocket_future(self.connection.outbox.put(event))

    def write_ping(self, data: bytes) -> None:
        """Not possible: ASGI has no ping message."""
        raise RuntimeError(
            "WebSocket pings cannot be sent through ASGI; the ASGI server pings "
            "by itself (uvicorn --ws-ping-interval, hypercorn "
            "--websocket-ping-interval)"
        )

    def start_pinging(self) -> None:
        """The server does the keepalive pings; warn if Tornado was asked to."""
        if self._ping_interval:
            de_dupe_gen_log(
                logging.WARNING,
                "websocket_ping_interval is ignored under an ASGI server, "
                "which sends its own keepalive pings",
            )

    def set_nodelay(self, x: bool) -> None:
        """Nothing to do: the ASGI server owns the socket and its options."""

    def is_closing(self) -> bool:
        """Whether a close was sent or the connection is gone."""
        return self.client_terminated or self.server_terminated or self.connection.gone

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Send ``websocket.close`` (once); the server completes the handshake.

        ASGI cannot send a close frame without a code: ``None`` sends 1000.
        """
        wire.encode_close_payload(code, reason)  # the same checks as on a socket
        if self.server_terminated:
            return
        self.server_terminated = True
        self._sent_close_code = wire.CLOSE_NORMAL if code is None else code
        message: Message = {"type": "websocket.close", "code": self._sent_close_code}
        if reason:
            message["reason"] = reason
        self.connection.outbox.put(message)

    def _abort(self) -> None:
        """Drop the connection (after an error): close with code 1011."""
        if not self.server_terminated:
            self.close(wire.CLOSE_INTERNAL_ERROR)
        self.client_terminated = True

    def on_connection_close(self) -> None:
        """The handler is done with the connection."""
        if not self.server_terminated:
            self._abort()

    def _process_server_headers(
        self, key: str | bytes, headers: httputil.HTTPHeaders
    ) -> None:
        raise NotImplementedError("ASGI WebSockets are server-side only")


def _as_websocket_future(sent: Future[None]) -> Future[None]:
    """``sent``, failing with `.WebSocketClosedError` instead of a closed stream."""
    if sent.done() and sent.exception() is None:
        return sent
    relayed: Future[None] = Future()
    relayed.add_done_callback(_consume_outcome)

    def relay(done: Future[None]) -> None:
        if done.exception() is None:
            _resolve(relayed)
        else:
            _reject_with(relayed, WebSocketClosedError())

    sent.add_done_callback(relay)
    return relayed


def _not_supported_for_websockets(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("Method not supported for Web Sockets")


def _encoded_length(data: str | bytes) -> int:
    if isinstance(data, bytes) or data.isascii():
        return len(data)
    return len(data.encode("utf-8"))
