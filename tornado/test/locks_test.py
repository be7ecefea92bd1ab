"""Tests for tornado.locks: waiting, waking, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import re
import typing
import unittest
from datetime import timedelta

from tornado import gen, locks
from tornado.testing import AsyncTestCase, gen_test
from tornado.util import TimeoutError

SHORT = timedelta(seconds=0.01)


def waiter_count(obj: object) -> int:
    """The number of waiters a Condition or Semaphore shows in its repr."""
    match = re.search(r"waiters[\[:](\d+)", repr(obj))
    return int(match.group(1)) if match else 0


class ConditionTest(AsyncTestCase):
    def test_repr(self) -> None:
        c = locks.Condition()
        self.assertEqual(repr(c), "<Condition>")
        c.wait()
        self.assertEqual(repr(c), "<Condition waiters[1]>")

    @gen_test
    async def test_notify_wakes_in_order(self) -> None:
        c = locks.Condition()
        woken: list[int] = []

        async def waiter(i: int) -> None:
            self.assertTrue(await c.wait())
            woken.append(i)

        tasks = [asyncio.ensure_future(waiter(i)) for i in range(3)]
        await asyncio.sleep(0)
        c.notify()
        await tasks[0]
        self.assertEqual(woken, [0])
        c.notify(2)
        await asyncio.gather(*tasks)
        self.assertEqual(woken, [0, 1, 2])

    @gen_test
    async def test_notify_n_and_all(self) -> None:
        c = locks.Condition()
        futures = [c.wait() for _ in range(5)]
        c.notify(2)
        await asyncio.sleep(0)
        self.assertEqual(
            [typing.cast("asyncio.Future[bool]", f).done() for f in futures],
            [True, True, False, False, False],
        )
        c.notify_all()
        self.assertEqual(await asyncio.gather(*futures), [True] * 5)
        self.assertEqual(waiter_count(c), 0)

    def test_notify_without_waiters(self) -> None:
        c = locks.Condition()
        c.notify()
        c.notify_all()
        self.assertEqual(repr(c), "<Condition>")

    @gen_test
    async def test_wait_timeout_returns_false(self) -> None:
        c = locks.Condition()
        self.assertFalse(await c.wait(timeout=SHORT))
        deadline = self.io_loop.time() + 0.01
        self.assertFalse(await c.wait(timeout=deadline))

    @gen_test
    async def test_notify_skips_timed_out_waiter(self) -> None:
        c = locks.Condition()
        expired = c.wait(timeout=SHORT)
        pending = c.wait()
        self.assertFalse(await expired)
        c.notify()
        self.assertTrue(await pending)

    @gen_test
    async def test_notify_skips_cancelled_waiter(self) -> None:
        c = locks.Condition()
        cancelled = typing.cast("asyncio.Future[bool]", c.wait())
        pending = c.wait()
        cancelled.cancel()
        c.notify()
        self.assertTrue(await pending)

    @gen_test
    async def test_wait_for_cancelled_by_asyncio(self) -> None:
        c = locks.Condition()
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(c.wait(), 0.01)
        pending = c.wait()
        c.notify()
        self.assertTrue(await pending)

    @gen_test
    async def test_timed_out_waiters_do_not_accumulate(self) -> None:
        c = locks.Condition()
        first = c.wait()  # never times out, so the front of the queue stays busy
        await asyncio.gather(*[c.wait(timeout=SHORT) for _ in range(500)])
        self.assertLess(waiter_count(c), 120)
        c.notify()
        self.assertTrue(await first)

    @gen_test
    async def test_generator_coroutine(self) -> None:
        c = locks.Condition()

        @gen.coroutine
        def waiter() -> typing.Generator[typing.Any, typing.Any, bool]:
            result = yield c.wait()
            return typing.cast(bool, result)

        future = waiter()
        c.notify()
        self.assertTrue(await future)


class EventTest(AsyncTestCase):
    def test_repr_and_flag(self) -> None:
        e = locks.Event()
        self.assertFalse(e.is_set())
        self.assertEqual(repr(e), "<Event clear>")
        e.set()
        self.assertTrue(e.is_set())
        self.assertEqual(repr(e), "<Event set>")
        e.clear()
        self.assertFalse(e.is_set())

    @gen_test
    async def test_set_wakes_all_waiters(self) -> None:
        e = locks.Event()
        waiters = [e.wait() for _ in range(3)]
        e.set()
        await asyncio.gather(*waiters)

    @gen_test
    async def test_wait_after_set_is_immediate(self) -> None:
        e = locks.Event()
        e.set()
        e.set()  # setting twice is harmless
        await e.wait()
        await e.wait(timeout=SHORT)

    @gen_test
    async def test_clear_makes_wait_block(self) -> None:
        e = locks.Event()
        e.set()
        e.clear()
        with self.assertRaises(TimeoutError):
            await e.wait(timeout=SHORT)

    @gen_test
    async def test_timeout(self) -> None:
        e = locks.Event()
        with self.assertRaises(TimeoutError):
            await e.wait(timeout=SHORT)
        with self.assertRaises(gen.TimeoutError):
            await e.wait(timeout=self.io_loop.time() + 0.01)
        # The event still works for later waiters.
        later = e.wait()
        e.set()
        await later

    @gen_test
    async def test_timed_out_and_cancelled_waiters_are_dropped(self) -> None:
        e = locks.Event()
        for _ in range(5):
            with self.assertRaises(TimeoutError):
                await e.wait(timeout=SHORT)
        live = e.wait()
        for _ in range(1000):
            typing.cast("asyncio.Future[None]", e.wait()).cancel()
        # Given-up waiters are purged as the set grows, so it stays small.
        self.assertLessEqual(len(e._waiters), 64)
        self.assertFalse(live.done())  # type: ignore[attr-defined]
        e.set()
        await live
        self.assertEqual(len(e._waiters), 0)

    @gen_test
    async def test_many_live_waiters_survive_purges(self) -> None:
        e = locks.Event()
        live = [e.wait() for _ in range(500)]
        for _ in range(500):
            typing.cast("asyncio.Future[None]", e.wait()).cancel()
        e.set()
        await asyncio.gather(*live)

    @gen_test
    async def test_cancelling_timed_wait(self) -> None:
        e = locks.Event()
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(e.wait(timeout=timedelta(seconds=10)), 0.01)
        await asyncio.sleep(0)
        # The abandoned waiter was cancelled (and will be purged).
        self.assertTrue(all(waiter.cancelled() for waiter in e._waiters))
        e.set()


class SemaphoreTest(AsyncTestCase):
    def test_negative_value(self) -> None:
        with self.assertRaisesRegex(ValueError, "initial value"):
            locks.Semaphore(-1)

    def test_repr(self) -> None:
        sem = locks.Semaphore(2)
        self.assertIn("Semaphore", repr(sem))
        self.assertIn("[unlocked,value:2]", repr(sem))
        sem.acquire()
        sem.acquire()
        self.assertIn("[locked]", repr(sem))
        sem.acquire()
        self.assertIn("[locked,waiters:1]", repr(sem))

    @gen_test
    async def test_acquire_release(self) -> None:
        sem = locks.Semaphore(2)
        await sem.acquire()
        await sem.acquire()
        third = typing.cast("asyncio.Future[object]", sem.acquire())
        fourth = typing.cast("asyncio.Future[object]", sem.acquire())
        self.assertFalse(third.done())
        sem.release()
        await third
        self.assertFalse(fourth.done())
        sem.release()
        await fourth

    @gen_test
    async def test_release_above_initial_value(self) -> None:
        sem = locks.Semaphore(0)
        sem.release()
        sem.release()
        self.assertIn("value:2", repr(sem))
        await sem.acquire()
        await sem.acquire()
        self.assertIn("[locked]", repr(sem))

    @gen_test
    async def test_acquire_timeout(self) -> None:
        sem = locks.Semaphore(0)
        with self.assertRaises(TimeoutError):
            await sem.acquire(timeout=SHORT)
        with self.assertRaises(TimeoutError):
            await sem.acquire(timeout=self.io_loop.time() + 0.01)
        pending = sem.acquire()
        sem.release()  # goes to the live waiter, not the expired ones
        await pending
        self.assertIn("[locked]", repr(sem))

    @gen_test
    async def test_release_skips_cancelled_waiter(self) -> None:
        sem = locks.Semaphore(0)
        cancelled = typing.cast("asyncio.Future[object]", sem.acquire())
        pending = sem.acquire()
        cancelled.cancel()
        sem.release()
        await pending
        sem.release()
        self.assertIn("value:1", repr(sem))

    @gen_test
    async def test_timed_out_waiters_do_not_accumulate(self) -> None:
        sem = locks.Semaphore(0)
        first = sem.acquire()
        for _ in range(300):
            with self.assertRaises(TimeoutError):
                await sem.acquire(timeout=timedelta(0))
        self.assertLess(waiter_count(sem), 120)
        sem.release()
        await first

    @gen_test
    async def test_async_with(self) -> None:
        sem = locks.Semaphore()
        async with sem:
            self.assertIn("[locked]", repr(sem))
        self.assertIn("value:1", repr(sem))
        with self.assertRaises(ZeroDivisionError):
            async with sem:
                raise ZeroDivisionError("inside the block")
        self.assertIn("value:1", repr(sem))

    def test_plain_with_is_an_error(self) -> None:
        sem = locks.Semaphore()
        with self.assertRaisesRegex(RuntimeError, "async with"):
            with sem:
                pass

    @gen_test
    async def test_generator_coroutine_with_acquire(self) -> None:
        sem = locks.Semaphore()

        @gen.coroutine
        def use() -> typing.Generator[typing.Any, typing.Any, None]:
            with (yield sem.acquire()):
                self.assertIn("[locked]", repr(sem))

        await use()
        self.assertIn("value:1", repr(sem))

    @gen_test
    async def test_limits_concurrency(self) -> None:
        sem = locks.Semaphore(2)
        running = 0
        peak = 0

        async def worker() -> None:
            nonlocal running, peak
            async with sem:
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0)
                running -= 1

        await asyncio.gather(*[worker() for _ in range(6)])
        self.assertEqual(peak, 2)


class BoundedSemaphoreTest(AsyncTestCase):
    @gen_test
    async def test_over_release(self) -> None:
        sem = locks.BoundedSemaphore(1)
        with self.assertRaisesRegex(ValueError, "released too many times"):
            sem.release()
        await sem.acquire()
        sem.release()
        with self.assertRaises(ValueError):
            sem.release()

    def test_negative_value(self) -> None:
        with self.assertRaises(ValueError):
            locks.BoundedSemaphore(-2)

    @gen_test
    async def test_release_hands_over_to_waiter(self) -> None:
        sem = locks.BoundedSemaphore(1)
        await sem.acquire()
        pending = sem.acquire()
        sem.release()
        await pending
        self.assertIn("[locked]", repr(sem))


class LockTest(AsyncTestCase):
    def test_repr(self) -> None:
        lock = locks.Lock()
        self.assertIn("<Lock _block=", repr(lock))
        self.assertIn("unlocked", repr(lock))
        lock.acquire()
        self.assertIn("locked]", repr(lock))

    @gen_test
    async def test_fifo(self) -> None:
        lock = locks.Lock()
        order: list[int] = []

        async def holder(i: int) -> None:
            async with lock:
                order.append(i)
                await asyncio.sleep(0)

        await asyncio.gather(*[holder(i) for i in range(5)])
        self.assertEqual(order, list(range(5)))

    def test_release_unlocked(self) -> None:
        lock = locks.Lock()
        with self.assertRaisesRegex(RuntimeError, "release unlocked lock"):
            lock.release()

    @gen_test
    async def test_acquire_timeout(self) -> None:
        lock = locks.Lock()
        await lock.acquire()
        with self.assertRaises(TimeoutError):
            await lock.acquire(timeout=SHORT)
        lock.release()
        await lock.acquire(timeout=SHORT)
        lock.release()

    @gen_test
    async def test_cancelled_acquire_does_not_take_lock(self) -> None:
        lock = locks.Lock()
        await lock.acquire()
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(lock.acquire(), 0.01)
        lock.release()
        await lock.acquire(timeout=SHORT)

    def test_plain_with_is_an_error(self) -> None:
        lock = locks.Lock()
        with self.assertRaisesRegex(RuntimeError, "async with"):
            with lock:
                pass

    @gen_test
    async def test_async_with_releases_on_error(self) -> None:
        lock = locks.Lock()
        with self.assertRaises(KeyError):
            async with lock:
                raise KeyError("x")
        await lock.acquire(timeout=SHORT)

    @gen_test
    async def test_generator_coroutine_with_acquire(self) -> None:
        lock = locks.Lock()

        @gen.coroutine
        def use() -> typing.Generator[typing.Any, typing.Any, None]:
            with (yield lock.acquire()):
                self.assertIn("locked]", repr(lock))

        await use()
        await lock.acquire(timeout=SHORT)


if __name__ == "__main__":
    unittest.main()
