"""HTTP clients: the non-blocking `AsyncHTTPClient` and the blocking `HTTPClient`.

A request is described by an `HTTPRequest` (or just a URL plus keyword
arguments); the answer is an `HTTPResponse`. Failures are reported with
`HTTPClientError`: for responses outside the 2xx range its ``code`` is the
HTTP status, and for transport problems (refused connections, timeouts,
malformed responses) it is the made-up status 599.

Two implementations exist and share this interface:
`~tornado.simple_httpclient.SimpleAsyncHTTPClient` (pure Python, the
default) and `~tornado.curl_httpclient.CurlAsyncHTTPClient` (based on
``pycurl``), each documented on its own page. Select one process-wide with `AsyncHTTPClient.configure`::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

Run ``python -m tornado.httpclient URL`` to fetch a URL from the command line.
"""

from __future__ import annotations

import copy
import datetime
import functools
import io
import ssl
import time
import urllib.parse
import weakref
from asyncio import Future
from collections.abc import Awaitable, Callable
from typing import Any, cast

from tornado import httputil
from tornado.concurrent import (
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.escape import native_str, utf8
from tornado.ioloop import IOLoop
from tornado.util import Configurable

__all__ = [
    "HTTPClient",
    "AsyncHTTPClient",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPClientError",
    "HTTPError",
    "main",
]

_HeadersArg = dict[str, str] | httputil.HTTPHeaders
_BodyProducer = Callable[[Callable[[bytes], Any]], Any]

# Methods whose requests carry a body; any other method must not have one
# (unless ``allow_nonstandard_methods`` is set).
_METHODS_WITH_BODY = frozenset(["POST", "PATCH", "PUT"])


class HTTPClient:
    """A blocking HTTP client, for scripts and other code without an event loop.

    It runs a private `.IOLoop` for each call to `fetch`, so it must not be
    used from a thread whose event loop is running (that raises
    `RuntimeError`); use `AsyncHTTPClient` there instead::

        client = HTTPClient()
        try:
            print(client.fetch("http://www.example.com/").body)
        finally:
            client.close()

    ``async_client_class`` picks the `AsyncHTTPClient` implementation that
    does the work (default: the configured one); ``kwargs`` are passed to it.
    """

    def __init__(
        self,
        async_client_class: type[AsyncHTTPClient] | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the private event loop and the asynchronous client in it."""
        # Set first so that __del__ works if construction fails.
        self._closed = True
        _forbid_running_loop()
        self._io_loop = IOLoop(make_current=False)
        client_class = async_client_class or AsyncHTTPClient

        async def make_client() -> AsyncHTTPClient:
            # The client binds to IOLoop.current(), so create it inside the loop.
            return cast(AsyncHTTPClient, client_class(**kwargs))

        self._async_client = cast(AsyncHTTPClient, self._io_loop.run_sync(make_client))
        self._closed = False

    def __del__(self) -> None:
        """Close the client if its owner forgot to."""
        self.close()

    def close(self) -> None:
        """Close the client and its event loop; further fetches are not allowed."""
        if self._closed:
            return
        self._async_client.close()
        self._io_loop.close()
        self._closed = True

    def fetch(self, request: HTTPRequest | str, **kwargs: Any) -> HTTPResponse:
        """Fetch ``request`` and return the `HTTPResponse`, blocking until done.

        Arguments are those of `AsyncHTTPClient.fetch`. A response with a
        non-2xx code raises `HTTPClientError` unless ``raise_error=False``.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed HTTPClient")
        _forbid_running_loop()
        fetch = functools.partial(self._async_client.fetch, request, **kwargs)
        return cast(HTTPResponse, self._io_loop.run_sync(fetch))


def _forbid_running_loop() -> None:
    """Raise `RuntimeError` if this thread is running an asyncio event loop."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "HTTPClient cannot be used while an event loop is running in this "
        "thread; use AsyncHTTPClient instead"
    )


class AsyncHTTPClient(Configurable):
    """A non-blocking HTTP client.

    `fetch` returns the `HTTPResponse`, or raises `HTTPClientError` for a
    status outside the 2xx range (``raise_error=False`` returns those
    responses too).  Here against a small server on a free loopback port:

    >>> import asyncio
    >>> from tornado.httpclient import AsyncHTTPClient, HTTPClientError
    >>> from tornado.httpserver import HTTPServer
    >>> from tornado.testing import bind_unused_port
    >>> from tornado.web import Application, RequestHandler
    >>> class Shout(RequestHandler):
    ...     def post(self):
    ...         self.write(self.request.body.upper())
    >>> async def main():
    ...     sock, port = bind_unused_port()
    ...     server = HTTPServer(Application([("/shout", Shout)]))
    ...     server.add_socket(sock)
    ...     client = AsyncHTTPClient()
    ...     base = f"http://127.0.0.1:{port}"
    ...     try:
    ...         response = await client.fetch(base + "/shout", method="POST", body="hi")
    ...         try:
    ...             await client.fetch(base + "/missing")
    ...         except HTTPClientError as e:
    ...             missing = e.code
    ...     finally:
    ...         server.stop()
    ...         await server.close_all_connections()
    ...     return response.code, response.body, missing
    >>> asyncio.run(main())
    (200, b'HI', 404)

    ``AsyncHTTPClient()`` does not always create a new object: there is one
    instance per `.IOLoop`, reused by every call made while that loop is
    current (the cache holds the loops weakly). Pass ``force_instance=True``
    to get a private instance, which you should `close` when done.

    Keyword arguments to the constructor (and to `configure`) are passed to
    the implementation's ``initialize``; they only take effect when a new
    instance is created. ``defaults`` is a dict of `HTTPRequest` attribute
    values used when a request leaves them as None.
    """

    _instance_cache: weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient] | None

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """Return `AsyncHTTPClient`, the base of the client hierarchy."""
        return AsyncHTTPClient

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """Return ``SimpleAsyncHTTPClient``, the implementation used by default."""
        from tornado.simple_httpclient import SimpleAsyncHTTPClient

        return SimpleAsyncHTTPClient

    @classmethod
    def _async_clients(cls) -> weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient]:
        # One cache per class, so that instantiating a specific subclass never
        # hands back an instance of a different one.
        attr_name = "_async_client_dict_" + cls.__name__
        if attr_name not in cls.__dict__:
            setattr(cls, attr_name, weakref.WeakKeyDictionary())
        return cast(
            "weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient]",
            cls.__dict__[attr_name],
        )

    def __new__(cls, force_instance: bool = False, **kwargs: Any) -> Any:
        """Return the current loop's shared client, creating it if needed.

        With ``force_instance=True`` a new, unshared client is created.
        """
        io_loop = IOLoop.current()
        instance_cache = None if force_instance else cls._async_clients()
        if instance_cache is not None and io_loop in instance_cache:
            return instance_cache[io_loop]
        instance = super().__new__(cls, **kwargs)
        # Configurable may return an instance of a different hierarchy; only
        # cache what actually belongs to this one.
        instance._instance_cache = instance_cache
        if instance_cache is not None:
            instance_cache[instance.io_loop] = instance
        return instance

    def initialize(self, defaults: dict[str, Any] | None = None) -> None:
        """Bind the client to the current `.IOLoop` and merge ``defaults``."""
        self.io_loop = IOLoop.current()
        """The `.IOLoop` this client runs on."""
        self.defaults: dict[str, Any] = dict(HTTPRequest._DEFAULTS)
        """Values used for request attributes left as None."""
        if defaults is not None:
            self.defaults.update(defaults)
        self._closed = False

    def close(self) -> None:
        """Free the resources used by this client.

        Needed only for clients created with ``force_instance=True`` (shared
        clients live as long as their loop), but allowed on any client; a
        closed shared client is dropped from the cache, so the next
        ``AsyncHTTPClient()`` makes a fresh one. Closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        if self._instance_cache is not None:
            cached = self._instance_cache.pop(self.io_loop, None)
            # Another client may be cached for the loop if this one was
            # constructed elsewhere; it must not be evicted by our close.
            if cached is not None and cached is not self:
                self._instance_cache[self.io_loop] = cached

    def fetch(
        self,
        request: str | HTTPRequest,
        raise_error: bool = True,
        **kwargs: Any,
    ) -> Future[HTTPResponse]:
        """Execute a request, returning a `~asyncio.Future` of its `HTTPResponse`.

        ``request`` is a URL or an `HTTPRequest`; with a URL, ``kwargs`` are
        the `HTTPRequest` arguments (they are not allowed with an object).

        By default the future raises `HTTPClientError` when the response
        code is not 2xx. With ``raise_error=False`` such responses are
        returned instead; errors that produced no response at all (code 599:
        connection failures, timeouts, ...) are raised either way.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed AsyncHTTPClient")
        if not isinstance(request, HTTPRequest):
            request = HTTPRequest(url=request, **kwargs)
        elif kwargs:
            raise ValueError("kwargs can't be used if request is an HTTPRequest object")
        # Implementations may modify the headers, so give them their own copy
        # (which also turns a plain dict into HTTPHeaders).
        request.headers = httputil.HTTPHeaders(request.headers)
        proxy = _RequestProxy(request, self.defaults)
        future: Future[HTTPResponse] = Future()

        def handle_response(response: HTTPResponse) -> None:
            error = response.error
            if error is not None and (
                raise_error or not response._error_is_response_code
            ):
                future_set_exception_unless_cancelled(future, error)
            else:
                future_set_result_unless_cancelled(future, response)

        self.fetch_impl(cast(HTTPRequest, proxy), handle_response)
        return future

    def fetch_impl(
        self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]
    ) -> None:
        """Perform ``request`` and call ``callback`` with the `HTTPResponse`.

        Implemented by subclasses; ``request`` has the client's defaults
        applied. Errors must be delivered as a response, not raised.
        """
        raise NotImplementedError()

    @classmethod
    def configure(cls, impl: None | str | type[Configurable], **kwargs: Any) -> None:
        """Choose the implementation used when `AsyncHTTPClient` is called.

        ``impl`` is a subclass or its dotted name (None restores the
        default). ``kwargs`` become default constructor arguments, e.g.::

            AsyncHTTPClient.configure(None, max_clients=50, defaults=dict(
                user_agent="MyAgent"))

        Only clients created afterwards are affected.
        """
        super().configure(impl, **kwargs)


class HTTPRequest:
    """Everything needed to make one HTTP request.

    Every argument except ``url`` is optional; arguments left as None take
    the client's ``defaults`` (see `AsyncHTTPClient`) or else these values:
    ``connect_timeout`` and ``request_timeout`` 20 seconds,
    ``follow_redirects`` True, ``max_redirects`` 5, ``decompress_response``
    True, ``validate_cert`` True, ``allow_nonstandard_methods`` False.

    :arg str url: the URL to fetch.
    :arg str method: the HTTP method, ``"GET"`` by default.
    :arg headers: extra request headers, a dict or `.HTTPHeaders`.
    :arg body: the request body (str is encoded as UTF-8). Required for
        POST, PATCH and PUT and forbidden for other methods, unless
        ``allow_nonstandard_methods`` is true.
    :arg body_producer: instead of ``body``, a callable that receives a
        ``write`` function and produces the body through it (returning a
        `~asyncio.Future` if it works asynchronously). Send ``Content-Length`` yourself
        or the body is sent with chunked encoding (not supported by every
        server). Only the simple client supports it.
    :arg str auth_username: user name for HTTP authentication.
    :arg str auth_password: password for HTTP authentication.
    :arg str auth_mode: ``"basic"`` (the default) or ``"digest"`` (curl only).
    :arg float connect_timeout: seconds allowed to open the connection.
    :arg float request_timeout: seconds allowed for the whole request.
    :arg if_modified_since: a `datetime.datetime` or timestamp sent as the
        ``If-Modified-Since`` header.
    :arg bool follow_redirects: whether 3xx redirects are followed.
    :arg int max_redirects: how many redirects to follow at most.
    :arg str user_agent: the ``User-Agent`` header.
    :arg bool decompress_response: ask for a gzip-compressed response and
        decompress it transparently.
    :arg bool use_gzip: older name of ``decompress_response``.
    :arg str network_interface: interface or address to send from (curl
        only).
    :arg streaming_callback: called with each chunk of the body as it comes
        in; the response's ``body`` and ``buffer`` then stay empty. With the
        simple client it may be a coroutine function: each call is awaited
        before the next chunk is read, which slows the server down to the
        callback's pace (the curl client refuses those). An exception it
        raises fails the fetch with code 599.
    :arg header_callback: called with each raw header line (the status line
        first, a blank line last); the response's ``headers`` stay empty. An
        exception it raises fails the fetch with code 599.
    :arg prepare_curl_callback: called with the ``pycurl.Curl`` object just
        before the transfer, to set options this class does not cover
        (curl only).
    :arg str proxy_host: HTTP proxy host (curl only).
    :arg int proxy_port: HTTP proxy port.
    :arg str proxy_username: proxy user name.
    :arg str proxy_password: proxy password.
    :arg str proxy_auth_mode: ``"basic"`` (the default) or ``"digest"``.
    :arg bool allow_nonstandard_methods: allow unknown methods and lift the
        body checks described above.
    :arg bool validate_cert: verify the server's TLS certificate.
    :arg str ca_certs: file of CA certificates to verify against (default:
        the system's).
    :arg bool allow_ipv6: whether IPv6 addresses may be used (default True).
    :arg str client_key: private key file for a client certificate.
    :arg str client_cert: client certificate file.
    :arg ssl_options: an `ssl.SSLContext` or dict of ``ssl.wrap_socket``
        arguments, overriding ``validate_cert``, ``ca_certs`` and the client
        certificate (simple client only).
    :arg bool expect_100_continue: send ``Expect: 100-continue`` and wait
        for the interim response before sending the body (simple client only).
    """

    _headers: _HeadersArg
    _body: bytes | None

    # Values used for attributes left as None; clients' ``defaults`` start
    # from a copy of this.
    _DEFAULTS: dict[str, Any] = {
        # Time limits, in seconds.
        "connect_timeout": 20.0,
        "request_timeout": 20.0,
        # What a client does on its own unless told otherwise.
        "follow_redirects": True,
        "max_redirects": 5,
        "decompress_response": True,
        "validate_cert": True,
        "allow_nonstandard_methods": False,
        # A proxy user name without a password has an empty one.
        "proxy_password": "",
    }

    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: _HeadersArg | None = None,
        body: bytes | str | None = None,
        auth_username: str | None = None,
        auth_password: str | None = None,
        auth_mode: str | None = None,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        if_modified_since: float | datetime.datetime | None = None,
        follow_redirects: bool | None = None,
        max_redirects: int | None = None,
        user_agent: str | None = None,
        use_gzip: bool | None = None,
        network_interface: str | None = None,
        streaming_callback: Callable[[bytes], Awaitable[None] | None] | None = None,
        header_callback: Callable[[str], None] | None = None,
        prepare_curl_callback: Callable[[Any], None] | None = None,
        proxy_host: str | None = None,
        proxy_port: int | None = None,
        proxy_username: str | None = None,
        proxy_password: str | None = None,
        proxy_auth_mode: str | None = None,
        allow_nonstandard_methods: bool | None = None,
        validate_cert: bool | None = None,
        ca_certs: str | None = None,
        allow_ipv6: bool | None = None,
        client_key: str | None = None,
        client_cert: str | None = None,
        body_producer: _BodyProducer | None = None,
        expect_100_continue: bool = False,
        decompress_response: bool | None = None,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
    ) -> None:
        """Store the request's parameters; see the class documentation."""
        self.headers = headers
        if if_modified_since:
            self.headers["If-Modified-Since"] = httputil.format_timestamp(
                if_modified_since
            )
        self.url = url
        """The URL to fetch."""
        self.method = method
        """The HTTP method."""
        self.body = body
        self.body_producer = body_producer
        """Callable producing the body, or None."""
        self.auth_username = auth_username
        """User name for HTTP authentication."""
        self.auth_password = auth_password
        """Password for HTTP authentication."""
        self.auth_mode = auth_mode
        """``"basic"`` or ``"digest"`` (None means basic)."""
        self.connect_timeout = connect_timeout
        """Seconds allowed to connect."""
        self.request_timeout = request_timeout
        """Seconds allowed for the whole request."""
        self.follow_redirects = follow_redirects
        """Whether redirects are followed."""
        self.max_redirects = max_redirects
        """How many redirects are followed at most."""
        self.user_agent = user_agent
        """Value of the ``User-Agent`` header."""
        if decompress_response is None:
            decompress_response = use_gzip
        self.decompress_response = decompress_response
        """Whether a gzip-encoded response is requested and decoded."""
        self.network_interface = network_interface
        """Outgoing interface (curl only)."""
        self.streaming_callback = streaming_callback
        """Receives body chunks as they arrive."""
        self.header_callback = header_callback
        """Receives raw header lines as they arrive."""
        self.prepare_curl_callback = prepare_curl_callback
        """Receives the ``pycurl.Curl`` object before the transfer (curl only)."""
        self.proxy_host = proxy_host
        """HTTP proxy host."""
        self.proxy_port = proxy_port
        """HTTP proxy port."""
        self.proxy_username = proxy_username
        """Proxy user name."""
        self.proxy_password = proxy_password
        """Proxy password."""
        self.proxy_auth_mode = proxy_auth_mode
        """Proxy authentication mode, ``"basic"`` or ``"digest"``."""
        self.allow_nonstandard_methods = allow_nonstandard_methods
        """Whether any method and body combination is allowed."""
        self.validate_cert = validate_cert
        """Whether the server certificate is verified."""
        self.ca_certs = ca_certs
        """File of CA certificates."""
        self.allow_ipv6 = allow_ipv6
        """Whether IPv6 addresses may be used."""
        self.client_key = client_key
        """Private key file of the client certificate."""
        self.client_cert = client_cert
        """Client certificate file."""
        self.ssl_options = ssl_options
        """`ssl.SSLContext` or dict of TLS settings (simple client only)."""
        self.expect_100_continue = expect_100_continue
        """Whether to wait for ``100 Continue`` before sending the body."""
        self.start_time = time.time()
        """Wall-clock time (`time.time`) when the request was created."""

    @property
    def headers(self) -> httputil.HTTPHeaders:
        """The request headers (`.HTTPHeaders`, or the dict that was given)."""
        # A plain dict is kept until fetch() copies it into HTTPHeaders.
        return self._headers  # type: ignore[return-value]

    @headers.setter
    def headers(self, value: _HeadersArg | None) -> None:
        self._headers = httputil.HTTPHeaders() if value is None else value

    @property
    def body(self) -> bytes | None:
        """The request body as bytes, or None."""
        return self._body

    @body.setter
    def body(self, value: bytes | str | None) -> None:
        self._body = utf8(value)


class HTTPResponse:
    """The outcome of a request.

    Attributes:

    * ``request``: the `HTTPRequest` that was made.
    * ``code``: the numeric status (599 for transport errors).
    * ``reason``: the reason phrase from the status line (or the standard
      one for the code).
    * ``headers``: the response `.HTTPHeaders`.
    * ``effective_url``: the URL finally fetched, after any redirects.
    * ``buffer``: an `io.BytesIO` holding the body, or None.
    * ``body``: the body as bytes (empty if there is none).
    * ``error``: the exception describing a failure, or None. Any code
      outside 200-299 gets an `HTTPClientError` here.
    * ``request_time``: seconds from the start of the request to the end.
    * ``start_time``: `time.time` when the request started (as opposed to
      when it was created, as it may wait in a queue first).
    * ``time_info``: a dict of timing details where the client provides
      them (the curl client fills in its transfer phases).
    """

    # Class-level values for responses built without running __init__.
    error: BaseException | None = None
    _error_is_response_code = False
    request: HTTPRequest

    def __init__(
        self,
        request: HTTPRequest,
        code: int,
        headers: httputil.HTTPHeaders | None = None,
        buffer: io.BytesIO | None = None,
        effective_url: str | None = None,
        error: BaseException | None = None,
        request_time: float | None = None,
        time_info: dict[str, float] | None = None,
        reason: str | None = None,
        start_time: float | None = None,
    ) -> None:
        """Assemble the response; an error is derived from ``code`` if not given."""
        if isinstance(request, _RequestProxy):
            request = request.request
        self.request = request
        self.code = code
        self.reason = reason or httputil.responses.get(code, "Unknown")
        self.headers = headers if headers is not None else httputil.HTTPHeaders()
        self.buffer = buffer
        self._body: bytes | None = None
        self.effective_url = request.url if effective_url is None else effective_url
        self._error_is_response_code = False
        if error is None and not 200 <= code < 300:
            self._error_is_response_code = True
            error = HTTPClientError(code, message=self.reason, response=self)
        self.error = error
        self.start_time = start_time
        self.request_time = request_time
        self.time_info = time_info or {}

    @property
    def body(self) -> bytes:
        """The response body (read from ``buffer`` the first time)."""
        if self.buffer is None:
            return b""
        if self._body is None:
            self._body = self.buffer.getvalue()
        return self._body

    def rethrow(self) -> None:
        """Raise ``error`` if the request failed; do nothing otherwise."""
        if self.error:
            raise self.error

    def __repr__(self) -> str:
        """Show every attribute, for debugging."""
        fields = ",".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items()))
        return f"{self.__class__.__name__}({fields})"


class HTTPClientError(Exception):
    """Raised for a failed HTTP request.

    ``code`` is the HTTP status of a non-2xx response, or 599 when there
    was no usable response (timeouts, connection errors). ``message``
    describes the error and ``response`` is the `HTTPResponse` when there
    is one. By default, redirects are followed and do not raise; with
    ``follow_redirects=False`` they raise with their 3xx code.

    Also available under its older name ``tornado.httpclient.HTTPError``.
    """

    def __init__(
        self,
        code: int,
        message: str | None = None,
        response: HTTPResponse | None = None,
    ) -> None:
        """Record the code, a message (standard reason by default) and response."""
        self.code = code
        """The HTTP status, or 599 for transport failures."""
        self.message = message or httputil.responses.get(code, "Unknown")
        """A human-readable description."""
        self.response = response
        """The `HTTPResponse`, if one was received."""
        super().__init__(code, message, response)

    def __str__(self) -> str:
        """Return ``"HTTP <code>: <message>"``."""
        return f"HTTP {self.code}: {self.message}"

    def __repr__(self) -> str:
        """Same as `str`: the response object would make it unreadable."""
        return str(self)


HTTPError = HTTPClientError


class _RequestProxy:
    """Read-only view of a request that fills in None attributes from defaults."""

    def __init__(self, request: HTTPRequest, defaults: dict[str, Any] | None) -> None:
        self.request = request
        self.defaults = defaults

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.request, name)
        if value is not None:
            return value
        if self.defaults is not None:
            return self.defaults.get(name)
        return None


