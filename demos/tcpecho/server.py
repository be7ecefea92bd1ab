#!/usr/bin/env python3
"""A TCP echo server: every line a client sends comes back to it.

Run ``python server.py --port=9888`` and talk to it with ``client.py``
(or ``nc localhost 9888``).  With ``--port=0`` the system picks a free port.
Once listening, the server prints ``listening on PORT`` on standard output.
"""

import asyncio
import logging

from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.options import define, options, parse_command_line
from tornado.tcpserver import TCPServer

define("port", default=9888, help="TCP port to listen on (0: any free port)")
define("address", default="127.0.0.1", help="address to listen on")

logger = logging.getLogger("tcpecho")


class EchoServer(TCPServer):
    """Sends back each line it receives, until the client disconnects."""

    async def handle_stream(self, stream, address):
        logger.info("connection from %s", address)
        try:
            while True:
                line = await stream.read_until(b"\n")
                await stream.write(line)
        except StreamClosedError:
            logger.info("%s disconnected", address)


async def main():
    parse_command_line()
    sockets = bind_sockets(options.port, address=options.address)
    server = EchoServer()
    server.add_sockets(sockets)
    print("listening on", sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
