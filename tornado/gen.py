"""Generator-based coroutines, and helpers for combining awaitables.

Before ``async def`` existed, Tornado coroutines were generators decorated
with `coroutine` that ``yield`` the futures they wait for:

>>> import asyncio
>>> from tornado import gen
>>> async def double(x):
...     await gen.sleep(0.001)
...     return 2 * x
>>> @gen.coroutine
... def sum_of_doubles(a, b):
...     first, second = yield [double(a), double(b)]
...     return first + second
>>> async def main():
...     return await sum_of_doubles(1, 2)
>>> asyncio.run(main())
6

Such coroutines still work and interoperate with native ones in both
directions: calling one returns an :class:`asyncio.Future`, and they can
yield anything a native coroutine can await. They can also yield lists and
dicts of awaitables (waited on together, like `multi`), None or `moment` (to
let the loop run other callbacks once); `convert_yielded` defines what may be
yielded and can be extended for other types.

The helpers here are useful for native coroutines too: `multi` waits for
many awaitables, `with_timeout` bounds a wait, `sleep` pauses, and
`WaitIterator` processes results in the order they arrive.
"""

from __future__ import annotations

import asyncio
import builtins
import collections
import concurrent.futures
import contextvars
import datetime
import functools
import sys
import types
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from inspect import isawaitable
from typing import Any, ParamSpec, TypeVar, cast, overload

from tornado.concurrent import (
    Future,
    chain_future,
    future_add_done_callback,
    future_set_exc_info,
    future_set_result_unless_cancelled,
    is_future,
)
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.util import TimeoutError as TimeoutError

_T = TypeVar("_T")
_P = ParamSpec("_P")

_Yieldable = (
    None
    | Awaitable[Any]
    | Sequence[Any]
    | Mapping[Any, Any]
    | concurrent.futures.Future[Any]
)
_ExceptionTypes = type[Exception] | tuple[type[Exception], ...]


class KeyReuseError(Exception):
    """Obsolete: belonged to the callback-based API removed in Tornado 6."""


class UnknownKeyError(Exception):
    """Obsolete: belonged to the callback-based API removed in Tornado 6."""


class LeakedCallbackError(Exception):
    """Obsolete: belonged to the callback-based API removed in Tornado 6."""


class BadYieldError(Exception):
    """A coroutine yielded something that is not a future or awaitable."""


class ReturnValueIgnoredError(Exception):
    """Obsolete: belonged to the callback-based API removed in Tornado 6."""


class Return(Exception):
    """Raise ``Return(value)`` to return ``value`` from a generator coroutine.

    Only needed on ancient Pythons where generators could not ``return`` a
    value; ``return value`` works the same and is preferred.
    """

    def __init__(self, value: Any = None) -> None:
        super().__init__()
        #: The value the coroutine returns.
        self.value = value
        # Like StopIteration, carry the value in args too.
        self.args = (value,)


class _Moment:
    """The type of `moment`."""

    def __await__(self) -> Generator[None, None, None]:
        # A bare yield is how asyncio tasks give up one loop iteration.
        yield

    def __repr__(self) -> str:
        return "tornado.gen.moment"


#: Yield (or await) this to let the loop run other pending callbacks once
#: before the coroutine continues; ``yield None`` does the same. In native
#: coroutines ``await asyncio.sleep(0)`` is the usual spelling.
moment: Any = _Moment()


def _create_future() -> Future[Any]:
    """A new future whose debug-mode creation traceback omits this module."""
    future: Future[Any] = Future()
    source_traceback = getattr(future, "_source_traceback", None)
    while source_traceback and source_traceback[-1][0] == __file__:
        del source_traceback[-1]
    return future


def _returned_value(stop: StopIteration | Return) -> Any:
    return stop.value


@overload
def coroutine(
    func: Callable[_P, Generator[Any, Any, _T]],
) -> Callable[_P, Future[_T]]: ...


@overload
def coroutine(func: Callable[_P, _T]) -> Callable[_P, Future[_T]]: ...


