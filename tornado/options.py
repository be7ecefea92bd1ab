"""A global registry of command-line and config-file options.

Each module declares the options it understands with :func:`define`, usually
at import time, and reads them later as attributes of the global
:data:`options` object::

    from tornado.options import define, options, parse_command_line

    define("port", default=8888, help="port to listen on")
    define("debug", default=False, help="reload code on change")

    if __name__ == "__main__":
        parse_command_line()
        print(options.port)

Values come from the command line (:func:`parse_command_line`,
``--port=8000``) and/or from a Python file of assignments
(:func:`parse_config_file`, ``port = 8000``).  Dashes and underscores in
option names are interchangeable: an option defined as ``"fail-if-logs"`` is
read as ``options.fail_if_logs`` and set with either ``--fail-if-logs`` or
``--fail_if_logs``.

Values are checked against the option's type: ``str``, ``int``, ``float``,
``bool``, :class:`datetime.datetime`, :class:`datetime.timedelta`, or any
callable that builds a value from a string.  Options with ``multiple=True``
take comma-separated lists; integer lists also accept inclusive ranges such
as ``1:3``.

Importing this module also defines the logging options of
:func:`tornado.log.define_logging_options` (``--logging``,
``--log_file_prefix`` and friends) on the global :data:`options`, and the
first successful :func:`parse_command_line` or :func:`parse_config_file`
applies them with :func:`tornado.log.enable_pretty_logging`.  Use a separate
:class:`OptionParser` when that is not wanted.
"""

from __future__ import annotations

import datetime
import numbers
import os
import re
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from tornado.log import define_logging_options

__all__ = [
    "Error",
    "OptionParser",
    "add_parse_callback",
    "define",
    "options",
    "parse_command_line",
    "parse_config_file",
    "print_help",
]


class Error(Exception):
    """Raised for an unknown option, a malformed value or a conflicting definition."""


def _normalize_name(name: str) -> str:
    """The key under which ``name`` is stored: dashes and underscores are one."""
    return name.replace("_", "-")


class _Unset:
    """Marker type: an option has never been given a value."""


_UNSET = _Unset()


class _ValueParsers:
    """Turn command-line strings into values of the non-obvious option types."""

    DATETIME_FORMATS = (
        "%a %b %d %H:%M:%S %Y",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y%m%d %H:%M:%S",
        "%Y%m%d %H:%M",
        "%Y-%m-%d",
        "%Y%m%d",
        "%H:%M:%S",
        "%H:%M",
    )

    # Every spelling of a unit accepted in timedelta strings, by unit.
    TIMEDELTA_UNITS = {
        "weeks": ("w", "wk", "wks", "week", "weeks"),
        "days": ("d", "day", "days"),
        "hours": ("h", "hr", "hrs", "hour", "hours"),
        "minutes": ("m", "min", "mins", "minute", "minutes"),
        "seconds": ("s", "sec", "secs", "second", "seconds"),
        "milliseconds": ("ms", "millisecond", "milliseconds"),
        "microseconds": ("us", "microsecond", "microseconds"),
    }
    UNIT_BY_SPELLING = {
        spelling: unit
        for unit, spellings in TIMEDELTA_UNITS.items()
        for spelling in spellings
    }
    TIMEDELTA_PART = re.compile(
        r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*"
    )

    TRUE_WORDS = frozenset(["true", "t", "1", "yes", "y", "on"])
    FALSE_WORDS = frozenset(["false", "f", "0", "no", "n", "off"])

    @classmethod
    def parse_datetime(cls, text: str) -> datetime.datetime:
        for fmt in cls.DATETIME_FORMATS:
            try:
                return datetime.datetime.strptime(text.strip(), fmt)
            except ValueError:
                pass
        raise ValueError(f"unrecognized date/time format {text!r}")

    @classmethod
    def parse_timedelta(cls, text: str) -> datetime.timedelta:
        if not text.strip():
            raise ValueError("empty time span")
        total = datetime.timedelta()
        position = 0
        while position < len(text):
            match = cls.TIMEDELTA_PART.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"unrecognized time span {text!r}")
            number, spelling = match.groups()
            unit = cls.UNIT_BY_SPELLING.get(spelling.lower() or "s")
            if unit is None:
                raise ValueError(f"unknown time unit {spelling!r} in {text!r}")
            total += datetime.timedelta(**{unit: float(number)})
            position = match.end()
        return total

    @classmethod
    def parse_bool(cls, text: str) -> bool:
        word = text.strip().lower()
        if word in cls.TRUE_WORDS:
            return True
        if word in cls.FALSE_WORDS:
            return False
        raise ValueError(f"expected true/false, yes/no, on/off or 1/0, not {text!r}")

    @classmethod
    def for_type(cls, kind: type) -> Callable[[str], Any]:
        """The function that parses a string into a value of ``kind``."""
        special: dict[type, Callable[[str], Any]] = {
            datetime.datetime: cls.parse_datetime,
            datetime.timedelta: cls.parse_timedelta,
            bool: cls.parse_bool,
            str: str,
        }
        return special.get(kind, kind)


