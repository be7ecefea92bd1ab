"""Tests for tornado.ioloop."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import datetime
import fractions
import functools
import logging
import os
import socket
import threading
import time
import unittest
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import tornado.platform.asyncio
from tornado import gen
from tornado.concurrent import Future
from tornado.gen import BadYieldError
from tornado.ioloop import IOLoop, PeriodicCallback, TimeoutError
from tornado.platform.asyncio import AsyncIOLoop, AsyncIOMainLoop, BaseAsyncIOLoop
from tornado.test.util import in_fresh_thread
from tornado.testing import AsyncTestCase, ExpectLog, gen_test


@contextlib.contextmanager
def new_loop(**kwargs: Any) -> Iterator[IOLoop]:
    loop = IOLoop(**kwargs)
    try:
        yield loop
    finally:
        loop.close(all_fds=True)


class CurrentLoopTest(unittest.TestCase):
    def test_current_wraps_the_running_loop(self) -> None:
        async def main() -> tuple[IOLoop, IOLoop]:
            return IOLoop.current(), IOLoop.current(instance=False)  # type: ignore[return-value]

        def run() -> None:
            first, second = asyncio.run(main())
            self.assertIs(first, second)
            self.assertIsInstance(first, AsyncIOMainLoop)

        in_fresh_thread(run)

    def test_current_without_a_loop(self) -> None:
        def no_instance() -> Any:
            return IOLoop.current(instance=False)

        self.assertIsNone(in_fresh_thread(no_instance))

        def with_instance() -> bool:
            loop = IOLoop.current()
            try:
                return loop is IOLoop.current() and isinstance(loop, AsyncIOMainLoop)
            finally:
                loop.close()
                asyncio.set_event_loop(None)

        self.assertTrue(in_fresh_thread(with_instance))

    def test_new_loop_is_current_until_closed(self) -> None:
        def run() -> None:
            loop = IOLoop()
            self.assertIs(IOLoop.current(), loop)
            self.assertIsInstance(loop, AsyncIOLoop)
            loop.close()
            self.assertIsNone(IOLoop.current(instance=False))

        in_fresh_thread(run)

    def test_make_current_false_leaves_thread_alone(self) -> None:
        def run() -> None:
            with new_loop(make_current=False) as loop:
                self.assertIsNone(IOLoop.current(instance=False))
                self.assertIs(loop.run_sync(current_loop), loop)
            self.assertIsNone(IOLoop.current(instance=False))

        in_fresh_thread(run)

    def test_each_loop_has_its_own_asyncio_loop(self) -> None:
        with new_loop(make_current=False) as a, new_loop(make_current=False) as b:
            assert isinstance(a, BaseAsyncIOLoop) and isinstance(b, BaseAsyncIOLoop)
            self.assertIsNot(a.asyncio_loop, b.asyncio_loop)

    def test_deprecated_current_management(self) -> None:
        def run() -> None:
            with new_loop(make_current=False) as loop:
                with self.assertWarnsRegex(DeprecationWarning, "make_current"):
                    loop.make_current()
                self.assertIs(IOLoop.current(), loop)
                with self.assertWarnsRegex(DeprecationWarning, "clear_current"):
                    IOLoop.clear_current()
                self.assertIsNone(IOLoop.current(instance=False))
                with self.assertWarnsRegex(DeprecationWarning, "install"):
                    loop.install()
                self.assertIs(IOLoop.instance(), loop)
                with self.assertWarnsRegex(DeprecationWarning, "clear_instance"):
                    IOLoop.clear_instance()
                self.assertIsNone(IOLoop.current(instance=False))

        in_fresh_thread(run)


class ConfigureTest(unittest.TestCase):
    def setUp(self) -> None:
        self.saved = IOLoop._save_configuration()

    def tearDown(self) -> None:
        IOLoop._restore_configuration(self.saved)

    def test_default_is_asyncio_loop(self) -> None:
        self.assertIs(IOLoop.configured_class(), AsyncIOLoop)

    def test_configure_by_name(self) -> None:
        IOLoop.configure("tornado.platform.asyncio.AsyncIOLoop")
        self.assertIs(IOLoop.configured_class(), AsyncIOLoop)

    def test_non_asyncio_class_is_refused(self) -> None:
        class Custom(IOLoop):
            pass

        with self.assertRaisesRegex(RuntimeError, "AsyncIOLoop"):
            IOLoop.configure(Custom)

    def test_configure_kwargs_reach_initialize(self) -> None:
        IOLoop.configure(AsyncIOLoop, make_current=False)

        def run() -> None:
            with new_loop():
                self.assertIsNone(IOLoop.current(instance=False))

        in_fresh_thread(run)


async def current_loop() -> IOLoop:
    return IOLoop.current()


async def spin(iterations: int = 10) -> None:
    """Let the loop run ``iterations`` times (enough for short callback chains)."""
    for _ in range(iterations):
        await asyncio.sleep(0)


class LoopTestCase(unittest.TestCase):
    """Each test gets a new, not yet running, loop."""

    def setUp(self) -> None:
        self.io_loop: IOLoop = IOLoop(make_current=False)

    def new_future(self) -> Future[Any]:
        """A future of this test's loop, created without running it."""
        assert isinstance(self.io_loop, BaseAsyncIOLoop)
        return self.io_loop.asyncio_loop.create_future()

    def tearDown(self) -> None:
        self.io_loop.close(all_fds=True)

    def run_until(self, future: Future[Any], timeout: float = 5) -> Any:
        return self.io_loop.run_sync(lambda: future, timeout=timeout)


