"""Child process of curl_httpclient_test: the memory a streamed bomb costs.

``python -m tornado.test.curl_bomb ENCODING MIB`` serves, on loopback, a
response body of MIB mebibytes of zeros compressed with ENCODING (``gzip``
or ``br``), streams it through `.CurlAsyncHTTPClient` with a
``streaming_callback`` that only counts, and prints a JSON object: the
bytes the callback got and the growth of the process's peak resident set
size (``ru_maxrss``) during that fetch, in KiB. A fresh process gives a
clean measure: nothing else ran in it that could have raised the peak.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import zlib
from typing import Any

from tornado.curl_httpclient import CurlAsyncHTTPClient
from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpserver import TCPServer
from tornado.testing import bind_unused_port

_MIB = 1024 * 1024


def compressed_zeros(encoding: str, size: int) -> bytes:
    """``size`` zero bytes, compressed with ``encoding``, built piece by piece."""
    block = bytes(_MIB)
    if encoding == "gzip":
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        parts = [compressor.compress(block) for _ in range(size // _MIB)]
        return b"".join(parts) + compressor.flush()
    import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]

    brotli_compressor = brotli.Compressor(quality=5)
    pieces: list[bytes] = [
        brotli_compressor.process(block) for _ in range(size // _MIB)
    ]
    pieces.append(brotli_compressor.finish())
    return b"".join(pieces)


class BombServer(TCPServer):
    """Answers every request with the same encoded body."""

    def __init__(self, encoding: str, body: bytes) -> None:
        super().__init__()
        self.head = (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
            % (encoding.encode(), len(body))
        )
        self.body = body

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        try:
            await stream.read_until(b"\r\n\r\n")
            await stream.write(self.head + self.body)
        except StreamClosedError:
            pass
        stream.close()


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def measure(encoding: str, size: int) -> dict[str, int]:
    small = BombServer(encoding, compressed_zeros(encoding, _MIB))
    bomb = BombServer(encoding, compressed_zeros(encoding, size))
    urls = []
    for server in (small, bomb):
        sock, port = bind_unused_port()
        server.add_sockets([sock])
        urls.append(f"http://127.0.0.1:{port}/")
    client = CurlAsyncHTTPClient(force_instance=True, max_body_size=2 * size)
    received = 0

    def count(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)

    # A small fetch first, so that what is allocated once is not counted.
    await client.fetch(urls[0], streaming_callback=count, request_timeout=60)
    received = 0
    before = peak_kib()
    await client.fetch(urls[1], streaming_callback=count, request_timeout=60)
    growth = peak_kib() - before
    client.close()
    return {"received": received, "growth_kib": growth}


def main() -> None:
    encoding, mebibytes = sys.argv[1], int(sys.argv[2])
    print(json.dumps(asyncio.run(measure(encoding, mebibytes * _MIB))))


if __name__ == "__main__":
    main()
