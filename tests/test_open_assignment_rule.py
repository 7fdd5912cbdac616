"""A department holds at most one open assignment per case, unless the dispatch says it is parallel work."""

from __future__ import annotations

from tests.test_workflow_api import post


def _dispatch(client, case_id: int, dept_id: int, **extra):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/cases/{case_id}/assignments",
                       json={"department_id": dept_id, "working_days": 5, "instructions": "核查经营资质", **extra})


def test_second_open_assignment_for_a_department_is_refused_naming_the_first(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    first = _dispatch(coord, case.id, world.dept("TYJ").id)
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]

    again = _dispatch(coord, case.id, world.dept("TYJ").id)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "assignment_already_open"
    assert error["params"]["assignment_id"] == first_id
    assert str(first_id) in error["message"] and "parallel" in error["message"]
    english = api.as_user(world.coordinator, lang="en").post(
        f"/api/v1/cases/{case.id}/assignments", json={"department_id": world.dept("TYJ").id})
    assert "already has an open assignment" in english.json()["error"]["message"]

    listed = coord.get("/api/v1/assignments", params={"case_id": case.id}).json()["items"]
    assert [a["id"] for a in listed] == [first_id]


def test_parallel_work_is_allowed_when_said_explicitly(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    assert _dispatch(coord, case.id, world.dept("TYJ").id).status_code == 201
    second = _dispatch(coord, case.id, world.dept("TYJ").id, parallel=True)
    assert second.status_code == 201, second.text
    # "parallel" must be said, not hinted: a string is not a yes.
    assert _dispatch(coord, case.id, world.dept("TYJ").id, parallel="yes").status_code == 422


def test_a_finished_assignment_does_not_block_the_next_one(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    a = _dispatch(coord, case.id, world.dept("TYJ").id).json()
    r = post(coord, f"/api/v1/assignments/{a['id']}/cancel", version=a["version"], json={"reason": "派错部门"})
    assert r.status_code == 200, r.text
    assert _dispatch(coord, case.id, world.dept("TYJ").id).status_code == 201


def test_redispatch_to_a_department_with_open_work_needs_parallel(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    busy = _dispatch(coord, case.id, world.dept("TYJ").id).json()
    a = _dispatch(coord, case.id, world.dept("GAJ").id).json()
    police = api.as_user(world.liaison("GAJ"))
    r = post(police, f"/api/v1/assignments/{a['id']}/return", version=a["version"],
             json={"reason": "not_our_jurisdiction"})
    assert r.status_code == 200, r.text
    returned = r.json()

    r = post(coord, f"/api/v1/assignments/{a['id']}/redispatch", version=returned["version"],
             json={"department_id": world.dept("TYJ").id})
    assert r.status_code == 409
    assert r.json()["error"]["params"]["assignment_id"] == busy["id"]

    r = post(coord, f"/api/v1/assignments/{a['id']}/redispatch", version=returned["version"],
             json={"department_id": world.dept("TYJ").id, "parallel": True})
    assert r.status_code == 200, r.text
    assert r.json()["department_id"] == world.dept("TYJ").id


def test_sharing_or_dispatching_changes_the_case_etag(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    url = f"/api/v1/cases/{case.id}"
    before = coord.get(url).headers["ETag"]

    r = post(coord, f"{url}/share", version=int(before.strip('"')), json={"department_ids": [world.dept("SWJ").id]})
    assert r.status_code == 200, r.text
    after_share = coord.get(url)
    assert after_share.headers["ETag"] != before
    stale = coord.patch(url, json={"title": "改名"}, headers={"If-Match": before})
    assert stale.status_code == 412

    assert _dispatch(coord, case.id, world.dept("TYJ").id).status_code == 201
    after_dispatch = coord.get(url)
    assert after_dispatch.json()["open_assignments"] == 1
    assert after_dispatch.headers["ETag"] != after_share.headers["ETag"]
    stale = coord.patch(url, json={"title": "改名"}, headers={"If-Match": after_share.headers["ETag"]})
    assert stale.status_code == 412
    fresh = coord.patch(url, json={"title": "改名"}, headers={"If-Match": after_dispatch.headers["ETag"]})
    assert fresh.status_code == 200
