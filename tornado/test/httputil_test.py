"""Tests for tornado.httputil."""

from __future__ import annotations

import copy
import datetime
import functools
import gc
import os
import pickle
import socket
import ssl
import threading
import time
import types
import unittest
import unittest.mock
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import tornado.httputil
from tornado.escape import parse_qs_bytes
from tornado.httputil import (
    HTTP_WHITESPACE,
    HTTPConnection,
    HTTPFile,
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    ParseBodyConfig,
    ParseMultipartConfig,
    ParseUrlEncodedConfig,
    RequestStartLine,
    ResponseStartLine,
    _parse_header,
    encode_username_password,
    format_timestamp,
    parse_body_arguments,
    parse_cookie,
    parse_multipart_form_data,
    parse_request_start_line,
    parse_response_start_line,
    qs_to_qsl,
    responses,
    set_parse_body_config,
    split_host_and_port,
    url_concat,
)
from tornado.test.util import (
    assert_roughly_linear,
    best_cpu_time,
    peak_traced_memory,
)

# These parsers are where hostile input lands: a third more examples than
# the suite profile's 60, still well under a second per property.
quick = settings(max_examples=80)

TEST_DIR = os.path.dirname(os.path.abspath(__file__))


def make_request(
    uri: str = "/", method: str = "GET", **kwargs: Any
) -> HTTPServerRequest:
    """A request built the non-deprecated way, from a start line."""
    start_line = RequestStartLine(method, uri, "HTTP/1.0")
    return HTTPServerRequest(start_line=start_line, **kwargs)


def form_args() -> tuple[dict[str, list[bytes]], dict[str, list[HTTPFile]]]:
    return {}, {}


def crlf(text: bytes) -> bytes:
    """Test bodies are written with LF; the wire format wants CRLF."""
    return text.replace(b"\n", b"\r\n")


# Header names and values that are valid on the wire.
TOKEN_CHARS = (
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
header_names = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=20)
# Visible ASCII and the bytes 0x80-0xFF (as latin-1 characters).
visible = st.sampled_from([chr(c) for c in [*range(0x21, 0x7F), *range(0x80, 0x100)]])
header_values = st.builds(
    lambda parts: " ".join(parts), st.lists(st.text(visible, min_size=1), max_size=4)
)


class ScalingCheckTest(unittest.TestCase):
    def test_detects_quadratic_work(self) -> None:
        # 100x the input is 10,000x the work: ten times the bound.
        def run(n: int) -> Callable[[], object]:
            return lambda: [sum(range(i)) for i in range(n)]

        with self.assertRaises(AssertionError):
            assert_roughly_linear(self, run, 30)

    def test_accepts_linear_work(self) -> None:
        def run(n: int) -> Callable[[], object]:
            return lambda: sum(range(n * 100))

        assert_roughly_linear(self, run, 100)


class HTTPHeadersTest(unittest.TestCase):
    def test_case_insensitive_access(self) -> None:
        h = HTTPHeaders()
        h["content-TYPE"] = "text/plain"
        self.assertEqual(h["Content-Type"], "text/plain")
        self.assertEqual(h["CONTENT-TYPE"], "text/plain")
        self.assertIn("content-type", h)
        self.assertNotIn("Content-Length", h)
        self.assertNotIn(42, h)
        self.assertEqual(list(h), ["Content-Type"])

    def test_names_are_normalized(self) -> None:
        h = HTTPHeaders()
        h.add("x-rEQuest-iD", "1")
        h.add("WWW-authenticate", "Basic")
        self.assertEqual(list(h), ["X-Request-Id", "Www-Authenticate"])

    def test_repeated_names(self) -> None:
        h = HTTPHeaders()
        h.add("Set-Cookie", "a=1")
        h.add("set-cookie", "b=2")
        h.add("Vary", "Accept")
        self.assertEqual(h["Set-Cookie"], "a=1,b=2")
        self.assertEqual(h.get_list("SET-COOKIE"), ["a=1", "b=2"])
        self.assertEqual(h.get_list("Missing"), [])
        self.assertEqual(
            list(h.get_all()),
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Vary", "Accept")],
        )
        self.assertEqual(len(h), 2)

    def test_get_list_returns_a_copy(self) -> None:
        h = HTTPHeaders({"A": "1"})
        h.get_list("A").append("2")
        self.assertEqual(h.get_list("A"), ["1"])

    def test_setitem_replaces_all_values(self) -> None:
        h = HTTPHeaders()
        h.add("Accept", "a")
        h.add("Accept", "b")
        h["accept"] = "c"
        self.assertEqual(h.get_list("Accept"), ["c"])

    def test_delitem(self) -> None:
        h = HTTPHeaders()
        h.add("A", "1")
        h.add("A", "2")
        del h["a"]
        self.assertNotIn("A", h)
        with self.assertRaises(KeyError):
            del h["A"]
        with self.assertRaises(KeyError):
            h["A"]

    def test_mapping_methods(self) -> None:
        h = HTTPHeaders(content_type="x", Host="example.com")
        self.assertEqual(h.get("host"), "example.com")
        self.assertIsNone(h.get("missing"))
        self.assertEqual(h.setdefault("Accept", "*/*"), "*/*")
        self.assertEqual(h.pop("ACCEPT"), "*/*")
        h.update({"X-A": "1"}, x_b="2")
        self.assertEqual(sorted(h.keys()), ["Content_type", "Host", "X-A", "X_b"])

    def test_equality_with_dict(self) -> None:
        h = HTTPHeaders({"Content-Type": "text/html"})
        h.add("Accept", "a")
        h.add("Accept", "b")
        self.assertEqual(h, {"Content-Type": "text/html", "Accept": "a,b"})
        self.assertNotEqual(h, {"Content-Type": "text/html"})
        self.assertEqual(h, HTTPHeaders(h))

    def test_copy_keeps_repeated_values_and_is_independent(self) -> None:
        h = HTTPHeaders()
        h.add("A", "1")
        h.add("A", "2")
        for duplicate in (h.copy(), copy.copy(h), copy.deepcopy(h), HTTPHeaders(h)):
            self.assertIsInstance(duplicate, HTTPHeaders)
            self.assertEqual(duplicate.get_list("A"), ["1", "2"])
            duplicate.add("A", "3")
            duplicate["B"] = "x"
            self.assertEqual(h.get_list("A"), ["1", "2"])
            self.assertNotIn("B", h)

    def test_pickle_round_trip(self) -> None:
        h = HTTPHeaders.parse("A: 1\r\nA: 2\r\nB: x\r\n")
        h.parse_line(" continued")
        restored = pickle.loads(pickle.dumps(h))
        self.assertEqual(list(restored.get_all()), list(h.get_all()))
        self.assertEqual(restored["B"], "x continued")

    def test_str(self) -> None:
        h = HTTPHeaders()
        h.add("A", "1")
        h.add("B", "2")
        h.add("A", "3")
        self.assertEqual(str(h), "A: 1\nA: 3\nB: 2\n")
        self.assertEqual(h.__unicode__(), str(h))
        self.assertEqual(str(HTTPHeaders()), "")
        self.assertEqual(list(HTTPHeaders.parse(str(h)).get_all()), list(h.get_all()))

    def test_repr(self) -> None:
        self.assertEqual(repr(HTTPHeaders({"a": "1"})), "HTTPHeaders({'A': '1'})")

    def test_add_rejects_invalid_names(self) -> None:
        for name in ["", "Foo Bar", "Foo ", " Foo", "Foo:", "Fo\xe9", "a\x00", "(x)"]:
            with self.subTest(name=name):
                with self.assertRaisesRegex(HTTPInputError, "Invalid header name"):
                    HTTPHeaders().add(name, "x")

    def test_add_rejects_invalid_values(self) -> None:
        for value in [
            "a\r\nB: c",
            "a\nb",
            "a\rb",
            "a\x00b",
            "a\x7fb",
            "\x01",
            " a",
            "a\t",
        ]:
            with self.subTest(value=value):
                with self.assertRaisesRegex(HTTPInputError, "Invalid header value"):
                    HTTPHeaders().add("X", value)

    def test_add_accepts_latin1_bytes_but_not_other_characters(self) -> None:
        h = HTTPHeaders()
        h.add("X", "caf\xe9 \t au lait")
        self.assertEqual(h["X"], "caf\xe9 \t au lait")
        with self.assertRaises(HTTPInputError):
            h.add("X", "\u20ac")
        # Text that was decoded as UTF-8 rather than byte per character.
        h.add("Y", "\u20ac 5", _chars_are_bytes=False)
        self.assertEqual(h["Y"], "\u20ac 5")
        with self.assertRaises(HTTPInputError):
            h.add("Y", "a\nb", _chars_are_bytes=False)

    def test_empty_value(self) -> None:
        h = HTTPHeaders.parse("X-Empty:\r\nY:   \r\n")
        self.assertEqual(h["X-Empty"], "")
        self.assertEqual(h["Y"], "")


