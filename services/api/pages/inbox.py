"""The inbox (待办) by role, and the coordinator's 催办 / 挂牌督办 forms.

A head sees what waits for him in his department, a coordinator what waits on
the cases he manages (shared/assignments/inbox.py decides both).  Liaisons,
leaders and admins have no inbox: their work list is the queue, where /inbox
sends them.  The same URL with ``format=xlsx`` downloads every list
(shared.assignments.export.export_inbox).  催办 and 挂牌督办 are posted from the assignment page and call the
same use case as the API (shared/supervision/service.py).
"""

from __future__ import annotations

from fastapi.responses import Response
from sqlmodel import Session

from services.api.pages.assignments import act
from services.api.pages.common import (
    FormDep,
    PageDep,
    department_names,
    html,
    login_redirect,
    redirect,
    xlsx_download,
)
from services.api.path_gate import PathGate
from shared.assignments.export import export_inbox
from shared.assignments.inbox import inbox
from shared.i18n import N_
from shared.supervision import service as supervision
from shared.supervision.models import UrgeKind
from shared.supervision.schemas import UrgeIn
from shared.users.models import User

router = PathGate()


@router.get("/inbox")
def inbox_page(page: PageDep, format: str | None = None) -> Response:
    if page.user is None:
        return login_redirect(page)
    if format == "xlsx":
        body = export_inbox(page.session, page.user, page.now(), language=page.lang,
                            timezone=page.settings.timezone)
        if body is None:
            page.session.rollback()
            return redirect("/queue")
        return xlsx_download(page, body, "inbox")
    lists = inbox(page.session, page.user, page.now())
    if lists is None:
        page.session.rollback()
        return redirect("/queue")
    shown = [a.id for lst in lists for a in lst.items]
    return html(page, "inbox/index.html", lists=lists, names=department_names(page.session),
                supervised=supervision.supervised_ids(page.session, shown),
                total=sum(lst.total for lst in lists))


def _post(page: PageDep, assignment_id: str, form: FormDep, kind: UrgeKind) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = UrgeIn(note=form.get("note", "").strip() or None)
        return supervision.urge(s, page.clock, u, aid, v, kind, data.note)

    done = N_("page.done.supervise") if kind == UrgeKind.SUPERVISE else N_("page.done.urge")
    return act(page, assignment_id, form, kind.value, done, run)


@router.post("/assignments/{assignment_id}/urge")
def urge(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    return _post(page, assignment_id, form, UrgeKind.URGE)


@router.post("/assignments/{assignment_id}/supervise")
def supervise(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    return _post(page, assignment_id, form, UrgeKind.SUPERVISE)

# Labels the templates build from a value ("page.form." ~ kind …): declared for extraction (make i18n).
_BUILT_KEYS = (
    N_("page.form.urge"), N_("page.form.supervise"), N_("page.form.urge_hint"), N_("page.form.supervise_hint"),
    N_("page.urge_kind.urge"), N_("page.urge_kind.supervise"),
)
