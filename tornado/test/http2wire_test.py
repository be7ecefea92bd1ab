"""The pure HTTP/2 helpers of `tornado._http2_wire`, without a connection."""

from __future__ import annotations

import struct
import unittest
from collections.abc import Callable

from tornado import _http2_wire as wire
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPOutputError,
    ResponseStartLine,
)
from tornado.test.util import assert_roughly_linear

try:
    import hyperframe.frame
except ImportError as e:  # development dependencies: fail loudly, never skip
    raise ImportError(
        f'the HTTP/2 tests need the "h2" package (pip install "tornado[http2]"): {e}'
    ) from e


def frame(kind: int, length: int, flags: int = 0, stream_id: int = 1) -> bytes:
    """A frame of ``length`` zero bytes."""
    header = struct.pack(
        ">BHBBL", length >> 16, length & 0xFFFF, kind, flags, stream_id
    )
    return header + bytes(length)


class FrameScannerTest(unittest.TestCase):
    def scanner(
        self, max_frame: int = 16384, max_block: int = 1000
    ) -> wire.FrameScanner:
        return wire.FrameScanner(max_frame, max_block)

    def test_preface_and_frames_in_any_pieces(self) -> None:
        stream = (
            wire.PREFACE
            + frame(0x4, 0, stream_id=0)  # SETTINGS
            + frame(wire.HEADERS, 900, wire.END_HEADERS)
            + frame(wire.DATA, 16384)
            + frame(wire.HEADERS, 500)
            + frame(wire.CONTINUATION, 499, wire.END_HEADERS)
        )
        for size in (1, 2, 7, 9, 10, 4096, len(stream)):
            with self.subTest(size=size):
                scanner = self.scanner()
                for start in range(0, len(stream), size):
                    scanner.feed(stream[start : start + size])

    def test_frame_over_the_size_limit(self) -> None:
        scanner = self.scanner()
        scanner.feed(wire.PREFACE)
        # Refused from its 9-byte header, before any payload arrives.
        with self.assertRaises(wire.FrameLimitError) as caught:
            scanner.feed(frame(wire.DATA, 16385)[:9])
        self.assertEqual(caught.exception.error_code, wire.FRAME_SIZE_ERROR)
        self.assertEqual(
            str(caught.exception), "frame of 16385 bytes, over the limit of 16384"
        )

    def test_header_block_limit_counts_continuations(self) -> None:
        scanner = self.scanner()
        scanner.feed(wire.PREFACE + frame(wire.HEADERS, 400))
        scanner.feed(frame(wire.CONTINUATION, 400))
        with self.assertRaises(wire.FrameLimitError) as caught:
            scanner.feed(frame(wire.CONTINUATION, 201)[:9])
        self.assertEqual(caught.exception.error_code, wire.ENHANCE_YOUR_CALM)
        self.assertEqual(str(caught.exception), "header block over 1000 bytes")

    def test_each_block_has_its_own_budget(self) -> None:
        scanner = self.scanner()
        scanner.feed(wire.PREFACE)
        for _ in range(10):
            scanner.feed(frame(wire.HEADERS, 600))
            scanner.feed(frame(wire.CONTINUATION, 400, wire.END_HEADERS))
            scanner.feed(frame(wire.DATA, 5000))
        # A push promise opens a block too.
        with self.assertRaises(wire.FrameLimitError):
            scanner.feed(frame(wire.PUSH_PROMISE, 1001))

    def test_empty_continuations_end_nowhere_but_are_bounded_by_frames(self) -> None:
        scanner = self.scanner(max_block=100)
        scanner.feed(wire.PREFACE + frame(wire.HEADERS, 100))
        # Zero-length CONTINUATION frames add nothing; h2 bounds their number.
        scanner.feed(frame(wire.CONTINUATION, 0) * 1000)
        with self.assertRaises(wire.FrameLimitError):
            scanner.feed(frame(wire.CONTINUATION, 1))

    def test_linear_time(self) -> None:
        def run(count: int) -> Callable[[], object]:
            data = wire.PREFACE + frame(wire.DATA, 16) * count

            def scan() -> None:
                self.scanner().feed(data)

            return scan

        assert_roughly_linear(self, run, 500)


class GoawayTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        data = wire.goaway_frame(7, wire.NO_ERROR, b"bye")
        parsed, length = hyperframe.frame.Frame.parse_frame_header(memoryview(data[:9]))
        parsed.parse_body(memoryview(data[9 : 9 + length]))
        assert isinstance(parsed, hyperframe.frame.GoAwayFrame)
        self.assertEqual(len(data), 9 + length)
        self.assertEqual(
            (parsed.last_stream_id, parsed.error_code, parsed.additional_data),
            (7, 0, b"bye"),
        )

    def test_error_names(self) -> None:
        self.assertEqual(wire.error_name(0xB), "ENHANCE_YOUR_CALM")
        self.assertEqual(wire.error_name(0x1), "PROTOCOL_ERROR")
        self.assertEqual(wire.error_name(0x99), "0x99")


