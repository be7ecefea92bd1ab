"""Working with several processes: pre-forking servers and child processes.

:func:`fork_processes` turns one process into a supervisor of several worker
processes (restarting those that die), and :class:`Subprocess` runs a child
program whose pipes and exit status can be awaited on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from tornado import ioloop
from tornado.concurrent import (
    Future,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.log import gen_log

__all__ = [
    "cpu_count",
    "fork_processes",
    "task_id",
    "Subprocess",
    "CalledProcessError",
]

# Re-exported so that callers of Subprocess.wait_for_exit need not import
# subprocess to catch it.
CalledProcessError = subprocess.CalledProcessError

# How many child deaths fork_processes tolerates when max_restarts is None.
_DEFAULT_MAX_RESTARTS = 100

_STD_STREAMS = ("stdin", "stdout", "stderr")

# Set in each child started by fork_processes: its index among the children.
_task_id: int | None = None


def cpu_count() -> int:
    """The number of processors on this machine, or 1 if it cannot be told."""
    count = os.cpu_count()
    if count is None:
        gen_log.error("Could not detect number of processors; assuming 1")
        return 1
    return count


def task_id() -> int | None:
    """The index of this process among the children of :func:`fork_processes`.

    None if this process was not started by :func:`fork_processes`.
    """
    return _task_id


def fork_processes(num_processes: int | None, max_restarts: int | None = None) -> int:
    """Fork ``num_processes`` worker processes and supervise them.

    In each child this function returns the child's task id, a number from 0
    to ``num_processes - 1`` (also available later from :func:`task_id`).  In
    the parent it never returns: it waits for the children and restarts any child
    that exits with a non-zero status or is killed by a signal, under the same
    task id.  Once every child has exited cleanly the parent exits with status
    0; after more than ``max_restarts`` restarts (default 100) it raises
    RuntimeError.

    ``num_processes`` of None or 0 or less means one child per CPU
    (:func:`cpu_count`).  No event loop may have been created in the parent
    before forking: the children would share its file descriptors.  Sockets
    bound before the call (e.g. with ``tornado.netutil.bind_sockets``) are
    inherited and shared by all children.  Not available on Windows.
    """
    if sys.platform == "win32":
        raise Exception("fork not available on windows")
    if _task_id is not None:
        raise RuntimeError("fork_processes cannot be called from a forked child")
    if max_restarts is None:
        max_restarts = _DEFAULT_MAX_RESTARTS
    if num_processes is None or num_processes <= 0:
        num_processes = cpu_count()
    gen_log.info("Starting %d processes", num_processes)
    children: dict[int, int] = {}  # pid -> task id

    for i in range(num_processes):
        if _fork_child(i, children):
            return i
    restarts = 0
    while children:
        pid, status = os.wait()
        if pid not in children:
            continue
        child_id = children.pop(pid)
        if not _report_child_death(child_id, pid, status):
            continue
        restarts += 1
        if restarts > max_restarts:
            raise RuntimeError("Too many child restarts, giving up")
        if _fork_child(child_id, children):
            return child_id
    # Every child exited cleanly: the supervisor's job is done.
    sys.exit(0)


def _fork_child(child_id: int, children: dict[int, int]) -> bool:
    """Fork the child ``child_id``; True in the child, False in the parent."""
    pid = os.fork()
    if pid == 0:
        global _task_id
        _task_id = child_id
        return True
    children[pid] = child_id
    return False


def _report_child_death(child_id: int, pid: int, status: int) -> bool:
    """Log how a child ended; True if it failed and should be restarted."""
    if os.WIFSIGNALED(status):
        gen_log.warning(
            "child %d (pid %d) killed by signal %d, restarting",
            child_id,
            pid,
            os.WTERMSIG(status),
        )
        return True
    exit_status = os.waitstatus_to_exitcode(status)
    if exit_status != 0:
        gen_log.warning(
            "child %d (pid %d) exited with status %d, restarting",
            child_id,
            pid,
            exit_status,
        )
        return True
    gen_log.info("child %d (pid %d) exited normally", child_id, pid)
    return False


class Subprocess:
    """A :class:`subprocess.Popen` whose pipes and exit work with the event loop.

    Takes the same arguments as :class:`subprocess.Popen`, except that
    ``stdin``, ``stdout`` and ``stderr`` may also be ``Subprocess.STREAM``: the
    corresponding attribute is then a ``tornado.iostream.PipeIOStream`` connected
    to the child instead of a file object.  Other values behave as with
    :class:`subprocess.Popen`, and the attribute holds what ``Popen`` would.

    :meth:`set_exit_callback` and :meth:`wait_for_exit` learn of the child's exit
    through a ``SIGCHLD`` handler; see :meth:`initialize`.  ``pid`` and
    ``proc`` (the underlying ``Popen``) are available as attributes, and
    ``returncode`` once the exit has been seen.
    """

    #: Pass as ``stdin``, ``stdout`` or ``stderr`` to get a ``PipeIOStream``.
    STREAM = object()

    _initialized = False
    _signal_loop: asyncio.AbstractEventLoop | None = None
    _waiting: dict[int, Subprocess] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.io_loop = ioloop.IOLoop.current()
        streamed = [n for n in _STD_STREAMS if kwargs.get(n) is Subprocess.STREAM]
        if streamed:
            # iostream sits above this module, so it is imported only when needed.
            from tornado.iostream import PipeIOStream
        # For each STREAM argument: (attribute name, our pipe end, the child's end).
        pipes: list[tuple[str, int, int]] = []
        try:
            for name in streamed:
                read_fd, write_fd = os.pipe()
                if name == "stdin":
                    pipes.append((name, write_fd, read_fd))
                else:
                    pipes.append((name, read_fd, write_fd))
                kwargs[name] = pipes[-1][2]
            self.proc = subprocess.Popen(*args, **kwargs)
        except BaseException:
            for _, ours, theirs in pipes:
                os.close(ours)
                os.close(theirs)
            raise
        self.pid = self.proc.pid
        self.returncode: int | None = None
        self._exit_callback: Callable[[int], None] | None = None
        self._waiter_thread: threading.Thread | None = None
        self.stdin: Any = self.proc.stdin
        self.stdout: Any = self.proc.stdout
        self.stderr: Any = self.proc.stderr
        for name, ours, theirs in pipes:
            os.close(theirs)
            setattr(self, name, PipeIOStream(ours))

    def set_exit_callback(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(returncode)`` on the event loop when the child exits.

        This replaces ``Popen.wait`` and friends, which would block: once an exit
        callback is set, do not call those methods.  Sets up the ``SIGCHLD``
        handler with :meth:`initialize` if that has not been done yet; it is
        meant to run in the main thread.
        """
        self._exit_callback = callback
        Subprocess.initialize()
        if Subprocess._signal_loop is None:
            self._wait_in_thread()
            return
        Subprocess._waiting[self.pid] = self
        Subprocess._try_cleanup_process(self.pid)

    def _wait_in_thread(self) -> None:
        """Learn of the child's exit from a thread blocked in ``waitpid``.

        The fallback for when no loop can handle ``SIGCHLD``.
        """
        if self._waiter_thread is not None:
            return

        def wait() -> None:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                return
            try:
                self.io_loop.add_callback(self._set_returncode, status)
            except RuntimeError:  # the loop was closed meanwhile
                pass

        self._waiter_thread = threading.Thread(
            target=wait, name=f"tornado-wait-{self.pid}", daemon=True
        )
        self._waiter_thread.start()

    def wait_for_exit(self, raise_error: bool = True) -> Future[int]:
        """A future resolving to the child's return code once it exits.

        If ``raise_error`` is true (the default) a non-zero return code makes
        the future raise :class:`CalledProcessError` instead.  Like
        :meth:`set_exit_callback`, which it uses, this replaces any previous
        exit callback.
        """
        future: Future[int] = Future()

        def on_exit(returncode: int) -> None:
            if returncode != 0 and raise_error:
                future_set_exception_unless_cancelled(
                    future, CalledProcessError(returncode, self.proc.args)
                )
            else:
                future_set_result_unless_cancelled(future, returncode)

        self.set_exit_callback(on_exit)
        return future

    @classmethod
    def initialize(cls) -> None:
        """Install the ``SIGCHLD`` handler that notices child exits.

        The handler runs on the current event loop, which should be running in
        the main thread; children of :class:`Subprocess` objects on loops in
        other threads are reported on their own loops.  Calling this again does
        nothing unless that loop has been closed, or this is the main thread and
        another loop is current, in which case the handler moves to it.
        Where no handler can be installed (outside the main thread, or on
        uvloop, which keeps ``SIGCHLD`` for itself), each child's exit is
        awaited by a helper thread instead.  :meth:`set_exit_callback` calls
        this itself.
        """
        loop = cls._current_asyncio_loop()
        if cls._handler_serves(loop):
            return
        cls.uninitialize()
        try:
            loop.add_signal_handler(signal.SIGCHLD, cls._cleanup)
        except (RuntimeError, ValueError, NotImplementedError):
            cls._signal_loop = None
        else:
            cls._signal_loop = loop
        cls._initialized = True

    @classmethod
    def uninitialize(cls) -> None:
        """Remove the ``SIGCHLD`` handler installed by :meth:`initialize`."""
        owner = cls._signal_loop
        cls._initialized = False
        cls._signal_loop = None
        if owner is not None and not owner.is_closed():
            owner.remove_signal_handler(signal.SIGCHLD)

    @classmethod
    def _handler_serves(cls, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether an earlier :meth:`initialize` still covers ``loop``."""
        owner = cls._signal_loop
        if not cls._initialized or owner is None or owner.is_closed():
            return False
        # Only the main thread can move the handler to another loop.
        return (
            owner is loop or threading.current_thread() is not threading.main_thread()
        )

    @staticmethod
    def _current_asyncio_loop() -> asyncio.AbstractEventLoop:
        io_loop = ioloop.IOLoop.current()
        loop = getattr(io_loop, "asyncio_loop", None)
        if not isinstance(loop, asyncio.AbstractEventLoop):
            raise RuntimeError(f"{io_loop!r} is not running on an asyncio event loop")
        return loop

    @classmethod
    def _cleanup(cls) -> None:
        """Reap every watched child that has exited."""
        for pid in list(cls._waiting):
            cls._try_cleanup_process(pid)

    @classmethod
    def _try_cleanup_process(cls, pid: int) -> None:
        """Reap ``pid`` if it has exited and report its status on its loop."""
        try:
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if reaped == 0:
            return
        child = cls._waiting.pop(pid)
        child.io_loop.add_callback(child._set_returncode, status)

    def _set_returncode(self, status: int) -> None:
        if sys.platform == "win32":
            self.returncode = -1
        else:
            self.returncode = os.waitstatus_to_exitcode(status)
        # We reaped the child, so Popen never will; tell it the status so it
        # neither waits for a finished process nor warns that it still runs.
        self.proc.returncode = self.returncode
        callback, self._exit_callback = self._exit_callback, None
        if callback is not None:
            callback(self.returncode)
