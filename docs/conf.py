"""Sphinx configuration for the tornado reference docs (built with -W -n)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import tornado  # noqa: E402

project = "Tornado"
copyright = "The Tornado Authors"
version = release = tornado.version

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.coverage",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

default_role = "py:obj"
master_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"

# Signatures stay readable; types are documented in prose where they matter.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autoclass_content = "both"

# The coverage builder lists every public name without documentation.
coverage_skip_undoc_in_source = False
coverage_show_missing_items = True
coverage_ignore_modules = [r"tornado\.test(\..*)?$"]

# Targets outside this project that nitpicky mode cannot resolve offline.
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(asyncio|concurrent|typing|collections|socket|ssl|logging|time|"
        r"datetime|threading|subprocess|selectors|signal|json|re|io|os|types|"
        r"urllib|http|email|unittest|numbers|abc|enum|zlib|gettext|csv|"
        r"pycurl|pycares|twisted|uvloop)(\..*)?",
    ),
    (
        r"py:(class|obj|exc|data)",
        r"(str|bytes|int|float|bool|dict|list|tuple|set|"
        r"None|object|type|callable|Exception|BaseException|ValueError|TypeError|"
        r"KeyError|OSError|IOError|IndexError|RuntimeError|AttributeError|"
        r"StopIteration|GeneratorExit|NotImplementedError|LookupError|"
        r"UnicodeDecodeError|ImportError|SyntaxError|TimeoutError|"
        r"memoryview|bytearray|frozenset|Ellipsis|Any|Optional|Union|Callable|"
        r"Awaitable|Generator|Coroutine|Iterable|Iterator|Mapping|Sequence)"
        # Methods and attributes of builtins too (str.strip, bytes.decode).
        r"(\.\w+)?",
    ),
]

nitpick_ignore: list[tuple[str, str]] = []

# The doctest builder runs every example of the docs.  Examples that serve
# an application answer 4xx on purpose, which Tornado logs as warnings;
# only errors (a 5xx, an uncaught exception) are printed.
doctest_global_setup = """
import logging
for _name in ("tornado.access", "tornado.general"):
    logging.getLogger(_name).setLevel(logging.ERROR)
"""
