"""First-match order of `RuleRouter` with literal path patterns.

A router finds rules with a literal pattern (``"/about"``) by a dict
look-up instead of running their regexes; these tests prove the rule that
accepts a request is still the first one in list order, whatever the mix
of literal rules, other patterns, host matchers and custom matchers, and
after the rule list or a rule's matcher changes.
"""

from __future__ import annotations

import random
import re
import unittest
from collections.abc import Callable
from typing import Any

from tornado.httputil import HTTPServerRequest
from tornado.routing import (
    AnyMatches,
    HostMatches,
    Matcher,
    PathMatches,
    Router,
    Rule,
    RuleRouter,
)
from tornado.test.routing_test import make_request
from tornado.web import Application, ErrorHandler, RequestHandler


class First(RequestHandler):
    pass


class Second(RequestHandler):
    pass


class Target(Router):
    """A target router answering with its name (or declining with None)."""

    def __init__(self, name: str, declines: bool = False) -> None:
        self.name = name
        self.declines = declines

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        return None if self.declines else self.name


def routed(router: RuleRouter, path: str, host: str = "example.com") -> Any:
    return router.find_handler(make_request(path, headers={"Host": host}))


def first_match_by_walking(rules: list[Rule], request: HTTPServerRequest) -> Any:
    """What a plain walk down the list finds: the reference answer."""
    for rule in rules:
        if rule.matcher.match(request) is not None:
            found = rule.target.find_handler(request)
            if found is not None:
                return found
    return None


