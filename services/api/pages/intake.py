"""Case intake and editing in the browser (开案, 修改, 共享, 典型案例) and files uploaded from the pages.

Thin callers of the use cases the API calls: ``shared.cases.service``
(create_case, update_case, share_case) and ``shared.attachments.service``
(check_files / record_files / attach_many).  Who may open a case is asked of
``shared.cases.permissions.may_open_case``, who may edit or share of
``scope.can_manage_case``, who may add files of ``attachments.may_upload``;
each use case checks again when the form is posted.

Errors are shown beside the field they concern (and once at the top).  The
edit, share and typical-case forms carry the case's version and what the page
showed (``seen``); when someone else changed the case first,
``conflicts.refuse`` shows their change beside what was typed.

Files come from ``<input type=file multiple name=files>`` in a plain
multipart form (read as it arrives by pages/multipart.py).  A batch is all or
nothing: when any file is refused, none is stored and each file's verdict is
listed beside the file field; the case or feedback typed with them is not
saved either, and the text comes back to be sent again with the files chosen
anew.  static/upload.js, where scripts run, sends the same form with a
progress bar and shows the server's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from services.api.pages import conflicts, multipart
from services.api.pages.admin.base import field_errors
from services.api.pages.auth import STATIC_DIR
from services.api.pages.common import (
    Flash,
    FormDep,
    Page,
    PageDep,
    active_departments,
    campaign_choices,
    department_names,
    done,
    error_text,
    form_values,
    form_version,
    html,
    login_redirect,
    not_found,
    parse_id,
    posted,
    redirect_with_flash,
)
from services.api.path_gate import PathGate
from shared.attachments import service as attachments
from shared.attachments.models import OwnerKind
from shared.attachments.service import BatchRefused, Incoming, Verdict
from shared.attachments.storage import Storage, limit_mb
from shared.campaigns.models import Campaign
from shared.cases import service
from shared.cases.models import CaseSource, Priority
from shared.cases.permissions import may_open_case
from shared.cases.schemas import CaseCreate, CasePublic, CaseUpdate
from shared.cases.views import case_public
from shared.errors import DomainError, Invalid, NotFound, Unauthorized
from shared.i18n import N_, translate
from shared.scope import can_manage_case, case_for_read
from shared.users.models import User

router = PathGate()

FILES = "files"
TEXT_FIELDS = ("title", "description", "source", "category", "region", "priority", "enterprise_name",
               "enterprise_credit_code", "complainant_name", "complainant_phone", "complainant_id_number",
               "complainant_address", "campaign_id")
PII = ("complainant_name", "complainant_phone", "complainant_id_number", "complainant_address")
# Optional fields a form sends empty to clear them.
CLEARABLE = ("enterprise_name", "enterprise_credit_code", *PII, "campaign_id")

_LABELS = (
    N_("page.field.description"), N_("page.field.source"), N_("page.field.category"), N_("page.field.region"),
    N_("page.field.priority"), N_("page.field.enterprise_name"), N_("page.field.enterprise_credit_code"),
    N_("page.field.complainant_name"), N_("page.field.complainant_phone"),
    N_("page.field.complainant_id_number"), N_("page.field.complainant_address"), N_("page.field.shared_with"),
    N_("page.field.files"), N_("page.field.department_ids"), N_("page.field.is_typical"),
)


# ------------------------------------------------------------------ files

def _files(request: Request) -> list[Incoming]:
    return posted(request).files.get(FILES, [])


def verdict_lines(page: Page, verdicts: Sequence[Verdict]) -> list[tuple[str, str | None]]:
    """Each file of a refused batch: its name and why it was refused (None: it passed, but was not kept)."""
    return [(v.name, translate(v.refused.key, page.lang, **v.refused.params) if v.refused else None)
            for v in verdicts]


def upload_context(page: Page) -> dict[str, Any]:
    """What the upload field (templates/pages/_upload.html) says about the limits."""
    return {"upload_limit_mb": limit_mb(page.settings.max_upload_bytes), "upload_max_files": multipart.MAX_FILES,
            "upload_verdicts": []}


def _storage(page: Page) -> Storage:
    return Storage(page.settings.upload_dir)


# ------------------------------------------------------------------ the case page's part

def section(page: Page, case: CasePublic) -> dict[str, Any]:
    """What the case page shows of intake: the upload form, and for its managers edit, share and 典型."""
    assert page.user is not None
    manager = can_manage_case(page.user, case)
    shared = set(case.shared_with)
    return {
        **upload_context(page),
        "may_upload_case": attachments.may_upload(page.session, page.user, OwnerKind.CASE, case.id),
        "may_edit_case": manager,
        "share_choices": [d for d in active_departments(page.session)
                          if d.id != case.lead_department_id and d.id not in shared] if manager else [],
    }


def _case_page_context(page: Page, case_id: int) -> dict[str, Any]:
    from services.api.pages import cases  # the case page's module imports this one

    return cases.detail_context(page, case_id)


def _on_case_page(page: Page, raw_id: str, form: dict[str, str], form_name: str, done_key: str,
                  run: Callable[[Session, User, int], object], *,
                  verdicts: Callable[[], Sequence[Verdict]] | None = None,
                  offered: Callable[[dict[str, Any]], bool] = lambda _c: True) -> Response:
    """A case page form: call the use case, commit, redirect; refused, the case page again with the reason."""
    if page.user is None:
        return login_redirect(page)
    cid = parse_id(raw_id)
    if cid is None:
        return not_found(page)
    try:
        run(page.session, page.user, cid)
        done(page, f"/cases/{cid}")
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        lines = verdict_lines(page, exc.verdicts) if isinstance(exc, BatchRefused) else []
        share_errors = field_errors(page, exc) if form_name == "share" else {}

        def context() -> dict[str, Any]:
            values = _case_page_context(page, cid)
            values["upload_verdicts"] = lines
            values["share_errors"] = share_errors
            return values

        return conflicts.refuse(page, exc, form=form, form_name=form_name, template="cases/detail.html",
                                context=context, offered=offered)
    return redirect_with_flash(page, f"/cases/{cid}", done_key)


@router.post("/cases/{case_id}/share")
def share(page: PageDep, request: Request, case_id: str, form: FormDep) -> Response:
    chosen = [v for v in posted(request).getlist("department_ids") if v.strip()][:100]

    def run(s: Session, u: User, cid: int) -> object:
        if not chosen:
            raise Invalid("department_ids", "field_required")
        ids = [parse_id(v.strip()) for v in chosen]
        if any(i is None for i in ids):
            raise Invalid("department_ids", "department_unknown", ids=",".join(chosen))
        return service.share_case(s, page.clock, u, cid, form_version(form), [i for i in ids if i is not None])

    # What was ticked, by name, for the conflict panel's "what you typed".
    names = department_names(page.session)
    form = {**form, "department_ids": "、".join(names.get(parse_id(v.strip()) or 0, v) for v in chosen)}
    return _on_case_page(page, case_id, form, "share", N_("page.done.share"), run,
                         offered=lambda c: bool(c["may_edit_case"]))


@router.post("/cases/{case_id}/typical")
def typical(page: PageDep, case_id: str, form: FormDep) -> Response:
    flag = form.get("is_typical") == "1"

    def run(s: Session, u: User, cid: int) -> object:
        return service.update_case(s, page.clock, u, cid, form_version(form), CaseUpdate(is_typical=flag))

    return _on_case_page(page, case_id, form, "typical",
                         N_("page.done.typical_set") if flag else N_("page.done.typical_unset"), run,
                         offered=lambda c: bool(c["may_edit_case"]))


@router.post("/cases/{case_id}/attachments")
def upload_to_case(page: PageDep, request: Request, case_id: str, form: FormDep) -> Response:
    files = _files(request)

    def run(s: Session, u: User, cid: int) -> object:
        return attachments.attach_many(s, page.clock, u, _storage(page), OwnerKind.CASE, cid, files)

    return _on_case_page(page, case_id, form, "upload", N_("page.done.upload"), run,
                         offered=lambda c: bool(c["may_upload_case"]))


# ------------------------------------------------------------------ opening a case

def _choices(page: Page) -> dict[str, Any]:
    return {
        "departments": active_departments(page.session),
        "campaigns": campaign_choices(page.session),
        "sources": [s.value for s in CaseSource],
        "priorities": [p.value for p in Priority],
        **upload_context(page),
    }


def _new_form(page: Page, *, status: int = 200, values: dict[str, str] | None = None,
              shared: Sequence[str] = (), errors: dict[str, str] | None = None,
              verdicts: list[tuple[str, str | None]] | None = None) -> Response:
    assert page.user is not None
    given = values or {"lead_department_id": str(page.user.department_id), "priority": Priority.NORMAL.value}
    context = _choices(page)
    context["upload_verdicts"] = verdicts or []
    return html(page, "cases/new.html", status=status, values=given, shared=set(shared), errors=errors or {},
                **context)


@router.get("/cases/new")
def new_case_form(page: PageDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    if not may_open_case(page.user):
        return not_found(page)
    return _new_form(page)


@router.post("/cases/new")
def open_case(page: PageDep, request: Request, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    if not may_open_case(page.user):  # the use case refuses too; to anyone else this page does not exist
        return not_found(page)
    shared = [v for v in posted(request).getlist("shared_with") if v.strip()][:100]
    files = _files(request)
    problems: list[DomainError | ValidationError] = []
    data: CaseCreate | None = None
    verdicts: list[Verdict] = []
    try:
        data = CaseCreate(**{**form_values(form, *TEXT_FIELDS, "lead_department_id"),  # type: ignore[arg-type]
                             "shared_with": shared})
    except ValidationError as exc:
        problems.append(exc)
    try:  # every file is checked even when a field is wrong: all the reasons at once
        verdicts = attachments.check_files(files)
    except BatchRefused as exc:
        problems.append(exc)
        verdicts = exc.verdicts
    try:
        if problems:
            raise problems[0]
        assert data is not None
        case = service.create_case(page.session, page.clock, page.user, data)
        if files:
            attachments.record_files(page.session, page.clock, page.user, _storage(page), OwnerKind.CASE,
                                     case.id, files, verdicts)  # type: ignore[arg-type]
        url = f"/cases/{case.id}"
        done(page, url)
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        if isinstance(exc, Unauthorized):
            return login_redirect(page)
        reasons = problems or [exc]
        errors: dict[str, str] = {}
        for problem in reasons:
            if not isinstance(problem, BatchRefused):
                errors.update(field_errors(page, problem))
        page.flashes.append(Flash("error", "；".join(error_text(page, p) for p in reasons)))
        first = reasons[0]
        kept = {k: v for k, v in form.items() if k in (*TEXT_FIELDS, "lead_department_id")}
        status = first.status if isinstance(first, DomainError) else 422
        return _new_form(page, status=status, values=kept, shared=shared, errors=errors,
                         verdicts=verdict_lines(page, verdicts) if any(v.refused for v in verdicts) else [])
    return redirect_with_flash(page, url, N_("page.done.case_opened"), reference=case.reference)


# ------------------------------------------------------------------ editing a case

def edit_context(page: Page, case_id: int) -> dict[str, Any]:
    """The edit page: the case as this user may see it (a manager sees the complainant in full)."""
    assert page.user is not None
    case = case_for_read(page.session, page.user, case_id)
    if not can_manage_case(page.user, case):
        raise NotFound()  # the edit page exists for the case's managers only; the use case says the same
    view = case_public(page.session, page.clock, page.user, case)
    del case
    values = {name: "" if getattr(view, name, None) is None else str(getattr(view, name))
              for name in TEXT_FIELDS if not name.startswith("complainant_")}
    values.update({name: getattr(view.complainant, name.removeprefix("complainant_")) or "" for name in PII})
    values["source"] = str(view.source)
    values["priority"] = str(view.priority)
    names = department_names(page.session)
    campaign = page.session.get(Campaign, view.campaign_id) if view.campaign_id else None
    return {
        **_choices(page),
        "case": view,
        "values": values,
        "errors": {},
        "open_form": None,
        "pii_editable": not view.complainant.masked,
        "snapshot": _edit_snapshot(page, view, names, campaign.name if campaign else ""),
    }


def _edit_snapshot(page: Page, case: CasePublic, names: Mapping[int, str], campaign: str) -> conflicts.Snapshot:
    """What the edit page shows of the case: its fields as they were when the form was drawn."""
    from services.api.pages import cases

    return cases.snapshot(page, case, [], names, campaign)


@router.get("/cases/{case_id}/edit")
def edit_form(page: PageDep, case_id: str) -> Response:
    if page.user is None:
        return login_redirect(page)
    cid = parse_id(case_id)
    if cid is None:
        return not_found(page)
    try:
        context = edit_context(page, cid)
    except NotFound:
        return not_found(page)
    return html(page, "cases/edit.html", **context)


def _update_from(form: dict[str, str], pii_editable: bool) -> CaseUpdate:
    """Every field the edit form shows; an optional one sent empty is cleared."""
    given: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name == "source" or (name in PII and not pii_editable) or name not in form:
            continue
        value = form[name].strip()
        given[name] = None if name in CLEARABLE and not value else value
    return CaseUpdate(**given)


@router.post("/cases/{case_id}/edit")
def save_edit(page: PageDep, case_id: str, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    cid = parse_id(case_id)
    if cid is None:
        return not_found(page)
    try:
        pii_editable = "complainant_name" in form
        service.update_case(page.session, page.clock, page.user, cid, form_version(form),
                            _update_from(form, pii_editable))
        done(page, f"/cases/{cid}")
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        errors = field_errors(page, exc)

        def context() -> dict[str, Any]:
            values = edit_context(page, cid)
            values["errors"] = errors
            return values

        return conflicts.refuse(page, exc, form=form, form_name="edit", template="cases/edit.html",
                                context=context, kept=(*TEXT_FIELDS,))
    return redirect_with_flash(page, f"/cases/{cid}", N_("page.done.case_saved"))


# ------------------------------------------------------------------ scripts and styles (our own files only)

def _static(name: str, media_type: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/static/intake.js")
def intake_script() -> FileResponse:
    return _static("intake.js", "text/javascript")


@router.get("/static/upload.js")
def upload_script() -> FileResponse:
    return _static("upload.js", "text/javascript")


@router.get("/static/intake.css")
def intake_stylesheet() -> FileResponse:
    return _static("intake.css", "text/css")
