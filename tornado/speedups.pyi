from typing import Any, TypeVar

_StartLine = TypeVar("_StartLine", bound=tuple[Any, ...])
_Headers = TypeVar("_Headers")

def websocket_mask(
    mask: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview
) -> bytes: ...
def parse_request_head(
    data: bytes, start_line_type: type[_StartLine], headers_type: type[_Headers]
) -> tuple[_StartLine, _Headers] | None: ...
def format_head(
    first_line: str, table: dict[str, Any], extra: dict[str, str]
) -> bytes | None: ...
