"""The two chat demos driven in a real browser: headless Chromium via Selenium.

Each demo runs as a child process on a free loopback port (the harness in
`tornado.test.util`).  Two browser sessions, each with a profile of
its own (so their own cookies), sign in through the XSRF-protected form;
one posts, and the message must appear in both pages within a few seconds:
through the parked long-poll request in ``demos/chat``, through the
WebSocket in ``demos/websocket``.  A reload shows the history, and a post
without the XSRF token is refused.  Screenshots of every session are saved
under ``build/browser/`` for a person to look at.

Needs Debian's ``chromium`` and ``chromium-driver`` and Selenium (a dev
dependency); ``./runtests.sh`` installs the browser when it can.  Not part
of the main suite (it is slow to start a browser): run it with
``python -m tornado.test.runtests tornado.test.demos_browser``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unittest
from collections.abc import Callable
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tornado.test.util import REPO_ROOT, DemoServer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_DIR = os.path.join(REPO_ROOT, "build", "browser")
# Seconds a page may take to show what a step expects.
DEADLINE = 10.0

# Without the background-networking switches Chromium keeps trying to reach
# Google's services, which this machine's closed network refuses.
CHROMIUM_SWITCHES = [
    "--headless=new",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,720",
]


FADED_IN_SCRIPT = """
return [...document.querySelectorAll("#inbox .message")].every(
    (node) => getComputedStyle(node).opacity === "1");
"""


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None if it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed (Debian: chromium, chromium-driver)"
    return None


class Browser:
    """One headless Chromium session with an empty profile of its own."""

    def __init__(self, demo: str, name: str) -> None:
        self.demo = demo
        self.name = name
        self.profile = tempfile.mkdtemp(prefix=f"chromium-{name}-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for switch in [*CHROMIUM_SWITCHES, f"--user-data-dir={self.profile}"]:
            options.add_argument(switch)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(DEADLINE)
        self.driver.set_script_timeout(DEADLINE)

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, url: str) -> None:
        self.driver.get(url)

    def path(self) -> str:
        """The path of the page shown, with its query."""
        url: str = self.driver.current_url
        return re.sub(r"^https?://[^/]+", "", url)

    def find(self, selector: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def texts(self, selector: str) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, selector)]

    def wait_for(self, condition: Callable[[], Any], what: str) -> Any:
        """Poll ``condition`` until it is true; fail after `DEADLINE` seconds."""
        try:
            return WebDriverWait(self.driver, DEADLINE, poll_frequency=0.05).until(
                lambda _: condition()
            )
        except TimeoutException:
            self.screenshot("timeout")
            raise AssertionError(
                f"{self.name}: no {what} within {DEADLINE} seconds; the page is "
                f"{self.path()}, saved as {self.screenshot_path('timeout')}"
            ) from None

    def type_and_submit(self, selector: str, text: str) -> None:
        field = self.find(selector)
        field.clear()
        field.send_keys(text + Keys.ENTER)

    def post_without_xsrf_token(self, path: str, fields: dict[str, str]) -> int:
        """The status of a script POST from this page that omits ``_xsrf``."""
        status: int = self.driver.execute_async_script(
            """
            const [path, fields, done] = arguments;
            fetch(path, {method: "POST", body: new URLSearchParams(fields)})
                .then((response) => done(response.status), () => done(-1));
            """,
            path,
            fields,
        )
        return status

    def messages_faded_in(self) -> bool:
        return bool(self.driver.execute_script(FADED_IN_SCRIPT))

    def console_errors(self) -> list[str]:
        """Errors the page scripts logged (a missing favicon aside)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")  # type: ignore[no-untyped-call]
            if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
        ]

    def screenshot_path(self, step: str) -> str:
        return os.path.join(SCREENSHOT_DIR, f"{self.demo}-{self.name}-{step}.png")

    def screenshot(self, step: str) -> None:
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        self.driver.save_screenshot(self.screenshot_path(step))


