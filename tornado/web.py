"""A web framework: request handlers, applications and the pieces around them.

An `Application` maps URL patterns to `RequestHandler` subclasses.  For each
request a new handler instance is created, its ``prepare`` method runs, then
the method named after the HTTP verb (``get``, ``post``, ...), and the
response is finished automatically unless the handler did it itself::

    import asyncio
    from tornado.web import Application, RequestHandler

    class MainHandler(RequestHandler):
        def get(self):
            self.write("Hello, world")

    async def main():
        app = Application([(r"/", MainHandler)])
        app.listen(8888)
        await asyncio.Event().wait()

    asyncio.run(main())

The examples in this module's documentation run for real.  They serve the
application on a free loopback port just long enough to fetch one path,
with this ``fetch`` helper:

>>> import asyncio
>>> from tornado.httpclient import AsyncHTTPClient
>>> from tornado.httpserver import HTTPServer
>>> from tornado.testing import bind_unused_port
>>> from tornado.web import Application, HTTPError, RequestHandler
>>> async def fetch(app, path, **kwargs):
...     sock, port = bind_unused_port()
...     server = HTTPServer(app)
...     server.add_socket(sock)
...     client = AsyncHTTPClient(force_instance=True)
...     try:
...         return await client.fetch(
...             f"http://127.0.0.1:{port}{path}", raise_error=False, **kwargs
...         )
...     finally:
...         client.close()
...         server.stop()
...         await server.close_all_connections()
>>> class MainHandler(RequestHandler):
...     def get(self):
...         self.write("Hello, world")
>>> response = asyncio.run(fetch(Application([(r"/", MainHandler)]), "/"))
>>> response.code, response.body
(200, b'Hello, world')

Handlers read the request through `RequestHandler.get_argument` and
friends, cookies (plain or signed), the current user and locale, and build
the response with `RequestHandler.write`, `RequestHandler.render` (templates
with UI modules), redirects and error pages.  `StaticFileHandler` serves
files with ranges and caching; `RedirectHandler`, `ErrorHandler` and
`FallbackHandler` cover common routes; output transforms such as
`GZipContentEncoding` rewrite responses on their way out.

Handler methods run on the event loop thread and most of this module is not
thread-safe: call `RequestHandler.write`, `RequestHandler.finish` and the
like from that thread only (``IOLoop.add_callback`` hands work back to it).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import email.utils
import functools
import hashlib
import http.cookies
import inspect
import logging
import mimetypes
import os
import re
import socket
import stat
import string
import sys
import threading
import time
import traceback
import types
import urllib.parse
import zlib
from collections import OrderedDict
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from typing import (
    Any,
    BinaryIO,
    TypeVar,
    cast,
)

from tornado import _httpgrammar as grammar
from tornado import escape, httputil, iostream, locale, template
from tornado import version as _tornado_version
from tornado._websigning import (
    DEFAULT_SIGNED_VALUE_MIN_VERSION,
    DEFAULT_SIGNED_VALUE_VERSION,
    MAX_SUPPORTED_SIGNED_VALUE_VERSION,
    MIN_SUPPORTED_SIGNED_VALUE_VERSION,
    create_signed_value,
    decode_signed_value,
    decode_xsrf_token,
    encode_xsrf_token,
    get_signature_key_version,
    xsrf_tokens_match,
)
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.escape import json_encode, to_unicode, utf8
from tornado.httpserver import HTTPServer
from tornado.locale import Locale as _Locale
from tornado.log import access_log, app_log, gen_log
from tornado.routing import (
    AnyMatches,
    DefaultHostMatches,
    HostMatches,
    PathMatches,
    ReversibleRouter,
    ReversibleRuleRouter,
    Router,
    Rule,
    URLSpec,
    _Candidate,
    _RuleList,
)
from tornado.util import ObjectDict

__all__ = [
    "Application",
    "RequestHandler",
    "HTTPError",
    "Finish",
    "MissingArgumentError",
    "ErrorHandler",
    "RedirectHandler",
    "StaticFileHandler",
    "FallbackHandler",
    "OutputTransform",
    "GZipContentEncoding",
    "UIModule",
    "TemplateModule",
    "URLSpec",
    "url",
    "addslash",
    "removeslash",
    "authenticated",
    "stream_request_body",
    "create_signed_value",
    "decode_signed_value",
    "get_signature_key_version",
    "is_absolute",
    "MIN_SUPPORTED_SIGNED_VALUE_VERSION",
    "MAX_SUPPORTED_SIGNED_VALUE_VERSION",
    "DEFAULT_SIGNED_VALUE_VERSION",
    "DEFAULT_SIGNED_VALUE_MIN_VERSION",
]

#: Alias of `tornado.routing.URLSpec`, the usual way to write a named route.
url = URLSpec

_HeaderValue = bytes | str | int | datetime.datetime
_CookieSecret = str | bytes | dict[int, str] | dict[int, bytes]
_MethodT = TypeVar("_MethodT", bound=Callable[..., Awaitable[None] | None])
_HandlerT = TypeVar("_HandlerT", bound=type["RequestHandler"])

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Where RequestHandler._execute_rest takes over: the step whose awaitable it
# starts by waiting for.
_AWAITING_PREPARE = 0
_AWAITING_BODY = 1
_AWAITING_METHOD = 2
_SERVER_HEADER = f"TornadoServer/{_tornado_version}"
_UNSAFE_HEADER_VALUE_RE = re.compile(r"[\x00-\x1f\x7f]")
# Anything outside RFC 9112's reason-phrase characters, and "<".
_UNSAFE_REASON_RE = re.compile(r"[^\t\x20-\x7e\x80-\xff]|<")
_ARGUMENT_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")
_UNSAFE_COOKIE_RE = re.compile(r"[\x00-\x20\x7f]")
_UNSAFE_COOKIE_ATTRIBUTE_RE = re.compile(r"[\x00-\x20\x7f;]")
_REPRESENTATION_HEADERS = ("Content-Encoding", "Content-Language", "Content-Type")


class _ArgDefaultMarker:
    """Sentinel: "no default given" for the argument getters."""

    def __repr__(self) -> str:
        return "..."


_ARG_DEFAULT: Any = _ArgDefaultMarker()


# ---------------------------------------------------------------------------
# Exceptions


class HTTPError(Exception):
    """An exception that turns into an HTTP error response.

    Raising ``HTTPError(404)`` in a handler sends a 404 page (through
    `RequestHandler.send_error`) instead of the usual 500 for an uncaught
    exception, and logs the request at warning level rather than with a
    stack trace.

    ``log_message`` is written to the log (never to the client) and may hold
    ``%``-placeholders filled from ``args``; without ``args`` it is taken
    literally (its ``%`` signs are stored doubled, so that formatting it gives
    the text back).  The ``reason`` keyword sets the status line's phrase; it
    defaults to the standard phrase of the code.  Other keyword arguments are
    ignored, as in Tornado 6.6.
    """

    def __init__(
        self,
        status_code: int = 500,
        log_message: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        #: The HTTP status code of the response.
        self.status_code = status_code
        if log_message is not None and not args:
            log_message = log_message.replace("%", "%%")
        self._log_message = log_message
        #: Values for the placeholders of `log_message`.
        self.args = args
        #: The status line's reason phrase, or ``None`` for the standard one.
        self.reason: str | None = kwargs.get("reason")

    @property
    def log_message(self) -> str | None:
        """The message for the log, with ``%`` placeholders for ``args``."""
        return self._log_message

    @log_message.setter
    def log_message(self, value: str | None) -> None:
        self._log_message = value

    def get_message(self) -> str | None:
        """The log message with ``args`` filled in, or ``None``."""
        if self._log_message is None:
            return None
        return self._log_message % self.args

    def __str__(self) -> str:
        """``HTTP <code>: <reason>``, followed by the log message if any."""
        reason = self.reason or httputil.responses.get(self.status_code, "Unknown")
        text = f"HTTP {self.status_code}: {reason}"
        message = self.get_message()
        return f"{text} ({message})" if message else text


class Finish(Exception):
    """Raise to end the request right away, without an error.

    The arguments, if any, are passed to `RequestHandler.finish`.  Unlike
    `HTTPError` the response keeps what the handler set so far (status,
    headers, written output), which makes it handy for custom error pages::

        if not authorized:
            self.set_status(401)
            self.set_header("WWW-Authenticate", 'Basic realm="secret"')
            raise Finish()
    """


class MissingArgumentError(HTTPError):
    """A required argument was not in the request; answers 400.

    Raised by `RequestHandler.get_argument` and its query/body variants.
    """

    def __init__(self, arg_name: str) -> None:
        super().__init__(400, f"Missing argument {arg_name}")
        #: The name of the argument that was missing.
        self.arg_name = arg_name


# ---------------------------------------------------------------------------
# Request handlers


class RequestHandler:
    """Base class of request handlers: subclass it and define verb methods.

    Override ``get``, ``post`` etc. for the HTTP methods to support; a
    method that is not overridden answers 405.  Each request gets a fresh
    instance: `initialize` receives the route's keyword arguments, then
    `prepare` runs, then the verb method with the URL pattern's groups.
    Those methods may be coroutines.

    The examples of its methods use the ``fetch`` helper of the
    :mod:`tornado.web` module documentation.

    >>> class Greeting(RequestHandler):
    ...     def get(self, language):
    ...         hello = {"en": "Hello", "fr": "Bonjour"}.get(language)
    ...         if hello is None:
    ...             raise HTTPError(404)
    ...         self.write(hello)
    >>> app = Application([(r"/hello/([a-z]+)", Greeting)])
    >>> asyncio.run(fetch(app, "/hello/fr")).body
    b'Bonjour'
    >>> asyncio.run(fetch(app, "/hello/xx")).code
    404
    """

    #: The HTTP methods this handler class accepts; others answer 405.
    SUPPORTED_METHODS: tuple[str, ...] = (
        "GET",
        "HEAD",
        "POST",
        "DELETE",
        "PATCH",
        "PUT",
        "OPTIONS",
    )

    _template_loaders: dict[str, template.BaseLoader] = {}
    _template_loader_lock = threading.Lock()
    _stream_request_body = False

    # The state of a new handler.  Class attributes rather than stores in
    # __init__ (each instance gets its own value on the first change):
    # most requests change few of them.
    _headers_written = False
    _finished = False
    _auto_finish = True
    _transforms: Sequence[OutputTransform] = ()
    _prepared_future: Future[None] | None = None
    _request_body_error: httputil.HTTPInputError | None = None
    # Cookies to send, by name (a dict of the handler's own from the first).
    _new_cookies: dict[str, http.cookies.Morsel[str]] | None = None
    # Names of cookies set with ``partitioned=True`` (created on demand).
    _partitioned_cookies: set[str] | None = None
    # Built on first use (see ``ui``): most requests render no template.
    _ui: ObjectDict | None = None

    def __init__(
        self,
        application: Application,
        request: httputil.HTTPServerRequest,
        **kwargs: Any,
    ) -> None:
        """Called by the `Application`; ``kwargs`` go to `initialize`."""
        cls = type(self)
        if cls.__mro__[-2] is not RequestHandler:
            # Another base follows RequestHandler (a mixin): give it its turn.
            # Otherwise object.__init__ follows, which does nothing.
            super().__init__()
        #: The `Application` serving this request.
        self.application = application
        #: The `.HTTPServerRequest` being handled.
        self.request = request
        #: Positional groups of the URL pattern, decoded (set before `prepare`).
        self.path_args: list[Any] = []
        #: Named groups of the URL pattern, decoded (set before `prepare`).
        self.path_kwargs: dict[str, Any] = {}
        self.clear()
        # The default on_connection_close does something only for a streamed
        # body (it fails the body's future): otherwise it needs no callback.
        if (
            cls._stream_request_body
            or cls.on_connection_close is not RequestHandler.on_connection_close
        ):
            set_close_callback = getattr(request.connection, "set_close_callback", None)
            if set_close_callback is not None:
                set_close_callback(self.on_connection_close)
        if kwargs or cls.initialize is not RequestHandler._initialize:
            self.initialize(**kwargs)

    def _initialize(self) -> None:
        """Hook for subclasses, called with the route's keyword arguments.

        For ``(r"/user/(.*)", ProfileHandler, dict(database=db))``, define
        ``def initialize(self, database): self.database = database``.
        """

    # Typed loosely so that subclasses may take any keyword arguments.
    initialize: Callable[..., None] = _initialize

    @property
    def ui(self) -> Any:
        """The UI methods and modules, as seen by templates (``ui.modules``)."""
        if self._ui is None:
            ui = ObjectDict()
            for name, method in self.application.ui_methods.items():
                ui[name] = self._ui_method(method)
            modules = _UIModuleNamespace(self, self.application.ui_modules)
            ui["_tt_modules"] = ui["modules"] = modules
            self._ui = ui
        return self._ui

    @ui.setter
    def ui(self, value: Any) -> None:
        self._ui = value

    @property
    def settings(self) -> dict[str, Any]:
        """The application's settings (an alias of ``application.settings``)."""
        return self.application.settings

    def _unimplemented_method(
        self, *args: Any, **kwargs: Any
    ) -> Awaitable[None] | None:
        """Answer 405 Method Not Allowed: the verb is not implemented.

        The default of every verb method (``get``, ``post``...).  Override
        the verb's method to support it; it receives the URL pattern's
        groups as arguments and may be a coroutine.  Comparing
        ``getattr(cls, verb) is RequestHandler._unimplemented_method``
        tells whether a handler class implements ``verb``.
        """
        raise HTTPError(405)

    head: Callable[..., Awaitable[None] | None] = _unimplemented_method
    get: Callable[..., Awaitable[None] | None] = _unimplemented_method
    post: Callable[..., Awaitable[None] | None] = _unimplemented_method
    delete: Callable[..., Awaitable[None] | None] = _unimplemented_method
    patch: Callable[..., Awaitable[None] | None] = _unimplemented_method
    put: Callable[..., Awaitable[None] | None] = _unimplemented_method
    options: Callable[..., Awaitable[None] | None] = _unimplemented_method

    def prepare(self) -> Awaitable[None] | None:
        """Called before the verb method; may be a coroutine.

        Good for checks common to every method; call `finish` (or raise) to
        stop the request here.

        >>> class KeyRequired(RequestHandler):
        ...     def prepare(self):
        ...         if self.request.headers.get("X-Api-Key") != "open sesame":
        ...             self.set_status(401)
        ...             self.finish("API key needed")
        ...     def get(self):
        ...         self.write("the data")
        >>> app = Application([("/", KeyRequired)])
        >>> response = asyncio.run(fetch(app, "/"))
        >>> response.code, response.body
        (401, b'API key needed')
        >>> asyncio.run(fetch(app, "/", headers={"X-Api-Key": "open sesame"})).body
        b'the data'
        """
        return None

    def on_finish(self) -> None:
        """Called after the response has been sent, for cleanup or logging."""

    def on_connection_close(self) -> None:
        """Called if the client closes the connection before the end.

        Long-polling handlers use it to stop waiting.  Not reliable as the
        only signal: a closed connection may go unnoticed until a write.
        """
        if self._stream_request_body:
            self._end_body_wait()

    def _end_body_wait(self) -> None:
        """Fail the wait for a streamed body: the connection is gone."""
        body_future = self.request._body_future
        if not body_future.done():
            body_future.set_exception(iostream.StreamClosedError())
            body_future.exception()

    # -- status and headers -------------------------------------------------

    def clear(self) -> None:
        """Reset the headers, status and buffered output to their defaults."""
        self._headers = httputil.HTTPHeaders._from_canonical(
            {
                "Server": _SERVER_HEADER,
                "Content-Type": "text/html; charset=UTF-8",
                "Date": _http_date_now(),
            }
        )
        if type(self).set_default_headers is not RequestHandler.set_default_headers:
            self.set_default_headers()  # the default does nothing
        self._write_buffer: list[bytes] = []
        self._status_code = 200
        self._reason = httputil.responses[200]

    def set_default_headers(self) -> None:
        """Hook to set headers every response of this handler gets.

        Called at the start of each request and again by `send_error`,
        after the headers were reset.
        """

    def set_status(self, status_code: int, reason: str | None = None) -> None:
        """Set the response's status code, and optionally its reason phrase.

        Without ``reason`` the standard phrase is used (``"Unknown"`` for a
        code that has none).  A reason that is not a valid reason phrase
        (control characters, text outside Latin-1) or that holds ``<`` is
        replaced by ``"Unknown"``, so it can neither break the status line
        nor inject markup into the error page.
        """
        if reason is None:
            reason = httputil.responses.get(status_code, "Unknown")
        elif _UNSAFE_REASON_RE.search(reason):
            reason = "Unknown"
        self._status_code = status_code
        self._reason = escape.native_str(reason)

    def get_status(self) -> int:
        """The response's status code."""
        return self._status_code

    def set_header(self, name: str, value: _HeaderValue) -> None:
        """Set a response header, replacing earlier values.

        Integers and datetimes are formatted as HTTP expects; a name that is
        not a token or a value with control characters (CR, LF, ...) raises
        `ValueError`.

        >>> class Cached(RequestHandler):
        ...     def get(self):
        ...         self.set_header("Cache-Control", "max-age=3600")
        ...         self.write("keep me an hour")
        >>> asyncio.run(fetch(Application([("/", Cached)]), "/")).headers["Cache-Control"]
        'max-age=3600'
        """
        self._headers[_checked_header_name(name)] = self._convert_header_value(value)

    def add_header(self, name: str, value: _HeaderValue) -> None:
        """Add a response header; unlike `set_header` repeats are kept."""
        self._headers.add(_checked_header_name(name), self._convert_header_value(value))

    def clear_header(self, name: str) -> None:
        """Remove a response header (including one set by default)."""
        if name in self._headers:
            del self._headers[name]

    def _convert_header_value(self, value: _HeaderValue) -> str:
        if isinstance(value, bytes):
            text = value.decode("latin1")
        elif isinstance(value, str):
            text = value
        elif isinstance(value, int):  # bool included: True / False
            return str(value)
        elif isinstance(value, datetime.datetime):
            return httputil.format_timestamp(value)
        else:
            raise TypeError(f"Unsupported header value {value!r}")
        if _UNSAFE_HEADER_VALUE_RE.search(text):
            raise ValueError(f"Unsafe header value {text!r}")
        return text

    # -- arguments ----------------------------------------------------------

    def get_argument(
        self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True
    ) -> Any:
        """The last value of argument ``name`` (query or body), as text.

        Without a ``default`` a missing argument raises
        `MissingArgumentError` (a 400 response).  Surrounding whitespace is
        removed unless ``strip`` is false.

        >>> class Search(RequestHandler):
        ...     def get(self):
        ...         query = self.get_argument("q")
        ...         page = self.get_argument("page", "1")
        ...         self.write(f"{query!r}, page {page}")
        >>> app = Application([("/search", Search)])
        >>> asyncio.run(fetch(app, "/search?q=+tornado+")).body
        b"'tornado', page 1"
        >>> asyncio.run(fetch(app, "/search")).code
        400
        """
        return self._get_argument(name, default, self.request.arguments, strip)

    def get_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of argument ``name`` (query and body); maybe empty."""
        return self._get_arguments(name, self.request.arguments, strip)

    def get_body_argument(
        self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True
    ) -> Any:
        """As `get_argument`, looking only at the request body."""
        return self._get_argument(name, default, self.request.body_arguments, strip)

    def get_body_arguments(self, name: str, strip: bool = True) -> list[str]:
        """As `get_arguments`, looking only at the request body."""
        return self._get_arguments(name, self.request.body_arguments, strip)

    def get_query_argument(
        self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True
    ) -> Any:
        """As `get_argument`, looking only at the query string."""
        return self._get_argument(name, default, self.request.query_arguments, strip)

    def get_query_arguments(self, name: str, strip: bool = True) -> list[str]:
        """As `get_arguments`, looking only at the query string."""
        return self._get_arguments(name, self.request.query_arguments, strip)

    def _get_argument(
        self, name: str, default: Any, source: dict[str, list[bytes]], strip: bool
    ) -> Any:
        values = self._get_arguments(name, source, strip)
        if values:
            return values[-1]
        if default is _ARG_DEFAULT:
            raise MissingArgumentError(name)
        return default

    def _get_arguments(
        self, name: str, source: dict[str, list[bytes]], strip: bool
    ) -> list[str]:
        if not isinstance(strip, bool):
            raise TypeError(f"strip must be a bool, not {strip!r}")
        values = []
        for raw in source.get(name, []):
            value = self.decode_argument(raw, name=name)
            if isinstance(value, str):
                # Control characters have no business in form text.
                value = _ARGUMENT_CONTROL_CHARS_RE.sub(" ", value)
                if strip:
                    value = value.strip()
            values.append(value)
        return values

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """Decode a raw argument (or path group) into text.

        The default decodes UTF-8 and answers 400 for anything else; override
        for other encodings.  ``name`` is ``None`` for path groups.
        """
        try:
            return to_unicode(value)
        except UnicodeDecodeError:
            raise HTTPError(
                400, "Invalid unicode in %s: %r", name or "url", value[:40]
            ) from None

    # -- cookies ------------------------------------------------------------

    @property
    def cookies(self) -> dict[str, http.cookies.Morsel[str]]:
        """The request's cookies (an alias of ``request.cookies``)."""
        return self.request.cookies

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        """The value of the request cookie ``name``, or ``default``."""
        morsel = self.request.cookies.get(name)
        return default if morsel is None else morsel.value

    def set_cookie(
        self,
        name: str,
        value: str | bytes,
        domain: str | None = None,
        expires: float | tuple[int, ...] | datetime.datetime | None = None,
        path: str = "/",
        expires_days: float | None = None,
        *,
        max_age: int | None = None,
        httponly: bool = False,
        secure: bool = False,
        samesite: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Add a ``Set-Cookie`` header to the response.

        ``expires`` is a timestamp, time tuple or datetime; ``expires_days``
        is a shortcut counting from now.  ``max_age`` (seconds, sent only
        when non-zero), ``httponly``, ``secure`` and ``samesite`` set the
        attributes of the same name; ``partitioned=True`` (keyword) adds
        ``Partitioned``, and other keywords are set as attributes as given
        (deprecated).  A space, control character or ``;`` in the name or
        an attribute raises `http.cookies.CookieError`; control characters
        or spaces in the value raise `ValueError` (other special characters
        in values are quoted).
        """
        name = escape.native_str(name)
        value = escape.native_str(value)
        _check_cookie_attribute(name, "name", name)
        if _UNSAFE_COOKIE_RE.search(value):
            raise ValueError(f"Invalid cookie {name!r}: {value!r}")
        morsel: http.cookies.Morsel[str] = http.cookies.Morsel()
        coded = http.cookies.SimpleCookie().value_encode(value)[1]
        morsel.set(name, value, coded)
        if expires_days is not None and not expires:
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
                days=expires_days
            )
        if expires:
            morsel["expires"] = httputil.format_timestamp(expires)
        if max_age:
            morsel["max-age"] = str(int(max_age))
        for attribute, text in (("domain", domain), ("path", path)):
            if text:
                _check_cookie_attribute(name, attribute, text)
                morsel[attribute] = text
        if httponly:
            morsel["httponly"] = True
        if secure:
            morsel["secure"] = True
        if samesite:
            _check_cookie_attribute(name, "samesite", samesite)
            morsel["samesite"] = samesite
        partitioned = bool(kwargs.pop("partitioned", False))
        for key, extra in kwargs.items():
            if key.lower() in ("httponly", "secure") and not extra:
                continue
            if not isinstance(extra, bool):
                _check_cookie_attribute(name, key, str(extra))
            morsel[key] = extra
        if self._new_cookies is None:
            self._new_cookies = {}
        self._new_cookies.pop(name, None)
        self._new_cookies[name] = morsel
        if partitioned:
            if self._partitioned_cookies is None:
                self._partitioned_cookies = set()
            self._partitioned_cookies.add(name)
        elif self._partitioned_cookies is not None:
            self._partitioned_cookies.discard(name)

    def clear_cookie(self, name: str, **kwargs: Any) -> None:
        """Delete the cookie ``name`` on the client (an expired ``Set-Cookie``).

        Pass the same ``path``, ``domain`` (and ``samesite``, ``secure``...)
        as when the cookie was set, or the browser keeps it.
        """
        for forbidden in ("expires", "max_age", "expires_days"):
            if forbidden in kwargs:
                raise TypeError(
                    f"clear_cookie() got an unexpected keyword {forbidden!r}"
                )
        expired = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
            days=365
        )
        self.set_cookie(name, value="", expires=expired, **kwargs)
        assert self._new_cookies is not None
        # Max-Age=0 as well: clients honour it even with a skewed clock.
        self._new_cookies[name]["max-age"] = "0"

    def clear_all_cookies(self, **kwargs: Any) -> None:
        """Delete every cookie the request carried (see `clear_cookie`)."""
        for name in self.request.cookies:
            self.clear_cookie(name, **kwargs)

    def set_signed_cookie(
        self,
        name: str,
        value: str | bytes,
        expires_days: float | None = 30,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Set a cookie signed with the ``cookie_secret`` setting.

        The value can be read back, unforged, with `get_signed_cookie`; it
        is not encrypted.  Other arguments are those of `set_cookie`.

        >>> class Visits(RequestHandler):
        ...     def get(self):
        ...         count = int(self.get_signed_cookie("visits") or 0) + 1
        ...         self.set_signed_cookie("visits", str(count))
        ...         self.write(f"visit {count}")
        >>> app = Application([("/", Visits)], cookie_secret="a long random secret")
        >>> first = asyncio.run(fetch(app, "/"))
        >>> cookie = first.headers["Set-Cookie"].split(";")[0]
        >>> asyncio.run(fetch(app, "/", headers={"Cookie": cookie})).body
        b'visit 2'
        >>> forged = cookie.replace("visits=", "visits=x")
        >>> asyncio.run(fetch(app, "/", headers={"Cookie": forged})).body
        b'visit 1'
        """
        signed = self.create_signed_value(name, value, version=version)
        self.set_cookie(name, signed, expires_days=expires_days, **kwargs)

    set_secure_cookie = set_signed_cookie

    def create_signed_value(
        self, name: str, value: str | bytes, version: int | None = None
    ) -> bytes:
        """Sign ``value`` for ``name`` with the application's cookie secret.

        With a ``{key_version: secret}`` dict as ``cookie_secret`` the
        ``key_version`` setting picks the key to sign with.
        """
        self.require_setting("cookie_secret", "secure cookies")
        secret = self.application.settings["cookie_secret"]
        key_version = None
        if isinstance(secret, dict):
            key_version = self.application.settings.get("key_version")
            if key_version is None:
                raise Exception("key_version setting must be used for secret_key dicts")
        return create_signed_value(
            secret, name, value, version=version, key_version=key_version
        )

    def get_signed_cookie(
        self,
        name: str,
        value: str | None = None,
        max_age_days: float = 31,
        min_version: int | None = None,
    ) -> bytes | None:
        """The verified value of signed cookie ``name`` (bytes), or ``None``.

        ``None`` also stands for a forged, tampered, expired (older than
        ``max_age_days``) or too old a format (below ``min_version``)
        cookie.  ``value`` checks that string instead of the request cookie.
        """
        signed = self._signed_cookie_text(name, value)
        secret = self.application.settings["cookie_secret"]
        return decode_signed_value(
            secret, name, signed, max_age_days=max_age_days, min_version=min_version
        )

    def _signed_cookie_text(self, name: str, value: str | None) -> str | None:
        """``value``, or else the request's cookie ``name``: a signed value."""
        self.require_setting("cookie_secret", "secure cookies")
        return self.get_cookie(name) if value is None else value

    get_secure_cookie = get_signed_cookie

    def get_signed_cookie_key_version(
        self, name: str, value: str | None = None
    ) -> int | None:
        """The key version a signed cookie was signed with, or ``None``."""
        signed = self._signed_cookie_text(name, value)
        return None if signed is None else get_signature_key_version(signed)

    get_secure_cookie_key_version = get_signed_cookie_key_version

    # -- output -------------------------------------------------------------

    def redirect(
        self, url: str, permanent: bool = False, status: int | None = None
    ) -> None:
        """Send a redirect to ``url`` and finish the response.

        The status is 302, or 301 if ``permanent``; ``status`` (a 3xx code)
        overrides both.

        >>> class Moved(RequestHandler):
        ...     def get(self):
        ...         self.redirect("/new-place", permanent=True)
        >>> app = Application([("/old-place", Moved)])
        >>> response = asyncio.run(fetch(app, "/old-place", follow_redirects=False))
        >>> response.code, response.headers["Location"]
        (301, '/new-place')
        """
        if self._headers_written:
            raise Exception("Cannot redirect after headers have been written")
        if status is None:
            status = 301 if permanent else 302
        elif not 300 <= status <= 399:
            raise ValueError(f"redirect status must be a 3xx code, not {status}")
        self.set_status(status)
        self.set_header("Location", utf8(url))
        self.finish()

    def write(self, chunk: str | bytes | dict[str, Any]) -> None:
        """Add ``chunk`` to the output buffer.

        Text is encoded as UTF-8.  A dict is sent as JSON, with the content
        type set to ``application/json`` (lists are refused: a JSON array
        at the top level was a cross-site leak in old browsers).  Use
        `flush` to send the buffer before the response ends.

        >>> class Status(RequestHandler):
        ...     def get(self):
        ...         self.write({"status": "ok", "load": [0.5, 0.25]})
        >>> response = asyncio.run(fetch(Application([("/", Status)]), "/"))
        >>> response.headers["Content-Type"]
        'application/json; charset=UTF-8'
        >>> response.body
        b'{"status": "ok", "load": [0.5, 0.25]}'
        """
        if self._finished:
            raise RuntimeError("Cannot write() after finish()")
        if type(chunk) is bytes:
            self._write_buffer.append(chunk)  # the common cases
            return
        if type(chunk) is str:
            self._write_buffer.append(chunk.encode("utf-8"))  # as utf8() does
            return
        _check_writable(chunk)
        if isinstance(chunk, dict):
            chunk = json_encode(chunk)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
        self._write_buffer.append(utf8(chunk))

    def flush(self, include_footers: bool = False) -> Future[None]:
        """Send the buffered output to the network.

        The first flush also sends the status line and headers.  Returns a
        future resolved once the data has been written (for flow control).
        """
        request = self.request
        connection = request.connection
        assert connection is not None
        chunk = b"".join(self._write_buffer)
        self._write_buffer = []
        if not self._headers_written:
            self._headers_written = True
            if self._new_cookies:
                for name, morsel in self._new_cookies.items():
                    self.add_header("Set-Cookie", self._format_cookie(name, morsel))
            status, reason, headers = self._status_code, self._reason, self._headers
            for transform in self._transforms:
                status, headers, chunk = transform.transform_first_chunk(
                    status, headers, chunk, include_footers
                )
            if request.method == "HEAD":
                chunk = b""
            # ResponseStartLine("", status, reason), without the Python-level
            # __new__ of a named tuple.
            start_line = _new_tuple(httputil.ResponseStartLine, ("", status, reason))
            return connection.write_headers(start_line, headers, chunk)
        for transform in self._transforms:
            chunk = transform.transform_chunk(chunk, include_footers)
        if request.method == "HEAD":
            return _done_future()
        return connection.write(chunk)

    def _format_cookie(self, name: str, morsel: http.cookies.Morsel[str]) -> str:
        text = morsel.OutputString(None)
        if self._partitioned_cookies is not None and name in self._partitioned_cookies:
            text += "; Partitioned"
        return text

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Future[None]:
        """End the response, optionally writing ``chunk`` first.

        A GET or HEAD answered with 200 gets an ``Etag`` header, and becomes
        a 304 when the client already has that version.  Returns a future
        resolved once everything is written.
        """
        if self._finished:
            raise RuntimeError("finish() called twice")
        if chunk is not None:
            self.write(chunk)
        cls = type(self)
        request = self.request
        if not self._headers_written:
            # Etag, 304 and Content-Length, before the first flush.
            headers = self._headers
            # self._headers is always an HTTPHeaders, keyed by canonical
            # names and without pending continuation lines: its table is
            # read and set here without the calls of its methods.
            table = headers._values
            if (
                self._status_code == 200
                and request.method in ("GET", "HEAD")
                and "Etag" not in table
            ):
                if (
                    cls.set_etag_header is RequestHandler.set_etag_header
                    and cls.compute_etag is RequestHandler.compute_etag
                ):
                    # A quoted hex digest: no need for set_header's checks.
                    table["Etag"] = _sha1_etag(self._write_buffer)
                else:
                    self.set_etag_header()
                request_headers = request.headers
                if (
                    cls.check_etag_header is not RequestHandler.check_etag_header
                    or (
                        # The header's presence, without a call for HTTPHeaders.
                        "If-None-Match" in request_headers._values
                        if type(request_headers) is httputil.HTTPHeaders
                        else "If-None-Match" in request_headers
                    )
                ) and self.check_etag_header():
                    self._write_buffer = []
                    self.set_status(304)
            status = self._status_code
            if status == 200 or not _has_no_body(status):
                table = headers._values  # (the same dict, unless a hook replaced it)
                if "Content-Length" not in table:
                    table["Content-Length"] = str(sum(map(len, self._write_buffer)))
            else:
                if self._write_buffer and any(self._write_buffer):
                    raise RuntimeError(f"Cannot send body with {status}")
                for name in _REPRESENTATION_HEADERS:
                    self.clear_header(name)
        connection = request.connection
        assert connection is not None
        if (
            cls._stream_request_body
            or cls.on_connection_close is not RequestHandler.on_connection_close
        ):
            set_close_callback = getattr(connection, "set_close_callback", None)
            if set_close_callback is not None:
                set_close_callback(None)
        future = self.flush(include_footers=True)
        connection.finish()
        self.application.log_request(self)
        self._finished = True
        if cls.on_finish is not RequestHandler.on_finish:
            self.on_finish()  # the default does nothing
        if cls._break_cycles is RequestHandler._break_cycles:
            self._ui = None
        else:
            self._break_cycles()
        return future

    def detach(self) -> iostream.IOStream:
        """Take over the connection's stream; the handler is done with it.

        Used to implement other protocols (such as WebSockets) on top of an
        HTTP request; nothing more is written by the handler.
        """
        self._finished = True
        connection = cast(Any, self.request.connection)
        return cast(iostream.IOStream, connection.detach())

    def _break_cycles(self) -> None:
        # The UI namespace refers back to the handler; drop it so the
        # handler can be freed promptly after the request.
        self._ui = None

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Send an error response with ``status_code``, via `write_error`.

        When the headers were already sent the response is just ended.  An
        ``exc_info`` keyword whose exception is an `HTTPError` with a reason
        supplies the reason phrase; a ``reason`` keyword does too.  A 304
        is sent without calling `write_error` (it has no body).
        """
        if self._headers_written:
            self._end_partial_response()
            return
        self.clear()
        self.set_status(status_code, reason=_error_reason(kwargs))
        if status_code == 405:
            self.set_header("Allow", ", ".join(self._allowed_methods()))
        if status_code != 304:
            try:
                self.write_error(status_code, **kwargs)
            except Exception:
                app_log.error("Uncaught exception in write_error", exc_info=True)
        if not self._finished:
            self.finish()

    def _end_partial_response(self) -> None:
        """An error came after the headers went out: end what was sent."""
        gen_log.error("Cannot send error response after headers written")
        if self._finished:
            return
        try:
            self.finish()
        except Exception:
            gen_log.error("Failed to flush partial response", exc_info=True)

    def _allowed_methods(self) -> list[str]:
        """The supported methods this class actually implements."""
        cls = type(self)
        return [
            method
            for method in self.SUPPORTED_METHODS
            if getattr(cls, method.lower(), RequestHandler._unimplemented_method)
            is not RequestHandler._unimplemented_method
        ]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write the body of an error page; override for custom pages.

        ``kwargs`` may hold ``exc_info`` (the exception being handled).  With
        the ``serve_traceback`` setting the traceback is sent as plain text;
        otherwise a small HTML page names the code and reason.

        >>> class Teapot(RequestHandler):
        ...     def get(self):
        ...         raise HTTPError(418)
        ...     def write_error(self, status_code, **kwargs):
        ...         self.finish({"error": status_code})
        >>> asyncio.run(fetch(Application([("/", Teapot)]), "/")).body
        b'{"error": 418}'
        """
        if self.settings.get("serve_traceback") and "exc_info" in kwargs:
            self.set_header("Content-Type", "text/plain")
            for line in traceback.format_exception(*kwargs["exc_info"]):
                self.write(line)
            self.finish()
        elif _has_no_body(status_code):
            self.finish()
        else:
            message = escape.xhtml_escape(self._reason)
            self.finish(
                f"<html><title>{status_code}: {message}</title>"
                f"<body>{status_code}: {message}</body></html>"
            )

    # -- templates and UI modules ---------------------------------------------

    def render(self, template_name: str, **kwargs: Any) -> Future[None]:
        """Render a template, add the UI modules' resources, and finish.

        JavaScript from the modules goes before ``</body>``, CSS and extra
        head markup before ``</head>``.  Returns the future of `finish`.

        Templates usually live in files under the ``template_path``
        setting; here a `tornado.template.DictLoader` holds one:

        >>> from tornado.template import DictLoader
        >>> templates = DictLoader(
        ...     {"list.html": "<ul>{% for item in items %}<li>{{ item }}</li>{% end %}</ul>"}
        ... )
        >>> class Listing(RequestHandler):
        ...     def get(self):
        ...         self.render("list.html", items=["tea", "<script>"])
        >>> app = Application([("/", Listing)], template_loader=templates)
        >>> asyncio.run(fetch(app, "/")).body
        b'<ul><li>tea</li><li>&lt;script&gt;</li></ul>'
        """
        if self._finished:
            raise RuntimeError("Cannot render() after finish()")
        html = self.render_string(template_name, **kwargs)
        resources = _ModuleResources(getattr(self, "_active_modules", {}).values())
        head_blocks = list(resources.html_heads)
        if resources.css_embed:
            head_blocks.insert(0, utf8(self.render_embed_css(resources.css_embed)))
        if resources.css_files:
            head_blocks.insert(0, utf8(self.render_linked_css(resources.css_files)))
        tail = b""
        if resources.js_files:
            tail += utf8(self.render_linked_js(resources.js_files))
        if resources.js_embed:
            tail += utf8(self.render_embed_js(resources.js_embed))
        tail += b"".join(resources.html_bodies)
        # Each block inserted in <head> ends its own line.
        head = b"".join(block + b"\n" for block in head_blocks)
        html = _insert_before(html, b"</head>", head, last=False, newline=False)
        html = _insert_before(html, b"</body>", tail, last=True)
        return self.finish(html)

    def render_linked_js(self, js_files: Iterable[str]) -> str:
        """``<script>`` tags for ``js_files`` (relative paths via `static_url`)."""
        return "".join(
            f'<script src="{escape.xhtml_escape(path)}" type="text/javascript"></script>'
            for path in self._resource_urls(js_files)
        )

    def render_embed_js(self, js_embed: Iterable[bytes]) -> bytes:
        """One ``<script>`` block holding the embedded JavaScript pieces."""
        return (
            b'<script type="text/javascript">\n//<![CDATA[\n'
            + b"\n".join(js_embed)
            + b"\n//]]>\n</script>"
        )

    def render_linked_css(self, css_files: Iterable[str]) -> str:
        """``<link>`` tags for ``css_files`` (relative paths via `static_url`)."""
        return "".join(
            f'<link href="{escape.xhtml_escape(path)}" type="text/css" rel="stylesheet"/>'
            for path in self._resource_urls(css_files)
        )

    def render_embed_css(self, css_embed: Iterable[bytes]) -> bytes:
        """One ``<style>`` block holding the embedded CSS pieces."""
        return b'<style type="text/css">\n' + b"\n".join(css_embed) + b"\n</style>"

    def _resource_urls(self, paths: Iterable[str]) -> list[str]:
        """Unique URLs, in order; relative paths go through `static_url`."""
        urls: list[str] = []
        for path in paths:
            link = path if is_absolute(path) else self.static_url(path)
            if link not in urls:
                urls.append(link)
        return urls

    def render_string(self, template_name: str, **kwargs: Any) -> bytes:
        """Render a template to bytes, with `get_template_namespace` names.

        Templates are looked up in `get_template_path`, or by default next
        to the source file of the handler calling this.
        """
        template_path = self.get_template_path()
        if not template_path:
            template_path = _caller_directory()
        with RequestHandler._template_loader_lock:
            loader = RequestHandler._template_loaders.get(template_path)
            if loader is None:
                loader = self.create_template_loader(template_path)
                RequestHandler._template_loaders[template_path] = loader
        compiled = loader.load(template_name)
        namespace = self.get_template_namespace()
        namespace.update(kwargs)
        return compiled.generate(**namespace)

    def get_template_namespace(self) -> dict[str, Any]:
        """The names templates see besides their arguments.

        ``handler``, ``request``, ``current_user``, ``locale``, ``_`` and
        ``pgettext`` (translations), ``static_url``, ``xsrf_form_html``,
        ``reverse_url`` and the UI methods and modules.
        """
        user_locale = self.locale
        namespace = dict(
            handler=self,
            request=self.request,
            current_user=self.current_user,
            locale=user_locale,
            _=user_locale.translate,
            pgettext=user_locale.pgettext,
            static_url=self.static_url,
            xsrf_form_html=self.xsrf_form_html,
            reverse_url=self.reverse_url,
        )
        namespace.update(self.ui)
        return namespace

    def create_template_loader(self, template_path: str) -> template.BaseLoader:
        """The template loader for ``template_path``.

        The ``template_loader`` setting wins if given; otherwise a
        `tornado.template.Loader` honouring the ``autoescape`` and
        ``template_whitespace`` settings.
        """
        settings = self.application.settings
        if "template_loader" in settings:
            return cast(template.BaseLoader, settings["template_loader"])
        kwargs = {}
        if "autoescape" in settings:
            kwargs["autoescape"] = settings["autoescape"]
        if "template_whitespace" in settings:
            kwargs["whitespace"] = settings["template_whitespace"]
        return template.Loader(template_path, **kwargs)

    def get_template_path(self) -> str | None:
        """Where templates are found: the ``template_path`` setting by default."""
        return cast(str | None, self.application.settings.get("template_path"))

    def _ui_module(self, name: str, module: type[UIModule]) -> Callable[..., str]:
        def render(*args: Any, **kwargs: Any) -> str:
            if not hasattr(self, "_active_modules"):
                self._active_modules: dict[str, UIModule] = {}
            if name not in self._active_modules:
                self._active_modules[name] = module(self)
            return cast(str, self._active_modules[name].render(*args, **kwargs))

        return render

    def _ui_method(self, method: Callable[..., str]) -> Callable[..., str]:
        return lambda *args, **kwargs: method(self, *args, **kwargs)

    # -- users and locales --------------------------------------------------

    def get_current_user(self) -> Any:
        """Override to find the user of the request (e.g. from a cookie).

        `authenticated` methods refuse requests without a user (or send them
        to the ``login_url`` setting).

        >>> from tornado.web import authenticated
        >>> class Profile(RequestHandler):
        ...     def get_current_user(self):
        ...         return self.get_signed_cookie("user")
        ...     @authenticated
        ...     def get(self):
        ...         self.write(b"Signed in as " + self.current_user)
        >>> app = Application(
        ...     [("/me", Profile)], cookie_secret="a long random secret", login_url="/login"
        ... )
        >>> response = asyncio.run(fetch(app, "/me", follow_redirects=False))
        >>> response.code, response.headers["Location"]
        (302, '/login?next=%2Fme')
        >>> from tornado.web import create_signed_value
        >>> signed = create_signed_value("a long random secret", "user", "ann")
        >>> cookie = "user=" + signed.decode()
        >>> asyncio.run(fetch(app, "/me", headers={"Cookie": cookie})).body
        b'Signed in as ann'
        """
        return None

    def _find_current_user(self) -> Any:
        return self.get_current_user()

    @property
    def current_user(self) -> Any:
        """The authenticated user, or ``None``.

        What `get_current_user` returns, asked once per request.  It may
        also be assigned, which is the way to go when finding the user
        needs a coroutine (do it in an async `prepare`).
        """
        return _once_per_request(self, "_current_user", self._find_current_user)

    @current_user.setter
    def current_user(self, value: Any) -> None:
        self._current_user = value

    def get_login_url(self) -> str:
        """Where `authenticated` sends anonymous users: ``login_url`` setting."""
        self.require_setting("login_url", "@tornado.web.authenticated")
        return cast(str, self.application.settings["login_url"])

    def _find_locale(self) -> _Locale:
        chosen = self.get_user_locale()
        return chosen if chosen is not None else self.get_browser_locale()

    @property
    def locale(self) -> _Locale:
        """The user's locale, asked once per request.

        `get_user_locale` decides, or else `get_browser_locale`.  May be
        assigned to override it.
        """
        return cast(_Locale, _once_per_request(self, "_locale", self._find_locale))

    @locale.setter
    def locale(self, value: _Locale) -> None:
        self._locale = value

    def get_user_locale(self) -> _Locale | None:
        """Override to pick the locale from the user's profile; ``None`` here."""
        return None

    def get_browser_locale(self, default: str = "en_US") -> _Locale:
        """The best supported locale among those in ``Accept-Language``."""
        header = self.request.headers.get("Accept-Language")
        codes = _accepted_languages(header) if header else []
        if not codes:
            return locale.get(default)
        return locale.get(*codes)

    # -- XSRF ---------------------------------------------------------------

    @property
    def xsrf_token(self) -> bytes:
        """The XSRF token of this user, to put into forms.

        Sets the ``_xsrf`` cookie when the user has none yet.  With version
        2 tokens (the default; ``xsrf_cookie_version`` setting) every call
        in a new request returns a differently masked string of the same
        token.  ``xsrf_cookie_kwargs`` are extra `set_cookie` arguments.
        """
        if not hasattr(self, "_xsrf_token"):
            version, token, timestamp = self._get_raw_xsrf_token()
            output_version = self.settings.get("xsrf_cookie_version", 2)
            cookie_kwargs = dict(self.settings.get("xsrf_cookie_kwargs", {}))
            self._xsrf_token = encode_xsrf_token(token, timestamp, output_version)
            if version is None:
                if self.current_user and "expires_days" not in cookie_kwargs:
                    cookie_kwargs["expires_days"] = 30
                cookie_name = self.settings.get("xsrf_cookie_name", "_xsrf")
                self.set_cookie(cookie_name, self._xsrf_token, **cookie_kwargs)
        return self._xsrf_token

    def _get_raw_xsrf_token(self) -> tuple[int | None, bytes, float]:
        """``(version, token, timestamp)`` from the cookie, or a new token."""
        if not hasattr(self, "_raw_xsrf_token"):
            cookie = self.get_cookie(self.settings.get("xsrf_cookie_name", "_xsrf"))
            version, token, timestamp = (
                decode_xsrf_token(cookie) if cookie else (None, None, None)
            )
            if token is None or timestamp is None:
                version, token, timestamp = None, os.urandom(16), time.time()
            self._raw_xsrf_token = (version, token, timestamp)
        return self._raw_xsrf_token

    def check_xsrf_cookie(self) -> None:
        """Reject (403) a request whose XSRF token does not match the cookie.

        The token comes from the ``_xsrf`` argument or the ``X-XSRFToken``
        or ``X-CSRFToken`` header.  Called for every request whose method
        is not GET, HEAD or OPTIONS when the ``xsrf_cookies`` setting is on
        (see also the ``cross_origin_protection`` setting).
        """
        token = (
            self.get_argument("_xsrf", None)
            or self.request.headers.get("X-Xsrftoken")
            or self.request.headers.get("X-Csrftoken")
        )
        if not token:
            raise HTTPError(403, "'_xsrf' argument missing from POST")
        _, sent_token, _ = decode_xsrf_token(token)
        _, expected_token, _ = self._get_raw_xsrf_token()
        if not sent_token:
            raise HTTPError(403, "'_xsrf' argument has invalid format")
        if not xsrf_tokens_match(utf8(sent_token), utf8(expected_token)):
            raise HTTPError(403, "XSRF cookie does not match POST argument")

    def check_trusted_origin(self, origin: str) -> bool:
        """Whether a cross-origin request from ``origin`` may go through.

        Consulted by the ``cross_origin_protection`` check (and, through
        ``WebSocketHandler.check_origin``, for WebSockets) when a request
        comes from another origin.  The default accepts the origins listed
        in the ``trusted_origins`` setting, compared exactly::

            Application(handlers, cross_origin_protection=True,
                        trusted_origins=["https://app.example.com"])
        """
        return origin in self.settings.get("trusted_origins", ())

    def xsrf_form_html(self) -> str:
        """A hidden ``<input>`` carrying the XSRF token, for forms."""
        return (
            '<input type="hidden" name="_xsrf" value="'
            + escape.xhtml_escape(self.xsrf_token)
            + '"/>'
        )

    # -- URLs ---------------------------------------------------------------

    def static_url(
        self, path: str, include_host: bool | None = None, **kwargs: Any
    ) -> str:
        """The URL of static file ``path``, versioned for caching.

        Needs the ``static_path`` setting; the ``static_handler_class``
        builds the URL (see `StaticFileHandler.make_static_url`).  With
        ``include_host`` (or a handler attribute ``include_host``) the URL
        is absolute.
        """
        self.require_setting("static_path", "static_url")
        handler_class = self.settings.get("static_handler_class", StaticFileHandler)
        if include_host is None:
            include_host = getattr(self, "include_host", False)
        base = f"{self.request.protocol}://{self.request.host}" if include_host else ""
        return base + cast(
            str, handler_class.make_static_url(self.settings, path, **kwargs)
        )

    def require_setting(self, name: str, feature: str = "this feature") -> None:
        """Raise if the application lacks setting ``name`` (for ``feature``)."""
        if not self.application.settings.get(name):
            raise Exception(
                f"You must define the '{name}' setting in your application "
                f"to use {feature}"
            )

    def reverse_url(self, name: str, *args: Any) -> str:
        """Alias of `Application.reverse_url`."""
        return self.application.reverse_url(name, *args)

    # -- etags --------------------------------------------------------------

    def compute_etag(self) -> str | None:
        """The ``Etag`` of the response: a hash of the output by default.

        Return ``None`` to send no ``Etag``.
        """
        return _sha1_etag(self._write_buffer)

    def set_etag_header(self) -> None:
        """Set the ``Etag`` header from `compute_etag`, if it gives one."""
        etag = self.compute_etag()
        if etag is not None:
            self.set_header("Etag", etag)

    def check_etag_header(self) -> bool:
        """Whether the response's ``Etag`` matches the ``If-None-Match`` header.

        Weak and strong tags compare equal, and ``*`` matches anything.
        """
        if "If-None-Match" not in self.request.headers:
            return False  # the usual case: the client has no cached copy
        computed = self._headers._get("Etag", "")
        sent = grammar.find_entity_tags(self.request.headers.get("If-None-Match", ""))
        if not computed or not sent:
            return False
        if sent[0] == "*":
            return True
        strong = computed.removeprefix("W/")
        return any(tag.removeprefix("W/") == strong for tag in sent)

    # -- request bodies -------------------------------------------------------

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Receive a piece of the body (with `stream_request_body` only).

        May return an awaitable to slow the client down until it is done.
        """
        raise NotImplementedError()

    # -- running the request ------------------------------------------------------

    def _execute(
        self, transforms: Sequence[OutputTransform], *args: bytes, **kwargs: bytes
    ) -> Coroutine[Any, Any, None] | None:
        """Run the request through prepare, the verb method and finish.

        As long as no step returns an awaitable, everything happens in this
        call.  From the first awaitable on, the rest is left to the coroutine
        returned (`_execute_rest`), which the caller runs as a task: so a
        handler that awaits runs in a task of its own, as in Tornado (code
        in it may rely on ``asyncio.current_task()``, as ``asyncio.timeout()``
        does), and one that does not costs no task.
        """
        if transforms:
            self._transforms = transforms
        rest = None
        try:
            # The steps up to the first one returning an awaitable.
            method_name = self.request.method or ""
            if method_name not in self.SUPPORTED_METHODS:
                raise HTTPError(405)
            if self._request_body_error is not None:
                raise HTTPError(
                    400, "Malformed request body: %s", self._request_body_error
                )
            if args or kwargs:
                self._decode_path_arguments(args, kwargs)
            if method_name not in _SAFE_METHODS:
                self._check_unsafe_request()
            # The default prepare returns None: no need to call it.
            if type(self).prepare is not RequestHandler.prepare:
                result = self.prepare()
                if result is not None:
                    rest = self._execute_rest(result, _AWAITING_PREPARE)
                    return rest
            if self._prepared_future is not None:
                # The body may now flow into data_received.
                future_set_result_unless_cancelled(self._prepared_future, None)
            if self._finished:
                return None
            if self._stream_request_body:
                rest = self._execute_rest(None, _AWAITING_BODY)
                return rest
            # The bound method is not kept: this frame ends before any wait.
            if self.path_args or self.path_kwargs:
                result = getattr(self, method_name.lower())(
                    *self.path_args, **self.path_kwargs
                )
            else:
                result = getattr(self, method_name.lower())()  # (a plain call)
            if result is not None:
                rest = self._execute_rest(result, _AWAITING_METHOD)
            elif self._auto_finish and not self._finished:
                self.finish()
        except (Exception, asyncio.CancelledError) as e:
            # Nothing was awaited: a CancelledError is the handler's own.
            self._handle_uncaught(e)
        finally:
            if rest is None and self._prepared_future is not None:
                self._release_prepared_future()
        return rest

    async def _execute_rest(self, pending: Any, stage: int) -> None:
        """The steps of `_execute` from the one that returned ``pending`` on."""
        try:
            if stage == _AWAITING_PREPARE:
                await pending
                if self._end_prepare():
                    return
            if stage != _AWAITING_METHOD:
                if self._stream_request_body:
                    try:
                        await self.request._body_future
                    except iostream.StreamClosedError:
                        return
                pending = self._call_verb_method()
            if pending is not None:
                await pending
            if self._auto_finish and not self._finished:
                self.finish()
        except asyncio.CancelledError as e:
            if not _task_is_cancelled():
                # Raised by the handler's own code: an error like any other.
                self._handle_uncaught(e)
                return
            # Cancelled from outside: the client still gets an answer.
            if not self._finished:
                self._send_error_safely(500)
            raise
        except Exception as e:
            self._handle_uncaught(e)
        finally:
            self._release_prepared_future()

    def _end_prepare(self) -> bool:
        """Let the body flow once prepare is done; whether it finished the request."""
        if self._prepared_future is not None:
            # The body may now flow into data_received.
            future_set_result_unless_cancelled(self._prepared_future, None)
        return self._finished

    def _call_verb_method(self) -> Any:
        # Called without keeping the bound method in a local, which a
        # waiting request would hold on to for nothing.
        return getattr(self, (self.request.method or "").lower())(
            *self.path_args, **self.path_kwargs
        )

    def _release_prepared_future(self) -> None:
        if self._prepared_future is not None and not self._prepared_future.done():
            self._prepared_future.set_result(None)

    def _handle_uncaught(self, e: BaseException) -> None:
        try:
            self._handle_request_exception(e)
        except Exception:
            app_log.error("Exception in exception handler", exc_info=True)

    def _send_error_safely(self, status_code: int) -> None:
        try:
            self.send_error(status_code)
        except Exception:
            app_log.error("Exception in exception handler", exc_info=True)

    def _check_unsafe_request(self) -> None:
        """The XSRF and cross-origin checks of a state-changing request."""
        if self.settings.get("xsrf_cookies"):
            self.check_xsrf_cookie()
        if self.settings.get("cross_origin_protection"):
            refusal = _cross_origin_refusal(self.request, self.check_trusted_origin)
            if refusal is not None:
                raise HTTPError(403, refusal)

    def _decode_path_arguments(
        self, args: tuple[bytes, ...], kwargs: dict[str, bytes]
    ) -> None:
        # Apart from _execute: a comprehension there would turn ``self`` into
        # a closure cell that every waiting request keeps.
        self.path_args = [self.decode_argument(arg) for arg in args]
        self.path_kwargs = {
            name: self.decode_argument(value, name=name)
            for name, value in kwargs.items()
        }

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, Finish):
            if not self._finished:
                self.finish(*e.args)
            return
        exc_info = (type(e), e, e.__traceback__)
        try:
            self.log_exception(*exc_info)
        except Exception:
            app_log.error("Error in exception logger", exc_info=True)
        if self._finished:
            return
        status = e.status_code if isinstance(e, HTTPError) else 500
        self.send_error(status, exc_info=exc_info)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Log an exception raised by the handler.

        An `HTTPError` logs its message (if any) at warning level without a
        traceback; anything else logs at error level with the traceback and
        the request.
        """
        if isinstance(value, HTTPError):
            message = value.get_message()
            if message:
                gen_log.warning(
                    "%d %s: %s", value.status_code, self._request_summary(), message
                )
            return
        assert typ is not None and value is not None
        app_log.error(
            "Uncaught exception %s\n%r",
            self._request_summary(),
            self.request,
            exc_info=(typ, value, tb),
        )

    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.uri} ({self.request.remote_ip})"


