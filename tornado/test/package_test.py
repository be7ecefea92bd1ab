"""The ``tornado`` package itself: its version, ``__all__`` and lazy submodules."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import unittest

import tornado
from tornado.test.util import REPO_ROOT, env_with_package

# The order Tornado 6.6 lists them in; websocket and wsgi are left out there.
EXPECTED_ALL = [
    "auth",
    "autoreload",
    "concurrent",
    "curl_httpclient",
    "escape",
    "gen",
    "http1connection",
    "httpclient",
    "httpserver",
    "httputil",
    "ioloop",
    "iostream",
    "locale",
    "locks",
    "log",
    "netutil",
    "options",
    "platform",
    "process",
    "queues",
    "routing",
    "simple_httpclient",
    "tcpclient",
    "tcpserver",
    "template",
    "testing",
    "util",
    "web",
]

# Run in a fresh interpreter: every asyncio entry point that creates, looks
# up or installs an event loop (or its policy) records its use, then each
# name of tornado.__all__ is reached through the package attribute.
LAZY_IMPORT_PROBE = textwrap.dedent("""\
    import asyncio, asyncio.events, json, sys, threading

    touched = []

    def recording(owner, name):
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            touched.append(name)
            return real(*args, **kwargs)

        setattr(owner, name, wrapper)

    for name in ["get_event_loop", "new_event_loop", "set_event_loop",
                 "get_event_loop_policy", "set_event_loop_policy",
                 "get_running_loop"]:
        recording(asyncio, name)
        recording(asyncio.events, name)
    policy = asyncio.events.get_event_loop_policy()
    del touched[:]
    for name in ["get_event_loop", "new_event_loop", "set_event_loop"]:
        recording(policy, name)

    import tornado
    before = set(sys.modules)
    modules = [getattr(tornado, name).__name__ for name in tornado.__all__]
    print(json.dumps({
        "modules": modules,
        "touched": touched,
        "threads": threading.active_count(),
        "web_was_loaded_by_import_tornado": "tornado.web" in before,
    }))
    """)


class PackageTest(unittest.TestCase):
    def test_version(self) -> None:
        self.assertEqual(tornado.version, "6.6")
        self.assertEqual(tornado.version_info, (6, 6, 0, 0))

    def test_all_lists_the_lazy_submodules_in_order(self) -> None:
        self.assertEqual(tornado.__all__, EXPECTED_ALL)

    def test_websocket_and_wsgi_are_reachable_but_not_in_all(self) -> None:
        self.assertNotIn("websocket", tornado.__all__)
        self.assertNotIn("wsgi", tornado.__all__)
        self.assertEqual(tornado.websocket.__name__, "tornado.websocket")
        self.assertEqual(tornado.wsgi.__name__, "tornado.wsgi")

    def test_unknown_attribute(self) -> None:
        with self.assertRaisesRegex(AttributeError, "has no attribute 'nothing'"):
            tornado.nothing  # type: ignore[attr-defined]  # noqa: B018

    def test_star_import_binds_the_submodules(self) -> None:
        namespace: dict[str, object] = {}
        exec("from tornado import *", namespace)
        self.assertEqual(
            sorted(k for k in namespace if not k.startswith("__")),
            sorted(EXPECTED_ALL),
        )

    def test_lazy_import_creates_no_event_loop_and_no_thread(self) -> None:
        child = subprocess.run(
            [sys.executable, "-c", LAZY_IMPORT_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO_ROOT,
            env=env_with_package(),
        )
        self.assertEqual(child.returncode, 0, child.stderr)
        self.assertEqual(child.stderr, "")
        report = json.loads(child.stdout)
        self.assertEqual(report["modules"], [f"tornado.{m}" for m in EXPECTED_ALL])
        self.assertEqual(report["touched"], [])
        self.assertEqual(report["threads"], 1)
        self.assertFalse(report["web_was_loaded_by_import_tornado"])


if __name__ == "__main__":
    unittest.main()
