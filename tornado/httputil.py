"""HTTP utilities shared by the server and the clients.

This module holds the protocol-independent pieces of HTTP: the
`HTTPHeaders` multi-dict, the `HTTPServerRequest` object handed to
applications, the delegate interfaces connecting a connection to the code
that handles its messages, and helpers for URLs, form bodies, cookies and
dates.  It performs no I/O.

Received data that breaks the protocol raises `HTTPInputError`; the parsers
check header names and values character by character (names must be
tokens; values may not contain CR, LF, NUL or other control characters) and
accept only ``HTTP/1.x`` start lines.  `HTTPHeaders.parse` refuses obsolete
line folding.  No input makes a parser take more than linear time, and their
memory stays a small multiple of the input.
"""

from __future__ import annotations

import calendar
import collections.abc
import dataclasses
import datetime
import email.utils
import functools
import http.cookies
import re
import ssl
import time
import unicodedata
import unittest
import warnings
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from http.client import responses
from typing import (
    TYPE_CHECKING,
    Any,
    AnyStr,
    NamedTuple,
    TypeVar,
    cast,
)
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from tornado import _httpgrammar as grammar
from tornado.escape import native_str, parse_qs_bytes, utf8
from tornado.util import ObjectDict, _speedups_module

if TYPE_CHECKING:
    from asyncio import Future

__all__ = [
    "HTTP_WHITESPACE",
    "HTTPHeaders",
    "HTTPServerRequest",
    "HTTPInputError",
    "HTTPOutputError",
    "HTTPServerConnectionDelegate",
    "HTTPMessageDelegate",
    "HTTPConnection",
    "url_concat",
    "HTTPFile",
    "ParseMultipartConfig",
    "ParseUrlEncodedConfig",
    "ParseBodyConfig",
    "set_parse_body_config",
    "parse_body_arguments",
    "parse_multipart_form_data",
    "format_timestamp",
    "RequestStartLine",
    "ResponseStartLine",
    "parse_request_start_line",
    "parse_response_start_line",
    "encode_username_password",
    "split_host_and_port",
    "qs_to_qsl",
    "parse_cookie",
    "responses",
    "doctests",
]

# The C versions of the HTTP/1 head parser and formatter of
# tornado._http1wire, when tornado.speedups is built (see tornado.util for
# TORNADO_EXTENSION: 0 forces the pure-Python code, 1 requires the C one).
# Each returns None for what only the Python code handles.
_c_parse_request_head: (
    Callable[
        [bytes, type[RequestStartLine], type[HTTPHeaders]],
        tuple[RequestStartLine, HTTPHeaders] | None,
    ]
    | None
) = None
_c_parse_request_head_plain: (
    Callable[
        [bytes, type[RequestStartLine], type[HTTPHeaders]],
        tuple[RequestStartLine, HTTPHeaders, bool] | None,
    ]
    | None
) = None
# (first_line, table, extra) or (first_line, table, extra, body).
_c_format_head: Callable[..., bytes | None] | None = None
_speedups = _speedups_module()
if _speedups is not None:
    _c_parse_request_head = getattr(_speedups, "parse_request_head", None)
    _c_parse_request_head_plain = getattr(_speedups, "parse_request_head_plain", None)
    _c_format_head = getattr(_speedups, "format_head", None)

#: The characters HTTP calls optional whitespace (RFC 9110 section 5.6.3):
#: space and horizontal tab.  Unlike `str.strip` with no argument, stripping
#: these leaves other control characters in place so validation can see them.
HTTP_WHITESPACE = " \t"

_T = TypeVar("_T")


class HTTPInputError(Exception):
    """Malformed HTTP data received from the other side of a connection.

    Raised for a bad request or response: an invalid start line, header or
    body framing.  A server answers it with ``400 Bad Request`` (or a more
    specific code) and closes the connection.
    """


class HTTPOutputError(Exception):
    """This side tried to write an invalid HTTP message.

    For example, writing more (or fewer) body bytes than the
    ``Content-Length`` header announced.
    """


# The same few header names come up in every message: their normalized forms
# are remembered, in a cache bounded so that odd names sent by clients can't
# grow it without limit (a C-level cache: this runs for every header).
@functools.lru_cache(maxsize=1000)
def _normalize_header(name: str) -> str:
    """Return ``name`` in canonical ``Http-Header-Case``.

    >>> _normalize_header("x-rEQUEST-id")
    'X-Request-Id'
    """
    return "-".join(word.capitalize() for word in name.split("-"))


def _as_text(value: str | bytes) -> str:
    """Header text as ``str``; stray ``bytes`` are read byte-per-character."""
    return value.decode("latin1") if isinstance(value, bytes) else value


def _check_header_value(value: str, chars_are_bytes: bool) -> None:
    """Raise `HTTPInputError` if ``value`` is not a legal field value."""
    if chars_are_bytes:
        valid = grammar.is_field_value(value)
    else:
        valid = not grammar.has_control_chars(value)
    if not valid:
        raise HTTPInputError(f"Invalid header value {value!r}")


