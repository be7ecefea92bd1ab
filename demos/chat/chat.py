#!/usr/bin/env python3
"""A long-polling chat room.

Everyone signs in with a display name, then shares one message board.  The
page keeps a request to ``/a/message/updates`` open; the server parks it until
somebody posts, so new messages show up at once without WebSockets.

Run it from the repository root and open http://localhost:8888/::

    python3 demos/chat/chat.py --port=8888
"""

import asyncio
import collections
import datetime
import os
import sys
from typing import Any

# Run from a source checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))

import tornado.web
from tornado.escape import to_unicode
from tornado.locks import Condition
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="run on the given port", type=int)
define("debug", default=False, help="reload code and templates on change")
define("history", default=100, help="messages kept for readers who join later")
define("poll_timeout", default=60.0, help="seconds an idle updates request waits")
define("cookie_secret", default="", help="key signing the name cookies (random)")

NAME_COOKIE = "chat_name"
MAX_NAME_LENGTH = 40
MAX_MESSAGE_LENGTH = 2000

#: A chat message as the browser receives it: ``id``, ``author``, ``body``
#: and ``html``, the message rendered by ``message.html``.
Message = dict[str, Any]


class MessageBoard:
    """The recent messages, and a condition to wait for newer ones.

    Messages are numbered from 1 upwards; a reader's cursor is the number of
    the last message it has seen.
    """

    def __init__(self, history: int) -> None:
        self.messages: collections.deque[Message] = collections.deque(maxlen=history)
        self.arrived = Condition()
        self.last_id = 0

    def draft(self, author: str, body: str) -> Message:
        """A new message with the next number, not yet visible to readers."""
        self.last_id += 1
        return {"id": self.last_id, "author": author, "body": body}

    def publish(self, message: Message) -> None:
        """Add a drafted message and wake every waiting reader."""
        self.messages.append(message)
        self.arrived.notify_all()

    def newer_than(self, cursor: int) -> list[Message]:
        """The kept messages a reader at ``cursor`` has not seen yet."""
        return [message for message in self.messages if message["id"] > cursor]


class BaseHandler(tornado.web.RequestHandler):
    """Knows the board and who is signed in (the signed name cookie)."""

    def initialize(self, board: MessageBoard) -> None:
        """Keep the shared board."""
        self.board = board

    def get_current_user(self) -> str | None:
        """The display name from the signed cookie, if any."""
        name = self.get_signed_cookie(NAME_COOKIE)
        return to_unicode(name) if name else None


class LoginHandler(BaseHandler):
    """Asks for a display name and remembers it in a signed cookie."""

    def get(self) -> None:
        """Show the sign-in form."""
        self.render("login.html", error=None)

    def post(self) -> None:
        """Accept a name, then go back where the reader was heading."""
        name = self.get_body_argument("name", "")
        if not name or len(name) > MAX_NAME_LENGTH:
            self.set_status(400)
            error = f"Please choose a name of 1 to {MAX_NAME_LENGTH} characters."
            self.render("login.html", error=error)
            return
        self.set_signed_cookie(NAME_COOKIE, name, expires_days=30, httponly=True)
        self.redirect(self.local_target())

    def local_target(self) -> str:
        """The ``next`` argument if it stays on this site, else the chat room.

        A ``next`` such as ``//evil.example/`` or ``https://...`` would turn
        the login form into an open redirect.
        """
        target: str = self.get_argument("next", "/")
        if target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
        return "/"


class LogoutHandler(BaseHandler):
    """Forgets the display name."""

    def post(self) -> None:
        """Clear the name cookie and return to the sign-in form."""
        self.clear_cookie(NAME_COOKIE)
        self.redirect("/auth/login")


class MainHandler(BaseHandler):
    """The chat room page with the messages so far."""

    @tornado.web.authenticated
    def get(self) -> None:
        """Render the room; the page script takes over from ``cursor``."""
        self.render(
            "index.html", messages=self.board.messages, cursor=self.board.last_id
        )


class NewMessageHandler(BaseHandler):
    """Posts a message to the board."""

    @tornado.web.authenticated
    def post(self) -> None:
        """Publish the ``body`` argument and answer with the message as JSON.

        A form sent without the page script passes ``next`` and is redirected
        there instead.
        """
        body = self.get_argument("body").strip()
        if not body or len(body) > MAX_MESSAGE_LENGTH:
            raise tornado.web.HTTPError(
                400, f"a message has 1 to {MAX_MESSAGE_LENGTH} characters"
            )
        message = self.board.draft(self.current_user, body)
        message["html"] = to_unicode(
            self.render_string("message.html", message=message)
        )
        self.board.publish(message)
        if self.get_argument("next", None) is not None:
            self.redirect("/")
        else:
            self.write(message)


class UpdatesHandler(BaseHandler):
    """Long polling: answers once there are messages newer than ``cursor``.

    An idle request is parked on the board's condition, and answered with no
    messages after ``--poll_timeout`` seconds so that proxies do not cut it.
    """

    waiter: "asyncio.Future[bool] | None" = None

    @tornado.web.authenticated
    async def post(self) -> None:
        """Wait for messages after ``cursor`` and send them as JSON."""
        cursor = self.cursor_argument()
        messages = self.board.newer_than(cursor)
        while not messages:
            patience = datetime.timedelta(seconds=options.poll_timeout)
            self.waiter = asyncio.ensure_future(self.board.arrived.wait(patience))
            try:
                notified = await self.waiter
            except asyncio.CancelledError:
                return  # the reader went away: nobody to answer
            if not notified:
                break
            messages = self.board.newer_than(cursor)
        self.write({"messages": messages})

    def cursor_argument(self) -> int:
        """The ``cursor`` argument as a message number (0: from the start)."""
        text = self.get_argument("cursor", "0")
        try:
            cursor = int(text)
        except ValueError:
            cursor = -1
        if cursor < 0:
            raise tornado.web.HTTPError(400, f"bad cursor {text!r}")
        return cursor

    def on_connection_close(self) -> None:
        """Stop waiting for a reader that hung up."""
        if self.waiter is not None:
            self.waiter.cancel()


def make_app(board: MessageBoard, **settings: Any) -> tornado.web.Application:
    """The chat application serving ``board``."""
    here = os.path.dirname(os.path.abspath(__file__))
    args = {"board": board}
    return tornado.web.Application(
        [
            (r"/", MainHandler, args),
            (r"/auth/login", LoginHandler, args),
            (r"/auth/logout", LogoutHandler, args),
            (r"/a/message/new", NewMessageHandler, args),
            (r"/a/message/updates", UpdatesHandler, args),
        ],
        template_path=os.path.join(here, "templates"),
        static_path=os.path.join(here, "static"),
        login_url="/auth/login",
        xsrf_cookies=True,
        **settings,
    )


async def main() -> None:
    """Parse the command line, then serve until interrupted."""
    parse_command_line()
    app = make_app(
        MessageBoard(options.history),
        cookie_secret=options.cookie_secret or os.urandom(32).hex(),
        debug=options.debug,
    )
    app.listen(options.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
