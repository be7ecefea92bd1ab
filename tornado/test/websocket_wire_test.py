"""Tests for tornado._websocket_wire: frames, messages, close, handshake, deflate."""

from __future__ import annotations

import tracemalloc
import unittest
import zlib
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import _websocket_wire as wire
from tornado._websocket_wire import (
    OPCODE_BINARY,
    OPCODE_CLOSE,
    OPCODE_CONTINUATION,
    OPCODE_PING,
    OPCODE_PONG,
    OPCODE_TEXT,
    RSV1,
    RSV2,
    RSV3,
    DeflateParams,
    Frame,
    FrameParser,
    Message,
    MessageAssembler,
    MessageReader,
    NegotiationError,
    PerMessageDeflateCompressor,
    PerMessageDeflateDecompressor,
    ProtocolError,
    encode_frame,
)

KEY = bytes.fromhex("37fa213d")


def hello_frames() -> list[tuple[bytes, Frame]]:
    """The examples of RFC 6455 section 5.7, as (wire bytes, frame)."""
    return [
        (bytes.fromhex("810548656c6c6f"), Frame(True, 0, OPCODE_TEXT, b"Hello")),
        (bytes.fromhex("010348656c"), Frame(False, 0, OPCODE_TEXT, b"Hel")),
        (bytes.fromhex("80026c6f"), Frame(True, 0, OPCODE_CONTINUATION, b"lo")),
        (bytes.fromhex("890548656c6c6f"), Frame(True, 0, OPCODE_PING, b"Hello")),
    ]


def server_parser(**kwargs: Any) -> FrameParser:
    """A parser for frames coming from a client (masked)."""
    return FrameParser(expect_masked=True, **kwargs)


def client_parser(**kwargs: Any) -> FrameParser:
    """A parser for frames coming from a server (unmasked)."""
    return FrameParser(expect_masked=False, **kwargs)


class ProtocolErrorAssertions(unittest.TestCase):
    def assertProtocolError(
        self, code: int, regex: str, func: Callable[..., Any], *args: Any
    ) -> None:
        with self.assertRaisesRegex(ProtocolError, regex) as cm:
            func(*args)
        self.assertEqual(cm.exception.code, code)


class EncodeFrameTest(unittest.TestCase):
    def test_rfc_examples(self) -> None:
        for data, frame in hello_frames():
            with self.subTest(frame=frame):
                self.assertEqual(
                    encode_frame(frame.opcode, frame.payload, fin=frame.fin), data
                )

    def test_masked_rfc_example(self) -> None:
        self.assertEqual(
            encode_frame(OPCODE_TEXT, b"Hello", mask=KEY),
            bytes.fromhex("818537fa213d7f9f4d5158"),
        )

    def test_random_mask(self) -> None:
        first = encode_frame(OPCODE_BINARY, b"x" * 20, mask=True)
        second = encode_frame(OPCODE_BINARY, b"x" * 20, mask=True)
        self.assertEqual(first[1], 0x80 | 20)
        self.assertNotEqual(first[2:], second[2:])

    def test_length_encodings(self) -> None:
        cases = [
            (125, bytes([0x82, 125])),
            (126, bytes.fromhex("827e007e")),
            (256, bytes.fromhex("827e0100")),
            (0xFFFF, bytes.fromhex("827effff")),
            (0x10000, bytes.fromhex("827f0000000000010000")),
        ]
        for length, header in cases:
            with self.subTest(length=length):
                data = encode_frame(OPCODE_BINARY, b"\0" * length)
                self.assertEqual(data[: len(header)], header)
                self.assertEqual(len(data), len(header) + length)

    def test_rsv_bits(self) -> None:
        self.assertEqual(encode_frame(OPCODE_TEXT, b"", rsv=RSV1)[0], 0xC1)
        self.assertEqual(
            encode_frame(OPCODE_TEXT, b"", rsv=RSV2 | RSV3, fin=False)[0], 0x31
        )

    def test_invalid_frames(self) -> None:
        cases: list[tuple[str, Callable[[], bytes]]] = [
            ("unknown websocket opcode 0x3", lambda: encode_frame(3, b"")),
            ("invalid reserved bits 0x80", lambda: encode_frame(1, b"", rsv=0x80)),
            ("cannot be fragmented", lambda: encode_frame(OPCODE_PING, b"", fin=False)),
            ("too long \\(126 > 125", lambda: encode_frame(OPCODE_PONG, b"x" * 126)),
            ("must be 4 bytes, got 3", lambda: encode_frame(1, b"a", mask=b"abc")),
        ]
        for regex, call in cases:
            with self.subTest(regex=regex):
                with self.assertRaisesRegex(ValueError, regex):
                    call()

    def test_encode_message(self) -> None:
        self.assertEqual(
            wire.encode_message(OPCODE_TEXT, "Hello"), bytes.fromhex("810548656c6c6f")
        )
        compressed = wire.encode_message(
            OPCODE_TEXT, "Hello", compressor=PerMessageDeflateCompressor()
        )
        self.assertEqual(compressed, bytes.fromhex("c107f248cdc9c90700"))
        ping = wire.encode_message(
            OPCODE_PING, b"p", compressor=PerMessageDeflateCompressor()
        )
        self.assertEqual(ping, bytes.fromhex("890170"))

    def test_parts_keep_the_payload_apart(self) -> None:
        payload = b"p" * 70000
        header, body = wire.encode_frame_parts(OPCODE_BINARY, payload)
        self.assertIs(body, payload)  # unmasked: not copied
        self.assertEqual(header, bytes.fromhex("827f0000000000011170"))
        self.assertEqual(header + body, encode_frame(OPCODE_BINARY, payload))
        header, body = wire.encode_frame_parts(OPCODE_TEXT, b"Hello", mask=KEY)
        self.assertEqual(header + body, bytes.fromhex("818537fa213d7f9f4d5158"))
        self.assertEqual(
            b"".join(wire.encode_message_parts(OPCODE_TEXT, "Hello", mask=KEY)),
            wire.encode_message(OPCODE_TEXT, "Hello", mask=KEY),
        )
        with self.assertRaisesRegex(ValueError, "unknown websocket opcode 0x3"):
            wire.encode_frame_parts(3, b"")


