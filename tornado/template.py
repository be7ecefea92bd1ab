"""A small template language that compiles each template to a Python function.

A :class:`Template` is parsed once into a tree of nodes, turned into Python
source (kept readable in ``Template.code``) and compiled.  Rendering calls the
compiled function with the template's namespace and returns UTF-8 ``bytes``.
Loaders (:class:`Loader` for a directory, :class:`DictLoader` for a dict)
resolve ``{% extends %}`` and ``{% include %}`` names and compile every
template only once.

The syntax is described in the reference documentation (``docs/template.rst``).
"""

from __future__ import annotations

import builtins
import datetime
import linecache
import os.path
import posixpath
import re
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from tornado import escape
from tornado.log import app_log

_DEFAULT_AUTOESCAPE = "xhtml_escape"


class _UnsetMarker:
    """Type of the default that tells "argument not given" apart from None."""

    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _UnsetMarker()

_WHITESPACE_MODES = ("all", "single", "oneline")
_BLANK_RUN = re.compile(r"[\t ]+")
_SPACE_AROUND_NEWLINE = re.compile(r"\s*\n\s*")
_ANY_WHITESPACE_RUN = re.compile(r"\s+")


def filter_whitespace(mode: str, text: str) -> str:
    """Transform whitespace in ``text`` according to ``mode``.

    ``mode`` is one of:

    * ``"all"``: leave all whitespace alone.
    * ``"single"``: collapse each run of whitespace to a single character,
      keeping a newline if the run contained one.
    * ``"oneline"``: collapse every run of whitespace, newlines included, to
      a single space.

    Any other mode raises ``ValueError``.
    """
    if mode == "all":
        return text
    if mode == "single":
        text = _BLANK_RUN.sub(" ", text)
        return _SPACE_AROUND_NEWLINE.sub("\n", text)
    if mode == "oneline":
        return _ANY_WHITESPACE_RUN.sub(" ", text)
    raise ValueError(
        f"invalid whitespace mode {mode!r} (expected one of "
        f"{', '.join(_WHITESPACE_MODES)})"
    )


class ParseError(Exception):
    """Raised for template syntax errors.

    ``filename`` and ``lineno`` locate the error; ``str()`` of the exception
    reads ``"<message> at <filename>:<lineno>"``.
    """

    def __init__(
        self, message: str, filename: str | None = None, lineno: int = 0
    ) -> None:
        super().__init__(message, filename, lineno)
        self.message = message
        self.filename = filename
        self.lineno = lineno

    def __str__(self) -> str:
        return f"{self.message} at {self.filename}:{self.lineno}"


