"""Reading a multipart/form-data body as it arrives: what the API's upload and the page forms share.

python-multipart's ``MultipartParser`` does the parsing; what is ours is the
part that both readers need the same way: each part's headers collected and its
``Content-Disposition`` options handed over, a body bounded while it streams
(and refused at once when its declared length is already past the bound), the
parser fed off the event loop (a part's bytes go to disk and into a hash), and
a file name decoded as old browsers send it.  A reader says only what to do
with a part, its bytes and its end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

from anyio import to_thread
from python_multipart.multipart import MultipartParser, parse_options_header

from shared.errors import TooLarge

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


def decode_file_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Old browsers on Chinese Windows send the name in the ANSI code page.
        return raw.decode("gb18030", "replace")


def boundary_of(content_type: str | None) -> tuple[bytes, bytes | None]:
    """(media type, boundary) of a Content-Type header."""
    media, params = parse_options_header(content_type or "")
    return media, params.get(b"boundary")


class PartReader(ABC):
    """The parser's callbacks: headers collected per part, the rest left to ``begin``, ``data`` and ``end``."""

    def __init__(self) -> None:
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def callbacks(self) -> MultipartCallbacks:
        return cast("MultipartCallbacks", {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self.data,
            "on_part_end": self.end,
            "on_end": self._end,
        })

    @abstractmethod
    def begin(self, options: dict[bytes, bytes]) -> None:
        """A part starts: OPTIONS are its Content-Disposition's (name, filename)."""

    @abstractmethod
    def data(self, data: bytes, start: int, end: int) -> None:
        """DATA[START:END] is the next run of the current part's bytes."""

    @abstractmethod
    def end(self) -> None:
        """The current part is over."""

    def _part_begin(self) -> None:
        self._headers = {}
        self._field = self._value = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self.begin(options)

    def _end(self) -> None:
        self.ended = True


async def feed(chunks: AsyncIterator[bytes], boundary: bytes, reader: PartReader, content_length: str | None,
               body_limit: int, too_large: TooLarge) -> None:
    """Parse CHUNKS into READER until the body ends; TOO_LARGE as soon as it passes BODY_LIMIT (or says it
    will, by its Content-Length), without reading further.  The parser's FormParserError goes to the caller."""
    if content_length and content_length.isdigit() and int(content_length) > body_limit:
        raise too_large
    parser = MultipartParser(boundary, reader.callbacks())
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > body_limit:
            raise too_large
        await to_thread.run_sync(parser.write, chunk)  # disk writes and hashing off the event loop
        if reader.ended:
            break
    parser.finalize()
