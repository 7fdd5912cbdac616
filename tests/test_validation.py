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


# ------------------------------------------------------------------ unknown ids: 422 naming the field

def _inspection(world, case, **overrides):  # type: ignore[no-untyped-def]
    body = {"case_id": case.id, "title": "联合检查", "lead_department_id": world.dept("SCJG").id,
            "participant_department_ids": [world.dept("GAJ").id], "scheduled_on": "2026-12-03"}
    return {**body, **overrides}


@pytest.mark.parametrize(("override", "field", "named"), [
    ({"lead_department_id": 424242}, "lead_department_id", "424242"),
    ({"participant_department_ids": "GAJ+424242+434343"}, "participant_department_ids", "424242, 434343"),
    ({"campaign_id": 424242}, "campaign_id", "424242"),
    ({"case_id": 424242}, "case_id", "424242"),
])
def test_inspection_with_an_unknown_id_is_422_naming_the_field(api, world, make_case, override, field, named):
    case = make_case()
    if override.get("participant_department_ids") == "GAJ+424242+434343":
        override = {"participant_department_ids": [world.dept("GAJ").id, 424242, 434343]}
    client = api.as_user(world.coordinator)
    r = client.post("/api/v1/inspections", json=_inspection(world, case, **override))
    assert r.status_code == 422, r.text
    [error] = r.json()["error"]["fields"]
    assert error["field"] == field and named in error["reason"]
    # the kept-alive client goes on working, and nothing was created
    assert client.get(f"/api/v1/cases/{case.id}").json()["open_assignments"] == 0


def test_campaign_with_an_unknown_lead_department_is_422(api, world):
    r = api.as_user(world.coordinator).post("/api/v1/campaigns", json={
        "name": "守护安全消费", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "lead_department_id": 424242})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "lead_department_id"
    assert api.as_user(world.coordinator).get("/api/v1/campaigns").json() == []


def test_case_with_an_unknown_campaign_names_it(api, world):
    r = api.as_user(world.coordinator).post("/api/v1/cases", json={**VALID, "campaign_id": 424242})
    assert r.status_code == 422
    [error] = r.json()["error"]["fields"]
    assert error["field"] == "campaign_id" and "424242" in error["reason"]


@pytest.mark.parametrize(("body", "field"), [
    ({"department_id": 424242}, "department_id"),
    ({"department_id": "TYJ", "assignee_id": 424242}, "assignee_id"),
])
def test_dispatch_with_an_unknown_id_is_422_naming_the_field(api, world, make_case, body, field):
    case = make_case()
    if body["department_id"] == "TYJ":
        body = {**body, "department_id": world.dept("TYJ").id}
    r = api.as_user(world.coordinator).post(f"/api/v1/cases/{case.id}/assignments", json=body)
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == field


def test_user_in_an_unknown_department_is_422_naming_it(api, world):
    r = api.as_user(world.admin).post("/api/v1/users", json={
        "username": "newbie", "name": "新人", "email": "newbie@example.gov.cn", "department_id": 424242,
        "role": "liaison", "password": "a-long-password"})
    assert r.status_code == 422
    [error] = r.json()["error"]["fields"]
    assert error["field"] == "department_id" and "424242" in error["reason"]


# ------------------------------------------------------------------ strict numbers and flags

@pytest.mark.parametrize(("override", "field"), [
    ({"lead_department_id": True}, "lead_department_id"),
    ({"participant_department_ids": "first-then-true"}, "participant_department_ids[1]"),
    ({"working_days": False}, "working_days"),
    ({"working_days": "5"}, "working_days"),
    ({"case_id": 1.5}, "case_id"),
    ({"lead_department_id": "1"}, "lead_department_id"),
])
def test_ids_and_numbers_are_strict_in_json(api, world, make_case, override, field):
    case = make_case()
    if override.get("participant_department_ids") == "first-then-true":
        override = {"participant_department_ids": [world.dept("GAJ").id, True]}
    r = api.as_user(world.coordinator).post("/api/v1/inspections", json=_inspection(world, case, **override))
    assert r.status_code == 422, r.text
    fields = {f["field"]: f["reason"] for f in r.json()["error"]["fields"]}
    assert field in fields
    assert fields[field] == "应为整数"


def test_booleans_are_not_taken_for_numbers_nor_numbers_for_booleans(api, world, make_case):
    case = make_case()
    client = api.as_user(world.coordinator)
    headers = {"If-Match": f'"{case.version}"'}
    r = client.patch(f"/api/v1/cases/{case.id}", json={"is_typical": 1}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["fields"] == [{"field": "is_typical",
                                                                       "reason": "应为 true 或 false"}]
    r = client.post("/api/v1/cases", json={**VALID, "shared_with": [True]})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "shared_with[0]"


def test_money_as_a_decimal_string_is_fine_but_not_as_a_boolean(api, world, make_case, dispatch):
    a = dispatch(make_case(), "TYJ")
    liaison = api.as_user(world.liaison("TYJ"))
    v = liaison.post(f"/api/v1/assignments/{a.id}/accept", headers={"If-Match": f'"{a.version}"'}).json()["version"]
    refused = liaison.post(f"/api/v1/assignments/{a.id}/feedback", json={"narrative": "ok", "fines_yuan": True},
                           headers={"If-Match": f'"{v}"'})
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "fines_yuan"
    ok = liaison.post(f"/api/v1/assignments/{a.id}/feedback", json={"narrative": "ok", "fines_yuan": "5000.50"},
                      headers={"If-Match": f'"{v}"'})
    assert ok.status_code == 201 and ok.json()["fines_yuan"] == "5000.50"


def test_ids_in_the_query_and_the_path_are_still_read_from_text(api, world, make_case):
    case = make_case()
    client = api.as_user(world.coordinator)
    listed = client.get("/api/v1/cases", params={"lead_department_id": str(world.dept("SCJG").id)})
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["items"]] == [case.id]
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 200


