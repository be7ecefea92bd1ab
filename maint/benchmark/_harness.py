"""Plumbing shared by the scripts in maint/benchmark.

Every benchmark imports this module before anything from `tornado`, so that
the checkout the script lives in is what gets measured (never another
installed copy), and uses it to start servers in child processes, load them,
and report.

A server process binds its listening socket itself (port 0, so no other
process can take the port in between), calls `announce` and only then starts
its event loop; the parent reads the announced port from the child's
standard output with a deadline.  Connections made before the loop runs wait
in the listening backlog, so "announced" means "ready".

Options every script accepts (`common_options`): ``--loop`` (``asyncio`` or
``uvloop``, for the servers and, where it applies, the client), ``--json``
(print the report as one JSON object instead of text) and, for scripts that
repeat measurements, ``--rounds``.  A script states its targets with
`Report.target`; `Report.finish` prints everything and returns the exit
status, non-zero when a target was missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

BENCHMARK_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(BENCHMARK_DIR))
READY_PREFIX = "LISTENING "


def use_checkout() -> None:
    """Make ``import tornado`` load this checkout's package, or exit.

    Called on import of this module; the check fails if a `tornado` module
    was imported from elsewhere before it.
    """
    if sys.path[:1] != [REPO_ROOT]:
        sys.path.insert(0, REPO_ROOT)
    import tornado

    where = os.path.dirname(os.path.abspath(tornado.__file__))
    if where != os.path.join(REPO_ROOT, "tornado"):
        raise SystemExit(f"benchmarks must measure {REPO_ROOT}, not {where}")


use_checkout()


def child_environment() -> dict[str, str]:
    """The environment for child processes: they import what this one does."""
    path = os.pathsep.join([REPO_ROOT, BENCHMARK_DIR, os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=path.rstrip(os.pathsep))


# -- options ------------------------------------------------------------------


def common_options(
    description: str | None, *, rounds: int | None = None
) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares.

    ``rounds`` adds ``--rounds`` with that default.  Scripts that run servers
    also get the internal ``--serve`` option (the kind of server a child
    process runs).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop of the servers (and of the client where it has one)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    if rounds is not None:
        parser.add_argument(
            "--rounds", type=int, default=rounds, help="repetitions of each measurement"
        )
    parser.add_argument("--serve", default="", help=argparse.SUPPRESS)
    return parser


def install_loop(name: str) -> None:
    """Make ``asyncio.run`` use the named event loop (``asyncio`` or ``uvloop``)."""
    if name == "uvloop":
        import uvloop

        uvloop.install()
    elif name != "asyncio":
        raise SystemExit(f"unknown event loop {name!r}")


# -- servers ------------------------------------------------------------------


def listening_socket(backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 and a free port, for a server process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def announce(sock: socket.socket) -> None:
    """Tell the parent process (see `start_server`) that ``sock`` listens."""
    print(READY_PREFIX + str(sock.getsockname()[1]), flush=True)


def serve_forever(start: Callable[[socket.socket], Any], loop: str) -> None:
    """Run a server process: ``start(sock)`` (maybe a coroutine) then wait forever.

    The socket is bound and announced before the loop starts, so a parent
    waiting in `start_server` can connect as soon as it hears of it.
    """
    sock = listening_socket()
    announce(sock)
    install_loop(loop)

    async def main() -> None:
        started = start(sock)
        if asyncio.iscoroutine(started):
            await started
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass
class Server:
    """A server running in a child process."""

    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}/"


@contextmanager
def start_server(argv: Sequence[str], deadline: float = 30.0) -> Iterator[Server]:
    """Run ``argv`` (a command that calls `announce`) and yield it once it listens.

    Fails if the process exits or stays silent for ``deadline`` seconds.
    The process is terminated (then killed if need be) on exit.
    """
    process = subprocess.Popen(
        list(argv), stdout=subprocess.PIPE, text=True, env=child_environment()
    )
    try:
        yield Server(process, _read_announced_port(process, deadline))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _read_announced_port(process: subprocess.Popen[str], deadline: float) -> int:
    assert process.stdout is not None
    end = time.monotonic() + deadline
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise RuntimeError(
                    f"{process.args} did not start listening in {deadline} s"
                )
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"{process.args} exited with status {process.wait()}"
                )
            if line.startswith(READY_PREFIX):
                return int(line[len(READY_PREFIX) :])


def server_command(script: str, kind: str, loop: str, *extra: str) -> list[str]:
    """The command line that runs ``script``'s server ``kind`` in a child process."""
    return [sys.executable, script, f"--serve={kind}", f"--loop={loop}", *extra]


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process, where /proc tells it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- load -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """One wrk run against one server."""

    rate: float  #: requests per second
    requests: int  #: requests completed
    cpu_per_request: float | None  #: server CPU seconds per request