class HTTPHeadersStorageTest(unittest.TestCase):
    """A name keeps one bare value until a second arrives; nothing else shows it."""

    def test_second_value_keeps_arrival_order(self) -> None:
        h = HTTPHeaders()
        h.add("A", "1")
        h.add("B", "x")
        h.add("a", "2")
        h.add("A", "3")
        self.assertEqual(h.get_list("A"), ["1", "2", "3"])
        self.assertEqual(h["A"], "1,2,3")
        self.assertEqual(list(h), ["A", "B"])
        self.assertEqual(
            list(h.get_all()), [("A", "1"), ("A", "2"), ("A", "3"), ("B", "x")]
        )

    def test_parsed_repeats_keep_arrival_order(self) -> None:
        text = "A: 1\r\nB: x\r\nA: 2\r\nA: 3\r\nB: y\r\n\r\n"
        for chars_are_bytes in (True, False):  # the fast path and line by line
            with self.subTest(chars_are_bytes=chars_are_bytes):
                h = HTTPHeaders.parse(text, _chars_are_bytes=chars_are_bytes)
                self.assertEqual(list(h), ["A", "B"])
                self.assertEqual(h.get_list("A"), ["1", "2", "3"])
                self.assertEqual(h.get_list("B"), ["x", "y"])

    def test_equal_values_are_all_kept(self) -> None:
        # One-character strings are shared objects in CPython.
        h = HTTPHeaders.parse("A: a\r\nA: a\r\nB:\r\nB:\r\n")
        self.assertEqual(h.get_list("A"), ["a", "a"])
        self.assertEqual(h.get_list("B"), ["", ""])
        self.assertEqual(h["B"], ",")

    def test_get_list_result_is_not_shared(self) -> None:
        h = HTTPHeaders()
        h.add("Single", "1")
        h.add("Multi", "1")
        h.add("Multi", "2")
        for name in ("Single", "Multi"):
            with self.subTest(name=name):
                before = h.get_list(name)
                result = h.get_list(name)
                self.assertIsNot(result, h.get_list(name))
                result.append("extra")
                result[0] = "changed"
                self.assertEqual(h.get_list(name), before)

    def test_copy_then_add_leaves_original_alone(self) -> None:
        original = HTTPHeaders.parse("Single: s\r\nMulti: 1\r\nMulti: 2\r\n")
        duplicate = original.copy()
        duplicate.add("Single", "t")
        duplicate.add("Multi", "3")
        self.assertEqual(original.get_list("Single"), ["s"])
        self.assertEqual(original.get_list("Multi"), ["1", "2"])
        self.assertEqual(duplicate.get_list("Single"), ["s", "t"])
        self.assertEqual(duplicate.get_list("Multi"), ["1", "2", "3"])

    def test_add_to_original_leaves_copy_alone(self) -> None:
        original = HTTPHeaders.parse("Single: s\r\nMulti: 1\r\nMulti: 2\r\n")
        duplicate = copy.copy(original)
        original.add("Single", "t")
        original.add("Multi", "3")
        self.assertEqual(duplicate.get_list("Single"), ["s"])
        self.assertEqual(duplicate.get_list("Multi"), ["1", "2"])

    def test_fold_continues_a_single_value(self) -> None:
        h = HTTPHeaders()
        h.parse_line("A: 1\r\n")
        h.parse_line(" more\r\n")
        h.parse_line("\tand more\r\n")
        self.assertEqual(h["A"], "1 more and more")
        self.assertEqual(h.get_list("A"), ["1 more and more"])

    def test_fold_continues_the_last_of_repeated_values(self) -> None:
        h = HTTPHeaders.parse("A: 1\r\nB: x\r\nA: 2\r\n")
        h.parse_line(" folded\r\n")
        h.parse_line("\tagain\r\n")
        self.assertEqual(h.get_list("A"), ["1", "2 folded again"])
        self.assertEqual(h["B"], "x")

    def test_fold_then_another_value(self) -> None:
        h = HTTPHeaders()
        h.parse_line("A: 1")
        h.parse_line(" folded")
        h.parse_line("A: 2")
        h.parse_line(" too")
        self.assertEqual(h.get_list("A"), ["1 folded", "2 too"])

    def test_fold_continues_an_empty_value(self) -> None:
        h = HTTPHeaders.parse("A:\r\n")
        h.parse_line(" text\r\n")
        self.assertEqual(h["A"], "text")

    def test_fold_is_kept_by_copy(self) -> None:
        h = HTTPHeaders()
        h.parse_line("A: 1")
        h.parse_line(" folded")
        self.assertEqual(h.copy().get_list("A"), ["1 folded"])
        self.assertEqual(str(h), "A: 1 folded\n")

    def test_delete_then_add_again(self) -> None:
        for first_values in (["1"], ["1", "2"]):
            with self.subTest(first_values=first_values):
                h = HTTPHeaders()
                for value in first_values:
                    h.add("A", value)
                h.add("B", "x")
                del h["a"]
                self.assertNotIn("A", h)
                self.assertEqual(h.get_list("A"), [])
                h.add("A", "3")
                self.assertEqual(h.get_list("A"), ["3"])
                h.add("A", "4")
                self.assertEqual(h.get_list("A"), ["3", "4"])
                self.assertEqual(list(h), ["B", "A"])

    def test_setitem_after_repeats_then_add(self) -> None:
        h = HTTPHeaders.parse("A: 1\r\nA: 2\r\n")
        h["A"] = "3"
        h.add("A", "4")
        self.assertEqual(h.get_list("A"), ["3", "4"])

    def test_single_values_need_no_tracked_containers(self) -> None:
        # The reason single values are stored bare: parked requests keep their
        # headers alive, and each list would be another object for the GC.
        h = HTTPHeaders.parse("A: 1\r\nB: 2\r\nC: 3\r\n")
        tables = [v for v in vars(h).values() if isinstance(v, dict)]
        self.assertEqual(len(tables), 1)
        self.assertFalse(any(gc.is_tracked(v) for v in tables[0].values()))
        h.add("A", "again")
        self.assertEqual(sum(gc.is_tracked(v) for v in tables[0].values()), 1)