class FrameParserTest(ProtocolErrorAssertions):
    def test_rfc_examples(self) -> None:
        for data, frame in hello_frames():
            with self.subTest(frame=frame):
                self.assertEqual(client_parser().feed(data), [frame])

    def test_masked(self) -> None:
        data = bytes.fromhex("818537fa213d7f9f4d5158")
        self.assertEqual(server_parser().feed(data), [Frame(True, 0, 1, b"Hello")])

    def test_incremental(self) -> None:
        parser = client_parser()
        data = encode_frame(OPCODE_BINARY, b"y" * 300) + encode_frame(OPCODE_PING, b"")
        self.assertEqual(parser.feed(data[:1]), [])
        self.assertEqual(parser.feed(data[1:3]), [])
        self.assertEqual(parser.feed(data[3:100]), [])
        self.assertEqual(parser.buffered, 96)
        frames = parser.feed(data[100:])
        self.assertEqual(
            frames, [Frame(True, 0, 2, b"y" * 300), Frame(True, 0, 9, b"")]
        )
        self.assertEqual(parser.buffered, 0)

    def test_masking_rules(self) -> None:
        unmasked = encode_frame(OPCODE_TEXT, b"hi")
        masked = encode_frame(OPCODE_TEXT, b"hi", mask=True)
        self.assertProtocolError(
            1002, "unmasked frame from client", server_parser().feed, unmasked
        )
        self.assertProtocolError(
            1002, "masked frame from server", client_parser().feed, masked
        )

    def test_reserved_bits(self) -> None:
        for bit in (RSV1, RSV2, RSV3):
            with self.subTest(bit=bit):
                frame = encode_frame(OPCODE_TEXT, b"", rsv=bit)
                self.assertProtocolError(
                    1002, "reserved bits", client_parser().feed, frame
                )
        frame = encode_frame(OPCODE_TEXT, b"", rsv=RSV1)
        self.assertEqual(client_parser(allowed_rsv=RSV1).feed(frame)[0].rsv, RSV1)
        frame = encode_frame(OPCODE_TEXT, b"", rsv=RSV2)
        self.assertProtocolError(
            1002, "reserved bits", client_parser(allowed_rsv=RSV1).feed, frame
        )

    def test_unknown_opcodes(self) -> None:
        for opcode in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]:
            with self.subTest(opcode=opcode):
                data = bytes([0x80 | opcode, 0])
                self.assertProtocolError(
                    1002, "unknown opcode", client_parser().feed, data
                )

    def test_control_frame_rules(self) -> None:
        fragmented_ping = bytes([OPCODE_PING, 0])
        self.assertProtocolError(
            1002, "fragmented control frame", client_parser().feed, fragmented_ping
        )
        # Only the header of a 126-byte close frame: rejected before the payload.
        long_close = bytes([0x80 | OPCODE_CLOSE, 126, 0, 126])
        self.assertProtocolError(1002, "too long", client_parser().feed, long_close)

    def test_length_with_top_bit(self) -> None:
        data = bytes([0x82, 127]) + (1 << 63).to_bytes(8, "big")
        self.assertProtocolError(
            1002, "most significant bit", client_parser().feed, data
        )

    def test_max_payload_checked_on_header(self) -> None:
        header = encode_frame(OPCODE_BINARY, b"z" * 1001)[:4]
        self.assertProtocolError(
            1009, "1001 bytes", client_parser(max_payload=1000).feed, header
        )
        self.assertEqual(
            len(
                client_parser(max_payload=1001).feed(
                    encode_frame(OPCODE_BINARY, b"z" * 1001)
                )
            ),
            1,
        )

    def test_header_check_hook(self) -> None:
        seen: list[wire.FrameHeader] = []
        parser = server_parser(header_check=seen.append)
        parser.feed(encode_frame(OPCODE_TEXT, b"abc", mask=KEY)[:6])
        self.assertEqual(seen, [wire.FrameHeader(True, 0, OPCODE_TEXT, 3, KEY)])

    def test_payload_read_into_the_parser(self) -> None:
        for masked in (True, False):
            payload = bytes(range(256)) * 1200
            data = encode_frame(OPCODE_BINARY, payload, mask=KEY if masked else False)
            parser = server_parser() if masked else client_parser()
            with self.subTest(masked=masked):
                self.assertEqual(parser.payload_missing, 0)
                self.assertEqual(parser.feed(data[:1000]), [])
                self.assertEqual(parser.payload_missing, len(data) - 1000)
                # The rest arrives in two direct reads.
                for start, end in ((1000, 200000), (200000, len(data))):
                    with parser.receive_into(end - start) as target:
                        target[:] = data[start:end]
                    self.assertEqual(parser.payload_missing, len(data) - end)
                self.assertEqual(parser.feed(b""), [Frame(True, 0, 2, payload)])
                self.assertEqual((parser.buffered, parser.payload_missing), (0, 0))

    def test_payload_missing_needs_a_whole_header(self) -> None:
        parser = client_parser()
        data = encode_frame(OPCODE_BINARY, b"q" * 70000)
        self.assertEqual(parser.feed(data[:5]), [])
        self.assertEqual(parser.payload_missing, 0)
        self.assertEqual(parser.feed(data[5:20]), [])
        self.assertEqual(parser.payload_missing, 70000 - 10)

    def test_stays_failed(self) -> None:
        parser = client_parser()
        self.assertProtocolError(1002, "unknown opcode", parser.feed, b"\x83\x00")
        self.assertProtocolError(1002, "unknown opcode", parser.feed, b"\x81\x00")