def _sha1_etag(parts: list[bytes]) -> str:
    """`RequestHandler.compute_etag`'s default: the quoted SHA-1 of ``parts``."""
    if len(parts) == 1:
        return f'"{_sha1(parts[0]).hexdigest()}"'
    hasher = _sha1()
    for part in parts:
        hasher.update(part)
    return f'"{hasher.hexdigest()}"'


# tuple.__new__: builds a named tuple from a tuple of its fields.
_new_tuple = tuple.__new__


# The default Etag's hash.  CPython's own SHA-1, where the build has it,
# costs much less to start than OpenSSL's (hashlib's choice): a third of the
# instructions for a small body.  The digest is the same.
def _builtin_sha1() -> Callable[..., Any]:
    try:
        module = __import__("_sha1")
    except ImportError:  # a build without the built-in hashes
        return hashlib.sha1
    return cast(Callable[..., Any], module.sha1)


_sha1 = _builtin_sha1()


def _check_writable(chunk: object) -> None:
    """Refuse what `RequestHandler.write` cannot send (callers may ignore types)."""
    if not isinstance(chunk, (bytes, str, dict)):
        message = "write() only accepts bytes, unicode, and dict objects"
        if isinstance(chunk, list):
            message += (
                ". Lists not accepted for security reasons; see "
                "http://www.tornadoweb.org/en/stable/web.html"
                "#tornado.web.RequestHandler.write"
            )
        raise TypeError(message)