def coroutine(func: Callable[..., Any]) -> Callable[..., Future[Any]]:
    """Turn a generator function into a coroutine returning a future.

    Each value the generator yields is converted with `convert_yielded` and
    waited for; the generator receives its result (or has its exception
    raised at the ``yield``). What the generator returns becomes the
    future's result, and an exception escaping it the future's exception.

    A decorated function that is not a generator function (or that
    finishes without yielding) returns an already resolved future, without
    a trip through the event loop.

    Cancelling the returned future raises :class:`asyncio.CancelledError`
    in the coroutine at the ``yield`` it is paused on, cancelling what it
    waits for as asyncio tasks do. The coroutine runs in a copy of the
    caller's ``contextvars`` context.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Future[Any]:
        ctx_run = contextvars.copy_context().run
        # No future may be a local of a frame that an exception's traceback
        # holds: future -> exception -> traceback -> frame -> future would
        # keep the coroutine's locals alive until the garbage collector runs.
        try:
            result = ctx_run(func, *args, **kwargs)
        except (Return, StopIteration) as e:
            result = _returned_value(e)
        except asyncio.CancelledError:
            return _settled_future(cancel=True)
        except Exception as e:
            return _settled_future(error=e)
        if not isinstance(result, types.GeneratorType):
            return _settled_future(value=result)
        return _start(ctx_run, result)

    wrapper.__wrapped__ = func
    wrapper.__tornado_coroutine__ = True  # type: ignore[attr-defined]
    return wrapper


def _settled_future(
    value: Any = None, error: BaseException | None = None, cancel: bool = False
) -> Future[Any]:
    """A new future, already resolved with ``value``, ``error`` or cancelled."""
    future = _create_future()
    if cancel:
        future.cancel()
    elif error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


def _start(
    ctx_run: Callable[..., Any], generator: Generator[Any, Any, Any]
) -> Future[Any]:
    """Run ``generator`` to its first yield; hand it to a `Runner` if it pauses.

    Doing the first step here saves creating a Runner for coroutines that
    finish without ever waiting.
    """
    try:
        yielded = ctx_run(next, generator)
    except (StopIteration, Return) as e:
        return _settled_future(value=_returned_value(e))
    except asyncio.CancelledError:
        return _settled_future(cancel=True)
    except Exception as e:
        return _settled_future(error=e)
    future = _create_future()
    Runner(ctx_run, generator, future, yielded)
    return future


def is_coroutine_function(func: Any) -> bool:
    """Return whether ``func`` was decorated with `coroutine`.

    Native ``async def`` functions are not included; use
    ``inspect.iscoroutinefunction`` for those.
    """
    return bool(getattr(func, "__tornado_coroutine__", False))


class Runner:
    """Drives a paused generator coroutine until it finishes.

    Internal to `coroutine`: each time the future the generator yielded
    resolves, `run` resumes the generator with the outcome, in the
    coroutine's context (``ctx_run``), until it returns or raises; that
    outcome goes to ``result_future``.

    Attributes: ``gen`` is the generator; ``future`` what it waits for now
    (None once finished); ``running`` is true while the generator executes;
    ``finished`` once it is done; ``io_loop`` the loop it resumes on.
    """

    def __init__(
        self,
        ctx_run: Callable[..., Any],
        gen: Generator[Any, Any, Any],
        result_future: Future[Any],
        first_yielded: Any,
    ) -> None:
        self.ctx_run = ctx_run
        self.gen = gen
        self.result_future: Future[Any] | None = result_future
        self.future: Any = None
        self.running = False
        self.finished = False
        self.io_loop = IOLoop.current()
        self._cancel_delivered = False
        # This bound method also keeps the runner alive as long as someone
        # holds the result future.
        result_future.add_done_callback(self._on_result_done)
        if self.ctx_run(self.handle_yield, first_yielded):
            self.ctx_run(self.run)

    def run(self) -> None:
        """Resume the generator while what it waits for is resolved."""
        if self.running or self.finished:
            return
        self.running = True
        try:
            while True:
                future = self.future
                if future is None:
                    raise Exception("No pending future")
                if not future.done():
                    return
                self.future = None
                exc = self._outcome_error(future)
                try:
                    if exc is not None:
                        yielded = self.gen.throw(exc)
                    else:
                        yielded = self.gen.send(future.result())
                except (StopIteration, Return) as e:
                    future_set_result_unless_cancelled(
                        self._finish(), _returned_value(e)
                    )
                    return
                except asyncio.CancelledError:
                    self._finish().cancel()
                    return
                except Exception:
                    future_set_exc_info(self._finish(), sys.exc_info())
                    return
                finally:
                    exc = future = None
                if not self.handle_yield(yielded):
                    return
                yielded = None
        finally:
            self.running = False

    def _outcome_error(self, future: Any) -> BaseException | None:
        """The exception to raise in the generator, if any, for ``future``."""
        cancelled = self.result_future is not None and self.result_future.cancelled()
        if cancelled and not self._cancel_delivered:
            self._cancel_delivered = True
            return asyncio.CancelledError()
        if isinstance(future, Future) and future.cancelled():
            return asyncio.CancelledError()
        try:
            error: BaseException | None = future.exception()
        except concurrent.futures.CancelledError as e:
            error = e
        return error

    def _finish(self) -> Future[Any]:
        """Mark the generator finished; return the future for its outcome."""
        self.finished = True
        self.future = None
        result_future = self.result_future
        assert result_future is not None
        self.result_future = None
        return result_future

    def handle_yield(self, yielded: Any) -> bool:
        """Start waiting for ``yielded``; True if it is already resolved."""
        try:
            self.future = convert_yielded(yielded)
        except BadYieldError:
            # Raise the error in the generator, at the offending yield.
            self.future = _create_future()
            future_set_exc_info(self.future, sys.exc_info())
        if self.future is moment:
            self.future = _child_future(None)
            self.io_loop.add_callback(self.ctx_run, self.run)
            return False
        if not self.future.done():
            self.io_loop.add_future(self.future, self._resume)
            return False
        return True

    def _resume(self, future: Any) -> None:
        self.ctx_run(self.run)

    def handle_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool:
        """Raise ``value`` in the generator if it is paused; return whether it was."""
        if self.running or self.finished:
            return False
        self.future = _create_future()
        future_set_exc_info(self.future, (typ, value, tb))
        self.ctx_run(self.run)
        return True

    def _on_result_done(self, result_future: Future[Any]) -> None:
        """Pass a cancellation of the result on to what the generator awaits.

        Once that resolves, `run` raises the cancellation in the generator.
        """
        if result_future.cancelled() and isinstance(self.future, Future):
            self.future.cancel()


@functools.singledispatch
def convert_yielded(yielded: Any) -> Future[Any]:
    """Convert what a coroutine yielded into a future to wait for.

    Futures are returned as they are, lists and dicts go through `multi`,
    other awaitables (such as native coroutines) are wrapped in a task, and
    None becomes `moment`. Anything else raises `BadYieldError`.

    This is a ``functools.singledispatch`` function: register a
    converter to make another type yieldable, e.g.
    ``convert_yielded.register(Deferred)(deferred_to_future)``.
    """
    if yielded is None or yielded is moment:
        return moment  # type: ignore[no-any-return]
    if isinstance(yielded, (list, dict)):
        return multi(yielded)
    if is_future(yielded):
        return yielded  # type: ignore[no-any-return]
    if isawaitable(yielded):
        return asyncio.ensure_future(yielded)
    raise BadYieldError(f"yielded unknown object {yielded!r}")


@overload
def multi(
    children: Sequence[_Yieldable], quiet_exceptions: _ExceptionTypes = ()
) -> Future[list[Any]]: ...


@overload
def multi(
    children: Mapping[Any, _Yieldable], quiet_exceptions: _ExceptionTypes = ()
) -> Future[dict[Any, Any]]: ...


def multi(
    children: Sequence[_Yieldable] | Mapping[Any, _Yieldable],
    quiet_exceptions: _ExceptionTypes = (),
) -> Future[list[Any]] | Future[dict[Any, Any]]:
    """Wait for several awaitables at once.

    ``children`` is a list (or dict) of anything `convert_yielded` accepts;
    the result is the list (or dict, with the same keys) of their results.
    It is only available when every child is done. If children fail, the
    first failure (in list order) becomes the exception; the others are
    logged, unless they are instances of ``quiet_exceptions``. A cancelled
    child counts as one failing with :class:`asyncio.CancelledError`: like
    :func:`asyncio.gather`, the result then fails with that exception but
    is not itself cancelled.

    In a generator coroutine, yielding a list or dict does the same.

    >>> import asyncio
    >>> from tornado import gen
    >>> async def square(x):
    ...     await gen.sleep(0.001 * (3 - x))  # the last one finishes first
    ...     return x * x
    >>> async def main():
    ...     as_list = await gen.multi([square(1), square(2)])
    ...     as_dict = await gen.multi({"two": square(2), "one": square(1)})
    ...     return as_list, as_dict
    >>> asyncio.run(main())
    ([1, 4], {'two': 4, 'one': 1})
    """
    return multi_future(children, quiet_exceptions=quiet_exceptions)


#: Old name of `multi`.
Multi = multi


def _child_future(child: Any) -> Future[Any]:
    """``child`` as a future; None and `moment` count as done already."""
    future = convert_yielded(child)
    if future is moment:
        future = _create_future()
        future.set_result(None)
    return future


def multi_future(
    children: Sequence[_Yieldable] | Mapping[Any, _Yieldable],
    quiet_exceptions: _ExceptionTypes = (),
) -> Future[list[Any]] | Future[dict[Any, Any]]:
    """Wait for several futures at once; the implementation of `multi`.

    Prefer calling `multi`, which accepts the same arguments.
    """
    keys: list[Any] | None = None
    if isinstance(children, Mapping):
        keys = list(children)
        futures = [_child_future(child) for child in children.values()]
    else:
        futures = [_child_future(child) for child in children]
    result = _create_future()
    unfinished = set(futures)

    def on_child_done(child: Future[Any]) -> None:
        unfinished.discard(child)
        if not unfinished:
            _collect(futures, keys, result, quiet_exceptions)

    if not futures:
        result.set_result({} if keys is not None else [])
    for child in set(futures):
        future_add_done_callback(child, on_child_done)
    return result


def _collect(
    futures: list[Future[Any]],
    keys: list[Any] | None,
    result: Future[Any],
    quiet_exceptions: _ExceptionTypes,
) -> None:
    """Resolve ``result`` from ``futures``, which are all done."""
    values = []
    for future in futures:
        if future.cancelled():
            # As asyncio.gather does: the combined future fails with the
            # cancellation instead of being cancelled itself.
            if not result.done():
                result.set_exception(asyncio.CancelledError())
            continue
        error = future.exception()
        if error is None:
            values.append(future.result())
        elif not result.done():
            result.set_exception(error)
        elif not isinstance(error, quiet_exceptions):
            app_log.error(
                "Multiple exceptions in yield list",
                exc_info=(type(error), error, error.__traceback__),
            )
    if not result.done():
        result.set_result(
            dict(zip(keys, values, strict=True)) if keys is not None else values
        )


def maybe_future(x: Any) -> Future[Any]:
    """Return ``x`` if it is a future, else a future resolved to ``x``.

    Deprecated: a function that may or may not return a future is better
    handled by awaiting ``convert_yielded(x)`` or checking
    ``inspect.isawaitable``.
    """
    if is_future(x):
        return x  # type: ignore[no-any-return]
    future = _create_future()
    future.set_result(x)
    return future


@overload
def with_timeout(
    timeout: float | datetime.timedelta,
    future: Awaitable[_T] | concurrent.futures.Future[_T],
    quiet_exceptions: _ExceptionTypes = (),
    *,
    message: str | Callable[[], str] | None = None,
) -> Future[_T]: ...


@overload
def with_timeout(
    timeout: float | datetime.timedelta,
    future: _Yieldable,
    quiet_exceptions: _ExceptionTypes = (),
    *,
    message: str | Callable[[], str] | None = None,
) -> Future[Any]: ...


def with_timeout(
    timeout: float | datetime.timedelta,
    future: _Yieldable,
    quiet_exceptions: _ExceptionTypes = (),
    *,
    message: str | Callable[[], str] | None = None,
) -> Future[Any]:
    """Return a future for ``future``'s outcome that fails at ``timeout``.

    ``timeout`` is a deadline in terms of `.IOLoop.time` or a
    :class:`datetime.timedelta` from now. When it passes first, the result
    fails with `TimeoutError` (whose text is ``message``, by default
    ``"Timeout"``). ``message`` may also be a function returning the text,
    called only if the timeout happens (for texts that are costly to
    build, or that describe the state at that moment).

    ``future`` itself is not cancelled on timeout; if it later fails, its
    exception is logged unless it is an instance of ``quiet_exceptions``.

    >>> import asyncio, datetime
    >>> from tornado import gen
    >>> async def main():
    ...     never = asyncio.Event()
    ...     try:
    ...         await gen.with_timeout(
    ...             datetime.timedelta(seconds=0.01), never.wait(), message="gave up"
    ...         )
    ...     except TimeoutError as e:
    ...         return str(e)
    >>> asyncio.run(main())
    'gave up'

    Use :func:`asyncio.wait_for` for a wait that cancels.
    """
    original = convert_yielded(future)
    inner = _on_this_loop(original)
    result = _create_future()
    chain_future(inner, result)
    io_loop = IOLoop.current()

    def log_late_failure(inner: Future[Any]) -> None:
        if inner.cancelled():
            return
        error = inner.exception()
        if error is not None and not isinstance(error, quiet_exceptions):
            app_log.error(
                "Exception in Future %r after timeout",
                original,
                exc_info=(type(error), error, error.__traceback__),
            )

    def on_timeout() -> None:
        if not result.done():
            text = message() if callable(message) else message
            result.set_exception(TimeoutError(text or "Timeout"))
        future_add_done_callback(inner, log_late_failure)

    timer = io_loop.add_timeout(timeout, on_timeout)
    future_add_done_callback(inner, lambda _: io_loop.remove_timeout(timer))
    return result


def _on_this_loop(future: Future[_T]) -> Future[_T]:
    """``future``, or for a concurrent future one resolved with it on this loop.

    (`convert_yielded` passes concurrent futures through as they are,
    whatever its annotation says.)
    """
    maybe_concurrent = cast("Future[_T] | concurrent.futures.Future[_T]", future)
    if isinstance(maybe_concurrent, concurrent.futures.Future):
        return asyncio.wrap_future(maybe_concurrent)
    return maybe_concurrent


def sleep(duration: float) -> Future[None]:
    """Return a future that resolves (to None) after ``duration`` seconds.

    ``await gen.sleep(1)`` in a coroutine pauses it without blocking the
    loop.
    """
    future: Future[None] = _create_future()
    IOLoop.current().call_later(
        duration, lambda: future_set_result_unless_cancelled(future, None)
    )
    return future


class WaitIterator:
    """Iterate over futures in the order they resolve.

    Create it with futures (or other awaitables) as positional or as
    keyword arguments (not both). Each `next` returns a future for the next one to resolve, with
    its outcome, while ``current_index`` tells which one it was (its
    position, or its keyword) and ``current_future`` is that future::

        waiter = gen.WaitIterator(fetch(a), fetch(b))
        async for result in waiter:
            print(waiter.current_index, "done:", result)

    An exception raised by one future does not stop the iteration; catch it
    around the ``await`` to go on with the others.
    """

    def __init__(self, *args: Awaitable[Any], **kwargs: Awaitable[Any]) -> None:
        if args and kwargs:
            raise ValueError(
                "WaitIterator takes positional or keyword futures, not both"
            )
        keyed = kwargs.items() if kwargs else enumerate(args)
        # (key, future) per argument: the same future given twice is
        # produced twice, once for each of its keys.
        entries = [(key, convert_yielded(future)) for key, future in keyed]
        self._keys_by_future: dict[Future[Any], collections.deque[Any]] = {}
        for key, future in entries:
            self._keys_by_future.setdefault(future, collections.deque()).append(key)
        self._pending_count = len(entries)
        self._finished: collections.deque[tuple[Any, Future[Any]]] = collections.deque()
        #: Key or position of the future whose result `next` produced last.
        self.current_index: Any = None
        #: The future whose result `next` produced last.
        self.current_future: Future[Any] | None = None
        self._running_future: Future[Any] | None = None
        for future in self._keys_by_future:
            future_add_done_callback(future, self._on_done)

    def done(self) -> bool:
        """Return True when every future has been returned by `next`."""
        if self._pending_count:
            return False
        self.current_index = self.current_future = None
        return True

    def next(self) -> Future[Any]:
        """Return a future for the outcome of the next future to resolve."""
        running = self._running_future = _create_future()
        if self._finished:
            self._deliver(*self._finished.popleft())
        return running

    def _on_done(self, done: Future[Any]) -> None:
        for key in self._keys_by_future.pop(done):
            self._finished.append((key, done))
        running = self._running_future
        if running is not None and not running.done() and self._finished:
            self._deliver(*self._finished.popleft())

    def _deliver(self, key: Any, done: Future[Any]) -> None:
        running = self._running_future
        if running is None:
            raise Exception("no future is running")
        self._running_future = None
        self._pending_count -= 1
        chain_future(done, running)
        self.current_future = done
        self.current_index = key

    def __aiter__(self) -> WaitIterator:
        """Iterate with ``async for``, producing each future's result."""
        return self

    def __anext__(self) -> Future[Any]:
        """The next result, as for ``await waiter.next()``."""
        if self.done():
            raise builtins.StopAsyncIteration()
        return self.next()
