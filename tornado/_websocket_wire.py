"""The WebSocket wire format (RFC 6455) and permessage-deflate (RFC 7692).

Everything here is pure: no sockets, no event loop.  Bytes go in, frames,
messages or bytes come out, and protocol violations raise `ProtocolError`
carrying the close code the connection should be failed with.

Receiving is layered:

* `FrameParser` turns a byte stream into `Frame` objects and enforces the
  per-frame rules (masking, reserved bits, opcodes, control frame limits);
* `MessageAssembler` joins frames into `Message` objects, enforcing message
  sequencing, the size limit (after decompression), and UTF-8 for text;
* `MessageReader` wires the two together so that size and sequencing errors
  are detected as soon as a frame header arrives, before its payload.

Sending uses `encode_frame` and `encode_message`, or their ``_parts``
variants, which keep a large payload apart from the header.  The handshake
helpers (`compute_accept_key`, the ``Sec-WebSocket-Extensions`` parsing and
the permessage-deflate negotiation) and the close frame payload codec
complete the set.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import dataclasses
import hashlib
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import (
    NamedTuple,
)

from tornado import util
from tornado._httpgrammar import (
    QUOTED_STRING_RE,
    format_header_params,
    is_digits,
    is_token,
    split_list,
    split_outside_quotes,
    unquote_string,
)

OPCODE_CONTINUATION = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA

DATA_OPCODES = frozenset({OPCODE_TEXT, OPCODE_BINARY})
CONTROL_OPCODES = frozenset({OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG})
KNOWN_OPCODES = DATA_OPCODES | CONTROL_OPCODES | {OPCODE_CONTINUATION}

FIN = 0x80
RSV1 = 0x40
RSV2 = 0x20
RSV3 = 0x10
RSV_MASK = RSV1 | RSV2 | RSV3

#: Largest payload of a control frame.
MAX_CONTROL_PAYLOAD = 125

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_MANDATORY_EXTENSION = 1010
CLOSE_INTERNAL_ERROR = 1011

_HANDSHAKE_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: What a sync-flushed deflate stream ends with; RFC 7692 drops it on the wire.
_DEFLATE_TAIL = b"\x00\x00\xff\xff"


class ProtocolError(Exception):
    """The peer broke the protocol; fail the connection with `code`."""

    def __init__(self, message: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        #: The close code to send: 1002, 1007 or 1009.
        self.code = code


class NegotiationError(ValueError):
    """An extension header or permessage-deflate parameter is unacceptable."""


class FrameHeader(NamedTuple):
    """The fixed part of a frame, known before its payload arrives."""

    fin: bool
    #: The reserved bits, as they sit in the first byte (``RSV1`` etc.).
    rsv: int
    opcode: int
    #: Payload length in bytes.
    length: int
    #: The 4-byte masking key, or ``None`` for an unmasked frame.
    mask: bytes | None


class Frame(NamedTuple):
    """One complete frame, its payload already unmasked."""

    fin: bool
    rsv: int
    opcode: int
    payload: bytes


class Message(NamedTuple):
    """A complete message, or a control frame.

    ``data`` is a `str` for text messages and `bytes` for everything else
    (binary messages and the payloads of close, ping and pong frames).
    """

    opcode: int
    data: str | bytes


# ---------------------------------------------------------------------------
# Frames


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool | bytes = False,
) -> bytes:
    """Return the bytes of one frame; see `encode_frame_parts`."""
    return b"".join(encode_frame_parts(opcode, payload, fin=fin, rsv=rsv, mask=mask))


def encode_frame_parts(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool | bytes = False,
) -> tuple[bytes, bytes]:
    """Return one frame as its header (with any masking key) and its payload.

    Sending the two separately spares copying a large payload.

    ``mask`` is false for an unmasked frame (server to client), true for a
    random masking key (client to server), or an explicit 4-byte key.
    Raises `ValueError` for an impossible frame: unknown opcode, reserved
    bits outside ``RSV_MASK``, or a control frame that is fragmented or
    longer than 125 bytes.
    """
    if opcode not in KNOWN_OPCODES:
        raise ValueError(f"unknown websocket opcode {opcode:#x}")
    if rsv & ~RSV_MASK:
        raise ValueError(f"invalid reserved bits {rsv:#x}")
    length = len(payload)
    if opcode in CONTROL_OPCODES:
        if not fin:
            raise ValueError("control frames cannot be fragmented")
        if length > MAX_CONTROL_PAYLOAD:
            raise ValueError(f"control frame payload too long ({length} > 125 bytes)")
    header = frame_header((FIN if fin else 0) | rsv | opcode, length, masked=bool(mask))
    if not mask:
        return header, payload
    key = os.urandom(4) if mask is True else bytes(mask)
    if len(key) != 4:
        raise ValueError(f"masking key must be 4 bytes, got {len(key)}")
    return header + key, util._websocket_mask(key, payload)


def frame_header(first: int, length: int, *, masked: bool = False) -> bytes:
    """The header of a frame, without its masking key.

    ``first`` is the header's first byte (FIN, reserved bits and opcode)
    and is not checked: this is for callers sending frames known to be
    valid, such as data frames (`encode_frame_parts` checks the rest).
    """
    mask_bit = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", first, mask_bit | length)
    if length < 0x10000:
        return struct.pack("!BBH", first, mask_bit | 126, length)
    return struct.pack("!BBQ", first, mask_bit | 127, length)


# Size from which a consumed buffer is kept for reuse by `FrameParser.receive_into`.
_SPARE_MIN_SIZE = 64 * 1024

# Payload size from which a frame's payload is taken through a memoryview.
_PAYLOAD_VIEW_MIN_SIZE = 1024


class FrameParser:
    """Incremental frame parser: feed it bytes, take complete frames out.

    ``expect_masked`` is true on the server side, where every frame must be
    masked, and false on the client side, where none may be.  Reserved bits
    outside ``allowed_rsv`` (the bits negotiated extensions use) are
    rejected, as are unknown opcodes and control frames that are fragmented
    or longer than 125 bytes; all of these raise `ProtocolError` with code
    1002.  A frame longer than ``max_payload`` raises it with code 1009 as
    soon as its header is read.  ``header_check``, if given, is called with
    each `FrameHeader` before the payload is awaited and may raise too.

    Once an error has been raised the parser stays failed: later calls
    raise the same error.
    """

    def __init__(
        self,
        *,
        expect_masked: bool,
        allowed_rsv: int = 0,
        max_payload: int | None = None,
        header_check: Callable[[FrameHeader], None] | None = None,
    ) -> None:
        self.expect_masked = expect_masked
        self.allowed_rsv = allowed_rsv
        self.max_payload = max_payload
        self.header_check = header_check
        self._buffer = bytearray()
        self._pos = 0
        self._header: FrameHeader | None = None
        self._error: ProtocolError | None = None
        # A large buffer, all consumed, kept for the next `receive_into`:
        # reusing it spares allocating and clearing as much memory again
        # for every large frame (and the allocator returning it to the
        # system and faulting it back in between frames).
        self._spare: bytearray | None = None

    @property
    def buffered(self) -> int:
        """Number of received bytes not yet returned as part of a frame."""
        return len(self._buffer) - self._pos

    @property
    def payload_missing(self) -> int:
        """Bytes of the current frame's payload not received yet.

        Non-zero only once the frame's header has been parsed, so a caller
        can then read that many bytes with `receive_into`.
        """
        if self._header is None:
            return 0
        return max(self._header.length - self.buffered, 0)

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the connection."""
        self._buffer += data

    def receive_into(self, size: int) -> memoryview:
        """Make room for ``size`` more bytes; return a writable view of it.

        This lets a large payload be read from the connection straight
        into the parser's buffer instead of being copied there.  The caller
        must fill the whole view and release it before using the parser
        again (if it cannot, the parser must be discarded).
        """
        self._compact()
        kept = len(self._buffer)
        grown = self._spare
        self._spare = None
        if grown is None or len(grown) < kept + size:
            grown = bytearray(kept + size)
        else:
            del grown[kept + size :]
        grown[:kept] = self._buffer
        self._buffer = grown
        with memoryview(grown) as whole:
            return whole[kept:]

    def next_frame(self) -> Frame | None:
        """Return the next complete frame, or ``None`` if more bytes are needed."""
        if self._error is not None:
            raise self._error
        try:
            frame = self._next_frame()
        except ProtocolError as e:
            self._error = e
            raise
        if frame is None:
            self._compact()
        return frame

    def next_small_data_frame(self, limit: int) -> tuple[int, bytes] | None:
        """`next_frame` for the commonest frame, or ``None`` for any other.

        Takes a complete frame from the buffer only if it carries a whole
        text or binary message (FIN set, no reserved bits), is masked as
        expected, and has a payload under 126 bytes and within both
        ``max_payload`` and ``limit``; it returns its opcode and unmasked
        payload.  Such a frame passes every check, so none is run: not even
        ``header_check``, whose conditions the caller must know to hold
        apart from the size, which it gives as ``limit``.  ``None`` means
        `next_frame` must look at the buffer (which may hold nothing).
        """
        buf, pos = self._buffer, self._pos
        if self._header is not None or self._error is not None or len(buf) - pos < 2:
            return None
        first = buf[pos]
        if first != FIN | OPCODE_TEXT and first != FIN | OPCODE_BINARY:
            return None
        second = buf[pos + 1]
        length = second & 0x7F
        if length >= 126 or length > limit:
            return None
        if self.max_payload is not None and length > self.max_payload:
            return None
        masked = second >> 7
        if masked != self.expect_masked:
            return None
        start = pos + 2 + 4 * masked
        end = start + length
        if len(buf) < end:
            return None
        self._pos = end
        if masked:
            return first & 0x0F, util._websocket_mask(
                bytes(buf[pos + 2 : start]), buf[start:end]
            )
        return first & 0x0F, bytes(buf[start:end])

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every frame now complete."""
        self.receive_data(data)
        frames = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
        return frames

    def _next_frame(self) -> Frame | None:
        header = self._header
        if header is None:
            header = self._read_header()
            if header is None:
                return None
            self._header = header
        end = self._pos + header.length
        if len(self._buffer) < end:
            return None
        payload = self._payload(self._pos, end, header.mask)
        self._pos = end
        self._header = None
        return Frame(header.fin, header.rsv, header.opcode, payload)

    def _payload(self, start: int, end: int, mask: bytes | None) -> bytes:
        """Bytes ``start:end`` of the buffer, unmasked, as a new object."""
        if end - start < _PAYLOAD_VIEW_MIN_SIZE:
            # Copying a small slice twice is cheaper than setting up a view.
            chunk = self._buffer[start:end]
            return bytes(chunk) if mask is None else util._websocket_mask(mask, chunk)
        # Through a view, a large payload is copied only once.
        with memoryview(self._buffer) as whole, whole[start:end] as body:
            return body.tobytes() if mask is None else util._websocket_mask(mask, body)

    def _read_header(self) -> FrameHeader | None:
        """Parse and check a header if it is complete, consuming its bytes."""
        buf, pos = self._buffer, self._pos
        available = len(buf) - pos
        if available < 2:
            return None
        first, second = buf[pos], buf[pos + 1]
        masked = bool(second & 0x80)
        length = second & 0x7F
        size = 2 + (2 if length == 126 else 8 if length == 127 else 0)
        size += 4 if masked else 0
        if available < size:
            return None
        if length == 126:
            (length,) = struct.unpack_from("!H", buf, pos + 2)
        elif length == 127:
            (length,) = struct.unpack_from("!Q", buf, pos + 2)
        mask = bytes(buf[pos + size - 4 : pos + size]) if masked else None
        header = FrameHeader(
            bool(first & FIN), first & RSV_MASK, first & 0x0F, length, mask
        )
        self._check(header)
        self._pos += size
        return header

    def _check(self, header: FrameHeader) -> None:
        if header.rsv & ~self.allowed_rsv:
            raise ProtocolError(f"reserved bits {header.rsv:#x} set in frame")
        if header.opcode not in KNOWN_OPCODES:
            raise ProtocolError(f"unknown opcode {header.opcode:#x}")
        if header.opcode in CONTROL_OPCODES:
            if not header.fin:
                raise ProtocolError("fragmented control frame")
            if header.length > MAX_CONTROL_PAYLOAD:
                raise ProtocolError(
                    f"control frame payload too long ({header.length} > 125 bytes)"
                )
        if (header.mask is not None) != self.expect_masked:
            if self.expect_masked:
                raise ProtocolError("unmasked frame from client")
            raise ProtocolError("masked frame from server")
        if header.length >> 63:
            raise ProtocolError("frame length has its most significant bit set")
        if self.max_payload is not None and header.length > self.max_payload:
            raise ProtocolError(
                f"frame of {header.length} bytes exceeds the limit",
                CLOSE_MESSAGE_TOO_BIG,
            )
        if self.header_check is not None:
            self.header_check(header)

    def _compact(self) -> None:
        """Drop consumed bytes from the buffer."""
        if not self._pos:
            return
        if self._pos == len(self._buffer) >= _SPARE_MIN_SIZE:
            self._spare = self._buffer
            self._buffer = bytearray()
        else:
            del self._buffer[: self._pos]
        self._pos = 0


# ---------------------------------------------------------------------------
# Messages


def _deflated_size_limit(max_size: int) -> int:
    """Most compressed bytes allowed for a message of at most ``max_size``.

    Deflate can expand incompressible data slightly (5 bytes per stored
    block of up to 64 KiB), so the wire limit is a little above the limit
    on the decompressed size.
    """
    return max_size + (max_size // 0x4000 + 2) * 5


class MessageAssembler:
    """Joins data frames into messages; passes control frames through.

    ``max_message_size`` bounds the size of a message's data after
    decompression (`ProtocolError` 1009).  ``decompressor`` handles messages
    whose first frame has ``RSV1`` set (permessage-deflate); without it such
    frames are a protocol error.  Control frames may arrive between the
    fragments of a message.  Text is validated as UTF-8 while it arrives
    (`ProtocolError` 1007).
    """

    def __init__(
        self,
        *,
        max_message_size: int | None = None,
        decompressor: PerMessageDeflateDecompressor | None = None,
    ) -> None:
        self.max_message_size = max_message_size
        self.decompressor = decompressor
        #: Opcode of the fragmented message in progress, or ``None``.
        self._opcode: int | None = None
        self._compressed = False
        self._wire_size = 0
        self._size = 0
        self._parts: list[bytes] = []
        self._text_parts: list[str] = []
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    @property
    def in_message(self) -> bool:
        """Whether a fragmented message has started and not finished."""
        return self._opcode is not None

    def check_header(self, header: FrameHeader) -> None:
        """Check a frame header against the message state; raise `ProtocolError`.

        Suitable as the ``header_check`` of a `FrameParser`, so that
        sequencing and size errors are found before the payload is read.
        """
        self._check(header.fin, header.rsv, header.opcode, header.length)

    def add(self, frame: Frame) -> Message | None:
        """Take the next frame; return a message if one is now complete."""
        fin, rsv, opcode, payload = frame
        self._check(fin, rsv, opcode, len(payload))
        if opcode in CONTROL_OPCODES:
            return Message(opcode, payload)
        if opcode != OPCODE_CONTINUATION:
            if fin and not rsv:
                return self.single_frame_message(opcode, payload)
            self._start(opcode, bool(rsv & RSV1))
        self._wire_size += len(payload)
        self._decode(payload, fin)
        if not fin:
            return None
        return self._finish()

    def _check(self, fin: bool, rsv: int, opcode: int, length: int) -> None:
        if opcode in CONTROL_OPCODES:
            if rsv:
                raise ProtocolError("reserved bits set in a control frame")
            return
        if opcode == OPCODE_CONTINUATION:
            if self._opcode is None:
                raise ProtocolError("continuation frame without a message to continue")
            if rsv:
                raise ProtocolError("reserved bits set in a continuation frame")
            compressed = self._compressed
        else:
            if self._opcode is not None:
                raise ProtocolError("new message started inside a fragmented message")
            if rsv & ~RSV1 or (rsv and self.decompressor is None):
                raise ProtocolError(f"reserved bits {rsv:#x} set without an extension")
            compressed = bool(rsv)
        self._check_size(length, compressed, opcode == OPCODE_CONTINUATION)

    def _check_size(self, length: int, compressed: bool, continued: bool) -> None:
        """Reject a frame that would make the message exceed the limit."""
        if self.max_message_size is None:
            return
        limit = self.max_message_size
        if compressed:
            limit = _deflated_size_limit(limit)
        total = length + (self._wire_size if continued else 0)
        if total > limit:
            raise ProtocolError(
                f"message exceeds {self.max_message_size} bytes", CLOSE_MESSAGE_TOO_BIG
            )

    def single_frame_message(self, opcode: int, payload: bytes) -> Message:
        """The message carried by one uncompressed frame (text or binary).

        The frame is taken as checked: this is the fast path for a frame
        that passed `check_header` or is known to pass it.  Text is
        validated as UTF-8 (`ProtocolError` 1007).
        """
        if opcode == OPCODE_TEXT:
            try:
                return Message(opcode, payload.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise ProtocolError(
                    f"invalid UTF-8 in text message: {e}", CLOSE_INVALID_DATA
                )
        return Message(opcode, payload)

    def _start(self, opcode: int, compressed: bool) -> None:
        self._opcode = opcode
        self._compressed = compressed
        self._wire_size = self._size = 0
        self._parts = []
        self._text_parts = []
        self._utf8.reset()

    def _decode(self, payload: bytes, fin: bool) -> None:
        """Decompress and validate a fragment, adding it to the message."""
        data = payload
        if self._compressed:
            assert self.decompressor is not None
            limit = None
            if self.max_message_size is not None:
                limit = self.max_message_size - self._size
            data = self.decompressor.decompress(payload, limit, final=fin)
        self._size += len(data)
        if self.max_message_size is not None and self._size > self.max_message_size:
            raise ProtocolError(
                f"message exceeds {self.max_message_size} bytes", CLOSE_MESSAGE_TOO_BIG
            )
        if self._opcode == OPCODE_TEXT:
            try:
                self._text_parts.append(self._utf8.decode(data, final=fin))
            except UnicodeDecodeError as e:
                raise ProtocolError(
                    f"invalid UTF-8 in text message: {e}", CLOSE_INVALID_DATA
                )
        else:
            self._parts.append(data)

    def _finish(self) -> Message:
        opcode = self._opcode
        assert opcode is not None
        result: str | bytes
        if opcode == OPCODE_TEXT:
            result = "".join(self._text_parts)
        else:
            result = b"".join(self._parts)
        self._opcode = None
        self._parts = []
        self._text_parts = []
        return Message(opcode, result)


class MessageReader:
    """Bytes in, messages out: a `FrameParser` feeding a `MessageAssembler`.

    Arguments are those of the two classes; see them for the rules
    enforced.  The allowed reserved bits follow from ``decompressor``.
    """

    def __init__(
        self,
        *,
        expect_masked: bool,
        max_message_size: int | None = None,
        decompressor: PerMessageDeflateDecompressor | None = None,
    ) -> None:
        self.assembler = MessageAssembler(
            max_message_size=max_message_size, decompressor=decompressor
        )
        self.parser = FrameParser(
            expect_masked=expect_masked,
            allowed_rsv=RSV1 if decompressor is not None else 0,
            header_check=self.assembler.check_header,
        )

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes from the connection; return the messages now complete."""
        self.parser.receive_data(data)
        messages = []
        while (message := self.next_message()) is not None:
            messages.append(message)
        return messages

    def next_message(self) -> Message | None:
        """The next complete message (or control frame) in the bytes received.

        ``None`` if more bytes are needed.  Raises `ProtocolError` as
        `FrameParser` and `MessageAssembler` do.
        """
        assembler = self.assembler
        if not assembler.in_message:
            limit = assembler.max_message_size
            small = self.parser.next_small_data_frame(
                MAX_CONTROL_PAYLOAD if limit is None else limit
            )
            if small is not None:
                return assembler.single_frame_message(*small)
        while (frame := self.parser.next_frame()) is not None:
            message = assembler.add(frame)
            if message is not None:
                return message
        return None