class PathPrefixMatches(Matcher):
    """A custom matcher: accepts the paths starting with a prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        return {} if request.path.startswith(self.prefix) else None


class CaseFoldingPathMatches(PathMatches):
    """A PathMatches subclass with its own notion of a match."""

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        return {} if request.path.lower() == "/about" else None


class LiteralOrderTest(unittest.TestCase):
    def test_earlier_pattern_beats_later_literal(self) -> None:
        router = RuleRouter([("/a.*", Target("pattern")), ("/about", Target("lit"))])
        self.assertEqual(routed(router, "/about"), "pattern")

    def test_earlier_literal_beats_later_pattern(self) -> None:
        router = RuleRouter([("/about", Target("lit")), ("/a.*", Target("pattern"))])
        self.assertEqual(routed(router, "/about"), "lit")
        self.assertEqual(routed(router, "/abc"), "pattern")

    def test_first_of_two_equal_literals_wins(self) -> None:
        router = RuleRouter([("/x", Target("first")), ("/x", Target("second"))])
        self.assertEqual(routed(router, "/x"), "first")

    def test_host_rule_before_literal(self) -> None:
        router = RuleRouter(
            [
                Rule(HostMatches("admin\\.example\\.com"), Target("admin")),
                ("/", Target("root")),
            ]
        )
        self.assertEqual(routed(router, "/", host="admin.example.com"), "admin")
        self.assertEqual(routed(router, "/", host="www.example.com"), "root")

    def test_custom_matcher_before_literal(self) -> None:
        router = RuleRouter(
            [Rule(PathPrefixMatches("/ab"), Target("custom")), ("/about", Target("l"))]
        )
        self.assertEqual(routed(router, "/about"), "custom")

    def test_declining_literal_target_falls_through_in_order(self) -> None:
        router = RuleRouter(
            [
                ("/x", Target("declines", declines=True)),
                ("/.*", Target("pattern")),
                ("/x", Target("second literal")),
            ]
        )
        self.assertEqual(routed(router, "/x"), "pattern")
        router = RuleRouter(
            [
                ("/.*", Target("declining pattern", declines=True)),
                ("/x", Target("declines", declines=True)),
                ("/x", Target("second literal")),
                ("/.*", Target("last pattern")),
            ]
        )
        self.assertEqual(routed(router, "/x"), "second literal")
        router.rules[2].target.declines = True
        self.assertEqual(routed(router, "/x"), "last pattern")

    def test_literal_forms(self) -> None:
        router = RuleRouter(
            [
                (r"/robots\.txt", Target("escaped")),
                ("^/anchored$", Target("anchored")),
                ("/a.b", Target("dot")),
                (re.compile("/About$", re.IGNORECASE), Target("ignorecase")),
                ("/caf\u00e9", Target("non-ascii")),
            ]
        )
        self.assertEqual(routed(router, "/robots.txt"), "escaped")
        self.assertIsNone(routed(router, "/robotsXtxt"))
        self.assertEqual(routed(router, "/anchored"), "anchored")
        self.assertEqual(routed(router, "/aXb"), "dot")
        self.assertEqual(routed(router, "/about"), "ignorecase")
        self.assertEqual(routed(router, "/caf\u00e9"), "non-ascii")

    def test_dollar_also_matches_before_a_final_newline(self) -> None:
        # As re does: "$" matches before a trailing "\n".
        router = RuleRouter([("/about", Target("lit"))])
        self.assertEqual(routed(router, "/about\n"), "lit")

    def test_pathmatches_subclass_overriding_match_is_asked(self) -> None:
        router = RuleRouter(
            [Rule(CaseFoldingPathMatches("/about"), Target("sub")), ("/A", Target("a"))]
        )
        self.assertEqual(routed(router, "/ABOUT"), "sub")


class RuleChangesTest(unittest.TestCase):
    def test_list_changes_take_effect(self) -> None:
        router = RuleRouter([("/x", Target("lit"))])
        self.assertEqual(routed(router, "/x"), "lit")
        router.rules.insert(0, Rule(AnyMatches(), Target("any")))
        self.assertEqual(routed(router, "/x"), "any")
        del router.rules[0]
        self.assertEqual(routed(router, "/x"), "lit")
        router.rules[0] = Rule(PathMatches("/y"), Target("y"))
        self.assertIsNone(routed(router, "/x"))
        router.rules += [Rule(PathMatches("/x"), Target("appended"))]
        self.assertEqual(routed(router, "/x"), "appended")
        router.rules.reverse()
        router.rules.append(Rule(PathMatches("/y"), Target("later y")))
        self.assertEqual(routed(router, "/y"), "y")
        router.rules.clear()
        self.assertIsNone(routed(router, "/x"))

    def test_replaced_list_is_used(self) -> None:
        router = RuleRouter([("/x", Target("old"))])
        self.assertEqual(routed(router, "/x"), "old")
        router.rules = [Rule(PathMatches("/x"), Target("new"))]
        self.assertEqual(routed(router, "/x"), "new")

    def test_matcher_changes_take_effect(self) -> None:
        router = RuleRouter([("/x", Target("first")), ("/y", Target("second"))])
        self.assertEqual(routed(router, "/y"), "second")
        router.rules[0].matcher = PathMatches("/y")
        self.assertEqual(routed(router, "/y"), "first")
        matcher = router.rules[0].matcher
        assert isinstance(matcher, PathMatches)
        matcher.regex = re.compile("/z$")
        self.assertEqual(routed(router, "/y"), "second")
        self.assertEqual(routed(router, "/z"), "first")


class DifferentialTest(unittest.TestCase):
    """Random rule lists routed both ways give the same answers."""

    MATCHERS: list[Callable[[], Matcher]] = [
        lambda: PathMatches("/"),
        lambda: PathMatches("/a"),
        lambda: PathMatches("/ab"),
        lambda: PathMatches(r"/a\.b"),
        lambda: PathMatches("/a.*"),
        lambda: PathMatches("/(a|b)"),
        lambda: PathMatches("/a?b"),
        lambda: PathMatches(re.compile("/A$", re.IGNORECASE)),
        lambda: HostMatches("h1"),
        lambda: AnyMatches(),
        lambda: PathPrefixMatches("/a"),
    ]
    PATHS = ["/", "/a", "/A", "/ab", "/b", "/a.b", "/aXb", "/abc", "/a\n", "/x"]
    HOSTS = ["h1", "h2"]

    def test_same_first_match_as_a_walk(self) -> None:
        rng = random.Random(18)
        for case in range(300):
            rules = [
                Rule(
                    rng.choice(self.MATCHERS)(),
                    Target(f"r{i}", declines=rng.random() < 0.2),
                )
                for i in range(rng.randrange(1, 9))
            ]
            router = RuleRouter(rules)
            for path in self.PATHS:
                for host in self.HOSTS:
                    request = make_request(path, headers={"Host": host})
                    with self.subTest(case=case, path=path, host=host):
                        self.assertEqual(
                            router.find_handler(request),
                            first_match_by_walking(rules, request),
                        )


if __name__ == "__main__":
    unittest.main()


class ApplicationRoutingTest(unittest.TestCase):
    """`Application` skips its default router only while it just passes on."""

    def handler_class(self, app: Application, path: str = "/") -> Any:
        delegate = app.find_handler(make_request(path))
        return delegate.handler_class

    def test_host_handlers_added_later_come_first(self) -> None:
        app = Application([("/", First)])
        self.assertIs(self.handler_class(app), First)
        app.add_handlers(".*", [("/", Second)])
        self.assertIs(self.handler_class(app), Second)

    def test_changed_default_rule_is_followed(self) -> None:
        app = Application([("/", First)])
        self.assertIs(self.handler_class(app), First)
        other = Application([("/", Second)]).wildcard_router
        app.default_router.rules[0].target = other
        self.assertIs(self.handler_class(app), Second)
        app.default_router.rules[0].target = app.wildcard_router
        app.default_router.rules[0].matcher = PathMatches("/elsewhere")
        self.assertIs(self.handler_class(app), ErrorHandler)

    def test_default_router_replaced(self) -> None:
        app = Application([("/", First)])
        app.default_router = Application([("/", Second)]).default_router
        self.assertIs(self.handler_class(app), Second)
