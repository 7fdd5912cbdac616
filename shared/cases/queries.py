"""Reads of cases: the scoped list with filters, search and keyset pagination (API, pages, exports).

One search box finds a case by what a caller has in hand, told apart by its shape:

- a reference (GZ-2026-000022) or a credit code (18 characters): an exact match,
  served by the unique index on ``reference`` and the index on the credit code;
- a phone number: an exact match on the complainant's phone, and only among the
  cases whose complainant the actor may see unmasked (``scope.personal_data_sql``,
  the SQL form of ``scope.sees_personal_data``).  Anyone else gets no rows for any
  phone, so neither the rows nor their absence tell whether a number is on file;
- anything else: a fragment of the title or of the enterprise name, served on
  PostgreSQL by the trigram indexes of shared/cases/search_table.py (3 characters and
  more; shorter fragments scan newest first, bounded by the statement timeout).

The list is newest first with keyset pagination: no page counts the rows.
Unless a search says otherwise it walks each part of the reader's scope newest first
(``scope.visible_case_parts``) and merges them; a reference, a credit code or a
phone, whose hits are one case, one enterprise's or one person's, is looked up
by its index and the scope tested on each hit (``scope.case_visible``, the same
rule in one condition).

A fragment is found one of two ways, and on PostgreSQL the choice is made here,
not by the planner:

- the walk: cases newest first (by created_at, or by lead department and date),
  each part of the reader's scope on its own (``scope.visible_case_parts``),
  every row tested against the fragment until a page is full.  It costs the rows
  walked: a page divided by the density of the fragment in the part (有限公司 is
  in three cases of four: ~70 rows; a title's words in one of sixteen: ~1,000,
  ~4,000 through a part holding a fifth of all cases);
- the candidates: every case holding the fragment, from the trigram indexes of
  ``case_search`` (shared/cases/search_table.py: a narrow row per case, kept in
  enterprise-name order), sorted newest first, then tested against the reader's
  scope one by one until a page is full (``scope.case_row_visible``).  It costs
  the cases holding the fragment, wherever they are in time (four characters of an
  enterprise's name: ~2,000 of the benchmark's 1M cases on ~45 pages, 0.6–1 ms;
  3–5 ms when they were read from ``case``, a page each).

The planner cannot tell these apart well enough: its estimate of a fragment is
off two or three times, and it prices the walk as if a LIKE per row were nearly
free; for the department with 200,000 shared cases it walked 165,000 cases
(45–135 ms) to find a page among 2,000 hits.  What decides instead is a sample
costing at most ~0.5 ms: the newest RECENT_SAMPLE cases from where the page starts
(cursor, date range), and how many of them hold the fragment.  That is the
density the walk's cost depends on.  From COMMON_HITS of RECENT_SAMPLE (1 %) on
the walk is taken: a page then costs at most ~5,000 rows walked for everyone's
or a department's own cases (~25,000 through a fifth of all cases), while the
fragment is in ~10,000 cases or more.  Below it the candidates are taken (a
range holding fewer cases than the sample has few hits, and the candidates keep
to the range too).  Being newest first, the sample misjudges a fragment common
long ago and rare now: both ways then read its old hits, the candidates once
each.  Fragments with no three letters in a row give the trigram index
nothing to look up, and SQLite has no trigram index: those always walk.

Nothing here needs the planner's estimate of a fragment, so the two columns keep
PostgreSQL's default statistics: at 1,000 sampled values each, trying the pattern on
every one of them made planning a search cost 0.7–2 ms instead of 0.3–0.7.

Both ways give the same rows in the same order (the candidates are sorted by
created_at and id before the scope is tested), so a cursor from one continues
in the other.  That is also why the sample's verdict may be remembered: per
database, fragment and page bounds, for VERDICT_SECONDS (a stale verdict costs
speed, never rows).
"""

from __future__ import annotations

