"""A feed as iCalendar (RFC 5545), built with the `icalendar` library.

What goes in, read as the feed's owner (his visibility, shared/scope.py):

- inspections from 90 days back to a year ahead, as all-day events on their
  date (an inspection has a day, not an hour); a cancelled one stays in the
  feed as STATUS:CANCELLED so that subscribed calendars drop it;
- the feedback due time of each assignment whose clock runs
  (``status.active_sql``: dispatched or accepted), at its local time
  (TZID=Asia/Shanghai with its VTIMEZONE).  Work already submitted waits on the
  reviewer, not on the department, and leaves the calendar.

Whose: a department feed shows the department's inspections (lead or taking
part) and its assignments.  A personal feed shows the inspections of the
owner's department, those he scheduled and those on cases he coordinates; and
the assignments named to him, his department's not yet named to anyone, and
(a coordinator) those on cases he coordinates.

A feed leaves the system for calendar services outside it, so it carries no
complainant data, nor free text that might hold some (case titles,
instructions): a case is named by its reference, and the link leads to the
page, where the usual rules apply.  UIDs are per object and never change;
SEQUENCE is the inspection's version, so an edit replaces the event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlmodel import Session, col

from shared.assignments import status
from shared.assignments.models import Assignment
from shared.calendar_feeds.models import CalendarFeed, FeedKind
from shared.cases.models import Case
from shared.clock import Clock
from shared.departments.models import Department
from shared.i18n import N_, state_label, translate
from shared.inspections import listing
from shared.inspections.models import Inspection, InspectionStatus
from shared.scope import DEPARTMENT_ROLES, case_visible
from shared.settings import Settings
from shared.templating import normalise_language
from shared.users.models import Role, User

PAST_DAYS = 90
FUTURE_DAYS = 366
MAX_DEADLINES = 1000


def _inspections_involving(feed: CalendarFeed, owner: User) -> ColumnElement[bool]:
    if feed.kind == FeedKind.DEPARTMENT:
        return listing.involves_department(feed.department_id)  # type: ignore[arg-type]
    mine: list[ColumnElement[bool]] = [col(Inspection.created_by) == owner.id, col(Case.coordinator_id) == owner.id]
    if owner.role in DEPARTMENT_ROLES:
        mine.append(listing.involves_department(owner.department_id))
    return or_(*mine)


def _assignments_whose(feed: CalendarFeed, owner: User) -> ColumnElement[bool]:
    if feed.kind == FeedKind.DEPARTMENT:
        return col(Assignment.department_id) == feed.department_id
    mine: list[ColumnElement[bool]] = [col(Assignment.assignee_id) == owner.id]
    if owner.role in DEPARTMENT_ROLES:
        mine.append(and_(col(Assignment.department_id) == owner.department_id, col(Assignment.assignee_id).is_(None)))
    if owner.role == Role.COORDINATOR:
        mine.append(col(Case.coordinator_id) == owner.id)
    return or_(*mine) if mine else false()


def _deadlines(session: Session, feed: CalendarFeed, owner: User) -> list[tuple[int, str, int, datetime, str]]:
    stmt = (
        select(col(Assignment.id), col(Case.reference), col(Assignment.department_id),
               col(Assignment.feedback_due_at), col(Assignment.state))
        .join(Case, col(Case.id) == Assignment.case_id)
        .where(status.active_sql(), case_visible(owner, Assignment.case_id), _assignments_whose(feed, owner))
        .order_by(col(Assignment.feedback_due_at), col(Assignment.id))
        .limit(MAX_DEADLINES)
    )
    return [(i, ref, d, due, str(state)) for i, ref, d, due, state in session.execute(stmt).all()]


def _names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in session.scalars(select(Department))}  # type: ignore[misc]


def build(session: Session, clock: Clock, settings: Settings, feed: CalendarFeed, owner: User) -> bytes:
    lang = normalise_language(owner.language)
    now = clock.now()
    tz = settings.tz
    today = now.astimezone(tz).date()
    base = settings.base_url.rstrip("/")
    domain = urlsplit(base).hostname or "gongzhi"
    names = _names(session)

    cal = Calendar()
    cal.add("prodid", "-//Gongzhi//Inspections and deadlines//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    title_key = N_("ics.name.department") if feed.kind == FeedKind.DEPARTMENT else N_("ics.name.user")
    cal.add("x-wr-calname", translate(title_key, lang, name=owner.name,
                                      department=names.get(feed.department_id or 0, "")))
    cal.add("x-wr-timezone", settings.timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")

    for line in listing.between(session, owner, today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS),
                                involving=_inspections_involving(feed, owner)):
        cal.add_component(_inspection_event(line, lang, names, base, domain, now))
    for assignment_id, reference, department_id, due, state in _deadlines(session, feed, owner):
        cal.add_component(_deadline_event(assignment_id, reference, names.get(department_id, ""), due, state,
                                          lang, base, domain, now, settings))
    cal.add_missing_timezones()
    return cal.to_ical()  # type: ignore[no-any-return]


def _inspection_event(line: listing.InspectionLine, lang: str, names: dict[int, str], base: str, domain: str,
                      now: datetime) -> Event:
    event = Event()
    event.add("uid", f"inspection-{line.id}@{domain}")
    event.add("dtstamp", now)
    event.add("sequence", line.version)
    event.add("summary", translate("ics.inspection.summary", lang, title=line.title))
    event.add("dtstart", line.scheduled_on)
    event.add("dtend", line.scheduled_on + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    if line.place:
        event.add("location", line.place)
    event.add("status", "CANCELLED" if line.status == InspectionStatus.CANCELLED else "CONFIRMED")
    url = f"{base}/inspections/{line.id}"
    event.add("url", url)
    description = [
        translate("ics.inspection.case", lang, reference=line.case_reference),
        translate("ics.inspection.lead", lang, department=names.get(line.lead_department_id, "")),
    ]
    if line.targets:
        description.append(translate("ics.inspection.targets", lang, targets=line.targets))
    description.append(url)
    event.add("description", "\n".join(description))
    return event


def _deadline_event(assignment_id: int, reference: str, department: str, due: datetime, state: str, lang: str,
                    base: str, domain: str, now: datetime, settings: Settings) -> Event:
    event = Event()
    event.add("uid", f"assignment-{assignment_id}-feedback-due@{domain}")
    event.add("dtstamp", now)
    # The due time is the moment: an event without an end lasts no time (RFC 5545 3.6.1).
    event.add("dtstart", due.astimezone(settings.tz))
    event.add("transp", "TRANSPARENT")
    event.add("summary", translate("ics.deadline.summary", lang, reference=reference, department=department))
    url = f"{base}/assignments/{assignment_id}"
    event.add("url", url)
    event.add("description", "\n".join([
        translate("ics.deadline.description", lang, reference=reference, department=department,
                  state=state_label(state, lang)),
        url,
    ]))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", translate("ics.deadline.summary", lang, reference=reference, department=department))
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    return event
