"""Bad input: a clear error naming the field and the reason, in the user's language; nothing changes."""

from __future__ import annotations

import pytest

from tests.factories import credit_code

VALID = {"title": "某案件", "source": "hotline_12315", "category": "预付式消费"}


def test_missing_and_bad_fields_are_named_in_chinese(api, world):
    r = api.as_user(world.coordinator).post("/api/v1/cases", json={"source": "fax", "category": ""})
    assert r.status_code == 422
    fields = {f["field"]: f["reason"] for f in r.json()["error"]["fields"]}
    assert fields["title"] == "必填"
    assert "取值不在允许范围" in fields["source"]
    assert "过短" in fields["category"]
    assert r.json()["error"]["message"] == "输入校验未通过"


def test_errors_in_english_when_asked(api, world):
    r = api.as_user(world.coordinator, lang="en-US,en;q=0.9").post("/api/v1/cases", json={"source": "x"})
    fields = {f["field"]: f["reason"] for f in r.json()["error"]["fields"]}
    assert fields["title"] == "is required"
    assert r.json()["error"]["message"] == "Validation failed"


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91350100M00010OY43", "1234", "９１３５０１００M000100Y43"])
def test_credit_code_check_character(api, world, code):
    client = api.as_user(world.coordinator)
    r = client.post("/api/v1/cases", json={**VALID, "enterprise_credit_code": code})
    assert r.status_code == 422
    [field] = r.json()["error"]["fields"]
    assert field["field"] == "enterprise_credit_code"
    assert "统一社会信用代码无效" in field["reason"]
    assert client.get("/api/v1/cases").json()["items"] == []


def test_valid_credit_code_is_accepted_and_normalised(api, world):
    code = credit_code()
    r = api.as_user(world.coordinator).post("/api/v1/cases",
                                            json={**VALID, "enterprise_credit_code": code.lower()})
    assert r.status_code == 201 and r.json()["enterprise_credit_code"] == code


def test_unknown_department_is_422_not_500(api, world):
    r = api.as_user(world.coordinator).post("/api/v1/cases", json={**VALID, "shared_with": [424242]})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "shared_with"
    assert "424242" in r.json()["error"]["fields"][0]["reason"]


@pytest.mark.parametrize("body", [
    {"narrative": ""},
    {"narrative": "ok", "fines_yuan": "-1"},
    {"narrative": "ok", "fines_yuan": "12.345"},
    {"narrative": "ok", "cases_filed": -3},
    {"narrative": "ok", "complaints_mediated": "many"},
])
def test_bad_feedback_changes_nothing(api, world, make_case, dispatch, body):
    a = dispatch(make_case(), "TYJ")
    liaison = api.as_user(world.liaison("TYJ"))
    v = liaison.post(f"/api/v1/assignments/{a.id}/accept", headers={"If-Match": f'"{a.version}"'}).json()["version"]
    r = liaison.post(f"/api/v1/assignments/{a.id}/feedback", json=body, headers={"If-Match": f'"{v}"'})
    assert r.status_code == 422
    after = liaison.get(f"/api/v1/assignments/{a.id}").json()
    assert after["state"] == "accepted" and after["version"] == v
    assert liaison.get(f"/api/v1/assignments/{a.id}/feedback").json() == []


def test_malformed_if_match_and_json(api, world, make_case):
    case = make_case()
    client = api.as_user(world.coordinator)
    assert client.patch(f"/api/v1/cases/{case.id}", json={"title": "x"},
                        headers={"If-Match": "garbage"}).status_code == 412
    r = client.post("/api/v1/cases", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    huge_id = client.get("/api/v1/cases/99999999999999999999")
    assert huge_id.status_code in (404, 422)
