"""Departments and campaigns as pages name them and offer them, kept per process while neither table changes.

Nearly every page names departments, and the lists and forms offer departments
and campaigns to choose from; both tables change a few times a year.  On
PostgreSQL they are kept (shared.invalidation, kind REFERENCE: the tables'
triggers drop the copy at every commit that writes either, and a write committed
in this process drops it as it commits); on SQLite they are read every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import select
from sqlmodel import Session, col

from shared import invalidation
from shared.campaigns.models import Campaign
from shared.departments.models import Department

CAMPAIGN_CHOICES = 200  # the newest campaigns by start date a form offers


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Choices:
    names: Mapping[int, str]  # every department by id, active or not: old records name old departments
    departments: tuple[Choice, ...]  # the active departments, by id
    campaigns: tuple[Choice, ...]  # the newest CAMPAIGN_CHOICES campaigns by start date


def _read(session: Session) -> Choices:
    departments = session.execute(select(col(Department.id), col(Department.name), col(Department.active))
                                  .order_by(col(Department.id))).tuples().all()
    campaigns = session.execute(select(col(Campaign.id), col(Campaign.name))
                                .order_by(col(Campaign.starts_on).desc(), col(Campaign.id).desc())
                                .limit(CAMPAIGN_CHOICES)).tuples().all()
    return Choices(names=MappingProxyType({i: name for i, name, _ in departments}),
                   departments=tuple(Choice(i, name) for i, name, active in departments if active),
                   campaigns=tuple(Choice(i, name) for i, name in campaigns))


def choices(session: Session) -> Choices:
    store = invalidation.kept(session.get_bind().engine, "choices", invalidation.REFERENCE, 1)
    return invalidation.kept_or_read(store, session, 0, 0, lambda: _read(session))