class Template:
    """A compiled template.

    ``template_string`` is the source (``str`` or UTF-8 ``bytes``) and
    ``name`` is used in error messages and tracebacks.  A ``loader`` is needed
    for ``{% extends %}`` and ``{% include %}``; it also supplies the default
    ``autoescape``, ``whitespace`` and namespace.

    ``whitespace`` is a mode accepted by :func:`filter_whitespace`; without
    one the loader's is used, else ``"single"`` for names ending in ``.html``
    or ``.js`` and ``"all"`` for the rest.  ``compress_whitespace`` is the older
    spelling (true means ``"single"``, false ``"all"``) and cannot be combined
    with ``whitespace``.  ``autoescape`` names a function of the namespace
    applied to every ``{{ }}`` expression, or is None to turn escaping off.

    Besides the constructor's arguments a template exposes ``code``, the
    generated Python source, ``compiled``, its code object, and ``file``, the
    root of the parsed tree.
    """

    def __init__(
        self,
        template_string: str | bytes,
        name: str = "<string>",
        loader: BaseLoader | None = None,
        compress_whitespace: bool | _UnsetMarker = _UNSET,
        autoescape: str | None | _UnsetMarker = _UNSET,
        whitespace: str | None = None,
    ) -> None:
        self.name = escape.native_str(name)
        mode = _choose_whitespace(self.name, loader, compress_whitespace, whitespace)
        self.autoescape: str | None
        if not isinstance(autoescape, _UnsetMarker):
            self.autoescape = autoescape
        elif loader is not None:
            self.autoescape = loader.autoescape
        else:
            self.autoescape = _DEFAULT_AUTOESCAPE
        self.namespace: dict[str, Any] = loader.namespace if loader else {}
        self.loader = loader
        source = _Source(self.name, escape.native_str(template_string), mode)
        self.file = _File(self, _Parser(source, self).parse())
        self.code = self._generate_python(loader)
        self._filename = f"{self.name.replace('.', '_')}.generated.py"
        self.compiled = self._compile()
        self._render_code = _function_code(self.compiled, _RENDER_FUNCTION)
        self._source_lines = self.code.splitlines(keepends=True)
        self._globals = {
            **_BASE_NAMESPACE,
            "__name__": self.name.replace(".", "_"),
            "__loader__": types.SimpleNamespace(get_source=lambda _name: self.code),
        }

    def generate(self, **kwargs: Any) -> bytes:
        """Render the template with ``kwargs`` as extra names; returns bytes."""
        namespace = dict(self._globals)
        namespace.update(self.namespace)
        namespace.update(kwargs)
        # Tracebacks through the generated code show its lines, whose trailing
        # comments name the template file and line that produced them.
        linecache.cache[self._filename] = (
            len(self.code),
            None,
            self._source_lines,
            self._filename,
        )
        render = types.FunctionType(self._render_code, namespace, _RENDER_FUNCTION)
        result: bytes = render()
        return result

    def _compile(self) -> types.CodeType:
        try:
            return compile(self.code, self._filename, "exec", dont_inherit=True)
        except Exception:
            app_log.error("%s code:\n%s", self.name, _numbered(self.code))
            raise

    def _generate_python(self, loader: BaseLoader | None) -> str:
        lineage = self._lineage(loader)
        blocks: dict[str, _NamedBlock] = {}
        # The most derived definition of each block wins, so walk from the
        # base template down to this one.
        for ancestor in reversed(lineage):
            ancestor.collect_blocks(loader, blocks)
        writer = _CodeWriter(loader, blocks, lineage[-1].template)
        lineage[-1].emit(writer)
        return writer.source()

    def _lineage(self, loader: BaseLoader | None) -> list[_File]:
        """This template's file followed by those it extends, base last."""
        lineage = [self.file]
        for node in self.file.body.nodes:
            if isinstance(node, _Extends):
                if loader is None:
                    raise ParseError(
                        "{% extends %} block found, but no template loader",
                        self.name,
                        node.line,
                    )
                parent = loader.load(node.name, self.name)
                lineage.extend(parent._lineage(loader))
        return lineage


def _choose_whitespace(
    name: str,
    loader: BaseLoader | None,
    compress_whitespace: bool | _UnsetMarker,
    whitespace: str | None,
) -> str:
    if not isinstance(compress_whitespace, _UnsetMarker):
        if whitespace is not None:
            raise ValueError("cannot set both whitespace and compress_whitespace")
        whitespace = "single" if compress_whitespace else "all"
    if whitespace is None:
        if loader is not None and loader.whitespace:
            whitespace = loader.whitespace
        elif name.endswith((".html", ".js")):
            whitespace = "single"
        else:
            whitespace = "all"
    filter_whitespace(whitespace, "")
    return whitespace


def _function_code(module_code: types.CodeType, name: str) -> types.CodeType:
    for constant in module_code.co_consts:
        if isinstance(constant, types.CodeType) and constant.co_name == name:
            return constant
    raise AssertionError(f"generated code defines no {name}()")


def _numbered(code: str) -> str:
    lines = code.rstrip().split("\n")
    return "\n".join(f"{number:4d}  {line}" for number, line in enumerate(lines, 1))


_RENDER_FUNCTION = "_tt_execute"

