"""Importing tornado has no side effects beyond defining things.

``import tornado`` and the import of every submodule, in a fresh
interpreter, must create no event loop and start no thread; and the package
gives its public submodules as attributes, imported on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import unittest
from typing import Any

from tornado.test.util import REPO_ROOT, env_with_package

PACKAGE_DIR = os.path.join(REPO_ROOT, "tornado")

# Run in a fresh interpreter with warnings as errors; prints its findings as
# JSON.  Loops are found both as they are made (any BaseEventLoop) and as
# objects still alive afterwards (any AbstractEventLoop, such as uvloop's).
PROBE = textwrap.dedent("""\
    import asyncio, gc, importlib, json, sys, threading

    started_threads = []
    made_loops = []
    real_start = threading.Thread.start
    real_loop_init = asyncio.BaseEventLoop.__init__

    def recording_start(thread, *args, **kwargs):
        started_threads.append(thread.name)
        return real_start(thread, *args, **kwargs)

    def recording_loop_init(loop, *args, **kwargs):
        made_loops.append(type(loop).__name__)
        real_loop_init(loop, *args, **kwargs)

    threading.Thread.start = recording_start
    asyncio.BaseEventLoop.__init__ = recording_loop_init

    def side_effects():
        alive = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
        return {
            "threads_started": list(started_threads),
            "threads_running": [t.name for t in threading.enumerate()],
            "loops_made": list(made_loops),
            "loops_alive": [type(loop).__name__ for loop in alive],
        }

    import tornado
    report = {
        "after_import_tornado": side_effects(),
        "submodules_loaded": sorted(m for m in sys.modules if m.startswith("tornado.")),
    }
    lazy = {}
    for name in json.loads(sys.argv[1]):
        module = getattr(tornado, name)
        lazy[name] = module is sys.modules["tornado." + name]
    report["lazy_attributes"] = lazy
    for name in json.loads(sys.argv[2]):
        importlib.import_module("tornado." + name)
    report["after_every_submodule"] = side_effects()
    print(json.dumps(report))
    """)

NO_SIDE_EFFECTS = {
    "threads_started": [],
    "threads_running": ["MainThread"],
    "loops_made": [],
    "loops_alive": [],
}


def submodules() -> list[str]:
    """Dotted names (under ``tornado``) of every module but the tests."""
    found = []
    for dirpath, dirnames, filenames in os.walk(PACKAGE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d not in ("test", "__pycache__"))
        prefix = os.path.relpath(dirpath, PACKAGE_DIR).replace(os.sep, ".")
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                name = "" if filename == "__init__.py" else filename[:-3]
                found.append(".".join(p for p in (prefix, name) if p not in ("", ".")))
    return [name for name in found if name]


# Loaded by pytest through its entry point, never as an attribute of the package.
NOT_ATTRIBUTES = {"pytest_plugin"}


def public_top_level(names: list[str]) -> list[str]:
    """The public modules and packages directly under ``tornado``."""
    tops = {name.split(".")[0] for name in names if not name.startswith("_")}
    return sorted(tops - NOT_ATTRIBUTES)


class ImportSideEffectsTest(unittest.TestCase):
    report: dict[str, Any]

    @classmethod
    def setUpClass(cls) -> None:
        modules = submodules()
        command = [sys.executable, "-W", "error", "-c", PROBE]
        command += [json.dumps(public_top_level(modules)), json.dumps(modules)]
        probe = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env_with_package(),
            cwd=REPO_ROOT,
            timeout=120,
        )
        if probe.returncode != 0:
            raise AssertionError(f"the import probe failed:\n{probe.stderr}")
        cls.report = json.loads(probe.stdout)

    def test_import_tornado_has_no_side_effects(self) -> None:
        self.assertEqual(self.report["after_import_tornado"], NO_SIDE_EFFECTS)

    def test_import_tornado_loads_no_submodule(self) -> None:
        self.assertEqual(self.report["submodules_loaded"], [])

    def test_public_submodules_are_lazy_attributes(self) -> None:
        lazy = self.report["lazy_attributes"]
        self.assertIn("web", lazy)
        self.assertEqual([name for name, ok in lazy.items() if not ok], [])

    def test_importing_every_submodule_has_no_side_effects(self) -> None:
        self.assertEqual(self.report["after_every_submodule"], NO_SIDE_EFFECTS)


if __name__ == "__main__":
    unittest.main()
