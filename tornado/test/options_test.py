"""Tests for tornado.options: defining, parsing and reading options."""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import os
import tempfile
import unittest
from typing import Any
from unittest import mock

import tornado.log
import tornado.options
from tornado.log import define_logging_options
from tornado.options import Error, OptionParser

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_FILE = os.path.join(HERE, "options_test.cfg")


def parse(parser: OptionParser, *args: str) -> list[str]:
    """Parse ``args`` as if they followed the program name."""
    return parser.parse_command_line(["prog", *args])


class Email:
    """A user-defined option type built from a string."""

    def __init__(self, text: str) -> None:
        if "@" not in text:
            raise ValueError(f"not an email address: {text!r}")
        self.text = text


class CommandLineTypesTest(unittest.TestCase):
    def parse_one(self, option_type: Any, text: str, **kwargs: Any) -> Any:
        parser = OptionParser()
        parser.define("value", type=option_type, **kwargs)
        parse(parser, f"--value={text}")
        return parser.value

    def test_str_int_float(self) -> None:
        self.assertEqual(self.parse_one(str, "a=b c"), "a=b c")
        self.assertEqual(self.parse_one(int, "-42"), -42)
        self.assertEqual(self.parse_one(float, "2.5e3"), 2500.0)

    def test_type_inferred_from_default(self) -> None:
        parser = OptionParser()
        parser.define("port", default=80)
        parser.define("ratio", default=0.5)
        parser.define("name")
        parse(parser, "--port=8080", "--ratio=1", "--name=42")
        self.assertEqual((parser.port, parser.ratio, parser.name), (8080, 1.0, "42"))
        self.assertIsInstance(parser.ratio, float)

    def test_bool_words(self) -> None:
        for text in ("true", "True", "t", "1", "yes", "on"):
            self.assertIs(self.parse_one(bool, text), True, text)
        for text in ("false", "FALSE", "f", "0", "no", "off"):
            self.assertIs(self.parse_one(bool, text), False, text)

    def test_bare_bool_flag_means_true(self) -> None:
        parser = OptionParser()
        parser.define("verbose", default=False)
        parse(parser, "--verbose")
        self.assertIs(parser.verbose, True)

    def test_datetime_formats(self) -> None:
        expected = datetime.datetime(2013, 4, 28, 5, 16)
        for text in (
            "2013-04-28 05:16",
            "2013-04-28T05:16",
            "20130428 05:16",
            "2013-04-28 05:16:00",
            "Sun Apr 28 05:16:00 2013",
        ):
            self.assertEqual(self.parse_one(datetime.datetime, text), expected, text)
        self.assertEqual(
            self.parse_one(datetime.datetime, "20130428"),
            datetime.datetime(2013, 4, 28),
        )
        self.assertEqual(
            self.parse_one(datetime.datetime, "05:16").time(), datetime.time(5, 16)
        )

    def test_timedelta_strings(self) -> None:
        td = datetime.timedelta
        cases = {
            "1h 30m": td(hours=1, minutes=30),
            "1h30m": td(hours=1, minutes=30),
            "90": td(seconds=90),
            "2.5s": td(seconds=2.5),
            "1 week 2 days": td(weeks=1, days=2),
            "250ms": td(milliseconds=250),
            "10us": td(microseconds=10),
            "-1d": td(days=-1),
            "1e1 min": td(minutes=10),
        }
        for text, expected in cases.items():
            self.assertEqual(self.parse_one(datetime.timedelta, text), expected, text)

    def test_user_defined_type(self) -> None:
        self.assertEqual(self.parse_one(Email, "a@b.c").text, "a@b.c")

    def test_multiple_strings(self) -> None:
        self.assertEqual(self.parse_one(str, "a,b,c", multiple=True), ["a", "b", "c"])

    def test_multiple_int_ranges_are_inclusive(self) -> None:
        self.assertEqual(
            self.parse_one(int, "1:3,7,10:11", multiple=True), [1, 2, 3, 7, 10, 11]
        )

    def test_multiple_default_is_empty_list(self) -> None:
        parser = OptionParser()
        parser.define("tags", multiple=True)
        self.assertEqual(parser.tags, [])

    def test_dash_and_underscore_are_the_same_option(self) -> None:
        parser = OptionParser()
        parser.define("fail-if-logs", default=True)
        parser.define("max_size", default=1)
        parse(parser, "--fail_if_logs=false", "--max-size=5")
        self.assertIs(parser.fail_if_logs, False)
        self.assertIs(parser["fail-if-logs"], False)
        self.assertEqual(parser["max-size"], 5)
        parse(parser, "--fail-if-logs=true")
        self.assertIs(parser.fail_if_logs, True)

    def test_remaining_arguments(self) -> None:
        parser = OptionParser()
        parser.define("port", default=80)
        self.assertEqual(parse(parser, "--port=1", "a", "--port=2"), ["a", "--port=2"])
        self.assertEqual(parser.port, 1)
        self.assertEqual(parse(parser, "--", "--port=3"), ["--port=3"])
        self.assertEqual(parser.port, 1)
        self.assertEqual(parse(parser, "-port=4"), [])
        self.assertEqual(parser.port, 4)


