"""Attachment bytes on disk, under settings.upload_dir, by generated key.

An upload is streamed into a staging file inside the upload directory
(`.staging/`), hashed and counted as it arrives, and refused the moment it
passes the size limit.  Once accepted it is renamed (atomically: same file
system) to `<aa>/<bb>/<uuid hex>`.  The client's file name never reaches the
file system.  A placed file is tied to the database transaction that records
it: if that transaction does not commit, the file is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from shared.errors import NotFound, TooLarge

STAGING = ".staging"
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$")


def limit_mb(limit: int) -> str:
    return f"{limit / (1 << 20):g}"


class StagedUpload:
    """A file being received: written, hashed and counted chunk by chunk."""

    def __init__(self, root: Path, limit: int) -> None:
        directory = root / STAGING
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.limit = limit
        self.size = 0
        self.sha256 = ""
        self.placed = False

    def write(self, data: bytes | memoryview) -> None:
        if self.size + len(data) > self.limit:
            # Nothing past the limit is written; the caller stops reading the request.
            self.discard()
            raise TooLarge(limit_mb=limit_mb(self.limit))
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> None:
        """All bytes received: flush them to disk before anyone relies on them."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.sha256 = self._hash.hexdigest()

    def discard(self) -> None:
        """Remove the staging file unless it has been placed; safe to call twice."""
        if not self._file.closed:
            self._file.close()
        if not self.placed:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StagedUpload:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def stage(self, limit: int) -> StagedUpload:
        return StagedUpload(self.root, limit)

    def path(self, key: str) -> Path:
        """The file for a key; a key that is not one of ours never becomes a path."""
        if not _KEY.match(key):
            raise NotFound()
        return self.root / key

    def place(self, staged: StagedUpload) -> str:
        """Move a finished upload to its permanent, generated name; returns the key."""
        hex_id = uuid.uuid4().hex
        key = f"{hex_id[:2]}/{hex_id[2:4]}/{hex_id}"
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        staged.placed = True
        _fsync_directory(target.parent)
        return key

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def sweep_staging(self, older_than_seconds: float = 3600) -> int:
        """Remove staging files a crashed process left behind; returns how many."""
        directory = self.root / STAGING
        if not directory.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in directory.glob("upload-*.part"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where unsupported."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------- no orphans

_PENDING = "attachments.files_pending_commit"
_COMMITTED = "attachments.root_committed"
_HOOKED = "attachments.hooked"


def remove_unless_committed(session: Session, path: Path) -> None:
    """Delete `path` when the session's current transaction ends without committing.

    Covers every way out: a failed flush or commit, an exception before the
    commit, a session closed without committing.
    """
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _on_commit)
        event.listen(session, "after_transaction_end", _on_transaction_end)
        session.info[_HOOKED] = True
    session.info.setdefault(_PENDING, []).append(path)


def _on_commit(session: Session) -> None:
    # after_commit also fires for SAVEPOINTs; only the outermost commit makes the row real.
    if not session.in_nested_transaction():
        session.info[_COMMITTED] = True


def _on_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:
        return
    pending: list[Path] = session.info.pop(_PENDING, [])
    committed = session.info.pop(_COMMITTED, False)
    if not committed:
        for path in pending:
            path.unlink(missing_ok=True)