_REDIRECT_CODES = frozenset([301, 302, 303, 307, 308])
# How a body is delimited: worked out for each request, never inherited.
_FRAMING_HEADERS = ("Content-Length", "Transfer-Encoding")
# Headers describing a body, dropped when a redirect turns the request into GET.
_BODY_HEADERS = ("Content-Type", "Content-Encoding")
# Headers that carry credentials, not sent on to a different origin.
_CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")


def _follows_redirect(
    request: HTTPRequest, code: int | None, headers: httputil.HTTPHeaders
) -> bool:
    """Whether a response with ``code`` and ``headers`` is a redirect to follow."""
    return (
        bool(request.follow_redirects)
        and code in _REDIRECT_CODES
        and (request.max_redirects or 0) > 0
        and headers.get("Location") is not None
    )


def _redirected_request(
    request: _RequestProxy, code: int, location: str
) -> HTTPRequest:
    """The request to make for a redirect, by the rules of RFC 9110 15.4.

    Shared by the clients. The framing headers are never inherited (they
    are worked out anew for each request); a redirect that turns the
    request into a GET drops the body and the headers describing it; one to
    another origin drops the credentials.
    """
    new_request = copy.copy(request.request)
    new_request.url = urllib.parse.urljoin(request.url, location)
    new_request.max_redirects = (request.max_redirects or 0) - 1
    headers = httputil.HTTPHeaders(request.headers)
    for name in ("Host", *_FRAMING_HEADERS):
        headers.pop(name, None)
    if _becomes_get(code, request.method):
        new_request.method = "GET"
        new_request.body = None
        new_request.body_producer = None
        for name in _BODY_HEADERS:
            headers.pop(name, None)
    if _origin(new_request.url) != _origin(request.url):
        new_request.auth_username = new_request.auth_password = None
        for name in _CREDENTIAL_HEADERS:
            headers.pop(name, None)
    new_request.headers = headers
    return new_request


