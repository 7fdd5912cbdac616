"""The one Jinja environment shared by pages, emails and reports.

- Autoescape for .html/.xml templates (and strings); plain-text templates
  (``*.txt``: email subjects and text parts) are not escaped, since a text
  part must not show ``&amp;``.
- ``StrictUndefined``: a missing variable fails the render (and so the job)
  instead of mailing "尊敬的 ，".
- Translation goes through the i18n extension with our own catalogue
  (the gettext catalogs of ``shared.i18n``): ``{{ _("email.greeting", name=user_name) }}``
  looks the *key* up in the language of the render (the ``lang`` variable
  every render receives; zh-CN when absent).  An unknown key raises, for the
  same reason as StrictUndefined.  Parameters use ``str.format`` names; the
  result is a plain string, so autoescape still escapes user text inside it.
- Email and report templates never receive ``request`` (``render_email``
  refuses it): whatever they show must come from explicit context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from shared.i18n import DEFAULT_LANGUAGE, message, normalise_language, plural_message, state_label

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
    return env


@lru_cache
def environment() -> Environment:
    return build_environment()


def render(template: str, *, lang: str = DEFAULT_LANGUAGE, **context: Any) -> str:
    return environment().get_template(template).render(lang=normalise_language(lang), **context)


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
