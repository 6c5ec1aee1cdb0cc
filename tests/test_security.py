"""Issue 16 F3: the reader logs in as itself, the embedded server wants passwords on its
socket only, and no generated file is world-readable or holds a secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from orchestration.db import Database
from orchestration.reader.connection import reader_connection

TALLY = Path(sys.executable).parent / "tally"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: what a reader session tries in order to become someone else or to write
ESCALATIONS = [
    "reset role",
    "set role postgres",
    "set session authorization postgres",
    "set role pg_write_all_data",
    "set role pg_read_server_files",
    "create table public.escalated (x int)",
    "create schema escalated",
    "create temp table escalated (x int)",
    "select pg_read_file('postmaster.pid')",
    "copy (select 1) to program 'true'",
    "alter role tally_reader superuser",
    "select * from raw.secret_table",
    "grant postgres to tally_reader",
]


def _tally(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TALLY), *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=180,
    )


@pytest.fixture(scope="module")
def embedded_home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("secure") / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("TALLY_DATABASE_URL", "DAGSTER_HOME")}
    env["TALLY_HOME"] = str(home)
    started = _tally(env, "db", "start")
    assert started.returncode == 0, started.stderr
    saved = os.environ.get("TALLY_HOME")
    os.environ["TALLY_HOME"] = str(home)  # the in-process reader keeps its secret there
    try:
        yield home, env, _tally(env, "db", "url").stdout.strip()
    finally:
        if saved is None:
            os.environ.pop("TALLY_HOME", None)
        else:
            os.environ["TALLY_HOME"] = saved
        _tally(env, "db", "stop")


def test_embedded_server_wants_a_password_on_its_socket_only(embedded_home, figures) -> None:
    home, _env, url = embedded_home
    hba = [
        ln.split()
        for ln in (home / "pgdata" / "pg_hba.conf").read_text().splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    assert hba == [["local", "all", "all", "scram-sha-256"]]
    with psycopg.connect(url) as conn:
        assert conn.execute("show listen_addresses").fetchone() == ("",)
    password = (home / "secrets" / "postgres").read_text().strip()
    assert len(password) >= 24 and password in url
    for wrong in ("", ":not-the-password"):
        figures("security attempts", tried=1)
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(url.replace(f":{password}@", f"{wrong}@"), connect_timeout=5)
        figures("security attempts", blocked=1)


def test_reader_session_cannot_reach_another_role(embedded_home, figures) -> None:
    _home, _env, url = embedded_home
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = 'tally_reader'").fetchone():
            conn.execute("create role tally_reader login")
        conn.execute("create schema if not exists raw")
        conn.execute("create table if not exists raw.secret_table (x int)")
    blocked = []
    with reader_connection(Database(url, embedded=True)) as conn:
        who = conn.execute(
            "select current_user, session_user, current_setting('statement_timeout')"
        ).fetchone()
        assert who == {
            "current_user": "tally_reader",
            "session_user": "tally_reader",
            "current_setting": "2min",
        }
        conn.rollback()
        conn.read_only = False  # even a read-write transaction gains nothing
        for sql in ESCALATIONS:
            figures("security attempts", tried=1)
            try:
                conn.execute(sql)
                after = conn.execute("select current_user, session_user").fetchone()
            except psycopg.Error:
                blocked.append(sql)
                figures("security attempts", blocked=1)
                conn.rollback()
                continue
            # a statement that succeeded must not have changed who we are
            assert after == {"current_user": "tally_reader", "session_user": "tally_reader"}, sql
            if sql != "reset role" and not sql.startswith("create temp"):
                pytest.fail(f"the reader could run {sql!r}")
            blocked.append(sql)
            figures("security attempts", blocked=1)
            conn.rollback()
    assert blocked == ESCALATIONS
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('public.escalated')").fetchone() == (None,)


def test_generated_files_are_private_and_hold_no_secret(embedded_home) -> None:
    home, env, url = embedded_home
    # activate(): writes dagster.yaml, creates Dagster's schema, runs dbt
    proc = _tally(env, "dbt", "--", "debug")
    assert proc.returncode == 0, proc.stdout[-2000:]
    with reader_connection(Database(url, embedded=True)):
        pass
    secrets = [p.read_text().strip() for p in (home / "secrets").iterdir()]
    assert len(secrets) == 2  # postgres, tally_reader
    mode = stat.S_IMODE(home.stat().st_mode)
    assert mode == (0o711 if os.geteuid() == 0 else 0o700), oct(mode)
    checked = 0
    for path in home.rglob("*"):
        if path.is_relative_to(home / "pgdata"):
            continue  # the server's own 0700 directory
        m = stat.S_IMODE(path.stat().st_mode)
        assert m & 0o077 == 0, f"{path} is mode {oct(m)}"
        if path.is_file() and not path.is_relative_to(home / "secrets"):
            text = path.read_text(errors="replace")
            assert not any(s in text for s in secrets), f"{path} holds a password"
            checked += 1
    assert (home / "dagster" / "dagster.yaml").exists()
    assert "env: TALLY_DAGSTER_PG_URL" in (home / "dagster" / "dagster.yaml").read_text()
    assert checked >= 1
    # dbt's own files: the target directory and the log
    for root in (
        PROJECT_ROOT / os.environ.get("TALLY_DBT_TARGET", "target"),
        PROJECT_ROOT / "logs",
    ):
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                text = path.read_text(errors="replace")
                assert not any(s in text for s in secrets), f"{path} holds a password"
