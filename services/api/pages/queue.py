"""The department queue (工作台): four buckets with counts, the most urgent items first.

Liaisons and heads see their own department.  Coordinators, leaders and admins
pick a department, and see the matters that wait for a coordinator: feedback
to review, assignments returned twice (审定) and other returns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import Session, col

from services.api.pages.common import (
    Page,
    PageDep,
    active_departments,
    department_names,
    html,
    login_redirect,
    parse_optional_id,
    xlsx_download,
)
from services.api.path_gate import PathGate
from shared.assignments import queries
from shared.assignments import queue as queue_read
from shared.assignments.export import export_assignments
from shared.assignments.models import AssignmentState, ExtensionRequest, ExtensionState
from shared.assignments.permissions import heads_department
from shared.assignments.queries import AssignmentFilter
from shared.assignments.schemas import AssignmentPublic
from shared.i18n import N_
from shared.scope import sees_everything
from shared.supervision import service as supervision
from shared.templating import render

router = PathGate()

BUCKETS = ("to_accept", "in_progress", "due_soon", "overdue")
LIMIT = 100


def _bucket_filter(bucket: str, department_id: int) -> AssignmentFilter:
    """The bucket's items; overdue and due soon are shared/assignments/status.py's conditions."""
    if bucket == "to_accept":
        return AssignmentFilter(state=[AssignmentState.DISPATCHED], department_id=department_id)
    if bucket == "in_progress":
        return AssignmentFilter(state=[AssignmentState.ACCEPTED], department_id=department_id)
    if bucket == "overdue":
        return AssignmentFilter(department_id=department_id, overdue=True)
    return AssignmentFilter(department_id=department_id, due_soon=True)


def pending_extensions(session: Session, assignment_ids: list[int]) -> set[int]:
    """Which of these assignments have an extension request waiting for a decision (one query)."""
    if not assignment_ids:
        return set()
    return set(session.scalars(
        select(col(ExtensionRequest.assignment_id)).where(
            col(ExtensionRequest.assignment_id).in_(assignment_ids),
            col(ExtensionRequest.state) == ExtensionState.PENDING,
        )
    ))


def _coordination_lists(page: Page, now: datetime) -> list[tuple[str, list[AssignmentPublic]]]:
    assert page.user is not None
    lists = []
    for key, f in (
        (N_("page.queue.review"), AssignmentFilter(state=[AssignmentState.SUBMITTED])),
        (N_("page.queue.decision"), AssignmentFilter(state=[AssignmentState.RETURNED], needs_decision=True)),
        (N_("page.queue.returned"), AssignmentFilter(state=[AssignmentState.RETURNED], needs_decision=False)),
    ):
        items, _cursor = queries.list_assignments(page.session, page.user, now, f, limit=LIMIT)
        lists.append((key, items))
    return lists


def _export(page: Page, department_id: int | None, bucket: str | None) -> Response:
    """The department's open work (or one bucket of it) as a workbook, scoped like the page."""
    assert page.user is not None
    now = page.now()
    dept = queue_read.queue_department(page.user, department_id)
    f = (_bucket_filter(bucket, dept) if bucket in BUCKETS
         else AssignmentFilter(state=[AssignmentState.DISPATCHED, AssignmentState.ACCEPTED], department_id=dept))
    body = export_assignments(page.session, page.user, now, f, language=page.lang, timezone=page.settings.timezone,
                              sheet_key=N_("page.nav.queue"))
    return xlsx_download(page, body, "queue")


@dataclass
class _Shown:
    """What the queue page builds from one read of a department's rows, kept as long as those rows are.

    The rows (shared.assignments.queue.QueueRead.stamp) go when anything they show changes, 督办
    included (shared.invalidation watches assignment_urge), so which of them are under 督办 and the
    rendered list, per (reader, language), are read and rendered once per rows: the 100 rows are most
    of the page's cost, and the queue is read far more often than it changes.
    """

    supervised: set[int]
    lists: dict[tuple[object, ...], str] = field(default_factory=dict)


_shown: WeakKeyDictionary[object, _Shown] = WeakKeyDictionary()
_shown_lock = threading.Lock()
LISTS_PER_ROWS = 64


def _kept_shown(page: Page, read: queue_read.QueueRead) -> _Shown:
    with _shown_lock:
        found = _shown.get(read.stamp)
    if found is None:
        found = _Shown(supervision.supervised_ids(page.session, read.ids))
        with _shown_lock:
            found = _shown.setdefault(read.stamp, found)
    return found


def _item_list(page: Page, read: queue_read.QueueRead, shown: _Shown, now: datetime) -> Markup:
    assert page.user is not None
    key = (page.user.id, page.user.role, page.lang)
    with _shown_lock:
        found = shown.lists.get(key)
    if found is None:
        found = render("pages/_queue_items.html", lang=page.lang, user=page.user, timezone=page.settings.timezone,
                       items=read.items(page.user, now), names={}, pending=read.extension_pending,
                       supervised=shown.supervised)
        with _shown_lock:
            while len(shown.lists) >= LISTS_PER_ROWS:
                shown.lists.pop(next(iter(shown.lists)))
            shown.lists[key] = found
    return Markup(found)


@router.get("/queue")
def queue_page(page: PageDep, department_id: str | None = None, bucket: str | None = None,
               format: str | None = None) -> Response:
    if page.user is None:
        return login_redirect(page)
    user, session, now = page.user, page.session, page.now()
    names = department_names(session)
    global_reader = sees_everything(user)
    requested = parse_optional_id(department_id) if global_reader else None
    if requested not in names:
        requested = None
    if format == "xlsx":
        return _export(page, requested, bucket)
    read = queue_read.read(session, user, now, requested, limit=LIMIT, settings=page.settings)
    dept = read.department_id
    coordination = _coordination_lists(page, now) if global_reader else []
    if bucket in BUCKETS:
        items, _cursor = queries.list_assignments(session, user, now, _bucket_filter(bucket, dept), limit=LIMIT)
        listed = [a.id for a in items]
    else:
        bucket, items, listed = None, [], read.ids
    kept = _kept_shown(page, read)
    kept_ids = set(read.ids)
    others = [i for i in listed + [a.id for _k, lst in coordination for a in lst] if i not in kept_ids]
    supervised = supervision.supervised_ids(session, others) | kept.supervised
    pending = pending_extensions(session, others) | read.extension_pending
    return html(
        page, "queue.html",
        department_id=dept, department=names.get(dept, ""), department_name=names.get(user.department_id, ""),
        departments=active_departments(session) if global_reader else [],
        names=names, counts=read.counts, items=items, bucket=bucket, buckets=BUCKETS,
        item_list=_item_list(page, read, kept, now) if read.rows and not bucket else None,
        global_reader=global_reader, coordination=coordination, pending=pending, supervised=supervised,
        signs_off=heads_department(user, dept),
        read_only=user.role.value == "leader", due_soon_days=page.settings.reminder_due_soon_working_days,
        export_url="/queue?" + urlencode({k: v for k, v in (("department_id", requested), ("bucket", bucket),
                                                              ("format", "xlsx")) if v}),
    )
