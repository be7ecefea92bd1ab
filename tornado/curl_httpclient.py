"""An `.AsyncHTTPClient` implementation built on ``pycurl`` (libcurl).

Select it with::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

Compared with the default simple client it adds HTTP proxies (with basic or
digest authentication), digest authentication for the server itself, the
choice of outgoing network interface and direct access to the curl handle
through ``prepare_curl_callback``. It does not support ``body_producer``,
``ssl_options`` or ``expect_100_continue``.

libcurl is driven through its "multi socket" interface: curl reports which
sockets and timers it needs and the `.IOLoop` calls back into it when they
fire, so many transfers share one thread. Each client owns ``max_clients``
curl handles; requests beyond that wait in a queue.
"""

from __future__ import annotations

import collections
import functools
import logging
import re
import threading
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

import pycurl

from tornado import httputil, ioloop
from tornado.escape import native_str, utf8
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _check_body_for_method,
)
from tornado.log import app_log

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


class _Transfer:
    """What is known about the request a curl handle is working on."""

    def __init__(self, request: HTTPRequest, callback: _Callback, queued_at: float):
        self.request = request
        self.callback = callback
        self.queued_at = queued_at
        self.headers = httputil.HTTPHeaders()
        self.reason: str | None = None
        # A response header we could not parse; it aborts the transfer.
        self.header_error: httputil.HTTPInputError | None = None
        self.buffer = BytesIO()
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
            transfer = _Transfer(request, callback, queued_at)
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
        """Build the response of a finished transfer and hand it over."""
        transfer = self._transfers.pop(id(curl))
        self._multi.remove_handle(curl)
        self._free_list.append(curl)
        buffer: BytesIO | None = transfer.buffer
        error: CurlError | None = None
        effective_url: str | None = None
        if curl_error:
            if transfer.header_error is not None:
                curl_message = str(transfer.header_error)
            error = CurlError(curl_error, curl_message or "")
            code = 599
            transfer.buffer.close()
            buffer = None
        else:
            code = curl.getinfo(pycurl.HTTP_CODE)
            effective_url = curl.getinfo(pycurl.EFFECTIVE_URL)
            transfer.buffer.seek(0)
        time_info = self._time_info(curl, transfer)
        response = HTTPResponse(
            request=transfer.request,
            code=code,
            headers=transfer.headers,
            buffer=buffer,
            effective_url=effective_url,
            error=error,
            reason=transfer.reason,
            request_time=self.io_loop.time() - transfer.start_loop_time,
            start_time=transfer.start_time,
            time_info=time_info,
        )
        try:
            transfer.callback(response)
        except Exception:
            self.handle_callback_exception(transfer.callback)

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
        curl.setopt(pycurl.MAXFILESIZE_LARGE, self.max_body_size)
        curl.setopt(pycurl.FOLLOWLOCATION, request.follow_redirects)
        curl.setopt(pycurl.MAXREDIRS, request.max_redirects)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, _millis(request.connect_timeout))
        curl.setopt(pycurl.TIMEOUT_MS, _millis(request.request_timeout))
        curl.setopt(
            pycurl.USERAGENT, request.user_agent or "Mozilla/5.0 (compatible; pycurl)"
        )
        if request.network_interface:
            curl.setopt(pycurl.INTERFACE, request.network_interface)
        if request.decompress_response:
            curl.setopt(pycurl.ENCODING, "gzip,deflate")
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
        """The request headers as lines for curl, refusing embedded line breaks."""
        headers = request.headers
        # Suppress headers curl would otherwise add on its own: an empty
        # value tells curl not to send the header at all.
        headers.setdefault("Expect", "")
        headers.setdefault("Pragma", "")
        lines = [
            b"%s: %s" % (utf8(name), value.encode("latin1"))
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

    def _curl_write(self, transfer: _Transfer, chunk: bytes) -> None:
        callback = transfer.request.streaming_callback
        if callback is not None:
            self.io_loop.add_callback(callback, chunk)
        else:
            transfer.buffer.write(chunk)

    def _curl_header_callback(self, transfer: _Transfer, raw_line: bytes) -> int | None:
        line = raw_line.decode("latin1")
        header_callback = transfer.request.header_callback
        if header_callback is not None:
            self.io_loop.add_callback(header_callback, line)
        line = line.rstrip()
        if line.startswith("HTTP/"):
            # A new response (after a redirect or a 100 Continue) starts;
            # forget the previous one's headers.
            transfer.headers.clear()
            transfer.reason = _reason_phrase(line)
        elif line:
            try:
                transfer.headers.parse_line(line)
            except httputil.HTTPInputError as e:
                transfer.header_error = e
                return -1  # anything but the line's length aborts the transfer
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


def _reason_phrase(status_line: str) -> str | None:
    """The reason phrase of a status line, or None if curl saw something else."""
    try:
        return httputil.parse_response_start_line(status_line).reason
    except httputil.HTTPInputError:
        # HTTP/2 status lines ("HTTP/2 200") carry no reason phrase.
        return None


def _millis(seconds: float | None) -> int:
    """A timeout in curl's milliseconds; 0 (no limit) for None."""
    return int(1000 * seconds) if seconds else 0