class HeaderParsingTest(unittest.TestCase):
    def test_crlf_and_bare_lf(self) -> None:
        for text in [
            "Content-Type: text/html\r\nContent-Length: 42\r\n",
            "Content-Type: text/html\nContent-Length: 42\n",
            "Content-Type: text/html\r\nContent-Length: 42",
            "\r\nContent-Type: text/html\n\r\nContent-Length: 42\r\n\r\n",
        ]:
            with self.subTest(text=text):
                h = HTTPHeaders.parse(text)
                self.assertEqual(
                    sorted(h.get_all()),
                    [("Content-Length", "42"), ("Content-Type", "text/html")],
                )

    def test_value_whitespace_is_trimmed(self) -> None:
        h = HTTPHeaders.parse("A:b\r\nC: \t d  e \t\r\n")
        self.assertEqual(h["A"], "b")
        self.assertEqual(h["C"], "d  e")

    def test_value_may_contain_colons(self) -> None:
        h = HTTPHeaders.parse("Host: example.com:8080\r\n")
        self.assertEqual(h["Host"], "example.com:8080")

    def test_obsolete_line_folding_is_rejected(self) -> None:
        for text in [
            "X-Folded: first\r\n  second\r\nX-Next: n\r\n",
            "X-Folded: first\r\n\tsecond\r\n",
            "A:\r\n \r\n",
            "X-A: 1\r\n\tContent-Length: 5\r\n",
        ]:
            with self.subTest(text=text):
                with self.assertRaises(HTTPInputError) as caught:
                    HTTPHeaders.parse(text)
                self.assertEqual(
                    str(caught.exception),
                    "header line cannot start with whitespace, folding not supported",
                )

    def test_parse_line_still_joins_folded_lines(self) -> None:
        # One line at a time (as libcurl hands them over) folding is undone.
        h = HTTPHeaders()
        for line in ["A: 1", "A: 2", " more", "B:", " text", " "]:
            h.parse_line(line)
        self.assertEqual(h.get_list("A"), ["1", "2 more"])
        self.assertEqual(h["A"], "1,2 more")
        self.assertEqual(h["B"], "text")

    def test_whitespace_before_the_first_header_name(self) -> None:
        for text in [" Host: example.com\r\n", "\tHost: example.com\r\n"]:
            with self.subTest(text=text):
                with self.assertRaisesRegex(HTTPInputError, "whitespace"):
                    HTTPHeaders.parse(text)

    def test_no_colon(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "colon"):
            HTTPHeaders.parse("A: 1\r\nnot a header\r\n")

    def test_whitespace_between_name_and_colon(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "Invalid header name"):
            HTTPHeaders.parse("Host : example.com\r\n")

    def test_control_characters_in_values(self) -> None:
        for text in ["A: x\x00y", "A: x\ry", "A: x\x0by", "A: ok\r\nB: bad\x00"]:
            with self.subTest(text=text):
                with self.assertRaisesRegex(HTTPInputError, "Invalid header value"):
                    HTTPHeaders.parse(text)

    def test_non_ascii_bytes(self) -> None:
        # A head is decoded as latin-1: bytes 0x80-0xFF in values are kept,
        # in names they are an error.
        h = HTTPHeaders.parse(b"X-Name: Jos\xc3\xa9\r\n".decode("latin1"))
        self.assertEqual(h["X-Name"].encode("latin1").decode("utf-8"), "Jos\xe9")
        with self.assertRaisesRegex(HTTPInputError, "Invalid header name"):
            HTTPHeaders.parse(b"X-N\xc3\xa9: x\r\n".decode("latin1"))

    def test_parse_line(self) -> None:
        h = HTTPHeaders()
        h.parse_line("Content-Type: text/html\r\n")
        h.parse_line("X-Long: a\n")
        h.parse_line("  b")
        h.parse_line("")
        self.assertEqual(h["Content-Type"], "text/html")
        self.assertEqual(h["X-Long"], "a b")

    def test_parse_line_continuation_without_header(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "whitespace"):
            HTTPHeaders().parse_line(" orphan")
        h = HTTPHeaders.parse("A: 1\r\n")
        del h["A"]
        with self.assertRaises(HTTPInputError):
            h.parse_line(" orphan")

    def test_values_read_between_continuation_lines(self) -> None:
        h = HTTPHeaders()
        h.parse_line("A: 1")
        h.parse_line(" 2")
        self.assertEqual(h["A"], "1 2")
        h.parse_line(" 3")
        self.assertEqual(h.get_list("A"), ["1 2 3"])
        h.parse_line("B: x")
        h.parse_line(" y")
        self.assertEqual(list(h.get_all()), [("A", "1 2 3"), ("B", "x y")])

    def test_multipart_part_headers_are_not_bytes(self) -> None:
        h = HTTPHeaders.parse(
            'Content-Disposition: form-data; filename="\u20ac.txt"',
            _chars_are_bytes=False,
        )
        self.assertIn("\u20ac", h["Content-Disposition"])
        with self.assertRaises(HTTPInputError):
            HTTPHeaders.parse('Content-Disposition: form-data; filename="\u20ac.txt"')

    @quick
    @given(st.lists(st.tuples(header_names, header_values), max_size=12))
    def test_format_and_parse_round_trip(self, pairs: list[tuple[str, str]]) -> None:
        h = HTTPHeaders()
        for name, value in pairs:
            h.add(name, value)
        parsed = HTTPHeaders.parse(str(h))
        self.assertEqual(list(parsed.get_all()), list(h.get_all()))
        self.assertEqual(parsed, h)

    @quick
    @given(st.text(max_size=60))
    def test_parse_never_fails_unexpectedly(self, text: str) -> None:
        try:
            h = HTTPHeaders.parse(text)
        except HTTPInputError:
            return
        for name, value in h.get_all():
            self.assertEqual(name.strip(), name)
            self.assertNotIn("\n", value)
            self.assertNotIn("\r", value)

    @quick
    @given(st.text(alphabet="ab: \t\r\n\x00\x85\xe9-", max_size=60))
    def test_parse_agrees_with_parse_line(self, text: str) -> None:
        # parse() checks ordinary blocks in one go; the outcome must be what
        # feeding the lines to parse_line one at a time gives, folded lines
        # aside (parse refuses them).
        expected = HTTPHeaders()
        try:
            for line in text.split("\n"):
                if line[:1] in (" ", "\t"):
                    raise HTTPInputError(
                        "header line cannot start with whitespace, "
                        "folding not supported"
                    )
                expected.parse_line(line)
        except HTTPInputError as e:
            with self.assertRaises(HTTPInputError) as caught:
                HTTPHeaders.parse(text)
            self.assertEqual(str(caught.exception), str(e))
            return
        self.assertEqual(
            list(HTTPHeaders.parse(text).get_all()), list(expected.get_all())
        )

    def test_parse_of_ordinary_block_rejects_bad_value(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "Invalid header value"):
            HTTPHeaders.parse("Host: x\r\nX-Bad: a\x00b\r\nAccept: */*\r\n\r\n")
        with self.assertRaisesRegex(HTTPInputError, "no colon in header line"):
            HTTPHeaders.parse("Host: x\r\nNoColon\r\n\r\n")

    def test_many_headers_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            text = "".join(f"X-Header-{i}: value {i}\r\n" for i in range(n))
            return lambda: HTTPHeaders.parse(text)

        assert_roughly_linear(self, run, 200)

    def test_many_repeated_headers_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            text = "X-Same: some value\r\n" * n

            def parse_and_read() -> None:
                h = HTTPHeaders.parse(text)
                self.assertEqual(len(h.get_list("X-Same")), n)
                h["X-Same"]

            return parse_and_read

        assert_roughly_linear(self, run, 400)

    def test_many_continuation_lines_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            lines = ["X-Folded: start"] + [" more folded text"] * n

            def parse_lines() -> None:
                h = HTTPHeaders()
                for line in lines:
                    h.parse_line(line)
                h["X-Folded"]

            return parse_lines

        assert_roughly_linear(self, run, 500)


