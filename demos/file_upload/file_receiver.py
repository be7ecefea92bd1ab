#!/usr/bin/env python3
"""Receives uploaded files without holding them in memory.

Both handlers use `tornado.web.stream_request_body`: the body reaches
``data_received`` chunk by chunk as it arrives, and goes straight to disk.

* ``PUT /upload/NAME`` stores the raw request body as ``NAME``;
* ``POST /upload`` takes a ``multipart/form-data`` body (an HTML form with
  file inputs) and stores every file part under its file name.

Both answer with JSON describing what was stored (``name``, ``size`` and
``sha256`` of each file).  Run it from the repository root and send it files
with ``uploader.py``::

    python3 demos/file_upload/file_receiver.py --port=8888 --upload_dir=/tmp/in
"""

import asyncio
import email.message
import hashlib
import os
import re
import sys
import tempfile
from typing import Any

# Run from a source checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))

import tornado.web
from tornado.http1connection import HTTP1Connection
from tornado.httputil import HTTPHeaders
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="run on the given port", type=int)
define("upload_dir", default="", help="where files go (default: a new temp dir)")
define("max_size", default=1 << 30, help="largest request body accepted, in bytes")

# Plain names only: no directories, no hidden files, nothing to escape with.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_PART_HEADERS = 16 * 1024


def check_file_name(name: str) -> str:
    """``name`` if it is a safe plain file name, else a 400 error."""
    if not SAFE_NAME.fullmatch(name):
        raise tornado.web.HTTPError(400, f"unacceptable file name {name!r}")
    return name


class ReceivedFile:
    """A file being written under ``directory``: visible once complete.

    Bytes go to a hidden temporary file that :meth:`commit` renames to
    ``name``; :meth:`discard` throws an unfinished upload away.
    """

    def __init__(self, directory: str, name: str) -> None:
        self.name = name
        self.path = os.path.join(directory, name)
        self.size = 0
        self.digest = hashlib.sha256()
        fd, self.partial_path = tempfile.mkstemp(dir=directory, prefix=".partial-")
        self.file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        self.file.write(data)
        self.digest.update(data)
        self.size += len(data)

    def commit(self) -> dict[str, Any]:
        """Publish the file under its name; return its description."""
        self.file.close()
        os.replace(self.partial_path, self.path)
        app_log.info("stored %s (%d bytes)", self.name, self.size)
        return {"name": self.name, "size": self.size, "sha256": self.digest.hexdigest()}

    def discard(self) -> None:
        """Delete an upload that will not be completed."""
        if not self.file.closed:
            self.file.close()
            os.unlink(self.partial_path)


