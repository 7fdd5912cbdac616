"""Idempotency-Key: a creating POST sent twice creates once and answers the same both times."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import Session

from shared.idempotency import service as idempotency
from shared.idempotency.models import IdempotencyRecord


def _dispatch(client, case_id: int, dept_id: int, key: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/cases/{case_id}/assignments", headers={"Idempotency-Key": key},
                       json={"department_id": dept_id, "working_days": 5, "instructions": "核查经营资质", **extra})


def _assignments(client, case_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [a["id"] for a in client.get("/api/v1/assignments", params={"case_id": case_id}).json()["items"]]


def test_a_replayed_dispatch_creates_nothing_and_returns_the_first_answer(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    first = _dispatch(coord, case.id, world.dept("TYJ").id, "dispatch-tyj-1")
    assert first.status_code == 201, first.text
    again = _dispatch(coord, case.id, world.dept("TYJ").id, "dispatch-tyj-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _assignments(coord, case.id) == [first.json()["id"]]
    # Without the key the domain rule still stands: one open assignment per department.
    plain = coord.post(f"/api/v1/cases/{case.id}/assignments", json={"department_id": world.dept("TYJ").id})
    assert plain.status_code == 409


def test_same_key_with_another_body_is_refused_naming_the_header(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    assert _dispatch(coord, case.id, world.dept("TYJ").id, "k-1").status_code == 201
    other = _dispatch(coord, case.id, world.dept("GAJ").id, "k-1")
    assert other.status_code == 422
    error = other.json()["error"]
    assert error["fields"][0]["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in error["fields"][0]["reason"]
    english = api.as_user(world.coordinator, lang="en")
    other = _dispatch(english, case.id, world.dept("GAJ").id, "k-1")
    assert "already used for a different request" in other.json()["error"]["fields"][0]["reason"]
    assert _assignments(coord, case.id) == [_assignments(coord, case.id)[0]]


def test_comments_replayed_are_recorded_once(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    for _ in range(2):
        r = coord.post(f"/api/v1/cases/{case.id}/comments", json={"text": "请尽快反馈"},
                       headers={"Idempotency-Key": "comment-1"})
        assert r.status_code == 204
    timeline = coord.get(f"/api/v1/cases/{case.id}/timeline").json()["items"]
    assert [e["action"] for e in timeline].count("commented") == 1


def test_a_key_is_per_user_and_lasts_24_hours(api, world, make_case, clock):
    case = make_case()
    coord = api.as_user(world.coordinator)
    body = {"name": "预付卡专项", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}
    first = coord.post("/api/v1/campaigns", json=body, headers={"Idempotency-Key": "camp"})
    assert first.status_code == 201, first.text
    other_user = api.as_user(world.users["coordinator2"])
    theirs = other_user.post("/api/v1/campaigns", json={**body, "name": "消费维权专项"},
                             headers={"Idempotency-Key": "camp"})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]

    clock.advance(timedelta(hours=23))
    assert coord.post("/api/v1/campaigns", json=body,
                      headers={"Idempotency-Key": "camp"}).json()["id"] == first.json()["id"]
    clock.advance(timedelta(hours=2))
    later = coord.post("/api/v1/campaigns", json={**body, "name": "预付卡专项（二期）"},
                       headers={"Idempotency-Key": "camp"})
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert case  # the world has a case; campaigns do not need it


def test_a_failed_request_leaves_the_key_free(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    refused = _dispatch(coord, case.id, 999_999, "retry-me")
    assert refused.status_code == 422
    with Session(api.app.state.engine) as s:
        assert s.query(IdempotencyRecord).count() == 0


def test_upload_replayed_with_a_new_boundary_is_the_same_request(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    files = {"file": ("现场照片.txt", "检查记录：门店已停业".encode(), "text/plain")}
    first = coord.post(f"/api/v1/cases/{case.id}/attachments", files=files, headers={"Idempotency-Key": "up-1"})
    assert first.status_code == 201, first.text
    again = coord.post(f"/api/v1/cases/{case.id}/attachments", files=files, headers={"Idempotency-Key": "up-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    listed = coord.get(f"/api/v1/cases/{case.id}/attachments").json()["items"]
    assert len(listed) == 1


def test_concurrent_requests_with_one_key_create_once(api, world, make_case):
    case = make_case()
    clients = [api.as_user(world.coordinator) for _ in range(2)]
    barrier = threading.Barrier(2)
    answers: list[object] = [None, None]

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = _dispatch(clients[i], case.id, world.dept("TYJ").id, "same-time")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(a.status_code for a in answers)  # type: ignore[attr-defined]
    assert codes == [201, 201], [a.text for a in answers]  # type: ignore[attr-defined]
    assert answers[0].json() == answers[1].json()  # type: ignore[attr-defined]
    assert len(_assignments(clients[0], case.id)) == 1


def test_the_header_is_declared_in_openapi(api):
    spec = api.anonymous().get("/api/v1/openapi.json").json()
    params = spec["paths"]["/api/v1/cases/{case_id}/assignments"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)
    for path in ("/api/v1/cases", "/api/v1/inspections", "/api/v1/users", "/api/v1/cases/{case_id}/comments"):
        assert any(p["name"] == "Idempotency-Key" for p in spec["paths"][path]["post"]["parameters"])


def test_expired_rows_are_swept(session, world, clock):
    req = idempotency.Request(user_id=world.coordinator.id, key="old", method="POST", path="/x", fingerprint="0")
    record = idempotency.claim(session, req, clock.now())
    idempotency.complete(session, record, idempotency.Answer(201, {}, b"{}"))
    session.commit()
    assert idempotency.sweep(session, clock.now() + timedelta(hours=23)) == 0
    assert idempotency.sweep(session, clock.now() + timedelta(hours=24)) == 1
    session.commit()


def test_a_replayed_case_answer_is_still_never_cached(api, world):
    from tests.factories import case_input

    coord = api.as_user(world.coordinator)
    body = case_input(world, lead="SCJG", shared=("TYJ",)).model_dump(mode="json")
    first = coord.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "case-1"})
    assert first.status_code == 201, first.text
    again = coord.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "case-1"})
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers["Cache-Control"] == "no-store" == first.headers["Cache-Control"]
    assert coord.get("/api/v1/cases").json()["items"] == [coord.get("/api/v1/cases").json()["items"][0]]
