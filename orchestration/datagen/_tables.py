"""Vectorized row generators, one per raw table.

Every generator yields ``bytes`` chunks in COPY text format (see ``_encoding``).
Each table draws from its own ``numpy.random.default_rng([seed, table_no, chunk])``
so the output only depends on (scale, seed, now), never on which other tables or
domains were generated in the same call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from . import _encoding as E

DAY = 86400
HISTORY_DAYS = 420
CHUNK = 250_000

ORG_TIMEZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Los_Angeles",
]
# org 1 .. 5 are pinned so that every size covers DST and half/45-minute zones.
ORG_TZ_PINNED = ["America/New_York", "UTC", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide"]
ACCOUNT_TZ_PINNED = [
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Asia/Kolkata",
    None,
]
ACCOUNT_TIMEZONES = [
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Asia/Kolkata",
    "UTC",
    "Europe/London",
    "America/Los_Angeles",
    "America/St_Johns",
]
ORG_CONFIGS = [
    "{}",
    '{"excluded_attributions": ["view"]}',
    '{"excluded_attributions": ["view", "sms"]}',
    '{"excluded_attributions": ["discount_code"]}',
]
ATTRIBUTION_TYPES = ["click", "view", "discount_code", "sms"]
EVENT_SOURCES = [
    ("stripe", "Stripe", "Payment intents and charges", True),
    ("shopify", "Shopify", "Storefront checkout events", True),
    ("segment", "Segment", "Product analytics track calls", True),
    ("hubspot", "HubSpot", "CRM lifecycle updates", True),
    ("zendesk", "Zendesk", "Ticket lifecycle webhooks", True),
    ("legacy-ftp", "Legacy FTP drop", "Nightly CSV drops (retired)", False),
]
EVENT_STATUSES = ["completed", "failed", "pending", "retried"]
REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]
REPORTING_EVENT_NAMES = [
    "conversation_resolved",
    "first_response",
    "reply_time",
    "conversation_bot_resolved",
    "conversation_bot_handoff",
    "conversation_opened",  # not in the metric registry: must be ignored downstream
]
HANDOFF = 4
CHANNEL_TYPES = ["web_widget", "email", "whatsapp", "api", "facebook", "sms"]
PLATFORMS = ["shopify", "woocommerce", "bigcommerce", "magento"]
EMAIL_CATEGORIES = ["automation", "campaign", "transactional"]
# Order campaigns: 1,000 x sqrt(scale), three in four of them flows (always-on
# automations), sizes lognormal(0, 0.5). With these, scale 100 has the shape of the
# reference figures in issue 3 (10M attributions, ~1.25M+ (organization, campaign,
# day, arm) buckets of a few rows each) instead of a few huge blast campaigns; a random
# sample of 5,000 attributions then falls in buckets holding ~2.5 % of all rows.
FLOW_SHARE = 0.75
EXECUTION_STATUSES = ["succeeded", "failed", "cancelled"]
ACTIVITY_TYPES = ["login", "run", "edit", "share", "export"]
BOOL = ["f", "t"]

# Relative order volume per UTC hour (quiet night, busy afternoon/evening).
HOUR_WEIGHTS = np.array(
    [3, 2, 1.5, 1.2, 1, 1.2, 2, 3, 4.5, 5.5, 6, 6.5, 7, 7, 6.5, 6.5, 7, 7.5, 8, 8, 7, 6, 5, 4],
    float,
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()


@dataclass
class Ctx:
    scale: float
    seed: int
    now: int  # epoch seconds (UTC)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> int:
        return self.now - HISTORY_DAYS * DAY

    @property
    def sq(self) -> float:
        return math.sqrt(self.scale)

    def rng(self, table_no: int, chunk: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, table_no, chunk])

    def memo(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]

    def n(self, base: float, minimum: int) -> int:
        return max(minimum, round(base * self.scale))


# ----------------------------------------------------------------------------- helpers


def sample_times(
    rng: np.random.Generator,
    n: int,
    lo: int,
    hi: int,
    *,
    growth: float = 1.5,
    weekend: float = 0.7,
) -> np.ndarray:
    """Epoch seconds in [lo, hi) with growth over time, weekly and daily seasonality.

    The newest time always falls in the last hour before ``hi``: a loader that keeps up
    delivers a row every hour, so a fresh demo passes its source freshness at any scale
    (at scale 0.01 a table can hold one row a day, and its newest was often over 24 h old).
    """
    hi = max(hi, lo + 1)
    d_lo, d_hi = lo // DAY, (hi - 1) // DAY
    days = np.arange(d_lo, d_hi + 1, dtype=np.int64)
    pos = (days - d_lo) / max(1, d_hi - d_lo)
    dow = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    avail = (np.minimum(hi, (days + 1) * DAY) - np.maximum(lo, days * DAY)) / DAY
    w = (1 + growth * pos) * np.where(dow >= 5, weekend, 1.0) * avail
    d = days[rng.choice(len(days), n, p=w / w.sum())]
    t = d * DAY + rng.choice(24, n, p=HOUR_WEIGHTS) * 3600 + rng.integers(0, 3600, n)
    bad = (t < lo) | (t >= hi)
    if bad.any():
        dl = np.maximum(lo, d[bad] * DAY)
        dh = np.minimum(hi, (d[bad] + 1) * DAY)
        t[bad] = dl + (rng.random(int(bad.sum())) * (dh - dl)).astype(np.int64)
    if n:
        last_hour = max(lo, hi - 3600)
        t[np.argmax(t)] = last_hour + int(rng.random() * (hi - last_hour))
    return t


def bumped(rng: np.random.Generator, t: np.ndarray, now: int, share: float = 0.05) -> np.ndarray:
    """updated_at: the insert time, a bit later for ``share`` of rows (never after now)."""
    later = rng.random(len(t)) < share
    extra = (rng.exponential(1.5 * DAY, len(t)) * later).astype(np.int64)
    return np.minimum(t + extra, now)


def zipf_weights(n: int, a: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** a
    return w / w.sum()


def lognormal_int(rng: np.random.Generator, n: int, median: float, sigma: float) -> np.ndarray:
    return np.round(np.exp(rng.normal(math.log(median), sigma, n))).astype(np.int64)


def chunks(total: int) -> Iterator[tuple[int, int, int]]:
    """(chunk_no, first_id, size) for a table of ``total`` rows."""
    for no, first in enumerate(range(0, total, CHUNK)):
        yield no, first + 1, min(CHUNK, total - first)


def ids(first: int, n: int) -> np.ndarray:
    return np.arange(first, first + n, dtype=np.int64)


def _bools(mask: np.ndarray) -> np.ndarray:
    return E.cat(mask.astype(np.intp), BOOL)


def us_dst_transitions(lo: int, hi: int) -> list[int]:
    """US DST switches (2am local, America/New_York) as epoch seconds within (lo, hi)."""
    out = []
    for year in range(
        datetime.fromtimestamp(lo, UTC).year, datetime.fromtimestamp(hi, UTC).year + 1
    ):
        march = datetime(year, 3, 8, 7, tzinfo=UTC)  # second Sunday: first Sunday >= 8th
        march = march.replace(day=8 + (6 - march.weekday()) % 7)
        nov = datetime(year, 11, 1, 6, tzinfo=UTC)
        nov = nov.replace(day=1 + (6 - nov.weekday()) % 7)
        out += [int(d.timestamp()) for d in (march, nov)]
    return [t for t in out if lo + 3 * DAY < t < hi - 6 * 3600]


# ----------------------------------------------------------------------------- orders


def organizations(ctx: Ctx) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        rng = ctx.rng(1)
        n = max(5, round(20 * ctx.sq))
        tz = np.array(
            ORG_TZ_PINNED + list(rng.choice(ORG_TIMEZONES, n - len(ORG_TZ_PINNED))),
            dtype=object,
        )
        cfg = rng.choice(len(ORG_CONFIGS), n, p=[0.75, 0.15, 0.05, 0.05])
        cfg[0], cfg[1] = 0, 1  # org 1 excludes nothing, org 2 excludes views
        return {"tz": tz, "cfg": cfg, "n": np.int64(n)}

    return ctx.memo("orgs", build)


def gen_organizations(ctx: Ctx) -> Iterator[bytes]:
    o = organizations(ctx)
    n = int(o["n"])
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.cat(np.arange(n), [f"Organization {i + 1:03d}" for i in range(n)]),
            E.cat(np.arange(n), list(o["tz"])),
            E.cat(o["cfg"], ORG_CONFIGS),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def campaigns(ctx: Ctx) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        rng = ctx.rng(2)
        n_org = int(organizations(ctx)["n"])
        n = max(2 * n_org, round(1000 * ctx.sq))
        created = np.sort(sample_times(rng, n, ctx.start, ctx.now - 3600))
        created[0] = ctx.start + int(rng.integers(0, 6 * 3600))  # history starts on day one
        org = rng.choice(n_org, n, p=zipf_weights(n_org, 0.8)) + 1
        org[rng.permutation(n)[:n_org]] = np.arange(1, n_org + 1)  # every org has one
        size_w = np.exp(rng.normal(0, 0.5, n))
        size_w[0] = size_w.max()
        holdout = rng.uniform(0.06, 0.15, n)
        no_holdout = rng.permutation(n)[: max(1, n // 20)]
        holdout[no_holdout] = 0.0
        # flows (always-on automations) keep sending from creation to now, so their
        # orders spread over every day since; the rest are one-off blasts. Drawn last:
        # the arrays above do not depend on it.
        flow = rng.random(n) < FLOW_SHARE
        flow[0] = True
        # a flow sends at a steady rate: its size grows with the time it has been live
        size_w = np.where(flow, size_w * 4 * (ctx.now - created) / (ctx.now - ctx.start), size_w)
        return {"created": created, "org": org, "size_w": size_w, "holdout": holdout, "flow": flow}

    return ctx.memo("campaigns", build)


def gen_campaigns(ctx: Ctx) -> Iterator[bytes]:
    c = campaigns(ctx)
    n = len(c["org"])
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(c["org"]),
            E.cat(np.arange(n), [f"Campaign {i + 1:05d}" for i in range(n)]),
            E.timestamp(c["created"]),
            E.timestamp(c["created"]),
        ]
    )


def recipients(ctx: Ctx) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        rng = ctx.rng(3)
        c = campaigns(ctx)
        n_camp = len(c["org"])
        n_org = int(organizations(ctx)["n"])
        total = ctx.n(150_000, 300)
        sizes = np.maximum(3, np.floor(c["size_w"] / c["size_w"].sum() * total)).astype(np.int64)
        camp = np.repeat(np.arange(n_camp), sizes)
        n = len(camp)
        org = c["org"][camp]
        # people pool per org: recipients overlap across that org's campaigns
        org_total = np.bincount(c["org"], weights=sizes, minlength=n_org + 1)[1:]
        org_max = np.zeros(n_org, np.int64)
        np.maximum.at(org_max, c["org"] - 1, sizes)
        pool = np.maximum(org_max, np.round(org_total * 0.5)).astype(np.int64)
        pool_base = np.concatenate([[0], np.cumsum(pool)[:-1]])
        camp_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        offset = np.arange(n) - camp_first[camp]
        start = rng.integers(0, pool[c["org"] - 1])
        rid = pool_base[org - 1] + (start[camp] + offset) % pool[org - 1] + 1
        hold = rng.random(n) < c["holdout"][camp]
        created = c["created"][camp]
        blast = created + rng.integers(0, 6 * 3600, n)
        flowing = created + (rng.random(n) * (ctx.now - created)).astype(np.int64)
        sent = np.minimum(np.where(c["flow"][camp], flowing, blast), ctx.now)
        return {
            "camp": camp,
            "org": org,
            "rid": rid,
            "hold": hold,
            "sent": sent,
            "pool": pool,
            "pool_base": pool_base,
        }

    return ctx.memo("recipients", build)


def gen_campaign_recipients(ctx: Ctx) -> Iterator[bytes]:
    r = recipients(ctx)
    for _, first, size in chunks(len(r["camp"])):
        s = slice(first - 1, first - 1 + size)
        yield E.encode(
            [
                E.integer(ids(first, size)),
                E.integer(r["org"][s]),
                E.integer(r["camp"][s] + 1),
                E.integer(r["rid"][s]),
                _bools(r["hold"][s]),
                E.timestamp(r["sent"][s]),
                E.timestamp(r["sent"][s]),
            ]
        )


def attribution_orders(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """(recipient index, ordered_at) of every attribution, sorted by ordered_at: ids then
    grow with time as in an append-only production table, so a day's rows sit together
    on disk (late rows still arrive late: `created_at`, `updated_at`)."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        r = recipients(ctx)
        n_rec = len(r["camp"])
        total = ctx.n(100_000, 200)
        now = ctx.now
        dst = us_dst_transitions(ctx.start, now)
        all_idx: list[np.ndarray] = []
        all_ordered: list[np.ndarray] = []
        for no, _first, n in chunks(total):
            rng = ctx.rng(4, no)
            picked: list[np.ndarray] = []
            got = 0
            while got < n:
                m = int(n * 1.6) + 64
                cand = rng.integers(0, n_rec, m)
                # holdout recipients convert a little less than treatment
                cand = cand[~r["hold"][cand] | (rng.random(m) < 0.85)]
                sent = r["sent"][cand]
                t = sent + (rng.exponential(4 * DAY, len(cand)) + 600).astype(np.int64)
                over = t >= now
                t[over] = sent[over] + (rng.random(int(over.sum())) * (now - sent[over])).astype(
                    np.int64
                )
                day = t // DAY
                dt = (
                    day * DAY
                    + rng.choice(24, len(t), p=HOUR_WEIGHTS) * 3600
                    + rng.integers(0, 3600, len(t))
                )
                ok = (dt >= sent) & (dt < now)
                t[ok] = dt[ok]
                weekend = (t // DAY + 3) % 7 >= 5
                keep = ~weekend | (rng.random(len(t)) < 0.75)
                picked.append(np.stack([cand[keep], t[keep]]))
                got += int(keep.sum())
            both = np.concatenate(picked, axis=1)[:, :n]
            idx, ordered = both[0], both[1].copy()
            org = r["org"][idx]
            if no == 0 and dst:  # orders right around the US DST switches (org 1 is New York)
                taken = np.zeros(n, bool)
                for tr in dst:
                    ok = np.flatnonzero((org == 1) & (r["sent"][idx] < tr - 4 * 3600) & ~taken)
                    pick = ok[:12]
                    taken[pick] = True
                    ordered[pick] = tr + rng.integers(-3 * 3600, 3 * 3600, len(pick))
            all_idx.append(idx)
            all_ordered.append(ordered)
        idx = np.concatenate(all_idx)
        ordered = np.concatenate(all_ordered)
        order = np.argsort(ordered, kind="stable")
        return idx[order], ordered[order]

    return ctx.memo("attribution_orders", build)


def gen_attributions(ctx: Ctx) -> Iterator[bytes]:
    r = recipients(ctx)
    now = ctx.now
    all_idx, all_ordered = attribution_orders(ctx)
    for no, first, n in chunks(len(all_idx)):
        rng = ctx.rng(5, no)
        idx = all_idx[first - 1 : first - 1 + n]
        ordered = all_ordered[first - 1 : first - 1 + n]
        org = r["org"][idx]
        rid = r["rid"][idx]
        other = r["pool_base"][org - 1] + rng.integers(0, r["pool"][org - 1]) + 1
        person = np.where(rng.random(n) < 0.08, other, rid)
        customer = person + 10_000_000
        value = np.minimum(lognormal_int(rng, n, 5500, 0.8), 99_999_999)
        value[rng.random(n) < 0.02] = 0
        atype = rng.choice(4, n, p=[0.45, 0.25, 0.15, 0.15])
        discount = rng.random(n) < np.where(atype == 2, 0.5, 0.03)
        created = ordered + rng.exponential(300, n).astype(np.int64)
        late = rng.random(n) < 0.05
        created[late] += rng.exponential(4 * 3600, int(late.sum())).astype(np.int64)
        created = np.minimum(created, now)
        updated = bumped(rng, created, now, 0.10)
        id_ = ids(first, n)
        yield E.encode(
            [
                E.integer(id_),
                E.integer(org),
                E.integer(r["camp"][idx] + 1),
                E.integer(rid),
                E.integer(customer),
                E.concat(E.const(n, "ord_"), E.integer(id_ * 7 + 1_000_003, zero_pad=10)),
                E.fixed(value, 2),
                E.cat(atype, ATTRIBUTION_TYPES),
                _bools(r["hold"][idx]),
                _bools(rng.random(n) < 0.30),
                _bools(rng.random(n) < 0.15),
                _bools(discount),
                _bools(rng.random(n) < 0.08),
                _bools(rng.random(n) >= 0.05),
                _bools(rng.random(n) < 0.03),
                E.timestamp(ordered),
                E.timestamp(created),
                E.timestamp(updated),
            ]
        )


# ----------------------------------------------------------------------------- snapshots


def gen_event_sources(ctx: Ctx) -> Iterator[bytes]:
    n = len(EVENT_SOURCES)
    k = np.arange(n)
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.cat(k, [s[0] for s in EVENT_SOURCES]),
            E.cat(k, [s[1] for s in EVENT_SOURCES]),
            E.cat(k, [s[2] for s in EVENT_SOURCES]),
            _bools(np.array([s[3] for s in EVENT_SOURCES])),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def gen_analytics_events(ctx: Ctx) -> Iterator[bytes]:
    total = ctx.n(25_000, 50)
    n_ent = max(50, round(500 * ctx.sq))
    payloads = [f'{{"attempt": {a}, "region": "{g}"}}' for a in (1, 2, 3) for g in REGIONS]
    for no, first, n in chunks(total):
        rng = ctx.rng(6, no)
        src = rng.choice(6, n, p=[0.3, 0.25, 0.2, 0.12, 0.1, 0.03])
        t = sample_times(rng, n, ctx.start, ctx.now)
        src[np.argmax(t)] = 0  # the newest event is from an active source
        retired = src == 5  # the inactive source only has old events
        t[retired] = ctx.start + (t[retired] - ctx.start) // 2
        order = np.argsort(t, kind="stable")
        src, t = src[order], t[order]
        ent = (rng.zipf(1.3, n) - 1) % n_ent + 1
        status = rng.choice(4, n, p=[0.82, 0.07, 0.06, 0.05])
        ms = lognormal_int(rng, n, 120, 0.9) * np.where(status == 1, 3, 1)
        amount = lognormal_int(rng, n, 2500, 1.1)
        amount[(status == 1) & (rng.random(n) < 0.5)] = 0
        attempt = np.where(status == 3, rng.integers(1, 3, n), 0)
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(src + 1),
                E.concat(E.const(n, "ent_"), E.integer(ent, zero_pad=4)),
                E.cat(status, EVENT_STATUSES),
                E.integer(np.minimum(ms, 2**31 - 1)),
                E.integer(amount),
                E.timestamp(t),
                E.cat(attempt * 3 + rng.integers(0, 3, n), payloads),
                E.timestamp(bumped(rng, t, ctx.now)),
            ]
        )


