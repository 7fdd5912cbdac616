"""The weekly summary as a Word file in the form of a government report, ready to print and forward.

Layout after GB/T 9704 (党政机关公文格式): A4, margins 37/35/28/26 mm, body
in 仿宋 三号 (16 pt) on a 28 pt line, headings 一、 in 黑体, tables in 宋体 五号,
page numbers "— 1 —" at the foot.  Fonts, font table, page and table
helpers are `docx_style`'s, shared with the campaign summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from shared.i18n import N_, message, normalise_language
from shared.reports.model import Level, WeeklyReport
from shared.reports.render import common as c
from shared.reports.render.docx_style import (
    FANGSONG,
    HEITI,
    KAITI,
    SONGTI,
    THEME_ATTRS,
    font_table,
    name_fonts,
    official_page,
    repeat_header,
    shade,
)
from shared.reports.render.suggestions import suggestions
from shared.reports.weeks import IsoWeek

BODY_PT, TABLE_PT, TITLE_PT = 16, 10.5, 22
LINE_PT = 28
TEXT_WIDTH_CM = 21.0 - 2.8 - 2.6
# The printed overdue list stops here; the Excel file has every row.
OVERDUE_PRINTED = 50
TABLE_STYLE = "Report Table Text"
_T, _PRESERVE = qn("w:t"), qn("xml:space")
_LEVEL_FILL = {Level.RED: "FEE2E2", Level.YELLOW: "FEF3C7", Level.GREEN: "DCFCE7"}
# The tables' columns (message keys) and widths in cm, summing to the text width.
LEAGUE_COLUMNS = (
    (N_("report.col.number"), 1.0), (N_("report.col.department"), 3.4), (N_("report.col.due_count"), 1.5),
    (N_("report.col.on_time_count"), 1.5), (N_("report.col.on_time_rate"), 1.8), (N_("report.doc.col.change"), 2.0),
    (N_("report.col.overdue"), 1.5), (N_("report.col.max_days"), 1.5), (N_("report.col.level"), 1.4),
)
OVERDUE_COLUMNS = (
    (N_("report.col.number"), 1.0), (N_("report.col.reference"), 2.7), (N_("report.col.title"), 4.1),
    (N_("report.col.department"), 2.6), (N_("report.col.assignee"), 1.6), (N_("report.col.due"), 2.2),
    (N_("report.col.overdue_days"), 1.4),
)
CALLBACK_COLUMNS = (
    (N_("report.col.department"), 4.6), (N_("report.col.callbacks_made"), 2.5),
    (N_("report.col.callbacks_reached"), 2.5), (N_("report.col.satisfaction"), 3.0),
    (N_("report.col.resolution"), 3.0),
)


def _stylename_fonts(doc: DocumentObject, name: str, east_asia: str, size: float, *, bold: bool = False) -> None:
    style = doc.styles[name]
    font = style.font
    font.size = Pt(size)
    font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    name_fonts(style.element.get_or_add_rPr(), east_asia)
    color = style.element.get_or_add_rPr().find(qn("w:color"))
    if color is not None:
        for attr in ("w:themeColor", "w:themeShade"):
            color.attrib.pop(qn(attr), None)


def _setup(doc: DocumentObject, lang: str) -> None:
    section = doc.sections[0]
    official_page(section)
    section.footer_distance = Cm(2.5)

    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    # The fallback for any run no style reaches: 宋体, the face every Chinese Windows has.
    name_fonts(rpr, SONGTI)
    lang_el = rpr.find(qn("w:lang"))
    lang_el.set(qn("w:val"), "zh-CN" if lang == "zh-CN" else "en-US")
    lang_el.set(qn("w:eastAsia"), "zh-CN")

    # Every other style (headings 3-9, captions, the linked character styles…) names theme fonts:
    # drop them, so that whatever a style leaves unnamed comes from Normal and the defaults.
    for rfonts in list(doc.styles.element.iter(qn("w:rFonts"))):
        for attr in THEME_ATTRS:
            rfonts.attrib.pop(attr, None)
        if not len(rfonts.attrib):
            rfonts.getparent().remove(rfonts)

    _stylename_fonts(doc, "Normal", FANGSONG, BODY_PT)
    normal = doc.styles["Normal"].paragraph_format
    normal.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.line_spacing = Pt(LINE_PT)
    normal.space_before = normal.space_after = Pt(0)
    normal.first_line_indent = Pt(BODY_PT * 2)
    normal.widow_control = True

    _stylename_fonts(doc, "Title", SONGTI, TITLE_PT, bold=True)
    title = doc.styles["Title"]
    ppr = title.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:
        ppr.remove(border)
    tf = title.paragraph_format
    tf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tf.first_line_indent = Pt(0)
    tf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    tf.space_before, tf.space_after = Pt(12), Pt(6)

    for name, face in (("Heading 1", HEITI), ("Heading 2", KAITI)):
        _stylename_fonts(doc, name, face, BODY_PT)
        hf = doc.styles[name].paragraph_format
        hf.space_before = hf.space_after = Pt(0)
        hf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        hf.line_spacing = Pt(LINE_PT)
        hf.first_line_indent = Pt(BODY_PT * 2)
        hf.keep_with_next = True

    table_text = doc.styles.add_style(TABLE_STYLE, 1)  # WD_STYLE_TYPE.PARAGRAPH
    table_text.base_style = doc.styles["Normal"]
    _stylename_fonts(doc, TABLE_STYLE, SONGTI, TABLE_PT)
    tt = table_text.paragraph_format
    tt.first_line_indent = Pt(0)
    tt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    tt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    font_table(doc)
    _page_numbers(doc)


def _field_run(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE), one run per part as Word writes it: begin, instruction, separate, placeholder, end."""
    for part in ("begin", "instruction", "separate", "placeholder", "end"):
        run = paragraph.add_run()
        if part == "instruction":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
        elif part == "placeholder":
            el = OxmlElement("w:t")
            el.text = "1"
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), part)
        run._r.append(el)


