"""Synchronization primitives for coroutines running on one event loop.

Coroutines on one event loop never run at the same time, but they interleave
at every ``await``.  The classes here coordinate them across those points:
waiting for a signal (`Condition`, `Event`), limiting concurrency
(`Semaphore`, `BoundedSemaphore`) and mutual exclusion (`Lock`).  They mirror the classes of the standard :mod:`threading` and :mod:`asyncio`
modules, but every blocking method takes an optional ``timeout`` (an absolute
deadline in ``IOLoop.time()`` terms, or a :class:`datetime.timedelta` relative to
now) and returns an awaitable.  None of them is thread-safe: use them from the
thread that runs the event loop.
"""

from __future__ import annotations

import collections
import datetime
import types
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tornado import gen, ioloop
from tornado.concurrent import Future, future_set_result_unless_cancelled

__all__ = ["Condition", "Event", "Semaphore", "BoundedSemaphore", "Lock"]

# How many waiters may time out before the waiter queue is compacted.
_COLLECT_AFTER_TIMEOUTS = 100

_Timeout = float | datetime.timedelta | None


def _expire_on_timeout(
    waiter: Future[Any], timeout: _Timeout, on_timeout: Callable[[], None]
) -> None:
    """Call ``on_timeout()`` at ``timeout`` unless ``waiter`` resolves first.

    The timer is cancelled as soon as ``waiter`` is done, however that happens,
    so a resolved waiter never leaves a pending timeout on the loop.
    """
    if timeout is None:
        return
    io_loop = ioloop.IOLoop.current()
    handle = io_loop.add_timeout(timeout, on_timeout)
    waiter.add_done_callback(lambda _: io_loop.remove_timeout(handle))


class _TimeoutGarbageCollector:
    """Keeps a deque of waiter futures from filling up with timed-out ones.

    A waiter that times out is resolved in place and left in the deque (removing
    it from the middle would cost a linear scan on every timeout).  Once enough
    have timed out, the deque is rebuilt without the resolved ones.
    """

    def __init__(self) -> None:
        self._waiters: collections.deque[Future[Any]] = collections.deque()
        self._timeouts = 0

    def _garbage_collect(self) -> None:
        """Record one timed-out waiter; compact the deque every so often."""
        self._timeouts += 1
        if self._timeouts > _COLLECT_AFTER_TIMEOUTS:
            self._timeouts = 0
            self._waiters = collections.deque(w for w in self._waiters if not w.done())


