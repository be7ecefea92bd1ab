"""The package's public API, checked against a snapshot kept beside this file.

Any change to a public name, its kind or its signature shows up as a diff of
``api_snapshot.txt``.  After an intended change, regenerate the snapshot with::

    python -m tornado.test.api_test --regenerate
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import os
import sys
import types
import typing
import unittest

SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api_snapshot.txt")

# Every documented module, in the order the snapshot lists them.
PUBLIC_MODULES = [
    "tornado",
    "tornado.auth",
    "tornado.asgi",
    "tornado.autoreload",
    "tornado.concurrent",
    "tornado.curl_httpclient",
    "tornado.escape",
    "tornado.gen",
    "tornado.http1connection",
    "tornado.httpclient",
    "tornado.httpserver",
    "tornado.httputil",
    "tornado.ioloop",
    "tornado.iostream",
    "tornado.locale",
    "tornado.locks",
    "tornado.log",
    "tornado.netutil",
    "tornado.options",
    "tornado.platform.asyncio",
    "tornado.platform.caresresolver",
    "tornado.platform.twisted",
    "tornado.process",
    "tornado.queues",
    "tornado.routing",
    "tornado.simple_httpclient",
    "tornado.tcpclient",
    "tornado.tcpserver",
    "tornado.template",
    "tornado.testing",
    "tornado.util",
    "tornado.web",
    "tornado.websocket",
    "tornado.wsgi",
]


def module_exists(name: str) -> bool:
    """Whether the module's source is in the package (it may still fail to import)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def signature_of(obj: typing.Any) -> str:
    try:
        return str(inspect.signature(obj)).replace("'", '"')
    except (TypeError, ValueError):
        return "(?)"


def kind_of(obj: typing.Any) -> str:
    if inspect.isclass(obj):
        bases = ", ".join(f"{b.__module__}.{b.__qualname__}" for b in obj.__bases__)
        return f"class({bases})"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj):
        return "function" + signature_of(obj)
    return "data"


def public_names(module: types.ModuleType) -> list[str]:
    """Names a user may import: ``__all__`` if present, else the non-underscored
    names defined by (not imported into) the module."""
    explicit = getattr(module, "__all__", None)
    if explicit is not None:
        return sorted(explicit)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        defined_in = getattr(value, "__module__", module.__name__)
        if defined_in == module.__name__ or not (
            inspect.isclass(value) or inspect.isfunction(value)
        ):
            names.append(name)
    return sorted(names)


def class_members(cls: type) -> list[str]:
    """Lines for the public members a tornado class defines or inherits from tornado."""
    lines = []
    for name in sorted(dir(cls)):
        if name.startswith("_") and name != "__init__":
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not owner.__module__.startswith("tornado"):
            continue
        raw = vars(owner)[name]
        if isinstance(raw, property):
            kind = "property"
        elif isinstance(raw, classmethod):
            kind = "classmethod" + signature_of(getattr(cls, name))
        elif isinstance(raw, staticmethod):
            kind = "staticmethod" + signature_of(getattr(cls, name))
        elif inspect.isfunction(raw):
            kind = "method" + signature_of(raw)
        elif inspect.isclass(raw):
            kind = "class"
        else:
            kind = "attribute"
        lines.append(f"{cls.__module__}.{cls.__qualname__}.{name}: {kind}")
    return lines


def describe_module(name: str) -> list[str]:
    """The snapshot lines for one module."""
    module = importlib.import_module(name)
    lines = [f"[{name}]"]
    for attr in public_names(module):
        value = getattr(module, attr)
        lines.append(f"{name}.{attr}: {kind_of(value)}")
        if inspect.isclass(value) and value.__module__.startswith("tornado"):
            lines.extend(
                line.replace(
                    f"{value.__module__}.{value.__qualname__}.", f"{name}.{attr}.", 1
                )
                for line in class_members(value)
            )
    return lines


def current_api() -> list[str]:
    lines: list[str] = []
    for name in PUBLIC_MODULES:
        if module_exists(name):
            lines.extend(describe_module(name))
            lines.append("")
    return lines


def write_snapshot() -> None:
    with open(SNAPSHOT, "w", encoding="utf-8") as f:
        f.write("\n".join(current_api()))


OPTIONAL_DEPENDENCIES = ["pycurl", "pycares", "twisted"]


class PublicApiTest(unittest.TestCase):
    def test_api_matches_snapshot(self) -> None:
        missing = [m for m in OPTIONAL_DEPENDENCIES if not module_exists(m)]
        if missing:
            self.skipTest(f"optional dependencies not installed: {missing}")
        with open(SNAPSHOT, encoding="utf-8") as f:
            expected = f.read().splitlines()
        actual = "\n".join(current_api()).splitlines()
        if actual != expected:
            diff = "\n".join(
                difflib.unified_diff(
                    expected, actual, "snapshot", "package", lineterm=""
                )
            )
            self.fail(
                "the public API differs from tornado/test/api_snapshot.txt; if the "
                "change is intended, run `python -m tornado.test.api_test "
                "--regenerate`\n" + diff
            )


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        write_snapshot()
    else:
        unittest.main()
