"""The parsers of tornado.web and tornado.websocket take linear time.

Each check times an input of size n against one of size 100n in CPU time
(best of 3) and allows 1000 times as long: linear work takes about 100
times as long, quadratic work 10,000 times.
"""

from __future__ import annotations

import http.cookies
import time
import unittest
from collections.abc import Callable
from typing import Any, cast

from tornado import _websocket_wire as wire
from tornado.test.util import server_request
from tornado.web import Application, RequestHandler, _parse_byte_range

GROWTH = 100
ALLOWED_RATIO = 1000


def cpu_seconds(func: Callable[[], object]) -> float:
    """CPU time of one call of ``func``: best of 3, over at least 2 ms each."""
    repeat = 1
    while True:
        started = time.process_time()
        for _ in range(repeat):
            func()
        spent = time.process_time() - started
        if spent >= 0.002:
            break
        repeat *= 4
    best = spent
    for _ in range(2):
        started = time.process_time()
        for _ in range(repeat):
            func()
        best = min(best, time.process_time() - started)
    return best / repeat


def assert_linear(
    test: unittest.TestCase, make: Callable[[int], Callable[[], object]], n: int
) -> None:
    """Fail if the input ``make(100 * n)`` costs over 1000x ``make(n)``."""
    small, large = make(n), make(GROWTH * n)
    ratio = cpu_seconds(large) / cpu_seconds(small)
    test.assertLess(ratio, ALLOWED_RATIO, f"{GROWTH}x the input took {ratio:.0f}x")


class FakeConnection:
    def set_close_callback(self, callback: object) -> None:
        pass


def handler_for(headers: dict[str, str]) -> RequestHandler:
    request = server_request(headers=headers, connection=cast(Any, FakeConnection()))
    return RequestHandler(Application(), request)


def refused(call: Callable[[], object], *errors: type[Exception]) -> Callable[[], None]:
    def run() -> None:
        try:
            call()
        except errors:
            pass

    return run


class WebParsersScaleLinearlyTest(unittest.TestCase):
    def test_if_none_match(self) -> None:
        def make(n: int) -> Callable[[], object]:
            # Unterminated quotes and weak prefixes: the shapes regexes trip on.
            value = ('W/"x", ' * n) + 'W/"' + "a" * n
            handler = handler_for({"If-None-Match": value})
            handler.set_header("Etag", '"y"')
            return handler.check_etag_header

        assert_linear(self, make, 200)

    def test_accept_language(self) -> None:
        def make(n: int) -> Callable[[], object]:
            value = (
                ",".join(f"x{i};q=0.{i % 9 + 1}" for i in range(n)) + ";q=" + " " * n
            )
            return handler_for({"Accept-Language": value}).get_browser_locale

        assert_linear(self, make, 100)

    def test_range(self) -> None:
        def make(n: int) -> Callable[[], object]:
            value = "bytes=" + "1" * n + "-" + "2" * n + "-" * n
            return lambda: _parse_byte_range(value)

        assert_linear(self, make, 1000)

    def test_reason_phrase(self) -> None:
        def make(n: int) -> Callable[[], object]:
            handler = handler_for({})
            reason = "Fine " * n + "<"
            return lambda: handler.set_status(299, reason)

        assert_linear(self, make, 1000)

    def test_cookie_attributes(self) -> None:
        def make(n: int) -> Callable[[], object]:
            handler = handler_for({})
            path = "/" + "a" * n + ";"
            call = lambda: handler.set_cookie("n", "v", path=path)  # noqa: E731
            return refused(call, http.cookies.CookieError)

        assert_linear(self, make, 1000)


class WebSocketExtensionParsingScalesLinearlyTest(unittest.TestCase):
    def check(self, build: Callable[[int], str]) -> None:
        def make(n: int) -> Callable[[], Any]:
            header = build(n)
            return refused(lambda: wire.parse_extensions(header), wire.NegotiationError)

        assert_linear(self, make, 200)

    def test_many_parameters(self) -> None:
        self.check(lambda n: "permessage-deflate" + "; a = b" * n)

    def test_spaces_without_equals(self) -> None:
        self.check(lambda n: "x" + " " * n + "y" + " " * n + "z")

    def test_unterminated_quoted_value(self) -> None:
        self.check(lambda n: 'x; a="' + "\\a" * n)

    def test_many_unterminated_quotes(self) -> None:
        self.check(lambda n: 'x; a="b' * n)

    def test_offer_negotiation(self) -> None:
        def build(n: int) -> str:
            return ", ".join(["permessage-deflate; client_max_window_bits"] * n)

        def make(n: int) -> Callable[[], Any]:
            header = build(n)
            return lambda: wire.accept_deflate_offer(header)

        assert_linear(self, make, 50)
