"""The HTTP/1.x wire format as pure functions and small state machines.

Nothing here performs I/O: `tornado.http1connection` reads bytes from a
stream, hands them to these functions and writes what they produce.  Keeping
the parsing rules here lets them be tested exhaustively without sockets.

Incoming messages:

* `HEAD_END_RE` finds the end of the start line and headers (bare LF line
  endings are accepted there), `parse_request_head` and
  `parse_response_head` parse them, and `check_request_host` applies the
  rules for the ``Host`` header.
* `request_body_framing` / `response_body_framing` decide how the body is
  delimited (`Framing`), `check_content_length` applies the size limit, and
  `ChunkedDecoder` decodes a chunked body.
* `keep_alive_requested` tells whether a message allows connection reuse,
  `expects_continue` whether a client waits for ``100 Continue``.
* `read_request_head` does all of that for a server's request at once
  (with a shortcut for plain heads, which the C parser recognizes).

Outgoing messages:

* `plan_request_body` / `plan_response_body` choose the framing of a body
  being sent, `response_closes_connection` and `connection_header` the fate
  of the connection; `format_request_head` / `format_response_head` render
  the head (with the framing and ``Connection`` headers those decisions
  call for, never written into the caller's `.HTTPHeaders`); `BodyEncoder`
  frames the body and checks it against ``Content-Length``.
* `format_plain_response` renders the most common server response, head
  and whole body, without those steps (``None`` for any other response).
* `BAD_REQUEST_RESPONSE` and `CONTINUE_RESPONSE` are sent as they are.

Every problem with received data raises `.HTTPInputError`, which a server
answers with `BAD_REQUEST_RESPONSE` before closing the connection.  The
grammar itself (tokens, digits, the chunk-size line...) is in
``tornado._httpgrammar``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
from collections.abc import Mapping

from tornado import _httpgrammar as grammar
from tornado import httputil
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPOutputError,
    RequestStartLine,
    ResponseStartLine,
    parse_request_start_line,
    parse_response_start_line,
)

#: The whole answer a server gives to a malformed request before closing.
BAD_REQUEST_RESPONSE = b"HTTP/1.1 400 Bad Request\r\n\r\n"
#: The interim response telling a client to send its body.
CONTINUE_RESPONSE = b"HTTP/1.1 100 (Continue)\r\n\r\n"

# Reading the head

#: Matches the blank line ending a message head; a bare LF may stand for CRLF.
#: Suitable for ``IOStream.read_until_regex``.  The CR before the first LF is
#: left out (the match ends in the same place): a pattern starting with a
#: literal lets the regex engine skip ahead quickly, several times faster.
HEAD_END_RE = re.compile(rb"\n\r?\n")


def _split_head(data: bytes) -> tuple[str, HTTPHeaders]:
    """Split a head into its start line and parsed headers."""
    # Each byte becomes one character, so obs-text survives for validation.
    # Empty lines before a request are ignored (RFC 9112 section 2.2).
    text = data.decode("latin1").lstrip("\r\n")
    start_line, _, header_text = text.partition("\n")
    return start_line.removesuffix("\r"), HTTPHeaders.parse(header_text)


def parse_request_head(data: bytes) -> tuple[RequestStartLine, HTTPHeaders]:
    """Parse the head of a request (start line and headers, as bytes).

    Raises `.HTTPInputError` for a malformed start line or header.
    """
    # The C parser (tornado.speedups) builds the same objects for a plain
    # head and leaves everything else, errors included, to the Python one.
    c_parse = httputil._c_parse_request_head
    if c_parse is not None:
        parsed = c_parse(data, RequestStartLine, HTTPHeaders)
        if parsed is not None:
            return parsed
    return _parse_request_head_python(data)


def _parse_request_head_python(data: bytes) -> tuple[RequestStartLine, HTTPHeaders]:
    """`parse_request_head` in pure Python, for every input."""
    start_line, headers = _split_head(data)
    return parse_request_start_line(start_line), headers


def read_request_head(
    data: bytes,
) -> tuple[RequestStartLine, HTTPHeaders, Framing, bool, bool]:
    """Parse a request head and apply the rules for reading a request.

    Returns the start line, the headers, the body `Framing`
    (`request_body_framing`), whether the client allows the connection to
    carry another request (`keep_alive_requested`) and whether it waits for
    ``100 Continue`` (`expects_continue`), once `check_request_host` has
    passed.  Raises `.HTTPInputError` as those functions do.
    """
    # The C parser also tells a "plain" head apart: HTTP/1.1 with one
    # simple Host value, no Content-Length, Transfer-Encoding or Expect
    # header and no Connection header but keep-alive.  Its answers are
    # known without running the rules (speedups_plain_head_test checks it).
    c_parse = httputil._c_parse_request_head_plain
    if c_parse is not None:
        parsed = c_parse(data, RequestStartLine, HTTPHeaders)
        if parsed is not None:
            start_line, headers, plain = parsed
            if plain:
                return start_line, headers, NO_BODY, True, False
            return _apply_request_rules(start_line, headers)
    return _apply_request_rules(*_parse_request_head_python(data))


def _apply_request_rules(
    start_line: RequestStartLine, headers: HTTPHeaders
) -> tuple[RequestStartLine, HTTPHeaders, Framing, bool, bool]:
    """`read_request_head` for a head already parsed."""
    check_request_host(start_line, headers)
    return (
        start_line,
        headers,
        request_body_framing(headers),
        keep_alive_requested(start_line, headers),
        expects_continue(start_line, headers),
    )


def parse_response_head(data: bytes) -> tuple[ResponseStartLine, HTTPHeaders]:
    """Parse the head of a response (start line and headers, as bytes).

    Raises `.HTTPInputError` for a malformed start line or header.
    """
    start_line, headers = _split_head(data)
    return parse_response_start_line(start_line), headers


def check_request_host(start_line: RequestStartLine, headers: HTTPHeaders) -> None:
    """Apply RFC 9112 section 3.2 to the ``Host`` header of a request.

    Raises `.HTTPInputError` if an HTTP/1.1 request has no ``Host`` header,
    if any request has more than one, or if its value is not a valid host.
    """
    # get_list("Host"), without copying (nor calling _table() for nothing).
    table = headers._values if headers._pending_fold is None else headers._table()
    host = table.get("Host")
    if isinstance(host, list):
        if len(host) > 1:
            raise HTTPInputError("Multiple Host headers")
        host = host[0] if host else None
    if host is None:
        if start_line.version == "HTTP/1.1":
            raise HTTPInputError("Missing Host header")
        return
    if not grammar.is_host(host):
        raise HTTPInputError(f"Invalid Host header {host!r}")


# The functions below run for every message: they look headers up by their
# canonical names (httputil._canonical_get), and use these module-level names
# for the enum members (a lookup on an Enum class costs several times more).


def keep_alive_requested(
    start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
) -> bool:
    """Whether this message lets its connection carry another message.

    HTTP/1.1 connections persist unless ``Connection: close`` is sent.
    HTTP/1.0 ones persist only with ``Connection: keep-alive`` and a body
    whose end can be found without closing the connection.
    """
    connection = httputil._canonical_get(headers, "Connection")
    if start_line.version == "HTTP/1.1":
        return connection is None or connection.lower() != "close"
    connection = "" if connection is None else connection.lower()
    delimited = (
        "Content-Length" in headers
        or _names_only_chunked(headers)
        or getattr(start_line, "method", None) in ("GET", "HEAD")
    )
    return delimited and connection == "keep-alive"


def expects_continue(start_line: RequestStartLine, headers: HTTPHeaders) -> bool:
    """Whether an HTTP/1.1 client waits for `CONTINUE_RESPONSE` before its body."""
    if start_line.version != "HTTP/1.1":
        return False
    expect = httputil._canonical_get(headers, "Expect")
    return expect is not None and expect.lower() == "100-continue"


# Body framing


class BodyKind(enum.Enum):
    """How the end of a message body is found."""

    #: There is no body.
    NONE = "none"
    #: ``Framing.length`` bytes follow the head.
    LENGTH = "length"
    #: The chunked transfer coding delimits the body.
    CHUNKED = "chunked"
    #: The body runs until the connection closes.  For outgoing messages it
    #: also covers bodies framed by the application (which set its own
    #: ``Transfer-Encoding``): bytes are then sent unchanged.
    UNTIL_CLOSE = "until close"


@dataclasses.dataclass(frozen=True)
class Framing:
    """The framing of one message body: a `BodyKind` and, for ``LENGTH``, its size."""

    #: A `BodyKind`.
    kind: BodyKind
    #: The body size in bytes when ``kind`` is ``BodyKind.LENGTH``.
    length: int = 0


NO_BODY = Framing(BodyKind.NONE)

_NONE = BodyKind.NONE
_LENGTH = BodyKind.LENGTH
_CHUNKED_KIND = BodyKind.CHUNKED
_UNTIL_CLOSE = BodyKind.UNTIL_CLOSE
# Framings are immutable: these are shared, and those of the usual lengths
# remembered (making one costs a frozen dataclass's __init__).
_CHUNKED_FRAMING = Framing(BodyKind.CHUNKED)
_UNTIL_CLOSE_FRAMING = Framing(BodyKind.UNTIL_CLOSE)


@functools.lru_cache(maxsize=512)
def _length_framing(length: int) -> Framing:
    return Framing(_LENGTH, length)


# Longer Content-Length digit strings take the general path (int() refuses
# more than a few thousand digits).
_SHORT_DIGITS = 18


def _plain_length(raw: str | list[str]) -> int | None:
    """A single Content-Length of up to `_SHORT_DIGITS` ASCII digits as an
    int; None for anything else, which the general path decides."""
    if (
        type(raw) is str
        and len(raw) <= _SHORT_DIGITS
        and raw.isascii()
        and raw.isdigit()  # for ASCII text: one or more of 0-9
    ):
        return int(raw)
    return None


_LIST_SEPARATOR_RE = re.compile(r",[ \t]*")


def _content_length(headers: HTTPHeaders) -> int | None:
    """The ``Content-Length`` of a received message, or ``None``.

    Copies of one value (as some proxies produce, in one header or several)
    are accepted, and collapsed in ``headers`` so that the application sees
    one value; differing values are not.  Only digits may stand between the
    commas and the whitespace after them: ``5 , 5`` is refused.
    """
    if "Content-Length" not in headers:
        return None
    raw = headers["Content-Length"]
    values = set(_LIST_SEPARATOR_RE.split(raw))
    if len(values) > 1:
        raise HTTPInputError(f"Multiple unequal Content-Lengths: {raw!r}")
    (value,) = values
    try:
        length = grammar.parse_digits(value)
    except ValueError:
        if grammar.is_digits(value):  # more digits than int() converts
            raise HTTPInputError("Content-Length too long") from None
        raise HTTPInputError(f"Only integer Content-Length is allowed: {raw}") from None
    if value != raw:
        headers["Content-Length"] = value
    return length


def _names_only_chunked(headers: HTTPHeaders) -> bool:
    """Whether ``Transfer-Encoding`` is exactly one ``chunked`` (any case)."""
    return headers._get("Transfer-Encoding", "").lower() == "chunked"


def _is_chunked(headers: HTTPHeaders) -> bool:
    """Whether the message is chunked; other transfer codings are errors.

    Only a single ``chunked`` coding is supported, so the body length can
    always be determined (RFC 9112 section 6.3), and nothing is read
    leniently: an empty list element, a second ``Transfer-Encoding`` header
    or another coding is refused.
    """
    if "Transfer-Encoding" not in headers:
        return False
    if "Content-Length" in headers:
        raise HTTPInputError("Message with both Transfer-Encoding and Content-Length")
    if not _names_only_chunked(headers):
        raise HTTPInputError(
            f"Unsupported Transfer-Encoding {headers['Transfer-Encoding']}"
        )
    return True


#: What `check_body_size` says of a body over the limit, by how its size
#: became known.
_BODY_TOO_LARGE = {
    "declared": "Content-Length too long",
    "chunked": "chunked body too large",
    "until close": "Body too long",
    "decompressed": "decompressed body too large",
}


def check_body_size(size: int, max_body_size: int | None, measured: str) -> None:
    """The body-size rule: refuse a body of ``size`` bytes over ``max_body_size``.

    ``measured`` says how the size became known: ``"declared"`` (its
    ``Content-Length``), ``"chunked"`` (the chunk sizes so far), ``"until
    close"`` (the bytes so far of a body ending with the connection) or
    ``"decompressed"`` (the bytes so far of a gzip body once decompressed);
    it picks the message of the `.HTTPInputError` raised.  Every size limit
    on received bodies goes through here.
    """
    if max_body_size is not None and size > max_body_size:
        raise HTTPInputError(_BODY_TOO_LARGE[measured])


def check_content_length(framing: Framing, max_body_size: int | None) -> None:
    """Refuse a body whose declared length is over ``max_body_size``.

    Raises `.HTTPInputError` (``Content-Length too long``).  Checked once
    the application had its chance to change the limit.
    """
    if framing.kind is _LENGTH:
        check_body_size(framing.length, max_body_size, "declared")


def request_body_framing(headers: HTTPHeaders) -> Framing:
    """How the body of a received request is delimited.

    Raises `.HTTPInputError` for conflicting or malformed ``Content-Length``
    and ``Transfer-Encoding`` headers.  A request with neither header has no
    body.  The size limit is applied by `check_content_length`.
    """
    table = headers._values if headers._pending_fold is None else headers._table()
    if "Transfer-Encoding" not in table:
        raw = table.get("Content-Length")
        if raw is None:
            return NO_BODY
        length = _plain_length(raw)
        if length is not None:
            return _length_framing(length)
    if _is_chunked(headers):
        return _CHUNKED_FRAMING
    length = _content_length(headers)
    if length is None:
        return NO_BODY
    return _length_framing(length)


def response_body_framing(
    headers: HTTPHeaders, code: int, request_method: str | None = None
) -> Framing:
    """How the body of a received response is delimited.

    Responses to ``HEAD`` and ``304`` responses have no body whatever their
    headers say.  Informational (1xx) responses must not announce a body and
    ``204`` responses must not have one.  Otherwise the body is chunked, of
    the declared length, or runs until the connection closes.  Raises as
    `request_body_framing` does.
    """
    if request_method == "HEAD" or code == 304:
        return NO_BODY
    if 100 <= code < 200:
        if "Content-Length" in headers or "Transfer-Encoding" in headers:
            raise HTTPInputError(f"Response code {code} cannot have body")
        return NO_BODY
    chunked = _is_chunked(headers)
    length = _content_length(headers)
    if code == 204:
        if chunked or length not in (None, 0):
            raise HTTPInputError("Response with code 204 should not have body")
        return NO_BODY
    if chunked:
        return Framing(BodyKind.CHUNKED)
    if length is None:
        return Framing(BodyKind.UNTIL_CLOSE)
    return Framing(BodyKind.LENGTH, length)


# Chunked decoding


@dataclasses.dataclass(frozen=True)
class ReadHint:
    """What a `ChunkedDecoder` needs next, so a reader never reads too far.

    With a ``delimiter``, read up to and including it, but at most
    ``max_bytes`` bytes (``IOStream.read_until``).  Without one, read at most
    ``max_bytes`` bytes (``IOStream.read_bytes`` with ``partial=True``).
    """

    #: The bytes ending the wanted line, or ``None`` for raw data.
    delimiter: bytes | None
    #: The most bytes the next read may return.
    max_bytes: int


class _State(enum.Enum):
    SIZE_LINE = enum.auto()
    DATA = enum.auto()
    DATA_END = enum.auto()
    TRAILER = enum.auto()
    DONE = enum.auto()


class ChunkedDecoder:
    """Incremental decoder for a body in the chunked transfer coding.

    Feed it the received bytes in pieces of any size up to the end of the
    body (a reader following `next_read` never reads further); `feed`
    returns the decoded body data.  Trailer fields are parsed into
    `trailers`.

    Lines must end with CRLF.  Chunk extensions are accepted and ignored
    when well formed, and so are trailer fields (obsolete line folding
    aside).  Raises `.HTTPInputError` for malformed framing, once the body
    exceeds ``max_body_size`` (``chunked body too large``), and for a
    trailer section over ``max_trailer_size``.
    """

    def __init__(
        self,
        max_body_size: int | None = None,
        *,
        max_line_size: int = 1024,
        max_trailer_size: int = 65536,
    ) -> None:
        self._max_body_size = max_body_size
        self._max_line_size = max_line_size
        self._max_trailer_size = max_trailer_size
        self._state = _State.SIZE_LINE
        self._line = bytearray()  # an incomplete line, or the CRLF after data
        self._chunk_remaining = 0
        self._body_size = 0
        self._trailer_size = 0
        self.trailers = HTTPHeaders()
        """Trailer fields received after the last chunk, as `.HTTPHeaders`."""

    @property
    def finished(self) -> bool:
        """Whether the whole body, with its trailers, has been decoded."""
        return self._state is _State.DONE

    def next_read(self) -> ReadHint:
        """Describe the next read that cannot go past the end of the body.

        Chunk data is read together with the CRLF that must follow it.
        """
        if self._state in (_State.SIZE_LINE, _State.TRAILER):
            return ReadHint(b"\r\n", self._line_limit() - len(self._line))
        if self._state is _State.DATA:
            return ReadHint(None, self._chunk_remaining + 2)
        if self._state is _State.DATA_END:
            return ReadHint(None, 2 - len(self._line))
        return ReadHint(None, 0)

    def feed(self, data: bytes) -> list[bytes]:
        """Decode ``data``; return the body bytes it completes, in order.

        Raises `ValueError` if ``data`` goes past the end of the body.
        """
        out: list[bytes] = []
        pos = 0
        while pos < len(data):
            if self._state is _State.DATA:
                take = min(self._chunk_remaining, len(data) - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._chunk_remaining -= take
                if not self._chunk_remaining:
                    self._state = _State.DATA_END
            elif self._state is _State.DATA_END:
                pos = self._take_chunk_end(data, pos)
            elif self._state is _State.DONE:
                raise ValueError("data fed past the end of a chunked body")
            else:
                pos = self._take_line(data, pos)
        return out

    def _take_chunk_end(self, data: bytes, pos: int) -> int:
        """Consume the CRLF that must follow each chunk's data."""
        take = 2 - len(self._line)
        self._line += data[pos : pos + take]
        if not b"\r\n".startswith(self._line):
            raise HTTPInputError("improperly terminated chunk")
        if len(self._line) == 2:
            self._line.clear()
            self._state = _State.SIZE_LINE
        return pos + take

    def _take_line(self, data: bytes, pos: int) -> int:
        """Consume bytes up to a line end; handle the line once complete."""
        newline = data.find(b"\n", pos)
        end = len(data) if newline == -1 else newline + 1
        self._line += data[pos:end]
        if len(self._line) > self._line_limit():
            if self._state is _State.TRAILER:
                raise HTTPInputError("improperly terminated chunked request")
            raise HTTPInputError("invalid chunk size")
        if newline != -1:
            line = bytes(self._line)
            self._line.clear()
            if self._state is _State.SIZE_LINE:
                self._handle_size_line(line)
            else:
                self._handle_trailer_line(line)
        return end

    def _line_limit(self) -> int:
        """The longest the line being read may be."""
        if self._state is _State.TRAILER:
            return self._max_trailer_size - self._trailer_size
        return self._max_line_size

    def _handle_size_line(self, line: bytes) -> None:
        try:
            size = grammar.parse_chunk_size_line(line)
        except ValueError:
            raise HTTPInputError("invalid chunk size") from None
        self._body_size += size
        check_body_size(self._body_size, self._max_body_size, "chunked")
        self._chunk_remaining = size
        self._state = _State.DATA if size else _State.TRAILER

    def _handle_trailer_line(self, line: bytes) -> None:
        if line == b"\r\n":
            self._state = _State.DONE
            return
        field = line[:-2]
        if not line.endswith(b"\r\n") or field[:1] in (b" ", b"\t") or b"\r" in field:
            raise HTTPInputError("improperly terminated chunked request")
        self._trailer_size += len(line)
        try:
            self.trailers.parse_line(field.decode("latin1"))
        except HTTPInputError:
            raise HTTPInputError("improperly terminated chunked request") from None


