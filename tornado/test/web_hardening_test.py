"""Tests of what tornado.web does with hostile or careless values: reason
phrases, cookie attributes, header values, missing verbs, cancelled handlers."""

from __future__ import annotations

import asyncio
import http.cookies
import json
import logging
import sys
import unittest
import urllib.parse
from typing import Any

from tornado import gen
from tornado.concurrent import Future
from tornado.log import app_log
from tornado.template import DictLoader
from tornado.test.web_test import WebTestCase
from tornado.testing import ExpectLog, gen_test
from tornado.web import (
    HTTPError,
    MissingArgumentError,
    RequestHandler,
    UIModule,
    stream_request_body,
)
from tornado.websocket import WebSocketHandler, websocket_connect


class ReasonHandler(RequestHandler):
    def get(self) -> None:
        self.set_status(int(self.get_argument("code")), self.get_argument("reason"))

    def post(self) -> None:
        code = int(self.get_argument("code"))
        raise HTTPError(code, reason=self.get_argument("reason", None))


class RecordingErrorHandler(RequestHandler):
    def initialize(self, calls: list[int]) -> None:
        self.calls = calls

    def get(self) -> None:
        raise HTTPError(int(self.get_argument("code")))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.calls.append(status_code)
        super().write_error(status_code, **kwargs)


class ReasonPhraseTest(WebTestCase):
    def setUp(self) -> None:
        self.calls: list[int] = []
        super().setUp()

    def get_handlers(self) -> list[Any]:
        return [
            ("/reason", ReasonHandler),
            ("/error", RecordingErrorHandler, {"calls": self.calls}),
        ]

    def reason(self, code: int, reason: str, method: str = "GET") -> Any:
        query = urllib.parse.urlencode({"code": code, "reason": reason})
        if method == "GET":
            return self.fetch(f"/reason?{query}")
        return self.fetch("/reason", body=query)

    def test_invalid_reasons_become_unknown(self) -> None:
        for reason in ("a\r\nX-Evil: 1", "a<b", "tab\x7f", "\x00", "euro \u20ac"):
            with self.subTest(reason=reason):
                response = self.reason(299, reason)
                self.assertEqual((response.code, response.reason), (299, "Unknown"))
                self.assertNotIn("X-Evil", response.headers)

    def test_valid_reasons_are_kept(self) -> None:
        for reason in ("Fine Indeed", "tab\there", "caf\u00e9", "a > b & c"):
            with self.subTest(reason=reason):
                self.assertEqual(self.reason(299, reason).reason, reason)

    def test_error_page_never_echoes_markup(self) -> None:
        response = self.reason(400, "<script>alert(1)</script>", method="POST")
        self.assertEqual((response.code, response.reason), (400, "Unknown"))
        self.assertNotIn(b"<script>", response.body)
        self.assertIn(b"400: Unknown", response.body)
        response = self.reason(418, 'Tea & "biscuits"', method="POST")
        self.assertEqual(response.reason, 'Tea & "biscuits"')
        self.assertIn(b"418: Tea &amp; &quot;biscuits&quot;", response.body)

    def test_bodiless_error_statuses(self) -> None:
        for code in (304, 204):
            with self.subTest(code=code):
                response = self.fetch(f"/error?code={code}")
                self.assertEqual((response.code, response.body), (code, b""))
        # write_error is skipped for 304 only; for 204 it writes no body.
        self.assertEqual(self.calls, [204])


class CookieHandler(RequestHandler):
    def get(self) -> None:
        kwargs: dict[str, Any] = {
            name: values[0].decode() for name, values in self.request.arguments.items()
        }
        value = kwargs.pop("value", "v")
        name = kwargs.pop("name", "n")
        if "int_max_age" in kwargs:
            kwargs["max_age"] = int(kwargs.pop("int_max_age"))
        try:
            self.set_cookie(name, value, **kwargs)
        except (http.cookies.CookieError, ValueError) as e:
            self.write({"error": type(e).__name__, "message": str(e)})


class CookieAttributeTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/cookie", CookieHandler)]

    def set_cookie(self, **kwargs: str) -> Any:
        response = self.fetch("/cookie?" + urllib.parse.urlencode(kwargs))
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(response.body)
        return response.headers.get_list("Set-Cookie")

    def test_unsafe_attributes_raise_cookie_error(self) -> None:
        for attribute, bad in [
            ("domain", "a;b"),
            ("domain", "a b"),
            ("path", "/x\x01"),
            ("path", "/x;Secure"),
            ("samesite", "Lax; Domain=evil"),
            ("DoMaIn", "a;b"),
            ("comment", "a\x7fb"),
        ]:
            with self.subTest(attribute=attribute, bad=bad):
                result = self.set_cookie(**{attribute: bad})
                self.assertEqual(result["error"], "CookieError")
                self.assertEqual(
                    result["message"],
                    f"Invalid cookie attribute {attribute}={bad!r} for cookie 'n'",
                )

    def test_unsafe_name(self) -> None:
        for name in ("a b", "a;b", "a\tb"):
            with self.subTest(name=name):
                result = self.set_cookie(name=name)
                self.assertEqual(result["error"], "CookieError")
                self.assertEqual(
                    result["message"],
                    f"Invalid cookie attribute name={name!r} for cookie {name!r}",
                )

    def test_control_character_in_value(self) -> None:
        result = self.set_cookie(value="a\x01")
        self.assertEqual(
            result, {"error": "ValueError", "message": "Invalid cookie 'n': 'a\\x01'"}
        )

    def test_max_age_goes_through_int(self) -> None:
        result = self.set_cookie(max_age="1; Path=/x")
        self.assertEqual(result["error"], "ValueError")
        self.assertIn("Max-Age=60", self.set_cookie(max_age="60")[0].split("; "))
        (cookie,) = self.set_cookie(int_max_age="0")
        self.assertNotIn("max-age", cookie.lower())


class ResourceModule(UIModule):
    def render(self) -> str:
        return "module"

    def css_files(self) -> list[str]:
        return ["/a.css"]

    def embedded_css(self) -> str:
        return ".a {}"

    def html_head(self) -> str:
        return "<meta name=m>"


class RenderHandler(RequestHandler):
    def get(self) -> None:
        self.render("page.html")


class MissingArgumentAndRenderTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/render", RenderHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        page = "<html><head></head><body>{% module ResourceModule() %}</body></html>"
        return {
            "template_loader": DictLoader({"page.html": page}),
            # Loaders are cached by template path: a path of its own.
            "template_path": "web_hardening_test/templates",
            "ui_modules": {"ResourceModule": ResourceModule},
        }

    def test_missing_argument_message_is_formatted(self) -> None:
        error = MissingArgumentError("foo")
        self.assertEqual(error.log_message, "Missing argument foo")
        self.assertEqual(error.args, ())
        self.assertEqual(
            MissingArgumentError("100%").get_message(), "Missing argument 100%"
        )

    def test_each_head_block_ends_its_line(self) -> None:
        body = self.fetch("/render").body.decode()
        head = body[body.index("<head>") + 6 : body.index("</head>")]
        self.assertEqual(
            head,
            '<link href="/a.css" type="text/css" rel="stylesheet"/>\n'
            '<style type="text/css">\n.a {}\n</style>\n'
            "<meta name=m>\n",
        )


class GetOnlyHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("X-True", True)
        self.add_header("X-False", False)
        for value in (1.5, object(), None):
            try:
                self.set_header("X-Bad", value)  # type: ignore[arg-type]
            except TypeError:
                self.add_header("X-Refused", type(value).__name__)


class VerbsAndHeaderValuesTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/get_only", GetOnlyHandler)]

    def test_unimplemented_method_is_one_shared_function(self) -> None:
        unimplemented = RequestHandler._unimplemented_method
        for verb in ("head", "get", "post", "delete", "patch", "put", "options"):
            with self.subTest(verb=verb):
                self.assertIs(getattr(RequestHandler, verb), unimplemented)
                self.assertTrue(
                    getattr(GetOnlyHandler, verb) == unimplemented or verb == "get"
                )
        self.assertNotEqual(GetOnlyHandler.get, unimplemented)

    def test_unimplemented_verbs_answer_405(self) -> None:
        response = self.fetch("/get_only", body="")
        self.assertEqual(response.code, 405)
        self.assertEqual(response.headers["Allow"], "GET")

    def test_bool_header_values(self) -> None:
        headers = self.fetch("/get_only").headers
        self.assertEqual(headers["X-True"], "True")
        self.assertEqual(headers["X-False"], "False")
        self.assertEqual(headers.get_list("X-Refused"), ["float", "object", "NoneType"])
        self.assertNotIn("X-Bad", headers)


# ---------------------------------------------------------------------------
# Cancellation


class CancelHandler(RequestHandler):
    def initialize(self, test: CancellationTest) -> None:
        self.test = test

    async def get(self, kind: str) -> None:
        if kind == "raise":
            raise asyncio.CancelledError()
        if kind == "await":
            doomed: Future[None] = Future()
            doomed.cancel()
            await doomed
        if kind == "outside":
            task = asyncio.current_task()
            assert task is not None
            self.test.handler_task.set_result(task)
            await asyncio.Event().wait()


class CoroutineCancelHandler(RequestHandler):
    @gen.coroutine
    def get(self) -> Any:
        yield gen.moment
        raise asyncio.CancelledError()


@stream_request_body
class StreamingCancelHandler(RequestHandler):
    async def prepare(self) -> None:
        raise asyncio.CancelledError()

    def data_received(self, chunk: bytes) -> None:
        pass


class CancellingWebSocket(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        raise asyncio.CancelledError()


class AsyncCancellingWebSocket(WebSocketHandler):
    async def on_message(self, message: str | bytes) -> None:
        await asyncio.sleep(0)
        raise asyncio.CancelledError()


class CancellationTest(WebTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.handler_task: Future[asyncio.Task[Any]] = Future()

    def get_handlers(self) -> list[Any]:
        return [
            (r"/cancel/(\w+)", CancelHandler, {"test": self}),
            ("/coroutine", CoroutineCancelHandler),
            ("/streaming", StreamingCancelHandler),
            ("/ws", CancellingWebSocket),
            ("/ws_async", AsyncCancellingWebSocket),
        ]

    def test_cancelled_error_in_handler_is_uncaught_exception(self) -> None:
        cases: list[tuple[str, str | None]] = [
            ("/cancel/raise", None),
            ("/cancel/await", None),
            ("/coroutine", None),
            ("/streaming", "data"),
        ]
        for path, body in cases:
            with self.subTest(path=path):
                with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
                    if body is None:
                        response = self.fetch(path)
                    else:
                        response = self.fetch(path, body=body)
                self.assertEqual(response.code, 500)

    @unittest.skipIf(
        sys.version_info < (3, 11),
        "Task.cancelling() (3.11) is how a task cancelled from outside is told apart",
    )
    @gen_test
    async def test_task_cancelled_from_outside(self) -> None:
        fetching = asyncio.ensure_future(
            self.http_client.fetch(self.get_url("/cancel/outside"), raise_error=False)
        )
        task = await self.handler_task
        task.cancel()
        response = await fetching
        self.assertEqual(response.code, 500)
        self.assertTrue(task.cancelled())
        self.assertIn((500, "GET", "/cancel/outside"), self.logged)

    @gen_test
    async def test_websocket_on_message_cancelled_error(self) -> None:
        for path in ("/ws", "/ws_async"):
            with self.subTest(path=path):
                url = f"ws://127.0.0.1:{self.get_http_port()}{path}"
                ws = await websocket_connect(url)
                with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
                    await ws.write_message("hi")
                    self.assertIsNone(await ws.read_message())
                ws.close()
