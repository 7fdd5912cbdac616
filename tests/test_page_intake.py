"""Case intake, editing, sharing, the typical-case flag and file uploads from the pages (issue 10 §1, §5).

Driven like a browser: GET the page, post its form (multipart where it carries
files).  Runs on SQLite and PostgreSQL.  Chromium drives the same forms, with
and without JavaScript, in tests/test_browser_intake.py.
"""

from __future__ import annotations

import asyncio
import html as htmllib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from services.api.pages import multipart
from shared.assignments import service as assignments
from shared.assignments.models import Assignment, AssignmentState
from shared.attachments.models import Attachment, OwnerKind
from shared.attachments.storage import Storage
from shared.cases.credit_code import with_check_character
from shared.cases.models import Case, CaseShare
from shared.errors import TooLarge
from shared.events.models import Event
from shared.feedback.models import Feedback
from tests.factories import World
from tests.test_attachments import docm_bytes, pdf_bytes, png_bytes
from tests.test_pages import browser, form_fields

GOOD_CODE = "91350100M000100Y43"
BAD_CODE = "91350100M000100Y44"  # one character off: the check character no longer fits


@pytest.fixture(autouse=True)
def _no_broker(app: Any) -> Any:
    from tests.relay_kicks import counting_kicks

    with counting_kicks() as calls:
        yield calls


def count(app: Any, model: Any, *where: Any) -> int:
    with Session(app.state.engine) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def stored_files(app: Any) -> list[Path]:
    root = app.state.settings.upload_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def new_case_fields(world: World, **overrides: Any) -> dict[str, Any]:
    return {"title": "某健身连锁预付卡卷款跑路", "source": "hotline_12315", "category": "预付式消费",
            "region": "鼓楼区", "priority": "high", "enterprise_name": "福州某健身有限公司",
            "enterprise_credit_code": GOOD_CODE, "complainant_name": "张三", "complainant_phone": "13800138000",
            "description": "多名消费者反映会员卡无法使用，门店已关闭。",
            "lead_department_id": str(world.dept("SCJG").id),
            "shared_with": [str(world.dept("XFXH").id), str(world.dept("TYJ").id)], **overrides}


def post_new(client: Any, fields: dict[str, Any], files: list[tuple[str, bytes]] | None = None) -> Any:
    page = client.get("/cases/new")
    assert page.status_code == 200, page.text
    token = form_fields(page.text, "/cases/new")
    parts = [("files", (name, content, "application/octet-stream")) for name, content in files or []]
    # Always multipart, as the browser sends this form (an empty file part when nothing is chosen).
    parts = parts or [("files", ("", b"", "application/octet-stream"))]
    return client.post("/cases/new", data={**token, **fields}, files=parts)


def textarea(page: str, name: str) -> str:
    m = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert m, name
    return htmllib.unescape(m.group(1))


# ------------------------------------------------------------------ opening a case