# ----------------------------------------------------------------------------- support


def accounts(ctx: Ctx) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        rng = ctx.rng(7)
        n = max(5, round(20 * ctx.sq))
        extra = rng.choice(len(ACCOUNT_TIMEZONES) + 2, n - 5)  # 2/10 -> NULL
        tz = ACCOUNT_TZ_PINNED + [
            ACCOUNT_TIMEZONES[i] if i < len(ACCOUNT_TIMEZONES) else None for i in extra
        ]
        k = max(2, round(6 * ctx.scale**0.25))
        agents = rng.integers(2, k + 3, n)
        inboxes = rng.integers(2, 6, n)
        return {
            "n": n,
            "tz": tz,
            "weights": zipf_weights(n, 0.7),
            "agents": agents,
            "agent_base": np.concatenate([[0], np.cumsum(agents)[:-1]]),
            "inboxes": inboxes,
            "inbox_base": np.concatenate([[0], np.cumsum(inboxes)[:-1]]),
        }

    return ctx.memo("accounts", build)


def gen_accounts(ctx: Ctx) -> Iterator[bytes]:
    a = accounts(ctx)
    n = a["n"]
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.cat(np.arange(n), [f"Account {i + 1:03d}" for i in range(n)]),
            E.cat(np.arange(n), a["tz"]),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def gen_agents(ctx: Ctx) -> Iterator[bytes]:
    a = accounts(ctx)
    acc = np.repeat(np.arange(a["n"]), a["agents"]) + 1
    n = len(acc)
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(acc),
            E.cat(np.arange(n), [f"Agent {i + 1:04d}" for i in range(n)]),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def gen_inboxes(ctx: Ctx) -> Iterator[bytes]:
    a = accounts(ctx)
    rng = ctx.rng(9)
    acc = np.repeat(np.arange(a["n"]), a["inboxes"]) + 1
    n = len(acc)
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(acc),
            E.cat(np.arange(n), [f"Inbox {i + 1:04d}" for i in range(n)]),
            E.cat(rng.choice(len(CHANNEL_TYPES), n), CHANNEL_TYPES),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def gen_reporting_events(ctx: Ctx) -> Iterator[bytes]:
    a = accounts(ctx)
    total = ctx.n(100_000, 200)
    pool = np.maximum(10, np.round(total * a["weights"] / 3)).astype(np.int64)
    conv_base = np.concatenate([[0], np.cumsum(pool)[:-1]])
    medians = np.array([14400, 900, 300, 120, 60, 0], float)
    sigmas = np.array([1.2, 1.0, 1.0, 0.8, 0.8, 0.0])
    for no, first, n in chunks(total):
        rng = ctx.rng(10, no)
        n_dup = max(1, round(n * 0.025))
        nb = n - n_dup
        acc = rng.choice(a["n"], nb, p=a["weights"])
        name = rng.choice(6, nb, p=[0.30, 0.24, 0.30, 0.07, 0.08, 0.01])
        created = sample_times(rng, nb, ctx.start, ctx.now)
        value_ms = np.round(
            np.exp(rng.normal(np.log(np.maximum(medians[name], 1)), sigmas[name])) * 1000
        ).astype(np.int64)
        value_ms[name == 5] = 0
        agent_local = (rng.random(nb) * a["agents"][acc]).astype(np.int64)
        inbox_local = (rng.random(nb) * a["inboxes"][acc]).astype(np.int64)
        conv = conv_base[acc] + (rng.random(nb) * pool[acc]).astype(np.int64) + 1
        handoffs = np.flatnonzero(name == HANDOFF)
        if len(handoffs) == 0:
            handoffs = np.array([0])
            name[0] = HANDOFF
        src = rng.choice(handoffs, n_dup, replace=len(handoffs) < n_dup)
        later = rng.random(n_dup) < 0.4  # duplicate lands on another day
        d_created = created[src] + np.where(
            later, rng.integers(DAY, 2 * DAY, n_dup), rng.integers(30, 3600, n_dup)
        )
        d_inbox = inbox_local[src].copy()
        move = (rng.random(n_dup) < 0.5) & (a["inboxes"][acc[src]] >= 2)
        d_inbox[move] = (d_inbox[move] + 1) % a["inboxes"][acc[src]][move]
        acc = np.concatenate([acc, acc[src]])
        name = np.concatenate([name, name[src]])
        created = np.minimum(np.concatenate([created, d_created]), ctx.now)
        value_ms = np.concatenate([value_ms, value_ms[src]])
        agent_local = np.concatenate([agent_local, agent_local[src]])
        inbox_local = np.concatenate([inbox_local, d_inbox])
        conv = np.concatenate([conv, conv[src]])
        order = np.argsort(created, kind="stable")
        acc, name, created, value_ms = acc[order], name[order], created[order], value_ms[order]
        agent_local, inbox_local, conv = agent_local[order], inbox_local[order], conv[order]
        bot = name >= 3
        user_null = rng.random(n) < np.where(bot & (name != 5), 0.8, 0.04)
        inbox_null = rng.random(n) < 0.05
        biz_ms = (value_ms * rng.uniform(0.2, 1.0, n)).astype(np.int64)
        start = created - (value_ms + 999) // 1000
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(acc + 1),
                E.cat(name, REPORTING_EVENT_NAMES),
                E.fixed(value_ms, 3),
                E.fixed(biz_ms, 3),
                E.nullable(E.integer(a["agent_base"][acc] + agent_local + 1), user_null),
                E.nullable(E.integer(a["inbox_base"][acc] + inbox_local + 1), inbox_null),
                E.integer(conv),
                E.timestamp(start),
                E.timestamp(created),
                E.timestamp(created),
                E.timestamp(bumped(rng, created, ctx.now)),
            ]
        )