def _content_chunks(content: bytes | Iterable[bytes]) -> Iterable[bytes]:
    """`StaticFileHandler.get_content`'s result as chunks.

    Overrides may return the whole content as bytes, as in Tornado.
    """
    return [content] if isinstance(content, bytes) else content


def _task_is_cancelled() -> bool:
    """Whether the running task itself is being cancelled (by ``Task.cancel``).

    Python 3.10 cannot tell: every `asyncio.CancelledError` then counts as
    raised by the handler's code.
    """
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling is not None and cancelling() > 0


def _cross_origin_refusal(
    request: httputil.HTTPServerRequest, is_trusted: Callable[[str], bool]
) -> str | None:
    """Why ``request`` counts as an untrusted cross-origin one (``None``: it is not).

    Browsers tell where a request comes from with ``Sec-Fetch-Site``;
    older ones only with ``Origin``, which is then compared with ``Host``
    (the scheme is not compared).  ``is_trusted`` is asked about any other
    origin.  ``Referer`` is never consulted.
    """
    headers = request.headers
    site = headers.get("Sec-Fetch-Site")
    origin = headers.get("Origin")
    if site in ("same-origin", "none"):
        return None
    if site is None:
        if origin is None or _origin_is_host(origin, headers.get("Host")):
            return None
        if is_trusted(origin):
            return None
        return f"Origin {origin!r} not allowed"
    if origin is not None and is_trusted(origin):
        return None
    return f"Sec-Fetch-Site {site} & origin {origin!r} not allowed"


