"""``Cache-Control: no-store`` for API answers that carry personal data.

The rule: every router whose answers can hold personal data — complainants
(cases), staff names and emails (users, me), the audit log — declares
``dependencies=[NO_STORE]``, so no browser cache, back button or shared proxy
keeps a copy.  Answers built whole — every page and redirect (pages/common.py),
files, reports, calendar feeds — carry ``NO_STORE_HEADERS``, the same header.
Errors carry no personal data; the queue keeps its own ETag revalidation.
"""

from __future__ import annotations

from fastapi import Depends, Response

# The one spelling of the rule, for answers built whole (pages, files, feeds, redirects).
NO_STORE_HEADERS: dict[str, str] = {"Cache-Control": "no-store"}


def no_store(response: Response) -> None:
    response.headers.update(NO_STORE_HEADERS)


NO_STORE = Depends(no_store)
