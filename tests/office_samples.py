"""Real Office file structures built from bytes: compound files (OLE2), BIFF8 workbooks, VBA projects.

Only what Office and oletools read is written, but it is written as the
specifications say ([MS-CFB], [MS-XLS], [MS-OVBA]): a directory tree that
olefile walks, streams in regular sectors, a workbook stream of BIFF records.
"""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
from typing import Union

Tree = dict[str, Union[bytes, "Tree"]]

SECTOR = 512
MINI_CUTOFF = 4096  # streams at least this long live in regular sectors: no mini stream to write
FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"
WORD_CLSID = "00020906-0000-0000-C000-000000000046"


def compound_file(tree: Tree, clsid: str | None = None) -> bytes:
    """A version 3 compound file holding `tree` (name → stream bytes, or name → sub-storage)."""
    entries: list[dict[str, object]] = [{"name": "Root Entry", "type": 5, "data": None, "child": NO_STREAM,
                                         "right": NO_STREAM, "clsid": clsid}]

    def add(parent: int, node: Tree) -> None:
        previous: int | None = None
        for name, value in node.items():
            index = len(entries)
            entries.append({"name": name, "type": 1 if isinstance(value, dict) else 2,
                            "data": None if isinstance(value, dict) else value,
                            "child": NO_STREAM, "right": NO_STREAM, "clsid": None})
            if previous is None:
                entries[parent]["child"] = index
            else:
                entries[previous]["right"] = index  # a valid (if lopsided) red-black tree: all black
            previous = index
            if isinstance(value, dict):
                add(index, value)

    add(0, tree)
    dir_sectors = -(-len(entries) // 4)
    fat = [FAT_SECTOR] + [i + 2 for i in range(dir_sectors - 1)] + [END_OF_CHAIN]
    body = bytearray()
    starts: dict[int, tuple[int, int]] = {}
    for index, entry in enumerate(entries):
        data = entry["data"]
        if not isinstance(data, bytes):
            continue
        padded = data.ljust(max(MINI_CUTOFF, -(-len(data) // SECTOR) * SECTOR), b"\x00")
        first = len(fat)
        count = len(padded) // SECTOR
        fat += [first + i + 1 for i in range(count - 1)] + [END_OF_CHAIN]
        starts[index] = (first, len(padded))
        body += padded
    assert len(fat) <= SECTOR // 4, "one FAT sector is enough for a test file"
    fat += [FREE] * (SECTOR // 4 - len(fat))

    header = bytearray(SECTOR)
    header[:8] = MAGIC
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<II", header, 0x2C, 1, 1)  # one FAT sector; the directory starts at sector 1
    struct.pack_into("<IIIII", header, 0x38, MINI_CUTOFF, END_OF_CHAIN, 0, END_OF_CHAIN, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *[FREE] * 108)

    directory = bytearray()
    for index, entry in enumerate(entries):
        raw = bytearray(128)
        encoded = (str(entry["name"]) + "\x00").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 0x40, len(encoded), int(entry["type"]), 1)  # type: ignore[call-overload]
        struct.pack_into("<III", raw, 0x44, NO_STREAM, entry["right"], entry["child"])
        if entry["clsid"]:
            raw[0x50:0x60] = uuid.UUID(str(entry["clsid"])).bytes_le
        start, size = starts.get(index, (END_OF_CHAIN if entry["type"] == 5 else 0, 0))
        struct.pack_into("<II", raw, 0x74, start, size)
        directory += raw
    for _ in range(dir_sectors * 4 - len(entries)):
        unused = bytearray(128)
        struct.pack_into("<III", unused, 0x44, NO_STREAM, NO_STREAM, NO_STREAM)
        directory += unused
    return bytes(header) + struct.pack(f"<{SECTOR // 4}I", *fat) + bytes(directory) + bytes(body)


# ---------------------------------------------------------------- Excel 97-2003 (BIFF8)

WORKSHEET, MACRO_SHEET = 0x00, 0x01  # BOUNDSHEET dt; the sheet's own BOF says 0x0010 / 0x0040
VISIBLE, HIDDEN, VERY_HIDDEN = 0, 1, 2


def _record(opcode: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", opcode, len(data)) + data


def _bof(substream: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 0x06))


def workbook_stream(*sheets: tuple[str, int, int]) -> bytes:
    """Globals (BOF, one BOUNDSHEET per sheet, EOF), then each sheet's substream (BOF, EOF)."""
    def boundsheet(position: int, name: str, kind: int, state: int) -> bytes:
        return _record(0x0085, struct.pack("<IBB", position, state, kind) + bytes([len(name), 0])
                       + name.encode("latin-1"))

    globals_size = len(_bof(5)) + sum(len(boundsheet(0, n, k, s)) for n, k, s in sheets) + len(_record(0x0A))
    out, position = [_bof(5)], globals_size
    substreams = []
    for name, kind, state in sheets:
        out.append(boundsheet(position, name, kind, state))
        sub = _bof(0x0040 if kind == MACRO_SHEET else 0x0010) + _record(0x0A)
        substreams.append(sub)
        position += len(sub)
    out.append(_record(0x0A))
    return b"".join(out + substreams)


def xls(*sheets: tuple[str, int, int], clsid: str | None = EXCEL_CLSID, vba: bool = False) -> bytes:
    tree: Tree = {"Workbook": workbook_stream(*sheets)}
    if vba:
        tree["_VBA_PROJECT_CUR"] = vba_project()
    return compound_file(tree, clsid)


# ---------------------------------------------------------------- VBA ([MS-OVBA] 2.2)


def vba_project() -> Tree:
    """A VBA project storage: PROJECT stream, VBA storage with _VBA_PROJECT, dir and a module."""
    return {
        "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nDocument=ThisWorkbook/&H00000000\r\n'
                   b'Module=Module1\r\nName="VBAProject"\r\n',
        "VBA": {
            "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00",
            "dir": b"\x01\x00\x00",
            "Module1": b'Attribute VB_Name = "Module1"\r\nSub Auto_Open()\r\n  Shell "calc.exe"\r\nEnd Sub\r\n',
        },
    }


def doc_with_macros() -> bytes:
    return compound_file({"WordDocument": b"\xec\xa5" + b"\x00" * 64, "1Table": b"\x00" * 64,
                          "Macros": vba_project()}, WORD_CLSID)


# ---------------------------------------------------------------- OOXML

_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def xlsx_package(main_type: str = _XLSX_MAIN, extra: dict[str, bytes] | None = None,
                 extra_types: str = "") -> bytes:
    """A workbook package: [Content_Types].xml, workbook part, one sheet, and any extra parts."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{extra_types}</Types>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org'
                                  '/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                                  'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                                  'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                                      'spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1" '
                                      'r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                                      '2006/relationships"/></sheets></workbook>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.'
                                               'openxmlformats.org/spreadsheetml/2006/main"><sheetData/>'
                                               '</worksheet>')
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def xlsm_with_vba() -> bytes:
    """What Excel saves as .xlsm: macro-enabled main type and xl/vbaProject.bin."""
    return xlsx_package(_XLSM_MAIN, {"xl/vbaProject.bin": compound_file(vba_project())})


def xlsx_hiding_a_vba_project() -> bytes:
    """An .xlsx by its content types whose VBA project sits in a part with an innocent name."""
    return xlsx_package(extra={"xl/media/image1.bin": compound_file(vba_project())})


def xlsx_with_macro_sheet() -> bytes:
    """An Excel 4.0 macro sheet in OOXML: a part under xl/macrosheets/."""
    return xlsx_package(extra={"xl/macrosheets/sheet2.xml": b'<?xml version="1.0"?><xm:macrosheet '
                                                             b'xmlns:xm="http://schemas.microsoft.com/office/'
                                                             b'excel/2006/main"/>'},
                        extra_types='<Override PartName="/xl/macrosheets/sheet2.xml" '
                                    'ContentType="application/vnd.ms-excel.macrosheet+xml"/>')
