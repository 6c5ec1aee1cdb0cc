"""Daily partitions: one per local day, from the earliest data on."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

# The earliest day any raw table holds (the generator writes 420 days of history).
PARTITIONS_START = os.environ.get("TALLY_PARTITIONS_START", "2025-01-01")

# A partition is a local day of the organizations' (accounts', ...) reporting timezones:
# the partitions run to the latest local day anywhere, today in UTC+14 (Etc/GMT-14; POSIX
# names flip the sign), so that a day a tenant east of UTC has already begun is a
# partition too (in UTC the partitions ended at today's UTC date, and such a day that the
# mart held showed nowhere). end_offset=1: that still-running day is a partition.
LATEST_TIMEZONE = "Etc/GMT-14"
daily_partitions = DailyPartitionsDefinition(
    start_date=PARTITIONS_START, end_offset=1, timezone=LATEST_TIMEZONE
)
