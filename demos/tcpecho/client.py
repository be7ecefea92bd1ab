#!/usr/bin/env python3
"""A client for the TCP echo server: sends a line and prints the reply.

Run ``python client.py --port=9888 --message="hello"``.
"""

import asyncio
import sys

from tornado.iostream import StreamClosedError
from tornado.options import define, options, parse_command_line
from tornado.tcpclient import TCPClient

define("host", default="127.0.0.1", help="server host")
define("port", default=9888, help="server port")
define("message", default="ping", help="line to send")


async def main():
    parse_command_line()
    try:
        stream = await TCPClient().connect(options.host, options.port)
    except OSError as e:
        reason = getattr(e, "real_error", None) or e
        sys.exit(f"cannot connect to {options.host}:{options.port}: {reason}")
    try:
        await stream.write(options.message.encode() + b"\n")
        reply = await stream.read_until(b"\n")
        print("echoed:", reply.decode().rstrip("\n"))
    except StreamClosedError:
        sys.exit("the server closed the connection")
    finally:
        stream.close()


if __name__ == "__main__":
    asyncio.run(main())
