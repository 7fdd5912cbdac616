"""Imports every table so SQLModel.metadata is complete (Alembic, tests, create_all)."""

from sqlmodel import SQLModel

import shared.invalidation  # noqa: F401  (its triggers are created with the tables)
from shared.assignments.models import Assignment, AssignmentDispatch, AssignmentReturn, ExtensionRequest
from shared.attachments.models import Attachment
from shared.audit.models import AuditEntry
from shared.calendar.models import CalendarDay, CalendarYear
from shared.calendar_feeds.models import CalendarFeed
from shared.callbacks.models import Callback
from shared.campaigns.models import Campaign
from shared.cases.models import Case, CaseSequence, CaseShare
from shared.cases.search_table import CaseSearch
from shared.departments.models import Department
from shared.events.models import Event
from shared.feedback.models import Feedback
from shared.forms.models import FormTokenUse
from shared.idempotency.models import IdempotencyRecord
from shared.inspections.models import Inspection, InspectionParticipant
from shared.outbox.models import OutboxAttachment, OutboxMessage
from shared.reminders.models import ReminderNotice  # reminders/notifications helper
from shared.reports.archive_models import WeeklyReportDelivery, WeeklyReportRecord
from shared.supervision.models import AssignmentUrge
from shared.users.models import AuthToken, LoginAttempt, User

metadata = SQLModel.metadata

__all__ = [
    "Assignment",
    "AssignmentDispatch",
    "AssignmentReturn",
    "AssignmentUrge",
    "Attachment",
    "AuditEntry",
    "AuthToken",
    "CalendarDay",
    "CalendarFeed",
    "CalendarYear",
    "Callback",
    "Campaign",
    "Case",
    "CaseSearch",
    "CaseSequence",
    "CaseShare",
    "Department",
    "Event",
    "ExtensionRequest",
    "Feedback",
    "FormTokenUse",
    "IdempotencyRecord",
    "Inspection",
    "InspectionParticipant",
    "LoginAttempt",
    "OutboxAttachment",
    "OutboxMessage",
    "ReminderNotice",
    "User",
    "WeeklyReportDelivery",
    "WeeklyReportRecord",
    "metadata",
]
