"""One round of source activity on an existing raw schema (``datagen.mutate``).

Runs inside the caller's transaction. Random choices come from
``numpy.random.default_rng([seed, ...])`` and from the data itself (ids, maxima),
so the same seed on the same data replays the same round.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg

from . import _tables as T

Row = tuple[Any, ...]


class _Round:
    def __init__(self, conn: psycopg.Connection, seed: int, now: datetime) -> None:
        self.cur = conn.cursor()
        self.seed = seed
        self.rng = np.random.default_rng([seed, 424242])
        self.now = now
        self.today0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.counts: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers
    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(n)

    def scalar(self, query: str, params: Any = ()) -> Any:
        self.cur.execute(query, params)
        row = self.cur.fetchone()
        return row[0] if row else None

    def size(self, table: str) -> int:
        return int(self.scalar(f"select coalesce(max(id), 0) from raw.{table}") or 0)

    def k(self, table: str, share: float, lo: int, hi: int) -> int:
        return int(min(hi, max(lo, round(self.size(table) * share))))

    def random_ids(self, table: str, k: int, where: str = "true", params: Any = ()) -> list[int]:
        top = self.size(table)
        if top == 0 or k <= 0:
            return []
        cand = np.unique(self.rng.integers(1, top + 1, 8 * k + 50)).tolist()
        self.cur.execute(
            f"select id from raw.{table} where id = any(%s) and ({where}) order by id",
            (cand, *params),
        )
        found = [r[0] for r in self.cur.fetchall()]
        if len(found) > k:
            found = sorted(int(x) for x in self.rng.choice(found, k, replace=False))
        return found

    def recent_ids(self, table: str, tcol: str, k: int, days: float = 2) -> list[int]:
        since = self.now - timedelta(days=days)
        self.cur.execute(
            f"select id from raw.{table} where updated_at >= %s and {tcol} >= %s"
            f" order by id desc limit %s",
            (since, since, 10 * k),
        )
        found = [r[0] for r in self.cur.fetchall()]
        if len(found) > k:
            found = sorted(int(x) for x in self.rng.choice(found, k, replace=False))
        return found

    def delete(self, table: str, tcol: str, k: int) -> None:
        old = self.random_ids(table, k, f"{tcol} < %s", (self.now - timedelta(days=7),))
        recent = self.recent_ids(table, tcol, max(1, k // 3))
        self.cur.execute(f"delete from raw.{table} where id = any(%s)", (old + recent,))
        self.add(f"{table}.deleted", self.cur.rowcount)

    def insert(self, table: str, cols: list[str], rows: list[Row], key: str) -> None:
        if not rows:
            return
        with self.cur.copy(f"copy raw.{table} ({', '.join(cols)}) from stdin") as cp:
            for row in rows:
                cp.write_row(row)
        self.add(f"{table}.{key}", len(rows))

    def today_times(self, n: int) -> list[datetime]:
        span = (self.now - self.today0).total_seconds()
        return [self.today0 + timedelta(seconds=float(s)) for s in self.rng.random(n) * span]

    def late_times(self, n: int) -> list[datetime]:
        """Old event times: a third more than 60 days back, the rest 3-60 days back."""
        days = np.where(
            np.arange(n) % 3 == 0, self.rng.uniform(61, 400, n), self.rng.uniform(3, 60, n)
        )
        return [self.now - timedelta(days=float(d)) for d in days]

    def pick(self, options: list[Any], p: list[float] | None = None) -> Any:
        return options[int(self.rng.choice(len(options), p=p))]

    # ------------------------------------------------------------------ orders
    def orders_domain(self) -> None:
        cur, now, rng = self.cur, self.now, self.rng
        self.cur.execute(
            "select id, reporting_timezone, configuration from raw.organizations order by id"
        )
        orgs = self.cur.fetchall()
        if not orgs:
            return
        tz_org = orgs[self.seed % len(orgs)]
        ex_org = orgs[(self.seed + 1) % len(orgs)]

        n_attr = self.size("attributions")
        self.delete("attributions", "ordered_at", self.k("attributions", 0.001, 6, 1000))

        # updates all over history: value changes and flips in both directions
        k_upd = int(min(2000, max(30, n_attr * 0.002)))
        cand = self.random_ids("attributions", 6 * k_upd) + self.recent_ids(
            "attributions", "ordered_at", 10
        )
        cur.execute(
            "select id, archived, passes_rules from raw.attributions where id = any(%s) order by id",
            (cand,),
        )
        rows = cur.fetchall()
        arch = [r[0] for r in rows if r[1]][: max(2, k_upd // 5)]
        failing = [r[0] for r in rows if not r[2]][: max(2, k_upd // 5)]
        rest = [r[0] for r in rows if not r[1] and r[2]]
        rng.shuffle(rest)
        to_arch, to_fail, to_value = (
            rest[: k_upd // 5],
            rest[k_upd // 5 : 2 * k_upd // 5],
            rest[2 * k_upd // 5 : k_upd],
        )
        for ids_, stmt in (
            (arch + to_arch, "archived = not archived"),
            (failing + to_fail, "passes_rules = not passes_rules"),
        ):
            cur.execute(
                f"update raw.attributions set {stmt}, updated_at = %s where id = any(%s)",
                (now, ids_),
            )
            self.add("attributions.updated", cur.rowcount)
        factors = [float(f) for f in rng.uniform(0.5, 1.6, len(to_value))]
        cur.execute(
            "update raw.attributions a set order_value = round(a.order_value * v.f::numeric, 2), updated_at = %s"
            " from unnest(%s::bigint[], %s::float8[]) as v(id, f) where a.id = v.id",
            (now, to_value, factors),
        )
        self.add("attributions.updated", cur.rowcount)

        # re-attributed orders: another campaign of the same organization and a corrected
        # order time a few days earlier - both the old and the new bucket change
        to_move = rest[k_upd : k_upd + max(2, k_upd // 10)]
        cur.execute(
            "update raw.attributions a set campaign_id = coalesce(("
            "   select c.id from raw.campaigns c where c.organization_id = a.organization_id"
            "   and c.id <> a.campaign_id order by c.id limit 1), a.campaign_id),"
            " ordered_at = a.ordered_at - interval '3 days 5 hours', updated_at = %s"
            " where a.id = any(%s)",
            (now, to_move),
        )
        self.add("attributions.moved", cur.rowcount)

        # a campaign launched today, with recipients
        org = int(self.pick([o[0] for o in orgs]))
        created = max(self.today0, now - timedelta(minutes=float(rng.uniform(5, 120))))
        cur.execute(
            "insert into raw.campaigns (organization_id, name, created_at, updated_at)"
            " values (%s, %s, %s, %s) returning id",
            (org, f"Campaign live-{self.seed}-{now:%Y%m%d%H%M}", created, now),
        )
        camp = int(cur.fetchone()[0])  # type: ignore[index]
        self.add("campaigns.inserted", 1)
        cur.execute(
            "select distinct recipient_id from raw.campaign_recipients where organization_id = %s"
            " order by recipient_id limit 500",
            (org,),
        )
        people = [r[0] for r in cur.fetchall()] or [10_000_000 + self.seed]
        n_rec = int(rng.integers(30, 80))
        chosen = sorted(
            {int(x) for x in rng.choice(people, min(n_rec, len(people)), replace=False)}
        )
        recip = [(org, camp, rid, bool(rng.random() < 0.1), created, now) for rid in chosen]
        self.insert(
            "campaign_recipients",
            [
                "organization_id",
                "campaign_id",
                "recipient_id",
                "is_holdout",
                "sent_at",
                "updated_at",
            ],
            recip,
            "inserted",
        )

        # new orders today and late-arriving old orders
        k_new = int(min(3000, max(20, n_attr * 0.003)))
        ids_ = self.random_ids("campaign_recipients", k_new, "sent_at <= %s", (now,))
        cur.execute(
            "select organization_id, campaign_id, recipient_id, is_holdout, sent_at"
            " from raw.campaign_recipients where id = any(%s) order by id",
            (ids_,),
        )
        base = cur.fetchall() + [r[:5] for r in recip]
        rows_new = []
        for i, (o, c, rid, hold, sent) in enumerate(base):
            lo = max(sent, self.today0)
            t = lo + (now - lo) * float(rng.random())
            rows_new.append(
                self._attribution(i, o, c, rid, hold, t, min(now, t + timedelta(minutes=2)))
            )
        cols = [
            "organization_id",
            "campaign_id",
            "recipient_id",
            "customer_id",
            "order_id",
            "order_value",
            "attribution_type",
            "is_holdout",
            "is_first_purchase",
            "is_subscription",
            "discount_matched",
            "is_new_subscriber",
            "passes_rules",
            "archived",
            "ordered_at",
            "created_at",
            "updated_at",
        ]
        self.insert("attributions", cols, rows_new, "inserted")

        k_late = int(min(1000, max(12, n_attr * 0.001)))
        rows_late = []
        for i, t in enumerate(self.late_times(k_late)):
            ids_ = self.random_ids("campaign_recipients", 1, "sent_at <= %s", (t,))
            if not ids_:
                continue
            cur.execute(
                "select organization_id, campaign_id, recipient_id, is_holdout"
                " from raw.campaign_recipients where id = %s",
                (ids_[0],),
            )
            o, c, rid, hold = cur.fetchone()  # type: ignore[misc]
            rows_late.append(self._attribution(10_000 + i, o, c, rid, hold, t, now))
        self.insert("attributions", cols, rows_late, "late_inserted")

        # one (organization, campaign, local day) bucket emptied by archiving every row;
        # only organizations whose timezone PostgreSQL knows (a test may have broken one)
        cur.execute("select name from pg_catalog.pg_timezone_names")
        known = {r[0] for r in cur.fetchall()}
        valid = [o[0] for o in orgs if o[1] in known]
        others = [o for o in valid if o not in (tz_org[0], ex_org[0])] or valid
        cand = self.random_ids(
            "attributions",
            20,
            "organization_id = any(%s) and not archived and passes_rules and order_value > 0"
            " and ordered_at < %s",
            (others, now - timedelta(days=5)),
        )
        if cand:
            cur.execute(
                "select a.organization_id, a.campaign_id,"
                " (a.ordered_at at time zone o.reporting_timezone)::date, o.reporting_timezone"
                " from raw.attributions a join raw.organizations o on o.id = a.organization_id"
                " where a.id = %s",
                (cand[0],),
            )
            o, c, day, tz = cur.fetchone()  # type: ignore[misc]
            cur.execute(
                "update raw.attributions set archived = true, updated_at = %s"
                " where organization_id = %s and campaign_id = %s and not archived"
                " and (ordered_at at time zone %s)::date = %s",
                (now, o, c, tz, day),
            )
            self.add("attributions.bucket_archived", cur.rowcount)
            self.add("emptied_bucket_org_id", o)
            self.add("emptied_bucket_campaign_id", c)

        # tenant configuration changes
        new_tz = self.pick([z for z in T.ORG_TIMEZONES if z != tz_org[1]])
        cur.execute(
            "update raw.organizations set reporting_timezone = %s, updated_at = %s where id = %s",
            (new_tz, now, tz_org[0]),
        )
        self.add("organizations.timezone_changed", cur.rowcount)
        self.add("timezone_changed_org_id", tz_org[0])
        current = (ex_org[2] or {}).get("excluded_attributions") or []
        options = [[], ["view"], ["sms"], ["view", "sms"], ["discount_code"], ["click", "view"]]
        new_ex = self.pick([x for x in options if x != current and (current or x)])
        if new_ex:
            cur.execute(
                "update raw.organizations set configuration = jsonb_set(configuration,"
                " '{excluded_attributions}', %s::jsonb), updated_at = %s where id = %s",
                (json.dumps(new_ex), now, ex_org[0]),
            )
        else:
            cur.execute(
                "update raw.organizations set configuration = configuration - 'excluded_attributions',"
                " updated_at = %s where id = %s",
                (now, ex_org[0]),
            )
        self.add("organizations.exclusions_changed", cur.rowcount)
        self.add("exclusions_changed_org_id", ex_org[0])

    def _attribution(
        self, i: int, o: int, c: int, rid: int, hold: bool, t: datetime, created: datetime
    ) -> Row:
        rng = self.rng
        value = Decimal(int(np.exp(rng.normal(np.log(5500), 0.8)))) / 100
        atype = self.pick(T.ATTRIBUTION_TYPES, [0.45, 0.25, 0.15, 0.15])
        return (
            o,
            c,
            rid,
            rid + 10_000_000,
            f"ord_m{self.seed}_{self.now:%Y%m%d%H%M%S}_{i:05d}",
            value,
            atype,
            hold,
            bool(rng.random() < 0.3),
            bool(rng.random() < 0.15),
            bool(rng.random() < (0.5 if atype == "discount_code" else 0.03)),
            bool(rng.random() < 0.08),
            bool(rng.random() >= 0.05),
            False,
            t,
            created,
            self.now,
        )

    # ------------------------------------------------------------------ event tables
    def events(
        self, table: str, tcol: str, cols: list[str], make: Any, share: float = 0.003
    ) -> None:
        """Deletions, rows for today and late rows for an append-mostly event table."""
        if self.size(table) == 0:
            return
        self.delete(table, tcol, self.k(table, 0.001, 4, 1000))
        k_new = self.k(table, share, 10, 3000)
        self.insert(table, cols, [make(t, t) for t in self.today_times(k_new)], "inserted")
        k_late = self.k(table, 0.001, 9, 1000)
        self.insert(
            table, cols, [make(t, self.now) for t in self.late_times(k_late)], "late_inserted"
        )

    def snapshots_domain(self) -> None:
        rng, now = self.rng, self.now
        n_src = self.size("event_sources") or 1

        def make(t: datetime, _: datetime) -> Row:
            status = self.pick(T.EVENT_STATUSES, [0.82, 0.07, 0.06, 0.05])
            payload = json.dumps({"attempt": 1, "region": self.pick(T.REGIONS)})
            return (
                int(rng.integers(1, min(n_src, 5) + 1)),
                f"ent_{int(rng.zipf(1.3)) % 500 + 1:04d}",
                status,
                int(rng.lognormal(np.log(120), 0.9)),
                int(rng.lognormal(np.log(2500), 1.1)),
                t,
                payload,
                now,
            )

        cols = [
            "source_id",
            "entity_id",
            "status",
            "processing_ms",
            "amount_cents",
            "occurred_at",
            "payload",
            "updated_at",
        ]
        self.events("analytics_events", "occurred_at", cols, make)
        ids_ = self.random_ids("analytics_events", 20, "status = 'pending'")
        self.cur.execute(
            "update raw.analytics_events set status = 'completed', updated_at = %s where id = any(%s)",
            (now, ids_),
        )
        self.add("analytics_events.updated", self.cur.rowcount)

    def support_domain(self) -> None:
        cur, rng, now = self.cur, self.rng, self.now
        cur.execute("select id, reporting_timezone from raw.accounts order by id")
        accounts = cur.fetchall()
        if not accounts:
            return
        if self.size("reporting_events"):
            cur.execute("select account_id, array_agg(id order by id) from raw.agents group by 1")
            agents = dict(cur.fetchall())
            cur.execute("select account_id, array_agg(id order by id) from raw.inboxes group by 1")
            inboxes = dict(cur.fetchall())
            acc_ids = sorted(set(agents) & set(inboxes)) or [accounts[0][0]]
            medians = [14400, 900, 300, 120, 60]

            def make(t: datetime, _: datetime) -> Row:
                acc = int(self.pick(acc_ids))
                name = int(rng.choice(5, p=[0.32, 0.25, 0.3, 0.06, 0.07]))
                value = round(float(rng.lognormal(np.log(medians[name]), 1.0)), 3)
                ag, ib = agents.get(acc) or [None], inboxes.get(acc) or [None]
                user = None if (name >= 3 and rng.random() < 0.8) else self.pick(ag)
                inbox = None if rng.random() < 0.05 else self.pick(ib)
                return (
                    acc,
                    T.REPORTING_EVENT_NAMES[name],
                    value,
                    round(value * float(rng.uniform(0.2, 1)), 3),
                    user,
                    inbox,
                    int(rng.integers(5_000_000, 6_000_000)),
                    t - timedelta(seconds=value),
                    t,
                    t,
                    now,
                )

            cols = [
                "account_id",
                "name",
                "value",
                "value_in_business_hours",
                "user_id",
                "inbox_id",
                "conversation_id",
                "event_start_time",
                "event_end_time",
                "created_at",
                "updated_at",
            ]
            self.events("reporting_events", "created_at", cols, make)
            # a bot handoff reported twice for the same conversation
            acc = int(self.pick(acc_ids))
            conv = int(rng.integers(6_000_000, 7_000_000))
            t1 = self.today_times(1)[0]
            ib = inboxes.get(acc) or [None]
            dup = [
                (
                    acc,
                    "conversation_bot_handoff",
                    42.0,
                    42.0,
                    None,
                    ib[0],
                    conv,
                    t - timedelta(seconds=42),
                    t,
                    t,
                    now,
                )
                for t in (t1 - timedelta(days=1), t1)
            ]
            self.insert("reporting_events", cols, dup, "inserted")
        if self.size("messages"):
            self.conversations_domain()
        # one account's reporting timezone set or changed
        unset = [a for a in accounts if a[1] is None]
        target = self.pick(unset) if unset and self.seed % 2 == 0 else self.pick(accounts)
        new_tz = self.pick([z for z in T.ACCOUNT_TIMEZONES if z != target[1]])
        cur.execute(
            "update raw.accounts set reporting_timezone = %s, updated_at = %s where id = %s",
            (new_tz, now, target[0]),
        )
        self.add("accounts.timezone_changed", cur.rowcount)
        self.add("timezone_changed_account_id", target[0])

    def conversations_domain(self) -> None:
        """Issue 18: new conversations and messages today, late messages (a third more
        than 60 days back), deleted messages, a conversation moved to another team of
        its account, one reassigned, and labels added and removed after the fact. Its
        own random stream, so the other domains' rounds are unchanged."""
        cur, now = self.cur, self.now
        rng = np.random.default_rng([self.seed, 181818])
        n_conv = self.size("conversations")
        cur.execute("select account_id, array_agg(id order by id) from raw.teams group by 1")
        teams = dict(cur.fetchall())
        cur.execute("select account_id, array_agg(id order by id) from raw.labels group by 1")
        labels = dict(cur.fetchall())

        def conversations(k: int, where: str = "true", params: Any = ()) -> list[Row]:
            cand = np.unique(rng.integers(1, n_conv + 1, 8 * k + 50)).tolist()
            cur.execute(
                "select id, account_id, inbox_id, assignee_id, team_id, created_at"
                f" from raw.conversations where id = any(%s) and ({where}) order by id",
                (cand, *params),
            )
            rows = cur.fetchall()
            if len(rows) > k:
                rows = [rows[i] for i in sorted(rng.choice(len(rows), k, replace=False))]
            return rows

        def message(conv: Row, t: datetime, mtype: str | None = None) -> Row:
            mtype = mtype or ("incoming" if rng.random() < 0.45 else "outgoing")
            sender = (
                "contact"
                if mtype == "incoming"
                else ("user" if rng.random() < 0.85 else "agent_bot")
            )
            return (conv[0], conv[1], conv[2], sender, mtype, t, now)

        mcols = [
            "conversation_id",
            "account_id",
            "inbox_id",
            "sender_type",
            "message_type",
            "created_at",
            "updated_at",
        ]
        # deleted messages: old ones and some of the last two days
        k_del = int(min(1000, max(4, self.size("messages") * 0.001)))
        cand = np.unique(rng.integers(1, self.size("messages") + 1, 3 * k_del)).tolist()
        cur.execute(
            "select id from raw.messages where id = any(%s)"
            " union (select id from raw.messages where updated_at >= %s and created_at >= %s"
            " order by id desc limit %s)",
            (cand[:k_del], now - timedelta(days=2), now - timedelta(days=2), max(1, k_del // 3)),
        )
        gone = [r[0] for r in cur.fetchall()]
        cur.execute("delete from raw.messages where id = any(%s)", (gone,))
        self.add("messages.deleted", cur.rowcount)
        # new conversations today, each with its first (incoming) message
        today0 = self.today0
        span = max(1.0, (now - today0).total_seconds())
        k_new = int(min(500, max(5, n_conv * 0.002)))
        cur.execute("select id, account_id from raw.inboxes order by id")
        inbox_acc = cur.fetchall()
        cur.execute("select account_id, array_agg(id order by id) from raw.agents group by 1")
        agents = dict(cur.fetchall())
        new_conv = []
        for _ in range(k_new):
            inbox, acc = inbox_acc[int(rng.integers(len(inbox_acc)))]
            ag, tm = agents.get(acc), teams.get(acc)
            t = today0 + timedelta(seconds=float(rng.random() * span))
            assignee = int(rng.choice(ag)) if ag and rng.random() < 0.85 else None
            team = int(rng.choice(tm)) if tm and rng.random() < 0.75 else None
            new_conv.append((acc, inbox, assignee, team, "open", t, now))
        ccols = ["account_id", "inbox_id", "assignee_id", "team_id", "status", "created_at"]
        cur.execute(
            "insert into raw.conversations (" + ", ".join([*ccols, "updated_at"]) + ")"
            " select * from unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],"
            " %s::text[], %s::timestamptz[], %s::timestamptz[]) returning id, account_id, inbox_id,"
            " assignee_id, team_id, created_at",
            [list(col) for col in zip(*new_conv, strict=True)],
        )
        created = cur.fetchall()
        self.add("conversations.inserted", len(created))
        self.insert("messages", mcols, [message(c, c[5], "incoming") for c in created], "inserted")
        # replies today in existing conversations
        recent = conversations(int(min(1500, max(10, n_conv * 0.003))))
        rows = [message(c, today0 + timedelta(seconds=float(rng.random() * span))) for c in recent]
        self.insert("messages", mcols, rows, "inserted")
        # late messages: arriving now for days long past (after the conversation began)
        late = conversations(
            int(min(1000, max(9, n_conv * 0.002))), "created_at < %s", (now - timedelta(days=4),)
        )
        rows = []
        for i, c in enumerate(late):
            back = float(rng.uniform(61, 400) if i % 3 == 0 else rng.uniform(3, 60))
            rows.append(message(c, max(c[5], now - timedelta(days=back))))
        self.insert("messages", mcols, rows, "late_inserted")
        # a conversation with messages on several days moved to another team of its account
        cur.execute(
            "select c.id, c.account_id, c.team_id from raw.conversations c"
            " where c.id = any(%s) and exists (select 1 from raw.teams t"
            "   where t.account_id = c.account_id and t.id is distinct from c.team_id)"
            "   and (select count(distinct m.created_at::date) from raw.messages m"
            "        where m.conversation_id = c.id) >= 2"
            " order by c.id limit 1",
            (np.unique(rng.integers(1, n_conv + 1, 400)).tolist(),),
        )
        moved = cur.fetchone()
        if moved is not None:
            options = [t for t in teams[moved[1]] if t != moved[2]]
            to = int(rng.choice(options))
            cur.execute(
                "update raw.conversations set team_id = %s, updated_at = %s where id = %s",
                (to, now, moved[0]),
            )
            self.add("conversations.team_moved", cur.rowcount)
            self.add("team_moved_conversation_id", moved[0])
        # one conversation reassigned to another agent of its account
        for conv in conversations(1, "assignee_id is not null"):
            options = [a for a in agents.get(conv[1], []) if a != conv[3]]
            if options:
                cur.execute(
                    "update raw.conversations set assignee_id = %s, updated_at = %s where id = %s",
                    (int(rng.choice(options)), now, conv[0]),
                )
                self.add("conversations.reassigned", cur.rowcount)
        # labels change after the fact: some added to old conversations, some removed
        add = conversations(
            int(min(200, max(3, n_conv * 0.001))), "created_at < %s", (now - timedelta(days=7),)
        )
        rows = [(c[1], c[0], int(rng.choice(labels[c[1]])), now) for c in add if labels.get(c[1])]
        cur.execute(
            "select id from raw.conversation_labels where id = any(%s)",
            (np.unique(rng.integers(1, self.size("conversation_labels") + 1, 20)).tolist(),),
        )
        drop = [r[0] for r in cur.fetchall()][:5]
        cur.execute("delete from raw.conversation_labels where id = any(%s)", (drop,))
        self.add("conversation_labels.deleted", cur.rowcount)
        cur.execute(
            "select conversation_id, label_id from raw.conversation_labels"
            " where conversation_id = any(%s)",
            ([r[1] for r in rows],),
        )
        have = {(a, b) for a, b in cur.fetchall()}
        rows = [r for r in rows if (r[1], r[2]) not in have]
        rows = list({(r[1], r[2]): r for r in rows}.values())
        self.insert(
            "conversation_labels",
            ["account_id", "conversation_id", "label_id", "updated_at"],
            rows,
            "inserted",
        )

    def commerce_domain(self) -> None:
        cur, rng, now = self.cur, self.rng, self.now
        if self.size("orders"):
            cur.execute("select id, integration_created_at from raw.shops order by id")
            shops = cur.fetchall()

            def make(t: datetime, _: datetime) -> Row:
                ok = [s[0] for s in shops if s[1] <= t] or [shops[0][0]]
                cents = int(rng.lognormal(np.log(6000), 0.7))
                return (int(self.pick(ok)), Decimal(cents) / 100, t, now)

            self.events(
                "orders", "created_at", ["shop_id", "total", "created_at", "updated_at"], make
            )
        n_acc = self.size("accounts")
        if self.size("emails") and n_acc:
            k = self.k("emails", 0.003, 20, 3000)
            rows = [
                (
                    int(rng.integers(1, n_acc + 1)),
                    self.pick(T.EMAIL_CATEGORIES, [0.5, 0.35, 0.15]),
                    now - timedelta(days=float(d)),
                    now,
                )
                for d in np.where(
                    np.arange(k) % 2 == 0, rng.uniform(0, 30, k), rng.uniform(0, 1, k)
                )
            ]
            self.insert(
                "emails", ["account_id", "category", "sent_at", "updated_at"], rows, "inserted"
            )

    def platform_domain(self) -> None:
        cur, rng, now = self.cur, self.rng, self.now
        cur.execute(
            "select workspace_id, user_id from raw.user_activity group by 1, 2 order by 1, 2 limit 2000"
        )
        pairs = cur.fetchall() or [(1, 1)]

        def make_exec(t: datetime, _: datetime) -> Row:
            ws, user = self.pick(pairs)
            status = self.pick(T.EXECUTION_STATUSES, [0.86, 0.09, 0.05])
            dur = int(rng.lognormal(np.log(4000), 1.2))
            return (ws, user, status, t, dur, Decimal(dur // 10) / 10_000, now)

        def make_act(t: datetime, _: datetime) -> Row:
            ws, user = self.pick(pairs)
            return (ws, user, self.pick(T.ACTIVITY_TYPES), t, now)

        self.events(
            "executions",
            "started_at",
            [
                "workspace_id",
                "user_id",
                "status",
                "started_at",
                "duration_ms",
                "credits_used",
                "updated_at",
            ],
            make_exec,
        )
        self.events(
            "user_activity",
            "occurred_at",
            ["workspace_id", "user_id", "activity_type", "occurred_at", "updated_at"],
            make_act,
        )


def mutate_round(conn: psycopg.Connection, *, seed: int, now: datetime) -> dict[str, int]:
    r = _Round(conn, seed, now)
    if r.size("attributions"):
        r.orders_domain()
    if r.size("analytics_events"):
        r.snapshots_domain()
    if r.size("accounts"):
        r.support_domain()
    if r.size("shops"):
        r.commerce_domain()
    if r.size("workspaces"):
        r.platform_domain()
    return r.counts
