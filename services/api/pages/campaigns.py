"""The campaign page (专项行动): read-only facts, the summary's main figures and its Word download.

Who sees what is decided in shared/reports/campaign.py: a department taking
part sees the campaign's facts; the figures and the download, which span every
department, are for coordinators, leaders and admins; to anyone else the
campaign does not exist (404).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from services.api.pages.common import Page, PageDep, detail_page
from services.api.path_gate import PathGate
from shared.departments.models import Department
from shared.reports import campaign as campaign_report

router = PathGate()


def campaign_context(page: Page, campaign_id: int) -> dict[str, Any]:
    assert page.user is not None
    campaign = campaign_report.campaign_for_read(page.session, page.user, campaign_id)
    summary = None
    if campaign_report.may_read_summary(page.user):
        summary = campaign_report.summary(page.session, page.clock, page.user, campaign_id, page.settings)
    lead = page.session.get(Department, campaign.lead_department_id) if campaign.lead_department_id else None
    return {
        "campaign": campaign,
        "lead_name": lead.name if lead else "",
        "summary": summary,
        "download_url": f"/api/v1/campaigns/{campaign_id}/summary.docx",
    }


@router.get("/campaigns/{campaign_id}")
def campaign_page(page: PageDep, campaign_id: str) -> Response:
    return detail_page(page, campaign_id, campaign_context, "campaigns/detail.html")