# Writing


_CHUNKED = {"Transfer-Encoding": "chunked"}
_NO_EXTRA: dict[str, str] = {}  # (never changed)


def format_request_head(
    start_line: RequestStartLine, headers: HTTPHeaders, framing: Framing = NO_BODY
) -> bytes:
    """Render a request's start line and headers (always as HTTP/1.1).

    A ``CHUNKED`` ``framing`` (from `plan_request_body`) adds its
    ``Transfer-Encoding`` line; ``headers`` itself is left unchanged.
    Raises `ValueError` if a header or the start line contains CR, LF or
    NUL, which would let one header inject others.
    """
    extra = _CHUNKED if framing.kind is _CHUNKED_KIND else _NO_EXTRA
    first_line = f"{start_line.method} {start_line.path} HTTP/1.1"
    return _format_head(first_line, headers, extra)


def format_response_head(
    start_line: ResponseStartLine,
    headers: HTTPHeaders,
    framing: Framing = NO_BODY,
    connection: str | None = None,
) -> bytes:
    """Render a response's status line and headers (always as HTTP/1.1).

    A ``CHUNKED`` ``framing`` (from `plan_response_body`) adds its
    ``Transfer-Encoding`` line, and ``connection`` (from
    `connection_header`) a ``Connection`` line in place of any in
    ``headers``, which is left unchanged.  Raises `ValueError` as
    `format_request_head` does.
    """
    extra = _CHUNKED if framing.kind is _CHUNKED_KIND else _NO_EXTRA
    if connection is not None:
        extra = {**extra, "Connection": connection}
    first_line = f"HTTP/1.1 {start_line.code} {start_line.reason}"
    return _format_head(first_line, headers, extra)


