"""Evidence files: limits, content checks, names, who may see and add them."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import re
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import docx
import openpyxl
import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from services.api.deps import get_session
from services.api.routes.attachments import content_disposition, receive_file
from shared.assignments.models import Assignment, AssignmentState
from shared.attachments import service, sniff
from shared.attachments.models import Attachment, OwnerKind
from shared.attachments.storage import Storage
from shared.cases.models import Case, CaseShare, CaseSource, CaseStatus
from shared.clock import FrozenClock
from shared.errors import TooLarge
from shared.events.models import Event
from shared.feedback.models import Feedback, ReviewDecision
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.settings import Settings
from shared.users.models import User
from tests import office_samples as office
from tests.factories import World

MB = 1 << 20

# ---------------------------------------------------------------- builders (ORM, no services)

_references = iter(range(1, 1_000_000))


def make_case(session: Session, world: World, clock: FrozenClock, *, lead: str = "SCJG",
              shared: tuple[str, ...] = (), status: CaseStatus = CaseStatus.OPEN) -> Case:
    now = clock.now()
    case = Case(
        reference=f"GZ-2026-{next(_references):06d}", title="某健身连锁预付卡投诉",
        source=CaseSource.HOTLINE_12315, category="预付式消费", lead_department_id=world.dept(lead).id,
        coordinator_id=world.coordinator.id,
        status=status, created_at=now, updated_at=now,
    )
    session.add(case)
    session.flush()
    for code in shared:
        session.add(CaseShare(case_id=case.id, department_id=world.dept(code).id, shared_at=now,
                              case_created_at=case.created_at))
    session.commit()
    return case


def make_feedback(session: Session, world: World, clock: FrozenClock, case: Case, dept: str, *,
                  state: AssignmentState = AssignmentState.SUBMITTED,
                  decision: ReviewDecision | None = None) -> Feedback:
    now = clock.now()
    assignment = Assignment(
        case_id=case.id, department_id=world.dept(dept).id, state=state, dispatched_by=world.coordinator.id,
        dispatched_at=now, acceptance_due_at=now + timedelta(days=1), feedback_due_at=now + timedelta(days=7),
        original_feedback_due_at=now + timedelta(days=7), working_days=5, updated_at=now,
    )
    session.add(assignment)
    session.flush()
    feedback = Feedback(assignment_id=assignment.id, author_id=world.liaison(dept).id, submitted_at=now,
                        narrative="已现场检查，责令整改。", review_decision=decision)
    session.add(feedback)
    session.commit()
    return feedback


def make_inspection(session: Session, world: World, clock: FrozenClock, case: Case | None, *,
                    lead: str = "SCJG", participants: tuple[str, ...] = ("GAJ", "TYJ"),
                    status: InspectionStatus = InspectionStatus.PLANNED) -> Inspection:
    now = clock.now()
    inspection = Inspection(
        case_id=case.id if case else None, lead_department_id=world.dept(lead).id, title="联合检查",
        scheduled_on=date(2026, 12, 3), status=status, created_by=world.coordinator.id,
        created_at=now, updated_at=now,
    )
    session.add(inspection)
    session.flush()
    for code in participants:
        session.add(InspectionParticipant(inspection_id=inspection.id, department_id=world.dept(code).id))
    session.commit()
    return inspection


# ---------------------------------------------------------------- real, small files


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    """A decodable 8×8 grey baseline JPEG: one DC and one AC Huffman code, both "0"."""
    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return (
        b"\xff\xd8"
        + segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xFFDB, b"\x00" + b"\x01" * 64)
        + segment(0xFFC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        + segment(0xFFC4, b"\x00" + one_code)
        + segment(0xFFC4, b"\x10" + one_code)
        + segment(0xFFDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC difference 0, end of block, padded with ones
        + b"\xff\xd9"
    )


def pdf_bytes(padding: int = 0) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    out += b"%" + b"0" * padding + b"\n" if padding else b""
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_of_size(size: int) -> bytes:
    """A valid PDF of exactly `size` bytes (a comment pads it; offsets grow a digit or two)."""
    padding = size - len(pdf_bytes()) - 2
    while len(data := pdf_bytes(padding)) != size:
        padding += size - len(data)
    return data


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("现场检查记录：责令整改 3 项。")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["企业", "问题数"])  # type: ignore[union-attr]
    workbook.active.append(["某健身公司", 3])  # type: ignore[union-attr]
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def docm_bytes() -> bytes:
    """A DOCX turned macro-enabled, the way Word saves a .docm."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml",
                                    b"../application/vnd.ms-word.document.macroEnabled.main+xml")
            target.writestr(item, data)
        target.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a document")
    return buf.getvalue()


