"""Reads of cases: the scoped list with filters, search and keyset pagination (API, pages, exports).

One search box finds a case by what a caller has in hand, told apart by its shape:

- a reference (GZ-2026-000022) or a credit code (18 characters): an exact match,
  served by the unique index on ``reference`` and the index on the credit code;
- a phone number: an exact match on the complainant's phone, and only among the
  cases whose complainant the actor may see unmasked (``scope.personal_data_sql``,
  the SQL form of ``scope.sees_personal_data``).  Anyone else gets no rows for any
  phone, so neither the rows nor their absence tell whether a number is on file;
- anything else: a fragment of the title or of the enterprise name, served on
  PostgreSQL by the trigram indexes of shared/cases/models.py (3 characters and
  more; shorter fragments scan newest first, bounded by the statement timeout).

The list is newest first with keyset pagination: no page counts the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from shared.assignments.models import Assignment
from shared.assignments.queries import escape_like
from shared.assignments.status import overdue_sql
from shared.cases.models import Case, CaseSource, CaseStatus
from shared.pagination import after_cursor, encode_cursor
from shared.scope import personal_data_sql, visible_case_parts
from shared.users.models import User

REFERENCE_SHAPE = re.compile(r"GZ-\d{4}-\d{6}", re.IGNORECASE)
CREDIT_CODE_SHAPE = re.compile(r"[0-9A-Z]{18}", re.IGNORECASE)
PHONE_SHAPE = re.compile(r"\+?[0-9][0-9\- ]*[0-9]")
PHONE_MIN_DIGITS = 7


@dataclass
class CaseFilter:
    status: CaseStatus | None = None
    campaign_id: int | None = None
    category: str | None = None
    source: CaseSource | None = None
    lead_department_id: int | None = None
    typical: bool | None = None
    q: str | None = None
    overdue: bool | None = None  # only cases with an overdue assignment (shared.assignments.status)
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive


def local_days(first: date | None, last: date | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """A range of local calendar days, both ends included, as [from, before) instants."""
    start = datetime.combine(first, time.min, tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, tz) if last else None
    return start, end


def search_condition(actor: User, q: str) -> ColumnElement[bool]:
    """What the search box Q matches, by its shape (see the module's docstring)."""
    text = q.strip()
    if REFERENCE_SHAPE.fullmatch(text):
        return col(Case.reference) == text.upper()
    if CREDIT_CODE_SHAPE.fullmatch(text) and not text.isdigit():
        return col(Case.enterprise_credit_code) == text.upper()
    digits = re.sub(r"\D", "", text)
    if PHONE_SHAPE.fullmatch(text) and len(digits) >= PHONE_MIN_DIGITS:
        return and_(personal_data_sql(actor), col(Case.complainant_phone).in_(sorted({text, digits})))
    pattern = f"%{escape_like(text)}%"
    if text.lower() == text.upper():
        # Nothing to fold (Chinese, digits): LIKE gives the same rows and is about 3× cheaper per row
        # where the plan filters rows rather than asking the trigram index.
        return or_(col(Case.title).like(pattern, escape="\\"), col(Case.enterprise_name).like(pattern, escape="\\"))
    return or_(col(Case.title).ilike(pattern, escape="\\"), col(Case.enterprise_name).ilike(pattern, escape="\\"))


def list_cases(session: Session, actor: User, f: CaseFilter, *, cursor: str | None = None,
               limit: int = 50, now: datetime | None = None) -> tuple[list[Case], str | None]:
    """Cases the actor can see, newest first; NOW decides "overdue" (the overdue filter needs it)."""
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        conditions.append(col(Case.status) == f.status)
    if f.campaign_id is not None:
        conditions.append(col(Case.campaign_id) == f.campaign_id)
    if f.category:
        conditions.append(col(Case.category) == f.category)
    if f.source:
        conditions.append(col(Case.source) == f.source)
    if f.lead_department_id is not None:
        conditions.append(col(Case.lead_department_id) == f.lead_department_id)
    if f.typical is not None:
        conditions.append(col(Case.is_typical).is_(f.typical))
    if f.created_from is not None:
        conditions.append(col(Case.created_at) >= f.created_from)
    if f.created_before is not None:
        conditions.append(col(Case.created_at) < f.created_before)
    if f.overdue:
        if now is None:
            raise ValueError("the overdue filter needs now")
        columns = Assignment.__table__.c  # type: ignore[attr-defined]
        conditions.append(exists().where(columns.case_id == Case.id, overdue_sql(now, columns)))
    if f.q:
        conditions.append(search_condition(actor, f.q))
    if cursor:
        conditions.append(after_cursor(Case.created_at, Case.id, cursor, descending=True))
    newest = (col(Case.created_at).desc(), col(Case.id).desc())
    parts = [part.where(*conditions).order_by(*newest).limit(limit + 1) for part in visible_case_parts(actor)]
    if not parts:
        return [], None
    if len(parts) == 1:
        stmt = parts[0]
    else:  # each part's newest rows, then the newest of those
        both = union_all(*(select(part.subquery()) for part in parts)).subquery()
        row = aliased(Case, both)
        stmt = select(row).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(limit + 1)  # type: ignore[assignment]
    rows: list[Case] = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.created_at, last.id)  # type: ignore[arg-type]
    return rows[:limit], next_cursor