# What HTTPHeaders stores under a name: the value itself while it is the only
# one, a list of the values (in arrival order) once there are several.
_HeaderTable = dict[str, str | list[str]]


class HTTPHeaders(collections.abc.MutableMapping[str, str]):
    """A case-insensitive dictionary of HTTP headers that keeps repeated names.

    Names are stored in ``Http-Header-Case``.  Indexing returns all the values
    sent under a name joined with commas; `get_list` returns them separately
    and `get_all` yields every ``(name, value)`` pair.

    >>> h = HTTPHeaders({"content-type": "text/html"})
    >>> h.add("Set-Cookie", "a=1")
    >>> h.add("set-cookie", "b=2")
    >>> h["CONTENT-TYPE"], h["Set-Cookie"]
    ('text/html', 'a=1,b=2')
    >>> h.get_list("set-cookie")
    ['a=1', 'b=2']
    >>> sorted(h.get_all())
    [('Content-Type', 'text/html'), ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')]

    The constructor accepts what `dict` does; given another `HTTPHeaders` it
    copies every value, repeated ones included.
    """

    def __init__(self, *args: Any, **kwargs: str) -> None:
        # Name -> its value, or a list of its values once it has several: a
        # lone value is kept bare so that it costs no list (a tracked object)
        # for as long as the headers live.
        self._values: _HeaderTable = {}
        # The name that received the last value, for continuation lines.
        self._last_key: str | None = None
        # Continuation pieces not yet appended to that value; merging them in
        # one join keeps a long run of folded lines linear.  Created on demand.
        self._pending_fold: list[str] | None = None
        if not args and not kwargs:
            return
        if len(args) == 1 and not kwargs and type(args[0]) is dict:
            # The common case (a response's headers), without the generic
            # Mapping.update machinery; same outcome as update().
            for name, value in args[0].items():
                self[name] = value
        elif len(args) == 1 and not kwargs and isinstance(args[0], HTTPHeaders):
            self._values = {
                name: list(value) if isinstance(value, list) else value
                for name, value in args[0]._table().items()
            }
        else:
            self.update(*args, **kwargs)

    @classmethod
    def _from_canonical(cls, values: dict[str, str]) -> HTTPHeaders:
        """Headers from single values whose names are already normalized.

        For the server's hot paths; nothing is validated.  The new object
        takes ``values`` over as its table: the caller must not use it again.
        """
        headers = cls()
        headers._values = values  # type: ignore[assignment]  # (no cast())
        return headers

    def _table(self) -> _HeaderTable:
        """The name -> value(s) table, with any pending continuation applied."""
        if self._pending_fold:
            self._apply_pending_fold()
        return self._values

    def _apply_pending_fold(self) -> None:
        """Join the pending continuation pieces onto the last value added."""
        assert self._last_key is not None and self._pending_fold is not None
        pieces, self._pending_fold = self._pending_fold, None
        current = self._values[self._last_key]
        if isinstance(current, list):
            current[-1] = _folded(current[-1], pieces)
        else:
            self._values[self._last_key] = _folded(current, pieces)

    def add(self, name: str, value: str, *, _chars_are_bytes: bool = True) -> None:
        """Add a value for ``name``, keeping any values it already has.

        Raises `HTTPInputError` if ``name`` is not a valid token or ``value``
        contains characters a header may not carry (CR, LF, NUL and other
        control characters; leading or trailing whitespace).
        """
        if not isinstance(name, str) or not grammar.is_field_name(name):
            raise HTTPInputError(f"Invalid header name {name!r}")
        _check_header_value(_as_text(value), _chars_are_bytes)
        key = _normalize_header(name)
        _store(self._table(), key, value)
        self._last_key = key

    def get_list(self, name: str) -> list[str]:
        """All the values of ``name`` as a new list (empty if there are none)."""
        current = self._table().get(_normalize_header(name))
        if current is None:
            return []
        return list(current) if isinstance(current, list) else [current]

    def get_all(self) -> Iterable[tuple[str, str]]:
        """Yield every ``(name, value)`` pair.

        A name sent several times yields one pair per value.
        """
        for name, current in self._table().items():
            if isinstance(current, list):
                for value in current:
                    yield name, value
            else:
                yield name, current

    def parse_line(self, line: str, *, _chars_are_bytes: bool = True) -> None:
        """Add one header line, as read off the wire, to this object.

        A line starting with a space or tab continues the previous header
        (obsolete line folding); its text is joined to that value with a
        single space.  A trailing line terminator is ignored.

        >>> h = HTTPHeaders()
        >>> h.parse_line("Content-Type: text/html")
        >>> h.get("content-type")
        'text/html'

        Raises `HTTPInputError` for a line without a colon, an invalid name or
        value, or a continuation line with no header before it.
        """
        line = line.removesuffix("\n").removesuffix("\r")
        if not line:
            return
        if line[0] in HTTP_WHITESPACE:
            self._continue_value(line, _chars_are_bytes)
            return
        name, colon, value = line.partition(":")
        if not colon:
            raise HTTPInputError(f"no colon in header line {line!r}")
        self.add(name, value.strip(HTTP_WHITESPACE), _chars_are_bytes=_chars_are_bytes)

    def _continue_value(self, line: str, chars_are_bytes: bool) -> None:
        """Queue an obs-fold continuation line for the last value added."""
        if self._last_key is None:
            raise HTTPInputError("First header line cannot start with whitespace")
        piece = line.strip(HTTP_WHITESPACE)
        _check_header_value(piece, chars_are_bytes)
        if piece:
            if self._pending_fold is None:
                self._pending_fold = []
            self._pending_fold.append(piece)

    @classmethod
    def parse(cls, headers: str, *, _chars_are_bytes: bool = True) -> HTTPHeaders:
        """Build an `HTTPHeaders` from the text of a header block.

        Lines may end with CRLF or a bare LF; blank lines are skipped.
        Obsolete line folding is not accepted here (unlike `parse_line`): a
        line starting with whitespace is an error, so that no two readers of
        a message can disagree on where its headers end.

        >>> h = HTTPHeaders.parse("Content-Type: text/html\\r\\nContent-Length: 42\\r\\n")
        >>> sorted(h.items())
        [('Content-Length', '42'), ('Content-Type', 'text/html')]

        Raises `HTTPInputError` on the first malformed line.
        """
        parsed = cls()
        if _chars_are_bytes and grammar.is_plain_header_block(headers):
            parsed._add_plain_lines(headers)  # the common case, checked at once
            return parsed
        for line in headers.split("\n"):
            if line and line[0] in HTTP_WHITESPACE:
                raise HTTPInputError(
                    "header line cannot start with whitespace, folding not supported"
                )
            parsed.parse_line(line, _chars_are_bytes=_chars_are_bytes)
        return parsed

    def _add_plain_lines(self, headers: str) -> None:
        """Fill this new, empty object from a block of plain lines.

        The block passed `.is_plain_header_block`: each line is blank or
        splits at its first colon into a valid name and value.
        """
        firsts: dict[str, str] = {}
        # Names seen more than once -> all their values.
        repeated: dict[str, list[str]] = {}
        key: str | None = None
        for line in headers.split("\n"):
            name, colon, value = line.partition(":")
            if colon:  # not one of the blank lines at the end
                key = _normalize_header(name)
                value = value.strip(" \t\r")
                if key not in firsts:
                    firsts[key] = value
                elif key in repeated:
                    repeated[key].append(value)
                else:
                    repeated[key] = [firsts[key], value]
        self._values = cast(_HeaderTable, firsts)
        if repeated:
            self._values.update(repeated)  # keeps each name at its first place
        self._last_key = key

    # MutableMapping protocol

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with ``value`` (not validated)."""
        key = _normalize_header(name)
        (self._values if self._pending_fold is None else self._table())[key] = value
        self._last_key = key

    def __getitem__(self, name: str) -> str:
        """The values of ``name`` joined with commas; `KeyError` if absent."""
        return _joined(self._table()[_normalize_header(name)])

    def __delitem__(self, name: str) -> None:
        """Remove every value of ``name``."""
        key = _normalize_header(name)
        del self._table()[key]
        if key == self._last_key:
            self._last_key = None

    def _get(self, name: str, default: _T) -> str | _T:
        """Like ``get``, without raising and catching `KeyError` when absent.

        For the server's hot paths (``get`` itself is the `Mapping` one).
        """
        current = self._table().get(_normalize_header(name))
        return default if current is None else _joined(current)

    def __contains__(self, name: object) -> bool:
        """Whether any value exists for ``name`` (in any letter case)."""
        return isinstance(name, str) and _normalize_header(name) in self._values

    def __len__(self) -> int:
        """The number of distinct names."""
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the distinct (normalized) names."""
        return iter(self._values)

    def copy(self) -> HTTPHeaders:
        """A copy holding the same values; later changes are not shared."""
        return HTTPHeaders(self)

    def __copy__(self) -> HTTPHeaders:
        """Support `copy.copy`, as `copy` does."""
        return self.copy()

    def __str__(self) -> str:
        """The headers as text, one ``Name: value`` line per value.

        Lines end with ``\\n``; `parse` reads the result back.
        """
        return "".join(f"{name}: {value}\n" for name, value in self.get_all())

    __unicode__ = __str__

    def __repr__(self) -> str:
        """Show the headers as a dict (repeated names show their last value)."""
        return f"{type(self).__name__}({dict(self.get_all())!r})"


