"""Serve an ASGI app factory from N uvicorn processes, each on its own SO_REUSEPORT socket.

`uvicorn --workers N` shares one listening socket, and the worker that wakes
first accepts every connection waiting.  wrk opens its 32 connections at once,
and runs were seen with all of them on one worker: half the machine idle and
the run's rate halved, for the bare app and the real one alike.  With one
socket per process, all bound to the port before any process starts, the
kernel spreads connections over them by their addresses, as `gunicorn
--reuse-port` and nginx's `reuseport` do.  Both apps of the benchmark are
served this way.

    python -m bench.serve services.api.app:create_app --port 8000 --workers 2
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from types import FrameType


def reuseport_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_child(factory: str, fd: int) -> None:
    # Not `uvicorn --fd`: it opens the descriptor as a Unix socket, so accepted TCP
    # connections never get TCP_NODELAY and every response waits out a delayed ACK.
    import uvicorn

    sock = socket.socket(fileno=fd)
    config = uvicorn.Config(factory, factory=True, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("factory", help="module:function returning the ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_fd is not None:
        serve_child(args.factory, args.child_fd)
        return
    sockets = [reuseport_socket(args.host, args.port) for _ in range(args.workers)]
    children = [
        subprocess.Popen([sys.executable, "-m", "bench.serve", args.factory, "--port", str(args.port),
                          "--child-fd", str(s.fileno())], pass_fds=(s.fileno(),))
        for s in sockets
    ]
    for s in sockets:
        s.close()  # each child holds its own

    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Only noted here: the handler runs inside the main loop's wait, and Popen.wait() holds a
        # lock a wait in the handler cannot take, so waiting here always ran out its 8 s and killed.
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and any(child.poll() is None for child in children):
        time.sleep(0.05)
    if stopping:
        for child in children:
            child.terminate()
        for child in children:  # never leave a worker behind: the benchmark's next app needs the cores
            try:
                child.wait(8)
            except subprocess.TimeoutExpired:
                child.kill()
    codes = [child.wait() for child in children]
    sys.exit(max(codes, default=0))


if __name__ == "__main__":
    main()