# Names every template can use; the loader's namespace and the keyword
# arguments of Template.generate are layered on top.
_BASE_NAMESPACE: dict[str, Any] = {
    "__builtins__": builtins,
    "escape": escape.xhtml_escape,
    "xhtml_escape": escape.xhtml_escape,
    "url_escape": escape.url_escape,
    "json_encode": escape.json_encode,
    "squeeze": escape.squeeze,
    "linkify": escape.linkify,
    "datetime": datetime,
    "_tt_utf8": escape.utf8,
}


class BaseLoader:
    """Base class for template loaders.

    A loader resolves template names, compiles each template the first time
    it is requested and caches it.  ``autoescape``, ``namespace`` and
    ``whitespace`` become the defaults of the templates it creates.
    Subclasses implement :meth:`resolve_path` and ``_create_template``.
    """

    def __init__(
        self,
        autoescape: str | None = _DEFAULT_AUTOESCAPE,
        namespace: dict[str, Any] | None = None,
        whitespace: str | None = None,
    ) -> None:
        self.autoescape = autoescape
        self.namespace = namespace or {}
        self.whitespace = whitespace
        self.templates: dict[str, Template] = {}
        # Reentrant because compiling one template loads those it extends or
        # includes; it also keeps two threads from compiling the same file.
        self.lock = threading.RLock()
        self._loading: list[str] = []

    def reset(self) -> None:
        """Forget every compiled template, so the next load re-reads them."""
        with self.lock:
            self.templates = {}

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Turn a (possibly relative) template name into a loader key.

        ``parent_path`` is the name of the template that refers to ``name``.
        """
        raise NotImplementedError()

    def load(self, name: str, parent_path: str | None = None) -> Template:
        """Return the compiled template ``name``, compiling it on first use."""
        name = self.resolve_path(name, parent_path=parent_path)
        with self.lock:
            template = self.templates.get(name)
            if template is None:
                template = self._compile_once(name)
                self.templates[name] = template
            return template

    def _compile_once(self, name: str) -> Template:
        if name in self._loading:
            chain = " -> ".join([*self._loading, name])
            raise ParseError(f"template extends or includes itself ({chain})", name)
        self._loading.append(name)
        try:
            return self._create_template(name)
        finally:
            self._loading.pop()

    def _create_template(self, name: str) -> Template:
        raise NotImplementedError()


class Loader(BaseLoader):
    """A template loader that reads files below ``root_directory``."""

    def __init__(self, root_directory: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = os.path.abspath(root_directory)

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Resolve ``name`` relative to the directory of ``parent_path``."""
        if _is_relative_reference(name, parent_path):
            assert parent_path is not None
            parent_dir = os.path.dirname(os.path.join(self.root, parent_path))
            candidate = os.path.abspath(os.path.join(parent_dir, name))
            if candidate.startswith(os.path.join(self.root, "")):
                name = candidate[len(self.root) + 1 :]
        return name

    def _create_template(self, name: str) -> Template:
        with open(os.path.join(self.root, name), "rb") as f:
            return Template(f.read(), name=name, loader=self)


