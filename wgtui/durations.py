"""Provides ages and durations as people type them (90d, 12w, 36h, 1y) and as they read them back."""

from __future__ import annotations

import argparse
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_AGE_RE = re.compile(r"(?P<n>\d+)\s*(?P<unit>[smhdwy])\Z")


def parse_age(text: str) -> float:
    """Seconds for `90d`, `12w`, `36h`, `30m`, `1y` (a year of 365 days); an argparse type (usage error: exit 2)."""
    match = _AGE_RE.match(text.strip().lower())
    if match is None or int(match["n"]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an age: write a number and a unit, like 90d, 12w or 36h "
                                         "(s, m, h, d, w, y)")
    return float(int(match["n"]) * _UNITS[match["unit"]])


def short_age(seconds: float) -> str:
    """`45s`, `12m`, `5h`, `3d`, `14w`, `2y`: an age in one column of a table."""
    s = max(0, int(seconds))
    for unit, size in (("y", _UNITS["y"]), ("w", _UNITS["w"]), ("d", _UNITS["d"]), ("h", 3600), ("m", 60)):
        if s >= size * (2 if unit in ("y", "w") else 1):
            return f"{s // size}{unit}"
    return f"{s}s"