class MalformedCommandLineTest(unittest.TestCase):
    def setUp(self) -> None:
        self.parser = OptionParser()

    def assert_error(self, regex: str, *args: str) -> None:
        with self.assertRaisesRegex(Error, regex):
            parse(self.parser, *args)

    def test_bad_values_name_the_option(self) -> None:
        self.parser.define("port", type=int)
        self.parser.define("verbose", type=bool)
        self.parser.define("when", type=datetime.datetime)
        self.parser.define("every", type=datetime.timedelta)
        self.parser.define("ids", type=int, multiple=True)
        self.parser.define("email", type=Email)
        self.assert_error(r"'port'.*'eighty'", "--port=eighty")
        self.assert_error(r"'verbose'.*'maybe'", "--verbose=maybe")
        self.assert_error(r"'when'.*date/time", "--when=yesterday")
        self.assert_error(r"'every'.*unit 'fortnights'", "--every=2 fortnights")
        self.assert_error(r"'every'", "--every=1h and more")
        self.assert_error(r"'every'.*empty", "--every=")
        self.assert_error(r"'ids'.*'x'", "--ids=1:x")
        self.assert_error(r"'email'.*not an email", "--email=nobody")

    def test_unknown_option_prints_help_and_raises(self) -> None:
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            self.assert_error(r"Unrecognized command line option: 'nope'", "--nope=1")
        self.assertIn("--help", stderr.getvalue())

    def test_value_required_for_non_bool(self) -> None:
        self.parser.define("port", type=int)
        self.assert_error(r"Option 'port' requires a value", "--port")


class DefineTest(unittest.TestCase):
    def test_redefinition_names_first_file(self) -> None:
        parser = OptionParser()
        parser.define("some-option")
        for spelling in ("some-option", "some_option"):
            with self.assertRaisesRegex(Error, "already defined in .*options_test.py"):
                parser.define(spelling)

    def test_help_is_always_defined(self) -> None:
        self.assertEqual(list(OptionParser()), ["help"])


class IntrospectionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.parser = OptionParser()
        self.parser.define("with-dash", default=1, group="g")
        self.parser.define("with_underscore", default=2, group="g")
        self.parser.define("other", default=3)

    def test_names_keep_their_defined_spelling(self) -> None:
        names = ["help", "other", "with-dash", "with_underscore"]
        self.assertEqual(sorted(self.parser), names)
        self.assertEqual(sorted(name for name, _ in self.parser.items()), names)
        self.assertEqual(sorted(self.parser.as_dict()), names)

    def test_groups(self) -> None:
        self.assertEqual(self.parser.groups(), {"g", "", os.path.abspath(__file__)})
        self.assertEqual(
            self.parser.group_dict("g"), {"with-dash": 1, "with_underscore": 2}
        )
        self.assertEqual(self.parser.as_dict()["other"], 3)

    def test_contains_and_items(self) -> None:
        self.assertIn("with_dash", self.parser)
        self.assertIn("with-underscore", self.parser)
        self.assertNotIn("missing", self.parser)
        self.assertIn(("other", 3), list(self.parser.items()))

    def test_item_and_attribute_access(self) -> None:
        self.parser["other"] = 30
        self.assertEqual(self.parser.other, 30)
        self.parser.with_dash = 10
        self.assertEqual(self.parser["with_dash"], 10)

    def test_unknown_names(self) -> None:
        with self.assertRaisesRegex(AttributeError, "Unrecognized option 'missing'"):
            _ = self.parser.missing
        with self.assertRaises(AttributeError):
            self.parser.missing = 1
        with self.assertRaises(KeyError):
            self.parser["missing"]
        with self.assertRaises(KeyError):
            self.parser["missing"] = 1

    def test_set_checks_type(self) -> None:
        with self.assertRaisesRegex(Error, "'other' is required to be a int"):
            self.parser.other = "3"
        self.parser.other = None
        self.assertIsNone(self.parser.other)

    def test_set_multiple_checks_items(self) -> None:
        self.parser.define("ids", type=int, multiple=True)
        self.parser.ids = [1, 2]
        self.assertEqual(self.parser.ids, [1, 2])
        with self.assertRaisesRegex(Error, "'ids' is required to be a list of int"):
            self.parser.ids = [1, "2"]
        with self.assertRaisesRegex(Error, "'ids' is required to be a list of int"):
            self.parser.ids = 1

    def test_float_option_accepts_int(self) -> None:
        self.parser.define("ratio", default=0.5)
        self.parser.ratio = 2
        self.assertEqual(self.parser.ratio, 2)
        with self.assertRaises(Error):
            self.parser.ratio = True


class ConfigFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.parser = OptionParser()
        self.parser.define("port", default=80)
        self.parser.define("username", default="foo")
        self.parser.define("config_name")
        self.parser.define("ports", type=int, multiple=True)
        self.parser.define("weights", type=float, multiple=True)

    def write_config(self, text: str) -> str:
        handle, path = tempfile.mkstemp(suffix=".cfg")
        self.addCleanup(os.remove, path)
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_values(self) -> None:
        self.parser.parse_config_file(CONFIG_FILE)
        self.assertEqual(self.parser.port, 443)
        self.assertEqual(self.parser.username, "李康")
        self.assertEqual(self.parser.config_name, "options_test.cfg")
        self.assertEqual(self.parser.ports, [80, 8000, 8001, 8002])
        self.assertEqual(self.parser.weights, [1.5, 2.5])
        self.assertNotIn("some_other_setting", self.parser)

    def test_strings_are_parsed_for_typed_options(self) -> None:
        self.parser.parse_config_file(self.write_config("port = '8080'\n"))
        self.assertEqual(self.parser.port, 8080)

    def test_dashes_and_underscores(self) -> None:
        self.parser.define("max-size", default=1)
        self.parser.parse_config_file(self.write_config("max_size = 5\n"))
        self.assertEqual(self.parser.max_size, 5)

    def test_wrong_type_names_the_option(self) -> None:
        with self.assertRaisesRegex(Error, "'port' is required to be a int"):
            self.parser.parse_config_file(self.write_config("port = [1]\n"))
        with self.assertRaisesRegex(Error, "'ports' is required to be a list of int"):
            self.parser.parse_config_file(self.write_config("ports = 80\n"))

    def test_missing_file_names_it(self) -> None:
        path = os.path.join(tempfile.gettempdir(), "no-such-dir-x9", "missing.cfg")
        with self.assertRaises(FileNotFoundError) as cm:
            self.parser.parse_config_file(path)
        self.assertIn("missing.cfg", str(cm.exception))

    def test_unreadable_file_names_it(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            with self.assertRaises(OSError) as cm:
                self.parser.parse_config_file(directory)
            self.assertIn(directory, str(cm.exception))

    def test_syntax_error_names_the_file(self) -> None:
        path = self.write_config("port = = 1\n")
        with self.assertRaises(SyntaxError) as cm:
            self.parser.parse_config_file(path)
        self.assertEqual(cm.exception.filename, path)


class HelpTest(unittest.TestCase):
    def test_grouped_by_file_and_group(self) -> None:
        parser = OptionParser()
        parser.define("port", default=80, help="the port", metavar="PORT")
        parser.define("zeta", group="Alpha group", help="a " * 40)
        out = io.StringIO()
        parser.print_help(out)
        text = out.getvalue()
        self.assertIn("Usage:", text)
        self.assertIn("--help", text)
        self.assertRegex(text, r"\n\s*--port=PORT\s+the port \(default 80\)\n")
        here = os.path.normpath(os.path.abspath(__file__))
        self.assertLess(text.index("Alpha group options:"), text.index("--zeta"))
        self.assertLess(text.index(f"{here} options:"), text.index("--port"))
        self.assertLess(text.index("--help"), text.index("Alpha group options:"))
        self.assertTrue(all(len(line) <= 79 for line in text.splitlines()[2:]))

    def test_underscores_shown_as_dashes(self) -> None:
        parser = OptionParser()
        parser.define("with_underscore", default=1, help="spelled with _")
        parser.define("with-dash", type=str, metavar="NAME")
        out = io.StringIO()
        parser.print_help(out)
        text = out.getvalue()
        self.assertRegex(
            text, r"\n  --with-underscore\s+spelled with _ \(default 1\)\n"
        )
        self.assertIn("  --with-dash=NAME\n", text)
        self.assertNotIn("with_underscore", text)

    def test_help_flag_prints_and_exits(self) -> None:
        parser = OptionParser()
        parser.define("port", default=80)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), self.assertRaises(SystemExit) as cm:
            parse(parser, "--help")
        self.assertEqual(cm.exception.code, 0)
        self.assertIn("--port", stderr.getvalue())


