"""Restart the process when its source files change, for development.

Call :func:`start` in a program running an event loop (``tornado.web``'s
``debug=True`` and ``autoreload=True`` settings do this): every ``check_time``
milliseconds the files of every imported module, and any given to
:func:`watch`, are checked, and when one has been modified the process
re-executes itself with the same interpreter options and arguments.  A program
started with ``python -m package.module`` is restarted the same way, so that
``sys.path`` and relative imports behave as they did.

The module also works as a wrapper that keeps a program running across
crashes and syntax errors::

    python -m tornado.autoreload -m package.module [args...]
    python -m tornado.autoreload path/to/script.py [args...]

The program runs; whenever it ends, normally or with an exception, the wrapper
waits for one of its files to change and then runs it again.  With
``--until-success`` the wrapper stops once the program exits with status 0.

Re-executing replaces the process, so file descriptors without the close-on-exec
flag leak into the new one; and on Windows, where there is no ``exec``, a new
process is started and the old one exits, which detaches it from its console.
Reloading is disabled in processes forked by ``tornado.process.fork_processes``:
the supervising parent would see its children vanish.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # Run as ``python path/to/tornado/autoreload.py``, sys.path[0] is the tornado
    # package directory, whose modules (locale, platform, ...) would shadow the
    # standard library ones imported below.
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]

import functools
import importlib.util
import itertools
import logging
import optparse
import runpy
import signal
import subprocess
import traceback
import types
import weakref
from collections.abc import Callable, Iterable, Iterator
from importlib.machinery import ModuleSpec
from typing import NoReturn

from tornado import ioloop, process
from tornado.log import enable_pretty_logging, gen_log

__all__ = ["start", "wait", "watch", "add_reload_hook", "main"]

# Files given to watch(), checked along with the files of imported modules.
_extra_files: set[str] = set()
# What add_reload_hook() registered, called in order before a restart.
_before_restart: list[Callable[[], None]] = []
# Set once a restart has been attempted, so a failed exec is not retried.
_reload_attempted = False
# The loops on which start() has scheduled the periodic check.
_io_loops: weakref.WeakKeyDictionary[ioloop.IOLoop, bool] = weakref.WeakKeyDictionary()
# When this module's main() wraps a program, the command line that started the
# wrapper, which a restart must repeat (the program's own argv is not enough).
_autoreload_is_main = False
_original_argv: list[str] | None = None
_original_spec: ModuleSpec | None = None

# Interpreter options whose value may be the next argument (``-W error``).
_SHORT_OPTIONS_WITH_VALUE = "WX"
_LONG_OPTIONS_WITH_VALUE = ("--check-hash-based-pycs",)
# Interpreter options that name the program (``-m module``, ``-c command``).
_PROGRAM_OPTIONS = "cm"


def start(check_time: int = 500) -> None:
    """Check for modified files every ``check_time`` milliseconds, and restart.

    The check runs on the current event loop; calling this again for the same
    loop does nothing.
    """
    io_loop = ioloop.IOLoop.current()
    if io_loop in _io_loops:
        return
    _io_loops[io_loop] = True
    if len(_io_loops) > 1:
        gen_log.warning("tornado.autoreload started more than once in the same process")
    check = functools.partial(_restart_if_changed, _ModificationTimes())
    ioloop.PeriodicCallback(check, check_time).start()


def wait() -> None:
    """Block until a watched file changes, then restart the process.

    Meant for the end of scripts such as test runners, so that they run again
    after each edit.  It runs a new event loop with :func:`start` on it.
    """
    io_loop = ioloop.IOLoop()
    io_loop.add_callback(start)
    io_loop.start()


def watch(filename: str) -> None:
    """Also restart when ``filename`` changes.

    The files of imported modules are watched without being named here.
    """
    _extra_files.add(filename)


def add_reload_hook(fn: Callable[[], None]) -> None:
    """Call ``fn()`` just before the process restarts.

    The restarted process inherits every file descriptor not marked
    close-on-exec (``os.set_inheritable(fd, False)``); a hook can close the
    others, or flush state that must survive the restart.
    """
    _before_restart.append(fn)


class _ModificationTimes:
    """The modification time of each file as first seen, to spot changes."""

    __slots__ = ("_first_seen",)

    def __init__(self) -> None:
        self._first_seen: dict[str, float] = {}

    def first_changed(self, paths: Iterable[str]) -> str | None:
        """The first of ``paths`` modified since it was first seen, if any.

        Files that cannot be read (removed, or never there) are skipped.
        """
        for path in paths:
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            if self._first_seen.setdefault(path, mtime) != mtime:
                return path
        return None


def _restart_if_changed(times: _ModificationTimes) -> None:
    """One periodic check: restart when a watched file has been modified."""
    # In a child of fork_processes, a restart would leave the parent
    # unaware of the new process, and it would start another in its place.
    if _reload_attempted or process.task_id() is not None:
        return
    changed = times.first_changed(itertools.chain(_module_files(), _extra_files))
    if changed is not None:
        gen_log.info("%s modified; restarting server", changed)
        _reload()


def _module_files() -> Iterator[str]:
    """The source files of the modules currently imported."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(module, types.ModuleType) and isinstance(path, str):
            yield path[:-1] if path.endswith((".pyc", ".pyo")) else path


