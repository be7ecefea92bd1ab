"""Tests for tornado.process: fork_processes (in a child interpreter) and Subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import typing
import unittest

from tornado import process
from tornado.ioloop import IOLoop
from tornado.process import CalledProcessError, Subprocess
from tornado.test.util import env_with_package
from tornado.testing import AsyncTestCase, gen_test, get_async_test_timeout

try:
    from tornado.iostream import PipeIOStream
except ImportError:
    PipeIOStream = None  # type: ignore[assignment,misc]


# Forks workers with fork_processes and reports, from each worker, its task id.
# argv: mode, num_processes, max_restarts, scratch directory.
FORK_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from tornado import process

    def say(*words):
        # One write per line: the workers share this pipe.
        os.write(1, (" ".join(map(str, words)) + "\\n").encode())

    mode, num, max_restarts, scratch = sys.argv[1:]
    try:
        tid = process.fork_processes(int(num), max_restarts=int(max_restarts))
    except RuntimeError as e:
        say("supervisor gave up:", e)
        sys.exit(3)
    assert process.task_id() == tid
    say("task", tid)

    marker = os.path.join(scratch, "failed-%d" % tid)
    first_run = not os.path.exists(marker)
    open(marker, "a").close()
    if mode == "nested":
        try:
            process.fork_processes(1)
        except RuntimeError as e:
            say("nested:", e)
    elif mode == "exit" and tid == 0 and first_run:
        sys.exit(7)
    elif mode == "signal" and tid == 1 and first_run:
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "always-fail":
        os._exit(2)
    sys.exit(0)
    """)


@unittest.skipIf(sys.platform == "win32", "fork_processes needs os.fork")
class ForkProcessesTest(unittest.TestCase):
    def run_script(
        self, mode: str, num: int, max_restarts: int = 100
    ) -> subprocess.CompletedProcess[str]:
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        return subprocess.run(
            [
                sys.executable,
                "-c",
                FORK_SCRIPT,
                mode,
                str(num),
                str(max_restarts),
                scratch.name,
            ],
            env=env_with_package(),
            capture_output=True,
            text=True,
            timeout=30,
        )

    def task_lines(self, result: subprocess.CompletedProcess[str]) -> list[int]:
        return sorted(
            int(line.split()[1])
            for line in result.stdout.splitlines()
            if line.startswith("task ")
        )

    def test_task_ids(self) -> None:
        result = self.run_script("ok", 3)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.task_lines(result), [0, 1, 2])

    def test_restart_after_failed_exit(self) -> None:
        result = self.run_script("exit", 2)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.task_lines(result), [0, 0, 1])
        self.assertRegex(
            result.stderr, r"child 0 \(pid \d+\) exited with status 7, restarting"
        )

    def test_restart_after_signal(self) -> None:
        result = self.run_script("signal", 2)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.task_lines(result), [0, 1, 1])
        self.assertRegex(
            result.stderr,
            rf"child 1 \(pid \d+\) killed by signal {int(signal.SIGKILL)}, restarting",
        )

    def test_too_many_restarts(self) -> None:
        result = self.run_script("always-fail", 3, max_restarts=2)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("supervisor gave up: Too many child restarts", result.stdout)
        # Three children, then two restarts before the third failure gives up.
        self.assertEqual(len(self.task_lines(result)), 5)

    def test_default_is_one_child_per_cpu(self) -> None:
        result = self.run_script("ok", 0)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.task_lines(result), list(range(process.cpu_count())))

    def test_fork_in_child_is_refused(self) -> None:
        result = self.run_script("nested", 1)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            "nested: fork_processes cannot be called from a forked child", result.stdout
        )


class ProcessInfoTest(unittest.TestCase):
    def test_cpu_count(self) -> None:
        self.assertGreaterEqual(process.cpu_count(), 1)

    def test_task_id_outside_fork_processes(self) -> None:
        self.assertIsNone(process.task_id())

    def test_called_process_error_is_subprocess_one(self) -> None:
        self.assertIs(CalledProcessError, subprocess.CalledProcessError)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@unittest.skipIf(sys.platform == "win32", "Subprocess exit notification needs SIGCHLD")
class SubprocessTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.addCleanup(Subprocess.uninitialize)

    def start(self, *args: typing.Any, **kwargs: typing.Any) -> Subprocess:
        proc = Subprocess(*args, **kwargs)

        def reap() -> None:
            if proc.returncode is None and proc.proc.poll() is None:
                proc.proc.kill()
                proc.proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

        self.addCleanup(reap)
        return proc

    def require_streams(self) -> None:
        if PipeIOStream is None:
            self.skipTest("PipeIOStream not available")

    @gen_test
    async def test_wait_for_exit_success(self) -> None:
        proc = self.start(python("pass"))
        self.assertIsInstance(proc.pid, int)
        self.assertIsNone(proc.returncode)
        self.assertEqual(await proc.wait_for_exit(), 0)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.proc.returncode, 0)

    @gen_test
    async def test_wait_for_exit_error(self) -> None:
        proc = self.start(python("raise SystemExit(3)"))
        with self.assertRaises(CalledProcessError) as cm:
            await proc.wait_for_exit()
        self.assertEqual(cm.exception.returncode, 3)

    @gen_test
    async def test_wait_for_exit_without_raising(self) -> None:
        proc = self.start(python("raise SystemExit(4)"))
        self.assertEqual(await proc.wait_for_exit(raise_error=False), 4)

    @gen_test
    async def test_killed_by_signal(self) -> None:
        proc = self.start(python("import time; time.sleep(60)"))
        exit_future = proc.wait_for_exit(raise_error=False)
        proc.proc.send_signal(signal.SIGTERM)
        self.assertEqual(await exit_future, -signal.SIGTERM)

    @unittest.skipUnless(hasattr(os, "waitid"), "needs os.waitid to see the exit")
    @gen_test
    async def test_child_that_exited_before_waiting(self) -> None:
        proc = self.start(python("raise SystemExit(5)"))
        # Block until the child is a zombie, without reaping it.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        self.assertEqual(await proc.wait_for_exit(raise_error=False), 5)

    @gen_test
    async def test_set_exit_callback(self) -> None:
        proc = self.start(python("raise SystemExit(6)"))
        finished = asyncio.Event()
        codes: list[int] = []

        def on_exit(code: int) -> None:
            codes.append(code)
            finished.set()

        proc.set_exit_callback(on_exit)
        await finished.wait()
        self.assertEqual(codes, [6])
        self.assertEqual(proc.returncode, 6)

    @gen_test
    async def test_several_children(self) -> None:
        procs = [self.start(python(f"raise SystemExit({i})")) for i in range(4)]
        codes = [await p.wait_for_exit(raise_error=False) for p in procs]
        self.assertEqual(codes, [0, 1, 2, 3])

    @gen_test
    async def test_popen_pipes_are_kept(self) -> None:
        proc = self.start(python("print('plain')"), stdout=subprocess.PIPE)
        self.assertIs(proc.stdout, proc.proc.stdout)
        await proc.wait_for_exit()
        self.assertEqual(proc.stdout.read().strip(), b"plain")

    def test_bad_program_closes_pipes(self) -> None:
        self.require_streams()
        before = (
            set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
        )
        with self.assertRaises(FileNotFoundError):
            Subprocess(
                ["/nonexistent/program"],
                stdout=Subprocess.STREAM,
                stdin=Subprocess.STREAM,
            )
        if before is not None:
            self.assertEqual(set(os.listdir("/proc/self/fd")), before)

    @gen_test
    async def test_stdout_stream(self) -> None:
        self.require_streams()
        proc = self.start(python("print('hello')"), stdout=Subprocess.STREAM)
        self.assertIsInstance(proc.stdout, PipeIOStream)
        data = await proc.stdout.read_until_close()
        self.assertEqual(data.strip(), b"hello")
        self.assertEqual(await proc.wait_for_exit(), 0)

    @gen_test
    async def test_stdin_and_stdout_streams(self) -> None:
        self.require_streams()
        proc = self.start(
            python("import sys; sys.stdout.write(sys.stdin.read().upper())"),
            stdin=Subprocess.STREAM,
            stdout=Subprocess.STREAM,
        )
        await proc.stdin.write(b"echo me")
        proc.stdin.close()
        self.assertEqual(await proc.stdout.read_until_close(), b"ECHO ME")
        await proc.wait_for_exit()

    @gen_test
    async def test_stderr_stream(self) -> None:
        self.require_streams()
        proc = self.start(
            python("import sys; sys.stderr.write('oops'); sys.exit(1)"),
            stderr=Subprocess.STREAM,
        )
        self.assertEqual(await proc.stderr.read_until_close(), b"oops")
        with self.assertRaises(CalledProcessError):
            await proc.wait_for_exit()

    def test_loop_in_another_thread(self) -> None:
        # No SIGCHLD handler can be installed outside the main thread, so the
        # exit is noticed another way; it must still be reported on that loop.
        results: list[tuple[int, bool]] = []

        async def run_child() -> None:
            proc = Subprocess(python("raise SystemExit(9)"))
            code = await proc.wait_for_exit(raise_error=False)
            results.append((code, proc.io_loop is IOLoop.current()))

        thread = threading.Thread(target=lambda: asyncio.run(run_child()))
        thread.start()
        thread.join(timeout=get_async_test_timeout())
        self.assertFalse(thread.is_alive(), "the child's exit was never reported")
        self.assertEqual(results, [(9, True)])

    @gen_test
    async def test_reinitialize(self) -> None:
        Subprocess.initialize()
        Subprocess.initialize()  # a second call on the same loop is a no-op
        Subprocess.uninitialize()
        Subprocess.uninitialize()  # and so is uninitializing twice
        proc = self.start(python("pass"))
        self.assertEqual(await proc.wait_for_exit(), 0)


if __name__ == "__main__":
    unittest.main()
