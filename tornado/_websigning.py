"""Signed values and XSRF tokens: the pure helpers behind signed cookies.

Nothing here does I/O. `tornado.web` re-exports the signed-value functions
and constants and builds ``RequestHandler.set_signed_cookie``,
``get_signed_cookie`` and the XSRF checks on top of them.

Two signed-value formats exist:

* version 1: ``base64(value) "|" timestamp "|" hex(HMAC-SHA1)``, where the
  HMAC covers the name, the encoded value and the timestamp;
* version 2 (the default): ``"2|"`` followed by four length-prefixed fields
  (``key version``, ``timestamp``, ``name``, ``base64(value)``), each written
  as ``"<len>:<data>|"``, then ``hex(HMAC-SHA256)`` of everything before it.
  The key version picks a secret out of a ``{key_version: secret}`` dict, so
  secrets can be rotated while old cookies stay valid.

Decoding never raises for bad input *data*: anything malformed, tampered
with, expired or too old a version decodes to None.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Mapping

from tornado.escape import utf8
from tornado.util import _websocket_mask

MIN_SUPPORTED_SIGNED_VALUE_VERSION = 1
MAX_SUPPORTED_SIGNED_VALUE_VERSION = 2
DEFAULT_SIGNED_VALUE_VERSION = 2
DEFAULT_SIGNED_VALUE_MIN_VERSION = 1

SecretType = str | bytes | Mapping[int, str | bytes]
"""A single secret, or a mapping from key version to secret."""

_SECONDS_PER_DAY = 86400
# Version 1 values dated further ahead than this are rejected as forged.
_V1_MAX_FUTURE_SECONDS = 31 * _SECONDS_PER_DAY
# A leading number above this cannot be a format version: it is the start of
# a version 1 payload (base64 text can be all digits).
_LARGEST_PLAUSIBLE_VERSION = 999

_gen_log = logging.getLogger("tornado.general")


class _MalformedValue(ValueError):
    """Raised internally while parsing; always turned into a None result."""


def create_signed_value(
    secret: SecretType,
    name: str,
    value: str | bytes,
    version: int | None = None,
    clock: Callable[[], float] | None = None,
    key_version: int | None = None,
) -> bytes:
    """Sign and timestamp ``value`` so it can be stored in a cookie named ``name``.

    ``version`` selects the format (default 2). With a dict of secrets,
    ``key_version`` must name the one to sign with (version 2 only).
    ``clock`` returns the current time in seconds and defaults to
    ``time.time``.
    """
    if version is None:
        version = DEFAULT_SIGNED_VALUE_VERSION
    timestamp = utf8(str(int(_now(clock))))
    encoded_value = base64.b64encode(utf8(value))
    if version == 1:
        if isinstance(secret, Mapping) or key_version is not None:
            raise ValueError("key versioning requires signed value version 2")
        signature = _signature_v1(secret, name, encoded_value, timestamp)
        return b"|".join([encoded_value, timestamp, signature])
    if version == 2:
        key = _select_secret(secret, key_version)
        fields: list[str | bytes] = [
            str(key_version or 0),
            timestamp,
            name,
            encoded_value,
        ]
        signed_part = b"2|" + b"".join(_format_field(f) for f in fields)
        return signed_part + _signature_v2(key, signed_part)
    raise ValueError(f"Unsupported signed value version {version!r}")


def decode_signed_value(
    secret: SecretType,
    name: str,
    value: None | str | bytes,
    max_age_days: float = 31,
    clock: Callable[[], float] | None = None,
    min_version: int | None = None,
) -> bytes | None:
    """Return the original value if ``value`` is a valid signature, else None.

    The value must have been signed for the same ``name`` with one of the
    given secrets, no more than ``max_age_days`` ago, in a format no older
    than ``min_version`` (default 1).
    """
    if min_version is None:
        min_version = DEFAULT_SIGNED_VALUE_MIN_VERSION
    if not MIN_SUPPORTED_SIGNED_VALUE_VERSION <= min_version <= 2:
        raise ValueError(f"Unsupported min_version {min_version!r}")
    if not value:
        return None
    raw = utf8(value)
    version = _format_version(raw)
    if version < min_version:
        return None
    now = _now(clock)
    if version == 1:
        if isinstance(secret, Mapping):
            return None  # key-versioned secrets cannot verify version 1
        return _decode_v1(secret, name, raw, max_age_days, now)
    if version == 2:
        return _decode_v2(secret, name, raw, max_age_days, now)
    return None


def get_signature_key_version(value: None | str | bytes) -> int | None:
    """Return the key version recorded in a version 2 signed value.

    Returns None for version 1 values and for anything malformed. The result
    is not verified: only trust it after `decode_signed_value` succeeds.
    """
    if not value:
        return None
    raw = utf8(value)
    if _format_version(raw) != 2:
        return None
    try:
        return _parse_v2(raw)[0]
    except _MalformedValue:
        return None


def encode_xsrf_token(token: bytes, timestamp: float, version: int) -> bytes:
    """Serialize an XSRF token for the ``_xsrf`` cookie or form field.

    Version 2 masks the token with fresh random bytes on every call, so the
    page never carries the same string twice (defeating BREACH-style
    compression attacks): ``2|hex(mask)|hex(masked token)|timestamp``.
    Version 1 is just the hex token.
    """
    if version == 1:
        return binascii.b2a_hex(token)
    if version == 2:
        mask = os.urandom(4)
        return b"|".join(
            [
                b"2",
                binascii.b2a_hex(mask),
                binascii.b2a_hex(_websocket_mask(mask, token)),
                utf8(str(int(timestamp))),
            ]
        )
    raise ValueError(f"Unknown xsrf cookie version {version!r}")


def decode_xsrf_token(
    cookie: str | bytes,
) -> tuple[int | None, bytes | None, float | None]:
    """Parse a serialized XSRF token into ``(version, token, timestamp)``.

    Version 1 tokens carry no timestamp, so the current time is reported;
    a version 1 string that is not hex is taken as the raw token. Anything
    unparseable gives ``(None, None, None)``.
    """
    try:
        raw = utf8(cookie)
        version = _format_version(raw)
        if version == 1:
            return 1, _unhex_or_raw(raw), float(int(time.time()))
        if version == 2:
            return _decode_xsrf_v2(raw)
        raise _MalformedValue(f"unknown xsrf token version {version}")
    except (ValueError, TypeError):
        _gen_log.debug("Could not decode xsrf token", exc_info=True)
        return None, None, None


def xsrf_tokens_match(a: bytes, b: bytes) -> bool:
    """Compare two raw XSRF tokens in constant time."""
    return hmac.compare_digest(a, b)


def _now(clock: Callable[[], float] | None) -> float:
    return (clock or time.time)()


def _format_version(value: bytes) -> int:
    """Tell the format of a signed value from its ``"<digits>|"`` prefix."""
    prefix, separator, _ = value.partition(b"|")
    is_version_number = (
        bool(separator)
        and prefix.isdigit()
        and not prefix.startswith(b"0")
        and int(prefix) <= _LARGEST_PLAUSIBLE_VERSION
    )
    return int(prefix) if is_version_number else 1


def _select_secret(secret: SecretType, key_version: int | None) -> bytes:
    if not isinstance(secret, Mapping):
        return utf8(secret)
    if key_version is None:
        raise ValueError("key_version must be given when secret is a dict")
    if key_version not in secret:
        raise ValueError(f"no secret for key version {key_version!r}")
    return utf8(secret[key_version])


def _signature_v1(
    secret: str | bytes, name: str, encoded_value: bytes, timestamp: bytes
) -> bytes:
    mac = hmac.new(utf8(secret), digestmod=hashlib.sha1)
    for part in (utf8(name), encoded_value, timestamp):
        mac.update(part)
    return utf8(mac.hexdigest())


def _signature_v2(secret: bytes, signed_part: bytes) -> bytes:
    return utf8(hmac.new(secret, signed_part, digestmod=hashlib.sha256).hexdigest())


def _format_field(data: str | bytes) -> bytes:
    raw = utf8(data)
    return b"%d:%s|" % (len(raw), raw)


def _decode_v1(
    secret: str | bytes,
    name: str,
    value: bytes,
    max_age_days: float,
    now: float,
) -> bytes | None:
    parts = value.split(b"|")
    if len(parts) != 3:
        return None
    encoded_value, timestamp_text, signature = parts
    expected = _signature_v1(secret, name, encoded_value, timestamp_text)
    if not hmac.compare_digest(signature, expected):
        _gen_log.warning("Invalid cookie signature %r", value)
        return None
    if not timestamp_text.isdigit():
        return None
    timestamp = int(timestamp_text)
    if timestamp < now - max_age_days * _SECONDS_PER_DAY:
        _gen_log.warning("Expired cookie %r", value)
        return None
    if timestamp > now + _V1_MAX_FUTURE_SECONDS:
        # The v1 HMAC input is a plain concatenation, so a signature made for
        # another name can be replayed by moving digits into the timestamp.
        _gen_log.warning("Cookie timestamp in future; possible tampering %r", value)
        return None
    if timestamp_text.startswith(b"0"):
        _gen_log.warning("Tampered cookie %r", value)
        return None
    return _b64decode_or_none(encoded_value)


def _decode_v2(
    secret: SecretType,
    name: str,
    value: bytes,
    max_age_days: float,
    now: float,
) -> bytes | None:
    try:
        key_version, timestamp, signed_name, encoded_value, signed_part, signature = (
            _parse_v2(value)
        )
    except _MalformedValue:
        return None
    if isinstance(secret, Mapping):
        if key_version not in secret:
            return None
        key = utf8(secret[key_version])
    else:
        key = utf8(secret)
    if not hmac.compare_digest(signature, _signature_v2(key, signed_part)):
        return None
    if signed_name != utf8(name):
        return None
    if timestamp < now - max_age_days * _SECONDS_PER_DAY:
        return None
    return _b64decode_or_none(encoded_value)


def _parse_v2(value: bytes) -> tuple[int, int, bytes, bytes, bytes, bytes]:
    """Split a version 2 value into its fields.

    Returns ``(key_version, timestamp, name, encoded_value, signed_part,
    signature)``; raises `_MalformedValue` if the layout is wrong.
    """
    if not value.startswith(b"2|"):
        raise _MalformedValue("not a version 2 signed value")
    rest = value[2:]
    fields = []
    for _ in range(4):
        field, rest = _take_field(rest)
        fields.append(field)
    key_version_text, timestamp_text, name, encoded_value = fields
    signed_part = value[: len(value) - len(rest)]
    return (
        _parse_decimal(key_version_text),
        _parse_decimal(timestamp_text),
        name,
        encoded_value,
        signed_part,
        rest,
    )


def _take_field(data: bytes) -> tuple[bytes, bytes]:
    """Read one ``<len>:<data>|`` field; return it and the remaining bytes."""
    length_text, colon, rest = data.partition(b":")
    if not colon:
        raise _MalformedValue("missing field length")
    length = _parse_decimal(length_text)
    if rest[length : length + 1] != b"|":
        raise _MalformedValue("field length does not match its terminator")
    return rest[:length], rest[length + 1 :]


def _parse_decimal(text: bytes) -> int:
    # int() alone would also accept signs, spaces and underscores.
    if not text.isdigit():
        raise _MalformedValue(f"expected decimal digits, got {text!r}")
    return int(text)


def _b64decode_or_none(encoded: bytes) -> bytes | None:
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return None


def _unhex_or_raw(text: bytes) -> bytes:
    try:
        return binascii.a2b_hex(text)
    except binascii.Error:
        return text


def _decode_xsrf_v2(raw: bytes) -> tuple[int, bytes, float]:
    parts = raw.split(b"|")
    if len(parts) != 4:
        raise _MalformedValue("a version 2 xsrf token has four fields")
    _, mask_hex, masked_hex, timestamp_text = parts
    mask = binascii.a2b_hex(mask_hex)
    token = _websocket_mask(mask, binascii.a2b_hex(masked_hex))
    return 2, token, float(_parse_decimal(timestamp_text))
