"""Tests for tornado.auth, with the identity providers played by local handlers.

Each login handler points its mixin's ``_OAUTH_*_URL`` / ``_OPENID_ENDPOINT``
attributes at fake provider handlers served by the same loopback server.
The fake providers check what a real one would (signatures, tokens, form
fields) and answer with canned data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import urllib.parse
from http.cookies import Morsel, SimpleCookie
from typing import Any

from tornado import escape
from tornado.auth import (
    AuthError,
    FacebookGraphMixin,
    GoogleOAuth2Mixin,
    OAuth2Mixin,
    OAuthMixin,
    OpenIdMixin,
    TwitterMixin,
    _oauth_signature,
)
from tornado.httpclient import HTTPResponse
from tornado.log import app_log, gen_log
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, ExpectLog, gen_test
from tornado.web import Application, HTTPError, RequestHandler

CONSUMER = {"key": "test_consumer_key", "secret": "test consumer secret&~"}
REQUEST_TOKEN = {"key": "zxcv", "secret": "1234"}
ACCESS_TOKEN = {"key": "uiop", "secret": "5678"}
AX_NS = "http://openid.net/srv/ax/1.0"
EMAIL_TYPE = "http://axschema.org/contact/email"


def provider_base(handler: RequestHandler) -> str:
    return f"{handler.request.protocol}://{handler.request.host}/provider"


def query_arguments(handler: RequestHandler) -> dict[str, str]:
    return {name: handler.get_argument(name) for name in handler.request.arguments}


# ---------------------------------------------------------------------------
# Fake providers


class OpenIdProvider(RequestHandler):
    def post(self) -> None:
        if self.get_argument("openid.mode") != "check_authentication":
            raise HTTPError(400)
        valid = self.get_argument("openid.claimed_id", "") != "forged"
        self.write("is_valid:true" if valid else "is_valid:false")


class OAuth1Provider(RequestHandler):
    """Request tokens, access tokens and a protected resource."""

    def check_signature(self, token_secret: str | None = None) -> None:
        args = query_arguments(self)
        if self.request.method == "POST":
            args.update(
                {n: self.get_body_argument(n) for n in self.request.body_arguments}
            )
        signature = args.pop("oauth_signature")
        token = {"key": "", "secret": token_secret} if token_secret else None
        version = self.get_query_argument("oauth_version")
        url = f"{self.request.protocol}://{self.request.host}{self.request.path}"
        expected = _oauth_signature(
            CONSUMER,
            self.request.method or "",
            url,
            args,
            token,
            escape_secrets=self.settings["oauth10a"],
        )
        if version != "1.0" or escape.utf8(signature) != expected:
            raise HTTPError(401, "bad signature")
        if args["oauth_consumer_key"] != CONSUMER["key"]:
            raise HTTPError(401, "bad consumer key")

    def get(self, step: str) -> None:
        if step == "request_token":
            self.check_signature()
            callbacks = self.settings["seen_callbacks"]
            callbacks.append(self.get_query_argument("oauth_callback", None))
            self.settings["seen_extra"].append(self.get_query_argument("scope", None))
            self.write(
                f"oauth_token={REQUEST_TOKEN['key']}"
                f"&oauth_token_secret={REQUEST_TOKEN['secret']}"
            )
        elif step == "access_token":
            self.check_signature(REQUEST_TOKEN["secret"])
            if self.get_query_argument("oauth_token") != REQUEST_TOKEN["key"]:
                raise HTTPError(401, "unknown request token")
            self.settings["seen_verifiers"].append(
                self.get_query_argument("oauth_verifier", None)
            )
            self.write(
                f"oauth_token={ACCESS_TOKEN['key']}"
                f"&oauth_token_secret={ACCESS_TOKEN['secret']}&user_id=42"
            )
        elif step in ("account/verify_credentials.json", "statuses/update.json"):
            self.check_signature(ACCESS_TOKEN["secret"])
            if self.get_query_argument("oauth_token") != ACCESS_TOKEN["key"]:
                raise HTTPError(401, "unknown access token")
            self.write({"screen_name": "tester", "name": "Test User"})
        else:
            raise HTTPError(404)

    post = get


class OAuth2Provider(RequestHandler):
    """Google's and Facebook's token endpoints and user resources."""

    def get(self, step: str) -> None:
        if step == "facebook/access_token":
            self.expect_arguments(
                self.request.query_arguments,
                code="the-code",
                client_id="fb-client",
                client_secret="fb-secret",
            )
            self.write({"access_token": "fb-access", "expires_in": 3600})
        elif step == "facebook/me":
            proof = hmac.new(b"fb-secret", b"fb-access", hashlib.sha256).hexdigest()
            self.expect_arguments(
                self.request.query_arguments,
                access_token="fb-access",
                appsecret_proof=proof,
            )
            fields = self.get_query_argument("fields").split(",")
            user = {"id": "7", "name": "Face Book", "email": "fb@example.com"}
            self.write({k: v for k, v in user.items() if k in fields})
        elif step == "userinfo":
            self.expect_arguments(self.request.query_arguments, access_token="g-access")
            self.write({"email": "g@example.com", "verified_email": True})
        else:
            raise HTTPError(404)

    def post(self, step: str) -> None:
        if step == "google/token":
            if self.request.headers["Content-Type"] != (
                "application/x-www-form-urlencoded"
            ):
                raise HTTPError(400, "wrong content type")
            self.expect_arguments(
                self.request.body_arguments,
                code="g-code",
                client_id="g-client",
                client_secret="g-secret",
                grant_type="authorization_code",
            )
            self.write({"access_token": "g-access", "expires_in": 1800})
        elif step == "facebook/me/feed":
            self.expect_arguments(self.request.body_arguments, message="hello")
            self.write({"id": "post-1"})
        else:
            raise HTTPError(404)

    def expect_arguments(
        self, arguments: dict[str, list[bytes]], **expected: str
    ) -> None:
        for name, value in expected.items():
            if arguments.get(name) != [value.encode()]:
                raise HTTPError(400, f"argument {name} is {arguments.get(name)!r}")


# ---------------------------------------------------------------------------
# Login handlers using the mixins


class AuthErrorReporting(RequestHandler):
    """Turns AuthError into a 403 whose body names the error."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AuthError):
            self.set_status(403)
            self.finish(f"AuthError: {exc}")
        else:
            super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, AuthError):
            super().log_exception(typ, value, tb)