def fragments(opcode: int, payload: bytes, sizes: list[int], rsv: int = 0) -> bytes:
    """A message split into frames of the given sizes (the rest in the last)."""
    pieces = []
    pos = 0
    for size in sizes:
        pieces.append(payload[pos : pos + size])
        pos += size
    pieces.append(payload[pos:])
    out = b""
    for index, piece in enumerate(pieces):
        out += encode_frame(
            opcode if index == 0 else OPCODE_CONTINUATION,
            piece,
            fin=index == len(pieces) - 1,
            rsv=rsv if index == 0 else 0,
        )
    return out


class MessageReaderTest(ProtocolErrorAssertions):
    def reader(self, **kwargs: Any) -> MessageReader:
        return MessageReader(expect_masked=False, **kwargs)

    def test_single_frames(self) -> None:
        data = (
            encode_frame(OPCODE_TEXT, "héllo".encode())
            + encode_frame(OPCODE_BINARY, b"\xff\x00")
            + encode_frame(OPCODE_PONG, b"pp")
        )
        self.assertEqual(
            self.reader().feed(data),
            [Message(1, "héllo"), Message(2, b"\xff\x00"), Message(OPCODE_PONG, b"pp")],
        )

    def test_fragmented_with_interleaved_control_frames(self) -> None:
        data = (
            encode_frame(OPCODE_TEXT, b"Hel", fin=False)
            + encode_frame(OPCODE_PING, b"1")
            + encode_frame(OPCODE_CONTINUATION, b"l", fin=False)
            + encode_frame(OPCODE_PONG, b"2")
            + encode_frame(OPCODE_CONTINUATION, b"o")
        )
        reader = self.reader()
        self.assertEqual(
            reader.feed(data),
            [
                Message(OPCODE_PING, b"1"),
                Message(OPCODE_PONG, b"2"),
                Message(1, "Hello"),
            ],
        )
        self.assertFalse(reader.assembler.in_message)

    def test_empty_fragments(self) -> None:
        data = fragments(OPCODE_BINARY, b"", [0, 0])
        self.assertEqual(self.reader().feed(data), [Message(2, b"")])

    def test_continuation_without_start(self) -> None:
        data = encode_frame(OPCODE_CONTINUATION, b"x")
        self.assertProtocolError(
            1002, "continuation frame without", self.reader().feed, data
        )

    def test_new_message_inside_fragmented_one(self) -> None:
        reader = self.reader()
        reader.feed(encode_frame(OPCODE_TEXT, b"a", fin=False))
        # The header alone is enough to detect it.
        header = encode_frame(OPCODE_BINARY, b"bb")[:2]
        self.assertProtocolError(1002, "new message started", reader.feed, header)

    def test_rsv1_needs_decompressor(self) -> None:
        data = encode_frame(OPCODE_TEXT, b"x", rsv=RSV1)
        self.assertProtocolError(1002, "reserved bits", self.reader().feed, data)

    def test_rsv1_only_on_first_frame_of_data_message(self) -> None:
        cases = [
            encode_frame(OPCODE_PING, b"", rsv=RSV1),
            encode_frame(OPCODE_TEXT, b"", fin=False)
            + encode_frame(OPCODE_CONTINUATION, b"", rsv=RSV1),
        ]
        for data in cases:
            with self.subTest(data=data):
                reader = self.reader(decompressor=PerMessageDeflateDecompressor())
                self.assertProtocolError(1002, "reserved bits", reader.feed, data)

    def test_max_message_size_single_frame(self) -> None:
        reader = self.reader(max_message_size=10)
        self.assertEqual(
            reader.feed(encode_frame(OPCODE_BINARY, b"x" * 10)), [Message(2, b"x" * 10)]
        )
        header = encode_frame(OPCODE_BINARY, b"x" * 11)[:2]
        self.assertProtocolError(1009, "exceeds 10 bytes", reader.feed, header)

    def test_max_message_size_fragmented(self) -> None:
        reader = self.reader(max_message_size=10)
        reader.feed(encode_frame(OPCODE_BINARY, b"x" * 6, fin=False))
        reader.feed(encode_frame(OPCODE_PING, b"control frames don't count"))
        header = encode_frame(OPCODE_CONTINUATION, b"x" * 5)[:2]
        self.assertProtocolError(1009, "exceeds 10 bytes", reader.feed, header)

    def test_max_message_size_after_decompression(self) -> None:
        payload = PerMessageDeflateCompressor().compress(b"a" * 1000)
        self.assertLess(len(payload), 100)
        reader = self.reader(
            max_message_size=999, decompressor=PerMessageDeflateDecompressor()
        )
        data = encode_frame(OPCODE_BINARY, payload, rsv=RSV1)
        self.assertProtocolError(1009, "exceeds 999 bytes", reader.feed, data)

    def test_invalid_utf8(self) -> None:
        for data in [
            encode_frame(OPCODE_TEXT, b"\xff"),
            encode_frame(OPCODE_TEXT, b"\xed\xa0\x80"),  # a surrogate
            encode_frame(OPCODE_TEXT, b"\xc3"),  # truncated
        ]:
            with self.subTest(data=data):
                self.assertProtocolError(
                    1007, "invalid UTF-8", self.reader().feed, data
                )

    def test_truncated_utf8_at_message_end(self) -> None:
        data = fragments(OPCODE_TEXT, b"ok\xc3", [1])
        self.assertProtocolError(1007, "invalid UTF-8", self.reader().feed, data)

    def test_utf8_split_across_fragments(self) -> None:
        data = fragments(OPCODE_TEXT, "aé€😀".encode(), [2, 2, 3])
        self.assertEqual(self.reader().feed(data), [Message(1, "aé€😀")])

    def test_invalid_utf8_detected_before_message_ends(self) -> None:
        reader = self.reader()
        first = encode_frame(OPCODE_TEXT, b"ok\xff", fin=False)
        self.assertProtocolError(1007, "invalid UTF-8", reader.feed, first)

    def test_binary_not_validated(self) -> None:
        data = fragments(OPCODE_BINARY, b"\xff\xfe", [1])
        self.assertEqual(self.reader().feed(data), [Message(2, b"\xff\xfe")])

    def test_compressed_fragmented_message(self) -> None:
        text = "compress me " * 50
        payload = PerMessageDeflateCompressor().compress(text.encode())
        data = fragments(OPCODE_TEXT, payload, [3, 1, 10], rsv=RSV1)
        reader = self.reader(decompressor=PerMessageDeflateDecompressor())
        self.assertEqual(reader.feed(data), [Message(1, text)])

    def test_assembler_checks_frames_alone(self) -> None:
        assembler = MessageAssembler()
        self.assertIsNone(assembler.add(Frame(False, 0, OPCODE_BINARY, b"a")))
        self.assertTrue(assembler.in_message)
        self.assertProtocolError(
            1002, "new message", assembler.add, Frame(True, 0, OPCODE_TEXT, b"")
        )


