"""The assignment page (任务): details, deadlines, feedback, extensions, and the forms for
exactly the actions this user may take now.

Every form posts to a handler that parses it into the API's schema and calls the
same service function the JSON API calls; the service decides.  The form's
one-time token was checked by the pages router (common.guard_form).  Success
redirects (Post/Redirect/Get) with a flash; a refusal re-renders the page with
the reason and the user's input kept, and changes nothing.  When someone else
changed the assignment first, the page shows what they changed next to what was
typed (conflicts.refuse, with the snapshot built here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from services.api.pages import conflicts, intake
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    active_departments,
    department_names,
    detail_page,
    done,
    form_values,
    login_redirect,
    not_found,
    parse_id,
    posted,
    redirect_with_flash,
)
from services.api.path_gate import PathGate
from shared.assignments import plan, queries, service
from shared.assignments.models import ExtensionRequest, ExtensionState, ReturnReason
from shared.assignments.permissions import may_decide_extension
from shared.assignments.schemas import (
    AssigneeIn,
    AssignmentPublic,
    CancelIn,
    DecisionIn,
    ExtensionIn,
    FeedbackIn,
    RedispatchIn,
    ReturnIn,
    ReviewIn,
    SendBackIn,
    SendBackSignoffIn,
    SignOffIn,
)
from shared.attachments import service as attachments
from shared.attachments.models import OwnerKind
from shared.attachments.service import BatchRefused, list_for_case
from shared.attachments.storage import Storage
from shared.errors import DomainError, Invalid, NotFound
from shared.feedback.models import Feedback
from shared.i18n import N_, state_label
from shared.inspections.models import Inspection
from shared.scope import assignment_for_read, case_for_read
from shared.supervision import service as supervision
from shared.templating import format_local
from shared.users.models import User
from shared.users.names import user_names

router = PathGate()

OUTCOMES = ("enterprises_inspected", "problems_found", "rectification_orders", "cases_filed",
            "fines_yuan", "complaints_mediated", "losses_recovered_yuan")
MONEY = ("fines_yuan", "losses_recovered_yuan")


def detail_context(page: Page, assignment_id: int) -> dict[str, Any]:
    assert page.user is not None
    session, user, now = page.session, page.user, page.now()
    a = assignment_for_read(session, user, assignment_id)
    # The forms are exactly the actions permissions.available_actions offers this user
    # (the API's allowed_actions); the service refuses the rest.
    public = queries.get_public(session, a, now, user)
    case = case_for_read(session, user, a.case_id)
    feedback = service.feedback_history(session, a.id)  # type: ignore[arg-type]
    extensions = service.extensions(session, a.id)  # type: ignore[arg-type]
    forms = list(public.allowed_actions)
    pending = next((e for e in extensions if e.state == ExtensionState.PENDING), None)
    files: dict[int, list[Any]] = {}
    if feedback:
        ids = {f.id for f in feedback}
        for att in list_for_case(session, user, case.id, owner_kind=OwnerKind.FEEDBACK):  # type: ignore[arg-type]
            if att.owner_id in ids:
                files.setdefault(att.owner_id, []).append(att)
    urges = supervision.history(session, a.id)  # type: ignore[arg-type]
    people = user_names(session, {a.assignee_id, a.dispatched_by, case.coordinator_id} | {u.by for u in urges}
                        | {f.author_id for f in feedback} | {f.reviewed_by for f in feedback}
                        | {f.signoff_by for f in feedback}
                        | {e.requested_by for e in extensions} | {e.decided_by for e in extensions})
    names = department_names(session)
    return {
        "a": public,
        "case": case,
        "inspection": session.get(Inspection, a.inspection_id) if a.inspection_id else None,
        "feedback": feedback,
        "extensions": extensions,
        "forms": forms,
        "pending_extension": pending,
        "can_decide": pending is not None and may_decide_extension(user, a, queries.case_facts(session, a)),
        "files": files,
        "names": names,
        "departments": active_departments(session) if "redispatch" in forms else [],
        # 交办: the colleagues who may carry it, but not the one who carries it now.
        "colleagues": [u for u in plan.colleagues(session, a.department_id) if u.id != a.assignee_id]
        if "assign" in forms else [],
        "people": people,
        "return_reasons": [r.value for r in ReturnReason],
        "outcomes": OUTCOMES,
        "money": MONEY,
        "supervised": supervision.supervised_ids(session, [a.id]),  # type: ignore[list-item]
        "urges": urges,
        "open_form": None,
        "values": {},
        "snapshot": snapshot(page, public, feedback, extensions, names, people),
        **intake.upload_context(page),
    }


def snapshot(page: Page, a: AssignmentPublic, feedback: list[Feedback], extensions: list[ExtensionRequest],
             names: Mapping[int, str], people: dict[int, str]) -> conflicts.Snapshot:
    """What the assignment page shows that someone else may change while a form is being filled in."""
    t, lang, tz = page.gettext, page.lang, page.settings.timezone
    dash = t("page.dash")
    fb = feedback[-1] if feedback else None
    ext = extensions[-1] if extensions else None
    review = ""
    if fb is not None and fb.review_decision and fb.reviewed_at:
        review = t("page.assignment.review", decision=t(f"page.review.{fb.review_decision}"),
                   name=people.get(fb.reviewed_by or 0, ""), at=format_local(fb.reviewed_at, lang, tz))
        review += f"：{fb.review_comment}" if fb.review_comment else ""
    signoff = ""
    if fb is not None and fb.signoff_decision and fb.signoff_at:
        signoff = t("page.assignment.signoff", decision=t(f"page.signoff.{fb.signoff_decision}"),
                    name=people.get(fb.signoff_by or 0, ""), at=format_local(fb.signoff_at, lang, tz))
        signoff += f"：{fb.signoff_note}" if fb.signoff_note else ""
    returned = ""
    if a.return_count:
        reason = t(f"notice.return_reason.{a.return_reason}") if a.return_reason else dash
        returned = t("page.assignment.returns_value", n=a.return_count, reason=reason)
        returned += f"：{a.return_note}" if a.return_note else ""
    shown = conflicts.Shown
    fields = [
        shown("state", t("page.col.state"), state_label(str(a.state), lang), raw=str(a.state)),
        shown("department", t("page.col.department"), names.get(a.department_id, ""), raw=str(a.department_id)),
        shown("assignee", t("page.assignment.assignee"),
              people.get(a.assignee_id, dash) if a.assignee_id else dash, raw=str(a.assignee_id)),
        shown("acceptance_due", t("page.col.accept_due"), format_local(a.acceptance_due_at, lang, tz),
              raw=a.acceptance_due_at.isoformat()),
        shown("feedback_due", t("page.col.feedback_due"), format_local(a.feedback_due_at, lang, tz),
              raw=a.feedback_due_at.isoformat()),
        shown("instructions", t("page.assignment.instructions"), a.instructions or dash, raw=a.instructions),
        shown("feedback", t(N_("page.conflict.field.feedback")),
              t("page.assignment.feedback_by", name=people.get(fb.author_id, ""),
                at=format_local(fb.submitted_at, lang, tz)) + f"：{fb.narrative}" if fb else dash,
              raw=f"{fb.id}" if fb else ""),
        shown("signoff", t(N_("page.conflict.field.signoff")), signoff or dash,
              raw=f"{fb.id}:{fb.signoff_decision}:{fb.signoff_note}" if fb else ""),
        shown("review", t(N_("page.conflict.field.review")), review or dash,
              raw=f"{fb.id}:{fb.review_decision}:{fb.review_comment}" if fb else ""),
        shown("extension", t(N_("page.conflict.field.extension")),
              t("page.assignment.extension_line", name=people.get(ext.requested_by, ""),
                at=format_local(ext.requested_at, lang, tz), n=ext.extra_working_days)
              + f"（{t('page.extension.' + str(ext.state))}）：{ext.reason}" if ext else dash,
              raw=f"{ext.id}:{ext.state}" if ext else ""),
        shown("returns", t("page.assignment.returns"), returned or dash,
              raw=f"{a.return_count}:{a.return_reason}:{a.return_note}"),
        shown("cancel_reason", t("page.assignment.cancel_reason"), a.cancel_reason or dash,
              raw=a.cancel_reason or ""),
    ]
    return conflicts.snapshot(page.session, fields, conflicts.EventScope(object_type="assignment", object_id=a.id))


@router.get("/assignments/{assignment_id}")
def assignment_page(page: PageDep, assignment_id: str) -> Response:
    return detail_page(page, assignment_id, detail_context, "assignments/detail.html")


Run = Callable[[Session, User, int, int], object]


def act(page: Page, raw_id: str, form: dict[str, str], form_name: str, done_key: str, run: Run) -> Response:
    """Call the service with the posted version, commit, redirect (the router checked the form's token)."""
    if page.user is None:
        return login_redirect(page)
    aid = parse_id(raw_id)
    if aid is None:
        return not_found(page)
    try:
        version_text = form.get("version", "").strip()
        if not version_text.isdigit() or len(version_text) > 9:
            raise Invalid("version", "field_required")
        run(page.session, page.user, aid, int(version_text))
        done(page, f"/assignments/{aid}")
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        return _refused(page, aid, form, form_name, exc)
    return redirect_with_flash(page, f"/assignments/{aid}", done_key)


def _refused(page: Page, aid: int, form: dict[str, str], form_name: str,
             exc: DomainError | ValidationError) -> Response:
    def offered(context: dict[str, Any]) -> bool:
        return form_name in context["forms"] or (form_name == "decide_extension" and context["can_decide"])

    choices: dict[str, dict[str, str]] = {}
    if form_name == "return":
        choices["reason"] = {r.value: page.gettext(f"notice.return_reason.{r.value}") for r in ReturnReason}
    if form_name == "redispatch":
        choices["department_id"] = {str(k): v for k, v in department_names(page.session).items()}
    if form_name == "assign":
        named = user_names(page.session, {parse_id(form.get("assignee_id", ""))})
        choices["assignee_id"] = {str(k): v for k, v in named.items()}

    def context() -> dict[str, Any]:
        values = detail_context(page, aid)
        if isinstance(exc, BatchRefused):  # each file's verdict beside the file field
            values["upload_verdicts"] = intake.verdict_lines(page, exc.verdicts)
        return values

    return conflicts.refuse(page, exc, form=form, form_name=form_name, template="assignments/detail.html",
                            context=context, offered=offered, choices=choices,
                            defaults={o: "0" for o in OUTCOMES} if form_name == "submit" else None)


@router.post("/assignments/{assignment_id}/accept")
def accept(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    return act(page, assignment_id, form, "accept", N_("page.done.accept"),
               lambda s, u, aid, v: service.accept(s, page.clock, u, aid, v))


@router.post("/assignments/{assignment_id}/return")
def return_assignment(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = ReturnIn(**form_values(form, "reason", "note"))  # type: ignore[arg-type]
        return service.return_assignment(s, page.clock, u, aid, v, data)

    return act(page, assignment_id, form, "return", N_("page.done.return"), run)


@router.post("/assignments/{assignment_id}/extension")
def request_extension(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = ExtensionIn(**form_values(form, "extra_working_days", "reason"))  # type: ignore[arg-type]
        return service.request_extension(s, page.clock, u, aid, v, data)

    return act(page, assignment_id, form, "request_extension", N_("page.done.extension"), run)


@router.post("/assignments/{assignment_id}/feedback")
def submit_feedback(page: PageDep, request: Request, assignment_id: str, form: FormDep) -> Response:
    files = posted(request).files.get(intake.FILES, [])

    def run(s: Session, u: User, aid: int, v: int) -> object:
        values = form_values(form, "narrative", *OUTCOMES)
        for name in MONEY:  # people type "5,000" or "5000 元"
            if name in values:
                values[name] = values[name].replace(",", "").replace("，", "").removesuffix("元").strip()
        data = FeedbackIn(**values)  # type: ignore[arg-type]
        verdicts = attachments.check_files(files)  # all or nothing: a refused file submits nothing
        feedback = service.submit_feedback(s, page.clock, u, aid, v, data)
        if files:
            attachments.record_files(s, page.clock, u, Storage(page.settings.upload_dir), OwnerKind.FEEDBACK,
                                     feedback.id, files, verdicts)  # type: ignore[arg-type]
        return feedback

    return act(page, assignment_id, form, "submit", N_("page.done.feedback"), run)


@router.post("/assignments/{assignment_id}/approve")
def approve(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = ReviewIn(**form_values(form, "comment"))
        return service.approve(s, page.clock, u, aid, v, data.comment)

    return act(page, assignment_id, form, "approve", N_("page.done.approve"), run)


@router.post("/assignments/{assignment_id}/send-back")
def send_back(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = SendBackIn(**form_values(form, "reason"))  # type: ignore[arg-type]
        return service.send_back(s, page.clock, u, aid, v, data.reason)

    return act(page, assignment_id, form, "send_back", N_("page.done.send_back"), run)


@router.post("/assignments/{assignment_id}/sign-off")
def sign_off(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = SignOffIn(**form_values(form, "note"))
        return service.sign_off(s, page.clock, u, aid, v, data.note)

    return act(page, assignment_id, form, "sign_off", N_("page.done.sign_off"), run)


@router.post("/assignments/{assignment_id}/send-back-signoff")
def send_back_signoff(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = SendBackSignoffIn(**form_values(form, "note"))  # type: ignore[arg-type]
        return service.send_back_signoff(s, page.clock, u, aid, v, data.note)

    return act(page, assignment_id, form, "send_back_signoff", N_("page.done.send_back_signoff"), run)


@router.post("/assignments/{assignment_id}/cancel")
def cancel(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = CancelIn(**form_values(form, "reason"))  # type: ignore[arg-type]
        return service.cancel(s, page.clock, u, aid, v, data.reason)

    return act(page, assignment_id, form, "cancel", N_("page.done.cancel"), run)


@router.post("/assignments/{assignment_id}/redispatch")
def redispatch(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = RedispatchIn(**form_values(form, "department_id", "working_days", "instructions",  # type: ignore[arg-type]
                                          "decision_note"))
        return service.redispatch(s, page.clock, u, aid, v, data)

    return act(page, assignment_id, form, "redispatch", N_("page.done.redispatch"), run)


@router.post("/assignments/{assignment_id}/extensions/{extension_id}/decide")
def decide_extension(page: PageDep, assignment_id: str, extension_id: str, form: FormDep) -> Response:
    approve_it = form.get("decision") == "approve"

    def run(s: Session, u: User, aid: int, v: int) -> object:
        ext_id = parse_id(extension_id)
        if ext_id is None:
            raise NotFound()
        if form.get("decision") not in ("approve", "deny"):
            raise Invalid("decision", "field_required")
        data = DecisionIn(**form_values(form, "comment"))
        return service.decide_extension(s, page.clock, u, aid, ext_id, v, approve=approve_it, comment=data.comment)

    done = N_("page.done.extension_approved") if approve_it else N_("page.done.extension_denied")
    return act(page, assignment_id, form, "decide_extension", done, run)


@router.post("/assignments/{assignment_id}/assignee")
def hand_over(page: PageDep, assignment_id: str, form: FormDep) -> Response:
    """交办 to a colleague of the department (承办人)."""
    def run(s: Session, u: User, aid: int, v: int) -> object:
        data = AssigneeIn(**form_values(form, "assignee_id"))  # type: ignore[arg-type]
        return plan.hand_over(s, page.clock, u, aid, v, data.assignee_id)

    return act(page, assignment_id, form, "assign", N_("page.done.assign"), run)
