"""The event loop: an `IOLoop` wraps an :mod:`asyncio` event loop.

Each thread has at most one current loop. `IOLoop.current` returns the
`IOLoop` wrapping the thread's asyncio loop (creating the wrapper on first
use), so code written against the `IOLoop` interface interoperates freely with
code written directly for asyncio. The implementation classes live in
:mod:`tornado.platform.asyncio`; ``IOLoop()`` creates a fresh
`~tornado.platform.asyncio.AsyncIOLoop` with its own new asyncio loop.

A typical program starts the loop once, with :func:`asyncio.run`::

    async def main():
        server = make_server()
        server.listen(8888)
        await asyncio.Event().wait()

    asyncio.run(main())

Besides running callbacks and timeouts, an `IOLoop` watches file descriptors
(`IOLoop.add_handler`), which is what Tornado's streams are built on.
`PeriodicCallback` runs a function at a fixed interval on the current loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import functools
import math
import numbers
import os
import random
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from inspect import isawaitable
from typing import (
    Any,
    Literal,
    Protocol,
    TypeVar,
    overload,
)

from tornado.concurrent import (
    Future,
    chain_future,
    future_add_done_callback,
    is_future,
)
from tornado.log import app_log
from tornado.util import Configurable as Configurable
from tornado.util import TimeoutError as TimeoutError
from tornado.util import import_object as import_object

__all__ = ["IOLoop", "PeriodicCallback", "TimeoutError"]

_T = TypeVar("_T")
_S = TypeVar("_S", bound="_Selectable")


class _Selectable(Protocol):
    """Anything with a file descriptor that can be registered with a loop."""

    def fileno(self) -> int: ...

    def close(self) -> None: ...


def _current_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, else the one set for this thread, else None.

    Unlike :func:`asyncio.get_event_loop`, this never creates a loop.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return _thread_asyncio_loop()


def _thread_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The loop set for this thread with :func:`asyncio.set_event_loop`, or None."""
    with _policy_deprecations_ignored():
        policy = asyncio.get_event_loop_policy()
        # The standard policies (and uvloop's) keep the thread's loop in
        # ``_local``; reading it avoids their implicit loop creation, which
        # would leave an unclosed loop behind.
        local = getattr(policy, "_local", None)
        if local is not None:
            loop: asyncio.AbstractEventLoop | None = getattr(local, "_loop", None)
            return loop
        try:
            return policy.get_event_loop()
        except RuntimeError:
            return None


def _current_or_new_asyncio_loop() -> asyncio.AbstractEventLoop:
    """The loop `_current_asyncio_loop` finds, or a new one set for the thread."""
    loop = _current_asyncio_loop()
    if loop is None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


