"""Tests for tornado.template: syntax, escaping, whitespace, loaders, errors."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import traceback
import typing
import unittest

from tornado.escape import to_unicode, utf8
from tornado.template import (
    BaseLoader,
    DictLoader,
    Loader,
    ParseError,
    Template,
    filter_whitespace,
)
from tornado.testing import ExpectLog

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def render(source: str | bytes, **kwargs: typing.Any) -> str:
    """Render a template given as a string and return text."""
    return to_unicode(Template(source).generate(**kwargs))


def render_from(loader: BaseLoader, name: str, /, **kwargs: typing.Any) -> str:
    """Render the template ``name`` of ``loader`` and return text."""
    return to_unicode(loader.load(name).generate(**kwargs))


class ExpressionTest(unittest.TestCase):
    def test_plain_text_and_bytes_result(self) -> None:
        self.assertEqual(Template("Hello").generate(), b"Hello")
        self.assertEqual(Template("").generate(), b"")

    def test_expression(self) -> None:
        self.assertEqual(render("Hello {{ name }}!", name="Ben"), "Hello Ben!")
        self.assertEqual(render("{{ 1 + 2 }}{{x}}", x=4), "34")

    def test_values_of_any_type(self) -> None:
        self.assertEqual(render("{{ None }} {{ 1.5 }} {{ [1] }}"), "None 1.5 [1]")
        self.assertEqual(render("{{ b }}", b=b"bytes"), "bytes")

    def test_unicode(self) -> None:
        self.assertEqual(
            Template("\u00e9{{ x }}").generate(x="\u00fc"), utf8("\u00e9\u00fc")
        )
        self.assertEqual(render(utf8("{{ '\u00e9' }}\u00e9")), "\u00e9\u00e9")
        self.assertEqual(render("{{ x }}", x=utf8("\u00e9")), "\u00e9")

    def test_true_division(self) -> None:
        # Generated code never inherits __future__ flags from this module.
        self.assertEqual(render("{{ 1 / 2 }}"), "0.5")

    def test_default_namespace(self) -> None:
        source = (
            "{{ url_escape('a b') }}|{{ json_encode([1]) }}|{{ squeeze(' a  b ') }}|"
            "{% raw escape('<') %}|{% raw xhtml_escape('>') %}|"
            "{{ datetime.date(2020, 1, 2).isoformat() }}|"
            "{% raw linkify('http://x.org') %}"
        )
        expected = (
            'a+b|[1]|a b|&lt;|&gt;|2020-01-02|<a href="http://x.org">http://x.org</a>'
        )
        self.assertEqual(render(source), expected)

    def test_kwargs_override_namespace(self) -> None:
        self.assertEqual(render("{{ squeeze }}", squeeze="mine"), "mine")

    def test_escaped_delimiters(self) -> None:
        self.assertEqual(render("{{!tag}}"), "{{tag}}")
        self.assertEqual(render("{%! tag %}"), "{% tag %}")
        # Only the marked opener is literal; what follows is parsed as usual.
        self.assertEqual(render("{{! {{ 1 }} }}"), "{{ 1 }}")

    def test_extra_braces(self) -> None:
        self.assertEqual(render("{{{ x }}}", x=1), "{1}")
        self.assertEqual(render("\\frac{{{ a }}}{{{ b }}}", a=1, b=2), "\\frac{1}{2}")
        self.assertEqual(render("a { b } {"), "a { b } {")
        self.assertEqual(render("{"), "{")

    def test_comments(self) -> None:
        self.assertEqual(render("a{# {{ undefined }} #}b"), "ab")
        self.assertEqual(render("a{% comment ignore {{ this }} %}b"), "ab")


class DirectiveTest(unittest.TestCase):
    def test_if_elif_else(self) -> None:
        source = "{% if x > 1 %}big{% elif x == 1 %}one{% else %}small{% end %}"
        for x, expected in [(2, "big"), (1, "one"), (0, "small")]:
            with self.subTest(x=x):
                self.assertEqual(render(source, x=x), expected)

    def test_for_with_else(self) -> None:
        source = "{% for i in items %}{{ i }},{% else %}end{% end %}"
        self.assertEqual(render(source, items=[1, 2]), "1,2,end")
        self.assertEqual(render(source, items=[]), "end")

    def test_while(self) -> None:
        source = "{% set i = 0 %}{% while i < 3 %}{{ i }}{% set i += 1 %}{% end %}"
        self.assertEqual(render(source), "012")

    def test_break_and_continue(self) -> None:
        source = (
            "{% for i in range(10) %}"
            "{% if i == 2 %}{% continue %}{% end %}"
            "{% if i == 5 %}{% break %}{% end %}"
            "{{ i }}{% end %}"
        )
        self.assertEqual(render(source), "0134")
        source = "{% set i = 0 %}{% while True %}{% set i += 1 %}{% break %}{% end %}"
        self.assertEqual(render(source + "{{ i }}"), "1")

    def test_try_except_else_finally(self) -> None:
        source = (
            "{% try %}{{ 1 / d }}{% except ZeroDivisionError %}div"
            "{% else %}-ok{% finally %}-done{% end %}"
        )
        self.assertEqual(render(source, d=1), "1.0-ok-done")
        self.assertEqual(render(source, d=0), "div-done")

    def test_empty_bodies(self) -> None:
        source = (
            "{% if x %}{% elif y %}{# nothing #}{% else %}{% end %}"
            "{% for i in [] %}{% end %}{% try %}{% except Exception %}{% end %}"
            "{% apply str %}{% end %}{% block b %}{% end %}done"
        )
        self.assertEqual(render(source, x=0, y=1, str=lambda b: b), "done")

    def test_set(self) -> None:
        self.assertEqual(render("{% set x = 'a' * 3 %}{{ x }}"), "aaa")

    def test_import_and_from_import(self) -> None:
        source = (
            "{% import math %}{% from os import path as p %}"
            "{{ math.floor(2.5) }} {{ p.join('a', 'b') }}"
        )
        self.assertEqual(render(source), "2 " + os.path.join("a", "b"))

    def test_apply(self) -> None:
        def upper(text: bytes) -> str:
            return to_unicode(text).upper()

        source = "{% apply upper %}hello {{ name }}{% end %}!"
        self.assertEqual(render(source, upper=upper, name="<b>"), "HELLO &LT;B&GT;!")

    def test_nested_apply_in_loop(self) -> None:
        source = (
            "{% for i in range(2) %}{% apply f %}{% apply g %}{{ i }}"
            "{% end %}{% end %}{% end %}"
        )
        result = render(source, f=lambda b: b"(" + b + b")", g=lambda b: b * 2)
        self.assertEqual(result, "(00)(11)")

    def test_raw(self) -> None:
        self.assertEqual(render("{% raw x %}|{{ x }}", x="<i>"), "<i>|&lt;i&gt;")

    def test_module(self) -> None:
        class Modules:
            @staticmethod
            def Greeting(name: str) -> str:
                return f"<b>hi {name}</b>"

        source = "{% module Greeting('ann') %}"
        self.assertEqual(render(source, _tt_modules=Modules()), "<b>hi ann</b>")

    def test_directive_whitespace_is_flexible(self) -> None:
        self.assertEqual(render("{%if x%}{{x}}{%end%}", x=1), "1")
        self.assertEqual(render("{%   if x   %}y{%   end   %}", x=1), "y")


class AutoescapeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.templates = {
            "escaped.html": "{{ name }}",
            "unescaped.html": "{% autoescape None %}{{ name }}",
            "include_escaped.html": "{% autoescape None %}{{ name }}:"
            "{% include 'escaped.html' %}",
            "custom.html": "{% autoescape upper %}{{ name }}",
        }

    def test_default_is_xhtml_escape(self) -> None:
        self.assertEqual(Template("{{ x }}").autoescape, "xhtml_escape")
        self.assertEqual(render("{{ x }}", x="<&'\">"), "&lt;&amp;&#x27;&quot;&gt;")

    def test_disabled(self) -> None:
        self.assertEqual(
            to_unicode(Template("{{ x }}", autoescape=None).generate(x="<a>")), "<a>"
        )
        loader = DictLoader(self.templates, autoescape=None)
        self.assertEqual(render_from(loader, "escaped.html", name="<a>"), "<a>")

    def test_directive_applies_to_its_file_only(self) -> None:
        loader = DictLoader(self.templates)
        self.assertEqual(render_from(loader, "unescaped.html", name="<a>"), "<a>")
        self.assertIsNone(loader.load("unescaped.html").autoescape)
        self.assertEqual(
            render_from(loader, "include_escaped.html", name="<a>"), "<a>:&lt;a&gt;"
        )

    def test_custom_function_receives_bytes(self) -> None:
        seen: list[object] = []

        def upper(value: bytes) -> bytes:
            seen.append(value)
            return value.upper()

        loader = DictLoader(self.templates, namespace={"upper": upper})
        # bytes.upper() leaves the UTF-8 encoded "\u00e9" alone.
        self.assertEqual(
            render_from(loader, "custom.html", name="\u00e9<a>"), "\u00e9<A>"
        )
        self.assertEqual(seen, [utf8("\u00e9<a>")])
        template = Template("{{ x }}", autoescape="upper")
        self.assertEqual(template.generate(x=1, upper=upper), b"1")

    def test_custom_loader_default(self) -> None:
        loader = DictLoader(
            self.templates, autoescape="shout", namespace={"shout": lambda b: b + b"!"}
        )
        self.assertEqual(render_from(loader, "escaped.html", name="hi"), "hi!")

    def test_raw_and_module_are_never_escaped(self) -> None:
        class Modules:
            html = "<br>"

        source = "{% raw x %}{% module html %}"
        self.assertEqual(render(source, x="<a>", _tt_modules=Modules()), "<a><br>")

    def test_apply_output_is_not_escaped_twice(self) -> None:
        self.assertEqual(
            render("{% apply f %}{{ x }}{% end %}", x="<", f=lambda b: b + b"<"),
            "&lt;<",
        )


class WhitespaceTest(unittest.TestCase):
    SOURCE = "  a   b \n\n  c\t\td  \n"

    def test_filter_whitespace_modes(self) -> None:
        self.assertEqual(filter_whitespace("all", self.SOURCE), self.SOURCE)
        self.assertEqual(filter_whitespace("single", self.SOURCE), " a b\nc d\n")
        self.assertEqual(filter_whitespace("oneline", self.SOURCE), " a b c d ")

    def test_invalid_mode(self) -> None:
        with self.assertRaisesRegex(ValueError, "invalid whitespace mode 'tight'"):
            filter_whitespace("tight", "x")
        with self.assertRaisesRegex(ValueError, "invalid whitespace mode"):
            Template("x", whitespace="tight")
        with self.assertRaisesRegex(ValueError, "invalid whitespace mode"):
            DictLoader({"a.txt": "x"}, whitespace="tight").load("a.txt")

    def test_default_depends_on_extension(self) -> None:
        loader = DictLoader({name: self.SOURCE for name in ("a.html", "a.js", "a.txt")})
        self.assertEqual(render_from(loader, "a.html"), " a b\nc d\n")
        self.assertEqual(render_from(loader, "a.js"), " a b\nc d\n")
        self.assertEqual(render_from(loader, "a.txt"), self.SOURCE)
        self.assertEqual(render(self.SOURCE), self.SOURCE)

    def test_explicit_modes(self) -> None:
        for mode, expected in [
            ("all", self.SOURCE),
            ("single", " a b\nc d\n"),
            ("oneline", " a b c d "),
        ]:
            with self.subTest(mode=mode):
                template = Template(self.SOURCE, name="x.html", whitespace=mode)
                self.assertEqual(to_unicode(template.generate()), expected)

    def test_loader_mode(self) -> None:
        loader = DictLoader({"a.html": self.SOURCE}, whitespace="oneline")
        self.assertEqual(render_from(loader, "a.html"), " a b c d ")
        # An explicit argument beats the loader's setting.
        template = Template(self.SOURCE, loader=loader, whitespace="all")
        self.assertEqual(to_unicode(template.generate()), self.SOURCE)

    def test_compress_whitespace(self) -> None:
        squeezed = Template(self.SOURCE, compress_whitespace=True)
        self.assertEqual(to_unicode(squeezed.generate()), " a b\nc d\n")
        kept = Template(self.SOURCE, name="a.html", compress_whitespace=False)
        self.assertEqual(to_unicode(kept.generate()), self.SOURCE)
        with self.assertRaisesRegex(ValueError, "cannot set both"):
            Template("x", compress_whitespace=True, whitespace="all")

    def test_directive_switches_mode_for_following_text(self) -> None:
        source = "a  b{% whitespace oneline %}c \n d{% whitespace all %}e  f"
        self.assertEqual(render(source), "a  bc de  f")

    def test_directive_rejects_unknown_mode(self) -> None:
        with self.assertRaises(ParseError) as cm:
            Template("x\n{% whitespace tight %}")
        self.assertIn("invalid whitespace mode 'tight'", cm.exception.message)
        self.assertEqual(cm.exception.lineno, 2)

    def test_preformatted_text_is_kept(self) -> None:
        source = "<pre>  a\n\n  b</pre>"
        self.assertEqual(render_from(DictLoader({"p.html": source}), "p.html"), source)

    def test_whitespace_around_tags(self) -> None:
        source = "{% for i in x %}\n  {{ i }}\n{% end %}\n"
        self.assertEqual(
            render_from(DictLoader({"l.html": source}), "l.html", x=[1, 2]),
            "\n1\n\n2\n\n",
        )


class InheritanceTest(unittest.TestCase):
    def loader(self, **templates: str) -> DictLoader:
        return DictLoader({name.replace("_", "."): t for name, t in templates.items()})

    def test_three_levels(self) -> None:
        loader = self.loader(
            base_html="<title>{% block title %}Site{% end %}</title>"
            "{% block body %}base body{% end %}"
            "<footer>{% block footer %}(c){% end %}</footer>",
            section_html="{% extends 'base.html' %}"
            "{% block title %}Section{% end %}"
            "{% block body %}<nav>{% block nav %}links{% end %}</nav>"
            "{% block main %}{% end %}{% end %}",
            page_html='{% extends "section.html" %}'
            "{% block title %}Page {{ n }}{% end %}"
            "{% block main %}<p>{{ text }}</p>{% end %}",
        )
        self.assertEqual(
            render_from(loader, "page.html", n=3, text="<hi>"),
            "<title>Page 3</title><nav>links</nav><p>&lt;hi&gt;</p>"
            "<footer>(c)</footer>",
        )
        self.assertEqual(
            render_from(loader, "section.html"),
            "<title>Section</title><nav>links</nav><footer>(c)</footer>",
        )
        self.assertEqual(
            render_from(loader, "base.html"),
            "<title>Site</title>base body<footer>(c)</footer>",
        )

    def test_content_outside_blocks_of_child_is_ignored(self) -> None:
        loader = self.loader(
            base_html="[{% block a %}A{% end %}]",
            child_html="ignored {% extends base.html %} ignored too"
            "{% block a %}child{% end %}",
        )
        self.assertEqual(render_from(loader, "child.html"), "[child]")

    def test_block_in_control_flow(self) -> None:
        loader = self.loader(
            base_html="{% for i in range(2) %}{% block item %}{{ i }}{% end %}"
            "{% end %}",
            child_html="{% extends base.html %}{% block item %}<{{ i }}>{% end %}",
        )
        self.assertEqual(render_from(loader, "child.html"), "<0><1>")

    def test_blocks_keep_their_templates_autoescape(self) -> None:
        loader = self.loader(
            base_html="{{ x }}{% block b %}{% end %}",
            child_html="{% extends base.html %}{% autoescape None %}"
            "{% block b %}{{ x }}{% end %}",
        )
        self.assertEqual(render_from(loader, "child.html", x="<"), "&lt;<")

    def test_include_shares_namespace(self) -> None:
        loader = self.loader(
            page_html="{% set a = 1 %}{% include 'part.html' %}{{ b }}",
            part_html="{{ a }}{% set b = a + 1 %}",
        )
        self.assertEqual(render_from(loader, "page.html"), "12")

    def test_include_inside_loop_and_block(self) -> None:
        loader = self.loader(
            base_html="{% block rows %}{% end %}",
            page_html="{% extends base.html %}{% block rows %}"
            "{% for row in rows %}{% include row.html %}{% end %}{% end %}",
            row_html="<{{ row }}>",
        )
        self.assertEqual(render_from(loader, "page.html", rows="ab"), "<a><b>")

    def test_included_template_can_define_blocks(self) -> None:
        loader = self.loader(
            base_html="{% include 'parts.html' %}",
            parts_html="[{% block a %}default{% end %}]",
            child_html="{% extends base.html %}{% block a %}override{% end %}",
        )
        self.assertEqual(render_from(loader, "child.html"), "[override]")
        self.assertEqual(render_from(loader, "base.html"), "[default]")

    def test_relative_names(self) -> None:
        loader = DictLoader(
            {
                "dir/page.html": "{% extends 'base.html' %}"
                "{% block b %}{% include '../shared/x.html' %}{% end %}",
                "dir/base.html": "({% block b %}{% end %})",
                "shared/x.html": "x{% include 'y.html' %}{% include '/abs.html' %}",
                "shared/y.html": "y",
                "/abs.html": "z",
            }
        )
        self.assertEqual(render_from(loader, "dir/page.html"), "(xyz)")
        self.assertEqual(loader.resolve_path("a.html", "dir/b.html"), "dir/a.html")
        self.assertEqual(loader.resolve_path("a.html", "<string>"), "a.html")
        self.assertEqual(loader.resolve_path("a.html"), "a.html")


class LoaderTest(unittest.TestCase):
    def test_file_loader(self) -> None:
        loader = Loader(TEMPLATE_DIR)
        output = render_from(
            loader, "page.html", title="A&B", items=["x", "y"], selected="y"
        )
        self.assertIn("<title>A&amp;B</title>", output)
        self.assertEqual(
            re.findall(r"<li>.*?</li>", output), ["<li>x</li>", "<li>y*</li>"]
        )
        self.assertEqual(
            sorted(loader.templates),
            ["layout.html", "page.html", "partials/item.html", "partials/mark.html"],
        )

    def test_utf8_file(self) -> None:
        loader = Loader(TEMPLATE_DIR)
        self.assertEqual(loader.load("utf8.html").generate(), utf8("H\u00e9llo\n"))

    def test_file_loader_resolves_relative_paths(self) -> None:
        loader = Loader(TEMPLATE_DIR)
        self.assertEqual(
            loader.resolve_path("mark.html", "partials/item.html"), "partials/mark.html"
        )
        self.assertEqual(
            loader.resolve_path("../page.html", "partials/x.html"), "page.html"
        )
        # Names escaping the root are left alone rather than resolved.
        self.assertEqual(loader.resolve_path("../../x.html", "a.html"), "../../x.html")
        sibling = "../templates_other/x.html"
        self.assertEqual(loader.resolve_path(sibling, "a.html"), sibling)

    def test_missing_file(self) -> None:
        with self.assertRaises(FileNotFoundError):
            Loader(TEMPLATE_DIR).load("no-such-template.html")
        with self.assertRaises(KeyError):
            DictLoader({}).load("no-such-template.html")

    def test_templates_are_compiled_once(self) -> None:
        source = {"a.html": "a{% include b.html %}", "b.html": "b"}
        loader = DictLoader(source)
        first = loader.load("a.html")
        self.assertIs(loader.load("a.html"), first)
        self.assertIs(loader.templates["b.html"], loader.load("b.html"))
        source["a.html"] = "changed"
        self.assertEqual(render_from(loader, "a.html"), "ab")
        loader.reset()
        self.assertEqual(loader.templates, {})
        self.assertEqual(render_from(loader, "a.html"), "changed")

    def test_file_loader_reset_rereads_files(self) -> None:
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root)
        path = os.path.join(root, "t.txt")
        loader = Loader(root)

        def write(text: str) -> None:
            with open(path, "w") as f:
                f.write(text)

        write("one")
        self.assertEqual(render_from(loader, "t.txt"), "one")
        write("two")
        self.assertEqual(render_from(loader, "t.txt"), "one")
        loader.reset()
        self.assertEqual(render_from(loader, "t.txt"), "two")

    def test_namespace(self) -> None:
        loader = DictLoader(
            {"a.html": "{{ greet('x') }}"}, namespace={"greet": lambda s: "hi " + s}
        )
        self.assertEqual(render_from(loader, "a.html"), "hi x")
        self.assertIs(loader.load("a.html").namespace, loader.namespace)
        self.assertEqual(Template("x").namespace, {})

    def test_base_loader_is_abstract(self) -> None:
        with self.assertRaises(NotImplementedError):
            BaseLoader().load("x")

    def test_concurrent_loads_share_one_template(self) -> None:
        loader = DictLoader({f"t{i}.html": f"{{{{ {i} }}}}" for i in range(20)})
        results: list[Template] = []

        def load_all() -> None:
            results.extend(loader.load(f"t{i}.html") for i in range(20))

        threads = [threading.Thread(target=load_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len({id(t) for t in results}), 20)

    def test_template_attributes(self) -> None:
        loader = DictLoader({"a.html": "x"}, autoescape=None)
        template = loader.load("a.html")
        self.assertEqual(template.name, "a.html")
        self.assertIs(template.loader, loader)
        self.assertIsNone(template.autoescape)
        self.assertEqual(Template(b"x", name=b"n.txt").name, "n.txt")  # type: ignore


class GeneratedCodeTest(unittest.TestCase):
    def test_code_is_readable_python(self) -> None:
        template = Template(
            "<p>{{ x }}</p>\n{% for i in y %}{{ i }}{% end %}", name="page.html"
        )
        code = template.code
        self.assertIn("def _tt_execute():", code)
        self.assertIn("for i in y:  # page.html:2", code)
        self.assertIn("_tt_tmp = x  # page.html:1", code)
        # One list is built with append and joined once.
        self.assertEqual(code.count("_tt_buffer = []"), 1)
        self.assertEqual(code.count(".join(_tt_buffer)"), 1)
        compile(code, "check", "exec")
        self.assertEqual(template.compiled.co_filename, "page_html.generated.py")

    def test_include_and_block_lines_name_their_origin(self) -> None:
        loader = DictLoader(
            {
                "base.html": "{% block b %}{% end %}",
                "child.html": "{% extends base.html %}\n{% block b %}\n"
                "{% include inc.html %}{% end %}",
                "inc.html": "\n{{ v }}",
            }
        )
        code = loader.load("child.html").code
        self.assertIn("_tt_tmp = v  # inc.html:2 (via child.html:3, base.html:1)", code)


class ErrorTest(unittest.TestCase):
    def assert_parse_error(
        self,
        source: str,
        message: str,
        line: int,
        name: str = "t.html",
        loader: BaseLoader | None = None,
    ) -> ParseError:
        with self.assertRaises(ParseError) as cm:
            if loader is None:
                Template(source, name=name)
            else:
                loader.load(name)
        error = cm.exception
        self.assertRegex(error.message, message)
        self.assertEqual((error.filename, error.lineno), (name, line))
        self.assertEqual(str(error), f"{error.message} at {name}:{line}")
        return error

    def test_parse_errors(self) -> None:
        cases = [
            ("ok\n{{ x", r"^Missing end expression \}\}$", 2),
            ("{% if x", r"^Missing end block %\}$", 1),
            ("\n\n{# note", r"^Missing end comment #\}$", 3),
            ("{{ }}", "^Empty expression$", 1),
            ("\n{%  %}", r"^Empty block tag \(\{% %\}\)$", 2),
            ("{% bogus x %}", "^unknown operator: 'bogus'$", 1),
            ("\n{% if x %}\n\nno end", r"^Missing \{% end %\} block for if$", 2),
            ("{% for x in y %}\n{% if x %}{% end %}", "block for for$", 1),
            ("{% for x in y %}{% end %}\n{% if x %}", "block for if$", 2),
            ("x\n{% end %}", r"^Extra \{% end %\} block$", 2),
            ("{% else %}", "^else outside if/for/while/try block$", 1),
            (
                "{% if x %}{% except %}{% end %}",
                "except block cannot be attached to if",
                1,
            ),
            (
                "{% for x in y %}{% elif x %}{% end %}",
                "elif block cannot be attached to for",
                1,
            ),
            ("{% if x %}{% break %}{% end %}", "^break outside for/while block$", 1),
            ("{% continue %}", "^continue outside for/while block$", 1),
            (
                "{% for x in y %}{% apply f %}{% break %}{% end %}{% end %}",
                "^break outside for/while block$",
                1,
            ),
            ("{% extends %}", "^extends missing file path$", 1),
            ("{% include '' %}", "^include missing file path$", 1),
            ("{% import %}", "^import missing statement$", 1),
            ("{% set %}", "^set missing statement$", 1),
            ("{% apply %}{% end %}", "^apply missing method name$", 1),
            ("{% block %}{% end %}", "^block missing name$", 1),
            ("{% raw %}", "^raw missing expression$", 1),
            ("{% module %}", "^module missing expression$", 1),
            ("{% autoescape %}", "^autoescape missing function name", 1),
            ("{% if %}{% end %}", "^if missing expression$", 1),
            ("{% if x %}{% elif %}{% end %}", "^elif missing condition$", 1),
        ]
        for source, message, line in cases:
            with self.subTest(source=source):
                self.assert_parse_error(source, message, line)

    def test_valid_clause_orders_parse(self) -> None:
        # The parser leaves clause order to Python; a valid order compiles.
        Template("{% try %}{% except %}{% else %}{% finally %}{% end %}")

    def test_extends_and_include_need_a_loader(self) -> None:
        self.assert_parse_error(
            "\n{% extends 'base.html' %}", "no template loader", 2, name="c.html"
        )
        self.assert_parse_error("{% include 'x.html' %}", "no template loader", 1)

    def test_errors_in_loaded_templates_name_that_file(self) -> None:
        loader = DictLoader(
            {"page.html": "{% include 'bad.html' %}", "bad.html": "\n{{"}
        )
        with self.assertRaises(ParseError) as cm:
            loader.load("page.html")
        self.assertEqual(str(cm.exception), "Missing end expression }} at bad.html:2")

    def test_cycles_are_reported(self) -> None:
        loader = DictLoader(
            {
                "a.html": "{% extends b.html %}",
                "b.html": "{% extends a.html %}",
                "self.html": "{% include self.html %}",
            }
        )
        with self.assertRaisesRegex(ParseError, r"a\.html -> b\.html -> a\.html"):
            loader.load("a.html")
        with self.assertRaisesRegex(ParseError, "extends or includes itself"):
            loader.load("self.html")
        self.assertEqual(loader.templates, {})

    def test_python_syntax_error_is_logged_and_raised(self) -> None:
        with ExpectLog("tornado.application", r"bad\.html code:"):
            with self.assertRaises(SyntaxError) as cm:
                Template("line one\n{{ 1 + }}", name="bad.html")
        self.assertIn("# bad.html:2", cm.exception.text or "")

    def traceback_of(self, loader: DictLoader, name: str) -> str:
        try:
            loader.load(name).generate()
        except ZeroDivisionError:
            return traceback.format_exc()
        self.fail("rendering did not raise")

    def test_runtime_error_names_template_line(self) -> None:
        loader = DictLoader({"t.html": "one\ntwo {{ 1 / 0 }}\nthree"})
        self.assertIn("# t.html:2", self.traceback_of(loader, "t.html"))

    def test_runtime_error_in_statement(self) -> None:
        loader = DictLoader({"t.html": "\n\n{% set x = 1 / 0 %}"})
        self.assertIn("x = 1 / 0  # t.html:3", self.traceback_of(loader, "t.html"))

    def test_runtime_error_in_include(self) -> None:
        loader = DictLoader(
            {"page.html": "\n{% include 'part.html' %}", "part.html": "{{ 1 / 0 }}"}
        )
        self.assertIn(
            "# part.html:1 (via page.html:2)", self.traceback_of(loader, "page.html")
        )

    def test_runtime_error_in_inherited_templates(self) -> None:
        loader = DictLoader(
            {
                "base.html": "{{ 1 / 0 }}{% block b %}{% end %}",
                "ok_base.html": "\n{% block b %}{% end %}",
                "child.html": "{% extends ok_base.html %}\n\n{% block b %}\n"
                "{{ 1 / 0 }}{% end %}",
                "other.html": "{% extends base.html %}",
            }
        )
        self.assertIn("# base.html:1", self.traceback_of(loader, "other.html"))
        self.assertIn(
            "# child.html:4 (via ok_base.html:2)",
            self.traceback_of(loader, "child.html"),
        )

    def test_same_name_shows_latest_source(self) -> None:
        Template("{{ 1 }}", name="dup.html").generate()
        template = Template("\n\n{{ 1 / 0 }}", name="dup.html")
        try:
            template.generate()
        except ZeroDivisionError:
            self.assertIn("# dup.html:3", traceback.format_exc())
        else:
            self.fail("rendering did not raise")

    def test_undefined_name_is_a_name_error(self) -> None:
        with self.assertRaisesRegex(NameError, "missing"):
            Template("{{ missing }}").generate()

    def test_parse_error_attributes_and_defaults(self) -> None:
        error = ParseError("boom")
        self.assertEqual(
            (error.message, error.filename, error.lineno), ("boom", None, 0)
        )
        self.assertEqual(str(error), "boom at None:0")


if __name__ == "__main__":
    unittest.main()