def _origin_is_host(origin: str, host: str | None) -> bool:
    if host is None:
        return False
    try:
        netloc = urllib.parse.urlsplit(origin).netloc
    except ValueError:
        return False
    return netloc.lower() == host.lower()


def _once_per_request(
    handler: RequestHandler, attribute: str, find: Callable[[], Any]
) -> Any:
    """``handler``'s ``attribute``, found by ``find`` on first use."""
    known = handler.__dict__
    if attribute not in known:
        known[attribute] = find()
    return known[attribute]


def _error_reason(error_kwargs: dict[str, Any]) -> str | None:
    """The reason phrase for `RequestHandler.send_error`'s keywords."""
    exc_info = error_kwargs.get("exc_info")
    exception = exc_info[1] if exc_info else None
    if isinstance(exception, HTTPError) and exception.reason:
        return exception.reason
    return cast(str | None, error_kwargs.get("reason"))


def _has_no_body(status_code: int) -> bool:
    """Whether responses with ``status_code`` never carry a body."""
    return status_code in (204, 304) or 100 <= status_code < 200


def _checked_header_name(name: str) -> str:
    if not isinstance(name, str) or not grammar.is_token(name):
        raise ValueError(f"Invalid header name {name!r}")
    return name


def _check_cookie_attribute(cookie: str, attribute: str, value: str) -> None:
    """Refuse text that would end the attribute early or add one."""
    if _UNSAFE_COOKIE_ATTRIBUTE_RE.search(value):
        raise http.cookies.CookieError(
            f"Invalid cookie attribute {attribute}={value!r} for cookie {cookie!r}"
        )