def exe_bytes() -> bytes:
    header = bytearray(b"MZ" + b"\x90\x00\x03" + b"\x00" * 59)
    struct.pack_into("<I", header, 0x3C, 64)
    return bytes(header) + b"PE\x00\x00" + b"This program cannot be run in DOS mode.\r\n" + b"\x00" * 200


def random_bytes(size: int = 4096) -> bytes:
    return random.Random(20261201).randbytes(size)


# ---------------------------------------------------------------- HTTP helpers

BOUNDARY = b"----gongzhi-test-7f3a"


def multipart(file_name: str | bytes, content: bytes, *, field: str = "file") -> tuple[bytes, str]:
    """Built by hand so names reach the server exactly as a hostile client would send them."""
    raw_name = file_name.encode() if isinstance(file_name, str) else file_name
    body = (
        b"--" + BOUNDARY + b"\r\n"
        + b'Content-Disposition: form-data; name="' + field.encode() + b'"; filename="' + raw_name + b'"\r\n'
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + content + b"\r\n--" + BOUNDARY + b"--\r\n"
    )
    return body, f"multipart/form-data; boundary={BOUNDARY.decode()}"


def upload(client, path: str, file_name: str | bytes, content: bytes):  # type: ignore[no-untyped-def]
    body, content_type = multipart(file_name, content)
    return client.post(path, content=body, headers={"Content-Type": content_type})


def stored_files(settings: Settings) -> list[Path]:
    root = settings.upload_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attachment_count(session: Session) -> int:
    session.rollback()  # see what the API committed
    return session.scalar(select(func.count()).select_from(Attachment)) or 0


@pytest.fixture
def case(session: Session, world: World, clock: FrozenClock) -> Case:
    """Led by market regulation, shared with the consumer association."""
    return make_case(session, world, clock, lead="SCJG", shared=("XFXH",))


# ---------------------------------------------------------------- upload and download

ACCEPTED = [
    ("现场照片.jpg", jpeg_bytes, "image/jpeg"),
    ("整改通知书.png", png_bytes, "image/png"),
    ("行政处罚决定书.pdf", pdf_bytes, "application/pdf"),
    ("检查记录.docx", docx_bytes, sniff.DOCX),
    ("问题清单.xlsx", xlsx_bytes, sniff.XLSX),
    ("通话记录.txt", lambda: "12315 来电：预付卡无法退费。\r\n".encode(), "text/plain; charset=utf-8"),
]


def test_upload_then_download_gives_back_the_same_bytes(api, world, case, settings) -> None:
    client = api.as_user(world.liaison("SCJG"))
    for file_name, make, media_type in ACCEPTED:
        content = make()
        r = upload(client, f"/api/v1/cases/{case.id}/attachments", file_name, content)
        assert r.status_code == 201, (file_name, r.text)
        body = r.json()
        assert body["sha256"] == hashlib.sha256(content).hexdigest()
        assert body["size"] == len(content)
        assert body["media_type"] == media_type
        assert body["file_name"] == file_name
        assert r.headers["location"] == f"/api/v1/attachments/{body['id']}"

        got = client.get(body["download_url"])
        assert got.status_code == 200, file_name
        assert got.content == content, file_name
        assert got.headers["content-type"] == media_type
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["cache-control"] == "no-store"  # a complainant's evidence stays out of caches
        disposition = got.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote(file_name)}" in disposition

    # Stored by generated key, never by the client's name.
    files = stored_files(settings)
    assert len(files) == len(ACCEPTED)
    for path in files:
        key = path.relative_to(settings.upload_dir).as_posix()
        assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}", key)