# ------------------------------------------------- support: conversations and messages
# (issue 18). A conversation's id is the conversation_id its reporting events carry
# (the per-account pools of gen_reporting_events), so team and label reports of
# reporting events find their conversation.

TEAM_NAMES = ["Sales", "Support", "Billing", "Onboarding"]
LABEL_TITLES = ["billing", "bug", "feature-request", "vip", "refund", "onboarding"]
CONVERSATION_STATUSES = ["open", "resolved", "pending", "snoozed"]
MESSAGE_TYPES = ["incoming", "outgoing", "activity"]  # activity: in no metric
SENDER_TYPES = ["contact", "user", "agent_bot"]


def teams(ctx: Ctx) -> dict[str, np.ndarray]:
    """1-3 teams per account (own stream: accounts() is unchanged)."""

    def build() -> dict[str, np.ndarray]:
        n = accounts(ctx)["n"]
        per = ctx.rng(17).integers(1, 4, n)
        return {"per": per, "base": np.concatenate([[0], np.cumsum(per)[:-1]])}

    return ctx.memo("teams", build)


def labels(ctx: Ctx) -> dict[str, np.ndarray]:
    """3-6 labels per account."""

    def build() -> dict[str, np.ndarray]:
        n = accounts(ctx)["n"]
        per = ctx.rng(19).integers(3, len(LABEL_TITLES) + 1, n)
        return {"per": per, "base": np.concatenate([[0], np.cumsum(per)[:-1]])}

    return ctx.memo("labels", build)


