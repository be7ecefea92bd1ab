"""The HTTP/2 pieces the server needs besides the ``h2`` state machine.

Pure functions and small state machines, no I/O:

* `FrameScanner` reads the frame headers of the byte stream a client sends
  before ``h2`` buffers and parses it, so that a frame over the size limit
  and a header block over ``max_header_size`` (a CONTINUATION flood) are
  refused as soon as their length is known, not once they have been
  buffered.
* `request_head` maps a request's decoded header fields (pseudo-headers
  included) to a `.RequestStartLine` and `.HTTPHeaders`; `response_fields`
  does the reverse for a response.
* `TokenBucket` counts what a client may do so often (resets, PINGs...).
* `goaway_frame` builds a GOAWAY frame for a graceful shutdown, which
  ``h2`` can only send as its very last frame.
"""

from __future__ import annotations

import functools
import re
import struct
from typing import NamedTuple

from tornado import _httpgrammar as grammar

# One Content-Length rule for both protocols (the session reads it here).
from tornado._http1wire import declared_length as declared_length
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    RequestStartLine,
    ResponseStartLine,
)

#: What a client sends first on an HTTP/2 connection (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: The version of every request received over HTTP/2.
VERSION = "HTTP/2.0"

# Frame types (RFC 9113 section 6) and the one flag looked at here.
DATA = 0x0
HEADERS = 0x1
PUSH_PROMISE = 0x5
GOAWAY = 0x7
CONTINUATION = 0x9
END_HEADERS = 0x4

# Error codes (RFC 9113 section 7).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB

_ERROR_NAMES = {
    NO_ERROR: "NO_ERROR",
    PROTOCOL_ERROR: "PROTOCOL_ERROR",
    INTERNAL_ERROR: "INTERNAL_ERROR",
    FLOW_CONTROL_ERROR: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT",
    STREAM_CLOSED: "STREAM_CLOSED",
    FRAME_SIZE_ERROR: "FRAME_SIZE_ERROR",
    REFUSED_STREAM: "REFUSED_STREAM",
    CANCEL: "CANCEL",
    COMPRESSION_ERROR: "COMPRESSION_ERROR",
    0xA: "CONNECT_ERROR",
    ENHANCE_YOUR_CALM: "ENHANCE_YOUR_CALM",
    0xC: "INADEQUATE_SECURITY",
    0xD: "HTTP_1_1_REQUIRED",
}

_FRAME_HEADER = struct.Struct(">BHBBL")  # length as 1 + 2 bytes, type, flags, id
_FRAME_HEADER_SIZE = 9


def error_name(code: int) -> str:
    """The RFC's name of an HTTP/2 error code (``0x...`` for unknown ones)."""
    return _ERROR_NAMES.get(code, f"0x{code:x}")


class FrameLimitError(Exception):
    """A client broke a limit; the connection ends with ``error_code``."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


class FrameScanner:
    """Follows the frames of a client's byte stream, checking their sizes.

    `feed` takes the bytes as they arrive (after the 24-byte preface, which
    is skipped: the state machine checks it) and raises `FrameLimitError`
    when a frame announces more than ``max_frame_size`` bytes, or when the
    HEADERS (or PUSH_PROMISE) frame and CONTINUATION frames of one header
    block add up to more than ``max_header_block`` bytes.  Only the 9-byte
    frame headers are read; payloads are skipped by counting.
    """

    def __init__(self, max_frame_size: int, max_header_block: int) -> None:
        self.max_frame_size = max_frame_size
        self.max_header_block = max_header_block
        self._preface_left = len(PREFACE)
        self._partial_header = b""
        self._payload_left = 0
        # Bytes of the header block being received, or -1 between blocks.
        self._block_size = -1

    def feed(self, data: bytes) -> None:
        """Account for ``data``; raises `FrameLimitError` on a broken limit."""
        view = memoryview(data)
        position = min(self._preface_left, len(view))
        self._preface_left -= position
        end = len(view)
        while position < end:
            if self._payload_left:
                skipped = min(self._payload_left, end - position)
                self._payload_left -= skipped
                position += skipped
                continue
            needed = _FRAME_HEADER_SIZE - len(self._partial_header)
            piece = bytes(view[position : position + needed])
            position += len(piece)
            if len(piece) < needed:
                self._partial_header += piece
                return
            header, self._partial_header = self._partial_header + piece, b""
            self._frame_started(header)

    def _frame_started(self, header: bytes) -> None:
        high, low, kind, flags, _ = _FRAME_HEADER.unpack(header)
        length = (high << 16) | low
        if length > self.max_frame_size:
            raise FrameLimitError(
                FRAME_SIZE_ERROR,
                f"frame of {length} bytes, over the limit of {self.max_frame_size}",
            )
        self._payload_left = length
        if kind in (HEADERS, PUSH_PROMISE):
            self._block_size = length
        elif kind == CONTINUATION and self._block_size >= 0:
            self._block_size += length
        else:
            return
        if self._block_size > self.max_header_block:
            raise FrameLimitError(
                ENHANCE_YOUR_CALM,
                f"header block over {self.max_header_block} bytes",
            )
        if flags & END_HEADERS:
            self._block_size = -1


def goaway_frame(last_stream_id: int, error_code: int, debug: bytes = b"") -> bytes:
    """A GOAWAY frame: no stream after ``last_stream_id`` will be processed."""
    length = 8 + len(debug)
    return (
        _FRAME_HEADER.pack(length >> 16, length & 0xFFFF, GOAWAY, 0, 0)
        + struct.pack(">LL", last_stream_id & 0x7FFFFFFF, error_code)
        + debug
    )


class TokenBucket:
    """Allows a burst of ``capacity`` events, then ``rate`` events per second.

    `take` spends one token (false when none is left); `give` returns
    tokens (for work that went well), never beyond ``capacity``.  Times
    come from the caller, so the bucket needs no clock of its own.
    """

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self._tokens = capacity
        self._updated = now

    def take(self, now: float) -> bool:
        """Spend a token at time ``now``; false if the bucket was empty."""
        self._refill(now)
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def give(self, tokens: float = 1) -> None:
        """Return ``tokens`` to the bucket."""
        self._tokens = min(self.capacity, self._tokens + tokens)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)


class RequestHead(NamedTuple):
    """A request's head as received over HTTP/2."""

    start_line: RequestStartLine
    headers: HTTPHeaders
    #: The ``:scheme`` pseudo-header (``""`` if absent).
    scheme: str


