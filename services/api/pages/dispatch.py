"""派发 on the case page: a lead department (主办), any assisting ones (协办), requirements, and the
due dates shown before anyone submits.

The form always shows the deadlines a dispatch made now would get (for the
working days typed, or the case's default); its 计算期限 button posts the form
and draws the page again with the deadlines for what was typed, without
JavaScript and without using up anything: nothing is dispatched, the form's
one-time token is released and a fresh one comes with the page.  派发 calls
shared.assignments.plan.dispatch_plan, as the API does: all departments or none.

Assisting departments are checkboxes named ``assist_<department id>``: a page
form arrives here as one value per name (common.read_form).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from services.api.pages import cases, conflicts
from services.api.pages.admin.base import field_errors
from services.api.pages.auth import STATIC_DIR
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    department_names,
    done,
    form_values,
    html,
    login_redirect,
    not_found,
    parse_id,
    redirect_with_flash,
)
from services.api.path_gate import PathGate
from shared.assignments import plan
from shared.assignments.schemas import DispatchPlanIn, DuePreviewIn
from shared.cases.models import CaseStatus
from shared.cases.schemas import CasePublic
from shared.errors import DomainError, NotFound
from shared.forms import service as forms
from shared.i18n import N_

router = PathGate()

FORM = "dispatch"
ASSIST = "assist_"
_LABELS = (N_("page.field.lead_department_id"), N_("page.field.assist_department_ids"), N_("page.field.assignee_id"))


def section(page: Page, case: CasePublic, manager: bool) -> dict[str, Any]:
    """What the case page's dispatch form shows: the deadlines for the case's default time limit."""
    assert page.user is not None
    preview = None
    if manager and case.status == CaseStatus.OPEN:
        preview = plan.preview_for(page.session, page.clock, case, None)  # the page checked who manages it
    return {"dispatch_preview": preview, "dispatch_errors": {}, "dispatch_previewed": False}


def _assists(form: dict[str, str]) -> list[int]:
    """The ticked assisting departments, in the form's order."""
    return [int(name.removeprefix(ASSIST)) for name, value in form.items()
            if name.startswith(ASSIST) and name.removeprefix(ASSIST).isdigit()
            and len(name) <= len(ASSIST) + 10 and value.strip()]


def _plan_in(form: dict[str, str]) -> DispatchPlanIn:
    values: dict[str, Any] = form_values(form, "lead_department_id", "working_days", "instructions")
    return DispatchPlanIn(**values, assist_department_ids=_assists(form))


def _refused(page: Page, cid: int, form: dict[str, str], exc: DomainError | ValidationError) -> Response:
    page.session.rollback()
    # assist_department_ids[1] → the checkboxes' fieldset
    errors = {name.split("[")[0]: reason for name, reason in field_errors(page, exc).items()}

    def context() -> dict[str, Any]:
        values = cases.detail_context(page, cid)
        values["dispatch_errors"] = errors
        return values

    departments = {str(k): v for k, v in department_names(page.session).items()}
    return conflicts.refuse(page, exc, form=form, form_name=FORM, template="cases/detail.html", context=context,
                            offered=lambda c: bool(c["manager"]) and c["case"].status == CaseStatus.OPEN,
                            choices={"lead_department_id": departments})


def _preview(page: Page, cid: int, form: dict[str, str]) -> Response:
    """Draw the case page again with the deadlines for the days typed; nothing is done."""
    assert page.user is not None
    if page.form_nonce is not None:  # nothing happens, so the form stays usable
        forms.release(page.session, page.form_nonce)
        page.form_nonce = None
    try:
        data = DuePreviewIn(**form_values(form, "working_days"))
        preview = plan.preview(page.session, page.clock, page.user, cid, data.working_days)
        values = cases.detail_context(page, cid)
    except NotFound:
        return not_found(page)
    except (DomainError, ValidationError) as exc:
        return _refused(page, cid, form, exc)
    values.update(open_form=FORM, values=conflicts.typed(form), dispatch_preview=preview, dispatch_previewed=True)
    return html(page, "cases/detail.html", **values)


@router.post("/cases/{case_id}/dispatch")
def dispatch(page: PageDep, case_id: str, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    cid = parse_id(case_id)
    if cid is None:
        return not_found(page)
    if form.get("preview"):
        return _preview(page, cid, form)
    try:
        made = plan.dispatch_plan(page.session, page.clock, page.user, cid, _plan_in(form))
        done(page, f"/cases/{cid}")
    except (DomainError, ValidationError) as exc:
        return _refused(page, cid, form, exc)
    return redirect_with_flash(page, f"/cases/{cid}", N_("page.done.dispatch_plan"), n=len(made) - 1)


@router.get("/static/dispatch.js")
def live_preview_script() -> FileResponse:
    return FileResponse(STATIC_DIR / "dispatch.js", media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=3600"})