def _done_future() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


def _accepted_languages(header: str) -> list[str]:
    """Language codes of an ``Accept-Language`` header, best first."""
    weighted = []
    for item in header.split(","):
        code, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if code and quality > 0:
            weighted.append((quality, code.strip()))
    weighted.sort(key=lambda pair: -pair[0])
    return [code for _, code in weighted]


def _caller_directory() -> str:
    """Directory of the first source file up the stack outside this module."""
    frame = sys._getframe(1)
    while frame.f_code.co_filename == __file__ and frame.f_back is not None:
        frame = frame.f_back
    return os.path.dirname(frame.f_code.co_filename)


def _insert_before(
    html: bytes, marker: bytes, insertion: bytes, last: bool, newline: bool = True
) -> bytes:
    """``html`` with ``insertion`` put before the first (or last) ``marker``."""
    if not insertion:
        return html
    position = html.rfind(marker) if last else html.find(marker)
    if position < 0:
        return html
    if newline:
        insertion += b"\n"
    return html[:position] + insertion + html[position:]


class _ModuleResources:
    """The JavaScript, CSS and markup the active UI modules asked for."""

    def __init__(self, modules: Iterable[UIModule]) -> None:
        self.js_embed: list[bytes] = []
        self.js_files: list[str] = []
        self.css_embed: list[bytes] = []
        self.css_files: list[str] = []
        self.html_heads: list[bytes] = []
        self.html_bodies: list[bytes] = []
        for module in modules:
            _append_text(self.js_embed, module.embedded_javascript())
            _extend_paths(self.js_files, module.javascript_files())
            _append_text(self.css_embed, module.embedded_css())
            _extend_paths(self.css_files, module.css_files())
            _append_text(self.html_heads, module.html_head())
            _append_text(self.html_bodies, module.html_body())


def _append_text(parts: list[bytes], value: str | bytes | None) -> None:
    if value:
        parts.append(utf8(value))


def _extend_paths(paths: list[str], value: str | bytes | Iterable[str] | None) -> None:
    if not value:
        return
    if isinstance(value, (str, bytes)):
        paths.append(to_unicode(value))
    else:
        paths.extend(value)


# ---------------------------------------------------------------------------
# Decorators


def stream_request_body(cls: _HandlerT) -> _HandlerT:
    """Class decorator: give the request body to the handler as it arrives.

    `RequestHandler.data_received` is called with each chunk between
    `RequestHandler.prepare` and the verb method, and ``request.body`` stays
    empty.  In ``prepare`` the handler may raise the size limit with
    ``self.request.connection.set_max_body_size(...)``.
    """
    if not (isinstance(cls, type) and issubclass(cls, RequestHandler)):
        raise TypeError(f"expected subclass of RequestHandler, got {cls!r}")
    cls._stream_request_body = True
    return cls


# What browsers strip from both ends of a URL, and drop from inside it.
_URL_EDGE_CHARS = "".join(map(chr, range(0x21)))
_URL_DROPPED_CHARS = str.maketrans("", "", "\t\r\n")


def _as_browser_reads(url: str) -> str:
    """``url`` normalised as browsers do before resolving it.

    Leading and trailing control characters and spaces are stripped, tabs
    and line breaks dropped, and backslashes read as slashes.
    """
    url = url.strip(_URL_EDGE_CHARS).translate(_URL_DROPPED_CHARS)
    return url.replace("\\", "/")


def _local_redirect_path(path: str) -> str:
    """``path`` as a redirect target, refused (403) if it would leave the site.

    Two initial slashes (after browser normalisation) would make the
    target a protocol-relative URL naming another host.
    """
    if _as_browser_reads(path).startswith("//"):
        raise HTTPError(403, "cannot redirect path with two initial slashes")
    return path


def removeslash(method: _MethodT) -> _MethodT:
    """Decorator: redirect ``/foo/`` to ``/foo`` (GET and HEAD; else 404).

    Use with a pattern such as ``r"/foo/*"``.
    """

    @functools.wraps(method)
    def wrapper(
        self: RequestHandler, *args: Any, **kwargs: Any
    ) -> Awaitable[None] | None:
        path = self.request.path
        if path.endswith("/"):
            if self.request.method not in ("GET", "HEAD"):
                raise HTTPError(404)
            target = path.rstrip("/")
            if target:
                _redirect_keeping_query(self, _local_redirect_path(target))
                return None
        return method(self, *args, **kwargs)

    return cast(_MethodT, wrapper)


def addslash(method: _MethodT) -> _MethodT:
    """Decorator: redirect ``/foo`` to ``/foo/`` (GET and HEAD; else 404).

    Use with a pattern such as ``r"/foo/?"``.
    """

    @functools.wraps(method)
    def wrapper(
        self: RequestHandler, *args: Any, **kwargs: Any
    ) -> Awaitable[None] | None:
        path = self.request.path
        if not path.endswith("/"):
            if self.request.method not in ("GET", "HEAD"):
                raise HTTPError(404)
            _redirect_keeping_query(self, _local_redirect_path(path + "/"))
            return None
        return method(self, *args, **kwargs)

    return cast(_MethodT, wrapper)


def _redirect_keeping_query(self: RequestHandler, path: str) -> None:
    query = self.request.query
    self.redirect(f"{path}?{query}" if query else path, permanent=True)


def authenticated(method: _MethodT) -> _MethodT:
    """Decorator: only for logged-in users (see ``current_user``).

    Anonymous GET and HEAD requests are redirected to `get_login_url
    <RequestHandler.get_login_url>` with a ``next`` argument holding the
    current URL (unless the login URL already has a query); other methods
    get 403.
    """

    @functools.wraps(method)
    def wrapper(
        self: RequestHandler, *args: Any, **kwargs: Any
    ) -> Awaitable[None] | None:
        if self.current_user:
            return method(self, *args, **kwargs)
        if self.request.method not in ("GET", "HEAD"):
            raise HTTPError(403)
        login_url = self.get_login_url()
        if "?" not in login_url:
            if urllib.parse.urlsplit(login_url).scheme:
                next_url = self.request.full_url()
            else:
                assert self.request.uri is not None
                next_url = self.request.uri
            login_url += "?" + urllib.parse.urlencode(dict(next=next_url))
        self.redirect(login_url)
        return None

    return cast(_MethodT, wrapper)


# ---------------------------------------------------------------------------
# Applications


