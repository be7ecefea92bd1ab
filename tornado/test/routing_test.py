"""Tests for tornado.routing: matchers, reversing, rule routers, delegation."""

from __future__ import annotations

import logging
import re
import socket
import unittest
from typing import Any

from tornado import httputil
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream
from tornado.routing import (
    AnyMatches,
    DefaultHostMatches,
    HostMatches,
    Matcher,
    PathMatches,
    ReversibleRouter,
    ReversibleRuleRouter,
    Router,
    Rule,
    RuleRouter,
    URLSpec,
)
from tornado.test.util import respond, server_request
from tornado.testing import AsyncTestCase, ExpectLog, bind_unused_port, gen_test


def make_request(
    uri: str = "/", method: str = "GET", headers: dict[str, str] | None = None
) -> HTTPServerRequest:
    """A request with a recording connection, as a router would see it."""
    return server_request(
        method,
        uri,
        headers,
        connection=RecordingConnection(),
        server_connection="server-conn",
    )


class RecordingConnection(httputil.HTTPConnection):
    """An HTTPConnection that remembers what is written to it."""

    def __init__(self) -> None:
        self.start_line: ResponseStartLine | None = None
        self.headers: HTTPHeaders | None = None
        self.body = b""
        self.finished = False

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Any:
        assert isinstance(start_line, ResponseStartLine)
        self.start_line = start_line
        self.headers = headers
        self.body += chunk or b""
        return None

    def write(self, chunk: bytes) -> Any:
        self.body += chunk
        return None

    def finish(self) -> None:
        self.finished = True


class RecordingDelegate(HTTPMessageDelegate):
    """A message delegate that answers with a fixed body."""

    def __init__(self, conn: httputil.HTTPConnection, body: bytes) -> None:
        self.conn = conn
        self.reply = body
        self.events: list[str] = []

    def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
        self.events.append("headers")

    def data_received(self, chunk: bytes) -> None:
        self.events.append("data")

    def finish(self) -> None:
        self.events.append("finish")
        self.conn.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"),
            HTTPHeaders({"Content-Length": str(len(self.reply))}),
            self.reply,
        )
        self.conn.finish()

    def on_connection_close(self) -> None:
        self.events.append("close")


class ConnectionDelegateTarget(HTTPServerConnectionDelegate):
    """A connection delegate recording the connections it is started with."""

    def __init__(self, body: bytes = b"delegate") -> None:
        self.body = body
        self.started: list[tuple[object, httputil.HTTPConnection]] = []
        self.delegates: list[RecordingDelegate] = []

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> HTTPMessageDelegate:
        self.started.append((server_conn, request_conn))
        self.delegates.append(RecordingDelegate(request_conn, self.body))
        return self.delegates[-1]


class FakeApplication:
    """Stands in for an Application: only ``default_host`` is used."""

    def __init__(self, default_host: str) -> None:
        self.default_host = default_host


