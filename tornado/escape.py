"""Escaping and unescaping for HTML, URLs and JSON, plus string conversions.

The conversion helpers `utf8` and `to_unicode` accept ``bytes``, ``str`` or
None and are used throughout the package wherever text may arrive in either
form. `linkify` turns the URLs in plain text into HTML links.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, overload


def _wrong_type(value: object) -> TypeError:
    return TypeError(f"Expected bytes, unicode, or None; got {type(value)!r}")


@overload
def utf8(value: bytes) -> bytes: ...


@overload
def utf8(value: str) -> bytes: ...


@overload
def utf8(value: None) -> None: ...


def utf8(value: None | str | bytes) -> bytes | None:
    """Encode ``str`` as UTF-8; ``bytes`` and None are returned unchanged.

    Any other type raises `TypeError`.

    >>> utf8("caf\\u00e9")
    b'caf\\xc3\\xa9'
    """
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise _wrong_type(value)
    return value.encode("utf-8")


@overload
def to_unicode(value: str) -> str: ...


@overload
def to_unicode(value: bytes) -> str: ...


@overload
def to_unicode(value: None) -> None: ...


def to_unicode(value: None | str | bytes) -> str | None:
    """Decode ``bytes`` as UTF-8; ``str`` and None are returned unchanged.

    Any other type raises `TypeError`; invalid UTF-8 raises
    `UnicodeDecodeError`.
    """
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise _wrong_type(value)
    return value.decode("utf-8")


# Historical names: on Python 3 the native string type is ``str``.
native_str = to_unicode
to_basestring = to_unicode


def recursive_unicode(obj: Any) -> Any:
    """Convert every ``bytes`` inside nested dicts, lists and tuples to ``str``.

    Other values are returned as they are.
    """
    if isinstance(obj, dict):
        return {recursive_unicode(k): recursive_unicode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [recursive_unicode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(recursive_unicode(item) for item in obj)
    if isinstance(obj, bytes):
        return to_unicode(obj)
    return obj


def xhtml_escape(value: str | bytes) -> str:
    """Escape text for use in HTML or XML, including attribute values.

    ``&``, ``<``, ``>``, ``"`` and ``'`` become ``&amp;``, ``&lt;``,
    ``&gt;``, ``&quot;`` and ``&#x27;``.
    """
    return html.escape(to_unicode(value))


def xhtml_unescape(value: str | bytes) -> str:
    """Replace HTML character references with the characters they stand for.

    Named (``&amp;``), decimal (``&#38;``) and hexadecimal (``&#x26;``)
    references are all understood, following the HTML5 rules.
    """
    return html.unescape(to_unicode(value))


def json_encode(value: Any) -> str:
    """Serialize ``value`` as JSON that is safe to embed in a ``<script>``.

    ``</`` is written as ``<\\/`` so the output can never close the
    surrounding script element.
    """
    return json.dumps(value).replace("</", "<\\/")


def json_decode(value: str | bytes) -> Any:
    """Parse a JSON document given as ``str`` or (UTF-8) ``bytes``.

    Malformed input raises `json.JSONDecodeError`, a `ValueError` (as does
    undecodable ``bytes``, with `UnicodeDecodeError`).  As with `json.loads`,
    nesting deeper than the interpreter's recursion limit raises
    `RecursionError`.
    """
    return json.loads(value)


_WHITESPACE_RUN = re.compile(r"[\x00-\x20]+")


def squeeze(value: str) -> str:
    """Collapse runs of whitespace and control characters into one space.

    Leading and trailing whitespace is removed.
    """
    return _WHITESPACE_RUN.sub(" ", value).strip()


def url_escape(value: str | bytes, plus: bool = True) -> str:
    """Percent-encode ``value`` for use in a URL; ``str`` is encoded as UTF-8.

    With ``plus`` (the default) spaces become ``+`` and ``/`` is escaped, as
    suits query-string values. With ``plus=False`` spaces become ``%20`` and
    ``/`` is kept, as suits URL paths.
    """
    if plus:
        return urllib.parse.quote_plus(utf8(value))
    return urllib.parse.quote(utf8(value))


@overload
def url_unescape(value: str | bytes, encoding: None, plus: bool = True) -> bytes: ...


@overload
def url_unescape(
    value: str | bytes, encoding: str = "utf-8", plus: bool = True
) -> str: ...


def url_unescape(
    value: str | bytes, encoding: str | None = "utf-8", plus: bool = True
) -> str | bytes:
    """Decode a percent-encoded URL component.

    The result is decoded with ``encoding`` (undecodable bytes become
    U+FFFD), or returned as ``bytes`` when ``encoding`` is None. With
    ``plus`` (the default) ``+`` is decoded as a space, as in query strings;
    pass ``plus=False`` for URL paths, where ``+`` is literal. Malformed
    escapes such as ``%zz`` are left as they are.
    """
    if encoding is None:
        raw = utf8(value)
        return urllib.parse.unquote_to_bytes(raw.replace(b"+", b" ") if plus else raw)
    unquote = urllib.parse.unquote_plus if plus else urllib.parse.unquote
    return unquote(to_unicode(value), encoding=encoding)


def parse_qs_bytes(
    qs: str | bytes,
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    *,
    max_num_fields: int | None = None,
) -> dict[str, list[bytes]]:
    """Parse a query string into a dict of lists, keeping values as bytes.

    Works like `urllib.parse.parse_qs`, but values are returned as the raw
    bytes they decode to, so the caller can choose their charset (the keys
    are ``str``, decoded as latin-1; a ``str`` query must hold only latin-1
    characters). Fields are separated by ``&``. More than ``max_num_fields``
    fields raise ``ValueError("Max number of fields exceeded")``, as does a
    malformed field with ``strict_parsing``.

    >>> parse_qs_bytes("a=1&b=caf%C3%A9&a=2")
    {'a': [b'1', b'2'], 'b': [b'caf\\xc3\\xa9']}
    """
    data = qs if isinstance(qs, bytes) else qs.encode("latin1")
    if not data:
        return {}
    if max_num_fields is not None and data.count(b"&") + 1 > max_num_fields:
        raise ValueError("Max number of fields exceeded")
    # One field at a time, straight from the input: no list of all the
    # fields, no str copies of the values (the memory budget is a small
    # multiple of the input, whatever its shape).
    result: dict[str, list[bytes]] = {}
    start = 0
    end = len(data)
    while start <= end:
        stop = data.find(b"&", start)
        if stop == -1:
            stop = end
        field = data[start:stop]
        start = stop + 1
        if field or strict_parsing:
            _add_query_field(result, field, keep_blank_values, strict_parsing)
    return result


def _add_query_field(
    result: dict[str, list[bytes]],
    field: bytes,
    keep_blank_values: bool,
    strict_parsing: bool,
) -> None:
    """Decode one ``name=value`` field into ``result`` (as `urllib.parse.parse_qsl`)."""
    name, equals, value = field.partition(b"=")
    if not equals:
        if strict_parsing:
            raise ValueError(f"bad query field: {field.decode('latin1')!r}")
        if not keep_blank_values:
            return
    if not value and not keep_blank_values:
        return
    key = _unquote_plus(name).decode("latin1")
    decoded = _unquote_plus(value)
    values = result.get(key)
    if values is None:
        result[key] = [decoded]
    else:
        values.append(decoded)


def _unquote_plus(text: bytes) -> bytes:
    """Decode ``+`` and ``%XX`` escapes; malformed escapes are left as they are."""
    if b"+" in text:
        text = text.replace(b"+", b" ")
    if b"%" in text:
        text = urllib.parse.unquote_to_bytes(text)
    return text


# Character classes for linkify, applied to already-escaped HTML text.
# A URL character is anything but whitespace, "&" and parentheses, except
# that the "&" of the entities produced by xhtml_escape is allowed.
_URL_CHAR = r"(?:[^\s&()]|&amp;|&quot;)"
# A URL must not end in punctuation (the period ending a sentence and so on).
_URL_LAST_CHAR = r"""[^\s!"#$%&'()*+,.:;<=>?@\[\]^`{|}~]"""
# What follows the protocol or "www.": runs of URL characters ending well,
# and parenthesised parts.
_URL_REST = rf"(?:{_URL_CHAR}*{_URL_LAST_CHAR}|\({_URL_CHAR}*\))+"
_URL_PATTERN = re.compile(
    rf"""
    # A protocol is tried once per run of word characters and hyphens, at
    # its first word character (the hyphens before it are kept in "lead"):
    # every other starting point in the run would end at the same colon and
    # fare the same, and trying them all would make a long hyphenated word
    # cost quadratic time.
      (?<![\w-]) (?P<lead>-*)
      (?P<url> (?P<proto>\w[\w-]*) : (?P<slashes>/{{1,3}}) {_URL_REST} )
    | \b (?P<www> www\. {_URL_REST} )
    """,
    re.VERBOSE,
)

_SHORTEN_TO = 30


def _shorten(url: str, prefix_len: int) -> str:
    """Abbreviate a long link text, or return it unchanged if that won't help.

    Keeps the protocol, the host and a hint of the first path segment.
    """
    shortened = url
    host, *path = url[prefix_len:].split("/")
    if path:
        hint = path[0][:8].split("?")[0].split(".")[0]
        shortened = f"{url[:prefix_len]}{host}/{hint}"
    if len(shortened) > _SHORTEN_TO * 1.5:
        shortened = shortened[:_SHORTEN_TO]
    if shortened == url:
        return url
    amp = shortened.rfind("&")
    if amp > _SHORTEN_TO - 5:
        # Don't leave half of an entity such as "&amp;" behind.
        shortened = shortened[:amp]
    shortened += "..."
    return shortened if len(shortened) < len(url) else url


def linkify(
    text: str | bytes,
    shorten: bool = False,
    extra_params: str | Callable[[str], str] = "",
    require_protocol: bool = False,
    permitted_protocols: Sequence[str] = ("http", "https"),
) -> str:
    """Escape ``text`` as HTML and turn the URLs in it into links.

    * ``shorten``: abbreviate the text of long links (the full URL is then
      shown in a ``title`` attribute).
    * ``extra_params``: attributes to add to each ``<a>`` tag, such as
      ``'rel="nofollow"'``; or a callable taking the URL and returning them.
    * ``require_protocol``: only link URLs with an explicit protocol;
      otherwise ``www.`` addresses are linked too (as ``http://``).
    * ``permitted_protocols``: URLs with any other protocol are left as text.
      Never permit ``javascript`` or ``data`` for untrusted input.
    """
    if extra_params and not callable(extra_params):
        extra_params = " " + extra_params.strip()

    def make_link(match: re.Match[str]) -> str:
        lead = match.group("lead") or ""
        return lead + link_for(match)

    def link_for(match: re.Match[str]) -> str:
        url = match.group("url") or match.group("www")
        proto = match.group("proto")
        if (require_protocol and not proto) or (
            proto and proto not in permitted_protocols
        ):
            return url
        href = url if proto else "http://" + url
        if callable(extra_params):
            params = " " + extra_params(href).strip()
        else:
            params = extra_params
        link_text = url
        if shorten and len(url) > _SHORTEN_TO:
            prefix_len = len(proto) + 1 + len(match.group("slashes")) if proto else 0
            link_text = _shorten(url, prefix_len)
            if link_text != url:
                params += f' title="{href}"'
        return f'<a href="{href}"{params}>{link_text}</a>'

    return _URL_PATTERN.sub(make_link, xhtml_escape(text))
