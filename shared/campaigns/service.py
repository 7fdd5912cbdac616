"""专项行动: cases and inspections can belong to a campaign."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlmodel import Session, col

from shared import references
from shared.campaigns.models import Campaign
from shared.clock import Clock
from shared.errors import Invalid, NotFound
from shared.events import service as events
from shared.ids import DbId
from shared.inputs import Input
from shared.scope import require_role
from shared.users.models import Role, User
from shared.versioning import bump, check_version


class CampaignIn(Input):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    starts_on: date
    ends_on: date
    lead_department_id: DbId | None = None

    @field_validator("ends_on")
    @classmethod
    def _dates(cls, ends_on: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on is not None and ends_on < starts_on:
            raise ValueError("ends_before_start")
        return ends_on


class CampaignUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    starts_on: date | None = None
    ends_on: date | None = None


class CampaignPublic(CampaignIn):
    id: int
    created_at: datetime
    version: int


def create(session: Session, clock: Clock, actor: User, data: CampaignIn) -> Campaign:
    require_role(actor, Role.COORDINATOR, Role.ADMIN)
    if session.scalar(select(col(Campaign.id)).where(col(Campaign.name) == data.name)) is not None:  # type: ignore[arg-type]
        raise Invalid("name", "name_taken")
    if data.lead_department_id is not None:
        references.require_department(session, data.lead_department_id, "lead_department_id")
    campaign = Campaign(**data.model_dump(), created_at=clock.now())
    session.add(campaign)
    session.flush()
    events.record(session, clock, actor, "campaign", campaign.id, "created", after=data.model_dump())
    return campaign


def update(session: Session, clock: Clock, actor: User, campaign_id: int, version: int,
           data: CampaignUpdate) -> Campaign:
    require_role(actor, Role.COORDINATOR, Role.ADMIN)
    campaign = get(session, campaign_id, for_update=True)
    check_version(campaign, version)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "starts_on", "ends_on"):  # a campaign always has them: null clears nothing
        if name in changes and changes[name] is None:
            raise Invalid(name, "field_required")
    before, after = events.diff(campaign, changes)
    for name, value in after.items():
        setattr(campaign, name, value)
    if campaign.ends_on < campaign.starts_on:
        raise Invalid("ends_on", "ends_before_start")
    if after:
        bump(campaign)
        events.record(session, clock, actor, "campaign", campaign.id, "updated", before=before, after=after)
    session.flush()
    return campaign


def get(session: Session, campaign_id: int, *, for_update: bool = False) -> Campaign:
    stmt = select(Campaign).where(Campaign.id == campaign_id)  # type: ignore[arg-type]
    campaign = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if campaign is None:
        raise NotFound()
    return campaign


def list_all(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(col(Campaign.starts_on).desc(), col(Campaign.id))))
