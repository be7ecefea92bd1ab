"""The asyncio implementations of `.IOLoop`, and asyncio interoperation helpers.

Every `.IOLoop` is one of the classes here: `AsyncIOMainLoop` wraps an
asyncio loop that something else created (usually the running one), and
`AsyncIOLoop` creates and owns a new asyncio loop. Applications rarely name
either: ``IOLoop.current()`` and ``IOLoop()`` pick the right one.

Some asyncio loops, like the proactor loop on Windows, cannot watch file
descriptors (they lack ``add_reader``). `AddThreadSelectorEventLoop` adds
that ability to any loop by running ``select.select()`` on a background
`SelectorThread`; the `.IOLoop` classes use it automatically where needed.

``AnyThreadEventLoopPolicy`` (deprecated, and only created when first
accessed) is an event loop policy that creates loops on demand in any
thread, not just the main one.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import select
import socket
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tornado.ioloop import (
    IOLoop,
    _current_asyncio_loop,
    _current_or_new_asyncio_loop,
    _Selectable,
    _thread_asyncio_loop,
)

__all__ = [
    "BaseAsyncIOLoop",
    "AsyncIOMainLoop",
    "AsyncIOLoop",
    "to_tornado_future",
    "to_asyncio_future",
    "AddThreadSelectorEventLoop",
    "SelectorThread",
]

_T = TypeVar("_T")
_FileDescriptor = int | _Selectable


class BaseAsyncIOLoop(IOLoop):
    """The `.IOLoop` interface over an asyncio event loop.

    ``asyncio_loop`` is the loop that runs callbacks; ``selector_loop`` the
    one that watches file descriptors (the same loop unless that loop lacks
    ``add_reader``, when it is an `AddThreadSelectorEventLoop` around it).
    ``handlers`` maps each watched descriptor to its ``(file object,
    handler)``; ``readers`` and ``writers`` are the descriptors watched for
    each direction.
    """

    def initialize(  # type: ignore[override]
        self, asyncio_loop: asyncio.AbstractEventLoop, **kwargs: Any
    ) -> None:
        """Wrap ``asyncio_loop``; ``kwargs`` go to `.IOLoop.initialize`.

        An asyncio loop may have only one `.IOLoop`: wrapping it twice raises
        `RuntimeError`.
        """
        if isinstance(asyncio_loop, AddThreadSelectorEventLoop):
            self.selector_loop: asyncio.AbstractEventLoop = asyncio_loop
            asyncio_loop = asyncio_loop._real_loop
        elif _lacks_add_reader(asyncio_loop):
            self.selector_loop = AddThreadSelectorEventLoop(asyncio_loop)
        else:
            self.selector_loop = asyncio_loop
        self.asyncio_loop = asyncio_loop
        self.handlers: dict[int, tuple[_FileDescriptor, Callable[..., None]]] = {}
        self.readers: set[int] = set()
        # One bound method shared by every watched descriptor, rather than a
        # new one held by each (thousands, with as many idle connections).
        self._dispatch_events = self._handle_events
        self.writers: set[int] = set()
        self.closing = False
        _forget_closed_loops()
        for loop in {self.asyncio_loop, self.selector_loop}:
            existing = IOLoop._ioloop_for_asyncio.setdefault(loop, self)
            if existing is not self:
                raise RuntimeError(
                    f"IOLoop {existing!r} already wraps asyncio loop {loop!r}"
                )
        super().initialize(**kwargs)

    def close(self, all_fds: bool = False) -> None:
        """Remove all handlers and close the asyncio loop(s).

        With ``all_fds=True`` the file objects of the removed handlers are
        closed too.
        """
        if self.asyncio_loop.is_running():
            raise RuntimeError("Cannot close a running IOLoop")
        self.closing = True
        for fd, (fileobj, _) in list(self.handlers.items()):
            self.remove_handler(fd)
            if all_fds:
                self.close_fd(fileobj)
        # Forget the loop before closing it: a concurrent initialize() would
        # otherwise find it closed and forget it too.
        for loop in {self.asyncio_loop, self.selector_loop}:
            if IOLoop._ioloop_for_asyncio.get(loop) is self:
                del IOLoop._ioloop_for_asyncio[loop]
        if self.selector_loop is not self.asyncio_loop:
            self.selector_loop.close()
        self.asyncio_loop.close()

    def add_handler(self, fd: Any, handler: Callable[..., None], events: int) -> None:
        """See `.IOLoop.add_handler`."""
        if self.closing:
            raise RuntimeError("Cannot add a handler to a closed IOLoop")
        fd, fileobj = self.split_fd(fd)
        if fd in self.handlers:
            raise ValueError(f"fd {fd} added twice")
        self.handlers[fd] = (fileobj, handler)
        self._watch(fd, events)

    def update_handler(self, fd: _FileDescriptor, events: int) -> None:
        """See `.IOLoop.update_handler`."""
        fd, _ = self.split_fd(fd)
        if fd not in self.handlers:
            raise ValueError(f"fd {fd} has no handler to update")
        self._watch(fd, events)

    def remove_handler(self, fd: _FileDescriptor) -> None:
        """See `.IOLoop.remove_handler`."""
        fd, _ = self.split_fd(fd)
        if fd not in self.handlers:
            return
        self._watch(fd, IOLoop.NONE)
        del self.handlers[fd]

    def _watch(self, fd: int, events: int) -> None:
        """Make the selector watch ``fd`` for exactly ``events``."""
        loop = self.selector_loop
        for event, watched, add, remove in (
            (IOLoop.READ, self.readers, loop.add_reader, loop.remove_reader),
            (IOLoop.WRITE, self.writers, loop.add_writer, loop.remove_writer),
        ):
            if events & event and fd not in watched:
                add(fd, self._dispatch_events, fd, event)
                watched.add(fd)
            elif not events & event and fd in watched:
                remove(fd)
                watched.remove(fd)

    def _handle_events(self, fd: int, events: int) -> None:
        fileobj, handler = self.handlers[fd]
        handler(fileobj, events)

    def start(self) -> None:
        """See `.IOLoop.start`."""
        previous = _current_asyncio_loop()
        try:
            asyncio.set_event_loop(self.asyncio_loop)
            self.asyncio_loop.run_forever()
        finally:
            asyncio.set_event_loop(previous)

    def stop(self) -> None:
        """See `.IOLoop.stop`."""
        self.asyncio_loop.stop()

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """See `.IOLoop.call_at`."""
        # asyncio's clock is not IOLoop.time(), so convert to a delay.
        return self.asyncio_loop.call_later(
            max(0.0, when - self.time()),
            self._run_callback,
            functools.partial(callback, *args, **kwargs),
        )

    def remove_timeout(self, timeout: object) -> None:
        """See `.IOLoop.remove_timeout`."""
        timeout.cancel()  # type: ignore[attr-defined]

    def add_callback(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """See `.IOLoop.add_callback`."""
        try:
            on_loop_thread = asyncio.get_running_loop() is self.asyncio_loop
        except RuntimeError:
            on_loop_thread = False
        if on_loop_thread:
            call_soon = self.asyncio_loop.call_soon
        else:
            call_soon = self.asyncio_loop.call_soon_threadsafe
        try:
            call_soon(self._run_callback, functools.partial(callback, *args, **kwargs))
        except (RuntimeError, AttributeError):
            # The loop is closed (proactor loops racing with close() raise
            # AttributeError). A callback added at this point could never
            # run anyway, and callers cannot be expected to check first.
            pass

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """See `.IOLoop.add_callback_from_signal` (deprecated)."""
        # Attributed to this module, not the caller's: filters written for
        # Tornado 6.6 select this warning by its module or its exact text.
        warnings.warn(
            "add_callback_from_signal is deprecated", DeprecationWarning, stacklevel=1
        )
        try:
            self.asyncio_loop.call_soon_threadsafe(
                self._run_callback, functools.partial(callback, *args, **kwargs)
            )
        except RuntimeError:
            pass

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[..., _T],
        *args: Any,
    ) -> asyncio.Future[_T]:
        """See `.IOLoop.run_in_executor`."""
        return self.asyncio_loop.run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """See `.IOLoop.set_default_executor`."""
        self.asyncio_loop.set_default_executor(executor)


def _lacks_add_reader(loop: asyncio.AbstractEventLoop) -> bool:
    """True for loops (like Windows' proactor) that cannot watch descriptors."""
    proactor = getattr(asyncio, "ProactorEventLoop", None)
    return proactor is not None and isinstance(loop, proactor)


def _forget_closed_loops() -> None:
    """Drop map entries for asyncio loops closed without `.IOLoop.close`."""
    for loop in list(IOLoop._ioloop_for_asyncio):
        if loop.is_closed():
            IOLoop._ioloop_for_asyncio.pop(loop, None)


class AsyncIOMainLoop(BaseAsyncIOLoop):
    """An `.IOLoop` wrapping the thread's current asyncio loop.

    `.IOLoop.current` creates these on demand; there is rarely a reason to
    construct one directly. Closing it closes the asyncio loop.
    """

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Wrap the running (or current) asyncio loop of this thread."""
        loop = _current_or_new_asyncio_loop()
        # asyncio only knows the loop inside an AddThreadSelectorEventLoop;
        # if that wrapper is the thread's loop, watch descriptors through it.
        thread_loop = _thread_asyncio_loop()
        if (
            isinstance(thread_loop, AddThreadSelectorEventLoop)
            and thread_loop._real_loop is loop
        ):
            loop = thread_loop
        super().initialize(loop, **kwargs)

    def _make_current(self) -> None:
        # Wrapping the thread's loop already makes this loop current.
        pass


class AsyncIOLoop(BaseAsyncIOLoop):
    """An `.IOLoop` that owns a new asyncio event loop.

    This is what ``IOLoop()`` creates. Pass ``asyncio_loop`` to adopt an
    existing loop instead; either way `close` closes it. While current (see
    `.IOLoop.initialize`), the loop is also asyncio's current loop for the
    thread; ``is_current`` tells whether it is, and ``old_asyncio`` holds the
    loop that was current before, which `close` restores.
    """

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Create the asyncio loop (unless given) and set up the `.IOLoop`."""
        self.is_current = False
        self.old_asyncio: asyncio.AbstractEventLoop | None = None
        created = None
        if "asyncio_loop" not in kwargs:
            kwargs["asyncio_loop"] = created = asyncio.new_event_loop()
        try:
            super().initialize(**kwargs)
        except Exception:
            # Nobody else will ever close the loop we made.
            if created is not None:
                created.close()
            raise

    def close(self, all_fds: bool = False) -> None:
        """See `.IOLoop.close`; also restores the previously current loop."""
        if self.is_current:
            self._clear_current_hook()
        super().close(all_fds=all_fds)

    def _make_current(self) -> None:
        if not self.is_current:
            self.old_asyncio = _current_asyncio_loop()
            self.is_current = True
        asyncio.set_event_loop(self.asyncio_loop)

    def _clear_current_hook(self) -> None:
        if self.is_current:
            asyncio.set_event_loop(self.old_asyncio)
            self.old_asyncio = None
            self.is_current = False


def to_tornado_future(asyncio_future: asyncio.Future[_T]) -> asyncio.Future[_T]:
    """Return ``asyncio_future`` itself: Tornado's futures are asyncio's.

    Deprecated; kept for code written for old Tornado versions.
    """
    return asyncio_future


def to_asyncio_future(tornado_future: Any) -> asyncio.Future[Any]:
    """Convert anything `tornado.gen` can yield into an asyncio future.

    Deprecated: use `tornado.gen.convert_yielded`, which this calls.
    """
    from tornado.gen import convert_yielded

    result: asyncio.Future[Any] = convert_yielded(tornado_future)
    return result


def __getattr__(name: str) -> Any:
    """Create the deprecated ``AnyThreadEventLoopPolicy`` on first access."""
    if name == "AnyThreadEventLoopPolicy":
        warnings.warn(
            "AnyThreadEventLoopPolicy is deprecated; use asyncio.run or "
            "create loops explicitly in threads",
            DeprecationWarning,
            stacklevel=2,
        )
        return _any_thread_policy_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _any_thread_policy_class() -> type:
    """Build the policy class; done lazily as asyncio deprecates policies."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        base: Any = asyncio.DefaultEventLoopPolicy

    class AnyThreadEventLoopPolicy(base):  # type: ignore[misc]
        """An event loop policy that creates a loop for any thread on demand.

        The standard policy only does that for the main thread; with this
        one, ``asyncio.get_event_loop()`` works in every thread.
        """

        def get_event_loop(self) -> asyncio.AbstractEventLoop:
            try:
                loop: asyncio.AbstractEventLoop = super().get_event_loop()
            except RuntimeError:
                loop = self.new_event_loop()
                self.set_event_loop(loop)
            return loop

    AnyThreadEventLoopPolicy.__module__ = __name__
    return AnyThreadEventLoopPolicy


# Selector threads still running, so they can be stopped at interpreter exit
# (a daemon thread blocked in select() can outlive finalization otherwise).
_live_selector_threads: weakref.WeakSet[SelectorThread] = weakref.WeakSet()


@atexit.register
def _stop_selector_threads() -> None:
    for selector in list(_live_selector_threads):
        selector._stop_thread()


def _fileno(fd: _FileDescriptor) -> int:
    """The descriptor number of ``fd``, validated as asyncio does."""
    number = fd if isinstance(fd, int) else fd.fileno()
    if number < 0:
        raise ValueError(f"Invalid file descriptor: {fd!r}")
    return number


class SelectorThread:
    """Gives ``add_reader``-style descriptor watching to ``real_loop``.

    A background thread waits in ``select.select()`` for the watched
    descriptors; when some are ready it hands them to ``real_loop``, which
    runs their callbacks and then lets the thread select again. The thread
    therefore never runs user code, and a descriptor that stays ready is
    reported once per loop iteration rather than in a busy loop.

    All methods except `close` must be called on ``real_loop``'s thread.
    """

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._readers: dict[int, Callable[[], Any]] = {}
        self._writers: dict[int, Callable[[], Any]] = {}
        self._closed = False
        # Writing to the waker interrupts a select() in progress.
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self._waker_w.setblocking(False)
        # Guards the hand-over between the loop and the select thread.
        self._cond = threading.Condition()
        self._fd_sets: tuple[list[int], list[int]] | None = None
        self._selecting = False
        self._stopping = False
        self._thread = threading.Thread(
            target=self._select_forever, name="Tornado selector", daemon=True
        )
        self._thread.start()
        _live_selector_threads.add(self)
        self._publish_fd_sets()

    def close(self) -> None:
        """Stop the thread, wait for it to exit and release its sockets.

        Idempotent; the callbacks registered are dropped.
        """
        if self._closed:
            return
        self._closed = True
        self._stop_thread()
        self._thread.join()
        _live_selector_threads.discard(self)
        self._waker_r.close()
        self._waker_w.close()
        self._readers.clear()
        self._writers.clear()

    def add_reader(
        self, fd: _FileDescriptor, callback: Callable[..., None], *args: Any
    ) -> None:
        """Call ``callback(*args)`` when ``fd`` is readable (replacing any)."""
        self._readers[_fileno(fd)] = functools.partial(callback, *args)
        self._wake_selector()

    def add_writer(
        self, fd: _FileDescriptor, callback: Callable[..., None], *args: Any
    ) -> None:
        """Call ``callback(*args)`` when ``fd`` is writable (replacing any)."""
        self._writers[_fileno(fd)] = functools.partial(callback, *args)
        self._wake_selector()

    def remove_reader(self, fd: _FileDescriptor) -> bool:
        """Stop watching ``fd`` for reading; return whether it was watched."""
        return self._unwatch(self._readers, fd)

    def remove_writer(self, fd: _FileDescriptor) -> bool:
        """Stop watching ``fd`` for writing; return whether it was watched."""
        return self._unwatch(self._writers, fd)

    def _unwatch(
        self, callbacks: dict[int, Callable[[], Any]], fd: _FileDescriptor
    ) -> bool:
        if callbacks.pop(_fileno(fd), None) is None:
            return False
        # The descriptor may be closed next; select() must not see it again.
        self._wake_selector()
        return True

    def _wake_selector(self) -> None:
        """Make the thread select on the current descriptors."""
        with self._cond:
            selecting = self._selecting
            if self._fd_sets is not None:
                # Published but not yet taken by the thread: bring it up to date.
                self._fd_sets = self._snapshot()
        if selecting:
            self._send_wake_byte()
        # Otherwise the loop is dispatching a batch, and publishes afterwards.

    def _send_wake_byte(self) -> None:
        try:
            self._waker_w.send(b"\0")
        except OSError:
            pass  # full (a wake-up is pending anyway) or closed

    def _stop_thread(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._send_wake_byte()

    def _publish_fd_sets(self) -> None:
        """Let the thread select on the current descriptors (loop thread)."""
        with self._cond:
            self._fd_sets = self._snapshot()
            self._cond.notify()

    def _snapshot(self) -> tuple[list[int], list[int]]:
        return list(self._readers), list(self._writers)

    def _select_forever(self) -> None:
        """The thread's body: select, report to the loop, wait, repeat."""
        while True:
            with self._cond:
                self._selecting = False
                while self._fd_sets is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                readers, writers = self._fd_sets  # type: ignore[misc]
                self._fd_sets = None
                self._selecting = True
            readable, writable = self._select(readers, writers)
            try:
                self._real_loop.call_soon_threadsafe(self._dispatch, readable, writable)
            except (RuntimeError, AttributeError):
                return  # the loop is closed; nothing will dispatch again

    def _select(
        self, readers: list[int], writers: list[int]
    ) -> tuple[list[int], list[int]]:
        waker = self._waker_r.fileno()
        try:
            readable, writable, failed = select.select(
                [waker, *readers], writers, writers
            )
        except (OSError, ValueError):
            return self._find_unselectable(readers, writers)
        return readable, list({*writable, *failed})

    def _find_unselectable(
        self, readers: list[int], writers: list[int]
    ) -> tuple[list[int], list[int]]:
        """After select() failed: which descriptors are to blame.

        Usually a descriptor was closed after being removed; the waker is
        then readable and the loop sends fresh sets. Otherwise the bad
        descriptors are reported ready so that their owners see the error.
        """
        waker = self._waker_r.fileno()
        if _is_ready_or_bad(waker):
            return [waker], []
        bad = {fd for fd in {*readers, *writers} if _is_ready_or_bad(fd) is None}
        return [fd for fd in readers if fd in bad], [fd for fd in writers if fd in bad]

    def _dispatch(self, readable: list[int], writable: list[int]) -> None:
        """Run the callbacks of ready descriptors (loop thread)."""
        if self._closed:
            return
        try:
            for fd in readable:
                if fd == self._waker_r.fileno():
                    self._drain_waker()
                else:
                    self._run_callback(self._readers, fd)
            for fd in writable:
                self._run_callback(self._writers, fd)
        finally:
            if not self._closed:
                self._publish_fd_sets()

    def _run_callback(self, callbacks: dict[int, Callable[[], Any]], fd: int) -> None:
        callback = callbacks.get(fd)
        if callback is None:
            return  # removed by an earlier callback of this batch
        try:
            callback()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as e:
            self._real_loop.call_exception_handler(
                {"message": f"Exception in callback {callback!r}", "exception": e}
            )

    def _drain_waker(self) -> None:
        try:
            while self._waker_r.recv(4096):
                pass
        except OSError:
            pass  # drained (BlockingIOError) or closed


def _is_ready_or_bad(fd: int) -> bool | None:
    """Poll ``fd`` once: True if readable, False if not, None if unselectable."""
    try:
        readable, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return None
    return bool(readable)


if TYPE_CHECKING:
    # The stubs declare every AbstractEventLoop method abstract; the wrapper
    # implements them all by forwarding, which only BaseEventLoop conveys.
    _EventLoopBase = asyncio.BaseEventLoop
else:
    _EventLoopBase = asyncio.AbstractEventLoop


class AddThreadSelectorEventLoop(_EventLoopBase):
    """Wraps an asyncio loop, adding ``add_reader`` and friends to it.

    Descriptor watching is done by a `SelectorThread`; every other attribute
    is the wrapped loop's. Closing the wrapper stops the thread and closes
    the wrapped loop.
    """

    #: The attributes served by the wrapper itself rather than the real loop.
    MY_ATTRIBUTES = {
        "_real_loop",
        "_selector",
        "add_reader",
        "add_writer",
        "close",
        "remove_reader",
        "remove_writer",
    }

    def __getattribute__(self, name: str) -> Any:
        """Forward everything but `MY_ATTRIBUTES` to the wrapped loop."""
        if name in AddThreadSelectorEventLoop.MY_ATTRIBUTES:
            return super().__getattribute__(name)
        return getattr(self._real_loop, name)

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._selector = SelectorThread(real_loop)

    def close(self) -> None:
        """Stop the selector thread, then close the wrapped loop."""
        self._selector.close()
        self._real_loop.close()

    def add_reader(  # type: ignore[override]
        self, fd: _FileDescriptor, callback: Callable[..., None], *args: Any
    ) -> None:
        """Call ``callback(*args)`` when ``fd`` is readable."""
        self._selector.add_reader(fd, callback, *args)

    def add_writer(  # type: ignore[override]
        self, fd: _FileDescriptor, callback: Callable[..., None], *args: Any
    ) -> None:
        """Call ``callback(*args)`` when ``fd`` is writable."""
        self._selector.add_writer(fd, callback, *args)

    def remove_reader(self, fd: _FileDescriptor) -> bool:  # type: ignore[override]
        """Stop watching ``fd`` for reading; return whether it was watched."""
        return self._selector.remove_reader(fd)

    def remove_writer(self, fd: _FileDescriptor) -> bool:  # type: ignore[override]
        """Stop watching ``fd`` for writing; return whether it was watched."""
        return self._selector.remove_writer(fd)