def encode_message(
    opcode: int,
    data: str | bytes,
    *,
    mask: bool | bytes = False,
    compressor: PerMessageDeflateCompressor | None = None,
) -> bytes:
    """Return the single frame carrying a whole message; see `encode_message_parts`."""
    return b"".join(
        encode_message_parts(opcode, data, mask=mask, compressor=compressor)
    )


def encode_message_parts(
    opcode: int,
    data: str | bytes,
    *,
    mask: bool | bytes = False,
    compressor: PerMessageDeflateCompressor | None = None,
) -> tuple[bytes, bytes]:
    """Return the single frame carrying a whole message, as header and payload.

    ``data`` is encoded as UTF-8 if it is a `str`.  Data messages are
    compressed (and flagged with ``RSV1``) when a ``compressor`` is given;
    control frames never are.  ``mask`` is as for `encode_frame_parts`.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    rsv = 0
    if compressor is not None and opcode in DATA_OPCODES:
        payload = compressor.compress(payload)
        rsv = RSV1
    return encode_frame_parts(opcode, payload, rsv=rsv, mask=mask)


# ---------------------------------------------------------------------------
# Close frames


# The codes of RFC 6455 and the IANA registry that an endpoint may send.
_SENDABLE_PROTOCOL_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, *range(1007, 1015)))


def is_valid_close_code(code: int) -> bool:
    """Whether ``code`` may be sent in a close frame.

    Codes reserved for local use only (1005, 1006, 1015), unassigned codes
    below 3000, and anything outside 1000-4999 are invalid.
    """
    return 3000 <= code <= 4999 or code in _SENDABLE_PROTOCOL_CLOSE_CODES


def encode_close_payload(code: int | None = None, reason: str | None = None) -> bytes:
    """Payload of a close frame: the status code and a UTF-8 reason.

    A reason without a code gets code 1000.  Raises `ValueError` for a code
    that may not be sent or a reason longer than 123 bytes once encoded.
    """
    if code is None:
        if reason is None:
            return b""
        code = CLOSE_NORMAL
    if not is_valid_close_code(code):
        raise ValueError(f"invalid close code {code}")
    encoded = (reason or "").encode("utf-8")
    if len(encoded) > MAX_CONTROL_PAYLOAD - 2:
        raise ValueError(f"close reason too long ({len(encoded)} > 123 bytes)")
    return struct.pack("!H", code) + encoded


def decode_close_payload(payload: bytes) -> tuple[int | None, str | None]:
    """Return ``(code, reason)`` from a close frame payload.

    An empty payload gives ``(None, None)``.  A one-byte payload or a code
    that may not be sent raises `ProtocolError` 1002; a reason that is not
    UTF-8 raises it with 1007.
    """
    if not payload:
        return None, None
    if len(payload) == 1:
        raise ProtocolError("close frame payload of one byte")
    (code,) = struct.unpack_from("!H", payload)
    if not is_valid_close_code(code):
        raise ProtocolError(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(f"invalid UTF-8 in close reason: {e}", CLOSE_INVALID_DATA)
    return code, reason


# ---------------------------------------------------------------------------
# Opening handshake


def compute_accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value answering ``Sec-WebSocket-Key`` ``key``."""
    digest = hashlib.sha1(key.encode("ascii") + _HANDSHAKE_GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def make_client_key() -> str:
    """A fresh random ``Sec-WebSocket-Key`` value."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def is_valid_client_key(key: str) -> bool:
    """Whether ``key`` is a well-formed key: base64 of 16 bytes."""
    try:
        return len(base64.b64decode(key.strip().encode("ascii"), validate=True)) == 16
    except (UnicodeEncodeError, binascii.Error):
        return False


ExtensionParams = list[tuple[str, str | None]]


def parse_extensions(header: str) -> list[tuple[str, ExtensionParams]]:
    """Parse a ``Sec-WebSocket-Extensions`` value (RFC 6455 section 9.1).

    Returns ``[(extension_name, [(param, value or None), ...]), ...]`` in
    order, keeping duplicate parameters so callers can reject them.  Quoted
    values are unquoted.  Empty list elements are ignored (RFC 9110 section
    5.6.1).  Raises `NegotiationError` on a syntax error.
    """
    return [_parse_extension(element, header) for element in split_list(header)]


def _parse_extension(element: str, header: str) -> tuple[str, ExtensionParams]:
    """One list element: ``name *( ";" param [ "=" value ] )``."""
    name, *pieces = (piece.strip(" \t") for piece in split_outside_quotes(element, ";"))
    if not is_token(name):
        raise NegotiationError(f"expected an extension name in {header!r}")
    params: ExtensionParams = []
    for position, piece in enumerate(pieces, 1):
        if not piece:
            if position == len(pieces):
                raise NegotiationError(f"truncated extension header {header!r}")
            raise NegotiationError(f"expected a parameter in {header!r}")
        params.append(_parse_extension_param(piece, header))
    return name, params


def _parse_extension_param(piece: str, header: str) -> tuple[str, str | None]:
    name, equals, value = (part.strip(" \t") for part in piece.partition("="))
    if not is_token(name):
        raise NegotiationError(f"invalid extension parameter {piece!r} in {header!r}")
    if not equals:
        return name, None
    if is_token(value):
        return name, value
    if QUOTED_STRING_RE.fullmatch(value):
        return name, unquote_string(value)
    raise NegotiationError(f"invalid value for {name!r} in {header!r}")


def format_extension(name: str, params: Iterable[tuple[str, str | None]]) -> str:
    """One ``Sec-WebSocket-Extensions`` element: ``name; a; b=1``."""
    return format_header_params(name, params)


# ---------------------------------------------------------------------------
# permessage-deflate

PERMESSAGE_DEFLATE = "permessage-deflate"
_MIN_WINDOW_BITS = 8
#: zlib refuses a raw deflate window of 8 bits when compressing.
_MIN_COMPRESS_WINDOW_BITS = 9


@dataclasses.dataclass(frozen=True)
class DeflateParams:
    """Agreed permessage-deflate parameters (RFC 7692 section 7.1).

    A window size of ``None`` means the default, 15 bits.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None

    def to_params(self) -> ExtensionParams:
        """The parameters as a list for `format_extension`."""
        params: ExtensionParams = []
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if getattr(self, name):
                params.append((name, None))
        for name in ("server_max_window_bits", "client_max_window_bits"):
            bits = getattr(self, name)
            if bits is not None:
                params.append((name, str(bits)))
        return params

    def to_header(self) -> str:
        """The ``Sec-WebSocket-Extensions`` value for these parameters."""
        return format_extension(PERMESSAGE_DEFLATE, self.to_params())


def _window_bits(name: str, value: str | None) -> int:
    if value is None or not is_digits(value):
        raise NegotiationError(f"{name} needs a value from 8 to 15, got {value!r}")
    bits = int(value)
    if not _MIN_WINDOW_BITS <= bits <= zlib.MAX_WBITS:
        raise NegotiationError(f"{name} must be from 8 to 15, got {bits}")
    return bits


def parse_deflate_params(params: ExtensionParams, *, is_offer: bool) -> DeflateParams:
    """Validate permessage-deflate parameters from a header.

    ``is_offer`` is true for a client's offer, where
    ``client_max_window_bits`` may come without a value ("I can limit my
    window if you ask"; it then parses as ``None``), and false for a
    server's response, where it needs one.  Raises `NegotiationError` for
    unknown or repeated parameters and bad values.
    """
    seen: dict[str, str | None] = {}
    for name, value in params:
        if name in seen:
            raise NegotiationError(f"duplicate permessage-deflate parameter {name!r}")
        seen[name] = value
    fields: dict[str, bool | int | None] = {}
    for name, value in seen.items():
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise NegotiationError(f"{name} takes no value, got {value!r}")
            fields[name] = True
        elif name == "server_max_window_bits":
            fields[name] = _window_bits(name, value)
        elif name == "client_max_window_bits":
            if value is None and is_offer:
                continue
            fields[name] = _window_bits(name, value)
        else:
            raise NegotiationError(f"unsupported permessage-deflate parameter {name!r}")
    return DeflateParams(**fields)  # type: ignore[arg-type]


def accept_deflate_offer(header: str) -> DeflateParams | None:
    """Server side: pick the first acceptable permessage-deflate offer.

    ``header`` is the client's ``Sec-WebSocket-Extensions``.  Invalid offers
    are declined, as RFC 7692 asks, and so are offers we cannot honour (a
    server window of 8 bits, which zlib cannot produce).  Returns the
    parameters to answer with (`DeflateParams.to_header`), or ``None`` when
    compression is not to be used.
    """
    try:
        extensions = parse_extensions(header)
    except NegotiationError:
        return None
    for name, params in extensions:
        if name != PERMESSAGE_DEFLATE:
            continue
        try:
            agreed = parse_deflate_params(params, is_offer=True)
        except NegotiationError:
            continue
        if agreed.server_max_window_bits == _MIN_WINDOW_BITS:
            continue
        return agreed
    return None


#: The offer a client sends: permessage-deflate, accepting a window limit.
CLIENT_OFFER = format_extension(PERMESSAGE_DEFLATE, [("client_max_window_bits", None)])


def check_deflate_response(header: str) -> DeflateParams | None:
    """Client side: validate the server's ``Sec-WebSocket-Extensions``.

    Assumes the client sent `CLIENT_OFFER`.  Returns the agreed parameters,
    or ``None`` if the server accepted no extension.  Raises
    `NegotiationError` for anything else: another extension, several
    elements, bad parameters, or a client window of 8 bits (which zlib
    cannot produce); the client must then fail the connection.
    """
    extensions = parse_extensions(header)
    if not extensions:
        return None
    if len(extensions) > 1:
        raise NegotiationError(f"server accepted several extensions: {header!r}")
    name, params = extensions[0]
    if name != PERMESSAGE_DEFLATE:
        raise NegotiationError(f"unsupported extension {name!r}")
    agreed = parse_deflate_params(params, is_offer=False)
    if agreed.client_max_window_bits == _MIN_WINDOW_BITS:
        raise NegotiationError("client_max_window_bits=8 is not supported")
    return agreed


def _check_window_bits(bits: int | None, minimum: int) -> int:
    if bits is None:
        return zlib.MAX_WBITS
    if not minimum <= bits <= zlib.MAX_WBITS:
        raise ValueError(f"max_window_bits must be from {minimum} to 15, got {bits!r}")
    return bits


class PerMessageDeflateCompressor:
    """Compresses outgoing messages (raw deflate, sync-flushed, tail removed).

    With ``no_context_takeover`` each message is compressed on its own;
    otherwise the window carries over from one message to the next.
    ``compression_level`` (0-9, or -1 for zlib's default) and ``mem_level``
    (1-9) are passed to zlib.
    """

    def __init__(
        self,
        max_window_bits: int | None = None,
        no_context_takeover: bool = False,
        compression_level: int = zlib.Z_DEFAULT_COMPRESSION,
        mem_level: int = 8,
    ) -> None:
        self.max_window_bits = _check_window_bits(
            max_window_bits, _MIN_COMPRESS_WINDOW_BITS
        )
        if not -1 <= compression_level <= 9:
            raise ValueError(
                f"compression_level must be from -1 to 9, got {compression_level!r}"
            )
        if not 1 <= mem_level <= 9:
            raise ValueError(f"mem_level must be from 1 to 9, got {mem_level!r}")
        self.no_context_takeover = no_context_takeover
        self.compression_level = compression_level
        self.mem_level = mem_level
        self._compressor: zlib._Compress | None = None

    def compress(self, data: bytes) -> bytes:
        """Return the compressed payload of one message."""
        compressor = self._compressor
        if compressor is None:
            compressor = zlib.compressobj(
                self.compression_level,
                zlib.DEFLATED,
                -self.max_window_bits,
                self.mem_level,
            )
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        self._compressor = None if self.no_context_takeover else compressor
        if out.endswith(_DEFLATE_TAIL):
            out = out[: -len(_DEFLATE_TAIL)]
        return out


class PerMessageDeflateDecompressor:
    """Decompresses incoming messages, never producing more than allowed.

    ``max_window_bits`` is the window the peer compresses with; with
    ``no_context_takeover`` the peer starts each message afresh, so the
    decompressor does too.
    """

    def __init__(
        self, max_window_bits: int | None = None, no_context_takeover: bool = False
    ) -> None:
        self.max_window_bits = _check_window_bits(max_window_bits, _MIN_WINDOW_BITS)
        self.no_context_takeover = no_context_takeover
        self._decompressor: zlib._Decompress | None = None

    def decompress(
        self, data: bytes, limit: int | None = None, final: bool = True
    ) -> bytes:
        """Decompress a message, or one fragment of it.

        ``final`` marks the last fragment (the removed tail is put back).
        If the output would exceed ``limit`` bytes, `ProtocolError` 1009 is
        raised as soon as that many bytes have been produced, so a small
        "deflate bomb" cannot expand into a huge buffer.  Corrupt data
        raises `ProtocolError` 1002.
        """
        decompressor = self._decompressor
        if decompressor is None:
            decompressor = zlib.decompressobj(-self.max_window_bits)
            self._decompressor = decompressor
        if final:
            data += _DEFLATE_TAIL
        try:
            if limit is None:
                out = decompressor.decompress(data)
            else:
                # One byte beyond the limit tells "too big" from "just fits".
                out = decompressor.decompress(data, limit + 1)
        except zlib.error as e:
            self._decompressor = None
            raise ProtocolError(f"invalid compressed data: {e}")
        if limit is not None and len(out) > limit:
            self._decompressor = None
            raise ProtocolError(
                f"decompressed message exceeds {limit} bytes", CLOSE_MESSAGE_TOO_BIG
            )
        if final and (self.no_context_takeover or decompressor.eof):
            self._decompressor = None
        return out


def _compression_option(options: Mapping[str, object], name: str, default: int) -> int:
    value = options.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"compression option {name} must be an int, got {value!r}")
    return value


