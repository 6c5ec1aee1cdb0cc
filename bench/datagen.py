"""Generator throughput: COPY-loaded raw rows per second (all five domains)."""

from __future__ import annotations

import time

from orchestration import datagen
from orchestration.db import database


def run(scale: float) -> dict:
    # Throughput is flat in scale (see the module docstring of orchestration.datagen);
    # the domain benchmarks generate their own data at full scale afterwards.
    scale = min(scale, 10.0)
    db = database()
    with db.connect() as conn:
        t0 = time.perf_counter()
        counts = datagen.generate(conn, scale=scale, seed=42, force=True)
        conn.commit()
        elapsed = time.perf_counter() - t0
    rows = sum(counts.values())
    return {
        "scale": scale,
        "rows": rows,
        "attributions": counts.get("attributions", 0),
        "seconds": round(elapsed, 2),
        "rows_per_second": round(rows / elapsed),
    }
