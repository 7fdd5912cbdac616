"""CPU seconds spent by process groups during a load run, from /proc (Linux).

Says where the two cores went: the API workers, PostgreSQL's backends, the
load generator, or something else on the machine (other jobs sharing it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(comm, parent pid, CPU seconds incl. reaped children) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return comm, ppid, ticks / _TICK


def _processes() -> dict[int, tuple[str, int, float]]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                out[int(entry.name)] = st
    return out


def _tree(root: int, procs: dict[int, tuple[str, int, float]]) -> set[int]:
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (_c, ppid, _s) in procs.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return members


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot."""
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(x) for x in parts]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICK


@dataclass
class Snapshot:
    server: float
    postgres: dict[int, float]  # every PostgreSQL process on the machine, by pid
    busy: float


def snapshot(server_pid: int) -> Snapshot:
    procs = _processes()
    server = sum(procs[p][2] for p in _tree(server_pid, procs) if p in procs)
    postgres = {pid: s for pid, (comm, _pp, s) in procs.items() if comm.startswith("postgres")}
    return Snapshot(server=server, postgres=postgres, busy=machine_busy_seconds())


def delta(before: Snapshot, after: Snapshot, wall: float, client_cpu: float, requests: int) -> dict[str, float]:
    """CPU use during the run, in cores (CPU s / wall s) and in CPU ms per request.

    PostgreSQL counts every backend on the machine (other databases too) that
    lived through the whole run; backends that started or ended meanwhile are
    missed, so the figure is a lower bound.
    """
    server = after.server - before.server
    postgres = sum(after.postgres[p] - before.postgres[p] for p in after.postgres if p in before.postgres)
    busy = after.busy - before.busy
    other = max(0.0, busy - server - postgres - client_cpu)
    per = 1000 / max(1, requests)
    return {
        "server_cores": round(server / wall, 2), "postgres_cores": round(postgres / wall, 2),
        "client_cores": round(client_cpu / wall, 2), "other_cores": round(other / wall, 2),
        "busy_cores": round(busy / wall, 2),
        "server_cpu_ms_per_request": round(server * per, 3),
        "postgres_cpu_ms_per_request": round(postgres * per, 3),
        "client_cpu_ms_per_request": round(client_cpu * per, 3),
    }