def test_upload_is_on_the_timeline(api, world, case, session) -> None:
    content = pdf_bytes()
    client = api.as_user(world.head("XFXH"))
    r = upload(client, f"/api/v1/cases/{case.id}/attachments", "调解协议.pdf", content)
    assert r.status_code == 201, r.text
    session.rollback()
    event_row = session.scalars(select(Event).where(Event.object_type == "attachment")).one()
    assert event_row.action == "uploaded"
    assert event_row.case_id == case.id
    assert event_row.actor_id == world.head("XFXH").id
    assert event_row.after is not None
    assert event_row.after["sha256"] == hashlib.sha256(content).hexdigest()
    assert event_row.after["file_name"] == "调解协议.pdf"


def test_content_disposition_has_an_ascii_fallback() -> None:
    assert content_disposition("report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
    header = content_disposition("检查 记录.pdf")
    assert header.startswith('attachment; filename="__ __.pdf"; ')
    assert header.endswith("filename*=UTF-8''%E6%A3%80%E6%9F%A5%20%E8%AE%B0%E5%BD%95.pdf")


# ---------------------------------------------------------------- size limit


def test_default_limit_refuses_20_mb_plus_one_byte_and_keeps_nothing(api, world, case, settings,
                                                                    session) -> None:
    assert settings.max_upload_bytes == 20 * MB
    r = upload(api.as_user(world.liaison("SCJG")), f"/api/v1/cases/{case.id}/attachments", "大文件.pdf",
               pdf_of_size(20 * MB + 1))
    assert r.status_code == 413
    assert "20 MB" in r.json()["error"]["message"]
    assert stored_files(settings) == []
    assert attachment_count(session) == 0


def test_exactly_the_limit_is_accepted(api, world, case, settings) -> None:
    settings.max_upload_bytes = 4096
    client = api.as_user(world.liaison("SCJG"))
    url = f"/api/v1/cases/{case.id}/attachments"
    assert upload(client, url, "a.pdf", pdf_of_size(4096)).status_code == 201
    assert upload(client, url, "b.pdf", pdf_of_size(4097)).status_code == 413
    assert len(stored_files(settings)) == 1


def test_a_declared_oversized_body_is_refused_before_reading(api, world, case, settings) -> None:
    settings.max_upload_bytes = 4096
    body, content_type = multipart("a.pdf", pdf_bytes())
    r = api.as_user(world.liaison("SCJG")).post(
        f"/api/v1/cases/{case.id}/attachments", content=body,
        headers={"Content-Type": content_type, "Content-Length": str(10 * MB)},
    )
    assert r.status_code == 413
    assert stored_files(settings) == []


def test_reading_stops_as_soon_as_the_limit_is_passed(tmp_path: Path) -> None:
    chunk_size, limit = 1024, 10 * 1024
    body, content_type = multipart("big.pdf", pdf_of_size(100 * 1024))
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for start in range(0, len(body), chunk_size):
            pulled += 1
            yield body[start:start + chunk_size]

    storage = Storage(tmp_path)
    with storage.stage(limit) as staged, pytest.raises(TooLarge):
        asyncio.run(receive_file(chunks(), content_type, None, staged))
    assert pulled <= limit // chunk_size + 2  # a chunk or two past the limit, not the 100 KB
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# ---------------------------------------------------------------- content checks

REFUSED = [
    ("发票.pdf", exe_bytes, "application/x-msdownload"),
    ("合同.pdf", zip_bytes, "application/zip"),
    ("照片.jpg", random_bytes, "application/octet-stream"),
    ("检查记录.docx", zip_bytes, "application/zip"),
    ("检查记录.docx", docm_bytes, "macro"),
    ("截图.jpg", png_bytes, "image/png"),
    ("setup.exe", pdf_bytes, "application/pdf"),
    ("记录.doc", office.doc_with_macros, "macro"),
]


def test_content_that_is_not_what_it_claims_is_415(api, world, case, settings, session) -> None:
    client = api.as_user(world.liaison("SCJG"), lang="en")
    for file_name, make, seen in REFUSED:
        r = upload(client, f"/api/v1/cases/{case.id}/attachments", file_name, make())
        assert r.status_code == 415, (file_name, seen, r.text)
        assert seen in r.json()["error"]["message"]
    assert stored_files(settings) == []
    assert attachment_count(session) == 0


MACRO_SAMPLES = [
    ("报表.xls", lambda: office.xls(("Sheet1", office.WORKSHEET, office.VISIBLE),
                                  ("Macro1", office.MACRO_SHEET, office.HIDDEN)), "Excel 4.0 (XLM) macro sheet"),
    # Excel opens a workbook whose compound-file CLSID was zeroed; olevba alone would not look at it.
    ("报表.xls", lambda: office.xls(("Sheet1", office.WORKSHEET, office.VISIBLE),
                                  ("Auto_Open", office.MACRO_SHEET, office.VERY_HIDDEN), clsid=None),
     "Excel 4.0 (XLM) macro sheet"),
    ("报表.xlsx", office.xlsx_with_macro_sheet, "Excel 4.0 (XLM) macro sheet"),
    ("报表.xls", lambda: office.xls(("Sheet1", office.WORKSHEET, office.VISIBLE), vba=True), "macro"),
    ("报表.xlsx", office.xlsm_with_vba, "macro"),
    ("报表.xlsx", office.xlsx_hiding_a_vba_project, "macro"),
    ("记录.doc", office.doc_with_macros, "macro"),
]


@pytest.mark.parametrize(("file_name", "make", "seen"), MACRO_SAMPLES)
def test_office_files_with_vba_or_excel4_macros_are_refused(api, world, case, settings, session, file_name,
                                                            make, seen) -> None:
    client = api.as_user(world.liaison("SCJG"), lang="en")
    r = upload(client, f"/api/v1/cases/{case.id}/attachments", file_name, make())
    assert r.status_code == 415, r.text
    assert seen in r.json()["error"]["message"]
    assert stored_files(settings) == []
    assert attachment_count(session) == 0


def test_clean_office_files_beside_the_macro_samples_pass(api, world, case) -> None:
    """The same builders without the macro part: what is refused above is the macro, not the builder."""
    client = api.as_user(world.liaison("SCJG"))
    for file_name, content in [("报表.xls", office.xls(("Sheet1", office.WORKSHEET, office.VISIBLE))),
                               ("报表.xlsx", office.xlsx_package()), ("检查记录.docx", docx_bytes()),
                               ("问题清单.xlsx", xlsx_bytes()), ("决定书.pdf", pdf_bytes()),
                               ("现场照片.jpg", jpeg_bytes())]:
        r = upload(client, f"/api/v1/cases/{case.id}/attachments", file_name, content)
        assert r.status_code == 201, (file_name, r.text)


@pytest.mark.parametrize(("data", "name", "media_type"), [
    (office.compound_file({"WordDocument": b"\xec\xa5", "1Table": b""}, office.WORD_CLSID), "旧版.doc", sniff.DOC),
    (office.xls(("Sheet1", office.WORKSHEET, office.VISIBLE)), "旧版.xls", sniff.XLS),
    (office.compound_file({"PowerPoint Document": b"", "Current User": b""}), "旧版.ppt", sniff.PPT),
    ("投诉人称：退费未果".encode("gb18030"), "记录.txt", "text/plain; charset=gb18030"),
])
def test_sniffing_legacy_office_and_chinese_text(tmp_path: Path, data: bytes, name: str,
                                                 media_type: str) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    detection = sniff.detect(path)
    assert detection.kind is not None and detection.kind.media_type == media_type
    assert sniff.accept(name, detection)[0] == name


def test_a_workbook_named_doc_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(office.xls(("Sheet1", office.WORKSHEET, office.VISIBLE)))
    with pytest.raises(Exception, match="attachment_extension_mismatch"):
        sniff.accept("报表.doc", sniff.detect(path))


def test_binary_with_control_bytes_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"hello\x00world")
    assert sniff.detect(path).kind is None


