"""Tests for tornado.util."""

from __future__ import annotations

import datetime
import errno
import gzip
import os
import re
import subprocess
import sys
import traceback
import unittest
import zlib
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import tornado.util
from tornado.util import (
    ArgReplacer,
    Configurable,
    GzipDecompressor,
    ObjectDict,
    _websocket_mask,
    errno_from_exception,
    exec_in,
    import_object,
    raise_exc_info,
    re_unescape,
    timedelta_to_seconds,
)


class ObjectDictTest(unittest.TestCase):
    def test_attribute_and_item_access_share_storage(self) -> None:
        d = ObjectDict(a=1)
        d.b = 2
        self.assertEqual(d.a, 1)
        self.assertEqual(d["b"], 2)
        self.assertEqual(d, {"a": 1, "b": 2})

    def test_missing_attribute_raises_attribute_error(self) -> None:
        d = ObjectDict()
        with self.assertRaises(AttributeError) as cm:
            _ = d.missing
        self.assertIn("missing", str(cm.exception))
        self.assertFalse(hasattr(d, "missing"))
        self.assertEqual(getattr(d, "missing", "fallback"), "fallback")

    def test_is_a_dict(self) -> None:
        self.assertIsInstance(ObjectDict(), dict)


def decompress_all(
    data: bytes, max_length: int = 100, step: int | None = None
) -> bytes:
    """Decompress ``data`` fed ``step`` bytes at a time, as documented."""
    d = GzipDecompressor()
    pieces = []
    step = step or len(data) or 1
    for start in range(0, len(data), step):
        chunk = data[start : start + step]
        while chunk:
            piece = d.decompress(chunk, max_length)
            assert len(piece) <= max_length
            pieces.append(piece)
            chunk = d.unconsumed_tail
    d.flush()
    return b"".join(pieces)


