"""Third-party login with OpenID 2.0, OAuth 1.0/1.0a and OAuth 2.0.

Each class here is a mixin for `tornado.web.RequestHandler`: generic
OpenID 2.0 and OAuth mixins, and ready-made ones for Google, Facebook and
Twitter.  Their network calls go through `tornado.httpclient.AsyncHTTPClient`
and are awaited from the handler's own methods.  A login
handler usually serves two requests: the first sends the user to the
provider (``authorize_redirect`` or ``authenticate_redirect``); the provider
then sends the user back to the same URL with extra arguments, and the
second request turns those into user data (``get_authenticated_user``)::

    class GoogleOAuth2LoginHandler(tornado.web.RequestHandler,
                                   tornado.auth.GoogleOAuth2Mixin):
        async def get(self):
            redirect_uri = "https://example.com/auth/google"
            if self.get_argument("code", False):
                access = await self.get_authenticated_user(
                    redirect_uri=redirect_uri, code=self.get_argument("code"))
                user = await self.oauth2_request(
                    "https://www.googleapis.com/oauth2/v1/userinfo",
                    access_token=access["access_token"])
                ...  # save the user, e.g. with set_signed_cookie
            else:
                self.authorize_redirect(
                    redirect_uri=redirect_uri,
                    client_id=self.get_google_oauth_settings()["key"],
                    scope=["profile", "email"],
                    response_type="code",
                    extra_params={"approval_prompt": "auto"})

The provider endpoints are class attributes (``_OAUTH_AUTHORIZE_URL``,
``_OAUTH_ACCESS_TOKEN_URL``, ``_OPENID_ENDPOINT`` and so on); subclass a
mixin and set them to support another provider. Failures are reported by
raising `AuthError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import urllib.parse
import uuid
import warnings
from collections.abc import Iterable
from typing import Any, cast

from tornado import escape, httpclient
from tornado.httputil import url_concat
from tornado.web import RequestHandler

__all__ = [
    "AuthError",
    "OpenIdMixin",
    "OAuthMixin",
    "OAuth2Mixin",
    "TwitterMixin",
    "GoogleOAuth2Mixin",
    "FacebookGraphMixin",
]

_Token = dict[str, Any]


class AuthError(Exception):
    """Raised when a login or an authenticated request to a provider fails."""


def _handler(mixin: object) -> RequestHandler:
    """The request handler a mixin is part of."""
    return cast(RequestHandler, mixin)


class OpenIdMixin:
    """Login with OpenID 2.0 and the Attribute Exchange extension.

    Set ``_OPENID_ENDPOINT`` to the provider's endpoint URL.
    """

    _OPENID_ENDPOINT: str = ""

    _AX_NAMESPACE = "http://openid.net/srv/ax/1.0"
    # Attribute Exchange type URIs, by the short names the user dict uses.
    _AX_TYPES = {
        "email": "http://axschema.org/contact/email",
        "name": "http://axschema.org/namePerson",
        "first_name": "http://axschema.org/namePerson/first",
        "last_name": "http://axschema.org/namePerson/last",
        "username": "http://axschema.org/namePerson/friendly",
        "locale": "http://axschema.org/pref/language",
    }
    # What each ``ax_attrs`` name asks for, as (request alias, short name)
    # pairs; "name" covers the full name and both of its parts.
    _AX_REQUESTABLE = {
        "name": [
            ("firstname", "first_name"),
            ("fullname", "name"),
            ("lastname", "last_name"),
        ],
        "email": [("email", "email")],
        "language": [("language", "locale")],
        "username": [("username", "username")],
    }

    def __init__(self) -> None:
        """Cooperative initializer; the mixin keeps no state of its own."""
        super().__init__()

    def authenticate_redirect(
        self,
        callback_uri: str | None = None,
        ax_attrs: Iterable[str] = ("name", "email", "language", "username"),
    ) -> None:
        """Redirect the user to the OpenID provider to log in.

        The provider sends the user back to ``callback_uri`` (default: the
        current URL), where `get_authenticated_user` completes the login.
        ``ax_attrs`` names the attributes to ask for, out of ``name``,
        ``email``, ``language`` and ``username``.
        """
        handler = _handler(self)
        args = self._openid_args(callback_uri or handler.request.uri or "", ax_attrs)
        handler.redirect(self._OPENID_ENDPOINT + "?" + urllib.parse.urlencode(args))

    async def get_authenticated_user(
        self, http_client: httpclient.AsyncHTTPClient | None = None
    ) -> dict[str, Any]:
        """Verify the provider's answer in this request and return the user.

        The dict has whichever of ``name``, ``first_name``, ``last_name``,
        ``email``, ``locale``, ``username`` and ``claimed_id`` the provider
        sent. Raises `AuthError` if the provider does not confirm the
        response.
        """
        handler = _handler(self)
        args = {name: values[-1] for name, values in handler.request.arguments.items()}
        args["openid.mode"] = b"check_authentication"
        client = http_client or self.get_auth_http_client()
        response = await client.fetch(
            self._OPENID_ENDPOINT,
            method="POST",
            body=urllib.parse.urlencode(args),
        )
        return self._on_authentication_verified(response)

    def get_auth_http_client(self) -> httpclient.AsyncHTTPClient:
        """The HTTP client used to talk to the provider.

        Override to use a different client, e.g. one with other defaults.
        """
        return _default_http_client()

    def _openid_args(
        self,
        callback_uri: str,
        ax_attrs: Iterable[str] = (),
        oauth_scope: str | None = None,
    ) -> dict[str, str]:
        handler = _handler(self)
        return_to = urllib.parse.urljoin(handler.request.full_url(), callback_uri)
        args = {
            "openid.ns": "http://specs.openid.net/auth/2.0",
            "openid.claimed_id": "http://specs.openid.net/auth/2.0/identifier_select",
            "openid.identity": "http://specs.openid.net/auth/2.0/identifier_select",
            "openid.return_to": return_to,
            "openid.realm": urllib.parse.urljoin(return_to, "/"),
            "openid.mode": "checkid_setup",
        }
        args.update(self._ax_request_args(set(ax_attrs)))
        if oauth_scope:
            args["openid.ns.oauth"] = "http://specs.openid.net/extensions/oauth/1.0"
            args["openid.oauth.consumer"] = handler.request.host.split(":")[0]
            args["openid.oauth.scope"] = oauth_scope
        return args

    def _ax_request_args(self, ax_attrs: set[str]) -> dict[str, str]:
        """The Attribute Exchange fetch request for the named attributes."""
        if not ax_attrs:
            return {}
        unknown = ax_attrs - self._AX_REQUESTABLE.keys()
        if unknown:
            raise ValueError(f"unknown OpenID attributes: {sorted(unknown)}")
        requested = [
            request
            for attr in sorted(ax_attrs)
            for request in self._AX_REQUESTABLE[attr]
        ]
        args = {"openid.ns.ax": self._AX_NAMESPACE, "openid.ax.mode": "fetch_request"}
        for alias, short_name in requested:
            args["openid.ax.type." + alias] = self._AX_TYPES[short_name]
        args["openid.ax.required"] = ",".join(alias for alias, _ in requested)
        return args

    def _on_authentication_verified(
        self, response: httpclient.HTTPResponse
    ) -> dict[str, Any]:
        handler = _handler(self)
        if b"is_valid:true" not in response.body:
            raise AuthError(f"Invalid OpenID response: {response.body!r}")
        attrs = self._received_ax_attributes()
        user: dict[str, Any] = {}
        for key in ("first_name", "last_name"):
            if attrs.get(key):
                user[key] = attrs[key]
        full_name = " ".join(
            attrs[k] for k in ("first_name", "last_name") if attrs.get(k)
        )
        email = attrs.get("email", "")
        name = attrs.get("name") or full_name or email.split("@")[0]
        if name:
            user["name"] = name
        if email:
            user["email"] = email
        if attrs.get("locale"):
            user["locale"] = attrs["locale"].lower()
        if attrs.get("username"):
            user["username"] = attrs["username"]
        claimed_id = handler.get_argument("openid.claimed_id", None)
        if claimed_id:
            user["claimed_id"] = claimed_id
        return user

    def _received_ax_attributes(self) -> dict[str, str]:
        """The Attribute Exchange values in this request, by short name."""
        handler = _handler(self)
        arguments = {
            name: handler.get_argument(name) for name in handler.request.arguments
        }
        namespace = next(
            (
                name[len("openid.ns.") :]
                for name, value in arguments.items()
                if name.startswith("openid.ns.") and value == self._AX_NAMESPACE
            ),
            None,
        )
        if namespace is None:
            return {}
        type_prefix = f"openid.{namespace}.type."
        by_type_uri = {
            value: name[len(type_prefix) :]
            for name, value in arguments.items()
            if name.startswith(type_prefix)
        }
        attrs = {}
        for short_name, type_uri in self._AX_TYPES.items():
            alias = by_type_uri.get(type_uri)
            if alias is not None:
                attrs[short_name] = arguments.get(
                    f"openid.{namespace}.value.{alias}", ""
                )
        return attrs


class OAuthMixin:
    """Login with OAuth 1.0 or 1.0a.

    Subclasses set ``_OAUTH_REQUEST_TOKEN_URL``, ``_OAUTH_ACCESS_TOKEN_URL``
    and ``_OAUTH_AUTHORIZE_URL`` (plus ``_OAUTH_VERSION = "1.0"`` for the
    older protocol and ``_OAUTH_NO_CALLBACKS = True`` for providers that
    ignore callback URLs), and implement ``_oauth_consumer_token`` and
    ``_oauth_get_user_future``.
    """

    _OAUTH_REQUEST_TOKEN_URL: str = ""
    _OAUTH_ACCESS_TOKEN_URL: str = ""
    _OAUTH_AUTHORIZE_URL: str = ""
    _OAUTH_VERSION: str = "1.0a"
    _OAUTH_NO_CALLBACKS: bool = False

    _REQUEST_TOKEN_COOKIE = "_oauth_request_token"

    async def authorize_redirect(
        self,
        callback_uri: str | None = None,
        extra_params: dict[str, Any] | None = None,
        http_client: httpclient.AsyncHTTPClient | None = None,
    ) -> None:
        """Get a request token and redirect the user to authorize it.

        The provider sends the user back to ``callback_uri`` (relative URLs
        are resolved against the current one); there
        `get_authenticated_user` completes the login. With
        ``callback_uri="oob"`` the authorization URL is written as the
        response instead of redirecting. ``extra_params`` are added to the
        request-token request (OAuth 1.0a only). The request token is kept
        in a cookie until the user comes back.
        """
        if callback_uri and self._OAUTH_NO_CALLBACKS:
            raise Exception("This service does not support oauth_callback")
        client = http_client or self.get_auth_http_client()
        if self._OAUTH_VERSION == "1.0a":
            url = self._oauth_request_token_url(callback_uri, extra_params)
        else:
            url = self._oauth_request_token_url()
        response = await client.fetch(url)
        self._on_request_token(self._OAUTH_AUTHORIZE_URL, callback_uri, response)

    async def get_authenticated_user(
        self, http_client: httpclient.AsyncHTTPClient | None = None
    ) -> dict[str, Any]:
        """Exchange the authorized request token for an access token.

        Returns the user dict from ``_oauth_get_user_future`` with the
        access token added as ``access_token``; save that token to make
        requests for the user later. Raises `AuthError` if the request
        token cookie is missing or does not match, or no user is found.
        """
        handler = _handler(self)
        request_key = escape.utf8(handler.get_argument("oauth_token"))
        verifier = handler.get_argument("oauth_verifier", None)
        cookie = handler.get_cookie(self._REQUEST_TOKEN_COOKIE)
        if not cookie:
            raise AuthError("Missing OAuth request token cookie")
        handler.clear_cookie(self._REQUEST_TOKEN_COOKIE)
        token = _decode_request_token_cookie(cookie)
        if not hmac.compare_digest(token["key"], request_key):
            raise AuthError("Request token does not match cookie")
        if verifier:
            token["verifier"] = verifier
        client = http_client or self.get_auth_http_client()
        response = await client.fetch(self._oauth_access_token_url(token))
        access_token = _oauth_parse_response(response.body)
        user = await self._oauth_get_user_future(access_token)
        if not user:
            raise AuthError("Error getting user")
        user["access_token"] = access_token
        return user

    def get_auth_http_client(self) -> httpclient.AsyncHTTPClient:
        """The HTTP client used to talk to the provider.

        Override to use a different client, e.g. one with other defaults.
        """
        return _default_http_client()

    def _oauth_consumer_token(self) -> dict[str, Any]:
        """The application's consumer token: a dict with ``key`` and ``secret``."""
        raise NotImplementedError()

    async def _oauth_get_user_future(
        self, access_token: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Fetch the user who owns ``access_token``; None if there is none."""
        raise NotImplementedError()

    def _oauth_request_token_url(
        self,
        callback_uri: str | None = None,
        extra_params: dict[str, Any] | None = None,
    ) -> str:
        args = self._oauth_base_args()
        if self._OAUTH_VERSION == "1.0a":
            if callback_uri == "oob":
                args["oauth_callback"] = "oob"
            elif callback_uri:
                args["oauth_callback"] = self._absolute_url(callback_uri)
            if extra_params:
                args.update(extra_params)
        return self._signed_url(self._OAUTH_REQUEST_TOKEN_URL, args)

    def _oauth_access_token_url(self, request_token: _Token) -> str:
        args = self._oauth_base_args(request_token)
        if "verifier" in request_token:
            args["oauth_verifier"] = request_token["verifier"]
        return self._signed_url(self._OAUTH_ACCESS_TOKEN_URL, args, request_token)

    def _oauth_request_parameters(
        self,
        url: str,
        access_token: _Token,
        parameters: dict[str, Any] | None = None,
        method: str = "GET",
    ) -> dict[str, Any]:
        """The ``oauth_*`` arguments that sign a request made for a user.

        ``parameters`` are the request's other arguments (query and form),
        which the signature covers but which are not part of the result.
        """
        oauth_args = self._oauth_base_args(access_token)
        signed_args = {**oauth_args, **(parameters or {})}
        oauth_args["oauth_signature"] = escape.to_unicode(
            self._oauth_sign(method, url, signed_args, access_token)
        )
        return oauth_args

    def _oauth_base_args(self, token: _Token | None = None) -> dict[str, Any]:
        """The protocol arguments every signed OAuth request carries."""
        args = {
            "oauth_consumer_key": escape.to_unicode(
                self._oauth_consumer_token()["key"]
            ),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(time.time())),
            "oauth_nonce": uuid.uuid4().hex,
            "oauth_version": "1.0",
        }
        if token is not None:
            args["oauth_token"] = escape.to_unicode(token["key"])
        return args

    def _oauth_sign(
        self,
        method: str,
        url: str,
        args: dict[str, Any],
        token: _Token | None = None,
    ) -> bytes:
        return _oauth_signature(
            self._oauth_consumer_token(),
            method,
            url,
            args,
            token,
            escape_secrets=self._OAUTH_VERSION == "1.0a",
        )

    def _signed_url(
        self, url: str, args: dict[str, Any], token: _Token | None = None
    ) -> str:
        args["oauth_signature"] = self._oauth_sign("GET", url, args, token)
        return url + "?" + urllib.parse.urlencode(args)

    def _on_request_token(
        self,
        authorize_url: str,
        callback_uri: str | None,
        response: httpclient.HTTPResponse,
    ) -> None:
        handler = _handler(self)
        request_token = _oauth_parse_response(response.body)
        handler.set_cookie(
            self._REQUEST_TOKEN_COOKIE, _encode_request_token_cookie(request_token)
        )
        args = {"oauth_token": request_token["key"]}
        if callback_uri == "oob":
            handler.finish(authorize_url + "?" + urllib.parse.urlencode(args))
            return
        if callback_uri:
            args["oauth_callback"] = self._absolute_url(callback_uri)
        handler.redirect(authorize_url + "?" + urllib.parse.urlencode(args))

    def _absolute_url(self, uri: str) -> str:
        return urllib.parse.urljoin(_handler(self).request.full_url(), uri)


class OAuth2Mixin:
    """Login with OAuth 2.0 (the authorization code flow).

    Subclasses set ``_OAUTH_AUTHORIZE_URL`` and ``_OAUTH_ACCESS_TOKEN_URL``.
    """

    _OAUTH_AUTHORIZE_URL: str = ""
    _OAUTH_ACCESS_TOKEN_URL: str = ""

    def authorize_redirect(
        self,
        redirect_uri: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        extra_params: dict[str, Any] | None = None,
        scope: list[str] | None = None,
        response_type: str = "code",
    ) -> None:
        """Redirect the user to the provider to authorize this application.

        The provider sends the user back to ``redirect_uri`` with a ``code``
        argument, to be exchanged for an access token. ``scope`` is a list
        of permission names. ``client_secret`` has never been used here and
        is deprecated.
        """
        if client_secret is not None:
            warnings.warn(
                "the client_secret argument of authorize_redirect is deprecated",
                DeprecationWarning,
                stacklevel=2,
            )
        args = {"response_type": response_type}
        if redirect_uri is not None:
            args["redirect_uri"] = redirect_uri
        if client_id is not None:
            args["client_id"] = client_id
        if extra_params:
            args.update(extra_params)
        if scope:
            args["scope"] = " ".join(scope)
        _handler(self).redirect(url_concat(self._OAUTH_AUTHORIZE_URL, args))

    async def oauth2_request(
        self,
        url: str,
        access_token: str | None = None,
        post_args: dict[str, Any] | None = None,
        **args: Any,
    ) -> Any:
        """Fetch ``url`` with the user's access token; return the decoded JSON.

        The keyword arguments become query arguments. With ``post_args``
        the request is a POST of those form fields. Fails with
        ``tornado.httpclient.HTTPClientError`` if the provider answers with
        an error status.
        """
        query = {**({"access_token": access_token} if access_token else {}), **args}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return await _fetch_json(self.get_auth_http_client(), url, post_args)

    def get_auth_http_client(self) -> httpclient.AsyncHTTPClient:
        """The HTTP client used to talk to the provider.

        Override to use a different client, e.g. one with other defaults.
        """
        return _default_http_client()

    def _oauth_request_token_url(
        self,
        redirect_uri: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        code: str | None = None,
        extra_params: dict[str, Any] | None = None,
    ) -> str:
        given = {
            "redirect_uri": redirect_uri,
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        args = {name: value for name, value in given.items() if value is not None}
        args.update(extra_params or {})
        return url_concat(self._OAUTH_ACCESS_TOKEN_URL, args)


class TwitterMixin(OAuthMixin):
    """Login with Twitter (X) and calls to its API.

    Register an application with Twitter and put its consumer key and
    secret in the ``twitter_consumer_key`` and ``twitter_consumer_secret``
    application settings. `~OAuthMixin.get_authenticated_user` returns the Twitter
    user object with ``username`` (the screen name) and ``access_token``
    added.
    """

    _OAUTH_REQUEST_TOKEN_URL = "https://api.twitter.com/oauth/request_token"
    _OAUTH_ACCESS_TOKEN_URL = "https://api.twitter.com/oauth/access_token"
    _OAUTH_AUTHORIZE_URL = "https://api.twitter.com/oauth/authorize"
    _OAUTH_AUTHENTICATE_URL = "https://api.twitter.com/oauth/authenticate"
    _OAUTH_NO_CALLBACKS = False
    _TWITTER_BASE_URL = "https://api.twitter.com/1.1"

    async def authenticate_redirect(self, callback_uri: str | None = None) -> None:
        """Like ``authorize_redirect``, but skips the prompt for returning users.

        Users who already authorized the application go straight back to
        ``callback_uri``.
        """
        client = self.get_auth_http_client()
        response = await client.fetch(self._oauth_request_token_url(callback_uri))
        self._on_request_token(self._OAUTH_AUTHENTICATE_URL, None, response)

    async def twitter_request(
        self,
        path: str,
        access_token: dict[str, Any],
        post_args: dict[str, Any] | None = None,
        **args: Any,
    ) -> Any:
        """Call the Twitter API on behalf of the user; return the decoded JSON.

        ``path`` is relative to the API root and has no extension, e.g.
        ``"/statuses/update"``; a full ``http(s)`` URL is used as is.
        ``access_token`` is the one `~OAuthMixin.get_authenticated_user` returned. The
        keyword arguments become query arguments; with ``post_args`` the
        request is a POST of those form fields.
        """
        if path.startswith(("http:", "https:")):
            url = path
        else:
            url = self._TWITTER_BASE_URL + path + ".json"
        if access_token:
            signed = {**args, **(post_args or {})}
            method = "POST" if post_args is not None else "GET"
            args.update(
                self._oauth_request_parameters(url, access_token, signed, method)
            )
        if args:
            url += "?" + urllib.parse.urlencode(args)
        return await _fetch_json(self.get_auth_http_client(), url, post_args)

    def _oauth_consumer_token(self) -> dict[str, Any]:
        handler = _handler(self)
        handler.require_setting("twitter_consumer_key", "Twitter OAuth")
        handler.require_setting("twitter_consumer_secret", "Twitter OAuth")
        return {
            "key": handler.settings["twitter_consumer_key"],
            "secret": handler.settings["twitter_consumer_secret"],
        }

    async def _oauth_get_user_future(
        self, access_token: dict[str, Any]
    ) -> dict[str, Any] | None:
        user = await self.twitter_request(
            "/account/verify_credentials", access_token=access_token
        )
        if user:
            user["username"] = user["screen_name"]
        return cast(dict[str, Any] | None, user)


class GoogleOAuth2Mixin(OAuth2Mixin):
    """Login with Google's OAuth 2.0 service.

    Create OAuth credentials in the Google Cloud console, then put them in
    the ``google_oauth`` application setting as
    ``{"key": CLIENT_ID, "secret": CLIENT_SECRET}``. After the login, fetch
    the user's profile from ``_OAUTH_USERINFO_URL`` with
    ``oauth2_request``.
    """

    _OAUTH_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
    _OAUTH_ACCESS_TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"
    _OAUTH_USERINFO_URL = "https://www.googleapis.com/oauth2/v1/userinfo"
    _OAUTH_NO_CALLBACKS = False
    _OAUTH_SETTINGS_KEY = "google_oauth"

    def get_google_oauth_settings(self) -> dict[str, str]:
        """The ``google_oauth`` setting: a dict with ``key`` and ``secret``.

        Override to keep the credentials somewhere else.
        """
        return cast(dict[str, str], _handler(self).settings[self._OAUTH_SETTINGS_KEY])

    async def get_authenticated_user(
        self,
        redirect_uri: str,
        code: str,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        """Exchange the ``code`` Google sent back for an access token.

        Returns Google's token response (``access_token``, ``expires_in``,
        ``id_token``, ...). The client id and secret default to those in
        `get_google_oauth_settings`.
        """
        if client_id is None or client_secret is None:
            settings = self.get_google_oauth_settings()
            client_id = settings["key"] if client_id is None else client_id
            client_secret = (
                settings["secret"] if client_secret is None else client_secret
            )
        body = urllib.parse.urlencode(
            {
                "redirect_uri": redirect_uri,
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "authorization_code",
            }
        )
        response = await self.get_auth_http_client().fetch(
            self._OAUTH_ACCESS_TOKEN_URL,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=body,
        )
        return cast(dict[str, Any], escape.json_decode(response.body))


class FacebookGraphMixin(OAuth2Mixin):
    """Login with Facebook and calls to the Graph API."""

    _OAUTH_ACCESS_TOKEN_URL = "https://graph.facebook.com/oauth/access_token"
    _OAUTH_AUTHORIZE_URL = "https://www.facebook.com/dialog/oauth?"
    _OAUTH_NO_CALLBACKS = False
    _FACEBOOK_BASE_URL = "https://graph.facebook.com"

    _DEFAULT_USER_FIELDS = frozenset(
        ["id", "name", "first_name", "last_name", "locale", "picture", "link"]
    )

    async def get_authenticated_user(
        self,
        redirect_uri: str,
        client_id: str,
        client_secret: str,
        code: str,
        extra_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Exchange ``code`` for an access token and fetch the user.

        Returns a dict of the user's ``id``, ``name``, ``first_name``,
        ``last_name``, ``locale``, ``picture`` and ``link`` plus any
        ``extra_fields`` (field names), with ``access_token`` and
        ``session_expires`` (the token lifetime in seconds, as a string)
        added; None if Facebook returns no user.
        """
        token_url = self._oauth_request_token_url(
            redirect_uri=redirect_uri,
            client_id=client_id,
            client_secret=client_secret,
            code=code,
        )
        response = await self.get_auth_http_client().fetch(token_url)
        session = escape.json_decode(response.body)
        access_token = session.get("access_token")
        if not access_token:
            raise AuthError(f"Facebook returned no access token: {response.body!r}")
        fields = self._DEFAULT_USER_FIELDS.union(extra_fields or ())
        proof = hmac.new(
            escape.utf8(client_secret), escape.utf8(access_token), hashlib.sha256
        )
        user = await self.facebook_request(
            path="/me",
            access_token=access_token,
            appsecret_proof=proof.hexdigest(),
            fields=",".join(sorted(fields)),
        )
        if user is None:
            return None
        result = {field: user.get(field) for field in fields}
        result["access_token"] = access_token
        result["session_expires"] = str(session.get("expires_in"))
        return result

    async def facebook_request(
        self,
        path: str,
        access_token: str | None = None,
        post_args: dict[str, Any] | None = None,
        **args: Any,
    ) -> Any:
        """Call the Graph API at ``path`` (e.g. ``"/me/feed"``).

        Works like ``oauth2_request``: keyword arguments become query
        arguments, ``post_args`` makes it a POST, and the decoded JSON
        response is returned.
        """
        return await self.oauth2_request(
            self._FACEBOOK_BASE_URL + path,
            access_token=access_token,
            post_args=post_args,
            **args,
        )


