"""Tests for tornado.escape."""

from __future__ import annotations

import functools
import json
import unittest
import urllib.parse
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tornado.escape import (
    json_decode,
    json_encode,
    linkify,
    native_str,
    parse_qs_bytes,
    recursive_unicode,
    squeeze,
    to_basestring,
    to_unicode,
    url_escape,
    url_unescape,
    utf8,
    xhtml_escape,
    xhtml_unescape,
)
from tornado.test.util import assert_roughly_linear, peak_traced_memory


class ConversionTest(unittest.TestCase):
    def test_utf8(self) -> None:
        self.assertEqual(utf8("caf\u00e9"), b"caf\xc3\xa9")
        self.assertEqual(utf8(b"\xff raw"), b"\xff raw")
        self.assertIsNone(utf8(None))

    def test_to_unicode(self) -> None:
        self.assertEqual(to_unicode(b"caf\xc3\xa9"), "caf\u00e9")
        self.assertEqual(to_unicode("\u2603"), "\u2603")
        self.assertIsNone(to_unicode(None))

    def test_aliases(self) -> None:
        self.assertIs(native_str, to_unicode)
        self.assertIs(to_basestring, to_unicode)

    def test_wrong_types_name_the_type(self) -> None:
        for func in (utf8, to_unicode):
            for bad in (42, 1.5, ["x"], bytearray(b"x")):
                with self.subTest(func=func.__name__, bad=bad):
                    with self.assertRaises(TypeError) as cm:
                        func(bad)  # type: ignore[call-overload]
                    self.assertIn(type(bad).__name__, str(cm.exception))

    def test_invalid_utf8(self) -> None:
        with self.assertRaises(UnicodeDecodeError):
            to_unicode(b"\xff\xfe")

    def test_lone_surrogate_cannot_be_encoded(self) -> None:
        with self.assertRaises(UnicodeEncodeError):
            utf8("\ud800")

    @given(st.text())
    def test_round_trip(self, text: str) -> None:
        encoded = utf8(text)
        self.assertIsInstance(encoded, bytes)
        self.assertEqual(to_unicode(encoded), text)

    def test_recursive_unicode(self) -> None:
        data = {b"k": [b"a", ("b", b"c", 3)], "plain": None, 1: {b"x": b"y"}}
        self.assertEqual(
            recursive_unicode(data),
            {"k": ["a", ("b", "c", 3)], "plain": None, 1: {"x": "y"}},
        )
        self.assertIsInstance(recursive_unicode((b"t",)), tuple)
        self.assertEqual(recursive_unicode(5), 5)


class XhtmlTest(unittest.TestCase):
    def test_escape(self) -> None:
        cases: list[tuple[Any, str]] = [
            ("<foo>", "&lt;foo&gt;"),
            (
                "<a href=\"x\" title='y'>",
                "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;",
            ),
            ("AT&T", "AT&amp;T"),
            ("&amp;", "&amp;amp;"),
            (b"<b>\xc3\xa9</b>", "&lt;b&gt;\u00e9&lt;/b&gt;"),
            ("\u2603 plain", "\u2603 plain"),
            ("", ""),
        ]
        for raw, escaped in cases:
            with self.subTest(raw=raw):
                self.assertEqual(xhtml_escape(raw), escaped)

    def test_unescape(self) -> None:
        cases: list[tuple[Any, str]] = [
            ("&lt;foo&gt;", "<foo>"),
            ("&quot;&#39;&#x27;&apos;", "\"'''"),
            ("&#38; &#x26; &#X26; &amp;", "& & & &"),
            ("&eacute;&Eacute;&hellip;", "\u00e9\u00c9\u2026"),
            ("&#x2603;&#9731;", "\u2603\u2603"),
            ("&unknownentity; & &;", "&unknownentity; & &;"),
            (b"&lt;b&gt;", "<b>"),
        ]
        for escaped, raw in cases:
            with self.subTest(escaped=escaped):
                self.assertEqual(xhtml_unescape(escaped), raw)

    def test_wrong_type(self) -> None:
        with self.assertRaises(TypeError):
            xhtml_escape(3)  # type: ignore[arg-type]

    @given(st.text())
    def test_round_trip(self, text: str) -> None:
        escaped = xhtml_escape(text)
        for char in "<>\"'":
            self.assertNotIn(char, escaped)
        self.assertEqual(xhtml_unescape(escaped), text)