class StartStopTest(LoopTestCase):
    def test_stop_before_start(self) -> None:
        ran: list[int] = []
        self.io_loop.add_callback(ran.append, 1)
        self.io_loop.stop()
        self.io_loop.start()
        self.assertEqual(ran, [1])

    def test_start_runs_until_stopped(self) -> None:
        ran: list[str] = []

        def first() -> None:
            ran.append("first")
            self.io_loop.add_callback(second)

        def second() -> None:
            ran.append("second")
            self.io_loop.stop()

        self.io_loop.add_callback(first)
        self.io_loop.start()
        self.assertEqual(ran, ["first", "second"])

    def test_loop_is_current_while_running(self) -> None:
        self.assertIs(self.io_loop.run_sync(current_loop), self.io_loop)

    def test_close_with_pending_callbacks_timeouts_and_handlers(self) -> None:
        a, b = socket.socketpair()
        ran: list[str] = []
        self.io_loop.add_handler(
            a, lambda fd, events: ran.append("handler"), IOLoop.READ
        )
        self.io_loop.call_later(0, ran.append, "timeout")
        self.io_loop.add_callback(ran.append, "callback")
        b.send(b"x")
        self.io_loop.close(all_fds=True)
        self.assertEqual(ran, [])
        self.assertEqual(a.fileno(), -1)  # all_fds closed it
        b.close()
        self.io_loop = IOLoop(make_current=False)  # for tearDown

    def test_close_without_all_fds_leaves_descriptors_open(self) -> None:
        a, b = socket.socketpair()
        with a, b:
            self.io_loop.add_handler(a.fileno(), lambda fd, events: None, IOLoop.READ)
            self.io_loop.close()
            b.send(b"x")
            self.assertEqual(a.recv(1), b"x")
        self.io_loop = IOLoop(make_current=False)

    def test_close_twice(self) -> None:
        self.io_loop.close()
        self.io_loop.close()
        self.io_loop = IOLoop(make_current=False)

    def test_cannot_close_while_running(self) -> None:
        async def close_me() -> None:
            self.io_loop.close()

        with self.assertRaisesRegex(RuntimeError, "running"):
            self.io_loop.run_sync(close_me)


