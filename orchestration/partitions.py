"""Daily partitions: one per local day, from the earliest data on."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

# The earliest day any raw table holds (the generator writes 420 days of history).
PARTITIONS_START = os.environ.get("TALLY_PARTITIONS_START", "2025-01-01")

# end_offset=1: today's (still running) local day is a partition too.
daily_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)
