"""Complainant personal data: in full only for the lead department and coordinators."""

from __future__ import annotations

import pytest

from shared.cases.masking import mask_address, mask_id_number, mask_name, mask_phone


def test_mask_rules():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010119900307451X") == "1101**********451X"
    assert mask_address("江苏省南京市鼓楼区中山路1号").startswith("江苏省南京市")
    assert "中山路" not in mask_address("江苏省南京市鼓楼区中山路1号")  # type: ignore[operator]


FULL = {"name": "张三", "phone": "13812345678", "id_number": "11010119900307451X"}


@pytest.mark.parametrize(
    ("who", "masked"),
    [
        ("coordinator", False),
        ("liaison_scjg", False),  # lead department
        ("head_scjg", False),
        ("liaison_xfxh", True),  # shared with
        ("head_xfxh", True),
        ("leader", True),
        ("admin", True),
    ],
)
def test_case_detail_masks_for_everyone_but_lead_and_coordinators(api, world, make_case, who, masked):
    case = make_case(lead="SCJG", shared=("XFXH",))
    body = api.as_user(world.user(who)).get(f"/api/v1/cases/{case.id}").json()
    c = body["complainant"]
    assert c["masked"] is masked
    if masked:
        assert c["name"] == "张*" and c["phone"] == "138****5678" and c["id_number"] == "1101**********451X"
        assert "13812345678" not in str(body)
    else:
        assert {k: c[k] for k in FULL} == FULL


def test_lists_and_timeline_never_carry_personal_data(api, world, make_case):
    case = make_case(lead="SCJG", shared=("XFXH",))
    api.as_user(world.coordinator).patch(f"/api/v1/cases/{case.id}", json={"complainant_phone": "13900001111"},
                                         headers={"If-Match": '"1"'})
    for who in ("liaison_xfxh", "coordinator", "leader"):
        client = api.as_user(world.user(who))
        for url in ("/api/v1/cases", f"/api/v1/cases/{case.id}/timeline", "/api/v1/assignments"):
            text = client.get(url).text
            assert "13812345678" not in text and "13900001111" not in text and "张三" not in text, (who, url)


def test_unmasked_read_is_audited_masked_read_is_not(api, world, make_case):
    case = make_case(lead="SCJG", shared=("XFXH",))
    api.as_user(world.liaison("XFXH")).get(f"/api/v1/cases/{case.id}")
    api.as_user(world.liaison("SCJG")).get(f"/api/v1/cases/{case.id}")
    reads = api.as_user(world.admin).get("/api/v1/audit", params={"case_id": case.id}).json()["items"]
    assert [e["actor_id"] for e in reads] == [world.liaison("SCJG").id]
    assert reads[0]["action"] == "personal_data_read"