# Header blocks that once made the parser backtrack exponentially (about
# 4.5 times the time per line): whitespace-only values whose spaces two
# neighbouring patterns could share, then a line that fails.
HOSTILE_HEADER_FORMS: dict[str, Callable[[int], str]] = {
    "blank values, then a space before a colon": (
        lambda n: "Host: x\r\n" + "X:    \r\n" * n + "Y : z\r\n"
    ),
    "tabs and spaces, then a space before a colon": (
        lambda n: "Host: x\r\n" + "X:\t \t \r\n" * n + "Y : z\r\n"
    ),
    "blank values only": lambda n: "Host: x\r\n" + "X: \t  \r\n" * n,
    "inner whitespace, then a bad line": (
        lambda n: "X: a \t b  \r\n" * n + "Y : z\r\n"
    ),
    "folded blank lines": lambda n: "Host: x\r\n" + "X: a\r\n  \r\n" * n,
    "space before every colon": lambda n: "X : y\r\n" * n,
    "bare LF and blank values": lambda n: "X:   \n" * n + "Y : z\n",
}


def parse_or_refuse(text: str) -> object:
    try:
        return HTTPHeaders.parse(text)
    except HTTPInputError as e:
        return e


class HostileHeaderTest(unittest.TestCase):
    def test_hostile_forms_parse_at_once(self) -> None:
        for form, make in HOSTILE_HEADER_FORMS.items():
            for n in (200, 2000):
                with self.subTest(form=form, n=n):
                    text = make(n)
                    cpu_time = best_cpu_time(functools.partial(parse_or_refuse, text))
                    # Milliseconds in fact; a loaded machine gets slack.
                    self.assertLess(cpu_time, 0.25)

    def test_hostile_forms_scale_linearly(self) -> None:
        for form, make in HOSTILE_HEADER_FORMS.items():
            with self.subTest(form=form):

                def run(
                    n: int, make: Callable[[int], str] = make
                ) -> Callable[[], object]:
                    text = make(n)
                    return lambda: parse_or_refuse(text)

                assert_roughly_linear(self, run, 50)

    def test_hostile_forms_get_the_documented_answer(self) -> None:
        self.assertEqual(
            len(
                HTTPHeaders.parse(
                    HOSTILE_HEADER_FORMS["blank values only"](5)
                ).get_list("X")
            ),
            5,
        )
        for form in [
            "blank values, then a space before a colon",
            "space before every colon",
        ]:
            with self.subTest(form=form):
                with self.assertRaisesRegex(HTTPInputError, "Invalid header name"):
                    HTTPHeaders.parse(HOSTILE_HEADER_FORMS[form](5))
        with self.assertRaisesRegex(HTTPInputError, "folding not supported"):
            HTTPHeaders.parse(HOSTILE_HEADER_FORMS["folded blank lines"](5))

    def test_memory_is_a_small_multiple_of_the_input(self) -> None:
        n = 5_000
        shapes = {
            "distinct names": "".join(f"X-Header-{i}: value-{i}\r\n" for i in range(n)),
            "one repeated name": f"X-Same: {'v' * 8}\r\n" * n,
            "short lines": "".join(f"A{i}: {i}\r\n" for i in range(n)),
            "long values": "".join(
                f"X-{i % 50}: {'v' * 200}\r\n" for i in range(n // 10)
            ),
        }
        for shape, text in shapes.items():
            for chars_are_bytes in (True, False):  # the fast path, line by line
                with self.subTest(shape=shape, chars_are_bytes=chars_are_bytes):
                    _, peak = peak_traced_memory(
                        functools.partial(
                            HTTPHeaders.parse, text, _chars_are_bytes=chars_are_bytes
                        )
                    )
                    self.assertLessEqual(peak, 30 * len(text))


class StartLineTest(unittest.TestCase):
    def test_request_line(self) -> None:
        line = parse_request_start_line("GET /foo?x=1 HTTP/1.1")
        self.assertEqual(line, RequestStartLine("GET", "/foo?x=1", "HTTP/1.1"))
        self.assertEqual(
            (line.method, line.path, line.version), ("GET", "/foo?x=1", "HTTP/1.1")
        )
        self.assertEqual(
            parse_request_start_line("OPTIONS * HTTP/1.0"),
            ("OPTIONS", "*", "HTTP/1.0"),
        )
        self.assertEqual(
            parse_request_start_line("M-SEARCH http://h/p HTTP/1.1").method,
            "M-SEARCH",
        )

    def test_request_target_may_hold_non_ascii_bytes(self) -> None:
        raw = "/caf\xc3\xa9"  # UTF-8 bytes read as latin-1
        self.assertEqual(parse_request_start_line(f"GET {raw} HTTP/1.1").path, raw)

    def test_malformed_request_lines(self) -> None:
        for line in [
            "",
            "GET",
            "GET /",
            "GET / HTTP/1.1 extra",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 ",
            " GET / HTTP/1.1",
            "GET\t/\tHTTP/1.1",
            "GE(T / HTTP/1.1",
            "GET /a b HTTP/1.1",
            "GET /\x00 HTTP/1.1",
            "GET /\x7f HTTP/1.1",
            "GET / http/1.1",
            "GET / HTTP/1.10",
            "GET / HTTP/1",
            "GET / HTTP/1.x",
            "GET / HTTPS/1.1",
            "GET /\u20ac HTTP/1.1",
        ]:
            with self.subTest(line=line):
                with self.assertRaisesRegex(HTTPInputError, "Malformed HTTP request"):
                    parse_request_start_line(line)

    def test_request_line_other_http_versions(self) -> None:
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0"]:
            with self.subTest(version=version):
                with self.assertRaisesRegex(HTTPInputError, "Unexpected HTTP version"):
                    parse_request_start_line(f"GET / {version}")

    def test_response_line(self) -> None:
        line = parse_response_start_line("HTTP/1.1 200 OK")
        self.assertEqual(line, ResponseStartLine("HTTP/1.1", 200, "OK"))
        self.assertEqual(
            (line.version, line.code, line.reason), ("HTTP/1.1", 200, "OK")
        )
        self.assertEqual(
            parse_response_start_line("HTTP/1.0 404 Not  Found\t!").reason,
            "Not  Found\t!",
        )
        self.assertEqual(parse_response_start_line("HTTP/1.1 204 ").reason, "")
        self.assertEqual(parse_response_start_line("HTTP/1.1 204").reason, "")
        self.assertEqual(parse_response_start_line("HTTP/1.1 299 \xe9t\xe9").code, 299)

    def test_malformed_response_lines(self) -> None:
        for line in [
            "",
            "HTTP/1.1",
            "HTTP/1.1 20 OK",
            "HTTP/1.1 2000 OK",
            "HTTP/1.1  200 OK",
            "HTTP/1.1 abc OK",
            "ICY 200 OK",
            "HTTP/1.1 200 O\x00K",
            "HTTP/1.1 200 OK\r",
        ]:
            with self.subTest(line=line):
                with self.assertRaisesRegex(HTTPInputError, "response start line"):
                    parse_response_start_line(line)
        with self.assertRaisesRegex(HTTPInputError, "Unexpected HTTP version"):
            parse_response_start_line("HTTP/2.0 200 OK")


class ServerRequestTest(unittest.TestCase):
    def test_defaults(self) -> None:
        request = make_request()
        self.assertEqual(request.method, "GET")
        self.assertEqual(request.version, "HTTP/1.0")
        self.assertEqual(request.body, b"")
        self.assertEqual(request.host, "127.0.0.1")
        self.assertEqual(request.host_name, "127.0.0.1")
        self.assertEqual(request.protocol, "http")
        self.assertIsNone(request.remote_ip)
        self.assertEqual(request.files, {})
        self.assertEqual(request.arguments, {})
        self.assertIsInstance(request.headers, HTTPHeaders)
        self.assertIsNone(request.connection)
        self.assertIsNone(request.server_connection)

    def test_deprecated_arguments(self) -> None:
        with self.assertWarnsRegex(DeprecationWarning, "without a start_line"):
            request = HTTPServerRequest()
        self.assertEqual((request.method, request.uri, request.path), ("GET", "/", "/"))
        self.assertEqual(request.version, "HTTP/1.0")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            request = HTTPServerRequest("POST", "/p?q=1", "HTTP/1.1", host="h:1")
        self.assertEqual(
            [str(w.message) for w in caught],
            [
                "The method, uri and version arguments to HTTPServerRequest are "
                "deprecated; use start_line instead",
                "HTTPServerRequest without a start_line is deprecated",
                "The host argument to HTTPServerRequest is deprecated; "
                "use headers['Host'] instead",
            ],
        )
        self.assertTrue(all(w.category is DeprecationWarning for w in caught))
        self.assertTrue(all(w.filename == __file__ for w in caught))
        self.assertEqual(
            (request.method, request.path, request.query), ("POST", "/p", "q=1")
        )
        self.assertEqual(request.version, "HTTP/1.1")
        self.assertEqual((request.host, request.headers["Host"]), ("h:1", "h:1"))
        with self.assertWarnsRegex(DeprecationWarning, "method, uri and version"):
            HTTPServerRequest(
                uri="/x", start_line=RequestStartLine("GET", "/", "HTTP/1.1")
            )

    def test_start_line_alone_does_not_warn(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            make_request("/x", headers=HTTPHeaders({"Host": "h"}))

    def test_too_many_query_arguments(self) -> None:
        query = "&".join(f"a{i}=1" for i in range(1000))
        self.assertEqual(len(make_request("/?" + query).arguments), 1000)
        with self.assertRaisesRegex(HTTPInputError, "Max number of fields exceeded"):
            make_request("/?" + query + "&last=1")
        set_parse_body_config(
            ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=2))
        )
        try:
            with self.assertRaises(HTTPInputError):
                make_request("/?a=1&b=2&c=3")
        finally:
            set_parse_body_config(ParseBodyConfig())

    def test_query_parsed_on_first_use_only(self) -> None:
        with unittest.mock.patch(
            "tornado.httputil.parse_qs_bytes", side_effect=parse_qs_bytes
        ) as parse:
            request = make_request("/?a=1")
            self.assertEqual(parse.call_count, 0)
            self.assertEqual(request.arguments, {"a": [b"1"]})
            self.assertEqual(request.arguments, {"a": [b"1"]})
            self.assertEqual(parse.call_count, 1)
            self.assertEqual(request.query_arguments, {"a": [b"1"]})
            self.assertEqual(parse.call_count, 2)
            self.assertEqual(make_request("/").arguments, {})
            self.assertEqual(parse.call_count, 2)  # no query, nothing to parse

    def test_lazy_arguments_behave_as_attributes(self) -> None:
        request = make_request("/?a=1&b=2")
        request.query = "changed=1"  # the arguments come from the request line
        self.assertEqual(request.arguments, {"a": [b"1"], "b": [b"2"]})
        request.arguments["a"].append(b"3")
        self.assertEqual(request.arguments["a"], [b"1", b"3"])
        self.assertEqual(request.query_arguments["a"], [b"1"])
        request.query_arguments = {"q": [b"x"]}
        request.arguments = {"r": [b"y"]}
        self.assertEqual(request.query_arguments, {"q": [b"x"]})
        self.assertEqual(request.arguments, {"r": [b"y"]})
        fresh = make_request("/?a=1")
        fresh.query_arguments["a"].append(b"2")  # before arguments is built
        self.assertEqual(fresh.arguments, {"a": [b"1"]})

    def test_query_errors_still_raised_by_the_constructor(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "Invalid query string"):
            make_request("/?x=\u20ac")
        set_parse_body_config(
            ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=2))
        )
        try:
            request = make_request("/?a=1&b=2")
        finally:
            set_parse_body_config(ParseBodyConfig())
        # A limit changed later does not apply to a request already checked.
        set_parse_body_config(
            ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=1))
        )
        try:
            self.assertEqual(request.arguments, {"a": [b"1"], "b": [b"2"]})
        finally:
            set_parse_body_config(ParseBodyConfig())

    def test_uri_and_arguments(self) -> None:
        request = make_request("/a/b?x=1&y=&x=2&z=%C3%A9")
        self.assertEqual(request.path, "/a/b")
        self.assertEqual(request.query, "x=1&y=&x=2&z=%C3%A9")
        expected = {"x": [b"1", b"2"], "y": [b""], "z": [b"\xc3\xa9"]}
        self.assertEqual(request.arguments, expected)
        self.assertEqual(request.query_arguments, expected)
        self.assertEqual(request.body_arguments, {})
        request.arguments["x"].append(b"3")
        self.assertEqual(request.query_arguments["x"], [b"1", b"2"])

    def test_start_line(self) -> None:
        request = HTTPServerRequest(
            start_line=RequestStartLine("POST", "/p?q=1", "HTTP/1.1")
        )
        self.assertEqual(
            (request.method, request.uri, request.version, request.path),
            ("POST", "/p?q=1", "HTTP/1.1", "/p"),
        )

    def test_host(self) -> None:
        headers = HTTPHeaders({"Host": "Example.COM:8080"})
        request = make_request("/x?y", headers=headers)
        self.assertEqual(request.host, "Example.COM:8080")
        self.assertEqual(request.host_name, "example.com")
        self.assertEqual(request.full_url(), "http://Example.COM:8080/x?y")

    def test_connection_context(self) -> None:
        context = types.SimpleNamespace(remote_ip="10.0.0.1", protocol="https")
        connection = types.SimpleNamespace(context=context)
        request = make_request(connection=connection)
        self.assertEqual(request.remote_ip, "10.0.0.1")
        self.assertEqual(request.protocol, "https")
        self.assertEqual(request.full_url(), "https://127.0.0.1/")

    def test_request_time(self) -> None:
        request = make_request()
        first = request.request_time()
        self.assertGreaterEqual(first, 0)
        self.assertGreaterEqual(request.request_time(), first)
        request._finish_time = request._start_time + 2.5
        self.assertEqual(request.request_time(), 2.5)

    def test_cookies(self) -> None:
        headers = HTTPHeaders()
        headers.add("Cookie", 'a=1; b="two words"; c=3; bad name=4; expires=5')
        request = make_request(headers=headers)
        cookies = request.cookies
        self.assertEqual(sorted(cookies), ["a", "b", "c"])
        self.assertEqual(cookies["b"].value, "two words")
        self.assertIs(request.cookies, cookies)
        self.assertEqual(dict(make_request().cookies), {})

    def test_parse_body(self) -> None:
        headers = HTTPHeaders({"Content-Type": "application/x-www-form-urlencoded"})
        request = make_request("/?a=1", "POST", headers=headers, body=b"a=2&b=3")
        request._parse_body()
        self.assertEqual(request.body_arguments, {"a": [b"2"], "b": [b"3"]})
        self.assertEqual(request.arguments, {"a": [b"1", b"2"], "b": [b"3"]})
        self.assertEqual(request.query_arguments, {"a": [b"1"]})

    def test_parse_body_error(self) -> None:
        headers = HTTPHeaders({"Content-Type": "multipart/form-data; boundary=xx"})
        request = make_request("/?a=1", "POST", headers=headers, body=b"junk")
        with self.assertRaises(HTTPInputError):
            request._parse_body()
        self.assertEqual(request.arguments, {"a": [b"1"]})

    def test_repr(self) -> None:
        request = make_request("/x", headers=HTTPHeaders({"Host": "h"}))
        self.assertEqual(
            repr(request),
            "HTTPServerRequest(protocol='http', host='h', method='GET', uri='/x', "
            "version='HTTP/1.0', remote_ip=None)",
        )

    def test_ssl_certificate_without_tls(self) -> None:
        self.assertIsNone(make_request().get_ssl_certificate())
        with socket.socket() as sock:
            stream = types.SimpleNamespace(socket=sock)
            connection = types.SimpleNamespace(stream=stream)
            request = make_request(connection=connection)
            self.assertIsNone(request.get_ssl_certificate())

    def test_ssl_certificate(self) -> None:
        cert = os.path.join(TEST_DIR, "test.crt")
        key = os.path.join(TEST_DIR, "test.key")
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        server_ctx.load_verify_locations(cert)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(cert)
        client_ctx.load_cert_chain(cert, key)

        with socket.create_server(("127.0.0.1", 0)) as listener:
            client = socket.create_connection(listener.getsockname())
            accepted, _ = listener.accept()
        client_errors: list[BaseException] = []

        def client_handshake() -> None:
            try:
                with client_ctx.wrap_socket(client, server_hostname="localhost") as c:
                    c.recv(1)  # wait for the server to finish
            except BaseException as e:  # reported by the main thread
                client_errors.append(e)

        thread = threading.Thread(target=client_handshake)
        thread.start()
        try:
            with server_ctx.wrap_socket(accepted, server_side=True) as server:
                stream = types.SimpleNamespace(socket=server)
                connection = types.SimpleNamespace(stream=stream)
                request = make_request(connection=connection)
                decoded = request.get_ssl_certificate()
                der = request.get_ssl_certificate(binary_form=True)
                server.sendall(b"x")
        finally:
            thread.join()
        self.assertEqual(client_errors, [])
        assert isinstance(decoded, dict)
        self.assertIn((("commonName", "localhost"),), decoded["subject"])
        with open(cert) as f:
            self.assertEqual(der, ssl.PEM_cert_to_DER_cert(f.read()))


