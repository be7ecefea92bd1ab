"""The pytest plugin, driven through pytest's own ``pytester`` fixture.

Each test writes small test files and runs pytest on them in a child
process, where the plugin is loaded the way a user gets it: through the
``pytest11`` entry point of the installed package.  pytest-asyncio and
anyio's plugin are installed in the same venv (dev dependencies) and so are
loaded in every child too.

This module runs under pytest only (``python -m pytest tornado/test``); the
unittest runner finds no tests in it.
"""

from __future__ import annotations

import importlib.metadata
import os
import textwrap

import pytest

import tornado

pytest_plugins = ["pytester"]

# Hypothesis's plugin (also in the venv) costs a second of start-up per child
# and has nothing to do with what is tested here.
CHILD_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

# Every child run treats warnings as errors, as our own suite does, so a
# "coroutine was never awaited" or "Task was destroyed" fails the test.
INI = """\
[pytest]
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

HELLO_APP = """
import asyncio

import pytest
import tornado.web
from tornado import gen


class HelloHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, " + self.request.protocol)


@pytest.fixture
def app():
    return tornado.web.Application([("/", HelloHandler)], log_function=lambda h: None)
"""


def run(
    pytester: pytest.Pytester, source: str, *args: str, prelude: str = HELLO_APP
) -> pytest.RunResult:
    """Write ``prelude`` and ``source`` as a test file; run pytest on it."""
    pytester.makefile(".ini", pytest=INI)
    pytester.makepyfile(test_sample=prelude + textwrap.dedent(source))
    return pytester.runpytest_subprocess(*CHILD_ARGS, *args, timeout=60)


def test_entry_point_registers_this_checkout() -> None:
    points = [
        ep
        for ep in importlib.metadata.entry_points(group="pytest11")
        if ep.value == "tornado.pytest_plugin"
    ]
    assert points, (
        "tornado's pytest11 entry point is not registered in this venv: "
        "run `pip install -e .` in the checkout"
    )
    assert points[0].load().__file__ == os.path.join(
        os.path.dirname(tornado.__file__), "pytest_plugin.py"
    )


def test_passing_tests(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.gen_test
        def test_generator(http_client, base_url):
            response = yield http_client.fetch(base_url)
            assert response.body == b"Hello, http"

        @pytest.mark.gen_test
        async def test_marked_async(http_client, base_url):
            response = await http_client.fetch(base_url)
            assert response.code == 200

        async def test_unmarked_async_on_io_loop(io_loop):
            assert tornado.ioloop.IOLoop.current() is io_loop
            assert asyncio.get_running_loop() is io_loop.asyncio_loop
            await gen.sleep(0.001)

        async def test_server_and_port(http_server, http_port, base_url, http_client):
            assert base_url == f"http://127.0.0.1:{http_port}"
            assert http_server is not None
            assert (await http_client.fetch(base_url)).code == 200

        @pytest.mark.parametrize("n", [1, 2, 3])
        @pytest.mark.gen_test
        def test_parametrized_generator(n, io_loop):
            value = yield gen.maybe_future(n)
            assert value == n

        class TestInAClass:
            @pytest.mark.gen_test
            def test_method(self, io_loop):
                yield gen.moment

        def test_sync_test_may_use_io_loop(io_loop):
            assert io_loop.run_sync(lambda: gen.maybe_future(7)) == 7

        seen_loops = []

        @pytest.mark.parametrize("n", [1, 2])
        async def test_fresh_loop_each_test(n, io_loop):
            assert all(loop is not io_loop for loop in seen_loops)
            seen_loops.append(io_loop)
            assert not any(loop.asyncio_loop.is_running() for loop in seen_loops[:-1])
        """,
    )
    result.assert_outcomes(passed=11)


