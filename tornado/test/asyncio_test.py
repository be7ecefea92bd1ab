"""Tests for tornado.platform.asyncio."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import unittest
import unittest.mock
import warnings
from collections.abc import Generator
from typing import Any

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.platform.asyncio import (
    AddThreadSelectorEventLoop,
    AsyncIOLoop,
    AsyncIOMainLoop,
    BaseAsyncIOLoop,
    SelectorThread,
    to_asyncio_future,
    to_tornado_future,
)
from tornado.test.util import in_fresh_thread
from tornado.testing import AsyncTestCase, gen_test


def open_fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


class AsyncIOLoopTest(unittest.TestCase):
    def test_main_loop_wraps_running_loop(self) -> None:
        async def main() -> tuple[IOLoop, asyncio.AbstractEventLoop]:
            return IOLoop.current(), asyncio.get_running_loop()

        def run() -> None:
            io_loop, asyncio_loop = asyncio.run(main())
            assert isinstance(io_loop, AsyncIOMainLoop)
            self.assertIs(io_loop.asyncio_loop, asyncio_loop)
            if isinstance(io_loop.selector_loop, AddThreadSelectorEventLoop):
                # The threaded-selector test backend wraps every new loop.
                self.assertIs(io_loop.selector_loop._real_loop, asyncio_loop)
            else:
                self.assertIs(io_loop.selector_loop, asyncio_loop)

        in_fresh_thread(run)

    def test_new_loop_owns_new_asyncio_loop(self) -> None:
        io_loop = AsyncIOLoop(make_current=False)
        asyncio_loop = io_loop.asyncio_loop
        self.assertFalse(io_loop.is_current)
        io_loop.close()
        self.assertTrue(asyncio_loop.is_closed())

    def test_adopt_existing_loop(self) -> None:
        asyncio_loop = asyncio.new_event_loop()
        io_loop = AsyncIOLoop(asyncio_loop=asyncio_loop, make_current=False)
        self.assertIs(IOLoop._ioloop_for_asyncio[asyncio_loop], io_loop)
        io_loop.close()
        self.assertTrue(asyncio_loop.is_closed())

    def test_one_ioloop_per_asyncio_loop(self) -> None:
        asyncio_loop = asyncio.new_event_loop()
        io_loop = AsyncIOLoop(asyncio_loop=asyncio_loop, make_current=False)
        try:
            with self.assertRaisesRegex(RuntimeError, "already wraps"):
                AsyncIOLoop(asyncio_loop=asyncio_loop, make_current=False)
            self.assertFalse(asyncio_loop.is_closed())  # not ours to close
        finally:
            io_loop.close()

    def test_loop_closed_by_asyncio_is_forgotten(self) -> None:
        asyncio_loop = asyncio.new_event_loop()
        AsyncIOLoop(asyncio_loop=asyncio_loop, make_current=False)
        asyncio_loop.close()  # without IOLoop.close
        AsyncIOLoop(make_current=False).close()  # prunes the stale entry
        self.assertNotIn(asyncio_loop, IOLoop._ioloop_for_asyncio)

    def test_failed_initialize_closes_created_loop(self) -> None:
        created: list[asyncio.AbstractEventLoop] = []
        real_new = asyncio.new_event_loop

        def new_event_loop() -> asyncio.AbstractEventLoop:
            loop = real_new()
            created.append(loop)
            return loop

        with unittest.mock.patch("asyncio.new_event_loop", new_event_loop):
            with self.assertRaises(TypeError):
                AsyncIOLoop(make_current=False, unknown_argument=1)
        self.assertTrue(created[0].is_closed())

    def test_close_restores_previous_loop(self) -> None:
        def run() -> None:
            previous = asyncio.new_event_loop()
            asyncio.set_event_loop(previous)
            io_loop = AsyncIOLoop()
            self.assertTrue(io_loop.is_current)
            self.assertIs(io_loop.old_asyncio, previous)
            io_loop.close()
            self.assertIs(asyncio.get_event_loop(), previous)
            asyncio.set_event_loop(None)
            previous.close()

        in_fresh_thread(run)

    def test_start_restores_thread_loop(self) -> None:
        def run() -> None:
            io_loop = AsyncIOLoop(make_current=False)
            io_loop.add_callback(io_loop.stop)
            io_loop.start()
            self.assertIsNone(IOLoop.current(instance=False))
            io_loop.close()

        in_fresh_thread(run)

    def test_handler_added_to_closed_loop(self) -> None:
        io_loop = AsyncIOLoop(make_current=False)
        io_loop.close()
        a, b = socket.socketpair()
        with a, b, self.assertRaisesRegex(RuntimeError, "closed"):
            io_loop.add_handler(a, lambda fd, events: None, IOLoop.READ)


class InteropTest(AsyncTestCase):
    @gen_test
    async def test_native_awaits_generator_coroutine(self) -> None:
        @gen.coroutine
        def tornado_style() -> Generator[Any, Any, Any]:
            result = yield asyncio.sleep(0, result="from asyncio")
            return result

        self.assertEqual(await tornado_style(), "from asyncio")

    @gen_test
    async def test_asyncio_gather_of_tornado_futures(self) -> None:
        results = await asyncio.gather(gen.sleep(0), gen.maybe_future(2))
        self.assertEqual(results, [None, 2])

    @gen_test
    async def test_conversions(self) -> None:
        future: Future[int] = Future()
        self.assertIs(to_tornado_future(future), future)
        self.assertIs(to_asyncio_future(future), future)
        converted = to_asyncio_future([asyncio.sleep(0, result=1)])
        self.assertIsInstance(converted, asyncio.Future)
        self.assertEqual(await converted, [1])

    @gen_test
    async def test_run_in_executor_uses_asyncio(self) -> None:
        result = await self.io_loop.run_in_executor(None, sum, [1, 2, 3])
        self.assertEqual(result, 6)


class AnyThreadEventLoopPolicyTest(unittest.TestCase):
    def test_access_is_deprecated(self) -> None:
        import tornado.platform.asyncio as module

        with self.assertWarnsRegex(DeprecationWarning, "AnyThreadEventLoopPolicy"):
            policy_class = module.AnyThreadEventLoopPolicy
        self.assertTrue(callable(policy_class.get_event_loop))

    def test_creates_loops_in_any_thread(self) -> None:
        import tornado.platform.asyncio as module

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            policy = module.AnyThreadEventLoopPolicy()

        def get_loop() -> asyncio.AbstractEventLoop:
            loop: asyncio.AbstractEventLoop = policy.get_event_loop()
            self.assertIs(policy.get_event_loop(), loop)
            loop.close()
            return loop

        self.assertIsInstance(in_fresh_thread(get_loop), asyncio.AbstractEventLoop)

    def test_unknown_attribute(self) -> None:
        import tornado.platform.asyncio as module

        with self.assertRaisesRegex(AttributeError, "no_such_name"):
            module.no_such_name  # noqa: B018


class SelectorThreadTestCase(unittest.TestCase):
    """A plain asyncio loop with descriptor watching done by a SelectorThread."""

    @classmethod
    def setUpClass(cls) -> None:
        # Some of asyncio's machinery opens descriptors the first time a loop
        # runs; do that before counting them.
        loop = asyncio.SelectorEventLoop()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    def setUp(self) -> None:
        self.threads_before = threading.active_count()
        self.fds_before = open_fd_count()
        # Not asyncio.new_event_loop(): a test backend may wrap that already.
        self.real_loop = asyncio.SelectorEventLoop()
        self.loop = AddThreadSelectorEventLoop(self.real_loop)
        self.a, self.b = socket.socketpair()
        self.a.setblocking(False)
        self.b.setblocking(False)

    def tearDown(self) -> None:
        self.a.close()
        self.b.close()
        self.loop.close()
        self.assertEqual(threading.active_count(), self.threads_before)
        self.assertEqual(open_fd_count(), self.fds_before)

    def run_until(self, future: asyncio.Future[Any]) -> Any:
        self.real_loop.call_later(5, future.cancel)
        return self.loop.run_until_complete(future)


class AddThreadSelectorEventLoopTest(SelectorThreadTestCase):
    def test_forwards_other_attributes(self) -> None:
        self.assertFalse(self.loop.is_closed())
        self.assertIsInstance(self.loop.time(), float)
        self.assertEqual(self.loop.run_until_complete(asyncio.sleep(0, result=3)), 3)

    def test_reader(self) -> None:
        received: asyncio.Future[bytes] = self.real_loop.create_future()
        self.loop.add_reader(self.a, lambda: received.set_result(self.a.recv(10)))
        self.b.send(b"ping")
        self.assertEqual(self.run_until(received), b"ping")
        # Nothing more to read, so the reader was called only once.
        self.assertTrue(self.loop.remove_reader(self.a))
        self.assertFalse(self.loop.remove_reader(self.a))

    def test_writer(self) -> None:
        writable: asyncio.Future[bool] = self.real_loop.create_future()

        def on_writable(fd: int) -> None:
            # Stays writable: without removal this would be called again.
            writable.set_result(self.loop.remove_writer(fd))

        self.loop.add_writer(self.a.fileno(), on_writable, self.a.fileno())
        self.assertTrue(self.run_until(writable))
        self.assertFalse(self.loop.remove_writer(self.a.fileno()))

    def test_ready_descriptor_reported_once_per_iteration(self) -> None:
        # The data is never read, so the descriptor stays readable; the
        # selector must wait for each batch to be handled before the next.
        iteration = 0
        calls_at: list[int] = []
        enough: asyncio.Future[None] = self.real_loop.create_future()

        async def count_iterations() -> None:
            nonlocal iteration
            while not enough.done():
                iteration += 1
                await asyncio.sleep(0)

        def on_readable() -> None:
            calls_at.append(iteration)
            if len(calls_at) == 5:
                self.loop.remove_reader(self.a)
                enough.set_result(None)

        self.loop.add_reader(self.a, on_readable)
        self.b.send(b"x")
        counter = self.real_loop.create_task(count_iterations())
        self.run_until(enough)
        self.loop.run_until_complete(counter)
        self.assertEqual(len(calls_at), 5)
        self.assertEqual(len(set(calls_at)), 5, calls_at)

    def test_descriptor_removed_and_closed_while_selecting(self) -> None:
        c, d = socket.socketpair()
        self.loop.add_reader(c, lambda: None)

        async def main() -> bytes:
            await asyncio.sleep(0)
            self.loop.remove_reader(c)
            c.close()
            d.close()
            received: asyncio.Future[bytes] = self.real_loop.create_future()
            self.loop.add_reader(self.a, lambda: received.set_result(self.a.recv(1)))
            self.b.send(b"!")
            return await received

        self.assertEqual(self.loop.run_until_complete(main()), b"!")

    def test_callback_exception_goes_to_loop_handler(self) -> None:
        errors: asyncio.Future[BaseException] = self.real_loop.create_future()

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if not errors.done():
                errors.set_result(context["exception"])

        def fail() -> None:
            self.loop.remove_reader(self.a)
            raise ZeroDivisionError()

        self.real_loop.set_exception_handler(handler)
        self.loop.add_reader(self.a, fail)
        self.b.send(b"x")
        self.assertIsInstance(self.run_until(errors), ZeroDivisionError)

    def test_invalid_descriptor(self) -> None:
        with self.assertRaisesRegex(ValueError, "Invalid file descriptor"):
            self.loop.add_reader(-1, lambda: None)

    def test_close_is_idempotent(self) -> None:
        selector = SelectorThread(self.real_loop)
        selector.close()
        selector.close()


class IOLoopOverSelectorThreadTest(SelectorThreadTestCase):
    def test_handlers_and_current(self) -> None:
        io_loop = AsyncIOLoop(asyncio_loop=self.loop, make_current=False)
        self.assertIs(io_loop.selector_loop, self.loop)
        self.assertIs(io_loop.asyncio_loop, self.real_loop)

        async def main() -> tuple[IOLoop, bytes]:
            received: Future[bytes] = Future()
            io_loop.add_handler(
                self.a, lambda fd, events: received.set_result(fd.recv(5)), IOLoop.READ
            )
            self.b.send(b"hello")
            data = await received
            io_loop.remove_handler(self.a)
            return IOLoop.current(), data

        current, data = io_loop.run_sync(main)
        self.assertIs(current, io_loop)
        self.assertEqual(data, b"hello")
        io_loop.close()  # closes the wrapper, and so the thread

    def test_main_loop_finds_wrapper(self) -> None:
        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:

                async def main() -> IOLoop:
                    return IOLoop.current()

                io_loop = self.loop.run_until_complete(main())
                assert isinstance(io_loop, BaseAsyncIOLoop)
                self.assertIs(io_loop.selector_loop, self.loop)
            finally:
                asyncio.set_event_loop(None)

        in_fresh_thread(run)


if __name__ == "__main__":
    unittest.main()