class _Option:
    """One defined option: its description and its current value."""

    def __init__(
        self,
        name: str,
        default: Any,
        type: type,
        help: str | None,
        metavar: str | None,
        multiple: bool,
        file_name: str,
        group_name: str,
        callback: Callable[[Any], None] | None,
    ) -> None:
        if default is None and multiple:
            default = []
        self.name = name
        self.default = default
        self.type = type
        self.help = help
        self.metavar = metavar
        self.multiple = multiple
        self.file_name = file_name
        self.group_name = group_name
        self.callback = callback
        self._value: Any = _UNSET

    def value(self) -> Any:
        """The value set or parsed last, else the default."""
        return self.default if self._value is _UNSET else self._value

    def parse(self, text: str) -> Any:
        """Set the value from its string form (a comma list if ``multiple``)."""
        if self.multiple:
            value: Any = []
            for part in text.split(","):
                value.extend(self._parse_list_item(part))
        else:
            value = self._parse_one(text)
        self._store(value)
        return value

    def set(self, value: Any) -> None:
        """Set an already-typed value, checking it matches the option's type."""
        if self.multiple:
            if not isinstance(value, list) or not all(self._accepts(v) for v in value):
                raise Error(
                    f"Option {self.name!r} is required to be a list of "
                    f"{self.type.__name__}, not {value!r}"
                )
        elif value is not None and not self._accepts(value):
            raise Error(
                f"Option {self.name!r} is required to be a {self.type.__name__} "
                f"({type(value).__name__} given)"
            )
        self._store(value)

    def _accepts(self, value: Any) -> bool:
        if self.type is float and isinstance(value, numbers.Real):
            return not isinstance(value, bool)
        return isinstance(value, self.type)

    def _store(self, value: Any) -> None:
        self._value = value
        if self.callback is not None:
            self.callback(value)

    def _parse_list_item(self, part: str) -> list[Any]:
        """One comma-separated item; integer items may be inclusive ranges."""
        if self.type is int and ":" in part:
            low, _, high = part.partition(":")
            return list(range(self._parse_one(low), self._parse_one(high) + 1))
        return [self._parse_one(part)]

    def _parse_one(self, text: str) -> Any:
        try:
            return _ValueParsers.for_type(self.type)(text)
        except Exception as e:
            raise Error(
                f"Option {self.name!r}: cannot parse {text!r} as "
                f"{self.type.__name__}: {e}"
            )


def _defining_file() -> str:
    """The file that called ``define`` (``""`` when it is this module itself).

    Looks two frames up: past :meth:`OptionParser.define`, and past the
    module-level :func:`define` when that was the way in.
    """
    frame = sys._getframe(2)
    if frame.f_code.co_filename == __file__ and frame.f_code.co_name == "define":
        frame = typing.cast(types.FrameType, frame.f_back)
    caller = frame.f_code.co_filename
    return "" if caller == __file__ else caller


