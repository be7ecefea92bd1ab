"""Tests of cross-origin protection: the ``cross_origin_protection`` and
``trusted_origins`` settings, and the same check on WebSocket upgrades."""

from __future__ import annotations

import logging
import re
import socket
from typing import Any, cast

from tornado.iostream import IOStream
from tornado.log import gen_log
from tornado.test.web_test import WebTestCase
from tornado.testing import ExpectLog
from tornado.web import ErrorHandler, RequestHandler
from tornado.websocket import WebSocketHandler

EVIL = "https://evil.example"


class FormHandler(RequestHandler):
    """Accepts any method; counts the requests that reached ``prepare``."""

    def initialize(self, seen: list[str]) -> None:
        self.seen = seen

    def prepare(self) -> None:
        self.seen.append(self.request.method or "")

    def check_origin(self, origin: str) -> bool:
        raise AssertionError("check_origin is for WebSockets only")

    def get(self) -> None:
        self.write("read")

    head = get

    def post(self) -> None:
        self.write("accepted")

    put = delete = patch = post

    def options(self) -> None:
        self.write("options")


class TrustingFormHandler(FormHandler):
    def check_trusted_origin(self, origin: str) -> bool:
        return origin.endswith(".partner.example")


class OriginWebSocket(WebSocketHandler):
    """Records which origins ``check_origin`` was asked about."""

    def initialize(self, seen: list[str], answer: bool) -> None:
        self.seen = seen
        self.answer = answer

    def prepare(self) -> None:
        self.seen.append("prepare")

    def check_origin(self, origin: str) -> bool:
        self.seen.append(origin)
        return self.answer

    def on_message(self, message: str | bytes) -> None:
        pass


class CrossOriginTestCase(WebTestCase):
    protection = True

    def setUp(self) -> None:
        self.seen: list[str] = []
        super().setUp()

    def get_handlers(self) -> list[Any]:
        seen = {"seen": self.seen}
        return [
            ("/form", FormHandler, seen),
            ("/partner", TrustingFormHandler, seen),
            ("/ws", OriginWebSocket, {"seen": self.seen, "answer": False}),
            ("/ws_trusting", OriginWebSocket, {"seen": self.seen, "answer": True}),
            ("/ws_default", WebSocketHandler),
        ]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {
            "cross_origin_protection": self.protection,
            "trusted_origins": ["https://trusted.example"],
            "default_handler_class": ErrorHandler,
            "default_handler_args": {"status_code": 404},
        }

    def host(self) -> str:
        return f"127.0.0.1:{self.get_http_port()}"

    def post(self, path: str = "/form", method: str = "POST", **headers: str) -> Any:
        names = {name: name.replace("_", "-") for name in headers}
        sent = {names[name]: value for name, value in headers.items()}
        body = None if method in ("GET", "HEAD", "OPTIONS", "DELETE") else ""
        return self.fetch(path, method=method, body=body, headers=sent)

    def expect_refusal(self, message: str, path: str = "/form", **headers: str) -> None:
        self.seen.clear()
        pattern = "403 POST /.*: " + re.escape(message) + "$"
        with ExpectLog(gen_log, pattern, level=logging.WARNING):
            response = self.post(path, **headers)
        self.assertEqual(response.code, 403)
        self.assertEqual(self.seen, [], "prepare() ran for a refused request")


