#!/usr/bin/env python3
"""Throughput of HTTP/1.x head parsing and the related parsers.

Each case parses the same input repeatedly for about ``--seconds`` and
reports operations per second and input megabytes per second:

* ``browser_head``: a typical browser request (start line and 12 headers)
  through ``parse_request_head``, as `tornado.http1connection` does;
* ``headers_only``: the same header block through `HTTPHeaders.parse`;
* ``many_headers``: a head with 1000 distinct headers;
* ``repeated_headers``: a head repeating one header 1000 times, then reading
  the combined value;
* ``cookies``: a ``Cookie`` header with 200 cookies through `parse_cookie`;
* ``chunked``: a 1 MB chunked body (4 KB chunks) through `ChunkedDecoder`.

``--cases=browser_head,cookies`` runs a subset.  There are no targets.  Run
from anywhere::

    python maint/benchmark/parsing_benchmark.py [--seconds=1] [--cases=...] [--json]
"""

import sys
import time
from collections.abc import Callable

import _harness

from tornado._http1wire import (
    LAST_CHUNK,
    ChunkedDecoder,
    encode_chunk,
    parse_request_head,
)
from tornado.httputil import HTTPHeaders, parse_cookie

BROWSER_HEAD = (
    b"GET /articles/2024/parsing-http?page=2&sort=recent HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Referer: https://www.example.com/articles/2024\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; lang=en\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b'If-None-Match: "5d8c72a5edda8d6a"\r\n'
    b"\r\n"
)


def browser_head() -> tuple[Callable[[], object], int]:
    return lambda: parse_request_head(BROWSER_HEAD), len(BROWSER_HEAD)


def headers_only() -> tuple[Callable[[], object], int]:
    text = BROWSER_HEAD.decode("latin1").partition("\r\n")[2]
    return lambda: HTTPHeaders.parse(text), len(text)


def many_headers() -> tuple[Callable[[], object], int]:
    head = b"GET / HTTP/1.1\r\n" + b"".join(
        b"X-Custom-Header-%d: some value %d\r\n" % (i, i) for i in range(1000)
    )
    head += b"\r\n"
    return lambda: parse_request_head(head), len(head)


def repeated_headers() -> tuple[Callable[[], object], int]:
    head = b"GET / HTTP/1.1\r\n" + b"X-Forwarded-For: 192.0.2.1\r\n" * 1000 + b"\r\n"

    def parse() -> str:
        return parse_request_head(head)[1]["X-Forwarded-For"]

    return parse, len(head)


def cookies() -> tuple[Callable[[], object], int]:
    header = "; ".join(f"cookie{i}=value{i}" for i in range(200))
    return lambda: parse_cookie(header), len(header)


def chunked() -> tuple[Callable[[], object], int]:
    body = b"".join(encode_chunk(b"x" * 4096) for _ in range(256)) + LAST_CHUNK

    def decode() -> object:
        return ChunkedDecoder().feed(body)

    return decode, len(body)


CASES: dict[str, Callable[[], tuple[Callable[[], object], int]]] = {
    "browser_head": browser_head,
    "headers_only": headers_only,
    "many_headers": many_headers,
    "repeated_headers": repeated_headers,
    "cookies": cookies,
    "chunked": chunked,
}


def measure(func: Callable[[], object], seconds: float) -> float:
    """Operations per second of ``func``, timed for about ``seconds``."""
    iterations = 1
    while True:
        start = time.perf_counter()
        for _ in range(iterations):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return iterations / elapsed
        # Aim straight for the target duration on the next round.
        iterations = max(iterations * 2, int(iterations * seconds / max(elapsed, 1e-6)))


def main() -> int:
    parser = _harness.common_options(__doc__.split("\n")[0], loop=False)
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="time spent on each case"
    )
    parser.add_argument(
        "--cases", default="", help="comma-separated cases to run (default: all)"
    )
    args = parser.parse_args()
    names = [n for n in args.cases.split(",") if n] or list(CASES)
    unknown = set(names) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    report = _harness.Report("HTTP/1 parsing throughput")
    for name in names:
        func, size = CASES[name]()
        ops = measure(func, args.seconds)
        report.add(f"{name} operations", ops, "ops/s")
        report.add(f"{name} input", ops * size / 1e6, "MB/s")
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