# ---------------------------------------------------------------- names

NAMES = [
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\x.pdf", "x.pdf"),
    ("/etc/cron.d/evil.pdf", "evil.pdf"),
    ("C:\\Users\\张三\\Desktop\\处罚决定书.pdf", "处罚决定书.pdf"),
    ("a\x00b\x1b.pdf", "ab.pdf"),
    ("报告\u202efdp.pdf", "报告fdp.pdf"),
    ("....", "附件.pdf"),
    ("..", "附件.pdf"),
    ("con.pdf", "_con.pdf"),
    ("  决定书 <最终>.pdf  ", "决定书 _最终_.pdf"),
]


@pytest.mark.parametrize(("raw", "expected"), NAMES)
def test_names_are_sanitized(raw: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(pdf_bytes())
    assert sniff.accept(sniff.display_name(raw), sniff.detect(path))[0] == expected


def test_long_chinese_names_are_cut_keeping_the_extension() -> None:
    name = sniff.display_name("关于某健身连锁企业预付卡纠纷的调查报告" * 20 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= sniff.MAX_NAME_BYTES
    assert name.startswith("关于某健身连锁企业")


TRAVERSALS = ["../../etc/passwd", "..\\..\\..\\x.pdf", "/tmp/evil.pdf",
              "../../../../attachments/../../owned.pdf"]


def test_path_traversal_names_never_leave_the_upload_dir(api, world, case, settings, tmp_path) -> None:
    def files() -> set[Path]:
        return {p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("test.db")}

    client = api.as_user(world.liaison("SCJG"))
    for raw in TRAVERSALS:
        before = files()
        r = upload(client, f"/api/v1/cases/{case.id}/attachments", raw, pdf_bytes())
        assert r.status_code == 201, (raw, r.text)
        name = r.json()["file_name"]
        assert "/" not in name and "\\" not in name and ".." not in name, raw
        new = list(files() - before)
        assert len(new) == 1, raw
        assert new[0].is_relative_to(settings.upload_dir), raw


def test_raw_utf8_and_gbk_names_from_browsers(api, world, case) -> None:
    client = api.as_user(world.liaison("SCJG"))
    url = f"/api/v1/cases/{case.id}/attachments"
    assert upload(client, url, "现场.pdf".encode(), pdf_bytes()).json()["file_name"] == "现场.pdf"
    assert upload(client, url, "现场.pdf".encode("gbk"), pdf_bytes()).json()["file_name"] == "现场.pdf"


# ---------------------------------------------------------------- malformed requests


def test_bad_requests_are_refused_not_crashed(api, world, case, settings) -> None:
    client = api.as_user(world.liaison("SCJG"))
    url = f"/api/v1/cases/{case.id}/attachments"
    assert client.post(url, json={"file": "x"}).status_code == 415
    body, content_type = multipart("a.pdf", pdf_bytes())
    truncated = client.post(url, content=body[:-20], headers={"Content-Type": content_type})
    assert truncated.status_code == 422
    other_field, content_type = multipart("a.pdf", pdf_bytes(), field="document")
    missing = client.post(url, content=other_field, headers={"Content-Type": content_type})
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "file"
    empty = upload(client, url, "a.pdf", b"")
    assert empty.status_code == 422
    two = body.replace(b"--" + BOUNDARY + b"--\r\n", b"") + body
    assert client.post(url, content=two, headers={"Content-Type": content_type}).status_code == 422
    assert stored_files(settings) == []


# ---------------------------------------------------------------- who sees, who adds


def _attachment(api, world, case) -> dict:  # type: ignore[no-untyped-def]
    client = api.as_user(world.liaison("SCJG"))
    r = upload(client, f"/api/v1/cases/{case.id}/attachments", "证据.pdf", pdf_bytes())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_an_unshared_department_sees_nothing(api, world, case, settings) -> None:
    attachment = _attachment(api, world, case)
    outsider = api.as_user(world.liaison("GAJ"))
    assert outsider.get(f"/api/v1/attachments/{attachment['id']}").status_code == 404
    assert outsider.get(f"/api/v1/attachments/{attachment['id']}/content").status_code == 404
    assert outsider.get(f"/api/v1/cases/{case.id}/attachments").status_code == 404
    r = upload(outsider, f"/api/v1/cases/{case.id}/attachments", "x.pdf", pdf_bytes())
    assert r.status_code == 404
    assert len(stored_files(settings)) == 1


def test_leader_reads_but_never_uploads(api, world, case, settings) -> None:
    attachment = _attachment(api, world, case)
    for reader in (world.leader, world.admin):
        client = api.as_user(reader)
        got = client.get(f"/api/v1/attachments/{attachment['id']}/content")
        assert got.status_code == 200
        assert got.content == pdf_bytes()
        assert upload(client, f"/api/v1/cases/{case.id}/attachments", "x.pdf", pdf_bytes()).status_code == 403
    assert len(stored_files(settings)) == 1


def test_who_may_add_to_a_case(api, world, case) -> None:
    expected = {
        "coordinator": 201,  # the case's coordinator
        "head_scjg": 201,  # lead department
        "liaison_xfxh": 201,  # shared department
        "coordinator2": 403,  # sees every case, manages not this one
        "liaison_tyj": 404,  # not shared: the case does not exist for him
    }
    for username, status in expected.items():
        r = upload(api.as_user(world.user(username)), f"/api/v1/cases/{case.id}/attachments", "x.pdf",
                   pdf_bytes())
        assert r.status_code == status, (username, r.text)


def test_nothing_is_added_to_a_closed_case(api, world, session, clock) -> None:
    closed = make_case(session, world, clock, status=CaseStatus.CLOSED)
    r = upload(api.as_user(world.coordinator), f"/api/v1/cases/{closed.id}/attachments", "x.pdf", pdf_bytes())
    assert r.status_code == 409


def test_feedback_evidence_belongs_to_the_assigned_department(api, world, case, session, clock) -> None:
    session.add(CaseShare(case_id=case.id, department_id=world.dept("TYJ").id, shared_at=clock.now(),
                          case_created_at=case.created_at))
    session.commit()
    feedback = make_feedback(session, world, clock, case, "TYJ")
    url = f"/api/v1/feedback/{feedback.id}/attachments"
    assert upload(api.as_user(world.liaison("TYJ")), url, "照片.jpg", jpeg_bytes()).status_code == 201
    assert upload(api.as_user(world.head("TYJ")), url, "照片.jpg", jpeg_bytes()).status_code == 201
    assert upload(api.as_user(world.liaison("SCJG")), url, "照片.jpg", jpeg_bytes()).status_code == 403
    assert upload(api.as_user(world.coordinator), url, "照片.jpg", jpeg_bytes()).status_code == 403
    assert upload(api.as_user(world.leader), url, "照片.jpg", jpeg_bytes()).status_code == 403
    assert upload(api.as_user(world.liaison("GAJ")), url, "照片.jpg", jpeg_bytes()).status_code == 404

    reviewed = make_feedback(session, world, clock, case, "TYJ", state=AssignmentState.DONE,
                             decision=ReviewDecision.APPROVED)
    r = upload(api.as_user(world.liaison("TYJ")), f"/api/v1/feedback/{reviewed.id}/attachments", "照片.jpg",
               jpeg_bytes())
    assert r.status_code == 409


def test_inspection_evidence(api, world, case, session, clock) -> None:
    inspection = make_inspection(session, world, clock, case, participants=("XFXH",))
    url = f"/api/v1/inspections/{inspection.id}/attachments"
    assert upload(api.as_user(world.liaison("XFXH")), url, "现场.jpg", jpeg_bytes()).status_code == 201
    assert upload(api.as_user(world.coordinator), url, "现场.jpg", jpeg_bytes()).status_code == 201
    assert upload(api.as_user(world.liaison("GAJ")), url, "现场.jpg", jpeg_bytes()).status_code == 404
    cancelled = make_inspection(session, world, clock, case, status=InspectionStatus.CANCELLED)
    r = upload(api.as_user(world.coordinator), f"/api/v1/inspections/{cancelled.id}/attachments", "现场.jpg",
               jpeg_bytes())
    assert r.status_code == 409
    campaign_only = make_inspection(session, world, clock, None)
    campaign_url = f"/api/v1/inspections/{campaign_only.id}/attachments"
    assert upload(api.as_user(world.coordinator), campaign_url, "现场.jpg", jpeg_bytes()).status_code == 409
    outsider = api.as_user(world.liaison("WJW"))
    assert upload(outsider, campaign_url, "现场.jpg", jpeg_bytes()).status_code == 404


def test_case_list_gathers_feedback_and_inspection_evidence(api, world, case, session, clock) -> None:
    feedback = make_feedback(session, world, clock, case, "XFXH")
    inspection = make_inspection(session, world, clock, case, participants=("XFXH",))
    liaison = api.as_user(world.liaison("XFXH"))
    upload(liaison, f"/api/v1/cases/{case.id}/attachments", "a.pdf", pdf_bytes())
    upload(liaison, f"/api/v1/feedback/{feedback.id}/attachments", "b.pdf", pdf_bytes())
    upload(liaison, f"/api/v1/inspections/{inspection.id}/attachments", "c.pdf", pdf_bytes())

    r = api.as_user(world.leader).get(f"/api/v1/cases/{case.id}/attachments")
    assert r.status_code == 200
    assert [(i["file_name"], i["owner_kind"]) for i in r.json()["items"]] == [
        ("a.pdf", "case"), ("b.pdf", "feedback"), ("c.pdf", "inspection")]
    only = liaison.get(f"/api/v1/cases/{case.id}/attachments",
                       params={"owner_kind": "feedback", "owner_id": feedback.id})
    assert [i["file_name"] for i in only.json()["items"]] == ["b.pdf"]
    assert "storage_key" not in r.json()["items"][0]


# ---------------------------------------------------------------- no orphans


def test_a_failed_commit_leaves_no_file(app, api, world, case, settings, session, engine) -> None:
    def failing_session() -> Iterator[Session]:
        s = Session(engine, expire_on_commit=False)

        @event.listens_for(s, "before_commit")
        def _refuse(sess: Session) -> None:
            if any(isinstance(o, Attachment) for o in sess.identity_map.values()):
                raise RuntimeError("database went away")

        try:
            yield s
        finally:
            s.close()

    client = api.as_user(world.liaison("SCJG"))  # logs in with the real session
    app.dependency_overrides[get_session] = failing_session
    try:
        r = upload(client, f"/api/v1/cases/{case.id}/attachments", "证据.pdf", pdf_bytes())
    finally:
        app.dependency_overrides.clear()
    assert r.status_code == 500
    assert stored_files(settings) == []
    assert attachment_count(session) == 0
    events = select(func.count()).select_from(Event).where(Event.object_type == "attachment")
    assert session.scalar(events) == 0


def _staged(storage: Storage, data: bytes):  # type: ignore[no-untyped-def]
    staged = storage.stage(MB)
    staged.write(data)
    staged.finish()
    return staged


def test_a_rolled_back_attachment_takes_its_file_along(session, world, case, clock, tmp_path) -> None:
    storage = Storage(tmp_path / "files")
    actor: User = world.liaison("SCJG")
    staged = _staged(storage, pdf_bytes())
    service.attach(session, clock, actor, storage, OwnerKind.CASE, case.id, staged, "a.pdf")
    assert len([p for p in storage.root.rglob("*") if p.is_file()]) == 1
    session.rollback()
    assert [p for p in storage.root.rglob("*") if p.is_file()] == []

    staged = _staged(storage, pdf_bytes())
    kept = service.attach(session, clock, actor, storage, OwnerKind.CASE, case.id, staged, "b.pdf")
    session.commit()
    assert storage.path(kept.storage_key).read_bytes() == pdf_bytes()


def test_staging_files_left_by_a_crash_are_swept(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    abandoned = storage.stage(MB)
    abandoned.write(b"half an upload")
    os.utime(abandoned.path, (0, 0))
    fresh = storage.stage(MB)
    assert storage.sweep_staging(older_than_seconds=3600) == 1
    assert not abandoned.path.exists()
    assert fresh.path.exists()
    fresh.discard()