def conversations(ctx: Ctx) -> dict[str, np.ndarray]:
    """One conversation per id of the reporting events' per-account pools."""

    def build() -> dict[str, np.ndarray]:
        a, t = accounts(ctx), teams(ctx)
        total = ctx.n(100_000, 200)
        pool = np.maximum(10, np.round(total * a["weights"] / 3)).astype(np.int64)
        acc = np.repeat(np.arange(a["n"]), pool)
        n = len(acc)
        rng = ctx.rng(18)
        created = sample_times(rng, n, ctx.start, ctx.now)
        return {
            "n": n,
            "acc": acc,
            "created": created,
            "inbox": a["inbox_base"][acc] + (rng.random(n) * a["inboxes"][acc]).astype(np.int64),
            "assignee": a["agent_base"][acc] + (rng.random(n) * a["agents"][acc]).astype(np.int64),
            "assignee_null": rng.random(n) < 0.15,
            "team": t["base"][acc] + (rng.random(n) * t["per"][acc]).astype(np.int64),
            "team_null": rng.random(n) < 0.25,
            "status": rng.choice(4, n, p=[0.2, 0.65, 0.1, 0.05]),
            "messages": 1 + rng.poisson(2.0, n),
        }

    return ctx.memo("conversations", build)


def gen_teams(ctx: Ctx) -> Iterator[bytes]:
    a, t = accounts(ctx), teams(ctx)
    acc = np.repeat(np.arange(a["n"]), t["per"])
    local = np.arange(len(acc)) - t["base"][acc]
    n = len(acc)
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(acc + 1),
            E.cat(local, TEAM_NAMES),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def gen_labels(ctx: Ctx) -> Iterator[bytes]:
    a, lb = accounts(ctx), labels(ctx)
    acc = np.repeat(np.arange(a["n"]), lb["per"])
    local = np.arange(len(acc)) - lb["base"][acc]
    n = len(acc)
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(acc + 1),
            E.cat(local, LABEL_TITLES),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def gen_conversations(ctx: Ctx) -> Iterator[bytes]:
    c = conversations(ctx)
    for no, first, n in chunks(c["n"]):
        rng = ctx.rng(20, no)
        sl = slice(first - 1, first - 1 + n)
        created = c["created"][sl]
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(c["acc"][sl] + 1),
                E.integer(c["inbox"][sl] + 1),
                E.nullable(E.integer(c["assignee"][sl] + 1), c["assignee_null"][sl]),
                E.nullable(E.integer(c["team"][sl] + 1), c["team_null"][sl]),
                E.cat(c["status"][sl], CONVERSATION_STATUSES),
                E.timestamp(created),
                E.timestamp(bumped(rng, created, ctx.now)),
            ]
        )