class DictLoader(BaseLoader):
    """A template loader whose templates are the values of a dict."""

    def __init__(self, dict: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dict = dict

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Resolve ``name`` relative to the "directory" of ``parent_path``."""
        if _is_relative_reference(name, parent_path):
            assert parent_path is not None
            name = posixpath.normpath(
                posixpath.join(posixpath.dirname(parent_path), name)
            )
        return name

    def _create_template(self, name: str) -> Template:
        return Template(self.dict[name], name=name, loader=self)


def _is_relative_reference(name: str, parent_path: str | None) -> bool:
    return bool(
        parent_path
        and not parent_path.startswith(("<", "/"))
        and not name.startswith("/")
    )


# ---------------------------------------------------------------------------
# Code generation


class _CodeWriter:
    """Accumulates the generated Python source, one annotated line at a time."""

    def __init__(
        self,
        loader: BaseLoader | None,
        blocks: dict[str, _NamedBlock],
        template: Template,
    ) -> None:
        self.loader = loader
        self.blocks = blocks
        self.template = template
        self.apply_count = 0
        self._lines: list[str] = []
        self._depth = 0
        self._suite_starts: list[int] = []
        self._via: list[tuple[Template, int]] = []

    def source(self) -> str:
        return "".join(line + "\n" for line in self._lines)

    def write(self, code: str, line: int, depth: int | None = None) -> None:
        """Append ``code``, commented with the template line it came from."""
        origin = f"{self.template.name}:{line}"
        if self._via:
            outer = ", ".join(f"{t.name}:{n}" for t, n in reversed(self._via))
            origin += f" (via {outer})"
        indent = "    " * (self._depth if depth is None else depth)
        self._lines.append(f"{indent}{code}  # {origin}")

    @contextmanager
    def suite(self, header: str, line: int) -> Iterator[None]:
        """Write ``header:`` and indent what is written inside the block."""
        self.write(header + ":", line)
        self._depth += 1
        self._suite_starts.append(len(self._lines))
        try:
            yield
        finally:
            self.complete_suite(line)
            self._suite_starts.pop()
            self._depth -= 1

    def next_clause(self, header: str, line: int) -> None:
        """Close the current suite and open ``header:`` (``else``, ...)."""
        self.complete_suite(line)
        self.write(header + ":", line, depth=self._depth - 1)
        self._suite_starts[-1] = len(self._lines)

    def complete_suite(self, line: int) -> None:
        """Add ``pass`` if nothing was written since the suite opened."""
        if self._suite_starts and self._suite_starts[-1] == len(self._lines):
            self.write("pass", line)

    @contextmanager
    def inside(self, template: Template, line: int) -> Iterator[None]:
        """Attribute lines to ``template``, reached from ``line`` of the current."""
        self._via.append((self.template, line))
        self.template = template
        try:
            yield
        finally:
            self.template = self._via.pop()[0]

    def buffered_function(self, name: str, line: int, body: _Body) -> None:
        """Define ``name()`` rendering ``body`` and returning its bytes."""
        with self.suite(f"def {name}()", line):
            self.write("_tt_buffer = []", line)
            self.write("_tt_append = _tt_buffer.append", line)
            body.emit(self)
            self.write("return b''.join(_tt_buffer)", line)


class _Node:
    """A piece of a parsed template."""

    line = 0

    def children(self) -> Iterable[_Node]:
        return ()

    def emit(self, writer: _CodeWriter) -> None:
        raise NotImplementedError()

    def collect_blocks(
        self, loader: BaseLoader | None, blocks: dict[str, _NamedBlock]
    ) -> None:
        for child in self.children():
            child.collect_blocks(loader, blocks)


class _Body(_Node):
    def __init__(self) -> None:
        self.nodes: list[_Node] = []

    def children(self) -> Iterable[_Node]:
        return self.nodes

    def emit(self, writer: _CodeWriter) -> None:
        for node in self.nodes:
            node.emit(writer)


class _File(_Node):
    def __init__(self, template: Template, body: _Body) -> None:
        self.template = template
        self.body = body
        self.line = 0

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, writer: _CodeWriter) -> None:
        writer.buffered_function(_RENDER_FUNCTION, self.line, self.body)


class _Text(_Node):
    def __init__(self, text: str, line: int, whitespace: str) -> None:
        self.text = text
        self.line = line
        self.whitespace = whitespace

    def emit(self, writer: _CodeWriter) -> None:
        text = self.text
        # Crude but useful: leave preformatted text exactly as written.
        if "<pre>" not in text:
            text = filter_whitespace(self.whitespace, text)
        if text:
            writer.write(f"_tt_append({escape.utf8(text)!r})", self.line)


class _Expression(_Node):
    def __init__(self, expression: str, line: int, raw: bool = False) -> None:
        self.expression = expression
        self.line = line
        self.raw = raw

    def emit(self, writer: _CodeWriter) -> None:
        line = self.line
        writer.write(f"_tt_tmp = {self.expression}", line)
        # Values become UTF-8 bytes (what escaping functions receive).
        writer.write("if isinstance(_tt_tmp, str): _tt_tmp = _tt_tmp.encode()", line)
        writer.write(
            "elif not isinstance(_tt_tmp, bytes): _tt_tmp = str(_tt_tmp).encode()",
            line,
        )
        autoescape = writer.template.autoescape
        if not self.raw and autoescape is not None:
            writer.write(f"_tt_append(_tt_utf8({autoescape}(_tt_tmp)))", line)
        else:
            writer.write("_tt_append(_tt_tmp)", line)


class _Statement(_Node):
    def __init__(self, statement: str, line: int) -> None:
        self.statement = statement
        self.line = line

    def emit(self, writer: _CodeWriter) -> None:
        writer.write(self.statement, self.line)


class _ControlBlock(_Node):
    """``if``/``for``/``while``/``try`` with its body (clauses included)."""

    def __init__(self, header: str, line: int, body: _Body) -> None:
        self.header = header
        self.line = line
        self.body = body

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, writer: _CodeWriter) -> None:
        with writer.suite(self.header, self.line):
            self.body.emit(writer)


class _Clause(_Node):
    """``else``/``elif``/``except``/``finally`` inside a control block."""

    def __init__(self, header: str, line: int) -> None:
        self.header = header
        self.line = line

    def emit(self, writer: _CodeWriter) -> None:
        writer.next_clause(self.header, self.line)


class _Apply(_Node):
    def __init__(self, function: str, line: int, body: _Body) -> None:
        self.function = function
        self.line = line
        self.body = body

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, writer: _CodeWriter) -> None:
        name = f"_tt_apply{writer.apply_count}"
        writer.apply_count += 1
        writer.buffered_function(name, self.line, self.body)
        writer.write(f"_tt_append(_tt_utf8({self.function}({name}())))", self.line)


class _NamedBlock(_Node):
    def __init__(self, name: str, body: _Body, template: Template, line: int) -> None:
        self.name = name
        self.body = body
        self.template = template
        self.line = line

    def children(self) -> Iterable[_Node]:
        return (self.body,)

    def emit(self, writer: _CodeWriter) -> None:
        chosen = writer.blocks[self.name]
        with writer.inside(chosen.template, self.line):
            chosen.body.emit(writer)

    def collect_blocks(
        self, loader: BaseLoader | None, blocks: dict[str, _NamedBlock]
    ) -> None:
        blocks[self.name] = self
        super().collect_blocks(loader, blocks)


class _Extends(_Node):
    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self.line = line

    def emit(self, writer: _CodeWriter) -> None:
        pass


class _Include(_Node):
    def __init__(self, name: str, parent_name: str, line: int) -> None:
        self.name = name
        self.parent_name = parent_name
        self.line = line

    def _load(self, loader: BaseLoader | None) -> Template:
        if loader is None:
            raise ParseError(
                "{% include %} block found, but no template loader",
                self.parent_name,
                self.line,
            )
        return loader.load(self.name, self.parent_name)

    def emit(self, writer: _CodeWriter) -> None:
        included = self._load(writer.loader)
        with writer.inside(included, self.line):
            included.file.body.emit(writer)

    def collect_blocks(
        self, loader: BaseLoader | None, blocks: dict[str, _NamedBlock]
    ) -> None:
        self._load(loader).file.collect_blocks(loader, blocks)


# ---------------------------------------------------------------------------
# Parsing


class _Source:
    """The text of a template with a cursor and the current line number."""

    def __init__(self, name: str, text: str, whitespace: str) -> None:
        self.name = name
        self.text = text
        self.whitespace = whitespace
        self.line = 1
        self.pos = 0

    def find(self, needle: str, start: int = 0) -> int:
        """Offset of ``needle`` from the cursor, or -1."""
        index = self.text.find(needle, self.pos + start)
        return -1 if index < 0 else index - self.pos

    def char(self, offset: int) -> str:
        """The character ``offset`` places past the cursor ('' past the end)."""
        return self.text[self.pos + offset : self.pos + offset + 1]

    def remaining(self) -> int:
        return len(self.text) - self.pos

    def take(self, count: int | None = None) -> str:
        """Consume ``count`` characters (all that remain by default)."""
        end = len(self.text) if count is None else self.pos + count
        taken = self.text[self.pos : end]
        self.pos = end
        self.line += taken.count("\n")
        return taken

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise ParseError(message, self.name, self.line if line is None else line)


# Clause keywords and the blocks they may continue.
_CLAUSE_PARENTS = {
    "else": ("if", "for", "while", "try"),
    "elif": ("if",),
    "except": ("try",),
    "finally": ("try",),
}
_LOOPS = ("for", "while")
_TAG_SECOND_CHARS = ("{", "%", "#")


class _End:
    """Returned by a directive handler for ``{% end %}``."""


_END = _End()

_Handler = Callable[["_Parser", "_Tag"], _Node | None | _End]


class _Tag:
    """A ``{% keyword argument %}`` tag and the context it appears in."""

    def __init__(
        self,
        keyword: str,
        argument: str,
        contents: str,
        line: int,
        block: str | None,
        in_loop: bool,
    ) -> None:
        self.keyword = keyword
        self.argument = argument
        self.contents = contents
        self.line = line
        self.block = block
        self.in_loop = in_loop


class _Parser:
    """Builds the node tree of one template file."""

    def __init__(self, source: _Source, template: Template) -> None:
        self.source = source
        self.template = template

    def parse(
        self, block: str | None = None, block_line: int = 0, in_loop: bool = False
    ) -> _Body:
        """Parse until the end of input, or the ``{% end %}`` of ``block``."""
        source = self.source
        body = _Body()
        while True:
            start = self._next_tag()
            if start < 0:
                if block:
                    source.fail(f"Missing {{% end %}} block for {block}", block_line)
                line = source.line
                body.nodes.append(_Text(source.take(), line, source.whitespace))
                return body
            if start > 0:
                line = source.line
                body.nodes.append(_Text(source.take(start), line, source.whitespace))
            opener = source.take(2)
            line = source.line
            if source.char(0) == "!":
                # "{{!" and "{%!" stand for a literal "{{" or "{%".
                source.take(1)
                body.nodes.append(_Text(opener, line, source.whitespace))
            elif opener == "{#":
                self._contents_until("#}", "Missing end comment #}")
            elif opener == "{{":
                contents = self._contents_until("}}", "Missing end expression }}")
                if not contents:
                    source.fail("Empty expression", line)
                body.nodes.append(_Expression(contents, line))
            else:
                node = self._directive(line, block, in_loop)
                if isinstance(node, _End):
                    return body
                if node is not None:
                    body.nodes.append(node)

    def _next_tag(self) -> int:
        """Offset of the next "{{", "{%" or "{#", or -1 if there is none."""
        source = self.source
        offset = 0
        while True:
            offset = source.find("{", offset)
            if offset < 0 or offset + 1 == source.remaining():
                return -1
            second = source.char(offset + 1)
            # Of three or more braces in a row the innermost pair opens the
            # tag, which keeps brace-heavy output (LaTeX, JS) writable.
            if second not in _TAG_SECOND_CHARS or (
                second == "{" and source.char(offset + 2) == "{"
            ):
                offset += 1
                continue
            return offset

    def _contents_until(self, closer: str, error: str) -> str:
        end = self.source.find(closer)
        if end < 0:
            self.source.fail(error)
        contents = self.source.take(end).strip()
        self.source.take(len(closer))
        return contents

    def _directive(
        self, line: int, block: str | None, in_loop: bool
    ) -> _Node | None | _End:
        contents = self._contents_until("%}", "Missing end block %}")
        if not contents:
            self.source.fail("Empty block tag ({% %})", line)
        keyword, _, argument = contents.partition(" ")
        tag = _Tag(keyword, argument.strip(), contents, line, block, in_loop)
        if keyword in _CLAUSE_PARENTS:
            return self._clause(tag)
        handler = _HANDLERS.get(keyword)
        if handler is None:
            self.source.fail(f"unknown operator: {keyword!r}", line)
        return handler(self, tag)

    def _require_argument(self, tag: _Tag, what: str) -> str:
        if not tag.argument:
            self.source.fail(f"{tag.keyword} missing {what}", tag.line)
        return tag.argument

    def _clause(self, tag: _Tag) -> _Node:
        parents = _CLAUSE_PARENTS[tag.keyword]
        if not tag.block:
            self.source.fail(
                f"{tag.keyword} outside {'/'.join(parents)} block", tag.line
            )
        if tag.block not in parents:
            self.source.fail(
                f"{tag.keyword} block cannot be attached to {tag.block} block",
                tag.line,
            )
        if tag.keyword == "elif":
            self._require_argument(tag, "condition")
        return _Clause(tag.contents, tag.line)

    def _end(self, tag: _Tag) -> _End:
        if not tag.block:
            self.source.fail("Extra {% end %} block", tag.line)
        return _END

    def _comment(self, tag: _Tag) -> None:
        return None

    def _extends(self, tag: _Tag) -> _Node:
        path = tag.argument.strip("\"'")
        if not path:
            self.source.fail("extends missing file path", tag.line)
        return _Extends(path, tag.line)

    def _include(self, tag: _Tag) -> _Node:
        path = tag.argument.strip("\"'")
        if not path:
            self.source.fail("include missing file path", tag.line)
        return _Include(path, self.source.name, tag.line)

    def _import(self, tag: _Tag) -> _Node:
        self._require_argument(tag, "statement")
        return _Statement(tag.contents, tag.line)

    def _set(self, tag: _Tag) -> _Node:
        return _Statement(self._require_argument(tag, "statement"), tag.line)

    def _autoescape(self, tag: _Tag) -> None:
        function = self._require_argument(tag, "function name (or None)")
        self.template.autoescape = None if function == "None" else function

    def _whitespace(self, tag: _Tag) -> None:
        mode = self._require_argument(tag, "mode")
        try:
            filter_whitespace(mode, "")
        except ValueError as e:
            self.source.fail(str(e), tag.line)
        self.source.whitespace = mode

    def _raw(self, tag: _Tag) -> _Node:
        expression = self._require_argument(tag, "expression")
        return _Expression(expression, tag.line, raw=True)

    def _module(self, tag: _Tag) -> _Node:
        expression = self._require_argument(tag, "expression")
        return _Expression("_tt_modules." + expression, tag.line, raw=True)

    def _break(self, tag: _Tag) -> _Node:
        if not tag.in_loop:
            self.source.fail(
                f"{tag.keyword} outside {'/'.join(_LOOPS)} block", tag.line
            )
        return _Statement(tag.contents, tag.line)

    def _nested(self, tag: _Tag, in_loop: bool) -> _Body:
        return self.parse(tag.keyword, tag.line, in_loop)

    def _control(self, tag: _Tag) -> _Node:
        if tag.keyword != "try":
            self._require_argument(tag, "expression")
        in_loop = tag.in_loop or tag.keyword in _LOOPS
        return _ControlBlock(tag.contents, tag.line, self._nested(tag, in_loop))

    def _apply(self, tag: _Tag) -> _Node:
        function = self._require_argument(tag, "method name")
        # The body becomes a nested function, so loops outside it cannot be
        # continued from inside.
        return _Apply(function, tag.line, self._nested(tag, in_loop=False))

    def _block(self, tag: _Tag) -> _Node:
        name = self._require_argument(tag, "name")
        body = self._nested(tag, tag.in_loop)
        return _NamedBlock(name, body, self.template, tag.line)


_HANDLERS: dict[str, _Handler] = {
    "end": _Parser._end,
    "comment": _Parser._comment,
    "extends": _Parser._extends,
    "include": _Parser._include,
    "import": _Parser._import,
    "from": _Parser._import,
    "set": _Parser._set,
    "autoescape": _Parser._autoescape,
    "whitespace": _Parser._whitespace,
    "raw": _Parser._raw,
    "module": _Parser._module,
    "break": _Parser._break,
    "continue": _Parser._break,
    "if": _Parser._control,
    "for": _Parser._control,
    "while": _Parser._control,
    "try": _Parser._control,
    "apply": _Parser._apply,
    "block": _Parser._block,
}