class OpenIdLoginHandler(AuthErrorReporting, OpenIdMixin):
    def initialize(self) -> None:
        self._OPENID_ENDPOINT = provider_base(self) + "/openid"

    async def get(self) -> None:
        if self.get_argument("openid.mode", None):
            self.write(await self.get_authenticated_user())
            return
        attrs = self.get_arguments("attr")
        if attrs:
            self.authenticate_redirect(ax_attrs=attrs)
        else:
            self.authenticate_redirect(callback_uri="/done")


class OAuth1LoginHandler(AuthErrorReporting, OAuthMixin):
    def initialize(self, version: str = "1.0a", no_callbacks: bool = False) -> None:
        base = provider_base(self) + "/oauth1/"
        self._OAUTH_REQUEST_TOKEN_URL = base + "request_token"
        self._OAUTH_ACCESS_TOKEN_URL = base + "access_token"
        self._OAUTH_AUTHORIZE_URL = base + "authorize"
        self._OAUTH_VERSION = version
        self._OAUTH_NO_CALLBACKS = no_callbacks

    def _oauth_consumer_token(self) -> dict[str, Any]:
        return CONSUMER

    async def _oauth_get_user_future(
        self, access_token: dict[str, Any]
    ) -> dict[str, Any] | None:
        if self.get_argument("no_user", None):
            return None
        return {"email": "oauth1@example.com", "token_extra": access_token["user_id"]}

    async def get(self) -> None:
        if self.get_argument("oauth_token", None):
            user = await self.get_authenticated_user()
            self.write(json.dumps(user, default=escape.to_unicode))
            return
        extra = (
            {"scope": self.get_argument("scope")}
            if "scope" in (self.request.arguments)
            else None
        )
        await self.authorize_redirect(
            callback_uri=self.get_argument("callback", None), extra_params=extra
        )


