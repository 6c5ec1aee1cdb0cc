"""The support rollup's conversation and message rows (issue 18) computed in Python from
raw rows with zoneinfo - independent of the SQL under test (models and reader alike).

Rules, from docs/support.md: a conversation counts on its local day of creation for
the account, its inbox, its assignee and its team; a message (registry event name
'message_' + message_type) on its local day for the account, its inbox, and its
conversation's assignee and team - the conversation's current ones, and only when the
conversation belongs to the message's account. NULL members count for no row.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg

ROOT = Path(__file__).resolve().parent.parent
_ROWS = list(csv.DictReader((ROOT / "seeds" / "metric_registry.csv").open()))
# (count_kind, event_name) -> metrics
THREAD_REGISTRY: dict[tuple[str, str], list[str]] = defaultdict(list)
for _r in _ROWS:
    if _r["count_kind"] in ("messages", "conversations"):
        THREAD_REGISTRY[(_r["count_kind"], _r["event_name"])].append(_r["metric"])
THREAD_METRICS = sorted({m for ms in THREAD_REGISTRY.values() for m in ms})


def _q(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def thread_facts(url: str) -> list[tuple]:
    """(account, created_at, metric, conversation_id, {dimension: id}) per counted row."""
    convs = {
        r[0]: r
        for r in _q(
            url,
            "select id, account_id, inbox_id, assignee_id, team_id, created_at from raw.conversations",
        )
    }
    out = []
    for cid, acc, inbox, assignee, team, ts in convs.values():
        for metric in THREAD_REGISTRY.get(("conversations", "conversation_created"), []):
            dims = {"account": acc, "agent": assignee, "inbox": inbox, "team": team}
            out.append((acc, ts, metric, cid, dims))
    for cid, acc, inbox, mtype, ts in _q(
        url,
        "select conversation_id, account_id, inbox_id, message_type, created_at from raw.messages",
    ):
        conv = convs.get(cid)
        if conv is not None and conv[1] != acc:
            conv = None
        for metric in THREAD_REGISTRY.get(("messages", f"message_{mtype}"), []):
            dims = {
                "account": acc,
                "agent": conv[3] if conv else None,
                "inbox": inbox,
                "team": conv[4] if conv else None,
            }
            out.append((acc, ts, metric, cid, dims))
    return out


def zones(url: str) -> dict[int, ZoneInfo]:
    out = {}
    for acc, tz in _q(url, "select id, reporting_timezone from raw.accounts"):
        if tz is None:
            continue
        try:
            out[acc] = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return out


def expected_thread_rollup(url: str) -> dict[tuple, tuple]:
    """(account, day, dimension, id, metric) -> (count, 0.0, 0.0) for rolled-up accounts."""
    tz = zones(url)
    counts: dict[tuple, int] = defaultdict(int)
    for acc, ts, metric, _cid, dims in thread_facts(url):
        if acc not in tz or ts is None:
            continue
        day = ts.astimezone(tz[acc]).date()
        for dim, dim_id in dims.items():
            if dim_id is not None:
                counts[(acc, day, dim, dim_id, metric)] += 1
    return {k: (n, 0.0, 0.0) for k, n in counts.items()}


def expected_thread_count(
    url: str,
    account: int,
    metric: str,
    start: date,
    end: date,
    dimension: str,
    dimension_id: int,
    tz_name: str,
) -> int:
    """A metric's count over local days start..end; dimension 'label' = conversations
    carrying the label now (raw.conversation_labels)."""
    zone = ZoneInfo(tz_name)
    labelled = set()
    if dimension == "label":
        labelled = {
            r[0]
            for r in _q(
                url,
                f"select conversation_id from raw.conversation_labels where label_id = {int(dimension_id)}",
            )
        }
    n = 0
    for acc, ts, m, cid, dims in thread_facts(url):
        if acc != account or m != metric or ts is None:
            continue
        if not start <= ts.astimezone(zone).date() <= end:
            continue
        if dimension == "label":
            n += cid in labelled
        elif dims[dimension] == dimension_id:
            n += 1
    return n


def utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts + "+00:00")
