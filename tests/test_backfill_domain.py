"""Issue 17 item 8: `tally backfill --domain D` touches only domain D, proven with run ids
(orders, support, platform and commerce; snapshots is the fifth domain the CLI accepts).

Every domain is built, then raw is mutated everywhere (so a backfill of the last days
would rewrite rows of every domain's marts if it ran them). After
`tally backfill --domain D`, the backfill's dbt invocation id (ops.mart_runs, mode
backfill) is the `run_id` of rows of D's marts only, ops.mart_runs names D's marts only,
and every other relation of schema marts is unchanged row for row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import query, run_tally

from orchestration import datagen, runtime
from orchestration.partitions import daily_partitions

pytestmark = pytest.mark.slow

# the incremental marts of each domain, written out (with the helper tables their hooks
# keep next to them: `<mart>__...`)
DOMAIN_MARTS = {
    "support": {"agg_support_rollup_daily"},
    "orders": {
        "agg_order_daily",
        "agg_order_customer_daily",
        "agg_campaign_recipient_totals",
        "agg_order_customer_day_pairs",
        "agg_order_running_totals",
    },
    # the hourly marts only: the daily/weekly rollups are built from them (not in the tick
    # job) and catch up from their queue on their own next run
    "platform": {
        "agg_execution_metrics_hourly",
        "agg_user_activity_hourly",
        "agg_credit_consumption_hourly",
    },
    "commerce": {"agg_integration_usage_daily"},
}


def _relations(url: str) -> list[str]:
    rows = query(
        url,
        """select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
           where n.nspname = 'marts' and c.relkind in ('r', 'm', 'v', 'p') order by 1""",
    )
    return [r[0] for r in rows]


def _of_domain(relation: str, domain: str) -> bool:
    return any(relation == m or relation.startswith(f"{m}__") for m in DOMAIN_MARTS[domain])


def _fingerprints(url: str) -> dict[str, tuple[int, str]]:
    out = {}
    with psycopg.connect(url) as conn:
        for rel in _relations(url):
            out[rel] = conn.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, chr(10) order by t::text), ''))"
                f' from marts."{rel}" as t'
            ).fetchone()
    return out


def _run_id_rows(url: str, invocation: str) -> dict[str, int]:
    """relation -> rows whose run_id is ``invocation`` (relations with a run_id column)."""
    rels = query(
        url,
        "select table_name from information_schema.columns"
        " where table_schema = 'marts' and column_name = 'run_id' order by 1",
    )
    with psycopg.connect(url) as conn:
        return {
            rel: conn.execute(
                f'select count(*) from marts."{rel}" where run_id = %s', (invocation,)
            ).fetchone()[0]
            for (rel,) in rels
        }


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.02, seed=23)
    result = runtime.execute_job("materialize_all")
    assert result.success
    return tally_db


@pytest.mark.parametrize("domain", list(DOMAIN_MARTS))
def test_backfill_of_one_domain_writes_only_its_marts(built: str, domain: str) -> None:
    url = built
    with psycopg.connect(url) as conn:
        datagen.mutate(conn, seed=900 + list(DOMAIN_MARTS).index(domain))
    before = _fingerprints(url)
    since = query(url, "select now()")[0][0]
    today = datetime.now(UTC).date()
    # every day the marts' reconcile checks compare with raw (reconcile_days = 60), through
    # the latest local day anywhere: after ~10:00 UTC a tenant east of UTC is already in
    # tomorrow, and its rows of that day (the mutation's new ones) must be backfilled too
    start = (today - timedelta(days=65)).isoformat()
    end = daily_partitions.get_last_partition_key()

    proc = run_tally("backfill", "--domain", domain, "--start", start, "--end", end, url=url)
    assert proc.returncode == 0, proc.stderr

    runs = query(
        url,
        "select distinct run_id, mart from ops.mart_runs where mode = 'backfill'"
        " and finished_at >= %s",
        (since,),
    )
    assert {mart for _, mart in runs} == DOMAIN_MARTS[domain], runs
    (invocation,) = {run_id for run_id, _ in runs}

    carrying = {rel: n for rel, n in _run_id_rows(url, invocation).items() if n}
    assert carrying, "the backfill rewrote no row: the test proves nothing"
    assert all(_of_domain(rel, domain) for rel in carrying), carrying

    after = _fingerprints(url)
    assert set(after) == set(before)
    changed = {rel for rel in before if before[rel] != after[rel]}
    assert changed and all(_of_domain(rel, domain) for rel in changed), changed
    untouched = [rel for rel in before if not _of_domain(rel, domain)]
    assert len(untouched) > 5 and all(before[r] == after[r] for r in untouched)
    assert f"of {domain} marts ({len(DOMAIN_MARTS[domain])})" in proc.stdout


def test_backfill_of_an_unknown_domain_names_the_valid_ones(tally_db: str) -> None:
    proc = run_tally(
        "backfill",
        "--domain",
        "billing",
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-02",
        url=tally_db,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for domain in ("orders", "snapshots", "support", "commerce", "platform"):
        assert f"'{domain}'" in lines[0], lines[0]
    assert "billing" in lines[0] and "Traceback" not in proc.stderr
