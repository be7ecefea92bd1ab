"""The check of the rendered docs (maint/scripts/check_rendered_docs.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import tempfile
import types
import unittest

from tornado.test.util import REPO_ROOT

SCRIPT = os.path.join(REPO_ROOT, "maint", "scripts", "check_rendered_docs.py")


def load_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("check_rendered_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOOD_PAGE = """<html><head><script>var x = ":class:`not text`";</script></head>
<body><p>An <a href="web.html#tornado.web.Application" title="tornado.web.Application">
<code class="xref py py-class">Application</code></a> and a
<code>~/.config</code> path.</p></body></html>"""


@unittest.skipUnless(os.path.exists(SCRIPT), "maint/ is not part of this install")
class RenderedDocsCheckTest(unittest.TestCase):
    def setUp(self) -> None:
        self.check = load_script()

    def findings(self, body: str) -> list[str]:
        page = f"<html><body><p>{body}</p></body></html>"
        return [what for _, what in self.check.findings_in_page(page)]

    def test_links_and_scripts_are_fine(self) -> None:
        self.assertEqual(self.check.findings_in_page(GOOD_PAGE), [])

    def test_leftover_tilde_reference(self) -> None:
        (found,) = self.findings("see <em>~tornado.web.Application</em> here")
        self.assertIn("leftover '~tornado.web.Application", found)

    def test_raw_role_text(self) -> None:
        for text in (
            ":class:`Foo`",
            ":meth: `Foo.bar`",
            ":py:func:`tornado.gen.sleep`",
            ":func:tornado.gen.sleep",
        ):
            with self.subTest(text=text):
                (found,) = self.findings(f"call {text} now")
                self.assertIn("raw role text", found)

    def test_words_with_colons_are_not_roles(self) -> None:
        self.assertEqual(self.findings("key:value, a: class, http://x/data:1"), [])

    def test_cite_means_a_reference_without_a_role(self) -> None:
        (found,) = self.findings("a <cite>Name</cite>")
        self.assertIn("<cite>", found)

    def test_main_reports_pages_and_exit_status(self) -> None:
        with tempfile.TemporaryDirectory() as build:
            for directory in ("guide", "_modules"):
                os.mkdir(os.path.join(build, directory))
            with open(os.path.join(build, "guide", "bad.html"), "w") as f:
                f.write("<p>x</p>\n<p>:class:`Foo`</p>")
            with open(os.path.join(build, "_modules", "source.html"), "w") as f:
                f.write("<p>~tornado.web</p>")  # highlighted source: not read
            with open(os.path.join(build, "good.html"), "w") as f:
                f.write(GOOD_PAGE)
            with contextlib.redirect_stdout(io.StringIO()) as stdout:
                status = self.check.main(["check", build])
        printed = stdout.getvalue()
        self.assertEqual(status, 1)
        self.assertIn(os.path.join("guide", "bad.html") + ":2: raw role text", printed)
        self.assertNotIn("source.html", printed)
        self.assertIn("1 rendering leftover(s) in 2 pages", printed)
