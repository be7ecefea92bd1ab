"""The HTTP grammar (RFC 9110 and RFC 9112), written once for the package.

Every module that reads HTTP syntax off the wire checks it here: tokens and
field names, field values, decimal and hexadecimal digits, quoted strings,
reason phrases, request targets, the ``Host`` value, entity tags, comma-separated lists
and ``;``-separated header parameters.  A fix to the grammar then lands in
one place.

Text read off the wire is decoded as latin-1, so each character stands for
one byte and the bytes 0x80-0xFF ("obs-text") appear as U+0080-U+00FF.

Every pattern here is unambiguous: no two neighbouring repetitions can match
the same characters, and each optional part starts with a character that
decides whether it is present.  The regex engine therefore never has more
than one way to match a piece of input, so no input can make it backtrack
more than linearly (possessive quantifiers would say the same, but they need
Python 3.11).  Checks over a whole block look for flaws with `re.search`
rather than matching the block's grammar with one big repeated group, whose
backtracking state would cost memory for every repetition.

Nothing here imports another ``tornado`` module.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping

# Character classes (the contents of ``[...]``).
_TOKEN_CLASS = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_VCHAR_CLASS = r"\x21-\x7e\x80-\xff"  # visible characters and obs-text
_QDTEXT_CLASS = r"\t \x21\x23-\x5b\x5d-\x7e\x80-\xff"  # all but '"' and '\'

#: The characters of a token (RFC 9110 section 5.6.2).
TOKEN_CHARS = (
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

#: A token: method names, header field names, parameter names.
TOKEN_RE = re.compile(f"[{_TOKEN_CLASS}]+")
#: One or more decimal digits (ASCII only, unlike `str.isdigit`).
DIGITS_RE = re.compile(r"[0-9]+")
#: One or more hexadecimal digits.
HEX_DIGITS_RE = re.compile(r"[0-9A-Fa-f]+")
#: A quoted string with its quotes; backslash escapes any character but CR/LF.
QUOTED_STRING_RE = re.compile(f'"(?:[{_QDTEXT_CLASS}]|\\\\[\\t {_VCHAR_CLASS}])*"')

_HTTP_VERSION = r"HTTP/[0-9]\.[0-9]"
_REQUEST_LINE_RE = re.compile(
    f"([{_TOKEN_CLASS}]+) ([{_VCHAR_CLASS}]+) ({_HTTP_VERSION})"
)
_STATUS_LINE_RE = re.compile(
    f"({_HTTP_VERSION}) ([0-9]{{3}})(?: ([\\t {_VCHAR_CLASS}]*))?"
)
_REASON_PHRASE_RE = re.compile(f"[\\t {_VCHAR_CLASS}]*")
_REQUEST_TARGET_RE = re.compile(f"[{_VCHAR_CLASS}]+")

# A character that no field value may contain (controls other than tab).
_NON_FIELD_CHAR_RE = re.compile(f"[^\\t {_VCHAR_CLASS}]")
# For text decoded as UTF-8 (multipart part headers) rather than byte per
# character: only control characters other than tab are refused.
_CONTROL_CHAR_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# The flaws that make `is_plain_header_block` false: a character no header
# line may hold, a CR not ending a line, and a non-blank line that does not
# start with a field name and a colon (the first line is checked on its
# own).  Each pattern starts with a literal or a class that the engine scans
# for quickly, and what follows is decided by the next few characters, so
# every search is linear, needs no memory, and costs about what a single
# grammar match of a typical block would.
_NON_HEADER_CHAR_RE = re.compile(f"[^\\t\\r\\n {_VCHAR_CLASS}]")
_BARE_CR_RE = re.compile(r"\r(?!\n)")
_ODD_LINE_START_RE = re.compile(f"\\n(?!\\r?\\n|\\Z|[{_TOKEN_CLASS}]+:)")
_PLAIN_FIRST_LINE_RE = re.compile(f"[{_TOKEN_CLASS}]+:|\\r?\\n|\\Z")

# A Host value: a registered name, IPv4 address or bracketed IP literal,
# with an optional port.  Percent-encoding and ',' are not accepted, so a
# value stays unambiguous for everything that later reads it.
_HOST_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+;=\[\]:]*")

# A quoted string where one starts, unterminated ones running to the end of
# the text; "unrolled" so that only escapes cost a repetition.
_QUOTED_PREFIX_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_ESCAPED_CHAR_RE = re.compile(r"\\(.)", re.DOTALL)

# chunk-size [ chunk-ext ] CRLF (RFC 9112 section 7.1), for bytes.
_BYTES_TOKEN = _TOKEN_CLASS.encode()
_CHUNK_SIZE_LINE_RE = re.compile(
    rb"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*["
    + _BYTES_TOKEN
    + rb"]+(?:[ \t]*=[ \t]*(?:["
    + _BYTES_TOKEN
    + rb"]+|"
    + QUOTED_STRING_RE.pattern.encode("latin1")
    + rb"))?)*\r\n"
)


def is_token(text: str) -> bool:
    """Whether ``text`` is a token (RFC 9110 section 5.6.2).

    >>> is_token("Content-Type"), is_token("two words"), is_token("")
    (True, False, False)
    """
    return TOKEN_RE.fullmatch(text) is not None


#: Whether a text is a valid field (header) name: field names are tokens.
is_field_name = is_token


def is_field_value(text: str) -> bool:
    """Whether ``text`` is a valid field value (RFC 9110 section 5.5).

    Visible characters and obs-text, with spaces and tabs between them but
    not at either end.  The empty value is valid.

    >>> is_field_value("text/html; q=0.9"), is_field_value(" padded")
    (True, False)
    """
    if not text:
        return True
    return (
        text[0] not in " \t"
        and text[-1] not in " \t"
        and _NON_FIELD_CHAR_RE.search(text) is None
    )


def has_control_chars(text: str) -> bool:
    """Whether ``text`` holds a control character other than tab.

    For text that was decoded as UTF-8 rather than byte per character.
    """
    return _CONTROL_CHAR_RE.search(text) is not None


def is_plain_header_block(text: str) -> bool:
    """Whether every line of ``text`` is an ordinary ``Name: value`` line.

    Lines end with CRLF or LF; blank lines may appear anywhere.  A line of
    such a block splits at its first colon into a valid field name and,
    once stripped of spaces and tabs, a valid field value.  Anything else
    (folded lines, bare CRs, control characters, a space before the colon)
    makes this false, and the block must be read line by line.
    """
    return (
        _PLAIN_FIRST_LINE_RE.match(text) is not None
        and _NON_HEADER_CHAR_RE.search(text) is None
        and _BARE_CR_RE.search(text) is None
        and _ODD_LINE_START_RE.search(text) is None
    )


def is_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII decimal digits."""
    # For ASCII text, isdigit() accepts exactly 0-9 (and needs one of them):
    # the same answer as DIGITS_RE.fullmatch, without the regex engine.
    return text.isascii() and text.isdigit()