class CallbackTest(unittest.TestCase):
    def test_option_callback_runs_on_parse_and_set(self) -> None:
        seen: list[Any] = []
        parser = OptionParser()
        parser.define("ids", type=int, multiple=True, callback=seen.append)
        parse(parser, "--ids=1:2")
        parser.ids = [5]
        self.assertEqual(seen, [[1, 2], [5]])

    def test_parse_callbacks_run_on_final_parse_only(self) -> None:
        calls: list[str] = []
        parser = OptionParser()
        parser.define("port", default=80)
        parser.add_parse_callback(lambda: calls.append("first"))
        parser.add_parse_callback(lambda: calls.append("second"))
        parse(parser)
        self.assertEqual(calls, ["first", "second"])
        parser.parse_command_line(["prog", "--port=1"], final=False)
        parser.parse_config_file(CONFIG_FILE, final=False)
        self.assertEqual(len(calls), 2)
        parser.parse_config_file(CONFIG_FILE)
        self.assertEqual(len(calls), 4)
        parser.run_parse_callbacks()
        self.assertEqual(len(calls), 6)


class MockableTest(unittest.TestCase):
    def test_patch_and_restore(self) -> None:
        parser = OptionParser()
        parser.define("port", default=80)
        with mock.patch.object(parser.mockable(), "port", 8080):
            self.assertEqual(parser.port, 8080)
        self.assertEqual(parser.port, 80)

    def test_mockable_is_single_use_per_name(self) -> None:
        parser = OptionParser()
        parser.define("port", default=80)
        mockable = parser.mockable()
        mockable.port = 1
        with self.assertRaises(RuntimeError):
            mockable.port = 2
        del mockable.port
        self.assertEqual(parser.port, 80)


class GlobalOptionsTest(unittest.TestCase):
    def setUp(self) -> None:
        patcher = mock.patch.object(tornado.options, "options", OptionParser())
        self.parser = patcher.start()
        self.addCleanup(patcher.stop)

    def test_module_functions_use_global_options(self) -> None:
        calls: list[bool] = []
        tornado.options.define("port", default=80, help="the port")
        tornado.options.add_parse_callback(lambda: calls.append(True))
        rest = tornado.options.parse_command_line(["prog", "--port=81", "x"])
        self.assertEqual((self.parser.port, rest, calls), (81, ["x"], [True]))
        tornado.options.parse_config_file(CONFIG_FILE)
        self.assertEqual((self.parser.port, calls), (443, [True, True]))
        out = io.StringIO()
        tornado.options.print_help(out)
        self.assertIn("the port", out.getvalue())
        self.assertIn(os.path.abspath(__file__), self.parser.groups())


class RealGlobalOptionsTest(unittest.TestCase):
    def test_logging_options_defined_on_import(self) -> None:
        parser = tornado.options.options
        names = [
            "logging",
            "log_to_stderr",
            "log_file_prefix",
            "log_file_max_size",
            "log_file_num_backups",
            "log_rotate_when",
            "log_rotate_interval",
            "log_rotate_mode",
        ]
        self.assertTrue(all(name in parser for name in names))
        log_file = os.path.normpath(tornado.log.__file__)
        group = parser.group_dict(log_file)
        self.assertEqual(sorted(group), sorted(names))
        self.assertEqual(group["log_rotate_mode"], "size")


class LoggingOptionsTest(unittest.TestCase):
    """The logging options are applied by the parse callback."""

    def setUp(self) -> None:
        root = logging.getLogger()
        self.addCleanup(setattr, root, "handlers", list(root.handlers))
        self.addCleanup(root.setLevel, root.level)
        self.parser = OptionParser()
        define_logging_options(self.parser)

    def test_none_leaves_logging_alone(self) -> None:
        root = logging.getLogger()
        before = (root.level, list(root.handlers))
        parse(self.parser, "--logging=none", "--log_to_stderr")
        self.assertEqual((root.level, list(root.handlers)), before)

    def test_level_applied_on_parse(self) -> None:
        root = logging.getLogger()
        handlers = list(root.handlers)
        parse(self.parser, "--logging=warning", "--log_to_stderr=false")
        self.assertEqual(root.level, logging.WARNING)
        self.assertEqual(root.handlers, handlers)
