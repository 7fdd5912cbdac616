"""Evidence files (附件): who may add them, and the one place an attachment is recorded.

Visibility follows the case: whoever may see the case sees all its
attachments, including those of its feedback and inspections; anyone else
gets 404.  Adding one is narrower:

- on a case: the case's managers (its coordinator, coordinators of the lead
  department) and liaisons/heads of the lead or a shared department;
- on feedback: liaisons/heads of the department the assignment belongs to,
  while that feedback awaits review (not yet approved or sent back);
- on an inspection: the case's managers and liaisons/heads of the lead or a
  participating department, unless the inspection was cancelled.

Leaders and admins never upload.  Nothing is added to a closed case.

Several files at once (the pages' forms) are all or nothing: every file is
checked first, and if any is refused none is stored, each file's verdict
being reported (``BatchRefused``).  Sending the corrected batch again then
never stores a file twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Integer, Select, bindparam, select
from sqlmodel import Session, col

from shared import scope
from shared.assignments.models import Assignment, AssignmentState
from shared.attachments import sniff
from shared.attachments.models import Attachment, OwnerKind
from shared.attachments.storage import StagedUpload, Storage, remove_unless_committed
from shared.cases.models import Case, CaseStatus
from shared.clock import Clock
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge, UnsupportedMedia
from shared.events import service as events
from shared.feedback.models import Feedback, SignoffDecision
from shared.i18n import N_
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.users.models import User

# Evidence may still be added while the feedback waits for the head's sign-off or the review.
_FEEDBACK_OPEN_STATES = (AssignmentState.ACCEPTED, AssignmentState.AWAITING_SIGNOFF, AssignmentState.SUBMITTED)


def _in_department_role(actor: User, department_ids: set[int]) -> bool:
    return actor.role in scope.DEPARTMENT_ROLES and actor.department_id in department_ids


def _case_departments(session: Session, case: Case) -> set[int]:
    return {case.lead_department_id, *scope.shared_department_ids(session, case.id)}  # type: ignore[arg-type]


def _require_open(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise Conflict("attachment_case_closed")


def _case_target(session: Session, actor: User, case_id: int) -> Case:
    case = scope.case_for_read(session, actor, case_id)
    if not (scope.can_manage_case(actor, case)
            or _in_department_role(actor, _case_departments(session, case))):
        raise Forbidden()
    _require_open(case)
    return case


def _feedback_target(session: Session, actor: User, feedback_id: int) -> Case:
    row = session.execute(
        select(Feedback, Assignment)
        .join(Assignment, Assignment.id == Feedback.assignment_id)  # type: ignore[arg-type]
        .where(Feedback.id == feedback_id)  # type: ignore[arg-type]
    ).first()
    if row is None:
        raise NotFound()
    feedback, assignment = row
    case = scope.case_for_read(session, actor, assignment.case_id)
    if not _in_department_role(actor, {assignment.department_id}):
        raise Forbidden()
    _require_open(case)
    if feedback.review_decision is not None or feedback.signoff_decision == SignoffDecision.SENT_BACK \
            or assignment.state not in _FEEDBACK_OPEN_STATES:
        raise Conflict("attachment_feedback_reviewed")
    return case


def _inspection_target(session: Session, actor: User, inspection_id: int) -> Case:
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound()
    departments = {inspection.lead_department_id, *session.scalars(
        select(col(InspectionParticipant.department_id))
        .where(col(InspectionParticipant.inspection_id) == inspection_id)
    )}
    if inspection.case_id is None:
        # Visibility of evidence follows a case; a campaign-only inspection has none.
        if scope.sees_everything(actor) or _in_department_role(actor, departments):
            raise Conflict("attachment_inspection_without_case")
        raise NotFound()
    case = scope.case_for_read(session, actor, inspection.case_id)
    if not (scope.can_manage_case(actor, case) or _in_department_role(actor, departments)):
        raise Forbidden()
    _require_open(case)
    if inspection.status == InspectionStatus.CANCELLED:
        raise Conflict("attachment_inspection_cancelled")
    return case


_TARGETS = {
    OwnerKind.CASE: _case_target,
    OwnerKind.FEEDBACK: _feedback_target,
    OwnerKind.INSPECTION: _inspection_target,
}


def authorize_upload(session: Session, actor: User, owner_kind: OwnerKind, owner_id: int) -> Case:
    """404 if the owner is out of the actor's sight, 403 if he may not add to it, 409 if closed.

    Called before the body is read (so nobody can make us store bytes he may
    not upload) and again inside the transaction that records the file.
    """
    return _TARGETS[owner_kind](session, actor, owner_id)


def may_upload(session: Session, actor: User, owner_kind: OwnerKind, owner_id: int) -> bool:
    """Whether a page should offer this actor an upload form for the owner (authorize_upload decides)."""
    try:
        authorize_upload(session, actor, owner_kind, owner_id)
    except (Forbidden, NotFound, Conflict):
        return False
    return True


def _checked(staged: StagedUpload, client_file_name: str) -> tuple[str, sniff.Kind]:
    """The stored name and type of a received file, or the reason it is refused."""
    if staged.size == 0:
        raise Invalid("file", "attachment_empty")
    return sniff.accept(sniff.display_name(client_file_name), sniff.detect(staged.path))


def _store(session: Session, clock: Clock, actor: User, storage: Storage, owner_kind: OwnerKind, owner_id: int,
           case: Case, staged: StagedUpload, file_name: str, kind: sniff.Kind) -> Attachment:
    key = storage.place(staged)
    remove_unless_committed(session, storage.path(key))
    attachment = Attachment(
        owner_kind=owner_kind,
        owner_id=owner_id,
        case_id=case.id,  # type: ignore[arg-type]
        file_name=file_name,
        media_type=kind.media_type,
        size=staged.size,
        sha256=staged.sha256,
        storage_key=key,
        uploaded_by=actor.id,  # type: ignore[arg-type]
        uploaded_at=clock.now(),
    )
    session.add(attachment)
    session.flush()
    events.record(
        session, clock, actor, "attachment", attachment.id, "uploaded",
        case_id=case.id,
        after={"file_name": file_name, "size": staged.size, "sha256": staged.sha256,
               "media_type": kind.media_type, "owner_kind": owner_kind.value, "owner_id": owner_id},
    )
    return attachment


def attach(
    session: Session,
    clock: Clock,
    actor: User,
    storage: Storage,
    owner_kind: OwnerKind,
    owner_id: int,
    staged: StagedUpload,
    client_file_name: str,
) -> Attachment:
    """Check the received file, move it to its permanent place and record it (flushes)."""
    # The content check reads the file; do it before the first query opens the transaction.
    file_name, kind = _checked(staged, client_file_name)
    case = authorize_upload(session, actor, owner_kind, owner_id)
    attachment = _store(session, clock, actor, storage, owner_kind, owner_id, case, staged, file_name, kind)
    session.flush()
    return attachment


@dataclass
class Incoming:
    """One file of a batch, as received; REFUSED when the receiver already turned it down (too large)."""

    staged: StagedUpload
    client_file_name: str
    refused: DomainError | None = None

    @property
    def name(self) -> str:
        return sniff.display_name(self.client_file_name)


@dataclass(frozen=True)
class Verdict:
    """A file of a batch: its name and, when refused, why."""

    name: str
    refused: DomainError | None = None
    kind: sniff.Kind | None = None


class BatchRefused(DomainError):
    """At least one file of a batch was refused: none of them was stored."""

    status = 422
    key = N_("attachment_batch_refused")

    def __init__(self, verdicts: list[Verdict]) -> None:
        refused = sum(1 for v in verdicts if v.refused is not None)
        super().__init__(refused=refused, total=len(verdicts))
        self.verdicts = verdicts


def check_files(files: Sequence[Incoming]) -> list[Verdict]:
    """Check every file of a batch (no database); BatchRefused, naming each file's verdict, if any fails."""
    verdicts: list[Verdict] = []
    for item in files:
        if item.refused is not None:
            verdicts.append(Verdict(item.name, item.refused))
            continue
        try:
            file_name, kind = _checked(item.staged, item.client_file_name)
        except (Invalid, UnsupportedMedia, TooLarge) as exc:
            verdicts.append(Verdict(item.name, exc))
        else:
            verdicts.append(Verdict(file_name, None, kind))
    if any(v.refused is not None for v in verdicts):
        raise BatchRefused(verdicts)
    return verdicts


