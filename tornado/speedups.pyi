from typing import Union

def websocket_mask(
    mask: Union[bytes, bytearray, memoryview], data: Union[bytes, bytearray, memoryview]
) -> bytes: ...
