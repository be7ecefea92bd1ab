"""Helpers shared by several test modules: paths, loopback ports, servers."""

from __future__ import annotations

import concurrent.futures
import os
import socket
import unittest
from collections.abc import Callable
from typing import TypeVar

from tornado.testing import bind_unused_port

_T = TypeVar("_T")

#: The directory of the test modules (and their data files).
TEST_DIR = os.path.dirname(os.path.abspath(__file__))
#: The checkout the package lives in; put it on ``PYTHONPATH`` for children.
REPO_ROOT = os.path.dirname(os.path.dirname(TEST_DIR))
#: The suite's self-signed certificate (for ``localhost``) and its key.
TEST_CERT = os.path.join(TEST_DIR, "test.crt")
TEST_KEY = os.path.join(TEST_DIR, "test.key")


def env_with_package() -> dict[str, str]:
    """``os.environ`` with the checkout first on ``PYTHONPATH``, for children."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [REPO_ROOT, env.get("PYTHONPATH")])
    )
    return env


def ipv6_available() -> bool:
    """Whether a socket can be bound to the IPv6 loopback address here."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


skip_without_ipv6 = unittest.skipUnless(
    ipv6_available(), "IPv6 loopback is not available on this machine"
)


def closed_port(address: str = "127.0.0.1") -> int:
    """A port on ``address`` that nothing listens on (just released)."""
    sock, port = bind_unused_port(address=address)
    sock.close()
    return port


def in_fresh_thread(func: Callable[[], _T]) -> _T:
    """Run ``func`` in a new thread (which has no asyncio loop); return its result."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(func).result()
