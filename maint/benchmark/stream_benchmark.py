#!/usr/bin/env python3
"""Stream throughput over loopback TCP.

Sends ``--size`` bytes (1 GiB by default) from one `IOStream` to another in
the same process and reports MiB/s for two ways of reading:

* ``bytes``: ``read_bytes(--chunk-size)`` (64 KiB) until everything arrived;
* ``lines``: ``read_until(b"\\n")`` over lines of ``--line-length`` bytes.

Run a short version with e.g. ``--size=64M``.  ``--modes=bytes`` runs only
one; ``--loop=uvloop`` runs the streams on uvloop.  There are no targets.
Run from anywhere::

    python maint/benchmark/stream_benchmark.py [--size=64M] [--modes=bytes,lines] [--json]
"""

import asyncio
import socket
import sys
import time

import _harness

from tornado.iostream import IOStream
from tornado.netutil import add_accept_handler, bind_sockets

MODES = ("bytes", "lines")

MIB = 1024 * 1024


def parse_size(text: str) -> int:
    """``"64M"`` -> 67108864."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


async def connected_pair() -> tuple[IOStream, IOStream]:
    """A client stream and the server stream it is connected to."""
    [listener] = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
    accepted: asyncio.Future[socket.socket] = asyncio.Future()
    stop_accepting = add_accept_handler(
        listener, lambda connection, address: accepted.set_result(connection)
    )
    client = IOStream(socket.socket(socket.AF_INET))
    await client.connect(listener.getsockname())
    server = IOStream(await accepted)
    stop_accepting()
    listener.close()
    return client, server


async def send(stream: IOStream, block: bytes, total: int) -> None:
    """Write ``total`` bytes made of repetitions of ``block``."""
    sent = 0
    while sent < total:
        piece = block if total - sent >= len(block) else block[: total - sent]
        await stream.write(piece)
        sent += len(piece)


async def receive_bytes(stream: IOStream, total: int, chunk_size: int) -> int:
    received = 0
    while received < total:
        chunk = await stream.read_bytes(min(chunk_size, total - received))
        received += len(chunk)
    return received


async def receive_lines(stream: IOStream, total: int) -> int:
    received = 0
    while received < total:
        received += len(await stream.read_until(b"\n"))
    return received


async def run_mode(
    mode: str, total: int, chunk_size: int, line_length: int
) -> tuple[int, float]:
    """Transfer about ``total`` bytes in ``mode``; the bytes sent and MiB/s."""
    client, server = await connected_pair()
    line = b"x" * (line_length - 1) + b"\n"
    block = line * max(1, (256 * 1024) // len(line))
    total -= total % len(line)  # whole lines only, so both modes agree
    if mode == "bytes":
        receiving = receive_bytes(server, total, chunk_size)
    else:
        receiving = receive_lines(server, total)
    start = time.perf_counter()
    received, _ = await asyncio.gather(receiving, send(client, block, total))
    elapsed = time.perf_counter() - start
    client.close()
    server.close()
    assert received == total, (received, total)
    return total, total / MIB / elapsed


def main() -> int:
    parser = _harness.common_options(__doc__.split("\n")[0])
    parser.add_argument(
        "--size",
        type=parse_size,
        default="1G",
        help="bytes to send per mode, with an optional K/M/G suffix",
    )
    parser.add_argument(
        "--chunk-size",
        type=_harness.positive_int,
        default=64 * 1024,
        help="bytes per read_bytes() in bytes mode",
    )
    parser.add_argument(
        "--line-length",
        type=_harness.positive_int,
        default=1024,
        help="bytes per line (newline included)",
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated: bytes, lines"
    )
    args = parser.parse_args()
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    report = _harness.Report(f"IOStream throughput over loopback (loop {args.loop})")

    async def run_modes() -> None:
        for mode in modes:
            sent, rate = await run_mode(
                mode, args.size, args.chunk_size, args.line_length
            )
            report.add(f"{mode} ({sent / MIB:.0f} MiB)", rate, "MiB/s")

    _harness.install_loop(args.loop)
    asyncio.run(run_modes())
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
