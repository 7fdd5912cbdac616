"""The one Jinja environment shared by pages, emails and reports.

- Autoescape for .html/.xml templates (and strings); plain-text templates
  (``*.txt``: email subjects and text parts) are not escaped, since a text
  part must not show ``&amp;``.
- ``StrictUndefined``: a missing variable fails the render (and so the job)
  instead of mailing "尊敬的 ，".
- Translation goes through the i18n extension with our own catalogue
  (the gettext catalogs of ``shared.i18n``): ``{{ _("email.greeting", name=user_name) }}``
  looks the *key* up in the language of the render (the ``lang`` variable
  every render receives; zh-CN when absent; ``render`` passes a ``_`` bound to
  it).  An unknown key raises, for the same reason as StrictUndefined.
  Parameters use ``str.format`` names; the result is a plain string, so
  autoescape still escapes user text inside it.
- What a list repeats on every request is kept by value: a row (``KeptMacro``:
  the case list's, and every assignment table's through ``assignment_rows``)
  and the department and campaign ``<option>`` lists (``options``).
- Email and report templates never receive ``request`` (``render_email``
  refuses it): whatever they show must come from explicit context.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from pydantic import BaseModel

from shared.assignments.status import is_open
from shared.i18n import DEFAULT_LANGUAGE, LANGUAGES, message, normalise_language, plural_message, state_label

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

_WEEKDAYS = {
    "zh-CN": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def _lang(context: Context) -> str:
    value = context.get("lang")
    return normalise_language(value if isinstance(value, str) else None)


@pass_context
def _gettext(context: Context, key: str, **params: Any) -> str:
    return message(key, _lang(context), **params)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, **params: Any) -> str:
    return plural_message(singular, plural, n, _lang(context), **params)


def local_datetime(value: datetime, tz: str | ZoneInfo = "Asia/Shanghai") -> datetime:
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return value.astimezone(zone)


def format_local(value: datetime, lang: str, tz: str | ZoneInfo = "Asia/Shanghai", *,
                 with_time: bool = True) -> str:
    """``2026-10-09（周五）17:30`` / ``Fri 2026-10-09 17:30`` in the office's time zone."""
    local = local_datetime(value, tz)
    day_text = format_day(local.date(), lang)
    return _join_time(day_text, f"{local:%H:%M}") if with_time else day_text


def format_day(day: date, lang: str) -> str:
    lang = normalise_language(lang)
    weekday = _WEEKDAYS[lang][day.weekday()]
    if lang == "en":
        return f"{weekday} {day.isoformat()}"
    return f"{day.isoformat()}（{weekday}）"


def _join_time(day_text: str, clock_text: str) -> str:
    # A full-width bracket already separates; a space after it looks like a typo.
    return f"{day_text}{clock_text}" if day_text.endswith("）") else f"{day_text} {clock_text}"


@pass_context
def _local_filter(context: Context, value: datetime, with_time: bool = True) -> str:
    tz = context.get("timezone") or "Asia/Shanghai"
    return format_local(value, _lang(context), tz, with_time=with_time)


# The pieces every list row repeats (a time, a state).  They are functions, not Jinja macros, because a
# list renders them hundreds of times and a macro call costs a new context each time: the queue page's
# 100 rows spent two thirds of the request in them.  templates/pages/_macros.html exports them as
# ``m.when`` and ``m.state``.  Each value is escaped on its own (markupsafe's C escape): Markup.format runs
# Python's string.Formatter, three times slower.


@pass_context
def _when(context: Context, value: datetime | None) -> Markup:
    lang = _lang(context)
    if not value:
        return Markup.escape(message("page.dash", lang))
    return Markup(f'<time datetime="{escape(value.isoformat())}">{escape(_local_filter(context, value))}</time>')


@pass_context
def _state(context: Context, value: object) -> Markup:
    return Markup(f'<span class="state state-{escape(value)}">{escape(state_label(str(value), _lang(context)))}</span>')