def test_a_coordinator_opens_a_case_with_two_files_and_it_is_in_the_list(app: Any, world: World) -> None:
    client = browser(app, world.coordinator)
    assert 'href="/cases/new"' in client.get("/cases").text  # the list offers it to whoever may open
    r = post_new(client, new_case_fields(world), [("投诉材料.pdf", pdf_bytes()), ("现场照片.png", png_bytes())])
    assert r.status_code == 303, r.text
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(r.headers["location"]).text
    assert "已开案，案件编号 GZ-2026-" in page
    assert "投诉材料.pdf" in page and "现场照片.png" in page
    with Session(app.state.engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and case.enterprise_credit_code == GOOD_CODE
        assert case.coordinator_id == world.coordinator.id
        shared = set(s.scalars(select(CaseShare.department_id).where(CaseShare.case_id == case_id)))
        assert shared == {world.dept("XFXH").id, world.dept("TYJ").id}
    assert count(app, Attachment, Attachment.case_id == case_id, Attachment.owner_kind == OwnerKind.CASE) == 2
    assert case.reference in client.get("/cases").text


def test_a_bad_credit_code_is_refused_beside_the_field_and_nothing_is_opened(app: Any, world: World) -> None:
    client = browser(app, world.coordinator)
    r = post_new(client, new_case_fields(world, enterprise_credit_code=BAD_CODE),
                 [("投诉材料.pdf", pdf_bytes())])
    assert r.status_code == 422
    beside = re.search(r'<p id="nc-enterprise_credit_code-err" class="field-error">([^<]+)</p>', r.text)
    assert beside and "统一社会信用代码无效" in beside.group(1)
    assert 'aria-invalid="true"' in r.text
    assert "某健身连锁预付卡卷款跑路" in r.text and textarea(r.text, "description").startswith("多名消费者")
    assert count(app, Case) == 0 and count(app, Attachment) == 0 and stored_files(app) == []
    # Corrected, the same page opens it.
    r = post_new(client, new_case_fields(world, enterprise_credit_code=GOOD_CODE.lower()))
    assert r.status_code == 303 and count(app, Case) == 1


def test_missing_fields_are_named_beside_each_field_in_english_too(app: Any, world: World, session: Session) -> None:
    from shared.users.models import User

    row = session.get(User, world.coordinator.id)
    row.language = "en"  # type: ignore[union-attr]
    session.commit()
    client = browser(app, world.coordinator)
    r = post_new(client, new_case_fields(world, title="", category="", complainant_phone="电话"))
    assert r.status_code == 422
    for name in ("title", "category", "complainant_phone"):
        assert f'id="nc-{name}-err"' in r.text, name
    assert "Open a case" in r.text and count(app, Case) == 0


def test_the_credit_code_check_endpoint_answers_as_the_schema_decides(api: Any, world: World) -> None:
    client = api.as_user(world.coordinator)
    ok = client.get("/api/v1/credit-codes/check", params={"code": " 91350100m000100y43 "}).json()
    assert ok == {"code": GOOD_CODE, "valid": True, "incomplete": False, "message": None}
    typing = client.get("/api/v1/credit-codes/check", params={"code": "913501"}).json()
    assert typing["valid"] is False and typing["incomplete"] is True
    wrong = client.get("/api/v1/credit-codes/check", params={"code": BAD_CODE}).json()
    assert wrong["incomplete"] is False and "统一社会信用代码无效" in wrong["message"]
    letter_o = client.get("/api/v1/credit-codes/check", params={"code": "9135O"}).json()
    assert letter_o["incomplete"] is False  # O is never in a code: no use typing on
    english = api.as_user(world.coordinator, lang="en").get("/api/v1/credit-codes/check", params={"code": BAD_CODE})
    assert "credit code is invalid" in english.json()["message"]
    assert api.anonymous().get("/api/v1/credit-codes/check", params={"code": GOOD_CODE}).status_code == 401
    assert with_check_character(GOOD_CODE[:17]) == GOOD_CODE


def test_a_liaison_may_not_open_a_case_even_posting_the_form_directly(app: Any, world: World) -> None:
    liaison = browser(app, world.liaison("XFXH"))
    assert liaison.get("/cases/new").status_code == 404
    assert 'href="/cases/new"' not in liaison.get("/cases").text
    token = form_fields(liaison.get("/queue").text, "/logout")  # any token of his session
    r = liaison.post("/cases/new", data={**token, **new_case_fields(world)},
                     files=[("files", ("投诉材料.pdf", pdf_bytes(), "application/pdf"))])
    assert r.status_code == 404
    assert count(app, Case) == 0 and count(app, Attachment) == 0 and stored_files(app) == []


# ------------------------------------------------------------------ editing, sharing, typical

def test_an_edit_conflict_keeps_the_typed_text_and_applies_it_when_sent_again(app: Any, world: World,  # type: ignore[no-untyped-def]
                                                                               make_case) -> None:
    # Managed by two coordinators: its own (of another office) and the lead department's.
    case = make_case(by=world.users["coordinator2"])
    mine, theirs = browser(app, world.coordinator), browser(app, world.users["coordinator2"])
    path = f"/cases/{case.id}/edit"
    fields = form_fields(mine.get(path).text, path)
    r = theirs.post(path, data={**form_fields(theirs.get(path).text, path), "title": "他人改过的标题",
                                "category": "预付式消费", "priority": "normal", "description": case.description})
    assert r.status_code == 303
    typed = "补充：门店负责人已失联，请公安部门协查。"
    r = mine.post(path, data={**fields, "title": case.title, "category": "预付式消费", "priority": "normal",
                              "description": typed})
    assert r.status_code == 412
    assert 'id="conflict"' in r.text and "他人改过的标题" in r.text
    assert textarea(r.text, "description") == typed  # never lost
    again = form_fields(r.text, path)
    assert again["version"] == "2"
    r = mine.post(path, data={**again, "title": "他人改过的标题", "category": "预付式消费", "priority": "normal",
                              "description": typed})
    assert r.status_code == 303
    with Session(app.state.engine) as s:
        row = s.get(Case, case.id)
        assert row is not None and row.description == typed and row.title == "他人改过的标题" and row.version == 3


def test_sharing_from_the_case_page_lets_the_other_department_in_and_not_before(app: Any, world: World,  # type: ignore[no-untyped-def]
                                                                                make_case) -> None:
    case = make_case(shared=("XFXH",))
    police = browser(app, world.liaison("GAJ"))
    assert police.get(f"/cases/{case.id}").status_code == 404
    coordinator = browser(app, world.coordinator)
    page = coordinator.get(f"/cases/{case.id}").text
    fields = form_fields(page, f"/cases/{case.id}/share")
    assert f'id="sh-{world.dept("XFXH").id}"' not in page  # already shared: not offered again
    r = coordinator.post(f"/cases/{case.id}/share", data={**fields, "department_ids": [str(world.dept("GAJ").id)]})
    assert r.status_code == 303
    assert police.get(f"/cases/{case.id}").status_code == 200
    assert "已共享给所选部门" in coordinator.get(f"/cases/{case.id}").text


def test_the_typical_case_flag_is_set_and_unset_from_the_case_page(app: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    coordinator = browser(app, world.coordinator)
    path = f"/cases/{case.id}"
    assert coordinator.post(f"{path}/typical", data=form_fields(coordinator.get(path).text,
                                                                 f"{path}/typical")).status_code == 303
    page = coordinator.get(path).text
    assert "已设为典型案例" in page and "取消典型案例" in page
    assert coordinator.post(f"{path}/typical", data=form_fields(page, f"{path}/typical")).status_code == 303
    with Session(app.state.engine) as s:
        row = s.get(Case, case.id)
        assert row is not None and row.is_typical is False
    assert count(app, Event, Event.case_id == case.id, Event.action == "typical_flagged") == 2


def test_a_liaison_cannot_edit_share_or_flag_and_other_departments_cases_are_404(app: Any, world: World,  # type: ignore[no-untyped-def]
                                                                                 make_case) -> None:
    ours = make_case(shared=("XFXH",))
    theirs = make_case(shared=("TYJ",))
    liaison = browser(app, world.liaison("XFXH"))
    page = liaison.get(f"/cases/{ours.id}").text
    assert f'action="/cases/{ours.id}/share"' not in page and f'action="/cases/{ours.id}/typical"' not in page
    assert liaison.get(f"/cases/{ours.id}/edit").status_code == 404
    assert liaison.get(f"/cases/{theirs.id}/edit").status_code == 404
    token = form_fields(liaison.get("/queue").text, "/logout")
    attacks = [
        # The edit page exists for the case's managers only: posting to it is as if it did not exist.
        (f"/cases/{ours.id}/edit", {"version": "1", "title": "改", "category": "x", "priority": "normal"}, 404),
        (f"/cases/{ours.id}/share", {"version": "1", "department_ids": str(world.dept("GAJ").id)}, 403),
        (f"/cases/{ours.id}/typical", {"version": "1", "is_typical": "1"}, 403),
        (f"/cases/{theirs.id}/edit", {"version": "1", "title": "改", "category": "x", "priority": "normal"}, 404),
        (f"/cases/{theirs.id}/share", {"version": "1", "department_ids": str(world.dept("XFXH").id)}, 404),
        (f"/cases/{theirs.id}/typical", {"version": "1", "is_typical": "1"}, 404),
    ]
    for path, data, status in attacks:
        r = liaison.post(path, data={**token, **data})
        assert r.status_code == status, (path, r.status_code)
    r = liaison.post(f"/cases/{theirs.id}/attachments", data=token,
                     files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))])
    assert r.status_code == 404
    with Session(app.state.engine) as s:
        for case in (ours, theirs):
            row = s.get(Case, case.id)
            assert row is not None and row.version == 1 and row.title == case.title and not row.is_typical
        assert s.scalar(select(func.count()).select_from(CaseShare)
                        .where(CaseShare.department_id == world.dept("GAJ").id)) == 0
    assert count(app, Attachment) == 0 and stored_files(app) == []


