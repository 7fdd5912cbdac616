"""What a row of cases shows for its source, priority and status, in one language, for the Excel export.

The list page's rows are rendered once per their values (templates/pages/cases/_rows.html) and look the
same messages up themselves."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shared.cases.models import CaseSource, CaseStatus, Priority
from shared.i18n import message


@lru_cache(maxsize=8)
def row_labels(lang: str) -> dict[str, dict[Any, str]]:
    """Each label by value, once per language: a translation call per cell was a third of a list's rendering."""
    return {"source": {s: message(f"page.source.{s.value}", lang) for s in CaseSource},
            "priority": {p: message(f"page.priority.{p.value}", lang) for p in Priority},
            "status": {s: message(f"page.status.{s.value}", lang) for s in CaseStatus}}