def _store(table: _HeaderTable, key: str, value: str) -> None:
    """Add ``value`` after any values ``table`` already holds under ``key``."""
    current = table.get(key)
    if current is None:
        table[key] = value
    elif isinstance(current, list):
        current.append(value)
    else:
        table[key] = [current, value]


def _canonical_get(headers: HTTPHeaders, name: str) -> str | None:
    """``headers._get(name, None)`` for a ``name`` already in canonical case.

    For the per-message paths: the table is read directly, without
    normalizing the name.
    """
    current = (
        headers._values if headers._pending_fold is None else headers._table()
    ).get(name)
    if current is None or type(current) is str:
        return current
    return _joined(current)


def _joined(current: str | list[str]) -> str:
    """The value(s) stored for a header as one, joined with commas."""
    return ",".join(current) if isinstance(current, list) else current


def _folded(value: str, pieces: list[str]) -> str:
    """``value`` continued by obs-fold ``pieces``, joined with single spaces."""
    return " ".join([value, *pieces] if value else pieces)


class HTTPFile(ObjectDict):
    """A file uploaded in a ``multipart/form-data`` body.

    Its fields are readable as keys or attributes: ``filename`` (as the client
    sent it), ``body`` (the raw bytes) and ``content_type``.
    """

    filename: str
    body: bytes
    content_type: str


