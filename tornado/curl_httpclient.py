"""An `.AsyncHTTPClient` implementation built on ``pycurl`` (libcurl).

Select it with::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

Compared with the default simple client it adds HTTP proxies (with basic or
digest authentication), digest authentication for the server itself, the
choice of outgoing network interface and direct access to the curl handle
through ``prepare_curl_callback``. It does not support ``body_producer``,
``ssl_options`` or ``expect_100_continue``.  It needs ``pycurl`` (the
``full`` extra of this package).

libcurl is driven through its "multi socket" interface: curl reports which
sockets and timers it needs and the `.IOLoop` calls back into it when they
fire, so many transfers share one thread. Each client owns ``max_clients``
curl handles; requests beyond that wait in a queue.

Some work is done by this module rather than by libcurl, so that both
clients behave alike:

* Redirects are followed here, with the rules of the simple client: 301
  and 302 turn a POST into a GET, 303 turns anything but HEAD into a GET
  (dropping the body and the headers describing it), 307 and 308 keep the
  method and body; credentials are not sent to another origin.
* With ``decompress_response``, ``Accept-Encoding: gzip`` is sent and a gzip
  body is decoded with `tornado.util.GzipDecompressor` (every member of a
  multi-member body; corrupt or truncated data fails the fetch with
  ``invalid gzip data: ...``). Other content codings are passed on as
  received.
* ``max_body_size`` bounds the decoded body, streamed or not.
* A ``streaming_callback`` gets the body on the `.IOLoop`; while more than
  1 MiB waits for it, the transfer is paused, so a fast server (or a small
  body that inflates hugely) cannot fill the memory. An exception it raises
  stops the transfer and fails the fetch with that exception.
"""

from __future__ import annotations

import collections
import functools
import inspect
import logging
import re
import threading
import time
import zlib
from asyncio import Future
from collections.abc import Callable
from io import BytesIO
from typing import Any

import pycurl

from tornado import httputil, ioloop
from tornado.escape import native_str, utf8
from tornado.httpclient import (
    _REDIRECT_CODES,
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _check_body_for_method,
    _follows_redirect,
    _redirected_request,
    _RequestProxy,
)
from tornado.log import app_log
from tornado.util import GzipDecompressor

__all__ = ["CurlAsyncHTTPClient", "CurlError", "CR_OR_LF_RE", "curl_log"]

curl_log = logging.getLogger("tornado.curl_httpclient")
"""Logger for curl's own verbose output (enabled at ``DEBUG`` level)."""

CR_OR_LF_RE = re.compile(b"\r|\n")
"""Matches the line breaks that must never appear inside a request header."""

_Callback = Callable[[HTTPResponse], None]
_Queued = tuple[HTTPRequest, _Callback, float]

# Methods curl knows by a dedicated option, and the extra ones sent through
# CUSTOMREQUEST without needing allow_nonstandard_methods.
_METHOD_OPTIONS = {
    "GET": pycurl.HTTPGET,
    "POST": pycurl.POST,
    "PUT": pycurl.UPLOAD,
    "HEAD": pycurl.NOBODY,
}
_CUSTOM_METHODS = frozenset(["DELETE", "OPTIONS", "PATCH"])

_AUTH_MODES = {
    None: pycurl.HTTPAUTH_BASIC,
    "basic": pycurl.HTTPAUTH_BASIC,
    "digest": pycurl.HTTPAUTH_DIGEST,
}

# How curl's poll requests map to IOLoop event masks.
_POLL_EVENTS = {
    pycurl.POLL_NONE: ioloop.IOLoop.NONE,
    pycurl.POLL_IN: ioloop.IOLoop.READ,
    pycurl.POLL_OUT: ioloop.IOLoop.WRITE,
    pycurl.POLL_INOUT: ioloop.IOLoop.READ | ioloop.IOLoop.WRITE,
}

# Prefixes for curl's verbose output, indexed by its debug message type.
_DEBUG_PREFIXES = ("I", "<", ">", "<", ">")


