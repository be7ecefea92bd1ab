"""Tests for tornado.gen."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime
import gc
import logging
import sys
import threading
import unittest
import weakref
from collections.abc import Callable, Generator
from typing import Any
from unittest import mock

from tornado import gen, util
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.testing import AsyncTestCase, ExpectLog, gen_test

Gen = Generator[Any, Any, Any]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


async def spin(iterations: int = 5) -> None:
    """Let the loop run ``iterations`` times (enough for short callback chains)."""
    for _ in range(iterations):
        await asyncio.sleep(0)


class CoroutineTest(AsyncTestCase):
    @gen_test
    def test_returns_value(self) -> Gen:
        @gen.coroutine
        def f() -> Gen:
            yield gen.moment
            return 42

        self.assertEqual((yield f()), 42)

    @gen_test
    def test_raise_return(self) -> Gen:
        @gen.coroutine
        def f() -> Gen:
            yield gen.moment
            raise gen.Return("old style")

        self.assertEqual((yield f()), "old style")
        self.assertEqual(gen.Return(3).value, 3)
        self.assertEqual(gen.Return(3).args, (3,))
        self.assertIsNone(gen.Return().value)

    def test_no_yield_resolves_synchronously(self) -> None:
        @gen.coroutine
        def plain() -> int:
            return 1

        @gen.coroutine
        def generator_without_waiting() -> Gen:
            yield from ()  # a generator that never yields
            return 2

        # Neither needs the loop: no Runner is created.
        with mock.patch.object(IOLoop, "current", side_effect=AssertionError):
            first, second = plain(), generator_without_waiting()
        self.assertEqual(first.result(), 1)
        self.assertEqual(second.result(), 2)

    def test_synchronous_exceptions_are_in_the_future(self) -> None:
        @gen.coroutine
        def before_yield() -> Gen:
            yield from ()  # a generator, failing at its first step
            raise KeyError("early")

        @gen.coroutine
        def not_a_generator() -> None:
            raise KeyError("plain")

        for future in (before_yield(), not_a_generator()):
            self.assertRaises(KeyError, future.result)

    @gen_test
    def test_exception_after_yield(self) -> Gen:
        @gen.coroutine
        def f() -> Gen:
            yield gen.moment
            raise ValueError("late")

        with self.assertRaisesRegex(ValueError, "late"):
            yield f()

    @gen_test
    def test_yield_already_resolved_futures_in_a_loop(self) -> Gen:
        @gen.coroutine
        def f() -> Gen:
            total = 0
            for i in range(2000):  # deep enough to expose recursion
                done: Future[int] = Future()
                done.set_result(i)
                total += yield done
            return total

        self.assertEqual((yield f()), sum(range(2000)))

    @gen_test
    def test_yield_none_and_moment_let_others_run(self) -> Gen:
        order: list[str] = []

        @gen.coroutine
        def f(name: str, pause: Any) -> Gen:
            order.append(name + "1")
            yield pause
            order.append(name + "2")

        yield [f("a", None), f("b", gen.moment)]
        self.assertEqual(order, ["a1", "b1", "a2", "b2"])

    @gen_test
    async def test_await_moment_in_native_coroutine(self) -> None:
        order: list[str] = []

        async def f(name: str) -> None:
            order.append(name + "1")
            await gen.moment
            order.append(name + "2")

        await asyncio.gather(f("a"), f("b"))
        self.assertEqual(order, ["a1", "b1", "a2", "b2"])

    @gen_test
    def test_yield_native_coroutine_and_asyncio_future(self) -> Gen:
        async def native() -> str:
            await asyncio.sleep(0)
            return "native"

        loop_future = asyncio.get_running_loop().create_future()
        IOLoop.current().add_callback(loop_future.set_result, "future")
        self.assertEqual((yield native()), "native")
        self.assertEqual((yield loop_future), "future")

    @gen_test
    def test_yield_concurrent_future(self) -> Gen:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            name = yield pool.submit(lambda: threading.current_thread().name)
        self.assertNotEqual(name, threading.current_thread().name)

    @gen_test
    def test_yield_list_and_dict(self) -> Gen:
        results = yield [gen.sleep(0), asyncio.sleep(0, result=1)]
        self.assertEqual(results, [None, 1])
        mapping = yield {"x": asyncio.sleep(0, result="x"), "y": gen.sleep(0)}
        self.assertEqual(mapping, {"x": "x", "y": None})

    @gen_test
    def test_bad_yield_is_raised_at_the_yield(self) -> Gen:
        @gen.coroutine
        def f() -> Gen:
            try:
                yield 42
            except gen.BadYieldError as e:
                return str(e)
            return "not raised"

        self.assertRegex((yield f()), "yielded unknown object 42")

    @gen_test
    async def test_awaitable_from_native_coroutine(self) -> None:
        @gen.coroutine
        def f(x: int) -> Gen:
            yield gen.moment
            return x * 2

        self.assertEqual(await f(21), 42)

    def test_decorator_metadata(self) -> None:
        def original() -> None:
            """Docs."""

        wrapped = gen.coroutine(original)
        self.assertEqual(wrapped.__name__, "original")
        self.assertEqual(wrapped.__doc__, "Docs.")
        self.assertIs(wrapped.__wrapped__, original)  # type: ignore[attr-defined]
        self.assertTrue(gen.is_coroutine_function(wrapped))
        self.assertFalse(gen.is_coroutine_function(original))

        async def native() -> None:
            pass

        self.assertFalse(gen.is_coroutine_function(native))

    @gen_test
    def test_contextvars_follow_the_coroutine(self) -> Gen:
        @gen.coroutine
        def child(value: str) -> Gen:
            request_id.set(value)
            yield gen.moment
            yield asyncio.sleep(0)
            return request_id.get()

        request_id.set("parent")
        results = yield [child("a"), child("b")]
        self.assertEqual(results, ["a", "b"])
        # Each coroutine ran in a copy: the caller's value is untouched.
        self.assertEqual(request_id.get(), "parent")

    @gen_test
    def test_context_is_copied_at_call_time(self) -> Gen:
        @gen.coroutine
        def reader() -> Gen:
            yield gen.moment
            return request_id.get("unset")

        request_id.set("before")
        future = reader()
        request_id.set("after")
        self.assertEqual((yield future), "before")


class Witness:
    """An object whose release a weak reference observes."""


class ReleaseTest(AsyncTestCase):
    """A coroutine that raises leaves no reference cycle behind."""

    def setUp(self) -> None:
        super().setUp()
        gc.disable()  # a cycle would otherwise be broken at a random moment
        self.addCleanup(gc.enable)

    async def assert_locals_released(
        self, func: Callable[[list[weakref.ref[Witness]]], Any]
    ) -> None:
        refs: list[weakref.ref[Witness]] = []
        future = func(refs)
        # Not assertRaises: it clears the traceback's frames, which would
        # break the very cycle this looks for.
        try:
            await future
        except ValueError:
            pass
        else:
            self.fail("no ValueError")
        del future
        await spin()  # let the done callbacks that hold the future run
        self.assertIsNone(refs[0]())

    @gen_test
    async def test_raising_before_any_yield(self) -> None:
        @gen.coroutine
        def fail(refs: list[weakref.ref[Witness]]) -> None:
            witness = Witness()
            refs.append(weakref.ref(witness))
            raise ValueError("early")

        await self.assert_locals_released(fail)

    @gen_test
    async def test_raising_after_a_yield(self) -> None:
        @gen.coroutine
        def fail(refs: list[weakref.ref[Witness]]) -> Gen:
            witness = Witness()
            refs.append(weakref.ref(witness))
            yield asyncio.sleep(0)
            raise ValueError("late")

        await self.assert_locals_released(fail)

    @gen_test
    async def test_raising_at_the_first_step_of_a_generator(self) -> None:
        @gen.coroutine
        def fail(refs: list[weakref.ref[Witness]]) -> Gen:
            yield from ()  # a generator, failing at its first step
            witness = Witness()
            refs.append(weakref.ref(witness))
            raise ValueError("first step")

        await self.assert_locals_released(fail)


class CancellationTest(AsyncTestCase):
    """Cancelling a coroutine's future reaches the yield it waits at."""

    def make_waiter(self) -> tuple[Future[Any], list[str], Future[None]]:
        """A coroutine paused on ``inner``; returns (its future, log, inner)."""
        inner: Future[None] = Future()
        log: list[str] = []

        @gen.coroutine
        def waiter() -> Gen:
            try:
                yield inner
            except asyncio.CancelledError:
                log.append("cancelled")
                raise
            log.append("resumed")

        return waiter(), log, inner

    @gen_test
    async def test_cancel_while_waiting_on_future(self) -> None:
        outer, log, inner = self.make_waiter()
        await gen.moment
        self.assertTrue(outer.cancel())
        with self.assertRaises(asyncio.CancelledError):
            await outer
        await spin()
        self.assertTrue(inner.cancelled())
        self.assertEqual(log, ["cancelled"])

    @gen_test
    async def test_cancel_while_waiting_on_task(self) -> None:
        task_log: list[str] = []

        async def native() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                task_log.append("task cancelled")
                raise

        @gen.coroutine
        def f() -> Gen:
            yield native()

        outer = f()
        await asyncio.sleep(0)
        outer.cancel()
        await spin()
        self.assertEqual(task_log, ["task cancelled"])

    @gen_test
    async def test_cancel_while_at_moment(self) -> None:
        log: list[str] = []

        @gen.coroutine
        def f() -> Gen:
            try:
                yield gen.moment
            except asyncio.CancelledError:
                log.append("cancelled at moment")
                raise
            log.append("resumed")

        outer = f()
        outer.cancel()
        await spin()
        self.assertEqual(log, ["cancelled at moment"])

    @gen_test
    async def test_coroutine_may_swallow_cancellation(self) -> None:
        inner: Future[None] = Future()
        finished: Future[str] = Future()

        @gen.coroutine
        def stubborn() -> Gen:
            try:
                yield inner
            except asyncio.CancelledError:
                pass
            yield gen.moment
            finished.set_result("kept going")
            return "ignored"

        outer = stubborn()
        await gen.moment
        outer.cancel()
        self.assertEqual(await finished, "kept going")
        self.assertTrue(outer.cancelled())

    @gen_test
    async def test_cancelled_inner_future_raises_in_coroutine(self) -> None:
        outer, log, inner = self.make_waiter()
        await gen.moment
        inner.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await outer
        self.assertTrue(outer.cancelled())
        self.assertEqual(log, ["cancelled"])

    @gen_test
    async def test_cancel_after_completion_is_noop(self) -> None:
        outer, log, inner = self.make_waiter()
        inner.set_result(None)
        await outer
        self.assertFalse(outer.cancel())
        self.assertEqual(log, ["resumed"])

    def tornado_awaitables(self) -> dict[str, Callable[[], Any]]:
        """Factories for each kind of pending awaitable this module returns."""

        @gen.coroutine
        def paused() -> Gen:
            yield Future()

        return {
            "sleep": lambda: gen.sleep(10),
            "multi": lambda: gen.multi([Future()]),
            "multi of dict": lambda: gen.multi({"key": Future()}),
            "with_timeout": lambda: gen.with_timeout(
                datetime.timedelta(seconds=10), Future()
            ),
            "WaitIterator.next": lambda: gen.WaitIterator(Future()).next(),
            "coroutine": paused,
        }

    @gen_test
    async def test_cancel_native_coroutine_at_each_await(self) -> None:
        async def waiter(make: Callable[[], Any]) -> None:
            await make()

        for name, make in self.tornado_awaitables().items():
            with self.subTest(name):
                task = asyncio.ensure_future(waiter(make))
                await asyncio.sleep(0)
                self.assertFalse(task.done())
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task

    @gen_test
    async def test_cancel_generator_coroutine_at_each_yield(self) -> None:
        @gen.coroutine
        def waiter(make: Callable[[], Any], log: list[str]) -> Gen:
            try:
                yield make()
            except asyncio.CancelledError:
                log.append("cancelled")
                raise

        for name, make in self.tornado_awaitables().items():
            with self.subTest(name):
                log: list[str] = []
                outer = waiter(make, log)
                await asyncio.sleep(0)
                self.assertFalse(outer.done())
                outer.cancel()
                await spin()
                self.assertEqual(log, ["cancelled"])

    @gen_test
    async def test_cancellation_through_with_timeout_and_wait_for(self) -> None:
        outer, log, inner = self.make_waiter()
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(outer, 0.01)
        self.assertEqual(log, ["cancelled"])


