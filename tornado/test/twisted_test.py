from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import unittest
from typing import Any

from tornado.test.netutil_test import ResolverTests
from tornado.testing import AsyncTestCase, gen_test

try:
    import twisted
except ImportError:
    twisted = None  # type: ignore[assignment]

if twisted is not None:
    from tornado.platform.twisted import TwistedResolver

skip_without_twisted = unittest.skipIf(twisted is None, "twisted is not installed")

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


@skip_without_twisted
class TwistedResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return TwistedResolver()

    def test_reactor_runs_on_the_test_loop(self) -> None:
        resolver: Any = self.resolver()
        self.assertIs(
            resolver.reactor._asyncioEventloop,
            self.io_loop.asyncio_loop,  # type: ignore[attr-defined]
        )

    @unittest.skipUnless(os.path.isdir("/proc/self/fd"), "needs /proc/self/fd")
    @gen_test
    async def test_close_releases_file_descriptors(self) -> None:
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(3):
            resolver = TwistedResolver()
            await resolver.resolve("localhost", 80)
            resolver.close()
        self.assertEqual(len(os.listdir("/proc/self/fd")), before)

    @gen_test
    async def test_literal_of_the_wrong_family(self) -> None:
        with self.assertRaisesRegex(IOError, "Requested socket family"):
            await self.resolver().resolve("127.0.0.1", 80, socket.AF_INET6)


@skip_without_twisted
class InstallTest(unittest.TestCase):
    def test_install_shares_the_running_loop(self) -> None:
        # install() replaces Twisted's global reactor, so it runs in a child.
        script = textwrap.dedent("""
            import asyncio
            from tornado.ioloop import IOLoop
            from tornado.platform.twisted import install

            async def main():
                install()
                from twisted.internet import reactor
                loop = asyncio.get_running_loop()
                ran = loop.create_future()
                reactor.callLater(0, ran.set_result, "called")
                print(type(reactor).__name__, await ran)

            IOLoop(make_current=False).run_sync(main)
            """)
        env = dict(os.environ, PYTHONPATH=PROJECT_ROOT)
        child = subprocess.run(
            [sys.executable, "-W", "error", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        self.assertEqual(child.returncode, 0, child.stderr)
        self.assertEqual(child.stdout.split(), ["AsyncioSelectorReactor", "called"])


if __name__ == "__main__":
    unittest.main()
