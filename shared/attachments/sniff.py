"""What an uploaded file really is, and what it may be called.

The type is decided by the bytes, never by the name or the client's
Content-Type: magic numbers (the `filetype` package) for images and PDF, our
own look inside ZIP containers for Word/Excel/PowerPoint (OOXML) and inside
OLE2 compound files for their legacy formats.  The extension the user gave
must then agree with what the bytes are, so a ".pdf" that is really a ZIP or
an executable is refused.  Macro-enabled Office files are refused too: they
are a classic way to pass malware between offices.

Plain text (.txt) is accepted when it decodes as UTF-8 or GB18030 (what
Notepad on a Chinese Windows writes) and holds no control characters: call
transcripts and hotline notes arrive that way.  It is served as text/plain
with its charset, always as a download.
"""

from __future__ import annotations

import codecs
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from shared.errors import UnsupportedMedia

HEAD_BYTES = 8192

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"


@dataclass(frozen=True)
class Kind:
    """An accepted file type: the media type we store and serve, and its extensions."""

    media_type: str
    extensions: tuple[str, ...]  # the first one is added to a name that has none


JPEG = Kind("image/jpeg", (".jpg", ".jpeg", ".jpe"))
PNG = Kind("image/png", (".png",))
GIF = Kind("image/gif", (".gif",))
WEBP = Kind("image/webp", (".webp",))
HEIC = Kind("image/heic", (".heic", ".heif"))
PDF = Kind("application/pdf", (".pdf",))
DOCX_KIND = Kind(DOCX, (".docx",))
XLSX_KIND = Kind(XLSX, (".xlsx",))
PPTX_KIND = Kind(PPTX, (".pptx",))
DOC_KIND = Kind(DOC, (".doc",))
XLS_KIND = Kind(XLS, (".xls",))
PPT_KIND = Kind(PPT, (".ppt",))
TEXT_UTF8 = Kind("text/plain; charset=utf-8", (".txt",))
TEXT_GB18030 = Kind("text/plain; charset=gb18030", (".txt",))

# What `filetype` may answer that we accept (APNG is a PNG to everyone who opens it).
_BY_MAGIC = {
    "image/jpeg": JPEG,
    "image/png": PNG,
    "image/apng": PNG,
    "image/gif": GIF,
    "image/webp": WEBP,
    "image/heic": HEIC,
    "application/pdf": PDF,
}

ALLOWED_EXTENSIONS = frozenset(
    ext
    for kind in (JPEG, PNG, GIF, WEBP, HEIC, PDF, DOCX_KIND, XLSX_KIND, PPTX_KIND, DOC_KIND, XLS_KIND,
                 PPT_KIND, TEXT_UTF8)
    for ext in kind.extensions
)


@dataclass(frozen=True)
class Detection:
    kind: Kind | None  # None: not a type we accept
    seen: str  # what the bytes looked like, for the error message


# ---------------------------------------------------------------- detection


def detect(path: Path) -> Detection:
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        if not head:
            return Detection(None, "empty")
        if head.startswith(b"PK\x03\x04"):
            return _ooxml(path)
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            f.seek(0)
            return _ole2(f)
        guess = filetype.guess(head)
        if guess is not None:
            kind = _BY_MAGIC.get(guess.mime)
            return Detection(kind, guess.mime)
        f.seek(0)
        charset = _text_charset(f)
    if charset == "utf-8":
        return Detection(TEXT_UTF8, "text/plain")
    if charset == "gb18030":
        return Detection(TEXT_GB18030, "text/plain")
    return Detection(None, "application/octet-stream")


_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (DOCX_KIND, "word/"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (XLSX_KIND, "xl/"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (PPTX_KIND, "ppt/"),
}
_CONTENT_TYPES_LIMIT = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError, EOFError,
               NotImplementedError, RuntimeError, zlib.error)