def _page_numbers(doc: DocumentObject) -> None:
    footer = doc.sections[0].footer
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.add_run("— ")
    _field_run(p, "PAGE")
    p.add_run(" —")
    for run in p.runs:
        run.font.size = Pt(14)
        name_fonts(run._r.get_or_add_rPr(), SONGTI)


def _ordinal(n: int, lang: str) -> str:
    """一 … 九十九 for Chinese headings and items; 1, 2 … otherwise."""
    if lang != "zh-CN":
        return str(n)
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _para(doc: DocumentObject, text: str, *, bold_lead: str | None = None, align: str | None = None) -> Paragraph:
    p = doc.add_paragraph()
    if bold_lead:
        lead = p.add_run(bold_lead)
        lead.bold = True
    p.add_run(text)
    if align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.first_line_indent = Pt(0)
    elif align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
    return p


def _table(doc: DocumentObject, columns: Sequence[tuple[str, float]], lang: str, rows: Sequence[Sequence[str]], *,
           left: Sequence[int] = (), fills: Sequence[dict[int, str]] | None = None,
           bold_rows: Sequence[int] = ()) -> Table:
    """A ruled table in 宋体 五号, header row repeated on every page, columns summing to the text width."""
    header = [message(key, lang) for key, _width in columns]
    widths_cm = [width for _key, width in columns]
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    repeat_header(table.rows[0])
    # The style id, set on the XML: paragraph.style = … looks every style up again, per cell.
    text_style = doc.styles[TABLE_STYLE].style_id
    # Cells straight from each row's XML: table.cell(r, c) walks the whole grid on every call.
    # A body cell is its column's width and alignment, its row's weight and its fill around one
    # text: the first cell of each kind is built through python-docx, the others are copies of
    # it with their own text (lxml copies in C; python-docx's child lookups cost ~0.1 ms a cell).
    made: dict[tuple[int, bool, str | None], Any] = {}
    for r, (tr, values) in enumerate(zip(table._tbl.tr_lst, [header, *rows], strict=True)):
        for col, (tc, value) in enumerate(zip(tr.tc_lst, values, strict=True)):
            bold = r > 0 and r - 1 in bold_rows
            fill = (fills[r - 1] if fills else {}).get(col) if r > 0 else None
            kind = (col, bold, fill)
            plain = bool(value) and not any(ch in value for ch in "\t\r\n")
            if r > 0 and plain and kind in made:
                copy = deepcopy(made[kind])
                text = next(copy.iter(_T))
                text.text = value
                if len(value.strip()) < len(value):
                    text.set(_PRESERVE, "preserve")
                else:
                    text.attrib.pop(_PRESERVE, None)
                tr.replace(tc, copy)
                continue
            cell = _Cell(tc, table)
            cell.width = Cm(widths_cm[col])
            p = cell.paragraphs[0]
            p._p.style = text_style
            run = p.add_run(value)
            if r == 0:
                run.bold = True
                name_fonts(run._r.get_or_add_rPr(), HEITI)
                shade(cell, "F2F2F2")
            else:
                if col in left:
                    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
                if bold:
                    run.bold = True
                if fill:
                    shade(cell, fill)
                if plain:
                    made[kind] = tc
    return table