class _ApplicationRouter(ReversibleRuleRouter):
    """The router inside `Application`: targets may be handler classes.

    A rule whose target is a list of rules becomes a nested router of the
    same kind, so host-specific handler lists work.
    """

    def __init__(self, application: Application, rules: _RuleList | None = None):
        self.application = application
        super().__init__(rules)

    def process_rule(self, rule: Rule) -> Rule:
        rule = super().process_rule(rule)
        if isinstance(rule.target, (list, tuple)):
            rule.target = _ApplicationRouter(self.application, rule.target)
        return rule

    def _first_delegate(
        self, candidates: list[_Candidate], request: httputil.HTTPServerRequest
    ) -> httputil.HTTPMessageDelegate | None:
        # RuleRouter's walk, building the delegate of a handler class here
        # rather than through get_target_delegate and get_handler_delegate
        # (when neither is overridden, and the match is a literal path or a
        # PathMatches one, whose parameters those two take as they are).
        application = self.application
        if (
            type(self).get_target_delegate is not _ApplicationRouter.get_target_delegate
            or type(application).get_handler_delegate
            is not Application.get_handler_delegate
        ):
            return super()._first_delegate(candidates, request)
        for rule, matcher in candidates:
            target = rule.target
            if not (isinstance(target, type) and issubclass(target, RequestHandler)):
                delegate = super()._first_delegate([(rule, matcher)], request)
            elif matcher is None:
                delegate = _HandlerDelegate(
                    application, request, target, rule.target_kwargs, None, None
                )
            elif type(matcher) is PathMatches:
                params = matcher.match(request)
                if params is None:
                    continue
                delegate = _HandlerDelegate(
                    application,
                    request,
                    target,
                    rule.target_kwargs,
                    params.get("path_args"),
                    params.get("path_kwargs"),
                )
            else:
                delegate = super()._first_delegate([(rule, matcher)], request)
            if delegate is not None:
                return delegate
        return None

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> httputil.HTTPMessageDelegate | None:
        if isinstance(target, type) and issubclass(target, RequestHandler):
            return self.application.get_handler_delegate(
                request, target, **target_params
            )
        return super().get_target_delegate(target, request, **target_params)


class Application(ReversibleRouter):
    """A collection of request handlers making up a web application.

    ``handlers`` is a list of rules: tuples ``(pattern, handler_class[,
    kwargs[, name]])``, `URLSpec` or `tornado.routing.Rule` objects.  The
    first rule matching the request path wins; the pattern's groups become
    the handler method's arguments.  Give the application to
    ``tornado.httpserver.HTTPServer``, or call `listen`.

    ``settings`` configure the handlers.  Notable ones: ``debug`` (turns on
    ``autoreload``, ``serve_traceback`` and turns off
    ``compiled_template_cache`` and ``static_hash_cache``), ``cookie_secret``,
    ``xsrf_cookies``, ``cross_origin_protection`` and ``trusted_origins``
    (see :doc:`the cross-origin protection section </web>`), ``login_url``,
    ``template_path``, ``static_path``
    (serves ``/static/``, ``/robots.txt`` and ``/favicon.ico`` from it,
    see ``static_url_prefix``, ``static_handler_class`` and
    ``static_handler_args``), ``default_handler_class`` and
    ``default_handler_args`` (for unmatched requests instead of a 404),
    ``ui_modules``, ``ui_methods``, ``log_function`` and
    ``compress_response``.

    With the ``fetch`` helper of the :mod:`tornado.web` module
    documentation:

    >>> class Item(RequestHandler):
    ...     def initialize(self, stock):
    ...         self.stock = stock
    ...     def get(self, item_id):
    ...         self.write(self.stock.get(item_id, "sold out"))
    >>> app = Application(
    ...     [(r"/items/([0-9]+)", Item, {"stock": {"1": "apples"}}, "item")],
    ...     default_host="shop.example.com",
    ... )
    >>> app.reverse_url("item", 1)
    '/items/1'
    >>> asyncio.run(fetch(app, "/items/1")).body
    b'apples'
    >>> asyncio.run(fetch(app, "/nowhere")).code
    404
    """

    def __init__(
        self,
        handlers: _RuleList | None = None,
        default_host: str | None = None,
        transforms: list[type[OutputTransform]] | None = None,
        **settings: Any,
    ) -> None:
        #: Output transform classes applied to every response.
        self.transforms: list[type[OutputTransform]]
        if transforms is None:
            self.transforms = []
            if settings.get("compress_response") or settings.get("gzip"):
                self.transforms.append(GZipContentEncoding)
        else:
            self.transforms = list(transforms)
        #: The host to use when no host pattern matches (see `add_handlers`).
        self.default_host = default_host
        #: The keyword arguments given to the constructor.
        self.settings = settings
        #: UI modules by name, available to templates.
        self.ui_modules: dict[str, type[UIModule]] = {
            "linkify": _LinkifyModule,
            "xsrf_form_html": _XsrfFormModule,
            "Template": TemplateModule,
        }
        #: UI methods by name, available to templates.
        self.ui_methods: dict[str, Callable[..., str]] = {}
        self._load_ui_modules(settings.get("ui_modules", {}))
        self._load_ui_methods(settings.get("ui_methods", {}))
        handlers = list(handlers or [])
        if settings.get("static_path"):
            handlers = self._static_rules() + handlers
        if settings.get("debug"):
            for name, value in (
                ("autoreload", True),
                ("compiled_template_cache", False),
                ("static_hash_cache", False),
                ("serve_traceback", True),
            ):
                settings.setdefault(name, value)
        #: Router for the handlers given to the constructor (any host).
        self.wildcard_router = _ApplicationRouter(self, handlers)
        #: Router tried first: host-specific rules, then `wildcard_router`.
        self._wildcard_rule = Rule(AnyMatches(), self.wildcard_router)
        self.default_router = _ApplicationRouter(self, [self._wildcard_rule])
        if settings.get("autoreload"):
            from tornado import autoreload

            autoreload.start()

    def _static_rules(self) -> list[Any]:
        settings = self.settings
        prefix = settings.get("static_url_prefix", "/static/")
        handler_class = settings.get("static_handler_class", StaticFileHandler)
        handler_args = dict(settings.get("static_handler_args", {}))
        handler_args["path"] = settings["static_path"]
        patterns = [re.escape(prefix) + r"(.*)", r"/(favicon\.ico)", r"/(robots\.txt)"]
        return [(pattern, handler_class, handler_args) for pattern in patterns]

    def listen(
        self,
        port: int,
        address: str | None = None,
        *,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = 128,
        flags: int | None = None,
        reuse_port: bool = False,
        **kwargs: Any,
    ) -> HTTPServer:
        """Serve this application on ``port`` with a new `.HTTPServer`.

        The socket arguments are those of ``HTTPServer.listen``; other
        keywords (``xheaders``, ``ssl_options``, ``max_body_size``...) go to
        the server.  Returns the server, whose ``stop`` method ends
        listening.  For several processes, build the server yourself.
        """
        server = HTTPServer(self, **kwargs)
        server.listen(
            port,
            address=address,
            family=family,
            backlog=backlog,
            flags=flags,
            reuse_port=reuse_port,
        )
        return server

    def add_handlers(self, host_pattern: str, host_handlers: _RuleList) -> None:
        """Add handlers for requests whose host matches ``host_pattern``.

        Host rules are tried in the order they were added, before the
        handlers given to the constructor.  With a ``default_host``, these
        handlers also serve requests for that host when no host matched.
        """
        host_matcher = HostMatches(host_pattern)
        rule = Rule(host_matcher, _ApplicationRouter(self, host_handlers))
        self.default_router.rules.insert(-1, rule)
        if self.default_host is not None:
            self.wildcard_router.add_rules(
                [(DefaultHostMatches(self, host_matcher.host_pattern), host_handlers)]
            )

    def add_transform(self, transform_class: type[OutputTransform]) -> None:
        """Apply ``transform_class`` to every later response."""
        self.transforms.append(transform_class)

    def _load_ui_methods(self, methods: Any) -> None:
        if isinstance(methods, types.ModuleType):
            methods = {name: getattr(methods, name) for name in dir(methods)}
        if isinstance(methods, list):
            for group in methods:
                self._load_ui_methods(group)
            return
        for name, function in methods.items():
            if not name.startswith("_") and callable(function) and name[0].islower():
                self.ui_methods[name] = function

    def _load_ui_modules(self, modules: Any) -> None:
        if isinstance(modules, types.ModuleType):
            modules = {name: getattr(modules, name) for name in dir(modules)}
        if isinstance(modules, list):
            for group in modules:
                self._load_ui_modules(group)
            return
        for name, module_class in modules.items():
            if inspect.isclass(module_class) and issubclass(module_class, UIModule):
                self.ui_modules[name] = module_class

    def __call__(self, request: httputil.HTTPServerRequest) -> Awaitable[None] | None:
        """Handle a complete request (the older callable interface)."""
        delegate = self.find_handler(request)
        assert isinstance(delegate, _HandlerDelegate)
        return delegate.execute()

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> _HandlerDelegate:
        """The delegate for ``request``: matched route, default handler or 404."""
        # `wildcard_router` directly when `default_router` would only pass
        # the request on to it.
        router: Router = self.default_router
        if type(router) is _ApplicationRouter:
            rules = router.rules
            if (
                len(rules) == 1
                and rules[0] is self._wildcard_rule
                and type(rules[0]._matcher) is AnyMatches
                and rules[0].target is self.wildcard_router
                and not rules[0].target_kwargs
            ):
                router = self.wildcard_router
        route = router.find_handler(request)
        if route is not None:
            return route  # type: ignore[return-value]  # (no cast() call)
        if self.settings.get("default_handler_class"):
            return self.get_handler_delegate(
                request,
                self.settings["default_handler_class"],
                self.settings.get("default_handler_args", {}),
            )
        return self.get_handler_delegate(request, ErrorHandler, {"status_code": 404})

    def get_handler_delegate(
        self,
        request: httputil.HTTPServerRequest,
        target_class: type[RequestHandler],
        target_kwargs: dict[str, Any] | None = None,
        path_args: list[bytes] | None = None,
        path_kwargs: dict[str, bytes] | None = None,
    ) -> _HandlerDelegate:
        """A delegate that runs ``target_class`` for ``request``.

        ``target_kwargs`` go to the handler's ``initialize``; ``path_args``
        and ``path_kwargs`` to its verb method.
        """
        return _HandlerDelegate(
            self, request, target_class, target_kwargs, path_args, path_kwargs
        )

    def reverse_url(self, name: str, *args: Any) -> str:
        """The path of the route called ``name``, with ``args`` filled in.

        Arguments are converted to text and URL-escaped.  `KeyError` if no
        route has that name.
        """
        reversed_url = self.default_router.reverse_url(name, *args)
        if reversed_url is None:
            raise KeyError(f"{name} not found in named urls")
        return reversed_url

    def log_request(self, handler: RequestHandler) -> None:
        """Log a finished request to ``tornado.access``.

        Below 400 at info level, 4xx at warning, 5xx at error.  The
        ``log_function`` setting, called with the handler, replaces this.
        """
        settings = self.settings
        if "log_function" in settings:
            settings["log_function"](handler)
            return
        if type(handler).get_status is RequestHandler.get_status:
            status = handler._status_code
        else:
            status = handler.get_status()
        if status < 400:
            level = logging.INFO
        elif status < 500:
            level = logging.WARNING
        else:
            level = logging.ERROR
        if not access_log.isEnabledFor(level):
            return  # spare formatting the summary, as is common in production
        request_time = 1000.0 * handler.request.request_time()
        access_log.log(
            level, "%d %s %.2fms", status, handler._request_summary(), request_time
        )


# The arguments of a route without any (never changed: shared).
_NO_ARGS: Sequence[bytes] = ()
_NO_KWARGS: Mapping[str, Any] = types.MappingProxyType({})


class _HandlerDelegate(httputil.HTTPMessageDelegate):
    """Receives a request for a handler class and runs the handler."""

    __slots__ = (
        "application",
        "connection",
        "request",
        "handler_class",
        "handler_kwargs",
        "path_args",
        "path_kwargs",
        "chunks",
        "stream_request_body",
        "body_error",
        "handler",
    )

    def __init__(
        self,
        application: Application,
        request: httputil.HTTPServerRequest,
        handler_class: type[RequestHandler],
        handler_kwargs: dict[str, Any] | None,
        path_args: list[bytes] | None,
        path_kwargs: dict[str, bytes] | None,
    ) -> None:
        self.application = application
        self.connection = request.connection
        self.request = request
        self.handler_class = handler_class
        # Shared empty values rather than new ones: these are only read.
        self.handler_kwargs = handler_kwargs or _NO_KWARGS
        self.path_args = path_args or _NO_ARGS
        self.path_kwargs = path_kwargs or _NO_KWARGS
        # The body's pieces (created with the first one).
        self.chunks: list[bytes] | None = None
        if not issubclass(handler_class, RequestHandler):
            raise TypeError(
                f"expected subclass of RequestHandler, got {handler_class!r}"
            )
        self.stream_request_body = handler_class._stream_request_body
        self.body_error: httputil.HTTPInputError | None = None
        self.handler: RequestHandler | None = None

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        if self.stream_request_body:
            self.request._body_future = Future()
            return self.execute()
        return None

    def data_received(self, data: bytes) -> Awaitable[None] | None:
        if self.stream_request_body:
            assert self.handler is not None
            return self.handler.data_received(data)
        if self.chunks is None:
            self.chunks = [data]
        else:
            self.chunks.append(data)
        return None

    def finish(self) -> None:
        if self.stream_request_body:
            future_set_result_unless_cancelled(self.request._body_future, None)
            return
        request = self.request
        if self.chunks:
            request.body = b"".join(self.chunks)
            self.chunks = None
        else:
            request.body = b""
        try:
            request._parse_body()
        except httputil.HTTPInputError as e:
            self.body_error = e
        self.execute()

    def on_connection_close(self) -> None:
        if self.stream_request_body:
            assert self.handler is not None
            # Ended here too, not only by RequestHandler.on_connection_close:
            # an override that does not call it would leave the handler's
            # task waiting for the body forever.
            self.handler._end_body_wait()
            self.handler.on_connection_close()
        else:
            self.chunks = None

    def execute(self) -> Awaitable[None] | None:
        """Create the handler and start running it."""
        application = self.application
        request = self.request
        settings = application.settings
        if not settings.get("compiled_template_cache", True):
            with RequestHandler._template_loader_lock:
                for loader in RequestHandler._template_loaders.values():
                    loader.reset()
        if not settings.get("static_hash_cache", True):
            settings.get("static_handler_class", StaticFileHandler).reset()
        handler_kwargs = self.handler_kwargs
        if handler_kwargs:
            handler = self.handler_class(application, request, **handler_kwargs)
        else:
            handler = self.handler_class(application, request)  # (a plain call)
        self.handler = handler
        handler._request_body_error = self.body_error
        transforms: Sequence[OutputTransform] = ()
        if application.transforms:
            transforms = [t(request) for t in application.transforms]
        if self.stream_request_body:
            handler._prepared_future = Future()
        # A context of its own, as a task would have: what the handler sets
        # in context variables stays with its request.
        context = contextvars.copy_context()
        if self.path_args or self.path_kwargs:
            rest = context.run(
                handler._execute, transforms, *self.path_args, **self.path_kwargs
            )
        else:
            rest = context.run(handler._execute, transforms)  # (a plain call)
        if rest is not None:
            # _execute_rest handles its errors; asyncio reports anything
            # that escapes it.
            context.run(asyncio.get_running_loop().create_task, rest)
        return handler._prepared_future