class OptionParser:
    """A collection of options: define them, parse values, read them back.

    Option values are read and assigned as attributes (``parser.port``) or
    items (``parser["port"]``).  Most programs use the global :data:`options`
    instance through the module-level functions; separate parsers are useful
    in tests and libraries.  Every parser defines ``--help``, which prints
    the option list and exits.
    """

    def __init__(self) -> None:
        # Attribute assignment is routed to options, so private state is
        # stored directly in the instance dictionary.
        self.__dict__["_options"] = {}
        self.__dict__["_parse_callbacks"] = []
        self.define(
            "help",
            type=bool,
            help="show this help information",
            callback=self._help_callback,
        )

    @property
    def _registry(self) -> dict[str, _Option]:
        return typing.cast(dict[str, _Option], self.__dict__["_options"])

    def _option(self, name: str) -> _Option:
        try:
            return self._registry[_normalize_name(name)]
        except KeyError:
            raise AttributeError(f"Unrecognized option {name!r}")

    def __getattr__(self, name: str) -> Any:
        """The value of option ``name``; AttributeError if it is not defined."""
        if name.startswith("__"):
            raise AttributeError(name)
        return self._option(name).value()

    def __setattr__(self, name: str, value: Any) -> None:
        """Set option ``name`` to an already-typed ``value``."""
        self._option(name).set(value)

    def __iter__(self) -> Iterator[str]:
        """The names of all options, spelled as they were defined."""
        return (option.name for option in list(self._registry.values()))

    def __contains__(self, name: str) -> bool:
        """Whether an option of this name (either spelling) is defined."""
        return _normalize_name(name) in self._registry

    def __getitem__(self, name: str) -> Any:
        """The value of option ``name``; KeyError if it is not defined."""
        try:
            return self._option(name).value()
        except AttributeError as e:
            raise KeyError(str(e))

    def __setitem__(self, name: str, value: Any) -> None:
        """Set option ``name`` to an already-typed ``value``."""
        try:
            option = self._option(name)
        except AttributeError as e:
            raise KeyError(str(e))
        option.set(value)

    def items(self) -> Iterable[tuple[str, Any]]:
        """``(name, value)`` pairs for all options."""
        return [(option.name, option.value()) for option in self._registry.values()]

    def groups(self) -> set[str]:
        """The names of all option groups (by default, the defining files)."""
        return {option.group_name for option in self._registry.values()}

    def group_dict(self, group: str) -> dict[str, Any]:
        """Names and values of the options in ``group`` (all if it is empty).

        Handy for passing a group of options as keyword arguments, e.g.
        ``Application(handlers, **options.group_dict("application"))``.
        """
        return {
            option.name: option.value()
            for option in self._registry.values()
            if not group or option.group_name == group
        }

    def as_dict(self) -> dict[str, Any]:
        """Names and values of all options."""
        return self.group_dict("")

    def define(
        self,
        name: str,
        default: Any = None,
        type: type | None = None,
        help: str | None = None,
        metavar: str | None = None,
        multiple: bool = False,
        group: str | None = None,
        callback: Callable[[Any], None] | None = None,
    ) -> None:
        """Define a new option.

        ``type`` defaults to the type of ``default`` (``str`` when there is
        no default, or when ``multiple`` is true).  With ``multiple=True``
        the value is a list, given as a comma-separated string.  ``help`` and
        ``metavar`` appear in :meth:`print_help`, grouped under ``group``
        (by default, the file that calls ``define``).  ``callback`` is called
        with the new value whenever the option is set or parsed.

        Raises :class:`Error` if the name is already defined (in either
        spelling), saying where the first definition was made.
        """
        normalized = _normalize_name(name)
        if normalized in self._registry:
            first = self._registry[normalized]
            raise Error(
                f"Option {name!r} already defined in {first.file_name or '<unknown>'}"
            )
        if type is None:
            type = default.__class__ if default is not None and not multiple else str
        file_name = _defining_file()
        self._registry[normalized] = _Option(
            name,
            default=default,
            type=type,
            help=help,
            metavar=metavar,
            multiple=multiple,
            file_name=file_name,
            group_name=file_name if group is None else group,
            callback=callback,
        )

    def parse_command_line(
        self, args: list[str] | None = None, final: bool = True
    ) -> list[str]:
        """Set options from ``--name=value`` arguments; return the rest.

        ``args`` defaults to ``sys.argv``; its first item (the program name)
        is skipped.  Parsing stops at the first argument not starting with
        ``-``, or after a bare ``--``; the remaining arguments are returned.
        A boolean option given without a value is set to true.

        With ``final`` false the parse callbacks are not run, so several
        sources can be parsed before the configuration is applied.
        """
        if args is None:
            args = sys.argv
        remaining: list[str] = []
        for index in range(1, len(args)):
            arg = args[index]
            if arg == "--":
                remaining = args[index + 1 :]
                break
            if not arg.startswith("-"):
                remaining = args[index:]
                break
            self._parse_argument(arg)
        if final:
            self.run_parse_callbacks()
        return remaining

    def _parse_argument(self, arg: str) -> None:
        name, equals, text = arg.lstrip("-").partition("=")
        if _normalize_name(name) not in self._registry:
            self.print_help()
            raise Error(f"Unrecognized command line option: {name!r}")
        option = self._registry[_normalize_name(name)]
        if not equals:
            if option.type is not bool:
                raise Error(f"Option {name!r} requires a value")
            text = "true"
        option.parse(text)

    def parse_config_file(self, path: str, final: bool = True) -> None:
        """Set options from a Python file of assignments such as ``port = 80``.

        The file runs with ``__file__`` set to its absolute path.  Names
        that are not defined options are ignored.  String values of
        non-string (or ``multiple``) options are parsed as on the command
        line; other values must already have the option's type.  ``final``
        works as in :meth:`parse_command_line`.

        A file that cannot be read raises :class:`OSError` naming it; errors
        in its code surface with tracebacks that point into it.
        """
        namespace: dict[str, Any] = {"__file__": os.path.abspath(path)}
        with open(path, "rb") as f:
            source = f.read()
        exec(compile(source, path, "exec"), namespace, namespace)
        for name, value in namespace.items():
            option = self._registry.get(_normalize_name(name))
            if option is not None:
                self._apply_config_value(option, value)
        if final:
            self.run_parse_callbacks()

    @staticmethod
    def _apply_config_value(option: _Option, value: Any) -> None:
        if option.multiple and not isinstance(value, (list, str)):
            raise Error(
                f"Option {option.name!r} is required to be a list of "
                f"{option.type.__name__} or a comma-separated string"
            )
        if isinstance(value, str) and (option.type is not str or option.multiple):
            option.parse(value)
        else:
            option.set(value)

    def print_help(self, file: TextIO | None = None) -> None:
        """Print all options, grouped, to ``file`` (default ``sys.stderr``)."""
        out = sys.stderr if file is None else file
        print(f"Usage: {sys.argv[0]} [OPTIONS]", file=out)
        print("\nOptions:\n", file=out)
        by_group: dict[str, list[_Option]] = {}
        for option in self._registry.values():
            by_group.setdefault(option.group_name, []).append(option)
        for group_name, group in sorted(by_group.items()):
            if group_name:
                print(f"\n{os.path.normpath(group_name)} options:\n", file=out)
            for option in sorted(group, key=lambda o: o.name):
                print(self._help_entry(option), file=out)

    _HELP_NAME_WIDTH = 30
    _HELP_WIDTH = 79

    @classmethod
    def _help_entry(cls, option: _Option) -> str:
        """The lines describing one option in :meth:`print_help`."""
        # Shown the way the command line spells it best: with dashes.
        label = _normalize_name(option.name)
        if option.metavar:
            label += f"={option.metavar}"
        description = option.help or ""
        if option.default is not None and option.default != "":
            description = f"{description} (default {option.default})".lstrip()
        text_width = cls._HELP_WIDTH - cls._HELP_NAME_WIDTH - 5
        lines = textwrap.wrap(description, text_width)
        if len(label) > cls._HELP_NAME_WIDTH or not lines:
            lines.insert(0, "")
        indent = " " * (cls._HELP_NAME_WIDTH + 4)
        first = f"  --{label:<{cls._HELP_NAME_WIDTH}} {lines[0]}".rstrip()
        return "\n".join([first] + [f"{indent} {line}" for line in lines[1:]])

    def _help_callback(self, value: bool) -> None:
        if value:
            self.print_help()
            sys.exit(0)

    def add_parse_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (no arguments) after each final parse."""
        self.__dict__["_parse_callbacks"].append(callback)

    def run_parse_callbacks(self) -> None:
        """Run the callbacks of :meth:`add_parse_callback`, in order."""
        for callback in list(self.__dict__["_parse_callbacks"]):
            callback()

    def mockable(self) -> _Mockable:
        """An adapter that lets ``mock.patch.object`` replace option values.

        ``mock.patch`` restores attributes with ``delattr``, which an
        :class:`OptionParser` does not support; use::

            with mock.patch.object(options.mockable(), "name", value):
                ...
        """
        return _Mockable(self)


class _Mockable:
    """Forwards attribute access to a parser and undoes sets on ``delattr``."""

    def __init__(self, parser: OptionParser) -> None:
        self.__dict__["_parser"] = parser
        self.__dict__["_originals"] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_parser"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        originals = self.__dict__["_originals"]
        if name in originals:
            raise RuntimeError(
                f"option {name!r} is already mocked; don't reuse mockables"
            )
        originals[name] = getattr(self.__dict__["_parser"], name)
        setattr(self.__dict__["_parser"], name, value)

    def __delattr__(self, name: str) -> None:
        setattr(self.__dict__["_parser"], name, self.__dict__["_originals"].pop(name))


options = OptionParser()
"""The global :class:`OptionParser`, used by the module-level functions."""


def define(
    name: str,
    default: Any = None,
    type: type | None = None,
    help: str | None = None,
    metavar: str | None = None,
    multiple: bool = False,
    group: str | None = None,
    callback: Callable[[Any], None] | None = None,
) -> None:
    """Define an option on the global :data:`options`; see :meth:`OptionParser.define`."""
    options.define(name, default, type, help, metavar, multiple, group, callback)


def parse_command_line(args: list[str] | None = None, final: bool = True) -> list[str]:
    """Parse the command line into the global :data:`options`.

    See :meth:`OptionParser.parse_command_line`.
    """
    return options.parse_command_line(args, final=final)


def parse_config_file(path: str, final: bool = True) -> None:
    """Read a config file into the global :data:`options`.

    See :meth:`OptionParser.parse_config_file`.
    """
    options.parse_config_file(path, final=final)


def print_help(file: TextIO | None = None) -> None:
    """Print the help for the global :data:`options`; see :meth:`OptionParser.print_help`."""
    options.print_help(file)


def add_parse_callback(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the global :data:`options` are parsed.

    See :meth:`OptionParser.add_parse_callback`.
    """
    options.add_parse_callback(callback)


define_logging_options(options)
