"""Tests for tornado._httpgrammar, the HTTP grammar shared by the package."""

from __future__ import annotations

import unittest
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import _httpgrammar as grammar
from tornado.test.util import assert_roughly_linear

# More examples than the suite's profile: this grammar guards every parser
# of input, and its functions are cheap.
quick = settings(max_examples=200)

# Characters that matter to the grammar, and some that never may appear.
grammar_chars = st.sampled_from(
    list('aZ09-!~ \t\r\n:;,="\\%()[]/@\x00\x01\x7f\x80\xff') + ["\u20ac"]
)
grammar_text = st.text(grammar_chars, max_size=40)


class TokenTest(unittest.TestCase):
    def test_tokens(self) -> None:
        for text in ["GET", "Content-Type", "x", "!#$%&'*+-.^_`|~09azAZ"]:
            with self.subTest(text=text):
                self.assertTrue(grammar.is_token(text))
                self.assertTrue(grammar.is_field_name(text))
        for text in ["", "a b", "a:", "(x)", "caf\xe9", "a\x00", '"q"', "a,b"]:
            with self.subTest(text=text):
                self.assertFalse(grammar.is_token(text))
        self.assertTrue(all(grammar.is_token(c) for c in grammar.TOKEN_CHARS))
        self.assertEqual(
            sum(grammar.is_token(chr(c)) for c in range(256)), len(grammar.TOKEN_CHARS)
        )


class FieldValueTest(unittest.TestCase):
    def test_field_values(self) -> None:
        for text in ["", "a", "text/html; q=0.9", "a \t b", "caf\xe9", "\x80\xff"]:
            with self.subTest(text=text):
                self.assertTrue(grammar.is_field_value(text))
        for text in [" a", "a ", "\t", "a\rb", "a\nb", "a\x00", "a\x7f", "\u20ac"]:
            with self.subTest(text=text):
                self.assertFalse(grammar.is_field_value(text))

    def test_control_chars(self) -> None:
        self.assertFalse(grammar.has_control_chars("\u20ac \t text"))
        for char in "\x00\x08\n\r\x1f\x7f":
            self.assertTrue(grammar.has_control_chars("a" + char))

    def test_plain_header_block(self) -> None:
        plain = [
            "",
            "\r\n",
            "A: 1\r\nB:2\nC:   \r\n\r\n",
            "\r\nA: 1",
            "A: caf\xe9\r\n\r\n\r\n",
            "A:\t\r\n",
        ]
        for text in plain:
            with self.subTest(text=text):
                self.assertTrue(grammar.is_plain_header_block(text))
        not_plain = [
            " A: 1",
            "A: 1\r\n folded",
            "A : 1",
            "A 1",
            "A: 1\rB: 2",
            "A: 1\r",
            "A: \x00",
            "\xe9: 1",
            "A: 1\r\n\tB: 2",
            "A: \u20ac",
        ]
        for text in not_plain:
            with self.subTest(text=text):
                self.assertFalse(grammar.is_plain_header_block(text))


class NumberTest(unittest.TestCase):
    def test_digits(self) -> None:
        self.assertEqual(grammar.parse_digits("0"), 0)
        self.assertEqual(grammar.parse_digits("007"), 7)
        self.assertTrue(grammar.is_digits("123"))
        for bad in ["", "+1", "-1", " 1", "1 ", "1_0", "0x1", "\u0661", "1.0"]:
            with self.subTest(bad=bad):
                self.assertFalse(grammar.is_digits(bad))
                with self.assertRaises(ValueError):
                    grammar.parse_digits(bad)
        with self.assertRaises(ValueError):  # too long for int()
            grammar.parse_digits("9" * 5000)

    @quick
    @given(st.text(st.sampled_from("0123456789 +-_x\n\u00b2\u0661\u0966\uff11")))
    def test_is_digits_means_ascii_digits_only(self, text: str) -> None:
        self.assertEqual(
            grammar.is_digits(text), grammar.DIGITS_RE.fullmatch(text) is not None
        )

    def test_hex_digits(self) -> None:
        self.assertEqual(grammar.parse_hex_digits("fF"), 255)
        for bad in ["", "0x1", "g", "-1", " a", "a_b"]:
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    grammar.parse_hex_digits(bad)

    def test_chunk_size_line(self) -> None:
        cases = {
            b"0\r\n": 0,
            b"1A\r\n": 26,
            b"5;a\r\n": 5,
            b"5 ; a = b ;c\r\n": 5,
            b'5;a="x;\\"y"\r\n': 5,
        }
        for line, size in cases.items():
            with self.subTest(line=line):
                self.assertEqual(grammar.parse_chunk_size_line(line), size)
        for line in [b"", b"5", b"5\n", b" 5\r\n", b"5 \r\n", b"5;\r\n", b"0x5\r\n"]:
            with self.subTest(line=line):
                with self.assertRaises(ValueError):
                    grammar.parse_chunk_size_line(line)