_LINE_BREAKING_RE = re.compile(r"[\r\n\x00]")


def _format_head(
    first_line: str, headers: HTTPHeaders, extra: Mapping[str, str], body: bytes = b""
) -> bytes:
    """The head's bytes: ``headers``, then ``extra`` in place of the same
    names; then ``body``, if given."""
    # The table behind get_all(), walked directly: this runs for every message.
    table = headers._values if headers._pending_fold is None else headers._table()
    # The C formatter (tornado.speedups) writes the same bytes when every
    # piece is plain text; anything else (and every error) is left to Python.
    c_format = httputil._c_format_head
    if c_format is not None and type(extra) is dict:
        data = (
            c_format(first_line, table, extra, body)
            if body
            else (c_format(first_line, table, extra))
        )
        if data is not None:
            return data
    return _format_table(first_line, table, extra) + body


def _format_table(
    first_line: str, table: httputil._HeaderTable, extra: Mapping[str, str]
) -> bytes:
    """`_format_head` in pure Python, for every input."""
    lines = [first_line]
    for name, value in table.items():
        if extra and name in extra:
            continue
        if isinstance(value, list):  # a repeated header: one line per value
            lines.extend(f"{name}: {_text(v)}" for v in value)
        else:
            lines.append(f"{name}: {_text(value)}")
    lines.extend(f"{name}: {value}" for name, value in extra.items())
    # One search over all the lines in the common case; they are only looked
    # at one by one to name the offending one.
    if _LINE_BREAKING_RE.search("".join(lines)):
        for line in lines:
            if _LINE_BREAKING_RE.search(line):
                raise ValueError(
                    f"Illegal characters (CR, LF or NUL) in header: {line!r}"
                )
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin1")