def _reload() -> None:
    """Run the reload hooks, then replace this process with a fresh copy."""
    global _reload_attempted
    _reload_attempted = True
    for fn in _before_restart:
        fn()
    if sys.platform != "win32":
        # A pending interval timer would survive the exec and kill the new
        # process with SIGALRM.
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
    command = [sys.executable] + _interpreter_options(sys.orig_argv) + _program_args()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    if sys.platform == "win32":
        _spawn_and_exit(command)
    try:
        os.execv(sys.executable, command)
    except OSError:
        # Some systems refuse exec in a process that has several threads.
        _spawn_and_exit(command)


def _spawn_and_exit(command: list[str]) -> NoReturn:
    """Start ``command`` as a new process and end this one."""
    subprocess.Popen(command)
    os._exit(0)


def _program_args() -> list[str]:
    """The arguments after the interpreter options that rerun this program.

    ``sys.argv`` is used (a program may have rewritten it on purpose), except
    that a program started with ``-m`` gets ``-m`` and its module name back:
    Python replaced them with a file name, and running that file directly
    would give it a different ``sys.path`` and break relative imports.
    """
    if _autoreload_is_main:
        assert _original_argv is not None
        argv, spec = _original_argv, _original_spec
    else:
        argv = sys.argv
        spec = getattr(sys.modules["__main__"], "__spec__", None)
    # A spec named "__main__" means a directory or zip file was run as a
    # script; it is rerun by path like any other script.
    if spec is not None and spec.name != "__main__":
        return ["-m", spec.name] + argv[1:]
    return list(argv)


def _interpreter_options(orig_argv: list[str]) -> list[str]:
    """The options given to the interpreter itself, such as ``-O`` or ``-W error``.

    ``orig_argv`` is the full command line (``sys.orig_argv``); the options are
    what comes before the script name, ``-m`` or ``-c``.
    """
    options: list[str] = []
    args = iter(orig_argv[1:])
    for arg in args:
        if arg in ("-", "--") or not arg.startswith("-"):
            break
        if arg.startswith("--"):
            options.append(arg)
            if arg in _LONG_OPTIONS_WITH_VALUE:
                options.append(next(args, ""))
            continue
        for position, letter in enumerate(arg[1:], start=1):
            if letter in _PROGRAM_OPTIONS:
                # Flags grouped before it, as in ``-Om module``, still count.
                if position > 1:
                    options.append(arg[:position])
                return options
            if letter in _SHORT_OPTIONS_WITH_VALUE:
                options.append(arg)
                if position == len(arg) - 1:  # value in the next argument
                    options.append(next(args, ""))
                break
        else:
            options.append(arg)
    return options


_USAGE = """\
python -m tornado.autoreload -m module.to.run [args...]
       python -m tornado.autoreload path/to/script.py [args...]"""


def main() -> None:
    """Run a program and rerun it whenever its files change.

    This is the command line interface, ``python -m tornado.autoreload``; see
    the module documentation.  The program runs in this process, as
    ``__main__`` with its own ``sys.argv``.  If it ends (normally or with an
    uncaught exception, including a syntax error) the wrapper waits for a
    change to any file it imported, or to the file that failed, and restarts.
    """
    global _autoreload_is_main, _original_argv, _original_spec
    original_argv = sys.argv
    _autoreload_is_main = True
    _original_argv = original_argv
    _original_spec = getattr(sys.modules["__main__"], "__spec__", None)

    parser = optparse.OptionParser(
        prog="python -m tornado.autoreload",
        usage=_USAGE,
        epilog="Give either -m or a script path, not both.",
    )
    parser.disable_interspersed_args()
    parser.add_option("-m", dest="module", metavar="MODULE", help="module to run")
    parser.add_option(
        "--until-success",
        action="store_true",
        help="stop once the program exits with status 0",
    )
    opts, rest = parser.parse_args(original_argv[1:])
    if opts.module is None:
        if not rest:
            parser.error("a module (-m) or a script path is required")
        path: str | None = rest[0]
        sys.argv = rest[:]
    else:
        path = None
        sys.argv = [original_argv[0]] + rest

    exit_status = _run_program(opts.module, path)
    sys.argv = original_argv
    program_file = path if path is not None else _module_file(opts.module)
    if program_file is not None:
        # It ran under a temporary module that is no longer in sys.modules.
        watch(program_file)
    if opts.until_success and not exit_status:
        return
    wait()


def _run_program(module: str | None, path: str | None) -> object:
    """Run the wrapped program; its exit status (0 or None when successful)."""
    try:
        if module is not None:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            assert path is not None
            runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        _ensure_logging()
        gen_log.info("Script exited with status %s", e.code)
        return e.code
    except Exception as e:
        _ensure_logging()
        gen_log.warning("Script exited with uncaught exception", exc_info=True)
        # A module that failed to import never reached sys.modules, so watch
        # every file in the traceback to see it fixed.
        for frame in traceback.extract_tb(e.__traceback__):
            watch(frame.filename)
        if isinstance(e, SyntaxError) and e.filename is not None:
            # The file with the syntax error has no frame of its own.
            watch(e.filename)
        return 1
    _ensure_logging()
    gen_log.info("Script exited normally")
    return 0


def _module_file(module: str) -> str | None:
    """The source file of ``module``, or None if it cannot be found."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


def _ensure_logging() -> None:
    """Make the wrapper's log messages visible if nothing configured logging."""
    if not logging.getLogger().handlers:
        enable_pretty_logging()


if __name__ == "__main__":
    # Run main() from the module imported under its real name, so that a wrapped
    # program importing tornado.autoreload shares this state instead of getting
    # a second copy of the module.
    import tornado.autoreload

    tornado.autoreload.main()