class UploadHandler(tornado.web.RequestHandler):
    """Shared parts of the streaming handlers: limits and clean-up."""

    def initialize(self, directory: str) -> None:
        """Remember where files go."""
        self.directory = directory
        self.open_files: list[ReceivedFile] = []

    def prepare(self) -> None:
        """Raise the body size limit, which is small for ordinary requests."""
        if isinstance(self.request.connection, HTTP1Connection):
            self.request.connection.set_max_body_size(options.max_size)

    def receive(self, name: str) -> ReceivedFile:
        """Start a new file called ``name`` (checked: 400 if unsafe)."""
        received = ReceivedFile(self.directory, check_file_name(name))
        self.open_files.append(received)
        return received

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Drop unfinished files before the error is reported."""
        self.discard_unfinished()
        super().send_error(status_code, **kwargs)

    def on_connection_close(self) -> None:
        """The client went away mid-upload: drop unfinished files."""
        super().on_connection_close()
        self.discard_unfinished()

    def discard_unfinished(self) -> None:
        for received in self.open_files:
            received.discard()


@tornado.web.stream_request_body
class PutHandler(UploadHandler):
    """``PUT /upload/NAME``: the request body is the file."""

    def prepare(self) -> None:
        """Check the name before the body arrives."""
        super().prepare()
        self.name = check_file_name(self.path_args[0])
        # Opened with the first chunk: a body refused for its size never
        # reaches us, and must leave no trace.
        self.received: ReceivedFile | None = None

    def data_received(self, chunk: bytes) -> None:
        """Write the chunk to disk."""
        if self.received is None:
            self.received = self.receive(self.name)
        self.received.write(chunk)

    def put(self, name: str) -> None:
        """The body is complete: publish the file and describe it."""
        received = self.received or self.receive(self.name)
        self.write(received.commit())


class MultipartStream:
    """Splits a ``multipart/form-data`` body into parts as its bytes arrive.

    Each file part is written to a new `ReceivedFile` obtained from
    ``receive(file_name)``; other form fields are ignored.  Malformed bodies
    raise a 400 `tornado.web.HTTPError`.
    """

    def __init__(self, boundary: str, handler: UploadHandler) -> None:
        self.delimiter = b"\r\n--" + boundary.encode("latin-1")
        self.handler = handler
        self.buffer = b"\r\n"  # so that the first delimiter looks like the others
        self.state = "preamble"  # then "headers", "data", ... and "epilogue"
        self.current: ReceivedFile | None = None
        self.files: list[dict[str, Any]] = []

    def feed(self, chunk: bytes) -> None:
        """Consume the next piece of the body."""
        self.buffer += chunk
        while self.state != "epilogue" and self.advance():
            pass

    def close(self) -> list[dict[str, Any]]:
        """Check the body ended properly; describe the files it held."""
        if self.state != "epilogue":
            raise tornado.web.HTTPError(400, "multipart body ended unexpectedly")
        return self.files

    def advance(self) -> bool:
        """Process what the buffer holds; False when more bytes are needed."""
        if self.state == "headers":
            return self.read_part_headers()
        return self.read_until_delimiter()

    def read_until_delimiter(self) -> bool:
        found = self.buffer.find(self.delimiter)
        if found < 0:
            # Keep a tail that may be the start of a delimiter.
            safe = max(len(self.buffer) - len(self.delimiter) + 1, 0)
            self.emit(self.buffer[:safe])
            self.buffer = self.buffer[safe:]
            return False
        end = found + len(self.delimiter)
        after = self.buffer[end : end + 2]
        if len(after) < 2:
            return False
        self.emit(self.buffer[:found])
        if self.current is not None:
            self.files.append(self.current.commit())
            self.current = None
        if after == b"--":
            self.state, self.buffer = "epilogue", b""
            return False
        if after != b"\r\n":
            raise tornado.web.HTTPError(400, "malformed multipart delimiter")
        self.state, self.buffer = "headers", self.buffer[end + 2 :]
        return True

    def read_part_headers(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_PART_HEADERS:
                raise tornado.web.HTTPError(400, "multipart part headers too long")
            return False
        headers = HTTPHeaders.parse(self.buffer[:end].decode("utf-8", "replace"))
        self.buffer = self.buffer[end + 4 :]
        self.state = "data"
        file_name = header_param(headers.get("Content-Disposition", ""), "filename")
        if file_name is not None:
            self.current = self.handler.receive(file_name)
        return True

    def emit(self, data: bytes) -> None:
        if self.state == "data" and self.current is not None and data:
            self.current.write(data)


def header_param(value: str, param: str) -> str | None:
    """The ``param`` parameter of a header value like ``form-data; name="x"``."""
    message = email.message.Message()
    message["Content-Type"] = value
    found = message.get_param(param)
    return found if isinstance(found, str) else None


@tornado.web.stream_request_body
class FormHandler(UploadHandler):
    """``POST /upload``: a ``multipart/form-data`` body with file parts."""

    def prepare(self) -> None:
        """Find the boundary before the first byte of the body arrives."""
        super().prepare()
        content_type = self.request.headers.get("Content-Type", "")
        boundary = header_param(content_type, "boundary")
        if not content_type.startswith("multipart/form-data") or not boundary:
            raise tornado.web.HTTPError(
                400, "expected multipart/form-data with a boundary"
            )
        self.parts = MultipartStream(boundary, self)
        self.failure: tornado.web.HTTPError | None = None

    def data_received(self, chunk: bytes) -> None:
        """Pass the chunk to the multipart parser.

        A malformed body is only reported once it has been read: an error
        raised here would abort the connection instead of answering.
        """
        if self.failure is not None:
            return
        try:
            self.parts.feed(chunk)
        except tornado.web.HTTPError as failure:
            self.failure = failure

    def post(self) -> None:
        """The body is complete: describe the stored files."""
        if self.failure is not None:
            raise self.failure
        self.write({"files": self.parts.close()})


def make_app(directory: str) -> tornado.web.Application:
    """The receiving application, storing files in ``directory``."""
    args = {"directory": directory}
    return tornado.web.Application(
        [(r"/upload/([^/]*)", PutHandler, args), (r"/upload", FormHandler, args)]
    )


async def main() -> None:
    """Parse the command line, then serve until interrupted."""
    parse_command_line()
    directory = options.upload_dir or tempfile.mkdtemp(prefix="uploads-")
    os.makedirs(directory, exist_ok=True)
    app_log.info("storing uploads in %s", directory)
    make_app(directory).listen(options.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
