"""Smoke test for demos/tcpecho: the server in a subprocess, driven by the client."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest

from tornado.test.util import REPO_ROOT

DEMO_DIR = os.path.join(REPO_ROOT, "demos", "tcpecho")


@unittest.skipUnless(os.path.isdir(DEMO_DIR), "the demos are not part of this install")
class TCPEchoDemoTest(unittest.TestCase):
    def setUp(self) -> None:
        self.env = dict(os.environ, PYTHONPATH=REPO_ROOT)
        self.server = subprocess.Popen(
            [sys.executable, os.path.join(DEMO_DIR, "server.py"), "--port=0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        self.addCleanup(self.stop_server)
        assert self.server.stdout is not None
        # The server prints its port once it is listening.
        banner = self.server.stdout.readline()
        self.assertRegex(banner, r"^listening on \d+$", self.server_stderr())
        self.port = int(banner.split()[-1])

    def stop_server(self) -> None:
        if self.server.returncode is None:
            self.server.kill()
            self.server.communicate(timeout=10)

    def server_stderr(self) -> str:
        if self.server.poll() is None:
            return "(server still running)"
        assert self.server.stderr is not None
        return self.server.stderr.read()

    def run_client(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, os.path.join(DEMO_DIR, "client.py"), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=self.env,
        )

    def test_client_gets_its_line_back(self) -> None:
        for message in ("hello", "second client"):
            result = self.run_client(f"--port={self.port}", f"--message={message}")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, f"echoed: {message}\n")

    def test_client_reports_refused_connection(self) -> None:
        self.stop_server()
        result = self.run_client(f"--port={self.port}")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"cannot connect to 127.0.0.1:{self.port}", result.stderr)


if __name__ == "__main__":
    unittest.main()
