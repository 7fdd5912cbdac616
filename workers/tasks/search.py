"""`search.cluster`: rewrite case_search in enterprise-name order, at night (shared/cases/search_table.py)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from shared.cases import search_table
from shared.db import get_engine
from workers.app import app
from workers.schedule import SEARCH_CLUSTER

log = logging.getLogger(__name__)


@app.task(name=SEARCH_CLUSTER, time_limit=1800)
def cluster_case_search() -> bool:
    """Safe to run twice: the order is the index's.  Searches holding the table past the lock timeout
    put it off to the next night: the rows stay right, only the newest are read a page each."""
    try:
        with get_engine().begin() as conn:
            return search_table.cluster(conn)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != search_table.LOCK_NOT_AVAILABLE:
            raise
        log.warning("case_search not rewritten tonight: %s", exc.orig)
        return False