class GzipDecompressorTest(unittest.TestCase):
    payload = os.urandom(2000) * 20  # compressible but not trivially

    def compressed(self) -> bytes:
        return gzip.compress(self.payload)

    def test_whole_input_without_max_length_is_deprecated(self) -> None:
        d = GzipDecompressor()
        with self.assertWarnsRegex(DeprecationWarning, "max_length"):
            out = d.decompress(self.compressed())
        self.assertEqual(out + d.flush(), self.payload)
        self.assertEqual(d.unconsumed_tail, b"")
        with self.assertWarns(DeprecationWarning):
            GzipDecompressor().decompress(self.compressed(), 0)

    def test_input_in_small_chunks(self) -> None:
        for step in (1, 7, 1000):
            with self.subTest(step=step):
                self.assertEqual(
                    decompress_all(self.compressed(), 4096, step), self.payload
                )

    def test_max_length_leaves_unconsumed_tail(self) -> None:
        d = GzipDecompressor()
        chunk = d.decompress(self.compressed(), 100)
        self.assertEqual(len(chunk), 100)
        self.assertNotEqual(d.unconsumed_tail, b"")
        pieces = [chunk]
        while d.unconsumed_tail:
            piece = d.decompress(d.unconsumed_tail, 100)
            self.assertLessEqual(len(piece), 100)
            pieces.append(piece)
        pieces.append(d.flush())
        self.assertEqual(b"".join(pieces), self.payload)

    def test_every_member_is_decompressed(self) -> None:
        members = [gzip.compress(b"first "), gzip.compress(b""), self.compressed()]
        data = b"".join(members)
        for max_length, step in [(1, 5), (7, 1), (100, len(data)), (10**6, 3)]:
            with self.subTest(max_length=max_length, step=step):
                self.assertEqual(
                    decompress_all(data, max_length, step), b"first " + self.payload
                )
        with self.assertWarns(DeprecationWarning):
            self.assertEqual(
                GzipDecompressor().decompress(data), b"first " + self.payload
            )

    def test_member_boundary_may_give_no_output(self) -> None:
        # The limit is reached in the first member: the second one waits in
        # unconsumed_tail, and a call may use up input without output (the
        # first member's trailer).
        data = gzip.compress(b"abc") + gzip.compress(b"def")
        d = GzipDecompressor()
        self.assertEqual(d.decompress(data, 3), b"abc")
        outputs = []
        while d.unconsumed_tail:
            outputs.append(d.decompress(d.unconsumed_tail, 3))
        self.assertEqual(b"".join(outputs), b"def")
        trailer_only = gzip.compress(b"xyz")
        d = GzipDecompressor()
        self.assertEqual(d.decompress(trailer_only[:-8], 10), b"xyz")
        self.assertEqual(d.decompress(trailer_only[-8:], 10), b"")
        d.flush()

    def test_trailing_garbage_is_rejected(self) -> None:
        for trailing in [b"garbage!", b"\0\0\0\0", zlib.compress(b"x")]:
            with self.subTest(trailing=trailing):
                with self.assertRaises(zlib.error):
                    decompress_all(self.compressed() + trailing)

    def test_truncated_input_is_rejected_by_flush(self) -> None:
        data = self.compressed()
        for cut in (1, 8, len(data) // 2, len(data) - 1):
            with self.subTest(cut=cut):
                d = GzipDecompressor()
                d.decompress(data[:cut], 10**6)
                with self.assertRaisesRegex(zlib.error, "incomplete or truncated"):
                    d.flush()
        # A lone NUL after a complete member starts nothing: truncated too.
        with self.assertRaises(zlib.error):
            decompress_all(data + b"\0")

    def test_flush_does_not_decompress_the_tail(self) -> None:
        d = GzipDecompressor()
        d.decompress(gzip.compress(b"\0" * 100_000), 10)
        with self.assertRaisesRegex(ValueError, "unconsumed_tail"):
            d.flush()

    def test_empty_input(self) -> None:
        d = GzipDecompressor()
        self.assertEqual(d.decompress(b"", 10), b"")
        self.assertEqual(d.flush(), b"")

    def test_plain_zlib_stream_is_rejected(self) -> None:
        with self.assertRaises(zlib.error):
            GzipDecompressor().decompress(zlib.compress(b"not gzip framed"), 100)

    def test_garbage_is_rejected(self) -> None:
        with self.assertRaises(zlib.error):
            GzipDecompressor().decompress(b"this is not compressed at all", 100)

    @given(
        st.lists(st.binary(max_size=300), min_size=1, max_size=4),
        st.integers(min_value=1, max_value=500),
        st.integers(min_value=1, max_value=50),
    )
    def test_members_round_trip(
        self, members: list[bytes], max_length: int, step: int
    ) -> None:
        data = b"".join(gzip.compress(m) for m in members)
        self.assertEqual(decompress_all(data, max_length, step), b"".join(members))


class ImportObjectTest(unittest.TestCase):
    def test_module_without_dots(self) -> None:
        self.assertIs(import_object("os"), os)

    def test_dotted_module(self) -> None:
        self.assertIs(import_object("tornado.util"), tornado.util)

    def test_attribute_of_module(self) -> None:
        self.assertIs(import_object("tornado.util.ObjectDict"), ObjectDict)
        self.assertIs(import_object("os.path.join"), os.path.join)

    def test_missing_attribute_raises_import_error(self) -> None:
        with self.assertRaises(ImportError) as cm:
            import_object("tornado.util.no_such_name")
        self.assertIn("no_such_name", str(cm.exception))

    def test_missing_module_raises_import_error(self) -> None:
        with self.assertRaises(ImportError):
            import_object("no_such_module_xyz")
        with self.assertRaises(ImportError):
            import_object("tornado.no_such_module_xyz.thing")


class ExecInTest(unittest.TestCase):
    def test_source_text_uses_given_namespaces(self) -> None:
        glob: dict[str, Any] = {"x": 2}
        loc: dict[str, Any] = {}
        exec_in("y = x * 21", glob, loc)
        self.assertEqual(loc, {"y": 42})
        self.assertNotIn("y", glob)

    def test_code_object(self) -> None:
        glob: dict[str, Any] = {}
        exec_in(compile("z = 'done'", "<test>", "exec"), glob)
        self.assertEqual(glob["z"], "done")

    def test_future_flags_are_not_inherited(self) -> None:
        # tornado.util itself uses postponed annotations; the code must not.
        glob: dict[str, Any] = {}
        exec_in("def f(a: int) -> None: pass", glob)
        self.assertIs(glob["f"].__annotations__["a"], int)

    def test_syntax_error(self) -> None:
        with self.assertRaises(SyntaxError):
            exec_in("def (", {})


class RaiseExcInfoTest(unittest.TestCase):
    def test_reraises_with_original_traceback(self) -> None:
        def fail() -> None:
            raise KeyError("original")

        try:
            fail()
        except KeyError:
            info = sys.exc_info()
        try:
            raise_exc_info(info)
        except KeyError as e:
            self.assertIs(e, info[1])
            frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
        self.assertIn("fail", frames)

    def test_empty_exc_info_is_type_error(self) -> None:
        with self.assertRaises(TypeError):
            raise_exc_info((None, None, None))


class ErrnoFromExceptionTest(unittest.TestCase):
    def test_errno_attribute(self) -> None:
        e = OSError(errno.ECONNRESET, "reset")
        self.assertEqual(errno_from_exception(e), errno.ECONNRESET)

    def test_first_argument(self) -> None:
        self.assertEqual(errno_from_exception(Exception(errno.EPIPE, "x")), errno.EPIPE)

    def test_nothing_available(self) -> None:
        self.assertIsNone(errno_from_exception(Exception()))

    def test_oserror_without_errno(self) -> None:
        self.assertIsNone(errno_from_exception(OSError("message only")))


class ReUnescapeTest(unittest.TestCase):
    def test_examples(self) -> None:
        self.assertEqual(re_unescape(r"/favicon\.ico"), "/favicon.ico")
        self.assertEqual(re_unescape(r"\(a\|b\)\ \\"), "(a|b) \\")
        self.assertEqual(re_unescape("no escapes"), "no escapes")

    def test_unicode_escaped_literal(self) -> None:
        self.assertEqual(re_unescape(re.escape("caf\u00e9 \u2603")), "caf\u00e9 \u2603")

    def test_special_sequences_are_rejected(self) -> None:
        for bad in (r"\d", r"\b", r"\1", r"x\Zy", r"\w+"):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError) as cm:
                    re_unescape(bad)
                self.assertIn(bad.split("\\")[1][0], str(cm.exception))

    @given(st.text())
    def test_inverts_re_escape(self, text: str) -> None:
        self.assertEqual(re_unescape(re.escape(text)), text)


