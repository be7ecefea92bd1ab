"""Asynchronous queues for passing items between coroutines.

:class:`Queue` is first-in first-out; :class:`PriorityQueue` hands out the
lowest item first and :class:`LifoQueue` the newest.  :meth:`Queue.put` waits
while a bounded queue is full and :meth:`Queue.get` waits while it is empty,
both with an optional timeout: a bounded queue makes producers wait when
consumers fall behind, which keeps memory in check.  `Queue.task_done` and
`Queue.join` let a producer wait until everything it queued was handled.  Like :mod:`tornado.locks`, these classes are
not thread-safe: use them from the thread that runs the event loop.
"""

from __future__ import annotations

import collections
import datetime
import heapq
from collections.abc import Awaitable
from typing import Any, Generic, TypeVar

from tornado import gen
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.locks import Event, _expire_on_timeout

__all__ = ["Queue", "PriorityQueue", "LifoQueue", "QueueFull", "QueueEmpty"]

_T = TypeVar("_T")

_Timeout = float | datetime.timedelta | None

# How many waiters may time out before the waiter deques are compacted.
_COLLECT_AFTER_TIMEOUTS = 100


class QueueEmpty(Exception):
    """Raised by :meth:`Queue.get_nowait` when the queue has no items."""


class QueueFull(Exception):
    """Raised by :meth:`Queue.put_nowait` when the queue is at its maxsize."""


class _EndlessGets(Generic[_T]):
    """What ``async for item in queue`` iterates: every step awaits a get."""

    __slots__ = ("_source",)

    def __init__(self, source: Queue[_T]) -> None:
        self._source = source

    def __anext__(self) -> Awaitable[_T]:
        return self._source.get()


