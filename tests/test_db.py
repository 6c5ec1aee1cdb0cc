"""Embedded database lifecycle, URL -> profile wiring, and one-line errors for bad input."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from conftest import query, run_tally

from orchestration.db import Database, parse_url
from orchestration.errors import TallyError


def _embedded_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TALLY_DATABASE_URL"}
    env["TALLY_HOME"] = str(home)
    return env


def _one_line_error(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0, proc.stdout
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("tally: error: ")
    return lines[0]


@pytest.mark.slow
def test_embedded_lifecycle_persists_across_restarts(tmp_path: Path) -> None:
    import subprocess

    env = _embedded_env(tmp_path / "home")

    def tally(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(Path(os.sys.executable).parent / "tally"), *args],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    assert tally("db", "status").returncode == 1
    first = tally("db", "start")
    assert first.returncode == 0, first.stderr
    try:
        second = tally("db", "start")
        assert "already running" in _one_line_error(second)
        url = tally("db", "url").stdout.strip()
        assert url.startswith("postgresql://") and str(tmp_path) in url
        assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table kept (x int)")
            conn.execute("insert into kept values (42)")
        assert tally("db", "stop").returncode == 0
        assert tally("db", "status").returncode == 1
        assert tally("db", "start").returncode == 0
        url = tally("db", "url").stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("select x from kept").fetchone() == (42,)
            # the server runs with the aggregation settings, restart-only ones included
            settings = dict(
                conn.execute(
                    "select name, setting from pg_settings"
                    " where name in ('jit', 'max_wal_size', 'checkpoint_timeout', 'work_mem')"
                ).fetchall()
            )
            assert settings == {
                "jit": "off",
                "max_wal_size": "8192",
                "checkpoint_timeout": "1800",
                "work_mem": "65536",
            }
            shared = conn.execute(
                "select setting::bigint from pg_settings where name = 'shared_buffers'"
            ).fetchone()
            assert shared[0] > 16384  # more than the stock 128 MB (in 8 kB pages)
    finally:
        tally("db", "stop")


def test_url_drives_the_dbt_profile_env() -> None:
    db = Database(
        "postgresql://alice:s3cret@db.example:6543/analytics?sslmode=require", embedded=False
    )
    assert db.dbt_env() == {
        "TALLY_PGHOST": "db.example",
        "TALLY_PGPORT": "6543",
        "TALLY_PGUSER": "alice",
        "TALLY_PGPASSWORD": "s3cret",
        "TALLY_PGDATABASE": "analytics",
        "TALLY_PGSSLMODE": "require",
    }
    sock = Database("postgresql://postgres@/tally?host=/run/pg&port=5433", embedded=True)
    assert sock.dbt_env()["TALLY_PGHOST"] == "/run/pg"
    assert sock.sqlalchemy_url().startswith(
        "postgresql+psycopg2://postgres@/tally?host=/run/pg&port=5433"
    )
    assert "search_path%3Ddagster" in sock.sqlalchemy_url()


@pytest.mark.parametrize("bad", ["mysql://x@y/z", "postgresql://u@h:notaport/db"])
def test_malformed_url_is_rejected(bad: str) -> None:
    with pytest.raises(TallyError, match="malformed"):
        parse_url(bad)
        Database(bad, embedded=False).params  # noqa: B018 - parsing raises


@pytest.mark.slow
def test_dbt_reaches_the_database_through_the_profile(tally_db: str) -> None:
    proc = run_tally("dbt", "--", "debug", url=tally_db)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "All checks passed" in proc.stdout
    dbname = Database(tally_db, embedded=False).dbname
    assert f"database: {dbname}" in proc.stdout


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    proc = run_tally("tick", url="postgresql://nobody@127.0.0.1:1/nothing")
    line = _one_line_error(proc)
    assert "cannot reach PostgreSQL" in line and "TALLY_DATABASE_URL" in line


@pytest.mark.slow
def test_tick_on_an_unbuilt_database_says_run_first(new_database) -> None:
    url = new_database("unbuilt")
    for args in (("tick",), ("backfill", "--start", "2026-05-01", "--end", "2026-05-02")):
        line = _one_line_error(run_tally(*args, url=url))
        assert "not built" in line and "`tally run` first" in line, line
    assert query(
        url,
        "select count(*) from information_schema.schemata"
        " where schema_name in ('marts', 'staging', 'intermediate')",
    ) == [(0,)]


def test_malformed_url_is_one_line() -> None:
    line = _one_line_error(run_tally("db", "url", url="not-a-url"))
    assert "malformed" in line


def test_unknown_command_is_one_line() -> None:
    proc = run_tally("frobnicate")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr and "Traceback" not in proc.stderr


def test_reversed_backfill_range_is_refused_before_any_work() -> None:
    line = _one_line_error(
        run_tally(
            "backfill",
            "--start",
            "2026-05-02",
            "--end",
            "2026-05-01",
            url="postgresql://nobody@127.0.0.1:1/nothing",
        )
    )
    assert "reversed range" in line


@pytest.mark.slow
def test_datagen_refuses_to_overwrite_without_force(new_database) -> None:
    url = new_database("dg")
    ok = run_tally("datagen", "--scale", "0.02", "--seed", "3", url=url)
    assert ok.returncode == 0, ok.stderr
    with psycopg.connect(url) as conn:
        before = conn.execute("select count(*), sum(id) from raw.attributions").fetchone()
    line = _one_line_error(run_tally("datagen", "--scale", "0.02", "--seed", "4", url=url))
    assert "--force" in line
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*), sum(id) from raw.attributions").fetchone() == before