def _return_reason(reason: str, lang: str) -> str:
    key = f"notice.return_reason.{reason}"  # the catalog's labels of ReturnReason
    return message(key, lang)


class _Writer:
    def __init__(self, doc: DocumentObject, report: WeeklyReport, lang: str, tz: ZoneInfo) -> None:
        self.doc, self.report, self.lang, self.tz = doc, report, lang, tz
        self.section = 0

    def message(self, key: str, **params: object) -> str:
        return c.message(key, self.lang, **params)

    def heading(self, key: str) -> None:
        self.section += 1
        text = self.message("report.doc.heading", n=_ordinal(self.section, self.lang), text=self.message(key))
        self.doc.add_paragraph(text, style="Heading 1")

    def subheading(self, n: int, key: str) -> None:
        text = self.message("report.doc.subheading", n=_ordinal(n, self.lang), text=self.message(key))
        self.doc.add_paragraph(text, style="Heading 2")

    @property
    def as_of(self) -> str:
        if not self.report.complete:
            return c.local_time(self.report.generated_at, self.lang, self.tz)
        return self.message("report.doc.week_end", day=c.day_text(IsoWeek.parse(self.report.week).sunday, self.lang))

    # 一、总体情况
    def overview(self) -> None:
        r, f, p = self.report, self.report.figures, self.report.previous_week
        w = IsoWeek.parse(r.week)
        self.heading(N_("report.doc.h.overview"))
        _para(self.doc, self.message(
            "report.doc.overview.cases", start=c.day_text(w.monday, self.lang, with_year=False),
            end=c.day_text(w.sunday, self.lang, with_year=False), new=f.new_cases,
            new_change=c.count_change(f.new_cases, p.new_cases, self.lang).phrase, closed=f.closed_cases,
            closed_change=c.count_change(f.closed_cases, p.closed_cases, self.lang).phrase))
        if f.on_time_feedback_rate.value is None:
            feedback = self.message("report.doc.overview.nothing_due")
        else:
            feedback = self.message(
                "report.doc.overview.feedback", due=f.assignments_due, on_time=f.on_time,
                extension=f.on_time_by_extension, rate=c.rate(f.on_time_feedback_rate),
                change=c.rate_change(f.on_time_feedback_rate, p.on_time_feedback_rate, self.lang).phrase)
        if f.feedback_latency.count:
            feedback += self.message("report.doc.overview.latency",
                                     mean=c.days(f.feedback_latency.mean_working_days),
                                     median=c.days(f.feedback_latency.median_working_days))
        feedback += self.message("report.doc.overview.overdue", at=self.as_of, n=f.overdue_open,
                                 change=c.count_change(f.overdue_open, p.overdue_open, self.lang).phrase)
        _para(self.doc, feedback)
        parts = []
        if f.acceptance_due:
            parts.append(self.message(
                "report.doc.overview.acceptance", due=f.acceptance_due, on_time=f.accepted_on_time,
                rate=c.rate(f.on_time_acceptance_rate),
                change=c.rate_change(f.on_time_acceptance_rate, p.on_time_acceptance_rate, self.lang).phrase))
        ret = f.returns
        reasons = c.sep(self.lang).join(
            self.message("report.doc.overview.return_reason", reason=_return_reason(k, self.lang), n=n)
            for k, n in ret.by_reason.items() if n)
        reasons = self.message("report.doc.overview.return_reasons", reasons=reasons) if reasons else ""
        parts.append(self.message("report.doc.overview.returns", dispatches=ret.dispatches, returns=ret.returns,
                                  rate=c.rate(ret.return_rate), twice=ret.returned_twice, reasons=reasons))
        _para(self.doc, "".join(parts))
        o = f.outcomes
        _para(self.doc, self.message(
            "report.doc.overview.outcomes", inspections=f.inspections_held, enterprises=o.enterprises_inspected,
            problems=o.problems_found, orders=o.rectification_orders, filed=o.cases_filed, fines=c.yuan(o.fines_yuan),
            mediated=o.complaints_mediated, recovered=c.yuan(o.losses_recovered_yuan)))

    # 二、各部门反馈情况
    def league(self) -> None:
        r = self.report
        self.heading(N_("report.doc.h.departments"))
        floors = r.floors
        _para(self.doc, self.message("report.doc.departments.intro", red=c.percent(floors.red_below),
                                     yellow=c.percent(floors.yellow_below),
                                     days=c.working_days(floors.red_overdue_working_days, self.lang)))
        red = [row.department.name for row in r.league_table if row.level is Level.RED]
        yellow = [row.department.name for row in r.league_table if row.level is Level.YELLOW]
        if red or yellow:
            _para(self.doc, "".join([
                self.message("report.doc.departments.red", names=c.sep(self.lang).join(red)) if red else "",
                self.message("report.doc.departments.yellow", names=c.sep(self.lang).join(yellow)) if yellow else ""]))
        else:
            _para(self.doc, self.message("report.doc.departments.all_green"))
        own = r.department.id if r.scope != "all" and r.department is not None else None
        rows, fills, bold = [], [], []
        for n, row in enumerate(r.league_table):
            f = row.figures
            rows.append([str(row.rank), row.department.name, str(f.assignments_due), str(f.on_time),
                         c.rate(f.on_time_feedback_rate) if f.on_time_feedback_rate.value is not None
                         else self.message("report.nothing_due"),
                         c.points(f.on_time_feedback_rate, row.previous_on_time_feedback_rate),
                         str(f.overdue_open), str(row.max_working_days_overdue), c.level_label(row.level, self.lang)])
            fills.append({8: _LEVEL_FILL[row.level]})
            if row.department.id == own:
                bold.append(n)
        _table(self.doc, LEAGUE_COLUMNS, self.lang, rows, left=(1,), fills=fills, bold_rows=bold)

    # 三、超期未反馈事项
    def overdue(self) -> None:
        r = self.report
        self.heading(N_("report.doc.h.overdue"))
        items = sorted(r.overdue_list, key=lambda i: (-i.working_days_overdue, i.feedback_due_at, i.assignment_id))
        if not items:
            _para(self.doc, self.message("report.doc.overdue.none", at=self.as_of))
            return
        limit = r.floors.red_overdue_working_days
        _para(self.doc, self.message("report.doc.overdue.intro", at=self.as_of, n=len(items),
                                     days=c.working_days(limit, self.lang),
                                     long=sum(1 for i in items if i.working_days_overdue > limit)))
        shown = items[:OVERDUE_PRINTED]
        rows = [[str(n), i.case_reference, i.case_title, i.department.name, c.assignee(i.assignee_name, self.lang),
                 f"{c.local_naive(i.feedback_due_at, self.tz):%Y-%m-%d %H:%M}", str(i.working_days_overdue)]
                for n, i in enumerate(shown, start=1)]
        _table(self.doc, OVERDUE_COLUMNS, self.lang, rows, left=(2,),
               fills=[{6: _LEVEL_FILL[Level.RED]} if i.working_days_overdue > limit else {} for i in shown])
        if len(items) > len(shown):
            _para(self.doc, self.message("report.doc.overdue.more", n=len(items) - len(shown)))

    # 四、群众满意度与回访情况
    def satisfaction(self) -> None:
        r, cb, prev = self.report, self.report.figures.callbacks, self.report.previous_week.callbacks
        self.heading(N_("report.doc.h.satisfaction"))
        self.subheading(1, N_("report.doc.h.callbacks"))
        if not cb.made:
            _para(self.doc, self.message("report.doc.callbacks.none"))
        else:
            _para(self.doc, self.message(
                "report.doc.callbacks.summary", made=cb.made, reached=cb.reached, satisfied=cb.satisfied,
                rate=c.rate(cb.satisfaction_rate),
                change=c.rate_change(cb.satisfaction_rate, prev.satisfaction_rate, self.lang).phrase,
                resolved=cb.resolved, resolution=c.rate(cb.resolution_rate),
                resolution_change=c.rate_change(cb.resolution_rate, prev.resolution_rate, self.lang).phrase))
            rows = [row for row in r.league_table if row.figures.callbacks.made]
            if r.scope == "all" and rows:
                _table(self.doc, CALLBACK_COLUMNS, self.lang,
                       [[row.department.name, str(row.figures.callbacks.made), str(row.figures.callbacks.reached),
                         c.rate(row.figures.callbacks.satisfaction_rate), c.rate(row.figures.callbacks.resolution_rate)]
                        for row in rows], left=(0,))
        self.subheading(2, N_("report.doc.h.repeats"))
        if not r.repeat_complaints:
            _para(self.doc, self.message("report.doc.repeats.none"))
            return
        total = r.repeat_complaint_total if r.repeat_complaint_total is not None else len(r.repeat_complaints)
        _para(self.doc, self.message("report.doc.repeats.intro", n=total))
        for n, rc in enumerate(r.repeat_complaints, start=1):
            cases = c.sep(self.lang).join(self.message("report.doc.case_ref", reference=x.reference, title=x.title)
                                          for x in rc.cases)
            _para(self.doc, self.message("report.doc.repeats.item", n=n, name=rc.enterprise_name,
                                         code=rc.credit_code, count=len(rc.cases), cases=cases))

    # 五、典型案例
    def highlights(self) -> None:
        h = self.report.highlights
        self.heading(N_("report.doc.h.cases"))
        if not h.typical_cases_closed and not h.largest_outcomes:
            _para(self.doc, self.message("report.doc.cases.none"))
            return
        n = 0
        for case in h.typical_cases_closed:
            n += 1
            lead = case.lead_department.name if case.lead_department else ""
            _para(self.doc, self.message("report.doc.cases.typical", n=n, title=case.title,
                                         reference=case.reference, department=lead))
        for o in h.largest_outcomes:
            n += 1
            outcome = c.outcome_text(o.fines_yuan, o.losses_recovered_yuan, o.cases_filed, self.lang)
            _para(self.doc, self.message("report.doc.cases.outcome", n=n, department=o.department.name,
                                         title=o.case.title, reference=o.case.reference, outcome=outcome))

    # 六、下一步工作建议
    def suggestions(self) -> None:
        self.heading(N_("report.doc.h.suggestions"))
        for n, sentence in enumerate(suggestions(self.report, self.lang), start=1):
            _para(self.doc, sentence, bold_lead=self.message("report.doc.item", n=_ordinal(n, self.lang)))