class StartLineTest(unittest.TestCase):
    def test_request_line(self) -> None:
        self.assertEqual(
            grammar.match_request_line("GET /p?q HTTP/1.1"), ("GET", "/p?q", "HTTP/1.1")
        )
        for line in [
            "GET /",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 ",
            "GET /\x00 HTTP/1.1",
        ]:
            with self.subTest(line=line):
                self.assertIsNone(grammar.match_request_line(line))

    def test_status_line(self) -> None:
        self.assertEqual(
            grammar.match_status_line("HTTP/1.1 404 Not Found"),
            ("HTTP/1.1", 404, "Not Found"),
        )
        self.assertEqual(
            grammar.match_status_line("HTTP/1.1 204"), ("HTTP/1.1", 204, "")
        )
        for line in ["HTTP/1.1 20", "HTTP/1.1 200 \r", "HTTP/1.1  200 OK"]:
            with self.subTest(line=line):
                self.assertIsNone(grammar.match_status_line(line))

    def test_reason_and_target(self) -> None:
        self.assertTrue(grammar.is_reason_phrase("Not \tFound \xe9"))
        self.assertTrue(grammar.is_reason_phrase(""))
        self.assertFalse(grammar.is_reason_phrase("a\r\nb"))
        self.assertFalse(grammar.is_reason_phrase("a<\x00"))
        self.assertTrue(grammar.is_request_target("/a?b=c#d"))
        self.assertTrue(grammar.is_request_target("*"))
        for target in ["", "/a b", "/a\tb", "/\x7f"]:
            self.assertFalse(grammar.is_request_target(target))

    def test_host(self) -> None:
        for host in ["", "example.com", "example.com:80", "[::1]:8080", "1.2.3.4"]:
            self.assertTrue(grammar.is_host(host), host)
        for host in ["a,b", "a%20b", "a b", "a/b", "a\tb", "caf\xe9", "a@b"]:
            self.assertFalse(grammar.is_host(host), host)


class QuotedStringTest(unittest.TestCase):
    def test_quote_and_unquote(self) -> None:
        self.assertEqual(grammar.quote_string('a"b\\c'), '"a\\"b\\\\c"')
        self.assertEqual(grammar.unquote_string('"a\\"b\\\\c"'), 'a"b\\c')
        self.assertEqual(grammar.unquote_string("plain"), "plain")
        self.assertEqual(grammar.unquote_string('"'), '"')
        self.assertIsNotNone(grammar.QUOTED_STRING_RE.fullmatch('"a \\" b"'))
        self.assertIsNone(grammar.QUOTED_STRING_RE.fullmatch('"a " b"'))

    @quick
    @given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF)))
    def test_round_trip(self, text: str) -> None:
        quoted = grammar.quote_string(text)
        self.assertEqual(grammar.unquote_string(quoted), text)
        if "\x7f" not in text:
            self.assertIsNotNone(grammar.QUOTED_STRING_RE.fullmatch(quoted))


