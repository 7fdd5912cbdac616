"""From notices to emails: what each line says, in the recipient's language.

Everything a template shows is prepared here as plain strings (times already in
local time, labels already translated), so the HTML and text parts say the
same thing and a template cannot forget a time zone.  No request, no session
beyond the one batched lookup of assignment facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ARRAY, Integer, any_, bindparam, func, select
from sqlmodel import Session

from shared.assignments.models import Assignment, AssignmentState, ExtensionRequest, ExtensionState
from shared.cases.models import Case
from shared.departments.models import Department
from shared.i18n import N_, NP_, has_message, state_label
from shared.reminders import rules
from shared.reminders.rules import EventKind, Stage
from shared.settings import Settings
from shared.templating import (
    RenderedEmail,
    format_local,
    message,
    normalise_language,
    render_email,
)

SUBJECT_MAX = 300  # outbox_message.subject
TITLE_IN_SUBJECT = 40
# A digest lists at most this many items per group (most urgent first) and counts the
# rest: a department with hundreds overdue needs its queue page, not a 1 MB email.
GROUP_MAX = 30
_EVENT_KINDS = frozenset(e.value for e in EventKind)
_DEADLINE_KINDS = frozenset(s.value for s in rules.DEADLINE_STAGES)
_DECISION_KINDS = frozenset({Stage.EXTENSION_PENDING, Stage.SIGNOFF_PENDING, Stage.REVIEW_PENDING,
                             Stage.RETURN_PENDING})


class _Recipient(Protocol):
    """What rendering needs of a person (shared.notifications.service.Recipient fits)."""

    @property
    def name(self) -> str: ...

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class AssignmentInfo:
    id: int
    case_id: int
    reference: str
    title: str
    department: str
    state: str
    feedback_due_at: datetime
    acceptance_due_at: datetime
    provisional: bool
    needs_decision: bool
    # What decides who may act on it now (shared/assignments/permissions.py).
    department_id: int = 0
    return_count: int = 0
    lead_department_id: int = 0
    coordinator_id: int | None = None
    pending_extension_id: int | None = None


def load_assignment_info(session: Session, ids: Iterable[int]) -> dict[int, AssignmentInfo]:
    """Assignment, case and department facts for many assignments.

    One statement with an array parameter on PostgreSQL (a pass reads ten
    thousand); 500 ids per query on SQLite, under its parameter limit.
    """
    wanted = sorted(set(ids))
    out: dict[int, AssignmentInfo] = {}
    ta: Any = Assignment.__table__  # type: ignore[attr-defined]
    tc: Any = Case.__table__  # type: ignore[attr-defined]
    td: Any = Department.__table__  # type: ignore[attr-defined]
    te: Any = ExtensionRequest.__table__  # type: ignore[attr-defined]
    a, c, d, e = ta.c, tc.c, td.c, te.c

    def lookup(wanted_ids: Any) -> Any:
        """The facts of the assignments WANTED_IDS picks (a condition on an id column)."""
        # At most one request is pending at a time (request_extension refuses a second).  Joined
        # as a grouped derived table, not a correlated subquery: pending requests are few (read
        # through ix_extension_request_state), while a subquery per row made a 10,000-id lookup
        # cost enough for parallel workers and JIT compilation (80 ms of its 140).
        pending = (select(e.assignment_id, func.max(e.id).label("id"))
                   .where(e.state == ExtensionState.PENDING.value, wanted_ids(e.assignment_id))
                   .group_by(e.assignment_id).subquery("pending"))
        return (
            select(a.id, a.case_id, c.reference, c.title, d.name, a.state, a.feedback_due_at,
                   a.acceptance_due_at, a.due_provisional, a.needs_decision, a.department_id, a.return_count,
                   c.lead_department_id, c.coordinator_id, pending.c.id)
            .select_from(ta.join(tc, c.id == a.case_id).join(td, d.id == a.department_id)
                         .outerjoin(pending, pending.c.assignment_id == a.id))
            .where(wanted_ids(a.id))
        )

    if session.get_bind().dialect.name == "postgresql":
        ids = bindparam("ids", wanted, type_=ARRAY(Integer))
        parts = [lookup(lambda col: col == any_(ids))] if wanted else []
    else:
        parts = [lookup(lambda col, chunk=wanted[i : i + 500]: col.in_(chunk)) for i in range(0, len(wanted), 500)]
    for part in parts:
        for row in session.execute(part):
            out[row[0]] = AssignmentInfo(*row)
    return out


@dataclass(frozen=True)
class Change:
    """The latest thing that happened to an assignment (its newest timeline event)."""

    action: str  # events.action: accepted, feedback_submitted, extension_approved …
    actor: str | None  # the person's name; None for the system
    at: datetime


# The group (card section and subject kind) of each notice kind: requests sit with
# the reminder that chases the same step, so a digest says "待审核" once, not twice.
_GROUP_OF = {
    EventKind.EXTENSION_REQUESTED.value: Stage.EXTENSION_PENDING.value,
    EventKind.SUBMITTED.value: Stage.REVIEW_PENDING.value,
    EventKind.SIGNOFF_REQUESTED.value: Stage.SIGNOFF_PENDING.value,
    EventKind.SIGNOFF_SENT_BACK.value: EventKind.SENT_BACK.value,
    EventKind.RETURNED.value: Stage.RETURN_PENDING.value,
    EventKind.APPROVED.value: "events",
    EventKind.CANCELLED.value: "events",
    EventKind.EXTENSION_DECIDED.value: "events",
}
MOVED_ON = "moved_on"
# Display and subject order, most urgent first; what moved on comes last, as context.
GROUP_ORDER: tuple[str, ...] = tuple(str(g) for g in (
    Stage.ESCALATION, Stage.URGE, Stage.OVERDUE, Stage.DUE_TODAY, Stage.ACCEPT_OVERDUE,
    EventKind.DISPATCHED, EventKind.ASSIGNED, EventKind.SENT_BACK, Stage.DUE_SOON, Stage.EXTENSION_PENDING,
    Stage.SIGNOFF_PENDING, Stage.REVIEW_PENDING, Stage.RETURN_PENDING, "events", MOVED_ON,
))
_RANK = {g: n for n, g in enumerate(GROUP_ORDER)}
SUBJECT_PARTS = 3  # kinds named in a mixed digest's subject; the rest are counted


@dataclass(frozen=True)
class NoticeItem:
    id: int
    key: str
    kind: str
    params: dict[str, Any]
    info: AssignmentInfo
    ask: str | None = None  # currency.Ask: what the reader is asked to do now; None for news
    moved: Change | None = None  # set when the notice's request has moved on: shown as this, not asked

    @property
    def group(self) -> str:
        if self.moved is not None:
            return MOVED_ON
        return _GROUP_OF.get(self.kind, self.kind)

    @property
    def rank(self) -> int:
        return _RANK[self.group]


def _when(value: datetime | str | None, lang: str, settings: Settings) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_local(value, lang, settings.tz)


def _return_reason(params: dict[str, Any], lang: str) -> str:
    code, note = params.get("return_reason"), params.get("note")
    text = message(f"notice.return_reason.{code}", lang) if code else ""
    if note and text:
        return f"{text}：{note}" if lang != "en" else f"{text} ({note})"
    return text or (str(note) if note else "—")


def _moved_text(item: NoticeItem, lang: str, settings: Settings) -> str:
    """已有进展：张三已于 … 签收 — what became of the request."""
    change = item.moved
    assert change is not None
    who = change.actor or message("email.moved.system", lang)
    key = f"email.moved.{change.action}"
    if has_message(key):
        what = message(key, lang, who=who, at=_when(change.at, lang, settings))
    else:
        what = message("email.moved.state", lang, state=state_label(item.info.state, lang))
    return message("email.moved.prefix", lang) + what


def status_text(item: NoticeItem, lang: str, settings: Settings) -> str:
    """The one line that says why this item is in the email."""
    p, info, kind = item.params, item.info, item.kind
    if item.moved is not None:
        return _moved_text(item, lang, settings)
    if kind in (Stage.ESCALATION, Stage.URGE, Stage.OVERDUE, Stage.DUE_SOON):
        return short_status(item, lang, settings)  # the due time is on the line below
    if kind == Stage.DUE_TODAY:
        local = info.feedback_due_at.astimezone(settings.tz)
        return message("notice.status.due_today", lang, time=f"{local:%H:%M}")
    if kind == Stage.ACCEPT_OVERDUE:
        accept_due = _when(info.acceptance_due_at, lang, settings)
        return message("notice.status.accept_overdue", lang, due=accept_due)
    if kind == Stage.EXTENSION_PENDING:
        return message("notice.status.extension_pending", lang, days=p.get("days", 0),
                       reason=p.get("reason", ""))
    if kind == Stage.REVIEW_PENDING:
        return message("notice.status.review_pending", lang, at=_when(p.get("submitted_at"), lang, settings))
    if kind == Stage.SIGNOFF_PENDING:
        return message("notice.status.signoff_pending", lang, at=_when(p.get("submitted_at"), lang, settings))
    if kind == Stage.RETURN_PENDING:
        key = N_("notice.status.return_decision") if p.get("needs_decision") else N_("notice.status.return_pending")
        return message(key, lang, reason=_return_reason(p, lang))
    return _event_text(item, lang, settings)


def short_status(item: NoticeItem, lang: str, settings: Settings) -> str:
    """The status for a subject line: no dates, nothing to wrap."""
    p, kind = item.params, item.kind
    if item.moved is not None:
        return message("email.moved.short", lang)
    if kind in (Stage.ESCALATION, Stage.URGE, Stage.OVERDUE):
        days = int(p.get("days", 0))
        return (message("notice.short.overdue", lang, days=days) if days >= 1
                else message("notice.short.overdue_today", lang))
    if kind == Stage.DUE_SOON:
        return message("notice.short.due_soon", lang, days=int(p.get("days", 0)))
    if kind == Stage.RETURN_PENDING and p.get("needs_decision"):
        return message("notice.short.return_decision", lang)
    if kind in (Stage.ACCEPT_OVERDUE, *_DECISION_KINDS):
        return message(f"notice.short.{kind}", lang)
    return status_text(item, lang, settings)


def _event_text(item: NoticeItem, lang: str, settings: Settings) -> str:
    p, info, kind = item.params, item.info, item.kind
    due = _when(info.feedback_due_at, lang, settings)
    if kind == EventKind.DISPATCHED:
        text = message("notice.event.dispatched", lang, due=due,
                       accept_due=_when(info.acceptance_due_at, lang, settings))
    elif kind == EventKind.ASSIGNED:
        text = message("notice.event.assigned", lang, due=due)
    elif kind == EventKind.RETURNED:
        key = N_("notice.event.returned_decision") if p.get("needs_decision") else N_("notice.event.returned")
        text = message(key, lang, department=info.department, reason=_return_reason(p, lang))
    elif kind == EventKind.EXTENSION_REQUESTED:
        text = message("notice.event.extension_requested", lang, department=info.department,
                       days=p.get("days", 0), reason=p.get("reason", ""))
    elif kind == EventKind.EXTENSION_DECIDED:
        key = N_("notice.event.extension_approved") if p.get("approved") else N_("notice.event.extension_denied")
        text = message(key, lang, due=due)
    elif kind == EventKind.SUBMITTED:
        text = message("notice.event.submitted", lang, department=info.department)
    elif kind == EventKind.SIGNOFF_REQUESTED:
        text = message("notice.event.signoff_requested", lang)
    elif kind == EventKind.SIGNOFF_SENT_BACK:
        text = message("notice.event.signoff_sent_back", lang, reason=p.get("reason") or "—")
    elif kind == EventKind.APPROVED:
        text = message("notice.event.approved", lang)
    elif kind == EventKind.SENT_BACK:
        text = message("notice.event.sent_back", lang, reason=p.get("reason") or "—")
    elif kind == EventKind.CANCELLED:
        text = message("notice.event.cancelled", lang, reason=p.get("reason") or "—")
    else:
        raise ValueError(f"unknown notice kind {kind!r}")
    if p.get("actor"):
        text += message("notice.event.by", lang, name=p["actor"])
    return text


def _note(item: NoticeItem, lang: str, settings: Settings) -> str:
    """A second line where it helps: not accepted yet, how long a decision has waited, a comment."""
    p = item.params
    parts = []
    if item.moved is not None:
        return message("email.moved.note", lang, ask=message(f"email.ask.{item.ask}", lang)) if item.ask else ""
    if item.kind in _DEADLINE_KINDS and item.kind != Stage.ACCEPT_OVERDUE \
            and item.info.state == AssignmentState.DISPATCHED:
        parts.append(message("notice.status.not_accepted", lang))
    if item.kind in _DECISION_KINDS and p.get("waiting"):
        parts.append(message("notice.status.waiting", lang, days=p["waiting"]))
    if p.get("comment"):
        parts.append(message("notice.comment", lang, comment=p["comment"]))
    return "；".join(parts) if lang != "en" else "; ".join(parts)


def _short(title: str) -> str:
    return title if len(title) <= TITLE_IN_SUBJECT else title[: TITLE_IN_SUBJECT - 1] + "…"


def _card(info: AssignmentInfo, lang: str, settings: Settings) -> dict[str, Any]:
    """What every card says of its assignment, whatever the notice."""
    base = settings.base_url.rstrip("/")
    return {
        "number": message("email.card.number", lang, id=info.id),
        "open": message("email.card.open", lang, id=info.id),
        "reference": info.reference,
        "title": info.title,
        "short_title": _short(info.title),
        "department": info.department,
        "state": state_label(info.state, lang),
        "due": _when(info.feedback_due_at, lang, settings),
        "provisional": bool(info.provisional),
        "assignment_url": f"{base}/assignments/{info.id}",
        "case_url": f"{base}/cases/{info.case_id}",
    }


def item_view(item: NoticeItem, lang: str, settings: Settings) -> dict[str, Any]:
    return {
        **_card(item.info, lang, settings),
        "kind": item.kind,
        "ask": message(f"email.ask.{item.ask}", lang) if item.ask and item.moved is None else "",
        "moved": item.moved is not None,  # its note already says there is nothing to do
        "status": status_text(item, lang, settings),
        "short_status": short_status(item, lang, settings),
        "note": _note(item, lang, settings),
    }


# What a 催办 / 督办 asks of the department, by the assignment's state (none once it waits on review).
_URGE_ASK = {AssignmentState.DISPATCHED.value: "accept", AssignmentState.ACCEPTED.value: "submit"}


def urge_email(person: _Recipient, info: AssignmentInfo, kind: str, actor: str | None, note: str | None,
               now: datetime, settings: Settings) -> RenderedEmail:
    """催办 (kind "urge") or 挂牌督办 ("supervise") sent by hand: one card, the coordinator's words."""
    ctx = _common(person, now, settings)
    lang = ctx["lang"]
    key = N_("notice.manual.supervise") if kind == "supervise" else N_("notice.manual.urge")
    ask = _URGE_ASK.get(str(info.state))
    view = {
        **_card(info, lang, settings), "kind": kind, "moved": False,
        "ask": message(f"email.ask.{ask}", lang) if ask else "",
        "status": message(key, lang, name=actor or message("email.moved.system", lang)),
        "note": message("notice.comment", lang, comment=note) if note else "",
    }
    tag = N_("email.tag.supervise") if kind == "supervise" else N_("email.tag.urge")
    email = render_email("assignment_event", **ctx, tag=tag.removeprefix("email.tag."), item=view)
    return _clamp(email)


