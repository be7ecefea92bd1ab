"""Tests for tornado.concurrent."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
import unittest
from typing import Any

from tornado.concurrent import (
    FUTURES,
    DummyExecutor,
    Future,
    ReturnValueIgnoredError,
    chain_future,
    dummy_executor,
    future_add_done_callback,
    future_set_exc_info,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
    is_future,
    run_on_executor,
)
from tornado.ioloop import IOLoop
from tornado.testing import AsyncTestCase, ExpectLog, gen_test


class FutureTypesTest(unittest.TestCase):
    def test_future_is_asyncio_future(self) -> None:
        self.assertIs(Future, asyncio.Future)
        self.assertIn(concurrent.futures.Future, FUTURES)

    def test_is_future(self) -> None:
        self.assertTrue(is_future(concurrent.futures.Future()))
        self.assertFalse(is_future(None))
        self.assertFalse(is_future(object()))

        async def coroutine() -> None:
            pass

        coro = coroutine()
        try:
            self.assertFalse(is_future(coro))
        finally:
            coro.close()

    def test_return_value_ignored_error_is_exception(self) -> None:
        self.assertTrue(issubclass(ReturnValueIgnoredError, Exception))


class SetOutcomeTest(AsyncTestCase):
    def test_set_result_unless_cancelled(self) -> None:
        future: Future[int] = Future()
        future_set_result_unless_cancelled(future, 42)
        self.assertEqual(future.result(), 42)

        cancelled: Future[int] = Future()
        cancelled.cancel()
        future_set_result_unless_cancelled(cancelled, 42)
        self.assertTrue(cancelled.cancelled())

    def test_set_exception_unless_cancelled(self) -> None:
        future: Future[int] = Future()
        future_set_exception_unless_cancelled(future, ValueError("boom"))
        self.assertRaisesRegex(ValueError, "boom", future.result)

    def test_exception_after_cancel_is_logged(self) -> None:
        cancelled: Future[int] = Future()
        cancelled.cancel()
        with ExpectLog("tornado.application", "Exception after Future was cancelled"):
            future_set_exception_unless_cancelled(cancelled, ValueError("late"))
        self.assertTrue(cancelled.cancelled())

    def test_set_exc_info(self) -> None:
        future: Future[int] = Future()
        try:
            raise KeyError("k")
        except KeyError:
            future_set_exc_info(future, sys.exc_info())
        self.assertRaises(KeyError, future.result)

    def test_set_exc_info_without_exception_raises(self) -> None:
        future: Future[int] = Future()
        with self.assertRaisesRegex(Exception, "no exception"):
            future_set_exc_info(future, (None, None, None))
        self.assertFalse(future.done())

    def test_works_on_concurrent_futures(self) -> None:
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        future_set_result_unless_cancelled(future, 3)
        self.assertEqual(future.result(), 3)


class DoneCallbackTest(AsyncTestCase):
    def test_resolved_future_calls_back_immediately(self) -> None:
        future: Future[int] = Future()
        future.set_result(1)
        seen: list[Any] = []
        future_add_done_callback(future, seen.append)
        self.assertEqual(seen, [future])

    @gen_test
    async def test_pending_future_calls_back_when_resolved(self) -> None:
        future: Future[int] = Future()
        seen: list[Any] = []
        future_add_done_callback(future, seen.append)
        self.assertEqual(seen, [])
        future.set_result(1)
        await future
        await asyncio.sleep(0)
        self.assertEqual(seen, [future])

    def test_concurrent_future(self) -> None:
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        seen: list[Any] = []
        future_add_done_callback(future, seen.append)
        future.set_result(2)
        self.assertEqual(seen, [future])


class ChainFutureTest(AsyncTestCase):
    def chained_futures(self) -> tuple[Future[int], Future[int]]:
        """A source future and a target chained to it."""
        a: Future[int] = Future()
        b: Future[int] = Future()
        chain_future(a, b)
        return a, b

    @gen_test
    async def test_result_is_copied(self) -> None:
        a, b = self.chained_futures()
        a.set_result(7)
        self.assertEqual(await b, 7)

    @gen_test
    async def test_exception_is_copied(self) -> None:
        a, b = self.chained_futures()
        a.set_exception(ZeroDivisionError())
        with self.assertRaises(ZeroDivisionError):
            await b

    @gen_test
    async def test_cancellation_is_copied(self) -> None:
        a, b = self.chained_futures()
        a.cancel()
        await asyncio.sleep(0)
        self.assertTrue(b.cancelled())

    @gen_test
    async def test_resolved_target_is_left_alone(self) -> None:
        a, b = self.chained_futures()
        b.set_result(1)
        a.set_result(2)
        await a
        self.assertEqual(b.result(), 1)

    @gen_test
    async def test_from_concurrent_future_in_another_thread(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            started = threading.Event()

            def work() -> str:
                started.wait()
                return threading.current_thread().name

            target: Future[str] = Future()
            chain_future(pool.submit(work), target)
            started.set()
            name = await target
        self.assertNotEqual(name, threading.current_thread().name)

    def test_concurrent_target_of_closed_loop_is_dropped(self) -> None:
        # Resolving the source after the target's loop closed must not raise
        # in the thread that resolves it.
        loop = asyncio.new_event_loop()
        target: Future[int] = loop.create_future()
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        chain_future(source, target)
        loop.close()
        source.set_result(1)
        self.assertFalse(target.done())

    def test_between_concurrent_futures(self) -> None:
        a: concurrent.futures.Future[int] = concurrent.futures.Future()
        b: concurrent.futures.Future[int] = concurrent.futures.Future()
        chain_future(a, b)
        a.set_exception(KeyError("x"))
        self.assertRaises(KeyError, b.result)


class DummyExecutorTest(unittest.TestCase):
    def test_runs_immediately(self) -> None:
        future = dummy_executor.submit(lambda x, y: x + y, 1, y=2)
        self.assertTrue(future.done())
        self.assertEqual(future.result(), 3)

    def test_captures_exception(self) -> None:
        future = DummyExecutor().submit(lambda: 1 / 0)
        self.assertRaises(ZeroDivisionError, future.result)

    def test_shutdown_is_harmless(self) -> None:
        executor = DummyExecutor()
        executor.shutdown()
        executor.shutdown(wait=False, cancel_futures=True)
        self.assertEqual(executor.submit(int, "5").result(), 5)


class RunOnExecutorTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.pool = concurrent.futures.ThreadPoolExecutor(2)

    def tearDown(self) -> None:
        self.pool.shutdown()
        super().tearDown()

    @gen_test
    async def test_default_attribute(self) -> None:
        pool = self.pool

        class Worker:
            executor = pool

            @run_on_executor
            def thread_name(self, suffix: str) -> str:
                return threading.current_thread().name + suffix

        future = Worker().thread_name("!")
        self.assertIsInstance(future, asyncio.Future)
        name = await future
        self.assertTrue(name.endswith("!"))
        self.assertNotEqual(name, threading.current_thread().name + "!")

    @gen_test
    async def test_named_executor_and_exception(self) -> None:
        class Worker:
            _pool = self.pool

            @run_on_executor(executor="_pool")
            def fail(self) -> None:
                raise ValueError("in thread")

        with self.assertRaisesRegex(ValueError, "in thread"):
            await Worker().fail()

    @gen_test
    async def test_io_loop_attribute(self) -> None:
        class Worker:
            def __init__(self, pool: concurrent.futures.Executor) -> None:
                self.executor = pool
                self.loop = IOLoop.current()

            @run_on_executor(io_loop="loop")
            def answer(self) -> int:
                return 42

        future = Worker(self.pool).answer()
        self.assertIs(future.get_loop(), asyncio.get_running_loop())
        self.assertEqual(await future, 42)

    def test_bad_arguments(self) -> None:
        def method(self: Any) -> None:
            pass

        with self.assertRaisesRegex(TypeError, "unexpected.*execuutor"):
            run_on_executor(execuutor="x")  # type: ignore[call-overload]
        with self.assertRaisesRegex(ValueError, "expected 1 argument, got 2"):
            run_on_executor(method, method)  # type: ignore[call-overload]
        with self.assertRaisesRegex(ValueError, "not both"):
            run_on_executor(method, executor="x")  # type: ignore[call-overload]


if __name__ == "__main__":
    unittest.main()