class SmallFrameFastPathTest(ProtocolErrorAssertions):
    """`MessageReader.next_message` takes common frames by a shortcut.

    The shortcut must give exactly what the general path gives, and leave
    every other frame (and every error) to it.
    """

    def test_small_masked_frames(self) -> None:
        reader = MessageReader(expect_masked=True)
        data = encode_frame(OPCODE_TEXT, "héllo".encode(), mask=KEY) + encode_frame(
            OPCODE_BINARY, b"\x00" * 125, mask=KEY
        )
        self.assertEqual(
            reader.feed(data), [Message(1, "héllo"), Message(2, b"\x00" * 125)]
        )
        self.assertEqual(reader.parser.buffered, 0)

    def test_frame_split_across_reads(self) -> None:
        reader = MessageReader(expect_masked=True)
        data = encode_frame(OPCODE_TEXT, b"split", mask=KEY)
        for cut in range(len(data)):
            self.assertEqual(reader.feed(data[:cut]), [])
            self.assertEqual(reader.feed(data[cut:]), [Message(1, "split")])

    def test_shortcut_matches_general_path(self) -> None:
        frames = [
            encode_frame(OPCODE_TEXT, b"a" * 125),
            encode_frame(OPCODE_TEXT, b"b" * 126),
            encode_frame(OPCODE_PING, b"p"),
            encode_frame(OPCODE_BINARY, b"frag", fin=False),
            encode_frame(OPCODE_CONTINUATION, b"ment"),
            encode_frame(OPCODE_BINARY, b""),
        ]
        expected = [
            Message(1, "a" * 125),
            Message(1, "b" * 126),
            Message(OPCODE_PING, b"p"),
            Message(2, b"fragment"),
            Message(2, b""),
        ]
        self.assertEqual(
            MessageReader(expect_masked=False).feed(b"".join(frames)), expected
        )
        general = MessageReader(expect_masked=False)
        messages = []
        for frame in frames:
            general.parser.receive_data(frame)
            while (parsed := general.parser.next_frame()) is not None:
                message = general.assembler.add(parsed)
                if message is not None:
                    messages.append(message)
        self.assertEqual(messages, expected)

    def test_errors_still_raised(self) -> None:
        cases = [
            (encode_frame(OPCODE_TEXT, b"x"), "unmasked frame from client", 1002),
            (encode_frame(OPCODE_TEXT, b"\xff", mask=KEY), "invalid UTF-8", 1007),
            (encode_frame(OPCODE_TEXT, b"x" * 11, mask=KEY), "exceeds 10 bytes", 1009),
            (
                encode_frame(OPCODE_TEXT, b"x", rsv=RSV2, mask=KEY),
                "reserved bits",
                1002,
            ),
        ]
        for data, message, code in cases:
            with self.subTest(message=message):
                reader = MessageReader(expect_masked=True, max_message_size=10)
                self.assertProtocolError(code, message, reader.feed, data)

    def test_text_inside_fragmented_message_is_an_error(self) -> None:
        reader = MessageReader(expect_masked=False)
        reader.feed(encode_frame(OPCODE_TEXT, b"start", fin=False))
        again = encode_frame(OPCODE_TEXT, b"again")
        self.assertProtocolError(1002, "new message started", reader.feed, again)

    def test_failed_parser_stays_failed(self) -> None:
        reader = MessageReader(expect_masked=True)
        unmasked = encode_frame(OPCODE_TEXT, b"x")
        self.assertProtocolError(1002, "unmasked", reader.feed, unmasked)
        masked = encode_frame(OPCODE_TEXT, b"y", mask=KEY)
        self.assertProtocolError(1002, "unmasked", reader.feed, masked)

    def test_frame_header(self) -> None:
        self.assertEqual(wire.frame_header(0x81, 5), b"\x81\x05")
        self.assertEqual(wire.frame_header(0x82, 126, masked=True), b"\x82\xfe\x00\x7e")
        self.assertEqual(
            wire.frame_header(0x02, 1 << 16), b"\x02\x7f" + (1 << 16).to_bytes(8, "big")
        )


