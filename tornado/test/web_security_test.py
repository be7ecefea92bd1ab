"""Tests of signed cookies and XSRF protection in tornado.web."""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from typing import Any

from tornado._websigning import decode_xsrf_token
from tornado.log import app_log, gen_log
from tornado.test.web_test import WebTestCase
from tornado.testing import ExpectLog
from tornado.web import (
    DEFAULT_SIGNED_VALUE_VERSION,
    ErrorHandler,
    RequestHandler,
    create_signed_value,
    decode_signed_value,
    get_signature_key_version,
)

SECRET = "0123456789abcdef0123456789abcdef"


class SignedCookieHandler(RequestHandler):
    def get(self) -> None:
        min_version = self.get_argument("min_version", None)
        value = self.get_signed_cookie(
            "session",
            min_version=int(min_version) if min_version else None,
            max_age_days=float(self.get_argument("max_age_days", "31")),
        )
        self.write(
            {
                "value": value.decode() if value is not None else None,
                "key_version": self.get_signed_cookie_key_version("session"),
            }
        )

    def post(self) -> None:
        version = self.get_argument("version", None)
        self.set_signed_cookie(
            "session",
            self.get_argument("value"),
            version=int(version) if version else None,
        )


class XsrfHandler(RequestHandler):
    def get(self) -> None:
        self.write({"token": self.xsrf_token.decode(), "form": self.xsrf_form_html()})

    def post(self) -> None:
        self.write("accepted")


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";")[0].split("=", 1)[1]


class SignedCookieTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/signed", SignedCookieHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"cookie_secret": SECRET}

    def set_and_read(self, value: str, version: int | None = None) -> Any:
        body = urllib.parse.urlencode({"value": value, "version": version or ""})
        set_cookie = self.fetch("/signed", body=body).headers["Set-Cookie"]
        signed = cookie_value(set_cookie)
        return signed, self.read(signed)

    def read(self, signed: str, query: str = "") -> Any:
        response = self.fetch(
            f"/signed{query}", headers={"Cookie": f"session={signed}"}
        )
        return json.loads(response.body)

    def test_round_trip_in_both_versions(self) -> None:
        for version in (1, 2):
            with self.subTest(version=version):
                signed, read = self.set_and_read("user-\u20ac", version)
                self.assertEqual(read["value"], "user-\u20ac")
                if version == 2:
                    self.assertTrue(signed.startswith('"2|'))

    def test_default_version(self) -> None:
        self.assertEqual(DEFAULT_SIGNED_VALUE_VERSION, 2)
        signed, _ = self.set_and_read("x")
        self.assertIn("2|", signed)

    def test_tampered_cookies_read_as_none(self) -> None:
        signed, _ = self.set_and_read("admin=false")
        raw = signed.strip('"')
        tampered = [
            raw[:-1] + ("0" if raw[-1] != "0" else "1"),  # signature changed
            raw.replace("YWRtaW49ZmFsc2U=", "YWRtaW49dHJ1ZQ=="),  # value changed
            "garbage",
            "2|1:0|",
            "",
        ]
        for value in tampered:
            with self.subTest(value=value):
                self.assertIsNone(self.read(value)["value"])

    def test_min_version_and_max_age(self) -> None:
        signed_v1, _ = self.set_and_read("old", 1)
        self.assertIsNone(self.read(signed_v1, "?min_version=2")["value"])
        signed_v2, _ = self.set_and_read("new", 2)
        self.assertEqual(self.read(signed_v2, "?min_version=2")["value"], "new")
        self.assertIsNone(self.read(signed_v2, "?max_age_days=-1")["value"])

    def test_key_versions(self) -> None:
        self._app.settings["cookie_secret"] = {0: "old secret", 1: "new secret"}
        self._app.settings["key_version"] = 1
        signed, read = self.set_and_read("rotated")
        self.assertEqual(read, {"value": "rotated", "key_version": 1})
        del self._app.settings["key_version"]
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            # A dict of secrets without key_version cannot sign.
            response = self.fetch("/signed", body="value=x")
        self.assertEqual(response.code, 500)

    def test_missing_secret(self) -> None:
        del self._app.settings["cookie_secret"]
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR) as log:
            self.assertEqual(self.fetch("/signed").code, 500)
        self.assertTrue(log.logged_stack)

    def test_module_functions(self) -> None:
        signed = create_signed_value(SECRET, "n", "v", clock=lambda: 1000000)
        decoded = decode_signed_value(SECRET, "n", signed, clock=lambda: 1000000)
        self.assertEqual(decoded, b"v")
        self.assertIsNone(decode_signed_value(SECRET, "other", signed))
        keyed = create_signed_value({3: SECRET}, "n", "v", key_version=3)
        self.assertEqual(get_signature_key_version(keyed), 3)


class XsrfTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/xsrf", XsrfHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {
            "xsrf_cookies": True,
            "default_handler_class": ErrorHandler,
            "default_handler_args": {"status_code": 404},
        }

    def setUp(self) -> None:
        super().setUp()
        response = self.fetch("/xsrf")
        self.cookie = cookie_value(response.headers["Set-Cookie"])
        self.token = json.loads(response.body)["token"]

    def post(self, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        headers.setdefault("Cookie", f"_xsrf={self.cookie}")
        return self.fetch("/xsrf", headers=headers, body=kwargs.pop("body", ""))

    def expect_refusal(self, message: str, **kwargs: Any) -> None:
        pattern = "403 POST /xsrf .*" + re.escape(message)
        with ExpectLog(gen_log, pattern, level=logging.WARNING):
            response = self.post(**kwargs)
        self.assertEqual(response.code, 403)
        self.assertNotIn(b"Traceback", response.body)
        self.assertNotIn(b"XSRF", response.body)

    def test_token_in_form(self) -> None:
        body = urllib.parse.urlencode({"_xsrf": self.token})
        self.assertEqual(self.post(body=body).body, b"accepted")

    def test_token_in_headers(self) -> None:
        for header in ("X-XSRFToken", "X-CSRFToken"):
            with self.subTest(header=header):
                response = self.post(headers={header: self.token})
                self.assertEqual(response.body, b"accepted")

    def test_each_rendering_is_masked_differently(self) -> None:
        headers = {"Cookie": f"_xsrf={self.cookie}"}
        second = json.loads(self.fetch("/xsrf", headers=headers).body)["token"]
        self.assertNotEqual(second, self.token)
        self.assertEqual(decode_xsrf_token(second)[1], decode_xsrf_token(self.token)[1])
        # An existing cookie is not replaced.
        self.assertNotIn("Set-Cookie", self.fetch("/xsrf", headers=headers).headers)
        body = urllib.parse.urlencode({"_xsrf": second})
        self.assertEqual(self.post(body=body).body, b"accepted")

    def test_form_html(self) -> None:
        form = json.loads(self.fetch("/xsrf").body)["form"]
        self.assertRegex(
            form, r'^<input type="hidden" name="_xsrf" value="2\|[^"]+"/>$'
        )

    def test_missing_token(self) -> None:
        self.expect_refusal("'_xsrf' argument missing")

    def test_missing_cookie(self) -> None:
        body = urllib.parse.urlencode({"_xsrf": self.token})
        self.expect_refusal(
            "XSRF cookie does not match", body=body, headers={"Cookie": ""}
        )

    def test_tampered_tokens(self) -> None:
        parts = self.token.split("|")
        flipped = parts[2][:-1] + ("0" if parts[2][-1] != "0" else "1")
        forged = "|".join([parts[0], parts[1], flipped, parts[3]])
        other_token = "2|00000000|" + "ab" * 16 + "|" + parts[3]
        for token in [forged, other_token, "ab" * 16]:
            with self.subTest(token=token):
                body = urllib.parse.urlencode({"_xsrf": token})
                self.expect_refusal("XSRF cookie does not match", body=body)
        for token in ["2|zz|zz|1", "3|a|b|c"]:
            with self.subTest(token=token):
                body = urllib.parse.urlencode({"_xsrf": token})
                self.expect_refusal("'_xsrf' argument has invalid format", body=body)

    def test_tampered_cookie(self) -> None:
        body = urllib.parse.urlencode({"_xsrf": self.token})
        for cookie in ["garbage|x", "2|00|11|", ""]:
            with self.subTest(cookie=cookie):
                self.expect_refusal(
                    "XSRF cookie does not match",
                    body=body,
                    headers={"Cookie": f"_xsrf={cookie}"},
                )

    def test_version_1_tokens(self) -> None:
        self._app.settings["xsrf_cookie_version"] = 1
        response = self.fetch("/xsrf")
        cookie = cookie_value(response.headers["Set-Cookie"])
        token = json.loads(response.body)["token"]
        self.assertRegex(token, r"^[0-9a-f]{32}$")
        self.assertEqual(token, cookie)
        body = urllib.parse.urlencode({"_xsrf": token})
        response = self.post(body=body, headers={"Cookie": f"_xsrf={cookie}"})
        self.assertEqual(response.body, b"accepted")

    def test_cookie_settings(self) -> None:
        self._app.settings["xsrf_cookie_kwargs"] = {"httponly": True, "path": "/x"}
        self._app.settings["xsrf_cookie_name"] = "csrf"
        set_cookie = self.fetch("/xsrf").headers["Set-Cookie"]
        self.assertTrue(set_cookie.startswith("csrf="))
        self.assertIn("HttpOnly", set_cookie)
        self.assertIn("Path=/x", set_cookie)

    def test_get_is_not_checked(self) -> None:
        self.assertEqual(self.fetch("/xsrf").code, 200)

    def test_post_to_missing_page_is_404_not_403(self) -> None:
        self.assertEqual(self.fetch("/missing", body="").code, 404)