class ListAndParameterTest(unittest.TestCase):
    def test_split_outside_quotes(self) -> None:
        self.assertEqual(grammar.split_outside_quotes("a,b", ","), ["a", "b"])
        self.assertEqual(
            grammar.split_outside_quotes('a="x,y",b', ","), ['a="x,y"', "b"]
        )
        self.assertEqual(
            grammar.split_outside_quotes('a="x\\",y",b', ","), ['a="x\\",y"', "b"]
        )
        self.assertEqual(grammar.split_outside_quotes('a="x,y', ","), ['a="x,y'])
        self.assertEqual(grammar.split_outside_quotes("", ";"), [""])

    def test_split_list(self) -> None:
        self.assertEqual(grammar.split_list(" a , ,b,, "), ["a", "b"])
        self.assertEqual(grammar.split_list(""), [])

    def test_parse_header_params(self) -> None:
        self.assertEqual(
            grammar.parse_header_params('form-data; Name="a;b"; x = 1 ;flag;;'),
            ("form-data", {"name": "a;b", "x": "1", "flag": None}),
        )
        self.assertEqual(grammar.parse_header_params("a; b=1; B=2")[1], {"b": "1"})

    def test_format_header_params(self) -> None:
        self.assertEqual(grammar.format_header_params("x", {}), "x")
        formatted = grammar.format_header_params(
            "permessage-deflate", [("b", "2"), ("a", None), ("c", 3), ("d", "x y")]
        )
        self.assertEqual(formatted, 'permessage-deflate; b=2; a; c=3; d="x y"')
        self.assertEqual(
            grammar.parse_header_params(formatted),
            ("permessage-deflate", {"b": "2", "c": "3", "d": "x y", "a": None}),
        )

    @quick
    @given(grammar_text, st.sampled_from([",", ";"]))
    def test_split_keeps_every_character(self, text: str, separator: str) -> None:
        self.assertEqual(
            separator.join(grammar.split_outside_quotes(text, separator)), text
        )


class NoBacktrackingTest(unittest.TestCase):
    """Inputs built to make a backtracking pattern explode take linear time."""

    CASES: dict[str, tuple[Callable[[str], object], Callable[[int], str]]] = {
        "header block, blank values": (
            grammar.is_plain_header_block,
            lambda n: "X:    \r\n" * n + "Y : z\r\n",
        ),
        "header block, one long line": (
            grammar.is_plain_header_block,
            lambda n: "X: " + "a \t" * n + "\r",
        ),
        "field value": (grammar.is_field_value, lambda n: "a " * n + " "),
        "token": (grammar.is_token, lambda n: "a" * n + " "),
        "request line": (
            grammar.match_request_line,
            lambda n: "GET " + "/" * n + " HTTP/1.x",
        ),
        "status line": (
            grammar.match_status_line,
            lambda n: "HTTP/1.1 200 " + " \t" * n + "\r",
        ),
        "quoted strings": (
            lambda text: grammar.split_outside_quotes(text, ","),
            lambda n: '"a",' * n + '"\\',
        ),
        "quotes without separators": (
            lambda text: grammar.split_outside_quotes(text, ","),
            lambda n: '"a"' * n + ",",
        ),
        "parameters": (grammar.parse_header_params, lambda n: 'a; b="\\";c' * n),
        "chunk extensions": (
            lambda text: _parse_chunk_line_or_none(text.encode()),
            lambda n: "5" + " ; a = b" * n + " ;",
        ),
        "host": (grammar.is_host, lambda n: "a." * n + " "),
    }

    def test_linear(self) -> None:
        for name, (func, make) in self.CASES.items():
            with self.subTest(name=name):

                def run(
                    n: int,
                    func: Callable[[str], object] = func,
                    make: Callable[[int], str] = make,
                ) -> Callable[[], object]:
                    text = make(n)
                    return lambda: func(text)

                assert_roughly_linear(self, run, 100)

    @quick
    @given(grammar_text)
    def test_functions_accept_any_text(self, text: str) -> None:
        for func in [
            grammar.is_token,
            grammar.is_field_value,
            grammar.has_control_chars,
            grammar.is_plain_header_block,
            grammar.is_digits,
            grammar.match_request_line,
            grammar.match_status_line,
            grammar.is_reason_phrase,
            grammar.is_request_target,
            grammar.is_host,
            grammar.unquote_string,
            grammar.split_list,
            grammar.parse_header_params,
        ]:
            func(text)


def _parse_chunk_line_or_none(line: bytes) -> int | None:
    try:
        return grammar.parse_chunk_size_line(line)
    except ValueError:
        return None


if __name__ == "__main__":
    unittest.main()