class TokenBucketTest(unittest.TestCase):
    def test_burst_then_rate(self) -> None:
        bucket = wire.TokenBucket(capacity=3, rate=2.0, now=100.0)
        self.assertEqual([bucket.take(100.0) for _ in range(4)], [True] * 3 + [False])
        self.assertTrue(bucket.take(100.5))  # one token back after half a second
        self.assertFalse(bucket.take(100.5))
        self.assertEqual([bucket.take(200.0) for _ in range(4)], [True] * 3 + [False])

    def test_give_is_capped(self) -> None:
        bucket = wire.TokenBucket(capacity=2, rate=0.0, now=0.0)
        bucket.give(10)
        self.assertEqual([bucket.take(0.0) for _ in range(3)], [True, True, False])
        bucket.give()
        self.assertTrue(bucket.take(0.0))

    def test_clock_going_back_gives_nothing(self) -> None:
        bucket = wire.TokenBucket(capacity=1, rate=1.0, now=10.0)
        self.assertTrue(bucket.take(10.0))
        self.assertFalse(bucket.take(5.0))


def fields(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin1"), value.encode("latin1")) for name, value in pairs]


REQUEST = (
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com:8443"),
    (":path", "/a?b=c"),
)


class RequestHeadTest(unittest.TestCase):
    def test_pseudo_headers(self) -> None:
        head = wire.request_head(
            fields(*REQUEST, ("accept", "*/*"), ("x-many", "1"), ("x-many", "2"))
        )
        self.assertEqual(tuple(head.start_line), ("GET", "/a?b=c", "HTTP/2.0"))
        self.assertEqual(head.scheme, "https")
        self.assertEqual(head.headers["Host"], "example.com:8443")
        self.assertEqual(head.headers["Accept"], "*/*")
        self.assertEqual(head.headers.get_list("X-Many"), ["1", "2"])
        self.assertNotIn(":path", head.headers)

    def test_authority_replaces_host(self) -> None:
        head = wire.request_head(fields(("host", "other"), *REQUEST))
        self.assertEqual(head.headers.get_list("Host"), ["example.com:8443"])
        head = wire.request_head(
            fields((":method", "GET"), (":path", "/"), ("host", "h"))
        )
        self.assertEqual(head.headers["Host"], "h")

    def test_connect_targets_the_authority(self) -> None:
        head = wire.request_head(
            fields((":method", "CONNECT"), (":authority", "h:443"))
        )
        self.assertEqual(tuple(head.start_line), ("CONNECT", "h:443", "HTTP/2.0"))

    def test_latin1(self) -> None:
        head = wire.request_head([*fields(*REQUEST), (b"x-bytes", b"caf\xe9")])
        self.assertEqual(head.headers["X-Bytes"], "caf\xe9")

    def test_malformed(self) -> None:
        cases = [
            fields((":path", "/")),
            fields((":method", "GET")),
            fields((":method", "G T"), (":path", "/")),
            fields((":method", "GET"), (":path", "/a b")),
            fields((":method", "GET"), (":path", "/"), (":authority", "a/b")),
            fields((":method", "GET"), (":path", "/"), ("host", "a"), ("host", "b")),
            fields(*REQUEST, ("x-bad", "a\x01b")),
        ]
        for case in cases:
            with self.subTest(case=case), self.assertRaises(HTTPInputError):
                wire.request_head(case)


class ResponseFieldsTest(unittest.TestCase):
    def test_status_first_names_lowercase(self) -> None:
        headers = HTTPHeaders({"Content-Type": "text/plain", "X-Id": "7"})
        headers.add("Set-Cookie", "a=1")
        headers.add("Set-Cookie", "b=2")
        result = wire.response_fields(
            ResponseStartLine("HTTP/1.1", 404, "Nope"), headers
        )
        self.assertEqual(
            result,
            [
                (b":status", b"404"),
                (b"content-type", b"text/plain"),
                (b"x-id", b"7"),
                (b"set-cookie", b"a=1"),
                (b"set-cookie", b"b=2"),
            ],
        )

    def test_connection_specific_headers_left_out(self) -> None:
        headers = HTTPHeaders(
            {
                "Connection": "keep-alive",
                "Keep-Alive": "timeout=5",
                "Transfer-Encoding": "chunked",
                "Upgrade": "h2c",
                "Proxy-Connection": "close",
                "Content-Length": "3",
            }
        )
        result = wire.response_fields(ResponseStartLine("", 200, "OK"), headers)
        self.assertEqual(result, [(b":status", b"200"), (b"content-length", b"3")])

    def test_illegal_characters(self) -> None:
        headers = HTTPHeaders()
        headers._table()["X-Evil"] = "a\r\nb"  # set_header refuses this; be sure
        with self.assertRaises(ValueError):
            wire.response_fields(ResponseStartLine("", 200, "OK"), headers)


class LengthTest(unittest.TestCase):
    def test_declared_length(self) -> None:
        self.assertIsNone(wire.declared_length(HTTPHeaders()))
        self.assertEqual(
            wire.declared_length(HTTPHeaders({"Content-Length": "12"})), 12
        )
        with self.assertRaises(HTTPOutputError):
            wire.declared_length(HTTPHeaders({"Content-Length": "-1"}))

    def test_requested_length(self) -> None:
        self.assertIsNone(wire.requested_length(HTTPHeaders()))
        self.assertEqual(wire.requested_length(HTTPHeaders({"Content-Length": "5"})), 5)
        twice = HTTPHeaders()
        twice.add("Content-Length", "5")
        twice.add("Content-Length", "5")
        for headers in (HTTPHeaders({"Content-Length": "5x"}), twice):
            with self.subTest(headers=headers), self.assertRaises(HTTPInputError):
                wire.requested_length(headers)


if __name__ == "__main__":
    unittest.main()
