"""The campaign summary (活动总结) as a Word draft, in the classic five parts.

一、活动背景与目标  二、活动组织与实施情况  三、活动成效与亮点
四、存在问题与不足  五、未来工作建议与展望

Every sentence that states a figure is built from `CampaignSummary`; what only
the author can say (background, objectives, experience, typical cases' story)
is a highlighted 【待补充】 paragraph.  The problems section states what the
data measured — departments below the floors (the reasons are `levels`' own
messages), items returned twice, late and overdue feedback — so the draft
cannot be kinder than the figures.  All wording comes from the gettext
catalogs, so the draft exists in zh-CN and English.

Layout follows the usual government document practice (GB/T 9704): A4, wide
margins, title in a song typeface, level-one headings in 黑体, level-two in 楷体,
body in 仿宋 with a two-character first-line indent.  Fonts are set for the
East Asian script explicitly (w:eastAsia, theme fonts removed), otherwise Word
falls back to a Latin theme font and Chinese may render in the wrong face.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime
from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from shared.i18n import N_, message, state_label
from shared.reports.campaign import CampaignSummary, DepartmentRow
from shared.reports.levels import reason_text
from shared.reports.model import Level, Rate
from shared.reports.render.docx_style import FANGSONG, HEITI, KAITI, SONGTI, font_table, official_page, repeat_header
from shared.reports.render.docx_style import name_fonts as _name_fonts
from shared.reports.render.suggestions import longest_overdue
from shared.settings import get_settings

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# The East Asian face per role (names as Word knows them); Latin text is docx_style.LATIN.
TITLE_FONTS, HEADING1_FONTS, HEADING2_FONTS, BODY_FONTS = SONGTI, HEITI, KAITI, FANGSONG
TITLE_SIZE, BODY_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(10.5)

_LEVEL_KEYS = {Level.RED: N_("campaign_summary.level.red"), Level.YELLOW: N_("campaign_summary.level.yellow"),
               Level.GREEN: N_("campaign_summary.level.green")}
_OUTCOME_KEYS = (
    ("enterprises_inspected", N_("page.outcome.enterprises_inspected")),
    ("problems_found", N_("page.outcome.problems_found")),
    ("rectification_orders", N_("page.outcome.rectification_orders")),
    ("cases_filed", N_("page.outcome.cases_filed")),
    ("fines_yuan", N_("page.outcome.fines_yuan")),
    ("complaints_mediated", N_("page.outcome.complaints_mediated")),
    ("losses_recovered_yuan", N_("page.outcome.losses_recovered_yuan")),
)
_SECTIONS = (
    N_("campaign_summary.h1.background"), N_("campaign_summary.h1.implementation"),
    N_("campaign_summary.h1.results"), N_("campaign_summary.h1.problems"), N_("campaign_summary.h1.suggestions"),
)
_UNSAFE_IN_FILE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def file_name(summary: CampaignSummary, lang: str) -> str:
    """`<campaign>工作总结.docx` — the campaign's name made safe for any file system."""
    name = _UNSAFE_IN_FILE_NAME.sub("_", summary.campaign.name).strip(" .") or f"campaign-{summary.campaign.id}"
    return message("campaign_summary.file_name", lang, name=name)


