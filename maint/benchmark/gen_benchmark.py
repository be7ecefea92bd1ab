#!/usr/bin/env python3
"""Measure the overhead of Tornado coroutines and of ``gen.multi``.

Reports microseconds per operation (the best of ``--rounds`` timings of
``--number`` calls each) for:

* calling a ``@gen.coroutine`` that returns without yielding (the fast path,
  which never touches the event loop);
* calling one that yields a resolved future once (so a Runner drives it);
* calling and awaiting an equivalent native ``async def`` coroutine, for
  comparison;
* ``gen.multi`` over 1,000 already resolved futures and over 1,000 futures
  resolved after the call.

``--loop=uvloop`` runs them on uvloop.  There are no targets.  Run from
anywhere::

    python maint/benchmark/gen_benchmark.py [--number=2000] [--rounds=5] [--json]
"""

from __future__ import annotations

import asyncio
import sys
import timeit
from collections.abc import Callable, Generator
from typing import Any

import _harness

from tornado import gen
from tornado.ioloop import IOLoop

FUTURES_PER_MULTI = 1000


@gen.coroutine
def returns_at_once() -> Generator[Any, Any, int]:
    if False:
        yield
    return 1


@gen.coroutine
def yields_once(done: asyncio.Future[int]) -> Generator[Any, Any, int]:
    value = yield done
    return value  # type: ignore[no-any-return]


async def native(done: asyncio.Future[int]) -> int:
    return await done


def resolved(loop: asyncio.AbstractEventLoop) -> asyncio.Future[int]:
    future = loop.create_future()
    future.set_result(1)
    return future


def main() -> int:
    parser = _harness.common_options(
        __doc__.splitlines()[0], rounds=5, rounds_help="timings (the best counts)"
    )
    parser.add_argument(
        "--number", type=_harness.positive_int, default=2000, help="calls per timing"
    )
    args = parser.parse_args()
    _harness.install_loop(args.loop)
    report = _harness.Report(
        f"coroutine overhead (best of {args.rounds} timings, loop {args.loop})"
    )

    def record(name: str, seconds: float, number: int) -> None:
        report.add(name, seconds / number * 1e6, "µs/op")

    def time_calls(
        name: str, func: Callable[[], Any], number: int, repeat: int
    ) -> None:
        record(name, min(timeit.repeat(func, number=number, repeat=repeat)), number)

    io_loop = IOLoop(make_current=False)
    loop: asyncio.AbstractEventLoop = io_loop.asyncio_loop

    async def run_all() -> None:
        number, repeat = args.number, args.rounds
        time_calls("gen.coroutine, no yield", returns_at_once, number, repeat)
        time_calls(
            "gen.coroutine, yields a resolved future",
            lambda: yields_once(resolved(loop)),
            number,
            repeat,
        )
        # Timings of awaited coroutines need the loop, so run them as tasks
        # one after another and time the whole batch.
        await time_awaited("await gen.coroutine (paused once)", number, repeat)
        await time_awaited("await async def (paused once)", number, repeat, native)
        multi_number = max(1, number // 100)
        time_calls(
            f"gen.multi over {FUTURES_PER_MULTI} resolved futures",
            lambda: gen.multi([resolved(loop) for _ in range(FUTURES_PER_MULTI)]),
            multi_number,
            repeat,
        )
        await time_multi_pending(multi_number, repeat)

    async def time_awaited(
        name: str,
        number: int,
        repeat: int,
        coroutine: Callable[[asyncio.Future[int]], Any] = yields_once,
    ) -> None:
        best = float("inf")
        for _ in range(repeat):
            start = loop.time()
            for _ in range(number):
                pending = loop.create_future()
                loop.call_soon(pending.set_result, 1)
                await coroutine(pending)
            best = min(best, loop.time() - start)
        record(name, best, number)

    async def time_multi_pending(number: int, repeat: int) -> None:
        best = float("inf")
        for _ in range(repeat):
            start = loop.time()
            for _ in range(number):
                futures = [loop.create_future() for _ in range(FUTURES_PER_MULTI)]
                waiting = gen.multi(futures)
                for future in futures:
                    future.set_result(1)
                await waiting
            best = min(best, loop.time() - start)
        record(f"gen.multi over {FUTURES_PER_MULTI} pending futures", best, number)

    try:
        io_loop.run_sync(run_all)
    finally:
        io_loop.close()
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