class ReceiveIntoReuseTest(unittest.TestCase):
    """A large buffer is reused by the next `FrameParser.receive_into`."""

    def receive_large_frame(self, parser: FrameParser, payload: bytes) -> Frame:
        data = encode_frame(OPCODE_BINARY, payload)
        parser.receive_data(data[:10])
        self.assertIsNone(parser.next_frame())
        missing = parser.payload_missing
        with parser.receive_into(missing) as target:
            target[:] = data[10:]
        frame = parser.next_frame()
        assert frame is not None
        self.assertIsNone(parser.next_frame())
        return frame

    def test_reuse_keeps_data_intact(self) -> None:
        parser = client_parser()
        sizes = [200_000, 150_000, 300_000, 70_000]
        for size in sizes:
            payload = bytes([size % 251]) * size
            self.assertEqual(self.receive_large_frame(parser, payload).payload, payload)
            self.assertEqual(parser.buffered, 0)

    def test_frame_after_reuse(self) -> None:
        parser = client_parser()
        self.receive_large_frame(parser, b"x" * 100_000)
        self.assertEqual(
            parser.feed(encode_frame(OPCODE_TEXT, b"small")),
            [Frame(True, 0, OPCODE_TEXT, b"small")],
        )


class CloseTest(ProtocolErrorAssertions):
    def test_encode(self) -> None:
        self.assertEqual(wire.encode_close_payload(), b"")
        self.assertEqual(wire.encode_close_payload(1001), b"\x03\xe9")
        self.assertEqual(
            wire.encode_close_payload(4000, "bye é"), b"\x0f\xa0bye \xc3\xa9"
        )
        self.assertEqual(wire.encode_close_payload(reason="x"), b"\x03\xe8x")

    def test_encode_errors(self) -> None:
        with self.assertRaisesRegex(ValueError, "invalid close code 1005"):
            wire.encode_close_payload(1005)
        with self.assertRaisesRegex(ValueError, "too long \\(124 > 123"):
            wire.encode_close_payload(1000, "x" * 124)
        self.assertEqual(len(wire.encode_close_payload(1000, "x" * 123)), 125)

    def test_decode(self) -> None:
        self.assertEqual(wire.decode_close_payload(b""), (None, None))
        self.assertEqual(wire.decode_close_payload(b"\x03\xe8"), (1000, ""))
        self.assertEqual(wire.decode_close_payload(b"\x0f\xa0h\xc3\xa9"), (4000, "hé"))

    def test_valid_codes(self) -> None:
        for code in [
            1000,
            1001,
            1002,
            1003,
            1007,
            1008,
            1009,
            1010,
            1011,
            1012,
            1014,
            3000,
            4999,
        ]:
            self.assertTrue(wire.is_valid_close_code(code), code)
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]:
            with self.subTest(code=code):
                self.assertFalse(wire.is_valid_close_code(code))
                payload = code.to_bytes(2, "big")
                self.assertProtocolError(
                    1002, "invalid close code", wire.decode_close_payload, payload
                )

    def test_decode_errors(self) -> None:
        self.assertProtocolError(1002, "one byte", wire.decode_close_payload, b"\x03")
        self.assertProtocolError(
            1007, "invalid UTF-8", wire.decode_close_payload, b"\x03\xe8\xff"
        )


