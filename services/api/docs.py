"""/api/v1/docs: Swagger UI served by the app itself, so it works on an intranet without internet.

FastAPI's own docs page loads Swagger UI from a CDN and its favicon from
fastapi's site; on a government network neither answers and the page stays
blank.  The dist files come from the `swagger-ui-bundle-v2` package (Swagger UI
5, which reads the OpenAPI 3.1 document FastAPI writes) and are mounted under
/api/v1/docs/assets.  The online validator badge is switched off: it would
send the document's address to another host.

Both pages carry one inline script (FastAPI writes it); the Content-Security-Policy
allows exactly that script by its hash and nothing else inline.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from services.api.security_headers import policy_with_inline_scripts


def _hashed(response: HTMLResponse) -> HTMLResponse:
    """The page with a policy that lets its own inline script run, and no other."""
    response.headers["Content-Security-Policy"] = policy_with_inline_scripts(bytes(response.body).decode())
    return response


def install(app: FastAPI, prefix: str) -> None:
    """Docs page, OAuth2 redirect page and the Swagger UI assets, all under `prefix`/docs."""
    docs_url = f"{prefix}/docs"
    assets = f"{docs_url}/assets"
    oauth2_redirect_url = f"{docs_url}/oauth2-redirect"
    app.mount(assets, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")

    # The app is taken from the request, not closed over: FastAPI keeps each endpoint function in a
    # process-wide cache, and a closure over the app would keep every app a process ever made (tests
    # make one per test) alive, with its routes and engine.
    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        served: FastAPI = request.app
        return _hashed(get_swagger_ui_html(
            openapi_url=f"{root}{served.openapi_url}",
            title=f"{served.title} — 接口文档 / API docs",
            swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets}/favicon-32x32.png",
            oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            swagger_ui_parameters={"validatorUrl": None},
        ))

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _hashed(get_swagger_ui_oauth2_redirect_html())