class Queue(Generic[_T]):
    """A first-in first-out queue for coroutines.

    ``maxsize`` bounds the number of items; 0 (the default) means unbounded.
    Producers ``await q.put(item)`` and consumers ``await q.get()`` (or
    ``async for item in q``); a consumer that calls :meth:`task_done` for each
    item lets another coroutine ``await q.join()`` until everything put has been
    processed.

    >>> import asyncio
    >>> from tornado.queues import Queue
    >>> async def main():
    ...     queue = Queue(maxsize=2)
    ...     handled = []
    ...     async def consumer():
    ...         async for item in queue:
    ...             handled.append(item)
    ...             queue.task_done()
    ...     worker = asyncio.ensure_future(consumer())
    ...     for item in range(5):
    ...         await queue.put(item)  # waits while two items are queued
    ...     await queue.join()  # until the consumer has handled every item
    ...     worker.cancel()
    ...     return handled
    >>> asyncio.run(main())
    [0, 1, 2, 3, 4]

    Subclasses change the ordering by overriding ``_init`` (create the
    ``_queue`` container), ``_put`` (add an item) and ``_get`` (remove the next
    item).
    """

    # The item container; created by _init, so subclasses choose its type.
    _queue: Any = None

    def __init__(self, maxsize: int = 0) -> None:
        if maxsize is None:
            raise TypeError("maxsize can't be None")
        if maxsize < 0:
            raise ValueError(f"maxsize can't be negative, got {maxsize!r}")
        self._maxsize = maxsize
        self._init()
        # Consumers waiting for an item, and producers waiting for room (each
        # with its item), oldest first.  Those that gave up stay until they
        # reach the front or until _note_expiry compacts the deques.
        self._hungry: collections.deque[Future[_T]] = collections.deque()
        self._blocked: collections.deque[tuple[_T, Future[None]]] = collections.deque()
        self._expiries = 0
        # Items put and not yet matched by task_done(); join() awaits _idle.
        self._pending_tasks = 0
        self._idle = Event()
        self._idle.set()

    @property
    def maxsize(self) -> int:
        """The number of items allowed in the queue (0 for no limit)."""
        return self._maxsize

    def qsize(self) -> int:
        """The number of items in the queue."""
        return len(self._queue)

    def empty(self) -> bool:
        """True if the queue holds no items."""
        return not self._queue

    def full(self) -> bool:
        """True if the queue holds ``maxsize`` items (never, when unbounded)."""
        return 0 < self._maxsize <= self.qsize()

    def put(self, item: _T, timeout: _Timeout = None) -> Future[None]:
        """Put ``item`` in the queue, waiting while it is full.

        ``timeout`` is an absolute deadline in ``IOLoop.time()`` terms or a
        :class:`datetime.timedelta`; the returned future raises
        ``tornado.util.TimeoutError`` if it passes before there is room.
        """
        done: Future[None] = Future()
        if self._can_put():
            self._deliver(item)
            done.set_result(None)
        else:
            self._blocked.append((item, done))
            self._fail_after(done, timeout)
        return done

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` in the queue without waiting; QueueFull if it is full."""
        if not self._can_put():
            raise QueueFull
        self._deliver(item)

    def get(self, timeout: _Timeout = None) -> Awaitable[_T]:
        """Remove and return an item, waiting while the queue is empty.

        ``timeout`` works as for :meth:`put`: the awaitable raises
        ``tornado.util.TimeoutError`` if no item arrives in time.
        """
        result: Future[_T] = Future()
        if self._can_get():
            result.set_result(self._take())
        else:
            self._hungry.append(result)
            self._fail_after(result, timeout)
        return result

    def get_nowait(self) -> _T:
        """Remove and return an item without waiting; QueueEmpty if there is none."""
        if not self._can_get():
            raise QueueEmpty
        return self._take()

    def task_done(self) -> None:
        """Record that one item taken from the queue has been fully processed.

        Each :meth:`get` is meant to be matched by one call; when every item put
        has been matched, :meth:`join` returns.  Raises ValueError if called
        more times than items were put.
        """
        if not self._pending_tasks:
            raise ValueError("task_done() called too many times")
        self._pending_tasks -= 1
        if not self._pending_tasks:
            self._idle.set()

    def join(self, timeout: _Timeout = None) -> Awaitable[None]:
        """Wait until every item put has been matched by :meth:`task_done`.

        Raises ``tornado.util.TimeoutError`` if ``timeout`` passes first.
        """
        return self._idle.wait(timeout)

    def __aiter__(self) -> _EndlessGets[_T]:
        """Iterate with ``async for``, getting items forever."""
        return _EndlessGets(self)

    # Hooks for subclasses that order items differently.

    def _init(self) -> None:
        self._queue = collections.deque()

    def _get(self) -> _T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    # Hand-over between producers and consumers.

    def _can_put(self) -> bool:
        """Whether an item can go in now: to a waiting consumer, or into room."""
        self._forget_abandoned()
        return bool(self._hungry) or not self.full()

    def _can_get(self) -> bool:
        """Whether an item can come out now: a stored one, or a blocked put's."""
        self._forget_abandoned()
        return bool(self._blocked) or self.qsize() > 0

    def _deliver(self, item: _T) -> None:
        """Store ``item``; a waiting consumer (the queue is then empty) takes it."""
        self._store(item)
        if self._hungry:
            future_set_result_unless_cancelled(self._hungry.popleft(), self._get())

    def _take(self) -> _T:
        """The next item.  A blocked producer (the queue is then full) gets in
        first, so the queue stays full and its order holds."""
        if self._blocked:
            item, done = self._blocked.popleft()
            self._store(item)
            future_set_result_unless_cancelled(done, None)
        return self._get()

    def _store(self, item: _T) -> None:
        self._pending_tasks += 1
        self._idle.clear()
        self._put(item)

    # Waits that give up.

    def _fail_after(self, waiter: Future[Any], timeout: _Timeout) -> None:
        """Fail ``waiter`` with a TimeoutError at ``timeout`` unless it resolves."""

        def expire() -> None:
            if not waiter.done():
                waiter.set_exception(gen.TimeoutError())
            self._note_expiry()

        _expire_on_timeout(waiter, timeout, expire)

    def _note_expiry(self) -> None:
        """Compact both deques once enough waits have expired.

        `_forget_abandoned` only trims the front; this bounds the waiters
        that expired behind one still waiting.
        """
        self._expiries += 1
        if self._expiries <= _COLLECT_AFTER_TIMEOUTS:
            return
        self._expiries = 0
        self._hungry = collections.deque(f for f in self._hungry if not f.done())
        self._blocked = collections.deque(b for b in self._blocked if not b[1].done())

    def _forget_abandoned(self) -> None:
        """Pop the waiters at the front that timed out or were cancelled."""
        while self._hungry and self._hungry[0].done():
            self._hungry.popleft()
        while self._blocked and self._blocked[0][1].done():
            self._blocked.popleft()

    def __repr__(self) -> str:
        """Class name, address and state, e.g. ``<Queue at 0x... maxsize=0>``."""
        return f"<{type(self).__name__} at {hex(id(self))} {self._describe()}>"

    def __str__(self) -> str:
        """Class name and state, e.g. ``<Queue maxsize=0 queue=deque([1])>``."""
        return f"<{type(self).__name__} {self._describe()}>"

    def _describe(self) -> str:
        shown = [f"maxsize={self.maxsize!r}"]
        if getattr(self, "_queue", None):
            shown.append(f"queue={self._queue!r}")
        for label, waiters in (("getters", self._hungry), ("putters", self._blocked)):
            if waiters:
                shown.append(f"{label}[{len(waiters)}]")
        if self._pending_tasks:
            shown.append(f"tasks={self._pending_tasks}")
        return " ".join(shown)


class PriorityQueue(Queue[_T]):
    """A :class:`Queue` that hands out its smallest item first.

    Items are usually ``(priority, data)`` tuples, lowest priority first.
    """

    def _init(self) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> _T:
        return heapq.heappop(self._queue)  # type: ignore[no-any-return]


class LifoQueue(Queue[_T]):
    """A :class:`Queue` that hands out its most recently put item first."""

    def _init(self) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def _get(self) -> _T:
        return self._queue.pop()  # type: ignore[no-any-return]