def parse_digits(text: str) -> int:
    """Parse a non-negative decimal integer made only of ASCII digits.

    Unlike `int`, signs, whitespace, underscores and non-ASCII digits raise
    `ValueError`, as does a number too long for `int` to convert.

    >>> parse_digits("0042")
    42
    """
    if DIGITS_RE.fullmatch(text) is None:
        raise ValueError(f"not an integer: {text!r}")
    return int(text)


def parse_hex_digits(text: str) -> int:
    """Parse a non-negative hexadecimal integer made only of hex digits.

    Unlike ``int(text, 16)``, signs, whitespace, underscores and a ``0x``
    prefix raise `ValueError`.

    >>> parse_hex_digits("1A")
    26
    """
    if HEX_DIGITS_RE.fullmatch(text) is None:
        raise ValueError(f"not a hexadecimal integer: {text!r}")
    return int(text, 16)


def parse_chunk_size_line(line: bytes) -> int:
    """The size announced by a chunk-size line (with its CRLF).

    Chunk extensions are checked and ignored.  Raises `ValueError` for
    anything else.

    >>> parse_chunk_size_line(b"1f;name=value\\r\\n")
    31
    """
    match = _CHUNK_SIZE_LINE_RE.fullmatch(line)
    if match is None:
        raise ValueError(f"invalid chunk size line {line!r}")
    return int(match.group(1), 16)


def match_request_line(line: str) -> tuple[str, str, str] | None:
    """Split a request line into method, target and version, or ``None``.

    Exactly one space separates the three; the method is a token, the target
    has no whitespace or control characters, the version is ``HTTP/d.d``.
    """
    match = _REQUEST_LINE_RE.fullmatch(line)
    if match is None:
        return None
    method, target, version = match.groups()
    return method, target, version


def match_status_line(line: str) -> tuple[str, int, str] | None:
    """Split a status line into version, code and reason, or ``None``.

    The reason phrase (possibly empty, or absent with its space) may hold
    spaces, tabs, visible characters and obs-text.
    """
    match = _STATUS_LINE_RE.fullmatch(line)
    if match is None:
        return None
    version, code, reason = match.groups()
    return version, int(code), reason or ""


def is_reason_phrase(text: str) -> bool:
    """Whether ``text`` may be sent as a reason phrase (RFC 9112 section 4)."""
    return _REASON_PHRASE_RE.fullmatch(text) is not None


def is_request_target(text: str) -> bool:
    """Whether ``text`` may be sent as a request target: no whitespace or controls."""
    return _REQUEST_TARGET_RE.fullmatch(text) is not None


def is_host(text: str) -> bool:
    """Whether ``text`` is an acceptable ``Host`` value (it may be empty)."""
    return _HOST_RE.fullmatch(text) is not None


