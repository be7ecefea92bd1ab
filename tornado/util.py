"""Small helpers shared by the rest of the package.

Nothing here depends on any other ``tornado`` module, so every layer may use
it. The most widely used pieces are `Configurable` (classes whose constructor
returns an instance of a globally configured implementation subclass),
`ObjectDict`, `import_object` and `ArgReplacer`.

``TimeoutError`` is the builtin :class:`TimeoutError`, re-exported here for
code written against older releases where it was a separate class.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import CodeType, TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    NoReturn,
)

if TYPE_CHECKING:
    import unittest

# Aliases kept for code that still spells the Python 2 era names.
bytes_type = bytes
unicode_type = str
basestring_type = str

TimeoutError = TimeoutError

_ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


class ObjectDict(dict[str, Any]):
    """A dictionary whose keys can also be read and written as attributes.

    >>> d = ObjectDict(colour="blue")
    >>> d.colour
    'blue'
    >>> d.size = 3
    >>> d["size"]
    3
    """

    def __getattr__(self, name: str) -> Any:
        """Return ``self[name]``; a missing key raises `AttributeError`."""
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        """Store ``value`` under the key ``name``."""
        self[name] = value


class GzipDecompressor:
    """Incremental decompressor for gzip-framed data.

    Feed chunks to `decompress` as they arrive, then call `flush` once the
    input is exhausted.  Every member of a multi-member stream (RFC 1952
    section 2.2, as ``cat a.gz b.gz`` makes) is decompressed in turn.

    ``max_length`` bounds how much output a single call produces; the input
    held back because of that bound is left in `unconsumed_tail` and must be
    passed back in a later call.  A call may return ``b""`` and still make
    progress (at a member boundary, say), so callers loop until
    `unconsumed_tail` is empty::

        decompressor = GzipDecompressor()
        for chunk in compressed_chunks:
            while chunk:
                output.write(decompressor.decompress(chunk, 65536))
                chunk = decompressor.unconsumed_tail
        decompressor.flush()

    Bytes after a member that do not start another member raise
    ``zlib.error``, as does corrupt data.
    """

    def __init__(self) -> None:
        """Create a decompressor expecting a gzip header and trailer."""
        self._member = _new_gzip_member()
        # Whether the current member received any input.
        self._member_started = False
        # Input held back at a member boundary once the output limit was hit.
        self._held_back = b""

    def decompress(self, value: bytes, max_length: int = 0) -> bytes:
        """Decompress a chunk and return whatever output is available.

        With a positive ``max_length`` at most that many bytes are returned;
        the unprocessed input is then available as `unconsumed_tail`.
        Without one (deprecated: a small input may expand without bound) all
        the output is returned.  Corrupt input raises ``zlib.error``.
        """
        if not max_length:
            warnings.warn(
                "GzipDecompressor.decompress without max_length is deprecated: "
                "pass a limit and loop over unconsumed_tail",
                DeprecationWarning,
                stacklevel=2,
            )
        self._held_back = b""
        output = []
        budget = max_length
        data = value
        while True:
            piece = self._member.decompress(data, budget)
            output.append(piece)
            self._member_started = self._member_started or bool(data)
            if max_length:
                budget -= len(piece)
            if not self._member.eof:
                break
            data = self._member.unused_data
            self._member = _new_gzip_member()
            self._member_started = False
            if not data:
                break
            if max_length and not budget:
                self._held_back = data
                break
        return b"".join(output)

    @property
    def unconsumed_tail(self) -> bytes:
        """Input held back by the last ``max_length``-limited `decompress`."""
        return self._held_back or self._member.unconsumed_tail

    def flush(self) -> bytes:
        """Return any output still buffered; call once all input was fed.

        Raises ``zlib.error`` if the input ended partway through a member,
        and `ValueError` if `unconsumed_tail` is not empty: the rest is not
        decompressed here, which would defeat ``max_length``.
        """
        if self.unconsumed_tail:
            raise ValueError("unconsumed_tail is not empty; call decompress first")
        if self._member_started:
            raise zlib.error(
                "Error -5 while decompressing data: incomplete or truncated stream"
            )
        return b""


def _new_gzip_member() -> Any:
    # 16 added to the window size selects the gzip container format.
    return zlib.decompressobj(16 + zlib.MAX_WBITS)


def import_object(name: str) -> Any:
    """Import and return the object named by a dotted path.

    ``import_object("a.b.c")`` is the equivalent of ``from a.b import c``; a
    name without dots imports and returns that module. A missing final
    attribute is reported as `ImportError`, like a missing module.

    >>> import_object("os.path.join") is __import__("os").path.join
    True
    >>> import_object("os") is __import__("os")
    True
    """
    if "." not in name:
        return __import__(name)
    module_name, _, attribute = name.rpartition(".")
    module = __import__(module_name, fromlist=[attribute])
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"No module named {attribute}")


def exec_in(
    code: str | CodeType,
    glob: dict[str, Any],
    loc: Mapping[str, Any] | None = None,
) -> None:
    """Execute ``code`` (source text or a code object) in the given namespaces.

    Source text is compiled without inheriting this module's ``__future__``
    flags, so the code behaves as if it were written in its own file.
    """
    if isinstance(code, str):
        code = compile(code, "<string>", "exec", dont_inherit=True)
    exec(code, glob, loc)


def raise_exc_info(exc_info: _ExcInfo) -> NoReturn:
    """Re-raise the exception described by a ``sys.exc_info()`` triple.

    The original traceback is preserved. A triple without an exception
    raises `TypeError`.
    """
    try:
        error = exc_info[1]
        if error is None:
            raise TypeError("raise_exc_info called with no exception")
        raise error.with_traceback(exc_info[2])
    finally:
        # Drop the local reference to the traceback to avoid a frame cycle.
        exc_info = (None, None, None)


def errno_from_exception(e: BaseException) -> int | None:
    """Return the error number carried by an exception, or None.

    Uses the ``errno`` attribute when the exception has one, and otherwise
    the first constructor argument (the convention of ``socket`` and
    ``select`` errors on older Pythons).
    """
    if hasattr(e, "errno"):
        return e.errno  # type: ignore[no-any-return]
    if e.args:
        return e.args[0]  # type: ignore[no-any-return]
    return None


_ESCAPED_CHAR = re.compile(r"\\(.)", re.DOTALL)


def _unescape_char(match: re.Match[str]) -> str:
    char = match.group(1)
    if char.isascii() and char.isalnum():
        raise ValueError(f"cannot unescape '\\\\{char}'")
    return char


def re_unescape(s: str) -> str:
    r"""Undo `re.escape`: turn a regex-escaped literal back into plain text.

    Only escapes of punctuation and whitespace are accepted; an escape of a
    letter or digit (``\d``, ``\1``...) denotes a character class or
    back-reference that has no literal meaning and raises `ValueError`.

    >>> re_unescape(r"a\.b\*c")
    'a.b*c'
    """
    return _ESCAPED_CHAR.sub(_unescape_char, s)


class Configurable:
    """Base for classes whose constructor picks the implementation subclass.

    A configurable hierarchy has a *base* (named by `configurable_base`) and
    a default implementation (`configurable_default`). Calling the base
    class, e.g. ``Resolver()``, creates an instance of whatever subclass was
    selected with `configure` (or of the default), passing the keyword
    arguments given to `configure` merged with those of the call. Calling a
    concrete subclass directly creates that subclass.

    Subclasses do their set-up in `initialize` rather than ``__init__``, which
    receives the merged arguments.
    """

    # Stored on each configurable base class (looked up in its own __dict__
    # so that nested hierarchies keep separate settings).
    _configured_impl: type[Configurable] | None = None
    _configured_kwargs: dict[str, Any] | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Create an instance of the configured implementation.

        See the class documentation for how the class is chosen.
        """
        base = cls.configurable_base()
        init_kwargs: dict[str, Any] = {}
        if cls is base:
            impl = cls.configured_class()
            init_kwargs.update(base.__dict__.get("_configured_kwargs") or {})
        else:
            impl = cls
        init_kwargs.update(kwargs)
        if impl.configurable_base() is not base:
            # The implementation heads its own configurable hierarchy.
            return impl(*args, **init_kwargs)
        instance = super().__new__(impl)
        instance.initialize(*args, **init_kwargs)
        return instance

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """Return the base class of this configurable hierarchy.

        Must be overridden; usually returns the class that defines it.
        """
        raise NotImplementedError()

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """Return the implementation used when none was configured.

        Must be overridden by the base class.
        """
        raise NotImplementedError()

    def _initialize(self) -> None:
        """Set up a new instance; takes the place of ``__init__``.

        Receives the constructor's positional arguments and the merged keyword
        arguments. The base version does nothing.
        """

    # Typed loosely so that subclasses may override it with any arguments.
    initialize: Callable[..., None] = _initialize

    @classmethod
    def configure(cls, impl: None | str | type[Configurable], **kwargs: Any) -> None:
        """Select the implementation created when the base class is called.

        ``impl`` is a subclass, its dotted name, or None to go back to the
        default. ``kwargs`` are passed to `initialize` of every instance
        created through the base class (call arguments take precedence).
        Anything that is not a subclass of this class raises `ValueError`.
        """
        base = cls.configurable_base()
        if isinstance(impl, str):
            impl = import_object(impl)
        if impl is not None and not (isinstance(impl, type) and issubclass(impl, cls)):
            raise ValueError(f"Invalid subclass of {cls}: {impl!r}")
        base._configured_impl = impl
        base._configured_kwargs = kwargs

    @classmethod
    def configured_class(cls) -> type[Configurable]:
        """Return the implementation that calling the base class creates."""
        base = cls.configurable_base()
        impl = base.__dict__.get("_configured_impl")
        if impl is None:
            impl = cls.configurable_default()
            base._configured_impl = impl
        if impl is None:
            raise ValueError("configured class not found")
        return impl

    @classmethod
    def _save_configuration(
        cls,
    ) -> tuple[type[Configurable] | None, dict[str, Any] | None]:
        base = cls.configurable_base()
        return (
            base.__dict__.get("_configured_impl"),
            base.__dict__.get("_configured_kwargs"),
        )

    @classmethod
    def _restore_configuration(
        cls, saved: tuple[type[Configurable] | None, dict[str, Any] | None]
    ) -> None:
        base = cls.configurable_base()
        base._configured_impl, base._configured_kwargs = saved