def record_files(session: Session, clock: Clock, actor: User, storage: Storage, owner_kind: OwnerKind,
                 owner_id: int, files: Sequence[Incoming], verdicts: Sequence[Verdict]) -> list[Attachment]:
    """Store a batch CHECK_FILES accepted, in the caller's transaction (flushes)."""
    case = authorize_upload(session, actor, owner_kind, owner_id)
    stored = [_store(session, clock, actor, storage, owner_kind, owner_id, case, item.staged, v.name, v.kind)
              for item, v in zip(files, verdicts, strict=True) if v.kind is not None]
    session.flush()
    return stored


def attach_many(session: Session, clock: Clock, actor: User, storage: Storage, owner_kind: OwnerKind,
                owner_id: int, files: Sequence[Incoming]) -> list[Attachment]:
    """Several files at once, all or nothing (see the module's docstring)."""
    if not files:
        raise Invalid("files", "field_required")
    verdicts = check_files(files)  # before the first query, as in attach
    return record_files(session, clock, actor, storage, owner_kind, owner_id, files, verdicts)


def get(session: Session, actor: User, attachment_id: int) -> Attachment:
    """An attachment exists for you only if its case does."""
    attachment = session.scalars(
        select(Attachment).where(
            Attachment.id == attachment_id,  # type: ignore[arg-type]
            scope.case_visible(actor, Attachment.case_id),
        )
    ).first()
    if attachment is None:
        raise NotFound()
    return attachment


def list_for_case(
    session: Session,
    actor: User,
    case_id: int,
    *,
    owner_kind: OwnerKind | None = None,
    owner_id: int | None = None,
    limit: int = 500,
) -> list[Attachment]:
    """The case's evidence, its feedback's and its inspections' included, oldest first."""
    scope.case_for_read(session, actor, case_id)
    stmt = _case_attachments(owner_kind is not None, owner_id is not None)
    return list(session.scalars(stmt, {"case_id": case_id, "owner_kind": owner_kind, "owner_id": owner_id,
                                       "limit": limit}))


@lru_cache(maxsize=4)
def _case_attachments(by_kind: bool, by_owner: bool) -> Select[Attachment]:
    """list_for_case's statement, built once per shape (every case page asks)."""
    stmt = select(Attachment).where(col(Attachment.case_id) == bindparam("case_id"))
    if by_kind:
        stmt = stmt.where(col(Attachment.owner_kind) == bindparam("owner_kind"))
    if by_owner:
        stmt = stmt.where(col(Attachment.owner_id) == bindparam("owner_id"))
    return stmt.order_by(col(Attachment.uploaded_at), col(Attachment.id)).limit(bindparam("limit", type_=Integer))



def content_path(
    session: Session, actor: User, storage: Storage, attachment_id: int
) -> tuple[Attachment, str]:
    """The attachment and the path of its bytes, for a download."""
    attachment = get(session, actor, attachment_id)
    path = storage.path(attachment.storage_key)
    if not path.is_file():
        raise NotFound("attachment_content_missing")
    return attachment, str(path)