def gen_messages(ctx: Ctx) -> Iterator[bytes]:
    """1 + Poisson(2) messages per conversation: the first at its creation (incoming, so
    the newest conversation's first message is in the last hour), the next after
    exponential gaps (median ~10 min, some a day or more: late replies)."""
    c = conversations(ctx)
    ends = np.cumsum(c["messages"])
    total = int(ends[-1]) if len(ends) else 0
    for no, first, n in chunks(total):
        rng = ctx.rng(21, no)
        pos = np.arange(first - 1, first - 1 + n)
        conv = np.searchsorted(ends, pos, side="right")
        starts = ends[conv] - c["messages"][conv]
        k = pos - starts  # message number inside its conversation
        gap = np.where(k == 0, 0, rng.exponential(900, n) * np.where(rng.random(n) < 0.1, 60, 1))
        # cumulative gaps per conversation (a chunk may start mid-conversation: its first
        # rows then restart the sum, which only shifts those messages a little earlier)
        csum = np.cumsum(gap)
        run_start = np.maximum.accumulate(np.where(k == 0, np.arange(n), 0))
        offset = csum - csum[run_start] + gap[run_start]
        created = np.minimum(c["created"][conv] + offset.astype(np.int64), ctx.now - 1)
        mtype = np.where(k == 0, 0, rng.choice(3, n, p=[0.45, 0.5, 0.05]))
        sender = np.where(mtype == 0, 0, np.where(rng.random(n) < 0.85, 1, 2))
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(conv + 1),
                E.integer(c["acc"][conv] + 1),
                E.integer(c["inbox"][conv] + 1),
                E.nullable(E.cat(sender, SENDER_TYPES), mtype == 2),
                E.cat(mtype, MESSAGE_TYPES),
                E.timestamp(created),
                E.timestamp(bumped(rng, created, ctx.now)),
            ]
        )


