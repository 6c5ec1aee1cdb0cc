"""Issue 17 item 6: ops.raw_changes is bounded. The on-run-end hook
tally.prune_raw_changes deletes the captured rows below the oldest watermark of every
mart that reads their raw table, minus `watermark_lag_minutes`.

Rounds of datagen mutations and ticks of the order marts: after each tick the table holds
only the rows the last round captured (a tick an hour after the previous one: the
watermarks and capture times are moved an hour back between rounds, as if an hour had
passed), and every mart equals the independent oracle of tests/orders_expected.py. Then
one mart (agg_order_daily) misses two ticks: the rows it has not read stay although the
other marts read them long ago, and its next tick, which needs them, brings it back to
its oracle.
"""

from __future__ import annotations

import psycopg
import pytest
from conftest import execute, query
from orders_expected import EXPECTED, differences

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

MARTS = "path:models/marts/orders"
LAGGING = "agg_order_daily"


def dbt(*args: str) -> None:
    runtime.run_dbt(list(args), check=True, capture=True, quiet=True)


def assert_marts_equal_raw(url: str, label: str, skip: str | None = None) -> None:
    with psycopg.connect(url) as conn:
        for mart in EXPECTED:
            if mart == skip:
                continue
            n, examples = differences(conn, mart)
            assert n == 0, f"{label}: {mart} differs from raw in {n} rows, e.g. {examples}"


def an_hour_passes(url: str) -> None:
    """Every watermark and capture time one hour earlier: the next tick runs as if the
    previous one had been an hour ago (raw's updated_at stay: a tick re-reads those rows,
    which changes nothing)."""
    execute(url, "update ops.aggregation_progress set watermark = watermark - interval '1 hour'")
    execute(url, "update ops.raw_changes set captured_at = captured_at - interval '1 hour'")


def counts(url: str) -> dict[str, int]:
    return dict(query(url, "select table_name, count(*) from ops.raw_changes group by 1"))


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.03, seed=17, domains=["orders"])
    dbt("build", "--select", f"+{MARTS}", "path:models/staging/orders")
    assert_marts_equal_raw(tally_db, "first build")
    return tally_db


def test_raw_changes_stay_bounded_through_mutation_rounds(built: str) -> None:
    url = built
    sizes, captured_total = [], 0
    for round_no in range(1, 6):
        an_hour_passes(url)
        before = sum(counts(url).values())
        with psycopg.connect(url) as conn:
            changed = datagen.mutate(conn, seed=600 + round_no)
        assert changed.get("attributions.deleted", 0) > 0  # hard deletes: only captured
        this_round = sum(counts(url).values()) - before
        captured_total += this_round
        dbt("run", "--select", MARTS)
        after = sum(counts(url).values())
        sizes.append(after)
        assert_marts_equal_raw(url, f"round {round_no}")
        # only what this round captured is left (younger than every watermark - lag)
        assert 0 < after == this_round, (round_no, before, this_round, after)
    print(f"ops.raw_changes after each tick: {sizes}; captured in all rounds: {captured_total}")
    # bounded: one round's captures at a time, not the sum of the rounds'
    assert max(sizes) < captured_total / 3, (sizes, captured_total)


def test_rows_a_lagging_mart_has_not_read_are_kept(built: str) -> None:
    """agg_order_daily misses two ticks; the rows it has not read stay (although the other
    marts read them two hours ago), and its next tick, which needs them - hard deletes
    of days far outside its window, of an organization whose configuration did not
    change (no whole-tenant rebuild) - brings it back to its oracle. With the horizon
    taken over the newest watermark instead of the oldest, it stays off its oracle."""
    url = built
    an_hour_passes(url)
    before = sum(counts(url).values())
    with psycopg.connect(url) as conn:
        changed = datagen.mutate(conn, seed=700)
    rebuilt = {changed.get("timezone_changed_org_id"), changed.get("exclusions_changed_org_id")}
    deleted = query(
        url,
        """with gone as (
               delete from raw.attributions where id in (
                   select a.id from raw.attributions as a
                   where a.organization_id <> all(%s) and a.passes_rules and not a.archived
                       and a.order_value > 0 and a.campaign_id is not null
                       and a.ordered_at < now() - interval '200 days'
                   order by a.id limit 20)
               returning 1)
           select count(*) from gone""",
        ([o for o in rebuilt if o is not None],),
    )[0][0]
    assert deleted == 20
    captured = sum(counts(url).values()) - before
    for _ in range(2):  # two ticks without agg_order_daily, an hour apart
        dbt("run", "--select", MARTS, "--exclude", LAGGING)
        assert_marts_equal_raw(url, "lagging", skip=LAGGING)
        assert sum(counts(url).values()) >= captured  # its unread rows stay
        an_hour_passes(url)
    with psycopg.connect(url) as conn:
        n, _ = differences(conn, LAGGING)
    assert n > 0  # it is behind: the deletes are not in it yet
    dbt("run", "--select", MARTS)
    assert_marts_equal_raw(url, "caught up")
    assert sum(counts(url).values()) == 0  # every mart has read them: pruned