def _sort_key(item: NoticeItem) -> tuple[Any, ...]:
    if item.group in ("events", MOVED_ON, EventKind.DISPATCHED, EventKind.ASSIGNED, EventKind.SENT_BACK):
        return (item.id,)
    return (item.info.feedback_due_at, item.info.reference, item.id)


def _group_heading(group: str, items: list[NoticeItem], lang: str) -> str:
    threshold = min((int(i.params.get("threshold", 3)) for i in items), default=3)
    return message(f"notice.kind.{group}", lang, days=threshold)


def _common(person: _Recipient, now: datetime, settings: Settings) -> dict[str, Any]:
    lang = normalise_language(person.language)
    return {
        "lang": lang,
        "user_name": person.name,
        "at_text": format_local(now, lang, settings.tz),
        "home_url": settings.base_url.rstrip("/") + "/",
        "settings_url": settings.base_url.rstrip("/") + "/settings",
    }


def _clamp(email: RenderedEmail) -> RenderedEmail:
    if len(email.subject) <= SUBJECT_MAX:
        return email
    return RenderedEmail(email.subject[: SUBJECT_MAX - 1] + "…", email.body_text, email.body_html)


def digest_email(
    person: _Recipient, items: list[NoticeItem], now: datetime, settings: Settings
) -> RenderedEmail:
    """One email listing every item, grouped by urgency; the subject names the most urgent group."""
    ctx = _common(person, now, settings)
    lang = ctx["lang"]
    grouped: dict[str, list[NoticeItem]] = defaultdict(list)
    for item in items:
        grouped[item.group].append(item)
    order = [g for g in GROUP_ORDER if g in grouped]
    groups: list[dict[str, Any]] = [
        {"key": g, "heading": _group_heading(g, grouped[g], lang), "count": len(grouped[g]),
         "items": [item_view(i, lang, settings) for i in sorted(grouped[g], key=_sort_key)[:GROUP_MAX]],
         "hidden": max(len(grouped[g]) - GROUP_MAX, 0)}
        for g in order
    ]
    top = next((g for g in order if g != MOVED_ON), order[0])
    asking = sum(1 for i in items if i.moved is None)
    single = asking == 1  # what moved on is context: one thing asked is named in the subject
    email = render_email(
        "reminder_digest", **ctx, groups=groups, total=asking, top_group=top,
        top_count=len(grouped[top]), more_count=max(asking - len(grouped[top]), 0),
        escalate_days=min(int(i.params.get("threshold", 3)) for i in grouped[top]),
        single=single, item=item_view(grouped[top][0], lang, settings), subject_parts=subject_parts(items, lang),
        single_status="" if grouped[top][0].kind in _EVENT_KINDS else short_status(grouped[top][0], lang, settings),
        top_tag=message(f"email.tag.{_subject_kind(grouped[top][0])}", lang),
    )
    return _clamp(email)


