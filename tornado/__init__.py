"""An asynchronous web framework and networking library, compatible with Tornado 6.6.

Submodules are loaded on first attribute access, so ``import tornado`` followed
by ``tornado.web.Application`` works without importing ``tornado.web``
explicitly.  `__all__` names the submodules reached that way (``websocket``
and ``wsgi`` are reachable too, but left out of it, as in Tornado 6.6).
Importing them creates no event loop and starts no thread.
"""

import importlib
import typing

# ``version`` is a human-readable string; ``version_info`` is a four-tuple that
# compares correctly across releases (the last element is 0 for pre-releases).
version = "6.6"
version_info = (6, 6, 0, 0)

__all__ = [
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

# Reachable lazily too, but not in ``__all__`` (as in 6.6; ``asgi`` is ours).
_LAZY_SUBMODULES = frozenset([*__all__, "asgi", "websocket", "wsgi"])


def __getattr__(name: str) -> typing.Any:
    """Import the submodule ``name`` on first access (PEP 562)."""
    if name in _LAZY_SUBMODULES:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
