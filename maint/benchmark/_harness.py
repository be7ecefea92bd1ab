"""Plumbing shared by the scripts in maint/benchmark.

Every benchmark imports this module before anything from `tornado`, so that
the checkout the script lives in is what gets measured (never another
installed copy; but see ``BENCHMARK_CHECKOUT`` below), and uses it to start servers in child processes, load them,
and report.

A server process binds its listening socket itself (port 0, so no other
process can take the port in between), calls `announce` and only then starts
its event loop; the parent reads the announced port from the child's
standard output with a deadline.  Connections made before the loop runs wait
in the listening backlog, so "announced" means "ready".

Options the scripts share (`common_options`): ``--json`` (print the report
as one JSON object instead of text), ``--loop`` (``asyncio`` or ``uvloop``,
for the servers and, where it applies, the client) in scripts that run an
event loop, and ``--rounds`` in scripts that repeat measurements.  A script
states its targets with `Report.target`; `Report.finish` prints everything
and returns the exit status, non-zero when a target was missed.

The measured checkout is the one this file lives in, unless the environment
variable ``BENCHMARK_CHECKOUT`` names another directory holding a `tornado`
package (an older worktree, say): the scripts of this checkout then measure
that one.  `start_server` passes it on to the servers it starts (or names
another, ``checkout=``), and `revision_checkout` exports a git revision's
package to measure.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import io
import json
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

BENCHMARK_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(BENCHMARK_DIR))
READY_PREFIX = "LISTENING "
CHECKOUT_VARIABLE = "BENCHMARK_CHECKOUT"
CHECKOUT = os.path.abspath(os.environ.get(CHECKOUT_VARIABLE) or REPO_ROOT)


def use_checkout() -> None:
    """Make ``import tornado`` load the measured checkout's package, or exit.

    Called on import of this module; the check fails if a `tornado` module
    was imported from elsewhere before it.
    """
    if not os.path.isfile(os.path.join(CHECKOUT, "tornado", "__init__.py")):
        raise SystemExit(f"{CHECKOUT} holds no tornado package")
    if sys.path[:1] != [CHECKOUT]:
        sys.path.insert(0, CHECKOUT)
    import tornado

    where = os.path.dirname(os.path.abspath(tornado.__file__))
    if where != os.path.join(CHECKOUT, "tornado"):
        raise SystemExit(f"benchmarks must measure {CHECKOUT}, not {where}")


use_checkout()


def child_environment(checkout: str | None = None) -> dict[str, str]:
    """The environment for child processes.

    They import this directory's scripts and the tornado of ``checkout``
    (by default the one this process measures).
    """
    checkout = os.path.abspath(checkout or CHECKOUT)
    path = os.pathsep.join([checkout, BENCHMARK_DIR, os.environ.get("PYTHONPATH", "")])
    return dict(
        os.environ,
        PYTHONPATH=path.rstrip(os.pathsep),
        **{CHECKOUT_VARIABLE: checkout},
    )


@contextmanager
def revision_checkout(revision: str) -> Iterator[str]:
    """A temporary directory holding the `tornado` package of a git revision.

    The package comes from ``git archive`` of this repository (no worktree
    is added).  The built C extension of the measured checkout is copied in
    when the revision's ``speedups.c`` is the same as the one it was built
    from; otherwise the revision runs without it.
    """
    git = ["git", "-C", REPO_ROOT]
    exported = subprocess.run(
        [*git, "archive", revision, "tornado"], capture_output=True
    )
    if exported.returncode:
        raise SystemExit(exported.stderr.decode(errors="replace").strip())
    source = subprocess.run(
        [*git, "show", f"{revision}:tornado/speedups.c"], capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="benchmark-checkout-") as directory:
        with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.10.12 and later
                tar.extractall(directory, filter="data")
            else:
                tar.extractall(directory)
        if _file_bytes(os.path.join(CHECKOUT, "tornado", "speedups.c")) == source:
            for built in glob.glob(os.path.join(CHECKOUT, "tornado", "speedups*.so")):
                shutil.copy(built, os.path.join(directory, "tornado"))
        yield directory


def _file_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def has_extension(checkout: str) -> bool:
    """Whether ``checkout`` has a built ``tornado.speedups`` to import."""
    return bool(glob.glob(os.path.join(checkout, "tornado", "speedups*.so")))


# -- options ------------------------------------------------------------------


def common_options(
    description: str | None,
    *,
    rounds: int | None = None,
    rounds_help: str = "repetitions of each measurement",
    loop: bool = True,
    serve: bool = False,
) -> argparse.ArgumentParser:
    """An argument parser with the options the benchmarks share.

    Every one gets ``--json``; ``loop`` adds ``--loop``; ``rounds`` adds
    ``--rounds`` with that default.  ``serve`` adds the internal ``--serve``
    option (the kind of server a child process runs, see `server_command`).
    """
    parser = argparse.ArgumentParser(description=description)
    if loop:
        parser.add_argument(
            "--loop",
            choices=("asyncio", "uvloop"),
            default="asyncio",
            help="event loop of the servers (and of the client where it has one)",
        )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    if rounds is not None:
        parser.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    if serve:
        parser.add_argument("--serve", default="", help=argparse.SUPPRESS)
    return parser


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def install_loop(name: str) -> None:
    """Make ``asyncio.run`` use the named event loop (``asyncio`` or ``uvloop``)."""
    if name == "uvloop":
        import uvloop

        uvloop.install()
    elif name != "asyncio":
        raise SystemExit(f"unknown event loop {name!r}")


# -- servers ------------------------------------------------------------------


def listening_socket(backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 and a free port, for a server process.

    The protocol is named (as ``getaddrinfo`` does for ``create_server``):
    asyncio sets ``TCP_NODELAY`` on accepted sockets only when it is, and
    without it a response written in two pieces waits for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def announce(sock: socket.socket) -> None:
    """Tell the parent process (see `start_server`) that ``sock`` listens."""
    print(READY_PREFIX + str(sock.getsockname()[1]), flush=True)


def serve_until_done(
    main: Callable[[socket.socket], Coroutine[Any, Any, None]],
    loop: str,
    *,
    backlog: int = 1024,
) -> None:
    """Run a server process: ``asyncio.run(main(sock))`` on the named loop.

    The process ends when ``main`` returns.  The socket is bound and
    announced before the loop starts, so a parent waiting in `start_server`
    can connect as soon as it hears of it.
    """
    sock = listening_socket(backlog)
    announce(sock)
    install_loop(loop)
    asyncio.run(main(sock))


def serve_forever(
    start: Callable[[socket.socket], Any], loop: str, *, backlog: int = 1024
) -> None:
    """Run a server process: ``start(sock)`` (maybe a coroutine) then wait forever."""

    async def main(sock: socket.socket) -> None:
        started = start(sock)
        if asyncio.iscoroutine(started):
            await started
        await asyncio.Event().wait()

    serve_until_done(main, loop, backlog=backlog)


@dataclass
class Server:
    """A server running in a child process."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}/"


