"""Smoke test for demos/tcpecho: the server in a subprocess, driven by the client."""

from __future__ import annotations

import subprocess
import unittest

from tornado.test.util import DemoServer, env_with_package, run_demo, skip_without_demos


@skip_without_demos
class TCPEchoDemoTest(unittest.TestCase):
    def setUp(self) -> None:
        # The tcpecho scripts find the package through PYTHONPATH.
        self.env = env_with_package()
        self.server = DemoServer("tcpecho/server.py", env=self.env)
        self.addCleanup(self.server.stop_and_check)

    def run_client(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_demo("tcpecho/client.py", *args, env=self.env)

    def test_client_gets_its_line_back(self) -> None:
        port = self.server.port
        for message in ("hello", "second client"):
            result = self.run_client(f"--port={port}", f"--message={message}")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, f"echoed: {message}\n")

    def test_client_reports_refused_connection(self) -> None:
        self.server.terminate()
        result = self.run_client(f"--port={self.server.port}")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"cannot connect to 127.0.0.1:{self.server.port}", result.stderr)


if __name__ == "__main__":
    unittest.main()
