"""Support rollup (seed 002): full build, idle tick, tick after a mutate round, and the
read path - a month-by-day report of the busiest account from the rollup vs from raw.

Model figures come from dbt's run_results.json (the model's own execution time, hooks
included); `*_wall_s` include the dbt process start (~3-4 s). Report figures are the
median of repeated `support_report` calls, each opening its own reader connection
(role tally_reader), i.e. end to end as a caller sees them.

    python -m bench --only support --scale 20     # or: python -m bench.support 20
"""

from __future__ import annotations

import time
from datetime import timedelta

from orchestration import datagen, runtime
from orchestration.db import database

from ._common import affected_buckets, count_rows, ensure_raw, main, median_ms, timed_dbt

MART = "agg_support_rollup_daily"


def run(scale: float) -> dict:
    from orchestration.commands.support_backfill import backfill_diff
    from orchestration.reader.connection import reader_connection
    from orchestration.reader.support import support_report, support_summary

    db = runtime.activate(database())
    with db.connect() as conn:
        ensure_raw(conn, scale, "support", "reporting_events")
        events = count_rows(conn, "raw.reporting_events")
        messages = count_rows(conn, "raw.messages")
        conversations = count_rows(conn, "raw.conversations")
        accounts = count_rows(conn, "raw.accounts")

    full_wall, full = timed_dbt(
        "build", "--select", f"+{MART}", "--exclude", "resource_type:test", "--full-refresh"
    )
    no_lag = '{"watermark_lag_minutes": 0}'
    idle_wall, idle = timed_dbt("run", "--select", MART, "--vars", no_lag)
    with db.connect() as conn:
        idle_affected = affected_buckets(conn, MART)
        changed = datagen.mutate(conn, seed=7)
        # measure the timezone rebuild separately: put the changed account's zone back
        acc_changed = changed.get("timezone_changed_account_id")
        conn.execute(
            "update raw.accounts as a set reporting_timezone = ("
            " select pr.tenant_version from ops.aggregation_progress as pr"
            " where pr.mart = %s and pr.tenant_id = a.id) where a.id = %s",
            (MART, acc_changed),
        )
        conn.commit()
    tick_wall, tick = timed_dbt("run", "--select", MART, "--vars", no_lag)
    with db.connect() as conn:
        tick_affected = affected_buckets(conn, MART)
        rows = count_rows(conn, f"marts.{MART}")
        # the busiest account that is rolled up
        account, tz = conn.execute(
            "select e.account_id, a.reporting_timezone from raw.reporting_events as e"
            " join raw.accounts as a on a.id = e.account_id"
            " where a.reporting_timezone is not null"
            " group by 1, 2 order by count(*) desc limit 1"
        ).fetchone()
        account_events = conn.execute(
            "select count(*) from raw.reporting_events where account_id = %s", (account,)
        ).fetchone()[0]
        # its timezone changes: the next tick rebuilds it wholly
        new_tz = "Asia/Kathmandu" if tz != "Asia/Kathmandu" else "America/New_York"
        conn.execute(
            "update raw.accounts set reporting_timezone = %s where id = %s", (new_tz, account)
        )
        conn.commit()
    tz_wall, tz_tick = timed_dbt("run", "--select", MART, "--vars", no_lag)
    with db.connect() as conn:
        today = conn.execute("select (now() at time zone %s)::date", (new_tz,)).fetchone()[0]

    end = today - timedelta(days=1)
    start = end - timedelta(days=29)

    def rollup():
        r = support_report(account, "first_response", start, end, db=db)
        assert r.source == "rollup", r.fallback_reason
        return r

    def raw():
        return support_report(account, "first_response", start, end, source="raw", db=db)

    assert [p.count for p in rollup().periods] == [p.count for p in raw().periods]
    rollup_ms = median_ms(rollup, 30, warmup=2)
    raw_ms = median_ms(raw, 5, warmup=1)
    with reader_connection(db) as conn:  # a caller that keeps its connection
        rollup_conn_ms = median_ms(
            lambda: support_report(account, "first_response", start, end, conn=conn), 30, warmup=2
        )
        raw_conn_ms = median_ms(
            lambda: support_report(account, "first_response", start, end, source="raw", conn=conn),
            5,
            1,
        )
    # summary report (Chatwoot's agents page): every agent of the account over the month.
    # Each ratio compares the same metrics on both paths (issue 18): the default set
    # (Chatwoot's agents page, all rolled up) and every registered metric (handoffs and
    # exclusions then come from raw on the rollup path too)
    with reader_connection(db) as conn:
        s = support_summary(account, "agent", start, end, conn=conn)
        s_raw = support_summary(account, "agent", start, end, source="raw", conn=conn)
        assert s.source == "rollup" and set(s.sources.values()) == {"rollup"}, s.sources
        for got, want in zip(s.members, s_raw.members, strict=True):
            for metric, v in got.metrics.items():
                w = want.metrics[metric]
                assert v.count == w.count and abs(v.sum - w.sum) <= 1e-9 * max(1.0, abs(w.sum))
        summary_members = len(s.members)
        summary_metrics = len(s.metrics)
        summary_ms = median_ms(
            lambda: support_summary(account, "agent", start, end, conn=conn), 20, warmup=2
        )
        summary_raw_ms = median_ms(
            lambda: support_summary(account, "agent", start, end, source="raw", conn=conn), 5, 1
        )
        summary_all_ms = median_ms(
            lambda: support_summary(account, "agent", start, end, metrics="all", conn=conn),
            20,
            warmup=2,
        )
        summary_all_raw_ms = median_ms(
            lambda: support_summary(
                account, "agent", start, end, metrics="all", source="raw", conn=conn
            ),
            5,
            1,
        )
        hour_end = end
        hour_start = end - timedelta(days=6)
        hourly_ms = median_ms(
            lambda: support_report(
                account, "first_response", hour_start, hour_end, group_by="hour", conn=conn
            ),
            10,
            warmup=1,
        )
    # issue 18: messages per team (rollup vs raw), per label (raw by design), team summary
    with db.connect() as conn:
        team = conn.execute(
            "select team_id from raw.conversations where account_id = %s"
            " and team_id is not null group by 1 order by count(*) desc, 1 limit 1",
            (account,),
        ).fetchone()[0]
        label = conn.execute(
            "select label_id from raw.conversation_labels where account_id = %s"
            " group by 1 order by count(*) desc, 1 limit 1",
            (account,),
        ).fetchone()[0]
        account_messages = conn.execute(
            "select count(*) from raw.messages where account_id = %s", (account,)
        ).fetchone()[0]
    with reader_connection(db) as conn:
        team_kw = {"dimension": "team", "dimension_id": team, "conn": conn}
        metric = "incoming_messages_count"
        t_auto = support_report(account, metric, start, end, **team_kw)
        t_raw = support_report(account, metric, start, end, source="raw", **team_kw)
        assert t_auto.source == "rollup" and t_auto.periods == t_raw.periods
        team_rollup_ms = median_ms(
            lambda: support_report(account, metric, start, end, **team_kw), 30, warmup=2
        )
        team_raw_ms = median_ms(
            lambda: support_report(account, metric, start, end, source="raw", **team_kw), 5, 1
        )
        label_ms = median_ms(
            lambda: support_report(
                account, metric, start, end, dimension="label", dimension_id=label, conn=conn
            ),
            5,
            1,
        )
        team_summary_ms = median_ms(
            lambda: support_summary(account, "team", start, end, metrics="all", conn=conn),
            10,
            warmup=1,
        )
    handoffs_week_ms = median_ms(
        lambda: support_report(account, "bot_handoffs", start, end, group_by="week", db=db), 5, 1
    )
    with db.connect() as conn:
        t0 = time.perf_counter()
        diff = backfill_diff(conn, account, start, end)
        dry_run_s = time.perf_counter() - t0

    return {
        "scale": scale,
        "raw_reporting_events": events,
        "accounts": accounts,
        "busiest_account_events": account_events,
        "raw_messages": messages,
        "raw_conversations": conversations,
        "busiest_account_messages": account_messages,
        "rollup_rows": rows,
        "full_build_s": round(full[MART], 3),
        "idle_tick_s": round(idle[MART], 3),  # watermark lag 0: just the 2-day window
        "idle_tick_affected_buckets": idle_affected,
        "mutated_reporting_events": sum(
            v for k, v in changed.items() if k.startswith("reporting_events.")
        ),
        "tick_after_mutate_s": round(tick[MART], 3),
        "tick_after_mutate_affected_buckets": tick_affected,
        "timezone_change_tick_s": round(tz_tick[MART], 3),
        "timezone_change_rebuilt_account_events": account_events,
        "report_month_by_day_rollup_ms": rollup_ms,
        "report_month_by_day_raw_ms": raw_ms,
        "rollup_speedup_x": round(raw_ms / rollup_ms, 1) if rollup_ms else None,
        "report_month_by_day_rollup_open_conn_ms": rollup_conn_ms,
        "report_month_by_day_raw_open_conn_ms": raw_conn_ms,
        "rollup_speedup_open_conn_x": round(raw_conn_ms / rollup_conn_ms, 1)
        if rollup_conn_ms
        else None,
        "report_handoffs_by_week_raw_ms": handoffs_week_ms,
        "summary_agents": summary_members,
        "summary_default_metrics": summary_metrics,  # Chatwoot's agents page, rolled up
        "summary_month_rollup_open_conn_ms": summary_ms,
        "summary_month_raw_open_conn_ms": summary_raw_ms,  # the same metrics from raw
        "summary_speedup_x": round(summary_raw_ms / summary_ms, 1) if summary_ms else None,
        # every registered metric on both sides (handoffs + exclusions from raw on both)
        "summary_month_all_metrics_open_conn_ms": summary_all_ms,
        "summary_month_all_metrics_raw_open_conn_ms": summary_all_raw_ms,
        "summary_all_metrics_speedup_x": round(summary_all_raw_ms / summary_all_ms, 1)
        if summary_all_ms
        else None,
        "report_hourly_7_days_raw_open_conn_ms": hourly_ms,
        "report_team_messages_month_by_day_rollup_open_conn_ms": team_rollup_ms,
        "report_team_messages_month_by_day_raw_open_conn_ms": team_raw_ms,
        "team_rollup_speedup_open_conn_x": round(team_raw_ms / team_rollup_ms, 1)
        if team_rollup_ms
        else None,
        "report_label_messages_month_by_day_raw_open_conn_ms": label_ms,
        "summary_teams_month_all_metrics_open_conn_ms": team_summary_ms,
        "backfill_dry_run_30_days_s": round(dry_run_s, 3),
        "backfill_dry_run_unchanged_rows": diff.unchanged,
        "full_build_wall_s": round(full_wall, 2),
        "tick_wall_s": round(tick_wall, 2),
        "timezone_change_tick_wall_s": round(tz_wall, 2),
        "idle_wall_s": round(idle_wall, 2),
        "report_window": f"{start}..{end}",
    }


if __name__ == "__main__":
    main(run)
