"""Process plumbing shared by the CLI, the tests and the benchmarks.

* :func:`activate` resolves the database and exports what dbt and Dagster read
  (``TALLY_PG*`` for ``profiles.yml``, ``DAGSTER_HOME`` with Postgres storage).
* :func:`run_dbt` and :func:`ensure_manifest`: from :mod:`orchestration.manifest`.
* :func:`execute_job` runs a Dagster job in-process against the persistent instance,
  so every run shows in the UI.
* :func:`redirect_output` sends a command's output (dbt's, Dagster's, the JVM's) to its
  log; :func:`demo_data_if_empty` is `tally run`'s first step on either engine.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestration.db import (
    DAGSTER_SCHEMA,
    PROJECT_ROOT,
    Database,
    connect,
    database,
    private_dir,
    tally_home,
    write_private,
)
from orchestration.errors import TallyError
from orchestration.manifest import (  # noqa: F401 - re-exported: the CLI and tests use runtime.*
    MANIFEST,
    PARSE_STATE,
    TARGET_DIR,
    dbt_executable,
    ensure_manifest,
    export_dbt_env,
    run_dbt,
)
from orchestration.runs import DOMAINS


def activate(db: Database | None = None, *, manifest: bool = True) -> Database:
    """Resolve the database and export the environment dbt and Dagster need; with
    ``manifest``, also make ``target/manifest.json`` fresh (importing the Dagster
    definitions reads it, so it must exist before any job module is imported)."""
    from orchestration import engine

    if engine.is_spark():
        engine.require_spark()  # one line, before anything is started or written
    db = db or database()
    export_dbt_env(db)
    os.environ["TALLY_DATABASE_URL"] = db.url
    # Child processes (dagster dev's code server, dbt) find the venv's executables even
    # when they are started through the resolved base interpreter.
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # A test runs only when every model it references is selected or upstream of the
    # selection: a check spanning two asset groups waits for the later one.
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    # dagster-dbt seeds each invocation's target dir with this dir's partial_parse.msgpack
    os.environ["DBT_TARGET_PATH"] = str(TARGET_DIR)
    _ensure_dagster_home(db)
    if manifest:
        ensure_manifest()
    return db


DAGSTER_URL_ENV = "TALLY_DAGSTER_PG_URL"


def dagster_yaml() -> str:
    """The generated ``dagster.yaml``: no secret in it, the storage URL is an ``env:``
    reference that :func:`activate` exports (``TALLY_DAGSTER_PG_URL``)."""
    return (
        "# Written by tally: Dagster's run/event/schedule storage in the Tally database.\n"
        f"# The URL (with any password) is read from ${DAGSTER_URL_ENV}, set by tally.\n"
        "# One pooled connection per storage instead of one per event\n"
        "# (orchestration/dagster_storage.py).\n"
        "storage:\n"
        "  custom:\n"
        "    module: orchestration.dagster_storage\n"
        "    class: PooledPostgresStorage\n"
        "    config:\n"
        "      postgres_url:\n"
        f"        env: {DAGSTER_URL_ENV}\n"
        "telemetry:\n"
        "  enabled: false\n"
        "run_monitoring:\n"
        "  enabled: true\n"
        "  max_runtime_seconds: 7200\n"
        "  start_timeout_seconds: 300\n"
        "  max_resume_run_attempts: 0\n"
        "  poll_interval_seconds: 60\n"
        "# Runs the daemon launches (schedules, sensors, Launchpad) wait in a queue: at most\n"
        "# one run at a time per domain it writes (tally/writes-<domain> tags: the tick\n"
        "# carries all five), so two ticks, or a tick and a rebuild of the same domain, wait\n"
        "# for each other instead of failing. The CLI runs in-process and takes per-domain\n"
        "# advisory locks instead (orchestration/runs.py).\n"
        "run_coordinator:\n"
        "  module: dagster\n"
        "  class: QueuedRunCoordinator\n"
        "  config:\n"
        "    # a queued run starts within a second, not Dagster's default five\n"
        "    dequeue_interval_seconds: 1\n"
        "    tag_concurrency_limits:\n"
        + "".join(f"      - key: tally/writes-{domain}\n        limit: 1\n" for domain in DOMAINS)
    )


def _ensure_dagster_home(db: Database) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or tally_home() / "dagster")
    private_dir(home)
    with connect(db.url, autocommit=True) as conn:
        _create_dagster_schema(conn, db)
    os.environ[DAGSTER_URL_ENV] = db.sqlalchemy_url()
    config = dagster_yaml()
    path = home / "dagster.yaml"
    if not path.exists() or path.read_text() != config or path.stat().st_mode & 0o077:
        write_private(path, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _create_dagster_schema(conn, db: Database) -> None:
    import psycopg

    exists = conn.execute(
        "select 1 from pg_namespace where nspname = %s", (DAGSTER_SCHEMA,)
    ).fetchone()
    if exists:
        return
    try:
        conn.execute(f"create schema {DAGSTER_SCHEMA}")
    except psycopg.errors.InsufficientPrivilege:
        raise TallyError(
            f"{db.user} may not create schema {DAGSTER_SCHEMA} in database {db.dbname}: "
            f"grant it CREATE (`grant create on database {db.dbname} to {db.user}`) "
            "or create the schemas staging, intermediate, marts, reference, ops and dagster for it"
        ) from None
    except psycopg.errors.DuplicateSchema:
        pass  # a concurrent command created it


def execute_job(
    job_name: str,
    *,
    run_config: Mapping[str, Any] | None = None,
    partition_range: tuple[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    asset_selection: Sequence[Any] | None = None,
    raise_on_error: bool = False,
):
    """Run a Dagster job in-process against the persistent instance; return the result."""
    ensure_manifest()
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    all_tags = dict(tags or {})
    if partition_range is not None:
        all_tags["dagster/asset_partition_range_start"] = partition_range[0]
        all_tags["dagster/asset_partition_range_end"] = partition_range[1]
    job = defs.resolve_job_def(job_name)
    # Terminal output stays one screen: Dagster's console logger at CRITICAL unless
    # TALLY_LOG_LEVEL says otherwise (every event is still stored and shown in the UI).
    config = dict(run_config or {})
    level = os.environ.get("TALLY_LOG_LEVEL", "CRITICAL").upper()
    config.setdefault("loggers", {"console": {"config": {"log_level": level}}})
    with DagsterInstance.get() as instance, run_guard(job_name, instance) as guard_tags:
        return job.execute_in_process(
            run_config=config,
            instance=instance,
            tags={**all_tags, **guard_tags},
            asset_selection=list(asset_selection) if asset_selection else None,
            raise_on_error=raise_on_error,
        )


@contextlib.contextmanager
def run_guard(job_name: str, instance: Any):
    """Around every in-process run: mark runs whose process died FAILURE, then hold the
    advisory locks of the domains the job writes (a concurrent CLI run of the same domain
    waits); yields the liveness tags the run must carry (orchestration/runs.py)."""
    from orchestration import runs

    reaped = runs.reap_dead_runs(instance)
    if reaped:
        print(f"tally: marked {len(reaped)} run(s) left STARTED by a dead process failed: {reaped}")
    domains = runs.job_domains(job_name)
    with runs.domain_locks(os.environ["TALLY_DATABASE_URL"], domains):
        yield {**runs.run_tags(), **({"tally/domains": ",".join(domains)} if domains else {})}


def failure_summary(result: Any) -> str:
    """One line describing why a Dagster run failed."""
    for event in result.all_events:
        data = event.step_failure_data if event.is_step_failure else None
        user = data.user_failure_data if data else None
        if user is not None and user.description:
            # a dagster.Failure raised on purpose (validation): its message as it is
            return user.description.strip().splitlines()[0]
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            message = event.step_failure_data.error.message.strip().splitlines()
            return (
                f"step {event.step_key} failed: {message[0] if message else 'see the Dagster UI'}"
            )
    return "the run failed; see the Dagster UI (tally ui) for its logs"


#: dbt tests that fail because a tenant's configuration is invalid (the tenant is skipped)
CONFIGURATION_CHECKS = (
    "assert_orders_valid_configuration",
    "assert_support_account_timezones_valid",
)
_SKIPPED = "its rows are kept as they were until it is fixed"


def dbt_failures(since: float) -> list[tuple[str, str, str]]:
    """(resource type, name, message) of every dbt node that errored or failed in an
    invocation that wrote its ``run_results.json`` under ``target/`` since ``since``."""
    import json

    found: list[tuple[str, str, str]] = []
    if not TARGET_DIR.exists():
        return found
    for path in TARGET_DIR.rglob("run_results.json"):
        try:
            if path.stat().st_mtime < since:
                continue
            results = json.loads(path.read_text()).get("results", [])
        except (OSError, ValueError):
            continue
        for r in results:
            if r.get("status") not in ("error", "fail", "runtime error"):
                continue
            uid = str(r.get("unique_id", "?"))
            lines = [ln.strip() for ln in str(r.get("message") or "").splitlines() if ln.strip()]
            useful = [
                ln
                for ln in lines
                if not ln.startswith(
                    (
                        "Database Error in",
                        "Runtime Error in",
                        "Compilation Error in",
                        "compiled code at",
                    )
                )
            ]
            message = (useful or lines or ["no message"])[0]
            found.append((uid.split(".")[0], uid.split(".")[-1], message[:300]))
    return found


def invalid_tenants(db: Database) -> list[str]:
    """One phrase per tenant the sliding window skips because its configuration is invalid
    (read from the views that flag them)."""
    from orchestration.manifest import relation

    phrases: list[str] = []
    try:
        organizations = relation("int_orders__organizations_validated", parse=False)
        accounts = relation("stg_support__accounts", parse=False)
        with connect(db.url) as conn:
            if conn.execute("select to_regclass(%s)", (organizations,)).fetchone()[0]:
                for org, tz, valid_tz, ex, _valid_ex in conn.execute(
                    "select organization_id, reporting_timezone, has_valid_timezone,"
                    " configured_exclusions::text, has_valid_exclusions"
                    f" from {organizations}"
                    " where not has_valid_timezone or not has_valid_exclusions order by 1"
                ).fetchall():
                    if not valid_tz:
                        problem = f"reporting_timezone {tz!r} is not an IANA name"
                    else:
                        problem = f"excluded_attributions {ex} is not a JSON array of strings"
                    phrases.append(f"organization {org}: {problem}; {_SKIPPED}")
            if conn.execute("select to_regclass(%s)", (accounts,)).fetchone()[0]:
                for acc, tz in conn.execute(
                    f"select account_id, reporting_timezone from {accounts}"
                    " where timezone is null and reporting_timezone is not null order by 1"
                ).fetchall():
                    phrases.append(
                        f"account {acc}: reporting_timezone {tz!r} is not an IANA name; {_SKIPPED}"
                    )
    except Exception:
        return phrases
    return phrases


def run_failure_line(result: Any, db: Database, since: float) -> str:
    """One line naming why a run failed: the failing dbt model and its error, and every
    tenant skipped for an invalid configuration (how to fix it)."""
    failures = dbt_failures(since)
    other = [f for f in failures if f[1] not in CONFIGURATION_CHECKS]
    parts = []
    if other:
        kind, name, message = other[0]
        more = f" (and {len(other) - 1} more)" if len(other) > 1 else ""
        parts.append(f"dbt {kind} {name} failed: {message}{more}")
    tenants = invalid_tenants(db) if len(other) < len(failures) or not failures else []
    if tenants:
        parts.append("; ".join(tenants) + " (fix it in raw; the other tenants are up to date)")
    if not parts:
        return failure_summary(result)
    return "; ".join(parts)


@contextlib.contextmanager
def redirect_output(path):
    """Send this process's stdout and stderr (file descriptors included: dbt, Dagster's
    handlers, libpq notices) to ``path`` for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def demo_data_if_empty(db: Database, domains) -> None:
    """`tally run`'s first step: demo data (scale 1, seed 42) when raw is empty."""
    from orchestration import datagen

    with db.connect() as conn:
        empty = datagen.is_empty(conn)
    if empty:
        print("database is empty: generating demo data (scale 1, seed 42) ...")
        with db.connect() as conn:
            counts = datagen.generate(conn, scale=1.0, seed=42, domains=list(domains))
        print(f"  loaded {sum(counts.values()):,} raw rows")
