"""/api/v1/docs works without internet: the page and everything it loads come from the app itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit


def test_docs_page_references_only_same_origin_urls_and_they_answer(api) -> None:  # type: ignore[no-untyped-def]
    client = api.anonymous()
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.text
    assert not re.search(r"(?i)\b(?:https?:)?//[a-z0-9.-]+", html.replace("http://testserver", "")), html
    referenced = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html)
    urls = {u for pair in referenced for u in pair if u}
    assert {"/api/v1/openapi.json", "/api/v1/docs/assets/swagger-ui-bundle.js",
            "/api/v1/docs/assets/swagger-ui.css"} <= urls
    for url in urls:
        assert not urlsplit(url).netloc, url
        got = client.get(url)
        assert got.status_code == 200, url
        assert got.content, url
    assert "SwaggerUIBundle" in client.get("/api/v1/docs/assets/swagger-ui-bundle.js").text


def test_the_oauth2_redirect_page_is_served_too(api) -> None:  # type: ignore[no-untyped-def]
    assert api.anonymous().get("/api/v1/docs/oauth2-redirect").status_code == 200



def test_no_endpoint_keeps_its_app_alive(app) -> None:  # type: ignore[no-untyped-def]
    """FastAPI keeps every endpoint function it has classified in a process-wide cache (4,096 entries),
    so an endpoint closing over its app kept the app (routes, engine, caches) alive: the suite, which
    makes one app per test, grew to millions of objects that every garbage collection walked.
    Endpoints find their app on the request instead."""
    from fastapi import FastAPI
    from starlette.routing import Mount

    def closes_over_an_app(call: object) -> bool:
        cells = getattr(call, "__closure__", None) or ()
        return any(isinstance(c.cell_contents, FastAPI) for c in cells)

    def endpoints(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (the API's and the pages')
                yield from endpoints(route.original_router.routes)
            elif not isinstance(route, Mount) and hasattr(route, "endpoint"):
                yield route.endpoint

    ours = [e for e in endpoints(app.router.routes) if not e.__module__.startswith("fastapi")]
    assert len(ours) > 100
    assert [e.__qualname__ for e in ours if closes_over_an_app(e)] == []