import re
import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    union_all,
)
from sqlmodel import Session, col

from shared import invalidation
from shared.assignments.models import Assignment
from shared.assignments.queries import contains_pattern
from shared.assignments.status import overdue_sql
from shared.cases.models import Case, CaseSource, CaseStatus
from shared.cases.schemas import CaseSummary
from shared.cases.search_table import CaseSearch
from shared.db import read_columns
from shared.pagination import after_cursor, decode_cursor, encode_cursor
from shared.scope import (
    DEPARTMENT_ROLES,
    Reach,
    personal_data_by_reach,
    reach,
    row_visible_by_reach,
    sees_everything,
    visible_parts_by_reach,
)
from shared.users.models import User

REFERENCE_SHAPE = re.compile(r"GZ-\d{4}-\d{6}", re.IGNORECASE)
CREDIT_CODE_SHAPE = re.compile(r"[0-9A-Z]{18}", re.IGNORECASE)
PHONE_SHAPE = re.compile(r"\+?[0-9][0-9\- ]*[0-9]")
PHONE_MIN_DIGITS = 7
TRIGRAM = re.compile(r"[^\W_]{3}")  # what pg_trgm can look up: three letters or digits in a row
RECENT_SAMPLE = 1000  # the newest cases a fragment is counted in (see the module's docstring)
COMMON_HITS = 10  # from this many hits among them, a fragment is found by the walk
FEW_HITS = frozenset({"reference", "credit_code", "phone"})  # every hit is found through the value's index
# A list reads the columns of its summary only: no description, no complainant, and rows rather than
# Case objects in the session (tracking 50 of them cost more CPU than the statement's whole wait).
SUMMARY_FIELDS = tuple(CaseSummary.model_fields)
SUMMARY_COLUMNS = tuple(getattr(Case, name) for name in SUMMARY_FIELDS)


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


def search_kind(q: str) -> str:
    """reference, credit_code, phone or fragment: what the search box Q holds, by its shape."""
    text = q.strip()
    if REFERENCE_SHAPE.fullmatch(text):
        return "reference"
    if CREDIT_CODE_SHAPE.fullmatch(text) and not text.isdigit():
        return "credit_code"
    if PHONE_SHAPE.fullmatch(text) and len(re.sub(r"\D", "", text)) >= PHONE_MIN_DIGITS:
        return "phone"
    return "fragment"


def search_condition(r: Reach, kind: str, folds: bool) -> ColumnElement[bool]:
    """What the search box matches, by its KIND (search_kind), its values bound by search_values."""
    if kind in ("reference", "credit_code"):
        column = Case.reference if kind == "reference" else Case.enterprise_credit_code
        return col(column) == bindparam("q_exact", type_=String)
    if kind == "phone":
        return and_(personal_data_by_reach(r), col(Case.complainant_phone).in_(bindparam("q_phones", expanding=True)))
    return fragment_condition(bindparam("q_pattern", type_=String), folds, col(Case.title), col(Case.enterprise_name))


def search_values(q: str) -> dict[str, Any]:
    """The values search_condition's statement is run with, for the search box Q."""
    text = q.strip()
    kind = search_kind(text)
    if kind in ("reference", "credit_code"):
        return {"q_exact": text.upper()}
    if kind == "phone":
        return {"q_phones": sorted({text, re.sub(r"\D", "", text)})}
    return {"q_pattern": contains_pattern(text)}


def folds(text: str) -> bool:
    """Whether TEXT has letters whose case a match must ignore (Chinese and digits have none)."""
    return text.lower() != text.upper()


def fragment_condition(pattern: Any, folding: bool, title: Any, enterprise_name: Any) -> ColumnElement[bool]:
    """PATTERN ('%fragment%') anywhere in the title or the enterprise name (columns of Case or of a subquery)."""
    if not folding:
        # Nothing to fold (Chinese, digits): LIKE gives the same rows and is about 3× cheaper per row
        # where the plan filters rows rather than asking the trigram index.
        return or_(title.like(pattern, escape="\\"), enterprise_name.like(pattern, escape="\\"))
    return or_(title.ilike(pattern, escape="\\"), enterprise_name.ilike(pattern, escape="\\"))