def _default_http_client() -> httpclient.AsyncHTTPClient:
    """The shared ``AsyncHTTPClient`` of the current event loop."""
    return cast(httpclient.AsyncHTTPClient, httpclient.AsyncHTTPClient())


async def _fetch_json(
    client: httpclient.AsyncHTTPClient,
    url: str,
    post_args: dict[str, Any] | None,
) -> Any:
    """GET ``url`` (or POST ``post_args`` to it) and decode the JSON answer."""
    if post_args is not None:
        body = urllib.parse.urlencode(post_args)
        response = await client.fetch(url, method="POST", body=body)
    else:
        response = await client.fetch(url)
    return escape.json_decode(response.body)


def _encode_request_token_cookie(token: _Token) -> str:
    key, secret = (base64.b64encode(escape.utf8(token[k])) for k in ("key", "secret"))
    return escape.to_unicode(key + b"|" + secret)


def _decode_request_token_cookie(cookie: str) -> _Token:
    try:
        key, secret = (
            base64.b64decode(escape.utf8(part)) for part in cookie.split("|")
        )
    except (ValueError, binascii.Error):
        raise AuthError(f"Malformed OAuth request token cookie {cookie!r}")
    return {"key": key, "secret": secret}


def _oauth_signature(
    consumer_token: _Token,
    method: str,
    url: str,
    parameters: dict[str, Any] | None = None,
    token: _Token | None = None,
    *,
    escape_secrets: bool = False,
) -> bytes:
    """The OAuth 1.0 HMAC-SHA1 signature of a request (base64, as bytes).

    OAuth 1.0a differs only in percent-encoding the secrets that make up the
    key: pass ``escape_secrets=True`` for it.
    """
    secrets = [consumer_token["secret"], token["secret"] if token else ""]
    if escape_secrets:
        secrets = [_oauth_escape(secret) for secret in secrets]
    key = b"&".join(escape.utf8(secret) for secret in secrets)
    message = _signature_base_string(method, url, parameters)
    digest = hmac.new(key, escape.utf8(message), hashlib.sha1).digest()
    return binascii.b2a_base64(digest, newline=False)


