"""Edit conflicts on page forms (services/api/pages/conflicts.py): someone else changed the record first.

The page answers 412 and changes nothing, shows what they changed (highlighted) next to what
was typed, and draws the form again with the typed text and the current version, so posting
it once more applies it.  Typed text is never lost, even when the form is no longer offered.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

from fastapi.responses import Response
from sqlmodel import Session, select

from services.api.pages import conflicts
from services.api.pages.common import PageDep
from services.api.pages.conflicts import Shown, parse_seen
from shared.assignments import service as assignments
from shared.assignments.models import AssignmentState
from shared.assignments.schemas import ExtensionIn, FeedbackIn
from shared.cases.models import Case, CaseStatus
from shared.errors import NotFound, Stale
from shared.feedback.models import Feedback
from shared.users.models import User
from tests.factories import World
from tests.test_pages import browser, form_fields, state_of, submit

NARRATIVE = "已约谈门店负责人，督促其制定退费方案；12 名会员已登记退费，挽回损失 3.6 万元。"


def panel(page: str) -> str:
    m = re.search(r'<section class="conflict card".*?</section>', page, re.S)
    assert m, "no conflict panel on the page"
    return htmllib.unescape(m.group(0))


def side(page: str, name: str) -> str:
    m = re.search(rf'<div class="conflict-{name}">(.*?)</div>\s*(?:<div class="conflict-|</div>)', panel(page), re.S)
    assert m, name
    return m.group(1)


def highlighted(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", h).strip() for h in re.findall(r"<mark>(.*?)</mark>", panel(page), re.S)]


def textarea(page: str, action: str, name: str) -> str:
    m = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>.*?<textarea[^>]*name="{name}"[^>]*>(.*?)'
                  r"</textarea>", page, re.S)
    assert m, f"no {name} in the form posting to {action}"
    return htmllib.unescape(m.group(1))


def accepted(session: Session, clock: Any, world: World, make_case: Any, dispatch: Any) -> Any:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    a = assignments.accept(session, clock, world.liaison("XFXH"), a.id, a.version)
    session.commit()
    return a


def test_feedback_typed_while_the_head_asked_for_more_time_is_kept_and_applies_on_resubmit(  # type: ignore[no-untyped-def]
        app: Any, world: World, session: Session, clock: Any, make_case, dispatch) -> None:
    a = accepted(session, clock, world, make_case, dispatch)
    path, action = f"/assignments/{a.id}", f"/assignments/{a.id}/feedback"
    liaison = browser(app, world.liaison("XFXH"))
    old_form = form_fields(liaison.get(path).text, action)  # the liaison starts writing …
    clock.advance(minutes=20)
    assignments.request_extension(session, clock, world.head("XFXH"), a.id, a.version,  # … the head asks for time
                                  ExtensionIn(extra_working_days=3, reason="等待检测机构出具报告"))
    session.commit()

    typed = {"narrative": NARRATIVE, "complaints_mediated": "12", "losses_recovered_yuan": "36,000"}
    r = liaison.post(action, data={**old_form, **typed})
    assert r.status_code == 412
    assert state_of(app, a.id) == (AssignmentState.ACCEPTED, 3)  # nothing submitted
    page = r.text
    assert "记录已被他人修改" in page
    # Their change, highlighted, with who did it …
    assert any("等待检测机构出具报告" in h for h in highlighted(page))
    theirs = side(page, "theirs")
    assert "申请延期" in theirs and world.head("XFXH").name in theirs
    assert "等待检测机构出具报告" not in side(page, "yours")
    # … next to what the liaison typed, labelled.
    yours = side(page, "yours")
    assert NARRATIVE in yours and "36,000" in yours and "调解投诉" in yours
    assert "检查企业" not in yours  # outcomes left at 0 are not listed (the form still has them)
    assert 'href="#form-submit"' in panel(page)
    # The form again: the text as typed, the current version, a fresh token.
    assert textarea(page, action, "narrative") == NARRATIVE
    again = form_fields(page, action)
    assert again["version"] == "3" and again["csrf_token"] != old_form["csrf_token"]

    r = liaison.post(action, data={**again, **typed})
    assert (r.status_code, r.headers["location"]) == (303, path)
    assert state_of(app, a.id)[0] == AssignmentState.SUBMITTED
    with Session(app.state.engine) as s:
        fb = s.exec(select(Feedback).where(Feedback.assignment_id == a.id)).one()  # type: ignore[arg-type]
        assert fb.narrative == NARRATIVE and fb.complaints_mediated == 12 and int(fb.losses_recovered_yuan) == 36000


def test_when_a_colleague_reported_first_both_reports_are_shown_and_nothing_is_lost(  # type: ignore[no-untyped-def]
        app: Any, world: World, session: Session, clock: Any, make_case, dispatch) -> None:
    a = accepted(session, clock, world, make_case, dispatch)
    path, action = f"/assignments/{a.id}", f"/assignments/{a.id}/feedback"
    liaison = browser(app, world.liaison("XFXH"))
    old_form = form_fields(liaison.get(path).text, action)
    assignments.submit_feedback(session, clock, world.head("XFXH"), a.id, a.version,
                                FeedbackIn(narrative="部门负责人已电话调解，商家同意全额退费"))
    session.commit()

    r = liaison.post(action, data={**old_form, "narrative": NARRATIVE})
    assert r.status_code == 412
    page = r.text
    assert any("部门负责人已电话调解" in h for h in highlighted(page))  # their report …
    assert any(h == "待审核" for h in highlighted(page))
    assert NARRATIVE in side(page, "yours")  # … and yours, side by side
    # The record no longer takes feedback: no form to re-apply, so the text stays on the page to copy.
    assert f'action="{action}"' not in page
    assert "此项操作已不能再办理" in panel(page) and "请复制留存" in panel(page)


def test_a_stale_case_form_shows_the_changed_work_and_closes_on_resubmit(  # type: ignore[no-untyped-def]
        app: Any, world: World, session: Session, clock: Any, make_case, dispatch) -> None:
    case = make_case()
    a = dispatch(case, "TYJ")
    path, action = f"/cases/{case.id}", f"/cases/{case.id}/close"
    tab1, tab2 = browser(app, world.coordinator), browser(app, world.coordinator)
    drawn = tab1.get(path).text
    assert "未办结任务 1 项" in drawn
    old_form = form_fields(drawn, action)
    assert submit(tab2, f"/assignments/{a.id}", f"/assignments/{a.id}/cancel", reason="重复派发").status_code == 303
    assert "未办结任务 0 项" in tab2.get(path).text

    note = "经核实已由体育局另案处理，本件办结。"
    r = tab1.post(action, data={**old_form, "note": note})
    assert r.status_code == 412
    page = r.text
    assert any("已撤销" in h for h in highlighted(page))
    assert "撤销任务" in side(page, "theirs") and "重复派发" in side(page, "theirs")
    assert "派发任务" not in side(page, "theirs")  # only what happened after the page was drawn
    assert note in side(page, "yours")
    assert textarea(page, action, "note") == note
    r = tab1.post(action, data={**form_fields(page, action), "note": note})
    assert r.status_code == 303
    with Session(app.state.engine) as s:
        row = s.get(Case, case.id)
        assert row is not None and row.status == CaseStatus.CLOSED


def test_preferences_changed_in_another_tab(app: Any, world: World) -> None:
    liaison = world.liaison("XFXH")
    tab1, tab2 = browser(app, liaison), browser(app, liaison)
    old_form = form_fields(tab1.get("/settings").text, "/settings/preferences")
    r = submit(tab2, "/settings", "/settings/preferences", language="zh-CN", notify_mode="immediate")
    assert r.status_code == 303

    r = tab1.post("/settings/preferences", data={**old_form, "language": "zh-CN", "notify_mode": "digest"})
    assert r.status_code == 412
    page = r.text
    assert highlighted(page) == ["逐条提醒：每个事项一封"]  # what tab 2 chose, by name …
    assert "汇总提醒：每轮一封" in side(page, "yours")  # … beside this tab's choice
    assert '<option value="digest" selected>' in page
    r = tab1.post("/settings/preferences", data={**form_fields(page, "/settings/preferences"),
                                                  "language": "zh-CN", "notify_mode": "digest"})
    assert r.status_code == 303
    with Session(app.state.engine) as s:
        user = s.get(User, liaison.id)
        assert user is not None and user.notify_mode == "digest" and user.version == 3


def test_a_form_without_what_it_showed_still_keeps_the_text(  # type: ignore[no-untyped-def]
        app: Any, world: World, session: Session, clock: Any, make_case, dispatch) -> None:
    """An old page (or a mangled field) posts no usable fingerprint: nothing is highlighted, nothing is lost."""
    a = accepted(session, clock, world, make_case, dispatch)
    path, action = f"/assignments/{a.id}", f"/assignments/{a.id}/feedback"
    liaison = browser(app, world.liaison("XFXH"))
    old_form = form_fields(liaison.get(path).text, action)
    assignments.request_extension(session, clock, world.head("XFXH"), a.id, a.version,
                                  ExtensionIn(extra_working_days=2, reason="等待报告"))
    session.commit()
    for seen in (None, "e=abc;state=zz", "x" * 5000):
        data = {**old_form, "narrative": NARRATIVE}
        if seen is None:
            data.pop("seen")
        else:
            data["seen"] = seen
        r = liaison.post(action, data=data)
        assert r.status_code == 412, seen
        assert highlighted(r.text) == [], seen
        assert "记录的当前内容" in panel(r.text) and "等待报告" in panel(r.text)
        assert NARRATIVE in side(r.text, "yours") and textarea(r.text, action, "narrative") == NARRATIVE


def test_a_record_gone_out_of_reach_meanwhile_still_gives_the_text_back(app: Any, world: World) -> None:
    """Say the change took the record out of this user's reach: a 404, but with what they typed."""
    def gone() -> None:
        raise NotFound()

    def handler(page: PageDep) -> Response:
        return conflicts.refuse(page, Stale(current=2), form={"narrative": NARRATIVE, "version": "1", "seen": "e=1"},
                                form_name="submit", template="assignments/detail.html", context=gone)

    app.router.add_api_route("/test-gone", handler)
    r = browser(app, world.liaison("XFXH")).get("/test-gone")
    assert r.status_code == 404
    assert NARRATIVE in side(r.text, "yours") and "请复制留存" in panel(r.text)


def test_a_refusal_that_is_not_a_conflict_shows_no_panel(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    path = f"/assignments/{a.id}"
    r = submit(browser(app, world.liaison("XFXH")), path, f"{path}/return", reason="other", note="")
    assert r.status_code == 422
    assert 'class="conflict' not in r.text


def test_the_fingerprint_names_each_field_and_the_newest_event() -> None:
    fields = [Shown("state", "状态", "办理中", raw="accepted"), Shown("feedback_due", "反馈期限", "12-08")]
    from services.api.pages.conflicts import Snapshot

    seen = Snapshot(fields=fields, last_event_id=41).seen
    parsed = parse_seen(seen)
    assert parsed is not None and parsed[0] == 41
    assert parsed[1] == {"state": fields[0].digest, "feedback_due": fields[1].digest}
    # The raw value is what counts: the same state shown in English has the same digest.
    assert Shown("state", "State", "In progress", raw="accepted").digest == fields[0].digest
    assert Shown("state", "状态", "待审核", raw="submitted").digest != fields[0].digest
