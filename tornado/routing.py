"""Request routing: pick the code that handles each HTTP request.

A `Router` is an `.HTTPServerConnectionDelegate` (so it can be given to
``tornado.httpserver.HTTPServer`` directly) whose `~Router.find_handler`
method looks at a request's start line and headers and returns the
`.HTTPMessageDelegate` that will receive the rest of the request.

`RuleRouter` implements this with an ordered list of `Rule` objects.  Each
rule pairs a `Matcher` (`PathMatches`, `HostMatches`, `AnyMatches`, ... or
your own) with a target; the first rule whose matcher accepts the request
wins.  A target may be:

* another `Router` (``tornado.web.Application`` is one), asked in turn;
* any other `.HTTPServerConnectionDelegate`, which starts the request;
* a callable taking an `.HTTPServerRequest`, called once the whole body has
  arrived, plus the keyword arguments the matcher produced
  (``path_args``/``path_kwargs`` for `PathMatches` with groups).

For example, to send ``/app1/...`` to one application and everything else
to a plain function::

    router = RuleRouter([
        Rule(PathMatches("/app1/.*"), app1),
        Rule(AnyMatches(), handle_everything_else),
    ])
    server = HTTPServer(router)

Rules may also be written as tuples: ``(matcher, target[, target_kwargs[,
name]])``, where a string in first position is taken as a path pattern.

`ReversibleRuleRouter` adds `~ReversibleRouter.reverse_url`, which turns a
rule's name and arguments back into a URL.  `URLSpec` is the rule type that
``tornado.web.Application`` uses for its handler lists.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from functools import partial
from re import Pattern
from typing import (
    Any,
    Union,
    cast,
    overload,
)

from tornado import httputil
from tornado.escape import url_escape, url_unescape, utf8
from tornado.httpserver import _CallableAdapter
from tornado.log import app_log
from tornado.util import import_object, re_unescape

__all__ = [
    "Router",
    "ReversibleRouter",
    "RuleRouter",
    "ReversibleRuleRouter",
    "Rule",
    "Matcher",
    "AnyMatches",
    "HostMatches",
    "DefaultHostMatches",
    "PathMatches",
    "URLSpec",
]

_StartLine = httputil.RequestStartLine | httputil.ResponseStartLine


class Router(httputil.HTTPServerConnectionDelegate):
    """Base class of routers: chooses a message delegate for each request."""

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> httputil.HTTPMessageDelegate | None:
        """Return the delegate that should handle ``request``, or ``None``.

        ``request`` carries the start line and headers only; its body has
        not been read yet.  ``kwargs`` are routing parameters handed down by
        an enclosing router (for instance ``path_args`` and ``path_kwargs``).
        Returning ``None`` makes the server answer 404.
        """
        raise NotImplementedError()

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        """Return a delegate that routes the request once its headers arrive."""
        return _RouteOnHeaders(self, server_conn, request_conn)


class ReversibleRouter(Router):
    """A router that can also build URLs from route names."""

    def reverse_url(self, name: str, *args: Any) -> str | None:
        """Return the URL of the route ``name`` filled with ``args``.

        Returns ``None`` when no route has that name.
        """
        raise NotImplementedError()


class _RouteOnHeaders(httputil.HTTPMessageDelegate):
    """The delegate of a request until its head says where it goes.

    Once the start line and headers are in, the router's `~Router.find_handler`
    picks the delegate that receives the rest of the message.  When it picks
    none, the body is discarded and this object answers 404 itself.
    """

    __slots__ = ("_router", "_server_conn", "_connection", "_target")

    def __init__(
        self,
        router: Router,
        server_conn: object,
        connection: httputil.HTTPConnection,
    ) -> None:
        self._router = router
        self._server_conn = server_conn
        self._connection = connection
        self._target: httputil.HTTPMessageDelegate | None = None

    def headers_received(
        self, start_line: _StartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, httputil.RequestStartLine)
        self._target = self._router.find_handler(
            httputil.HTTPServerRequest(
                connection=self._connection,
                server_connection=self._server_conn,
                start_line=start_line,
                headers=headers,
            )
        )
        if self._target is None:
            app_log.debug(
                "Delegate for %s %s request not found",
                start_line.method,
                start_line.path,
            )
            return None
        return self._target.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self._target is None:
            return None  # the body of an unrouted request
        return self._target.data_received(chunk)

    def finish(self) -> None:
        if self._target is None:
            _answer_not_found(self._connection)
        else:
            self._target.finish()

    def on_connection_close(self) -> None:
        # Also called when the client leaves before sending a head.
        if self._target is not None:
            self._target.on_connection_close()


def _answer_not_found(connection: httputil.HTTPConnection) -> None:
    """The bare 404 of a request that no rule accepted."""
    connection.write_headers(
        httputil.ResponseStartLine("HTTP/1.1", 404, "Not Found"),
        httputil.HTTPHeaders(),
    )
    connection.finish()


class RuleRouter(Router):
    """A router that tries an ordered list of `Rule` objects.

    ``rules`` is as for `add_rules`.
    """

    def __init__(self, rules: _RuleList | None = None) -> None:
        #: The rules, in the order they are tried.  Changing the list (or a
        #: rule's matcher) takes effect for the next request.
        self.rules: list[Rule] = _RuleSequence()
        if rules:
            self.add_rules(rules)

    def add_rules(self, rules: _RuleList) -> None:
        """Append ``rules`` to the rule list.

        Each entry is a `Rule` or a tuple/list ``(matcher, target[,
        target_kwargs[, name]])`` of the arguments of `Rule`; when the first
        item is a string it is taken as a `PathMatches` pattern.  Every rule
        goes through `process_rule` before being stored.
        """
        for rule in rules:
            if isinstance(rule, (tuple, list)):
                rule = _rule_from_sequence(rule)
            self.rules.append(self.process_rule(rule))

    def process_rule(self, rule: Rule) -> Rule:
        """Hook to adjust or replace each rule as it is added.

        The default returns ``rule`` unchanged.
        """
        return rule

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> httputil.HTTPMessageDelegate | None:
        """Return the delegate of the first rule that accepts ``request``.

        A rule whose matcher matches but whose target yields no delegate
        (for instance a nested router without a match) is skipped.
        """
        rules = self.rules
        path = request.path
        if type(rules) is _RuleSequence and path[-1:] != "\n":
            if rules._index_generation != _generation:
                rules._build_index()
            candidates, others_start = rules._by_literal.get(
                path, rules._without_literal
            )
        else:
            candidates, others_start = [(rule, rule.matcher) for rule in rules], -1
        delegate = self._first_delegate(candidates, request)
        if delegate is None and others_start >= 0:
            rest = cast(_RuleSequence, rules).others_from(others_start)
            if rest:
                delegate = self._first_delegate(rest, request)
        return delegate

    def _first_delegate(
        self, candidates: list[_Candidate], request: httputil.HTTPServerRequest
    ) -> httputil.HTTPMessageDelegate | None:
        for rule, matcher in candidates:
            target_params = {} if matcher is None else matcher.match(request)
            if target_params is None:
                continue
            if rule.target_kwargs:
                target_params["target_kwargs"] = rule.target_kwargs
            delegate = self.get_target_delegate(rule.target, request, **target_params)
            if delegate is not None:
                return delegate
        return None

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> httputil.HTTPMessageDelegate | None:
        """Return the delegate for ``target``, or ``None`` if it gives none.

        ``target_params`` are what the matcher returned, plus the rule's
        ``target_kwargs`` if it has any.  Routers are asked with
        `~Router.find_handler`, other connection delegates start the request,
        and callables receive the finished request (with ``target_params`` as
        keyword arguments).  Subclasses can support more kinds of target.
        """
        if isinstance(target, Router):
            return target.find_handler(request, **target_params)
        if isinstance(target, httputil.HTTPServerConnectionDelegate):
            assert request.connection is not None
            return target.start_request(request.server_connection, request.connection)
        if callable(target):
            assert request.connection is not None
            return _CallableAdapter(
                partial(target, **target_params), request.connection
            )
        return None


class ReversibleRuleRouter(ReversibleRouter, RuleRouter):
    """A rule router that can build URLs from the names of its rules.

    Named rules are remembered as they are added; `reverse_url` also asks
    nested reversible routers.
    """

    def __init__(self, rules: _RuleList | None = None) -> None:
        #: Rules with a name, by name.
        self.named_rules: dict[str, Rule] = {}
        super().__init__(rules)

    def process_rule(self, rule: Rule) -> Rule:
        """Record ``rule`` under its name, if it has one.

        A second rule with the same name replaces the first, with a warning.
        """
        rule = super().process_rule(rule)
        if rule.name:
            if rule.name in self.named_rules:
                app_log.warning(
                    "Multiple handlers named %s; replacing previous value", rule.name
                )
            self.named_rules[rule.name] = rule
        return rule

    def reverse_url(self, name: str, *args: Any) -> str | None:
        """Return the URL of the rule called ``name`` filled with ``args``.

        Rules of this router come first, then nested reversible routers in
        rule order.  Returns ``None`` if nothing has that name.
        """
        if name in self.named_rules:
            return self.named_rules[name].matcher.reverse(*args)
        for rule in self.rules:
            if isinstance(rule.target, ReversibleRouter):
                url = rule.target.reverse_url(name, *args)
                if url is not None:
                    return url
        return None


# Bumped by every change to a rule list, a rule's matcher or a path pattern:
# an index of rules built at an older generation is rebuilt before use.
_generation = 0


def _rules_changed() -> None:
    global _generation
    _generation += 1


def _changes_rules(name: str) -> Any:
    """A list method that also marks the indexes of rules as stale."""
    method = getattr(list, name)

    def changing(self: list[Any], *args: Any) -> Any:
        _rules_changed()
        return method(self, *args)

    changing.__name__ = name
    changing.__doc__ = method.__doc__
    return changing


# One candidate rule for a path, with the matcher to ask, or None when the
# rule is known to match (a literal path pattern equal to the path).
_Candidate = tuple["Rule", Union["Matcher", None]]


class _RuleSequence(list["Rule"]):
    r"""The list of a `RuleRouter`'s rules, indexed by literal path patterns.

    A rule whose matcher is a `PathMatches` with a pattern of plain text
    (``"/about"``, ``r"/robots\.txt"``) matches one path only.  The other
    rules (other patterns, host matchers, ...) could match anything: they
    are the "others".  For each literal path the index holds the rules a
    request for it must be tried with, in list order, up to the last rule
    with that literal: those rules and the others before them.  After them
    come the remaining others.  So the first rule to accept a request is
    always the one a walk down the list would find, and a list of literal
    patterns is searched with one dict look-up.
    """

    _index_generation = -1
    # Literal path -> (its candidates, how many of _others they include).
    _by_literal: dict[str, tuple[list[_Candidate], int]]
    # The candidates of a path that no literal pattern names (all of them).
    _without_literal: tuple[list[_Candidate], int]
    _others: list[_Candidate]

    def others_from(self, start: int) -> list[_Candidate]:
        """The rules that could match any path, from the ``start``-th on."""
        return self._others[start:]

    def _build_index(self) -> None:
        by_literal: dict[str, tuple[list[_Candidate], int]] = {}
        others: list[_Candidate] = []
        for rule in self:
            literal = _rule_literal(rule)
            if literal is None:
                others.append((rule, rule.matcher))
                continue
            candidates, taken = by_literal.get(literal, ([], 0))
            candidates.extend(others[taken:])
            candidates.append((rule, None))
            by_literal[literal] = (candidates, len(others))
        self._by_literal, self._others = by_literal, others
        self._without_literal = (others, -1)
        self._index_generation = _generation


for _name in (
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__imul__",
    "append",
    "clear",
    "extend",
    "insert",
    "pop",
    "remove",
    "reverse",
    "sort",
):
    setattr(_RuleSequence, _name, _changes_rules(_name))
del _name


def _rule_literal(rule: Rule) -> str | None:
    """The one path ``rule`` accepts, if its matcher is a literal `PathMatches`."""
    matcher = rule.matcher
    if type(matcher).match is not PathMatches.match:
        return None  # a matcher of another kind, or one that overrides match
    return cast(PathMatches, matcher)._literal


# Characters that stand for themselves in a pattern (without re.VERBOSE).
_PLAIN_PATTERN_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "/-_~%=&,;:@!'\"<>#` "
)


def _literal_path(regex: Pattern[str]) -> str | None:
    r"""The only path ``regex`` matches up to its end, if it is plain text.

    ``"/about$"`` gives ``"/about"``, ``r"/robots\.txt$"`` gives
    ``"/robots.txt"``; a pattern with groups, flags, classes, repetitions
    and the like gives ``None``.  (``$`` also matches before a final
    newline: callers do not use the answer for a path ending with one.)
    """
    pattern = regex.pattern
    if regex.flags != re.UNICODE or not pattern.endswith("$"):
        return None
    text: list[str] = []
    chars = iter(pattern[1:-1] if pattern.startswith("^") else pattern[:-1])
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            if not char or char.isascii() and char.isalnum():
                return None  # \d, \1, \A, a final \$...: not a literal character
        elif char not in _PLAIN_PATTERN_CHARS and char.isascii():
            return None
        text.append(char)
    return "".join(text)


class Rule:
    """A routing rule: a matcher, a target and its options."""

    def __init__(
        self,
        matcher: Matcher,
        target: Any,
        target_kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        """Create a rule sending requests accepted by ``matcher`` to ``target``.

        ``target`` is any kind of target a `RuleRouter` accepts, or the
        dotted name of one (imported now).  ``target_kwargs`` are extra
        arguments given to the target when it is created (the handler's
        ``initialize`` for ``tornado.web``).  ``name`` is used by
        `ReversibleRuleRouter.reverse_url`.
        """
        if isinstance(target, str):
            target = import_object(target)
        self.matcher = matcher
        #: What accepted requests are sent to.
        self.target = target
        #: Extra arguments for the target (an empty dict if none).
        self.target_kwargs: dict[str, Any] = target_kwargs if target_kwargs else {}
        #: The rule's name for reversing, or ``None``.
        self.name = name

    @property
    def matcher(self) -> Matcher:
        """The `Matcher` deciding which requests this rule accepts."""
        return self._matcher

    @matcher.setter
    def matcher(self, matcher: Matcher) -> None:
        self._matcher = matcher
        _rules_changed()

    def reverse(self, *args: Any) -> str | None:
        """Build a URL from ``args`` with the rule's matcher."""
        return self.matcher.reverse(*args)

    def __repr__(self) -> str:
        """Show the matcher, target, arguments and name of the rule."""
        return (
            f"{type(self).__name__}({self.matcher!r}, {self.target}, "
            f"kwargs={self.target_kwargs!r}, name={self.name!r})"
        )