class Condition(_TimeoutGarbageCollector):
    """Lets coroutines wait until another one notifies them.

    A coroutine calls :meth:`wait` and awaits the result; another calls
    :meth:`notify` (waking the oldest ``n`` waiters) or :meth:`notify_all`.
    There is no lock associated with the condition: between ``await`` points
    a coroutine already runs alone, so callers check their predicate directly.

    >>> import asyncio
    >>> from tornado.locks import Condition
    >>> async def main():
    ...     condition = Condition()
    ...     log = []
    ...     async def waiter(name):
    ...         await condition.wait()
    ...         log.append(name + " woke")
    ...     waiters = [asyncio.ensure_future(waiter(n)) for n in ("a", "b")]
    ...     await asyncio.sleep(0)  # let both start waiting
    ...     condition.notify_all()
    ...     await asyncio.gather(*waiters)
    ...     return log
    >>> asyncio.run(main())
    ['a woke', 'b woke']
    """

    def __repr__(self) -> str:
        """``<Condition>``, plus ``waiters[N]`` while coroutines are waiting."""
        waiting = f" waiters[{len(self._waiters)}]" if self._waiters else ""
        return f"<{type(self).__name__}{waiting}>"

    def wait(self, timeout: _Timeout = None) -> Awaitable[bool]:
        """Wait for :meth:`notify`.

        The awaitable resolves to True when notified, or to False if
        ``timeout`` passes first.
        """
        waiter: Future[bool] = Future()
        self._waiters.append(waiter)

        def on_timeout() -> None:
            if not waiter.done():
                waiter.set_result(False)
            self._garbage_collect()

        _expire_on_timeout(waiter, timeout, on_timeout)
        return waiter

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters, oldest first."""
        woken = []
        while n and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # skip waiters that timed out or were cancelled
                n -= 1
                woken.append(waiter)
        for waiter in woken:
            future_set_result_unless_cancelled(waiter, True)

    def notify_all(self) -> None:
        """Wake every waiter."""
        self.notify(len(self._waiters))


_MIN_PURGE_SIZE = 64


class Event:
    """A flag that coroutines can wait on until it is set.

    The flag starts clear.  :meth:`set` wakes every waiter, and while the flag
    stays set :meth:`wait` returns immediately; :meth:`clear` resets it.

    >>> import asyncio
    >>> from tornado.locks import Event
    >>> async def main():
    ...     ready = Event()
    ...     log = []
    ...     async def worker():
    ...         await ready.wait()
    ...         log.append("working")
    ...     task = asyncio.ensure_future(worker())
    ...     log.append("setting up")
    ...     ready.set()
    ...     await task
    ...     return log
    >>> asyncio.run(main())
    ['setting up', 'working']
    """

    def __init__(self) -> None:
        self._value = False
        self._waiters: set[Future[None]] = set()
        # Waiters that gave up (timed out, cancelled) stay in _waiters until
        # set() or until the set reaches this size, when they are dropped:
        # a done callback per waiter would cost several objects for each
        # parked coroutine, and the purge is amortized O(1) per wait().
        self._purge_size = _MIN_PURGE_SIZE

    def __repr__(self) -> str:
        """``<Event set>`` or ``<Event clear>``."""
        state = "set" if self.is_set() else "clear"
        return f"<{type(self).__name__} {state}>"

    def is_set(self) -> bool:
        """True if the flag is set."""
        return self._value

    def set(self) -> None:
        """Set the flag and wake every waiter.

        Coroutines that call :meth:`wait` afterwards do not block until
        :meth:`clear` is called.
        """
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, set()
        self._purge_size = _MIN_PURGE_SIZE
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Reset the flag, so that :meth:`wait` blocks again."""
        self._value = False

    def wait(self, timeout: _Timeout = None) -> Awaitable[None]:
        """Wait until the flag is set.

        Raises ``tornado.util.TimeoutError`` if ``timeout`` passes first.
        """
        waiter: Future[None] = Future()
        if self._value:
            waiter.set_result(None)
            return waiter
        if len(self._waiters) >= self._purge_size:
            self._waiters = {w for w in self._waiters if not w.done()}
            self._purge_size = max(_MIN_PURGE_SIZE, 2 * len(self._waiters))
        self._waiters.add(waiter)
        if timeout is None:
            return waiter
        limited = gen.with_timeout(timeout, waiter)
        # When the timeout fires (or the caller cancels), stop waiting too.
        limited.add_done_callback(lambda _: waiter.cancel())
        return limited


class _ReleasingContextManager:
    """What an acquired :class:`Semaphore` or :class:`Lock` resolves to.

    It lets old-style coroutines write ``with (yield lock.acquire()):``; leaving
    the block releases the primitive.
    """

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: types.TracebackType | None,
    ) -> None:
        self._obj.release()


class _Acquirable(Protocol):
    def acquire(
        self, timeout: _Timeout = None
    ) -> Awaitable[_ReleasingContextManager]: ...

    def release(self) -> None: ...


# The ``async with`` protocol of Semaphore and Lock.


async def _acquire_for_block(self: _Acquirable) -> None:
    """Acquire for the ``async with`` block (without a timeout)."""
    await self.acquire()


async def _release_after_block(
    self: _Acquirable,
    typ: type[BaseException] | None,
    value: BaseException | None,
    tb: types.TracebackType | None,
) -> None:
    """Release what :meth:`__aenter__` acquired, however the block ended."""
    self.release()


