"""`attachments.sweep`: staging files an upload left behind when its process crashed."""

from __future__ import annotations

from shared.attachments.storage import Storage
from shared.settings import get_settings
from workers.app import app
from workers.schedule import ATTACHMENTS_SWEEP


@app.task(name=ATTACHMENTS_SWEEP, time_limit=300)
def sweep_staging() -> int:
    """Remove half-written uploads older than an hour; a live upload is never that old."""
    return Storage(get_settings().upload_dir).sweep_staging(older_than_seconds=3600)