class RunSyncTest(LoopTestCase):
    def test_function_returning_none(self) -> None:
        ran: list[int] = []
        self.assertIsNone(self.io_loop.run_sync(lambda: ran.append(1)))
        self.assertEqual(ran, [1])

    def test_function_must_return_an_awaitable(self) -> None:
        with self.assertRaisesRegex(BadYieldError, "unknown object 42"):
            self.io_loop.run_sync(lambda: 42)

    def test_native_coroutine(self) -> None:
        async def f() -> str:
            await asyncio.sleep(0)
            return "native"

        self.assertEqual(self.io_loop.run_sync(f), "native")

    def test_generator_coroutine(self) -> None:
        @gen.coroutine
        def f() -> Any:
            yield gen.moment
            return "generator"

        self.assertEqual(self.io_loop.run_sync(f), "generator")

    def test_yieldable_list(self) -> None:
        self.assertEqual(
            self.io_loop.run_sync(lambda: [gen.sleep(0), asyncio.sleep(0, result=2)]),
            [None, 2],
        )

    def test_exception_propagates(self) -> None:
        async def f() -> None:
            raise KeyError("async")

        with self.assertRaisesRegex(KeyError, "async"):
            self.io_loop.run_sync(f)

        def g() -> None:
            raise KeyError("sync")

        with self.assertRaisesRegex(KeyError, "sync"):
            self.io_loop.run_sync(g)

    def test_timeout_cancels_the_coroutine(self) -> None:
        cancelled = []

        async def slow() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        with self.assertRaisesRegex(TimeoutError, "timed out after 0.01 seconds"):
            self.io_loop.run_sync(slow, timeout=0.01)
        self.assertEqual(cancelled, [True])

    def test_timeout_with_uncancellable_future(self) -> None:
        pending: concurrent.futures.Future[int] = concurrent.futures.Future()
        pending.set_running_or_notify_cancel()  # running: cannot be cancelled
        with self.assertRaises(TimeoutError):
            self.io_loop.run_sync(lambda: pending, timeout=0.01)
        pending.set_result(1)

    def test_loop_stopped_before_result(self) -> None:
        release = self.new_future()
        abandoned: list[asyncio.Task[Any] | None] = []

        async def stop_then_wait() -> None:
            abandoned.append(asyncio.current_task())
            self.io_loop.stop()
            await release

        with self.assertRaisesRegex(
            RuntimeError, r"^Event loop stopped before Future completed\.$"
        ):
            self.io_loop.run_sync(stop_then_wait)
        with self.assertRaisesRegex(RuntimeError, "stopped before Future completed"):
            self.io_loop.run_sync(stop_then_wait, timeout=5)
        # Let the abandoned coroutines finish; each stops the loop when done.
        release.set_result(None)
        while not all(task is not None and task.done() for task in abandoned):
            self.io_loop.start()

    def test_timeout_is_builtin_timeout_error(self) -> None:
        self.assertIs(TimeoutError, builtins.TimeoutError)

    def test_result_before_timeout(self) -> None:
        async def quick() -> int:
            return 5

        self.assertEqual(self.io_loop.run_sync(quick, timeout=5), 5)


