"""A counting SMTP sink (aiosmtpd) run as its own process, so it never shares a GIL with a sender.

    python -m bench.smtp_sink PORT

Prints ``READY`` once listening; on SIGTERM or SIGINT prints one JSON line
``{"messages": n, "bytes": b}`` and exits.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages += len(envelope.rcpt_tos)
        self.bytes += len(envelope.content or b"")
        return "250 OK"


def main() -> None:
    port = int(sys.argv[1])
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=30)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print("READY", flush=True)
    stopped.wait()
    controller.stop()
    print(json.dumps({"messages": handler.messages, "bytes": handler.bytes}), flush=True)


if __name__ == "__main__":
    main()
