from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from services.api.caching import NO_STORE_HEADERS
from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, LanguageDep, SessionDep, SettingsDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from services.api.routes.attachments import content_disposition
from shared.campaigns import service
from shared.campaigns.service import CampaignIn, CampaignPublic, CampaignUpdate
from shared.reports import campaign as campaign_report
from shared.reports.render import campaign_docx

router = api_router(tags=["campaigns"], route_class=IdempotentRoute)


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


@router.get(
    "/campaigns/{campaign_id}/summary.docx",
    response_class=Response,
    responses={200: {"content": {campaign_docx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
                     "description": "活动总结初稿 (Word) / the campaign summary draft"}},
)
def campaign_summary_docx(
    campaign_id: IdPath, session: SessionDep, clock: ClockDep, settings: SettingsDep, user: CurrentUser,
    accepted: LanguageDep,
    lang: Annotated[Literal["zh-CN", "en"] | None, Query(description="zh-CN | en; default: Accept-Language")] = None,
) -> Response:
    """活动总结: the campaign's figures drafted as a Word document in five parts, with 【待补充】 places
    for the author.  Coordinators, leaders and admins; a department taking part gets 403, others 404."""
    summary = campaign_report.summary(session, clock, user, campaign_id, settings)
    session.commit()  # nothing changed; end the read before rendering
    language = lang or accepted
    return Response(
        campaign_docx.render(summary, language),
        media_type=campaign_docx.MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(campaign_docx.file_name(summary, language)),
                 **NO_STORE_HEADERS},
    )
