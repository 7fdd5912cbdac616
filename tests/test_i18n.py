"""Translations: gettext catalogs that cover every key the code and templates use, compiled, and negotiated."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from shared.i18n import LOCALE_DIR, pick_language, plural_message, translate

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("zh_CN", "en")


def _keywords() -> dict[str, tuple[int, ...] | None]:
    """The extraction keywords, read from the Makefile's I18N_KEYWORDS (their one definition)."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = next(x for x in makefile.splitlines() if x.startswith("I18N_KEYWORDS"))
    keywords: dict[str, tuple[int, ...] | None] = {"_": None, "gettext": None, "ngettext": (1, 2)}
    for spec in re.findall(r"-k (\S+)", line):
        name, _, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


def _extracted() -> set[str]:
    ids: set[str] = set()
    for directory in ("shared", "services", "workers", "templates"):
        method_map = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map, keywords=_keywords(),  # type: ignore[arg-type]
        ):
            first = message[0] if isinstance(message, tuple) else message
            if first and re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*", first):
                ids.add(first)
    return ids


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "gongzhi.po").open("rb") as f:
        return read_po(f, locale=locale)


def test_every_key_the_code_and_templates_use_is_translated_in_both_languages() -> None:
    used = _extracted()
    assert len(used) > 100
    for locale in LOCALES:
        catalog = _catalog(locale)
        known = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}
        missing = sorted(k for k in used if k not in known)
        assert not missing, f"{locale}: keys used but not in the catalog: {missing}"
        empty = sorted(k for k, m in known.items()
                       if not (all(m.string) if isinstance(m.string, tuple) else m.string))
        assert not empty, f"{locale}: untranslated: {empty}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogs_are_current(locale: str) -> None:
    """The .mo shipped beside each .po says the same (run `make i18n` after editing a .po)."""
    fresh = io.BytesIO()
    write_mo(fresh, _catalog(locale))
    fresh.seek(0)
    compiled = (LOCALE_DIR / locale / "LC_MESSAGES" / "gongzhi.mo").read_bytes()
    assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(io.BytesIO(compiled))._catalog  # type: ignore[attr-defined]


@pytest.mark.parametrize(("header", "expected"), [
    ("en;q=0.1, zh-CN", "zh-CN"),
    ("zh-CN;q=0.2, en-GB;q=0.8", "en"),
    ("fr-FR, en;q=0.5", "en"),
    ("zh;q=0, en", "en"),
    ("fr", "zh-CN"),
    ("", "zh-CN"),
    ("en-US,en;q=0.9", "en"),
    ("zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"),
])
def test_accept_language_honours_q_values(header: str, expected: str) -> None:
    assert pick_language(header) == expected


def test_plurals_come_from_the_catalog() -> None:
    one, many = "email.headline.overdue.one", "email.headline.overdue"
    assert plural_message(one, many, 1, "en") == "1 assignment overdue"
    assert plural_message(one, many, 3, "en") == "3 assignments overdue"
    assert plural_message(one, many, 1, "zh-CN") == plural_message(one, many, 1, "zh-CN") == "1 项任务已逾期"
    assert plural_message(one, many, 3, "zh-CN") == "3 项任务已逾期"


def test_errors_name_states_and_actions_in_the_language() -> None:
    text = translate("invalid_transition", "zh-CN", current="accepted", action="accept", allowed=["submit", "cancel"])
    assert "办理中" in text and "签收" in text and "提交反馈、撤销" in text
    assert "in progress" in translate("invalid_transition", "en", current="accepted", action="accept", allowed=[])


def test_every_catalog_key_is_found_by_extraction() -> None:
    """Keys built at run time are declared with N_() where they are built; anything else is dead."""
    used = _extracted()
    for locale in LOCALES:
        known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog(locale) if m.id}
        unused = sorted(known - used)
        assert not unused, f"{locale}: in the catalog but used nowhere (or built without N_): {unused}"
