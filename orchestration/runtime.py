"""Process plumbing shared by the CLI, the tests and the benchmarks.

* :func:`activate` resolves the database and exports what dbt and Dagster read
  (``TALLY_PG*`` for ``profiles.yml``, ``DAGSTER_HOME`` with Postgres storage).
* :func:`run_dbt` runs the venv's dbt against the project.
* :func:`ensure_manifest` keeps ``target/manifest.json`` fresh (Dagster loads it).
* :func:`execute_job` runs a Dagster job in-process against the persistent instance,
  so every run shows in the UI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestration.db import DAGSTER_SCHEMA, PROJECT_ROOT, Database, connect, database, tally_home
from orchestration.errors import TallyError

TARGET_DIR = PROJECT_ROOT / os.environ.get("TALLY_DBT_TARGET", "target")
MANIFEST = TARGET_DIR / "manifest.json"
_DBT_INPUTS = ("models", "macros", "seeds", "tests/dbt", "dbt_project.yml", "profiles.yml")


def activate(db: Database | None = None) -> Database:
    """Resolve the database and export the environment dbt and Dagster need."""
    db = db or database()
    os.environ.update(db.dbt_env())
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
    return db


def _ensure_dagster_home(db: Database) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or tally_home() / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    with connect(db.url, autocommit=True) as conn:
        conn.execute(f"create schema if not exists {DAGSTER_SCHEMA}")
    config = (
        "# Written by tally: Dagster's run/event/schedule storage in the Tally database.\n"
        "storage:\n"
        "  postgres:\n"
        f'    postgres_url: "{db.sqlalchemy_url()}"\n'
        "telemetry:\n"
        "  enabled: false\n"
        "run_monitoring:\n"
        "  enabled: true\n"
        "  max_runtime_seconds: 7200\n"
    )
    path = home / "dagster.yaml"
    if not path.exists() or path.read_text() != config:
        path.write_text(config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: Sequence[str], *, check: bool = True, capture: bool = False, quiet: bool = False
) -> subprocess.CompletedProcess:
    """Run dbt on the project (call :func:`activate` first)."""
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
    ]
    if quiet:
        cmd.insert(1, "--quiet")
    env = {**os.environ, "DBT_TARGET_PATH": str(TARGET_DIR)}
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=capture, text=True)
    if check and proc.returncode != 0:
        detail = ""
        if capture:
            errors = [
                ln for ln in (proc.stdout or "").splitlines() if "Error" in ln or "error" in ln
            ]
            detail = f": {errors[-1].strip()}" if errors else ""
        raise TallyError(f"dbt {' '.join(args[:1])} failed{detail}; see logs/dbt.log")
    return proc


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in _DBT_INPUTS:
        path = PROJECT_ROOT / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for f in path.rglob("*"):
                if f.is_file():
                    newest = max(newest, f.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """``dbt parse`` when the manifest is missing or older than any dbt input."""
    if not MANIFEST.exists() or MANIFEST.stat().st_mtime < _newest_input_mtime():
        run_dbt(["parse"], capture=True, quiet=True)
    return MANIFEST


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
    with DagsterInstance.get() as instance:
        return job.execute_in_process(
            run_config=config,
            instance=instance,
            tags=all_tags,
            asset_selection=list(asset_selection) if asset_selection else None,
            raise_on_error=raise_on_error,
        )


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
