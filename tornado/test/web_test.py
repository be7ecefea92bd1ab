"""Tests of tornado.web: handlers, applications, errors, cookies and output.

Every test talks to a real `HTTPServer` on loopback through `WebTestCase`,
an ``AsyncHTTPTestCase`` that records requests instead of logging them.  Signed cookies, XSRF, templates and the ready-made
handlers are in ``web_security_test``, ``web_render_test`` and
``web_static_test``.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import json
import logging
import os
import socket
import tempfile
import unittest
import urllib.parse
from typing import Any, cast

from tornado import gen, locale
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.log import access_log, app_log, gen_log
from tornado.routing import PathMatches, Rule
from tornado.test.util import server_request
from tornado.testing import (
    AsyncHTTPTestCase,
    AsyncTestCase,
    ExpectLog,
    bind_unused_port,
    gen_test,
)
from tornado.web import (
    Application,
    ErrorHandler,
    Finish,
    HTTPError,
    MissingArgumentError,
    OutputTransform,
    RequestHandler,
    StaticFileHandler,
    URLSpec,
    authenticated,
    stream_request_body,
    url,
)

CSV_TRANSLATIONS = os.path.join(os.path.dirname(__file__), "csv_translations")


class WebTestCase(AsyncHTTPTestCase):
    """Serves ``get_app()`` on a loopback port; `fetch` talks to it.

    Requests are recorded in `logged` (as ``(status, method, path)``)
    instead of being logged to ``tornado.access``, unless a test passes
    its own ``log_function``.
    """

    def get_handlers(self) -> list[Any]:
        return []

    def get_app_kwargs(self) -> dict[str, Any]:
        return {}

    def get_app(self) -> Application:
        settings: dict[str, Any] = {"log_function": self._record_request}
        settings.update(self.get_app_kwargs())
        return Application(self.get_handlers(), **settings)

    def _record_request(self, handler: RequestHandler) -> None:
        request = handler.request
        self.logged.append((handler.get_status(), request.method, request.path))

    def setUp(self) -> None:
        StaticFileHandler.reset()
        self.logged: list[Any] = []
        super().setUp()

    def fetch(
        self, path: str, raise_error: bool = False, **kwargs: Any
    ) -> HTTPResponse:
        """Fetch ``path`` synchronously, without following redirects."""
        kwargs.setdefault("follow_redirects", False)
        if "body" in kwargs and "method" not in kwargs:
            kwargs["method"] = "POST"
        return super().fetch(path, raise_error, **kwargs)

    def raw_request(self, data: bytes) -> bytes:
        """Send raw bytes on a new connection; return all the server sends."""

        async def exchange() -> bytes:
            stream = IOStream(socket.socket())
            await stream.connect(("127.0.0.1", self.get_http_port()))
            await stream.write(data)
            return await stream.read_until_close()

        return cast(bytes, self.io_loop.run_sync(exchange))

    def raw_get(self, path: str, headers: str = "") -> bytes:
        """GET ``path`` exactly as written (no client-side normalization)."""
        request = (
            f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
        )
        return self.raw_request(request.encode("latin1"))


# ---------------------------------------------------------------------------
# Handlers used below


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class WriteHandler(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "bytes":
            self.write(b"\xe2\x82\xac bytes")
        elif kind == "text":
            self.write("\u20ac text")
        elif kind == "dict":
            self.write({"a": [1, 2], "b": "\u20ac"})
        elif kind == "list":
            self.write([1, 2])  # type: ignore[arg-type]
        elif kind == "several":
            self.write("a")
            self.write(b"b")
            self.finish("c")


class ArgsHandler(RequestHandler):
    def get(self) -> None:
        self.write(self._collect())

    def post(self) -> None:
        self.write(self._collect())

    def _collect(self) -> dict[str, Any]:
        source = self.get_query_argument("source", "all")
        getters = {
            "all": (self.get_argument, self.get_arguments),
            "query": (self.get_query_argument, self.get_query_arguments),
            "body": (self.get_body_argument, self.get_body_arguments),
        }
        one, many = getters[source]
        return {
            "last": one("x", None),
            "all": many("x"),
            "raw": many("x", strip=False),
            "required": one("needed") if self.get_query_argument("require", "") else "",
        }


class PathArgsHandler(RequestHandler):
    def get(self, *args: str, **kwargs: str) -> None:
        self.write({"args": list(args), "kwargs": kwargs})


class LifecycleHandler(RequestHandler):
    events: list[str] = []

    def initialize(self, label: str) -> None:
        self.events.append(f"initialize {label}")

    async def prepare(self) -> None:
        await asyncio.sleep(0)
        self.events.append("prepare")
        if self.get_argument("stop", None):
            self.finish("stopped in prepare")

    async def get(self) -> None:
        await gen.moment
        self.events.append("get")
        self.write("got")

    def on_finish(self) -> None:
        self.events.append("on_finish")


class StatusHandler(RequestHandler):
    def get(self) -> None:
        code = int(self.get_argument("code"))
        reason = self.get_argument("reason", None)
        self.set_status(code, reason=reason)
        if code not in (204, 304):
            self.write("body")


class HeaderHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("X-Int", 42)
        self.set_header("X-Date", datetime.datetime(2020, 1, 2, 3, 4, 5))
        self.set_header("X-Bytes", b"raw")
        self.add_header("X-Multi", "one")
        self.add_header("X-Multi", "two")
        self.set_header("X-Removed", "gone")
        self.clear_header("X-Removed")
        self.clear_header("Server")

    def post(self) -> None:
        # Used with hostile input: must fail, never split the response.
        name = self.get_argument("name", "X-Test")
        value = self.get_argument("value", strip=False)
        self.set_header(name, value)
        self.write("not reached")


class CookieHandler(RequestHandler):
    def get(self, action: str) -> None:
        if action == "read":
            self.write({"a": self.get_cookie("a"), "z": self.get_cookie("z", "dflt")})
        elif action == "set":
            self.set_cookie("plain", "value")
            self.set_cookie("quoted", "a,b;c")
            self.set_cookie(
                "full",
                "v",
                domain="example.com",
                path="/sub",
                max_age=60,
                httponly=True,
                secure=True,
                samesite="Strict",
                partitioned=True,
            )
            self.set_cookie("dated", "d", expires_days=1)
            self.set_cookie("twice", "first")
            self.set_cookie("twice", "second")
        elif action == "clear":
            self.clear_cookie("a", path="/p", domain="example.com")
        elif action == "clear_all":
            self.clear_all_cookies()
        elif action == "bad":
            self.set_cookie("name", self.get_argument("value", strip=False))
        elif action == "badname":
            self.set_cookie(self.get_argument("name", strip=False), "v")


class RedirectingHandler(RequestHandler):
    def get(self) -> None:
        how = self.get_argument("how")
        if how == "temporary":
            self.redirect("/target")
        elif how == "permanent":
            self.redirect("/target", permanent=True)
        elif how == "see_other":
            self.redirect("/target", status=303)
        elif how == "bad_status":
            self.redirect("/target", status=200)
        elif how == "after_flush":
            self.write("partial")
            self.flush()
            self.redirect("/target")


class ErrorsHandler(RequestHandler):
    def get(self) -> None:
        kind = self.get_argument("kind")
        if kind == "http":
            raise HTTPError(418, "teapot %s", "details", reason="I'm a teapot")
        if kind == "http_plain":
            raise HTTPError(403)
        if kind == "crash":
            raise ZeroDivisionError("boom")
        if kind == "finish":
            self.set_status(401)
            self.set_header("WWW-Authenticate", "Basic")
            raise Finish("custom unauthorized")
        if kind == "send_error":
            self.send_error(503, reason="Later")
            return
        if kind == "missing":
            self.get_argument("absent")


class CustomErrorPageHandler(RequestHandler):
    def get(self) -> None:
        raise HTTPError(404)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.write({"error": status_code, "has_exc": "exc_info" in kwargs})


class FinishTwiceHandler(RequestHandler):
    def get(self) -> None:
        self.finish("once")
        try:
            self.finish()
        except RuntimeError as e:
            self.application.settings["finish_error"] = str(e)
        try:
            self.write("more")
        except RuntimeError as e:
            self.application.settings["write_error"] = str(e)


class FlushHandler(RequestHandler):
    async def get(self) -> None:
        self.write("first ")
        flushed = self.flush()
        await flushed
        self.write("second")
        finished = self.finish()
        await finished
        self.application.settings["flushed"] = (flushed.done(), finished.done())


class EtagHandler(RequestHandler):
    def get(self) -> None:
        self.write("content for etag")


class NoEtagHandler(RequestHandler):
    def compute_etag(self) -> str | None:
        return None

    def get(self) -> None:
        self.write("no etag here")


class MethodsHandler(RequestHandler):
    SUPPORTED_METHODS = RequestHandler.SUPPORTED_METHODS + ("PROPFIND",)

    def get(self) -> None:
        self.write("GET")

    def put(self) -> None:
        self.write("PUT " + self.request.body.decode())

    def propfind(self) -> None:
        self.write("PROPFIND")


class UserHandler(RequestHandler):
    def get_current_user(self) -> str | None:
        return self.get_cookie("user")

    @authenticated
    def get(self) -> None:
        self.write(f"hello {self.current_user}")

    @authenticated
    def post(self) -> None:
        self.write("posted")


class AsyncUserHandler(RequestHandler):
    async def prepare(self) -> None:
        await gen.moment
        self.current_user = "async-user"

    @authenticated
    def get(self) -> None:
        self.write(str(self.current_user))


class LocaleHandler(RequestHandler):
    def get_user_locale(self) -> Any:
        if self.get_argument("user_locale", None):
            return locale.get(self.get_argument("user_locale"))
        return None

    def get(self) -> None:
        self.write(self.locale.code)


@stream_request_body
class StreamingHandler(RequestHandler):
    def prepare(self) -> None:
        self.chunks: list[bytes] = []
        self.prepared = True

    async def data_received(self, chunk: bytes) -> None:
        assert self.prepared
        self.chunks.append(chunk)
        await gen.moment

    def put(self) -> None:
        self.write({"chunks": len(self.chunks), "size": sum(map(len, self.chunks))})


class DetachHandler(RequestHandler):
    async def get(self) -> None:
        stream = self.detach()
        await stream.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ndetached")
        stream.close()


class LongPollHandler(RequestHandler):
    closed = Event()

    async def get(self) -> None:
        self.waiting = Event()
        self.application.settings["poll_started"].set()
        await self.waiting.wait()

    def on_connection_close(self) -> None:
        LongPollHandler.closed.set()
        self.waiting.set()


class FormHandler(RequestHandler):
    def post(self) -> None:
        files = {
            name: [f.filename for f in fs] for name, fs in self.request.files.items()
        }
        self.write({"args": self.get_body_arguments("a"), "files": files})


class FallbackTarget(RequestHandler):
    def get(self) -> None:
        self.write("default handler " + self.request.path)


# ---------------------------------------------------------------------------
# Tests


class BasicsTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            ("/hello", HelloHandler),
            (r"/write/(\w+)", WriteHandler),
            ("/args", ArgsHandler),
            (r"/path/([^/]+)/(.*)", PathArgsHandler),
            (r"/named/(?P<first>[^/]+)/(?P<second>.*)", PathArgsHandler),
            ("/lifecycle", LifecycleHandler, {"label": "L"}),
            ("/methods", MethodsHandler),
            ("/form", FormHandler),
        ]

    def test_hello(self) -> None:
        response = self.fetch("/hello")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello, world")
        self.assertEqual(response.headers["Content-Type"], "text/html; charset=UTF-8")
        self.assertEqual(response.headers["Content-Length"], "12")
        self.assertTrue(response.headers["Server"].startswith("TornadoServer/"))
        self.assertIn("Date", response.headers)
        self.assertEqual(self.logged, [(200, "GET", "/hello")])

    def test_write_kinds(self) -> None:
        self.assertEqual(self.fetch("/write/bytes").body, b"\xe2\x82\xac bytes")
        self.assertEqual(self.fetch("/write/text").body, "\u20ac text".encode())
        response = self.fetch("/write/dict")
        self.assertEqual(json.loads(response.body), {"a": [1, 2], "b": "\u20ac"})
        self.assertEqual(
            response.headers["Content-Type"], "application/json; charset=UTF-8"
        )
        self.assertEqual(self.fetch("/write/several").body, b"abc")

    def test_write_list_is_refused(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = self.fetch("/write/list")
        self.assertEqual(response.code, 500)
        self.assertNotIn(b"Lists not accepted", response.body)

    def test_arguments(self) -> None:
        response = self.fetch("/args?x=1&x=+2+")
        self.assertEqual(
            json.loads(response.body),
            {"last": "2", "all": ["1", "2"], "raw": ["1", " 2 "], "required": ""},
        )

    def test_query_and_body_arguments_are_separate(self) -> None:
        body = "x=frombody"
        merged = json.loads(self.fetch("/args?x=fromquery", body=body).body)
        self.assertEqual(merged["all"], ["fromquery", "frombody"])
        query = json.loads(self.fetch("/args?x=q&source=query", body=body).body)
        self.assertEqual(query["all"], ["q"])
        only_body = json.loads(self.fetch("/args?x=q&source=body", body=body).body)
        self.assertEqual(only_body["all"], ["frombody"])

    def test_control_characters_are_replaced(self) -> None:
        data = json.loads(self.fetch("/args?x=a%01b%0Ac").body)
        self.assertEqual(data["last"], "a b\nc")

    def test_missing_argument_is_400(self) -> None:
        with ExpectLog(gen_log, ".*Missing argument needed", level=logging.WARNING):
            response = self.fetch("/args?require=1")
        self.assertEqual(response.code, 400)
        self.assertEqual(self.logged, [(400, "GET", "/args")])

    def test_invalid_utf8_argument_is_400(self) -> None:
        with ExpectLog(gen_log, ".*Invalid unicode in x", level=logging.WARNING):
            response = self.fetch("/args?x=%FF")
        self.assertEqual(response.code, 400)

    def test_path_args_are_decoded(self) -> None:
        data = json.loads(self.fetch("/path/a%20b/c%2Fd/%E2%82%AC").body)
        self.assertEqual(data, {"args": ["a b", "c/d/\u20ac"], "kwargs": {}})
        data = json.loads(self.fetch("/named/one/two").body)
        self.assertEqual(
            data, {"args": [], "kwargs": {"first": "one", "second": "two"}}
        )

    def test_invalid_utf8_path_is_400(self) -> None:
        with ExpectLog(gen_log, ".*Invalid unicode in url", level=logging.WARNING):
            self.assertEqual(self.fetch("/path/%FF/x").code, 400)

    def test_lifecycle_order(self) -> None:
        LifecycleHandler.events = []
        self.assertEqual(self.fetch("/lifecycle").body, b"got")
        self.assertEqual(
            LifecycleHandler.events, ["initialize L", "prepare", "get", "on_finish"]
        )

    def test_prepare_can_finish(self) -> None:
        LifecycleHandler.events = []
        self.assertEqual(self.fetch("/lifecycle?stop=1").body, b"stopped in prepare")
        self.assertEqual(
            LifecycleHandler.events, ["initialize L", "prepare", "on_finish"]
        )

    def test_unimplemented_method_is_405_with_allow(self) -> None:
        response = self.fetch("/hello", method="DELETE")
        self.assertEqual(response.code, 405)
        self.assertEqual(response.headers["Allow"], "GET")
        response = self.fetch("/methods", method="POST", body="")
        self.assertEqual(response.code, 405)
        self.assertEqual(response.headers["Allow"], "GET, PUT, PROPFIND")

    def test_custom_supported_method(self) -> None:
        response = self.fetch(
            "/methods", method="PROPFIND", allow_nonstandard_methods=True
        )
        self.assertEqual(response.body, b"PROPFIND")
        self.assertEqual(self.fetch("/methods", method="PUT", body="x").body, b"PUT x")

    def test_unsupported_method_is_405(self) -> None:
        response = self.fetch(
            "/hello", method="PROPFIND", allow_nonstandard_methods=True
        )
        self.assertEqual(response.code, 405)

    def test_head_without_handler_method(self) -> None:
        self.assertEqual(self.fetch("/hello", method="HEAD").code, 405)

    def test_unknown_path_is_404(self) -> None:
        response = self.fetch("/nowhere")
        self.assertEqual(response.code, 404)
        self.assertIn(b"404: Not Found", response.body)

    def test_form_and_multipart_bodies(self) -> None:
        response = self.fetch("/form", body="a=1&a=2")
        self.assertEqual(json.loads(response.body), {"args": ["1", "2"], "files": {}})
        boundary = "XyZ"
        body = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="a"\r\n\r\nfield\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="up"; filename="f.txt"\r\n'
            "Content-Type: text/plain\r\n\r\ncontent\r\n"
            f"--{boundary}--\r\n"
        )
        response = self.fetch(
            "/form",
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        self.assertEqual(
            json.loads(response.body), {"args": ["field"], "files": {"up": ["f.txt"]}}
        )

    def test_malformed_bodies_are_400(self) -> None:
        bad_bodies = [
            ("multipart/form-data; boundary=XyZ", "--XyZ\r\nno headers end"),
            ("multipart/form-data", "--XyZ--\r\n"),  # no boundary
            ("multipart/form-data; boundary=XyZ", "--XyZ\r\nX: y\r\n\r\nv\r\n--XyZ--"),
        ]
        for content_type, body in bad_bodies:
            with self.subTest(content_type=content_type, body=body):
                with ExpectLog(gen_log, "400 POST /form", level=logging.WARNING):
                    response = self.fetch(
                        "/form", body=body, headers={"Content-Type": content_type}
                    )
                self.assertEqual(response.code, 400)
                self.assertNotIn(b"Traceback", response.body)


class StatusAndHeadersTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            ("/status", StatusHandler),
            ("/headers", HeaderHandler),
            ("/etag", EtagHandler),
            ("/noetag", NoEtagHandler),
        ]

    def test_custom_reason(self) -> None:
        response = self.fetch("/status?code=299&reason=Fine+Indeed")
        self.assertEqual((response.code, response.reason), (299, "Fine Indeed"))

    def test_standard_and_unknown_reasons(self) -> None:
        self.assertEqual(self.fetch("/status?code=201").reason, "Created")
        self.assertEqual(self.fetch("/status?code=599").reason, "Unknown")

    def test_reason_with_newline_becomes_unknown(self) -> None:
        response = self.fetch("/status?code=200&reason=a%0D%0AX-Evil:+1")
        self.assertEqual((response.code, response.reason), (200, "Unknown"))
        self.assertNotIn("X-Evil", response.headers)

    def test_no_body_statuses(self) -> None:
        response = self.fetch("/status?code=204")
        self.assertEqual((response.code, response.body), (204, b""))
        self.assertNotIn("Content-Type", response.headers)
        self.assertNotIn("Content-Length", response.headers)

    def test_header_conversions(self) -> None:
        response = self.fetch("/headers")
        self.assertEqual(response.headers["X-Int"], "42")
        self.assertEqual(response.headers["X-Date"], "Thu, 02 Jan 2020 03:04:05 GMT")
        self.assertEqual(response.headers["X-Bytes"], "raw")
        self.assertEqual(response.headers.get_list("X-Multi"), ["one", "two"])
        self.assertNotIn("X-Removed", response.headers)
        self.assertNotIn("Server", response.headers)

    def test_header_injection_is_refused(self) -> None:
        hostile = [
            {"value": "a\r\nX-Injected: 1"},
            {"value": "a\nX-Injected: 1"},
            {"value": "a\rb"},
            {"value": "a\x0cb"},
            {"name": "X-Bad\r\nX-Injected", "value": "1"},
            {"name": "Bad Name", "value": "1"},
        ]
        for fields in hostile:
            with self.subTest(fields=fields):
                body = urllib.parse.urlencode(fields)
                with ExpectLog(
                    app_log, "Uncaught exception", level=logging.ERROR
                ) as log:
                    response = self.fetch("/headers", body=body)
                self.assertEqual(response.code, 500)
                self.assertNotIn("X-Injected", response.headers)
                self.assertNotIn(b"not reached", response.body)
                self.assertTrue(log.logged_stack)

    def test_etag_and_304(self) -> None:
        response = self.fetch("/etag")
        etag = response.headers["Etag"]
        self.assertTrue(etag.startswith('"') and etag.endswith('"'))
        for sent in [etag, f"W/{etag}", f'"other", {etag}', "*"]:
            with self.subTest(sent=sent):
                cached = self.fetch("/etag", headers={"If-None-Match": sent})
                self.assertEqual((cached.code, cached.body), (304, b""))
                self.assertNotIn("Content-Length", cached.headers)
        other = self.fetch("/etag", headers={"If-None-Match": '"nope"'})
        self.assertEqual(other.code, 200)

    def test_compute_etag_none(self) -> None:
        response = self.fetch("/noetag", headers={"If-None-Match": "*"})
        self.assertEqual(response.code, 200)
        self.assertNotIn("Etag", response.headers)


class CookieTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [(r"/cookie/(\w+)", CookieHandler)]

    def test_read_cookies(self) -> None:
        response = self.fetch("/cookie/read", headers={"Cookie": "a=1; b=2"})
        self.assertEqual(json.loads(response.body), {"a": "1", "z": "dflt"})

    def test_set_cookie_attributes(self) -> None:
        cookies = self.fetch("/cookie/set").headers.get_list("Set-Cookie")
        self.assertEqual(cookies[0], "plain=value; Path=/")
        self.assertEqual(cookies[1], 'quoted="a\\054b\\073c"; Path=/')
        full = cookies[2]
        for attribute in [
            "full=v",
            "Domain=example.com",
            "Path=/sub",
            "Max-Age=60",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Partitioned",
        ]:
            self.assertIn(attribute, full.split("; "))
        self.assertRegex(cookies[3], r"^dated=d; expires=\w{3}, \d\d \w{3} \d{4} ")
        self.assertEqual(cookies[4], "twice=second; Path=/")
        self.assertEqual(len(cookies), 5)

    def test_clear_cookie(self) -> None:
        cookie = self.fetch("/cookie/clear").headers["Set-Cookie"]
        parts = cookie.split("; ")
        self.assertEqual(parts[0], 'a=""')
        self.assertIn("Path=/p", parts)
        self.assertIn("Domain=example.com", parts)
        self.assertIn("Max-Age=0", parts)
        expires = [p for p in parts if p.startswith("expires=")][0]
        year = int(expires.split()[3])
        self.assertLess(year, datetime.datetime.now().year + 1)

    def test_clear_all_cookies(self) -> None:
        response = self.fetch("/cookie/clear_all", headers={"Cookie": "a=1; b=2"})
        names = sorted(c.split("=")[0] for c in response.headers.get_list("Set-Cookie"))
        self.assertEqual(names, ["a", "b"])

    def test_unsafe_cookie_values_are_refused(self) -> None:
        for value in ["a b", "a\r\nSet-Cookie: evil=1", "a\nb", "a\x0bb"]:
            with self.subTest(value=value):
                query = urllib.parse.urlencode({"value": value})
                with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
                    response = self.fetch(f"/cookie/bad?{query}")
                self.assertEqual(response.code, 500)
                self.assertNotIn("Set-Cookie", response.headers)

    def test_unsafe_cookie_names_are_refused(self) -> None:
        for name in ["a b", "a=b", "", "x\r\ny"]:
            with self.subTest(name=name):
                query = urllib.parse.urlencode({"name": name})
                with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
                    response = self.fetch(f"/cookie/badname?{query}")
                self.assertEqual(response.code, 500)


class OutputTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            ("/redirect", RedirectingHandler),
            ("/errors", ErrorsHandler),
            ("/custom_error", CustomErrorPageHandler),
            ("/finish_twice", FinishTwiceHandler),
            ("/flush", FlushHandler),
            ("/detach", DetachHandler),
            ("/poll", LongPollHandler),
        ]

    def test_redirects(self) -> None:
        for how, code in [("temporary", 302), ("permanent", 301), ("see_other", 303)]:
            with self.subTest(how=how):
                response = self.fetch(f"/redirect?how={how}")
                self.assertEqual(response.code, code)
                self.assertEqual(response.headers["Location"], "/target")

    def test_redirect_with_bad_status(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            self.assertEqual(self.fetch("/redirect?how=bad_status").code, 500)

    def test_redirect_after_flush(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            with ExpectLog(gen_log, "Cannot send error response", level=logging.ERROR):
                response = self.fetch("/redirect?how=after_flush")
        self.assertEqual((response.code, response.body), (200, b"partial"))

    def test_http_error(self) -> None:
        with ExpectLog(
            gen_log, "418 GET /errors.*teapot details", level=logging.WARNING
        ):
            response = self.fetch("/errors?kind=http")
        self.assertEqual((response.code, response.reason), (418, "I'm a teapot"))
        self.assertIn(b"418: I&#x27;m a teapot", response.body)
        self.assertNotIn(b"details", response.body)

    def test_http_error_without_message_is_not_logged(self) -> None:
        response = self.fetch("/errors?kind=http_plain")
        self.assertEqual(response.code, 403)
        self.assertEqual(self.logged, [(403, "GET", "/errors")])

    def test_uncaught_exception_is_500_without_traceback(self) -> None:
        with ExpectLog(app_log, "Uncaught exception GET /errors", level=logging.ERROR):
            response = self.fetch("/errors?kind=crash")
        self.assertEqual(response.code, 500)
        self.assertNotIn(b"Traceback", response.body)
        self.assertNotIn(b"boom", response.body)

    def test_finish_exception_keeps_response(self) -> None:
        response = self.fetch("/errors?kind=finish")
        self.assertEqual(response.code, 401)
        self.assertEqual(response.headers["WWW-Authenticate"], "Basic")
        self.assertEqual(response.body, b"custom unauthorized")

    def test_send_error_with_reason(self) -> None:
        response = self.fetch("/errors?kind=send_error")
        self.assertEqual((response.code, response.reason), (503, "Later"))

    def test_custom_write_error(self) -> None:
        response = self.fetch("/custom_error")
        self.assertEqual(response.code, 404)
        self.assertEqual(json.loads(response.body), {"error": 404, "has_exc": True})

    def test_finish_twice_and_write_after_finish(self) -> None:
        self.assertEqual(self.fetch("/finish_twice").body, b"once")
        self.assertEqual(self._app.settings["finish_error"], "finish() called twice")
        self.assertEqual(
            self._app.settings["write_error"], "Cannot write() after finish()"
        )

    def test_flush_and_finish_return_futures(self) -> None:
        self.assertEqual(self.fetch("/flush").body, b"first second")
        self.assertEqual(self._app.settings["flushed"], (True, True))

    def test_detach(self) -> None:
        self.assertEqual(self.fetch("/detach").body, b"detached")

    def test_connection_close_is_noticed(self) -> None:
        LongPollHandler.closed = Event()
        started = self._app.settings["poll_started"] = Event()

        async def leave_early() -> None:
            stream = IOStream(socket.socket())
            await stream.connect(("127.0.0.1", self.get_http_port()))
            await stream.write(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
            await started.wait()
            stream.close()
            await LongPollHandler.closed.wait()

        self.io_loop.run_sync(leave_early, timeout=5)


class ServeTracebackTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/errors", ErrorsHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"serve_traceback": True}

    def test_traceback_is_served(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = self.fetch("/errors?kind=crash")
        self.assertEqual(response.code, 500)
        self.assertEqual(response.headers["Content-Type"], "text/plain")
        self.assertIn(b"Traceback", response.body)
        self.assertIn(b"ZeroDivisionError: boom", response.body)


class DebugSettingTest(unittest.TestCase):
    def test_debug_implies_other_settings(self) -> None:
        app = Application(debug=True, autoreload=False)
        self.assertEqual(app.settings["autoreload"], False)
        self.assertFalse(app.settings["compiled_template_cache"])
        self.assertFalse(app.settings["static_hash_cache"])
        self.assertTrue(app.settings["serve_traceback"])

    def test_explicit_settings_win(self) -> None:
        app = Application(debug=True, autoreload=False, serve_traceback=False)
        self.assertFalse(app.settings["serve_traceback"])


class UserAndLocaleTest(WebTestCase):
    def setUp(self) -> None:
        super().setUp()
        locale.load_translations(CSV_TRANSLATIONS)

    def tearDown(self) -> None:
        with tempfile.TemporaryDirectory() as empty:
            locale.load_translations(empty)
        super().tearDown()

    def get_handlers(self) -> list[Any]:
        return [
            ("/user", UserHandler),
            ("/async_user", AsyncUserHandler),
            ("/locale", LocaleHandler),
        ]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"login_url": "/login"}

    def test_authenticated_user(self) -> None:
        response = self.fetch("/user", headers={"Cookie": "user=ann"})
        self.assertEqual(response.body, b"hello ann")

    def test_anonymous_get_redirects_to_login(self) -> None:
        response = self.fetch("/user?a=1")
        self.assertEqual(response.code, 302)
        self.assertEqual(response.headers["Location"], "/login?next=%2Fuser%3Fa%3D1")

    def test_anonymous_post_is_403(self) -> None:
        self.assertEqual(self.fetch("/user", body="").code, 403)

    def test_user_set_in_async_prepare(self) -> None:
        self.assertEqual(self.fetch("/async_user").body, b"async-user")

    def test_absolute_login_url_gets_full_next(self) -> None:
        self._app.settings["login_url"] = "https://auth.example/login"
        location = self.fetch("/user").headers["Location"]
        next_url = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["next"]
        self.assertEqual(next_url, [self.get_url("/user")])

    def test_login_url_with_query_is_kept(self) -> None:
        self._app.settings["login_url"] = "/login?from=app"
        self.assertEqual(self.fetch("/user").headers["Location"], "/login?from=app")

    def test_missing_login_url_setting(self) -> None:
        del self._app.settings["login_url"]
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            self.assertEqual(self.fetch("/user").code, 500)

    def test_browser_locale(self) -> None:
        def locale_for(header: str) -> bytes:
            return self.fetch("/locale", headers={"Accept-Language": header}).body

        self.assertEqual(locale_for("fr-FR,fr;q=0.9"), b"fr_FR")
        self.assertEqual(locale_for("de;q=0.8, fr-FR;q=0.9"), b"fr_FR")
        self.assertEqual(locale_for("de"), b"en_US")
        self.assertEqual(locale_for("xx;q=bogus"), b"en_US")
        self.assertEqual(self.fetch("/locale").body, b"en_US")

    def test_user_locale_wins(self) -> None:
        response = self.fetch(
            "/locale?user_locale=fr_FR", headers={"Accept-Language": "de"}
        )
        self.assertEqual(response.body, b"fr_FR")


class StreamingBodyTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/stream", StreamingHandler)]

    def test_body_is_streamed(self) -> None:
        chunks = b"".join(b"3e8\r\n" + b"x" * 1000 + b"\r\n" for _ in range(4))
        response = self.raw_request(
            b"PUT /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
        )
        head, _, body = response.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        data = json.loads(body)
        self.assertEqual(data["size"], 4000)
        self.assertGreaterEqual(data["chunks"], 1)

    def test_decorator_requires_handler_class(self) -> None:
        with self.assertRaisesRegex(TypeError, "RequestHandler"):
            stream_request_body(object)  # type: ignore[type-var]


class ApplicationTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            url(r"/hello", HelloHandler, name="hello"),
            URLSpec(r"/path/(\d+)/(\w+)", PathArgsHandler, name="path"),
            Rule(PathMatches("/rule"), HelloHandler),
            ("/by_name", "tornado.test.web_test.HelloHandler"),
            ("/nested/.*", [("/nested/inner", HelloHandler)]),
        ]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"default_host": "default.example"}

    def test_handler_list_forms(self) -> None:
        for path in ["/hello", "/rule", "/by_name", "/nested/inner"]:
            with self.subTest(path=path):
                self.assertEqual(self.fetch(path).body, b"Hello, world")
        self.assertEqual(self.fetch("/nested/other").code, 404)

    def test_reverse_url(self) -> None:
        self.assertEqual(self._app.reverse_url("hello"), "/hello")
        self.assertEqual(self._app.reverse_url("path", 12, "abc"), "/path/12/abc")
        with self.assertRaisesRegex(KeyError, "nothing not found"):
            self._app.reverse_url("nothing")

    def test_host_specific_handlers(self) -> None:
        self._app.add_handlers(r"www\.example\.com", [("/hello", FallbackTarget)])
        self._app.add_handlers(r"default\.example", [("/only_default", FallbackTarget)])
        host = {"Host": "www.example.com"}
        self.assertEqual(
            self.fetch("/hello", headers=host).body, b"default handler /hello"
        )
        self.assertEqual(self.fetch("/hello").body, b"Hello, world")
        # Unknown hosts fall back to the default host's handlers...
        self.assertEqual(
            self.fetch("/only_default").body, b"default handler /only_default"
        )
        # ...but not behind a proxy.
        behind_proxy = {"X-Real-Ip": "10.0.0.1"}
        self.assertEqual(self.fetch("/only_default", headers=behind_proxy).code, 404)

    def test_default_handler_class(self) -> None:
        self._app.settings["default_handler_class"] = FallbackTarget
        self.assertEqual(self.fetch("/unmatched").body, b"default handler /unmatched")
        self._app.settings["default_handler_class"] = ErrorHandler
        self._app.settings["default_handler_args"] = {"status_code": 410}
        self.assertEqual(self.fetch("/unmatched").code, 410)

    def test_transforms_argument(self) -> None:
        app = Application([], transforms=[])
        self.assertEqual(app.transforms, [])
        app.add_transform(OutputTransformForTest)
        self.assertEqual(app.transforms, [OutputTransformForTest])


class OutputTransformForTest(OutputTransform):
    pass


class LogRequestTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/status", StatusHandler)]

    def get_app(self) -> Application:
        return Application(self.get_handlers())

    def test_levels_follow_status(self) -> None:
        for code, level in [
            (200, logging.INFO),
            (302, logging.INFO),
            (404, logging.WARNING),
            (503, logging.ERROR),
        ]:
            with self.subTest(code=code):
                pattern = rf"{code} GET /status\?code={code} \(127\.0\.0\.1\) [\d.]+ms"
                with ExpectLog(access_log, pattern, level=level):
                    self.fetch(f"/status?code={code}")


class ListenTest(AsyncTestCase):
    @gen_test
    async def test_listen_returns_server(self) -> None:
        sock, port = bind_unused_port()
        sock.close()
        app = Application([("/", HelloHandler)], log_function=lambda h: None)
        server = app.listen(port, address="127.0.0.1", max_body_size=1000)
        client = AsyncHTTPClient()
        try:
            response = await client.fetch(f"http://127.0.0.1:{port}/")
            self.assertEqual(response.body, b"Hello, world")
            with ExpectLog(gen_log, "Malformed HTTP message", level=logging.INFO):
                too_big = await client.fetch(
                    f"http://127.0.0.1:{port}/",
                    method="POST",
                    body="x" * 2000,
                    raise_error=False,
                )
            self.assertNotEqual(too_big.code, 200)
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()


class ErrorTypesTest(unittest.TestCase):
    def test_http_error_str(self) -> None:
        self.assertEqual(str(HTTPError(404)), "HTTP 404: Not Found")
        error = HTTPError(400, "bad %s", "thing", reason="Nope")
        self.assertEqual(str(error), "HTTP 400: Nope (bad thing)")
        self.assertEqual(error.get_message(), "bad thing")
        self.assertEqual(error.log_message, "bad %s")
        self.assertEqual(HTTPError(500, "100%").get_message(), "100%")
        self.assertEqual(str(HTTPError(599)), "HTTP 599: Unknown")

    def test_missing_argument_error(self) -> None:
        error = MissingArgumentError("name")
        self.assertEqual(error.arg_name, "name")
        self.assertEqual(error.status_code, 400)
        self.assertEqual(str(error), "HTTP 400: Bad Request (Missing argument name)")


class HandlerUnitTest(unittest.TestCase):
    """Handler methods that need no network, on a request without connection."""

    def make_handler(self, **settings: Any) -> RequestHandler:
        app = Application(**settings)
        request = server_request(uri="/x?a=1")
        return RequestHandler(app, request)

    def test_header_value_types(self) -> None:
        handler = self.make_handler()
        with self.assertRaisesRegex(TypeError, "Unsupported header value"):
            handler.set_header("X", 1.5)  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "Unsafe header value"):
            handler.add_header("X", "a\rb")
        with self.assertRaisesRegex(ValueError, "Invalid header name"):
            handler.set_header("X:Y", "v")

    def test_require_setting(self) -> None:
        handler = self.make_handler()
        with self.assertRaisesRegex(Exception, "'cookie_secret' setting"):
            handler.require_setting("cookie_secret", "secure cookies")

    def test_decode_argument(self) -> None:
        handler = self.make_handler()
        self.assertEqual(handler.decode_argument(b"\xe2\x82\xac"), "\u20ac")
        with self.assertRaises(HTTPError) as cm:
            handler.decode_argument(b"\xff", name="q")
        self.assertEqual(cm.exception.status_code, 400)

    def test_strip_must_be_bool(self) -> None:
        handler = self.make_handler()
        with self.assertRaisesRegex(TypeError, "strip"):
            handler.get_arguments("a", strip="no")  # type: ignore[arg-type]


_request_marker: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_marker", default="unset"
)


class ContextMarkingHandler(RequestHandler):
    def get(self, marker: str) -> None:
        previous = _request_marker.get()
        _request_marker.set(marker)
        self.write(f"{marker}:{previous};")


class WaitingHandler(RequestHandler):
    async def get(self) -> None:
        _request_marker.set("waiting")
        # asyncio.timeout(), for one, relies on the task being the handler's.
        first_task = asyncio.current_task()
        await asyncio.sleep(0)  # a bare yield to the loop
        await asyncio.sleep(0.001)  # waiting for a future
        same_task = asyncio.current_task() is first_task is not None
        self.write(f"{_request_marker.get()} in one task: {same_task}")


class ParkedForeverHandler(RequestHandler):
    async def get(self) -> None:
        self.settings["parked_task"].set_result(asyncio.current_task())
        await Event().wait()


class HandlerExecutionTest(WebTestCase):
    """Each handler runs in a task of its own, with its own context."""

    def get_handlers(self) -> list[Any]:
        return [
            ("/mark/(.*)", ContextMarkingHandler),
            ("/wait", WaitingHandler),
            ("/park", ParkedForeverHandler),
        ]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"parked_task": asyncio.Future()}

    @gen_test
    async def test_cancelled_handler_task_logs_nothing(self) -> None:
        # As when a loop shuts down with requests still waiting: the runner
        # fails the test if anything is logged.
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        await stream.write(b"GET /park HTTP/1.1\r\nHost: x\r\n\r\n")
        task = await self._app.settings["parked_task"]
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        stream.close()

    def test_context_changes_stay_with_their_request(self) -> None:
        response = self.raw_request(
            b"GET /mark/a HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /mark/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        self.assertIn(b"a:unset;", response)
        self.assertIn(b"b:unset;", response)
        self.assertEqual(_request_marker.get(), "unset")

    def test_handler_runs_in_its_own_task(self) -> None:
        response = self.fetch("/wait")
        self.assertEqual(response.body, b"waiting in one task: True")
        self.assertEqual(_request_marker.get(), "unset")
