#!/usr/bin/env python3
"""A Tornado application run as several processes behind nginx.

nginx (see ``nginx.conf`` beside this file and docs/guide/running.rst)
serves ``static/`` itself and proxies everything else to these processes,
which trust its ``X-Real-IP`` and ``X-Forwarded-Proto`` headers
(``xheaders=True``).  Two ways to run several processes on one port:

``--processes=N``
    bind the socket once, then ``fork_processes(N)``: one process tree,
    the parent restarts children that die;
``--reuse_port``
    each process binds the port itself with ``SO_REUSEPORT``: start the
    script N times (by a process manager, say); the kernel spreads new
    connections across them.

Endpoints: ``/whoami`` (which process answered, and who it thinks the client
is), ``/wait?key=K`` (a long poll, parked until ``POST /release?key=K``
reaches the same process: state lives in one process's memory) and the
WebSocket ``/echo``.
"""

import asyncio
import datetime
import os
import sys

# Run from a source checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))

from tornado.httpserver import HTTPServer
from tornado.locks import Event
from tornado.netutil import bind_sockets
from tornado.options import define, options, parse_command_line
from tornado.process import fork_processes
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketHandler

define("port", default=8000, help="port to listen on, on 127.0.0.1")
define("processes", default=1, help="processes to fork (0: one per CPU)")
define("reuse_port", default=False, help="bind with SO_REUSEPORT, do not fork")
define("poll_timeout", default=60.0, help="seconds a parked /wait may last")


def client_view(request):
    """Which process answered, and what it knows of the client."""
    return {
        "pid": os.getpid(),
        "remote_ip": request.remote_ip,
        "protocol": request.protocol,
        "host": request.host,
        "x_forwarded_for": request.headers.get("X-Forwarded-For"),
    }


class BaseHandler(RequestHandler):
    def set_default_headers(self):
        # Lets a test tell Tornado's answers from nginx's own.
        self.set_header("X-Served-By", f"tornado-{os.getpid()}")


class WhoAmIHandler(BaseHandler):
    def get(self):
        self.write(client_view(self.request))


class WaitHandler(BaseHandler):
    """Parks until released, or answers ``released: false`` after a while."""

    async def get(self):
        event = self.settings["waiters"].setdefault(self.get_argument("key"), Event())
        try:
            await event.wait(timeout=datetime.timedelta(seconds=options.poll_timeout))
            released = True
        except TimeoutError:
            released = False
        self.write({"released": released, **client_view(self.request)})


class ReleaseHandler(BaseHandler):
    def post(self):
        event = self.settings["waiters"].pop(self.get_argument("key"), None)
        if event is not None:
            event.set()
        self.write({"released": event is not None, "pid": os.getpid()})


class EchoSocket(WebSocketHandler):
    def open(self):
        self.write_message(client_view(self.request))

    def on_message(self, message):
        self.write_message({"echo": message, "pid": os.getpid()})


def make_app():
    here = os.path.dirname(os.path.abspath(__file__))
    return Application(
        [
            ("/whoami", WhoAmIHandler),
            ("/wait", WaitHandler),
            ("/release", ReleaseHandler),
            ("/echo", EchoSocket),
        ],
        static_path=os.path.join(here, "static"),
        waiters={},
    )


async def serve(sockets):
    server = HTTPServer(make_app(), xheaders=True)
    server.add_sockets(sockets)
    await asyncio.Event().wait()


def main():
    parse_command_line()
    if options.reuse_port:
        sockets = bind_sockets(options.port, "127.0.0.1", reuse_port=True)
    else:
        sockets = bind_sockets(options.port, "127.0.0.1")
        fork_processes(options.processes)
    asyncio.run(serve(sockets))


if __name__ == "__main__":
    main()
