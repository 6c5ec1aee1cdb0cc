"""Runs the command line starts: they never overlap, and none is left STARTED forever.

* :func:`domain_locks` - a CLI-launched run (``tally tick``, ``run``, ``rebuild``, ...)
  executes in-process, which bypasses Dagster's run queue; it holds a session advisory
  lock per domain it writes for its whole duration, so a second tick, or a tick and a
  rebuild of the same domain, wait for each other (they do not fail). The lock dies
  with the process (kill -9 included). Runs launched by the daemon (schedules, sensors,
  the Launchpad) are queued by the ``QueuedRunCoordinator`` of the generated
  ``dagster.yaml`` instead: at most one run at a time per domain, through the
  :func:`queue_tags` every job carries (a tick waits for a rebuild, it does not fail).
* :func:`reap_dead_runs` - every CLI run carries ``tally/pid``, ``tally/host`` and
  ``tally/started`` tags; a run still STARTED whose process is gone (kill -9, the
  database stopped mid-run) is marked FAILURE at the start of the next command.
  Daemon-launched runs are covered by Dagster's run monitoring (``dagster.yaml``).
* :func:`stuck_runs` - what ``tally health`` reports.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psycopg

DOMAINS = ("orders", "snapshots", "support", "commerce", "platform")
LOCK_CLASS = 20016  # advisory lock namespace (int4) of CLI-launched runs, one key per domain
PID_TAG, HOST_TAG, STARTED_TAG = "tally/pid", "tally/host", "tally/started"
#: a run without a tally/pid tag counts as stuck once it is older than this (the
#: run monitoring's max_runtime_seconds in dagster.yaml)
MAX_RUNTIME_SECONDS = 7200


def job_domains(job_name: str) -> tuple[str, ...]:
    """The domains a job writes (the tick and `tally run` write every domain)."""
    if job_name in ("tick", "materialize_all"):
        return DOMAINS
    for domain in DOMAINS:
        if job_name.startswith(domain) or job_name.endswith(domain):
            return (domain,)
    named = {"recompute_snapshots": "snapshots", "support_rollup": "support"}
    return (named[job_name],) if job_name in named else ()


@contextlib.contextmanager
def domain_locks(url: str, domains: Sequence[str]) -> Iterator[None]:
    """Hold the session advisory lock of every domain (in a fixed order: no deadlock)."""
    if not domains:
        yield
        return
    with psycopg.connect(url, autocommit=True) as conn:
        for domain in sorted(domains):
            conn.execute("select pg_advisory_lock(%s, %s)", (LOCK_CLASS, DOMAINS.index(domain)))
        yield  # closing the connection releases them


#: the run-queue tag of each domain: a daemon-launched run carries one per domain it writes,
#: and the generated dagster.yaml allows one queued run per tag at a time
QUEUE_TAG = "tally/writes-{domain}"


def queue_tags(job_name: str) -> dict[str, str]:
    """The job's run-queue tags: one per domain it writes (the tick carries all five, so it
    waits for a rebuild of any domain, and a rebuild waits for the tick)."""
    return {QUEUE_TAG.format(domain=d): "true" for d in job_domains(job_name)}


def run_tags() -> dict[str, str]:
    """Tags that let a later command tell whether this process is still alive."""
    return {
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        STARTED_TAG: str(_process_start(os.getpid()) or ""),
    }


def _process_start(pid: int) -> float | None:
    try:
        import psutil

        return round(psutil.Process(pid).create_time(), 2)
    except Exception:
        return None


@dataclass(frozen=True)
class StuckRun:
    run_id: str
    job_name: str
    status: str
    age_seconds: float
    reason: str


def _alive(tags: dict[str, str]) -> bool | None:
    """True/False for a CLI run on this host; None when it cannot be told."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return None
    started = _process_start(int(tags[PID_TAG]))
    if started is None:
        return False
    return not tags.get(STARTED_TAG) or abs(started - float(tags[STARTED_TAG])) < 1


def stuck_runs(instance) -> list[StuckRun]:
    """Runs in progress whose process is gone, or older than the maximum runtime."""
    from dagster import DagsterRunStatus, RunsFilter

    out = []
    now = time.time()
    records = instance.get_run_records(
        RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])
    )
    for record in records:
        run = record.dagster_run
        started = record.start_time or record.create_timestamp.timestamp()
        age = now - started
        alive = _alive(run.tags)
        if alive is False:
            reason = f"its process {run.tags[PID_TAG]} is gone"
        elif alive is None and age > MAX_RUNTIME_SECONDS:
            reason = f"running for more than {MAX_RUNTIME_SECONDS // 3600} h"
        else:
            continue
        out.append(StuckRun(run.run_id, run.job_name, run.status.value, age, reason))
    return out


def reap_dead_runs(instance) -> list[str]:
    """Mark FAILURE every CLI run left STARTED by a process that is gone."""
    reaped = []
    for stuck in stuck_runs(instance):
        run = instance.get_run_by_id(stuck.run_id)
        if run is None or _alive(run.tags) is not False:
            continue  # the daemon's run monitoring owns runs it launched
        instance.report_run_failed(
            run, message=f"tally: {stuck.reason}; marked failed by the next command"
        )
        reaped.append(stuck.run_id)
    return reaped