class DelegateInterfacesTest(unittest.TestCase):
    def test_message_delegate_defaults(self) -> None:
        delegate = HTTPMessageDelegate()
        line = RequestStartLine("GET", "/", "HTTP/1.1")
        self.assertIsNone(delegate.headers_received(line, HTTPHeaders()))
        self.assertIsNone(delegate.data_received(b"x"))
        delegate.finish()  # the defaults do nothing and must not raise
        delegate.on_connection_close()

    def test_abstract_methods(self) -> None:
        connection = HTTPConnection()
        line = ResponseStartLine("HTTP/1.1", 200, "OK")
        with self.assertRaises(NotImplementedError):
            connection.write_headers(line, HTTPHeaders())
        with self.assertRaises(NotImplementedError):
            connection.write(b"x")
        with self.assertRaises(NotImplementedError):
            connection.finish()
        server_delegate = HTTPServerConnectionDelegate()
        with self.assertRaises(NotImplementedError):
            server_delegate.start_request(object(), connection)
        server_delegate.on_close(object())

    def test_errors_are_exceptions(self) -> None:
        self.assertTrue(issubclass(HTTPInputError, Exception))
        self.assertTrue(issubclass(HTTPOutputError, Exception))
        self.assertFalse(issubclass(HTTPInputError, HTTPOutputError))