class CrossOriginProtectionTest(CrossOriginTestCase):
    def test_same_origin_by_fetch_metadata(self) -> None:
        for site in ("same-origin", "none"):
            with self.subTest(site=site):
                response = self.post(Sec_Fetch_Site=site, Origin=EVIL)
                self.assertEqual(response.body, b"accepted")

    def test_no_origin_is_allowed(self) -> None:
        self.assertEqual(self.post().body, b"accepted")

    def test_referer_is_never_consulted(self) -> None:
        self.assertEqual(self.post(Referer=EVIL + "/page").body, b"accepted")
        self.expect_refusal(
            f"Origin {EVIL!r} not allowed", Origin=EVIL, Referer=self.get_url("/")
        )

    def test_origin_matching_host(self) -> None:
        for origin in (
            f"http://{self.host()}",
            f"https://{self.host()}",  # the scheme is not compared
            f"HTTP://{self.host().upper()}",
        ):
            with self.subTest(origin=origin):
                self.assertEqual(self.post(Origin=origin).body, b"accepted")

    def test_origin_on_another_port_or_host(self) -> None:
        for origin in (
            "http://127.0.0.1",
            f"http://127.0.0.1:{self.get_http_port() + 1}",
            f"http://localhost:{self.get_http_port()}",
            "null",
            EVIL,
        ):
            with self.subTest(origin=origin):
                self.expect_refusal(f"Origin {origin!r} not allowed", Origin=origin)
                self.seen.clear()

    def test_trusted_origins_setting(self) -> None:
        response = self.post(Origin="https://trusted.example")
        self.assertEqual(response.body, b"accepted")
        # Compared exactly: no prefix, suffix or case-folding games.
        for origin in ("https://trusted.example.evil", "http://trusted.example"):
            with self.subTest(origin=origin):
                self.expect_refusal(f"Origin {origin!r} not allowed", Origin=origin)

    def test_cross_site_fetch_metadata(self) -> None:
        for site in ("cross-site", "same-site"):
            with self.subTest(site=site):
                self.expect_refusal(
                    f"Sec-Fetch-Site {site} & origin None not allowed",
                    Sec_Fetch_Site=site,
                )
                # Origin equal to Host does not count once the browser said
                # the request is not same-origin.
                origin = f"http://{self.host()}"
                self.expect_refusal(
                    f"Sec-Fetch-Site {site} & origin {origin!r} not allowed",
                    Sec_Fetch_Site=site,
                    Origin=origin,
                )
                response = self.post(
                    Sec_Fetch_Site=site, Origin="https://trusted.example"
                )
                self.assertEqual(response.body, b"accepted")
                self.seen.clear()

    def test_check_trusted_origin_override(self) -> None:
        response = self.post("/partner", Origin="https://app.partner.example")
        self.assertEqual(response.body, b"accepted")
        self.expect_refusal(
            "Sec-Fetch-Site cross-site & origin 'https://trusted.example' not allowed",
            path="/partner",
            Sec_Fetch_Site="cross-site",
            Origin="https://trusted.example",
        )

    def test_safe_methods_are_not_checked(self) -> None:
        for method in ("GET", "HEAD", "OPTIONS"):
            with self.subTest(method=method):
                response = self.post(method=method, Origin=EVIL)
                self.assertEqual(response.code, 200)

    def test_every_other_method_is_checked(self) -> None:
        for method in ("PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                with ExpectLog(gen_log, f"403 {method} /form", level=logging.WARNING):
                    response = self.post(method=method, Origin=EVIL)
                self.assertEqual(response.code, 403)

    def test_error_handler_trusts_every_origin(self) -> None:
        response = self.post("/missing", Origin=EVIL)
        self.assertEqual(response.code, 404)

    def test_xsrf_check_comes_first(self) -> None:
        self._app.settings["xsrf_cookies"] = True
        self.expect_refusal("'_xsrf' argument missing from POST", Origin=EVIL)


class CrossOriginProtectionOffTest(CrossOriginTestCase):
    protection = False

    def test_off_by_default(self) -> None:
        self.assertEqual(self.post(Origin=EVIL).body, b"accepted")
        self.assertEqual(self.post(Sec_Fetch_Site="cross-site").body, b"accepted")

    def test_xsrf_cookies_alone_do_not_check_origins(self) -> None:
        self._app.settings["xsrf_cookies"] = True
        cookie = self.fetch("/form")  # no token needed to read
        self.assertEqual(cookie.code, 200)
        self.expect_refusal("'_xsrf' argument missing from POST", Origin=EVIL)


UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


class WebSocketOriginTest(CrossOriginTestCase):
    # WebSockets are checked whatever cross_origin_protection says.
    protection = False

    def upgrade(self, path: str = "/ws", **headers: str) -> bytes:
        lines = "".join(
            f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items()
        )
        lines += "".join(f"{name}: {value}\r\n" for name, value in UPGRADE.items())
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host()}\r\n{lines}\r\n"

        async def exchange() -> bytes:
            stream = IOStream(socket.socket())
            try:
                await stream.connect(("127.0.0.1", self.get_http_port()))
                await stream.write(request.encode())
                head = await stream.read_until(b"\r\n\r\n")
                match = re.search(rb"\r\nContent-Length: (\d+)\r\n", head)
                body = await stream.read_bytes(int(match.group(1))) if match else b""
                return head + body
            finally:
                stream.close()

        return cast(bytes, self.io_loop.run_sync(exchange))

    def expect_refusal(self, message: str, path: str = "/ws", **headers: str) -> None:
        pattern = ".*" + re.escape(message) + "$"
        with ExpectLog(gen_log, pattern, level=logging.DEBUG):
            response = self.upgrade(path, **headers)
        self.assertTrue(response.startswith(b"HTTP/1.1 403 "), response)
        self.assertTrue(
            response.endswith(b"\r\n\r\nCross origin websockets not allowed")
        )

    def expect_upgrade(self, path: str = "/ws", **headers: str) -> None:
        response = self.upgrade(path, **headers)
        self.assertTrue(response.startswith(b"HTTP/1.1 101 "), response)

    def test_same_origin_never_asks_check_origin(self) -> None:
        self.expect_upgrade(Sec_Fetch_Site="same-origin", Origin=EVIL)
        self.expect_upgrade(Origin=f"http://{self.host()}")
        self.expect_upgrade()
        self.assertEqual(self.seen, ["prepare"] * 3)

    def test_other_origins_ask_check_origin_after_prepare(self) -> None:
        self.expect_refusal(f"Origin {EVIL!r} not allowed", Origin=EVIL)
        self.assertEqual(self.seen, ["prepare", EVIL])
        self.seen.clear()
        self.expect_upgrade("/ws_trusting", Origin=EVIL)
        self.assertEqual(self.seen, ["prepare", EVIL])

    def test_cross_site_fetch_metadata(self) -> None:
        self.expect_refusal(
            "Sec-Fetch-Site cross-site & origin None not allowed",
            Sec_Fetch_Site="cross-site",
        )
        self.expect_refusal(
            f"Sec-Fetch-Site same-site & origin {EVIL!r} not allowed",
            Sec_Fetch_Site="same-site",
            Origin=EVIL,
        )
        self.expect_upgrade("/ws_trusting", Sec_Fetch_Site="cross-site", Origin=EVIL)

    def test_default_check_origin_uses_trusted_origins(self) -> None:
        self.expect_upgrade("/ws_default", Origin="https://trusted.example")
        self.expect_refusal(
            f"Origin {EVIL!r} not allowed", path="/ws_default", Origin=EVIL
        )
