"""What both Word reports (the weekly summary and the campaign summary) set the same way.

GB/T 9704 (党政机关公文格式) page: A4, margins 37/35/28/26 mm.  Fonts are
named outright per script (``w:eastAsia`` for Chinese) with the theme
attributes removed, because a theme font wins over a named one and
python-docx's template points East Asian text at a Japanese face.  The font
table gives each Chinese face its GB2312 charset and family, which is what
Word and LibreOffice use to substitute a Chinese face where that one is
missing — never a box.
"""

from __future__ import annotations

from typing import Any

from docx.document import Document as DocumentObject
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from lxml import etree

LATIN = "Times New Roman"
FANGSONG, HEITI, SONGTI, KAITI = "仿宋", "黑体", "宋体", "楷体"
# name: (altName, panose, family, pitch) as Word itself records them; charset 86 is GB2312.
_FACES = {
    SONGTI: ("SimSun", "02010600030101010101", "auto", "variable"),
    FANGSONG: ("FangSong", "02010609060101010101", "modern", "fixed"),
    HEITI: ("SimHei", "02010609060101010101", "modern", "fixed"),
    KAITI: ("KaiTi", "02010609060101010101", "modern", "fixed"),
}
THEME_ATTRS = tuple(qn(a) for a in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"))


def name_fonts(rpr: Any, east_asia: str, latin: str = LATIN) -> None:
    """Name the fonts of a run's or style's rPr outright; theme attributes would override the names."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in THEME_ATTRS:
        rfonts.attrib.pop(attr, None)
    for attr, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        rfonts.set(qn(attr), value)


def font_table(doc: DocumentObject) -> None:
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    for name, (alt, panose, family, pitch) in _FACES.items():
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        for tag, value in (("w:altName", alt), ("w:panose1", panose), ("w:charset", "86"), ("w:family", family),
                           ("w:pitch", pitch)):
            etree.SubElement(font, qn(tag), {qn("w:val"): value})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def official_page(section: Any) -> None:
    """A4 portrait with the GB/T 9704 margins."""
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def repeat_header(row: Any) -> None:
    """The header row repeats on every page a long table runs over."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def shade(cell: Any, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)
