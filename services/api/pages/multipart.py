"""Page forms with files (multipart/form-data), read as they arrive.

A page form that carries files (``<input type=file multiple>``) is parsed here,
chunk by chunk, never spooled whole: each file goes straight into its own
staging file under the upload directory with the same per-file limit as the
API, a file past the limit is marked refused (413) and its further bytes are
dropped, and the whole body is bounded (``MAX_FILES`` files at the limit plus
the text fields) so nobody can make the server store more than that.  Text
fields are kept in order, repeated names included (a checkbox list).

The pages router's form guard (common.guard_form) calls ``receive`` before it
checks the form's one-time token; it discards whatever was staged once the
request is answered, so a handler that stores nothing leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError

from services.api.multipart_stream import PartReader, boundary_of, decode_file_name, feed
from shared.attachments.service import Incoming
from shared.attachments.storage import Storage, limit_mb
from shared.errors import DomainError, Invalid, TooLarge
from shared.i18n import N_

MAX_FILES = 10  # per post: a page batch, not a bulk import
FIELD_LIMIT = 256 * 1024  # one text field (a 20 000-character description is 60 KB of UTF-8)
TEXT_LIMIT = 1 << 20  # all text fields together
OVERHEAD = 256 * 1024  # boundaries and part headers


def is_multipart(content_type: str | None) -> bool:
    return boundary_of(content_type)[0] == b"multipart/form-data"


@dataclass
class Posted:
    """A posted page form: its text fields in order, and the files of each file field."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, list[Incoming]] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        """One value per name (the last, as a browser's form data reads)."""
        return dict(self.fields)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]

    def all_files(self) -> Iterator[Incoming]:
        for items in self.files.values():
            yield from items

    def discard(self) -> None:
        """Remove every staging file not placed in storage (safe to call twice)."""
        for item in self.all_files():
            item.staged.discard()


class _Reader(PartReader):
    """Text into `fields`, each file into its own staging file."""

    def __init__(self, posted: Posted, storage: Storage | None, file_limit: int) -> None:
        super().__init__()
        self.posted = posted
        self.storage = storage
        self.file_limit = file_limit
        self.text_bytes = 0
        self._name = ""
        self._text: bytearray | None = None
        self._file: Incoming | None = None

    def begin(self, options: dict[bytes, bytes]) -> None:
        self._text = None
        self._file = None
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            self._text = bytearray()
            return
        raw_name = options[b"filename"]
        if not raw_name or self.storage is None:
            return  # no file chosen (browsers send an empty part), or nobody signed in: dropped
        files = self.posted.files.setdefault(self._name, [])
        item = Incoming(self.storage.stage(self.file_limit), decode_file_name(raw_name))
        if sum(len(v) for v in self.posted.files.values()) >= MAX_FILES:
            item.refused = Invalid(self._name, N_("attachment_too_many"), n=MAX_FILES)
        files.append(item)
        self._file = item

    def data(self, data: bytes, start: int, end: int) -> None:
        if self._text is not None:
            self.text_bytes += end - start
            if len(self._text) + end - start > FIELD_LIMIT or self.text_bytes > TEXT_LIMIT:
                raise TooLarge(N_("page.upload.body_too_large"), limit_mb=limit_mb(TEXT_LIMIT))
            self._text += data[start:end]
        elif self._file is not None and self._file.refused is None:
            try:
                self._file.staged.write(memoryview(data)[start:end])
            except TooLarge as exc:  # the staging file is gone; the rest of this part is dropped
                self._file.refused = exc

    def end(self) -> None:
        if self._text is not None:
            self.posted.fields.append((self._name, self._text.decode("utf-8", "replace")))
        elif self._file is not None:
            if self._file.refused is None:
                self._file.staged.finish()
            else:
                self._file.staged.discard()
        self._text = None
        self._file = None


async def receive(chunks: AsyncIterator[bytes], content_type: str | None, content_length: str | None,
                  storage: Storage | None, file_limit: int) -> Posted:
    """Parse a multipart page form as it arrives; STORAGE None drops every file's bytes.

    Raises TooLarge when the body passes the bound (nothing is kept), Invalid
    when it is malformed.
    """
    _media, boundary = boundary_of(content_type)
    if not boundary:
        raise Invalid("files", N_("attachment_malformed"))
    body_limit = MAX_FILES * file_limit + TEXT_LIMIT + OVERHEAD
    posted = Posted()
    reader = _Reader(posted, storage, file_limit)
    try:
        await feed(chunks, boundary, reader, content_length, body_limit,
                   TooLarge(N_("page.upload.body_too_large"), limit_mb=limit_mb(body_limit)))
        if not reader.ended:
            raise Invalid("files", N_("attachment_malformed"))
    except FormParserError as exc:
        posted.discard()
        raise Invalid("files", N_("attachment_malformed")) from exc
    except DomainError:
        posted.discard()
        raise
    return posted