def quote_string(text: str) -> str:
    """``text`` as a quoted string: in double quotes, ``"`` and ``\\`` escaped.

    >>> print(quote_string('say "hi"'))
    "say \\"hi\\""
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_string(text: str) -> str:
    """Undo `quote_string`; text not in double quotes is returned unchanged."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    return _ESCAPED_CHAR_RE.sub(r"\1", text[1:-1])


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split ``text`` at each ``separator`` that is not inside a quoted string.

    The pieces are returned as they are (not stripped).  An unterminated
    quoted string runs to the end of the text.  Linear in the length of
    ``text`` however its quotes and separators are arranged.

    >>> split_outside_quotes('a; b="x;y"; c', ";")
    ['a', ' b="x;y"', ' c']
    """
    if '"' not in text:
        return text.split(separator)
    pieces = []
    start = pos = 0
    next_separator = text.find(separator)
    next_quote = text.find('"')
    while True:
        if next_separator != -1 and next_separator < pos:
            next_separator = text.find(separator, pos)
        if next_quote != -1 and next_quote < pos:
            next_quote = text.find('"', pos)
        if next_quote != -1 and (next_separator == -1 or next_quote < next_separator):
            quoted = _QUOTED_PREFIX_RE.match(text, next_quote)
            assert quoted is not None  # it always matches at a quote
            pos = quoted.end()
            continue
        if next_separator == -1:
            pieces.append(text[start:])
            return pieces
        pieces.append(text[start:next_separator])
        start = pos = next_separator + len(separator)


def split_list(text: str) -> list[str]:
    """The elements of a comma-separated list (RFC 9110 section 5.6.1).

    Elements are stripped of spaces and tabs; empty ones are dropped, as
    the RFC asks of recipients.  Commas inside quoted strings do not split.

    >>> split_list('gzip, , deflate ,"a,b"')
    ['gzip', 'deflate', '"a,b"']
    """
    stripped = (piece.strip(" \t") for piece in split_outside_quotes(text, ","))
    return [piece for piece in stripped if piece]


def parse_header_params(text: str) -> tuple[str, dict[str, str | None]]:
    r"""Parse a header such as ``Content-Type`` into its value and parameters.

    Parameter names are lowercased; quoted values are unquoted and RFC 2231
    encoded values (``name*=charset'lang'text``) decoded.  A parameter
    without ``=`` maps to ``None``.  When a name repeats, the first value
    is kept.

    >>> parse_header_params('form-data; name="upload"; filename*=utf-8\'\'na%C3%AFve.txt')
    ('form-data', {'name': 'upload', 'filename': 'naïve.txt'})
    >>> parse_header_params("permessage-deflate; client_no_context_takeover")
    ('permessage-deflate', {'client_no_context_takeover': None})
    """
    key, *params = (piece.strip() for piece in split_outside_quotes(text, ";"))
    with_values = [("", "")]  # decode_params treats its first pair as the value
    bare = []
    for param in params:
        name, equals, value = param.partition("=")
        if equals:
            with_values.append((name.strip().lower(), value.strip()))
        elif param:
            bare.append(param.lower())
    result: dict[str, str | None] = {}
    for name, raw in email.utils.decode_params(with_values)[1:]:
        if name not in result:
            result[name] = unquote_string(email.utils.collapse_rfc2231_value(raw))
    for name in bare:
        result.setdefault(name, None)
    return key, result


def format_header_params(
    key: str,
    params: Mapping[str, str | int | None] | Iterable[tuple[str, str | int | None]],
) -> str:
    """Format a header value with parameters: the reverse of `parse_header_params`.

    Parameters come in the order given; ``None`` gives a bare name, and a
    value that is not a token is sent as a quoted string.

    >>> format_header_params("permessage-deflate",
    ...                      {"client_max_window_bits": 15, "server_no_context_takeover": None})
    'permessage-deflate; client_max_window_bits=15; server_no_context_takeover'
    >>> format_header_params("attachment", [("filename", "my file.txt")])
    'attachment; filename="my file.txt"'
    """
    pairs = params.items() if isinstance(params, Mapping) else params
    pieces = [key]
    for name, value in pairs:
        if value is None:
            pieces.append(name)
        else:
            text = str(value)
            pieces.append(f"{name}={text if is_token(text) else quote_string(text)}")
    return "; ".join(pieces)


def find_entity_tags(text: str) -> list[str]:
    """The entity tags (and ``*``) in an ``If-None-Match`` or ``If-Match`` value.

    Every ``*``, ``"..."`` and ``W/"..."`` found from left to right,
    whatever stands between them, as Tornado has always read these
    headers: a malformed list still yields the tags it holds.  A quote
    that is never closed starts no tag.  Linear in the length of ``text``.

    >>> find_entity_tags('W/"a", "b",*')
    ['W/"a"', '"b"', '*']
    """
    tags = []
    pos = 0
    next_star = text.find("*")
    next_quote = text.find('"')
    while next_star != -1 or next_quote != -1:
        if next_star != -1 and next_star < pos:
            next_star = text.find("*", pos)
        if next_quote != -1 and next_quote < pos:
            next_quote = text.find('"', pos)
        if next_star != -1 and (next_quote == -1 or next_star < next_quote):
            tags.append("*")
            pos = next_star + 1
        elif next_quote != -1:
            closing = text.find('"', next_quote + 1)
            if closing == -1:
                next_quote = -1  # no quote is ever closed after this one
                continue
            weak = next_quote - 2 >= pos and text[next_quote - 2 : next_quote] == "W/"
            tags.append(text[next_quote - 2 if weak else next_quote : closing + 1])
            pos = closing + 1
    return tags