class BrowserDemoTestCase(unittest.TestCase):
    """A demo server for the class, two fresh browser sessions per test."""

    script = ""
    #: The prefix of the screenshots' file names.
    demo = ""
    server: DemoServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        reason = missing_browser()
        if reason is not None:
            # ./runtests.sh installs the browser first, or says why it could
            # not (and fails under CI=true); run by hand, say it here.
            raise unittest.SkipTest(reason)
        cls.server = DemoServer(cls.script)

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            cls.server.stop_and_check()
        finally:
            super().tearDownClass()

    def browser(self, name: str) -> Browser:
        browser = Browser(self.demo, name)
        self.addCleanup(browser.quit)
        return browser

    def sign_in(self, browser: Browser, name: str) -> None:
        """Open the room signed out, get sent to the form, sign in."""
        browser.open(self.server.url("/"))
        browser.wait_for(
            lambda: browser.path().startswith("/auth/login"), "sign-in form"
        )
        browser.screenshot("sign-in")
        browser.type_and_submit("input[name=name]", name)
        browser.wait_for(lambda: browser.path() == "/", "room after sign-in")

    def wait_for_message(self, browser: Browser, text: str) -> None:
        browser.wait_for(
            lambda: text in browser.texts("#inbox .message"), f"message {text!r}"
        )

    def converse(self, alice: Browser, bob: Browser, message_field: str) -> None:
        """Each posts once; both pages show both messages; screenshots."""
        alice.type_and_submit(message_field, "hello from <alice>")
        for browser in (alice, bob):
            self.wait_for_message(browser, "alice: hello from <alice>")
        bob.type_and_submit(message_field, "hi alice")
        for browser in (alice, bob):
            self.wait_for_message(browser, "bob: hi alice")
        for browser in (alice, bob):
            # New messages may fade in; the screenshot should show them whole.
            browser.wait_for(browser.messages_faded_in, "fade-in")
            browser.screenshot("conversation")
            self.assertEqual(browser.console_errors(), [])

    def assert_history(self, browser: Browser) -> None:
        self.assertEqual(
            browser.texts("#inbox .message"),
            ["alice: hello from <alice>", "bob: hi alice"],
        )
        browser.screenshot("reloaded")


class LongPollingChatInBrowserTest(BrowserDemoTestCase):
    script = "chat/chat.py"
    demo = "chat"

    def test_two_visitors_talk(self) -> None:
        alice, bob = self.browser("alice"), self.browser("bob")
        self.sign_in(alice, "alice")
        self.sign_in(bob, "bob")
        self.assertIn("Signed in as bob", bob.find("header").text)

        # Bob's page has a long-poll request parked; Alice's post releases it.
        self.converse(alice, bob, "#compose input[name=body]")

        # A reload renders the history on the server.
        bob.driver.refresh()
        bob.wait_for(lambda: len(bob.texts("#inbox .message")) == 2, "history")
        self.assert_history(bob)

        # The form carries the XSRF token; the same post without it fails.
        status = bob.post_without_xsrf_token("/a/message/new", {"body": "forged"})
        self.assertEqual(status, 403)
        bob.driver.refresh()
        bob.wait_for(lambda: bob.find("#compose"), "room")
        self.assertNotIn("bob: forged", bob.texts("#inbox .message"))


class WebSocketChatInBrowserTest(BrowserDemoTestCase):
    script = "websocket/chatdemo.py"
    demo = "websocket"

    def wait_until_connected(self, browser: Browser) -> None:
        browser.wait_for(
            lambda: browser.find("#status").text == "connected", "open WebSocket"
        )

    def test_two_visitors_talk(self) -> None:
        alice, bob = self.browser("alice"), self.browser("bob")
        for browser, name in ((alice, "alice"), (bob, "bob")):
            self.sign_in(browser, name)
            self.wait_until_connected(browser)

        self.converse(alice, bob, "#message")

        bob.driver.refresh()
        self.wait_until_connected(bob)
        self.assert_history(bob)

        status = bob.post_without_xsrf_token("/auth/login", {"name": "mallory"})
        self.assertEqual(status, 403)


if __name__ == "__main__":
    unittest.main()
