"""Run the test suite: ``python -m tornado.test.runtests [options] [test ...]``.

With no test names the whole suite runs.  The run fails if any test fails, and
also (unless ``--fail-if-logs=false``) if any test logs at INFO or above or
writes to stderr without capturing it with :class:`tornado.testing.ExpectLog`.
Every warning is an error.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import pkgutil
import sys
import textwrap
import typing
import unittest
import warnings
from collections import Counter

from tornado.options import define, options, parse_command_line

TEST_PACKAGE = "tornado.test"

# Names accepted by --ioloop; each selects how asyncio event loops are made.
LOOP_BACKENDS = ("default", "select", "uvloop", "threaded-selector")


def all_test_modules() -> list[str]:
    """Every ``*_test`` module in this package, sorted by name."""
    here = os.path.dirname(os.path.abspath(__file__))
    return sorted(
        f"{TEST_PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules([here])
        if info.name.endswith("_test")
    )


def all() -> unittest.TestSuite:  # noqa: A001 - the conventional name
    """The whole suite, for ``unittest`` and for this runner."""
    return unittest.defaultTestLoader.loadTestsFromNames(all_test_modules())


class CountingStream:
    """A text stream that remembers how many writes it received."""

    def __init__(self, real: typing.TextIO) -> None:
        self.real = real
        self.writes = 0

    def write(self, text: str) -> int:
        if text:
            self.writes += 1
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self.real, name)


class LogCounter(logging.Handler):
    """Counts (and prints) records that reach the root logger uncaptured."""

    def __init__(self, stream: typing.TextIO) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        try:
            self.stream.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


class SummaryResult(unittest.TextTestResult):
    """A text result that also prints the skip reasons grouped at the end."""

    def printErrors(self) -> None:
        super().printErrors()
        reasons = Counter(reason for _, reason in self.skipped)
        if reasons:
            self.stream.writeln("Skipped tests, by reason:")
            for reason, count in sorted(reasons.items()):
                self.stream.writeln(f"  {count:4d}  {reason}")


def _test_behind(test: unittest.TestCase) -> unittest.TestCase | None:
    """The test method an outcome belongs to (None for a class or module
    set-up or tear-down, which unittest reports with a stand-in object)."""
    parent = getattr(test, "test_case", None)  # set on a subtest
    if isinstance(parent, unittest.TestCase):
        return parent
    if type(test).__name__ == "_ErrorHolder":
        return None
    return test


def summary_line(result: unittest.TestResult) -> str:
    """``"P passed, F failed, S skipped"``, each test counted once.

    A test with several failing subtests, or failing in the test and again
    in ``tearDown``, is one failed test.  An error in ``setUpClass`` (or a
    module's set-up, or a tear-down) counts as one failure, and a skip
    raised there as one skip, of tests that were never run (unittest does
    not count them in ``testsRun``).
    """
    failed: set[str] = set()
    set_up_failures = 0
    bad = [test for test, _ in result.failures + result.errors]
    for test in bad + list(result.unexpectedSuccesses):
        behind = _test_behind(test)
        if behind is None:
            set_up_failures += 1
        else:
            failed.add(behind.id())
    skipped: set[str] = set()
    skipped_set_ups = 0
    for test, _ in result.skipped:
        behind = _test_behind(test)
        if behind is None:
            skipped_set_ups += 1
        elif behind.id() not in failed:
            skipped.add(behind.id())
    passed = result.testsRun - len(failed) - len(skipped)
    return (
        f"{passed} passed, {len(failed) + set_up_failures} failed, "
        f"{len(skipped) + skipped_set_ups} skipped"
    )


def install_loop_backend(name: str) -> None:
    """Make new asyncio event loops of the kind named by ``--ioloop``."""
    if name == "default":
        return
    if name == "select":
        import selectors

        class SelectPolicy(asyncio.DefaultEventLoopPolicy):
            def new_event_loop(self) -> asyncio.AbstractEventLoop:
                return asyncio.SelectorEventLoop(selectors.SelectSelector())

        asyncio.set_event_loop_policy(SelectPolicy())
    elif name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif name == "threaded-selector":
        install_threaded_selector_backend()
    else:
        raise ValueError(f"unknown --ioloop {name!r}; choose from {LOOP_BACKENDS}")


def install_threaded_selector_backend() -> None:
    """Run the IOLoop on a loop wrapped in AddThreadSelectorEventLoop."""
    try:
        from tornado.platform.asyncio import AddThreadSelectorEventLoop
    except ImportError:
        raise ValueError("--ioloop=threaded-selector needs tornado.platform.asyncio")

    class ThreadSelectorPolicy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            real = super().new_event_loop()
            return typing.cast(
                asyncio.AbstractEventLoop, AddThreadSelectorEventLoop(real)
            )

    asyncio.set_event_loop_policy(ThreadSelectorPolicy())


def define_runner_options() -> None:
    """The switches this runner accepts (see ``--help``)."""
    define(
        "httpclient",
        type=str,
        default=None,
        help="AsyncHTTPClient implementation to configure, as a dotted name",
    )
    define(
        "httpserver",
        type=str,
        default=None,
        help="HTTPServer implementation to configure, as a dotted name",
    )
    define(
        "resolver",
        type=str,
        default=None,
        help="Resolver implementation to configure, as a dotted name",
    )
    define(
        "ioloop",
        type=str,
        default="default",
        help="asyncio loop backend: " + ", ".join(LOOP_BACKENDS),
    )
    define(
        "debug_gc",
        type=str,
        multiple=True,
        help="gc module debug flags to set, e.g. DEBUG_STATS",
        callback=set_gc_debug,
    )
    define(
        "locale",
        type=str,
        default=None,
        help="default locale for the run",
        callback=set_default_locale,
    )
    define(
        "fail-if-logs",
        type=bool,
        default=True,
        help="fail the run if a test logs at INFO or above or writes to stderr",
    )


def set_gc_debug(flags: list[str]) -> None:
    gc.set_debug(sum((getattr(gc, flag) for flag in flags), 0))


def set_default_locale(code: str | None) -> None:
    if code:
        importlib.import_module("tornado.locale").set_default_locale(code)


def configure_implementation(base: str, impl: str | None) -> None:
    """``base`` is ``module.Class``; configure it to use ``impl``."""
    if impl:
        module_name, _, class_name = base.rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        cls.configure(impl)


def install_warning_filters() -> None:
    """Every warning is an error, except known noise from third parties."""
    warnings.simplefilter("error")
    # Twisted and pycares have been seen to warn at import about their own
    # dependencies; those are not ours to fix.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="twisted")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="zope")


def main() -> None:
    """Parse the switches, run the tests, exit with the outcome."""
    define_runner_options()
    install_warning_filters()
    names = parse_command_line()
    install_loop_backend(options.ioloop)
    configure_implementation("tornado.httpclient.AsyncHTTPClient", options.httpclient)
    configure_implementation("tornado.httpserver.HTTPServer", options.httpserver)
    configure_implementation("tornado.netutil.Resolver", options.resolver)

    real_stderr = sys.stderr
    counting_stderr = CountingStream(real_stderr)
    log_counter = LogCounter(real_stderr)
    root = logging.getLogger()
    root.handlers[:] = [log_counter]
    root.setLevel(logging.INFO)
    sys.stderr = counting_stderr

    tests = unittest.defaultTestLoader.loadTestsFromNames(names) if names else all()
    runner = unittest.TextTestRunner(
        stream=real_stderr,
        verbosity=1,
        resultclass=SummaryResult,  # type: ignore[arg-type]
    )
    result = runner.run(tests)
    sys.stderr = real_stderr

    exit_code = 0 if result.wasSuccessful() else 1
    stray = log_counter.count + counting_stderr.writes
    if stray and options.fail_if_logs:
        print(
            textwrap.dedent(f"""\
                FAIL: {log_counter.count} uncaptured log record(s) and
                {counting_stderr.writes} stray write(s) to stderr during the run
                (capture expected logs with tornado.testing.ExpectLog)"""),
            file=real_stderr,
        )
        exit_code = 1
    print(summary_line(result))
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