def _signature_base_string(
    method: str, url: str, parameters: dict[str, Any] | None
) -> str:
    """The text an OAuth 1 signature covers (RFC 5849 section 3.4.1)."""
    scheme, netloc, path = urllib.parse.urlparse(url)[:3]
    normalized_url = scheme.lower() + "://" + netloc.lower() + path
    normalized_params = "&".join(
        f"{name}={_oauth_escape(str(value))}"
        for name, value in sorted((parameters or {}).items())
    )
    return "&".join(
        _oauth_escape(part)
        for part in (method.upper(), normalized_url, normalized_params)
    )


def _oauth_escape(value: str | bytes) -> str:
    return urllib.parse.quote(escape.utf8(value), safe="~")


def _oauth_parse_response(body: bytes) -> _Token:
    """Parse a form-encoded token response into ``key``, ``secret`` and extras."""
    parsed = urllib.parse.parse_qs(escape.to_unicode(body), keep_blank_values=False)
    try:
        token = {
            "key": parsed["oauth_token"][0],
            "secret": parsed["oauth_token_secret"][0],
        }
    except KeyError as missing:
        raise AuthError(f"OAuth token response has no {missing}: {body!r}")
    for name, values in parsed.items():
        if name not in ("oauth_token", "oauth_token_secret"):
            token[name] = values[0]
    return token