@lru_cache(maxsize=256)
def _options(choices: tuple[Any, ...], selected: str) -> Markup:
    if not all(getattr(getattr(c, "__dataclass_params__", None), "frozen", False) for c in choices):
        raise TypeError("options are kept by value: give a tuple of frozen choices (shared.departments.choices)")
    return Markup("".join(f'<option value="{escape(c.id)}"{" selected" if str(c.id) == selected else ""}>'
                          f"{escape(c.name)}</option>" for c in choices))


def choice_options(choices: tuple[Any, ...], selected: object = None) -> Markup:
    """``<option>`` for each department or campaign, SELECTED (an id, as a number or as typed) marked.

    The same few lists (50 departments, the campaigns) are offered on every list and form: rendered once per
    list and selection and kept, the way ``_when`` is a function and not a macro.  Choices are keyed by value,
    so only a tuple of frozen choices is taken; a renamed department is a new tuple (shared.departments.choices
    reads it anew)."""
    if not isinstance(choices, tuple):
        raise TypeError("options are kept by value: give a tuple of frozen choices (shared.departments.choices)")
    return _options(choices, "" if selected is None else str(selected))


def build_environment(directory: Path = TEMPLATES_DIR) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(directory)),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml"), default_for_string=True, default=False
        ),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.filters["local"] = _local_filter
    env.globals["time_element"] = _when
    env.globals["state_badge"] = _state
    env.globals["options"] = choice_options
    env.globals["assignment_rows"] = _assignment_rows
    env.globals["assignment_head"] = _assignment_head
    env.globals["own_work"] = _own_work
    return env


@lru_cache
def environment() -> Environment:
    return build_environment()


@lru_cache(maxsize=len(LANGUAGES))
def _translator(lang: str) -> Callable[..., str]:
    """``_`` bound to one language for one render: the i18n extension's own ``_`` finds the language in the
    context on every call, through two context calls and three functions, and a page makes 50 to 80 of them."""

    def translated(key: str, **params: Any) -> str:
        return message(key, lang, **params)

    return translated


def render(template: str, *, lang: str = DEFAULT_LANGUAGE, **context: Any) -> str:
    lang = normalise_language(lang)
    return environment().get_template(template).render(lang=lang, _=_translator(lang), **context)


def _by_value(value: object) -> Hashable:
    """What a kept macro's argument is keyed by: a flat pydantic model by its type and fields, else itself."""
    if isinstance(value, BaseModel):
        return (type(value), *value.__dict__.values())
    if isinstance(value, str | int | float | bool | date | Enum) or value is None:
        return value
    raise TypeError(f"a kept macro is keyed by value, and a {type(value).__name__} is not one")


@dataclass
class _Module:
    template: Template
    module: Any
    rendered: dict[Hashable, Markup] = field(default_factory=dict)


class KeptMacro:
    """One macro of one template, each distinct call rendered once and kept: the rows a list repeats.

    A row of the case list is made only of its arguments and of the language and
    time zone it is rendered for (the template is made a module with those and
    ``_``, nothing else), so a call with the same values gives the same row, and
    keeping it is keeping a pure function's answer.  The arguments are the key,
    by value (``_by_value``): a case whose fields changed is a new row.  A
    template changed on disk (auto_reload) starts afresh; at SIZE rows per module
    the oldest goes first.  A list of 30 rows rendered 1.7 ms of the page; kept,
    30 lookups.
    """

    def __init__(self, template: str, macro: str, *, size: int = 4096) -> None:
        self.template, self.macro, self.size = template, macro, size
        self._modules: dict[tuple[str, str], _Module] = {}
        self._lock = threading.Lock()

    def _module(self, lang: str, timezone: str) -> _Module:
        template = environment().get_template(self.template)
        found = self._modules.get((lang, timezone))
        if found is None or found.template is not template:
            module = template.make_module({"lang": lang, "timezone": timezone, "_": _translator(lang)})
            found = _Module(template, module)
            with self._lock:
                self._modules[(lang, timezone)] = found
        return found

    def __call__(self, lang: str, timezone: str, *args: object) -> Markup:
        return self._call(self._module(normalise_language(lang), timezone), args)

    def many(self, lang: str, timezone: str, calls: Iterable[tuple[object, ...]]) -> list[Markup]:
        """One call per tuple of CALLS, the template looked up once (a list's rows): as many ``__call__``."""
        kept = self._module(normalise_language(lang), timezone)
        return [self._call(kept, args) for args in calls]

    def _call(self, kept: _Module, args: tuple[object, ...]) -> Markup:
        key = tuple(_by_value(a) for a in args)
        found = kept.rendered.get(key)
        if found is None:
            found = Markup(getattr(kept.module, self.macro)(*args))
            with self._lock:
                while len(kept.rendered) >= self.size:
                    kept.rendered.pop(next(iter(kept.rendered)))
                kept.rendered[key] = found
        return found