def _subject_kind(item: NoticeItem) -> str:
    """News is named by what happened (已办结, 已撤销 …), everything else by its group."""
    return _event_tag(item) if item.group == "events" else item.group


def subject_parts(items: list[NoticeItem], lang: str) -> str:
    """【逾期】2 项、【待签收】1 项 …: each kind the digest holds, most urgent first.

    Empty when a single kind (other than news) fills the digest: its headline
    says more.  What moved on is context, not a kind of work, so it is not named.
    """
    counts: dict[str, int] = defaultdict(int)
    ranks: dict[str, tuple[int, int]] = {}
    for n, item in enumerate(items):
        if item.moved is not None:
            continue
        kind = _subject_kind(item)
        counts[kind] += 1
        ranks.setdefault(kind, (item.rank, n))
    kinds = sorted(counts, key=lambda k: ranks[k])
    if len(kinds) <= 1 and not any(i.group == "events" for i in items if i.moved is None):
        return ""
    parts = [message("email.subject.part", lang, tag=message(f"email.tag.{k}", lang).strip(), n=counts[k])
             for k in kinds[:SUBJECT_PARTS]]
    text = message("email.subject.join", lang).join(parts)
    rest = sum(counts[k] for k in kinds[SUBJECT_PARTS:])
    if rest:
        text += message("email.headline.more", lang, n=rest)
    return text