def make_deflate_pair(
    params: DeflateParams,
    side: str,
    compression_options: Mapping[str, object] | None = None,
) -> tuple[PerMessageDeflateCompressor, PerMessageDeflateDecompressor]:
    """Build the compressor and decompressor of one side of a connection.

    ``side`` is ``"server"`` or ``"client"``: each side compresses with its
    own window and context settings and decompresses with the peer's.
    ``compression_options`` may set ``compression_level`` and ``mem_level``
    for the compressor; other keys are ignored.
    """
    if side not in ("server", "client"):
        raise ValueError(f"side must be 'server' or 'client', got {side!r}")
    peer = "client" if side == "server" else "server"
    options = compression_options or {}
    compressor = PerMessageDeflateCompressor(
        max_window_bits=getattr(params, f"{side}_max_window_bits"),
        no_context_takeover=getattr(params, f"{side}_no_context_takeover"),
        compression_level=_compression_option(
            options, "compression_level", zlib.Z_DEFAULT_COMPRESSION
        ),
        mem_level=_compression_option(options, "mem_level", 8),
    )
    decompressor = PerMessageDeflateDecompressor(
        max_window_bits=getattr(params, f"{peer}_max_window_bits"),
        no_context_takeover=getattr(params, f"{peer}_no_context_takeover"),
    )
    return compressor, decompressor


__all__ = [
    "ProtocolError",
    "NegotiationError",
    "FrameHeader",
    "Frame",
    "Message",
    "encode_frame",
    "encode_frame_parts",
    "FrameParser",
    "MessageAssembler",
    "MessageReader",
    "encode_message",
    "encode_message_parts",
    "is_valid_close_code",
    "encode_close_payload",
    "decode_close_payload",
    "compute_accept_key",
    "make_client_key",
    "is_valid_client_key",
    "parse_extensions",
    "format_extension",
    "DeflateParams",
    "parse_deflate_params",
    "accept_deflate_offer",
    "check_deflate_response",
    "CLIENT_OFFER",
    "PerMessageDeflateCompressor",
    "PerMessageDeflateDecompressor",
    "make_deflate_pair",
]
