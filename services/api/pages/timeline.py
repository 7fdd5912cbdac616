"""Turns timeline events into lines a person reads: who, when, what, and the detail that matters.

The timeline holds changes only; reads of personal data are in the admins' audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.events.models import Event
from shared.i18n import N_, has_message
from shared.templating import format_local, message


@dataclass
class Line:
    at: datetime
    who: str
    what: str
    assignment_id: int | None
    detail: str


def _when(value: Any, lang: str, tz: str) -> str:
    try:
        return format_local(datetime.fromisoformat(str(value)), lang, tz)
    except (TypeError, ValueError):
        return ""


def _detail(e: Event, lang: str, tz: str, departments: Mapping[int, str]) -> str:
    after: dict[str, Any] = e.after or {}
    parts: list[str] = []

    def add(key: str, **params: Any) -> None:
        parts.append(message(key, lang, **params))

    if e.object_type == "assignment" and e.action in ("dispatched", "redispatched"):
        if after.get("department_id") in departments:
            add(N_("page.event.detail.department"), name=departments[after["department_id"]])
        if after.get("role") in ("lead", "assist"):
            add(f"page.role_in_case.{after['role']}")
        if after.get("feedback_due_at"):
            add(N_("page.event.detail.due"), due=_when(after["feedback_due_at"], lang, tz))
        if after.get("decision_note"):
            parts.append(str(after["decision_note"]))
    elif e.object_type == "assignment" and e.action == "assigned":
        add(N_("page.event.detail.assigned"), name=after.get("assignee_name") or "")
        before: dict[str, Any] = e.before or {}
        if before.get("assignee_name"):
            add(N_("page.event.detail.assigned_from"), name=before["assignee_name"])
    elif e.action == "returned":
        reason_key = f"notice.return_reason.{after.get('reason')}"
        if has_message(reason_key):
            parts.append(message(reason_key, lang))
        if after.get("note"):
            parts.append(str(after["note"]))
    elif e.action == "extension_requested":
        add(N_("page.event.detail.days"), n=after.get("extra_working_days", ""))
        if after.get("reason"):
            parts.append(str(after["reason"]))
    elif e.action == "extension_approved":
        if after.get("feedback_due_at"):
            add(N_("page.event.detail.due"), due=_when(after["feedback_due_at"], lang, tz))
        if after.get("comment"):
            parts.append(str(after["comment"]))
    elif e.action == "shared":
        names = [departments.get(i, str(i)) for i in after.get("shared_with", [])]
        add(N_("page.event.detail.shared"), names="、".join(names) if lang == "zh-CN" else ", ".join(names))
    elif e.action in ("updated", "typical_flagged") and e.object_type == "case":
        add(N_("page.event.detail.fields"), names=", ".join(sorted(after)))
    elif e.action == "uploaded":
        parts.append(str(after.get("file_name", "")))
    elif e.action == "scheduled":
        parts.append(str(after.get("title", "")))
    else:
        for name in ("text", "comment", "reason", "note"):
            if after.get(name):
                parts.append(str(after[name]))
    return "；".join(p for p in parts if p) if lang == "zh-CN" else "; ".join(p for p in parts if p)


def lines(events: list[Event], lang: str, tz: str, departments: Mapping[int, str],
          people: dict[int, str]) -> list[Line]:
    out = []
    for e in events:
        key = f"page.event.{e.object_type}.{e.action}"
        what = message(key, lang) if has_message(key) else e.action
        who = people.get(e.actor_id, "") if e.actor_id is not None else message("page.event.system", lang)
        out.append(Line(
            at=e.at, who=who, what=what,
            assignment_id=e.object_id if e.object_type == "assignment" else None,
            detail=_detail(e, lang, tz, departments),
        ))
    return out

# Every event's label, looked up as f"page.event.{object_type}.{action}": declared for extraction (make i18n).
_BUILT_KEYS = (
    N_("page.event.assignment.accepted"), N_("page.event.assignment.approved"), N_("page.event.assignment.assigned"),
    N_("page.role_in_case.lead"), N_("page.role_in_case.assist"),
    N_("page.event.assignment.cancelled"), N_("page.event.assignment.deadline_recomputed"),
    N_("page.event.assignment.dispatched"), N_("page.event.assignment.extension_approved"),
    N_("page.event.assignment.extension_denied"), N_("page.event.assignment.extension_requested"),
    N_("page.event.assignment.feedback_submitted"), N_("page.event.assignment.redispatched"),
    N_("page.event.assignment.returned"), N_("page.event.assignment.reworked"),
    N_("page.event.assignment.sent_back"), N_("page.event.assignment.signed_off"),
    N_("page.event.assignment.signoff_sent_back"), N_("page.event.assignment.supervised"),
    N_("page.event.assignment.urged"), N_("page.event.callback.recorded"), N_("page.event.callback.reworked"),
    N_("page.event.attachment.uploaded"), N_("page.event.case.closed"), N_("page.event.case.commented"),
    N_("page.event.case.created"), N_("page.event.case.personal_data_read"), N_("page.event.case.reopened"),
    N_("page.event.case.shared"), N_("page.event.case.typical_flagged"), N_("page.event.case.updated"),
    N_("page.event.inspection.cancelled"), N_("page.event.inspection.closed"),
    N_("page.event.inspection.completed"), N_("page.event.inspection.scheduled"),
    N_("page.event.inspection.updated"),
)
