"""Sign-in at the HTTP boundary, shared by the JSON API and the pages.

- The one place the session cookie is set and cleared: HttpOnly (no script
  reads it), SameSite=Lax (a cross-site POST does not carry it) and Secure
  whenever the site is served over https.
- The client address the sign-in throttle counts by.
- ``Retry-After`` on every 429 the API answers: the envelope is the error
  handler's, this adds the header clients and proxies honour.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.responses import Response as StarletteResponse

from services.api.deps import SESSION_COOKIE
from shared.errors import DomainError, TooManyRequests
from shared.settings import Settings

# When a 429 does not say how long to wait.
DEFAULT_RETRY_AFTER = 60


def secure_cookies(settings: Settings) -> bool:
    return settings.base_url.lower().startswith("https://")


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.token_ttl_hours * 3600, path="/",
                        httponly=True, samesite="lax", secure=secure_cookies(settings))


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=secure_cookies(settings))


def client_address(request: Request) -> str:
    """The client's address; behind the proxy, uvicorn's --proxy-headers has already put the real one here."""
    return request.client.host if request.client else ""


def retry_after_seconds(exc: Exception) -> int:
    return int(getattr(exc, "retry_after", DEFAULT_RETRY_AFTER))


def install(app: FastAPI) -> None:
    """Answer every 429 as the domain error handler does, plus Retry-After."""
    render = app.exception_handlers[DomainError]

    async def too_many_requests(request: Request, exc: Exception) -> StarletteResponse:
        response: StarletteResponse = await render(request, exc)  # type: ignore[misc]
        response.headers["Retry-After"] = str(retry_after_seconds(exc))
        return response

    app.add_exception_handler(TooManyRequests, too_many_requests)
