"""Support domain (seed 002) orchestration: the rollup job and the timezone-change sensor."""
