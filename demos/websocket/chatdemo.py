#!/usr/bin/env python3
"""A chat room over WebSockets.

Run ``python chatdemo.py`` and open http://localhost:8888/ in a few browser
windows: sign in with a name in each, and what is typed in one appears in
all of them.  Each browser keeps a WebSocket open to ``/chatsocket``; a
message sent on it is rendered to HTML once on the server and broadcast to
every open socket.  Newcomers see the most recent messages.

The name is kept in a signed cookie set by an XSRF-protected form; the
socket accepts only signed-in visitors (and, by default, pages of this
site: WebSocketHandler checks the ``Origin`` header).

``--port=0`` picks a free port; once listening, the server prints
``listening on PORT`` on standard output.
"""

import asyncio
import logging
import os
import os.path
import uuid

from tornado.escape import json_decode, to_unicode
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.options import define, options, parse_command_line
from tornado.web import Application, RequestHandler, authenticated
from tornado.websocket import WebSocketClosedError, WebSocketHandler

define("port", default=8888, help="port to listen on (0: any free port)")
define("address", default="127.0.0.1", help="address to listen on")
define("debug", default=False, help="reload code and templates on change")
define("cookie_secret", default="", help="key signing the name cookies (random)")

NAME_COOKIE = "chat_name"
MAX_NAME_LENGTH = 40

logger = logging.getLogger("chatdemo")


class ChatRoom:
    """The open sockets and the recent history of the room."""

    history_size = 200

    def __init__(self):
        self.members = set()
        self.history = []

    def join(self, member):
        self.members.add(member)

    def leave(self, member):
        self.members.discard(member)

    def post(self, message):
        self.history = (self.history + [message])[-self.history_size :]
        for member in list(self.members):
            try:
                member.write_message(message)
            except WebSocketClosedError:
                self.leave(member)


def signed_in_name(handler):
    """The visitor's name from the signed cookie, or None."""
    name = handler.get_signed_cookie(NAME_COOKIE)
    return to_unicode(name) if name else None


class MainHandler(RequestHandler):
    def initialize(self, room):
        self.room = room

    def get_current_user(self):
        return signed_in_name(self)

    @authenticated
    def get(self):
        self.render("index.html", messages=self.room.history)


class LoginHandler(RequestHandler):
    """A form for a display name; posting it (with the XSRF token) signs in."""

    def get(self):
        self.render("login.html", error=None)

    def post(self):
        name = self.get_body_argument("name", "").strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            self.set_status(400)
            error = f"Please choose a name of 1 to {MAX_NAME_LENGTH} characters."
            self.render("login.html", error=error)
            return
        self.set_signed_cookie(NAME_COOKIE, name, httponly=True)
        self.redirect("/")


class ChatSocketHandler(WebSocketHandler):
    def initialize(self, room):
        self.room = room

    def get_current_user(self):
        return signed_in_name(self)

    @authenticated
    async def get(self, *args, **kwargs):
        # Signed out: authenticated answers the upgrade with a redirect.
        await super().get(*args, **kwargs)

    def open(self):
        self.room.join(self)

    def on_close(self):
        self.room.leave(self)

    def on_message(self, message):
        try:
            body = json_decode(message)["body"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring malformed message %r", message)
            return
        chat = {"id": str(uuid.uuid4()), "author": self.current_user, "body": str(body)}
        chat["html"] = self.render_string("message.html", message=chat).decode()
        logger.info("message from %s", self.request.remote_ip)
        self.room.post(chat)


def make_app(room=None, cookie_secret=None):
    room = room or ChatRoom()
    here = os.path.dirname(os.path.abspath(__file__))
    return Application(
        [
            ("/", MainHandler, dict(room=room)),
            ("/auth/login", LoginHandler),
            ("/chatsocket", ChatSocketHandler, dict(room=room)),
        ],
        template_path=os.path.join(here, "templates"),
        static_path=os.path.join(here, "static"),
        login_url="/auth/login",
        xsrf_cookies=True,
        cookie_secret=cookie_secret or options.cookie_secret or os.urandom(32).hex(),
        debug=options.debug,
    )


async def main():
    parse_command_line()
    sockets = bind_sockets(options.port, address=options.address)
    server = HTTPServer(make_app())
    server.add_sockets(sockets)
    print("listening on", sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
