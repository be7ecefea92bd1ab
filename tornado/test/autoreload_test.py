"""Tests for tornado.autoreload, each running a program in a child interpreter.

The children watch their own files and the test (or the child itself) keeps
bumping a file's modification time until the restart shows up in the child's
output.  Nothing here starts autoreload in the test process: it would restart
the test runner whenever a source file changed.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import typing
import unittest
from collections.abc import Callable

from tornado.test.util import env_with_package

# How long a child may take to show the expected output before the test fails.
CHILD_TIMEOUT = 20.0
# How often the test checks the child's output and nudges the watched file.
POLL_INTERVAL = 0.05

# Shared by the child programs: report how this run was started, a helper
# that keeps changing a file's mtime (so that whichever periodic check runs
# after the first one sees a change, without guessing at timing), and one
# that watches for changes until the restart comes.
PRELUDE = textwrap.dedent("""
    import asyncio, os, sys

    HERE = os.path.dirname(os.path.abspath(__file__))

    def report(label):
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        print(label, repr(sys.argv[1:]), spec.name if spec else None,
              sorted(sys._xoptions), sys.warnoptions, flush=True)

    def keep_touching(path):
        from tornado.ioloop import PeriodicCallback

        base = os.stat(path).st_mtime
        ticks = [0]

        def touch():
            ticks[0] += 1
            os.utime(path, (base + ticks[0], base + ticks[0]))

        PeriodicCallback(touch, 20).start()
        return ticks

    def first_run():
        marker = os.path.join(HERE, "marker")
        if os.path.exists(marker):
            return False
        open(marker, "w").close()
        return True

    def reload_when_changed(path):
        from tornado import autoreload

        async def main():
            autoreload.start(check_time=20)
            keep_touching(path)
            await asyncio.Event().wait()

        asyncio.run(main())
    """)

SELF_MODIFYING_SCRIPT = PRELUDE + textwrap.dedent("""
    from tornado import autoreload

    report("started")
    if not first_run():
        sys.exit(0)
    autoreload.add_reload_hook(lambda: print("hook ran", flush=True))
    reload_when_changed(__file__)
    """)

# Run as ``-m pkg.server``: restarts must keep module mode, so the relative
# import still works and __spec__ keeps its name.
PACKAGE_MODULE = PRELUDE + textwrap.dedent("""
    from tornado import autoreload
    from . import helper

    report("started " + helper.NAME)
    if not first_run():
        sys.exit(0)
    data = os.path.join(HERE, "data.txt")
    open(data, "w").close()
    autoreload.watch(data)
    reload_when_changed(data)
    """)

FORKED_CHILD_SCRIPT = PRELUDE + textwrap.dedent("""
    from tornado import autoreload, process

    process.fork_processes(1)
    report("child started")

    async def main():
        autoreload.start(check_time=10)
        ticks = keep_touching(__file__)
        while ticks[0] < 15:
            await asyncio.sleep(0.02)
        print("still the same process", flush=True)

    asyncio.run(main())
    """)

# Fails on its first run, succeeds on the next: for the wrapper.
FAIL_ONCE_SCRIPT = PRELUDE + textwrap.dedent("""
    report("started")
    if first_run():
        raise ValueError("first run fails")
    """)

EXIT_ONCE_MODULE = PRELUDE + textwrap.dedent("""
    report("started")
    if first_run():
        sys.exit(3)
    """)


class Child:
    """A child interpreter whose output lines are collected as they arrive."""

    def __init__(self, args: list[str], cwd: str) -> None:
        env = env_with_package()
        env.pop("PYTHONWARNINGS", None)  # the children report their warning options
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.output: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._arrivals: queue.Queue[None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (
                ("stdout", self.proc.stdout),
                ("stderr", self.proc.stderr),
            )
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: typing.IO[str]) -> None:
        for line in stream:
            self.output[name].append(line.rstrip("\n"))
            self._arrivals.put(None)
        self._arrivals.put(None)

    def lines(self, stream: str = "stdout") -> list[str]:
        return list(self.output[stream])

    def describe(self) -> str:
        return "stdout:\n{}\nstderr:\n{}".format(
            "\n".join(self.lines("stdout")), "\n".join(self.lines("stderr"))
        )

    def wait_until(
        self,
        condition: Callable[[], bool],
        nudge: Callable[[], None] | None = None,
    ) -> None:
        """Wait for ``condition()`` to hold, calling ``nudge()`` between checks."""
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    "child never produced the expected output\n" + self.describe()
                )
            try:
                self._arrivals.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                pass
            if nudge is not None:
                nudge()

    def finish(self) -> int:
        """Wait for the child to exit and for all of its output."""
        try:
            returncode = self.proc.wait(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError("child did not exit\n" + self.describe())
        for reader in self._readers:
            reader.join(CHILD_TIMEOUT)
        return returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for reader in self._readers:
            reader.join(CHILD_TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Toucher:
    """Bumps a file's mtime by one more second on each call."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.base = os.stat(path).st_mtime
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        os.utime(self.path, (self.base + self.count, self.base + self.count))