class UrlTest(unittest.TestCase):
    def test_escape(self) -> None:
        self.assertEqual(url_escape("a b/c?d=e&f"), "a+b%2Fc%3Fd%3De%26f")
        self.assertEqual(url_escape("a b/c?d", plus=False), "a%20b/c%3Fd")
        self.assertEqual(url_escape("caf\u00e9"), "caf%C3%A9")
        self.assertEqual(url_escape(b"\xe9\xff"), "%E9%FF")
        self.assertEqual(url_escape("a+b"), "a%2Bb")

    def test_unescape(self) -> None:
        self.assertEqual(url_unescape("a+b%20c"), "a b c")
        self.assertEqual(url_unescape("a+b%20c", plus=False), "a+b c")
        self.assertEqual(url_unescape(b"caf%C3%A9"), "caf\u00e9")
        self.assertEqual(url_unescape("caf%E9", encoding="latin1"), "caf\u00e9")

    def test_unescape_to_bytes(self) -> None:
        self.assertEqual(url_unescape("%E9+x", encoding=None), b"\xe9 x")
        self.assertEqual(url_unescape("%E9+x", encoding=None, plus=False), b"\xe9+x")
        self.assertEqual(url_unescape(b"\xff+%41", encoding=None), b"\xff A")

    def test_malformed_escapes(self) -> None:
        self.assertEqual(url_unescape("100%"), "100%")
        self.assertEqual(url_unescape("%zz%4"), "%zz%4")
        self.assertEqual(url_unescape("%zz", encoding=None), b"%zz")
        # Bytes that are not valid in the target encoding are replaced.
        self.assertEqual(url_unescape("%FFok"), "\ufffdok")

    def test_wrong_type(self) -> None:
        with self.assertRaises(TypeError):
            url_escape(12)  # type: ignore[arg-type]

    @given(st.text(), st.booleans())
    def test_text_round_trip(self, text: str, plus: bool) -> None:
        self.assertEqual(url_unescape(url_escape(text, plus), plus=plus), text)

    @given(st.binary(), st.booleans())
    def test_bytes_round_trip(self, data: bytes, plus: bool) -> None:
        escaped = url_escape(data, plus)
        self.assertTrue(escaped.isascii())
        self.assertEqual(url_unescape(escaped, encoding=None, plus=plus), data)


class JsonTest(unittest.TestCase):
    def test_encode_protects_script_end_tag(self) -> None:
        encoded = json_encode({"html": "</script><script>"})
        self.assertNotIn("</", encoded)
        self.assertIn("<\\/script>", encoded)
        self.assertEqual(json_decode(encoded), {"html": "</script><script>"})

    def test_decode_str_and_bytes(self) -> None:
        self.assertEqual(json_decode('{"a": [1, 2.5, null]}'), {"a": [1, 2.5, None]})
        self.assertEqual(json_decode(b'"\\u00e9"'), "\u00e9")
        self.assertEqual(json_decode('"caf\u00e9"'.encode()), "caf\u00e9")

    def test_invalid_json(self) -> None:
        for bad in ("", "{", "{'a': 1}", "[1,]", b"\xff"):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    json_decode(bad)
        with self.assertRaises(json.JSONDecodeError):
            json_decode("{")

    def test_unserializable(self) -> None:
        with self.assertRaises(TypeError):
            json_encode(object())

    def test_round_trip(self) -> None:
        value: dict[str, Any] = {"s": "a</b", "n": [1, -2.5], "t": True, "u": None}
        self.assertEqual(json_decode(json_encode(value)), value)


class SqueezeTest(unittest.TestCase):
    def test_squeeze(self) -> None:
        self.assertEqual(squeeze("  a \t\n b\r\n\x00c  "), "a b c")
        self.assertEqual(squeeze("nochange"), "nochange")
        self.assertEqual(squeeze(" \n "), "")
        # Non-ASCII whitespace is not touched.
        self.assertEqual(squeeze("a\u00a0\u00a0b"), "a\u00a0\u00a0b")


