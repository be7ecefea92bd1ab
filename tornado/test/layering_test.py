"""Modules import only from lower layers at import time, and never in a cycle.

Imports inside functions (deferred until called) and under
``typing.TYPE_CHECKING`` are not import-time dependencies and are ignored.
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
    ["util", "escape"],
    ["_websigning", "_websocket_wire"],
    ["log", "options"],
    ["concurrent"],
    ["ioloop", "platform.asyncio"],
    ["gen"],
    ["locks", "queues", "process", "autoreload"],
    ["netutil", "iostream", "platform.caresresolver", "platform.twisted"],
    ["tcpserver", "tcpclient"],
    ["httputil", "_http1wire"],
    ["http1connection"],
    ["httpserver", "httpclient", "simple_httpclient", "curl_httpclient"],
    ["routing", "template", "locale", "_locale_data"],
    ["web"],
    ["websocket", "wsgi", "asgi", "auth"],
    ["testing"],
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


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
    path = os.path.join(PACKAGE_DIR, *module.split(".")) + ".py"
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
