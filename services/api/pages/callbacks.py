"""回访 on the case page: the case's callbacks, the form to record one, and 重办 after a bad one.

The handlers call shared.callbacks.service as the API does: who may record
(may_record), what answers fit together and when a callback may be recorded
at all are decided there.  The form is offered only to those who may record,
on a complaint case with approved work; a refusal draws the case page again
with the reason beside the field it concerns and everything typed kept.  重办
carries the callback's version: when someone else moved first, conflicts.refuse
shows what changed next to the reason typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError

from services.api.pages import cases, conflicts
from services.api.pages.admin.base import field_errors
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    done,
    form_values,
    login_redirect,
    not_found,
    parse_id,
    redirect_with_flash,
)
from services.api.path_gate import PathGate
from shared.assignments.models import AssignmentState
from shared.callbacks import service
from shared.callbacks.models import Satisfaction
from shared.callbacks.schemas import CallbackIn, ReworkIn
from shared.cases.schemas import CasePublic
from shared.errors import DomainError, Invalid, NotFound
from shared.i18n import N_
from shared.scope import can_manage_case
from shared.users.names import user_names

router = PathGate()

RECORD_FORM = "callback"
# What the record form posts, as the user typed it; the version is the rework form's own.
RECORD_FIELDS = ("assignment_id", "reached", "attempts", "satisfaction", "resolved", "note")
REWORK_FIELDS = ("reason", "working_days")

_LABELS = (
    N_("page.field.assignment_id"), N_("page.field.reached"), N_("page.field.attempts"),
    N_("page.field.satisfaction"), N_("page.field.resolved"),
    N_("page.callback.satisfaction.satisfied"), N_("page.callback.satisfaction.basically_satisfied"),
    N_("page.callback.satisfaction.unsatisfied"),
)


def rework_form(callback_id: int) -> str:
    return f"rework-{callback_id}"


def section(page: Page, case: CasePublic, assignments: list[Any]) -> dict[str, Any]:
    """What the case page's 回访 part shows: the callbacks, and which forms this user gets."""
    assert page.user is not None
    rows = service.list_callbacks(page.session, page.user, case.id)
    approved = [a for a in assignments if a.state == AssignmentState.DONE]
    complaint = case.source in service.COMPLAINT_SOURCES
    return {
        "callbacks": rows,
        "callback_people": user_names(page.session, {cb.made_by for cb in rows}),
        "callback_complaint": complaint,
        # The domain refuses a callback before any feedback is approved: no form to fill in for nothing.
        "callback_may_record": complaint and bool(approved) and service.may_record(page.user, case),
        "callback_assignments": approved,
        "callback_reworkable": {cb.id for cb in rows if service.reworkable(cb)}
        if can_manage_case(page.user, case) else set(),
        "satisfactions": [s.value for s in Satisfaction],
        "callback_errors": {},
    }


def _flag(form: dict[str, str], name: str) -> bool | None:
    """A yes/no choice: "1" or "0"; anything else is no answer (the schema says whether one is needed)."""
    return {"1": True, "0": False}.get(form.get(name, "").strip())


def _callback_in(form: dict[str, str]) -> CallbackIn:
    given: dict[str, Any] = form_values(form, "assignment_id", "attempts", "satisfaction", "note")
    for name in ("reached", "resolved"):
        flag = _flag(form, name)
        if flag is not None:
            given[name] = flag
    return CallbackIn(**given)


Run = Callable[[Page, dict[str, str]], int]  # does the work, answers the case's id


def _act(page: Page, case_id: int, form: dict[str, str], form_name: str, done_key: str, run: Run) -> Response:
    try:
        run(page, form)
        done(page, f"/cases/{case_id}")
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        errors = field_errors(page, exc)

        def context() -> dict[str, Any]:
            values = cases.detail_context(page, case_id)
            values["callback_errors"] = errors
            return values

        def offered(values: dict[str, Any]) -> bool:
            if form_name == RECORD_FORM:
                return bool(values["callback_may_record"])
            return any(rework_form(i) == form_name for i in values["callback_reworkable"])

        return conflicts.refuse(page, exc, form=form, form_name=form_name, template="cases/detail.html",
                                context=context, offered=offered,
                                kept=RECORD_FIELDS if form_name == RECORD_FORM else REWORK_FIELDS,
                                defaults={"attempts": "1"})
    return redirect_with_flash(page, f"/cases/{case_id}", done_key)


@router.post("/cases/{case_id}/callbacks")
def record(page: PageDep, case_id: str, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    cid = parse_id(case_id)
    if cid is None:
        return not_found(page)

    def run(p: Page, f: dict[str, str]) -> int:
        assert p.user is not None
        service.record_callback(p.session, p.clock, p.user, cid, _callback_in(f))
        return cid

    return _act(page, cid, form, RECORD_FORM, N_("page.done.callback"), run)


@router.post("/callbacks/{callback_id}/rework")
def rework(page: PageDep, callback_id: str, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    cb_id = parse_id(callback_id)
    if cb_id is None:
        return not_found(page)
    try:
        case_id = service.get_callback(page.session, page.user, cb_id).case_id  # 404 out of reach
    except NotFound:
        return not_found(page)

    def run(p: Page, f: dict[str, str]) -> int:
        assert p.user is not None
        text = f.get("version", "").strip()
        if not text.isdigit() or len(text) > 9:
            raise Invalid("version", "field_required")
        data = ReworkIn(**form_values(f, "reason", "working_days"))
        service.rework(p.session, p.clock, p.user, cb_id, int(text), data)
        return case_id

    return _act(page, case_id, form, rework_form(cb_id), N_("page.done.rework"), run)