def _text(value: str | bytes | int) -> str:
    """Header text; bytes slipped in by callers are taken byte-per-character."""
    if type(value) is str:
        return value
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def declared_length(headers: HTTPHeaders) -> int | None:
    """The ``Content-Length`` an application set on an outgoing message.

    Raises `.HTTPOutputError` for a value that is not a number.
    """
    table = headers._values if headers._pending_fold is None else headers._table()
    if "Content-Length" not in table:
        return None
    length = _plain_length(table["Content-Length"])
    if length is not None:
        return length
    value = headers["Content-Length"]
    if not grammar.is_digits(value):
        raise HTTPOutputError(f"Invalid Content-Length {value!r}")
    return int(value)


def format_plain_response(
    request_line: RequestStartLine,
    start_line: ResponseStartLine,
    headers: HTTPHeaders,
    body: bytes,
) -> bytes | None:
    """The head and whole body of the most common response, or ``None``.

    That is a response to an HTTP/1.1 request other than ``HEAD``, whose
    connection stays open, with a code allowing a body, no
    ``Transfer-Encoding`` or ``Connection`` header, and a single
    ``Content-Length`` spelling ``len(body)`` in decimal: the framing is then that
    length, the connection is kept and the bytes are those of
    `format_response_head` followed by ``body``.  Any other response
    (``None``) goes through `plan_response_body`, `response_closes_connection`,
    `connection_header` and `format_response_head`, which may raise.
    """
    code = start_line.code
    if (
        request_line.version != "HTTP/1.1"
        or request_line.method == "HEAD"
        or code < 200
        or code in (204, 304)
    ):
        return None
    table = headers._values if headers._pending_fold is None else headers._table()
    raw = table.get("Content-Length")
    if (
        type(raw) is not str
        or raw != str(len(body))  # (other spellings: the general path)
        or "Transfer-Encoding" in table
        or "Connection" in table
    ):
        return None
    first_line = f"HTTP/1.1 {code} {start_line.reason}"
    return _format_head(first_line, headers, _NO_EXTRA, body)