@contextmanager
def start_server(
    argv: Sequence[str],
    deadline: float = 30.0,
    *,
    stderr: IO[bytes] | None = None,
    checkout: str | None = None,
) -> Iterator[Server]:
    """Run ``argv`` (a command that calls `announce`) and yield it once it listens.

    Fails if the process exits or stays silent for ``deadline`` seconds.
    The process is terminated (then killed if need be) on exit, unless it
    has ended by itself.  Its standard error goes to ``stderr`` (by default
    this process's); its standard output is not read after the announcement,
    so a server must not print much there.  It measures ``checkout`` (by
    default the checkout this process measures).
    """
    process = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=child_environment(checkout),
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


def _read_announced_port(process: subprocess.Popen[bytes], deadline: float) -> int:
    # Raw reads, so that a partial line or lines buffered ahead of the
    # announcement cannot hide it from the deadline's select().
    assert process.stdout is not None
    end = time.monotonic() + deadline
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            for line in received.split(b"\n")[:-1]:
                if line.startswith(READY_PREFIX.encode()):
                    return int(line[len(READY_PREFIX) :])
            remaining = end - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise RuntimeError(
                    f"{process.args!r} did not start listening in {deadline} s"
                )
            data = os.read(process.stdout.fileno(), 4096)
            if not data:
                raise RuntimeError(
                    f"{process.args!r} exited with status {process.wait()}"
                )
            received += data


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