def _fragment_is_rare(session: Session, text: str, bounds: list[ColumnElement[bool]]) -> bool:
    """Whether TEXT is found through its candidates rather than by the walk (module docstring).

    BOUNDS are where the page's walk would start and stop (cursor, date range)."""
    if session.get_bind().dialect.name != "postgresql" or not TRIGRAM.search(text):
        return False
    # The test is a column of the sample, not a WHERE of it: PostgreSQL then spends no time estimating
    # how many rows a LIKE keeps (it tries the pattern on every sampled value).  Counting stops at
    # COMMON_HITS, so a common fragment is told after a few dozen rows.
    held = fragment_condition(contains_pattern(text), folds(text), col(Case.title), col(Case.enterprise_name))
    recent = (select(held.label("held"))
              .where(*bounds).order_by(col(Case.created_at).desc()).limit(RECENT_SAMPLE).subquery())
    hits = select(recent.c.held).where(recent.c.held).limit(COMMON_HITS).subquery()
    return session.execute(select(func.count()).select_from(hits)).scalar_one() < COMMON_HITS


# The sample's verdict per database and (fragment, where the page starts and stops), for a while: it
# only chooses between two plans that give the same rows, so an old verdict costs at most speed, and
# the density it measures among the newest cases moves with days of intake, not seconds.
_VERDICTS: WeakKeyDictionary[Engine, dict[tuple[object, ...], tuple[float, bool]]] = WeakKeyDictionary()
VERDICT_SECONDS = 600.0
VERDICTS_KEPT = 2048


def _takes_candidates(session: Session, text: str, bounds: list[ColumnElement[bool]],
                      key: tuple[object, ...]) -> bool:
    """_fragment_is_rare, remembered for VERDICT_SECONDS per KEY (the fragment and the page's bounds)."""
    engine = session.get_bind().engine
    verdicts = _VERDICTS.get(engine)
    if verdicts is None:
        verdicts = _VERDICTS.setdefault(engine, {})
    now = time_module.monotonic()
    known = verdicts.get(key)
    if known is not None and now - known[0] < VERDICT_SECONDS:
        return known[1]
    rare = _fragment_is_rare(session, text, bounds)
    if len(verdicts) >= VERDICTS_KEPT:
        verdicts.clear()
    verdicts[key] = (now, rare)
    return rare


def _time_bounds(created_from: Any, created_before: Any, cursor: str | None, created_at: Any, case_id: Any
                 ) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """(where a walk newest first starts and stops, the page's conditions on time) on these columns.

    CREATED_FROM and CREATED_BEFORE are values or bound parameters (None: no bound).  The first
    repeats the cursor's first half in a form an index scan starts from, so a walk begins at the
    cursor rather than passing every newer case (and the sample of _fragment_is_rare looks there)."""
    bounds: list[ColumnElement[bool]] = []
    if created_from is not None:
        bounds.append(created_at >= created_from)
    if created_before is not None:
        bounds.append(created_at < created_before)
    if not cursor:
        return bounds, bounds
    bounds.append(created_at <= decode_cursor(cursor)[0])
    return bounds, [*bounds, after_cursor(created_at, case_id, cursor, descending=True)]


FIRST_PAGES_KEPT = 256  # per process: (department or everyone's, page size)