class TwitterLoginHandler(AuthErrorReporting, TwitterMixin):
    def initialize(self) -> None:
        base = provider_base(self) + "/oauth1/"
        self._OAUTH_REQUEST_TOKEN_URL = base + "request_token"
        self._OAUTH_ACCESS_TOKEN_URL = base + "access_token"
        self._OAUTH_AUTHORIZE_URL = base + "authorize"
        self._OAUTH_AUTHENTICATE_URL = base + "authenticate"
        self._TWITTER_BASE_URL = provider_base(self) + "/oauth1"

    async def get(self) -> None:
        if self.get_argument("oauth_token", None):
            user = await self.get_authenticated_user()
            self.write(json.dumps(user, default=escape.to_unicode))
        elif self.get_argument("authenticate", None):
            await self.authenticate_redirect()
        else:
            await self.authorize_redirect(callback_uri="/back")


class TwitterPostHandler(AuthErrorReporting, TwitterMixin):
    def initialize(self) -> None:
        self._TWITTER_BASE_URL = provider_base(self) + "/oauth1"

    async def get(self) -> None:
        response = await self.twitter_request(
            "/statuses/update",
            access_token=ACCESS_TOKEN,
            post_args={"status": "Testing \u2603 & more"},
            trim_user="true",
        )
        self.write(response)


class GoogleLoginHandler(AuthErrorReporting, GoogleOAuth2Mixin):
    def initialize(self) -> None:
        self._OAUTH_ACCESS_TOKEN_URL = provider_base(self) + "/oauth2/google/token"
        self._OAUTH_USERINFO_URL = provider_base(self) + "/oauth2/userinfo"

    async def get(self) -> None:
        code = self.get_argument("code", None)
        if code is None:
            self.authorize_redirect(
                redirect_uri="http://example.com/back",
                client_id=self.get_google_oauth_settings()["key"],
                scope=["profile", "email"],
                extra_params={"approval_prompt": "auto"},
            )
            return
        access = await self.get_authenticated_user(
            redirect_uri="http://example.com/back", code=code
        )
        user = await self.oauth2_request(
            self._OAUTH_USERINFO_URL, access_token=access["access_token"]
        )
        self.write({"access": access, "user": user})


class FacebookLoginHandler(AuthErrorReporting, FacebookGraphMixin):
    def initialize(self) -> None:
        self._OAUTH_ACCESS_TOKEN_URL = (
            provider_base(self) + "/oauth2/facebook/access_token"
        )
        self._FACEBOOK_BASE_URL = provider_base(self) + "/oauth2/facebook"

    async def get(self) -> None:
        user = await self.get_authenticated_user(
            redirect_uri="http://example.com/back",
            client_id="fb-client",
            client_secret="fb-secret",
            code=self.get_argument("code"),
            extra_fields={"email": True},
        )
        posted = await self.facebook_request(
            "/me/feed", access_token="fb-access", post_args={"message": "hello"}
        )
        self.write({"user": user, "posted": posted})


class PlainOAuth2Handler(OAuth2Mixin, RequestHandler):
    _OAUTH_AUTHORIZE_URL = "https://provider.example/authorize"

    def get(self) -> None:
        self.authorize_redirect(
            redirect_uri="https://me.example/back",
            client_id="cid",
            scope=["a", "b"],
            response_type="token",
        )


# ---------------------------------------------------------------------------
# Tests