# The last formatted Date header and the whole second it stands for: every
# response of that second reuses it.
_http_date_cache: tuple[int, str] = (-1, "")


def _http_date_now() -> str:
    """The current time as a ``Date`` header value."""
    global _http_date_cache
    second = int(time.time())
    if _http_date_cache[0] != second:
        _http_date_cache = (second, httputil.format_timestamp(second))
    return _http_date_cache[1]


# ---------------------------------------------------------------------------
# Ready-made handlers


class ErrorHandler(RequestHandler):
    """Answers every request with the ``status_code`` given in its kwargs."""

    def initialize(self, status_code: int) -> None:
        """Remember the status code to answer with."""
        self.set_status(status_code)

    def prepare(self) -> None:
        """Raise the `HTTPError`, whatever the method."""
        raise HTTPError(self._status_code)

    def check_xsrf_cookie(self) -> None:
        """No XSRF check: a POST to a missing page should be a 404, not 403."""

    def check_trusted_origin(self, origin: str) -> bool:
        """Every origin is accepted: the answer is an error page anyway."""
        return True


def _fixed_prefix(template: str) -> str:
    """The text of a `str.format` template before its first substitution."""
    literal_parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        literal_parts.append(literal)
        if field is not None:
            break
    return "".join(literal_parts)


def _scheme_and_host(url: str) -> tuple[str, str] | None:
    """Scheme and netloc of ``url`` as a browser reads it (``None``: unreadable)."""
    try:
        parsed = urllib.parse.urlsplit(_as_browser_reads(url))
    except ValueError:
        return None
    return parsed.scheme.lower(), parsed.netloc.lower()


class RedirectHandler(RequestHandler):
    """Redirects every GET to the ``url`` given in its kwargs.

    ``url`` may use `str.format` fields filled from the pattern's groups::

        (r"/pictures/(.*)", RedirectHandler, dict(url=r"/photos/{0}"))

    The request's query string is appended to the target.  The scheme and
    host of the target always come from the template, never from the
    request: a target whose scheme or host differs from what the template
    fixes before its first field (read as a browser would), and an
    ``http(s)`` template whose host is all substituted (``"https://{0}"``),
    answer 400.  Redirects are permanent (301) unless ``permanent=False``.
    """

    def initialize(self, url: str, permanent: bool = True) -> None:
        """Remember the target template and the kind of redirect."""
        self._url = url
        self._permanent = permanent

    def get(self, *args: Any, **kwargs: Any) -> None:
        """Redirect to the formatted target."""
        target = self._url.format(*args, **kwargs)
        if self.request.query_arguments:
            target = httputil.url_concat(
                target,
                [
                    (name, to_unicode(value))
                    for name, value in httputil.qs_to_qsl(self.request.query_arguments)
                ],
            )
        fixed = _scheme_and_host(_fixed_prefix(self._url))
        if (
            fixed is None
            or (fixed[0] in ("http", "https") and not fixed[1])
            or _scheme_and_host(target) != fixed
        ):
            raise HTTPError(400, "Redirect URL cannot change the scheme or netloc")
        if _UNSAFE_HEADER_VALUE_RE.search(target):
            raise HTTPError(400, "Redirect URL contains invalid characters")
        self.redirect(target, permanent=self._permanent)


class FallbackHandler(RequestHandler):
    """Passes the request to another server callable (e.g. a WSGI container).

    ``fallback`` is any callable taking an `.HTTPServerRequest`, such as
    ``tornado.wsgi.WSGIContainer``; it answers the request itself::

        wsgi_app = WSGIContainer(django_app)
        Application([
            (r"/tornado", MainHandler),
            (r".*", FallbackHandler, dict(fallback=wsgi_app)),
        ])
    """

    def initialize(
        self, fallback: Callable[[httputil.HTTPServerRequest], None]
    ) -> None:
        """Remember the callable to hand requests to."""
        #: The callable answering the requests.
        self.fallback = fallback

    def prepare(self) -> None:
        """Call the fallback; the handler itself writes nothing."""
        self.fallback(self.request)
        self._finished = True
        self.on_finish()


