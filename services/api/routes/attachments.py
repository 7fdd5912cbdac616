"""Evidence files: upload (multipart, streamed), list, metadata, download.

The upload body is parsed here, chunk by chunk, straight into a staging file
under the upload directory: nothing is spooled elsewhere first, and reading
stops as soon as the file passes the size limit (413).  Permission is checked
before the first byte of the body is read, and again in the transaction that
records the file.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import Path, Query, Request, Response
from fastapi.responses import FileResponse
from python_multipart.exceptions import FormParserError
from sqlmodel import Session

from services.api.caching import NO_STORE_HEADERS
from services.api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.multipart_stream import PartReader, boundary_of, decode_file_name, feed
from services.api.routes import API_PREFIX, api_router
from shared.attachments import service
from shared.attachments.models import Attachment, AttachmentList, AttachmentPublic, OwnerKind
from shared.attachments.storage import StagedUpload, Storage, limit_mb
from shared.clock import Clock
from shared.errors import Invalid, TooLarge, UnsupportedMedia
from shared.settings import Settings
from shared.users.models import User

router = api_router(tags=["attachments"], route_class=IdempotentRoute)

# Larger ids could not be bound on SQLite (OverflowError, a 500); they answer 422.
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Boundaries, part headers and any small extra fields on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG/PNG/GIF/WebP/HEIC, PDF, Word/Excel/PowerPoint "
                                           "(.docx/.xlsx/.pptx/.doc/.xls/.ppt) or .txt",
                        }
                    },
                }
            }
        },
    }
}
_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "You may see the case but not add files to it"},
    404: {"description": "No such object within your reach"},
    409: {"description": "The case is closed, the feedback reviewed or the inspection cancelled"},
    413: {"description": "Larger than the upload limit (default 20 MB)"},
    415: {"description": "Not an accepted type, or the extension does not match the content"},
}


def storage_for(settings: Settings) -> Storage:
    return Storage(settings.upload_dir)


def public(attachment: Attachment) -> AttachmentPublic:
    return AttachmentPublic(
        **attachment.model_dump(exclude={"storage_key"}),
        download_url=f"{API_PREFIX}/attachments/{attachment.id}/content",
    )


# ---------------------------------------------------------------- streaming multipart


class _FilePartReader(PartReader):
    """The part named `file` goes to the staging file; other fields are ignored (their bytes still count)."""

    def __init__(self, staged: StagedUpload) -> None:
        super().__init__()
        self.staged = staged
        self.file_name: str | None = None
        self._writing = False

    def begin(self, options: dict[bytes, bytes]) -> None:
        if options.get(b"name") != b"file" or not options.get(b"filename"):
            return
        if self.file_name is not None:
            raise Invalid("file", "attachment_one_file")
        self.file_name = decode_file_name(options[b"filename"])
        self._writing = True

    def data(self, data: bytes, start: int, end: int) -> None:
        if self._writing:
            self.staged.write(memoryview(data)[start:end])

    def end(self) -> None:
        self._writing = False


async def receive_file(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    content_length: str | None,
    staged: StagedUpload,
) -> str:
    """Stream a multipart body's `file` part into `staged`; returns the client's file name.

    413 as soon as the file (or the whole body) passes the limit, without
    reading further; 415 for a body that is not multipart; 422 if malformed.
    """
    media, boundary = boundary_of(content_type)
    if media != b"multipart/form-data" or not boundary:
        raise UnsupportedMedia("attachment_multipart_required")
    reader = _FilePartReader(staged)
    try:
        await feed(chunks, boundary, reader, content_length, staged.limit + MULTIPART_OVERHEAD,
                   TooLarge(limit_mb=limit_mb(staged.limit)))
    except FormParserError as exc:
        raise Invalid("file", "attachment_malformed") from exc
    if not reader.ended:
        raise Invalid("file", "attachment_malformed")
    if reader.file_name is None:
        raise Invalid("file", "field_required")
    staged.finish()
    return reader.file_name


def _record(session: Session, clock: Clock, user: User, storage: Storage, owner_kind: OwnerKind,
            owner_id: int, staged: StagedUpload, file_name: str) -> Attachment:
    attachment = service.attach(session, clock, user, storage, owner_kind, owner_id, staged, file_name)
    session.commit()  # a failed commit removes the placed file (storage.remove_unless_committed)
    return attachment


def _authorize(session: Session, user: User, owner_kind: OwnerKind, owner_id: int) -> None:
    service.authorize_upload(session, user, owner_kind, owner_id)
    # End the read transaction before a possibly slow upload: on SQLite it holds the write lock.
    session.commit()


async def _upload(request: Request, response: Response, session: Session, clock: Clock,
                  settings: Settings, user: User, owner_kind: OwnerKind, owner_id: int) -> AttachmentPublic:
    await to_thread.run_sync(_authorize, session, user, owner_kind, owner_id)
    storage = storage_for(settings)
    with storage.stage(settings.max_upload_bytes) as staged:
        file_name = await receive_file(
            request.stream(), request.headers.get("content-type"), request.headers.get("content-length"),
            staged,
        )
        attachment = await to_thread.run_sync(
            _record, session, clock, user, storage, owner_kind, owner_id, staged, file_name
        )
    response.headers["Location"] = f"{API_PREFIX}/attachments/{attachment.id}"
    return public(attachment)


@router.post("/cases/{case_id}/attachments", status_code=201, response_model=AttachmentPublic,
             dependencies=[Idempotent],
             openapi_extra=_UPLOAD_BODY, responses=_UPLOAD_ERRORS)
async def upload_case_attachment(case_id: IdPath, request: Request, response: Response,
                                 session: SessionDep, user: CurrentUser, clock: ClockDep,
                                 settings: SettingsDep) -> AttachmentPublic:
    """Add an evidence file to a case (案件附件); multipart field `file`."""
    return await _upload(request, response, session, clock, settings, user, OwnerKind.CASE, case_id)


@router.post("/feedback/{feedback_id}/attachments", status_code=201, response_model=AttachmentPublic,
             dependencies=[Idempotent],
             openapi_extra=_UPLOAD_BODY, responses=_UPLOAD_ERRORS)
async def upload_feedback_attachment(feedback_id: IdPath, request: Request, response: Response,
                                     session: SessionDep, user: CurrentUser, clock: ClockDep,
                                     settings: SettingsDep) -> AttachmentPublic:
    """Add evidence to your department's feedback (反馈附件) while it awaits review."""
    return await _upload(request, response, session, clock, settings, user, OwnerKind.FEEDBACK, feedback_id)


