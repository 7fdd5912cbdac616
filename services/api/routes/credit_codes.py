"""统一社会信用代码 check for forms that check as you type (the case intake page's script).

The answer comes from shared/cases/credit_code.py, the same rule the case
schemas apply when the form is posted; the script holds no rule of its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel

from services.api.deps import CurrentUser
from services.api.errors import language
from services.api.routes import api_router
from shared.cases.credit_code import is_valid_credit_code, may_still_become_valid, normalize_credit_code
from shared.i18n import translate

router = api_router(tags=["cases"])


class CreditCodeCheck(BaseModel):
    code: str  # as it will be stored: spaces removed, upper case
    valid: bool
    incomplete: bool  # shorter than 18 characters, none of them wrong so far: keep typing
    message: str | None  # why it is invalid, in the Accept-Language


@router.get("/credit-codes/check", response_model=CreditCodeCheck)
def check_credit_code(request: Request, _user: CurrentUser,
                      code: Annotated[str, Query(max_length=64)] = "") -> CreditCodeCheck:
    """Whether a unified social credit code is well formed (GB 32100-2015 check character)."""
    normal = normalize_credit_code(code)
    valid = is_valid_credit_code(normal)
    incomplete = not valid and may_still_become_valid(normal)
    message = None if valid or not normal else translate("credit_code_invalid", language(request))
    return CreditCodeCheck(code=normal, valid=valid, incomplete=incomplete, message=message)