class MultiTest(AsyncTestCase):
    @gen_test
    async def test_list_and_dict(self) -> None:
        self.assertEqual(
            await gen.multi([asyncio.sleep(0, result=1), gen.sleep(0)]), [1, None]
        )
        self.assertEqual(
            await gen.multi({"a": asyncio.sleep(0, result="A"), "b": gen.moment}),
            {"a": "A", "b": None},
        )
        self.assertEqual(await gen.multi([]), [])
        self.assertEqual(await gen.multi({}), {})
        self.assertIs(gen.Multi, gen.multi)

    @gen_test
    async def test_results_keep_order_not_completion_order(self) -> None:
        slow: Future[str] = Future()
        fast: Future[str] = Future()
        result = gen.multi_future([slow, fast])
        fast.set_result("fast")
        await gen.moment
        self.assertFalse(result.done())
        slow.set_result("slow")
        self.assertEqual(await result, ["slow", "fast"])

    @gen_test
    async def test_same_future_twice(self) -> None:
        future: Future[int] = Future()
        result = gen.multi([future, future])
        future.set_result(5)
        self.assertEqual(await result, [5, 5])

    @gen_test
    async def test_waits_for_all_and_raises_first_in_order(self) -> None:
        first: Future[None] = Future()
        second: Future[None] = Future()
        third: Future[int] = Future()
        result = gen.multi([first, second, third])
        second.set_exception(KeyError("second"))
        first.set_exception(ValueError("first"))
        await gen.moment
        self.assertFalse(result.done())  # still waiting for third
        third.set_result(3)
        with ExpectLog("tornado.application", "Multiple exceptions in yield list"):
            with self.assertRaisesRegex(ValueError, "first"):
                await result

    @gen_test
    async def test_quiet_exceptions_are_not_logged(self) -> None:
        async def fail(error: Exception) -> None:
            raise error

        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            with self.assertRaises(KeyError):
                await gen.multi(
                    [fail(KeyError()), fail(KeyError()), fail(ValueError("loud"))],
                    quiet_exceptions=KeyError,
                )
            with self.assertRaises(KeyError):
                await gen.multi(
                    [fail(KeyError()), fail(ValueError()), fail(TypeError())],
                    quiet_exceptions=(ValueError, TypeError),
                )
            app_logger = logging.getLogger("tornado.application")
            app_logger.error("sentinel")  # assertLogs needs at least one record
        messages = [record.getMessage() for record in logs.records]
        self.assertEqual(messages, ["Multiple exceptions in yield list", "sentinel"])

    @gen_test
    async def test_cancelled_child_fails_result_with_cancelled_error(self) -> None:
        child: Future[None] = Future()
        result = gen.multi([child, asyncio.sleep(0)])
        child.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await result
        # Like asyncio.gather: an exception, not a cancelled future.
        self.assertFalse(result.cancelled())
        self.assertIsInstance(result.exception(), asyncio.CancelledError)

    @gen_test
    async def test_cancelled_child_in_dict(self) -> None:
        child: Future[None] = Future()
        result = gen.multi({"a": asyncio.sleep(0), "b": child})
        child.cancel()
        await spin()
        self.assertTrue(result.done())
        self.assertFalse(result.cancelled())
        self.assertIsInstance(result.exception(), asyncio.CancelledError)

    def test_bad_child(self) -> None:
        with self.assertRaisesRegex(gen.BadYieldError, "object 3"):
            gen.multi([3])  # type: ignore[list-item]