class AuthTestCase(AsyncHTTPTestCase):
    oauth10a = True

    def setUp(self) -> None:
        self.seen_callbacks: list[str | None] = []
        self.seen_verifiers: list[str | None] = []
        self.seen_extra: list[str | None] = []
        super().setUp()

    def get_app(self) -> Application:
        return Application(
            [
                ("/provider/openid", OpenIdProvider),
                ("/provider/oauth1/(.*)", OAuth1Provider),
                ("/provider/oauth2/(.*)", OAuth2Provider),
                ("/openid/login", OpenIdLoginHandler),
                ("/oauth10a/login", OAuth1LoginHandler),
                ("/oauth10/login", OAuth1LoginHandler, {"version": "1.0"}),
                ("/nocallback/login", OAuth1LoginHandler, {"no_callbacks": True}),
                ("/twitter/login", TwitterLoginHandler),
                ("/twitter/post", TwitterPostHandler),
                ("/google/login", GoogleLoginHandler),
                ("/facebook/login", FacebookLoginHandler),
                ("/oauth2/plain", PlainOAuth2Handler),
            ],
            log_function=lambda handler: None,
            oauth10a=self.oauth10a,
            seen_callbacks=self.seen_callbacks,
            seen_verifiers=self.seen_verifiers,
            seen_extra=self.seen_extra,
            twitter_consumer_key=CONSUMER["key"],
            twitter_consumer_secret=CONSUMER["secret"],
            google_oauth={"key": "g-client", "secret": "g-secret"},
        )

    async def get_response(self, path: str, **kwargs: Any) -> HTTPResponse:
        kwargs.setdefault("follow_redirects", False)
        response: HTTPResponse = await self.http_client.fetch(
            self.get_url(path), raise_error=False, **kwargs
        )
        return response

    def assert_forbidden(self, response: HTTPResponse, message: bytes) -> None:
        """The login failed with 403 and a page mentioning ``message``."""
        self.assertEqual(response.code, 403)
        self.assertIn(message, response.body)

    def redirect_args(self, response: HTTPResponse) -> dict[str, str]:
        self.assertEqual(response.code, 302, response.body)
        query = urllib.parse.urlsplit(response.headers["Location"]).query
        return dict(urllib.parse.parse_qsl(query))


class OAuthSignatureTest(AsyncTestCase):
    """The signature functions against published example values."""

    def test_oauth_core_example(self) -> None:
        # The worked example of the OAuth Core 1.0 specification, appendix A.
        consumer = {"key": "dpf43f3p2l4k3l03", "secret": "kd94hf93k423kf44"}
        token = {"key": "nnch734d00sl2jdk", "secret": "pfkkdhi9sl3r4s00"}
        parameters = {
            "file": "vacation.jpg",
            "size": "original",
            "oauth_consumer_key": "dpf43f3p2l4k3l03",
            "oauth_token": "nnch734d00sl2jdk",
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": "1191242096",
            "oauth_nonce": "kllo9940pd9333jh",
            "oauth_version": "1.0",
        }
        for escape_secrets in (False, True):
            with self.subTest(escape_secrets=escape_secrets):
                signature = _oauth_signature(
                    consumer,
                    "GET",
                    "http://photos.example.net/photos",
                    parameters,
                    token,
                    escape_secrets=escape_secrets,
                )
                self.assertEqual(signature, b"tR3+Ty81lMeYAr/Fid0kMTYa/WM=")

    def test_versions_differ_in_secret_escaping(self) -> None:
        consumer = {"key": "k", "secret": "a&b"}
        plain = _oauth_signature(consumer, "GET", "http://x.example/", {})
        escaped = _oauth_signature(
            consumer, "GET", "http://x.example/", {}, escape_secrets=True
        )
        self.assertNotEqual(plain, escaped)
        key = b"a%26b&"
        base = b"GET&http%3A%2F%2Fx.example%2F&"
        expected = base64.b64encode(hmac.new(key, base, hashlib.sha1).digest())
        self.assertEqual(escaped, expected)

    def test_url_is_normalized(self) -> None:
        consumer = {"key": "k", "secret": "s"}

        def sign(method: str, url: str) -> bytes:
            return _oauth_signature(
                consumer, method, url, {"a": "1"}, escape_secrets=True
            )

        self.assertEqual(
            sign("get", "HTTP://X.Example/Path"), sign("GET", "http://x.example/Path")
        )