class StaticFileHandler(RequestHandler):
    """Serves the files of a directory.

    Set up automatically with the ``static_path`` setting, or by hand with
    a pattern whose single group is the file's path::

        (r"/content/(.*)", StaticFileHandler, {"path": "/var/www"})

    ``default_filename`` (e.g. ``"index.html"``) is served for a directory
    (a request without the trailing slash is redirected to it first).
    Requests never reach outside ``path``: ``..`` segments, encoded slashes
    and symbolic links pointing elsewhere are refused, unless the link
    leads into ``allowed_symlink_directory``.

    Byte ranges (206 and 416), ``If-None-Match`` and ``If-Modified-Since``
    (304) are supported; content is sent in chunks, never loaded whole.
    URLs from ``static_url`` carry a ``v=`` content hash and are cached by
    browsers for `CACHE_MAX_AGE` seconds.

    Subclass to change how files are found, read, versioned or cached; the
    class methods work without a request so that `make_static_url` can.
    """

    #: Cache lifetime (seconds) of versioned URLs: ten years.
    CACHE_MAX_AGE = 86400 * 365 * 10
    #: How many content hashes the class remembers at most.
    MAX_CACHED_VERSIONS = 10000
    #: Content larger than this (bytes) gets no version hash (64 MiB).
    MAX_VERSION_CONTENT_SIZE = 64 * 1024 * 1024

    _static_hashes: OrderedDict[str, str | None] = OrderedDict()
    _lock = threading.Lock()

    #: Directory, or list of directories, that symbolic links in ``root``
    #: may lead into (``None``: links must stay inside ``root``).
    allowed_symlink_directory: str | list[str] | None = None

    #: The file's path within ``root``, from the URL (set by `get`).
    path: str
    #: The file's absolute path once validated (set by `get`).
    absolute_path: str
    #: The file's modification time, or ``None`` (set by `get`).
    modified: datetime.datetime | None

    def initialize(
        self,
        path: str,
        default_filename: str | None = None,
        allowed_symlink_directory: str | list[str] | None = None,
    ) -> None:
        """Serve the directory ``path``; see the class documentation."""
        #: The directory served.
        self.root = path
        #: File served for directory requests, or ``None`` (then 403).
        self.default_filename = default_filename
        if allowed_symlink_directory is not None:
            self.allowed_symlink_directory = allowed_symlink_directory

    @classmethod
    def reset(cls) -> None:
        """Forget the cached content hashes (``static_hash_cache=False``)."""
        with cls._lock:
            cls._static_hashes.clear()

    def head(self, path: str) -> Awaitable[None]:
        """As `get`, without the body."""
        return self.get(path, include_body=False)

    async def get(self, path: str, include_body: bool = True) -> None:
        """Send the file at ``path`` (relative to ``root``), or part of it."""
        self.path = self.parse_url_path(path)
        del path  # only the parsed path is trusted from here on
        absolute_path = self.get_absolute_path(self.root, self.path)
        validated = self.validate_absolute_path(self.root, absolute_path)
        if validated is None:
            return
        self.absolute_path = validated
        self.modified = self.get_modified_time()
        self.set_headers()
        if self.should_return_304():
            self.set_status(304)
            return
        size = self.get_content_size()
        byte_range = self._requested_range(size)
        if byte_range is _UNSATISFIABLE:
            self.set_status(416)
            self.set_header("Content-Type", "text/plain")
            self.set_header("Content-Range", f"bytes */{size}")
            return
        start, end = cast(tuple[int | None, int | None], byte_range)
        if start is not None or end is not None:
            self.set_status(206)
            self.set_header(
                "Content-Range", f"bytes {start or 0}-{(end or size) - 1}/{size}"
            )
        self.set_header("Content-Length", (end or size) - (start or 0))
        if not include_body:
            return
        content = self.get_content(self.absolute_path, start, end)
        for chunk in _content_chunks(content):
            try:
                self.write(chunk)
                await self.flush()
            except iostream.StreamClosedError:
                return

    def _requested_range(self, size: int) -> object:
        """``(start, end)`` to send (``None`` meaning the file's edge) or
        ``_UNSATISFIABLE``; ``(None, None)`` for the whole file."""
        header = self.request.headers.get("Range")
        parsed = _parse_byte_range(header) if header else None
        if parsed is None:
            return (None, None)
        start, end = parsed
        if start is not None and start < 0:
            start = max(size + start, 0)
        if end is not None and end > size:
            end = size
        if (
            (start is not None and start >= size)
            or (start is not None and end is not None and start >= end)
            or end == 0
        ):
            return _UNSATISFIABLE
        if (start or 0) == 0 and (end is None or end == size):
            return (None, None)  # the whole file: a plain 200
        return (start, end)

    def compute_etag(self) -> str | None:
        """The file's version hash, quoted; ``None`` if it has none."""
        version = self._get_cached_version(self.absolute_path)
        return f'"{version}"' if version else None

    def set_headers(self) -> None:
        """Set the response headers describing the file.

        ``Accept-Ranges``, the ``Etag`` (from `compute_etag`), the type,
        ``Last-Modified``, then ``Expires`` and ``Cache-Control`` when
        `get_cache_time` allows caching, and last `set_extra_headers`.
        """
        mime_type = self.get_content_type()
        described: dict[str, _HeaderValue | None] = {
            "Accept-Ranges": "bytes",
            "Content-Type": mime_type or None,
            "Last-Modified": self.modified,
        }
        for name, value in described.items():
            if value is not None:
                self.set_header(name, value)
        self.set_etag_header()
        self._set_cache_headers(
            self.get_cache_time(self.path, self.modified, mime_type)
        )
        self.set_extra_headers(self.path)

    def _set_cache_headers(self, seconds: int) -> None:
        """Let clients keep the file ``seconds`` (no caching headers if 0)."""
        if seconds <= 0:
            return
        until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=seconds
        )
        self.set_header("Cache-Control", f"max-age={seconds}")
        self.set_header("Expires", until)

    def should_return_304(self) -> bool:
        """Whether the client's cached copy is current (conditional headers)."""
        if self.request.headers.get("If-None-Match"):
            return self.check_etag_header()
        since_header = self.request.headers.get("If-Modified-Since")
        if since_header is None or self.modified is None:
            return False
        since = _parse_http_date(since_header)
        return since is not None and since >= self.modified

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        """The absolute path of ``path`` under ``root``.

        Raises `HTTPError` 403 when ``path`` as written (``../`` and the
        like) leads out of ``root``; symbolic links are checked later, by
        `validate_absolute_path`.
        """
        absolute_root = os.path.abspath(root)
        absolute_path = os.path.abspath(os.path.join(absolute_root, path))
        if not _is_within(absolute_path, absolute_root):
            raise HTTPError(403, "%s is not in root static directory", path)
        return absolute_path

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        """Check ``absolute_path`` may be served and return the file to send.

        Raises `HTTPError` 403 for a path outside ``root`` (as written, or
        through a symbolic link leading elsewhere than
        `allowed_symlink_directory`), for a directory without
        ``default_filename`` and for anything that is not a regular file,
        and 404 for a missing file.  Returns ``None`` after redirecting a
        directory request to its slashed form.
        """
        if "\x00" in absolute_path:
            raise HTTPError(404, "NUL byte in path %r", self.path)
        root = os.path.abspath(root)
        if not _is_within(absolute_path, root) or not self._resolves_inside(
            root, absolute_path
        ):
            raise HTTPError(403, "%s is not in root static directory", self.path)
        if os.path.isdir(absolute_path) and self.default_filename is not None:
            if not self.request.path.endswith("/"):
                self.redirect(
                    _local_redirect_path(self.request.path + "/"), permanent=True
                )
                return None
            absolute_path = os.path.join(absolute_path, self.default_filename)
        if not os.path.exists(absolute_path):
            raise HTTPError(404)
        if not os.path.isfile(absolute_path):
            raise HTTPError(403, "%s is not a file", self.path)
        return absolute_path

    def _resolves_inside(self, root: str, absolute_path: str) -> bool:
        """Whether symbolic links keep ``absolute_path`` in an allowed place."""
        real = os.path.realpath(absolute_path)
        allowed = self.allowed_symlink_directory
        if allowed is None:
            allowed = []
        elif isinstance(allowed, str):
            allowed = [allowed]
        return any(
            _is_within(real, os.path.realpath(directory))
            for directory in [root, *allowed]
        )

    @classmethod
    def get_content(
        cls, abspath: str, start: int | None = None, end: int | None = None
    ) -> Generator[bytes, None, None]:
        """The bytes ``start`` to ``end`` (exclusive) of the file, in chunks.

        Anything but a regular file (a FIFO, a device...) raises
        `HTTPError` 403 before a byte is read: reading those could block
        or never end.  May be overridden to return a single `bytes`
        instead of an iterator.
        """
        with _open_regular_file(abspath) as file:
            if start is not None:
                file.seek(start)
            remaining = None if end is None else end - (start or 0)
            while remaining is None or remaining > 0:
                size = _FILE_CHUNK_SIZE
                if remaining is not None:
                    size = min(size, remaining)
                chunk = file.read(size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """A version string for the file: the SHA-512 of `get_content`.

        Content over `MAX_VERSION_CONTENT_SIZE` bytes raises `ValueError`
        (and so gets no version) rather than being read whole.
        """
        hasher = hashlib.sha512()
        size = 0
        content = cls.get_content(abspath)
        for chunk in _content_chunks(content):
            size += len(chunk)
            if size > cls.MAX_VERSION_CONTENT_SIZE:
                raise ValueError(
                    f"{abspath} is larger than {cls.MAX_VERSION_CONTENT_SIZE} bytes"
                )
            hasher.update(chunk)
        return hasher.hexdigest()

    @classmethod
    def _get_cached_version(cls, abs_path: str) -> str | None:
        with cls._lock:
            if abs_path in cls._static_hashes:
                cls._static_hashes.move_to_end(abs_path)
                return cls._static_hashes[abs_path]
        try:
            version: str | None = cls.get_content_version(abs_path)
        except Exception as e:
            gen_log.error("Could not open static file %r: %s", abs_path, e)
            version = None
        with cls._lock:
            cls._static_hashes[abs_path] = version
            while len(cls._static_hashes) > cls.MAX_CACHED_VERSIONS:
                cls._static_hashes.popitem(last=False)
        return version

    def _stat(self) -> os.stat_result:
        if not hasattr(self, "_stat_result"):
            self._stat_result = os.stat(self.absolute_path)
        return self._stat_result

    def get_content_size(self) -> int:
        """The size of the file in bytes."""
        return self._stat().st_size

    def get_modified_time(self) -> datetime.datetime | None:
        """The file's modification time (UTC, whole seconds), or ``None``."""
        return datetime.datetime.fromtimestamp(
            int(self._stat().st_mtime), datetime.timezone.utc
        )

    def get_content_type(self) -> str:
        """The MIME type, guessed from the file name.

        Compressed files are ``application/gzip`` (``.gz``) or
        ``application/octet-stream`` (other encodings such as ``.bz2``), as
        is anything unknown.
        """
        mime_type, encoding = mimetypes.guess_type(self.absolute_path)
        if encoding == "gzip":
            return "application/gzip"
        if encoding is not None or mime_type is None:
            return "application/octet-stream"
        return mime_type

    def set_extra_headers(self, path: str) -> None:
        """Hook to add headers to every file response."""

    def get_cache_time(
        self, path: str, modified: datetime.datetime | None, mime_type: str
    ) -> int:
        """Seconds the client may cache the file: long for versioned URLs.

        `CACHE_MAX_AGE` when the URL has a ``v`` argument, else 0 (no
        caching headers; conditional requests still work).
        """
        return self.CACHE_MAX_AGE if "v" in self.request.arguments else 0

    @classmethod
    def make_static_url(
        cls, settings: dict[str, Any], path: str, include_version: bool = True
    ) -> str:
        """The URL of ``path``: prefix, path and ``?v=`` version hash.

        Called without a handler (so it cannot look at the request); used by
        ``RequestHandler.static_url``.
        """
        url: str = settings.get("static_url_prefix", "/static/") + path
        if not include_version:
            return url
        version = cls.get_version(settings, path)
        return f"{url}?v={version}" if version else url

    def parse_url_path(self, url_path: str) -> str:
        """Turn the URL's path group into a path relative to ``root``."""
        if os.path.sep != "/":
            url_path = url_path.replace("/", os.path.sep)
        return url_path

    @classmethod
    def get_version(cls, settings: dict[str, Any], path: str) -> str | None:
        """The version string of static file ``path``, cached per file."""
        try:
            abs_path = cls.get_absolute_path(settings["static_path"], path)
        except HTTPError:
            return None  # outside the static directory: never hashed
        return cls._get_cached_version(abs_path)


_FILE_CHUNK_SIZE = 64 * 1024
_UNSATISFIABLE = object()


def _open_regular_file(abspath: str) -> BinaryIO:
    """Open ``abspath`` for reading, refusing (403) anything but a regular file.

    The descriptor is opened without blocking (a FIFO would otherwise wait
    for a writer) and checked with ``fstat``, so the file cannot be swapped
    between the check and the read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(abspath, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise HTTPError(403, "%s is not a file", abspath)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _parse_byte_range(header: str) -> tuple[int | None, int | None] | None:
    """``(start, end)`` of a single-range ``Range`` header, end exclusive.

    ``bytes=N`` and ``bytes=N-`` run to the end; a suffix range
    (``bytes=-500``) gives a negative start.  Multiple ranges and anything
    unparseable give ``None`` (the header is then ignored).
    """
    unit, equals, spec = header.strip().partition("=")
    if unit != "bytes" or not equals:
        return None
    first, _, last = spec.partition("-")
    if not grammar.is_digits(first) and not (first == "" and grammar.is_digits(last)):
        return None
    if last and not grammar.is_digits(last):
        return None
    if first:
        return _range_number(first), _range_number(last) + 1 if last else None
    suffix = _range_number(last)
    return (-suffix, None) if suffix else (0, 0)


def _range_number(digits: str) -> int:
    """A byte position; absurdly long ones stand for "past any file"."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else 10**18


def _parse_http_date(text: str) -> datetime.datetime | None:
    """An HTTP date header as an aware UTC datetime, or ``None`` if invalid."""
    parsed = email.utils.parsedate_tz(text)
    if parsed is None:
        return None
    try:
        timestamp = email.utils.mktime_tz(parsed)
        return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def _is_within(path: str, directory: str) -> bool:
    directory = directory.rstrip(os.path.sep) + os.path.sep
    return (path + os.path.sep).startswith(directory)


# ---------------------------------------------------------------------------
# Output transforms


class OutputTransform:
    """Rewrites responses on their way out (e.g. compression).

    One instance is created per request, with the request; the application
    calls `transform_first_chunk` with the headers and the first piece of
    the body, then `transform_chunk` for each later piece.  This base class
    changes nothing.
    """

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        """Prepare to transform the response to ``request``."""

    def transform_first_chunk(
        self,
        status_code: int,
        headers: httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        """Return the (possibly changed) status, headers and first chunk.

        ``finishing`` tells whether this chunk is also the last.
        """
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Return the (possibly changed) next chunk of the body."""
        return chunk


class GZipContentEncoding(OutputTransform):
    """Gzips responses for clients that send ``Accept-Encoding: gzip``.

    Turned on by the ``compress_response`` setting.  A response is
    compressed when its media type is ``text/*`` or listed in
    `CONTENT_TYPES`, it carries no ``Content-Encoding`` yet, and (if its
    whole body is known) it is at least `MIN_LENGTH` bytes long.  Every
    response gets ``Vary: Accept-Encoding``, so that caches keep the two
    forms apart.
    """

    #: Bodies known to be shorter than this many bytes are left as they are.
    MIN_LENGTH = 1024
    #: The zlib level, from 1 (fastest) to 9 (smallest output).
    GZIP_LEVEL = 6
    #: Media types compressed besides every ``text/*`` one.
    CONTENT_TYPES = {
        "application/atom+xml",
        "application/javascript",
        "application/json",
        "application/x-javascript",
        "application/xhtml+xml",
        "application/xml",
        "image/svg+xml",
    }

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        """Note whether the client of ``request`` takes gzip."""
        self._client_takes_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        # Set once this response is being compressed.
        self._compressor: Any = None

    def _worth_compressing(
        self, status_code: int, headers: httputil.HTTPHeaders, body: bytes, whole: bool
    ) -> bool:
        if not self._client_takes_gzip or _has_no_body(status_code):
            return False
        if "Content-Encoding" in headers or (whole and len(body) < self.MIN_LENGTH):
            return False
        media_type = headers.get("Content-Type", "").partition(";")[0].strip()
        return media_type.startswith("text/") or media_type in self.CONTENT_TYPES

    def transform_first_chunk(
        self,
        status_code: int,
        headers: httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        """Add ``Vary``; if worth it, start compressing and fix the length."""
        vary = headers.get("Vary")
        headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
        if not self._worth_compressing(status_code, headers, chunk, finishing):
            return status_code, headers, chunk
        gzip_format = 16 + zlib.MAX_WBITS
        self._compressor = zlib.compressobj(self.GZIP_LEVEL, zlib.DEFLATED, gzip_format)
        headers["Content-Encoding"] = "gzip"
        compressed = self.transform_chunk(chunk, finishing)
        if "Content-Length" in headers:
            if finishing:
                headers["Content-Length"] = str(len(compressed))
            else:
                del headers["Content-Length"]  # unknown until the end: chunked
        return status_code, headers, compressed

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Compress ``chunk``, flushed so that it can be sent at once."""
        compressor = self._compressor
        if compressor is None:
            return chunk
        flush_mode = zlib.Z_FINISH if finishing else zlib.Z_SYNC_FLUSH
        return bytes(compressor.compress(chunk) + compressor.flush(flush_mode))


# ---------------------------------------------------------------------------
# UI modules


class UIModule:
    """A reusable piece of page, used in templates with ``{% module %}``.

    Subclass and implement `render`; the other methods let a module ask for
    JavaScript and CSS (files or inline) and extra markup, which `render
    <RequestHandler.render>` collects once per page.  Register modules with
    the ``ui_modules`` setting.
    """

    def __init__(self, handler: RequestHandler) -> None:
        """Create the module for one request, handled by ``handler``."""
        #: The handler rendering the page.
        self.handler = handler
        #: The request being handled.
        self.request = handler.request
        #: The handler's UI namespace.
        self.ui = handler.ui
        #: The user's locale.
        self.locale = handler.locale

    @property
    def current_user(self) -> Any:
        """The handler's current user."""
        return self.handler.current_user

    def render(self, *args: Any, **kwargs: Any) -> str | bytes:
        """Return the module's markup; must be overridden."""
        raise NotImplementedError()

    def embedded_javascript(self) -> str | None:
        """JavaScript to inline at the end of the page, or ``None``."""
        return None

    def javascript_files(self) -> Iterable[str] | None:
        """JavaScript files (URLs or static paths) the page needs, or ``None``."""
        return None

    def embedded_css(self) -> str | None:
        """CSS to inline in the page's head, or ``None``."""
        return None

    def css_files(self) -> Iterable[str] | None:
        """CSS files (URLs or static paths) the page needs, or ``None``."""
        return None

    def html_head(self) -> str | None:
        """Markup to put at the end of ``<head>``, or ``None``."""
        return None

    def html_body(self) -> str | None:
        """Markup to put at the end of ``<body>``, or ``None``."""
        return None

    def render_string(self, path: str, **kwargs: Any) -> bytes:
        """Render template ``path`` through the handler."""
        return self.handler.render_string(path, **kwargs)


class _LinkifyModule(UIModule):
    """``{% module linkify(text) %}``: `tornado.escape.linkify` for templates."""

    def render(self, text: str, **kwargs: Any) -> str:
        return escape.linkify(text, **kwargs)


class _XsrfFormModule(UIModule):
    """``{% module xsrf_form_html() %}``: the handler's hidden XSRF field."""

    def render(self) -> str:
        return self.handler.xsrf_form_html()


class TemplateModule(UIModule):
    """Renders another template as a module: ``{% module Template("x.html") %}``.

    Unlike ``{% include %}`` the included template gets its own namespace
    (only the keyword arguments given) and may call ``set_resources`` with
    the keywords of the `UIModule` methods (``embedded_javascript``,
    ``javascript_files``, ``embedded_css``, ``css_files``, ``html_head``,
    ``html_body``) to add resources to the page.
    """

    def __init__(self, handler: RequestHandler) -> None:
        """Create the module for ``handler``'s page."""
        super().__init__(handler)
        # What each rendered template asked for, in rendering order (a
        # template rendered twice must ask for the same both times).
        self._requested: dict[str, dict[str, Any]] = {}

    def render(self, path: str, **kwargs: Any) -> bytes:
        """Render template ``path`` with ``kwargs`` and ``set_resources``."""
        return self.render_string(
            path, set_resources=functools.partial(self._record, path), **kwargs
        )

    def _record(self, path: str, **resources: Any) -> str:
        earlier = self._requested.setdefault(path, resources)
        if earlier != resources:
            raise ValueError(
                "set_resources called with different resources for the same "
                f"template {path!r}"
            )
        return ""

    def _values(self, kind: str) -> list[Any]:
        return [wanted[kind] for wanted in self._requested.values() if kind in wanted]

    def embedded_javascript(self) -> str:
        """The ``embedded_javascript`` resources, one per line."""
        return "\n".join(self._values("embedded_javascript"))

    def javascript_files(self) -> list[str]:
        """The ``javascript_files`` resources, as one list."""
        return _flatten_paths(self._values("javascript_files"))

    def embedded_css(self) -> str:
        """The ``embedded_css`` resources, one per line."""
        return "\n".join(self._values("embedded_css"))

    def css_files(self) -> list[str]:
        """The ``css_files`` resources, as one list."""
        return _flatten_paths(self._values("css_files"))

    def html_head(self) -> str:
        """The ``html_head`` resources, one after the other."""
        return "".join(self._values("html_head"))

    def html_body(self) -> str:
        """The ``html_body`` resources, one after the other."""
        return "".join(self._values("html_body"))


def _flatten_paths(values: Iterable[str | bytes | Iterable[str]]) -> list[str]:
    paths: list[str] = []
    for value in values:
        _extend_paths(paths, value)
    return paths


class _UIModuleNamespace:
    """Template-side access to UI modules: ``modules.Name(...)``."""

    def __init__(
        self, handler: RequestHandler, ui_modules: dict[str, type[UIModule]]
    ) -> None:
        self.handler = handler
        self.ui_modules = ui_modules

    def __getitem__(self, key: str) -> Callable[..., str]:
        return self.handler._ui_module(key, self.ui_modules[key])

    def __getattr__(self, key: str) -> Callable[..., str]:
        try:
            return self[key]
        except KeyError as e:
            raise AttributeError(str(e)) from None


def is_absolute(path: str) -> bool:
    """Whether ``path`` is a URL or an absolute path (not a static path)."""
    return path.startswith(("/", "http:", "https:"))
