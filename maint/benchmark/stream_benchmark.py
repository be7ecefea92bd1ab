#!/usr/bin/env python3
"""Stream throughput over loopback TCP.

Sends ``--size`` bytes (1 GiB by default) from one `IOStream` to another in
the same process and reports MiB/s for two ways of reading:

* ``bytes``: ``read_bytes(--chunk-size)`` (64 KiB) until everything arrived;
* ``lines``: ``read_until(b"\\n")`` over lines of ``--line-length`` bytes.

Run a short version with e.g. ``--size=64M``.  ``--modes=bytes`` runs only one.
"""

import asyncio
import socket
import time

from tornado.iostream import IOStream
from tornado.netutil import add_accept_handler, bind_sockets
from tornado.options import define, options, parse_command_line

define(
    "size", default="1G", help="bytes to send per mode, with an optional K/M/G suffix"
)
define("chunk_size", default=64 * 1024, help="bytes per read_bytes() in bytes mode")
define("line_length", default=1024, help="bytes per line (newline included)")
define("modes", default="bytes,lines", help="comma-separated: bytes, lines")

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


async def receive_bytes(stream: IOStream, total: int) -> int:
    received = 0
    while received < total:
        chunk = await stream.read_bytes(min(options.chunk_size, total - received))
        received += len(chunk)
    return received


async def receive_lines(stream: IOStream, total: int) -> int:
    received = 0
    while received < total:
        received += len(await stream.read_until(b"\n"))
    return received


async def run_mode(mode: str, total: int) -> float:
    """Transfer ``total`` bytes in ``mode``; return MiB/s."""
    client, server = await connected_pair()
    line = b"x" * (options.line_length - 1) + b"\n"
    block = line * max(1, (256 * 1024) // len(line))
    total -= total % len(line)  # whole lines only, so both modes agree
    receiver = receive_bytes if mode == "bytes" else receive_lines
    start = time.perf_counter()
    received, _ = await asyncio.gather(
        receiver(server, total), send(client, block, total)
    )
    elapsed = time.perf_counter() - start
    client.close()
    server.close()
    assert received == total, (received, total)
    return total / MIB / elapsed


async def main() -> None:
    parse_command_line()
    total = parse_size(options.size)
    for mode in options.modes.split(","):
        if mode not in ("bytes", "lines"):
            raise SystemExit(f"unknown mode {mode!r}; use bytes and/or lines")
        rate = await run_mode(mode, total)
        print(f"{mode:>5}: {total / MIB:.0f} MiB at {rate:.1f} MiB/s")


if __name__ == "__main__":
    asyncio.run(main())