class LinkifyTest(unittest.TestCase):
    def check(self, text: str | bytes, expected: str, **kwargs: Any) -> None:
        self.assertEqual(linkify(text, **kwargs), expected)

    def test_plain_links(self) -> None:
        self.check(
            "see http://example.com/path and https://x.org!",
            'see <a href="http://example.com/path">http://example.com/path</a> and '
            '<a href="https://x.org">https://x.org</a>!',
        )

    def test_text_is_escaped_and_query_keeps_entities(self) -> None:
        self.check(
            "<b>x</b> http://a.com/?q=1&r=2",
            '&lt;b&gt;x&lt;/b&gt; <a href="http://a.com/?q=1&amp;r=2">'
            "http://a.com/?q=1&amp;r=2</a>",
        )

    def test_trailing_punctuation_is_not_part_of_the_link(self) -> None:
        for tail in (".", ",", "!", "?", ":", ";", "...", "'"):
            with self.subTest(tail=tail):
                out = linkify("http://a.com/x" + tail)
                self.assertTrue(out.startswith('<a href="http://a.com/x">'), out)

    def test_parentheses(self) -> None:
        self.check(
            "(see http://bit.ly/foo)",
            '(see <a href="http://bit.ly/foo">http://bit.ly/foo</a>)',
        )
        url = "http://en.wikipedia.org/wiki/Tornado_(disambiguation)"
        self.check(url, f'<a href="{url}">{url}</a>')

    def test_www_without_protocol(self) -> None:
        self.check(
            "go to www.example.com",
            'go to <a href="http://www.example.com">www.example.com</a>',
        )
        self.check(
            "go to www.example.com", "go to www.example.com", require_protocol=True
        )

    def test_permitted_protocols(self) -> None:
        text = "file:///etc/passwd and javascript://alert and http://a.com"
        self.check(
            text,
            'file:///etc/passwd and javascript://alert and <a href="http://a.com">http://a.com</a>',
        )
        self.check(
            text,
            '<a href="file:///etc/passwd">file:///etc/passwd</a> and '
            "javascript://alert and http://a.com",
            permitted_protocols=["file"],
        )

    def test_extra_params_string(self) -> None:
        self.check(
            "www.a.com",
            '<a href="http://www.a.com" rel="nofollow">www.a.com</a>',
            extra_params='  rel="nofollow"  ',
        )

    def test_extra_params_callable(self) -> None:
        def params(href: str) -> str:
            return 'class="internal"' if "mysite" in href else 'rel="nofollow"'

        self.check(
            "www.mysite.com/x www.other.com",
            '<a href="http://www.mysite.com/x" class="internal">www.mysite.com/x</a> '
            '<a href="http://www.other.com" rel="nofollow">www.other.com</a>',
            extra_params=params,
        )

    def test_shorten_long_path(self) -> None:
        url = "http://reallylong.com/link/that/exceedsthelengthlimit.html"
        self.check(
            url,
            f'<a href="{url}" title="{url}">http://reallylong.com/link...</a>',
            shorten=True,
        )

    def test_shorten_long_host(self) -> None:
        url = "http://averyveryverylongdomainnamethatgoeson.com/hi"
        self.check(
            url + "!",
            f'<a href="{url}" title="{url}">http://averyveryverylongdomain...</a>!',
            shorten=True,
        )

    def test_shorten_keeps_short_urls(self) -> None:
        self.check(
            "http://a.com/short",
            '<a href="http://a.com/short">http://a.com/short</a>',
            shorten=True,
        )

    def test_shorten_does_not_split_entities(self) -> None:
        url = "http://e.com/?aaaaaaaaaaaaaaaa=1&bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=2"
        out = linkify(url, shorten=True)
        link_text = out.split(">")[1].split("<")[0]
        self.assertTrue(link_text.endswith("..."), link_text)
        self.assertNotIn("&am", link_text)

    def test_bytes_input(self) -> None:
        self.check(
            b"caf\xc3\xa9 www.a.com",
            'caf\u00e9 <a href="http://www.a.com">www.a.com</a>',
        )

    def test_hyphens_around_links(self) -> None:
        cases = {
            "-http://a.b": '-<a href="http://a.b">http://a.b</a>',
            "--http://a.b/c": '--<a href="http://a.b/c">http://a.b/c</a>',
            "a-www.x.com": 'a-<a href="http://www.x.com">www.x.com</a>',
            "x-http://y.z": "x-http://y.z",  # the protocol is "x-http"
            "see-also:http://a.b": 'see-also:<a href="http://a.b">http://a.b</a>',
            "foo-bar: www.x.org!": 'foo-bar: <a href="http://www.x.org">www.x.org</a>!',
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(linkify(text), expected)

    def test_hostile_text_scales_linearly(self) -> None:
        shapes = {
            "hyphenated word": lambda n: "a-" * n + ":/",
            "leading hyphens": lambda n: "-" * n + "a:/",
            "www runs": lambda n: "a-www." * n,
            "dots": lambda n: "http://" + "." * n,
            "parentheses": lambda n: "http://a" + "(a" * n,
            "many links": lambda n: "http://a.b " * n,
        }
        for shape, make in shapes.items():
            with self.subTest(shape=shape):

                def run(
                    n: int, make: Callable[[int], str] = make
                ) -> Callable[[], object]:
                    text = make(n)
                    return lambda: linkify(text)

                assert_roughly_linear(self, run, 100)

    def test_no_links(self) -> None:
        self.check("nothing here: a.b, ftp, http:", "nothing here: a.b, ftp, http:")


class ParseQsBytesTest(unittest.TestCase):
    def test_values_are_bytes(self) -> None:
        self.assertEqual(
            parse_qs_bytes("a=1&b=x+y&a=%C3%A9"),
            {"a": [b"1", b"\xc3\xa9"], "b": [b"x y"]},
        )

    def test_non_utf8(self) -> None:
        self.assertEqual(parse_qs_bytes(b"name=%E9t%E9"), {"name": [b"\xe9t\xe9"]})
        self.assertEqual(parse_qs_bytes(b"raw=\xe9\xff"), {"raw": [b"\xe9\xff"]})
        # Keys are decoded as latin-1, byte for byte.
        self.assertEqual(parse_qs_bytes(b"%E9=1"), {"\u00e9": [b"1"]})

    def test_blank_values(self) -> None:
        self.assertEqual(parse_qs_bytes("a=&b=1"), {"b": [b"1"]})
        self.assertEqual(
            parse_qs_bytes("a=&b=1", keep_blank_values=True), {"a": [b""], "b": [b"1"]}
        )

    def test_strict_parsing(self) -> None:
        self.assertEqual(parse_qs_bytes("a=1&junk"), {"a": [b"1"]})
        with self.assertRaises(ValueError):
            parse_qs_bytes("a=1&junk", strict_parsing=True)

    def test_max_num_fields(self) -> None:
        self.assertEqual(len(parse_qs_bytes("a=1&b=2", max_num_fields=2)), 2)
        with self.assertRaises(ValueError):
            parse_qs_bytes("a=1&b=2&c=3", max_num_fields=2)

    def test_max_num_fields_is_keyword_only(self) -> None:
        with self.assertRaises(TypeError):
            parse_qs_bytes("a=1", False, False, 5)  # type: ignore[call-arg]

    def test_empty(self) -> None:
        self.assertEqual(parse_qs_bytes(""), {})
        self.assertEqual(parse_qs_bytes(b""), {})
        self.assertEqual(parse_qs_bytes("", max_num_fields=0), {})

    def test_max_num_fields_message(self) -> None:
        with self.assertRaisesRegex(ValueError, "^Max number of fields exceeded$"):
            parse_qs_bytes(b"a&b", max_num_fields=1)

    def test_str_must_be_latin1(self) -> None:
        self.assertEqual(parse_qs_bytes("a=\u00e9"), {"a": [b"\xe9"]})
        with self.assertRaises(UnicodeEncodeError):
            parse_qs_bytes("a=\u20ac")

    @given(
        st.text(alphabet="ab=&+%2F;\u00e9 \x00", max_size=30),
        st.booleans(),
        st.booleans(),
        st.sampled_from([None, 1, 2, 5]),
    )
    def test_agrees_with_urllib(
        self, query: str, blank: bool, strict: bool, limit: int | None
    ) -> None:
        def expected() -> dict[str, list[bytes]]:
            parsed = urllib.parse.parse_qs(
                query, blank, strict, encoding="latin1", max_num_fields=limit
            )
            return {k: [v.encode("latin1") for v in vs] for k, vs in parsed.items()}

        for given_query in (query, query.encode("latin1")):
            try:
                want: object = expected()
            except ValueError as e:
                want = str(e)
            try:
                got: object = parse_qs_bytes(
                    given_query, blank, strict, max_num_fields=limit
                )
            except ValueError as e:
                got = str(e)
            self.assertEqual(got, want)

    def test_memory_is_a_small_multiple_of_the_input(self) -> None:
        n = 5_000
        shapes = {
            "distinct names": "&".join(f"name{i}=value{i}" for i in range(n)),
            "repeated names": "&".join(f"field{i % 20}=v{i}" for i in range(n)),
            "escapes": "&".join(f"n%20{i}=caf%C3%A9+{i}" for i in range(n)),
            "one value": "a=" + "x" * n * 10,
        }
        for shape, query in shapes.items():
            for given_query in (query, query.encode("latin1")):
                with self.subTest(shape=shape, type=type(given_query).__name__):
                    _, peak = peak_traced_memory(
                        functools.partial(
                            parse_qs_bytes, given_query, keep_blank_values=True
                        )
                    )
                    self.assertLessEqual(peak, 12 * len(query))

    def test_many_fields_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            query = "&".join(f"a{i % 7}=%41{i}" for i in range(n))
            return lambda: parse_qs_bytes(query)

        assert_roughly_linear(self, run, 200)


if __name__ == "__main__":
    unittest.main()