class TimedeltaToSecondsTest(unittest.TestCase):
    def test_values(self) -> None:
        td = datetime.timedelta
        self.assertEqual(timedelta_to_seconds(td(hours=1, microseconds=5)), 3600.000005)
        self.assertEqual(timedelta_to_seconds(td(days=-1)), -86400.0)
        self.assertIsInstance(timedelta_to_seconds(td(0)), float)


class AliasesTest(unittest.TestCase):
    def test_aliases(self) -> None:
        self.assertIs(tornado.util.TimeoutError, TimeoutError)
        self.assertIs(tornado.util.unicode_type, str)
        self.assertIs(tornado.util.basestring_type, str)
        self.assertIs(tornado.util.bytes_type, bytes)


try:
    from tornado.speedups import websocket_mask as _c_websocket_mask
except ImportError:
    _c_websocket_mask = None  # type: ignore[assignment]

# (mask, data) -> masked data; both arguments may be any bytes-like object.
_MaskFunction = Callable[[Any, Any], bytes]


def _bytewise_mask(mask: bytes, data: bytes) -> bytes:
    """RFC 6455 masking spelled out, to check the fast versions against."""
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _bytewise_property_test() -> Callable[[Any], None]:
    """A property test of ``self.mask``; one per class, as Hypothesis wants."""

    @given(st.binary(min_size=4, max_size=4), st.binary(max_size=200))
    def test(self: Any, mask: bytes, data: bytes) -> None:
        self.assertEqual(self.mask(mask, data), _bytewise_mask(mask, data))

    return test


