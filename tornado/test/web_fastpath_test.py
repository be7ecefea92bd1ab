"""The web layer's shortcuts keep every overridable hook working.

`RequestHandler`, `Application` and the application's router skip calls to
hooks whose default does nothing, or build delegates without going through
``get_target_delegate``/``get_handler_delegate``, when the class at hand
does not override them.  Each test below overrides one such hook and checks,
over loopback, that it is still called and has its documented effect.
"""

from __future__ import annotations

import hashlib
import logging
import unittest
from typing import Any

from tornado import httputil
from tornado.log import access_log
from tornado.routing import Matcher, PathMatches, Rule
from tornado.testing import AsyncHTTPTestCase, ExpectLog
from tornado.web import Application, RequestHandler, _HandlerDelegate

calls: list[str] = []


class ClearOverride(RequestHandler):
    def clear(self) -> None:
        super().clear()
        calls.append("clear")
        self.set_header("X-Cleared", "yes")

    def get(self) -> None:
        self.write("cleared")


class DefaultHeaders(RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("X-Default", "1")
        self.set_header("Server", "custom")

    def get(self) -> None:
        self.write("hello")


class CheckEtagOverride(RequestHandler):
    def check_etag_header(self) -> bool:
        calls.append("check_etag_header")
        return True  # even without If-None-Match: always 304

    def get(self) -> None:
        self.write("cached")


class ComputeEtagOverride(RequestHandler):
    def compute_etag(self) -> str | None:
        return '"fixed"'

    def get(self) -> None:
        self.write("x")


class NoEtag(RequestHandler):
    def compute_etag(self) -> str | None:
        return None

    def get(self) -> None:
        self.write("x")


class SetEtagOverride(RequestHandler):
    def set_etag_header(self) -> None:
        self.set_header("Etag", '"from-set-etag-header"')

    def get(self) -> None:
        self.write("x")


class TwoWrites(RequestHandler):
    def get(self) -> None:
        self.write(b"hello, ")
        self.write("world")


class WritesText(RequestHandler):
    def get(self) -> None:
        self.write("caf\u00e9 ")
        self.write(StrSubclass("\u2603"))


class StrSubclass(str):
    pass


class BytesSubclass(bytes):
    pass


class WritesBytesSubclass(RequestHandler):
    def get(self) -> None:
        self.write(BytesSubclass(b"sub"))


class OnFinishAndPrepare(RequestHandler):
    def prepare(self) -> None:
        calls.append("prepare")

    def on_finish(self) -> None:
        calls.append("on_finish")

    def get(self) -> None:
        self.write("ok")


class InitializeNoKwargs(RequestHandler):
    def initialize(self) -> None:
        self.greeting = "initialized"

    def get(self) -> None:
        self.write(self.greeting)


class StatusOverride(RequestHandler):
    def get_status(self) -> int:
        return 503  # what the access log reports

    def get(self) -> None:
        self.write("ok")


class AfterHandlerMixin:
    """A base placed after RequestHandler: its __init__ runs through super()."""

    def __init__(self) -> None:
        super().__init__()
        self.mixed_in = "mixin initialized"


class MixedHandler(RequestHandler, AfterHandlerMixin):
    def get(self) -> None:
        self.write(self.mixed_in)


class Plain(RequestHandler):
    def get(self, *args: str) -> None:
        self.write("plain " + ",".join(args))


class RecordingApplication(Application):
    def get_handler_delegate(self, *args: Any, **kwargs: Any) -> _HandlerDelegate:
        calls.append("get_handler_delegate")
        return super().get_handler_delegate(*args, **kwargs)


class ExtraParamsMatcher(Matcher):
    """Matches everything, with a parameter no handler delegate takes."""

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        return {"unexpected": 1}


class SubPathMatches(PathMatches):
    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        calls.append("SubPathMatches.match")
        return super().match(request)


class QuietAccessLog(AsyncHTTPTestCase):
    """Requests go through the default `Application.log_request`; the access
    log drops its INFO records (successes), keeps the others."""

    def setUp(self) -> None:
        calls.clear()
        self._access_level = access_log.level
        access_log.setLevel(logging.WARNING)
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        access_log.setLevel(self._access_level)


class HookTest(QuietAccessLog):

    def get_app(self) -> Application:
        return Application(
            [
                ("/clear", ClearOverride),
                ("/default_headers", DefaultHeaders),
                ("/check_etag", CheckEtagOverride),
                ("/compute_etag", ComputeEtagOverride),
                ("/no_etag", NoEtag),
                ("/set_etag", SetEtagOverride),
                ("/two_writes", TwoWrites),
                ("/text", WritesText),
                ("/bytes_subclass", WritesBytesSubclass),
                ("/hooks", OnFinishAndPrepare),
                ("/initialize", InitializeNoKwargs),
                ("/status", StatusOverride),
                ("/mixed", MixedHandler),
                Rule(SubPathMatches("/sub/(.*)"), Plain),
                (r"/plain/([a-z]+)", Plain),
            ]
        )

    def test_clear_override_called_at_start(self) -> None:
        response = self.fetch("/clear")
        self.assertEqual(response.body, b"cleared")
        self.assertEqual(response.headers["X-Cleared"], "yes")
        self.assertEqual(calls, ["clear"])

    def test_set_default_headers(self) -> None:
        response = self.fetch("/default_headers")
        self.assertEqual(response.headers["X-Default"], "1")
        self.assertEqual(response.headers["Server"], "custom")

    def test_check_etag_header_override_called_without_if_none_match(self) -> None:
        response = self.fetch("/check_etag")
        self.assertEqual(response.code, 304)
        self.assertEqual(response.body, b"")
        self.assertEqual(calls, ["check_etag_header"])

    def test_compute_etag_override(self) -> None:
        response = self.fetch("/compute_etag")
        self.assertEqual(response.headers["Etag"], '"fixed"')
        response = self.fetch("/compute_etag", headers={"If-None-Match": '"fixed"'})
        self.assertEqual(response.code, 304)

    def test_compute_etag_none_sends_no_etag(self) -> None:
        response = self.fetch("/no_etag")
        self.assertEqual(response.code, 200)
        self.assertNotIn("Etag", response.headers)

    def test_set_etag_header_override(self) -> None:
        response = self.fetch("/set_etag")
        self.assertEqual(response.headers["Etag"], '"from-set-etag-header"')

    def test_default_etag_of_several_writes(self) -> None:
        response = self.fetch("/two_writes")
        self.assertEqual(response.body, b"hello, world")
        digest = hashlib.sha1(b"hello, world").hexdigest()
        self.assertEqual(response.headers["Etag"], f'"{digest}"')
        self.assertEqual(response.headers["Content-Length"], "12")
        response = self.fetch("/two_writes", headers={"If-None-Match": f'"{digest}"'})
        self.assertEqual(response.code, 304)

    def test_write_text_as_utf8(self) -> None:
        response = self.fetch("/text")
        self.assertEqual(response.body, "caf\u00e9 \u2603".encode())

    def test_write_bytes_subclass(self) -> None:
        response = self.fetch("/bytes_subclass")
        self.assertEqual(response.body, b"sub")

    def test_default_etag_of_one_write(self) -> None:
        # The SHA-1 of the body, whichever implementation computes it.
        response = self.fetch("/bytes_subclass")
        digest = hashlib.sha1(b"sub").hexdigest()
        self.assertEqual(response.headers["Etag"], f'"{digest}"')

    def test_prepare_and_on_finish(self) -> None:
        response = self.fetch("/hooks")
        self.assertEqual(response.body, b"ok")
        self.assertEqual(calls, ["prepare", "on_finish"])

    def test_initialize_without_kwargs(self) -> None:
        self.assertEqual(self.fetch("/initialize").body, b"initialized")

    def test_get_status_override_used_by_log_request(self) -> None:
        with ExpectLog(access_log, "503 GET /status", level=logging.ERROR):
            response = self.fetch("/status")
        self.assertEqual(response.code, 200)

    def test_base_after_request_handler_initialized(self) -> None:
        self.assertEqual(self.fetch("/mixed").body, b"mixin initialized")

    def test_path_matches_subclass_match_called(self) -> None:
        self.assertEqual(self.fetch("/sub/a%2Cb").body, b"plain a,b")
        self.assertEqual(calls, ["SubPathMatches.match"])

    def test_path_arguments(self) -> None:
        self.assertEqual(self.fetch("/plain/abc").body, b"plain abc")


class GetHandlerDelegateOverrideTest(QuietAccessLog):

    def get_app(self) -> Application:
        return RecordingApplication([("/", Plain), (r"/p/(\w+)", Plain)])

    def test_override_called(self) -> None:
        self.assertEqual(self.fetch("/").body, b"plain ")
        self.assertEqual(self.fetch("/p/x").body, b"plain x")
        self.assertEqual(calls, ["get_handler_delegate"] * 2)


class ExtraMatcherParamsTest(unittest.TestCase):
    def test_unexpected_parameter_still_refused(self) -> None:
        # get_handler_delegate takes no such keyword: routing fails as it
        # always did, whatever shortcut the router takes.
        app = Application([Rule(ExtraParamsMatcher(), Plain)])
        request = httputil.HTTPServerRequest(
            start_line=httputil.RequestStartLine("GET", "/", "HTTP/1.1")
        )
        with self.assertRaises(TypeError):
            app.find_handler(request)


class SetsCookie(RequestHandler):
    def get(self) -> None:
        if self.get_argument("set", None):
            self.set_cookie("flavour", "oat")
        self.write("cookie")


class OwnLengthAndEtag(RequestHandler):
    def get(self) -> None:
        self.set_header("Etag", '"mine"')
        self.set_header("Content-Length", "5")
        self.write("12345")


class WithKwargs(RequestHandler):
    def initialize(self, word: str) -> None:
        self.word = word

    def get(self, name: str) -> None:
        self.write(f"{self.word} {name}")


class EchoBody(RequestHandler):
    def post(self) -> None:
        self.write(self.request.body + b" " + self.get_body_argument("a").encode())


class HeadersReplaced(RequestHandler):
    def get(self) -> None:
        # A request whose headers are no longer an HTTPHeaders.
        self.request.headers = {"If-None-Match": "*"}  # type: ignore[assignment]
        self.write("replaced")


class HandlerStateTest(QuietAccessLog):
    """A handler's state starts anew with each request (class defaults), and
    the headers finish adds leave the handler's own alone."""

    def get_app(self) -> Application:
        return Application(
            [
                ("/cookie", SetsCookie),
                ("/own", OwnLengthAndEtag),
                (r"/kw/(\w+)", WithKwargs, {"word": "hello"}),
                ("/body", EchoBody),
                ("/replaced", HeadersReplaced),
            ]
        )

    def test_cookie_of_one_request_not_sent_with_the_next(self) -> None:
        response = self.fetch("/cookie?set=1")
        self.assertEqual(
            response.headers.get_list("Set-Cookie"), ["flavour=oat; Path=/"]
        )
        response = self.fetch("/cookie")
        self.assertNotIn("Set-Cookie", response.headers)
        self.assertEqual(response.body, b"cookie")

    def test_own_etag_and_content_length_kept(self) -> None:
        response = self.fetch("/own")
        self.assertEqual(response.headers["Etag"], '"mine"')
        self.assertEqual(response.headers["Content-Length"], "5")
        self.assertEqual(response.body, b"12345")
        # An Etag of the handler's own is not compared with If-None-Match.
        response = self.fetch("/own", headers={"If-None-Match": '"mine"'})
        self.assertEqual((response.code, response.body), (200, b"12345"))

    def test_initialize_and_path_arguments(self) -> None:
        self.assertEqual(self.fetch("/kw/world").body, b"hello world")

    def test_request_body_delivered(self) -> None:
        response = self.fetch("/body", method="POST", body="a=1")
        self.assertEqual(response.body, b"a=1 1")

    def test_if_none_match_in_replaced_headers(self) -> None:
        response = self.fetch("/replaced")
        self.assertEqual(response.code, 304)
