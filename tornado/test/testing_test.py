from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest
import warnings
from collections.abc import Generator, Iterator
from typing import Any
from unittest import mock

from tornado import gen
from tornado.httpclient import HTTPClientError
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.ioloop import IOLoop
from tornado.locks import Event
from tornado.testing import (
    AsyncHTTPSTestCase,
    AsyncHTTPTestCase,
    AsyncTestCase,
    ExpectLog,
    bind_unused_port,
    gen_test,
    get_async_test_timeout,
    setup_with_context_manager,
)
from tornado.web import Application, RequestHandler

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def run_case(case: type[unittest.TestCase], name: str) -> unittest.TestResult:
    """Run one test of ``case`` on its own, returning its result."""
    result = unittest.TestResult()
    case(name).run(result)
    return result


def problems(result: unittest.TestResult) -> str:
    """The errors and failures of ``result`` as one text, for assertions."""
    return "\n".join(text for _, text in result.errors + result.failures)


class CapturingLogger(logging.Handler):
    """A private logger whose records are collected instead of printed."""

    def __init__(self, test: unittest.TestCase) -> None:
        super().__init__()
        self.logger = logging.getLogger(f"tornado.test.capture.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger.addHandler(self)
        test.addCleanup(self.logger.removeHandler, self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


class ExpectLogTest(unittest.TestCase):
    def setUp(self) -> None:
        self.capture = CapturingLogger(self)
        self.logger = self.capture.logger

    def test_swallows_matching_records_only(self) -> None:
        with ExpectLog(self.logger, "expected", level=logging.WARNING) as expect:
            self.logger.warning("expected message")
            self.logger.warning("other message")
        self.assertTrue(expect.matched)
        self.assertEqual(self.capture.messages(), ["other message"])

    def test_regex_must_match_at_start(self) -> None:
        with ExpectLog(self.logger, "message", required=False, level=logging.ERROR):
            self.logger.error("the message")
        self.assertEqual(self.capture.messages(), ["the message"])

    def test_logger_by_name(self) -> None:
        with ExpectLog(self.logger.name, "hello", level=logging.ERROR):
            self.logger.error("hello %s", "world")
        self.assertEqual(self.capture.messages(), [])

    def test_required_message_missing(self) -> None:
        with self.assertRaisesRegex(Exception, "did not get expected log message"):
            with ExpectLog(self.logger, "never logged"):
                pass

    def test_not_required(self) -> None:
        with ExpectLog(self.logger, "never logged", required=False) as expect:
            pass
        self.assertFalse(expect.matched)

    def test_exception_in_block_wins(self) -> None:
        with self.assertRaises(ZeroDivisionError):
            with ExpectLog(self.logger, "never logged"):
                raise ZeroDivisionError()

    def test_filter_removed_after_block(self) -> None:
        with ExpectLog(self.logger, "x", level=logging.ERROR):
            self.logger.error("x")
        self.logger.error("x")
        self.assertEqual(self.capture.messages(), ["x"])

    def test_level_must_match(self) -> None:
        app_log = logging.getLogger("tornado.application")
        with ExpectLog(app_log, "Got expected log message .* at unexpected level"):
            with ExpectLog(
                self.logger, "msg", required=False, level=logging.ERROR
            ) as expect:
                self.logger.warning("msg")
        self.assertFalse(expect.matched)
        self.assertEqual(self.capture.messages(), ["msg"])

    def test_level_lowers_logger_level_for_block(self) -> None:
        self.logger.setLevel(logging.WARNING)
        with ExpectLog(self.logger, "debug detail", level=logging.DEBUG):
            self.logger.debug("debug detail")
            self.assertEqual(self.logger.level, logging.DEBUG)
        self.assertEqual(self.logger.level, logging.WARNING)

    def test_matching_info_without_level_is_deprecated(self) -> None:
        with self.assertWarnsRegex(DeprecationWarning, "without level argument"):
            with ExpectLog(self.logger, "chatter") as expect:
                self.logger.info("chatter")
        self.assertEqual(expect.deprecated_level_matched, 1)

    def test_logged_stack(self) -> None:
        with ExpectLog(self.logger, "plain", level=logging.ERROR) as plain:
            self.logger.error("plain")
        self.assertFalse(plain.logged_stack)
        with ExpectLog(self.logger, "failed", level=logging.ERROR) as with_stack:
            try:
                raise ZeroDivisionError()
            except ZeroDivisionError:
                self.logger.exception("failed")
        self.assertTrue(with_stack.logged_stack)


class AsyncTestCaseTest(AsyncTestCase):
    def test_loop_is_current_during_test(self) -> None:
        self.assertIs(IOLoop.current(), self.io_loop)
        self.assertIs(
            asyncio.get_event_loop(),
            self.io_loop.asyncio_loop,  # type: ignore[attr-defined]
        )

    def test_wait_returns_stop_argument(self) -> None:
        self.io_loop.add_callback(self.stop, "result")
        self.assertEqual(self.wait(), "result")

    def test_wait_returns_stop_keywords(self) -> None:
        self.io_loop.add_callback(lambda: self.stop(a=1, b=2))
        self.assertEqual(self.wait(), {"a": 1, "b": 2})

    def test_stop_rejects_argument_and_keywords(self) -> None:
        with self.assertRaises(ValueError):
            self.stop("positional", keyword=True)

    def test_stop_before_wait(self) -> None:
        self.stop("early")
        self.assertEqual(self.wait(), "early")
        # The stop was used up: the next wait needs a new one.
        self.io_loop.add_callback(self.stop, "later")
        self.assertEqual(self.wait(), "later")

    def test_wait_condition(self) -> None:
        calls: list[int] = []

        def tick() -> None:
            calls.append(1)
            self.stop()
            if len(calls) < 3:
                self.io_loop.add_callback(tick)

        self.io_loop.add_callback(tick)
        self.wait(condition=lambda: len(calls) == 3)
        self.assertEqual(len(calls), 3)

    def test_wait_timeout(self) -> None:
        with self.assertRaisesRegex(
            self.failureException, "timed out after 0.01 seconds"
        ):
            self.wait(timeout=0.01)
        # A timed-out wait leaves the test case usable.
        self.io_loop.add_callback(self.stop, "again")
        self.assertEqual(self.wait(), "again")


class AsyncTestCaseRunTest(unittest.TestCase):
    """Runs AsyncTestCase subclasses and inspects their results."""

    def test_each_test_gets_a_fresh_loop(self) -> None:
        loops: list[Any] = []

        class Inner(AsyncTestCase):
            def test_one(self) -> None:
                loops.append(self.io_loop)

            test_two = test_one

        self.assertTrue(run_case(Inner, "test_one").wasSuccessful())
        self.assertTrue(run_case(Inner, "test_two").wasSuccessful())
        self.assertIsNot(loops[0], loops[1])
        for loop in loops:
            self.assertTrue(loop.asyncio_loop.is_closed())

    def test_exception_escaping_a_callback_fails_the_test(self) -> None:
        class Inner(AsyncTestCase):
            def test_it(self) -> None:
                loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
                loop.call_soon(lambda: 1 / 0)
                self.io_loop.add_callback(self.stop)
                self.wait()

        result = run_case(Inner, "test_it")
        self.assertEqual(len(result.errors), 1, problems(result))
        self.assertIn("ZeroDivisionError", problems(result))

    def test_exception_escaping_during_gen_test_fails_the_test(self) -> None:
        finished: list[bool] = []

        class Inner(AsyncTestCase):
            @gen_test
            async def test_it(self) -> None:
                loop = asyncio.get_running_loop()
                loop.call_soon(lambda: 1 / 0)
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                finished.append(True)

        result = run_case(Inner, "test_it")
        self.assertEqual(finished, [True])
        self.assertIn("ZeroDivisionError", problems(result))

    def test_second_escaped_exception_is_logged(self) -> None:
        class Inner(AsyncTestCase):
            def test_it(self) -> None:
                loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
                loop.call_soon(lambda: 1 / 0)
                loop.call_soon(int, "not a number")
                self.io_loop.add_callback(self.stop)
                with ExpectLog("tornado.application", "multiple unhandled"):
                    with self.assertRaises(ZeroDivisionError):
                        self.wait()

        result = run_case(Inner, "test_it")
        self.assertTrue(result.wasSuccessful(), problems(result))

    def test_leftover_tasks_are_cancelled_quietly(self) -> None:
        unwound: list[str] = []

        class Inner(AsyncTestCase):
            def tearDown(self) -> None:
                super().tearDown()
                gc.collect()

            def test_it(self) -> None:
                event = Event()

                async def forever() -> None:
                    try:
                        self.stop()
                        await event.wait()
                    except asyncio.CancelledError:
                        unwound.append("cancelled")
                        raise

                self.io_loop.add_callback(forever)
                self.wait()

        result = run_case(Inner, "test_it")
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(unwound, ["cancelled"])

    def test_leftover_task_failing_on_cancel_fails_the_test(self) -> None:
        class Inner(AsyncTestCase):
            def test_it(self) -> None:
                async def stubborn() -> None:
                    try:
                        self.stop()
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        raise KeyError("cleanup went wrong")

                # A task the IOLoop does not track, so only tearDown sees it.
                loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
                loop.create_task(stubborn())
                self.wait()

        result = run_case(Inner, "test_it")
        self.assertIn("cleanup went wrong", problems(result))

    def test_undecorated_coroutine_is_an_error(self) -> None:
        class Inner(AsyncTestCase):
            async def test_coroutine(self) -> None:
                pass

            def test_generator(self) -> Generator[Any, Any, None]:
                yield gen.moment

        for name in ["test_coroutine", "test_generator"]:
            with warnings.catch_warnings():
                # No "coroutine was never awaited" on top of the error.
                warnings.simplefilter("error")
                result = run_case(Inner, name)
            self.assertEqual(len(result.errors), 1, problems(result))
            self.assertIn(
                "TypeError: Generator and coroutine test methods should be "
                "decorated with tornado.testing.gen_test",
                problems(result),
            )

    def test_returning_a_value_is_an_error(self) -> None:
        class Inner(AsyncTestCase):
            def test_it(self) -> int:
                return 42

        result = run_case(Inner, "test_it")
        self.assertEqual(len(result.errors), 1, problems(result))
        self.assertIn(
            "ValueError: Return value from test method ignored: 42", problems(result)
        )

    def test_returning_none_explicitly_is_fine(self) -> None:
        class Inner(AsyncTestCase):
            def test_it(self) -> None:
                return None

        self.assertTrue(run_case(Inner, "test_it").wasSuccessful())

    def test_skip_still_works(self) -> None:
        class Inner(AsyncTestCase):
            @unittest.skip("not today")
            @gen_test
            async def test_it(self) -> None:
                raise AssertionError("should not run")

        result = run_case(Inner, "test_it")
        self.assertEqual([reason for _, reason in result.skipped], ["not today"])

    def test_overriding_get_new_ioloop_is_deprecated(self) -> None:
        class Inner(AsyncTestCase):
            def get_new_ioloop(self) -> IOLoop:
                loop: IOLoop = IOLoop(make_current=False)
                return loop

            def test_it(self) -> None:
                pass

        with self.assertWarnsRegex(DeprecationWarning, "get_new_ioloop"):
            run_case(Inner, "test_it")


class GenTestTest(AsyncTestCase):
    @gen_test
    async def test_async_def(self) -> None:
        await asyncio.sleep(0)
        self.assertIs(IOLoop.current(), self.io_loop)

    @gen_test
    def test_generator(self) -> Generator[Any, Any, None]:
        value = yield gen.maybe_future(42)
        self.assertEqual(value, 42)

    @gen_test(timeout=5)
    async def test_with_timeout_argument(self) -> None:
        await gen.moment

    def test_wrapper_keeps_the_name(self) -> None:
        self.assertEqual(GenTestTest.test_async_def.__name__, "test_async_def")

    def test_arguments_are_passed_on(self) -> None:
        @gen_test
        async def check(test: AsyncTestCase, a: int, *, b: int) -> None:
            self.assertEqual((a, b), (1, 2))

        check(self, 1, b=2)

    def test_default_timeout_comes_from_environment(self) -> None:
        with mock.patch.dict(os.environ, {"ASYNC_TEST_TIMEOUT": "0.01"}):

            @gen_test
            async def slow(test: AsyncTestCase) -> None:
                await asyncio.Event().wait()

        with self.assertRaisesRegex(TimeoutError, "after 0.01 seconds"):
            slow(self)


class GenTestRunTest(unittest.TestCase):
    def test_exception_propagates(self) -> None:
        class Inner(AsyncTestCase):
            @gen_test
            async def test_it(self) -> None:
                await asyncio.sleep(0)
                raise KeyError("from the test")

        result = run_case(Inner, "test_it")
        self.assertIn("KeyError: 'from the test'", problems(result))

    def test_coroutine_timeout_names_test_and_waiting_line(self) -> None:
        class Inner(AsyncTestCase):
            @gen_test(timeout=0.01)
            async def test_stuck(self) -> None:
                await asyncio.Event().wait()  # stuck here

        result = run_case(Inner, "test_stuck")
        report = problems(result)
        self.assertIn("TimeoutError", report)
        self.assertIn("Inner.test_stuck timed out after 0.01 seconds", report)
        self.assertIn("# stuck here", report)

    def test_generator_timeout_names_test_and_waiting_line(self) -> None:
        class Inner(AsyncTestCase):
            @gen_test(timeout=0.01)
            def test_stuck(self) -> Generator[Any, Any, None]:
                yield Event().wait()  # stuck here

        result = run_case(Inner, "test_stuck")
        report = problems(result)
        self.assertIn("Inner.test_stuck timed out after 0.01 seconds", report)
        self.assertIn("# stuck here", report)

    def test_timeout_with_cleanup_in_test(self) -> None:
        cleaned: list[bool] = []

        class Inner(AsyncTestCase):
            @gen_test(timeout=0.01)
            async def test_stuck(self) -> None:
                try:
                    await asyncio.Event().wait()
                finally:
                    cleaned.append(True)

        result = run_case(Inner, "test_stuck")
        self.assertIn("timed out", problems(result))
        self.assertEqual(cleaned, [True])

    def test_timeout_despite_swallowed_cancellation(self) -> None:
        class Inner(AsyncTestCase):
            @gen_test(timeout=0.01)
            async def test_stubborn(self) -> None:
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    pass

        result = run_case(Inner, "test_stubborn")
        self.assertIn("Inner.test_stubborn timed out", problems(result))

    def test_failure_before_deadline_is_not_a_timeout(self) -> None:
        class Inner(AsyncTestCase):
            @gen_test(timeout=0.01)
            async def test_fails(self) -> None:
                raise asyncio.CancelledError()

        result = run_case(Inner, "test_fails")
        self.assertIn("Inner.test_fails was cancelled", problems(result))
        self.assertNotIn("timed out", problems(result))


class GetAsyncTestTimeoutTest(unittest.TestCase):
    def test_default(self) -> None:
        with mock.patch.dict(os.environ):
            os.environ.pop("ASYNC_TEST_TIMEOUT", None)
            self.assertEqual(get_async_test_timeout(), 5)

    def test_from_environment(self) -> None:
        with mock.patch.dict(os.environ, {"ASYNC_TEST_TIMEOUT": "12.5"}):
            self.assertEqual(get_async_test_timeout(), 12.5)

    def test_bad_value(self) -> None:
        with mock.patch.dict(os.environ, {"ASYNC_TEST_TIMEOUT": "soon"}):
            with self.assertRaisesRegex(ValueError, "ASYNC_TEST_TIMEOUT.*'soon'"):
                get_async_test_timeout()


class BindUnusedPortTest(unittest.TestCase):
    def test_ipv4(self) -> None:
        sock, port = bind_unused_port()
        self.addCleanup(sock.close)
        self.assertEqual(sock.getsockname(), ("127.0.0.1", port))
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass

    def test_ipv6(self) -> None:
        try:
            sock, port = bind_unused_port(address="::1")
        except OSError as e:
            self.skipTest(f"IPv6 loopback is not available: {e}")
        self.addCleanup(sock.close)
        self.assertEqual(sock.getsockname()[:2], ("::1", port))

    def test_reuse_port(self) -> None:
        if not hasattr(socket, "SO_REUSEPORT"):
            self.skipTest("SO_REUSEPORT is not available")
        sock, port = bind_unused_port(reuse_port=True)
        self.addCleanup(sock.close)
        self.assertTrue(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))

    def test_ports_differ(self) -> None:
        first, first_port = bind_unused_port()
        second, second_port = bind_unused_port()
        first.close()
        second.close()
        self.assertNotEqual(first_port, second_port)


class SetupWithContextManagerTest(unittest.TestCase):
    def test_enter_now_exit_at_cleanup(self) -> None:
        events: list[str] = []

        @contextlib.contextmanager
        def managed() -> Iterator[str]:
            events.append("enter")
            yield "value"
            events.append("exit")

        class Inner(unittest.TestCase):
            def setUp(self) -> None:
                self.value = setup_with_context_manager(self, managed())

            def test_it(self) -> None:
                events.append(f"test sees {self.value}")

        result = run_case(Inner, "test_it")
        self.assertTrue(result.wasSuccessful())
        self.assertEqual(events, ["enter", "test sees value", "exit"])

    def test_warnings_context(self) -> None:
        setup_with_context_manager(self, warnings.catch_warnings())
        warnings.simplefilter("ignore")
        warnings.warn("silenced for the rest of this test", UserWarning, stacklevel=1)


class MainTest(unittest.TestCase):
    def run_main(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a tiny test module through ``tornado.testing.main``."""
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        with open(os.path.join(directory.name, "sample_tests.py"), "w") as f:
            f.write(textwrap.dedent("""
                    import unittest

                    class Sample(unittest.TestCase):
                        def test_pass(self):
                            pass

                        def test_fail(self):
                            self.fail("failed on purpose")

                    def all():
                        return unittest.defaultTestLoader.loadTestsFromName(
                            "sample_tests.Sample.test_pass"
                        )

                    if __name__ == "__main__":
                        import tornado.testing
                        tornado.testing.main()
                    """))
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([directory.name, PROJECT_ROOT])
        )
        return subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=directory.name,
            timeout=30,
        )

    def test_named_test_passes(self) -> None:
        child = self.run_main(
            "-m", "tornado.testing", "--verbose", "sample_tests.Sample.test_pass"
        )
        self.assertEqual(child.returncode, 0, child.stderr)
        self.assertIn("test_pass", child.stderr)

    def test_failure_sets_exit_status(self) -> None:
        child = self.run_main("-m", "tornado.testing", "sample_tests.Sample.test_fail")
        self.assertEqual(child.returncode, 1)
        self.assertIn("failed on purpose", child.stderr)

    def test_default_suite_is_all(self) -> None:
        child = self.run_main("sample_tests.py")
        self.assertEqual(child.returncode, 0, child.stderr)
        self.assertIn("Ran 1 test", child.stderr)

    def test_no_tests_named(self) -> None:
        child = self.run_main("-m", "tornado.testing")
        self.assertEqual(child.returncode, 1)
        self.assertIn("No tests specified", child.stderr)


if __name__ == "__main__":
    unittest.main()


def hello_app(request: HTTPServerRequest) -> None:
    """A bare request callback: 200 "hello <path>", or 404 for /missing."""
    code, reason = (404, "Not Found") if request.path == "/missing" else (200, "OK")
    body = b"hello " + request.path.encode()
    assert request.connection is not None
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", code, reason),
        HTTPHeaders({"Content-Length": str(len(body))}),
        body,
    )
    request.connection.finish()


class HelloHTTPTest(AsyncHTTPTestCase):
    def get_app(self) -> Any:
        return hello_app

    def test_fetch_relative_path(self) -> None:
        response = self.fetch("/a/b?c=d")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"hello /a/b")

    def test_fetch_absolute_url(self) -> None:
        response = self.fetch(self.get_url("/abs"))
        self.assertEqual(response.body, b"hello /abs")

    def test_error_status_returned_unless_raise_error(self) -> None:
        self.assertEqual(self.fetch("/missing").code, 404)
        with self.assertRaises(HTTPClientError) as cm:
            self.fetch("/missing", raise_error=True)
        self.assertEqual(cm.exception.code, 404)

    def test_url_names_loopback_port_and_scheme(self) -> None:
        port = self.get_http_port()
        self.assertEqual(self.get_url("/x"), f"http://127.0.0.1:{port}/x")
        self.assertEqual(self.get_protocol(), "http")


class HelloHTTPSTest(AsyncHTTPSTestCase):
    def get_app(self) -> Any:
        return hello_app

    def test_fetch_over_tls(self) -> None:
        response = self.fetch("/secure")
        self.assertEqual(response.body, b"hello /secure")
        self.assertTrue(response.effective_url.startswith("https://"))


class AsyncHTTPTestCaseRunTest(unittest.TestCase):
    def test_teardown_stops_the_server(self) -> None:
        ports: list[int] = []

        class Inner(AsyncHTTPTestCase):
            def get_app(self) -> Any:
                return hello_app

            def test_it(self) -> None:
                ports.append(self.get_http_port())
                self.assertEqual(self.fetch("/").code, 200)

        result = run_case(Inner, "test_it")
        self.assertTrue(result.wasSuccessful(), problems(result))
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", ports[0]), timeout=5).close()

    def test_get_app_may_use_client_port_and_url(self) -> None:
        seen: dict[str, Any] = {}

        class Inner(AsyncHTTPTestCase):
            def get_app(self) -> Any:
                # The state an auth mixin test's get_app relies on.
                seen["port"] = self.get_http_port()
                seen["url"] = self.get_url("/inner")
                client = self.http_client

                class Outer(RequestHandler):
                    async def get(self) -> None:
                        inner = await client.fetch(seen["url"])
                        self.write(b"outer saw " + inner.body)

                class InnerHandler(RequestHandler):
                    def get(self) -> None:
                        self.write("inner")

                return Application(
                    [("/outer", Outer), ("/inner", InnerHandler)],
                    log_function=lambda handler: None,
                )

            def test_it(self) -> None:
                self.assertEqual(self.get_http_port(), seen["port"])
                self.assertEqual(self.fetch("/outer").body, b"outer saw inner")

        result = run_case(Inner, "test_it")
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(seen["url"], f"http://127.0.0.1:{seen['port']}/inner")

    def test_set_up_order_is_client_then_app_then_server(self) -> None:
        calls: list[str] = []

        class Inner(AsyncHTTPTestCase):
            def get_http_client(self) -> Any:
                calls.append("client")
                return super().get_http_client()

            def get_app(self) -> Any:
                calls.append("app")
                return hello_app

            def get_http_server(self) -> Any:
                calls.append("server")
                self.assertIs(self._app, hello_app)
                return super().get_http_server()

            def test_it(self) -> None:
                self.assertEqual(self.fetch("/").code, 200)

        result = run_case(Inner, "test_it")
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(calls, ["client", "app", "server"])

    def test_failing_get_app_releases_port_client_and_loop(self) -> None:
        made: dict[str, Any] = {}

        class Inner(AsyncHTTPTestCase):
            def get_app(self) -> Any:
                made["port"] = self.get_http_port()
                made["client"] = self.http_client
                made["loop"] = self.io_loop
                raise KeyError("no app today")

            def test_it(self) -> None:
                raise AssertionError("not reached")

        result = run_case(Inner, "test_it")
        self.assertIn("KeyError: 'no app today'", problems(result))
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", made["port"]), timeout=5).close()
        self.assertTrue(made["loop"].asyncio_loop.is_closed())
        with self.assertRaises(RuntimeError):
            made["client"].fetch("http://127.0.0.1/")

    def test_get_app_is_required(self) -> None:
        class Inner(AsyncHTTPTestCase):
            def test_it(self) -> None:
                pass

        result = run_case(Inner, "test_it")
        self.assertEqual(len(result.errors), 1)
        self.assertIn("NotImplementedError", problems(result))
