"""Real nginx in front of several Tornado processes: the deployment the guide shows.

``demos/deploy/nginx.conf`` (the file docs/guide/running.rst includes) is
filled in with free loopback ports and a temporary run directory, and nginx
runs as a foreground child (``daemon off``).  Behind it, ``demos/deploy/
server.py`` runs as two processes, in two variants: one process tree made by
``fork_processes`` after ``bind_sockets``, and two independent processes
that each bind the port with ``reuse_port=True``.  The servers use
``xheaders=True``.

Needs Debian's ``nginx``; ``./runtests.sh`` installs it when it can.  Not
part of the main suite: run it with
``python -m tornado.test.runtests tornado.test.nginx_deploy``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Any

from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.test.util import (
    REPO_ROOT,
    TEST_CERT,
    TEST_KEY,
    PortTaken,
    closed_port,
    wait_until_listening,
)
from tornado.testing import AsyncTestCase, gen_test
from tornado.websocket import websocket_connect

NGINX = "/usr/sbin/nginx"
DEPLOY_DIR = os.path.join(REPO_ROOT, "demos", "deploy")
CONFIG_TEMPLATE = os.path.join(DEPLOY_DIR, "nginx.conf")
STATIC_PATH = os.path.join(DEPLOY_DIR, "static")
# The client connects from this loopback address, so that what the
# application reports as remote_ip can only have come from nginx's headers
# (nginx itself connects to the application from 127.0.0.1).
CLIENT_IP = "127.0.0.2"


def missing_nginx() -> str | None:
    """Why nginx cannot run here, or None if it can."""
    if not os.access(NGINX, os.X_OK):
        return f"{NGINX} is not installed (Debian: nginx)"
    return None


def render_config(values: dict[str, str]) -> str:
    """The guide's nginx.conf with its ``@NAME@`` tokens filled in."""
    with open(CONFIG_TEMPLATE, encoding="utf-8") as f:
        text = f.read()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"unfilled tokens in {CONFIG_TEMPLATE}: {left}"
    return text


