"""The deadlines a dispatch gets: to accept, and to feed back, in working days from the dispatch.

Written once: `service.dispatch` and `redispatch` set them on the assignment, and
the dispatch form and `GET /cases/{id}/dispatch-preview` show them before anyone
submits (`plan.preview`), so what the coordinator was shown is what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from shared.calendar.rules import Deadline
from shared.calendar.service import working_calendar
from shared.settings import Settings, get_settings


@dataclass(frozen=True)
class DueDates:
    acceptance: Deadline
    feedback: Deadline

    @property
    def provisional(self) -> bool:
        """A counted day falls in a year without an official schedule (shared/calendar/rules.py)."""
        return self.acceptance.provisional or self.feedback.provisional


def due_dates(session: Session, start: datetime, working_days: int, settings: Settings | None = None) -> DueDates:
    settings = settings or get_settings()
    calendar = working_calendar(session, settings)
    return DueDates(acceptance=calendar.add_working_days(start, settings.acceptance_working_days),
                    feedback=calendar.add_working_days(start, working_days))