class ArgReplacer:
    """Reads or replaces one named argument in a captured ``(args, kwargs)``.

    Useful for wrappers that must find or substitute an argument (such as a
    ``callback``) that may have been passed either by position or by name.
    """

    def __init__(self, func: Callable[..., Any], name: str) -> None:
        """Locate the argument ``name`` in the signature of ``func``."""
        self.name = name
        """The argument's name."""
        names = _positional_arg_names(func)
        self.arg_pos: int | None = names.index(name) if name in names else None
        """Index of the argument among positional ones, or None."""

    def _passed_by_position(self, args: Sequence[Any]) -> bool:
        return self.arg_pos is not None and len(args) > self.arg_pos

    def get_old_value(
        self, args: Sequence[Any], kwargs: dict[str, Any], default: Any = None
    ) -> Any:
        """Return the argument's value in a call, or ``default`` if absent."""
        if self._passed_by_position(args):
            return args[self.arg_pos]  # type: ignore[index]
        return kwargs.get(self.name, default)

    def replace(
        self, new_value: Any, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> tuple[Any, Sequence[Any], dict[str, Any]]:
        """Put ``new_value`` in place of the argument.

        Returns ``(old_value, args, kwargs)`` to use for the call. If the
        argument was not passed positionally it is set in ``kwargs`` (which is
        modified in place) and ``old_value`` is None when it was absent.
        """
        if self._passed_by_position(args):
            assert self.arg_pos is not None
            new_args = list(args)
            old_value = new_args[self.arg_pos]
            new_args[self.arg_pos] = new_value
            return old_value, new_args, kwargs
        old_value = kwargs.get(self.name)
        kwargs[self.name] = new_value
        return old_value, args, kwargs


def _positional_arg_names(func: Callable[..., Any]) -> list[str]:
    try:
        return inspect.getfullargspec(func).args
    except TypeError:
        # Compiled (e.g. Cython) functions may still expose a code object.
        code = getattr(func, "func_code", None)
        if code is None:
            raise
        return list(code.co_varnames[: code.co_argcount])


def timedelta_to_seconds(td: timedelta) -> float:
    """Return the length of a `datetime.timedelta` in seconds, as a float.

    >>> timedelta_to_seconds(timedelta(minutes=1, milliseconds=500))
    60.5
    """
    return td.total_seconds()


# Below this many bytes, XOR as one big integer beats the per-phase translate.
_TRANSLATE_MASK_MIN_SIZE = 4096
# _XOR_TABLES[k] maps every byte value b to b ^ k; filled on first use.
_XOR_TABLES: dict[int, bytes] = {}


def _xor_table(key_byte: int) -> bytes:
    table = _XOR_TABLES.get(key_byte)
    if table is None:
        table = _XOR_TABLES[key_byte] = bytes(b ^ key_byte for b in range(256))
    return table


def _websocket_mask_python(mask: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` repeated (RFC 6455 masking).

    The pure-Python fallback of the C version in ``tornado.speedups``.
    Large payloads are done in four strided passes of `bytes.translate`,
    one per key byte; small ones as one big-integer XOR.
    """
    key = memoryview(mask).tobytes()
    if len(key) != 4:
        raise ValueError(f"websocket mask must be 4 bytes long, got {len(key)}")
    # As bytes, any buffer (strided, or of wider items) is a plain byte run.
    source = data if isinstance(data, bytes) else memoryview(data).tobytes()
    length = len(source)
    if length < _TRANSLATE_MASK_MIN_SIZE:
        repeated = (key * (length // 4 + 1))[:length]
        masked = int.from_bytes(source, "little") ^ int.from_bytes(repeated, "little")
        return masked.to_bytes(length, "little")
    result = bytearray(length)
    for phase, key_byte in enumerate(key):
        result[phase::4] = source[phase::4].translate(_xor_table(key_byte))
    return bytes(result)


def _speedups_module() -> Any:
    """The C extension ``tornado.speedups``, or None to use pure Python.

    None when it is not built, or when ``TORNADO_EXTENSION=0``;
    ``TORNADO_EXTENSION=1`` makes a missing extension an `ImportError`.
    """
    if os.environ.get("TORNADO_EXTENSION") == "0":
        return None
    try:
        from tornado import speedups
    except ImportError:
        if os.environ.get("TORNADO_EXTENSION") == "1":
            raise
        return None
    return speedups


_websocket_mask: Callable[[bytes, bytes | bytearray | memoryview], bytes] = getattr(
    _speedups_module(), "websocket_mask", _websocket_mask_python
)


def doctests() -> unittest.TestSuite:
    """Return a test suite running the examples in this module's docstrings."""
    import doctest

    return doctest.DocTestSuite(sys.modules[__name__])
