"""Tests for tornado.queues: ordering, blocking, timeouts, task tracking."""

from __future__ import annotations

import asyncio
import re
import typing
import unittest
from datetime import timedelta

from tornado import gen, queues
from tornado.testing import AsyncTestCase, gen_test
from tornado.util import TimeoutError

SHORT = timedelta(seconds=0.01)


def as_future(awaitable: typing.Awaitable[typing.Any]) -> asyncio.Future[typing.Any]:
    """The future behind a queue method's result, to inspect or cancel it."""
    assert isinstance(awaitable, asyncio.Future)
    return awaitable


def count_in_str(q: queues.Queue[typing.Any], what: str) -> int:
    """The ``getters[N]``/``putters[N]`` count shown by str(q)."""
    match = re.search(what + r"\[(\d+)\]", str(q))
    return int(match.group(1)) if match else 0


class QueueBasicsTest(AsyncTestCase):
    def test_bad_maxsize(self) -> None:
        with self.assertRaisesRegex(TypeError, "maxsize"):
            queues.Queue(maxsize=None)  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "maxsize can't be negative"):
            queues.Queue(maxsize=-1)

    def test_sizes(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=2)
        self.assertEqual(q.maxsize, 2)
        self.assertTrue(q.empty())
        self.assertFalse(q.full())
        q.put_nowait(1)
        self.assertEqual(q.qsize(), 1)
        q.put_nowait(2)
        self.assertTrue(q.full())
        with self.assertRaises(queues.QueueFull):
            q.put_nowait(3)
        self.assertEqual(q.qsize(), 2)

    def test_unbounded_is_never_full(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        for i in range(1000):
            q.put_nowait(i)
        self.assertFalse(q.full())
        self.assertEqual(q.maxsize, 0)

    def test_get_nowait(self) -> None:
        q: queues.Queue[str] = queues.Queue()
        with self.assertRaises(queues.QueueEmpty):
            q.get_nowait()
        q.put_nowait("a")
        q.put_nowait("b")
        self.assertEqual([q.get_nowait(), q.get_nowait()], ["a", "b"])

    def test_repr_and_str(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)
        self.assertTrue(re.match(r"<Queue at 0x[0-9a-f]+ maxsize=1>$", repr(q)))
        self.assertEqual(str(q), "<Queue maxsize=1>")
        q.put_nowait(7)
        q.put(8)
        self.assertEqual(
            str(q), "<Queue maxsize=1 queue=deque([7]) putters[1] tasks=1>"
        )
        q.get_nowait()
        q.get_nowait()
        q.get()
        self.assertEqual(str(q), "<Queue maxsize=1 getters[1] tasks=2>")

    def test_generic_alias(self) -> None:
        q = queues.Queue[int]()
        q.put_nowait(1)
        self.assertEqual(q.get_nowait(), 1)


class QueueGetPutTest(AsyncTestCase):
    @gen_test
    async def test_get_waits_for_put(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        getter = as_future(q.get())
        self.assertFalse(getter.done())
        await q.put(1)
        self.assertEqual(await getter, 1)
        self.assertTrue(q.empty())

    @gen_test
    async def test_getters_served_in_order(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        getters = [q.get() for _ in range(3)]
        for i in range(3):
            q.put_nowait(i)
        self.assertEqual(await asyncio.gather(*getters), [0, 1, 2])

    @gen_test
    async def test_put_waits_while_full(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)
        await q.put(0)
        putter = q.put(1)
        self.assertFalse(putter.done())
        self.assertEqual(await q.get(), 0)
        await putter
        self.assertEqual(q.get_nowait(), 1)

    @gen_test
    async def test_get_timeout(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        with self.assertRaises(TimeoutError):
            await q.get(timeout=SHORT)
        with self.assertRaises(TimeoutError):
            await q.get(timeout=self.io_loop.time() + 0.01)
        # A later put is not delivered to the expired getters.
        q.put_nowait(5)
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(await q.get(), 5)

    @gen_test
    async def test_put_timeout(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)
        q.put_nowait(0)
        with self.assertRaises(TimeoutError):
            await q.put(1, timeout=SHORT)
        with self.assertRaises(TimeoutError):
            await q.put(2, timeout=self.io_loop.time() + 0.01)
        # The items of expired puts never enter the queue.
        self.assertEqual(q.get_nowait(), 0)
        with self.assertRaises(queues.QueueEmpty):
            q.get_nowait()

    @gen_test
    async def test_get_timeout_not_triggered_when_item_arrives(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        getter = q.get(timeout=timedelta(seconds=5))
        q.put_nowait(3)
        self.assertEqual(await getter, 3)

    @gen_test
    async def test_cancelled_getter_loses_no_item(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(q.get(), 0.01)
        q.put_nowait(1)
        self.assertEqual(q.get_nowait(), 1)

    @gen_test
    async def test_cancelled_putter_adds_no_item(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)
        q.put_nowait(0)
        as_future(q.put(1)).cancel()
        self.assertEqual(await q.get(), 0)
        self.assertTrue(q.empty())

    @gen_test
    async def test_get_nowait_admits_waiting_putter(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)
        q.put_nowait(1)
        putter = q.put(2)
        self.assertEqual(q.get_nowait(), 1)
        await putter
        self.assertTrue(q.full())
        self.assertEqual(q.get_nowait(), 2)

    @gen_test
    async def test_timed_out_waiters_do_not_accumulate(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)
        first_getter = q.get()
        expired = [q.get(timeout=SHORT) for _ in range(500)]
        results = await asyncio.gather(*expired, return_exceptions=True)
        self.assertTrue(all(isinstance(r, TimeoutError) for r in results))
        self.assertLess(count_in_str(q, "getters"), 120)
        q.put_nowait(1)
        self.assertEqual(await first_getter, 1)

        q.put_nowait(2)
        first_putter = q.put(3)
        expired_puts = [q.put(4, timeout=SHORT) for _ in range(500)]
        await asyncio.gather(*expired_puts, return_exceptions=True)
        self.assertLess(count_in_str(q, "putters"), 120)
        self.assertEqual(q.get_nowait(), 2)
        await first_putter
        self.assertEqual(q.get_nowait(), 3)
        self.assertTrue(q.empty())

    @gen_test
    async def test_async_for(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        for i in range(3):
            q.put_nowait(i)
        seen = []
        async for item in q:
            seen.append(item)
            q.task_done()
            if len(seen) == 3:
                break
        self.assertEqual(seen, [0, 1, 2])

    @gen_test
    async def test_generator_coroutines(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=1)

        @gen.coroutine
        def producer() -> typing.Generator[typing.Any, typing.Any, None]:
            for i in range(3):
                yield q.put(i)

        @gen.coroutine
        def consumer() -> typing.Generator[typing.Any, typing.Any, list[int]]:
            items = []
            for _ in range(3):
                item = yield q.get()
                items.append(item)
            return items

        _, items = await asyncio.gather(producer(), consumer())
        self.assertEqual(items, [0, 1, 2])


class QueueJoinTest(AsyncTestCase):
    def test_task_done_too_many_times(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        with self.assertRaisesRegex(ValueError, "too many times"):
            q.task_done()
        q.put_nowait(1)
        q.get_nowait()
        q.task_done()
        with self.assertRaises(ValueError):
            q.task_done()

    @gen_test
    async def test_join_returns_immediately_when_idle(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        await q.join()

    @gen_test
    async def test_join_waits_for_task_done(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        for i in range(3):
            q.put_nowait(i)
        joined = as_future(q.join())
        for _ in range(3):
            await q.get()
            await asyncio.sleep(0)
            self.assertFalse(joined.done())
            q.task_done()
        await joined

    @gen_test
    async def test_join_timeout(self) -> None:
        q: queues.Queue[int] = queues.Queue()
        q.put_nowait(1)
        with self.assertRaises(TimeoutError):
            await q.join(timeout=SHORT)
        q.get_nowait()
        q.task_done()
        await q.join(timeout=SHORT)

    @gen_test
    async def test_workers(self) -> None:
        q: queues.Queue[int] = queues.Queue(maxsize=2)
        processed: list[int] = []

        async def worker() -> None:
            async for item in q:
                try:
                    processed.append(item)
                    await asyncio.sleep(0)
                finally:
                    q.task_done()

        workers = [asyncio.ensure_future(worker()) for _ in range(3)]
        for i in range(20):
            await q.put(i)
        await q.join(timeout=timedelta(seconds=5))
        self.assertEqual(sorted(processed), list(range(20)))
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


class QueueOrderTest(AsyncTestCase):
    def test_priority_queue(self) -> None:
        q: queues.PriorityQueue[tuple[int, str]] = queues.PriorityQueue()
        for item in [(2, "b"), (0, "z"), (1, "a"), (0, "y")]:
            q.put_nowait(item)
        self.assertEqual(
            [q.get_nowait() for _ in range(4)],
            [(0, "y"), (0, "z"), (1, "a"), (2, "b")],
        )

    def test_lifo_queue(self) -> None:
        q: queues.LifoQueue[int] = queues.LifoQueue()
        for i in range(3):
            q.put_nowait(i)
        self.assertEqual([q.get_nowait() for _ in range(3)], [2, 1, 0])

    @gen_test
    async def test_priority_queue_bounded(self) -> None:
        q: queues.PriorityQueue[int] = queues.PriorityQueue(maxsize=2)
        q.put_nowait(5)
        q.put_nowait(3)
        putter = q.put(1)
        # The waiting item is admitted before the smallest one is taken.
        self.assertEqual(await q.get(), 1)
        await putter
        self.assertEqual([q.get_nowait(), q.get_nowait()], [3, 5])

    def test_subclass_hooks(self) -> None:
        class SetQueue(queues.Queue[int]):
            """Keeps items in a sorted list and drops duplicates."""

            def _init(self) -> None:
                self._queue = []

            def _put(self, item: int) -> None:
                if item not in self._queue:
                    self._queue.append(item)
                    self._queue.sort(reverse=True)

            def _get(self) -> int:
                return typing.cast(int, self._queue.pop())

        q = SetQueue()
        for item in [3, 1, 3, 2]:
            q.put_nowait(item)
        self.assertEqual(q.qsize(), 3)
        self.assertEqual([q.get_nowait() for _ in range(3)], [1, 2, 3])


if __name__ == "__main__":
    unittest.main()
