"""Rendering many weekly-summary artefacts at once, on every core.

The weekly job renders the full report and one section per department, each as
the email, the Word file and the workbook.  For a large city that is about a
million spreadsheet cells and a hundred documents: pure-Python work (XlsxWriter,
python-docx, Jinja2) that a single process does at one core's speed, while the
server it runs on has several.  Each set of artefacts is a pure function of a
report, its rows and a language, so the sets are shared out between this process
and helper processes when there is enough to render to pay for starting them
(`Settings.report_render_processes`, `Settings.report_render_parallel_rows`);
otherwise everything renders here.  Either way the files are the same.

The helpers are plain child interpreters (``python -m shared.reports.render.batch``)
given their share as pickles on stdin and answering on stdout, not a
``multiprocessing`` pool: the job runs in a Celery prefork pool process, which is
daemonic, and ``multiprocessing`` refuses to start children from one.  A helper
whose parent dies reads end-of-file or writes into a closed pipe, and exits.
"""

from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from shared.reports.model import ReportRows, WeeklyReport
from shared.reports.render.docx import render_docx
from shared.reports.render.email import RenderedEmail, render_email
from shared.reports.render.xlsx import render_xlsx

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Artefacts:
    """One report's three forms, in one language."""

    email: RenderedEmail
    docx: bytes
    xlsx: bytes


@dataclass(frozen=True)
class Job:
    report: WeeklyReport
    rows: ReportRows
    language: str


def render_set(job: Job, base_url: str, timezone: str) -> Artefacts:
    """The email, the Word file and the workbook of one report in one language."""
    return Artefacts(
        email=render_email(job.report, language=job.language, base_url=base_url, timezone=timezone),
        docx=render_docx(job.report, language=job.language, timezone=timezone),
        xlsx=render_xlsx(job.report, job.rows, language=job.language, timezone=timezone),
    )


@dataclass
class RenderStats:
    """What rendering cost, wherever it ran: CPU seconds and the largest resident size of a
    process that rendered (the benchmark reads them; the pool's workers are not our children)."""

    processes: int = 1
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    sets: list[float] = field(default_factory=list)

    def add(self, cpu_s: float, peak_rss_mb: float) -> None:
        self.cpu_s += cpu_s
        self.sets.append(cpu_s)
        self.peak_rss_mb = max(self.peak_rss_mb, peak_rss_mb)


def _measured(job: Job, base_url: str, timezone: str) -> tuple[Artefacts, float, float]:
    started = time.process_time()
    artefacts = render_set(job, base_url, timezone)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return artefacts, time.process_time() - started, peak_mb


def processes_for(configured: int) -> int:
    """0 means one per CPU this process may run on."""
    if configured:
        return configured
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _rows(job: Job) -> int:
    return len(job.rows.assignments_due) + len(job.rows.overdue) + len(job.rows.callbacks)


# What a set costs besides its rows (the Word file, the email, an empty workbook), in rows:
# measured on the 1M-case week, the full report's 45,800 rows took 3.1 CPU-s and the 50
# sections' 45,800 rows 7.5 CPU-s, about 0.09 s (~1,300 rows) more per set.
SET_COST_ROWS = 1300


def _weight(job: Job) -> int:
    return _rows(job) + SET_COST_ROWS