class _Abstract:
    """Holds test bases, out of sight of the test loaders."""

    class WebsocketMaskTests(unittest.TestCase):
        """Tests run against each implementation of the masking function."""

        mask_function: _MaskFunction

        def mask(self, mask: Any, data: Any) -> bytes:
            return type(self).mask_function(mask, data)

        def test_rfc6455_example(self) -> None:
            mask = bytes([0x37, 0xFA, 0x21, 0x3D])
            masked = bytes([0x7F, 0x9F, 0x4D, 0x51, 0x58])
            self.assertEqual(self.mask(mask, b"Hello"), masked)
            self.assertEqual(self.mask(mask, masked), b"Hello")

        def test_empty_and_leading_zero_bytes(self) -> None:
            self.assertEqual(self.mask(b"abcd", b""), b"")
            self.assertEqual(self.mask(b"\0\0\0\0", b"\0\0\0"), b"\0\0\0")
            self.assertEqual(self.mask(b"abcd", b"abcda"), b"\0\0\0\0\0")

        def test_every_small_size_and_alignment(self) -> None:
            mask = b"\x12\x34\xab\xff"
            data = os.urandom(64)
            for offset in range(8):
                for size in range(18):
                    chunk = data[offset : offset + size]
                    expected = _bytewise_mask(mask, chunk)
                    view = memoryview(data)[offset : offset + size]
                    with self.subTest(offset=offset, size=size):
                        self.assertEqual(self.mask(mask, chunk), expected)
                        self.assertEqual(self.mask(mask, view), expected)
                        self.assertEqual(self.mask(mask, bytearray(chunk)), expected)

        def test_sizes_around_the_fast_path_thresholds(self) -> None:
            mask = os.urandom(4)
            for size in (255, 256, 4095, 4096, 4097, 65535, 65536, 65541):
                data = os.urandom(size)
                with self.subTest(size=size):
                    self.assertEqual(self.mask(mask, data), _bytewise_mask(mask, data))

        def test_accepts_buffer_types(self) -> None:
            data = bytearray(b"payload")
            expected = self.mask(b"wxyz", bytes(data))
            self.assertIsInstance(expected, bytes)
            self.assertEqual(self.mask(b"wxyz", data), expected)
            self.assertEqual(self.mask(b"wxyz", memoryview(data)), expected)
            self.assertEqual(self.mask(bytearray(b"wxyz"), data), expected)
            self.assertEqual(self.mask(memoryview(b"wxyz"), data), expected)

        def test_strided_and_wide_buffers_are_masked_as_raw_bytes(self) -> None:
            raw = os.urandom(99)
            strided = memoryview(raw)[1::3]
            self.assertEqual(
                self.mask(b"abcd", strided), _bytewise_mask(b"abcd", strided.tobytes())
            )
            wide = memoryview(raw[:96]).cast("I")
            self.assertEqual(
                self.mask(b"abcd", wide), _bytewise_mask(b"abcd", raw[:96])
            )

        def test_large_buffer(self) -> None:
            data = os.urandom(1 << 20)
            mask = b"\x01\x02\x03\x04"
            masked = self.mask(mask, data)
            self.assertEqual(len(masked), len(data))
            self.assertEqual(masked[5], data[5] ^ mask[1])
            self.assertEqual(masked[-1], data[-1] ^ mask[(len(data) - 1) % 4])
            self.assertEqual(self.mask(mask, masked), data)

        def test_bad_mask_length(self) -> None:
            for mask in (b"", b"abc", b"abcde"):
                with self.subTest(mask=mask):
                    with self.assertRaises(ValueError) as cm:
                        self.mask(mask, b"data")
                    self.assertIn("4 bytes", str(cm.exception))
                    self.assertIn(f"got {len(mask)}", str(cm.exception))

        def test_non_buffer_arguments(self) -> None:
            with self.assertRaises(TypeError):
                self.mask(4, b"data")
            with self.assertRaises(TypeError):
                self.mask(b"abcd", "text")


class PythonWebsocketMaskTest(_Abstract.WebsocketMaskTests):
    mask_function = staticmethod(tornado.util._websocket_mask_python)

    test_matches_bytewise_definition = _bytewise_property_test()


@unittest.skipIf(_c_websocket_mask is None, "tornado.speedups was not built")
class CWebsocketMaskTest(_Abstract.WebsocketMaskTests):
    mask_function = staticmethod(_c_websocket_mask)

    def test_c_and_python_agree(self) -> None:
        python = tornado.util._websocket_mask_python
        data = os.urandom(70000)
        for size in [*range(40), 1000, 4096, 69999, 70000]:
            for offset in (0, 1, 3, 7):
                view = memoryview(data)[offset : offset + size]
                mask = os.urandom(4)
                with self.subTest(size=size, offset=offset):
                    self.assertEqual(self.mask(mask, view), python(mask, view))

    test_matches_bytewise_definition = _bytewise_property_test()