@contextlib.contextmanager
def _policy_deprecations_ignored() -> Iterator[None]:
    """Silence the deprecation of asyncio's policy system on newer Pythons."""
    if sys.version_info >= (3, 12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    else:
        yield


def _deprecated(message: str) -> None:
    """Warn about a deprecated `IOLoop` method, pointing at its caller."""
    # Two frames up: past this helper and the deprecated method.
    warnings.warn(message, DeprecationWarning, stacklevel=3)


class IOLoop(Configurable):
    """An event loop for callbacks, timeouts and file descriptor events.

    Every `IOLoop` is backed by an asyncio event loop; most programs never
    construct one but call `IOLoop.current` from inside a running asyncio
    loop. ``IOLoop()`` creates a new asyncio loop and makes it the thread's
    current loop (pass ``make_current=False`` to leave the thread's loop
    alone); such a loop is run with `start` or `run_sync` and released with
    `close`.

    Methods that schedule work (`add_callback`, `call_later`, ...) accept any
    callable; a callable that returns an awaitable has it awaited, and an
    exception it raises is logged to ``tornado.application``.

    >>> import asyncio
    >>> from tornado.ioloop import IOLoop
    >>> async def main():
    ...     loop = IOLoop.current()
    ...     done = asyncio.Event()
    ...     order = []
    ...     loop.call_later(0.01, lambda: (order.append("later"), done.set()))
    ...     loop.add_callback(order.append, "soon")
    ...     await done.wait()
    ...     return order
    >>> asyncio.run(main())
    ['soon', 'later']

    A loop of its own runs a coroutine function to completion:

    >>> async def answer():
    ...     return 42
    >>> loop = IOLoop(make_current=False)
    >>> loop.run_sync(answer)
    42
    >>> loop.close()
    """

    #: Event flags for `add_handler` and `update_handler`.
    NONE = 0
    #: The file descriptor is readable.
    READ = 0x001
    #: The file descriptor is writable.
    WRITE = 0x004
    #: An error condition was reported for the file descriptor.
    ERROR = 0x018

    # The IOLoop wrapping each asyncio loop that has one.
    _ioloop_for_asyncio: dict[asyncio.AbstractEventLoop, IOLoop] = {}

    # Futures returned by callbacks, kept alive until they resolve: asyncio
    # only holds weak references to tasks.
    _pending_tasks: set[Future[Any]]

    @classmethod
    def configure(cls, impl: None | str | type[Configurable], **kwargs: Any) -> None:
        """Choose the class that ``IOLoop()`` instantiates.

        Only subclasses of `~tornado.platform.asyncio.BaseAsyncIOLoop` can run
        on asyncio, so anything else raises `RuntimeError`.
        """
        from tornado.platform.asyncio import BaseAsyncIOLoop

        if isinstance(impl, str):
            impl = import_object(impl)
        if isinstance(impl, type) and not issubclass(impl, BaseAsyncIOLoop):
            raise RuntimeError(
                f"only AsyncIOLoop subclasses can be configured, not {impl!r}"
            )
        super().configure(impl, **kwargs)

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """`IOLoop` heads its configurable hierarchy."""
        return IOLoop

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """The default implementation, `~tornado.platform.asyncio.AsyncIOLoop`."""
        from tornado.platform.asyncio import AsyncIOLoop

        return AsyncIOLoop

    def initialize(self, make_current: bool = True) -> None:
        """Set up a new loop; it becomes current if ``make_current`` is true."""
        self._pending_tasks = set()
        if make_current:
            self._make_current()

    @staticmethod
    def instance() -> IOLoop:
        """Deprecated alias for `IOLoop.current`."""
        return IOLoop.current()

    def install(self) -> None:
        """Deprecated alias for `make_current`."""
        _deprecated("IOLoop.install is deprecated; start the event loop instead")
        self._make_current()

    @staticmethod
    def clear_instance() -> None:
        """Deprecated alias for `clear_current`."""
        _deprecated("IOLoop.clear_instance is deprecated")
        IOLoop._clear_current()

    @overload
    @staticmethod
    def current() -> IOLoop: ...

    @overload
    @staticmethod
    def current(instance: Literal[True] = True) -> IOLoop: ...

    @overload
    @staticmethod
    def current(instance: bool = True) -> IOLoop | None: ...

    @staticmethod
    def current(instance: bool = True) -> IOLoop | None:
        """Return the `IOLoop` of the thread's running (or current) asyncio loop.

        Inside a running asyncio loop this is that loop's `IOLoop`, created on
        first use. Otherwise it is the loop made current in this thread; if
        there is none, ``instance=True`` creates a new asyncio loop (and sets
        it as the thread's loop) while ``instance=False`` returns None.
        """
        loop = _current_asyncio_loop()
        if loop is None:
            if not instance:
                return None
            loop = _current_or_new_asyncio_loop()
        found = IOLoop._ioloop_for_asyncio.get(loop)
        if found is None and instance:
            from tornado.platform.asyncio import AsyncIOMainLoop

            found = AsyncIOMainLoop()
        return found

    def make_current(self) -> None:
        """Make this the current loop of the thread (deprecated).

        Deprecated since Tornado 6.2 like the rest of the "current loop that
        is not running" notion: start the loop and let asyncio track it.
        """
        _deprecated("make_current is deprecated; start the event loop first")
        self._make_current()

    def _make_current(self) -> None:
        """Register this loop as the thread's; implemented by subclasses."""
        raise NotImplementedError()

    @staticmethod
    def clear_current() -> None:
        """Stop treating the current loop as current (deprecated since 6.2)."""
        _deprecated("clear_current is deprecated")
        IOLoop._clear_current()

    @staticmethod
    def _clear_current() -> None:
        current = IOLoop.current(instance=False)
        if current is not None:
            current._clear_current_hook()

    def _clear_current_hook(self) -> None:
        """Undo `_make_current`; implementations that track it override this."""

    def close(self, all_fds: bool = False) -> None:
        """Release the loop's resources; it cannot be used afterwards.

        The loop must not be running. Handlers still registered are removed,
        and with ``all_fds=True`` their file objects are closed as well.
        Pending callbacks and timeouts are dropped.
        """
        raise NotImplementedError()

    @overload
    def add_handler(
        self, fd: int, handler: Callable[[int, int], None], events: int
    ) -> None: ...

    @overload
    def add_handler(
        self, fd: _S, handler: Callable[[_S, int], None], events: int
    ) -> None: ...

    def add_handler(
        self, fd: int | _Selectable, handler: Callable[..., None], events: int
    ) -> None:
        """Call ``handler(fd, events)`` when ``fd`` has any of ``events``.

        ``fd`` is an integer file descriptor or an object with a ``fileno()``
        method (which is then what the handler receives). ``events`` is a
        bitwise or of `READ`, `WRITE` and `ERROR`; errors are always
        reported. Registering the same descriptor twice raises `ValueError`.
        """
        raise NotImplementedError()

    def update_handler(self, fd: int | _Selectable, events: int) -> None:
        """Change the events ``fd``'s handler listens for."""
        raise NotImplementedError()

    def remove_handler(self, fd: int | _Selectable) -> None:
        """Stop listening for events on ``fd``; unknown descriptors are ignored."""
        raise NotImplementedError()

    def start(self) -> None:
        """Run the loop until `stop` is called.

        The loop is the thread's current asyncio loop while it runs.
        """
        raise NotImplementedError()

    def stop(self) -> None:
        """Make `start` return once the callbacks already due have run.

        Safe to call before `start`: the loop then returns right after its
        first iteration.
        """
        raise NotImplementedError()

    def run_sync(self, func: Callable[[], Any], timeout: float | None = None) -> Any:
        """Start the loop, run ``func``, and stop when its result is ready.

        ``func`` returns None or an awaitable (anything `tornado.gen` can
        yield; other values raise `tornado.gen.BadYieldError`). The loop runs
        until the awaitable resolves; its result is returned, or its
        exception raised. With ``timeout`` (in seconds), a result still
        pending after that long is cancelled and `TimeoutError`
        is raised. If the loop is stopped (`stop`) before the result is
        ready, `RuntimeError` is raised.
        """
        watched = _SyncRun(self, func)
        self.add_callback(watched.begin)
        timer = None if timeout is None else self.call_later(timeout, watched.expire)
        self.start()
        if timer is not None:
            self.remove_timeout(timer)
        return watched.outcome(timeout)

    def time(self) -> float:
        """The loop's clock, in seconds; what deadlines are measured against.

        Equivalent to ``time.time()``.
        """
        return time.time()

    def add_timeout(
        self,
        deadline: float | numbers.Real | datetime.timedelta,
        callback: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> object:
        """Call ``callback(*args, **kwargs)`` at ``deadline``.

        ``deadline`` is a time in terms of `IOLoop.time` or a
        :class:`datetime.timedelta` from now. Returns a handle for
        `remove_timeout`. `call_later` and `call_at` are often clearer.
        """
        if isinstance(deadline, numbers.Real):
            return self.call_at(float(deadline), callback, *args, **kwargs)
        if isinstance(deadline, datetime.timedelta):
            when = self.time() + deadline.total_seconds()
            return self.call_at(when, callback, *args, **kwargs)
        raise TypeError(f"Unsupported deadline {deadline!r}")

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Call ``callback(*args, **kwargs)`` after ``delay`` seconds.

        Returns a handle for `remove_timeout`.
        """
        return self.call_at(self.time() + delay, callback, *args, **kwargs)

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Call ``callback(*args, **kwargs)`` at ``when`` (see `IOLoop.time`).

        Returns a handle for `remove_timeout`.
        """
        raise NotImplementedError()

    def remove_timeout(self, timeout: object) -> None:
        """Cancel a pending timeout; harmless if it already ran."""
        raise NotImplementedError()

    def add_callback(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Call ``callback(*args, **kwargs)`` on the loop's next iteration.

        The only method that is safe to call from any thread. Callbacks
        added after the loop is closed are dropped silently.
        """
        raise NotImplementedError()

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Like `add_callback`, from a signal handler (deprecated since 6.4).

        Use :meth:`asyncio.AbstractEventLoop.add_signal_handler` instead.
        """
        raise NotImplementedError()

    def spawn_callback(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Call ``callback`` on the next iteration, as a separate task.

        Identical to `add_callback`; the name documents that the callback's
        result is not awaited by the caller.
        """
        self.add_callback(callback, *args, **kwargs)

    @overload
    def add_future(
        self, future: Future[_T], callback: Callable[[Future[_T]], Any]
    ) -> None: ...

    @overload
    def add_future(
        self,
        future: concurrent.futures.Future[_T],
        callback: Callable[[concurrent.futures.Future[_T]], Any],
    ) -> None: ...

    def add_future(self, future: Any, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(future)`` on this loop once ``future`` resolves.

        ``future`` may be an asyncio future or a ``concurrent.futures``
        future resolved on another thread.
        """
        if isinstance(future, Future):
            future.add_done_callback(
                lambda f: self._run_callback(functools.partial(callback, f))
            )
        elif is_future(future):
            future_add_done_callback(future, lambda f: self.add_callback(callback, f))
        else:
            raise TypeError(f"add_future needs a future, not {future!r}")

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[..., _T],
        *args: Any,
    ) -> Awaitable[_T]:
        """Run ``func(*args)`` on ``executor`` and return a future for it.

        With ``executor=None`` a default thread pool is used (see
        `set_default_executor`).
        """
        if executor is None:
            if not hasattr(self, "_executor"):
                workers = (os.cpu_count() or 1) * 5
                self._executor: concurrent.futures.Executor = (
                    concurrent.futures.ThreadPoolExecutor(max_workers=workers)
                )
            executor = self._executor
        result: Future[_T] = Future()
        self.add_future(executor.submit(func, *args), lambda f: chain_future(f, result))
        return result

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Use ``executor`` for `run_in_executor` calls that pass None."""
        self._executor = executor

    def handle_callback_exception(self, callback: Any) -> None:
        """Log the exception being handled, raised by ``callback``.

        Called from an ``except`` block whenever a callback run by the loop
        raises; logs ``Exception in callback ...`` with the traceback to
        ``tornado.application``. Subclasses may override it.
        """
        app_log.error("Exception in callback %r", callback, exc_info=True)

    def _run_callback(self, callback: Callable[[], Any]) -> None:
        """Run ``callback``, logging what it raises; await what it returns."""
        try:
            returned = callback()
            if returned is not None:
                self._watch_returned(returned)
        except asyncio.CancelledError:
            pass
        except Exception:
            self.handle_callback_exception(callback)

    def _watch_returned(self, returned: Any) -> None:
        """Keep an awaitable returned by a callback alive and log its failure."""
        from tornado import gen

        try:
            future = gen.convert_yielded(returned)
        except gen.BadYieldError:
            return  # an ordinary return value, which callbacks may have
        if is_future(future):
            self._pending_tasks.add(future)
            future.add_done_callback(self._pending_tasks.discard)
            self.add_future(future, self._discard_future_result)

    def _discard_future_result(self, future: Future[Any]) -> None:
        """Retrieve the result so that a failure is raised (and logged)."""
        future.result()

    def split_fd(self, fd: int | _Selectable) -> tuple[int, int | _Selectable]:
        """Return ``(descriptor number, object passed in)`` for ``fd``."""
        if isinstance(fd, int):
            return fd, fd
        return fd.fileno(), fd

    def close_fd(self, fd: int | _Selectable) -> None:
        """Close ``fd`` (a descriptor or file-like object), ignoring errors."""
        try:
            if isinstance(fd, int):
                os.close(fd)
            else:
                fd.close()
        except OSError:
            pass


class _SyncRun:
    """The state of one `IOLoop.run_sync` call."""

    def __init__(self, io_loop: IOLoop, func: Callable[[], Any]) -> None:
        self.io_loop = io_loop
        self.func = func
        self.future: Future[Any] | None = None
        self.timed_out = False

    def begin(self) -> None:
        """Call the function and stop the loop once its awaitable resolves."""
        self.future = self._call()
        self.io_loop.add_future(self.future, lambda _: self.io_loop.stop())

    def _call(self) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            returned = self.func()
        except Exception as e:
            future.set_exception(e)
            return future
        if returned is None:
            future.set_result(None)
            return future
        from tornado.gen import convert_yielded

        try:
            return convert_yielded(returned)
        except Exception as e:
            future.set_exception(e)
            return future

    def expire(self) -> None:
        """The timeout passed: cancel the work and let the loop stop after it.

        A future that cannot be cancelled is abandoned.
        """
        self.timed_out = True
        if self.future is None or not self.future.cancel():
            self.io_loop.stop()

    def outcome(self, timeout: float | None) -> Any:
        """What `IOLoop.run_sync` returns (or raises) once the loop stopped."""
        future = self.future
        if self.timed_out and (
            future is None or not future.done() or future.cancelled()
        ):
            raise TimeoutError(f"Operation timed out after {timeout} seconds")
        if future is None or not future.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()


class PeriodicCallback:
    """Call a function every ``callback_time`` on the current `IOLoop`.

    ``callback_time`` is in milliseconds, or a :class:`datetime.timedelta`.
    A callback returning an awaitable is awaited before the next run is
    scheduled. Runs stay on the original schedule: one that starts late
    skips the runs it missed rather than firing them in a burst.

    ``jitter`` spreads runs randomly: each interval is scaled by a factor
    between ``1 - jitter/2`` and ``1 + jitter/2`` (``jitter=0.1`` is +/-5%),
    which keeps many processes with the same period from running in lockstep.

    The callback starts running after `start` is called.

    >>> import asyncio
    >>> from tornado.ioloop import PeriodicCallback
    >>> async def main():
    ...     ticks = []
    ...     enough = asyncio.Event()
    ...     def tick():
    ...         ticks.append(len(ticks))
    ...         if len(ticks) == 3:
    ...             enough.set()
    ...     every_10_ms = PeriodicCallback(tick, 10)
    ...     every_10_ms.start()
    ...     await enough.wait()
    ...     every_10_ms.stop()
    ...     return ticks
    >>> asyncio.run(main())
    [0, 1, 2]
    """

    def __init__(
        self,
        callback: Callable[[], Awaitable[Any] | None],
        callback_time: datetime.timedelta | float,
        jitter: float = 0,
    ) -> None:
        self.callback = callback
        if isinstance(callback_time, datetime.timedelta):
            callback_time = callback_time / datetime.timedelta(milliseconds=1)
        if not callback_time > 0:
            raise ValueError(
                f"PeriodicCallback needs a positive callback_time, got {callback_time!r}"
            )
        self.callback_time: float = callback_time
        self.jitter = jitter
        self.io_loop: IOLoop
        self._started = False
        # The pending IOLoop timeout of the next run, if one is scheduled.
        self._timer: object = None
        self._next_timeout = 0.0

    def start(self) -> None:
        """Start running the callback on the current `IOLoop`."""
        if self._started:
            return
        self._started = True
        self.io_loop = IOLoop.current()
        # The schedule is anchored at the moment of starting.
        self._next_timeout = self.io_loop.time()
        self._schedule_next()

    def stop(self) -> None:
        """Stop running the callback; a run in progress is not interrupted."""
        self._started = False
        timer, self._timer = self._timer, None
        if timer is not None:
            self.io_loop.remove_timeout(timer)

    def is_running(self) -> bool:
        """Return True between `start` and `stop`."""
        return self._started

    async def _run(self) -> None:
        self._timer = None
        if not self._started:
            return
        try:
            result = self.callback()
            if result is not None and isawaitable(result):
                await result
        except Exception:
            self.io_loop.handle_callback_exception(self.callback)
        finally:
            # A stop() and start() during an awaited run has already
            # scheduled the next run.
            if self._timer is None:
                self._schedule_next()

    def _schedule_next(self) -> None:
        if self._started:
            self._update_next(self.io_loop.time())
            self._timer = self.io_loop.add_timeout(self._next_timeout, self._run)

    def _update_next(self, current_time: float) -> None:
        """Advance the deadline past ``current_time`` along the schedule."""
        period = self.callback_time / 1000.0
        if self.jitter:
            period *= 1 + self.jitter * (random.random() - 0.5)
        if self._next_timeout <= current_time:
            # Measure from the start of each run; skip runs that a slow
            # callback (or a busy loop) made us miss.
            missed = math.floor((current_time - self._next_timeout) / period)
            self._next_timeout += (missed + 1) * period
        else:
            # The clock went backwards (e.g. an NTP adjustment): advance anyway
            # so that we never schedule the same deadline twice.
            self._next_timeout += period