class OpenIdTest(AuthTestCase):
    @gen_test
    async def test_redirect(self) -> None:
        response = await self.get_response("/openid/login")
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.get_url("/provider/openid?")))
        args = self.redirect_args(response)
        self.assertEqual(args["openid.mode"], "checkid_setup")
        self.assertEqual(args["openid.return_to"], self.get_url("/done"))
        self.assertEqual(args["openid.realm"], self.get_url("/"))
        self.assertEqual(args["openid.ns.ax"], AX_NS)
        self.assertEqual(
            set(args["openid.ax.required"].split(",")),
            {"firstname", "fullname", "lastname", "email", "language", "username"},
        )
        self.assertEqual(args["openid.ax.type.email"], EMAIL_TYPE)
        self.assertEqual(
            args["openid.ax.type.fullname"], "http://axschema.org/namePerson"
        )

    @gen_test
    async def test_redirect_with_chosen_attributes(self) -> None:
        args = self.redirect_args(await self.get_response("/openid/login?attr=email"))
        self.assertEqual(args["openid.ax.required"], "email")
        self.assertNotIn("openid.ax.type.fullname", args)
        self.assertTrue(
            args["openid.return_to"].startswith(self.get_url("/openid/login"))
        )

    @gen_test
    async def test_unknown_attribute(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = await self.get_response("/openid/login?attr=shoe_size")
        self.assertEqual(response.code, 500)

    def verification_query(self, claimed_id: str, **values: str) -> str:
        args = {
            "openid.mode": "id_res",
            "openid.claimed_id": claimed_id,
            "openid.ns.ext1": AX_NS,
            "openid.ext1.type.mail": EMAIL_TYPE,
            "openid.ext1.type.first": "http://axschema.org/namePerson/first",
            "openid.ext1.type.last": "http://axschema.org/namePerson/last",
            "openid.ext1.type.lang": "http://axschema.org/pref/language",
        }
        args.update({f"openid.ext1.value.{k}": v for k, v in values.items()})
        return "/openid/login?" + urllib.parse.urlencode(args)

    @gen_test
    async def test_authenticated_user(self) -> None:
        query = self.verification_query(
            "https://id.example/alice",
            mail="alice@example.com",
            first="Alice",
            last="Liddell",
            lang="EN-gb",
        )
        response = await self.get_response(query)
        self.assertEqual(response.code, 200, response.body)
        self.assertEqual(
            json.loads(response.body),
            {
                "email": "alice@example.com",
                "first_name": "Alice",
                "last_name": "Liddell",
                "name": "Alice Liddell",
                "locale": "en-gb",
                "claimed_id": "https://id.example/alice",
            },
        )

    @gen_test
    async def test_name_falls_back_to_email(self) -> None:
        query = self.verification_query("https://id.example/b", mail="bob@example.com")
        user = json.loads((await self.get_response(query)).body)
        self.assertEqual(user["name"], "bob")

    @gen_test
    async def test_without_attribute_exchange(self) -> None:
        response = await self.get_response(
            "/openid/login?openid.mode=id_res&openid.claimed_id=https://id.example/c"
        )
        self.assertEqual(
            json.loads(response.body), {"claimed_id": "https://id.example/c"}
        )

    @gen_test
    async def test_rejected_by_provider(self) -> None:
        response = await self.get_response(self.verification_query("forged"))
        self.assert_forbidden(response, b"AuthError: Invalid OpenID response")


class OAuth10aTest(AuthTestCase):
    login = "/oauth10a/login"

    async def start_login(self, query: str = "") -> HTTPResponse:
        response = await self.get_response(self.login + query)
        self.assertEqual(response.code, 302, response.body)
        return response

    def request_token_cookie(self, response: HTTPResponse) -> Morsel[str]:
        cookies: SimpleCookie = SimpleCookie(response.headers["Set-Cookie"])
        return cookies["_oauth_request_token"]

    def cookie_of(self, response: HTTPResponse) -> str:
        return self.request_token_cookie(response).OutputString(attrs=[])

    @gen_test
    async def test_authorize_redirect(self) -> None:
        response = await self.start_login("?callback=/back&scope=read")
        args = self.redirect_args(response)
        self.assertTrue(
            response.headers["Location"].startswith(
                self.get_url("/provider/oauth1/authorize?")
            )
        )
        self.assertEqual(args["oauth_token"], REQUEST_TOKEN["key"])
        self.assertEqual(args["oauth_callback"], self.get_url("/back"))
        self.assertEqual(self.seen_callbacks, [self.get_url("/back")])
        self.assertEqual(self.seen_extra, ["read"])
        expected = base64.b64encode(b"zxcv") + b"|" + base64.b64encode(b"1234")
        self.assertEqual(self.request_token_cookie(response).value, expected.decode())

    @gen_test
    async def test_out_of_band(self) -> None:
        response = await self.get_response(self.login + "?callback=oob")
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.body.decode(),
            self.get_url("/provider/oauth1/authorize?oauth_token=zxcv"),
        )
        self.assertEqual(self.seen_callbacks, ["oob"])

    @gen_test
    async def test_full_login(self) -> None:
        cookie = self.cookie_of(await self.start_login())
        response = await self.get_response(
            self.login + "?oauth_token=zxcv&oauth_verifier=v123",
            headers={"Cookie": cookie},
        )
        self.assertEqual(response.code, 200, response.body)
        user = json.loads(response.body)
        self.assertEqual(user["email"], "oauth1@example.com")
        self.assertEqual(user["token_extra"], "42")
        self.assertEqual(
            user["access_token"], {"key": "uiop", "secret": "5678", "user_id": "42"}
        )
        self.assertEqual(self.seen_verifiers, ["v123"])
        cleared = self.request_token_cookie(response)
        self.assertEqual((cleared.value, cleared["max-age"]), ("", "0"))

    @gen_test
    async def test_missing_cookie(self) -> None:
        response = await self.get_response(self.login + "?oauth_token=zxcv")
        self.assert_forbidden(response, b"Missing OAuth request token cookie")

    @gen_test
    async def test_token_mismatch(self) -> None:
        cookie = self.cookie_of(await self.start_login())
        response = await self.get_response(
            self.login + "?oauth_token=other", headers={"Cookie": cookie}
        )
        self.assert_forbidden(response, b"does not match cookie")

    @gen_test
    async def test_malformed_cookie(self) -> None:
        response = await self.get_response(
            self.login + "?oauth_token=zxcv",
            headers={"Cookie": "_oauth_request_token=no-separator"},
        )
        self.assert_forbidden(response, b"Malformed OAuth request token cookie")

    @gen_test
    async def test_no_user(self) -> None:
        cookie = self.cookie_of(await self.start_login())
        response = await self.get_response(
            self.login + "?oauth_token=zxcv&no_user=1", headers={"Cookie": cookie}
        )
        self.assert_forbidden(response, b"Error getting user")