def gen_conversation_labels(ctx: Ctx) -> Iterator[bytes]:
    """0 labels for 55 % of conversations, 1 for 35 %, 2 (distinct) for 10 %."""
    c, lb = conversations(ctx), labels(ctx)
    rng = ctx.rng(22)
    k = rng.choice(3, c["n"], p=[0.55, 0.35, 0.10])
    conv = np.repeat(np.arange(c["n"]), k)
    second = np.concatenate([[0], np.cumsum(k)[:-1]])
    nth = np.arange(len(conv)) - second[conv]
    per = lb["per"][c["acc"][conv]]
    pick = (rng.random(len(conv)) * per).astype(np.int64)
    # a conversation's second label differs from its first (per >= 3)
    step = 1 + (rng.random(len(conv)) * (per - 1)).astype(np.int64)
    second_row = nth == 1
    pick[second_row] = (np.roll(pick, 1)[second_row] + step[second_row]) % per[second_row]
    n = len(conv)
    created = c["created"][conv]
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(c["acc"][conv] + 1),
            E.integer(conv + 1),
            E.integer(lb["base"][c["acc"][conv]] + pick + 1),
            E.timestamp(bumped(rng, created, ctx.now)),
        ]
    )


# ----------------------------------------------------------------------------- commerce


def shops(ctx: Ctx) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        rng = ctx.rng(11)
        n = max(4, round(30 * ctx.sq))
        n_recent = max(1, n // 10)
        old = np.sort(sample_times(rng, n - n_recent - 1, ctx.start, ctx.now - 7 * DAY, growth=0.5))
        recent = np.sort(ctx.now - 6 * DAY + rng.integers(0, 5 * DAY, n_recent))
        today0 = ctx.now - ctx.now % DAY
        today = np.array([today0 + int(rng.random() * (ctx.now - today0))])
        created = np.concatenate([old, recent, today])
        return {
            "created": created,
            "account": rng.integers(1, accounts(ctx)["n"] + 1, n),
            "platform": rng.choice(4, n, p=[0.5, 0.25, 0.15, 0.1]),
            "rate": np.exp(rng.normal(0, 1, n)),
            "idle": rng.uniform(0.05, 0.35, n),
        }

    return ctx.memo("shops", build)


def gen_shops(ctx: Ctx) -> Iterator[bytes]:
    s = shops(ctx)
    n = len(s["created"])
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.integer(s["account"]),
            E.cat(s["platform"], PLATFORMS),
            E.timestamp(s["created"]),
            E.timestamp(s["created"]),
        ]
    )


