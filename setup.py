"""Build script for the optional C extension; metadata lives in pyproject.toml.

``tornado.speedups`` (WebSocket masking, and the common case of HTTP/1 head
parsing and formatting, in C) is built when a compiler is available and
skipped otherwise, since ``tornado.util`` and ``tornado._http1wire`` fall
back to pure Python.  ``TORNADO_EXTENSION=0`` skips it and ``TORNADO_EXTENSION=1`` makes a
failed build an error.
"""

import os
import platform

from setuptools import Extension, setup


def extensions() -> list[Extension]:
    """The C extensions to build in this environment (maybe none)."""
    wanted = os.environ.get("TORNADO_EXTENSION")
    if wanted == "0" or platform.python_implementation() != "CPython":
        return []
    return [
        Extension(
            "tornado.speedups",
            sources=["tornado/speedups.c"],
            optional=wanted != "1",
        )
    ]


setup(ext_modules=extensions())