def _ooxml(path: Path) -> Detection:
    """A ZIP is Word/Excel/PowerPoint only with the right [Content_Types].xml and parts."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return Detection(None, "application/zip")
            with zf.open(info) as member:
                content_types = member.read(_CONTENT_TYPES_LIMIT).decode("utf-8", "replace")
    except _ZIP_ERRORS:
        return Detection(None, "application/zip")
    if "macroenabled" in content_types.lower() or any(n.lower().endswith("vbaproject.bin") for n in names):
        return Detection(None, "macro-enabled Office document")
    for main_type, (kind, folder) in _OOXML_MAIN.items():
        if main_type in content_types and any(n.startswith(folder) for n in names):
            return Detection(kind, kind.media_type)
    return Detection(None, "application/zip")


# OLE2 compound file (legacy .doc/.xls/.ppt): read the directory to learn which
# streams it holds.  The same container also carries .msi installers and .msg
# mails, so the container magic alone proves nothing.
_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_MAX_SECTORS = 1 << 20
_OLE_MACRO_STORAGES = {"Macros", "_VBA_PROJECT_CUR", "VBA"}


def _ole2(f: BinaryIO) -> Detection:
    names = _ole_directory_names(f)
    if names is None:
        return Detection(None, "OLE2 compound file")
    if names & _OLE_MACRO_STORAGES:
        return Detection(None, "macro-enabled Office document")
    if "WordDocument" in names:
        return Detection(DOC_KIND, DOC)
    if "Workbook" in names or "Book" in names:
        return Detection(XLS_KIND, XLS)
    if "PowerPoint Document" in names:
        return Detection(PPT_KIND, PPT)
    return Detection(None, "OLE2 compound file")


def _ole_directory_names(f: BinaryIO) -> set[str] | None:
    header = f.read(512)
    if len(header) < 512:
        return None
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        return None
    size = 1 << shift
    fat_count, first_dir = struct.unpack_from("<II", header, 0x2C)
    first_difat, difat_count = struct.unpack_from("<II", header, 0x44)

    def sector(n: int) -> bytes:
        f.seek((n + 1) * size)
        data = f.read(size)
        if len(data) != size:
            raise ValueError("truncated")
        return data

    try:
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s != _FREE]
        next_difat, seen = first_difat, 0
        while next_difat not in (_FREE, _END_OF_CHAIN) and seen < difat_count:
            difat = struct.unpack(f"<{size // 4}I", sector(next_difat))
            fat_sectors.extend(s for s in difat[:-1] if s != _FREE)
            next_difat, seen = difat[-1], seen + 1
        if not fat_sectors or len(fat_sectors) > fat_count or fat_count > _MAX_SECTORS:
            return None
        fat: list[int] = []
        for s in fat_sectors:
            fat.extend(struct.unpack(f"<{size // 4}I", sector(s)))
        names: set[str] = set()
        current, hops = first_dir, 0
        while current != _END_OF_CHAIN:
            if current >= len(fat) or hops > _MAX_SECTORS:
                return None
            block = sector(current)
            for offset in range(0, size, 128):
                entry = block[offset:offset + 128]
                name_len = struct.unpack_from("<H", entry, 0x40)[0]
                if entry[0x42] in (1, 2, 5) and 2 <= name_len <= 64:
                    names.add(entry[: name_len - 2].decode("utf-16-le", "replace"))
            current, hops = fat[current], hops + 1
    except (ValueError, struct.error, OSError):
        return None
    return names


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _text_charset(f: BinaryIO) -> str | None:
    """UTF-8 first, then GB18030; any control character means it is not text."""
    for charset in ("utf-8-sig", "gb18030"):
        f.seek(0)
        decoder = codecs.getincrementaldecoder(charset)()
        try:
            while chunk := f.read(1 << 16):
                if _CONTROL.search(decoder.decode(chunk)):
                    return None
            if _CONTROL.search(decoder.decode(b"", final=True)):
                return None
        except UnicodeDecodeError:
            continue
        return "utf-8" if charset == "utf-8-sig" else charset
    return None


# ---------------------------------------------------------------- names

MAX_NAME_BYTES = 200  # UTF-8 bytes: leaves room under the 255-byte limit of most file systems
_FORBIDDEN_IN_NAME = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
DEFAULT_STEM = "附件"


def display_name(raw: str) -> str:
    """The client's file name, made safe to show and to offer as a download name.

    Only the last path component survives (so "../../etc/passwd" is "passwd"
    and "C:\\Users\\x\\照片.jpg" is "照片.jpg"); control and formatting
    characters (NUL, newlines, right-to-left overrides) go; Chinese stays.  The
    result is never used as a path on our side: files are stored by generated key.
    """
    name = unicodedata.normalize("NFC", raw)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _FORBIDDEN_IN_NAME.sub("_", name)
    name = " ".join(name.split())  # no runs of (unicode) spaces, no leading or trailing ones
    name = name.strip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if not stem:
        stem = DEFAULT_STEM
    if _WINDOWS_RESERVED.match(stem):
        stem = "_" + stem
    ext = f".{ext}" if ext else ""
    if len(ext.encode()) > 16:  # not a real extension: keep it in the stem, to be truncated
        stem, ext = stem + ext, ""
    budget = MAX_NAME_BYTES - len(ext.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(". ") or DEFAULT_STEM
    return stem + ext


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def accept(name: str, detection: Detection) -> tuple[str, Kind]:
    """Refuse (415) what we do not accept or what is not what its name says.

    A name without an extension gets the type's own, so the download opens.
    """
    kind = detection.kind
    if kind is None:
        raise UnsupportedMedia(detected=detection.seen)
    ext = extension(name)
    if not ext:
        return name[: MAX_NAME_BYTES] + kind.extensions[0], kind
    if ext not in kind.extensions:
        raise UnsupportedMedia("attachment_extension_mismatch", extension=ext, detected=detection.seen)
    return name, kind