def _shop_open(s: dict[str, np.ndarray], shop: np.ndarray, day, seed: int) -> np.ndarray:
    """Whether each shop takes orders on each day: a shop is idle on a day (a hash of shop,
    day and seed) with its own idle probability."""
    h = ((shop + 1) * 2654435761 + day * 97531 + seed * 7919) % 10007 / 10007
    return h >= s["idle"][shop]


def gen_orders(ctx: Ctx) -> Iterator[bytes]:
    s = shops(ctx)
    ic = s["created"]
    span = np.maximum(ctx.now - ic, 1)
    w = s["rate"] * span
    p = w / w.sum()
    total = ctx.n(60_000, 200)
    # shop 1 (the oldest) also has a 20-day outage in the middle of its life
    gap_lo = ic[0] + span[0] // 2
    gap_hi = gap_lo + 20 * DAY
    for no, first, n in chunks(total):
        rng = ctx.rng(12, no)
        parts: list[np.ndarray] = []
        got = 0
        while got < n:
            m = 2 * n + 64
            shop = rng.choice(len(ic), m, p=p)
            t = ic[shop] + (rng.random(m) * span[shop]).astype(np.int64)
            day = t // DAY
            keep = _shop_open(s, shop, day, ctx.seed)
            keep &= ((day + 3) % 7 < 5) | (rng.random(m) < 0.8)
            keep &= ~((shop == 0) & (t >= gap_lo) & (t < gap_hi))
            parts.append(np.stack([shop[keep], t[keep]]))
            got += int(keep.sum())
        both = np.concatenate(parts, axis=1)[:, :n]
        order = np.argsort(both[1], kind="stable")
        shop, t = both[0][order], both[1][order]
        # the newest order arrived in the last hour, from a shop open today (a loader that
        # keeps up: the demo passes source freshness at any scale)
        every = np.arange(len(ic))
        open_today = np.flatnonzero(
            _shop_open(s, every, (ctx.now - 1) // DAY, ctx.seed) & (ic < ctx.now - 3600)
        )
        if len(open_today):
            shop[-1] = rng.choice(open_today)
            t[-1] = ctx.now - 1 - int(rng.random() * 3600)
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(shop + 1),
                E.fixed(np.minimum(lognormal_int(rng, n, 6000, 0.7), 99_999_999), 2),
                E.timestamp(t),
                E.timestamp(bumped(rng, t, ctx.now)),
            ]
        )


