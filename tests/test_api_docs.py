"""/api/v1/docs works without internet: the page and everything it loads come from the app itself."""

from __future__ import annotations

import re
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
