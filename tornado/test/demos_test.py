"""Smoke tests for the web demos: each runs in a child process, driven over HTTP.

The demos are started exactly as the README says (``python3 demos/...``,
without ``PYTHONPATH``) on a free port, and talked to through
`tornado.simple_httpclient.SimpleAsyncHTTPClient` on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from tornado.gen import multi
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.test.util import (
    DemoServer,
    run_demo,
    skip_without_demos,
)
from tornado.testing import AsyncTestCase, gen_test


@skip_without_demos
class DemoTestCase(AsyncTestCase):
    """Runs one demo server for all the tests of a class."""

    script = ""
    args: list[str] = []
    server: DemoServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = DemoServer(cls.script, *cls.args)

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            cls.server.stop_and_check()
        finally:
            super().tearDownClass()

    async def fetch(self, path: str, **kwargs: Any) -> HTTPResponse:
        """Fetch ``path`` from the demo, returning error responses too.

        The simple client is used whatever ``--httpclient`` says: the
        uploads need ``body_producer``, and the path-escape checks need
        ``..`` sent as written (curl resolves it away).
        """
        kwargs.setdefault("request_timeout", 10)
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            response: HTTPResponse = await client.fetch(
                self.server.url(path),
                raise_error=False,
                follow_redirects=False,
                **kwargs,
            )
        finally:
            client.close()
        return response


class HelloWorldDemoTest(DemoTestCase):
    script = "helloworld/helloworld.py"

    @gen_test
    async def test_greets_the_world(self) -> None:
        response = await self.fetch("/")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello, world")

    @gen_test
    async def test_unknown_path_is_not_found(self) -> None:
        response = await self.fetch("/nowhere")
        self.assertEqual(response.code, 404)

    def test_bad_port_option_is_reported(self) -> None:
        result = run_demo(self.script, "--port=eighty")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("port", result.stderr)


class ChatVisitor:
    """A browser stand-in for the chat: keeps cookies, sends the XSRF token."""

    def __init__(self, test: DemoTestCase) -> None:
        self.test = test
        self.cookies: dict[str, str] = {}

    async def fetch(
        self, path: str, form: dict[str, Any] | None = None, **kwargs: Any
    ) -> HTTPResponse:
        """GET ``path``, or POST ``form`` to it, with this visitor's cookies."""
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            kwargs["headers"] = {"Cookie": cookie}
        if form is not None:
            kwargs.update(method="POST", body=urlencode(form))
        response = await self.test.fetch(path, **kwargs)
        for header in response.headers.get_list("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
                if not morsel.value:
                    del self.cookies[name]  # cleared
        return response

    async def post(self, path: str, **fields: Any) -> HTTPResponse:
        """POST ``fields`` with the XSRF token, as the page script does."""
        if "_xsrf" not in self.cookies:
            await self.fetch("/auth/login")  # sets the token cookie
        return await self.fetch(path, {"_xsrf": self.cookies["_xsrf"], **fields})

    async def sign_in(self, name: str) -> None:
        response = await self.post("/auth/login", name=name)
        self.test.assertEqual(response.code, 302, response.body)

    async def say(self, text: str) -> dict[str, Any]:
        """Post a message; return it as the server describes it."""
        response = await self.post("/a/message/new", body=text)
        self.test.assertEqual(response.code, 200, response.body)
        message: dict[str, Any] = json.loads(response.body)
        return message

    async def updates(self, cursor: int, **kwargs: Any) -> list[dict[str, Any]]:
        """The messages after ``cursor``, waiting for some if need be."""
        response = await self.post("/a/message/updates", cursor=cursor, **kwargs)
        self.test.assertEqual(response.code, 200, response.body)
        messages: list[dict[str, Any]] = json.loads(response.body)["messages"]
        return messages

    async def cursor(self) -> int:
        """The room page's cursor: the number of the latest message."""
        page = await self.fetch("/")
        self.test.assertEqual(page.code, 200)
        found = re.search(rb'data-cursor="(\d+)"', page.body)
        assert found is not None, page.body
        return int(found.group(1))


class ChatDemoTest(DemoTestCase):
    script = "chat/chat.py"

    async def visitor(self, name: str) -> ChatVisitor:
        visitor = ChatVisitor(self)
        await visitor.sign_in(name)
        return visitor

    @gen_test
    async def test_signed_out_visitor_is_sent_to_sign_in(self) -> None:
        response = await ChatVisitor(self).fetch("/")
        self.assertEqual(response.code, 302)
        self.assertEqual(response.headers["Location"], "/auth/login?next=%2F")

    @gen_test
    async def test_room_page_and_its_static_files(self) -> None:
        ada = await self.visitor("ada")
        page = await ada.fetch("/")
        self.assertEqual(page.code, 200)
        self.assertIn(b"Signed in as <strong>ada</strong>", page.body)
        scripts = re.findall(rb'src="(/static/chat\.js\?v=\w+)"', page.body)
        self.assertEqual(len(scripts), 1, page.body)
        script = await ada.fetch(scripts[0].decode())
        self.assertEqual(script.code, 200)
        self.assertIn(b"/a/message/updates", script.body)

    @gen_test
    async def test_message_is_returned_rendered_and_escaped(self) -> None:
        ada = await self.visitor("ada")
        message = await ada.say("  <i>hi</i> see http://example.test  ")
        self.assertEqual(message["author"], "ada")
        self.assertEqual(message["body"], "<i>hi</i> see http://example.test")
        self.assertIn(f'id="m{message["id"]}"', message["html"])
        self.assertIn("&lt;i&gt;hi&lt;/i&gt;", message["html"])
        self.assertIn('<a href="http://example.test">', message["html"])
        page = await ada.fetch("/")
        self.assertIn(message["html"].encode(), page.body)

    @gen_test
    async def test_updates_since_a_cursor_are_immediate(self) -> None:
        ada = await self.visitor("ada")
        first = await ada.say("one")
        second = await ada.say("two")
        self.assertEqual(second["id"], first["id"] + 1)
        self.assertEqual(await ada.updates(first["id"]), [second])

    @gen_test
    async def test_waiting_readers_all_get_the_next_message(self) -> None:
        readers = [await self.visitor(name) for name in ("bo", "cy", "di")]
        cursor = await readers[0].cursor()
        waiting = [reader.updates(cursor) for reader in readers]
        writer = await self.visitor("ed")
        message = await writer.say("news for everyone")
        self.assertEqual(await multi(waiting), [[message]] * len(readers))

    @gen_test
    async def test_abandoned_poll_does_not_disturb_the_room(self) -> None:
        ada = await self.visitor("ada")
        cursor = await ada.cursor()
        with self.assertRaises(HTTPClientError) as gone:
            await ada.fetch(
                "/a/message/updates",
                {"_xsrf": ada.cookies["_xsrf"], "cursor": cursor},
                request_timeout=0.2,
            )
        self.assertEqual(gone.exception.code, 599)  # the client gave up, hung up
        message = await ada.say("still here")
        self.assertEqual(await ada.updates(cursor), [message])

    @gen_test
    async def test_posts_need_the_xsrf_token(self) -> None:
        ada = await self.visitor("ada")
        for token in (None, "2|00000000|00000000000000000000000000000000|0", "junk"):
            form = (
                {"body": "forged"} if token is None else {"body": "x", "_xsrf": token}
            )
            response = await ada.fetch("/a/message/new", form)
            self.assertEqual(response.code, 403, token)
            self.assertNotIn(b"Traceback", response.body)

    @gen_test
    async def test_posts_need_a_signed_in_visitor(self) -> None:
        stranger = ChatVisitor(self)
        response = await stranger.post("/a/message/new", body="hello?")
        self.assertEqual(response.code, 403)
        forger = ChatVisitor(self)
        forger.cookies["chat_name"] = "mallory"  # not signed by the server
        response = await forger.fetch("/")
        self.assertEqual(response.code, 302)

    @gen_test
    async def test_sign_out(self) -> None:
        ada = await self.visitor("ada")
        response = await ada.post("/auth/logout")
        self.assertEqual(response.headers["Location"], "/auth/login")
        self.assertNotIn("chat_name", ada.cookies)
        self.assertEqual((await ada.fetch("/")).code, 302)

    @gen_test
    async def test_bad_input_is_rejected(self) -> None:
        ada = await self.visitor("ada")
        for cursor in ("abc", "-1", "1.5"):
            response = await ada.post("/a/message/updates", cursor=cursor)
            self.assertEqual(response.code, 400, cursor)
        for body in ("", "   ", "x" * 2001):
            response = await ada.post("/a/message/new", body=body)
            self.assertEqual(response.code, 400, body)
        response = await ada.post("/a/message/new")
        self.assertEqual(response.code, 400)  # no body argument at all
        for name in ("", "n" * 41):
            response = await ChatVisitor(self).post("/auth/login", name=name)
            self.assertEqual(response.code, 400, name)
            self.assertIn(b"Please choose a name", response.body)

    @gen_test
    async def test_sign_in_never_redirects_off_site(self) -> None:
        targets = {
            "//evil.example/": "/",
            "https://evil.example/": "/",
            "/\\evil.example": "/",
            "/?page=2": "/?page=2",
        }
        for target, expected in targets.items():
            response = await ChatVisitor(self).post(
                "/auth/login", name="ada", next=target
            )
            self.assertEqual(response.headers["Location"], expected, target)

    @gen_test
    async def test_form_post_without_script_redirects_back(self) -> None:
        ada = await self.visitor("ada")
        response = await ada.post("/a/message/new", body="plain form", next="/")
        self.assertEqual(response.code, 302)
        self.assertEqual(response.headers["Location"], "/")


class ChatIdlePollTest(DemoTestCase):
    script = "chat/chat.py"
    args = ["--poll_timeout=0.3"]

    @gen_test
    async def test_idle_poll_waits_then_answers_empty(self) -> None:
        visitor = ChatVisitor(self)
        await visitor.sign_in("ada")
        start = time.monotonic()
        self.assertEqual(await visitor.updates(0), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.25)


class FileUploadDemoTest(DemoTestCase):
    script = "file_upload/file_receiver.py"
    upload_dir = ""

    @classmethod
    def setUpClass(cls) -> None:
        cls.upload_dir = tempfile.mkdtemp(prefix="uploads-")
        cls.args = [f"--upload_dir={cls.upload_dir}", "--max_size=1000000"]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.upload_dir)

    def setUp(self) -> None:
        super().setUp()
        self.sources = tempfile.mkdtemp(prefix="to-upload-")
        self.addCleanup(shutil.rmtree, self.sources)

    def make_file(self, name: str, content: bytes) -> str:
        path = os.path.join(self.sources, name)
        with open(path, "wb") as file:
            file.write(content)
        return path

    def stored(self, name: str) -> bytes:
        with open(os.path.join(self.upload_dir, name), "rb") as file:
            return file.read()

    def assert_no_partial_files(self) -> None:
        leftovers = [n for n in os.listdir(self.upload_dir) if n.startswith(".")]
        self.assertEqual(leftovers, [])

    def upload(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_demo(
            "file_upload/uploader.py", f"--url={self.server.url('/upload')}", *args
        )

    def test_uploader_streams_files_both_ways(self) -> None:
        big = os.urandom(300_000)  # several chunks of --chunk_size
        for method in ("PUT", "POST"):
            paths = [
                self.make_file(f"big-{method}.bin", big),
                self.make_file(f"notes-{method}.txt", b"line\r\n--not a boundary\r\n"),
            ]
            result = self.upload(f"--method={method}", "--chunk_size=65536", *paths)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(
                result.stdout.splitlines(),
                [
                    f"big-{method}.bin: 300000 bytes, sha256 verified",
                    f"notes-{method}.txt: 24 bytes, sha256 verified",
                ],
            )
            self.assertEqual(self.stored(f"big-{method}.bin"), big)
        self.assert_no_partial_files()

    @gen_test
    async def test_empty_put_stores_an_empty_file(self) -> None:
        response = await self.fetch("/upload/empty.txt", method="PUT", body=b"")
        self.assertEqual(response.code, 200, response.body)
        self.assertEqual(json.loads(response.body)["size"], 0)
        self.assertEqual(self.stored("empty.txt"), b"")

    def test_uploader_reports_its_errors(self) -> None:
        missing = os.path.join(self.sources, "missing.bin")
        result = self.upload(missing)
        self.assertEqual(result.returncode, 1)
        self.assertIn("upload failed", result.stderr)
        self.assertIn("missing.bin", result.stderr)
        self.assertEqual(self.upload().returncode, 2)  # no files given
        result = self.upload("--method=GET", self.make_file("a.txt", b"a"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("usage", result.stderr)

    @gen_test
    async def test_multipart_body_in_tiny_chunks(self) -> None:
        content = b"\r\n--ab\r\n-\r\n--abd, nearly a delimiter\r\n--" * 20
        body = (
            b"preamble to ignore\r\n"
            b"--abc\r\n"
            b'Content-Disposition: form-data; name="comment"\r\n\r\n'
            b"a plain field\r\n"
            b"--abc\r\n"
            b'Content-Disposition: form-data; name="f"; filename="tiny.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
            b"--abc--\r\nepilogue"
        )

        async def trickle(write: Any) -> None:
            for start in range(0, len(body), 7):
                await write(body[start : start + 7])

        response = await self.fetch(
            "/upload",
            method="POST",
            headers={"Content-Type": 'multipart/form-data; boundary="abc"'},
            body_producer=trickle,
        )
        self.assertEqual(response.code, 200, response.body)
        [described] = json.loads(response.body)["files"]
        self.assertEqual(described["name"], "tiny.bin")
        self.assertEqual(described["size"], len(content))
        self.assertEqual(described["sha256"], hashlib.sha256(content).hexdigest())
        self.assertEqual(self.stored("tiny.bin"), content)

    @gen_test
    async def test_unsafe_file_names_are_refused(self) -> None:
        for quoted in ("..%2Fescaped", "..", ".hidden", "a%00b", "a%20b", ""):
            response = await self.fetch(f"/upload/{quoted}", method="PUT", body=b"x")
            self.assertEqual(response.code, 400, quoted)
        self.assertFalse(os.path.exists(os.path.join(self.upload_dir, "../escaped")))
        self.assert_no_partial_files()

    @gen_test
    async def test_malformed_multipart_is_refused(self) -> None:
        part = b'--b\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n'
        bodies = {
            "text/plain": part,
            "multipart/form-data": part,  # no boundary
            "multipart/form-data; boundary=b": part + b"\r\ndata without an end",
            "multipart/form-data; boundary=c": part,  # a different boundary
        }
        for content_type, body in bodies.items():
            response = await self.fetch(
                "/upload",
                method="POST",
                headers={"Content-Type": content_type},
                body=body,
            )
            self.assertEqual(response.code, 400, content_type)
        bad_name = part.replace(b"x.bin", b"../x.bin") + b"\r\n\r\nx\r\n--b--\r\n"
        response = await self.fetch(
            "/upload",
            method="POST",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            body=bad_name,
        )
        self.assertEqual(response.code, 400)
        self.assert_no_partial_files()

    @gen_test
    async def test_body_over_the_size_limit_is_refused(self) -> None:
        try:
            response = await self.fetch(
                "/upload/huge.bin", method="PUT", body=b"x" * 1_000_001
            )
            code = response.code
        except HTTPClientError as error:  # the server may hang up mid-body
            code = error.code
        except OSError:  # ... before we finished sending it
            code = 599
        self.assertIn(code, (400, 413, 599))
        self.assertFalse(os.path.exists(os.path.join(self.upload_dir, "huge.bin")))
        self.assert_no_partial_files()


if __name__ == "__main__":
    unittest.main()