def selected_servers(
    parser: argparse.ArgumentParser, text: str, known: Sequence[str]
) -> list[str]:
    """The servers named in a ``--servers`` value; a parser error for unknown ones."""
    kinds = [kind for kind in text.split(",") if kind]
    unknown = set(kinds) - set(known)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    return kinds


def alternate(
    kinds: Sequence[str], rounds: int, measure: Callable[[str], LoadResult]
) -> dict[str, list[LoadResult]]:
    """Measure each kind once per round, in turn, so load drifts hit them alike."""
    results: dict[str, list[LoadResult]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:
            results[kind].append(measure(kind))
    return results


def report_rates(
    report: Report,
    results: dict[str, list[LoadResult]],
    ratios: Sequence[tuple[str, str, str, float | None]],
) -> None:
    """Add each server's median rate and CPU, then the ratios asked for.

    A ratio ``(name, numerator, denominator, bound)`` is a target when
    ``bound`` is a number, a plain figure when it is None.
    """
    rates = {kind: median_rate(runs) for kind, runs in results.items()}
    for kind, runs in results.items():
        report.add(f"{kind} requests/s", rates[kind], "req/s")
        cpu = median_cpu(runs)
        if cpu is not None:
            report.add(f"{kind} server CPU per request", cpu * 1e6, "us")
    for name, numerator, denominator, bound in ratios:
        if numerator in rates and denominator in rates:
            ratio = rates[numerator] / rates[denominator]
            if bound is None:
                report.add(name, ratio)
            else:
                report.target(name, ratio, ">=", bound)


def median_rate(runs: Sequence[LoadResult]) -> float:
    """The median requests per second of some runs."""
    return statistics.median(run.rate for run in runs)


def median_cpu(runs: Sequence[LoadResult]) -> float | None:
    """The median server CPU seconds per request of some runs, if known."""
    cpus = [run.cpu_per_request for run in runs if run.cpu_per_request is not None]
    return statistics.median(cpus) if cpus else None


# -- reporting ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A measured value."""

    name: str
    value: float
    unit: str = ""


@dataclass(frozen=True)
class Target:
    """A measured value and the bound it should keep."""

    figure: Figure
    op: str  #: ``>=`` or ``<=``
    bound: float

    @property
    def met(self) -> bool:
        """Whether the value keeps the bound."""
        value = self.figure.value
        return value >= self.bound if self.op == ">=" else value <= self.bound


@dataclass
class Report:
    """Figures and targets of one benchmark run, printed as text or JSON."""

    title: str
    rows: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str = "") -> None:
        """Record a figure (an `int` is printed without decimals)."""
        self.rows.append(Figure(name, value, unit))

    def note(self, text: str) -> None:
        """Record a line of context."""
        self.notes.append(text)

    def target(
        self, name: str, value: float, op: str, bound: float, unit: str = ""
    ) -> bool:
        """Record a figure with a stated target (``op`` is ``>=`` or ``<=``)."""
        if op not in (">=", "<="):
            raise ValueError(f"unknown comparison {op!r}")
        target = Target(Figure(name, value, unit), op, bound)
        self.targets.append(target)
        return target.met

    def finish(self, as_json: bool) -> int:
        """Print the report; the exit status is 1 if a target was missed."""
        print(self._json() if as_json else self._text())
        return 0 if all(target.met for target in self.targets) else 1

    def _json(self) -> str:
        return json.dumps(
            {
                "benchmark": self.title,
                "checkout": CHECKOUT,
                "notes": self.notes,
                "figures": {row.name: row.value for row in self.rows},
                "units": {row.name: row.unit for row in self.rows if row.unit},
                "targets": {
                    target.figure.name: {
                        "value": target.figure.value,
                        "target": f"{target.op} {target.bound:g}",
                        "met": target.met,
                    }
                    for target in self.targets
                },
            },
            indent=2,
        )

    def _text(self) -> str:
        lines = [self.title]
        lines += [f"  {line}" for line in self.notes]
        for row in self.rows:
            lines.append(f"  {row.name:48} {_number(row.value)} {row.unit}".rstrip())
        for target in self.targets:
            figure = target.figure
            verdict = "met" if target.met else "MISSED"
            lines.append(
                f"  {figure.name:48} {_number(figure.value)} {figure.unit:6}"
                f" target {target.op} {target.bound:g}: {verdict}"
            )
        return "\n".join(lines)


def _number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:14,d}"
    return f"{value:14,.3f}"
