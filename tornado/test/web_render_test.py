"""Tests of templates, UI modules and UI methods in tornado.web."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

from tornado.log import app_log, gen_log
from tornado.template import DictLoader
from tornado.test.web_test import WebTestCase
from tornado.testing import ExpectLog
from tornado.web import RequestHandler, UIModule

TEST_DIR = os.path.dirname(os.path.abspath(__file__))
TEMPLATE_DIR = os.path.join(TEST_DIR, "templates")
STATIC_DIR = os.path.join(TEST_DIR, "static")


class Box(UIModule):
    def render(self, title: str) -> str:
        return f"<div class=box>{title}</div>"

    def embedded_javascript(self) -> str:
        return "var box = 1;"

    def javascript_files(self) -> list[str]:
        return ["box.js", "https://cdn.example/lib.js"]

    def embedded_css(self) -> str:
        return ".box { }"

    def css_files(self) -> str:
        return "/abs/box.css"

    def html_body(self) -> str:
        return "<p>box footer</p>"


def shout(handler: RequestHandler, text: str) -> str:
    return text.upper() + "!"


class PageHandler(RequestHandler):
    def get(self) -> None:
        self.render("web/page.html", title="Welcome")


class EscapedHandler(RequestHandler):
    def get_current_user(self) -> str | None:
        return "ann"

    def get(self) -> None:
        self.render("web/escaped.html", value="<b>&</b>")


class RenderStringHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.render_string("web/escaped.html", value="x"))

    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        namespace["current_user"] = "from namespace"
        return namespace


class XsrfTemplateHandler(RequestHandler):
    def get(self) -> None:
        self.render("web/xsrf.html")


class StaticUrlHandler(RequestHandler):
    def get(self) -> None:
        self.write(
            {
                "plain": self.static_url("hello.txt"),
                "unversioned": self.static_url("hello.txt", include_version=False),
                "with_host": self.static_url("style.css", include_host=True),
                "missing": self.static_url("missing.txt"),
            }
        )


class AfterFinishRenderHandler(RequestHandler):
    def get(self) -> None:
        self.finish("done")
        try:
            self.render("web/xsrf.html")
        except RuntimeError as e:
            self.application.settings["error"] = str(e)


class RenderTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            ("/page", PageHandler),
            ("/escaped", EscapedHandler),
            ("/render_string", RenderStringHandler),
            ("/xsrf", XsrfTemplateHandler),
            ("/static_urls", StaticUrlHandler),
            ("/after_finish", AfterFinishRenderHandler),
        ]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {
            "template_path": TEMPLATE_DIR,
            "static_path": STATIC_DIR,
            "ui_modules": {"Box": Box, "not_a_module": 42},
            "ui_methods": {"shout": shout, "_private": shout},
        }

    def test_page_with_modules(self) -> None:
        body = self.fetch("/page").body.decode()
        self.assertIn("<div class=box>Welcome</div>", body)
        self.assertIn('<div class="panel">Welcome</div>', body)
        self.assertIn("WELCOME!", body)
        head, _, rest = body.partition("</head>")
        # CSS and head markup go into <head>, static paths through static_url.
        self.assertIn(
            '<link href="/abs/box.css" type="text/css" rel="stylesheet"/>', head
        )
        self.assertRegex(head, r'<link href="/static/panel.css\?v=\w+" type="text/css"')
        self.assertIn('<style type="text/css">\n.box { }\n</style>', head)
        self.assertIn("<meta name=panel>", head)
        # JavaScript and body markup go at the end of <body>.
        page, _, tail = rest.rpartition("</body>")
        self.assertEqual(tail.strip(), "</html>")
        self.assertRegex(
            page, r'<script src="/static/box.js\?v=\w+" type="text/javascript">'
        )
        self.assertIn('<script src="https://cdn.example/lib.js"', page)
        self.assertIn("var box = 1;\nvar panel = 1;", page)
        self.assertIn("<p>box footer</p>", page)
        self.assertLess(page.index("var box"), page.index("<p>box footer</p>"))

    def test_autoescape_and_namespace(self) -> None:
        body = self.fetch("/escaped").body.decode().strip()
        self.assertEqual(body, "&lt;b&gt;&amp;&lt;/b&gt;|<b>&</b>|en_US|ann|Hello")

    def test_autoescape_setting(self) -> None:
        self._app.settings["autoescape"] = None
        self._app.settings["template_path"] = self.copy_templates()
        body = self.fetch("/escaped").body.decode()
        self.assertTrue(body.startswith("<b>&</b>|<b>&</b>|"))

    def test_render_string_and_namespace_override(self) -> None:
        body = self.fetch("/render_string").body.decode()
        self.assertIn("|from namespace|", body)

    def test_xsrf_form_module(self) -> None:
        body = self.fetch("/xsrf").body.decode()
        self.assertRegex(body, r'<form><input type="hidden" name="_xsrf" value="2\|')

    def test_static_url(self) -> None:
        with ExpectLog(gen_log, "Could not open static file", level=logging.ERROR):
            urls = self.fetch("/static_urls").body
        data = __import__("json").loads(urls)
        self.assertRegex(data["plain"], r"^/static/hello\.txt\?v=[0-9a-f]{32,}$")
        self.assertEqual(data["unversioned"], "/static/hello.txt")
        self.assertTrue(
            data["with_host"].startswith(self.get_url("/static/style.css?v="))
        )
        self.assertEqual(data["missing"], "/static/missing.txt")

    def test_render_after_finish(self) -> None:
        self.fetch("/after_finish")
        self.assertEqual(self._app.settings["error"], "Cannot render() after finish()")

    def test_missing_template_is_500(self) -> None:
        self._app.settings["template_path"] = tempfile.gettempdir()
        with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
            self.assertEqual(self.fetch("/xsrf").code, 500)

    def copy_templates(self) -> str:
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        shutil.copytree(
            os.path.join(TEMPLATE_DIR, "web"), os.path.join(directory, "web")
        )
        return directory


class TemplateLoaderSettingTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/escaped", EscapedHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        loader = DictLoader({"web/escaped.html": "dict {{ value }}"})
        return {"template_loader": loader}

    def test_template_loader_setting(self) -> None:
        self.assertEqual(self.fetch("/escaped").body, b"dict &lt;b&gt;&amp;&lt;/b&gt;")


class TemplateReloadTest(WebTestCase):
    def setUp(self) -> None:
        self.template_dir = tempfile.mkdtemp()
        os.mkdir(os.path.join(self.template_dir, "web"))
        self.write_template("version one")
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        shutil.rmtree(self.template_dir)

    def write_template(self, text: str) -> None:
        path = os.path.join(self.template_dir, "web", "escaped.html")
        with open(path, "w") as f:
            f.write(text)

    def get_handlers(self) -> list[Any]:
        return [("/escaped", EscapedHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {
            "template_path": self.template_dir,
            "compiled_template_cache": False,
            "template_whitespace": "all",
        }

    def test_templates_are_reloaded_without_cache(self) -> None:
        self.assertEqual(self.fetch("/escaped").body, b"version one")
        self.write_template("version   two")
        self.assertEqual(self.fetch("/escaped").body, b"version   two")