# ------------------------------------------------------------------ text

@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/cases", {**VALID, "title": "预付卡\u0000跑路"}, "title"),
    ("/api/v1/cases", {**VALID, "complainant_name": "张\u0000三"}, "complainant_name"),
    ("/api/v1/campaigns", {"name": "专项\u0000", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}, "name"),
    # Other control characters: a Word or Excel report could not hold the text (XML 1.0).
    ("/api/v1/campaigns", {"name": "专项\u0001行动", "starts_on": "2026-12-01", "ends_on": "2026-12-31"}, "name"),
    ("/api/v1/cases", {**VALID, "description": "响铃\u0007"}, "description"),
])
def test_text_with_nul_is_refused_with_422(api, world, path, body, field):
    r = api.as_user(world.coordinator).post(path, json=body)
    assert r.status_code == 422
    [error] = r.json()["error"]["fields"]
    assert error["field"] == field and "控制字符" in error["reason"]


def test_nul_in_a_comment_is_refused_and_the_timeline_unchanged(api, world, make_case):
    case = make_case()
    client = api.as_user(world.coordinator)
    before = client.get(f"/api/v1/cases/{case.id}/timeline").json()
    r = client.post(f"/api/v1/cases/{case.id}/comments", json={"text": "a\u0000b"})
    assert r.status_code == 422
    assert client.get(f"/api/v1/cases/{case.id}/timeline").json() == before


def test_too_long_text_speaks_of_characters_and_a_too_long_list_of_items(api, world):
    client = api.as_user(world.coordinator)
    r = client.post("/api/v1/cases", json={**VALID, "title": "长" * 201, "shared_with": list(range(1, 102))})
    fields = {f["field"]: f["reason"] for f in r.json()["error"]["fields"]}
    assert "最多 200 个字符" in fields["title"]
    assert "最多 100 项" in fields["shared_with"] and "字符" not in fields["shared_with"]
    en = api.as_user(world.coordinator, lang="en").post("/api/v1/cases", json={**VALID,
                                                                               "shared_with": list(range(1, 102))})
    assert en.json()["error"]["fields"][0]["reason"] == "has too many items (at most 100)"


def test_rules_across_fields_name_the_field_not_the_body(api, world, make_case, dispatch):
    r = api.as_user(world.coordinator).post("/api/v1/campaigns", json={
        "name": "倒着的专项", "starts_on": "2026-12-31", "ends_on": "2026-12-01"})
    assert r.status_code == 422 and [f["field"] for f in r.json()["error"]["fields"]] == ["ends_on"]
    a = dispatch(make_case(), "TYJ")
    r = api.as_user(world.liaison("TYJ")).post(f"/api/v1/assignments/{a.id}/return", json={"reason": "other"},
                                               headers={"If-Match": f'"{a.version}"'})
    assert r.status_code == 422 and [f["field"] for f in r.json()["error"]["fields"]] == ["note"]


# ------------------------------------------------------------------ inspections in the past

def test_an_inspection_in_the_past_is_refused(api, world, make_case):
    # The clock says Tuesday 2026-12-01 in Shanghai.
    case = make_case()
    r = api.as_user(world.coordinator).post("/api/v1/inspections",
                                            json=_inspection(world, case, scheduled_on="2026-11-30"))
    assert r.status_code == 422
    [error] = r.json()["error"]["fields"]
    assert error["field"] == "scheduled_on" and "recorded_after_fact" in error["reason"]
    today = api.as_user(world.coordinator).post("/api/v1/inspections",
                                                json=_inspection(world, case, scheduled_on="2026-12-01"))
    assert today.status_code == 201


def test_an_inspection_recorded_after_the_fact_says_so_and_carries_its_record(api, world, make_case):
    case = make_case()
    client = api.as_user(world.coordinator)
    body = _inspection(world, case, scheduled_on="2026-11-20", recorded_after_fact=True)
    no_record = client.post("/api/v1/inspections", json=body)
    assert no_record.status_code == 422 and no_record.json()["error"]["fields"][0]["field"] == "record"
    future = client.post("/api/v1/inspections", json={**body, "scheduled_on": "2026-12-02", "record": "记录"})
    assert future.status_code == 422 and future.json()["error"]["fields"][0]["field"] == "scheduled_on"
    r = client.post("/api/v1/inspections", json={**body, "record": "11 月 20 日已联合检查 3 家门店"})
    assert r.status_code == 201, r.text
    assert r.json()["record"] == "11 月 20 日已联合检查 3 家门店" and r.json()["scheduled_on"] == "2026-11-20"
    scheduled = next(e for e in client.get(f"/api/v1/cases/{case.id}/timeline").json()["items"]
                     if e["object_type"] == "inspection" and e["action"] == "scheduled")
    assert scheduled["after"]["recorded_after_fact"] is True


def test_a_planned_inspection_cannot_be_moved_into_the_past(api, world, make_case):
    case = make_case()
    client = api.as_user(world.coordinator)
    ins = client.post("/api/v1/inspections", json=_inspection(world, case)).json()
    r = client.patch(f"/api/v1/inspections/{ins['id']}", json={"scheduled_on": "2026-11-01"},
                     headers={"If-Match": f'"{ins["version"]}"'})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "scheduled_on"
