#!/usr/bin/env python3
"""A chat room over WebSockets.

Run ``python chatdemo.py`` and open http://localhost:8888/ in a few browser
windows: what is typed in one appears in all of them.  Each browser keeps a
WebSocket open to ``/chatsocket``; a message sent on it is rendered to HTML
once on the server and broadcast to every open socket.  Newcomers see the
most recent messages.

``--port=0`` picks a free port; once listening, the server prints
``listening on PORT`` on standard output.
"""

import asyncio
import logging
import os.path
import uuid

from tornado.escape import json_decode
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.options import define, options, parse_command_line
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

define("port", default=8888, help="port to listen on (0: any free port)")
define("address", default="127.0.0.1", help="address to listen on")
define("debug", default=False, help="reload code and templates on change")

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


class MainHandler(RequestHandler):
    def initialize(self, room):
        self.room = room

    def get(self):
        self.render("index.html", messages=self.room.history)


class ChatSocketHandler(WebSocketHandler):
    def initialize(self, room):
        self.room = room

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
        chat = {"id": str(uuid.uuid4()), "body": str(body)}
        chat["html"] = self.render_string("message.html", message=chat).decode()
        logger.info("message from %s", self.request.remote_ip)
        self.room.post(chat)


def make_app(room=None):
    room = room or ChatRoom()
    here = os.path.dirname(os.path.abspath(__file__))
    return Application(
        [
            ("/", MainHandler, dict(room=room)),
            ("/chatsocket", ChatSocketHandler, dict(room=room)),
        ],
        template_path=os.path.join(here, "templates"),
        static_path=os.path.join(here, "static"),
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