class Child:
    """A command running in a session of its own, its output in a log file."""

    def __init__(self, args: list[str], log_path: str) -> None:
        self.args = args
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, children too
            )

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def stop(self) -> None:
        """Terminate the whole process group (fork_processes' children too)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        else:
            # The leader exited; make sure nothing it started lives on.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Deployment:
    """nginx on two loopback ports (HTTP, HTTPS) in front of Tornado processes."""

    def __init__(self, server_args: list[list[str]]) -> None:
        self.run_dir = tempfile.mkdtemp(prefix="nginx-deploy-")
        # nginx's workers (another user when we are root) need to get in.
        os.chmod(self.run_dir, 0o755)
        self.children: list[Child] = []
        for _ in range(5):
            try:
                self.start(server_args)
                return
            except PortTaken:
                self.stop_children()
            except BaseException:
                self.stop()
                raise
        self.stop()
        raise AssertionError("no free ports found for the deployment")

    def start(self, server_args: list[list[str]]) -> None:
        self.tornado_port = closed_port()
        self.http_port = closed_port()
        self.https_port = closed_port()
        script = os.path.join(DEPLOY_DIR, "server.py")
        for i, args in enumerate(server_args):
            command = [sys.executable, script, f"--port={self.tornado_port}", *args]
            log_path = os.path.join(self.run_dir, f"tornado-{i}.log")
            self.children.append(Child(command, log_path))
        wait_until_listening(self.tornado_port, self.children)
        self.start_nginx()

    def start_nginx(self) -> None:
        config_path = os.path.join(self.run_dir, "nginx.conf")
        with open(config_path, "w", encoding="utf-8") as f:
            f.write(
                render_config(
                    {
                        "RUN_DIR": self.run_dir,
                        "TORNADO_PORT": str(self.tornado_port),
                        "HTTP_PORT": str(self.http_port),
                        "HTTPS_PORT": str(self.https_port),
                        "TLS_CERT": TEST_CERT,
                        "TLS_KEY": TEST_KEY,
                        "STATIC_PATH": STATIC_PATH,
                    }
                )
            )
        self.nginx = Child(
            [NGINX, "-e", "stderr", "-p", self.run_dir, "-c", config_path],
            os.path.join(self.run_dir, "nginx.log"),
        )
        self.children.append(self.nginx)
        wait_until_listening(self.http_port, [self.nginx])
        wait_until_listening(self.https_port, [self.nginx])

    def url(self, path: str, scheme: str = "http") -> str:
        port = self.https_port if scheme in ("https", "wss") else self.http_port
        return f"{scheme}://127.0.0.1:{port}{path}"

    def outputs(self) -> str:
        return "\n".join(f"--- {c.args}:\n{c.output()}" for c in self.children)

    def stop_children(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children = []

    def stop(self) -> None:
        self.stop_children()
        shutil.rmtree(self.run_dir, ignore_errors=True)


@unittest.skipUnless(
    os.path.isdir(DEPLOY_DIR), "the demos are not part of this install"
)
class NginxDeploymentTestCase(AsyncTestCase):
    """One deployment for all the tests of a class."""

    #: The arguments of each server.py process to start.
    server_args: list[list[str]] = []
    deployment: Deployment

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        reason = missing_nginx()
        if reason is not None:
            # ./runtests.sh installs nginx first, or says why it could not
            # (and fails under CI=true); run by hand, say it here.
            raise unittest.SkipTest(reason)
        cls.deployment = Deployment(cls.server_args)

    @classmethod
    def tearDownClass(cls) -> None:
        outputs = cls.deployment.outputs()
        cls.deployment.stop()
        super().tearDownClass()
        bad = re.findall(
            r"^.*(?:Traceback|\[(?:emerg|alert|crit|error)\]).*$", outputs, re.M
        )
        if bad:
            raise AssertionError(f"errors in the deployment's logs:\n{outputs}")

    def setUp(self) -> None:
        super().setUp()
        self.client = SimpleAsyncHTTPClient(force_instance=True)
        self.addCleanup(self.client.close)

    async def fetch(self, url: str, **kwargs: Any) -> HTTPResponse:
        kwargs.setdefault("request_timeout", 10)
        kwargs.setdefault("network_interface", CLIENT_IP)
        response: HTTPResponse = await self.client.fetch(
            url, validate_cert=False, **kwargs
        )
        return response

    async def fetch_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.fetch(url, **kwargs)
        self.assertTrue(response.headers["X-Served-By"].startswith("tornado-"))
        body: dict[str, Any] = json.loads(response.body)
        return body

    @gen_test
    async def test_client_address_and_scheme_come_from_nginx(self) -> None:
        view = await self.fetch_json(
            self.deployment.url("/whoami"),
            # A client cannot pass itself off as someone else: nginx
            # replaces X-Real-IP and appends to X-Forwarded-For.
            headers={"X-Real-IP": "192.0.2.1", "X-Forwarded-For": "192.0.2.7"},
        )
        self.assertEqual(view["remote_ip"], CLIENT_IP)
        self.assertEqual(view["protocol"], "http")
        self.assertEqual(view["x_forwarded_for"], f"192.0.2.7, {CLIENT_IP}")
        self.assertEqual(view["host"], f"127.0.0.1:{self.deployment.http_port}")

        secure = await self.fetch_json(self.deployment.url("/whoami", "https"))
        # nginx ends TLS; Tornado learns the scheme from X-Forwarded-Proto.
        self.assertEqual(secure["protocol"], "https")
        self.assertEqual(secure["remote_ip"], CLIENT_IP)

    @gen_test(timeout=30)
    async def test_long_poll_parks_until_released(self) -> None:
        key = f"key-{time.monotonic_ns()}"
        waiter = asyncio.ensure_future(
            self.fetch(self.deployment.url(f"/wait?key={key}"), request_timeout=20)
        )
        # The release must reach the process holding the parked request
        # (each process keeps its own waiters): try until one does.
        deadline = time.monotonic() + 15
        releases = 0
        while time.monotonic() < deadline:
            answer = await self.fetch_json(
                self.deployment.url(f"/release?key={key}"), method="POST", body=b""
            )
            if answer["released"]:
                break
            releases += 1
            self.assertFalse(waiter.done(), "the long poll did not stay parked")
        else:
            raise AssertionError(f"no release reached the waiter in {releases} tries")
        response = await waiter
        view = json.loads(response.body)
        self.assertTrue(view["released"])
        self.assertEqual(view["pid"], answer["pid"])
        self.assertEqual(view["remote_ip"], CLIENT_IP)

    @gen_test
    async def test_websocket_is_proxied(self) -> None:
        for scheme, protocol in (("ws", "http"), ("wss", "https")):
            request = HTTPRequest(
                self.deployment.url("/echo", scheme),
                network_interface=CLIENT_IP,
                validate_cert=False,
            )
            socket_ = await websocket_connect(request)
            try:
                hello = json.loads(str(await socket_.read_message()))
                self.assertEqual(hello["remote_ip"], CLIENT_IP)
                self.assertEqual(hello["protocol"], protocol)
                await socket_.write_message("ping")
                echo = json.loads(str(await socket_.read_message()))
                self.assertEqual(echo, {"echo": "ping", "pid": hello["pid"]})
            finally:
                socket_.close()

    @gen_test
    async def test_static_files_come_from_nginx(self) -> None:
        response = await self.fetch(self.deployment.url("/static/site.css"))
        with open(os.path.join(STATIC_PATH, "site.css"), "rb") as f:
            self.assertEqual(response.body, f.read())
        self.assertNotIn("X-Served-By", response.headers)
        self.assertTrue(response.headers["Server"].startswith("nginx"))
        self.assertEqual(response.headers["Content-Type"], "text/css")
        self.assertEqual(response.headers["Cache-Control"], "max-age=3600")
        missing = await self.fetch(
            self.deployment.url("/static/nothing.css"), raise_error=False
        )
        self.assertEqual(missing.code, 404)
        self.assertNotIn("X-Served-By", missing.headers)

    @gen_test(timeout=30)
    async def test_requests_are_spread_across_processes(self) -> None:
        # nginx opens a connection per request; the kernel hands each to
        # one of the processes.  Waves of concurrent requests until every
        # process has answered.
        expected = 2
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < expected and time.monotonic() < deadline:
            wave = [self.fetch_json(self.deployment.url("/whoami")) for _ in range(20)]
            for view in await asyncio.gather(*wave):
                pids.add(view["pid"])
        self.assertEqual(len(pids), expected, f"only {pids} answered")


class ForkProcessesBehindNginxTest(NginxDeploymentTestCase):
    """``bind_sockets``, then ``fork_processes(2)``: one process tree."""

    server_args = [["--processes=2"]]


class ReusePortBehindNginxTest(NginxDeploymentTestCase):
    """Two independent processes, each binding the port with reuse_port."""

    server_args = [["--reuse_port"], ["--reuse_port"]]


# The base class holds the tests but deploys nothing: keep it from the loader.
del NginxDeploymentTestCase


if __name__ == "__main__":
    unittest.main()
