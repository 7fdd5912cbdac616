"""A few ordinary requests at a time in each server process; the rest wait their turn, in order.

Pages and API answers are synchronous handlers: each request runs on one of anyio's
40 threads.  With eight connections a process ran eight requests at once, and they
took turns at the GIL every few milliseconds: every request finished about as late
as the slowest, and the turn-taking itself cost CPU.  Like a server of a few worker
threads, only ``limit`` requests are let into the application at once; the others
wait on the event loop, which costs nothing, and go in as places free up, first
come first served.  Four places (GONGZHI_CONCURRENT_REQUESTS): fewer left the
database's time of one request unused while others waited (a search by name
lost 14 % of its rate at three), more brought the turn-taking back.  At eight
connections a process, side by side with no limit, the case page's p95 fell from
116 to 98 ms and its rate rose 10 %; BENCHMARKS.md §5 has the figures.

Heavy requests take no place: an export (``format=xlsx``), an upload (a multipart
body), a file or report download, a calendar feed.  One of them can run for
seconds, and must not hold up everyone's queue and case pages in its process
meanwhile; they run beside the ordinary ones, as every request did before.

A place is held only while the application works, not while the network does:
a request's body (a form, a JSON command) is read in full before it takes one,
so a client sending slowly cannot hold places, and the place is given up when
the answer starts, before it is compressed and written out.  A body larger than
BODY_BUFFER_BYTES (no form or command is) goes in without a place.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.routes import API_PREFIX

# What a path of a heavy request starts or ends with (services/api/routes and pages).
HEAVY_PREFIXES = ("/reports", f"{API_PREFIX}/reports", "/ics/")
HEAVY_SUFFIXES = ("/content", ".docx", ".ics")
EXPORT_FORMATS = frozenset({"xlsx", "docx", "ics", "csv", "pdf"})
BODY_BUFFER_BYTES = 1024 * 1024


def is_heavy(scope: Scope) -> bool:
    """Whether the request may run for long: it then takes no place (module docstring)."""
    path: str = scope.get("path", "")
    if path.startswith(HEAVY_PREFIXES) or path.endswith(HEAVY_SUFFIXES):
        return True
    query: bytes = scope.get("query_string", b"")
    if b"format=" in query and any(key == "format" and value in EXPORT_FORMATS
                                   for key, value in parse_qsl(query.decode("latin-1"))):
        return True
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.lstrip().lower().startswith(b"multipart/")
    return False


class Admission:
    """ASGI middleware: at most LIMIT ordinary requests inside APP at once (0: no limit)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        # One semaphore per event loop: a test client runs each app on a loop of its own.
        self._places: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limit or is_heavy(scope):
            await self.app(scope, receive, send)
            return
        if _has_body(scope):
            read, complete = await _read_body(receive)
            receive = _replay(read, receive)
            if not complete:
                await self.app(scope, receive, send)
                return
        loop = asyncio.get_running_loop()
        places = self._places.get(loop)
        if places is None:
            places = self._places.setdefault(loop, asyncio.Semaphore(self.limit))
        await places.acquire()
        held = True

        # Not named "message": the catalog extraction (the Makefile's -k message) reads strings after that name as keys.
        async def send_then_free(event: Message) -> None:
            nonlocal held
            if held and event["type"] == "http.response.start":
                held = False
                places.release()
            await send(event)

        try:
            await self.app(scope, receive, send_then_free)
        finally:
            if held:
                places.release()


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if (name == b"content-length" and value.strip() not in (b"", b"0")) or name == b"transfer-encoding":
            return True
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bool]:
    """The body's messages as they came, up to BODY_BUFFER_BYTES; and whether that was all of it."""
    read: list[Message] = []
    size = 0
    while True:
        event = await receive()
        read.append(event)
        if event["type"] != "http.request" or not event.get("more_body", False):
            return read, True
        size += len(event.get("body", b""))
        if size > BODY_BUFFER_BYTES:
            return read, False


def _replay(read: list[Message], receive: Receive) -> Receive:
    """RECEIVE that first gives back the messages already READ."""
    pending = list(read)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