_MatcherSpec = Union[str, Pattern[str], "Matcher"]
_RuleSpec = (
    Rule
    | list[Any]
    | tuple[_MatcherSpec, Any]
    | tuple[_MatcherSpec, Any, dict[str, Any]]
    | tuple[_MatcherSpec, Any, dict[str, Any], str]
)
_RuleList = Sequence[_RuleSpec]


def _rule_from_sequence(spec: list[Any] | tuple[Any, ...]) -> Rule:
    """Build a `Rule` from ``(matcher or path pattern, target, [kwargs, [name]])``."""
    if not 2 <= len(spec) <= 4:
        raise ValueError(
            "a rule must be (matcher, target[, target_kwargs[, name]]), "
            f"got {len(spec)} items: {spec!r}"
        )
    matcher, *rest = spec
    if isinstance(matcher, (str, re.Pattern)):
        matcher = PathMatches(matcher)
    return Rule(matcher, *rest)


class Matcher:
    """Decides whether a request is accepted by a rule."""

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return the parameters for the target if ``request`` matches.

        A matching request yields a dict (possibly empty) of keyword
        arguments for the target; ``None`` means no match.
        """
        raise NotImplementedError()

    def reverse(self, *args: Any) -> str | None:
        """Build a URL from ``args``; ``None`` if this matcher cannot."""
        return None


class AnyMatches(Matcher):
    """Accepts every request."""

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Always return an empty parameter dict."""
        return {}