class UrlConcatTest(unittest.TestCase):
    def test_dict(self) -> None:
        self.assertEqual(
            url_concat("https://example.com/p", {"a": "1", "b": "x y"}),
            "https://example.com/p?a=1&b=x+y",
        )

    def test_existing_query_and_fragment(self) -> None:
        self.assertEqual(
            url_concat("http://e.com/p?a=1&empty=#frag", {"b": "2"}),
            "http://e.com/p?a=1&empty=&b=2#frag",
        )
        self.assertEqual(
            url_concat("http://e.com/p?", {"b": "2"}), "http://e.com/p?b=2"
        )

    def test_list_and_tuple_may_repeat_names(self) -> None:
        pairs = [("c", "d"), ("c", "d2")]
        self.assertEqual(url_concat("/p?a=b", pairs), "/p?a=b&c=d&c=d2")
        self.assertEqual(url_concat("/p?a=b", tuple(pairs)), "/p?a=b&c=d&c=d2")
        self.assertEqual(url_concat("/p?a=b", []), "/p?a=b")

    def test_none(self) -> None:
        self.assertEqual(url_concat("/p?a=b", None), "/p?a=b")

    def test_bad_args(self) -> None:
        with self.assertRaisesRegex(TypeError, "'args' parameter should be dict"):
            url_concat("/p", "a=b")  # type: ignore[arg-type]


