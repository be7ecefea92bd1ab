"""The HTTP/2 server against hostile clients, frame by frame.

Each test plays one attack over a raw connection, checks that the server
ends it with the right GOAWAY and a single log line, within bounded work
and memory, and that a normal request is served afterwards:

* rapid reset (CVE-2023-44487): streams opened and reset in a loop;
* CONTINUATION flood: a header block that never ends;
* HPACK bomb: a small header block that decodes to megabytes;
* PING and SETTINGS floods from a client that reads nothing;
* more streams than SETTINGS_MAX_CONCURRENT_STREAMS allows;
* a client that stops reading while its windows are open.

(A window that never opens is in ``http2_test.ConnectionTest``.)
"""

from __future__ import annotations

import asyncio
import logging
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

from tornado._http2_session import CONTROL_BURST, RESET_BURST
from tornado.log import gen_log
from tornado.test import http2_test
from tornado.test.asgi_util import RecordCounter
from tornado.test.http2_test import request_headers
from tornado.test.http2_util import TEST_TIMEOUT, FrameClient
from tornado.test.util import report_figure
from tornado.testing import ExpectLog, gen_test

try:
    import h2.errors
    import h2.settings
    import hpack
    import hyperframe.frame
except ImportError as e:  # development dependencies: fail loudly, never skip
    raise ImportError(
        f'the HTTP/2 tests need the "h2" package (pip install "tornado[http2]"): {e}'
    ) from e

ENHANCE_YOUR_CALM = h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
CALM_DOWN = "HTTP/2 connection from 127.0.0.1 closed with ENHANCE_YOUR_CALM: "
MiB = 1024 * 1024


class TracedMemory:
    """The peak of Python's allocations inside an ``async with`` block."""

    peak = 0

    async def __aenter__(self) -> TracedMemory:
        self._was_tracing = tracemalloc.is_tracing()
        if not self._was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self._before = tracemalloc.get_traced_memory()[0]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.peak = tracemalloc.get_traced_memory()[1] - self._before
        if not self._was_tracing:
            tracemalloc.stop()


class HostileClientBase(http2_test.H2TestCase):
    """Helpers of the attacks (no test of its own)."""

    async def expect_goaway(
        self,
        client: FrameClient,
        error_code: int,
        message: str,
        attack: Callable[[], Awaitable[None]],
        level: int = logging.WARNING,
    ) -> Any:
        """Run ``attack``; the server logs ``message`` once, then GOAWAY and closes."""
        counter = RecordCounter()
        gen_log.addFilter(counter)
        try:
            with ExpectLog(gen_log, message, level=level):
                sending = asyncio.ensure_future(attack())
                goaway = await client.frame_of(hyperframe.frame.GoAwayFrame)
                self.assertTrue(await client.closed_by_server())
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
        finally:
            gen_log.removeFilter(counter)
        self.assertEqual(goaway.error_code, error_code)
        self.assertEqual(
            len(counter.records), 1, [r.getMessage() for r in counter.records]
        )
        return goaway

    async def assert_still_serving(self) -> None:
        async with self.client() as client:
            response = await client.get(self.url("/info"))
        self.assertEqual(response.status_code, 200)

    async def write_until_closed(
        self, client: FrameClient, data: bytes, times: int
    ) -> None:
        try:
            for _ in range(times):
                await client.write(data)
        except (ConnectionError, RuntimeError):
            pass  # the server closed the connection


