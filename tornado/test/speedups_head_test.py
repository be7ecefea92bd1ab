"""The C head parser and formatter of ``tornado.speedups`` against the Python ones.

``tornado._http1wire`` asks the C functions first and runs its Python code
when they return ``None``.  These tests hold the C side to its contract:
whenever it returns something, it is exactly what the Python code makes of
the same input (the same classes, values, header order, repeated values and
bookkeeping attributes, the same bytes); for everything else, errors
included, it returns ``None``.  Hypothesis feeds both random bytes and
header-like text (folding, bare CR and LF, NUL, obs-text, odd versions),
and explicit cases check that the common heads do take the C path.

The C module is imported directly, so this runs even under
``TORNADO_EXTENSION=0`` (which only stops the package from using it); it
is skipped only when the extension was not built.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import _http1wire, httputil
from tornado.httputil import HTTPHeaders, RequestStartLine

speedups: Any
try:
    from tornado import speedups
except ImportError:
    speedups = None

NOT_BUILT = "tornado.speedups was not built (python setup.py build_ext --inplace)"

BENCH_REQUEST = (
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
)


def python_parse(data: bytes) -> tuple[str, Any]:
    """What the pure-Python parser makes of ``data``: a summary or its error."""
    try:
        start_line, headers = _http1wire._parse_request_head_python(data)
    except Exception as e:
        return "error", (type(e), str(e))
    return "ok", summarize(start_line, headers)


def summarize(start_line: Any, headers: Any) -> Any:
    """Everything about a parsed head that could differ between parsers."""
    values = headers._values
    return (
        type(start_line),
        tuple((type(part), part) for part in start_line),
        type(headers),
        list(vars(headers)),  # the attributes, in the order they were set
        [
            (
                type(name),
                name,
                type(value),
                [(type(v), v) for v in value] if isinstance(value, list) else value,
            )
            for name, value in values.items()
        ],
        headers._last_key,
        headers._pending_fold,
    )


def python_format(first_line: Any, table: Any, extra: Any) -> tuple[str, Any]:
    try:
        return "ok", _http1wire._format_table(first_line, table, extra)
    except Exception as e:
        return "error", (type(e), str(e))


# Pieces that heads are made of, the troublesome ones included.
HEAD_PIECES = [
    b"GET",
    b"POST",
    b"get",
    b" ",
    b"  ",
    b"/",
    b"/a?b=c",
    b"*",
    b"\xe9",
    b"\x80",
    b"\xff",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/1.",
    b"HTTP/2.0",
    b"HTTP/1.x",
    b"http/1.1",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\r\n",
    b"\r\n\r\n",
    b"\x00",
    b"\x0b",
    b"\x7f",
    b"\t",
    b"Host",
    b"host",
    b"hOST",
    b"Set-Cookie",
    b"x--y",
    b"-a-",
    b"Content-Length",
    b":",
    b": ",
    b"value",
    b"a, b",
    b'"q"',
    b"\r\n ",
    b"\r\n\t",
    b"\n ",
    b"\r\nHost: x",
    b"\r\nA: 1\r\nA: 2",
    b"\r\nset-cookie: c",
]

head_pieces = st.tuples(
    st.sampled_from([b"", b"GET / HTTP/1.1\r\n", b"POST /x HTTP/1.0\n"]),
    st.lists(st.sampled_from(HEAD_PIECES), max_size=40),
).map(lambda parts: parts[0] + b"".join(parts[1]))


TOKEN_ALPHABET = "!#$%&'*+-.^_`|~09AZaz"
FIELD_ALPHABET = "ab ,;=\t\x80\xe9\xff"


@st.composite
def structured_heads(draw: st.DrawFn) -> bytes:
    """A start line and header lines: a plain head, or one with odd parts.

    Half the heads are plain (the C parser's case); in the others each
    part may be one of the odd variants too.
    """
    clean = draw(st.booleans())

    def pick(valid: list[str], odd: list[str]) -> str:
        return draw(st.sampled_from(valid if clean else valid * 2 + odd))

    def text(alphabet: str, odd: str, min_size: int = 0) -> str:
        chars = alphabet if clean else alphabet + odd
        return draw(st.text(alphabet=chars, min_size=min_size, max_size=8))

    lines = [
        pick([""], ["\r\n", "\n\n", "\r"]),
        pick(["GET", "POST", "M-SEARCH"], ["", "G T", "GET\x00", "G\xe9"]),
        " ",
        pick(["/", "/x?y", "http://h/", "*", "/\xe9"], ["", "/ /", "/\x7f"]),
        " ",
        pick(["HTTP/1.1", "HTTP/1.0", "HTTP/1.9"], ["HTTP/0.9", "HTTP/11"]),
    ]
    endings = (["\r\n", "\n"], ["\r", "", "\r\r\n", "\n ", "\r\n\t"])
    lines.append(pick(*endings))
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            lines.append(pick(["Host", "host", "X-A", "x-a", "Set-Cookie"], []))
        else:
            lines.append(text(TOKEN_ALPHABET, " :\t\r\n\x00\x7f\xe9", min_size=1))
        lines.append(pick([":", ": ", ":\t", ":  "], [" :", ""]))
        lines.append(text(FIELD_ALPHABET, "\r\n\x00\x01\x7f"))
        lines.append(pick(*endings))
    lines.append(pick(["\r\n", "\n"], ["", "\r\n\r\n", "\r"]))
    return "".join(lines).encode("latin1")


# Header tables as applications and web.py leave them.
table_names = st.one_of(
    st.sampled_from(["Content-Type", "Connection", "Transfer-Encoding", "X-A"]),
    st.text(alphabet="aB-:\r\n\x00\xe9\u0100", max_size=6),
)
table_values: st.SearchStrategy[Any] = st.one_of(
    st.text(alphabet="ab ;=\t\r\n\x00\x7f\xe9\xff\u0100", max_size=8),
    st.binary(max_size=6),
    st.integers(),
    st.just(None),
    st.binary(max_size=4).map(bytearray),
)
tables = st.dictionaries(
    table_names,
    st.one_of(table_values, st.lists(table_values, max_size=3)),
    max_size=6,
)
extras = st.sampled_from(
    [
        {},
        {"Transfer-Encoding": "chunked"},
        {"Connection": "close"},
        {"Transfer-Encoding": "chunked", "Connection": "Keep-Alive"},
        {"Connection": "bad\r\nvalue"},
    ]
)
first_lines = st.one_of(
    st.sampled_from(["HTTP/1.1 200 OK", "GET / HTTP/1.1", "HTTP/1.1 404 "]),
    st.text(alphabet="aZ /\r\n\x00\xe9\u0100", max_size=10),
)


class StrSubclass(str):
    pass


class ListSubclass(list[str]):
    pass


@unittest.skipIf(speedups is None, NOT_BUILT)
class ParseRequestHeadTest(unittest.TestCase):
    def c_parse(self, data: Any) -> Any:
        return speedups.parse_request_head(data, RequestStartLine, HTTPHeaders)

    def assert_same(self, data: bytes) -> bool:
        """Check the C parser against the Python one; true if C parsed it."""
        expected = python_parse(data)
        parsed = self.c_parse(data)
        if parsed is None:
            return False
        self.assertEqual(expected[0], "ok", f"C parsed what Python refuses: {data!r}")
        self.assertEqual(summarize(*parsed), expected[1], repr(data))
        return True

    @given(st.binary(max_size=200))
    @settings(max_examples=150)
    def test_random_bytes(self, data: bytes) -> None:
        self.assert_same(data)

    @given(head_pieces)
    @settings(max_examples=150)
    def test_header_like_pieces(self, data: bytes) -> None:
        self.assert_same(data)

    @given(structured_heads())
    @settings(max_examples=150)
    def test_structured_heads(self, data: bytes) -> None:
        self.assert_same(data)

    def test_plain_heads_take_the_c_path(self) -> None:
        for data in [
            BENCH_REQUEST,
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.0",  # no line end at all
            b"GET / HTTP/1.1\r\n",
            b"\r\n\n\rGET / HTTP/1.1\r\nHost: a\r\n\r\n",  # leading empty lines
            b"GET /\xe9?\x80 HTTP/1.1\nHost: a\nX-Obs: \xff\xe9 t\n\n",  # bare LF
            b"OPTIONS * HTTP/1.9\r\nA:\r\nB: \t \r\nC:x\r\n\r\n",  # empty values
            b"GET / HTTP/1.1\r\nA: 1\r\na: 2\r\nB: 3\r\nA: 4\r\n\r\n",  # repeats
            b"GET / HTTP/1.1\r\nX-A: a\tb  c\t\r\n\r\nX-B: after blank\r\n",
            b"GET / HTTP/1.1\r\nx--wEIRD-: v\r\n-: w\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a",  # last line without its end
        ]:
            with self.subTest(data=data):
                self.assertTrue(self.assert_same(data))

    def test_other_heads_are_left_to_python(self) -> None:
        for data in [
            b"",
            b"\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded: no\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  # obs-fold
            b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",  # bare CR
            b"GET / HTTP/1.1\r\nA: b\x00\r\n\r\n",
            b"GET / HTTP/1.1\r\nA : b\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / http/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 \r\n\r\n",
            b"GET / HTTP/1.1\r\r\n\r\n",
            b"GET /\x7f HTTP/1.1\r\n\r\n",
            b"G\xe9T / HTTP/1.1\r\n\r\n",
        ]:
            with self.subTest(data=data):
                self.assertIsNone(self.c_parse(data))
                self.assertEqual(python_parse(data)[0], "error")
        # Not plain, yet accepted by the line-by-line reading.
        self.assertIsNone(self.c_parse(b"GET / HTTP/1.1\r\nA: b\r"))
        self.assertEqual(python_parse(b"GET / HTTP/1.1\r\nA: b\r")[0], "ok")

    def test_non_bytes_are_left_to_python(self) -> None:
        self.assertIsNone(self.c_parse(bytearray(BENCH_REQUEST)))
        self.assertIsNone(self.c_parse(memoryview(BENCH_REQUEST)))

    def test_many_lines(self) -> None:
        # Thousands of lines, repeated names among them, stay one pass.
        lines = b"".join(
            b"X-%d: %d\r\nSet-Cookie: c%d\r\n" % (i, i, i) for i in range(3000)
        )
        self.assertTrue(self.assert_same(b"GET / HTTP/1.1\r\n" + lines + b"\r\n"))
        blank = b"GET / HTTP/1.1\r\n" + b"\r\n" * 20000 + b"A: b\r\n"
        self.assertTrue(self.assert_same(blank))
        folded = b"GET / HTTP/1.1\r\nA: b\r\n" + b" c\r\n" * 20000
        self.assertFalse(self.assert_same(folded))
        self.assertFalse(self.assert_same(b"GET / HTTP/1.1\r\n" + b"\r" * 50000))

    def test_the_public_parser_agrees(self) -> None:
        start_line, headers = _http1wire.parse_request_head(BENCH_REQUEST)
        self.assertEqual(summarize(start_line, headers), python_parse(BENCH_REQUEST)[1])
        headers.add("Accept", "text/html")  # an ordinary, mutable HTTPHeaders
        self.assertEqual(headers.get_list("accept"), ["*/*", "text/html"])

    def test_bad_arguments(self) -> None:
        with self.assertRaises(TypeError):
            speedups.parse_request_head(BENCH_REQUEST)
        with self.assertRaises(TypeError):
            speedups.parse_request_head(BENCH_REQUEST, dict, HTTPHeaders)


@unittest.skipIf(speedups is None, NOT_BUILT)
class FormatHeadTest(unittest.TestCase):
    def assert_same(self, first_line: Any, table: Any, extra: Any) -> bool:
        """Check the C formatter against the Python one; true if C wrote it."""
        expected = python_format(first_line, table, extra)
        head = speedups.format_head(first_line, table, extra)
        if head is None:
            return False
        self.assertEqual(("ok", head), expected)
        self.assertIs(type(head), bytes)
        return True

    @given(first_lines, tables, extras)
    @settings(max_examples=200)
    def test_arbitrary_tables(self, first_line: str, table: Any, extra: Any) -> None:
        self.assert_same(first_line, table, extra)

    def test_plain_heads_take_the_c_path(self) -> None:
        table: Any = {
            "Content-Type": "text/html; charset=UTF-8",
            "Set-Cookie": ["a=1", "b=\xe9"],
            "Raw": b"\xff bytes",
            "Empty": "",
            "Connection": "keep-alive",
            "Transfer-Encoding": "gzip",
        }
        for extra in [{}, {"Transfer-Encoding": "chunked", "Connection": "close"}]:
            with self.subTest(extra=extra):
                self.assertTrue(self.assert_same("HTTP/1.1 200 OK", table, extra))
        self.assertTrue(self.assert_same("HTTP/1.1 204 ", {}, {}))
        many = {f"X-{i}": [str(i)] * 3 for i in range(2000)}
        self.assertTrue(self.assert_same("HTTP/1.1 200 OK", many, {}))

    def test_other_heads_are_left_to_python(self) -> None:
        cases: list[tuple[Any, Any, Any]] = [
            ("HTTP/1.1 200 OK", {"A": "b\r\nInjected: 1"}, {}),
            ("HTTP/1.1 200 OK", {"A": ["ok", "b\n"]}, {}),
            ("HTTP/1.1 200 OK", {"A": "nul\x00"}, {}),
            ("HTTP/1.1 200 OK", {"A\r\n": "b"}, {}),
            ("HTTP/1.1 200 OK\r\nX: y", {}, {}),
            ("HTTP/1.1 200 OK", {"A": "\u0100"}, {}),
            ("HTTP/1.1 200 \u2603", {}, {}),
            ("HTTP/1.1 200 OK", {"A": 1}, {}),
            ("HTTP/1.1 200 OK", {"A": StrSubclass("b")}, {}),
            ("HTTP/1.1 200 OK", {StrSubclass("A"): "b"}, {}),
            ("HTTP/1.1 200 OK", {"A": ListSubclass(["b"])}, {}),
            ("HTTP/1.1 200 OK", {"A": bytearray(b"b")}, {}),
            ("HTTP/1.1 200 OK", {}, {"Connection": b"close"}),
            ("HTTP/1.1 200 OK", {}, {"Connection": "a\nb"}),
            (StrSubclass("HTTP/1.1 200 OK"), {}, {}),
            (b"HTTP/1.1 200 OK", {}, {}),
        ]
        for first_line, table, extra in cases:
            with self.subTest(first_line=first_line, table=table, extra=extra):
                self.assertIsNone(speedups.format_head(first_line, table, extra))
                # The public function still answers (or raises) as Python does.
                headers = HTTPHeaders._from_canonical(dict(table))
                expected = python_format(first_line, table, extra)
                result: tuple[str, Any]
                try:
                    result = (
                        "ok",
                        _http1wire._format_head(first_line, headers, extra),
                    )
                except Exception as e:
                    result = "error", (type(e), str(e))
                self.assertEqual(result, expected)

    def test_public_formatters_agree(self) -> None:
        headers = HTTPHeaders({"Content-Length": "13", "Server": "x"})
        headers.add("Set-Cookie", "a")
        headers.add("Set-Cookie", "b")
        start_line = httputil.ResponseStartLine("HTTP/1.1", 200, "OK")
        for framing in [
            _http1wire.NO_BODY,
            _http1wire.Framing(_http1wire.BodyKind.CHUNKED),
        ]:
            for connection in [None, "close", "Keep-Alive"]:
                head = _http1wire.format_response_head(
                    start_line, headers, framing, connection
                )
                extra = {}
                if framing.kind is _http1wire.BodyKind.CHUNKED:
                    extra["Transfer-Encoding"] = "chunked"
                if connection is not None:
                    extra["Connection"] = connection
                self.assertEqual(
                    ("ok", head),
                    python_format("HTTP/1.1 200 OK", headers._table(), extra),
                )

    def test_bad_arguments(self) -> None:
        with self.assertRaises(TypeError):
            speedups.format_head("HTTP/1.1 200 OK", {})
        self.assertIsNone(speedups.format_head("HTTP/1.1 200 OK", [], {}))


class SelectionTest(unittest.TestCase):
    def test_extension_zero_means_python(self) -> None:
        # TORNADO_EXTENSION=0 leaves the C functions out, built or not.
        env = dict(os.environ, TORNADO_EXTENSION="0")
        code = (
            "from tornado import httputil; "
            "print(httputil._c_parse_request_head, httputil._c_format_head)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.assertEqual(out.strip(), "None None")

    @unittest.skipIf(speedups is None, NOT_BUILT)
    def test_built_extension_is_used(self) -> None:
        if os.environ.get("TORNADO_EXTENSION") == "0":
            self.skipTest("TORNADO_EXTENSION=0 selects the pure-Python code")
        self.assertIs(httputil._c_parse_request_head, speedups.parse_request_head)
        self.assertIs(httputil._c_format_head, speedups.format_head)


if __name__ == "__main__":
    unittest.main()