class Semaphore(_TimeoutGarbageCollector):
    """A counter of available slots: :meth:`acquire` takes one, :meth:`release`
    gives one back.

    When no slot is free, :meth:`acquire` waits until another coroutine
    releases.  Use it as ``async with sem:`` to release automatically.  The
    counter may be released above its initial value; see
    :class:`BoundedSemaphore` for a variant that forbids that.

    Two slots let at most two workers in at a time:

    >>> import asyncio
    >>> from tornado.locks import Semaphore
    >>> async def main():
    ...     slots = Semaphore(2)
    ...     inside, most = 0, 0
    ...     async def worker():
    ...         nonlocal inside, most
    ...         async with slots:
    ...             inside += 1
    ...             most = max(most, inside)
    ...             await asyncio.sleep(0.001)
    ...             inside -= 1
    ...     await asyncio.gather(*(worker() for _ in range(5)))
    ...     return most
    >>> asyncio.run(main())
    2
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__()
        if value < 0:
            raise ValueError(f"semaphore initial value must be >= 0, not {value!r}")
        self._value = value

    def __repr__(self) -> str:
        """The default repr, plus whether the semaphore is locked or its value."""
        state = "locked" if self._value == 0 else f"unlocked,value:{self._value}"
        if self._waiters:
            state += f",waiters:{len(self._waiters)}"
        return f"<{object.__repr__(self)[1:-1]} [{state}]>"

    def release(self) -> None:
        """Give back one slot, waking the oldest waiter if there is one."""
        self._value += 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                # The slot passes straight to this waiter.
                self._value -= 1
                waiter.set_result(_ReleasingContextManager(self))
                break

    def acquire(self, timeout: _Timeout = None) -> Awaitable[_ReleasingContextManager]:
        """Take one slot, waiting for a release if none is free.

        Raises ``tornado.util.TimeoutError`` if ``timeout`` passes first.  The
        awaitable resolves to a context manager that releases on exit, for
        ``with (yield sem.acquire()):`` in generator-based coroutines.
        """
        waiter: Future[_ReleasingContextManager] = Future()
        if self._value > 0:
            self._value -= 1
            waiter.set_result(_ReleasingContextManager(self))
            return waiter
        self._waiters.append(waiter)

        def on_timeout() -> None:
            if not waiter.done():
                waiter.set_exception(gen.TimeoutError())
            self._garbage_collect()

        _expire_on_timeout(waiter, timeout, on_timeout)
        return waiter

    def __enter__(self) -> None:
        """Not supported: a semaphore must be acquired with ``async with``."""
        raise RuntimeError("Use 'async with' instead of 'with' for Semaphore")

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        """Not supported; see :meth:`__enter__`."""
        self.__enter__()

    __aenter__ = _acquire_for_block
    __aexit__ = _release_after_block


class BoundedSemaphore(Semaphore):
    """A :class:`Semaphore` that refuses to be released above its initial value.

    Releasing more often than acquiring is usually a bug; this class raises
    ValueError when it happens instead of silently growing the counter.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__(value=value)
        self._ceiling = value

    def release(self) -> None:
        """Give back one slot; ValueError if every slot is already free."""
        if self._value < self._ceiling:
            super().release()
        else:
            raise ValueError("Semaphore released too many times")


class Lock:
    """A mutual-exclusion lock for coroutines.

    Only one coroutine holds it at a time; others wait in :meth:`acquire` in
    the order they arrived.  Use it as ``async with lock:``, or, in
    generator-based coroutines, ``with (yield lock.acquire()):``.

    >>> import asyncio
    >>> from tornado.locks import Lock
    >>> async def main():
    ...     lock = Lock()
    ...     log = []
    ...     async def update(name):
    ...         async with lock:
    ...             log.append(name + " in")
    ...             await asyncio.sleep(0)  # others wait meanwhile
    ...             log.append(name + " out")
    ...     await asyncio.gather(update("a"), update("b"))
    ...     return log
    >>> asyncio.run(main())
    ['a in', 'a out', 'b in', 'b out']
    """

    _PLAIN_WITH_REFUSED = "Use `async with` instead of `with` for Lock"

    def __init__(self) -> None:
        # The lock is held while the one slot of this semaphore is taken,
        # which also queues the waiters and handles their timeouts.
        self._slot = BoundedSemaphore(value=1)

    def __repr__(self) -> str:
        """Shows the state of the semaphore behind the lock."""
        # "_block" is the field name Tornado's repr shows.
        return f"<{type(self).__name__} _block={self._slot!r}>"

    def acquire(self, timeout: _Timeout = None) -> Awaitable[_ReleasingContextManager]:
        """Take the lock, waiting while another coroutine holds it.

        Raises ``tornado.util.TimeoutError`` if ``timeout`` passes first.
        """
        return self._slot.acquire(timeout)

    def release(self) -> None:
        """Release the lock, handing it to the oldest waiter if there is one.

        Raises RuntimeError if the lock is not held.
        """
        if self._slot._value:
            raise RuntimeError("release unlocked lock")
        self._slot.release()

    def __enter__(self) -> None:
        """Not supported: a lock must be acquired with ``async with``."""
        raise RuntimeError(self._PLAIN_WITH_REFUSED)

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Not supported; see :meth:`__enter__`."""
        raise RuntimeError(self._PLAIN_WITH_REFUSED)

    __aenter__ = _acquire_for_block
    __aexit__ = _release_after_block
