"""A pytest plugin for testing Tornado code: fixtures and the ``gen_test`` marker.

Installing the package registers it (through the ``pytest11`` entry point);
there is nothing to enable.  Fixture and marker names are those of the
pytest-tornado plugin, so suites written for it run unchanged::

    import pytest
    import tornado.web

    class HelloHandler(tornado.web.RequestHandler):
        def get(self):
            self.write("Hello, world")

    @pytest.fixture
    def app():
        return tornado.web.Application([("/", HelloHandler)])

    async def test_hello(http_client, base_url):
        response = await http_client.fetch(base_url + "/")
        assert response.body == b"Hello, world"

The plugin runs a test on its `.IOLoop` when the test is marked
``@pytest.mark.gen_test`` (an ``async def`` function, or a generator in the
`tornado.gen.coroutine` style), or is an ``async def`` function using the
``io_loop`` fixture or one built on it (``http_server``, ``http_client``...).
Other tests, including those that pytest-asyncio or anyio's plugin run, are
left alone.

A test runs for at most the marker's ``timeout`` argument, else the
``--async-test-timeout`` option, else ``$ASYNC_TEST_TIMEOUT``, else 5 seconds;
past that it is cancelled and fails with a `TimeoutError` that names it and
shows the line it was waiting at.  As with `.AsyncTestCase`, an exception
that escapes into the loop fails the test, and tasks it leaves pending are
cancelled and finished when the ``io_loop`` fixture closes.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import socket

    from tornado.httpclient import AsyncHTTPClient
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.testing import _EscapedErrors

# The tornado modules are imported when a fixture or test needs them, not
# when pytest loads this plugin (which it does in every run in the venv).

_MARKER = "gen_test"
_TIMEOUT_OPTION = "--async-test-timeout"
_LIMIT_SOURCE = (
    "the gen_test marker's timeout, --async-test-timeout or $ASYNC_TEST_TIMEOUT"
)
_escaped_errors_key: pytest.StashKey[_EscapedErrors] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--async-test-timeout``."""
    parser.getgroup("tornado").addoption(
        _TIMEOUT_OPTION,
        type=float,
        default=None,
        help="seconds a gen_test or async test may run "
        "(default: $ASYNC_TEST_TIMEOUT, or 5)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``gen_test`` marker (for ``--strict-markers``)."""
    config.addinivalue_line(
        "markers",
        "gen_test(timeout=None, run_sync=True): run a coroutine or generator "
        "test on the io_loop fixture's IOLoop, within a time limit",
    )


def _is_marked(collector: pytest.Module | pytest.Class, obj: object) -> bool:
    own_marks = getattr(obj, "pytestmark", [])
    return collector.get_closest_marker(_MARKER) is not None or any(
        mark.name == _MARKER for mark in own_marks
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> list[pytest.Item] | None:
    """Give marked tests the ``io_loop`` fixture; collect marked generators.

    pytest refuses generator functions as tests, so a marked one is
    collected here, parametrization included.
    """
    if not (collector.istestfunction(obj, name) and _is_marked(collector, obj)):
        return None
    pytest.mark.usefixtures("io_loop")(obj)
    if inspect.isgeneratorfunction(obj):
        return list(collector._genfunctions(name, obj))
    return None


def _time_limit(item: pytest.Function) -> float:
    marker = item.get_closest_marker(_MARKER)
    if marker is not None and marker.kwargs.get("timeout") is not None:
        return float(marker.kwargs["timeout"])
    option = item.config.getoption(_TIMEOUT_OPTION)
    if option is not None:
        return float(option)
    from tornado.testing import get_async_test_timeout

    return get_async_test_timeout()


def _runs_on_io_loop(item: pytest.Function) -> bool:
    if item.get_closest_marker(_MARKER) is not None:
        return True
    return inspect.iscoroutinefunction(item.obj) and "io_loop" in item.fixturenames


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a test this plugin claims on the ``io_loop`` fixture's loop."""
    if not _runs_on_io_loop(pyfuncitem):
        return None
    from tornado.testing import _run_test_function

    arguments = {
        name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames
    }
    io_loop = typing.cast("IOLoop", pyfuncitem.funcargs["io_loop"])
    _run_test_function(
        io_loop,
        functools.partial(pyfuncitem.obj, **arguments),
        limit=_time_limit(pyfuncitem),
        test_name=pyfuncitem.nodeid,
        limit_source=_LIMIT_SOURCE,
    )
    # An exception that escaped into the loop fails the test itself.
    pyfuncitem.stash[_escaped_errors_key].raise_first()
    return True


@pytest.fixture
def io_loop(request: pytest.FixtureRequest) -> Iterator[IOLoop]:
    """A new `.IOLoop` for the test, current while it runs, closed after.

    Closing cancels the tasks the test left pending and lets them finish;
    one that fails other than by its cancellation, or an exception that
    escaped into the loop, is reported as an error of the test.
    """
    from tornado.ioloop import IOLoop
    from tornado.testing import _EscapedErrors, _TestLoop

    escaped = _EscapedErrors()
    request.node.stash[_escaped_errors_key] = escaped
    loop = IOLoop(make_current=False)
    test_loop = _TestLoop(loop, escaped.add)
    yield loop
    test_loop.close()
    escaped.raise_first()


def _listener(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    from tornado.testing import bind_unused_port

    sock, _ = bind_unused_port()
    # The server adopts the socket; closing it twice is harmless.
    request.addfinalizer(sock.close)
    yield sock


@pytest.fixture
def _tornado_http_listener(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    """The listening socket behind ``http_port``."""
    yield from _listener(request)


@pytest.fixture
def _tornado_https_listener(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    """The listening socket behind ``https_port``."""
    yield from _listener(request)


@pytest.fixture
def http_port(_tornado_http_listener: socket.socket) -> int:
    """The loopback port ``http_server`` listens on (bound, not yet served)."""
    port: int = _tornado_http_listener.getsockname()[1]
    return port


@pytest.fixture
def https_port(_tornado_https_listener: socket.socket) -> int:
    """The loopback port ``https_server`` listens on (bound, not yet served)."""
    port: int = _tornado_https_listener.getsockname()[1]
    return port


@pytest.fixture
def base_url(request: pytest.FixtureRequest) -> str:
    """``http://127.0.0.1:<http_port>``; the ``https://`` URL in an HTTPS test.

    A test counts as an HTTPS test when it uses ``https_port`` (directly or
    through ``https_server`` or ``https_client``) and not ``http_port``.
    """
    used = request.fixturenames
    if "_tornado_https_listener" in used and "_tornado_http_listener" not in used:
        return f"https://127.0.0.1:{request.getfixturevalue('https_port')}"
    return f"http://127.0.0.1:{request.getfixturevalue('http_port')}"


@pytest.fixture
def base_urls(https_port: int) -> str:
    """``https://127.0.0.1:<https_port>``: the TLS counterpart of ``base_url``.

    Unlike ``base_url`` it never depends on which other fixtures the test
    uses, so a test using both servers can name each one's URL.
    """
    return f"https://127.0.0.1:{https_port}"


def _serve(
    io_loop: IOLoop, app: Any, listener: socket.socket, **options: Any
) -> Iterator[HTTPServer]:
    from tornado.httpserver import HTTPServer
    from tornado.testing import get_async_test_timeout

    server = HTTPServer(app, **options)
    server.add_sockets([listener])
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections, timeout=get_async_test_timeout())


@pytest.fixture
def http_server(
    io_loop: IOLoop, app: Any, _tornado_http_listener: socket.socket
) -> Iterator[HTTPServer]:
    """An `.HTTPServer` on ``http_port`` serving the ``app`` fixture.

    Define ``app`` yourself, returning a `tornado.web.Application` or any
    other delegate or callback `.HTTPServer` accepts.  The server is
    stopped, and its connections closed, after the test.
    """
    yield from _serve(io_loop, app, _tornado_http_listener)


@pytest.fixture
def ssl_options() -> dict[str, Any]:
    """``ssl_options`` for ``https_server``: the test suite's certificate.

    Define your own ``ssl_options`` fixture to use another certificate.
    """
    from tornado.testing import AsyncHTTPSTestCase

    return AsyncHTTPSTestCase.default_ssl_options()


@pytest.fixture
def https_server(
    io_loop: IOLoop,
    app: Any,
    ssl_options: Any,
    _tornado_https_listener: socket.socket,
) -> Iterator[HTTPServer]:
    """Like ``http_server``, over TLS on ``https_port`` with ``ssl_options``."""
    yield from _serve(io_loop, app, _tornado_https_listener, ssl_options=ssl_options)


@pytest.fixture
def http_client(io_loop: IOLoop, http_server: HTTPServer) -> Iterator[AsyncHTTPClient]:
    """An `.AsyncHTTPClient` on ``io_loop``, closed after the test.

    As in pytest-tornado, using it starts ``http_server`` (so the test
    module needs an ``app`` fixture); fetch ``base_url + path``.
    """
    from tornado.httpclient import AsyncHTTPClient

    client = AsyncHTTPClient()
    yield client
    client.close()


@pytest.fixture
def https_client(
    io_loop: IOLoop, https_server: HTTPServer
) -> Iterator[AsyncHTTPClient]:
    """An `.AsyncHTTPClient` of its own that accepts self-signed certificates.

    Using it starts ``https_server`` and makes ``base_url`` its ``https://``
    URL.
    """
    from tornado.httpclient import AsyncHTTPClient

    client = AsyncHTTPClient(force_instance=True, defaults={"validate_cert": False})
    yield client
    client.close()