class HandshakeTest(unittest.TestCase):
    def test_accept_key(self) -> None:
        # The example of RFC 6455 section 1.3.
        self.assertEqual(
            wire.compute_accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        )

    def test_client_keys(self) -> None:
        key = wire.make_client_key()
        self.assertTrue(wire.is_valid_client_key(key))
        self.assertNotEqual(key, wire.make_client_key())
        self.assertTrue(wire.is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="))
        for bad in [
            "",
            "abc",
            "dGhlIHNhbXBsZQ==",
            "dGhlIHNhbXBsZSBub25jZQ=!",
            "é" * 24,
        ]:
            with self.subTest(key=bad):
                self.assertFalse(wire.is_valid_client_key(bad))


class ExtensionHeaderTest(unittest.TestCase):
    def test_parse(self) -> None:
        header = (
            'permessage-deflate; client_max_window_bits; server_max_window_bits="10",'
            " x-webkit-deflate-frame , foo;a=1 ;b"
        )
        self.assertEqual(
            wire.parse_extensions(header),
            [
                (
                    "permessage-deflate",
                    [
                        ("client_max_window_bits", None),
                        ("server_max_window_bits", "10"),
                    ],
                ),
                ("x-webkit-deflate-frame", []),
                ("foo", [("a", "1"), ("b", None)]),
            ],
        )
        self.assertEqual(wire.parse_extensions(""), [])
        self.assertEqual(wire.parse_extensions('a; q="x\\"y"'), [("a", [("q", 'x"y')])])

    def test_empty_list_elements_are_ignored(self) -> None:
        # RFC 9110 section 5.6.1: recipients skip empty elements.
        for header in ["a,", ", a", "a, ,", " , a ,, "]:
            with self.subTest(header=header):
                self.assertEqual(wire.parse_extensions(header), [("a", [])])
        self.assertEqual(wire.parse_extensions(" , "), [])

    def test_separators_inside_quotes(self) -> None:
        self.assertEqual(
            wire.parse_extensions('a; q="x,y;z" ; r = 1, b'),
            [("a", [("q", "x,y;z"), ("r", "1")]), ("b", [])],
        )

    def test_parse_errors(self) -> None:
        bad_headers = [
            "a;",
            ";a",
            "a;;b",
            "a b",
            "a=1",
            "a; b=",
            "a; b=c d",
            "é",
            'a; b="unterminated',
            'a; b="x"y',
            'a; "b"=1',
        ]
        for bad in bad_headers:
            with self.subTest(header=bad):
                with self.assertRaises(NegotiationError):
                    wire.parse_extensions(bad)

    def test_format(self) -> None:
        self.assertEqual(
            wire.format_extension("permessage-deflate", [("a", None), ("b", "9")]),
            "permessage-deflate; a; b=9",
        )
        self.assertEqual(
            wire.CLIENT_OFFER, "permessage-deflate; client_max_window_bits"
        )


class DeflateNegotiationTest(unittest.TestCase):
    def test_parse_params(self) -> None:
        params = wire.parse_deflate_params(
            [
                ("server_no_context_takeover", None),
                ("client_no_context_takeover", None),
                ("server_max_window_bits", "9"),
                ("client_max_window_bits", "15"),
            ],
            is_offer=False,
        )
        self.assertEqual(params, DeflateParams(True, True, 9, 15))
        self.assertEqual(
            params.to_header(),
            "permessage-deflate; server_no_context_takeover; "
            "client_no_context_takeover; server_max_window_bits=9; "
            "client_max_window_bits=15",
        )
        offer = wire.parse_deflate_params(
            [("client_max_window_bits", None)], is_offer=True
        )
        self.assertEqual(offer, DeflateParams())

    def test_bad_params(self) -> None:
        cases: list[tuple[wire.ExtensionParams, str]] = [
            ([("foo", None)], "unsupported permessage-deflate parameter 'foo'"),
            ([("server_no_context_takeover", "1")], "takes no value"),
            ([("client_no_context_takeover", None)] * 2, "duplicate"),
            ([("server_max_window_bits", None)], "needs a value"),
            ([("server_max_window_bits", "7")], "from 8 to 15, got 7"),
            ([("server_max_window_bits", "16")], "from 8 to 15, got 16"),
            ([("server_max_window_bits", "0x9")], "needs a value"),
            ([("server_max_window_bits", "١٠")], "needs a value"),
            ([("client_max_window_bits", None)], "needs a value"),
        ]
        for params, regex in cases:
            with self.subTest(params=params):
                with self.assertRaisesRegex(NegotiationError, regex):
                    wire.parse_deflate_params(params, is_offer=False)

    def test_accept_offer(self) -> None:
        accept = wire.accept_deflate_offer
        self.assertIsNone(accept(""))
        self.assertIsNone(accept("x-webkit-deflate-frame"))
        self.assertIsNone(accept("permessage-deflate; bogus"))
        self.assertIsNone(accept("permessage-deflate;;"))
        self.assertEqual(accept("permessage-deflate,"), DeflateParams())
        self.assertEqual(accept(wire.CLIENT_OFFER), DeflateParams())
        chosen = accept(
            "permessage-deflate; server_max_window_bits=8, "
            "permessage-deflate; foo, "
            "permessage-deflate; server_max_window_bits=10; client_no_context_takeover, "
            "permessage-deflate"
        )
        self.assertEqual(chosen, DeflateParams(False, True, 10, None))
        assert chosen is not None
        self.assertEqual(
            chosen.to_header(),
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10",
        )

    def test_check_response(self) -> None:
        check = wire.check_deflate_response
        self.assertIsNone(check(""))
        self.assertIsNone(check(" , "))
        self.assertEqual(check(", permessage-deflate ,"), DeflateParams())
        self.assertEqual(
            check("permessage-deflate; client_max_window_bits=12"),
            DeflateParams(client_max_window_bits=12),
        )
        for bad, regex in [
            ("foo", "unsupported extension 'foo'"),
            ("permessage-deflate, permessage-deflate", "several extensions"),
            ("permessage-deflate; client_max_window_bits=8", "=8 is not supported"),
            ("permessage-deflate; client_max_window_bits", "needs a value"),
            ("permessage-deflate; x=1", "unsupported permessage-deflate parameter"),
            ("permessage-deflate;", "truncated"),
        ]:
            with self.subTest(header=bad):
                with self.assertRaisesRegex(NegotiationError, regex):
                    check(bad)

    def test_make_pair_sides(self) -> None:
        params = DeflateParams(True, False, 10, 12)
        comp, decomp = wire.make_deflate_pair(
            params, "server", {"compression_level": 1}
        )
        self.assertEqual((comp.max_window_bits, comp.no_context_takeover), (10, True))
        self.assertEqual(comp.compression_level, 1)
        self.assertEqual(
            (decomp.max_window_bits, decomp.no_context_takeover), (12, False)
        )
        comp, decomp = wire.make_deflate_pair(params, "client", {"mem_level": 5})
        self.assertEqual((comp.max_window_bits, comp.no_context_takeover), (12, False))
        self.assertEqual(comp.mem_level, 5)
        self.assertEqual(
            (decomp.max_window_bits, decomp.no_context_takeover), (10, True)
        )
        comp, decomp = wire.make_deflate_pair(DeflateParams(), "client")
        self.assertEqual((comp.max_window_bits, decomp.max_window_bits), (15, 15))

    def test_make_pair_errors(self) -> None:
        with self.assertRaisesRegex(ValueError, "side must be"):
            wire.make_deflate_pair(DeflateParams(), "peer")
        with self.assertRaisesRegex(ValueError, "compression_level must be an int"):
            wire.make_deflate_pair(
                DeflateParams(), "server", {"compression_level": "9"}
            )
        with self.assertRaisesRegex(
            ValueError, "compression_level must be from -1 to 9"
        ):
            wire.make_deflate_pair(DeflateParams(), "server", {"compression_level": 10})
        with self.assertRaisesRegex(ValueError, "mem_level must be from 1 to 9"):
            wire.make_deflate_pair(DeflateParams(), "server", {"mem_level": 0})


class DeflateTest(ProtocolErrorAssertions):
    def test_rfc_7692_examples(self) -> None:
        # Section 7.2.3.1 and 7.2.3.2: "Hello", then "Hello" again with
        # the window shared between the two messages.
        decomp = PerMessageDeflateDecompressor()
        self.assertEqual(decomp.decompress(bytes.fromhex("f248cdc9c90700")), b"Hello")
        self.assertEqual(decomp.decompress(bytes.fromhex("f200110000")), b"Hello")
        comp = PerMessageDeflateCompressor()
        self.assertEqual(comp.compress(b"Hello"), bytes.fromhex("f248cdc9c90700"))

    def test_context_takeover(self) -> None:
        text = b"the same sentence, again and again " * 3
        shared = PerMessageDeflateCompressor()
        first, second = shared.compress(text), shared.compress(text)
        self.assertLess(len(second), len(first))
        decomp = PerMessageDeflateDecompressor()
        self.assertEqual(
            [decomp.decompress(first), decomp.decompress(second)], [text, text]
        )

    def test_no_context_takeover(self) -> None:
        text = b"independent messages " * 4
        comp = PerMessageDeflateCompressor(no_context_takeover=True)
        first, second = comp.compress(text), comp.compress(text)
        self.assertEqual(first, second)
        decomp = PerMessageDeflateDecompressor(no_context_takeover=True)
        self.assertEqual(decomp.decompress(second), text)
        self.assertEqual(decomp.decompress(first), text)

    def test_small_windows(self) -> None:
        data = bytes(range(256)) * 8
        comp = PerMessageDeflateCompressor(
            max_window_bits=9, compression_level=9, mem_level=1
        )
        decomp = PerMessageDeflateDecompressor(max_window_bits=9)
        self.assertEqual(decomp.decompress(comp.compress(data)), data)
        self.assertEqual(
            PerMessageDeflateDecompressor(max_window_bits=8).max_window_bits, 8
        )

    def test_window_bits_validation(self) -> None:
        with self.assertRaisesRegex(ValueError, "from 9 to 15, got 8"):
            PerMessageDeflateCompressor(max_window_bits=8)
        with self.assertRaisesRegex(ValueError, "from 8 to 15, got 16"):
            PerMessageDeflateDecompressor(max_window_bits=16)

    def test_empty_message(self) -> None:
        comp, decomp = PerMessageDeflateCompressor(), PerMessageDeflateDecompressor()
        self.assertEqual(decomp.decompress(comp.compress(b"")), b"")
        self.assertEqual(decomp.decompress(b"\x00"), b"")

    def test_fragment_by_fragment(self) -> None:
        data = bytes(range(256)) * 40
        payload = PerMessageDeflateCompressor().compress(data)
        decomp = PerMessageDeflateDecompressor()
        half = len(payload) // 2
        out = decomp.decompress(payload[:half], final=False)
        out += decomp.decompress(payload[half:], final=True)
        self.assertEqual(out, data)

    def test_corrupt_data(self) -> None:
        decomp = PerMessageDeflateDecompressor()
        self.assertProtocolError(
            1002, "invalid compressed data", decomp.decompress, b"\xff\xff\xff"
        )
        # The decompressor starts afresh after an error.
        self.assertEqual(decomp.decompress(bytes.fromhex("f248cdc9c90700")), b"Hello")

    def test_limit(self) -> None:
        payload = PerMessageDeflateCompressor().compress(b"x" * 100)
        self.assertEqual(
            PerMessageDeflateDecompressor().decompress(payload, 100), b"x" * 100
        )
        self.assertProtocolError(
            1009,
            "exceeds 99 bytes",
            PerMessageDeflateDecompressor().decompress,
            payload,
            99,
        )

    def test_deflate_bomb_stopped_early(self) -> None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = b"\0" * (1 << 20)
        bomb = b"".join(compressor.compress(chunk) for _ in range(64))
        bomb += compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]
        self.assertLess(len(bomb), 100_000)  # 64 MiB once expanded
        reader = MessageReader(
            expect_masked=False,
            max_message_size=1 << 20,
            decompressor=PerMessageDeflateDecompressor(),
        )
        frame = encode_frame(OPCODE_BINARY, bomb, rsv=RSV1)
        tracemalloc.start()
        try:
            self.assertProtocolError(1009, "exceeds", reader.feed, frame)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 8 << 20)