class CallbackTest(LoopTestCase):
    def test_add_callback_with_arguments(self) -> None:
        got: list[Any] = []
        self.io_loop.add_callback(lambda *a, **k: got.append((a, k)), 1, x=2)
        self.io_loop.add_callback(self.io_loop.stop)
        self.io_loop.start()
        self.assertEqual(got, [((1,), {"x": 2})])

    def test_spawn_callback(self) -> None:
        done: Future[str] = self.new_future()

        async def task() -> None:
            await asyncio.sleep(0)
            done.set_result("spawned")

        self.io_loop.spawn_callback(task)
        self.assertEqual(self.run_until(done), "spawned")

    def test_add_callback_from_other_threads_under_load(self) -> None:
        threads, per_thread = 8, 500
        counts: list[int] = []
        all_added: Future[None] = self.new_future()
        expected = threads * per_thread

        def count(n: int) -> None:
            counts.append(n)
            if len(counts) == expected:
                all_added.set_result(None)

        barrier = threading.Barrier(threads)

        def hammer(thread_index: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                self.io_loop.add_callback(count, thread_index * per_thread + i)

        workers = [threading.Thread(target=hammer, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        self.run_until(all_added)
        for worker in workers:
            worker.join()
        self.assertEqual(sorted(counts), list(range(expected)))

    def test_stop_from_another_thread(self) -> None:
        started = threading.Event()
        self.io_loop.add_callback(started.set)

        def stop_when_started() -> None:
            started.wait()
            self.io_loop.add_callback(self.io_loop.stop)

        thread = threading.Thread(target=stop_when_started)
        thread.start()
        self.io_loop.start()
        thread.join()
        self.assertTrue(started.is_set())

    def test_add_callback_after_close_is_ignored(self) -> None:
        self.io_loop.close()
        self.io_loop.add_callback(lambda: None)
        in_fresh_thread(lambda: self.io_loop.add_callback(lambda: None))
        self.io_loop = IOLoop(make_current=False)

    def test_add_callback_from_signal_is_deprecated(self) -> None:
        ran: list[int] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.io_loop.add_callback_from_signal(ran.append, 1)
        self.assertEqual(len(caught), 1)
        self.assertIs(caught[0].category, DeprecationWarning)
        self.assertEqual(
            str(caught[0].message), "add_callback_from_signal is deprecated"
        )
        self.assertEqual(caught[0].filename, tornado.platform.asyncio.__file__)
        # A filter naming tornado's module, as 6.6 users write them, applies.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "error", category=DeprecationWarning, module="tornado.platform.asyncio"
            )
            with self.assertRaisesRegex(DeprecationWarning, "^add_callback_from"):
                self.io_loop.add_callback_from_signal(ran.append, 2)
        self.io_loop.add_callback(self.io_loop.stop)
        self.io_loop.start()
        self.assertEqual(ran, [1])


class CallbackExceptionTest(LoopTestCase):
    def run_callbacks(self, *callbacks: Callable[[], Any]) -> None:
        for callback in callbacks:
            self.io_loop.add_callback(callback)
        self.io_loop.run_sync(spin)

    def test_exception_is_logged_once_and_loop_goes_on(self) -> None:
        ran: list[str] = []

        def fail() -> None:
            raise ZeroDivisionError("in callback")

        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            self.run_callbacks(fail, lambda: ran.append("after"))
        self.assertEqual(len(logs.records), 1)
        record = logs.records[0]
        self.assertRegex(record.getMessage(), "^Exception in callback .*fail")
        assert record.exc_info is not None
        self.assertIs(record.exc_info[0], ZeroDivisionError)
        self.assertEqual(ran, ["after"])

    def test_failing_returned_coroutine_is_logged_once(self) -> None:
        async def fail() -> None:
            await asyncio.sleep(0)
            raise ValueError("in coroutine")

        with self.assertLogs("tornado.application", logging.ERROR) as logs:
            self.run_callbacks(fail)
        self.assertEqual(len(logs.records), 1)
        assert logs.records[0].exc_info is not None
        self.assertIs(logs.records[0].exc_info[0], ValueError)

    def test_with_expect_log(self) -> None:
        with ExpectLog("tornado.application", "Exception in callback"):
            self.run_callbacks(lambda: 1 / 0)

    def test_plain_return_values_are_ignored(self) -> None:
        ran: list[int] = []
        self.run_callbacks(lambda: 42, lambda: "text", lambda: ran.append(1))
        self.assertEqual(ran, [1])

    def test_cancellation_is_not_an_error(self) -> None:
        def cancelled() -> None:
            raise asyncio.CancelledError()

        future: Future[None] = self.new_future()
        future.cancel()
        self.run_callbacks(cancelled, lambda: future)

    def test_handle_callback_exception_can_be_overridden(self) -> None:
        seen: list[Any] = []

        def record(callback: Any) -> None:
            seen.append(callback)

        def fail() -> None:
            raise KeyError()

        with mock.patch.object(self.io_loop, "handle_callback_exception", record):
            self.run_callbacks(fail)
        self.assertEqual(len(seen), 1)


class TimeoutTest(LoopTestCase):
    def test_time_is_wall_clock(self) -> None:
        self.assertAlmostEqual(self.io_loop.time(), time.time(), delta=1)

    def test_add_timeout_with_deadline_and_timedelta(self) -> None:
        order: list[str] = []
        now = self.io_loop.time()
        self.io_loop.add_timeout(
            datetime.timedelta(milliseconds=20), order.append, "td"
        )
        self.io_loop.add_timeout(now + 0.01, order.append, "float")
        self.io_loop.add_timeout(now + 0.03, self.io_loop.stop)
        self.io_loop.start()
        self.assertEqual(order, ["float", "td"])

    def test_add_timeout_accepts_any_real_number(self) -> None:
        order: list[str] = []
        now = self.io_loop.time()
        self.io_loop.add_timeout(now + 0.03, self.io_loop.stop)
        soon = fractions.Fraction(now) + fractions.Fraction(1, 100)
        self.io_loop.add_timeout(soon, order.append, "fraction")
        self.io_loop.start()
        self.assertEqual(order, ["fraction"])

    def test_add_timeout_rejects_other_types(self) -> None:
        with self.assertRaisesRegex(TypeError, "Unsupported deadline '1'"):
            self.io_loop.add_timeout("1", lambda: None)  # type: ignore[arg-type]

    def test_call_later_and_call_at(self) -> None:
        order: list[str] = []
        self.io_loop.call_later(0.02, order.append, "later")
        self.io_loop.call_at(self.io_loop.time() + 0.01, order.append, "at")
        self.io_loop.call_later(0.03, self.io_loop.stop)
        self.io_loop.start()
        self.assertEqual(order, ["at", "later"])

    def test_deadline_in_the_past_runs_soon(self) -> None:
        ran: list[int] = []
        self.io_loop.call_at(self.io_loop.time() - 100, ran.append, 1)
        self.io_loop.call_later(0, self.io_loop.stop)
        self.io_loop.start()
        self.assertEqual(ran, [1])

    def test_remove_timeout(self) -> None:
        ran: list[int] = []
        handle = self.io_loop.call_later(0, ran.append, 1)
        self.io_loop.remove_timeout(handle)
        self.io_loop.call_later(0.01, self.io_loop.stop)
        self.io_loop.start()
        self.assertEqual(ran, [])
        self.io_loop.remove_timeout(handle)  # harmless a second time

    def test_remove_timeout_after_it_ran(self) -> None:
        handle = self.io_loop.call_later(0, self.io_loop.stop)
        self.io_loop.start()
        self.io_loop.remove_timeout(handle)

    def test_exception_in_timeout_is_logged(self) -> None:
        self.io_loop.call_later(0, lambda: 1 / 0)
        self.io_loop.call_later(0.01, self.io_loop.stop)
        with ExpectLog("tornado.application", "Exception in callback"):
            self.io_loop.start()


class HandlerTest(LoopTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.a, self.b = socket.socketpair()
        self.a.setblocking(False)
        self.b.setblocking(False)

    def tearDown(self) -> None:
        self.io_loop.close()  # not all_fds: some tests register bare numbers
        self.a.close()
        self.b.close()

    def wait_for_events(self, fd: Any, events: int) -> list[tuple[Any, int]]:
        """Register ``fd`` and return the first event reported for it."""
        seen: list[tuple[Any, int]] = []

        def handler(fd: Any, events: int) -> None:
            seen.append((fd, events))
            # Some loops (uvloop) finish the iteration's events after stop().
            self.io_loop.remove_handler(fd)
            self.io_loop.stop()

        self.io_loop.add_handler(fd, handler, events)
        self.io_loop.start()
        return seen

    def test_read_event_on_socket_object(self) -> None:
        self.b.send(b"x")
        self.assertEqual(
            self.wait_for_events(self.a, IOLoop.READ), [(self.a, IOLoop.READ)]
        )

    def test_read_event_on_integer_fd(self) -> None:
        self.b.send(b"x")
        fd = self.a.fileno()
        self.assertEqual(self.wait_for_events(fd, IOLoop.READ), [(fd, IOLoop.READ)])

    def test_write_event(self) -> None:
        self.assertEqual(
            self.wait_for_events(self.a, IOLoop.WRITE), [(self.a, IOLoop.WRITE)]
        )

    def test_update_handler_switches_events(self) -> None:
        seen: list[int] = []

        def handler(fd: Any, events: int) -> None:
            seen.append(events)
            if events & IOLoop.WRITE:
                # Writable straight away; now wait for something to read.
                self.io_loop.update_handler(self.a, IOLoop.READ)
                self.b.send(b"x")
            else:
                self.io_loop.remove_handler(fd)
                self.io_loop.stop()

        self.io_loop.add_handler(self.a, handler, IOLoop.WRITE)
        self.io_loop.start()
        self.assertEqual(seen, [IOLoop.WRITE, IOLoop.READ])

    def test_update_unknown_fd_raises(self) -> None:
        with self.assertRaisesRegex(ValueError, "no handler"):
            self.io_loop.update_handler(self.a, IOLoop.READ)

    def test_remove_handler_stops_events(self) -> None:
        calls: list[int] = []
        self.io_loop.add_handler(self.a, lambda fd, ev: calls.append(ev), IOLoop.READ)
        self.io_loop.remove_handler(self.a)
        self.b.send(b"x")
        self.io_loop.run_sync(spin)
        self.assertEqual(calls, [])

    def test_remove_unknown_fd_is_noop(self) -> None:
        self.io_loop.remove_handler(self.a)
        self.io_loop.remove_handler(12345)

    def test_fd_added_twice(self) -> None:
        self.io_loop.add_handler(self.a, lambda fd, ev: None, IOLoop.READ)
        with self.assertRaisesRegex(ValueError, "added twice"):
            self.io_loop.add_handler(self.a.fileno(), lambda fd, ev: None, IOLoop.READ)

    def test_handler_can_remove_itself_and_reregister(self) -> None:
        seen: list[int] = []

        def handler(fd: socket.socket, events: int) -> None:
            seen.append(len(fd.recv(10)))
            self.io_loop.remove_handler(fd)
            if len(seen) == 2:
                self.io_loop.stop()
            else:
                self.io_loop.add_handler(fd, handler, IOLoop.READ)
                self.b.send(b"yy")

        self.io_loop.add_handler(self.a, handler, IOLoop.READ)
        self.b.send(b"x")
        self.io_loop.start()
        self.assertEqual(seen, [1, 2])

    def test_split_fd_and_close_fd(self) -> None:
        self.assertEqual(self.io_loop.split_fd(5), (5, 5))
        self.assertEqual(self.io_loop.split_fd(self.a), (self.a.fileno(), self.a))
        c, d = socket.socketpair()
        fd = d.detach()
        self.io_loop.close_fd(c)
        self.io_loop.close_fd(fd)
        self.assertEqual(c.fileno(), -1)
        with self.assertRaises(OSError):
            os.fstat(fd)
        failing = mock.Mock()
        failing.close.side_effect = OSError("already closed")
        self.io_loop.close_fd(failing)  # the error is ignored
        failing.close.assert_called_once_with()


class FutureAndExecutorTest(LoopTestCase):
    def test_add_future_asyncio(self) -> None:
        async def main() -> int:
            future: Future[int] = Future()
            done: Future[int] = Future()
            self.io_loop.add_future(future, lambda f: done.set_result(f.result()))
            future.set_result(3)
            return await done

        self.assertEqual(self.io_loop.run_sync(main), 3)

    def test_add_future_concurrent_runs_on_loop_thread(self) -> None:
        async def main() -> str:
            done: Future[str] = Future()
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                self.io_loop.add_future(
                    pool.submit(time.monotonic),
                    lambda f: done.set_result(threading.current_thread().name),
                )
                return await done

        self.assertEqual(self.io_loop.run_sync(main), threading.current_thread().name)

    def test_add_future_rejects_non_futures(self) -> None:
        with self.assertRaisesRegex(TypeError, "needs a future"):
            self.io_loop.add_future(42, lambda f: None)  # type: ignore[call-overload]

    def test_run_in_executor_default_and_given(self) -> None:
        async def main() -> tuple[str, str]:
            default = await self.io_loop.run_in_executor(
                None, lambda: threading.current_thread().name
            )
            with concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="given"
            ) as pool:
                given = await self.io_loop.run_in_executor(
                    pool, lambda: threading.current_thread().name
                )
            return default, given

        default, given = self.io_loop.run_sync(main)
        self.assertNotEqual(default, threading.current_thread().name)
        self.assertTrue(given.startswith("given"))

    def test_set_default_executor(self) -> None:
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mine")
        self.io_loop.set_default_executor(pool)

        async def main() -> str:
            return await self.io_loop.run_in_executor(
                None, lambda: threading.current_thread().name
            )

        self.assertTrue(self.io_loop.run_sync(main).startswith("mine"))
        pool.shutdown()

    def test_base_class_executor_fallback(self) -> None:
        # IOLoop's own run_in_executor (used by implementations that do not
        # delegate to asyncio) runs on a thread pool and chains the result.
        async def main() -> int:
            return await IOLoop.run_in_executor(self.io_loop, None, sum, [1, 2])

        self.assertEqual(self.io_loop.run_sync(main), 3)
        self.io_loop._executor.shutdown()


class FakeClock:
    """Stands in for ``IOLoop.time`` and records the deadlines scheduled."""

    def __init__(self, io_loop: IOLoop, now: float) -> None:
        self.io_loop = io_loop
        self.now = now
        self.deadlines: list[float] = []
        self.callbacks: list[Callable[[], Any]] = []
        self.patches: list[Any] = [
            mock.patch.object(io_loop, "time", self.time),
            mock.patch.object(io_loop, "add_timeout", self.add_timeout),
        ]

    def time(self) -> float:
        return self.now

    def add_timeout(self, deadline: float, callback: Callable[[], Any]) -> object:
        self.deadlines.append(deadline)
        self.callbacks.append(callback)
        return mock.Mock()  # a handle whose cancel() does nothing

    def fire(self, at: float) -> None:
        """Run the last scheduled callback, as if the clock said ``at``."""
        self.now = at
        self.io_loop.run_sync(self.callbacks[-1])

    def __enter__(self) -> FakeClock:
        for patch in self.patches:
            patch.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for patch in self.patches:
            patch.stop()


class PeriodicCallbackScheduleTest(LoopTestCase):
    def start(
        self,
        clock: FakeClock,
        callback: Callable[[], Any],
        ms: float,
        jitter: float = 0,
    ) -> PeriodicCallback:
        pc = PeriodicCallback(callback, ms, jitter)
        # start() must find this loop current without it running.
        with mock.patch.object(IOLoop, "current", return_value=self.io_loop):
            pc.start()
        return pc

    def test_regular_schedule(self) -> None:
        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, lambda: None, 1000)
            clock.fire(1001)
            clock.fire(1002.1)  # late but within the period
            pc.stop()
        self.assertEqual(clock.deadlines, [1001, 1002, 1003])

    def test_slow_callback_skips_missed_runs(self) -> None:
        def slow() -> None:
            clock.now += 3.5

        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, slow, 1000)
            clock.fire(1001)  # finishes at 1004.5: 1002..1004 are skipped
            pc.stop()
        self.assertEqual(clock.deadlines, [1001, 1005])

    def test_clock_going_backwards_still_advances(self) -> None:
        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, lambda: None, 1000)
            clock.fire(990)
            pc.stop()
        self.assertEqual(clock.deadlines, [1001, 1002])

    def test_jitter(self) -> None:
        with FakeClock(self.io_loop, 1000) as clock:
            with mock.patch("random.random", return_value=1.0):
                pc = self.start(clock, lambda: None, 1000, jitter=0.5)
            with mock.patch("random.random", return_value=0.0):
                clock.fire(1001.25)
            pc.stop()
        self.assertEqual(clock.deadlines, [1001.25, 1002.0])

    def test_awaitable_callback_is_awaited_before_rescheduling(self) -> None:
        release: Future[None] = self.new_future()
        runs: list[float] = []

        async def callback() -> None:
            runs.append(clock.now)
            await release

        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, callback, 1000)
            run = clock.callbacks[-1]

            async def drive() -> None:
                task = asyncio.ensure_future(run())
                await asyncio.sleep(0)
                self.assertEqual(len(clock.deadlines), 1)  # still awaiting
                clock.now = 1001.5
                release.set_result(None)
                await task

            clock.now = 1001
            self.io_loop.run_sync(drive)
            pc.stop()
        self.assertEqual(runs, [1001])
        self.assertEqual(clock.deadlines, [1001, 1002])

    def test_restart_while_callback_awaits(self) -> None:
        release = self.new_future()

        async def callback() -> None:
            await release

        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, callback, 1000)
            old_run = clock.callbacks[-1]

            async def drive() -> None:
                task = asyncio.ensure_future(old_run())
                await asyncio.sleep(0)
                pc.stop()
                with mock.patch.object(IOLoop, "current", return_value=self.io_loop):
                    pc.start()  # schedules 1002
                release.set_result(None)
                await task  # must not schedule another run

            clock.now = 1001
            self.io_loop.run_sync(drive)
            pc.stop()
        self.assertEqual(clock.deadlines, [1001, 1002])

    def test_exception_is_logged_and_schedule_continues(self) -> None:
        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, lambda: 1 / 0, 1000)
            with ExpectLog("tornado.application", "Exception in callback"):
                clock.fire(1001)
            pc.stop()
        self.assertEqual(clock.deadlines, [1001, 1002])

    def test_stopped_callback_does_not_run(self) -> None:
        runs: list[int] = []
        with FakeClock(self.io_loop, 1000) as clock:
            pc = self.start(clock, lambda: runs.append(1), 1000)
            pc.stop()
            clock.fire(1001)
        self.assertEqual(runs, [])
        self.assertEqual(clock.deadlines, [1001])