def list_cases(session: Session, actor: User, f: CaseFilter, *, cursor: str | None = None,
               limit: int = 50, now: datetime | None = None) -> tuple[list[CaseSummary], str | None]:
    """Cases the actor can see, newest first; NOW decides "overdue" (the overdue filter needs it).

    The first page of the whole list, which every visit to the case list opens, is kept per
    department (and one for everyone who sees every case) on PostgreSQL, like the queue: the
    database's notification on any write to a case or a share those readers see drops it
    (shared.invalidation, kind CASE_LISTS)."""
    subject = _first_page_subject(actor) if cursor is None and f == CaseFilter() else None
    if subject is None:
        return _list_cases(session, actor, f, cursor=cursor, limit=limit, now=now)
    store = invalidation.kept(session.get_bind().engine, "case_lists", invalidation.CASE_LISTS, FIRST_PAGES_KEPT)
    rows, next_cursor = invalidation.kept_or_read(
        store, session, (subject, limit), subject, lambda: _list_cases(session, actor, f, cursor=None, limit=limit,
                                                                       now=now))
    return list(rows), next_cursor


def _first_page_subject(actor: User) -> int | None:
    """Whose first page the actor's is: 0 for everyone's, a department's id, None when not kept."""
    if sees_everything(actor):
        return 0
    return actor.department_id if actor.role in DEPARTMENT_ROLES and actor.department_id else None


@dataclass(frozen=True)
class _Shape:
    """What a case list's statement is made of, without the values it runs with (see _statement)."""

    reach: Reach
    given: frozenset[str]  # the names of the values it is run with
    typical: bool | None
    search: str | None  # search_kind, or None
    folds: bool  # a fragment with letters to fold (folds); False for every other kind
    candidates: bool


def _list_cases(session: Session, actor: User, f: CaseFilter, *, cursor: str | None,
                limit: int, now: datetime | None) -> tuple[list[CaseSummary], str | None]:
    if f.overdue and now is None:
        raise ValueError("the overdue filter needs now")
    text = (f.q or "").strip()
    kind = search_kind(text) if f.q else None
    candidates = kind == "fragment" and _takes_candidates(
        session, text, _time_bounds(f.created_from, f.created_before, cursor, col(Case.created_at), col(Case.id))[0],
        (text, f.created_from, f.created_before, cursor))
    values = {"status": f.status or None, "campaign_id": f.campaign_id, "category": f.category or None,
              "source": f.source or None, "lead_department_id": f.lead_department_id,
              "now": now if f.overdue else None, "created_from": f.created_from, "created_before": f.created_before,
              **(search_values(text) if f.q else {})}
    values = {k: v for k, v in values.items() if v is not None}
    shape = _Shape(reach(actor), frozenset(values), f.typical, kind, kind == "fragment" and folds(text), candidates)
    # A first page's statement is built once per shape and kept; a cursor's bounds are written into it.
    stmt = _kept_statement(shape) if cursor is None else _statement(shape, cursor)
    if stmt is None:
        return [], None
    rows = read_columns(session, stmt, {**values, "limit": limit + 1}).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.created_at, last.id)
    # From a plain dict: pydantic reads a row's mapping through the generic Mapping protocol, three times
    # slower (0.63 against 0.20 ms for a page of 50).
    items = [CaseSummary.model_validate(dict(zip(SUMMARY_FIELDS, row, strict=True))) for row in rows[:limit]]
    return items, next_cursor


# The filters that compare a column with their value, by the value's name in _list_cases.
_EQUALS = {"status": Case.status, "campaign_id": Case.campaign_id, "category": Case.category,
           "source": Case.source, "lead_department_id": Case.lead_department_id}