class _Writer:
    """The draft being written, in one language."""

    def __init__(self, summary: CampaignSummary, lang: str) -> None:
        self.s = summary
        self.lang = lang
        self.tz = get_settings().tz
        self.doc: DocumentType = Document()
        self.sep = "、" if lang == "zh-CN" else ", "
        _page_setup(self.doc)
        _styles(self.doc, lang)
        # Tables are numbered in order of appearance; the problems section refers to them by number.
        outcomes = summary.outcomes
        present = (("departments", bool(summary.departments)), ("categories", summary.cases.total > 0),
                   ("outcomes", any(getattr(outcomes, name) for name, _key in _OUTCOME_KEYS)),
                   ("overdue", bool(summary.overdue_list)), ("returned", bool(summary.returned_list)),
                   ("repeat", bool(summary.repeat_complaints)))
        self.table_number = {name: n for n, name in enumerate((name for name, shown in present if shown), start=1)}

    # -- wording -------------------------------------------------------------

    def message(self, key: str, **params: Any) -> str:
        return message(key, self.lang, **params)

    def day(self, value: date) -> str:
        return format_date(value, "y年M月d日" if self.lang == "zh-CN" else "d MMMM y", locale=self._locale)

    def moment(self, value: datetime) -> str:
        pattern = "y年M月d日 HH:mm" if self.lang == "zh-CN" else "d MMMM y, HH:mm"
        return format_datetime(value, pattern, tzinfo=self.tz, locale=self._locale)

    @property
    def _locale(self) -> str:
        return "zh_CN" if self.lang == "zh-CN" else "en"

    def rate(self, rate: Rate) -> str:
        if rate.value is None:
            return self.message("campaign_summary.no_rate")
        text = f"{rate.value * 100:.1f}".rstrip("0").rstrip(".")
        return f"{text}%"

    @staticmethod
    def money(value: Decimal) -> str:
        return f"{value:,.2f}"

    def join(self, items: Iterable[str]) -> str:
        return self.sep.join(items)

    # -- blocks --------------------------------------------------------------

    def para(self, text: str, *, indent: bool = True, align: Any = None) -> Paragraph:
        p = self.doc.add_paragraph(text)
        if not indent:
            p.paragraph_format.first_line_indent = Pt(0)
        if align is not None:
            p.alignment = align
        return p

    def todo(self, key: str) -> Paragraph:
        """A place for the author's own words: the marker, then what belongs there, highlighted."""
        p = self.doc.add_paragraph()
        marker = p.add_run(self.message("campaign_summary.todo"))
        marker.bold = True
        hint = p.add_run(self.message(key))
        for run in (marker, hint):
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        return p

    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(text, level=level)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str | None = None) -> None:
        if caption:
            cap = self.para(caption, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
            for run in cap.runs:
                run.bold = True
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            _cell_text(cell, text, bold=True)
        repeat_header(table.rows[0])
        for values in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, values, strict=True):
                _cell_text(cell, text)

    # -- the document ----------------------------------------------------------

    def write(self) -> bytes:
        s = self.s
        title = self.doc.add_paragraph(self.message("campaign_summary.title", name=s.campaign.name), style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.para(self.message("campaign_summary.draft_note", as_of=self.moment(s.generated_at)), indent=False,
                  align=WD_ALIGN_PARAGRAPH.CENTER)
        self._background()
        self._implementation()
        self._results()
        self._problems()
        self._suggestions()
        self.para(self.message("campaign_summary.signature"), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        self.para(self.day(s.generated_at.astimezone(self.tz).date()), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        self.doc.core_properties.title = self.message("campaign_summary.title", name=s.campaign.name)
        self.doc.core_properties.language = self.lang
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()

    def _background(self) -> None:
        s, c = self.s, self.s.campaign
        self.heading(self.message(_SECTIONS[0]), 1)
        dates = {"name": c.name, "starts": self.day(c.starts_on), "ends": self.day(c.ends_on)}
        if c.lead_department is not None:
            text = self.message("campaign_summary.period_led", lead=c.lead_department.name, **dates)
        else:
            text = self.message("campaign_summary.period", **dates)
        state = N_("campaign_summary.ended") if s.ended else N_("campaign_summary.running")
        self.para(text + self.message(state, as_of=self.moment(s.generated_at)))
        if c.description.strip():
            self.para(self.message("campaign_summary.description", text=c.description.strip()))
        self.todo(N_("campaign_summary.todo.background"))
        self.todo(N_("campaign_summary.todo.objectives"))

    def _implementation(self) -> None:
        s = self.s
        self.heading(self.message(_SECTIONS[1]), 1)
        self.heading(self.message("campaign_summary.h2.departments"), 2)
        if s.departments:
            names = self.join(r.department.name for r in s.departments)
            self.para(self.message("campaign_summary.departments", n=len(s.departments), names=names))
            self.table(
                [self.message(k) for k in (N_("campaign_summary.col.department"), N_("campaign_summary.col.cases_led"),
                                     N_("campaign_summary.col.assignments"), N_("campaign_summary.col.due"),
                                     N_("campaign_summary.col.on_time"), N_("campaign_summary.col.rate"),
                                     N_("campaign_summary.col.overdue"), N_("campaign_summary.col.returns"),
                                     N_("campaign_summary.col.level"))],
                [[r.department.name, str(r.cases_led), str(r.assignments), str(r.due), str(r.on_time),
                  self.rate(r.on_time_feedback_rate), str(r.overdue_open), str(r.returns_made),
                  self.message(_LEVEL_KEYS[r.level])] for r in s.departments],
                caption=self.message("campaign_summary.table.departments", n=self.table_number["departments"]))
        else:
            self.para(self.message("campaign_summary.departments_none"))

        self.heading(self.message("campaign_summary.h2.cases"), 2)
        cases = s.cases
        if cases.total:
            self.para(self.message("campaign_summary.cases", total=cases.total, closed=cases.closed, open=cases.open,
                             typical=cases.typical))
            sources = [(self.message(f"page.source.{k}"), n) for k, n in cases.by_source.items() if n]
            categories = [(c.key, c.count) for c in cases.by_category]
            if cases.other_categories:
                categories.append((self.message("campaign_summary.other_categories"), cases.other_categories))
            self.para(self.message("campaign_summary.by_source", items=self._counted(sources)) +
                      self.message("campaign_summary.by_category", items=self._counted(categories)))
            self.table([self.message("campaign_summary.col.category"), self.message("campaign_summary.col.count")],
                       [[label, str(n)] for label, n in categories],
                       caption=self.message("campaign_summary.table.categories", n=self.table_number["categories"]))
        else:
            self.para(self.message("campaign_summary.cases_none"))

        self.heading(self.message("campaign_summary.h2.inspections"), 2)
        i = s.inspections
        if i.total:
            self.para(self.message("campaign_summary.inspections", total=i.total, held=i.held, planned=i.planned,
                             cancelled=i.cancelled, departments=i.departments))
        else:
            self.para(self.message("campaign_summary.inspections_none"))
        f = s.feedback
        self.para(self.message("campaign_summary.assignments", assignments=f.assignments, due=f.due, on_time=f.on_time,
                         late=f.late, overdue=f.overdue_open))
        self.todo(N_("campaign_summary.todo.organisation"))

    def _counted(self, items: Sequence[tuple[str, int]]) -> str:
        return self.join(self.message("campaign_summary.item_count", label=label, n=n) for label, n in items)

    def _results(self) -> None:
        s = self.s
        self.heading(self.message(_SECTIONS[2]), 1)
        self.heading(self.message("campaign_summary.h2.outcomes"), 2)
        o = s.outcomes
        if "outcomes" in self.table_number:
            self.para(self.message("campaign_summary.outcomes", enterprises_inspected=o.enterprises_inspected,
                             problems_found=o.problems_found, rectification_orders=o.rectification_orders,
                             cases_filed=o.cases_filed, fines=self.money(o.fines_yuan),
                             complaints_mediated=o.complaints_mediated, losses=self.money(o.losses_recovered_yuan)))
            self.table([self.message("campaign_summary.col.outcome"), self.message("campaign_summary.col.value")],
                       [[self.message(key), self._outcome_value(getattr(o, name))] for name, key in _OUTCOME_KEYS],
                       caption=self.message("campaign_summary.table.outcomes", n=self.table_number["outcomes"]))
        else:
            self.para(self.message("campaign_summary.outcomes_none"))

        self.heading(self.message("campaign_summary.h2.timeliness"), 2)
        f = s.feedback
        if f.due:
            self.para(self.message("campaign_summary.on_time", due=f.due, on_time=f.on_time,
                             rate=self.rate(f.on_time_feedback_rate), by_extension=f.on_time_by_extension))
        else:
            self.para(self.message("campaign_summary.on_time_none"))
        cb = s.callbacks
        if cb.made:
            self.para(self.message("campaign_summary.callbacks", made=cb.made, reached=cb.reached,
                                   satisfied=cb.satisfied, satisfaction=self.rate(cb.satisfaction_rate),
                                   resolved=cb.resolved, resolution=self.rate(cb.resolution_rate)))
        else:
            self.para(self.message("campaign_summary.callbacks_none"))

        self.heading(self.message("campaign_summary.h2.typical"), 2)
        for n, tc in enumerate(s.typical_cases, start=1):
            lead = tc.case.lead_department.name if tc.case.lead_department else ""
            self.para(self.message("campaign_summary.typical_case", n=n, title=tc.case.title,
                                   reference=tc.case.reference, category=tc.category, lead=lead,
                                   status=state_label(tc.status, self.lang)))
            o = tc.outcomes
            if any(getattr(o, name) for name, _key in _OUTCOME_KEYS):
                self.para(self.message("campaign_summary.typical_outcomes", cases_filed=o.cases_filed,
                                 rectification_orders=o.rectification_orders, fines=self.money(o.fines_yuan),
                                 losses=self.money(o.losses_recovered_yuan)))
            self.todo(N_("campaign_summary.todo.typical_case"))
        if s.typical_total > len(s.typical_cases):
            self.para(self.message("campaign_summary.typical_more", n=s.typical_total - len(s.typical_cases)))
        if not s.typical_cases:
            self.para(self.message("campaign_summary.typical_none"))
        self.todo(N_("campaign_summary.todo.highlights"))

    def _outcome_value(self, value: int | Decimal) -> str:
        return self.money(value) if isinstance(value, Decimal) else str(value)

    def _department_problem(self, n: int, row: DepartmentRow) -> str:
        sep = "；" if self.lang == "zh-CN" else "; "
        reasons = sep.join(reason_text(r, self.s.floors, self.lang) for r in row.level_reasons)
        key = (N_("campaign_summary.problem.department_overdue") if row.overdue_open
               else N_("campaign_summary.problem.department"))
        return self.message(key, n=n, department=row.department.name, reasons=reasons,
                            rate=self.rate(row.on_time_feedback_rate), due=row.due, on_time=row.on_time,
                            overdue=row.overdue_open, days=row.max_working_days_overdue)

    def _problems(self) -> None:
        s = self.s
        self.heading(self.message(_SECTIONS[3]), 1)
        lines: list[str] = []

        def number() -> int:
            return len(lines) + 1

        for row in s.below_floor:
            lines.append(self._department_problem(number(), row))
        f = s.feedback
        if f.overdue_open:
            longest = max((i.working_days_overdue for i in s.overdue_list), default=0)
            lines.append(self.message("campaign_summary.problem.overdue", n=number(), count=f.overdue_open,
                                      as_of=self.moment(s.generated_at), days=longest,
                                      table=self.table_number["overdue"]))
        if f.late:
            late = self.join(self.message("campaign_summary.dept_count", name=r.department.name, count=r.late)
                             for r in sorted(s.departments, key=lambda r: -r.late) if r.late)
            lines.append(self.message("campaign_summary.problem.late", n=number(), count=f.late, departments=late))
        r = s.returns
        if r.returned_twice:
            twice = self.join(self.message("campaign_summary.case_label", reference=i.case_reference,
                                           title=i.case_title) for i in s.returned_list if i.returns >= 2)
            lines.append(self.message("campaign_summary.problem.returned_twice", n=number(), count=r.returned_twice,
                                      items=twice, table=self.table_number["returned"]))
        if r.returns:
            reasons = self.join(
                self.message("campaign_summary.reason_count", label=self.message(f"notice.return_reason.{k}"), count=v)
                for k, v in r.by_reason.items() if v)
            lines.append(self.message("campaign_summary.problem.returns", n=number(), returns=r.returns,
                                items=r.returned_items, rate=self.rate(r.return_rate), reasons=reasons))
        cb = s.callbacks
        if cb.unsatisfied or cb.unresolved:
            lines.append(self.message("campaign_summary.problem.unsatisfied", n=number(), unsatisfied=cb.unsatisfied,
                                unresolved=cb.unresolved, rate=self.rate(cb.satisfaction_rate)))
        if s.repeat_complaint_total:
            lines.append(self.message("campaign_summary.problem.repeat", n=number(), count=s.repeat_complaint_total,
                                      table=self.table_number["repeat"]))

        if lines:
            self.para(self.message("campaign_summary.problems_intro"))
            for line in lines:
                self.para(line)
        else:
            self.para(self.message("campaign_summary.problems_none"))
        self._problem_tables()
        self.todo(N_("campaign_summary.todo.problems"))

    def _capped(self, key: str, table: str, shown: int, total: int) -> str:
        caption = self.message(key, n=self.table_number[table])
        if total <= shown:
            return caption
        return caption + self.message("campaign_summary.table_capped", shown=shown, total=total)

    def _problem_tables(self) -> None:
        s = self.s
        if s.overdue_list:
            self.table(
                [self.message(k) for k in (N_("campaign_summary.col.reference"), N_("campaign_summary.col.case_title"),
                                     N_("campaign_summary.col.department"), N_("campaign_summary.col.assignee"),
                                     N_("campaign_summary.col.due_at"), N_("campaign_summary.col.days_overdue"))],
                [[i.case_reference, i.case_title, i.department.name, i.assignee_name or "",
                  self.moment(i.feedback_due_at), str(i.working_days_overdue)] for i in s.overdue_list],
                caption=self._capped(N_("campaign_summary.table.overdue"), "overdue", len(s.overdue_list),
                                     s.feedback.overdue_open))
        if s.returned_list:
            self.table(
                [self.message(k) for k in (N_("campaign_summary.col.reference"), N_("campaign_summary.col.case_title"),
                                     N_("campaign_summary.col.times"), N_("campaign_summary.col.returned_by"),
                                     N_("campaign_summary.col.last_reason"), N_("campaign_summary.col.state"))],
                [[i.case_reference, i.case_title, str(i.returns), self.join(d.name for d in i.returned_by),
                  self.message(f"notice.return_reason.{i.last_reason}") if i.last_reason else "",
                  state_label(i.state, self.lang)] for i in s.returned_list],
                caption=self._capped(N_("campaign_summary.table.returned"), "returned", len(s.returned_list),
                                     s.returns.returned_items))
        if s.repeat_complaints:
            self.table(
                [self.message(k) for k in (N_("campaign_summary.col.enterprise"),
                                           N_("campaign_summary.col.credit_code"), N_("campaign_summary.col.cases"))],
                [[rc.enterprise_name, rc.credit_code, self.join(c.reference for c in rc.cases)]
                 for rc in s.repeat_complaints],
                caption=self._capped(N_("campaign_summary.table.repeat"), "repeat", len(s.repeat_complaints),
                                     s.repeat_complaint_total))

    def _suggestions(self) -> None:
        s = self.s
        self.heading(self.message(_SECTIONS[4]), 1)
        lines: list[str] = []

        def add(key: str, **params: Any) -> None:
            lines.append(self.message(key, n=len(lines) + 1, **params))

        if s.below_floor:
            add(N_("campaign_summary.suggest.departments"), names=self.join(r.department.name for r in s.below_floor))
        # The same sentence as the weekly report's: how many are overdue, and which the longest.
        for sentence in longest_overdue(s.overdue_list, self.lang, total=s.feedback.overdue_open):
            lines.append(f"{len(lines) + 1}. {sentence}")
        if s.returns.returned_twice:
            add(N_("campaign_summary.suggest.returns"))
        if s.feedback.late:
            add(N_("campaign_summary.suggest.late"))
        if s.callbacks.unsatisfied or s.callbacks.unresolved:
            add(N_("campaign_summary.suggest.satisfaction"))
        if s.repeat_complaint_total:
            add(N_("campaign_summary.suggest.repeat"), count=s.repeat_complaint_total)
        add(N_("campaign_summary.suggest.keep"))
        for line in lines:
            self.para(line)
        self.todo(N_("campaign_summary.todo.outlook"))


def render(summary: CampaignSummary, lang: str) -> bytes:
    """The .docx file's bytes."""
    return _Writer(summary, lang).write()


# ------------------------------------------------------------------ layout helpers


def _page_setup(doc: DocumentType) -> None:
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        official_page(section)
    font_table(doc)


def _language(element: Any, lang: str) -> None:
    rpr = element.get_or_add_rPr()
    tag = rpr.find(qn("w:lang"))
    if tag is None:
        tag = OxmlElement("w:lang")
        rpr.append(tag)
    tag.set(qn("w:val"), "en-US" if lang == "en" else "zh-CN")
    tag.set(qn("w:eastAsia"), "zh-CN")


def _styles(doc: DocumentType, lang: str) -> None:
    black = RGBColor(0, 0, 0)
    normal = doc.styles["Normal"]
    _fonts(normal.element, BODY_FONTS)
    _language(normal.element, lang)
    normal.font.size = BODY_SIZE
    fmt = normal.paragraph_format
    fmt.first_line_indent = BODY_SIZE * 2  # two characters
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    for name, faces, size, bold in (("Title", TITLE_FONTS, TITLE_SIZE, True),
                                    ("Heading 1", HEADING1_FONTS, BODY_SIZE, False),
                                    ("Heading 2", HEADING2_FONTS, BODY_SIZE, False)):
        style = doc.styles[name]
        _fonts(style.element, faces)
        style.font.size = size
        style.font.bold = bold
        style.font.italic = False
        style.font.color.rgb = black
        pf = style.paragraph_format
        pf.first_line_indent = Pt(0) if name == "Title" else BODY_SIZE * 2
        pf.space_before = Pt(12) if name == "Title" else Pt(6)
        pf.space_after = Pt(12) if name == "Title" else Pt(0)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(36) if name == "Title" else Pt(28)
    # The Title style's bottom border is a Latin-document habit; formal titles stand alone.
    title_ppr = doc.styles["Title"].element.pPr
    if title_ppr is not None:
        for border in title_ppr.findall(qn("w:pBdr")):
            title_ppr.remove(border)
    table = doc.styles["Table Grid"]
    _fonts(table.element, BODY_FONTS)
    table.font.size = TABLE_SIZE


def _cell_text(cell: Any, text: str, *, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    run = p.add_run(text)
    run.font.size = TABLE_SIZE
    run.bold = bold
    _fonts(run._r, BODY_FONTS)


def _fonts(element: Any, east_asian: str) -> None:
    _name_fonts(element.get_or_add_rPr(), east_asian)
