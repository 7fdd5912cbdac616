"""Department isolation, tested as an attacker would: role × own / shared / unshared case.

"Own" is a case led by the user's department, "shared" one shared with it,
"unshared" one it has nothing to do with.  An unshared case does not exist
for a department user: every route answers 404, never 403.
"""

from __future__ import annotations

import pytest

RELATIONS = ("own", "shared", "unshared")


@pytest.fixture
def cases_for(world, make_case):  # type: ignore[no-untyped-def]
    """Three cases seen from the consumer association (XFXH)."""
    return {
        "own": make_case(lead="XFXH", title="消协牵头案件"),
        "shared": make_case(lead="SCJG", shared=("XFXH",), title="共享给消协的案件"),
        "unshared": make_case(lead="SCJG", shared=("GAJ",), title="与消协无关的案件"),
    }


# who → relation → expected status of GET /cases/{id}
READ = {
    "liaison_xfxh": {"own": 200, "shared": 200, "unshared": 404},
    "head_xfxh": {"own": 200, "shared": 200, "unshared": 404},
    "liaison_wjw": {"own": 404, "shared": 404, "unshared": 404},
    "coordinator": {"own": 200, "shared": 200, "unshared": 200},
    "coordinator2": {"own": 200, "shared": 200, "unshared": 200},
    "leader": {"own": 200, "shared": 200, "unshared": 200},
    "admin": {"own": 200, "shared": 200, "unshared": 200},
}

# PATCH /cases/{id}: only the case's coordinator (or a coordinator of its lead department).
WRITE = {
    "liaison_xfxh": {"own": 403, "shared": 403, "unshared": 404},
    "head_xfxh": {"own": 403, "shared": 403, "unshared": 404},
    "liaison_wjw": {"own": 404, "shared": 404, "unshared": 404},
    "coordinator": {"own": 200, "shared": 200, "unshared": 200},
    "coordinator2": {"own": 200, "shared": 403, "unshared": 403},  # XFXH coordinator: lead of "own" only
    "leader": {"own": 403, "shared": 403, "unshared": 403},
    "admin": {"own": 403, "shared": 403, "unshared": 403},
}


@pytest.mark.parametrize("who", list(READ))
def test_read_and_list(api, world, cases_for, who):
    client = api.as_user(world.user(who))
    listed = {c["id"] for c in client.get("/api/v1/cases").json()["items"]}
    for relation in RELATIONS:
        case = cases_for[relation]
        expected = READ[who][relation]
        assert client.get(f"/api/v1/cases/{case.id}").status_code == expected, (who, relation)
        assert client.get(f"/api/v1/cases/{case.id}/timeline").status_code == expected, (who, relation)
        assert (case.id in listed) is (expected == 200), (who, relation)


@pytest.mark.parametrize("who", list(WRITE))
def test_write(api, world, cases_for, who):
    client = api.as_user(world.user(who))
    for relation in RELATIONS:
        case = cases_for[relation]
        r = client.patch(f"/api/v1/cases/{case.id}", json={"priority": "high"}, headers={"If-Match": '"1"'})
        assert r.status_code == WRITE[who][relation], (who, relation, r.text)
        r = client.post(f"/api/v1/cases/{case.id}/assignments", json={"department_id": world.dept("TYJ").id})
        dispatch_expected = {200: 201}.get(WRITE[who][relation], WRITE[who][relation])
        assert r.status_code == dispatch_expected, (who, relation, r.text)


def test_only_the_assigned_department_acts_on_its_assignment(api, world, make_case, dispatch):
    case = make_case(lead="SCJG", shared=("XFXH", "GAJ"))
    a = dispatch(case, "XFXH")
    expectations = {
        "liaison_scjg": 403,  # lead department, not the assigned one
        "liaison_gaj": 403,  # shared, not assigned
        "liaison_wjw": 404,  # not even visible
        "coordinator": 403,  # coordinators review; they do not accept for a department
        "leader": 403,
        "admin": 403,
        "liaison_xfxh": 200,
    }
    for who, expected in expectations.items():
        r = api.as_user(world.user(who)).post(f"/api/v1/assignments/{a.id}/accept", headers={"If-Match": '"1"'})
        assert r.status_code == expected, (who, r.text)


def test_probing_ids_reveals_nothing(api, world, make_case, dispatch):
    case = make_case(lead="SCJG")
    a = dispatch(case, "GAJ")
    outsider = api.as_user(world.liaison("WJW"))
    missing_case = outsider.get("/api/v1/cases/999999")
    hidden_case = outsider.get(f"/api/v1/cases/{case.id}")
    assert missing_case.status_code == hidden_case.status_code == 404
    assert missing_case.json() == hidden_case.json()
    for url in (f"/api/v1/assignments/{a.id}", f"/api/v1/assignments/{a.id}/feedback",
                f"/api/v1/assignments/{a.id}/extensions"):
        assert outsider.get(url).status_code == 404
    listed = outsider.get("/api/v1/assignments", params={"case_id": case.id}).json()["items"]
    assert listed == []
    # Asking for another department's queue is refused outright.
    assert outsider.get("/api/v1/queue", params={"department_id": world.dept("GAJ").id}).status_code == 403


def test_forged_or_expired_tokens_are_refused(api, world, clock):
    client = api.anonymous()
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer forged"}).status_code == 401
    ok = api.as_user(world.liaison("XFXH"))
    assert ok.get("/api/v1/me").status_code == 200
    clock.advance(hours=24 * 60 + 1)
    assert ok.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("who", list(READ))
def test_attachment_download(api, world, cases_for, who):
    """Evidence follows the case: downloadable exactly where the case is readable."""
    from tests.test_attachments import pdf_bytes, upload

    coordinator = api.as_user(world.coordinator)
    attachment_ids = {}
    for relation in RELATIONS:
        r = upload(coordinator, f"/api/v1/cases/{cases_for[relation].id}/attachments", "现场检查笔录.pdf", pdf_bytes())
        assert r.status_code == 201, r.text
        attachment_ids[relation] = r.json()["id"]
    client = api.as_user(world.user(who))
    for relation in RELATIONS:
        expected = READ[who][relation]
        r = client.get(f"/api/v1/attachments/{attachment_ids[relation]}/content")
        assert r.status_code == expected, (who, relation)
        if expected == 200:
            assert r.content == pdf_bytes()
        assert client.get(f"/api/v1/attachments/{attachment_ids[relation]}").status_code == expected


def test_session_cookie_reads_but_cannot_change_through_the_api(api, world, make_case):
    """A browser sends the cookie with any cross-site request: API changes need the bearer token."""
    case = make_case()
    token = api.as_user(world.coordinator).headers["Authorization"].split()[1]
    browser = api.anonymous()
    browser.cookies.set("gongzhi_session", token)
    assert browser.get(f"/api/v1/cases/{case.id}").status_code == 200
    r = browser.patch(f"/api/v1/cases/{case.id}", json={"title": "被篡改"}, headers={"If-Match": '"1"'})
    assert r.status_code == 401
    r = browser.post("/api/v1/cases", json={"title": "伪造", "source": "other", "category": "x"})
    assert r.status_code == 401