@unittest.skipIf(
    sys.platform == "win32", "the tests rely on exec replacing the process"
)
class AutoreloadTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def write(self, relpath: str, text: str) -> str:
        path = os.path.join(self.dir, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def spawn(self, *args: str) -> Child:
        child = Child(list(args), cwd=self.dir)
        self.addCleanup(child.kill)
        return child

    def started_lines(self, child: Child) -> list[str]:
        return [line for line in child.lines() if line.startswith("started")]

    def test_script_restarts_with_same_argv_and_interpreter_options(self) -> None:
        self.write("server.py", SELF_MODIFYING_SCRIPT)
        child = self.spawn(
            "-X", "autoreload_test", "-Wdefault", "server.py", "a", "--b=c"
        )
        child.wait_until(lambda: len(self.started_lines(child)) == 2)
        self.assertEqual(child.finish(), 0, child.describe())
        first, second = self.started_lines(child)
        self.assertEqual(first, second)
        self.assertEqual(
            first, "started ['a', '--b=c'] None ['autoreload_test'] ['default']"
        )
        self.assertEqual(child.lines(), [first, "hook ran", second])

    def test_module_restarts_as_module(self) -> None:
        self.write("pkg/__init__.py", "")
        self.write("pkg/helper.py", "NAME = 'helper imported'\n")
        self.write("pkg/server.py", PACKAGE_MODULE)
        child = self.spawn("-m", "pkg.server", "x", "y")
        child.wait_until(lambda: len(self.started_lines(child)) == 2)
        self.assertEqual(child.finish(), 0, child.describe())
        expected = "started helper imported ['x', 'y'] pkg.server [] []"
        self.assertEqual(self.started_lines(child), [expected, expected])

    def test_no_restart_in_forked_child(self) -> None:
        self.write("server.py", FORKED_CHILD_SCRIPT)
        child = self.spawn("server.py")
        self.assertEqual(child.finish(), 0, child.describe())
        self.assertEqual(
            [line.split(" [")[0] for line in child.lines()],
            ["child started", "still the same process"],
        )

    def test_wrapper_reruns_script_after_exception(self) -> None:
        script = self.write("tool.py", FAIL_ONCE_SCRIPT)
        child = self.spawn(
            "-m", "tornado.autoreload", "--until-success", "tool.py", "arg"
        )
        child.wait_until(
            lambda: "Script exited with uncaught exception" in child.describe()
        )
        self.assertIn("ValueError: first run fails", child.describe())
        child.wait_until(
            lambda: len(self.started_lines(child)) == 2, nudge=Toucher(script)
        )
        # The second run succeeds, so --until-success ends the wrapper.
        self.assertEqual(child.finish(), 0, child.describe())
        expected = "started ['arg'] None [] []"
        self.assertEqual(self.started_lines(child), [expected, expected])

    def test_wrapper_reruns_module_after_failed_exit(self) -> None:
        self.write("pkg/__init__.py", "")
        module = self.write("pkg/tool.py", EXIT_ONCE_MODULE)
        child = self.spawn(
            "-m", "tornado.autoreload", "--until-success", "-m", "pkg.tool", "z"
        )
        child.wait_until(lambda: "Script exited with status 3" in child.describe())
        child.wait_until(
            lambda: len(self.started_lines(child)) == 2, nudge=Toucher(module)
        )
        self.assertEqual(child.finish(), 0, child.describe())
        expected = "started ['z'] pkg.tool [] []"
        self.assertEqual(self.started_lines(child), [expected, expected])

    def test_wrapper_without_program(self) -> None:
        child = self.spawn("-m", "tornado.autoreload")
        self.assertEqual(child.finish(), 2)
        self.assertIn("a module (-m) or a script path is required", child.describe())


if __name__ == "__main__":
    unittest.main()