# ------------------------------------------------------------------ uploads

def upload(client: Any, page_path: str, action: str, files: list[tuple[str, bytes]], **fields: str) -> Any:
    token = form_fields(client.get(page_path).text, action)
    return client.post(action, data={**token, **fields},
                       files=[("files", (name, content, "application/octet-stream")) for name, content in files])


def test_two_files_at_once_from_the_case_page(app: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    liaison = browser(app, world.liaison("XFXH"))
    r = upload(liaison, f"/cases/{case.id}", f"/cases/{case.id}/attachments",
               [("调解笔录.pdf", pdf_bytes()), ("现场.png", png_bytes())])
    assert r.status_code == 303
    assert "附件已上传" in liaison.get(f"/cases/{case.id}").text
    assert count(app, Attachment, Attachment.case_id == case.id) == 2
    assert len(stored_files(app)) == 2


def test_a_macro_file_refuses_the_whole_batch_with_the_reason_in_chinese(app: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    liaison = browser(app, world.liaison("XFXH"))
    r = upload(liaison, f"/cases/{case.id}", f"/cases/{case.id}/attachments",
               [("调解笔录.pdf", pdf_bytes()), ("检查记录.docx", docm_bytes())])
    assert r.status_code == 422
    verdicts = re.search(r'<div id="up-files-verdicts".*?</div>', r.text, re.S)
    assert verdicts, r.text
    text = htmllib.unescape(verdicts.group(0))
    assert "检查记录.docx</span>：文件含有宏（VBA），为防范病毒，含宏的 Office 文件不予接收" in text
    assert "调解笔录.pdf</span>：通过检查，但因同批有文件被拒收而未保存" in text
    assert "1 个文件未通过检查，本批 2 个文件均未保存" in r.text
    assert count(app, Attachment) == 0 and stored_files(app) == []
    assert count(app, Event, Event.action == "uploaded") == 0


def test_feedback_with_two_files_and_a_refused_batch_submits_nothing(app: Any, world: World, make_case,  # type: ignore[no-untyped-def]
                                                                     dispatch, session: Session, clock) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    liaison_user = world.liaison("XFXH")
    assignments.accept(session, clock, liaison_user, a.id, 1)
    session.commit()
    liaison = browser(app, liaison_user)
    path = f"/assignments/{a.id}"
    narrative = "已组织调解 12 起，挽回损失 3.2 万元。"
    r = upload(liaison, path, f"{path}/feedback", [("调解协议.pdf", pdf_bytes()), ("宏.docx", docm_bytes())],
               narrative=narrative, complaints_mediated="12")
    assert r.status_code == 422
    assert textarea(r.text, "narrative") == narrative and "文件含有宏" in r.text
    with Session(app.state.engine) as s:
        assert s.get(Assignment, a.id).state == AssignmentState.ACCEPTED  # type: ignore[union-attr]
    assert count(app, Feedback) == 0 and count(app, Attachment) == 0 and stored_files(app) == []
    r = upload(liaison, path, f"{path}/feedback", [("调解协议.pdf", pdf_bytes()), ("现场.png", png_bytes())],
               narrative=narrative, complaints_mediated="12")
    assert r.status_code == 303, r.text
    with Session(app.state.engine) as s:
        fb = s.scalars(select(Feedback).where(Feedback.assignment_id == a.id)).one()
        names = sorted(s.scalars(select(Attachment.file_name).where(Attachment.owner_kind == OwnerKind.FEEDBACK,
                                                                     Attachment.owner_id == fb.id)))
    assert names == ["现场.png", "调解协议.pdf"]
    assert "调解协议.pdf" in liaison.get(path).text


def test_feedback_without_files_still_works_as_a_plain_form(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                            session: Session, clock) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    assignments.accept(session, clock, world.liaison("XFXH"), a.id, 1)
    session.commit()
    liaison = browser(app, world.liaison("XFXH"))
    path = f"/assignments/{a.id}"
    r = liaison.post(f"{path}/feedback", data={**form_fields(liaison.get(path).text, f"{path}/feedback"),
                                               "narrative": "已核查，无违法行为。"})
    assert r.status_code == 303 and count(app, Feedback) == 1


# ------------------------------------------------------------------ the receiver's bounds

async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(body), 4096):
        yield body[i:i + 4096]


def _body(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    boundary = "gongzhi-test-boundary"
    out = b""
    for name, file_name, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name is not None else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def test_the_receiver_refuses_a_file_over_the_limit_and_keeps_the_rest(tmp_path: Path) -> None:
    tmp_path = tmp_path / "uploads"
    body, content_type = _body([("csrf_token", None, b"t"), ("files", "big.pdf", b"x" * 5000),
                                ("files", "small.pdf", b"y" * 10), ("note", None, "备注".encode())])
    posted = asyncio.run(multipart.receive(_chunks(body), content_type, None, Storage(tmp_path), 1000))
    big, small = posted.files["files"]
    assert isinstance(big.refused, TooLarge) and not big.staged.path.exists()
    assert small.refused is None and small.staged.size == 10
    assert posted.values() == {"csrf_token": "t", "note": "备注"}
    posted.discard()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_receiver_bounds_the_whole_body_and_the_number_of_files(tmp_path: Path) -> None:
    tmp_path = tmp_path / "uploads"
    body, content_type = _body([("files", f"{i}.txt", b"z") for i in range(multipart.MAX_FILES + 1)])
    posted = asyncio.run(multipart.receive(_chunks(body), content_type, None, Storage(tmp_path), 1000))
    assert [f.refused is not None for f in posted.all_files()] == [False] * multipart.MAX_FILES + [True]
    posted.discard()
    limit = multipart.MAX_FILES * 1000 + multipart.TEXT_LIMIT + multipart.OVERHEAD
    with pytest.raises(TooLarge):
        asyncio.run(multipart.receive(_chunks(b""), content_type, str(limit + 1), Storage(tmp_path), 1000))
    huge, content_type = _body([("files", "a.txt", b"q" * (limit + 10))])
    with pytest.raises(TooLarge):
        asyncio.run(multipart.receive(_chunks(huge), content_type, None, Storage(tmp_path), 1000))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
