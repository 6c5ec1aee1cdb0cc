"""Orders domain (seed 000): admin rebuild requests, dedup, audit, config-triggered recalc."""