def _statement(shape: _Shape, cursor: str | None) -> Select[Any] | None:
    """The list's statement for SHAPE, its values bound by name (_list_cases); None: the reader sees nothing."""
    filters = [col(c) == bindparam(name) for name, c in _EQUALS.items() if name in shape.given]
    if shape.typical is not None:
        filters.append(col(Case.is_typical).is_(shape.typical))
    if "now" in shape.given:
        columns = Assignment.__table__.c  # type: ignore[attr-defined]
        filters.append(exists().where(columns.case_id == Case.id, overdue_sql(bindparam("now"), columns)))
    conditions = [*filters, search_condition(shape.reach, shape.search, shape.folds)] if shape.search else filters
    scope = visible_parts_by_reach(shape.reach)
    if not scope:
        return None
    created_from: Any = bindparam("created_from") if "created_from" in shape.given else None
    created_before: Any = bindparam("created_before") if "created_before" in shape.given else None
    limit = bindparam("limit", type_=Integer)
    newest = (col(Case.created_at).desc(), col(Case.id).desc())
    timed = _time_bounds(created_from, created_before, cursor, col(Case.created_at), col(Case.id))[1]
    if shape.search in FEW_HITS:
        # A reference names one case, a credit code one enterprise's cases, a phone one person's: the
        # value's own index finds them and the scope is tested on each (the parts' union's rule, in its
        # one-condition form).  Even a chain with thousands of cases costs what the walk would: both
        # read all its cases for a reader who sees few of them; building the union cost more CPU than
        # this whole statement.
        return (select(*SUMMARY_COLUMNS).where(*conditions, *timed, row_visible_by_reach(shape.reach, Case))
                .order_by(*newest).limit(limit))
    if shape.candidates:
        # Every hit, from case_search (shared/cases/search_table.py: one enterprise's cases on a few
        # pages), sorted newest first, then the scope tested hit by hit until a page is full; only the
        # page's cases are read whole.  The other filters need the case's own row.  OFFSET 0 keeps the
        # hits a subquery of their own: the scope is not pushed into it, and the outer ORDER BY makes
        # PostgreSQL plan it for all its rows (so from the trigram index, never a walk whose LIMIT
        # would look cheap).
        row = CaseSearch.__table__.c  # type: ignore[attr-defined]
        hits_of = (select(row.case_id.label("id"), row.created_at, row.lead_department_id)
                   .where(fragment_condition(bindparam("q_pattern", type_=String), shape.folds, row.title,
                                             row.enterprise_name),
                          *_time_bounds(created_from, created_before, cursor, row.created_at, row.case_id)[1]))
        if filters:
            hits_of = hits_of.join(Case, col(Case.id) == row.case_id).where(*filters)
        hits = hits_of.order_by(row.created_at.desc(), row.case_id.desc()).offset(0).subquery()
        page = (select(hits.c.id).where(row_visible_by_reach(shape.reach, hits.c))
                .order_by(hits.c.created_at.desc(), hits.c.id.desc()).limit(limit).subquery())
        return select(*SUMMARY_COLUMNS).join(page, col(Case.id) == page.c.id).order_by(*newest)
    if len(scope) == 1:
        return (scope[0].select.with_only_columns(*SUMMARY_COLUMNS).where(*conditions, *timed)
                .order_by(*newest).limit(limit))
    # Each part's newest (id, created_at) by its own columns, the newest of those, then only the
    # page's cases read whole.  A union of whole Case rows made SQLAlchemy copy every column (and
    # its foreign keys) into the union's columns on each request: half the CPU of a list.
    keys = union_all(*(select(
        part.select.with_only_columns(part.case_id.label("id"), part.created_at.label("created_at"))
        .where(*conditions, *_time_bounds(created_from, created_before, cursor, part.created_at, part.case_id)[1])
        .order_by(part.created_at.desc(), part.case_id.desc()).limit(limit).subquery())
        for part in scope)).subquery()
    page = select(keys.c.id).order_by(keys.c.created_at.desc(), keys.c.id.desc()).limit(limit).subquery()
    return select(*SUMMARY_COLUMNS).join(page, col(Case.id) == page.c.id).order_by(*newest)


# Per shape, a few per department: building and keying a search's statement cost more CPU than the rest
# of the list (SQLAlchemy keys a statement built afresh on every execution).
_kept_statement = lru_cache(maxsize=1024)(partial(_statement, cursor=None))
