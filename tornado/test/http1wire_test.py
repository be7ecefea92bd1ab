"""Tests for tornado._http1wire, the I/O-free HTTP/1.x wire format."""

from __future__ import annotations

import unittest
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado._http1wire import (
    BAD_REQUEST_RESPONSE,
    CONTINUE_RESPONSE,
    HEAD_END_RE,
    LAST_CHUNK,
    NO_BODY,
    BodyEncoder,
    BodyKind,
    ChunkedDecoder,
    Framing,
    ReadHint,
    check_body_size,
    check_content_length,
    check_request_host,
    connection_header,
    encode_chunk,
    expects_continue,
    format_request_head,
    format_response_head,
    keep_alive_requested,
    parse_request_head,
    parse_response_head,
    plan_request_body,
    plan_response_body,
    request_body_framing,
    response_body_framing,
    response_closes_connection,
)
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPOutputError,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.test.httputil_test import header_names, header_values
from tornado.test.util import assert_roughly_linear

# These parsers are where hostile input lands: a third more examples than
# the suite profile's 60, still well under a second per property.
quick = settings(max_examples=80)

GET = RequestStartLine("GET", "/", "HTTP/1.1")


def headers_of(*pairs: str) -> HTTPHeaders:
    """Headers from ``"Name: value"`` strings (repeats allowed)."""
    headers = HTTPHeaders()
    for pair in pairs:
        headers.parse_line(pair)
    return headers