def plan_request_body(start_line: RequestStartLine, headers: HTTPHeaders) -> Framing:
    """Choose the framing of a request body about to be sent.

    ``Content-Length`` is used when present.  Otherwise ``POST``, ``PUT`` and
    ``PATCH`` bodies are chunked (`format_request_head` then adds the
    header).  A request whose application set its own ``Transfer-Encoding``
    is sent unchanged (``UNTIL_CLOSE``); any other request has no body.
    ``headers`` is not changed: framing belongs to this one message.
    """
    length = declared_length(headers)
    if length is not None:
        return _length_framing(length)
    if "Transfer-Encoding" in headers:
        return _UNTIL_CLOSE_FRAMING
    if start_line.method in ("POST", "PUT", "PATCH"):
        return _CHUNKED_FRAMING
    return NO_BODY


def plan_response_body(
    request_line: RequestStartLine, code: int, headers: HTTPHeaders
) -> Framing:
    """Choose the framing of a response body about to be sent.

    Responses to ``HEAD`` and 1xx, 204 and 304 responses have no body.
    Otherwise ``Content-Length`` is used when present; an HTTP/1.1 client
    gets a chunked body (`format_response_head` then adds the header); an
    HTTP/1.0 client gets a body ending when the connection closes.  A
    response whose application set its own ``Transfer-Encoding`` is sent
    unchanged (``UNTIL_CLOSE``).  ``headers`` is not changed.
    """
    if request_line.method == "HEAD" or code in (204, 304) or 100 <= code < 200:
        return NO_BODY
    length = declared_length(headers)
    if length is not None:
        return _length_framing(length)
    if "Transfer-Encoding" in headers._table() or request_line.version != "HTTP/1.1":
        return _UNTIL_CLOSE_FRAMING
    return _CHUNKED_FRAMING


