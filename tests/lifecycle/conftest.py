"""Provides what the lifecycle tests share besides the namespace lab (tests/conftest.py): a zone with DST."""

from __future__ import annotations

from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