class AssignmentRow(BaseModel):
    """What a row of an assignment table shows (templates/pages/_assignment_row.html), and nothing else:
    its key as a kept row, so a change to any of it is a new row."""

    id: int
    role: str
    mine: bool  # the reader's own open work (他是承办人): 我承办
    case_reference: str
    case_title: str
    department: str
    state: str
    acceptance_due_at: datetime
    feedback_due_at: datetime
    feedback_overdue: bool
    acceptance_overdue: bool
    needs_decision: bool
    pending: bool  # an extension request waits
    supervised: bool  # 挂牌督办
    extended: bool
    due_provisional: bool


ASSIGNMENT_ROW = KeptMacro("pages/_assignment_row.html", "row")
ASSIGNMENT_HEAD = KeptMacro("pages/_assignment_row.html", "head")


@pass_context
def _assignment_head(context: Context, show_department: bool = True, show_title: bool = True) -> Markup:
    """The head of ``m.assignment_table``, kept per language and columns shown."""
    return ASSIGNMENT_HEAD(_lang(context), context.get("timezone") or "Asia/Shanghai", show_department, show_title)


@pass_context
def _own_work(context: Context, assignment: Any) -> bool:
    """Whether the assignment is the reader's own open work (he is its 承办人): the badge 我承办."""
    reader = getattr(context.get("user"), "id", None)
    return reader is not None and assignment.assignee_id == reader and is_open(assignment.state)


@pass_context
def _assignment_rows(context: Context, items: Any, names: Any, pending: Any = (), supervised: Any = (),
                     show_department: bool = True, show_title: bool = True) -> Markup:
    """The rows of ``m.assignment_table``, each rendered once per its values and kept (a case page's or an
    inbox's rows cost a third of their render as macros)."""
    lang, timezone = _lang(context), context.get("timezone") or "Asia/Shanghai"
    pending, supervised = set(pending), set(supervised)
    return Markup("").join(ASSIGNMENT_ROW.many(lang, timezone, ((AssignmentRow(
        id=a.id, role=str(a.role), mine=_own_work(context, a),
        case_reference=a.case_reference, case_title=a.case_title, department=names.get(a.department_id, ""),
        state=str(a.state), acceptance_due_at=a.acceptance_due_at, feedback_due_at=a.feedback_due_at,
        feedback_overdue=a.feedback_overdue, acceptance_overdue=a.acceptance_overdue,
        needs_decision=a.needs_decision, pending=a.id in pending, supervised=a.id in supervised,
        extended=a.extended, due_provisional=a.due_provisional), show_department, show_title) for a in items)))


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str


def render_email(name: str, *, lang: str, **context: Any) -> RenderedEmail:
    """Render templates/emails/NAME/{subject.txt, body.txt, body.html}."""
    if "request" in context:
        raise TypeError("email templates never receive `request`")
    subject = render(f"emails/{name}/subject.txt", lang=lang, **context)
    return RenderedEmail(
        # A subject is one line: newlines would let header folding go wrong.
        subject=" ".join(subject.split()),
        body_text=render(f"emails/{name}/body.txt", lang=lang, **context).strip() + "\n",
        body_html=render(f"emails/{name}/body.html", lang=lang, **context),
    )