def require_tool(name: str, package: str | None = None) -> None:
    """Exit with a clear message if the command ``name`` is not installed."""
    if shutil.which(name) is None:
        raise SystemExit(
            f"{name} is not installed; on Debian: apt-get install -y {package or name}"
        )


def run_wrk(server: Server, wrk_args: str, path: str = "") -> LoadResult:
    """Load ``server`` with wrk; its rate and the server's CPU time per request."""
    require_tool("wrk")
    cpu_before = cpu_seconds(server.process.pid)
    output = subprocess.run(
        ["wrk", *wrk_args.split(), server.url + path.lstrip("/")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu_after = cpu_seconds(server.process.pid)
    rate = re.search(r"Requests/sec:\s*([0-9.]+)", output)
    total = re.search(r"([0-9]+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests = int(total.group(1))
    cpu = None
    if cpu_before is not None and cpu_after is not None and requests:
        cpu = (cpu_after - cpu_before) / requests
    return LoadResult(float(rate.group(1)), requests, cpu)


def alternate(
    kinds: Sequence[str], rounds: int, measure: Callable[[str], LoadResult]
) -> dict[str, list[LoadResult]]:
    """Measure each kind once per round, in turn, so load drifts hit them alike."""
    results: dict[str, list[LoadResult]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:
            results[kind].append(measure(kind))
    return results


def median_rate(runs: Sequence[LoadResult]) -> float:
    """The median requests per second of some runs."""
    return statistics.median(run.rate for run in runs)


def median_cpu(runs: Sequence[LoadResult]) -> float | None:
    """The median server CPU seconds per request of some runs, if known."""
    cpus = [run.cpu_per_request for run in runs if run.cpu_per_request is not None]
    return statistics.median(cpus) if cpus else None


# -- reporting ------------------------------------------------------------------


@dataclass
class Report:
    """Figures and targets of one benchmark run, printed as text or JSON."""

    title: str
    rows: list[tuple[str, float, str]] = field(default_factory=list)
    targets: list[tuple[str, float, str, float, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str = "") -> None:
        """Record a figure."""
        self.rows.append((name, value, unit))

    def note(self, text: str) -> None:
        """Record a line of context (printed in text mode only)."""
        self.notes.append(text)

    def target(self, name: str, value: float, op: str, bound: float) -> bool:
        """Record a figure with a stated target (``op`` is ``>=`` or ``<=``)."""
        met = value >= bound if op == ">=" else value <= bound
        self.targets.append((name, value, op, bound, met))
        return met

    def finish(self, as_json: bool) -> int:
        """Print the report; the exit status is 1 if a target was missed."""
        missed = [t[0] for t in self.targets if not t[4]]
        if as_json:
            print(
                json.dumps(
                    {
                        "benchmark": self.title,
                        "figures": {name: value for name, value, _ in self.rows},
                        "targets": {
                            name: {
                                "value": value,
                                "target": f"{op} {bound}",
                                "met": met,
                            }
                            for name, value, op, bound, met in self.targets
                        },
                    },
                    indent=2,
                )
            )
        else:
            print(self.title)
            for line in self.notes:
                print(f"  {line}")
            for name, value, unit in self.rows:
                print(f"  {name:48} {value:14,.3f} {unit}")
            for name, value, op, bound, met in self.targets:
                verdict = "met" if met else "MISSED"
                print(f"  {name:48} {value:14,.3f}   target {op} {bound:g}: {verdict}")
        return 1 if missed else 0