def _becomes_get(code: int, method: str) -> bool:
    """Whether a redirect with ``code`` turns a ``method`` request into a GET.

    301 and 302 do so for POST only (as browsers do); 303 ("see other")
    does for anything but HEAD; 307 and 308 never change the method.
    """
    if code in (301, 302):
        return method == "POST"
    return code == 303 and method != "HEAD"


def _origin(url: str) -> tuple[str, str, int | None]:
    """The (scheme, host, port) triple that decides whether credentials travel."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    port = parsed.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parsed.hostname or "").lower(), port


def _check_body_for_method(request: HTTPRequest) -> None:
    """Raise `ValueError` if the presence of a body does not suit the method.

    POST, PATCH and PUT need a body (or body producer) and other methods must
    not have one, unless ``allow_nonstandard_methods`` is set. Shared by the
    client implementations.
    """
    if request.allow_nonstandard_methods:
        return
    body_expected = request.method in _METHODS_WITH_BODY
    body_present = request.body is not None or request.body_producer is not None
    if body_expected != body_present:
        raise ValueError(
            f"Body must {'not ' if body_expected else ''}be None for method "
            f"{request.method} (unless allow_nonstandard_methods is true)"
        )


def main() -> None:
    """Fetch the URLs given on the command line and print the results.

    Options: ``--print_headers`` (default off), ``--print_body`` (on),
    ``--follow_redirects`` (on), ``--validate_cert`` (on), ``--proxy_host``
    and ``--proxy_port``. Error responses are printed like any other.
    """
    from tornado.options import define, options, parse_command_line

    define("print_headers", type=bool, default=False)
    define("print_body", type=bool, default=True)
    define("follow_redirects", type=bool, default=True)
    define("validate_cert", type=bool, default=True)
    define("proxy_host", type=str)
    define("proxy_port", type=int)
    urls = parse_command_line()
    client = HTTPClient()
    try:
        for url in urls:
            try:
                response = client.fetch(
                    url,
                    follow_redirects=options.follow_redirects,
                    validate_cert=options.validate_cert,
                    proxy_host=options.proxy_host,
                    proxy_port=options.proxy_port,
                )
            except HTTPClientError as e:
                if e.response is None:
                    raise
                response = e.response
            if options.print_headers:
                print(response.headers)
            if options.print_body:
                print(native_str(response.body))
    finally:
        client.close()


if __name__ == "__main__":
    # Run the copy imported as tornado.httpclient, so that the exception
    # classes main() catches are the ones the client raises (this file is
    # also loaded separately as __main__).
    from tornado.httpclient import main as imported_main

    imported_main()