def feed(
    delegate: HTTPMessageDelegate,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """Play a whole request into ``delegate`` as an HTTP connection would."""
    delegate.headers_received(
        RequestStartLine(method, path, "HTTP/1.1"), HTTPHeaders(headers or {})
    )
    if body:
        delegate.data_received(body)
    delegate.finish()


class PathMatchesTest(unittest.TestCase):
    def test_dollar_appended_to_string_pattern(self) -> None:
        self.assertEqual(PathMatches("/a").regex.pattern, "/a$")
        self.assertEqual(PathMatches("/a$").regex.pattern, "/a$")
        self.assertIsNone(PathMatches("/a").match(make_request("/ab")))

    def test_compiled_pattern_used_as_is(self) -> None:
        regex = re.compile("/a")
        matcher = PathMatches(regex)
        self.assertIs(matcher.regex, regex)
        self.assertEqual(matcher.match(make_request("/abc")), {})

    def test_match_ignores_query(self) -> None:
        self.assertEqual(PathMatches("/a").match(make_request("/a?x=1")), {})

    def test_no_match(self) -> None:
        self.assertIsNone(PathMatches("/a/(.*)").match(make_request("/b/c")))

    def test_positional_groups_are_unquoted_bytes(self) -> None:
        result = PathMatches("/(.*)/(.*)").match(make_request("/a%20b+c/%2F%FF"))
        self.assertEqual(result, {"path_args": [b"a b+c", b"/\xff"], "path_kwargs": {}})

    def test_named_groups(self) -> None:
        result = PathMatches("/(?P<x>[^/]*)/(?P<y>.*)").match(make_request("/1/%C3%A9"))
        self.assertEqual(
            result,
            {"path_args": [], "path_kwargs": {"x": b"1", "y": "é".encode()}},
        )

    def test_unmatched_optional_group_is_none(self) -> None:
        result = PathMatches("/a(/.*)?").match(make_request("/a"))
        self.assertEqual(result, {"path_args": [None], "path_kwargs": {}})

    def test_mixed_groups_rejected(self) -> None:
        with self.assertRaisesRegex(ValueError, "all named or all positional"):
            PathMatches("/(?P<x>a)/(b)")


class PathReverseTest(unittest.TestCase):
    def test_without_groups(self) -> None:
        self.assertEqual(PathMatches("/a/b").reverse(), "/a/b")
        self.assertEqual(PathMatches("^/a/b$").reverse(), "/a/b")

    def test_positional_groups(self) -> None:
        matcher = PathMatches(r"/user/(\d+)/post/([^/]+)")
        self.assertEqual(matcher.reverse(42, "hello"), "/user/42/post/hello")

    def test_named_groups(self) -> None:
        matcher = PathMatches(r"/(?P<year>\d{4})/(?P<slug>.+)")
        self.assertEqual(matcher.reverse(2024, "x"), "/2024/x")

    def test_escaped_literals_unescaped(self) -> None:
        matcher = PathMatches(r"/static/(.*)\.css\?v")
        self.assertEqual(matcher.reverse("site"), "/static/site.css?v")

    def test_arguments_url_escaped(self) -> None:
        matcher = PathMatches("/files/(.*)")
        self.assertEqual(matcher.reverse("a b/é"), "/files/a%20b/%C3%A9")
        self.assertEqual(matcher.reverse(b"\xff+"), "/files/%FF%2B")

    def test_percent_in_literal(self) -> None:
        self.assertEqual(PathMatches("/100%/(.*)").reverse("x"), "/100%/x")
        self.assertEqual(PathMatches("/100%").reverse(), "/100%")

    def test_wrong_argument_count(self) -> None:
        matcher = PathMatches("/(.*)/(.*)")
        with self.assertRaisesRegex(ValueError, "needs 2 arguments.*got 1"):
            matcher.reverse("a")

    def test_unreversible_patterns(self) -> None:
        for pattern in [r"/a/((b)|c)", r"/a/(?:x|y)/(.*)", r"/\d+/(.*)", r"/\w"]:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(ValueError, "Cannot reverse url regex"):
                    PathMatches(pattern).reverse()

    def test_round_trip(self) -> None:
        matcher = PathMatches("/x/([^/]+)/(.*)")
        url = matcher.reverse("a b", "c/d")
        assert url is not None
        self.assertEqual(
            matcher.match(make_request(url)),
            {"path_args": [b"a b", b"c/d"], "path_kwargs": {}},
        )


class HostMatchesTest(unittest.TestCase):
    def test_matches_host_name_without_port(self) -> None:
        matcher = HostMatches("www\\.example\\.com")
        self.assertEqual(matcher.host_pattern.pattern, "www\\.example\\.com$")
        req = make_request(headers={"Host": "WWW.Example.com:8080"})
        self.assertEqual(matcher.match(req), {})

    def test_anchored_at_end(self) -> None:
        matcher = HostMatches("example\\.com")
        req = make_request(headers={"Host": "example.com.evil"})
        self.assertIsNone(matcher.match(req))

    def test_compiled_pattern(self) -> None:
        matcher = HostMatches(re.compile(".*\\.org"))
        self.assertEqual(matcher.match(make_request(headers={"Host": "a.org"})), {})
        self.assertIsNone(matcher.match(make_request(headers={"Host": "a.com"})))

    def test_cannot_reverse(self) -> None:
        self.assertIsNone(HostMatches("x").reverse())


class OtherMatchersTest(unittest.TestCase):
    def test_any_matches(self) -> None:
        self.assertEqual(AnyMatches().match(make_request("/anything")), {})

    def test_base_matcher(self) -> None:
        with self.assertRaises(NotImplementedError):
            Matcher().match(make_request())
        self.assertIsNone(Matcher().reverse("a"))

    def test_default_host(self) -> None:
        app = FakeApplication("main.example")
        matcher = DefaultHostMatches(app, re.compile("main\\.example$"))
        self.assertIs(matcher.application, app)
        self.assertEqual(matcher.match(make_request(headers={"Host": "other"})), {})
        other = DefaultHostMatches(FakeApplication("x"), re.compile("main$"))
        self.assertIsNone(other.match(make_request()))

    def test_default_host_ignored_behind_proxy(self) -> None:
        matcher = DefaultHostMatches(FakeApplication("h"), re.compile("h$"))
        req = make_request(headers={"X-Real-Ip": "10.0.0.1"})
        self.assertIsNone(matcher.match(req))


class RuleTest(unittest.TestCase):
    def test_defaults(self) -> None:
        matcher = AnyMatches()
        rule = Rule(matcher, respond)
        self.assertIs(rule.matcher, matcher)
        self.assertIs(rule.target, respond)
        self.assertEqual(rule.target_kwargs, {})
        self.assertIsNone(rule.name)

    def test_target_imported_from_dotted_name(self) -> None:
        rule = Rule(AnyMatches(), "tornado.test.routing_test.respond")
        self.assertIs(rule.target, respond)

    def test_bad_dotted_name(self) -> None:
        with self.assertRaises(ImportError):
            Rule(AnyMatches(), "tornado.test.routing_test.no_such_thing")

    def test_reverse_and_repr(self) -> None:
        rule = Rule(PathMatches("/p/(.*)"), "os.path.join", {"a": 1}, "n")
        self.assertEqual(rule.reverse("q"), "/p/q")
        text = repr(rule)
        self.assertTrue(text.startswith("Rule(<tornado.routing.PathMatches"), text)
        self.assertTrue(text.endswith("kwargs={'a': 1}, name='n')"), text)

    def test_urlspec(self) -> None:
        spec = URLSpec("/u/([0-9]+)", RecordingDelegate, name="user")
        self.assertEqual(spec.regex.pattern, "/u/([0-9]+)$")
        self.assertIs(spec.handler_class, RecordingDelegate)
        self.assertIsNone(spec.kwargs)
        self.assertEqual(spec.target_kwargs, {})
        self.assertEqual(spec.reverse(7), "/u/7")
        self.assertIsInstance(spec.matcher, PathMatches)
        self.assertEqual(
            repr(spec),
            f"URLSpec('/u/([0-9]+)$', {RecordingDelegate}, kwargs=None, name='user')",
        )

    def test_urlspec_kwargs(self) -> None:
        spec = URLSpec("/", RecordingDelegate, {"x": 1})
        self.assertEqual(spec.kwargs, {"x": 1})
        self.assertEqual(spec.target_kwargs, {"x": 1})


def call_target(request: HTTPServerRequest, **kwargs: Any) -> None:
    """A callable target for rule tests (never actually invoked)."""


class RuleRouterTest(unittest.TestCase):
    def test_rule_forms(self) -> None:
        router = RuleRouter(
            [
                ("/a", call_target),
                ["/b", call_target, {"k": 1}],
                (HostMatches("h"), call_target, {}, "named"),
                (re.compile("/c"), call_target),
                Rule(AnyMatches(), call_target),
            ]
        )
        rules = router.rules
        self.assertEqual(len(rules), 5)
        self.assertIsInstance(rules[0].matcher, PathMatches)
        self.assertEqual(rules[1].target_kwargs, {"k": 1})
        self.assertEqual(rules[2].name, "named")
        self.assertIsInstance(rules[2].matcher, HostMatches)
        self.assertIsInstance(rules[3].matcher, PathMatches)
        self.assertIsInstance(rules[4].matcher, AnyMatches)

    def test_bad_rule_length(self) -> None:
        bad_rules: list[Any] = [("/a",), ("/a", call_target, {}, "n", "extra")]
        for bad in bad_rules:
            with self.subTest(rule=bad):
                with self.assertRaisesRegex(ValueError, "a rule must be"):
                    RuleRouter([bad])

    def test_empty(self) -> None:
        self.assertEqual(RuleRouter().rules, [])
        self.assertIsNone(RuleRouter().find_handler(make_request()))

    def test_first_matching_rule_wins(self) -> None:
        first, second = ConnectionDelegateTarget(), ConnectionDelegateTarget()
        router = RuleRouter([("/x", first), (AnyMatches(), second)])
        router.find_handler(make_request("/x"))
        self.assertEqual((len(first.started), len(second.started)), (1, 0))
        router.find_handler(make_request("/y"))
        self.assertEqual((len(first.started), len(second.started)), (1, 1))

    def test_connection_delegate_target(self) -> None:
        target = ConnectionDelegateTarget()
        req = make_request("/x")
        delegate = RuleRouter([("/x", target)]).find_handler(req)
        self.assertIsInstance(delegate, RecordingDelegate)
        self.assertEqual(target.started, [("server-conn", req.connection)])

    def test_nested_router_gets_params(self) -> None:
        seen: list[dict[str, Any]] = []

        class Inner(Router):
            def find_handler(
                self, request: HTTPServerRequest, **kwargs: Any
            ) -> HTTPMessageDelegate | None:
                seen.append(kwargs)
                return None

        router = RuleRouter([("/(.*)", Inner(), {"opt": 1})])
        self.assertIsNone(router.find_handler(make_request("/p")))
        self.assertEqual(
            seen,
            [{"path_args": [b"p"], "path_kwargs": {}, "target_kwargs": {"opt": 1}}],
        )

    def test_rule_skipped_when_target_declines(self) -> None:
        fallback = ConnectionDelegateTarget()
        router = RuleRouter(
            [
                (AnyMatches(), RuleRouter([("/only", call_target)])),
                (AnyMatches(), fallback),
            ]
        )
        router.find_handler(make_request("/other"))
        self.assertEqual(len(fallback.started), 1)

    def test_unknown_target_kind_gives_none(self) -> None:
        router = RuleRouter([(AnyMatches(), 42)])
        self.assertIsNone(router.find_handler(make_request()))

    def test_process_rule_hook(self) -> None:
        class Prefixing(RuleRouter):
            def process_rule(self, rule: Rule) -> Rule:
                rule = super().process_rule(rule)
                rule.target_kwargs["processed"] = True
                return rule

        router = Prefixing([("/a", call_target)])
        router.add_rules([Rule(AnyMatches(), call_target)])
        self.assertTrue(all(r.target_kwargs["processed"] for r in router.rules))

    def test_base_classes_are_abstract(self) -> None:
        with self.assertRaises(NotImplementedError):
            Router().find_handler(make_request())
        with self.assertRaises(NotImplementedError):
            ReversibleRouter().reverse_url("x")


class ReversibleRuleRouterTest(unittest.TestCase):
    def test_reverse_url(self) -> None:
        router = ReversibleRuleRouter(
            [
                Rule(PathMatches("/a/(.*)"), call_target, name="a"),
                ("/b", call_target, {}, "b"),
                ("/c", call_target),
            ]
        )
        self.assertEqual(set(router.named_rules), {"a", "b"})
        self.assertEqual(router.reverse_url("a", "x y"), "/a/x%20y")
        self.assertEqual(router.reverse_url("b"), "/b")
        self.assertIsNone(router.reverse_url("c"))

    def test_reverse_through_nested_routers(self) -> None:
        inner = ReversibleRuleRouter([("/in/(.*)", call_target, {}, "inner")])
        outer = ReversibleRuleRouter(
            [(AnyMatches(), RuleRouter()), (PathMatches("/in/.*"), inner)]
        )
        self.assertEqual(outer.reverse_url("inner", 5), "/in/5")
        self.assertIsNone(outer.reverse_url("missing"))

    def test_duplicate_name_warns_and_replaces(self) -> None:
        router = ReversibleRuleRouter([("/one", call_target, {}, "dup")])
        with ExpectLog(
            "tornado.application", "Multiple handlers named dup", level=logging.WARNING
        ):
            router.add_rules([("/two", call_target, {}, "dup")])
        self.assertEqual(router.reverse_url("dup"), "/two")


class DelegationTest(unittest.TestCase):
    """The message flow from start_request to the chosen delegate."""

    def test_routes_to_delegate_and_forwards_events(self) -> None:
        target = ConnectionDelegateTarget()
        conn = RecordingConnection()
        routing = RuleRouter([("/x", target)]).start_request("server", conn)
        feed(routing, "POST", "/x", b"data")
        [delegate] = target.delegates
        self.assertEqual(delegate.events, ["headers", "data", "finish"])
        self.assertEqual(target.started, [("server", conn)])
        self.assertEqual(conn.body, b"delegate")

    def test_connection_close_forwarded(self) -> None:
        target = ConnectionDelegateTarget()
        routing = RuleRouter([("/x", target)]).start_request("s", RecordingConnection())
        routing.headers_received(
            RequestStartLine("GET", "/x", "HTTP/1.1"), HTTPHeaders()
        )
        routing.on_connection_close()
        [delegate] = target.delegates
        self.assertEqual(delegate.events, ["headers", "close"])

    def test_connection_close_before_a_head(self) -> None:
        target = ConnectionDelegateTarget()
        conn = RecordingConnection()
        routing = RuleRouter([("/x", target)]).start_request("s", conn)
        routing.on_connection_close()
        self.assertEqual(target.delegates, [])
        self.assertIsNone(conn.start_line)

    def test_no_route_gives_404(self) -> None:
        conn = RecordingConnection()
        routing = RuleRouter([("/x", call_target)]).start_request("s", conn)
        feed(routing, "GET", "/nowhere", b"ignored")
        assert conn.start_line is not None
        self.assertEqual(conn.start_line.code, 404)
        self.assertEqual(conn.start_line.reason, "Not Found")
        self.assertTrue(conn.finished)

    def test_callable_gets_whole_request_and_params(self) -> None:
        calls: list[tuple[HTTPServerRequest, dict[str, Any]]] = []

        def target(request: HTTPServerRequest, **kwargs: Any) -> None:
            calls.append((request, kwargs))
            respond(request, b"ok")

        conn = RecordingConnection()
        routing = RuleRouter([("/f/(.*)", target)]).start_request("s", conn)
        routing.headers_received(
            RequestStartLine("POST", "/f/a%2Fb?q=1", "HTTP/1.1"),
            HTTPHeaders({"Content-Type": "application/x-www-form-urlencoded"}),
        )
        routing.data_received(b"x=1&")
        routing.data_received(b"y=2")
        self.assertEqual(calls, [])
        routing.finish()
        [(request, kwargs)] = calls
        self.assertEqual(kwargs, {"path_args": [b"a/b"], "path_kwargs": {}})
        self.assertEqual(request.body, b"x=1&y=2")
        self.assertEqual(request.body_arguments, {"x": [b"1"], "y": [b"2"]})
        self.assertEqual(request.arguments["q"], [b"1"])
        self.assertIs(request.connection, conn)
        self.assertEqual(conn.body, b"ok")


class EndToEndTest(AsyncTestCase):
    """Routers serving real requests through HTTPServer on loopback."""

    def setUp(self) -> None:
        super().setUp()
        from tornado.httpserver import HTTPServer

        def hello(request: HTTPServerRequest) -> None:
            respond(request, b"hello " + request.method.encode())  # type: ignore[union-attr]

        def echo_path(
            request: HTTPServerRequest, path_args: list[bytes], **_: Any
        ) -> None:
            respond(request, b"|".join(path_args))

        inner = ReversibleRuleRouter(
            [("/api/(.*)", echo_path, {}, "api"), ("/api2", ConnectionDelegateTarget())]
        )
        self.router = ReversibleRuleRouter(
            [
                ("/hello", hello),
                Rule(HostMatches("special\\.test"), ConnectionDelegateTarget(b"host")),
                (PathMatches("/api.*"), inner),
            ]
        )
        sock, self.port = bind_unused_port()
        self.server = HTTPServer(self.router)
        self.server.add_sockets([sock])

    def tearDown(self) -> None:
        self.server.stop()
        super().tearDown()

    async def fetch(self, request: bytes) -> bytes:
        """Send a raw request and read the whole response (connection closes)."""
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.port))
        await stream.write(request)
        data = await stream.read_until_close()
        stream.close()
        return data

    async def get(self, path: str, host: str = "localhost") -> tuple[int, bytes]:
        raw = await self.fetch(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), body

    @gen_test
    async def test_callable(self) -> None:
        self.assertEqual(await self.get("/hello"), (200, b"hello GET"))

    @gen_test
    async def test_nested_router_with_groups(self) -> None:
        self.assertEqual(await self.get("/api/a%20b"), (200, b"a b"))
        self.assertEqual(await self.get("/api2"), (200, b"delegate"))
        self.assertEqual(self.router.reverse_url("api", "x"), "/api/x")

    @gen_test
    async def test_host_rule(self) -> None:
        self.assertEqual(await self.get("/any", host="special.test"), (200, b"host"))

    @gen_test
    async def test_not_found(self) -> None:
        code, _ = await self.get("/missing")
        self.assertEqual(code, 404)

    @gen_test
    async def test_post_body_reaches_callable(self) -> None:
        raw = await self.fetch(
            b"POST /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: 5\r\n\r\nhello"
        )
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw)
        self.assertTrue(raw.endswith(b"hello POST"), raw)


if __name__ == "__main__":
    unittest.main()
