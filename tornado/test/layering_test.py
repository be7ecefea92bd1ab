"""Modules import only from lower layers at import time, and never in a cycle.

Imports inside functions (deferred until called) and under
``typing.TYPE_CHECKING`` are not import-time dependencies and are ignored
there.  The pure wire-format modules are held to more: each may import only
the tornado modules of its allowlist, anywhere in its code, and no I/O
module of the standard library.
"""

from __future__ import annotations

import ast
import os
import typing
import unittest
from collections.abc import Iterator

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Layer of each module, low to high; a module may import its own layer or lower.
LAYERS: list[list[str]] = [
    ["util", "escape", "_httpgrammar"],
    ["_websigning", "_websocket_wire"],
    ["log", "options"],
    ["concurrent"],
    ["ioloop", "platform.asyncio"],
    ["gen"],
    ["locks", "queues", "process", "autoreload"],
    ["netutil", "iostream", "platform.caresresolver", "platform.twisted"],
    ["tcpserver", "tcpclient"],
    ["httputil", "_http1wire", "_http2_wire"],
    ["http1connection", "_http2_session", "_http2"],
    ["httpserver", "httpclient", "simple_httpclient", "curl_httpclient"],
    ["routing", "template", "locale", "_locale_data"],
    ["web"],
    ["websocket", "wsgi", "asgi", "auth"],
    ["testing", "pytest_plugin"],
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# The shared HTTP grammar (token, quoted-string, field-value rules).
GRAMMAR = "_httpgrammar"
# Pure modules (wire formats as functions and small state machines) and the
# only tornado modules each may import, at import time or inside functions.
PURE_MODULES: dict[str, set[str]] = {
    "_http1wire": {"httputil", "util", "escape", GRAMMAR},
    "_http2_wire": {"httputil", "_http1wire", GRAMMAR},
    "_websocket_wire": {"util", GRAMMAR},
    "_websigning": {"escape", "util"},
}
# Standard library modules that do I/O or run things concurrently; no pure
# module imports them (nor a submodule of them).
IO_MODULES = frozenset(
    [
        "_thread",
        "asynchat",
        "asyncio",
        "asyncore",
        "concurrent",
        "ftplib",
        "http",
        "mmap",
        "multiprocessing",
        "select",
        "selectors",
        "signal",
        "smtplib",
        "socket",
        "socketserver",
        "ssl",
        "subprocess",
        "threading",
        "urllib",
    ]
)


def package_modules() -> list[str]:
    """Dotted names (relative to ``tornado``) of the package's own modules."""
    found = []
    for dirpath, dirnames, filenames in os.walk(PACKAGE_DIR):
        dirnames[:] = [d for d in dirnames if d not in ("test", "__pycache__")]
        rel = os.path.relpath(dirpath, PACKAGE_DIR)
        prefix = "" if rel == "." else rel.replace(os.sep, ".") + "."
        for filename in filenames:
            if filename.endswith(".py") and filename != "__init__.py":
                found.append(prefix + filename[:-3])
    return sorted(found)


def is_type_checking_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import time: the module body, through if/try blocks."""
    for node in body:
        if is_type_checking_block(node):
            yield from import_time_statements(typing.cast(ast.If, node).orelse)
        elif isinstance(node, ast.If):
            yield from import_time_statements(node.body)
            yield from import_time_statements(node.orelse)
        elif isinstance(node, ast.Try):
            yield from import_time_statements(node.body)
            for handler in node.handlers:
                yield from import_time_statements(handler.body)
            yield from import_time_statements(node.orelse)
            yield from import_time_statements(node.finalbody)
        else:
            yield node


def import_time_dependencies(module: str) -> set[str]:
    """The ``tornado`` modules that ``module`` imports when it is imported."""
    path = module_path(module)
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    deps = set()
    for node in import_time_statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tornado."):
                    deps.add(alias.name[len("tornado.") :])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "tornado":
                deps.update(alias.name for alias in node.names)
            elif node.module.startswith("tornado."):
                deps.add(node.module[len("tornado.") :])
    deps.discard(module)
    deps.discard("platform")
    return deps


class LayeringTest(unittest.TestCase):
    def test_every_module_has_a_layer(self) -> None:
        unplaced = [m for m in package_modules() if m not in RANK]
        self.assertEqual(unplaced, [], "add these modules to LAYERS in this file")

    def test_imports_only_go_down(self) -> None:
        upward = []
        for module in package_modules():
            for dep in import_time_dependencies(module):
                if RANK.get(dep, -1) > RANK.get(module, -1):
                    upward.append(f"{module} imports {dep}")
        self.assertEqual(upward, [])

    def test_no_import_cycles(self) -> None:
        graph = {m: import_time_dependencies(m) for m in package_modules()}
        self.assertEqual(find_cycles(graph), [])


class PurityTest(unittest.TestCase):
    def test_pure_modules_exist(self) -> None:
        missing = sorted(set(PURE_MODULES) - set(package_modules()))
        self.assertEqual(missing, [], "a pure module was renamed: update PURE_MODULES")

    def test_pure_modules_import_only_their_allowlist(self) -> None:
        found = []
        for module, allowed in sorted(PURE_MODULES.items()):
            with open(module_path(module), encoding="utf-8") as f:
                found += [f"{module}: {v}" for v in impurities(f.read(), allowed)]
        self.assertEqual(found, [])

    def test_impurities_are_found_anywhere(self) -> None:
        source = (
            "import re, socket\n"
            "from tornado import util, iostream\n"
            "from . import escape\n"
            "from .ioloop import IOLoop\n"
            "def later():\n"
            "    import tornado\n"
            "    from asyncio import sleep\n"
            "    return __import__('ssl')\n"
            "if TYPE_CHECKING:\n"
            "    from tornado.httputil import HTTPHeaders\n"
        )
        self.assertEqual(
            impurities(source, {"util", "escape"}),
            [
                "line 1 imports I/O module socket",
                "line 2 imports tornado.iostream",
                "line 4 imports tornado.ioloop",
                "line 6 imports the tornado package, which reaches every module",
                "line 7 imports I/O module asyncio",
                "line 8 imports dynamically",
                "line 10 imports tornado.httputil",
            ],
        )


def module_path(module: str) -> str:
    return os.path.join(PACKAGE_DIR, *module.split(".")) + ".py"


def impurities(source: str, allowed: set[str]) -> list[str]:
    """What a pure module's ``source`` imports beyond the tornado ``allowed``.

    Every import counts, wherever it stands (functions, ``TYPE_CHECKING``
    blocks); so does any dynamic import, which the allowlist cannot see.
    """
    found: list[tuple[int, str | None]] = []
    tree = ast.parse(source)
    for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found += [(node.lineno, impurity(n, allowed)) for n in imported_names(node)]
        elif isinstance(node, ast.Call) and is_dynamic_import(node):
            found.append((node.lineno, "imports dynamically"))
    return [f"line {line} {problem}" for line, problem in found if problem]


def imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """Absolute dotted names of the modules (or package members) ``node`` imports.

    A relative import is taken relative to ``tornado``, where the pure
    modules live.
    """
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = "tornado" if node.level else ""
    if node.module:
        base = f"{base}.{node.module}" if base else node.module
    if base == "tornado":
        return [f"tornado.{alias.name}" for alias in node.names]
    return [base]


def impurity(name: str, allowed: set[str]) -> str | None:
    top = name.partition(".")[0]
    if name == "tornado":
        return "imports the tornado package, which reaches every module"
    if top == "tornado" and name[len("tornado.") :] not in allowed:
        return f"imports {name}"
    if top in IO_MODULES:
        return f"imports I/O module {top}"
    if top == "importlib":
        return "imports dynamically"
    return None


def is_dynamic_import(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "__import__"


def find_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Each cycle found by a depth-first search, as "a -> b -> a"."""
    done: set[str] = set()
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycles.append(" -> ".join(path[path.index(node) :] + [node]))
        elif node not in done:
            for dep in sorted(graph.get(node, ())):
                visit(dep, path + [node])
            done.add(node)

    for module in sorted(graph):
        visit(module, [])
    return cycles


if __name__ == "__main__":
    unittest.main()
