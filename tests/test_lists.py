"""Lists: filters, sorting, keyset pagination, and the department queue."""

from __future__ import annotations

from datetime import timedelta

from shared.cases.models import CaseSource


def test_queue_buckets_and_counts(api, world, make_case, dispatch, clock, session):
    from shared.assignments import service as assignments

    case = make_case()
    waiting = dispatch(case, "XFXH", days=10)  # to accept
    progressing = dispatch(case, "XFXH", days=10)
    soon = dispatch(case, "XFXH", days=2)
    late = dispatch(case, "XFXH", days=1)
    submitted = dispatch(case, "XFXH", days=10)
    dispatch(case, "GAJ", days=1)  # someone else's: never in XFXH's queue
    liaison = world.liaison("XFXH")
    for a in (progressing, soon, late, submitted):
        assignments.accept(session, clock, liaison, a.id, a.version)
    from shared.assignments.schemas import FeedbackIn

    assignments.submit_feedback(session, clock, liaison, submitted.id, submitted.version,
                                FeedbackIn(narrative="已调解完毕"))
    session.commit()
    clock.advance(days=2)  # Thursday 10:00: "late" was due Wednesday 17:30
    q = api.as_user(liaison).get("/api/v1/queue").json()
    assert q["department_id"] == world.dept("XFXH").id
    assert q["counts"] == {"to_accept": 1, "in_progress": 3, "due_soon": 1, "overdue": 1,
                           "awaiting_signoff": 0, "awaiting_review": 1}
    ids = [i["id"] for i in q["items"]]
    assert ids[0] == late.id and set(ids) == {waiting.id, progressing.id, soon.id, late.id}
    overdue_item = q["items"][0]
    assert overdue_item["feedback_overdue"] is True and overdue_item["case_reference"] == case.reference


def test_filters(api, world, make_case, dispatch, clock):
    coord = api.as_user(world.coordinator)
    gym = make_case(title="健身房预付卡退费", enterprise_name="某某健身有限公司")
    food = make_case(title="餐饮门店食品安全", enterprise_name="某某餐饮管理有限公司", category="食品安全",
                     source=CaseSource.MEDIA)
    a1 = dispatch(gym, "TYJ", days=1)
    a2 = dispatch(food, "WJW", days=10)

    def ids(**params):  # type: ignore[no-untyped-def]
        r = coord.get("/api/v1/assignments", params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(q="健身") == [a1.id]
    assert ids(q="餐饮管理") == [a2.id]
    assert ids(category="食品安全") == [a2.id]
    assert ids(source="media") == [a2.id]
    assert ids(department_id=world.dept("TYJ").id) == [a1.id]
    assert ids(state="dispatched") == [a1.id, a2.id]
    assert ids(state="accepted") == []
    clock.advance(days=2)
    assert ids(overdue="true") == [a1.id]
    assert ids(overdue="false") == [a2.id]
    assert ids(due_before=(a2.feedback_due_at - timedelta(minutes=1)).isoformat()) == [a1.id]
    # LIKE wildcards in the search text are literal, not patterns.
    assert ids(q="%") == [] and ids(q="_") == []
    cases = coord.get("/api/v1/cases", params={"category": "食品安全"}).json()["items"]
    assert [c["id"] for c in cases] == [food.id]


def test_keyset_pagination_walks_everything_once(api, world, make_case, dispatch, clock):
    case = make_case()
    made = []
    for i in range(7):
        made.append(dispatch(case, "SWJ", days=3 + (i % 3)).id)
        clock.advance(minutes=1)
    coord = api.as_user(world.coordinator)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "sort": "-dispatched_at"}
        if cursor:
            params["cursor"] = cursor
        page = coord.get("/api/v1/assignments", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))
    bad = coord.get("/api/v1/assignments", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "cursor"
    bad_sort = coord.get("/api/v1/assignments", params={"sort": "password"})
    assert bad_sort.status_code == 422


def test_case_list_pagination(api, world, make_case, clock):
    made = []
    for i in range(5):
        made.append(make_case(title=f"案件{i}").id)
        clock.advance(minutes=5)
    coord = api.as_user(world.coordinator)
    answer = coord.get("/api/v1/cases", params={"limit": 2})
    # A list of cases is never kept by a browser or a proxy, and says what it is.
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"] == "application/json"
    first = answer.json()
    assert set(first["items"][0]) == {"id", "reference", "title", "source", "category", "region", "priority", "status",
                                      "enterprise_name", "enterprise_credit_code", "lead_department_id",
                                      "coordinator_id", "campaign_id", "is_typical", "created_at", "updated_at",
                                      "closed_at", "version"}
    second = coord.get("/api/v1/cases", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = coord.get("/api/v1/cases", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    got = [c["id"] for p in (first, second, third) for c in p["items"]]
    assert got == list(reversed(made)) and third["next_cursor"] is None


def test_a_case_shared_later_keeps_its_place_by_when_it_was_opened(api, world, make_case, clock, session):
    """A department's list mixes its own cases and those shared with it newest first by opening time:
    a case shared today that was opened last week pages among last week's, on every page."""
    from shared.cases import service as cases

    old = make_case(lead="SCJG", title="上周的案件")
    clock.advance(days=1)
    own = [make_case(lead="XFXH", title=f"本会案件{i}") for i in range(3)]
    clock.advance(days=5)
    cases.ensure_shared(session, clock, world.coordinator, old, [world.dept("XFXH").id])
    session.commit()
    liaison = api.as_user(world.liaison("XFXH"))
    got, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = liaison.get("/api/v1/cases", params=params).json()
        got += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert got == [c.id for c in reversed(own)] + [old.id]


def test_a_cases_timeline_pages_back_through_every_event_once(api, world, make_case, clock):
    """Newest first, LIMIT at a time; events of one instant (the clock stands still between some) by id."""
    case = make_case()
    coord = api.as_user(world.coordinator)
    for i in range(7):
        assert coord.post(f"/api/v1/cases/{case.id}/comments", json={"text": f"第{i}条"}).status_code == 204
        if i % 2:
            clock.advance(minutes=1)
    everything = coord.get(f"/api/v1/cases/{case.id}/timeline").json()
    assert everything["next_cursor"] is None
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = coord.get(f"/api/v1/cases/{case.id}/timeline", params=params).json()
        assert len(page["items"]) <= 3
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [e["id"] for e in everything["items"]] and len(seen) == len(set(seen)) >= 8
    comments = [e["after"]["text"] for e in everything["items"] if e["action"] == "commented"]
    assert comments == [f"第{i}条" for i in reversed(range(7))]


def test_a_case_list_shows_what_its_own_transaction_changed_before_flushing(world, make_case, session):  # type: ignore[no-untyped-def]
    """The list reads on the session's connection, past the ORM; what the session holds unwritten is
    written first, as the session's own queries would (autoflush)."""
    from shared.cases.models import Case
    from shared.cases.queries import CaseFilter, list_cases

    case = make_case(title="健身房预付卡退费")
    row = session.get(Case, case.id)
    row.title = "健身房预付卡退费（已改）"  # pending, not flushed
    titles = [c.title for c in list_cases(session, world.coordinator, CaseFilter(q="已改"))[0]]
    assert titles == ["健身房预付卡退费（已改）"]
    session.rollback()
