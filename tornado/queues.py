"""Asynchronous queues for passing items between coroutines.

:class:`Queue` is first-in first-out; :class:`PriorityQueue` hands out the
lowest item first and :class:`LifoQueue` the newest.  :meth:`Queue.put` waits
while a bounded queue is full and :meth:`Queue.get` waits while it is empty,
both with an optional timeout.  Like :mod:`tornado.locks`, these classes are
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


class _QueueIterator(Generic[_T]):
    """The ``async for`` iterator of a queue: each step is a :meth:`Queue.get`."""

    def __init__(self, q: Queue[_T]) -> None:
        self.q = q

    def __anext__(self) -> Awaitable[_T]:
        return self.q.get()


class Queue(Generic[_T]):
    """A first-in first-out queue for coroutines.

    ``maxsize`` bounds the number of items; 0 (the default) means unbounded.
    Producers ``await q.put(item)`` and consumers ``await q.get()`` (or
    ``async for item in q``); a consumer that calls :meth:`task_done` for each
    item lets another coroutine ``await q.join()`` until everything put has been
    processed.

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
        self._getters: collections.deque[Future[_T]] = collections.deque()
        # Each blocked put waits with the item it wants to add.
        self._putters: collections.deque[tuple[_T, Future[None]]] = collections.deque()
        self._timed_out = 0
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished.set()

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
        return self._maxsize > 0 and self.qsize() >= self._maxsize

    def put(self, item: _T, timeout: _Timeout = None) -> Future[None]:
        """Put ``item`` in the queue, waiting while it is full.

        ``timeout`` is an absolute deadline in ``IOLoop.time()`` terms or a
        :class:`datetime.timedelta`; the returned future raises
        ``tornado.util.TimeoutError`` if it passes before there is room.
        """
        future: Future[None] = Future()
        try:
            self.put_nowait(item)
        except QueueFull:
            self._putters.append((item, future))
            self._expire_on_timeout(future, timeout)
        else:
            future.set_result(None)
        return future

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` in the queue without waiting; QueueFull if it is full."""
        self._consume_expired()
        if self._getters:
            # A consumer is waiting, so the queue is empty: hand the item over.
            getter = self._getters.popleft()
            self.__put_internal(item)
            future_set_result_unless_cancelled(getter, self._get())
        elif self.full():
            raise QueueFull
        else:
            self.__put_internal(item)

    def get(self, timeout: _Timeout = None) -> Awaitable[_T]:
        """Remove and return an item, waiting while the queue is empty.

        ``timeout`` works as for :meth:`put`: the awaitable raises
        ``tornado.util.TimeoutError`` if no item arrives in time.
        """
        future: Future[_T] = Future()
        try:
            future.set_result(self.get_nowait())
        except QueueEmpty:
            self._getters.append(future)
            self._expire_on_timeout(future, timeout)
        return future

    def get_nowait(self) -> _T:
        """Remove and return an item without waiting; QueueEmpty if there is none."""
        self._consume_expired()
        if self._putters:
            # A producer is waiting, so the queue is full: admit its item, which
            # keeps the queue full, then take the next one out.
            item, putter = self._putters.popleft()
            self.__put_internal(item)
            future_set_result_unless_cancelled(putter, None)
            return self._get()
        if self.qsize():
            return self._get()
        raise QueueEmpty

    def task_done(self) -> None:
        """Record that one item taken from the queue has been fully processed.

        Each :meth:`get` is meant to be matched by one call; when every item put
        has been matched, :meth:`join` returns.  Raises ValueError if called
        more times than items were put.
        """
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._finished.set()

    def join(self, timeout: _Timeout = None) -> Awaitable[None]:
        """Wait until every item put has been matched by :meth:`task_done`.

        Raises ``tornado.util.TimeoutError`` if ``timeout`` passes first.
        """
        return self._finished.wait(timeout)

    def __aiter__(self) -> _QueueIterator[_T]:
        """Iterate with ``async for``, getting items forever."""
        return _QueueIterator(self)

    # Hooks for subclasses that order items differently.

    def _init(self) -> None:
        self._queue = collections.deque()

    def _get(self) -> _T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def __put_internal(self, item: _T) -> None:
        self._unfinished_tasks += 1
        self._finished.clear()
        self._put(item)

    def _expire_on_timeout(self, future: Future[Any], timeout: _Timeout) -> None:
        """Fail ``future`` with a TimeoutError at ``timeout`` unless it resolves."""

        def on_timeout() -> None:
            if not future.done():
                future.set_exception(gen.TimeoutError())
            self._count_timeout()

        _expire_on_timeout(future, timeout, on_timeout)

    def _count_timeout(self) -> None:
        """Drop resolved waiters from both deques after enough timeouts.

        Expired waiters at the front are skipped cheaply by _consume_expired;
        this bounds the ones stuck behind a waiter that is still pending.
        """
        self._timed_out += 1
        if self._timed_out > _COLLECT_AFTER_TIMEOUTS:
            self._timed_out = 0
            self._getters = collections.deque(g for g in self._getters if not g.done())
            self._putters = collections.deque(
                p for p in self._putters if not p[1].done()
            )

    def _consume_expired(self) -> None:
        """Drop timed-out or cancelled waiters from the front of both deques."""
        while self._putters and self._putters[0][1].done():
            self._putters.popleft()
        while self._getters and self._getters[0].done():
            self._getters.popleft()

    def __repr__(self) -> str:
        """Class name, address and state, e.g. ``<Queue at 0x... maxsize=0>``."""
        return f"<{type(self).__name__} at {hex(id(self))} {self._format()}>"

    def __str__(self) -> str:
        """Class name and state, e.g. ``<Queue maxsize=0 queue=deque([1])>``."""
        return f"<{type(self).__name__} {self._format()}>"

    def _format(self) -> str:
        parts = [f"maxsize={self.maxsize!r}"]
        if getattr(self, "_queue", None):
            parts.append(f"queue={self._queue!r}")
        if self._getters:
            parts.append(f"getters[{len(self._getters)}]")
        if self._putters:
            parts.append(f"putters[{len(self._putters)}]")
        if self._unfinished_tasks:
            parts.append(f"tasks={self._unfinished_tasks}")
        return " ".join(parts)


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
