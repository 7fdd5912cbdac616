"""``Cache-Control: no-store`` for API answers that carry personal data.

The rule: every router whose answers can hold personal data — complainants
(cases), staff names and emails (users, me), the audit log — declares
``dependencies=[NO_STORE]``, so no browser cache, back button or shared proxy
keeps a copy.  Every page already answers no-store (pages/common.py).  Errors
carry no personal data; the queue keeps its own ETag revalidation.
"""

from __future__ import annotations

from fastapi import Depends, Response


def no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


NO_STORE = Depends(no_store)
