"""Fail if a rendered HTML page of the docs shows reStructuredText it should have turned into links.

Usage: python maint/scripts/check_rendered_docs.py BUILD/HTML/DIR

Three things give a broken cross-reference away in the HTML Sphinx wrote:

* a leftover ``~tornado.`` (the "show only the last part" marker of a
  reference that was never resolved into a link);
* role text printed literally, such as ``:class:`` or ``:meth:`` before a
  name (a role written with a typo, or inside a literal);
* a ``<cite>`` element: single backticks rendered without a default role.

Pages of Sphinx's own machinery (highlighted sources under ``_modules``,
``_sources``, ``_static``, the search page and the indices) are not read.
Prints one line per finding (page, line, what) and exits with status 1 if
there is any.
"""

from __future__ import annotations

import html.parser
import os
import re
import sys

SKIPPED_DIRS = {"_modules", "_sources", "_static", "_images"}
SKIPPED_PAGES = {"search.html", "genindex.html", "py-modindex.html"}

TILDE_REFERENCE = re.compile(r"~tornado\.")
# A role as written in reStructuredText: ":name:" or ":domain:name:"
# followed by a backquote (or, once the markup is lost, by the name).
RAW_ROLE = re.compile(
    r"(?<![\w:]):(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const|"
    r"ref|doc|rfc|pep|term|any)(?::`|:\s*`|:[A-Za-z_~.])"
)


class _PageText(html.parser.HTMLParser):
    """Collects a page's text (line by line) and where ``<cite>`` appears."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[int, str]] = []
        self.cites: list[int] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "cite":
            self.cites.append(self.getpos()[0])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append((self.getpos()[0], data))


def findings_in_page(markup: str) -> list[tuple[int, str]]:
    """``(line, description)`` for each leftover in one page's HTML."""
    parser = _PageText()
    parser.feed(markup)
    parser.close()
    found = [(line, "<cite> (a reference without a role)") for line in parser.cites]
    for line, text in parser.texts:
        for match in TILDE_REFERENCE.finditer(text):
            found.append((line, f"leftover {_context(text, match)!r}"))
        for match in RAW_ROLE.finditer(text):
            found.append((line, f"raw role text {_context(text, match)!r}"))
    return sorted(found)


def _context(text: str, match: re.Match[str]) -> str:
    return text[max(0, match.start() - 20) : match.end() + 30].strip()


def pages(build_dir: str) -> list[str]:
    """The HTML pages written from the docs' own sources, sorted."""
    found = []
    for directory, subdirs, files in os.walk(build_dir):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        for name in files:
            if name.endswith(".html") and name not in SKIPPED_PAGES:
                found.append(os.path.join(directory, name))
    return sorted(found)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    build_dir = argv[1]
    checked = pages(build_dir)
    if not checked:
        print(f"no HTML pages under {build_dir}", file=sys.stderr)
        return 2
    total = 0
    for path in checked:
        with open(path, encoding="utf-8") as f:
            findings = findings_in_page(f.read())
        for line, what in findings:
            print(f"{os.path.relpath(path, build_dir)}:{line}: {what}")
        total += len(findings)
    if total:
        print(f"{total} rendering leftover(s) in {len(checked)} pages")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