class WebsocketMaskSelectionTest(unittest.TestCase):
    """``TORNADO_EXTENSION`` picks the implementation at import time."""

    def chosen(self, setting: str | None) -> str:
        env = dict(os.environ)
        env.pop("TORNADO_EXTENSION", None)
        if setting is not None:
            env["TORNADO_EXTENSION"] = setting
        code = "import tornado.util as u; print(u._websocket_mask.__name__)"
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def test_zero_forces_pure_python(self) -> None:
        self.assertEqual(self.chosen("0"), "_websocket_mask_python")

    @unittest.skipIf(_c_websocket_mask is None, "tornado.speedups was not built")
    def test_extension_used_by_default(self) -> None:
        self.assertEqual(self.chosen(None), "websocket_mask")
        self.assertEqual(self.chosen("1"), "websocket_mask")

    def test_current_process_uses_the_expected_implementation(self) -> None:
        wanted_python = (
            os.environ.get("TORNADO_EXTENSION") == "0" or _c_websocket_mask is None
        )
        expected = (
            tornado.util._websocket_mask_python if wanted_python else _c_websocket_mask
        )
        self.assertIs(_websocket_mask, expected)


# A small configurable hierarchy for the tests below.
class Shape(Configurable):
    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        return Shape

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        return Circle

    def initialize(
        self, *args: Any, colour: str = "black", size: int = 1, **extra: Any
    ) -> None:
        self.args = args
        self.colour = colour
        self.size = size
        self.extra = extra


class Circle(Shape):
    pass


