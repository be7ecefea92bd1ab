#!/usr/bin/env python3
"""The smallest Tornado web application: one handler greeting the world.

Run it from the repository root and open http://localhost:8888/::

    python3 demos/helloworld/helloworld.py --port=8888
"""

import asyncio
import os
import sys

# Run from a source checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))

import tornado.web
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="run on the given port", type=int)


class MainHandler(tornado.web.RequestHandler):
    """Greets whoever asks."""

    def get(self) -> None:
        """Answer with the classic greeting."""
        self.write("Hello, world")


def make_app() -> tornado.web.Application:
    """The application: a single route."""
    return tornado.web.Application([(r"/", MainHandler)])


async def main() -> None:
    """Parse the command line, then serve until interrupted."""
    parse_command_line()
    make_app().listen(options.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
