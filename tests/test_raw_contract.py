"""Issue 17 item 5: Tally owns its raw contract - the raw indexes and statistics its
incremental reads need are declared once (orchestration/raw_contract.py), created by
`tally db migrate` and by datagen, and their absence fails `tally health` and the asset
check `raw_indexes_present`, naming the object and the command.

Expected names are written out here, not derived from the module under test, except
where the test says it checks the declaration itself.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from conftest import execute, query, run_tally

from orchestration import datagen, raw_contract
from orchestration.datagen import _schema

DROPPED_INDEX = "attributions_campaign_customer_covering_idx"
DROPPED_STATS = "attributions_campaign_org_stats"


def test_every_datagen_table_is_declared_with_its_updated_at_index() -> None:
    """A new raw table (datagen/_schema.py TABLES) must declare its indexes here: at
    least (updated_at), which the sliding window and source freshness read."""
    for table in _schema.TABLES:
        names = [o.name for o in raw_contract.objects([table])]
        assert f"{table}_updated_at_idx" in names, (
            f"raw.{table} has no entry in orchestration/raw_contract.py INDEXES"
        )
    assert not set(raw_contract.INDEXES) - set(_schema.TABLES), "declared for an unknown table"


@pytest.fixture(scope="module")
def url(new_database) -> str:
    url = new_database("rc")
    with psycopg.connect(url) as conn:
        datagen.generate(conn, scale=0.01, seed=5, domains=["orders"])
    return url


def _raw_index_rows(url: str) -> list[dict]:
    proc = run_tally("health", "--no-dagster", "--json", url=url)
    assert "Traceback" not in proc.stderr, proc.stderr
    return [c for c in json.loads(proc.stdout)["checks"] if c["check"] == "raw-index"]


def _catalog(url: str) -> set[str]:
    rows = query(
        url,
        """select indexname from pg_indexes where schemaname = 'raw'
           union all
           select s.stxname from pg_statistic_ext as s
           join pg_namespace as n on n.oid = s.stxnamespace where n.nspname = 'raw'""",
    )
    return {r[0] for r in rows}


def test_datagen_builds_every_declared_object(url: str) -> None:
    present = _catalog(url)
    # spelled out: the indexes docs/incremental.md says the order marts' ticks read
    for name in (
        "attributions_org_ordered_at_idx",
        "attributions_updated_at_idx",
        "attributions_campaign_ordered_at_qualified_idx",
        "attributions_campaign_customer_covering_idx",
        "campaign_recipients_campaign_recipient_idx",
        DROPPED_STATS,
    ):
        assert name in present
    with psycopg.connect(url) as conn:
        assert raw_contract.missing(conn) == []
    rows = _raw_index_rows(url)
    assert [r["status"] for r in rows] == ["ok"], rows


def test_a_missing_index_fails_health_until_migrate_creates_it(url: str) -> None:
    execute(url, f"drop index raw.{DROPPED_INDEX}")
    execute(url, f"drop statistics raw.{DROPPED_STATS}")
    rows = _raw_index_rows(url)
    assert {r["value"] for r in rows} == {DROPPED_INDEX, DROPPED_STATS}
    for r in rows:
        assert r["status"] == "failing" and r["target"] == "raw.attributions"
        assert "`tally db migrate`" in r["detail"] and r["value"] in r["detail"]
    table = run_tally("health", "--no-dagster", url=url)
    assert table.returncode == 1
    assert DROPPED_INDEX in table.stdout and "tally db migrate" in table.stdout

    migrate = run_tally("db", "migrate", url=url)
    assert migrate.returncode == 0, migrate.stderr
    assert f"created index raw.{DROPPED_INDEX}" in migrate.stdout
    assert f"created statistics raw.{DROPPED_STATS}" in migrate.stdout
    assert "2 created" in migrate.stdout
    assert {DROPPED_INDEX, DROPPED_STATS} <= _catalog(url)
    assert [r["status"] for r in _raw_index_rows(url)] == ["ok"]

    again = run_tally("db", "migrate", url=url)  # idempotent
    assert again.returncode == 0 and "0 created" in again.stdout, again.stdout


def test_migrate_rebuilds_an_invalid_index_left_by_an_interrupted_build(url: str) -> None:
    # a failed `create index concurrently` leaves an INVALID index under the declared name
    execute(url, "drop index raw.attributions_updated_at_idx")
    with pytest.raises(psycopg.errors.UniqueViolation):
        execute(
            url,
            "create unique index concurrently attributions_updated_at_idx"
            " on raw.attributions (organization_id)",
        )
    rows = _raw_index_rows(url)
    assert [(r["status"], r["value"]) for r in rows] == [("failing", "attributions_updated_at_idx")]
    assert "invalid" in rows[0]["detail"]
    assert run_tally("db", "migrate", url=url).returncode == 0
    (definition,) = query(
        url,
        "select indexdef from pg_indexes where indexname = 'attributions_updated_at_idx'",
    )[0]
    assert definition.endswith("USING btree (updated_at)") and "UNIQUE" not in definition
    assert [r["status"] for r in _raw_index_rows(url)] == ["ok"]


def test_a_role_that_may_not_create_indexes_gets_one_notice(url: str) -> None:
    database = url.split("/")[3].split("?")[0]
    execute(
        url,
        "do $$ begin create role tally_app login; exception when duplicate_object then null; end $$",
    )
    execute(url, f'grant connect on database "{database}" to tally_app')
    execute(url, "grant usage on schema raw to tally_app")
    execute(url, "grant select on all tables in schema raw to tally_app")
    execute(url, f"drop index raw.{DROPPED_INDEX}")
    app_url = url.replace("postgresql://postgres@", "postgresql://tally_app@", 1)
    try:
        proc = run_tally("db", "migrate", url=app_url)
        assert proc.returncode == 0, proc.stderr  # a notice, not a failure
        notices = [ln for ln in proc.stdout.splitlines() if ln.startswith("notice:")]
        assert len(notices) == 1, proc.stdout
        assert "role tally_app may not create 1 index" in notices[0]
        assert f"raw.{DROPPED_INDEX}" in notices[0] and "as the owner" in notices[0]
        assert "Traceback" not in proc.stdout + proc.stderr
        assert DROPPED_INDEX not in _catalog(url)
        # health, as the same role, still names it
        (row,) = _raw_index_rows(app_url)
        assert row["status"] == "failing" and row["value"] == DROPPED_INDEX
    finally:
        assert run_tally("db", "migrate", url=url).returncode == 0
    assert DROPPED_INDEX in _catalog(url)


def test_the_asset_check_fails_naming_the_missing_index(url: str) -> None:
    """The real check (the one the tick and materialize_all jobs select), run against
    this database through a job of its own."""
    from dagster import AssetKey, AssetSelection, Definitions, define_asset_job

    from orchestration.assets.raw import raw_sources
    from orchestration.assets.raw_checks import CHECK_NAME, raw_indexes_present
    from orchestration.resources import TallyDatabase

    defs = Definitions(
        assets=raw_sources,
        asset_checks=[raw_indexes_present],
        jobs=[define_asset_job("raw_check", selection=AssetSelection.checks(raw_indexes_present))],
        resources={"tally_db": TallyDatabase(url=url)},
    )
    execute(url, f"drop index raw.{DROPPED_INDEX}")
    try:
        result = defs.resolve_job_def("raw_check").execute_in_process()
    finally:
        assert run_tally("db", "migrate", url=url).returncode == 0
    evaluations = {e.asset_key: e for e in result.get_asset_check_evaluations()}
    bad = evaluations[AssetKey(["raw", "attributions"])]
    assert bad.check_name == CHECK_NAME and not bad.passed
    assert DROPPED_INDEX in bad.description and "`tally db migrate`" in bad.description
    assert evaluations[AssetKey(["raw", "campaign_recipients"])].passed
    # the jobs that run it: `tally run` and the hourly raw_contract_check (not the tick)
    from orchestration.definitions import defs as code_location

    def raw_checks(job_name: str) -> int:
        graph = code_location.resolve_job_def(job_name).asset_layer.asset_graph
        return sum(1 for k in graph.asset_check_keys if k.name == CHECK_NAME)

    assert raw_checks("raw_contract_check") == raw_checks("materialize_all") == len(evaluations)
    assert len(evaluations) > 10
    assert raw_checks("tick") == raw_checks("support_rollup") == 0
    schedule = code_location.resolve_schedule_def("raw_contract_check_hourly")
    assert schedule.job_name == "raw_contract_check"


def test_a_raw_table_without_a_contract_column_is_one_line(url: str) -> None:
    """Last in the module: it drops a column (and with it the index on it)."""
    execute(url, "alter table raw.campaign_recipients drop column recipient_id")
    proc = run_tally("db", "migrate", url=url)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("tally: error: 1 raw index(es)/statistics could not be created")
    assert "raw.campaign_recipients_campaign_recipient_idx" in line
    assert 'column "recipient_id" does not exist' in line and "tally db migrate" in line
    (row,) = _raw_index_rows(url)
    assert row["value"] == "campaign_recipients_campaign_recipient_idx"