class BodyArgumentsTest(unittest.TestCase):
    def tearDown(self) -> None:
        set_parse_body_config(ParseBodyConfig())

    def test_urlencoded(self) -> None:
        args, files = form_args()
        args["a"] = [b"0"]
        parse_body_arguments(
            "application/x-www-form-urlencoded; charset=utf-8",
            b"a=1&b=%C3%A9&c=&a=2",
            args,
            files,
        )
        self.assertEqual(
            args, {"a": [b"0", b"1", b"2"], "b": [b"\xc3\xa9"], "c": [b""]}
        )
        self.assertEqual(files, {})

    def test_other_content_types_are_ignored(self) -> None:
        args, files = form_args()
        for content_type in ["", "application/json", "text/plain"]:
            parse_body_arguments(content_type, b"a=1", args, files)
        self.assertEqual(args, {})

    def test_content_encoding_is_rejected(self) -> None:
        headers = HTTPHeaders({"Content-Encoding": "gzip"})
        for content_type in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ]:
            with self.subTest(content_type=content_type):
                with self.assertRaisesRegex(HTTPInputError, "Content-Encoding: gzip"):
                    parse_body_arguments(content_type, b"a=1", {}, {}, headers)

    def test_too_many_urlencoded_arguments(self) -> None:
        config = ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=3))
        body = b"a=1&b=2&c=3"
        args, files = form_args()
        parse_body_arguments(
            "application/x-www-form-urlencoded", body, args, files, config=config
        )
        self.assertEqual(len(args), 3)
        with self.assertRaisesRegex(HTTPInputError, "x-www-form-urlencoded"):
            parse_body_arguments(
                "application/x-www-form-urlencoded",
                body + b"&d=4",
                {},
                {},
                config=config,
            )

    def test_default_limit_on_arguments(self) -> None:
        body = b"&".join(b"a%d=1" % i for i in range(1001))
        with self.assertRaises(HTTPInputError):
            parse_body_arguments("application/x-www-form-urlencoded", body, {}, {})

    def test_global_config(self) -> None:
        set_parse_body_config(
            ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=1))
        )
        with self.assertRaises(HTTPInputError):
            parse_body_arguments(
                "application/x-www-form-urlencoded", b"a=1&b=2", {}, {}
            )

    def test_multipart(self) -> None:
        body = crlf(b"""--1234
Content-Disposition: form-data; name="field"

value
--1234
Content-Disposition: form-data; name="upload"; filename="a.txt"
Content-Type: text/plain

file contents
--1234--
""")
        for content_type in [
            "multipart/form-data; boundary=1234",
            'multipart/form-data; charset=utf-8; boundary="1234"',
        ]:
            with self.subTest(content_type=content_type):
                args, files = form_args()
                parse_body_arguments(content_type, body, args, files)
                self.assertEqual(args, {"field": [b"value"]})
                self.assertEqual(files["upload"][0].body, b"file contents")

    def test_multipart_without_boundary(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "boundary"):
            parse_body_arguments("multipart/form-data", b"--x--", {}, {})
        with self.assertRaisesRegex(HTTPInputError, "boundary"):
            parse_body_arguments("multipart/form-data; boundary=", b"--x--", {}, {})

    def test_multipart_disabled(self) -> None:
        config = ParseBodyConfig(multipart=ParseMultipartConfig(enabled=False))
        body = b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"
        with self.assertRaises(HTTPInputError) as caught:
            parse_body_arguments(
                "multipart/form-data; boundary=x", body, {}, {}, config=config
            )
        self.assertEqual(
            str(caught.exception), "multipart/form-data parsing is disabled"
        )
        with self.assertRaises(HTTPInputError) as caught:
            parse_multipart_form_data(b"x", body, {}, {}, config=config.multipart)
        self.assertEqual(
            str(caught.exception), "multipart/form-data parsing is disabled"
        )
        # Other bodies are parsed as usual.
        args, files = form_args()
        parse_body_arguments(
            "application/x-www-form-urlencoded", b"a=1", args, files, config=config
        )
        self.assertEqual(args, {"a": [b"1"]})

    def test_media_type_must_match_exactly(self) -> None:
        body = b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"
        for content_type in [
            "multipart/form-dataxyz; boundary=x",
            "multipart/form-data-ish; boundary=x",
            "application/x-www-form-urlencodedx",
        ]:
            with self.subTest(content_type=content_type):
                args, files = form_args()
                parse_body_arguments(content_type, body, args, files)
                self.assertEqual((args, files), ({}, {}))
        args, files = form_args()
        parse_body_arguments("Multipart/Form-Data ; boundary=x", body, args, files)
        self.assertEqual(args, {"a": [b"1"]})

    def test_first_boundary_parameter_wins(self) -> None:
        body = b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"
        args, files = form_args()
        parse_body_arguments(
            "multipart/form-data; boundary=x; boundary=y", body, args, files
        )
        self.assertEqual(args, {"a": [b"1"]})

    def test_config_objects(self) -> None:
        config = ParseBodyConfig()
        self.assertEqual(config.multipart, ParseMultipartConfig(True, 100, 10240))
        self.assertEqual(config.urlencoded, ParseUrlEncodedConfig(1000))
        self.assertEqual(config, ParseBodyConfig())
        self.assertNotEqual(config, ParseBodyConfig(ParseMultipartConfig(max_parts=1)))
        self.assertIsNot(config.multipart, ParseBodyConfig().multipart)
        self.assertIn("max_parts=100", repr(config))


class MultipartTest(unittest.TestCase):
    def parse(
        self, body: bytes, boundary: bytes = b"1234", **config: Any
    ) -> tuple[dict[str, list[bytes]], dict[str, list[HTTPFile]]]:
        args, files = form_args()
        parse_multipart_form_data(
            boundary, crlf(body), args, files, config=ParseMultipartConfig(**config)
        )
        return args, files

    def test_file_upload(self) -> None:
        args, files = self.parse(b"""--1234
Content-Disposition: form-data; name="files"; filename="ab.txt"

Foo
--1234
Content-Disposition: form-data; name="files"; filename="b.bin"
Content-Type: application/octet-stream

\x00\x01
--1234--""")
        self.assertEqual(args, {})
        first, second = files["files"]
        self.assertEqual(first.filename, "ab.txt")
        self.assertEqual(first.body, b"Foo")
        self.assertEqual(first.content_type, "application/unknown")
        self.assertEqual(first["body"], b"Foo")
        self.assertEqual(second.body, b"\x00\x01")
        self.assertEqual(second.content_type, "application/octet-stream")

    def test_values_keep_their_bytes(self) -> None:
        args, _ = self.parse(b"""--1234
Content-Disposition: form-data; name="a"

line one
line two
--1234
Content-Disposition: form-data; name="a"


--1234--
""")
        self.assertEqual(args["a"], [b"line one\r\nline two", b""])

    def test_quoted_boundary_and_epilogue(self) -> None:
        args, _ = self.parse(
            b"""--1234
Content-Disposition: form-data; name="a"

1
--1234--
epilogue""",
            boundary=b'"1234"',
        )
        self.assertEqual(args, {"a": [b"1"]})

    def test_text_before_the_first_delimiter_is_a_part(self) -> None:
        args, _ = self.parse(b"""Content-Disposition: form-data; name="first"

1
--1234
Content-Disposition: form-data; name="second"

2
--1234--""")
        self.assertEqual(args, {"first": [b"1"], "second": [b"2"]})
        with self.assertRaisesRegex(HTTPInputError, "part without headers"):
            self.parse(b"""A preamble.
--1234
Content-Disposition: form-data; name="a"

1
--1234--""")

    def test_filenames(self) -> None:
        cases = [
            (b'filename="a;b.txt"', "a;b.txt"),
            (b'filename="a\\"b.txt"', 'a"b.txt'),
            (b'filename="a\\\\b.txt"', "a\\b.txt"),
            ('filename="\u00e9t\u00e9.txt"'.encode(), "\u00e9t\u00e9.txt"),
            (b"filename*=UTF-8''%C3%A9t%C3%A9.txt", "\u00e9t\u00e9.txt"),
            (b"filename=plain.txt", "plain.txt"),
        ]
        for disposition, expected in cases:
            with self.subTest(disposition=disposition):
                _, files = self.parse(
                    b"--1234\nContent-Disposition: form-data; name=f; "
                    + disposition
                    + b"\n\nx\n--1234--"
                )
                self.assertEqual(files["f"][0].filename, expected)

    def test_no_parts(self) -> None:
        self.assertEqual(self.parse(b"--1234--"), ({}, {}))

    def test_malformed_bodies(self) -> None:
        cases = {
            "no final boundary": b"--1234\nContent-Disposition: form-data; name=a\n\n1\n",
            "part without headers": b"--1234\nno blank line\n--1234--",
            "without a name": b'--1234\nContent-Disposition: form-data; filename="x"\n\n1\n--1234--',
            "empty name": b'--1234\nContent-Disposition: form-data; name=""\n\n1\n--1234--',
            "no disposition": b"--1234\nContent-Type: text/plain\n\n1\n--1234--",
            "other disposition": b"--1234\nContent-Disposition: attachment; name=a\n\n1\n--1234--",
            "no CRLF before the boundary": b"--1234\nContent-Disposition: form-data; name=a\n\n1--1234--",
            "header without colon": b"--1234\nContent-Disposition form-data\n\n1\n--1234--",
            "control character": b"--1234\nContent-Disposition: form-data; name=a\x00\n\n1\n--1234--",
            "invalid UTF-8": b"--1234\nContent-Disposition: form-data; name=\xff\n\n1\n--1234--",
        }
        for why, body in cases.items():
            with self.subTest(why=why):
                with self.assertRaisesRegex(HTTPInputError, "multipart/form-data"):
                    self.parse(body)

    def test_a_bad_part_stops_parsing(self) -> None:
        args, files = form_args()
        body = crlf(
            b"--1234\nContent-Disposition: form-data; name=a\n\n1\n"
            b"--1234\nbroken\n--1234--"
        )
        with self.assertRaises(HTTPInputError):
            parse_multipart_form_data(b"1234", body, args, files)

    def test_part_limit(self) -> None:
        part = b"--1234\nContent-Disposition: form-data; name=a\n\nv\n"
        args, _ = self.parse(part * 3 + b"--1234--", max_parts=3)
        self.assertEqual(len(args["a"]), 3)
        with self.assertRaisesRegex(HTTPInputError, "too many parts"):
            self.parse(part * 4 + b"--1234--", max_parts=3)
        with self.assertRaisesRegex(HTTPInputError, "too many parts"):
            self.parse(part * 101 + b"--1234--")
        # A first part without a delimiter before it counts too.
        with self.assertRaisesRegex(HTTPInputError, "too many parts"):
            self.parse(part[len(b"--1234\n") :] + part * 3 + b"--1234--", max_parts=3)

    def test_part_header_limit(self) -> None:
        header = b"Content-Disposition: form-data; name=a; x=" + b"y" * 60
        body = b"--1234\n" + header + b"\n\nv\n--1234--"
        args, _ = self.parse(body, max_part_header_size=len(header))
        self.assertEqual(args, {"a": [b"v"]})
        with self.assertRaisesRegex(HTTPInputError, "too large"):
            self.parse(body, max_part_header_size=len(header) - 1)

    def test_many_parts_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            part = crlf(b"--1234\nContent-Disposition: form-data; name=a\n\nvalue\n")
            body = part * n + b"--1234--"
            config = ParseMultipartConfig(max_parts=n)
            return lambda: parse_multipart_form_data(
                b"1234", body, {}, {}, config=config
            )

        assert_roughly_linear(self, run, 100)