def _event_tag(item: NoticeItem) -> str:
    if item.kind == EventKind.RETURNED and item.params.get("needs_decision"):
        return "returned_decision"
    if item.kind == EventKind.EXTENSION_DECIDED:
        return "extension_approved" if item.params.get("approved") else "extension_denied"
    return item.kind


def single_email(person: _Recipient, item: NoticeItem, now: datetime, settings: Settings) -> RenderedEmail:
    """One notice, one email: events use their own template, reminders a one-item digest."""
    if item.kind not in _EVENT_KINDS:
        return digest_email(person, [item], now, settings)
    ctx = _common(person, now, settings)
    email = render_email("assignment_event", **ctx, tag=_event_tag(item),
                         item=item_view(item, ctx["lang"], settings))
    return _clamp(email)

# Keys the emails build from a value (f"email.tag.{kind}", "email.headline." ~ group in the subject
# template …): declared here so that extraction (make i18n) finds them.
_BUILT_KEYS = (
    N_("email.ask.accept"), N_("email.ask.decide_extension"), N_("email.ask.decide_return"),
    N_("email.ask.follow_up"), N_("email.ask.redispatch"), N_("email.ask.review"), N_("email.ask.submit"),
    N_("email.ask.sign_off"), NP_("email.headline.signoff_pending.one", "email.headline.signoff_pending"),
    N_("email.moved.signed_off"), N_("email.moved.signoff_sent_back"), N_("email.tag.signoff_pending"),
    N_("email.tag.signoff_requested"), N_("email.tag.signoff_sent_back"), N_("notice.kind.signoff_pending"),
    N_("notice.kind.signoff_requested"), N_("notice.kind.signoff_sent_back"), N_("notice.short.signoff_pending"),
    NP_("email.headline.accept_overdue.one", "email.headline.accept_overdue"),
    NP_("email.headline.dispatched.one", "email.headline.dispatched"),
    NP_("email.headline.assigned.one", "email.headline.assigned"), N_("email.tag.assigned"),
    N_("notice.kind.assigned"),
    NP_("email.headline.due_soon.one", "email.headline.due_soon"),
    NP_("email.headline.due_today.one", "email.headline.due_today"),
    NP_("email.headline.escalation.one", "email.headline.escalation"),
    NP_("email.headline.events.one", "email.headline.events"),
    NP_("email.headline.extension_pending.one", "email.headline.extension_pending"),
    NP_("email.headline.overdue.one", "email.headline.overdue"),
    NP_("email.headline.return_pending.one", "email.headline.return_pending"),
    NP_("email.headline.review_pending.one", "email.headline.review_pending"),
    NP_("email.headline.sent_back.one", "email.headline.sent_back"),
    NP_("email.headline.urge.one", "email.headline.urge"), N_("email.moved.accepted"), N_("email.moved.approved"),
    N_("email.moved.cancelled"), N_("email.moved.extension_approved"), N_("email.moved.extension_denied"),
    N_("email.moved.feedback_submitted"), N_("email.moved.redispatched"), N_("email.moved.returned"),
    N_("email.moved.sent_back"), N_("email.tag.accept_overdue"), N_("email.tag.approved"),
    N_("email.tag.cancelled"), N_("email.tag.dispatched"), N_("email.tag.due_soon"), N_("email.tag.due_today"),
    N_("email.tag.escalation"), N_("email.tag.events"), N_("email.tag.extension_approved"),
    N_("email.tag.extension_denied"), N_("email.tag.extension_pending"), N_("email.tag.extension_requested"),
    N_("email.tag.overdue"), N_("email.tag.return_pending"), N_("email.tag.returned"),
    N_("email.tag.returned_decision"), N_("email.tag.review_pending"), N_("email.tag.sent_back"),
    N_("email.tag.submitted"), N_("email.tag.urge"), N_("notice.kind.accept_overdue"), N_("notice.kind.approved"),
    N_("notice.kind.cancelled"), N_("notice.kind.dispatched"), N_("notice.kind.due_soon"),
    N_("notice.kind.due_today"), N_("notice.kind.escalation"), N_("notice.kind.events"),
    N_("notice.kind.extension_decided"), N_("notice.kind.extension_pending"), N_("notice.kind.extension_requested"),
    N_("notice.kind.moved_on"), N_("notice.kind.overdue"), N_("notice.kind.return_pending"),
    N_("notice.kind.returned"), N_("notice.kind.review_pending"), N_("notice.kind.sent_back"),
    N_("notice.kind.submitted"), N_("notice.kind.urge"), N_("notice.return_reason.duplicate"),
    N_("notice.return_reason.not_our_jurisdiction"), N_("notice.return_reason.other"),
    N_("notice.return_reason.unclear_ownership"), N_("notice.return_reason.wrong_locality"),
    N_("notice.short.accept_overdue"), N_("notice.short.extension_pending"), N_("notice.short.return_pending"),
    N_("notice.short.review_pending"),
)