class InteropTest(unittest.TestCase):
    """Cross-checks against the sans-I/O protocol of the websockets library."""

    def peer(self, side: str, compress: bool) -> Any:
        from websockets.extensions.permessage_deflate import PerMessageDeflate
        from websockets.protocol import Protocol, Side

        protocol = Protocol(
            Side.SERVER if side == "server" else Side.CLIENT, max_size=None
        )
        if compress:
            protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]
        return protocol

    def test_our_client_frames_to_their_server(self) -> None:
        from websockets.frames import Opcode

        server = self.peer("server", compress=True)
        comp = PerMessageDeflateCompressor()
        data = wire.encode_message(
            OPCODE_TEXT, "héllo " * 20, mask=True, compressor=comp
        )
        data += wire.encode_message(
            OPCODE_BINARY, b"\x00\xff" * 100, mask=True, compressor=comp
        )
        data += encode_frame(OPCODE_PING, b"ping", mask=True)
        server.receive_data(data)
        events = server.events_received()
        self.assertEqual(
            [(e.opcode, bytes(e.data)) for e in events],
            [
                (Opcode.TEXT, ("héllo " * 20).encode()),
                (Opcode.BINARY, b"\x00\xff" * 100),
                (Opcode.PING, b"ping"),
            ],
        )

    def test_their_server_frames_to_our_client(self) -> None:
        server = self.peer("server", compress=True)
        server.send_text(b"frag", fin=False)
        server.send_ping(b"between")
        server.send_continuation(b" mented " * 30, fin=True)
        server.send_binary(b"\x01" * 70000)
        server.send_close(1001, "going away")
        reader = MessageReader(
            expect_masked=False, decompressor=PerMessageDeflateDecompressor()
        )
        messages = reader.feed(b"".join(server.data_to_send()))
        self.assertEqual(
            messages[:3],
            [
                Message(OPCODE_PING, b"between"),
                Message(OPCODE_TEXT, "frag" + " mented " * 30),
                Message(OPCODE_BINARY, b"\x01" * 70000),
            ],
        )
        self.assertEqual(messages[3].opcode, OPCODE_CLOSE)
        assert isinstance(messages[3].data, bytes)
        self.assertEqual(
            wire.decode_close_payload(messages[3].data), (1001, "going away")
        )

    def test_their_client_frames_to_our_server(self) -> None:
        client = self.peer("client", compress=False)
        client.send_binary(b"abc", fin=False)
        client.send_continuation(b"def", fin=True)
        client.send_close(1000)
        reader = MessageReader(expect_masked=True)
        messages = reader.feed(b"".join(client.data_to_send()))
        self.assertEqual(
            messages, [Message(2, b"abcdef"), Message(OPCODE_CLOSE, b"\x03\xe8")]
        )