class WithTimeoutTest(AsyncTestCase):
    @gen_test
    async def test_result_before_timeout(self) -> None:
        self.assertEqual(
            await gen.with_timeout(
                datetime.timedelta(seconds=5), asyncio.sleep(0, result=1)
            ),
            1,
        )

    @gen_test
    async def test_timeout_with_deadline(self) -> None:
        inner: Future[None] = Future()
        with self.assertRaisesRegex(gen.TimeoutError, "^Timeout$"):
            await gen.with_timeout(self.io_loop.time() + 0.01, inner)
        self.assertFalse(inner.done())  # not cancelled
        inner.set_result(None)

    @gen_test
    async def test_timeout_message(self) -> None:
        with self.assertRaisesRegex(util.TimeoutError, "^waited too long$"):
            await gen.with_timeout(
                datetime.timedelta(seconds=0.01), Future(), message="waited too long"
            )
        self.assertIs(gen.TimeoutError, util.TimeoutError)

    @gen_test
    async def test_exception_before_timeout(self) -> None:
        async def fail() -> None:
            raise KeyError("inner")

        with self.assertRaisesRegex(KeyError, "inner"):
            await gen.with_timeout(datetime.timedelta(seconds=5), fail())

    @gen_test
    async def test_failure_after_timeout_is_logged(self) -> None:
        inner: Future[None] = Future()
        with self.assertRaises(gen.TimeoutError):
            await gen.with_timeout(datetime.timedelta(seconds=0.01), inner)
        with ExpectLog("tornado.application", "Exception in Future .* after timeout"):
            inner.set_exception(ValueError("late"))
            await gen.moment

    @gen_test
    async def test_quiet_failure_after_timeout(self) -> None:
        inner: Future[None] = Future()
        with self.assertRaises(gen.TimeoutError):
            await gen.with_timeout(
                datetime.timedelta(seconds=0.01), inner, quiet_exceptions=(ValueError,)
            )
        with self.assertLogs("tornado.application") as logs:
            inner.set_exception(ValueError("late"))
            await gen.moment
            logging.getLogger("tornado.application").error("sentinel")
        self.assertEqual([r.getMessage() for r in logs.records], ["sentinel"])

    @gen_test
    async def test_concurrent_future(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            result = await gen.with_timeout(
                datetime.timedelta(seconds=5), pool.submit(int, "7")
            )
        self.assertEqual(result, 7)

    @gen_test
    async def test_concurrent_future_failing_after_timeout_is_logged(self) -> None:
        inner: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self.assertRaises(gen.TimeoutError):
            await gen.with_timeout(datetime.timedelta(seconds=0.01), inner)
        with ExpectLog(
            "tornado.application", "Exception in Future .* after timeout"
        ) as expected:
            inner.set_exception(ValueError("late"))
            # The outcome reaches the loop through a few callbacks.
            for _ in range(10):
                if expected.matched:
                    break
                await gen.moment

    @gen_test
    async def test_timer_is_removed_on_completion(self) -> None:
        removed: list[object] = []
        real_remove = self.io_loop.remove_timeout

        def remove(timeout: object) -> None:
            removed.append(timeout)
            real_remove(timeout)

        with mock.patch.object(self.io_loop, "remove_timeout", remove):
            await gen.with_timeout(datetime.timedelta(seconds=5), asyncio.sleep(0))
        self.assertEqual(len(removed), 1)

    @gen_test
    async def test_message_function_called_only_on_timeout(self) -> None:
        calls: list[str] = []

        def describe() -> str:
            calls.append("called")
            return "timed out after step 3"

        self.assertEqual(
            await gen.with_timeout(
                datetime.timedelta(seconds=5), asyncio.sleep(0, 1), message=describe
            ),
            1,
        )
        self.assertEqual(calls, [])
        with self.assertRaisesRegex(util.TimeoutError, "^timed out after step 3$"):
            await gen.with_timeout(
                datetime.timedelta(seconds=0.01), Future(), message=describe
            )
        self.assertEqual(calls, ["called"])

    def test_bad_timeout(self) -> None:
        with self.assertRaisesRegex(TypeError, "Unsupported deadline"):
            gen.with_timeout("soon", Future())  # type: ignore[call-overload]


class SleepTest(AsyncTestCase):
    @gen_test
    async def test_sleep(self) -> None:
        start = self.io_loop.time()
        await gen.sleep(0.01)
        self.assertGreaterEqual(self.io_loop.time() - start, 0.009)

    @gen_test
    async def test_cancelled_sleep(self) -> None:
        nap = gen.sleep(0.001)
        nap.cancel()
        await asyncio.sleep(0.01)  # the timer fires on a cancelled future
        self.assertTrue(nap.cancelled())


class WaitIteratorTest(AsyncTestCase):
    @gen_test
    async def test_completion_order_with_indices(self) -> None:
        futures: list[Future[str]] = [Future() for _ in range(3)]
        waiter = gen.WaitIterator(*futures)
        for index in (2, 0, 1):
            futures[index].set_result(f"r{index}")
        seen = []
        while not waiter.done():
            result = await waiter.next()
            seen.append((waiter.current_index, result))
            self.assertIs(waiter.current_future, futures[waiter.current_index])
        self.assertEqual(seen, [(2, "r2"), (0, "r0"), (1, "r1")])
        self.assertIsNone(waiter.current_index)
        self.assertIsNone(waiter.current_future)

    @gen_test
    async def test_keywords_and_async_for(self) -> None:
        slow: Future[int] = Future()
        waiter = gen.WaitIterator(slow=slow, quick=asyncio.sleep(0, result=1))
        self.io_loop.call_later(0.001, slow.set_result, 2)
        seen = {}
        async for result in waiter:
            seen[waiter.current_index] = result
        self.assertEqual(seen, {"quick": 1, "slow": 2})

    @gen_test
    async def test_exceptions_do_not_stop_iteration(self) -> None:
        bad: Future[int] = Future()
        good: Future[int] = Future()
        waiter = gen.WaitIterator(bad, good)
        bad.set_exception(KeyError("bad"))
        good.set_result(1)
        outcomes = []
        while not waiter.done():
            try:
                outcomes.append(await waiter.next())
            except KeyError:
                outcomes.append("error")
        self.assertEqual(outcomes, ["error", 1])

    @gen_test
    def test_in_generator_coroutine(self) -> Gen:
        waiter = gen.WaitIterator(asyncio.sleep(0, result="a"))
        results = []
        while not waiter.done():
            results.append((yield waiter.next()))
        self.assertEqual(results, ["a"])

    def test_empty(self) -> None:
        self.assertTrue(gen.WaitIterator().done())

    @gen_test
    async def test_same_future_given_several_times(self) -> None:
        future: Future[str] = Future()
        other: Future[str] = Future()
        waiter = gen.WaitIterator(future, other, future, future)
        future.set_result("f")
        other.set_result("o")
        seen = []
        while not waiter.done():
            result = await waiter.next()
            seen.append((waiter.current_index, result))
        self.assertEqual(sorted(seen), [(0, "f"), (1, "o"), (2, "f"), (3, "f")])

    @gen_test
    async def test_same_future_under_several_keywords(self) -> None:
        future: Future[int] = Future()
        waiter = gen.WaitIterator(a=future, b=future)
        self.io_loop.call_later(0.001, future.set_result, 7)
        seen = {}
        async for result in waiter:
            seen[waiter.current_index] = result
        self.assertEqual(seen, {"a": 7, "b": 7})

    def test_args_and_kwargs(self) -> None:
        with self.assertRaisesRegex(ValueError, "not both"):
            gen.WaitIterator(Future(), other=Future())


class ConvertYieldedTest(AsyncTestCase):
    def test_future_passes_through(self) -> None:
        future: Future[None] = Future()
        self.assertIs(gen.convert_yielded(future), future)
        concurrent_future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.assertIs(gen.convert_yielded(concurrent_future), concurrent_future)

    def test_none_is_moment(self) -> None:
        self.assertIs(gen.convert_yielded(None), gen.moment)
        self.assertIs(gen.convert_yielded(gen.moment), gen.moment)

    def test_unknown(self) -> None:
        with self.assertRaisesRegex(gen.BadYieldError, "unknown object 'text'"):
            gen.convert_yielded("text")

    @gen_test
    def test_registering_a_new_type(self) -> Gen:
        class Deferred:
            def __init__(self, value: Any) -> None:
                self.value = value

        @gen.convert_yielded.register(Deferred)
        def _(deferred: Deferred) -> Future[Any]:
            future: Future[Any] = Future()
            future.set_result(deferred.value)
            return future

        self.assertEqual((yield Deferred("converted")), "converted")
        self.assertEqual((yield [Deferred(1), Deferred(2)]), [1, 2])

    def test_maybe_future(self) -> None:
        future: Future[int] = Future()
        self.assertIs(gen.maybe_future(future), future)
        self.assertEqual(gen.maybe_future(3).result(), 3)


class UnretrievedExceptionTest(unittest.TestCase):
    def test_unawaited_failure_is_logged_by_asyncio(self) -> None:
        # Outside AsyncTestCase, whose loop turns such reports into failures.
        io_loop = IOLoop(make_current=False)

        @gen.coroutine
        def fail() -> Gen:
            yield gen.moment
            raise ValueError("nobody awaits me")

        async def main() -> None:
            future = fail()
            while not future.done():
                await asyncio.sleep(0)
            del future
            gc.collect()

        try:
            with ExpectLog("asyncio", "Future exception was never retrieved"):
                io_loop.run_sync(main)
        finally:
            io_loop.close()


class RunnerTest(AsyncTestCase):
    @gen_test
    async def test_handle_exception_resumes_paused_generator(self) -> None:
        created: list[gen.Runner] = []
        real_init = gen.Runner.__init__

        def spy(runner: gen.Runner, *args: Any) -> None:
            created.append(runner)
            real_init(runner, *args)

        @gen.coroutine
        def f() -> Gen:
            try:
                yield Future()
            except KeyError:
                return "handled"

        with mock.patch.object(gen.Runner, "__init__", spy):
            future = f()
        runner = created[0]
        self.assertFalse(runner.finished)
        try:
            raise KeyError()
        except KeyError:
            self.assertTrue(runner.handle_exception(*sys.exc_info()))
        self.assertEqual(await future, "handled")
        self.assertTrue(runner.finished)
        self.assertFalse(runner.handle_exception(*sys.exc_info()))


if __name__ == "__main__":
    unittest.main()
