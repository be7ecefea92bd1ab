"""Usage patterns of software built on Tornado that reach past the documented API.

Each test does what a dependent (jupyter_server, distributed, terminado...)
does, without the dependent itself; see docs/releases/next.rst,
"Compatibility with software that uses Tornado internals".
"""

from __future__ import annotations

import logging

from tornado.log import access_log, gen_log
from tornado.testing import AsyncHTTPTestCase, ExpectLog
from tornado.web import Application, HTTPError, RequestHandler


class GatewayMockHandler(RequestHandler):
    """Raises errors the way jupyter_server's gateway test doubles do."""

    def get(self, which: str) -> None:
        if which == "keyword":
            # An unknown keyword is ignored, as in 6.6 (never a TypeError).
            raise HTTPError(404, message="Kernel does not exist: abc")
        raise HTTPError(503, "Gateway url 'http%3A%2F%2Fgw' is unreachable.")


class HTTPErrorCompatibilityTest(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        return Application([(r"/(\w+)", GatewayMockHandler)])

    def test_unknown_keyword_arguments_are_ignored(self) -> None:
        error = HTTPError(404, message="gone", reason="Not Here")
        self.assertEqual((error.status_code, error.reason), (404, "Not Here"))
        with ExpectLog(access_log, "404 GET /keyword", level=logging.WARNING):
            self.assertEqual(self.fetch("/keyword").code, 404)

    def test_percent_without_args_is_doubled_in_log_message(self) -> None:
        error = HTTPError(503, "url 'a%3Db' is unreachable.")
        self.assertEqual(error.log_message, "url 'a%%3Db' is unreachable.")
        self.assertEqual(error.get_message(), "url 'a%3Db' is unreachable.")
        self.assertIn("url 'a%3Db' is unreachable.", str(error))
        self.assertNotIn("%%", str(error))

    def test_percent_with_args_is_kept(self) -> None:
        error = HTTPError(503, "url %s is %d%% down", "x", 50)
        self.assertEqual(error.log_message, "url %s is %d%% down")
        self.assertEqual(error.get_message(), "url x is 50% down")

    def test_logged_line_has_single_percent(self) -> None:
        line = r"503 GET /percent \(127\.0\.0\.1\): Gateway url 'http%3A%2F%2Fgw' is"
        with ExpectLog(gen_log, line, level=logging.WARNING):
            with ExpectLog(access_log, "503 GET /percent", level=logging.ERROR):
                self.assertEqual(self.fetch("/percent").code, 503)