class HeadTest(unittest.TestCase):
    def test_head_end_pattern(self) -> None:
        for terminator in [b"\r\n\r\n", b"\n\n", b"\r\n\n", b"\n\r\n"]:
            with self.subTest(terminator=terminator):
                match = HEAD_END_RE.search(b"GET / HTTP/1.1" + terminator + b"x")
                assert match is not None
                self.assertEqual(match.end(), 14 + len(terminator))

    def test_parse_request_head(self) -> None:
        start_line, headers = parse_request_head(
            b"POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\n"
            b"Content-Length: 3\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n"
        )
        self.assertEqual(
            start_line, RequestStartLine("POST", "/submit?x=1", "HTTP/1.1")
        )
        self.assertEqual(headers["Host"], "example.com")
        self.assertEqual(headers.get_list("X-Multi"), ["a", "b"])

    def test_bare_lf_and_leading_blank_line(self) -> None:
        for data in [
            b"GET / HTTP/1.0\nHost: h\nX: y\n\n",
            b"\r\nGET / HTTP/1.0\r\nHost: h\nX: y\r\n\r\n",
            b"\nGET / HTTP/1.0\r\nHost: h\r\nX: y",
        ]:
            with self.subTest(data=data):
                start_line, headers = parse_request_head(data)
                self.assertEqual(start_line.version, "HTTP/1.0")
                self.assertEqual(dict(headers), {"Host": "h", "X": "y"})

    def test_no_headers(self) -> None:
        start_line, headers = parse_request_head(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(start_line.path, "/")
        self.assertEqual(len(headers), 0)
        _, headers = parse_request_head(b"GET / HTTP/1.0")
        self.assertEqual(len(headers), 0)

    def test_malformed_request_heads(self) -> None:
        cases = {
            b"GET /\r\n\r\n": "Malformed HTTP request line",
            b"GET / HTTP/1.1 \r\n\r\n": "Malformed HTTP request line",
            b"GET / HTTP/1.1\r\r\n\r\n": "Malformed HTTP request line",
            b"GET / HTTP/2.0\r\n\r\n": "Unexpected HTTP version",
            b"\xc3\xa9 / HTTP/1.1\r\n\r\n": "Malformed HTTP request line",
            b"GET / HTTP/1.1\r\n Host: h\r\n\r\n": "whitespace",
            b"GET / HTTP/1.1\r\nHost: h\r\n\tX: 1\r\n\r\n": "folding not supported",
            b"GET / HTTP/1.1\r\nHost : h\r\n\r\n": "Invalid header name",
            b"GET / HTTP/1.1\r\nH\xc3\xb6st: h\r\n\r\n": "Invalid header name",
            b"GET / HTTP/1.1\r\nHost: h\x00\r\n\r\n": "Invalid header value",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n": "Invalid header value",
            b"GET / HTTP/1.1\r\nHost h\r\n\r\n": "colon",
        }
        for data, message in cases.items():
            with self.subTest(data=data):
                with self.assertRaisesRegex(HTTPInputError, message):
                    parse_request_head(data)

    def test_non_ascii_values(self) -> None:
        _, headers = parse_request_head(
            b"GET / HTTP/1.1\r\nX-Name: Jos\xc3\xa9\r\n\r\n"
        )
        self.assertEqual(headers["X-Name"].encode("latin1"), b"Jos\xc3\xa9")

    def test_folded_content_length_is_not_a_header(self) -> None:
        # The smuggling pair: a front end that ignores the fold sees no
        # Content-Length, one that unfolds it sees "1 Content-Length: 5".
        with self.assertRaisesRegex(HTTPInputError, "folding not supported"):
            parse_request_head(
                b"POST / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tContent-Length: 5\r\n\r\n"
            )

    def test_parse_response_head(self) -> None:
        start_line, headers = parse_response_head(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertEqual(start_line, ResponseStartLine("HTTP/1.1", 404, "Not Found"))
        self.assertEqual(headers["Content-Length"], "0")
        with self.assertRaises(HTTPInputError):
            parse_response_head(b"HTTP/1.1 OK\r\n\r\n")

    def test_many_headers_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            head = b"GET / HTTP/1.1\r\n" + b"".join(
                b"X-Header-%d: value\r\n" % i for i in range(n)
            )
            return lambda: parse_request_head(head + b"\r\n")

        assert_roughly_linear(self, run, 200)

    @quick
    @given(
        st.sampled_from(["GET", "POST", "M-SEARCH"]),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
        st.lists(st.tuples(header_names, header_values), max_size=10),
    )
    def test_format_and_parse_round_trip(
        self, method: str, path: str, pairs: list[tuple[str, str]]
    ) -> None:
        headers = HTTPHeaders()
        for name, value in pairs:
            headers.add(name, value)
        start_line = RequestStartLine(method, path, "HTTP/1.1")
        head = format_request_head(start_line, headers)
        match = HEAD_END_RE.search(head)
        self.assertEqual(match.end() if match else None, len(head))
        parsed_line, parsed_headers = parse_request_head(head)
        self.assertEqual(parsed_line, start_line)
        self.assertEqual(list(parsed_headers.get_all()), list(headers.get_all()))


class HostTest(unittest.TestCase):
    def test_valid(self) -> None:
        for host in ["example.com", "example.com:8080", "[::1]:80", "127.0.0.1", ""]:
            with self.subTest(host=host):
                check_request_host(GET, headers_of(f"Host: {host}"))
        check_request_host(RequestStartLine("GET", "/", "HTTP/1.0"), HTTPHeaders())

    def test_invalid(self) -> None:
        cases = [
            (GET, HTTPHeaders(), "Missing Host"),
            (GET, headers_of("Host: a", "Host: b"), "Multiple Host"),
            (GET, headers_of("Host: a b"), "Invalid Host"),
            (GET, headers_of("Host: a/b"), "Invalid Host"),
            (GET, headers_of("Host: caf\xe9"), "Invalid Host"),
            (GET, headers_of("Host: a,b"), "Invalid Host"),
            (GET, headers_of("Host: a%2eb"), "Invalid Host"),
            (GET, headers_of("Host: a\tb"), "Invalid Host"),
        ]
        for start_line, headers, message in cases:
            with self.subTest(headers=str(headers)):
                with self.assertRaisesRegex(HTTPInputError, message):
                    check_request_host(start_line, headers)


class KeepAliveTest(unittest.TestCase):
    def test_http_1_1(self) -> None:
        self.assertTrue(keep_alive_requested(GET, HTTPHeaders()))
        self.assertFalse(keep_alive_requested(GET, headers_of("Connection: Close")))

    def test_http_1_0(self) -> None:
        get = RequestStartLine("GET", "/", "HTTP/1.0")
        post = RequestStartLine("POST", "/", "HTTP/1.0")
        response = ResponseStartLine("HTTP/1.0", 200, "OK")
        keep = "Connection: keep-alive"
        self.assertFalse(keep_alive_requested(get, HTTPHeaders()))
        self.assertTrue(keep_alive_requested(get, headers_of(keep)))
        self.assertFalse(keep_alive_requested(post, headers_of(keep)))
        self.assertTrue(
            keep_alive_requested(post, headers_of(keep, "Content-Length: 1"))
        )
        self.assertFalse(keep_alive_requested(response, headers_of(keep)))
        self.assertTrue(
            keep_alive_requested(
                response, headers_of(keep, "Transfer-Encoding: chunked")
            )
        )


class IncomingFramingTest(unittest.TestCase):
    def test_request_framing(self) -> None:
        self.assertEqual(request_body_framing(HTTPHeaders()), NO_BODY)
        self.assertEqual(
            request_body_framing(headers_of("Content-Length: 12")),
            Framing(BodyKind.LENGTH, 12),
        )
        self.assertEqual(
            request_body_framing(headers_of("Transfer-Encoding: Chunked")),
            Framing(BodyKind.CHUNKED),
        )

    def test_duplicate_equal_content_lengths(self) -> None:
        for lines in [
            ("Content-Length: 5, 5",),
            ("Content-Length: 5", "Content-Length: 5"),
        ]:
            with self.subTest(lines=lines):
                headers = headers_of(*lines)
                self.assertEqual(request_body_framing(headers).length, 5)
                self.assertEqual(headers.get_list("Content-Length"), ["5"])

    def test_bad_content_lengths(self) -> None:
        cases = {
            "5, 6": "Multiple unequal",
            "5,,5": "Multiple unequal",
            "abc": "integer",
            "-1": "integer",
            "+5": "integer",
            "0x10": "integer",
            "1_000": "integer",
            "1.0": "integer",
            "": "integer",
            "\u0665": "integer",  # an Arabic-Indic digit; int() accepts it
            "9" * 5000: "too long",
        }
        cases["5 , 5"] = "Multiple unequal"  # as strict as Tornado 6.6
        cases["5,5 ,5"] = "Multiple unequal"
        for value, message in cases.items():
            with self.subTest(value=value[:10]):
                headers = HTTPHeaders({"Content-Length": value})
                with self.assertRaisesRegex(HTTPInputError, message):
                    request_body_framing(headers)

    def test_bad_content_length_message_shows_the_value(self) -> None:
        with self.assertRaises(HTTPInputError) as caught:
            request_body_framing(HTTPHeaders({"Content-Length": "abc"}))
        self.assertEqual(
            str(caught.exception), "Only integer Content-Length is allowed: abc"
        )
        with self.assertRaises(HTTPInputError) as caught:
            request_body_framing(HTTPHeaders({"Content-Length": "9" * 5000}))
        self.assertEqual(str(caught.exception), "Content-Length too long")

    def test_content_length_with_transfer_encoding(self) -> None:
        headers = headers_of("Content-Length: 5", "Transfer-Encoding: chunked")
        with self.assertRaisesRegex(HTTPInputError, "both"):
            request_body_framing(headers)
        with self.assertRaisesRegex(HTTPInputError, "both"):
            response_body_framing(headers, 200)

    def test_unsupported_transfer_codings(self) -> None:
        for value in [
            "gzip",
            "gzip, chunked",
            "chunked, gzip",
            "chunked, chunked",
            "",
            "identity",
            "chunked,",
            ",chunked",
            "chunked , ",
            "chunked;x=1",
        ]:
            with self.subTest(value=value):
                headers = HTTPHeaders({"Transfer-Encoding": value})
                with self.assertRaises(HTTPInputError) as caught:
                    request_body_framing(headers)
                self.assertEqual(
                    str(caught.exception), f"Unsupported Transfer-Encoding {value}"
                )
        for lines in [
            ("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
            ("Transfer-Encoding: chunked", "Transfer-Encoding:"),
        ]:
            with self.subTest(lines=lines):
                with self.assertRaises(HTTPInputError):
                    request_body_framing(headers_of(*lines))
        for value in ["chunked", "CHUNKED", "Chunked"]:
            headers = HTTPHeaders({"Transfer-Encoding": value})
            self.assertEqual(request_body_framing(headers).kind, BodyKind.CHUNKED)

    def test_max_body_size(self) -> None:
        framing = request_body_framing(headers_of("Content-Length: 100"))
        check_content_length(framing, 100)
        check_content_length(framing, None)
        check_content_length(Framing(BodyKind.CHUNKED), 0)
        with self.assertRaises(HTTPInputError) as caught:
            check_content_length(framing, 99)
        self.assertEqual(str(caught.exception), "Content-Length too long")

    def test_body_size_rule_and_its_messages(self) -> None:
        messages = {
            "declared": "Content-Length too long",
            "chunked": "chunked body too large",
            "until close": "Body too long",
            "decompressed": "decompressed body too large",
        }
        for measured, message in messages.items():
            with self.subTest(measured=measured):
                check_body_size(100, 100, measured)
                check_body_size(10**9, None, measured)
                with self.assertRaises(HTTPInputError) as caught:
                    check_body_size(101, 100, measured)
                self.assertEqual(str(caught.exception), message)

    def test_response_framing(self) -> None:
        length = headers_of("Content-Length: 7")
        chunked = headers_of("Transfer-Encoding: chunked")
        self.assertEqual(
            response_body_framing(length, 200), Framing(BodyKind.LENGTH, 7)
        )
        self.assertEqual(response_body_framing(chunked, 200), Framing(BodyKind.CHUNKED))
        self.assertEqual(
            response_body_framing(HTTPHeaders(), 200), Framing(BodyKind.UNTIL_CLOSE)
        )
        self.assertEqual(response_body_framing(length, 200, "HEAD"), NO_BODY)
        self.assertEqual(response_body_framing(length, 304), NO_BODY)
        self.assertEqual(response_body_framing(HTTPHeaders(), 100), NO_BODY)
        self.assertEqual(response_body_framing(HTTPHeaders(), 204), NO_BODY)
        self.assertEqual(
            response_body_framing(headers_of("Content-Length: 0"), 204), NO_BODY
        )

    def test_responses_that_cannot_have_a_body(self) -> None:
        cases = [
            (100, headers_of("Content-Length: 0")),
            (101, headers_of("Transfer-Encoding: chunked")),
            (204, headers_of("Content-Length: 1")),
            (204, headers_of("Transfer-Encoding: chunked")),
        ]
        for code, headers in cases:
            with self.subTest(code=code, headers=str(headers)):
                with self.assertRaisesRegex(HTTPInputError, "body"):
                    response_body_framing(headers, code)
        with self.assertRaises(HTTPInputError) as caught:
            response_body_framing(headers_of("Content-Length: 1"), 204)
        self.assertEqual(
            str(caught.exception), "Response with code 204 should not have body"
        )
        with self.assertRaises(HTTPInputError) as caught:
            response_body_framing(headers_of("Content-Length: 1"), 103)
        self.assertEqual(str(caught.exception), "Response code 103 cannot have body")


class ContinueTest(unittest.TestCase):
    def test_expects_continue(self) -> None:
        expect = headers_of("Expect: 100-Continue")
        self.assertTrue(expects_continue(GET, expect))
        self.assertFalse(expects_continue(GET, HTTPHeaders()))
        self.assertFalse(expects_continue(GET, headers_of("Expect: other")))
        get10 = RequestStartLine("GET", "/", "HTTP/1.0")
        self.assertFalse(expects_continue(get10, expect))
        self.assertEqual(CONTINUE_RESPONSE, b"HTTP/1.1 100 (Continue)\r\n\r\n")
        self.assertEqual(BAD_REQUEST_RESPONSE, b"HTTP/1.1 400 Bad Request\r\n\r\n")


def decode_all(data: bytes, **kwargs: int | None) -> bytes:
    decoder = ChunkedDecoder(**kwargs)  # type: ignore[arg-type]
    body = b"".join(decoder.feed(data))
    if not decoder.finished:
        raise AssertionError("body incomplete")
    return body


class ChunkedDecoderTest(unittest.TestCase):
    def test_decode(self) -> None:
        data = b"5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n"
        self.assertEqual(decode_all(data), b"hello 0123456789")

    def test_byte_at_a_time(self) -> None:
        data = b"5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"
        decoder = ChunkedDecoder()
        pieces = []
        for i in range(len(data)):
            pieces.extend(decoder.feed(data[i : i + 1]))
        self.assertTrue(decoder.finished)
        self.assertEqual(b"".join(pieces), b"helloabc")
        self.assertEqual(decoder.trailers["X-Trailer"], "t")

    def test_hex_sizes(self) -> None:
        body = bytes(range(256)) * 2
        for size in ["200", "0200", "00200"]:
            data = size.encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
            self.assertEqual(decode_all(data), body)
        self.assertEqual(decode_all(b"a\r\n0123456789\r\n0\r\n\r\n"), b"0123456789")

    def test_chunk_extensions_are_ignored(self) -> None:
        for ext in [
            b";a",
            b";a=b",
            b" ; a = b ; c",
            b';name="quoted \\" value"',
            b"\t;x",
        ]:
            with self.subTest(ext=ext):
                self.assertEqual(
                    decode_all(b"2" + ext + b"\r\nok\r\n0" + ext + b"\r\n\r\n"), b"ok"
                )

    def test_invalid_size_lines(self) -> None:
        for line in [
            b"",
            b"x",
            b"0x5",
            b"-5",
            b"+5",
            b" 5",
            b"5 ",
            b"5_0",
            b"5;",
            b"5;=x",
            b"5;a=",
            b"5;a b",
            b'5;a="unterminated',
            b"5;a=\x00",
            b"\xd9\xa5",
        ]:
            with self.subTest(line=line):
                with self.assertRaises(HTTPInputError) as caught:
                    ChunkedDecoder().feed(line + b"\r\nhello\r\n0\r\n\r\n")
                self.assertEqual(str(caught.exception), "invalid chunk size")

    def test_bare_lf_is_not_accepted_in_chunked_framing(self) -> None:
        for data in [b"5\nhello\r\n0\r\n\r\n", b"5\r\nhello\n0\r\n\r\n", b"0\r\n\n"]:
            with self.subTest(data=data):
                with self.assertRaises(HTTPInputError):
                    ChunkedDecoder().feed(data)

    def test_data_must_end_with_crlf(self) -> None:
        with self.assertRaisesRegex(HTTPInputError, "^improperly terminated chunk$"):
            ChunkedDecoder().feed(b"3\r\nhello\r\n0\r\n\r\n")
        decoder = ChunkedDecoder()
        decoder.feed(b"3\r\nabc\r")
        with self.assertRaisesRegex(HTTPInputError, "^improperly terminated chunk$"):
            decoder.feed(b"x")

    def test_last_chunk_must_end_with_crlf(self) -> None:
        for ending in [
            b"XY\r\n\r\n",
            b"\n",
            b"\r\r\n",
            b" X: 1\r\n\r\n",
            b"X: 1\r\r\n",
        ]:
            with self.subTest(ending=ending):
                with self.assertRaises(HTTPInputError) as caught:
                    ChunkedDecoder().feed(b"0\r\n" + ending)
                self.assertEqual(
                    str(caught.exception), "improperly terminated chunked request"
                )

    def test_size_line_too_long(self) -> None:
        decoder = ChunkedDecoder(max_line_size=20)
        decoder.feed(b"5;" + b"a" * 15)
        with self.assertRaisesRegex(HTTPInputError, "invalid chunk size"):
            decoder.feed(b"aaaa")

    def test_max_body_size(self) -> None:
        data = b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"
        self.assertEqual(decode_all(data, max_body_size=10), b"helloworld")
        with self.assertRaisesRegex(HTTPInputError, "^chunked body too large$"):
            decode_all(data, max_body_size=9)
        # The limit applies as soon as the size is known, before the data.
        with self.assertRaisesRegex(HTTPInputError, "^chunked body too large$"):
            ChunkedDecoder(max_body_size=100).feed(b"ffffffffffffffffffff\r\n")

    def test_trailers(self) -> None:
        decoder = ChunkedDecoder()
        decoder.feed(b"0\r\nX-A: 1\r\nX-B: 2\r\n\r\n")
        self.assertTrue(decoder.finished)
        self.assertEqual(dict(decoder.trailers), {"X-A": "1", "X-B": "2"})

    def test_invalid_trailers(self) -> None:
        for trailer in [
            b" X: 1\r\n",
            b"X 1\r\n",
            b"X: a\x00\r\n",
            b"X: 1\n",
            b"X: 1\r\n folded\r\n",
        ]:
            with self.subTest(trailer=trailer):
                with self.assertRaises(HTTPInputError):
                    ChunkedDecoder().feed(b"0\r\n" + trailer + b"\r\n")

    def test_trailer_section_limit(self) -> None:
        trailer = b"X-T: " + b"v" * 50 + b"\r\n"
        decoder = ChunkedDecoder(max_trailer_size=200)
        decoder.feed(b"0\r\n" + trailer * 3)
        with self.assertRaises(HTTPInputError):
            decoder.feed(trailer)
        with self.assertRaises(HTTPInputError):
            ChunkedDecoder(max_trailer_size=100).feed(b"0\r\nX: " + b"v" * 200)

    def test_next_read_never_reads_past_the_body(self) -> None:
        body = b"5\r\nhello\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nT: x\r\n\r\n"
        wire = bytearray(body + b"GET /next HTTP/1.1\r\n\r\n")
        decoder = ChunkedDecoder()
        received = []
        hints: list[ReadHint] = []
        while not decoder.finished:
            hint = decoder.next_read()
            hints.append(hint)
            if hint.delimiter is None:
                size = min(hint.max_bytes, 4)  # a partial read
            else:
                size = wire.index(hint.delimiter) + len(hint.delimiter)
                self.assertLessEqual(size, hint.max_bytes)
            piece = bytes(wire[:size])
            del wire[:size]
            received.extend(decoder.feed(piece))
        self.assertEqual(b"".join(received), b"hello0123456789abcdef")
        self.assertEqual(bytes(wire), b"GET /next HTTP/1.1\r\n\r\n")
        self.assertEqual(decoder.next_read(), ReadHint(None, 0))
        self.assertEqual(hints[0], ReadHint(b"\r\n", 1024))
        # Chunk data is read together with the CRLF following it.
        self.assertEqual(hints[1], ReadHint(None, 7))
        self.assertEqual(hints[2], ReadHint(None, 3))

    def test_feed_past_the_end_is_a_caller_error(self) -> None:
        decoder = ChunkedDecoder()
        with self.assertRaises(ValueError):
            decoder.feed(b"0\r\n\r\nabc")

    def test_many_chunks_scale_linearly(self) -> None:
        def run(n: int) -> Callable[[], object]:
            data = encode_chunk(b"x" * 10) * n + LAST_CHUNK
            return lambda: decode_all(data)

        assert_roughly_linear(self, run, 300)

    @quick
    @given(
        st.lists(st.binary(max_size=40), max_size=8),
        st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=10),
    )
    def test_encode_decode_round_trip(
        self, chunks: list[bytes], split_sizes: list[int]
    ) -> None:
        wire = b"".join(encode_chunk(c) for c in chunks) + LAST_CHUNK
        decoder = ChunkedDecoder()
        out = []
        pos = 0
        i = 0
        while pos < len(wire):
            size = split_sizes[i % len(split_sizes)]
            out.extend(decoder.feed(wire[pos : pos + size]))
            pos += size
            i += 1
        self.assertTrue(decoder.finished)
        self.assertEqual(b"".join(out), b"".join(chunks))

    @quick
    @given(st.binary(max_size=80))
    def test_arbitrary_input_only_raises_input_errors(self, data: bytes) -> None:
        # Fed as a reader following next_read() would: never past the end.
        decoder = ChunkedDecoder(max_body_size=1000)
        decoded = []
        pos = 0
        try:
            while pos < len(data) and not decoder.finished:
                hint = decoder.next_read()
                if hint.delimiter is None:
                    end = pos + hint.max_bytes
                else:
                    found = data.find(hint.delimiter, pos)
                    end = len(data) if found == -1 else found + len(hint.delimiter)
                decoded.extend(decoder.feed(data[pos:end]))
                pos = end
        except HTTPInputError:
            return
        self.assertLessEqual(len(b"".join(decoded)), len(data))


class OutgoingTest(unittest.TestCase):
    def test_encode_chunk(self) -> None:
        self.assertEqual(encode_chunk(b""), b"")
        self.assertEqual(encode_chunk(b"hello"), b"5\r\nhello\r\n")
        self.assertEqual(encode_chunk(b"x" * 26), b"1a\r\n" + b"x" * 26 + b"\r\n")
        self.assertEqual(LAST_CHUNK, b"0\r\n\r\n")

    def test_format_response_head(self) -> None:
        headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain")
        headers.add("Set-Cookie", "a=1")
        headers.add("Set-Cookie", "b=2")
        self.assertEqual(
            format_response_head(ResponseStartLine("HTTP/1.0", 200, "OK"), headers),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
        )
        self.assertEqual(
            format_response_head(
                ResponseStartLine("", 204, "No Content"), HTTPHeaders()
            ),
            b"HTTP/1.1 204 No Content\r\n\r\n",
        )

    def test_format_request_head(self) -> None:
        headers = HTTPHeaders({"Host": "example.com", "X-Bin": b"\xe9"})
        self.assertEqual(
            format_request_head(RequestStartLine("GET", "/p?q", "HTTP/1.0"), headers),
            b"GET /p?q HTTP/1.1\r\nHost: example.com\r\nX-Bin: \xe9\r\n\r\n",
        )

    def test_header_injection_is_refused(self) -> None:
        ok = ResponseStartLine("HTTP/1.1", 200, "OK")
        for name, value in [
            ("X", "a\r\nSet-Cookie: x"),
            ("X", "a\nb"),
            ("X", "a\x00"),
            ("X\r\nY", "v"),
        ]:
            with self.subTest(name=name, value=value):
                headers = HTTPHeaders({name: value})
                with self.assertRaisesRegex(ValueError, "Illegal characters"):
                    format_response_head(ok, headers)
        with self.assertRaisesRegex(ValueError, "Illegal characters"):
            format_response_head(
                ResponseStartLine("HTTP/1.1", 200, "O\r\nK"), HTTPHeaders()
            )
        with self.assertRaisesRegex(ValueError, "Illegal characters"):
            format_request_head(
                RequestStartLine("GET", "/\n", "HTTP/1.1"), HTTPHeaders()
            )
        with self.assertRaises(UnicodeEncodeError):
            format_response_head(ok, HTTPHeaders({"X": "\u20ac"}))

    def test_plan_response_body(self) -> None:
        get11 = GET
        get10 = RequestStartLine("GET", "/", "HTTP/1.0")
        head = RequestStartLine("HEAD", "/", "HTTP/1.1")

        headers = HTTPHeaders()
        self.assertEqual(
            plan_response_body(get11, 200, headers), Framing(BodyKind.CHUNKED)
        )
        self.assertNotIn("Transfer-Encoding", headers)  # the head gets it

        headers = HTTPHeaders()
        self.assertEqual(
            plan_response_body(get10, 200, headers).kind, BodyKind.UNTIL_CLOSE
        )
        self.assertNotIn("Transfer-Encoding", headers)

        headers = headers_of("Content-Length: 5")
        self.assertEqual(
            plan_response_body(get11, 200, headers), Framing(BodyKind.LENGTH, 5)
        )
        self.assertNotIn("Transfer-Encoding", headers)

        headers = headers_of("Transfer-Encoding: gzip, chunked")
        self.assertEqual(
            plan_response_body(get11, 200, headers).kind, BodyKind.UNTIL_CLOSE
        )
        self.assertEqual(headers["Transfer-Encoding"], "gzip, chunked")

        for line, code in [
            (head, 200),
            (get11, 204),
            (get11, 304),
            (get11, 101),
            (get11, 100),
        ]:
            with self.subTest(method=line.method, code=code):
                headers = headers_of("Content-Length: 5")
                self.assertEqual(plan_response_body(line, code, headers), NO_BODY)
                self.assertNotIn("Transfer-Encoding", headers)

        with self.assertRaisesRegex(HTTPOutputError, "Content-Length"):
            plan_response_body(get11, 200, HTTPHeaders({"Content-Length": "five"}))

    def test_plan_request_body(self) -> None:
        for method in ["POST", "PUT", "PATCH"]:
            with self.subTest(method=method):
                headers = HTTPHeaders()
                line = RequestStartLine(method, "/", "HTTP/1.1")
                framing = plan_request_body(line, headers)
                self.assertEqual(framing.kind, BodyKind.CHUNKED)
                # Framing belongs to one message: the caller's headers (which
                # a redirect would copy) stay as they were.
                self.assertEqual(len(headers), 0)
                self.assertEqual(
                    format_request_head(line, headers, framing),
                    f"{method} / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
                )
        post = RequestStartLine("POST", "/", "HTTP/1.1")
        self.assertEqual(
            plan_request_body(post, headers_of("Content-Length: 3")),
            Framing(BodyKind.LENGTH, 3),
        )
        self.assertEqual(
            plan_request_body(post, headers_of("Transfer-Encoding: chunked")).kind,
            BodyKind.UNTIL_CLOSE,
        )
        headers = HTTPHeaders()
        self.assertEqual(plan_request_body(GET, headers), NO_BODY)
        self.assertNotIn("Transfer-Encoding", headers)

    def test_response_head_with_framing_and_connection(self) -> None:
        ok = ResponseStartLine("HTTP/1.1", 200, "OK")
        headers = headers_of("Connection: keep-alive", "X-A: 1")
        self.assertEqual(
            format_response_head(ok, headers, Framing(BodyKind.CHUNKED), "close"),
            b"HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n",
        )
        self.assertEqual(dict(headers), {"Connection": "keep-alive", "X-A": "1"})
        self.assertEqual(
            format_response_head(ok, headers, Framing(BodyKind.LENGTH, 1)),
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n",
        )

    def test_connection_fate(self) -> None:
        get10 = RequestStartLine("GET", "/", "HTTP/1.0")
        until_close = Framing(BodyKind.UNTIL_CLOSE)
        length = Framing(BodyKind.LENGTH, 1)
        none = HTTPHeaders()
        self.assertFalse(response_closes_connection(GET, length, none, False))
        self.assertTrue(response_closes_connection(GET, length, none, True))
        self.assertFalse(response_closes_connection(GET, until_close, none, False))
        self.assertTrue(response_closes_connection(get10, until_close, none, False))
        self.assertFalse(response_closes_connection(get10, length, none, False))
        closing = headers_of("Connection: Close")
        self.assertTrue(response_closes_connection(GET, length, closing, False))
        self.assertEqual(connection_header(GET, True), "close")
        self.assertIsNone(connection_header(GET, False))
        self.assertEqual(connection_header(get10, False), "Keep-Alive")
        self.assertIsNone(connection_header(get10, True))

    def test_body_encoder_fixed_length(self) -> None:
        encoder = BodyEncoder(Framing(BodyKind.LENGTH, 5))
        self.assertEqual(encoder.encode(b"he"), b"he")
        self.assertEqual(encoder.remaining, 3)
        with self.assertRaisesRegex(HTTPOutputError, "less than Content-Length"):
            encoder.finish()
        with self.assertRaisesRegex(HTTPOutputError, "more data than Content-Length"):
            encoder.encode(b"llo!")
        self.assertEqual(encoder.encode(b"llo"), b"llo")
        self.assertEqual(encoder.finish(), b"")

    def test_body_encoder_no_body(self) -> None:
        encoder = BodyEncoder(NO_BODY)
        self.assertEqual(encoder.encode(b""), b"")
        with self.assertRaises(HTTPOutputError):
            encoder.encode(b"x")
        self.assertEqual(encoder.finish(), b"")

    def test_body_encoder_chunked(self) -> None:
        encoder = BodyEncoder(Framing(BodyKind.CHUNKED))
        wire = encoder.encode(b"hello") + encoder.encode(b"") + encoder.encode(b"!")
        wire += encoder.finish()
        self.assertEqual(wire, b"5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n")
        self.assertIsNone(encoder.remaining)
        self.assertEqual(decode_all(wire), b"hello!")

    def test_body_encoder_until_close(self) -> None:
        encoder = BodyEncoder(Framing(BodyKind.UNTIL_CLOSE))
        self.assertEqual(encoder.encode(b"raw" * 100), b"raw" * 100)
        self.assertEqual(encoder.finish(), b"")
        self.assertIs(encoder.framing.kind, BodyKind.UNTIL_CLOSE)


if __name__ == "__main__":
    unittest.main()