class OAuth10Test(OAuth10aTest):
    """The same flow with the original OAuth 1.0 protocol."""

    login = "/oauth10/login"
    oauth10a = False

    @gen_test
    async def test_authorize_redirect(self) -> None:
        response = await self.start_login("?callback=/back&scope=read")
        args = self.redirect_args(response)
        self.assertEqual(args["oauth_callback"], self.get_url("/back"))
        # 1.0 sends no callback or extra parameters with the token request.
        self.assertEqual(self.seen_callbacks, [None])
        self.assertEqual(self.seen_extra, [None])

    @gen_test
    async def test_out_of_band(self) -> None:
        response = await self.get_response(self.login + "?callback=oob")
        self.assertEqual(response.code, 200)
        self.assertEqual(self.seen_callbacks, [None])


class NoCallbacksTest(AuthTestCase):
    @gen_test
    async def test_callback_refused(self) -> None:
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = await self.get_response("/nocallback/login?callback=/back")
        self.assertEqual(response.code, 500)

    @gen_test
    async def test_without_callback(self) -> None:
        args = self.redirect_args(await self.get_response("/nocallback/login"))
        self.assertNotIn("oauth_callback", args)


class TwitterTest(AuthTestCase):
    @gen_test
    async def test_authorize_redirect(self) -> None:
        response = await self.get_response("/twitter/login")
        args = self.redirect_args(response)
        self.assertTrue(
            response.headers["Location"].startswith(
                self.get_url("/provider/oauth1/authorize?")
            )
        )
        self.assertEqual(args["oauth_callback"], self.get_url("/back"))

    @gen_test
    async def test_authenticate_redirect(self) -> None:
        response = await self.get_response("/twitter/login?authenticate=1")
        args = self.redirect_args(response)
        location = response.headers["Location"]
        self.assertTrue(
            location.startswith(self.get_url("/provider/oauth1/authenticate?"))
        )
        self.assertEqual(args, {"oauth_token": "zxcv"})
        self.assertIn("_oauth_request_token=", response.headers["Set-Cookie"])

    @gen_test
    async def test_full_login(self) -> None:
        login = await self.get_response("/twitter/login")
        cookie = login.headers["Set-Cookie"].split(";")[0]
        response = await self.get_response(
            "/twitter/login?oauth_token=zxcv", headers={"Cookie": cookie}
        )
        self.assertEqual(response.code, 200, response.body)
        user = json.loads(response.body)
        self.assertEqual(user["username"], "tester")
        self.assertEqual(user["name"], "Test User")
        self.assertEqual(user["access_token"]["key"], "uiop")

    @gen_test
    async def test_signed_post_request(self) -> None:
        response = await self.get_response("/twitter/post")
        self.assertEqual(response.code, 200, response.body)
        self.assertEqual(json.loads(response.body)["screen_name"], "tester")

    @gen_test
    async def test_missing_settings(self) -> None:
        del self._app.settings["twitter_consumer_secret"]
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            response = await self.get_response("/twitter/login")
        self.assertEqual(response.code, 500)