def render_docx(report: WeeklyReport, *, language: str, timezone: str = c.DEFAULT_TIMEZONE) -> bytes:
    """The weekly summary (all departments, or a head's section) as a .docx in LANGUAGE."""
    lang = normalise_language(language)
    tz = ZoneInfo(timezone)
    doc = Document()
    _setup(doc, lang)
    title = c.report_title(report, lang)
    week = c.week_title(report.week, lang)
    props = doc.core_properties
    props.title = f"{title} {week}"
    props.author = props.last_modified_by = c.message("email.app_name", lang)
    props.created = props.modified = report.generated_at.replace(tzinfo=None)
    props.revision = 1

    doc.add_paragraph(title, style="Title")
    _para(doc, week, align="center")
    note = c.scope_note(report, lang, tz)
    if report.scope != "all" and report.department is not None:
        _para(doc, c.message("report.email.department_note", lang, department=report.department.name))
    if note:
        _para(doc, note)
    writer = _Writer(doc, report, lang, tz)
    writer.overview()
    writer.league()
    writer.overdue()
    writer.satisfaction()
    writer.highlights()
    writer.suggestions()
    doc.add_paragraph()
    _para(doc, c.message("email.app_name", lang), align="right")
    _para(doc, c.day_text(c.local_naive(report.generated_at, tz).date(), lang), align="right")
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
