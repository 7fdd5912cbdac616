"""The FastAPI application: JSON API under /api/v1 (and, later, the pages)."""

from __future__ import annotations

import gc
import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine
from starlette.middleware.gzip import GZipMiddleware

from services.api import admission, docs, errors, openapi, routes, security_headers, signin
from services.api.routes import API_PREFIX
from shared import invalidation
from shared.clock import Clock, SystemClock
from shared.db import get_engine
from shared.outbox.service import install_relay_kick
from shared.settings import Settings, get_settings

GZIP_MINIMUM_BYTES = 1024
GZIP_LEVEL = 3


# Mounted before the rest: FastAPI tries routes in order, and every route tried
# before the one that matches costs each request a few microseconds.
FIRST = ("queue",)


def _routers() -> list[APIRouter]:
    """Every module in services/api/routes that defines `router` is mounted, FIRST first."""
    found = []
    modules = sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: (i.name not in FIRST, i.name))
    for info in modules:
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def kick_relay() -> bool:
    """Ask a worker to deliver now (Celery is imported on the first kick, not at start-up)."""
    from workers.app import kick_relay as kick

    return kick()


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    # Modules, routes and schemas loaded by now live as long as the server: without this,
    # every full cyclic-GC pass rescans them (100+ ms pauses under load, the queue's p99).
    gc.freeze()
    # Kept sign-ins and queues, which the database invalidates (nothing is kept until it listens).
    invalidation.start(app.state.engine)
    try:
        yield
    finally:
        invalidation.stop(app.state.engine)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None,
    kick: Callable[[], object] | None = None,
) -> FastAPI:
    """The app; as an entry point it installs the after-commit relay kick (KICK: tests count them)."""
    settings = settings or get_settings()
    settings.require_secret()  # refuses with one line (uvicorn exits, no traceback)
    install_relay_kick(kick or kick_relay)
    app = FastAPI(
        title="共治 Gongzhi API",
        version="1",
        description="Interagency enforcement coordination: cases, assignments, inspections, feedback.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # services/api/docs.py serves it without a CDN
        redoc_url=None,
        lifespan=_serving,
    )
    app.state.settings = settings
    app.state.engine = engine or get_engine(settings.database_url,
                                            statement_timeout_ms=settings.statement_timeout_ms)
    app.state.clock = clock or SystemClock()
    errors.install(app)
    signin.install(app)  # after errors: it wraps their handler to add Retry-After to 429s
    docs.install(app, API_PREFIX)
    app.add_middleware(admission.Admission, limit=settings.concurrent_requests)
    # The queue's JSON shrinks about nine times; small answers are not worth compressing.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    # Added last, so outermost: every answer, the API boundary's 500s included, carries them.
    app.add_middleware(security_headers.SecurityHeaders)
    for router in _routers():
        app.include_router(router, prefix=API_PREFIX)
    importlib.import_module("services.api.pages").install(app)  # HTML pages at the root
    openapi.install(app)
    return app
