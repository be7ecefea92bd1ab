"""Helpers for working with futures.

Tornado uses :class:`asyncio.Future` as its future type (exported here as
``Future``), and also accepts :class:`concurrent.futures.Future` wherever a
future is expected.  The functions in this module smooth over the differences
between the two: they copy outcomes from one future to another, register
callbacks that run promptly even when the future is already resolved, and set
outcomes without tripping over futures that were cancelled in the meantime.

``run_on_executor`` turns a blocking method into one that runs on an executor
and returns an awaitable future.
"""

from __future__ import annotations

import asyncio
import functools
import types
from collections.abc import Callable
from concurrent import futures
from typing import Any, ParamSpec, TypeVar, overload

from tornado.log import app_log

__all__ = [
    "Future",
    "FUTURES",
    "ReturnValueIgnoredError",
    "DummyExecutor",
    "dummy_executor",
    "run_on_executor",
    "chain_future",
    "future_set_result_unless_cancelled",
    "future_set_exception_unless_cancelled",
    "future_set_exc_info",
    "future_add_done_callback",
    "is_future",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")

_ExcInfo = tuple[
    type[BaseException] | None,
    BaseException | None,
    types.TracebackType | None,
]

Future = asyncio.Future

#: The future types Tornado accepts; usable as the second argument of
#: ``isinstance``.
FUTURES = (asyncio.Future, futures.Future)


class ReturnValueIgnoredError(Exception):
    """Raised when a callback-style function's return value would be lost.

    Kept for compatibility; nothing in Tornado raises it any more.
    """


def is_future(x: Any) -> bool:
    """Return True if ``x`` is an asyncio or a ``concurrent.futures`` future."""
    return isinstance(x, FUTURES)


class DummyExecutor(futures.Executor):
    """An executor that runs each submitted call at once, in the caller's thread.

    Useful where an API wants an executor but blocking briefly is acceptable
    (for example name resolution in tests).
    """

    def submit(  # type: ignore[override]
        self, fn: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> futures.Future[_T]:
        """Call ``fn(*args, **kwargs)`` now and return a resolved future."""
        future: futures.Future[_T] = futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:
            future.set_exception(e)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Do nothing: there are no workers to stop."""


#: A shared `DummyExecutor`.
dummy_executor = DummyExecutor()


@overload
def run_on_executor(
    method: Callable[_P, _T], /
) -> Callable[_P, asyncio.Future[_T]]: ...


@overload
def run_on_executor(
    *, executor: str = "executor", io_loop: str = "io_loop"
) -> Callable[[Callable[_P, _T]], Callable[_P, asyncio.Future[_T]]]: ...


def run_on_executor(*args: Any, **kwargs: Any) -> Any:
    """Decorate a method so that it runs on an executor and returns a future.

    The decorated method is submitted to the executor found in the
    instance's ``executor`` attribute, and the caller gets an
    :class:`asyncio.Future` for its outcome::

        class Hasher:
            executor = ThreadPoolExecutor(4)

            @run_on_executor
            def digest(self, data):
                return hashlib.sha256(data).hexdigest()

        digest = await Hasher().digest(b"...")

    Use ``@run_on_executor(executor="_pool")`` to name a different attribute.
    ``io_loop`` names an attribute holding the `.IOLoop` whose asyncio loop
    the returned future belongs to; when the attribute is missing the
    current loop is used.
    """
    unknown = set(kwargs) - {"executor", "io_loop"}
    if unknown:
        raise TypeError(
            f"run_on_executor got unexpected keyword arguments: {sorted(unknown)}"
        )
    if args and kwargs:
        raise ValueError("run_on_executor takes a method or keywords, not both")
    executor_attr: str = kwargs.get("executor", "executor")
    io_loop_attr: str = kwargs.get("io_loop", "io_loop")

    def decorator(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
            io_loop = getattr(self, io_loop_attr, None)
            asyncio_loop = getattr(io_loop, "asyncio_loop", None)
            result: asyncio.Future[Any] = asyncio.Future(loop=asyncio_loop)
            executor = getattr(self, executor_attr)
            chain_future(executor.submit(method, self, *args, **kwargs), result)
            return result

        return wrapper

    if len(args) == 1:
        return decorator(args[0])
    if args:
        raise ValueError(f"run_on_executor expected 1 argument, got {len(args)}")
    return decorator


def _copy_outcome(source: Any, target: Any) -> None:
    """Give ``target`` the outcome of the resolved ``source`` unless it has one."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
        return
    exc = source.exception()
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


def chain_future(
    a: asyncio.Future[_T] | futures.Future[_T],
    b: asyncio.Future[_T] | futures.Future[_T],
) -> None:
    """Copy the outcome of future ``a`` to future ``b`` when ``a`` resolves.

    Nothing is copied if ``b`` is already resolved (or cancelled) by then.
    ``a`` may be a ``concurrent.futures.Future`` resolved in another thread;
    an asyncio ``b`` is then updated on its own loop.
    """
    if isinstance(a, asyncio.Future) or not isinstance(b, asyncio.Future):
        future_add_done_callback(a, lambda a: _copy_outcome(a, b))
        return
    loop = b.get_loop()

    def copy_on_loop(a: futures.Future[_T]) -> None:
        try:
            loop.call_soon_threadsafe(_copy_outcome, a, b)
        except RuntimeError:
            pass  # b's loop is closed: nobody can await b any more.

    a.add_done_callback(copy_on_loop)


def future_set_result_unless_cancelled(
    future: asyncio.Future[_T] | futures.Future[_T], value: _T
) -> None:
    """Set ``future``'s result unless it was cancelled.

    Cancelling a future tells its producer the result is no longer wanted,
    so a producer that finishes later calls this instead of ``set_result``.
    """
    if not future.cancelled():
        future.set_result(value)


def future_set_exception_unless_cancelled(
    future: asyncio.Future[_T] | futures.Future[_T], exc: BaseException
) -> None:
    """Set ``future``'s exception unless it was cancelled.

    An exception arriving for a cancelled future has nowhere to go, so it is
    logged to ``tornado.application`` instead of being lost.
    """
    if not future.cancelled():
        future.set_exception(exc)
    else:
        app_log.error(
            "Exception after Future was cancelled",
            exc_info=(type(exc), exc, exc.__traceback__),
        )


def future_set_exc_info(
    future: asyncio.Future[_T] | futures.Future[_T], exc_info: _ExcInfo
) -> None:
    """Set ``future``'s exception from a ``sys.exc_info()`` triple.

    Behaves like `future_set_exception_unless_cancelled`; a triple holding no
    exception is a programming error and raises.
    """
    if exc_info[1] is None:
        raise Exception("future_set_exc_info called with no exception")
    future_set_exception_unless_cancelled(future, exc_info[1])


@overload
def future_add_done_callback(
    future: futures.Future[_T], callback: Callable[[futures.Future[_T]], None]
) -> None: ...


@overload
def future_add_done_callback(
    future: asyncio.Future[_T], callback: Callable[[asyncio.Future[_T]], None]
) -> None: ...


def future_add_done_callback(future: Any, callback: Callable[[Any], None]) -> None:
    """Call ``callback(future)`` when ``future`` resolves.

    Unlike ``add_done_callback``, an already resolved future gets its callback
    called immediately rather than on a later loop iteration.
    """
    if future.done():
        callback(future)
    else:
        future.add_done_callback(callback)