def gen_emails(ctx: Ctx) -> Iterator[bytes]:
    a = accounts(ctx)
    for no, first, n in chunks(ctx.n(60_000, 200)):
        rng = ctx.rng(13, no)
        t = np.sort(sample_times(rng, n, ctx.start, ctx.now, growth=2.0))
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(rng.choice(a["n"], n, p=a["weights"]) + 1),
                E.cat(rng.choice(3, n, p=[0.5, 0.35, 0.15]), EMAIL_CATEGORIES),
                E.timestamp(t),
                E.timestamp(bumped(rng, t, ctx.now, 0.02)),
            ]
        )


# ----------------------------------------------------------------------------- platform


def workspaces(ctx: Ctx) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        rng = ctx.rng(14)
        n = max(2, round(10 * ctx.sq))
        users = rng.integers(3, max(4, round(12 * ctx.scale**0.25)) + 1, n)
        return {
            "n": np.int64(n),
            "users": users,
            "user_base": np.concatenate([[0], np.cumsum(users)[:-1]]),
            "weights": zipf_weights(n, 0.6),
        }

    return ctx.memo("workspaces", build)


def gen_workspaces(ctx: Ctx) -> Iterator[bytes]:
    n = int(workspaces(ctx)["n"])
    yield E.encode(
        [
            E.integer(ids(1, n)),
            E.cat(np.arange(n), [f"Workspace {i + 1:03d}" for i in range(n)]),
            E.timestamp(np.full(n, ctx.start)),
        ]
    )


def _ws_user(ctx: Ctx, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    w = workspaces(ctx)
    ws = rng.choice(int(w["n"]), n, p=w["weights"])
    user = w["user_base"][ws] + (rng.random(n) * w["users"][ws]).astype(np.int64) + 1
    return ws + 1, user


def gen_executions(ctx: Ctx) -> Iterator[bytes]:
    for no, first, n in chunks(ctx.n(80_000, 200)):
        rng = ctx.rng(15, no)
        t = np.sort(sample_times(rng, n, ctx.start, ctx.now))
        ws, user = _ws_user(ctx, rng, n)
        status = rng.choice(3, n, p=[0.86, 0.09, 0.05])
        dur = np.minimum(lognormal_int(rng, n, 4000, 1.2), 86_400_000)
        dur[status == 2] //= 4
        dur[rng.random(n) < 0.01] = 0
        credits = dur // 10 * np.where(status == 2, 0, 1)  # 0.001 credit per ms, 4 decimals
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(ws),
                E.integer(user),
                E.cat(status, EXECUTION_STATUSES),
                E.timestamp(t),
                E.integer(dur),
                E.fixed(credits, 4),
                E.timestamp(bumped(rng, t + dur // 1000, ctx.now, 1.0 / 3)),
            ]
        )


def gen_user_activity(ctx: Ctx) -> Iterator[bytes]:
    for no, first, n in chunks(ctx.n(60_000, 200)):
        rng = ctx.rng(16, no)
        t = np.sort(sample_times(rng, n, ctx.start, ctx.now))
        ws, user = _ws_user(ctx, rng, n)
        yield E.encode(
            [
                E.integer(ids(first, n)),
                E.integer(ws),
                E.integer(user),
                E.cat(rng.choice(5, n, p=[0.25, 0.35, 0.2, 0.1, 0.1]), ACTIVITY_TYPES),
                E.timestamp(t),
                E.timestamp(bumped(rng, t, ctx.now)),
            ]
        )


GENERATORS: dict[str, Callable[[Ctx], Iterator[bytes]]] = {
    "organizations": gen_organizations,
    "campaigns": gen_campaigns,
    "campaign_recipients": gen_campaign_recipients,
    "attributions": gen_attributions,
    "event_sources": gen_event_sources,
    "analytics_events": gen_analytics_events,
    "accounts": gen_accounts,
    "agents": gen_agents,
    "inboxes": gen_inboxes,
    "reporting_events": gen_reporting_events,
    "teams": gen_teams,
    "conversations": gen_conversations,
    "messages": gen_messages,
    "labels": gen_labels,
    "conversation_labels": gen_conversation_labels,
    "shops": gen_shops,
    "orders": gen_orders,
    "emails": gen_emails,
    "workspaces": gen_workspaces,
    "executions": gen_executions,
    "user_activity": gen_user_activity,
}
