"""Sensors. Each domain adds its own; definitions.py collects `SENSORS`."""

from __future__ import annotations

SENSORS: list = []
