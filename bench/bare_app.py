"""The baseline: a bare FastAPI app served exactly like the real one (uvicorn --factory, same workers).

`/bare` is the plain `async def` hello-world every FastAPI benchmark starts from;
`/bare-sync` is a plain `def`, which FastAPI runs in its thread pool like the
real queue endpoint.
"""

from __future__ import annotations

from fastapi import FastAPI

PAYLOAD: dict[str, object] = {"status": "ok", "service": "gongzhi-bench", "items": []}


def create_app() -> FastAPI:
    app = FastAPI(title="bare", openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/bare")
    async def bare() -> dict[str, object]:
        return PAYLOAD

    @app.get("/bare-sync")
    def bare_sync() -> dict[str, object]:
        return PAYLOAD

    return app
