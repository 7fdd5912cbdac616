"""A server process lets a few ordinary requests in at once; exports, uploads and downloads go beside them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.api.admission import Admission, is_heavy
from services.api.app import create_app
from shared.settings import Settings


def _scope(path: str, query: str = "", content_type: str | None = None, method: str = "GET") -> dict[str, Any]:
    headers = [(b"host", b"localhost")]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    return {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": headers}


@pytest.mark.parametrize(("scope", "heavy"), [
    (_scope("/queue"), False),
    (_scope("/cases/12"), False),
    (_scope("/cases", "q=GZ-2026-000022&status=open"), False),
    (_scope("/api/v1/cases", "format=json"), False),
    (_scope("/cases/12/comment", content_type="application/x-www-form-urlencoded", method="POST"), False),
    (_scope("/cases", "status=open&format=xlsx"), True),
    (_scope("/api/v1/cases", "format=xlsx"), True),
    (_scope("/admin/audit", "format=xlsx"), True),
    (_scope("/cases/12/attachments", content_type="multipart/form-data; boundary=x", method="POST"), True),
    (_scope("/api/v1/attachments/5/content"), True),
    (_scope("/api/v1/campaigns/3/summary.docx"), True),
    (_scope("/reports/archive/7/xlsx"), True),
    (_scope("/api/v1/reports/weekly/2026-W48"), True),
    (_scope("/ics/abc.ics"), True),
])
def test_exports_uploads_and_downloads_are_told_from_ordinary_requests(scope: dict[str, Any], heavy: bool) -> None:
    assert is_heavy(scope) is heavy


class _Held:
    """An application whose requests stay inside until released: it counts how many are in at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.entered: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.entered.append(scope["path"])
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        finally:
            self.inside -= 1


async def _call(app: Admission, scope: dict[str, Any]) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def test_ordinary_requests_wait_their_turn_in_order_while_an_export_goes_beside() -> None:
    async def scenario() -> None:
        held = _Held()
        gate = Admission(held, limit=2)
        first = [asyncio.create_task(_call(gate, _scope(f"/cases/{i}"))) for i in range(5)]
        await asyncio.sleep(0.05)
        assert held.entered == ["/cases/0", "/cases/1"]  # two places: the others wait outside
        export = asyncio.create_task(_call(gate, _scope("/cases", "format=xlsx")))
        await asyncio.sleep(0.05)
        assert held.entered[-1] == "/cases" and held.inside == 3  # the export took no place
        held.release.set()
        assert await asyncio.gather(*first, export) == [200] * 6
        assert held.entered[:6] == ["/cases/0", "/cases/1", "/cases", "/cases/2", "/cases/3", "/cases/4"]
        assert held.most == 3

    asyncio.run(scenario())


def test_no_limit_lets_every_request_in() -> None:
    async def scenario() -> None:
        held = _Held()
        gate = Admission(held, limit=0)
        calls = [asyncio.create_task(_call(gate, _scope(f"/cases/{i}"))) for i in range(6)]
        await asyncio.sleep(0.05)
        assert held.inside == 6
        held.release.set()
        await asyncio.gather(*calls)

    asyncio.run(scenario())


def test_the_app_admits_as_many_as_its_setting_says() -> None:
    app = create_app(Settings(demo=True, concurrent_requests=5))
    gates = [m for m in app.user_middleware if m.cls is Admission]
    assert len(gates) == 1 and gates[0].kwargs == {"limit": 5}


class _Echo:
    """An application that reads the whole body and answers with it; the number inside is counted."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        try:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            await asyncio.sleep(0.01)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
        finally:
            self.inside -= 1


async def _post(app: Admission, chunks: list[bytes], *, stall: asyncio.Event | None = None) -> bytes:
    """POST CHUNKS as the body; with STALL, the last chunk waits until it is set (a slow client)."""
    queue = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        chunk = queue.pop(0)
        if not queue and stall is not None:
            await stall.wait()
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _scope("/cases/1/comment", content_type="application/x-www-form-urlencoded", method="POST")
    scope["headers"].append((b"content-length", str(sum(map(len, chunks))).encode()))
    await app(scope, receive, send)
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_client_sending_its_form_slowly_holds_no_place_and_the_form_arrives_whole() -> None:
    async def scenario() -> None:
        echo = _Echo()
        gate = Admission(echo, limit=1)
        stall = asyncio.Event()
        slow = asyncio.create_task(_post(gate, [b"text=", "催办".encode(), b"&version=3"], stall=stall))
        await asyncio.sleep(0.02)
        assert echo.inside == 0  # still reading its body: not in, and no place taken
        assert await asyncio.wait_for(_post(gate, [b"a=1"]), 1) == b"a=1"  # the one place was free
        stall.set()
        assert (await slow).decode() == "text=催办&version=3"

    asyncio.run(scenario())


def test_a_body_too_large_to_hold_goes_in_without_a_place_and_arrives_whole() -> None:
    async def scenario() -> None:
        echo = _Echo()
        gate = Admission(echo, limit=1)
        chunk = b"x" * (256 * 1024)
        large = [chunk] * 6  # 1.5 MiB: more than the middleware holds
        results = await asyncio.gather(_post(gate, large), _post(gate, large), _post(gate, [b"small"]))
        assert [len(r) for r in results] == [6 * len(chunk), 6 * len(chunk), 5]
        assert echo.most >= 2  # the large ones did not wait for a place

    asyncio.run(scenario())


def test_the_place_is_given_up_when_the_answer_starts() -> None:
    async def scenario() -> None:
        written = asyncio.Event()
        order: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            order.append(f"in {scope['path']}")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"page"})
            order.append(f"out {scope['path']}")

        async def slow_network(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                await written.wait()  # the first answer is still being written to its client

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        gate = Admission(app, limit=1)
        first = asyncio.create_task(gate(_scope("/cases/1"), receive, slow_network))
        await asyncio.sleep(0.02)
        second = asyncio.create_task(_call(gate, _scope("/cases/2")))
        assert await asyncio.wait_for(second, 1) == 200
        assert order == ["in /cases/1", "in /cases/2", "out /cases/2"]
        written.set()
        await first

    asyncio.run(scenario())
