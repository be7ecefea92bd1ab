#!/usr/bin/env python3
"""Sends files to ``file_receiver.py``, streaming them from disk.

Each file is read in chunks by a ``body_producer``, so even huge files use
little memory.  The server's SHA-256 of each stored file is checked against
the one computed while sending::

    python3 demos/file_upload/uploader.py --url=http://localhost:8888/upload a.bin b.txt
    python3 demos/file_upload/uploader.py --method=POST a.bin b.txt

``PUT`` (the default) sends one request per file; ``POST`` sends all files in
a single ``multipart/form-data`` request, as a browser form would.
"""

import asyncio
import functools
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

# Run from a source checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.options import define, options, parse_command_line

define("url", default="http://localhost:8888/upload", help="the receiver's URL")
define("method", default="PUT", help="PUT (a request per file) or POST (multipart)")
define("chunk_size", default=64 * 1024, help="bytes read from disk at a time")

Write = Callable[[bytes], Awaitable[None]]


class Sender:
    """Streams files to a ``write`` function, hashing what it sends."""

    def __init__(self) -> None:
        self.digests: dict[str, str] = {}

    async def send_file(self, path: str, write: Write) -> None:
        """Write the content of ``path`` chunk by chunk."""
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while chunk := file.read(options.chunk_size):
                digest.update(chunk)
                await write(chunk)
        self.digests[os.path.basename(path)] = digest.hexdigest()

    def check(self, stored: dict[str, Any]) -> str:
        """A report line for one file the server stored; raise if it differs."""
        name = stored["name"]
        if stored["sha256"] != self.digests[name]:
            raise ValueError(f"{name}: the server stored different content")
        return f"{name}: {stored['size']} bytes, sha256 verified"


async def put_files(paths: list[str]) -> list[str]:
    """One streaming PUT per file."""
    sender, reports = Sender(), []
    for path in paths:
        name = os.path.basename(path)
        request = HTTPRequest(
            f"{options.url}/{quote(name)}",
            method="PUT",
            headers={"Content-Length": str(os.path.getsize(path))},
            body_producer=functools.partial(sender.send_file, path),
            request_timeout=0,
        )
        response = await AsyncHTTPClient().fetch(request)
        reports.append(sender.check(json.loads(response.body)))
    return reports


async def post_files(paths: list[str]) -> list[str]:
    """All files in one streaming ``multipart/form-data`` POST."""
    sender, boundary = Sender(), uuid.uuid4().hex
    heads = [part_head(boundary, os.path.basename(path)) for path in paths]
    tail = f"--{boundary}--\r\n".encode()
    length = sum(
        len(head) + os.path.getsize(path) + 2
        for head, path in zip(heads, paths, strict=True)
    )

    async def produce(write: Write) -> None:
        for head, path in zip(heads, paths, strict=True):
            await write(head)
            await sender.send_file(path, write)
            await write(b"\r\n")
        await write(tail)

    request = HTTPRequest(
        options.url,
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length + len(tail)),
        },
        body_producer=produce,
        request_timeout=0,
    )
    response = await AsyncHTTPClient().fetch(request)
    return [sender.check(stored) for stored in json.loads(response.body)["files"]]


def part_head(boundary: str, name: str) -> bytes:
    """The delimiter and headers that introduce one file part."""
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


async def main() -> int:
    """Upload the files named on the command line; print one line per file."""
    paths = parse_command_line()
    if not paths or options.method not in ("PUT", "POST"):
        print(
            "usage: uploader.py [--method=PUT|POST] [--url=URL] FILE...",
            file=sys.stderr,
        )
        return 2
    upload = put_files if options.method == "PUT" else post_files
    try:
        reports = await upload(paths)
    except (OSError, HTTPClientError, ValueError) as error:
        detail = getattr(getattr(error, "response", None), "body", b"") or b""
        print(
            f"upload failed: {error} {detail.decode(errors='replace')}", file=sys.stderr
        )
        return 1
    print("\n".join(reports))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