class Square(Shape):
    def initialize(self, *args: Any, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.corners = 4


# A second hierarchy, whose base is itself an implementation of Shape.
class Polygon(Shape):
    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        return Polygon

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        return Triangle


class Triangle(Polygon):
    pass


class Hexagon(Polygon):
    pass


class Unconfigured(Configurable):
    pass


class ConfigurableTest(unittest.TestCase):
    def setUp(self) -> None:
        self.saved_shape = Shape._save_configuration()
        self.saved_polygon = Polygon._save_configuration()

    def tearDown(self) -> None:
        Shape._restore_configuration(self.saved_shape)
        Polygon._restore_configuration(self.saved_polygon)

    def test_default_implementation(self) -> None:
        shape = Shape()
        self.assertIs(type(shape), Circle)
        self.assertIs(Shape.configured_class(), Circle)
        self.assertEqual((shape.colour, shape.size), ("black", 1))

    def test_arguments_reach_initialize(self) -> None:
        shape = Shape(1, 2, colour="red", shape_id=7)
        self.assertEqual(shape.args, (1, 2))
        self.assertEqual(shape.colour, "red")
        self.assertEqual(shape.extra, {"shape_id": 7})

    def test_configure_with_class(self) -> None:
        Shape.configure(Square)
        shape = Shape()
        self.assertIsInstance(shape, Square)
        self.assertEqual(shape.corners, 4)
        self.assertIs(Shape.configured_class(), Square)

    def test_configure_with_dotted_name(self) -> None:
        Shape.configure(f"{__name__}.Square")
        self.assertIs(type(Shape()), Square)

    def test_configure_none_restores_default(self) -> None:
        Shape.configure(Square)
        Shape.configure(None)
        self.assertIs(type(Shape()), Circle)

    def test_configured_kwargs_merge_with_call_kwargs(self) -> None:
        Shape.configure(Square, colour="green", size=5)
        shape = Shape(size=9)
        self.assertEqual((shape.colour, shape.size), ("green", 9))

    def test_configured_kwargs_do_not_apply_to_direct_subclass_calls(self) -> None:
        Shape.configure(Square, colour="green")
        square = Square()
        self.assertEqual(square.colour, "black")
        circle = Circle(colour="blue")
        self.assertIs(type(circle), Circle)
        self.assertEqual(circle.colour, "blue")

    def test_configuring_through_a_subclass_sets_the_base(self) -> None:
        Square.configure(Square, colour="white")
        self.assertIs(type(Shape()), Square)
        self.assertEqual(Shape().colour, "white")
        # Through a subclass, only its own subclasses are acceptable.
        with self.assertRaises(ValueError):
            Square.configure(Circle)

    def test_invalid_implementation(self) -> None:
        for bad in (int, Hexagon.__name__, 42):
            with self.subTest(bad=bad):
                with self.assertRaises((ValueError, ImportError)):
                    Shape.configure(bad)  # type: ignore[arg-type]
        with self.assertRaises(ValueError) as cm:
            Shape.configure(int)  # type: ignore[arg-type]
        self.assertIn("Invalid subclass", str(cm.exception))
        # An implementation of Shape outside Polygon is rejected by Polygon.
        with self.assertRaises(ValueError):
            Polygon.configure(Square)
        self.assertIs(Shape.configured_class(), Circle)

    def test_save_and_restore(self) -> None:
        Shape.configure(Square, size=3)
        saved = Shape._save_configuration()
        Shape.configure(Circle)
        Shape._restore_configuration(saved)
        shape = Shape()
        self.assertIs(type(shape), Square)
        self.assertEqual(shape.size, 3)

    def test_nested_hierarchies_are_configured_separately(self) -> None:
        Polygon.configure(Hexagon, colour="orange")
        self.assertIs(type(Shape()), Circle)
        hexagon = Polygon()
        self.assertIs(type(hexagon), Hexagon)
        self.assertEqual(hexagon.colour, "orange")
        Shape.configure(Triangle, size=4)
        self.assertIs(Polygon.configured_class(), Hexagon)

    def test_base_configured_to_nested_base_dispatches_again(self) -> None:
        Shape.configure(Polygon, size=2)
        Polygon.configure(Hexagon, colour="orange")
        shape = Shape()
        self.assertIs(type(shape), Hexagon)
        self.assertEqual((shape.size, shape.colour), (2, "orange"))

    def test_missing_overrides(self) -> None:
        with self.assertRaises(NotImplementedError):
            Unconfigured()


def target(a: int, b: int, callback: Any | None = None, *, key: int = 0) -> None:
    pass


class ArgReplacerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.replacer = ArgReplacer(target, "callback")

    def test_attributes(self) -> None:
        self.assertEqual(self.replacer.name, "callback")
        self.assertEqual(self.replacer.arg_pos, 2)
        self.assertIsNone(ArgReplacer(target, "key").arg_pos)
        self.assertIsNone(ArgReplacer(target, "nonexistent").arg_pos)

    def test_omitted(self) -> None:
        args, kwargs = (1, 2), {"key": 3}
        self.assertIsNone(self.replacer.get_old_value(args, kwargs))
        self.assertEqual(self.replacer.get_old_value(args, kwargs, "dflt"), "dflt")
        old, new_args, new_kwargs = self.replacer.replace("new", args, kwargs)
        self.assertIsNone(old)
        self.assertEqual(new_args, (1, 2))
        self.assertEqual(new_kwargs, {"key": 3, "callback": "new"})

    def test_positional(self) -> None:
        args = (1, 2, "old")
        kwargs: dict[str, Any] = {}
        self.assertEqual(self.replacer.get_old_value(args, kwargs), "old")
        old, new_args, new_kwargs = self.replacer.replace("new", args, kwargs)
        self.assertEqual(old, "old")
        self.assertEqual(list(new_args), [1, 2, "new"])
        self.assertEqual(new_kwargs, {})
        self.assertEqual(args, (1, 2, "old"))

    def test_keyword(self) -> None:
        args, kwargs = (1, 2), {"callback": "old"}
        self.assertEqual(self.replacer.get_old_value(args, kwargs), "old")
        old, new_args, new_kwargs = self.replacer.replace("new", args, kwargs)
        self.assertEqual(old, "old")
        self.assertEqual(new_args, (1, 2))
        self.assertEqual(new_kwargs, {"callback": "new"})

    def test_keyword_only_argument(self) -> None:
        replacer = ArgReplacer(target, "key")
        self.assertEqual(replacer.get_old_value((1, 2, 3, 4), {"key": 5}), 5)

    def test_bound_method(self) -> None:
        class Thing:
            def method(self, callback: Any) -> None:
                pass

        # getfullargspec keeps "self" for bound methods, as Tornado's does.
        self.assertEqual(ArgReplacer(Thing().method, "callback").arg_pos, 1)

    def test_uninspectable_callable(self) -> None:
        with self.assertRaises(TypeError):
            ArgReplacer(42, "x")  # type: ignore[arg-type]


class DoctestsTest(unittest.TestCase):
    def test_module_examples_pass(self) -> None:
        result = unittest.TestResult()
        tornado.util.doctests().run(result)
        self.assertEqual(result.failures + result.errors, [])
        self.assertTrue(result.wasSuccessful())


if __name__ == "__main__":
    unittest.main()