class RequestStartLine(NamedTuple):
    """The first line of a request: ``method``, ``path`` and ``version``."""

    method: str
    path: str
    version: str


class ResponseStartLine(NamedTuple):
    """The first line of a response: ``version``, ``code`` and ``reason``."""

    version: str
    code: int
    reason: str


def parse_request_start_line(line: str) -> RequestStartLine:
    """Split a request line into its three parts.

    >>> parse_request_start_line("GET /search?q=tornado HTTP/1.1")
    RequestStartLine(method='GET', path='/search?q=tornado', version='HTTP/1.1')

    Raises `HTTPInputError` unless the line is exactly a token method, one
    space, a target without whitespace or control characters, one space and
    an ``HTTP/1.x`` version.
    """
    parts = grammar.match_request_line(line)
    if parts is None:
        raise HTTPInputError(f"Malformed HTTP request line {line!r}")
    start_line = RequestStartLine(*parts)
    _require_http1(start_line.version)
    return start_line


def parse_response_start_line(line: str) -> ResponseStartLine:
    """Split a status line into version, numeric code and reason phrase.

    >>> parse_response_start_line("HTTP/1.1 404 Not Found")
    ResponseStartLine(version='HTTP/1.1', code=404, reason='Not Found')

    The reason phrase may be empty.  Raises `HTTPInputError` for anything
    that is not an ``HTTP/1.x`` status line with a three-digit code.
    """
    line = native_str(line)
    parts = grammar.match_status_line(line)
    if parts is None:
        raise HTTPInputError(f"Error parsing response start line {line!r}")
    _require_http1(parts[0])
    return ResponseStartLine(*parts)


def _require_http1(version: str) -> None:
    """Reject any version but HTTP/1.x; other versions use other parsers."""
    if not version.startswith("HTTP/1."):
        raise HTTPInputError(f"Unexpected HTTP version {version!r}")


class HTTPServerConnectionDelegate:
    """Receives the requests arriving on the connections of a server."""

    __slots__ = ()  # lets subclasses that declare slots stay small

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        """Called when a new request starts; returns the delegate to handle it.

        ``server_conn`` identifies the underlying connection (several
        requests may share it); ``request_conn`` is the `HTTPConnection` the
        response is written to.
        """
        raise NotImplementedError()

    def on_close(self, server_conn: object) -> None:
        """Called when the connection ``server_conn`` has closed."""