# Hypothesis strategies ------------------------------------------------------

control_frames = st.builds(
    lambda opcode, payload: Frame(True, 0, opcode, payload),
    st.sampled_from([OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG]),
    st.binary(max_size=125),
)
data_frames = st.builds(
    Frame,
    st.booleans(),
    st.sampled_from([0, RSV1, RSV2, RSV3, RSV1 | RSV2 | RSV3]),
    st.sampled_from([OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY]),
    st.one_of(st.binary(max_size=200), st.binary(min_size=65530, max_size=65540)),
)


def encode_all(frames: list[Frame], masked: bool) -> bytes:
    return b"".join(
        encode_frame(f.opcode, f.payload, fin=f.fin, rsv=f.rsv, mask=masked)
        for f in frames
    )


class HypothesisTest(unittest.TestCase):
    @given(st.lists(st.one_of(control_frames, data_frames), max_size=5), st.booleans())
    def test_frame_round_trip(self, frames: list[Frame], masked: bool) -> None:
        parser = FrameParser(expect_masked=masked, allowed_rsv=RSV1 | RSV2 | RSV3)
        self.assertEqual(parser.feed(encode_all(frames, masked)), frames)

    # Fewer examples: each one parses its frames at every possible cut.
    @settings(max_examples=20)
    @given(
        st.lists(
            st.one_of(
                control_frames,
                st.builds(
                    Frame, st.booleans(), st.just(0), st.just(2), st.binary(max_size=40)
                ),
            ),
            min_size=1,
            max_size=4,
        ),
        st.booleans(),
    )
    def test_split_at_every_byte(self, frames: list[Frame], masked: bool) -> None:
        data = encode_all(frames, masked)
        for cut in range(len(data) + 1):
            parser = FrameParser(expect_masked=masked)
            self.assertEqual(parser.feed(data[:cut]) + parser.feed(data[cut:]), frames)
        parser = FrameParser(expect_masked=masked)
        one_by_one: list[Frame] = []
        for index in range(len(data)):
            one_by_one += parser.feed(data[index : index + 1])
        self.assertEqual(one_by_one, frames)

    # Fewer examples: each one compresses and fragments up to five messages.
    @settings(max_examples=40)
    @given(
        st.lists(
            st.tuples(
                st.one_of(st.text(max_size=300), st.binary(max_size=300)),
                st.lists(st.integers(0, 50), max_size=4),
                st.booleans(),
            ),
            max_size=5,
        ),
        st.booleans(),
        st.booleans(),
        st.integers(1, 97),
    )
    def test_message_round_trip(
        self,
        messages: list[tuple[Any, list[int], bool]],
        compress: bool,
        no_context_takeover: bool,
        chunk: int,
    ) -> None:
        comp: PerMessageDeflateCompressor | None = None
        decomp: PerMessageDeflateDecompressor | None = None
        if compress:
            comp = PerMessageDeflateCompressor(no_context_takeover=no_context_takeover)
            decomp = PerMessageDeflateDecompressor(
                no_context_takeover=no_context_takeover
            )
        stream = b""
        expected = []
        for data, sizes, ping_first in messages:
            opcode = OPCODE_TEXT if isinstance(data, str) else OPCODE_BINARY
            payload = data.encode() if isinstance(data, str) else data
            if comp is not None:
                payload = comp.compress(payload)
            if ping_first:
                stream += encode_frame(OPCODE_PING, b"p", mask=True)
                expected.append(Message(OPCODE_PING, b"p"))
            pieces = fragments(opcode, payload, sizes, rsv=RSV1 if comp else 0)
            # Re-mask: parse back to frames and encode them masked.
            for frame in FrameParser(expect_masked=False, allowed_rsv=RSV1).feed(
                pieces
            ):
                stream += encode_frame(
                    frame.opcode, frame.payload, fin=frame.fin, rsv=frame.rsv, mask=True
                )
            expected.append(Message(opcode, data))
        reader = MessageReader(
            expect_masked=True, decompressor=decomp, max_message_size=1000
        )
        received: list[Message] = []
        for pos in range(0, len(stream), chunk):
            received += reader.feed(stream[pos : pos + chunk])
        self.assertEqual(received, expected)


if __name__ == "__main__":
    unittest.main()