class HostileClientTest(HostileClientBase):
    @gen_test(timeout=TEST_TIMEOUT)
    async def test_rapid_reset(self) -> None:
        client = await self.connect()
        batches = []
        for first in range(1, 10000, 1000):  # 5,000 streams in 10 batches
            for stream_id in range(first, first + 1000, 2):
                client.h2.send_headers(
                    stream_id, request_headers("/wait"), end_stream=True
                )
                client.h2.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            batches.append(client.h2.data_to_send())

        async def attack() -> None:
            try:
                for batch in batches:
                    await client.write(batch)
            except (ConnectionError, RuntimeError):
                pass

        start = time.process_time()
        await self.expect_goaway(
            client, ENHANCE_YOUR_CALM, CALM_DOWN + "too many streams reset", attack
        )
        cpu = time.process_time() - start
        report_figure(
            "rapid reset: handlers started of 5000 streams", self.gates.started
        )
        report_figure("rapid reset: CPU seconds", cpu)
        # The application saw the streams of the budget, not the 5,000.
        self.assertGreater(self.gates.started, 0)
        self.assertLessEqual(self.gates.started, 2 * RESET_BURST)
        self.assertLess(cpu, 10)
        self.gates.release.set()
        await self.assert_still_serving()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_continuation_flood(self) -> None:
        client = await self.connect()
        headers = hyperframe.frame.HeadersFrame(1, data=b"\x82")  # :method GET
        continuation = hyperframe.frame.ContinuationFrame(1, data=b"\x40" * 16384)

        async def attack() -> None:
            await client.write(headers.serialize())
            # 16 MiB of header block if nothing stopped it.
            await self.write_until_closed(client, continuation.serialize(), 1024)

        async with TracedMemory() as memory:
            await self.expect_goaway(
                client,
                ENHANCE_YOUR_CALM,
                CALM_DOWN + "header block over 65536 bytes",
                attack,
            )
        report_figure("CONTINUATION flood: peak traced memory", memory.peak)
        report_figure("CONTINUATION flood: bytes sent", client.sent)
        self.assertLess(memory.peak, 4 * MiB)
        self.assertLess(client.sent, 16 * MiB)
        await self.assert_still_serving()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_hpack_bomb(self) -> None:
        client = await self.connect()
        encoder = hpack.Encoder()
        bomb = (b"x-bomb", b"a" * 4000)
        # A 4 KB field added to the dynamic table, then referred to with
        # one byte, 2000 times: 8 KB of header block, 8 MB decoded.
        block = encoder.encode(request_headers("/info") + [bomb] * 2000)
        self.assertLess(len(block), 16384)
        frame = hyperframe.frame.HeadersFrame(
            1, data=block, flags=["END_HEADERS", "END_STREAM"]
        )

        async def attack() -> None:
            await client.write(frame.serialize())

        async with TracedMemory() as memory:
            await self.expect_goaway(
                client, ENHANCE_YOUR_CALM, CALM_DOWN + "Oversized header block", attack
            )
        report_figure("HPACK bomb: peak traced memory", memory.peak)
        self.assertLess(memory.peak, 2 * MiB)
        await self.assert_still_serving()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_ping_flood(self) -> None:
        client = await self.connect()
        pings = b"".join(
            hyperframe.frame.PingFrame(0, opaque_data=b"%08d" % i).serialize()
            for i in range(20 * CONTROL_BURST)
        )

        async def attack() -> None:  # and reads nothing meanwhile
            await self.write_until_closed(client, pings, 1)

        await self.expect_goaway(
            client, ENHANCE_YOUR_CALM, CALM_DOWN + "too many PING or SETTINGS", attack
        )
        await self.assert_still_serving()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_settings_flood(self) -> None:
        client = await self.connect()
        settings = hyperframe.frame.SettingsFrame(
            0, settings={h2.settings.SettingCodes.ENABLE_PUSH: 0}
        ).serialize()

        async def attack() -> None:
            await self.write_until_closed(client, settings * 20 * CONTROL_BURST, 1)

        await self.expect_goaway(
            client, ENHANCE_YOUR_CALM, CALM_DOWN + "too many PING or SETTINGS", attack
        )
        await self.assert_still_serving()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_too_many_concurrent_streams(self) -> None:
        client = await self.connect()
        encoder = hpack.Encoder()
        frames = b"".join(
            hyperframe.frame.HeadersFrame(
                stream_id,
                data=encoder.encode(request_headers("/wait")),
                flags=["END_HEADERS"],
            ).serialize()
            for stream_id in range(1, 2 * 101, 2)
        )

        async def attack() -> None:
            await client.write(frames)

        await self.expect_goaway(
            client,
            h2.errors.ErrorCodes.PROTOCOL_ERROR,
            "HTTP/2 connection from 127.0.0.1 closed with PROTOCOL_ERROR: "
            "Max inbound streams is 100, 100 open",
            attack,
            level=logging.INFO,
        )
        self.gates.release.set()
        await self.assert_still_serving()


class StoppedReaderTest(HostileClientBase):
    def get_server_options(self) -> dict[str, Any]:
        return dict(idle_connection_timeout=0.5)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_client_that_stops_reading(self) -> None:
        client = await self.connect()
        client.h2.increment_flow_control_window(2**30)
        for stream_id in range(1, 21, 2):
            client.h2.send_headers(
                stream_id, request_headers("/big?size=50000000"), end_stream=True
            )
            client.h2.increment_flow_control_window(2**30, stream_id=stream_id)
        await client.frame_of(hyperframe.frame.SettingsFrame)  # it is served
        start = self.io_loop.time()
        with ExpectLog(
            gen_log,
            "HTTP/2 connection from 127.0.0.1 closed with NO_ERROR: no data taken",
            level=logging.INFO,
        ):
            async with TracedMemory() as memory:
                await client.flush()
                # Reads nothing more until the server gives up.
                await self.server.protocols[0].wait_closed()
        report_figure("stopped reader: seconds to close", self.io_loop.time() - start)
        report_figure("stopped reader: peak traced memory", memory.peak)
        self.assertLess(self.io_loop.time() - start, 10)
        self.assertLess(memory.peak, 32 * MiB)
        await self.assert_still_serving()