def _compile_anchored(pattern: str | Pattern[str]) -> Pattern[str]:
    """Compile ``pattern`` so that it must match up to the end of the string.

    A string gets ``$`` appended if it doesn't end with one; an already
    compiled pattern is used as it is.
    """
    if isinstance(pattern, str):
        if not pattern.endswith("$"):
            pattern += "$"
        return re.compile(pattern)
    return pattern


class HostMatches(Matcher):
    """Accepts requests whose host name matches a regular expression."""

    def __init__(self, host_pattern: str | Pattern[str]) -> None:
        """``host_pattern`` is a regex string (anchored at the end) or compiled."""
        #: The compiled host pattern.
        self.host_pattern = _compile_anchored(host_pattern)

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Match the request's host name (lowercased, without the port)."""
        if self.host_pattern.match(request.host_name):
            return {}
        return None


class DefaultHostMatches(Matcher):
    """Accepts requests when the application's ``default_host`` matches.

    Requests carrying an ``X-Real-Ip`` header (so coming through a proxy)
    never match: the fallback to the default host is meant for direct
    access, e.g. while developing.
    """

    def __init__(self, application: Any, host_pattern: Pattern[str]) -> None:
        """Compare ``application.default_host`` with ``host_pattern``."""
        #: The application whose ``default_host`` is checked.
        self.application = application
        #: The compiled host pattern.
        self.host_pattern = host_pattern

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return ``{}`` if the default host matches and no proxy is involved."""
        if "X-Real-Ip" not in request.headers:
            if self.host_pattern.match(self.application.default_host):
                return {}
        return None


@overload
def _unquote_or_none(s: str) -> bytes: ...


@overload
def _unquote_or_none(s: None) -> None: ...


def _unquote_or_none(s: str | None) -> bytes | None:
    """Percent-decode a captured path group to bytes; ``None`` stays ``None``.

    ``None`` comes from an optional group that did not take part in the
    match.  ``+`` is literal in paths.
    """
    if s is None:
        return None
    return url_unescape(s, encoding=None, plus=False)


class PathMatches(Matcher):
    """Accepts requests whose path matches a regular expression.

    Groups in the pattern become arguments of the target: positional
    groups give ``path_args``, named groups ``path_kwargs`` (a pattern may
    not mix both).  Captured values are percent-decoded to `bytes`; a group
    that did not participate is ``None``.
    """

    def __init__(self, path_pattern: str | Pattern[str]) -> None:
        """``path_pattern`` is a regex string (anchored at the end) or compiled.

        Raises `ValueError` if it mixes named and unnamed groups.
        """
        self.regex = _compile_anchored(path_pattern)
        if len(self.regex.groupindex) not in (0, self.regex.groups):
            raise ValueError(
                "groups in url regexes must either be all named or all "
                f"positional: {self.regex.pattern!r}"
            )
        self._path, self._group_count = self._find_groups()

    @property
    def regex(self) -> Pattern[str]:
        """The compiled path pattern."""
        return self._regex

    @regex.setter
    def regex(self, regex: Pattern[str]) -> None:
        self._regex = regex
        self._literal = _literal_path(regex)
        _rules_changed()

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        """Return ``path_args``/``path_kwargs`` if the request path matches.

        A pattern without groups gives ``{}``.
        """
        regex = self._regex
        found = regex.match(request.path)
        if found is None:
            return None
        if not regex.groups:
            return {}
        path_args: list[bytes | None] = []
        path_kwargs: dict[str, bytes | None] = {}
        if regex.groupindex:
            path_kwargs = {
                str(key): _unquote_or_none(value)
                for key, value in found.groupdict().items()
            }
        else:
            path_args = [_unquote_or_none(value) for value in found.groups()]
        return dict(path_args=path_args, path_kwargs=path_kwargs)

    def reverse(self, *args: Any) -> str | None:
        """Build a path by putting ``args`` in place of the pattern's groups.

        Arguments are converted with `str` (unless already `str` or `bytes`)
        and percent-encoded.  Raises `ValueError` if the pattern is too
        complex to be reversed or if the number of arguments is not the
        number of groups.
        """
        if self._path is None:
            raise ValueError("Cannot reverse url regex " + self.regex.pattern)
        if len(args) != self._group_count:
            raise ValueError(
                f"url regex {self.regex.pattern!r} needs {self._group_count} "
                f"arguments to be reversed, got {len(args)}"
            )
        escaped = tuple(url_escape(_as_url_part(arg), plus=False) for arg in args)
        return self._path % escaped

    def _find_groups(self) -> tuple[str | None, int | None]:
        """Turn the pattern into a ``%s`` template for `reverse`.

        Only simple patterns can be reversed: literal text (possibly with
        regex escapes) and non-nested groups.  For anything else (nested or
        non-capturing groups, escapes such as ``\\d`` outside groups) this
        returns ``(None, None)``.
        """
        pattern = self.regex.pattern
        if pattern.startswith("^"):
            pattern = pattern[1:]
        if pattern.endswith("$"):
            pattern = pattern[:-1]
        if self.regex.groups != pattern.count("("):
            return None, None
        pieces = []
        for index, fragment in enumerate(pattern.split("(")):
            placeholder = ""
            if index and ")" not in fragment:
                return None, None  # a group nested in another one
            if ")" in fragment:
                # "group)literal": the group's body becomes a placeholder.
                placeholder = "%s"
                fragment = fragment[fragment.index(")") + 1 :]
            try:
                literal = re_unescape(fragment)
            except ValueError:
                return None, None
            pieces.append(placeholder + literal.replace("%", "%%"))
        return "".join(pieces), self.regex.groups


def _as_url_part(value: Any) -> bytes:
    """Bytes of a reverse() argument: `str`/`bytes` as is, others via `str`."""
    if isinstance(value, bytes):
        return value
    return utf8(value if isinstance(value, str) else str(value))


class URLSpec(Rule):
    """A path rule, the form ``tornado.web.Application`` uses for handlers.

    Also available as ``tornado.web.url``.
    """

    def __init__(
        self,
        pattern: str | Pattern[str],
        handler: Any,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        """Send requests whose path matches ``pattern`` to ``handler``.

        ``pattern`` is a regular expression (``$`` is appended if missing);
        its groups are passed to the handler's methods.  ``handler`` is a
        ``RequestHandler`` subclass or its dotted name; ``kwargs`` go to its
        ``initialize`` method; ``name`` allows ``reverse_url``.
        """
        matcher = PathMatches(pattern)
        super().__init__(matcher, handler, kwargs, name)
        #: The compiled path pattern.
        self.regex = matcher.regex
        #: The handler class (the rule's target).
        self.handler_class = self.target
        #: The handler's ``initialize`` arguments, as given.
        self.kwargs = kwargs

    def __repr__(self) -> str:
        """Show the pattern, handler class, arguments and name."""
        return (
            f"{type(self).__name__}({self.regex.pattern!r}, {self.handler_class}, "
            f"kwargs={self.kwargs!r}, name={self.name!r})"
        )