class HeaderParamsTest(unittest.TestCase):
    def test_parse(self) -> None:
        self.assertEqual(_parse_header("text/html"), ("text/html", {}))
        self.assertEqual(_parse_header(""), ("", {}))
        self.assertEqual(
            _parse_header('form-data; Name="a;b"; x = 1 ;flag;;'),
            ("form-data", {"name": "a;b", "x": "1", "flag": None}),
        )
        self.assertEqual(
            _parse_header('attachment; foo="b\\\\a\\"r"; file*=utf-8\'\'T%C3%A4st'),
            ("attachment", {"foo": 'b\\a"r', "file": "T\u00e4st"}),
        )

    def test_unterminated_quote(self) -> None:
        key, params = _parse_header('a; b="x; c=d')
        self.assertEqual(key, "a")
        self.assertEqual(list(params), ["b"])

    def test_repeated_parameter_keeps_the_first(self) -> None:
        self.assertEqual(_parse_header("a; x=1; X=2; y; y=3")[1], {"x": "1", "y": "3"})

    def test_many_quoted_params_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            line = "form-data" + '; p="a\\";b"' * n
            return lambda: _parse_header(line)

        assert_roughly_linear(self, run, 100)


class CookieTest(unittest.TestCase):
    def test_parse_cookie(self) -> None:
        cases = [
            ("", {}),
            ("a=1", {"a": "1"}),
            ("a=1; b=2;c=3", {"a": "1", "b": "2", "c": "3"}),
            ("  a = 1  ;", {"a": "1"}),
            ("a=1=2", {"a": "1=2"}),
            ("nameless", {"": "nameless"}),
            ("=", {}),
            ("a=1; a=2", {"a": "2"}),
            ('a="quoted value"', {"a": "quoted value"}),
            ('a="esc\\"aped\\\\"', {"a": 'esc"aped\\'}),
            ('a="\\012x\\101"', {"a": "\nxA"}),
            ('a="unbalanced', {"a": '"unbalanced'}),
            ("a=\u00e9; b=\x00", {"a": "\u00e9", "b": "\x00"}),
            ("a=; b", {"a": "", "": "b"}),
        ]
        for header, expected in cases:
            with self.subTest(header=header):
                self.assertEqual(parse_cookie(header), expected)

    def test_many_cookies_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            header = "; ".join(f'c{i}="v\\"{i}"' for i in range(n))
            return lambda: parse_cookie(header)

        assert_roughly_linear(self, run, 200)

    def test_long_quoted_cookie_scales_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            header = 'a="' + "\\" * n + '"'
            return lambda: parse_cookie(header)

        assert_roughly_linear(self, run, 2000)


class MiscellaneousTest(unittest.TestCase):
    def test_format_timestamp(self) -> None:
        expected = "Sun, 27 Jan 2013 18:43:20 GMT"
        seconds = 1359312200
        utc = datetime.timezone.utc
        for ts in [
            seconds,
            float(seconds) + 0.5,
            time.gmtime(seconds),
            tuple(time.gmtime(seconds)),
            datetime.datetime(2013, 1, 27, 18, 43, 20),
            datetime.datetime(2013, 1, 27, 18, 43, 20, tzinfo=utc),
            datetime.datetime(
                2013,
                1,
                27,
                20,
                43,
                20,
                tzinfo=datetime.timezone(datetime.timedelta(hours=2)),
            ),
        ]:
            with self.subTest(ts=ts):
                self.assertEqual(format_timestamp(ts), expected)  # type: ignore[arg-type]

    def test_format_timestamp_bad_type(self) -> None:
        with self.assertRaisesRegex(TypeError, "unknown timestamp type"):
            format_timestamp("yesterday")  # type: ignore[arg-type]

    def test_encode_username_password(self) -> None:
        self.assertEqual(encode_username_password("user", "pass"), b"user:pass")
        # NFC: "e" + combining acute accent becomes one code point.
        self.assertEqual(
            encode_username_password("Jose\u0301", "\u00e9"),
            "Jos\u00e9:\u00e9".encode(),
        )
        self.assertEqual(encode_username_password(b"u\xff", b"p"), b"u\xff:p")

    def test_split_host_and_port(self) -> None:
        cases = {
            "example.com": ("example.com", None),
            "example.com:80": ("example.com", 80),
            "127.0.0.1:8888": ("127.0.0.1", 8888),
            "[::1]:443": ("[::1]", 443),
            "[::1]": ("[::1]", None),
            "example.com:": ("example.com:", None),
            "example.com:http": ("example.com:http", None),
        }
        for netloc, expected in cases.items():
            with self.subTest(netloc=netloc):
                self.assertEqual(split_host_and_port(netloc), expected)

    def test_qs_to_qsl(self) -> None:
        self.assertEqual(
            list(qs_to_qsl({"a": [b"1", b"2"], "b": [], "c": [b"3"]})),
            [("a", b"1"), ("a", b"2"), ("c", b"3")],
        )

    def test_responses(self) -> None:
        self.assertEqual(responses[200], "OK")
        self.assertEqual(responses[404], "Not Found")
        self.assertEqual(responses[431], "Request Header Fields Too Large")

    def test_http_whitespace(self) -> None:
        self.assertEqual(sorted(HTTP_WHITESPACE), ["\t", " "])

    def test_http_file(self) -> None:
        upload = HTTPFile(filename="a.txt", body=b"x", content_type="text/plain")
        self.assertEqual((upload.filename, upload.body), ("a.txt", b"x"))
        self.assertEqual(upload["content_type"], "text/plain")

    def test_doctests(self) -> None:
        result = unittest.TestResult()
        suite = tornado.httputil.doctests()
        self.assertGreater(suite.countTestCases(), 5)
        suite.run(result)
        self.assertEqual(result.failures + result.errors, [])


if __name__ == "__main__":
    unittest.main()
