from __future__ import annotations

from fastapi import APIRouter, Response

from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from shared.campaigns import service
from shared.campaigns.service import CampaignIn, CampaignPublic, CampaignUpdate

router = APIRouter(tags=["campaigns"], route_class=IdempotentRoute)


@router.get("/campaigns", response_model=list[CampaignPublic])
def list_campaigns(session: SessionDep, _user: CurrentUser) -> list[CampaignPublic]:
    return [CampaignPublic.model_validate(c, from_attributes=True) for c in service.list_all(session)]


@router.post("/campaigns", dependencies=[Idempotent], response_model=CampaignPublic, status_code=201)
def create_campaign(body: CampaignIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
                    response: Response) -> CampaignPublic:
    """专项行动"""
    campaign = service.create(session, clock, user, body)
    session.commit()
    response.headers["ETag"] = etag(campaign.version)
    return CampaignPublic.model_validate(campaign, from_attributes=True)


@router.get("/campaigns/{campaign_id}", response_model=CampaignPublic)
def get_campaign(campaign_id: IdPath, session: SessionDep, _user: CurrentUser, response: Response) -> CampaignPublic:
    campaign = service.get(session, campaign_id)
    response.headers["ETag"] = etag(campaign.version)
    return CampaignPublic.model_validate(campaign, from_attributes=True)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignPublic)
def update_campaign(campaign_id: IdPath, body: CampaignUpdate, session: SessionDep, clock: ClockDep,
                    user: CurrentUser, version: IfMatch, response: Response) -> CampaignPublic:
    campaign = service.update(session, clock, user, campaign_id, version, body)
    session.commit()
    response.headers["ETag"] = etag(campaign.version)
    return CampaignPublic.model_validate(campaign, from_attributes=True)