def response_closes_connection(
    request_line: RequestStartLine,
    framing: Framing,
    headers: HTTPHeaders,
    close_requested: bool,
) -> bool:
    """Whether the connection must close once this response is sent.

    It does when the exchange already called for it (``close_requested``:
    the request asked, or the server does not keep connections alive), when
    an HTTP/1.0 client can only see the end of the body by the close, and
    when the application sent ``Connection: close`` itself.
    """
    return (
        close_requested
        or (framing.kind is _UNTIL_CLOSE and request_line.version != "HTTP/1.1")
        or (httputil._canonical_get(headers, "Connection") or "").lower() == "close"
    )


def connection_header(request_line: RequestStartLine, closes: bool) -> str | None:
    """The ``Connection`` value telling the client what happens next, if any.

    HTTP/1.1 connections persist unless told ``close``; HTTP/1.0 ones close
    unless told ``Keep-Alive``.
    """
    if request_line.version == "HTTP/1.1":
        return "close" if closes else None
    return None if closes else "Keep-Alive"


#: The last chunk and the empty trailer section ending a chunked body.
LAST_CHUNK = b"0\r\n\r\n"


def encode_chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk; empty data gives no bytes at all.

    (An empty chunk would mark the end of the body.)
    """
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


class BodyEncoder:
    """Frames the pieces of an outgoing body according to a `Framing`.

    For ``LENGTH`` and ``NONE`` framing it checks the body against the
    declared size, raising `.HTTPOutputError` when too much or too little is
    written.
    """

    def __init__(self, framing: Framing) -> None:
        self.framing = framing
        """The `Framing` applied."""
        kind = framing.kind
        self._remaining: int | None = (
            framing.length if kind is _LENGTH else 0 if kind is _NONE else None
        )

    @property
    def remaining(self) -> int | None:
        """Bytes still owed by a fixed-size body; ``None`` for other framings."""
        return self._remaining

    def encode(self, chunk: bytes) -> bytes:
        """Return the bytes to send for the next piece of the body."""
        if self.framing.kind is _CHUNKED_KIND:
            return encode_chunk(chunk)
        if self._remaining is not None:
            if len(chunk) > self._remaining:
                raise HTTPOutputError("Tried to write more data than Content-Length")
            self._remaining -= len(chunk)
        return chunk

    def finish(self) -> bytes:
        """Return the bytes ending the body (``LAST_CHUNK`` when chunked)."""
        if self._remaining:
            raise HTTPOutputError(
                f"Tried to write {self._remaining} bytes less than Content-Length"
            )
        return LAST_CHUNK if self.framing.kind is _CHUNKED_KIND else b""
