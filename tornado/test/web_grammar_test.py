"""tornado.web reads request headers with the shared HTTP grammar helpers.

``If-None-Match`` is read by `_httpgrammar.find_entity_tags`, in linear
time however hostile the value; it finds exactly the tags the regex
``\\*|(?:W/)?"[^"]*"`` that Tornado has always used would find.
"""

from __future__ import annotations

import re
import unittest
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tornado._httpgrammar import find_entity_tags
from tornado.test.util import assert_roughly_linear
from tornado.test.web_test import WebTestCase
from tornado.web import RequestHandler

# How Tornado has always found the tags of If-None-Match: the reference.
_TORNADO_ETAG_RE = re.compile(r'\*|(?:W/)?"[^"]*"')


class FindEntityTagsTest(unittest.TestCase):
    def test_examples(self) -> None:
        cases = {
            "": [],
            "*": ["*"],
            '"a"': ['"a"'],
            'W/"a", "b", *': ['W/"a"', '"b"', "*"],
            '"a" "b"': ['"a"', '"b"'],  # no comma: still two tags
            'junk"a"W/W/"b"': ['"a"', 'W/"b"'],
            '"a*b"': ['"a*b"'],
            '"unclosed': [],
            '"unclosed *': ["*"],
            'W*"a"': ["*", '"a"'],
            '"a"W/': ['"a"'],
        }
        for text, tags in cases.items():
            with self.subTest(text=text):
                self.assertEqual(find_entity_tags(text), tags)

    @given(st.text(alphabet='W/"*, a\t\u00e9', max_size=60))
    def test_same_tags_as_tornado_regex(self, text: str) -> None:
        self.assertEqual(find_entity_tags(text), _TORNADO_ETAG_RE.findall(text))

    def test_linear_on_hostile_values(self) -> None:
        forms = {
            "unclosed weak tags": ("", 'W/"'),
            "many stars": ("", "*"),
            "one unclosed quote, long text": ('"', "a"),
            "many closed tags": ("", '"x",'),
            "prefixes without quotes": ("", "W/"),
        }
        for name, (start, piece) in forms.items():

            def run(n: int, start: str = start, piece: str = piece) -> Any:
                text = start + piece * n
                return lambda: find_entity_tags(text)

            with self.subTest(form=name):
                assert_roughly_linear(self, run, 200)


class EtagHandler(RequestHandler):
    def get(self) -> None:
        self.write("content")


class IfNoneMatchTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/", EtagHandler)]

    def test_long_hostile_value_is_answered(self) -> None:
        etag = self.fetch("/").headers["Etag"]
        hostile = 'W/"' * 10000
        self.assertEqual(self.fetch("/", headers={"If-None-Match": hostile}).code, 200)
        listed = '"x", ' * 5000 + "W/" + etag
        self.assertEqual(self.fetch("/", headers={"If-None-Match": listed}).code, 304)


if __name__ == "__main__":
    unittest.main()