class CurlError(HTTPClientError):
    """A transfer failed inside libcurl.

    ``code`` is 599 like every transport failure; ``errno`` is curl's own
    error number (for example ``pycurl.E_OPERATION_TIMEDOUT``).
    """

    def __init__(self, errno: int, message: str) -> None:
        """Wrap curl error ``errno`` with its ``message``."""
        super().__init__(599, message)
        self.errno = errno
        """The libcurl error code (one of the ``pycurl.E_*`` constants)."""


# Streamed data waiting for the streaming_callback beyond which the transfer
# is paused, and how much a gzip body is decoded at a time.
_STREAM_BACKLOG_LIMIT = 1024 * 1024
_DECODE_STEP = 64 * 1024


class _BodyError(Exception):
    """A response body that must not be accepted; its transfer fails."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(message)
        self.errno = errno


class _Body:
    """Where a transfer's response body goes, decoded and within its limit.

    Without a ``streaming_callback`` the body is collected in `buffer`.
    With one, pieces wait in `backlog` until the client hands them to the
    callback; while more than ``_STREAM_BACKLOG_LIMIT`` bytes wait, no more
    input is taken (the transfer is paused). A gzip body (see
    `start_decoding`) is decoded here, at most ``_DECODE_STEP`` bytes at a
    time, so a small compressed body that inflates hugely costs bounded
    memory.
    """

    def __init__(self, streaming: bool, max_size: int) -> None:
        self.streaming = streaming
        self.max_size = max_size
        self.buffer = BytesIO()
        self.backlog: collections.deque[bytes] = collections.deque()
        self.backlog_size = 0
        self.size = 0
        self._decoder: GzipDecompressor | None = None
        # Compressed input not decoded yet, because the backlog is full.
        self._encoded = b""

    def start_decoding(self) -> None:
        """Decode the body from gzip from now on."""
        self._decoder = GzipDecompressor()

    def full(self) -> bool:
        """Whether input must wait until the backlog has been worked off."""
        return bool(self._encoded) or self.backlog_size > _STREAM_BACKLOG_LIMIT

    def take(self, data: bytes) -> None:
        """Accept received data. Raises `_BodyError`."""
        if self._decoder is None:
            self._add(data)
        else:
            self._encoded = data
            self.decode_more()

    def decode_more(self) -> None:
        """Decode held-back input while the backlog has room. Raises `_BodyError`."""
        decoder = self._decoder
        while self._encoded and decoder is not None:
            if self.streaming and self.backlog_size > _STREAM_BACKLOG_LIMIT:
                return
            try:
                piece = decoder.decompress(self._encoded, _DECODE_STEP)
            except zlib.error as e:
                raise _BodyError(
                    pycurl.E_BAD_CONTENT_ENCODING, f"invalid gzip data: {e}"
                )
            self._encoded = decoder.unconsumed_tail
            self._add(piece)

    def end(self) -> None:
        """The input is complete; raises `_BodyError` if it is not valid."""
        if self._decoder is not None:
            try:
                self._add(self._decoder.flush())
            except zlib.error as e:
                raise _BodyError(
                    pycurl.E_BAD_CONTENT_ENCODING, f"invalid gzip data: {e}"
                )

    def settled(self) -> bool:
        """Whether everything received has been decoded and handed over."""
        return not self._encoded and not self.backlog

    def _add(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_size:
            if self._decoder is not None:
                message = "decompressed body too large"
            else:
                message = f"body exceeded max_body_size of {self.max_size} bytes"
            raise _BodyError(pycurl.E_FILESIZE_EXCEEDED, message)
        if self.streaming:
            self.backlog.append(data)
            self.backlog_size += len(data)
        else:
            self.buffer.write(data)


class _Transfer:
    """What is known about the request a curl handle is working on."""

    def __init__(
        self,
        request: HTTPRequest,
        callback: _Callback,
        queued_at: float,
        max_body_size: int,
    ) -> None:
        self.request = request
        self.callback = callback
        self.queued_at = queued_at
        self.headers = httputil.HTTPHeaders()
        self.code: int | None = None
        self.reason: str | None = None
        # Why the transfer must fail, when we stopped it (a header we could
        # not parse, an unacceptable body, a failing streaming_callback).
        self.failure: BaseException | None = None
        self.body = _Body(request.streaming_callback is not None, max_body_size)
        # Whether this response is a redirect the client follows itself.
        self.redirecting = False
        self.paused = False
        self.draining = False
        # The response, once curl is done: delivered when the body is too.
        self.outcome: HTTPResponse | None = None
        self.start_time = time.time()
        self.start_loop_time = ioloop.IOLoop.current().time()


class CurlAsyncHTTPClient(AsyncHTTPClient):
    """Non-blocking HTTP client running libcurl transfers on the `.IOLoop`.

    ``max_clients`` is the number of simultaneous transfers (further
    requests are queued); ``max_body_size`` caps the size of a response body
    (larger ones fail with a `CurlError`).
    """

    def initialize(  # type: ignore[override]
        self,
        max_clients: int = 10,
        defaults: dict[str, Any] | None = None,
        max_body_size: int = 104857600,
    ) -> None:
        """Create the curl multi handle and ``max_clients`` easy handles."""
        super().initialize(defaults=defaults)
        self.max_body_size = max_body_size
        """Largest response body accepted, in bytes."""
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._set_timeout)
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._handle_socket)
        self._curls = [self._curl_create() for _ in range(max_clients)]
        self._free_list = list(self._curls)
        self._transfers: dict[int, _Transfer] = {}
        self._requests: collections.deque[_Queued] = collections.deque()
        self._fds: dict[int, int] = {}
        self._timeout: object | None = None
        # curl's timer callbacks are not always reliable with every libcurl
        # version; a slow periodic poke makes sure nothing stalls forever.
        self._force_timeout_callback = ioloop.PeriodicCallback(
            self._handle_force_timeout, 1000
        )
        self._force_timeout_callback.start()

    def close(self) -> None:
        """Stop all transfers and free the curl handles (idempotent)."""
        if self._closed:
            return
        self._force_timeout_callback.stop()
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None
        for fd in self._fds:
            self.io_loop.remove_handler(fd)
        self._fds.clear()
        for curl in self._curls:
            if id(curl) in self._transfers:
                self._multi.remove_handle(curl)
            curl.close()
        self._transfers.clear()
        self._multi.close()
        super().close()

    def fetch_impl(self, request: HTTPRequest, callback: _Callback) -> None:
        """Queue ``request`` and start it as soon as a curl handle is free."""
        self._requests.append((request, callback, self.io_loop.time()))
        self._process_queue()
        self._set_timeout(0)

    def handle_callback_exception(self, callback: Any) -> None:
        """Log an exception raised by a response ``callback``."""
        app_log.error("Exception in callback %r", callback, exc_info=True)

    # libcurl multi-socket plumbing

    def _handle_socket(self, event: int, fd: int, multi: Any, data: Any) -> None:
        """Called by curl to say which events it wants on ``fd``."""
        if event == pycurl.POLL_REMOVE:
            if fd in self._fds:
                self.io_loop.remove_handler(fd)
                del self._fds[fd]
            return
        events = _POLL_EVENTS[event]
        # curl may reuse a descriptor number for a new socket without
        # telling us the old one was closed, so always re-register.
        if fd in self._fds:
            self.io_loop.remove_handler(fd)
        self.io_loop.add_handler(fd, self._handle_events, events)
        self._fds[fd] = events

    def _set_timeout(self, msecs: int) -> None:
        """Called by curl to (re)schedule its timer; a negative value cancels it."""
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None
        if msecs >= 0:
            self._timeout = self.io_loop.add_timeout(
                self.io_loop.time() + msecs / 1000.0, self._handle_timeout
            )

    def _handle_events(self, fd: int, events: int) -> None:
        """Tell curl about activity on one of its sockets."""
        action = 0
        if events & ioloop.IOLoop.READ:
            action |= pycurl.CSELECT_IN
        if events & ioloop.IOLoop.WRITE:
            action |= pycurl.CSELECT_OUT
        self._drive(lambda: self._multi.socket_action(fd, action))

    def _handle_timeout(self) -> None:
        """Called when curl's timer expires."""
        self._timeout = None
        self._drive(lambda: self._multi.socket_action(pycurl.SOCKET_TIMEOUT, 0))
        # socket_action may not have rescheduled the timer; ask curl.
        new_timeout = self._multi.timeout()
        if new_timeout >= 0 and self._timeout is None:
            self._set_timeout(new_timeout)

    def _handle_force_timeout(self) -> None:
        """Let curl check its transfers' timeouts, in case a timer was missed."""
        self._drive(lambda: self._multi.socket_action(pycurl.SOCKET_TIMEOUT, 0))

    def _drive(self, step: Callable[[], tuple[int, int]]) -> None:
        """Run a curl multi operation to completion, then collect results."""
        while True:
            try:
                ret, _ = step()
            except pycurl.error as e:
                ret = int(e.args[0])
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        self._finish_pending_requests()

    def _finish_pending_requests(self) -> None:
        """Deliver the responses of finished transfers and start queued ones."""
        while True:
            num_queued, ok_list, err_list = self._multi.info_read()
            for curl in ok_list:
                self._finish(curl)
            for curl, errnum, errmsg in err_list:
                self._finish(curl, errnum, errmsg)
            if num_queued == 0:
                break
        self._process_queue()

    def _process_queue(self) -> None:
        """Start queued requests on free curl handles."""
        while self._free_list and self._requests:
            curl = self._free_list.pop()
            request, callback, queued_at = self._requests.popleft()
            transfer = _Transfer(request, callback, queued_at, self.max_body_size)
            try:
                curl.reset()
                self._curl_setup_request(curl, transfer)
            except Exception as e:
                # A request curl cannot express fails on its own; the handle
                # goes back to the pool untouched.
                self._free_list.append(curl)
                callback(HTTPResponse(request=request, code=599, error=e))
                continue
            self._transfers[id(curl)] = transfer
            self._multi.add_handle(curl)

    def _finish(
        self,
        curl: pycurl.Curl,
        curl_error: int | None = None,
        curl_message: str | None = None,
    ) -> None:
        """Free the handle of a finished transfer; deliver once the body is done."""
        transfer = self._transfers.pop(id(curl))
        self._multi.remove_handle(curl)
        self._free_list.append(curl)
        error: BaseException | None = None
        if transfer.failure is not None:
            error = transfer.failure
        elif curl_error:
            error = CurlError(curl_error, curl_message or "")
        transfer.outcome = self._response(curl, transfer, error)
        if error is not None or transfer.body.settled():
            self._deliver(transfer)

    def _response(
        self, curl: pycurl.Curl, transfer: _Transfer, error: BaseException | None
    ) -> HTTPResponse:
        """The response of a finished transfer (its body may still be coming)."""
        request = getattr(transfer.request, "original_request", transfer.request)
        common: dict[str, Any] = dict(
            request=request,
            reason=transfer.reason,
            request_time=self.io_loop.time() - transfer.start_loop_time,
            start_time=transfer.start_time,
            time_info=self._time_info(curl, transfer),
        )
        if error is not None:
            return HTTPResponse(code=599, error=error, **common)
        return HTTPResponse(
            code=curl.getinfo(pycurl.HTTP_CODE),
            headers=transfer.headers,
            buffer=transfer.body.buffer,
            effective_url=curl.getinfo(pycurl.EFFECTIVE_URL),
            **common,
        )

    def _deliver(self, transfer: _Transfer) -> None:
        """Hand the finished transfer's response over (or follow its redirect)."""
        response = transfer.outcome
        assert response is not None
        # Whether a response arrived (its code may still mean an error).
        received = response.error is None or response._error_is_response_code
        if received:
            try:
                transfer.body.end()
            except _BodyError as e:
                response = self._failed(transfer, CurlError(e.errno, str(e)))
                received = False
        if received:
            if transfer.redirecting:
                self._follow_redirect(transfer, response)
                return
            if self._redirect_limit_reached(transfer.request, response):
                limit = getattr(transfer.request, "original_request", transfer.request)
                response = self._failed(
                    transfer,
                    CurlError(
                        pycurl.E_TOO_MANY_REDIRECTS,
                        f"Maximum ({limit.max_redirects}) redirects followed",
                    ),
                )
        if response.buffer is not None:
            response.buffer.seek(0)
        self._run_callback(transfer.callback, response)

    @staticmethod
    def _failed(transfer: _Transfer, error: BaseException) -> HTTPResponse:
        response = transfer.outcome
        assert response is not None
        return HTTPResponse(
            response.request,
            599,
            error=error,
            request_time=response.request_time,
            start_time=response.start_time,
            time_info=response.time_info,
        )

    @staticmethod
    def _redirect_limit_reached(request: HTTPRequest, response: HTTPResponse) -> bool:
        """Whether the response is one more redirect than ``max_redirects`` allow.

        Reported as an error, as libcurl does when it follows redirects.
        """
        return (
            bool(request.follow_redirects)
            and response.code in _REDIRECT_CODES
            and "Location" in response.headers
            and not _follows_redirect(request, response.code, response.headers)
        )

    def _follow_redirect(self, transfer: _Transfer, response: HTTPResponse) -> None:
        """Fetch the target of a redirect; its response is the transfer's."""
        request = transfer.request
        assert isinstance(request, _RequestProxy)
        new_request = _redirected_request(
            request, response.code, response.headers["Location"]
        )
        original = getattr(request, "original_request", request.request)
        new_request.original_request = original  # type: ignore[attr-defined]
        fetched = self.fetch(new_request, raise_error=False)

        def pass_on(future: Future[HTTPResponse]) -> None:
            error = future.exception()
            outcome = (
                future.result()
                if error is None
                else HTTPResponse(
                    original, 599, error=error, effective_url=new_request.url
                )
            )
            self._run_callback(transfer.callback, outcome)

        fetched.add_done_callback(pass_on)

    def _run_callback(self, callback: _Callback, response: HTTPResponse) -> None:
        try:
            callback(response)
        except Exception:
            self.handle_callback_exception(callback)

    @staticmethod
    def _time_info(curl: pycurl.Curl, transfer: _Transfer) -> dict[str, float]:
        """Timings of the transfer's phases, as reported by curl."""
        return dict(
            queue=transfer.start_loop_time - transfer.queued_at,
            namelookup=curl.getinfo(pycurl.NAMELOOKUP_TIME),
            connect=curl.getinfo(pycurl.CONNECT_TIME),
            appconnect=curl.getinfo(pycurl.APPCONNECT_TIME),
            pretransfer=curl.getinfo(pycurl.PRETRANSFER_TIME),
            starttransfer=curl.getinfo(pycurl.STARTTRANSFER_TIME),
            total=curl.getinfo(pycurl.TOTAL_TIME),
            redirect=curl.getinfo(pycurl.REDIRECT_TIME),
        )

    # Per-request curl configuration

    def _curl_create(self) -> pycurl.Curl:
        """Make one easy handle (settings that survive ``reset`` go here too)."""
        return pycurl.Curl()

    def _curl_setup_request(self, curl: pycurl.Curl, transfer: _Transfer) -> None:
        """Translate ``transfer.request`` into options on a freshly reset handle."""
        request = transfer.request
        _check_body_for_method(request)
        if inspect.iscoroutinefunction(request.streaming_callback):
            raise TypeError(
                f"{type(self).__name__!r} does not support async streaming_callbacks."
            )
        if curl_log.isEnabledFor(logging.DEBUG):
            curl.setopt(pycurl.VERBOSE, 1)
            curl.setopt(pycurl.DEBUGFUNCTION, self._curl_debug)
        # Only HTTP(S), also when following redirects.
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.URL, native_str(request.url))
        curl.setopt(pycurl.HTTPHEADER, self._header_lines(request))
        curl.setopt(
            pycurl.HEADERFUNCTION,
            functools.partial(self._curl_header_callback, transfer),
        )
        curl.setopt(pycurl.WRITEFUNCTION, functools.partial(self._curl_write, transfer))
        # Redirects are followed by this client, with the same rules for
        # methods, bodies and headers as the simple client's.
        curl.setopt(pycurl.FOLLOWLOCATION, False)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, _millis(request.connect_timeout))
        curl.setopt(pycurl.TIMEOUT_MS, _millis(request.request_timeout))
        curl.setopt(
            pycurl.USERAGENT, request.user_agent or "Mozilla/5.0 (compatible; pycurl)"
        )
        if request.network_interface:
            curl.setopt(pycurl.INTERFACE, request.network_interface)
        self._setup_proxy(curl, request)
        self._setup_tls(curl, request)
        if request.allow_ipv6 is False:
            curl.setopt(pycurl.IPRESOLVE, pycurl.IPRESOLVE_V4)
        self._setup_method_and_body(curl, request)
        self._setup_auth(curl, request)
        if threading.active_count() > 1:
            # libcurl's default resolver uses signals for its timeouts, which
            # only works in the main thread.
            curl.setopt(pycurl.NOSIGNAL, 1)
        if request.prepare_curl_callback is not None:
            request.prepare_curl_callback(curl)

    @staticmethod
    def _header_lines(request: HTTPRequest) -> list[bytes]:
        """The request headers as lines for curl, refusing embedded line breaks.

        Values may be given as text (sent as Latin-1) or as bytes (sent as
        they are, e.g. UTF-8). The request's own headers are left alone.
        """
        headers = httputil.HTTPHeaders(request.headers)
        # Suppress headers curl would otherwise add on its own: an empty
        # value tells curl not to send the header at all.
        headers.setdefault("Expect", "")
        headers.setdefault("Pragma", "")
        if request.decompress_response:
            # Decoded by _Body, not by curl (see its documentation).
            headers["Accept-Encoding"] = "gzip"
        lines = [
            b"%s: %s" % (utf8(name), _header_bytes(value))
            for name, value in headers.get_all()
        ]
        for line in lines:
            if CR_OR_LF_RE.search(line):
                raise ValueError(f"Illegal characters in header (CR or LF): {line!r}")
        return lines

    @staticmethod
    def _setup_proxy(curl: pycurl.Curl, request: HTTPRequest) -> None:
        if not (request.proxy_host and request.proxy_port):
            return
        curl.setopt(pycurl.PROXY, request.proxy_host)
        curl.setopt(pycurl.PROXYPORT, request.proxy_port)
        if request.proxy_username:
            mode = request.proxy_auth_mode
            if mode not in _AUTH_MODES:
                raise ValueError(f"Unsupported proxy_auth_mode {mode}")
            credentials = httputil.encode_username_password(
                request.proxy_username, request.proxy_password or ""
            )
            curl.setopt(pycurl.PROXYUSERPWD, credentials)
            curl.setopt(pycurl.PROXYAUTH, _AUTH_MODES[mode])

    @staticmethod
    def _setup_tls(curl: pycurl.Curl, request: HTTPRequest) -> None:
        if request.ssl_options is not None:
            raise ValueError("ssl_options not supported in curl_httpclient")
        verify = bool(request.validate_cert)
        curl.setopt(pycurl.SSL_VERIFYPEER, 1 if verify else 0)
        curl.setopt(pycurl.SSL_VERIFYHOST, 2 if verify else 0)
        if request.ca_certs is not None:
            curl.setopt(pycurl.CAINFO, request.ca_certs)
        if request.client_cert is not None:
            curl.setopt(pycurl.SSLCERT, request.client_cert)
        if request.client_key is not None:
            curl.setopt(pycurl.SSLKEY, request.client_key)

    @staticmethod
    def _setup_method_and_body(curl: pycurl.Curl, request: HTTPRequest) -> None:
        method = request.method
        if method in _METHOD_OPTIONS:
            curl.setopt(_METHOD_OPTIONS[method], True)
        elif request.allow_nonstandard_methods or method in _CUSTOM_METHODS:
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        else:
            raise KeyError("unknown method " + method)
        if request.body_producer is not None:
            raise ValueError("body_producer is not supported by curl_httpclient")
        if request.body is None and method not in ("POST", "PUT", "PATCH"):
            return
        if method == "GET":
            raise ValueError("Body must be None for GET request")
        body = request.body or b""
        reader = BytesIO(body)

        def seek(offset: int, origin: int) -> int:
            # curl rewinds the body when it must resend it (redirects,
            # authentication challenges).
            reader.seek(offset, origin)
            return pycurl.SEEKFUNC_OK

        curl.setopt(pycurl.READFUNCTION, reader.read)
        curl.setopt(pycurl.SEEKFUNCTION, seek)
        if method == "POST":
            curl.setopt(pycurl.POSTFIELDSIZE, len(body))
        else:
            curl.setopt(pycurl.UPLOAD, True)
            curl.setopt(pycurl.INFILESIZE, len(body))

    @staticmethod
    def _setup_auth(curl: pycurl.Curl, request: HTTPRequest) -> None:
        if request.auth_username is None:
            curl_log.debug("%s %s", request.method, request.url)
            return
        mode = request.auth_mode
        if mode not in _AUTH_MODES:
            raise ValueError(f"Unsupported auth_mode {mode}")
        curl.setopt(pycurl.HTTPAUTH, _AUTH_MODES[mode])
        credentials = httputil.encode_username_password(
            request.auth_username, request.auth_password or ""
        )
        curl.setopt(pycurl.USERPWD, credentials)
        curl_log.debug(
            "%s %s (username: %r)", request.method, request.url, request.auth_username
        )

    # Callbacks from curl during a transfer

    def _curl_write(self, transfer: _Transfer, chunk: bytes) -> int | None:
        """Take a piece of the body from curl: None if taken, else pause or abort."""
        if transfer.failure is not None:
            return 0  # anything but len(chunk) aborts the transfer
        if transfer.redirecting:
            return None  # the body of a redirect is not interesting
        body = transfer.body
        if body.streaming and body.full():
            # curl keeps the chunk and offers it again once resumed.
            transfer.paused = True
            return pycurl.WRITEFUNC_PAUSE
        try:
            body.take(chunk)
        except _BodyError as e:
            transfer.failure = CurlError(e.errno, str(e))
            return 0
        if body.backlog:
            self._schedule_drain(transfer)
        return None

    def _schedule_drain(self, transfer: _Transfer) -> None:
        if not transfer.draining:
            transfer.draining = True
            self.io_loop.add_callback(self._drain, transfer)

    def _drain(self, transfer: _Transfer) -> None:
        """Give waiting body pieces to the streaming_callback; then resume curl.

        About as much as the backlog holds is handed over per call, so one
        fast transfer does not keep the loop from other work.
        """
        transfer.draining = False
        callback = transfer.request.streaming_callback
        body = transfer.body
        assert callback is not None
        handed_over = 0
        while body.backlog and transfer.failure is None:
            if handed_over > _STREAM_BACKLOG_LIMIT:
                self._schedule_drain(transfer)
                return
            piece = body.backlog.popleft()
            body.backlog_size -= len(piece)
            handed_over += len(piece)
            try:
                callback(piece)
                body.decode_more()
            except _BodyError as e:
                self._stop(transfer, CurlError(e.errno, str(e)))
            except Exception as e:
                self._stop(transfer, e)
        if transfer.failure is None:
            self._resume(transfer)

    def _resume(self, transfer: _Transfer) -> None:
        """Continue a transfer whose body pieces have all been handed over."""
        if transfer.outcome is not None:
            if transfer.body.settled():
                self._deliver(transfer)
            return
        curl = self._curl_of(transfer)
        if transfer.paused and curl is not None and not transfer.body.full():
            transfer.paused = False
            # May call _curl_write at once with the chunk it kept.
            curl.pause(pycurl.PAUSE_CONT)
            self._set_timeout(0)

    def _stop(self, transfer: _Transfer, error: BaseException) -> None:
        """Fail a transfer now (its streaming_callback raised, say)."""
        transfer.failure = error
        transfer.body.backlog.clear()
        curl = self._curl_of(transfer)
        if curl is not None:
            self._finish(curl)
            self._process_queue()
        elif transfer.outcome is not None:
            transfer.outcome = self._failed(transfer, error)
            self._run_callback(transfer.callback, transfer.outcome)

    def _curl_of(self, transfer: _Transfer) -> pycurl.Curl | None:
        """The curl handle still working on ``transfer``, if any."""
        for curl in self._curls:
            if self._transfers.get(id(curl)) is transfer:
                return curl
        return None

    def _curl_header_callback(self, transfer: _Transfer, raw_line: bytes) -> int | None:
        line = raw_line.decode("latin1")
        header_callback = transfer.request.header_callback
        if header_callback is not None:
            self.io_loop.add_callback(header_callback, line)
        line = line.rstrip()
        if line.startswith("HTTP/"):
            # A new response (after a 100 Continue) starts; forget the
            # previous one's headers.
            transfer.headers.clear()
            transfer.code, transfer.reason = _status_of(line)
        elif line:
            try:
                transfer.headers.parse_line(line)
            except httputil.HTTPInputError as e:
                transfer.failure = CurlError(pycurl.E_WRITE_ERROR, str(e))
                return -1  # anything but the line's length aborts the transfer
        elif transfer.code is not None and not 100 <= transfer.code < 200:
            return self._head_complete(transfer)
        return None

    def _head_complete(self, transfer: _Transfer) -> int | None:
        """Decide from the final response's head how its body is taken."""
        request, headers = transfer.request, transfer.headers
        transfer.redirecting = _follows_redirect(request, transfer.code, headers)
        if transfer.redirecting:
            return None
        if request.decompress_response and (
            headers.get("Content-Encoding", "").lower() == "gzip"
        ):
            headers.add("X-Consumed-Content-Encoding", headers["Content-Encoding"])
            del headers["Content-Encoding"]
            transfer.body.start_decoding()
            return None
        declared = headers.get("Content-Length", "")
        bodiless = request.method == "HEAD" or transfer.code in (204, 304)
        if (
            not bodiless
            and declared.isdigit()
            and int(declared) > transfer.body.max_size
        ):
            message = f"body exceeded max_body_size of {transfer.body.max_size} bytes"
            transfer.failure = CurlError(pycurl.E_FILESIZE_EXCEEDED, message)
            return -1
        return None

    def _curl_debug(self, debug_type: int, debug_msg: bytes) -> None:
        prefix = _DEBUG_PREFIXES[debug_type] if debug_type < 5 else "?"
        if debug_type == 0:
            curl_log.debug("%s", native_str(debug_msg).strip())
        elif debug_type in (1, 2):
            for line in native_str(debug_msg).splitlines():
                curl_log.debug("%s %s", prefix, line)
        elif debug_type == 4:
            curl_log.debug("%s %r", prefix, debug_msg)


def _header_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin1")


def _status_of(status_line: str) -> tuple[int | None, str | None]:
    """The code and reason phrase of a status line, as far as they can be read."""
    try:
        start_line = httputil.parse_response_start_line(status_line)
    except httputil.HTTPInputError:
        # HTTP/2 status lines ("HTTP/2 200") carry no reason phrase.
        parts = status_line.split()
        code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        return code, None
    return start_line.code, start_line.reason


def _millis(seconds: float | None) -> int:
    """A timeout in curl's milliseconds; 0 (no limit) for None."""
    return int(1000 * seconds) if seconds else 0
