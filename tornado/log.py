"""Loggers used by Tornado, and a readable, optionally coloured log format.

Tornado writes to three loggers:

* ``tornado.access`` (:data:`access_log`): one line per HTTP request served.
* ``tornado.application`` (:data:`app_log`): errors raised by application
  code, such as uncaught exceptions in request handlers or callbacks.
* ``tornado.general`` (:data:`gen_log`): everything else, mostly problems
  with the network or with peers.

Tornado does not configure logging by itself; it only does so when asked
through :func:`enable_pretty_logging`, which :mod:`tornado.options` calls when
the command line or a config file is parsed (unless ``--logging=none``).
:class:`LogFormatter` can also be used on its own with any handler.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import typing
from types import ModuleType
from typing import Any

# None where the interpreter has no curses (e.g. Windows); tests set it so.
curses: ModuleType | None
try:
    import curses
except ImportError:  # pragma: no cover - e.g. Windows
    curses = None

try:
    import colorama  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:
    colorama = None

if typing.TYPE_CHECKING:
    from tornado.options import OptionParser

__all__ = [
    "LogFormatter",
    "access_log",
    "app_log",
    "define_logging_options",
    "enable_pretty_logging",
    "gen_log",
]

access_log = logging.getLogger("tornado.access")
"""Logger for the per-request lines of HTTP servers (``tornado.access``)."""

app_log = logging.getLogger("tornado.application")
"""Logger for errors in application code (``tornado.application``)."""

gen_log = logging.getLogger("tornado.general")
"""Logger for everything else Tornado reports (``tornado.general``)."""


def _access_level(status_code: int) -> int:
    """The level of a response's line in ``tornado.access``.

    Info below 400, warning for client errors (4xx), error for server
    errors (5xx).
    """
    if status_code >= 500:
        return logging.ERROR
    if status_code >= 400:
        return logging.WARNING
    return logging.INFO


def _stream_supports_color(stream: Any) -> bool:
    """Whether ``stream`` is a terminal that understands colour sequences."""
    try:
        if not stream.isatty():
            return False
        if curses is not None:
            curses.setupterm(fd=stream.fileno())
            colors: int = curses.tigetnum("colors")
            return colors > 0
        if colorama is not None:
            wrapped = getattr(colorama.initialise, "wrapped_stderr", None)
            return stream is wrapped
    except Exception:
        # No usable terminal description (unset or unknown TERM, a stream
        # without a file descriptor, ...): stay plain.
        pass
    return False


def _terminal_color_codes(colors: dict[int, int]) -> tuple[dict[int, str], str]:
    """The sequences that switch to each colour, and back to normal.

    Uses the terminal's own description when curses knows it, and the
    common ANSI sequences otherwise.
    """
    if curses is not None:
        set_color = curses.tigetstr("setaf") or curses.tigetstr("setf") or b""
        if set_color:
            codes = {
                level: curses.tparm(set_color, code).decode("ascii")
                for level, code in colors.items()
            }
            return codes, (curses.tigetstr("sgr0") or b"").decode("ascii")
    codes = {level: f"\033[2;3{code}m" for level, code in colors.items()}
    return codes, "\033[0m"


def _render_message(record: logging.LogRecord) -> str:
    """``record.getMessage()``, except that bytes messages never warn.

    Bytes become their ``repr`` (as ``str()`` would make them) without
    tripping ``python -bb``.
    """
    msg = record.msg
    text = repr(msg) if isinstance(msg, (bytes, bytearray)) else str(msg)
    if record.args:
        text = text % record.args
    return text


# Where a record came from, in LogFormatter.DEFAULT_FORMAT.
_RECORD_PREFIX = "[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]"
# The colour numbers of terminals (as curses and ANSI sequences number them).
_TERMINAL_COLORS = dict(
    black=0, red=1, green=2, yellow=3, blue=4, magenta=5, cyan=6, white=7
)
_STANDARD_LEVELS = (
    logging.DEBUG,
    logging.INFO,
    logging.WARNING,
    logging.ERROR,
    logging.CRITICAL,
)
_LEVEL_COLOR_NAMES = ("blue", "green", "yellow", "red", "magenta")


class LogFormatter(logging.Formatter):
    """A log formatter with a compact prefix, colour, and indented tracebacks.

    Each record gets a prefix such as ``[I 240101 12:00:00 web:2300]``
    (level initial, time, module and line), coloured by level when ``color``
    is true and standard error is a colour terminal.  Continuation lines,
    such as those of a traceback, are indented so that records stand apart.

    Formatting never raises: a record whose message cannot be built (for
    example because its arguments don't match the format string) is shown
    as ``Bad message`` with the error and the record's contents.

    :param fmt: the format string.  Besides the usual record attributes it
        may use ``color`` and ``end_color``, the sequences that start and
        end the level's colour (empty when colour is off).
    :param datefmt: the ``time.strftime`` format for ``asctime``.
    :param style: the format string's style: ``%``, ``{`` or ``$``.
    :param color: whether to colour output on a terminal that supports it.
    :param colors: a map from log level to a terminal colour number
        (0 black, 1 red, 2 green, 3 yellow, 4 blue, 5 magenta, 6 cyan,
        7 white).
    """

    #: The level's colour around a bracketed prefix (level initial, date and
    #: time, module and line), then the message.
    DEFAULT_FORMAT = f"%(color)s{_RECORD_PREFIX}%(end_color)s %(message)s"
    #: Two-digit year, month and day, then the time of day.
    DEFAULT_DATE_FORMAT = "%y%m%d %H:%M:%S"
    #: Terminal colour number for each standard log level: debug blue, info
    #: green, warning yellow, error red, critical magenta.
    DEFAULT_COLORS = {
        level: _TERMINAL_COLORS[name]
        for level, name in zip(_STANDARD_LEVELS, _LEVEL_COLOR_NAMES, strict=True)
    }

    def __init__(
        self,
        fmt: str = DEFAULT_FORMAT,
        datefmt: str = DEFAULT_DATE_FORMAT,
        style: str = "%",
        color: bool = True,
        colors: dict[int, int] = DEFAULT_COLORS,
    ) -> None:
        """Create the formatter; see the class description for the arguments."""
        # Not validated: a format without fields is unusual but harmless.
        super().__init__(fmt, datefmt, typing.cast(Any, style), validate=False)
        self._colors: dict[int, str] = {}
        self._normal = ""
        if color and _stream_supports_color(sys.stderr):
            self._colors, self._normal = _terminal_color_codes(colors)

    def format(self, record: logging.LogRecord) -> str:
        """The text of ``record``: prefix, message, and indented traceback."""
        try:
            record.message = _render_message(record)
        except Exception as e:
            record.message = f"Bad message ({e!r}): {record.__dict__!r}"
        record.asctime = self.formatTime(record, self.datefmt)
        color = self._colors.get(record.levelno, "")
        record.__dict__.update(color=color, end_color=self._normal if color else "")
        formatted = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        extra = [
            record.exc_text,
            record.stack_info and self.formatStack(record.stack_info),
        ]
        if any(extra):
            formatted = "\n".join(
                [formatted.rstrip()] + [text for text in extra if text]
            )
        return formatted.replace("\n", "\n    ")


def enable_pretty_logging(
    options: Any = None, logger: logging.Logger | None = None
) -> None:
    """Configure ``logger`` (default: the root logger) from logging options.

    ``options`` is any object with the attributes that
    :func:`define_logging_options` defines (default: the global
    ``tornado.options.options``).  This sets the level from
    ``options.logging``; adds a rotating file handler when
    ``options.log_file_prefix`` is set; and adds a coloured handler on
    standard error when ``options.log_to_stderr`` is true, or is ``None``
    and the logger has no handlers yet.  Nothing is done when
    ``options.logging`` is ``None`` or ``"none"``.
    """
    if options is None:
        import tornado.options

        options = tornado.options.options
    if options.logging is None or options.logging.lower() == "none":
        return
    if logger is None:
        logger = logging.getLogger()
    logger.setLevel(_level_named(options.logging))
    if options.log_file_prefix:
        file_handler = _rotating_file_handler(options)
        file_handler.setFormatter(LogFormatter(color=False))
        logger.addHandler(file_handler)
    if options.log_to_stderr or (options.log_to_stderr is None and not logger.handlers):
        stderr_handler = logging.StreamHandler()
        stderr_handler.setFormatter(LogFormatter())
        logger.addHandler(stderr_handler)


def _level_named(name: str) -> int:
    level = logging.getLevelName(name.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"The value of the logging option should be one of "
            f"debug|info|warning|error|critical|none, not {name!r}"
        )
    return level


def _rotating_file_handler(options: Any) -> logging.Handler:
    """The file handler ``options.log_rotate_mode`` asks for."""
    mode = options.log_rotate_mode
    if mode == "size":
        return logging.handlers.RotatingFileHandler(
            filename=options.log_file_prefix,
            maxBytes=options.log_file_max_size,
            backupCount=options.log_file_num_backups,
            encoding="utf-8",
        )
    if mode == "time":
        return logging.handlers.TimedRotatingFileHandler(
            filename=options.log_file_prefix,
            when=options.log_rotate_when,
            interval=options.log_rotate_interval,
            backupCount=options.log_file_num_backups,
            encoding="utf-8",
        )
    raise ValueError(
        f'The value of the log_rotate_mode option should be "size" or "time", '
        f"not {mode!r}."
    )


def define_logging_options(options: OptionParser | None = None) -> None:
    """Define the options read by :func:`enable_pretty_logging`.

    They are defined on ``options`` (default: the global
    ``tornado.options.options``, where importing :mod:`tornado.options`
    already defines them), together with a parse callback that applies
    them with :func:`enable_pretty_logging` after each final parse.
    """
    if options is None:
        import tornado.options

        options = tornado.options.options
    parser = options
    parser.define(
        "logging",
        default="info",
        help="the Python log level; with 'none', logging is left unconfigured",
        metavar="debug|info|warning|error|none",
    )
    parser.define(
        "log_to_stderr",
        type=bool,
        default=None,
        help="send log output to stderr (colourised when possible); by default "
        "only when no other logging is configured",
    )
    parser.define(
        "log_file_prefix",
        type=str,
        default=None,
        metavar="PATH",
        help="path of the log file; files are rotated as set by " "--log_rotate_mode",
    )
    parser.define(
        "log_file_max_size",
        type=int,
        default=100 * 1000 * 1000,
        help="maximum size in bytes of a log file before it is rotated",
    )
    parser.define(
        "log_file_num_backups",
        type=int,
        default=10,
        help="number of rotated log files to keep",
    )
    parser.define(
        "log_rotate_when",
        type=str,
        default="midnight",
        help="unit of --log_rotate_interval for time-based rotation: "
        "'S', 'M', 'H', 'D', 'W0'-'W6' or 'midnight'",
    )
    parser.define(
        "log_rotate_interval",
        type=int,
        default=1,
        help="the number of --log_rotate_when units between time-based rotations",
    )
    parser.define(
        "log_rotate_mode",
        type=str,
        default="size",
        help="rotate log files by 'size' or by 'time'",
    )
    parser.add_parse_callback(lambda: enable_pretty_logging(parser))
