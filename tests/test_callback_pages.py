"""回访 from the case page: recorded by those the domain allows, refused answers explained beside their
field with the typed text kept, and 重办 in one step, checked against the callback's version."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.schemas import FeedbackIn
from shared.callbacks.models import Callback
from shared.cases import service as cases
from shared.cases.models import Case, CaseStatus
from shared.clock import FrozenClock
from tests.factories import World
from tests.test_pages import browser, form_fields, has_form

UNHAPPY = {"reached": "1", "attempts": "2", "satisfaction": "unsatisfied", "resolved": "0",
           "note": "门店仍未退费，投诉人不满意"}


def _approved(session: Session, clock: FrozenClock, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
              **case_fields: Any) -> tuple[Case, Assignment]:
    """A closed complaint case led by 市场监管局, its 体育局 assignment approved."""
    case = make_case(shared=("TYJ", "XFXH"), **case_fields)
    a = dispatch(case, "TYJ")
    liaison = world.liaison("TYJ")
    a = assignments.accept(session, clock, liaison, a.id, a.version)
    assignments.submit_feedback(session, clock, liaison, a.id, a.version,
                                FeedbackIn(narrative="已督促门店退费 12 笔。", complaints_mediated=12))
    a = assignments.approve(session, clock, world.coordinator, a.id, a.version, "同意")
    session.commit()
    case = cases.close_case(session, clock, world.coordinator, case.id,
                            session.get(Case, case.id).version, "已处理完毕")  # type: ignore[union-attr]
    session.commit()
    return case, a


def _callbacks(app: Any, case_id: int) -> list[Callback]:
    with Session(app.state.engine) as s:
        return list(s.scalars(select(Callback).where(Callback.case_id == case_id)))  # type: ignore[arg-type]


def _field_error(page: str, form: str, name: str) -> str:
    m = re.search(rf'<p class="field-error" id="err-{form}-{name}">([^<]*)</p>', page)
    assert m, f"no error beside {name}"
    return m.group(1)


def test_the_lead_department_records_a_callback_and_everyone_who_sees_the_case_reads_it(  # type: ignore[no-untyped-def]
    app: Any, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    case, a = _approved(session, clock, world, make_case, dispatch)
    path, action = f"/cases/{case.id}", f"/cases/{case.id}/callbacks"
    lead = browser(app, world.liaison("SCJG"))
    page = lead.get(path).text
    assert has_form(page, action) and "登记回访" in page
    r = lead.post(action, data={**form_fields(page, action), "reached": "1", "attempts": "1",
                                "satisfaction": "basically_satisfied", "resolved": "1", "note": "已退费，基本满意"})
    assert (r.status_code, r.headers["location"]) == (303, path)
    shown = lead.get(path).text
    assert "回访记录已保存" in shown and "基本满意" in shown and "已退费，基本满意" in shown
    [cb] = _callbacks(app, case.id)
    assert (cb.reached, cb.satisfaction, cb.resolved, cb.assignment_id, cb.made_by) == (
        True, "basically_satisfied", True, a.id, world.liaison("SCJG").id)

    # Not reached after three tries: no answers given, none stored.
    coordinator = browser(app, world.coordinator)
    page = coordinator.get(path).text
    r = coordinator.post(action, data={**form_fields(page, action), "reached": "0", "attempts": "3",
                                       "satisfaction": "", "resolved": "", "note": "三次拨打无人接听"})
    assert r.status_code == 303
    assert sorted((c.reached, c.attempts) for c in _callbacks(app, case.id)) == [(False, 3), (True, 1)]

    # The assigned department and the leader read the callbacks, but get no form.
    for reader in (world.liaison("TYJ"), world.leader):
        text = browser(app, reader).get(path).text
        assert "三次拨打无人接听" in text and "未联系上（拨打 3 次）" in text
        assert not has_form(text, action)
        assert "/rework" not in text  # both were fine: nothing to send back


def test_answers_that_do_not_fit_are_explained_beside_their_field_and_kept(  # type: ignore[no-untyped-def]
    app: Any, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    case, _a = _approved(session, clock, world, make_case, dispatch)
    path, action = f"/cases/{case.id}", f"/cases/{case.id}/callbacks"
    coordinator = browser(app, world.coordinator)
    fields = form_fields(coordinator.get(path).text, action)

    r = coordinator.post(action, data={**fields, "reached": "1", "attempts": "2", "satisfaction": "",
                                       "resolved": "0", "note": "投诉人称门店仍未退费"})
    assert r.status_code == 422
    assert _field_error(r.text, "callback", "satisfaction") == "联系上投诉人时须填写满意度"
    assert 'id="cb-sat" name="satisfaction" aria-invalid="true"' in r.text
    assert "投诉人称门店仍未退费</textarea>" in r.text  # the note typed is kept
    assert '<option value="0" selected>' in r.text and 'value="1" required checked' in r.text

    r = coordinator.post(action, data={**fields, "reached": "0", "attempts": "1", "satisfaction": "satisfied",
                                       "resolved": "", "note": ""})
    assert r.status_code == 422 and "未联系上投诉人时不能填写" in _field_error(r.text, "callback", "satisfaction")

    r = coordinator.post(action, data={**fields, "attempts": "0", "satisfaction": "", "resolved": ""})
    assert r.status_code == 422  # neither reached nor not: the choice is required, and 0 tries is none
    _field_error(r.text, "callback", "reached")
    _field_error(r.text, "callback", "attempts")
    assert _callbacks(app, case.id) == []

    # Refusals did not use the form up: corrected, the same form records once.
    r = coordinator.post(action, data={**fields, **UNHAPPY})
    assert r.status_code == 303 and len(_callbacks(app, case.id)) == 1


def test_no_form_and_no_callback_before_approval_or_on_a_case_without_a_complainant(  # type: ignore[no-untyped-def]
    app: Any, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    pending = make_case(shared=("TYJ",))
    dispatch(pending, "TYJ")
    coordinator = browser(app, world.coordinator)
    page = coordinator.get(f"/cases/{pending.id}").text
    assert not has_form(page, f"/cases/{pending.id}/callbacks") and "反馈经审核通过后" in page
    # Posted anyway (with the comment form's token): the domain's 409, nothing recorded.
    r = coordinator.post(f"/cases/{pending.id}/callbacks",
                         data={**form_fields(page, f"/cases/{pending.id}/comment"), **UNHAPPY})
    assert r.status_code == 409 and "审核通过" in r.text
    assert _callbacks(app, pending.id) == []

    inspection, _a = _approved(session, clock, world, make_case, dispatch, source="inspection")
    page = coordinator.get(f"/cases/{inspection.id}").text
    assert not has_form(page, f"/cases/{inspection.id}/callbacks") and 'id="cb-h"' not in page


def test_others_cannot_record_or_send_back(  # type: ignore[no-untyped-def]
    app: Any, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    case, a = _approved(session, clock, world, make_case, dispatch)
    path, action = f"/cases/{case.id}", f"/cases/{case.id}/callbacks"
    # A liaison of a department the case is shared with sees the case but may not record: 403.
    for name in ("XFXH", "TYJ"):
        attacker = browser(app, world.liaison(name))
        page = attacker.get(path).text
        assert not has_form(page, action)
        r = attacker.post(action, data={**form_fields(page, f"{path}/comment"), **UNHAPPY})
        assert r.status_code == 403, (name, r.status_code)
    # A department the case is not shared with cannot tell it exists: 404, like a missing case.
    outsider = browser(app, world.liaison("SWJ"))
    fields = form_fields(outsider.get("/settings").text, "/settings/password")
    r = outsider.post(action, data={**fields, **UNHAPPY})
    assert r.status_code == 404
    assert outsider.post("/cases/999999/callbacks", data={**fields, **UNHAPPY}).status_code == 404
    assert _callbacks(app, case.id) == []

    # The lead department records an unhappy callback, but 重办 is the coordinator's.
    lead = browser(app, world.liaison("SCJG"))
    page = lead.get(path).text
    assert lead.post(action, data={**form_fields(page, action), **UNHAPPY}).status_code == 303
    [cb] = _callbacks(app, case.id)
    page = lead.get(path).text
    assert not has_form(page, f"/callbacks/{cb.id}/rework")
    r = lead.post(f"/callbacks/{cb.id}/rework",
                  data={**form_fields(page, f"{path}/comment"), "version": "1", "reason": "重新办理"})
    assert r.status_code == 403
    r = outsider.post(f"/callbacks/{cb.id}/rework", data={**fields, "version": "1", "reason": "重新办理"})
    assert r.status_code == 404
    with Session(app.state.engine) as s:
        assert s.get(Assignment, a.id).state == AssignmentState.DONE  # type: ignore[union-attr]
        assert s.get(Case, case.id).status == CaseStatus.CLOSED  # type: ignore[union-attr]


def test_rework_reopens_and_sends_back_once_and_a_stale_form_keeps_the_reason_typed(  # type: ignore[no-untyped-def]
    app: Any, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    case, a = _approved(session, clock, world, make_case, dispatch)
    path = f"/cases/{case.id}"
    tab1, tab2 = browser(app, world.coordinator), browser(app, world.coordinator)
    page = tab1.get(path).text
    assert tab1.post(f"{path}/callbacks", data={**form_fields(page, f"{path}/callbacks"), **UNHAPPY}).status_code == 303
    [cb] = _callbacks(app, case.id)
    rework = f"/callbacks/{cb.id}/rework"
    page1, page2 = tab1.get(path).text, tab2.get(path).text
    assert has_form(page1, rework) and "重办：体育局 任务" in page1

    # An empty reason is refused beside the field; nothing moves.
    r = tab1.post(rework, data={**form_fields(page1, rework), "reason": "", "working_days": "3"})
    assert r.status_code == 422 and _field_error(r.text, f"rework-{cb.id}", "reason")

    r = tab1.post(rework, data={**form_fields(page1, rework), "reason": "投诉人反映仍未退费，请重新核查",
                                "working_days": "3"})
    assert (r.status_code, r.headers["location"]) == (303, path)
    shown = tab1.get(path).text
    assert "已重新打开并退回承办部门重办" in shown and "已重办" in shown and not has_form(shown, rework)
    with Session(app.state.engine) as s:
        assert s.get(Assignment, a.id).state == AssignmentState.ACCEPTED  # type: ignore[union-attr]
        assert s.get(Case, case.id).status == CaseStatus.OPEN  # type: ignore[union-attr]
        reopened = s.scalar(select(func.count()).select_from(Callback).where(
            Callback.reworked_at.is_not(None)))  # type: ignore[union-attr]
    assert reopened == 1

    # The second tab still shows the old form: its version is stale.  What it typed comes back,
    # beside what the first tab did; nothing is sent back twice.
    r = tab2.post(rework, data={**form_fields(page2, rework), "reason": "第二次重办的理由", "working_days": ""})
    assert r.status_code == 412
    assert 'id="conflict"' in r.text and "第二次重办的理由" in r.text
    assert not has_form(r.text, rework)
    with Session(app.state.engine) as s:
        assert s.get(Callback, cb.id).version == 2  # type: ignore[union-attr]