def test_failing_test_reports_its_assertion(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.gen_test
        async def test_wrong_body(http_client, base_url):
            response = await http_client.fetch(base_url)
            assert response.body == b"Goodbye"

        @pytest.mark.gen_test
        def test_generator_raises(io_loop):
            yield gen.moment
            raise KeyError("from the generator")
        """,
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*assert b'Hello, http' == b'Goodbye'*",
            "*KeyError: 'from the generator'*",
        ]
    )


def test_timeout_from_marker_names_the_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.gen_test(timeout=0.05)
        async def test_stuck(io_loop):
            await asyncio.Event().wait()  # waiting here
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * TimeoutError: test_sample.py::test_stuck timed out after 0.05 "
            "seconds (the limit is the gen_test marker's timeout, "
            "--async-test-timeout or $ASYNC_TEST_TIMEOUT); it was waiting at:",
            "*await asyncio.Event().wait()  # waiting here",
        ]
    )


def test_default_timeout_is_five_seconds(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASYNC_TEST_TIMEOUT", raising=False)
    result = run(
        pytester,
        """
        @pytest.mark.gen_test
        async def test_stuck(io_loop):
            await asyncio.Event().wait()
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_stuck timed out after 5.0 seconds*"])


def test_timeout_from_option_and_environment(pytester: pytest.Pytester) -> None:
    source = """
        @pytest.mark.gen_test
        def test_stuck_generator(io_loop):
            yield tornado.locks.Event().wait()

        async def test_stuck_unmarked(io_loop):
            await asyncio.Event().wait()

        @pytest.mark.gen_test(timeout=30)
        async def test_marker_wins(io_loop):
            await gen.sleep(0.2)
        """
    result = run(pytester, source, "--async-test-timeout=0.1")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(["*test_stuck_generator timed out after 0.1 seconds*"])
    result.stdout.fnmatch_lines(["*test_stuck_unmarked timed out after 0.1 seconds*"])

    os.environ["ASYNC_TEST_TIMEOUT"] = "0.1"
    try:
        result = run(pytester, source)
    finally:
        del os.environ["ASYNC_TEST_TIMEOUT"]
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(["*test_stuck_unmarked timed out after 0.1 seconds*"])


def test_exceptions_and_tasks_left_in_the_loop(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        async def test_exception_escaping_into_the_loop_fails(io_loop):
            asyncio.get_running_loop().call_soon(lambda: 1 / 0)
            await gen.sleep(0.01)

        unwound = []

        async def test_leftover_task_is_cancelled_quietly(io_loop):
            async def forever():
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    unwound.append("cancelled")
                    raise

            io_loop.add_callback(forever)
            await gen.moment

        def test_the_leftover_task_was_unwound():
            assert unwound == ["cancelled"]

        async def test_leftover_task_failing_on_cancel(io_loop):
            async def stubborn():
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    raise LookupError("cleanup went wrong")

            asyncio.get_running_loop().create_task(stubborn())
            await gen.moment
        """,
    )
    # The failing cleanup is an error at teardown of a test that passed.
    result.assert_outcomes(failed=1, passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leftover_task_failing_on_cancel*",
            "*LookupError: cleanup went wrong*",
            "FAILED test_sample.py::test_exception_escaping_into_the_loop_fails*",
        ]
    )
    result.stdout.no_fnmatch_line("*Task was destroyed*")


def test_https_fixtures(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        async def test_https_client_and_base_url(https_client, base_url, https_port):
            assert base_url == f"https://127.0.0.1:{https_port}"
            response = await https_client.fetch(base_url)
            assert response.body == b"Hello, https"

        async def test_both_servers(http_client, https_client, http_port, https_port):
            plain = await http_client.fetch(f"http://127.0.0.1:{http_port}/")
            secure = await https_client.fetch(f"https://127.0.0.1:{https_port}/")
            assert (plain.body, secure.body) == (b"Hello, http", b"Hello, https")

        async def test_base_urls(http_client, https_client, base_url, base_urls):
            port = base_urls.rsplit(":", 1)[1]
            assert base_urls == f"https://127.0.0.1:{port}" != base_url
            plain = await http_client.fetch(base_url)
            secure = await https_client.fetch(base_urls)
            assert (plain.body, secure.body) == (b"Hello, http", b"Hello, https")

        async def test_certificate_is_not_trusted_by_default(https_server, base_url):
            client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
            try:
                with pytest.raises(Exception) as failure:
                    await client.fetch(base_url)
            finally:
                client.close()
            assert "CERTIFICATE_VERIFY_FAILED" in str(failure.value)
        """,
    )
    result.assert_outcomes(passed=4)


def test_own_ssl_options_fixture_is_used(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.fixture
        def ssl_options():
            raise RuntimeError("the user's ssl_options")

        async def test_it(https_server):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: the user's ssl_options*"])


def test_server_fixture_needs_an_app(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        async def test_it(http_client):
            pass
        """,
        prelude="",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'app' not found*"])


def test_coexists_with_pytest_asyncio_and_anyio(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import anyio

        @pytest.mark.asyncio
        async def test_pytest_asyncio_runs_its_own():
            await asyncio.sleep(0)

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_anyio_runs_its_own():
            await anyio.sleep(0)

        owners = {}

        @pytest.mark.asyncio
        async def test_asyncio_loop_is_not_ours():
            owners["asyncio"] = asyncio.get_running_loop()

        async def test_ours_runs_on_io_loop(io_loop):
            owners["tornado"] = asyncio.get_running_loop()
            assert owners["tornado"] is io_loop.asyncio_loop

        @pytest.mark.gen_test
        def test_ours_generator(http_client, base_url):
            response = yield http_client.fetch(base_url)
            assert response.code == 200

        def test_loops_differ():
            assert owners["asyncio"] is not owners["tornado"]
        """,
    )
    result.assert_outcomes(passed=6)
    # Both other plugins were loaded, pytest-asyncio in its default mode.
    result.stdout.fnmatch_lines(["plugins: *", "asyncio: mode=Mode.STRICT*"])
    plugins_line = next(
        line for line in result.outlines if line.startswith("plugins: ")
    )
    assert "anyio-" in plugins_line and "asyncio-" in plugins_line


def test_unclaimed_async_test_is_left_to_pytest(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        async def test_without_our_fixtures_or_marker():
            pass
        """,
    )
    # Neither this plugin nor the strict-mode others claim it: pytest's own
    # verdict stands.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_unittest_style_tests_are_untouched(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import unittest

        from tornado.testing import AsyncTestCase, gen_test

        class Sample(AsyncTestCase):
            @gen_test
            async def test_gen_test(self):
                pass

            async def test_undecorated(self):
                pass
        """,
        prelude="",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TypeError: Generator and coroutine test methods should be "
            "decorated with tornado.testing.gen_test"
        ]
    )


def test_marker_and_option_are_declared(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest=INI)
    result = pytester.runpytest_subprocess(*CHILD_ARGS, "--help", timeout=60)
    result.stdout.fnmatch_lines(["*--async-test-timeout=ASYNC_TEST_TIMEOUT*"])
    strict = run(
        pytester,
        """
        @pytest.mark.gen_test(timeout=5, run_sync=False)
        async def test_it(io_loop):
            pass
        """,
        "--strict-markers",
    )
    strict.assert_outcomes(passed=1)