class PeriodicCallbackTest(AsyncTestCase):
    def test_arguments(self) -> None:
        self.assertEqual(PeriodicCallback(lambda: None, 250).callback_time, 250)
        td = PeriodicCallback(lambda: None, datetime.timedelta(seconds=1.5))
        self.assertEqual(td.callback_time, 1500)
        for bad in (0, -1, datetime.timedelta(0)):
            with self.assertRaisesRegex(ValueError, "positive callback_time"):
                PeriodicCallback(lambda: None, bad)

    @gen_test
    async def test_runs_repeatedly_until_stopped(self) -> None:
        enough = asyncio.Event()
        runs: list[float] = []

        def tick() -> None:
            runs.append(self.io_loop.time())
            if len(runs) == 3:
                enough.set()

        pc = PeriodicCallback(tick, 5)
        self.assertFalse(pc.is_running())
        pc.start()
        self.assertTrue(pc.is_running())
        self.assertIs(pc.io_loop, self.io_loop)
        await enough.wait()
        pc.stop()
        self.assertFalse(pc.is_running())
        self.assertEqual(runs, sorted(runs))
        await gen.sleep(0.02)
        self.assertEqual(len(runs), 3)


class LoopWithAsyncTestCase(AsyncTestCase):
    @gen_test
    async def test_current_is_test_loop(self) -> None:
        self.assertIs(IOLoop.current(), self.io_loop)

    def test_partial_repr_in_log(self) -> None:
        def named_callback(x: int) -> None:
            raise RuntimeError(x)

        self.io_loop.add_callback(functools.partial(named_callback, 1))
        with ExpectLog("tornado.application", "Exception in callback .*named_callback"):
            self.io_loop.run_sync(spin)


if __name__ == "__main__":
    unittest.main()