class OAuth2Test(AuthTestCase):
    @gen_test
    async def test_authorize_redirect(self) -> None:
        response = await self.get_response("/oauth2/plain")
        location = response.headers["Location"]
        self.assertTrue(location.startswith("https://provider.example/authorize?"))
        self.assertEqual(
            self.redirect_args(response),
            {
                "response_type": "token",
                "redirect_uri": "https://me.example/back",
                "client_id": "cid",
                "scope": "a b",
            },
        )

    def test_client_secret_is_deprecated(self) -> None:
        class Recorder(OAuth2Mixin):
            _OAUTH_AUTHORIZE_URL = "https://provider.example/authorize"

            def redirect(self, url: str) -> None:
                self.location = url

        recorder = Recorder()
        with self.assertWarns(DeprecationWarning):
            recorder.authorize_redirect(client_id="cid", client_secret="ignored")
        self.assertNotIn("ignored", recorder.location)
        self.assertIn("client_id=cid", recorder.location)


class GoogleTest(AuthTestCase):
    @gen_test
    async def test_authorize_redirect(self) -> None:
        response = await self.get_response("/google/login")
        location = response.headers["Location"]
        self.assertTrue(
            location.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
        )
        args = self.redirect_args(response)
        self.assertEqual(args["client_id"], "g-client")
        self.assertEqual(args["scope"], "profile email")
        self.assertEqual(args["approval_prompt"], "auto")
        self.assertEqual(args["response_type"], "code")

    @gen_test
    async def test_login(self) -> None:
        response = await self.get_response("/google/login?code=g-code")
        self.assertEqual(response.code, 200, response.body)
        result = json.loads(response.body)
        self.assertEqual(result["access"]["access_token"], "g-access")
        self.assertEqual(result["user"]["email"], "g@example.com")

    @gen_test
    async def test_provider_error(self) -> None:
        with (
            ExpectLog(app_log, "Uncaught exception", level=logging.ERROR),
            ExpectLog(
                gen_log, "400 POST /provider/oauth2/google/token", level=logging.WARNING
            ),
        ):
            response = await self.get_response("/google/login?code=wrong")
        self.assertEqual(response.code, 500)


class FacebookTest(AuthTestCase):
    @gen_test
    async def test_login(self) -> None:
        response = await self.get_response("/facebook/login?code=the-code")
        self.assertEqual(response.code, 200, response.body)
        result = json.loads(response.body)
        self.assertEqual(
            result["user"],
            {
                "id": "7",
                "name": "Face Book",
                "email": "fb@example.com",
                "first_name": None,
                "last_name": None,
                "locale": None,
                "picture": None,
                "link": None,
                "access_token": "fb-access",
                "session_expires": "3600",
            },
        )
        self.assertEqual(result["posted"], {"id": "post-1"})

    def test_default_endpoints(self) -> None:
        self.assertEqual(
            FacebookGraphMixin._OAUTH_AUTHORIZE_URL,
            "https://www.facebook.com/dialog/oauth?",
        )
        self.assertTrue(TwitterMixin._TWITTER_BASE_URL.startswith("https://"))
        self.assertTrue(GoogleOAuth2Mixin._OAUTH_USERINFO_URL.startswith("https://"))
