"""Tests of StaticFileHandler and the other ready-made handlers and transforms."""

from __future__ import annotations

import datetime
import email.utils
import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import unittest
from typing import Any

from tornado import httputil
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.log import gen_log
from tornado.test.util import server_request
from tornado.test.web_test import WebTestCase
from tornado.testing import ExpectLog
from tornado.web import (
    FallbackHandler,
    GZipContentEncoding,
    HTTPError,
    OutputTransform,
    RedirectHandler,
    RequestHandler,
    StaticFileHandler,
    addslash,
    removeslash,
)

TEST_DIR = os.path.dirname(os.path.abspath(__file__))
STATIC_DIR = os.path.join(TEST_DIR, "static")
DIGITS = b"0123456789abcdefghij"


class StaticFileTest(WebTestCase):
    def get_app_kwargs(self) -> dict[str, Any]:
        return {"static_path": STATIC_DIR}

    def test_serves_file(self) -> None:
        response = self.fetch("/static/hello.txt")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello, static world\n")
        self.assertEqual(response.headers["Content-Type"], "text/plain")
        self.assertEqual(response.headers["Content-Length"], "20")
        self.assertEqual(response.headers["Accept-Ranges"], "bytes")
        self.assertIn("Last-Modified", response.headers)
        self.assertIn("Etag", response.headers)
        self.assertNotIn("Cache-Control", response.headers)

    def test_content_types(self) -> None:
        for name, expected in [
            ("style.css", "text/css"),
            ("box.js", ("application/javascript", "text/javascript")),
            ("archive.tar.gz", "application/gzip"),
            ("notes.txt.bz2", "application/octet-stream"),
            ("digits.bin", "application/octet-stream"),
            ("dir/index.html", "text/html"),
        ]:
            with self.subTest(name=name):
                content_type = self.fetch(f"/static/{name}").headers["Content-Type"]
                if isinstance(expected, tuple):
                    self.assertIn(content_type, expected)
                else:
                    self.assertEqual(content_type, expected)

    def test_robots_and_favicon_routes(self) -> None:
        self.assertEqual(
            self.fetch("/robots.txt").body, b"User-agent: *\nDisallow: /\n"
        )
        self.assertEqual(self.fetch("/favicon.ico").code, 404)

    def test_head(self) -> None:
        response = self.fetch("/static/hello.txt", method="HEAD")
        self.assertEqual((response.code, response.body), (200, b""))
        self.assertEqual(response.headers["Content-Length"], "20")

    def test_versioned_url_is_cached_long(self) -> None:
        version = StaticFileHandler.get_version(
            {"static_path": STATIC_DIR}, "hello.txt"
        )
        assert version is not None
        response = self.fetch(f"/static/hello.txt?v={version}")
        self.assertEqual(
            response.headers["Cache-Control"], f"max-age={86400 * 365 * 10}"
        )
        expires = email.utils.parsedate_to_datetime(response.headers["Expires"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertGreater(expires - now, datetime.timedelta(days=3650 - 1))
        self.assertEqual(response.headers["Etag"], f'"{version}"')

    def test_make_static_url(self) -> None:
        settings = {"static_path": STATIC_DIR, "static_url_prefix": "/s/"}
        url = StaticFileHandler.make_static_url(settings, "hello.txt")
        self.assertRegex(url, r"^/s/hello\.txt\?v=[0-9a-f]+$")
        self.assertEqual(
            StaticFileHandler.make_static_url(settings, "x", include_version=False),
            "/s/x",
        )

    def test_if_modified_since(self) -> None:
        modified = self.fetch("/static/hello.txt").headers["Last-Modified"]
        response = self.fetch(
            "/static/hello.txt", headers={"If-Modified-Since": modified}
        )
        self.assertEqual((response.code, response.body), (304, b""))
        earlier = httputil.format_timestamp(
            email.utils.parsedate_to_datetime(modified) - datetime.timedelta(days=1)
        )
        response = self.fetch(
            "/static/hello.txt", headers={"If-Modified-Since": earlier}
        )
        self.assertEqual(response.code, 200)
        response = self.fetch(
            "/static/hello.txt", headers={"If-Modified-Since": "junk"}
        )
        self.assertEqual(response.code, 200)

    def test_if_none_match(self) -> None:
        etag = self.fetch("/static/hello.txt").headers["Etag"]
        response = self.fetch("/static/hello.txt", headers={"If-None-Match": etag})
        self.assertEqual((response.code, response.body), (304, b""))
        # If-None-Match wins over If-Modified-Since.
        modified = self.fetch("/static/hello.txt").headers["Last-Modified"]
        response = self.fetch(
            "/static/hello.txt",
            headers={"If-None-Match": '"other"', "If-Modified-Since": modified},
        )
        self.assertEqual(response.code, 200)

    def fetch_range(self, header: str) -> Any:
        return self.fetch("/static/digits.bin", headers={"Range": header})

    def test_ranges(self) -> None:
        cases: list[tuple[str, bytes, str]] = [
            ("bytes=0-4", DIGITS[:5], "bytes 0-4/20"),
            ("bytes=5-9", DIGITS[5:10], "bytes 5-9/20"),
            ("bytes=15-", DIGITS[15:], "bytes 15-19/20"),
            ("bytes=-3", DIGITS[-3:], "bytes 17-19/20"),
            ("bytes=10-100", DIGITS[10:], "bytes 10-19/20"),
        ]
        for header, body, content_range in cases:
            with self.subTest(header=header):
                response = self.fetch_range(header)
                self.assertEqual(response.code, 206)
                self.assertEqual(response.body, body)
                self.assertEqual(response.headers["Content-Range"], content_range)
                self.assertEqual(response.headers["Content-Length"], str(len(body)))

    def test_whole_file_ranges_are_plain_200(self) -> None:
        for header in ["bytes=0-", "bytes=0-19", "bytes=-100", "bytes=0-1000"]:
            with self.subTest(header=header):
                response = self.fetch_range(header)
                self.assertEqual((response.code, response.body), (200, DIGITS))
                self.assertNotIn("Content-Range", response.headers)

    def test_unsatisfiable_ranges(self) -> None:
        for header in ["bytes=20-", "bytes=100-200", "bytes=5-3", "bytes=-0"]:
            with self.subTest(header=header):
                response = self.fetch_range(header)
                self.assertEqual(response.code, 416)
                self.assertEqual(response.headers["Content-Range"], "bytes */20")
                self.assertEqual(response.body, b"")

    def test_unparseable_ranges_are_ignored(self) -> None:
        for header in ["bytes=0-1,5-6", "items=0-1", "bytes=a-b", "bytes=-"]:
            with self.subTest(header=header):
                response = self.fetch_range(header)
                self.assertEqual((response.code, response.body), (200, DIGITS))

    def test_missing_file_is_404(self) -> None:
        self.assertEqual(self.fetch("/static/nothing.txt").code, 404)

    def test_directory_without_default_is_403(self) -> None:
        with ExpectLog(gen_log, "403 GET /static/dir", level=logging.WARNING):
            self.assertEqual(self.fetch("/static/dir").code, 403)

    def test_path_traversal_is_refused(self) -> None:
        attacks = [
            "/static/../web_test.py",
            "/static/..%2fweb_test.py",
            "/static/..%2Fweb_test.py",
            "/static/%2e%2e/web_test.py",
            "/static/%2E%2E%2Fweb_test.py",
            "/static/dir/../../web_test.py",
            "/static/dir%2f..%2f..%2fweb_test.py",
            "/static/%2f%2e%2e%2fweb_test.py",
            "/static/" + TEST_DIR.replace("/", "%2f") + "%2fweb_test.py",
            "/static/%2fetc%2fpasswd",
            "/static//etc/passwd",
            "/static/..\\web_test.py",
            "/static/%2e%2e%5cweb_test.py",
        ]
        for path in attacks:
            with self.subTest(path=path):
                with ExpectLog(gen_log, ".*", required=False, level=logging.WARNING):
                    response = self.raw_get(path)
                self.assertIn(response[:12], (b"HTTP/1.1 403", b"HTTP/1.1 404"))
                self.assertNotIn(b"import", response)

    def test_nul_byte_is_refused(self) -> None:
        for path in ["/static/hello.txt%00.png", "/static/%00"]:
            with self.subTest(path=path):
                with ExpectLog(gen_log, ".*NUL byte", level=logging.WARNING):
                    response = self.raw_get(path)
                self.assertTrue(response.startswith(b"HTTP/1.1 404"))


class StaticDefaultFilenameTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            (
                r"/+files/(.*)",
                StaticFileHandler,
                {"path": STATIC_DIR, "default_filename": "index.html"},
            )
        ]

    def test_directory_redirects_then_serves_default(self) -> None:
        response = self.fetch("/files/dir")
        self.assertEqual(response.code, 301)
        self.assertEqual(response.headers["Location"], "/files/dir/")
        self.assertEqual(self.fetch("/files/dir/").body, b"<h1>index</h1>\n")

    def test_double_slash_directory_is_not_redirected_off_site(self) -> None:
        with ExpectLog(gen_log, ".*two initial slashes", level=logging.WARNING):
            response = self.raw_request(
                b"GET //files/dir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
        self.assertNotIn(b"Location: //", response)


class StaticPrefixTest(WebTestCase):
    def get_app_kwargs(self) -> dict[str, Any]:
        return {
            "static_path": STATIC_DIR,
            "static_url_prefix": "/assets/",
            "static_handler_args": {"default_filename": "index.html"},
        }

    def test_prefix_and_args(self) -> None:
        self.assertEqual(self.fetch("/assets/hello.txt").body, b"Hello, static world\n")
        self.assertEqual(self.fetch("/static/hello.txt").code, 404)
        self.assertEqual(self.fetch("/assets/dir/").body, b"<h1>index</h1>\n")


class StaticSymlinkTest(WebTestCase):
    def setUp(self) -> None:
        self.root = tempfile.mkdtemp()
        self.outside = tempfile.mkdtemp()
        with open(os.path.join(self.outside, "secret.txt"), "w") as f:
            f.write("secret")
        with open(os.path.join(self.root, "public.txt"), "w") as f:
            f.write("public")
        try:
            os.symlink(self.outside, os.path.join(self.root, "link"))
        except (OSError, NotImplementedError) as e:
            self.skipTest(f"symbolic links unavailable: {e}")
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        shutil.rmtree(self.root)
        shutil.rmtree(self.outside)

    def get_handlers(self) -> list[Any]:
        return [
            (r"/strict/(.*)", StaticFileHandler, {"path": self.root}),
            (
                r"/allowed/(.*)",
                StaticFileHandler,
                {"path": self.root, "allowed_symlink_directory": self.outside},
            ),
        ]

    def test_symlink_out_of_root_is_refused(self) -> None:
        self.assertEqual(self.fetch("/strict/public.txt").body, b"public")
        with ExpectLog(
            gen_log,
            "403 GET .*link/secret.txt is not in root static directory",
            level=logging.WARNING,
        ):
            self.assertEqual(self.fetch("/strict/link/secret.txt").code, 403)

    def test_symlink_into_allowed_directory(self) -> None:
        self.assertEqual(self.fetch("/allowed/link/secret.txt").body, b"secret")


class LargeStaticFileTest(WebTestCase):
    SIZE = 3 * 1024 * 1024 + 17

    def setUp(self) -> None:
        self.root = tempfile.mkdtemp()
        self.data = os.urandom(self.SIZE)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(self.data)
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        shutil.rmtree(self.root)

    def get_handlers(self) -> list[Any]:
        return [(r"/(.*)", StaticFileHandler, {"path": self.root})]

    def test_large_file_in_chunks(self) -> None:
        chunks = list(StaticFileHandler.get_content(os.path.join(self.root, "big.bin")))
        self.assertGreater(len(chunks), 10)
        self.assertTrue(all(len(c) <= 64 * 1024 for c in chunks))
        response = self.fetch("/big.bin")
        self.assertEqual(len(response.body), self.SIZE)
        self.assertEqual(response.body, self.data)
        middle = self.fetch("/big.bin", headers={"Range": "bytes=1000000-2000000"})
        self.assertEqual(middle.body, self.data[1000000:2000001])

    def test_get_content_range(self) -> None:
        path = os.path.join(self.root, "big.bin")
        part = b"".join(StaticFileHandler.get_content(path, 100, 200000))
        self.assertEqual(part, self.data[100:200000])


class SubclassedStaticHandler(StaticFileHandler):
    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        return "fixed"

    def get_cache_time(
        self, path: str, modified: datetime.datetime | None, mime_type: str
    ) -> int:
        return 60

    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Served-Path", path)


class StaticSubclassTest(WebTestCase):
    def get_app_kwargs(self) -> dict[str, Any]:
        return {
            "static_path": STATIC_DIR,
            "static_handler_class": SubclassedStaticHandler,
        }

    def get_handlers(self) -> list[Any]:
        return [("/url", StaticUrlWriter)]

    def test_subclass_hooks(self) -> None:
        response = self.fetch("/static/hello.txt")
        self.assertEqual(response.headers["Cache-Control"], "max-age=60")
        self.assertEqual(response.headers["X-Served-Path"], "hello.txt")
        self.assertEqual(response.headers["Etag"], '"fixed"')
        self.assertEqual(self.fetch("/url").body, b"/static/hello.txt?v=fixed")


class StaticUrlWriter(RequestHandler):
    def get(self) -> None:
        self.write(self.static_url("hello.txt"))


class StaticHashCacheTest(unittest.TestCase):
    def test_versions_are_cached_and_reset(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "f.txt")
            with open(path, "w") as f:
                f.write("one")
            settings = {"static_path": root}
            StaticFileHandler.reset()
            first = StaticFileHandler.get_version(settings, "f.txt")
            with open(path, "w") as f:
                f.write("two")
            self.assertEqual(StaticFileHandler.get_version(settings, "f.txt"), first)
            StaticFileHandler.reset()
            self.assertNotEqual(StaticFileHandler.get_version(settings, "f.txt"), first)


# ---------------------------------------------------------------------------
# RedirectHandler, slashes, fallback, transforms


class SlashHandler(RequestHandler):
    @addslash
    def get(self) -> None:
        self.write("with slash")

    @addslash
    def post(self) -> None:
        self.write("posted")


class NoSlashHandler(RequestHandler):
    @removeslash
    def get(self) -> None:
        self.write("without slash")

    @removeslash
    def post(self) -> None:
        self.write("posted")


def wsgi_like_fallback(request: HTTPServerRequest) -> None:
    assert request.connection is not None
    body = f"fallback saw {request.path}".encode()
    request.connection.write_headers(
        httputil.ResponseStartLine("HTTP/1.1", 200, "OK"),
        HTTPHeaders({"Content-Length": str(len(body))}),
        body,
    )
    request.connection.finish()


class RedirectAndSlashTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [
            (r"/old/(.*)", RedirectHandler, {"url": "/new/{0}"}),
            (
                r"/named/(?P<item>.*)",
                RedirectHandler,
                {"url": "/items/{item}", "permanent": False},
            ),
            (r"/go/(.*)", RedirectHandler, {"url": "/{0}"}),
            (r"/any/(.*)", RedirectHandler, {"url": "{0}"}),
            (r"/site(.*)", RedirectHandler, {"url": "https://example.com{0}"}),
            (r"/anyhost/(.*)", RedirectHandler, {"url": "https://{0}"}),
            (r"/anyhost3/(.*)", RedirectHandler, {"url": "https:///{0}"}),
            (r"/offsite", RedirectHandler, {"url": "https://other.example/"}),
            (r"/slash/?", SlashHandler),
            (r"/noslash/*", NoSlashHandler),
            (r"//add.*", SlashHandler),
            (r"/[/\\].*", NoSlashHandler),
            (r"/fallback/.*", FallbackHandler, {"fallback": wsgi_like_fallback}),
        ]

    def test_redirect_handler(self) -> None:
        response = self.fetch("/old/a/b?x=1&y=2")
        self.assertEqual(response.code, 301)
        self.assertEqual(response.headers["Location"], "/new/a/b?x=1&y=2")
        response = self.fetch("/named/thing")
        self.assertEqual(
            (response.code, response.headers["Location"]), (302, "/items/thing")
        )
        self.assertEqual(
            self.fetch("/offsite").headers["Location"], "https://other.example/"
        )

    def expect_bad_redirect(self, path: str, message: str) -> None:
        with ExpectLog(gen_log, f"400 GET .*{message}", level=logging.WARNING):
            response = self.raw_get(path)
        self.assertTrue(response.startswith(b"HTTP/1.1 400"), response)
        self.assertNotIn(b"Location", response)

    def test_redirect_handler_never_leaves_site(self) -> None:
        self.assertEqual(self.fetch("/go/page").headers["Location"], "/page")
        self.assertEqual(self.fetch("/any/%2Flocal").headers["Location"], "/local")
        for path in [
            "/go//evil.example",
            "/go/%2Fevil.example",
            "/go/\\evil.example",
            "/go/%5Cevil.example",
            "/go/%09/evil.example",
            "/any/javascript:alert(1)",
            "/any/https://evil.example/",
            "/any///evil.example/",
        ]:
            with self.subTest(path=path):
                self.expect_bad_redirect(
                    path, "Redirect URL cannot change the scheme or netloc"
                )

    def test_redirect_host_comes_from_the_template(self) -> None:
        self.assertEqual(
            self.fetch("/site/page?a=1").headers["Location"],
            "https://example.com/page?a=1",
        )
        for path in [
            "/site.evil.com",
            "/site@evil.com",
            "/site:8080/x",
            "/site%09.evil.com",
            "/site.evil.com%23/x",
        ]:
            with self.subTest(path=path):
                self.expect_bad_redirect(
                    path, "Redirect URL cannot change the scheme or netloc"
                )

    def test_redirect_host_never_all_substituted(self) -> None:
        for path in ["/anyhost/example.com/x", "/anyhost3/example.com/x"]:
            with self.subTest(path=path):
                self.expect_bad_redirect(
                    path, "Redirect URL cannot change the scheme or netloc"
                )

    def test_redirect_with_control_characters_is_400_not_500(self) -> None:
        self.expect_bad_redirect(
            "/go/a%0D%0ASet-Cookie:x=1", "Redirect URL contains invalid characters"
        )
        self.expect_bad_redirect(
            "/go/a%7Fb", "Redirect URL contains invalid characters"
        )

    def test_addslash(self) -> None:
        response = self.fetch("/slash?a=1")
        self.assertEqual(
            (response.code, response.headers["Location"]), (301, "/slash/?a=1")
        )
        self.assertEqual(self.fetch("/slash/").body, b"with slash")
        self.assertEqual(self.fetch("/slash", body="").code, 404)

    def test_removeslash(self) -> None:
        response = self.fetch("/noslash///?a=1")
        self.assertEqual(
            (response.code, response.headers["Location"]), (301, "/noslash?a=1")
        )
        self.assertEqual(self.fetch("/noslash").body, b"without slash")
        self.assertEqual(self.fetch("/noslash/", body="").code, 404)

    def test_slash_redirects_stay_on_site(self) -> None:
        for path in ["//evil.example/", "/\\evil.example/", "///x/", "//add.example"]:
            with self.subTest(path=path):
                with ExpectLog(
                    gen_log,
                    "403 GET .*cannot redirect path with two initial slashes",
                    level=logging.WARNING,
                ):
                    response = self.raw_get(path)
                self.assertTrue(response.startswith(b"HTTP/1.1 403"), response)
                self.assertNotIn(b"Location", response)

    def test_fallback_handler(self) -> None:
        response = self.fetch("/fallback/x")
        self.assertEqual(response.body, b"fallback saw /fallback/x")


class UpperCaseTransform(OutputTransform):
    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        headers["X-Transformed"] = "yes"
        return status_code, headers, chunk.upper()

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return chunk.upper()


class TextHandler(RequestHandler):
    async def get(self) -> None:
        size = int(self.get_argument("size", "2000"))
        self.set_header("Content-Type", self.get_argument("type", "text/plain"))
        if self.get_argument("vary", None):
            self.set_header("Vary", "Cookie")
        self.write("a" * size)
        if self.get_argument("flush", None):
            await self.flush()
            self.write("b" * size)


class TransformTest(WebTestCase):
    def get_handlers(self) -> list[Any]:
        return [("/text", TextHandler)]

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"compress_response": True}

    def fetch_gzip(self, path: str) -> Any:
        return self.fetch(
            path, headers={"Accept-Encoding": "gzip"}, decompress_response=False
        )

    def test_gzip(self) -> None:
        response = self.fetch_gzip("/text")
        self.assertEqual(response.headers["Content-Encoding"], "gzip")
        self.assertEqual(response.headers["Vary"], "Accept-Encoding")
        self.assertEqual(gzip.decompress(response.body), b"a" * 2000)
        self.assertEqual(response.headers["Content-Length"], str(len(response.body)))

    def test_gzip_streamed(self) -> None:
        response = self.fetch_gzip("/text?flush=1")
        self.assertEqual(gzip.decompress(response.body), b"a" * 2000 + b"b" * 2000)
        self.assertNotIn("Content-Length", response.headers)

    def test_not_compressed(self) -> None:
        for path in ["/text?size=10", "/text?type=image/png"]:
            with self.subTest(path=path):
                response = self.fetch_gzip(path)
                self.assertNotIn("Content-Encoding", response.headers)
                self.assertEqual(response.headers["Vary"], "Accept-Encoding")
        plain = self.fetch("/text", decompress_response=False)
        self.assertNotIn("Content-Encoding", plain.headers)

    def test_vary_is_extended(self) -> None:
        response = self.fetch_gzip("/text?vary=1")
        self.assertEqual(response.headers["Vary"], "Cookie, Accept-Encoding")

    def test_custom_transform(self) -> None:
        self._app.add_transform(UpperCaseTransform)
        response = self.fetch("/text?size=3&flush=1", decompress_response=False)
        self.assertEqual(response.body, b"AAABBB")
        self.assertEqual(response.headers["X-Transformed"], "yes")

    def test_gzip_transform_directly(self) -> None:
        request = server_request(headers={"Accept-Encoding": "gzip"})
        transform = GZipContentEncoding(request)
        headers = HTTPHeaders({"Content-Type": "application/json"})
        _, headers, first = transform.transform_first_chunk(
            200, headers, b"{" * 50, False
        )
        rest = transform.transform_chunk(b"}" * 50, True)
        self.assertEqual(gzip.decompress(first + rest), b"{" * 50 + b"}" * 50)


# ---------------------------------------------------------------------------
# What StaticFileHandler refuses to read or hash


class LimitedVersionHandler(StaticFileHandler):
    MAX_VERSION_CONTENT_SIZE = 10


class InMemoryStaticHandler(StaticFileHandler):
    """Serves from a dict: versions must come from get_content alone."""

    FILES = {"/mem/a.txt": b"from memory"}

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return "/mem/" + path

    @classmethod
    def get_content(  # type: ignore[override]
        cls, abspath: str, start: int | None = None, end: int | None = None
    ) -> bytes:
        return cls.FILES[abspath][start:end]


class BareSymlinkHandler(StaticFileHandler):
    """Skips initialize's allowed_symlink_directory: the class default holds."""

    def initialize(self, path: str) -> None:  # type: ignore[override]
        self.root = path
        self.default_filename = None


class StaticSpecialFileTest(WebTestCase):
    def setUp(self) -> None:
        self.root = tempfile.mkdtemp()
        self.outside = tempfile.mkdtemp()
        self.other = tempfile.mkdtemp()
        for directory, name, text in [
            (self.root, "small.txt", "0123456789"),
            (self.root, "big.txt", "0123456789a"),
            (self.outside, "secret.txt", "secret"),
            (self.other, "other.txt", "other"),
        ]:
            with open(os.path.join(directory, name), "w") as f:
                f.write(text)
        if not hasattr(os, "mkfifo"):
            self.skipTest("FIFOs need a POSIX system")
        os.mkfifo(os.path.join(self.root, "fifo"))
        os.symlink("/dev/zero", os.path.join(self.root, "zero"))
        os.symlink(self.outside, os.path.join(self.root, "out"))
        os.symlink(self.other, os.path.join(self.root, "other"))
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        for directory in (self.root, self.outside, self.other):
            shutil.rmtree(directory)

    def get_app_kwargs(self) -> dict[str, Any]:
        return {"static_path": self.root}

    def get_handlers(self) -> list[Any]:
        both = [self.outside, self.other]
        return [
            ("/url/(.*)", StaticUrlOf),
            (r"/limited/(.*)", LimitedVersionHandler, {"path": self.root}),
            (r"/mem/(.*)", InMemoryStaticHandler, {"path": "/nowhere"}),
            (r"/bare/(.*)", BareSymlinkHandler, {"path": self.root}),
            (
                r"/listed/(.*)",
                StaticFileHandler,
                {"path": self.root, "allowed_symlink_directory": both},
            ),
        ]

    def test_fifo_and_device_are_refused_without_blocking(self) -> None:
        for name in ("fifo", "zero"):
            with self.subTest(name=name):
                with ExpectLog(
                    gen_log,
                    f"403 GET /static/{name} .*is not (a file|in root static directory)",
                    level=logging.WARNING,
                ):
                    self.assertEqual(self.fetch(f"/static/{name}").code, 403)
        # The server still answers.
        self.assertEqual(self.fetch("/static/small.txt").body, b"0123456789")

    def test_get_content_refuses_what_is_not_a_regular_file(self) -> None:
        for name in ("fifo", "zero"):
            with self.subTest(name=name):
                path = os.path.join(self.root, name)
                with self.assertRaises(HTTPError) as raised:
                    list(StaticFileHandler.get_content(path))
                self.assertEqual(raised.exception.status_code, 403)
                self.assertEqual(
                    raised.exception.get_message(), f"{path} is not a file"
                )

    def test_static_url_of_fifo_or_device_has_no_version(self) -> None:
        for name in ("fifo", "zero"):
            with self.subTest(name=name):
                path = os.path.join(self.root, name)
                with ExpectLog(
                    gen_log,
                    f"Could not open static file '{path}': HTTP 403",
                    level=logging.ERROR,
                ):
                    response = self.fetch(f"/url/{name}")
                self.assertEqual(response.body.decode(), f"/static/{name}")

    def test_version_size_limit(self) -> None:
        self.assertEqual(StaticFileHandler.MAX_VERSION_CONTENT_SIZE, 64 * 1024 * 1024)
        small = os.path.join(self.root, "small.txt")
        self.assertEqual(len(LimitedVersionHandler.get_content_version(small)), 128)
        big = os.path.join(self.root, "big.txt")
        with self.assertRaises(ValueError):
            LimitedVersionHandler.get_content_version(big)
        with ExpectLog(
            gen_log, "Could not open static file .*big.txt", level=logging.ERROR
        ):
            response = self.fetch("/limited/big.txt")
        self.assertEqual(response.body, b"0123456789a")
        self.assertNotIn("Etag", response.headers)
        self.assertIn("Etag", self.fetch("/limited/small.txt").headers)

    def test_versions_use_get_content_only(self) -> None:
        version = InMemoryStaticHandler.get_content_version("/mem/a.txt")
        self.assertEqual(version, hashlib.sha512(b"from memory").hexdigest())

    def test_symlink_lists_and_class_default(self) -> None:
        self.assertIsNone(StaticFileHandler.allowed_symlink_directory)
        self.assertEqual(self.fetch("/listed/out/secret.txt").body, b"secret")
        self.assertEqual(self.fetch("/listed/other/other.txt").body, b"other")
        for path in ("/static/out/secret.txt", "/bare/out/secret.txt"):
            with self.subTest(path=path):
                with ExpectLog(
                    gen_log,
                    "403 GET .*out/secret.txt is not in root static directory",
                    level=logging.WARNING,
                ):
                    self.assertEqual(self.fetch(path).code, 403)

    def test_textual_escape_from_root(self) -> None:
        with self.assertRaises(HTTPError) as raised:
            StaticFileHandler.get_absolute_path(self.root, "../secret.txt")
        self.assertEqual(raised.exception.status_code, 403)
        settings = {"static_path": self.root}
        self.assertIsNone(StaticFileHandler.get_version(settings, "../etc/passwd"))
        response = self.fetch("/url/..%2Fetc%2Fpasswd")
        self.assertEqual(response.body, b"/static/../etc/passwd")

    def test_range_without_dash_runs_to_the_end(self) -> None:
        response = self.fetch("/static/small.txt", headers={"Range": "bytes=4"})
        self.assertEqual((response.code, response.body), (206, b"456789"))
        self.assertEqual(response.headers["Content-Range"], "bytes 4-9/10")
        for start in ("10", "11", "9" * 40):
            with self.subTest(start=start):
                response = self.fetch(
                    "/static/small.txt", headers={"Range": f"bytes={start}"}
                )
                self.assertEqual(response.code, 416)
                self.assertEqual(response.headers["Content-Range"], "bytes */10")


class StaticUrlOf(RequestHandler):
    def get(self, path: str) -> None:
        self.write(self.static_url(path))
