"""Tests for tornado.log: the formatter and enable_pretty_logging."""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import sys
import tempfile
import types
import unittest
from typing import Any
from unittest import mock

import tornado.log
from tornado.log import (
    LogFormatter,
    access_log,
    app_log,
    define_logging_options,
    enable_pretty_logging,
    gen_log,
)
from tornado.options import OptionParser, options

try:
    import curses
except ImportError:
    curses = None  # type: ignore[assignment]

PREFIX = r"\[{level} \d{{6}} \d\d:\d\d:\d\d log_test:\d+\]"


class LoggerTestCase(unittest.TestCase):
    """Gives each test a private logger, emptied and closed afterwards."""

    def setUp(self) -> None:
        self.logger = logging.getLogger(f"tornado.test.log_test.{self.id()}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.addCleanup(self.remove_handlers, self.logger)

    @staticmethod
    def remove_handlers(logger: logging.Logger) -> None:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()

    def capture(self, formatter: logging.Formatter | None = None) -> io.StringIO:
        """Send the logger's records through ``formatter`` to a string buffer."""
        buffer = io.StringIO()
        handler = logging.StreamHandler(buffer)
        handler.setFormatter(formatter or LogFormatter(color=False))
        self.logger.addHandler(handler)
        return buffer


class LoggerNamesTest(unittest.TestCase):
    def test_names(self) -> None:
        self.assertEqual(access_log.name, "tornado.access")
        self.assertEqual(app_log.name, "tornado.application")
        self.assertEqual(gen_log.name, "tornado.general")


class FormatterDefaultsTest(unittest.TestCase):
    def test_public_defaults(self) -> None:
        self.assertEqual(
            LogFormatter.DEFAULT_FORMAT,
            "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]"
            "%(end_color)s %(message)s",
        )
        self.assertEqual(LogFormatter.DEFAULT_DATE_FORMAT, "%y%m%d %H:%M:%S")
        self.assertEqual(
            LogFormatter.DEFAULT_COLORS,
            {
                logging.DEBUG: 4,
                logging.INFO: 2,
                logging.WARNING: 3,
                logging.ERROR: 1,
                logging.CRITICAL: 5,
            },
        )


class PlainFormatTest(LoggerTestCase):
    def test_prefix_and_message(self) -> None:
        out = self.capture()
        self.logger.error("hello %s", "world")
        self.assertRegex(out.getvalue(), f"^{PREFIX.format(level='E')} hello world\n$")

    def test_no_colour_without_terminal(self) -> None:
        with mock.patch.object(sys, "stderr", io.StringIO()):
            out = self.capture(LogFormatter(color=True))
        self.logger.warning("plain")
        self.assertNotIn("\033", out.getvalue())
        self.assertRegex(out.getvalue(), f"^{PREFIX.format(level='W')} plain\n$")

    def test_bytes_message_is_shown_as_repr(self) -> None:
        out = self.capture()
        self.logger.error(b"\xe9\xff undecodable")
        self.assertTrue(out.getvalue().endswith(" b'\\xe9\\xff undecodable'\n"))

    def test_unicode_message_to_utf8_file(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "log")
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(LogFormatter(color=False))
            self.logger.addHandler(handler)
            self.logger.error("caf\u00e9 %s", "\u674e")
            self.remove_handlers(self.logger)
            with open(path, "rb") as f:
                self.assertTrue(f.read().endswith("caf\u00e9 \u674e\n".encode()))

    def test_bad_format_arguments_never_raise(self) -> None:
        out = self.capture()
        self.logger.error("%d items", "not a number")
        self.logger.error("%s and %s", "only one")
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertIn("Bad message (TypeError(", lines[0])
        self.assertIn("'msg': '%d items'", lines[0])
        self.assertIn("Bad message (TypeError(", lines[1])

    def test_traceback_is_indented(self) -> None:
        out = self.capture()
        try:
            raise ValueError("boom")
        except ValueError:
            self.logger.exception("it failed")
        first, *rest = out.getvalue().rstrip("\n").split("\n")
        self.assertRegex(first, f"^{PREFIX.format(level='E')} it failed$")
        self.assertEqual(rest[0], "    Traceback (most recent call last):")
        self.assertEqual(rest[-1], "    ValueError: boom")
        self.assertTrue(all(line.startswith("    ") for line in rest))

    def test_multiline_message_is_indented(self) -> None:
        out = self.capture()
        self.logger.info("one\ntwo")
        self.assertTrue(out.getvalue().endswith(" one\n    two\n"))

    def test_custom_format_and_style(self) -> None:
        out = self.capture(LogFormatter(fmt="{levelname}:{message}", style="{"))
        self.logger.info("hi")
        self.assertEqual(out.getvalue(), "INFO:hi\n")

    def test_custom_date_format(self) -> None:
        out = self.capture(LogFormatter(fmt="%(asctime)s|%(message)s", datefmt="%Y"))
        self.logger.info("hi")
        self.assertRegex(out.getvalue(), r"^\d{4}\|hi\n$")


@unittest.skipIf(not hasattr(os, "openpty"), "needs os.openpty for a terminal")
class TerminalColourTest(LoggerTestCase):
    """Colour is used when standard error is a terminal."""

    def setUp(self) -> None:
        super().setUp()
        master, follower = os.openpty()
        self.addCleanup(os.close, master)
        self.master = master
        self.terminal = os.fdopen(follower, "w", encoding="utf-8")
        self.addCleanup(self.terminal.close)

    def formatter_on_terminal(self, **kwargs: Any) -> LogFormatter:
        with mock.patch.object(sys, "stderr", self.terminal):
            return LogFormatter(**kwargs)

    def log_to_terminal(self, formatter: LogFormatter, *messages: str) -> list[str]:
        """Log each message at ERROR then INFO; what the terminal received."""
        handler = logging.StreamHandler(self.terminal)
        handler.setFormatter(formatter)
        self.logger.addHandler(handler)
        for message in messages:
            self.logger.error(message)
            self.logger.info(message)
        self.terminal.flush()
        received = b""
        while received.count(b"\n") < 2 * len(messages):
            received += os.read(self.master, 4096)
        return received.decode("utf-8").splitlines()

    def test_curses_colours(self) -> None:
        if curses is None:
            self.skipTest("curses is not available on this platform")
        with mock.patch.dict(os.environ, {"TERM": "xterm-256color"}):
            formatter = self.formatter_on_terminal()
        try:
            colours = curses.tigetnum("colors")
        except curses.error:
            self.skipTest("no terminfo database for xterm-256color")
        if colours <= 0:
            self.skipTest("terminal description in use has no colours")
        error_line, info_line = self.log_to_terminal(formatter, "hello")
        for line, level in ((error_line, "E"), (info_line, "I")):
            self.assertRegex(line, f"^\033\\[[\\d;]*m{PREFIX.format(level=level)}\033")
            self.assertTrue(line.endswith("m hello"))
        self.assertNotEqual(error_line[:8], info_line[:8])

    def test_colour_disabled(self) -> None:
        with mock.patch.dict(os.environ, {"TERM": "xterm-256color"}):
            formatter = self.formatter_on_terminal(color=False)
        lines = self.log_to_terminal(formatter, "hello")
        self.assertRegex(lines[0], f"^{PREFIX.format(level='E')} hello$")

    def test_ansi_colours_without_curses(self) -> None:
        fake_colorama = types.SimpleNamespace(
            initialise=types.SimpleNamespace(wrapped_stderr=self.terminal)
        )
        with (
            mock.patch.object(tornado.log, "curses", None),
            mock.patch.object(tornado.log, "colorama", fake_colorama),
        ):
            formatter = self.formatter_on_terminal(colors={logging.ERROR: 6})
        error_line, info_line = self.log_to_terminal(formatter, "hi")
        self.assertRegex(
            error_line, f"^\033\\[2;36m{PREFIX.format(level='E')}\033\\[0m hi$"
        )
        self.assertRegex(info_line, f"^{PREFIX.format(level='I')} hi$")

    def test_no_colour_without_curses_or_colorama(self) -> None:
        with (
            mock.patch.object(tornado.log, "curses", None),
            mock.patch.object(tornado.log, "colorama", None),
        ):
            formatter = self.formatter_on_terminal()
        self.assertNotIn("\033", "".join(self.log_to_terminal(formatter, "hi")))


class EnablePrettyLoggingTest(LoggerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.options = OptionParser()
        define_logging_options(self.options)
        self.options.log_to_stderr = False
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = directory.name
        self.options.log_file_prefix = os.path.join(self.directory, "app.log")

    def test_rotation_by_size(self) -> None:
        self.options.log_file_max_size = 200
        self.options.log_file_num_backups = 2
        enable_pretty_logging(self.options, self.logger)
        for i in range(20):
            self.logger.info("line %d %s", i, "x" * 40)
        self.remove_handlers(self.logger)
        self.assertEqual(
            sorted(os.listdir(self.directory)), ["app.log", "app.log.1", "app.log.2"]
        )
        with open(self.options.log_file_prefix, encoding="utf-8") as f:
            content = f.read()
        self.assertRegex(content, f"^{PREFIX.format(level='I')} line 1")
        self.assertNotIn("\033", content)

    def test_rotation_by_time(self) -> None:
        self.options.log_rotate_mode = "time"
        self.options.log_rotate_when = "S"
        self.options.log_rotate_interval = 3
        enable_pretty_logging(self.options, self.logger)
        (handler,) = self.logger.handlers
        assert isinstance(handler, logging.handlers.TimedRotatingFileHandler)
        self.assertEqual((handler.when, handler.interval), ("S", 3))
        self.logger.info("before")
        handler.doRollover()
        self.logger.info("after")
        self.remove_handlers(self.logger)
        rotated = [name for name in os.listdir(self.directory) if name != "app.log"]
        self.assertEqual(len(rotated), 1)
        self.assertRegex(rotated[0], r"^app\.log\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$")
        with open(self.options.log_file_prefix, encoding="utf-8") as f:
            self.assertTrue(f.read().endswith(" after\n"))

    def test_bad_rotate_mode(self) -> None:
        self.options.log_rotate_mode = "weekly"
        with self.assertRaisesRegex(ValueError, "log_rotate_mode.*'weekly'"):
            enable_pretty_logging(self.options, self.logger)

    def test_bad_level(self) -> None:
        self.options.logging = "loud"
        with self.assertRaisesRegex(ValueError, "logging option.*'loud'"):
            enable_pretty_logging(self.options, self.logger)

    def test_level_is_set(self) -> None:
        self.options.logging = "WARNING"
        self.options.log_file_prefix = None
        enable_pretty_logging(self.options, self.logger)
        self.assertEqual(self.logger.level, logging.WARNING)
        self.assertEqual(self.logger.handlers, [])

    def test_none_does_nothing(self) -> None:
        for value in ("none", "None", None):
            self.options.logging = value
            self.options.log_to_stderr = True
            enable_pretty_logging(self.options, self.logger)
            self.assertEqual(self.logger.handlers, [])
            self.assertEqual(self.logger.level, logging.DEBUG)

    def test_stderr_handler(self) -> None:
        self.options.log_file_prefix = None
        self.options.log_to_stderr = True
        buffer = io.StringIO()
        with mock.patch.object(sys, "stderr", buffer):
            enable_pretty_logging(self.options, self.logger)
            self.logger.warning("to stderr")
        (handler,) = self.logger.handlers
        self.assertIsInstance(handler.formatter, LogFormatter)
        self.assertRegex(buffer.getvalue(), f"^{PREFIX.format(level='W')} to stderr\n$")

    def test_stderr_by_default_only_without_other_handlers(self) -> None:
        self.options.log_to_stderr = None
        enable_pretty_logging(self.options, self.logger)
        self.assertEqual(len(self.logger.handlers), 1)  # just the file
        self.options.log_file_prefix = None
        self.remove_handlers(self.logger)
        enable_pretty_logging(self.options, self.logger)
        (handler,) = self.logger.handlers
        self.assertNotIsInstance(handler, logging.FileHandler)

    def test_default_options_and_root_logger(self) -> None:
        root = logging.getLogger()
        self.addCleanup(setattr, root, "handlers", list(root.handlers))
        self.addCleanup(root.setLevel, root.level)
        handlers = list(root.handlers)
        settings = {
            "logging": "warning",
            "log_to_stderr": False,
            "log_file_prefix": None,
        }
        with contextlib.ExitStack() as stack:
            for name, value in settings.items():
                stack.enter_context(mock.patch.object(options.mockable(), name, value))
            enable_pretty_logging()
        self.assertEqual(root.level, logging.WARNING)
        self.assertEqual(root.handlers, handlers)


class DefineLoggingOptionsTest(unittest.TestCase):
    def test_defines_options_and_callback(self) -> None:
        parser = OptionParser()
        define_logging_options(parser)
        expected = {
            "logging": "info",
            "log_to_stderr": None,
            "log_file_prefix": None,
            "log_file_max_size": 100 * 1000 * 1000,
            "log_file_num_backups": 10,
            "log_rotate_when": "midnight",
            "log_rotate_interval": 1,
            "log_rotate_mode": "size",
        }
        self.assertEqual({k: v for k, v in parser.items() if k != "help"}, expected)
        with mock.patch.object(tornado.log, "enable_pretty_logging") as enable:
            parser.parse_command_line(["prog"])
        enable.assert_called_once_with(parser)

    def test_redefinition_is_an_error(self) -> None:
        parser = OptionParser()
        define_logging_options(parser)
        with self.assertRaisesRegex(Exception, "already defined in .*log.py"):
            define_logging_options(parser)
