"""What an uploaded file really is, and what it may be called.

The type is decided by the bytes, never by the name or the client's
Content-Type: magic numbers (the `filetype` package) for images and PDF; for
Word/Excel/PowerPoint, the main part named in the ZIP's [Content_Types].xml
(OOXML) or the streams of the OLE2 compound file (legacy formats, listed by
`olefile`: the same container also carries .msi installers and .msg mails).
The extension the user gave must then agree with what the bytes are, so a
".pdf" that is really a ZIP or an executable is refused.

Office files with macros are refused: they are a classic way to pass malware
between offices.  `oletools` (olevba) looks for VBA projects in OLE2 and OOXML
files and for Excel 4.0 (XLM) macro sheets in legacy .xls workbooks.  Its XLM
check does not cover OOXML without the optional XLMMacroDeobfuscator, so an
OOXML package with a macro sheet part (xl/macrosheets/) or any macro-enabled
main type (.docm/.xlsm/.pptm…) is refused from its [Content_Types].xml.  An
Office file that these libraries cannot read is refused too: what cannot be
checked is not accepted.

Plain text (.txt) is accepted when it decodes as UTF-8 or GB18030 (what
Notepad on a Chinese Windows writes) and holds no control characters: call
transcripts and hotline notes arrive that way.  It is served as text/plain
with its charset, always as a download.
"""

from __future__ import annotations

import codecs
import logging
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
import olefile
from oletools import crypto
from oletools.olevba import VBA_Parser
from oletools.thirdparty.oledump.plugin_biff import cBIFF

from shared.errors import UnsupportedMedia
from shared.i18n import N_

# olevba logs every file it opens at INFO: one upload would be three lines of noise.
logging.getLogger("olevba").setLevel(logging.WARNING)

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


MACROS = "macro-enabled Office document"
XLM_MACROS = "Excel 4.0 (XLM) macro sheet"
# Said plainly to the person uploading: why the file is refused and what to do.
_MACRO_KEYS = {MACROS: N_("attachment_macros"), XLM_MACROS: N_("attachment_xlm_macros")}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect(path: Path) -> Detection:
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        if not head:
            return Detection(None, "empty")
        if head.startswith(b"PK\x03\x04"):
            return _without_macros(path, _ooxml(path))
        if head.startswith(OLE2_MAGIC):
            return _without_macros(path, _ole2(path))
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
    lowered = content_types.lower()
    if "macrosheet" in lowered or any(n.lower().startswith("xl/macrosheets/") for n in names):
        return Detection(None, XLM_MACROS)
    if "macroenabled" in lowered:
        return Detection(None, MACROS)
    for main_type, (kind, folder) in _OOXML_MAIN.items():
        if main_type in content_types and any(n.startswith(folder) for n in names):
            return Detection(kind, kind.media_type)
    return Detection(None, "application/zip")


# The stream that makes a compound file a Word, Excel or PowerPoint document.
_OLE_MAIN_STREAMS = (("WordDocument", DOC_KIND), ("Workbook", XLS_KIND), ("Book", XLS_KIND),
                     ("PowerPoint Document", PPT_KIND))


def _ole2(path: Path) -> Detection:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            for stream, kind in _OLE_MAIN_STREAMS:
                if ole.exists(stream) and ole.get_type(stream) == olefile.STGTY_STREAM:
                    return Detection(kind, kind.media_type)
    except (OSError, ValueError, IndexError, struct.error) as exc:
        return Detection(None, f"damaged OLE2 compound file ({exc.__class__.__name__})")
    return Detection(None, "OLE2 compound file")


def _without_macros(path: Path, detection: Detection) -> Detection:
    """An Office document we would accept, unless oletools finds VBA or Excel 4.0 macros in it."""
    if detection.kind is None:
        return detection
    try:
        if detection.kind.media_type in (DOC, XLS, PPT) and crypto.is_encrypted(str(path)):
            return Detection(None, "encrypted Office document (cannot be checked for macros)")
        parser = VBA_Parser(str(path))
        try:
            if parser.detect_vba_macros():
                return Detection(None, MACROS)
            if parser.detect_xlm_macros() or (detection.kind is XLS_KIND and _macro_sheet_in_workbook(path)):
                return Detection(None, XLM_MACROS)
        finally:
            parser.close()
    except Exception as exc:  # noqa: BLE001 — oletools raises anything on a malformed file
        return Detection(None, f"Office document that cannot be checked for macros ({exc.__class__.__name__})")
    return detection


def _macro_sheet_in_workbook(path: Path) -> bool:
    """olevba's own XLM check, without its precondition that the root CLSID says "Excel".

    `detect_xlm_macros` only looks at files whose compound-file root carries
    Excel's CLSID; Excel opens a workbook whose CLSID was zeroed all the same.
    So the BOUNDSHEET records of the workbook stream are read here with the
    same oledump BIFF plugin olevba runs.
    """
    with olefile.OleFileIO(str(path)) as ole:
        for stream in ("Workbook", "Book"):
            if ole.exists(stream):
                lines = cBIFF(name=[stream], stream=ole.openstream(stream).read(), options="-o BOUNDSHEET").Analyze()
                if any("Excel 4.0 macro sheet" in line for line in lines):
                    return True
    return False


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
    if kind is None and detection.seen in _MACRO_KEYS:
        raise UnsupportedMedia(_MACRO_KEYS[detection.seen], detected=detection.seen)
    if kind is None:
        raise UnsupportedMedia(detected=detection.seen)
    ext = extension(name)
    if not ext:
        return name[: MAX_NAME_BYTES] + kind.extensions[0], kind
    if ext not in kind.extensions:
        raise UnsupportedMedia("attachment_extension_mismatch", extension=ext, detected=detection.seen)
    return name, kind