class HTTPMessageDelegate:
    """Receives the parts of one HTTP request or response as they arrive.

    Methods may return an awaitable; the connection then waits for it before
    reading further (flow control).
    """

    __slots__ = ()  # lets subclasses that declare slots stay small

    def headers_received(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Awaitable[None] | None:
        """Called once the start line and headers have been parsed."""
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Called with each piece of the (decoded) body."""
        return None

    def finish(self) -> None:
        """Called after the last piece of the body."""

    def on_connection_close(self) -> None:
        """Called if the connection closes before the message was complete."""


class HTTPConnection:
    """The writing side of one HTTP message exchange, used by applications."""

    __slots__ = ()  # lets subclasses that declare slots stay small

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        """Write the start line and headers, optionally with a first body chunk.

        Returns a future resolved once the data has been written.
        """
        raise NotImplementedError()

    def write(self, chunk: bytes) -> Future[None]:
        """Write a piece of the body; returns a future resolved when written."""
        raise NotImplementedError()

    def finish(self) -> None:
        """Mark the end of the message."""
        raise NotImplementedError()


_SEPARATE_START_LINE_ARGS = (
    "The method, uri and version arguments to HTTPServerRequest are deprecated; "
    "use start_line instead"
)
_MISSING_START_LINE = "HTTPServerRequest without a start_line is deprecated"
_HOST_ARG = (
    "The host argument to HTTPServerRequest is deprecated; "
    "use headers['Host'] instead"
)


class HTTPServerRequest:
    """One HTTP request, as seen by an application.

    .. attribute:: method

       The request method, e.g. ``"GET"``.

    .. attribute:: uri

       The request target as sent, e.g. ``"/search?q=x"``.

    .. attribute:: path

       ``uri`` up to its first ``?``.

    .. attribute:: query

       ``uri`` after its first ``?`` (empty if there is none).

    .. attribute:: version

       The HTTP version, e.g. ``"HTTP/1.1"``.

    .. attribute:: headers

       The request headers, an `HTTPHeaders`.

    .. attribute:: body

       The body as bytes (``b""`` if there is none).

    .. attribute:: remote_ip

       The client's address, taken from the connection.

    .. attribute:: protocol

       ``"http"`` or ``"https"``.

    .. attribute:: host

       The ``Host`` header (``"127.0.0.1"`` if absent).

    .. attribute:: host_name

       ``host``'s host part, lowercased, without the port.

    .. attribute:: body_arguments

       The form body's arguments: name -> list of bytes.

    .. attribute:: files

       Uploaded files: name -> list of `HTTPFile`.

    .. attribute:: connection

       The `HTTPConnection` to write the response to.

    .. attribute:: server_connection

       The underlying connection, shared by the requests of a keep-alive
       connection.

    ``start_line``, a `RequestStartLine`, supplies ``method``, ``uri`` and
    ``version``.  Passing those three separately, or no ``start_line``, is
    deprecated (`DeprecationWarning`); without any, the request is
    ``GET /``.  The ``host`` argument is deprecated too: it is copied into
    ``headers["Host"]``.

    Raises `HTTPInputError` when the query string has more fields than
    `ParseUrlEncodedConfig.max_arguments` allows.
    """

    path: str
    query: str
    # Set by tornado.web for handlers that stream the request body.
    _body_future: Future[None]

    def __init__(
        self,
        method: str | None = None,
        uri: str | None = None,
        version: str = "HTTP/1.0",
        headers: HTTPHeaders | None = None,
        body: bytes | None = None,
        host: str | None = None,
        files: dict[str, list[HTTPFile]] | None = None,
        connection: HTTPConnection | None = None,
        start_line: RequestStartLine | None = None,
        server_connection: object | None = None,
    ) -> None:
        if method is not None or uri is not None or version != "HTTP/1.0":
            warnings.warn(_SEPARATE_START_LINE_ARGS, DeprecationWarning, stacklevel=2)
        if start_line is None:
            warnings.warn(_MISSING_START_LINE, DeprecationWarning, stacklevel=2)
            start_line = RequestStartLine(method or "GET", uri or "/", version)
        # Typed as optional, as they always were (code checks them for None).
        self.method: str | None = start_line.method
        self.uri: str | None = start_line.path
        self.version = start_line.version
        self.headers = headers if headers is not None else HTTPHeaders()
        if host is not None:
            warnings.warn(_HOST_ARG, DeprecationWarning, stacklevel=2)
            self.headers["Host"] = host
        self.body = body or b""
        context = getattr(connection, "context", None)
        self.remote_ip: str | None = getattr(context, "remote_ip", None)
        self.protocol: str = getattr(context, "protocol", "http")
        headers = self.headers
        if type(headers) is HTTPHeaders:
            host = _canonical_get(headers, "Host")
        else:  # a subclass may look names up its own way
            host = headers._get("Host", None)
        self.host: str = host or "127.0.0.1"
        self.host_name = split_host_and_port(self.host.lower())[0]
        self.files: dict[str, list[HTTPFile]] = files or {}
        self.connection = connection
        self.server_connection = server_connection
        self._start_time = time.time()
        self._finish_time: float | None = None
        self.path, _, self.query = start_line.path.partition("?")
        # The query is checked now, parsed into ``arguments`` and
        # ``query_arguments`` on first use (the original text: ``query``
        # may be reassigned).
        self._query_text = self.query
        if self.query:
            _check_query(self.query)
        self._arguments: dict[str, list[bytes]] | None = None
        self._query_arguments: dict[str, list[bytes]] | None = None
        self.body_arguments: dict[str, list[bytes]] = {}

    @property
    def arguments(self) -> dict[str, list[bytes]]:
        """Query and body arguments merged: name -> list of bytes."""
        if self._arguments is None:
            self._arguments = _parse_checked_query(self._query_text)
        return self._arguments

    @arguments.setter
    def arguments(self, value: dict[str, list[bytes]]) -> None:
        self._arguments = value

    @property
    def query_arguments(self) -> dict[str, list[bytes]]:
        """The query string's arguments: name -> list of bytes.

        Lists of their own: body arguments added to `arguments` do not
        show here.
        """
        if self._query_arguments is None:
            self._query_arguments = _parse_checked_query(self._query_text)
        return self._query_arguments

    @query_arguments.setter
    def query_arguments(self, value: dict[str, list[bytes]]) -> None:
        self._query_arguments = value

    @property
    def cookies(self) -> dict[str, http.cookies.Morsel[str]]:
        """The request's cookies as a dict of `http.cookies.Morsel`.

        Parsed from the ``Cookie`` header on first use.  Cookies whose names
        `http.cookies.SimpleCookie` does not accept are left out.
        """
        if not hasattr(self, "_cookies"):
            jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
            for name, value in parse_cookie(self.headers.get("Cookie", "")).items():
                try:
                    jar[name] = value
                except http.cookies.CookieError:
                    pass
            self._cookies = jar
        return self._cookies

    def full_url(self) -> str:
        """The full URL of the request: protocol, host and target."""
        return f"{self.protocol}://{self.host}{self.uri or ''}"

    def request_time(self) -> float:
        """Seconds the request has taken: until it finished, or until now."""
        end = time.time() if self._finish_time is None else self._finish_time
        return end - self._start_time

    def get_ssl_certificate(
        self, binary_form: bool = False
    ) -> None | dict[str, Any] | bytes:
        """The client's TLS certificate, or ``None``.

        ``None`` is returned when the connection is not TLS, when no
        certificate was sent, or (as `ssl.SSLSocket.getpeercert` does) when
        it was not validated; the server must be configured with
        ``ssl.CERT_OPTIONAL`` or ``ssl.CERT_REQUIRED`` for the client to be
        asked for one.  With ``binary_form`` the DER bytes are returned
        instead of the decoded dict.
        """
        stream = getattr(self.connection, "stream", None)
        sock = getattr(stream, "socket", None)
        if not isinstance(sock, ssl.SSLSocket):
            return None
        try:
            return sock.getpeercert(binary_form=binary_form)
        except (ssl.SSLError, ValueError):
            return None

    def _parse_body(self) -> None:
        """Parse a form body into ``body_arguments``/``files`` and merge them.

        Raises `HTTPInputError` for a malformed body.
        """
        headers = self.headers
        if type(headers) is HTTPHeaders and "Content-Type" not in headers._values:
            return  # (the test below, without calling __contains__)
        if "Content-Type" not in headers:
            return  # no form: parse_body_arguments would ignore it
        parse_body_arguments(
            self.headers["Content-Type"],
            self.body,
            self.body_arguments,
            self.files,
            self.headers,
        )
        for name, values in self.body_arguments.items():
            self.arguments.setdefault(name, []).extend(values)

    def __repr__(self) -> str:
        """Show the main attributes of the request."""
        fields = ("protocol", "host", "method", "uri", "version", "remote_ip")
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
        return f"{type(self).__name__}({args})"


def url_concat(
    url: str,
    args: None | dict[str, str] | list[tuple[str, str]] | tuple[tuple[str, str], ...],
) -> str:
    """Append query arguments to ``url``, keeping the ones it already has.

    ``args`` is a dict, or a list or tuple of pairs (which may repeat a name).
    A URL that `urllib.parse` cannot split (such as an unbalanced ``[`` in
    its host) raises `ValueError`.

    >>> url_concat("http://example.com/find", {"q": "tornado"})
    'http://example.com/find?q=tornado'
    >>> url_concat("http://example.com/find?q=a", [("page", "2"), ("page", "3")])
    'http://example.com/find?q=a&page=2&page=3'
    """
    if args is None:
        return url
    if isinstance(args, dict):
        extra: Sequence[tuple[str, str]] = list(args.items())
    elif isinstance(args, (list, tuple)):
        extra = args
    else:
        raise TypeError(
            f"'args' parameter should be dict, list or tuple. Not {type(args)}"
        )
    parts = urlparse(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(extra)
    return urlunparse(parts._replace(query=urlencode(query)))


@dataclasses.dataclass
class ParseMultipartConfig:
    """Limits for parsing ``multipart/form-data`` bodies."""

    #: Whether such bodies are parsed at all; when false they are left alone
    #: (``body`` still holds them) and produce no arguments or files.
    enabled: bool = True
    #: The most parts a body may have.
    max_parts: int = 100
    #: The most bytes of headers one part may have.
    max_part_header_size: int = 10240


@dataclasses.dataclass
class ParseUrlEncodedConfig:
    """Limits for parsing ``application/x-www-form-urlencoded`` bodies."""

    #: The most ``name=value`` fields a body may have.
    max_arguments: int = 1000


@dataclasses.dataclass
class ParseBodyConfig:
    """Limits applied by `parse_body_arguments`, one group per body type."""

    #: A `ParseMultipartConfig`.
    multipart: ParseMultipartConfig = dataclasses.field(
        default_factory=ParseMultipartConfig
    )
    #: A `ParseUrlEncodedConfig`.
    urlencoded: ParseUrlEncodedConfig = dataclasses.field(
        default_factory=ParseUrlEncodedConfig
    )


_parse_body_config = ParseBodyConfig()


def set_parse_body_config(config: ParseBodyConfig) -> None:
    """Set the limits `parse_body_arguments` uses when given no ``config``.

    This is process-wide; it applies to every request parsed afterwards.
    """
    global _parse_body_config
    _parse_body_config = config


def parse_body_arguments(
    content_type: str,
    body: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    headers: HTTPHeaders | None = None,
    *,
    config: ParseBodyConfig | None = None,
) -> None:
    """Parse a form body into ``arguments`` and ``files``.

    Handles ``application/x-www-form-urlencoded`` and
    ``multipart/form-data``; other content types are ignored.  Parsed values
    are appended to the lists in ``arguments`` (name -> list of bytes) and
    ``files`` (name -> list of `HTTPFile`).  ``config`` (default: the one set
    with `set_parse_body_config`) bounds the work done.

    Raises `HTTPInputError` for a malformed body, one over the limits, a
    multipart body when `ParseMultipartConfig.enabled` is false, or a body
    with a ``Content-Encoding`` (bodies must be decoded first).
    """
    if config is None:
        config = _parse_body_config
    media_type = content_type.partition(";")[0].strip(HTTP_WHITESPACE).lower()
    is_urlencoded = media_type == "application/x-www-form-urlencoded"
    is_multipart = media_type == "multipart/form-data"
    if not (is_urlencoded or is_multipart):
        return
    if headers is not None and "Content-Encoding" in headers:
        raise HTTPInputError(
            f"Unsupported Content-Encoding: {headers['Content-Encoding']}"
        )
    if is_urlencoded:
        _parse_urlencoded(body, arguments, config.urlencoded)
    else:
        _check_multipart_enabled(config.multipart)
        _parse_multipart_body(content_type, body, arguments, files, config.multipart)


def _check_multipart_enabled(config: ParseMultipartConfig) -> None:
    if not config.enabled:
        raise HTTPInputError("multipart/form-data parsing is disabled")


def _check_query(query: str) -> None:
    """Raise `HTTPInputError` if ``query`` cannot be parsed within the limits.

    The errors `parse_qs_bytes` would raise: text outside Latin-1, more
    fields than the urlencoded field limit.
    """
    limit = _parse_body_config.urlencoded.max_arguments
    try:
        if not query.isascii():
            query.encode("latin1")
        if query.count("&") + 1 > limit:
            raise ValueError("Max number of fields exceeded")
    except ValueError as e:
        raise HTTPInputError(f"Invalid query string: {e}") from e


def _parse_checked_query(query: str) -> dict[str, list[bytes]]:
    """The arguments of a query string that passed `_check_query`."""
    return parse_qs_bytes(query, keep_blank_values=True) if query else {}


def _parse_urlencoded(
    body: bytes, arguments: dict[str, list[bytes]], config: ParseUrlEncodedConfig
) -> None:
    """Add the fields of an urlencoded form body to ``arguments``."""
    try:
        fields = parse_qs_bytes(
            body, keep_blank_values=True, max_num_fields=config.max_arguments
        )
    except ValueError as e:
        raise HTTPInputError(f"Invalid x-www-form-urlencoded body: {e}") from e
    for name, values in fields.items():
        arguments.setdefault(name, []).extend(values)


def _parse_multipart_body(
    content_type: str,
    body: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    config: ParseMultipartConfig,
) -> None:
    """Find the boundary in ``content_type`` and parse a multipart body."""
    _, params = grammar.parse_header_params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise HTTPInputError("Invalid multipart/form-data: boundary not found")
    parse_multipart_form_data(utf8(boundary), body, arguments, files, config=config)


def parse_multipart_form_data(
    boundary: bytes,
    data: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    *,
    config: ParseMultipartConfig | None = None,
) -> None:
    """Parse a ``multipart/form-data`` body.

    ``boundary`` comes from the ``Content-Type`` header (surrounding quotes
    are removed).  Parts with a ``filename`` go to ``files``, others to
    ``arguments``.  Part headers are read as UTF-8.

    Any text before the first delimiter is read as a part too.  Raises
    `HTTPInputError` when the body is malformed (no closing boundary, a part
    without headers, without a ``form-data`` disposition or without a name),
    exceeds the limits in ``config``, or ``config.enabled`` is false.
    """
    if config is None:
        config = _parse_body_config.multipart
    _check_multipart_enabled(config)
    if len(boundary) >= 2 and boundary[:1] == boundary[-1:] == b'"':
        boundary = boundary[1:-1]
    end = data.rfind(b"--" + boundary + b"--")
    if end == -1:
        raise HTTPInputError("Invalid multipart/form-data: no final boundary found")
    parts = data[:end]
    separator = b"--" + boundary + b"\r\n"
    if parts.count(separator) > config.max_parts:  # before any copying
        raise HTTPInputError("Invalid multipart/form-data: too many parts")
    # Text before the first delimiter is read as a part like any other.
    pieces = [piece for piece in parts.split(separator) if piece]
    if len(pieces) > config.max_parts:
        raise HTTPInputError("Invalid multipart/form-data: too many parts")
    for part in pieces:
        _parse_form_part(part, arguments, files, config)


def _parse_form_part(
    part: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    config: ParseMultipartConfig,
) -> None:
    """Parse one part (headers, blank line, value, CRLF) of a form body."""
    header_end = part.find(b"\r\n\r\n", 0, config.max_part_header_size + 4)
    if header_end == -1:
        if len(part) > config.max_part_header_size:
            raise HTTPInputError("Invalid multipart/form-data: part headers too large")
        raise HTTPInputError("Invalid multipart/form-data: part without headers")
    try:
        headers = HTTPHeaders.parse(
            part[:header_end].decode("utf-8"), _chars_are_bytes=False
        )
    except (UnicodeDecodeError, HTTPInputError) as e:
        raise HTTPInputError(f"Invalid multipart/form-data part headers: {e}") from e
    disposition, params = grammar.parse_header_params(
        headers.get("Content-Disposition", "")
    )
    if disposition != "form-data" or not part.endswith(b"\r\n"):
        raise HTTPInputError("Invalid multipart/form-data: bad part disposition")
    name = params.get("name")
    if not name:
        raise HTTPInputError("Invalid multipart/form-data: part without a name")
    value = part[header_end + 4 : -2]
    filename = params.get("filename")
    if filename:
        content_type = headers.get("Content-Type", "application/unknown")
        upload = HTTPFile(filename=filename, body=value, content_type=content_type)
        files.setdefault(name, []).append(upload)
    else:
        arguments.setdefault(name, []).append(value)


def format_timestamp(
    ts: int | float | tuple[int, ...] | time.struct_time | datetime.datetime,
) -> str:
    """Format a time in the form HTTP headers use.

    ``ts`` is a POSIX timestamp, a UTC time tuple (as from `time.gmtime`) or
    a `datetime.datetime` (naive ones are taken as UTC).

    >>> format_timestamp(1700000000)
    'Tue, 14 Nov 2023 22:13:20 GMT'
    """
    if isinstance(ts, (int, float)):
        seconds: float = ts
    elif isinstance(ts, (tuple, time.struct_time)):
        seconds = calendar.timegm(ts)
    elif isinstance(ts, datetime.datetime):
        seconds = calendar.timegm(ts.utctimetuple())
    else:
        raise TypeError(f"unknown timestamp type: {ts!r}")
    return email.utils.formatdate(seconds, usegmt=True)


def encode_username_password(username: str | bytes, password: str | bytes) -> bytes:
    """Join credentials as ``username:password`` bytes for HTTP Basic auth.

    Text is NFC-normalized, then encoded as UTF-8.

    >>> encode_username_password("caf\\u00e9", "p:w")
    b'caf\\xc3\\xa9:p:w'
    """
    return _nfc_utf8(username) + b":" + _nfc_utf8(password)


def _nfc_utf8(value: str | bytes) -> bytes:
    """UTF-8 bytes of NFC-normalized text; bytes are returned unchanged."""
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value)
    return utf8(value)


def split_host_and_port(netloc: str) -> tuple[str, int | None]:
    """Split ``host:port`` into the host and the port as an int.

    The port is ``None`` when ``netloc`` has none.

    >>> split_host_and_port("example.com:8080")
    ('example.com', 8080)
    >>> split_host_and_port("[::1]:443")
    ('[::1]', 443)
    >>> split_host_and_port("example.com")
    ('example.com', None)
    """
    host, colon, port = netloc.rpartition(":")
    if not (colon and host and grammar.is_digits(port)):
        return netloc, None
    return host, int(port)


def qs_to_qsl(qs: Mapping[str, Sequence[AnyStr]]) -> Iterable[tuple[str, AnyStr]]:
    """Turn a dict of lists (as from `urllib.parse.parse_qs`) into pairs.

    >>> list(qs_to_qsl({"a": ["1", "2"], "b": ["3"]}))
    [('a', '1'), ('a', '2'), ('b', '3')]
    """
    for name, values in qs.items():
        for value in values:
            yield name, value


# Inside a quoted cookie value: a three-digit octal escape or an escaped char.
_COOKIE_ESCAPE_RE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)


def _unescape_cookie_char(match: re.Match[str]) -> str:
    octal, char = match.groups()
    return chr(int(octal, 8)) if octal else char


def _unquote_cookie(value: str) -> str:
    """Undo the double quotes and backslash escapes of a cookie value."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    return _COOKIE_ESCAPE_RE.sub(_unescape_cookie_char, value[1:-1])


def parse_cookie(cookie: str) -> dict[str, str]:
    """Parse a ``Cookie`` header into a dict of names to values.

    This follows what browsers send rather than the strict grammar: a piece
    without ``=`` is a value with an empty name, and quoted values are
    unquoted.  A later cookie replaces an earlier one of the same name.

    >>> parse_cookie('session=abc123; theme="dark"; lang=en')
    {'session': 'abc123', 'theme': 'dark', 'lang': 'en'}
    """
    cookies: dict[str, str] = {}
    for piece in cookie.split(";"):
        name, equals, value = piece.partition("=")
        if not equals:
            name, value = "", name
        name, value = name.strip(), value.strip()
        if name or value:
            cookies[name] = _unquote_cookie(value)
    return cookies


#: The parser of header parameters under its historical private name.
_parse_header = grammar.parse_header_params


def doctests() -> unittest.TestSuite:
    """Return a test suite running the examples in this module's docstrings."""
    import doctest
    import sys

    return doctest.DocTestSuite(sys.modules[__name__])