@router.post("/inspections/{inspection_id}/attachments", status_code=201, response_model=AttachmentPublic,
             dependencies=[Idempotent],
             openapi_extra=_UPLOAD_BODY, responses=_UPLOAD_ERRORS)
async def upload_inspection_attachment(inspection_id: IdPath, request: Request, response: Response,
                                       session: SessionDep, user: CurrentUser, clock: ClockDep,
                                       settings: SettingsDep) -> AttachmentPublic:
    """Add a record or photo to a joint inspection (检查附件)."""
    return await _upload(request, response, session, clock, settings, user, OwnerKind.INSPECTION,
                         inspection_id)


@router.get("/cases/{case_id}/attachments", response_model=AttachmentList)
def list_case_attachments(
    case_id: IdPath,
    session: SessionDep,
    user: CurrentUser,
    owner_kind: Annotated[OwnerKind | None, Query(description="only those of a case, feedback or inspection")]
    = None,
    owner_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only this object's")] = None,
) -> AttachmentList:
    """All evidence of a case, its feedback's and inspections' included, oldest first."""
    items = service.list_for_case(session, user, case_id, owner_kind=owner_kind, owner_id=owner_id)
    return AttachmentList(items=[public(a) for a in items])


@router.get("/attachments/{attachment_id}", response_model=AttachmentPublic)
def get_attachment(attachment_id: IdPath, session: SessionDep, user: CurrentUser) -> AttachmentPublic:
    return public(service.get(session, user, attachment_id))


_NOT_TOKEN = re.compile(r'[^\x20-\x7e]|["\\%;]')


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name per RFC 5987/6266."""
    fallback = _NOT_TOKEN.sub("_", file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=FileResponse,
    responses={200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "The file, as uploaded, with its own media type"}},
)
def download_attachment(attachment_id: IdPath, session: SessionDep, user: CurrentUser,
                        settings: SettingsDep) -> FileResponse:
    """Download the file (always as an attachment, never rendered inline)."""
    attachment, path = service.content_path(session, user, storage_for(settings), attachment_id)
    # Nothing was changed; end the read transaction before streaming (it holds SQLite's lock).
    session.commit()
    return FileResponse(
        path,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": content_disposition(attachment.file_name),
            "Content-Security-Policy": "default-src 'none'; sandbox",
            **NO_STORE_HEADERS,
            "ETag": f'"{attachment.sha256}"',
        },
    )
