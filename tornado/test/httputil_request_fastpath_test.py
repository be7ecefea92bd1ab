"""The shortcuts in HTTPServerRequest and HTTPHeaders against the general code.

``HTTPServerRequest.__init__`` reads ``Host`` from the header table and
splits off a short port itself; ``HTTPHeaders._from_canonical`` builds its
object without running ``__init__``; ``_parse_body`` checks for a
``Content-Type`` in the table.  Each must give what the general functions
(``HTTPHeaders._get``, ``split_host_and_port``, ``__contains__``) give; and ``HTTPHeaders(dict)``
and ``__setitem__`` read the table directly.
"""

from __future__ import annotations

import unittest
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado.httputil import (
    HTTPHeaders,
    HTTPServerRequest,
    RequestStartLine,
    split_host_and_port,
)

START_LINE = RequestStartLine("GET", "/", "HTTP/1.1")


def request_with(headers: HTTPHeaders) -> HTTPServerRequest:
    return HTTPServerRequest(headers=headers, start_line=START_LINE)


def expected_host(headers: HTTPHeaders) -> tuple[str, str]:
    host = headers._get("Host", "") or "127.0.0.1"
    return host, split_host_and_port(host.lower())[0]


host_text = st.one_of(
    st.sampled_from(
        [
            "",
            "example.com",
            "Example.COM:8080",
            "[::1]:443",
            "[::1]",
            "a:",
            ":80",
            "a::80",
            "a:8x",
            "a:\u0661\u0662",  # non-ASCII digits
            "a:" + "1" * 18,
            "a:" + "1" * 19,
            "a:" + "9" * 30,
            "A:B:1",
        ]
    ),
    st.text(alphabet="aZ09:.[]\u0661\xe9-", max_size=12),
)


class SubHeaders(HTTPHeaders):
    pass


class HostTest(unittest.TestCase):
    @given(st.lists(host_text, max_size=3), st.booleans())
    @settings(max_examples=300)
    def test_same_as_the_general_functions(
        self, values: list[str], folded: bool
    ) -> None:

        def build() -> HTTPHeaders:
            # Set in the table directly: add() refuses some of these values.
            headers = HTTPHeaders()
            if values:
                stored: Any = values[0] if len(values) == 1 else list(values)
                headers._values["Host"] = stored
                if folded:  # a continuation line still pending
                    headers._last_key = "Host"
                    headers._pending_fold = ["more"]
            return headers

        expected = expected_host(build())
        request = request_with(build())
        self.assertEqual((request.host, request.host_name), expected)

    def test_subclass_and_plain_values(self) -> None:
        for headers in [
            SubHeaders({"Host": "Sub.Example:81"}),
            HTTPHeaders._from_canonical({"Host": "a.b:1"}),
            HTTPHeaders(),
        ]:
            expected = expected_host(headers)
            request = request_with(headers)
            self.assertEqual((request.host, request.host_name), expected)


class FromCanonicalTest(unittest.TestCase):
    def test_same_object_as_through_init(self) -> None:
        values = {"Content-Type": "text/plain", "X-A": "1"}
        made = HTTPHeaders._from_canonical(dict(values))
        through_init = HTTPHeaders()
        through_init._values = dict(values)
        self.assertIs(type(made), HTTPHeaders)
        self.assertEqual(vars(made), vars(through_init))
        self.assertEqual(list(vars(made)), list(vars(through_init)))
        made.add("X-A", "2")
        self.assertEqual(made.get_list("X-A"), ["1", "2"])

    def test_subclass_runs_its_init(self) -> None:
        calls: list[Any] = []

        class Recording(HTTPHeaders):
            def __init__(self, *args: Any, **kwargs: str) -> None:
                calls.append(args)
                super().__init__(*args, **kwargs)

        made = Recording._from_canonical({"X-A": "1"})
        self.assertIs(type(made), Recording)
        self.assertEqual(calls, [()])
        self.assertEqual(made["X-A"], "1")


class DictInitTest(unittest.TestCase):
    """HTTPHeaders(dict) fills its table as update() (__setitem__) does."""

    @given(
        st.dictionaries(
            st.sampled_from(["content-type", "Content-Type", "x-A", "X-a", "Host"]),
            st.text(alphabet="ab \t", max_size=3),
            max_size=4,
        )
    )
    @settings(max_examples=100)
    def test_same_as_update(self, values: dict[str, str]) -> None:
        made = HTTPHeaders(values)
        updated = HTTPHeaders()
        updated.update(values)
        self.assertEqual(list(vars(made)), list(vars(updated)))
        self.assertEqual(vars(made), vars(updated))
        self.assertEqual(list(made._values), list(updated._values))

    def test_subclass_setitem_is_called(self) -> None:
        seen: list[str] = []

        class Recording(HTTPHeaders):
            def __setitem__(self, name: str, value: str) -> None:
                seen.append(name)
                super().__setitem__(name, value)

        Recording({"a": "1", "B": "2"})
        self.assertEqual(seen, ["a", "B"])

    def test_setitem_applies_a_pending_fold_first(self) -> None:
        headers = HTTPHeaders()
        headers.parse_line("X-A: 1")
        headers.parse_line(" 2")  # pending continuation of X-A
        headers["X-B"] = "3"
        self.assertEqual(headers._values, {"X-A": "1 2", "X-B": "3"})
        self.assertEqual(headers._last_key, "X-B")
        headers.parse_line(" 4")
        self.assertEqual(headers["X-B"], "3 4")


class ParseBodyTest(unittest.TestCase):
    FORM = b"a=1&b=2"

    def parsed(self, headers: Any) -> dict[str, list[bytes]]:
        request = HTTPServerRequest(
            headers=headers, body=self.FORM, start_line=START_LINE
        )
        request.headers = headers
        request._parse_body()
        return request.body_arguments

    def test_content_type_in_any_table(self) -> None:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        expected = {"a": [b"1"], "b": [b"2"]}
        self.assertEqual(self.parsed(HTTPHeaders(form)), expected)
        self.assertEqual(self.parsed(SubHeaders(form)), expected)
        lower = HTTPHeaders({"content-type": form["Content-Type"]})
        self.assertEqual(self.parsed(lower), expected)

    def test_no_content_type(self) -> None:
        self.assertEqual(self.parsed(HTTPHeaders()), {})
        self.assertEqual(self.parsed(SubHeaders({"X-A": "1"})), {})


if __name__ == "__main__":
    unittest.main()
