"""Tests for tornado._websigning: signed values and XSRF token encoding."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import unittest
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from tornado._websigning import (
    create_signed_value,
    decode_signed_value,
    decode_xsrf_token,
    encode_xsrf_token,
    get_signature_key_version,
    xsrf_tokens_match,
)
from tornado.testing import ExpectLog

SECRET = "a secret nobody should know"
NOW = 1_700_000_000.0
DAY = 86400
gen_log = logging.getLogger("tornado.general")


def at(timestamp: float) -> Callable[[], float]:
    """A clock frozen at ``timestamp``."""
    return lambda: timestamp


def sign(value: bytes = b"value", **kwargs: object) -> bytes:
    kwargs.setdefault("clock", at(NOW))
    return create_signed_value(SECRET, "name", value, **kwargs)  # type: ignore[arg-type]


def decode(signed: object, **kwargs: object) -> bytes | None:
    kwargs.setdefault("clock", at(NOW))
    secret = kwargs.pop("secret", SECRET)
    name = kwargs.pop("name", "name")
    return decode_signed_value(secret, name, signed, **kwargs)  # type: ignore[arg-type]


class FormatTest(unittest.TestCase):
    def test_version2_layout(self) -> None:
        signed = sign(b"hello")
        signed_part = b"2|1:0|10:1700000000|4:name|8:aGVsbG8=|"
        self.assertTrue(signed.startswith(signed_part))
        expected = hmac.new(utf8(SECRET), signed_part, hashlib.sha256).hexdigest()
        self.assertEqual(signed[len(signed_part) :], expected.encode())

    def test_version1_layout(self) -> None:
        signed = sign(b"hello", version=1)
        encoded, timestamp, signature = signed.split(b"|")
        self.assertEqual(encoded, base64.b64encode(b"hello"))
        self.assertEqual(timestamp, b"1700000000")
        mac = hmac.new(utf8(SECRET), b"name" + encoded + timestamp, hashlib.sha1)
        self.assertEqual(signature, mac.hexdigest().encode())

    def test_default_is_version2(self) -> None:
        self.assertTrue(sign().startswith(b"2|"))

    def test_key_version_is_recorded(self) -> None:
        signed = create_signed_value(
            {0: "old", 7: "new"}, "name", "v", clock=at(NOW), key_version=7
        )
        self.assertTrue(signed.startswith(b"2|1:7|"))
        self.assertEqual(get_signature_key_version(signed), 7)

    def test_str_value_is_utf8_encoded(self) -> None:
        self.assertEqual(decode(sign("caf\u00e9")), "caf\u00e9".encode())  # type: ignore[arg-type]

    def test_timestamp_defaults_to_real_time(self) -> None:
        signed = create_signed_value(SECRET, "name", "v")
        self.assertEqual(decode_signed_value(SECRET, "name", signed), b"v")


class RoundTripTest(unittest.TestCase):
    @given(value=st.binary(max_size=200), name=st.text(min_size=1, max_size=20))
    def test_version2_round_trip(self, value: bytes, name: str) -> None:
        signed = create_signed_value(SECRET, name, value, clock=at(NOW))
        self.assertEqual(decode(signed, name=name), value)

    @given(value=st.binary(max_size=200), name=st.text(min_size=1, max_size=20))
    def test_version1_round_trip(self, value: bytes, name: str) -> None:
        signed = create_signed_value(SECRET, name, value, version=1, clock=at(NOW))
        self.assertEqual(decode(signed, name=name), value)

    @given(value=st.binary(max_size=50), key_version=st.integers(0, 10**6))
    def test_key_versioned_round_trip(self, value: bytes, key_version: int) -> None:
        secrets = {key_version: "current", key_version + 1: "next"}
        signed = create_signed_value(
            secrets, "name", value, clock=at(NOW), key_version=key_version
        )
        self.assertEqual(get_signature_key_version(signed), key_version)
        self.assertEqual(decode(signed, secret=secrets), value)

    def test_accepts_str_input(self) -> None:
        self.assertEqual(decode(sign(b"abc").decode()), b"abc")


class RejectionTest(unittest.TestCase):
    def test_wrong_secret(self) -> None:
        self.assertIsNone(decode(sign(), secret="another secret"))

    def test_wrong_name(self) -> None:
        self.assertIsNone(decode(sign(), name="other"))

    def test_version1_wrong_secret_logs_warning(self) -> None:
        with ExpectLog(gen_log, "Invalid cookie signature", level=logging.WARNING):
            self.assertIsNone(decode(sign(version=1), secret="another secret"))

    @given(position=st.integers(0, 200), replacement=st.integers(0, 255))
    def test_any_byte_changed_is_rejected(
        self, position: int, replacement: int
    ) -> None:
        signed = bytearray(sign(b"some value"))
        position %= len(signed)
        if signed[position] == replacement:
            replacement ^= 1
        signed[position] = replacement
        with ExpectLog(gen_log, ".", required=False):
            self.assertIsNone(decode(bytes(signed)))

    @given(cut=st.integers(1, 200))
    def test_truncated_is_rejected(self, cut: int) -> None:
        signed = sign(b"some value")
        self.assertIsNone(decode(signed[: len(signed) - 1 - cut % (len(signed) - 1)]))

    def test_expired(self) -> None:
        signed = sign(clock=at(NOW - 32 * DAY))
        self.assertIsNone(decode(signed))
        self.assertEqual(decode(signed, max_age_days=33), b"value")

    def test_fractional_max_age(self) -> None:
        signed = sign(clock=at(NOW - DAY))
        self.assertIsNone(decode(signed, max_age_days=0.5))
        self.assertEqual(decode(signed, max_age_days=1.5), b"value")

    def test_version1_expired_logs_warning(self) -> None:
        signed = sign(version=1, clock=at(NOW - 40 * DAY))
        with ExpectLog(gen_log, "Expired cookie", level=logging.WARNING):
            self.assertIsNone(decode(signed))

    def test_version1_future_timestamp_rejected(self) -> None:
        signed = sign(version=1, clock=at(NOW + 40 * DAY))
        with ExpectLog(gen_log, "Cookie timestamp in future", level=logging.WARNING):
            self.assertIsNone(decode(signed))

    def test_version1_name_value_boundary_attack(self) -> None:
        # Moving digits from the end of a v1 value into a leading-zero
        # timestamp keeps the HMAC input identical; it must still fail.
        encoded = base64.b64encode(b"1234")
        timestamp = b"0" + str(int(NOW)).encode()
        mac = hmac.new(utf8(SECRET), b"name" + encoded + timestamp, hashlib.sha1)
        forged = b"|".join([encoded, timestamp, mac.hexdigest().encode()])
        with ExpectLog(gen_log, "Tampered cookie", level=logging.WARNING):
            self.assertIsNone(decode(forged))

    def test_version2_length_prefix_cannot_be_shifted(self) -> None:
        signed = create_signed_value(SECRET, "ab", "c", clock=at(NOW))
        self.assertIsNone(decode_signed_value(SECRET, "a", signed, clock=at(NOW)))

    def test_empty_and_none(self) -> None:
        self.assertIsNone(decode(None))
        self.assertIsNone(decode(b""))
        self.assertIsNone(decode(""))

    def test_garbage(self) -> None:
        garbage_inputs: list[str | bytes] = [
            b"|",
            b"||",
            b"2|",
            b"2|x",
            b"2|1:0|",
            b"2|1:0|10:1700000000|4:name|8:aGVsbG8=",
            b"2|1:x|10:1700000000|4:name|8:aGVsbG8=|sig",
            b"2|+1:0|10:1700000000|4:name|8:aGVsbG8=|sig",
            b"2|99:0|",
            b"3|anything",
            b"\xff\xfe|\x00",
            "\u2603|1|2",
        ]
        for garbage in garbage_inputs:
            with (
                self.subTest(garbage=garbage),
                ExpectLog(gen_log, "Invalid cookie signature", required=False),
            ):
                self.assertIsNone(decode(garbage))
                self.assertIsNone(get_signature_key_version(garbage))

    def test_version1_bad_timestamp_with_valid_signature(self) -> None:
        encoded = base64.b64encode(b"v")
        timestamp = b" 1700000000"
        mac = hmac.new(utf8(SECRET), b"name" + encoded + timestamp, hashlib.sha1)
        forged = b"|".join([encoded, timestamp, mac.hexdigest().encode()])
        self.assertIsNone(decode(forged))

    def test_invalid_base64_with_valid_signature(self) -> None:
        signed_part = b"2|1:0|10:1700000000|4:name|3:a!b|"
        mac = hmac.new(utf8(SECRET), signed_part, hashlib.sha256).hexdigest()
        self.assertIsNone(decode(signed_part + mac.encode()))

    def test_all_digit_version1_payload(self) -> None:
        # Base64 text can be all digits, so a v1 value may begin "<digits>|";
        # a number too large to be a format version means version 1.
        value = base64.b64decode(b"12345678")
        signed = sign(value, version=1)
        self.assertTrue(signed.startswith(b"12345678|"))
        self.assertEqual(decode(signed), value)
        self.assertIsNone(get_signature_key_version(signed))


class MinVersionTest(unittest.TestCase):
    def test_min_version_2_rejects_version1(self) -> None:
        signed = sign(version=1)
        self.assertEqual(decode(signed), b"value")
        self.assertIsNone(decode(signed, min_version=2))

    def test_min_version_2_accepts_version2(self) -> None:
        self.assertEqual(decode(sign(), min_version=2), b"value")

    def test_unsupported_min_version(self) -> None:
        for bad in (0, 3):
            with self.subTest(min_version=bad):
                with self.assertRaisesRegex(ValueError, "min_version"):
                    decode(sign(), min_version=bad)


class KeyVersionTest(unittest.TestCase):
    SECRETS = {0: "zero", 1: "one"}

    def test_wrong_key_version_is_rejected(self) -> None:
        signed = create_signed_value(
            self.SECRETS, "name", "v", clock=at(NOW), key_version=1
        )
        relabelled = signed.replace(b"2|1:1|", b"2|1:0|", 1)
        self.assertIsNone(decode(relabelled, secret=self.SECRETS))

    def test_unknown_key_version_is_rejected(self) -> None:
        signed = create_signed_value(
            {5: "five"}, "name", "v", clock=at(NOW), key_version=5
        )
        self.assertIsNone(decode(signed, secret=self.SECRETS))

    def test_plain_secret_accepts_key_version_zero(self) -> None:
        signed = create_signed_value(
            {0: SECRET}, "name", "v", clock=at(NOW), key_version=0
        )
        self.assertEqual(decode(signed), b"v")

    def test_dict_secret_rejects_version1(self) -> None:
        self.assertIsNone(decode(sign(version=1), secret={0: SECRET}))

    def test_version1_has_no_key_version(self) -> None:
        self.assertIsNone(get_signature_key_version(sign(version=1)))
        self.assertEqual(get_signature_key_version(sign()), 0)

    def test_dict_secret_needs_key_version(self) -> None:
        with self.assertRaisesRegex(ValueError, "key_version"):
            create_signed_value(self.SECRETS, "name", "v")

    def test_missing_key_version(self) -> None:
        with self.assertRaisesRegex(ValueError, "key version 9"):
            create_signed_value(self.SECRETS, "name", "v", key_version=9)

    def test_version1_cannot_use_key_versions(self) -> None:
        with self.assertRaisesRegex(ValueError, "version 2"):
            create_signed_value(self.SECRETS, "name", "v", version=1, key_version=0)
        with self.assertRaisesRegex(ValueError, "version 2"):
            create_signed_value(SECRET, "name", "v", version=1, key_version=0)

    def test_unsupported_version(self) -> None:
        with self.assertRaisesRegex(ValueError, "Unsupported signed value version 3"):
            create_signed_value(SECRET, "name", "v", version=3)


class XsrfTokenTest(unittest.TestCase):
    TOKEN = bytes(range(16))

    def test_version2_round_trip(self) -> None:
        encoded = encode_xsrf_token(self.TOKEN, NOW, 2)
        self.assertEqual(decode_xsrf_token(encoded), (2, self.TOKEN, NOW))
        self.assertEqual(decode_xsrf_token(encoded.decode()), (2, self.TOKEN, NOW))

    def test_version2_layout_and_masking(self) -> None:
        version, mask_hex, masked_hex, timestamp = encode_xsrf_token(
            self.TOKEN, NOW, 2
        ).split(b"|")
        self.assertEqual((version, timestamp), (b"2", b"1700000000"))
        self.assertEqual(len(binascii.a2b_hex(mask_hex)), 4)
        self.assertNotEqual(binascii.a2b_hex(masked_hex), self.TOKEN)

    def test_version2_mask_changes_every_time(self) -> None:
        encodings = {encode_xsrf_token(self.TOKEN, NOW, 2) for _ in range(8)}
        self.assertGreater(len(encodings), 1)

    def test_version1_is_hex(self) -> None:
        encoded = encode_xsrf_token(self.TOKEN, NOW, 1)
        self.assertEqual(encoded, binascii.b2a_hex(self.TOKEN))
        version, token, timestamp = decode_xsrf_token(encoded)
        self.assertEqual((version, token), (1, self.TOKEN))
        self.assertIsInstance(timestamp, float)

    def test_version1_non_hex_is_raw_token(self) -> None:
        self.assertEqual(decode_xsrf_token("not hex!")[:2], (1, b"not hex!"))

    def test_unknown_encode_version(self) -> None:
        with self.assertRaisesRegex(ValueError, "xsrf cookie version 3"):
            encode_xsrf_token(self.TOKEN, NOW, 3)

    @given(token=st.binary(max_size=64), timestamp=st.integers(0, 2**40))
    def test_round_trip_property(self, token: bytes, timestamp: int) -> None:
        encoded = encode_xsrf_token(token, timestamp, 2)
        self.assertEqual(decode_xsrf_token(encoded), (2, token, float(timestamp)))

    def test_bad_input(self) -> None:
        for bad in [
            "2|zz|00|1",
            "2|0011|00",
            "2|00112233|0g|1",
            "2|001122|00|1",
            "2|00112233|00|-1",
            "2|00112233|00|1|extra",
            "3|a|b|c",
        ]:
            with self.subTest(cookie=bad):
                self.assertEqual(decode_xsrf_token(bad), (None, None, None))

    def test_tokens_match(self) -> None:
        self.assertTrue(xsrf_tokens_match(self.TOKEN, bytes(range(16))))
        self.assertFalse(xsrf_tokens_match(self.TOKEN, bytes(range(1, 17))))
        self.assertFalse(xsrf_tokens_match(self.TOKEN, self.TOKEN[:-1]))


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


if __name__ == "__main__":
    unittest.main()
