#!/usr/bin/env python
"""Measure the overhead of Tornado coroutines and of ``gen.multi``.

Prints microseconds per operation for:

* calling a ``@gen.coroutine`` that returns without yielding (the fast path,
  which never touches the event loop);
* calling one that yields a resolved future once (so a Runner drives it);
* calling and awaiting an equivalent native ``async def`` coroutine, for
  comparison;
* ``gen.multi`` over 1,000 already resolved futures and over 1,000 futures
  resolved after the call.

Usage: ``python maint/benchmark/gen_benchmark.py [--number N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import asyncio
import timeit
from collections.abc import Callable, Generator
from typing import Any

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


def report(name: str, func: Callable[[], Any], number: int, repeat: int) -> None:
    best = min(timeit.repeat(func, number=number, repeat=repeat))
    print(f"{name:<48} {best / number * 1e6:10.2f} µs/op")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=5, help="timings (best is shown)")
    args = parser.parse_args()
    io_loop = IOLoop(make_current=False)
    loop: asyncio.AbstractEventLoop = io_loop.asyncio_loop

    async def run_all() -> None:
        number, repeat = args.number, args.repeat
        report("gen.coroutine, no yield", returns_at_once, number, repeat)
        report(
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
        report(
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
        print(f"{name:<48} {best / number * 1e6:10.2f} µs/op")

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
        name = f"gen.multi over {FUTURES_PER_MULTI} pending futures"
        print(f"{name:<48} {best / number * 1e6:10.2f} µs/op")

    try:
        io_loop.run_sync(run_all)
    finally:
        io_loop.close()


if __name__ == "__main__":
    main()