def request_head(fields: list[tuple[bytes, bytes]]) -> RequestHead:
    """Map the decoded header fields of a request to a start line and headers.

    ``:method`` and ``:path`` make the start line (for ``CONNECT``, which
    has no ``:path``, ``:authority`` stands as its target, as in HTTP/1),
    ``:authority`` becomes the ``Host`` header (replacing any ``host``
    field), and ``:scheme`` is returned apart.  Names and values are read
    as Latin-1, as HTTP/1 heads are.  Raises `.HTTPInputError` for a missing
    method or path, an invalid ``Host`` or a field `.HTTPHeaders` refuses.
    """
    headers = HTTPHeaders()
    pseudo: dict[str, str] = {}
    for name, value in fields:
        text_name = name.decode("latin1")
        text_value = value.decode("latin1")
        if text_name.startswith(":"):
            pseudo[text_name] = text_value
        else:
            headers.add(text_name, text_value)
    method = pseudo.get(":method", "")
    authority = pseudo.get(":authority")
    path = pseudo.get(":path") or (authority if method == "CONNECT" else None)
    if not grammar.is_token(method) or not path:
        raise HTTPInputError("Malformed HTTP/2 request: bad :method or no :path")
    if not grammar.is_request_target(path):
        raise HTTPInputError(f"Malformed HTTP/2 request: bad :path {path!r}")
    if authority is not None:
        headers["Host"] = authority
    hosts = headers.get_list("Host")
    if len(hosts) > 1 or (hosts and not grammar.is_host(hosts[0])):
        raise HTTPInputError(f"Invalid Host header {', '.join(hosts)!r}")
    start_line = RequestStartLine(method, path, VERSION)
    return RequestHead(start_line, headers, pseudo.get(":scheme", ""))


# Headers that only make sense on an HTTP/1 connection (RFC 9113 section
# 8.2.2); an HTTP/2 message must not carry them.
_CONNECTION_SPECIFIC = frozenset(
    ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"]
)
_ILLEGAL_VALUE_RE = re.compile(r"[\r\n\x00]")


@functools.lru_cache(maxsize=1000)
def _field_name(name: str) -> bytes:
    return name.lower().encode("latin1")


def response_fields(
    start_line: ResponseStartLine, headers: HTTPHeaders
) -> list[tuple[bytes, bytes]]:
    """The header fields of a response: ``:status``, then ``headers``.

    Names are lowercased; the connection-specific headers of HTTP/1
    (``Connection``, ``Transfer-Encoding``...) are left out.  Raises
    `ValueError` for a value holding CR, LF or NUL, as the HTTP/1 writer
    does.
    """
    fields = [(b":status", b"%d" % start_line.code)]
    for name, value in headers.get_all():
        if name in _CONNECTION_SPECIFIC:
            continue
        text = value if type(value) is str else _as_text(value)
        if _ILLEGAL_VALUE_RE.search(text):
            raise ValueError(
                f"Illegal characters (CR, LF or NUL) in header: {name}: {text!r}"
            )
        fields.append((_field_name(name), text.encode("latin1")))
    return fields


def _as_text(value: object) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def requested_length(headers: HTTPHeaders) -> int | None:
    """The ``Content-Length`` a request declares, if any.

    Raises `.HTTPInputError` for a malformed or repeated value.
    """
    values = headers.get_list("Content-Length")
    if not values:
        return None
    if len(values) > 1 or not grammar.is_digits(values[0]):
        raise HTTPInputError(f"Invalid Content-Length {headers['Content-Length']!r}")
    return int(values[0])