def _share_out(sizes: Sequence[int], parts: int) -> list[list[int]]:
    """Indexes into `parts` lists of nearly equal total size (largest first, each to the lightest)."""
    shares: list[list[int]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        lightest = loads.index(min(loads))
        shares[lightest].append(i)
        loads[lightest] += sizes[i]
    return shares


def render_many(jobs: Sequence[tuple[K, Job]], *, base_url: str, timezone: str, processes: int,
                parallel_rows: int, stats: RenderStats | None = None) -> Iterator[tuple[K, Artefacts]]:
    """Each job's artefacts, in the jobs' order.

    Shared between this process and PROCESSES - 1 helpers when there are several
    jobs and at least PARALLEL_ROWS rows among them; all here otherwise.
    """
    stats = stats if stats is not None else RenderStats()
    workers = min(processes_for(processes), len(jobs))
    if workers < 2 or sum(_rows(job) for _key, job in jobs) < parallel_rows:
        for key, job in jobs:
            artefacts, cpu_s, peak_mb = _measured(job, base_url, timezone)
            stats.add(cpu_s, peak_mb)
            yield key, artefacts
        return
    stats.processes = workers
    # This process already holds every section: it takes the lightest share, the helpers the rest.
    *theirs, mine = _share_out([_weight(job) for _key, job in jobs], workers)
    helpers: list[tuple[list[int], subprocess.Popen[bytes], IO[bytes]]] = []
    done: dict[int, Artefacts] = {}
    try:
        for share in theirs:
            errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, with the helper
            helper = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=errors)
            helpers.append((share, helper, errors))
            assert helper.stdin is not None
            # The helper reads all of its share before it renders, so this write cannot wait on it.
            _send(helper.stdin, [jobs[i][1] for i in share], base_url, timezone)
            helper.stdin.close()
        for i in mine:
            artefacts, cpu_s, peak_mb = _measured(jobs[i][1], base_url, timezone)
            stats.add(cpu_s, peak_mb)
            done[i] = artefacts
        for share, helper, errors in helpers:
            assert helper.stdout is not None
            out = helper.stdout.read()
            if helper.wait() != 0:
                errors.seek(0)
                raise RuntimeError(f"report render helper failed ({helper.returncode}): "
                                   f"{errors.read().decode(errors='replace')[-2000:]}")
            for i, (artefacts, cpu_s, peak_mb) in zip(share, pickle.loads(out), strict=True):
                stats.add(cpu_s, peak_mb)
                done[i] = artefacts
    finally:
        for _share, helper, errors in helpers:
            if helper.poll() is None:
                helper.kill()
                helper.wait()
            if helper.stdout is not None:
                helper.stdout.close()
            errors.close()
    for i, (key, _job) in enumerate(jobs):
        yield key, done[i]


# Rows travel in pickles of this many: a pickle remembers every object it wrote until it
# ends, and one pickle of a large city's week would add ~50 MB to the job for that alone.
CHUNK_ROWS = 2000


def _send(out: IO[bytes], jobs: Sequence[Job], base_url: str, timezone: str) -> None:
    def dump(value: object) -> None:
        pickle.dump(value, out, pickle.HIGHEST_PROTOCOL)

    dump((len(jobs), base_url, timezone))
    for job in jobs:
        lists = (job.rows.assignments_due, job.rows.overdue, job.rows.callbacks)
        dump((job.report, job.language, [len(rows) for rows in lists]))
        for rows in lists:
            for start in range(0, len(rows), CHUNK_ROWS):
                dump(rows[start:start + CHUNK_ROWS])


def _receive(source: IO[bytes]) -> tuple[list[Job], str, str]:
    def take(count: int) -> list[Any]:
        got: list[Any] = []
        while len(got) < count:
            got += pickle.load(source)
        return got

    n, base_url, timezone = pickle.load(source)
    jobs = []
    for _ in range(n):
        report, language, counts = pickle.load(source)
        due, overdue, callbacks = (take(count) for count in counts)
        jobs.append(Job(report, ReportRows.model_construct(assignments_due=due, overdue=overdue, callbacks=callbacks),
                        language))
    return jobs, base_url, timezone


def _serve() -> None:
    """A helper: render the share read from stdin, answer on stdout."""
    jobs, base_url, timezone = _receive(sys.stdin.buffer)
    answers: list[Any] = [_measured(job, base_url, timezone) for job in jobs]
    pickle.dump(answers, sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    # Through the module's own name, so what goes back pickles as shared.reports.render.batch.Artefacts.
    from shared.reports.render import batch

    batch._serve()
