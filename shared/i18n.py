"""Translations: gettext catalogs (Babel), looked up by stable message keys.

The catalogs live in ``shared/locale/<locale>/LC_MESSAGES/gongzhi.po`` (zh_CN
and en) and are compiled to ``.mo`` next to them (``make i18n``: extract from
the code and the templates, update the catalogs, compile).  Message ids are
stable keys (``case_closed``, ``page.case.timeline``), not sentences: the same
key is the ``code`` of a JSON error, so a client can rely on it while the
wording changes.  Keys built at run time (``f"state.{state}"``) are declared
where they are built with ``N_()`` so that extraction sees them.

The language is picked at the edge: Accept-Language for the API and pages
(`pick_language`, with q-values), the user's setting for emails.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "gongzhi"
_LOCALES = {"zh-CN": "zh_CN", "en": "en"}


def N_(key: str) -> str:
    """Marks a key for extraction where the key itself is only used later (gettext_noop)."""
    return key


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural pair for extraction (the ngettext of N_)."""
    return singular, plural


@cache
def catalog(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of LANG; a missing .mo is a packaging error and fails loudly."""
    with (LOCALE_DIR / _LOCALES[normalise_language(lang)] / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as f:
        return gettext.GNUTranslations(f)


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def has_message(key: str) -> bool:
    # Keys never translate to themselves, so an unchanged answer means "no such key".
    return catalog(DEFAULT_LANGUAGE).gettext(key) != key


def message(key: str, lang: str, **params: Any) -> str:
    """The text for KEY in LANG, formatted; KeyError for an unknown key (a template or code bug)."""
    text = catalog(lang).gettext(key)
    if text == key:
        raise KeyError(key)
    return text.format(**params) if params else text


def plural_message(singular: str, plural: str, n: int, lang: str, **params: Any) -> str:
    """ngettext by key: English says "1 assignment" / "2 assignments"; Chinese has one form."""
    text = catalog(lang).ngettext(singular, plural, n)
    if text in (singular, plural):
        # A message whose wording is the same for every count has no plural entry.
        return message(plural, lang, n=n, **params)
    return text.format(n=n, **params)


def state_label(state: str, lang: str) -> str:
    """待签收 / dispatched … for an assignment or case state."""
    key = f"state.{state}"
    return message(key, lang) if has_message(key) else state


def action_label(action: str, lang: str) -> str:
    key = f"action.{action}"
    return message(key, lang) if has_message(key) else action


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """Like `message`, but an unknown key answers the key, and state/action parameters are labelled.

    Used for errors, whose keys come from exceptions: an unlabelled code is
    better than a failed error response.
    """
    if not has_message(key):
        return key
    if isinstance(params.get("allowed"), list | tuple):
        sep = "、" if lang == "zh-CN" else ", "
        params = {**params, "allowed": sep.join(action_label(a, lang) for a in params["allowed"])}
    if isinstance(params.get("current"), str):
        params = {**params, "current": state_label(params["current"], lang)}
    if isinstance(params.get("action"), str):
        params = {**params, "action": action_label(params["action"], lang)}
    try:
        return message(key, lang, **params)
    except (KeyError, IndexError):
        return message(key, lang)


def _accepted(header: str) -> list[tuple[float, int, str]]:
    ranges = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if tag.strip() and q > 0:
            ranges.append((-q, position, tag.strip().lower()))
    return sorted(ranges)


def pick_language(accept_language: str | None) -> str:
    """The supported language the client prefers most (RFC 9110 §12.5.4 q-values); zh-CN otherwise.

    Written here rather than taken from a library: Babel negotiates locales but
    does not parse the header, and the parsing is a dozen lines.
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    for _q, _position, tag in _accepted(accept_language):
        if tag == "*":
            return DEFAULT_LANGUAGE
        primary = tag.split("-")[0]
        if primary == "zh":
            return "zh-CN"
        if primary == "en":
            return "en"
    return DEFAULT_LANGUAGE

# The labels of assignment and case states and of workflow actions, looked up by value
# (state_label, action_label): declared here so that extraction (make i18n) finds them.
_BUILT_KEYS = (
    N_("action.accept"), N_("action.approve"), N_("action.cancel"), N_("action.close"), N_("action.redispatch"),
    N_("action.reopen"), N_("action.request_extension"), N_("action.return"), N_("action.send_back"),
    N_("action.rework"), N_("action.send_back_signoff"), N_("action.sign_off"), N_("action.submit"),
    N_("action.supervise"), N_("action.urge"), N_("state.accepted"),
    N_("state.awaiting_signoff"), N_("state.cancelled"), N_("state.closed"),
    N_("state.dispatched"), N_("state.done"), N_("state.open"), N_("state.returned"), N_("state.submitted"),
)
